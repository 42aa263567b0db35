"""Candlestick + volume figure without weekend/holiday gaps."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import hex_to_rgb
from plotly.subplots import make_subplots

UP, DOWN = "#26a69a", "#ef5350"

#: margins [px] of a price chart, as wide as what Plotly puts in them in the app (Streamlit's
#: theme, Chromium): the "Price"/"Volume" titles beside 4-digit ticks (left), the last date
#: label half outside the plot (right), the date ticks (bottom). Plotly grows a margin too
#: small for its labels (``automargin``) by laying the whole figure out a second time: ~50 ms
#: more for a page's first chart on a fresh page (issue 15, docs/performance.md). A wider
#: label than these (a price like 0.000123) still grows them, as before.
PRICE_MARGIN = {"l": 84, "r": 40, "b": 38}

#: Chart windows offered above price charts: label -> calendar days (None = every bar).
WINDOWS: dict[str, int | None] = {"3M": 92, "6M": 183, "1Y": 366, "2Y": 731, "5Y": 1827,
                                  "All": None}


def last_window(frame: pd.DataFrame, window: str) -> pd.DataFrame:
    """The bars of the last ``window`` (a key of :data:`WINDOWS`) ending at the last bar.

    Args:
        frame: OHLCV frame with a sorted ``DatetimeIndex``.
        window: ``"3M" | "6M" | "1Y" | "2Y" | "5Y" | "All"`` (calendar spans, so the same
            window shows ~252 daily bars or ~1,700 hourly bars for "1Y").
    Returns:
        A slice of ``frame`` (never empty when ``frame`` is not; at least 2 bars when
        available so a chart still has an axis).
    Raises:
        ValueError: unknown window label.
    """
    if window not in WINDOWS:
        raise ValueError(f"Unknown chart window {window!r}; use one of {', '.join(WINDOWS)}.")
    days = WINDOWS[window]
    if days is None or frame.empty:
        return frame
    cut = frame.index[-1] - pd.Timedelta(days=days)
    out = frame[frame.index > cut]
    return out if len(out) >= 2 else frame.tail(2)


#: most candles a price chart draws: a longer window (an uploaded minute-bar file holds
#: hundreds of thousands of bars) is shown as candles of several bars each
#: (:func:`display_candles`). 420,000 one-minute candles took the Overview's script minutes of
#: Plotly validation and ~350 MB per open tab, and no screen shows them apart (issue 18).
MAX_CANDLES = 5_000


def bucket_size(n: int, most: int) -> int:
    """Bars per displayed point so that ``n`` bars make at most ``most`` points:
    ``ceil(n / most)``, at least 1 (1 when ``most <= 0``: no limit)."""
    return max(1, math.ceil(n / most)) if most > 0 else 1


def merge_bars(frame: pd.DataFrame, k: int) -> pd.DataFrame:
    """``k`` consecutive bars merged into one candle: the bucket's first open, highest high,
    lowest low, last close and summed volume (the usual OHLCV aggregation, e.g. pandas
    ``resample(...).ohlc()``; buckets of bars rather than of clock time, so market closures
    leave no empty candles), labelled with its first bar's time.

    Args:
        frame: OHLCV frame (``open high low close volume`` float columns, sorted
            ``DatetimeIndex``), ``n`` rows.
        k: bars per candle.
    Returns:
        ``frame`` itself for ``k <= 1`` or no rows; else a new frame of ``ceil(n / k)`` rows
        with the five OHLCV columns (the last bucket may hold fewer bars).
    """
    n = len(frame)
    if k <= 1 or n == 0:
        return frame
    starts = np.arange(0, n, k)
    ohlcv = {
        "open": frame["open"].to_numpy(dtype=float)[starts],
        "high": np.maximum.reduceat(frame["high"].to_numpy(dtype=float), starts),
        "low": np.minimum.reduceat(frame["low"].to_numpy(dtype=float), starts),
        "close": frame["close"].to_numpy(dtype=float)[np.minimum(starts + k, n) - 1],
        "volume": np.add.reduceat(frame["volume"].to_numpy(dtype=float), starts),
    }
    return pd.DataFrame(ohlcv, index=frame.index[starts])


def display_candles(frame: pd.DataFrame, max_candles: int = MAX_CANDLES) -> pd.DataFrame:
    """At most ``max_candles`` candles of ``frame`` for display: :func:`merge_bars` of
    ``k = ceil(n / max_candles)`` bars each; ``frame.attrs["bars_per_candle"]`` says ``k``.

    Args:
        frame: OHLCV frame, ``n`` rows (see :func:`merge_bars`).
        max_candles: the most candles wanted (>= 1).
    Returns:
        ``frame`` itself when ``n <= max_candles``; else the merged frame. The data behind
        every model is untouched: this is for drawing only.
    Raises:
        ValueError: ``max_candles < 1``.
    """
    if max_candles < 1:
        raise ValueError(f"max_candles must be at least 1, not {max_candles}")
    k = bucket_size(len(frame), max_candles)
    if k == 1:
        return frame
    out = merge_bars(frame, k)
    out.attrs["bars_per_candle"] = k
    return out


def trades_weekends(index: pd.DatetimeIndex) -> bool:
    """True when any bar of ``index`` falls on a Saturday or Sunday (24/7 markets: crypto)."""
    return bool((index.day_of_week >= 5).any())


def gap_breaks(index: pd.DatetimeIndex, future_weekends: bool = False) -> list[dict]:
    """plotly ``rangebreaks`` that hide days with no bars (weekends, holidays).

    Daily bars: every calendar day absent between first and last bar is hidden.
    Intraday bars: weekends are hidden, plus days with no bars at all.
    A series with weekend bars (24/7 markets) keeps its weekends: only days without any bar
    are hidden, and no overnight hours unless none of its bars falls in them.

    Args:
        index: the bars' sorted ``DatetimeIndex``.
        future_weekends: also hide every weekend after the last bar (a chart that draws
            forecasts beyond it), unless the series trades on weekends.
    Returns:
        ``rangebreaks`` entries for ``fig.update_xaxes`` (plotly ``layout.xaxis.rangebreaks``).
    """
    if len(index) < 2:
        return []
    days = pd.DatetimeIndex(index.normalize().unique())
    all_days = pd.date_range(days[0], days[-1], freq="D", tz=index.tz)
    missing = all_days.difference(days)
    step = (index[1:] - index[:-1]).median()
    weekends = not trades_weekends(index)
    breaks: list[dict] = []
    if weekends and (future_weekends or step < pd.Timedelta(days=1)):
        breaks.append({"bounds": ["sat", "mon"]})
        missing = missing[missing.day_of_week < 5]
    if step < pd.Timedelta(days=1) and index.hour.max() + 1 < 24 and index.hour.min() > 0:
        # overnight gaps
        breaks.append({"pattern": "hour",
                       "bounds": [float(index.hour.max() + 1), float(index.hour.min())]})
    if len(missing):
        breaks.append({"values": [d.strftime("%Y-%m-%d") for d in missing]})
    return breaks


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = hex_to_rgb(hex_color)
    return f"rgba({r},{g},{b},{alpha})"


def volume_traces(frame: pd.DataFrame, opacity: float = 0.6, **common) -> list[go.Scatter]:
    """Volume columns, green under a rising candle and red under a falling one, as three
    SVG paths instead of a bar chart's one path per bar: a filled step (``hvh``: each value
    spans half-way to its neighbours, i.e. a column centred on its bar, as wide as a candle)
    per colour, and an invisible line that carries the hover label ("Volume 1,234,567").

    A bar chart draws one SVG path per bar: for a year of daily bars, Plotly's first draw
    of the price chart took 69 ms with bars and 53 ms with these columns (1,007 and 533
    elements in the chart; 46 ms without any volume), and a rerun that redraws the chart
    pays the same (issue 15, docs/performance.md, sixteenth pass).

    Args:
        frame: OHLCV frame (``open``, ``close``, ``volume``), sorted index. opacity: the
            columns' fill opacity. common: further keyword arguments for every trace (e.g.
            ``legend``).
    Returns:
        ``[rising fill, falling fill, hover line]``, ``go.Scatter`` each, no legend entry.
    """
    up = (frame["close"] >= frame["open"]).to_numpy()
    vol = frame["volume"].to_numpy(dtype=float)
    fills = [go.Scatter(x=frame.index, y=np.where(mask, vol, 0.0), mode="lines",
                        line=dict(width=0, shape="hvh"), fill="tozeroy",
                        fillcolor=_rgba(color, opacity), hoverinfo="skip", showlegend=False,
                        name=f"Volume ({word})", **common)
             for mask, color, word in ((up, UP, "rising"), (~up, DOWN, "falling"))]
    hover = go.Scatter(x=frame.index, y=vol, mode="lines", line=dict(width=0),
                       name="Volume", showlegend=False,
                       hovertemplate="Volume %{y:,.0f}<extra></extra>", **common)
    return [*fills, hover]


def candlestick_figure(frame: pd.DataFrame, title: str = "", height: int = 560) -> go.Figure:
    """Candlestick (top, 75%) and volume columns (bottom, :func:`volume_traces`) sharing a
    gap-free time axis.

    Args:
        frame: validated OHLCV frame; more than :data:`MAX_CANDLES` bars are drawn as
            candles of several bars (:func:`display_candles`), which the title says.
        title: figure title.
    Returns:
        ``go.Figure`` with row 1 = price (y-axis "Price"), row 2 = volume.
    """
    frame = display_candles(frame)
    k = frame.attrs.get("bars_per_candle", 1)
    if k > 1:
        title = f"{title} · {k} bars per candle" if title else f"{k} bars per candle"
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.75, 0.25],
                        vertical_spacing=0.03)
    fig.add_trace(
        go.Candlestick(x=frame.index, open=frame["open"], high=frame["high"], low=frame["low"],
                       close=frame["close"], name="OHLC", increasing_line_color=UP,
                       decreasing_line_color=DOWN),
        row=1, col=1,
    )
    fig.add_traces(volume_traces(frame), rows=2, cols=1)
    fig.update_xaxes(rangebreaks=gap_breaks(frame.index))
    fig.update_layout(title=title, height=height, xaxis_rangeslider_visible=False,
                      showlegend=False, margin=dict(PRICE_MARGIN, t=40 if title else 10),
                      hovermode="x unified")
    fig.update_yaxes(title_text="Price", row=1, col=1)
    fig.update_yaxes(title_text="Volume", row=2, col=1)
    return fig
