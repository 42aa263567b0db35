"""Local admin accounts: bcrypt password hashes, never plaintext, no default password.

Sources, checked in order by :func:`verify_admin`:

1. ``<data_dir>/admins.toml`` (written by ``quantdesk admin create-user NAME``, mode 0600)::

       [admins.alice]
       password_hash = "$2b$12$..."
       created_at = "2026-11-22T00:00:00+00:00"

2. ``.streamlit/secrets.toml`` (git-ignored): a table ``[admins]`` of ``name = "<bcrypt hash>"``.
3. Environment ``QUANTDESK_ADMIN_HASHES="alice:$2b$12$...,bob:$2b$12$..."`` (containers).

Hashing: bcrypt (Provos & Mazieres, "A Future-Adaptable Password Scheme", USENIX 1999) via
the ``bcrypt`` package, cost 12. The UI (``ui/auth.py``) decides how a login form or OIDC
(``st.login``) uses this; :mod:`core.training` knows nothing about auth.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from pathlib import Path

from core.config import PROJECT_ROOT, get_settings
from core.errors import DataValidationError

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MIN_PASSWORD_LEN = 10
BCRYPT_ROUNDS = 12
_DUMMY_HASH = b"$2b$12$kSLL6ApgLesJ6YNZzRv/tOikT8g77mLuVeTXqVBB2phaKnMvELuLS"  # timing equaliser


def admins_file() -> Path:
    """``<data_dir>/admins.toml``."""
    return get_settings().data_dir / "admins.toml"


def secrets_file() -> Path:
    return PROJECT_ROOT / ".streamlit" / "secrets.toml"


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, OSError) as err:
        raise DataValidationError(f"{path} cannot be read as TOML ({err}). Fix or remove it.") from None


def _file_admins(path: Path | None = None) -> dict[str, str]:
    data = _read_toml(path or admins_file()).get("admins", {})
    return {k: v.get("password_hash", "") for k, v in data.items() if isinstance(v, dict)}


def _secret_admins() -> dict[str, str]:
    data = _read_toml(secrets_file()).get("admins", {})
    return {k: v for k, v in data.items() if isinstance(v, str)}


def _env_admins() -> dict[str, str]:
    out = {}
    for item in os.environ.get("QUANTDESK_ADMIN_HASHES", "").split(","):
        if ":" in item:
            name, h = item.split(":", 1)
            out[name.strip()] = h.strip()
    return out


def list_admins() -> list[str]:
    """Names of every configured admin (file, secrets, environment)."""
    return sorted({**_env_admins(), **_secret_admins(), **_file_admins()})


def hash_password(password: str) -> str:
    """bcrypt hash (cost 12) of ``password`` as text. Raises DataValidationError when the
    password is shorter than 10 characters or longer than bcrypt's 72 bytes."""
    import bcrypt

    raw = password.encode()
    if len(password) < MIN_PASSWORD_LEN:
        raise DataValidationError(f"Choose a password of at least {MIN_PASSWORD_LEN} characters.")
    if len(raw) > 72:
        raise DataValidationError("bcrypt uses at most 72 bytes of a password; choose a shorter one.")
    return bcrypt.hashpw(raw, bcrypt.gensalt(BCRYPT_ROUNDS)).decode()


def create_admin(name: str, password: str, *, path: Path | None = None) -> Path:
    """Add or replace admin ``name`` in ``admins.toml`` (created with mode 0600).

    Raises:
        DataValidationError: bad name (letters, digits, ``_.-``; up to 64) or weak password.
    """
    if not NAME_RE.match(name or ""):
        raise DataValidationError("Admin names use letters, digits, '_', '.', '-' (max 64).")
    path = path or admins_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    admins = _read_toml(path).get("admins", {})
    admins[name] = {"password_hash": hash_password(password),
                    "created_at": dt.datetime.now(dt.UTC).isoformat()}
    lines = ["# Quantdesk admins (bcrypt hashes). Managed by `quantdesk admin create-user`.", ""]
    for n in sorted(admins):
        lines.append(f"[admins.{n}]")
        for k, v in admins[n].items():
            lines.append(f'{k} = "{v}"')
        lines.append("")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("\n".join(lines))
    path.chmod(0o600)
    return path


def verify_admin(name: str, password: str) -> bool:
    """True when ``password`` matches admin ``name``'s bcrypt hash in any source.

    Unknown names and malformed hashes return False (after a dummy bcrypt check, so timing
    does not reveal which names exist). Never raises for bad credentials.
    """
    import bcrypt

    if not name or not password:
        return False
    try:
        sources = [_file_admins(), _secret_admins(), _env_admins()]
    except DataValidationError:
        return False
    hashed = next((s[name] for s in sources if name in s), None)
    candidate = password.encode()[:72]
    if not hashed:
        bcrypt.checkpw(candidate, _DUMMY_HASH)
        return False
    try:
        return bcrypt.checkpw(candidate, hashed.encode())
    except ValueError:
        return False
