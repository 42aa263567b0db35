"""Strategy tests: a private models dir per test, so a tuning job (registered like a
retrain, core.strategy.qtuner.run_tuning_job) never writes into the repository's models/."""

import pytest


@pytest.fixture(autouse=True)
def private_models(tmp_path, monkeypatch):
    from core.config import get_settings

    monkeypatch.setenv("QUANTDESK_MODELS_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()
    yield tmp_path / "models"
    get_settings.cache_clear()
