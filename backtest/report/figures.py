"""The plotly figures of the event-study report, and the HTML of one figure.

* :func:`timeline_figure`: the events over each series' levels, every point at its
  observation instant;
* :func:`car_paths` and :func:`car_figure`: one event's cumulative abnormal changes
  with their confidence bands, a panel per series;
* :func:`heatmap_figure`: events x series of the headline window, coloured by t;
* :func:`figure_html`: a figure as a ``<div>`` and the script that draws it.

The figures read the run's ``results.json`` (as a mapping), ``levels.parquet`` and
``tables/abnormal``; the page around them is :mod:`.html`'s.
"""

from __future__ import annotations

import copy
import functools
import html
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, TypeAlias

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from _plotly_utils.utils import convert_to_base64

from backtest.errors import DataValidationError
from backtest.report.formatting import incomplete_text, local_time, number, pvalue
from backtest.report.markdown import fmt_change, headline_table, stars
from backtest.report.style import PALETTE
from backtest.sessions import observation_times

__all__ = [
    "BAND_Z",
    "CAR_COLUMNS",
    "DIGITS",
    "DRAW_SCRIPT",
    "EVENT_LABELS",
    "FONT",
    "SPAN",
    "T_CLIP",
    "T_COLORSCALE",
    "UNIT_TITLE",
    "Figure",
    "Timeline",
    "car_figure",
    "car_paths",
    "figure_html",
    "heatmap_figure",
    "heatmap_spec",
    "plotly_dict",
    "subplot_layout",
    "timeline_figure",
    "timeline_spec",
]

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
#: Axis title of a change in each unit group: yields in basis points, the rest in
#: percent log changes.
UNIT_TITLE = {"bp": "(bp)", "%": "(% log change)"}
#: Font of the charts and of the page around them.
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
_CONFIG = {"displaylogo": False, "responsive": True}

#: A plotly figure, as an object or as its plain dict (``{"data": [...], "layout": {...}}``).
Figure: TypeAlias = go.Figure | dict[str, Any]


def _p(value: Any) -> str:
    """Text for plotly, which reads ``<b>``-style markup: escape ``& < >`` only."""
    return html.escape("" if value is None else str(value), quote=False)


# One figure as HTML ------------------------------------------------------------------------


def figure_html(fig: Figure, div_id: str) -> str:
    """One figure as a ``<div>`` and the script that draws it (plotly.js not included).

    Parameters
    ----------
    fig : plotly.graph_objects.Figure or dict
        The figure; a dict is ``{"data": [...], "layout": {...}}`` and its layout is
        updated in place.
    div_id : str
        The ``id`` of the ``<div>``: unique in the page, and fixed by the caller so the
        same run gives the same bytes.

    Returns
    -------
    str
        HTML that needs plotly.js and :data:`DRAW_SCRIPT` loaded before it, with the
        report's template (``plotly_white``, cut to the parts 2-D charts use) and font.
        Numbers of the traces are rounded to :data:`DIGITS` significant digits of the
        largest value of their array (the page is several times lighter; a chart
        shows far fewer). A figure inside a
        closed ``<details>`` is drawn when it is first opened (drawn hidden, plotly
        would size it to nothing).
    """
    figure = fig.to_dict() if isinstance(fig, go.Figure) else fig
    figure["layout"].update(template=_template(), font={"family": FONT, "size": 12})
    data = [_rounded(trace) for trace in figure["data"]]
    args = ", ".join(pio.json.to_json_plotly(part) for part in (data, figure["layout"], _CONFIG))
    target = json.dumps(div_id)
    return (
        f'<div id="{html.escape(div_id)}" class="plotly-graph-div" '
        'style="height:100%; width:100%;"></div>'
        f'<script type="text/javascript">btDraw({target}, function () '
        f"{{ Plotly.newPlot({target}, {args}); }});</script>"
    )


def plotly_dict(spec: dict[str, Any]) -> dict[str, Any]:
    """`spec` as :meth:`plotly.graph_objects.Figure.to_dict` would give it, in place.

    NumPy arrays become plotly.js typed-array specs (``{"dtype": ..., "bdata": ...}``),
    as ``go.Figure(spec).to_dict()`` does, without building the figure object: a page
    drawn from a spec is the page drawn from the figure. (:func:`figure_html` rounds
    plain lists of numbers, not typed arrays.)

    Parameters
    ----------
    spec : dict
        ``{"data": [...], "layout": {...}}``, changed in place.

    Returns
    -------
    dict
        `spec`.
    """
    convert_to_base64(spec)
    return spec


#: Significant digits of the numbers in the report's charts.
DIGITS = 8

#: Defines ``btDraw(id, draw)``: draw now, or when the closed ``<details>`` around the
#: figure is first opened. Goes in the page's head, after plotly.js.
DRAW_SCRIPT = """function btDraw(id, draw) {
  var div = document.getElementById(id);
  if (!div) { return; }
  var box = div.closest("details:not([open])");
  if (!box) { draw(); return; }
  box.addEventListener("toggle", function once() {
    if (box.open) { box.removeEventListener("toggle", once); btDraw(id, draw); }
  });
}"""

#: Trace keys whose numbers are rounded (strings, dates and integers are left alone).
_NUMERIC_KEYS = ("x", "y", "z", "customdata")


def _round(values: Any) -> Any:
    """`values` rounded to :data:`DIGITS` significant digits of its largest magnitude.

    Unchanged unless floats (strings, dates and integers stay as they are); NaN -> None.

    Examples
    --------
    >>> _round([25.421325181827118, -0.00012345678912, None])
    [25.421325, -0.000123, None]
    """
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Sequence | np.ndarray):
        return values
    try:
        arr = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
    except ValueError:  # ragged
        return values
    if arr.dtype.kind == "f":
        v = arr.astype(float)
    elif arr.dtype.kind == "O":
        flat = arr.ravel().tolist()
        # whether a cell is a number depends on its type alone: decide once per type
        kinds = set(map(type, flat)) - {type(None)}
        if not all(_is_number_type(t) for t in kinds) or all(
            issubclass(t, int | np.integer) for t in kinds
        ):
            return values
        v = np.array(flat, dtype=float).reshape(arr.shape)  # None -> NaN
    else:
        return values
    finite = np.isfinite(v)
    if not finite.any():
        return np.full(v.shape, None, dtype=object).tolist()
    # decimals from the largest magnitude: DIGITS significant digits at the array's scale
    top = float(np.abs(v[finite]).max())
    decimals = DIGITS - 1 - (math.floor(math.log10(top)) if top > 0 else 0)
    out = (
        np.round(v, decimals) if decimals >= 0 else np.round(v / 10.0**-decimals) * 10.0**-decimals
    )
    cells = out.astype(object)
    cells[~finite] = None
    return cells.tolist()


def _is_number_type(kind: type) -> bool:
    return issubclass(kind, float | int | np.floating | np.integer) and not issubclass(kind, bool)


def _rounded(trace: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(trace)
    for key in _NUMERIC_KEYS:
        if key in out:
            out[key] = _round(out[key])
    err = out.get("error_y")
    if isinstance(err, Mapping) and "array" in err:
        out["error_y"] = {**err, "array": _round(err["array"])}
    return out


@functools.cache
def _template() -> dict[str, Any]:
    full: dict[str, Any] = pio.templates["plotly_white"].to_plotly_json()
    drop = ("polar", "ternary", "scene", "geo", "colorscale")
    layout = {k: v for k, v in full["layout"].items() if k not in drop}
    data = {
        "bar": full["data"]["bar"],
        "heatmap": [{"type": "heatmap", "colorbar": {"outlinewidth": 0, "ticks": ""}}],
    }
    return {"data": data, "layout": layout}


# Timeline ----------------------------------------------------------------------------------


class Timeline(NamedTuple):
    """The event timeline and the series it plots without an observation clock."""

    figure: go.Figure
    #: Series whose provenance names no clock: plotted at midnight UTC.
    clockless: list[str]


def _event_instant(event: Mapping[str, Any]) -> pd.Timestamp:
    """The event's instant in UTC, tz-naive (plotly has no time zones)."""
    return pd.Timestamp(event["timestamp"]).tz_convert("UTC").tz_localize(None)


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


def timeline_figure(
    events: Sequence[Mapping[str, Any]],
    levels: pd.DataFrame,
    provenance: Mapping[str, Mapping[str, Any]],
) -> Timeline | None:
    """The events over the levels of every series, from `SPAN` sessions before the first.

    Parameters
    ----------
    events : sequence of Mapping
        ``results["events"]``: keys ``event``, ``date``, ``timestamp``, ``timezone``,
        ``time_given`` and ``label``.
    levels : pandas.DataFrame
        ``levels.parquet``: one column per series, indexed by date.
    provenance : Mapping
        ``results["data"]["series"]``: per series its ``timezone``, ``obs_time``
        (the observation clock) and ``unit``.

    Returns
    -------
    Timeline or None
        A row of event markers above one panel per series with data, each point at its
        observation instant in UTC (:func:`backtest.sessions.observation_times`), a
        dotted line at each event's instant; and the series without a clock, plotted
        at midnight UTC. None when there are no events or no levels. The figure of
        :func:`timeline_spec`.
    """
    spec = timeline_spec(events, levels, provenance)
    if spec is None:
        return None
    figure, clockless = spec
    return Timeline(go.Figure(figure), clockless)


def timeline_spec(
    events: Sequence[Mapping[str, Any]],
    levels: pd.DataFrame,
    provenance: Mapping[str, Mapping[str, Any]],
) -> tuple[dict[str, Any], list[str]] | None:
    """:func:`timeline_figure` as a plain figure dict (what the HTML report draws).

    Parameters
    ----------
    events, levels, provenance
        As :func:`timeline_figure`.

    Returns
    -------
    tuple or None
        ``({"data": [...], "layout": {...}}, clockless)``; None as
        :func:`timeline_figure`.
    """
    series = [c for c in levels.columns if levels[c].notna().any()]
    if not events or not series or levels.empty:
        return None
    index = pd.DatetimeIndex(levels.index)
    first = pd.Timestamp(min(e["date"] for e in events))
    last = pd.Timestamp(max(e["date"] for e in events))
    i0 = max(int(index.searchsorted(first)) - SPAN, 0)
    i1 = min(int(index.searchsorted(last, side="right")) + SPAN, len(index))
    span = levels.iloc[i0:i1]
    n = len(series)
    layout = subplot_layout(
        n + 1, 1, None, 0.2, 0.018, shared_xaxes=True, row_heights=(0.6, *[1.0] * n)
    )
    instants = [_event_instant(e) for e in events]
    data: list[dict[str, Any]] = [
        {
            "cliponaxis": False,
            "customdata": [[_p(e["event"]), _p(local_time(e)), _p(e["label"])] for e in events],
            "hovertemplate": "<b>%{customdata[0]}</b><br>%{customdata[1]}<br>%{customdata[2]}"
            "<extra></extra>",
            "marker": {"color": "#444", "size": 11, "symbol": "triangle-down"},
            "mode": "markers+text" if len(events) <= EVENT_LABELS else "markers",
            "showlegend": False,
            "text": [_p(e["event"]) for e in events],
            "textposition": [
                "top right" if i % 2 == 0 else "bottom right" for i in range(len(events))
            ],
            "x": instants,
            "y": [0] * len(events),
            "type": "scatter",
            "xaxis": "x",
            "yaxis": "y",
        }
    ]
    layout["yaxis"].update(visible=False, range=[-1.6, 1.6], fixedrange=True)
    clockless = []
    for i, name in enumerate(series):
        col = span[name].dropna()
        p = provenance.get(name, {})
        at = _observed_at(pd.DatetimeIndex(col.index), p)
        when = [f"{d:%Y-%m-%d}" for d in col.index]
        if at is None:
            clockless.append(name)
            at = pd.DatetimeIndex(col.index)
            clock_text = ""
        else:  # the clock and zone are the same for every point: in the template
            clock_text = f" {p['obs_time']} {p['timezone']}"
        data.append(
            {
                "customdata": when,
                "hovertemplate": f"<b>{_p(name)}</b> %{{y}} {_p(p.get('unit', ''))}"
                f"<br>observed %{{customdata}}{_p(clock_text)}<extra></extra>",
                "line": {"color": PALETTE[i % len(PALETTE)], "width": 1.4},
                "mode": "lines",
                "name": name,
                "showlegend": False,
                "x": at,
                "y": col.to_numpy(),
                "type": "scatter",
                "xaxis": f"x{i + 2}",
                "yaxis": f"y{i + 2}",
            }
        )
        level_unit = p.get("unit")
        layout[f"yaxis{i + 2}"]["title"] = {
            "text": _p(name) + (f"<br>({_p(level_unit)})" if level_unit else ""),
            "font": {"size": 11},
        }
    layout[f"xaxis{n + 1}"]["title"] = {"text": "observation time (UTC)"}
    line = {"color": "rgba(80,80,80,0.55)", "width": 1, "dash": "dot"}
    layout.update(
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
    return {"data": data, "layout": layout}, clockless


# CAR paths ---------------------------------------------------------------------------------


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


def car_figure(
    paths: pd.DataFrame,
    series: Sequence[str],
    units: Mapping[str, str],
    headline: tuple[int, int] | None,
) -> dict[str, Any]:
    """Small multiples of CAR paths: a panel per event and series, a row block per unit.

    Parameters
    ----------
    paths : pandas.DataFrame
        The rows of :func:`car_paths` of one event (the report draws one figure per
        event) or of several (a panel per event and series, events in order of
        first appearance).
    series : sequence of str
        Every series of the study, in the design's order: it fixes each series' colour
        (the same in every event) and the panel order. Series without rows in `paths`
        get no panel.
    units : Mapping
        ``results["event_study"]["units"]``: ``"bp"`` (yields, first row block) or a
        percent unit (FX and indices, below).
    headline : tuple of int or None
        First and last relative day of the headline window, shaded yellow (None: no
        shading).

    Returns
    -------
    dict
        A plain figure dict (plotly's object model takes seconds for dozens of
        events); the grid is make_subplots' (:func:`subplot_layout`). Each panel has
        the CAR line and its band, ``±BAND_Z x sd_car``, a dotted line at day 0;
        the first panel of each row has its y axis titled with the unit (``CAR (bp)``
        or ``CAR (% log change)``), the bottom row its x axis (``relative day
        (sessions)``).
    """
    colour = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(series)}
    unit = {s: "bp" if u == "bp" else "%" for s, u in units.items()}
    event_ids = paths["event"].astype(str)
    events = list(dict.fromkeys(event_ids))
    several = len(events) > 1
    # the rows of each (event, series) pair, in the order of `paths` (one pass, not one
    # boolean mask per panel)
    pairs = {
        (str(ev), s): frame
        for (ev, s), frame in paths.groupby([event_ids, paths["series"]], sort=False)
    }
    cells: list[tuple[str, str] | None] = []
    ncols = 1
    blocks: list[list[tuple[str, str]]] = []
    for ev in events:
        present = [s for s in series if (ev, s) in pairs]
        for g in ("bp", "%"):
            block = [(ev, s) for s in present if unit.get(s, "%") == g]
            if block:
                blocks.append(block)
    if blocks:
        ncols = min(CAR_COLUMNS, max(len(b) for b in blocks))
    for block in blocks:
        rows = math.ceil(len(block) / ncols)
        cells += [*block, *[None] * (rows * ncols - len(block))]
    nrows = max(len(cells) // ncols, 1)

    def title(cell: tuple[str, str] | None) -> str:
        if cell is None:
            return ""
        ev, s = cell
        return (
            f"{_p(ev)}: {_p(s)} ({unit.get(s, '%')})"
            if several
            else f"{_p(s)} ({unit.get(s, '%')})"
        )

    layout = _grid(nrows, ncols, tuple(title(c) for c in cells))
    data: list[dict[str, Any]] = []
    shapes: list[dict[str, Any]] = []
    for i, cell in enumerate(cells):
        if cell is None:
            continue
        ev, s = cell
        axis = "" if i == 0 else str(i + 1)
        xref, yref = f"x{axis}", f"y{axis}"
        for trace in _band(pairs[ev, s], s, unit.get(s, "%"), colour[s]):
            data.append({**trace, "xaxis": xref, "yaxis": yref})
        if headline is not None:
            a, b = headline
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
        if i % ncols == 0:
            layout[f"yaxis{axis}"].update(
                title={"text": "CAR " + UNIT_TITLE[unit.get(s, "%")], "font": {"size": 11}}
            )
        if i // ncols == nrows - 1 or (i + ncols < len(cells) and cells[i + ncols] is None):
            layout[f"xaxis{axis}"].update(
                title={"text": "relative day (sessions)", "font": {"size": 11}}
            )
    for note in layout.get("annotations", []):
        note["font"] = {"size": 12}
    layout.update(
        shapes=shapes,
        height=60 + 210 * nrows,
        margin={"l": 60, "r": 20, "t": 40, "b": 40},
        showlegend=False,
        hovermode="closest",
    )
    return {"data": data, "layout": layout}


def _grid(nrows: int, ncols: int, titles: tuple[str, ...]) -> dict[str, Any]:
    """Layout of a `nrows` x `ncols` grid of panels (axes ``x``, ``x2`` ... row-major)."""
    return subplot_layout(nrows, ncols, titles, 0.045, min(0.5 / nrows, 0.16))


def subplot_layout(
    nrows: int,
    ncols: int,
    titles: tuple[str, ...] | None,
    horizontal_spacing: float,
    vertical_spacing: float,
    *,
    shared_xaxes: bool = False,
    row_heights: tuple[float, ...] | None = None,
) -> dict[str, Any]:
    """The layout of :func:`plotly.subplots.make_subplots` as a fresh plain dict.

    Parameters
    ----------
    nrows, ncols : int
        The grid; axes ``x``, ``x2`` ... are numbered row-major.
    titles : tuple of str or None
        ``subplot_titles`` (None: no titles).
    horizontal_spacing, vertical_spacing : float
        As :func:`~plotly.subplots.make_subplots` (fractions of the figure).
    shared_xaxes : bool
        As :func:`~plotly.subplots.make_subplots`.
    row_heights : tuple of float, optional
        Relative row heights, top first (default equal).

    Returns
    -------
    dict
        Axes (domains, anchors) and title annotations, without a template; the caller
        may change it (each call returns its own copy of one cached layout per grid).
    """
    return copy.deepcopy(
        _subplot_layout(
            nrows, ncols, titles, horizontal_spacing, vertical_spacing, shared_xaxes, row_heights
        )
    )


@functools.cache
def _subplot_layout(
    nrows: int,
    ncols: int,
    titles: tuple[str, ...] | None,
    horizontal_spacing: float,
    vertical_spacing: float,
    shared_xaxes: bool,
    row_heights: tuple[float, ...] | None,
) -> dict[str, Any]:
    """make_subplots' grid (plotly 6/7, ``start_cell="top-left"``, one x/y pair per cell).

    The same arithmetic in the same order as :func:`plotly.subplots.make_subplots`, so
    the same floats (``tests/report/test_specs.py`` compares the two), without building
    plotly's figure objects (a quarter of a second for the first figure of a process).
    """
    if not 0 <= horizontal_spacing <= 1 or not 0 <= vertical_spacing <= 1:
        raise DataValidationError(
            f"subplot spacings must be between 0 and 1, got {horizontal_spacing}, "
            f"{vertical_spacing}"
        )
    widths = [(1.0 - horizontal_spacing * (ncols - 1)) / ncols] * ncols
    if row_heights is None:
        heights = [(1.0 - vertical_spacing * (nrows - 1)) / nrows] * nrows
    else:
        total = float(sum(row_heights))
        heights = [(1.0 - vertical_spacing * (nrows - 1)) * (h / total) for h in row_heights]
        heights = list(reversed(heights))  # plotly lists heights top first, builds bottom up
    row_seq = range(nrows)[::-1]
    grid = [
        [
            (
                (sum(widths[:c]) + c * horizontal_spacing),
                (sum(heights[:r]) + r * vertical_spacing),
            )
            for c in range(ncols)
        ]
        for r in row_seq
    ]
    layout: dict[str, Any] = {}
    domains: list[list[float]] = []
    for r in range(nrows):
        for c in range(ncols):
            x_s = grid[r][c][0] + 0.0
            x_e = grid[r][c][0] + widths[c] - 0.0
            y_s = _clip_unit(grid[r][c][1] + 0.0)
            y_e = _clip_unit(grid[r][c][1] + heights[-1 - r] - 0.0)
            k = r * ncols + c + 1
            n = "" if k == 1 else str(k)
            layout[f"xaxis{n}"] = {"anchor": f"y{n}", "domain": [x_s, x_e]}
            layout[f"yaxis{n}"] = {"anchor": f"x{n}", "domain": [y_s, y_e]}
            domains += [[x_s, x_e], [y_s, y_e]]
    if shared_xaxes:  # each column's axes match its bottom one, which alone shows labels
        for c in range(ncols):
            bottom = (nrows - 1) * ncols + c + 1
            for r in range(nrows - 2, -1, -1):
                k = r * ncols + c + 1
                axis = layout[f"xaxis{'' if k == 1 else k}"]
                axis["matches"] = f"x{'' if bottom == 1 else bottom}"
                axis["showticklabels"] = False
    font = {"size": 16}
    annotations = [
        {
            "font": font,
            "showarrow": False,
            "text": text,
            "x": sum(domains[2 * i]) / 2.0,
            "xanchor": "center",
            "xref": "paper",
            "y": domains[2 * i + 1][1],
            "yanchor": "bottom",
            "yref": "paper",
        }
        for i, text in enumerate(titles or ())
        if text and 2 * i < len(domains)
    ]
    if annotations:  # plotly keeps no empty list
        layout["annotations"] = annotations
    return layout


def _clip_unit(v: float) -> float:
    """make_subplots' rounding of a domain end within 0.01 outside [0, 1]."""
    if -0.01 < v < 0.0:
        return 0.0
    if 1.0 < v < 1.01:
        return 1.0
    return v


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


def heatmap_figure(results: Mapping[str, Any]) -> go.Figure:
    """Events x series of the headline (first) CAR window, coloured by the clipped t.

    Parameters
    ----------
    results : Mapping
        The run's ``results.json``.

    Returns
    -------
    plotly.graph_objects.Figure
        One cell per event and series: text, the CAR in its unit with significance
        marks (:func:`backtest.report.markdown.headline_table`); colour, the per-event
        t clipped at ``±T_CLIP``; hover, CAR, t, p and day 0. Excluded pairs are
        empty (grey). The figure of :func:`heatmap_spec`.
    """
    return go.Figure(heatmap_spec(results))


def heatmap_spec(results: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`heatmap_figure` as a plain figure dict (what the HTML report draws).

    Parameters
    ----------
    results : Mapping
        The run's ``results.json``.

    Returns
    -------
    dict
        ``{"data": [...], "layout": {...}}``.
    """
    window = results["event_study"]["windows"][0]
    header, rows = headline_table(results)
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
                    f"{_p(stars(r['pvalue']))}<br>t {number(r['t'])}, p {_p(pvalue(r['pvalue']))}"
                    f"<br>day 0 {_p(r['day0'])}"
                    + _p(incomplete_text(r, window["window"])).replace(" (", "<br>(", 1)
                )
        z.append(zrow)
        hover.append(hrow)
    text = [[_p(c) for c in row[1:]] for row in rows]
    trace = {
        "colorbar": {"len": 0.9, "thickness": 12, "title": {"text": "t"}},
        "colorscale": [list(step) for step in T_COLORSCALE],
        "customdata": hover,
        "hovertemplate": "%{customdata}<extra></extra>",
        "text": text,
        "textfont": {"size": 11},
        "texttemplate": "%{text}",
        "x": [_p(s) for s in series],
        "xgap": 2,
        "y": [_p(e) for e in events],
        "ygap": 2,
        "z": z,
        "zmax": T_CLIP,
        "zmid": 0,
        "zmin": -T_CLIP,
        "type": "heatmap",
    }
    layout = {
        "yaxis": {"autorange": "reversed", "automargin": True, "showgrid": False},
        "xaxis": {"side": "top", "showgrid": False},
        "height": max(240, 110 + 34 * len(events)),
        "margin": {"l": 20, "r": 20, "t": 50, "b": 20},
        "plot_bgcolor": "#e4e7eb",
    }
    return {"data": [trace], "layout": layout}
