"""backtest: market-reaction event studies and trading-rule backtests.

The public API is deliberately small, and imported lazily: ``import backtest`` loads
none of pandas, vectorbt, numba or statsmodels; each name below imports its module
the first time it is used.

Runs
    :func:`load_config` (a YAML config), :func:`run` (the whole pipeline) and the
    :class:`RunResult` it returns.
Event studies
    :class:`EventStudy` and its :class:`EventStudyResult`.
Strategies
    :class:`Strategy`, :class:`StrategyParams` and :class:`MarketData` (the plugin
    contract); :func:`backtest`, :func:`sweep` and :func:`validate` (the engine).
Data
    the modules :mod:`backtest.data` (market data) and :mod:`backtest.events`
    (calendars).
Errors
    :class:`BacktestError`, its subclasses and the warnings of :mod:`backtest.errors`.

Examples
--------
>>> import backtest
>>> issubclass(backtest.ConfigError, ValueError)
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from backtest import errors  # no dependencies: its names are listed, not copied
from backtest.lazy import attach

__version__ = "0.1.0"

if TYPE_CHECKING:
    from backtest import data, events
    from backtest.config import load_config
    from backtest.engine import backtest, sweep, validate
    from backtest.errors import *  # noqa: F403  (every error and warning)
    from backtest.eventstudy import EventStudy, EventStudyResult
    from backtest.pipeline import RunResult, run
    from backtest.strategy import MarketData, Strategy, StrategyParams

#: Module -> the public names it defines. Engine names are read as attributes of
#: ``backtest.engine``, wherever inside it they are defined; ``data`` and ``events``
#: are submodules exported as names of the package.
_MODULES: dict[str, tuple[str, ...]] = {
    "backtest.config": ("load_config",),
    "backtest.pipeline": ("run", "RunResult"),
    "backtest.eventstudy": ("EventStudy", "EventStudyResult"),
    "backtest.strategy": ("Strategy", "StrategyParams", "MarketData"),
    "backtest.engine": ("backtest", "sweep", "validate"),
    "backtest.errors": tuple(errors.__all__),
    "backtest.data": ("data",),
    "backtest.events": ("events",),
}
_HOMES = {name: module for module, names in _MODULES.items() for name in names}

__all__ = [
    "EventStudy",
    "EventStudyResult",
    "MarketData",
    "RunResult",
    "Strategy",
    "StrategyParams",
    "__version__",
    "backtest",
    "data",
    "events",
    "load_config",
    "run",
    "sweep",
    "validate",
]
__all__ += errors.__all__

__getattr__, __dir__ = attach(__name__, _HOMES)
