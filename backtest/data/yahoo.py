"""Yahoo Finance daily bars through :func:`yfinance.download`.

yfinance is imported here only, and only when a download is made without an injected
``download`` function.

``yfinance.download`` does not raise when a ticker fails: it catches the exception,
logs ``repr(exception)`` on the ``yfinance`` logger at ERROR level (for example
``['^TNX']: YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')``)
and returns an empty frame. :class:`YahooSource` therefore listens to that logger
during the call to tell a rate limit (retried) from an unknown symbol.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import pandas as pd

from backtest.data.sources import no_network_reason, normalize_series
from backtest.errors import (
    DataSourceError,
    DataValidationError,
    NoNetworkError,
    RateLimitError,
    SymbolNotFoundError,
)

__all__ = ["FIELDS", "YahooSource", "frame_to_series"]

#: Accepted ``field`` values and the yfinance column each one reads.
FIELDS: dict[str, str] = {
    "close": "Close",
    "adj_close": "Adj Close",
    "open": "Open",
    "high": "High",
    "low": "Low",
}

#: Text by which yfinance reports a rate limit (exception class name and message).
_RATE_LIMIT_MARKERS = ("yfratelimiterror", "too many requests", "rate limited")

#: Text of transient failures (curl 28 timeout, 52 empty reply, 56 receive error, resets).
_TRANSIENT_MARKERS = (
    "curl: (28)",
    "curl: (52)",
    "curl: (56)",
    "timed out",
    "timeout(",
    "connection reset",
)

#: yfinance's header line before the per-ticker errors, e.g. "\n1 Failed download:".
_FAILED_HEADER = re.compile(r"^\s*\d+ Failed downloads?:\s*$")

_PRICE_LEVEL = "Price"
_TICKER_LEVEL = "Ticker"


class YahooSource:
    """Daily bars of one Yahoo Finance symbol (``^TNX``, ``^N225``, ``JPY=X``).

    Parameters
    ----------
    download : callable, optional
        Stand-in for :func:`yfinance.download` (same keyword arguments, returns a
        DataFrame). By default yfinance is imported on first use.
    retries : int
        How many times a rate-limited or timed-out download (or one whose connection
        was reset) is retried (so at most ``retries + 1`` attempts). A host that
        cannot be reached at all is not retried
        (:class:`~backtest.errors.NoNetworkError` at once).
    backoff : float
        Seconds before the first retry; doubled at every further retry
        (``backoff * 2**attempt``).
    sleep : callable
        Called with the number of seconds to wait; replace it in tests.

    Notes
    -----
    Every call passes ``auto_adjust=False`` explicitly: yfinance changed its default to
    ``True`` in 0.2.51, which silently turns ``Close`` into the adjusted close and drops
    ``Adj Close``. yfinance's ``end`` is exclusive, so ``end + 1 day`` is sent.

    Examples
    --------
    >>> YahooSource().fetch("^TNX", dt.date(2025, 4, 7), dt.date(2025, 4, 8))  # doctest: +SKIP
    """

    name: ClassVar[str] = "yahoo"
    host: ClassVar[str | None] = "query1.finance.yahoo.com"

    def __init__(
        self,
        *,
        download: Callable[..., pd.DataFrame] | None = None,
        retries: int = 4,
        backoff: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if retries < 0:
            raise DataValidationError(f"YahooSource: retries must be >= 0, got {retries}")
        if backoff < 0:
            raise DataValidationError(f"YahooSource: backoff must be >= 0, got {backoff}")
        self._download = download
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep

    def fetch(
        self,
        symbol: str,
        start: dt.date | None = None,
        end: dt.date | None = None,
        *,
        field: str = "close",
    ) -> pd.Series:
        """Download the daily `field` of `symbol` from `start` to `end` (both inclusive).

        Parameters
        ----------
        symbol : str
            Yahoo ticker, e.g. ``"^TNX"``, ``"^N225"``, ``"JPY=X"``.
        start, end : datetime.date, optional
            Inclusive bounds; ``None`` means the whole history (``period="max"``) /
            up to today.
        field : {"close", "adj_close", "open", "high", "low"}
            Which price of the bar to return.

        Returns
        -------
        pandas.Series
            ``float64`` values named `symbol`, indexed by the exchange's local date
            (``DatetimeIndex`` named ``"date"``); days without a value are absent.

        Raises
        ------
        backtest.errors.DataValidationError
            Unknown `field`, empty `symbol`, or `start` after `end`.
        backtest.errors.SymbolNotFoundError
            yfinance returned no rows for `symbol` (its logged message is quoted).
        backtest.errors.RateLimitError
            Yahoo still refused the requests as too many after `retries` retries.
        backtest.errors.NoNetworkError
            Yahoo's host cannot be reached at all (yfinance logged or raised a failed
            name resolution, a refused connection or an unreachable network).
        backtest.errors.DataSourceError
            yfinance is missing, raised an unexpected error, returned an unexpected
            frame, or still timed out after `retries` retries.
        """
        _column(field)  # validate before any download
        symbol = symbol.strip() if isinstance(symbol, str) else symbol
        if not isinstance(symbol, str) or not symbol:
            raise DataValidationError(f"Yahoo: symbol must be a non-empty ticker, got {symbol!r}")
        if start is not None and end is not None and start > end:
            raise DataValidationError(f"Yahoo {symbol}: start {start} is after end {end}")
        kwargs: dict[str, Any] = {
            "end": (end + dt.timedelta(days=1)).isoformat() if end is not None else None,
            "interval": "1d",
            "auto_adjust": False,
            "actions": False,
            "progress": False,
            "threads": False,
            "multi_level_index": True,
            "ignore_tz": True,
        }
        if start is None:
            kwargs["period"] = "max"
        else:
            kwargs["start"] = start.isoformat()
        download = self._download if self._download is not None else _yfinance_download()

        attempts = self.retries + 1
        last = ""
        rate_limited = False
        for attempt in range(attempts):
            frame, messages, error = _call(download, symbol, kwargs)
            said = "; ".join(messages)
            reason = no_network_reason(error if error is not None else said)
            if reason is not None and (error is not None or frame is None or frame.empty):
                shown = f"{type(error).__name__}: {error}" if error is not None else said
                raise NoNetworkError(
                    f"Yahoo {symbol}: cannot reach {self.host}: {reason} "
                    f"(yfinance: {_shorten(shown)})"
                ) from error
            if error is not None:
                last = f"{type(error).__name__}: {error}"
                rate_limited = _is_rate_limit(last, type(error))
                if not (rate_limited or _is_transient(last, type(error))):
                    raise DataSourceError(
                        f"Yahoo {symbol}: yfinance.download raised {last}"
                    ) from error
            elif frame is None or frame.empty:
                rate_limited = _is_rate_limit(said)
                if not (rate_limited or _is_transient(said)):
                    raise SymbolNotFoundError(_not_found_message(symbol, start, end, said))
                last = said
            else:
                series = frame_to_series(frame, symbol, field)
                lo = pd.Timestamp(start) if start is not None else None
                hi = pd.Timestamp(end) if end is not None else None
                return series.loc[lo:hi]
            if attempt < self.retries:
                self.sleep(self.backoff * 2**attempt)
        if rate_limited:
            raise RateLimitError(
                f"Yahoo {symbol}: still rate limited after {attempts} attempts "
                f"(backoff {self.backoff:g}s doubling); last message: {last}. "
                "Wait a while before trying again"
            )
        raise DataSourceError(
            f"Yahoo {symbol}: still failing after {attempts} attempts (backoff "
            f"{self.backoff:g}s doubling); last message: {_shorten(last)}"
        )


def frame_to_series(frame: pd.DataFrame, symbol: str, field: str = "close") -> pd.Series:
    """Extract one field of one ticker from a frame returned by yfinance.

    Parameters
    ----------
    frame : pandas.DataFrame
        Output of :func:`yfinance.download` or ``Ticker.history``. Accepted column
        layouts: a MultiIndex with levels ``['Price', 'Ticker']`` (``download``'s
        default), ``['Ticker', 'Price']`` (``group_by='ticker'``), or single-level
        price columns (``Ticker.history``, ``multi_level_index=False``). The index
        (``Date``) may be tz-naive or tz-aware in the exchange's time zone.
    symbol : str
        Ticker to select in the ``Ticker`` level (compared case-insensitively, as
        yfinance upper-cases tickers); also the name of the result.
    field : {"close", "adj_close", "open", "high", "low"}
        Price to extract.

    Returns
    -------
    pandas.Series
        Canonical series (see :func:`backtest.data.sources.normalize_series`) named
        `symbol`; rows where the field is missing are dropped; a tz-aware index keeps
        its *local* calendar date (a Tokyo bar at ``2025-04-07 00:00+09:00`` is dated
        2025-04-07).

    Raises
    ------
    backtest.errors.DataValidationError
        `field` is not one of the accepted names.
    backtest.errors.DataSourceError
        The frame lacks `symbol` or the field's column, or its dates do not parse.

    Examples
    --------
    >>> idx = pd.DatetimeIndex(["2025-04-07", "2025-04-08"], name="Date")
    >>> bars = pd.DataFrame({"Close": [31136.58, 33012.58]}, index=idx)
    >>> frame_to_series(bars, "^N225").tolist()
    [31136.58, 33012.58]
    """
    column = _column(field)
    what = f"Yahoo {symbol}"
    prices = _ticker_columns(frame, symbol)
    if column not in prices.columns:
        found = [str(c) for c in prices.columns]
        hint = ""
        if field == "adj_close":
            hint = (
                "; yfinance drops 'Adj Close' when auto_adjust=True (its default since "
                "0.2.51), where 'Close' is already adjusted: download with "
                "auto_adjust=False or use field='close'"
            )
        raise DataSourceError(
            f"{what}: no {column!r} column for field {field!r}; got columns {found}{hint}"
        )
    values = prices.loc[:, column]
    if isinstance(values, pd.DataFrame):
        raise DataSourceError(f"{what}: column {column!r} appears {values.shape[1]} times")
    values = values.dropna()
    values.name = symbol
    try:
        series = normalize_series(values, what=what)
    except DataValidationError as exc:
        raise DataSourceError(str(exc)) from exc
    series.name = symbol
    return series


def _column(field: str) -> str:
    try:
        return FIELDS[field]
    except (KeyError, TypeError):
        raise DataValidationError(
            f"Yahoo: unknown field {field!r}; expected one of {', '.join(FIELDS)}"
        ) from None


def _ticker_columns(frame: pd.DataFrame, symbol: str) -> pd.DataFrame:
    """The single-level price columns of `symbol` in `frame`."""
    columns = frame.columns
    if not isinstance(columns, pd.MultiIndex):
        return frame
    if columns.nlevels != 2:
        raise DataSourceError(
            f"Yahoo {symbol}: expected 2 column levels (Price, Ticker), "
            f"got {columns.nlevels}: {list(columns.names)}"
        )
    names = list(columns.names)
    if _TICKER_LEVEL in names and _PRICE_LEVEL in names:
        level = names.index(_TICKER_LEVEL)
    else:  # unnamed levels: the ticker level is the one without price names
        prices = set(FIELDS.values())
        level = 1 if prices & set(columns.get_level_values(0)) else 0
    tickers = list(dict.fromkeys(columns.get_level_values(level)))
    match = [t for t in tickers if str(t).upper() == symbol.upper()]
    if not match:
        raise DataSourceError(
            f"Yahoo {symbol}: the frame has no columns for {symbol!r}; tickers found: "
            f"{[str(t) for t in tickers]}"
        )
    return frame.xs(match[0], axis=1, level=level)


def _yfinance_download() -> Callable[..., pd.DataFrame]:
    try:
        import yfinance
    except ImportError as exc:
        raise DataSourceError(
            f"Yahoo: the yfinance package is needed to download from Yahoo Finance ({exc}); "
            "install it with 'pip install yfinance'"
        ) from exc
    return yfinance.download


def _call(
    download: Callable[..., pd.DataFrame], symbol: str, kwargs: dict[str, Any]
) -> tuple[pd.DataFrame | None, list[str], Exception | None]:
    """Run one download; return its frame, yfinance's error messages and any exception."""
    with _capture_yfinance_errors() as messages:
        try:
            frame = download(symbol, **kwargs)
        except Exception as exc:  # yfinance versions raise many types; classified by caller
            return None, messages, exc
    return frame, messages, None


class _ErrorCapture(logging.Handler):
    """Collect ERROR records of the calling thread (download runs with threads=False)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread not in (None, self.thread):
            return
        try:
            message = record.getMessage()
        except Exception:  # a malformed record must not break the download
            message = str(record.msg)
        for line in message.strip().splitlines():
            if line.strip() and not _FAILED_HEADER.match(line):
                self.messages.append(line.strip())


@contextlib.contextmanager
def _capture_yfinance_errors() -> Iterator[list[str]]:
    logger = logging.getLogger("yfinance")
    handler = _ErrorCapture()
    level, disabled = logger.level, logger.disabled
    if logger.getEffectiveLevel() > logging.ERROR:  # a user silenced yfinance: still listen
        logger.setLevel(logging.ERROR)
    logger.disabled = False
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.disabled = disabled


def _is_rate_limit(text: str, kind: type | None = None) -> bool:
    names = [k.__name__ for k in kind.__mro__] if kind is not None else []
    if "YFRateLimitError" in names:
        return True
    lowered = text.lower()
    return any(marker in lowered for marker in _RATE_LIMIT_MARKERS)


def _is_transient(text: str, kind: type | None = None) -> bool:
    """A timeout or a dropped connection, worth a retry (curl_cffi: Timeout, curl 28/52/56)."""
    names = [k.__name__ for k in kind.__mro__] if kind is not None else []
    if any("Timeout" in name for name in names):
        return True
    lowered = text.lower()
    return any(marker in lowered for marker in _TRANSIENT_MARKERS)


def _shorten(text: str, limit: int = 200) -> str:
    """yfinance's error text without curl's boilerplate link, at most `limit` characters."""
    text = re.sub(r"\.? See https://curl\.se/\S+ first for more details\.?", "", text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _not_found_message(symbol: str, start: dt.date | None, end: dt.date | None, said: str) -> str:
    span = f" between {start or 'the first day'} and {end or 'today'}"
    told = f"yfinance said: {said}" if said else "yfinance logged no error"
    return (
        f"Yahoo returned no data for {symbol!r}{span} ({told}). Check the symbol on "
        f"https://finance.yahoo.com/quote/{symbol} and that the range holds trading days"
    )
