"""What every ``quantdesk`` command shares: the plain error exit, JSON output, and bars from
``--csv`` or the data layer. Domain ``commands.py`` modules import this, never ``core.cli``."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import typer
from sqlalchemy.exc import SQLAlchemyError

from core.data import _slice, load_csv, load_ohlcv
from core.errors import DataValidationError, InsufficientDataError, QuantdeskError
from core.store.db import store_error_message


def groups() -> tuple[typer.Typer, typer.Typer, typer.Typer, typer.Typer]:
    """A domain's command groups ``(app, train_app, evaluate_app, predict_app)``:
    :mod:`core.cli` merges ``app`` into the root and the others into ``quantdesk train``,
    ``evaluate`` and ``predict``, so ``@train_app.command("forecast")`` becomes
    ``quantdesk train forecast``."""
    return tuple(typer.Typer() for _ in range(4))


def fail(err: Exception) -> None:
    """Print a user-facing error and exit 2."""
    typer.echo(f"error: {err}", err=True)
    raise typer.Exit(code=2)


@contextmanager
def guarded() -> Iterator[None]:
    """Turn an expected fault into a plain ``error: ...`` line and exit 2 (:func:`fail`):
    a :class:`core.errors.QuantdeskError`, or a store fault
    (``sqlalchemy.exc.SQLAlchemyError``: database read-only, locked, missing), never a
    traceback::

        with guarded():
            with session_scope() as s:
                ...
    """
    try:
        yield
    except QuantdeskError as err:
        fail(err)
    except SQLAlchemyError as err:
        fail(QuantdeskError(store_error_message(err)))


def emit_json(obj) -> None:
    """Print JSON (NaN -> null, timestamps -> ISO strings)."""
    typer.echo(json.dumps(obj, indent=2, default=str, allow_nan=False)
               if _finite(obj) else json.dumps(_nan_to_none(obj), indent=2, default=str))


def _finite(obj) -> bool:
    try:
        json.dumps(obj, default=str, allow_nan=False)
        return True
    except ValueError:
        return False


def _nan_to_none(obj):
    if isinstance(obj, float) and obj != obj or obj in (float("inf"), float("-inf")):
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_nan_to_none(v) for v in obj]
    return obj


def load_market(symbol: Optional[str], csv: Optional[Path], interval: str = "1d", start=None,
                end=None, min_bars: int = 1, default: str = ""):
    """Bars for a CLI command: from ``--csv`` when given (named ``symbol``, else after the
    file, e.g. ``NEWCO.csv`` -> NEWCO), else ``core.data.load_ohlcv(symbol or default)``.

    Raises what ``load_csv`` / ``load_ohlcv`` raise (``core.errors`` types)."""
    if csv is not None:
        md = load_csv(csv, symbol or csv.stem, min_bars=min_bars)
        sliced = _slice(md.frame, start, end)
        if sliced.empty:
            raise DataValidationError(
                f"No bars of {csv.name} in the chosen dates: it has bars from "
                f"{md.frame.index[0].date()} to {md.frame.index[-1].date()}; pick --start/--end "
                "inside that range or leave them out.")
        if len(sliced) < min_bars:
            raise InsufficientDataError(
                f"{md.symbol} has {len(sliced)} bar(s) in the chosen dates; this needs at "
                f"least {min_bars}. Widen --start/--end.")
        md.frame = sliced
        return md
    return load_ohlcv(symbol or default, interval, start, end, min_bars=min_bars)
