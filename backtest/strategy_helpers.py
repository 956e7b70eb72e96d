"""Helpers for strategy plugins: observation clocks, as-of alignment, day 0, events.

Public: the built-in strategies use them and so may any plugin (``from
backtest.strategy_helpers import asof, day0_bars``).

Nothing here re-implements time-zone logic: clocks come from
:func:`backtest.sessions.clock_of` (provenance of the loaded levels, else the
catalog), alignment from :func:`backtest.sessions.asof_align` and day 0 from
:func:`backtest.sessions.day0_positions`, so a strategy sees the same day 0 as the
event study.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from backtest.errors import DataValidationError, StrategyError
from backtest.sessions import asof_align, clock_of, day0_positions
from backtest.sessions import observation_times as _instants
from backtest.strategy import MarketData

__all__ = [
    "asof",
    "day0_bars",
    "near_events",
    "observation_times",
    "require_columns",
    "selected_events",
]


def require_columns(data: MarketData, names: Iterable[str], strategy: str) -> None:
    """Raise a :class:`~backtest.errors.StrategyError` naming the series `data` lacks.

    Parameters
    ----------
    data : MarketData
        What the strategy was given.
    names : iterable of str
        Series the strategy reads (columns of ``data.levels``).
    strategy : str
        The strategy's name, for the message.

    Raises
    ------
    backtest.errors.StrategyError
        Some of `names` are not columns of ``data.levels``.
    """
    missing = [n for n in names if n not in data.levels.columns]
    if missing:
        raise StrategyError(
            f"strategy {strategy!r} needs series {missing} in data.levels; got "
            f"{list(data.levels.columns)}. Load them with backtest.data.load (the pipeline "
            "adds required_series automatically)"
        )


def observation_times(levels: pd.DataFrame, name: str, dates: pd.DatetimeIndex) -> np.ndarray:
    """UTC instants (int64 ns) at which series `name` is observed on `dates`.

    The clock is the ``timezone``/``obs_time`` provenance that :func:`backtest.data.load`
    attaches to `levels`, else the catalog's default source of `name`.

    Raises
    ------
    backtest.errors.StrategyError
        The clock of `name` is unknown (not loaded through the catalog).
    """
    try:
        return _instants(pd.DatetimeIndex(dates), clock_of(levels, name)).asi8
    except DataValidationError as exc:
        raise StrategyError(str(exc)) from exc


def asof(
    values: pd.Series,
    levels: pd.DataFrame,
    source: str,
    traded: str,
    dates: pd.DatetimeIndex,
) -> np.ndarray:
    """Carry `values` of series `source` onto the traded series' `dates`, as of each bar.

    Parameters
    ----------
    values : pandas.Series
        Values indexed by `source`'s own observation dates (sorted, unique).
    levels : pandas.DataFrame
        Levels with provenance, used only for the observation clocks.
    source, traded : str
        Column names of the signal series and of the traded series.
    dates : pandas.DatetimeIndex
        The traded series' observation dates.

    Returns
    -------
    numpy.ndarray
        ``float64`` of ``len(dates)``: for each bar, the latest value that was
        already observed at the bar; NaN before the first one.

    Notes
    -----
    :func:`backtest.sessions.asof_align` with the two series' clocks: on each bar,
    the latest value observed at or before the bar's observation instant (UTC).
    For clocks whose UTC times of day lie less than a day apart, as all the
    catalog's do, a value dated ``d`` counts from bar ``d`` itself when its
    observation instant is no later than the traded series' on ``d``, and from the
    first bar dated after ``d`` otherwise. With FRED's DEXJPUS (12:00 New York) as
    the traded series, JGB10Y of ``d`` (15:00 Tokyo, the night before in New York)
    is usable on ``d``, while UST10Y (15:30 New York) and VIX (16:15 New York) of
    ``d`` are used from the next bar. Nothing observed after a bar is used, so
    dropping data after a date cannot change the result up to that date.
    """
    if len(values) == 0:
        return np.full(len(dates), np.nan)
    try:
        seen, bar = clock_of(levels, source), clock_of(levels, traded)
    except DataValidationError as exc:
        raise StrategyError(str(exc)) from exc
    aligned = asof_align(values, seen, bar, pd.DatetimeIndex(dates))
    return aligned.to_numpy(dtype="float64")


def day0_bars(data: MarketData, events: pd.DataFrame) -> np.ndarray:
    """Position of each event's day 0 among the traded series' own bars.

    Parameters
    ----------
    data : MarketData
        Levels of the traded series and, optionally, ``data.day0`` from an event study.
    events : pandas.DataFrame
        Canonical events.

    Returns
    -------
    numpy.ndarray
        ``int64`` of ``len(events)``; ``len(data.price)`` where the event has no day 0
        in the data (the series ends before it).

    Notes
    -----
    Where ``data.day0`` has a column for the traded series and a row for the event,
    its date is used (the first bar on or after it; NaT: no day 0). Otherwise day 0
    is computed with the event study's rule (:func:`backtest.sessions.day0_positions`):
    an event with a time maps to the first observation taken strictly after it, a
    date-only event to the first observation dated on or after its local date.
    """
    dates = data.price.index
    n = len(dates)
    if len(events) == 0:
        return np.empty(0, dtype=np.int64)
    timed = bool(events["time_given"].any())
    obs = observation_times(data.levels, data.series, dates) if timed else None
    computed = day0_positions(events, dates, obs)
    if data.day0 is None or data.series not in data.day0.columns:
        return computed
    given = data.day0[data.series]
    known = events["event"].isin(given.index).to_numpy()
    if not known.any():
        return computed
    stamps = pd.DatetimeIndex(given.reindex(events["event"][known]).to_numpy())
    bars = pd.DatetimeIndex(dates).as_unit("ns").asi8
    from_study = np.searchsorted(bars, stamps.as_unit("ns").asi8, side="left").astype(np.int64)
    from_study[stamps.isna()] = n
    out = computed.copy()
    out[known] = from_study
    return out


def selected_events(
    data: MarketData, strategy: str, option: str, categories: list[str] | None, field: str
) -> pd.DataFrame:
    """The events of `categories` (None: all) that strategy option `option` needs.

    Parameters
    ----------
    data : MarketData
        What the strategy was given (``data.events``).
    strategy : str
        The strategy's name, for messages.
    option : str
        The option that needs events (``"avoid_events"``), for messages.
    categories : list of str or None
        Event categories to keep; None keeps all.
    field : str
        The parameter holding `categories`, named in messages as ``params.<field>``.

    Returns
    -------
    pandas.DataFrame
        Canonical events (:func:`backtest.events.select`).

    Raises
    ------
    backtest.errors.StrategyError
        `data` has no events, or a category is unknown (naming ``params.<field>``).
    """
    from backtest import events as events_mod

    if data.events is None:
        raise StrategyError(
            f"strategy {strategy!r}: {option} needs events: pass MarketData(events=...) "
            "(backtest.events.load) or list an events file in the run config"
        )
    try:
        return events_mod.select(data.events, categories=categories)
    except DataValidationError as exc:
        raise StrategyError(f"strategy {strategy!r}: params.{field}: {exc}") from exc


def near_events(data: MarketData, events: pd.DataFrame, before: int, after: int) -> np.ndarray:
    """Bars of the traded series from `before` bars before to `after` bars after day 0.

    Parameters
    ----------
    data : MarketData
        Levels of the traded series (and, optionally, ``data.day0``).
    events : pandas.DataFrame
        Canonical events (already filtered to the ones that matter).
    before, after : int, >= 0
        Bars before day 0 and bars after it; day 0 itself is always included.

    Returns
    -------
    numpy.ndarray
        ``bool`` of ``len(data.price)``: True on a bar within the window of some event.

    Notes
    -----
    *After* day 0 the window counts the traded series' own bars from day 0
    (:func:`day0_bars`: bars ``b0, ..., b0 + after``), which are known once day 0 has
    been observed.

    *Before* day 0 it counts **weekdays** (Monday to Friday): a bar dated ``d`` is in
    the window when day 0 falls on one of the `before` weekdays after ``d``
    (``1 <= numpy.busday_count(d, D) <= before``), where ``D``, the event's day-0 date,
    is found by the same rule as :func:`day0_bars` (the event study's) on the
    weekday calendar rather than on the traded series' bars. A scheduled event's date
    is known in advance, but which future weekdays the series will skip (holidays)
    is not known at the bar: counting the bars themselves would make the position at
    ``d`` depend on data after ``d``. The two counts agree unless a holiday of the
    traded series falls inside the window.
    """
    dates = pd.DatetimeIndex(data.price.index)
    n = len(dates)
    out = np.zeros(n, dtype=bool)
    if len(events) == 0 or n == 0:
        return out
    for b0 in day0_bars(data, events):
        if b0 < n:
            out[b0 : b0 + after + 1] = True
    if before > 0:
        local = pd.DatetimeIndex(events["date"])
        grid = pd.bdate_range(
            local.min() - pd.Timedelta(days=7), local.max() + pd.Timedelta(days=14)
        )
        grid = pd.DatetimeIndex(grid).as_unit("ns")
        timed = bool(events["time_given"].any())
        obs = observation_times(data.levels, data.series, grid) if timed else None
        pos = day0_positions(events, grid, obs)
        day0_dates = grid[pos[pos < len(grid)]].to_numpy().astype("datetime64[D]")
        bars = dates.to_numpy().astype("datetime64[D]")
        for d0 in np.unique(day0_dates):
            ahead = np.busday_count(bars, d0)
            out |= (ahead >= 1) & (ahead <= before)
    return out
