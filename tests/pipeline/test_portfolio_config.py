"""A portfolio strategy's legs in a config: loaded, checked in the catalog, tradable.

Kind: checks of declarations (which series a config names and loads), no numbers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backtest.config import load_config
from backtest.errors import ConfigError
from backtest.pipeline import _strategy_series, validate_config

from ..conftest import REPO

EVENTS = REPO / "data" / "events" / "boj_2024_2025.csv"

CONFIG = f"""
name: t
data:
  series: [UST10Y]
  start: 2024-01-01
  end: 2025-06-30
events:
  files: [{EVENTS}]
event_study:
  model: raw
  windows: [[0, 1]]
strategies:
  - name: bond_spread
    series: UST10Y
    params: {{short: JGB10Y}}
output:
  dir: out
"""


def test_rates_carry_config_validates_and_loads_legs_and_rates():
    path = REPO / "configs" / "rates_carry_2016_2025.yaml"
    cfg = load_config(path)
    validate_config(cfg, path)
    names = set(_strategy_series(cfg))
    assert {"USDJPY", "UST10Y", "JGB10Y", "FEDFUNDS_TARGET", "JPY_CALL"} <= names
    assert [s.name for s in cfg.strategies] == [
        "buy_and_hold",
        "fx_carry",
        "fx_carry",
        "bond_spread",
    ]


def test_legs_are_loaded_although_not_in_data_series(tmp_path: Path):
    path = tmp_path / "run.yaml"
    path.write_text(CONFIG)
    cfg = load_config(path)
    validate_config(cfg, path)
    assert "JGB10Y" in _strategy_series(cfg) and "JGB10Y" not in cfg.data.series


def test_unknown_leg_is_refused(tmp_path: Path):
    path = tmp_path / "run.yaml"
    path.write_text(CONFIG.replace("short: JGB10Y", "short: JGB11Y"))
    expected = r"strategies\[0\]: strategy 'bond_spread' needs series 'JGB11Y'.*; define it"
    with pytest.raises(ConfigError, match=expected):
        validate_config(load_config(path), path)


def test_untradable_leg_is_refused_unless_allowed(tmp_path: Path):
    path = tmp_path / "run.yaml"
    path.write_text(CONFIG.replace("short: JGB10Y", "short: VIX"))
    with pytest.raises(ConfigError, match=r"strategies\[0\]\.legs: series 'VIX' is untradable"):
        validate_config(load_config(path), path)
    path.write_text(
        CONFIG.replace("short: JGB10Y", "short: VIX").replace(
            "series: UST10Y\n    params", "series: UST10Y\n    allow_untradable: true\n    params"
        )
    )
    validate_config(load_config(path), path)
