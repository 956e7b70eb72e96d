"""Abnormal-volatility tests (backtest/eventstudy/volatility.py, EventStudyResult methods).

References: the variance ratios are recomputed from the changes by hand and their
p-values from the regularised incomplete beta / gamma functions (the F and chi-square
laws written out); the cross-sectional statistic is scipy's one-sample t test of the
ratios against 1. Two small seeded simulations check the size (iid changes) and the
power (variance tripled on event days in GARCH data); no timing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from backtest import data
from backtest.errors import DataValidationError
from backtest.eventstudy import EventStudy
from backtest.eventstudy.volatility import null_mean, savickas, savickas_by_date, variance_ratio

NY = "America/New_York"


def events_on(dates: list[pd.Timestamp]) -> pd.DataFrame:
    """Date-only New York events on `dates` (day 0 is the date itself)."""
    return pd.DataFrame(
        {
            "event": [f"e{i}" for i in range(len(dates))],
            "timestamp": [pd.Timestamp(d).tz_localize(NY).tz_convert("UTC") for d in dates],
            "timezone": NY,
            "date": [pd.Timestamp(d) for d in dates],
            "time_given": False,
            "label": [f"e{i}" for i in range(len(dates))],
            "category": "",
        }
    )


def frame(changes: np.ndarray, start: str = "2015-01-01") -> pd.DataFrame:
    """Yield levels (percent) whose bp changes are the columns of `changes` (T, S)."""
    T, S = changes.shape
    idx = pd.bdate_range(start, periods=T + 1)
    levels = 3.0 + np.vstack([np.zeros((1, S)), np.cumsum(changes, axis=0)]) / 100.0
    lv = pd.DataFrame(levels, index=idx, columns=[f"S{j}" for j in range(S)])
    lv.attrs["backtest"] = {
        "series": {c: {"kind": "yield", "timezone": NY, "obs_time": "16:00"} for c in lv}
    }
    return lv


def f_two_sided(x: float, n: float, d: float) -> float:
    cdf = special.betainc(n / 2, d / 2, n * x / (n * x + d))
    return min(1.0, 2 * min(cdf, 1 - cdf))


def chi2_two_sided(x: float, n: float) -> float:
    cdf = special.gammainc(n / 2, x / 2)
    return min(1.0, 2 * min(cdf, 1 - cdf))


@pytest.fixture(scope="module")
def april() -> pd.DataFrame:
    return data.load(["UST10Y", "UST2Y", "SPX"], start="2023-06-01", end="2025-06-30", offline=True)


APRIL_EVENTS = pd.DataFrame(
    {
        "timestamp": [
            pd.Timestamp("2025-04-02 16:00", tz=NY),
            pd.Timestamp("2025-04-09 13:18", tz=NY),
            pd.Timestamp("2025-05-12 06:00", tz=NY),
        ],
        "label": ["liberation", "pause", "geneva"],
    }
)


def test_variance_ratio_raw_model_by_hand(april):
    res = EventStudy(model="raw").run(april, APRIL_EVENTS)
    vr = res.variance_ratios(0, 2).set_index(["event", "series"])
    changes = data.reactions(april)
    q = []
    for event in res.event_ids:
        for series in res.series:
            own = april[series].dropna().index
            pos0 = own.get_loc(res.day0.loc[event, series])
            est = changes[series].reindex(own[pos0 - 250 : pos0 - 10]).to_numpy()
            s2 = np.mean(est**2)  # raw: nothing estimated, df = L = 240
            win = changes[series].reindex(own[pos0 : pos0 + 3]).to_numpy()
            ratio = np.mean(win**2) / s2
            row = vr.loc[(event, series)]
            assert row["n"] == 3
            assert row["vr"] == pytest.approx(ratio, rel=1e-10)
            assert row["statistic"] == pytest.approx(ratio, rel=1e-10)
            assert row["distribution"] == "F(3, 240)"
            assert row["null_mean"] == pytest.approx(240 / 238, rel=1e-12)
            assert row["pvalue"] == pytest.approx(f_two_sided(ratio, 3, 240), rel=1e-8)
            q.append((series, ratio / (240 / 238)))
    table = res.volatility_tests(0, 2, groups={"ust": ["UST2Y", "UST10Y"]})
    tests = table.set_index(["series", "test"])
    assert len(table) == 2 * (len(res.series) + 1)
    for series in res.series:
        x = np.array([v for s, v in q if s == series])
        ref = stats.ttest_1samp(x, 1.0)
        for test in ("savickas", "savickas_by_date"):  # three dates: the same statistic
            row = tests.loc[(series, test)]
            assert row["n"] == 3
            assert row["mean_ratio"] == pytest.approx(x.mean(), rel=1e-12)
            assert row["statistic"] == pytest.approx(ref.statistic, rel=1e-10)
            assert row["pvalue"] == pytest.approx(ref.pvalue, rel=1e-8)
            assert bool(row["valid"])
        assert tests.loc[(series, "savickas"), "recommended"]
        assert not tests.loc[(series, "savickas_by_date"), "recommended"]
    # the group pools both yields of each event: same day-0 dates, so not valid
    x = np.array([v for s, v in q if s in ("UST2Y", "UST10Y")])
    ust = tests.loc["ust"]
    assert ust.loc["savickas", "statistic"] == pytest.approx(stats.ttest_1samp(x, 1.0).statistic)
    assert not ust.loc["savickas", "valid"] and "independent events" in ust.loc["savickas", "note"]
    # by date: the two yields' ratios averaged per event date, then across the 3 dates
    frame = pd.DataFrame(
        {
            "ratio": [v for s, v in q if s in ("UST2Y", "UST10Y")],
            "date": [
                res.day0.loc[ev, s]
                for ev in res.event_ids
                for s in res.series
                if s in ("UST2Y", "UST10Y")
            ],
        }
    )
    means = frame.groupby("date")["ratio"].mean().to_numpy()
    ref = stats.ttest_1samp(means, 1.0)
    row = ust.loc["savickas_by_date"]
    assert row["n"] == len(means) == 3
    assert row["statistic"] == pytest.approx(ref.statistic, rel=1e-10)
    assert row["pvalue"] == pytest.approx(ref.pvalue, rel=1e-8)
    assert row["valid"] and row["recommended"] and "6 pairs averaged within 3" in row["note"]


def test_variance_ratio_garch_is_chi_square_of_forecast_standardised_ars(april):
    res = EventStudy(model="garch").run(april, APRIL_EVENTS)
    ab = res.abnormal  # ARs and forecast sds: checked against arch in test_garch.py
    vr = res.variance_ratios(-1, 1).set_index(["event", "series"])
    for (event, series), grp in ab[ab["rel_day"].between(-1, 1)].groupby(
        ["event", "series"], observed=True
    ):
        z2 = (grp["abnormal"].to_numpy() / grp["sd"].to_numpy()) ** 2
        row = vr.loc[(event, series)]
        assert row["vr"] == pytest.approx(z2.mean(), rel=1e-10)
        assert row["statistic"] == pytest.approx(z2.sum(), rel=1e-10)
        assert row["distribution"] == "chi2(3)" and row["null_mean"] == 1.0
        assert row["pvalue"] == pytest.approx(chi2_two_sided(z2.sum(), 3), rel=1e-8)
    tests = res.volatility_tests(-1, 1).query("test == 'savickas'").set_index("series")
    for series in res.series:
        x = vr.xs(series, level="series")["vr"].to_numpy()
        assert tests.loc[series, "statistic"] == pytest.approx(
            stats.ttest_1samp(x, 1.0).statistic, rel=1e-10
        )


def test_functions_edge_cases():
    by_date = savickas_by_date([2.0, 4.0, 1.0, np.nan], ["a", "a", "b", "c"])
    assert by_date == savickas([3.0, 1.0])
    with pytest.raises(DataValidationError, match="one length"):
        savickas_by_date([1.0], ["a", "b"])
    assert np.isnan(savickas([1.5]).statistic)
    assert np.isnan(savickas([2.0, 2.0]).pvalue)
    with pytest.raises(DataValidationError, match="1-D"):
        savickas([[1.0]])
    with pytest.raises(DataValidationError, match=r"\(N, W\)"):
        variance_ratio([1.0, 2.0], [np.inf])
    out = variance_ratio([[np.nan, np.nan], [1.0, np.nan]], [10.0, np.inf])
    assert out.n.tolist() == [0, 1] and np.isnan(out.pvalue[0])
    assert out.statistic[1] == 1.0 and out.distribution.tolist() == ["F(0, 10)", "chi2(1)"]
    np.testing.assert_allclose(null_mean([np.inf, 12.0, 2.0]), [1.0, 1.2, np.nan])


def test_window_outside_the_event_window_is_refused(april):
    res = EventStudy(model="raw").run(april, APRIL_EVENTS)
    with pytest.raises(DataValidationError, match="event window"):
        res.variance_ratios(0, 30)


def test_null_size_near_five_percent():
    rng = np.random.default_rng(2024)
    T, S = 800, 200
    changes = rng.normal(0.0, 5.0, size=(T, S))
    lv = frame(changes)
    dates = list(lv.index[300:780:16])  # 30 events, windows apart
    res = EventStudy(model="constant_mean").run(lv, events_on(dates))
    tests = res.volatility_tests(0, 2).query("test == 'savickas'")
    assert len(tests) == S and (tests["n"] == 30).all()
    size = float((tests["pvalue"] < 0.05).mean())
    assert 0.02 <= size <= 0.09, size
    vr = res.variance_ratios(0, 4)
    assert len(vr) == 30 * S
    vr_size = float((vr["pvalue"] < 0.05).mean())
    assert 0.04 <= vr_size <= 0.06, vr_size


def test_tripled_event_variance_is_detected_with_garch():
    rng = np.random.default_rng(7)
    T, S, E = 900, 3, 20
    omega, alpha, beta = 0.5, 0.08, 0.88
    dates_pos = np.arange(300, 300 + 30 * E, 30)
    boost = np.ones(T)
    for d in dates_pos:
        boost[d : d + 3] = 3.0  # variance x3 on days 0, 1, 2
    changes = np.empty((T, S))
    for j in range(S):
        h = omega / (1 - alpha - beta)
        e = 0.0
        for t in range(T):
            h = omega + alpha * e * e + beta * h
            e = np.sqrt(h * boost[t]) * rng.standard_normal()
            changes[t, j] = e
    lv = frame(changes)
    # changes[t] is the change into index t + 1 of the levels
    dates = [lv.index[d + 1] for d in dates_pos]
    res = EventStudy(model="garch").run(lv, events_on(dates))
    assert res.exclusions.empty
    tests = res.volatility_tests(0, 2).query("test == 'savickas'").set_index("series")
    assert (tests["mean_ratio"] > 1.5).all()
    assert (tests["pvalue"] < 0.05).all(), tests
    vr = res.variance_ratios(0, 2)
    assert float((vr["pvalue"] < 0.05).mean()) > 0.25
    # the same data without the event days' boost are not flagged as often
    quiet = res.variance_ratios(5, 7)
    assert float((quiet["pvalue"] < 0.05).mean()) < 0.15
