"""Bank of Japan daily series over the Time-Series Data Search API (no API key).

The Bank of Japan opened an API to its Time-Series Data Search site on 2026-02-18
(https://www.stat-search.boj.or.jp/info/api_manual.pdf). This module uses its
code endpoint::

    GET https://www.stat-search.boj.or.jp/api/v1/getDataCode
        ?db=FM01&code=STRDCLUCON&format=json&lang=en&startDate=202401&endDate=202412

``db`` is the database (``FM01``: uncollateralized overnight call rate), ``code`` the
series code *without* the database prefix, and ``startDate`` / ``endDate`` are months
(``YYYYMM``) for daily series: the API takes no day. The answer is JSON, always with
HTTP status 200; the ``STATUS`` field tells success (200) from a bad request (400),
an unexpected error (500) or a database error (503)::

    {"STATUS": 200, "MESSAGEID": "M181000I", "MESSAGE": "...",
     "DATE": "2026-02-18T13:00:00.000+09:00", "PARAMETER": {...},
     "NEXTPOSITION": null,
     "RESULTSET": [{"SERIES_CODE": "STRDCLUCON",
                    "NAME_OF_TIME_SERIES": "Call Rate, Uncollateralized Overnight",
                    "UNIT": "% per annum", "FREQUENCY": "DAILY",
                    "VALUES": {"SURVEY_DATES": [20240104, ...],
                               "VALUES": [-0.003, ...]}}]}

Daily survey dates are ``YYYYMMDD`` integers and a missing value is ``null``.
``MESSAGEID`` ``M181030I`` means success without data; ``M181013E`` means an unknown
series code. A non-null ``NEXTPOSITION`` asks for another request with
``startPosition`` set to it. In the catalog a BoJ series is written
``"<db>'<code>"`` (``FM01'STRDCLUCON``), the Bank's own notation.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import requests

from backtest import __version__
from backtest.data.sources import no_network_reason, normalize_series
from backtest.errors import (
    DataSourceError,
    DataValidationError,
    NoNetworkError,
    RateLimitError,
    SymbolNotFoundError,
)

__all__ = ["BojSource", "parse_symbol"]

_USER_AGENT = f"backtest/{__version__} (python-requests)"

#: ``MESSAGEID`` of a successful request that matched no data.
NO_DATA = "M181030I"
#: ``MESSAGEID`` of an unknown series code.
UNKNOWN_CODE = "M181013E"
#: ``STATUS`` values the manual documents as server-side (worth a retry).
_SERVER_STATUSES = frozenset({500, 503})
#: Upper bound on pages followed through ``NEXTPOSITION`` (a guard against loops).
_MAX_PAGES = 50


def parse_symbol(symbol: str) -> tuple[str, str]:
    """Split a catalog symbol ``"<db>'<code>"`` into the database and the series code.

    Parameters
    ----------
    symbol : str
        E.g. ``"FM01'STRDCLUCON"``.

    Returns
    -------
    tuple of str
        ``(db, code)``, e.g. ``("FM01", "STRDCLUCON")``.

    Raises
    ------
    backtest.errors.DataValidationError
        `symbol` is not of the form ``<db>'<code>`` with both parts non-empty.

    Examples
    --------
    >>> parse_symbol("FM01'STRDCLUCON")
    ('FM01', 'STRDCLUCON')
    """
    text = symbol.strip() if isinstance(symbol, str) else ""
    db, sep, code = text.partition("'")
    if not sep or not db.strip() or not code.strip() or "'" in code:
        raise DataValidationError(
            f"Bank of Japan: symbol must be '<database>'<series code>' such as "
            f'"FM01\'STRDCLUCON", got {symbol!r}'
        )
    return db.strip(), code.strip()


class BojSource:
    """Daily series from the Bank of Japan's Time-Series Data Search API.

    Parameters
    ----------
    session : requests.Session, optional
        Session used for the requests; a new one by default.
    base_url : str
        The ``getDataCode`` endpoint.
    timeout : float
        Seconds to wait for each response.
    connect_timeout : float
        Seconds to wait for the connection to open.
    retries : int
        How many times a request is retried after HTTP 429/5xx, a ``STATUS`` of 500 or
        503 in the body, a connection error or a timeout (at most ``retries + 1``
        attempts). An unreachable host is :class:`~backtest.errors.NoNetworkError` at
        once.
    backoff : float
        Seconds before the first retry, doubled at every further retry.
    pause : float
        Seconds to wait between the pages of one download (the Bank asks users to
        avoid high-frequency access).
    sleep : callable
        Called with the number of seconds to wait; replace it in tests.

    Examples
    --------
    >>> src = BojSource()  # doctest: +SKIP
    >>> src.fetch("FM01'STRDCLUCON", dt.date(2024, 3, 18), dt.date(2024, 3, 22))  # doctest: +SKIP
    """

    name: ClassVar[str] = "boj"
    host: ClassVar[str | None] = "www.stat-search.boj.or.jp"

    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        base_url: str = "https://www.stat-search.boj.or.jp/api/v1/getDataCode",
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        retries: int = 4,
        backoff: float = 1.0,
        pause: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        for field, value in (("retries", retries), ("backoff", backoff), ("pause", pause)):
            if value < 0:
                raise DataValidationError(f"BojSource: {field} must be >= 0, got {value}")
        self.session = session if session is not None else requests.Session()
        self.base_url = base_url
        self.timeout = timeout
        self.connect_timeout = min(connect_timeout, timeout)
        self.retries = retries
        self.backoff = backoff
        self.pause = pause
        self.sleep = sleep

    def fetch(
        self,
        symbol: str,
        start: dt.date | None = None,
        end: dt.date | None = None,
        *,
        field: str = "close",
    ) -> pd.Series:
        """Download the BoJ series `symbol` from `start` to `end` (both inclusive).

        Parameters
        ----------
        symbol : str
            ``"<db>'<code>"``, e.g. ``"FM01'STRDCLUCON"``.
        start, end : datetime.date, optional
            Inclusive date bounds. The API filters by month (``startDate`` /
            ``endDate`` as ``YYYYMM``); the days outside the bounds are dropped here.
        field : str
            Ignored: a BoJ series has one value per day.

        Returns
        -------
        pandas.Series
            ``float64`` values named `symbol` on a ``DatetimeIndex`` named ``"date"``;
            ``null`` values are absent. An answer without data gives an empty series.

        Raises
        ------
        backtest.errors.SymbolNotFoundError
            The Bank has no series `code` in database `db` (``M181013E``), or the
            answer does not contain it.
        backtest.errors.RateLimitError
            HTTP 429 persisted after `retries` retries.
        backtest.errors.NoNetworkError
            The host cannot be reached at all (no retry is made).
        backtest.errors.DataSourceError
            Any other failure: another error ``STATUS``, persistent server errors, a
            body that is not the documented JSON, or a series that is not daily.
        backtest.errors.DataValidationError
            `symbol` is malformed or `start` is after `end`.
        """
        del field
        db, code = parse_symbol(symbol)
        if start is not None and end is not None and start > end:
            raise DataValidationError(f"Bank of Japan {symbol}: start {start} is after end {end}")
        params = {"db": db, "code": code, "format": "json", "lang": "en"}
        if start is not None:
            params["startDate"] = f"{start:%Y%m}"
        if end is not None:
            params["endDate"] = f"{end:%Y%m}"
        dates: list[Any] = []
        values: list[Any] = []
        position: int | None = None
        for page in range(_MAX_PAGES):
            query = dict(params) if position is None else {**params, "startPosition": str(position)}
            url = requests.Request("GET", self.base_url, params=query).prepare().url or ""
            body = self._get(symbol, query, url)
            page_dates, page_values, nxt = _parse_body(body, symbol, code, url)
            dates.extend(page_dates)
            values.extend(page_values)
            if nxt is None:
                break
            if position is not None and nxt <= position:
                raise DataSourceError(
                    f"Bank of Japan {symbol}: {url} answered NEXTPOSITION {nxt}, not after "
                    f"the requested startPosition {position}"
                )
            position = nxt
            if page + 1 < _MAX_PAGES:
                self.sleep(self.pause)
        else:
            raise DataSourceError(
                f"Bank of Japan {symbol}: more than {_MAX_PAGES} pages; giving up"
            )
        series = _to_series(dates, values, symbol, self.base_url)
        lo = pd.Timestamp(start) if start is not None else None
        hi = pd.Timestamp(end) if end is not None else None
        return series.loc[lo:hi]

    def _get(self, symbol: str, params: Mapping[str, str], url: str) -> Mapping[str, Any]:
        """GET and decode one JSON answer, retrying transient failures."""
        attempts = self.retries + 1
        last = ""
        rate_limited = False
        for attempt in range(attempts):
            try:
                response = self.session.get(
                    self.base_url,
                    params=dict(params),
                    timeout=(self.connect_timeout, self.timeout),
                    headers={"User-Agent": _USER_AGENT, "Accept-Encoding": "gzip"},
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                reason = None if isinstance(exc, requests.Timeout) else no_network_reason(exc)
                if reason is not None:
                    host = urllib.parse.urlsplit(self.base_url).hostname or self.base_url
                    raise NoNetworkError(
                        f"Bank of Japan {symbol}: cannot reach {host}: {reason}"
                    ) from exc
                last = f"{type(exc).__name__}: {exc}"
                rate_limited = False
            else:
                status = response.status_code
                if status == 429 or status >= 500:
                    last = f"HTTP status {status} {response.reason}".rstrip()
                    rate_limited = status == 429
                elif status != 200:
                    raise DataSourceError(
                        f"Bank of Japan {symbol}: {url} answered HTTP status {status} "
                        f"{response.reason}; expected 200 with a JSON body, got "
                        f"{response.text[:200]!r}"
                    )
                else:
                    body = _decode(response, symbol, url)
                    code = body.get("STATUS")
                    if code not in _SERVER_STATUSES:
                        return body
                    last = f"STATUS {code} {body.get('MESSAGEID', '')} {body.get('MESSAGE', '')}"
                    rate_limited = False
            if attempt < self.retries:
                self.sleep(self.backoff * 2**attempt)
        error = RateLimitError if rate_limited else DataSourceError
        raise error(
            f"Bank of Japan {symbol}: giving up on {url} after {attempts} attempts; "
            f"last answer: {last.strip()}"
        )


def _decode(response: requests.Response, symbol: str, url: str) -> Mapping[str, Any]:
    """The JSON object of `response`, or DataSourceError naming what came instead."""
    try:
        body = json.loads(response.content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise DataSourceError(
            f"Bank of Japan {symbol}: {url} did not answer with JSON ({exc}); "
            f"got {response.text[:200]!r}"
        ) from exc
    if not isinstance(body, Mapping) or "STATUS" not in body:
        raise DataSourceError(
            f"Bank of Japan {symbol}: {url} answered JSON without a STATUS field; "
            f"expected the API's envelope, got {str(body)[:200]!r}"
        )
    return body


def _parse_body(
    body: Mapping[str, Any], symbol: str, code: str, url: str
) -> tuple[list[Any], list[Any], int | None]:
    """Survey dates, values and NEXTPOSITION of the series `code` in one answer."""
    status = body.get("STATUS")
    message_id = str(body.get("MESSAGEID") or "")
    message = str(body.get("MESSAGE") or "")
    if status != 200:
        text = f"STATUS {status} {message_id} {message}".rstrip()
        if message_id == UNKNOWN_CODE:
            raise SymbolNotFoundError(
                f"Bank of Japan has no series {symbol!r}: {url} answered {text}. Check the "
                "database and code on https://www.stat-search.boj.or.jp/"
            )
        raise DataSourceError(f"Bank of Japan {symbol}: {url} answered {text}")
    nxt = _next_position(body.get("NEXTPOSITION"), symbol, url)
    results = body.get("RESULTSET")
    if message_id == NO_DATA and not results:
        return [], [], nxt
    if not isinstance(results, list):
        raise DataSourceError(
            f"Bank of Japan {symbol}: {url} answered without a RESULTSET list; "
            f"got {str(body)[:200]!r}"
        )
    match = [
        r
        for r in results
        if isinstance(r, Mapping) and str(r.get("SERIES_CODE", "")).upper() == code.upper()
    ]
    if not match:
        if nxt is not None:  # another page may hold it
            return [], [], nxt
        found = [r.get("SERIES_CODE") for r in results if isinstance(r, Mapping)]
        raise SymbolNotFoundError(
            f"Bank of Japan {symbol}: {url} answered without series {code!r} "
            f"(series in the answer: {found})"
        )
    result = match[0]
    frequency = result.get("FREQUENCY")
    if frequency is not None and str(frequency).upper() != "DAILY":
        raise DataSourceError(
            f"Bank of Japan {symbol}: series frequency is {frequency!r}; expected 'DAILY'"
        )
    block = result.get("VALUES")
    if block is None:
        return [], [], nxt
    dates = block.get("SURVEY_DATES") if isinstance(block, Mapping) else None
    values = block.get("VALUES") if isinstance(block, Mapping) else None
    if not isinstance(dates, list) or not isinstance(values, list) or len(dates) != len(values):
        raise DataSourceError(
            f"Bank of Japan {symbol}: {url} answered VALUES without equal-length "
            f"SURVEY_DATES and VALUES lists; got {str(block)[:200]!r}"
        )
    return dates, values, nxt


def _next_position(value: Any, symbol: str, url: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        position = int(value)
    except (TypeError, ValueError):
        position = -1
    if position < 1 or str(position) != str(value).strip():
        raise DataSourceError(
            f"Bank of Japan {symbol}: {url} answered NEXTPOSITION {value!r}; "
            "expected null or a positive integer"
        )
    return position


def _to_series(dates: list[Any], values: list[Any], symbol: str, url: str) -> pd.Series:
    """Canonical series from YYYYMMDD survey dates and numeric-or-null values."""
    index: list[str] = []
    for day in dates:
        text = str(day).strip()
        try:
            parsed = dt.datetime.strptime(text, "%Y%m%d").date()
        except ValueError:
            parsed = None
        if parsed is None or len(text) != 8:
            raise DataSourceError(
                f"Bank of Japan {symbol}: survey date {day!r} from {url} is not a day "
                "(YYYYMMDD); expected a daily series"
            )
        index.append(parsed.isoformat())
    numbers = []
    for day, value in zip(index, values, strict=True):
        if value is None or value == "":
            numbers.append(np.nan)
            continue
        if isinstance(value, bool):
            number = np.nan
        else:
            try:
                number = float(value)
            except (TypeError, ValueError):
                number = np.nan
        if not np.isfinite(number):
            raise DataSourceError(
                f"Bank of Japan {symbol}: non-numeric value {value!r} on {day} from {url}; "
                "expected a number or null"
            )
        numbers.append(number)
    raw = pd.Series(numbers, index=index, dtype="float64", name=symbol)
    try:
        series = normalize_series(raw, what=f"Bank of Japan {symbol}", duplicates="drop-identical")
    except DataValidationError as exc:
        raise DataSourceError(f"{exc} (from {url})") from exc
    series.name = symbol
    return series
