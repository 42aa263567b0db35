"""FinBERT (Araci 2019, arXiv:1908.10063) through ``transformers``, strictly optional.

Where the model comes from, in order:
1. ``model`` is an existing local directory -> load it (``local_files_only=True``).
2. ``model`` is a hub id (default ``ProsusAI/finbert``) already in the Hugging Face cache ->
   load it from the cache without touching the network.
3. Downloads allowed (not ``HF_HUB_OFFLINE=1``, not ``QUANTDESK_OFFLINE``) and the hub
   answers a 1-second TCP probe -> ``snapshot_download`` with progress messages.
4. Otherwise :class:`ModelUnavailableError` at once (well under a second; no retries).

Inference: CPU, batches of ``batch_size`` length-sorted texts, truncation to ``max_length``
word pieces (default 128, ~90 words; FinBERT was trained on sentences of that size; the tail of
a longer text is ignored). Score = P(positive) - P(negative) in [-1, 1]; the class names
are read from the model's ``id2label`` (ProsusAI: 0 positive, 1 negative, 2 neutral).

Caveat: the public ProsusAI/finbert checkpoint was fine-tuned on Financial PhraseBank, so its
accuracy on PhraseBank is not a held-out result.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from typing import Callable

import numpy as np

from core.config import get_settings
from core.errors import ModelUnavailableError
from core.sentiment.encoder import length_batches
from core.sentiment.labels import LABELS, LABEL_INDEX

DEFAULT_FINBERT = "ProsusAI/finbert"
HUB_HOST = ("huggingface.co", 443)
_LOCK = threading.Lock()
_CACHE: dict[tuple, "FinBertScorer"] = {}
_FAILED: dict[tuple, str] = {}


def _offline() -> bool:

    env = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")
    return env or bool(get_settings().offline)


def _hub_reachable(timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection(HUB_HOST, timeout=timeout):
            return True
    except OSError:
        return False


def resolve_finbert(model: str = DEFAULT_FINBERT,
                    progress: Callable[[str], None] | None = None,
                    allow_download: bool = True) -> Path:
    """Local folder holding ``model`` (see module doc for the order of places tried;
    ``allow_download=False`` stops after the cache).

    Raises:
        ModelUnavailableError: not local, not cached and no download possible (says why).
    """
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelUnavailableError(f"{path} has no config.json; it is not a saved "
                                        "transformers model folder.")
        return path
    if model.startswith((".", "/", "~")):
        raise ModelUnavailableError(f"FinBERT folder {model} does not exist.")
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(model, "config.json")
    if isinstance(cached, str):
        return Path(cached).parent
    if not allow_download:
        raise ModelUnavailableError(
            f"FinBERT ({model}) is not on this machine (no local folder, not in the Hugging "
            "Face cache); downloading it (~440 MB, once) was not requested.")
    if _offline():
        raise ModelUnavailableError(
            f"FinBERT ({model}) is not in the Hugging Face cache and downloads are off "
            "(offline mode). Put a saved model folder on disk and set its path, or go online "
            "once to download it.")
    if not _hub_reachable():
        raise ModelUnavailableError(
            f"FinBERT ({model}) is not cached and huggingface.co cannot be reached (no "
            "network). It will be used once downloaded or given as a local folder.")
    from huggingface_hub import snapshot_download

    if progress:
        progress(f"Downloading {model} from the Hugging Face hub (~440 MB, once)…")
    try:
        return Path(snapshot_download(
            model, allow_patterns=["*.json", "*.txt", "*.safetensors"], etag_timeout=5))
    except Exception as err:  # hub/network errors come in many types
        raise ModelUnavailableError(f"Downloading {model} failed: {str(err)[:200]}") from None


class FinBertScorer:
    """A loaded FinBERT-style sequence classifier. ``score(texts)`` -> float64 (n,) in
    [-1, 1]; ``predict_proba(texts)`` -> float64 (n, 3) in LABELS order.

    Raises (constructor): ModelUnavailableError when it cannot be resolved or its labels are
    not negative/neutral/positive.
    """
    name = "finbert"
    title = "FinBERT"

    def __init__(self, model: str = DEFAULT_FINBERT, *, batch_size: int = 16,
                 max_length: int = 128, progress: Callable[[str], None] | None = None,
                 allow_download: bool = True) -> None:
        path = resolve_finbert(model, progress, allow_download)
        # deferred: transformers is slow to import
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
            self.model = AutoModelForSequenceClassification.from_pretrained(
                str(path), local_files_only=True)
        except (OSError, ValueError) as err:
            raise ModelUnavailableError(f"Could not load {model}: {str(err)[:200]}") from None
        self.model.eval()
        names = {int(i): str(n).lower() for i, n in self.model.config.id2label.items()}
        if sorted(names.values()) != sorted(LABELS):
            raise ModelUnavailableError(
                f"{model} has labels {list(names.values())}; FinBERT scoring needs "
                "negative/neutral/positive.")
        self._order = [next(i for i, n in names.items() if n == lab) for lab in LABELS]
        self.source = str(path)
        self.model_id = model
        self.batch_size = batch_size
        self.max_length = max_length

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        import torch  # deferred: torch is slow to import

        texts = [str(t) for t in texts]
        out = np.zeros((len(texts), 3), dtype="float64")
        with torch.inference_mode():
            for idx in length_batches(texts, self.batch_size):
                tok = self.tokenizer([texts[j] for j in idx], padding=True, truncation=True,
                                     max_length=self.max_length, return_tensors="pt")
                p = torch.softmax(self.model(**tok).logits.float(), -1).numpy()
                out[idx] = p[:, self._order]
        return out

    def score(self, texts: list[str]) -> np.ndarray:
        p = self.predict_proba(texts)
        return p[:, LABEL_INDEX["positive"]] - p[:, LABEL_INDEX["negative"]]


def finbert(model: str | None = None, progress: Callable[[str], None] | None = None,
            allow_download: bool = True) -> FinBertScorer:
    """Process-wide FinBERT for ``model`` (default ``QUANTDESK_FINBERT_MODEL`` env var or
    ``ProsusAI/finbert``). A failure is remembered for the process, so a page rerun does not
    retry the network; :func:`reset_finbert` forgets it.

    Raises:
        ModelUnavailableError: see :func:`resolve_finbert`.
    """
    model = model or os.environ.get("QUANTDESK_FINBERT_MODEL") or DEFAULT_FINBERT
    key = (model, _offline(), allow_download)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
        if key in _FAILED:
            raise ModelUnavailableError(_FAILED[key])
        try:
            _CACHE[key] = FinBertScorer(model, progress=progress,
                                        allow_download=allow_download)
        except ModelUnavailableError as err:
            _FAILED[key] = str(err)
            raise
        return _CACHE[key]


def reset_finbert() -> None:
    """Forget loaded models and remembered failures (e.g. after going online)."""
    with _LOCK:
        _CACHE.clear()
        _FAILED.clear()
