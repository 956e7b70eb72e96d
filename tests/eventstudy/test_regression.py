"""Tests of backtest/eventstudy/regression.py (EventStudyResult.regress).

Expected values: statsmodels OLS run here on a design matrix built by hand (numpy, no
formula), with CARs computed by hand from the levels (sums of 100 x first differences
of the yields), for HC3, clustered (by day-0 date) and classical standard errors.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from backtest.errors import DataValidationError
from backtest.eventstudy import EventStudy

NY = "America/New_York"
N_DAYS = 600
EST = (-250, -11)
# 10 events; e2/e3 and e6/e7 share their day-0 date (clusters of two)
POS = [300, 320, 340, 340, 380, 400, 420, 420, 460, 480]
CATEGORY = ["a", "b", "a", "c", "b", "a", "c", "b", "a", "c"]
SURPRISE = [0.5, -1.0, 2.0, 0.1, -0.7, 1.5, -2.2, 0.3, 0.9, -1.4]


@pytest.fixture(scope="module")
def levels() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    idx = pd.bdate_range("2021-01-04", periods=N_DAYS)
    lv = pd.DataFrame(
        {
            "A": 3 + np.cumsum(rng.normal(0, 0.05, N_DAYS)),
            "B": 2 + np.cumsum(rng.normal(0, 0.04, N_DAYS)),
            "C": 100 * np.exp(np.cumsum(rng.normal(0, 0.01, N_DAYS))),
        },
        index=idx,
    )
    kinds = {"A": "yield", "B": "yield", "C": "index"}
    lv.attrs["backtest"] = {
        "series": {n: {"kind": k, "timezone": NY, "obs_time": "16:00"} for n, k in kinds.items()}
    }
    return lv


@pytest.fixture(scope="module")
def res(levels):
    idx = levels.index
    ev = pd.DataFrame(
        {
            "event": [f"e{i}" for i in range(len(POS))],
            "timestamp": [
                pd.Timestamp(idx[p]).tz_localize(NY) + pd.Timedelta(hours=9 + i % 2)
                for i, p in enumerate(POS)
            ],
            "label": [f"event {i}" for i in range(len(POS))],
            "category": CATEGORY,
            "surprise": SURPRISE,
        }
    )
    return EventStudy(model="raw", event_window=(-2, 3), estimation_window=EST).run(levels, ev)


def hand_car(levels: pd.DataFrame, name: str) -> np.ndarray:
    """CAR(0, 1) of each event, by hand: the sum of two daily bp changes (raw model)."""
    y = levels[name].to_numpy()
    return np.array([100 * (y[p] - y[p - 1]) + 100 * (y[p + 1] - y[p]) for p in POS])


def design(rows: list[int]) -> np.ndarray:
    """Intercept, surprise, dummies for categories b and c (reference a), by hand."""
    cat = np.array(CATEGORY)[rows]
    return np.column_stack(
        [
            np.ones(len(rows)),
            np.array(SURPRISE)[rows],
            (cat == "b").astype(float),
            (cat == "c").astype(float),
        ]
    )


FORMULA = "car ~ surprise + C(category)"


@pytest.mark.parametrize("cov", ["HC3", "cluster", "nonrobust"])
def test_coefficients_and_errors_match_statsmodels_on_hand_cars(levels, res, cov):
    rows = list(range(len(POS)))
    y = hand_car(levels, "A")
    ols = sm.OLS(y, design(rows))
    if cov == "cluster":
        groups = np.array([0, 1, 2, 2, 3, 4, 5, 5, 6, 7])  # shared day-0 dates, by hand
        ref = ols.fit(cov_type="cluster", cov_kwds={"groups": groups})
    else:
        ref = ols.fit(cov_type=cov)
    fit = res.regress(FORMULA, window=(0, 1), series="A", cov=cov)
    order = ["Intercept", "surprise", "C(category)[T.b]", "C(category)[T.c]"]
    assert np.allclose(fit.params[order].to_numpy(), ref.params, rtol=1e-10, atol=1e-12)
    assert np.allclose(fit.bse[order].to_numpy(), ref.bse, rtol=1e-9, atol=1e-12)
    assert fit.nobs == len(POS)
    assert fit.rsquared == pytest.approx(ref.rsquared, rel=1e-10)


def test_pooled_series_of_one_unit_with_series_effects(levels, res):
    y = np.concatenate([hand_car(levels, "A"), hand_car(levels, "B")])
    rows = list(range(len(POS)))
    X = np.vstack([design(rows), design(rows)])
    X = np.column_stack([X, np.r_[np.zeros(len(POS)), np.ones(len(POS))]])
    ref = sm.OLS(y, X).fit(cov_type="HC3")
    fit = res.regress(FORMULA + " + C(series)", window=(0, 1), series=["A", "B"])
    order = ["Intercept", "surprise", "C(category)[T.b]", "C(category)[T.c]", "C(series)[T.B]"]
    assert np.allclose(fit.params[order].to_numpy(), ref.params, rtol=1e-10, atol=1e-12)
    assert np.allclose(fit.bse[order].to_numpy(), ref.bse, rtol=1e-9, atol=1e-12)


def test_signed_result_regresses_signed_cars(levels, res):
    signs = {f"e{i}": (1.0 if s > 0 else -1.0) for i, s in enumerate(SURPRISE)}
    signed = res.signed(signs)
    y = hand_car(levels, "A") * np.sign(SURPRISE)
    ref = sm.OLS(y, np.ones((len(POS), 1))).fit(cov_type="HC3")
    fit = signed.regress("car ~ 1", window=(0, 1), series="A")
    assert fit.params["Intercept"] == pytest.approx(ref.params[0], rel=1e-12)
    assert fit.bse["Intercept"] == pytest.approx(ref.bse[0], rel=1e-10)


def test_rows_with_missing_values_are_dropped_and_clusters_follow(levels):
    idx = levels.index
    surprise = [*SURPRISE[:4], np.nan, *SURPRISE[5:]]
    ev = pd.DataFrame(
        {
            "event": [f"e{i}" for i in range(len(POS))],
            "timestamp": [
                pd.Timestamp(idx[p]).tz_localize(NY) + pd.Timedelta(hours=9) for p in POS
            ],
            "label": ["x"] * len(POS),
            "category": CATEGORY,
            "surprise": surprise,
        }
    )
    res = EventStudy(model="raw", event_window=(-2, 3), estimation_window=EST).run(levels, ev)
    rows = [i for i in range(len(POS)) if i != 4]
    y = hand_car(levels, "A")[rows]
    groups = np.array([0, 1, 2, 2, 4, 5, 5, 6, 7])
    ref = sm.OLS(y, design(rows)).fit(cov_type="cluster", cov_kwds={"groups": groups})
    fit = res.regress(FORMULA, window=(0, 1), series="A", cov="cluster")
    assert fit.nobs == 9
    order = ["Intercept", "surprise", "C(category)[T.b]", "C(category)[T.c]"]
    assert np.allclose(fit.bse[order].to_numpy(), ref.bse, rtol=1e-9)


def test_bad_regressions_are_refused(res):
    with pytest.raises(DataValidationError, match="different units"):
        res.regress("car ~ 1", window=(0, 1))  # A, B in bp; C in %
    with pytest.raises(DataValidationError, match=r"unknown column\(s\) \['size'\].*available"):
        res.regress("car ~ size", window=(0, 1), series="A")
    with pytest.raises(DataValidationError, match="cov must be one of"):
        res.regress("car ~ 1", series="A", cov="HC1")
    with pytest.raises(DataValidationError, match="not studied"):
        res.regress("car ~ 1", series="Z")
    with pytest.raises(DataValidationError, match="car ~"):
        res.regress("surprise", series="A")
