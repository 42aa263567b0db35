"""Sentiment head on top of the offline MiniLM encoder.

Two training methods share one serving path (``TopHead``: optional top layers, mean pooling,
optional L2 normalisation, linear classifier, softmax):

- ``method="logreg"`` (default, fast: ~1-2 min on 2 cores): frozen all-MiniLM-L6-v2 sentence
  embeddings (all 6 layers, mean-pooled, L2-normalised as on the model card) and a
  scikit-learn multinomial ``LogisticRegression``; its ``C`` is picked on the validation
  split. The fitted ``coef_``/``intercept_`` become the linear classifier's weights, so
  ``predict_proba`` equals the logistic regression's ``softmax(X @ coef.T + intercept)``.
- ``method="finetune"``: all-MiniLM-L6-v2's first ``split`` layers stay frozen (package
weights, sha256-checked); copies of the remaining ``6 - split`` layers are fine-tuned with a
linear classifier on mean-pooled token states (Sun et al. 2019, "How to fine-tune BERT for
text classification?", layer-wise fine-tuning; Howard & Ruder 2018 for discriminative rates).
Because the lower layers are frozen, their outputs are computed once per training text and
cached, so an epoch only runs the top layers (tens of minutes on 2 CPU cores).

Logistic regression: scikit-learn ``LogisticRegression`` (lbfgs, multinomial); sentence
embedding and pooling: the all-MiniLM-L6-v2 model card (Reimers & Gurevych 2019).

Classes are :data:`core.sentiment.labels.LABELS` (negative, neutral, positive).
Persistence: ``head.safetensors`` (top-layer + classifier tensors; fine-tuned layers float16
to keep the artifact small, upcast to float32 on load) and ``head_config.json``. No pickle.
"""

from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np

from core.errors import ArtifactIntegrityError, DataValidationError, NotTrainedError
from core.sentiment.encoder import (
    DEFAULT_MAX_LENGTH, HIDDEN, MINILM_SHA256, N_LAYERS, embed, inference_context,
    length_batches, mean_pool, minilm, minilm_int8, run_layer,
)
from core.sentiment.labels import LABEL_INDEX, LABELS

Progress = Callable[[float, str], None]


@dataclass
class HeadConfig:
    """Hyper-parameters of the head (all stored in ``head_config.json``).

    split: frozen lower layers (0..6); 6 means a linear head on frozen embeddings.
    epochs, batch_size, lr_layers, lr_head, weight_decay, dropout, seed: training (AdamW,
    linear decay after 6% warm-up). max_length: truncation in word pieces.
    class_weight: ``balanced`` (inverse class frequency) or ``none``.
    method: ``logreg`` (frozen embeddings + logistic regression; forces split=6,
    normalize=True) or ``finetune``. C: inverse regularisation of ``logreg`` (the one chosen
    on validation). normalize: L2-normalise the pooled embedding before the classifier.
    """

    split: int = 4
    epochs: int = 6
    batch_size: int = 32
    lr_layers: float = 2e-4
    lr_head: float = 3e-3
    weight_decay: float = 0.01
    dropout: float = 0.1
    seed: int = 0
    max_length: int = DEFAULT_MAX_LENGTH
    class_weight: str = "none"
    labels: list[str] = field(default_factory=lambda: list(LABELS))
    base_sha256: str = MINILM_SHA256
    method: str = "finetune"
    C: float = 1.0
    normalize: bool = False


def _torch():
    import torch

    return torch


class _Top:
    """torch module factory (kept out of import time so ``import core.sentiment`` is light)."""

    @staticmethod
    def build(cfg: HeadConfig):
        torch = _torch()
        base = minilm()

        class TopHead(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = torch.nn.ModuleList(
                    copy.deepcopy(layer) for layer in base.layers[cfg.split:])
                self.dropout = torch.nn.Dropout(cfg.dropout)
                self.classifier = torch.nn.Linear(HIDDEN, len(cfg.labels))

            def forward(self, hidden, attention_mask):
                add = base.additive_mask(attention_mask)
                for layer in self.layers:
                    hidden = run_layer(layer, hidden, add)
                with torch.autocast("cpu", enabled=False):  # pooling + classifier in fp32
                    pooled = mean_pool(hidden.float(), attention_mask)
                    if cfg.normalize:
                        pooled = torch.nn.functional.normalize(pooled, dim=-1)
                    return self.classifier(self.dropout(pooled))

        return TopHead()



def _label_indices(texts, labels) -> np.ndarray:
    """Label names -> class indices (int array). Raises DataValidationError on fewer than
    10 texts, unequal lengths, or an unknown label."""
    if len(texts) != len(labels) or len(texts) < 10:
        raise DataValidationError("Need at least 10 labelled texts (texts and labels of "
                                  "equal length) to train the sentiment head.")
    unknown = set(labels) - set(LABELS)
    if unknown:
        raise DataValidationError(f"Unknown labels {sorted(unknown)}; use {LABELS}.")
    return np.array([LABEL_INDEX[v] for v in labels])

class SentimentHead:
    """Classifier ``text -> P(negative, neutral, positive)`` (scikit-learn style).

    ``fit(texts, labels)`` returns self; ``predict_proba(texts)`` -> float64 (n, 3) in
    :data:`LABELS` order; ``score(texts)`` -> P(positive) - P(negative) in [-1, 1];
    ``predict`` -> label strings. Learned: ``module_``, ``history_``.

    Raises:
        NotTrainedError: predict before fit/load. DataValidationError: bad training data.
    """

    name = "minilm"
    title = "MiniLM head (offline)"

    def __init__(self, config: HeadConfig | None = None) -> None:
        self.config = config or HeadConfig()
        self.int8 = False

    def to_int8(self) -> "SentimentHead":
        """A copy whose encoder and head use dynamic int8 Linear layers (faster on CPU)."""
        self._check()
        import warnings

        from torch.ao.quantization import quantize_dynamic

        torch = _torch()
        out = SentimentHead(self.config)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out.module_ = quantize_dynamic(copy.deepcopy(self.module_), {torch.nn.Linear},
                                           dtype=torch.qint8)
            minilm_int8()
        out.history_ = getattr(self, "history_", [])
        out.int8 = True
        return out

    # ----------------------------------------------------------------- training
    def fit(self, texts: list[str], labels: list[str], *, valid: tuple | None = None,
            progress: Progress | None = None) -> "SentimentHead":
        """Fine-tune on ``texts``/``labels`` (label strings in LABELS).

        Args:
            valid: optional (texts, labels): accuracy after each epoch goes into
                ``history_`` and the weights of the best epoch are kept (early stopping on
                this held-out split; ``best_epoch_``).
            progress: callback(fraction in [0, 1], message).
        """
        torch = _torch()
        cfg = self.config
        if cfg.method == "logreg":
            return self._fit_logreg(texts, labels, valid=valid, progress=progress)
        if not 0 <= cfg.split <= N_LAYERS:
            raise DataValidationError("split must be between 0 and 6")
        y = _label_indices(texts, labels)
        progress = progress or (lambda f, m: None)
        torch.manual_seed(cfg.seed)
        rng = np.random.default_rng(cfg.seed)
        base = minilm()
        module = _Top.build(cfg)
        # cache frozen lower-layer states per length-sorted batch
        progress(0.0, "encoding with the frozen lower layers")
        batches = []
        idx_batches = length_batches(texts, cfg.batch_size)
        for i, idx in enumerate(idx_batches):
            tok = base.tokenize([texts[j] for j in idx], cfg.max_length)
            batches.append((base.lower(tok, cfg.split), tok["attention_mask"],
                            torch.as_tensor(y[idx])))
            if i % 20 == 0:
                progress(0.25 * i / len(idx_batches), f"encoded {i * cfg.batch_size} texts")
        vbatches = []
        if valid is not None:
            vy = np.array([LABEL_INDEX[v] for v in valid[1]])
            for idx in length_batches(list(valid[0]), 64):
                tok = base.tokenize([valid[0][j] for j in idx], cfg.max_length)
                vbatches.append((base.lower(tok, cfg.split), tok["attention_mask"], vy[idx]))
        counts = np.bincount(y, minlength=len(LABELS)).astype(float)
        weight = None
        if cfg.class_weight == "balanced":
            weight = torch.tensor(len(y) / (len(LABELS) * np.maximum(counts, 1)),
                                  dtype=torch.float32)
        loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
        groups = [{"params": module.classifier.parameters(), "lr": cfg.lr_head}]
        if len(module.layers):
            groups.append({"params": module.layers.parameters(), "lr": cfg.lr_layers})
        opt = torch.optim.AdamW(groups, weight_decay=cfg.weight_decay)
        total = max(1, cfg.epochs * len(batches))
        warm = max(1, int(0.06 * total))
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
        self.module_ = module
        self.history_ = []
        step = 0
        best = (-1.0, 0, None)
        for epoch in range(cfg.epochs):
            module.train()
            t0, loss_sum = time.perf_counter(), 0.0
            for b in rng.permutation(len(batches)):
                h, mask, yb = batches[b]
                loss = loss_fn(module(h, mask), yb)
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(module.parameters(), 1.0)
                opt.step()
                sched.step()
                loss_sum += float(loss.detach()) * len(yb)
                step += 1
                if step % 20 == 0:
                    progress(0.25 + 0.75 * step / total, f"epoch {epoch + 1}/{cfg.epochs}")
            module.eval()
            rec = {"epoch": epoch + 1, "train_loss": loss_sum / len(y),
                   "seconds": round(time.perf_counter() - t0, 1)}
            if vbatches:
                with torch.inference_mode():
                    hits = sum(int((module(h, m).argmax(-1).numpy() == yv).sum())
                               for h, m, yv in vbatches)
                rec["valid_accuracy"] = hits / len(valid[0])
                if rec["valid_accuracy"] > best[0]:
                    best = (rec["valid_accuracy"], epoch + 1,
                            {k: v.detach().clone() for k, v in module.state_dict().items()})
            self.history_.append(rec)
        if best[2] is not None:
            module.load_state_dict(best[2])
            self.best_epoch_ = best[1]
        else:
            self.best_epoch_ = cfg.epochs
        module.eval()
        progress(1.0, "trained")
        return self

    def _fit_logreg(self, texts, labels, *, valid=None, progress=None,
                    Cs=(0.0625, 0.125, 0.25, 0.5, 2.0, 8.0, 32.0)) -> "SentimentHead":
        """Frozen sentence embeddings + multinomial logistic regression (scikit-learn);
        ``C`` from ``Cs`` by validation accuracy (``config.C`` alone without ``valid``)."""
        from sklearn.linear_model import LogisticRegression

        torch = _torch()
        cfg = self.config
        cfg.split, cfg.normalize = N_LAYERS, True
        y = _label_indices(texts, labels)
        if len(set(y)) < len(LABELS):
            raise DataValidationError("Training data need examples of all three labels.")
        progress = progress or (lambda f, m: None)
        n_all = len(texts) + (len(valid[0]) if valid is not None else 0)
        t0 = time.perf_counter()
        X = embed(list(texts), max_length=cfg.max_length, progress=lambda i, n: progress(
            0.8 * i / n * len(texts) / n_all, f"embedding {len(texts)} training texts"))
        Xv = vy = None
        if valid is not None:
            Xv = embed(list(valid[0]), max_length=cfg.max_length, progress=lambda i, n: progress(
                0.8 * (len(texts) + i / n * len(valid[0])) / n_all, "embedding validation"))
            vy = np.array([LABEL_INDEX[v] for v in valid[1]])
        enc_s = time.perf_counter() - t0
        weight = "balanced" if cfg.class_weight == "balanced" else None
        self.history_, best = [], None
        for k, C in enumerate(Cs if valid is not None else (cfg.C,)):
            t1 = time.perf_counter()
            lr = LogisticRegression(C=C, max_iter=3000, class_weight=weight).fit(X, y)
            rec = {"C": C, "train_accuracy": float((lr.predict(X) == y).mean()),
                   "seconds": round(time.perf_counter() - t1, 1)}
            if valid is not None:
                rec["valid_accuracy"] = float((lr.predict(Xv) == vy).mean())
            self.history_.append(rec)
            if best is None or rec.get("valid_accuracy", 0) > best[0].get("valid_accuracy", 0):
                best = (rec, lr)
            progress(0.8 + 0.2 * (k + 1) / len(Cs), f"logistic regression C={C:g}")
        rec, lr = best
        cfg.C = rec["C"]
        self.best_epoch_ = None
        self.encode_seconds_ = round(enc_s, 1)
        module = _Top.build(cfg)
        with torch.no_grad():
            module.classifier.weight.copy_(torch.as_tensor(lr.coef_, dtype=torch.float32))
            module.classifier.bias.copy_(torch.as_tensor(lr.intercept_, dtype=torch.float32))
        module.eval()
        self.module_ = module
        progress(1.0, f"trained (C={cfg.C:g})")
        return self

    # ----------------------------------------------------------------- inference
    def _check(self):
        if not hasattr(self, "module_"):
            raise NotTrainedError("The sentiment head is not trained; call fit() or load the "
                                  "'sentiment-head' artifact (quantdesk train sentiment).")

    def predict_proba(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """P(label) for each text: float64 (n, 3), rows sum to 1, LABELS order.

        Batched (``batch_size`` texts, sorted by length to cut padding), truncated at
        ``config.max_length`` word pieces, run under
        :func:`core.sentiment.encoder.inference_context` (inference mode; bfloat16 autocast
        where the CPU supports it)."""
        self._check()
        torch = _torch()
        texts = [str(t) for t in texts]
        out = np.zeros((len(texts), len(LABELS)), dtype="float64")
        if not texts:
            return out
        base = minilm_int8() if self.int8 else minilm()
        with inference_context(allow_bf16=not self.int8):
            for idx in length_batches(texts, batch_size):
                tok = base.tokenize([texts[j] for j in idx], self.config.max_length)
                h = base.lower(tok, self.config.split)
                logits = self.module_(h, tok["attention_mask"])
                out[idx] = torch.softmax(logits.float(), -1).numpy()
        return out

    def score(self, texts: list[str]) -> np.ndarray:
        """P(positive) - P(negative): float64 (n,) in [-1, 1]."""
        p = self.predict_proba(texts)
        return p[:, LABEL_INDEX["positive"]] - p[:, LABEL_INDEX["negative"]]

    def predict(self, texts: list[str]) -> np.ndarray:
        """Most probable label per text: ndarray of str (n,)."""
        return np.array(LABELS, dtype=object)[self.predict_proba(texts).argmax(1)]

    # ----------------------------------------------------------------- persistence
    def to_files(self) -> dict[str, bytes]:
        """``head.safetensors`` (fine-tuned layers as float16; a logistic-regression head's
        1,155 weights as float32) + ``head_config.json``."""
        self._check()
        from safetensors.torch import save

        dtype = _torch().float32 if self.config.method == "logreg" else _torch().float16
        state = {k: v.detach().to(dtype).contiguous()
                 for k, v in self.module_.state_dict().items()}
        return {"head.safetensors": save(state),
                "head_config.json": json.dumps(asdict(self.config), indent=2).encode()}

    @classmethod
    def from_files(cls, files: dict[str, bytes]) -> "SentimentHead":
        """Rebuild from :meth:`to_files` bytes (already sha256-checked by the registry).

        Raises:
            ArtifactIntegrityError: missing file, wrong base encoder, or tensor mismatch.
        """
        from safetensors.torch import load

        try:
            raw = json.loads(files["head_config.json"].decode())
            state = load(files["head.safetensors"])
        except (KeyError, ValueError) as err:
            raise ArtifactIntegrityError(f"Sentiment head artifact is incomplete ({err}).") \
                from None
        known = HeadConfig.__dataclass_fields__
        cfg = HeadConfig(**{k: v for k, v in raw.items() if k in known})
        if cfg.base_sha256 != MINILM_SHA256:
            raise ArtifactIntegrityError(
                "This sentiment head was trained on a different MiniLM encoder "
                f"({cfg.base_sha256[:12]}…); retrain it with `quantdesk train sentiment`.")
        head = cls(cfg)
        module = _Top.build(cfg)
        state = {k: v.float() for k, v in state.items()}
        try:
            module.load_state_dict(state, strict=True)
        except RuntimeError as err:
            raise ArtifactIntegrityError(f"Sentiment head tensors do not fit the model: "
                                         f"{str(err)[:200]}") from None
        module.eval()
        head.module_ = module
        head.history_ = raw.get("history", [])
        return head


def n_parameters(head: SentimentHead) -> int:
    """Trainable parameters of a fitted head."""
    head._check()
    return int(sum(math.prod(p.shape) for p in head.module_.parameters()))
