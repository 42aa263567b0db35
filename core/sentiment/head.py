"""Sentiment head on top of the offline MiniLM encoder.

Two training methods share one serving path (encoder -> mean pooling -> optional L2
normalisation -> linear classifier -> softmax):

- ``method="lora"`` (the shipped head): all-MiniLM-L6-v2 fine-tuned with LoRA adapters
  (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models"; trained with the
  ``peft`` library) on every linear layer of the 6 blocks (query, key, value, attention output,
  intermediate, output; rank ``lora_r``, scale ``lora_alpha / lora_r``) plus a linear classifier
  on mean-pooled token states. The base weights stay the package's (sha256-checked); the
  artifact holds only the adapters (~0.7 M parameters, float32) and the classifier. On load
  the adapters are merged into a copy of the encoder, ``W' = W + (alpha / r) B A`` (the merge of
  the LoRA paper, equal to ``peft``'s ``merge_and_unload``; tested), so serving costs exactly
  what the plain encoder costs and needs no ``peft`` import. AdamW, linear warm-up (10%) and
  decay, bfloat16 autocast where supported; the epoch with the best validation accuracy is kept.
  About 5 min per epoch on 2 CPU cores for the 9,543 Twitter texts.
- ``method="logreg"`` (fast: ~1-2 min on 2 cores): frozen sentence embeddings (mean-pooled,
  L2-normalised as on the model card) and a scikit-learn multinomial ``LogisticRegression``;
  its ``C`` is picked on the validation split. The fitted ``coef_``/``intercept_`` become the
  linear classifier's weights, so ``predict_proba`` equals ``softmax(X @ coef.T + intercept)``.

Input text: :func:`core.sentiment.text.clean_headline` (tweet markup removed) before training
and scoring, recorded as ``text_prep`` in the config.
Sentence embedding and pooling: the all-MiniLM-L6-v2 model card (Reimers & Gurevych 2019).
Classes are :data:`core.sentiment.labels.LABELS` (negative, neutral, positive).
Persistence: ``head.safetensors`` (classifier, and for LoRA the adapter tensors) and
``head_config.json``. No pickle.
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
    DEFAULT_MAX_LENGTH, HIDDEN, MINILM_SHA256, encode, inference_context, inference_precision,
    mean_pool, minilm, serving_encoder, token_batches,
)
from core.sentiment.labels import LABEL_INDEX, LABELS
from core.sentiment.text import clean_headlines

Progress = Callable[[float, str], None]


@dataclass
class HeadConfig:
    """Hyper-parameters of the head (all stored in ``head_config.json``).

    method: ``lora`` (LoRA fine-tuning of the encoder + linear classifier) or ``logreg``
    (frozen embeddings + logistic regression; normalize=True). epochs, batch_size, lr,
    weight_decay, dropout, seed: LoRA training (AdamW, 10% linear warm-up then linear decay).
    lora_r, lora_alpha, lora_dropout: adapter rank, scale numerator, adapter dropout.
    max_length: truncation in word pieces. class_weight: ``balanced`` or ``none``.
    C: inverse regularisation of ``logreg`` (the one chosen on validation). normalize:
    L2-normalise the pooled embedding before the classifier. text_prep: ``clean_headline``
    (:func:`core.sentiment.text.clean_headline` before training and scoring) or ``none``
    (heads saved before the clean-up existed load with ``none``).
    """

    method: str = "lora"
    epochs: int = 4
    batch_size: int = 32
    lr: float = 5e-4
    weight_decay: float = 0.01
    dropout: float = 0.1
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.1
    seed: int = 0
    max_length: int = DEFAULT_MAX_LENGTH
    class_weight: str = "none"
    labels: list[str] = field(default_factory=lambda: list(LABELS))
    base_sha256: str = MINILM_SHA256
    C: float = 1.0
    normalize: bool = False
    text_prep: str = "clean_headline"


#: linear layers that carry LoRA adapters: all six of each of the 6 BERT blocks (module names
#: of transformers' BertModel; a regular expression as peft's ``target_modules`` takes it; the
#: unused pooler is left out)
LORA_TARGETS = (r"encoder\.layer\.\d+\.(attention\.self\.(query|key|value)|attention\.output"
                r"\.dense|intermediate\.dense|output\.dense)")
METHODS = ("lora", "logreg")
TEXT_PREPS = ("clean_headline", "none")


def _torch():
    import torch  # deferred: torch is slow to import

    return torch


def _classifier(cfg: HeadConfig):
    """Mean pooling (+ optional L2 norm) -> dropout -> Linear(384, 3), float32."""
    torch = _torch()

    class Classifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.dropout = torch.nn.Dropout(cfg.dropout)
            self.classifier = torch.nn.Linear(HIDDEN, len(cfg.labels))

        def forward(self, hidden, attention_mask):
            with torch.autocast("cpu", enabled=False):
                pooled = mean_pool(hidden.float(), attention_mask)
                if cfg.normalize:
                    pooled = torch.nn.functional.normalize(pooled, dim=-1)
                return self.classifier(self.dropout(pooled))

    return Classifier()


def merge_lora(model, lora: dict, scale: float):
    """Add LoRA deltas to a BertModel in place: ``W += scale * B @ A`` for every adapter pair.

    ``lora``: tensors named ``<module path>.lora_A.weight`` (r, in) and ``.lora_B.weight``
    (out, r), module paths relative to the BertModel (e.g. ``encoder.layer.0.attention.self.
    query``). Returns the model. Raises ArtifactIntegrityError on an unknown module or shape."""
    torch = _torch()
    modules = dict(model.named_modules())
    with torch.no_grad():
        for key, a in lora.items():
            if not key.endswith(".lora_A.weight"):
                continue
            path = key[: -len(".lora_A.weight")]
            b = lora.get(path + ".lora_B.weight")
            mod = modules.get(path)
            if b is None or mod is None or tuple(mod.weight.shape) != (b.shape[0], a.shape[1]):
                raise ArtifactIntegrityError(f"LoRA adapter {path} does not fit the encoder.")
            mod.weight += scale * (b.float() @ a.float())
    return model


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
        self.encoder_ = None  # None: the package's encoder (logreg); LoRA: a merged copy

    # ----------------------------------------------------------------- training
    def fit(self, texts: list[str], labels: list[str], *, valid: tuple | None = None,
            progress: Progress | None = None) -> "SentimentHead":
        """Train on ``texts``/``labels`` (label strings in LABELS). Returns self.

        Args:
            valid: optional (texts, labels) held-out split: picks the LoRA epoch or the
                logistic regression's ``C`` (``history_`` holds the validation accuracies).
            progress: callback(fraction in [0, 1], message).
        Raises:
            DataValidationError: fewer than 10 texts, unknown labels, unknown method.
        """
        if self.config.method not in METHODS:
            raise DataValidationError(f"Unknown head method {self.config.method!r}; use one "
                                      f"of {METHODS}.")
        if self.config.text_prep not in TEXT_PREPS:
            raise DataValidationError(f"Unknown text_prep {self.config.text_prep!r}; use one "
                                      f"of {TEXT_PREPS}.")
        texts = self._prepare(texts)
        if self.config.method == "logreg":
            return self._fit_logreg(texts, labels, valid=valid, progress=progress)
        return self._fit_lora(texts, labels, valid=valid, progress=progress)

    def _fit_lora(self, texts, labels, *, valid=None, progress=None) -> "SentimentHead":
        import warnings

        # deferred: peft is slow to import
        from peft import LoraConfig, get_peft_model, get_peft_model_state_dict

        torch = _torch()
        cfg = self.config
        y = _label_indices(texts, labels)
        progress = progress or (lambda f, m: None)
        torch.manual_seed(cfg.seed)
        rng = np.random.default_rng(cfg.seed)
        base = minilm()
        encoder = copy.deepcopy(base.model)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            peft_model = get_peft_model(encoder, LoraConfig(
                r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                target_modules=LORA_TARGETS))
        clf = _classifier(cfg)
        params = [p for p in peft_model.parameters() if p.requires_grad] + list(clf.parameters())
        opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        n_batches = math.ceil(len(texts) / cfg.batch_size)
        total = max(1, cfg.epochs * n_batches)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=total,
                                                    pct_start=0.1, anneal_strategy="linear")
        counts = np.bincount(y, minlength=len(LABELS)).astype(float)
        weight = (torch.tensor(len(y) / (len(LABELS) * np.maximum(counts, 1)),
                               dtype=torch.float32) if cfg.class_weight == "balanced" else None)
        loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
        lengths = np.array([len(str(t)) for t in texts], dtype=float)
        self.history_, best, step = [], (-1.0, 0, None), 0
        ctx = torch.autocast("cpu", dtype=torch.bfloat16,
                             enabled=inference_precision() == "bfloat16")
        for epoch in range(cfg.epochs):
            peft_model.train()
            clf.train()
            t0, loss_sum = time.perf_counter(), 0.0
            # similar lengths per batch (less padding), batches in random order
            order = np.argsort(lengths + rng.uniform(0, 30, len(lengths)), kind="stable")
            batches = [order[i:i + cfg.batch_size] for i in range(0, len(order), cfg.batch_size)]
            for k in rng.permutation(len(batches)):
                idx = batches[k]
                tok = base.tokenize([texts[j] for j in idx], cfg.max_length)
                with ctx:
                    hidden = peft_model(**tok).last_hidden_state
                loss = loss_fn(clf(hidden, tok["attention_mask"]), torch.as_tensor(y[idx]))
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                opt.step()
                sched.step()
                loss_sum += float(loss.detach()) * len(idx)
                step += 1
                if step % 10 == 0:
                    progress(0.95 * step / total, f"epoch {epoch + 1}/{cfg.epochs}, "
                             f"{step - epoch * n_batches}/{n_batches} batches")
            rec = {"epoch": epoch + 1, "train_loss": loss_sum / len(y),
                   "seconds": round(time.perf_counter() - t0, 1)}
            state = {k: v.detach().clone().float()
                     for k, v in get_peft_model_state_dict(peft_model).items()}
            state = {_lora_key(k): v for k, v in state.items()}
            state.update({k: v.detach().clone() for k, v in clf.state_dict().items()})
            if valid is not None:
                self._set_lora(state)
                pred = self.predict_proba(list(valid[0])).argmax(1)
                rec["valid_accuracy"] = float(np.mean(pred == _label_indices(*valid)))
            self.history_.append(rec)
            if valid is None or rec["valid_accuracy"] > best[0]:
                best = (rec.get("valid_accuracy", 0.0), epoch + 1, state)
        self.best_epoch_ = best[1]
        self._set_lora(best[2])
        progress(1.0, f"trained (best epoch {self.best_epoch_})")
        return self

    def _set_lora(self, state: dict) -> None:
        """Serving encoder = package encoder + merged adapters; classifier from ``state``."""
        torch = _torch()
        cfg = self.config
        lora = {k[len("lora."):]: v for k, v in state.items() if k.startswith("lora.")}
        enc = merge_lora(copy.deepcopy(minilm().model), lora, cfg.lora_alpha / cfg.lora_r)
        if inference_precision() == "bfloat16":
            enc = enc.to(torch.bfloat16)
        enc.eval()
        clf = _classifier(cfg)
        clf.load_state_dict({k: v for k, v in state.items() if not k.startswith("lora.")})
        clf.eval()
        self.encoder_, self.module_, self.lora_ = enc, clf, lora

    def _fit_logreg(self, texts, labels, *, valid=None, progress=None,
                    Cs=(0.0625, 0.125, 0.25, 0.5, 2.0, 8.0, 32.0)) -> "SentimentHead":
        """Frozen sentence embeddings + multinomial logistic regression (scikit-learn);
        ``C`` from ``Cs`` by validation accuracy (``config.C`` alone without ``valid``)."""
        # deferred: scikit-learn is slow to import
        from sklearn.linear_model import LogisticRegression

        torch = _torch()
        cfg = self.config
        cfg.normalize = True
        y = _label_indices(texts, labels)
        if len(set(y)) < len(LABELS):
            raise DataValidationError("Training data need examples of all three labels.")
        progress = progress or (lambda f, m: None)
        n_all = len(texts) + (len(valid[0]) if valid is not None else 0)
        t0 = time.perf_counter()
        X = encode(list(texts), max_length=cfg.max_length, progress=lambda i, n: progress(
            0.8 * i / n * len(texts) / n_all, f"embedding {len(texts)} training texts"))
        Xv = vy = None
        if valid is not None:
            Xv = encode(self._prepare(valid[0]), max_length=cfg.max_length,
                        progress=lambda i, n: progress(
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
        module = _classifier(cfg)
        with torch.no_grad():
            module.classifier.weight.copy_(torch.as_tensor(lr.coef_, dtype=torch.float32))
            module.classifier.bias.copy_(torch.as_tensor(lr.intercept_, dtype=torch.float32))
        module.eval()
        self.module_ = module
        progress(1.0, f"trained (C={cfg.C:g})")
        return self

    # ----------------------------------------------------------------- inference
    def _prepare(self, texts) -> list[str]:
        """The model's input text: ``config.text_prep`` applied to ``texts`` (list[str])."""
        texts = [str(t) for t in texts]
        return clean_headlines(texts) if self.config.text_prep == "clean_headline" else texts

    def _check(self):
        if not hasattr(self, "module_"):
            raise NotTrainedError("The sentiment head is not trained; call fit() or load the "
                                  "'sentiment-head' artifact (quantdesk train sentiment).")

    def predict_proba(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """P(label) for each text: float64 (n, 3), rows sum to 1, LABELS order.

        Texts pass through ``config.text_prep`` first; they are tokenised once, truncated at
        ``config.max_length`` word pieces, sorted by token count and run in batches of
        ``batch_size`` (little padding), under
        :func:`core.sentiment.encoder.inference_context` (inference mode; bfloat16 weights
        where the CPU supports it)."""
        self._check()
        torch = _torch()
        texts = self._prepare(texts)
        out = np.zeros((len(texts), len(LABELS)), dtype="float64")
        if not texts:
            return out
        base = minilm()
        encoder = self.encoder_ if self.encoder_ is not None else serving_encoder()
        with inference_context():
            for idx, tok in token_batches(base.tokenizer, texts, self.config.max_length,
                                          batch_size):
                hidden = encoder(**tok).last_hidden_state
                logits = self.module_(hidden, tok["attention_mask"])
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
        """``head.safetensors`` (classifier, and ``lora.*`` adapter tensors for LoRA; float32)
        + ``head_config.json``."""
        self._check()
        from safetensors.torch import save

        state = {k: v.detach().float().contiguous() for k, v in self.module_.state_dict().items()}
        state.update({"lora." + k: v.contiguous() for k, v in getattr(self, "lora_", {}).items()})
        return {"head.safetensors": save(state),
                "head_config.json": json.dumps(asdict(self.config), indent=2).encode()}

    @classmethod
    def from_files(cls, files: dict[str, bytes]) -> "SentimentHead":
        """Rebuild from :meth:`to_files` bytes (already sha256-checked by the registry).

        Raises:
            ArtifactIntegrityError: missing file, wrong base encoder, unsupported method, or
                tensor mismatch.
        """
        from safetensors.torch import load

        try:
            raw = json.loads(files["head_config.json"].decode())
            state = load(files["head.safetensors"])
        except (KeyError, ValueError) as err:
            raise ArtifactIntegrityError(f"Sentiment head artifact is incomplete ({err}).") \
                from None
        known = HeadConfig.__dataclass_fields__
        cfg = HeadConfig(**{"text_prep": "none",
                            **{k: v for k, v in raw.items() if k in known}})
        if cfg.base_sha256 != MINILM_SHA256:
            raise ArtifactIntegrityError(
                "This sentiment head was trained on a different MiniLM encoder "
                f"({cfg.base_sha256[:12]}…); retrain it with `quantdesk train sentiment`.")
        if (cfg.method not in METHODS or cfg.text_prep not in TEXT_PREPS
                or raw.get("split", 6) != 6):
            raise ArtifactIntegrityError(
                f"This sentiment head uses an unsupported method ({raw.get('method')!r}, "
                f"split {raw.get('split')}); retrain it with `quantdesk train sentiment`.")
        head = cls(cfg)
        state = {k: v.float() for k, v in state.items()}
        try:
            if cfg.method == "lora":
                head._set_lora(state)
            else:
                module = _classifier(cfg)
                module.load_state_dict(state, strict=True)
                module.eval()
                head.module_ = module
        except RuntimeError as err:
            raise ArtifactIntegrityError(f"Sentiment head tensors do not fit the model: "
                                         f"{str(err)[:200]}") from None
        head.history_ = raw.get("history", [])
        return head


def _lora_key(peft_key: str) -> str:
    """peft state-dict key -> ``lora.<module path in the BertModel>.lora_X.weight``."""
    k = peft_key.removeprefix("base_model.model.")
    return "lora." + k


def n_parameters(head: SentimentHead) -> int:
    """Trained parameters of a fitted head (classifier + LoRA adapters)."""
    head._check()
    return int(sum(math.prod(p.shape) for p in head.module_.parameters())
               + sum(math.prod(v.shape) for v in getattr(head, "lora_", {}).values()))
