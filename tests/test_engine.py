"""Tests of backtest/engine/ on the real snapshot (USD/JPY and others, 2016-2025).

Reference checks (expected values computed here without the engine):
``test_ma_crossover_long_flat_matches_independent_returns`` (positions from pandas
rolling means, returns and trade entries written out with pandas),
``test_metrics_are_annualised_by_trading_days`` (Sharpe, total return and drawdown by
plain sums), ``test_train_test_picks_the_in_sample_best`` (in-sample ranking done here,
on the sweep's own returns, which the first test checks) and ``test_grid_ranges``
(hand).

Invariants (the engine against itself, no outside number): sweep rows equal single
backtests; chunked selection (PSR, DSR, PBO from per-chunk statistics) equals the whole
returns matrix through backtest.metrics (itself checked in tests/test_metrics.py);
``keep_returns=False`` changes nothing but the returns kept; ``chunk_memory`` equals the
matching ``chunk_size``; folds chosen in chunks equal folds from all returns; fold ties
go to the first combination whatever the chunking; costs lower returns, not trades;
walk-forward folds do not overlap; ``dispose`` frees the portfolio. The last block
checks the module layout (issue 12), no number involved.
"""

from __future__ import annotations

import ast
import dataclasses
import gc
import math
import pickle
import subprocess
import sys
import weakref

import numpy as np
import pandas as pd
import pytest

from backtest import data, engine
from backtest import metrics as mt
from backtest.engine import simulate
from backtest.engine.chunks import ChunkSettings
from backtest.errors import ConfigError

from .conftest import REPO

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def levels() -> pd.DataFrame:
    """Real levels without their provenance: the engine trades them as prices (no carry,
    no funding), the mechanics these tests check against pandas. What instruments earn
    is tested in tests/engine/."""
    frame = data.load(
        ["USDJPY", "UST10Y", "JGB10Y", "VIX"], start="2016-01-01", end="2025-12-31", offline=True
    )
    frame.attrs = {}
    return frame


def independent_ma(price: pd.Series, fast: int, slow: int, both: bool) -> pd.Series:
    """Target positions written here with pandas rolling means, not the strategy code."""
    f, s = price.rolling(fast).mean(), price.rolling(slow).mean()
    pos = pd.Series(np.where(f > s, 1.0, -1.0 if both else 0.0), index=price.index)
    return pos.where(s.notna(), 0.0)


def test_ma_crossover_long_flat_matches_independent_returns(levels):
    price = levels["USDJPY"].dropna()
    res = engine.backtest("ma_crossover", {"fast": 10, "slow": 50}, levels, series="USDJPY")
    target = independent_ma(price, 10, 50, both=False)
    held = target.shift(1).fillna(0.0)  # signal at close t, filled at close t+1
    # Return of bar t = position held since the previous close x price return.
    expected = held.shift(1).fillna(0.0) * price.pct_change().fillna(0.0)
    np.testing.assert_allclose(res.returns.to_numpy(), expected.to_numpy(), atol=1e-12)
    pd.testing.assert_series_equal(res.positions, held.rename("position"), check_freq=False)
    # Trades: one per entry into the market, entries/exits where the held position changes.
    entries = held.index[(held.diff().fillna(held) > 0).to_numpy()]
    assert list(res.trades["entry_date"]) == list(entries)
    assert res.metrics["trades"] == len(entries)


def test_metrics_are_annualised_by_trading_days(levels):
    res = engine.backtest("ma_crossover", {"fast": 10, "slow": 50}, levels, series="USDJPY")
    r = res.returns
    # Sharpe: mean / std (ddof=1) x sqrt(252), written out here.
    mean = sum(r) / len(r)
    var = sum((x - mean) ** 2 for x in r) / (len(r) - 1)
    assert res.metrics["sharpe"] == pytest.approx(mean / math.sqrt(var) * math.sqrt(252), rel=1e-10)
    total = float(np.prod(1 + r.to_numpy()) - 1)
    assert res.metrics["total_return"] == pytest.approx(total, rel=1e-10)
    equity = np.cumprod(np.r_[1.0, 1 + r.to_numpy()])
    dd = 1 - equity / np.maximum.accumulate(equity)
    assert res.metrics["max_drawdown"] == pytest.approx(dd.max(), rel=1e-10)


def test_direction_both_and_costs(levels):
    # Invariants: costs lower the return, not the trade count; short bars earn minus
    # the price return.
    free = engine.backtest(
        "ma_crossover", {"fast": 10, "slow": 50, "direction": "both"}, levels, series="USDJPY"
    )
    costly = engine.backtest(
        "ma_crossover",
        {"fast": 10, "slow": 50, "direction": "both"},
        levels,
        series="USDJPY",
        fees_bps=5,
        slippage_bps=5,
    )
    assert set(free.trades["direction"]) == {"long", "short"}
    assert costly.metrics["total_return"] < free.metrics["total_return"]
    assert costly.metrics["trades"] == free.metrics["trades"]
    # Short bars earn minus the price return (up to the drift of a fixed short size).
    price = levels["USDJPY"].dropna()
    short = free.positions.shift(1) == -1
    ret = price.pct_change()
    assert (
        np.sign(free.returns[short & (ret.abs() > 1e-4)])
        == -np.sign(ret[short & (ret.abs() > 1e-4)])
    ).all()


def test_sweep_rows_equal_single_backtests(levels):
    # Invariant: a sweep row equals the single backtest of the same combination.
    space = {"fast": [5, 10], "slow": [50, 100], "direction": "long"}
    sw = engine.sweep("ma_crossover", space, levels, series="USDJPY", chunk_size=3)
    assert len(sw.table) == 4 and sw.returns.shape[1] == 4
    for i, combo in enumerate(engine.grid(space)):
        one = engine.backtest("ma_crossover", combo, levels, series="USDJPY")
        np.testing.assert_allclose(sw.returns.iloc[:, i], one.returns, atol=1e-12)
        for name in engine.METRICS:  # trades and win rate: vectorbt's trade records
            assert sw.table.loc[i, name] == pytest.approx(one.metrics[name], rel=1e-10, nan_ok=True)
    assert sw.best == int(np.argmax(sw.table["sharpe"]))
    assert {"psr", "dsr", "pbo", "trials"} <= set(sw.selection)


def test_sweep_selection_equals_whole_matrix_statistics(levels):
    # Invariant (chunked equals whole): the chunks (of 4) send back per-trial statistics,
    # not the selection measures; gathered, they must give what backtest.metrics gives
    # on the whole returns matrix.
    space = {"fast": [3, 5, 10, 20], "slow": [30, 50, 100], "direction": "both"}
    sw = engine.sweep("ma_crossover", space, levels, series="USDJPY", chunk_size=4, pbo_splits=8)
    r = sw.returns.to_numpy()
    best = r[:, sw.best]
    sr = r.mean(axis=0) / r.std(axis=0, ddof=1)
    assert sw.selection["trials"] == 12
    assert sw.selection["psr"] == pytest.approx(
        mt.probabilistic_sharpe_ratio_from_returns(best), rel=1e-12
    )
    assert sw.selection["dsr"] == pytest.approx(mt.deflated_sharpe_ratio(best, sr), rel=1e-10)
    assert sw.selection["pbo"] == mt.pbo_cscv(r, n_splits=8).pbo


def test_dispose_frees_the_portfolio_without_the_garbage_collector(levels):
    price = levels["USDJPY"].dropna()
    held = pd.DataFrame({0: np.r_[0.0, np.ones(len(price) - 1)]}, index=price.index)
    pf = simulate.portfolio(price, held, 0.0, 0.0)
    pf.returns()
    _ = pf.trades.values  # fills the method cache: the reference cycles
    ref = weakref.ref(pf)
    gc.disable()
    try:
        simulate.dispose(pf)
        del pf
        assert ref() is None  # freed by reference counting alone
    finally:
        gc.enable()


def test_invalid_combinations_are_skipped_and_counted(levels):
    sw = engine.sweep("ma_crossover", {"fast": [10, 60], "slow": [50]}, levels, series="USDJPY")
    assert len(sw.table) == 1 and sw.settings["skipped_invalid"] == 1


def test_train_test_picks_the_in_sample_best(levels):
    space = {"fast": [5, 10, 20], "slow": [50, 100]}
    val = engine.validate(
        "ma_crossover", space, levels, series="USDJPY", method="train_test", train_fraction=0.6
    )
    sw = engine.sweep("ma_crossover", space, levels, series="USDJPY")
    cut = int(len(sw.returns) * 0.6)
    r = sw.returns.iloc[:cut]
    sharpe = r.mean() / r.std(ddof=1)  # independent in-sample ranking
    best = int(np.argmax(sharpe.to_numpy()))
    ins = val.folds[val.folds["sample"] == "in"].iloc[0]
    assert ins["param_fast"] == sw.table.loc[best, "fast"]
    assert ins["param_slow"] == sw.table.loc[best, "slow"]
    oos = sw.returns.iloc[cut:, best]
    assert val.oos_returns.to_numpy() == pytest.approx(oos.to_numpy())


def test_walk_forward_folds_do_not_overlap(levels):
    val = engine.validate(
        "ma_crossover",
        {"fast": [5, 10], "slow": [50]},
        levels,
        series="USDJPY",
        method="walk_forward",
        train_bars=500,
        test_bars=250,
    )
    out = val.folds[val.folds["sample"] == "out"]
    assert (out["start"].iloc[1:].to_numpy() > out["end"].iloc[:-1].to_numpy()).all()
    assert len(val.oos_returns) == val.oos_returns.index.nunique()


def test_grid_ranges():
    assert engine.grid({"a": {"start": 1, "stop": 2, "step": 0.5}, "b": 3}) == [
        {"a": 1, "b": 3},
        {"a": 1.5, "b": 3},
        {"a": 2.0, "b": 3},
    ]


def test_sweep_without_returns_gives_the_same_table_best_and_selection(levels):
    # Invariant: keep_returns=False changes what is kept, not the numbers.
    space = {"fast": [3, 5, 10, 20], "slow": [30, 50, 100], "direction": "both"}
    full = engine.sweep("ma_crossover", space, levels, series="USDJPY", chunk_size=5)
    lean = engine.sweep(
        "ma_crossover", space, levels, series="USDJPY", chunk_size=5, keep_returns=False
    )
    pd.testing.assert_frame_equal(full.table, lean.table)
    assert (lean.best, lean.selection) == (full.best, full.selection)
    assert list(lean.returns.columns) == [full.best]
    pd.testing.assert_series_equal(lean.returns[lean.best], full.returns[full.best])
    assert lean.settings["returns"] == "best" and full.settings["returns"] == "all"
    with pytest.raises(ConfigError, match="keep_returns=False"):
        engine.out_of_sample(lean)


def test_chunk_memory_lowers_the_chunk_size_to_fit(levels):
    # Invariant: a memory budget for 3 combinations runs exactly as chunk_size=3.
    space = {"fast": [3, 5, 10, 20], "slow": [30, 50, 100], "direction": "both"}
    bars = len(levels["USDJPY"].dropna())  # the traded series' bars: one array row each
    budget = 3 * bars * engine.BYTES_PER_CELL + 1  # room for 3 combinations
    fit = engine.sweep("ma_crossover", space, levels, series="USDJPY", chunk_memory=budget)
    three = engine.sweep("ma_crossover", space, levels, series="USDJPY", chunk_size=3)
    assert fit.settings["chunk_size"] == 3 and fit.settings["chunk_size_requested"] == 2000
    pd.testing.assert_frame_equal(fit.table, three.table)
    roomy = engine.sweep("ma_crossover", space, levels, series="USDJPY", chunk_memory=2**40)
    assert roomy.settings["chunk_size"] == 2000  # never raised above the request


@pytest.mark.parametrize(
    "spec",
    [
        {"method": "train_test", "train_fraction": 0.6},
        {"method": "walk_forward", "train_bars": 504, "test_bars": 252},
    ],
)
def test_folds_chosen_in_chunks_equal_folds_from_all_returns(levels, spec):
    # Invariant (chunked equals whole), not an outside reference: the baseline is the
    # engine's own path with every combination's returns kept and folds split afterwards
    # (nanargmax over all combinations). Under test: chunks of 4 pick their own best per
    # fold and only the picks travel (keep_returns=False), as in a run on a cluster.
    space = {"fast": [3, 5, 10, 20], "slow": [30, 50, 100], "direction": ["long", "both"]}
    full = engine.sweep("ma_crossover", space, levels, series="USDJPY", chunk_size=4)
    ref = engine.out_of_sample(full, **spec)
    lean = engine.validate(
        "ma_crossover",
        space,
        levels,
        series="USDJPY",
        chunk_size=4,
        keep_returns=False,
        **spec,
    )
    pd.testing.assert_frame_equal(lean.folds, ref.folds)
    pd.testing.assert_series_equal(lean.oos_returns, ref.oos_returns)
    pd.testing.assert_series_equal(pd.Series(lean.oos_metrics), pd.Series(ref.oos_metrics))
    assert len(ref.folds) == 2 * len(engine.validation_folds(len(full.returns), **spec))


def test_fold_ties_go_to_the_first_combination_across_chunks(levels):
    spec = {"method": "train_test", "train_fraction": 0.6}
    combos = [
        {"fast": f, "slow": s, "direction": "both"} for f in (3, 5, 10) for s in (30, 50, 100)
    ]
    pick = engine.sweep("ma_crossover", combos, levels, series="USDJPY", validation=spec)
    p = pick.folds.picks[0]
    # The same combination again, in a later chunk, then first of all: the first copy wins.
    later = engine.sweep(
        "ma_crossover",
        [*combos, combos[p]],
        levels,
        series="USDJPY",
        chunk_size=2,
        validation=spec,
        keep_returns=False,
    )
    assert later.folds.picks == [p]
    first = engine.sweep(
        "ma_crossover",
        [combos[p], *combos],
        levels,
        series="USDJPY",
        chunk_size=2,
        validation=spec,
        keep_returns=False,
    )
    assert first.folds.picks == [0]
    with pytest.raises(ConfigError, match="validation"):
        engine.out_of_sample(later, method="train_test", train_fraction=0.5)  # other folds


def test_validation_folds_bad_settings_are_config_errors():
    with pytest.raises(ConfigError, match="train_fraction"):
        engine.validation_folds(100, "train_test", train_fraction=1.2)
    with pytest.raises(ConfigError, match="must fit"):
        engine.validation_folds(100, "walk_forward", train_bars=90, test_bars=20)


# Structure (invariants of the module layout, issue 12; no expected number involved) ------


def test_chunk_settings_are_frozen_and_survive_pickling():
    # What sweep sends every task, also over Dask (tests/test_execution.py runs it there).
    cfg = ChunkSettings("USDJPY", fees_bps=1.5, keep_returns=False, folds=[(0, 7, 7, 10)])
    assert cfg.folds == ((0, 7, 7, 10),)  # a list of folds is stored as a tuple
    assert pickle.loads(pickle.dumps(cfg, protocol=5)) == cfg
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.series = "SPX"  # type: ignore[misc]
    with pytest.raises(TypeError):
        ChunkSettings(series="USDJPY", fees=1.0)  # type: ignore[call-arg]  # a typo fails


def test_the_engine_package_exports_its_public_api():
    for name in engine.__all__:
        assert getattr(engine, name) is not None, name
    assert callable(engine.sweep) and callable(engine.backtest) and callable(engine.validate)
    assert list(engine.METRICS) == list(mt.PERFORMANCE_COLUMNS)


def _imports(path):
    """(module imported, names imported from it) of every import in a source file."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((a.name, []) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module, [a.name for a in node.names]


def test_vectorbt_is_imported_only_under_the_engine_and_no_private_name_crosses():
    package = REPO / "backtest"
    for path in package.rglob("*.py"):
        where = path.relative_to(REPO).as_posix()
        for module, names in _imports(path):
            if module.split(".")[0] == "vectorbt":
                assert where.startswith("backtest/engine/"), f"{where} imports {module}"
            if module.startswith("backtest") and where.startswith(
                ("backtest/engine/", "backtest/metrics.py", "backtest/kernels.py")
            ):
                private = [n for n in [*module.split("."), *names] if n.startswith("_")]
                assert not [n for n in private if not n.startswith("__")], (where, module, names)


def test_metrics_run_without_importing_vectorbt():
    code = (
        "import sys, numpy as np\n"
        "from backtest import metrics as mt\n"
        "r = np.random.default_rng(0).normal(0.001, 0.01, 300)\n"
        "mt.deflated_sharpe_ratio(r, [0.01, 0.03, 0.05]); mt.expected_max_sharpe(0.002, 10)\n"
        "assert 'vectorbt' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
