"""Whether news may be fetched from the network in this context.

A universe scan shows sentiment only where headlines are already cached: fetching news for
hundreds of symbols would be slow and hit Yahoo's limits. Inside :func:`cache_only`,
:func:`core.news.get_news` answers from the cache and never opens a connection.
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Iterator

_CACHE_ONLY: contextvars.ContextVar[bool] = contextvars.ContextVar("quantdesk_news_cache_only",
                                                                   default=False)


@contextlib.contextmanager
def cache_only() -> Iterator[None]:
    """Within the block, news comes from the cache only (see the module docstring)."""
    token = _CACHE_ONLY.set(True)
    try:
        yield
    finally:
        _CACHE_ONLY.reset(token)


def network_allowed() -> bool:
    """False inside :func:`cache_only`."""
    return not _CACHE_ONLY.get()
