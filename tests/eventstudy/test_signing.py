"""Tests of backtest/eventstudy/signing.py and EventStudy(sign_by=..., surprise_from=...).

Expected values are computed here from the levels: changes by hand (100 x first
differences of the yields), flipped by hand, and the test statistics from scipy/numpy
(t and BMP: ``scipy.stats.ttest_1samp``; Kolari-Pynnonen: BMP times the correction
written from the paper with ``numpy.corrcoef``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from backtest import events as events_mod
from backtest.errors import DataValidationError, RegressorLeftOutWarning
from backtest.eventstudy import EventStudy, signing

NY = "America/New_York"
REPO = Path(__file__).resolve().parents[2]
N_DAYS = 700
EST = (-250, -11)


@pytest.fixture(scope="module")
def levels() -> pd.DataFrame:
    rng = np.random.default_rng(13)
    idx = pd.bdate_range("2021-01-04", periods=N_DAYS)
    lv = pd.DataFrame(
        {
            "A": 3 + np.cumsum(rng.normal(0, 0.05, N_DAYS)),
            "B": 2 + np.cumsum(rng.normal(0, 0.04, N_DAYS)),
        },
        index=idx,
    )
    lv.attrs["backtest"] = {
        "series": {n: {"kind": "yield", "timezone": NY, "obs_time": "16:00"} for n in ("A", "B")}
    }
    return lv


POS = [300, 360, 420, 480, 540, 600]
DIRECTION = [1.0, -1.0, 1.0, np.nan, -1.0, 1.0]


def make_events(idx: pd.DatetimeIndex, **columns: list[object]) -> pd.DataFrame:
    """Date-only-like events at 09:00 New York on the days of POS (day 0 = that day)."""
    stamps = [pd.Timestamp(idx[p]).tz_localize(NY) + pd.Timedelta(hours=9) for p in POS]
    frame = pd.DataFrame(
        {"timestamp": stamps, "label": [f"e{i}" for i in range(len(POS))], **columns}
    )
    frame.insert(0, "event", [f"e{i}" for i in range(len(POS))])
    return frame


def bp_changes(levels: pd.DataFrame, name: str) -> np.ndarray:
    """Daily changes in bp, by hand: 100 x first differences of the yield."""
    values = levels[name].to_numpy()
    return np.concatenate([[np.nan], 100.0 * (values[1:] - values[:-1])])


def kp_by_hand(scar: np.ndarray, resid: np.ndarray, length: int) -> float:
    """Kolari-Pynnonen t from the paper's formula on `length`-day sums of residuals."""
    n = len(scar)
    t_bmp = float(scipy.stats.ttest_1samp(scar, 0.0).statistic)
    sums = np.array(
        [[row[i : i + length].sum() for i in range(len(row) - length + 1)] for row in resid]
    )
    corr = np.corrcoef(sums)
    rbar = (corr.sum() - n) / (n * (n - 1))
    return t_bmp * math.sqrt((1 - rbar) / (1 + (n - 1) * rbar))


def test_signed_car_and_tests_equal_hand_flipped_changes(levels):
    ev = make_events(levels.index, direction=DIRECTION)
    res = EventStudy(model="raw", event_window=(-2, 3), estimation_window=EST).run(
        levels, ev, kinds={"A": "yield", "B": "yield"}
    )
    signed = EventStudy(
        model="raw", event_window=(-2, 3), estimation_window=EST, sign_by="direction"
    ).run(levels, ev)
    d = bp_changes(levels, "A")
    keep = [i for i, s in enumerate(DIRECTION) if not np.isnan(s)]
    sign = np.array([DIRECTION[i] for i in keep])
    pos = np.array([POS[i] for i in keep])
    car = sign * (d[pos] + d[pos + 1])  # CAR(0, 1), raw model: AR = change
    # signed CARs: by hand, and the unsigned result's CARs flipped
    got = signed.car(0, 1)["A"]
    assert np.allclose(got.iloc[keep].to_numpy(), car, rtol=0, atol=1e-10)
    assert np.isnan(got.iloc[3])
    assert np.allclose(res.car(0, 1)["A"].iloc[keep].to_numpy() * sign, car, atol=1e-10)
    # estimation residuals of the raw model are the changes, signed
    resid = np.array([s * d[p + EST[0] : p + EST[1] + 1] for s, p in zip(sign, pos, strict=True)])
    sigma2 = (resid**2).sum(axis=1) / resid.shape[1]  # raw model: nothing estimated, df = L
    scar = car / np.sqrt(2 * sigma2)
    tests = signed.tests(0, 1).set_index(["series", "test"])
    t = scipy.stats.ttest_1samp(car, 0.0)
    assert tests.loc[("A", "csect_t"), "statistic"] == pytest.approx(t.statistic, rel=1e-10)
    assert tests.loc[("A", "csect_t"), "pvalue"] == pytest.approx(t.pvalue, rel=1e-8)
    assert tests.loc[("A", "csect_t"), "caar"] == pytest.approx(car.mean(), rel=1e-12)
    bmp = scipy.stats.ttest_1samp(scar, 0.0)
    assert tests.loc[("A", "bmp"), "statistic"] == pytest.approx(bmp.statistic, rel=1e-10)
    assert tests.loc[("A", "bmp"), "pvalue"] == pytest.approx(bmp.pvalue, rel=1e-8)
    kp = kp_by_hand(scar, resid, 2)
    assert tests.loc[("A", "kolari_pynnonen"), "statistic"] == pytest.approx(kp, rel=1e-9)
    assert tests.loc[("A", "kolari_pynnonen"), "pvalue"] == pytest.approx(
        2 * scipy.stats.t.sf(abs(kp), len(car) - 1), rel=1e-8
    )
    assert (tests["n"] == len(keep)).all()
    # the result says it is signed
    assert signed.design.sign_by == "direction"
    assert "CARs signed by direction" in (signed.design.signing or "")
    assert tests["note"].str.startswith("CARs signed by direction").all()
    assert "CARs signed by direction" in signed.summary(0, 1)
    assert signed.describe()["signs"]["e1"] == -1.0


def test_signed_aar_and_abnormal_are_flipped(levels):
    ev = make_events(levels.index, direction=DIRECTION)
    study = EventStudy(model="raw", event_window=(-2, 3), estimation_window=EST)
    signed = study.run(levels, ev).signed("direction")
    d = bp_changes(levels, "B")
    keep = [i for i, s in enumerate(DIRECTION) if not np.isnan(s)]
    by_hand = np.mean([DIRECTION[i] * d[POS[i] + 1] for i in keep])
    assert signed.aar().loc[1, "B"] == pytest.approx(by_hand, rel=1e-12)
    ab = signed.abnormal.set_index(["event", "series", "rel_day"])
    assert ab.loc[("e1", "B", 0), "actual"] == pytest.approx(-d[POS[1]], rel=1e-12)


def test_unsigned_events_are_excluded_with_a_reason(levels):
    ev = make_events(levels.index, surprise=[2.5, -1.0, 0.0, np.nan, -3.0, 0.5])
    res = EventStudy(
        model="raw", event_window=(-2, 3), estimation_window=EST, sign_by="surprise"
    ).run(levels, ev)
    excl = res.exclusions
    assert sorted(set(excl["event"])) == ["e2", "e3"]  # surprise 0 and blank
    assert excl["reason"].str.contains("no sign").all()
    assert res.events["sign"].tolist()[:2] == [1.0, -1.0]
    tests = res.tests(0, 0)
    assert (tests["n"] == 4).all()
    d = bp_changes(levels, "A")
    hand = [np.sign(v) * d[POS[i]] for i, v in enumerate([2.5, -1.0, 0, 0, -3.0, 0.5]) if v]
    csect = tests.set_index(["series", "test"]).loc[("A", "csect_t")]
    assert csect["caar"] == pytest.approx(np.mean(hand), rel=1e-12)


def test_tests_on_a_subset_of_events_match_scipy(levels):
    ev = make_events(levels.index, direction=DIRECTION)
    res = EventStudy(model="raw", event_window=(-2, 3), estimation_window=EST).run(levels, ev)
    d = bp_changes(levels, "A")
    up = [i for i, s in enumerate(DIRECTION) if s == 1.0]
    car = np.array([d[POS[i]] + d[POS[i] + 1] for i in up])
    t = scipy.stats.ttest_1samp(car, 0.0)
    for selection in (res.events["direction"] == 1.0, [f"e{i}" for i in up]):
        tests = res.tests(0, 1, events=selection).set_index(["series", "test"])
        assert tests.loc[("A", "csect_t"), "statistic"] == pytest.approx(t.statistic, rel=1e-10)
        assert tests.loc[("A", "csect_t"), "n"] == len(up)
    with pytest.raises(DataValidationError, match="unknown event id"):
        res.tests(0, 1, events=["nope"])
    with pytest.raises(DataValidationError, match="one value per event"):
        res.tests(0, 1, events=np.array([True, False]))


def test_reaction_sign_and_surprise_from_a_hand_computed_day0_change(levels):
    idx = levels.index
    # 16:30 New York is after A's 16:00 observation: A's day 0 is the next session.
    stamps = [
        pd.Timestamp(idx[p]).tz_localize(NY) + pd.Timedelta(hours=16, minutes=30) for p in POS
    ]
    ev = pd.DataFrame({"timestamp": stamps, "label": [f"e{i}" for i in range(len(POS))]})
    with pytest.warns(RegressorLeftOutWarning, match="A left out"):
        res = EventStudy(
            model="raw",
            event_window=(-2, 3),
            estimation_window=EST,
            series=("A", "B"),
            sign_by="reaction:A",
            surprise_from="reaction:A",
        ).run(levels, ev)
    a = bp_changes(levels, "A")
    b = bp_changes(levels, "B")
    move = np.array([a[p + 1] for p in POS])  # day 0 = next observation, by hand
    assert res.series == ("B",)
    assert np.allclose(res.events["surprise"].to_numpy(), move, atol=1e-10)
    assert np.array_equal(res.events["sign"].to_numpy(), np.sign(move))
    car = np.sign(move) * np.array([b[p + 1] for p in POS])
    assert np.allclose(res.car(0, 0)["B"].to_numpy(), car, atol=1e-10)
    assert any("positive by construction" in n for n in res.notes)
    assert res.design.sign_by == "reaction:A" and res.design.surprise_from == "reaction:A"


def test_surprise_from_a_column_and_sign_by_surprise(levels):
    ev = make_events(levels.index, size=[1.0, -2.0, 3.0, -4.0, 5.0, -6.0])
    res = EventStudy(
        model="raw",
        event_window=(-2, 3),
        estimation_window=EST,
        sign_by="surprise",
        surprise_from="size",
    ).run(levels, ev)
    assert res.events["surprise"].tolist() == [1.0, -2.0, 3.0, -4.0, 5.0, -6.0]
    d = bp_changes(levels, "A")
    hand = np.array([s * d[p] for s, p in zip([1, -1, 1, -1, 1, -1], POS, strict=True)])
    assert np.allclose(res.car(0, 0)["A"].to_numpy(), hand, atol=1e-10)


def test_bad_signing_options_are_refused(levels):
    with pytest.raises(DataValidationError, match="sign_by must be one of"):
        EventStudy(sign_by="up")
    with pytest.raises(DataValidationError, match="surprise_from"):
        EventStudy(surprise_from="reaction:")
    ev = make_events(levels.index)
    with pytest.raises(DataValidationError, match="no 'direction' column"):
        EventStudy(model="raw", estimation_window=EST, sign_by="direction").run(levels, ev)
    with pytest.raises(DataValidationError, match="needs a 'surprise' column"):
        EventStudy(model="raw", estimation_window=EST, sign_by="surprise").run(levels, ev)
    with pytest.raises(DataValidationError, match="levels has no column 'Z'"):
        EventStudy(model="raw", estimation_window=EST, sign_by="reaction:Z").run(levels, ev)
    res = EventStudy(model="raw", estimation_window=EST).run(levels, ev)
    signed = res.signed({"e0": 1, "e1": -1})
    assert set(signed.exclusions["event"]) == {"e2", "e3", "e4", "e5"}
    with pytest.raises(DataValidationError, match="already signed"):
        signed.signed({"e0": 1})


def test_events_direction_and_surprise_are_checked_with_file_and_line(tmp_path):
    good = tmp_path / "ok.csv"
    good.write_text(
        "date,label,direction,surprise\n2025-01-02,a,+1,0.5\n2025-01-03,b,,\n2025-01-06,c,-1,-2\n"
    )
    ev = events_mod.load(good)
    assert ev["direction"].tolist()[::2] == [1.0, -1.0] and np.isnan(ev["direction"][1])
    assert ev["surprise"].tolist()[::2] == [0.5, -2.0]
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "# rule: +1 up, -1 down\n#\ndate,label,direction\n2025-01-02,a,+1\n2025-01-03,b,up\n"
    )
    with pytest.raises(DataValidationError, match=r"bad.csv: line 5: direction must be \+1"):
        events_mod.load(bad)
    bad.write_text("date,label,direction\n2025-01-02,a,2\n")
    with pytest.raises(DataValidationError, match="line 2: direction must be"):
        events_mod.load(bad)
    bad.write_text("date,label,surprise\n2025-01-02,a,big\n")
    with pytest.raises(DataValidationError, match="line 2: surprise must be a finite number"):
        events_mod.load(bad)
    frame = pd.DataFrame(
        {"timestamp": [pd.Timestamp("2025-01-02 10:00", tz=NY)], "label": ["x"], "direction": [0]}
    )
    with pytest.raises(DataValidationError, match="row 0: direction must be"):
        events_mod.from_frame(frame)


def test_tariff_events_are_all_classified_or_explained():
    ev = events_mod.load(REPO / "data" / "events" / "tariffs_2025.csv")
    assert set(ev["direction"].dropna()) == {1.0, -1.0}
    # Counted by hand from the table in data/events/convert.py: 18 escalations,
    # 10 de-escalations, Kato's comment without a sign.
    assert (ev["direction"] == 1).sum() == 18 and (ev["direction"] == -1).sum() == 10
    assert ev.loc[ev["direction"].isna(), "event"].tolist() == ["kato_treasuries"]
    assert (ev["direction_reason"].str.len() > 0).all()
    groups = signing.event_groups(ev, "direction")
    assert list(groups) == ["+1", "-1"] and len(groups["-1"]) == 10


def test_signed_percentile_ranks_among_history_signed_the_same_way(levels):
    ev = make_events(levels.index, direction=DIRECTION)
    study = EventStudy(model="raw", event_window=(-2, 3), estimation_window=EST)
    signed = study.run(levels, ev).signed("direction")
    d = bp_changes(levels, "A")
    hist = d[1:]  # every one-day change of the series' history (raw changes)
    react = signed.reactions(0, 0).set_index(["event", "series"])
    for i in (0, 1):  # +1 and -1 events
        change = DIRECTION[i] * d[POS[i]]
        signed_hist = DIRECTION[i] * hist
        by_hand = 100.0 * np.sum(signed_hist <= change + 1e-9) / len(hist)
        assert react.loc[(f"e{i}", "A"), "change"] == pytest.approx(change, abs=1e-10)
        assert react.loc[(f"e{i}", "A"), "percentile"] == pytest.approx(by_hand, abs=1e-9)
