"""Tests of backtest.data.boj, with the Bank of Japan's API mocked by ``responses``.

Payloads are hand-built in the shape the Bank's API manual documents for
``/api/v1/getDataCode`` (https://www.stat-search.boj.or.jp/info/api_manual.pdf, as
summarised by the boj-ts-api client's reference page and the bojapi/bbk R packages):
a JSON envelope ``STATUS, MESSAGEID, MESSAGE, DATE, PARAMETER, NEXTPOSITION, RESULTSET``,
one result per series with ``VALUES: {SURVEY_DATES: [YYYYMMDD, ...], VALUES: [...]}``,
``null`` for a missing value, HTTP 200 even for errors, months (``YYYYMM``) as the date
filter of daily series. The numbers are the Bank's published call rates as held in
data/snapshot/JPY_call_rate_boj.csv (SOURCES.md checks: 0.074 on 2024-03-21, the first
day after the end of negative rates; 2024-03-20 is a Japanese holiday).
"""

from __future__ import annotations

import datetime as dt
import urllib.parse

import pandas as pd
import pytest
import requests
import responses
from responses.registries import OrderedRegistry

from backtest import __version__
from backtest.data.boj import BojSource, parse_symbol
from backtest.data.sources import Source
from backtest.errors import (
    DataSourceError,
    DataValidationError,
    RateLimitError,
    SymbolNotFoundError,
)

from ..conftest import SNAPSHOT

URL = "https://www.stat-search.boj.or.jp/api/v1/getDataCode"
SYMBOL = "FM01'STRDCLUCON"

# data/snapshot/JPY_call_rate_boj.csv, March 2024 (Japan business days).
MARCH_2024 = {
    20240313: -0.011,
    20240314: -0.009,
    20240315: -0.005,
    20240318: -0.003,
    20240319: -0.001,
    20240321: 0.074,
    20240322: 0.077,
    20240325: 0.077,
}


def envelope(results: list, *, status=200, message_id="M181000I", next_position=None, **params):
    return {
        "STATUS": status,
        "MESSAGEID": message_id,
        "MESSAGE": "正常に終了しました。" if status == 200 else "",
        "DATE": "2026-08-21T09:00:00.000+09:00",
        "PARAMETER": {"db": "FM01", "code": "STRDCLUCON", "format": "json", "lang": "en", **params}
        if status == 200
        else None,
        "NEXTPOSITION": next_position,
        "RESULTSET": results,
    }


def series_result(days: dict, code: str = "STRDCLUCON", frequency: str = "DAILY") -> dict:
    return {
        "SERIES_CODE": code,
        "NAME_OF_TIME_SERIES": "Call Rate, Uncollateralized Overnight/Average",
        "UNIT": "% per annum",
        "FREQUENCY": frequency,
        "CATEGORY": "Financial Markets",
        "LAST_UPDATE": 20260821,
        "VALUES": {"SURVEY_DATES": list(days), "VALUES": list(days.values())},
    }


def error(message_id: str, status: int = 400) -> dict:
    return envelope([], status=status, message_id=message_id)


class RecordingSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def mock():
    with responses.RequestsMock(registry=OrderedRegistry) as rsps:
        yield rsps


def query(call) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(call.request.url).query))


def test_source_protocol():
    assert isinstance(BojSource(), Source)
    assert BojSource.name == "boj"
    assert BojSource.host == "www.stat-search.boj.or.jp"


def test_parse_symbol():
    assert parse_symbol("FM01'STRDCLUCON") == ("FM01", "STRDCLUCON")
    for bad in ("STRDCLUCON", "'STRDCLUCON", "FM01'", "FM01'A'B", ""):
        with pytest.raises(DataValidationError, match=r"<database>'<series code>"):
            parse_symbol(bad)


def test_daily_values_months_in_the_query_days_filtered_here(mock):
    mock.get(URL, json=envelope([series_result(MARCH_2024)], startDate="202403"))

    s = BojSource().fetch(SYMBOL, dt.date(2024, 3, 18), dt.date(2024, 3, 22))

    # The call rate leaves negative territory on 2024-03-21 (the 03-19 decision).
    assert s.to_dict() == {
        pd.Timestamp("2024-03-18"): -0.003,
        pd.Timestamp("2024-03-19"): -0.001,
        pd.Timestamp("2024-03-21"): 0.074,
        pd.Timestamp("2024-03-22"): 0.077,
    }
    assert s.name == SYMBOL and s.index.name == "date" and s.dtype == "float64"
    assert len(mock.calls) == 1
    assert query(mock.calls[0]) == {
        "db": "FM01",
        "code": "STRDCLUCON",
        "format": "json",
        "lang": "en",
        "startDate": "202403",
        "endDate": "202403",
    }
    assert mock.calls[0].request.headers["User-Agent"].startswith(f"backtest/{__version__} ")


def test_values_equal_the_snapshot_file(mock):
    # Independent reference: the bundled file read with plain pandas.
    mock.get(URL, json=envelope([series_result(MARCH_2024)]))
    s = BojSource().fetch(SYMBOL)
    snap = pd.read_csv(SNAPSHOT / "JPY_call_rate_boj.csv", index_col="date", parse_dates=True)
    expected = snap["value"].loc["2024-03-13":"2024-03-25"]
    assert s.tolist() == expected.tolist()
    assert list(s.index) == list(expected.index)


def test_no_dates_sends_no_date_filter(mock):
    mock.get(URL, json=envelope([series_result(MARCH_2024)]))
    BojSource().fetch(SYMBOL)
    assert query(mock.calls[0]) == {
        "db": "FM01",
        "code": "STRDCLUCON",
        "format": "json",
        "lang": "en",
    }


def test_null_values_are_absent(mock):
    days = {20240319: -0.001, 20240320: None, 20240321: 0.074}
    mock.get(URL, json=envelope([series_result(days)]))
    s = BojSource().fetch(SYMBOL)
    assert list(s.index) == [pd.Timestamp("2024-03-19"), pd.Timestamp("2024-03-21")]


def test_no_data_message_gives_empty_series(mock):
    mock.get(URL, json=envelope([], message_id="M181030I"))
    s = BojSource().fetch(SYMBOL, dt.date(2024, 3, 20), dt.date(2024, 3, 20))
    assert s.empty and s.dtype == "float64" and s.index.name == "date"
    assert isinstance(s.index, pd.DatetimeIndex)


def test_unknown_code_is_symbol_not_found_without_retry(mock):
    mock.get(URL, json=error("M181013E"))
    with pytest.raises(SymbolNotFoundError) as info:
        BojSource(sleep=RecordingSleep()).fetch("FM01'STRDCLUCOM")
    message = str(info.value)
    assert "FM01'STRDCLUCOM" in message and "M181013E" in message
    assert len(mock.calls) == 1


def test_other_bad_request_is_data_source_error_without_retry(mock):
    mock.get(URL, json=error("M181008E"))
    with pytest.raises(DataSourceError, match=r"STATUS 400 M181008E") as info:
        BojSource(sleep=RecordingSleep()).fetch(SYMBOL, dt.date(2024, 3, 1))
    assert not isinstance(info.value, SymbolNotFoundError)
    assert len(mock.calls) == 1


def test_database_error_in_body_is_retried(mock):
    mock.get(URL, json=error("M181091S", status=503))
    mock.get(URL, json=envelope([series_result(MARCH_2024)]))
    sleep = RecordingSleep()
    s = BojSource(backoff=0.5, sleep=sleep).fetch(SYMBOL)
    assert len(mock.calls) == 2 and sleep.calls == [0.5]
    assert s.loc["2024-03-21"] == 0.074


def test_persistent_server_error_gives_up_after_retries_plus_one(mock):
    for _ in range(3):
        mock.get(URL, body="Service Unavailable", status=503)
    sleep = RecordingSleep()
    with pytest.raises(DataSourceError, match=r"after 3 attempts.*HTTP status 503") as info:
        BojSource(retries=2, backoff=1.0, sleep=sleep).fetch(SYMBOL)
    assert not isinstance(info.value, RateLimitError)
    assert sleep.calls == [1.0, 2.0]


def test_persistent_429_is_rate_limit_error(mock):
    for _ in range(2):
        mock.get(URL, body="", status=429)
    with pytest.raises(RateLimitError, match=SYMBOL):
        BojSource(retries=1, sleep=RecordingSleep()).fetch(SYMBOL)


def test_connection_error_is_retried(mock):
    mock.get(URL, body=requests.ConnectionError("connection reset by peer"))
    mock.get(URL, json=envelope([series_result(MARCH_2024)]))
    s = BojSource(sleep=RecordingSleep()).fetch(SYMBOL)
    assert len(s) == len(MARCH_2024)


def test_html_instead_of_json_is_data_source_error(mock):
    mock.get(URL, body="<html><body>Maintenance</body></html>", content_type="text/html")
    with pytest.raises(DataSourceError, match=r"did not answer with JSON.*Maintenance"):
        BojSource().fetch(SYMBOL)


def test_json_without_envelope_is_data_source_error(mock):
    mock.get(URL, json={"data": []})
    with pytest.raises(DataSourceError, match="without a STATUS field"):
        BojSource().fetch(SYMBOL)


def test_pages_are_followed_with_start_position_and_a_pause(mock):
    first = dict(list(MARCH_2024.items())[:4])
    second = dict(list(MARCH_2024.items())[4:])
    mock.get(URL, json=envelope([series_result(first)], next_position=2))
    mock.get(URL, json=envelope([series_result(second)]))
    sleep = RecordingSleep()
    s = BojSource(pause=1.5, sleep=sleep).fetch(SYMBOL)
    assert len(s) == len(MARCH_2024) and s.loc["2024-03-21"] == 0.074
    assert "startPosition" not in query(mock.calls[0])
    assert query(mock.calls[1])["startPosition"] == "2"
    assert sleep.calls == [1.5]


def test_monthly_series_is_refused(mock):
    monthly = series_result({202401: 0.1}, frequency="MONTHLY")
    mock.get(URL, json=envelope([monthly]))
    with pytest.raises(DataSourceError, match="expected 'DAILY'"):
        BojSource().fetch(SYMBOL)


def test_monthly_survey_dates_are_refused(mock):
    result = series_result({202401: 0.1})
    mock.get(URL, json=envelope([result]))
    with pytest.raises(DataSourceError, match=r"survey date 202401 .* not a day"):
        BojSource().fetch(SYMBOL)


def test_unequal_lists_are_refused(mock):
    result = series_result(MARCH_2024)
    result["VALUES"]["VALUES"] = result["VALUES"]["VALUES"][:-1]
    mock.get(URL, json=envelope([result]))
    with pytest.raises(DataSourceError, match="equal-length"):
        BojSource().fetch(SYMBOL)


def test_non_numeric_value_is_refused(mock):
    mock.get(URL, json=envelope([series_result({20240321: "n/a"})]))
    with pytest.raises(DataSourceError, match=r"non-numeric value 'n/a' on 2024-03-21"):
        BojSource().fetch(SYMBOL)


def test_answer_without_the_series_is_symbol_not_found(mock):
    mock.get(URL, json=envelope([series_result(MARCH_2024, code="STRDCLUCONH")]))
    with pytest.raises(SymbolNotFoundError, match="STRDCLUCONH"):
        BojSource().fetch(SYMBOL)


def test_bad_arguments_make_no_request(mock):
    with pytest.raises(DataValidationError, match="start 2024-03-22 is after end 2024-03-18"):
        BojSource().fetch(SYMBOL, dt.date(2024, 3, 22), dt.date(2024, 3, 18))
    with pytest.raises(DataValidationError, match="<database>'<series code>"):
        BojSource().fetch("STRDCLUCON")
    with pytest.raises(DataValidationError, match="pause must be >= 0"):
        BojSource(pause=-1)
    assert len(mock.calls) == 0
