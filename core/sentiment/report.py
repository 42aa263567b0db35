"""What the Sentiment page shows, as tables and sentences: the aggregate's caption, the
scored headlines' columns, sentiment against the price, the models' status and the
precomputed evaluation beside the published FinBERT figures. Pure functions of
:mod:`core.sentiment` results."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from core.display import Metric
from core.sentiment.aggregate import daily_sentiment

#: per-scorer columns of a scored headline frame, in display order (present ones shown)
SCORER_COLUMNS = ("minilm", "finbert", "vader", "lm")
#: the price shown around dated headlines: this long before the first, after the last
PRICE_BEFORE, PRICE_AFTER = pd.Timedelta(days=30), pd.Timedelta(days=5)
#: bars of price shown when no headline falls inside the price history
PRICE_TAIL_BARS = 250
#: published FinBERT accuracy / macro-F1 on PhraseBank (Araci 2019; trained on PhraseBank)
FINBERT_PUBLISHED = (("PhraseBank AllAgree", 0.97, 0.95), ("PhraseBank 50Agree", 0.86, 0.84))
#: the issue's offline ensemble accuracy targets on PhraseBank
PHRASEBANK_TARGETS = {"PhraseBank AllAgree": 0.86, "PhraseBank 50Agree": 0.75}


def aggregate_metrics(agg: dict) -> list[Metric]:
    """Three headline figures of a symbol's aggregate: headline count, confidence [%, no
    decimals] and impact in [0, 1] (2 decimals); ``agg`` is ``SentimentScore.to_dict()``."""
    return [Metric("Headlines", str(agg["news_count"])),
            Metric("Confidence", f"{agg['confidence']:.0%}"),
            Metric("Impact [0-1]", f"{agg['impact']:.2f}")]


def aggregate_caption(agg: dict) -> str:
    """Markdown line on a symbol's aggregate: label, decay half-life [h] and as-of time (UTC).

    Args:
        agg: ``SentimentScore.to_dict()`` (``label``, ``half_life_hours``, ``as_of``).
    """
    return (f"Label **{agg['label']}**; decay half-life {agg['half_life_hours']:g} h "
            f"(a headline {agg['half_life_hours']:g} h old counts half); as of "
            f"{pd.Timestamp(agg['as_of']):%Y-%m-%d %H:%M} UTC.")


def headline_columns(scored: pd.DataFrame) -> list[str]:
    """Columns of the headline table: time, headline, each scorer present, ensemble, label,
    confidence, source."""
    return (["published_at", "headline"] + [c for c in SCORER_COLUMNS if c in scored]
            + ["ensemble", "label", "confidence", "source"])


@dataclass
class PriceContext:
    """Sentiment over time against the price.

    Attributes:
        close: the close prices to draw (None without market data): 30 days before the first
            dated headline to 5 after the last when they overlap the history, else the last
            250 bars.
        daily: daily mean sentiment to draw (``score``, ``count``; empty when it does not
            overlap the price).
        n_days: days with dated headlines (0: no headline has a date).
        overlap: whether the headlines' days fall inside the price history.
    """

    close: pd.Series | None
    daily: pd.DataFrame
    n_days: int
    overlap: bool


def price_context(scored: pd.DataFrame, close: pd.Series | None) -> PriceContext:
    """Daily sentiment of the scored headlines (:func:`core.sentiment.aggregate.daily_sentiment`)
    and the stretch of ``close`` (DatetimeIndex, UTC) to draw it against."""
    daily = daily_sentiment(scored)
    overlap = bool(close is not None and len(daily) > 0
                   and daily.index.max() >= close.index.min()
                   and daily.index.min() <= close.index.max())
    if overlap:
        close = close[daily.index.min() - PRICE_BEFORE:daily.index.max() + PRICE_AFTER]
    elif close is not None:
        close = close.tail(PRICE_TAIL_BARS)
    return PriceContext(close, daily if overlap else daily.iloc[0:0], len(daily), overlap)


def models_table(status) -> pd.DataFrame:
    """One row per sentiment model: ``model`` (title), ``active`` (yes/no), ``detail / why
    unavailable``; ``status`` is the scorer set's list of statuses (``title``, ``active``,
    ``detail``)."""
    return pd.DataFrame([{"model": s.title, "active": "yes" if s.active else "no",
                          "detail / why unavailable": s.detail} for s in status])


def evaluation_rows(metadata: dict) -> pd.DataFrame:
    """Precomputed evaluation (from the head artifact's metadata) beside the published
    FinBERT figures: one row per dataset and model with ``accuracy`` and ``macro-F1`` in
    [0, 1]. PhraseBank rows first, then the Twitter validation split, then FinBERT."""
    rows = []
    fpb = metadata.get("metrics", {}).get("phrasebank_evaluation_only", {})
    for name, res in fpb.items():
        for r in res["rows"]:
            rows.append({"dataset": f"PhraseBank {name}", "model": r["title"],
                         "accuracy": r["accuracy"], "macro-F1": r["macro_f1"]})
    for r in metadata.get("metrics", {}).get("valid", {}).get("rows", []):
        rows.append({"dataset": "Twitter fin. news (valid)", "model": r["title"],
                     "accuracy": r["accuracy"], "macro-F1": r["macro_f1"]})
    for ds, acc, f1 in FINBERT_PUBLISHED:
        rows.append({"dataset": ds, "model": "FinBERT, Araci 2019 (published; trained on "
                     "PhraseBank)", "accuracy": acc, "macro-F1": f1})
    return pd.DataFrame(rows)


def phrasebank_target(evaluation: pd.DataFrame) -> str | None:
    """Markdown line: whether the ensemble reached the PhraseBank accuracy targets
    (``PHRASEBANK_TARGETS``), with its accuracies; None when no ensemble was evaluated on
    PhraseBank.

    Args:
        evaluation: :func:`evaluation_rows`.
    """
    ens = evaluation[evaluation["model"].str.startswith("Ensemble")
                     & evaluation["dataset"].str.startswith("PhraseBank")]
    got = dict(zip(ens["dataset"], ens["accuracy"]))
    if not got:
        return None
    reached = all(got.get(k, 0) >= v for k, v in PHRASEBANK_TARGETS.items())
    return (f"Issue target: offline ensemble accuracy >= 0.86 (AllAgree) and >= 0.75 "
            f"(50Agree): **{'reached' if reached else 'not reached'}** ("
            + " / ".join(f"{got[k]:.3f}" for k in PHRASEBANK_TARGETS if k in got) + ").")
