"""What a position earns in the engine: bonds from their yields, fx with carry, funding.

References (computed here without the engine's leg code):

* a Treasury held through 2022 and 2020-2025: the compounded par-bond total return of
  :func:`backtest.instruments.bond_total_return` (itself checked against closed forms and a
  published 2022 loss in tests/instruments) and the published range of issue 14;
* long USD/JPY over 2023: the carry written out in a plain loop over observation
  intervals with each short rate looked up as of the interval's start;
* funding and Sharpe ratios: the Fed funds target accrued ACT/360 by hand in pandas and
  the Sharpe ratio of the resulting excess returns written out (mean / std x sqrt(252));
* attribution: its parts summed here against the returns, and its costs against the
  fees computed by hand from the trade's value.
"""

from __future__ import annotations

import bisect
import itertools

import numpy as np
import pandas as pd
import pytest

from backtest import data, engine
from backtest.errors import ConfigError, DataValidationError, StrategyError
from backtest.instruments import bond_total_return

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def levels() -> pd.DataFrame:
    return data.load(
        ["UST10Y", "USDJPY", "SPX", "JGB10Y", "VIX", "FEDFUNDS_TARGET", "JPY_CALL"],
        start="2019-01-01",
        end="2025-12-31",
        offline=True,
    )


def window(levels: pd.DataFrame, series: str, start: str, end: str) -> pd.DataFrame:
    """`levels` from the last observation of `series` before `start` to `end`, so a
    position entered at that close is held over every day of the period."""
    own = levels[series].dropna()
    first = own.index[own.index < pd.Timestamp(start)][-1]
    frame = levels.loc[first:end]
    frame.attrs = levels.attrs
    return frame


class Hold:
    """Long from the first bar, so the engine's lag fills it at the first close."""

    @staticmethod
    def run(levels: pd.DataFrame, series: str, **kw):
        return engine.backtest("buy_and_hold", {}, levels, series=series, **kw)


@pytest.mark.parametrize(
    ("start", "end"), [("2022-01-01", "2022-12-31"), ("2020-01-01", "2025-12-31")]
)
def test_treasury_total_return_from_its_yield(levels, start, end):
    frame = window(levels, "UST10Y", start, end)
    bt = Hold.run(frame, "UST10Y")
    y = frame["UST10Y"].dropna()
    r = bond_total_return(y, 10.0, freq=2)
    # buy_and_hold targets 1 from bar 0: filled at the close of bar 1, held afterwards
    expected = float((1.0 + r["total"].iloc[2:]).prod() - 1.0)
    assert bt.metrics["total_return"] == pytest.approx(expected, rel=1e-10)
    if start.startswith("2022"):
        assert -0.19 <= bt.metrics["total_return"] <= -0.12  # issue 14: lost 12-19%
    else:
        assert bt.metrics["total_return"] < 0.0  # rates up from 1.9% to 4.2%
    att = bt.attribution
    assert list(att.columns.get_level_values(1)) == ["price", "accrual", "funding", "costs"]
    parts = att["UST10Y"]
    np.testing.assert_allclose(parts["price"] + parts["accrual"], bt.returns, atol=1e-15)
    # the accrual is the coupon (the yield at the start of each interval) accrued ACT/365.25
    days = np.diff(y.index.to_numpy().astype("datetime64[D]").astype(np.int64))
    accrual = y.to_numpy()[:-1] / 100 * days / 365.25
    assert parts["accrual"].sum() == pytest.approx(accrual[1:].sum(), rel=1e-12)


def test_funding_and_sharpe_on_excess_returns(levels):
    frame = window(levels, "UST10Y", "2022-01-01", "2023-12-31")
    bt = Hold.run(frame, "UST10Y")
    bars = frame["UST10Y"].dropna().index
    ff = levels["FEDFUNDS_TARGET"].dropna()
    # the target as of each bar's start, accrued ACT/360 over its calendar days
    start_rate = ff.reindex(ff.index.union(bars)).ffill().loc[bars].to_numpy()[:-1]
    days = np.diff(bars.to_numpy().astype("datetime64[D]").astype(np.int64))
    charge = np.r_[0.0, start_rate / 100 * days / 360]
    held_prev = np.r_[0.0, 0.0, np.ones(len(bars) - 2)]  # long from the close of bar 1
    excess = bt.returns.to_numpy() - held_prev * charge
    np.testing.assert_allclose(bt.excess_returns.to_numpy(), excess, atol=1e-15)
    np.testing.assert_allclose(bt.attribution[("UST10Y", "funding")], -held_prev * charge)
    sharpe = excess.mean() / excess.std(ddof=1) * np.sqrt(252)
    assert bt.metrics["sharpe"] == pytest.approx(sharpe, rel=1e-10)
    vol = excess.std(ddof=1) * np.sqrt(252)
    assert bt.metrics["volatility"] == pytest.approx(vol, rel=1e-10)
    # funding="none": the same returns, Sharpe over the constant risk-free rate
    plain = Hold.run(frame, "UST10Y", funding="none", risk_free=0.02)
    pd.testing.assert_series_equal(plain.returns, bt.returns)
    x = bt.returns.to_numpy() - ((1.02) ** (1 / 252) - 1)
    assert plain.metrics["sharpe"] == pytest.approx(x.mean() / x.std(ddof=1) * np.sqrt(252))


def test_a_constant_risk_free_next_to_funded_legs_is_refused(levels):
    with pytest.raises(ConfigError, match=r"risk_free=0\.02 applies only when no leg is funded"):
        Hold.run(window(levels, "UST10Y", "2022-01-01", "2022-12-31"), "UST10Y", risk_free=0.02)


def test_long_usdjpy_2023_earns_spot_plus_carry(levels):
    frame = window(levels, "USDJPY", "2023-01-01", "2023-12-31")
    bt = Hold.run(frame, "USDJPY")
    att = bt.attribution["USDJPY"]
    assert list(att.columns) == ["price", "carry", "funding", "costs"]
    assert (att["funding"] == 0).all()  # a currency pair is self-financed
    carry = float(att["carry"].sum())
    assert 0.04 <= carry <= 0.06, carry  # issue 14 acceptance
    np.testing.assert_allclose(att["price"] + att["carry"], bt.returns, atol=1e-15)
    # spot: the position's price part is the spot's own simple return
    spot = frame["USDJPY"].dropna()
    np.testing.assert_allclose(att["price"].iloc[2:], spot.pct_change().iloc[2:], rtol=1e-12)
    # carry by hand: r_USD (ACT/360) - r_JPY (ACT/365) as of each interval's start
    usd, jpy = levels["FEDFUNDS_TARGET"].dropna(), levels["JPY_CALL"].dropna()

    def asof(s: pd.Series, day: pd.Timestamp) -> float:
        return float(s.iloc[bisect.bisect_right(list(s.index), day) - 1])

    hand = 0.0
    dates = list(spot.index)
    for s, t in itertools.pairwise(dates[1:]):
        d = (t - s).days
        hand += asof(usd, s) / 100 * d / 360 - asof(jpy, s) / 100 * d / 365
    # the engine books carry on the simple return (with the spot x carry cross term)
    assert carry == pytest.approx(hand, rel=2e-3)
    assert bt.settings["instruments"]["USDJPY"]["funding"] is None


def test_index_leg_is_a_price_return_funded_in_its_currency(levels):
    frame = window(levels, "SPX", "2024-01-01", "2024-12-31")
    bt = Hold.run(frame, "SPX")
    spx = frame["SPX"].dropna()
    assert bt.metrics["total_return"] == pytest.approx(spx.iloc[-1] / spx.iloc[1] - 1, rel=1e-12)
    record = bt.settings["instruments"]["SPX"]
    assert record["funding"] == "FEDFUNDS_TARGET"
    assert record["dividends"].startswith("not included")
    assert list(bt.attribution["SPX"].columns) == ["price", "funding", "costs"]


def test_costs_in_the_attribution_are_the_fees_paid(levels):
    frame = window(levels, "UST10Y", "2024-01-01", "2024-06-30")
    bt = Hold.run(frame, "UST10Y", fees_bps=10.0)
    costs = bt.attribution[("UST10Y", "costs")]
    # one buy at the close of bar 1 for the whole capital: fee = 10 bp of what it bought
    nonzero = costs[costs != 0]
    assert list(nonzero.index) == [frame["UST10Y"].dropna().index[1]]
    bought = 1.0 / (1 + 10e-4)  # value bought so that value + fee = cash
    assert -nonzero.iloc[0] == pytest.approx(bought * 10e-4, rel=1e-3)
    total = bt.attribution.drop(columns="funding", level=1).sum(axis=1)
    np.testing.assert_allclose(total, bt.returns, atol=1e-15)


def test_rates_loaded_through_the_catalog_equal_rates_passed(levels):
    frame = window(levels, "UST10Y", "2023-01-01", "2023-12-31")[["UST10Y"]]
    frame.attrs = {"backtest": {"series": {"UST10Y": levels.attrs["backtest"]["series"]["UST10Y"]}}}
    loaded = Hold.run(frame, "UST10Y")  # FEDFUNDS_TARGET is not a column: catalog
    passed = Hold.run(frame, "UST10Y", rates=levels[["FEDFUNDS_TARGET"]])
    pd.testing.assert_series_equal(loaded.excess_returns, passed.excess_returns)


def test_sweep_rows_equal_backtests_on_funded_legs(levels):
    frame = window(levels, "UST10Y", "2020-01-01", "2025-12-31")
    space = {"fast": [5, 20], "slow": [60, 120]}
    sw = engine.sweep("ma_crossover", space, frame, series="UST10Y", chunk_size=3)
    assert sw.excess_returns is not None
    for _, row in sw.table.iterrows():
        bt = engine.backtest(
            "ma_crossover",
            {"fast": int(row["fast"]), "slow": int(row["slow"])},
            frame,
            series="UST10Y",
        )
        for m in engine.METRICS:
            assert row[m] == pytest.approx(bt.metrics[m], rel=1e-12, nan_ok=True), m


def test_validation_on_funded_legs_uses_excess_returns(levels):
    frame = window(levels, "UST10Y", "2020-01-01", "2025-12-31")
    val = engine.validate(
        "ma_crossover",
        {"fast": [5, 20], "slow": [60, 120]},
        frame,
        series="UST10Y",
        method="train_test",
        train_fraction=0.6,
    )
    x = val.oos_excess_returns
    assert x is not None and len(x) == len(val.oos_returns)
    sharpe = x.mean() / x.std(ddof=1) * np.sqrt(252)
    assert val.oos_metrics["sharpe"] == pytest.approx(sharpe, rel=1e-10)


def test_untradable_and_unknown_currency_are_refused(levels):
    frame = window(levels, "VIX", "2024-01-01", "2024-06-30")
    with pytest.raises(StrategyError, match="'VIX' is untradable"):
        Hold.run(frame, "VIX")
    ok = Hold.run(frame, "VIX", allow_untradable=True)  # traded as a price, not funded
    assert ok.settings["instruments"]["VIX"]["kind"] == "price"
    with pytest.raises(ConfigError, match="no short rate known for currency 'JPY'"):
        Hold.run(
            window(levels, "JGB10Y", "2024-01-01", "2024-06-30"),
            "JGB10Y",
            short_rates={"JPY": None},  # type: ignore[dict-item]
        )


def test_a_rate_starting_after_the_data_is_an_error(levels):
    frame = window(levels, "UST10Y", "2024-01-01", "2024-06-30")
    late = levels[["FEDFUNDS_TARGET"]].loc["2024-03-01":]
    with pytest.raises(DataValidationError, match="starts on 2024-03-01, after the first bar"):
        Hold.run(frame, "UST10Y", rates=late)


def test_an_fx_leg_without_rates_is_a_clear_error(levels):
    from backtest.engine.legs import leg_returns

    frame = window(levels, "USDJPY", "2024-01-01", "2024-06-30")
    own = frame["USDJPY"].dropna()
    with pytest.raises(DataValidationError, match=r"'USDJPY' is an fx leg .*needs the short"):
        leg_returns(frame, "USDJPY", pd.DatetimeIndex(own.index), rates=None)


def test_bond_spread_portfolio_equals_the_reference_on_real_yields(levels):
    """Issue 14 acceptance on real data: the two-leg UST10Y/JGB10Y portfolio's returns
    equal the independent reference simulation (tests/engine/reference_portfolio.py) fed
    each leg's par-bond total-return index built here (bond_total_return compounded, the
    JGB index carried onto the Treasury's dates with pandas as of each date) and the
    strategy's targets lagged one bar, with the same costs, to 1e-12."""
    from strategies.bond_spread import BondSpread
    from tests.engine.reference_portfolio import simulate

    frame = levels.loc["2019-01-01":"2021-12-31"]
    frame.attrs = levels.attrs
    params = {"window": 40, "entry": 1.0}
    bt = engine.backtest(
        "bond_spread", params, frame, series="UST10Y", fees_bps=2.0, slippage_bps=1.0
    )
    bars = frame["UST10Y"].dropna().index
    closes = {}
    for name in ("UST10Y", "JGB10Y"):
        own = frame[name].dropna()
        index = 100.0 * (1.0 + bond_total_return(own, 10.0)["total"].fillna(0.0)).cumprod()
        closes[name] = index.reindex(index.index.union(bars)).ffill().bfill().loc[bars]
    close = pd.DataFrame(closes)
    target = BondSpread().positions(
        engine.simulate.market_data(
            BondSpread(), BondSpread().parse(params), frame, "UST10Y", None, None
        ),
        BondSpread().parse(params),
    )
    held = target.reindex(bars).shift(1).fillna(0.0).clip(-1.0, 1.0)
    assert (held != 0).any().all()  # both legs traded
    ref = simulate(close, held, 2e-4, 1e-4)
    np.testing.assert_allclose(bt.returns.to_numpy(), ref["returns"].to_numpy(), atol=1e-12)
    costs = bt.attribution.xs("costs", axis=1, level=1)
    np.testing.assert_allclose(costs.to_numpy(), -ref["costs"].to_numpy(), atol=1e-12)


@pytest.mark.parametrize("simulator", ["kernel", "vectorbt"])
def test_chunks_use_the_sweeps_book_only_on_its_legs_and_bars(levels, monkeypatch, simulator):
    # Invariant: a chunk given the sweep's book (the same arrays) gives what it gives
    # opening its own; a book of other bars or legs is not used.
    from backtest.engine import book as book_mod
    from backtest.engine import chunks

    frame = window(levels, "UST10Y", "2020-01-01", "2025-12-31")
    strat = engine.simulate.resolve("ma_crossover")
    combos = [{"fast": 5, "slow": 60}, {"fast": 20, "slow": 120}]
    cfg = chunks.ChunkSettings("UST10Y", fees_bps=1.0, simulator=simulator)
    bars = frame["UST10Y"].dropna().index
    rates = book_mod.rates_for(
        frame, ["UST10Y", "SPX"], bars, rates=None, funding="short_rate", short_rates=None
    )
    given = book_mod.open_book(frame, ["UST10Y"], bars, rates=rates)
    opened: list[tuple[str, ...]] = []
    real_open = chunks.open_book
    monkeypatch.setattr(
        chunks,
        "open_book",
        lambda lv, legs, *a, **k: opened.append(tuple(legs)) or real_open(lv, legs, *a, **k),
    )
    task = (strat, combos, 0, cfg)
    own = chunks.run_chunk(task, frame, None, None, rates)
    assert opened == [("UST10Y",)]
    shared = chunks.run_chunk(task, frame, None, None, rates, given)
    assert opened == [("UST10Y",)]  # not opened again
    pd.testing.assert_frame_equal(shared.metrics, own.metrics)
    pd.testing.assert_frame_equal(shared.returns, own.returns)
    np.testing.assert_array_equal(shared.blocks, own.blocks)
    short = book_mod.open_book(frame, ["UST10Y"], bars[5:], rates=rates)
    other = book_mod.open_book(frame, ["SPX"], bars, rates=rates)
    for wrong in (short, other):
        again = chunks.run_chunk(task, frame, None, None, rates, wrong)
        pd.testing.assert_frame_equal(again.metrics, own.metrics)
    assert opened == [("UST10Y",)] * 3
