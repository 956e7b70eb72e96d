"""Benchmark: a fresh installation's first ``backtest run`` (empty numba cache).

Runs ``backtest run CONFIG --offline --quiet --out DIR`` in fresh processes, side by
side in this one script:

1. **cold**: an empty ``NUMBA_CACHE_DIR``, as on a fresh clone; the kernels are
   compiled during the run (a child process compiles the simulation kernel while the
   run loads data, :mod:`backtest.engine.precompile`);
2. **cold, no child**: the same with ``BACKTEST_PRECOMPILE=0`` (the run compiles
   everything itself, at its first backtest), the peer the child is measured against;
3. **warm**: the cache filled by the runs before.

Each is repeated ``--repeat`` times (each cold run with a new empty cache); the
script prints every wall time, the medians, and the issue's target line (cold run
under 10 s). The results of every run are compared: ``results.json`` must be the
same bytes apart from the run's own timing and path fields (checked on the
``strategies`` and ``event_study`` sections).

Usage::

    PYTHONPATH=. python benchmarks/bench_coldstart.py [--config configs/usdjpy_strategies.yaml]
        [--repeat 3]

Nothing here is asserted in the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 10.0


def one_run(config: Path, cache: Path, precompile: bool) -> tuple[float, dict]:
    """Wall time of one ``backtest run`` and its results' strategies and event study."""
    out = Path(tempfile.mkdtemp(prefix="bench_cold_out_"))
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if not precompile:
        env["BACKTEST_PRECOMPILE"] = "0"
    cmd = [sys.executable, "-c", "from backtest.cli import run; run()"]
    cmd += ["run", str(config), "--offline", "--quiet", "--out", str(out / "run")]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"backtest run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    results = json.loads((out / "run" / "results.json").read_text())
    shutil.rmtree(out, ignore_errors=True)
    return wall, {k: results[k] for k in ("strategies", "event_study") if k in results}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default=str(ROOT / "configs" / "usdjpy_strategies.yaml"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    config = Path(args.config).resolve()
    times: dict[str, list[float]] = {"cold": [], "cold, no child": [], "warm": []}
    seen: list[dict] = []
    for i in range(args.repeat):
        for label, precompile in (("cold", True), ("cold, no child", False)):
            cache = Path(tempfile.mkdtemp(prefix="bench_cold_numba_"))
            wall, res = one_run(config, cache, precompile)
            times[label].append(wall)
            seen.append(res)
            if label == "cold":
                warm, res = one_run(config, cache, True)
                times["warm"].append(warm)
                seen.append(res)
            shutil.rmtree(cache, ignore_errors=True)
            print(f"run {i + 1} {label:15s} {wall:6.2f} s", flush=True)
        print(f"run {i + 1} {'warm':15s} {times['warm'][-1]:6.2f} s", flush=True)
    same = all(json.dumps(s, sort_keys=True) == json.dumps(seen[0], sort_keys=True) for s in seen)
    print(f"\n{config.name}, {args.repeat} runs each (fresh processes, wall time):")
    for label, ts in times.items():
        each = ", ".join(f"{t:.2f}" for t in ts)
        print(f"  {label:15s} median {statistics.median(ts):6.2f} s  ({each})")
    print(f"  strategies and event study identical in every run: {same}")
    worst = max(times["cold"])
    verdict = "met" if worst < TARGET_S else "NOT met"
    print(f"target cold first run < {TARGET_S:.0f} s in every run: worst {worst:.2f} s, {verdict}")


if __name__ == "__main__":
    main()
