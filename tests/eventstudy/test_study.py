"""Tests of backtest/eventstudy/study.py and result.py on the real snapshot and small panels."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest import data
from backtest.errors import DataValidationError
from backtest.eventstudy import EventStudy

from ..builders import events

NY = "America/New_York"


@pytest.fixture(scope="module")
def april() -> pd.DataFrame:
    return data.load(
        ["UST10Y", "USDJPY", "SPX", "NKY", "VIX", "JGB10Y"],
        start="2023-06-01",
        end="2025-06-30",
        offline=True,
    )


LIBERATION = ("2025-04-02", "16:00", NY, "liberation_day")
PAUSE = ("2025-04-09", "13:18", NY, "pause_90d")
KATO = ("2025-05-02", None, "Asia/Tokyo", "kato_treasuries")


# Acceptance --------------------------------------------------------------------------------


def test_april_2_raw_car_equals_sum_of_real_bp_changes(april):
    res = EventStudy(model="raw").run(april, events(LIBERATION))
    car = res.car(0, 6).loc["liberation_day", "UST10Y"]
    # FRED DGS10 2025-04-02..04-11: 4.20, 4.06, 4.01, 4.15, 4.26, 4.34, 4.40, 4.48
    # (data/snapshot/SOURCES.md). Daily bp changes from 04-03 to 04-11, by hand:
    hand = [-14, -5, 14, 11, 8, 6, 8]
    assert car == pytest.approx(sum(hand), abs=1e-9)  # 28 bp
    assert res.day0.loc["liberation_day", "UST10Y"] == pd.Timestamp("2025-04-03")


def test_day0_dates_quoted_in_the_issue(april):
    res = EventStudy(model="raw").run(april, events(LIBERATION, PAUSE))
    d0 = res.day0
    ts = pd.Timestamp
    # 16:00 New York, after the cash close: next session for New York and Tokyo.
    assert d0.loc["liberation_day", "SPX"] == ts("2025-04-03")
    assert d0.loc["liberation_day", "NKY"] == ts("2025-04-03")
    # 13:18 New York: same day for the S&P 500 close (16:00); after FRED's noon USD/JPY
    # fix and after Tokyo's close, so the next observation for those.
    assert d0.loc["pause_90d", "SPX"] == ts("2025-04-09")
    assert d0.loc["pause_90d", "USDJPY"] == ts("2025-04-10")
    assert d0.loc["pause_90d", "NKY"] == ts("2025-04-10")
    # MoF JGB yields at the Tokyo close, FRED H.15 at ~15:30 New York.
    assert d0.loc["pause_90d", "JGB10Y"] == ts("2025-04-10")
    assert d0.loc["pause_90d", "UST10Y"] == ts("2025-04-09")


def test_date_only_tokyo_event_across_golden_week(april):
    res = EventStudy(model="raw", event_window=(-2, 3)).run(april, events(KATO))
    assert res.day0.loc["kato_treasuries", "NKY"] == pd.Timestamp("2025-05-02")
    assert res.day0.loc["kato_treasuries", "UST10Y"] == pd.Timestamp("2025-05-02")
    ab = res.abnormal.set_index(["series", "rel_day"])
    # Relative days count Tokyo's own sessions: 05-05/06 were holidays.
    assert ab.loc[("NKY", 1), "date"] == pd.Timestamp("2025-05-07")
    assert ab.loc[("UST10Y", 1), "date"] == pd.Timestamp("2025-05-05")


# Market model against statsmodels -------------------------------------------------------------


def test_market_model_matches_statsmodels(april):
    study = EventStudy(
        model="market",
        market="SPX",
        market_alignment="date",  # same-calendar-date pairing (as-of: test_alignment.py)
        series=("NKY", "USDJPY"),
        estimation_window=(-120, -6),
        event_window=(-2, 5),
        min_estimation=60,
    )
    res = study.run(april, events(LIBERATION))
    params = res.parameters.set_index("series")
    ab = res.abnormal.set_index(["series", "rel_day"])
    changes = data.reactions(april)
    for name in ("NKY", "USDJPY"):
        own = april[name].dropna().index
        pos0 = own.get_loc(res.day0.loc["liberation_day", name])
        est = own[pos0 - 120 : pos0 - 6 + 1]
        y = changes[name].reindex(est)
        x = changes["SPX"].reindex(est)
        keep = y.notna() & x.notna()
        ols = sm.OLS(y[keep].to_numpy(), sm.add_constant(x[keep].to_numpy())).fit()
        assert params.loc[name, "alpha"] == pytest.approx(ols.params[0], abs=1e-10)
        assert params.loc[name, "beta"] == pytest.approx(ols.params[1], abs=1e-10)
        assert params.loc[name, "sigma2"] == pytest.approx(ols.scale, rel=1e-10)
        assert params.loc[name, "nobs"] == ols.nobs
        # Event day: AR = actual - prediction; its sd includes the forecast error.
        day = own[pos0 + 1]
        xm = changes.at[day, "SPX"]
        if np.isnan(xm):
            continue
        pred = ols.get_prediction(np.array([[1.0, xm]]))
        row = ab.loc[(name, 1)]
        assert row["normal"] == pytest.approx(pred.predicted_mean[0], abs=1e-10)
        assert row["abnormal"] == pytest.approx(
            changes.at[day, name] - pred.predicted_mean[0], abs=1e-10
        )
        assert row["sd"] ** 2 == pytest.approx(ols.scale + pred.se_mean[0] ** 2, rel=1e-10)


def test_market_model_car_variance_closed_form(april):
    # MacKinlay (1997) eq. 10-11 written out for the market model:
    # Var(CAR) = s^2 [n + (1/L)(n^2) ... ] computed here as s^2 (n + X*'(X'X)^-1 X* summed),
    # via an explicit loop over the window days.
    study = EventStudy(
        model="market",
        market="SPX",
        market_alignment="date",
        series=("NKY",),
        estimation_window=(-120, -6),
        event_window=(0, 4),
        min_estimation=60,
    )
    res = study.run(april, events(LIBERATION))
    changes = data.reactions(april)
    own = april["NKY"].dropna().index
    pos0 = own.get_loc(res.day0.loc["liberation_day", "NKY"])
    est = own[pos0 - 120 : pos0 - 5]
    y, x = changes["NKY"].reindex(est), changes["SPX"].reindex(est)
    keep = y.notna() & x.notna()
    y, x = y[keep].to_numpy(), x[keep].to_numpy()
    L = len(y)
    xbar = x.mean()
    b = ((x - xbar) * (y - y.mean())).sum() / ((x - xbar) ** 2).sum()
    a = y.mean() - b * xbar
    s2 = ((y - a - b * x) ** 2).sum() / (L - 2)
    win_days = [d for d in own[pos0 : pos0 + 5] if not np.isnan(changes.at[d, "SPX"])]
    xs = np.array([changes.at[d, "SPX"] for d in win_days])
    n = len(xs)
    # Sum over the window of the covariance matrix s^2 (I + 1/L + (x_t-xbar)(x_u-xbar)/Sxx).
    sxx = ((x - xbar) ** 2).sum()
    var = s2 * sum(
        (1.0 if t == u else 0.0) + 1.0 / L + (xs[t] - xbar) * (xs[u] - xbar) / sxx
        for t in range(n)
        for u in range(n)
    )
    row = res.reactions(0, 4).set_index("series").loc["NKY"]
    assert row["sd_car"] ** 2 == pytest.approx(var, rel=1e-10)
    assert row["n"] == n


# Per-event statistics against closed forms -----------------------------------------------------


def test_raw_model_statistics_by_hand(april):
    study = EventStudy(
        model="raw", estimation_window=(-60, -11), event_window=(-5, 10), min_estimation=40
    )
    res = study.run(april, events(LIBERATION))
    row = res.reactions(0, 6).set_index("series").loc["UST10Y"]
    changes = data.reactions(april)["UST10Y"].dropna()
    own = april["UST10Y"].dropna().index
    pos0 = own.get_loc(pd.Timestamp("2025-04-03"))
    est = changes.reindex(own[pos0 - 60 : pos0 - 10]).to_numpy()
    s2 = (est**2).sum() / len(est)  # raw model: nothing estimated, df = L
    car = changes.reindex(own[pos0 : pos0 + 7]).sum()
    assert row["car"] == pytest.approx(car, abs=1e-9)
    assert row["sd_car"] == pytest.approx(math.sqrt(7 * s2), rel=1e-12)
    t = car / math.sqrt(7 * s2)
    assert row["t"] == pytest.approx(t, rel=1e-12)
    from scipy import stats

    assert row["pvalue"] == pytest.approx(2 * stats.t.sf(abs(t), len(est)), rel=1e-10)
    assert row["sigma_move"] == pytest.approx(car / math.sqrt(s2 * 7), rel=1e-12)
    # Empirical p-value: all 7-day windows of the estimation changes, counted in a loop.
    sums = [est[i : i + 7].sum() for i in range(len(est) - 6)]
    emp = (1 + sum(abs(v) >= abs(car) - 1e-12 for v in sums)) / (1 + len(sums))
    assert row["empirical_pvalue"] == pytest.approx(emp, rel=1e-12)
    # Percentile over the whole history of 7-day changes, counted directly.
    full = data.reactions(april)["UST10Y"].dropna().to_numpy()
    hist = [full[i : i + 7].sum() for i in range(len(full) - 6)]
    pct = 100 * sum(h <= car + 1e-12 for h in hist) / len(hist)
    assert row["percentile"] == pytest.approx(pct, abs=1e-9)


def test_bhar_of_spx_raw_model_is_the_simple_return(april):
    res = EventStudy(model="raw").run(april, events(LIBERATION))
    row = res.reactions(0, 4).set_index("series").loc["SPX"]
    # S&P 500 closes (FRED SP500, SOURCES.md): 04-02 5670.97 -> 04-09 5456.90, the close of
    # day +4 (sessions 04-03, 04-04, 04-07, 04-08, 04-09).
    assert row["bhar"] == pytest.approx(100 * (5456.90 / 5670.97 - 1), rel=1e-10)
    assert np.isnan(res.reactions(0, 4).set_index("series").loc["UST10Y", "bhar"])


def test_constant_mean_and_market_adjusted(april):
    ev = events(LIBERATION)
    cm = EventStudy(model="constant_mean", min_estimation=100).run(april, ev)
    changes = data.reactions(april)["SPX"]
    own = april["SPX"].dropna().index
    pos0 = own.get_loc(pd.Timestamp("2025-04-03"))
    est = changes.reindex(own[pos0 - 250 : pos0 - 10]).dropna()
    p = cm.parameters.set_index("series").loc["SPX"]
    assert p["mean"] == pytest.approx(est.mean(), rel=1e-12)
    assert p["sigma2"] == pytest.approx(est.var(ddof=1), rel=1e-10)
    ma = EventStudy(
        model="market_adjusted", market="SPX", series=("NKY",), market_alignment="date"
    ).run(april, ev)
    ab = ma.abnormal.set_index("rel_day")
    day = ab.loc[0, "date"]
    nky = data.reactions(april)
    assert ab.loc[0, "abnormal"] == pytest.approx(nky.at[day, "NKY"] - nky.at[day, "SPX"])


# Exclusions, gaps, flags ---------------------------------------------------------------


def test_exclusions_are_recorded_not_dropped(april):
    ev = events(
        ("2023-07-03", "10:00", NY, "too_early"), LIBERATION, ("2030-01-02", "10:00", NY, "future")
    )
    res = EventStudy(model="raw").run(april, ev)
    ex = res.exclusions.set_index(["event", "series"])
    assert "usable estimation days" in ex.loc[("too_early", "UST10Y"), "reason"]
    assert "no observation after the event" in ex.loc[("future", "SPX"), "reason"]
    assert "liberation_day" not in set(res.exclusions["event"])
    assert list(res.car(0, 1).index) == ["too_early", "liberation_day", "future"]
    assert res.car(0, 1).loc["future"].isna().all()


def test_missing_market_day_skips_one_ar_only(april):
    # NKY vs SPX market model by date: 2025-04-18 (Good Friday) New York closed, Tokyo
    # open. (As of the Tokyo close, New York moved 0 that day: no missing day.)
    ev = events(("2025-04-15", "16:00", NY, "e"))
    res = EventStudy(
        model="market", market="SPX", series=("NKY",), event_window=(0, 5), market_alignment="date"
    ).run(april, ev)
    ab = res.abnormal.set_index("date")
    assert np.isnan(ab.loc[pd.Timestamp("2025-04-18"), "abnormal"])
    row = res.reactions(0, 5).iloc[0]
    assert row["missing"] == 1 and row["n"] == 5 and np.isfinite(row["car"])


def test_overlap_and_shared_day0_flags(april):
    ev = events(LIBERATION, PAUSE, ("2025-04-09", None, NY, "effective"))
    res = EventStudy(model="raw").run(april, ev)
    r = res.reactions(0, 3).set_index(["event", "series"])
    assert r.loc[("liberation_day", "SPX"), "overlaps"] == "pause_90d,effective"
    assert r.loc[("pause_90d", "SPX"), "shared_day0"] == "effective"
    assert r.loc[("pause_90d", "NKY"), "shared_day0"] == ""  # 04-10 vs 04-09 in Tokyo
    tests = res.tests(0, 3, draws=199).set_index(["series", "test"])
    assert not tests.loc[("SPX", "bmp"), "valid"]
    assert tests.loc[("SPX", "kolari_pynnonen"), "recommended"]
    assert tests.loc[("SPX", "kolari_pynnonen"), "valid"]
    assert tests.loc[("SPX", "portfolio"), "valid"]
    assert not tests.loc[("NKY", "bmp"), "recommended"] or tests.loc[("NKY", "bmp"), "valid"]


def test_bad_configuration_messages():
    with pytest.raises(DataValidationError, match="model must be one of raw, constant_mean"):
        EventStudy(model="capm")
    with pytest.raises(DataValidationError, match="event_window must be two integers"):
        EventStudy(event_window=(5, -5))
    with pytest.raises(DataValidationError, match="must end before the event window"):
        EventStudy(estimation_window=(-20, 0), event_window=(-5, 5))
    with pytest.raises(DataValidationError, match="needs market="):
        EventStudy(model="market")


def test_car_window_outside_event_window(april):
    res = EventStudy(model="raw", event_window=(-2, 3)).run(april, events(LIBERATION))
    with pytest.raises(DataValidationError, match=r"CAR window \(0, 5\) must lie inside"):
        res.car(0, 5)


def test_summary_is_readable(april):
    res = EventStudy(model="raw").run(april, events(LIBERATION, PAUSE))
    text = res.summary(0, 5)
    assert "model=raw" in text and "liberation_day" in text and "UST10Y" in text
    assert str(res) == res.summary()


# Properties -------------------------------------------------------------------------------------


def panel(values: list[float], kind: str = "yield") -> pd.DataFrame:
    idx = pd.bdate_range("2020-01-01", periods=len(values))
    frame = pd.DataFrame({"X": values, "M": values}, index=idx)
    frame.attrs["backtest"] = {
        "series": {
            "X": {"kind": kind, "timezone": NY, "obs_time": "16:00"},
            "M": {"kind": kind, "timezone": NY, "obs_time": "16:00"},
        }
    }
    return frame


walks = st.lists(st.floats(-0.3, 0.3), min_size=80, max_size=80).map(
    lambda steps: list(np.round(3 + np.cumsum(steps), 6))
)


@settings(max_examples=25, deadline=None)
@given(values=walks, a=st.integers(-3, 3), b=st.integers(0, 4), shift=st.floats(-2, 2))
def test_properties(values, a, b, shift):
    lv = panel(values)
    ev = pd.DataFrame(
        {"timestamp": [pd.Timestamp(lv.index[60], tz=NY) + pd.Timedelta(hours=17)], "label": ["e"]}
    )
    study = EventStudy(
        model="constant_mean",
        estimation_window=(-50, -6),
        event_window=(-3, 5),
        min_estimation=30,
        series=("X",),
    )
    res = study.run(lv, ev)
    lo, hi = min(a, a + b), min(a + b, 5)
    lo = max(lo, -3)
    ab = res.abnormal
    window = ab[(ab.rel_day >= lo) & (ab.rel_day <= hi)]
    # CAR equals the sum of the ARs.
    assert res.car(lo, hi).iloc[0, 0] == pytest.approx(window["abnormal"].sum(), abs=1e-9)
    # Shifting a yield by a constant leaves bp changes (and so every AR) unchanged.
    shifted = lv.assign(X=lv["X"] + shift)
    shifted.attrs = lv.attrs
    res2 = study.run(shifted, ev)
    np.testing.assert_allclose(res2.abnormal["abnormal"], ab["abnormal"], atol=1e-6)
    # A market identical to the asset explains it completely: zero abnormal changes.
    mkt = EventStudy(
        model="market",
        market="M",
        estimation_window=(-50, -6),
        event_window=(-3, 5),
        min_estimation=30,
        series=("X",),
    ).run(lv, ev)
    if np.isfinite(mkt.abnormal["abnormal"]).any():
        np.testing.assert_allclose(mkt.abnormal["abnormal"].dropna(), 0.0, atol=1e-9)


def test_pooled_kolari_pynnonen_by_hand(april):
    # One event, several markets: pooled over series. Independent computation with the
    # raw model (AR = change, residual = change): BMP t on SCARs, times the KP factor
    # with the mean correlation of 3-day sums of estimation-window changes.
    from scipy import stats

    names = ["UST10Y", "USDJPY", "SPX", "NKY"]
    study = EventStudy(model="raw", series=tuple(names))
    res = study.run(april, events(LIBERATION))
    out = res.tests(0, 2, groups={"all": names}, draws=99).set_index(["series", "test"])
    react = res.reactions(0, 2).set_index("series")
    scar = (react["car"] / react["sd_car"]).loc[names].to_numpy()
    n = len(scar)
    t_bmp = scar.mean() / (scar.std(ddof=1) / np.sqrt(n))
    changes = data.reactions(april)
    sums = []
    for name in names:
        own = april[name].dropna().index
        pos0 = own.get_loc(res.day0.loc["liberation_day", name])
        est = changes[name].reindex(own[pos0 - 250 : pos0 - 10]).to_numpy()
        sums.append([est[i : i + 3].sum() for i in range(len(est) - 2)])
    corr = np.corrcoef(np.array(sums))
    rbar = corr[np.triu_indices(n, 1)].mean()
    t_kp = t_bmp * np.sqrt((1 - rbar) / (1 + (n - 1) * rbar))
    row = out.loc[("all", "kolari_pynnonen")]
    assert row["statistic"] == pytest.approx(t_kp, rel=1e-9)
    assert row["pvalue"] == pytest.approx(2 * stats.t.sf(abs(t_kp), n - 1), rel=1e-9)
    assert row["recommended"] and f"{rbar:.3f}" in row["note"]
    assert not out.loc[("all", "bmp"), "valid"]


def test_percentile_against_a_longer_history(april):
    full = data.load(["UST10Y"], offline=True)
    res = EventStudy(model="raw", series=("UST10Y",)).run(april, events(LIBERATION), history=full)
    row = res.reactions(0, 6).iloc[0]
    # Counted directly over every 7-day window since 1962 (FRED DGS10).
    changes = data.reactions(full)["UST10Y"].dropna().to_numpy()
    sums = np.convolve(changes, np.ones(7), mode="valid")
    assert row["percentile"] == pytest.approx(100 * np.mean(sums <= row["change"] + 1e-9))


def test_factor_model_matches_statsmodels(april):
    # Two factors (S&P 500 and VIX changes) for the Nikkei, against statsmodels OLS.
    study = EventStudy(
        model="factor",
        factors=("SPX", "VIX"),
        series=("NKY",),
        estimation_window=(-150, -11),
        event_window=(0, 3),
        min_estimation=80,
    )
    res = study.run(april, events(LIBERATION))
    p = res.parameters.iloc[0]
    changes = data.reactions(april)
    own = april["NKY"].dropna().index
    pos0 = own.get_loc(res.day0.iloc[0, 0])
    est = own[pos0 - 150 : pos0 - 10]
    frame = changes.reindex(est)[["NKY", "SPX", "VIX"]].dropna()
    ols = sm.OLS(frame["NKY"], sm.add_constant(frame[["SPX", "VIX"]])).fit()
    assert [p["alpha"], p["SPX"], p["VIX"]] == pytest.approx(list(ols.params), abs=1e-10)
    assert p["sigma2"] == pytest.approx(ols.scale, rel=1e-10)
    assert p["df"] == ols.df_resid
    day = own[pos0]
    x0 = [1.0, changes.at[day, "SPX"], changes.at[day, "VIX"]]
    pred = ols.get_prediction(np.array([x0]))
    row = res.abnormal.set_index("rel_day").loc[0]
    assert row["abnormal"] == pytest.approx(
        changes.at[day, "NKY"] - pred.predicted_mean[0], abs=1e-10
    )
    assert row["sd"] ** 2 == pytest.approx(ols.scale + pred.se_mean[0] ** 2, rel=1e-10)


def test_market_adjusted_variance_is_mean_square(april):
    res = EventStudy(
        model="market_adjusted", market="SPX", series=("VIX",), market_alignment="date"
    ).run(april, events(LIBERATION))
    p = res.parameters.iloc[0]
    changes = data.reactions(april)
    own = april["VIX"].dropna().index
    pos0 = own.get_loc(res.day0.iloc[0, 0])
    est = own[pos0 - 250 : pos0 - 10]
    diff = (changes.reindex(est)["VIX"] - changes.reindex(est)["SPX"]).dropna()
    # Nothing is estimated: s^2 = mean squared abnormal change, df = L.
    assert p["sigma2"] == pytest.approx((diff**2).mean(), rel=1e-10)
    assert p["df"] == len(diff)
