"""Tests of backtest/report/plots.py: the ``plot`` accessors of the results.

On real snapshot data (the 16 BoJ meetings of 2024-2025, offline). Expected values:

* the pooled CAAR and its band are recomputed here with numpy from ``res.abnormal``
  (cumulative sums written out per event, ``np.std(ddof=1)``, scipy's t quantile) and
  checked against ``res.car`` (the CAR over 0..k equals the rebased path at day k);
* equity and drawdown from ``bt.returns`` compounded in the test;
* the sweep pivot by hand with a Python loop over the table's rows.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from scipy import stats as sps

from backtest import data, engine, events
from backtest.errors import DataValidationError
from backtest.eventstudy import EventStudy
from backtest.report.plots import caar_paths

from ..conftest import REPO

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SERIES = ("UST10Y", "USDJPY", "JGB10Y")


@pytest.fixture(scope="module")
def levels() -> pd.DataFrame:
    return data.load(
        [*SERIES, "FEDFUNDS_TARGET", "JPY_CALL"], start="2023-01-01", end="2025-12-31", offline=True
    )


@pytest.fixture(scope="module")
def res(levels):
    ev = events.load(REPO / "data" / "events" / "boj_2024_2025.csv")
    assert len(ev) == 16
    ev["hike"] = np.where(ev["decision"].astype(str).str.startswith("hike"), "hike", "other")
    return EventStudy(model="constant_mean", series=SERIES, event_window=(-5, 10)).run(
        levels[list(SERIES)], ev
    )


def axis_titles(fig: go.Figure) -> list[str]:
    layout = fig.to_plotly_json()["layout"]
    return [
        v["title"]["text"]
        for k, v in layout.items()
        if k.startswith(("xaxis", "yaxis"))
        and isinstance(v, dict)
        and v.get("title", {}).get("text")
    ]


def by_hand(ab: pd.DataFrame, series: str, window: tuple[int, int], level: float, ids=None):
    """CAAR and band from the long abnormal table, rebased at day -1, written out."""
    ab = ab[(ab["series"] == series) & ab["window_complete"]]
    out = {}
    paths = []
    for ev, rows in ab.groupby("event", observed=True):
        if ids is not None and ev not in ids:
            continue
        ar = dict(zip(rows["rel_day"], rows["abnormal"].fillna(0.0), strict=True))
        path = []
        for tau in range(window[0], window[1] + 1):
            if tau >= 0:
                path.append(sum(ar[t] for t in range(0, tau + 1)))
            else:
                path.append(-sum(ar[t] for t in range(tau + 1, 0)))
        paths.append(path)
    c = np.array(paths)
    n = len(c)
    out["caar"] = c.mean(axis=0)
    out["se"] = c.std(axis=0, ddof=1) / math.sqrt(n)
    q = sps.t.ppf(0.5 + level / 2, n - 1)
    out["lower"], out["upper"] = out["caar"] - q * out["se"], out["caar"] + q * out["se"]
    out["n"] = n
    return out


# Event study ---------------------------------------------------------------------------------


def test_caar_values_and_band_equal_numpy(res):
    ab = res.abnormal
    got = caar_paths(ab, (-5, 10), level=0.9)
    for s in SERIES:
        mine = got[got["series"] == s]
        assert mine["rel_day"].tolist() == list(range(-5, 11))
        ref = by_hand(ab, s, (-5, 10), 0.9)
        assert (mine["n"] == ref["n"]).all()
        for col in ("caar", "se", "lower", "upper"):
            np.testing.assert_allclose(mine[col], ref[col], rtol=1e-12, atol=1e-12)
        # rebased: zero at day -1, band of zero width there
        at = mine.set_index("rel_day").loc[-1]
        assert at["caar"] == 0.0 and at["lower"] == 0.0 and at["upper"] == 0.0
        # the path at day k is the mean CAR over 0..k of the same events: those whose
        # event window is complete in the data (the last meeting's day +10 is not)
        complete = ab[(ab["series"] == s) & ab["window_complete"]]["event"].unique()
        car = res.car(0, 4)[s].loc[list(complete)]
        assert len(car) == ref["n"] >= 15
        assert mine.set_index("rel_day").loc[4, "caar"] == pytest.approx(car.mean(), rel=1e-12)


def test_caar_figure_is_the_computation_with_units(res):
    fig = res.plot.caar(window=(-3, 5))
    assert isinstance(fig, go.Figure)
    titles = axis_titles(fig)
    assert titles.count("CAAR (bp)") == 2 and titles.count("CAAR (% log change)") == 1
    assert "relative day (sessions)" in titles
    line = next(t for t in fig.data if t.mode == "lines+markers" and t.xaxis == "x")
    upper, lower = [t for t in fig.data if t.xaxis == "x" and t.mode == "lines"]
    ref = by_hand(res.abnormal, "UST10Y", (-3, 5), 0.95)  # yields first: UST10Y's panel
    np.testing.assert_allclose(line.y, ref["caar"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(upper.y, ref["upper"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(lower.y, ref["lower"], rtol=1e-12, atol=1e-12)
    assert "day -1 = 0" in fig.layout.title.text


def test_caar_by_group_of_events(res):
    fig = res.plot.caar(series="UST10Y", group="hike", window=(-2, 3))
    lines = [t for t in fig.data if t.mode == "lines+markers"]
    hikes = res.events.loc[res.events["hike"] == "hike", "event"].tolist()
    assert 1 < len(hikes) < 16
    ref = by_hand(res.abnormal, "UST10Y", (-2, 3), 0.95, ids=set(hikes))
    (hike,) = [t for t in lines if t.name.startswith("hike")]
    assert hike.name == f"hike (n={ref['n']})"
    np.testing.assert_allclose(hike.y, ref["caar"], rtol=1e-12, atol=1e-12)
    assert len(lines) == 2


def test_car_per_event_with_units_and_band(res):
    ev = res.event_ids[3]
    fig = res.plot.car(event=ev, window=(-2, 4))
    assert isinstance(fig, go.Figure)
    titles = axis_titles(fig)
    assert "CAR (bp)" in titles and "CAR (% log change)" in titles
    assert "relative day (sessions)" in titles
    line = next(t for t in fig.data if t.name == "UST10Y")
    ab = res.abnormal
    ar = ab[(ab["event"] == ev) & (ab["series"] == "UST10Y")].set_index("rel_day")
    np.testing.assert_allclose(line.y, np.cumsum(ar.loc[-2:4, "abnormal"]), rtol=1e-12)
    # every event and one series: a panel each
    many = res.plot.car(series="USDJPY")
    assert sum(t.mode == "lines+markers" for t in many.data) == len(res.event_ids)


def test_reactions_bars(res):
    fig = res.plot.reactions((0, 1))
    titles = axis_titles(fig)
    assert "CAR (bp)" in titles and "CAR (% log change)" in titles
    bars = {t.name: t for t in fig.data}
    assert set(bars) == set(SERIES)
    car = res.car(0, 1)
    np.testing.assert_allclose(
        np.asarray(bars["JGB10Y"].y, dtype=float),
        car["JGB10Y"].reindex(bars["JGB10Y"].x).to_numpy(),
        rtol=1e-12,
    )


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda r: r.plot.caar(series="NOPE"), "unknown series ['NOPE']"),
        (lambda r: r.plot.caar(window=(-8, 3)), "inside the event window (-5, 10)"),
        (lambda r: r.plot.caar(group="nope"), "no 'nope' column"),
        (lambda r: r.plot.car(event="nope"), "unknown event ['nope']"),
        (lambda r: r.plot.caar(level=1.5), "level must be in (0, 1)"),
    ],
)
def test_bad_input_names_what_was_expected(res, call, needle):
    with pytest.raises(DataValidationError, match=None) as err:
        call(res)
    assert needle in str(err.value)


# Backtests and sweeps ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def frame(levels):
    return levels.loc["2023-06-01":"2025-06-30"]


def test_equity_drawdown_attribution(frame):
    bt = engine.backtest("ma_crossover", {"fast": 5, "slow": 40}, frame, series="USDJPY")
    growth = np.cumprod(1.0 + bt.returns.to_numpy())
    eq = bt.plot.equity()
    assert sorted(axis_titles(eq)) == ["date", "growth of 1 (x capital, log scale)"]
    np.testing.assert_allclose(eq.data[0].y, growth, rtol=1e-12)
    dd = bt.plot.drawdown()
    assert "drawdown (% from peak)" in axis_titles(dd)
    peak = np.maximum.accumulate(growth)
    np.testing.assert_allclose(dd.data[0].y, 100 * (growth / peak - 1), rtol=1e-12, atol=1e-12)
    att = bt.plot.attribution()
    assert isinstance(att, go.Figure)
    assert "% of capital" in axis_titles(att)[0]
    total = next(t for t in att.data if t.name == "total return (all but funding)")
    np.testing.assert_allclose(total.y, 100 * np.cumsum(bt.returns.to_numpy()), atol=1e-9)


def test_sweep_heatmap_pivot_max_over_other_parameters(frame):
    space = {"fast": [5, 10], "slow": [40, 80], "direction": ["long", "both"]}
    sw = engine.sweep("ma_crossover", space, frame, series="USDJPY", chunk_size=4)
    fig = sw.plot.heatmap("fast", "slow")
    (heat,) = fig.data
    assert "max over the other parameters" in fig.layout.title.text
    assert sorted(axis_titles(fig)) == ["fast (parameter value)", "slow (parameter value)"]
    best: dict[tuple[str, str], float] = {}
    for _, row in sw.table.iterrows():
        key = (str(row["fast"]), str(row["slow"]))
        best[key] = max(best.get(key, -np.inf), row["sharpe"])
    for i, y in enumerate(heat.y):
        for j, x in enumerate(heat.x):
            assert heat.z[i][j] == pytest.approx(best[(x, y)], rel=1e-12)
    cagr = sw.plot.heatmap("fast", "slow", metric="cagr")
    assert cagr.data[0].colorbar.title.text == "cagr (%)"
    with pytest.raises(DataValidationError, match="'nope' is not a column"):
        sw.plot.heatmap("fast", "nope")
