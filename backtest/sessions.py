"""Session-aware time: the project's central rule in one place.

Every series is observed once per trading day at its own clock, a wall-clock time in
its own time zone (the catalog's ``obs_time`` and ``timezone``, recorded in the
provenance of loaded levels and in a run's ``results.json``). This module turns those
clocks into instants and applies the one rule built on them:

* :func:`observation_times`: the UTC instants at which a series' values were observed;
* :func:`clock_of`: the clock of a column of loaded levels;
* :func:`day0_positions` and :func:`day0`: day 0 of an event in a series is its first
  observation taken *strictly after* the event instant; a date-only event counts as
  happening during that date's session in its own time zone;
* :func:`asof_align`: one series carried onto another's clock, using on each day only
  what had been observed by then;
* :func:`asof_changes`: the change of one series between another's consecutive
  observation instants (a market model's regressor on the studied series' clock).

The day-0 functions take a ``guard`` in minutes (the near-close guard): a timed event
whose first later observation is taken within ``guard`` minutes of it takes the next
observation as day 0 (the market had no time to absorb it).

The event study, the strategies and the report all use these functions, so they see
the same day 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import NamedTuple, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from backtest.data.catalog import builtin_catalog
from backtest.errors import DataValidationError

__all__ = [
    "Clock",
    "ClockLike",
    "asof_align",
    "asof_changes",
    "clock_of",
    "day0",
    "day0_from_arrays",
    "day0_positions",
    "event_arrays",
    "observation_times",
]


class Clock(NamedTuple):
    """When a series is observed on each of its dates.

    Parameters
    ----------
    timezone : str
        IANA time zone name, e.g. ``"Asia/Tokyo"``.
    obs_time : datetime.time
        Local wall-clock time of the observation, e.g. ``15:00`` for a Tokyo close.

    Examples
    --------
    >>> Clock.parse(("America/New_York", "12:00"))
    Clock(timezone='America/New_York', obs_time=datetime.time(12, 0))
    """

    timezone: str
    obs_time: dt.time

    @classmethod
    def parse(cls, clock: ClockLike) -> Clock:
        """A :class:`Clock` from a ``(timezone, "HH:MM")`` pair or a Clock.

        Raises
        ------
        backtest.errors.DataValidationError
            Unknown time zone, or a time that is not ``HH:MM[:SS]``.
        """
        if isinstance(clock, Clock):
            return clock
        try:
            zone, when = clock
        except (TypeError, ValueError):
            raise DataValidationError(
                f"a clock is (timezone, 'HH:MM'), e.g. ('America/New_York', '16:00'); got {clock!r}"
            ) from None
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise DataValidationError(
                f"unknown time zone {zone!r}; expected an IANA name like 'America/New_York'"
            ) from None
        if isinstance(when, dt.time):
            return cls(str(zone), when)
        try:
            return cls(str(zone), dt.time.fromisoformat(str(when)))
        except ValueError:
            raise DataValidationError(
                f"observation time must be 'HH:MM' or 'HH:MM:SS'; got {when!r}"
            ) from None


ClockLike: TypeAlias = Clock | tuple[str, str | dt.time]
"""A :class:`Clock` or a ``(timezone, "HH:MM")`` pair."""


def observation_times(dates: pd.DatetimeIndex, clock: ClockLike) -> pd.DatetimeIndex:
    """Return the UTC instants at which the values dated `dates` were observed.

    Parameters
    ----------
    dates : pandas.DatetimeIndex
        Observation dates (tz-naive; any time of day is dropped).
    clock : Clock or tuple of (str, str)
        The series' clock, e.g. ``("America/New_York", "16:00")``.

    Returns
    -------
    pandas.DatetimeIndex
        tz-aware UTC, nanosecond unit: ``date + obs_time`` localised in the clock's
        zone with that date's UTC offset (daylight saving applied per date).

    Notes
    -----
    A local time that does not exist (skipped by a spring-forward change) is moved
    forward to the first existing instant; an ambiguous one (repeated in the autumn)
    raises, as no catalog clock falls in that hour.

    Examples
    --------
    >>> times = observation_times(pd.DatetimeIndex(["2025-01-06", "2025-04-07"]),
    ...                           ("America/New_York", "12:00"))
    >>> [t.isoformat() for t in times]  # EST, then EDT
    ['2025-01-06T17:00:00+00:00', '2025-04-07T16:00:00+00:00']
    """
    zone, when = Clock.parse(clock)
    offset = pd.Timedelta(hours=when.hour, minutes=when.minute, seconds=when.second)
    index = pd.DatetimeIndex(dates)
    if index.tz is None:  # midnight by flooring to days: normalize() also infers a freq
        days = index.values.astype("datetime64[D]").astype("datetime64[ns]")
        wall = pd.DatetimeIndex(days + offset.to_timedelta64())
    else:
        wall = index.normalize() + offset
    local = wall.tz_localize(zone, ambiguous="raise", nonexistent="shift_forward")
    return local.tz_convert("UTC").as_unit("ns")


def clock_of(
    levels: pd.DataFrame, name: str, clocks: Mapping[str, ClockLike] | None = None
) -> Clock:
    """Return the observation clock of column `name` of `levels`.

    Parameters
    ----------
    levels : pandas.DataFrame
        Levels, as returned by :func:`backtest.data.load` (whose provenance,
        ``levels.attrs["backtest"]["series"][name]``, records each clock).
    name : str
        Column of `levels`.
    clocks : mapping, optional
        ``{column: (timezone, "HH:MM")}``; takes precedence over the provenance.

    Returns
    -------
    Clock
        From `clocks`, else the provenance's ``timezone``/``obs_time``, else the
        default source of `name` in the built-in catalog.

    Raises
    ------
    backtest.errors.DataValidationError
        None of the three knows `name`.
    """
    if clocks and name in clocks:
        return Clock.parse(clocks[name])
    prov = levels.attrs.get("backtest", {}).get("series", {}).get(name, {})
    if "timezone" in prov and "obs_time" in prov:
        return Clock.parse((prov["timezone"], prov["obs_time"]))
    try:
        spec = builtin_catalog()[name].default
    except KeyError:
        raise DataValidationError(
            f"observation clock of column {name!r} is unknown; load it with "
            "backtest.data.load or pass clocks={name: ('America/New_York', '16:00')}"
        ) from None
    return Clock(spec.timezone, spec.obs_time)


def event_arrays(events: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The arrays :func:`day0_from_arrays` reads from canonical events.

    Parameters
    ----------
    events : pandas.DataFrame
        Canonical events (:func:`backtest.events.from_frame`).

    Returns
    -------
    local : numpy.ndarray
        ``(E,)`` int64 ns local dates (midnight, naive).
    timed : numpy.ndarray
        ``(E,)`` bool: the event has a time of day.
    instants : numpy.ndarray or None
        ``(E,)`` int64 ns UTC instants; None when no event is timed.
    """
    local = events["date"].to_numpy(dtype="datetime64[ns]").astype("int64")
    timed = events["time_given"].to_numpy(dtype=bool)
    instants = (
        pd.DatetimeIndex(events["timestamp"]).tz_convert("UTC").as_unit("ns").asi8
        if timed.any()
        else None
    )
    return local, timed, instants


def day0_positions(
    events: pd.DataFrame,
    dates: pd.DatetimeIndex,
    obs_times_ns: np.ndarray | None,
    *,
    guard: int = 0,
) -> np.ndarray:
    """Position of day 0 of each event in a series' own observations.

    Parameters
    ----------
    events : pandas.DataFrame
        Canonical events (:func:`backtest.events.from_frame`).
    dates : pandas.DatetimeIndex
        The series' observation dates (sorted, unique).
    obs_times_ns : numpy.ndarray or None
        UTC instants (int64 ns) at which those observations were taken
        (``observation_times(dates, clock).asi8``); may be ``None`` when every
        event is date-only.
    guard : int
        Near-close guard in minutes (default 0: no guard). A timed event whose first
        strictly-later observation is taken at most `guard` minutes after it takes
        the next observation as day 0.

    Returns
    -------
    numpy.ndarray
        ``(E,)`` int64 positions; ``len(dates)`` where the series has no
        observation after the event.

    Raises
    ------
    backtest.errors.DataValidationError
        An event has a time but `obs_times_ns` is None.

    Notes
    -----
    An event with a time is matched to the first observation taken *strictly after*
    it (with a `guard`: the first taken more than `guard` minutes after it). An event
    with a date only counts as happening during that date's session in its time zone:
    day 0 is the first observation dated on or after that date (the guard does not
    apply).
    """
    local, timed, instants = event_arrays(events)
    if instants is not None and obs_times_ns is None:
        raise DataValidationError("day0_positions: timed events need observation times")
    dates_ns = dates.values.astype("datetime64[ns]").astype("int64")
    return day0_from_arrays(local, timed, instants, dates_ns, obs_times_ns, guard=guard)


def day0_from_arrays(
    local: np.ndarray,
    timed: np.ndarray,
    instants: np.ndarray | None,
    dates_ns: np.ndarray,
    obs_ns: np.ndarray | None,
    *,
    guard: int = 0,
) -> np.ndarray:
    """:func:`day0_positions` on plain arrays (the event study's vectorised path).

    Parameters
    ----------
    local : numpy.ndarray
        ``(E,)`` int64 ns: each event's local date (midnight, naive).
    timed : numpy.ndarray
        ``(E,)`` bool: the event has a time of day.
    instants : numpy.ndarray or None
        ``(E,)`` int64 ns UTC instants of the events; None when none is timed.
    dates_ns : numpy.ndarray
        ``(T,)`` int64 ns: the series' observation dates, sorted.
    obs_ns : numpy.ndarray or None
        ``(T,)`` int64 ns UTC observation instants of those dates.
    guard : int
        Near-close guard in minutes (default 0). A timed event whose first
        strictly-later observation is taken at most `guard` minutes after it
        (``obs <= event + guard``) takes the next observation as day 0.

    Returns
    -------
    numpy.ndarray
        ``(E,)`` int64 positions, ``T`` where there is no day 0.

    Raises
    ------
    backtest.errors.DataValidationError
        `guard` is not an integer >= 0.

    Examples
    --------
    An event at 16:00 and an observation at 16:15 (in ns since midnight): with a
    30-minute guard day 0 moves to the next observation.

    >>> m = 60 * 10**9
    >>> obs = np.array([16 * 60 + 15, 40 * 60 + 15]) * m
    >>> args = (np.zeros(1, "int64"), np.ones(1, bool), np.array([16 * 60 * m]), obs, obs)
    >>> day0_from_arrays(*args).tolist(), day0_from_arrays(*args, guard=30).tolist()
    ([0], [1])
    """
    if isinstance(guard, bool) or not isinstance(guard, int | np.integer) or guard < 0:
        raise DataValidationError(f"guard must be an integer >= 0 (minutes); got {guard!r}")
    by_date = np.searchsorted(dates_ns, local)
    if instants is None or obs_ns is None:
        return by_date.astype(np.int64)
    shift = int(guard) * 60 * 10**9
    by_time = np.searchsorted(obs_ns, np.asarray(instants, dtype=np.int64) + shift, side="right")
    return np.where(timed, by_time, by_date).astype(np.int64)


def day0(
    events: pd.DataFrame,
    levels: pd.DataFrame,
    *,
    clocks: Mapping[str, ClockLike] | None = None,
    guard: int = 0,
) -> pd.DataFrame:
    """Return the day-0 date of each event in each series of `levels`.

    Parameters
    ----------
    events : pandas.DataFrame
        As returned by :func:`backtest.events.load`, or a frame with a tz-aware
        ``timestamp`` column and a ``label`` column.
    levels : pandas.DataFrame
        Wide levels (naive dates); each column's own observations are its non-NaN
        rows.
    clocks : mapping, optional
        ``{column: (timezone, "HH:MM")}`` for columns whose clock is neither in the
        provenance of `levels` nor in the catalog (see :func:`clock_of`).
    guard : int
        Near-close guard in minutes (default 0, the plain rule; the event study's
        default is :data:`backtest.eventstudy.alignment.DEFAULT_SESSION_GUARD`): a
        timed event whose first later observation is taken within `guard` minutes of
        it takes the next observation as day 0.

    Returns
    -------
    pandas.DataFrame
        Events (index: event ids) x series: the date of the first observation taken
        strictly after the event (more than `guard` minutes after it; for a date-only
        event: the first dated on or after its local date); NaT where the series ends
        before it.

    Raises
    ------
    backtest.errors.DataValidationError
        Invalid events, or a timed event and a column without a known clock.

    Notes
    -----
    :meth:`backtest.eventstudy.EventStudy.run` applies the same rule, with its own
    ``session_guard`` (default 30 minutes), and, in addition, leaves out a pair whose
    day 0 is the series' first observation (no change on day 0 can be computed).

    Examples
    --------
    The 2025-04-09 13:18 New York pause, seen by the S&P 500 (16:00 New York close)
    and by the Nikkei (15:00 Tokyo close, 02:00 New York):

    >>> levels = pd.DataFrame(
    ...     {"SPX": [1.0, 2.0, 3.0], "NKY": [1.0, 2.0, 3.0]},
    ...     index=pd.DatetimeIndex(["2025-04-08", "2025-04-09", "2025-04-10"]))
    >>> ev = pd.DataFrame({"timestamp": [pd.Timestamp("2025-04-09 13:18",
    ...                    tz="America/New_York")], "label": ["pause"]})
    >>> day0(ev, levels, clocks={"SPX": ("America/New_York", "16:00"),
    ...                          "NKY": ("Asia/Tokyo", "15:00")}).iloc[0].tolist()
    [Timestamp('2025-04-09 00:00:00'), Timestamp('2025-04-10 00:00:00')]
    """
    from backtest import events as events_mod

    ev = events_mod.from_frame(events)
    timed = bool(ev["time_given"].any())
    out = {}
    for name in levels.columns:
        dates = pd.DatetimeIndex(levels.index[levels[name].notna().to_numpy()])
        obs = observation_times(dates, clock_of(levels, name, clocks)).asi8 if timed else None
        pos = day0_positions(ev, dates, obs, guard=guard)
        found = pos < len(dates)
        col = np.full(len(ev), np.datetime64("NaT"), dtype="datetime64[ns]")
        col[found] = dates.values.astype("datetime64[ns]")[pos[found]]
        out[name] = col
    return pd.DataFrame(out, index=pd.Index(ev["event"], name="event"), columns=levels.columns)


def asof_align(
    values: pd.Series,
    from_clock: ClockLike,
    to_clock: ClockLike,
    dates: pd.DatetimeIndex,
) -> pd.Series:
    """Carry series B onto series A's days, as of A's observation instant.

    Parameters
    ----------
    values : pandas.Series
        Series B, indexed by its own observation dates (naive, sorted, unique).
        A NaN value is carried like any other; drop NaN first (``values.dropna()``)
        to carry the last valid value instead.
    from_clock : Clock or tuple of (str, str)
        B's clock, e.g. ``("Asia/Tokyo", "15:00")``.
    to_clock : Clock or tuple of (str, str)
        A's clock, e.g. ``("America/New_York", "12:00")``.
    dates : pandas.DatetimeIndex
        A's observation dates.

    Returns
    -------
    pandas.Series
        ``float64`` indexed by `dates`: on each of A's days, the latest value of B
        observed at or before A's observation instant that day; NaN before B's first.

    Notes
    -----
    With instants :math:`\\tau_B(d)` and :math:`\\tau_A(D)` from
    :func:`observation_times`, the value on A's day :math:`D` is
    :math:`B(d^*)` with :math:`d^* = \\max\\{d : \\tau_B(d) \\le \\tau_A(D)\\}`, so
    nothing observed after A's instant is used. Instants are compared in UTC, so
    daylight saving is applied per date and per zone: a London 16:30 close is
    known at New York noon (17:00 UTC in winter), except in the weeks of March when
    New York has moved to summer time and London has not (noon is then 16:00 UTC).

    Examples
    --------
    A Tokyo close (15:00, 06:00 UTC) carried onto FRED's New York noon USD/JPY
    (16:00 UTC in April): Tokyo's value of the same date is already known.

    >>> jgb = pd.Series([1.30, 1.35], index=pd.DatetimeIndex(["2025-04-09", "2025-04-10"]))
    >>> asof_align(jgb, ("Asia/Tokyo", "15:00"), ("America/New_York", "12:00"),
    ...            pd.DatetimeIndex(["2025-04-09", "2025-04-10"])).tolist()
    [1.3, 1.35]

    The other way round, New York noon is not yet observed at the Tokyo close:

    >>> usdjpy = pd.Series([146.0, 147.5], index=pd.DatetimeIndex(["2025-04-09", "2025-04-10"]))
    >>> asof_align(usdjpy, ("America/New_York", "12:00"), ("Asia/Tokyo", "15:00"),
    ...            pd.DatetimeIndex(["2025-04-09", "2025-04-10", "2025-04-11"])).tolist()
    [nan, 146.0, 147.5]
    """
    target = pd.DatetimeIndex(dates)
    seen = observation_times(pd.DatetimeIndex(values.index), from_clock).asi8
    at = observation_times(target, to_clock).asi8
    idx = np.searchsorted(seen, at, side="right") - 1
    vals = values.to_numpy(dtype="float64")
    out = np.full(len(target), np.nan)
    ok = idx >= 0
    out[ok] = vals[idx[ok]]
    return pd.Series(out, index=target, name=values.name)


def asof_changes(
    values: pd.Series,
    kind: str,
    from_clock: ClockLike,
    to_clock: ClockLike,
    dates: pd.DatetimeIndex,
) -> pd.Series:
    """Change of series B between series A's consecutive observation instants.

    Parameters
    ----------
    values : pandas.Series
        Levels of series B (e.g. a market index), indexed by its own observation dates
        (naive, sorted, unique); NaN values are dropped (not observed).
    kind : {"yield", "fx", "index"}
        B's kind, which sets the unit of its changes as in
        :func:`backtest.data.reactions`: basis points for yields, percent log
        changes for FX and indices.
    from_clock : Clock or tuple of (str, str)
        B's clock, e.g. ``("America/New_York", "16:00")``.
    to_clock : Clock or tuple of (str, str)
        A's clock, e.g. ``("Asia/Tokyo", "15:30")``.
    dates : pandas.DatetimeIndex
        A's observation dates (sorted, unique).

    Returns
    -------
    pandas.Series
        ``float64`` indexed by `dates`: on A's day :math:`t`, B's level as of
        :math:`\\tau_A(t)` minus (log-ratio to) its level as of
        :math:`\\tau_A(t-1)`, in the unit of B's changes. NaN on A's first date and
        while B has no observation yet.

    Notes
    -----
    "As of" is :func:`asof_align`'s rule: the latest value of B observed at or before
    the instant. So the change paired with A's day :math:`t` is what B moved between
    A's previous and current observation instants, and nothing B did after A's
    observation is used. When B has no observation in that interval (B's market was
    closed) B moved 0 by this rule, and the change is 0, not NaN. With the same
    calendar in both markets, it is B's latest change observed at or before A's
    instant: the Nikkei's (Tokyo 15:30) day :math:`t` pairs with the S&P 500's (New
    York 16:00) change of day :math:`t-1`.

    Raises
    ------
    backtest.errors.DataValidationError
        Unknown `kind`, or a non-positive level of an FX rate or index.

    Examples
    --------
    >>> spx = pd.Series([100.0, 101.0, 99.0],
    ...                 index=pd.DatetimeIndex(["2025-04-01", "2025-04-02", "2025-04-03"]))
    >>> asof_changes(spx, "index", ("America/New_York", "16:00"), ("Asia/Tokyo", "15:30"),
    ...              pd.DatetimeIndex(["2025-04-02", "2025-04-03", "2025-04-04"])).round(4).tolist()
    [nan, 0.995, -2.0001]
    """
    from backtest.data import reactions

    obs = values.dropna()
    carried = asof_align(obs, from_clock, to_clock, pd.DatetimeIndex(dates))
    name = "B"
    frame = pd.DataFrame({name: carried.to_numpy(dtype="float64")}, index=carried.index)
    out = reactions(frame, {name: kind})[name]
    # reactions skips NaN days; here a NaN level is "not yet observed": keep NaN.
    out.name = values.name
    return out
