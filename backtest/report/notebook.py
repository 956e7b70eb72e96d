"""Notebook display of every result object: compact HTML and a few lines of text.

Each result class has thin ``_repr_html_`` and ``__repr__`` methods that import this
module lazily and call one pair of its functions (``*_html`` and ``*_text``), so Jupyter
shows what was run and the headline table, never the whole data:

- ``EventStudyResult``: design, sizes, units and the recommended cross-event test per
  series over days 0 to the end of the event window (:func:`event_study_html`);
- ``PlaceboResult``: observed vs placebo p-values and sizes (:func:`placebo_html`);
- ``BacktestResult``: strategy, period, costs and the metrics (:func:`backtest_html`);
- ``SweepResult``: size, PSR / DSR / PBO, the best row and the top five
  (:func:`sweep_html`); ``FoldChoices``: each fold's bars and pick (:func:`folds_html`);
- ``ValidationResult``: stitched out-of-sample metrics and the in- and out-of-sample
  rows of each fold (:func:`validation_html`);
- ``RunResult``: what ran, the first window's tests, each strategy's metrics and where
  the run is written (:func:`run_html`).

Every function takes the result and returns a string; tables are capped (a sweep of
any size shows six rows), so the HTML stays small (a few kB). Units follow the
results: changes in basis points for yields and percent log returns for prices
(``res.units``); means of standardised CARs (pooled groups) are labelled
``standardised``; strategy returns, drawdowns and rates are shown in percent.
Everything shown is escaped (:func:`backtest.report.tables.escape`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from backtest.report.formatting import number, pvalue, window_text
from backtest.report.tables import escape, table

if TYPE_CHECKING:
    import pandas as pd

    from backtest.engine.results import (
        BacktestResult,
        FoldChoices,
        SweepResult,
        ValidationResult,
    )
    from backtest.eventstudy.placebo import PlaceboResult
    from backtest.eventstudy.result import EventStudyResult
    from backtest.pipeline import RunResult

__all__ = [
    "MAX_ROWS",
    "METRIC_FORMATS",
    "backtest_html",
    "backtest_text",
    "event_study_html",
    "event_study_text",
    "folds_html",
    "folds_text",
    "metric",
    "placebo_html",
    "placebo_text",
    "run_html",
    "run_text",
    "sweep_html",
    "sweep_text",
    "validation_html",
    "validation_text",
]

#: Most rows of any table shown (series, folds, strategies); the rest are counted.
MAX_ROWS = 20

#: Metric -> (label, kind): ``pct`` shown as percent, ``ratio`` with three decimals,
#: ``int`` as a count. The order of :data:`backtest.engine.METRICS`.
METRIC_FORMATS: dict[str, tuple[str, str]] = {
    "total_return": ("total return", "pct"),
    "cagr": ("CAGR", "pct"),
    "volatility": ("volatility", "pct"),
    "sharpe": ("Sharpe", "ratio"),
    "sortino": ("Sortino", "ratio"),
    "max_drawdown": ("max drawdown", "pct"),
    "calmar": ("Calmar", "ratio"),
    "win_rate": ("win rate (trades)", "pct"),
    "positive_days": ("positive days", "pct"),
    "trades": ("trades", "int"),
    "exposure": ("exposure", "pct"),
    "turnover": ("turnover", "ratio"),
}

#: The metrics of the short tables (top five of a sweep, validation folds, a run).
_SHORT = ("total_return", "cagr", "sharpe", "max_drawdown", "trades")

_STYLE = (
    "<style>.bt-repr{font-size:13px;line-height:1.35}"
    ".bt-repr table{border-collapse:collapse;margin:4px 0 8px}"
    ".bt-repr th,.bt-repr td{padding:2px 8px;border-bottom:1px solid #ddd;"
    "text-align:left;white-space:nowrap}"
    ".bt-repr td.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".bt-repr td.wrap{white-space:normal}"
    ".bt-repr .bt-facts{margin:2px 0;color:#333}"
    ".bt-repr .bt-more{color:#666;font-size:12px}</style>"
)


# ------------------------------------------------------------------------ helpers
def metric(value: Any, kind: str) -> str:
    """A metric as text: ``pct`` as percent with two decimals, ``ratio`` with three,
    ``int`` as a whole number; ``n/a`` when missing.

    Examples
    --------
    >>> metric(0.1234, "pct"), metric(0.74451, "ratio"), metric(35.0, "int")
    ('12.34%', '0.745', '35')
    >>> metric(float("nan"), "pct")
    'n/a'
    """
    if not _finite(value):
        return "n/a"
    if kind == "pct":
        return f"{100.0 * float(value):.2f}%"
    if kind == "int":
        return f"{int(value)}"
    return f"{float(value):.3f}"


def _finite(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _metric_of(key: str, value: Any) -> str:
    return metric(value, METRIC_FORMATS.get(key, (key, "ratio"))[1])


def _params(params: Mapping[str, Any] | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in (params or {}).items()) or "defaults"


def _date(value: Any) -> str:
    if value is None:
        return "n/a"
    text = str(value)
    return text[:10]


def _facts(items: Sequence[tuple[str, Any]]) -> str:
    return "".join(f'<div class="bt-facts"><b>{escape(k)}</b>: {escape(v)}</div>' for k, v in items)


def _box(title: str, facts: Sequence[tuple[str, Any]], body: Sequence[str]) -> str:
    return (
        f'<div class="bt-repr">{_STYLE}<div><b>{escape(title)}</b></div>'
        + _facts(facts)
        + "".join(body)
        + "</div>"
    )


def _more(shown: int, total: int, what: str, hint: str = "") -> str:
    if total <= shown:
        return ""
    extra = f"; {hint}" if hint else ""
    return f'<div class="bt-more">{escape(f"{total - shown} more {what} not shown{extra}")}</div>'


def _heading(text: str) -> str:
    return f"<div><b>{escape(text)}</b></div>"


def _span(index: Any) -> str:
    """``first to last (n bars)`` of a date index."""
    if index is None or len(index) == 0:
        return "no bars"
    return f"{_date(index[0])} to {_date(index[-1])} ({len(index)} bars)"


def _lines(lines: Sequence[str], limit: int = 15) -> str:
    return "\n".join(list(lines)[:limit])


def _join(items: Sequence[str], limit: int = 8) -> str:
    items = list(items)
    head = ", ".join(items[:limit])
    return head + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _unit(units: Mapping[str, str], series: str) -> str:
    """The unit of a test row's ``caar``: the series' unit, ``standardised`` for a group."""
    return units.get(series, "standardised")


def _caar(value: Any, unit: str) -> str:
    """A mean CAR: two decimals in basis points, three in percent or standardised."""
    return number(value, ".2f" if unit == "bp" else ".3f")


# ------------------------------------------------------------------- event study
def _design_facts(design: Any) -> list[tuple[str, Any]]:
    model = design.model
    if design.market:
        model += f", market {design.market}"
    if design.factors:
        model += f", factors {', '.join(design.factors)}"
    out: list[tuple[str, Any]] = [
        ("model", model),
        (
            "windows",
            f"estimation {window_text(design.estimation_window)}, "
            f"event {window_text(design.event_window)}",
        ),
    ]
    if design.signing:
        out.append(("signed", design.signing))
    return out


def _default_window(res: EventStudyResult) -> tuple[int, int]:
    return 0, int(res.design.event_window[1])


def _tests_table(tests: pd.DataFrame, units: Mapping[str, str], limit: int = MAX_ROWS) -> str:
    """The recommended test of each series or group: unit, n, CAAR, statistic, p-value."""
    rec = tests[tests["recommended"]]
    rows = [
        [
            str(r["series"]),
            _unit(units, str(r["series"])),
            str(int(r["n"])),
            _caar(r["caar"], _unit(units, str(r["series"]))),
            str(r["test"]),
            number(r["statistic"], ".3f"),
            pvalue(r["pvalue"]),
            str(int(r["incomplete"])),
        ]
        for r in rec.head(limit).to_dict(orient="records")
    ]
    header = ["series", "unit", "n", "CAAR", "test", "statistic", "p-value", "incomplete"]
    return table(header, rows, numeric=(2, 3, 5, 6, 7)) + _more(
        len(rows), len(rec), "series", "res.tests(start, end) has them all"
    )


def event_study_html(res: EventStudyResult, window: tuple[int, int] | None = None) -> str:
    """HTML of an event-study result: the design and the recommended test per series.

    Parameters
    ----------
    res : EventStudyResult
        The result.
    window : (int, int), optional
        CAR window of the headline table; default days 0 to the end of the event
        window (as :meth:`EventStudyResult.summary`).

    Returns
    -------
    str
        An HTML fragment: model, windows, events and series with their units, pairs
        excluded, then per series the CAAR (mean CAR, in the series' unit) and the
        recommended test's statistic and p-value (:meth:`EventStudyResult.tests`).
    """
    start, end = window or _default_window(res)
    events = res.events
    units = res.units
    excluded = len(res.exclusions)
    dates = events["date"] if "date" in events.columns else None
    span = (
        f"{len(events)} events, {_date(dates.min())} to {_date(dates.max())}"
        if dates is not None and len(events)
        else f"{len(events)} events"
    )
    facts = [
        *_design_facts(res.design),
        ("events", span),
        ("series", _join([f"{s} ({units.get(s, '?')})" for s in res.series])),
        ("pairs excluded", excluded),
    ]
    facts += [("note", n) for n in res.notes[:3]]
    # The recommended test is bmp or kolari_pynnonen, never the bootstrap: one resample
    # keeps a large study's display fast (the bootstrap's p-value is not shown).
    tests = res.tests(start, end, draws=1)
    body = [
        _heading(f"Cross-event tests, CAR {window_text((start, end))} (recommended test)"),
        _tests_table(tests, units),
        '<div class="bt-more">'
        + escape(
            f"CAAR: mean CAR in each series' unit. Per event: res.reactions({start}, {end}); "
            f"every test: res.tests({start}, {end}); text: res.summary()."
        )
        + "</div>",
    ]
    return _box("EventStudyResult", facts, body)


def event_study_text(res: EventStudyResult) -> str:
    """A few lines on an event-study result (its ``repr``): design, sizes, units."""
    d = res.design
    units = res.units
    model = d.model + (f" (market {d.market})" if d.market else "")
    start, end = _default_window(res)
    return _lines(
        [
            f"EventStudyResult: model {model}, {len(res.event_ids)} events x "
            f"{len(res.series)} series, {len(res.exclusions)} pairs excluded",
            f"  estimation window {tuple(d.estimation_window)}, "
            f"event window {tuple(d.event_window)}",
            "  units: " + _join([f"{s} {units.get(s, '?')}" for s in res.series], 6),
            f"  res.summary(), res.tests({start}, {end}), res.reactions({start}, {end})",
        ]
    )


# ------------------------------------------------------------------------ placebo
def placebo_html(p: PlaceboResult) -> str:
    """HTML of a placebo study: its settings and, per series or group, the
    recommended test's observed p-value beside its placebo p-value and size.

    Parameters
    ----------
    p : PlaceboResult
        The result of :meth:`EventStudyResult.placebo`.

    Returns
    -------
    str
        An HTML fragment (``p.table`` holds every test).
    """
    facts = [
        ("design", f"{p.design}, matched on {', '.join(p.match) or 'nothing'}"),
        ("draws", f"{p.draws} (seed {p.seed}), bootstrap resamples {p.bootstrap_draws}"),
        ("CAR window", window_text(p.window)),
        ("size level", f"{p.level:g}"),
    ]
    if p.shift_sigma:
        facts.append(("shift", f"{p.shift_sigma:g} sd on day 0"))
    facts += [("note", n) for n in p.notes[:3]]
    rec = p.table[p.table["recommended"].astype(bool)]
    rows = [
        [
            str(r["series"]),
            str(r["test"]),
            number(r["statistic"], ".3f"),
            pvalue(r["pvalue"]),
            pvalue(r["empirical_pvalue"]),
            metric(r["size"], "pct"),
            str(int(r["draws"])) if _finite(r["draws"]) else "n/a",
        ]
        for r in rec.head(MAX_ROWS).to_dict(orient="records")
    ]
    header = ["series", "test", "statistic", "p-value", "placebo p-value", "size", "draws"]
    body = [
        _heading("Recommended test: observed vs placebo"),
        table(header, rows, numeric=(2, 3, 4, 5, 6)),
        _more(len(rows), len(rec), "series", "p.table has them all"),
        '<div class="bt-more">'
        + escape(
            f"size: share of draws whose p-value is below {p.level:g} "
            "(near the level when the test is well sized)"
        )
        + "</div>",
    ]
    return _box("PlaceboResult", facts, body)


def placebo_text(p: PlaceboResult) -> str:
    """A few lines on a placebo study (its ``repr``)."""
    rec = p.table[p.table["recommended"].astype(bool)]
    lines = [
        f"PlaceboResult: {p.design} design, {p.draws} draws (seed {p.seed}), "
        f"CAR window {tuple(p.window)}, matched on {', '.join(p.match) or 'nothing'}",
    ]
    for r in rec.head(8).to_dict(orient="records"):
        lines.append(
            f"  {r['series']}: {r['test']} p-value {pvalue(r['pvalue'])}, "
            f"placebo p-value {pvalue(r['empirical_pvalue'])}, size {metric(r['size'], 'pct')}"
        )
    if len(rec) > 8:
        lines.append(f"  ... {len(rec) - 8} more series in .table")
    return _lines(lines)


# ----------------------------------------------------------------------- backtest
def _metrics_table(metrics: Mapping[str, Any]) -> str:
    keys = [k for k in METRIC_FORMATS if k in metrics]
    keys += [k for k in metrics if k not in METRIC_FORMATS]
    header = [METRIC_FORMATS.get(k, (k, ""))[0] for k in keys]
    row = [_metric_of(k, metrics[k]) for k in keys]
    return table(header, [row], numeric=tuple(range(len(keys))))


def _costs(settings: Mapping[str, Any]) -> str:
    fees, slip = settings.get("fees_bps"), settings.get("slippage_bps")

    def bp(v: Any) -> str:
        if isinstance(v, Mapping):
            return ", ".join(f"{k} {number(x, 'g')} bp" for k, x in v.items())
        return f"{number(v, 'g')} bp" if _finite(v) else "n/a"

    fill = settings.get("fill") or settings.get("execution") or "n/a"
    return f"fees {bp(fees)}, slippage {bp(slip)}; fill: {fill}"


def _legs(series: str, legs: Sequence[str]) -> str:
    return series if not legs or list(legs) == [series] else f"{series} (legs {', '.join(legs)})"


def backtest_html(bt: BacktestResult) -> str:
    """HTML of one backtest: strategy, parameters, period, costs and its metrics.

    Parameters
    ----------
    bt : BacktestResult
        The result of :func:`backtest.engine.backtest`.

    Returns
    -------
    str
        An HTML fragment. Returns, volatility, drawdown, hit rate and exposure in
        percent; Sharpe, Sortino and volatility are of the excess returns.
    """
    facts = [
        ("strategy", f"{bt.strategy} on {_legs(bt.series, bt.legs)}"),
        ("params", _params(bt.params)),
        ("period", _span(bt.returns.index)),
        ("costs", _costs(bt.settings)),
        ("trades", len(bt.trades)),
    ]
    body = [
        _heading("Metrics"),
        _metrics_table(bt.metrics),
        '<div class="bt-more">'
        + escape(
            "Series: .returns, .excess_returns, .positions, .equity; "
            "one row per trade: .trades; daily contributions: .attribution."
        )
        + "</div>",
    ]
    return _box("BacktestResult", facts, body)


def _metric_line(metrics: Mapping[str, Any], keys: Sequence[str] = _SHORT) -> str:
    return ", ".join(
        f"{METRIC_FORMATS[k][0]} {_metric_of(k, metrics.get(k))}" for k in keys if k in metrics
    )


def backtest_text(bt: BacktestResult) -> str:
    """A few lines on one backtest (its ``repr``): no series, only sizes and metrics."""
    return _lines(
        [
            f"BacktestResult: {bt.strategy} on {_legs(bt.series, bt.legs)} ({_params(bt.params)})",
            f"  {_span(bt.returns.index)}, {len(bt.trades)} trades; {_costs(bt.settings)}",
            f"  {_metric_line(bt.metrics)}",
        ]
    )


# -------------------------------------------------------------------------- sweep
def _param_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in METRIC_FORMATS]


def _top(table_: pd.DataFrame, n: int) -> pd.DataFrame:
    """The `n` rows with the highest Sharpe ratio (first on ties; NaN last)."""
    if "sharpe" not in table_.columns:
        return table_.head(n)
    return table_.sort_values("sharpe", ascending=False, na_position="last", kind="stable").head(n)


def _selection_text(sel: Mapping[str, Any]) -> str:
    parts = [
        f"PSR {number(sel.get('psr'), '.3f')}",
        f"DSR {number(sel.get('dsr'), '.3f')}",
        f"PBO {number(sel.get('pbo'), '.3f')}",
        f"trials {sel.get('trials', 'n/a')}",
    ]
    return ", ".join(parts)


def sweep_html(sw: SweepResult) -> str:
    """HTML of a sweep: its size, the selection statistics, the best row and the top five.

    Parameters
    ----------
    sw : SweepResult
        The result of :func:`backtest.engine.sweep`.

    Returns
    -------
    str
        An HTML fragment of fixed size whatever the number of combinations: the best
        combination (by Sharpe ratio) with all its metrics, then the five best rows.
    """
    s = sw.settings
    n = len(sw.table)
    size = f"{n} combinations ({s.get('method', 'grid')})"
    if s.get("skipped_invalid"):
        size += f", {s['skipped_invalid']} invalid skipped"
    facts: list[tuple[str, Any]] = [
        ("strategy", f"{sw.strategy} on {sw.series}"),
        ("size", size),
        ("selection", _selection_text(sw.selection)),
        ("costs", _costs(s)),
    ]
    if sw.folds is not None:
        facts.append(("validation folds", len(sw.folds.folds)))
    params = _param_columns(sw.table)
    body: list[str] = []
    if n:
        best = sw.table.iloc[sw.best]
        body += [
            _heading(f"Best by Sharpe: row {sw.best} ({_params({p: best[p] for p in params})})"),
            _metrics_table({k: best[k] for k in METRIC_FORMATS if k in sw.table.columns}),
        ]
        top = _top(sw.table, 5)
        shown = [k for k in _SHORT if k in sw.table.columns]
        rows = [
            [str(i), *(str(r[p]) for p in params), *(_metric_of(k, r[k]) for k in shown)]
            for i, r in zip(top.index, top.to_dict(orient="records"), strict=True)
        ]
        header = ["row", *params, *(METRIC_FORMATS[k][0] for k in shown)]
        first = 1 + len(params)
        body += [
            _heading("Top 5 by Sharpe"),
            table(header, rows, numeric=(0, *range(first, first + len(shown)))),
            _more(len(rows), n, "combinations", ".table has them all"),
        ]
    return _box("SweepResult", facts, body)


def sweep_text(sw: SweepResult) -> str:
    """A few lines on a sweep (its ``repr``): size, selection statistics, best row."""
    n = len(sw.table)
    lines = [
        f"SweepResult: {sw.strategy} on {sw.series}, {n} combinations "
        f"({sw.settings.get('method', 'grid')})",
        f"  {_selection_text(sw.selection)}",
    ]
    if n:
        best = sw.table.iloc[sw.best]
        params = {p: best[p] for p in _param_columns(sw.table)}
        lines += [
            f"  best (row {sw.best}): {_params(params)}",
            f"  {_metric_line({k: best[k] for k in _SHORT if k in sw.table.columns})}",
        ]
    return _lines(lines)


# --------------------------------------------------------------------- validation
def _fold_rows(folds: pd.DataFrame, limit: int) -> tuple[list[str], list[list[str]]]:
    params = [c for c in folds.columns if c.startswith("param_")]
    # a metric no fold has (validation folds count no trades) is left out
    shown = [k for k in _SHORT if k in folds.columns and folds[k].notna().any()]
    header = ["fold", "sample", "start", "end", "params", *(METRIC_FORMATS[k][0] for k in shown)]
    rows = []
    for r in folds.head(limit).to_dict(orient="records"):
        chosen = {p.removeprefix("param_"): r[p] for p in params if _present(r[p])}
        note = r.get("note")
        rows.append(
            [
                str(r.get("fold")),
                "in sample" if r.get("sample") == "in" else "out of sample",
                _date(r.get("start")),
                _date(r.get("end")),
                (_params(chosen) if chosen else (str(note) if _present(note) else "none")),
                *(_metric_of(k, r[k]) for k in shown),
            ]
        )
    return header, rows


def _present(value: Any) -> bool:
    if value is None:
        return False
    return not (isinstance(value, float) and math.isnan(value))


def validation_html(va: ValidationResult) -> str:
    """HTML of a validation: the method, in- and out-of-sample rows of each fold and the
    stitched out-of-sample metrics.

    Parameters
    ----------
    va : ValidationResult
        The result of :func:`backtest.engine.validate`.

    Returns
    -------
    str
        An HTML fragment (at most :data:`MAX_ROWS` fold rows).
    """
    spec = va.settings.get("validation") or {}
    method = spec.get("method", "n/a") if isinstance(spec, Mapping) else str(spec)
    n_folds = va.folds["fold"].nunique() if "fold" in va.folds.columns else 0
    facts = [
        ("strategy", f"{va.strategy} on {va.series}"),
        ("method", f"{method}, {n_folds} folds"),
        ("out of sample", _span(va.oos_returns.index)),
    ]
    empty = va.settings.get("folds_without_trades") or []
    if empty:
        facts.append(("folds without trades", ", ".join(str(f) for f in empty)))
    header, rows = _fold_rows(va.folds, MAX_ROWS)
    shown = len(header) - 5
    body = [
        _heading("Out of sample, stitched"),
        _metrics_table(va.oos_metrics),
        _heading("In sample vs out of sample"),
        table(header, rows, numeric=(0, *range(5, 5 + shown))),
        _more(len(rows), len(va.folds), "rows", ".folds has them all"),
    ]
    return _box("ValidationResult", facts, body)


def validation_text(va: ValidationResult) -> str:
    """A few lines on a validation (its ``repr``)."""
    spec = va.settings.get("validation") or {}
    method = spec.get("method", "n/a") if isinstance(spec, Mapping) else str(spec)
    n_folds = va.folds["fold"].nunique() if "fold" in va.folds.columns else 0
    lines = [
        f"ValidationResult: {va.strategy} on {va.series}, {method}, {n_folds} folds",
        f"  out of sample {_span(va.oos_returns.index)}",
        f"  {_metric_line(va.oos_metrics)}",
    ]
    if "sample" in va.folds.columns and "sharpe" in va.folds.columns:
        mean = va.folds.groupby("sample")["sharpe"].mean()
        lines.append(
            f"  mean Sharpe per fold: in sample {number(mean.get('in'), '.3f')}, "
            f"out of sample {number(mean.get('out'), '.3f')}"
        )
    return _lines(lines)


def _fold_method(spec: Mapping[str, Any]) -> str:
    method = spec.get("method", "folds") if isinstance(spec, Mapping) else str(spec)
    return str(method)


def folds_html(fc: FoldChoices) -> str:
    """HTML of a sweep's validation folds: each fold's train and test bars and the row
    of the combination picked in sample.

    Parameters
    ----------
    fc : FoldChoices
        ``SweepResult.folds``.

    Returns
    -------
    str
        An HTML fragment (at most :data:`MAX_ROWS` folds).
    """
    facts = [("method", f"{_fold_method(fc.spec)}, {len(fc.folds)} folds")]
    rows = [
        [
            str(k),
            f"{a} to {b - 1}",
            f"{c} to {d - 1}",
            str(pick) if pick >= 0 else "none (no trades in sample)",
        ]
        for k, ((a, b, c, d), pick) in enumerate(zip(fc.folds, fc.picks, strict=True))
    ][:MAX_ROWS]
    body = [
        _heading("Folds (bar positions, ends inclusive)"),
        table(["fold", "train bars", "test bars", "pick (row)"], rows, numeric=(0,)),
        _more(len(rows), len(fc.folds), "folds", ".folds has them all"),
    ]
    return _box("FoldChoices", facts, body)


def folds_text(fc: FoldChoices) -> str:
    """A few lines on a sweep's validation folds (its ``repr``)."""
    picks = ", ".join(str(p) for p in fc.picks[:12]) + (" ..." if len(fc.picks) > 12 else "")
    return _lines(
        [
            f"FoldChoices: {_fold_method(fc.spec)}, {len(fc.folds)} folds",
            f"  in-sample picks (rows): {picks}",
        ]
    )


# ---------------------------------------------------------------------------- run
def _run_tests(results: Mapping[str, Any]) -> tuple[str, Any, list[dict[str, Any]]]:
    es = results.get("event_study") or {}
    windows = es.get("windows") or []
    if not windows:
        return "", None, []
    first = windows[0]
    return "window", first.get("window"), list(first.get("tests") or [])


def _strategy_rows(strategies: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    rows = []
    for s in strategies[:MAX_ROWS]:
        m = s.get("metrics") or {}
        sweep = s.get("sweep") or {}
        sel = sweep.get("selection") or {}
        oos = (s.get("validation") or {}).get("oos_metrics") or {}
        rows.append(
            [
                f"{s.get('name')} on {s.get('series')}",
                _params(s.get("params")),
                *(_metric_of(k, m.get(k)) for k in _SHORT),
                str(sweep.get("combinations", "")) if sweep else "",
                number(sel.get("dsr"), ".3f") if sweep else "",
                number(sel.get("pbo"), ".3f") if sweep else "",
                _metric_of("sharpe", oos.get("sharpe")) if oos else "",
            ]
        )
    return rows


def run_html(run: RunResult, path: Any = None) -> str:
    """HTML of a run: what ran, the first window's recommended tests, each strategy's
    metrics (with its sweep's size, DSR and PBO and its out-of-sample Sharpe) and where
    the run is written.

    Parameters
    ----------
    run : RunResult
        The result of :func:`backtest.run`.
    path : path-like, optional
        The run directory (default: the config's ``output.dir``, else ``runs/<name>``).

    Returns
    -------
    str
        An HTML fragment built from ``run.results`` (the content of results.json).
    """
    res = run.results
    info = res.get("run") or {}
    data = res.get("data") or {}
    es = res.get("event_study") or {}
    design = es.get("design") or {}
    units = es.get("units") or {}
    where = path if path is not None else _default_dir(run)
    facts = [
        ("run", f"{info.get('name')}: {info.get('title') or ''}".rstrip(": ")),
        ("config", info.get("config_file") or "in memory"),
        ("run directory", f"{where} (backtest.pipeline.write_run(run, path) writes it)"),
        ("data", f"{_date(data.get('start'))} to {_date(data.get('end'))}"),
        ("series", _join([f"{s} ({u})" for s, u in units.items()])),
        ("events", len(res.get("events") or [])),
    ]
    if design:
        facts.append(
            (
                "event study",
                f"model {design.get('model')}, estimation "
                f"{window_text(design.get('estimation_window') or (0, 0))}, event "
                f"{window_text(design.get('event_window') or (0, 0))}",
            )
        )
    body: list[str] = []
    _, window, tests = _run_tests(res)
    rec = [t for t in tests if t.get("recommended")]
    if rec:
        rows = [
            [
                str(t["series"]),
                _unit(units, str(t["series"])),
                str(t.get("n")),
                _caar(t.get("caar"), _unit(units, str(t["series"]))),
                str(t.get("test")),
                number(t.get("statistic"), ".3f"),
                pvalue(t.get("pvalue")),
            ]
            for t in rec[:MAX_ROWS]
        ]
        body += [
            _heading(f"Cross-event tests, CAR {window_text(window)} (recommended test)"),
            table(
                ["series", "unit", "n", "CAAR", "test", "statistic", "p-value"],
                rows,
                numeric=(2, 3, 5, 6),
            ),
            _more(len(rows), len(rec), "series or groups"),
        ]
    strategies = res.get("strategies") or []
    if strategies:
        header = [
            "strategy",
            "params",
            *(METRIC_FORMATS[k][0] for k in _SHORT),
            "combinations",
            "DSR",
            "PBO",
            "OOS Sharpe",
        ]
        body += [
            _heading("Strategies"),
            table(
                header,
                _strategy_rows(strategies),
                numeric=tuple(range(2, len(header))),
                wrap=(1,),
            ),
            _more(min(len(strategies), MAX_ROWS), len(strategies), "strategies"),
        ]
    body.append(
        '<div class="bt-more">'
        + escape("The event study: run.study; everything written: run.results, run.tables.")
        + "</div>"
    )
    return _box("RunResult", facts, body)


def _default_dir(run: RunResult) -> str:
    out = run.config.output.dir
    return str(out) if out else f"runs/{run.config.name}"


def run_text(run: RunResult) -> str:
    """A few lines on a run (its ``repr``)."""
    res = run.results
    info = res.get("run") or {}
    units = (res.get("event_study") or {}).get("units") or {}
    strategies = res.get("strategies") or []
    lines = [
        f"RunResult: {info.get('name')}, {len(res.get('events') or [])} events x "
        f"{len(units)} series, {len(strategies)} strategies",
        f"  run directory {_default_dir(run)} (backtest.pipeline.write_run writes it)",
    ]
    for s in strategies[:8]:
        m = s.get("metrics") or {}
        sharpe = _metric_of("sharpe", m.get("sharpe"))
        total = _metric_of("total_return", m.get("total_return"))
        lines.append(
            f"  {s.get('name')} on {s.get('series')}: Sharpe {sharpe}, total return {total}"
        )
    if len(strategies) > 8:
        lines.append(f"  ... {len(strategies) - 8} more strategies")
    return _lines(lines)
