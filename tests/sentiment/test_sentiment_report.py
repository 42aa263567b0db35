"""The Sentiment page's tables and sentences (core.sentiment.report) and the news helpers it
uses (core.news.frame)."""

import types

import pandas as pd

from core.display import Metric
from core.news.frame import combine_news, feed_urls, for_symbol
from core.sentiment import report


def _news(symbols):
    return pd.DataFrame({"headline": [f"h{i}" for i in range(len(symbols))], "symbol": symbols})


def test_for_symbol_keeps_its_rows_and_unlabelled_ones():
    got = for_symbol(_news(["AAPL", "", "MSFT", "AAPL"]), "AAPL")
    assert got["headline"].tolist() == ["h0", "h1", "h3"]
    # no row names AAPL, or no row names any symbol: the table is about the page's symbol
    assert len(for_symbol(_news(["MSFT", ""]), "AAPL")) == 2
    assert len(for_symbol(_news(["", ""]), "AAPL")) == 2


def test_combine_news_and_feed_urls():
    both = combine_news([_news(["A"]), _news(["B", "C"])])
    assert both.index.tolist() == [0, 1, 2] and both["symbol"].tolist() == ["A", "B", "C"]
    assert combine_news([]).empty
    assert feed_urls(" https://a/rss , ,https://b/feed,") == ("https://a/rss", "https://b/feed")
    assert feed_urls("") == ()


def test_aggregate_metrics_and_caption():
    agg = {"news_count": 12, "confidence": 0.6789, "impact": 0.456, "label": "positive",
           "half_life_hours": 24.0, "as_of": "2024-05-02T14:30:59+00:00"}
    assert report.aggregate_metrics(agg) == [Metric("Headlines", "12"),
                                             Metric("Confidence", "68%"),
                                             Metric("Impact [0-1]", "0.46")]
    assert report.aggregate_caption(agg) == (
        "Label **positive**; decay half-life 24 h (a headline 24 h old counts half); as of "
        "2024-05-02 14:30 UTC.")


def test_headline_columns_show_the_scorers_present():
    scored = pd.DataFrame(columns=["published_at", "headline", "vader", "lm", "minilm",
                                   "ensemble", "label", "confidence", "source", "url"])
    assert report.headline_columns(scored) == ["published_at", "headline", "minilm", "vader",
                                               "lm", "ensemble", "label", "confidence",
                                               "source"]


def _scored(times):
    return pd.DataFrame({"published_at": pd.to_datetime(times, utc=True),
                         "ensemble": [0.5] * len(times)})


def test_price_context_zooms_to_the_headlines():
    close = pd.Series(1.0, index=pd.bdate_range("2012-01-02", "2012-12-31", tz="UTC"))
    ctx = report.price_context(_scored(["2012-05-02 14:30", "2012-05-03 09:00", None]), close)
    assert ctx.overlap and ctx.n_days == 2 and len(ctx.daily) == 2
    assert ctx.close.index[0] >= pd.Timestamp("2012-04-02", tz="UTC")
    assert ctx.close.index[-1] <= pd.Timestamp("2012-05-08", tz="UTC")
    assert ctx.close.index[0] <= pd.Timestamp("2012-04-03", tz="UTC")


def test_price_context_without_overlap_dates_or_price():
    close = pd.Series(1.0, index=pd.bdate_range("2012-01-02", "2012-12-31", tz="UTC"))
    far = report.price_context(_scored(["2024-05-02"]), close)
    assert not far.overlap and far.n_days == 1 and far.daily.empty
    assert len(far.close) == report.PRICE_TAIL_BARS and far.close.index[-1] == close.index[-1]
    undated = report.price_context(_scored([None, None]), close)
    assert undated.n_days == 0 and not undated.overlap
    nothing = report.price_context(_scored(["2012-05-02"]), None)
    assert nothing.close is None and not nothing.overlap and nothing.n_days == 1


def test_models_table():
    status = [types.SimpleNamespace(title="VADER", active=True, detail="lexicon"),
              types.SimpleNamespace(title="FinBERT", active=False, detail="not cached")]
    assert report.models_table(status).to_dict("records") == [
        {"model": "VADER", "active": "yes", "detail / why unavailable": "lexicon"},
        {"model": "FinBERT", "active": "no", "detail / why unavailable": "not cached"}]


def _meta(all_agree, fifty):
    rows = lambda acc: {"rows": [{"title": "Ensemble (fitted)", "accuracy": acc,  # noqa: E731
                                  "macro_f1": acc - 0.1},
                                 {"title": "VADER", "accuracy": 0.5, "macro_f1": 0.4}]}
    return {"metrics": {"phrasebank_evaluation_only": {"AllAgree": rows(all_agree),
                                                       "50Agree": rows(fifty)},
                        "valid": {"rows": [{"title": "Ensemble (fitted)", "accuracy": 0.7,
                                            "macro_f1": 0.6}]}}}


def test_evaluation_rows_and_phrasebank_target():
    ev = report.evaluation_rows(_meta(0.879, 0.76))
    assert ev["dataset"].tolist() == ["PhraseBank AllAgree"] * 2 + ["PhraseBank 50Agree"] * 2 + [
        "Twitter fin. news (valid)", "PhraseBank AllAgree", "PhraseBank 50Agree"]
    assert ev.iloc[0].to_dict() == {"dataset": "PhraseBank AllAgree", "model": "Ensemble (fitted)",
                                    "accuracy": 0.879, "macro-F1": 0.879 - 0.1}
    assert ev.iloc[-1]["accuracy"] == 0.86 and ev.iloc[-1]["macro-F1"] == 0.84
    assert report.phrasebank_target(ev) == (
        "Issue target: offline ensemble accuracy >= 0.86 (AllAgree) and >= 0.75 (50Agree): "
        "**reached** (0.879 / 0.760).")
    missed = report.phrasebank_target(report.evaluation_rows(_meta(0.879, 0.74)))
    assert "**not reached** (0.879 / 0.740)" in missed
    # only the published FinBERT rows: nothing to say about the ensemble
    assert report.phrasebank_target(report.evaluation_rows({})) is None
