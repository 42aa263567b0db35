"""Background warm-up at server start: heavy imports (torch, transformers) and the model
loads pages need, done once per server process in a daemon thread, so that no user's first
click pays for them (issue 15).

``app.py`` calls :func:`start` on every run; only the first call of the process starts the
thread. A page that needs a warmed resource asks :func:`pending` and shows "warming up"
instead of blocking (views/sentiment.py). Scripts run on their own (AppTest of a single
page) never start it, so they load synchronously as before. ``QUANTDESK_WARMUP=0`` turns it
off (the test suite does).
"""

from __future__ import annotations

import logging
import os
import threading
import time

log = logging.getLogger(__name__)

_lock = threading.Lock()
_state: dict = {"thread": None, "seconds": None}
_done = threading.Event()


def enabled() -> bool:
    return os.environ.get("QUANTDESK_WARMUP", "1") != "0"


def _work() -> None:
    t0 = time.perf_counter()
    try:
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
        log.info("warm-up finished in %.1f s", _state["seconds"])


def start() -> None:
    """Start the warm-up thread once per process (no-op after the first call)."""
    if not enabled() or _state["thread"] is not None:
        return
    with _lock:
        if _state["thread"] is None:
            t = threading.Thread(target=_work, name="quantdesk-warmup", daemon=True)
            _state["thread"] = t
            t.start()


def pending() -> bool:
    """True while a started warm-up is still running (False when none was started)."""
    return _state["thread"] is not None and not _done.is_set()
