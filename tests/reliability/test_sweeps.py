"""Reliability of sweeps (issue 11): bad values refused, grids counted and generated
lazily, a limit on combinations, walk-forward folds without trades.

Outcome classes (see ``conftest.py``): *clean error* (the error class and a message
naming the field), *correct result* (expected values from :func:`itertools.product`
and hand-written arithmetic, never from the code under test), *nothing written*.

Invariants (the sweep against itself, labelled so): chunk_size 4 equals chunk_size 1 in
``test_sweep_table_is_the_product_in_order_with_invalid_ones_counted``, chunks of 4
equal chunks of 25 in ``test_random_sampling_draws_what_the_whole_list_would_give``,
and ``test_lazy_chunks_give_the_same_sweep_local_and_on_dask`` (local equals Dask).
"""

from __future__ import annotations

import array
import itertools
import json
import math
import re
import tracemalloc

import numpy as np
import pandas as pd
import pytest

from backtest import data, engine, events
from backtest.engine.chunks import ChunkSettings, Tasks
from backtest.errors import ConfigError
from backtest.space import DEFAULT_MAX_COMBINATIONS, Grid, parse_space
from backtest.strategy import get_strategy

from ..conftest import REPO
from .conftest import tree_digest

MA = get_strategy("ma_crossover").Params


@pytest.fixture(scope="module")
def levels() -> pd.DataFrame:
    """A synthetic USD/JPY random walk of 300 business days (the sweep needs no more)."""
    rng = np.random.default_rng(7)
    index = pd.bdate_range("2020-01-01", periods=300)
    return pd.DataFrame({"USDJPY": 100.0 * np.exp(np.cumsum(rng.normal(0, 0.006, 300)))}, index)


# Clean errors from the API: ConfigError naming the place and the value ----------------

API_ERRORS = [
    pytest.param({"fast": ["five", 10]}, r"sweep\.fast\[0\]: .*\(got 'five'\)", id="wrong-type"),
    pytest.param({"fast": [5, 7.5]}, r"sweep\.fast\[1\]: .*\(got 7\.5\)", id="fractional-int"),
    pytest.param({"fast": [False]}, r"sweep\.fast\[0\]: expected int", id="bool-for-int"),
    pytest.param({"fast": 0}, r"sweep\.fast: .*greater than or equal to 1", id="bad-scalar"),
    pytest.param(
        {"fast": {"start": 5, "stop": 10, "step": 0.5}},
        r"sweep\.fast\.step: 0\.5 is not a whole number",
        id="fractional-step",
    ),
    pytest.param(
        {"fast": {"start": 5.5, "stop": 10}},
        r"sweep\.fast\.start: 5\.5 is not a whole number",
        id="fractional-start",
    ),
    pytest.param(
        {"fast": {"start": 5, "stop": 10, "step": 0}},
        r"sweep\.fast\.step: must not be 0",
        id="step-zero",
    ),
    pytest.param(
        {"fast": {"start": 5, "stop": "10"}},
        r"sweep\.fast\.stop: expected a number",
        id="text-stop",
    ),
    pytest.param(
        {"fast": {"start": 5, "stop": 10, "by": 2}},
        r"sweep\.fast\.by: unknown key of a range",
        id="range-unknown-key",
    ),
    pytest.param({"fast": {"stop": 10}}, r"sweep\.fast: a range needs start", id="range-no-start"),
    pytest.param(
        {"fast": {"start": 9, "stop": 3}}, r"sweep\.fast: the range .* is empty", id="empty-range"
    ),
    pytest.param({"fast": []}, r"sweep\.fast: empty list", id="empty-list"),
    pytest.param(
        {"fast": [5, 5.0]}, r"sweep\.fast\[1\]: 5\.0 repeats sweep\.fast\[0\]", id="repeat"
    ),
    pytest.param({"fats": [5]}, r"sweep\.fats: unknown parameter; parameters: fast", id="unknown"),
    pytest.param(
        [{"fast": 5, "slow": 50}, {"fast": "x", "slow": 50}],
        r"sweep\[1\]\.fast: .*\(got 'x'\)",
        id="explicit-combination-wrong-type",
    ),
    pytest.param(
        [{"fast": 5, "slwo": 50}], r"sweep\[0\]\.slwo: unknown parameter", id="explicit-unknown-key"
    ),
    pytest.param(
        {"fast": {"start": 1, "stop": 10_000}, "slow": {"start": 2, "stop": 10_001}},
        r"sweep of 'ma_crossover': 100,000,000 parameter combinations, more than the limit of "
        r"5,000,000; .*max_combinations=",
        id="grid-of-1e8",
    ),
    pytest.param(
        {"fast": {"start": 1, "stop": 10**12}, "slow": {"start": 2, "stop": 10**12 + 1}},
        r"1,000,000,000,000,000,000,000,000 parameter combinations",
        id="grid-of-1e24",
    ),
]


@pytest.mark.parametrize(("space", "message"), API_ERRORS)
def test_sweep_refuses_bad_spaces_before_any_work(levels, space, message):
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError, match=message):
            engine.sweep("ma_crossover", space, levels, series="USDJPY")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Refused before any combination is built: the 10^8 grid would be ~11 GB of dicts.
    assert peak < 5_000_000


def test_explicit_combinations_and_samples_count_against_the_limit(levels):
    combos = [{"fast": f, "slow": 50} for f in (5, 10, 20)]
    with pytest.raises(ConfigError, match=r"3 parameter combinations, more than the limit of 2"):
        engine.sweep("ma_crossover", combos, levels, series="USDJPY", max_combinations=2)
    space = {"fast": [5, 10, 20], "slow": [50, 100]}
    with pytest.raises(ConfigError, match=r"4 parameter combinations, more than the limit of 3"):
        engine.sweep(
            "ma_crossover", space, levels, series="USDJPY", method="random", samples=4,
            max_combinations=3,
        )  # fmt: skip


def test_grid_preview_counts_before_building(levels):
    huge = {"fast": {"start": 1, "stop": 10_000}, "slow": {"start": 2, "stop": 10_001}}
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError, match=r"grid: 100,000,000 parameter combinations"):
            engine.grid(huge)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000  # counted, not built
    with pytest.raises(ConfigError, match=r"sweep\.fast\.step: must not be 0"):
        engine.grid({"fast": {"start": 1, "stop": 5, "step": 0}})


@pytest.mark.parametrize("limit", [0, -1, 2.5, True, "10"], ids=repr)
def test_max_combinations_argument_is_checked(levels, limit):
    with pytest.raises(ConfigError, match=r"max_combinations must be a whole number >= 1"):
        engine.sweep("ma_crossover", {"fast": [5]}, levels, series="USDJPY", max_combinations=limit)


def test_the_default_limit_is_a_few_million():
    assert 1_000_000 <= DEFAULT_MAX_COMBINATIONS <= 10_000_000


# Correct results: the lazy grid is itertools.product, in the same order -------------


SMALL = {
    "fast": [3, 5, 10],
    "slow": {"start": 8, "stop": 20, "step": 6},  # 8, 14, 20
    "direction": ["long", "both"],
}
#: The same space written out by hand, for itertools.product.
SMALL_VALUES = {"fast": [3, 5, 10], "slow": [8, 14, 20], "direction": ["long", "both"]}


def reference(values: dict) -> list[dict]:
    keys = list(values)
    return [dict(zip(keys, c, strict=True)) for c in itertools.product(*values.values())]


def test_grid_iterates_and_indexes_like_itertools_product():
    grid = parse_space(MA, SMALL)
    expected = reference(SMALL_VALUES)
    assert isinstance(grid, Grid) and grid.size == len(expected) == 18
    assert list(grid) == expected
    assert [grid[i] for i in range(grid.size)] == expected
    assert list(grid.take([17, 0, 5])) == [expected[17], expected[0], expected[5]]


def test_float_ranges_match_the_old_expansion():
    params = get_strategy("risk_off_yen").Params
    grid = parse_space(params, {"threshold": {"start": 1.5, "stop": 3.0, "step": 0.5}})
    assert [c["threshold"] for c in grid] == [1.5, 2.0, 2.5, 3.0]  # 1.5 + i * 0.5
    grid = parse_space(params, {"hold": {"start": 10, "stop": 1, "step": -3}})
    assert [c["hold"] for c in grid] == [10, 7, 4, 1]  # counting down


@pytest.mark.parametrize("chunk_size", [1, 4, 7, 2000], ids=lambda c: f"chunk-{c}")
def test_chunks_carry_the_valid_combinations_in_product_order(chunk_size):
    # The tasks a sweep sends: chunk k holds rows k*size.. of the valid combinations
    # (fast < slow), by their positions; together they are the product, filtered.
    grid = parse_space(MA, SMALL)
    strat = get_strategy("ma_crossover")
    valid = [i for i, c in enumerate(reference(SMALL_VALUES)) if c["fast"] < c["slow"]]
    tasks = Tasks(strat, grid, array.array("q", valid), chunk_size, ChunkSettings("USDJPY"))
    assert len(tasks) == math.ceil(len(valid) / chunk_size)
    rows, combos = [], []
    for _, part, lo, _ in tasks:
        rows.append(lo)
        combos.extend(part)
    assert rows == list(range(0, len(valid), chunk_size))
    assert combos == [c for c in reference(SMALL_VALUES) if c["fast"] < c["slow"]]


def test_sweep_table_is_the_product_in_order_with_invalid_ones_counted(levels):
    sw = engine.sweep("ma_crossover", SMALL, levels, series="USDJPY", chunk_size=4)
    expected = [c for c in reference(SMALL_VALUES) if c["fast"] < c["slow"]]
    assert sw.table[["fast", "slow", "direction"]].to_dict("records") == expected
    # fast=10 with slow=8: 2 directions are invalid (fast >= slow); 18 - 2 = 16 run.
    assert sw.settings["combinations"] == 16 and sw.settings["skipped_invalid"] == 2
    one = engine.sweep("ma_crossover", SMALL, levels, series="USDJPY", chunk_size=1)
    pd.testing.assert_frame_equal(sw.table, one.table)


def test_grid_just_under_the_limit_is_counted_and_indexed_without_building_it():
    # 4,999 x 1,000 = 4,999,000 combinations, just under the default 5,000,000.
    space = {"fast": {"start": 1, "stop": 4_999}, "slow": {"start": 5_000, "stop": 5_999}}
    tracemalloc.start()
    try:
        grid = parse_space(MA, space)
        size = grid.size
        last = grid[size - 1]
        part = list(grid.take(range(size - 3, size)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size == 4_999 * 1_000 < DEFAULT_MAX_COMBINATIONS
    assert last == {"fast": 4_999, "slow": 5_999}
    assert part == [{"fast": 4_999, "slow": 5_997}, {"fast": 4_999, "slow": 5_998}, last]
    assert peak < 1_000_000  # a list of 5 million dicts is ~1.5 GB


def test_random_sampling_draws_what_the_whole_list_would_give(levels):
    # The draw is numpy's choice of positions in the (never built) product, as before
    # when the product was a list: the same seed gives the same combinations.
    space = {"fast": {"start": 2, "stop": 30}, "slow": {"start": 20, "stop": 60, "step": 5}}
    values = {"fast": list(range(2, 31)), "slow": list(range(20, 61, 5))}
    whole = reference(values)
    pick = np.random.default_rng(11).choice(len(whole), size=25, replace=False)
    expected = [whole[i] for i in sorted(pick) if whole[i]["fast"] < whole[i]["slow"]]
    kw = {"series": "USDJPY", "method": "random", "samples": 25, "seed": 11}
    a = engine.sweep("ma_crossover", space, levels, chunk_size=4, **kw)
    b = engine.sweep("ma_crossover", space, levels, chunk_size=25, **kw)
    assert a.table[["fast", "slow"]].to_dict("records") == expected
    assert a.settings["skipped_invalid"] == 25 - len(expected)
    pd.testing.assert_frame_equal(a.table, b.table)


def test_random_samples_of_a_huge_space_are_allowed(levels):
    # The limit counts what runs: 5 samples of 10^8 combinations is a small sweep.
    space = {"fast": {"start": 1, "stop": 10_000}, "slow": {"start": 2, "stop": 10_001}}
    sw = engine.sweep(
        "ma_crossover", space, levels, series="USDJPY", method="random", samples=5, seed=3
    )
    pick = sorted(np.random.default_rng(3).choice(10**8, size=5, replace=False))
    # position i of the product is fast = 1 + i // 10,000, slow = 2 + i % 10,000
    expected = [{"fast": 1 + i // 10_000, "slow": 2 + i % 10_000} for i in pick]
    expected = [c for c in expected if c["fast"] < c["slow"]]
    assert sw.table[["fast", "slow"]].to_dict("records") == expected


# Walk-forward folds in which no combination trades -----------------------------------


@pytest.fixture(scope="module")
def usdjpy() -> pd.DataFrame:
    return data.load(["USDJPY"], start="2024-01-01", end="2025-12-31", offline=True)


@pytest.fixture(scope="module")
def tariffs() -> pd.DataFrame:
    return events.load(REPO / "data" / "events" / "tariffs_2025.csv")


def test_folds_without_trades_are_reported_and_the_others_kept(usdjpy, tariffs):
    # Tariff events start in February 2025: the folds trained on 2024 alone have no
    # event, so no event_drift combination trades there.
    val = engine.validate(
        "event_drift", {"hold": [1, 5]}, usdjpy, tariffs, series="USDJPY",
        method="walk_forward", train_bars=150, test_bars=100,
    )  # fmt: skip
    folds = val.folds
    idle = sorted(set(folds.loc[folds["note"] == engine.NO_TRADES, "fold"]))
    assert idle == val.settings["folds_without_trades"]
    assert idle and len(idle) < folds["fold"].nunique()
    first_event = tariffs["date"].min()
    for k in idle:  # no event in the in-sample bars of an idle fold
        ins = folds[(folds["fold"] == k) & (folds["sample"] == "in")].iloc[0]
        assert ins["end"] < first_event
    assert folds.loc[folds["fold"].isin(idle), list(engine.METRICS)].isna().all().all()
    traded = folds[~folds["fold"].isin(idle)]
    assert traded["sharpe"].notna().all()
    # The stitched out-of-sample returns are the traded folds' test bars only.
    out = traded[traded["sample"] == "out"]
    bars = usdjpy["USDJPY"].dropna().index
    expected = sum(((bars >= r.start) & (bars <= r.end)).sum() for r in out.itertuples())
    assert len(val.oos_returns) == expected
    assert np.isfinite(val.oos_metrics["sharpe"])


def test_no_fold_trades_completes_with_nan_metrics(usdjpy, tariffs):
    pre = tariffs[tariffs["date"] >= pd.Timestamp("2025-11-01")]  # none: after the data ends
    assert pre.empty
    late = events.select(tariffs, ids=[tariffs["event"].iloc[-1]])
    val = engine.validate(
        "event_drift", {"hold": [1, 5]}, usdjpy.loc[:"2024-12-31"], late, series="USDJPY",
        method="train_test", train_fraction=0.5,
    )  # fmt: skip
    assert val.settings["folds_without_trades"] == [0]
    assert val.oos_returns.empty
    assert all(math.isnan(v) for v in val.oos_metrics.values())


def test_cli_run_with_a_fold_without_trades_completes(cli, tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text(
        f"""\
name: folds
data: {{series: [USDJPY], start: 2024-01-01, end: 2025-12-31, offline: true}}
events: {{files: [{REPO / "data" / "events" / "tariffs_2025.csv"}]}}
event_study: {{model: raw, windows: [[0, 1]]}}
strategies:
  - name: event_drift
    series: USDJPY
    sweep: {{hold: [1, 5]}}
    validation: {{method: walk_forward, train_bars: 150, test_bars: 100}}
output: {{formats: [json]}}
"""
    )
    code, _, err = cli("--quiet", "run", config, "--offline", "--out", tmp_path / "run")
    assert code == 0, err
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    folds = results["strategies"][0]["validation"]["folds"]
    idle = [f for f in folds if f.get("note") == engine.NO_TRADES]
    assert {f["fold"] for f in idle} == {0, 1}  # trained on 2024 only: no tariff event
    assert all(f["sharpe"] is None for f in idle)


def test_cli_refuses_a_huge_grid_before_loading_anything(cli, tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text(
        f"""\
name: huge
data: {{series: [USDJPY], start: 2024-01-01, offline: true}}
events: {{files: [{REPO / "data" / "events" / "tariffs_2025.csv"}]}}
strategies:
  - name: ma_crossover
    series: USDJPY
    sweep: {{fast: {{start: 1, stop: 10000}}, slow: {{start: 2, stop: 10001}}}}
"""
    )
    before = tree_digest(tmp_path)
    code, out, err = cli("run", config, "--out", tmp_path / "run")
    assert code == 2
    shown = " ".join((out + err).split())
    assert re.search(
        r"100,000,000 parameter combinations.*strategies\[0\]\.max_combinations", shown
    )
    assert tree_digest(tmp_path) == before


# Local and Dask give the same sweep from the lazy chunks ------------------------------


@pytest.mark.allow_hosts(["127.0.0.1", "::1"])
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_lazy_chunks_give_the_same_sweep_local_and_on_dask(levels):
    pytest.importorskip("distributed")
    from backtest.execution import executor

    space = {"fast": {"start": 2, "stop": 40, "step": 2}, "slow": [10, 30, 60], "direction": "both"}
    kw = {"series": "USDJPY", "method": "random", "samples": 30, "seed": 5, "chunk_size": 4}
    kw["validation"] = {"method": "walk_forward", "train_bars": 100, "test_bars": 50}
    local = engine.sweep("ma_crossover", space, levels, keep_returns=False, **kw)
    with executor("dask", workers=1, warmup=engine.warm_up) as ex:
        dist = engine.sweep("ma_crossover", space, levels, keep_returns=False, executor=ex, **kw)
    assert local.settings["skipped_invalid"] > 0  # fast >= slow among the samples
    pd.testing.assert_frame_equal(local.table, dist.table)
    assert local.selection == dist.selection
    assert local.folds is not None and dist.folds is not None
    assert local.folds.picks == dist.folds.picks


def test_unknown_sweep_method_is_refused(levels):
    """A misspelled method was run as a grid search; now it names the accepted ones."""
    with pytest.raises(ConfigError, match=r"sweep: method must be one of grid, random; got 'gird'"):
        engine.sweep(
            "ma_crossover", {"fast": [5], "slow": [50]}, levels, series="USDJPY", method="gird"
        )  # type: ignore[arg-type]
