"""The small interface every data source implements, and the local-file source.

A source turns a *symbol* (``"DGS10"`` for FRED, ``"^TNX"`` for Yahoo, a path for
files) into one clean daily series. Every source returns the same shape, so the
loader, the cache and the tests treat them alike:

* a ``float64`` :class:`pandas.Series` named after the symbol;
* a tz-naive :class:`pandas.DatetimeIndex` named ``"date"`` holding observation
  *dates* (midnight), strictly increasing, without duplicates;
* no missing values: a day the market had no observation is simply absent
  (FRED writes those days as ``.`` or an empty field; they are dropped).

Remote sources live in :mod:`backtest.data.fred` and :mod:`backtest.data.yahoo`.
"""

from __future__ import annotations

import datetime as dt
import errno
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from backtest.data.dates import non_iso_reason
from backtest.errors import DataValidationError

__all__ = ["FileSource", "Source", "no_network_reason", "normalize_series", "read_series_file"]

#: Column names accepted as the date column of a CSV file (case-insensitive).
DATE_COLUMNS = ("date", "observation_date", "datetime", "timestamp", "time")


@runtime_checkable
class Source(Protocol):
    """What a data source provides.

    Attributes
    ----------
    name : str
        Provider key used in the catalog (``"fred"``, ``"yahoo"``, ``"file"``).
    host : str or None
        Network host the source talks to, probed to detect a missing network;
        ``None`` for local sources.
    """

    name: ClassVar[str]
    host: ClassVar[str | None]

    def fetch(
        self,
        symbol: str,
        start: dt.date | None = None,
        end: dt.date | None = None,
        *,
        field: str = "close",
    ) -> pd.Series:
        """Return the observations of `symbol` from `start` to `end` (both inclusive).

        Parameters
        ----------
        symbol : str
            The source's own identifier of the series.
        start, end : datetime.date, optional
            Inclusive date bounds; ``None`` means the whole history / up to today.
        field : str
            Which field of a bar to return (``"close"``, ``"adj_close"``, ``"open"``);
            sources with one value per day ignore it.

        Returns
        -------
        pandas.Series
            See the module docstring for the guaranteed shape.

        Raises
        ------
        backtest.errors.SymbolNotFoundError
            The source has no data for `symbol`.
        backtest.errors.RateLimitError
            The source refused requests as too many after all retries.
        backtest.errors.DataSourceError
            Any other failure to obtain the data.
        """
        ...


#: errno values meaning the host cannot be reached at all (not worth a retry).
_NO_NETWORK_ERRNOS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ENETUNREACH: "network is unreachable",
    errno.EHOSTUNREACH: "no route to host",
    errno.ENETDOWN: "network is down",
}

#: The same failures as worded by the resolver, urllib3 and curl (yfinance logs text).
_NO_NETWORK_TEXT = (
    ("name or service not known", "name resolution failed"),
    ("temporary failure in name resolution", "name resolution failed"),
    ("nodename nor servname", "name resolution failed"),
    ("getaddrinfo failed", "name resolution failed"),
    ("failed to resolve", "name resolution failed"),
    ("could not resolve host", "name resolution failed"),
    ("curl: (6)", "name resolution failed"),
    ("connection refused", "connection refused"),
    ("network is unreachable", "network is unreachable"),
    ("no route to host", "no route to host"),
    ("curl: (7)", "could not connect"),
)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and every exception it wraps (cause, context, args, urllib3's ``reason``)."""
    todo, seen = [exc], set()
    while todo:
        item = todo.pop(0)
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        inner = [item.__cause__, item.__context__, getattr(item, "reason", None), *item.args]
        todo.extend(x for x in inner if isinstance(x, BaseException))


def no_network_reason(error: BaseException | str) -> str | None:
    """Say why `error` means "no network at all", or return ``None`` if it does not.

    Parameters
    ----------
    error : BaseException or str
        An exception raised by a request (``requests.ConnectionError`` wrapping
        urllib3's ``NameResolutionError`` / ``NewConnectionError``, a curl error),
        or the text of one (yfinance logs errors instead of raising them).

    Returns
    -------
    str or None
        A short reason such as ``"name resolution failed ([Errno -2] Name or service
        not known)"`` for a failed name resolution, a refused connection or an
        unreachable network; ``None`` for anything else (timeouts, resets, HTTP
        errors), which may be transient and are worth a retry.
    """
    if isinstance(error, str):
        items: list[BaseException] = []
        text = error
    else:
        items = list(_chain(error))
        for item in items:
            if isinstance(item, socket.gaierror):
                return f"name resolution failed ({item})"
            if isinstance(item, OSError) and item.errno in _NO_NETWORK_ERRNOS:
                return f"{_NO_NETWORK_ERRNOS[item.errno]} ({item})"
        text = " ".join(str(item) for item in items)
    lowered = text.lower()
    for marker, reason in _NO_NETWORK_TEXT:
        if marker in lowered:
            return reason
    return None


def normalize_series(values: pd.Series, *, what: str, duplicates: str = "error") -> pd.Series:
    """Bring a raw daily series into the canonical shape shared by all sources.

    Parameters
    ----------
    values : pandas.Series
        Raw values indexed by something date-like (strings, naive or tz-aware
        timestamps). Non-numeric markers such as FRED's ``"."`` become missing.
    what : str
        Description used in error messages, e.g. ``"data/snapshot/DGS10.csv"``.
    duplicates : {"error", "drop-identical"}
        ``"error"`` rejects any repeated date; ``"drop-identical"`` keeps one row of
        a date repeated with the same value and rejects conflicting repeats.

    Returns
    -------
    pandas.Series
        ``float64`` values on a sorted, unique, tz-naive ``DatetimeIndex`` named
        ``"date"``; missing values dropped.

    Raises
    ------
    backtest.errors.DataValidationError
        A date is not ISO 8601 text or a date object (``01/06/2016`` is refused with
        both readings, never guessed), or a date is repeated (see `duplicates`).

    Notes
    -----
    Documented normalisations: unsorted dates are sorted; tz-aware timestamps
    keep their local calendar date (a Tokyo bar stamped ``2025-04-03 00:00+09:00``
    is dated 2025-04-03, not converted to UTC first, which would move it to the
    previous day); times of day are dropped.
    """
    index = values.index
    if not isinstance(index, pd.DatetimeIndex):
        try:  # ISO 8601 only: "01/06/2016" would be read month-first, a date misread
            index = pd.DatetimeIndex(pd.to_datetime(index, format="ISO8601"))
        except (ValueError, TypeError) as exc:
            bad, why = _first_unparseable(values.index)
            raise DataValidationError(
                f"{what}: date {bad!r} {why}; dates must be ISO 8601 (YYYY-MM-DD)"
            ) from exc
    if index.tz is not None:
        index = index.tz_localize(None)
    index = index.normalize()
    if pd.api.types.is_float_dtype(values.dtype) or pd.api.types.is_integer_dtype(values.dtype):
        numeric = values.to_numpy(dtype="float64")
    else:
        numeric = pd.to_numeric(
            pd.Series(values.to_numpy(), dtype=object), errors="coerce"
        ).to_numpy(dtype="float64")
    out = pd.Series(numeric, index=index, name=values.name)
    out = out[np.isfinite(out.to_numpy())]
    if not out.index.is_monotonic_increasing:
        out = out.sort_index(kind="stable")
    dup = out.index.duplicated(keep=False)
    if dup.any():
        repeated = out[dup]
        conflicting = repeated.groupby(level=0).nunique() > 1
        if duplicates == "error" or conflicting.any():
            day = (conflicting[conflicting].index if conflicting.any() else repeated.index)[0]
            vals = sorted(set(repeated.loc[day].tolist()))
            raise DataValidationError(
                f"{what}: date {day.date()} appears more than once (values {vals}); "
                "each date must appear once"
            )
        out = out[~out.index.duplicated(keep="first")]
    out.index.name = "date"
    return out


def _first_unparseable(index: pd.Index) -> tuple[object, str]:
    """The first date of `index` that is not ISO 8601, and why (with the ISO form if known)."""
    for item in index:
        if isinstance(item, str):
            reason = non_iso_reason(item)
            if reason is not None:
                return item, reason
            continue
        try:
            pd.Timestamp(item)
        except (ValueError, TypeError):
            return item, "does not parse"
    return (index[0] if len(index) else None), "does not parse (mixed forms or time zones)"


def read_series_file(path: Path, *, field: str = "close", column: str | None = None) -> pd.Series:
    """Read one daily series from a local CSV or parquet file.

    Parameters
    ----------
    path : pathlib.Path
        A ``.csv`` file with a date column (one of ``date``, ``observation_date``,
        ``datetime``, ``timestamp``, ``time``, any case) or a ``.parquet`` file
        whose index or a date column holds the dates.
    field : str
        For bar files (``open, high, low, close``), the field to return.
    column : str, optional
        Name of the value column; by default ``value``, else `field`, else the only
        non-date column.

    Returns
    -------
    pandas.Series
        Canonical series (see :func:`normalize_series`); duplicated dates with the
        same value are collapsed, conflicting ones are an error.

    Raises
    ------
    backtest.errors.DataValidationError
        The file is missing, unreadable, has no date column, no usable value
        column, or bad dates.
    """
    path = Path(path)
    if not path.exists():
        raise DataValidationError(f"{path}: file not found")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(path)
            if isinstance(frame.index, pd.DatetimeIndex):
                frame = frame.reset_index()
        elif suffix in (".csv", ".txt"):
            # Only "" and "." (FRED's marker) mean missing; other text is an error below.
            frame = pd.read_csv(path, keep_default_na=False, na_values=["", "."])
        else:
            raise DataValidationError(
                f"{path}: unsupported file type {suffix!r}; expected .csv or .parquet"
            )
    except DataValidationError:
        raise
    except Exception as exc:  # pandas/pyarrow raise many types for unreadable files
        raise DataValidationError(f"{path}: cannot be read ({exc})") from exc
    lower = {str(c).strip().lower(): c for c in frame.columns}
    date_col = next((lower[c] for c in DATE_COLUMNS if c in lower), None)
    if date_col is None:
        raise DataValidationError(
            f"{path}: no date column; expected one of {', '.join(DATE_COLUMNS)}, "
            f"found columns {[str(c) for c in frame.columns]}"
        )
    others = [c for c in frame.columns if c != date_col]
    wanted = [column] if column else ["value", field, field.replace("_", " ")]
    value_col = next((lower[w.lower()] for w in wanted if w.lower() in lower), None)
    if value_col is None and column is None and len(others) == 1:
        value_col = others[0]
    if value_col is None:
        raise DataValidationError(
            f"{path}: no value column; expected {' or '.join(repr(w) for w in wanted)}, "
            f"found columns {[str(c) for c in others]}"
        )
    raw = pd.Series(frame[value_col].to_numpy(), index=frame[date_col].astype(str).to_numpy())
    if not pd.api.types.is_numeric_dtype(raw.dtype):
        bad = pd.to_numeric(raw, errors="coerce").isna() & raw.notna()
        if bad.any():
            where = raw.index[bad.to_numpy()][0]
            raise DataValidationError(
                f"{path}: column {value_col!r} has non-numeric value {raw[bad].iloc[0]!r} "
                f"on {where}; expected a number, '.' or empty for a missing day"
            )
    series = normalize_series(raw, what=str(path), duplicates="drop-identical")
    series.name = path.stem
    return series


class FileSource:
    """Local CSV or parquet files, the third source beside FRED and Yahoo.

    Parameters
    ----------
    root : pathlib.Path, optional
        Directory that relative symbols resolve against.

    Examples
    --------
    >>> from backtest.data.snapshot import snapshot_dir
    >>> s = FileSource(snapshot_dir()).fetch("DGS10.csv")
    >>> float(s.loc["2025-04-04"])
    4.01
    """

    name: ClassVar[str] = "file"
    host: ClassVar[str | None] = None

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else None

    def path(self, symbol: str) -> Path:
        """Resolve `symbol` (a file path) against the source's root."""
        p = Path(symbol).expanduser()
        if not p.is_absolute() and self.root is not None:
            p = self.root / p
        return p

    def fetch(
        self,
        symbol: str,
        start: dt.date | None = None,
        end: dt.date | None = None,
        *,
        field: str = "close",
    ) -> pd.Series:
        """Read the file named by `symbol`; see :func:`read_series_file`."""
        series = read_series_file(self.path(symbol), field=field)
        return series.loc[
            pd.Timestamp(start) if start else None : pd.Timestamp(end) if end else None
        ]
