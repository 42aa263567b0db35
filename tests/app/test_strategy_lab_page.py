"""AppTest of the Strategy Lab page on bundled MSFT (offline): it renders with its chart and
rule-edge table, an overlay choice changes the figure, the backtest button gives the metrics
beside buy-and-hold with trades and a CSV export, tuning reports its penalty, and bad
parameters or input give a message, never an exception."""

from __future__ import annotations

import json
import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.page_checks import assert_page_ok, open_page, texts
from tests.page_checks import metrics as metric_figures

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "views" / "strategy_lab.py")


def page(**params) -> AppTest:
    return open_page(PAGE, **params)


def chart_traces(at: AppTest, key: str = "sl_chart") -> list[str]:
    """Trace names of the plotly chart with widget key ``key``."""
    for el in at.get("plotly_chart"):
        if el.proto.id.endswith(f"-{key}"):
            return [t.get("name", "") for t in json.loads(el.proto.spec)["data"]]
    raise AssertionError(f"no plotly chart {key}")


def strategy_box(at: AppTest) -> list:
    """The tester's strategy select box, if the run drew it."""
    return [s for s in at.selectbox if s.key == "strategy"]


def run_button(at: AppTest):
    return next(b for b in at.button if b.label == "Run backtest")


def test_renders_offline_with_chart_edges_and_no_backtest_yet():
    at = page()
    assert_page_ok(at)
    assert at.title[0].value == "Strategy Lab"
    names = chart_traces(at)
    assert "SMA(50)" in names and "SMA(200)" in names and "RSI(14)" in names
    assert any(n.startswith("RSI 70/30: ") for n in names)  # the rule's markers
    # the rule edge table is sent only while its tab is open (issue 15)
    assert not at.dataframe and "expected by chance alone" not in texts(at, "caption")
    rules = page(tab="rules")  # the same page opened on its Rule signals tab
    assert_page_ok(rules)
    edge = rules.dataframe[0].value  # with its multiple-testing caution
    assert {"RSI 70/30", "MACD signal-line cross"} <= set(edge.index)
    assert "Verdict" in edge.columns
    assert "expected by chance alone" in texts(rules, "caption")
    # the tester's form and its strategy box are sent only while its tab is open (issue 15)
    assert not strategy_box(at) and not at.get("form_submit_button")
    assert not any(n.key.startswith("sl_rsi_reversal_") for n in at.number_input)
    assert "Press **Run backtest**" not in texts(at, "info")
    tester = page(tab="tester")
    assert_page_ok(tester)
    assert tester.selectbox(key="strategy").value == "rsi_reversal"
    assert tester.number_input(key="sl_rsi_reversal_comm").value >= 0
    # nothing heavy ran: the tester waits for its button
    assert "Press **Run backtest**" in texts(tester, "info")


def test_the_testers_edits_outlive_its_closed_tab_and_reach_the_tuner():
    at = page(tab="tester")
    at.number_input(key="sl_rsi_reversal_comm").set_value(7.5)
    run_button(at).click().run()
    assert_page_ok(at)
    assert "7.5 bp commission" in texts(at, "markdown")
    at.session_state["sl_tab"] = "Tuning"  # the tester's tab closed: its form is not sent
    at.run()
    assert_page_ok(at)
    assert not any(n.key == "sl_rsi_reversal_comm" for n in at.number_input)
    assert "with the tester's edits" in texts(at, "caption")
    assert at.session_state["_qd_kept_sl_rsi_reversal_comm"] == 7.5
    at.session_state["sl_tab"] = "Strategy tester"  # opened again: the edit and its result
    at.run()
    assert_page_ok(at)
    assert at.number_input(key="sl_rsi_reversal_comm").value == 7.5
    assert "7.5 bp commission" in texts(at, "markdown")


def test_overlay_choice_changes_the_figure():
    at = page()
    before = chart_traces(at)
    assert not any(n.startswith("Bollinger") for n in before)
    at.pills(key="overlays").select("Bollinger").run()
    assert_page_ok(at)
    after = chart_traces(at)
    assert any(n.startswith("Bollinger(20, 2σ)") for n in after)
    at.pills(key="panels").select("MACD").run()
    assert {"MACD", "Signal line"} <= set(chart_traces(at))
    assert "MACD(12,26,9)" in json.dumps(json.loads(
        next(el.proto.spec for el in at.get("plotly_chart")))["layout"])  # the panel's axis


def test_overlays_from_the_url():
    at = page(overlays=["EMA"], ema=["10"], panels=["ATR"])
    assert_page_ok(at)
    names = chart_traces(at)
    assert "EMA(10)" in names and "ATR(14)" in names and "SMA(50)" not in names


def test_backtest_button_gives_metrics_beside_buy_and_hold():
    at = page(tab="tester")
    run_button(at).click().run()
    assert_page_ok(at)
    metrics = next(t.value for t in at.table if "Buy & hold" in t.value.columns)
    assert list(metrics.columns) == ["Strategy", "Buy & hold"]
    for row in ("Sharpe (95% CI)", "Sortino", "Max drawdown [%]", "Calmar", "CAGR [%]",
                "Volatility [% ann.]", "Hit rate [%] (95% CI)", "Turnover [x/yr]",
                "Exposure [% bars]"):
        assert row in metrics.index, row
    # the docs' numbers for rsi_reversal on MSFT (docs/strategy.md, section 4)
    assert metrics.loc["Sharpe (95% CI)", "Strategy"] == "0.22 (-0.31 .. 0.76)"
    assert metrics.loc["Total return [%]", "Buy & hold"] == "-19.3"
    assert "no evidence that the rule beats holding the stock" in texts(at, "markdown")
    labels = [m.label for m in metric_figures(at)]  # after the context strip's four
    assert labels[4:8] == ["Sharpe", "CAGR", "Max drawdown", "Trades"], labels
    trades = next(d.value for d in at.dataframe if "Exit reason" in d.value.columns)
    assert len(trades) == 33 and set(trades["Side"]) == {"long"}
    assert any(el.proto.label == "Export trades CSV" for el in at.get("download_button"))
    assert chart_traces(at, "sl_equity")[:2] == ["Buy & hold", "Buy & hold"] or \
        {"Buy & hold", "RSI reversal"} <= set(chart_traces(at, "sl_equity"))


def test_walk_forward_and_edited_parameters():
    at = page(tab="tester")
    at.radio(key="sl_rsi_reversal_mode").set_value("wf")
    at.radio(key="sl_rsi_reversal_side").set_value("both")
    at.number_input(key="sl_rsi_reversal_comm").set_value(5.0)
    run_button(at).click().run()
    assert_page_ok(at)
    assert "walk-forward" in texts(at, "markdown")
    assert "5 bp commission" in texts(at, "markdown")
    folds = next(d.value for d in at.dataframe if "Test Sharpe" in d.value.columns)
    assert len(folds) >= 5
    trades = next(d.value for d in at.dataframe if "Exit reason" in d.value.columns)
    assert "short" in set(trades["Side"])


def test_bad_parameter_gives_a_message_not_an_exception():
    at = page(tab="tester")
    at.number_input(key="sl_rsi_reversal_rsi_lower").set_value(80.0)
    at.number_input(key="sl_rsi_reversal_rsi_upper").set_value(70.0)
    run_button(at).click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "RSI thresholds need 0 < lower < upper < 100" in texts(at, "error")
    assert not any("Buy & hold" in t.value.columns for t in at.table)


def test_the_strategy_is_kept_in_the_url_and_the_session_while_its_box_is_not_drawn():
    at = page(strategy="ma_cross", tab="tuning")  # a link: the tester's tab is closed
    assert_page_ok(at)
    assert not strategy_box(at)  # the box lives in the tester's tab
    assert "Golden cross" in texts(at, "caption")  # ma_cross is tuned
    assert at.query_params["strategy"] == "ma_cross"
    at.session_state["sl_tab"] = "Strategy tester"
    at.run()
    assert at.selectbox(key="strategy").value == "ma_cross"
    at.selectbox(key="strategy").set_value("macd_both").run()  # chosen in the tester
    assert at.query_params["strategy"] == "macd_both"
    at.session_state["sl_tab"] = "Chart & indicators"  # closed again: choice and URL kept
    at.run()
    assert not strategy_box(at) and at.query_params["strategy"] == "macd_both"
    at.query_params.pop("strategy")  # another page and back: the session's choice
    at.session_state["sl_tab"] = "Strategy tester"
    at.run()
    assert at.selectbox(key="strategy").value == "macd_both"
    at.selectbox(key="strategy").set_value("rsi_reversal").run()  # the default: not in the URL
    assert "strategy" not in at.query_params
    bogus = page(strategy="no_such_file", tab="tester")  # an unknown name: the default
    assert_page_ok(bogus)
    assert bogus.selectbox(key="strategy").value == "rsi_reversal"
    assert "strategy" not in bogus.query_params


def test_tune_button_reports_the_penalty_and_the_plain_verdict():
    at = page(strategy="ma_cross", tab="tuning")
    assert "Golden cross" in texts(at, "caption")
    next(b for b in at.button if b.label == "Tune (grid)").click().run()
    assert_page_ok(at)
    labels = [m.label for m in metric_figures(at)]
    assert {"Configurations tried", "Deflated Sharpe", "PBO"} <= set(labels)
    configs = next(d.value for d in at.dataframe if "Training Sharpe" in d.value.columns)
    assert len(configs) == 9 and (configs["Selected"] == "✓").sum() == 1
    md = texts(at, "markdown")
    # on MSFT the tuned golden cross loses to the file and to buy-and-hold out of sample
    assert "The tuned version does not beat the untuned file out of sample" in md
    assert "does not beat buy-and-hold out of sample" in md


def test_too_short_history_and_injected_text_are_harmless():
    at = page(start="2013-01-02")
    assert_page_ok(at, allow_warnings=("needs at least 60",))
    assert "needs at least 60" in texts(at, "warning")
    at = page(symbol="[x](https://evil.example)")
    assert not at.exception
    assert "](https" not in " ".join(e.value for e in at.error)


# ---------------------------------------------------------------- tuning methods (Q-learning)

import pytest


@pytest.fixture(autouse=True)
def _tuning_artifacts_in_tmp(tmp_path, monkeypatch):
    """Tuning runs as a job that saves its result as a ``tuning`` registry artifact: keep
    those out of the repository's models/ in every test of this page."""
    from core.config import get_settings

    monkeypatch.setenv("QUANTDESK_MODELS_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_compare_method_shows_the_table_and_the_plain_verdict():
    at = page(strategy="ma_cross", tab="tuning")
    at.radio(key="sl_tune_method").set_value("both").run()
    next(b for b in at.button if b.label == "Tune (compare)").click().run()
    assert_page_ok(at)
    table = next(d.value for d in at.dataframe if "Test Sharpe (95% CI)" in d.value.columns)
    assert list(table.index) == ["Untuned file", "Grid search", "Q-learning", "Buy & hold"]
    assert {"Configurations tried", "Deflated Sharpe", "PBO"} <= set(table.columns)
    md = texts(at, "markdown")
    assert ("Q-learning does not beat the untuned file and the grid search" in md
            and "The grid result is offered instead" in md) or "Q-learning beat" in md
    assert "Same budget" in texts(at, "caption")
    assert "Recorded as tuning run" in texts(at, "caption")


def test_qlearning_method_and_a_running_job_refused_plainly(monkeypatch):
    at = page(strategy="ma_cross", tab="tuning")
    at.radio(key="sl_tune_method").set_value("qlearning").run()
    next(b for b in at.button if b.label == "Tune (Q-learning)").click().run()
    assert_page_ok(at)
    labels = {m.label for m in metric_figures(at)}
    assert {"Configurations tried", "Deflated Sharpe", "PBO"} <= labels
    assert any("Parameter changes" in d.value.columns for d in at.dataframe)
    # another tuning job (or a retrain) holds the single-flight lock: a plain warning
    from core.store import session_scope
    from core.store.ops import acquire_lock
    from core.store.runs import TRAINING_LOCK

    with session_scope() as s:
        assert acquire_lock(TRAINING_LOCK, "carol#0001", "tuning", session=s) is not None
    at = page(strategy="ma_cross", tab="tuning")
    next(b for b in at.button if b.label == "Tune (grid)").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "A tuning job started by carol" in texts(at, "warning")


# ---------------------------------------------------------------- market context strip

def test_market_context_strip_renders_with_as_of_dates():
    at = page()
    assert_page_ok(at)
    assert "Market context" in texts(at, "markdown")
    cells = {m.label: m for m in metric_figures(at)}
    assert list(cells) == ["^VIX", "^GSPC trend", "Breadth", "Liquidity"]
    # offline MSFT ends 2013-03-01: ^VIX is n/a with the bundled range; the rest dated
    assert cells["^VIX"].value == "n/a"
    assert "No ^VIX close on or before 2013-03-01" in cells["^VIX"].delta
    assert "2014-01-03 .. 2019-01-03" in cells["^VIX"].delta
    assert "as of 2013-03-01 (bundled)" in cells["^GSPC trend"].delta
    assert "latest close 2013-03-01" in cells["Breadth"].delta
    assert "Bundled symbols with data (6 listed)" in cells["Breadth"].delta
    assert "per million traded · as of 2013-03-01" in cells["Liquidity"].delta
    assert "From bars at or before MSFT's bar of 2013-03-01 only" in texts(at, "caption")
    assert at.selectbox(key="breadth").value == "bundled"


def test_market_context_strip_on_gspc_has_a_vix_regime():
    at = page(symbol="^GSPC", end="2018-06-29")
    assert_page_ok(at)
    vix = next(m for m in metric_figures(at) if m.label == "^VIX")
    assert "previous 5 years' closes at or below · as of 2018-06-29 (bundled)" in vix.delta
    assert re.fullmatch(r"\d+\.\d\d · (low|normal|high)", vix.value), vix.value
