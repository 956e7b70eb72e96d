"""Issue 11, numbers: a number must never look complete when it is not.

Three families, each case asserting one outcome class:

* **clean error** - malformed levels given to the Python API (``EventStudy.run``,
  ``engine.backtest``, ``engine.sweep``, ``data.reactions``) raise
  :class:`~backtest.errors.DataValidationError` whose message names the problem and
  the fix;
* **correct result** - CARs, cross-event tests and AARs around windows that run
  beyond the data, checked against references computed here from the levels by
  closed form (never by calling the code under test);
* **left out, said so** - a market or factor series is not studied against itself.

What a quant expects, as decided here:

* relative days count each series' own trading days; a day beyond its last
  observation (or before its first) is *not in the data*, so a window with such days
  is incomplete: CAR NaN, ``"window incomplete: k of n days"``, out of the tests;
* a day the series did not trade (NaN level in the wide frame) is not one of its
  days at all: the window steps over it and stays complete;
* a day the series traded but the market (regressor) did not is a *missing* day
  inside the data: the CAR sums the other days, ``missing`` counts it (as before);
* an event on or before a series' first observation has no day 0 in the data.

One invariant among them: ``test_series_run_in_blocks_give_the_same_incomplete_windows``
(blocks of one series equal the whole run).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from backtest import data, engine
from backtest.errors import DataValidationError, RegressorLeftOutWarning
from backtest.eventstudy import EventStudy

ROOT = Path(__file__).resolve().parents[2]
N = 400
EST = (-100, -11)
WIN = (-5, 10)
COMPLETE_AT = (150, 190, 230, 270, 310, 350)  # day-0 positions of complete events
LATE = N - 4  # the data end 3 days after this event's day 0: 4 of 11 days


def make_levels(n: int = N, seed: int = 0) -> pd.DataFrame:
    """SPX (index) and UST10Y (yield) levels on business days, random walks."""
    idx = pd.bdate_range("2023-01-02", periods=n, name="date")
    rng = np.random.default_rng(seed)
    spx = 4000.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    ust = 4.0 + np.cumsum(rng.normal(0.0, 0.05, n))
    # A large move on the incomplete event's days: had its partial sum entered the
    # tests it would move them (checked below).
    spx[LATE:] *= np.exp(0.08)
    ust[LATE:] += 0.60
    return pd.DataFrame({"SPX": spx, "UST10Y": ust}, index=idx)


def make_events(dates: list[pd.Timestamp]) -> pd.DataFrame:
    """Date-only New York events on the given dates, ids e0, e1, ..."""
    return pd.DataFrame(
        {
            "event": [f"e{i}" for i in range(len(dates))],
            "timestamp": [pd.Timestamp(d).tz_localize("America/New_York") for d in dates],
            "timezone": "America/New_York",
            "date": [pd.Timestamp(d) for d in dates],
            "time_given": False,
            "label": [f"event {i}" for i in range(len(dates))],
            "category": "",
        }
    )


def study(**kw) -> EventStudy:
    args = {
        "model": "raw",
        "estimation_window": EST,
        "event_window": WIN,
        "min_estimation": 50,
    }
    return EventStudy(**{**args, **kw})


# Independent references: changes and sums straight from the levels ----------------------


def own_changes(levels: pd.DataFrame, col: str) -> np.ndarray:
    """Changes over the series' own observations: bp for UST10Y, % log for SPX."""
    x = levels[col].dropna().to_numpy()
    return 100.0 * np.diff(x) if col == "UST10Y" else 100.0 * np.diff(np.log(x))


def ref_car(levels: pd.DataFrame, col: str, d0: int, a: int, b: int) -> float:
    """Sum of the raw changes on own observations d0+a..d0+b (change i is obs i+1)."""
    ch = own_changes(levels, col)
    return float(ch[d0 + a - 1 : d0 + b].sum())


def ref_scar(levels: pd.DataFrame, col: str, d0: int, a: int, b: int) -> float:
    """Raw model: s^2 = mean squared change over the estimation days; sd = s sqrt(n)."""
    ch = own_changes(levels, col)
    est = ch[d0 + EST[0] - 1 : d0 + EST[1]]
    s2 = float((est**2).sum() / len(est))
    return ref_car(levels, col, d0, a, b) / np.sqrt((b - a + 1) * s2)


def t_test(x: np.ndarray) -> tuple[float, float]:
    """One-sample t of mean zero, two-sided p from t(N-1) (written out, not scipy's)."""
    n = len(x)
    t = x.mean() / (x.std(ddof=1) / np.sqrt(n))
    return float(t), float(2 * sps.t.sf(abs(t), n - 1))


@pytest.fixture(scope="module")
def levels() -> pd.DataFrame:
    return make_levels()


@pytest.fixture(scope="module")
def late_events(levels) -> pd.DataFrame:
    idx = levels.index
    return make_events([idx[p] for p in (*COMPLETE_AT, LATE)])


# 1. Clean errors: the shared levels check at all four entry points -----------------------


def _event_study(lv: pd.DataFrame) -> object:
    ev = make_events([pd.Timestamp("2023-08-01")])
    return study().run(lv, ev)


ENTRIES = {
    "EventStudy.run": _event_study,
    "engine.backtest": lambda lv: engine.backtest("buy_and_hold", {}, lv, series="SPX"),
    "engine.sweep": lambda lv: engine.sweep(
        "ma_crossover", {"fast": [5], "slow": [20]}, lv, series="SPX"
    ),
    "data.reactions": data.reactions,
}


def _dup_date(lv: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([lv.iloc[:200], lv.iloc[199:]])


def _inf(lv: pd.DataFrame) -> pd.DataFrame:
    out = lv.copy()
    out.iloc[10, 0] = np.inf
    return out


def _nat(lv: pd.DataFrame) -> pd.DataFrame:
    return lv.set_axis(pd.DatetimeIndex([*lv.index[:-1], pd.NaT], name="date"))


DEFECTS = {
    # id: (make the defect, words naming the problem, words naming the fix)
    "shuffled": (
        lambda lv: lv.sample(frac=1.0, random_state=0),
        "ascending date order",
        "sort_index()",
    ),
    "descending": (lambda lv: lv.iloc[::-1], "descending", "sort_index()"),
    "duplicate-date": (_dup_date, "duplicated date(s), first 2023-10-06", "duplicated(keep="),
    "no-rows": (lambda lv: lv.iloc[:0], "empty (0 rows", "date range"),
    "no-columns": (lambda lv: lv[[]], "empty (400 rows x 0 columns)", "series names"),
    "range-index": (lambda lv: lv.reset_index(drop=True), "DatetimeIndex", "pd.to_datetime"),
    "string-index": (
        lambda lv: lv.set_axis(lv.index.strftime("%Y-%m-%d")),
        "DatetimeIndex",
        "pd.to_datetime",
    ),
    "tz-aware": (
        lambda lv: lv.tz_localize("Asia/Tokyo"),
        "tz-aware (Asia/Tokyo)",
        "tz_localize(None)",
    ),
    "nat-in-index": (_nat, "missing date(s) (NaT)", "levels.index.notna()"),
    "text-column": (
        lambda lv: lv.assign(SPX=lv["SPX"].astype(str)),
        "are not numeric",
        "pd.to_numeric",
    ),
    "all-nan-series": (
        lambda lv: lv.assign(SPX=np.nan),
        "['SPX'] have no observation (all NaN)",
        "drop them",
    ),
    "infinite-value": (_inf, "'SPX' holds an infinite value", "replace"),
    "duplicate-column": (
        lambda lv: pd.concat([lv, lv[["SPX"]]], axis=1),
        "column 'SPX' twice",
        "duplicated()",
    ),
}


@pytest.mark.parametrize("defect", list(DEFECTS), ids=list(DEFECTS))
@pytest.mark.parametrize("entry", list(ENTRIES), ids=list(ENTRIES))
def test_malformed_levels_is_a_clean_error(levels, entry, defect):
    make, problem, fix = DEFECTS[defect]
    bad = make(levels.copy())
    if entry == "data.reactions" and defect == "all-nan-series":
        # correct result instead: reactions is element-wise, an all-NaN column gives
        # all-NaN changes (tests/data/test_reactions.py covers it); the functions that
        # study or trade a series reject it
        assert data.reactions(bad)["SPX"].isna().all()
        return
    with pytest.raises(DataValidationError) as info:
        ENTRIES[entry](bad)
    msg = str(info.value)
    assert msg.startswith(entry.split(".")[-1] if entry == "data.reactions" else entry), msg
    assert problem in msg, msg
    assert fix in msg, msg


@pytest.mark.parametrize("entry", list(ENTRIES), ids=list(ENTRIES))
def test_clean_levels_pass_every_entry(levels, entry):
    # correct result: the check rejects nothing a well-formed frame holds
    ENTRIES[entry](levels)


def test_a_series_with_a_gap_passes_the_check(levels):
    # NaN levels are days a market was closed, not a defect
    lv = levels.copy()
    lv.iloc[5:8, 1] = np.nan
    assert np.isnan(data.reactions(lv)["UST10Y"].iloc[5:8]).all()


# 2. Incomplete windows: correct results against closed-form references ---------------------


def test_incomplete_car_is_nan_with_the_reason(levels, late_events):
    res = study().run(levels, late_events)
    car = res.car(0, 10)
    assert car.loc["e6"].isna().all()
    for k, pos in enumerate(COMPLETE_AT):  # the complete ones are the sums of changes
        assert car.loc[f"e{k}", "SPX"] == pytest.approx(ref_car(levels, "SPX", pos, 0, 10))
        assert car.loc[f"e{k}", "UST10Y"] == pytest.approx(ref_car(levels, "UST10Y", pos, 0, 10))
    inc = res.incomplete(0, 10)
    assert inc[["event", "series"]].values.tolist() == [["e6", "SPX"], ["e6", "UST10Y"]]
    assert inc["reason"].str.startswith("window incomplete: 4 of 11 days").all()
    assert inc["reason"].str.contains("data end at day +3", regex=False).all()
    assert not inc["kept"].any()
    react = res.reactions(0, 10).set_index(["event", "series"])
    assert not react.loc[("e6", "SPX"), "complete"]
    assert react.loc[("e6", "SPX"), "days_in_data"] == 4
    assert react.loc[("e0", "SPX"), "complete"]
    assert np.isnan(
        react.loc[("e6", "SPX"), ["car", "t", "pvalue", "empirical_pvalue"]].to_numpy(float)
    ).all()


@pytest.mark.parametrize("series", ["SPX", "UST10Y"])
def test_cross_event_tests_use_the_complete_events_only(levels, late_events, series):
    res = study().run(levels, late_events)
    tests = res.tests(0, 10, draws=99).set_index(["series", "test"])
    cars = np.array([ref_car(levels, series, p, 0, 10) for p in COMPLETE_AT])
    scars = np.array([ref_scar(levels, series, p, 0, 10) for p in COMPLETE_AT])
    t_cs, p_cs = t_test(cars)
    t_bmp, p_bmp = t_test(scars)
    df = 90.0  # L - k: 90 estimation days, nothing estimated by the raw model
    z = scars.sum() / np.sqrt(len(scars) * df / (df - 2))
    for test, stat, pval in [
        ("csect_t", t_cs, p_cs),
        ("bmp", t_bmp, p_bmp),
        ("patell", z, 2 * sps.norm.sf(abs(z))),
    ]:
        row = tests.loc[(series, test)]
        assert row["n"] == len(COMPLETE_AT)
        assert row["incomplete"] == 1
        assert "1 incomplete window left out (e6)" in row["note"]
        assert row["statistic"] == pytest.approx(stat, rel=1e-9)
        assert row["pvalue"] == pytest.approx(pval, rel=1e-9)
    # and the partial sum would have moved the test: the case is not vacuous
    partial = ref_scar(levels, series, LATE, 0, 3) * np.sqrt(4 / 11)
    assert abs(t_test(np.r_[scars, partial])[1] - p_bmp) > 0.01


def test_allow_incomplete_keeps_the_partial_sum_marked(levels, late_events):
    strict = study().run(levels, late_events)
    res = study(allow_incomplete=True).run(levels, late_events)
    car = res.car(0, 10)
    for s in ("SPX", "UST10Y"):  # sum of the 4 available changes (days 0..+3)
        assert car.loc["e6", s] == pytest.approx(ref_car(levels, s, LATE, 0, 3))
        assert car.loc["e6", s] == pytest.approx(own_changes(levels, s)[-4:].sum())
    inc = res.incomplete(0, 10)
    assert inc["kept"].all() and len(inc) == 2
    assert inc["reason"].str.contains("partial sum kept (allow_incomplete)", regex=False).all()
    react = res.reactions(0, 10).set_index(["event", "series"])
    assert react.loc[("e6", "SPX"), "n"] == 4 and not react.loc[("e6", "SPX"), "complete"]
    # still out of the cross-event tests: identical to the default
    pd.testing.assert_frame_equal(res.tests(0, 10, draws=99), strict.tests(0, 10, draws=99))


def test_series_run_in_blocks_give_the_same_incomplete_windows(levels, late_events):
    # the executor path (one series per task) joins the per-series data spans
    from backtest.execution import LocalExecutor

    whole = study().run(levels, late_events)
    blocks = study().run(levels, late_events, executor=LocalExecutor(), block_size=1)
    pd.testing.assert_frame_equal(blocks.incomplete(0, 10), whole.incomplete(0, 10))
    pd.testing.assert_frame_equal(blocks.car(0, 10), whole.car(0, 10))


def test_history_is_checked_like_levels(levels, late_events):
    with pytest.raises(DataValidationError, match=r"EventStudy.run \(history\).*sort_index"):
        study().run(levels, late_events, history=levels.iloc[::-1])


def test_windows_of_one_event_differ_in_completeness(levels, late_events):
    # (0, 0) and (0, 3) are complete for the late event, (-5, 10) and (0, 4) are not
    res = study().run(levels, late_events)
    assert res.car(0, 0).loc["e6", "SPX"] == pytest.approx(ref_car(levels, "SPX", LATE, 0, 0))
    assert res.car(0, 3).loc["e6", "SPX"] == pytest.approx(ref_car(levels, "SPX", LATE, 0, 3))
    assert res.incomplete(0, 3).empty
    assert res.incomplete(0, 4)["reason"].str.startswith("window incomplete: 4 of 5 days").all()
    assert res.incomplete(-5, 10)["reason"].str.startswith("window incomplete: 9 of 16 days").all()


def test_day0_on_the_last_observation(levels):
    ev = make_events([levels.index[-1]])
    res = study().run(levels, ev)
    assert res.car(0, 0).loc["e0", "SPX"] == pytest.approx(own_changes(levels, "SPX")[-1])
    assert res.incomplete(0, 10)["reason"].str.startswith("window incomplete: 1 of 11 days").all()
    # one event, incomplete: the tests say so instead of vanishing
    tests = res.tests(0, 10, draws=99)
    assert (tests["n"] == 0).all() and (tests["incomplete"] == 1).all()
    assert tests["pvalue"].isna().all()
    assert tests["note"].str.startswith("no complete window").all()


def test_event_before_the_data_start_is_excluded_with_no_day0(levels):
    ev = make_events([pd.Timestamp("2022-06-01"), levels.index[0], levels.index[200]])
    res = study().run(levels, ev)
    excl = res.exclusions.set_index(["event", "series"])
    for e in ("e0", "e1"):
        assert excl.loc[(e, "SPX"), "reason"].startswith("no observation before the event")
        assert "first observation (2023-01-02)" in excl.loc[(e, "SPX"), "reason"]
    assert res.day0.loc[["e0", "e1"]].isna().all().all()
    assert res.day0.loc["e2", "SPX"] == levels.index[200]


@pytest.mark.parametrize(
    ("pos", "included", "nobs"),
    [
        # estimation window cut short by the data start: usable days are positions
        # 1..pos-11 (position 0 has no change); min_estimation=100 decides
        pytest.param(150, True, 139, id="cut-short-but-enough"),
        pytest.param(90, False, 79, id="cut-short-too-few"),
    ],
)
def test_estimation_window_cut_by_the_data_start(levels, pos, included, nobs):
    ev = make_events([levels.index[pos]])
    res = study(estimation_window=(-250, -11), min_estimation=100).run(levels, ev)
    if included:
        assert res.parameters.loc[0, "nobs"] == nobs
    else:
        reason = res.exclusions.set_index("series").loc["SPX", "reason"]
        assert reason == f"only {nobs} usable estimation days (min_estimation=100)"


def test_gap_in_the_window_counts_own_trading_days(levels):
    # UST10Y has no observation on 3 days inside the window: its window steps over
    # them (its own trading days) and stays complete; SPX is unaffected
    lv = levels.copy()
    lv.iloc[203:206, 1] = np.nan
    res = study().run(lv, make_events([lv.index[200]]))
    assert res.incomplete(0, 10).empty
    own = lv["UST10Y"].dropna()
    d0 = own.index.get_loc(lv.index[200])
    expected = 100.0 * (own.iloc[d0 + 10] - own.iloc[d0 - 1])  # 11 own days, telescoped
    assert res.car(0, 10).loc["e0", "UST10Y"] == pytest.approx(expected)
    assert res.day0.loc["e0", "UST10Y"] == lv.index[200]


def test_series_ending_earlier_is_incomplete_alone(levels):
    # session-aware: UST10Y's data end 2 rows before SPX's; only its window is cut
    lv = levels.copy()
    lv.iloc[-2:, 1] = np.nan
    res = study().run(lv, make_events([lv.index[N - 6]]))
    inc = res.incomplete(0, 5)
    assert inc["series"].tolist() == ["UST10Y"]
    assert inc["reason"].iloc[0].startswith("window incomplete: 4 of 6 days")
    assert res.car(0, 5).loc["e0", "SPX"] == pytest.approx(ref_car(lv, "SPX", N - 6, 0, 5))


def test_regressor_gap_inside_the_data_is_a_missing_day_not_incomplete(levels):
    lv = levels.copy()
    lv["NKY"] = 30000.0 * np.exp(np.cumsum(np.random.default_rng(1).normal(0, 0.01, N)))
    lv.loc[lv.index[203], "SPX"] = np.nan  # the market did not trade that day
    # by date (as of the Nikkei's clock the market moved 0 that day: no missing day)
    res = study(
        model="market_adjusted", market="SPX", series=("NKY",), market_alignment="date"
    ).run(lv, make_events([lv.index[200]]))
    react = res.reactions(0, 10).iloc[0]
    assert react["complete"] and react["missing"] == 1 and react["n"] == 10
    nky = own_changes(lv, "NKY")
    # the market's change since its own previous observation: day 204's spans the gap
    spx = np.log(lv["SPX"])
    market = (100.0 * (spx - spx.ffill().shift(1))).to_numpy()
    expected = sum(nky[d - 1] - market[d] for d in range(200, 211) if d != 203)
    assert react["car"] == pytest.approx(expected)


def test_aar_averages_the_same_events_every_day(levels, late_events):
    res = study().run(levels, late_events)
    aar = res.aar()
    for rel in (-5, 0, 3, 10):  # e6 has days 0..3 but an incomplete event window: out
        ref = np.mean([own_changes(levels, "SPX")[p + rel - 1] for p in COMPLETE_AT])
        assert aar.loc[rel, "SPX"] == pytest.approx(ref)
    ab = res.abnormal
    assert not ab.loc[ab["event"] == "e6", "window_complete"].any()
    assert ab.loc[ab["event"] != "e6", "window_complete"].all()
    # allow_incomplete: the late event is averaged on the days it has
    loose = study(allow_incomplete=True).run(levels, late_events).aar()
    ref3 = np.mean([own_changes(levels, "SPX")[p + 2] for p in (*COMPLETE_AT, LATE)])
    assert loose.loc[3, "SPX"] == pytest.approx(ref3)
    assert loose.loc[10, "SPX"] == pytest.approx(aar.loc[10, "SPX"])


# 3. A market or factor series is not studied against itself --------------------------------


@pytest.mark.parametrize(
    "kw",
    [
        pytest.param({"model": "market", "market": "SPX"}, id="market"),
        # by date: the reference below subtracts SPX's same-date changes
        pytest.param(
            {"model": "market_adjusted", "market": "SPX", "market_alignment": "date"},
            id="market_adjusted",
        ),
        pytest.param({"model": "factor", "factors": ("SPX",)}, id="factor"),
    ],
)
def test_regressor_among_series_is_left_out_and_said(levels, late_events, kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no numpy noise either
        with pytest.warns(RegressorLeftOutWarning, match="SPX left out of the study"):
            res = study(series=("SPX", "UST10Y"), **kw).run(levels, late_events)
        assert res.series == ("UST10Y",)
        assert res.notes and "SPX left out" in res.notes[0]
        assert res.describe()["notes"] == list(res.notes)
        res.tests(0, 5, draws=99)
    if kw["model"] == "market_adjusted":
        p = COMPLETE_AT[0]
        ref = ref_car(levels, "UST10Y", p, 0, 5) - ref_car(levels, "SPX", p, 0, 5)
        assert res.car(0, 5).loc["e0", "UST10Y"] == pytest.approx(ref)


def test_only_the_regressor_requested_is_a_clean_error(levels, late_events):
    with pytest.warns(RegressorLeftOutWarning), pytest.raises(DataValidationError) as info:
        study(model="market", market="SPX", series=("SPX",)).run(levels, late_events)
    assert "no series to study" in str(info.value) and "regressor" in str(info.value)


# 4. End to end: console, summary.md, results.json and report mark incomplete windows -------


def _config(tmp_path: Path, **event_study) -> Path:
    es = {"model": "raw", "windows": [[0, 3], [0, 0]], "bootstrap_draws": 99, **event_study}
    cfg = {
        "extends": str(ROOT / "configs" / "base_2025.yaml"),
        "name": "incomplete_case",
        "title": "Kato remark, data cut after 2025-05-06",
        "data": {"series": ["UST10Y", "NKY"], "end": "2025-05-06", "offline": True},
        "events": {"ids": ["kato_treasuries"]},
        "event_study": es,
        "output": {"dir": str(tmp_path / "run")},
    }
    path = tmp_path / "case.yaml"
    path.write_text(json.dumps(cfg), encoding="utf-8")  # JSON is YAML
    return path


@pytest.mark.parametrize("allow", [False, True], ids=["default-nan", "allow-incomplete"])
def test_cli_marks_incomplete_windows_everywhere(cli, tmp_path, allow):
    code, out, err = cli("run", _config(tmp_path, allow_incomplete=allow), "--offline")
    assert code == 0, err
    run = tmp_path / "run"
    results = json.loads((run / "results.json").read_text(encoding="utf-8"))
    schema = json.loads((ROOT / "backtest/report/results.schema.json").read_text())
    jsonschema.validate(results, schema)
    head = results["event_study"]["windows"][0]
    # New York: 05-02, 05-05, 05-06 in the data; Tokyo (Golden Week): 05-02 only
    got = {
        (x["series"], x["days_in_data"], x["window_days"], x["kept"]) for x in head["incomplete"]
    }
    assert got == {("UST10Y", 3, 4, allow), ("NKY", 1, 4, allow)}
    react = {r["series"]: r for r in head["reactions"]}
    assert react["UST10Y"]["complete"] is False
    assert (react["UST10Y"]["car"] is None) is (not allow)
    # the (0, 0) window is complete and printed as usual
    assert results["event_study"]["windows"][1]["incomplete"] == []
    tests = {t["test"]: t for t in head["tests"] if t["series"] == "UST10Y"}
    assert tests["bmp"]["n"] == 0 and tests["bmp"]["incomplete"] == 1
    summary = (run / "summary.md").read_text(encoding="utf-8")
    html = (run / "report.html").read_text(encoding="utf-8")
    if allow:
        assert "† (incomplete 3/4)" in summary
        assert "partial sums shown (allow_incomplete)" in summary
    else:
        assert "n/a (window incomplete 3/4)" in summary
        assert "CAR not computed (n/a)" in summary
    assert "kato_treasuries/UST10Y 3/4" in summary and "kato_treasuries/NKY 1/4" in summary
    assert "| kato_treasuries | UST10Y | +0..+3 | window incomplete: 3 of 4 days" in summary
    assert "window incomplete: 1 of 4 days" in html and "window incomplete 3/4" in html
    console = " ".join(out.split())
    assert ("+0..+3 run beyond the data" in console) and "kato_treasuries/UST10Y 3/4" in console
    assert ("†" in out) if allow else ("n/a (window" in console)


@pytest.mark.filterwarnings("default::backtest.errors.RegressorLeftOutWarning")
def test_cli_market_model_with_the_market_among_series(cli, tmp_path):
    cfg = _config(tmp_path, model="market", market="SPX", windows=[[0, 1]])
    text = json.loads(cfg.read_text())
    text["data"] = {"series": ["UST10Y", "SPX"], "end": "2025-06-30", "offline": True}
    cfg.write_text(json.dumps(text), encoding="utf-8")
    code, out, err = cli("run", cfg, "--offline")
    assert code == 0, err
    assert "SPX left out of the study" in " ".join(err.split())
    assert "RuntimeWarning" not in err
    results = json.loads((tmp_path / "run" / "results.json").read_text(encoding="utf-8"))
    assert results["event_study"]["design"]["series"] == ["UST10Y"]
    assert "SPX left out" in results["event_study"]["design"]["notes"][0]
    assert "+0.00%" not in out
    assert "Note: SPX left out" in (tmp_path / "run" / "summary.md").read_text(encoding="utf-8")
