"""The reference portfolio simulation (tests/engine/reference_portfolio.py) against
vectorbt called directly, hand-computed cases and its own accounting identity.

Reference checks: ``test_matches_vectorbt_on_random_portfolios`` (vectorbt 1.2
``Portfolio.from_orders`` with grouped legs, shared cash, ``call_seq="auto"``: returns,
units and per-order costs, to 1e-12); ``test_hand_*`` (numbers written out in the test
from the rules); ``test_return_is_price_pnl_less_costs`` (the per-bar identity
``return_t = sum(units_{t-1} * (close_t - close_{t-1})) / V_{t-1} - sum(costs_t)``).
The reference never calls vectorbt or the engine; the engine is compared with it in
tests/engine/test_portfolio_engine.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backtest.errors import DataValidationError
from tests.engine.reference_portfolio import simulate

vbt = pytest.importorskip("vectorbt")

TOL = 1e-12


def random_case(seed: int) -> tuple[pd.DataFrame, pd.DataFrame, float, float]:
    """Random-walk closes of 2-3 legs and piecewise-constant long/short/fractional weights.

    Weights are drawn from whole, half and arbitrary fractions of [-1, 1] and change at
    random bars, sometimes on several legs at once; the first bar is flat (the
    execution lag). Fees and slippage are 0-20 bp, exactly 0 in some cases.
    """
    rng = np.random.default_rng(seed)
    legs = int(rng.integers(2, 4))
    bars = int(rng.integers(60, 160))
    index = pd.bdate_range("2021-01-04", periods=bars)
    columns = [f"L{j}" for j in range(legs)]
    scale = rng.choice([0.01, 1.0, 100.0, 5000.0], size=legs)
    steps = rng.normal(0.0, rng.uniform(0.002, 0.03, size=legs), size=(bars, legs))
    close = pd.DataFrame(scale * np.exp(np.cumsum(steps, axis=0)), index=index, columns=columns)
    choices = np.array([-1.0, -0.5, 0.0, 0.25, 0.5, 1.0])
    held = np.zeros((bars, legs))
    current = np.zeros(legs)
    for t in range(1, bars):
        if rng.random() < 0.15:  # a rebalance date: one or more legs change
            for j in range(legs):
                if rng.random() < 0.6:
                    current[j] = (
                        rng.choice(choices) if rng.random() < 0.5 else rng.uniform(-1.0, 1.0)
                    )
        held[t] = current
    fees = 0.0 if seed % 5 == 0 else float(rng.uniform(0.0, 20e-4))
    slippage = 0.0 if seed % 7 == 0 else float(rng.uniform(0.0, 20e-4))
    return close, pd.DataFrame(held, index=index, columns=columns), fees, slippage


def vectorbt_portfolio(close: pd.DataFrame, held: pd.DataFrame, fees: float, slippage: float):
    """vectorbt's grouped, cash-sharing target-percent simulation of the same orders."""
    h = held.to_numpy()
    change = np.diff(h, axis=0, prepend=0.0) != 0.0
    size = pd.DataFrame(np.where(change, h, np.nan), index=held.index, columns=held.columns)
    return vbt.Portfolio.from_orders(
        close=close,
        size=size,
        size_type="targetpercent",
        group_by=[0] * close.shape[1],
        cash_sharing=True,
        call_seq="auto",
        fees=fees,
        slippage=slippage,
        init_cash=1.0,
        freq="1D",
    )


def frames(close: list[list[float]], held: list[list[float]]) -> tuple[pd.DataFrame, ...]:
    """Two small frames on business days, legs A, B."""
    index = pd.bdate_range("2022-01-03", periods=len(close))
    return (
        pd.DataFrame(close, index=index, columns=["A", "B"], dtype=float),
        pd.DataFrame(held, index=index, columns=["A", "B"], dtype=float),
    )


@pytest.mark.parametrize("seed", range(40))
def test_matches_vectorbt_on_random_portfolios(seed):
    close, held, fees, slippage = random_case(seed)
    ref = simulate(close, held, fees, slippage)
    pf = vectorbt_portfolio(close, held, fees, slippage)

    returns = np.asarray(pf.returns(), dtype=float).reshape(-1)
    np.testing.assert_allclose(ref["returns"].to_numpy(), returns, rtol=0, atol=TOL)
    value = np.asarray(pf.value(), dtype=float).reshape(-1)
    np.testing.assert_allclose(ref["value"].to_numpy(), value, rtol=1e-12, atol=0)
    units = np.asarray(pf.assets(), dtype=float)
    np.testing.assert_allclose(ref["units"].to_numpy(), units, rtol=1e-11, atol=1e-15)

    # Per-order costs from vectorbt's order records: fees + |size| x |fill - close|.
    rec = pf.orders.values
    c = close.to_numpy()
    paid = rec["fees"] + rec["size"] * np.abs(rec["price"] - c[rec["idx"], rec["col"]])
    costs = np.zeros(c.shape)
    np.add.at(costs, (rec["idx"], rec["col"]), paid)
    prev_value = np.r_[1.0, value[:-1]]
    np.testing.assert_allclose(
        ref["costs"].to_numpy(), costs / prev_value[:, None], rtol=0, atol=TOL
    )


@pytest.mark.parametrize("seed", range(40))
def test_return_is_price_pnl_less_costs(seed):
    close, held, fees, slippage = random_case(seed)
    ref = simulate(close, held, fees, slippage)
    units_before = ref["units"].shift(1, fill_value=0.0)
    prev_value = ref["value"].shift(1, fill_value=1.0)
    pnl = (units_before * close.diff().fillna(0.0)).sum(axis=1) / prev_value
    expected = pnl - ref["costs"].sum(axis=1)
    np.testing.assert_allclose(ref["returns"].to_numpy(), expected.to_numpy(), rtol=0, atol=TOL)


def test_hand_two_legs_without_costs_drift():
    # Half in each leg from the first close, never rebalanced: the legs drift.
    close, held = frames([[100, 50], [110, 50], [121, 40]], [[0.5, 0.5]] * 3)
    ref = simulate(close, held, 0.0, 0.0)
    # units A = 0.5 / 100, B = 0.5 / 50; value 1, then 0.005*110 + 0.01*50, 0.005*121 + 0.01*40
    assert ref["units"].iloc[-1].tolist() == pytest.approx([0.005, 0.01], abs=1e-15)
    expected = [0.0, 1.05 / 1.0 - 1.0, 1.005 / 1.05 - 1.0]
    np.testing.assert_allclose(ref["returns"].to_numpy(), expected, rtol=0, atol=TOL)


def test_hand_costs_of_a_rebalance():
    # From flat to 60% A / -40% B at bar 0 with fees f and slippage s, held to bar 1.
    f, s = 0.001, 0.0005
    close, held = frames([[100, 50], [104, 49]], [[0.6, -0.4], [0.6, -0.4]])
    ref = simulate(close, held, f, s)
    # Sale of B first: 0.4/50 units at 50(1-s); then purchase of A: 0.6/100 units at 100(1+s).
    units_a, units_b = 0.6 / 100, -0.4 / 50
    cash = 1.0 + 0.4 * (1 - s) * (1 - f) - 0.6 * (1 + s) * (1 + f)
    v0 = cash + units_a * 100 + units_b * 50
    v1 = cash + units_a * 104 + units_b * 49
    np.testing.assert_allclose(ref["returns"].to_numpy(), [v0 - 1.0, v1 / v0 - 1.0], atol=TOL)
    costs0 = [0.6 * (1 + s) * f + 0.6 * s, 0.4 * (1 - s) * f + 0.4 * s]
    np.testing.assert_allclose(ref["costs"].iloc[0].to_numpy(), costs0, rtol=0, atol=TOL)


def test_hand_sale_funds_a_purchase_on_the_same_bar():
    # Fully long A, then A goes to -50% and B to +90% on bar 1: the sale of A runs
    # first, so B's purchase is paid in full out of its proceeds.
    close, held = frames([[100, 20], [100, 20], [100, 20]], [[1, 0], [-0.5, 0.9], [-0.5, 0.9]])
    ref = simulate(close, held, 0.001, 0.0)
    v = ref["value"].iloc[0]  # value before bar 1's orders (prices unchanged)
    assert ref["units"].iloc[1]["B"] * 20 == pytest.approx(0.9 * v, rel=1e-14)
    assert ref["units"].iloc[1]["A"] * 100 == pytest.approx(-0.5 * v, rel=1e-14)
    pf = vectorbt_portfolio(close, held, 0.001, 0.0)
    np.testing.assert_allclose(
        ref["returns"].to_numpy(), np.asarray(pf.returns()).reshape(-1), atol=TOL
    )


def test_hand_purchases_beyond_the_cash_smallest_first():
    # 70% A and 60% B from cash 1 with fees f: B (the smaller purchase) is filled in
    # full, A gets what the cash left pays for: (1 - 0.6(1+f)) / (1+f) / 100 units.
    f = 0.002
    close, held = frames([[100, 50], [120, 45]], [[0.7, 0.6], [0.7, 0.6]])
    ref = simulate(close, held, f, 0.0)
    units_b = 0.6 / 50
    units_a = (1.0 - 0.6 * (1 + f)) / (1 + f) / 100
    np.testing.assert_allclose(ref["units"].iloc[0].to_numpy(), [units_a, units_b], rtol=1e-14)
    v0 = units_a * 100 + units_b * 50  # cash is 0
    v1 = units_a * 120 + units_b * 45
    np.testing.assert_allclose(ref["returns"].to_numpy(), [v0 - 1.0, v1 / v0 - 1.0], atol=TOL)
    pf = vectorbt_portfolio(close, held, f, 0.0)
    np.testing.assert_allclose(
        ref["returns"].to_numpy(), np.asarray(pf.returns()).reshape(-1), atol=TOL
    )


def test_unchanged_weights_place_no_order():
    # A weight held over several bars is not rebalanced: units stay, the weight drifts.
    close, held = frames([[100, 50], [200, 50], [50, 50]], [[0.5, 0.5]] * 3)
    ref = simulate(close, held, 0.001, 0.001)
    assert (ref["units"].diff().iloc[1:] == 0.0).all().all()
    assert (ref["costs"].iloc[1:] == 0.0).all().all()


@pytest.mark.parametrize(
    ("close", "held", "fees", "match"),
    [
        ([[100, -1]], [[0.5, 0.5]], 0.0, "close must be finite and positive"),
        ([[100, 50]], [[1.5, 0.0]], 0.0, r"held must be finite weights in \[-1, 1\]"),
        ([[100, 50]], [[0.5, 0.5]], -0.1, "fees must be >= 0"),
    ],
)
def test_bad_input_is_refused(close, held, fees, match):
    c, h = frames(close, held)
    with pytest.raises(DataValidationError, match=match):
        simulate(c, h, fees, 0.0)


def test_mismatched_frames_are_refused():
    c, h = frames([[100, 50]], [[0.5, 0.5]])
    with pytest.raises(DataValidationError, match="same index and columns"):
        simulate(c, h.rename(columns={"B": "C"}), 0.0, 0.0)
