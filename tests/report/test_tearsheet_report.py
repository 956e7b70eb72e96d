"""The tearsheet section of the HTML report (``backtest/report/tearsheet.py``) and the
configured-vs-best table of the strategy section.

Built from hand-written ``results.json`` fragments; expected text is hand-written too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backtest.report.strategies import strategies_section
from backtest.report.tearsheet import html_section

EVIL = "<script>x</script>"
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec"


def _entry() -> dict:
    return {
        "name": "ma_crossover",
        "series": "USDJPY",
        "params": {"fast": 10, "slow": 50},
        "settings": {"periods_per_year": 252},
        "metrics": {"sharpe": 0.5, "total_return": 0.1, "trades": 4, "win_rate": 0.25},
        "sweep": {
            "selection": {"psr": 0.9, "dsr": 0.4, "pbo": 0.5},
            "combinations": 2,
            "method": "grid",
            "best": {"fast": 5, "slow": 50},
            "best_metrics": {"sharpe": 0.75, "total_return": 0.2, "trades": 6},
            "space": {"fast": [5, 10]},
            "top": [{"fast": 5, "sharpe": 0.75, "trades": 6}],
        },
        "validation": None,
        "tearsheet": {
            "benchmark": f"buy_and_hold {EVIL}",
            "window": 3,
            "metrics": {"alpha": 0.0123, "beta": 0.5, "win_rate": 0.25, "profit_factor": None},
            "monthly_returns": {
                "columns": [*MONTHS.split(), "year"],
                "years": [2024],
                "values": [[0.01, None, *([None] * 10), 0.01]],
            },
        },
    }


def _keep(figures: list):
    def figure(fig: dict) -> str:
        figures.append(fig)
        return ""

    return figure


def test_tearsheet_section_tables_figures_and_escaping(tmp_path):
    figures: list = []
    page = "".join(html_section({"strategies": [_entry()]}, tmp_path, _keep(figures)))
    assert "<script>" not in page and "buy_and_hold &lt;script&gt;" in page
    assert '<td class="num">1.23%</td>' in page  # alpha
    assert '<td class="num">0.500</td>' in page  # beta
    assert "n/a" in page  # profit factor without a losing trade
    assert len(figures) == 1  # the monthly heatmap; no daily table on disk
    z = figures[0]["data"][0]["z"]
    assert z[0][0] == 1.0 and z[0][1] is None  # percent, a missing month stays empty
    # with the daily table: rolling and underwater charts too
    (tmp_path / "tables").mkdir()
    idx = pd.bdate_range("2024-01-01", periods=10)
    pd.DataFrame(
        {
            "date": idx,
            "returns": np.linspace(-0.01, 0.01, 10),
            "excess_returns": np.linspace(-0.01, 0.01, 10),
            "benchmark_excess": 0.0,
        }
    ).to_parquet(tmp_path / "tables" / "tearsheet_0_ma_crossover.parquet", index=False)
    figures.clear()
    html_section({"strategies": [_entry()]}, tmp_path, _keep(figures))
    assert len(figures) == 3
    assert figures[2]["data"][0]["y"][0] == pytest.approx(
        -1.0, abs=1e-12
    )  # a first-day loss of 1 % is underwater


def test_configured_and_best_side_by_side(tmp_path):
    page = "".join(strategies_section({"strategies": [_entry()]}, tmp_path, lambda fig: ""))
    assert "<td>configured</td>" in page and "fast=10, slow=50" in page
    assert "<td>best of the sweep</td>" in page and "fast=5, slow=50" in page
    assert '<td class="num">0.750</td>' in page  # the best's Sharpe
    # a run from before issue 15 (no best_metrics): no side-by-side table
    old = _entry()
    del old["sweep"]["best_metrics"]
    page = "".join(strategies_section({"strategies": [old]}, tmp_path, lambda fig: ""))
    assert "best of the sweep" not in page
