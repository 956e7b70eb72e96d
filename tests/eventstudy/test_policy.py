"""Tests of backtest/eventstudy/policy.py: expected values written by hand from the rule."""

from __future__ import annotations

import numpy as np

from backtest.eventstudy.policy import (
    INDEPENDENCE_TESTS,
    TESTS,
    recommended_test,
    shared_day0_count,
    verdicts,
    verdicts_without_data,
)

ROBUST = ("kolari_pynnonen", "portfolio", "bootstrap")


def dates(*days: str) -> np.ndarray:
    return np.array(days, dtype="datetime64[ns]")


def test_battery_is_independence_tests_plus_robust_ones():
    assert set(TESTS) == INDEPENDENCE_TESTS | set(ROBUST)
    assert not INDEPENDENCE_TESTS & set(ROBUST)


def test_shared_day0_count_by_hand():
    assert shared_day0_count(dates("2025-04-03", "2025-04-10")) == 0
    # three events on 04-03, one on 04-10: two of them share a date already taken
    assert shared_day0_count(dates("2025-04-03", "2025-04-03", "2025-04-10", "2025-04-03")) == 2
    assert recommended_test(0) == "bmp"
    assert recommended_test(2) == "kolari_pynnonen"


def test_distinct_dates_every_test_valid_bmp_recommended():
    v = verdicts(dates("2025-04-03", "2025-04-10"), mean_residual_correlation=0.0123)
    assert list(v) == list(TESTS)
    assert all(x.valid for x in v.values())
    assert [t for t, x in v.items() if x.recommended] == ["bmp"]
    assert v["bmp"].note == "no shared day-0 dates"
    assert v["kolari_pynnonen"].note == "mean residual correlation 0.012"
    assert v["csect_t"].note == ""


def test_shared_dates_invalidate_independence_tests():
    v = verdicts(
        dates("2025-04-03", "2025-04-03", "2025-04-10"),
        mean_residual_correlation=-0.5,
        left_out="1 incomplete window left out (e9)",
    )
    why = "1 of 3 events share a day-0 date: tests assuming independent events over-reject"
    for test in INDEPENDENCE_TESTS:
        assert v[test] == (False, False, f"{why}; 1 incomplete window left out (e9)")
    assert v["kolari_pynnonen"] == (
        True,
        True,
        f"{why}; mean residual correlation -0.500; 1 incomplete window left out (e9)",
    )
    assert v["portfolio"] == (True, False, "1 incomplete window left out (e9)")
    assert v["bootstrap"] == (True, False, "1 incomplete window left out (e9)")


def test_no_complete_window():
    v = verdicts_without_data("2 incomplete windows left out (a, b)")
    assert list(v) == list(TESTS)
    assert not any(x.valid for x in v.values())
    assert [t for t, x in v.items() if x.recommended] == ["bmp"]
    assert {x.note for x in v.values()} == {
        "no complete window: 2 incomplete windows left out (a, b)"
    }
