"""Benchmark: loading market data through backtest vs plain pandas on the same files.

Peers run side by side in this one script, so the ratios are meaningful on any machine:

1. ``backtest.data.load`` of every catalog series from the bundled snapshot (parsing,
   validation, alignment into one frame) vs ``pandas.read_csv`` of the same files joined
   with ``pandas.concat`` (no validation): the cost of the checks.
2. Reading one long series from the parquet cache vs from its snapshot CSV: why the
   cache is parquet.

Run with ``make bench``; results are recorded in benchmarks/README.md.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable

import pandas as pd

from backtest import data
from backtest.data.cache import Cache
from backtest.data.sources import read_series_file


def timeit(fn: Callable[[], object], repeat: int = 7) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    cat = data.catalog()
    names = list(cat)
    root = data.snapshot_dir()
    files = {n: root / (s.default.snapshot or s.default.symbol) for n, s in cat.items()}

    def ours() -> pd.DataFrame:
        return data.load(names, offline=True)

    def peer() -> pd.DataFrame:
        cols = {}
        for name, path in files.items():
            frame = pd.read_csv(path, index_col=0, parse_dates=True)
            col = "value" if "value" in frame else "close"
            cols[name] = pd.to_numeric(frame[col], errors="coerce").dropna()
        return pd.concat(cols, axis=1, sort=True)

    rows = ours().shape
    t_ours, t_peer = timeit(ours), timeit(peer)
    print(
        f"load {len(names)} series ({rows[0]} dates): backtest {t_ours * 1e3:.1f} ms, "
        f"pandas read_csv+concat {t_peer * 1e3:.1f} ms, ratio {t_ours / t_peer:.2f}x"
    )

    with tempfile.TemporaryDirectory() as tmp:
        cache = Cache(tmp)
        series = read_series_file(root / "DGS10.csv")
        cache.write("fred", "DGS10", series)
        t_cache = timeit(lambda: cache.read("fred", "DGS10"), repeat=21)
        t_csv = timeit(lambda: read_series_file(root / "DGS10.csv"), repeat=21)
    print(
        f"one series, {len(series)} rows: parquet cache (with checksum) {t_cache * 1e3:.2f} ms, "
        f"snapshot CSV {t_csv * 1e3:.2f} ms, cache speed-up {t_csv / t_cache:.1f}x"
    )


if __name__ == "__main__":
    main()
