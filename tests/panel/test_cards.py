"""core.panel.cards: the Overview's cards as one HTML block, every text escaped."""

from __future__ import annotations

import types

import pandas as pd

from core.panel.cards import card_html, cards_html, fmt_pct, forecast_frame, source_notes

HOSTILE = '<img src=x onerror="alert(1)">'


def panel(symbol="MSFT", change=1.234, action="BUY", score=-0.001, **kw):
    signal = types.SimpleNamespace(action=action, score=score, confidence=0.62, reasons=[])
    base = dict(symbol=symbol, bar_ts=pd.Timestamp("2024-01-02", tz="UTC"), last_price=1234.5,
                change_pct=change, pattern="hammer (bullish, p=0.81)", regime="high",
                vol_ann=31.25, sentiment=None, signal=signal,
                skipped={"sentiment": "no news"},
                forecasts=[{"model": "forecast", "horizon": 5, "value_pct": 0.4,
                            "lower_pct": -2.0, "upper_pct": 2.9, "skill": False},
                           {"model": "naive", "horizon": 5, "value_pct": 0.0,
                            "lower_pct": None, "upper_pct": None, "skill": None}])
    return types.SimpleNamespace(**{**base, **kw})


def test_a_card_shows_price_signal_forecasts_beside_the_baseline_and_context():
    out = card_html(panel())
    assert '<div class="qd-card-head">MSFT · 1,234.50 <span class="qd-up">+1.23%</span>' in out
    assert '🟢 <b class="qd-up">BUY</b> · confidence 62% · score +0.00 · bar 2024-01-02' in out
    assert "<td>+0.40 [-2.00, +2.90]</td><td>no</td>" in out  # did not beat the baseline
    assert "<td>+0.00</td><td>baseline</td>" in out
    assert "<b>Volatility regime:</b> high · 31.2% ann.<br>" in out
    assert "<b>Sentiment:</b> n/a (no news)" in out
    assert '<span class="qd-down">-0.50%</span>' in card_html(panel(change=-0.5))
    assert "1,234.50 –</div>" in card_html(panel(change=None))  # one bar: no change


def test_user_text_is_escaped_and_cards_keep_their_order():
    out = cards_html([panel(symbol=HOSTILE, pattern=HOSTILE, regime=HOSTILE,
                            forecasts=[{"model": HOSTILE, "horizon": 1, "value_pct": 0.1,
                                        "lower_pct": -1.0, "upper_pct": 1.0, "skill": True}]),
                      panel(symbol="IBM", action=HOSTILE)])
    assert "<img" not in out and out.count("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;") == 5
    assert out.startswith('<div class="qd-cards"><div class="qd-card">')
    assert out.index("&lt;img") < out.index("IBM")
    assert '⚪ <b class="qd-flat">&lt;img' in out  # an unknown action: neutral look


def test_forecast_frame_and_percent_text():
    f = forecast_frame(panel())
    assert list(f.columns) == ["Model", "h [bars]", "Return [%] (80% interval)", "Skill"]
    assert f["Skill"].tolist() == ["no", "baseline"]
    assert fmt_pct(None) == "–" and fmt_pct(1.25, 2) == "+1.25%" and fmt_pct(-3.0) == "-3.0%"


def test_source_notes_group_symbols_that_are_not_live_by_their_as_of():
    def md(symbol, stale=False, fallback=None):
        return types.SimpleNamespace(symbol=symbol, stale=stale, fallback=fallback)

    old = "Cached copy from 2026-12-01 14:02 UTC, last bar 2026-12-01."
    demo = "Bundled history (offline demo), last bar 2013-03-01."
    stale, other = source_notes([md("AAPL", True, old), md("NVDA"), md("MSFT", False, demo),
                                 md("IBM", True, old), md("GOOG", False, demo),
                                 md("^GSPC", True, "Bundled history (offline demo), last bar "
                                                   "2018-12-31.")])
    assert stale == [f"AAPL, IBM: {old}",
                     "^GSPC: Bundled history (offline demo), last bar 2018-12-31."]
    assert other == [f"MSFT, GOOG: {demo}"]
    assert source_notes([md("NVDA")]) == ([], [])  # live: nothing to say
