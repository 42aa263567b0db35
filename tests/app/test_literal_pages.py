"""Issue 18, injection: the Admin page, the Overview's symbol card and the Model Monitoring
alerts show user-controlled text (A/B test names, admin names, lock holders, symbols,
reasons, errors, alert messages) literally: a markdown link or image never renders."""

from __future__ import annotations

import re
import types
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from core.display import literal

ROOT = Path(__file__).resolve().parents[2]
LINK = "[Session expired - click to sign in](https://evil.example/login)"
IMAGE = "![x](http://HOST/track)"
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
    return texts


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
    from ui.panel import symbol_card

    symbol_card(panel, {"forecast": f"error for {text}"})


def test_symbol_card_shows_symbols_reasons_and_errors_literally():
    for text in (LINK, IMAGE):
        at = AppTest.from_function(card_script, args=(_fake_panel(text), text),
                                   default_timeout=60)
        at.run()
        texts = assert_no_link(at)
        assert any(literal(text) in t for t in texts), texts
        assert any(t.startswith(literal(text) + " · 2024-01-02") for t in texts), texts


def badge_script(text):
    from core.monitoring.figures import Alert
    from ui.monitoring import alert_badges

    alert_badges([Alert("accuracy", "warning", f"{text} below the floor", text, 0.4, 0.5),
                  Alert("drift", "warning", "psi", f"{text}", 0.5, 0.2)])


def test_monitoring_alert_badges_are_literal():
    at = AppTest.from_function(badge_script, args=(LINK,), default_timeout=60).run()
    texts = assert_no_link(at)
    assert sum(literal(LINK) in t for t in texts) == 2, texts  # both badges, escaped
