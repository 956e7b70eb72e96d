"""The strategy contract, for plugin authors: :func:`check_strategy` and :class:`StrategyContract`.

Every built-in strategy passes these checks, and so must a plugin:

* **declaration**: a ``name`` that is an identifier, a ``Params`` model of its own
  (a :class:`~backtest.strategy.StrategyParams` subclass, the generic argument of
  ``Strategy[...]`` if one is given), a docstring whose first paragraph states the idea
  and that has a ``Parameters`` section, a valid ``execution``; registered under its
  name in the ``backtest.strategies`` entry-point group;
* **parameters**: the defaults parse, an unknown parameter is a
  :class:`~backtest.errors.ConfigError` naming ``params.<key>`` and the strategy, each
  parameter set parses to itself;
* **output**: positions on the traded series' own dates, ``float64``, finite, within
  ``[-1, 1]`` (a portfolio: one column per leg);
* **no look-ahead**: positions up to a date do not change when the data after it are
  dropped, at a list of dates (COVID, the April 2025 tariffs, ...) and at every 60th bar;
* **consistency**: :meth:`~backtest.strategy.Strategy.positions_many` equals one
  :meth:`~backtest.strategy.Strategy.positions` call per parameter set; two calls give
  the same positions and leave the data unchanged.

Two ways to run them. In a notebook or a script, :func:`check_strategy` runs them all
and raises :class:`AssertionError` (a check failed) or the strategy's own error. In a
test suite, subclass :class:`StrategyContract` as ``TestMyStrategy``: pytest then
reports each check (and each parameter set and date) as its own test.

The default data are real: the bundled snapshot (``offline=True``) from 2019 to 2025
for the traded series and every series the parameter sets require, and the tariff,
FOMC and BoJ calendars shipped with backtest. No check compares a strategy with
numbers from outside: each one compares the strategy with itself under a change that
must not matter, or checks declarations and bounds.

Examples
--------
>>> from backtest.testing import check_strategy
>>> from strategies.baselines import BuyAndHold
>>> check_strategy(BuyAndHold, params=[{}])  # doctest: +SKIP
"""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from backtest.errors import ConfigError, DataValidationError, StrategyError
from backtest.paramsets import grid_plan
from backtest.space import Grid, parse_space
from backtest.strategy import ENTRY_POINT_GROUP, MarketData, Strategy, StrategyParams, get_strategy

if TYPE_CHECKING:
    import pytest

__all__ = [
    "CUTS",
    "EVENT_FILES",
    "SWEEP_CHECKED",
    "StrategyContract",
    "assert_same",
    "bundled_events",
    "check_declaration",
    "check_deterministic",
    "check_no_look_ahead",
    "check_params",
    "check_positions",
    "check_positions_many",
    "check_registered",
    "check_strategy",
    "check_sweep_params",
    "contract_data",
    "snapshot_levels",
]

#: Event calendars shipped with backtest that the checks give every strategy.
EVENT_FILES = ("tariffs_2025.csv", "fomc_2024_2025.csv", "boj_2024_2025.csv")
#: Period of the bundled snapshot the checks load.
START, END = "2019-01-01", "2025-12-31"
#: Dates at which the no-look-ahead check truncates the data (those inside the data).
CUTS = (
    "2019-03-29",  # early: most rolling windows are still empty
    "2020-03-16",  # COVID stress: VIX spike
    "2022-10-21",  # intervention day in USD/JPY
    "2024-08-05",  # carry unwind
    "2025-04-02",  # Liberation Day, announced after the New York close
    "2025-04-03",  # its day 0
    "2025-04-09",  # 90-day pause
    "2025-12-30",  # one bar before the end
)
#: Every how many bars of the traded series the sweeping look-ahead check cuts.
EVERY = 60

Positions: typing.TypeAlias = "pd.Series | pd.DataFrame"


# Data -----------------------------------------------------------------------------------------


@cache
def snapshot_levels(names: tuple[str, ...]) -> pd.DataFrame:
    """Levels of `names` from the bundled snapshot, 2019-2025 (loaded once per name set).

    Parameters
    ----------
    names : tuple of str
        Catalog names.

    Returns
    -------
    pandas.DataFrame
        :func:`backtest.data.load` with ``offline=True``; shared between calls, so
        never change it in place.
    """
    from backtest import data as data_mod

    return data_mod.load(list(names), start=START, end=END, offline=True)


def _events_dir() -> Path | None:
    here = Path(__file__).resolve().parent  # .../backtest
    for candidate in (here / "_events", here.parent / "data" / "events"):
        if all((candidate / name).is_file() for name in EVENT_FILES):
            return candidate
    return None


@cache
def bundled_events() -> pd.DataFrame | None:
    """The tariff, FOMC and BoJ calendars in one canonical frame, sorted by time.

    Returns
    -------
    pandas.DataFrame or None
        Canonical events (:func:`backtest.events.from_frame`); None when the calendars
        are not found (``backtest/_events`` of an installed wheel, or ``data/events``
        of a source tree). Shared between calls, so never change it in place.
    """
    from backtest import events as events_mod

    folder = _events_dir()
    if folder is None:
        return None
    frames = [events_mod.load(folder / name) for name in EVENT_FILES]
    merged = pd.concat(frames, ignore_index=True).sort_values("timestamp", kind="stable")
    return events_mod.from_frame(merged.reset_index(drop=True))


def contract_data(
    strategy: Strategy[Any],
    params: Sequence[Mapping[str, Any]],
    series: str,
    levels: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
) -> MarketData:
    """The market data the checks run on.

    Parameters
    ----------
    strategy : Strategy
        The strategy (an instance), to ask for its legs and required series.
    params : sequence of mapping
        Parameter sets; every series any of them needs is loaded.
    series : str
        The traded series (a column of `levels`, or a catalog name).
    levels : pandas.DataFrame, optional
        Levels to use (:func:`backtest.data.load`); default: the bundled snapshot,
        2019-2025, of `series` and every series the parameter sets need.
    events : pandas.DataFrame, optional
        Canonical events; default: :func:`bundled_events`.

    Returns
    -------
    MarketData

    Raises
    ------
    backtest.errors.DataValidationError
        `levels` lacks `series` or a series a parameter set needs.
    """
    names = [series]
    for p in params:
        parsed = strategy.parse(p)
        for name in [*strategy.legs(parsed, series), *strategy.required_series(parsed, series)]:
            if name not in names:
                names.append(name)
    if levels is None:
        levels = snapshot_levels(tuple(names))
    else:
        missing = [n for n in names if n not in levels.columns]
        if missing:
            raise DataValidationError(
                f"levels: missing series {missing} (the traded series and those the "
                f"parameter sets need); got columns {list(levels.columns)}; load them with "
                "backtest.data.load or leave levels=None for the bundled snapshot"
            )
    return MarketData(
        levels=levels, series=series, events=bundled_events() if events is None else events
    )


# Checks ---------------------------------------------------------------------------------------


def assert_same(left: Positions, right: Positions, **kw: Any) -> None:
    """Exact equality of two positions: Series (one leg) or DataFrames (a portfolio).

    Parameters
    ----------
    left, right : pandas.Series or pandas.DataFrame
        Positions to compare.
    **kw
        Passed to :func:`pandas.testing.assert_series_equal` (or ``_frame_``).

    Raises
    ------
    AssertionError
        They differ (in type, index or any value).
    """
    if isinstance(left, pd.DataFrame):
        _ensure(
            isinstance(right, pd.DataFrame), f"expected a DataFrame, got {type(right).__name__}"
        )
        pd.testing.assert_frame_equal(left, right, check_exact=True, **kw)
    else:
        _ensure(isinstance(right, pd.Series), f"expected a Series, got {type(right).__name__}")
        pd.testing.assert_series_equal(left, right, check_exact=True, **kw)


def _ensure(condition: object, message: str) -> None:
    """Raise AssertionError(`message`) unless `condition` (kept under ``python -O``)."""
    if not condition:
        raise AssertionError(message)


def _label(params: Mapping[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in params.items()) or "defaults"


def check_declaration(cls: type[Strategy[Any]]) -> None:
    """Name, ``Params``, docstring and ``execution`` of strategy class `cls`.

    Raises
    ------
    AssertionError
        A declaration is missing or wrong; the message says which and how to fix it.
    """
    who = getattr(cls, "name", cls.__name__)
    _ensure(
        isinstance(getattr(cls, "name", None), str) and cls.name.isidentifier(),
        f"{cls.__name__}: set name = '<identifier>' (got {getattr(cls, 'name', None)!r})",
    )
    _ensure(
        isinstance(cls.Params, type) and issubclass(cls.Params, StrategyParams),
        f"strategy {who!r}: Params must subclass backtest.strategy.StrategyParams",
    )
    _ensure(
        cls.Params is not StrategyParams,
        f"strategy {who!r}: declare Params (a StrategyParams subclass), even if empty",
    )
    _ensure(
        cls.describe(),
        f"strategy {who!r}: the class docstring's first paragraph must state the idea",
    )
    _ensure(
        "Parameters\n" in (cls.__doc__ or ""),
        f"strategy {who!r}: the class docstring needs a numpydoc 'Parameters' section "
        "describing each field of Params",
    )
    _ensure(
        cls.execution in ("next_close", "same_close"),
        f"strategy {who!r}: execution must be 'next_close' or 'same_close', got {cls.execution!r}",
    )
    # class Foo(Strategy[FooParams]) must also say Params = FooParams (a plain Strategy
    # subclass, the older form, has no argument to check).
    for base in vars(cls).get("__orig_bases__", ()):
        if typing.get_origin(base) is Strategy:
            (arg,) = typing.get_args(base)
            _ensure(
                cls.Params is arg,
                f"strategy {who!r}: Params is {cls.Params.__name__} but the class is "
                f"Strategy[{getattr(arg, '__name__', arg)}]; set Params = "
                f"{getattr(arg, '__name__', arg)}",
            )


def check_registered(cls: type[Strategy[Any]]) -> None:
    """`cls` is what the registry returns under its name.

    Raises
    ------
    AssertionError
        Another class (or none) is registered under ``cls.name``.
    """
    try:
        found = type(get_strategy(cls.name))
    except StrategyError as exc:
        raise AssertionError(
            f"strategy {cls.name!r} is not registered under the entry-point group "
            f"{ENTRY_POINT_GROUP!r} ({exc}); install its package (pip install -e .) or "
            "pass registered=False while developing"
        ) from exc
    _ensure(
        found is cls,
        f"strategy {cls.name!r}: the registry returns {found.__module__}.{found.__qualname__}, "
        f"not {cls.__module__}.{cls.__qualname__}; two packages register the same name",
    )


def check_params(strategy: Strategy[Any], params: Sequence[Mapping[str, Any]]) -> None:
    """Defaults parse, an unknown key is refused, each set in `params` parses to itself.

    Raises
    ------
    AssertionError
        A check failed.
    backtest.errors.ConfigError
        A parameter set in `params` is invalid.
    """
    name = strategy.name
    _ensure(
        isinstance(strategy.parse({}), strategy.Params),
        f"strategy {name!r}: parse({{}}) must return its Params (give every field a default)",
    )
    first = dict(params[0]) if params else {}
    try:
        strategy.parse({**first, "no_such_knob": 1})
    except ConfigError as exc:
        text = str(exc)
        _ensure(
            "params.no_such_knob: unknown parameter" in text and name in text,
            f"strategy {name!r}: an unknown parameter must be refused naming "
            f"'params.no_such_knob: unknown parameter' and the strategy; got {text!r}",
        )
    else:
        raise AssertionError(
            f"strategy {name!r}: an unknown parameter was accepted; Params must be a "
            "StrategyParams subclass (extra='forbid')"
        )
    for param_set in params:
        parsed = strategy.parse(param_set)
        _ensure(
            strategy.parse(parsed) is parsed,
            f"strategy {name!r}: parse(Params instance) must return it unchanged",
        )
        for key, value in param_set.items():
            _ensure(
                getattr(parsed, key) == value,
                f"strategy {name!r}: params.{key}: {value!r} parsed to {getattr(parsed, key)!r}",
            )


def check_positions(strategy: Strategy[Any], data: MarketData, params: Mapping[str, Any]) -> None:
    """Positions on the traded series' own dates, ``float64``, finite, within [-1, 1].

    Raises
    ------
    AssertionError
        A check failed; the message names the parameter set.
    """
    parsed = strategy.parse(params)
    pos = strategy.positions(data, parsed)
    legs = strategy.legs(parsed, data.series)
    where = f"strategy {strategy.name!r} ({_label(params)})"
    if len(legs) > 1:  # a portfolio: one column of weights per leg
        _ensure(
            isinstance(pos, pd.DataFrame),
            f"{where}: a portfolio of legs {legs} returns a DataFrame, one column per leg",
        )
        _ensure(pos.columns.tolist() == legs, f"{where}: columns {pos.columns.tolist()} != {legs}")
        _ensure((pos.dtypes == np.float64).all(), f"{where}: positions must be float64")
    else:
        _ensure(
            isinstance(pos, pd.Series),
            f"{where}: positions must be a pandas Series, got {type(pos).__name__}",
        )
        _ensure(pos.dtype == np.float64, f"{where}: positions must be float64, got {pos.dtype}")
    if not pos.index.equals(data.price.index):
        raise AssertionError(
            f"{where}: positions must be indexed by data.price.index (the traded series' "
            f"own {len(data.price)} dates); got {len(pos)} dates"
        )
    values = pos.to_numpy()
    bad = ~np.isfinite(values)
    _ensure(not bad.any(), f"{where}: {int(bad.sum())} positions are NaN or infinite; use 0 (flat)")
    out = (values < -1.0) | (values > 1.0)
    if out.any():
        raise AssertionError(
            f"{where}: {int(out.sum())} positions outside [-1, 1] (max |position| "
            f"{np.abs(values[out]).max():g}); scale them into [-1, 1]"
        )


def _first_difference(short: Positions, full: Positions) -> str:
    left = short.to_numpy().reshape(len(short), -1)
    right = full.to_numpy().reshape(len(full), -1)
    if left.shape != right.shape or not short.index.equals(full.index):
        return f"{len(short)} bars without the later data, {len(full)} with them"
    same = (left == right) | (np.isnan(left) & np.isnan(right))
    row = int(np.flatnonzero(~same.all(axis=1))[0])
    return (
        f"first at {short.index[row]:%Y-%m-%d}: {left[row].tolist()} without the later "
        f"data, {right[row].tolist()} with them"
    )


def check_no_look_ahead(
    strategy: Strategy[Any],
    data: MarketData,
    params: Mapping[str, Any],
    cuts: Sequence[str | pd.Timestamp],
) -> None:
    """Positions up to each date in `cuts` do not change when later data are dropped.

    Parameters
    ----------
    strategy : Strategy
        The strategy (an instance).
    data : MarketData
        All the data; truncated copies are made from it.
    params : mapping
        One parameter set.
    cuts : sequence of date
        Where to truncate (:meth:`backtest.strategy.MarketData.truncated`); each must
        leave at least one bar of the traded series.

    Raises
    ------
    AssertionError
        Positions up to a cut depend on data after it; the message names the date, the
        parameter set and the first bar that differs.
    """
    parsed = strategy.parse(params)
    full = strategy.positions(data, parsed)
    for cut in cuts:
        end = pd.Timestamp(cut)
        short = strategy.positions(data.truncated(end), parsed)
        _ensure(
            len(short) > 0 and short.index[-1] <= end,
            f"strategy {strategy.name!r}: with data up to {end:%Y-%m-%d}, positions must "
            f"end on or before it (got {len(short)} bars)",
        )
        expected = full.loc[:end]
        try:
            assert_same(short, expected, obj=f"positions up to {end:%Y-%m-%d}")
        except AssertionError as exc:
            raise AssertionError(
                f"strategy {strategy.name!r} ({_label(params)}) looks ahead: positions up "
                f"to {end:%Y-%m-%d} change when the data after it are dropped; "
                f"{_first_difference(short, expected)}. Use only data observed up to each "
                "bar (backtest.strategy_helpers.asof for other series)"
            ) from exc


def check_positions_many(
    strategy: Strategy[Any], data: MarketData, params: Sequence[Mapping[str, Any]]
) -> None:
    """:meth:`~backtest.strategy.Strategy.positions_many` equals one call per set.

    Raises
    ------
    AssertionError
        The batch differs from the single calls (shape, columns or values).
    """
    parsed = [strategy.parse(p) for p in params]
    many = strategy.positions_many(data, parsed)
    where = f"strategy {strategy.name!r}: positions_many"
    _ensure(isinstance(many, pd.DataFrame), f"{where} must return a DataFrame")
    _ensure(many.index.equals(data.price.index), f"{where}: index must be data.price.index")
    legs = [strategy.legs(p, data.series) for p in parsed]
    if max(len(x) for x in legs) > 1:  # columns (parameter set, leg)
        expected = [(i, leg) for i, x in enumerate(legs) for leg in x]
        _ensure(many.columns.tolist() == expected, f"{where}: columns must be {expected}")
        for i, p in enumerate(parsed):
            one = strategy.positions(data, p)
            np.testing.assert_array_equal(
                many[i].to_numpy(), one.to_numpy(), err_msg=f"{where} != positions ({p})"
            )
        return
    _ensure(
        many.shape == (len(data.price), len(parsed)),
        f"{where}: shape {many.shape}, expected {(len(data.price), len(parsed))}",
    )
    for i, p in enumerate(parsed):
        one = strategy.positions(data, p)
        np.testing.assert_array_equal(
            many.iloc[:, i].to_numpy(), one.to_numpy(), err_msg=f"{where} != positions ({p})"
        )


def check_deterministic(
    strategy: Strategy[Any], data: MarketData, params: Mapping[str, Any]
) -> None:
    """Two calls (one on a new instance) agree, and `data` is left unchanged.

    Raises
    ------
    AssertionError
        The calls differ, or the strategy changed ``data.levels`` or ``data.events``.
    """
    levels = data.levels.copy(deep=True)
    events = None if data.events is None else data.events.copy(deep=True)
    parsed = strategy.parse(params)
    first = strategy.positions(data, parsed)
    second = type(strategy)().positions(data, parsed)
    assert_same(first, second, obj=f"strategy {strategy.name!r}: two calls")
    pd.testing.assert_frame_equal(
        data.levels, levels, check_exact=True, obj="data.levels (a strategy must not change it)"
    )
    if events is not None:
        _ensure(data.events is not None, "check failed")
        pd.testing.assert_frame_equal(
            data.events, events, check_exact=True, obj="data.events (a strategy must not change it)"
        )


#: Most combinations :func:`check_sweep_params` compares one by one.
SWEEP_CHECKED = 5_000


def check_sweep_params(strategy: Strategy[Any], params: Sequence[Mapping[str, Any]]) -> None:
    """A sweep over the values in `params` sees each combination as ``parse`` does.

    The grid of every value each parameter takes in `params` (their product) is what a
    sweep would run; where the sweep handles it in bulk
    (:class:`backtest.paramsets.GridPlan`: the model's ``valid_many`` for the rules
    between parameters, objects made without validating again), each combination (up to
    :data:`SWEEP_CHECKED`) must be valid exactly when ``strategy.parse`` accepts it, and
    then give the same object (values, their types, set fields) and the same table row
    (``model_dump(mode="json")``).

    Raises
    ------
    AssertionError
        A combination decided, built or tabulated otherwise than by ``parse``.
    """
    name = strategy.name
    values: dict[str, dict[str, Any]] = {}
    for p in params:
        parsed = strategy.parse(p)
        for key in p:
            value = getattr(parsed, key)
            values.setdefault(key, {}).setdefault(repr(value), value)
    grid = parse_space(strategy.Params, {k: list(v.values()) for k, v in values.items()})
    assert isinstance(grid, Grid)
    plan = grid_plan(strategy.Params, grid)
    if plan is None:  # validated one combination at a time: parse itself
        return
    positions = np.arange(min(grid.size, SWEEP_CHECKED), dtype=np.int64)
    valid = plan.valid(positions)
    kept = positions[valid]
    built = iter(plan.build(kept))
    table = pd.DataFrame(plan.table(kept), index=pd.RangeIndex(len(kept)))
    row = 0
    for i in positions:
        combo = grid[int(i)]
        try:
            expected = strategy.parse(combo)
        except ConfigError:
            _ensure(
                not valid[i],
                f"strategy {name!r}: Params.valid_many accepts {combo}, which parse refuses",
            )
            continue
        _ensure(
            bool(valid[i]),
            f"strategy {name!r}: Params.valid_many refuses {combo}, which parse accepts",
        )
        got = next(built)
        same = repr(got) == repr(expected) and [type(v) for v in got.__dict__.values()] == [
            type(v) for v in expected.__dict__.values()
        ]
        _ensure(
            same and got.model_fields_set == expected.model_fields_set,
            f"strategy {name!r}: the sweep builds {got!r} for {combo}, parse gives {expected!r}",
        )
        dumped = expected.model_dump(mode="json")
        cells = table.iloc[row].to_dict()
        _ensure(
            list(cells) == list(dumped) and all(_same_cell(cells[k], v) for k, v in dumped.items()),
            f"strategy {name!r}: the sweep's table row for {combo} is {cells}, "
            f"model_dump gives {dumped}",
        )
        row += 1


def _same_cell(cell: Any, value: Any) -> bool:
    """A table cell holds `value` (a float NaN column holds None as NaN)."""
    if value is None:
        return cell is None or (isinstance(cell, float) and cell != cell)
    if isinstance(value, float) and value != value:
        return isinstance(cell, float) and cell != cell
    return bool(cell == value) if not isinstance(value, list) else list(cell) == value


def _cuts_within(data: MarketData, cuts: Sequence[str | pd.Timestamp]) -> list[pd.Timestamp]:
    index = data.price.index
    if len(index) == 0:
        return []
    return [pd.Timestamp(c) for c in cuts if index[0] <= pd.Timestamp(c) < index[-1]]


def check_strategy(
    cls: type[Strategy[Any]],
    levels: pd.DataFrame | None = None,
    params: Sequence[Mapping[str, Any]] | None = None,
    *,
    series: str = "USDJPY",
    events: pd.DataFrame | None = None,
    cuts: Sequence[str | pd.Timestamp] | None = None,
    registered: bool = True,
) -> None:
    """Run every contract check the built-in strategies pass on strategy class `cls`.

    Parameters
    ----------
    cls : type
        A :class:`~backtest.strategy.Strategy` subclass.
    levels : pandas.DataFrame, optional
        Levels (:func:`backtest.data.load`) holding `series` and every series the
        parameter sets need; default: the bundled snapshot, 2019-2025.
    params : sequence of mapping, optional
        Parameter sets to check (default: the defaults only, ``[{}]``). Give a few that
        exercise each option.
    series : str
        The traded series (default ``"USDJPY"``).
    events : pandas.DataFrame, optional
        Canonical events (default: the tariff, FOMC and BoJ calendars shipped with
        backtest).
    cuts : sequence of date, optional
        Dates for the no-look-ahead check (default :data:`CUTS`); those outside the
        traded series' dates are skipped. The check also cuts at every 60th bar.
    registered : bool
        Also check that ``backtest.strategy.get_strategy(cls.name)`` returns `cls`
        (true of an installed plugin); pass False while developing it in a notebook.

    Raises
    ------
    AssertionError
        A check failed; the message names the strategy, the check, the parameter set
        (and for look-ahead the date and the first bar that differs) and the fix.
    backtest.errors.ConfigError
        A parameter set in `params` is invalid.
    backtest.errors.StrategyError
        The strategy refused the data (a missing series, no events).
    backtest.errors.DataValidationError
        `levels` lacks a series the checks need.

    Notes
    -----
    The checks: :func:`check_declaration`, :func:`check_registered`,
    :func:`check_params`, then for each parameter set :func:`check_positions`,
    :func:`check_no_look_ahead` (at `cuts` and at every 60th bar) and
    :func:`check_deterministic`, and :func:`check_positions_many` and
    :func:`check_sweep_params` on all of them.
    :class:`StrategyContract` runs the same functions as separate pytest tests.
    """
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise TypeError(f"check_strategy expects a Strategy subclass, got {cls!r}")
    param_sets = [dict(p) for p in (params if params is not None else [{}])]
    if not param_sets:
        raise ValueError("params: give at least one parameter set (e.g. [{}] for the defaults)")
    check_declaration(cls)
    if registered:
        check_registered(cls)
    strategy = cls()
    check_params(strategy, param_sets)
    data = contract_data(strategy, param_sets, series, levels, events)
    fixed = _cuts_within(data, CUTS if cuts is None else cuts)
    sweep = list(data.price.index[::EVERY])
    for p in param_sets:
        check_positions(strategy, data, p)
        check_no_look_ahead(strategy, data, p, [*fixed, *sweep])
        check_deterministic(strategy, data, p)
    check_positions_many(strategy, data, param_sets)
    check_sweep_params(strategy, param_sets)


# The same checks as a pytest class --------------------------------------------------------


class StrategyContract:
    """The contract as pytest tests: subclass it as ``TestMyStrategy`` in a test module.

    Set the class attributes :attr:`strategy_cls` (required), :attr:`params`,
    :attr:`series` and :attr:`cuts`; pytest then runs each check of
    :func:`check_strategy` as its own test, per parameter set and cut date. pytest is
    needed only to run them, not to import this module.

    Examples
    --------
    >>> from backtest.testing import StrategyContract
    >>> from strategies.baselines import MACrossover
    >>> class TestMACrossover(StrategyContract):
    ...     strategy_cls = MACrossover
    ...     params = ({"fast": 5, "slow": 20}, {"fast": 20, "slow": 50})
    """

    #: The strategy class under test.
    strategy_cls: ClassVar[type[Strategy[Any]]]
    #: A few parameter mappings to run the checks with (each parsed by the strategy).
    params: ClassVar[Sequence[Mapping[str, Any]]] = ({},)
    #: The traded series (catalog name).
    series: ClassVar[str] = "USDJPY"
    #: Dates at which the no-look-ahead check truncates the data.
    cuts: ClassVar[Sequence[str]] = CUTS

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Parametrise ``param_set`` over :attr:`params` and ``cut`` over :attr:`cuts`."""
        if "param_set" in metafunc.fixturenames:
            metafunc.parametrize(
                "param_set", list(self.params), ids=[_label(p) for p in self.params]
            )
        if "cut" in metafunc.fixturenames:
            metafunc.parametrize("cut", list(self.cuts))

    def strategy(self) -> Strategy[Any]:
        """A new instance of the strategy under test."""
        return self.strategy_cls()

    def market_data(self) -> MarketData:
        """Real data: the traded series, every required series, and three calendars."""
        return contract_data(self.strategy(), list(self.params), self.series)

    # Declaration ----------------------------------------------------------------------

    def test_declares_name_params_and_docstring(self) -> None:
        check_declaration(self.strategy_cls)

    def test_registered_under_its_name(self) -> None:
        check_registered(self.strategy_cls)

    def test_parameters(self) -> None:
        check_params(self.strategy(), list(self.params))

    # Output ---------------------------------------------------------------------------

    def test_positions_on_own_dates_finite_within_bounds(
        self, param_set: Mapping[str, Any]
    ) -> None:
        check_positions(self.strategy(), self.market_data(), param_set)

    def test_no_look_ahead(self, param_set: Mapping[str, Any], cut: str) -> None:
        """Positions up to `cut` do not change when the data after `cut` are dropped."""
        check_no_look_ahead(self.strategy(), self.market_data(), param_set, [cut])

    def test_no_look_ahead_every_quarter(self, param_set: Mapping[str, Any]) -> None:
        """The same check at every 60th bar (about quarterly) of the traded series."""
        data = self.market_data()
        check_no_look_ahead(self.strategy(), data, param_set, list(data.price.index[::EVERY]))

    def test_positions_many_equals_positions(self) -> None:
        check_positions_many(self.strategy(), self.market_data(), list(self.params))

    def test_sweep_sees_each_combination_as_parse_does(self) -> None:
        check_sweep_params(self.strategy(), list(self.params))

    def test_deterministic_and_leaves_data_alone(self, param_set: Mapping[str, Any]) -> None:
        check_deterministic(self.strategy(), self.market_data(), param_set)
