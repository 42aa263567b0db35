"""Model artifacts on disk, without pickle, integrity-checked before any deserialiser runs.

Layout::

    models/<family>/<version>/<file>...        native formats only (XGBoost JSON, LightGBM
    models/<family>/<version>/metadata.json    text, safetensors, skops, plain JSON)

``metadata.json`` records the sha256 of every file, the creation time (UTC), the library
versions, and whatever the trainer adds (features, metrics, data hash, params). Loading
returns the *bytes* of each file only after its sha256 matches; callers deserialise from
those bytes (``xgb.Booster().load_model(bytearray(b))``, ``lgb.Booster(model_str=...)``,
safetensors' ``load`` on the bytes, ``skops.io.loads(b, trusted=[...])``, ``json.loads(b)``), so a
tampered file never reaches a parser.

Which version is *active* is decided by the store (``core.store.ops``: promote, rollback,
disable); :func:`core.serving.load_active` combines the two. This module knows only the disk.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import shutil
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path

from core.config import get_settings
from core.errors import ArtifactIntegrityError, NotTrainedError

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
FORBIDDEN_SUFFIXES = (".pkl", ".pickle", ".joblib", ".pt", ".pth")  # pt/pth: use safetensors
TRACKED_LIBS = ("numpy", "pandas", "scikit-learn", "xgboost-cpu", "lightgbm", "torch",
                "safetensors", "skops", "arch", "ta-lib", "transformers")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries whose formats artifacts depend on."""
    out = {}
    for lib in TRACKED_LIBS:
        try:
            out[lib] = importlib_metadata.version(lib)
        except importlib_metadata.PackageNotFoundError:
            pass
    return out


@dataclass(frozen=True)
class Artifact:
    """A verified artifact: ``files`` maps file name -> bytes; ``metadata`` is the JSON."""

    family: str
    version: str
    path: Path
    files: dict[str, bytes]
    metadata: dict

    def json(self, name: str):
        return json.loads(self.files[name].decode())


def models_root(models_dir: Path | None = None) -> Path:
    """The models directory: ``models_dir`` when given, else ``Settings.models_dir``."""
    return Path(models_dir) if models_dir is not None else get_settings().models_dir


def new_version() -> str:
    """Sortable version id: UTC timestamp plus 4 random hex digits, e.g. 20261122T010203Z-a1b2."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)


def save_artifact(
    family: str,
    files: dict[str, bytes],
    metadata: dict | None = None,
    *,
    version: str | None = None,
    models_dir: Path | None = None,
) -> Artifact:
    """Write ``files`` as a new version of ``family`` atomically and record their sha256.

    Args:
        family: model family, lowercase like ``forecast`` or ``sentiment-head``.
        files: file name -> bytes, in a native format (pickle-type suffixes are refused).
        metadata: JSON-serialisable extras (metrics, features, params, data hash...).

    Raises:
        ValueError: bad names, a pickle-type file, or an existing version.
    """
    if not _NAME.match(family):
        raise ValueError(f"bad family name {family!r}")
    version = version or new_version()
    for name in files:
        if not _NAME.match(name.lower()) or "/" in name or name == "metadata.json":
            raise ValueError(f"bad artifact file name {name!r}")
        if name.lower().endswith(FORBIDDEN_SUFFIXES):
            raise ValueError(f"{name}: pickle-based formats are not allowed; use a native format")
    root = models_root(models_dir) / family
    final = root / version
    if final.exists():
        raise ValueError(f"{family}/{version} already exists")
    meta = dict(metadata or {})
    meta.update({
        "family": family,
        "version": version,
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "files": {name: sha256_bytes(data) for name, data in files.items()},
        "library_versions": library_versions(),
    })
    tmp = root / f".tmp-{version}"
    tmp.mkdir(parents=True, exist_ok=False)
    try:
        for name, data in files.items():
            (tmp / name).write_bytes(data)
        (tmp / "metadata.json").write_text(json.dumps(meta, indent=2, default=str))
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Artifact(family, version, final, dict(files), meta)


def list_versions(family: str, *, models_dir: Path | None = None) -> list[str]:
    """Versions of ``family`` on disk, oldest first (ids sort by creation time)."""
    root = models_root(models_dir) / family
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and (p / "metadata.json").is_file())


def read_metadata(family: str, version: str, *, models_dir: Path | None = None) -> dict:
    """metadata.json of one version (not integrity-checked: it holds the checksums)."""
    path = models_root(models_dir) / family / version / "metadata.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise NotTrainedError(f"No model {family}/{version}. Train it first.") from None
    except json.JSONDecodeError as err:
        raise ArtifactIntegrityError(f"{path} is not valid JSON ({err}).") from None


def load_artifact(
    family: str, version: str | None = None, *, models_dir: Path | None = None
) -> Artifact:
    """Read and verify every file of a version (default: the newest on disk).

    Raises:
        NotTrainedError: no version exists.
        ArtifactIntegrityError: a file is missing, extra-unlisted-but-required, or its sha256
            differs from metadata.json (the file was changed after saving).
    """
    if version is None:
        versions = list_versions(family, models_dir=models_dir)
        if not versions:
            raise NotTrainedError(
                f"No trained '{family}' model yet. An admin can train it, or run "
                f"`quantdesk train {family.split('-')[0]}`."
            )
        version = versions[-1]
    meta = read_metadata(family, version, models_dir=models_dir)
    path = models_root(models_dir) / family / version
    files: dict[str, bytes] = {}
    for name, digest in meta.get("files", {}).items():
        try:
            data = (path / name).read_bytes()
        except FileNotFoundError:
            raise ArtifactIntegrityError(
                f"Model file {family}/{version}/{name} is missing. Retrain or restore it."
            ) from None
        if sha256_bytes(data) != digest:
            raise ArtifactIntegrityError(
                f"Model file {family}/{version}/{name} does not match its recorded sha256 "
                "(it was modified or corrupted). It was not loaded; retrain the model or roll "
                "back to another version."
            )
        files[name] = data
    return Artifact(family, version, path, files, meta)
