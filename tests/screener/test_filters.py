"""Screen filters: parsing, numeric and text comparison, missing values, sort, and refusal
of anything that is not a column, an operator and a literal."""

from __future__ import annotations

import pandas as pd
import pytest

from core.errors import DataValidationError
from core.screener import filters
from core.screener.scan import rows_frame


@pytest.fixture
def rows() -> pd.DataFrame:
    return rows_frame([
        {"symbol": "A", "rsi_14": 30.0, "volume_ratio": 2.0, "pattern": "hammer",
         "trend": "down", "signal": "BUY"},
        {"symbol": "B", "rsi_14": 70.0, "volume_ratio": 0.5, "pattern": None,
         "trend": "up", "signal": "HOLD"},
        {"symbol": "C", "rsi_14": None, "volume_ratio": 1.6, "pattern": "inverted_hammer",
         "trend": "down", "signal": "STRONG_BUY"},
    ])


def sel(rows, *conds, sort=None, desc=False):
    return list(filters.apply(rows, [filters.parse_condition(c) for c in conds], sort,
                              desc)["symbol"])


def test_the_issue_example(rows):
    assert sel(rows, "pattern = hammer", "trend = down", "rsi_14 < 35",
               "volume_ratio > 1.5") == ["A"]


def test_missing_values_never_match(rows):
    assert sel(rows, "rsi_14 < 100") == ["A", "B"]
    assert sel(rows, "pattern != hammer") == ["C"]


def test_none_means_missing(rows):
    assert sel(rows, "pattern != none") == ["A", "C"]
    assert sel(rows, "pattern = none") == ["B"]
    assert sel(rows, "error = none") == ["A", "B", "C"]


def test_contains_and_case(rows):
    assert sel(rows, "signal ~ buy") == ["A", "C"]
    assert sel(rows, "pattern = Inverted Hammer") == ["C"]


def test_sort_missing_last(rows):
    assert sel(rows, sort="rsi_14", desc=True) == ["B", "A", "C"]
    assert sel(rows, sort="rsi_14") == ["A", "B", "C"]


@pytest.mark.parametrize("text,msg", [
    ("rsi_14", "not 'column OP value'"),
    ("__import__('os') < 1", "not 'column OP value'"),
    ("bogus < 1", "Unknown column"),
    ("rsi_14 < abc", "is a number"),
    ("rsi_14 < inf", "finite"),
    ("trend < 3", "is text"),
])
def test_refusals(text, msg):
    with pytest.raises(DataValidationError, match=msg):
        filters.parse_condition(text)


def test_spec_round_trip():
    conds = [filters.parse_condition("rsi_14 <= 35"), filters.parse_condition("trend = up")]
    assert filters.from_spec(filters.to_spec(conds)) == conds
    with pytest.raises(DataValidationError, match="malformed"):
        filters.from_spec([{"column": "rsi_14"}])
