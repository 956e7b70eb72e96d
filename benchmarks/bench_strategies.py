"""Benchmark: an MA-crossover parameter sweep in backtest vs vectorbt directly and backtesting.py.

Three ways of running the same moving-average crossover rule over many parameter
combinations run in this one script on the same data (10 years of daily USD/JPY,
FRED DEXJPUS, from the bundled snapshot), so the ratios are meaningful on any machine:

1. ``backtest.engine.sweep("ma_crossover", ...)`` over the grid fast 1..``--fast-max``
   x slow 2..``--slow-max`` (fast < slow; the grid's fast >= slow cells are skipped by
   the sweep as invalid), in chunks of ``--chunk-size`` combinations. Timed: wall time,
   CPU time, combinations per second, peak resident memory (``VmHWM`` after
   resetting the process's high-water mark through ``/proc/self/clear_refs``, with
   garbage collected and freed heap returned to the OS by ``malloc_trim`` first).
2. vectorbt called directly on the same positions: ``MACrossover().positions_many``
   computed once (not timed), lagged one bar, then per chunk of the same size
   ``vbt.Portfolio.from_orders`` with the arguments ``engine.simulate.portfolio`` uses (orders
   only where the target changes, ``size_type="targetpercent"``) and the Sharpe ratio
   from ``pf.returns()`` with numpy. The framework's overhead is
   ``(sweep - direct) / direct``; the target is under 10%. When it is over, one more
   sweep runs under cProfile and the script prints where its time goes.
3. backtesting.py's ``Backtest.optimize`` on a subset of the same combinations, with an
   SMA-cross strategy implementing the same rule, and backtest's sweep on that subset.
   backtesting.py fills market orders at the next bar's open by default; here
   ``trade_on_close=True`` fills them at the close of the signal bar. backtest fills at
   the close of the bar *after* the signal, so the two differ by one bar, and
   backtesting.py trades whole units of a 1,000,000 cash account and computes its
   Sharpe ratio differently: only the speed per combination is compared, and results
   are not expected to match exactly (their Sharpe ratios' correlation across the subset
   is printed as a sanity check, and again, untimed, with a ``MACrossover`` subclass
   declaring ``execution = "same_close"``, backtesting.py's fill bar). backtesting.py
   is timed with its default pool (one process per core) and with one process.

Numba is warmed up first (a 2-combination sweep and a 2-column direct run, the array
layouts of the timed runs), so JIT compilation is excluded from every timing; the
script checks that no numba function compiled during the timed runs. Timings are
medians of ``--repeat`` runs (sweep and direct alternate).

Usage::

    PYTHONPATH=. python benchmarks/bench_strategies.py [--fast-max 50] [--slow-max 250]
        [--direction both] [--chunk-size 1000] [--bt-subset 200] [--repeat 2]
        [--profile auto]

Needs ``pip install backtesting``. Nothing here is asserted in the test suite.
"""

from __future__ import annotations

import argparse
import cProfile
import math
import multiprocessing
import os
import pstats
import shlex
import statistics
import sys
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("TQDM_DISABLE", "1")  # backtesting.py's progress bar

import numpy as np
import pandas as pd
import vectorbt as vbt
from _memory import peak_mib, release_memory, reset_peak, rss_mib
from numba.core.registry import CPUDispatcher

from backtest import data, engine
from backtest.strategy import MarketData
from strategies.baselines import MACrossover

try:
    import backtesting
    from backtesting import Backtest, Strategy
    from backtesting.test import SMA
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise SystemExit("bench_strategies.py needs backtesting.py: pip install backtesting") from exc

SERIES = "USDJPY"
START, END = "2016-01-01", "2025-12-31"
PPY = 252
MEMORY_LIMIT_MIB = 4096
OVERHEAD_TARGET = 0.10
BT_CASH = 1_000_000


# Measurement ----------------------------------------------------------------------------------


@dataclass
class Run:
    wall: float
    cpu: float
    peak_mib: float
    start_mib: float


def measure(fn: Callable[[], Any]) -> tuple[Run, Any]:
    """Wall and CPU time and peak RSS of one call (after releasing freed memory)."""
    reset_peak()  # releases freed memory first
    start = rss_mib()
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return Run(wall, cpu, peak_mib(), start), out


def numba_signatures() -> int:
    """Compiled signatures of every numba function in the loaded vectorbt modules."""
    seen, n = set(), 0
    for name, module in list(sys.modules.items()):
        if not name.startswith("vectorbt") or module is None:
            continue
        for obj in list(vars(module).values()):
            if isinstance(obj, CPUDispatcher) and id(obj) not in seen:
                seen.add(id(obj))
                n += len(obj.signatures)
    return n


# The three implementations ---------------------------------------------------------------------


def direct_sharpe(
    price: pd.Series, held: np.ndarray, chunk_size: int, fees_bps: float, slippage_bps: float
) -> np.ndarray:
    """vectorbt on lagged target positions, as ``engine.simulate.portfolio`` does; numpy Sharpe."""
    out = []
    for lo in range(0, held.shape[1], chunk_size):
        h = held[:, lo : lo + chunk_size]
        change = np.diff(h, axis=0, prepend=0.0)  # first bar: the position itself
        size = np.where(change != 0.0, h, np.nan)  # NaN: no order on that bar
        pf = vbt.Portfolio.from_orders(
            close=price,
            size=size,
            size_type="targetpercent",
            fees=fees_bps / 1e4,
            slippage=slippage_bps / 1e4,
            init_cash=1.0,
            freq="1D",
            cash_sharing=False,
            ffill_val_price=True,
        )
        r = np.asarray(pf.returns(), dtype=float)
        sd = r.std(axis=0, ddof=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out.append(np.where(sd > 0, r.mean(axis=0) / sd, np.nan) * math.sqrt(PPY))
    return np.concatenate(out)


class SmaCross(Strategy):
    """The MA-crossover rule in backtesting.py: long while SMA(n1) > SMA(n2), else short/flat."""

    n1 = 20
    n2 = 50
    both = True

    def init(self) -> None:
        self.fast = self.I(SMA, self.data.Close, self.n1)
        self.slow = self.I(SMA, self.data.Close, self.n2)

    def next(self) -> None:
        if self.fast[-1] > self.slow[-1]:
            if not self.position.is_long:
                self.position.close()
                self.buy()
        elif self.both:
            if not self.position.is_short:
                self.position.close()
                self.sell()
        elif self.position:
            self.position.close()


class SameCloseMA(MACrossover):
    """MACrossover filled at the signal bar's close (the engine's declared alternative)."""

    execution = "same_close"


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def _pair(sharpe: pd.Series) -> tuple[int, int]:
    fast, slow = sharpe.idxmax()
    return int(fast), int(slow)


def one_process_pool(*_args: Any, **_kwargs: Any) -> Any:
    """A 1-worker pool for backtesting.py's optimizer (per-core timing)."""
    return multiprocessing.get_context("fork").Pool(1)


# Profile report --------------------------------------------------------------------------------


def _label(key: tuple[str, int, str]) -> str:
    path, line, func = key
    if path == "~":
        return func
    if func in {"wrapper", "partial_func"} and "vectorbt" in path:
        func += " [vectorbt cache decorator: pf.returns() etc.]"
    for marker in ("site-packages/", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{line}({func})"


def _ours(key: tuple[str, int, str]) -> bool:
    path = key[0].replace(os.sep, "/")
    return "/backtest/" in path or "/strategies/" in path or key[2] in {"wrapper", "partial_func"}


def print_profile(prof: cProfile.Profile, total: float) -> None:
    """Call tree of ``engine.sweep`` (caller -> callee edges) and the top self times."""
    st = pstats.Stats(prof)
    stats: dict[Any, Any] = st.stats  # type: ignore[attr-defined]
    children: dict[Any, list[tuple[float, int, Any]]] = defaultdict(list)
    for callee, (_cc, _nc, _tt, _ct, callers) in stats.items():
        for caller, edge in callers.items():
            children[caller].append((edge[3], edge[1], callee))
    root = next(
        k
        for k in stats
        if k[2] == "sweep" and k[0].replace(os.sep, "/").endswith("engine/sweeps.py")
    )
    prof_total = stats[root][3]
    print(
        f"  call tree under engine.sweep (cumulative s per caller->callee edge, share of "
        f"the profiled sweep's {prof_total:.2f} s; edges >= 1.5%; cProfile overhead inflates "
        f"Python-heavy parts):"
    )

    def walk(key: Any, depth: int, path: frozenset[Any]) -> None:
        for ct, nc, kid in sorted(children[key], key=lambda e: -e[0]):
            if ct < 0.015 * prof_total:
                break
            share = 100 * ct / prof_total
            print(f"  {'  ' * depth}{ct:7.2f} s {share:5.1f}%  x{nc:<6d} {_label(kid)}")
            if depth < 6 and kid not in path and _ours(kid):
                walk(kid, depth + 1, path | {kid})

    walk(root, 1, frozenset({root}))
    print("  top self time (tottime) anywhere in the sweep:")
    top = sorted(stats.items(), key=lambda kv: -kv[1][2])[:12]
    for key, (_cc, nc, tt, _ct, _callers) in top:
        print(f"    {tt:7.2f} s {100 * tt / prof_total:5.1f}%  x{nc:<7d} {_label(key)}")
    vbt_keys = [
        k
        for k in stats
        if k[0].replace(os.sep, "/").endswith("vectorbt/portfolio/base.py")
        and k[2] in {"from_orders", "returns"}
    ]
    shared = sum(stats[k][3] for k in vbt_keys)
    print(
        f"  vectorbt work the direct path also does (Portfolio.from_orders + "
        f"Portfolio.returns): {shared:.2f} s = {100 * shared / prof_total:.1f}% of the profiled "
        f"sweep; everything else {prof_total - shared:.2f} s = "
        f"{100 * (prof_total - shared) / prof_total:.1f}% (unprofiled sweep: {total:.2f} s)"
    )


# Main ------------------------------------------------------------------------------------------


def subset_axes(n: int, fast_max: int, slow_max: int) -> tuple[list[int], list[int]]:
    """About `n` (fast, slow) pairs of the sweep's grid: a fast axis x a slow axis, fast < slow."""
    a = max(1, round(math.sqrt(n / 2)))
    b = max(1, math.ceil(n / a))
    fast = sorted({round(float(x)) for x in np.linspace(1, fast_max, a)})
    slow = sorted({round(float(x)) for x in np.linspace(fast_max + 1, slow_max, b)})
    return fast, slow


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast-max", type=int, default=50, help="fast window 1..fast-max")
    parser.add_argument("--slow-max", type=int, default=250, help="slow window 2..slow-max")
    parser.add_argument("--direction", choices=["long", "both"], default="both")
    parser.add_argument("--chunk-size", type=int, default=1000, help="combinations per chunk")
    parser.add_argument("--bt-subset", type=int, default=200, help="combinations for the peer")
    parser.add_argument("--repeat", type=int, default=2, help="timed runs of each")
    parser.add_argument(
        "--profile",
        choices=["auto", "always", "never"],
        default="auto",
        help="cProfile one more sweep: auto = when the overhead is over 10%%",
    )
    args = parser.parse_args()
    if not (1 <= args.fast_max < args.slow_max) or args.chunk_size < 2 or args.repeat < 1:
        parser.error("need 1 <= --fast-max < --slow-max, --chunk-size >= 2, --repeat >= 1")
    if args.bt_subset < 1:
        parser.error("need --bt-subset >= 1")
    command = f"cd {os.getcwd()} && PYTHONPATH=. {shlex.join([sys.executable, *sys.argv])}"

    # Data and grid ---------------------------------------------------------------------------
    levels = data.load([SERIES], start=START, end=END, offline=True)
    meta = levels.attrs["backtest"]["series"][SERIES]
    # Without provenance the engine trades the level as a price, as the peers do (vectorbt
    # directly, backtesting.py): the same work on both sides. With it, USD/JPY would earn
    # spot + carry (issue 14), which the peers cannot compute.
    levels.attrs = {}
    strat = MACrossover()
    market = MarketData(levels=levels, series=SERIES)
    price = market.price
    space = {
        "fast": {"start": 1, "stop": args.fast_max},
        "slow": {"start": 2, "stop": args.slow_max},
        "direction": args.direction,
    }
    cells = engine.grid(space)
    combos = [c for c in cells if c["fast"] < c["slow"]]
    n = len(combos)
    print(
        f"data: {SERIES} ({meta['source']}, {meta['origin']}), {len(price)} daily bars "
        f"{price.index[0].date()}..{price.index[-1].date()}"
    )
    print(
        f"grid: fast 1..{args.fast_max} x slow 2..{args.slow_max}, direction {args.direction!r} "
        f"({'long or short' if args.direction == 'both' else 'long or flat'}): {len(cells)} "
        f"cells, {n} valid (fast < slow; sweep skips the {len(cells) - n} others); "
        f"fees 0, slippage 0; chunk_size {args.chunk_size} (engine default 2000)"
    )
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"vectorbt {vbt.__version__}, pandas {pd.__version__}, numpy {np.__version__}, "
        f"backtesting.py {backtesting.__version__}"
    )

    def run_sweep(space_or_combos: Any = space) -> engine.SweepResult:
        return engine.sweep(
            "ma_crossover", space_or_combos, levels, series=SERIES, chunk_size=args.chunk_size
        )

    # Warm-up: numba JIT with the layouts of the timed runs (2 columns: Fortran order) -----------
    t0 = time.perf_counter()
    run_sweep(combos[:2])
    warm_pos = strat.positions_many(market, [strat.parse(c) for c in combos[:2]])
    warm_held = np.asfortranarray(warm_pos.shift(1).fillna(0.0).to_numpy())
    direct_sharpe(price, warm_held, args.chunk_size, 0.0, 0.0)
    t_warm = time.perf_counter() - t0
    sigs_warm = numba_signatures()
    print(
        f"warm-up (numba JIT compile, excluded from all timings): 2-combination sweep + "
        f"2-column direct run {t_warm:.1f} s, {sigs_warm} numba signatures compiled"
    )

    # 1 + 2: sweep and direct vectorbt, alternating --------------------------------------------
    sweeps: list[Run] = []
    directs: list[Run] = []
    held: np.ndarray | None = None
    t_positions = math.nan
    kept: tuple[pd.DataFrame, int, dict[str, Any], dict[str, Any]] | None = None
    sharpe_direct: np.ndarray | None = None
    for rep in range(args.repeat):
        order = ["sweep", "direct"] if rep % 2 == 0 else ["direct", "sweep"]
        for what in order:
            if what == "sweep":
                kept = None
                run, result = measure(run_sweep)
                sweeps.append(run)
                # keep the table and selection; drop the (bars x combinations) returns
                kept = (result.table, result.best, result.selection, result.settings)
                del result
            else:
                if held is None:  # positions once, after the first sweep, not timed
                    t0 = time.perf_counter()
                    parsed = [strat.parse(c) for c in combos]
                    pos = strat.positions_many(market, parsed)
                    held = np.asfortranarray(pos.shift(1).fillna(0.0).to_numpy())
                    t_positions = time.perf_counter() - t0
                    del pos, parsed
                h = held
                run, sharpe_direct = measure(
                    lambda h=h: direct_sharpe(price, h, args.chunk_size, 0.0, 0.0)
                )
                directs.append(run)
            print(
                f"  run {rep + 1} {what:6s}: {run.wall:6.2f} s wall, {run.cpu:6.2f} s CPU, "
                f"peak RSS {run.peak_mib:,.0f} MiB (RSS at start {run.start_mib:,.0f} MiB)"
            )
    assert kept is not None and sharpe_direct is not None
    table, best_row, selection, settings = kept
    new_sigs = numba_signatures() - sigs_warm
    t_sweep = statistics.median(r.wall for r in sweeps)
    t_direct = statistics.median(r.wall for r in directs)
    cpu_sweep = statistics.median(r.cpu for r in sweeps)
    peak_sweep = max(r.peak_mib for r in sweeps)
    peak_direct = max(r.peak_mib for r in directs)
    overhead = (t_sweep - t_direct) / t_direct
    overhead_pos = (t_sweep - t_direct - t_positions) / (t_direct + t_positions)
    same_combos = (
        len(table) == n
        and settings["combinations"] == n
        and table["fast"].tolist() == [c["fast"] for c in combos]
        and table["slow"].tolist() == [c["slow"] for c in combos]
    )
    sharpe_sweep = table["sharpe"].to_numpy(dtype=float)
    both_nan = np.isnan(sharpe_sweep) & np.isnan(sharpe_direct)
    diff = np.abs(sharpe_sweep - sharpe_direct)
    max_diff = float(np.max(np.where(both_nan, 0.0, diff)))
    best = table.iloc[best_row]
    memory_how = (
        "VmHWM after resetting the high-water mark via /proc/self/clear_refs"
        if reset_peak()
        else "ru_maxrss of the whole process so far (high-water mark could not be reset)"
    )
    print(
        f"checks: same {n} combinations in the same order: {same_combos}; max |Sharpe sweep - "
        f"Sharpe direct| = {max_diff:.1e}; numba compilations during timed runs: {new_sigs}"
    )
    print(
        f"sweep best: fast {best['fast']}, slow {best['slow']}, Sharpe {best['sharpe']:.3f}; "
        f"selection over the sweep: DSR {_num(selection.get('dsr'))}, "
        f"PBO {_num(selection.get('pbo'))}"
    )
    del kept
    release_memory()

    # Profile ------------------------------------------------------------------------------
    profiled = args.profile == "always" or (args.profile == "auto" and overhead > OVERHEAD_TARGET)
    if profiled:
        print(
            f"overhead {100 * overhead:.0f}% > {100 * OVERHEAD_TARGET:.0f}%: profiling one more "
            f"sweep of {n} combinations (cProfile)"
        )
        prof = cProfile.Profile()
        prof.enable()
        run_sweep()
        prof.disable()
        print_profile(prof, t_sweep)
        del prof
        release_memory()

    # 3: backtesting.py on a subset ---------------------------------------------------------------
    fast_axis, slow_axis = subset_axes(args.bt_subset, args.fast_max, args.slow_max)
    sub = [
        {"fast": f, "slow": s, "direction": args.direction}
        for f in fast_axis
        for s in slow_axis
        if f < s
    ]
    m = len(sub)
    frame = pd.DataFrame({"Open": price, "High": price, "Low": price, "Close": price})
    SmaCross.both = args.direction == "both"
    bt = Backtest(
        frame, SmaCross, cash=BT_CASH, commission=0.0, trade_on_close=True, finalize_trades=True
    )
    bt.run(n1=fast_axis[0], n2=slow_axis[0])  # warm-up

    def optimize() -> pd.Series:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, heat = bt.optimize(
                n1=fast_axis,
                n2=slow_axis,
                constraint=lambda p: p.n1 < p.n2,
                maximize="Sharpe Ratio",
                return_heatmap=True,
            )
        return heat

    run_sweep(sub[:2])  # same-size warm-up of the sweep path (already compiled)
    sub_runs, pool_runs, one_runs = [], [], []
    heat = pd.Series(dtype=float)
    sub_result: engine.SweepResult | None = None
    for _ in range(args.repeat):
        run, sub_result = measure(lambda: run_sweep(sub))
        sub_runs.append(run.wall)
        run, heat = measure(optimize)
        pool_runs.append(run.wall)
        original_pool = backtesting.Pool
        backtesting.Pool = one_process_pool
        try:
            run, _ = measure(optimize)
        finally:
            backtesting.Pool = original_pool
        one_runs.append(run.wall)
    assert sub_result is not None
    t_sub = statistics.median(sub_runs)
    t_pool = statistics.median(pool_runs)
    t_one = statistics.median(one_runs)
    ours_sharpe = sub_result.table.set_index(["fast", "slow"])["sharpe"]
    peer_sharpe = heat.rename_axis(["fast", "slow"]).reindex(ours_sharpe.index)
    corr = float(np.corrcoef(ours_sharpe.to_numpy(), peer_sharpe.to_numpy())[0, 1])
    same = engine.sweep(SameCloseMA(), sub, levels, series=SERIES, chunk_size=args.chunk_size)
    same_sharpe = same.table.set_index(["fast", "slow"])["sharpe"]
    corr_same = float(np.corrcoef(same_sharpe.to_numpy(), peer_sharpe.to_numpy())[0, 1])
    per_sweep = t_sweep / n
    per_sub = t_sub / m
    per_pool = t_pool / m
    per_one = t_one / m
    print(
        f"subset for backtesting.py: {m} combinations = fast {fast_axis} x slow "
        f"{slow_axis[0]}..{slow_axis[-1]} ({len(slow_axis)} values), direction {args.direction!r}"
    )
    print(
        f"  backtesting.py Backtest.optimize (trade_on_close=True, cash {BT_CASH:,}, whole units, "
        f"maximize Sharpe Ratio; includes its final re-run of the best): default pool of "
        f"{os.cpu_count()} processes {t_pool:.2f} s, 1 process {t_one:.2f} s"
    )
    print(f"  backtest engine.sweep on the same {m} combinations: {t_sub:.2f} s")
    print(
        f"  Sharpe across the {m} combinations, backtest vs backtesting.py: correlation "
        f"{corr:.3f} (not expected to be 1: fills one bar apart, whole units, another Sharpe "
        f"formula); best (fast, slow) by backtest {_pair(ours_sharpe)}, by backtesting.py "
        f"{_pair(peer_sharpe)}; untimed check with the engine's same-close execution (a "
        f"MACrossover subclass declaring execution='same_close', backtesting.py's fill bar): "
        f"correlation {corr_same:.3f}, best {_pair(same_sharpe)}"
    )

    # Summary ----------------------------------------------------------------------------------
    ok_mem = peak_sweep < MEMORY_LIMIT_MIB
    ok_over = overhead < OVERHEAD_TARGET
    print()
    print("SUMMARY")
    print(f"  command: {command}")
    print(
        f"  data: {SERIES} {meta['source']} daily, {len(price)} bars "
        f"{price.index[0].date()}..{price.index[-1].date()}; MA crossover, direction "
        f"{args.direction!r}, fast 1..{args.fast_max} x slow 2..{args.slow_max}, fast < slow: "
        f"{n} combinations; chunk_size {args.chunk_size}; timings are medians of "
        f"{args.repeat} runs after a numba warm-up (JIT compile excluded)"
    )
    print(
        f"  1. engine.sweep: {t_sweep:.2f} s wall ({cpu_sweep:.2f} s CPU), "
        f"{n / t_sweep:,.0f} combinations/s ({1e3 * per_sweep:.2f} ms each); peak RSS "
        f"{peak_sweep:,.0f} MiB ({memory_how}; includes interpreter, libraries and data) "
        f"-> {'under' if ok_mem else 'NOT under'} 4 GB"
    )
    print(
        f"  2. vectorbt directly (from_orders + returns + numpy Sharpe, same chunks, positions "
        f"precomputed): {t_direct:.2f} s ({n / t_direct:,.0f} combinations/s, peak RSS "
        f"{peak_direct:,.0f} MiB); overhead of sweep (sweep - direct) / direct = "
        f"{100 * overhead:.1f}% -> target < 10% {'met' if ok_over else 'NOT met'}"
    )
    print(
        f"     positions_many for all {n} combinations took {t_positions:.2f} s (not in the "
        f"direct time; sweep computes them inside its time); counting them in the direct "
        f"path the overhead is {100 * overhead_pos:.1f}%"
    )
    if profiled:
        print("     profile above: where the sweep's time goes")
    print(
        f"  3. per combination: backtest sweep {1e3 * per_sweep:.2f} ms ({n} combos), "
        f"{1e3 * per_sub:.2f} ms ({m}-combo subset); backtesting.py optimize "
        f"{1e3 * per_pool:.1f} ms ({os.cpu_count()} processes), {1e3 * per_one:.1f} ms "
        f"(1 process) on {m} combos"
    )
    print(
        f"     backtesting.py / backtest per combination: {per_pool / per_sweep:.1f}x "
        f"({os.cpu_count()}-process optimize vs the {n}-combo sweep in 1 process), "
        f"{per_one / per_sweep:.1f}x (1 process each); on the same {m} combos "
        f"{per_pool / per_sub:.1f}x and {per_one / per_sub:.1f}x. Fills differ by one bar "
        f"(next close vs signal close): speed only, results not expected to match exactly"
    )
    return 0 if same_combos and max_diff < 1e-9 and new_sigs == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
