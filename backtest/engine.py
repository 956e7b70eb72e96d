"""The strategy engine: the only module that imports vectorbt.

:func:`backtest` runs one strategy with one parameter set; :func:`sweep` runs many
parameter sets in chunked, column-vectorised vectorbt calls and adds selection-bias
statistics (deflated Sharpe ratio, probability of backtest overfitting);
:func:`validate` runs a train/test split or walk-forward folds and reports in-sample
and out-of-sample metrics side by side.

Execution rule: a target position computed from data up to the close of bar ``t`` is
filled at the close of bar ``t + 1`` (strategies may declare ``execution =
"same_close"`` explicitly). Orders are placed only when the target changes, at the
close, with fees and slippage in basis points of traded value. Metrics are annualised
by observations per year (252 by default), not calendar days.
"""

from __future__ import annotations

import array
import itertools
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from backtest import metrics as mt
from backtest.data.validate import check_levels
from backtest.errors import BacktestError, ConfigError, DataValidationError, StrategyError
from backtest.execution import Executor, LocalExecutor
from backtest.space import (
    DEFAULT_MAX_COMBINATIONS,
    Grid,
    _FloatRange,
    check_count,
    parse_space,
)
from backtest.strategy import MarketData, Strategy, StrategyParams, get_strategy

__all__ = [
    "BacktestResult",
    "FoldChoices",
    "SweepResult",
    "ValidationResult",
    "backtest",
    "grid",
    "out_of_sample",
    "sweep",
    "validate",
    "validation_folds",
    "warm_up",
]

METRICS = mt.PERFORMANCE_COLUMNS  # the metrics of every result, in order

#: Peak bytes a sweep chunk needs per (bar x combination) cell: vectorbt's simulation
#: and returns arrays (close, sizes, cash, assets, value, returns, ...) and what the
#: allocator keeps. Peak RSS (VmHWM) minus idle RSS was ~179 bytes per cell on a Dask
#: worker and ~196 in a local run holding the gathered table, at 2,000 combinations x
#: 2,514 bars (benchmarks/bench_dask.py, million-combination run); rounded up.
BYTES_PER_CELL = 200

#: Largest space a sweep can index (and draw samples from) by position.
_MAX_INDEX = 2**63 - 1


@dataclass(frozen=True)
class BacktestResult:
    """One strategy, one parameter set.

    Attributes
    ----------
    strategy, series : str
        Strategy name and traded series.
    params : dict
        Parameters used.
    returns : pandas.Series
        Daily simple returns of the strategy (after fees and slippage).
    positions : pandas.Series
        Position held over each bar (the target, after the execution lag).
    trades : pandas.DataFrame
        One row per trade: ``entry_date, exit_date, direction, entry_price,
        exit_price, return, status``.
    metrics : dict
        ``total_return, cagr, volatility, sharpe, sortino, max_drawdown, calmar,
        hit_rate, trades, exposure, turnover``.
    settings : dict
        Fees, slippage, execution rule, annualisation, carry note.
    """

    strategy: str
    series: str
    params: dict[str, Any]
    returns: pd.Series
    positions: pd.Series
    trades: pd.DataFrame
    metrics: dict[str, float]
    settings: dict[str, Any]

    @property
    def equity(self) -> pd.Series:
        """Growth of 1 invested at the start."""
        return (1.0 + self.returns).cumprod()


@dataclass(frozen=True)
class SweepResult:
    """Many parameter sets of one strategy.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per combination: the parameters, then the metrics.
    returns : pandas.DataFrame
        Daily returns, one column per combination (same order as `table`, labelled by
        row number); only the best combination's column when the sweep ran with
        ``keep_returns=False`` (``settings["returns"]`` says which).
    best : int
        Row of the best combination by Sharpe ratio.
    selection : dict
        Selection-bias statistics over the whole sweep: ``psr`` and ``dsr`` of the
        best combination, ``pbo`` (CSCV), number of trials.
    """

    strategy: str
    series: str
    table: pd.DataFrame
    returns: pd.DataFrame
    best: int
    selection: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)
    folds: FoldChoices | None = None


@dataclass(frozen=True)
class FoldChoices:
    """The in-sample choice of every validation fold, made where the returns were.

    Attributes
    ----------
    folds : list of (int, int, int, int)
        ``(train_start, train_end, test_start, test_end)`` bar positions of each fold
        (ends exclusive), from :func:`validation_folds`.
    spec : dict
        The validation settings the folds came from.
    picks : list of int
        Row of the combination with the best in-sample Sharpe ratio in each fold (the
        first on ties; -1 when no combination has one).
    returns : pandas.DataFrame
        Each fold's pick's daily returns over all bars, one column per fold.
    """

    folds: list[tuple[int, int, int, int]]
    spec: dict[str, Any]
    picks: list[int]
    returns: pd.DataFrame


#: The ``note`` of a validation fold in which no combination trades in sample.
NO_TRADES = "no trades: no combination has an in-sample Sharpe ratio"


@dataclass(frozen=True)
class ValidationResult:
    """In-sample vs out-of-sample metrics of a train/test split or walk-forward folds.

    A fold in which no combination trades in sample (every in-sample Sharpe ratio
    undefined: no trades, no returns) has nothing to choose: its two rows have NaN
    metrics, no parameters and ``note`` :data:`NO_TRADES`; it adds nothing to the
    stitched out-of-sample returns, and ``settings["folds_without_trades"]`` lists
    it. The other folds are reported as usual.
    """

    strategy: str
    series: str
    folds: pd.DataFrame  # one row per fold and sample: fold, sample, start, end, params, metrics
    oos_returns: pd.Series  # stitched out-of-sample returns
    oos_metrics: dict[str, float]
    settings: dict[str, Any] = field(default_factory=dict)


# Parameters ---------------------------------------------------------------------------------


def grid(
    space: Mapping[str, Any], *, max_combinations: int | None = DEFAULT_MAX_COMBINATIONS
) -> list[dict[str, Any]]:
    """Expand a parameter space into combinations.

    Parameters
    ----------
    space : mapping
        Each value a scalar, a list, or a range ``{"start": a, "stop": b, "step": s}``
        (``stop`` inclusive).
    max_combinations : int or None
        Refuse to build more combinations than this (counted first); None: no limit.

    Returns
    -------
    list of dict
        The Cartesian product, in order. This builds every combination: for a
        preview of small spaces; :func:`sweep` checks a space against the strategy
        (:func:`backtest.space.parse_space`) and never builds the product.

    Raises
    ------
    ConfigError
        A range with unknown keys, without start or stop, or with step 0; more
        combinations than `max_combinations`.

    Examples
    --------
    >>> grid({"fast": [5, 10], "slow": {"start": 50, "stop": 60, "step": 10}})
    [{'fast': 5, 'slow': 50}, {'fast': 5, 'slow': 60}, {'fast': 10, 'slow': 50}, {'fast': 10, 'slow': 60}]
    """  # noqa: E501
    keys: list[str] = []
    values: list[Sequence[Any]] = []
    for key, value in space.items():
        keys.append(key)
        if isinstance(value, Mapping):
            unknown = [k for k in value if k not in ("start", "stop", "step")]
            if unknown:
                raise ConfigError(f"sweep.{key}.{unknown[0]}: unknown key of a range")
            try:
                start, stop, step = value["start"], value["stop"], value.get("step", 1)
            except KeyError as exc:
                raise ConfigError(
                    f"sweep.{key}: a range needs start and stop (and optional step)"
                ) from exc
            if step == 0:
                raise ConfigError(f"sweep.{key}.step: must not be 0")
            count = int(np.floor((stop - start) / step + 1e-9)) + 1
            values.append(_FloatRange(start, step, max(count, 0)))  # start + i * step
        elif isinstance(value, list | tuple):
            values.append(list(value))
        else:
            values.append([value])
    check_count(math.prod(len(v) for v in values), max_combinations, where="grid")
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*values)]


# Simulation ---------------------------------------------------------------------------------


def _resolve(strategy: str | Strategy) -> Strategy:
    return get_strategy(strategy) if isinstance(strategy, str) else strategy


def _executed(strategy: Strategy, target: pd.DataFrame) -> pd.DataFrame:
    """Apply the execution lag: position held over bar t+1 onward is the target of bar t."""
    t = target.to_numpy(dtype=float, na_value=np.nan)
    held = np.zeros(t.shape, order="F")  # NaN target: flat; before the first fill: flat
    lag = 0 if strategy.execution == "same_close" else 1
    held[lag:] = np.clip(np.nan_to_num(t[: len(t) - lag], nan=0.0), -1.0, 1.0)
    return pd.DataFrame(held, index=target.index, columns=target.columns, copy=False)


def _simulate(price: pd.Series, held: pd.DataFrame, fees_bps: float, slippage_bps: float) -> Any:
    """Run vectorbt on target positions (orders only where the target changes)."""
    import vectorbt as vbt

    h = held.to_numpy(dtype=float)
    change = np.diff(h, axis=0, prepend=0.0)  # first bar: the position itself
    size = np.where(change != 0.0, h, np.nan)  # NaN: no order on that bar
    try:
        return _from_orders(vbt, price, held, size, fees_bps, slippage_bps)
    except ValueError as exc:  # vectorbt's order checks, e.g. a price so small value overflows
        raise DataValidationError(
            f"series {price.name!r}: the simulation refused an order ({exc}); its levels "
            f"run from {np.nanmin(price.to_numpy()):g} to {np.nanmax(price.to_numpy()):g}, "
            "check that they are prices (positive, finite, of a sensible scale)"
        ) from None


def _from_orders(
    vbt: Any,
    price: pd.Series,
    held: pd.DataFrame,
    size: np.ndarray,
    fees_bps: float,
    slippage_bps: float,
) -> Any:
    return vbt.Portfolio.from_orders(
        close=price,
        size=pd.DataFrame(size, index=held.index, columns=held.columns),
        size_type="targetpercent",
        fees=fees_bps / 1e4,
        slippage=slippage_bps / 1e4,
        init_cash=1.0,
        freq="1D",
        cash_sharing=False,
        ffill_val_price=True,
    )


def _dispose(obj: Any, _seen: set[int] | None = None) -> None:
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
            _dispose(value, seen)


def warm_up() -> None:
    """Compile vectorbt's numba kernels once (run on every Dask worker before the work).

    The metrics kernels (:mod:`backtest._kernels`) compile, or load from their disk
    cache, when imported.
    """
    import backtest._kernels  # noqa: F401

    price = pd.Series(np.linspace(1.0, 2.0, 8), index=pd.bdate_range("2020-01-01", periods=8))
    _simulate(price, pd.DataFrame({0: np.r_[0.0, np.ones(7)]}, index=price.index), 1.0, 1.0)


def _check_price(levels: pd.DataFrame, series: str, where: str) -> None:
    """Refuse a traded series with a non-positive level: the engine trades it as a price."""
    if series not in levels.columns:
        return  # reported by _data, with the columns there are
    values = levels[series].to_numpy(dtype=float)
    bad = np.flatnonzero(values <= 0.0)
    if bad.size:
        day = levels.index[bad[0]]
        raise DataValidationError(
            f"{where}: series {series!r} has a non-positive level {values[bad[0]]:g} on "
            f"{day:%Y-%m-%d} ({bad.size} such rows); the engine trades a series as a price, "
            "which must be positive"
        )


def _data(
    strategy: Strategy,
    params: StrategyParams,
    levels: pd.DataFrame,
    series: str,
    events: pd.DataFrame | None,
    day0: pd.DataFrame | None,
) -> MarketData:
    needed = [series, *strategy.required_series(params, series)]
    missing = [n for n in needed if n not in levels.columns]
    if missing:
        raise StrategyError(
            f"strategy {strategy.name!r} needs series {missing} that are not in the data; "
            f"columns: {list(levels.columns)}"
        )
    return MarketData(levels=levels, series=series, events=events, day0=day0)


def _trades(pf: Any, column: Any = None) -> pd.DataFrame:
    with warnings.catch_warnings():  # vectorbt's own pandas deprecation noise
        warnings.simplefilter("ignore", DeprecationWarning)
        trades = pf.trades if column is None else pf[column].trades
        rec = trades.records_readable
    if rec.empty:
        return pd.DataFrame(
            columns=[
                "entry_date",
                "exit_date",
                "direction",
                "entry_price",
                "exit_price",
                "return",
                "status",
            ]
        )
    return pd.DataFrame(
        {
            "entry_date": pd.to_datetime(rec["Entry Timestamp"]).to_numpy(),
            "exit_date": pd.to_datetime(rec["Exit Timestamp"]).to_numpy(),
            "direction": rec["Direction"].astype(str).str.lower().to_numpy(),
            "entry_price": rec["Avg Entry Price"].to_numpy(dtype=float),
            "exit_price": rec["Avg Exit Price"].to_numpy(dtype=float),
            "return": rec["Return"].to_numpy(dtype=float),
            "status": rec["Status"].astype(str).str.lower().to_numpy(),
        }
    )


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

    Returns
    -------
    BacktestResult

    Raises
    ------
    backtest.errors.DataValidationError
        `levels` is not a sorted frame of unique naive dates, or a used column is
        not numeric or all NaN (:func:`backtest.data.check_levels`).
    """
    strat = _resolve(strategy)
    p = strat.parse(params)
    check_levels(
        levels, where="engine.backtest", columns=[series, *strat.required_series(p, series)]
    )
    _check_price(levels, series, "engine.backtest")
    data = _data(strat, p, levels, series, events, day0)
    price = data.price
    target = strat.positions(data, p).reindex(price.index).to_frame(0)
    held = _executed(strat, target)
    pf = _simulate(price, held, fees_bps, slippage_bps)
    returns = pd.Series(
        np.asarray(pf.returns(), dtype=float).reshape(-1), index=price.index, name="returns"
    )
    trades = _trades(pf)
    _dispose(pf)
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
        settings=_settings(strat, fees_bps, slippage_bps, periods_per_year, risk_free),
    )


def _settings(
    strat: Strategy, fees_bps: float, slippage_bps: float, ppy: int, rf: float
) -> dict[str, Any]:
    return {
        "execution": strat.execution,
        "fill": "close of the bar after the signal"
        if strat.execution == "next_close"
        else "close of the signal bar (declared by the strategy)",
        "fees_bps": fees_bps,
        "slippage_bps": slippage_bps,
        "periods_per_year": ppy,
        "risk_free": rf,
        "sizing": "target percent of equity, rebalanced only when the target changes",
        "carry": "not included: FX carry needs both countries' short rates, and the data "
        "has no Japanese short rate",
    }


def sweep(
    strategy: str | Strategy,
    space: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    levels: pd.DataFrame,
    events: pd.DataFrame | None = None,
    *,
    series: str,
    method: Literal["grid", "random"] = "grid",
    samples: int | None = None,
    seed: int = 0,
    chunk_size: int = 2000,
    fees_bps: float = 0.0,
    slippage_bps: float = 0.0,
    periods_per_year: int = 252,
    risk_free: float = 0.0,
    day0: pd.DataFrame | None = None,
    pbo_splits: int = 10,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
    keep_returns: bool = True,
    chunk_memory: int | None = None,
    validation: Mapping[str, Any] | None = None,
    max_combinations: int | None = DEFAULT_MAX_COMBINATIONS,
) -> SweepResult:
    """Run many parameter sets: one vectorised vectorbt call per chunk of combinations.

    Parameters
    ----------
    strategy : str or Strategy
        Registered name or instance.
    space : mapping or sequence of mappings
        Per parameter a scalar, a list of values or a range ``{"start": a, "stop": b,
        "step": s}`` (``stop`` inclusive), or explicit combinations. Every value is
        checked against the strategy's ``Params`` first (:func:`backtest.space.parse_space`):
        a value of the wrong type, a fractional step of an integer parameter or a
        step of 0 is a :class:`~backtest.errors.ConfigError` naming it
        (``sweep.fast[0]``). Combinations that break a rule between parameters
        (``fast >= slow``) are skipped and counted (``settings["skipped_invalid"]``).
        The Cartesian product is never built: combinations are generated lazily, and
        each chunk carries only its own positions in the space.
    levels, events, series, fees_bps, slippage_bps, periods_per_year, risk_free, day0
        As in :func:`backtest`.
    method : {"grid", "random"}
        All combinations, or `samples` of them drawn without replacement.
    samples : int, optional
        Number of random combinations.
    seed : int
        Seed of the random draw.
    chunk_size : int
        Combinations per vectorbt call (bounds memory).
    pbo_splits : int
        Blocks of the combinatorially symmetric cross-validation for PBO (even).
    executor : Executor, optional
        Where the chunks run (:func:`backtest.execution.executor`); in this process
        by default. Chunks are independent, so the table is the same either way; the
        selection statistics are computed here, over the whole gathered sweep.
    progress : callable, optional
        Called with (chunks done, chunks) as chunks complete.
    chunk_memory : int, optional
        Bytes one chunk may use at its peak (on top of the process's baseline): the
        chunk size is lowered to ``chunk_memory // (bars * BYTES_PER_CELL)`` when that
        is smaller, so a worker's peak memory is bounded whatever the data's length.
    keep_returns : bool, default True
        Keep every combination's daily returns in the result (bars x combinations x 8
        bytes: 20 GB for a million combinations of 10 years).  With False each chunk
        sends back only its metrics, the per-trial statistics of the selection
        measures and its best combination's returns, so the sweep's memory and the
        bytes shipped from workers no longer grow with bars x combinations; the
        table, best row and selection statistics are the same.  Out-of-sample
        validation (:func:`out_of_sample`) then needs the folds chosen in the chunks
        (`validation`).
    validation : mapping, optional
        ``method``, ``train_fraction``, ``train_bars``, ``test_bars`` as in
        :func:`validate`: each chunk also picks its best combination in sample for
        every fold and sends back that combination's returns, and the sweep keeps the
        overall pick of each fold (:class:`FoldChoices`), so that
        :func:`out_of_sample` works without every combination's returns.

    max_combinations : int or None, default 5,000,000
        Refuse a sweep of more combinations (counted without building them; with
        ``method="random"``, the `samples` drawn) with a ConfigError giving the
        count; None: no limit. In a config: ``strategies[i].max_combinations``.

    Returns
    -------
    SweepResult
        With the deflated Sharpe ratio and PBO computed over the whole sweep.

    Raises
    ------
    backtest.errors.DataValidationError
        As in :func:`backtest`.
    """
    check_levels(levels, where="engine.sweep", columns=[series])
    _check_price(levels, series, "engine.sweep")
    strat = _resolve(strategy)
    if max_combinations is not None and (
        isinstance(max_combinations, bool)
        or not isinstance(max_combinations, int)
        or max_combinations < 1
    ):
        raise ConfigError(
            f"sweep: max_combinations must be a whole number >= 1 or None, got {max_combinations!r}"
        )
    # Every value checked against the strategy's Params; the product is not built.
    full = parse_space(strat.Params, space, where="sweep")
    size = len(full) if isinstance(full, tuple) else full.size
    if method == "random":
        if not samples or samples < 1:
            raise ConfigError("sweep: method 'random' needs samples >= 1")
        if size > _MAX_INDEX:
            raise ConfigError(
                f"sweep of {strat.name!r}: {size:,} combinations are too many to draw "
                "samples from; narrow the ranges"
            )
    count = min(samples or 0, size) if method == "random" else size
    check_count(
        count,
        max_combinations,
        where=f"sweep of {strat.name!r}",
        limit_name="max_combinations= of engine.sweep; strategies[i].max_combinations in a config",
    )
    candidates: list[int] = []
    if method == "random":  # the same draw as from the list of every combination
        rng = np.random.default_rng(seed)
        pick = rng.choice(size, size=count, replace=False)
        candidates = sorted(int(i) for i in pick)
    # One lazy pass: keep the positions of the valid combinations and their parameters
    # (a table column each); combinations breaking a rule between parameters are
    # skipped and counted (e.g. fast >= slow).
    valid = array.array("q")
    columns: dict[str, list[Any]] = {}
    first: StrategyParams | None = None
    walk = enumerate(full) if method == "grid" else ((i, full[i]) for i in candidates)
    for i, combo in walk:
        try:
            p = strat.parse(combo)
        except ConfigError:
            continue
        if first is None:
            first = p
            columns = {k: [] for k in p.model_dump(mode="json")}
        valid.append(i)
        for k, v in p.model_dump(mode="json").items():
            columns[k].append(v)
    if first is None:
        raise ConfigError(f"sweep of {strat.name!r}: no valid parameter combination")
    n_valid = len(valid)
    # Fail early on missing series; the traded series' bars fix the validation folds.
    bars = len(_data(strat, first, levels, series, events, day0).price)
    spec = _validation_spec(validation)
    folds = validation_folds(bars, **spec) if spec else []
    settings = _chunk_settings(
        series,
        fees_bps=fees_bps,
        slippage_bps=slippage_bps,
        periods_per_year=periods_per_year,
        risk_free=risk_free,
        pbo_splits=pbo_splits,
        keep_returns=keep_returns,
        folds=folds,
    )
    requested = chunk_size
    if chunk_memory is not None:  # a chunk's arrays have one row per bar of the series
        chunk_size = max(1, min(chunk_size, int(chunk_memory) // (max(1, bars) * BYTES_PER_CELL)))
    chunks = _Tasks(strat, full, valid, chunk_size, settings)
    runner: Executor = executor if executor is not None else LocalExecutor()
    parts: list[_Chunk] = runner.map(
        _sweep_chunk, chunks, shared=(levels, events, day0), progress=progress
    )
    perf_all = pd.concat([part.metrics for part in parts])
    params_frame = pd.DataFrame(columns, index=pd.RangeIndex(n_valid))
    del columns
    table = pd.concat([params_frame, perf_all.reset_index(drop=True)], axis=1)
    sharpe = table["sharpe"].to_numpy(dtype=float)
    best = int(np.nanargmax(sharpe)) if np.isfinite(sharpe).any() else 0
    if keep_returns:
        returns = _join_returns([part.returns for part in parts])
    else:  # the best row is its chunk's best (first maximum in both): that chunk sent it
        returns = next(p.returns for p in parts if best in p.returns.columns)[[best]]
    selection = _selection(parts, returns[best].to_numpy(), pbo_splits)
    choices = _fold_choices(parts, folds, spec, returns.index) if spec else None
    return SweepResult(
        strategy=strat.name,
        series=series,
        table=table,
        returns=returns,
        best=best,
        selection=selection,
        settings={
            **_settings(strat, fees_bps, slippage_bps, periods_per_year, risk_free),
            "method": method,
            "combinations": n_valid,
            "skipped_invalid": count - n_valid,
            "max_combinations": max_combinations,
            "chunk_size": chunk_size,
            "chunk_size_requested": requested,
            "chunk_memory": chunk_memory,
            "returns": "all" if keep_returns else "best",
        },
        folds=choices,
    )


def _chunk_settings(
    series: str,
    *,
    fees_bps: float = 0.0,
    slippage_bps: float = 0.0,
    periods_per_year: int = 252,
    risk_free: float = 0.0,
    pbo_splits: int = 10,
    keep_returns: bool = True,
    folds: Sequence[tuple[int, int, int, int]] = (),
) -> dict[str, Any]:
    """The settings every task of a sweep receives (what :func:`_sweep_chunk` reads)."""
    return {
        "series": series,
        "fees_bps": fees_bps,
        "slippage_bps": slippage_bps,
        "periods_per_year": periods_per_year,
        "risk_free": risk_free,
        "pbo_splits": pbo_splits,
        "keep_returns": keep_returns,
        "folds": list(folds),
    }


@dataclass(frozen=True)
class _Tasks(Sequence[tuple[Strategy, Sequence[Any], int, dict[str, Any]]]):
    """The tasks of a sweep, made on demand: chunk `k` holds the valid combinations
    ``k * size`` to ``(k + 1) * size - 1`` (rows of the table), as their positions in
    the space, so that no task list, and no list of combinations, is ever built."""

    strat: Strategy
    space: Grid | tuple[Mapping[str, Any], ...]
    positions: array.array[int]
    size: int
    settings: dict[str, Any]

    def __len__(self) -> int:
        return -(-len(self.positions) // self.size)

    def __getitem__(self, k: Any) -> Any:
        if isinstance(k, slice):
            return [self[j] for j in range(*k.indices(len(self)))]
        if k < 0:
            k += len(self)
        if not 0 <= k < len(self):
            raise IndexError(k)
        lo = k * self.size
        where = self.positions[lo : lo + self.size]
        part: Sequence[Any] = (
            self.space.take(where)
            if isinstance(self.space, Grid)
            else tuple(self.space[i] for i in where)
        )
        return (self.strat, part, lo, self.settings)


@dataclass(frozen=True)
class _Chunk:
    """What one chunk of a sweep sends back: its returns and metrics, and the
    per-trial statistics the whole-sweep selection measures need (so that those are
    computed where the returns are, and combine exactly across chunks)."""

    returns: pd.DataFrame  # bars x combinations of the chunk (or its best one only)
    metrics: pd.DataFrame  # one row per combination, METRICS
    sharpe_raw: np.ndarray  # per-period Sharpe of the raw returns, for the DSR
    blocks: np.ndarray | None  # metrics.pbo_block_stats of the returns, for the PBO
    fold_sharpe: np.ndarray  # per validation fold: the chunk's best in-sample Sharpe
    fold_pick: np.ndarray  # per fold: the row of that combination (-1: none)
    fold_returns: np.ndarray  # bars x folds: that combination's returns


def _sweep_chunk(
    task: tuple[Strategy, list[StrategyParams], int, dict[str, Any]],
    levels: pd.DataFrame,
    events: pd.DataFrame | None,
    day0: pd.DataFrame | None,
) -> _Chunk:
    """One chunk of a sweep: positions, one vectorbt call, metrics (runs on a worker).

    `task` is ``(strategy, combinations, row of the first, settings)``; the
    combinations are parameter sets or mappings (parsed here, on the worker).
    """
    strat, combos, lo, cfg = task
    chunk = [strat.parse(c) for c in combos]
    try:
        data = _data(strat, chunk[0], levels, cfg["series"], events, day0)
        price = data.price
        target = strat.positions_many(data, chunk).reindex(price.index)
        target.columns = range(lo, lo + len(chunk))
        held = _executed(strat, target)
        pf = _simulate(price, held, cfg["fees_bps"], cfg["slippage_bps"])
        r = np.asarray(pf.returns(), dtype=float)
        counts = _trade_counts(pf, len(chunk))
        _dispose(pf)  # free the portfolio's arrays before the next chunk
        ppy = float(cfg["periods_per_year"])
        rf_p = mt.per_period_risk_free(cfg["risk_free"], ppy)
        columns, sharpe_raw = mt._performance_arrays(
            r, held.to_numpy(dtype=float), counts, rf_p, ppy
        )
        splits = cfg["pbo_splits"]
        blocks = mt.pbo_block_stats(r, splits) if r.shape[0] >= 4 * splits else None
        n_folds = len(cfg["folds"])
        fold_sharpe = np.full(n_folds, np.nan)
        fold_pick = np.full(n_folds, -1, dtype=np.int64)
        fold_returns = np.full((r.shape[0], n_folds), np.nan)
        for k, (a, b, _, _) in enumerate(cfg["folds"]):
            ins = mt._performance_arrays(r[a:b], None, None, rf_p, ppy)[0]["sharpe"]
            if np.isfinite(ins).any():
                j = int(np.nanargmax(ins))  # the first maximum, as over the whole sweep
                fold_sharpe[k], fold_pick[k] = ins[j], lo + j
                fold_returns[:, k] = r[:, j]
    except BacktestError:
        raise
    except Exception as exc:
        shown = [p.model_dump(mode="json") for p in chunk[:3]]
        more = f" and {len(chunk) - 3} more" if len(chunk) > 3 else ""
        raise StrategyError(
            f"strategy {strat.name!r} failed on {cfg['series']} for parameters "
            f"{shown}{more}: {type(exc).__name__}: {exc}"
        ) from exc
    metrics = pd.DataFrame(columns, index=held.columns, columns=list(METRICS))
    keep: slice | list[int] = slice(None)
    if not cfg["keep_returns"]:  # only the chunk's best (first maximum, as in sweep)
        sharpe = columns["sharpe"]
        keep = [int(np.nanargmax(sharpe)) if np.isfinite(sharpe).any() else 0]
    return _Chunk(
        returns=pd.DataFrame(r[:, keep], index=price.index, columns=held.columns[keep]),
        metrics=metrics,
        sharpe_raw=sharpe_raw,
        blocks=blocks,
        fold_sharpe=fold_sharpe,
        fold_pick=fold_pick,
        fold_returns=fold_returns,
    )


def _trade_counts(pf: Any, k: int) -> list[np.ndarray]:
    """Trades (closed and open) and winning trades of each of the `k` columns.

    Trades without a return (NaN) are not counted, as in :func:`metrics.performance`.
    """
    rec = pf.trades.values
    ret = rec["return"]
    col = rec["col"][~np.isnan(ret)]
    trades = np.bincount(col, minlength=k).astype(np.float64)
    wins = np.bincount(rec["col"][ret > 0.0], minlength=k).astype(np.float64)
    return [trades, wins]


def _join_returns(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Chunks' returns side by side, written once into one (bars x trials) array."""
    n = sum(p.shape[1] for p in parts)
    out = np.empty((len(parts[0]), n), order="F")  # column-major: a trial is contiguous
    lo = 0
    for part in parts:
        out[:, lo : lo + part.shape[1]] = part.to_numpy()
        lo += part.shape[1]
    return pd.DataFrame(out, index=parts[0].index, columns=pd.RangeIndex(n), copy=False)


def _selection(parts: list[_Chunk], best_returns: np.ndarray, splits: int) -> dict[str, Any]:
    """PSR/DSR of the best trial and PBO over all trials, from the chunks' statistics."""
    sr = np.concatenate([part.sharpe_raw for part in parts])  # per period
    n_trials = sr.size
    out: dict[str, Any] = {"trials": n_trials}
    out["psr"] = float(mt.probabilistic_sharpe_ratio_from_returns(best_returns))
    finite = sr[np.isfinite(sr)]
    if n_trials >= 2 and finite.size >= 2:
        out["dsr"] = float(mt.deflated_sharpe_ratio(best_returns, finite))
    else:
        out["dsr"] = None
    blocks = [part.blocks for part in parts if part.blocks is not None]
    if n_trials >= 2 and len(blocks) == len(parts):
        pbo = mt.pbo_from_block_stats(np.concatenate(blocks, axis=2))
        out["pbo"] = float(pbo.pbo)
        out["pbo_splits"] = splits
    else:
        out["pbo"] = None
    return out


def _validation_spec(validation: Mapping[str, Any] | None) -> dict[str, Any]:
    """The `validation` settings of a sweep, checked; :func:`validation_folds` fills in
    its own defaults for the ones not given."""
    if not validation:
        return {}
    keys = ("method", "train_fraction", "train_bars", "test_bars")
    unknown = sorted(set(validation) - set(keys))
    if unknown:
        raise ConfigError(f"sweep validation: unknown settings {unknown}; expected {list(keys)}")
    return dict(validation)


def _fold_choices(
    parts: list[_Chunk], folds: list[tuple[int, int, int, int]], spec: dict[str, Any], index: Any
) -> FoldChoices:
    """Each fold's pick over the whole sweep, from the chunks' own picks.

    The chunks are in row order and each sends its first in-sample maximum, so the
    first chunk holding the overall maximum holds the overall first maximum: the same
    row as ``nanargmax`` over every combination.
    """
    picks, columns = [], []
    for k in range(len(folds)):
        sharpe = np.array([part.fold_sharpe[k] for part in parts])
        if not np.isfinite(sharpe).any():
            picks.append(-1)
            columns.append(np.full(len(index), np.nan))
            continue
        c = int(np.nanargmax(sharpe))
        picks.append(int(parts[c].fold_pick[k]))
        columns.append(parts[c].fold_returns[:, k])
    frame = pd.DataFrame(np.column_stack(columns) if columns else np.empty((len(index), 0)))
    frame.index = index
    return FoldChoices(folds=list(folds), spec=dict(spec), picks=picks, returns=frame)


def validation_folds(
    n_bars: int,
    method: Literal["train_test", "walk_forward"] = "train_test",
    train_fraction: float = 0.7,
    train_bars: int = 756,
    test_bars: int = 252,
) -> list[tuple[int, int, int, int]]:
    """Bar positions of train/test or walk-forward folds.

    Parameters
    ----------
    n_bars : int
        Bars of the traded series.
    method, train_fraction, train_bars, test_bars
        As in :func:`validate`.

    Returns
    -------
    list of (int, int, int, int)
        ``(train_start, train_end, test_start, test_end)`` per fold, ends exclusive.

    Raises
    ------
    ConfigError
        If the split does not fit the bars.

    Examples
    --------
    >>> validation_folds(10, "train_test", train_fraction=0.7)
    [(0, 7, 7, 10)]
    >>> validation_folds(10, "walk_forward", train_bars=4, test_bars=3)
    [(0, 4, 4, 7), (3, 7, 7, 10)]
    """
    n = n_bars
    if method == "train_test":
        if not 0.0 < train_fraction < 1.0:
            raise ConfigError(f"validation.train_fraction must be in (0, 1), got {train_fraction}")
        cut = int(n * train_fraction)
        return [(0, cut, cut, n)]
    if method != "walk_forward":
        raise ConfigError(
            f"validation.method must be 'train_test' or 'walk_forward', got {method!r}"
        )
    if train_bars < 2 or test_bars < 2 or train_bars + test_bars > n:
        raise ConfigError(
            f"validation: train_bars={train_bars} + test_bars={test_bars} must fit in {n} bars"
        )
    return [
        (s, s + train_bars, s + train_bars, min(s + train_bars + test_bars, n))
        for s in range(0, n - train_bars - 1, test_bars)
        if s + train_bars < n
    ]


def validate(
    strategy: str | Strategy,
    space: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    levels: pd.DataFrame,
    events: pd.DataFrame | None = None,
    *,
    series: str,
    method: Literal["train_test", "walk_forward"] = "train_test",
    train_fraction: float = 0.7,
    train_bars: int = 756,
    test_bars: int = 252,
    sweep_method: Literal["grid", "random"] = "grid",
    **kwargs: Any,
) -> ValidationResult:
    """Choose parameters in sample, measure them out of sample.

    For each fold the sweep runs on the whole history (indicators need their warm-up;
    positions use data up to each bar only), the best combination by in-sample Sharpe
    is chosen on the training bars, and both samples' metrics are computed from the
    returns of their own bars.

    Parameters
    ----------
    strategy, space, levels, events, series
        As in :func:`sweep`.
    method : {"train_test", "walk_forward"}
        One split at `train_fraction`, or rolling folds of `train_bars` followed by
        `test_bars`.
    train_fraction : float
        Share of bars in the training sample (train/test split).
    train_bars, test_bars : int
        Fold lengths (walk-forward).
    sweep_method : {"grid", "random"}
        ``method`` of the underlying :func:`sweep`.
    **kwargs
        Passed to :func:`sweep` (costs, annualisation, ...).
    """
    spec = {
        "method": method,
        "train_fraction": train_fraction,
        "train_bars": train_bars,
        "test_bars": test_bars,
    }
    result = sweep(
        strategy,
        space,
        levels,
        events,
        series=series,
        method=sweep_method,
        validation=spec,
        **kwargs,
    )
    return out_of_sample(
        result,
        method=method,
        train_fraction=train_fraction,
        train_bars=train_bars,
        test_bars=test_bars,
    )


def out_of_sample(
    result: SweepResult,
    *,
    method: Literal["train_test", "walk_forward"] = "train_test",
    train_fraction: float = 0.7,
    train_bars: int = 756,
    test_bars: int = 252,
) -> ValidationResult:
    """In-sample choice and out-of-sample metrics from a finished sweep (see :func:`validate`).

    Parameters
    ----------
    result : SweepResult
        The sweep whose returns are split; it is not run again.
    method, train_fraction, train_bars, test_bars
        As in :func:`validate`.

    Returns
    -------
    ValidationResult
    """
    n = len(result.folds.returns) if result.folds is not None else len(result.returns)
    folds = validation_folds(
        n, method, train_fraction=train_fraction, train_bars=train_bars, test_bars=test_bars
    )
    ppy = result.settings["periods_per_year"]
    rf = result.settings["risk_free"]
    chosen_by_sweep = result.folds is not None and result.folds.folds == folds
    if not chosen_by_sweep and result.settings.get("returns", "all") != "all":
        raise ConfigError(
            f"out-of-sample validation of {result.strategy!r} needs every combination's "
            "returns, or the folds chosen during the sweep; the sweep ran with "
            "keep_returns=False and without these validation settings (pass "
            "validation= to sweep, as validate does)"
        )
    rows, oos_parts, idle = [], [], []
    params_cols = [c for c in result.table.columns if c not in METRICS]
    dates = result.folds.returns.index if result.folds is not None else result.returns.index
    for k, (a, b, c, d) in enumerate(folds):
        if chosen_by_sweep:
            assert result.folds is not None
            pick = result.folds.picks[k]
            col = result.folds.returns.iloc[:, [k]]
        else:
            ins_all = mt.performance(result.returns.iloc[a:b], periods_per_year=ppy, risk_free=rf)
            sharpe = ins_all["sharpe"].to_numpy(dtype=float)
            pick = int(np.nanargmax(sharpe)) if np.isfinite(sharpe).any() else -1
            col = result.returns.iloc[:, [max(pick, 0)]]
        if pick < 0:  # no combination trades in sample: nothing to choose, no trades
            idle.append(k)
            for sample, (lo, hi) in (("in", (a, b)), ("out", (c, d))):
                row = {"fold": k, "sample": sample, "start": dates[lo], "end": dates[hi - 1]}
                row.update({m: np.nan for m in METRICS})
                row["note"] = NO_TRADES
                rows.append(row)
            continue
        chosen = result.table.iloc[pick][params_cols].to_dict()
        ins = mt.performance(col.iloc[a:b], periods_per_year=ppy, risk_free=rf)
        outs = mt.performance(col.iloc[c:d], periods_per_year=ppy, risk_free=rf)
        for sample, perf, (lo, hi) in (("in", ins, (a, b)), ("out", outs, (c, d))):
            row = {"fold": k, "sample": sample, "start": dates[lo], "end": dates[hi - 1]}
            row.update({f"param_{p}": v for p, v in chosen.items()})
            row.update({m: float(perf.iloc[0][m]) for m in perf.columns if m in METRICS})
            rows.append(row)
        oos_parts.append(col.iloc[c:d, 0])
    if oos_parts:
        oos = pd.concat(oos_parts).rename("returns")
        oos_perf = mt.performance(oos, periods_per_year=ppy, risk_free=rf)
        oos_metrics = {m: float(oos_perf.iloc[0][m]) for m in oos_perf.columns if m in METRICS}
    else:  # no fold traded
        oos = pd.Series([], index=dates[:0], dtype=float, name="returns")
        oos_metrics = {m: float("nan") for m in METRICS}
    return ValidationResult(
        strategy=result.strategy,
        series=result.series,
        folds=pd.DataFrame(rows),
        oos_returns=oos,
        oos_metrics=oos_metrics,
        settings={
            **result.settings,
            "validation": method,
            "folds": len(folds),
            "folds_without_trades": idle,
        },
    )
