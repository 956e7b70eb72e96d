# ruff: noqa: E501
"""Benchmark: engine.sweep on its numba kernel against vectorbt called directly (issue 16).

The grid of the issue: a long/flat moving-average crossover on the last ``--bars``
daily USD/JPY closes of the bundled snapshot (FRED DEXJPUS, up to 2025-12-31), filled
at the next close without costs, fast 2..100 x slow 2..250 with fast < slow (19,701
combinations). Side by side in this script, on the same prices (the levels' provenance
is dropped, so the engine trades the level as a price, as vectorbt does):

1. ``engine.sweep("ma_crossover", ...)`` with its defaults (the kernel, all eleven
   metrics, deflated Sharpe ratio, PBO), chunks of ``--chunk-size``, keeping only the
   best returns; once with the kernel on every CPU and once on one thread
   (:func:`backtest.engine.book.kernel_threads`).
2. vectorbt directly: ``vbt.MA.run_combs`` over windows 2..250 (each window's average
   once), the pairs with fast <= 100 selected, ``fast > slow`` lagged one bar as entries
   (exits: its negation), ``Portfolio.from_signals`` per chunk of the same size, total
   return per combination.

Checks: the engine's total returns equal vectorbt's to 1e-10 on every combination
(ties of the two averages included: both take ``fast > slow``, computed from the same
running sums); and ``engine.sweep(..., simulator="vectorbt")`` (the engine's reference
path through ``Portfolio.from_orders``) gives the same table, best row and selection
statistics to 1e-10.

Timings are wall-clock medians of ``--repeat`` runs after a warm-up (numba compiled
before timing). Usage::

    PYTHONPATH=. python benchmarks/bench_kernel.py [--bars 2520] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import time

import numpy as np
import pandas as pd
import vectorbt as vbt

from backtest import data, engine
from backtest.engine.book import kernel_threads

SPACE = {"fast": {"start": 2, "stop": 100}, "slow": {"start": 2, "stop": 250}}


def prices(bars: int) -> pd.Series:
    """The last `bars` USD/JPY closes up to 2025-12-31, without provenance."""
    levels = data.load(["USDJPY"], offline=True, start="2014-01-01", end="2025-12-31")
    price = levels["USDJPY"].dropna().iloc[-bars:].copy()
    price.attrs = {}
    return price


def sweep(plain: pd.DataFrame, chunk: int, simulator: str = "auto") -> engine.SweepResult:
    return engine.sweep(
        "ma_crossover",
        SPACE,
        plain,
        series="USDJPY",
        chunk_size=chunk,
        keep_returns=False,
        simulator=simulator,
    )


def vectorbt_direct(price: pd.Series, chunk: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Total return of every (fast, slow) pair, fast <= 100 < slow allowed, fast < slow."""
    fast, slow = vbt.MA.run_combs(
        price, window=np.arange(2, 251), r=2, short_names=["fast", "slow"]
    )
    f_win = np.asarray(fast.ma.columns, dtype=np.int64)  # level fast_window
    s_win = np.asarray(slow.ma.columns, dtype=np.int64)
    keep = np.flatnonzero(f_win <= 100)
    f_ma = fast.ma.to_numpy()
    s_ma = slow.ma.to_numpy()
    out = np.empty(keep.size)
    for lo in range(0, keep.size, chunk):
        cols = keep[lo : lo + chunk]
        above = f_ma[:, cols] > s_ma[:, cols]  # NaN: False (flat before the slow average)
        entries = np.zeros_like(above)
        entries[1:] = above[:-1]  # filled at the next close
        pf = vbt.Portfolio.from_signals(price, entries=entries, exits=~entries, init_cash=1.0)
        out[lo : lo + cols.size] = pf.total_return().to_numpy()
    return out, f_win[keep], s_win[keep]


def timed(fn, repeat: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bars", type=int, default=2520)
    ap.add_argument("--chunk-size", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    price = prices(args.bars)
    plain = price.to_frame()
    print(
        f"data: USDJPY fred:DEXJPUS, {len(price)} daily bars {price.index[0]:%Y-%m-%d}.."
        f"{price.index[-1]:%Y-%m-%d}, traded as a price; MA crossover long/flat, next close, "
        f"no costs; fast 2..100 x slow 2..250, fast < slow; chunks of {args.chunk_size}"
    )
    cpus = kernel_threads()
    sweep(plain.iloc[:300], args.chunk_size)  # warm-up: numba compiled or loaded from cache
    vectorbt_direct(price.iloc[:300], 50)

    t_sweep, res = timed(lambda: sweep(plain, args.chunk_size), args.repeat)
    kernel_threads(1)
    t_one, res_one = timed(lambda: sweep(plain, args.chunk_size), args.repeat)
    kernel_threads(cpus)
    t_vbt, direct = timed(lambda: vectorbt_direct(price, args.chunk_size), args.repeat)
    assert isinstance(res, engine.SweepResult) and isinstance(res_one, engine.SweepResult)
    total_vbt, f_win, s_win = direct  # type: ignore[misc]
    n = res.settings["combinations"]

    table = res.table.set_index(["fast", "slow"])
    mine = table.loc[list(zip(f_win, s_win, strict=True)), "total_return"].to_numpy()
    diff = float(np.max(np.abs(mine - total_vbt)))
    t0 = time.perf_counter()
    ref = sweep(plain, args.chunk_size, simulator="vectorbt")
    t_ref = time.perf_counter() - t0
    cols = [c for c in res.table.columns if c not in ("fast", "slow", "direction")]
    a, b = res.table[cols].to_numpy(float), ref.table[cols].to_numpy(float)
    both = np.isfinite(a) & np.isfinite(b)
    metric_diff = float(np.max(np.abs(a[both] - b[both]) / np.maximum(1.0, np.abs(b[both]))))
    same_nan = bool(np.array_equal(np.isnan(a), np.isnan(b)))
    same_one = res.table.equals(res_one.table) and res.selection == res_one.selection
    sel_diff = max(
        abs(res.selection[k] - ref.selection[k]) for k in ("psr", "dsr", "pbo") if res.selection[k]
    )

    us = 1e6 / n
    print("\nSUMMARY")
    print(f"  command: cd /work/main && PYTHONPATH=. python {shlex.join(sys.argv)}")
    print(f"  combinations: {n:,}; medians of {args.repeat} runs; kernel threads: {cpus}")
    print(
        f"  1. engine.sweep (kernel, {cpus} threads): {t_sweep:.2f} s, {t_sweep * us:.1f} us per combination"
    )
    print(
        f"     engine.sweep (kernel, 1 thread):   {t_one:.2f} s, {t_one * us:.1f} us per combination"
    )
    print(
        f"  2. vectorbt directly (MA.run_combs + from_signals): {t_vbt:.2f} s, {t_vbt * us:.1f} us per combination"
    )
    print(
        f"     engine.sweep(simulator='vectorbt') (reference path, once): {t_ref:.2f} s, {t_ref * us:.1f} us"
    )
    print(
        f"  ratio vectorbt / engine.sweep: {t_vbt / t_sweep:.1f}x ({cpus} threads), {t_vbt / t_one:.1f}x (1 thread); target >= 20x: {'met' if t_vbt / t_sweep >= 20 else 'NOT met'}"
    )
    print(
        f"  total returns vs vectorbt from_signals: max |diff| {diff:.2e} over {len(total_vbt):,} combinations ({'ok' if diff <= 1e-10 else 'FAIL'}, tol 1e-10)"
    )
    print(
        f"  every metric vs the vectorbt path: max rel diff {metric_diff:.2e}, same NaNs {same_nan}, best row {res.best == ref.best}, psr/dsr/pbo max diff {sel_diff:.1e}"
    )
    print(f"  1 thread vs {cpus} threads identical: {same_one}")
    print(f"  best: {res.table.iloc[res.best][['fast', 'slow', 'sharpe', 'total_return']].to_dict()}, DSR {res.selection['dsr']:.3f}, PBO {res.selection['pbo']:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
