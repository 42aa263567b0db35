"""Strategy files: the shipped examples load; mistakes are refused naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.strategy.spec import StrategySpecError, load_strategy, parse_strategy
from core.strategy.tune import grid_configs

ROOT = Path(__file__).resolve().parents[2]
OK = """
name = "t"
[entry]
signals = ["rsi"]
"""


@pytest.mark.parametrize("name", ["rsi_reversal.toml", "ma_cross.toml", "macd_both.json"])
def test_shipped_examples_load(name):
    s = load_strategy(ROOT / "strategies" / name)
    assert s.name and s.entry.signals and len(grid_configs(s)) >= 2
    for cfg in grid_configs(s)[:3]:
        assert s.with_params(cfg).tune == s.tune


def test_defaults_and_with_params():
    s = parse_strategy(OK)
    assert s.side == "long" and s.sizing.fraction == 1.0 and s.costs.fill_bp == 2.0
    t = s.with_params({"signals.rsi.lower": 25, "exit.stop_atr": 3})
    assert t.signal_params("rsi") == {"lower": 25} and t.exit.stop_atr == 3.0


@pytest.mark.parametrize("text, expect", [
    (OK.replace('"rsi"', '"rsx"'), "entry.signals: item 0: unknown signal 'rsx'"),
    ('side = "sideways"' + OK, "side: Input should be 'long', 'short' or 'both'"),
    (OK + "[costs]\nspread_bp = -1", "costs.spread_bp: Input should be greater than or equal to 0"),
    (OK + "[sizing]\nfraction = 2", "sizing.fraction: Input should be less than or equal to 1"),
    (OK + "[exit]\nstop_atr = 0", "exit.stop_atr: Input should be greater than 0"),
    (OK + "[signals.rsi]\nlenght = 3", "signals.rsi: unknown parameter lenght"),
    (OK + '[tune]\n"signals.rsi.nope" = [1]', "tune.signals.rsi.nope: not a tunable parameter"),
    (OK + "colour = 1", "colour: not a strategy field"),
    ('name = "x"', "entry: Field required"),
    ("name = ", "not valid TOML"),
])
def test_mistakes_name_the_field(text, expect):
    with pytest.raises(StrategySpecError) as e:
        parse_strategy(text, where="s.toml")
    assert str(e.value).startswith("s.toml: ") and expect in str(e.value), str(e.value)


def test_missing_file_and_bad_json(tmp_path):
    with pytest.raises(StrategySpecError, match="not found"):
        load_strategy(tmp_path / "nope.toml")
    p = tmp_path / "s.json"
    p.write_text("{not json")
    with pytest.raises(StrategySpecError, match="s.json: not valid JSON"):
        load_strategy(p)


def test_oversized_grid_is_refused():
    big = OK + '[tune]\n"signals.rsi.lower" = [' + ",".join(str(i) for i in range(1, 30)) + \
        ']\n"signals.rsi.upper" = [' + ",".join(str(i) for i in range(70, 99)) + "]"
    with pytest.raises(ValueError, match="841 configurations"):
        grid_configs(parse_strategy(big))
