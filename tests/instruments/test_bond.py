"""Constant-maturity bond returns: closed forms, hand counts and a published fact.

Every expected value is computed here independently of :mod:`backtest.instruments.bond`:
prices as explicit sums of discounted cash flows, durations by the Macaulay formula and
by central finite differences, accruals by hand-counted days.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import backtest.data
from backtest.errors import DataValidationError
from backtest.instruments import bond_total_return, convexity, modified_duration, par_bond_price


def cash_flow_price(y: float, c: float, periods: int, freq: int) -> float:
    """Price per 100 of a bond with a whole number of periods: sum of discounted flows."""
    x = y / 100 / freq
    flows = [100 * c / 100 / freq] * periods
    flows[-1] += 100
    return sum(cf / (1 + x) ** (k + 1) for k, cf in enumerate(flows))


def macaulay_modified(y: float, c: float, periods: int, freq: int) -> tuple[float, float]:
    """(modified duration, convexity) from the cash-flow sums, whole periods."""
    x = y / 100 / freq
    p = cash_flow_price(y, c, periods, freq)
    t = np.arange(1, periods + 1) / freq
    flows = np.full(periods, 100 * c / 100 / freq)
    flows[-1] += 100
    pv = flows / (1 + x) ** (t * freq)
    dmac = float((t * pv).sum() / p)
    conv = float((pv * t * (t + 1 / freq)).sum() / p / (1 + x) ** 2)
    return dmac / (1 + x), conv


YIELDS = [-0.3, 0.0, 1e-6, 0.05, 1.5, 4.18, 12.0]


@pytest.mark.parametrize("freq", [1, 2, 4, 12])
@pytest.mark.parametrize("maturity", [0.25, 1.0, 2.3, 7.75, 9.997, 10.0, 30.0])
def test_par_bond_prices_at_100(freq, maturity):
    y = np.array(YIELDS)
    np.testing.assert_allclose(par_bond_price(y, y, maturity, freq), 100.0, rtol=0, atol=1e-10)


@pytest.mark.parametrize("freq", [1, 2, 12])
@pytest.mark.parametrize("periods", [1, 7, 20, 60])
@pytest.mark.parametrize(("y", "c"), [(5.0, 4.0), (0.5, 2.0), (-0.2, 0.1), (1e-6, 3.0), (0.0, 1.0)])
def test_price_duration_convexity_match_cash_flow_sums(freq, periods, y, c):
    m = periods / freq
    assert par_bond_price(y, c, m, freq) == pytest.approx(
        cash_flow_price(y, c, periods, freq), rel=1e-12
    )
    d, conv = macaulay_modified(y, c, periods, freq)
    assert modified_duration(y, c, m, freq) == pytest.approx(d, rel=1e-9)
    assert convexity(y, c, m, freq) == pytest.approx(conv, rel=1e-9)


def rearranged_price(y: float, c: float, m: float, freq: int) -> float:
    """The same convention written differently: c/y + (1 - c/y) v^(f m), v = 1/(1 + y/f)."""
    if y == 0:
        return 100 * (1 + c / 100 * m)
    v = 1 / (1 + y / 100 / freq)
    return 100 * (c / y + (1 - c / y) * v ** (freq * m))


@pytest.mark.parametrize("freq", [1, 2, 12])
@pytest.mark.parametrize("m", [0.01, 0.5, 3.3, 9.9973, 29.02])
@pytest.mark.parametrize(("y", "c"), [(4.1, 3.9), (-0.3, -0.25), (0.0, 1.2), (15.0, 2.0)])
def test_fractional_maturity_price_matches_the_rearranged_formula(freq, m, y, c):
    assert par_bond_price(y, c, m, freq) == pytest.approx(
        rearranged_price(y, c, m, freq), rel=1e-11
    )


def test_zero_yield_price_is_the_undiscounted_flows():
    # at y = 0: 100 (1 + c M), whatever the fractional maturity
    assert par_bond_price(0.0, 3.0, 7.3, 2) == pytest.approx(100 * (1 + 0.03 * 7.3), rel=1e-14)


@pytest.mark.parametrize("maturity", [1.7, 9.99, 29.5])
@pytest.mark.parametrize("y", [-0.25, 0.0, 0.001, 0.08, 1.0, 4.5])
def test_duration_and_convexity_are_the_price_derivatives(maturity, y):
    # central finite differences of the price in the yield (decimal per year)
    h = 1e-3  # percent = 0.1 bp
    c = max(y, 0.0) + 0.5
    p0, up, dn = (par_bond_price(v, c, maturity, 2) for v in (y, y + h, y - h))
    fd_d = -(up - dn) / (2 * h / 100) / p0
    fd_c = (up - 2 * p0 + dn) / (h / 100) ** 2 / p0
    assert modified_duration(y, c, maturity, 2) == pytest.approx(fd_d, rel=1e-7)
    assert convexity(y, c, maturity, 2) == pytest.approx(fd_c, rel=1e-4)


@pytest.mark.parametrize("dy_bp", [-5.0, -1.0, 1.0, 5.0])
@pytest.mark.parametrize(("y", "maturity"), [(4.0, 10.0), (0.1, 10.0), (-0.1, 5.0), (2.0, 30.0)])
def test_small_moves_are_duration_plus_convexity(dy_bp, y, maturity):
    dy = dy_bp / 1e4  # decimal
    d = modified_duration(y, None, maturity, 2)
    conv = convexity(y, None, maturity, 2)
    change = par_bond_price(y + dy * 100, y, maturity, 2) / 100 - 1
    second_order = -d * dy + 0.5 * conv * dy**2
    # what is left is third order: |dy|^3 * maturity^3 is a generous bound
    assert abs(change - second_order) < abs(dy) ** 3 * maturity**3
    assert abs(change - (-d * dy)) > abs(change - second_order)


def dates(*days: str) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(list(days)))


def test_constant_yield_earns_its_coupon_over_actual_days():
    idx = dates("2024-03-01", "2024-03-04", "2024-03-05", "2024-03-12")  # Fri, Mon, Tue, +7
    for y in (4.0, -0.1, 0.0):
        r = bond_total_return(pd.Series(y, index=idx, name="UST10Y"), 10.0)
        assert np.isnan(r.iloc[0]).all()
        np.testing.assert_allclose(r["price"].iloc[1:], 0.0, atol=1e-13)
        expected = [y / 100 * d / 365.25 for d in (3, 1, 7)]
        np.testing.assert_allclose(r["accrual"].iloc[1:], expected, rtol=1e-14, atol=0)
    r = bond_total_return(pd.Series(4.0, index=idx), 10.0, day_count="ACT/365")
    assert r["accrual"].iloc[1] == pytest.approx(0.04 * 3 / 365, rel=1e-14)


def test_components_sum_to_total_exactly_and_gaps_use_calendar_days():
    idx = dates("2022-01-03", "2022-01-04", "2022-01-05", "2022-01-06", "2022-01-10")
    y = pd.Series([1.63, 1.66, np.nan, 1.73, 1.78], index=idx, name="UST10Y")
    r = bond_total_return(y, 10.0)
    assert list(r.columns) == ["price", "accrual", "total"]
    assert r.index.equals(idx)
    assert r.iloc[[0, 2]].isna().all().all()
    ok = r.dropna()
    assert (ok["price"] + ok["accrual"] == ok["total"]).all()
    # 2022-01-04 -> 2022-01-06 spans the missing day: 2 calendar days
    assert r.loc["2022-01-06", "accrual"] == pytest.approx(0.0166 * 2 / 365.25, rel=1e-14)
    # the price part: the 1.66% bond repriced at 1.73% with 10 - 2/365.25 years left;
    # second order in the move by the test's own finite-difference duration and convexity
    m = 10 - 2 / 365.25
    h = 1e-3
    up, mid, dn = (par_bond_price(v, 1.66, m, 2) / 100 for v in (1.66 + h, 1.66, 1.66 - h))
    assert mid - 1 == pytest.approx(0.0, abs=1e-13)  # no roll-down: still at par
    d = -(up - dn) / (2 * h / 100)
    conv = (up - 2 * mid + dn) / (h / 100) ** 2
    dy = 0.07 / 100
    assert r.loc["2022-01-06", "price"] == pytest.approx(-d * dy + conv * dy**2 / 2, rel=1e-4)


def loop_total_return(y: pd.Series, m: float, freq: int = 2) -> pd.Series:
    """A day-by-day loop over the observations with the rearranged price."""
    obs = y.dropna()
    out = {}
    for (s, ys), (t, yt) in itertools.pairwise(obs.items()):
        dt = (t - s).days / 365.25
        out[t] = rearranged_price(yt, ys, m - dt, freq) / 100 - 1 + ys / 100 * dt
    return pd.Series(out)


@pytest.mark.parametrize(
    ("series", "maturity"), [("UST10Y", 10.0), ("JGB10Y", 10.0), ("JGB2Y", 2.0)]
)
def test_snapshot_returns_match_a_loop_written_differently(series, maturity):
    y = backtest.data.load([series], offline=True)[series].loc["2015-01-01":"2024-12-31"]
    r = bond_total_return(y, maturity, name=series)
    expected = loop_total_return(y, maturity)
    got = r["total"].dropna()
    assert got.index.equals(expected.index)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    if series.startswith("JGB"):
        assert (y < 0).any()  # negative yields are in the sample


def ust10y() -> pd.Series:
    return backtest.data.load(["UST10Y"], offline=True)["UST10Y"]


def annual_repricing(y0: float, y1: float) -> float:
    """Damodaran's annual construction: a 10-year par bond at y0, repriced a year later
    at y1 with its maturity kept at 10 years, annual coupons, plus one coupon."""
    return cash_flow_price(y1, y0, 10, 1) / 100 - 1 + y0 / 100


def test_ten_year_treasury_lost_about_16_percent_in_2022():
    """Published: holding the 10-year Treasury through 2022 lost about 15-18%.

    Sources, as known to the author (not verifiable offline here): A. Damodaran,
    "Historical Returns on Stocks, Bonds and Bills" (NYU Stern, histretSP.xls), whose
    10-year T.Bond return for 2022 is about -17.8% (annual repricing of FRED DGS10,
    the construction of ``annual_repricing`` above); the ICE BofA and S&P current
    10-year Treasury indices lost about 15-17% in 2022. The issue requires 12-19%.
    """
    y = ust10y()
    r = bond_total_return(y, 10.0, name="UST10Y")
    r2022 = float((1 + r.loc["2022-01-01":"2022-12-31", "total"]).prod() - 1)
    assert -0.19 < r2022 < -0.12
    # the daily construction agrees with the annual one from the year-end yields (the
    # daily roll-down and rebalancing make the small difference)
    y_end = y.dropna()
    annual = annual_repricing(y_end.loc[:"2021-12-31"].iloc[-1], y_end.loc[:"2022-12-31"].iloc[-1])
    assert -0.19 < annual < -0.16
    assert abs(r2022 - annual) < 0.025
    # total = price + accrual over the year too
    part = r.loc["2022-01-01":"2022-12-31"].dropna()
    assert (part["price"] + part["accrual"] == part["total"]).all()


def test_ten_year_treasury_lost_money_over_2020_2025():
    r = bond_total_return(ust10y(), 10.0)
    total = float((1 + r.loc["2020-01-01":"2025-12-31", "total"]).prod() - 1)
    assert total < 0
    # the coupons earned are positive, the price part carries the loss
    part = r.loc["2020-01-01":"2025-12-31"]
    assert part["accrual"].sum() > 0.1 > 0 > part["price"].sum()


@pytest.mark.parametrize(
    ("series", "match"),
    [
        (
            pd.Series([152.0, 153.0], index=dates("2024-01-02", "2024-01-03"), name="UST10Y"),
            "UST10Y.*percent",
        ),
        (
            pd.Series([1.0, np.inf], index=dates("2024-01-02", "2024-01-03"), name="X"),
            "'X' holds an infinite",
        ),
        (
            pd.Series([1.0, 2.0], index=dates("2024-01-03", "2024-01-02"), name="X"),
            "increasing order",
        ),
        (
            pd.Series([1.0, 2.0], index=dates("2024-01-02", "2024-01-02"), name="X"),
            "more than once",
        ),
        (pd.Series([1.0, 2.0], name="X"), "DatetimeIndex"),
        (pd.Series(["1", "2"], index=dates("2024-01-02", "2024-01-03"), name="X"), "numeric"),
        (
            pd.Series([1.0, 2.0], index=dates("2024-01-02", "2024-01-03").tz_localize("UTC")),
            "naive",
        ),
        ([1.0, 2.0], "pandas Series"),
    ],
)
def test_bad_yield_series_are_refused_by_name(series, match):
    with pytest.raises(DataValidationError, match=match):
        bond_total_return(series, 10.0)


def test_bad_arguments_are_refused():
    y = pd.Series([1.0, 1.1], index=dates("2024-01-02", "2026-06-02"), name="UST2Y")
    with pytest.raises(DataValidationError, match=r"UST2Y.*2024-01-02 to 2026-06-02"):
        bond_total_return(y, 2.0)
    with pytest.raises(DataValidationError, match="maturity"):
        bond_total_return(y, 0.0)
    with pytest.raises(DataValidationError, match="freq"):
        bond_total_return(y, 10.0, freq=3)
    with pytest.raises(DataValidationError, match="day_count"):
        bond_total_return(y, 10.0, day_count="30/360")  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match="maturity"):
        par_bond_price(4.0, 4.0, -1.0)
    with pytest.raises(DataValidationError, match="above"):
        par_bond_price(-250.0, 4.0, 1.0)


def test_too_few_observations_give_nan():
    y = pd.Series([np.nan, 1.0], index=dates("2024-01-02", "2024-01-03"))
    assert bond_total_return(y, 10.0).isna().all().all()
