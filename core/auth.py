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
import threading
import time
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


# ---------------------------------------------------------------- OIDC admins, throttling


def admin_emails() -> set[str]:
    """Lower-cased e-mails that are admins when signed in through OIDC (``st.login``).

    Read from ``QUANTDESK_ADMIN_EMAILS`` (comma-separated) and from ``admin_emails = [...]``
    in ``.streamlit/secrets.toml``. Empty unless configured: an OIDC login alone never
    makes anyone an admin.
    """
    emails = {e.strip().lower() for e in os.environ.get("QUANTDESK_ADMIN_EMAILS", "").split(",")}
    try:
        listed = _read_toml(secrets_file()).get("admin_emails", [])
    except DataValidationError:
        listed = []
    if isinstance(listed, str):
        listed = listed.split(",")
    emails |= {str(e).strip().lower() for e in listed}
    return {e for e in emails if "@" in e}


class LoginThrottle:
    """Slows password guessing without letting an attacker lock the real admin out.

    Failures are counted per (account, client): after ``free`` failures, each further attempt
    from that client for that account waits ``base_s * 2**(failures - free)`` seconds
    (capped at ``max_s``), so a guesser slows only themselves. A separate global budget per
    account (``global_free`` failures from all clients together) slows a distributed attack
    with the same back-off. :meth:`begin` checks and records an attempt in one locked step,
    so parallel sign-ins cannot all pass the check before any failure is recorded; a success
    (:meth:`success`) forgets that client's failures. In-memory and per process; ``clock``
    is injectable for tests.

    Args:
        free: failures per (account, client) without delay. base_s: first delay [s].
        max_s: cap [s]. global_free: failures per account, all clients, without delay.
    """

    def __init__(self, free: int = 5, base_s: float = 2.0, max_s: float = 300.0, clock=None,
                 global_free: int = 50):
        self.free, self.base_s, self.max_s, self.global_free = free, base_s, max_s, global_free
        self._clock = clock or time.monotonic
        self._lock = threading.Lock()
        self._state: dict[tuple[str, str], tuple[int, float]] = {}  # (name, client) -> n, t
        self._global: dict[str, tuple[int, float]] = {}  # name -> (failures, last failure)

    def _delay(self, failures: int, last: float, free: int) -> float:
        if failures < free:
            return 0.0
        delay = min(self.max_s, self.base_s * 2 ** (failures - free))
        return max(0.0, last + delay - self._clock())

    def _wait(self, name: str, client: str) -> float:
        n, t = self._state.get((name, client), (0, 0.0))
        g, gt = self._global.get(name, (0, 0.0))
        return max(self._delay(n, t, self.free), self._delay(g, gt, self.global_free))

    def wait_seconds(self, name: str, client: str = "") -> float:
        """Seconds until ``client`` may try ``name`` again (0 when it may try now)."""
        with self._lock:
            return self._wait(name.lower(), client)

    def begin(self, name: str, client: str = "") -> float:
        """Check and record one attempt atomically: returns the wait in seconds (and records
        nothing) when the client must wait, else 0 after counting the attempt as a failure
        until :meth:`success` says otherwise."""
        name = name.lower()
        with self._lock:
            wait = self._wait(name, client)
            if wait > 0:
                return wait
            self._record(name, client)
            return 0.0

    def _record(self, name: str, client: str) -> None:
        now = self._clock()
        n, _ = self._state.get((name, client), (0, 0.0))
        self._state[(name, client)] = (n + 1, now)
        g, _ = self._global.get(name, (0, 0.0))
        self._global[name] = (g + 1, now)

    def failure(self, name: str, client: str = "") -> None:
        """Record a failed attempt for ``name`` from ``client`` (when :meth:`begin` was not
        used)."""
        with self._lock:
            self._record(name.lower(), client)

    def success(self, name: str, client: str = "") -> None:
        """Forget the failures of ``name`` from ``client`` (and the attempt :meth:`begin`
        counted); the global budget keeps the other clients' failures."""
        name = name.lower()
        with self._lock:
            self._state.pop((name, client), None)
            g, gt = self._global.get(name, (0, 0.0))
            if g:
                self._global[name] = (g - 1, gt)
