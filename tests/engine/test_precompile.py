"""The cold-cache compile in a child process (backtest.engine.precompile)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from backtest.engine import precompile

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cold(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(precompile, "_index_path", lambda: None)
    monkeypatch.delenv("BACKTEST_PRECOMPILE", raising=False)
    yield
    precompile.wait()


def test_start_runs_one_child_and_wait_joins_it(cold: None) -> None:
    assert precompile.start("import time; time.sleep(0.2)")
    child = precompile._CHILDREN[0]
    assert not precompile.start("raise SystemExit(5)")  # one at a time
    precompile.wait()
    assert child.returncode == 0
    assert precompile._CHILDREN == []
    precompile.wait()  # nothing to wait for


def test_a_failing_child_does_not_fail_the_run(cold: None) -> None:
    assert precompile.start("raise SystemExit(3)")
    child = precompile._CHILDREN[0]
    precompile.wait()
    assert child.returncode == 3


def test_no_child_when_turned_off_or_warm(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BACKTEST_PRECOMPILE", "0")
    monkeypatch.setattr(precompile, "_index_path", lambda: None)
    assert not precompile.start("raise SystemExit(0)")
    monkeypatch.delenv("BACKTEST_PRECOMPILE")
    index = tmp_path / "kernel.nbi"
    index.write_bytes(b"")
    monkeypatch.setattr(precompile, "_index_path", lambda: str(index))
    assert not precompile.start("raise SystemExit(0)")
    assert precompile._CHILDREN == []


@pytest.mark.parametrize("cache_dir", [False, True], ids=["in-tree", "NUMBA_CACHE_DIR"])
def test_the_index_path_found_before_numba_is_numbas(tmp_path: Path, cache_dir: bool) -> None:
    """start() looks for the kernel's cache index without importing numba (so the child
    starts most of a second sooner); the path must be the one numba uses."""
    script = textwrap.dedent(
        """
        import sys
        from backtest.engine import precompile
        guess = precompile._index_path()
        assert "numba" not in sys.modules
        from backtest.engine import fastsim
        assert guess == fastsim.one_leg_columns._cache._cache_file._index_path, guess
        print("ok")
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("NUMBA_CACHE_DIR", None)
    if cache_dir:
        env["NUMBA_CACHE_DIR"] = str(tmp_path)
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok"


def test_stop_kills_a_child_nobody_waited_for(cold: None) -> None:
    assert precompile.start("import time; time.sleep(60)")
    child = precompile._CHILDREN[0]
    precompile._stop()
    assert child.wait(timeout=10) != 0
    assert precompile._CHILDREN == []


def test_the_child_fills_exactly_the_cache_this_process_uses(tmp_path: Path) -> None:
    """On an empty cache: start, wait, then every kernel a run uses loads from the
    cache (numba counts hits and misses per dispatcher) and nothing compiles here."""
    script = textwrap.dedent(
        """
        from backtest.engine import precompile
        assert not precompile.cache_is_warm()
        assert precompile.start()
        precompile.share()  # the kernel's later parts, here, while the child compiles
        precompile.wait()
        assert precompile.cache_is_warm()
        from backtest import kernels
        from backtest.engine import fastsim
        from backtest.engine.simulate import warm_up
        warm_up(["simulation", "metrics"])  # a small run's calls; the statistics kernels
        f = fastsim.one_leg_columns  # from the child's cache entry
        assert not f.stats.cache_misses, f.stats
        assert sum(f.stats.cache_hits.values()) == 1, f.stats
        for f in [kernels._return_stats_rows, kernels._position_stats_rows]:
            # compiled once, here, and not again
            assert sum(f.stats.cache_misses.values()) + sum(f.stats.cache_hits.values()) == 1
            assert len(f.signatures) == 1
        print("ok")
        """
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env.pop("BACKTEST_PRECOMPILE", None)
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok"


def test_the_simulation_compiles_each_function_once(tmp_path: Path) -> None:
    """A fresh compile of the small specialisation (what the child does) compiles every
    kernel function once: no second specialisation from numba's literal typing of an
    argument (each costs a whole compile; _second_pass's was ~1.2 s)."""
    script = textwrap.dedent(
        """
        from numba.core.registry import CPUDispatcher
        from backtest import kernels
        from backtest.engine import fastsim
        fastsim.compile_one_leg()
        for mod in (fastsim, kernels):
            for name, f in vars(mod).items():
                if isinstance(f, CPUDispatcher):
                    assert len(f.signatures) <= 1, (name, f.signatures)
        assert len(fastsim._second_pass.signatures) == 1
        print("ok")
        """
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok"


def test_the_later_parts_compiled_here_are_what_the_child_loads(tmp_path: Path) -> None:
    """share() compiles the kernel's later parts for the argument types the entry point
    passes: a process compiling the entry point afterwards loads them from the cache."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    first = "from backtest.engine.fastsim import compile_later_parts; compile_later_parts()"
    then = textwrap.dedent(
        """
        from backtest.engine import fastsim
        fastsim.compile_one_leg()
        for f in (fastsim._second_pass, fastsim._finish):
            assert not f.stats.cache_misses, f.stats
            assert sum(f.stats.cache_hits.values()) == 1, f.stats
        for f in (fastsim._one_leg, fastsim._add, fastsim._is_close, fastsim._trade_return):
            assert sum(f.stats.cache_misses.values()) == 1, f.stats  # compiled there
        print("ok")
        """
    )
    for code in (first, then):
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600
        )
        assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok"


def test_warm_up_parts_are_checked() -> None:
    from backtest.engine import warm_up

    with pytest.raises(ValueError, match="parts must be among"):
        warm_up(["simulation", "vectorbt"])


def test_wants_kernels_reads_strategies_through_extends(tmp_path: Path) -> None:
    root = ROOT / "configs"
    assert precompile.wants_kernels(root / "usdjpy_strategies.yaml")
    assert not precompile.wants_kernels(root / "april_2025_selloff.yaml")  # event study only
    base = tmp_path / "base.yaml"
    base.write_text("name: b\nstrategies:\n  - name: buy_and_hold\n    series: SPX\n")
    child = tmp_path / "sub" / "child.yaml"
    child.parent.mkdir()
    child.write_text("extends: ../base.yaml\nname: c\n")
    assert precompile.wants_kernels(child)
    loop = tmp_path / "loop.yaml"
    loop.write_text("extends: loop.yaml\n")
    assert not precompile.wants_kernels(loop)
    assert not precompile.wants_kernels(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("strategies: [\n")
    assert not precompile.wants_kernels(tmp_path / "bad.yaml")
