"""FRED (Federal Reserve Bank of St. Louis) daily series over its public CSV endpoint.

The endpoint ``https://fred.stlouisfed.org/graph/fredgraph.csv?id=DGS10`` needs no API
key and answers with two columns::

    observation_date,DGS10
    2025-04-01,4.17
    2025-04-18,

Older answers used the header ``DATE,DGS10`` and wrote a missing day as ``.``; both
forms are accepted. Unknown ids get an HTML error page (status 200 or 404).
"""

from __future__ import annotations

import datetime as dt
import io
import time
import urllib.parse
from collections.abc import Callable
from typing import ClassVar

import numpy as np
import pandas as pd
import requests

from backtest import __version__
from backtest.data.sources import DATE_COLUMNS, no_network_reason, normalize_series
from backtest.errors import (
    DataSourceError,
    DataValidationError,
    NoNetworkError,
    RateLimitError,
    SymbolNotFoundError,
)

__all__ = ["FredSource"]

_USER_AGENT = f"backtest/{__version__} (python-requests)"

#: Public page of a series, quoted in "not found" messages.
_SERIES_PAGE = "https://fred.stlouisfed.org/series/{symbol}"

#: HTTP statuses meaning "this id does not exist".
_NOT_FOUND_STATUSES = frozenset({400, 404})


class FredSource:
    """Daily series from FRED's public CSV download (no API key).

    Parameters
    ----------
    session : requests.Session, optional
        Session used for the requests; a new one by default.
    base_url : str
        The CSV endpoint; the series id goes in the ``id`` query parameter.
    timeout : float
        Seconds to wait for each response.
    connect_timeout : float
        Seconds to wait for the connection to open (a network that drops packets
        silently shows as connect timeouts, retried like any timeout).
    retries : int
        How many times a request refused with 429, failed with a 5xx status, a
        connection error or a timeout is retried (so at most ``retries + 1`` attempts).
        A host that cannot be reached at all (name resolution failed, connection
        refused, network unreachable) is not retried: that is
        :class:`~backtest.errors.NoNetworkError` at the first attempt.
    backoff : float
        Seconds before the first retry; doubled at every further retry
        (``backoff * 2**attempt``). A numeric ``Retry-After`` header lengthens the wait.
    sleep : callable
        Called with the number of seconds to wait; replace it in tests.

    Examples
    --------
    >>> src = FredSource()  # doctest: +SKIP
    >>> src.fetch("DGS10", dt.date(2025, 4, 1), dt.date(2025, 4, 4)).tolist()  # doctest: +SKIP
    [4.17, 4.2, 4.06, 4.01]
    """

    name: ClassVar[str] = "fred"
    host: ClassVar[str | None] = "fred.stlouisfed.org"

    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        base_url: str = "https://fred.stlouisfed.org/graph/fredgraph.csv",
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        retries: int = 4,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if retries < 0:
            raise DataValidationError(f"FredSource: retries must be >= 0, got {retries}")
        if backoff < 0:
            raise DataValidationError(f"FredSource: backoff must be >= 0, got {backoff}")
        self.session = session if session is not None else requests.Session()
        self.base_url = base_url
        self.timeout = timeout
        self.connect_timeout = min(connect_timeout, timeout)
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
        """Download the FRED series `symbol` from `start` to `end` (both inclusive).

        Parameters
        ----------
        symbol : str
            FRED series id, e.g. ``"DGS10"`` or ``"DEXJPUS"``.
        start, end : datetime.date, optional
            Inclusive date bounds, sent as ``cosd`` / ``coed``; ``None`` means the whole
            history / up to the latest observation.
        field : str
            Ignored: a FRED series has one value per day.

        Returns
        -------
        pandas.Series
            ``float64`` values named `symbol` on a ``DatetimeIndex`` named ``"date"``;
            days FRED leaves empty (or writes as ``.``) are absent. A valid answer
            without any value gives an empty series.

        Raises
        ------
        backtest.errors.SymbolNotFoundError
            FRED has no series `symbol` (HTML error page, status 404 or 400).
        backtest.errors.RateLimitError
            FRED still answered 429 after `retries` retries.
        backtest.errors.NoNetworkError
            The host cannot be reached at all (no retry is made).
        backtest.errors.DataSourceError
            Any other failure: persistent 5xx or connection errors, or a body that is
            not FRED's two-column CSV.
        backtest.errors.DataValidationError
            `symbol` is empty or `start` is after `end`.
        """
        del field  # one value per day
        symbol = symbol.strip() if isinstance(symbol, str) else symbol
        if not isinstance(symbol, str) or not symbol:
            raise DataValidationError(f"FRED: symbol must be a non-empty series id, got {symbol!r}")
        if start is not None and end is not None and start > end:
            raise DataValidationError(f"FRED {symbol}: start {start} is after end {end}")
        params = {"id": symbol}
        if start is not None:
            params["cosd"] = start.strftime("%Y-%m-%d")
        if end is not None:
            params["coed"] = end.strftime("%Y-%m-%d")
        url = requests.Request("GET", self.base_url, params=params).prepare().url or self.base_url
        response = self._get(symbol, params, url)
        series = _parse_csv(response, symbol, url)
        lo = pd.Timestamp(start) if start is not None else None
        hi = pd.Timestamp(end) if end is not None else None
        return series.loc[lo:hi]

    def _get(self, symbol: str, params: dict[str, str], url: str) -> requests.Response:
        """GET with retries on 429, 5xx, connection errors and timeouts."""
        attempts = self.retries + 1
        last = ""
        rate_limited = False
        for attempt in range(attempts):
            retry_after: float | None = None
            try:
                response = self.session.get(
                    self.base_url,
                    params=params,
                    timeout=(self.connect_timeout, self.timeout),
                    headers={"User-Agent": _USER_AGENT},
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                reason = None if isinstance(exc, requests.Timeout) else no_network_reason(exc)
                if reason is not None:  # no network at all: a retry cannot help
                    host = urllib.parse.urlsplit(self.base_url).hostname or self.base_url
                    raise NoNetworkError(f"FRED {symbol}: cannot reach {host}: {reason}") from exc
                last = f"{type(exc).__name__}: {exc}"
                rate_limited = False
            else:
                status = response.status_code
                if status in _NOT_FOUND_STATUSES:
                    raise SymbolNotFoundError(_not_found_message(symbol, url, f"status {status}"))
                if status != 429 and status < 500:
                    if status >= 400:
                        raise DataSourceError(
                            f"FRED {symbol}: {url} answered status {status} {response.reason}; "
                            f"expected 200 with a CSV body, got {response.text[:200]!r}"
                        )
                    return response
                last = f"status {status} {response.reason}".rstrip()
                rate_limited = status == 429
                retry_after = _retry_after(response)
            if attempt < self.retries:
                delay = self.backoff * 2**attempt
                if retry_after is not None:
                    delay = max(delay, retry_after)
                self.sleep(delay)
        error = RateLimitError if rate_limited else DataSourceError
        raise error(
            f"FRED {symbol}: giving up on {url} after {attempts} attempts; last answer: {last}"
        )


def _retry_after(response: requests.Response) -> float | None:
    """The numeric ``Retry-After`` header in seconds, or None (absent or an HTTP date)."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if np.isfinite(seconds) and seconds >= 0 else None


def _not_found_message(symbol: str, url: str, what: str) -> str:
    page = _SERIES_PAGE.format(symbol=symbol)
    return (
        f"FRED has no series {symbol!r} ({page}); {url} answered with {what}. "
        "Check the id on https://fred.stlouisfed.org/"
    )


def _looks_like_html(text: str) -> bool:
    """FRED's error pages are HTML; its CSV starts with the header line."""
    head = text.lstrip()[:500].lower()
    return head.startswith("<") or "<html" in head


def _parse_csv(response: requests.Response, symbol: str, url: str) -> pd.Series:
    """Turn FRED's two-column CSV body into a canonical series named `symbol`."""
    text = response.text.lstrip("\ufeff")
    if _looks_like_html(text):
        raise SymbolNotFoundError(
            _not_found_message(symbol, url, f"an HTML page (status {response.status_code})")
        )
    expected = f"a CSV header 'observation_date,{symbol}' (or 'DATE,{symbol}')"
    header = text.lstrip().split("\n", 1)[0].strip()
    columns = [c.strip().strip('"').strip() for c in header.split(",")]
    if (
        len(columns) != 2
        or columns[0].lower() not in DATE_COLUMNS
        or columns[1].upper() != symbol.upper()
    ):
        raise DataSourceError(
            f"FRED {symbol}: unexpected answer from {url}: expected {expected}, got {text[:200]!r}"
        )
    try:
        frame = pd.read_csv(io.StringIO(text.lstrip()), dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataSourceError(
            f"FRED {symbol}: {url} sent a CSV that does not parse ({exc}); got {text[:200]!r}"
        ) from exc
    dates = frame.iloc[:, 0].str.strip()
    values = frame.iloc[:, 1].str.strip()
    raw = pd.Series(values.to_numpy(), index=dates.to_numpy(), dtype=object, name=symbol)
    raw = raw.replace({"": np.nan, ".": np.nan})
    bad = pd.to_numeric(raw, errors="coerce").isna() & raw.notna()
    if bad.any():
        where = raw.index[bad.to_numpy()][0]
        raise DataSourceError(
            f"FRED {symbol}: {url} sent non-numeric value {raw[bad].iloc[0]!r} on {where}; "
            "expected a number, '.' or an empty field for a missing day"
        )
    try:
        series = normalize_series(raw, what=f"FRED {symbol}")
    except DataValidationError as exc:
        raise DataSourceError(f"{exc} (from {url})") from exc
    series.name = symbol
    return series
