"""Tests of backtest/weights.py: duration-neutral pairs and volatility-scaled weights.

References: the duration-neutral weights are checked against a finite-difference
price change of the two par bonds, priced in the test as explicit sums of discounted
cash flows (no code from backtest.instruments), so the weighted DV01 sums to ~0; the
volatility-scaled weights against a hand loop with ``numpy.std(ddof=1)``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from backtest.errors import DataValidationError
from backtest.weights import duration_neutral, vol_scaled


def cash_flow_price(yield_pct: float, coupon_pct: float, years: int, freq: int) -> float:
    """Price per 100 face of a bond with `years` * `freq` whole coupon periods left,
    as the sum of its discounted coupons and redemption (written out, no closed form)."""
    x = yield_pct / 100.0 / freq
    c = coupon_pct / freq
    n = years * freq
    return sum(c / (1 + x) ** k for k in range(1, n + 1)) + 100.0 / (1 + x) ** n


def dv01(yield_pct: float, years: int, freq: int) -> float:
    """Price change per 100 face of a par bond (coupon = yield) for +1 bp, central
    difference between the prices at y - 1 bp and y + 1 bp."""
    up = cash_flow_price(yield_pct + 0.01, yield_pct, years, freq)
    down = cash_flow_price(yield_pct - 0.01, yield_pct, years, freq)
    return (up - down) / 2.0


YIELDS = pd.DataFrame(
    {
        "UST10Y": [4.18, 1.92, 0.55, 4.80, np.nan, 3.0],
        "JGB10Y": [1.05, -0.05, 0.02, 1.60, 0.7, np.nan],
    },
    index=pd.date_range("2024-01-01", periods=6, freq="D"),
)


@pytest.mark.parametrize("gross", [1.0, 0.5, 2.0])
def test_duration_neutral_weighted_dv01_is_zero(gross):
    w = duration_neutral(YIELDS, "UST10Y", "JGB10Y", gross=gross)
    assert w.columns.tolist() == ["UST10Y", "JGB10Y"]
    pd.testing.assert_index_equal(w.index, YIELDS.index)
    for t in range(4):  # rows with both yields
        wl, ws = w.iloc[t]
        assert wl > 0 > ws
        assert abs(wl) + abs(ws) == pytest.approx(gross, rel=1e-14)
        # Portfolio P&L per unit value for a parallel +1 bp move: each leg's weight
        # times its relative price change (bonds bought at par, 100).
        d_l = dv01(YIELDS["UST10Y"].iloc[t], 10, 2) / 100.0
        d_s = dv01(YIELDS["JGB10Y"].iloc[t], 10, 2) / 100.0
        assert d_l < 0 and d_s < 0
        # Central differences are exact to O(dy^2): within 1e-6 of each leg's DV01.
        assert abs(wl * d_l + ws * d_s) < 1e-6 * abs(wl * d_l)
    # A NaN yield on either leg: no weights that day.
    assert w.iloc[4].isna().all() and w.iloc[5].isna().all()


def test_duration_neutral_maturities_from_catalog_and_explicit():
    # UST2Y (catalog maturity 2) against UST10Y: the short-dated leg carries the larger
    # weight; checked again with the finite-difference DV01s of 2- and 10-year par bonds.
    y = pd.DataFrame({"UST2Y": [4.3], "UST10Y": [4.2]})
    w = duration_neutral(y, "UST2Y", "UST10Y").iloc[0]
    d2, d10 = dv01(4.3, 2, 2), dv01(4.2, 10, 2)
    # central differences are exact to O(dy^2): within 1e-6 of one leg's DV01
    assert abs(w["UST2Y"] * d2 + w["UST10Y"] * d10) < 1e-6 * abs(w["UST2Y"] * d2)
    assert w["UST2Y"] > abs(w["UST10Y"])
    # Columns not in the catalog, with maturities and frequencies given per leg.
    z = pd.DataFrame({"a": [3.0], "b": [2.0]})
    v = duration_neutral(z, "a", "b", maturities={"a": 5, "b": 30}, freq={"a": 1, "b": 2})
    da, db = dv01(3.0, 5, 1), dv01(2.0, 30, 2)
    # the 30-year leg's third derivative is larger: the O(dy^2) error is ~1e-6 relative
    assert abs(v["a"].iloc[0] * da + v["b"].iloc[0] * db) < 1e-5 * abs(v["a"].iloc[0] * da)


def test_duration_neutral_equal_legs_split_gross_in_half():
    # Hand: same maturity and yield -> same duration -> weights +g/2, -g/2.
    y = pd.DataFrame({"a": [2.5], "b": [2.5]})
    w = duration_neutral(y, "a", "b", maturities={"a": 10, "b": 10}, gross=1.5)
    assert w.iloc[0].tolist() == pytest.approx([0.75, -0.75], rel=1e-15)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"yields": YIELDS["UST10Y"]}, "yields must be a pandas DataFrame"),
        ({"long": "UST10Y", "short": "UST10Y"}, "long and short must differ"),
        ({"short": "JGB30Y"}, r"no column \['JGB30Y'\]"),
        ({"gross": 0.0}, "gross must be a finite number > 0, got 0.0"),
        ({"gross": math.inf}, "gross must be a finite number > 0"),
        ({"freq": 3}, r"freq must be the coupon payments per year, one of \[1, 2, 4, 12\]"),
        ({"freq": {"UST10Y": 2}}, "freq has no entry for 'JGB10Y'"),
        ({"maturities": {"UST10Y": -1}}, r"maturities\['UST10Y'\] must be a finite number > 0"),
        (
            {"yields": YIELDS.assign(JGB10Y="x")},
            "yield series 'JGB10Y' must be numeric",
        ),
        (
            {"yields": YIELDS.assign(UST10Y=np.inf)},
            "yield series 'UST10Y' holds an infinite value",
        ),
    ],
)
def test_duration_neutral_bad_input(kwargs, match):
    args = {"yields": YIELDS, "long": "UST10Y", "short": "JGB10Y", **kwargs}
    with pytest.raises(DataValidationError, match=match):
        duration_neutral(args.pop("yields"), args.pop("long"), args.pop("short"), **args)


def test_duration_neutral_leg_without_maturity():
    y = pd.DataFrame({"USDJPY": [150.0], "UST10Y": [4.0]})
    with pytest.raises(DataValidationError, match=r"no maturity for 'USDJPY'.*maturities="):
        duration_neutral(y, "UST10Y", "USDJPY")


# vol_scaled ---------------------------------------------------------------------------


def hand_vol_scaled(x: np.ndarray, target: float, lookback: int, cap: float, ppy: float):
    out = []
    for t in range(len(x)):
        if t < lookback - 1:
            out.append(np.nan)
            continue
        window = x[t - lookback + 1 : t + 1]
        if np.isnan(window).any():
            out.append(np.nan)
            continue
        vol = np.std(window, ddof=1) * math.sqrt(ppy)
        out.append(cap if vol == 0 else min(cap, target / vol))
    return np.array(out)


def test_vol_scaled_matches_a_hand_loop():
    rng = np.random.default_rng(7)
    x = rng.normal(0.0, 0.01, 300)
    x[0] = np.nan  # the first return of a price series
    x[150] = np.nan  # a hole: NaN for the next `lookback` windows
    x[200:230] = 0.0  # zero volatility: capped
    r = pd.Series(x, index=pd.date_range("2020-01-01", periods=300, freq="B"), name="USDJPY")
    for target, lookback, cap, ppy in [
        (0.10, 20, 1.0, 252),
        (0.05, 60, 2.0, 252),
        (0.1, 2, 3.0, 12),
    ]:
        got = vol_scaled(r, target, lookback, cap=cap, periods_per_year=ppy)
        assert isinstance(got, pd.Series) and got.name == "USDJPY"
        pd.testing.assert_index_equal(got.index, r.index)
        np.testing.assert_allclose(
            got.to_numpy(), hand_vol_scaled(x, target, lookback, cap, ppy), rtol=1e-12
        )
    # the hole at 150 makes windows 150..169 NaN for lookback 20
    w = vol_scaled(r, 0.1, 20)
    assert w.iloc[150:170].isna().all() and np.isfinite(w.iloc[170])
    assert (w.iloc[219:230] == 1.0).all()


def test_vol_scaled_frame_per_column():
    rng = np.random.default_rng(11)
    frame = pd.DataFrame({"a": rng.normal(0, 0.02, 80), "b": rng.normal(0, 0.005, 80)})
    got = vol_scaled(frame, 0.08, 10, cap=1.5)
    assert isinstance(got, pd.DataFrame) and got.columns.tolist() == ["a", "b"]
    for col in frame:
        np.testing.assert_allclose(
            got[col].to_numpy(),
            hand_vol_scaled(frame[col].to_numpy(), 0.08, 10, 1.5, 252),
            rtol=1e-12,
        )
    assert vol_scaled(frame.iloc[:5], 0.08, 10).isna().all().all()  # shorter than a window


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (([0.01] * 5, 0.1, 3), {}, "returns must be a pandas Series or DataFrame, got list"),
        ((None, 0.0, 3), {}, "target must be a finite number > 0, got 0.0"),
        ((None, 0.1, 1), {}, "lookback must be an integer >= 2"),
        ((None, 0.1, 2.5), {}, "lookback must be an integer >= 2"),
        ((None, 0.1, 3), {"cap": -1.0}, "cap must be a finite number > 0"),
        ((None, 0.1, 3), {"periods_per_year": math.nan}, "periods_per_year must be"),
    ],
)
def test_vol_scaled_bad_input(args, kwargs, match):
    data = pd.Series([0.01, -0.02, 0.0, 0.01, 0.02], name="r")
    returns = data if args[0] is None else args[0]
    with pytest.raises(DataValidationError, match=match):
        vol_scaled(returns, args[1], args[2], **kwargs)


def test_vol_scaled_non_numeric_or_infinite():
    with pytest.raises(DataValidationError, match="returns column 'b' must be numeric"):
        vol_scaled(pd.DataFrame({"a": [0.1, 0.2], "b": ["x", "y"]}), 0.1, 2)
    with pytest.raises(DataValidationError, match="series 'r' holds an infinite value"):
        vol_scaled(pd.Series([0.1, np.inf], name="r"), 0.1, 2)
