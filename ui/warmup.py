"""Background warm-up at server start: heavy imports (torch, transformers) and the model
loads pages need, done once per server process in a daemon thread, so that no user's first
click pays for them (issue 15).

Two ways in, one thread per process:

- ``python -m ui.warmup run app.py [streamlit options]`` (``make run``) starts the thread at
  server start, before any browser connects, and then serves ``app.py`` with Streamlit's own
  command line in the same process. This warm-up also imports what the first script run
  needs (the model families, ``core.market``) and fills the Overview's panel cache for the
  default watchlist, so the first visit after a start finds everything loaded.
- ``app.py`` calls :func:`start` on every run; only the first call of the process starts the
  thread (a plain ``streamlit run app.py``: the warm-up starts with the first browser
  request, and leaves the panel to that request's own script run).

A page that needs a warmed resource asks :func:`pending` and shows "warming up" instead of
blocking (views/sentiment.py). Scripts run on their own (AppTest of a single page) never
start it, so they load synchronously as before. ``QUANTDESK_WARMUP=0`` turns it off (the
test suite does). The thread prints one line when it is done (``FINISHED``, the seconds and
the objects frozen). At server start it ends by freezing the heap it built
(:func:`freeze_heap`), so that Streamlit's collection after every script run skips it.

The launcher also gives back the memory of closed tabs (issue 18, :func:`install_session_reaper`):
Streamlit keeps a closed tab's session for a reconnect (``server.disconnectedSessionTTL``) and
then only drops it from that store, without shutting it down, so the tab's uploaded bytes stay
in Streamlit's upload manager for the life of the process (and the expired session itself until
another session disconnects). The launcher shuts such a session down when its reconnect window
ends, then, once the script runs going at that moment have ended, collects garbage and hands
freed heap back to the system (glibc ``malloc_trim``), and runs the server with an allocator
that can give it back (:data:`SERVER_ENV`). Measured by tests/e2e/test_memory_uploads_e2e.py;
see docs/deploy.md.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import importlib
import logging
import os
import sys
import threading
import time

log = logging.getLogger(__name__)

_lock = threading.Lock()
_state: dict = {"thread": None, "seconds": None}
_done = threading.Event()
FINISHED = "Quantdesk warm-up finished"  # start of the line printed when it is done


def enabled() -> bool:
    return os.environ.get("QUANTDESK_WARMUP", "1") != "0"


def _wait_for_runtime(timeout_s: float = 30.0) -> bool:
    """True once Streamlit's runtime exists (its caches are the ones pages read)."""
    from streamlit.runtime import Runtime

    deadline = time.monotonic() + timeout_s
    while not Runtime.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _warm_panel() -> None:
    """Fill the Overview's per-symbol panel cache (:func:`ui.panel.panels_for`) for the
    default watchlist at the default interval and source, as the page's first run asks."""
    from core.errors import QuantdeskError
    from core.panel.predictors import running_experiments
    from core.panel.watchlist import default_watchlist
    from core.store import session_scope
    from ui.data import cached_market
    from ui.panel import panels_for

    markets = []
    for sym in default_watchlist():
        try:
            markets.append(cached_market(sym, "1d", source="auto"))
        except QuantdeskError as err:  # the page reports it to the user
            log.info("warm-up: %s not loaded (%s)", sym, err)
    with session_scope() as s:
        panels_for(markets, running_experiments(session=s))


def freeze_heap() -> int:
    """Collect, then move every object alive now (modules, models, the warmed caches) into
    the garbage collector's permanent generation (:func:`gc.freeze`), so that later
    collections skip them; returns how many were frozen.

    Streamlit runs a full collection after every script run (``runner.postScriptGC``): over
    the server's ~660,000 long-lived container objects it cost 0.3-0.4 s of CPU, holding the
    GIL, on every page visit and widget change (issue 15; a warm Screener visit measured
    0.50 s of server CPU, 0.05 s after the freeze). Frozen objects are still freed when their
    reference count drops to zero; only a cycle among them would stay (Python docs, gc.freeze;
    the technique of Instagram's "Dismissing Python Garbage Collection", 2017)."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def _work(panel: bool = False) -> None:
    t0 = time.perf_counter()
    try:
        if panel:  # server start: what the first script run imports, and the panel
            import core.families
            import core.market  # noqa: F401

            if _wait_for_runtime():
                _warm_panel()
        # deliberately deferred heavy imports: done once, here, off the request path
        import torch  # noqa: F401
        import transformers  # noqa: F401

        from ui.risk import cached_dqn
        from ui.sentiment import scorers

        scorers(False)  # the Sentiment page's cache_resource entry (no download)
        cached_dqn()    # the Risk Sizing page's DQN policy
    except Exception:  # a failed warm-up only means the pages load the models themselves
        log.exception("warm-up failed; pages will load models on first use")
    finally:
        frozen = f", {freeze_heap():,} objects frozen" if panel else ""
        _state["seconds"] = time.perf_counter() - t0
        _done.set()
        print(f"{FINISHED} in {_state['seconds']:.1f} s{frozen}", file=sys.stderr, flush=True)


def start(panel: bool = False) -> None:
    """Start the warm-up thread once per process (no-op after the first call).

    Args:
        panel: also import the model families and fill the Overview's panel cache (at server
            start, by the launcher; not from a script run, which computes the panel itself).
    """
    if not enabled() or _state["thread"] is not None:
        return
    with _lock:
        if _state["thread"] is None:
            t = threading.Thread(target=_work, args=(panel,), name="quantdesk-warmup",
                                 daemon=True)
            _state["thread"] = t
            t.start()


def pending() -> bool:
    """True while a started warm-up is still running (False when none was started)."""
    return _state["thread"] is not None and not _done.is_set()


#: seconds between checks, after a closed session's shutdown, for the script runs going then
RELEASE_POLL_S = 1.0
#: while those runs go on, the memory is collected anyway this often (seconds) ...
RELEASE_EVERY_S = 120.0
#: ... and after this long they are no longer waited for (seconds)
RELEASE_GIVE_UP_S = 1800.0
#: seconds past a closed session's reconnect window before it is shut down
REAP_GRACE_S = 0.5
#: the name Streamlit gives the thread of a script run
SCRIPT_THREAD = "ScriptRunner.scriptThread"
_release_lock = threading.Lock()
_release_state: dict = {"timer": None, "since": None, "last": None, "threads": set()}


def release_memory() -> None:
    """A full garbage collection, then glibc's ``malloc_trim(0)``, which hands the freed heap
    pages of every malloc arena back to the system (skipped where there is no glibc)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the collection is all there is
        pass


def _script_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == SCRIPT_THREAD}


def _release_soon() -> None:
    """:func:`release_memory` once every script run going at the time of the call has ended:
    a closed tab's last run stops only at its next Streamlit call (minutes later when it was
    drawing an uploaded file's bars on a busy machine) and frees its objects only then.
    Meanwhile the memory is collected every :data:`RELEASE_EVERY_S`, and after
    :data:`RELEASE_GIVE_UP_S` those runs are no longer waited for. Runs started later
    (another tab's) are not waited for. Checked every :data:`RELEASE_POLL_S` on a timer thread,
    not on the server's event loop; a call while one is pending adds its runs to it."""
    def check() -> None:
        with _release_lock:
            state = _release_state
            state["threads"] = {t for t in state["threads"] if t.is_alive()}
            now = time.monotonic()
            if state["threads"] and now - state["since"] < RELEASE_GIVE_UP_S:
                due = now - state["last"] >= RELEASE_EVERY_S
                if due:
                    state["last"] = now
                _arm()
            else:
                state.update(timer=None, since=None, last=None, threads=set())
                due = True
        if due:
            release_memory()

    def _arm() -> None:
        t = threading.Timer(RELEASE_POLL_S, check)
        t.daemon = True
        _release_state["timer"] = t
        t.start()

    with _release_lock:
        _release_state["threads"] |= _script_threads()
        if _release_state["timer"] is None:
            _release_state["since"] = _release_state["last"] = time.monotonic()
            _arm()


def _shut_down(session_info) -> None:
    """Shut down a session Streamlit's reconnect store dropped (expired or evicted), as closing
    it would (its uploaded files, media, session caches), and empty its session state (the
    upload widget's file, the parsed upload) and its fragments (a fragment's function keeps
    the page script's globals, its bars among them): the server's send loop keeps the last
    session it served referenced while it idles, so a dead session's state would otherwise
    stay."""
    session = session_info.session
    try:
        session.shutdown()
        session.session_state.clear()
        fragments = getattr(session, "_fragment_storage", None)  # no public accessor
        if fragments is not None:
            fragments.clear()
    except Exception:  # one bad session must not stop the store's sweep
        log.exception("could not shut down an expired session")
    _release_soon()


def reaping_session_storage():
    """Streamlit's ``MemorySessionStorage`` (the reconnect store for closed tabs) that shuts
    down each session it drops on its own (reconnect window over, or evicted to make room),
    and sweeps itself when a saved session's window ends (Streamlit sweeps only on the next
    save, and never shuts the dropped sessions down)."""
    from streamlit.runtime.caching.ttl_cache import TTLCache
    from streamlit.runtime.memory_session_storage import MemorySessionStorage

    class ShuttingDownTTLCache(TTLCache):
        def expire(self, at_time=None):
            removed = super().expire(at_time)
            for _, info in removed:
                _shut_down(info)
            return removed

        def _evict_lru(self, reason):
            info = super()._evict_lru(reason)
            _shut_down(info)
            return info

    class ReapingSessionStorage(MemorySessionStorage):
        def __init__(self, maxsize: int = 128, ttl_seconds: int = 2 * 60) -> None:
            super().__init__(maxsize=maxsize, ttl_seconds=ttl_seconds)
            self._cache = ShuttingDownTTLCache(maxsize=maxsize, ttl=ttl_seconds)
            self.ttl_seconds = ttl_seconds

        def save(self, session_info) -> None:
            super().save(session_info)
            try:  # the server's event loop, the only thread that touches this store
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
            loop.call_later(self.ttl_seconds + REAP_GRACE_S, self._cache.expire)

    return ReapingSessionStorage


def install_session_reaper() -> bool:
    """Make the Streamlit server this process starts keep closed tabs in a
    :func:`reaping_session_storage`; call before the server is created. False (and a log line)
    when this Streamlit has no such store to replace."""
    try:
        from streamlit.web.server import server

        if not hasattr(server, "MemorySessionStorage"):
            raise AttributeError("streamlit.web.server.server.MemorySessionStorage")
        server.MemorySessionStorage = reaping_session_storage()
    except (ImportError, AttributeError) as err:
        log.warning("closed sessions keep their memory until the process exits (%s)", err)
        return False
    return True


#: the allocator the server process runs with (issue 18), set by :func:`main` unless the
#: environment already names them: Python objects from the C library's malloc instead of
#: Python's own arenas (a 1 MB arena is given back only when every object in it is gone: after
#: three closed upload tabs, 80-100 MB of them held a few MB of objects), and every block over
#: 128 KB (arrays, uploaded bytes) in its own mapping that goes back to the system when freed
#: (glibc otherwise raises that threshold to 32 MB as it runs and keeps such blocks in
#: fragmented heaps), and at most two malloc arenas (glibc gives threads up to 8 per core; every
#: script run is a new thread, and the few objects a run leaves in a cache kept the pages of
#: its arena resident: six closed upload tabs twice, +99 MB with the default, +64 MB with two)
SERVER_ENV = {"PYTHONMALLOC": "malloc", "MALLOC_MMAP_THRESHOLD_": "131072",
              "MALLOC_ARENA_MAX": "2"}


def server_env(environ: dict | None = None) -> dict[str, str]:
    """The :data:`SERVER_ENV` entries ``environ`` (default ``os.environ``) does not set."""
    environ = os.environ if environ is None else environ
    return {k: v for k, v in SERVER_ENV.items() if k not in environ}


def main(argv: list[str] | None = None) -> None:
    """``python -m ui.warmup run app.py [options]``: start the warm-up, then serve with
    Streamlit's command line (``streamlit run app.py [options]``) in this process, with the
    sessions of closed tabs shut down when their reconnect window ends
    (:func:`install_session_reaper`).

    The allocator settings of :data:`SERVER_ENV` take effect only at process start, so when
    the environment lacks them this process first replaces itself (same pid, same command
    line) with one started with them."""
    argv = list(sys.argv[1:] if argv is None else argv)
    missing = server_env()
    if missing:
        os.execve(sys.executable, [sys.executable, "-m", "ui.warmup", *argv],
                  {**os.environ, **missing})

    from streamlit.web import cli

    from ui import navigation, static_index

    # the module app.py imports (``ui.warmup``), not this ``__main__`` copy of it
    this = importlib.import_module("ui.warmup")

    this.install_session_reaper()
    # pages opened by their URL connect without Streamlit's base-path guess (issue 15)
    static_index.install(navigation.URL_PATHS)
    this.start(panel=True)
    sys.argv = ["streamlit", *argv]
    cli.main()


if __name__ == "__main__":
    main()
