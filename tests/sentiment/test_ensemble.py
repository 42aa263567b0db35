import json

import numpy as np
import pytest

from core.errors import DataValidationError
from core.sentiment.ensemble import Ensemble, default_combine
from core.sentiment.labels import LABELS


def _synthetic_scores(n=300, seed=0):
    """SYNTHETIC scorer outputs: 'minilm' informative, 'vader' noisy, 'lm' pure noise."""
    rng = np.random.default_rng(seed)
    y = rng.choice(LABELS, n)
    sign = np.array([{"negative": -1, "neutral": 0, "positive": 1}[v] for v in y])
    scores = {"minilm": np.clip(0.8 * sign + rng.normal(0, 0.2, n), -1, 1),
              "vader": np.clip(0.4 * sign + rng.normal(0, 0.5, n), -1, 1),
              "lm": rng.uniform(-1, 1, n)}
    return scores, y


def test_fitted_ensemble_range_labels_and_weights():
    scores, y = _synthetic_scores()
    ens = Ensemble().fit(scores, y)
    assert len(ens.stackers) == 7  # every non-empty subset of 3 scorers
    res = ens.combine(scores)
    assert np.all((res.score >= -1) & (res.score <= 1))
    assert set(res.label) <= set(LABELS) and res.fitted
    assert np.mean(res.label == y) > 0.9
    w = ens.stackers["minilm+vader+lm"].weights()
    assert w["minilm"] > w["lm"] and abs(sum(w.values()) - 1) < 1e-6


def test_served_subset_is_the_best_out_of_fold_and_drops_a_noise_scorer():
    scores, y = _synthetic_scores()
    ens = Ensemble().fit(scores, y)
    oof = {k: st.oof_accuracy for k, st in ens.stackers.items()}
    assert all(0 <= v <= 1 for v in oof.values())
    res = ens.combine(scores)
    assert "+".join(res.scorers) == max(oof, key=lambda k: (oof[k], -k.count("+")))
    assert "lm" not in res.scorers and "minilm" in res.scorers  # 'lm' is pure noise
    assert oof["minilm"] > oof["vader+lm"]
    back = Ensemble.from_dict(json.loads(json.dumps(ens.to_dict())))
    np.testing.assert_allclose(back.combine(scores).proba, res.proba)


def test_subset_used_when_a_scorer_is_missing_and_json_round_trip():
    scores, y = _synthetic_scores()
    ens = Ensemble().fit({k: scores[k] for k in ("vader", "lm")}, y)
    back = Ensemble.from_dict(json.loads(json.dumps(ens.to_dict())))
    res = back.combine({"vader": scores["vader"], "lm": scores["lm"],
                        "finbert": scores["minilm"]})  # finbert had no fitted weights
    assert res.scorers == ens.choose(["vader", "lm"]).scorers == ["vader"]  # lm: noise
    want = ens.combine({"vader": scores["vader"], "lm": scores["lm"]}).proba
    np.testing.assert_allclose(res.proba, want)


def test_default_combine_without_fit():
    res = Ensemble().combine({"vader": np.array([0.9, -0.9, 0.0]),
                              "lm": np.array([1.0, -1.0, 0.0])})
    assert not res.fitted
    assert list(res.label) == ["positive", "negative", "neutral"]
    assert res.weights == {"vader": 0.5, "lm": 0.5}
    assert default_combine({"lm": np.array([2.0])}).score[0] == 1.0  # clipped


def test_no_scorer_is_a_clear_error():
    with pytest.raises(DataValidationError, match="No sentiment scorer"):
        Ensemble().combine({})


def test_probabilistic_scorer_feeds_three_log_probabilities():
    """SYNTHETIC: a 'minilm' whose P(neutral) carries the neutral class while its
    P(pos) - P(neg) is ~0 for both neutral and uncertain texts; the stacker must use it."""
    rng = np.random.default_rng(3)
    n = 600
    y = rng.choice(LABELS, n)
    p = np.full((n, 3), 1 / 3)
    for i, lab in enumerate(y):
        if lab == "neutral":
            p[i] = [0.1, 0.8, 0.1]
        else:
            k = LABELS.index(lab)
            p[i] = [0.3, 0.3, 0.3]
            p[i, k] = 0.4
    p = p / p.sum(1, keepdims=True)
    ens = Ensemble().fit({"minilm": p, "vader": rng.uniform(-1, 1, n)}, y)
    st = ens.stackers["minilm+vader"]
    assert st.kinds == {"minilm": "proba", "vader": "score"} and st.coef_.shape == (3, 5)
    back = Ensemble.from_dict(json.loads(json.dumps(ens.to_dict())))
    res = back.combine({"minilm": p, "vader": np.zeros(n)})
    assert np.mean(res.label == y) > 0.95
    with pytest.raises(DataValidationError, match="three class"):
        back.combine({"minilm": p[:, 2] - p[:, 0], "vader": np.zeros(n)})


def test_ensemble_summary_names_served_and_left_out_scorers():
    from core.sentiment.scorers import ScorerSet, ensemble_summary

    scores, y = _synthetic_scores()
    ens = Ensemble().fit(scores, y)
    sc = ScorerSet(scorers={n: None for n in ("minilm", "vader", "lm")}, ensemble=ens)
    text = ensemble_summary(sc)
    served = ens.choose(["minilm", "vader", "lm"]).scorers
    assert "Loughran-McDonald" in text.split("Left out")[1] and "lm" not in served
    assert ensemble_summary(ScorerSet(scorers={"vader": None}, ensemble=Ensemble())) == ""


def _synthetic_proba(n=600, seed=1, neutral_bias=0.0):
    """SYNTHETIC class probabilities for 'minilm': right class favoured; ``neutral_bias``
    adds a constant to the neutral logit (a mis-calibrated scorer a stacker can correct)."""
    rng = np.random.default_rng(seed)
    y = rng.choice(LABELS, n)
    z = rng.normal(0, 1, (n, 3))
    z[np.arange(n), [LABELS.index(v) for v in y]] += 1.5
    z[:, LABELS.index("neutral")] += neutral_bias
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    return p, y


def test_probabilistic_scorer_competes_as_is_and_serves_when_nothing_beats_it():
    from core.sentiment.scorers import ScorerSet, ensemble_summary

    p, y = _synthetic_proba()
    noise = np.random.default_rng(5).uniform(-1, 1, len(y))
    ens = Ensemble().fit({"minilm": p, "lm": noise}, y)
    raw = ens.stackers["minilm:as-is"]
    assert raw.fixed and raw.oof_accuracy == pytest.approx(np.mean(
        np.array(LABELS)[p.argmax(1)] == y))
    np.testing.assert_allclose(raw.predict_proba({"minilm": p}), p, atol=1e-5)
    served = ens.choose(["minilm", "lm"])
    best_fitted = max(st.oof_accuracy for st in ens.stackers.values() if not st.fixed)
    # calibrated probabilities: re-weighting them only adds fitting noise out of fold
    assert served.fixed and served.oof_accuracy > best_fitted
    res = ens.combine({"minilm": p, "lm": noise})
    assert res.as_is and res.fitted
    np.testing.assert_allclose(res.proba, p, atol=1e-5)
    back = Ensemble.from_dict(json.loads(json.dumps(ens.to_dict())))
    assert back.stackers["minilm:as-is"].fixed and back.choose(["minilm", "lm"]).key == served.key
    sc = ScorerSet(scorers={"minilm": None, "lm": None}, ensemble=back)
    text = ensemble_summary(sc)
    assert "unchanged" in text and "MiniLM" in text and "Left out" in text


def test_fitted_stacker_serves_when_it_corrects_a_miscalibrated_scorer():
    p, y = _synthetic_proba(neutral_bias=-2.0)  # far too few neutral calls
    ens = Ensemble().fit({"minilm": p}, y)
    assert ens.stackers["minilm"].oof_accuracy > ens.stackers["minilm:as-is"].oof_accuracy + 0.05
    assert ens.choose(["minilm"]).key == "minilm"
