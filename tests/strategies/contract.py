"""The contract every strategy keeps, as one test class that each strategy's tests subclass.

Subclass :class:`StrategyContract` in a ``test_*.py`` module with a name starting with
``Test`` and set the class attributes:

``strategy_cls``
    The :class:`backtest.strategy.Strategy` subclass under test.
``params``
    A few parameter mappings to run the checks with (each parsed by the strategy).
``series``
    The traded series (catalog name, default ``"USDJPY"``).
``cuts``
    Dates at which the no-look-ahead check truncates the data.

A portfolio strategy (:meth:`~backtest.strategy.Strategy.legs` lists two or more
series) returns a DataFrame with one column per leg; the checks then compare frames.

The data are real: the bundled snapshot (``offline=True``) from 2019 to 2025 for the
traded series and every series the parameter sets require, and the tariff, FOMC and
BoJ calendars in ``data/events``. Kind: invariants only. No expected value comes from
outside: each check compares the strategy with itself under a change that must not
matter (dropped future data = no look-ahead, a batch instead of one call, a second
call), or checks declarations and bounds. The numbers of each built-in strategy are
checked against hand-computed and pandas references in ``test_builtins.py``.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from backtest import data as data_mod
from backtest import events as events_mod
from backtest.errors import ConfigError
from backtest.strategy import MarketData, Strategy, StrategyParams, get_strategy

REPO = Path(__file__).resolve().parents[2]
EVENT_FILES = ("tariffs_2025.csv", "fomc_2024_2025.csv", "boj_2024_2025.csv")
START, END = "2019-01-01", "2025-12-31"


@cache
def snapshot_levels(names: tuple[str, ...]) -> pd.DataFrame:
    """Levels of `names` from the bundled snapshot, 2019-2025 (loaded once per name set)."""
    return data_mod.load(list(names), start=START, end=END, offline=True)


@cache
def all_events() -> pd.DataFrame:
    """Tariff, FOMC and BoJ calendars in one canonical frame, sorted by time."""
    frames = [events_mod.load(REPO / "data" / "events" / name) for name in EVENT_FILES]
    merged = pd.concat(frames, ignore_index=True).sort_values("timestamp", kind="stable")
    return events_mod.from_frame(merged.reset_index(drop=True))


def assert_same(left: pd.Series | pd.DataFrame, right: pd.Series | pd.DataFrame, **kw: Any) -> None:
    """Exact equality of two positions: Series (one leg) or DataFrames (a portfolio)."""
    if isinstance(left, pd.DataFrame):
        assert isinstance(right, pd.DataFrame)
        pd.testing.assert_frame_equal(left, right, check_exact=True, **kw)
    else:
        pd.testing.assert_series_equal(left, right, check_exact=True, **kw)


def _label(params: Mapping[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in params.items()) or "defaults"


class StrategyContract:
    """Checks every strategy must pass; subclass it as ``TestMyStrategy``."""

    strategy_cls: ClassVar[type[Strategy]]
    params: ClassVar[Sequence[Mapping[str, Any]]] = ({},)
    series: ClassVar[str] = "USDJPY"
    cuts: ClassVar[Sequence[str]] = (
        "2019-03-29",  # early: most rolling windows are still empty
        "2020-03-16",  # COVID stress: VIX spike
        "2022-10-21",  # intervention day in USD/JPY
        "2024-08-05",  # carry unwind
        "2025-04-02",  # Liberation Day, announced after the New York close
        "2025-04-03",  # its day 0
        "2025-04-09",  # 90-day pause
        "2025-12-30",  # one bar before the end
    )

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Parametrise ``param_set`` over :attr:`params` and ``cut`` over :attr:`cuts`."""
        if "param_set" in metafunc.fixturenames:
            metafunc.parametrize(
                "param_set", list(self.params), ids=[_label(p) for p in self.params]
            )
        if "cut" in metafunc.fixturenames:
            metafunc.parametrize("cut", list(self.cuts))

    # Fixtures -------------------------------------------------------------------------

    @pytest.fixture
    def strategy(self) -> Strategy:
        return self.strategy_cls()

    @pytest.fixture
    def market_data(self, strategy: Strategy) -> MarketData:
        """Real data: the traded series, every required series, and three calendars."""
        names = [self.series]
        for params in self.params:
            parsed = strategy.parse(params)
            for name in [
                *strategy.legs(parsed, self.series),
                *strategy.required_series(parsed, self.series),
            ]:
                if name not in names:
                    names.append(name)
        return MarketData(
            levels=snapshot_levels(tuple(names)), series=self.series, events=all_events()
        )

    # Declaration ----------------------------------------------------------------------

    def test_declares_name_params_and_docstring(self) -> None:
        cls = self.strategy_cls
        assert isinstance(cls.name, str) and cls.name.isidentifier()
        assert issubclass(cls.Params, StrategyParams)
        assert cls.Params is not StrategyParams, "declare Params, even if empty"
        assert cls.describe(), "the first docstring paragraph states the idea"
        assert "Parameters\n" in (cls.__doc__ or "")
        assert cls.execution in ("next_close", "same_close")

    def test_params_is_the_generic_argument(self) -> None:
        # class Foo(Strategy[FooParams]) must also say Params = FooParams (a plain
        # Strategy subclass, the older form, has no argument to check).
        args = [
            typing.get_args(base)
            for base in vars(self.strategy_cls).get("__orig_bases__", ())
            if typing.get_origin(base) is Strategy
        ]
        for (arg,) in args:
            assert self.strategy_cls.Params is arg

    def test_registered_under_its_name(self) -> None:
        assert type(get_strategy(self.strategy_cls.name)) is self.strategy_cls

    def test_defaults_parse(self, strategy: Strategy) -> None:
        assert isinstance(strategy.parse({}), self.strategy_cls.Params)

    def test_parse_rejects_unknown_parameter(self, strategy: Strategy) -> None:
        with pytest.raises(ConfigError, match=r"params\.no_such_knob: unknown parameter") as err:
            strategy.parse({**self.params[0], "no_such_knob": 1})
        assert self.strategy_cls.name in str(err.value)

    def test_param_sets_parse(self, strategy: Strategy, param_set: Mapping[str, Any]) -> None:
        parsed = strategy.parse(param_set)
        assert strategy.parse(parsed) is parsed
        for key, value in param_set.items():
            assert getattr(parsed, key) == value

    # Output ---------------------------------------------------------------------------

    def test_positions_on_own_dates_finite_within_bounds(
        self, strategy: Strategy, market_data: MarketData, param_set: Mapping[str, Any]
    ) -> None:
        params = strategy.parse(param_set)
        pos = strategy.positions(market_data, params)
        legs = strategy.legs(params, self.series)
        if len(legs) > 1:  # a portfolio: one column of weights per leg
            assert isinstance(pos, pd.DataFrame)
            assert pos.columns.tolist() == legs
            assert (pos.dtypes == np.float64).all()
        else:
            assert isinstance(pos, pd.Series)
            assert pos.dtype == np.float64
        pd.testing.assert_index_equal(pos.index, market_data.price.index)
        values = pos.to_numpy()
        assert np.isfinite(values).all()
        assert ((values >= -1.0) & (values <= 1.0)).all()

    def test_no_look_ahead(
        self,
        strategy: Strategy,
        market_data: MarketData,
        param_set: Mapping[str, Any],
        cut: str,
    ) -> None:
        """Positions up to `cut` do not change when the data after `cut` are dropped."""
        params = strategy.parse(param_set)
        end = pd.Timestamp(cut)
        full = strategy.positions(market_data, params)
        short = strategy.positions(market_data.truncated(end), params)
        assert len(short) > 0 and short.index[-1] <= end
        assert_same(short, full.loc[:end])

    def test_no_look_ahead_every_quarter(
        self, strategy: Strategy, market_data: MarketData, param_set: Mapping[str, Any]
    ) -> None:
        """The same check at every 60th bar (about quarterly) of the traded series."""
        params = strategy.parse(param_set)
        full = strategy.positions(market_data, params)
        for end in market_data.price.index[::60]:
            short = strategy.positions(market_data.truncated(end), params)
            assert_same(short, full.loc[:end], obj=f"positions up to {end.date()}")

    def test_positions_many_equals_positions(
        self, strategy: Strategy, market_data: MarketData
    ) -> None:
        parsed = [strategy.parse(p) for p in self.params]
        many = strategy.positions_many(market_data, parsed)
        assert isinstance(many, pd.DataFrame)
        pd.testing.assert_index_equal(many.index, market_data.price.index)
        legs = [strategy.legs(p, self.series) for p in parsed]
        if max(len(x) for x in legs) > 1:  # columns (parameter set, leg)
            assert many.columns.tolist() == [(i, leg) for i, x in enumerate(legs) for leg in x]
            for i, params in enumerate(parsed):
                one = strategy.positions(market_data, params)
                np.testing.assert_array_equal(many[i].to_numpy(), one.to_numpy())
            return
        assert many.shape == (len(market_data.price), len(parsed))
        for i, params in enumerate(parsed):
            one = strategy.positions(market_data, params)
            np.testing.assert_array_equal(many.iloc[:, i].to_numpy(), one.to_numpy())

    def test_deterministic_and_leaves_data_alone(
        self, strategy: Strategy, market_data: MarketData, param_set: Mapping[str, Any]
    ) -> None:
        levels = market_data.levels.copy(deep=True)
        events = None if market_data.events is None else market_data.events.copy(deep=True)
        params = strategy.parse(param_set)
        first = strategy.positions(market_data, params)
        second = self.strategy_cls().positions(market_data, params)
        assert_same(first, second)
        pd.testing.assert_frame_equal(market_data.levels, levels, check_exact=True)
        if events is not None:
            pd.testing.assert_frame_equal(market_data.events, events, check_exact=True)
