"""A corrupt model file is refused with a clear message on the page; nothing crashes."""

import shutil
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def test_tampered_forecast_artifact_is_explained_not_raised(tmp_path, monkeypatch):
    from core.config import get_settings

    models = tmp_path / "models"
    shutil.copytree(ROOT / "models" / "forecast", models / "forecast")
    version_dir = max((models / "forecast").iterdir())  # the newest version: the one served
    victim = next(p for p in version_dir.iterdir() if p.name.endswith("_xgboost.json"))
    victim.write_bytes(victim.read_bytes()[:-10] + b"tampered!!")
    monkeypatch.setenv("QUANTDESK_MODELS_DIR", str(models))
    get_settings.cache_clear()
    import streamlit as st

    st.cache_resource.clear()  # another test in this process may have loaded the good model
    st.cache_data.clear()

    at = AppTest.from_file(str(ROOT / "views" / "forecasts.py"), default_timeout=90)
    at.query_params["symbol"] = "MSFT"
    at.run()
    assert not at.exception
    shown = " ".join(m.value for m in list(at.warning) + list(at.error))
    assert "sha256" in shown
    assert victim.read_bytes().endswith(b"tampered!!")  # nothing rewrote the file
