"""Third-party strategies found through the ``backtest.strategies`` entry-point group.

Each test installs tiny distributions into a temporary directory (a module and a
``*.dist-info`` folder with ``METADATA`` and ``entry_points.txt``) and puts it on
``sys.path``, which is all :func:`importlib.metadata.entry_points` needs to find them.
:func:`backtest.strategy.discover` caches its lookup, so :func:`install` makes it look
again, as a user would after installing a package in a running session.

Kind: behaviour of the registry (discovery, caching, errors); no expected number.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from backtest import engine
from backtest.errors import StrategyError
from backtest.strategy import (
    ENTRY_POINT_GROUP,
    MarketData,
    Strategy,
    StrategyParams,
    discover,
    get_strategy,
)

BUILTINS = {
    "buy_and_hold",
    "ma_crossover",
    "event_drift",
    "risk_off_yen",
    "rate_spread",
    "fx_carry",
    "bond_spread",
}

PLUGIN_MODULE = '''
"""A third-party strategy, as another package would ship it."""

import pandas as pd

from backtest.strategy import MarketData, Strategy, StrategyParams


class MyStrat(Strategy):
    """Hold a fixed fraction of the series long.

    Parameters
    ----------
    fraction : float
        Position on every bar.
    """

    name = "my_strat"

    class Params(StrategyParams):
        fraction: float = 0.5

    def positions(self, data: MarketData, params: StrategyParams) -> pd.Series:
        return pd.Series(params.fraction, index=data.price.index)
'''


def install(
    root: Path,
    dist: str,
    modules: dict[str, str],
    entry_points: dict[str, str],
    *,
    refresh: bool = True,
) -> None:
    """Write modules and a ``<dist>-0.1.dist-info`` declaring `entry_points` under `root`.

    With `refresh`, :func:`~backtest.strategy.discover` then looks plugins up again.
    """
    for name, source in modules.items():
        (root / f"{name}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{lines}")
    importlib.invalidate_caches()
    if refresh:
        discover(refresh=True)


@pytest.fixture
def site(tmp_path):
    """A temporary site directory on sys.path; its modules are forgotten afterwards."""
    sys.path.insert(0, str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in set(sys.modules) - before:
        if name in ("thirdparty_strat", "broken_strat", "late_strat"):
            del sys.modules[name]
    importlib.invalidate_caches()
    discover(refresh=True)  # forget this test's plugins


@pytest.fixture
def plugin(site):
    install(
        site,
        "thirdparty_strat",
        {"thirdparty_strat": PLUGIN_MODULE},
        {"my_strat": "thirdparty_strat:MyStrat"},
    )
    return site


@pytest.fixture
def broken(plugin):
    install(
        plugin,
        "broken_plugin",
        {"broken_strat": 'raise ImportError("broken_strat needs libfoo, which is not installed")'},
        {"broken_strat": "broken_strat:Broken"},
    )
    return plugin


def test_entry_point_is_visible_to_importlib_metadata(plugin):
    eps = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    assert "my_strat" in eps.names
    assert eps["my_strat"].value == "thirdparty_strat:MyStrat"


def test_plugin_is_discovered_beside_the_builtins(plugin):
    found = discover()
    assert BUILTINS | {"my_strat"} <= set(found)
    entry = found["my_strat"]
    assert entry.error is None and entry.cls is not None
    assert entry.cls.__module__ == "thirdparty_strat"
    assert entry.source == "entry point thirdparty_strat:MyStrat"


def test_plugin_runs_through_get_strategy(plugin):
    strategy = get_strategy("my_strat")
    idx = pd.DatetimeIndex(["2025-01-06", "2025-01-07"], name="date")
    data = MarketData(pd.DataFrame({"USDJPY": [150.0, 151.0]}, index=idx), "USDJPY")
    pos = strategy.positions(data, strategy.parse({"fraction": 0.25}))
    assert pos.tolist() == [0.25, 0.25]
    assert strategy.describe() == "Hold a fixed fraction of the series long."


def test_broken_plugin_is_reported_by_name_and_others_still_load(broken):
    found = discover()
    entry = found["broken_strat"]
    assert entry.cls is None
    assert isinstance(entry.error, ImportError)
    assert "libfoo" in str(entry.error)
    assert all(found[name].cls is not None for name in BUILTINS | {"my_strat"})
    with pytest.raises(StrategyError) as err:
        get_strategy("broken_strat")
    message = str(err.value)
    assert "'broken_strat'" in message and "broken_strat:Broken" in message
    assert "ImportError: broken_strat needs libfoo" in message
    assert isinstance(err.value.__cause__, ImportError)
    assert get_strategy("my_strat").name == "my_strat"


def test_entry_point_to_a_non_strategy_is_reported(site):
    install(
        site,
        "not_a_strategy",
        {"thirdparty_strat": "class MyStrat:\n    pass\n"},
        {"my_strat": "thirdparty_strat:MyStrat"},
    )
    with pytest.raises(StrategyError, match=r"is not a backtest\.strategy\.Strategy subclass"):
        get_strategy("my_strat")


def test_unknown_name_suggests_close_matches(plugin):
    with pytest.raises(StrategyError, match="unknown strategy 'my_strt'; did you mean my_strat"):
        get_strategy("my_strt")
    with pytest.raises(StrategyError, match="did you mean ma_crossover") as err:
        get_strategy("ma_crosover")
    assert "installed: " in str(err.value) and "my_strat" in str(err.value)


def test_discover_imports_each_plugin_once(plugin):
    # install() looked plugins up once; later lookups reuse what that found.
    first = discover()["my_strat"].cls
    del sys.modules["thirdparty_strat"]
    assert discover()["my_strat"].cls is first
    assert type(get_strategy("my_strat")) is first
    assert "thirdparty_strat" not in sys.modules  # not imported again
    again = discover(refresh=True)["my_strat"].cls
    assert "thirdparty_strat" in sys.modules and again is not first


def test_discover_returns_a_new_dict_each_time(plugin):
    found = discover()
    del found["my_strat"]
    assert "my_strat" in discover()


def test_broken_plugin_stays_reported_on_later_lookups(broken):
    error = discover()["broken_strat"].error
    assert isinstance(error, ImportError)
    assert discover()["broken_strat"].error is error
    with pytest.raises(StrategyError, match="libfoo"):
        get_strategy("broken_strat")
    assert get_strategy("my_strat").name == "my_strat"


def test_plugin_installed_after_the_first_lookup_is_found_by_name(site):
    assert "late_strat" not in discover()
    install(
        site,
        "late_strat",
        {"late_strat": PLUGIN_MODULE.replace('"my_strat"', '"late_strat"')},
        {"late_strat": "late_strat:MyStrat"},
        refresh=False,
    )
    assert "late_strat" not in discover()  # cached
    assert get_strategy("late_strat").name == "late_strat"  # an unknown name looks again
    assert "late_strat" in discover()


class OldStyle(Strategy):
    """A plugin written before ``Strategy`` was generic: nested Params, cast by hand."""

    name = "old_style"

    class Params(StrategyParams):
        fraction: float = 1.0

    def _params(self, params: StrategyParams) -> OldStyle.Params:
        p = self.parse(params)
        assert isinstance(p, OldStyle.Params)
        return p

    def required_series(self, params: StrategyParams, traded: str) -> list[str]:
        return []

    def positions(self, data: MarketData, params: StrategyParams) -> pd.Series:
        return pd.Series(self._params(params).fraction, index=data.price.index)


def test_plugin_written_the_old_way_still_runs():
    strategy = OldStyle()
    parsed = strategy.parse({"fraction": 0.5})
    assert type(parsed) is OldStyle.Params and strategy.parse(parsed) is parsed
    idx = pd.bdate_range("2025-01-06", periods=5, name="date")
    levels = pd.DataFrame({"USDJPY": [150.0, 151.0, 150.5, 152.0, 151.0]}, index=idx)
    data = MarketData(levels, "USDJPY")
    # Expected: the fraction on every bar (hand-written).
    assert strategy.positions(data, parsed).tolist() == [0.5] * 5
    many = strategy.positions_many(data, [parsed, strategy.parse({})])
    assert many[0].tolist() == [0.5] * 5 and many[1].tolist() == [1.0] * 5
    result = engine.backtest(strategy, {"fraction": 0.5}, levels, series="USDJPY")
    assert len(result.returns) == 5
    sweep = engine.sweep(strategy, {"fraction": [0.25, 0.5]}, levels, series="USDJPY")
    assert len(sweep.table) == 2
