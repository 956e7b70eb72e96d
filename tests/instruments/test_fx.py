"""FX returns: spot log return plus carry, against closed forms and hand counts."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from backtest.errors import DataValidationError
from backtest.instruments import fx_total_return, money_market_day_count


def dates(*days: str) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(list(days)))


SPOT_DATES = dates("2023-03-02", "2023-03-03", "2023-03-06", "2023-03-07", "2023-03-14")
SPOT = pd.Series([136.0, 135.5, 135.9, 137.2, 134.0], index=SPOT_DATES, name="USDJPY")


def const(rate: float, start: str = "2023-01-01") -> pd.Series:
    return pd.Series([rate], index=dates(start))


def test_constant_rates_give_the_closed_form_carry():
    r = fx_total_return(SPOT, const(4.5), const(-0.1), base="USD", quote="JPY")
    assert list(r.columns) == ["spot", "carry", "total"]
    assert r.index.equals(SPOT_DATES)
    assert r.iloc[0].isna().all()
    days = [1, 3, 1, 7]  # Thu->Fri, Fri->Mon, Mon->Tue, a week
    carry = [0.045 * d / 360 - (-0.001) * d / 365 for d in days]
    np.testing.assert_allclose(r["carry"].iloc[1:], carry, rtol=1e-14, atol=0)
    levels = [136.0, 135.5, 135.9, 137.2, 134.0]
    spot = [math.log(b / a) for a, b in itertools.pairwise(levels)]
    np.testing.assert_allclose(r["spot"].iloc[1:], spot, rtol=1e-14, atol=0)
    ok = r.dropna()
    assert (ok["spot"] + ok["carry"] == ok["total"]).all()


def test_a_year_of_carry_at_constant_rates():
    # 5.25% USD (ACT/360) against -0.1% JPY (ACT/365), flat spot, 365 days, a Friday
    # to Monday gap each week: the carry adds up to 5.25 * 365/360 + 0.1 percent
    idx = pd.bdate_range("2023-01-02", "2024-01-02")
    r = fx_total_return(
        pd.Series(140.0, index=idx),
        const(5.25, "2022-12-01"),
        const(-0.1, "2022-12-01"),
        base="USD",
        quote="JPY",
    )
    assert r["spot"].sum() == 0.0
    assert r["carry"].sum() == pytest.approx(0.0525 * 365 / 360 + 0.001 * 365 / 365, rel=1e-12)


def test_explicit_day_counts_override_the_currency_defaults():
    r = fx_total_return(
        SPOT,
        const(2.0),
        const(1.0),
        base="EUR",
        quote="XAU",
        base_day_count="ACT/365",
        quote_day_count="ACT/360",
    )
    assert r["carry"].iloc[2] == pytest.approx(0.02 * 3 / 365 - 0.01 * 3 / 360, rel=1e-14)
    assert money_market_day_count("USD") == "ACT/360"
    assert money_market_day_count("JPY") == "ACT/365"


def test_rates_are_taken_as_of_the_start_of_each_interval():
    # the USD rate changes on Monday 2023-03-06 (dated that day): the Fri->Mon interval
    # still earns Friday's rate, Mon->Tue the new one; a step series of change dates
    usd = pd.Series([4.5, 4.75], index=dates("2023-02-01", "2023-03-06"))
    jpy = pd.Series([-0.1, np.nan], index=dates("2016-02-16", "2023-03-03"))  # NaN ignored
    r = fx_total_return(SPOT, usd, jpy, base="USD", quote="JPY")
    assert r.loc["2023-03-06", "carry"] == pytest.approx(
        0.045 * 3 / 360 + 0.001 * 3 / 365, rel=1e-14
    )
    assert r.loc["2023-03-07", "carry"] == pytest.approx(0.0475 / 360 + 0.001 / 365, rel=1e-14)


def test_changing_a_rate_on_day_t_changes_only_intervals_starting_at_or_after_t():
    idx = pd.bdate_range("2023-01-02", "2023-03-31")
    rng = np.random.default_rng(7)
    spot = pd.Series(130 * np.exp(np.cumsum(rng.normal(0, 0.005, len(idx)))), index=idx)
    usd = pd.Series(4.5 + rng.normal(0, 0.01, len(idx)), index=idx)
    jpy = pd.Series(-0.1 + rng.normal(0, 0.001, len(idx)), index=idx)
    base = fx_total_return(spot, usd, jpy, base="USD", quote="JPY")
    for t in (idx[10], idx[25], idx[-2]):
        for bumped in (
            (usd.where(usd.index != t, 9.0), jpy),
            (usd, jpy.where(jpy.index != t, 3.0)),
        ):
            moved = fx_total_return(spot, *bumped, base="USD", quote="JPY")
            differs = (moved["carry"] != base["carry"]) & base["carry"].notna()
            starts = pd.Series(idx[:-1], index=idx[1:]).reindex(idx)  # start of each row's interval
            assert (starts[differs] == t).all() and differs.sum() == 1
            assert (moved["spot"].fillna(0) == base["spot"].fillna(0)).all()


def test_missing_spot_days_and_rates_not_yet_known():
    spot = SPOT.copy()
    spot.iloc[2] = np.nan
    usd = pd.Series([4.5], index=dates("2023-03-03"))  # known from Friday only
    r = fx_total_return(spot, usd, const(0.0), base="USD", quote="JPY")
    assert r.iloc[[0, 2]].isna().all().all()
    assert np.isnan(r.loc["2023-03-03", "carry"])  # the interval starts Thursday
    assert r.loc["2023-03-03", "spot"] == pytest.approx(math.log(135.5 / 136.0), rel=1e-14)
    # Friday -> Tuesday over the missing Monday: 4 calendar days at Friday's rates
    assert r.loc["2023-03-07", "carry"] == pytest.approx(0.045 * 4 / 360, rel=1e-14)
    assert r.loc["2023-03-07", "spot"] == pytest.approx(math.log(137.2 / 135.5), rel=1e-14)


def test_bad_input_is_refused_by_name():
    idx = dates("2023-03-02", "2023-03-03")
    with pytest.raises(DataValidationError, match=r"spot series 'USDJPY' must be a positive"):
        fx_total_return(
            pd.Series([130.0, -1.0], index=idx, name="USDJPY"),
            const(4.5),
            const(0.0),
            base="USD",
            quote="JPY",
        )
    with pytest.raises(DataValidationError, match=r"USD short rate 'DFEDTAR'.*percent"):
        fx_total_return(
            SPOT,
            pd.Series([450.0], index=dates("2023-01-01"), name="DFEDTAR"),
            const(0.0),
            base="USD",
            quote="JPY",
        )
    with pytest.raises(DataValidationError, match="JPY short rate has no observation"):
        fx_total_return(
            SPOT,
            const(4.5),
            pd.Series([np.nan], index=dates("2023-01-01")),
            base="USD",
            quote="JPY",
        )
    with pytest.raises(DataValidationError, match=r"'XAU'.*quote_day_count"):
        fx_total_return(SPOT, const(4.5), const(0.0), base="USD", quote="XAU")
    with pytest.raises(DataValidationError, match="base_day_count"):
        fx_total_return(
            SPOT, const(4.5), const(0.0), base="USD", quote="JPY", base_day_count="30/360"
        )  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match="increasing order"):
        fx_total_return(SPOT.iloc[::-1], const(4.5), const(0.0), base="USD", quote="JPY")
