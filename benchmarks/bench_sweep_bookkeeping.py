"""Benchmark: what a sweep costs per combination outside the simulation.

Everything ``engine.sweep`` does per combination besides simulating it, timed alone on
the issue-16 grid (moving-average crossover, fast 2..100 x slow 2..250, 24,651
combinations of which 19,701 have fast < slow):

* the walk: which combinations are valid, the table's parameter columns, the legs
  held (``backtest.engine.sweeps._walk``);
* each chunk's parameter objects (``backtest.paramsets.parse_chunk`` on the chunks
  :class:`backtest.engine.chunks.Tasks` makes, ``--chunk-size`` combinations each).

Both are timed twice in this one script: as the sweep does them now (numpy over blocks
of grid positions, :class:`backtest.paramsets.GridPlan`) and as it did them before, one
combination at a time (``strat.parse`` and ``model_dump`` per combination in the walk,
``strat.parse`` again per combination in each chunk; still the path of explicit
combination lists, ``backtest.engine.sweeps._walk_each``). The script checks that both
give the same positions, table and parameter objects. Figures are the median of
``--repeat`` runs, in microseconds per valid combination.

Usage::

    PYTHONPATH=. python benchmarks/bench_sweep_bookkeeping.py [--fast-max 100]
        [--slow-max 250] [--chunk-size 1000] [--repeat 5] [--sweep]

With ``--sweep``, the whole ``engine.sweep`` on that grid is also timed (wall time, 10
years of daily USD/JPY from the bundled snapshot, FRED DEXJPUS) with the bulk path and
with it switched off (``grid_plan`` returning None: the per-combination path), and the
two tables are checked equal.

Nothing here is asserted in the test suite (tests/test_paramsets.py checks the results).
"""

from __future__ import annotations

import argparse
import array
import statistics
import time
from collections.abc import Callable
from typing import Any

import pandas as pd

from backtest import data, engine, paramsets
from backtest.engine import sweeps
from backtest.engine.chunks import ChunkSettings, Tasks
from backtest.engine.sweeps import _walk, _walk_each
from backtest.paramsets import parse_chunk
from backtest.space import parse_space
from backtest.strategy import get_strategy


def _time(fn: Callable[[], Any], repeat: int) -> float:
    """Median CPU seconds of `repeat` calls (CPU time: the machine may be shared)."""
    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fast-max", type=int, default=100)
    ap.add_argument("--slow-max", type=int, default=250)
    ap.add_argument("--chunk-size", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sweep", action="store_true", help="also time engine.sweep end to end")
    args = ap.parse_args()
    strat = get_strategy("ma_crossover")
    space = {
        "fast": {"start": 2, "stop": args.fast_max},
        "slow": {"start": 2, "stop": args.slow_max},
    }
    full = parse_space(strat.Params, space)
    settings = ChunkSettings("USDJPY")
    now: Callable[[Any], list[Any]] = lambda c: parse_chunk(strat, c)  # noqa: E731
    before: Callable[[Any], list[Any]] = lambda c: [strat.parse(x) for x in c]  # noqa: E731

    def chunks(valid: array.array[int], parse: Callable[[Any], list[Any]]) -> int:
        """Each chunk's objects made, as a sweep makes them, and dropped after it."""
        tasks = Tasks(strat, full, valid, args.chunk_size, settings)
        return sum(len(parse(task.combinations)) for task in tasks)

    # The same results both ways (checked once, untimed).
    valid, columns, first, legs = _walk(strat, full, None, "USDJPY")
    valid0, columns0, first0, legs0 = _walk_each(strat, full, None, "USDJPY")
    assert (valid, first, legs) == (valid0, first0, legs0)
    pd.testing.assert_frame_equal(pd.DataFrame(columns), pd.DataFrame(columns0))
    tasks = Tasks(strat, full, valid, args.chunk_size, settings)
    for task in tasks:
        objs, objs0 = now(task.combinations), before(task.combinations)
        assert objs == objs0
        assert [(o.model_fields_set, *map(type, o.__dict__.values())) for o in objs] == [
            (o.model_fields_set, *map(type, o.__dict__.values())) for o in objs0
        ]
    del columns, columns0, objs, objs0
    n = len(valid)

    t_walk = _time(lambda: _walk(strat, full, None, "USDJPY"), args.repeat)
    t_walk0 = _time(lambda: _walk_each(strat, full, None, "USDJPY"), args.repeat)
    t_chunk = _time(lambda: chunks(valid, now), args.repeat)
    t_chunk0 = _time(lambda: chunks(valid, before), args.repeat)
    us = 1e6 / n
    print(
        f"grid {full.size:,} combinations, {n:,} valid (fast < slow), chunks of "
        f"{args.chunk_size}; CPU time per valid combination, median of {args.repeat}"
    )
    print(f"{'':24s} {'before':>10s} {'now':>10s}")
    print(f"{'walk + table':24s} {t_walk0 * us:8.2f}us {t_walk * us:8.2f}us")
    print(f"{'chunk parameter objects':24s} {t_chunk0 * us:8.2f}us {t_chunk * us:8.2f}us")
    total0, total = (t_walk0 + t_chunk0) * us, (t_walk + t_chunk) * us
    print(f"{'total':24s} {total0:8.2f}us {total:8.2f}us  ({total0 / total:.0f}x less)")
    loop = _time(lambda: [None for _ in range(10**6)], args.repeat)
    print(f"(this machine: an empty Python list comprehension takes {loop * 1e3:.0f} ns a step)")
    if args.sweep:
        _whole_sweep(space, args.chunk_size)


def _whole_sweep(space: dict[str, Any], chunk_size: int) -> None:
    """engine.sweep end to end, with and without the bulk path (wall time, one run each)."""
    levels = data.load(["USDJPY"], start="2016-01-01", end="2025-12-31", offline=True)
    kw: dict[str, Any] = {"series": "USDJPY", "chunk_size": chunk_size}
    engine.sweep("ma_crossover", {"fast": [5], "slow": [20, 50]}, levels, **kw)  # warm up
    timings, tables = {}, {}
    for label, off in (("bulk", False), ("per combination", True)):
        saved = sweeps.grid_plan, paramsets.grid_plan
        if off:
            sweeps.grid_plan = paramsets.grid_plan = lambda *_: None  # type: ignore[assignment]
        try:
            t0 = time.perf_counter()
            tables[label] = engine.sweep("ma_crossover", space, levels, **kw).table
            timings[label] = time.perf_counter() - t0
        finally:
            sweeps.grid_plan, paramsets.grid_plan = saved
    pd.testing.assert_frame_equal(tables["bulk"], tables["per combination"])
    n = len(tables["bulk"])
    bars = levels["USDJPY"].notna().sum()
    print(f"engine.sweep, {n:,} combinations x {bars:,} bars (wall time per combination):")
    for label, seconds in timings.items():
        print(f"  {label:16s} {seconds * 1e6 / n:8.1f}us")


if __name__ == "__main__":
    main()
