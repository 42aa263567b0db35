"""API keys for the HTTP API: issued by ``quantdesk admin create-key NAME --role admin|read``,
stored as sha256 hashes (never the key itself) in ``<data_dir>/api_keys.json`` (mode 0600)::

    {"keys": {"ci-bot": {"sha256": "<64 hex>", "role": "admin",
                         "created_at": "2026-11-30T00:00:00+00:00"}}}

A key is ``qd_`` followed by 43 url-safe characters (256 random bits), so a plain sha256 is
enough (no password stretching needed for a random secret of that size); comparison is
constant-time. A client sends it in the ``X-API-Key`` header.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from core.config import get_settings
from core.errors import DataValidationError

ROLES = ("admin", "read")
KEY_PREFIX = "qd_"
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


@dataclass(frozen=True)
class ApiKey:
    """A stored key: ``name``, ``role`` (``admin`` | ``read``), ``created_at`` (ISO UTC)."""

    name: str
    role: str
    created_at: str = ""


def keys_file() -> Path:
    """``<data_dir>/api_keys.json``."""
    return get_settings().data_dir / "api_keys.json"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _read(path: Path) -> dict[str, dict]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        raise DataValidationError(f"{path} cannot be read as JSON ({err}). Fix or remove it, "
                                  "then issue keys again.") from None
    keys = data.get("keys") if isinstance(data, dict) else None
    return {k: v for k, v in (keys or {}).items() if isinstance(v, dict)}


def _write(path: Path, keys: dict[str, dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"keys": keys}, fh, indent=2, sort_keys=True)
    path.chmod(0o600)


def create_key(name: str, role: str = "read", *, path: Path | None = None) -> str:
    """Issue a new key for ``name`` (replacing any key of that name) and return it; only
    its sha256 is stored, so the caller must show it once.

    Raises:
        DataValidationError: bad name (letters, digits, ``_.-``; 1-64) or unknown role.
    """
    if not name or len(name) > 64 or not set(name) <= _NAME_CHARS:
        raise DataValidationError("Key names use letters, digits, '_', '.', '-' (1-64 chars).")
    if role not in ROLES:
        raise DataValidationError(f"Role must be one of {', '.join(ROLES)}, not {role!r}.")
    path = path or keys_file()
    keys = _read(path)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    keys[name] = {"sha256": _digest(key), "role": role,
                  "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    _write(path, keys)
    return key


def revoke_key(name: str, *, path: Path | None = None) -> bool:
    """Remove ``name``'s key; True when one existed."""
    path = path or keys_file()
    keys = _read(path)
    if keys.pop(name, None) is None:
        return False
    _write(path, keys)
    return True


def list_keys(*, path: Path | None = None) -> list[ApiKey]:
    """Stored keys (names and roles, never hashes), sorted by name."""
    return [ApiKey(n, str(v.get("role", "")), str(v.get("created_at", "")))
            for n, v in sorted(_read(path or keys_file()).items())]


def verify_key(key: str | None, *, path: Path | None = None) -> ApiKey | None:
    """The stored key matching ``key`` (constant-time comparison), or None."""
    if not key:
        return None
    digest = _digest(key)
    found = None
    for name, v in _read(path or keys_file()).items():
        if hmac.compare_digest(str(v.get("sha256", "")), digest) and v.get("role") in ROLES:
            found = ApiKey(name, v["role"], str(v.get("created_at", "")))
    return found
