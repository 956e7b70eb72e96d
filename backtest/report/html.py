"""Self-contained HTML report of a run directory.

:func:`render_html` reads only what a run directory holds (``results.json``,
``levels.parquet``, ``tables/abnormal.parquet`` or ``.csv``) and returns one HTML file
that works offline: plotly.js is embedded once, inline, and every chart is a plotly
figure drawn from inline JSON. Nothing is fetched when the page is opened.

Sections: header (run facts, how to read), event timeline over the levels, per-event
CAR paths with confidence bands, an events x series heatmap of the headline window,
tables (reactions, cross-event tests, events, exclusions, data provenance) and
strategies.
"""

from __future__ import annotations

import copy
import functools
import html
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from backtest.eventstudy.models import n_params
from backtest.report.markdown import (
    INCOMPLETE_MARK,
    fmt_change,
    headline_notes,
    headline_table,
    stars,
)
from backtest.report.strategies import strategies_section
from backtest.report.style import PALETTE
from backtest.report.tables import escape as _e
from backtest.report.tables import table as _table
from backtest.sessions import observation_times

__all__ = ["car_paths", "render_html"]

#: Two-sided 95% normal quantile of the CAR bands.
BAND_Z = 1.96
#: Sessions shown before the first and after the last event in the timeline.
SPAN = 30
#: Events labelled on the timeline (more: hover only, labels would overlap).
EVENT_LABELS = 6
#: Panels per row in the CAR small multiples.
CAR_COLUMNS = 5
#: |t| at which the heatmap colour saturates.
T_CLIP = 4.0
#: Blue (negative t) - white - red (positive t); light enough for dark cell text.
T_COLORSCALE = [
    [0.0, "#2166ac"],
    [0.25, "#92c5de"],
    [0.5, "#f7f7f7"],
    [0.75, "#f4a582"],
    [1.0, "#b2182b"],
]
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
_CONFIG = {"displaylogo": False, "responsive": True}

_CSS = (
    f"body {{ font-family: {_FONT}; color: #1f2933; margin: 0; background: #fff; }}"
    + """
main { max-width: 1180px; margin: 0 auto; padding: 1.5rem 1.5rem 4rem; }
h1 { font-size: 1.6rem; margin: 0.2rem 0 0.6rem; }
h2 { font-size: 1.25rem; margin-top: 2.4rem; border-bottom: 1px solid #d9dee3;
     padding-bottom: 0.25rem; }
h3 { font-size: 1.05rem; margin: 1.6rem 0 0.2rem; }
p, li { line-height: 1.45; }
code { background: #f1f3f5; padding: 0 0.2em; border-radius: 3px; }
nav { font-size: 0.9rem; margin: 0.8rem 0; }
nav a { margin-right: 0.9rem; color: #1f5f99; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 1rem;
           font-size: 0.92rem; margin: 0.8rem 0; }
dl.facts dt { color: #52606d; }
dl.facts dd { margin: 0; }
.howto { background: #f5f8fb; border-left: 4px solid #1f5f99; padding: 0.6rem 0.9rem;
         font-size: 0.92rem; }
.caption { font-size: 0.85rem; color: #52606d; margin: 0.2rem 0 0.8rem; }
.label { font-size: 0.9rem; margin: 0 0 0.2rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.82rem; margin: 0.4rem 0 1rem; }
th, td { border-bottom: 1px solid #e4e7eb; padding: 0.22rem 0.55rem; text-align: left;
         vertical-align: top; white-space: nowrap; }
td.wrap { white-space: normal; min-width: 14rem; }
th { background: #f5f7fa; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.recommended td { font-weight: 600; background: #fffbea; }
tr.invalid td { color: #9aa5b1; }
details { margin: 0.4rem 0; }
summary { cursor: pointer; font-weight: 600; font-size: 0.95rem; }
footer { margin-top: 3rem; font-size: 0.8rem; color: #7b8794; }
"""
)


#: A plotly figure, as an object or as its plain dict (``{"data": [...], "layout": {...}}``).
_Figure: TypeAlias = go.Figure | dict[str, Any]


@dataclass(frozen=True)
class _Run:
    results: dict[str, Any]
    levels: pd.DataFrame
    abnormal: pd.DataFrame | None


def render_html(run_dir: Path) -> str:
    """Return the self-contained HTML report of the run directory `run_dir`.

    Parameters
    ----------
    run_dir : pathlib.Path
        A run directory written by :func:`backtest.pipeline.write_run`: it must hold
        ``results.json`` and ``levels.parquet``; ``tables/abnormal.parquet`` (or
        ``.csv``) adds the CAR paths.

    Returns
    -------
    str
        One HTML document. plotly.js is inlined once; the page makes no network
        request. The output depends only on the files (the one time stamp shown is
        ``run.created_at`` from ``results.json``), so the same run gives the same bytes.

    Raises
    ------
    FileNotFoundError
        If ``results.json`` or ``levels.parquet`` is missing.
    """
    run = _load(Path(run_dir))
    res = run.results
    title = res["run"]["title"] or res["run"]["name"]
    charts = 0

    def figure(fig: _Figure) -> str:
        nonlocal charts
        charts += 1
        return _figure_html(fig, f"fig-{charts}")

    body = [_header(res)]
    body += _timeline_section(res, run.levels, figure)
    body += _car_section(res, run.abnormal, figure)
    body += _heatmap_section(res, figure)
    body += _reactions_section(res)
    body += _tests_section(res)
    body += _events_section(res)
    body += _exclusions_section(res)
    body += _data_section(res)
    body += strategies_section(res, Path(run_dir), figure)
    body.append(
        "<footer>Generated by backtest "
        + _e(res["run"]["backtest_version"])
        + " from the files of the run directory. Charts: plotly.js (inline, offline).</footer>"
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(title)}</title>",
            f"<style>{_CSS}</style>",
            f'<script type="text/javascript">{get_plotlyjs()}</script>',
            "</head>",
            "<body>",
            "<main>",
            *body,
            "</main>",
            "</body>",
            "</html>",
            "",
        ]
    )


# Loading -----------------------------------------------------------------------------------


def _load(run_dir: Path) -> _Run:
    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    levels = pd.read_parquet(run_dir / "levels.parquet")
    tables = run_dir / "tables"
    abnormal = None
    if (tables / "abnormal.parquet").exists():
        abnormal = pd.read_parquet(tables / "abnormal.parquet")
    elif (tables / "abnormal.csv").exists():
        abnormal = pd.read_csv(tables / "abnormal.csv")
    return _Run(results, levels, abnormal)


def car_paths(abnormal: pd.DataFrame) -> pd.DataFrame:
    """Cumulative abnormal change from the event-window start, with its sd.

    Parameters
    ----------
    abnormal : pandas.DataFrame
        The long table ``tables/abnormal`` (columns ``event, series, rel_day,
        abnormal, sd``), one row per event, series and relative day.

    Returns
    -------
    pandas.DataFrame
        Columns ``event, series, rel_day, car, sd_car`` in the input's order.
        ``car`` is the sum of the available abnormal changes from the first relative
        day of the window to ``rel_day``; NaN until the first available day and after
        the last one (a window that runs beyond the series' data ends there instead
        of running on flat, which would look like a complete window).

    Notes
    -----
    ``sd_car = sqrt(sum of sd_t^2)`` over the same days: the daily forecast variances
    summed in quadrature. It equals the forecast-error sd of the CAR when the model
    estimates no parameters (``raw``, ``market_adjusted``); otherwise it omits the
    covariance of the daily forecast errors through the estimated coefficients
    (``s^2 x_i' (X'X)^{-1} x_j``, MacKinlay 1997, eq. 9) and understates it a little.
    ``tables/abnormal`` does not hold that term.

    Examples
    --------
    >>> ab = pd.DataFrame({"event": "e", "series": "s", "rel_day": [-1, 0, 1],
    ...                    "abnormal": [1.0, float("nan"), 2.0], "sd": [3.0, 3.0, 4.0]})
    >>> car_paths(ab)[["car", "sd_car"]].to_numpy().tolist()
    [[1.0, 3.0], [1.0, 3.0], [3.0, 5.0]]
    """
    frame = abnormal[["event", "series", "rel_day", "abnormal", "sd"]].copy()
    frame["event"] = frame["event"].astype(str)
    frame["series"] = frame["series"].astype(str)
    frame = frame.sort_values(["event", "series", "rel_day"], kind="stable")
    keys = [frame["event"], frame["series"]]
    avail = frame["abnormal"].notna() & frame["sd"].notna()
    car = frame["abnormal"].where(avail, 0.0).groupby(keys, sort=False).cumsum()
    var = (frame["sd"] ** 2).where(avail, 0.0).groupby(keys, sort=False).cumsum()
    count = avail.astype(int).groupby(keys, sort=False)
    done = count.cumsum()
    seen = (done > 0) & (done < count.transform("sum") + avail.astype(int))
    out = frame[["event", "series", "rel_day"]].copy()
    out["car"] = car.where(seen)
    out["sd_car"] = np.sqrt(var).where(seen)
    return out.reindex(abnormal.index).reset_index(drop=True)


# Small helpers -----------------------------------------------------------------------------


def _p(value: Any) -> str:
    """Text for plotly, which reads ``<b>``-style markup: escape ``& < >`` only."""
    return html.escape("" if value is None else str(value), quote=False)


def _num(value: Any, spec: str = ".2f") -> str:
    if value is None or not isinstance(value, int | float) or not math.isfinite(value):
        return "n/a"
    return format(value, spec)


def _pval(value: Any) -> str:
    if value is None or not isinstance(value, int | float) or not math.isfinite(value):
        return "n/a"
    return "<0.0001" if value < 0.0001 else f"{value:.4f}"


def _unit_group(unit: str) -> str:
    return "bp" if unit == "bp" else "%"


def _figure_html(fig: _Figure, div_id: str) -> str:
    """One figure as a ``<div>`` and the script that draws it (plotly.js not included)."""
    figure = fig.to_dict() if isinstance(fig, go.Figure) else fig
    figure["layout"].update(template=_template(), font={"family": _FONT, "size": 12})
    return str(
        pio.to_html(
            figure,
            full_html=False,
            include_plotlyjs=False,
            div_id=div_id,
            config=_CONFIG,
            validate=False,
        )
    )


@functools.cache
def _template() -> dict[str, Any]:
    template: dict[str, Any] = pio.templates["plotly_white"].to_plotly_json()
    return template


def _local_time(event: Mapping[str, Any]) -> str:
    """``2025-04-02 16:00 America/New_York (20:00 UTC)``, or the date if none was given."""
    if not event["time_given"]:
        return f"{event['date']} (date only, {event['timezone']})"
    ts = pd.Timestamp(event["timestamp"])
    local = ts.tz_convert(event["timezone"])
    utc = ts.tz_convert("UTC")
    return f"{local:%Y-%m-%d %H:%M} {event['timezone']} ({utc:%H:%M} UTC)"


def _event_instant(event: Mapping[str, Any]) -> pd.Timestamp:
    """The event's instant in UTC, tz-naive (plotly has no time zones)."""
    return pd.Timestamp(event["timestamp"]).tz_convert("UTC").tz_localize(None)


def _window_text(window: Sequence[int]) -> str:
    a, b = window
    return f"days {a:+d} to {b:+d}"


# Header ------------------------------------------------------------------------------------


def _header(res: Mapping[str, Any]) -> str:
    run, design = res["run"], res["event_study"]["design"]
    windows = [w["window"] for w in res["event_study"]["windows"]]
    model = design["model"]
    if design.get("market"):
        model += f" (market {design['market']})"
    if design.get("factors"):
        model += " (factors " + ", ".join(design["factors"]) + ")"
    facts = [
        ("run", run["name"]),
        ("model", model),
        ("estimation window", "days {:+d} to {:+d}".format(*design["estimation_window"])),
        ("event window", "days {:+d} to {:+d}".format(*design["event_window"])),
        (
            "CAR windows",
            "; ".join(
                _window_text(w) + (" (headline)" if i == 0 else "") for i, w in enumerate(windows)
            ),
        ),
        ("events x series", f"{design['events']} x {len(design['series'])}"),
        ("data", f"{res['data']['start']} to {res['data']['end']}"),
        ("backtest", f"{run['backtest_version']} (Python {run['python']})"),
        ("created", run["created_at"]),
    ]
    if run.get("config_file"):
        facts.append(("config", Path(run["config_file"]).name))
    nav = [
        ("timeline", "Event timeline"),
        ("car", "CAR paths"),
        ("heatmap", "Headline heatmap"),
        ("reactions", "Reactions"),
        ("tests", "Cross-event tests"),
        ("events", "Events"),
        ("exclusions", "Exclusions"),
        ("data", "Data"),
        ("strategies", "Strategies"),
    ]
    out = [f"<h1>{_e(run['title'] or run['name'])}</h1>"]
    if run.get("description"):
        out.append(f"<p>{_e(run['description'].strip())}</p>")
    out.append(
        '<dl class="facts">'
        + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts)
        + "</dl>"
    )
    out.append(
        '<p class="howto"><strong>How to read.</strong> Changes are in basis points (bp) '
        "for yields and in percent log changes (%) for FX and indices. Day 0 is the first "
        "observation of each market strictly after the event time, in that market's own "
        "session (for an event without a clock time, the market's first session on or "
        "after the event's local date); relative days count each market's own sessions. "
        "Abnormal = actual change minus the model's normal change; CAR = their sum. "
        "Marks: *** p&lt;0.01, ** p&lt;0.05, * p&lt;0.10 (per-event t test).</p>"
    )
    out.append("<nav>" + "".join(f'<a href="#{a}">{_e(t)}</a>' for a, t in nav) + "</nav>")
    return "\n".join(out)


# Timeline ----------------------------------------------------------------------------------


def _observed_at(dates: pd.DatetimeIndex, prov: Mapping[str, Any]) -> pd.DatetimeIndex | None:
    """UTC instants (tz-naive) at which the values dated `dates` were observed.

    The clock recorded in the run's provenance of the series (``results["data"]
    ["series"][name]``), turned into instants by the rule the event study aligns
    day 0 with (:func:`backtest.sessions.observation_times`); None when the
    provenance names no clock.
    """
    zone, clock = prov.get("timezone"), prov.get("obs_time")
    if not zone or not clock:
        return None
    return observation_times(dates, (zone, clock)).tz_localize(None)


def _timeline_section(
    res: Mapping[str, Any], levels: pd.DataFrame, figure: Callable[[_Figure], str]
) -> list[str]:
    events = res["events"]
    out = ['<h2 id="timeline">Event timeline</h2>']
    series = [c for c in levels.columns if levels[c].notna().any()]
    if not events or not series or levels.empty:
        return [*out, "<p>No levels to show.</p>"]
    index = pd.DatetimeIndex(levels.index)
    first = pd.Timestamp(min(e["date"] for e in events))
    last = pd.Timestamp(max(e["date"] for e in events))
    i0 = max(int(index.searchsorted(first)) - SPAN, 0)
    i1 = min(int(index.searchsorted(last, side="right")) + SPAN, len(index))
    span = levels.iloc[i0:i1]
    prov = res["data"]["series"]
    n = len(series)
    fig = make_subplots(
        rows=n + 1,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.018,
        row_heights=[0.6] + [1.0] * n,
    )
    instants = [_event_instant(e) for e in events]
    fig.add_trace(
        go.Scatter(
            x=instants,
            y=[0] * len(events),
            mode="markers+text" if len(events) <= EVENT_LABELS else "markers",
            text=[_p(e["event"]) for e in events],
            textposition=[
                "top right" if i % 2 == 0 else "bottom right" for i in range(len(events))
            ],
            marker={"symbol": "triangle-down", "size": 11, "color": "#444"},
            customdata=[[_p(e["event"]), _p(_local_time(e)), _p(e["label"])] for e in events],
            hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}<br>%{customdata[2]}"
            "<extra></extra>",
            showlegend=False,
            cliponaxis=False,
        ),
        row=1,
        col=1,
    )
    fig.update_yaxes(visible=False, range=[-1.6, 1.6], fixedrange=True, row=1, col=1)
    clockless = []
    for i, name in enumerate(series):
        col = span[name].dropna()
        p = prov.get(name, {})
        at = _observed_at(pd.DatetimeIndex(col.index), p)
        if at is None:
            clockless.append(name)
            at = pd.DatetimeIndex(col.index)
            when = [f"{d:%Y-%m-%d}" for d in col.index]
        else:
            zone, clock = p["timezone"], p["obs_time"]
            when = [f"{d:%Y-%m-%d} {clock} {zone}" for d in col.index]
        fig.add_trace(
            go.Scatter(
                x=at,
                y=col.to_numpy(),
                mode="lines",
                line={"color": PALETTE[i % len(PALETTE)], "width": 1.4},
                name=name,
                customdata=when,
                hovertemplate=f"<b>{_p(name)}</b> %{{y}} {_p(p.get('unit', ''))}"
                "<br>observed %{customdata}<extra></extra>",
                showlegend=False,
            ),
            row=i + 2,
            col=1,
        )
        fig.update_yaxes(title_text=_p(name), title_font={"size": 11}, row=i + 2, col=1)
    fig.update_xaxes(title_text="observation time (UTC)", row=n + 1, col=1)
    line = {"color": "rgba(80,80,80,0.55)", "width": 1, "dash": "dot"}
    fig.update_layout(
        shapes=[
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": at,
                "x1": at,
                "y0": 0,
                "y1": 1,
                "line": line,
            }
            for at in instants
        ],
        height=90 + 40 + 105 * n,
        margin={"l": 70, "r": 20, "t": 20, "b": 50},
        hovermode="closest",
    )
    out.append(figure(fig))
    note = (
        f"Levels from {SPAN} sessions before the first event to {SPAN} after the last, one "
        "panel per series, each point placed at its observation instant (the series' "
        "observation clock in its own time zone, converted to UTC), so day 0 is the first "
        "point to the right of an event's dotted line (date-only events sit at local "
        "midnight). Hover a triangle for the event."
    )
    if clockless:
        note += " Observation clock unknown, plotted at midnight UTC: " + ", ".join(clockless)
    out.append(f'<p class="caption">{_e(note)}</p>')
    return out


# CAR paths ---------------------------------------------------------------------------------


def _car_section(
    res: Mapping[str, Any], abnormal: pd.DataFrame | None, figure: Callable[[_Figure], str]
) -> list[str]:
    es = res["event_study"]
    design = es["design"]
    out = ['<h2 id="car">Cumulative abnormal change by event</h2>']
    if abnormal is None or abnormal.empty:
        return [*out, "<p>No <code>tables/abnormal</code> in the run directory.</p>"]
    w0, _ = design["event_window"]
    a, b = es["windows"][0]["window"]
    exact = n_params(design["model"], len(design.get("factors") or [])) == 0
    band = (
        f"Band: ±{BAND_Z} × sqrt(sum of daily forecast variances) from day {w0:+d}, the "
        "daily sd of tables/abnormal summed in quadrature. "
        + (
            f"With the {design['model']} model nothing is estimated, so the daily forecast "
            "errors are independent and this is the forecast-error sd of the CAR."
            if exact
            else f"The {design['model']} model estimates coefficients whose error makes "
            "daily forecast errors covary; that covariance is not in the run files, so the "
            "band understates the CAR's sd a little (exact sd_car per configured window: "
            "reactions table)."
        )
    )
    out.append(
        f'<p class="caption">{_e(f"CAR from day {w0:+d} (start of the event window) to each")}'
        " relative day, one panel per series, yields (bp) in the first row(s) and FX and "
        "indices (% log change) below, each panel on its own scale. Yellow: the headline "
        f"window ({_e(_window_text((a, b)))}); dotted: day 0. A path stops where the "
        f"series' data end (see Exclusions for windows not complete in the data). {_e(band)}</p>"
    )
    paths = car_paths(abnormal)
    units = {s: _unit_group(u) for s, u in es["units"].items()}
    colour = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(design["series"])}
    day0 = design["day0"]
    for ev in res["events"]:
        name = ev["event"]
        sub = paths[paths["event"] == name]
        if sub.empty:
            out.append(f"<h3>{_e(name)}</h3>")
            out.append("<p>Excluded in every series (see Exclusions).</p>")
            continue
        present = [s for s in design["series"] if (sub["series"] == s).any()]
        fig = _car_figure(sub, present, units, colour, (a, b))
        d0 = day0.get(name, {})
        days = sorted({d for d in d0.values() if d})
        out.append(f"<h3>{_e(name)}</h3>")
        out.append(
            f'<p class="label">{_e(ev["label"])}<br><span class="caption">{_e(_local_time(ev))}'
            f"; day 0: {_e(', '.join(days) if days else 'n/a')}</span></p>"
        )
        out.append(figure(fig))
    return out


def _car_figure(
    paths: pd.DataFrame,
    series: Sequence[str],
    units: Mapping[str, str],
    colour: Mapping[str, str],
    headline: tuple[int, int],
) -> dict[str, Any]:
    """Small multiples of one event's CAR paths: a row block per unit, a panel per series.

    Built as a plain figure dict (plotly's object model takes seconds for dozens of
    events); the grid comes from :func:`plotly.subplots.make_subplots`.
    """
    groups = [[s for s in series if units.get(s) == g] for g in ("bp", "%")]
    groups = [g for g in groups if g]
    ncols = min(CAR_COLUMNS, max(len(g) for g in groups))
    cells: list[str | None] = []
    for g in groups:
        rows = math.ceil(len(g) / ncols)
        cells += [*g, *[None] * (rows * ncols - len(g))]
    nrows = len(cells) // ncols
    titles = tuple("" if s is None else f"{_p(s)} ({units.get(s)})" for s in cells)
    layout = copy.deepcopy(_grid(nrows, ncols, titles))
    a, b = headline
    data: list[dict[str, Any]] = []
    shapes: list[dict[str, Any]] = []
    for i, s in enumerate(cells):
        if s is None:
            continue
        axis = "" if i == 0 else str(i + 1)
        xref, yref = f"x{axis}", f"y{axis}"
        for trace in _band(paths[paths["series"] == s], s, units.get(s, "%"), colour[s]):
            data.append({**trace, "xaxis": xref, "yaxis": yref})
        shapes.append(
            {
                "type": "rect",
                "xref": xref,
                "yref": f"{yref} domain",
                "x0": a - 0.5,
                "x1": b + 0.5,
                "y0": 0,
                "y1": 1,
                "fillcolor": "rgba(255,214,10,0.16)",
                "line": {"width": 0},
                "layer": "below",
            }
        )
        shapes.append(
            {
                "type": "line",
                "xref": xref,
                "yref": f"{yref} domain",
                "x0": 0,
                "x1": 0,
                "y0": 0,
                "y1": 1,
                "line": {"color": "#999", "width": 1, "dash": "dot"},
            }
        )
        layout[f"xaxis{axis}"].update(dtick=5, tick0=0)
        layout[f"yaxis{axis}"].update(zeroline=True, zerolinecolor="#bbb")
    for note in layout.get("annotations", []):
        note["font"] = {"size": 12}
    layout.update(
        shapes=shapes,
        height=60 + 210 * nrows,
        margin={"l": 50, "r": 20, "t": 40, "b": 30},
        showlegend=False,
        hovermode="closest",
    )
    return {"data": data, "layout": layout}


@functools.cache
def _grid(nrows: int, ncols: int, titles: tuple[str, ...]) -> dict[str, Any]:
    """Layout of a `nrows` x `ncols` grid of panels (axes ``x``, ``x2`` ... row-major)."""
    fig = make_subplots(
        rows=nrows,
        cols=ncols,
        subplot_titles=titles,
        horizontal_spacing=0.045,
        vertical_spacing=min(0.5 / nrows, 0.16),
    )
    layout: dict[str, Any] = fig.layout.to_plotly_json()
    layout.pop("template", None)
    return layout


def _band(path: pd.DataFrame, series: str, unit: str, colour: str) -> list[dict[str, Any]]:
    """Upper edge, lower edge (filled to the upper) and the CAR line of one series."""
    x = path["rel_day"].to_numpy()
    car = path["car"].to_numpy()
    sd = path["sd_car"].to_numpy()
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    edge = {"type": "scatter", "mode": "lines", "line": {"width": 0}, "hoverinfo": "skip"}
    return [
        {**edge, "x": x, "y": car + BAND_Z * sd},
        {
            **edge,
            "x": x,
            "y": car - BAND_Z * sd,
            "fill": "tonexty",
            "fillcolor": f"rgba({r},{g},{b},0.18)",
        },
        {
            "type": "scatter",
            "x": x,
            "y": car,
            "mode": "lines+markers",
            "marker": {"size": 4, "color": colour},
            "line": {"color": colour, "width": 2},
            "name": series,
            "customdata": np.column_stack([BAND_Z * sd]),
            "hovertemplate": f"<b>{_p(series)}</b> day %{{x:+d}}: CAR %{{y:+.2f}} {_p(unit)}"
            " ± %{customdata[0]:.2f}<extra></extra>",
        },
    ]


# Heatmap -----------------------------------------------------------------------------------


def _heatmap_section(res: Mapping[str, Any], figure: Callable[[_Figure], str]) -> list[str]:
    es = res["event_study"]
    window = es["windows"][0]
    header, rows = headline_table(res)
    series = header[1:]
    events = [r[0] for r in rows]
    stats = {(r["event"], r["series"]): r for r in window["reactions"]}
    z: list[list[float | None]] = []
    hover: list[list[str]] = []
    for ev in events:
        zrow: list[float | None] = []
        hrow: list[str] = []
        for s in series:
            r = stats.get((ev, s))
            t = None if r is None else r["t"]
            zrow.append(None if t is None else max(-T_CLIP, min(T_CLIP, t)))
            if r is None:
                hrow.append(f"{_p(ev)} / {_p(s)}: excluded")
            else:
                hrow.append(
                    f"<b>{_p(ev)} / {_p(s)}</b><br>CAR {_p(fmt_change(r['car'], r['unit']))}"
                    f"{_p(stars(r['pvalue']))}<br>t {_num(r['t'])}, p {_p(_pval(r['pvalue']))}"
                    f"<br>day 0 {_p(r['day0'])}"
                    + _p(_incomplete_text(r, window["window"])).replace(" (", "<br>(", 1)
                )
        z.append(zrow)
        hover.append(hrow)
    text = [[_p(c) for c in row[1:]] for row in rows]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[_p(s) for s in series],
            y=[_p(e) for e in events],
            text=text,
            texttemplate="%{text}",
            textfont={"size": 11},
            customdata=hover,
            hovertemplate="%{customdata}<extra></extra>",
            colorscale=T_COLORSCALE,
            zmin=-T_CLIP,
            zmax=T_CLIP,
            zmid=0,
            xgap=2,
            ygap=2,
            colorbar={"title": {"text": "t"}, "thickness": 12, "len": 0.9},
        )
    )
    fig.update_yaxes(autorange="reversed", automargin=True, showgrid=False)
    fig.update_xaxes(side="top", showgrid=False)
    fig.update_layout(
        height=max(240, 110 + 34 * len(events)),
        margin={"l": 20, "r": 20, "t": 50, "b": 20},
        plot_bgcolor="#e4e7eb",
    )
    a, b = window["window"]
    return [
        f'<h2 id="heatmap">Headline window: cumulative abnormal change, {_window_text((a, b))}'
        "</h2>",
        figure(fig),
        f'<p class="caption">Cell text: the CAR in its natural unit (bp for yields, % log '
        f"change for FX and indices) with significance marks. Colour: the per-event t "
        f"statistic (CAR / its forecast-error sd), clipped at ±{T_CLIP:g}, so series in "
        "different units share one scale; blue negative, red positive. Grey: excluded.</p>",
        *(f'<p class="caption">{_e(n)}</p>' for n in headline_notes(res)),
    ]


def _incomplete_text(row: Mapping[str, Any], window: Sequence[int]) -> str:
    """``† (window incomplete k/n)`` for a reaction whose window runs beyond the data.

    The mark only when a partial sum is shown (the CAR itself reads n/a otherwise);
    '' for a complete window and for results written before the field existed.
    """
    if row.get("complete", True):
        return ""
    days = f"{row.get('days_in_data')}/{window[1] - window[0] + 1}"
    kept = row["car"] is not None
    return f"{INCOMPLETE_MARK if kept else ''} (window incomplete {days})"


# Tables ------------------------------------------------------------------------------------


def _reactions_section(res: Mapping[str, Any]) -> list[str]:
    window = res["event_study"]["windows"][0]
    header = [
        "event",
        "series",
        "day 0",
        "CAR",
        "t",
        "p",
        "empirical p",
        "sigma move",
        "percentile",
        "BH p",
        "n",
    ]
    rows = [
        [
            r["event"],
            r["series"],
            r["day0"] or "n/a",
            fmt_change(r["car"], r["unit"])
            + stars(r["pvalue"])
            + _incomplete_text(r, window["window"]),
            _num(r["t"]),
            _pval(r["pvalue"]),
            _pval(r["empirical_pvalue"]),
            _num(r["sigma_move"]),
            _num(r["percentile"], ".1f"),
            _pval(r["pvalue_bh"]),
            str(r["n"]),
        ]
        for r in window["reactions"]
    ]
    return [
        f'<h2 id="reactions">Per-event reactions, {_window_text(window["window"])}</h2>',
        '<p class="caption">t = CAR / forecast-error sd; p two-sided from Student\'s t; '
        "empirical p: share of same-length estimation-residual windows at least as large; "
        "sigma move: CAR in daily estimation sds times sqrt(n); percentile of the raw change "
        "among all same-length windows of the series' history; BH p: Benjamini-Hochberg "
        "adjusted over the table. "
        f"{INCOMPLETE_MARK}/window incomplete k/n: only k of the window's n days lie within "
        "the series' data; the CAR is n/a (or, with allow_incomplete, the partial sum) and "
        "the pair is left out of the cross-event tests.</p>",
        _table(header, rows, numeric=range(3, 11)),
    ]


def _tests_section(res: Mapping[str, Any]) -> list[str]:
    out = [
        '<h2 id="tests">Cross-event tests</h2>',
        '<p class="caption">One table per CAR window. Bold (★): the test recommended for '
        "the series or group, with the reason. Grey: not valid for these events, with the "
        "note saying why.</p>",
    ]
    units = res["event_study"]["units"]
    for i, window in enumerate(res["event_study"]["windows"]):
        rows, classes = [], []
        for t in window["tests"]:
            cls = "recommended" if t["recommended"] else "" if t["valid"] else "invalid"
            unit = units.get(t["series"])
            caar = (
                fmt_change(t["caar"], unit)
                if unit is not None and t["caar"] is not None
                else _num(t["caar"], ".3g")
            )
            rows.append(
                [
                    t["series"],
                    ("★ " if t["recommended"] else "") + t["test"],
                    str(t["n"]),
                    caar,
                    _num(t["statistic"], ".3f"),
                    _pval(t["pvalue"]),
                    "yes" if t["valid"] else "no",
                    t["note"] or "",
                ]
            )
            classes.append(cls)
        head = ["series", "test", "n", "mean CAR", "statistic", "p", "valid", "note"]
        out.append(
            f"<details{' open' if i == 0 else ''}><summary>"
            f"{_e(_window_text(window['window']))}"
            f"{' (headline)' if i == 0 else ''}: {len(rows)} tests</summary>"
            + _table(head, rows, numeric=(2, 3, 4, 5), wrap=(7,), classes=classes)
            + "</details>"
        )
    return out


def _events_section(res: Mapping[str, Any]) -> list[str]:
    design = res["event_study"]["design"]
    series = design["series"]
    day0 = design["day0"]
    events = res["events"]
    listing = [[e["event"], _local_time(e), e.get("category") or "", e["label"]] for e in events]
    days = [
        [e["event"], *(day0.get(e["event"], {}).get(s) or "n/a" for s in series)] for e in events
    ]
    return [
        '<h2 id="events">Events</h2>',
        _table(["event", "time (time zone of the event)", "category", "label"], listing, wrap=(3,)),
        "<h3>Day 0 per market</h3>",
        '<p class="caption">Each market\'s day 0 is its first observation strictly after '
        "the event instant (date-only events: its first session on or after the local "
        "date), in that market's own session calendar.</p>",
        _table(["event", *series], days),
    ]


def _exclusions_section(res: Mapping[str, Any]) -> list[str]:
    es = res["event_study"]
    excl = es["design"].get("exclusions") or []
    out = ['<h2 id="exclusions">Exclusions</h2>']
    out += [f"<p>{_e(n)}</p>" for n in es["design"].get("notes") or []]
    rows = [[x["event"], x["series"], "all", x["reason"]] for x in excl]
    for window in es["windows"]:
        rows += [
            [x["event"], x["series"], _window_text(window["window"]), x["reason"]]
            for x in window.get("incomplete") or []
        ]
    if not rows:
        return [*out, "<p>None: every event was studied in every series.</p>"]
    return [*out, _table(["event", "series", "window", "reason"], rows)]


def _data_section(res: Mapping[str, Any]) -> list[str]:
    header = ["series", "source", "publisher", "observed", "first", "last", "rows", "checksum"]
    rows, titles = [], []
    for name, p in res["data"]["series"].items():
        checksum = str(p.get("checksum") or "")
        rows.append(
            [
                name,
                str(p.get("source") or ""),
                str(p.get("publisher") or ""),
                f"{p.get('obs_time') or '?'} {p.get('timezone') or ''}".strip(),
                str(p.get("first") or ""),
                str(p.get("last") or ""),
                "n/a" if p.get("rows") is None else str(p["rows"]),
                checksum[:19] + "…" if len(checksum) > 19 else checksum,
            ]
        )
        titles.append(checksum)
    return [
        '<h2 id="data">Data provenance</h2>',
        f'<p class="caption">Levels used: {_e(res["data"]["start"])} to '
        f"{_e(res['data']['end'])}. observed: the clock of each value in its market's time "
        "zone (day 0 is aligned with it); first/last/rows describe the source file; hover a "
        "row for the full checksum.</p>",
        _table(header, rows, numeric=(6,), wrap=(2,), titles=titles),
    ]
