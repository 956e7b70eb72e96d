"""Trade records and fill costs from order records (backtest/engine/records.py) against
vectorbt 1.2 and hand-computed cases.

Reference checks:

- ``test_exit_trades_equal_vectorbt``: random portfolios run through vectorbt
  (:func:`backtest.engine.simulate.portfolio`: one leg, or 2-3 legs per parameter set
  sharing cash, 1-2 parameter sets; long, short, fractional and sign-flipping weights;
  fees and slippage, sometimes 0); :func:`exit_trades` on the portfolio's order records
  (shuffled) must equal ``pf.trades.values`` field by field (floats to 1e-12 relative,
  integers exactly).
- ``test_trade_table_equals_vectorbt``: :func:`trade_table_from_records` equals
  :func:`backtest.engine.simulate.trade_table` (``pandas.testing``), with no trades too.
- ``test_costs_equal_vectorbt_cash_flows``: :func:`costs_from_orders` equals the costs
  implied by vectorbt's own accounting, ``-(cash_flow + asset_flow * close)`` per bar
  and column (a buy pays ``size * price + fees`` for ``size`` units worth
  ``size * close``; a sell the mirror).
- ``test_costs_equal_attribution``: the same array as ``book.attribution``'s ``costs``
  (times the previous value) on an engine simulation of two legs.
- ``test_hand_*``: a reversal long -> short in one order, a partial exit of the short,
  and the rest left open at the last close, with every number written out here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backtest.engine.records import (
    ORDER_DTYPE,
    TRADE_COLUMNS,
    TRADE_DTYPE,
    costs_from_orders,
    exit_trades,
    trade_table_from_records,
)
from backtest.errors import DataValidationError

vbt = pytest.importorskip("vectorbt")

from backtest.engine.simulate import portfolio, trade_table  # noqa: E402

RTOL = 1e-12
INT_FIELDS = ("id", "col", "entry_idx", "exit_idx", "direction", "status", "parent_id")
FLOAT_FIELDS = (
    "size",
    "entry_price",
    "entry_fees",
    "exit_price",
    "exit_fees",
    "pnl",
    "return",
)


def random_case(seed: int) -> tuple[pd.DataFrame, pd.DataFrame, float, float, int]:
    """Random-walk closes and piecewise-constant weights of 1-3 legs x 1-2 parameter sets.

    Weights are whole, half or arbitrary fractions of [-1, 1] (scaled by the legs so a
    set's gross weight stays within 1), change at random bars (sometimes flipping
    sign in one order) and start flat. Fees and slippage are 0-20 bp, exactly 0 in
    some cases.
    """
    rng = np.random.default_rng(seed)
    legs = int(rng.integers(1, 4))
    sets = int(rng.integers(1, 3))
    cols = legs * sets
    bars = int(rng.integers(40, 200))
    index = pd.bdate_range("2021-01-04", periods=bars)
    scale = rng.choice([0.01, 1.0, 100.0, 5000.0], size=legs)
    steps = rng.normal(0.0, rng.uniform(0.002, 0.03, size=legs), size=(bars, legs))
    leg_close = scale * np.exp(np.cumsum(steps, axis=0))
    close = pd.DataFrame(np.tile(leg_close, sets), index=index, columns=range(cols))
    choices = np.array([-1.0, -0.5, 0.0, 0.25, 0.5, 1.0])
    held = np.zeros((bars, cols))
    current = np.zeros(cols)
    for t in range(1, bars):
        if rng.random() < 0.2:
            for j in range(cols):
                if rng.random() < 0.6:
                    w = rng.choice(choices) if rng.random() < 0.5 else rng.uniform(-1.0, 1.0)
                    current[j] = w / legs
        held[t] = current
    fees = 0.0 if seed % 5 == 0 else float(rng.uniform(0.0, 20.0))
    slippage = 0.0 if seed % 7 == 0 else float(rng.uniform(0.0, 20.0))
    return close, pd.DataFrame(held, index=index, columns=range(cols)), fees, slippage, legs


def run(close: pd.DataFrame, held: pd.DataFrame, fees: float, slip: float, legs: int):
    price = close[0] if close.shape[1] == 1 else close
    return portfolio(price, held, fees, slip, legs=legs)


def as_orders(pf) -> np.ndarray:
    """vectorbt's order records as ORDER_DTYPE (field by field, not a view)."""
    rec = pf.orders.values
    out = np.empty(len(rec), dtype=ORDER_DTYPE)
    for name in ORDER_DTYPE.names:
        out[name] = rec[name]
    return out


def assert_trades_equal(got: np.ndarray, want: np.ndarray) -> None:
    assert got.dtype == TRADE_DTYPE
    assert len(got) == len(want)
    for name in INT_FIELDS:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    for name in FLOAT_FIELDS:
        np.testing.assert_allclose(got[name], want[name], rtol=RTOL, atol=0.0, err_msg=name)


def test_dtypes_are_vectorbts():
    from vectorbt.portfolio.enums import order_dt, trade_dt

    assert order_dt == ORDER_DTYPE
    assert trade_dt == TRADE_DTYPE


def test_trade_columns_are_the_engines():
    from backtest.engine.simulate import TRADE_COLUMNS as ENGINE_COLUMNS

    assert TRADE_COLUMNS == ENGINE_COLUMNS


@pytest.mark.parametrize("seed", range(24))
def test_exit_trades_equal_vectorbt(seed):
    close, held, fees, slip, legs = random_case(seed)
    pf = run(close, held, fees, slip, legs)
    orders = as_orders(pf)
    assert len(orders) > 0
    shuffled = orders[np.random.default_rng(seed).permutation(len(orders))]
    got = exit_trades(shuffled, np.asarray(pf.close, dtype=float).reshape(len(close), -1))
    want = pf.trades.values
    assert (want["direction"] == 1).any() or not (held.to_numpy() < 0).any()
    assert_trades_equal(got, want)


@pytest.mark.parametrize("seed", range(12))
def test_trade_table_equals_vectorbt(seed):
    close, held, fees, slip, legs = random_case(seed)
    close, held = close.iloc[:, :legs], held.iloc[:, :legs]  # one parameter set
    if seed % 2:  # bars in nanoseconds too (bdate_range gives microseconds)
        close.index = held.index = close.index.as_unit("ns")
    pf = run(close, held, fees, slip, legs)
    names = [f"leg{j}" for j in range(legs)]
    trades = exit_trades(as_orders(pf), close.to_numpy())
    got = trade_table_from_records(trades, close.index, names)
    pd.testing.assert_frame_equal(got, trade_table(pf, names), check_exact=False, rtol=RTOL)


def test_trade_table_without_trades_equals_vectorbt():
    index = pd.bdate_range("2022-01-03", periods=10)
    close = pd.Series(np.linspace(1.0, 2.0, 10), index=index)
    pf = portfolio(close, pd.DataFrame({0: np.zeros(10)}, index=index), 1.0, 1.0)
    trades = exit_trades(as_orders(pf), close.to_numpy())
    assert trades.dtype == TRADE_DTYPE and len(trades) == 0
    pd.testing.assert_frame_equal(
        trade_table_from_records(trades, index, ["x"]), trade_table(pf, ["x"])
    )


@pytest.mark.parametrize("seed", range(10))
def test_costs_equal_vectorbt_cash_flows(seed):
    close, held, fees, slip, legs = random_case(seed)
    pf = run(close, held, fees, slip, legs)
    c = close.to_numpy()
    cash_flow = np.asarray(pf.cash_flow(group_by=False), dtype=float).reshape(c.shape)
    asset_flow = np.asarray(pf.asset_flow(), dtype=float).reshape(c.shape)
    want = -(cash_flow + asset_flow * c)
    got = costs_from_orders(as_orders(pf), c, c.shape[0], c.shape[1])
    assert got.shape == c.shape
    scale = np.abs(cash_flow).max()
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12 * scale)
    if fees or slip:
        assert (got > 0).sum() == len(pf.orders.values)


def test_costs_equal_attribution():
    from backtest.engine.book import attribution, open_book, simulate
    from tests.engine.test_portfolio_engine import TwoLeg, targets

    rng = np.random.default_rng(3)
    index = pd.bdate_range("2021-01-04", periods=90)
    levels = pd.DataFrame(
        100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, (90, 2)), axis=0)),
        index=index,
        columns=["A", "B"],
    )
    strat = TwoLeg()
    book = open_book(levels, ["A", "B"], index, rates=None)
    target = targets(index, 0.8)
    target.columns = range(2)
    sim = simulate(strat, book, target, {"A": 3.0, "B": 7.0}, 5.0, keep=True)
    value = np.asarray(sim.pf.value(), dtype=float).reshape(-1)
    v_prev = np.r_[1.0, value[:-1]]
    parts = attribution(sim, book)
    want = np.column_stack([-parts[(leg, "costs")].to_numpy() * v_prev for leg in ("A", "B")])
    got = costs_from_orders(as_orders(sim.pf), book.closes, len(index), 2)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    assert (got > 0).sum() == len(sim.pf.orders.values) > 0


# Hand case, one column over five bars (close 10, 11, 12, 11, 13):
#   bar 0 buy 2 @ 10, fees 0.2 ........ long position opens
#   bar 2 sell 5 @ 12, fees 0.5 ....... closes the long (2 units, 2/5 of the fees) and
#                                       opens a short of 3 (fees 0.3)
#   bar 3 buy 1 @ 11, fees 0.1 ........ partial exit of the short: 1 of 3 units
#   end ............................... 2 units short left open, marked at 13
HAND_ORDERS = [
    (0, 0, 0, 2.0, 10.0, 0.2, 0),
    (1, 0, 2, 5.0, 12.0, 0.5, 1),
    (2, 0, 3, 1.0, 11.0, 0.1, 0),
]
HAND_CLOSE = np.array([10.0, 11.0, 12.0, 11.0, 13.0])


def hand_trades() -> np.ndarray:
    return exit_trades(np.array(HAND_ORDERS, dtype=ORDER_DTYPE), HAND_CLOSE)


def test_hand_reversal_closes_long_and_opens_short():
    t = hand_trades()
    assert len(t) == 3
    first = t[0]
    assert (first["entry_idx"], first["exit_idx"], first["direction"], first["status"]) == (
        0,
        2,
        0,
        1,
    )
    assert first["size"] == 2.0 and first["entry_price"] == 10.0 and first["exit_price"] == 12.0
    assert first["entry_fees"] == pytest.approx(0.2, rel=1e-15)
    assert first["exit_fees"] == pytest.approx(0.5 * 2 / 5, rel=1e-15)
    pnl = 2 * 12.0 - 2 * 10.0 - 0.2 - 0.2
    assert first["pnl"] == pytest.approx(pnl, rel=1e-14)
    assert first["return"] == pytest.approx(pnl / 20.0, rel=1e-14)
    assert first["parent_id"] == 0


def test_hand_partial_exit_of_the_short():
    second = hand_trades()[1]
    assert (second["entry_idx"], second["exit_idx"], second["direction"], second["status"]) == (
        2,
        3,
        1,
        1,
    )
    assert second["size"] == 1.0 and second["entry_price"] == 12.0 and second["exit_price"] == 11.0
    entry_fees = (0.5 - 0.2) * 1 / 3  # one of the short's three units
    assert second["entry_fees"] == pytest.approx(entry_fees, rel=1e-14)
    assert second["exit_fees"] == pytest.approx(0.1, rel=1e-15)
    pnl = (12.0 - 11.0) * 1 - entry_fees - 0.1
    assert second["pnl"] == pytest.approx(pnl, rel=1e-14)
    assert second["return"] == pytest.approx(pnl / 12.0, rel=1e-14)
    assert second["parent_id"] == 1


def test_hand_open_trade_at_the_end():
    third = hand_trades()[2]
    assert (third["entry_idx"], third["exit_idx"], third["direction"], third["status"]) == (
        2,
        4,
        1,
        0,
    )
    assert third["size"] == pytest.approx(2.0, rel=1e-15)
    assert third["entry_price"] == pytest.approx(12.0, rel=1e-15)
    assert third["exit_price"] == 13.0 and third["exit_fees"] == 0.0
    entry_fees = (0.5 - 0.2) * 2 / 3
    assert third["entry_fees"] == pytest.approx(entry_fees, rel=1e-14)
    pnl = -(2 * 13.0 - 2 * 12.0) - entry_fees
    assert third["pnl"] == pytest.approx(pnl, rel=1e-14)
    assert third["return"] == pytest.approx(pnl / 24.0, rel=1e-14)
    assert third["parent_id"] == 1
    np.testing.assert_array_equal(hand_trades()["id"], [0, 1, 2])


def test_hand_trade_table():
    bars = pd.bdate_range("2024-03-04", periods=5)
    table = trade_table_from_records(hand_trades(), bars, ["USDJPY"])
    assert list(table.columns) == list(TRADE_COLUMNS)
    assert table["leg"].tolist() == ["USDJPY"] * 3
    assert table["direction"].tolist() == ["long", "short", "short"]
    assert table["status"].tolist() == ["closed", "closed", "open"]
    assert list(table["entry_date"]) == [bars[0], bars[2], bars[2]]
    assert list(table["exit_date"]) == [bars[2], bars[3], bars[4]]
    assert table["exit_price"].tolist() == [12.0, 11.0, 13.0]


def test_hand_costs():
    cost = costs_from_orders(np.array(HAND_ORDERS, dtype=ORDER_DTYPE), HAND_CLOSE, 5, 1)
    # fills at the close: only fees; bar 3's buy at 11 against a close of 11 too
    np.testing.assert_allclose(cost[:, 0], [0.2, 0.0, 0.5, 0.1, 0.0], rtol=1e-15)
    slipped = np.array([(0, 0, 1, 4.0, 11.5, 0.05, 0)], dtype=ORDER_DTYPE)
    assert costs_from_orders(slipped, HAND_CLOSE, 5, 1)[1, 0] == pytest.approx(0.05 + 4 * 0.5)


def test_exit_within_tolerance_closes_the_position():
    # a sell 1e-10 relative above the position closes it exactly (vectorbt's is_close)
    orders = np.array(
        [(0, 0, 0, 3.0, 10.0, 0.0, 0), (1, 0, 1, 3.0 * (1 + 1e-10), 10.0, 0.0, 1)],
        dtype=ORDER_DTYPE,
    )
    t = exit_trades(orders, np.array([10.0, 10.0, 10.0]))
    assert len(t) == 1 and t["size"][0] == 3.0 and t["status"][0] == 1
    assert t["pnl"][0] == 0.0  # 30 - 30 within tolerance: exactly 0


@pytest.mark.parametrize(
    ("orders", "close", "match"),
    [
        (np.array([(0, 0, 0, 0.0, 1.0, 0.0, 0)], dtype=ORDER_DTYPE), np.ones(3), "size 0"),
        (np.array([(0, 0, 0, 1.0, -1.0, 0.0, 0)], dtype=ORDER_DTYPE), np.ones(3), "price -1"),
        (np.array([(0, 2, 0, 1.0, 1.0, 0.0, 0)], dtype=ORDER_DTYPE), np.ones((3, 2)), r"\[0, 2\)"),
        (np.zeros(2, dtype=[("id", np.int64), ("col", np.int64)]), np.ones(3), "missing"),
        (np.zeros(0, dtype=ORDER_DTYPE), np.ones((2, 2, 2)), "close must be"),
    ],
)
def test_bad_input_is_refused(orders, close, match):
    with pytest.raises(DataValidationError, match=match):
        exit_trades(orders, close)


def test_costs_bad_shape_is_refused():
    with pytest.raises(DataValidationError, match="close must have shape"):
        costs_from_orders(np.zeros(0, dtype=ORDER_DTYPE), np.ones((4, 2)), 4, 3)
    with pytest.raises(DataValidationError, match=r"orders\['idx'\]"):
        costs_from_orders(
            np.array([(0, 0, 9, 1.0, 1.0, 0.0, 0)], dtype=ORDER_DTYPE), np.ones(4), 4, 1
        )


def test_importing_records_does_not_import_vectorbt():
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = str(Path(__file__).resolve().parents[2])
    code = (
        "import sys, backtest.engine.records; "
        "print('vectorbt' in sys.modules, 'numba' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": repo}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.split() == ["False", "False"]
