"""Tests of the built-in strategies in strategies/: the shared contract plus hand-computed cases.

Reference checks: where expected values come from is said at each test: hand-computed
from a tiny case (the reasoning is in the comments), or pandas (rolling windows,
``merge_asof``) run on the real snapshot as an independent implementation.

Invariants: the ``Test*Contract`` classes (tests/strategies/contract.py: no look-ahead,
batch equals one by one, deterministic);
``test_ma_crossover_positions_many_computes_each_window_once`` (a call count); the first
half of ``test_event_drift_day0_matches_the_event_study_on_real_data`` (the strategy's
own day 0 equals the event study's, through the shared sessions rule; its second half
is hand-computed).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from backtest import events as events_mod
from backtest.errors import ConfigError, StrategyError
from backtest.eventstudy import EventStudy
from backtest.strategy import MarketData
from strategies.baselines import BuyAndHold, MACrossover
from strategies.event_drift import EventDrift
from strategies.rate_spread import RateSpread
from strategies.risk_off_yen import RiskOffYen, zscore
from tests.strategies.contract import StrategyContract, all_events, snapshot_levels

NY, TOKYO = "America/New_York", "Asia/Tokyo"

#: Observation clocks as the catalog records them (kind, zone, time).
CLOCKS = {
    "USDJPY": ("fx", NY, "12:00"),  # FRED DEXJPUS, noon buying rate
    "UST10Y": ("yield", NY, "15:30"),  # FRED DGS10
    "JGB10Y": ("yield", TOKYO, "15:00"),  # MoF, Tokyo close
    "VIX": ("index", NY, "16:15"),  # FRED VIXCLS
}


def levels(
    dates: list[str], clocks: dict[str, tuple[str, str, str]] | None = None, **columns: list[float]
) -> pd.DataFrame:
    """A hand-made levels frame with the provenance :func:`backtest.data.load` attaches."""
    frame = pd.DataFrame(columns, index=pd.DatetimeIndex(dates, name="date"), dtype="float64")
    known = {**CLOCKS, **(clocks or {})}
    frame.attrs["backtest"] = {
        "series": {
            name: {"kind": known[name][0], "timezone": known[name][1], "obs_time": known[name][2]}
            for name in columns
        }
    }
    return frame


def event_rows(*rows: tuple[str, str, str | None, str, str]) -> pd.DataFrame:
    """Canonical events from (id, date, time or None, zone, category) tuples."""
    return events_mod.from_records(
        [
            {"id": i, "date": d, "time": t, "timezone": z, "category": c, "label": i}
            for i, d, t, z, c in rows
        ]
    )


# The shared contract, on the real snapshot -----------------------------------------------


class TestBuyAndHoldContract(StrategyContract):
    strategy_cls = BuyAndHold
    params = ({},)


class TestMACrossoverContract(StrategyContract):
    strategy_cls = MACrossover
    params = (
        {"fast": 5, "slow": 20},
        {"fast": 20, "slow": 50, "direction": "both"},
        {"fast": 1, "slow": 2},
        {"fast": 50, "slow": 200, "direction": "both"},
        {"fast": 5, "slow": 50},  # shares window 5 with the first set, 50 with the second
    )


class TestEventDriftContract(StrategyContract):
    strategy_cls = EventDrift
    params = (
        {},
        {"categories": ["tariff_announcement", "tariff_pause"], "mode": "reversal", "hold": 3},
        {"categories": ["boj", "fomc"], "hold": 10, "min_move": 0.5},
        {"mode": "reversal", "hold": 1},
    )


class TestRiskOffYenContract(StrategyContract):
    strategy_cls = RiskOffYen
    params = (
        {},
        {"threshold": 1.5, "hold": 5, "lookback": 20},
        {"signal": "UST10Y", "signal_transform": "change", "threshold": 2.0},
        {"threshold": 2.5, "exit_threshold": 1.0, "hold": 20},
        {"threshold": 3.0, "hold": 10, "lookback": 20},  # shares the second's z-score
    )


class TestRateSpreadContract(StrategyContract):
    strategy_cls = RateSpread
    params = (
        {},
        {"threshold": 3.0, "direction": "both"},
        {"mode": "change", "window": 20},
        {"mode": "change", "window": 60, "direction": "both"},
    )


# buy_and_hold -------------------------------------------------------------------------


def test_buy_and_hold_is_long_on_own_dates_only():
    # Hand-made: the traded series has no observation on 2025-01-08 (NaN).
    lv = levels(["2025-01-06", "2025-01-07", "2025-01-08"], USDJPY=[150.0, 151.0, math.nan])
    pos = BuyAndHold().positions(MarketData(lv, "USDJPY"), BuyAndHold.Params())
    assert pos.to_dict() == {pd.Timestamp("2025-01-06"): 1.0, pd.Timestamp("2025-01-07"): 1.0}


# ma_crossover -------------------------------------------------------------------------

MA_DATES = [f"2025-01-{d:02d}" for d in (6, 7, 8, 9, 10, 13, 14, 15)]
MA_PRICES = [1.0, 2.0, 3.0, 2.0, 1.0, 2.0, 3.0, 4.0]
# Hand-computed, fast=2, slow=3 (averages of the last 2 and 3 prices):
#   t=0 -/-        t=1 1.5/-       -> 0 (no slow average yet)
#   t=2 2.5/2.0    t=3 2.5/2.33    -> long
#   t=4 1.5/2.0    t=5 1.5/1.67    -> not long
#   t=6 2.5/2.0    t=7 3.5/3.0     -> long
MA_LONG = [0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0]
MA_BOTH = [0.0, 0.0, 1.0, 1.0, -1.0, -1.0, 1.0, 1.0]
# fast=1, slow=2: long when the price rose since the previous bar (p_t > (p_t + p_{t-1})/2).
MA_1_2 = [0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0]


@pytest.mark.parametrize(("direction", "expected"), [("long", MA_LONG), ("both", MA_BOTH)])
def test_ma_crossover_hand_computed(direction, expected):
    data = MarketData(levels(MA_DATES, USDJPY=MA_PRICES), "USDJPY")
    rule = MACrossover()
    pos = rule.positions(data, rule.parse({"fast": 2, "slow": 3, "direction": direction}))
    assert pos.tolist() == expected


def test_ma_crossover_skips_days_without_a_price():
    # A second series observed on a day the traded one is not: the averages run over
    # the traded series' own observations, so the answer is unchanged.
    dates = [*MA_DATES[:5], "2025-01-11", *MA_DATES[5:]]  # a Saturday: only the other series
    prices = [*MA_PRICES[:5], math.nan, *MA_PRICES[5:]]
    other = [1.0] * len(dates)
    data = MarketData(levels(dates, USDJPY=prices, UST10Y=other), "USDJPY")
    rule = MACrossover()
    pos = rule.positions(data, rule.parse({"fast": 2, "slow": 3}))
    assert pos.index.equals(pd.DatetimeIndex(MA_DATES))
    assert pos.tolist() == MA_LONG


def test_ma_crossover_positions_many_hand_computed():
    data = MarketData(levels(MA_DATES, USDJPY=MA_PRICES), "USDJPY")
    rule = MACrossover()
    sets = [
        rule.parse({"fast": 2, "slow": 3}),
        rule.parse({"fast": 2, "slow": 3, "direction": "both"}),
        rule.parse({"fast": 1, "slow": 2}),
    ]
    many = rule.positions_many(data, sets)
    assert many.columns.tolist() == [0, 1, 2]
    assert many[0].tolist() == MA_LONG
    assert many[1].tolist() == MA_BOTH
    assert many[2].tolist() == MA_1_2
    assert rule.positions_many(data, []).shape == (len(MA_DATES), 0)


def test_ma_crossover_positions_many_computes_each_window_once(monkeypatch):
    import strategies.baselines as baselines

    calls: list[int] = []
    real = baselines._sma
    monkeypatch.setattr(
        baselines, "_sma", lambda csum, window: calls.append(window) or real(csum, window)
    )
    data = MarketData(snapshot_levels(("USDJPY",)), "USDJPY")
    rule = MACrossover()
    grid = [rule.parse({"fast": f, "slow": s}) for f in (5, 10, 20) for s in (50, 100, 200)]
    rule.positions_many(data, grid)
    assert sorted(calls) == [5, 10, 20, 50, 100, 200]


def test_ma_crossover_crossings_share_each_window_across_calls(monkeypatch):
    """A sweep's chunks compute each window's average once; every chunk's features are
    pandas' rolling means (an independent reference) and the chunk's rule equals
    positions_many exactly, also after the shared array grew or was started afresh."""
    import strategies.baselines as baselines

    calls: list[int] = []
    real = baselines._sma
    monkeypatch.setattr(
        baselines, "_sma", lambda csum, window: calls.append(window) or real(csum, window)
    )
    monkeypatch.setattr(baselines, "_AVERAGES", [])
    frame = snapshot_levels(("USDJPY",))
    data = MarketData(frame, "USDJPY")
    price = data.price
    rule = MACrossover()
    chunks = [
        [rule.parse({"fast": f, "slow": s}) for f in (2, 5) for s in (10, 30)],
        [rule.parse({"fast": f, "slow": s, "direction": "both"}) for f in (5, 7) for s in (30, 60)],
        [rule.parse({"fast": f, "slow": s}) for f in range(1, 6) for s in range(40, 46)],
    ]
    rules = [rule.crossings(data, sets) for sets in chunks]
    wanted = {w for sets in chunks for p in sets for w in (p.fast, p.slow)}
    assert sorted(calls) == sorted(wanted)  # each window once over the three chunks
    for sets, cross in zip(chunks, rules, strict=True):
        feats = np.asarray(cross.features)
        for p, a, b in zip(sets, cross.left, cross.right, strict=True):
            for w, col in ((p.fast, a), (p.slow, b)):
                want = price.rolling(w).mean().to_numpy()
                np.testing.assert_allclose(feats[:, col], want, rtol=1e-12, atol=0)
        left, right = feats[:, cross.left], feats[:, cross.right]
        built = np.where(np.isnan(right), 0.0, np.where(left > right, cross.above, cross.below))
        np.testing.assert_array_equal(built, rule.positions_many(data, sets).to_numpy())
    calls.clear()
    rule.crossings(data, chunks[2])  # all known: nothing computed
    assert calls == []
    monkeypatch.setattr(baselines, "_AVERAGES_BUDGET", 8 * len(price) * 3)  # 3 rows at most
    cross = rule.crossings(data, chunks[0])  # 4 windows > budget: afresh, same numbers
    assert sorted(calls) == [2, 5, 10, 30]
    left = np.asarray(cross.features)[:, cross.left]
    np.testing.assert_array_equal(left[:, 0], real(baselines._running_sum(price.to_numpy()), 2))


@pytest.mark.parametrize(
    "bad", [{"fast": 3, "slow": 3}, {"fast": 10, "slow": 5}, {"fast": 0}, {"slow": 1}]
)
def test_ma_crossover_rejects_bad_windows(bad):
    with pytest.raises(ConfigError, match="ma_crossover"):
        MACrossover().parse(bad)


def test_ma_crossover_fast_must_be_below_slow_message():
    with pytest.raises(ConfigError, match="fast must be below slow, got fast=10, slow=5"):
        MACrossover().parse({"fast": 10, "slow": 5})


# event_drift --------------------------------------------------------------------------

ED_DATES = [
    "2025-03-31",
    "2025-04-01",
    "2025-04-02",
    "2025-04-03",
    "2025-04-04",
    "2025-04-07",
    "2025-04-08",
    "2025-04-09",
    "2025-04-10",
    "2025-04-11",
]
# Day-0 reactions (percent log returns) that matter below:
#   2025-04-02: 100 ln(151/150) = +0.66;  2025-04-03: 100 ln(147/151) = -2.68
#   2025-04-04: 100 ln(146/147) = -0.68;  2025-04-08: 100 ln(148/147) = +0.68
ED_PRICES = [150.0, 150.0, 151.0, 147.0, 146.0, 147.0, 148.0, 147.0, 147.0, 147.5]
# Event A: 16:00 New York on 2025-04-02, after that day's 12:00 New York fix, so its
# day 0 is the fix of 2025-04-03. Event B: date-only, 2025-04-08 in Tokyo: day 0 is the
# first fix dated on or after 2025-04-08.
ED_EVENTS = event_rows(
    ("A", "2025-04-02", "16:00", NY, "tariff"),
    ("B", "2025-04-08", None, TOKYO, "boj"),
)


def drift(params, *, events=ED_EVENTS, day0=None, clock="12:00"):
    lv = levels(ED_DATES, {"USDJPY": ("fx", NY, clock)}, USDJPY=ED_PRICES)
    rule = EventDrift()
    return rule.positions(MarketData(lv, "USDJPY", events=events, day0=day0), rule.parse(params))


def test_event_drift_hold_two_bars():
    # A: day 0 2025-04-03, reaction -2.68 -> short on 04-03 and 04-04.
    # B: day 0 2025-04-08, reaction +0.68 -> long on 04-08 and 04-09.
    expected = [0, 0, 0, -1, -1, 0, 1, 1, 0, 0]
    assert drift({"hold": 2}).tolist() == expected


def test_event_drift_reversal_flips_the_sign():
    assert drift({"hold": 2, "mode": "reversal"}).tolist() == [0, 0, 0, 1, 1, 0, -1, -1, 0, 0]


def test_event_drift_latest_event_wins():
    # hold=5: A would be short 04-03 .. 04-09; B takes over from its day 0 (04-08) and
    # is long to the end of the data (04-08 .. 04-11, 4 of its 5 bars).
    assert drift({"hold": 5}).tolist() == [0, 0, 0, -1, -1, -1, 1, 1, 1, 1]


def test_event_drift_min_move_and_categories():
    # |A| = 2.68 >= 1.0 is traded, |B| = 0.68 < 1.0 is not.
    assert drift({"hold": 2, "min_move": 1.0}).tolist() == [0, 0, 0, -1, -1, 0, 0, 0, 0, 0]
    assert drift({"hold": 2, "categories": ["boj"]}).tolist() == [0, 0, 0, 0, 0, 0, 1, 1, 0, 0]


def test_event_drift_day0_follows_the_observation_clock():
    # The same event at 11:00 New York is before the 12:00 fix of 04-02: day 0 is
    # 04-02, reaction +0.66 -> long on 04-02 and 04-03.
    early = event_rows(("A", "2025-04-02", "11:00", NY, "tariff"))
    assert drift({"hold": 2}, events=early).tolist() == [0, 0, 1, 1, 0, 0, 0, 0, 0, 0]
    # 16:00 New York against a series observed at 17:00 New York: the 04-02
    # observation comes after the event, so day 0 is 04-02 again.
    late_clock = drift({"hold": 2}, events=ED_EVENTS.iloc[:1], clock="17:00")
    assert late_clock.tolist() == [0, 0, 1, 1, 0, 0, 0, 0, 0, 0]


def test_event_drift_uses_day0_from_an_event_study_where_given():
    # day0 names 04-04 for A (reaction -0.68: short 04-04, 04-07); B is not in the
    # frame, so its day 0 is computed (04-08: long 04-08, 04-09).
    day0 = pd.DataFrame(
        {"USDJPY": [pd.Timestamp("2025-04-04")]}, index=pd.Index(["A"], name="event")
    )
    assert drift({"hold": 2}, day0=day0).tolist() == [0, 0, 0, 0, -1, -1, 1, 1, 0, 0]


def test_event_drift_day0_matches_the_event_study_on_real_data():
    # Invariant first (strategy's day 0 = EventStudy's day 0), then a hand-computed window.
    lv = snapshot_levels(("USDJPY",))
    ev = all_events()
    result = EventStudy(model="raw").run(lv, ev)
    rule = EventDrift()
    params = rule.parse({"hold": 3})
    own = rule.positions(MarketData(lv, "USDJPY", events=ev), params)
    given = MarketData(lv, "USDJPY", events=ev, day0=result.day0)
    pd.testing.assert_series_equal(rule.positions(given, params), own, check_exact=True)
    assert (own != 0).sum() > 50
    # By hand from the calendars and the snapshot fixes (04-01 149.40, 04-02 149.98,
    # 04-03 146.04, 04-04 145.93, 04-07 147.96):
    #   04-02: no event with day 0 in 03-31 .. 04-02 -> 0;
    #   04-03: Liberation Day (16:00 NY on 04-02, after that day's noon fix) and the
    #          auto tariffs (00:01 on 04-03): reaction 100 ln(146.04/149.98) < 0 -> -1;
    #   04-04: China's retaliation (date-only, 04-04): 145.93 < 146.04 -> -1;
    #   04-07: the 10% baseline (Saturday 04-05, first fix on or after: 04-07):
    #          147.96 > 145.93 -> +1, held on 04-08.
    window = own.loc["2025-04-02":"2025-04-08"]
    assert window.tolist() == [0.0, -1.0, -1.0, 1.0, 1.0]
    cut = pd.Timestamp("2025-04-03")
    short = rule.positions(given.truncated(cut), params)
    pd.testing.assert_series_equal(short, own.loc[:cut], check_exact=True)


def test_event_drift_needs_events():
    lv = levels(ED_DATES, USDJPY=ED_PRICES)
    with pytest.raises(StrategyError, match="'event_drift' needs events"):
        EventDrift().positions(MarketData(lv, "USDJPY"), EventDrift.Params())


def test_event_drift_unknown_category_is_an_error():
    with pytest.raises(StrategyError, match=r"params\.categories.*'tarif'.*did you mean"):
        drift({"categories": ["tarif"]})


# risk_off_yen -------------------------------------------------------------------------

RO_DATES = [str(d.date()) for d in pd.bdate_range("2025-03-03", periods=12)]
RO_VIX = [10.0, 11.0, 10.0, 11.0, 10.0, 11.0, 30.0, 29.0, 10.0, 10.0, 11.0, 10.0]
# Hand-computed z-scores, lookback 5 (mean and ddof=1 std of the last five values):
#   i=5 [11,10,11,10,11]  -> (11-10.6)/0.548 = +0.73
#   i=6 [10,11,10,11,30]  -> (30-14.4)/8.735 = +1.79   (the spike)
#   i=7 [11,10,11,30,29]  -> (29-18.2)/10.33 = +1.05
#   i=8 [10,11,30,29,10]  -> (10-18.0)/10.51 = -0.76
RO_Z = {5: 0.7303, 6: 1.7859, 7: 1.0455, 8: -0.7610}


def risk_off(params, *, vix_clock="16:15"):
    lv = levels(
        RO_DATES,
        {"VIX": ("index", NY, vix_clock)},
        USDJPY=[150.0] * len(RO_DATES),
        VIX=RO_VIX,
    )
    rule = RiskOffYen()
    return rule.positions(MarketData(lv, "USDJPY"), rule.parse({"lookback": 5, **params}))


def test_zscore_hand_computed():
    z = zscore(pd.Series(RO_VIX), 5)
    assert z.iloc[:4].isna().all()
    for i, expected in RO_Z.items():
        assert z.iloc[i] == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize(("name", "lookback"), [("VIX", 60), ("VIX", 20), ("UST10Y", 60)])
def test_zscore_matches_pandas_rolling_on_real_data(name, lookback):
    x = snapshot_levels(("USDJPY", "UST10Y", "VIX"))[name].dropna()
    if name == "UST10Y":
        x = x.diff() * 100.0  # daily change in basis points
    expected = (x - x.rolling(lookback).mean()) / x.rolling(lookback).std(ddof=1)
    np.testing.assert_allclose(zscore(x, lookback), expected, rtol=1e-9, atol=1e-9)


def test_risk_off_yen_vix_of_day_d_is_used_from_the_next_fix():
    # VIX (16:15 NY) of day i is known at the USD/JPY fix (12:00 NY) of bar i + 1.
    # Bar 7 sees z6 = 1.79 > 1.5 after z5 = 0.73: short. Bar 8 sees z7 = 1.05 >= 0:
    # still short. Bar 9 sees z8 = -0.76 < 0: out, before the 10-bar hold runs out.
    assert risk_off({"threshold": 1.5}).tolist() == [0.0] * 7 + [-1.0, -1.0] + [0.0] * 3


def test_risk_off_yen_same_day_signal_when_observed_before_the_fix():
    # A gauge observed at 09:00 NY is known at that day's noon fix: one bar earlier.
    pos = risk_off({"threshold": 1.5}, vix_clock="09:00")
    assert pos.tolist() == [0.0] * 6 + [-1.0, -1.0] + [0.0] * 4


def test_risk_off_yen_hold_and_exit_threshold():
    # hold=1: the entry bar only.
    assert risk_off({"threshold": 1.5, "hold": 1}).tolist() == [0.0] * 7 + [-1.0] + [0.0] * 4
    # exit below -1: z8 = -0.76 is not an exit; the 3-bar hold ends after bar 9.
    pos = risk_off({"threshold": 1.5, "exit_threshold": -1.0, "hold": 3})
    assert pos.tolist() == [0.0] * 7 + [-1.0] * 3 + [0.0] * 2
    # threshold 2: the largest z is 1.79, never a signal.
    assert (risk_off({"threshold": 2.0}) == 0.0).all()


def test_risk_off_yen_matches_an_independent_pandas_version_on_real_data():
    # Independent implementation: pandas rolling z-score, merge_asof on dates strictly
    # before each fix (VIX 16:15 NY is after the 12:00 NY fix), a plain loop for the
    # entry/exit rule.
    lv = snapshot_levels(("USDJPY", "VIX"))
    vix = lv["VIX"].dropna()
    z = (vix - vix.rolling(60).mean()) / vix.rolling(60).std()
    bars = pd.DataFrame({"date": lv["USDJPY"].dropna().index})
    right = pd.DataFrame({"date": z.index, "z": z.to_numpy()})
    aligned = pd.merge_asof(bars, right, on="date", allow_exact_matches=False)["z"].to_numpy()
    expected = np.zeros(len(aligned))
    left = 0
    for t in range(len(aligned)):
        if t > 0 and aligned[t - 1] <= 2.0 < aligned[t]:
            left = 10
        elif left and aligned[t] < 0.0:
            left = 0
        if left:
            expected[t], left = -1.0, left - 1
    rule = RiskOffYen()
    pos = rule.positions(MarketData(lv, "USDJPY"), rule.parse({}))
    np.testing.assert_array_equal(pos.to_numpy(), expected)
    assert (expected == -1.0).sum() > 20
    assert pos.loc["2024-08-05"] == -1.0  # VIX spiked on 2024-08-02 and 08-05


def test_risk_off_yen_required_series_and_missing_signal():
    rule = RiskOffYen()
    assert rule.required_series(rule.parse({}), "USDJPY") == ["VIX"]
    assert rule.required_series(rule.parse({"signal": "UST10Y"}), "USDJPY") == ["UST10Y"]
    lv = levels(RO_DATES, USDJPY=[150.0] * len(RO_DATES))
    with pytest.raises(StrategyError, match=r"'risk_off_yen' needs series \['VIX'\]"):
        rule.positions(MarketData(lv, "USDJPY"), rule.parse({}))


def test_risk_off_yen_exit_threshold_above_entry_is_rejected():
    with pytest.raises(ConfigError, match="exit_threshold must be at most threshold"):
        RiskOffYen().parse({"threshold": 1.0, "exit_threshold": 1.5})


# rate_spread --------------------------------------------------------------------------

RS_DATES = [str(d.date()) for d in pd.bdate_range("2025-03-03", periods=8)]
RS_UST = [3.9, 3.9, 3.9, 4.2, 4.2, 4.2, 3.6, 3.6]
RS_JGB = [1.0, 1.0, 1.0, 1.0, 1.0, 0.7, 0.7, 0.7]
# DEXJPUS fixes at 12:00 NY. JGB10Y of day i (15:00 Tokyo = 01:00/02:00 NY) is known
# at fix i; UST10Y of day i (15:30 NY) only at fix i + 1. Spread at bar i:
#   UST[i-1] - JGB[i] = [nan, 2.9, 2.9, 2.9, 3.2, 3.5, 3.5, 2.9]
# The UST jump of bar 3 shows at bar 4; the JGB drop of bar 5 at bar 5.
RS_SPREAD = [math.nan, 2.9, 2.9, 2.9, 3.2, 3.5, 3.5, 2.9]


def spread_rule(params, *, fx_clock="12:00"):
    lv = levels(
        RS_DATES,
        {"USDJPY": ("fx", NY, fx_clock)},
        USDJPY=[150.0] * len(RS_DATES),
        UST10Y=RS_UST,
        JGB10Y=RS_JGB,
    )
    rule = RateSpread()
    data = MarketData(lv, "USDJPY")
    return rule.positions(data, rule.parse(params)), rule.spread(data)


def test_rate_spread_uses_the_previous_days_treasury_yield():
    pos, spread = spread_rule({"threshold": 3.0, "direction": "both"})
    np.testing.assert_allclose(spread.to_numpy(), RS_SPREAD, rtol=0, atol=1e-12)
    # Above 3.0 from bar 4 (not bar 3, the day of the UST jump) to bar 6.
    assert pos.tolist() == [0.0, -1.0, -1.0, -1.0, 1.0, 1.0, 1.0, -1.0]
    pos, _ = spread_rule({"threshold": 3.0})
    assert pos.tolist() == [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0]


def test_rate_spread_same_day_treasury_when_the_fx_clock_is_later():
    # A USD/JPY series observed at 17:00 NY sees that day's 15:30 UST10Y: spread at bar
    # i is UST[i] - JGB[i] = [2.9, 2.9, 2.9, 3.2, 3.2, 3.5, 2.9, 2.9].
    pos, spread = spread_rule({"threshold": 3.0, "direction": "both"}, fx_clock="17:00")
    np.testing.assert_allclose(spread.to_numpy(), [2.9, 2.9, 2.9, 3.2, 3.2, 3.5, 2.9, 2.9])
    assert pos.tolist() == [-1.0, -1.0, -1.0, 1.0, 1.0, 1.0, -1.0, -1.0]


def test_rate_spread_level_against_its_moving_average():
    # window 2: long while S_i > (S_{i-1} + S_i) / 2, i.e. while the spread rose.
    #   bar 1: needs S_0 (nan) -> 0; bar 2, 3: 2.9 vs 2.9 -> no; bar 4: 3.2 > 3.05;
    #   bar 5: 3.5 > 3.35; bar 6: 3.5 vs 3.5 -> no; bar 7: 2.9 < 3.2 -> no.
    pos, _ = spread_rule({"window": 2, "direction": "both"})
    assert pos.tolist() == [0.0, 0.0, -1.0, -1.0, 1.0, 1.0, -1.0, -1.0]


def test_rate_spread_change_mode():
    # window 2: long while S_i - S_{i-2} > 0.
    #   bars 0-2: need S_0 -> 0; bar 3: 2.9 - 2.9 = 0 -> no; bar 4: +0.3; bar 5: +0.6;
    #   bar 6: +0.3; bar 7: 2.9 - 3.5 = -0.6 -> no.
    pos, _ = spread_rule({"mode": "change", "window": 2, "direction": "both"})
    assert pos.tolist() == [0.0, 0.0, 0.0, -1.0, 1.0, 1.0, 1.0, -1.0]
    # threshold 0.4: only the +0.6 of bar 5 counts.
    pos, _ = spread_rule({"mode": "change", "window": 2, "threshold": 0.4})
    assert pos.tolist() == [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0]


def test_rate_spread_alignment_on_real_data():
    # Snapshot values (data/snapshot): UST10Y 2025-04-07 = 4.15, 2025-04-08 = 4.26;
    # JGB10Y 2025-04-08 = 1.268. The DEXJPUS fix of 2025-04-08 sees 4.15 - 1.268.
    lv = snapshot_levels(("USDJPY", "UST10Y", "JGB10Y"))
    spread = RateSpread().spread(MarketData(lv, "USDJPY"))
    assert spread.loc["2025-04-08"] == pytest.approx(4.15 - 1.268, abs=1e-12)
    assert RateSpread().required_series(RateSpread.Params(), "USDJPY") == ["UST10Y", "JGB10Y"]
