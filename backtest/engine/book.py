"""The book of a strategy: its legs on the portfolio's bars, simulated and measured.

:func:`open_book` turns the held series into legs (:mod:`backtest.engine.legs`: what
each earns); :func:`simulate` runs the targets of one or many parameter sets through
vectorbt on the legs' total-return indices (each parameter set's legs share one cash
account); :func:`measure` computes the metrics, with Sharpe, Sortino and volatility on
excess returns when the legs are funded; :func:`attribution` splits one parameter set's
daily return into each leg's price, income, funding and costs.

Shared by :func:`backtest.engine.backtest` and the sweep chunks, so a sweep's row and a
single backtest of the same parameters are the same computation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from backtest import metrics as mt
from backtest.data.validate import check_levels
from backtest.engine.legs import (
    DEFAULT_FUNDING,
    Funding,
    Leg,
    check_weights,
    instrument_of,
    leg_returns,
    load_rates,
    rate_series,
)
from backtest.engine.simulate import check_price, dispose, held_positions, portfolio
from backtest.engine.tradable import check_tradable
from backtest.errors import StrategyError
from backtest.strategy import Crossing, MarketData, Strategy, StrategyParams

__all__ = [
    "SIMULATORS",
    "Book",
    "Measured",
    "Simulation",
    "attribution",
    "check_legs",
    "conventions",
    "kernel_threads",
    "leg_names",
    "measure",
    "open_book",
    "rates_for",
    "simulate",
    "simulate_kernel",
    "simulator_of",
    "targets",
]

#: How the engine simulates: ``"auto"`` (the numba kernel, :mod:`backtest.engine.fastsim`,
#: for everything it covers, which today is everything the engine does), ``"kernel"``,
#: or ``"vectorbt"`` (``Portfolio.from_orders``: the reference path).
SIMULATORS = ("auto", "kernel", "vectorbt")

#: What each path is called in a result's ``settings["simulator"]``.
_SIMULATOR_NAMES = {
    "kernel": "backtest.engine.fastsim (numba kernel reproducing vectorbt's from_orders)",
    "vectorbt": "vectorbt Portfolio.from_orders",
}


@dataclass(frozen=True)
class Book:
    """The legs of a strategy on the portfolio's bars (the traded series' dates)."""

    bars: pd.DatetimeIndex
    legs: tuple[Leg, ...]
    funding: str

    @property
    def names(self) -> list[str]:
        return [leg.name for leg in self.legs]

    @property
    def closes(self) -> np.ndarray:
        """(bars, legs): each leg's total-return index."""
        return np.column_stack([leg.close for leg in self.legs])

    @property
    def funding_returns(self) -> np.ndarray:
        """(bars, legs): each leg's funding rate accrued over each bar."""
        return np.column_stack([leg.funding_return for leg in self.legs])

    @property
    def funded(self) -> bool:
        """Whether any leg is charged a short rate (then excess returns differ)."""
        return any(leg.funding_series is not None for leg in self.legs)


@dataclass
class Simulation:
    """What one vectorbt run of `k` parameter sets gives back (engine-internal)."""

    returns: np.ndarray  # (bars, k) simple returns
    excess: np.ndarray | None  # (bars, k) in excess of funding; None: not funded
    held: np.ndarray  # (bars, k * legs) weights held, legs innermost
    counts: list[np.ndarray]  # trades and winning trades per parameter set
    weights: np.ndarray  # (bars, k * legs) leg value / portfolio value at each close
    # (empty when not needed: one unfunded leg, portfolio not kept)
    pf: Any  # the vectorbt portfolio when kept, else None
    value: np.ndarray | None = None  # (bars,) the kernel's kept portfolio value
    orders: np.ndarray | None = None  # the kernel's kept fills (records.ORDER_DTYPE)


def leg_names(strat: Strategy[Any], params: StrategyParams, series: str) -> list[str]:
    """The legs of `strat` with `params`: the traded series first, each once.

    Raises
    ------
    backtest.errors.StrategyError
        ``legs()`` does not return a list of distinct names starting with `series`.
    """
    legs = list(strat.legs(params, series))
    if not legs or legs[0] != series or len(set(legs)) != len(legs):
        raise StrategyError(
            f"strategy {strat.name!r}: legs() must list distinct series starting with the "
            f"traded one {series!r}, got {legs}"
        )
    return legs


def check_legs(
    levels: pd.DataFrame,
    legs: Sequence[str],
    where: str,
    *,
    allow_untradable: bool,
    also: Sequence[str] = (),
) -> None:
    """The checks every held series passes before a simulation.

    Each leg is tradable (:func:`~backtest.engine.tradable.check_tradable`), the legs
    and the `also` columns are valid levels (:func:`backtest.data.check_levels`), and
    each leg traded as a price is positive (:func:`~backtest.engine.simulate.check_price`).
    """
    for leg in legs:
        check_tradable(levels, leg, where, allow_untradable=allow_untradable)
    check_levels(levels, where=where, columns=list(dict.fromkeys([*legs, *also])))
    for leg in legs:
        check_price(levels, leg, where)


def rates_for(
    levels: pd.DataFrame,
    legs: Sequence[str],
    bars: pd.DatetimeIndex,
    *,
    rates: pd.DataFrame | None,
    funding: Funding,
    short_rates: Mapping[str, str] | None,
) -> pd.DataFrame | None:
    """The short rates the legs need (only those columns): from `rates`, else
    `levels` when its columns reach back to the first bar, else loaded through the
    catalog (with a year of history); None when no leg needs one."""
    needed = rate_series({leg: instrument_of(levels, leg) for leg in legs}, funding, short_rates)
    if not needed:
        return None
    if rates is not None:
        return rates[[n for n in needed if n in rates.columns]]  # a missing one: named later

    def covers(name: str) -> bool:  # known at the first bar's start (the first accrual)
        first = levels[name].first_valid_index() if name in levels.columns else None
        return first is not None and first <= bars[0]

    if all(covers(n) for n in needed):
        return levels[needed]
    return load_rates(levels, needed, bars)


def open_book(
    levels: pd.DataFrame,
    legs: Sequence[str],
    bars: pd.DatetimeIndex,
    *,
    rates: pd.DataFrame | None,
    funding: Funding = DEFAULT_FUNDING,
    short_rates: Mapping[str, str] | None = None,
    allow_untradable: bool = False,
) -> Book:
    """Each leg's total-return index and components on `bars` (:func:`leg_returns`)."""
    out = []
    for name in legs:
        instrument = instrument_of(levels, name)
        if allow_untradable and instrument and instrument.get("kind") == "untradable":
            instrument = {"kind": "price", "untradable": True}
        out.append(
            leg_returns(
                levels,
                name,
                bars,
                rates=rates,
                funding=funding,
                short_rates=short_rates,
                instrument=instrument,
            )
        )
    return Book(bars=bars, legs=tuple(out), funding=funding)


def targets(
    strat: Strategy[Any],
    data: MarketData,
    params: Sequence[StrategyParams],
    legs: Sequence[str],
    bars: pd.DatetimeIndex,
) -> pd.DataFrame:
    """Target weights of `params` on `bars`: one column per parameter set and leg.

    Raises
    ------
    backtest.errors.StrategyError
        A portfolio strategy's positions lack a leg, or a single-leg one returned
        several columns.
    """
    if len(params) == 1:
        one = strat.positions(data, params[0])
        frame = pd.concat({0: one}, axis=1) if isinstance(one, pd.DataFrame) else one.to_frame(0)
    else:
        frame = strat.positions_many(data, params)
    if len(legs) == 1 and isinstance(frame.columns, pd.MultiIndex):
        frame = frame.droplevel(1, axis=1)
    if len(legs) > 1:
        if not isinstance(frame.columns, pd.MultiIndex):
            raise StrategyError(
                f"strategy {strat.name!r} holds {list(legs)}: positions() must return a "
                "DataFrame with one column per leg"
            )
        wanted = [(i, leg) for i in range(len(params)) for leg in legs]
        missing = [c for c in wanted if c not in frame.columns]
        if missing:
            raise StrategyError(
                f"strategy {strat.name!r}: positions() lack leg {missing[0][1]!r} (legs: "
                f"{list(legs)}; columns: {list(frame.columns.get_level_values(1).unique())})"
            )
        frame = frame[wanted]
    elif frame.shape[1] != len(params):
        raise StrategyError(
            f"strategy {strat.name!r} returned {frame.shape[1]} columns of positions for "
            f"{len(params)} parameter set(s); a portfolio strategy must declare its legs()"
        )
    frame = frame.reindex(bars)
    frame.columns = range(frame.shape[1])
    return frame


def _costs_bps(value: float | Mapping[str, float], legs: Sequence[str], what: str) -> np.ndarray:
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in legs]
        if unknown:
            raise StrategyError(f"{what}: {unknown[0]!r} is not a leg ({list(legs)})")
        return np.array([float(value.get(leg, 0.0)) for leg in legs])
    return np.full(len(legs), float(value))


def simulate(
    strat: Strategy[Any],
    book: Book,
    target: pd.DataFrame,
    fees_bps: float | Mapping[str, float],
    slippage_bps: float | Mapping[str, float],
    *,
    keep: bool = False,
    path: str = "vectorbt",
) -> Simulation:
    """Simulate the targets of ``target.shape[1] // legs`` parameter sets.

    On vectorbt (``path="vectorbt"``), or one parameter set through the kernel
    (``path="kernel"``, :func:`record_kernel`: the same fills, with the order
    records and values kept instead of a vectorbt portfolio).

    Parameters
    ----------
    strat : Strategy
        For its execution rule and in messages.
    book : Book
        The legs.
    target : pandas.DataFrame
        (bars, sets x legs) target weights (:func:`targets`).
    fees_bps, slippage_bps : float or mapping
        Basis points of traded value, one value or one per leg.
    keep : bool
        Keep the vectorbt portfolio (for trades and attribution); else freed.
    path : {"vectorbt", "kernel"}
        The simulation path; the kernel path takes one parameter set.
    """
    n_legs = len(book.legs)
    held = held_positions(strat, target)
    h = held.to_numpy()
    check_weights(book.legs, h, strat.name)
    k = h.shape[1] // n_legs
    fees = np.tile(_costs_bps(fees_bps, book.names, "fees_bps"), k)
    slip = np.tile(_costs_bps(slippage_bps, book.names, "slippage_bps"), k)
    if path == "kernel":
        return _simulate_recorded(strat, book, h, fees / 1e4, slip / 1e4, fees, slip)
    if n_legs == 1:
        close: pd.Series | pd.DataFrame = pd.Series(book.legs[0].close, index=book.bars)
        fees_arg: Any = fees[0] if np.all(fees == fees[0]) else fees
        slip_arg: Any = slip[0] if np.all(slip == slip[0]) else slip
    else:
        close = pd.DataFrame(np.tile(book.closes, k), index=book.bars, columns=held.columns)
        fees_arg, slip_arg = fees, slip
    pf = portfolio(close, held, fees_arg, slip_arg, legs=n_legs)
    r = np.asarray(pf.returns(), dtype=float).reshape(len(book.bars), k)
    rec = pf.trades.values
    col = rec["col"] // n_legs
    ret = rec["return"]
    counts = [
        np.bincount(col[~np.isnan(ret)], minlength=k).astype(np.float64),
        np.bincount(col[ret > 0.0], minlength=k).astype(np.float64),
    ]
    weights = np.empty((0, 0))
    if keep or book.funded or n_legs > 1:  # a single unfunded leg needs no weights
        value = np.asarray(pf.value(), dtype=float).reshape(len(book.bars), k)
        assets = np.asarray(pf.asset_value(group_by=False), dtype=float).reshape(h.shape)
        weights = assets / np.repeat(value, n_legs, axis=1)
        del value, assets
    if n_legs > 1:  # one leg never asks for more than the cash (weights within [-1, 1])
        _check_filled(strat, book, h, weights, fees, slip, pf)
    excess = None
    if book.funded:
        f = book.funding_returns
        w_prev = np.vstack([np.zeros((1, h.shape[1])), weights[:-1]])
        charge = (w_prev * np.tile(f, k)).reshape(len(book.bars), k, n_legs).sum(axis=2)
        excess = r - charge
    if not keep:
        dispose(pf)
        pf = None
    return Simulation(returns=r, excess=excess, held=h, counts=counts, weights=weights, pf=pf)


def _simulate_recorded(
    strat: Strategy[Any],
    book: Book,
    h: np.ndarray,
    fees: np.ndarray,
    slip: np.ndarray,
    fees_bps: np.ndarray,
    slip_bps: np.ndarray,
) -> Simulation:
    """One parameter set through the kernel, with its fills and values kept."""
    from backtest.engine.records import ORDER_DTYPE

    if h.shape[1] != len(book.legs):
        raise ValueError("the kernel path simulates one parameter set at a time")
    rec = record_kernel(book, h, fees, slip)
    weights = np.asarray(rec["weights"])
    if len(book.legs) > 1:
        _check_filled(strat, book, h, weights, fees_bps, slip_bps, None)
    n = len(rec["orders"])
    orders = np.empty(n, dtype=ORDER_DTYPE)
    orders["id"] = np.arange(n)
    orders["col"] = rec["order_at"][:, 1]
    orders["idx"] = rec["order_at"][:, 0]
    orders["size"] = rec["orders"][:, 0]
    orders["price"] = rec["orders"][:, 1]
    orders["fees"] = rec["orders"][:, 2]
    orders["side"] = rec["orders"][:, 3].astype(np.int64)
    excess = rec["excess"]
    return Simulation(
        returns=rec["returns"].reshape(-1, 1),
        excess=None if excess is None else excess.reshape(-1, 1),
        held=h,
        counts=[np.array([rec["counts"][0]]), np.array([rec["counts"][1]])],
        weights=weights,
        pf=None,
        value=rec["value"],
        orders=orders,
    )


def _check_filled(
    strat: Strategy[Any],
    book: Book,
    h: np.ndarray,
    weights: np.ndarray,
    fees: np.ndarray,
    slip: np.ndarray,
    pf: Any,
) -> None:
    """Refuse long weights the account could not buy (vectorbt cuts them silently).

    The account does not borrow cash: a purchase is cut to the cash left after the bar's
    sales. A long leg filled short of its target by more than its costs explain is an
    error naming the bar and the weights asked for.
    """
    n_legs = len(book.legs)
    change = np.diff(h, axis=0, prepend=0.0) != 0.0
    gross = np.repeat(np.abs(h).reshape(len(h), -1, n_legs).sum(axis=2), n_legs, axis=1)
    tol = 2.0 * (fees + slip) / 1e4 * np.maximum(gross, 1.0) + 1e-9  # the costs' share
    short = change & (h > 0.0) & (h - weights > tol)
    if not short.any():
        return
    bar, col = (int(v[0]) for v in np.nonzero(short))
    first = col - col % n_legs
    asked = {leg: float(h[bar, first + j]) for j, leg in enumerate(book.names)}
    if pf is not None:
        dispose(pf)
    raise StrategyError(
        f"strategy {strat.name!r} asks on {book.bars[bar]:%Y-%m-%d} for weights {asked}; the "
        f"account could buy only {float(weights[bar, col]):.4g} of {book.names[col % n_legs]!r}: "
        "long weights must be funded by the cash and the bar's sales (no borrowing); "
        "scale the weights down"
    )


def measure(
    sim: Simulation, n_legs: int, rf_p: float, ppy: float
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Metrics of a simulation (:func:`backtest.metrics.performance_arrays`).

    Total return, CAGR and drawdowns are of the returns; volatility, Sharpe and
    Sortino of the excess returns when the legs are funded (else over the constant
    per-period risk-free `rf_p`). A portfolio's exposure is that of its gross weight
    and its turnover the sum of its legs'.
    """
    from backtest import kernels

    r, h = sim.returns, sim.held
    k = r.shape[1]
    gross = np.abs(h).reshape(r.shape[0], k, n_legs).sum(axis=2) if n_legs > 1 else h
    columns, sharpe_raw = mt.performance_arrays(r, gross, sim.counts, rf_p, ppy, excess=sim.excess)
    if n_legs > 1:
        ps = kernels.position_stats(np.repeat(r, n_legs, axis=1), h)
        with np.errstate(invalid="ignore"):
            columns["turnover"] = ps[:, 2].reshape(k, n_legs).sum(axis=1) * ppy
    return columns, sharpe_raw


def attribution(sim: Simulation, book: Book) -> pd.DataFrame:
    """One parameter set's daily return split by leg: price, income, funding, costs.

    Columns ``(leg, component)``; components ``price``, ``accrual`` (bonds) or
    ``carry`` (fx), ``funding`` and ``costs``, each a fraction of the portfolio's value
    at the previous close. Everything but ``funding`` sums to the returns; with it, to
    the excess returns.
    """
    bars = book.bars
    n_legs = len(book.legs)
    if sim.pf is not None:
        pf = sim.pf
        value = np.asarray(pf.value(), dtype=float).reshape(-1)
        orders = pf.orders.values
        close = book.closes
        cost = np.zeros((len(bars), n_legs))
        fill_cost = orders["fees"] + orders["size"] * np.abs(
            orders["price"] - close[orders["idx"], orders["col"]]
        )
        np.add.at(cost, (orders["idx"], orders["col"]), fill_cost)
    else:  # the kernel's records
        from backtest.engine.records import costs_from_orders

        if sim.value is None or sim.orders is None:
            raise ValueError("attribution needs a kept simulation (keep=True)")
        value = sim.value
        cost = costs_from_orders(sim.orders, book.closes, len(bars), n_legs)
    v_prev = np.r_[1.0, value[:-1]]  # initial cash 1
    w_prev = np.vstack([np.zeros((1, n_legs)), sim.weights[:-1]])
    parts: dict[tuple[str, str], np.ndarray] = {}
    for j, leg in enumerate(book.legs):
        parts[(leg.name, "price")] = w_prev[:, j] * leg.price
        if leg.income is not None:
            parts[(leg.name, leg.income)] = w_prev[:, j] * leg.income_return
        parts[(leg.name, "funding")] = -w_prev[:, j] * leg.funding_return
        parts[(leg.name, "costs")] = -cost[:, j] / v_prev
    frame = pd.DataFrame(parts, index=bars)
    frame.columns = pd.MultiIndex.from_tuples(frame.columns, names=["leg", "component"])
    return frame


def conventions(book: Book, risk_free: float) -> dict[str, str]:
    """What the returns of a result mean (recorded in its ``settings``)."""
    funded = book.funded
    return {
        "total": "daily simple return of the portfolio after costs: each leg earns its "
        "instrument's return (bond: par bond total return from the yield, price + accrual; "
        "fx: spot + carry; index: price return, dividends not included); cash earns nothing",
        "excess": (
            "total return minus each bond and index leg's weight times its currency's short "
            "rate (currency-hedged excess return; fx legs are self-financed)"
            if funded
            else f"no leg is funded: Sharpe and Sortino over the constant risk_free {risk_free:g}"
        ),
        "sharpe": "of excess returns (time-varying short rates)"
        if funded
        else f"of returns over the constant risk_free {risk_free:g}",
        "attribution": "daily contributions as fractions of the previous close's value; "
        "price + accrual/carry + costs = total; + funding = excess; cumulative = sum",
        "marks": "each leg at its last observation at or before the traded series' dates",
    }


def kept_trades(sim: Simulation, book: Book) -> pd.DataFrame:
    """One kept parameter set's trades (:data:`backtest.engine.simulate.TRADE_COLUMNS`)."""
    if sim.pf is not None:
        from backtest.engine.simulate import trade_table

        return trade_table(sim.pf, book.names)
    from backtest.engine.records import exit_trades, trade_table_from_records

    if sim.orders is None:
        raise ValueError("kept_trades needs a kept simulation (keep=True)")
    return trade_table_from_records(exit_trades(sim.orders, book.closes), book.bars, book.names)


def kept_weights(sim: Simulation, book: Book) -> pd.DataFrame:
    """One parameter set's held weights, one column per leg."""
    return pd.DataFrame(sim.held[:, : len(book.legs)], index=book.bars, columns=book.names)


def simulator_of(choice: str) -> str:
    """The path a simulation takes for `choice` (one of :data:`SIMULATORS`).

    ``"auto"`` takes the kernel: it covers every order the engine places (target
    weights at the close, fees, slippage, shared cash); vectorbt remains for checking
    it (``"vectorbt"``) and for what the kernel would not cover.

    Raises
    ------
    backtest.errors.ConfigError
        An unknown choice.
    """
    from backtest.errors import ConfigError

    if choice not in SIMULATORS:
        raise ConfigError(f"simulator: must be one of {', '.join(SIMULATORS)}, got {choice!r}")
    return "vectorbt" if choice == "vectorbt" else "kernel"


def simulator_name(path: str) -> str:
    """The description of a path recorded in ``settings["simulator"]``."""
    return _SIMULATOR_NAMES[path]


@dataclass
class Measured:
    """What the kernel gives back for ``K`` parameter sets (engine-internal)."""

    returns: np.ndarray  # (bars, K) simple returns ((bars, 0) when not stored)
    excess: np.ndarray | None  # (bars, K) in excess of funding; None: not funded
    columns: dict[str, np.ndarray]  # the metrics, as measure()
    sharpe_raw: np.ndarray  # (K,) per-period Sharpe of the (excess) returns
    blocks: np.ndarray | None  # (S, 4, K) PBO block statistics, or None
    fold_sharpe: np.ndarray  # (K, folds) in-sample Sharpe per validation fold


def simulate_kernel(
    strat: Strategy[Any],
    book: Book,
    target: pd.DataFrame | Crossing,
    fees_bps: float | Mapping[str, float],
    slippage_bps: float | Mapping[str, float],
    rf_p: float,
    ppy: float,
    *,
    splits: int | None = None,
    folds: Sequence[tuple[int, int, int, int]] = (),
    store: bool = True,
) -> Measured:
    """Simulate and measure parameter sets in one numba pass each (:mod:`~backtest.engine.fastsim`).

    The same rules and metrics as :func:`simulate` + :func:`measure` (vectorbt), plus
    the PBO block statistics (`splits` blocks, when the bars allow) and the in-sample
    Sharpe ratio of each validation fold.

    Parameters
    ----------
    strat : Strategy
        For its execution rule and in messages.
    book : Book
        The legs.
    target : pandas.DataFrame or Crossing
        Target weights (:func:`targets`), or a one-leg strategy's comparison rule.
    fees_bps, slippage_bps : float or mapping
        Basis points of traded value, one value or one per leg.
    rf_p, ppy : float
        Per-period risk-free rate (0 when funded) and periods per year.
    splits : int, optional
        Blocks of the PBO's CSCV.
    folds : sequence of (int, int, int, int)
        Validation folds; the in-sample rows are the first two.
    store : bool
        Keep every set's returns (else only the metrics).
    """
    from backtest.engine import fastsim, precompile

    precompile.wait()  # a cold cache being filled by a child process: load, not compile

    n_legs = len(book.legs)
    bars = len(book.bars)
    fees = _costs_bps(fees_bps, book.names, "fees_bps") / 1e4
    slip = _costs_bps(slippage_bps, book.names, "slippage_bps") / 1e4
    lag = 0 if strat.execution == "same_close" else 1
    no2 = _writable(np.empty((0, 0)))
    if isinstance(target, Crossing):
        if n_legs != 1:
            raise StrategyError(f"strategy {strat.name!r}: a Crossing rule trades one leg")
        held = no2
        features = _writable(np.asarray(target.features, dtype=np.float64).T)
        rule = _writable(np.column_stack([target.left, target.right]), np.int64)
        levels = _writable(np.column_stack([target.above, target.below]))
        if features.shape[1] != bars:
            raise StrategyError(
                f"strategy {strat.name!r}: crossings() features have {features.shape[1]} rows, "
                f"the traded series {bars} bars"
            )
        k = rule.shape[0]
    else:
        h = held_positions(strat, target).to_numpy()
        check_weights(book.legs, h, strat.name)
        held = _writable(h.T)  # bars last: a set's weights are contiguous
        features, rule, levels = no2, _writable(np.empty((0, 2)), np.int64), no2
        k = held.shape[0] // n_legs
    funded = book.funded
    if splits is not None and bars >= 4 * splits:
        bounds = _writable(mt.pbo_block_bounds(bars, int(splits)), np.int64)
        blocks = np.zeros((bounds.size - 1, 4, k))
    else:
        bounds = _writable(np.empty(0), np.int64)
        blocks = np.zeros((0, 4, 0))
    fold_arr = _writable(np.array(list(folds), dtype=np.int64).reshape(-1, 4), np.int64)
    r = np.empty((k, bars)) if store else no2
    x = np.empty((k, bars)) if store and funded else no2
    m = np.empty((k, fastsim.N_METRICS + 1))
    f_out = np.empty((k, fold_arr.shape[0]))
    bad = np.full(k, -1, np.int64)
    has_blocks = bounds.size > 0
    if n_legs == 1:
        leg = book.legs[0]
        close1 = _writable(leg.close)
        fund1 = _writable(leg.funding_return if funded else np.empty(0))
    else:
        closes = _writable(book.closes)
        fund = _writable(book.funding_returns if funded else no2)

    quiet = True if k * bars >= fastsim.QUIET_MIN_CELLS else None  # same numbers either way

    def part(lo: int, hi: int) -> None:  # sets lo..hi-1, writing only their rows
        b_part = np.zeros((blocks.shape[0], 4, hi - lo)) if has_blocks else blocks
        rows = (lo * n_legs, hi * n_legs)
        out = (r[lo:hi] if store else r, x[lo:hi] if store and funded else x)
        if n_legs == 1:
            fastsim.one_leg_columns(
                close1, held[lo:hi] if held.size else held, features,
                rule[lo:hi] if rule.size else rule, levels[lo:hi] if levels.size else levels,
                lag, float(fees[0]), float(slip[0]), fund1, float(rf_p), float(ppy), bounds,
                fold_arr, bool(store), out[0], out[1], m[lo:hi], b_part, f_out[lo:hi],
                *fastsim.no_record(), np.empty((3, bars)), quiet,
            )  # fmt: skip
        else:
            fastsim.legs_columns(
                closes, held[rows[0] : rows[1]], _writable(fees), _writable(slip), fund,
                float(rf_p), float(ppy), bounds, fold_arr, bool(store), out[0], out[1],
                m[lo:hi], b_part, f_out[lo:hi], bad[lo:hi],
            )  # fmt: skip
        if has_blocks:
            blocks[:, :, lo:hi] = b_part

    n_parts = min(kernel_threads(), max(1, k // 256))
    if n_parts == 1:
        part(0, k)
    else:  # the kernels release the GIL: threads share the work, each set on one thread
        cuts = [k * i // n_parts for i in range(n_parts + 1)]
        list(_pool().map(part, cuts[:-1], cuts[1:]))
    if n_legs > 1 and (bad >= 0).any():
        c = int(np.flatnonzero(bad >= 0)[0])
        h_c = held[c * n_legs : (c + 1) * n_legs].T
        _refuse_unfilled(strat, book, h_c, int(bad[c]), fees, slip)
    columns = {name: np.ascontiguousarray(m[:, i]) for i, name in enumerate(mt.PERFORMANCE_COLUMNS)}
    return Measured(
        returns=r.T,
        excess=x.T if funded and store else None,
        columns=columns,
        sharpe_raw=np.ascontiguousarray(m[:, fastsim.N_METRICS]),
        blocks=blocks if bounds.size else None,
        fold_sharpe=f_out,
    )


def kernel_threads(threads: int | None = None) -> int:
    """Threads the simulation kernel uses in this process; set it with `threads`.

    Default: ``BACKTEST_KERNEL_THREADS`` if set, else the CPUs this process may use.
    Each parameter set runs on one thread, so the results do not depend on it. Dask
    workers use 1 (the cluster parallelises over chunks).
    (:func:`backtest.kernels.threads`, which the PBO's ranking shares.)
    """
    from backtest import kernels

    return kernels.threads(threads)


def _pool() -> Any:
    from backtest import kernels

    return kernels.pool()


def _writable(a: np.ndarray, dtype: Any = np.float64) -> np.ndarray:
    """`a` as a C-ordered, writable array of `dtype` (one kernel specialisation)."""
    return np.require(a, dtype=dtype, requirements=["C", "W"])


def _refuse_unfilled(
    strat: Strategy[Any], book: Book, h: np.ndarray, where: int, fees: np.ndarray, slip: np.ndarray
) -> None:
    """The error of :func:`_check_filled` for the kernel's first unfilled long weight."""
    n_legs = len(book.legs)
    bar, col = divmod(where, n_legs)
    rec = record_kernel(book, np.ascontiguousarray(h), fees, slip)
    asked = {leg: float(h[bar, j]) for j, leg in enumerate(book.names)}
    raise StrategyError(
        f"strategy {strat.name!r} asks on {book.bars[bar]:%Y-%m-%d} for weights {asked}; the "
        f"account could buy only {float(rec['weights'][bar, col]):.4g} of {book.names[col]!r}: "
        "long weights must be funded by the cash and the bar's sales (no borrowing); "
        "scale the weights down"
    )


def record_kernel(book: Book, h: np.ndarray, fees: np.ndarray, slip: np.ndarray) -> dict[str, Any]:
    """One parameter set through the kernel with its orders and weights.

    Returns ``returns``, ``excess`` (or None), ``counts`` (trades, winning trades),
    ``orders`` (size, price, fees, side per fill), ``order_at`` (bar, leg per fill) and
    ``weights`` (bars, legs).
    """
    from backtest.engine import fastsim, precompile

    precompile.wait()  # a cold cache being filled by a child process: load, not compile

    bars, n_legs = len(book.bars), len(book.legs)
    funded = book.funded
    h = _writable(h)
    r = np.empty(bars)
    x = np.empty(bars) if funded else np.empty(0)
    o_f = np.empty((bars * n_legs, 4))
    o_i = np.empty((bars * n_legs, 2), np.int64)
    value = np.empty(bars)
    if n_legs == 1:
        leg = book.legs[0]
        m = np.empty((1, fastsim.N_METRICS + 1))
        w = np.empty(bars)
        n = fastsim.one_leg_record(
            _writable(leg.close), _writable(h[:, 0]), float(fees[0]), float(slip[0]),
            _writable(leg.funding_return if funded else np.empty(0)), 0.0, 252.0, r, x, m,
            o_f, o_i, w, value,
        )  # fmt: skip
        counts = np.array([m[0, 9], np.round(m[0, 9] * m[0, 7]) if m[0, 9] else 0.0])
        weights = w.reshape(-1, 1)
    else:
        fund = book.funding_returns if funded else np.empty((0, 0))
        c3 = np.empty(3)
        weights = np.empty((bars, n_legs))
        n = fastsim.legs_record(
            _writable(book.closes), h, _writable(fees), _writable(slip), _writable(fund), r, x,
            c3, o_f, o_i, weights, value,
        )  # fmt: skip
        counts = c3[:2].copy()
    return {
        "returns": r,
        "excess": x if funded else None,
        "counts": counts,
        "orders": o_f[:n],
        "order_at": o_i[:n],
        "weights": weights,
        "value": value,
    }
