"""EventStudyResult.placebo: matched pseudo-event dates through the same study design.

Kinds and references:

* empirical p-values and sizes are recounted in the test from the draws' statistics
  (hand counts: ``(1 + #|stat| >= |observed|) / (1 + draws)``, share of p < 5%);
* every draw's statistics are checked against an independent path: the study re-run
  with ``EventStudy.run`` on that draw's pseudo dates alone (exposed by
  ``PlaceboResult.dates``) and its ``tests`` table, not the placebo's batched battery;
* the matching (weekday of day 0, pre-event volatility decile) is recomputed with
  pandas (rolling standard deviation, ``rank(pct=True)``) from the levels;
* the Kolari-Pynnönen daily variant is checked against the paper's formula written
  with numpy (mean pairwise ``np.corrcoef`` of the daily residual rows).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from backtest import data
from backtest.errors import DataValidationError
from backtest.eventstudy import EventStudy, EventStudyResult
from backtest.eventstudy.placebo import pseudo_events
from backtest.eventstudy.policy import TESTS

SERIES = ["UST10Y", "SPX", "NKY"]
REAL = ["2019-08-05", "2020-03-16", "2022-09-28", "2024-08-05", "2025-04-03"]
EST, EVW = (-120, -11), (-5, 5)
WINDOW = (0, 1)
GROUPS = {"all": SERIES}
DRAWS = 60


@pytest.fixture(scope="module")
def levels():
    return data.load(SERIES, start="2015-01-01", end="2025-12-31", offline=True)


@pytest.fixture(scope="module")
def study():
    return EventStudy(
        model="constant_mean", estimation_window=EST, event_window=EVW, min_estimation=60
    )


@pytest.fixture(scope="module")
def res(levels, study):
    return study.run(levels, pseudo_events(pd.to_datetime(REAL), [f"e{i}" for i in range(5)]))


@pytest.fixture(scope="module", params=["shared", "independent"])
def placebo(request, res):
    return res.placebo(WINDOW, groups=GROUPS, draws=DRAWS, seed=3, design=request.param)


def test_empirical_pvalue_and_size_recounted_by_hand(placebo, res):
    observed = res.tests(*WINDOW, groups=GROUPS).set_index(["test", "series"])
    table = placebo.table.set_index(["test", "series"])
    assert set(table.index) == set(observed.index)
    for (test, series), row in table.iterrows():
        draws = placebo.statistics.query("test == @test and series == @series")
        stat, pval, n = draws["statistic"], draws["pvalue"], draws["n"]
        obs = observed.loc[(test, series)]
        if test == "wilcoxon":  # W+ is centred on n(n+1)/4 under the null
            dev = (stat - n * (n + 1) / 4).abs()
            o = abs(obs["statistic"] - obs["n"] * (obs["n"] + 1) / 4)
        else:
            dev, o = stat.abs(), abs(obs["statistic"])
        finite = dev.notna()
        count = sum(1 for v in dev[finite] if v >= o * (1 - 1e-9))
        assert row["draws"] == finite.sum()
        if math.isfinite(obs["statistic"]) and finite.any():
            assert row["empirical_pvalue"] == pytest.approx((1 + count) / (1 + finite.sum()))
        p = pval.dropna()
        assert row["size_5pct"] == pytest.approx(sum(1 for v in p if v < 0.05) / len(p))
        assert row["statistic"] == pytest.approx(obs["statistic"], nan_ok=True)
        assert row["recommended"] == obs["recommended"]


def test_each_draw_equals_the_study_rerun_on_its_dates(placebo, res, levels, study):
    dates = placebo.dates
    for d in (0, 17, DRAWS - 1):
        mine = placebo.statistics.query("draw == @d").set_index(["test", "series"])
        drawn = dates[dates["draw"] == d]
        if placebo.design == "shared":
            day = drawn.groupby("event", sort=False)["date"].first()
            assert (drawn.groupby("event")["date"].nunique() == 1).all()
            ev = pseudo_events(day.to_numpy(), list(day.index))
            tables = [
                study.run(levels, ev).tests(
                    *WINDOW, groups=GROUPS, draws=placebo.bootstrap_draws, seed=placebo.seed
                )
            ]
        else:  # each series its own dates: rerun one series at a time
            tables = []
            for s in SERIES:
                day = drawn[drawn["series"] == s].set_index("event")["date"]
                ev = pseudo_events(day.to_numpy(), list(day.index))
                one = EventStudy(
                    model="constant_mean",
                    estimation_window=EST,
                    event_window=EVW,
                    min_estimation=60,
                    series=(s,),
                ).run(levels, ev)
                tables.append(one.tests(*WINDOW, draws=placebo.bootstrap_draws, seed=placebo.seed))
        rerun = pd.concat(tables).set_index(["test", "series"])
        assert len(rerun) > 0
        for key, row in rerun.iterrows():
            got = mine.loc[key]
            assert got["n"] == row["n"], key
            assert got["statistic"] == pytest.approx(row["statistic"], rel=1e-9, nan_ok=True), key
            assert got["pvalue"] == pytest.approx(row["pvalue"], rel=1e-9, nan_ok=True), key
            assert bool(got["valid"]) == bool(row["valid"]), key
            assert bool(got["recommended"]) == bool(row["recommended"]), key


def _volatility_deciles(levels, res, series):
    """Pre-event sd of each own observation and the decile rule, written with pandas."""
    ch = data.reactions(levels[[series]])[series]
    own = ch[levels[series].notna()]
    sd = own.rolling(EST[1] - EST[0] + 1, min_periods=2).std().shift(-EST[1])
    n = len(own)
    pos = pd.Series(np.arange(n), index=own.index)
    first = int(np.flatnonzero(own.notna().to_numpy())[0])
    cand = (pos + EST[0] >= first) & (pos + EVW[1] < n) & sd.notna()
    for day0 in res.day0[series].dropna():
        cand &= (pos - pos[day0]).abs() > EVW[1] - EVW[0]
    ref = sd[cand]

    def decile(v: float) -> int:
        share = (ref <= v).mean()
        return int(min(9, max(0, math.ceil(10 * share - 1e-12) - 1)))

    return sd, ref, decile


def test_matching_holds_weekday_and_volatility_decile(placebo, res, levels):
    dates = placebo.dates
    day0 = res.day0
    for s in SERIES:
        sd, ref, decile = _volatility_deciles(levels, res, s)
        mine = dates[dates["series"] == s]
        if placebo.design == "independent":
            assert mine["date"].isin(ref.index).all()  # candidates only
            for ev, rows in mine.groupby("event"):
                real = day0.loc[ev, s]
                assert (rows["date"].dt.day_of_week == real.weekday()).all()
                want = decile(sd[real])
                assert [decile(sd[d]) for d in rows["date"]] == [want] * len(rows)
        else:  # day 0 of a shared date: the series' first observation on or after it
            own = sd.index
            day0s = own[own.searchsorted(pd.DatetimeIndex(mine["date"]))]
            assert pd.Index(day0s).isin(ref.index).all()
    if placebo.design == "shared":
        for ev, rows in dates.groupby("event"):
            modal = day0.loc[ev].mode().iloc[0]
            assert (rows["date"].dt.day_of_week == modal.weekday()).all()


def test_seed_reproducible_and_changes_draws(res):
    a = res.placebo(WINDOW, draws=20, seed=5)
    b = res.placebo(WINDOW, draws=20, seed=5)
    c = res.placebo(WINDOW, draws=20, seed=6)
    pd.testing.assert_frame_equal(a.dates, b.dates)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert not a.dates["date"].equals(c.dates["date"])


def test_as_dict_is_json_ready(res):
    pl = res.placebo(WINDOW, draws=10, seed=0, match=("weekday",), design="independent")
    out = pl.as_dict()
    assert out["design"] == "independent" and out["match"] == ["weekday"]
    assert {r["test"] for r in out["tests"]} == set(TESTS)
    assert all(
        v is None or not isinstance(v, float) or math.isfinite(v)
        for r in out["tests"]
        for v in r.values()
    )


def test_without_rerun_data_or_with_bad_settings_it_fails_clearly(res):
    bare = EventStudyResult(
        design=res.design,
        events=res.events,
        series=res.series,
        units=res.units,
        kinds={s: "index" for s in res.series},
        panel=res._p,
        provenance={},
    )
    with pytest.raises(DataValidationError, match="no data to rerun"):
        bare.placebo(WINDOW, draws=5)
    with pytest.raises(DataValidationError, match="design must be one of shared, independent"):
        res.placebo(WINDOW, draws=5, design="both")
    with pytest.raises(DataValidationError, match="match must be"):
        res.placebo(WINDOW, draws=5, match=("weekday", "size"))
    with pytest.raises(DataValidationError, match="draws must be a positive integer"):
        res.placebo(WINDOW, draws=0)
    with pytest.raises(DataValidationError, match="unknown series"):
        res.placebo(WINDOW, draws=5, groups={"g": ["XYZ"]})


# ------------------------------------------------------------ Kolari-Pynnönen daily
def test_kolari_pynnonen_daily_is_the_papers_formula(levels):
    ev = pseudo_events(pd.to_datetime(REAL), [f"e{i}" for i in range(5)])
    study = EventStudy(
        model="raw",
        estimation_window=EST,
        event_window=EVW,
        min_estimation=60,
        series=("UST10Y",),
        kp_correlation="daily",
    )
    res = study.run(levels, ev)
    assert res.design.as_dict()["kp_correlation"] == "daily"
    # Independent computation: raw model, residuals = the changes themselves.
    ch = data.reactions(levels[["UST10Y"]])["UST10Y"]
    ch = ch[levels["UST10Y"].notna()].to_numpy()
    days = pd.DatetimeIndex(levels.index[levels["UST10Y"].notna()])
    rows, scar = [], []
    a, b = WINDOW
    for d0 in pd.to_datetime(REAL):
        t = int(days.searchsorted(d0))
        est = ch[t + EST[0] : t + EST[1] + 1]
        assert np.isfinite(est).all()
        sigma2 = (est**2).sum() / est.size  # raw: nothing estimated, df = L
        car = ch[t + a : t + b + 1].sum()
        scar.append(car / np.sqrt(sigma2 * (b - a + 1)))
        rows.append(est)
    r = np.corrcoef(np.array(rows))
    n = len(rows)
    rbar = r[np.triu_indices(n, 1)].mean()
    scar = np.array(scar)
    t_bmp = scar.mean() / (scar.std(ddof=1) / np.sqrt(n))
    t_kp = t_bmp * np.sqrt((1 - rbar) / (1 + (n - 1) * rbar))
    got = res.tests(*WINDOW).set_index("test").loc["kolari_pynnonen"]
    assert got["statistic"] == pytest.approx(t_kp, rel=1e-9)
    # the default ("sums") differs for a 2-day window
    sums = EventStudy(
        model="raw", estimation_window=EST, event_window=EVW, min_estimation=60, series=("UST10Y",)
    ).run(levels, ev)
    other = sums.tests(*WINDOW).set_index("test").loc["kolari_pynnonen", "statistic"]
    assert other != pytest.approx(t_kp, rel=1e-6)
    with pytest.raises(DataValidationError, match="kp_correlation must be one of sums, daily"):
        EventStudy(kp_correlation="weekly")


# ------------------------------------------------------------------------- config
def test_config_reads_placebo_and_kp_correlation():
    from pydantic import ValidationError

    from backtest.config import EventStudyConfig

    cfg = EventStudyConfig(
        placebo={"draws": 50, "match": ["weekday"], "design": "independent"},
        kp_correlation="daily",
    )
    assert cfg.placebo.draws == 50 and cfg.placebo.match == ("weekday",)
    assert cfg.placebo.seed == 0 and cfg.placebo.window is None
    assert EventStudy.from_config(cfg).kp_correlation == "daily"
    assert EventStudyConfig().placebo is None and EventStudyConfig().kp_correlation == "sums"
    with pytest.raises(ValidationError, match="design"):
        EventStudyConfig(placebo={"design": "both"})
    with pytest.raises(ValidationError, match="match"):
        EventStudyConfig(placebo={"match": ["weekday", "weekday"]})
    with pytest.raises(ValidationError, match=r"placebo\.window"):
        EventStudyConfig(placebo={"window": [0, 40]})
    with pytest.raises(ValidationError, match="kp_correlation"):
        EventStudyConfig(kp_correlation="weekly")


def test_raw_model_in_basis_points_ties_and_all_equals_the_rerun(levels):
    # Yields move in whole basis points: CARs tie and are zero, which switches scipy's
    # Wilcoxon to its permutation p-value; the batched battery must still agree.
    study = EventStudy(model="raw", estimation_window=EST, event_window=EVW, min_estimation=60)
    ev = pseudo_events(pd.to_datetime(REAL), [f"e{i}" for i in range(5)])
    res = study.run(levels, ev)
    pl = res.placebo((0, 0), groups=GROUPS, draws=40, seed=1, match=("weekday",))
    ties = 0
    for d in range(0, 40, 4):
        day = pl.dates[pl.dates["draw"] == d].groupby("event", sort=False)["date"].first()
        rerun = study.run(levels, pseudo_events(day.to_numpy(), list(day.index)))
        ust = rerun.car(0, 0)["UST10Y"].to_numpy()
        ties += len(np.unique(np.abs(ust))) < len(ust) or (ust == 0).any()
        want = rerun.tests(0, 0, groups=GROUPS, draws=pl.bootstrap_draws, seed=pl.seed)
        mine = pl.statistics.query("draw == @d").set_index(["test", "series"])
        for _, row in want.iterrows():
            got = mine.loc[(row["test"], row["series"])]
            assert got["statistic"] == pytest.approx(row["statistic"], rel=1e-9, nan_ok=True)
            assert got["pvalue"] == pytest.approx(row["pvalue"], rel=1e-9, nan_ok=True)
    assert ties > 0  # the case this test is about did occur


# ------------------------------------------- signed studies and clean estimation windows
def test_signed_clean_window_placebo_inherits_signs_and_cleans_only_real_windows(levels):
    """A placebo of a study signed by direction with estimation_exclude='events':
    each pseudo event carries the direction of the real event it replaces, and its
    estimation window loses the days inside the REAL events' windows (not those of the
    other pseudo events). Reference: the days removed are counted by hand with a loop
    over UST10Y's dates, and the draw's statistics equal a rerun of the unsigned study
    on CARs flipped by hand."""
    real = pseudo_events(pd.to_datetime(REAL), [f"e{i}" for i in range(5)])
    real["direction"] = [1.0, -1.0, 1.0, -1.0, 1.0]
    signed = EventStudy(
        model="raw",
        estimation_window=EST,
        event_window=EVW,
        min_estimation=60,
        series=("UST10Y",),
        sign_by="direction",
        estimation_exclude="events",
    )
    res = signed.run(levels, real)
    pl = res.placebo(WINDOW, draws=3, seed=5)
    draws = pl.dates[pl.dates["series"] == "UST10Y"]
    own = pd.DatetimeIndex(levels.index[levels["UST10Y"].notna().to_numpy()])
    real_day0 = [int(own.searchsorted(pd.Timestamp(d))) for d in REAL]
    for d in range(3):
        day = draws[draws["draw"] == d].set_index("event")["date"]
        ev = pseudo_events(day.to_numpy(), [f"q{i}" for i in range(5)])
        # hand count: real-event window days inside each pseudo estimation window
        for i, date in enumerate(day):
            p0 = int(own.searchsorted(pd.Timestamp(date)))
            est = set(range(p0 + EST[0], p0 + EST[1] + 1))
            bad = set()
            for r0 in real_day0:
                bad |= {r0 + k for k in range(EVW[0], EVW[1] + 1)}
            expected = len(est & bad)
            # the unsigned rerun with the real events as the extra calendar
            unsigned = EventStudy(
                model="raw",
                estimation_window=EST,
                event_window=EVW,
                min_estimation=60,
                series=("UST10Y",),
                estimation_exclude="events",
                exclude_events=real,
                exclude_own_events=False,
            ).run(levels, ev)
            got = unsigned.clean_windows
            removed = got[got["event"] == f"q{i}"]["removed"].iloc[0]
            assert removed == expected, (d, i)
        # signed statistics = unsigned CARs flipped by the real events' directions
        car = unsigned.car(*WINDOW)["UST10Y"].to_numpy() * real["direction"].to_numpy()
        mine = pl.statistics.query("draw == @d and test == 'csect_t' and series == 'UST10Y'")
        t = car.mean() / (car.std(ddof=1) / math.sqrt(len(car)))
        assert mine["statistic"].iloc[0] == pytest.approx(t, rel=1e-9)
        # and every test of the draw equals the signed study rerun on the pseudo dates
        # with the real directions and the real events as the only calendar cleaned
        ev["direction"] = real["direction"].to_numpy()
        again = EventStudy(
            model="raw",
            estimation_window=EST,
            event_window=EVW,
            min_estimation=60,
            series=("UST10Y",),
            sign_by="direction",
            estimation_exclude="events",
            exclude_events=real,
            exclude_own_events=False,
        ).run(levels, ev)
        table = again.tests(*WINDOW, draws=pl.bootstrap_draws, seed=pl.seed)
        for test in ("bmp", "patell", "kolari_pynnonen"):
            want = table[(table["test"] == test) & (table["series"] == "UST10Y")]
            got = pl.statistics.query("draw == @d and test == @test and series == 'UST10Y'")
            assert got["statistic"].iloc[0] == pytest.approx(want["statistic"].iloc[0], rel=1e-9), (
                d,
                test,
            )
