"""Shared evaluation toolkit: walk-forward splits with embargo, metrics, baselines and
statistical tests (Wilson CI, Diebold-Mariano with HAC variance + HLN correction,
effective sample size, block-bootstrap CI). Every model in Quantdesk is scored with these."""

from core.evaluation.baselines import always_up, majority_direction, naive_zero
from core.evaluation.metrics import (
    coverage,
    directional_accuracy,
    mae,
    mae_ratio,
    rmse,
    rmse_ratio,
    spearman_ic,
)
from core.evaluation.splits import Split, walk_forward_splits
from core.evaluation.stats import (
    NEGLIGIBLE_RATIO,
    DMResult,
    beats_baseline,
    block_bootstrap_ci,
    diebold_mariano,
    effective_n,
    newey_west_variance,
    wilson_ci,
)

__all__ = [
    "DMResult", "NEGLIGIBLE_RATIO", "Split", "always_up", "beats_baseline", "block_bootstrap_ci", "coverage", "diebold_mariano",
    "directional_accuracy", "effective_n", "mae", "mae_ratio", "majority_direction",
    "naive_zero", "newey_west_variance", "rmse", "rmse_ratio", "spearman_ic",
    "walk_forward_splits", "wilson_ci",
]
