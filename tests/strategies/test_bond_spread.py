"""Tests of strategies/bond_spread.py: the contract, a hand state machine, duration neutrality.

References: the z-scores and states of the small synthetic frame are computed by hand
in the comments; duration neutrality is checked against finite-difference DV01s of
par bonds priced as sums of discounted cash flows in tests/test_weights.py; on the
real snapshot, the spread and z-score against pandas (``merge_asof``, ``rolling``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from backtest.errors import ConfigError, StrategyError
from backtest.strategy import MarketData
from strategies.bond_spread import BondSpread, spread_states
from tests.strategies.contract import StrategyContract, all_events, snapshot_levels
from tests.strategies.test_builtins import TOKYO, event_rows, levels
from tests.test_weights import dv01


class TestBondSpreadContract(StrategyContract):
    strategy_cls = BondSpread
    series = "UST10Y"
    params = (
        {},
        {"window": 20, "entry": 1.5},
        {"after_events": True, "event_window": 3},
        {"exit": -0.5, "gross": 0.5, "window": 120},
        {"after_events": True, "event_categories": ["boj"], "entry": 0.5},
    )


# Hand-computed state machine -------------------------------------------------------------

# JGB10Y (15:00 Tokyo) of day d is observed before UST10Y (15:30 New York) of d, so
# the spread on bar d is UST[d] - 1.0. Window 3, z of the last value in its window:
#   [a, a, b], b != a:  z = +-2/sqrt(3) = +-1.1547 (sign of b - a)
#   [a, b, b]:          z = +-1/sqrt(3) = +-0.5774
#   [a, a, a]:          std 0 -> NaN (bar 2: 3.0 three times, exact)
#   [a, a-d, a-2d]:     mean a-d, std d -> z = -1 (and +1 rising)
BS_DATES = [str(d.date()) for d in pd.bdate_range("2025-01-06", periods=10)]
BS_UST = [4.0, 4.0, 4.0, 4.3, 4.3, 4.0, 3.7, 3.7, 4.0, 4.3]


def spread_rule(params, *, events=None):
    lv = levels(BS_DATES, UST10Y=BS_UST, JGB10Y=[1.0] * len(BS_DATES))
    rule = BondSpread()
    return rule.positions(
        MarketData(lv, "UST10Y", events=events), rule.parse({"window": 3, **params})
    )


@pytest.mark.parametrize(
    ("params", "states"),
    [
        # z by bar: -, -, NaN, 1.15, 0.58, -1.15, -1, -0.58, 1.15, 1.
        # entry 1, exit 0: +1 at bar 3 (z 1.15), kept at bar 4 (0.58 > 0); bar 5
        # (z -1.15 <= 0) closes it and opens -1 in the same bar; kept on bars 6, 7 (-1,
        # -0.58 < 0); bar 8 (1.15) flips to +1, kept on bar 9 (1.0 > 0).
        ({}, [0, 0, 0, 1, 1, -1, -1, -1, 1, 1]),
        # exit 0.7: bar 4 (0.58 <= 0.7) closes +1; bar 7 (-0.58 >= -0.7) closes -1.
        ({"exit": 0.7}, [0, 0, 0, 1, 0, -1, -1, 0, 1, 1]),
        # exit -2: never closed once open (z never reaches -2).
        ({"exit": -2.0}, [0, 0, 0, 1, 1, 1, 1, 1, 1, 1]),
        # entry 1.2 > 1.1547: never opened.
        ({"entry": 1.2}, [0] * 10),
    ],
)
def test_bond_spread_states_hand_computed(params, states):
    pos = spread_rule(params)
    assert pos.columns.tolist() == ["UST10Y", "JGB10Y"]
    np.testing.assert_array_equal(np.sign(pos["UST10Y"]), states)
    np.testing.assert_array_equal(np.sign(pos["JGB10Y"]), -np.array(states))


def test_spread_states_directly():
    # Hand: entry 1, exit 0. Bar 1 opens +1, bar 3's NaN closes it, bar 4 opens -1,
    # bar 6 (0.2 >= 0) closes it, bar 7 opens +1, kept at bar 8 (0.1 > 0), bar 9 flips.
    z = np.array([math.nan, 1.5, 0.5, math.nan, -1.5, -0.5, 0.2, 2.0, 0.1, -3.0])
    every = np.ones(10, dtype=bool)
    assert spread_states(z, 1.0, 0.0, every).tolist() == [0, 1, 1, 0, -1, -1, 0, 1, 1, -1]
    # entries allowed only on bars 4 and 9
    allowed = np.zeros(10, dtype=bool)
    allowed[[4, 9]] = True
    assert spread_states(z, 1.0, 0.0, allowed).tolist() == [0, 0, 0, 0, -1, -1, 0, 0, 0, -1]


def test_bond_spread_only_after_events():
    # Date-only BoJ event on 2025-01-13 (Tokyo): day 0 is UST10Y's bar dated 01-13
    # (bar 5). event_window 2: entries only on bars 5 and 6. Bar 3's entry is skipped;
    # -1 opens at bar 5, is kept to bar 7 (exits are not restricted) and closed at bar 8,
    # where no new entry is allowed.
    events = event_rows(("boj", "2025-01-13", None, TOKYO, "boj"))
    pos = spread_rule({"after_events": True, "event_window": 2}, events=events)
    np.testing.assert_array_equal(np.sign(pos["UST10Y"]), [0, 0, 0, 0, 0, -1, -1, -1, 0, 0])
    with pytest.raises(StrategyError, match="after_events needs events"):
        spread_rule({"after_events": True})
    with pytest.raises(StrategyError, match=r"params\.event_categories"):
        spread_rule({"after_events": True, "event_categories": ["fomc"]}, events=events)


@pytest.mark.parametrize("gross", [1.0, 0.6])
def test_bond_spread_weights_are_duration_neutral(gross):
    pos = spread_rule({"gross": gross, "rebalance": "daily"})
    held = pos[(pos != 0).any(axis=1)]
    assert len(held) == 7
    # rebalance "entry" (default): each holding run keeps the weights of its first bar
    entry = spread_rule({"gross": gross})
    sign = np.sign(entry["UST10Y"]).to_numpy()
    starts = [t for t in range(len(sign)) if sign[t] != 0 and (t == 0 or sign[t] != sign[t - 1])]
    for t in range(len(sign)):
        if sign[t] != 0:
            first = max(s for s in starts if s <= t)
            np.testing.assert_array_equal(entry.iloc[t], pos.iloc[first])
    for date, (w_ust, w_jgb) in held.iterrows():
        ust = BS_UST[BS_DATES.index(str(date.date()))]
        # weighted DV01 of the pair (10-year par bonds, semi-annual): ~0
        d_ust, d_jgb = dv01(ust, 10, 2), dv01(1.0, 10, 2)
        assert abs(w_ust * d_ust + w_jgb * d_jgb) < 1e-6 * abs(w_ust * d_ust)
        assert abs(w_ust) + abs(w_jgb) == pytest.approx(gross, rel=1e-14)


def test_bond_spread_legs_and_required_series():
    rule = BondSpread()
    p = rule.parse({})
    assert rule.legs(p, "UST10Y") == ["UST10Y", "JGB10Y"]
    assert rule.required_series(p, "UST10Y") == ["JGB10Y"]
    q = rule.parse({"long": "UST5Y", "short": "JGB5Y"})
    assert rule.legs(q, "UST5Y") == ["UST5Y", "JGB5Y"]


def test_bond_spread_traded_series_must_be_the_long_leg():
    lv = levels(BS_DATES, UST10Y=BS_UST, JGB10Y=[1.0] * len(BS_DATES))
    rule = BondSpread()
    with pytest.raises(StrategyError, match=r"series must be params\.long='UST10Y', got 'JGB10Y'"):
        rule.positions(MarketData(lv, "JGB10Y"), rule.parse({}))
    with pytest.raises(StrategyError, match=r"needs series \['JGB10Y'\]"):
        rule.positions(MarketData(lv[["UST10Y"]], "UST10Y"), rule.parse({}))


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ({"entry": 1.0, "exit": 1.0}, "exit must be below entry"),
        ({"entry": 0.0}, "entry"),
        ({"window": 1}, "window"),
        ({"gross": 0.0}, "gross"),
        ({"long": "JGB10Y"}, "long and short must differ"),
        ({"event_window": 0}, "event_window"),
    ],
)
def test_bond_spread_rejects_bad_params(bad, match):
    with pytest.raises(ConfigError, match=match):
        BondSpread().parse(bad)


def test_bond_spread_z_matches_pandas_on_real_data():
    # Independent: JGB10Y carried onto UST10Y's dates with merge_asof (exact matches
    # allowed: the Tokyo close of d is before the New York close of d), pandas rolling
    # mean and std, and a plain loop for the states.
    lv = snapshot_levels(("UST10Y", "JGB10Y"))
    ust = lv["UST10Y"].dropna()
    jgb = lv["JGB10Y"].dropna()
    bars = pd.DataFrame({"date": ust.index})
    right = pd.DataFrame({"date": jgb.index, "jgb": jgb.to_numpy()})
    spread = ust.to_numpy() - pd.merge_asof(bars, right, on="date")["jgb"].to_numpy()
    s = pd.Series(spread, index=ust.index)
    z = ((s - s.rolling(60).mean()) / s.rolling(60).std()).to_numpy()
    assert not (np.abs(np.abs(z[np.isfinite(z)]) - 1.0) < 1e-9).any()  # no ties
    assert not (np.abs(z[np.isfinite(z)]) < 1e-9).any()
    expected, state = np.zeros(len(z)), 0
    for t, v in enumerate(z):
        if np.isnan(v):
            state = 0
            continue
        if (state == 1 and v <= 0) or (state == -1 and v >= 0):
            state = 0
        if state == 0:
            state = 1 if v > 1.0 else (-1 if v < -1.0 else 0)
        expected[t] = state
    rule = BondSpread()
    pos = rule.positions(MarketData(lv, "UST10Y", events=all_events()), rule.parse({}))
    np.testing.assert_array_equal(np.sign(pos["UST10Y"].to_numpy()), expected)
    assert (expected == 1).sum() > 100 and (expected == -1).sum() > 100
