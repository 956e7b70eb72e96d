"""Event calendars: read, validate and select dated announcements.

Every function here returns the same *canonical events frame*, so the event
study and the strategies never see file formats:

=============  ==========================  =============================================
column         dtype                       meaning
=============  ==========================  =============================================
``event``      str                         unique id (``liberation_day``, ``2025-04-02``)
``timestamp``  ``datetime64[ns, UTC]``     the instant of the event; for an event
                                           without a time, the start (local midnight)
                                           of its local date
``timezone``   str                         IANA zone of the event's clock
``date``       ``datetime64[ns]`` (naive)  the event's local date in ``timezone``
``time_given`` bool                        whether a clock time was known
``label``      str                         what happened
``category``   str                         free-form group, ``""`` when absent
=============  ==========================  =============================================

Extra columns of the input (``source``, ``decision`` ...) follow in input order.
Two extra columns have a meaning and are checked: ``direction`` (``+1``, ``-1`` or
blank for "no sign", read as float with NaN for blank) and ``surprise`` (a number or
blank). The event study signs events by them (``EventStudy(sign_by=...)``).
:func:`load` sorts rows by ``timestamp`` (ties keep file order); :func:`from_frame`
keeps the order it is given. Both return a ``RangeIndex``.

Keeping the local date beside the UTC instant matters: the Bank of Japan decides
on 2025-01-24 in Tokyo, which is still 2025-01-23 in New York.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import numpy as np
import pandas as pd
import yaml

from backtest import _yaml
from backtest.errors import DataValidationError

__all__ = [
    "DEFAULT_TIMEZONE",
    "EVENT_COLUMNS",
    "FILE_FIELDS",
    "SIGNED_COLUMNS",
    "from_frame",
    "from_records",
    "load",
    "select",
]

#: Columns of the canonical events frame, in order (extra columns follow).
EVENT_COLUMNS = ("event", "timestamp", "timezone", "date", "time_given", "label", "category")

#: Zone recorded for a *date-only* row that names none, when neither the file nor the
#: caller gives one. Its day 0 does not depend on it (day 0 is the first observation
#: dated on or after the local date as written); only its sort instant does. A row
#: *with a time* and no zone from anywhere is an error, never read on this clock.
DEFAULT_TIMEZONE = "America/New_York"

#: Extra columns with a meaning, checked when present: ``direction`` (+1, -1 or blank)
#: and ``surprise`` (a number or blank); see :func:`backtest.eventstudy.signing`.
SIGNED_COLUMNS = ("direction", "surprise")

#: Columns (CSV) or keys (YAML) of an event file with a meaning; others are kept as extras.
FILE_FIELDS = ("id", "date", "time", "timezone", "label", "category")

#: Output columns that a file may not supply, with the fix.
_RESERVED = {
    "event": "name the id column 'id'",
    "timestamp": "give 'date', 'time' and 'timezone' instead",
    "time_given": "it is derived from whether 'time' is filled",
}

#: Abbreviations people write instead of IANA names. Some ('EST', 'MST') exist in the
#: tz database as fixed offsets that ignore daylight saving, so they are refused too.
_ABBREVIATIONS = {
    "ET": "America/New_York",
    "EST": "America/New_York",
    "EDT": "America/New_York",
    "CT": "America/Chicago",
    "CST": "America/Chicago",
    "CDT": "America/Chicago",
    "MST": "America/Denver",
    "PT": "America/Los_Angeles",
    "PST": "America/Los_Angeles",
    "PDT": "America/Los_Angeles",
    "JST": "Asia/Tokyo",
    "KST": "Asia/Seoul",
    "HKT": "Asia/Hong_Kong",
    "BST": "Europe/London",
    "CEST": "Europe/Berlin",
}

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_EXPECTED_TIME = "expected HH:MM or HH:MM:SS on a 24-hour clock, e.g. '16:00'"

DateLike: TypeAlias = str | dt.date | pd.Timestamp | np.datetime64


class _YamlLoader(_yaml.SafeLoader):
    """Safe YAML without YAML 1.1 surprises: dates stay text (checked here, naming the
    entry), and ``16:00`` is the text "16:00", not the base-60 number 960. Aliases and
    duplicate keys are refused (:mod:`backtest._yaml`)."""


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _digit in "0123456789":
    _YamlLoader.yaml_implicit_resolvers[_digit].insert(
        0, ("tag:yaml.org,2002:str", re.compile(r"^\d{1,2}:\d{2}(?::\d{2})?$"))
    )
del _digit


@dataclass(frozen=True)
class _Record:
    """One event as read from a file: where it was (``line 5``) and its raw fields."""

    place: str
    fields: Mapping[str, object]


# Public API ---------------------------------------------------------------------------


def load(path: str | Path, *, timezone: str | None = None) -> pd.DataFrame:
    """Read an event calendar from a CSV or YAML file.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.csv`` file with a header line and the columns ``date`` (``YYYY-MM-DD``)
        and ``label``, and optionally ``time`` (``HH:MM`` or ``HH:MM:SS``, 24-hour,
        empty when unknown), ``timezone`` (IANA name), ``category`` and ``id``; any
        other column (``source`` ...) is kept; lines before the header that start
        with ``#`` are comments (e.g. the rule behind a ``direction`` column). Or a
        ``.yaml``/``.yml`` file with an
        optional top-level ``timezone:`` (the file's default zone) and an ``events:``
        list of mappings with the same keys. ``time: 16:00`` needs no quotes.
    timezone : str, optional
        Zone of rows that name none when the file gives no default either (the
        explicit default a run config writes as ``events.timezone:``).

    Returns
    -------
    pandas.DataFrame
        The canonical events frame (see the module docstring). Rows without an
        ``id`` get ``YYYY-MM-DD`` from their local date, then ``YYYY-MM-DD_2``,
        ``_3`` ... for later rows of the same date in file order. Extra columns whose every
        non-empty value is a number become numeric; others stay text, ``""``
        when missing.

    Raises
    ------
    backtest.errors.DataValidationError
        The file is missing, empty, of an unknown type or unreadable; a column is
        missing or reserved; a row has a bad date, bad time, unknown time zone or no
        label; a local time does not exist (skipped when clocks go forward) or is
        ambiguous (repeated when clocks go back); an id repeats. The message names
        the file, the line (``line 5``; the CSV header is line 1) or list entry
        (``events[3]``), the field, the value and what is accepted. A row with a
        time but no zone from anywhere (row, file default, `timezone`) is an error
        naming the fix. A YAML file with an alias or a repeated key is refused
        (:mod:`backtest._yaml`).

    Notes
    -----
    The zone of a row is its own ``timezone`` if given, else the file's default
    (YAML ``timezone:``), else the `timezone` argument. A clock time is never read
    in a zone nobody wrote down: a Tokyo 12:00 decision read as New York time would
    get the wrong day 0. A date-only row without any zone is recorded as
    ``America/New_York`` (:data:`DEFAULT_TIMEZONE`): its day 0 is the first
    observation dated on or after its date in every market, whatever the zone, so
    the zone only orders it among events of the same day.
    ``date`` is read on that zone's clock: a Tokyo row dated 2025-01-24 is the
    24th in Tokyo. A row without a time is placed at the start of its local day.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "events.csv"
    >>> _ = path.write_text(
    ...     "id,date,time,timezone,label\\n"
    ...     "liberation_day,2025-04-02,16:00,America/New_York,Liberation Day\\n"
    ...     "boj_2025_01_24,2025-01-24,,Asia/Tokyo,BoJ hike\\n"
    ... )
    >>> events = load(path)
    >>> events["event"].tolist()
    ['boj_2025_01_24', 'liberation_day']
    >>> [t.isoformat() for t in events["timestamp"]]  # Tokyo midnight; 16:00 EDT
    ['2025-01-23T15:00:00+00:00', '2025-04-02T20:00:00+00:00']
    >>> events["time_given"].tolist()
    [False, True]
    """
    path = Path(path)
    what = str(path)
    fallback: str | None = None
    if timezone is not None:
        fallback = _check_zone(timezone, f"{what}: timezone= argument")
    if not path.is_file():
        raise DataValidationError(f"{what}: events file not found")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".txt", ".yaml", ".yml"):
        raise DataValidationError(
            f"{what}: unsupported file type {suffix!r}; expected .csv, .yaml or .yml"
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"{what}: cannot be read as UTF-8 text ({exc})") from exc
    if not text.strip():
        raise DataValidationError(
            f"{what}: file is empty; expected "
            + (
                "a header line (date,time,timezone,label,...) and one line per event"
                if suffix in (".csv", ".txt")
                else "'timezone:' (optional) and an 'events:' list"
            )
        )
    if suffix in (".csv", ".txt"):
        records, extras = _read_csv(text, what)
    else:
        records, extras, file_zone = _read_yaml(text, what)
        if file_zone is not None:
            fallback = file_zone
    fix = (
        "add a 'timezone' column (IANA name, e.g. America/New_York or Asia/Tokyo)"
        if suffix in (".csv", ".txt")
        else "add 'timezone:' to the event or at the top of the file"
    )
    fix += (
        ", or write the file's default zone down: events.timezone: in the run config "
        "(events.load(path, timezone=...))"
    )
    return _build(records, extras, what=what, fallback=fallback, fix=fix)


def from_records(
    rows: Iterable[Mapping[str, object]], *, where: str = "events", timezone: str | None = None
) -> pd.DataFrame:
    """Build events from mappings with the fields of a calendar file row.

    Parameters
    ----------
    rows : iterable of mapping
        Each with ``date`` and ``label``, optionally ``time``, ``timezone``, ``id``,
        ``category`` and extra fields; ``None`` values count as absent.
    where : str
        Name used in error messages (``events.inline`` gives ``events.inline[2]``).
    timezone : str, optional
        Zone of rows without one. A row with a time needs a zone, its own or this;
        a date-only row without either is recorded as America/New_York.

    Returns
    -------
    pandas.DataFrame
        Canonical events, sorted by time as :func:`load` sorts a file.

    Examples
    --------
    >>> ev = from_records([{"date": "2025-05-02", "timezone": "Asia/Tokyo",
    ...                     "label": "Kato on Treasuries", "id": "kato"}])
    >>> ev.loc[0, "timestamp"].isoformat(), bool(ev.loc[0, "time_given"])
    ('2025-05-01T15:00:00+00:00', False)
    """
    records: list[_Record] = []
    extras: list[str] = []
    for i, row in enumerate(rows):
        place = f"{where}[{i}]"
        if not isinstance(row, Mapping):
            raise DataValidationError(f"{place} must be a mapping with date and label, got {row!r}")
        fields = {str(k): v for k, v in row.items() if v is not None}
        extras.extend(n for n in fields if n not in FILE_FIELDS and n not in extras)
        records.append(_Record(place, fields))
    if not records:
        raise DataValidationError(f"{where}: no events")
    fallback = None if timezone is None else _check_zone(timezone, f"{where}: timezone")
    fix = "give the event a timezone (IANA name, e.g. Asia/Tokyo), or a default for all: "
    fix += "events.timezone: in the run config (from_records(..., timezone=...))"
    return _build(records, extras, what=where, fallback=fallback, fix=fix)


def from_frame(frame: pd.DataFrame, *, where: str = "events") -> pd.DataFrame:
    """Turn a user's DataFrame of events into the canonical events frame.

    Parameters
    ----------
    frame : pandas.DataFrame
        Either a frame with a tz-aware ``timestamp`` column (one time zone for the
        whole column) and a ``label`` column, optionally ``event`` (ids) and
        ``category``, plus any extra columns; or an already canonical frame (all of
        :data:`EVENT_COLUMNS`), which is checked and returned normalised, so
        ``from_frame(from_frame(x))`` equals ``from_frame(x)``.
    where : str
        Name of the frame in error messages.

    Returns
    -------
    pandas.DataFrame
        The canonical events frame, rows in the order given (:func:`load` sorts a
        file's rows by time; a frame passed here keeps its order, which is the order
        of event-study results). From timestamps: ``timezone`` is the column's
        zone, ``date`` the local date, ``time_given`` True; missing ids are generated
        as in :func:`load`.

    Raises
    ------
    backtest.errors.DataValidationError
        A required column is missing; timestamps are tz-naive, mix zones, use a
        zone without an IANA name, or are missing; a label or id is empty; an id
        repeats; a canonical frame's ``date`` is not the local date of its
        ``timestamp``.

    Examples
    --------
    >>> frame = pd.DataFrame({
    ...     "timestamp": [pd.Timestamp("2025-04-09 13:18", tz="America/New_York")],
    ...     "label": ["90-day pause"],
    ... })
    >>> events = from_frame(frame)
    >>> events[["event", "timezone"]].iloc[0].tolist(), events["time_given"].tolist()
    (['2025-04-09', 'America/New_York'], [True])
    >>> events.loc[0, "timestamp"].isoformat()
    '2025-04-09T17:18:00+00:00'
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataValidationError(f"{where}: expected a pandas DataFrame, got {type(frame)}")
    if all(column in frame.columns for column in EVENT_COLUMNS):
        return _from_canonical(frame, where)
    missing = [c for c in ("timestamp", "label") if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"{where}: missing column(s) {missing}; found {[str(c) for c in frame.columns]}. "
            "Give a tz-aware 'timestamp' and a 'label' column (optionally 'event', "
            "'category'), or read a calendar file with backtest.events.load"
        )
    derived = [c for c in ("timezone", "date", "time_given") if c in frame.columns]
    if derived:
        raise DataValidationError(
            f"{where}: column(s) {derived} are derived from 'timestamp'; drop them, or pass "
            f"a complete canonical frame with all of {list(EVENT_COLUMNS)}"
        )
    places = [f"row {label!r}" for label in frame.index]
    zone = _column_zone(frame["timestamp"], where)
    stamps = pd.DatetimeIndex(frame["timestamp"])
    for place, missing_stamp in zip(places, stamps.isna(), strict=True):
        if missing_stamp:
            raise DataValidationError(f"{where}: {place}: timestamp is missing")
    local = stamps.tz_convert(zone)
    dates = local.tz_localize(None).normalize()
    labels = _text_column(frame["label"], places, where, "label")
    ids = (
        _text_column(frame["event"], places, where, "event")
        if "event" in frame.columns
        else _generate_ids([None] * len(frame), [d.date() for d in dates])
    )
    category = (
        _optional_text(frame["category"]) if "category" in frame.columns else [""] * len(frame)
    )
    _check_unique(ids, places, where)
    extras = {
        str(c): frame[c].reset_index(drop=True)
        for c in frame.columns
        if c not in ("event", "timestamp", "label", "category")
    }
    extras = _signed_columns(extras, places, where)
    return _assemble(
        ids=ids,
        timestamps=stamps.tz_convert("UTC"),
        zones=[zone] * len(frame),
        dates=dates,
        time_given=[True] * len(frame),
        labels=labels,
        categories=category,
        extras=extras,
        sort=False,
    )


def select(
    events: pd.DataFrame,
    *,
    categories: Iterable[str] | None = None,
    start: DateLike | None = None,
    end: DateLike | None = None,
    ids: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Return the events that match every given filter.

    Parameters
    ----------
    events : pandas.DataFrame
        A canonical events frame (as returned by :func:`load`).
    categories : iterable of str, optional
        Keep events of these categories. A single string is one category.
    start, end : str, datetime.date, pandas.Timestamp, optional
        Inclusive bounds. A date (``"2025-04-01"``, tz-naive midnight) bounds the
        events' *local* ``date``; a tz-aware timestamp bounds the ``timestamp``
        instant.
    ids : iterable of str, optional
        Keep the events with these ids (order of `events` is kept).

    Returns
    -------
    pandas.DataFrame
        A canonical events frame, possibly empty, on a fresh ``RangeIndex``.

    Raises
    ------
    backtest.errors.DataValidationError
        `events` is not an events frame; a category or id is not in `events` (the
        message lists what is there); a bound does not parse, is a naive timestamp
        with a time of day, or `start` is after `end`.

    Examples
    --------
    >>> frame = pd.DataFrame({
    ...     "timestamp": pd.to_datetime(["2025-04-02 16:00", "2025-04-09 13:18"])
    ...     .tz_localize("America/New_York"),
    ...     "label": ["Liberation Day", "90-day pause"],
    ...     "category": ["tariff_announcement", "tariff_pause"],
    ... })
    >>> select(from_frame(frame), categories="tariff_pause")["label"].tolist()
    ['90-day pause']
    >>> select(from_frame(frame), end="2025-04-02")["label"].tolist()
    ['Liberation Day']
    """
    frame = from_frame(events, where="select(events)")
    keep = np.ones(len(frame), dtype=bool)
    for name, wanted, column in (("categories", categories, "category"), ("ids", ids, "event")):
        if wanted is None:
            continue
        values = [wanted] if isinstance(wanted, str) else list(wanted)
        present = list(dict.fromkeys(frame[column].tolist()))
        unknown = [v for v in values if v not in present]
        if unknown:
            close = difflib.get_close_matches(str(unknown[0]), [str(p) for p in present], n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            shown = present if len(present) <= 20 else [*present[:20], "..."]
            raise DataValidationError(
                f"select: {name} {unknown} not in the events; they have {shown}{hint}"
            )
        keep &= frame[column].isin(values).to_numpy()
    low = _bound(start, "start")
    high = _bound(end, "end")
    if low is not None and high is not None and _comparable(low, high) and low > high:
        raise DataValidationError(f"select: start {start!r} is after end {end!r}")
    for bound, above in ((low, True), (high, False)):
        if bound is None:
            continue
        column = frame["timestamp"] if bound.tzinfo is not None else frame["date"]
        keep &= (column >= bound if above else column <= bound).to_numpy()
    return frame[keep].reset_index(drop=True)


# Reading files ------------------------------------------------------------------------


def _read_csv(text: str, what: str) -> tuple[list[_Record], list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    header_line = 0
    records: list[_Record] = []
    previous_end = 0
    try:
        for row in reader:
            line = previous_end + 1
            previous_end = reader.line_num
            if not any(cell.strip() for cell in row):
                continue  # blank line
            if header is None:
                if row[0].lstrip().startswith("#"):
                    continue  # a comment line before the header
                header, header_line = [cell.strip() for cell in row], line
                continue
            if len(row) != len(header):
                raise DataValidationError(
                    f"{what}: line {line}: {len(row)} fields, but the header (line "
                    f"{header_line}) has {len(header)}; quote fields that contain commas"
                )
            records.append(_Record(f"line {line}", dict(zip(header, row, strict=True))))
    except csv.Error as exc:
        raise DataValidationError(f"{what}: line {reader.line_num}: not valid CSV ({exc})") from exc
    if header is None:
        raise DataValidationError(f"{what}: file is empty; expected a header line")
    names = _normalise_names(header, what, "column")
    if not records:
        raise DataValidationError(f"{what}: no events below the header line; add one per line")
    records = [_Record(r.place, {names[k]: v for k, v in r.fields.items()}) for r in records]
    return records, [n for n in names.values() if n not in FILE_FIELDS]


def _normalise_names(names: Iterable[str], what: str, kind: str) -> dict[str, str]:
    """Map file names to field names: known fields case-insensitively, extras as written."""
    out: dict[str, str] = {}
    seen: set[str] = set()
    for name in names:
        key = name.strip().lower()
        if key in _RESERVED:
            raise DataValidationError(
                f"{what}: {kind} {name!r} is reserved for the output; {_RESERVED[key]}"
            )
        field = key if key in FILE_FIELDS else name.strip()
        if field in seen:
            raise DataValidationError(f"{what}: {kind} {name!r} appears twice")
        seen.add(field)
        out[name] = field
    for required in ("date", "label"):
        if required not in seen:
            hint = ""
            lookalike = [n for n in out.values() if n.lower().startswith(f"{required}_")]
            if lookalike:
                hint = f"; rename {lookalike[0]!r} to {required!r}"
            raise DataValidationError(
                f"{what}: no {required!r} {kind}; found {list(out)}; expected "
                f"date, label and optionally time, timezone, category, id{hint}"
            )
    zone_like = [n for n in out.values() if n.lower() in ("tz", "zone", "time_zone", "time zone")]
    if "timezone" not in seen and zone_like:
        raise DataValidationError(
            f"{what}: {kind} {zone_like[0]!r} would be ignored; name the time-zone {kind} "
            "'timezone'"
        )
    zoned_time = [n for n in out.values() if n.lower().startswith("time_")]
    if "time" not in seen and zoned_time:
        raise DataValidationError(
            f"{what}: {kind} {zoned_time[0]!r} looks like a clock time in a named zone; "
            "rename it to 'time' and give the zone in 'timezone' (e.g. America/New_York), "
            "otherwise the times would be ignored"
        )
    return out


def _read_yaml(text: str, what: str) -> tuple[list[_Record], list[str], str | None]:
    data = _yaml.load(text, what, DataValidationError, loader=_YamlLoader)
    file_zone: str | None = None
    if isinstance(data, Mapping):
        unknown = [k for k in data if k not in ("timezone", "events")]
        if unknown:
            close = difflib.get_close_matches(str(unknown[0]), ["timezone", "events"], n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise DataValidationError(
                f"{what}: unknown top-level key {unknown[0]!r}; expected 'timezone' "
                f"(optional) and 'events'{hint}"
            )
        if data.get("timezone") is not None:
            file_zone = _check_zone(data["timezone"], f"{what}: timezone")
        items = data.get("events")
    elif isinstance(data, list):
        items = data
    else:
        raise DataValidationError(
            f"{what}: expected a mapping with an 'events:' list, got {type(data).__name__}"
        )
    if not isinstance(items, list) or not items:
        raise DataValidationError(
            f"{what}: 'events' must be a non-empty list of mappings (- date: ..., label: ...), "
            f"got {items!r}"
        )
    records: list[_Record] = []
    extras: list[str] = []
    for i, item in enumerate(items):
        place = f"events[{i}]"
        if not isinstance(item, Mapping):
            raise DataValidationError(
                f"{what}: {place} must be a mapping with date and label, got {item!r}"
            )
        names = _normalise_names([str(k) for k in item], f"{what}: {place}", "key")
        fields = {names[str(k)]: v for k, v in item.items()}
        extras.extend(n for n in fields if n not in FILE_FIELDS and n not in extras)
        records.append(_Record(place, fields))
    return records, extras, file_zone


# Row parsing --------------------------------------------------------------------------


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, float) and math.isnan(value)


def _parse_date(value: object, at: str) -> dt.date:
    if _is_missing(value):
        raise DataValidationError(f"{at}: date is missing; expected YYYY-MM-DD, e.g. 2025-04-02")
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    text = str(value).strip()
    if re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d", text):
        raise DataValidationError(
            f"{at}: date {value!r} has a time of day; give the date alone, the clock time "
            "in 'time' and the zone in 'timezone'"
        )
    if _DATE_RE.match(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise DataValidationError(
        f"{at}: date {value!r} is not a valid date; expected YYYY-MM-DD, e.g. 2025-04-02"
    )


def _parse_time(value: object, at: str) -> dt.time | None:
    if _is_missing(value):
        return None
    if isinstance(value, dt.time):
        return value
    match = _TIME_RE.match(str(value).strip())
    if match:
        hour, minute, second = (int(g) if g else 0 for g in match.groups())
        if hour < 24 and minute < 60 and second < 60:
            return dt.time(hour, minute, second)
    raise DataValidationError(f"{at}: time {value!r} is not a valid time; {_EXPECTED_TIME}")


@cache
def _zone_names() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def _check_zone(value: object, at: str) -> str:
    """Return `value` if it names an IANA zone, else raise naming `at`."""
    name = value.strip() if isinstance(value, str) else value
    if isinstance(name, str) and name.upper() in _ABBREVIATIONS:
        raise DataValidationError(
            f"{at}: timezone {value!r} is an abbreviation, not a region; use "
            f"{_ABBREVIATIONS[name.upper()]!r} (an IANA name, which follows daylight saving)"
        )
    if isinstance(name, str) and name:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
        else:
            return name
    close = difflib.get_close_matches(str(value), _zone_names(), n=3)
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
    raise DataValidationError(
        f"{at}: timezone {value!r} is not a known IANA time zone; expected a name like "
        f"'America/New_York' or 'Asia/Tokyo'{hint}"
    )


def _instant(date: dt.date, time: dt.time | None, zone: str, at: str) -> pd.Timestamp:
    """UTC instant of local `date` `time` in `zone` (start of day when `time` is None)."""
    if time is None:
        start = pd.Timestamp(date).tz_localize(zone, ambiguous=True, nonexistent="shift_forward")
        return start.tz_convert("UTC")
    tz = ZoneInfo(zone)
    naive = dt.datetime.combine(date, time)
    first = naive.replace(tzinfo=tz)
    second = naive.replace(tzinfo=tz, fold=1)
    utc = first.astimezone(dt.UTC)
    wall = f"{date} {time.isoformat(timespec='minutes' if time.second == 0 else 'seconds')}"
    if utc.astimezone(tz).replace(tzinfo=None) != naive:
        after = utc.astimezone(tz)
        raise DataValidationError(
            f"{at}: time {wall} does not exist in {zone}: the clocks skip it when they go "
            f"forward ({_offset(first)} to {_offset(second)}); give the time as read on the "
            f"local clock, e.g. {after:%H:%M}, or give the instant in UTC (timezone UTC, "
            f"date {utc:%Y-%m-%d}, time {utc:%H:%M})"
        )
    if first.utcoffset() != second.utcoffset():
        utc2 = second.astimezone(dt.UTC)
        raise DataValidationError(
            f"{at}: time {wall} is ambiguous in {zone}: it occurs twice when the clocks go "
            f"back ({_offset(first)} then {_offset(second)}); give the instant in UTC "
            f"instead, where every time is unambiguous: timezone UTC, date {utc:%Y-%m-%d}, "
            f"time {utc:%H:%M} (the first) or date {utc2:%Y-%m-%d}, time {utc2:%H:%M} "
            "(the second)"
        )
    return pd.Timestamp(utc)


def _offset(moment: dt.datetime) -> str:
    """``UTC-05:00`` for a local datetime."""
    delta = moment.utcoffset() or dt.timedelta(0)
    minutes = int(delta.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _generate_ids(given: list[str | None], dates: list[dt.date]) -> list[str]:
    """Fill missing ids with ``YYYY-MM-DD``, ``YYYY-MM-DD_2`` ... in row order."""
    counts: dict[dt.date, int] = {}
    out: list[str] = []
    for event_id, date in zip(given, dates, strict=True):
        if event_id is not None:
            out.append(event_id)
            continue
        counts[date] = counts.get(date, 0) + 1
        n = counts[date]
        out.append(date.isoformat() if n == 1 else f"{date.isoformat()}_{n}")
    return out


def _check_unique(ids: list[str], places: list[str], what: str) -> None:
    first: dict[str, str] = {}
    for event_id, place in zip(ids, places, strict=True):
        if event_id in first:
            raise DataValidationError(
                f"{what}: {place}: id {event_id!r} was already used at {first[event_id]}; "
                "each event needs a unique id"
            )
        first[event_id] = place


def _build(
    records: list[_Record], extras: list[str], *, what: str, fallback: str | None, fix: str
) -> pd.DataFrame:
    given: list[str | None] = []
    stamps: list[pd.Timestamp] = []
    zones: list[str] = []
    dates: list[dt.date] = []
    has_time: list[bool] = []
    labels: list[str] = []
    categories: list[str] = []
    for record in records:
        at = f"{what}: {record.place}"
        fields = record.fields
        date = _parse_date(fields.get("date"), at)
        time = _parse_time(fields.get("time"), at)
        raw_zone = fields.get("timezone")
        if not _is_missing(raw_zone):
            zone = _check_zone(raw_zone, at)
        elif fallback is not None:
            zone = fallback
        elif time is not None:
            raise DataValidationError(
                f"{at}: time {time.isoformat(timespec='minutes')} has no time zone, and the "
                f"file gives no default; {fix}"
            )
        else:  # date-only: day 0 depends on the local date alone
            zone = DEFAULT_TIMEZONE
        label = fields.get("label")
        if _is_missing(label):
            raise DataValidationError(
                f"{at}: label is missing ({label!r}); every event needs a label saying what "
                "happened"
            )
        raw_id = fields.get("id")
        given.append(None if _is_missing(raw_id) else str(raw_id).strip())
        stamps.append(_instant(date, time, zone, at))
        zones.append(zone)
        dates.append(date)
        has_time.append(time is not None)
        labels.append(str(label))
        category = fields.get("category")
        categories.append("" if _is_missing(category) else str(category))
    ids = _generate_ids(given, dates)
    _check_unique(ids, [r.place for r in records], what)
    extra_columns = {name: _extra_column([r.fields.get(name) for r in records]) for name in extras}
    extra_columns = _signed_columns(extra_columns, [r.place for r in records], what)
    return _assemble(
        ids=ids,
        timestamps=pd.DatetimeIndex(stamps),
        zones=zones,
        dates=pd.DatetimeIndex([pd.Timestamp(d) for d in dates]),
        time_given=has_time,
        labels=labels,
        categories=categories,
        extras=extra_columns,
    )


def _extra_column(values: list[object]) -> pd.Series:
    """Numbers if every non-empty value is one, else text with ``""`` for missing."""
    present = [v for v in values if not _is_missing(v)]

    def numeric(v: object) -> bool:
        if isinstance(v, bool):
            return False
        return isinstance(v, int | float) or (isinstance(v, str) and bool(_NUMBER_RE.match(v)))

    if present and all(numeric(v) for v in present):
        raw = pd.Series([None if _is_missing(v) else v for v in values], dtype=object)
        return pd.to_numeric(raw)
    return pd.Series(["" if _is_missing(v) else str(v) for v in values], dtype=str)


def _signed_columns(
    extras: Mapping[str, pd.Series], places: list[str], where: str
) -> dict[str, pd.Series]:
    """Check and convert the ``direction`` and ``surprise`` columns (float, NaN = blank).

    ``direction`` must be +1 or -1 (``"+1"``, ``1``, ``-1.0`` ...) or blank; ``surprise``
    a finite number or blank. The error names the file or frame and the row.
    """
    out = dict(extras)
    for name in SIGNED_COLUMNS:
        if name not in out:
            continue
        values = []
        for place, value in zip(places, out[name].tolist(), strict=True):
            if _is_missing(value):
                values.append(math.nan)
                continue
            number: float | None = None
            if not isinstance(value, bool | np.bool_):
                try:
                    number = float(str(value).strip()) if isinstance(value, str) else float(value)
                except (TypeError, ValueError):
                    number = None
            if name == "direction" and number not in (1.0, -1.0):
                raise DataValidationError(
                    f"{where}: {place}: direction must be +1 (e.g. escalation), -1 (e.g. "
                    f"de-escalation) or blank (no sign: left out of signed pooling), got {value!r}"
                )
            if name == "surprise" and (number is None or not math.isfinite(number)):
                raise DataValidationError(
                    f"{where}: {place}: surprise must be a finite number (in the unit the "
                    f"events file documents) or blank, got {value!r}"
                )
            assert number is not None
            values.append(number)
        out[name] = pd.Series(values, dtype="float64")
    return out


# Frames -------------------------------------------------------------------------------


def _assemble(
    *,
    ids: list[str],
    timestamps: pd.DatetimeIndex,
    zones: list[str],
    dates: pd.DatetimeIndex,
    time_given: list[bool],
    labels: list[str],
    categories: list[str],
    extras: Mapping[str, pd.Series],
    sort: bool = True,
) -> pd.DataFrame:
    columns: dict[str, Any] = {
        "event": pd.Series(ids, dtype=str),
        "timestamp": pd.Series(timestamps.tz_convert("UTC"), dtype="datetime64[ns, UTC]"),
        "timezone": pd.Series(zones, dtype=str),
        "date": pd.Series(dates.normalize(), dtype="datetime64[ns]"),
        "time_given": pd.Series(time_given, dtype=bool),
        "label": pd.Series(labels, dtype=str),
        "category": pd.Series(categories, dtype=str),
    }
    for name, values in extras.items():
        columns[name] = values.reset_index(drop=True)
    frame = pd.DataFrame(columns, index=pd.RangeIndex(len(ids)))
    if not sort:
        return frame
    return frame.sort_values("timestamp", kind="stable").reset_index(drop=True)


def _zone_name(tz: object) -> str | None:
    """IANA name of a tzinfo (zoneinfo, pytz, UTC), or None."""
    for attribute in ("key", "zone"):  # zoneinfo.ZoneInfo, pytz
        name = getattr(tz, attribute, None)
        if isinstance(name, str):
            return name
    if tz is dt.UTC or str(tz) == "UTC":
        return "UTC"
    return None


def _column_zone(column: pd.Series, where: str) -> str:
    """The single IANA zone of a tz-aware timestamp column."""
    fix = (
        "localise them first, e.g. frame['timestamp'] = "
        "frame['timestamp'].dt.tz_localize('America/New_York') (the zone whose clock they read)"
    )
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        tz: object = column.dtype.tz
    elif pd.api.types.is_datetime64_dtype(column.dtype):
        raise DataValidationError(f"{where}: 'timestamp' is tz-naive; {fix}")
    else:
        zones = {getattr(v, "tzinfo", "?") for v in column.dropna()}
        if any(z is None for z in zones):
            raise DataValidationError(f"{where}: 'timestamp' holds tz-naive values; {fix}")
        if "?" in zones or len(zones) == 0:
            raise DataValidationError(
                f"{where}: 'timestamp' must hold tz-aware datetimes, got dtype "
                f"{column.dtype}; parse it with pd.to_datetime(...) and {fix.split('; ')[0]}"
            )
        names = {_zone_name(z) or str(z) for z in zones}
        if len(names) > 1:
            raise DataValidationError(
                f"{where}: 'timestamp' mixes time zones {sorted(names)}; one zone per column: "
                "convert each to one zone with .tz_convert, or load a file with a 'timezone' "
                "column per row"
            )
        tz = next(iter(zones))
    name = _zone_name(tz)
    if name is None:
        raise DataValidationError(
            f"{where}: 'timestamp' has time zone {tz!s}, which has no IANA name (a fixed "
            "offset?); convert it with .dt.tz_convert('Asia/Tokyo') or another IANA zone"
        )
    return _check_zone(name, f"{where}: 'timestamp'")


def _text_column(column: pd.Series, places: list[str], where: str, name: str) -> list[str]:
    out: list[str] = []
    for value, place in zip(column.tolist(), places, strict=True):
        if _is_missing(value):
            raise DataValidationError(f"{where}: {place}: {name} is missing ({value!r})")
        out.append(str(value))
    return out


def _optional_text(column: pd.Series) -> list[str]:
    return ["" if _is_missing(v) else str(v) for v in column.tolist()]


def _from_canonical(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    checked = _checked_copy(frame)
    if checked is not None:  # a frame built by load/from_frame, unchanged: every check holds
        return checked
    places = [f"row {label!r}" for label in frame.index]
    stamps = frame["timestamp"]
    if not isinstance(stamps.dtype, pd.DatetimeTZDtype):
        raise DataValidationError(
            f"{where}: canonical 'timestamp' must be tz-aware (UTC), got dtype {stamps.dtype}"
        )
    utc = pd.DatetimeIndex(stamps).tz_convert("UTC")
    zones = _text_column(frame["timezone"], places, where, "timezone")
    for zone in dict.fromkeys(zones):
        _check_zone(zone, f"{where}: 'timezone'")
    dates = pd.DatetimeIndex(pd.to_datetime(frame["date"]))
    if dates.tz is not None:
        raise DataValidationError(f"{where}: 'date' must be tz-naive local dates")
    missing = np.flatnonzero(utc.isna() | dates.isna())
    if len(missing):
        raise DataValidationError(f"{where}: {places[missing[0]]}: timestamp or date is missing")
    distinct = list(dict.fromkeys(zones))
    if len(distinct) == 1:  # midnight by flooring to days (normalize() infers a freq)
        wall = utc.tz_convert(distinct[0]).tz_localize(None).values
        local = pd.DatetimeIndex(wall.astype("datetime64[D]").astype(wall.dtype))
    else:
        local = pd.DatetimeIndex(dates)  # replaced zone by zone below
        for zone in distinct:
            rows = np.array([z == zone for z in zones])
            local = local.where(~rows, utc.tz_convert(zone).tz_localize(None).normalize())
    wrong = np.flatnonzero(local != dates)
    if len(wrong):
        i = wrong[0]
        raise DataValidationError(
            f"{where}: {places[i]}: date {dates[i]} is not the local date {local[i].date()} of "
            f"timestamp {utc[i]} in {zones[i]}; rebuild the frame with from_frame or load"
        )
    given = frame["time_given"]
    if not pd.api.types.is_bool_dtype(given.dtype):
        raise DataValidationError(
            f"{where}: 'time_given' must be bool, got dtype {given.dtype}; fix it with "
            "frame['time_given'] = frame['time_given'].astype(bool)"
        )
    ids = _text_column(frame["event"], places, where, "event")
    _check_unique(ids, places, where)
    if _has_canonical_dtypes(frame):  # already built by load/from_frame: keep it as is
        out = frame.reset_index(drop=True).copy()
        given_signs = {c: out[c] for c in SIGNED_COLUMNS if c in out.columns}
        for name, values in _signed_columns(given_signs, places, where).items():
            out[name] = values.to_numpy()
        return out
    return _assemble(
        ids=ids,
        timestamps=utc,
        zones=zones,
        dates=dates,
        time_given=given.tolist(),
        labels=_text_column(frame["label"], places, where, "label"),
        categories=_optional_text(frame["category"]),
        extras=_signed_columns(
            {str(c): frame[c] for c in frame.columns if c not in EVENT_COLUMNS}, places, where
        ),
        sort=False,
    )


def _checked_copy(frame: pd.DataFrame) -> pd.DataFrame | None:
    """:func:`_from_canonical` of a canonical frame of one time zone without direction or
    surprise columns, checked with whole-column operations; None if any check fails or
    does not apply (the row-by-row path then runs, and words the error)."""
    if (
        not _has_canonical_dtypes(frame)
        or not frame.columns.is_unique
        or any(c in frame.columns for c in SIGNED_COLUMNS)
    ):
        return None
    zones = list(dict.fromkeys(frame["timezone"].tolist()))
    ids = frame["event"].tolist()
    if len(zones) != 1 or not isinstance(zones[0], str) or zones[0] != zones[0].strip():
        return None
    if not all(isinstance(i, str) and i.strip() for i in ids) or len(set(ids)) != len(ids):
        return None
    try:
        _check_zone(zones[0], "")
    except DataValidationError:
        return None
    utc = frame["timestamp"].array  # datetime64[ns, UTC]
    dates = frame["date"].to_numpy()
    if utc.isna().any() or np.isnat(dates).any():
        return None
    wall = utc.tz_convert(zones[0]).tz_localize(None).to_numpy()
    if not (wall.astype("datetime64[D]").astype(wall.dtype) == dates).all():
        return None
    index = frame.index
    plain = type(index) is pd.RangeIndex and index.start == 0 and index.step == 1
    return frame.copy() if plain and index.name is None else frame.reset_index(drop=True).copy()


def _has_canonical_dtypes(frame: pd.DataFrame) -> bool:
    """Whether the canonical columns lead, in order, with the dtypes `_assemble` gives."""
    if tuple(frame.columns.tolist()[: len(EVENT_COLUMNS)]) != EVENT_COLUMNS:
        return False
    d = dict(zip(EVENT_COLUMNS, frame.dtypes.tolist(), strict=False))  # the leading columns
    return (
        str(d["timestamp"]) == "datetime64[ns, UTC]"
        and str(d["date"]) == "datetime64[ns]"
        and pd.api.types.is_bool_dtype(d["time_given"])
        and all(
            pd.api.types.is_string_dtype(d[c]) and not pd.api.types.is_object_dtype(d[c])
            for c in ("event", "timezone", "label", "category")
        )
    )


def _bound(value: DateLike | None, name: str) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise DataValidationError(
            f"select: {name} {value!r} does not parse; expected a date like '2025-04-01' or a "
            "tz-aware timestamp"
        ) from exc
    if isinstance(value, str):  # ISO 8601 only: "01/06/2016" is refused, never guessed
        from backtest.data.dates import check_iso_text

        check_iso_text(value, f"select: {name}")
    if pd.isna(stamp):
        raise DataValidationError(f"select: {name} {value!r} is not a date")
    if stamp.tzinfo is None:
        if stamp != stamp.normalize():
            raise DataValidationError(
                f"select: {name} {value!r} has a time of day but no time zone; pass a date "
                "(compared with the events' local dates) or a tz-aware timestamp (compared "
                "with their instants)"
            )
        return stamp.as_unit("ns")
    return stamp.tz_convert("UTC").as_unit("ns")


def _comparable(a: pd.Timestamp, b: pd.Timestamp) -> bool:
    return (a.tzinfo is None) == (b.tzinfo is None)
