"""One screener row: a symbol's bars in, a flat dict out (the unit of work of a scan).

:func:`screen_row` is pure in the sense a batch engine needs: it reads only the bars it is
given (up to their last bar), the model versions pinned by the caller
(:func:`core.serving.pinned`) and, for sentiment, headlines already in the news cache (a
scan never fetches news). It never raises: a symbol whose bars or models fail gets a row
with ``error`` set and the other columns None, so one bad symbol never fails a scan.

Model columns, beside the technical ones of :mod:`core.screener.columns`:

* ``pattern`` (name, or None when no pattern fires on the last bar), ``pattern_direction``,
  ``pattern_rule`` (the rule fires), ``pattern_cnn`` (CNN probability) and ``pattern_edge``
  (the pattern's measured edge on this symbol's own history,
  :func:`core.patterns.edge.edge_table`: "no measurable edge", "too few cases" or the edge).
* ``breakout`` (``up``/``down``/``none`` on the last bar), ``breakout_p`` (P(target before
  stop); None when the model has no walk-forward skill) and ``breakout_skill``.
* ``vol_regime`` and ``vol_pct`` [% annualised] with ``vol_lo_pct``/``vol_hi_pct`` (80%
  interval) for the shortest volatility horizon. Only that horizon is forecast
  (:func:`row_predictors`): every volatility model still runs, and the longer horizons,
  which no column and not the signal (it reads only the regime) use, are not computed.
* ``fc_horizon`` [bars], ``fc_pct``, ``fc_lo_pct``, ``fc_hi_pct`` (forward simple return
  [%] and its 80% interval), ``fc_model`` (``forecast`` or ``naive``), ``fc_skill`` (beat
  the naive baseline walk-forward on this symbol: True/False/None).
* ``sentiment`` in [-1, 1] where headlines are cached, else None.
* ``signal`` (STRONG_BUY..STRONG_SELL), ``signal_score`` in [-1, 1], ``signal_reasons``.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
from dataclasses import dataclass

import pandas as pd

from core.data import MarketData
from core.market import periods_per_year
from core.news import cache_only
from core.panel import predictors as domains
from core.panel.symbol import symbol_panel
from core.patterns.edge import edge_table
from core.screener.columns import finite, technical_columns
from core.serving import pinned
from core.volatility.evaluate import HORIZONS as VOL_HORIZONS
from core.volatility.serve import predict_latest as vol_predict_latest

log = logging.getLogger(__name__)

#: the forecast horizon shown (bars) when the model has it; else its shortest
FORECAST_HORIZON = 5
#: bootstrap resamples of the pattern-edge label (the Patterns page uses 2,000)
EDGE_BOOT = 400

#: every column of a row, in display order
COLUMNS = (
    "symbol", "interval", "source", "last_bar", "bars", "error",
    "close", "chg_1_pct", "chg_5_pct", "chg_20_pct", "volume_ratio", "rsi_14",
    "from_high_52w_pct", "from_low_52w_pct", "sma_50", "sma_200", "trend",
    "pattern", "pattern_direction", "pattern_rule", "pattern_cnn", "pattern_edge",
    "support", "resistance", "breakout", "breakout_p", "breakout_skill",
    "vol_regime", "vol_pct", "vol_lo_pct", "vol_hi_pct",
    "fc_horizon", "fc_pct", "fc_lo_pct", "fc_hi_pct", "fc_model", "fc_skill",
    "sentiment", "signal", "signal_score", "signal_reasons",
)

#: integer columns (bar counts)
INT_COLUMNS = ("bars", "fc_horizon")


@dataclass(frozen=True)
class ScanInput:
    """One symbol's bars for a scan task: ``frame`` is a validated OHLCV frame (UTC index),
    ``source`` where it came from (``yahoo``, ``cache``, ``bundled``, ``synthetic``...)."""

    symbol: str
    interval: str
    source: str
    frame: pd.DataFrame | None
    error: str | None = None


def empty_row(symbol: str, interval: str, source: str = "", error: str | None = None) -> dict:
    """A row with every column None but ``symbol``, ``interval``, ``source``, ``error``."""
    row = dict.fromkeys(COLUMNS)
    row.update(symbol=symbol, interval=interval, source=source, error=error)
    return row


def _pct(log_ret) -> float | None:
    v = finite(log_ret)
    return None if v is None else 100.0 * math.expm1(v)


def _ann_vol_pct(variance, horizon: int, interval: str) -> float | None:
    v = finite(variance)
    if v is None or v < 0 or horizon < 1:
        return None
    return 100.0 * math.sqrt(v / horizon * periods_per_year(interval))


def _pattern_columns(frame: pd.DataFrame, preds) -> dict:
    out = {"pattern": None, "pattern_direction": None, "pattern_rule": None,
           "pattern_cnn": None, "pattern_edge": None}
    top = next((p for p in preds if p.model_name == "patterns-cnn"), None)
    if top is None:
        return out
    o = top.output or {}
    out["pattern_cnn"] = finite(top.value)
    fired = bool(o.get("rule_hit")) or top.value >= float(o.get("threshold", 1.1))
    if not fired:
        return out
    name = str(o.get("event"))
    out.update(pattern=name, pattern_direction=o.get("direction"),
               pattern_rule=bool(o.get("rule_hit")))
    table = edge_table(frame, n_boot=EDGE_BOOT, patterns=(name,))
    if name in table.index:
        out["pattern_edge"] = str(table.at[name, "verdict"])
    return out


def row_predictors() -> list[domains.DomainPredictor]:
    """The panel's domain predictors (:data:`core.panel.predictors.DOMAIN_PREDICTORS`, read
    now), the volatility domain asked for its shortest horizon only: the row shows that
    horizon and the signal reads only the regime, which is the same for every horizon. Its
    forecast is the same number as with every horizon (tested); a row spends about a fifth
    less time without the other two horizons' HAR fits, features and pooled-model calls."""
    out = []
    for dp in domains.DOMAIN_PREDICTORS:
        if dp.name == "volatility" and dp.predict is vol_predict_latest:
            dp = dataclasses.replace(dp, predict=functools.partial(
                vol_predict_latest, horizons=(min(VOL_HORIZONS),)))
        out.append(dp)
    return out


def _model_columns(md: MarketData) -> dict:
    panel = symbol_panel(md, row_predictors())
    preds = panel.predictions
    out = _pattern_columns(md.frame, preds)
    bo = next((p for p in preds if p.model_name == "breakout"), None)
    skill = bool((bo.output or {}).get("skill")) if bo is not None else None
    out.update(breakout="none" if bo is None else str((bo.output or {}).get("direction",
                                                                            "")).lower(),
               breakout_p=finite(bo.value) if bo is not None and skill else None,
               breakout_skill=skill)
    vols = sorted((p for p in preds if p.kind == "variance"), key=lambda q: q.horizon)
    if vols:
        v = vols[0]
        h = int(v.horizon)
        out.update(vol_regime=(v.output or {}).get("regime"),
                   vol_pct=_ann_vol_pct(v.value, h, md.interval),
                   vol_lo_pct=_ann_vol_pct(v.lower, h, md.interval),
                   vol_hi_pct=_ann_vol_pct(v.upper, h, md.interval))
    fcs = [p for p in preds if p.kind == "log_return"]
    models = [p for p in fcs if p.model_version != "naive"] or fcs
    if models:
        pick = next((p for p in models if int(p.horizon) == FORECAST_HORIZON),
                    min(models, key=lambda q: q.horizon))
        out.update(fc_horizon=int(pick.horizon), fc_pct=_pct(pick.value),
                   fc_lo_pct=_pct(pick.lower), fc_hi_pct=_pct(pick.upper),
                   fc_model="naive" if pick.model_version == "naive" else pick.model_name,
                   fc_skill=(pick.output or {}).get("skill"))
    out["sentiment"] = finite(panel.sentiment)
    out.update(signal=panel.signal.action, signal_score=finite(panel.signal.score),
               signal_reasons="; ".join(panel.signal.reasons))
    return out


def screen_row(item: ScanInput, versions: dict[str, str | None] | None = None) -> dict:
    """The screener row of ``item``'s last bar (see the module docstring). Never raises.

    Args:
        item: the symbol's bars (or the error that prevented loading them).
        versions: model versions pinned for the whole scan
            (:func:`core.serving.resolve_versions`); None serves the active versions.
    Returns:
        dict with every key of :data:`COLUMNS`.
    """
    row = empty_row(item.symbol, item.interval, item.source, item.error)
    frame = item.frame
    if item.error is not None:
        return row
    if frame is None or len(frame) == 0:
        row["error"] = "no bars"
        return row
    row["last_bar"] = frame.index[-1].isoformat()
    row["bars"] = int(len(frame))
    try:
        row.update(technical_columns(frame, item.interval))
        md = MarketData(frame, item.symbol, item.interval, item.source,
                        frame.index[-1])
        with pinned(versions or {}), cache_only():
            row.update(_model_columns(md))
    except Exception as err:  # one symbol's failure is its row's error, never the scan's
        log.debug("screen_row %s failed", item.symbol, exc_info=True)
        row = {**empty_row(item.symbol, item.interval, item.source),
               "last_bar": row["last_bar"], "bars": row["bars"],
               "error": f"{type(err).__name__}: {err}"[:300]}
    return row
