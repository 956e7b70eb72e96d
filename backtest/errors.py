"""Exceptions and warnings raised by backtest.

Every error derives from :class:`BacktestError` and also from the builtin it
refines, so ``except ValueError`` keeps working for callers who do not know
this package.  Messages name the file, field or series at fault, what was
received, what is accepted and, where there is one, the fix.

One format for every message about an input::

    <file>: <field>: <problem>; <fix>

``configs/x.yaml: event_study.groups.us[1]: 'SPX' is not one of data.series
['UST10Y']; add it to data.series``. The file is the config, events or catalog
file (or the CLI option, ``--start``); the field is the dotted path inside it
(``strategies[0].params.window``), left out when the whole file is at fault
(``configs/x.yaml: config file not found; check the path``); the problem says what
was received and what is accepted; the fix, after ``; ``, what to change. A message
wrapping another keeps the inner one's text after its own file and field.
"""

from __future__ import annotations

__all__ = [
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
]


class BacktestError(Exception):
    """Base class of every error raised by backtest."""


class UnknownSeriesError(BacktestError, KeyError):
    """A series name is not in the catalog."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class DataValidationError(BacktestError, ValueError):
    """Input data or arguments are malformed (bad file, bad date, bad range)."""


class ConfigError(BacktestError, ValueError):
    """A run config is invalid; the message names the file and the field path."""


class StrategyError(BacktestError, LookupError):
    """A strategy is unknown, failed to load, or failed while computing signals."""


class DataSourceError(BacktestError, RuntimeError):
    """A remote source (FRED, Yahoo Finance) failed to deliver data."""


class SymbolNotFoundError(DataSourceError):
    """The source answered, but has no data for the requested symbol."""


class RateLimitError(DataSourceError):
    """The source kept refusing requests as too many, after every retry."""


class OfflineError(BacktestError, RuntimeError):
    """Data is needed that is neither cached nor bundled, and the network is off."""


class OutputError(BacktestError, OSError):
    """The output location is refused: it holds files backtest did not write, or
    cannot be written (checked before any computation)."""


class NoNetworkError(OfflineError, DataSourceError):
    """A source's host cannot be reached at all: there is no network.

    Raised for a failed name resolution, a refused connection or an unreachable
    network, which no retry can mend (so none is made); timeouts and 5xx answers
    are retried and raise :class:`DataSourceError` instead.
    """


class CacheCorruptError(BacktestError, OSError):
    """A cache file cannot be read or does not match its recorded checksum."""


class BacktestWarning(UserWarning):
    """Base class of every warning issued by backtest."""


class DataEndsEarlyWarning(BacktestWarning):
    """The data returned ends before the requested end date."""


class FetchFailedWarning(BacktestWarning):
    """A download failed; earlier cached or bundled data was used instead."""


class RegressorLeftOutWarning(BacktestWarning):
    """A series named for study is the market or a factor of the model and was left out."""
