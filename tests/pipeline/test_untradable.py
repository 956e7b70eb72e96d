"""A strategy on an untradable series (VIX, policy rates) is refused unless allowed.

Reference: the catalog's hand-written ``instrument:`` entries (VIX is ``untradable``);
with ``allow_untradable`` the buy-and-hold return is checked against the VIX levels'
own ratio (last/first level, computed here with pandas).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from backtest import data, engine
from backtest.cli import main
from backtest.errors import StrategyError

from ..conftest import REPO

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

EVENTS = REPO / "data" / "events" / "tariffs_2025.csv"


@pytest.fixture(scope="module")
def levels() -> pd.DataFrame:
    return data.load(["VIX", "SPX"], start="2024-01-01", end="2024-12-31", offline=True)


def test_backtest_and_sweep_refuse_vix(levels):
    with pytest.raises(StrategyError, match=r"engine\.backtest: series 'VIX' is untradable"):
        engine.backtest("buy_and_hold", {}, levels, series="VIX")
    with pytest.raises(StrategyError, match=r"engine\.sweep: series 'VIX'.*e\.g\. SPX"):
        engine.sweep("ma_crossover", {"fast": [5], "slow": [20]}, levels, series="VIX")
    with pytest.raises(StrategyError, match=r"series 'VIX' is untradable"):
        engine.validate("ma_crossover", {"fast": [5], "slow": [20]}, levels, series="VIX")
    # a hand-built frame carries no provenance: nothing says it is untradable
    plain = pd.DataFrame({"VIX": levels["VIX"].to_numpy()}, index=levels.index)
    engine.backtest("buy_and_hold", {}, plain, series="VIX")


def test_allow_untradable_runs(levels):
    res = engine.backtest("buy_and_hold", {}, levels, series="VIX", allow_untradable=True)
    vix = levels["VIX"].dropna()
    # held from the second bar's close (signal at t, filled at t+1) to the last
    expected = vix.iloc[-1] / vix.iloc[1] - 1.0
    assert (1.0 + res.returns).prod() - 1.0 == pytest.approx(expected, rel=1e-9)
    sw = engine.sweep(
        "ma_crossover",
        {"fast": [5], "slow": [20]},
        levels,
        series="VIX",
        allow_untradable=True,
    )
    assert len(sw.table) == 1
    val = engine.validate(
        "ma_crossover", {"fast": [5], "slow": [20]}, levels, series="VIX", allow_untradable=True
    )
    assert val.oos_metrics  # passed through to the sweep
    engine.backtest("buy_and_hold", {}, levels, series="SPX")  # tradable: no keyword needed


CONFIG = f"""
name: t
data:
  series: [UST10Y, SPX]
  start: 2025-01-01
  end: 2025-06-30
events:
  files: [{EVENTS}]
  ids: [liberation_day]
event_study:
  model: raw
  windows: [[0, 1]]
strategies:
  - name: buy_and_hold
    series: VIX
output:
  dir: out
"""


def test_config_trading_vix_exits_2_before_any_work(tmp_path: Path, capsys):
    path = tmp_path / "run.yaml"
    path.write_text(CONFIG)
    code = main(["run", str(path), "--offline"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2
    assert "strategies[0].series: series 'VIX' is untradable" in err
    assert "set strategies[0].allow_untradable: true" in err
    assert not (tmp_path / "out").exists()


def test_config_with_allow_untradable_runs(tmp_path: Path, capsys):
    path = tmp_path / "run.yaml"
    path.write_text(CONFIG.replace("series: VIX", "series: VIX\n    allow_untradable: true"))
    code = main(["--quiet", "run", str(path), "--offline"])
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "out").exists()
