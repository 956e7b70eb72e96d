"""Tests of backtest/testing.py: the public strategy contract catches what it promises to.

Each broken strategy below breaks one rule on purpose (looks one bar ahead, leaves
[-1, 1], returns NaN, forgets its docstring, is not registered); the expected outcome
is written by hand: which check fails and what its message names. A built-in strategy
passes every check. Data: the bundled snapshot (offline), as in the built-ins' tests.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from backtest.errors import DataValidationError
from backtest.strategy import MarketData, Strategy, StrategyParams
from backtest.testing import check_strategy, snapshot_levels
from strategies.baselines import MACrossover


class _Window(StrategyParams):
    window: int = 5


class AboveMean(Strategy[_Window]):
    """Long while USD/JPY is above its rolling mean.

    Parameters
    ----------
    window : int
        Bars in the mean.
    """

    name = "above_mean"
    Params = _Window

    def positions(self, data: MarketData, params: _Window) -> pd.Series:
        price = data.price
        mean = price.rolling(params.window, min_periods=params.window).mean()
        return (price > mean).astype("float64")


class PeeksAhead(AboveMean):
    """Long the day before the series rises: uses tomorrow's level.

    Parameters
    ----------
    window : int
        Unused.
    """

    name = "peeks_ahead"

    def positions(self, data: MarketData, params: _Window) -> pd.Series:
        price = data.price
        return (price.shift(-1) > price).astype("float64")


class TooBig(AboveMean):
    """Twice the position of above_mean.

    Parameters
    ----------
    window : int
        Bars in the mean.
    """

    name = "too_big"

    def positions(self, data: MarketData, params: _Window) -> pd.Series:
        return 2.0 * super().positions(data, params)


class LeavesNaN(AboveMean):
    """NaN where the mean is not known yet.

    Parameters
    ----------
    window : int
        Bars in the mean.
    """

    name = "leaves_nan"

    def positions(self, data: MarketData, params: _Window) -> pd.Series:
        price = data.price
        mean = price.rolling(params.window, min_periods=params.window).mean()
        return (price > mean).astype("float64").where(mean.notna())


class NoDocs(AboveMean):
    """No parameters section."""

    name = "no_docs"


def test_a_builtin_passes_every_check():
    check_strategy(MACrossover, params=[{"fast": 5, "slow": 20}, {"fast": 1, "slow": 2}])


def test_a_correct_plugin_passes_unregistered_only_when_told():
    check_strategy(AboveMean, params=[{}, {"window": 60}], registered=False)
    with pytest.raises(AssertionError, match=r"'above_mean' is not registered.*registered=False"):
        check_strategy(AboveMean)


def test_look_ahead_is_caught_with_the_date_and_the_first_bar_that_differs():
    with pytest.raises(AssertionError) as err:
        check_strategy(PeeksAhead, registered=False)
    text = str(err.value)
    assert "'peeks_ahead' (defaults) looks ahead" in text
    # The first default cut is 2019-03-29. Snapshot USD/JPY: 110.68 on 2019-03-29,
    # 111.29 on 2019-04-01 (a rise). With the data up to the cut, its last bar has no
    # next level (flat, 0.0); with all the data it is long (1.0): they differ there.
    assert re.search(r"positions up to 2019-03-29 change", text)
    assert "first at 2019-03-29: [0.0] without the later data, [1.0] with them" in text


def test_positions_outside_the_bounds_are_refused():
    expected = r"'too_big'.*positions outside \[-1, 1\] \(max \|position\| 2\)"
    with pytest.raises(AssertionError, match=expected):
        check_strategy(TooBig, registered=False)


def test_nan_positions_are_refused():
    with pytest.raises(AssertionError, match=r"4 positions are NaN"):  # window 5: 4 bars
        check_strategy(LeavesNaN, registered=False)


def test_a_missing_parameters_section_is_named():
    with pytest.raises(AssertionError, match=r"'no_docs'.*'Parameters' section"):
        check_strategy(NoDocs, registered=False)


def test_levels_without_the_traded_series_are_bad_input():
    levels = snapshot_levels(("UST10Y",))
    with pytest.raises(DataValidationError, match=r"levels: missing series \['USDJPY'\]"):
        check_strategy(AboveMean, levels=levels, registered=False)


def test_given_levels_are_used_and_cuts_outside_them_skipped():
    # Only 2024-2025: the 2019-2022 cuts fall outside and are skipped, not failed.
    levels = snapshot_levels(("USDJPY",)).loc["2024-01-01":]
    check_strategy(AboveMean, levels=levels, registered=False)
    with pytest.raises(AssertionError, match="positions up to 2024-08-05 change"):
        check_strategy(PeeksAhead, levels=levels, registered=False)


def test_not_a_strategy_is_a_type_error():
    with pytest.raises(TypeError, match="Strategy subclass"):
        check_strategy(int)  # type: ignore[arg-type]
