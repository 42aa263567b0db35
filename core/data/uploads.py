"""Upload limits for one browser session: a size limit per file, a total budget per session,
and the last upload kept only as its parsed result (never its bytes).

The page layer (``ui/data.py``) keeps one :class:`SessionUploads` per kind of upload (the
sidebar's bars, the Sentiment page's news, the Risk Sizing page's portfolio) in each session's
state, all sharing that session's :class:`UploadBudget`, so they go away with the session;
nothing here imports Streamlit.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from core.errors import DataValidationError, QuantdeskError

MIB = 2 ** 20
#: one file, in bytes (the same 50 MB as ``server.maxUploadSize`` in .streamlit/config.toml)
MAX_UPLOAD_BYTES = 50 * MIB
#: every distinct file one session uploads, together, in bytes
SESSION_UPLOAD_BUDGET_BYTES = 200 * MIB

T = TypeVar("T")


class UploadLimitError(DataValidationError):
    """An upload refused for its size, or for the session's total; the message names the
    limit."""


def _size(n: int) -> str:
    """``n`` bytes for a message: MB to one decimal, or bytes below 0.1 MB."""
    return f"{n / MIB:.1f} MB" if n >= MIB // 10 else f"{n:,} bytes"


class UploadBudget:
    """The bytes one session has uploaded, against a per-file limit and a session total.

    Each distinct file (by id) is counted once, whether or not it parses; seeing the same id
    again costs nothing.

    Args:
        budget_bytes: the session's total, in bytes.
        max_file_bytes: one file's limit, in bytes.
    """

    def __init__(self, budget_bytes: int = SESSION_UPLOAD_BUDGET_BYTES,
                 max_file_bytes: int = MAX_UPLOAD_BYTES):
        self.budget_bytes = int(budget_bytes)
        self.max_file_bytes = int(max_file_bytes)
        self._sizes: dict[Hashable, int] = {}

    @property
    def used_bytes(self) -> int:
        """Bytes counted so far (each admitted file once)."""
        return sum(self._sizes.values())

    def admit(self, file_id: Hashable, size_bytes: int) -> None:
        """Count the file ``file_id`` of ``size_bytes`` bytes, or refuse it; call before
        reading or parsing anything.

        Raises:
            UploadLimitError: the file is larger than ``max_file_bytes``, or counting it
                would take the session past ``budget_bytes`` (nothing is counted then).
        """
        if file_id in self._sizes:
            return
        size = int(size_bytes)
        if size > self.max_file_bytes:
            raise UploadLimitError(
                f"The file is {_size(size)}; one upload may be at most "
                f"{_size(self.max_file_bytes)}. Upload fewer bars (a shorter range or a longer "
                "interval).")
        used = self.used_bytes
        if used + size > self.budget_bytes:
            raise UploadLimitError(
                f"This upload ({_size(size)}) would take this session past its upload budget "
                f"of {_size(self.budget_bytes)} ({_size(used)} used). Reload the page to start "
                "a new session.")
        self._sizes[file_id] = size


class SessionUploads(Generic[T]):
    """One session's uploads: its :class:`UploadBudget` and the parsed result of the last
    upload only (the bytes are read once, parsed, and dropped).

    A file whose parse failed with a :class:`~core.errors.QuantdeskError` keeps that error,
    so a rerun shows it again without parsing again.
    """

    def __init__(self, budget: UploadBudget | None = None):
        self.budget = budget if budget is not None else UploadBudget()
        self._key: Hashable | None = None
        self._result: T | None = None
        self._error: QuantdeskError | None = None

    def load(self, key: Hashable, size_bytes: int, read: Callable[[], bytes],
             parse: Callable[[bytes], T], *, file_id: Hashable | None = None) -> T:
        """The parsed upload ``key`` (a file id, plus anything that changes the parse):
        the kept result when ``key`` is the last upload, else admitted to the budget, then
        ``parse(read())``, which replaces the previous upload's result.

        Args:
            key: identifies the upload (and its parse).
            size_bytes: the file's size in bytes, checked before ``read`` is called.
            read: returns the file's bytes (called at most once per new key).
            parse: bytes -> the result to keep (e.g. validated bars).
            file_id: what the budget counts the file under (default ``key``): the same
                file parsed another way (another symbol) is not counted twice.

        Raises:
            UploadLimitError: over the per-file limit or the session budget (nothing read).
            QuantdeskError: what ``parse`` raised (kept and raised again for this key).
        """
        if self._key is not None and key == self._key:
            if self._error is not None:
                raise copy.copy(self._error)
            return self._result  # type: ignore[return-value]
        self.budget.admit(key if file_id is None else file_id, size_bytes)
        self._key = self._result = self._error = None  # drop the last upload first
        try:
            result = parse(read())
        except QuantdeskError as err:
            failed = err
        else:
            self._key, self._result = key, result
            return result
        # keep a bare copy: a traceback or chained error would keep the bytes alive
        self._key, self._error = key, copy.copy(failed).with_traceback(None)
        raise failed

    def clear(self) -> None:
        """Forget the kept result (the budget keeps counting)."""
        self._key = self._result = self._error = None
