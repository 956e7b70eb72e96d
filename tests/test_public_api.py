"""The public surface of ``backtest/__init__.py``: what it exports, and that it is lazy.

Each check runs in a fresh interpreter, since this test session has long imported
everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import backtest
import backtest.errors

REPO = Path(__file__).resolve().parent.parent

#: What ``import backtest`` must not load: the heavy numeric stack.
HEAVY = ("pandas", "numpy", "vectorbt", "numba", "statsmodels", "scipy", "plotly", "pydantic")


def fresh(code: str) -> object:
    """Run `code` in a new interpreter with the repository importable; its JSON output."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(done.stdout)


def test_import_backtest_loads_no_heavy_module():
    loaded = fresh(
        f"import json, sys, backtest\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    assert loaded == []


def test_the_command_line_and_the_compile_child_load_little():
    # backtest run starts its compile child (backtest.engine.precompile) before the
    # numeric stack is imported; the child itself needs numpy and numba, not pandas.
    loaded = f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    assert fresh(f"import json, sys, backtest.cli\n{loaded}") == []
    child = fresh(f"import json, sys, backtest.engine.fastsim\n{loaded}")
    assert isinstance(child, list) and {"numpy", "numba"} <= set(child)
    assert not {"pandas", "vectorbt", "statsmodels", "plotly", "pydantic"} & set(child)


def test_an_error_is_reachable_without_the_numeric_stack():
    loaded = fresh(
        "import json, sys, backtest\n"
        "assert issubclass(backtest.ConfigError, backtest.BacktestError)\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    assert loaded == []


def test_every_name_in_all_resolves_to_its_home():
    # In a fresh interpreter, so each name is found through the lazy path.
    homes = fresh(
        "import json, backtest\n"
        "print(json.dumps({n: getattr(getattr(backtest, n), '__module__', None) "
        "or getattr(backtest, n).__name__ for n in backtest.__all__ if n != '__version__'}))"
    )
    assert isinstance(homes, dict)
    assert set(homes) == set(backtest.__all__) - {"__version__"}
    assert homes["data"] == "backtest.data" and homes["events"] == "backtest.events"
    assert homes["load_config"] == "backtest.config"
    assert homes["run"] == "backtest.pipeline"
    assert homes["Strategy"] == "backtest.strategy"
    assert homes["EventStudy"].startswith("backtest.eventstudy")
    assert all(homes[n].startswith("backtest.engine") for n in ("backtest", "sweep", "validate"))


def test_exports_are_the_objects_of_their_modules():
    from backtest import config, engine, eventstudy, pipeline, strategy

    assert backtest.load_config is config.load_config
    assert backtest.run is pipeline.run
    assert backtest.RunResult is pipeline.RunResult
    assert backtest.EventStudy is eventstudy.EventStudy
    assert backtest.EventStudyResult is eventstudy.EventStudyResult
    assert backtest.Strategy is strategy.Strategy
    assert backtest.StrategyParams is strategy.StrategyParams
    assert backtest.MarketData is strategy.MarketData
    assert backtest.backtest is engine.backtest and callable(backtest.backtest)
    assert backtest.sweep is engine.sweep and callable(backtest.sweep)
    assert backtest.validate is engine.validate and callable(backtest.validate)
    assert backtest.data is sys.modules["backtest.data"]
    assert backtest.events is sys.modules["backtest.events"]


def test_every_error_and_warning_is_exported():
    assert set(backtest.errors.__all__) <= set(backtest.__all__)
    for name in backtest.errors.__all__:
        assert getattr(backtest, name) is getattr(backtest.errors, name)


def test_dir_lists_the_public_names_and_unknown_names_are_attribute_errors():
    assert set(backtest.__all__) <= set(dir(backtest))
    with pytest.raises(AttributeError, match="no_such_name"):
        backtest.no_such_name  # noqa: B018
    assert not hasattr(backtest, "no_such_name")
