"""Model families and their default trainers (used by ``quantdesk init``, the CLI and the
Admin page). Each trainer is ``train(progress: Callable[[float, str], None] | None) ->
core.registry.Artifact`` and writes a new version; promotion is a separate step.

Add a family by adding one line to ``FAMILIES``: ``name -> "module:function"``.
"""

from __future__ import annotations

import importlib
from typing import Callable

Progress = Callable[[float, str], None]

FAMILIES: dict[str, str] = {
    "sentiment-head": "core.sentiment.train:train",
}


def trainer(family: str) -> Callable[..., object]:
    """The training function for ``family``. Raises KeyError for an unknown family."""
    module, func = FAMILIES[family].split(":")
    return getattr(importlib.import_module(module), func)
