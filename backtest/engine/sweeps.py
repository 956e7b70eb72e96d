"""Many parameter sets of one strategy: :func:`sweep`, and :func:`grid` to preview a space.

A sweep checks its space against the strategy, walks it lazily, cuts the valid
combinations into chunks (:mod:`backtest.engine.chunks`), runs them where the executor
says, and combines what they send back: the table, the best row, the selection-bias
statistics (deflated Sharpe ratio, probability of backtest overfitting) and, with
`validation`, each fold's in-sample pick.
"""

from __future__ import annotations

import array
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, get_args

import numpy as np
import pandas as pd

from backtest import metrics as mt
from backtest.engine.book import (
    check_legs,
    conventions,
    leg_names,
    open_book,
    rates_for,
    simulator_name,
    simulator_of,
)
from backtest.engine.chunks import Chunk, ChunkSettings, Tasks, run_chunk
from backtest.engine.folds import Fold, validation_folds, validation_spec
from backtest.engine.legs import DEFAULT_FUNDING, Funding
from backtest.engine.results import FoldChoices, SweepResult
from backtest.engine.simulate import market_data, resolve, run_settings
from backtest.engine.single import check_risk_free
from backtest.errors import ConfigError
from backtest.execution import DEFAULT_CHUNK_SIZE, Executor, LocalExecutor
from backtest.paramsets import BLOCK, grid_plan
from backtest.space import (
    DEFAULT_MAX_COMBINATIONS,
    DEFAULT_SWEEP_METHOD,
    FloatRange,
    Grid,
    SweepMethod,
    check_count,
    parse_space,
)
from backtest.strategy import Strategy, StrategyParams

__all__ = ["BYTES_PER_CELL", "grid", "sweep"]

#: Peak bytes a sweep chunk needs per (bar x combination) cell: vectorbt's simulation
#: and returns arrays (close, sizes, cash, assets, value, returns, ...) and what the
#: allocator keeps. Peak RSS (VmHWM) minus idle RSS was ~179 bytes per cell on a Dask
#: worker and ~196 in a local run holding the gathered table, at 2,000 combinations x
#: 2,514 bars (benchmarks/bench_dask.py, million-combination run); rounded up.
BYTES_PER_CELL = 200

#: Largest space a sweep can index (and draw samples from) by position.
_MAX_INDEX = 2**63 - 1


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
            values.append(FloatRange(start, step, max(count, 0)))  # start + i * step
        elif isinstance(value, list | tuple):
            values.append(list(value))
        else:
            values.append([value])
    check_count(math.prod(len(v) for v in values), max_combinations, where="grid")
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*values)]


def sweep(
    strategy: str | Strategy,
    space: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    levels: pd.DataFrame,
    events: pd.DataFrame | None = None,
    *,
    series: str,
    method: SweepMethod = DEFAULT_SWEEP_METHOD,
    samples: int | None = None,
    seed: int = 0,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    fees_bps: float | Mapping[str, float] = 0.0,
    slippage_bps: float | Mapping[str, float] = 0.0,
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
    allow_untradable: bool = False,
    funding: Funding = DEFAULT_FUNDING,
    rates: pd.DataFrame | None = None,
    short_rates: Mapping[str, str] | None = None,
    simulator: str = "auto",
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
    allow_untradable : bool, default False
        As in :func:`backtest`: trade an ``untradable`` series anyway.
    funding, rates, short_rates
        As in :func:`backtest`: the short rates are loaded once, here, and shipped
        to the chunks with the levels.
    simulator : {"auto", "kernel", "vectorbt"}
        The simulation path (:data:`backtest.engine.book.SIMULATORS`): ``"auto"`` runs
        the numba kernel (:mod:`backtest.engine.fastsim`), which reproduces vectorbt's
        orders to rounding; ``"vectorbt"`` the reference path. Recorded in
        ``settings["simulator"]``.

    Returns
    -------
    SweepResult
        With the deflated Sharpe ratio and PBO computed over the whole sweep.

    Raises
    ------
    backtest.errors.DataValidationError
        As in :func:`backtest`.
    backtest.errors.StrategyError
        `series` is untradable and `allow_untradable` is False (as in :func:`backtest`).
    """
    strat = resolve(strategy)
    path = simulator_of(simulator)
    if max_combinations is not None and (
        isinstance(max_combinations, bool)
        or not isinstance(max_combinations, int)
        or max_combinations < 1
    ):
        raise ConfigError(
            f"sweep: max_combinations must be a whole number >= 1 or None, got {max_combinations!r}"
        )
    if method not in get_args(SweepMethod):
        raise ConfigError(
            f"sweep: method must be one of {', '.join(get_args(SweepMethod))}; got {method!r}"
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
    valid, columns, first, legs = _walk(
        strat, full, candidates if method == "random" else None, series
    )
    if first is None:
        raise ConfigError(f"sweep of {strat.name!r}: no valid parameter combination")
    n_valid = len(valid)
    check_legs(levels, legs, "engine.sweep", allow_untradable=allow_untradable)
    # Fail early on missing series; the traded series' bars fix the validation folds.
    dates = market_data(strat, first, levels, series, events, day0).price.index
    bars = len(dates)
    rates = rates_for(levels, legs, dates, rates=rates, funding=funding, short_rates=short_rates)
    book = open_book(  # fails here, once, on a leg or rate the chunks could not use
        levels,
        legs,
        dates,
        rates=rates,
        funding=funding,
        short_rates=short_rates,
        allow_untradable=allow_untradable,
    )
    check_risk_free(book.funded, risk_free, "engine.sweep")
    spec = validation_spec(validation)
    folds = validation_folds(bars, **spec) if spec else []
    settings = ChunkSettings(
        series,
        fees_bps=fees_bps,
        slippage_bps=slippage_bps,
        periods_per_year=periods_per_year,
        risk_free=risk_free,
        pbo_splits=pbo_splits,
        keep_returns=keep_returns,
        folds=tuple(folds),
        funding=funding,
        short_rates=tuple(sorted((short_rates or {}).items())),
        allow_untradable=allow_untradable,
        simulator=path,
    )
    requested = chunk_size
    if chunk_memory is not None:  # a chunk's arrays have one row per bar of the series
        chunk_size = max(1, min(chunk_size, int(chunk_memory) // (max(1, bars) * BYTES_PER_CELL)))
    chunks = Tasks(strat, full, valid, chunk_size, settings)
    runner: Executor = executor if executor is not None else LocalExecutor()
    parts: list[Chunk] = runner.map(
        run_chunk, chunks, shared=(levels, events, day0, rates, book), progress=progress
    )
    perf_all = pd.concat([part.metrics for part in parts])
    params_frame = pd.DataFrame(columns, index=pd.RangeIndex(n_valid))
    del columns
    table = pd.concat([params_frame, perf_all.reset_index(drop=True)], axis=1)
    sharpe = table["sharpe"].to_numpy(dtype=float)
    best = int(np.nanargmax(sharpe)) if np.isfinite(sharpe).any() else 0
    funded = parts[0].excess is not None
    excess: pd.DataFrame | None = None
    if keep_returns:
        returns = _join_returns([part.returns for part in parts])
        if funded:
            excess = _join_returns([p.excess for p in parts if p.excess is not None])
    else:  # the best row is its chunk's best (first maximum in both): that chunk sent it
        sender = next(p for p in parts if best in p.returns.columns)
        returns = sender.returns[[best]]
        excess = None if sender.excess is None else sender.excess[[best]]
    scored = returns if excess is None else excess
    selection = _selection(parts, scored[best].to_numpy(), pbo_splits)
    choices = _fold_choices(parts, folds, spec, returns.index) if spec else None
    return SweepResult(
        strategy=strat.name,
        series=series,
        table=table,
        returns=returns,
        best=best,
        selection=selection,
        settings={
            **run_settings(strat, fees_bps, slippage_bps, periods_per_year, risk_free),
            "method": method,
            "combinations": n_valid,
            "skipped_invalid": count - n_valid,
            "max_combinations": max_combinations,
            "chunk_size": chunk_size,
            "chunk_size_requested": requested,
            "chunk_memory": chunk_memory,
            "returns": "all" if keep_returns else "best",
            "funding": funding,
            "simulator": simulator_name(path),
            "instruments": {leg.name: leg.instrument for leg in book.legs},
            "conventions": conventions(book, risk_free),
        },
        folds=choices,
        excess_returns=excess,
    )


def _walk(
    strat: Strategy[Any],
    full: Grid | tuple[Mapping[str, Any], ...],
    candidates: list[int] | None,
    series: str,
) -> tuple[array.array[int], dict[str, Any], StrategyParams | None, list[str]]:
    """The valid combinations of a space: positions, table columns, the first, the legs.

    Visits every position of `full` (or the sorted `candidates` of a random draw) in
    order. A grid with a :class:`~backtest.paramsets.GridPlan` is walked in blocks of
    positions with numpy; otherwise each combination is validated by ``strat.parse``
    (the same decisions, columns and legs).
    """
    plan = grid_plan(strat.Params, full) if isinstance(full, Grid) else None
    if plan is None:
        return _walk_each(strat, full, candidates, series)
    assert isinstance(full, Grid)
    valid = array.array("q")
    total = full.size if candidates is None else len(candidates)
    drawn = None if candidates is None else np.array(candidates, dtype=np.int64)
    default_legs = type(strat).legs is Strategy.legs  # [series] whatever the parameters
    held: dict[str, None] = {series: None} if default_legs else {}
    for lo in range(0, total, BLOCK):
        hi = min(lo + BLOCK, total)
        positions = np.arange(lo, hi, dtype=np.int64) if drawn is None else drawn[lo:hi]
        kept = positions[plan.valid(positions)]
        valid.frombytes(kept.astype(np.int64).tobytes())
        if not default_legs:
            for p in plan.build(kept):
                held.update(dict.fromkeys(leg_names(strat, p, series)))
    if not valid:
        return valid, {}, None, []
    first = strat.parse(full[valid[0]])
    columns = plan.table(np.frombuffer(valid, dtype=np.int64))
    return valid, columns, first, list(held)


def _walk_each(
    strat: Strategy[Any],
    full: Grid | tuple[Mapping[str, Any], ...],
    candidates: list[int] | None,
    series: str,
) -> tuple[array.array[int], dict[str, Any], StrategyParams | None, list[str]]:
    """:func:`_walk` one combination at a time, each validated by ``strat.parse``."""
    valid = array.array("q")
    columns: dict[str, list[Any]] = {}
    first: StrategyParams | None = None
    held: dict[str, None] = {}  # every leg of every valid combination, in order
    walk = enumerate(full) if candidates is None else ((i, full[i]) for i in candidates)
    for i, combo in walk:
        try:
            p = strat.parse(combo)
        except ConfigError:
            continue
        if first is None:
            first = p
            columns = {k: [] for k in p.model_dump(mode="json")}
        held.update(dict.fromkeys(leg_names(strat, p, series)))
        valid.append(i)
        for k, v in p.model_dump(mode="json").items():
            columns[k].append(v)
    return valid, columns, first, list(held)


def _join_returns(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Chunks' returns side by side, written once into one (bars x trials) array."""
    n = sum(p.shape[1] for p in parts)
    out = np.empty((len(parts[0]), n), order="F")  # column-major: a trial is contiguous
    lo = 0
    for part in parts:
        out[:, lo : lo + part.shape[1]] = part.to_numpy()
        lo += part.shape[1]
    return pd.DataFrame(out, index=parts[0].index, columns=pd.RangeIndex(n), copy=False)


def _selection(parts: list[Chunk], best_returns: np.ndarray, splits: int) -> dict[str, Any]:
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


def _fold_choices(
    parts: list[Chunk], folds: Sequence[Fold], spec: dict[str, Any], index: Any
) -> FoldChoices:
    """Each fold's pick over the whole sweep, from the chunks' own picks.

    The chunks are in row order and each sends its first in-sample maximum, so the
    first chunk holding the overall maximum holds the overall first maximum: the same
    row as ``nanargmax`` over every combination.
    """
    picks, columns, extra = [], [], []
    funded = parts[0].fold_excess is not None
    for k in range(len(folds)):
        sharpe = np.array([part.fold_sharpe[k] for part in parts])
        if not np.isfinite(sharpe).any():
            picks.append(-1)
            columns.append(np.full(len(index), np.nan))
            extra.append(np.full(len(index), np.nan))
            continue
        c = int(np.nanargmax(sharpe))
        picks.append(int(parts[c].fold_pick[k]))
        columns.append(parts[c].fold_returns[:, k])
        fx = parts[c].fold_excess
        extra.append(fx[:, k] if fx is not None else np.full(len(index), np.nan))

    def frame_of(cols: list[np.ndarray]) -> pd.DataFrame:
        out = pd.DataFrame(np.column_stack(cols) if cols else np.empty((len(index), 0)))
        out.index = index
        return out

    return FoldChoices(
        folds=list(folds),
        spec=dict(spec),
        picks=picks,
        returns=frame_of(columns),
        excess=frame_of(extra) if funded else None,
    )
