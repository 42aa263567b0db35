"""The sized trade against the book (core.risk.book) and the calculator's default prices."""

import numpy as np
import pandas as pd
import pytest

from core.errors import DataSourceError, DataValidationError
from core.risk.book import (book_closes, book_weights, example_holdings, signed_weight,
                            size_in_book, trade_marginal_effect)
from core.risk.portfolio import aligned_returns, marginal_effect, parse_holdings
from core.risk.sizing import RiskParameters, default_entry, default_target, size_position


def _closes(synth):
    """SYNTHETIC closes of three symbols on the same 400 business days."""
    return {s: synth(400, seed=i)["close"] for i, s in enumerate(["AAA", "BBB", "CCC"])}


def test_example_holdings_parse_as_the_page_starts():
    h = parse_holdings(example_holdings())
    assert h["symbol"].tolist() == ["IBM", "GOOG"] and h["shares"].tolist() == [300, 40]
    assert h["entry"].isna().all()


def test_book_closes_reuses_own_series_and_reports_failures(synth):
    own = synth(100, seed=1)["close"]
    other = synth(100, seed=2)["close"]
    asked = []

    def load(sym):
        asked.append(sym)
        if sym == "BAD":
            raise DataSourceError("no such symbol")
        return other

    closes, problems = book_closes(["OWN", "OTH", "BAD"], "OWN", own, load)
    assert closes["OWN"] is own and closes["OTH"] is other and "BAD" not in closes
    assert asked == ["OTH", "BAD"]  # the page's own symbol is not loaded again
    assert problems == ["BAD: no such symbol"]


def test_book_weights_price_the_held_symbols_at_their_last_close(synth):
    closes = _closes(synth)
    h = parse_holdings(pd.DataFrame({"symbol": ["AAA", "BBB", "AAA", "ZZZ"],
                                     "shares": [10.0, -20.0, 5.0, 99.0]}))
    w, problems = book_weights(h, closes, 10_000.0)
    assert problems == []
    assert set(w.index) == {"AAA", "BBB"}  # ZZZ has no prices: left out
    assert w["AAA"] == pytest.approx(15 * closes["AAA"].iloc[-1] / 10_000)
    assert w["BBB"] == pytest.approx(-20 * closes["BBB"].iloc[-1] / 10_000)


def test_book_weights_empty_and_bad_equity(synth):
    closes = _closes(synth)
    w, problems = book_weights(parse_holdings(pd.DataFrame({"symbol": ["ZZZ"], "shares": [1]})),
                               closes, 10_000.0)
    assert w.empty and w.dtype == "float64" and problems == []
    w, problems = book_weights(parse_holdings(pd.DataFrame({"symbol": ["AAA"], "shares": [1]})),
                               closes, 0.0)
    assert w.empty and problems == ["Equity must be positive."]


def test_size_in_book_sets_the_signed_correlation(synth):
    frame = synth(400, seed=0)
    closes = _closes(synth)  # AAA is the same series as the traded symbol's closes
    book = pd.Series({"AAA": 0.5})
    long, problems = size_in_book(frame, RiskParameters(equity=1e5), "AAA", "1d", closes, book)
    assert problems == [] and long.correlation_risk == pytest.approx(1.0)
    short, _ = size_in_book(frame, RiskParameters(equity=1e5, direction="short"), "AAA", "1d",
                            closes, book)
    assert short.correlation_risk == pytest.approx(-1.0)
    # everything else is size_position's result
    plain = size_position(frame, RiskParameters(equity=1e5), "AAA", "1d")
    assert (long.shares, long.stop_price, long.kelly_source) == (
        plain.shares, plain.stop_price, plain.kelly_source)
    assert np.isnan(plain.correlation_risk)


def test_size_in_book_without_book_or_overlap(synth):
    frame = synth(400, seed=0)
    res, problems = size_in_book(frame, RiskParameters(equity=1e5), "AAA", "1d", {},
                                 pd.Series(dtype="float64"))
    assert np.isnan(res.correlation_risk) and problems == []
    far = {"FAR": synth(400, seed=5, start="1990-01-01")["close"]}  # no common bars
    res, problems = size_in_book(frame, RiskParameters(equity=1e5), "AAA", "1d", far,
                                 pd.Series({"FAR": 0.3}))
    assert np.isnan(res.correlation_risk)
    assert len(problems) == 1 and "common bars" in problems[0]


def test_size_in_book_bad_inputs_raise(synth):
    with pytest.raises(DataValidationError, match="Risk per trade"):
        size_in_book(synth(400), RiskParameters(equity=1e5, risk_pct=0), "AAA", "1d", {},
                     pd.Series(dtype="float64"))


def test_trade_marginal_effect_adds_the_signed_position(synth):
    frame = synth(400, seed=0)
    closes = _closes(synth)
    book = pd.Series({"BBB": 0.4})
    R = aligned_returns(closes)
    res = size_position(frame, RiskParameters(equity=1e5, direction="short"), "AAA")
    assert res.shares > 0
    assert signed_weight(res) == pytest.approx(-res.position_pct_equity / 100)
    got = trade_marginal_effect(R, book, res, 0.99)
    assert got == marginal_effect(R, book, "AAA", -res.position_pct_equity / 100, 0.99)
    assert got["vol_after"] > got["vol_before"] > 0


def test_win_prob_source_names_the_kelly_inputs(synth):
    f = synth(400, seed=3)
    res = size_position(f, RiskParameters(equity=1e5, win_prob=0.55,
                                          win_prob_source="signal-quality model"), "SYN")
    assert res.kelly_source == "signal-quality model p; history b" and res.win_prob == 0.55
    user = size_position(f, RiskParameters(equity=1e5, win_prob=0.55), "SYN")
    assert user.kelly_source.startswith("user input + history of SYN")
    assert user.kelly_full == res.kelly_full  # the label changes, not the figures
    both = size_position(f, RiskParameters(equity=1e5, win_prob=0.55, payoff_ratio=2.0,
                                           win_prob_source="signal-quality model"), "SYN")
    assert both.kelly_source == "user input"


def test_default_prices_are_the_last_close_and_five_percent_beyond():
    idx = pd.bdate_range("2020-01-01", periods=3, tz="UTC")
    f = pd.DataFrame({"close": [10.0, 11.0, 123.456789]}, index=idx)
    assert default_entry(f) == 123.4568
    assert default_target(f, "long") == round(123.456789 * 1.05, 4) == 129.6296
    assert default_target(f, "short") == round(123.456789 * 0.95, 4) == 117.2839
