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

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from backtest import data, events
    from backtest.config import load_config
    from backtest.engine import backtest, sweep, validate
    from backtest.errors import (
        BacktestError,
        BacktestWarning,
        CacheCorruptError,
        ConfigError,
        DataEndsEarlyWarning,
        DataSourceError,
        DataValidationError,
        FetchFailedWarning,
        NoNetworkError,
        OfflineError,
        OutputError,
        RateLimitError,
        RegressorLeftOutWarning,
        StrategyError,
        SymbolNotFoundError,
        UnknownSeriesError,
    )
    from backtest.eventstudy import EventStudy, EventStudyResult
    from backtest.pipeline import RunResult, run
    from backtest.strategy import MarketData, Strategy, StrategyParams

#: Module -> the public names it defines. Engine names are read as attributes of
#: ``backtest.engine``, wherever inside it they are defined.
_HOMES: dict[str, tuple[str, ...]] = {
    "backtest.config": ("load_config",),
    "backtest.pipeline": ("run", "RunResult"),
    "backtest.eventstudy": ("EventStudy", "EventStudyResult"),
    "backtest.strategy": ("Strategy", "StrategyParams", "MarketData"),
    "backtest.engine": ("backtest", "sweep", "validate"),
    "backtest.errors": (
        "BacktestError",
        "BacktestWarning",
        "CacheCorruptError",
        "ConfigError",
        "DataEndsEarlyWarning",
        "DataSourceError",
        "DataValidationError",
        "FetchFailedWarning",
        "NoNetworkError",
        "OfflineError",
        "OutputError",
        "RateLimitError",
        "RegressorLeftOutWarning",
        "StrategyError",
        "SymbolNotFoundError",
        "UnknownSeriesError",
    ),
}
#: Submodules exported as names of the package.
_SUBMODULES = ("data", "events")

__all__ = [
    "BacktestError",
    "BacktestWarning",
    "CacheCorruptError",
    "ConfigError",
    "DataEndsEarlyWarning",
    "DataSourceError",
    "DataValidationError",
    "EventStudy",
    "EventStudyResult",
    "FetchFailedWarning",
    "MarketData",
    "NoNetworkError",
    "OfflineError",
    "OutputError",
    "RateLimitError",
    "RegressorLeftOutWarning",
    "RunResult",
    "Strategy",
    "StrategyError",
    "StrategyParams",
    "SymbolNotFoundError",
    "UnknownSeriesError",
    "__version__",
    "backtest",
    "data",
    "events",
    "load_config",
    "run",
    "sweep",
    "validate",
]


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562); later lookups find it in the module."""
    if name in _SUBMODULES:
        value: Any = importlib.import_module(f"{__name__}.{name}")
    else:
        home = next((m for m, names in _HOMES.items() if name in names), None)
        if home is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """Public names, imported or not, with what the module already holds."""
    return sorted(set(globals()) | set(__all__))
