"""Tests of backtest/eventstudy/result.py and design.py: the result is read-only and
records the design it was run with (invariants, no expected numbers)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from backtest.eventstudy import EventStudy, StudyDesign
from backtest.eventstudy import result as result_mod
from backtest.eventstudy.policy import INDEPENDENCE_TESTS, TESTS

NY = "America/New_York"


@pytest.fixture(scope="module")
def res():
    idx = pd.bdate_range("2020-01-01", periods=90)
    steps = np.sin(np.arange(90) * 0.7) * 0.05
    lv = pd.DataFrame({"X": 3 + np.cumsum(steps), "M": 2 + np.cumsum(steps[::-1])}, index=idx)
    lv.attrs["backtest"] = {
        "series": {n: {"kind": "yield", "timezone": NY, "obs_time": "16:00"} for n in ("X", "M")}
    }
    ev = pd.DataFrame(
        {"timestamp": [pd.Timestamp(idx[70], tz=NY) + pd.Timedelta(hours=17)], "label": ["e"]}
    )
    study = EventStudy(
        model="market",
        market="M",
        estimation_window=(-50, -6),
        event_window=(-3, 5),
        min_estimation=30,
        allow_incomplete=True,
    )
    return study.run(lv, ev)


def test_design_records_the_study(res):
    assert res.design == StudyDesign(
        model="market",
        estimation_window=(-50, -6),
        event_window=(-3, 5),
        min_estimation=30,
        allow_incomplete=True,
        market="M",
        factors=(),
    )
    assert list(res.parameters.columns[-2:]) == list(res.design.coefficient_names)
    assert res.describe()["event_window"] == [-3, 5]


def test_design_and_result_are_read_only(res):
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.design.model = "raw"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="read-only"):
        res.design = None
    with pytest.raises(AttributeError, match="read-only"):
        res.anything = 1
    with pytest.raises(AttributeError, match="read-only"):
        del res._p
    # cached tables still work after the guard
    assert res.car(0, 1).shape == (1, 1)
    assert str(res) == res.summary()


def test_abnormal_table_owns_its_columns(res):
    # The long table is built without copying columns together; writing into one
    # table must still leave the result (and the next table) as it was.
    first = res.abnormal
    before = first.copy()
    first.loc[0, ["actual", "normal", "abnormal", "sd", "standardized"]] = -999.0
    first.loc[0, "date"] = pd.Timestamp("1900-01-01")
    first.loc[0, "rel_day"] = 99
    first.loc[0, "window_complete"] = not bool(before.loc[0, "window_complete"])
    pd.testing.assert_frame_equal(res.abnormal, before)


def test_result_re_exports_the_policy_names():
    assert result_mod.TESTS is TESTS
    assert result_mod.INDEPENDENCE_TESTS is INDEPENDENCE_TESTS


def test_study_design_coefficient_names():
    base = {"estimation_window": (-9, -3), "event_window": (0, 1), "min_estimation": 5}
    names = {
        m: StudyDesign(
            model=m, allow_incomplete=False, factors=("F1", "F2"), **base
        ).coefficient_names
        for m in ("raw", "constant_mean", "market", "market_adjusted", "factor")
    }
    assert names == {
        "raw": (),
        "constant_mean": ("mean",),
        "market": ("alpha", "beta"),
        "market_adjusted": (),
        "factor": ("alpha", "F1", "F2"),
    }
