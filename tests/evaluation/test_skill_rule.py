from core.evaluation import beats_baseline


def test_skill_needs_significance_and_practical_size():
    assert beats_baseline(0.01, 0.99)
    assert not beats_baseline(0.01, 0.99999)   # significant but negligible (shrunk forecast)
    assert not beats_baseline(0.20, 0.95)      # large but not significant
    assert not beats_baseline(0.01, 1.02)      # significantly worse
    assert not beats_baseline(None, 0.9)
    assert not beats_baseline(float("nan"), 0.9)


def test_panel_skill_uses_the_rule():
    from core.panel.predictors import artifact_skill

    meta = {"walk_forward": {"AAPL": {"5": {"dm_pvalue": 0.03, "rmse_ratio": 0.999995}}}}
    assert artifact_skill("forecast", meta, "AAPL", 5) is False
    meta["walk_forward"]["AAPL"]["5"]["rmse_ratio"] = 0.99
    assert artifact_skill("forecast", meta, "AAPL", 5) is True
