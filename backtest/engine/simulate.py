"""Simulation: from a strategy's target positions to a vectorbt portfolio and back.

The only module of the project that imports vectorbt (inside its functions, so that
importing the engine stays fast).  Everything the single backtest and the sweep chunks
share lives here: resolving the strategy, the market data it sees, the execution lag,
the vectorbt call, reading trades out of the portfolio and freeing it.

Execution rule: a target position computed from data up to the close of bar ``t`` is
filled at the close of bar ``t + 1`` (strategies may declare ``execution =
"same_close"`` explicitly). Orders are placed only when the target changes, at the
close, with fees and slippage in basis points of traded value.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from backtest.engine.records import TRADE_COLUMNS as _TRADE_COLUMNS
from backtest.errors import DataValidationError, StrategyError
from backtest.strategy import MarketData, Strategy, StrategyParams, get_strategy

__all__ = [
    "TRADE_COLUMNS",
    "check_price",
    "dispose",
    "held_positions",
    "market_data",
    "portfolio",
    "resolve",
    "run_settings",
    "trade_table",
    "warm_up",
]

#: Columns of a backtest's trade table (defined with the trade records it is read from).
TRADE_COLUMNS = _TRADE_COLUMNS


def resolve(strategy: str | Strategy) -> Strategy:
    """The strategy instance of a registered name, or the instance itself."""
    return get_strategy(strategy) if isinstance(strategy, str) else strategy


def check_price(levels: pd.DataFrame, series: str, where: str) -> None:
    """Refuse a traded series with a non-positive level: the engine trades it as a price.

    A ``bond`` leg (per the levels' provenance) is traded from its yield, which may be
    negative (JGBs), and is not checked.

    Raises
    ------
    DataValidationError
        Naming `where`, the series, the first such level and its date.
    """
    from backtest.engine.legs import instrument_of

    if series not in levels.columns:
        return  # reported by market_data, with the columns there are
    if (instrument_of(levels, series) or {}).get("kind") == "bond":
        return
    values = levels[series].to_numpy(dtype=float)
    bad = np.flatnonzero(values <= 0.0)
    if bad.size:
        day = levels.index[bad[0]]
        raise DataValidationError(
            f"{where}: series {series!r} has a non-positive level {values[bad[0]]:g} on "
            f"{day:%Y-%m-%d} ({bad.size} such rows); the engine trades a series as a price, "
            "which must be positive"
        )


def market_data(
    strategy: Strategy,
    params: StrategyParams,
    levels: pd.DataFrame,
    series: str,
    events: pd.DataFrame | None,
    day0: pd.DataFrame | None,
) -> MarketData:
    """What the strategy sees, after checking that every series it needs is there.

    Raises
    ------
    StrategyError
        A series the strategy needs is not a column of `levels`.
    """
    needed = [series, *strategy.required_series(params, series)]
    missing = [n for n in needed if n not in levels.columns]
    if missing:
        raise StrategyError(
            f"strategy {strategy.name!r} needs series {missing} that are not in the data; "
            f"columns: {list(levels.columns)}"
        )
    return MarketData(levels=levels, series=series, events=events, day0=day0)


def held_positions(strategy: Strategy, target: pd.DataFrame) -> pd.DataFrame:
    """Apply the execution lag: position held over bar t+1 onward is the target of bar t.

    A NaN target is flat, targets are clipped to [-1, 1], and the position is flat
    before the first fill. The result is Fortran-ordered (a column is contiguous).
    """
    t = target.to_numpy(dtype=float, na_value=np.nan)
    held = np.zeros(t.shape, order="F")  # NaN target: flat; before the first fill: flat
    lag = 0 if strategy.execution == "same_close" else 1
    held[lag:] = np.clip(np.nan_to_num(t[: len(t) - lag], nan=0.0), -1.0, 1.0)
    return pd.DataFrame(held, index=target.index, columns=target.columns, copy=False)


def portfolio(
    price: pd.Series | pd.DataFrame,
    held: pd.DataFrame,
    fees_bps: float | np.ndarray,
    slippage_bps: float | np.ndarray,
    legs: int = 1,
) -> Any:
    """Run vectorbt on held positions (orders only where the position changes).

    Parameters
    ----------
    price : pandas.Series or pandas.DataFrame
        What each leg trades at (positive): one Series for a single leg; for
        ``legs > 1`` one column per column of `held`.
    held : pandas.DataFrame
        Position (weight) over each bar, one column per parameter set and leg
        (:func:`held_positions`), legs innermost.
    fees_bps, slippage_bps : float or numpy.ndarray
        Costs in basis points of traded value (one value, or one per column of `held`).
    legs : int
        Legs per parameter set: with more than one, each parameter set's legs form a
        group sharing one cash account (sells before buys on a bar).

    Returns
    -------
    vectorbt.Portfolio
        Target-percent orders at the close, 1 of cash per parameter set.
        Engine-internal: free it with :func:`dispose` when done.

    Raises
    ------
    DataValidationError
        vectorbt refused an order (e.g. a price so small that the size overflows).
    StrategyError
        The account cannot fund the orders of a portfolio (weights whose longs exceed
        the cash the legs leave).
    """
    import vectorbt as vbt

    h = held.to_numpy(dtype=float)
    change = np.diff(h, axis=0, prepend=0.0)  # first bar: the position itself
    size = np.where(change != 0.0, h, np.nan)  # NaN: no order on that bar

    def per_column(bps: float | np.ndarray) -> Any:
        value = np.asarray(bps, dtype=float) / 1e4
        return value.reshape(1, -1) if value.ndim else float(value)

    grouping: dict[str, Any] = {"cash_sharing": False}
    if legs > 1:
        grouping = {
            "group_by": np.repeat(np.arange(h.shape[1] // legs), legs),
            "cash_sharing": True,
            "call_seq": "auto",
        }
    try:
        return vbt.Portfolio.from_orders(
            close=price,
            size=pd.DataFrame(size, index=held.index, columns=held.columns),
            size_type="targetpercent",
            fees=per_column(fees_bps),
            slippage=per_column(slippage_bps),
            init_cash=1.0,
            freq="1D",
            ffill_val_price=True,
            **grouping,
        )
    except ValueError as exc:  # vectorbt's order checks, e.g. a price so small value overflows
        name = getattr(price, "name", None) or list(getattr(price, "columns", []))
        values = np.asarray(price, dtype=float)
        raise DataValidationError(
            f"series {name!r}: the simulation refused an order ({exc}); its levels "
            f"run from {np.nanmin(values):g} to {np.nanmax(values):g}, "
            "check that they are prices (positive, finite, of a sensible scale)"
        ) from None


def dispose(obj: Any, _seen: set[int] | None = None) -> None:
    """Free a finished vectorbt portfolio now, without a garbage-collector pass.

    A vectorbt object refers to itself through its indexers (``_iloc``, ``_loc``) and
    its method cache (``__cached_*`` entries whose ``lru_cache`` closures hold the
    instance), so its (bars x columns) arrays would wait for the cyclic garbage
    collector; a sweep would pile up chunks of them, and a ``gc.collect()`` per chunk
    costs more than the chunk's metrics.  Emptying the instance dictionaries of the
    portfolio and of the vectorbt objects in its cache (orders, trades) breaks every
    cycle, so reference counting frees them at once.  Only objects created for this
    portfolio are emptied: nothing shared (data, settings) is touched.
    """
    seen = set() if _seen is None else _seen
    state = getattr(obj, "__dict__", None)
    if id(obj) in seen or state is None:
        return
    seen.add(id(obj))
    cached = [v for k, v in state.items() if k.startswith("__cached_")]
    state.clear()
    for value in cached:
        if type(value).__module__.startswith("vectorbt."):
            dispose(value, seen)


#: What :func:`warm_up` can compile.
WARM_UP_PARTS = ("simulation", "metrics", "large")


def warm_up(parts: Sequence[str] = WARM_UP_PARTS) -> None:
    """Compile the kernels a run uses once, or load them from the disk cache.

    Run on every Dask worker before the work, and by ``backtest run`` on a cold cache
    (:mod:`backtest.engine.precompile`: the simulation in a child process, the metrics
    in the run's own process while it waits). vectorbt is not imported: the engine
    takes it only when asked (``simulator="vectorbt"``).

    Parameters
    ----------
    parts : sequence of {"simulation", "metrics", "large"}
        ``"simulation"``: the numba simulation kernel of one leg
        (:mod:`backtest.engine.fastsim`, fused sweep and record) as small calls use
        it; ``"metrics"``: the return and position statistics kernels
        (:mod:`backtest.kernels`; calls of more than
        :data:`backtest.kernels.STATS_NUMPY_CELLS` use them; the PBO's ranking kernel,
        which only large sweeps use, compiles on first use);
        ``"large"``: the simulation kernel's specialisation for large chunks (with its
        quiet-bar loop, :data:`backtest.engine.fastsim.QUIET_MIN_CELLS`). Default all
        three.
    """
    unknown = set(parts) - set(WARM_UP_PARTS)
    if unknown:
        raise ValueError(f"warm_up: parts must be among {WARM_UP_PARTS}, got {sorted(unknown)}")
    if "simulation" in parts:
        from backtest.engine.book import Book, record_kernel, simulate_kernel
        from backtest.engine.legs import Leg

        bars = pd.bdate_range("2020-01-01", periods=8)
        close = np.linspace(1.0, 2.0, 8)
        zero = np.zeros(8)
        leg = Leg("warm_up", "price", None, None, close, zero, zero, zero, 0)
        book = Book(bars=bars, legs=(leg,), funding="none")
        target = pd.DataFrame({0: np.r_[0.0, np.ones(7)]}, index=bars)
        strat = _WarmUp()
        simulate_kernel(strat, book, target, 1.0, 1.0, 0.0, 252.0, splits=2, folds=[(0, 4, 4, 8)])
        record_kernel(book, target.to_numpy(), np.array([1e-4]), np.array([1e-4]))
    if "large" in parts:
        from backtest.engine.fastsim import compile_one_leg

        compile_one_leg(quiet=True)
    if "metrics" in parts:
        from backtest import kernels

        kernels.compile_stats()


class _WarmUp(Strategy):
    """A placeholder strategy for :func:`warm_up` (its positions are given)."""

    name = "warm_up"

    def positions(self, data: MarketData, params: StrategyParams) -> pd.Series:
        raise NotImplementedError


def trade_table(pf: Any, legs: Sequence[str]) -> pd.DataFrame:
    """The trades of one parameter set's portfolio, one row each (:data:`TRADE_COLUMNS`).

    `legs` names the portfolio's columns, in order.
    """
    with warnings.catch_warnings():  # vectorbt's own pandas deprecation noise
        warnings.simplefilter("ignore", DeprecationWarning)
        rec = pf.trades.records_readable
    if rec.empty:
        return pd.DataFrame(columns=list(TRADE_COLUMNS))
    return pd.DataFrame(
        {
            "leg": [legs[int(c)] for c in pf.trades.values["col"]],
            "entry_date": pd.to_datetime(rec["Entry Timestamp"]).to_numpy(),
            "exit_date": pd.to_datetime(rec["Exit Timestamp"]).to_numpy(),
            "direction": rec["Direction"].astype(str).str.lower().to_numpy(),
            "entry_price": rec["Avg Entry Price"].to_numpy(dtype=float),
            "exit_price": rec["Avg Exit Price"].to_numpy(dtype=float),
            "return": rec["Return"].to_numpy(dtype=float),
            "status": rec["Status"].astype(str).str.lower().to_numpy(),
        }
    )


def run_settings(
    strat: Strategy,
    fees_bps: float | Mapping[str, float],
    slippage_bps: float | Mapping[str, float],
    ppy: int,
    rf: float,
) -> dict[str, Any]:
    """The rules a simulation ran with, as recorded in every result's ``settings``."""
    return {
        "execution": strat.execution,
        "fill": "close of the bar after the signal"
        if strat.execution == "next_close"
        else "close of the signal bar (declared by the strategy)",
        "fees_bps": dict(fees_bps) if isinstance(fees_bps, Mapping) else fees_bps,
        "slippage_bps": dict(slippage_bps) if isinstance(slippage_bps, Mapping) else slippage_bps,
        "periods_per_year": ppy,
        "risk_free": rf,
        "sizing": "target percent of equity per leg, each leg rebalanced only when its "
        "target changes; a portfolio's legs share one cash account",
    }
