"""Each strategy's tearsheet in the HTML report: benchmark-relative metrics, trade
statistics, monthly returns, rolling Sharpe and volatility, underwater chart.

Reads results.json's ``strategies[i].tearsheet`` and the daily table
``tables/tearsheet_<i>_<name>`` (returns, excess returns, the benchmark's excess
returns); the statistics and figures are :mod:`backtest.tearsheet`'s, so a notebook's
``bt.tearsheet()`` and the report agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from backtest import tearsheet as ts
from backtest.report.formatting import metric_cell
from backtest.report.tables import escape, table

__all__ = ["html_section"]

#: (key, label, kind) of the metrics shown, in order; kinds as in :mod:`.strategies`.
ROWS = (
    ("alpha", "alpha (a year)", "pct"),
    ("beta", "beta", "num"),
    ("correlation", "correlation", "num"),
    ("information_ratio", "information ratio", "num"),
    ("tracking_error", "tracking error", "pct"),
    ("benchmark_total_return", "benchmark total excess return", "pct"),
    ("benchmark_sharpe", "benchmark Sharpe", "num"),
    ("trades", "trades", "int"),
    ("win_rate", "win rate (trades)", "pct"),
    ("profit_factor", "profit factor", "num"),
    ("avg_win", "average win", "pct"),
    ("avg_loss", "average loss", "pct"),
    ("avg_holding_bars", "average holding (bars)", "num"),
    ("avg_holding_days", "average holding (days)", "num"),
)


_fmt = metric_cell


def _monthly(sheet: Mapping[str, Any]) -> pd.DataFrame:
    m = sheet["monthly_returns"]
    values = np.array(
        [[np.nan if v is None else float(v) for v in row] for row in m["values"]], dtype=float
    ).reshape(len(m["years"]), len(m["columns"]))
    return pd.DataFrame(values, index=m["years"], columns=m["columns"])


def html_section(res: Mapping[str, Any], run_dir: Path, figure: Callable[[Any], str]) -> list[str]:
    """HTML of every strategy's tearsheet (nothing for strategies without one)."""
    out: list[str] = []
    strategies = res.get("strategies") or []
    for i, s in enumerate(strategies):
        sheet = s.get("tearsheet")
        if not sheet:
            continue
        m = sheet["metrics"]
        out.append(
            f"<h3>Tearsheet: {escape(s['name'])} on {escape(s['series'])} vs "
            f"{escape(sheet['benchmark'])}</h3>"
        )
        out.append(
            table(
                ["metric", "value"],
                [[label, _fmt(m.get(key), kind)] for key, label, kind in ROWS],
                numeric=(1,),
            )
        )
        out.append(
            '<p class="caption">Configured parameters. Benchmark-relative numbers are of '
            "daily excess returns (over each leg's short rate) against the benchmark's: "
            "alpha = OLS intercept times observations a year (arithmetic), information "
            "ratio and tracking error annualised. Win rate: winning trades over trades; "
            "profit factor: sum of winning over losing trade returns.</p>"
        )
        out.append(figure(ts.monthly_figure(_monthly(sheet))))
        out.append('<p class="caption">Monthly returns in %, compounded within each month.</p>')
        path = run_dir / "tables" / f"tearsheet_{i}_{s['name']}.parquet"
        if path.is_file():
            daily = pd.read_parquet(path).set_index("date")
            ppy = float((s.get("settings") or {}).get("periods_per_year", 252))
            window = int(sheet["window"])
            x = daily["excess_returns"]
            out.append(
                figure(
                    ts.rolling_figure(
                        ts.rolling_sharpe(x, window, ppy),
                        ts.rolling_volatility(x, window, ppy),
                        window,
                    )
                )
            )
            out.append(figure(ts.underwater_figure(ts.underwater(daily["returns"]))))
            out.append(
                f'<p class="caption">Rolling Sharpe and volatility of excess returns over '
                f"{window} days; underwater: drawdown from the running peak of growth of 1.</p>"
            )
    return out
