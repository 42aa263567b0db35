"""Save/load the forecast family through :mod:`core.registry` without pickle.

Files of one version: ``<slug>_h<h>_xgboost.json`` (XGBoost JSON), ``<slug>_h<h>_lightgbm.txt``
(LightGBM text), ``<slug>_h<h>_random_forest.skops`` (skops, loaded with an explicit trusted
type list) and ``heads.json`` (per symbol/horizon: weights, shrink, conformal quantiles,
validation summary). ``metadata.json`` holds the feature column list, which serving reads.

The pooled (cross-symbol) forecaster, when the version has one, sits in ``heads.json`` under
the reserved key :data:`POOLED` (``_POOLED``) and in files ``pooled_all_h<h>_...``: ``slug``
never yields an underscore, so no ticker's files can collide with them. ``metadata["scope"]``
says, per symbol and horizon, whether the symbol's own head (``"symbol"``) or the pooled
model (``"pooled"``) serves. Versions without the key have no pooled model.
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


#: reserved symbol key of the pooled (cross-symbol) forecaster in ``heads.json``
POOLED = "_POOLED"
SCOPES = ("symbol", "pooled")


def slug(symbol: str) -> str:
    """File-name-safe lower-case symbol: ``^GSPC`` -> ``gspc``, ``BRK-B`` -> ``brk-b``."""
    s = re.sub(r"[^a-z0-9-]", "", symbol.lower()).lstrip("-")
    return s or "sym"


def file_base(symbol: str, horizon: int) -> str:
    """Common prefix of one forecaster's member files: ``<slug>_h<h>``, or
    ``pooled_all_h<h>`` for :data:`POOLED` (a slug has no ``_``, so no ticker maps to it)."""
    return f"pooled_all_h{horizon}" if symbol == POOLED else f"{slug(symbol)}_h{horizon}"


def model_files(symbol: str, horizon: int, model: HorizonForecaster) -> dict[str, bytes]:
    """Native-format bytes of one fitted forecaster's members."""
    import skops.io as sio  # deferred: skops is slow to import

    xb, lb, rf = model.members_
    base = file_base(symbol, horizon)
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
    import lightgbm as lgb  # deferred: lightgbm is slow to import
    import skops.io as sio  # deferred: skops is slow to import
    import xgboost as xgb  # deferred: xgboost is slow to import

    base = file_base(symbol, horizon)
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
    """All fitted forecasters of one artifact version: per-symbol heads keyed by
    (symbol, horizon) in ``models``, the pooled forecaster (if any) by horizon in ``pooled``,
    and ``scope`` {symbol: {horizon: "symbol" | "pooled"}} from ``metadata["scope"]``."""

    def __init__(self, artifact):
        self.version = artifact.version
        self.metadata = artifact.metadata
        self.features: list[str] = list(artifact.metadata["features"])
        self.horizons: list[int] = [int(h) for h in artifact.metadata["horizons"]]
        self.interval: str = artifact.metadata.get("interval", "1d")
        heads = json.loads(artifact.files["heads.json"].decode())
        pooled_heads = heads.pop(POOLED, {})
        self.symbols: list[str] = sorted(heads)
        self.models: dict[tuple[str, int], HorizonForecaster] = {}
        for sym, per_h in heads.items():
            for h, head in per_h.items():
                self.models[(sym, int(h))] = restore(artifact.files, sym, int(h), head)
        self.pooled: dict[int, HorizonForecaster] = {
            int(h): restore(artifact.files, POOLED, int(h), head)
            for h, head in pooled_heads.items()}
        scope = artifact.metadata.get("scope") or {}
        self.scope: dict[str, dict[int, str]] = {
            str(sym).upper(): {int(h): str(v) for h, v in by_h.items()}
            for sym, by_h in scope.items() if isinstance(by_h, dict)}

    def choose(self, symbol: str, horizon: int) -> tuple[HorizonForecaster, str] | None:
        """The forecaster serving ``symbol`` at ``horizon`` and its scope (``"symbol"`` or
        ``"pooled"``): the symbol's own head where the version has one and either has no pooled
        model (older versions) or recorded that head as the validation winner
        (``scope == "symbol"``); else the pooled model; None when neither exists."""
        own = self.models.get((symbol, horizon))
        pooled = self.pooled.get(horizon)
        if own is not None and (pooled is None
                                or self.scope.get(symbol, {}).get(horizon) == "symbol"):
            return own, "symbol"
        if pooled is not None:
            return pooled, "pooled"
        return None


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
