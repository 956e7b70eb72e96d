"""The one parser of user-given dates: ISO 8601 (``YYYY-MM-DD``) or date objects.

Every entry point that takes a date (:func:`backtest.data.load`,
:meth:`~backtest.data.loader.DataLoader.load_series`, ``backtest data show
--start/--end``, the config's ``data.start``/``data.end``/``events.start``/
``events.end``, :func:`backtest.events.select`) goes through this module, so
``01/06/2016`` can never be read as 6 January in one place and 1 June in another.

Accepted: :class:`datetime.date`, :class:`datetime.datetime`,
:class:`pandas.Timestamp`, :class:`numpy.datetime64` and ISO 8601 strings
``YYYY-MM-DD``, optionally followed by a midnight time (``T00:00``,
``T00:00:00Z``, ``T00:00+09:00``). A tz-aware value keeps its *local* calendar
date. Refused, with a message that shows the ISO form to write (or both readings
when the text is ambiguous): day/month orders (``01/06/2016``, ``23.06.2016``),
``2016/06/01``, ``20160601``, month names (``June 1 2016``), numbers, and a
time of day other than midnight (daily series are bounded by observation dates).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from backtest.errors import DataValidationError

__all__ = [
    "DateLike",
    "check_iso_text",
    "finite_or_none",
    "iso_dates",
    "non_iso_reason",
    "parse_date",
]

DateLike: TypeAlias = str | dt.date | dt.datetime | pd.Timestamp | np.datetime64

_EXAMPLE = "YYYY-MM-DD (ISO 8601), e.g. 2025-04-02"

#: ISO 8601 extended date, optionally with a time and a UTC offset.
_ISO = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?)?$"
)
_DAY_MONTH = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})$")  # 01/06/2016, 1.6.2016
_YEAR_FIRST = re.compile(r"^(\d{4})([/.\-])(\d{1,2})\2(\d{1,2})$")  # 2016/06/01, 2016-6-1
_BASIC = re.compile(r"^(\d{4})(\d{2})(\d{2})$")  # 20160601 (ISO 8601 basic format)
_NAMED = ("%B %d %Y", "%b %d %Y", "%d %B %Y", "%d %b %Y", "%Y %B %d", "%Y %b %d")


def _valid(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _readings(text: str) -> list[tuple[dt.date, str]]:
    """The dates a non-ISO `text` could mean, each with how it was read."""
    if m := _DAY_MONTH.match(text):
        a, b, year = int(m[1]), int(m[3]), int(m[4])
        found = [(_valid(year, b, a), "day first"), (_valid(year, a, b), "month first")]
        out = [(d, how) for d, how in found if d is not None]
        return out[:1] if len(out) == 2 and out[0][0] == out[1][0] else out
    if m := _YEAR_FIRST.match(text):
        ymd: tuple[str, ...] | None = (m[1], m[3], m[4])
    else:
        ymd = _BASIC.match(text) and (text[:4], text[4:6], text[6:])
    if ymd:
        day = _valid(*(int(part) for part in ymd))
        return [(day, "year, month, day")] if day is not None else []
    words = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text.replace(",", " ").replace("-", " "))
    words = " ".join(words.split())
    for fmt in _NAMED:
        try:
            return [(dt.datetime.strptime(words, fmt).date(), "month name")]
        except ValueError:
            continue
    return []


def non_iso_reason(text: str) -> str | None:
    """Why `text` is not an ISO 8601 date (or date and time), or ``None`` if it is one.

    Returns
    -------
    str or None
        The end of a message, after the quoted value: ``"is ambiguous: 1 June 2016 (day
        first) or 6 January 2016 (month first); write ..."``, ``"is not an ISO 8601 date;
        write it as '2016-06-23' (YYYY-MM-DD)"``, or ``"does not parse as a date; ..."``.
    """
    text = text.strip()
    m = _ISO.match(text)
    if m is not None:
        try:
            dt.date.fromisoformat(m["date"])
        except ValueError as exc:
            return f"does not parse as a date ({exc}); expected {_EXAMPLE}"
        return None
    readings = _readings(text)
    if len(readings) == 1:
        return f"is not an ISO 8601 date; write it as '{readings[0][0].isoformat()}' (YYYY-MM-DD)"
    if len(readings) == 2:
        (d1, how1), (d2, how2) = readings
        return (
            f"is ambiguous: {d1:%-d %B %Y} ({how1}) or {d2:%-d %B %Y} ({how2}); write the "
            f"date as YYYY-MM-DD (ISO 8601): '{d1.isoformat()}' or '{d2.isoformat()}'"
        )
    return f"does not parse as a date; expected {_EXAMPLE}"


def _refuse_text(text: str, what: str, shown: object) -> DataValidationError:
    return DataValidationError(f"{what}={shown!r} {non_iso_reason(text)}")


def check_iso_text(value: str, what: str) -> None:
    """Refuse a date string that is not ISO 8601 (date, or date and time).

    For callers that accept ISO timestamps with a time of day and parse them
    themselves (:func:`backtest.events.select`); :func:`parse_date` does both.

    Raises
    ------
    backtest.errors.DataValidationError
        `value` is not ``YYYY-MM-DD[THH:MM[:SS][zone]]``; the message names `what`
        and shows the ISO form to write.
    """
    reason = non_iso_reason(value)
    if reason is not None:
        raise DataValidationError(f"{what}={value!r} {reason}")


def parse_date(value: DateLike | None, what: str) -> pd.Timestamp | None:
    """Parse a user-given date to a tz-naive midnight :class:`pandas.Timestamp`.

    Parameters
    ----------
    value : str, datetime.date, datetime.datetime, pandas.Timestamp, numpy.datetime64 or None
        An ISO 8601 date ``YYYY-MM-DD`` (a midnight time and a UTC offset may
        follow), or a date/time object at midnight. ``None`` passes through.
    what : str
        Name of the argument or field, used in messages (``"start"``, ``"--end"``).

    Returns
    -------
    pandas.Timestamp or None
        The date at midnight, tz-naive. A tz-aware value keeps its local calendar
        date (``2025-04-02T00:00+09:00`` is 2025-04-02).

    Raises
    ------
    backtest.errors.DataValidationError
        `value` is not a date, not ISO 8601 (``01/06/2016``, ``2016/06/01``,
        ``20160601``, ``June 1 2016``, a number), has a time of day other than
        midnight, or is outside the dates pandas represents. The message names
        `what` and shows the ISO form to write, or both readings when ambiguous.

    Examples
    --------
    >>> parse_date("2016-06-01", "start")
    Timestamp('2016-06-01 00:00:00')
    >>> parse_date("01/06/2016", "start")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    backtest.errors.DataValidationError: start='01/06/2016' is ambiguous: 1 June 2016 ...
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(
        value, str | dt.date | pd.Timestamp | np.datetime64
    ):
        digits = str(value)
        if (
            isinstance(value, int | np.integer)
            and not isinstance(value, bool)
            and _BASIC.match(digits)
        ):
            raise _refuse_text(digits, what, value)
        raise DataValidationError(
            f"{what}={value!r} ({type(value).__name__}) is not a date; expected {_EXAMPLE}"
        )
    if isinstance(value, str):
        check_iso_text(value, what)
    try:
        ts = pd.Timestamp(value.strip() if isinstance(value, str) else value)
    except (ValueError, TypeError, OverflowError) as exc:
        raise DataValidationError(
            f"{what}={value!r} is outside the dates supported ({pd.Timestamp.min:%Y-%m-%d} to "
            f"{pd.Timestamp.max:%Y-%m-%d}) ({exc})"
        ) from None
    if pd.isna(ts):
        raise DataValidationError(f"{what}={value!r} is not a date; expected {_EXAMPLE}")
    if ts.tz is not None:
        ts = ts.tz_localize(None)  # wall time: the local calendar date
    if ts != ts.normalize():
        shown = repr(value) if isinstance(value, str) else str(value)
        raise DataValidationError(
            f"{what}={shown} has a time of day ({ts:%H:%M:%S}); date bounds are observation "
            f"dates: write '{ts:%Y-%m-%d}'"
        )
    return ts


def iso_dates(index: pd.Index | npt.ArrayLike) -> list[str]:
    """The calendar date of each timestamp as ``YYYY-MM-DD`` (``NaT`` for a missing one).

    ``[d.isoformat() for d in pd.DatetimeIndex(index).date]`` without a Python date
    object per element. Time-zone-aware timestamps give their local date.

    Parameters
    ----------
    index : pandas.Index or array_like
        Timestamps (anything :class:`pandas.DatetimeIndex` accepts).

    Returns
    -------
    list of str
        One ISO 8601 date per timestamp.

    Examples
    --------
    >>> iso_dates(pd.to_datetime(["2025-04-02 16:00", "1969-12-31 23:59"]))
    ['2025-04-02', '1969-12-31']
    """
    idx = pd.DatetimeIndex(index)
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    days = idx.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    out: list[str] = np.datetime_as_string(days, unit="D").tolist()
    return out


def finite_or_none(values: npt.ArrayLike, scale: float = 1.0) -> list[float | None]:
    """``scale * v`` for each finite value as a float, None for NaN and infinities.

    ``[None if not np.isfinite(v) else scale * float(v) for v in values]``, vectorised
    (the same floats).

    Parameters
    ----------
    values : array_like
        Numbers.
    scale : float
        Factor applied to each finite value (e.g. 100 for percent).

    Returns
    -------
    list of float or None
        Python floats, None where the value is NaN or infinite.

    Examples
    --------
    >>> finite_or_none([0.5, float("nan"), -1.0], 100.0)
    [50.0, None, -100.0]
    """
    arr = np.asarray(values, dtype=np.float64)
    out = (arr * scale).astype(object)
    out[~np.isfinite(arr)] = None
    result: list[float | None] = out.tolist()
    return result
