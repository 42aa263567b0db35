"""Runtime settings (pydantic-settings): environment variables prefixed ``QUANTDESK_``.

``DATABASE_URL`` is read without prefix (the usual convention for PostgreSQL URLs).
Directories default to ``data/`` and ``models/`` beside the project root.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Quantdesk settings.

    Attributes:
        data_dir: runtime state (SQLite db, cache, uploads). Default ``<root>/data``.
        models_dir: trained artifacts, ``<family>/<version>/``. Default ``<root>/models``.
        database_url: SQLAlchemy URL; default SQLite file ``<data_dir>/quantdesk.db``.
        offline: never try the network (Yahoo, news, model hubs) when true.
        refresh_seconds: auto-refresh period of the live panel [s].
        watchlist: default Overview watchlist, comma-separated tickers
            (``QUANTDESK_WATCHLIST``); the bundled symbols when unset.
        yahoo_timeout: seconds before a Yahoo request is given up.
        probe_timeout: seconds the network probe waits for Yahoo before calling the desk
            offline (the answer is remembered for a minute; see :mod:`core.data.network`).
        api_rate_per_minute, api_burst: the HTTP API's per-client token bucket
            (``QUANTDESK_API_RATE_PER_MINUTE``, ``QUANTDESK_API_BURST``; 0 turns it off).
        scan_engine: batch engine of universe scans (``QUANTDESK_SCAN_ENGINE``): ``ray``
            (a local Ray instance, or the cluster ``RAY_ADDRESS`` names), ``serial`` (this
            process, no Ray), or ``auto`` (serial up to ``scan_serial_max`` symbols, else
            Ray).
        scan_serial_max: the largest scan ``auto`` runs serially [symbols].
    """

    model_config = SettingsConfigDict(env_prefix="QUANTDESK_", env_file=".env", extra="ignore")

    data_dir: Path = PROJECT_ROOT / "data"
    models_dir: Path = PROJECT_ROOT / "models"
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "QUANTDESK_DATABASE_URL")
    )
    offline: bool = False
    refresh_seconds: int = 30
    watchlist: str | None = None
    yahoo_timeout: float = 10.0
    probe_timeout: float = 1.5
    api_rate_per_minute: float = 600.0
    api_burst: int = 120
    scan_engine: str = "auto"
    scan_serial_max: int = 12

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'quantdesk.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings (cached; tests call ``get_settings.cache_clear()``)."""
    return Settings()
