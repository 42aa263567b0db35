"""Issue 18, resource limits: one session's uploads are refused over a per-file size and a
session budget (with the limit in the message, before anything is read), parsed once, and
only the last upload's parsed result is kept (never its bytes)."""

from __future__ import annotations

import gc
import weakref

import pytest

from core.data.uploads import (
    MAX_UPLOAD_BYTES,
    MIB,
    SESSION_UPLOAD_BUDGET_BYTES,
    SessionUploads,
    UploadBudget,
    UploadLimitError,
)
from core.errors import DataValidationError


class Parsed:
    """A parse result that can be watched with a weak reference."""

    def __init__(self, data: bytes):
        self.size = len(data)


class Calls:
    def __init__(self):
        self.reads, self.parses = 0, 0

    def read(self, data: bytes):
        def _read():
            self.reads += 1
            return data
        return _read

    def parse(self, data: bytes) -> Parsed:
        self.parses += 1
        return Parsed(data)


def test_limits_match_the_server_upload_size():
    assert MAX_UPLOAD_BYTES == 50 * MIB and SESSION_UPLOAD_BUDGET_BYTES >= MAX_UPLOAD_BYTES


def test_budget_counts_each_file_once_and_names_the_limits():
    b = UploadBudget(budget_bytes=10 * MIB, max_file_bytes=4 * MIB)
    b.admit("a", 3 * MIB)
    b.admit("a", 3 * MIB)  # the same file again costs nothing
    b.admit("b", 4 * MIB)
    assert b.used_bytes == 7 * MIB
    with pytest.raises(UploadLimitError, match=r"The file is 4\.1 MB; one upload may be at "
                                               r"most 4\.0 MB"):
        b.admit("big", 4 * MIB + 100_000)
    with pytest.raises(UploadLimitError, match=r"upload budget of 10\.0 MB \(7\.0 MB used\)"):
        b.admit("c", 4 * MIB)
    assert b.used_bytes == 7 * MIB  # a refused file is not counted
    b.admit("d", 3 * MIB)  # exactly at the budget is allowed
    assert b.used_bytes == 10 * MIB
    assert issubclass(UploadLimitError, DataValidationError)  # pages show it as a message


def test_a_refused_upload_is_never_read_nor_parsed():
    calls = Calls()
    up = SessionUploads(UploadBudget(budget_bytes=100, max_file_bytes=80))
    with pytest.raises(UploadLimitError, match="at most"):
        up.load("huge", 81, calls.read(b"x" * 81), calls.parse)
    up.load("a", 60, calls.read(b"x" * 60), calls.parse)
    with pytest.raises(UploadLimitError, match="budget"):
        up.load("b", 50, calls.read(b"x" * 50), calls.parse)
    assert (calls.reads, calls.parses) == (1, 1)


def test_parsed_once_and_only_the_last_upload_is_kept():
    calls = Calls()
    up = SessionUploads()
    first = up.load(("f1", "A"), 3, calls.read(b"abc"), calls.parse)
    assert up.load(("f1", "A"), 3, calls.read(b"abc"), calls.parse) is first  # a rerun
    assert (calls.reads, calls.parses) == (1, 1)
    gone = weakref.ref(first)
    del first
    second = up.load(("f2", "A"), 2, calls.read(b"de"), calls.parse)
    gc.collect()
    assert gone() is None  # the first upload's result was dropped
    assert second.size == 2 and (calls.reads, calls.parses) == (2, 2)
    assert up.budget.used_bytes == 5
    up.clear()
    up.load(("f2", "A"), 2, calls.read(b"de"), calls.parse)  # parsed again, not re-counted
    assert calls.parses == 3 and up.budget.used_bytes == 5


def test_a_failed_parse_is_kept_as_its_message_without_the_bytes():
    class Blob:
        """Stands in for the file's bytes (a weak reference can watch it)."""

        def __len__(self):
            return 100

    calls = Calls()
    data = Blob()
    gone = weakref.ref(data)

    def bad(b):
        calls.parses += 1
        try:
            raise ValueError("inner")
        except ValueError:
            raise DataValidationError("Unrecognised column(s): Nope.") from None

    up = SessionUploads()
    with pytest.raises(DataValidationError, match="Nope"):
        up.load("f", len(data), calls.read(data), bad)
    with pytest.raises(DataValidationError, match="Nope") as again:
        up.load("f", len(data), calls.read(data), bad)  # a rerun: not parsed again
    assert calls.parses == 1
    assert again.value.__context__ is None and again.value.__cause__ is None
    del data, again
    gc.collect()
    assert gone() is None  # the kept error holds no frame that holds the bytes
