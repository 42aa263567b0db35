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
