"""One strategy, one parameter set: :func:`backtest`.

Metrics are annualised by observations per year (252 by default), not calendar days.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from backtest import metrics as mt
from backtest.engine.book import (
    attribution,
    check_legs,
    conventions,
    kept_trades,
    kept_weights,
    leg_names,
    measure,
    open_book,
    rates_for,
    simulate,
    simulator_name,
    simulator_of,
    targets,
)
from backtest.engine.legs import DEFAULT_FUNDING, Funding
from backtest.engine.results import METRICS, BacktestResult
from backtest.engine.simulate import (
    dispose,
    market_data,
    resolve,
    run_settings,
)
from backtest.errors import ConfigError
from backtest.strategy import Strategy, StrategyParams

__all__ = ["backtest"]


def backtest(
    strategy: str | Strategy,
    params: Mapping[str, Any] | StrategyParams,
    levels: pd.DataFrame,
    events: pd.DataFrame | None = None,
    *,
    series: str,
    fees_bps: float | Mapping[str, float] = 0.0,
    slippage_bps: float | Mapping[str, float] = 0.0,
    periods_per_year: int = 252,
    risk_free: float = 0.0,
    day0: pd.DataFrame | None = None,
    allow_untradable: bool = False,
    funding: Funding = DEFAULT_FUNDING,
    rates: pd.DataFrame | None = None,
    short_rates: Mapping[str, str] | None = None,
    simulator: str = "auto",
) -> BacktestResult:
    """Backtest one strategy with one parameter set on vectorbt.

    Each held series earns its catalog instrument's return (a bond's total return from
    its yield, a currency pair's spot move plus carry, an index's price return; see
    :mod:`backtest.engine.legs`); a frame without provenance is traded as prices.

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
        Traded series (a column of `levels`); a portfolio strategy's first leg, whose
        dates are the portfolio's bars.
    fees_bps, slippage_bps : float or mapping
        Costs in basis points of traded value: one value for every leg, or one per leg
        (``{"UST10Y": 0.5, "JGB10Y": 1.0}``, a leg left out costs nothing).
    periods_per_year : int
        Observations per year for annualisation (252 trading days).
    risk_free : float
        Constant annual risk-free rate for Sharpe and Sortino when no leg is funded
        (``funding="none"``, or legs without a currency).
    day0 : pandas.DataFrame, optional
        Day-0 dates from an event study (events x series).
    allow_untradable : bool, default False
        Trade a series whose catalog instrument is ``untradable`` (VIX, policy rates)
        as a price anyway; by default that is refused.
    funding : {"short_rate", "none"}, default "short_rate"
        ``"short_rate"``: Sharpe, Sortino and volatility are of excess returns, each
        bond and index leg charged its currency's short rate
        (:data:`backtest.engine.legs.SHORT_RATES`); ``"none"``: of the returns over the
        constant `risk_free`. The returns themselves do not depend on it.
    rates : pandas.DataFrame, optional
        Short rates (percent per year, columns named as in the catalog); default: the
        columns of `levels`, else loaded through the catalog (from the snapshot when
        `levels` came from it).
    short_rates : mapping, optional
        Currency -> catalog series of its short rate, overriding the defaults.
    simulator : {"auto", "kernel", "vectorbt"}
        The simulation path (:data:`backtest.engine.book.SIMULATORS`): by default the
        numba kernel, which reproduces vectorbt's fills; ``"vectorbt"`` runs
        ``Portfolio.from_orders``. Recorded in ``settings["simulator"]``.

    Returns
    -------
    BacktestResult
        With ``excess_returns`` and ``attribution`` (price, accrual or carry, funding,
        costs per leg).

    Raises
    ------
    backtest.errors.DataValidationError
        `levels` is not a sorted frame of unique naive dates, or a used column is
        not numeric or all NaN (:func:`backtest.data.check_levels`); a short rate a leg
        needs is missing or starts too late.
    backtest.errors.StrategyError
        A held series is untradable per the levels' provenance (its catalog
        ``instrument:``) and `allow_untradable` is False; the message names it and a
        tradable alternative.
    backtest.errors.ConfigError
        `risk_free` is set while the legs are funded by their short rates.
    """
    strat = resolve(strategy)
    path = simulator_of(simulator)
    p = strat.parse(params)
    legs = leg_names(strat, p, series)
    check_legs(
        levels,
        legs,
        "engine.backtest",
        allow_untradable=allow_untradable,
        also=strat.required_series(p, series),
    )
    data = market_data(strat, p, levels, series, events, day0)
    bars = data.price.index
    book = open_book(
        levels,
        legs,
        bars,
        rates=rates_for(levels, legs, bars, rates=rates, funding=funding, short_rates=short_rates),
        funding=funding,
        short_rates=short_rates,
        allow_untradable=allow_untradable,
    )
    check_risk_free(book.funded, risk_free, "engine.backtest")
    target = targets(strat, data, [p], legs, bars)
    sim = simulate(strat, book, target, fees_bps, slippage_bps, keep=True, path=path)
    trades = kept_trades(sim, book)
    parts = attribution(sim, book)
    if sim.pf is not None:
        dispose(sim.pf)
        sim.pf = None
    rf_p = mt.per_period_risk_free(risk_free, periods_per_year)
    columns, _ = measure(sim, len(legs), rf_p, float(periods_per_year))
    metrics = {k: float(columns[k][0]) for k in METRICS}
    returns = pd.Series(sim.returns[:, 0], index=bars, name="returns")
    excess = returns if sim.excess is None else pd.Series(sim.excess[:, 0], index=bars)
    weights = kept_weights(sim, book)
    return BacktestResult(
        strategy=strat.name,
        series=series,
        params=p.model_dump(mode="json"),
        returns=returns,
        positions=weights.iloc[:, 0].rename("position") if len(legs) == 1 else weights,
        trades=trades,
        metrics=metrics,
        settings={
            **run_settings(strat, fees_bps, slippage_bps, periods_per_year, risk_free),
            "funding": funding,
            "simulator": simulator_name(path),
            "instruments": {leg.name: leg.instrument for leg in book.legs},
            "conventions": conventions(book, risk_free),
        },
        legs=tuple(legs),
        excess_returns=excess.rename("excess_returns"),
        attribution=parts,
    )


def check_risk_free(funded: bool, risk_free: float, where: str) -> None:
    """Refuse a constant risk-free rate next to funded legs (two risk-free rates)."""
    if funded and risk_free != 0.0:
        raise ConfigError(
            f"{where}: risk_free={risk_free:g} applies only when no leg is funded; the legs "
            "are charged their currencies' short rates (funding='short_rate'); pass "
            "funding='none' to use a constant risk-free rate"
        )
