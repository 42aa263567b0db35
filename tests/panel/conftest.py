"""Panel tests: a private models dir per test (retrains never touch the repo's models/),
fresh metadata and Streamlit caches."""

import types

import numpy as np
import pytest

from core.predictions import Prediction, hash_inputs


def _clear_streamlit_caches() -> None:
    try:
        import streamlit as st

        st.cache_data.clear()
    except Exception:
        pass


@pytest.fixture(autouse=True)
def private_models(tmp_path, monkeypatch):
    from core.panel import predictors
    from core.config import get_settings

    monkeypatch.setenv("QUANTDESK_MODELS_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()
    predictors._META_CACHE.clear()
    _clear_streamlit_caches()
    yield tmp_path / "models"
    predictors._META_CACHE.clear()
    # the panels these tests cache (fake predictors, corrupt models) must not reach the
    # next test of another folder: the cache key is the symbol's bar, not the models
    _clear_streamlit_caches()


# ---- fake domain predictors (SYNTHETIC inputs only) ----


def momentum_forecast(md, version="t1"):
    """A test forecast: mean of the last 5 one-bar log returns times h, +-2 std band."""
    c = np.log(md.frame["close"].to_numpy())
    r = np.diff(c[-21:])
    out = []
    for h in (1, 5):
        v = float(r[-5:].mean() * h)
        half = float(2 * r.std(ddof=1) * np.sqrt(h))
        out.append(Prediction("forecast", version, md.symbol, md.interval, "log_return", h,
                              md.frame.index[-1], v, lower=v - half, upper=v + half,
                              latency_ms=1.0, inputs_hash=hash_inputs(md.frame.tail(21))))
    return out


def active_forecast(md):
    """Serves through the registry like a real domain predictor (raises when disabled)."""
    from core.serving import load_active

    art = load_active("forecast")
    return momentum_forecast(md, version=art.version)


def pattern_detection(md):
    """A horizon-0 detection (not loggable) plus nothing else."""
    return [Prediction("patterns-cnn", "p1", md.symbol, md.interval, "probability", 0,
                       md.frame.index[-1], 0.9, output={"event": "hammer", "rule_hit": True,
                                                        "direction": "bullish", "threshold": 0.5})]


def broken(md):
    raise RuntimeError("bug in a domain")


@pytest.fixture
def fakes():
    """The fake domain predictors above, as attributes."""
    return types.SimpleNamespace(momentum_forecast=momentum_forecast,
                                 active_forecast=active_forecast,
                                 pattern_detection=pattern_detection, broken=broken)
