"""Issue 18, injection: the Admin page, the Overview's symbol card and the Model Monitoring
alerts show user-controlled text (A/B test names, admin names, lock holders, symbols,
reasons, errors, alert messages) literally: a markdown link or image never renders."""

from __future__ import annotations

import html
import re
import types
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.display import literal
from tests.page_checks import cards, metrics

ROOT = Path(__file__).resolve().parents[2]
LINK = "[Session expired - click to sign in](https://evil.example/login)"
IMAGE = "![x](http://HOST/track)"
HTML = '<img src=x onerror="alert(1)"><a href="https://evil.example">sign in</a>'
#: "](" whose "]" is not backslash-escaped: a markdown link or image would render
UNESCAPED_LINK = re.compile(r"(?<!\\)\]\(")
KINDS = ("error", "warning", "info", "success", "caption", "markdown", "title", "subheader",
         "header", "metric")


def shown(at: AppTest) -> list[str]:
    out = []
    for kind in KINDS:
        for e in getattr(at, kind):
            out.append(str(e.label if kind == "metric" else e.value))
    return out + [str(getattr(e.proto, "body", "")) for e in at.get("badge")]


def assert_no_link(at: AppTest) -> list[str]:
    assert not at.exception, [e.value for e in at.exception]
    texts = shown(at)
    bad = [v for v in texts if UNESCAPED_LINK.search(v) or "<http" in v.lower()]
    assert not bad, bad
    # the st.html tables (ui.widgets.small_table): user text arrives escaped, no tag of its own
    bodies = [str(e.proto.body) for e in at.get("html")]
    tags = [b for b in bodies if re.search(r"<(a|img|script|iframe)\b", b, re.I)]
    assert not tags, tags
    return texts + bodies


def test_admin_page_shows_names_holders_and_errors_literally(monkeypatch, tmp_path):
    from core import training
    from core.config import get_settings

    monkeypatch.setenv("QUANTDESK_MODELS_DIR", str(tmp_path / "models"))  # never the repo's
    get_settings.cache_clear()
    from core.panel import abtest
    from core.registry import save_artifact
    from core.store import active_version, promote, session_scope, sync_models_dir
    from core.store.ops import acquire_lock

    monkeypatch.setattr(training, "FAMILIES", {"tiny": lambda progress=None: save_artifact(
        "tiny", {"params.json": b"{}"}, {"metrics": {"mae": 0.01}})})
    versions = [save_artifact("tiny", {"params.json": b"{}"}, {"metrics": {"mae": 0.01}})
                .version for _ in range(2)]
    with session_scope() as s:
        sync_models_dir(session=s)  # may activate one of them
        champion = active_version("tiny", session=s)
        if champion is None:
            champion = promote("tiny", versions[0], who="alice", session=s).version
        challenger = next(v for v in versions if v != champion)
        abtest.start_ab_test(LINK, "tiny", champion, challenger, share=0.1, who="alice",
                             session=s)
        assert acquire_lock("training", IMAGE + "#1", LINK, session=s, host=IMAGE) is not None
    at = AppTest.from_file(str(ROOT / "views" / "admin.py"), default_timeout=60)
    at.session_state["admin_user"] = LINK  # a hostile admin name
    at.run()
    texts = assert_no_link(at)
    joined = " | ".join(texts)
    assert literal(LINK) in joined  # the A/B test name and the admin name, escaped
    assert literal(IMAGE) in joined  # the lock holder
    at.button(key="adm_retrain").click().run()  # refused: the lock is held, says by whom
    texts = assert_no_link(at)
    assert any("A retrain of" in t for t in texts), texts


def _fake_panel(text: str):
    signal = types.SimpleNamespace(action="HOLD", score=0.0, confidence=0.5,
                                   reasons=[f"Pattern: {text}"])
    return types.SimpleNamespace(
        symbol=text, interval="1d", source=text, bar_ts=pd.Timestamp("2024-01-02", tz="UTC"),
        last_price=1.0, change_pct=None, predictions=[], shadow=[],
        forecasts=[{"model": "naive", "horizon": 1, "value_pct": 0.0, "lower_pct": None,
                    "upper_pct": None, "skill": None}],
        pattern=text, regime=text, vol_ann=None, sentiment=None, signal=signal,
        skipped={"sentiment": f"no news for {text}"}, fallbacks={"forecast": "disabled"},
        errors=[f"forecast: {text}"])


def card_script(panel, text):
    from ui.panel import card_details, symbol_cards

    symbol_cards([panel])
    card_details([panel], {"forecast": f"error for {text}"})


def test_symbol_card_shows_symbols_reasons_and_errors_literally():
    for text in (LINK, IMAGE, HTML):
        at = AppTest.from_function(card_script, args=(_fake_panel(text), text),
                                   default_timeout=60)
        at.run()
        texts = assert_no_link(at)
        assert any(literal(text) in t for t in texts), texts
        (card,) = cards(at)  # the card is HTML: the text shown as it is, no tag of its own
        assert card.startswith(f"{text} · 1.00 –\n") and "bar 2024-01-02" in card
        assert f"Pattern: {text}" in card, card
        assert any(html.escape(text) in b for b in texts), texts


def badge_script(text):
    from core.monitoring.figures import Alert
    from ui.monitoring import alert_badges

    alert_badges([Alert("accuracy", "warning", f"{text} below the floor", text, 0.4, 0.5),
                  Alert("drift", "warning", "psi", f"{text}", 0.5, 0.2)])


def test_monitoring_alert_badges_are_literal():
    at = AppTest.from_function(badge_script, args=(LINK,), default_timeout=60).run()
    texts = assert_no_link(at)
    assert sum(literal(LINK) in t for t in texts) == 2, texts  # both badges, escaped


# ---------------------------------------------------------------------------------------
# Every other page (issue 18's leftovers): a hostile symbol (as a CSV name, typed ticker or
# Yahoo answer would give it), errors and model metadata that embed user text, uploaded
# file names and headers, and a hostile admin name are shown literally.

HOSTILE = (LINK, IMAGE)
BARS = 420  # enough for every page (volatility needs 300), few enough to stay quick


def hostile_bars(symbol: str):
    """Real bundled MSFT daily bars under a hostile ``symbol``."""
    import dataclasses

    from core.data import load_ohlcv

    md = load_ohlcv("MSFT", source="bundled")
    return dataclasses.replace(md, frame=md.frame.tail(BARS).copy(), symbol=symbol)


@pytest.fixture
def hostile_symbol(monkeypatch):
    """Every page's bars (``ui.layout.page_start``) carry a hostile symbol; returns a setter
    (the symbol, default LINK)."""
    import ui.layout

    chosen = {"symbol": LINK}
    monkeypatch.setattr(ui.layout, "market_data",
                        lambda sel: hostile_bars(chosen["symbol"]))
    return lambda symbol: chosen.__setitem__("symbol", symbol)


def page(name: str, tab: str | None = None, **state) -> AppTest:
    """The page ``views/name`` (not run yet) with ``state`` in its session; ``tab``: opened
    on that lazily drawn tab (``?tab=``, ``ui.widgets.lazy_tabs``)."""
    at = AppTest.from_file(str(ROOT / "views" / name), default_timeout=240)
    for k, v in state.items():
        at.session_state[k] = v
    if tab is not None:
        at.query_params["tab"] = tab
    return at


def some(texts: list[str], needle: str) -> bool:
    return any(needle in t for t in texts)


@pytest.fixture
def no_domains(monkeypatch):
    from core.panel import predictors

    monkeypatch.setattr(predictors, "DOMAIN_PREDICTORS", [])


def test_overview_watchlist_errors_and_symbol_are_literal(monkeypatch, hostile_symbol,
                                                          no_domains):
    import ui.data
    from core.errors import DataValidationError

    def refuse(symbol, *args, **kw):
        raise DataValidationError(f"No bars for {symbol}: {IMAGE} {LINK}")

    monkeypatch.setattr(ui.data, "cached_market", refuse)  # the panel's loads
    at = page("overview.py", ov_paused=True)
    at.query_params["watchlist"] = "MSFT,IBM"
    at.run()
    texts = assert_no_link(at)
    warnings = [w.value for w in at.warning]
    assert sum(w.startswith("MSFT\\: No bars for MSFT") and literal(LINK) in w
               for w in warnings) == 1, warnings
    assert some([s.value for s in at.subheader], literal(LINK) + " price history"), texts


def test_overview_refresh_failure_is_literal(monkeypatch, hostile_symbol, no_domains):
    from core.errors import QuantdeskError
    from core.panel import refresh

    def broken(*args, **kw):
        raise QuantdeskError(f"store said {LINK}")

    monkeypatch.setattr(refresh, "refresh_panel", broken)
    at = page("overview.py", ov_paused=True)
    at.query_params["watchlist"] = "MSFT"
    at.run()
    assert_no_link(at)
    errors = [e.value for e in at.error]
    assert errors == ["The panel could not refresh: store said " + literal(LINK)], errors


def watchlist_script():
    import streamlit as st

    from ui.watchlist import watchlist_widget

    watchlist_widget(st.container())


def test_watchlist_store_refusal_is_literal(monkeypatch):
    import ui.watchlist
    from core.errors import DataValidationError

    def refuse(owner, symbols, *, session):
        raise DataValidationError(f"{symbols!r} refused: {LINK}")

    monkeypatch.setattr(ui.watchlist, "set_symbols", refuse)
    at = AppTest.from_function(watchlist_script, default_timeout=60)
    at.query_params["watchlist"] = "![a](http://HOST/t)"
    at.run()
    assert_no_link(at)
    assert some([w.value for w in at.warning], literal(LINK))


def predlog_script(text):
    import types

    from ui.predlog import log_shown

    log_shown([types.SimpleNamespace(model_name=text, model_version="v", symbol=text,
                                     interval="1d", kind="return", horizon=1, origin_ts=0)])


def test_prediction_log_failure_caption_is_literal(monkeypatch):
    import ui.predlog
    from core.errors import QuantdeskError

    def broken(rows):
        raise QuantdeskError(f"cannot store {rows[0].symbol}")

    monkeypatch.setattr(ui.predlog, "loggable", lambda preds: list(preds))
    monkeypatch.setattr(ui.predlog, "log_or_queue", broken)
    for text in HOSTILE:
        at = AppTest.from_function(predlog_script, args=(text,), default_timeout=60).run()
        assert_no_link(at)
        assert [c.value for c in at.caption] == [
            "These predictions could not be logged to the store: cannot store " + literal(text)]


def test_prediction_log_outage_is_held_and_said(monkeypatch):
    """The store is down: the page says the predictions are held for its return."""
    import ui.predlog
    from core.store.predictions import LogOutcome

    said = "database unavailable, retrying: 1 prediction(s) held in memory"
    monkeypatch.setattr(ui.predlog, "loggable", lambda preds: list(preds))
    monkeypatch.setattr(ui.predlog, "log_or_queue",
                        lambda rows: LogOutcome(queued=len(rows), message=said))
    at = AppTest.from_function(predlog_script, args=("MSFT",), default_timeout=60).run()
    assert not at.exception
    assert [c.value for c in at.caption] == [literal(said)]


def auth_script():
    from ui.auth import auth_sidebar

    auth_sidebar()


@pytest.mark.parametrize("name", HOSTILE)
def test_signed_in_admin_name_is_literal(name):
    at = AppTest.from_function(auth_script, default_timeout=60)
    at.session_state["admin_user"] = name  # what was typed at sign-in
    at.session_state["admin_source"] = "local"
    at.run()
    assert_no_link(at)
    captions = [c.value for c in at.caption]
    assert captions == [f"Signed in as **{literal(name)}** (admin)"], captions


def test_patterns_page_symbol_and_model_errors_are_literal(monkeypatch, hostile_symbol):
    import ui.patterns

    monkeypatch.setattr(ui.patterns, "cnn_model", lambda: (None, f"no CNN: {LINK}"))
    monkeypatch.setattr(ui.patterns, "breakout_model", lambda: f"no model: {IMAGE}")
    texts, warnings = [], []
    for tab in ("latest", "edge", "breakouts"):  # each section is drawn in its own tab
        at = page("patterns.py", tab=tab)
        at.run()
        texts += assert_no_link(at)
        warnings += [w.value for w in at.warning]
    assert "Pattern CNN unavailable: no CNN\\: " + literal(LINK) in warnings, warnings
    assert "Breakout model unavailable: no model\\: " + literal(IMAGE) in warnings, warnings
    assert some(texts, f"Rule hits on {literal(LINK)} ({BARS:,} bars)."), texts


def test_patterns_page_track_record_and_breakout_name_the_symbol_literally(hostile_symbol):
    hostile_symbol(IMAGE)
    at = page("patterns.py", tab="breakouts")
    at.run()
    texts = assert_no_link(at)
    assert some(texts, f"No stored walk-forward record for {literal(IMAGE)}"), texts
    # the command is shown escaped, outside a code span the symbol could break out of
    assert some(texts, "Run " + literal(f"quantdesk evaluate breakout --symbol {IMAGE}")), texts


def test_forecasts_page_symbol_is_literal(hostile_symbol):
    at = page("forecasts.py")
    at.run()
    assert_no_link(at)
    infos = [i.value for i in at.info]
    # the forecast names the symbol upper-case; the fixed wording stays as it is
    assert some(infos, literal(LINK.upper()) + ": the pooled model"), infos


def test_forecasts_page_model_error_is_literal(monkeypatch, hostile_symbol):
    import ui.forecast
    from core.errors import NotTrainedError

    def broken():
        raise NotTrainedError(f"No forecast model for {IMAGE}")

    monkeypatch.setattr(ui.forecast, "active_forecast_artifact", broken)
    at = page("forecasts.py")
    at.run()
    assert_no_link(at)
    assert some([w.value for w in at.warning], literal(IMAGE))


def test_volatility_page_symbol_and_model_name_are_literal(monkeypatch, hostile_symbol):
    import ui.volatility

    real = ui.volatility.cached_predictions

    def hostile_model(key, _md):
        preds = real(key, _md)
        for p in preds:
            p.output["best_model"] = IMAGE  # a model name from the artifact's metadata
        return preds

    monkeypatch.setattr(ui.volatility, "cached_predictions", hostile_model)
    at = page("volatility.py")
    at.run()
    texts = assert_no_link(at)
    # a metric_row figure (st.html): the name as typed, HTML-escaped, no markdown to parse
    assert some([m.label for m in metrics(at)], f"· {IMAGE} [% ann.]"), texts
    at = page("volatility.py", tab="evaluation")  # drawn only while its tab is open
    at.run()
    texts = assert_no_link(at)
    assert some(texts, f"{literal(LINK)} was not evaluated; showing"), texts


def test_risk_page_symbol_portfolio_and_model_errors_are_literal(monkeypatch, hostile_symbol):
    import ui.risk

    monkeypatch.setattr(ui.risk, "cached_dqn", lambda: (None, f"no DQN: {LINK}"))
    at = page("risk_sizing.py", tab="policy")  # drawn only while its tab is open
    at.run()
    assert_no_link(at)
    assert some([w.value for w in at.warning], "DQN policy unavailable: no DQN\\: "
                + literal(LINK))
    at = page("risk_sizing.py", tab="portfolio")
    at.run()
    bad = b"symbol,shares,entry\n[x](https://evil.example),1,1\n"
    at.file_uploader(key="risk_port_upload").set_value(("![p](http://HOST/p).csv", bad,
                                                        "text/csv")).run()
    texts = assert_no_link(at)
    # imported, then named (escaped) where its prices cannot be loaded
    assert some([w.value for w in at.warning], literal("[X](HTTPS://EVIL.EXAMPLE)")), texts


def test_sentiment_page_upload_headers_headlines_and_errors_are_literal(monkeypatch):
    import ui.sentiment
    from core.errors import QuantdeskError

    def broken(allow_download=False):
        raise QuantdeskError(f"models missing: {LINK}")

    monkeypatch.setattr(ui.sentiment, "scorers", broken)
    at = page("sentiment.py", sent_sources=True)  # its News sources box opened
    at.run()
    assert_no_link(at)
    assert some([e.value for e in at.error],
                "Sentiment models could not be loaded: models missing\\: " + literal(LINK))
    bad = b"published_at,[x](https://evil.example)\n2020-01-02,![i](http://HOST/t)\n"
    at.file_uploader(key="sent_upload").set_value((IMAGE + ".csv", bad, "text/csv")).run()
    texts = assert_no_link(at)
    assert some([e.value for e in at.error], "Could not read your headlines: "), texts
    good = (b"published_at,headline\n2013-02-01," + LINK.encode() + b"\n"
            b"2013-02-02,\"" + IMAGE.encode() + b" shares rise\"\n")
    at.file_uploader(key="sent_upload").set_value(("news.csv", good, "text/csv")).run()
    assert_no_link(at)
