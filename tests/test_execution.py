"""Local vs Dask execution: the same numbers, faults handled (real LocalCluster, loopback).

The module starts one ``LocalCluster`` of two worker processes on 127.0.0.1; sockets are
allowed for loopback only (pytest-socket ``allow_hosts``), every other test stays offline.

Kind: invariants only (local equals Dask; a killed worker changes nothing; local blocks
equal one pass). No expected number comes from outside the code: the numbers themselves
are checked in tests/test_engine.py, tests/test_metrics.py and tests/eventstudy/. The
rest checks errors and the run record.
"""

from __future__ import annotations

import json
import os
import signal
import threading

import numpy as np
import pandas as pd
import pytest

from backtest import data, engine
from backtest import events as evm
from backtest.cli import main
from backtest.errors import StrategyError
from backtest.eventstudy import EventStudy
from backtest.execution import LocalExecutor, executor
from backtest.strategy import MarketData, Strategy, StrategyParams

from .conftest import REPO

pytest.importorskip("distributed")
pytestmark = [
    pytest.mark.allow_hosts(["127.0.0.1", "::1"]),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

SPACE = {"fast": [2, 5, 10, 20], "slow": [50, 75, 100, 150, 200], "direction": "both"}


@pytest.fixture(scope="module")
def levels() -> pd.DataFrame:
    return data.load(
        ["USDJPY", "UST10Y", "SPX", "NKY", "VIX", "JGB10Y"],
        start="2016-01-01",
        end="2025-12-31",
        offline=True,
    )


@pytest.fixture(scope="module")
def dask_ex():
    with executor("dask", workers=2, warmup=engine.warm_up) as ex:
        yield ex


def test_cluster_is_real(dask_ex):
    info = dask_ex.describe()
    assert info["engine"] == "dask" and info["workers"] == 2
    assert info["dashboard"].startswith("http://127.0.0.1")


def test_sweep_identical_local_and_dask(levels, dask_ex):
    local = engine.sweep("ma_crossover", SPACE, levels, series="USDJPY", chunk_size=3)
    dist = engine.sweep(
        "ma_crossover", SPACE, levels, series="USDJPY", chunk_size=3, executor=dask_ex
    )
    np.testing.assert_array_equal(local.returns.to_numpy(), dist.returns.to_numpy())
    pd.testing.assert_frame_equal(local.table, dist.table)
    assert local.selection == dist.selection  # DSR/PBO over the whole gathered sweep


def test_portfolio_sweep_identical_local_and_dask(levels, dask_ex):
    # Two bond legs (UST10Y long/short JGB10Y), funded at their own short rates, which the
    # sweep loads once and ships to the workers with the levels.
    space = {"window": [20, 60], "entry": [0.5, 1.0, 1.5]}
    kw = {"series": "UST10Y", "chunk_size": 2, "fees_bps": 1.0}
    local = engine.sweep("bond_spread", space, levels, **kw)
    dist = engine.sweep("bond_spread", space, levels, executor=dask_ex, **kw)
    assert local.excess_returns is not None and local.settings["funding"] == "short_rate"
    np.testing.assert_array_equal(local.returns.to_numpy(), dist.returns.to_numpy())
    np.testing.assert_array_equal(local.excess_returns.to_numpy(), dist.excess_returns.to_numpy())
    pd.testing.assert_frame_equal(local.table, dist.table)
    assert local.selection == dist.selection


def test_event_study_identical_local_and_dask(levels, dask_ex):
    ev = evm.load(REPO / "data" / "events" / "tariffs_2025.csv")
    study = EventStudy(model="market", market="SPX")
    one = study.run(levels, ev)
    blocks = study.run(levels, ev, executor=dask_ex, block_size=2)
    pd.testing.assert_frame_equal(one.abnormal, blocks.abnormal)
    pd.testing.assert_frame_equal(one.reactions(0, 5), blocks.reactions(0, 5))
    pd.testing.assert_frame_equal(one.tests(0, 5, draws=199), blocks.tests(0, 5, draws=199))
    local_blocks = study.run(levels, ev, executor=LocalExecutor(), block_size=2)
    pd.testing.assert_frame_equal(one.abnormal, local_blocks.abnormal)


class Fragile(Strategy):
    """Fails for one parameter value, to check task errors reach the caller intact."""

    name = "fragile"

    class Params(StrategyParams):
        window: int = 5

    def positions(self, data: MarketData, params: StrategyParams) -> pd.Series:
        if params.window == 13:  # type: ignore[attr-defined]
            raise ZeroDivisionError("window 13 is unlucky")
        return pd.Series(1.0, index=data.price.index)


def test_task_error_names_strategy_and_parameters(levels, dask_ex):
    with pytest.raises(
        StrategyError,
        match=r"'fragile' failed on USDJPY for parameters "
        r"\[\{'window': 13\}\]: ZeroDivisionError: window 13 is unlucky",
    ):
        engine.sweep(
            Fragile(),
            {"window": [5, 13, 21]},
            levels,
            series="USDJPY",
            chunk_size=1,
            executor=dask_ex,
        )


def test_killed_worker_does_not_change_the_result(levels):
    local = engine.sweep("ma_crossover", SPACE, levels, series="USDJPY", chunk_size=1)
    with executor("dask", workers=2, warmup=engine.warm_up) as ex:
        pids = ex.client.run(os.getpid)  # worker address -> process id
        victim = pids[sorted(pids)[0]]
        killed = threading.Event()

        def progress(done: int, total: int) -> None:
            if done == 2 and not killed.is_set():
                killed.set()
                os.kill(victim, signal.SIGKILL)  # a worker process dies mid-sweep

        dist = engine.sweep(
            "ma_crossover",
            SPACE,
            levels,
            series="USDJPY",
            chunk_size=1,
            executor=ex,
            progress=progress,
        )
    assert killed.is_set()
    pd.testing.assert_frame_equal(local.table, dist.table)
    np.testing.assert_array_equal(local.returns.to_numpy(), dist.returns.to_numpy())


def test_unreachable_scheduler_exits_2_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(
        [
            "--quiet",
            "run",
            str(REPO / "configs" / "japan_treasury_leverage.yaml"),
            "--offline",
            "--scheduler",
            "tcp://127.0.0.1:9",
            "--out",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_cli_dask_run_records_execution(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(
        [
            "--quiet",
            "run",
            str(REPO / "configs" / "japan_treasury_leverage.yaml"),
            "--offline",
            "--engine",
            "dask",
            "--workers",
            "1",
            "--out",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    results = json.loads((out / "results.json").read_text())
    execution = results["run"]["execution"]
    assert execution["engine"] == "dask" and execution["workers"] == 1
    assert execution["dashboard"].startswith("http")
    assert (execution["chunk_size"], execution["block_size"]) == (2000, 200)
    assert results["config"]["execution"]["engine"] == "dask"


def test_strategy_config_same_results_json_local_and_dask(tmp_path, capsys):
    config = str(REPO / "configs" / "usdjpy_strategies.yaml")
    runs = {}
    for engine_name in ("local", "dask"):
        out = tmp_path / engine_name
        code = main(
            ["--quiet", "run", config, "--offline", "--engine", engine_name, "--out", str(out)]
        )
        assert code == 0, capsys.readouterr().err
        results = json.loads((out / "results.json").read_text())
        for key in ("created_at", "run_seconds", "execution"):
            results["run"].pop(key)
        results["config"].pop("execution")
        results["config"]["output"].pop("dir")
        runs[engine_name] = results
    assert runs["local"] == runs["dask"]
