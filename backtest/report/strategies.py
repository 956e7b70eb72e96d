"""Strategy section of the HTML report: equity curves, drawdowns, sweeps, out-of-sample,
return attribution (:mod:`.attribution`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from backtest.report.attribution import html_section as attribution_section
from backtest.report.figures import plotly_dict
from backtest.report.formatting import metric_cell
from backtest.report.plots import drawdown_spec, equity_spec, sweep_heatmap_spec
from backtest.report.tables import escape, table
from backtest.report.tearsheet import html_section as tearsheet_section

__all__ = ["strategies_section"]

_METRICS = (
    ("total_return", "total return", "pct"),
    ("cagr", "CAGR", "pct"),
    ("volatility", "volatility", "pct"),
    ("sharpe", "Sharpe", "num"),
    ("sortino", "Sortino", "num"),
    ("max_drawdown", "max drawdown", "pct"),
    ("calmar", "Calmar", "num"),
    ("win_rate", "win rate (trades)", "pct"),
    ("positive_days", "positive days", "pct"),
    ("trades", "trades", "int"),
    ("exposure", "exposure", "pct"),
    ("turnover", "turnover", "num"),
)


_fmt = metric_cell


def _label(s: Mapping[str, Any]) -> str:
    params = ", ".join(f"{k}={v}" for k, v in (s.get("params") or {}).items())
    return f"{s['name']} on {s['series']} ({params})"


def strategies_section(
    res: Mapping[str, Any], run_dir: Path, figure: Callable[[Any], str]
) -> list[str]:
    """HTML of the strategies: metrics, equity and drawdown charts, sweeps, validation,
    attribution."""
    strategies = res.get("strategies") or []
    out = ['<h2 id="strategies">Strategies</h2>']
    if not strategies:
        return [*out, "<p>None configured: the config's <code>strategies</code> is empty.</p>"]
    settings = strategies[0].get("settings", {})
    out.append(
        '<p class="caption">Fills: '
        + escape(settings.get("fill", ""))
        + f"; annualised with {escape(settings.get('periods_per_year', 252))} observations per "
        "year; costs as configured per strategy. Returns: "
        + escape(settings.get("conventions", {}).get("total", ""))
        + ". Sharpe ratios: "
        + escape(settings.get("conventions", {}).get("sharpe", "over the risk-free rate"))
        + ".</p>"
    )
    rows = [
        [_label(s), *(_fmt(s["metrics"].get(k), kind) for k, _, kind in _METRICS)]
        for s in strategies
    ]
    header = ["strategy", *(label for _, label, _ in _METRICS)]
    out.append(table(header, rows, numeric=range(1, len(header)), wrap=(0,)))
    equity_path = run_dir / "tables" / "equity.parquet"
    if equity_path.is_file():
        equity = pd.read_parquet(equity_path).set_index("date")
        out.append(figure(plotly_dict(equity_spec(equity))))
        out.append(figure(plotly_dict(drawdown_spec(equity))))
        out.append(
            '<p class="caption">Growth of 1 (log scale) and drawdown from the running peak '
            "(%), the charts of <code>bt.plot.equity()</code> and <code>bt.plot.drawdown()"
            "</code>. Parameters: as configured (a sweep's best is under its sweep).</p>"
        )
    for s in strategies:
        sweep = s.get("sweep")
        if sweep:
            sel = sweep["selection"]
            out.append(f"<h3>Sweep: {escape(s['name'])} on {escape(s['series'])}</h3>")
            if "best_metrics" in sweep:  # runs before issue 15: params were the best's
                out.append(_configured_vs_best(s))
            out.append(
                f"<p>{sweep['combinations']} combinations ({escape(sweep['method'])}). Best by "
                f"Sharpe: {escape(sweep['best'])}. Selection bias over the whole sweep: "
                f"probabilistic Sharpe {_fmt(sel.get('psr'), 'num')}, deflated Sharpe "
                f"{_fmt(sel.get('dsr'), 'num')} (Bailey &amp; López de Prado 2014), "
                f"probability of backtest overfitting {_fmt(sel.get('pbo'), 'num')} "
                "(CSCV, Bailey et al. 2015). A deflated Sharpe well below 0.95 or a PBO "
                "near 0.5 says the best trial's edge is likely selection luck.</p>"
            )
            top = sweep["top"]
            params = [k for k in sweep["space"]]
            out.append(
                table(
                    [*params, "Sharpe", "CAGR", "max drawdown", "trades"],
                    [
                        [
                            *(str(r.get(k)) for k in params),
                            _fmt(r.get("sharpe"), "num"),
                            _fmt(r.get("cagr"), "pct"),
                            _fmt(r.get("max_drawdown"), "pct"),
                            _fmt(r.get("trades"), "int"),
                        ]
                        for r in top[:10]
                    ],
                    numeric=range(len(params), len(params) + 4),
                )
            )
            table_path = run_dir / "tables" / f"sweep_{strategies.index(s)}_{s['name']}.parquet"
            if len(params) == 2 and table_path.is_file():
                a, b = params
                spec = sweep_heatmap_spec(pd.read_parquet(table_path), b, a, "sharpe")
                out.append(figure(plotly_dict(spec)))
        val = s.get("validation")
        if val:
            out.append(
                f"<h3>In sample vs out of sample: {escape(s['name'])} "
                f"({escape(val['method'])})</h3>"
            )
            out.append(
                table(
                    ["fold", "sample", "start", "end", "params", "Sharpe", "CAGR", "max drawdown"],
                    [
                        [
                            str(f["fold"]),
                            str(f["sample"]),
                            str(f["start"]),
                            str(f["end"]),
                            ", ".join(
                                f"{k[6:]}={v}" for k, v in f.items() if k.startswith("param_")
                            ),
                            _fmt(f.get("sharpe"), "num"),
                            _fmt(f.get("cagr"), "pct"),
                            _fmt(f.get("max_drawdown"), "pct"),
                        ]
                        for f in val["folds"]
                    ],
                    numeric=(5, 6, 7),
                )
            )
            oos = val["oos_metrics"]
            out.append(
                f"<p>Stitched out-of-sample: Sharpe {_fmt(oos.get('sharpe'), 'num')}, CAGR "
                f"{_fmt(oos.get('cagr'), 'pct')}, max drawdown "
                f"{_fmt(oos.get('max_drawdown'), 'pct')}.</p>"
            )
    out += attribution_section(res, run_dir, figure)
    out += tearsheet_section(res, run_dir, figure)
    return out


def _configured_vs_best(s: Mapping[str, Any]) -> str:
    """The configured parameters' metrics beside the sweep's best, one row each."""
    sweep = s["sweep"]
    rows = [
        ("configured", s.get("params") or {}, s.get("metrics") or {}),
        ("best of the sweep", sweep.get("best") or {}, sweep["best_metrics"]),
    ]
    shown = _METRICS[:8]
    return table(
        ["", "params", *(label for _, label, _ in shown)],
        [
            [
                name,
                ", ".join(f"{k}={v}" for k, v in params.items()) or "(defaults)",
                *(_fmt(metrics.get(k), kind) for k, _, kind in shown),
            ]
            for name, params, metrics in rows
        ],
        numeric=range(2, 2 + len(shown)),
        wrap=(1,),
    )
