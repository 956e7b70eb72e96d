"""``backtest new-strategy NAME``: a small installable package holding one strategy plugin.

The package it writes::

    NAME/
      pyproject.toml          the backtest.strategies entry point NAME = "NAME:ClassName"
      README.md               how to install it and run its tests
      src/NAME/__init__.py    the Strategy subclass, its Params and positions()
      tests/test_NAME.py      the public contract suite (backtest.testing)

It is a working strategy (long while the traded series is above its moving average)
that passes the contract; the author replaces the rule. ``pip install -e NAME`` in the
environment where backtest is installed registers it: ``backtest strategies list``
shows it and a run config can name it.
"""

from __future__ import annotations

import importlib.util
import keyword
import re
from pathlib import Path

from backtest.errors import ConfigError, OutputError

__all__ = ["class_name", "new_strategy", "package_files"]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

_PYPROJECT = """\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.1.0"
description = "A backtest strategy plugin: {name}."
requires-python = ">=3.11"
# backtest itself is not listed: install this package into the environment where
# backtest is installed (pip install -e .), which is where the plugin runs.
dependencies = []

[project.optional-dependencies]
test = ["pytest>=8"]

# What makes it a plugin: backtest finds strategies under this entry-point group.
[project.entry-points."backtest.strategies"]
{name} = "{name}:{cls}"

[tool.pytest.ini_options]
testpaths = ["tests"]
"""

_README = """\
# {name}

A strategy plugin for backtest: `{name}` ({cls} in `src/{name}/__init__.py`).

    pip install -e .                 # in the environment where backtest is installed
    backtest strategies list         # {name} is listed, with its parameters
    pytest                           # the contract: no look-ahead, bounds, parameters

Use it in a run config:

    strategies:
      - name: {name}
        series: USDJPY
        params: {{window: 50}}

Helpers for clocks, as-of alignment and event day 0: `backtest.strategy_helpers`
(`asof`, `day0_bars`, `near_events`, `selected_events`, `require_columns`).
"""

_MODULE = '''\
"""The {name} strategy: a backtest plugin (entry point ``{name} = "{name}:{cls}"``)."""

from __future__ import annotations

from typing import Literal

import pandas as pd
from pydantic import Field

from backtest.strategy import MarketData, Strategy, StrategyParams

__all__ = ["{cls}", "{cls}Params"]


class {cls}Params(StrategyParams):
    """Parameters of :class:`{cls}` (frozen; an unknown key is an error)."""

    window: int = Field(20, ge=2, description="moving-average window, in bars")
    direction: Literal["long", "both"] = "long"


class {cls}(Strategy[{cls}Params]):
    """Long while the traded series is above its moving average (replace this rule).

    Parameters
    ----------
    window : int, >= 2
        Bars in the moving average of the traded series' levels (default 20).
    direction : {{"long", "both"}}
        ``"long"``: long above the average, flat below; ``"both"``: short below.

    Notes
    -----
    On bar ``t`` the rule uses levels up to ``t`` only; the engine fills the position
    at the close of ``t + 1``. Other series must be aligned as of each bar with
    :func:`backtest.strategy_helpers.asof`; event day 0 comes from
    :func:`backtest.strategy_helpers.day0_bars`.
    """

    name = "{name}"
    Params = {cls}Params

    def positions(self, data: MarketData, params: {cls}Params) -> pd.Series:
        """Target position per bar of the traded series: +1 long, -1 short, 0 flat."""
        price = data.price
        average = price.rolling(params.window, min_periods=params.window).mean()
        above = (price > average).astype("float64")
        if params.direction == "both":
            below = (price < average).astype("float64")
            return above - below
        return above
'''

_TEST = '''\
"""The contract every backtest strategy keeps, on the bundled snapshot (2019-2025)."""

from backtest.testing import StrategyContract, check_strategy
from {name} import {cls}

PARAMS = ({{}}, {{"window": 50, "direction": "both"}})


class Test{cls}Contract(StrategyContract):
    """Declaration, parameters, bounds, no look-ahead: one pytest test per check."""

    strategy_cls = {cls}
    params = PARAMS
    series = "USDJPY"


def test_check_strategy():
    # The same checks in one call, as in a notebook.
    check_strategy({cls}, params=PARAMS)
'''

_GITIGNORE = "__pycache__/\n*.egg-info/\nbuild/\ndist/\n"


def class_name(name: str) -> str:
    """CamelCase class name of strategy `name` (``demo_rule`` -> ``DemoRule``)."""
    return "".join(part.capitalize() for part in name.split("_") if part)


def _check_name(name: str) -> None:
    if not _NAME.match(name) or keyword.iskeyword(name) or name.endswith("_"):
        raise ConfigError(
            f"NAME: {name!r} is not a valid strategy name; use lowercase letters, digits "
            "and underscores, starting with a letter (e.g. demo_rule)"
        )
    from backtest.strategy import discover

    if name in discover():
        raise ConfigError(
            f"NAME: a strategy {name!r} is already installed ({discover()[name].source}); "
            "choose another name"
        )
    spec = importlib.util.find_spec(name)
    if spec is not None and spec.origin not in (None, "namespace"):  # a folder is no module
        raise ConfigError(
            f"NAME: {name!r} is already an importable module in this environment; choose "
            "another name (the package is imported under it)"
        )


def package_files(name: str) -> dict[str, str]:
    """Relative path -> text of each file of the package for strategy `name`.

    Parameters
    ----------
    name : str
        Strategy name: lowercase letters, digits and underscores (``demo_rule``). It is
        also the import name of the package; the distribution is ``backtest-NAME``
        with dashes.

    Returns
    -------
    dict of str to str
    """
    fields = {"name": name, "cls": class_name(name), "dist": "backtest-" + name.replace("_", "-")}
    return {
        "pyproject.toml": _PYPROJECT.format(**fields),
        "README.md": _README.format(**fields),
        ".gitignore": _GITIGNORE,
        f"src/{name}/__init__.py": _MODULE.format(**fields),
        f"tests/test_{name}.py": _TEST.format(**fields),
    }


def new_strategy(name: str, target: Path | None = None) -> Path:
    """Write the plugin package for strategy `name` into `target` (default ``./name``).

    Parameters
    ----------
    name : str
        Strategy name (see :func:`package_files`).
    target : pathlib.Path, optional
        Directory to create; it must be absent or an empty directory.

    Returns
    -------
    pathlib.Path
        `target`.

    Raises
    ------
    backtest.errors.ConfigError
        `name` is not a valid name, or a strategy or module of that name exists.
    backtest.errors.OutputError
        `target` exists and is not an empty directory: nothing is overwritten.
    """
    if not _NAME.match(name):
        _check_name(name)  # a bad name is not a path: say so before looking at the disk
    target = Path(name if target is None else target)
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise OutputError(f"{target}: exists and is not a directory; choose a new --dir")
    if target.is_dir() and any(target.iterdir()):
        raise OutputError(
            f"{target}: directory exists and is not empty; nothing was written; choose a "
            "new or empty --dir"
        )
    _check_name(name)
    files = package_files(name)
    try:
        for rel, text in files.items():
            path = target / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "x", encoding="utf-8") as fh:  # "x": never overwrite
                fh.write(text)
    except OSError as exc:
        raise OutputError(f"{target}: cannot write the package ({exc})") from exc
    return target
