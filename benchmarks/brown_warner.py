"""Brown-Warner simulation on the real snapshot: size and power of the cross-event tests.

Pseudo-events are random dates; no abnormal performance is added, so a test at the 5%
level should reject about 5% of the time. Two designs (Brown & Warner 1985):

(a) *independent dates*: each series gets its own random date in each draw;
(b) *one shared date*: all series get the same random date (a market-wide shock), so
    their abnormal changes are cross-correlated.

Power: the same draws with one estimation-window standard deviation added to every
series' day-0 abnormal change.

The draws come from the library's placebo (:meth:`EventStudyResult.placebo`): a study
of one anchor event in the ten series, whose placebo draws one pseudo date per draw
(``design="independent"`` for (a), ``"shared"`` for (b)), unmatched (``match=()``, as
Brown and Warner's random dates), among the days whose estimation and event windows are
in the data (business days about 2017-06..2025-12), away from the anchor; the ten
(event, series) pairs of a draw are pooled in one group test.

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
from backtest.eventstudy.placebo import pseudo_events

SERIES = ["UST2Y", "UST10Y", "UST30Y", "USDJPY", "SPX", "NKY", "VIX", "JGB10Y", "USD", "TOPIX"]
#: Levels loaded: 250 sessions of estimation before 2017-06 and 10 after 2025-12.
START, END = "2016-05-15", "2026-01-16"
#: The one real event of the study whose placebo is drawn (any date inside the sample).
ANCHOR = "2021-06-01"
DESIGNS = {"a": "independent", "b": "shared"}


def simulate(
    draws: int, seed: int, window: tuple[int, int], model: str = "constant_mean"
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Run both designs; return rejection rates (rows: test, design) and timings."""
    levels = data.load(SERIES, start=START, end=END, offline=True)
    study = EventStudy(model=model, estimation_window=(-250, -11), event_window=(-5, 10))
    res = study.run(levels, pseudo_events(pd.to_datetime([ANCHOR]), ["anchor"]))
    timings: dict[str, float] = {}
    rows = []
    for design, name in DESIGNS.items():
        for shift in (0.0, 1.0):
            t0 = time.perf_counter()
            pl = res.placebo(
                window,
                groups={"all": SERIES},
                draws=draws,
                match=(),
                seed=seed,
                design=name,
                shift_sigma=shift,
            )
            timings[f"{design} shift {shift:g}"] = time.perf_counter() - t0
            per_draw = pl.statistics[pl.statistics["series"] == "all"]
            for test in TESTS:
                sel = per_draw[per_draw["test"] == test]
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
        f"levels {START}..{END} (placebo of one anchor event, {ANCHOR}), seed {args.seed}"
    )
    print(markdown(table))
    print("timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))


if __name__ == "__main__":
    main()
