"""The page's plain figure dicts draw what the public plotly figures draw.

The HTML report builds its charts as plain dicts (``*_spec``) and the notebook API wraps
the same dicts in :class:`plotly.graph_objects.Figure`. Plotly's object model (the
reference here) validates and normalises every property; what it gives back from
``to_dict()`` must be, as JSON, what the page writes from the dict
(:func:`backtest.report.figures.plotly_dict`), apart from the template and font that the
page sets itself.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from backtest.report import figures, plots


def _json(figure: dict[str, Any]) -> Any:
    out = json.loads(pio.json.to_json_plotly(figure))
    for key in ("template", "font"):
        out["layout"].pop(key, None)
    return out


def _same(spec: dict[str, Any], fig: go.Figure) -> None:
    assert isinstance(fig, go.Figure)
    assert _json(figures.plotly_dict(spec)) == _json(fig.to_dict())


@pytest.fixture(scope="module")
def abnormal() -> pd.DataFrame:
    rng = np.random.default_rng(15)
    rows = []
    for e in range(6):
        for s in ("UST10Y", "USDJPY", "SPX", "JGB10Y"):
            for d in range(-5, 11):
                rows.append(
                    {
                        "event": f"ev{e}",
                        "series": s,
                        "rel_day": d,
                        "abnormal": float(rng.normal()) if rng.random() > 0.05 else np.nan,
                        "sd": 1.0,
                    }
                )
    return pd.DataFrame(rows)


UNITS = {"UST10Y": "bp", "JGB10Y": "bp", "USDJPY": "% log", "SPX": "% log"}


def test_caar_spec_is_the_caar_figure(abnormal):
    paths = plots.caar_paths(abnormal, (-5, 10), level=0.9)
    _same(plots.caar_spec(paths, UNITS, level=0.9), plots.caar_figure(paths, UNITS, level=0.9))
    one = paths[paths["series"] == "SPX"]
    _same(plots.caar_spec(one, UNITS, title="t"), plots.caar_figure(one, UNITS, title="t"))


@pytest.fixture(scope="module")
def equity() -> pd.DataFrame:
    rng = np.random.default_rng(16)
    index = pd.bdate_range("2024-01-01", periods=300, name="date")
    values = np.exp(np.cumsum(rng.normal(0, 0.01, size=(300, 3)), axis=0))
    values[:5, 2] = np.nan
    return pd.DataFrame(values, index=index, columns=["0:a[X]", "1:b[X]", "2:c[Y]"])


def test_equity_and_drawdown_specs_are_their_figures(equity):
    for frame in (equity, equity.iloc[:, :1]):
        _same(plots.equity_spec(frame), plots.equity_figure(frame))
        _same(plots.drawdown_spec(frame), plots.drawdown_figure(frame))


def test_sweep_heatmap_spec_is_the_sweep_heatmap():
    grid = pd.MultiIndex.from_product([[5, 10, 20], [50, 100], ["long", "both"]]).to_frame(
        index=False, name=["fast", "slow", "direction"]
    )
    rng = np.random.default_rng(17)
    table = grid.assign(
        sharpe=rng.normal(size=len(grid)), total_return=rng.normal(size=len(grid)), trades=7
    )
    table.loc[3, "sharpe"] = np.nan
    for x, y, metric in (("fast", "slow", "sharpe"), ("slow", "direction", "total_return")):
        _same(
            plots.sweep_heatmap_spec(table, x, y, metric), plots.sweep_heatmap(table, x, y, metric)
        )
    _same(
        plots.sweep_heatmap_spec(table, "fast", "slow", "trades"),
        plots.sweep_heatmap(table, "fast", "slow", "trades"),
    )


def test_timeline_spec_is_the_timeline_figure(equity):
    levels = equity.set_axis(["USDJPY", "UST10Y", "VIX"], axis=1)
    events = [
        {
            "event": f"e{i}",
            "date": str(day.date()),
            "timestamp": (day + pd.Timedelta(hours=14)).tz_localize("America/New_York").isoformat(),
            "timezone": "America/New_York",
            "time_given": True,
            "label": f"event <{i}>",
        }
        for i, day in enumerate(levels.index[[60, 61, 150, 200, 201, 202, 230]])
    ]
    provenance = {
        "USDJPY": {"timezone": "America/New_York", "obs_time": "12:00", "unit": "JPY per USD"},
        "UST10Y": {"timezone": "America/New_York", "obs_time": "16:00", "unit": "percent"},
    }
    for evs in (events, events[:3]):
        spec = figures.timeline_spec(evs, levels, provenance)
        timeline = figures.timeline_figure(evs, levels, provenance)
        assert spec is not None and timeline is not None
        assert spec[1] == timeline.clockless == ["VIX"]
        _same(spec[0], timeline.figure)
    assert figures.timeline_spec([], levels, provenance) is None


@pytest.mark.parametrize(
    ("rows", "cols", "titles", "h", "v", "shared", "heights"),
    [
        (1, 1, None, 0.2, 0.3, False, None),
        (1, 3, ("a", "b", "c"), 0.08, 0.18, False, None),
        (2, 3, ("a", "b", "c", "d", "e"), 0.08, 0.18, False, None),
        (3, 5, ("a", "", "c", "d", "e", "f", "g", "", "", "j", "k"), 0.045, 0.16, False, None),
        (7, 5, tuple("abcdefghijklmnopqrstuvwxyz"), 0.045, 0.5 / 7, False, None),
        (6, 1, None, 0.2, 0.018, True, (0.6, 1.0, 1.0, 1.0, 1.0, 1.0)),
        (2, 1, None, 0.2, 0.018, True, (0.6, 1.0)),
        (3, 2, ("x", "y"), 0.1, 0.05, True, (1.0, 2.0, 0.5)),
        (4, 3, None, 0.0, 0.0, True, None),
    ],
)
def test_subplot_layout_is_make_subplots_layout(rows, cols, titles, h, v, shared, heights):
    """Axes, domains (the same floats), shared-axis matching and title annotations."""
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=titles,
        horizontal_spacing=h,
        vertical_spacing=v,
        shared_xaxes=shared,
        row_heights=list(heights) if heights else None,
    )
    want = fig.layout.to_plotly_json()
    want.pop("template", None)
    got = figures.subplot_layout(rows, cols, titles, h, v, shared_xaxes=shared, row_heights=heights)
    assert json.loads(json.dumps(got)) == json.loads(json.dumps(want))
    got["xaxis"]["title"] = "changed"  # a fresh copy each call
    again = figures.subplot_layout(
        rows, cols, titles, h, v, shared_xaxes=shared, row_heights=heights
    )
    assert "title" not in again["xaxis"]


@pytest.mark.parametrize("seed", range(5))
def test_caar_event_by_day_table_is_pandas_pivot_table(seed):
    """caar_paths' events x days table: pandas' pivot_table ("first" non-NaN value)."""
    rng = np.random.default_rng(seed)
    rows = []
    for e in range(8):
        for d in range(-8, 14):
            if rng.random() < 0.15:
                continue
            value = np.nan if rng.random() < 0.1 else float(rng.normal())
            rows.append({"event": f"e{e}", "rel_day": d, "abnormal": value})
            if rng.random() < 0.05:  # a second row for the same event and day
                rows.append({"event": f"e{e}", "rel_day": d, "abnormal": float(rng.normal())})
    rows.append({"event": "empty", "rel_day": 0, "abnormal": np.nan})
    one = pd.DataFrame(rows).sample(frac=1.0, random_state=seed)
    lo, days = -5, np.arange(-5, 11)
    want = (
        one.pivot_table(
            index="event", columns="rel_day", values="abnormal", aggfunc="first", dropna=False
        )
        .reindex(columns=days)
        .reindex(list(dict.fromkeys(one["event"])))
    )
    events, got = plots._event_by_day(one, lo, len(days))
    assert events == list(want.index)
    np.testing.assert_array_equal(got, want.to_numpy(dtype=float))
