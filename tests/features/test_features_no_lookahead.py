"""No lookahead: features at bar t do not depend on bars after t (real bundled MSFT/^GSPC)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.data.bundled import load_bundled
from core.features import build_features

CUTS = (0, 7, 150, 199, 200, 201, 777, 1999, 3000)


@pytest.fixture(scope="module")
def msft() -> pd.DataFrame:
    return load_bundled("MSFT")


@pytest.fixture(scope="module")
def full(msft) -> pd.DataFrame:
    return build_features(msft)


def _same(a: pd.Series | pd.DataFrame, b: pd.Series | pd.DataFrame) -> None:
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                               rtol=1e-9, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("t", CUTS)
def test_truncated_history_gives_same_row(msft, full, t):
    """build_features(frame[:t+1]).iloc[-1] == build_features(frame).iloc[t]."""
    _same(build_features(msft.iloc[:t + 1]).iloc[-1], full.iloc[t])


@pytest.mark.parametrize("t", (250, 1500, 3000))
def test_altering_the_future_changes_nothing_up_to_t(msft, full, t):
    altered = msft.copy()
    later = altered.index > altered.index[t]
    altered.loc[later, "close"] *= 3.0            # as the brief asks: later closes x3
    altered.loc[later, "volume"] *= 10.0
    g = build_features(altered)
    _same(g.iloc[:t + 1], full.iloc[:t + 1])
    assert not np.allclose(g.iloc[t + 1:t + 30].fillna(0), full.iloc[t + 1:t + 30].fillna(0)), \
        "the alteration must be visible after t, else this test proves nothing"


def test_truncation_on_index_data():
    gspc = load_bundled("^GSPC").iloc[:1200]
    full = build_features(gspc)
    for t in (300, 1199):
        _same(build_features(gspc.iloc[:t + 1]).iloc[-1], full.iloc[t])


def test_source_has_no_negative_shift():
    src = Path(__file__).resolve().parents[2] / "core" / "features"
    pattern = re.compile(r"shift\(\s*(periods\s*=\s*)?-|lag\([^()]*,\s*-|center\s*=\s*True")
    offenders = [f"{p.name}:{i}" for p in src.rglob("*.py")
                 for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert not offenders, f"possible lookahead in core/features: {offenders}"
