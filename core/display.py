"""Display records shared by the domains' ``report`` modules (what a page shows, computed in
core and only laid out by the page)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Metric:
    """One headline figure: ``label``, ``value`` text, an optional second figure shown under
    it (``delta`` text) and an optional tooltip (``help``); None: none."""

    label: str
    value: str
    delta: str | None = None
    help: str | None = None


def pct(v: float | None, digits: int = 2) -> str:
    """A fraction as a percent string (``0.1234 -> "12.34%"``); ``"n/a"`` for None/NaN/inf."""
    return "n/a" if v is None or not np.isfinite(v) else f"{v * 100:.{digits}f}%"
