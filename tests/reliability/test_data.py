"""Reliability of backtest/data (issue 11): dates, empty ranges, a missing network.

Every case asserts one outcome class (see ``conftest.py``): a clean error (class and
message naming the argument or field and the ISO form to write, or the CLI's exit
code: 2 bad input, 1 runtime failure such as no network), a correct result, or
nothing written (the cache's bytes unchanged).

Expected values come from outside the code under test: ISO forms and readings are
worked out by hand in the tables; market values are FRED's DGS10 as published
(``data/snapshot/SOURCES.md`` spot checks: 2025-04-04 4.01, 2025-04-11 4.48; the
file runs 1962-01-02 to 2026-08-20). Network errors are built exactly as requests
2.x / urllib3 2.x / yfinance 1.x raise or log them when there is no network (their
text was recorded from real calls on a machine without network; see the
``test_error_shapes_match_the_real_ones`` case).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import socket
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests
import responses
import urllib3
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError

from backtest import data, events
from backtest.data import DataLoader
from backtest.data.cache import Cache
from backtest.data.fred import FredSource
from backtest.data.yahoo import YahooSource
from backtest.errors import (
    DataEndsEarlyWarning,
    DataSourceError,
    DataValidationError,
    FetchFailedWarning,
    NoNetworkError,
    OfflineError,
    RateLimitError,
)

from ..conftest import REPO, SNAPSHOT
from .conftest import tree_digest

FRED_URL = "https://fred.stlouisfed.org/graph/fredgraph.csv"
FRED_HOST = "fred.stlouisfed.org"

#: FRED DGS10 2025-04-04 .. 2025-04-11 (SOURCES.md spot checks; daily steps 14, 11, 8, 6, 8 bp).
DGS10_WEEK = [4.01, 4.15, 4.26, 4.34, 4.40, 4.48]

#: A date after the snapshot's DGS* files end (2026-08-20 / 2026-07-22): loading up to it
#: needs a download.
TODAY = dt.date(2026, 11, 26)


class Sleep:
    """Fake ``time.sleep``: records the seconds a source would have waited."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


# -------------------------------------------------------------- realistic network errors


def _chained(outer: BaseException, inner: BaseException) -> BaseException:
    outer.__cause__ = inner  # as `raise outer from inner` leaves it
    return outer


def _requests_error(reason: Exception, path: str = "/graph/fredgraph.csv?id=DGS10"):
    """requests.ConnectionError as requests' HTTPAdapter raises it for urllib3's `reason`."""
    pool = urllib3.HTTPSConnectionPool(FRED_HOST, 443)
    return requests.exceptions.ConnectionError(_chained(MaxRetryError(pool, path, reason), reason))


def dns_failure() -> requests.exceptions.ConnectionError:
    conn = urllib3.connection.HTTPSConnection(FRED_HOST, 443)
    gai = socket.gaierror(-2, "Name or service not known")
    return _requests_error(_chained(NameResolutionError(FRED_HOST, conn, gai), gai))


def _refused_like(errno_: int, text: str) -> requests.exceptions.ConnectionError:
    conn = urllib3.connection.HTTPSConnection(FRED_HOST, 443)
    cause = OSError(errno_, text) if errno_ != 111 else ConnectionRefusedError(errno_, text)
    message = f"Failed to establish a new connection: [Errno {errno_}] {text}"
    return _requests_error(_chained(NewConnectionError(conn, message), cause))


def refused() -> requests.exceptions.ConnectionError:
    return _refused_like(111, "Connection refused")


def unreachable() -> requests.exceptions.ConnectionError:
    return _refused_like(101, "Network is unreachable")


def connection_reset() -> requests.exceptions.ConnectionError:
    # requests wraps urllib3's ProtocolError for a connection dropped mid-request.
    return requests.exceptions.ConnectionError(
        urllib3.exceptions.ProtocolError(
            "Connection aborted.", ConnectionResetError(104, "Connection reset by peer")
        )
    )


def read_timeout() -> requests.exceptions.ReadTimeout:
    pool = urllib3.HTTPSConnectionPool(FRED_HOST, 443)
    return requests.exceptions.ReadTimeout(
        urllib3.exceptions.ReadTimeoutError(pool, None, "Read timed out. (read timeout=30.0)")
    )


def connect_timeout() -> requests.exceptions.ConnectTimeout:
    conn = urllib3.connection.HTTPSConnection(FRED_HOST, 443)
    reason = urllib3.exceptions.ConnectTimeoutError(
        conn, f"Connection to {FRED_HOST} timed out. (connect timeout=30.0)"
    )
    return requests.exceptions.ConnectTimeout(
        MaxRetryError(urllib3.HTTPSConnectionPool(FRED_HOST, 443), "/", reason)
    )


def test_error_shapes_match_the_real_ones():
    # Recorded from `requests.get(FRED_URL, params={"id": "DGS10"})` (requests 2.34, urllib3
    # 2.8) on a machine without network, and from requests.get("https://127.0.0.1:9/x").
    assert str(dns_failure()) == (
        "HTTPSConnectionPool(host='fred.stlouisfed.org', port=443): Max retries exceeded "
        'with url: /graph/fredgraph.csv?id=DGS10 (Caused by NameResolutionError("HTTPS'
        "Connection(host='fred.stlouisfed.org', port=443): Failed to resolve "
        "'fred.stlouisfed.org' ([Errno -2] Name or service not known)\"))"
    )
    assert str(refused()).endswith(
        "(Caused by NewConnectionError(\"HTTPSConnection(host='fred.stlouisfed.org', "
        'port=443): Failed to establish a new connection: [Errno 111] Connection refused"))'
    )


# ------------------------------------------------------------------- dates: clean errors

BAD_DATES = [
    # (argument, value, what the message must say: hand-derived ISO form(s))
    pytest.param(
        "start",
        "01/06/2016",
        r"start='01/06/2016' is ambiguous: 1 June 2016 \(day first\) or 6 January 2016 "
        r"\(month first\); write the date as YYYY-MM-DD \(ISO 8601\): '2016-06-01' or "
        r"'2016-01-06'",
        id="dd/mm-or-mm/dd-ambiguous",
    ),
    pytest.param(
        "start",
        "23/06/2016",
        r"start='23/06/2016' is not an ISO 8601 date; write it as "
        r"'2016-06-23'",
        id="day-first-only-reading",
    ),
    pytest.param(
        "end", "06/23/2016", r"end='06/23/2016' .* write it as '2016-06-23'", id="month-first-only"
    ),
    pytest.param("start", "06/06/2016", r"write it as '2016-06-06'", id="both-readings-equal"),
    pytest.param("start", "01.06.2016", r"'2016-06-01' or '2016-01-06'", id="dotted-ambiguous"),
    pytest.param("start", "2016/06/01", r"start='2016/06/01' .* '2016-06-01'", id="slashed-iso"),
    pytest.param("start", "20160601", r"start='20160601' .* '2016-06-01'", id="basic-format"),
    pytest.param("start", 20160601, r"start=20160601 .* '2016-06-01'", id="int-yyyymmdd"),
    pytest.param("end", "June 1 2016", r"end='June 1 2016' .* '2016-06-01'", id="month-name"),
    pytest.param("end", "1 Jun, 2016", r"'2016-06-01'", id="day-month-name"),
    pytest.param("start", "2016-6-1", r"start='2016-6-1' .* '2016-06-01'", id="unpadded"),
    pytest.param(
        "start", "2025-02-30", r"start='2025-02-30' does not parse as a date", id="feb-30"
    ),
    pytest.param("start", "01/06/16", r"start='01/06/16' does not parse .* YYYY-MM-DD", id="yy"),
    pytest.param("end", "yesterday", r"end='yesterday' does not parse", id="word"),
    pytest.param("end", "", r"end='' does not parse", id="empty-string"),
    pytest.param("start", 2016.0601, r"start=2016.0601 \(float\) is not a date", id="float"),
    pytest.param("start", True, r"start=True \(bool\) is not a date", id="bool"),
    pytest.param(
        "end",
        "2025-04-11T16:00",
        r"end='2025-04-11T16:00' has a time of day \(16:00:00\).* write '2025-04-11'",
        id="iso-with-time",
    ),
    pytest.param(
        "end",
        pd.Timestamp("2025-04-11 16:00", tz="America/New_York"),
        r"end=2025-04-11 16:00:00-04:00 has a time of day .* write '2025-04-11'",
        id="tz-aware-with-time",
    ),
    pytest.param("start", pd.NaT, r"start=NaT is not a date", id="NaT"),
]


@pytest.mark.parametrize(("arg", "value", "message"), BAD_DATES)
def test_load_refuses_non_iso_dates(arg, value, message):
    with pytest.raises(DataValidationError, match=message):
        data.load(["UST10Y"], offline=True, **{arg: value})


@pytest.mark.parametrize(("arg", "value", "message"), BAD_DATES[:6])
def test_load_series_uses_the_same_parser(arg, value, message):
    with pytest.raises(DataValidationError, match=message):
        DataLoader(offline=True).load_series("UST10Y", **{arg: value})


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        pytest.param(
            "2025-04-11",
            "2025-04-04",
            r"start=2025-04-11 is after end=2025-04-04; start must be on or before end",
            id="start-after-end",
        ),
        pytest.param(
            "1900-01-01",
            "1900-12-31",
            r"no observations from 1900-01-01 to 1900-12-31 for UST10Y \(fred:DGS10, snapshot: "
            r"1962-01-02 to 2026-08-20\)",
            id="range-before-history",
        ),
        pytest.param(
            "2025-04-05",
            "2025-04-06",
            r"no observations from 2025-04-05 to 2025-04-06 for UST10Y",
            id="weekend-only",
        ),
        pytest.param(
            "2099-01-01",
            None,
            r"no observations from 2099-01-01 on for UST10Y .*1962-01-02 to 2026-08-20",
            id="start-in-the-future",
        ),
    ],
)
def test_empty_or_reversed_range_is_an_error(start, end, message):
    with pytest.raises(DataValidationError, match=message):
        data.load(["UST10Y"], start=start, end=end, offline=True)


def test_only_the_series_without_data_is_named(tmp_path):
    (tmp_path / "bund.csv").write_text("date,value\n2025-04-03,2.66\n2025-04-04,2.58\n")
    (tmp_path / "c.yaml").write_text(
        "series:\n  BUND10Y:\n    kind: yield\n    unit: percent\n    sources:\n"
        "      - {provider: file, symbol: bund.csv, timezone: Europe/Berlin, obs_time: '17:00'}\n"
    )
    cat = data.catalog(tmp_path / "c.yaml")
    with pytest.raises(DataValidationError) as info:
        data.load(["UST10Y", "BUND10Y"], "2025-04-07", "2025-04-11", offline=True, catalog=cat)
    message = str(info.value)
    assert "BUND10Y (file:" in message and "2025-04-03 to 2025-04-04" in message
    assert "UST10Y" not in message


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        pytest.param(
            "01/06/2016,2.66\n02/06/2016,2.58\n",
            r"bund\.csv: date '01/06/2016' is ambiguous: 1 June 2016 \(day first\) or 6 January "
            r"2016 \(month first\).*'2016-06-01' or '2016-01-06'",
            id="file-dd/mm-ambiguous",
        ),
        pytest.param(
            "2016-06-22,2.66\n23/06/2016,2.58\n",
            r"bund\.csv: date '23/06/2016' is not an ISO 8601 date; write it as '2016-06-23'",
            id="file-one-non-iso-row",
        ),
    ],
)
def test_series_files_with_non_iso_dates_are_refused(tmp_path, rows, message):
    # pandas' format="mixed" read 01/06/2016 as 6 January and 23/06/2016 as 23 June.
    (tmp_path / "bund.csv").write_text("date,value\n" + rows)
    (tmp_path / "c.yaml").write_text(
        "series:\n  BUND10Y:\n    kind: yield\n    unit: percent\n    sources:\n"
        "      - {provider: file, symbol: bund.csv, timezone: Europe/Berlin, obs_time: '17:00'}\n"
    )
    with pytest.raises(DataValidationError, match=message):
        data.load(["BUND10Y"], offline=True, catalog=data.catalog(tmp_path / "c.yaml"))


# ------------------------------------------------------------------ dates: correct result


@pytest.mark.parametrize(
    "start",
    [
        pytest.param("2025-04-04", id="iso-string"),
        pytest.param(" 2025-04-04 ", id="iso-string-padded"),
        pytest.param("2025-04-04T00:00:00", id="iso-midnight"),
        pytest.param("2025-04-04T00:00:00Z", id="iso-midnight-utc"),
        pytest.param("2025-04-04T00:00+09:00", id="iso-midnight-tokyo"),
        pytest.param(dt.date(2025, 4, 4), id="date"),
        pytest.param(dt.datetime(2025, 4, 4), id="datetime-midnight"),
        pytest.param(pd.Timestamp("2025-04-04"), id="timestamp"),
        pytest.param(pd.Timestamp("2025-04-04", tz="Asia/Tokyo"), id="timestamp-tz-local-date"),
        pytest.param(np.datetime64("2025-04-04"), id="datetime64"),
    ],
)
def test_accepted_date_forms_give_the_same_rows(start):
    levels = data.load(["UST10Y"], start=start, end=dt.date(2025, 4, 11), offline=True)
    assert levels["UST10Y"].tolist() == DGS10_WEEK
    assert levels.index[0] == pd.Timestamp("2025-04-04")


def test_end_in_the_future_warns_only_about_sessions_up_to_today():
    # The snapshot's DGS10 ends 2026-08-20 (a Thursday); "today" is that day: no session
    # is missing, although `end` is years ahead.
    loader = DataLoader(offline=True, today=lambda: dt.date(2026, 8, 20))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = loader.load_series("UST10Y", start="2026-08-17", end="2030-12-31")
    assert got.data.index[-1] == pd.Timestamp("2026-08-20") and len(got.data) == 4
    # A day later (Friday 2026-08-21, a session) one session is missing and it says so.
    later = DataLoader(offline=True, today=lambda: dt.date(2026, 8, 21))
    with pytest.warns(DataEndsEarlyWarning, match=r"ends 2026-08-20.*\(1 expected sessions"):
        later.load_series("UST10Y", start="2026-08-17", end="2030-12-31")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param("01/06/2025", r"select: start='01/06/2025' is ambiguous", id="ambiguous"),
        pytest.param("2025/04/01", r"select: start='2025/04/01' .* '2025-04-01'", id="slashed"),
    ],
)
def test_events_select_refuses_non_iso_text(value, message):
    frame = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(["2025-04-02 16:00"]).tz_localize("America/New_York"),
            "label": ["Liberation Day"],
            "category": ["tariff_announcement"],
        }
    )
    with pytest.raises(DataValidationError, match=message):
        events.select(events.from_frame(frame), start=value)


# ------------------------------------------------------------- dates through the CLI


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        pytest.param(
            ["--start", "01/06/2016"],
            2,
            "--start='01/06/2016' is ambiguous",
            id="show-start-ambiguous",
        ),
        pytest.param(["--end", "2016/06/01"], 2, "'2016-06-01'", id="show-end-slashed"),
        pytest.param(
            ["--start", "2025-04-11", "--end", "2025-04-04"],
            2,
            "--start 2025-04-11 is after --end 2025-04-04",
            id="show-start-after-end",
        ),
        pytest.param(
            ["--start", "1900-01-01", "--end", "1900-12-31"],
            2,
            "no observations from 1900-01-01 to 1900-12-31 for UST10Y",
            id="show-empty-range",
        ),
        pytest.param(
            ["--start", "2025-04-04", "--end", "2025-04-11"],
            0,
            "6 observations, 2025-04-04 to 2025-04-11",
            id="show-iso-range",
        ),
    ],
)
def test_data_show_dates(cli, args, code, expected):
    got, out, err = cli("data", "show", "UST10Y", "--offline", *args)
    assert got == code
    assert expected in (out if code == 0 else err)
    if code:
        assert err.count("error:") == 1


def _config(tmp_path: Path, data_yaml: str, events_yaml: str = "") -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(
        f"extends: {REPO / 'configs' / 'base_2025.yaml'}\n"
        f"name: reliability\ndata:\n  series: [UST10Y]\n{data_yaml}{events_yaml}"
    )
    return path


@pytest.mark.parametrize(
    ("data_yaml", "expected"),
    [
        pytest.param(
            "  start: 01/06/2016\n",
            "data.start: Value error, start='01/06/2016' is ambiguous: 1 June 2016 (day first) "
            "or 6 January 2016 (month first); write the date as YYYY-MM-DD (ISO 8601): "
            "'2016-06-01' or '2016-01-06'",
            id="config-start-ambiguous",
        ),
        pytest.param(
            "  start: 20160601\n",  # YAML reads an int; pydantic alone took it as Unix seconds
            "data.start: Value error, start=20160601 is not an ISO 8601 date; write it as "
            "'2016-06-01'",
            id="config-start-int",
        ),
        pytest.param(
            "  end: 2025-12-31 16:00:00\n",
            "data.end: Value error, end=2025-12-31 16:00:00 has a time of day",
            id="config-end-with-time",
        ),
        pytest.param(
            "  end: 0\n",  # pydantic alone read this as 1970-01-01
            "data.end: Value error, end=0 (int) is not a date",
            id="config-end-zero",
        ),
        pytest.param(
            "events:\n  start: June 1 2025\n",
            "events.start: Value error, start='June 1 2025' is not an ISO 8601 date; write it "
            "as '2025-06-01'",
            id="config-events-start-month-name",
        ),
    ],
)
def test_config_dates_are_refused_with_the_field_named(cli, tmp_path, data_yaml, expected):
    out_dir = tmp_path / "out"
    path = _config(tmp_path, data_yaml)
    code, _, err = cli("run", path, "--offline", "--out", out_dir)
    assert code == 2
    assert expected in err and str(path) in err
    assert not out_dir.exists()  # nothing written


def test_config_range_without_data_exits_2(cli, tmp_path):
    out_dir = tmp_path / "out"
    path = _config(tmp_path, "  start: 1900-01-01\n  end: 1900-12-31\n")
    code, _, err = cli("run", path, "--offline", "--out", out_dir)
    assert code == 2
    assert (
        "no observations from 1900-01-01 to 1900-12-31 for UST10Y (fred:DGS10, snapshot: "
        "1962-01-02 to 2026-08-20)" in err
    )
    assert not out_dir.exists()


# ------------------------------------------------------------ FRED: no network vs transient


@pytest.mark.parametrize(
    ("error", "outcome", "attempts", "slept", "message"),
    [
        pytest.param(
            dns_failure,
            NoNetworkError,
            1,
            [],
            "FRED DGS10: cannot reach fred.stlouisfed.org: name resolution failed "
            "([Errno -2] Name or service not known)",
            id="dns-failure-given-up-at-once",
        ),
        pytest.param(
            refused,
            NoNetworkError,
            1,
            [],
            "cannot reach fred.stlouisfed.org: connection refused ([Errno 111]",
            id="refused-given-up-at-once",
        ),
        pytest.param(
            unreachable,
            NoNetworkError,
            1,
            [],
            "cannot reach fred.stlouisfed.org: network is unreachable ([Errno 101]",
            id="unreachable-given-up-at-once",
        ),
        pytest.param(
            connection_reset,
            DataSourceError,
            3,
            [1.0, 2.0],
            "giving up on",
            id="reset-retried-with-backoff",
        ),
        pytest.param(
            read_timeout, DataSourceError, 3, [1.0, 2.0], "ReadTimeout", id="read-timeout-retried"
        ),
        pytest.param(
            connect_timeout,
            DataSourceError,
            3,
            [1.0, 2.0],
            "ConnectTimeout",
            id="connect-timeout-retried",
        ),
    ],
)
def test_fred_tells_no_network_from_transient_errors(error, outcome, attempts, slept, message):
    sleep = Sleep()
    with responses.RequestsMock() as mock:
        mock.get(FRED_URL, body=error())
        with pytest.raises(outcome) as info:
            FredSource(retries=2, backoff=1.0, sleep=sleep).fetch("DGS10")
        assert len(mock.calls) == attempts
    assert sleep.calls == slept  # backoff * 2**attempt; nothing slept without a network
    assert message in str(info.value)
    assert (type(info.value) is NoNetworkError) == (outcome is NoNetworkError)


def test_fred_connect_timeout_is_short():
    # A network that drops packets silently costs connect_timeout per attempt, not 30 s.
    with responses.RequestsMock() as mock:
        mock.get(FRED_URL, body="observation_date,DGS10\n2025-04-04,4.01\n")
        FredSource().fetch("DGS10")
        assert mock.calls[0].request.req_kwargs["timeout"] == (5.0, 30.0)


def test_fred_rate_limit_is_retried_then_reported():
    sleep = Sleep()
    with responses.RequestsMock() as mock:
        mock.get(FRED_URL, status=429, body="Too Many Requests")
        with pytest.raises(RateLimitError, match="after 3 attempts"):
            FredSource(retries=2, backoff=1.0, sleep=sleep).fetch("DGS10")
        assert len(mock.calls) == 3
    assert sleep.calls == [1.0, 2.0]


# ------------------------------------------------------------ Yahoo: no network in the logs

#: What yfinance 1.7 / curl_cffi 0.17 log (logger "yfinance", ERROR) and return (an empty
#: frame) for ^TNX when the host does not resolve; recorded on a machine without network.
YF_DNS_LOG = [
    "Failed to get ticker '^TNX' reason: Failed to perform, curl: (6) Could not resolve host: "
    "query2.finance.yahoo.com (Domain name not found). See "
    "https://curl.se/libcurl/c/libcurl-errors.html first for more details.",
    "\n1 Failed download:",
    "['^TNX']: DNSError('Failed to perform, curl: (6) Could not resolve host: "
    "query2.finance.yahoo.com. See https://curl.se/libcurl/c/libcurl-errors.html first for "
    "more details.')",
]


def _empty_yahoo_frame(symbol: str) -> pd.DataFrame:
    prices = ["Adj Close", "Close", "High", "Low", "Open", "Volume"]
    columns = pd.MultiIndex.from_tuples([(p, symbol) for p in prices], names=["Price", "Ticker"])
    return pd.DataFrame(columns=columns, index=pd.DatetimeIndex([], name="Date"))


def test_yahoo_no_network_is_not_an_unknown_symbol():
    calls: list[str] = []

    def download(symbol, **kwargs):
        calls.append(symbol)
        for line in YF_DNS_LOG:
            logging.getLogger("yfinance").error(line)
        return _empty_yahoo_frame(symbol)

    sleep = Sleep()
    with pytest.raises(NoNetworkError) as info:
        YahooSource(download=download, sleep=sleep).fetch("^TNX")
    assert calls == ["^TNX"] and sleep.calls == []
    message = str(info.value)
    assert message.startswith(
        "Yahoo ^TNX: cannot reach query1.finance.yahoo.com: name resolution failed"
    )
    assert "Could not resolve host" in message and "curl.se" not in message


#: The same run when the request times out: curl_cffi maps curl error 28 to its Timeout
#: class (curl_cffi/requests/exceptions.py CODE2ERROR) and yfinance logs repr(exception).
YF_TIMEOUT_LOG = [
    "\n1 Failed download:",
    "['^TNX']: Timeout('Failed to perform, curl: (28) Operation timed out after 10002 "
    "milliseconds with 0 bytes received. See https://curl.se/libcurl/c/libcurl-errors.html "
    "first for more details.')",
]


@pytest.mark.parametrize(
    ("failures", "outcome", "attempts", "slept"),
    [
        pytest.param(1, "result", 2, [2.0], id="timeout-then-success"),
        pytest.param(9, DataSourceError, 3, [2.0, 4.0], id="timeouts-until-giving-up"),
    ],
)
def test_yahoo_timeouts_are_retried_with_backoff(failures, outcome, attempts, slept):
    calls: list[str] = []
    bars = pd.DataFrame(
        {("Close", "^TNX"): [4.01, 4.15]},
        index=pd.DatetimeIndex(["2025-04-04", "2025-04-07"], name="Date"),
    )
    bars.columns.names = ["Price", "Ticker"]

    def download(symbol, **kwargs):
        calls.append(symbol)
        if len(calls) <= failures:
            for line in YF_TIMEOUT_LOG:
                logging.getLogger("yfinance").error(line)
            return _empty_yahoo_frame(symbol)
        return bars

    sleep = Sleep()
    source = YahooSource(download=download, retries=2, backoff=2.0, sleep=sleep)
    if outcome == "result":
        assert source.fetch("^TNX").tolist() == [4.01, 4.15]
    else:
        with pytest.raises(outcome, match=r"still failing after 3 attempts.*curl: \(28\)"):
            source.fetch("^TNX")
    assert len(calls) == attempts and sleep.calls == slept


# -------------------------------------------------- the 62-second run: detect once, fail fast

FOUR = ["UST3M", "UST2Y", "UST10Y", "UST30Y"]


@pytest.fixture
def stale_cache():
    """A cache holding DGS2 to 2026-06-30, downloaded long ago (so not fresh)."""
    return _cache_dgs2("2026-06-30")


def _online_loader(sleep: Sleep, offline: bool | None) -> DataLoader:
    fred = FredSource(sleep=sleep)  # default retries (4) and backoff: 15 s per series
    return DataLoader(offline=offline, sources={"fred": fred}, today=lambda: TODAY)


def test_online_without_network_fails_once_fast_and_writes_nothing(stale_cache):
    before = tree_digest(stale_cache)
    sleep = Sleep()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(FRED_URL, body=dns_failure())
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # one error, no warning on the way
            with pytest.raises(NoNetworkError) as info:
                _online_loader(sleep, offline=False).load(FOUR, start="2025-01-01")
        assert len(mock.calls) == 1  # was 5 attempts x 4 series
    assert sleep.calls == []  # was 1 + 2 + 4 + 8 s per series
    message = str(info.value)
    assert message.count("\n") == 0 and "Traceback" not in message
    assert message.startswith(
        "no network: FRED DGS3MO: cannot reach fred.stlouisfed.org: name resolution failed"
    )
    assert "run with --offline" in message and "nothing was downloaded or written" in message
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert tree_digest(stale_cache) == before


def test_detected_no_network_falls_back_with_one_warning(stale_cache, monkeypatch):
    # The probe answers (e.g. a captive portal), then the first request cannot resolve.
    monkeypatch.setattr("backtest.data.loader.network_available", lambda host, **kw: True)
    before = tree_digest(stale_cache)
    sleep = Sleep()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(FRED_URL, body=dns_failure())
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            levels = _online_loader(sleep, offline=None).load(
                FOUR, start="2025-04-04", end="2025-04-11"
            )
        assert len(mock.calls) == 0  # the range is covered locally: no request at all
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _online_loader(sleep, offline=None).load(FOUR, start="2026-01-02")
        assert len(mock.calls) == 1
    no_network = [w for w in caught if issubclass(w.category, FetchFailedWarning)]
    assert len(no_network) == 1
    assert str(no_network[0].message).startswith(
        "no network (FRED DGS3MO: cannot reach fred.stlouisfed.org: name resolution failed"
    )
    assert "--offline" in str(no_network[0].message)
    assert sleep.calls == []
    assert levels["UST10Y"].tolist() == DGS10_WEEK
    assert tree_digest(stale_cache) == before


def test_probe_without_answer_means_no_request_and_one_warning(stale_cache, monkeypatch):
    probed: list[str] = []
    monkeypatch.setattr(
        "backtest.data.loader.network_available", lambda host, **kw: probed.append(host) or False
    )
    before = tree_digest(stale_cache)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(FRED_URL, body=dns_failure())
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _online_loader(Sleep(), offline=None).load(FOUR, start="2026-01-02")
        assert len(mock.calls) == 0
    assert probed == [FRED_HOST]  # probed once for four series
    no_network = [w for w in caught if issubclass(w.category, FetchFailedWarning)]
    assert [str(w.message)[:52] for w in no_network] == [
        "no network (fred.stlouisfed.org did not answer withi"
    ]
    assert tree_digest(stale_cache) == before


def test_without_network_or_local_copy_is_an_offline_error(tmp_path):
    (tmp_path / "c.yaml").write_text(
        "series:\n  BUND10Y:\n    kind: yield\n    unit: percent\n    sources:\n"
        "      - {provider: fred, symbol: IRLTLT01DEM156N, timezone: Europe/Berlin,"
        " obs_time: '17:00'}\n"
    )
    loader = DataLoader(
        data.catalog(tmp_path / "c.yaml"),
        offline=False,
        sources={"fred": FredSource(sleep=Sleep())},
    )
    with responses.RequestsMock() as mock:
        mock.get(FRED_URL, body=dns_failure())
        with pytest.raises(OfflineError, match=r"no network: .*no local copy.*data fetch BUND10Y"):
            loader.load_series("BUND10Y")
        assert len(mock.calls) == 1
    assert not list(Cache().root.rglob("*.parquet"))


# ---------------------------------------------- never fetch past end; no fetch when covered


def _cache_dgs2(last: str) -> Path:
    frame = pd.read_csv(SNAPSHOT / "DGS2.csv", parse_dates=["date"], index_col="date")
    series = frame["value"].dropna().astype("float64").loc[:last]
    cache = Cache()
    cache.write("fred", "DGS2", series, fetched_at=dt.datetime(2026, 7, 1, tzinfo=dt.UTC))
    return cache.root


@pytest.mark.parametrize(
    ("offline", "cache_last", "end"),
    [
        pytest.param(False, None, "2024-12-31", id="online-snapshot-covers-2024"),
        pytest.param(None, None, "2024-12-31", id="detect-snapshot-covers-2024-no-probe"),
        pytest.param(False, "2026-06-26", "2026-06-28", id="online-cache-to-friday-end-sunday"),
        pytest.param(None, "2026-07-02", "2026-07-05", id="detect-cache-to-holiday-eve"),
    ],
)
def test_covered_range_never_touches_the_network(offline, cache_last, end, monkeypatch):
    def no_probe(host, **kw):
        raise AssertionError("the network was probed although local data cover the range")

    monkeypatch.setattr("backtest.data.loader.network_available", no_probe)
    root = _cache_dgs2(cache_last) if cache_last else None
    before = tree_digest(root) if root else {}
    loader = DataLoader(
        offline=offline, sources={"fred": FredSource(sleep=Sleep())}, today=lambda: TODAY
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(FRED_URL, body=dns_failure())
        got = loader.load_series("UST2Y", start="2024-12-02", end=end)
        assert len(mock.calls) == 0
    # 2026-06-26 is a Friday; 2026-07-03 is the observed Independence Day holiday.
    assert got.data.index[-1] == pd.Timestamp(cache_last or "2024-12-31")
    assert (tree_digest(root) if root else {}) == before


def test_tail_is_fetched_up_to_end_never_past_it(stale_cache):
    # Cache holds DGS2 to 2026-06-30; a config ending 2026-07-31 fetches 2026-06-20..07-31.
    body = "observation_date,DGS2\n2026-06-30,3.80\n2026-07-01,3.81\n2026-07-31,3.90\n"
    with responses.RequestsMock() as mock:
        mock.get(FRED_URL, body=body)
        got = _online_loader(Sleep(), offline=False).load_series(
            "UST2Y", start="2026-06-01", end="2026-07-31"
        )
        assert len(mock.calls) == 1
        query = mock.calls[0].request.url
    assert "cosd=2026-06-20" in query and "coed=2026-07-31" in query
    assert got.data.index[-1] == pd.Timestamp("2026-07-31")


# ------------------------------------------------------------------ the CLI without network


@pytest.fixture
def fake_sleep(monkeypatch):
    """Default FredSource objects sleep on a recorder instead of the clock."""
    sleep = Sleep()
    monkeypatch.setattr("backtest.data.fred.FredSource", functools.partial(FredSource, sleep=sleep))
    return sleep


def test_cli_online_without_network_exits_1_with_one_message(cli, fake_sleep):
    before = tree_digest(Cache().root) if Cache().root.exists() else {}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(FRED_URL, body=dns_failure())
        # The snapshot ends 2026-08-20, before this end: a download is needed.
        code, _, err = cli("data", "show", "UST10Y", "--online", "--end", "2026-11-20")
        assert len(mock.calls) == 1
    assert code == 1  # a runtime failure (cli docstring: 1 download/offline, 2 bad input)
    assert err.count("error:") == 1 and "warning" not in err
    assert "no network: FRED DGS10: cannot reach fred.stlouisfed.org" in err
    assert "--offline" in err
    assert fake_sleep.calls == []
    after = tree_digest(Cache().root) if Cache().root.exists() else {}
    assert after == before


def test_cli_fetch_without_network_exits_1_and_writes_nothing(cli, fake_sleep):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(FRED_URL, body=dns_failure())
        code, _, err = cli("data", "fetch", "UST10Y", "UST2Y", "--online")
        assert len(mock.calls) == 1  # the second series is not tried
    assert code == 1 and err.count("error:") == 1
    assert "cannot fetch UST10Y (fred:DGS10): no network: FRED DGS10: cannot reach" in err
    assert fake_sleep.calls == []
    assert not list(Cache().root.rglob("*.parquet"))


def test_cli_run_config_online_without_network(cli, tmp_path, fake_sleep):
    out_dir = tmp_path / "out"
    path = _config(tmp_path, "  offline: false\n  end: 2026-11-20\n")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(FRED_URL, body=dns_failure())
        code, _, err = cli("run", path, "--out", out_dir)
        assert len(mock.calls) == 1
    assert code == 1 and err.count("error:") == 1
    assert "no network" in err and "--offline" in err
    assert fake_sleep.calls == [] and not out_dir.exists()


def test_cli_run_config_online_covered_needs_no_network(cli, tmp_path, fake_sleep):
    # offline: false, but the bundled snapshot already covers 2023..2025: nothing to fetch.
    out_dir = tmp_path / "out"
    path = _config(tmp_path, "  offline: false\n")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(FRED_URL, body=dns_failure())
        code, _, err = cli("run", path, "--out", out_dir)
        assert len(mock.calls) == 0
    assert code == 0, err
    assert (out_dir / "results.json").exists()
