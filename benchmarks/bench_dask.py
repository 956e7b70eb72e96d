"""Benchmark: one sweep and one event study in this process and on Dask LocalClusters.

Everything runs in this one script, on this machine, so the ratios are meaningful:

1. **Sweep** of ``ma_crossover`` over ``--series`` (default USD/JPY, S&P 500, Nikkei 225
   and TOPIX from the bundled snapshot, 2016-2025 daily), grid fast 1..``--fast-max`` x
   slow 2..``--slow-max`` (fast < slow) x direction long/both: by default 1,015,600
   combinations. ``engine.sweep(..., keep_returns=False)`` in chunks of
   ``--chunk-size``, (a) in this process, (b) on a ``LocalCluster`` of 1 worker process,
   (c) of 2 worker processes (``threads_per_worker=1``). Timed: wall time of all the
   series' sweeps (cluster start-up and the once-per-worker numba warm-up excluded and
   reported), combinations per second, peak resident memory of this process (local)
   and of each worker (``VmHWM`` after resetting the high-water mark through
   ``/proc/self/clear_refs`` in every process before the run). Checked: the three
   tables, best rows and selection statistics are identical (exact equality).
2. **Event study** of ``--es-series`` series x ``--es-events`` events (default 2,000 x
   200) on a *resampled panel*: real snapshot daily changes, topped up with
   moving-block-bootstrap resamples of them (``bench_eventstudy.resampled_panel``,
   labelled as such), market model against the real S&P 500, windows (-250, -11) /
   (-5, +10), events on random panel dates. Run locally and on each cluster in blocks
   of ``--block-size`` series; abnormal returns and CARs must be identical.
3. **Scheduler task rate**: ``--rate-tasks`` no-op tasks through the 2-worker
   cluster's scheduler, tasks per second.

From these the script prints a capacity plan for ``--plan-workers`` workers (default
100): combinations per second, memory per worker, bytes shipped, the scheduler load in
tasks per second at the chosen chunk size, and the smallest chunk size that keeps the
scheduler under 10 % of its measured rate.

Usage::

    PYTHONPATH=. python benchmarks/bench_dask.py [--series USDJPY SPX NKY TOPIX]
        [--fast-max 100] [--slow-max 1320] [--chunk-size 2000] [--es-series 2000]
        [--es-events 200] [--block-size 200] [--rate-tasks 5000] [--plan-workers 100]
        [--local-only]

``--local-only`` times the local sweep alone on one core (the process pinned to one CPU,
BLAS included, where the OS allows; one kernel thread; no event study, no clusters),
wall and CPU time.

``--fast-max 20 --slow-max 300 --es-series 200 --es-events 50`` gives a quick run.
Needs ``pip install 'backtest[dask]'`` and the ``eventstudy`` package (dev extra) for
the panel helpers. Nothing here is asserted in the test suite.
"""

from __future__ import annotations

import argparse
import math
import os
import pickle
import shlex
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from backtest import data, engine
from backtest.engine.book import rates_for
from backtest.engine.chunks import Task, run_chunk
from backtest.eventstudy import EventStudy
from backtest.execution import Executor, executor
from backtest.strategy import get_strategy

warnings.filterwarnings("ignore", category=DeprecationWarning)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _memory import peak_mib, reset_peak, rss_mib  # noqa: E402
from bench_eventstudy import EST, MARKET, NY, WIN, pseudo_events, resampled_panel  # noqa: E402

START, END = "2016-01-01", "2025-12-31"
SCHEDULER_SHARE = 0.10  # keep the scheduler under this share of its measured task rate


# On workers (module-level functions: shipped to workers) ------------------------------------


def noop(x: int) -> int:
    """A task that does nothing (scheduler task-rate probe)."""
    return x


# The work -------------------------------------------------------------------------------------


@dataclass
class Measured:
    label: str
    workers: int
    startup: float = math.nan
    sweep_wall: float = math.nan
    es_wall: float = math.nan
    idle_mib: list[float] = field(default_factory=list)
    peak_sweep_mib: list[float] = field(default_factory=list)
    peak_es_mib: list[float] = field(default_factory=list)
    sweeps: dict[str, engine.SweepResult] = field(default_factory=dict)
    study: Any = None


def run_sweeps(
    levels: pd.DataFrame, series: list[str], space: dict[str, Any], chunk: int, ex: Executor | None
) -> dict[str, engine.SweepResult]:
    return {
        name: engine.sweep(
            "ma_crossover",
            space,
            levels,
            series=name,
            chunk_size=chunk,
            executor=ex,
            keep_returns=False,
        )
        for name in series
    }


def on_workers(ex: Any, fn: Callable[[], Any]) -> list[Any]:
    """Run `fn` in every worker process (None: this process) and list the results."""
    if ex is None:
        return [fn()]
    return list(ex.client.run(fn).values())


def measure(
    m: Measured,
    ex: Any,
    levels: pd.DataFrame,
    series: list[str],
    space: dict[str, Any],
    chunk: int,
    es: tuple[EventStudy, pd.DataFrame, pd.DataFrame, dict[str, str], dict[str, Any], int],
) -> None:
    m.idle_mib = on_workers(ex, rss_mib)
    on_workers(ex, reset_peak)
    t0 = time.perf_counter()
    m.sweeps = run_sweeps(levels, series, space, chunk, ex)
    m.sweep_wall = time.perf_counter() - t0
    m.peak_sweep_mib = on_workers(ex, peak_mib)
    study, es_levels, events, kinds, clocks, block = es
    on_workers(ex, reset_peak)
    t0 = time.perf_counter()
    m.study = study.run(
        es_levels, events, kinds=kinds, clocks=clocks, executor=ex, block_size=block
    )
    m.es_wall = time.perf_counter() - t0
    m.peak_es_mib = on_workers(ex, peak_mib)


def same_sweeps(a: Measured, b: Measured) -> bool:
    for name, ra in a.sweeps.items():
        rb = b.sweeps[name]
        if not (ra.table.equals(rb.table) and ra.best == rb.best):
            return False
        if ra.selection != rb.selection or not ra.returns.equals(rb.returns):
            return False
    return True


def same_study(a: Measured, b: Measured) -> bool:
    ca, cb = a.study.car(0, 5), b.study.car(0, 5)
    return bool(a.study.abnormal.equals(b.study.abnormal) and ca.equals(cb))


def event_study_input(
    n_series: int, n_events: int, block: int, seed: int
) -> tuple[EventStudy, pd.DataFrame, pd.DataFrame, dict[str, str], dict[str, Any], str]:
    """The resampled panel as levels, pseudo-events, and the market-model study."""
    source, real, boot = resampled_panel(n_series, 20, seed)
    cols = [MARKET, *real, *boot]
    growth = np.exp(np.cumsum(source.iloc[1:].to_numpy() / 100.0, axis=0))
    levels = pd.DataFrame(
        100.0 * np.vstack([np.ones(len(cols)), growth]), index=source.index, columns=cols
    )
    rng = np.random.default_rng(seed)
    first, last = -EST[0] + 1, len(levels) - 1 - WIN[1]
    picks = np.sort(rng.choice(np.arange(first, last + 1), size=n_events, replace=False))
    events = pseudo_events(levels.index[picks], [f"e{i:03d}" for i in range(n_events)])
    kinds = dict.fromkeys(cols, "index")
    clocks = dict.fromkeys(cols, (NY, "16:00"))
    study = EventStudy(
        model="market",
        market=MARKET,
        estimation_window=EST,
        event_window=WIN,
        series=tuple(cols[1:]),
    )
    what = (
        f"{len(cols) - 1} series ({len(real)} real snapshot series, {len(boot)} "
        f"moving-block-bootstrap resamples of them, block 20 days, seed {seed}) x "
        f"{n_events} pseudo-events on {len(levels)} common dates "
        f"{levels.index[0].date()}..{levels.index[-1].date()}; market model vs real "
        f"{MARKET}, windows {EST} / {WIN}"
    )
    return study, levels, events, kinds, clocks, what


def task_rate(ex: Any, n: int) -> float:
    """No-op tasks per second through the scheduler (submitted at once, gathered)."""
    client = ex.client
    client.gather(client.map(noop, range(100), pure=False))  # warm
    t0 = time.perf_counter()
    client.gather(client.map(noop, range(n), pure=False))
    return n / (time.perf_counter() - t0)


def shipped_bytes(
    levels: pd.DataFrame, name: str, space: dict[str, Any], chunk: int
) -> tuple[int, int, int]:
    """Pickled bytes of one sweep task's arguments, of its result, and of the shared data."""
    strat = get_strategy("ma_crossover")
    combos = [strat.parse(c) for c in engine.grid(space) if c["fast"] < c["slow"]][:chunk]
    cfg = engine.ChunkSettings(name, keep_returns=False)  # what sweep sends each task
    task = Task(strat, combos, 0, cfg)
    bars = levels[name].dropna().index
    rates = rates_for(levels, [name], bars, rates=None, funding="short_rate", short_rates=None)
    out = run_chunk(task, levels, None, None, rates)  # the short rates: shared, as in sweep
    return (
        len(pickle.dumps(task, protocol=5)),
        len(pickle.dumps(out, protocol=5)),
        len(pickle.dumps((levels, None, None, rates), protocol=5)),
    )


# Main -------------------------------------------------------------------------------------------


def local_sweep_only(
    levels: pd.DataFrame,
    series: list[str],
    space: dict[str, Any],
    chunk: int,
    total: int,
    command: str,
) -> int:
    """``--local-only``: the sweep in this process on one core, timed."""
    from backtest.engine.book import kernel_threads

    pin = getattr(os, "sched_setaffinity", None)  # Linux: every thread (BLAS too) on one CPU
    if pin is not None:
        pin(0, {min(os.sched_getaffinity(0))})
    engine.warm_up()
    kernel_threads(1)
    small = {"fast": [5, 10], "slow": [50], "direction": ["long", "both"]}
    run_sweeps(levels, series[:1], small, 2, None)
    reset_peak()
    t0, c0 = time.perf_counter(), time.process_time()
    sweeps = run_sweeps(levels, series, space, chunk, None)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    where = f"on CPU {sorted(os.sched_getaffinity(0))}" if pin is not None else "1 kernel thread"
    best = sweeps[series[0]]
    top = best.table.iloc[best.best]
    print()
    print("SUMMARY (--local-only)")
    print(f"  command: {command}")
    print(
        f"  sweep of {total:,} combinations in this process, {where}: wall {wall:,.1f} s "
        f"({total / wall:,.0f} comb/s, {1e6 * wall / total:.1f} us per combination), CPU "
        f"{cpu:,.1f} s, peak RSS {peak_mib():,.0f} MiB"
    )
    print(
        f"  {series[0]} best: {top[['fast', 'slow', 'direction', 'sharpe']].to_dict()}, "
        f"DSR {best.selection['dsr']:.3f}, PBO {best.selection['pbo']:.3f}"
    )
    return 0


def fmt_mib(values: list[float]) -> str:
    return ", ".join(f"{v:,.0f}" for v in values) + " MiB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", nargs="+", default=["USDJPY", "SPX", "NKY", "TOPIX"])
    parser.add_argument("--fast-max", type=int, default=100)
    parser.add_argument("--slow-max", type=int, default=1320)
    parser.add_argument("--chunk-size", type=int, default=2000)
    parser.add_argument("--es-series", type=int, default=2000)
    parser.add_argument("--es-events", type=int, default=200)
    parser.add_argument("--block-size", type=int, default=200)
    parser.add_argument("--rate-tasks", type=int, default=5000)
    parser.add_argument("--plan-workers", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--local-only",
        action="store_true",
        help="only the sweep in this process on one kernel thread (no event study, no clusters)",
    )
    args = parser.parse_args()
    command = f"cd {os.getcwd()} && PYTHONPATH=. {shlex.join([sys.executable, *sys.argv])}"

    levels = data.load(args.series, start=START, end=END, offline=True)
    space = {
        "fast": {"start": 1, "stop": args.fast_max},
        "slow": {"start": 2, "stop": args.slow_max},
        "direction": ["long", "both"],
    }
    per_series = sum(1 for c in engine.grid(space) if c["fast"] < c["slow"])
    total = per_series * len(args.series)
    bars = {n: int(levels[n].notna().sum()) for n in args.series}
    print(
        f"sweep: ma_crossover, fast 1..{args.fast_max} x slow 2..{args.slow_max} (fast < slow) "
        f"x direction long/both = {per_series:,} combinations per series x "
        f"{len(args.series)} series = {total:,} combinations; chunk_size {args.chunk_size}; "
        f"bars per series {bars} ({START[:4]}-{END[:4]}, bundled snapshot); keep_returns=False"
    )
    if args.local_only:
        return local_sweep_only(levels, args.series, space, args.chunk_size, total, command)
    study, es_levels, events, kinds, clocks, what = event_study_input(
        args.es_series, args.es_events, args.block_size, args.seed
    )
    es = (study, es_levels, events, kinds, clocks, args.block_size)
    print(f"event study: {what}; blocks of {args.block_size} series")
    ram_gib = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30
    print(f"machine: {os.cpu_count()} cores, {ram_gib:.0f} GiB, Python {sys.version.split()[0]}")

    # Warm-up in this process: the simulation and metrics kernels (compiled or loaded).
    engine.warm_up()
    # The local pass on one core, as a Dask worker (whose kernel uses one thread).
    from backtest.engine.book import kernel_threads

    kernel_threads(1)
    small = {"fast": [5, 10], "slow": [50], "direction": ["long", "both"]}
    run_sweeps(levels, args.series[:1], small, 2, None)

    runs: list[Measured] = []
    local = Measured("local (this process)", 1, startup=0.0)
    measure(local, None, levels, args.series, space, args.chunk_size, es)
    runs.append(local)
    print(
        f"  local: sweep {local.sweep_wall:,.1f} s (peak {fmt_mib(local.peak_sweep_mib)}), "
        f"event study {local.es_wall:.1f} s",
        flush=True,
    )
    rate = math.nan
    for n in (1, 2):
        m = Measured(f"Dask LocalCluster, {n} worker{'s' * (n > 1)}", n)
        t0 = time.perf_counter()
        with executor("dask", workers=n, warmup=engine.warm_up) as ex:
            m.startup = time.perf_counter() - t0
            measure(m, ex, levels, args.series, space, args.chunk_size, es)
            if n == 2:
                rate = task_rate(ex, args.rate_tasks)
        runs.append(m)
        print(
            f"  {m.label}: start-up + warm-up {m.startup:.1f} s, sweep {m.sweep_wall:,.1f} s "
            f"(peak per worker {fmt_mib(m.peak_sweep_mib)}), event study {m.es_wall:.1f} s",
            flush=True,
        )

    same = [same_sweeps(local, m) for m in runs[1:]]
    same_es = [same_study(local, m) for m in runs[1:]]
    task_in, task_out, shared = shipped_bytes(levels, args.series[0], space, args.chunk_size)

    one, two = runs[1], runs[2]
    overhead = (one.sweep_wall - local.sweep_wall) / local.sweep_wall
    speedup = one.sweep_wall / two.sweep_wall
    es_speedup = one.es_wall / two.es_wall
    tasks = sum(math.ceil(per_series / args.chunk_size) for _ in args.series)
    per_worker_rate = total / one.sweep_wall  # combinations/s of one worker
    efficiency = speedup / 2
    best = local.sweeps[args.series[0]]
    top = best.table.iloc[best.best]

    print()
    print("SUMMARY")
    print(f"  command: {command}")
    print(
        f"  checks: sweep tables, best rows, selection (DSR, PBO) identical to local: "
        f"1 worker {same[0]}, 2 workers {same[1]}; event study abnormal returns and "
        f"CAR(0,+5) identical: {same_es[0]}, {same_es[1]}"
    )
    print(
        f"  {args.series[0]} best: {top[['fast', 'slow', 'direction', 'sharpe']].to_dict()}, "
        f"DSR {best.selection['dsr']:.3f}, PBO {best.selection['pbo']:.3f} over "
        f"{best.selection['trials']:,} trials"
    )
    print(f"  1. sweep of {total:,} combinations ({tasks} tasks of <= {args.chunk_size}):")
    for m in runs:
        print(
            f"     {m.label:32s} {m.sweep_wall:8.1f} s  {total / m.sweep_wall:8,.0f} comb/s  "
            f"peak RSS {fmt_mib(m.peak_sweep_mib)} (idle {fmt_mib(m.idle_mib)})"
        )
    print(
        f"     Dask overhead at 1 worker (1w - local) / local = {100 * overhead:.1f}% (target "
        f"< 15%); speed-up 1 -> 2 workers {speedup:.2f}x (target >= 1.7x); cluster start-up "
        f"+ warm-up {one.startup:.1f} s / {two.startup:.1f} s (not in the times)"
    )
    print(f"  2. event study, {what}:")
    for m in runs:
        print(f"     {m.label:32s} {m.es_wall:8.1f} s  peak RSS {fmt_mib(m.peak_es_mib)}")
    print(f"     speed-up 1 -> 2 workers {es_speedup:.2f}x")
    print(
        f"  3. scheduler: {rate:,.0f} no-op tasks/s ({args.rate_tasks} tasks, 2 workers); "
        f"one sweep task ships {task_in / 1e3:,.0f} kB in and {task_out / 1e3:,.0f} kB out; "
        f"shared data (levels) {shared / 1e6:.2f} MB, scattered once per worker"
    )

    # Capacity plan ------------------------------------------------------------------------
    w = args.plan_workers
    plan_rate = per_worker_rate * w * efficiency
    plan_tasks = plan_rate / args.chunk_size
    min_chunk = math.ceil(plan_rate / (SCHEDULER_SHARE * rate))
    per_worker_peak = max(one.peak_sweep_mib + two.peak_sweep_mib)
    idle = max(one.idle_mib + two.idle_mib)
    cells = args.chunk_size * max(bars.values())
    per_cell = (per_worker_peak - idle) * 2**20 / cells
    print(f"  4. capacity plan for {w} workers (1 core each), from the figures above:")
    print(
        f"     throughput: {per_worker_rate:,.0f} comb/s per worker x {w} x {efficiency:.2f} "
        f"(the 2-worker efficiency) = {plan_rate:,.0f} comb/s: a 1,000,000-combination "
        f"sweep in {1e6 / plan_rate:.1f} s, 100 million in {1e8 / plan_rate / 60:.1f} min"
    )
    print(
        f"     memory: {per_worker_peak:,.0f} MiB peak per worker at chunk_size "
        f"{args.chunk_size} (idle {idle:,.0f} MiB + ~{per_cell:.0f} bytes per bar x "
        f"combination of a chunk); independent of the worker count"
    )
    print(
        f"     bytes: per task {task_in / 1e3:,.0f} kB in + {task_out / 1e3:,.0f} kB out = "
        f"{(task_in + task_out) * plan_tasks / 1e6:,.1f} MB/s through the scheduler/network "
        f"at {plan_tasks:,.1f} tasks/s; shared data {shared / 1e6:.2f} MB x {w} workers = "
        f"{shared * w / 1e6:,.0f} MB once"
    )
    print(
        f"     scheduler: {plan_tasks:,.1f} tasks/s at chunk_size {args.chunk_size} = "
        f"{100 * plan_tasks / rate:.2f}% of its measured {rate:,.0f} tasks/s; the chunk size "
        f"that keeps it under {100 * SCHEDULER_SHARE:.0f}% is >= {min_chunk:,} combinations "
        f"(a chunk of 2,000 keeps each task ~{args.chunk_size / per_worker_rate:.1f} s long)"
    )
    ok = all(same) and all(same_es)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
