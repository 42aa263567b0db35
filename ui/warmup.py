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
test suite does). The thread prints one line when it is done (``FINISHED`` and the seconds).
"""

from __future__ import annotations

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
            markets.append(cached_market(sym, "1d", None, None, "auto"))
        except QuantdeskError as err:  # the page reports it to the user
            log.info("warm-up: %s not loaded (%s)", sym, err)
    with session_scope() as s:
        panels_for(markets, running_experiments(session=s))


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
        _state["seconds"] = time.perf_counter() - t0
        _done.set()
        print(f"{FINISHED} in {_state['seconds']:.1f} s", file=sys.stderr, flush=True)


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


def main(argv: list[str] | None = None) -> None:
    """``python -m ui.warmup run app.py [options]``: start the warm-up, then serve with
    Streamlit's command line (``streamlit run app.py [options]``) in this process."""
    from streamlit.web import cli

    # the module app.py imports (``ui.warmup``), not this ``__main__`` copy of it
    this = importlib.import_module("ui.warmup")

    argv = list(sys.argv[1:] if argv is None else argv)
    this.start(panel=True)
    sys.argv = ["streamlit", *argv]
    cli.main()


if __name__ == "__main__":
    main()
