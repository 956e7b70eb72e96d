"""The chunk protocol of a sweep: what each task receives, runs and sends back.

A sweep cuts its valid combinations into chunks (:class:`Tasks`, made on demand); each
chunk travels to where it runs (this process or a Dask worker) as a :class:`Task`
carrying the sweep's :class:`ChunkSettings`; :func:`run_chunk` simulates the chunk in
one vectorbt call and returns a :class:`Chunk`: its metrics and the per-trial
statistics from which the sweep combines the selection measures exactly.  Everything
here is picklable (module-level classes and functions).
"""

from __future__ import annotations

import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from backtest import metrics as mt
from backtest.engine.book import (
    Book,
    leg_names,
    measure,
    open_book,
    simulate,
    simulate_kernel,
    simulator_of,
    targets,
)
from backtest.engine.legs import DEFAULT_FUNDING
from backtest.engine.results import METRICS
from backtest.engine.simulate import market_data
from backtest.errors import BacktestError, StrategyError
from backtest.paramsets import parse_chunk
from backtest.space import Grid
from backtest.strategy import Crossing, MarketData, Strategy, StrategyParams

__all__ = ["Chunk", "ChunkSettings", "Task", "Tasks", "run_chunk"]


@dataclass(frozen=True)
class ChunkSettings:
    """The settings every task of a sweep receives (what :func:`run_chunk` reads).

    Attributes
    ----------
    series : str
        Traded series (a column of the levels).
    fees_bps, slippage_bps : float
        Costs in basis points of traded value.
    periods_per_year : int
        Observations per year for annualisation.
    risk_free : float
        Annual risk-free rate for Sharpe and Sortino.
    pbo_splits : int
        Blocks of the CSCV for the PBO (even); the chunk sends its block statistics
        when it has at least ``4 * pbo_splits`` bars.
    keep_returns : bool
        Send back every combination's returns (True) or only the chunk's best.
    folds : tuple of (int, int, int, int)
        Validation folds ``(train_start, train_end, test_start, test_end)`` (bar
        positions, ends exclusive) in which the chunk picks its best combination in
        sample; empty: no validation.
    funding : {"short_rate", "none"}
        As in :func:`backtest.engine.backtest`.
    short_rates : tuple of (str, str)
        Currency -> short-rate series overrides.
    allow_untradable : bool
        Trade untradable series as prices.
    simulator : {"auto", "kernel", "vectorbt"}
        The simulation path (:data:`backtest.engine.book.SIMULATORS`).

    Examples
    --------
    >>> ChunkSettings("USDJPY", fees_bps=1.0, keep_returns=False).keep_returns
    False
    """

    series: str
    fees_bps: Any = 0.0  # float, or a mapping leg -> bps
    slippage_bps: Any = 0.0
    periods_per_year: int = 252
    risk_free: float = 0.0
    pbo_splits: int = 10
    keep_returns: bool = True
    folds: tuple[tuple[int, int, int, int], ...] = ()
    funding: str = DEFAULT_FUNDING
    short_rates: tuple[tuple[str, str], ...] = ()
    allow_untradable: bool = False
    simulator: str = "auto"

    def __post_init__(self) -> None:
        # A list of folds (from validation_folds) is stored as a tuple: immutable, hashable.
        object.__setattr__(self, "folds", tuple(tuple(f) for f in self.folds))


class Task(NamedTuple):
    """One chunk of a sweep as sent to where it runs."""

    strategy: Strategy
    combinations: Sequence[Any]  # parameter sets or mappings, parsed on the worker
    first_row: int  # row of the sweep's table of the first combination
    settings: ChunkSettings


@dataclass(frozen=True)
class Tasks(Sequence[Task]):
    """The tasks of a sweep, made on demand: chunk `k` holds the valid combinations
    ``k * size`` to ``(k + 1) * size - 1`` (rows of the table), as their positions in
    the space, so that no task list, and no list of combinations, is ever built."""

    strat: Strategy
    space: Grid | tuple[Mapping[str, Any], ...]
    positions: array.array[int]
    size: int
    settings: ChunkSettings

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
        return Task(self.strat, part, lo, self.settings)


@dataclass(frozen=True)
class Chunk:
    """What one chunk of a sweep sends back: its returns and metrics, and the
    per-trial statistics the whole-sweep selection measures need (so that those are
    computed where the returns are, and combine exactly across chunks)."""

    returns: pd.DataFrame  # bars x combinations of the chunk (or its best one only)
    metrics: pd.DataFrame  # one row per combination, METRICS
    sharpe_raw: np.ndarray  # per-period Sharpe of the (excess) returns, for the DSR
    blocks: np.ndarray | None  # metrics.pbo_block_stats of the (excess) returns, for the PBO
    fold_sharpe: np.ndarray  # per validation fold: the chunk's best in-sample Sharpe
    fold_pick: np.ndarray  # per fold: the row of that combination (-1: none)
    fold_returns: np.ndarray  # bars x folds: that combination's returns
    excess: pd.DataFrame | None = None  # as `returns`, in excess of funding (None: unfunded)
    fold_excess: np.ndarray | None = None  # bars x folds: the picks' excess returns


def run_chunk(
    task: Task | tuple[Strategy, Sequence[Any], int, ChunkSettings],
    levels: pd.DataFrame,
    events: pd.DataFrame | None,
    day0: pd.DataFrame | None,
    rates: pd.DataFrame | None = None,
    book: Book | None = None,
) -> Chunk:
    """One chunk of a sweep: positions, one vectorbt call per set of legs, metrics.

    Parameters
    ----------
    task : Task
        ``(strategy, combinations, row of the first, settings)``; the combinations are
        parameter sets or mappings (parsed here, on the worker).
    levels, events, day0
        The data shared by every task (as in :func:`backtest.engine.sweep`).
    rates : pandas.DataFrame, optional
        The short rates the legs need (loaded once by the sweep).
    book : Book, optional
        The book the sweep opened (:func:`~backtest.engine.book.open_book` with this
        task's settings): the parameter sets holding its legs on its bars use it
        instead of opening their own. It holds the same arrays, so the results are
        the same; it saves every task the legs' total returns and carry.

    Returns
    -------
    Chunk

    Raises
    ------
    StrategyError
        The strategy failed on this chunk (naming its first parameter sets); the
        project's own errors pass through unchanged.
    """
    strat, combos, lo, cfg = task
    chunk: list[StrategyParams] = parse_chunk(strat, combos)
    labels = pd.RangeIndex(lo, lo + len(chunk))
    try:
        ppy = float(cfg.periods_per_year)
        rf_p = mt.per_period_risk_free(cfg.risk_free, ppy)
        groups: dict[tuple[str, ...], list[int]] = {}
        one_leg = type(strat).legs is Strategy.legs  # the traded series only: one group
        if one_leg:
            groups[(cfg.series,)] = list(range(len(chunk)))
        else:
            for i, p in enumerate(chunk):  # parameter sets holding the same legs run together
                groups.setdefault(tuple(leg_names(strat, p, cfg.series)), []).append(i)
        data = market_data(strat, chunk[0], levels, cfg.series, events, day0)
        bars = data.price.index
        opened = {legs: _book(levels, legs, bars, rates, cfg, book) for legs in groups}
        if simulator_of(cfg.simulator) == "kernel":
            return _kernel_chunk(strat, chunk, lo, cfg, groups, opened, data, rf_p, ppy)
        n = len(chunk)
        r = np.empty((len(bars), n))
        x: np.ndarray | None = None
        columns = {name: np.empty(n) for name in METRICS}
        sharpe_raw = np.empty(n)
        for legs, idx in groups.items():
            book = opened[legs]
            target = targets(strat, data, [chunk[i] for i in idx], legs, bars)
            sim = simulate(strat, book, target, cfg.fees_bps, cfg.slippage_bps)
            cols, raw = measure(sim, len(legs), rf_p, ppy)
            r[:, idx] = sim.returns
            if sim.excess is not None:
                if x is None:
                    x = r.copy()  # unfunded sets (if any): excess = returns, rf 0
                x[:, idx] = sim.excess
            elif x is not None:
                x[:, idx] = sim.returns
            for name in METRICS:
                columns[name][idx] = cols[name]
            sharpe_raw[idx] = raw
        score = r if x is None else x  # what Sharpe-based choices rank
        splits = cfg.pbo_splits
        blocks = mt.pbo_block_stats(score, splits) if score.shape[0] >= 4 * splits else None
        n_folds = len(cfg.folds)
        fold_sharpe = np.full(n_folds, np.nan)
        fold_pick = np.full(n_folds, -1, dtype=np.int64)
        fold_returns = np.full((r.shape[0], n_folds), np.nan)
        fold_excess = None if x is None else np.full((r.shape[0], n_folds), np.nan)
        for k, (a, b, _, _) in enumerate(cfg.folds):
            ins = mt.performance_arrays(
                r[a:b], None, None, rf_p, ppy, excess=None if x is None else x[a:b]
            )[0]["sharpe"]
            if np.isfinite(ins).any():
                j = int(np.nanargmax(ins))  # the first maximum, as over the whole sweep
                fold_sharpe[k], fold_pick[k] = ins[j], lo + j
                fold_returns[:, k] = r[:, j]
                if fold_excess is not None and x is not None:
                    fold_excess[:, k] = x[:, j]
    except BacktestError:
        raise
    except Exception as exc:
        shown = [p.model_dump(mode="json") for p in chunk[:3]]
        more = f" and {len(chunk) - 3} more" if len(chunk) > 3 else ""
        raise StrategyError(
            f"strategy {strat.name!r} failed on {cfg.series} for parameters "
            f"{shown}{more}: {type(exc).__name__}: {exc}"
        ) from exc
    metrics = pd.DataFrame(columns, index=labels, columns=list(METRICS))
    keep: slice | list[int] = slice(None)
    if not cfg.keep_returns:  # only the chunk's best (first maximum, as in sweep)
        sharpe = columns["sharpe"]
        keep = [int(np.nanargmax(sharpe)) if np.isfinite(sharpe).any() else 0]
    return Chunk(
        returns=pd.DataFrame(r[:, keep], index=bars, columns=labels[keep]),
        metrics=metrics,
        sharpe_raw=sharpe_raw,
        blocks=blocks,
        fold_sharpe=fold_sharpe,
        fold_pick=fold_pick,
        fold_returns=fold_returns,
        excess=None if x is None else pd.DataFrame(x[:, keep], index=bars, columns=labels[keep]),
        fold_excess=fold_excess,
    )


def _book(
    levels: pd.DataFrame,
    legs: tuple[str, ...],
    bars: pd.DatetimeIndex,
    rates: pd.DataFrame | None,
    cfg: ChunkSettings,
    given: Book | None,
) -> Book:
    """The book of `legs` on `bars`: `given` when it holds them on those bars, else opened."""
    if (
        given is not None
        and tuple(given.names) == legs
        and (given.bars is bars or given.bars.equals(bars))
    ):
        return given
    return open_book(
        levels,
        legs,
        bars,
        rates=rates,
        funding=cfg.funding,  # type: ignore[arg-type]
        short_rates=dict(cfg.short_rates),
        allow_untradable=cfg.allow_untradable,
    )


def _kernel_chunk(
    strat: Strategy,
    chunk: list[StrategyParams],
    lo: int,
    cfg: ChunkSettings,
    groups: dict[tuple[str, ...], list[int]],
    books: dict[tuple[str, ...], Book],
    data: MarketData,
    rf_p: float,
    ppy: float,
) -> Chunk:
    """:func:`run_chunk` on the numba kernel: metrics, PBO block sums and fold picks
    in one pass per parameter set; returns kept only where needed.

    Without `keep_returns` the kernel keeps no returns; the chunk's best set and each
    fold's pick are simulated again (a few sets) for theirs.
    """
    n = len(chunk)
    bars = data.price.index
    n_bars = len(bars)
    splits = cfg.pbo_splits
    n_folds = len(cfg.folds)
    columns = {name: np.empty(n) for name in METRICS}
    sharpe_raw = np.empty(n)
    blocks = np.empty((splits, 4, n)) if n_bars >= 4 * splits else None
    fold_ins = np.full((n, n_folds), np.nan)
    keep_all = cfg.keep_returns
    funded = any(book.funded for book in books.values())
    r = np.empty((n, n_bars)) if keep_all else None  # bars last: a set is contiguous
    x = np.empty((n, n_bars)) if keep_all and funded else None
    inputs: dict[tuple[str, ...], Any] = {}

    def run(legs: tuple[str, ...], idx: list[int], target: Any, store: bool) -> Any:
        return simulate_kernel(
            strat,
            books[legs],
            target,
            cfg.fees_bps,
            cfg.slippage_bps,
            rf_p,
            ppy,
            splits=splits,
            folds=cfg.folds,
            store=store,
        )

    for legs, idx in groups.items():
        sets = [chunk[i] for i in idx]
        rule = strat.crossings(data, sets) if len(legs) == 1 else None
        target = rule if rule is not None else targets(strat, data, sets, legs, bars)
        inputs[legs] = target
        done = run(legs, idx, target, keep_all)
        for name in METRICS:
            columns[name][idx] = done.columns[name]
        sharpe_raw[idx] = done.sharpe_raw
        if blocks is not None and done.blocks is not None:
            blocks[:, :, idx] = done.blocks
        fold_ins[idx] = done.fold_sharpe
        if r is not None:
            r[idx] = done.returns.T
            if x is not None:
                x[idx] = (done.excess if done.excess is not None else done.returns).T
    sharpe = columns["sharpe"]
    best = int(np.nanargmax(sharpe)) if np.isfinite(sharpe).any() else 0
    picks = [
        int(np.nanargmax(fold_ins[:, k])) if np.isfinite(fold_ins[:, k]).any() else -1
        for k in range(n_folds)
    ]
    wanted = sorted({best, *[p for p in picks if p >= 0]})
    kept_r: dict[int, np.ndarray] = {}
    kept_x: dict[int, np.ndarray] = {}
    if r is not None:
        for j in wanted:
            kept_r[j] = r[j]
            if x is not None:
                kept_x[j] = x[j]
    else:  # simulate the needed sets again, keeping their returns
        for legs, idx in groups.items():
            members = set(idx)
            where = [j for j in wanted if j in members]
            if not where:
                continue
            pos = [idx.index(j) for j in where]
            again = run(legs, where, _subset(inputs[legs], pos, len(legs)), True)
            for c, j in enumerate(where):
                kept_r[j] = again.returns[:, c]
                if funded:
                    ex = again.excess if again.excess is not None else again.returns
                    kept_x[j] = ex[:, c]
    fold_sharpe = np.full(n_folds, np.nan)
    fold_pick = np.full(n_folds, -1, dtype=np.int64)
    fold_returns = np.full((n_bars, n_folds), np.nan)
    fold_excess = np.full((n_bars, n_folds), np.nan) if funded else None
    for k, j in enumerate(picks):
        if j < 0:
            continue
        fold_sharpe[k], fold_pick[k] = fold_ins[j, k], lo + j
        fold_returns[:, k] = kept_r[j]
        if fold_excess is not None:
            fold_excess[:, k] = kept_x[j]
    labels = pd.RangeIndex(lo, lo + n)
    metrics = pd.DataFrame(columns, index=labels, columns=list(METRICS))
    if r is not None:
        ret_frame = pd.DataFrame(r.T, index=bars, columns=labels, copy=False)
        ex_frame = None if x is None else pd.DataFrame(x.T, index=bars, columns=labels, copy=False)
    else:
        ret_frame = pd.DataFrame({lo + best: kept_r[best]}, index=bars)
        ex_frame = None if not funded else pd.DataFrame({lo + best: kept_x[best]}, index=bars)
    return Chunk(
        returns=ret_frame,
        metrics=metrics,
        sharpe_raw=sharpe_raw,
        blocks=blocks,
        fold_sharpe=fold_sharpe,
        fold_pick=fold_pick,
        fold_returns=fold_returns,
        excess=ex_frame,
        fold_excess=fold_excess,
    )


def _subset(target: Any, positions: list[int], n_legs: int) -> Any:
    """The parameter sets at `positions` of a group's targets or comparison rule."""
    if isinstance(target, Crossing):
        return Crossing(
            features=target.features,
            left=target.left[positions],
            right=target.right[positions],
            above=target.above[positions],
            below=target.below[positions],
        )
    cols = [p * n_legs + j for p in positions for j in range(n_legs)]
    out = target.iloc[:, cols]
    out.columns = range(len(cols))
    return out
