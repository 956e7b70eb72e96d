"""The numba kernel (backtest.engine.fastsim) against vectorbt, the reference path.

Issue 16: random strategies, costs, short and fractional weights, sign flips, carry and
funding, multi-leg portfolios with shared cash go through both paths; every return,
excess return, metric, trade count, PBO block statistic and fold Sharpe ratio must agree
to 1e-10. vectorbt is called through the engine's vectorbt path
(:func:`backtest.engine.book.simulate` -> ``Portfolio.from_orders``) and, for the moving
average crossover, directly (``vbt.MA.run`` -> ``Portfolio.from_signals``), which shares
no code with the engine.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backtest import engine
from backtest import metrics as mt
from backtest.engine import book as bk
from backtest.engine import fastsim
from backtest.engine.legs import Leg
from backtest.strategy import MarketData, Strategy, StrategyParams, get_strategy

TOL = 1e-10


class _Toy(Strategy[StrategyParams]):
    name = "fastsim_toy"

    def positions(self, data: MarketData, params: StrategyParams) -> pd.Series:
        raise NotImplementedError


def _book(rng: np.random.Generator, bars: int, n_legs: int, funded: bool) -> bk.Book:
    index = pd.bdate_range("2020-01-01", periods=bars)
    legs = []
    for j in range(n_legs):
        ret = rng.normal(0.0002, 0.01, bars)
        ret[0] = 0.0
        close = 100.0 * np.cumprod(1.0 + ret)
        fund = np.abs(rng.normal(1e-4, 5e-5, bars)) if funded else np.zeros(bars)
        fund[0] = 0.0
        legs.append(
            Leg(
                name=f"L{j}",
                kind="price",
                income=None,
                funding_series="RATE" if funded else None,
                close=close,
                price=ret,
                income_return=np.zeros(bars),
                funding_return=fund,
                first=0,
            )
        )
    return bk.Book(bars=index, legs=tuple(legs), funding="short_rate")


def _targets(rng: np.random.Generator, bars: int, columns: int, n_legs: int) -> np.ndarray:
    """Sticky random weights: long, short, fractional, flips; portfolios within the cash."""
    if n_legs == 1:
        choices = np.array([-1.0, -0.5, 0.0, 0.3, 0.5, 1.0])
    else:
        choices = np.array([-0.45, -0.2, 0.0, 0.2, 1.0 / n_legs - 0.01])
    out = rng.choice(choices, size=(bars, columns))
    for t in range(1, bars):
        keep = rng.random(columns) < 0.85
        out[t, keep] = out[t - 1, keep]
    if rng.random() < 0.5:  # daily drift: orders of a few units down to below min_size
        out = out * (1.0 + rng.choice([0.0, 1e-9, 1e-7, 1e-4], size=out.shape))
    return out


def _same_bits(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    """Equal values, NaN where NaN, and the signs of zeros."""
    if a is None or b is None:
        return a is None and b is None
    return np.array_equal(a, b, equal_nan=True) and np.array_equal(np.signbit(a), np.signbit(b))


@pytest.mark.parametrize("seed", range(8))
def test_kernel_equals_vectorbt_on_random_books(seed, monkeypatch):
    rng = np.random.default_rng(100 + seed)
    strat = _Toy()
    for _ in range(6):
        bars = int(rng.integers(40, 260))
        n_legs = int(rng.integers(1, 4))
        sets = int(rng.integers(1, 5))
        funded = bool(rng.integers(0, 2))
        book = _book(rng, bars, n_legs, funded)
        target = pd.DataFrame(_targets(rng, bars, sets * n_legs, n_legs), index=book.bars)
        fees, slip = float(rng.choice([0.0, 1.0, 7.5])), float(rng.choice([0.0, 2.0]))
        rf_p = 0.0 if funded else float(rng.choice([0.0, 1e-4]))
        folds = [(0, bars // 2, bars // 2, bars), (bars // 4, bars * 3 // 4, 0, 0)]
        splits = None if rng.random() < 0.3 else 4  # without PBO blocks: one pass per set

        sim = bk.simulate(strat, book, target, fees, slip)  # vectorbt
        cols, raw = bk.measure(sim, n_legs, rf_p, 252.0)
        got = bk.simulate_kernel(
            strat, book, target, fees, slip, rf_p, 252.0, splits=splits, folds=folds
        )
        if n_legs == 1:  # these calls are small: the one-leg kernel ran without its
            # quiet-bar loop; with it (a large call's specialisation), every bit the same
            monkeypatch.setattr(fastsim, "QUIET_MIN_CELLS", 0)
            full = bk.simulate_kernel(
                strat, book, target, fees, slip, rf_p, 252.0, splits=splits, folds=folds
            )
            monkeypatch.undo()
            for field in ("returns", "excess", "sharpe_raw", "blocks", "fold_sharpe"):
                assert _same_bits(getattr(got, field), getattr(full, field)), field
            for name in mt.PERFORMANCE_COLUMNS:
                assert _same_bits(got.columns[name], full.columns[name]), name

        np.testing.assert_allclose(got.returns, sim.returns, rtol=0, atol=TOL)
        if funded:
            np.testing.assert_allclose(got.excess, sim.excess, rtol=0, atol=TOL)
        else:
            assert got.excess is None and sim.excess is None
        for name in mt.PERFORMANCE_COLUMNS:
            np.testing.assert_allclose(
                got.columns[name], cols[name], rtol=TOL, atol=TOL, equal_nan=True, err_msg=name
            )
        np.testing.assert_array_equal(got.columns["trades"], sim.counts[0])
        np.testing.assert_allclose(got.sharpe_raw, raw, rtol=TOL, atol=TOL, equal_nan=True)
        score = sim.excess if funded else sim.returns
        if splits is None:
            assert got.blocks is None
        else:
            np.testing.assert_allclose(got.blocks, mt.pbo_block_stats(score, 4), rtol=TOL, atol=TOL)
        for k, (a, b, _, _) in enumerate(folds):
            ins = mt.performance_arrays(
                sim.returns[a:b], None, None, rf_p, 252.0, excess=None if not funded else score[a:b]
            )[0]["sharpe"]
            np.testing.assert_allclose(
                got.fold_sharpe[:, k], ins, rtol=TOL, atol=TOL, equal_nan=True
            )


def test_record_kernel_orders_and_weights_equal_vectorbt():
    rng = np.random.default_rng(7)
    strat = _Toy()
    for n_legs in (1, 2, 3):
        book = _book(rng, 150, n_legs, True)
        target = pd.DataFrame(_targets(rng, 150, n_legs, n_legs), index=book.bars)
        sim = bk.simulate(strat, book, target, 3.0, 1.0, keep=True)
        orders = sim.pf.orders.values
        fees = np.full(n_legs, 3.0 / 1e4)
        slip = np.full(n_legs, 1.0 / 1e4)
        got = bk.record_kernel(book, sim.held, fees, slip)
        assert len(got["orders"]) == len(orders)
        key = np.lexsort((orders["idx"], orders["col"]))
        mine = np.lexsort((got["order_at"][:, 0], got["order_at"][:, 1]))
        np.testing.assert_array_equal(got["order_at"][mine, 0], orders["idx"][key])
        np.testing.assert_array_equal(got["order_at"][mine, 1], orders["col"][key])
        for i, field in enumerate(("size", "price", "fees")):
            np.testing.assert_allclose(got["orders"][mine, i], orders[field][key], rtol=TOL)
        np.testing.assert_array_equal(got["orders"][mine, 3], orders["side"][key])
        np.testing.assert_allclose(got["weights"], sim.weights, rtol=0, atol=TOL)
        np.testing.assert_allclose(got["returns"], sim.returns[:, 0], rtol=0, atol=TOL)


@pytest.fixture(scope="module")
def snapshot():
    from backtest import data

    return data.load(
        ["USDJPY", "SPX", "UST10Y", "JGB10Y"], offline=True, start="2016-01-01", end="2025-12-31"
    )


def _same_sweep(a, b):
    for name in mt.PERFORMANCE_COLUMNS:
        np.testing.assert_allclose(
            a.table[name].to_numpy(),
            b.table[name].to_numpy(),
            rtol=TOL,
            atol=TOL,
            equal_nan=True,
            err_msg=name,
        )
    np.testing.assert_allclose(a.returns.to_numpy(), b.returns.to_numpy(), rtol=0, atol=TOL)
    assert a.best == b.best
    for key in ("psr", "dsr", "pbo"):
        assert a.selection[key] == pytest.approx(b.selection[key], rel=TOL, abs=TOL)


@pytest.mark.parametrize(
    ("series", "direction"), [("USDJPY", "long"), ("SPX", "both"), ("UST10Y", "both")]
)
def test_sweep_kernel_equals_vectorbt_path_on_real_data(snapshot, series, direction):
    """fx carry (USDJPY), a funded index (SPX), a bond from its yield (UST10Y)."""
    space = {"fast": [2, 5, 10, 20], "slow": [3, 30, 60, 120], "direction": direction}
    runs = {
        sim: engine.sweep(
            "ma_crossover",
            space,
            snapshot,
            series=series,
            fees_bps=1.5,
            slippage_bps=0.5,
            simulator=sim,
            validation={"method": "walk_forward", "train_bars": 500, "test_bars": 250},
        )
        for sim in ("kernel", "vectorbt")
    }
    k, v = runs["kernel"], runs["vectorbt"]
    _same_sweep(k, v)
    if k.excess_returns is not None:
        np.testing.assert_allclose(k.excess_returns, v.excess_returns, rtol=0, atol=TOL)
    assert k.folds.picks == v.folds.picks
    assert "fastsim" in k.settings["simulator"] and "vectorbt" in v.settings["simulator"]


def test_portfolio_sweep_kernel_equals_vectorbt_path(snapshot):
    space = {"window": [60, 120], "entry": [1.0, 1.5], "rebalance": ["entry", "daily"]}
    runs = [
        engine.sweep("bond_spread", space, snapshot, series="UST10Y", fees_bps=2.0, simulator=s)
        for s in ("kernel", "vectorbt")
    ]
    _same_sweep(*runs)
    np.testing.assert_allclose(runs[0].excess_returns, runs[1].excess_returns, rtol=0, atol=TOL)


def test_ma_crossover_total_returns_equal_vectorbt_from_signals(snapshot):
    """vectorbt called directly: MA.run -> signals -> Portfolio.from_signals (next close)."""
    import vectorbt as vbt

    price = snapshot["USDJPY"].dropna()
    plain = price.to_frame()  # without provenance: traded as a price, as vectorbt does
    plain.attrs = {}
    pairs = [(f, s) for f in range(2, 30, 3) for s in range(5, 200, 11) if f < s]
    res = engine.sweep(
        "ma_crossover", [{"fast": f, "slow": s} for f, s in pairs], plain, series="USDJPY"
    )
    fast = vbt.MA.run(price, window=[f for f, _ in pairs]).ma.to_numpy()
    slow = vbt.MA.run(price, window=[s for _, s in pairs]).ma.to_numpy()
    above = fast > slow  # NaN compares False: flat until the slow average exists
    entries = np.zeros_like(above)
    entries[1:] = above[:-1]  # filled at the next close
    pf = vbt.Portfolio.from_signals(price, entries=entries, exits=~entries, init_cash=1.0)
    np.testing.assert_allclose(
        res.table["total_return"].to_numpy(), pf.total_return().to_numpy(), rtol=0, atol=TOL
    )


def test_crossings_equal_positions_many(snapshot):
    strat = get_strategy("ma_crossover")
    data = MarketData(levels=snapshot, series="USDJPY")
    combos = [(f, s, d) for f in (1, 3, 7) for s in (4, 9, 50) for d in ("long", "both")]
    params = [strat.parse({"fast": f, "slow": s, "direction": d}) for f, s, d in combos if f < s]
    rule = strat.crossings(data, params)
    left = rule.features[:, rule.left]
    right = rule.features[:, rule.right]
    built = np.where(np.isnan(right), 0.0, np.where(left > right, rule.above, rule.below))
    np.testing.assert_array_equal(built, strat.positions_many(data, params).to_numpy())


def test_unknown_simulator_is_a_config_error(snapshot):
    from backtest.errors import ConfigError

    with pytest.raises(ConfigError, match="simulator"):
        engine.sweep(
            "ma_crossover", {"fast": 2, "slow": 5}, snapshot, series="USDJPY", simulator="numpy"
        )


def test_vectorbt_defaults_the_kernel_reproduces():
    """The kernel hard-codes vectorbt's order defaults; an upgrade that changes them fails here."""
    import vectorbt as vbt

    from backtest.engine import fastsim

    cfg = vbt.settings.portfolio
    assert cfg["min_size"] == fastsim._MIN_SIZE
    assert (cfg["fixed_fees"], cfg["max_size"], cfg["lock_cash"]) == (0.0, np.inf, False)
    assert (cfg["update_value"], cfg["allow_partial"]) == (False, True)
    from vectorbt.utils import math_

    assert (math_.rel_tol, math_.abs_tol) == (fastsim._REL, fastsim._ABS)


@pytest.mark.parametrize(
    ("name", "params", "series"),
    [
        ("ma_crossover", {"fast": 9, "slow": 64, "direction": "both"}, "USDJPY"),
        ("ma_crossover", {"fast": 5, "slow": 50}, "SPX"),
        ("bond_spread", {"window": 60, "rebalance": "daily"}, "UST10Y"),
    ],
)
def test_backtest_kernel_equals_vectorbt_path(snapshot, name, params, series):
    """Returns, excess returns, metrics, trade table (from the kernel's fills through
    backtest.engine.records) and attribution equal the vectorbt path's."""
    runs = [
        engine.backtest(
            name, params, snapshot, series=series, fees_bps=2.0, slippage_bps=0.5, simulator=s
        )
        for s in ("kernel", "vectorbt")
    ]
    a, b = runs
    np.testing.assert_allclose(a.returns, b.returns, rtol=0, atol=TOL)
    np.testing.assert_allclose(a.excess_returns, b.excess_returns, rtol=0, atol=TOL)
    for key in a.metrics:
        assert a.metrics[key] == pytest.approx(b.metrics[key], rel=TOL, abs=TOL, nan_ok=True)
    pd.testing.assert_frame_equal(a.trades, b.trades, rtol=TOL)
    pd.testing.assert_frame_equal(a.attribution, b.attribution, rtol=TOL, atol=TOL)
    pd.testing.assert_frame_equal(
        pd.DataFrame(a.positions), pd.DataFrame(b.positions), rtol=TOL, atol=TOL
    )


def test_results_do_not_depend_on_the_kernel_threads(snapshot):
    """Sets are split across threads (>= 256 per thread); each set runs on one thread."""
    space = {"fast": {"start": 2, "stop": 40}, "slow": {"start": 20, "stop": 60}}
    runs = []
    before = bk.kernel_threads()
    for threads in (1, 3):
        bk.kernel_threads(threads)
        try:
            runs.append(engine.sweep("ma_crossover", space, snapshot, series="SPX"))
        finally:
            bk.kernel_threads(before)
    assert runs[0].settings["combinations"] >= 768
    pd.testing.assert_frame_equal(runs[0].table, runs[1].table, check_exact=True)
    pd.testing.assert_frame_equal(runs[0].returns, runs[1].returns, check_exact=True)
    assert runs[0].selection == runs[1].selection


def test_kernel_threads_setting(monkeypatch):
    """BACKTEST_KERNEL_THREADS sets the default; an explicit count overrides; < 1 refused."""
    from backtest import kernels

    before = kernels.threads()
    try:
        monkeypatch.setenv("BACKTEST_KERNEL_THREADS", "3")
        kernels._THREADS.clear()
        assert kernels.threads() == 3 and bk.kernel_threads() == 3
        monkeypatch.delenv("BACKTEST_KERNEL_THREADS")
        kernels._THREADS.clear()
        assert kernels.threads() >= 1
        assert bk.kernel_threads(2) == 2
        with pytest.raises(ValueError, match=">= 1"):
            kernels.threads(0)
    finally:
        kernels.threads(before)
