"""Save/load the forecast family through :mod:`core.registry` without pickle.

Files of one version: ``<slug>_h<h>_xgboost.json`` (XGBoost JSON), ``<slug>_h<h>_lightgbm.txt``
(LightGBM text), ``<slug>_h<h>_random_forest.skops`` (skops, loaded with an explicit trusted
type list) and ``heads.json`` (per symbol/horizon: weights, shrink, conformal quantiles,
validation summary). ``metadata.json`` holds the feature column list, which serving reads.
"""

from __future__ import annotations

import json
import re
import threading
import zipfile

import numpy as np

from core.errors import ArtifactIntegrityError
from core.forecasting.model import LEVELS, HorizonForecaster

FAMILY = "forecast"
# The only non-default type a RandomForestRegressor's skops file contains (checked in tests
# with skops.io.get_untrusted_types); anything else in the file makes loading fail.
SKOPS_TRUSTED = ["sklearn.tree._tree.Tree"]


def slug(symbol: str) -> str:
    """File-name-safe lower-case symbol: ``^GSPC`` -> ``gspc``, ``BRK-B`` -> ``brk-b``."""
    s = re.sub(r"[^a-z0-9-]", "", symbol.lower()).lstrip("-")
    return s or "sym"


def model_files(symbol: str, horizon: int, model: HorizonForecaster) -> dict[str, bytes]:
    """Native-format bytes of one fitted forecaster's members."""
    import skops.io as sio

    xb, lb, rf = model.members_
    base = f"{slug(symbol)}_h{horizon}"
    return {
        f"{base}_xgboost.json": bytes(xb.save_raw("json")),
        f"{base}_lightgbm.txt": lb.model_to_string().encode(),
        f"{base}_random_forest.skops": sio.dumps(rf, compression=zipfile.ZIP_DEFLATED,
                                                 compresslevel=9),
    }


def head_record(model: HorizonForecaster) -> dict:
    """The small JSON part of a fitted forecaster (weights, shrink, quantiles, validation)."""
    return {"horizon": model.horizon, "weights": [float(w) for w in model.weights_],
            "shrink": model.shrink_, "q": {str(k): v for k, v in model.q_.items()},
            "val": model.val_, "n_train": model.n_train_}


def restore(files: dict[str, bytes], symbol: str, horizon: int, head: dict) -> HorizonForecaster:
    """Rebuild a fitted :class:`HorizonForecaster` from verified artifact bytes.

    Raises:
        ArtifactIntegrityError: a member file is missing or cannot be parsed.
    """
    import lightgbm as lgb
    import skops.io as sio
    import xgboost as xgb

    base = f"{slug(symbol)}_h{horizon}"
    try:
        xb = xgb.Booster()
        xb.load_model(bytearray(files[f"{base}_xgboost.json"]))
        xb.set_param({"nthread": 1})  # one-row predictions: a thread pool costs ~7 ms a call
        lb = lgb.Booster(model_str=files[f"{base}_lightgbm.txt"].decode())
        rf = sio.loads(files[f"{base}_random_forest.skops"], trusted=SKOPS_TRUSTED)
    except KeyError as err:
        raise ArtifactIntegrityError(f"Forecast artifact lacks {err.args[0]}; retrain.") from None
    except Exception as err:  # a parser refusing a file is an integrity problem for the user
        raise ArtifactIntegrityError(f"Cannot read forecast model {base}: {err}") from None
    rf.n_jobs = 1
    m = HorizonForecaster(horizon=horizon)
    m.members_ = [xb, lb, rf]
    m.weights_ = np.asarray(head["weights"], float)
    m.shrink_ = float(head["shrink"])
    m.q_ = {lv: float(head["q"][str(lv)]) for lv in LEVELS}
    m.val_ = head.get("val", {})
    m.n_train_ = int(head.get("n_train", 0))
    return m


class Bundle:
    """All fitted forecasters of one artifact version, keyed by (symbol, horizon)."""

    def __init__(self, artifact):
        self.version = artifact.version
        self.metadata = artifact.metadata
        self.features: list[str] = list(artifact.metadata["features"])
        self.horizons: list[int] = [int(h) for h in artifact.metadata["horizons"]]
        self.interval: str = artifact.metadata.get("interval", "1d")
        heads = json.loads(artifact.files["heads.json"].decode())
        self.symbols: list[str] = sorted(heads)
        self.models: dict[tuple[str, int], HorizonForecaster] = {}
        for sym, per_h in heads.items():
            for h, head in per_h.items():
                self.models[(sym, int(h))] = restore(artifact.files, sym, int(h), head)


_CACHE: dict[str, Bundle] = {}
_LOCK = threading.Lock()


def get_bundle(artifact) -> Bundle:
    """Deserialised models of ``artifact`` (cached per version for warm inference)."""
    key = str(artifact.path)
    with _LOCK:
        b = _CACHE.get(key)
        if b is None or b.version != artifact.version:
            b = _CACHE[key] = Bundle(artifact)
        return b
