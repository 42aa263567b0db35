"""core.sentiment.serve.predict_latest: the live panel's sentiment entry point."""

import pandas as pd

from core.data import MarketData
from core.sentiment.serve import predict_latest
from core.sentiment.scorers import load_scorers


def _md(frame):  # SYNTHETIC bars (tests only)
    return MarketData(frame=frame, symbol="SYN", interval="1d", source="csv",
                      as_of=frame.index[-1])


def _news(last_bar):
    return pd.DataFrame({
        "published_at": [last_bar - pd.Timedelta(hours=5), last_bar + pd.Timedelta(hours=3)],
        "headline": ["Profit surged to a record, shares soar",
                     "Company collapses into bankruptcy after fraud"],
        "symbol": "SYN", "source": "test", "url": ""})


def test_offline_returns_nothing_without_asking_for_news(synthetic_frame):
    calls = []
    out = predict_latest(_md(synthetic_frame), news_fn=lambda s: calls.append(s))
    assert out == [] and calls == []  # offline: no news lookup, no model load


def test_online_news_gives_one_prediction_for_the_latest_bar(synthetic_frame, tmp_path,
                                                             monkeypatch):
    monkeypatch.setenv("QUANTDESK_OFFLINE", "0")
    from core.config import get_settings

    get_settings.cache_clear()
    frame = synthetic_frame.iloc[:50]
    sc = load_scorers(finbert=False, models_dir=tmp_path / "no-models")  # lexicons only
    preds = predict_latest(_md(frame), news_fn=lambda s: (_news(frame.index[-1]), []),
                           scorers=sc)
    assert len(preds) == 1
    p = preds[0]
    assert p.symbol == "SYN" and p.origin_ts == frame.index[-1] and p.kind == "label"
    assert p.output["news_count"] == 1  # the later (negative) headline is not visible
    assert p.value == 1.0 and p.output["score"] > 0


def test_no_news_or_only_future_news_gives_nothing(synthetic_frame, tmp_path, monkeypatch):
    monkeypatch.setenv("QUANTDESK_OFFLINE", "0")
    from core.config import get_settings

    get_settings.cache_clear()
    md = _md(synthetic_frame)
    sc = load_scorers(finbert=False, models_dir=tmp_path / "no-models")
    empty = pd.DataFrame(columns=["published_at", "headline", "symbol", "source", "url"])
    assert predict_latest(md, news_fn=lambda s: (empty, ["Yahoo: no news"]), scorers=sc) == []
    future = _news(synthetic_frame.index[-1] + pd.Timedelta(days=2))
    assert predict_latest(md, news_fn=lambda s: (future, []), scorers=sc) == []
