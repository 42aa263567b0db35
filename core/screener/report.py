"""What the Screener page shows of a scan: the table with readable headers and rounded
numbers, the link that opens a symbol's pages, and the summary line."""

from __future__ import annotations

from urllib.parse import quote

import pandas as pd

from core.screener.scan import ScanResult

#: row column -> table header (the columns shown, in order)
HEADERS: dict[str, str] = {
    "close": "Close", "chg_1_pct": "1-bar %", "chg_5_pct": "5-bar %",
    "chg_20_pct": "20-bar %", "volume_ratio": "Vol / 20-bar avg", "rsi_14": "RSI(14)",
    "from_high_52w_pct": "From 52w high %", "from_low_52w_pct": "From 52w low %",
    "trend": "Trend 50/200", "pattern": "Pattern", "pattern_cnn": "CNN p",
    "pattern_edge": "Pattern edge (this symbol)", "support": "Support",
    "resistance": "Resistance", "breakout": "Breakout", "breakout_p": "Breakout p",
    "vol_regime": "Vol regime", "vol_pct": "Vol fc % ann.", "vol_lo_pct": "Vol lo",
    "vol_hi_pct": "Vol hi", "fc_horizon": "Fc h", "fc_pct": "Forecast %",
    "fc_lo_pct": "Fc lo 80%", "fc_hi_pct": "Fc hi 80%", "fc_skill": "Beats naive",
    "sentiment": "Sentiment", "signal": "Signal", "signal_reasons": "Why",
    "source": "Data", "last_bar": "Last bar", "error": "Error",
}
_ROUND = {"close": 2, "chg_1_pct": 2, "chg_5_pct": 2, "chg_20_pct": 2, "volume_ratio": 2,
          "rsi_14": 1, "from_high_52w_pct": 1, "from_low_52w_pct": 1, "pattern_cnn": 2,
          "support": 2, "resistance": 2, "breakout_p": 2, "vol_pct": 1, "vol_lo_pct": 1,
          "vol_hi_pct": 1, "fc_pct": 2, "fc_lo_pct": 2, "fc_hi_pct": 2, "sentiment": 2}


def symbol_link(symbol: str, page: str = "forecasts") -> str:
    """Relative URL of ``page`` for ``symbol`` (the sidebar reads ``?symbol=``)."""
    return f"./{page}?symbol={quote(str(symbol), safe='')}"


def display_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` for the page table: the symbol as a link to its Forecasts page first
    (column ``Symbol``), then :data:`HEADERS`' columns renamed, numbers rounded, booleans
    as yes/no, the breakout probability shown only where the model has skill (else "no
    skill"), the last bar as a date, missing text as an empty cell."""
    out = pd.DataFrame(index=rows.index)
    out["Symbol"] = rows["symbol"].map(symbol_link)
    for col, head in HEADERS.items():
        s = rows[col]
        if col in _ROUND:
            s = pd.to_numeric(s, errors="coerce").round(_ROUND[col])
        elif col == "fc_skill":
            s = s.map({True: "yes", False: "no"}).fillna("n/a")
        elif col == "breakout":
            s = [("none" if b in (None, "none") or b != b else
                  f"{b}" + ("" if sk else " (no skill)"))
                 for b, sk in zip(rows["breakout"], rows["breakout_skill"])]
        elif col == "last_bar":
            s = s.astype("string").str.slice(0, 10)
        if not pd.api.types.is_numeric_dtype(pd.Series(s)):
            s = pd.Series(s, index=rows.index).astype(object)
            s = s.where(pd.notna(s), "")
        out[head] = s
    return out


def summary(res: ScanResult, shown: int) -> str:
    """One line: universe and list source, rows shown of all, engine and time, failures."""
    when = (f" (scanned {res.scanned_at.replace('T', ' ')[:16]} UTC)"
            if res.cached and res.scanned_at else "")
    how = ("from the scan cache" + when if res.cached else
           f"scored on {res.engine} in {res.seconds:.1f} s")
    return (f"{res.universe.title}: {len(res.universe.symbols):,} symbols (list: "
            f"{res.universe.as_of}) · {res.interval} · {shown:,} of {len(res.rows):,} rows "
            f"match · {how} · {res.failed} failed")
