"""One strategy, one parameter set: :func:`backtest`.

Metrics are annualised by observations per year (252 by default), not calendar days.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from backtest import metrics as mt
from backtest.data.validate import check_levels
from backtest.engine.results import METRICS, BacktestResult
from backtest.engine.simulate import (
    check_price,
    dispose,
    held_positions,
    market_data,
    portfolio,
    portfolio_returns,
    resolve,
    run_settings,
    trade_table,
)
from backtest.engine.tradable import check_tradable
from backtest.strategy import Strategy, StrategyParams

__all__ = ["backtest"]


def backtest(
    strategy: str | Strategy,
    params: Mapping[str, Any] | StrategyParams,
    levels: pd.DataFrame,
    events: pd.DataFrame | None = None,
    *,
    series: str,
    fees_bps: float = 0.0,
    slippage_bps: float = 0.0,
    periods_per_year: int = 252,
    risk_free: float = 0.0,
    day0: pd.DataFrame | None = None,
    allow_untradable: bool = False,
) -> BacktestResult:
    """Backtest one strategy with one parameter set on vectorbt.

    Parameters
    ----------
    strategy : str or Strategy
        Registered name (``"ma_crossover"``) or an instance.
    params : mapping or StrategyParams
        Parameters, validated against the strategy's ``Params``.
    levels : pandas.DataFrame
        Levels as returned by :func:`backtest.data.load`.
    events : pandas.DataFrame, optional
        Events for event-driven strategies.
    series : str
        Traded series (a column of `levels`).
    fees_bps, slippage_bps : float
        Costs in basis points of traded value.
    periods_per_year : int
        Observations per year for annualisation (252 trading days).
    risk_free : float
        Annual risk-free rate for Sharpe and Sortino.
    day0 : pandas.DataFrame, optional
        Day-0 dates from an event study (events x series).
    allow_untradable : bool, default False
        Trade a series whose catalog instrument is ``untradable`` (VIX, policy rates)
        as a price anyway; by default that is refused.

    Returns
    -------
    BacktestResult

    Raises
    ------
    backtest.errors.DataValidationError
        `levels` is not a sorted frame of unique naive dates, or a used column is
        not numeric or all NaN (:func:`backtest.data.check_levels`).
    backtest.errors.StrategyError
        `series` is untradable per the levels' provenance (its catalog
        ``instrument:``) and `allow_untradable` is False; the message names it and a
        tradable alternative.
    """
    check_tradable(levels, series, "engine.backtest", allow_untradable=allow_untradable)
    strat = resolve(strategy)
    p = strat.parse(params)
    check_levels(
        levels, where="engine.backtest", columns=[series, *strat.required_series(p, series)]
    )
    check_price(levels, series, "engine.backtest")
    data = market_data(strat, p, levels, series, events, day0)
    price = data.price
    target = strat.positions(data, p).reindex(price.index).to_frame(0)
    held = held_positions(strat, target)
    pf = portfolio(price, held, fees_bps, slippage_bps)
    returns = pd.Series(portfolio_returns(pf).reshape(-1), index=price.index, name="returns")
    trades = trade_table(pf)
    dispose(pf)
    perf = mt.performance(
        returns,
        held[0],
        trade_returns=trades["return"],
        periods_per_year=periods_per_year,
        risk_free=risk_free,
    )
    metrics = {k: float(perf.iloc[0][k]) for k in METRICS}
    return BacktestResult(
        strategy=strat.name,
        series=series,
        params=p.model_dump(mode="json"),
        returns=returns,
        positions=held[0].rename("position"),
        trades=trades,
        metrics=metrics,
        settings=run_settings(strat, fees_bps, slippage_bps, periods_per_year, risk_free),
    )
