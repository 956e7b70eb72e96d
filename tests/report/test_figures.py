"""Tests of backtest/report/figures.py on tiny hand-made inputs.

Expected values are hand-computed here (source 1 of STYLE.md); the figures of a full
run are checked through the page in test_html.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backtest.report.figures import car_figure, car_paths, timeline_figure


def one_event_paths() -> pd.DataFrame:
    ab = pd.DataFrame(
        {
            "event": "e",
            "series": ["y10", "y10", "fx", "fx"],
            "rel_day": [0, 1, 0, 1],
            "abnormal": [1.0, 2.0, -0.5, 0.5],
            "sd": [3.0, 4.0, 1.0, 1.0],
        }
    )
    return car_paths(ab)


def test_car_figure_panels_units_colours_and_band():
    # design order fx, y2, y10: y2 has no rows, so no panel; bp block (y10) first
    units = {"fx": "%", "y2": "bp", "y10": "bp"}
    fig = car_figure(one_event_paths(), ["fx", "y2", "y10"], units, (0, 1))
    titles = [a["text"] for a in fig["layout"]["annotations"]]
    assert titles == ["y10 (bp)", "fx (%)"]  # one column, a row per unit block
    lines = [t for t in fig["data"] if t.get("mode") == "lines+markers"]
    assert [t["name"] for t in lines] == ["y10", "fx"]
    # colour by position in the design: fx 1st (#1f77b4), y10 3rd (#2ca02c) of the D3 palette
    assert [t["line"]["color"] for t in lines] == ["#2ca02c", "#1f77b4"]
    # y10: CAR 1, 3; sd_car 3, sqrt(9 + 16) = 5; upper edge CAR + 1.96 sd
    upper = fig["data"][0]
    np.testing.assert_allclose(upper["y"], [1 + 1.96 * 3, 3 + 1.96 * 5])
    assert [t["xaxis"] for t in lines] == ["x", "x2"]
    # headline window 0..1 shaded from -0.5 to 1.5 in each panel
    rects = [s for s in fig["layout"]["shapes"] if s["type"] == "rect"]
    assert [(r["x0"], r["x1"]) for r in rects] == [(-0.5, 1.5), (-0.5, 1.5)]


EVENT = {
    "event": "e",
    "date": "2025-04-02",
    "timestamp": "2025-04-02T16:00:00-04:00",
    "timezone": "America/New_York",
    "time_given": True,
    "label": "tariffs",
}


@pytest.mark.parametrize(
    ("events", "levels"),
    [
        ([], pd.DataFrame({"a": [1.0]}, index=pd.to_datetime(["2025-04-02"]))),
        ([EVENT], pd.DataFrame({"a": [np.nan]}, index=pd.to_datetime(["2025-04-02"]))),
    ],
)
def test_timeline_without_events_or_levels_is_none(events, levels):
    assert timeline_figure(events, levels, {}) is None


def test_timeline_names_the_series_without_a_clock():
    levels = pd.DataFrame(
        {"spx": [1.0, 2.0], "mystery": [3.0, 4.0]},
        index=pd.to_datetime(["2025-04-02", "2025-04-03"]),
    )
    prov = {"spx": {"timezone": "America/New_York", "obs_time": "16:00", "unit": "index"}}
    timeline = timeline_figure([EVENT], levels, prov)
    assert timeline is not None
    assert timeline.clockless == ["mystery"]
    spx = timeline.figure.data[1]
    # 16:00 New York in April (EDT, UTC-4) is 20:00 UTC
    assert list(pd.DatetimeIndex(spx.x)) == list(
        pd.to_datetime(["2025-04-02 20:00", "2025-04-03 20:00"])
    )
    assert list(pd.DatetimeIndex(timeline.figure.data[2].x)) == list(levels.index)
