"""Brown-Warner simulation on the real snapshot: size and power of the cross-event tests.

Pseudo-events are random dates; no abnormal performance is added, so a test at the 5%
level should reject about 5% of the time. Two designs (Brown & Warner 1985):

(a) *independent dates*: each series gets its own random date in each draw;
(b) *one shared date*: all series get the same random date (a market-wide shock), so
    their abnormal changes are cross-correlated.

Power: the same draws with one estimation-window standard deviation added to every
series' day-0 abnormal change.

Usage::

    python benchmarks/brown_warner.py [--draws 1000] [--seed 0] [--window 0 0]

Prints a Markdown table (the one recorded in benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from backtest import data
from backtest.eventstudy import TESTS, EventStudy

SERIES = ["UST2Y", "UST10Y", "UST30Y", "USDJPY", "SPX", "NKY", "VIX", "JGB10Y", "USD", "TOPIX"]
FIRST, LAST = "2017-06-01", "2025-12-31"


def pseudo_events(dates: pd.DatetimeIndex, ids: list[str]) -> pd.DataFrame:
    """Date-only New York events (day 0 = first observation on or after the date)."""
    return pd.DataFrame(
        {
            "event": ids,
            "timestamp": pd.DatetimeIndex(dates).tz_localize("America/New_York").tz_convert("UTC"),
            "timezone": "America/New_York",
            "date": pd.DatetimeIndex(dates),
            "time_given": False,
            "label": ids,
            "category": "pseudo",
        }
    )


def simulate(
    draws: int, seed: int, window: tuple[int, int], model: str = "constant_mean"
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Run both designs; return rejection rates (rows: test, design) and timings."""
    levels = data.load(SERIES, start="2015-01-01", end="2026-06-30", offline=True)
    days = pd.bdate_range(FIRST, LAST)
    rng = np.random.default_rng(seed)
    study = EventStudy(model=model, estimation_window=(-250, -11), event_window=(-5, 10))
    timings: dict[str, float] = {}
    rows = []
    S = len(SERIES)
    designs = {
        "a": rng.choice(days, size=(draws, S)),  # own date per series
        "b": np.repeat(rng.choice(days, size=(draws, 1)), S, axis=1),  # one shared date
    }
    for design, dates in designs.items():
        t0 = time.perf_counter()
        if design == "a":
            ids = [f"d{d}_{s}" for d in range(draws) for s in range(S)]
            res = study.run(levels, pseudo_events(pd.DatetimeIndex(dates.ravel()), ids))
            pairs = [[(f"d{d}_{s}", SERIES[s]) for s in range(S)] for d in range(draws)]
        else:
            ids = [f"d{d}" for d in range(draws)]
            res = study.run(levels, pseudo_events(pd.DatetimeIndex(dates[:, 0]), ids))
            pairs = [[(f"d{d}", name) for name in SERIES] for d in range(draws)]
        timings[f"run {design}"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        for shift in (0.0, 1.0):
            found = []
            for d in range(draws):
                out = res.pair_tests(
                    pairs[d], *window, name=f"d{d}", shift_sigma=shift, draws=199, seed=d
                )
                found.append(out)
            table = pd.concat(found, ignore_index=True)
            for test in TESTS:
                sel = table[table["test"] == test]
                p = sel["pvalue"].to_numpy()
                rows.append(
                    {
                        "design": design,
                        "shift": shift,
                        "test": test,
                        "draws": int(np.isfinite(p).sum()),
                        "reject_5pct": float(np.mean(p[np.isfinite(p)] < 0.05)),
                        "valid": bool(sel["valid"].mean() >= 0.5),  # as in most draws
                        "recommended": bool(sel["recommended"].mean() >= 0.5),
                    }
                )
        timings[f"tests {design}"] = time.perf_counter() - t0
    return pd.DataFrame(rows), timings


def markdown(table: pd.DataFrame) -> str:
    """Format the rejection rates as the README's Markdown table."""
    lines = [
        "| test | (a) independent dates: size | power (+1 sd) | (b) one shared date: size "
        "| power (+1 sd) |",
        "|---|---|---|---|---|",
    ]
    for test in TESTS:
        cells = []
        for design in ("a", "b"):
            sel = table[(table.test == test) & (table.design == design)].set_index("shift")
            mark = ""
            if sel["recommended"].any():
                mark = " **default**"
            elif not sel["valid"].all():  # invalid in most draws
                mark = " (marked invalid)"
            cells += [
                f"{100 * sel.loc[0.0, 'reject_5pct']:.1f}%{mark}",
                f"{100 * sel.loc[1.0, 'reject_5pct']:.1f}%",
            ]
        lines.append(f"| `{test}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--window", type=int, nargs=2, default=(0, 0))
    parser.add_argument("--model", default="constant_mean")
    args = parser.parse_args()
    table, timings = simulate(args.draws, args.seed, tuple(args.window), args.model)
    print(
        f"Brown-Warner simulation: {args.draws} draws, {len(SERIES)} series "
        f"({', '.join(SERIES)}), model={args.model}, CAR window {tuple(args.window)}, "
        f"pseudo-event dates {FIRST}..{LAST}, seed {args.seed}"
    )
    print(markdown(table))
    print("timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))


if __name__ == "__main__":
    main()
