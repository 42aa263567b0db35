"""A strategy as a small TOML or JSON file, validated with pydantic.

Example (``strategies/rsi_reversal.toml``)::

    name = "RSI reversal"
    side = "long"                       # long | short | both

    [entry]
    signals = ["rsi"]                   # names from core.strategy.rules.signal_names()
    combine = "any"                     # any | all (all = every signal, same side, same bar)

    [exit]
    signals = ["rsi"]                   # leave a long on -1 (a short on +1) of any of these
    stop_atr = 2.0                      # stop this many ATR(atr_period) from the entry fill
    max_hold = 20                       # bars; leave at the next open after that many

    [sizing]
    policy = "fixed"                    # fixed | vol_target | atr_risk (see Sizing)
    fraction = 1.0                      # notional per position as a fraction of equity

    [costs]                             # basis points of traded notional, each side
    commission_bp = 1.0
    spread_bp = 2.0                     # full quoted spread: half is paid on each fill
    slippage_bp = 1.0

    [signals.rsi]                       # parameters of the named signals
    period = 14
    lower = 30
    upper = 70

    [tune]                              # grid for `quantdesk tune`: dotted path -> values
    "signals.rsi.lower" = [20, 25, 30, 35]
    "exit.stop_atr" = [1.5, 2.0, 3.0]

Tunable paths: ``signals.<name>.<param>``, ``exit.stop_atr``, ``exit.max_hold``,
``exit.atr_period``, ``sizing.fraction``, ``sizing.target_vol``, ``sizing.risk_per_trade``.
Errors name the field, e.g.
``rsi_reversal.toml: entry.signals.0: unknown signal 'rsx' (known: rsi, macd, ...)``.
"""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.config import PROJECT_ROOT
from core.errors import DataValidationError
from core.strategy.rules import (
    MODEL_SIGNALS,
    PATTERN_PREFIX,
    SIGNALS,
    known_signal,
    param_signal,
    signal_names,
)

#: the example strategies shipped with the repository
EXAMPLES_DIR = PROJECT_ROOT / "strategies"
#: the example offered first (the one docs/strategy.md walks through)
DEFAULT_EXAMPLE = "rsi_reversal"
TUNABLE_TOP = ("exit.stop_atr", "exit.max_hold", "exit.atr_period", "sizing.fraction",
               "sizing.target_vol", "sizing.risk_per_trade")


class StrategySpecError(DataValidationError):
    """A strategy file is missing, unreadable or invalid; the message names the field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_signals(names: list[str]) -> list[str]:
    for i, n in enumerate(names):
        if not known_signal(n):
            raise ValueError(f"item {i}: unknown signal '{n}' (known: {', '.join(signal_names())})")
    return names


class Entry(_Model):
    """Entry rules: open a long on +1 (a short on -1) of the signals, combined by ``combine``."""

    signals: list[str] = Field(min_length=1)
    combine: Literal["any", "all"] = "any"

    _known = field_validator("signals")(_check_signals)


class Exit(_Model):
    """Exit rules: opposite signals, a stop ``stop_atr`` x ATR(``atr_period``) from the entry
    fill, and a holding limit ``max_hold`` [bars]; None switches a rule off."""

    signals: list[str] = Field(default_factory=list)
    stop_atr: float | None = Field(default=None, gt=0, le=50)
    atr_period: int = Field(default=14, ge=1, le=500)
    max_hold: int | None = Field(default=None, ge=1)

    _known = field_validator("signals")(_check_signals)


class Sizing(_Model):
    """How much an entry buys, the Risk Sizing page's policies (:mod:`core.risk.policies`,
    :func:`core.risk.sizing.risk_shares`), decided from bars <= the signal bar:

    * ``fixed``: notional = ``fraction`` x equity at the fill;
    * ``vol_target``: notional share = min(``fraction``, ``target_vol`` / sigma_t), sigma_t the
      annualised RiskMetrics EWMA volatility at the signal bar (Moreira and Muir 2017);
    * ``atr_risk``: units = ``risk_per_trade`` x equity / stop distance, so a stop hit loses
      about that share of equity before costs (fixed-fractional risk, Van Tharp), capped at
      ``fraction`` x equity of notional; needs ``exit.stop_atr``.

    ``fraction`` [share of equity, (0, 1]] is the notional of ``fixed`` and the cap of the
    others; ``target_vol`` [annualised, (0, 2]]; ``risk_per_trade`` [share of equity, (0, 0.2]].
    """

    policy: Literal["fixed", "vol_target", "atr_risk"] = "fixed"
    fraction: float = Field(default=1.0, gt=0, le=1)
    target_vol: float = Field(default=0.15, gt=0, le=2)
    risk_per_trade: float = Field(default=0.01, gt=0, le=0.2)


class Costs(_Model):
    """Costs in basis points of traded notional: commission per fill, the full bid-ask spread
    (half paid on each fill) and slippage per fill."""

    commission_bp: float = Field(default=1.0, ge=0, le=500)
    spread_bp: float = Field(default=2.0, ge=0, le=500)
    slippage_bp: float = Field(default=1.0, ge=0, le=500)

    @property
    def fill_bp(self) -> float:
        """Price concession per fill [bp]: half the spread plus slippage."""
        return self.spread_bp / 2 + self.slippage_bp


class Strategy(_Model):
    """A validated strategy (module doc for the file format)."""

    name: str = Field(min_length=1)
    description: str = ""
    side: Literal["long", "short", "both"] = "long"
    entry: Entry
    exit: Exit = Exit()
    sizing: Sizing = Sizing()
    costs: Costs = Costs()
    signals: dict[str, dict[str, int | float]] = Field(default_factory=dict)
    tune: dict[str, list[int | float]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _cross_checks(self) -> Strategy:
        if self.sizing.policy == "atr_risk" and self.exit.stop_atr is None:
            raise ValueError("sizing.policy: atr_risk sizes from the stop distance; set "
                             "exit.stop_atr (or use policy fixed or vol_target)")
        for name, params in self.signals.items():
            sd = None if name.startswith(PATTERN_PREFIX) else param_signal(name)
            if sd is None:
                raise ValueError(f"signals.{name}: no parameters to set for '{name}' (parameters "
                                 f"exist for {', '.join([*SIGNALS, *MODEL_SIGNALS])})")
            bad = sorted(set(params) - set(sd.defaults))
            if bad:
                raise ValueError(f"signals.{name}: unknown parameter {', '.join(bad)} (known: "
                                 f"{', '.join(sd.defaults)})")
            if sd.check is not None:
                try:
                    sd.check({**sd.defaults, **params})
                except ValueError as err:
                    raise ValueError(f"signals.{name}: {err}") from None
        for path, values in self.tune.items():
            if not values:
                raise ValueError(f"tune.{path}: give at least one value")
            parts = path.split(".")
            if path in TUNABLE_TOP:
                continue
            sd = param_signal(parts[1]) if len(parts) == 3 and parts[0] == "signals" else None
            if sd is not None and parts[2] in sd.defaults:
                if sd.check is not None:
                    for v in values:
                        try:
                            sd.check({**sd.defaults, **self.signals.get(parts[1], {}),
                                      parts[2]: v})
                        except ValueError as err:
                            raise ValueError(f"tune.{path}: {err}") from None
                continue
            raise ValueError(f"tune.{path}: not a tunable parameter (use signals.<signal>.<param> "
                             f"or one of {', '.join(TUNABLE_TOP)})")
        return self

    def signal_params(self, name: str) -> dict:
        """The parameters set for signal ``name`` (empty: its defaults)."""
        return dict(self.signals.get(name, {}))

    def used_signals(self) -> list[str]:
        """Entry then exit signal names, without repeats."""
        return list(dict.fromkeys([*self.entry.signals, *self.exit.signals]))

    def with_params(self, values: dict[str, float]) -> Strategy:
        """A copy with dotted-path parameters replaced (validated again), e.g.
        ``{"signals.rsi.lower": 25, "exit.stop_atr": 3}``; ``tune`` is kept.

        Raises: StrategySpecError for a path that is not tunable or an invalid value.
        """
        data = copy.deepcopy(self.model_dump())
        for path, v in values.items():
            parts = path.split(".")
            node = data
            for p in parts[:-1]:
                node = node.setdefault(p, {})
            node[parts[-1]] = v
        return _validate(data, self.name)


def _format(err: ValidationError) -> str:
    msgs = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "not a strategy field (check the spelling)"
        msgs.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(msgs)


def _validate(data: dict, where: str) -> Strategy:
    try:
        return Strategy.model_validate(data)
    except ValidationError as err:
        raise StrategySpecError(f"{where}: {_format(err)}") from None


def parse_strategy(text: str, fmt: str = "toml", where: str = "strategy") -> Strategy:
    """Parse and validate a strategy from TOML or JSON text.

    Raises: StrategySpecError naming ``where`` and the field (or the TOML/JSON line).
    """
    try:
        data = tomllib.loads(text) if fmt == "toml" else json.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise StrategySpecError(f"{where}: not valid TOML ({err})") from None
    except json.JSONDecodeError as err:
        raise StrategySpecError(f"{where}: not valid JSON ({err})") from None
    if not isinstance(data, dict):
        raise StrategySpecError(f"{where}: a strategy is a table of fields, not {type(data).__name__}")
    return _validate(data, where)


def load_strategy(path: str | Path) -> Strategy:
    """Read a strategy file (``.toml``, else ``.json``).

    Raises: StrategySpecError: missing or unreadable file, bad TOML/JSON, invalid fields.
    """
    p = Path(path)
    if not p.is_file():
        raise StrategySpecError(f"Strategy file {p} not found" + (" (it is a directory)"
                                if p.is_dir() else "; see strategies/ for examples."))
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise StrategySpecError(f"Cannot read strategy file {p}: {err}") from None
    fmt = "json" if p.suffix.lower() == ".json" else "toml"
    return parse_strategy(text, fmt, p.name)


def example_strategies(folder: str | Path = EXAMPLES_DIR) -> dict[str, Path]:
    """The strategy files in ``folder`` (default: the shipped examples), file stem -> path,
    sorted by stem; empty when the folder is missing."""
    p = Path(folder)
    if not p.is_dir():
        return {}
    files = sorted(f for f in p.iterdir() if f.suffix.lower() in (".toml", ".json") and f.is_file())
    return {f.stem: f for f in files}
