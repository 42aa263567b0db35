"""Screen filters: conditions on the row columns, combined with AND, and a sort.

A condition is ``(column, op, value)``; text form ``column OP value`` with OP one of
``< <= > >= = != ~`` (``~`` = contains, case-insensitive), e.g. ``rsi_14 < 35``,
``pattern = hammer``, ``volume_ratio >= 1.5``, ``signal ~ buy``. Values are compared as
numbers on numeric columns and as text otherwise; a row whose value is missing never
matches, except ``= none`` (no value: ``error = none`` keeps the scored rows) and
``!= none`` (has a value: ``pattern != none``). Nothing is evaluated as code (no ``eval``/``DataFrame.query``): user text only
ever becomes a column name from :data:`core.screener.row.COLUMNS`, an operator from
:data:`OPS` and a literal.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass

import pandas as pd

from core.errors import DataValidationError
from core.screener.row import COLUMNS

OPS = ("<=", ">=", "!=", "<", ">", "=", "~")
#: columns holding text or booleans (compared as text)
TEXT_COLUMNS = frozenset({"symbol", "interval", "source", "last_bar", "error", "trend",
                          "pattern", "pattern_direction", "pattern_rule", "pattern_edge",
                          "breakout", "breakout_skill", "vol_regime", "fc_model", "fc_skill",
                          "signal", "signal_reasons"})
_COND = re.compile(r"^\s*([a-z0-9_]+)\s*(<=|>=|!=|<|>|=|~)\s*(.*?)\s*$")
MAX_CONDITIONS = 20


@dataclass(frozen=True)
class Condition:
    """``column op value`` (see the module docstring)."""

    column: str
    op: str
    value: str

    def __str__(self) -> str:
        return f"{self.column} {self.op} {self.value}"


def parse_condition(text: str) -> Condition:
    """``"rsi_14 < 35"`` -> Condition.

    Raises:
        DataValidationError: not ``column OP value``, an unknown column (the message lists
            them), a non-number on a numeric column, or an operator a text column lacks.
    """
    m = _COND.match(text or "")
    if not m or not m.group(3):
        raise DataValidationError(f"Filter {str(text)[:60]!r} is not 'column OP value' "
                                  f"(OP one of {' '.join(OPS)}), e.g. 'rsi_14 < 35'.")
    return check(Condition(m.group(1), m.group(2), m.group(3)[:100]))


def check(c: Condition) -> Condition:
    """``c`` when it is valid (see :func:`parse_condition`), else DataValidationError."""
    if c.column not in COLUMNS:
        raise DataValidationError(f"Unknown column {c.column[:40]!r} in a filter; columns: "
                                  f"{', '.join(COLUMNS)}.")
    if c.op not in OPS:
        raise DataValidationError(f"Unknown operator {c.op[:5]!r}: use {' '.join(OPS)}.")
    if c.column in TEXT_COLUMNS:
        if c.op not in ("=", "!=", "~"):
            raise DataValidationError(f"{c.column} is text: use =, != or ~ (contains).")
    elif c.op != "~":
        try:
            v = float(c.value)
        except ValueError:
            raise DataValidationError(f"{c.column} is a number: {c.value[:30]!r} is not "
                                      "one.") from None
        if not math.isfinite(v):
            raise DataValidationError(f"{c.column}: give a finite number.")
    return c


def _mask(rows: pd.DataFrame, c: Condition) -> pd.Series:
    col = rows[c.column]
    if c.column in TEXT_COLUMNS or c.op == "~":
        want = c.value.strip().lower()
        text = [None if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA
                else str(v).lower() for v in col]
        if c.op == "~":
            hit = [t is not None and want in t for t in text]
        elif want == "none":  # "error = none": no value (or the literal "none")
            eq = [t is None or t == "none" for t in text]
            hit = eq if c.op == "=" else [not e for e in eq]
        else:
            eq = [t is not None and (t == want or t.replace("_", " ") == want) for t in text]
            hit = eq if c.op == "=" else [t is not None and not e for t, e in zip(text, eq)]
        return pd.Series(hit, index=rows.index, dtype=bool)
    num = pd.to_numeric(col, errors="coerce")
    v = float(c.value)
    out = {"<": num < v, "<=": num <= v, ">": num > v, ">=": num >= v,
           "=": num == v, "!=": num != v}[c.op]
    return out & num.notna()


def apply(rows: pd.DataFrame, conditions: list[Condition], sort: str | None = None,
          descending: bool = False) -> pd.DataFrame:
    """Rows matching every condition, sorted by ``sort`` (missing values last).

    Raises:
        DataValidationError: more than :data:`MAX_CONDITIONS`, an invalid condition, or an
            unknown sort column.
    """
    if len(conditions) > MAX_CONDITIONS:
        raise DataValidationError(f"At most {MAX_CONDITIONS} filters per screen.")
    keep = pd.Series(True, index=rows.index)
    for c in conditions:
        keep &= _mask(rows, check(c))
    out = rows[keep]
    if sort:
        if sort not in COLUMNS:
            raise DataValidationError(f"Unknown sort column {sort[:40]!r}.")
        key = (None if sort in TEXT_COLUMNS else
               (lambda s: pd.to_numeric(s, errors="coerce")))
        out = out.sort_values(sort, ascending=not descending, na_position="last", key=key,
                              kind="stable")
    return out


def to_spec(conditions: list[Condition]) -> list[dict]:
    """JSON-able conditions (for saved screens)."""
    return [asdict(c) for c in conditions]


def from_spec(spec) -> list[Condition]:
    """Conditions from :func:`to_spec` output, each checked.

    Raises:
        DataValidationError: a malformed or invalid entry."""
    try:
        return [check(Condition(str(d["column"]), str(d["op"]), str(d["value"])))
                for d in (spec or [])]
    except (KeyError, TypeError):
        raise DataValidationError("A saved screen's filters are malformed; save it "
                                  "again.") from None
