"""Issue 13 items 1, 4, 5: markets aligned by the clock, Dimson betas, clean estimation
windows and the near-close guard.

Every number is checked against a reference built here independently of the library:
market series shifted by calendar dates with pandas (``merge_asof`` on dates, not on
observation instants), statsmodels OLS on the estimation days, and day counts from plain
loops over dates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from backtest import data, sessions
from backtest.errors import DataValidationError
from backtest.eventstudy import EventStudy

from ..builders import events

NY = "America/New_York"
TOKYO = "Asia/Tokyo"
CLOCKS = {"JP": (TOKYO, "15:00"), "JP2": (TOKYO, "15:00"), "US": (NY, "16:00")}
KINDS = {"JP": "index", "JP2": "index", "US": "index"}


@pytest.fixture(scope="module")
def two_markets() -> pd.DataFrame:
    """Synthetic Tokyo (JP, JP2) and New York (US) index levels on business days, with
    two New York holidays and one Tokyo holiday. JP loads on New York's previous day."""
    rng = np.random.default_rng(7)
    dates = pd.bdate_range("2023-01-02", periods=420)
    us_r = rng.normal(0.0, 1.0, len(dates))
    jp_r = 0.05 + 0.6 * np.concatenate([[0.0], us_r[:-1]]) + rng.normal(0.0, 0.8, len(dates))
    jp2_r = rng.normal(0.0, 1.2, len(dates))
    frame = pd.DataFrame(
        {
            "JP": 100 * np.exp(np.cumsum(jp_r) / 100),
            "JP2": 50 * np.exp(np.cumsum(jp2_r) / 100),
            "US": 1000 * np.exp(np.cumsum(us_r) / 100),
        },
        index=dates,
    )
    frame.loc[dates[300], "US"] = np.nan  # New York holidays, Tokyo open
    frame.loc[dates[340], "US"] = np.nan
    frame.loc[dates[320], ["JP", "JP2"]] = np.nan  # Tokyo holiday, New York open
    return frame


def log_changes(levels: pd.Series) -> pd.Series:
    """100 x log change between a series' own consecutive observations."""
    own = levels.dropna()
    return 100 * np.log(own).diff()


def previous_date_market(series: pd.Series, market: pd.Series) -> pd.Series:
    """Market change paired with each of a Tokyo series' dates, by calendar dates.

    New York closes (16:00, ~21:00 UTC) come after Tokyo's (15:00, 06:00 UTC) of the
    same date, so on Tokyo date d the market level known is that of the latest New York
    date strictly before d. Built with merge_asof on dates (not on instants).
    """
    own = series.dropna().index
    mkt = market.dropna().rename("m").rename_axis("mdate").reset_index()
    left = pd.DataFrame({"date": own})
    known = pd.merge_asof(
        left, mkt, left_on="date", right_on="mdate", allow_exact_matches=False
    ).set_index("date")["m"]
    return 100 * np.log(known).diff()


def ols_reference(y: pd.Series, xs: list[pd.Series], est_dates: pd.Index):
    frame = pd.concat([y.rename("y"), *[x.rename(f"x{i}") for i, x in enumerate(xs)]], axis=1)
    frame = frame.reindex(est_dates).dropna()
    exog = np.ones((len(frame), 1 + len(xs)))
    for i in range(len(xs)):
        exog[:, 1 + i] = frame[f"x{i}"].to_numpy()
    return sm.OLS(frame["y"].to_numpy(), exog).fit()


def own_window(series: pd.Series, day0: pd.Timestamp, a: int, b: int) -> pd.Index:
    own = series.dropna().index
    p = own.get_loc(day0)
    return own[p + a : p + b + 1]


# 1. Markets aligned by the clock -------------------------------------------------------------


def test_asof_market_model_matches_ols_on_shifted_market(two_markets):
    ev = events(("2024-04-03", "10:00", NY, "e1"), ("2024-05-20", None, TOKYO, "e2"))
    res = EventStudy(
        model="market", market="US", series=("JP",), event_window=(-2, 3), min_estimation=100
    ).run(two_markets, ev, clocks=CLOCKS, kinds=KINDS)
    y = log_changes(two_markets["JP"])
    x = previous_date_market(two_markets["JP"], two_markets["US"])
    # The rule by hand, on the holidays: Tokyo's day after New York's holiday pairs with
    # New York not moving (0); the day after that with New York's two-day change.
    d = two_markets.index
    assert x.loc[d[301]] == 0.0
    us = two_markets["US"]
    assert x.loc[d[302]] == pytest.approx(100 * np.log(us.loc[d[301]] / us.loc[d[299]]))
    params = res.parameters.set_index("event")
    ab = res.abnormal.set_index(["event", "date"])
    for name in ("e1", "e2"):
        day0 = res.day0.loc[name, "JP"]
        ols = ols_reference(y, [x], own_window(two_markets["JP"], day0, -250, -11))
        assert params.loc[name, "alpha"] == pytest.approx(ols.params[0], abs=1e-10)
        assert params.loc[name, "beta"] == pytest.approx(ols.params[1], abs=1e-10)
        assert params.loc[name, "sigma2"] == pytest.approx(ols.scale, rel=1e-10)
        assert params.loc[name, "nobs"] == ols.nobs
        for date in own_window(two_markets["JP"], day0, -2, 3):
            want = y.loc[date] - ols.params[0] - ols.params[1] * x.loc[date]
            assert ab.loc[(name, date), "abnormal"] == pytest.approx(want, abs=1e-10)
    al = res.alignment.set_index("series").loc["JP"]
    assert al["market"] == "US" and al["alignment"] == "asof"
    assert al["series_clock"] == "Asia/Tokyo 15:00" and al["market_clock"] == f"{NY} 16:00"
    assert al["lag_days"] == 1.0  # median: Tokyo's day t pairs with New York's t-1


def test_asof_changes_public_function_matches_hand_shift(two_markets):
    got = sessions.asof_changes(
        two_markets["US"], "index", CLOCKS["US"], CLOCKS["JP"], two_markets["JP"].dropna().index
    )
    want = previous_date_market(two_markets["JP"], two_markets["US"])
    pd.testing.assert_series_equal(
        got.rename(None), want.rename(None), check_names=False, check_freq=False, atol=1e-12
    )


def test_asof_changes_yields_in_bp():
    dates = pd.DatetimeIndex(["2025-04-01", "2025-04-02", "2025-04-03"])
    ust = pd.Series([4.20, 4.06, 4.01], index=dates)
    got = sessions.asof_changes(ust, "yield", (NY, "15:30"), (TOKYO, "15:00"), dates)
    # Tokyo 04-02 knows New York's 04-01 level; 04-03 knows 04-02's: -14 bp.
    assert np.isnan(got.iloc[0]) and np.isnan(got.iloc[1])
    assert got.iloc[2] == pytest.approx(-14.0, abs=1e-9)


@pytest.fixture(scope="module")
def snapshot() -> pd.DataFrame:
    return data.load(
        ["NKY", "SPX", "TOPIX", "JGB10Y", "VIX", "UST10Y"],
        start="2023-06-01",
        end="2025-06-30",
        offline=True,
    )


def test_snapshot_nikkei_on_spx_as_of_matches_ols(snapshot):
    ev = events(("2025-04-02", "16:00", NY, "liberation_day"), ("2025-05-02", None, TOKYO, "kato"))
    res = EventStudy(model="market", market="SPX", series=("NKY",), event_window=(-1, 3)).run(
        snapshot, ev
    )
    y = log_changes(snapshot["NKY"])
    x = previous_date_market(snapshot["NKY"], snapshot["SPX"])
    params = res.parameters.set_index("event")
    ab = res.abnormal.set_index(["event", "date"])
    for name in ("liberation_day", "kato"):
        day0 = res.day0.loc[name, "NKY"]
        ols = ols_reference(y, [x], own_window(snapshot["NKY"], day0, -250, -11))
        assert params.loc[name, "alpha"] == pytest.approx(ols.params[0], abs=1e-10)
        assert params.loc[name, "beta"] == pytest.approx(ols.params[1], abs=1e-10)
        assert params.loc[name, "sigma2"] == pytest.approx(ols.scale, rel=1e-10)
        for date in own_window(snapshot["NKY"], day0, -1, 3):
            want = y.loc[date] - ols.params[0] - ols.params[1] * x.loc[date]
            assert ab.loc[(name, date), "abnormal"] == pytest.approx(want, abs=1e-10)
    # Liberation Day (16:00 New York): Nikkei's day 0 is 04-03, paired with New York's
    # 04-02 change (before the speech), not 04-03's -4.8%.
    assert res.day0.loc["liberation_day", "NKY"] == pd.Timestamp("2025-04-03")
    spx = snapshot["SPX"]
    assert x.loc["2025-04-03"] == pytest.approx(
        100 * np.log(spx.loc["2025-04-02"] / spx.loc["2025-04-01"])
    )


def test_dimson_betas_match_ols_on_lags(two_markets):
    k = 1
    ev = events(("2024-04-03", "10:00", NY, "e1"))
    res = EventStudy(
        model="market", market="US", series=("JP",), dimson_lags=k, event_window=(-2, 3)
    ).run(two_markets, ev, clocks=CLOCKS, kinds=KINDS)
    y = log_changes(two_markets["JP"])
    x = previous_date_market(two_markets["JP"], two_markets["US"])
    # lag j: the market change of the series' own observation t + j
    lags = [x.shift(-j) for j in range(-k, k + 1)]
    day0 = res.day0.loc["e1", "JP"]
    ols = ols_reference(y, lags, own_window(two_markets["JP"], day0, -250, -11))
    p = res.parameters.iloc[0]
    for i, j in enumerate(range(-k, k + 1)):
        assert p[f"beta_lag{j:+d}"] == pytest.approx(ols.params[1 + i], abs=1e-10)
    assert p["beta"] == pytest.approx(ols.params[1:].sum(), abs=1e-10)
    assert p["alpha"] == pytest.approx(ols.params[0], abs=1e-10)
    assert p["sigma2"] == pytest.approx(ols.scale, rel=1e-10)
    assert p["df"] == ols.df_resid
    ab = res.abnormal.set_index("date")
    for date in own_window(two_markets["JP"], day0, -2, 3):
        want = (
            y.loc[date]
            - ols.params[0]
            - sum(ols.params[1 + i] * lags[i].loc[date] for i in range(2 * k + 1))
        )
        assert ab.loc[date, "abnormal"] == pytest.approx(want, abs=1e-10)
    assert res.alignment.iloc[0]["dimson_lags"] == 1


def test_per_series_mapping_with_no_market_is_the_reduced_model(two_markets):
    ev = events(("2024-04-03", "10:00", NY, "e1"))
    levels = two_markets.assign(US2=two_markets["US"])
    clocks = {**CLOCKS, "US2": CLOCKS["US"]}
    kinds = {**KINDS, "US2": "index"}
    study = EventStudy(
        model="market",
        market={"JP2": None, "default": "US2", "JP": "US"},
        series=("JP", "JP2"),
        event_window=(-2, 3),
    )
    res = study.run(levels, ev, clocks=clocks, kinds=kinds)
    p = res.parameters.set_index("series")
    ab = res.abnormal.set_index(["series", "date"])
    # JP2 (no market): constant mean by statsmodels on the same estimation days.
    y2 = log_changes(two_markets["JP2"])
    day0 = res.day0.loc["e1", "JP2"]
    est = own_window(two_markets["JP2"], day0, -250, -11)
    ols = sm.OLS(y2.reindex(est).dropna().to_numpy(), np.ones((len(est), 1))).fit()
    assert p.loc["JP2", "alpha"] == pytest.approx(ols.params[0], abs=1e-10)
    assert p.loc["JP2", "beta"] == 0.0
    assert p.loc["JP2", "sigma2"] == pytest.approx(ols.scale, rel=1e-10)
    assert p.loc["JP2", "df"] == ols.df_resid == len(est) - 1
    win = own_window(two_markets["JP2"], day0, -2, 3)
    for date in win:
        assert ab.loc[("JP2", date), "abnormal"] == pytest.approx(
            y2.loc[date] - ols.params[0], abs=1e-10
        )
    # Var(AR) of the reduced model: s^2 (1 + 1/L)
    car = res.reactions(-2, 3).set_index("series").loc["JP2"]
    assert car["sd_car"] ** 2 == pytest.approx(
        ols.scale * (len(win) + len(win) ** 2 / len(est)), rel=1e-10
    )
    # JP keeps its own market and matches the single-market study.
    alone = EventStudy(model="market", market="US", series=("JP",), event_window=(-2, 3)).run(
        two_markets, ev, clocks=CLOCKS, kinds=KINDS
    )
    assert p.loc["JP", "beta"] == pytest.approx(alone.parameters.iloc[0]["beta"], abs=1e-12)
    al = res.alignment.set_index("series")
    assert al.loc["JP2", "market"] is None and al.loc["JP", "market"] == "US"
    # market_adjusted with no market: the raw change.
    raw = EventStudy(
        model="market_adjusted", market={"JP2": None, "default": "US"}, series=("JP2",)
    ).run(two_markets, ev, clocks=CLOCKS, kinds=KINDS)
    ab_raw = raw.abnormal.set_index("date")
    for date in own_window(two_markets["JP2"], day0, -5, 10):
        assert ab_raw.loc[date, "abnormal"] == pytest.approx(y2.loc[date], abs=1e-12)


def test_market_mapping_without_default_names_the_series(two_markets):
    with pytest.raises(DataValidationError, match=r"'JP2'.*default"):
        EventStudy(model="market", market={"JP": "US"}, series=("JP", "JP2")).run(
            two_markets, events(("2024-04-03", "10:00", NY, "e1")), clocks=CLOCKS, kinds=KINDS
        )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"model": "raw", "dimson_lags": 1}, "dimson_lags"),
        ({"model": "market", "market": "SPX", "dimson_lags": -1}, "dimson_lags"),
        ({"market_alignment": "clock"}, "market_alignment"),
        ({"estimation_exclude": "all"}, "estimation_exclude"),
        ({"session_guard": -5}, "session_guard"),
        ({"model": "market", "market": {"NKY": 3}}, "market"),
    ],
)
def test_bad_clock_options_name_the_field(kwargs, field):
    with pytest.raises(DataValidationError, match=field):
        EventStudy(**kwargs)


# 4. Clean estimation windows ----------------------------------------------------------------


def test_clean_windows_counts_by_hand_and_fit_on_days_left():
    rng = np.random.default_rng(3)
    dates = pd.bdate_range("2024-01-01", periods=80)
    levels = pd.DataFrame(
        {
            "A": 100 * np.exp(np.cumsum(rng.normal(0, 1, 80)) / 100),
            "M": 100 * np.exp(np.cumsum(rng.normal(0, 1, 80)) / 100),
        },
        index=dates,
    )
    levels.loc[dates[40], "A"] = np.nan  # A's own calendar has a holiday
    clocks = {"A": (NY, "16:00"), "M": (NY, "16:00")}
    kinds = {"A": "index", "M": "index"}
    run_days = [dates[60], dates[45], dates[70]]
    extra_days = [dates[30]]
    ev = events(*[(str(d.date()), None, NY, f"e{i}") for i, d in enumerate(run_days)])
    extra = events(*[(str(d.date()), None, NY, f"x{i}") for i, d in enumerate(extra_days)])
    study = EventStudy(
        model="market",
        market="M",
        market_alignment="date",
        series=("A",),
        estimation_window=(-30, -3),
        event_window=(-1, 1),
        min_estimation=20,
        estimation_exclude="events",
        exclude_events=extra,
    )
    res = study.run(levels, ev, clocks=clocks, kinds=kinds)
    # By hand: A's own observation dates; each event's window = its day-0 date and the
    # own observations just before and after; estimation window = own obs -30..-3.
    own = list(levels["A"].dropna().index)
    y = log_changes(levels["A"])
    x = log_changes(levels["M"])
    windows = {}
    for d in run_days + extra_days:
        i = own.index(d)
        windows[d] = {own[j] for j in range(i - 1, i + 2)}
    cw = res.clean_windows.set_index("event")
    for name, d in zip(["e0", "e1", "e2"], run_days, strict=True):
        i = own.index(d)
        est = [own[j] for j in range(i - 30, i - 2)]
        usable = [t for t in est if np.isfinite(y.get(t, np.nan)) and np.isfinite(x.get(t, np.nan))]
        removed = 0
        left = []
        for t in usable:
            if any(t in w for other, w in windows.items() if other != d):
                removed += 1
            else:
                left.append(t)
        assert cw.loc[name, "removed"] == removed, name
        assert cw.loc[name, "usable_before"] == len(usable)
        assert cw.loc[name, "usable"] == len(left)
        ols = sm.OLS(y.loc[left].to_numpy(), sm.add_constant(x.loc[left].to_numpy())).fit()
        p = res.parameters.set_index("event").loc[name]
        assert p["alpha"] == pytest.approx(ols.params[0], abs=1e-10)
        assert p["beta"] == pytest.approx(ols.params[1], abs=1e-10)
        assert p["sigma2"] == pytest.approx(ols.scale, rel=1e-10)
        assert p["nobs"] == len(left)
    assert (cw["removed"] > 0).all()
    # Excluded days are NaN in the estimation residuals the rank tests use.
    resid = res._p.residuals()[0, 0]  # event e0, series A, days -30..-3
    i = own.index(run_days[0])
    for r, j in enumerate(range(i - 30, i - 2)):
        gone = any(own[j] in w for other, w in windows.items() if other != run_days[0])
        assert np.isnan(resid[r]) == (gone or not np.isfinite(y.get(own[j], np.nan)))
    # min_estimation applies after exclusion.
    strict = EventStudy(**{**study.__dict__, "min_estimation": int(cw["usable"].max()) + 1})
    res2 = strict.run(levels, ev, clocks=clocks, kinds=kinds)
    assert res2.exclusions["reason"].str.contains("usable estimation days").all()
    assert len(res2.exclusions) == 3


def test_no_exclusion_by_default_removes_nothing(two_markets):
    ev = events(("2024-04-03", "10:00", NY, "e1"), ("2024-03-20", "10:00", NY, "e2"))
    res = EventStudy(model="constant_mean", series=("JP",)).run(
        two_markets, ev, clocks=CLOCKS, kinds=KINDS
    )
    assert (res.clean_windows["removed"] == 0).all()


# 5. Near-close guard ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("time", "guard", "day0", "guarded"),
    [
        ("15:44", 30, "2025-03-04", False),  # 31 min before the 16:15 observation
        ("15:45", 30, "2025-03-05", True),  # 30 min: within the guard (obs <= event + 30)
        ("15:46", 30, "2025-03-05", True),  # 29 min
        ("15:46", 0, "2025-03-04", False),  # guard off: today's rule
        ("16:15", 0, "2025-03-05", False),  # observation at the event: strictly after
    ],
)
def test_guard_boundary_by_hand(time, guard, day0, guarded):
    dates = pd.DatetimeIndex(["2025-03-03", "2025-03-04", "2025-03-05", "2025-03-06"])
    levels = pd.DataFrame({"V": [20.0, 21.0, 22.0, 23.0]}, index=dates)
    ev = events(("2025-03-04", time, NY, "e"))
    clocks = {"V": (NY, "16:15")}
    got = sessions.day0(ev, levels, clocks=clocks, guard=guard)
    assert got.loc["e", "V"] == pd.Timestamp(day0)
    res = EventStudy(
        model="raw", estimation_window=(-2, -2), event_window=(-1, 0), min_estimation=1,
        session_guard=guard,
    ).run(levels, ev, clocks=clocks, kinds={"V": "index"})  # fmt: skip
    assert res.day0.loc["e", "V"] == pd.Timestamp(day0)
    assert bool(res.guarded.loc["e", "V"]) is guarded


def test_vix_liberation_day_is_april_3_with_the_default_guard(snapshot):
    ev = events(("2025-04-02", "16:00", NY, "liberation_day"))
    res = EventStudy(model="raw", series=("VIX", "SPX", "NKY")).run(snapshot, ev)
    assert res.day0.loc["liberation_day", "VIX"] == pd.Timestamp("2025-04-03")
    assert res.guarded.loc["liberation_day"].to_dict() == {
        "VIX": True,
        "SPX": False,
        "NKY": False,
    }
    # FRED VIXCLS 2025-04-02 21.51, 04-03 30.02 (data/snapshot/VIXCLS.csv): the +33% move.
    vix = snapshot["VIX"]
    assert res.car(0, 0).loc["liberation_day", "VIX"] == pytest.approx(
        100 * np.log(vix.loc["2025-04-03"] / vix.loc["2025-04-02"]), abs=1e-12
    )
    plain = EventStudy(model="raw", series=("VIX",), session_guard=0).run(snapshot, ev)
    assert plain.day0.loc["liberation_day", "VIX"] == pd.Timestamp("2025-04-02")
    assert not plain.guarded.to_numpy().any()


# The study's market plane (arrays, cached instants) against the public asof_changes -------


def study_planes(res, levels: pd.DataFrame) -> dict[str, np.ndarray]:
    """The aligned market change of each studied series' own observations."""
    planes = res._p.regressors[0]
    return {s: planes[i, : levels[s].notna().sum()] for i, s in enumerate(res.series)}


def test_study_market_planes_equal_asof_changes_bit_for_bit(snapshot):
    # Tokyo series on New York, a New York series on itself's calendar, and a yield
    # market (JGB10Y on UST10Y, basis points): each plane must be exactly the public
    # function's (which goes through pandas and data.reactions).
    market = {"JGB10Y": "UST10Y", "default": "SPX"}
    names = ("NKY", "TOPIX", "JGB10Y", "VIX")
    ev = events(("2025-04-02", "16:00", NY, "liberation_day"), ("2025-05-02", None, TOKYO, "kato"))
    res = EventStudy(model="market", market=market, series=names, min_estimation=50).run(
        snapshot, ev
    )
    got = study_planes(res, snapshot)
    kinds = {"SPX": "index", "UST10Y": "yield"}
    for name in names:
        m = market.get(name, market["default"])
        want = sessions.asof_changes(
            snapshot[m],
            kinds[m],
            sessions.clock_of(snapshot, m),
            sessions.clock_of(snapshot, name),
            pd.DatetimeIndex(snapshot[name].dropna().index),
        ).to_numpy()
        assert np.array_equal(got[name], want, equal_nan=True), name


def test_study_market_planes_on_the_market_clock_equal_asof_changes_bit_for_bit(snapshot):
    # A series observed at its market's wall-clock time is paired with the market by
    # date, without computing instants (they are in date order); the public function
    # pairs the instants. TOPIX on NKY (Tokyo 15:30); VIX16, VIX's levels on a calendar
    # of its own (every 7th observation dropped) observed at SPX's New York 16:00; and
    # series on other clocks (JGB10Y, Tokyo 15:00, on NKY; VIX, 16:15, on SPX).
    frame = snapshot.assign(VIX16=snapshot["VIX"].where(np.arange(len(snapshot)) % 7 != 3))
    market = {"TOPIX": "NKY", "JGB10Y": "NKY", "VIX16": "SPX", "VIX": "SPX"}
    names = tuple(market)
    clocks = {"VIX16": (NY, "16:00")}
    clock = {n: sessions.clock_of(frame, n, clocks) for n in [*names, "NKY", "SPX"]}
    assert clock["TOPIX"] == clock["NKY"] and clock["VIX16"] == clock["SPX"]
    assert clock["JGB10Y"] != clock["NKY"] and clock["VIX"] != clock["SPX"]
    ev = events(("2025-04-02", "16:00", NY, "liberation_day"), ("2025-05-02", None, TOKYO, "kato"))
    res = EventStudy(model="market", market=market, series=names, min_estimation=50).run(
        frame, ev, clocks=clocks, kinds={"VIX16": "index"}
    )
    got = study_planes(res, frame)
    for name in names:
        m = market[name]
        want = sessions.asof_changes(
            frame[m], "index", clock[m], clock[name], frame[name].dropna().index
        ).to_numpy()
        assert np.array_equal(got[name], want, equal_nan=True), name
        assert np.isfinite(got[name][1:]).mean() > 0.9, name


def test_study_market_plane_with_an_ambiguous_clock_hour_on_another_series_date():
    # A's clock (New York 01:30) is ambiguous on 2024-11-03 (autumn); only B has that
    # date. A's plane is still computed (and equals the public function's); the date
    # itself still raises for a series observed on it.
    dates = pd.bdate_range("2024-06-03", "2024-12-31")
    sunday = pd.Timestamp("2024-11-03")
    index = dates.append(pd.DatetimeIndex([sunday])).sort_values()
    rng = np.random.default_rng(11)
    frame = pd.DataFrame(
        {c: 100 * np.exp(np.cumsum(rng.normal(0, 1, len(index))) / 100) for c in "ABM"},
        index=index,
    )
    frame.loc[sunday, ["A", "M"]] = np.nan
    clocks = {"A": (NY, "01:30"), "B": (NY, "16:00"), "M": (NY, "16:00")}
    kinds = dict.fromkeys("ABM", "index")
    ev = events(("2024-12-02", None, NY, "e1"))
    study = EventStudy(model="market", market="M", estimation_window=(-80, -6), min_estimation=30)
    res = study.run(frame, ev, clocks=clocks, kinds=kinds)
    got = study_planes(res, frame)
    for name in ("A", "B"):
        want = sessions.asof_changes(
            frame["M"], "index", clocks["M"], clocks[name], frame[name].dropna().index
        ).to_numpy()
        assert np.array_equal(got[name], want, equal_nan=True), name
    with pytest.raises(ValueError):
        sessions.observation_times(pd.DatetimeIndex([sunday]), clocks["A"])
