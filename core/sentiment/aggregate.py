"""Per-symbol sentiment: topics, exponential time decay, and the ``SentimentScore`` record.

Topics (keyword rules, case-insensitive whole-word regexes; a headline may hit several):

- earnings: earnings, EPS, revenue(s), sales, profit(s), loss, quarter/quarterly, Q1-Q4,
  guidance, outlook, forecast, dividend, margin(s), results
- analyst: analyst(s), upgrade(s/d), downgrade(s/d), price target, rating, overweight,
  underweight, outperform, underperform, buy/sell/hold rating, initiates, coverage
- product: product(s), launch(es/ed), unveil(s/ed), release(s/d), device, app, chip(s),
  drug, trial, patent, approval of a product (FDA)
- regulatory: regulator(s/y), SEC, FTC, DOJ, antitrust, lawsuit, sue(s/d), probe,
  investigation, fine(d), settlement, FDA, EU Commission, ban, sanction(s), court
- market: market(s), stock(s), shares, index, S&P, Nasdaq, Dow, rally, sell-off, selloff,
  volatility, Fed, rates, inflation, economy, recession

Time decay: a headline published ``age`` hours before ``as_of`` weighs
``w = 0.5 ** (age / half_life_hours)`` (default half-life 24 h: yesterday's news counts half).
Headlines from the future of ``as_of`` are excluded (no lookahead).

``overall`` = decay-weighted mean of the ensemble scores, in [-1, 1].
``confidence`` = decay-weighted mean of per-headline confidence (max class probability) times
``1 - exp(-n_eff / 3)``, where ``n_eff = sum(w)`` (little recent news -> low confidence).
``impact`` in [0, 1] = ``|overall| * (1 - exp(-n_eff / 5))``: strong *and* plentiful recent
news has a high impact; one mild headline has almost none.
Topic score = decay-weighted mean ensemble score of the headlines in that topic (None if none).
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from core.errors import DataValidationError

DEFAULT_HALF_LIFE_HOURS = 24.0
TOPICS: dict[str, tuple[str, ...]] = {
    "earnings": ("earnings", "eps", "revenues?", "sales", "profits?", "loss(es)?", "quarter(ly)?",
                 "q[1-4]", "guidance", "outlook", "forecasts?", "dividends?", "margins?",
                 "results"),
    "analyst": ("analysts?", "upgrade[sd]?", "downgrade[sd]?", "price targets?", "ratings?",
                "overweight", "underweight", "outperform", "underperform", "initiates?",
                "coverage", "(buy|sell|hold) rating"),
    "product": ("products?", "launch(es|ed)?", "unveil(s|ed)?", "releases?", "released",
                "devices?", "apps?", "chips?", "drugs?", "trials?", "patents?", "iphone",
                "software", "services?"),
    "regulatory": ("regulat(or|ors|ory|ion|ions)", "sec", "ftc", "doj", "antitrust", "lawsuits?",
                   "sues?", "sued", "probes?", "investigations?", "fined?", "settlements?",
                   "fda", "european commission", "bans?", "sanctions?", "courts?"),
    "market": ("markets?", "stocks?", "shares", "index", "s&p", "nasdaq", "dow", "rall(y|ies)",
               "sell-?off", "volatility", "fed", "rates?", "inflation", "economy",
               "recession"),
}
_TOPIC_RE = {t: re.compile(r"(?<![\w&])(" + "|".join(words) + r")(?![\w&])", re.I)
             for t, words in TOPICS.items()}


def topics_of(text: str) -> list[str]:
    """Topics whose keyword rules match ``text`` (TOPICS order)."""
    return [t for t, rx in _TOPIC_RE.items() if rx.search(str(text))]


def decay_weights(published_at: pd.Series, as_of: pd.Timestamp,
                  half_life_hours: float = DEFAULT_HALF_LIFE_HOURS) -> np.ndarray:
    """``0.5 ** (age_hours / half_life_hours)``; 0 for items after ``as_of``; NaT -> age 0.

    Raises:
        DataValidationError: half-life not positive.
    """
    if not half_life_hours > 0:
        raise DataValidationError("The half-life must be a positive number of hours.")
    ts = pd.to_datetime(published_at, utc=True)
    age = ((as_of - ts).dt.total_seconds() / 3600.0).fillna(0.0).to_numpy()
    w = np.power(0.5, np.maximum(age, 0.0) / half_life_hours)
    w[age < 0] = 0.0
    return w


@dataclass
class SentimentScore:
    """Aggregate news sentiment for one symbol at ``as_of``.

    Attributes:
        symbol: ticker. as_of: UTC timestamp of the aggregate.
        overall: decay-weighted mean ensemble score in [-1, 1]. label: its class (dead band
            +/-0.1). news_count: headlines used (published at or before as_of).
        effective_count: sum of decay weights. confidence, impact: in [0, 1] (module doc).
        topics: topic -> score in [-1, 1] or None; topic_counts: topic -> headlines.
        half_life_hours: decay half-life used.
    """

    symbol: str
    as_of: pd.Timestamp
    overall: float
    label: str
    news_count: int
    effective_count: float
    confidence: float
    impact: float
    topics: dict[str, float | None] = field(default_factory=dict)
    topic_counts: dict[str, int] = field(default_factory=dict)
    half_life_hours: float = DEFAULT_HALF_LIFE_HOURS

    def to_dict(self) -> dict:
        d = asdict(self)
        d["as_of"] = self.as_of.isoformat()
        return d


def aggregate(scored: pd.DataFrame, symbol: str, as_of: pd.Timestamp | None = None,
              half_life_hours: float = DEFAULT_HALF_LIFE_HOURS) -> SentimentScore:
    """Aggregate scored headlines into a :class:`SentimentScore`.

    Args:
        scored: rows with ``text``/``headline``, ``ensemble`` in [-1, 1], ``confidence`` in
            [0, 1] and ``published_at`` (UTC; NaT counts as ``as_of``).
        as_of: aggregation time (default: now, UTC).
    Raises:
        DataValidationError: missing columns.
    """
    as_of = pd.Timestamp.now(tz="UTC") if as_of is None else pd.Timestamp(as_of)
    as_of = as_of.tz_localize("UTC") if as_of.tzinfo is None else as_of.tz_convert("UTC")
    need = {"ensemble", "confidence"}
    if not need <= set(scored.columns):
        raise DataValidationError(f"Scored headlines need columns {sorted(need)}.")
    text_col = "headline" if "headline" in scored.columns else "text"
    pub = scored["published_at"] if "published_at" in scored.columns else \
        pd.Series(pd.NaT, index=scored.index)
    w = decay_weights(pub, as_of, half_life_hours)
    used = w > 0
    s = scored["ensemble"].to_numpy(float)[used]
    c = scored["confidence"].to_numpy(float)[used]
    w = w[used]
    texts = scored[text_col].astype(str).to_numpy()[used]
    n_eff = float(w.sum())
    if n_eff <= 0:
        return SentimentScore(symbol, as_of, 0.0, "neutral", 0, 0.0, 0.0, 0.0,
                              {t: None for t in TOPICS}, {t: 0 for t in TOPICS},
                              half_life_hours)
    overall = float(np.clip((w * s).sum() / n_eff, -1, 1))
    conf = float((w * c).sum() / n_eff * (1 - math.exp(-n_eff / 3)))
    impact = float(abs(overall) * (1 - math.exp(-n_eff / 5)))
    hits = [topics_of(t) for t in texts]
    topics, counts = {}, {}
    for t in TOPICS:
        m = np.array([t in h for h in hits])
        counts[t] = int(m.sum())
        topics[t] = float((w[m] * s[m]).sum() / w[m].sum()) if m.any() and w[m].sum() > 0 \
            else None
    label = "positive" if overall > 0.1 else "negative" if overall < -0.1 else "neutral"
    return SentimentScore(symbol, as_of, overall, label, int(used.sum()), n_eff,
                          float(np.clip(conf, 0, 1)), float(np.clip(impact, 0, 1)), topics,
                          counts, half_life_hours)


def daily_sentiment(scored: pd.DataFrame) -> pd.DataFrame:
    """Mean ensemble score and headline count per UTC day (rows with a ``published_at``).

    Returns: DataFrame indexed by day (UTC midnight) with ``score`` in [-1, 1] and ``count``.
    """
    if "published_at" not in scored.columns:
        return pd.DataFrame(columns=["score", "count"])
    df = scored.dropna(subset=["published_at"])
    if df.empty:
        return pd.DataFrame(columns=["score", "count"])
    day = pd.to_datetime(df["published_at"], utc=True).dt.floor("D")
    g = df.groupby(day)["ensemble"]
    out = pd.DataFrame({"score": g.mean(), "count": g.size()})
    out.index.name = "day"
    return out
