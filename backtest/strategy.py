"""The strategy contract and the plugin registry.

A strategy is a class with a name, a ``Params`` pydantic model, the series it needs,
and one pure method, :meth:`Strategy.positions`, that turns market data (and events,
and event-study results where useful) into a *target position* per bar: ``+1`` long,
``-1`` short, ``0`` flat, fractions in between. No I/O and no vectorbt inside: the
engine (:mod:`backtest.engine`) simulates.

**Information timing.** ``positions`` may use data up to and including bar ``t`` to
set the position for bar ``t``. The engine then fills it at the close of bar ``t + 1``
(daily close-only data has no next open), so a signal is never traded on the price
it was computed from. A strategy that needs another rule must say so explicitly with
``execution = "same_close"``. Contract tests check every strategy: its positions up to
``t`` do not change when the data after ``t`` is dropped.

**Plugins.** Built-in strategies live in the top-level ``strategies`` package; any
installed package can add its own under the entry-point group ``backtest.strategies``
(``name = "package.module:Class"``). Both are found the same way, loaded lazily
and once per process (:func:`discover` caches; ``discover(refresh=True)`` looks
again); a plugin that fails to import is reported by name with its exception and the
others still load.

**Typed parameters.** ``Strategy`` is generic over its ``Params`` model:
``class MACrossover(Strategy[MACrossoverParams])`` makes :meth:`Strategy.parse`
return ``MACrossoverParams`` and types ``params`` in :meth:`Strategy.positions`, so a
plugin reads ``params.fast`` without casts or asserts. A plugin written as a plain
``Strategy`` subclass with a nested ``Params`` works unchanged.
"""

from __future__ import annotations

import difflib
import functools
import importlib.metadata
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Literal, TypeVar, cast

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from backtest.errors import ConfigError, StrategyError

__all__ = [
    "ENTRY_POINT_GROUP",
    "Crossing",
    "MarketData",
    "Strategy",
    "StrategyParams",
    "discover",
    "get_strategy",
]

#: Entry-point group under which packages register strategies.
ENTRY_POINT_GROUP = "backtest.strategies"

Execution = Literal["next_close", "same_close"]


class StrategyParams(BaseModel):
    """Base of every strategy's ``Params``: frozen, unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def valid_many(cls, columns: Mapping[str, np.ndarray]) -> np.ndarray | None:
        """Which of many parameter sets pass the model's rules between parameters.

        Override it in a ``Params`` with ``model_validator(mode="after")`` rules that
        only check (return ``self`` unchanged), so that a sweep decides the validity of
        its combinations with numpy instead of validating each (~10 us per
        combination, :mod:`backtest.paramsets`). The answer must be the one
        ``model_validate`` gives for every combination whose values each pass their
        field (a contract test checks the built-ins); the base class offers none.

        Parameters
        ----------
        columns : mapping of str to numpy.ndarray
            Every field's values, one array per field (equal lengths, the field's
            values as ``model_validate`` stores them: int64 for ints, float64 for
            floats, bool, else object).

        Returns
        -------
        numpy.ndarray of bool or None
            True where the parameter set passes; None: not offered (each combination
            is then validated one at a time).

        Examples
        --------
        >>> class Window(StrategyParams):
        ...     fast: int = 5
        ...     slow: int = 20
        ...     @classmethod
        ...     def valid_many(cls, columns):
        ...         return np.asarray(columns["fast"]) < np.asarray(columns["slow"])
        >>> Window.valid_many({"fast": np.array([5, 30]), "slow": np.array([20, 20])})
        array([ True, False])
        """
        return None


#: The ``Params`` model of a strategy class.
P = TypeVar("P", bound=StrategyParams)


@dataclass(frozen=True)
class MarketData:
    """What a strategy sees.

    Attributes
    ----------
    levels : pandas.DataFrame
        Wide frame of levels (:func:`backtest.data.load`), one column per series.
    series : str
        The series traded (its column in `levels`).
    events : pandas.DataFrame, optional
        Canonical events (:func:`backtest.events.load`).
    day0 : pandas.DataFrame, optional
        Day-0 dates of the events per series (from an event study), where known.
    """

    levels: pd.DataFrame
    series: str
    events: pd.DataFrame | None = None
    day0: pd.DataFrame | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def price(self) -> pd.Series:
        """Levels of the traded series on its own observation dates."""
        return self.levels[self.series].dropna()

    def truncated(self, end: pd.Timestamp) -> MarketData:
        """The same data with every observation after `end` dropped (look-ahead checks)."""
        return MarketData(
            levels=self.levels.loc[:end],
            series=self.series,
            events=self.events,
            day0=self.day0,
            extra=self.extra,
        )


@dataclass(frozen=True)
class Crossing:
    """The compact form of a comparison rule, for the engine's fused sweep kernel.

    Parameter set ``k`` targets ``above[k]`` on bar ``t`` when ``features[t, left[k]] >
    features[t, right[k]]``, else ``below[k]``, and 0 while ``features[t, right[k]]``
    is NaN. A strategy whose positions are such a rule returns it from
    :meth:`Strategy.crossings`: a sweep then never builds the (bars x combinations)
    positions, and each feature column (a moving average, say) is computed once for
    every parameter set using it. The rule must give exactly what
    :meth:`Strategy.positions_many` gives (the contract tests check it).

    Attributes
    ----------
    features : numpy.ndarray
        (bars, F) on the traded series' observation dates.
    left, right : numpy.ndarray
        (K,) int64 columns of `features`.
    above, below : numpy.ndarray
        (K,) float targets.
    """

    features: np.ndarray
    left: np.ndarray
    right: np.ndarray
    above: np.ndarray
    below: np.ndarray


class Strategy(ABC, Generic[P]):
    """Base class of strategy plugins, generic over their parameters model `P`.

    Subclasses set :attr:`name` and ``Params`` (a subclass of :class:`StrategyParams`,
    the `P` they are parametrised with), and implement :meth:`positions`; optionally
    :meth:`required_series` and :meth:`positions_many` (a vectorised sweep).

    Examples
    --------
    >>> class AlwaysLongParams(StrategyParams):
    ...     fraction: float = 1.0
    >>> class AlwaysLong(Strategy[AlwaysLongParams]):
    ...     '''Always long.'''
    ...     name = "always_long"
    ...     Params = AlwaysLongParams
    ...     def positions(self, data, params):
    ...         return pd.Series(params.fraction, index=data.price.index)
    >>> AlwaysLong().parse({"fraction": 0.5})
    AlwaysLongParams(fraction=0.5)

    A plain subclass with a nested ``Params`` (the form from before ``Strategy`` was
    generic) works the same; its parameters are typed as any ``StrategyParams``:

    >>> class Flat(Strategy):
    ...     name = "flat"
    ...     class Params(StrategyParams):
    ...         pass
    ...     def positions(self, data, params):
    ...         return pd.Series(0.0, index=data.price.index)
    >>> Flat().parse({}).model_dump()
    {}
    """

    name: ClassVar[str]
    #: The parameters model `P`; ``StrategyParams`` (no parameters) unless declared.
    #: Not a ``ClassVar`` only because a ``ClassVar`` cannot hold a type variable.
    Params: type[P] = cast("type[P]", StrategyParams)
    #: When a position set from data up to bar t is filled: "next_close" (default)
    #: or, declared explicitly, "same_close".
    execution: ClassVar[Execution] = "next_close"

    def parse(self, params: Mapping[str, Any] | P) -> P:
        """Validate `params` against :attr:`Params` (an instance of it is returned as is).

        Raises
        ------
        backtest.errors.ConfigError
            Unknown or invalid parameters; the message names the strategy and field.
        """
        if isinstance(params, self.Params):
            return params
        try:
            return self.Params.model_validate(dict(params))
        except ValidationError as exc:
            lines = []
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"])
                msg = "unknown parameter" if err["type"] == "extra_forbidden" else err["msg"]
                lines.append(
                    f"strategy {self.name!r}: params.{loc}: {msg} (got {err.get('input')!r}); "
                    f"parameters: {', '.join(self.Params.model_fields) or 'none'}"
                )
            raise ConfigError("\n".join(lines)) from None

    def required_series(self, params: P, traded: str) -> list[str]:
        """Series the strategy reads besides the traded one (default: none)."""
        return []

    def legs(self, params: P, traded: str) -> list[str]:
        """Series the strategy holds positions in (default: only the traded one).

        A portfolio strategy returns two or more series here (the traded one first,
        by convention) and a DataFrame from :meth:`positions`, one column per leg:
        the target weight of each leg as a fraction of the portfolio's value. The
        engine simulates the legs together with shared cash
        (:func:`backtest.engine.backtest`); the legs are loaded like required series.
        """
        return [traded]

    @abstractmethod
    def positions(self, data: MarketData, params: P) -> pd.Series | pd.DataFrame:
        """Target position per bar of the traded series, from data up to that bar.

        Parameters
        ----------
        data : MarketData
            Levels, the traded series, events.
        params : P
            Validated parameters (:meth:`parse`).

        Returns
        -------
        pandas.Series or pandas.DataFrame
            Float target positions on the traded series' observation dates
            (``data.price.index``): +1 long, -1 short, 0 flat. NaN means flat. A
            portfolio strategy (:meth:`legs`) returns a DataFrame with one column of
            target weights per leg.
        """

    def crossings(self, data: MarketData, params: Sequence[P]) -> Crossing | None:
        """The positions of `params` as one comparison rule (:class:`Crossing`), or None.

        Optional (default None): a strategy whose target is "``a`` when one feature is
        above another, else ``b``" returns its features once here, and the engine's
        sweep kernel builds each parameter set's positions on the fly.
        """
        return None

    def positions_many(self, data: MarketData, params: Sequence[P]) -> pd.DataFrame:
        """Positions for many parameter sets, one column each (override to vectorise).

        A portfolio strategy (:meth:`legs`) returns one column per parameter set and
        leg: a two-level column index ``(position in params, leg)``.
        """
        index = data.price.index
        out = [self.positions(data, p) for p in params]
        if any(isinstance(o, pd.DataFrame) for o in out):
            frames = {
                i: (o if isinstance(o, pd.DataFrame) else o.to_frame(data.series)).reindex(index)
                for i, o in enumerate(out)
            }
            return pd.concat(frames, axis=1)
        return pd.DataFrame(dict(enumerate(out)), index=index)

    @classmethod
    def describe(cls) -> str:
        """First paragraph of the class docstring: the idea behind the strategy."""
        doc = (cls.__doc__ or "").strip()
        return doc.split("\n\n")[0].replace("\n", " ") if doc else ""


# Registry -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Found:
    """A discovered strategy: its class, or the error that kept it from loading."""

    name: str
    source: str
    cls: type[Strategy[Any]] | None
    error: BaseException | None = None


def _builtin_entries() -> dict[str, str]:
    """Built-ins as registered in pyproject.toml; used only where the package metadata is
    absent (running from a source tree that was not installed)."""
    return {
        "buy_and_hold": "strategies.baselines:BuyAndHold",
        "ma_crossover": "strategies.baselines:MACrossover",
        "event_drift": "strategies.event_drift:EventDrift",
        "risk_off_yen": "strategies.risk_off_yen:RiskOffYen",
        "rate_spread": "strategies.rate_spread:RateSpread",
        "fx_carry": "strategies.fx_carry:FxCarry",
        "bond_spread": "strategies.bond_spread:BondSpread",
    }


def _load(target: str) -> type[Strategy[Any]]:
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    cls = getattr(module, attr)
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise TypeError(f"{target} is not a backtest.strategy.Strategy subclass")
    return cls


def discover(*, refresh: bool = False) -> dict[str, _Found]:
    """Find every strategy: built-ins and entry points, each loaded (or its error kept).

    Plugins are looked up and imported once per process; later calls return the same
    entries without importing anything again.

    Parameters
    ----------
    refresh : bool
        Look again: entry points installed since the first call (in a notebook, a test).

    Returns
    -------
    dict
        Name -> found entry (``cls`` set, or ``error`` explaining why not); a new dict
        on each call, so changing it does not change the cache.
    """
    if refresh:
        _discover.cache_clear()
    return dict(_discover())


@functools.cache
def _discover() -> dict[str, _Found]:
    """The lookup :func:`discover` caches."""
    entries = {name: ("built-in", target) for name, target in _builtin_entries().items()}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        entries[ep.name] = (f"entry point {ep.value}", ep.value)
    found: dict[str, _Found] = {}
    for name, (source, target) in sorted(entries.items()):
        try:
            cls = _load(target)
        except Exception as exc:  # a broken plugin must not stop the others
            found[name] = _Found(name, source, None, exc)
        else:
            found[name] = _Found(name, source, cls)
    return found


def get_strategy(name: str) -> Strategy[Any]:
    """Instantiate the strategy registered as `name`.

    An unknown name makes :func:`discover` look again once before it is an error, so a
    plugin installed after the first lookup is found.

    Raises
    ------
    backtest.errors.StrategyError
        Unknown name (with close matches), or the plugin failed to load (its
        original exception is chained).
    """
    found = discover()
    if name not in found:
        found = discover(refresh=True)
    if name not in found:
        close = difflib.get_close_matches(name, list(found), n=3)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise StrategyError(
            f"unknown strategy {name!r}; {hint}installed: {', '.join(found) or 'none'}"
        )
    entry = found[name]
    if entry.cls is None:
        raise StrategyError(
            f"strategy {name!r} ({entry.source}) failed to load: "
            f"{type(entry.error).__name__}: {entry.error}"
        ) from entry.error
    return entry.cls()
