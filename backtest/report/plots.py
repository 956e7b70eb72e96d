"""Plots from results: the ``plot`` accessors of the result objects and their charts.

Every chart is a :class:`plotly.graph_objects.Figure` in the report's look
(:mod:`.style`, :mod:`.figures`), with axes titled in their units (bp for yields, % for
prices and returns). The HTML report draws the same charts with the same functions:

* :func:`caar_paths` and :func:`caar_figure`: the pooled CAAR across events, rebased at
  day -1, with a cross-sectional confidence band (``res.plot.caar()``; the report's
  leading chart);
* :func:`backtest.report.figures.car_figure`: per-event CAR paths (``res.plot.car()``);
* :func:`reactions_figure`: per-event CARs of one window as bars (``res.plot.reactions()``);
* :func:`equity_figure`, :func:`drawdown_figure`: growth of 1 and drawdown
  (``bt.plot.equity()``, ``bt.plot.drawdown()``; the report's strategy charts);
* :func:`backtest.report.attribution.attribution_figure` (``bt.plot.attribution()``);
* :func:`sweep_heatmap`: a metric over two swept parameters (``sweep.plot.heatmap()``).

The accessors (:class:`EventStudyPlots`, :class:`BacktestPlots`, :class:`SweepPlots`)
are what the result classes' ``plot`` properties return; they read the result and call
the functions above.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from backtest.data.dates import iso_dates
from backtest.distributions import t_ppf
from backtest.errors import DataValidationError
from backtest.report.attribution import attribution_figure
from backtest.report.figures import FONT, UNIT_TITLE, car_figure, car_paths, subplot_layout
from backtest.report.style import PALETTE

if TYPE_CHECKING:
    from backtest.engine.results import BacktestResult, SweepResult
    from backtest.eventstudy.result import EventStudyResult

__all__ = [
    "CAAR_COLUMNS",
    "BacktestPlots",
    "EventStudyPlots",
    "SweepPlots",
    "caar_figure",
    "caar_paths",
    "caar_spec",
    "drawdown_figure",
    "drawdown_spec",
    "equity_figure",
    "equity_spec",
    "reactions_figure",
    "sweep_heatmap",
    "sweep_heatmap_spec",
]

#: Columns of :func:`caar_paths`.
CAAR_COLUMNS = ("series", "group", "rel_day", "n", "caar", "se", "lower", "upper")
#: Metrics kept in percent on the sweep heatmap (the table holds decimal fractions).
_PCT_METRICS = ("total_return", "cagr", "volatility", "max_drawdown", "exposure", "hit_rate")
_METRIC_TITLE = {
    "sharpe": "Sharpe ratio (annualised)",
    "sortino": "Sortino ratio (annualised)",
    "calmar": "Calmar ratio",
    "trades": "trades (count)",
    "turnover": "turnover (x capital)",
}


def _unit(unit: str | None) -> str:
    """``"bp"`` for yields, ``"%"`` for the rest (percent log changes)."""
    return "bp" if unit == "bp" else "%"


def _styled(fig: go.Figure) -> go.Figure:
    fig.update_layout(template="plotly_white", font={"family": FONT, "size": 12})
    return fig


def _rgba(colour: str, alpha: float) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


# Pooled CAAR -------------------------------------------------------------------------------


def caar_paths(
    abnormal: pd.DataFrame,
    window: tuple[int, int] = (-5, 10),
    *,
    level: float = 0.95,
    groups: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Cumulative average abnormal change across events, rebased at day -1, with a band.

    Parameters
    ----------
    abnormal : pandas.DataFrame
        The long table of :attr:`backtest.eventstudy.EventStudyResult.abnormal` (or the
        run's ``tables/abnormal``): columns ``event, series, rel_day, abnormal`` and,
        if present, ``window_complete``. It must cover every relative day from day 0
        (or from ``window[0] + 1`` when that is before day 0) to ``window[1]``.
    window : tuple of int
        First and last relative day shown.
    level : float
        Confidence level of the band, in (0, 1).
    groups : mapping of str to sequence of str, optional
        Groups of events (name -> event ids, e.g. from an events column); one path per
        group. Default: one group ``"all"`` of every event.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CAAR_COLUMNS`, one row per series, group and relative day of
        `window`. ``caar`` is in the series' unit; ``n`` is the number of events.

    Raises
    ------
    backtest.errors.DataValidationError
        `window` is not two integers with start <= end, or `level` is not in (0, 1).

    Notes
    -----
    Each event's cumulative abnormal change is rebased at day -1:
    :math:`C_i(\\tau) = \\sum_{t=0}^{\\tau} AR_{it}` for :math:`\\tau \\ge 0` and
    :math:`C_i(\\tau) = -\\sum_{t=\\tau+1}^{-1} AR_{it}` before, so :math:`C_i(-1) = 0`
    (a missing abnormal change inside the data counts 0). Events whose event window is
    not complete in the data (``window_complete`` False) are left out, so the same
    events make every day of a path, as in
    :meth:`~backtest.eventstudy.EventStudyResult.aar`. Across the :math:`N` events of a
    series and group,

    .. math::

        CAAR(\\tau) = \\frac{1}{N} \\sum_i C_i(\\tau), \\qquad
        se(\\tau) = \\frac{s(\\tau)}{\\sqrt{N}}, \\qquad
        CAAR(\\tau) \\pm t_{N-1,(1+level)/2}\\, se(\\tau),

    with :math:`s(\\tau)` the cross-sectional standard deviation of the
    :math:`C_i(\\tau)` (``ddof=1``): the band of the cross-sectional t test
    (:func:`backtest.eventstudy.stats.cross_sectional_t`), which allows for
    event-induced variance but assumes independent events. No band with one event;
    at day -1 the band is zero by construction.
    """
    a, b = _window_pair(window)
    if not (isinstance(level, float | int) and 0 < level < 1):
        raise DataValidationError(f"level must be in (0, 1), got {level!r}")
    frame = abnormal
    if "window_complete" in frame.columns:
        frame = frame[frame["window_complete"].astype(bool)]
    frame = frame[["event", "series", "rel_day", "abnormal"]].copy()
    frame["event"] = frame["event"].astype(str)
    frame["series"] = frame["series"].astype(str)
    lo, hi = min(a, 0), max(b, -1)
    days = np.arange(lo, hi + 1)
    members = (
        {"all": None}
        if groups is None
        else {str(k): {str(e) for e in v} for k, v in groups.items()}
    )
    out: list[pd.DataFrame] = []
    for name in dict.fromkeys(frame["series"]):
        one = frame[frame["series"] == name]
        events, ar = _event_by_day(one, lo, len(days))
        ar = np.where(np.isfinite(ar), ar, 0.0)
        after = np.cumsum(np.where(days >= 0, ar, 0.0), axis=1)
        # before[:, j] = minus the sum of days j..-1; C(tau) for tau < -1 is minus the
        # sum of days tau+1..-1, i.e. before[:, j + 1]
        before = -np.cumsum(np.where(days <= -1, ar, 0.0)[:, ::-1], axis=1)[:, ::-1]
        shifted = np.zeros_like(before)
        shifted[:, :-1] = before[:, 1:]
        cum = np.where(days >= 0, after, np.where(days == -1, 0.0, shifted))
        keep = (days >= a) & (days <= b)
        for gname, ids in members.items():
            rows = np.array([ids is None or e in ids for e in events], dtype=bool)
            c = cum[rows][:, keep]
            n = int(rows.sum())
            if n == 0:
                continue
            mean = c.mean(axis=0)
            se = c.std(axis=0, ddof=1) / math.sqrt(n) if n > 1 else np.full(keep.sum(), np.nan)
            quantile = float(t_ppf(0.5 + level / 2, max(n - 1, 1)))
            out.append(
                pd.DataFrame(
                    {
                        "series": name,
                        "group": gname,
                        "rel_day": days[keep],
                        "n": n,
                        "caar": mean,
                        "se": se,
                        "lower": mean - quantile * se,
                        "upper": mean + quantile * se,
                    }
                )
            )
    if not out:
        return pd.DataFrame({c: [] for c in CAAR_COLUMNS})
    return pd.concat(out, ignore_index=True)[list(CAAR_COLUMNS)]


def _event_by_day(one: pd.DataFrame, lo: int, n_days: int) -> tuple[list[str], np.ndarray]:
    """Events (in order of appearance) x relative days ``lo, lo + 1, ...``: abnormal changes.

    A cell holds the first non-NaN value of its (event, day), NaN without one: the
    ``pivot_table(index="event", columns="rel_day", aggfunc="first", dropna=False)``
    of `one` reindexed to the days and to the events in order, without pandas' groupby.
    """
    codes, uniques = pd.factorize(one["event"], use_na_sentinel=False)
    day = one["rel_day"].to_numpy(dtype=float)
    value = one["abnormal"].to_numpy(dtype=float)
    pos = day - lo
    ok = ~np.isnan(value) & (pos >= 0) & (pos < n_days) & (pos == np.floor(pos))
    cell = codes[ok] * n_days + pos[ok].astype(np.int64)
    _, at = np.unique(cell, return_index=True)  # the first row of each cell
    out = np.full(len(uniques) * n_days, np.nan)
    out[cell[at]] = value[ok][at]
    return [str(e) for e in uniques], out.reshape(len(uniques), n_days)


def _window_pair(window: Any) -> tuple[int, int]:
    try:
        a, b = window
    except (TypeError, ValueError):
        raise DataValidationError(
            f"window must be two relative days (start, end), got {window!r}"
        ) from None
    if not (isinstance(a, int | np.integer) and isinstance(b, int | np.integer) and a <= b):
        raise DataValidationError(
            f"window must be two integers with start <= end, got ({a!r}, {b!r})"
        )
    return int(a), int(b)


def caar_figure(
    paths: pd.DataFrame,
    units: Mapping[str, str],
    *,
    level: float = 0.95,
    title: str | None = None,
) -> go.Figure:
    """The pooled CAAR of :func:`caar_paths`: a panel per series, a line per group.

    Parameters
    ----------
    paths : pandas.DataFrame
        Output of :func:`caar_paths`.
    units : Mapping
        Unit of each series' changes (``"bp"`` or a percent unit); yields first.
    level : float
        The band's confidence level (for the legend and hover).
    title : str, optional
        Figure title; default says what is shown.

    Returns
    -------
    plotly.graph_objects.Figure
        Each panel: the CAAR line per group with its band, a dotted line at day 0 and
        the y axis titled ``CAAR (bp)`` or ``CAAR (% log change)``; x axis ``relative
        day (sessions)``. The figure of :func:`caar_spec`.
    """
    return _styled(go.Figure(caar_spec(paths, units, level=level, title=title)))


def caar_spec(
    paths: pd.DataFrame,
    units: Mapping[str, str],
    *,
    level: float = 0.95,
    title: str | None = None,
) -> dict[str, Any]:
    """:func:`caar_figure` as a plain figure dict (what the HTML report draws).

    The same traces and layout as the figure, without plotly's object model (which
    validates every property and takes most of a second for this chart).

    Parameters
    ----------
    paths : pandas.DataFrame
        As :func:`caar_figure`.
    units : Mapping
        As :func:`caar_figure`.
    level : float
        As :func:`caar_figure`.
    title : str, optional
        As :func:`caar_figure`.

    Returns
    -------
    dict
        ``{"data": [...], "layout": {...}}``; arrays as NumPy arrays.
    """
    series = sorted(
        dict.fromkeys(paths["series"].astype(str)), key=lambda s: _unit(units.get(s)) != "bp"
    )
    groups = list(dict.fromkeys(paths["group"].astype(str)))
    n = max(len(series), 1)
    ncols = min(3, n)
    nrows = math.ceil(n / ncols)
    titles = tuple(f"{s} ({_unit(units.get(s))})" for s in series)
    layout = subplot_layout(nrows, ncols, titles or None, 0.08, min(0.5 / nrows, 0.18))
    data: list[dict[str, Any]] = []
    shapes: list[dict[str, Any]] = []
    pct = f"{100 * level:g}%"
    by_pair = {(str(s), str(g)): p for (s, g), p in paths.groupby(["series", "group"], sort=False)}
    for i, s in enumerate(series):
        axis = "" if i == 0 else str(i + 1)
        cell = {"xaxis": f"x{axis}", "yaxis": f"y{axis}"}
        u = _unit(units.get(s))
        for k, g in enumerate(groups):
            p = by_pair.get((s, g))
            if p is None or p.empty:
                continue
            colour = PALETTE[k % len(PALETTE)]
            x = p["rel_day"].to_numpy()
            label = "all events" if g == "all" and len(groups) == 1 else g
            nev = int(p["n"].iloc[0])
            edge = {
                "hoverinfo": "skip",
                "legendgroup": g,
                "line": {"width": 0},
                "mode": "lines",
                "showlegend": False,
                "type": "scatter",
                "x": x,
            }
            data.append({**edge, "y": p["upper"].to_numpy(), **cell})
            data.append(
                {
                    **edge,
                    "fill": "tonexty",
                    "fillcolor": _rgba(colour, 0.18),
                    "y": p["lower"].to_numpy(),
                    **cell,
                }
            )
            data.append(
                {
                    "customdata": np.column_stack([p["lower"], p["upper"]]),
                    "hovertemplate": f"<b>{s}</b> {label} day %{{x:+d}}: CAAR %{{y:+.2f}} {u}"
                    f"<br>{pct} band %{{customdata[0]:+.2f}} to %{{customdata[1]:+.2f}}"
                    "<extra></extra>",
                    "legendgroup": g,
                    "line": {"color": colour, "width": 2},
                    "marker": {"color": colour, "size": 4},
                    "mode": "lines+markers",
                    "name": f"{label} (n={nev})",
                    "showlegend": i == 0,
                    "type": "scatter",
                    "x": x,
                    "y": p["caar"].to_numpy(),
                    **cell,
                }
            )
        shapes.append(
            {
                "line": {"color": "#999", "dash": "dot", "width": 1},
                "type": "line",
                "x0": 0,
                "x1": 0,
                "xref": f"x{axis}",
                "y0": 0,
                "y1": 1,
                "yref": f"y{axis} domain",
            }
        )
        layout[f"yaxis{axis}"].update(
            title={"text": "CAAR " + UNIT_TITLE[u]}, zeroline=True, zerolinecolor="#bbb"
        )
        layout[f"xaxis{axis}"].update(title={"text": "relative day (sessions)"}, dtick=5, tick0=0)
    layout.update(
        shapes=shapes,
        title={
            "text": title or f"Pooled CAAR, day -1 = 0, with {pct} cross-sectional band (t, N-1 df)"
        },
        height=110 + 280 * nrows,
        margin={"l": 60, "r": 20, "t": 80, "b": 40},
        hovermode="closest",
        legend={"orientation": "h", "y": -0.12 if nrows == 1 else -0.05},
        showlegend=len(groups) > 1,
    )
    return {"data": data, "layout": layout}


# Per-event reactions -----------------------------------------------------------------------


def reactions_figure(
    reactions: pd.DataFrame,
    window: tuple[int, int],
    *,
    series: Sequence[str] | None = None,
    z: float = 1.96,
) -> go.Figure:
    """Per-event CARs of one window as bars: a panel per unit, a bar per event and series.

    Parameters
    ----------
    reactions : pandas.DataFrame
        :meth:`backtest.eventstudy.EventStudyResult.reactions` (columns ``event,
        series, unit, car, sd_car``).
    window : tuple of int
        The CAR window the reactions are of (for the title).
    series : sequence of str, optional
        Series in their colour order; default: as they appear.
    z : float
        Error bars: ``±z x sd_car`` (1.96: 95% under the normal).

    Returns
    -------
    plotly.graph_objects.Figure
        Yields (bp) in the top panel and the percent series below, each y axis titled
        ``CAR (bp)`` or ``CAR (% log change)``; events on the x axis.
    """
    order = list(series) if series is not None else list(dict.fromkeys(reactions["series"]))
    colour = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(order)}
    unit_of = {r.series: _unit(r.unit) for r in reactions[["series", "unit"]].itertuples()}
    blocks = [u for u in ("bp", "%") if u in unit_of.values()] or ["%"]
    fig = make_subplots(rows=len(blocks), cols=1, shared_xaxes=True, vertical_spacing=0.08)
    events = list(dict.fromkeys(reactions["event"].astype(str)))
    for row, u in enumerate(blocks, start=1):
        for s in [s for s in order if unit_of.get(s) == u]:
            r = reactions[reactions["series"] == s]
            fig.add_trace(
                go.Bar(
                    x=r["event"].astype(str).to_numpy(),
                    y=r["car"].to_numpy(),
                    name=s,
                    marker={"color": colour[s]},
                    error_y={
                        "type": "data",
                        "array": (z * r["sd_car"]).to_numpy(),
                        "thickness": 1,
                        "width": 2,
                        "color": "#52606d",
                    },
                    hovertemplate=f"<b>{s}</b> %{{x}}: CAR %{{y:+.2f}} {u}<extra></extra>",
                ),
                row=row,
                col=1,
            )
        fig.update_yaxes(title_text="CAR " + UNIT_TITLE[u], zeroline=True, row=row, col=1)
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=events)
    fig.update_xaxes(title_text="event", row=len(blocks), col=1)
    a, b = window
    fig.update_layout(
        title={"text": f"CAR over days {a:+d} to {b:+d} per event (bars ±{z:g} sd)"},
        barmode="group",
        height=140 + 300 * len(blocks),
        margin={"l": 60, "r": 20, "t": 60, "b": 40},
        legend={"orientation": "h"},
    )
    return _styled(fig)


# Strategies --------------------------------------------------------------------------------


def equity_figure(equity: pd.DataFrame) -> go.Figure:
    """Growth of 1 of each column, on a log axis.

    Parameters
    ----------
    equity : pandas.DataFrame
        One column per strategy, indexed by date: the value of 1 invested at the start.

    Returns
    -------
    plotly.graph_objects.Figure
        A line per column (the :data:`~backtest.report.style.PALETTE` colour of its
        position); y axis ``growth of 1 (x capital, log scale)``. The figure of
        :func:`equity_spec`.
    """
    return _styled(go.Figure(equity_spec(equity)))


def equity_spec(equity: pd.DataFrame) -> dict[str, Any]:
    """:func:`equity_figure` as a plain figure dict (what the HTML report draws).

    Parameters
    ----------
    equity : pandas.DataFrame
        As :func:`equity_figure`.

    Returns
    -------
    dict
        ``{"data": [...], "layout": {...}}``; arrays as NumPy arrays.
    """
    data = _date_lines(equity, lambda curve: curve, "%{y:.4f}", 1.5)
    yaxis = {"type": "log", "title": {"text": "growth of 1 (x capital, log scale)"}}
    return {"data": data, "layout": _date_layout(yaxis, 380)}


def _drawdown_pct(curve: np.ndarray) -> np.ndarray:
    """``100 (V_t / max_{s<=t} V_s - 1)``; NaN values do not set a peak."""
    peak = np.fmax.accumulate(np.where(np.isfinite(curve), curve, np.nan))
    return 100 * (curve / peak - 1.0)


def _date_lines(
    equity: pd.DataFrame, values: Callable[[np.ndarray], np.ndarray], hover: str, width: float
) -> list[dict[str, Any]]:
    """One line trace per column of `equity` over its dates: ``values`` of the column,
    in the :data:`~backtest.report.style.PALETTE` colour of its position."""
    x = iso_dates(equity.index)
    return [
        {
            "hovertemplate": hover,
            "line": {"color": PALETTE[i % len(PALETTE)], "width": width},
            "mode": "lines",
            "name": str(col),
            "x": list(x),
            "y": values(equity[col].to_numpy(dtype=float)),
            "type": "scatter",
        }
        for i, col in enumerate(equity.columns)
    ]


def _date_layout(yaxis: dict[str, Any], height: int) -> dict[str, Any]:
    """The layout of the equity and drawdown charts: dates across, one legend row."""
    return {
        "yaxis": yaxis,
        "xaxis": {"title": {"text": "date"}},
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 30, "b": 40},
        "legend": {"orientation": "h"},
        "hovermode": "x unified",
    }


def drawdown_figure(equity: pd.DataFrame) -> go.Figure:
    """Drawdown of each column from its running peak, in percent.

    Parameters
    ----------
    equity : pandas.DataFrame
        One column per strategy, indexed by date: the value of 1 invested at the start.

    Returns
    -------
    plotly.graph_objects.Figure
        ``100 (V_t / max_{s<=t} V_s - 1)`` per column (NaN values do not set a peak);
        y axis ``drawdown (% from peak)``. The figure of :func:`drawdown_spec`.
    """
    return _styled(go.Figure(drawdown_spec(equity)))


def drawdown_spec(equity: pd.DataFrame) -> dict[str, Any]:
    """:func:`drawdown_figure` as a plain figure dict (what the HTML report draws).

    Parameters
    ----------
    equity : pandas.DataFrame
        As :func:`drawdown_figure`.

    Returns
    -------
    dict
        ``{"data": [...], "layout": {...}}``; arrays as NumPy arrays.
    """
    data = _date_lines(equity, _drawdown_pct, "%{y:.2f}%", 1)
    if len(data) == 1:
        data[0]["fill"] = "tozeroy"
    yaxis = {"title": {"text": "drawdown (% from peak)"}}
    return {"data": data, "layout": _date_layout(yaxis, 260)}


def sweep_heatmap(table: pd.DataFrame, x: str, y: str, metric: str = "sharpe") -> go.Figure:
    """A metric over two swept parameters: the pivot of a sweep's table.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per combination: parameters, then metrics (``SweepResult.table``).
    x, y : str
        Parameters on the x and y axes.
    metric : str
        A metric column (default ``sharpe``); decimal fractions (returns, drawdown,
        volatility, exposure) are shown in percent.

    Returns
    -------
    plotly.graph_objects.Figure
        One cell per (x, y) value. Combinations that share an (x, y) pair (other
        parameters swept too) are aggregated by their maximum, and the title says so.
        The figure of :func:`sweep_heatmap_spec`.

    Raises
    ------
    backtest.errors.DataValidationError
        `x`, `y` or `metric` is not a column of the table, or `x` equals `y`.
    """
    return _styled(go.Figure(sweep_heatmap_spec(table, x, y, metric)))


def sweep_heatmap_spec(
    table: pd.DataFrame, x: str, y: str, metric: str = "sharpe"
) -> dict[str, Any]:
    """:func:`sweep_heatmap` as a plain figure dict (what the HTML report draws).

    Parameters
    ----------
    table : pandas.DataFrame
        As :func:`sweep_heatmap`.
    x, y : str
        As :func:`sweep_heatmap`.
    metric : str
        As :func:`sweep_heatmap`.

    Returns
    -------
    dict
        ``{"data": [...], "layout": {...}}``.

    Raises
    ------
    backtest.errors.DataValidationError
        As :func:`sweep_heatmap`.
    """
    for role, name in (("x", x), ("y", y), ("metric", metric)):
        if name not in table.columns:
            raise DataValidationError(
                f"sweep heatmap: {role} {name!r} is not a column of the sweep table; "
                f"columns: {list(table.columns)}"
            )
    if x == y:
        raise DataValidationError(f"sweep heatmap: x and y must differ, got {x!r} twice")
    scale = 100.0 if metric in _PCT_METRICS else 1.0
    label = f"{metric} (%)" if scale == 100.0 else _METRIC_TITLE.get(metric, metric)
    values = table[[x, y, metric]].copy()
    values[metric] = pd.to_numeric(values[metric], errors="coerce") * scale
    pivot = values.pivot_table(index=y, columns=x, values=metric, aggfunc="max", dropna=False)
    duplicated = bool(values.duplicated(subset=[x, y]).any())
    z = [[None if not np.isfinite(v) else float(v) for v in row] for row in pivot.to_numpy()]
    trace: dict[str, Any] = {
        "colorbar": {"title": {"text": label}},
        "colorscale": _colorscale("RdBu"),
        "hovertemplate": f"{x}=%{{x}}, {y}=%{{y}}: {label} %{{z:.3f}}<extra></extra>",
        "x": [str(c) for c in pivot.columns],
        "y": [str(i) for i in pivot.index],
        "z": z,
        "type": "heatmap",
    }
    if metric in ("sharpe", "sortino", "calmar", "total_return", "cagr"):
        trace["zmid"] = 0
    title = f"{label} by {x} and {y}"
    if duplicated:
        title += " (max over the other parameters)"
    layout = {
        "xaxis": {"title": {"text": f"{x} (parameter value)"}, "type": "category"},
        "yaxis": {"title": {"text": f"{y} (parameter value)"}, "type": "category"},
        "title": {"text": title},
        "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
        "height": 420,
    }
    return {"data": [trace], "layout": layout}


def _colorscale(name: str) -> list[list[Any]]:
    """The named plotly colour scale as the list of [position, colour] plotly stores."""
    from _plotly_utils.basevalidators import ColorscaleValidator

    scale: list[list[Any]] = ColorscaleValidator("colorscale", "heatmap").validate_coerce(name)
    return [list(step) for step in scale]


# Accessors ---------------------------------------------------------------------------------


def _names(value: str | Sequence[str] | None, known: Sequence[str], what: str) -> list[str]:
    """`value` as a list of known names (all of `known` when None)."""
    if value is None:
        return list(known)
    chosen = [value] if isinstance(value, str) else [str(v) for v in value]
    unknown = [v for v in chosen if v not in known]
    if unknown:
        raise DataValidationError(f"plot: unknown {what} {unknown}; known: {list(known)}")
    return chosen


class EventStudyPlots:
    """``res.plot``: charts of an :class:`~backtest.eventstudy.EventStudyResult`.

    Parameters
    ----------
    result : EventStudyResult
        The result to draw.
    """

    def __init__(self, result: EventStudyResult) -> None:
        self._res = result

    def car(
        self,
        event: str | Sequence[str] | None = None,
        series: str | Sequence[str] | None = None,
        window: tuple[int, int] | None = None,
        *,
        highlight: tuple[int, int] | None = None,
    ) -> go.Figure:
        """CAR path of each event and series with its ``±1.96 sd`` band.

        Parameters
        ----------
        event, series : str or sequence of str, optional
            Events and series to draw (default: all).
        window : tuple of int, optional
            Relative days shown; the CAR cumulates from the first (default: the
            design's event window).
        highlight : tuple of int, optional
            A CAR window to shade.

        Returns
        -------
        plotly.graph_objects.Figure
            A panel per event and series (:func:`backtest.report.figures.car_figure`:
            the band sums the daily forecast variances, see
            :func:`backtest.report.figures.car_paths`); y axes ``CAR (bp)`` or ``CAR
            (% log change)``.
        """
        res = self._res
        events = _names(event, res.event_ids, "event")
        names = _names(series, res.series, "series")
        a, b = _window_pair(window if window is not None else res.design.event_window)
        ab = res.abnormal
        ab = ab[
            ab["event"].astype(str).isin(events)
            & ab["series"].astype(str).isin(names)
            & ab["rel_day"].between(a, b)
        ]
        if ab.empty:
            raise DataValidationError(
                f"plot.car: no abnormal changes for events {events}, series {names} in "
                f"days {a:+d} to {b:+d} (excluded pairs have none)"
            )
        paths = car_paths(ab)
        fig = go.Figure(car_figure(paths, list(res.series), res.units, highlight))
        return _styled(fig)

    def caar(
        self,
        series: str | Sequence[str] | None = None,
        group: str | None = None,
        window: tuple[int, int] = (-5, 10),
        level: float = 0.95,
    ) -> go.Figure:
        """Pooled CAAR across events, rebased at day -1, with a cross-sectional band.

        Parameters
        ----------
        series : str or sequence of str, optional
            Series to draw (default: all), a panel each.
        group : str, optional
            An events column (e.g. ``direction``, ``category``; a config's
            ``split_by``): one CAAR per value of it.
        window : tuple of int
            Relative days shown, inside the design's event window.
        level : float
            Confidence level of the band.

        Returns
        -------
        plotly.graph_objects.Figure
            :func:`caar_figure` of :func:`caar_paths` (its Notes give the formula).

        Raises
        ------
        backtest.errors.DataValidationError
            Unknown series or events column, or a window outside the event window.
        """
        res = self._res
        names = _names(series, res.series, "series")
        a, b = _window_pair(window)
        w0, w1 = res.design.event_window
        if not (w0 <= a and b <= w1):
            raise DataValidationError(
                f"plot.caar: window ({a}, {b}) must lie inside the event window ({w0}, {w1})"
            )
        groups = None
        if group is not None:
            from backtest.eventstudy.signing import event_groups

            groups = event_groups(res.events, group, where="plot.caar: group")
        ab = res.abnormal
        ab = ab[ab["series"].astype(str).isin(names)]
        paths = caar_paths(ab, (a, b), level=level, groups=groups)
        return caar_figure(paths, res.units, level=level)

    def reactions(self, window: tuple[int, int] = (0, 0), z: float = 1.96) -> go.Figure:
        """Per-event CAR of `window` as bars, per series, with ``±z sd`` error bars.

        Parameters
        ----------
        window : tuple of int
            CAR window in relative days (default day 0).
        z : float
            Error-bar half width in forecast-error sds of the CAR.

        Returns
        -------
        plotly.graph_objects.Figure
            :func:`reactions_figure` of :meth:`EventStudyResult.reactions`.
        """
        a, b = _window_pair(window)
        res = self._res
        return reactions_figure(res.reactions(a, b), (a, b), series=list(res.series), z=z)


def _label(bt: BacktestResult) -> str:
    legs = ", ".join(bt.legs) if bt.legs else bt.series
    return f"{bt.strategy} on {legs}"


class BacktestPlots:
    """``bt.plot``: charts of a :class:`~backtest.engine.BacktestResult`.

    Parameters
    ----------
    result : BacktestResult
        The result to draw.
    """

    def __init__(self, result: BacktestResult) -> None:
        self._bt = result

    def equity(self) -> go.Figure:
        """Growth of 1 (log scale): :func:`equity_figure` of ``bt.equity``."""
        return equity_figure(self._bt.equity.to_frame(_label(self._bt)))

    def drawdown(self) -> go.Figure:
        """Drawdown from the running peak in percent: :func:`drawdown_figure`."""
        return drawdown_figure(self._bt.equity.to_frame(_label(self._bt)))

    def attribution(self) -> go.Figure:
        """Stacked cumulative contributions of each leg's components, in % of capital.

        Returns
        -------
        plotly.graph_objects.Figure
            :func:`backtest.report.attribution.attribution_figure` of
            ``bt.attribution`` (the report's chart).

        Raises
        ------
        backtest.errors.DataValidationError
            The result has no attribution.
        """
        att = self._bt.attribution
        if att is None or att.empty:
            raise DataValidationError(
                f"plot.attribution: {_label(self._bt)} has no attribution table"
            )
        daily = att.copy()
        daily.columns = [
            ":".join(map(str, c)) if isinstance(c, tuple) else str(c) for c in daily.columns
        ]
        return _styled(go.Figure(attribution_figure(daily, _label(self._bt))))


class SweepPlots:
    """``sweep.plot``: charts of a :class:`~backtest.engine.SweepResult`.

    Parameters
    ----------
    result : SweepResult
        The result to draw.
    """

    def __init__(self, result: SweepResult) -> None:
        self._sweep = result

    def heatmap(self, x: str, y: str, metric: str = "sharpe") -> go.Figure:
        """`metric` over parameters `x` and `y`: :func:`sweep_heatmap` of the table."""
        return sweep_heatmap(self._sweep.table, x, y, metric)
