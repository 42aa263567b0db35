"""Trainer of the ``sentiment-head`` family: MiniLM head + fitted ensemble weights.

Default (the ``core.training.FAMILIES`` path, admin retrain, and the shipped head):
``method="lora"``, LoRA fine-tuning of MiniLM for 4 epochs, best epoch on validation (about
18-20 minutes on 2 cores). ``quantdesk train sentiment --method logreg`` is the fast
alternative (frozen embeddings + logistic regression, 1-2 minutes).

Data: the Twitter Financial News Sentiment set (zeroshot, MIT) from
``../shared/data/twitter_financial_news_sentiment`` (train = ``sent_train.csv``, ensemble
weights and validation = ``sent_valid.csv``), or any labelled ``text,label`` CSV (split 80/20,
stratified, seeded). Financial PhraseBank is never used for fitting; when present it is only
*evaluated* after training and the numbers are stored in the metadata for the page.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import numpy as np

from core.config import PROJECT_ROOT
from core.errors import DataValidationError, QuantdeskError
from core.registry import save_artifact
from core.sentiment import lexicon
from core.sentiment.datasets import LabelledText, class_counts, parse_labelled_csv, parse_phrasebank
from core.sentiment.encoder import MINILM_PACKAGE, MINILM_SHA256
from core.sentiment.ensemble import Ensemble
from core.sentiment.evaluate import evaluate
from core.sentiment.finbert import finbert as load_finbert
from core.sentiment.head import HeadConfig, SentimentHead, n_parameters
from core.sentiment.metrics import classification_report
from core.sentiment.scorers import FAMILY, ScorerSet, clear_cache, scorer_inputs

#: ``../shared`` beside the repository (override with QUANTDESK_SHARED_DIR, e.g. in a worktree)
SHARED_DATA = Path(os.environ.get("QUANTDESK_SHARED_DIR") or PROJECT_ROOT.parent / "shared") \
    / "data"
TWITTER_DIR = SHARED_DATA / "twitter_financial_news_sentiment"
PHRASEBANK_DIR = SHARED_DATA / "financial_phrasebank"
TWITTER_SOURCE = ("zeroshot/twitter-financial-news-sentiment v1.0.0 (MIT); labels 0 Bearish->"
                  "negative, 1 Bullish->positive, 2 Neutral->neutral")

Progress = Callable[[float, str], None]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _stratified_split(ds: LabelledText, frac: float = 0.2, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = np.asarray(ds.labels)
    valid = np.zeros(len(y), bool)
    for lab in np.unique(y):
        idx = np.flatnonzero(y == lab)
        valid[rng.choice(idx, max(1, int(round(frac * len(idx)))), replace=False)] = True
    f = ds.frame
    return (LabelledText(f[~valid].reset_index(drop=True), ds.name + "-train", "csv", []),
            LabelledText(f[valid].reset_index(drop=True), ds.name + "-valid", "csv", []))


def training_data(csv: str | Path | None = None, valid_csv: str | Path | None = None):
    """(train, valid, provenance dict).

    Raises:
        DataValidationError: no CSV given and the shared Twitter set is absent (the message
            says what to provide).
    """
    if csv is None:
        tr_path, va_path = TWITTER_DIR / "sent_train.csv", TWITTER_DIR / "sent_valid.csv"
        if not tr_path.is_file() or not va_path.is_file():
            raise DataValidationError(
                f"Training data not found at {TWITTER_DIR}. Provide a labelled CSV with "
                "columns text,label (labels negative/neutral/positive, -1/0/1, or the Twitter "
                "set's 0 Bearish/1 Bullish/2 Neutral): `quantdesk train sentiment --csv PATH`.")
        csv, valid_csv, source = tr_path, va_path, TWITTER_SOURCE
    else:
        source = f"user CSV {Path(csv).name}"
    train = parse_labelled_csv(csv, label_scheme="twitter" if source == TWITTER_SOURCE
                               else "auto")
    files = {Path(csv).name: _sha(Path(csv).read_bytes())}
    if valid_csv is not None:
        valid = parse_labelled_csv(valid_csv, label_scheme="twitter" if source ==
                                   TWITTER_SOURCE else "auto")
        files[Path(valid_csv).name] = _sha(Path(valid_csv).read_bytes())
    else:
        train, valid = _stratified_split(train)
    if len(train.frame) < 30 or len(valid.frame) < 15:
        raise DataValidationError("Need at least ~50 labelled texts to train the head.")
    for part in (train, valid):
        if min(class_counts(part.labels).values()) == 0:
            raise DataValidationError(f"{part.name} lacks one of the labels negative/neutral/"
                                      "positive; every class needs examples.")
    prov = {"source": source, "files_sha256": files,
            "train_rows": len(train.frame), "valid_rows": len(valid.frame),
            "train_class_counts": class_counts(train.labels),
            "valid_class_counts": class_counts(valid.labels)}
    return train, valid, prov


def _scorer_set(head: SentimentHead, finbert: bool) -> ScorerSet:

    s = ScorerSet(scorers={"minilm": head, "vader": lexicon.vader(), "lm": lexicon.lm()})
    if finbert:

        try:
            s.scorers["finbert"] = load_finbert()
        except QuantdeskError:
            pass
    return s


def _cv_ensemble_accuracy(scores, labels, folds: int = 5, seed: int = 0) -> dict:
    """Out-of-fold report of the ensemble on the rows it is fitted on: subset selection and
    stacker weights are refitted inside each training fold (nested), so the held-out fold
    never informs either."""
    y = np.asarray(labels)
    rng = np.random.default_rng(seed)
    fold = rng.integers(0, folds, len(y))
    pred = np.empty(len(y), dtype=object)
    for k in range(folds):
        tr, te = fold != k, fold == k
        ens = Ensemble().fit({n: v[tr] for n, v in scores.items()}, y[tr])
        pred[te] = ens.combine({n: v[te] for n, v in scores.items()}).label
    return classification_report(y, pred)


class _Memo:
    """Scorer proxy that remembers results per text (PhraseBank AllAgree is a subset of
    50Agree, so each sentence is scored once)."""
    def __init__(self, scorer):
        self._s, self._p, self._v = scorer, {}, {}
        self.name = getattr(scorer, "name", "")
        if hasattr(scorer, "predict_proba"):
            self.predict_proba = self._proba

    def _proba(self, texts):
        todo = list(dict.fromkeys(t for t in texts if t not in self._p))
        if todo:
            self._p.update(zip(todo, self._s.predict_proba(todo)))
        return np.array([self._p[t] for t in texts])

    def score(self, texts):
        if hasattr(self, "predict_proba"):
            p = self._proba(texts)
            return p[:, 2] - p[:, 0]  # P(positive) - P(negative), LABELS order
        todo = list(dict.fromkeys(t for t in texts if t not in self._v))
        if todo:
            self._v.update(zip(todo, self._s.score(todo)))
        return np.array([self._v[t] for t in texts], dtype="float64")


def train(progress: Progress | None = None, *, csv: str | Path | None = None,
          valid_csv: str | Path | None = None, config: HeadConfig | None = None,
          finbert: bool = False, evaluate_phrasebank: bool = True, models_dir=None):
    """Train the MiniLM head and fit the ensemble; write a new ``sentiment-head`` version.

    Args:
        progress: callback(fraction, message). csv/valid_csv: labelled CSVs (default: the
            shared Twitter set). config: head hyper-parameters. finbert: also fit ensemble
            weights that include FinBERT when it can be loaded. evaluate_phrasebank: score
            the PhraseBank files when ``../shared`` has them (evaluation only).
    Returns:
        core.registry.Artifact (files head.safetensors, head_config.json, ensemble.json).
    Raises:
        DataValidationError: missing/bad data. ModelUnavailableError: no MiniLM package.
    """
    progress = progress or (lambda f, m: None)
    t0 = time.perf_counter()
    train_ds, valid_ds, prov = training_data(csv, valid_csv)
    cfg = config or HeadConfig()
    head = SentimentHead(cfg).fit(
        train_ds.texts, train_ds.labels, valid=(valid_ds.texts, valid_ds.labels),
        progress=lambda f, m: progress(0.7 * f, f"head: {m}"))
    return finalize(head, valid_ds, prov, progress=progress, finbert=finbert,
                    evaluate_phrasebank=evaluate_phrasebank, models_dir=models_dir,
                    started=t0)


def finalize(head: SentimentHead, valid_ds: LabelledText, prov: dict, *,
             progress: Progress | None = None, finbert: bool = False,
             evaluate_phrasebank: bool = True, models_dir=None, started: float | None = None):
    """Fit the ensemble on ``valid_ds`` for a fitted ``head``, evaluate, save the artifact."""
    progress = progress or (lambda f, m: None)
    started = started or time.perf_counter()
    progress(0.7, "fitting ensemble weights on the validation split")
    scorers = _scorer_set(head, finbert)
    scorers.scorers = {n: _Memo(s) for n, s in scorers.scorers.items()}
    scores = scorer_inputs(valid_ds.texts, scorers)
    ens = Ensemble().fit(scores, valid_ds.labels)
    scorers.ensemble = ens
    valid_eval = evaluate(valid_ds, scorers)
    cv = _cv_ensemble_accuracy(scores, valid_ds.labels)
    for row in valid_eval["rows"]:
        if row["model"] == "ensemble":
            row.update({k: cv[k] for k in ("accuracy", "accuracy_ci95", "macro_f1", "f1",
                                           "confusion")})
            row["title"] += " [5-fold out-of-fold]"
    cfg = head.config
    metadata = {
        "kind": "sentiment classifier (3 classes) + stacked ensemble",
        "labels": ["negative", "neutral", "positive"],
        "base_model": {"name": "sentence-transformers/all-MiniLM-L6-v2",
                       "package": f"{MINILM_PACKAGE}==0.1.0",
                       "model_safetensors_sha256": MINILM_SHA256},
        "head": {**asdict(cfg), "trainable_parameters": n_parameters(head),
                 "history": getattr(head, "history_", []),
                 "best_epoch": getattr(head, "best_epoch_", None),
                 "encode_seconds": getattr(head, "encode_seconds_", None),
                 "selection": ("C with the best accuracy on the validation split"
                               if cfg.method == "logreg" else
                               "epoch with the best accuracy on the validation split")},
        "training_data": prov,
        "ensemble": {"fitted_on": "validation split (not trained on by the head; it chose "
                                  "the head's " + ("C" if cfg.method == "logreg" else
                                                   "best epoch") + ")",
                     "weights": {k: s.weights() for k, s in ens.stackers.items()},
                     "oof_accuracy": {k: s.oof_accuracy for k, s in ens.stackers.items()},
                     "serves_with_all_scorers": ens.choose(scores).key},
        "metrics": {"valid": _compact(valid_eval)},
    }
    if evaluate_phrasebank and PHRASEBANK_DIR.is_dir():
        fpb = {}
        for i, name in enumerate(("50Agree", "AllAgree")):
            path = PHRASEBANK_DIR / f"Sentences_{name}.txt"
            if path.is_file():
                progress(0.8 + 0.1 * i, f"evaluating on PhraseBank {name} (evaluation only)")
                fpb[name] = _compact(evaluate(parse_phrasebank(path), scorers))
        metadata["metrics"]["phrasebank_evaluation_only"] = fpb
    metadata["train_seconds"] = round(time.perf_counter() - started, 1)
    files = head.to_files()
    files["ensemble.json"] = json.dumps(ens.to_dict()).encode()
    art = save_artifact(FAMILY, files, metadata, models_dir=models_dir)

    clear_cache()
    progress(1.0, f"saved {FAMILY} {art.version}")
    return art


def _compact(result: dict) -> dict:
    """Evaluation result without timing noise, for metadata."""
    return {"dataset": result["dataset"], "n": result["n"],
            "class_counts": result["class_counts"],
            "rows": [{k: r[k] for k in ("model", "title", "accuracy", "accuracy_ci95",
                                        "macro_f1", "confusion") if k in r}
                     for r in result["rows"]]}
