"""Tests of strategies/fx_carry.py: the shared contract, hand-computed cases, pandas on real data.

References: the tiny cases are computed by hand in the comments; on the real snapshot,
an independent pandas version (``rolling(...).std()``, ``merge_asof`` on dates) gives
the expected positions; the event windows around 2024-07-31 are listed by hand from
the BoJ and FOMC calendars.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from backtest.errors import ConfigError, StrategyError
from backtest.strategy import MarketData
from strategies.fx_carry import FxCarry, trailing_vol
from tests.strategies.contract import StrategyContract, all_events, snapshot_levels
from tests.strategies.test_builtins import NY, TOKYO, event_rows, levels

RATE_CLOCKS = {
    "FEDFUNDS_TARGET": ("yield", NY, "00:00"),  # in effect on the date
    "JPY_CALL": ("yield", TOKYO, "17:00"),  # end of the Tokyo business day
}


class TestFxCarryContract(StrategyContract):
    strategy_cls = FxCarry
    params = (
        {},
        {"direction": "both", "threshold": 0.25, "lookback": 20},
        {"avoid_events": True, "avoid_before": 2, "avoid_after": 2},
        {"avoid_events": True, "avoid_categories": ["tariff_announcement"], "threshold": 0.0},
        {"lookback": 120, "threshold": 1.0, "avoid_events": True, "avoid_before": 0},
    )


# Hand-computed ---------------------------------------------------------------------------

# Ten weekdays; USD/JPY alternates 100, 101 so every daily log return is ±ln(1.01).
FX_DATES = [str(d.date()) for d in pd.bdate_range("2025-01-13", periods=10)]
FX_PRICE = [100.0, 101.0] * 5


def carry_rule(params, *, base, quote, dates=FX_DATES, price=FX_PRICE, events=None):
    lv = levels(dates, RATE_CLOCKS, USDJPY=price, FEDFUNDS_TARGET=base, JPY_CALL=quote)
    rule = FxCarry()
    return rule.positions(MarketData(lv, "USDJPY", events=events), rule.parse(params))


def test_trailing_vol_hand_computed():
    # lookback 2: two returns +a, -a (a = ln 1.01): mean 0, std(ddof=1) = a*sqrt(2),
    # annualised a*sqrt(2)*sqrt(252). First defined on bar 2 (three prices).
    vol = trailing_vol(pd.Series(FX_PRICE), 2)
    a = math.log(1.01)
    assert np.isnan(vol[:2]).all()
    np.testing.assert_allclose(vol[2:], a * math.sqrt(2) * math.sqrt(252), rtol=1e-12)


def test_fx_carry_threshold_and_direction_hand_computed():
    # vol = ln(1.01)*sqrt(2)*sqrt(252) = 0.22338. Carry: (5.0 - 0.0)/100 = 0.05 on bars
    # 0-4, then the rates swap: (0.5 - 1.5)/100 = -0.01 on bars 5-9.
    # ratio = 0.2238 (bars 2-4), -0.0448 (bars 5-9).
    base = [5.0] * 5 + [0.5] * 5
    quote = [0.0] * 5 + [1.5] * 5
    vol = math.log(1.01) * math.sqrt(2) * math.sqrt(252)
    assert 0.05 / vol == pytest.approx(0.2238, abs=1e-4)
    pos = carry_rule({"lookback": 2, "threshold": 0.2}, base=base, quote=quote)
    assert pos.tolist() == [0, 0, 1, 1, 1, 0, 0, 0, 0, 0]
    # threshold 0.03 with both: short where ratio -0.0448 < -0.03.
    pos = carry_rule(
        {"lookback": 2, "threshold": 0.03, "direction": "both"}, base=base, quote=quote
    )
    assert pos.tolist() == [0, 0, 1, 1, 1, -1, -1, -1, -1, -1]
    # threshold 0.25: 0.2238 is not enough.
    assert (carry_rule({"lookback": 2, "threshold": 0.25}, base=base, quote=quote) == 0).all()


def test_fx_carry_rates_as_of_each_fix():
    # A rate missing on a day is carried from its last observation (the call rate has
    # no value on bar 4, a Japanese holiday): carry stays (5 - 0)/100.
    quote = [0.0, 0.0, 0.0, 0.0, math.nan, 0.0, 0.0, 0.0, 0.0, 0.0]
    pos = carry_rule({"lookback": 2, "threshold": 0.2}, base=[5.0] * 10, quote=quote)
    assert pos.tolist() == [0, 0] + [1] * 8


EVENTS = event_rows(
    # date-only, Tokyo: day 0 is the fix dated 2025-01-22 (bar 7)
    ("boj", "2025-01-22", None, TOKYO, "boj"),
    # 14:00 New York, after that day's 12:00 fix: day 0 is the fix of 2025-01-16 (bar 3)
    ("fomc", "2025-01-15", "14:00", NY, "fomc"),
    ("other", "2025-01-20", None, NY, "tariff_announcement"),
)


def test_fx_carry_steps_aside_around_events():
    # Without the filter: long from bar 2 on. Bars: 0 Jan-13 ... 4 Jan-17, 5 Jan-20,
    # 6 Jan-21, 7 Jan-22, 8 Jan-23, 9 Jan-24.
    params = {"lookback": 2, "threshold": 0.2, "avoid_events": True}
    pos = carry_rule(
        {**params, "avoid_before": 1, "avoid_after": 1},
        base=[5.0] * 10,
        quote=[0.0] * 10,
        events=EVENTS,
    )
    # fomc day 0 = bar 3 (Jan-16): flat on bars 2, 3, 4; boj day 0 = bar 7: flat 6, 7, 8.
    # The tariff event is not among the default categories (boj, fomc).
    assert pos.tolist() == [0, 0, 0, 0, 0, 1, 0, 0, 0, 1]
    pos = carry_rule(
        {**params, "avoid_before": 0, "avoid_after": 0, "avoid_categories": ["boj"]},
        base=[5.0] * 10,
        quote=[0.0] * 10,
        events=EVENTS,
    )
    assert pos.tolist() == [0, 0, 1, 1, 1, 1, 1, 0, 1, 1]


def test_fx_carry_window_before_counts_weekdays_across_a_holiday():
    # No fix on Monday 2025-01-20 (a US holiday). boj's day 0 is Jan-22 (Wed). With
    # avoid_before=2 the two weekdays before it are Jan-20 (no bar) and Jan-21: only
    # the bar of Jan-21 is flat before day 0 (counting bars would also flatten Jan-17:
    # that needs to know at Jan-17 that Jan-20 will have no fix).
    dates = [d for d in FX_DATES if d != "2025-01-20"]
    price = FX_PRICE[: len(dates)]
    pos = carry_rule(
        {
            "lookback": 2,
            "threshold": 0.2,
            "avoid_events": True,
            "avoid_before": 2,
            "avoid_after": 0,
            "avoid_categories": ["boj"],
        },
        base=[5.0] * len(dates),
        quote=[0.0] * len(dates),
        dates=dates,
        price=price,
        events=EVENTS,
    )
    # bars: Jan-13 14 15 16 17 21 22 23 24
    assert pos.tolist() == [0, 0, 1, 1, 1, 0, 0, 1, 1]


def test_fx_carry_event_errors():
    rule = FxCarry()
    lv = levels(
        FX_DATES, RATE_CLOCKS, USDJPY=FX_PRICE, FEDFUNDS_TARGET=[1.0] * 10, JPY_CALL=[0.0] * 10
    )
    with pytest.raises(StrategyError, match="avoid_events needs events"):
        rule.positions(MarketData(lv, "USDJPY"), rule.parse({"avoid_events": True}))
    with pytest.raises(StrategyError, match=r"params\.avoid_categories"):
        rule.positions(
            MarketData(lv, "USDJPY", events=EVENTS),
            rule.parse({"avoid_events": True, "avoid_categories": ["ecb"]}),
        )
    # without avoid_events, no events are needed
    assert len(rule.positions(MarketData(lv, "USDJPY"), rule.parse({}))) == 10


def test_fx_carry_required_series_and_missing_rates():
    rule = FxCarry()
    assert rule.required_series(rule.parse({}), "USDJPY") == ["FEDFUNDS_TARGET", "JPY_CALL"]
    assert rule.legs(rule.parse({}), "USDJPY") == ["USDJPY"]
    lv = levels(FX_DATES, USDJPY=FX_PRICE)
    with pytest.raises(StrategyError, match=r"needs series \['FEDFUNDS_TARGET', 'JPY_CALL'\]"):
        rule.positions(MarketData(lv, "USDJPY"), rule.parse({}))


@pytest.mark.parametrize(
    "bad",
    [
        {"lookback": 1},
        {"threshold": -0.1},
        {"avoid_before": -1},
        {"avoid_categories": []},
        {"direction": "short"},
    ],
)
def test_fx_carry_rejects_bad_params(bad):
    with pytest.raises(ConfigError, match="fx_carry"):
        FxCarry().parse(bad)


# Real data -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"lookback": 20, "threshold": 0.25, "direction": "both"},
        {"lookback": 120, "threshold": 0.4},
    ],
)
def test_fx_carry_matches_an_independent_pandas_version_on_real_data(params):
    # Independent: pandas rolling std of log returns; merge_asof on dates with exact
    # matches allowed, because both rates dated d are observed before the 12:00 New York
    # fix of d (the Fed funds target in effect on d: 00:00 New York; the call rate of d:
    # 17:00 Tokyo = 03:00 or 04:00 New York).
    lv = snapshot_levels(("USDJPY", "FEDFUNDS_TARGET", "JPY_CALL"))
    price = lv["USDJPY"].dropna()
    p = {"lookback": 60, "threshold": 0.5, "direction": "long", **params}
    vol = np.log(price).diff().rolling(p["lookback"]).std() * math.sqrt(252)
    bars = pd.DataFrame({"date": price.index})
    rates = {}
    for name in ("FEDFUNDS_TARGET", "JPY_CALL"):
        own = lv[name].dropna()
        right = pd.DataFrame({"date": own.index, name: own.to_numpy()})
        rates[name] = pd.merge_asof(bars, right, on="date")[name].to_numpy()
    ratio = (rates["FEDFUNDS_TARGET"] - rates["JPY_CALL"]) / 100.0 / vol.to_numpy()
    finite = np.isfinite(ratio)
    assert not (np.abs(np.abs(ratio[finite]) - p["threshold"]) < 1e-9).any()  # no ties
    expected = np.zeros(len(price))
    expected[finite & (ratio > p["threshold"])] = 1.0
    if p["direction"] == "both":
        expected[finite & (ratio < -p["threshold"])] = -1.0
    rule = FxCarry()
    pos = rule.positions(MarketData(lv, "USDJPY"), rule.parse(params))
    np.testing.assert_array_equal(pos.to_numpy(), expected)
    assert 50 < (expected == 1.0).sum() < len(expected)


def test_fx_carry_2023_carry_is_the_fed_funds_minus_call_rate():
    # Hand, from the snapshot files: on 2023-08-01 the Fed funds target (upper) was
    # 5.50 (from 2023-07-27) and the call rate of that day -0.071 (JPY_call_rate_boj.csv)
    lv = snapshot_levels(("USDJPY", "FEDFUNDS_TARGET", "JPY_CALL"))
    assert lv.loc["2023-08-01", "FEDFUNDS_TARGET"] == 5.5
    call = lv.loc["2023-08-01", "JPY_CALL"]
    rule = FxCarry()
    carry = rule.carry(MarketData(lv, "USDJPY"), rule.parse({}))
    assert carry.loc["2023-08-01"] == pytest.approx((5.5 - call) / 100.0, rel=1e-15)


def test_fx_carry_event_filter_on_real_calendars():
    # BoJ 2024-07-31 (date only, Tokyo): day 0 = the fix of 07-31. FOMC 2024-07-31
    # 14:00 New York, after the 12:00 fix: day 0 = 08-01. With avoid_before=2 and
    # avoid_after=1: flat 07-29 .. 08-01 (BoJ) and 07-30 .. 08-02 (FOMC).
    lv = snapshot_levels(("USDJPY", "FEDFUNDS_TARGET", "JPY_CALL"))
    rule = FxCarry()
    data = MarketData(lv, "USDJPY", events=all_events())
    plain = rule.positions(data, rule.parse({"threshold": 0.0}))
    filtered = rule.positions(
        data,
        rule.parse({"threshold": 0.0, "avoid_events": True, "avoid_before": 2, "avoid_after": 1}),
    )
    window = pd.bdate_range("2024-07-29", "2024-08-02")
    assert (plain.loc[window] == 1.0).all()  # carry > 0: long without the filter
    assert (filtered.loc[window] == 0.0).all()
    assert filtered.loc["2024-07-26"] == 1.0 and filtered.loc["2024-08-05"] == 1.0
    # Elsewhere the filter only removes positions, and only within 3 weekdays of an event.
    changed = plain.index[(plain != filtered).to_numpy()]
    assert (filtered.loc[changed] == 0.0).all()
    ev = all_events()
    ev_dates = pd.DatetimeIndex(ev.loc[ev["category"].isin(["boj", "fomc"]), "date"])
    days = ev_dates.to_numpy().astype("datetime64[D]")
    gaps = np.array([np.abs(np.busday_count(np.datetime64(d.date()), days)).min() for d in changed])
    assert (gaps <= 3).all() and len(changed) >= 4 * 32 // 2
