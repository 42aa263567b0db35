"""ui/warmup.py's session reaper and allocator settings, without a server (issue 18; the
real-server memory test is tests/e2e/test_memory_uploads_e2e.py)."""

from __future__ import annotations


class _FakeSession:
    """What the reaper touches of a Streamlit ``AppSession``."""

    class _Clearable(dict):
        pass

    def __init__(self, sid: str):
        self.id = sid
        self.shut_down = 0
        self.session_state = self._Clearable(upload=b"x" * 10)
        self._fragment_storage = self._Clearable(fragment=lambda: None)

    def shutdown(self) -> None:
        self.shut_down += 1


def _stored(storage_cls, ttl_seconds: int, maxsize: int = 128):
    from streamlit.runtime.session_manager import SessionInfo

    storage = storage_cls(maxsize=maxsize, ttl_seconds=ttl_seconds)
    sessions = [_FakeSession(f"s{i}") for i in range(2)]
    return storage, sessions, [SessionInfo(client=None, session=s) for s in sessions]


def test_reaper_shuts_down_and_empties_expired_and_evicted_sessions():
    """Fast check of ui/warmup.py's session store (no server): a closed tab's session that
    Streamlit's reconnect store drops, expired or evicted, is shut down and emptied; one that
    is reconnected (deleted from the store by Streamlit) is not."""
    from ui.warmup import reaping_session_storage

    cls = reaping_session_storage()
    storage, (a, b), (ia, ib) = _stored(cls, ttl_seconds=0)
    storage.save(ia)  # expires at once; Streamlit's own sweep on the next save drops it
    storage.save(ib)
    assert a.shut_down == 1 and not a.session_state and not a._fragment_storage
    storage._cache.expire()  # what the store schedules on the event loop after the window
    assert b.shut_down == 1 and not b.session_state

    storage, (a, b), (ia, ib) = _stored(cls, ttl_seconds=60, maxsize=1)
    storage.save(ia)
    storage.save(ib)  # full: the oldest is evicted
    assert a.shut_down == 1 and b.shut_down == 0
    assert storage.get("s1") is ib
    storage.delete("s1")  # a reconnect takes it back: not shut down
    assert b.shut_down == 0 and b.session_state


def test_launcher_sets_the_allocator_unless_the_environment_names_it():
    from ui.warmup import SERVER_ENV, server_env

    assert server_env({}) == SERVER_ENV
    assert server_env({"PYTHONMALLOC": "pymalloc"}) == {
        k: v for k, v in SERVER_ENV.items() if k != "PYTHONMALLOC"}
    assert server_env(dict(SERVER_ENV)) == {}


def test_freeze_heap_moves_live_objects_out_of_later_collections():
    """The launcher's warm-up freezes the heap it built (ui/warmup.py: Streamlit's full
    collection after every script run then skips the models and modules)."""
    import gc

    from ui.warmup import freeze_heap

    try:
        kept = [object() for _ in range(1000)]
        frozen = freeze_heap()
        assert frozen >= len(kept)
        # a frozen object freed since (a temporary of another thread) leaves the permanent
        # generation, so the count can only have dropped, never below what is still alive
        assert len(kept) <= gc.get_freeze_count() <= frozen
        assert not any(obj is kept for obj in gc.get_objects(2))  # skipped by collections
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0


def _script_run(name: str = "ScriptRunner.scriptThread"):
    """A thread named as Streamlit names a script run, that ends when its event is set."""
    import threading

    done = threading.Event()
    t = threading.Thread(target=done.wait, args=(30,), name=name, daemon=True)
    t.start()
    return t, done


def _wait_until(predicate, timeout_s: float = 5.0) -> bool:
    import time

    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def test_memory_is_released_when_the_closed_sessions_runs_end(monkeypatch):
    """A closed tab's last script run frees its objects only when it ends, however long that
    takes: the release waits for the runs going at shutdown (not for a run started later),
    collects meanwhile every RELEASE_EVERY_S, and runs once more when they have ended (the
    old code released once, after at most 120 s, and kept what a longer run freed later)."""
    import time

    from ui import warmup

    calls = []
    monkeypatch.setattr(warmup, "release_memory", lambda: calls.append(time.monotonic()))
    monkeypatch.setattr(warmup, "RELEASE_POLL_S", 0.02)
    monkeypatch.setattr(warmup, "RELEASE_EVERY_S", 0.3)
    old, old_done = _script_run()
    warmup._release_soon()
    new, new_done = _script_run()  # another tab's run, started after the shutdown
    try:
        assert _wait_until(lambda: len(calls) >= 2, 3.0)  # interim releases while it runs
        assert old.is_alive()
        monkeypatch.setattr(warmup, "RELEASE_EVERY_S", 60.0)  # no interim one from here on
        time.sleep(0.05)
        n = len(calls)
        old_done.set()
        assert _wait_until(lambda: warmup._release_state["timer"] is None)
        assert len(calls) == n + 1 and new.is_alive()  # once more at its end, not waiting
        time.sleep(0.1)  # for the later run
        assert len(calls) == n + 1
    finally:
        old_done.set()
        new_done.set()


def test_memory_release_gives_up_on_a_run_that_never_ends(monkeypatch):
    from ui import warmup

    calls = []
    monkeypatch.setattr(warmup, "release_memory", lambda: calls.append(1))
    monkeypatch.setattr(warmup, "RELEASE_POLL_S", 0.02)
    monkeypatch.setattr(warmup, "RELEASE_EVERY_S", 60.0)
    monkeypatch.setattr(warmup, "RELEASE_GIVE_UP_S", 0.2)
    t, done = _script_run()
    try:
        warmup._release_soon()
        assert _wait_until(lambda: warmup._release_state["timer"] is None)
        assert calls == [1] and t.is_alive() and not warmup._release_state["threads"]
    finally:
        done.set()
