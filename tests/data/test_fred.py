"""Tests of backtest.data.fred, with FRED's CSV endpoint mocked by ``responses``.

Payloads are shaped like real answers of https://fred.stlouisfed.org/graph/fredgraph.csv:
today's header ``observation_date,<ID>`` with an empty field on a missing day, and the
older ``DATE,<ID>`` with ``.``. Values are FRED's published ones, as held in
data/snapshot/DGS10.csv and data/snapshot/DEXJPUS.csv (see the spot checks in
data/snapshot/SOURCES.md).
"""

from __future__ import annotations

import datetime as dt
import urllib.parse

import pandas as pd
import pytest
import requests
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from responses import matchers
from responses.registries import OrderedRegistry

from backtest import __version__
from backtest.data.fred import FredSource
from backtest.data.sources import Source
from backtest.errors import (
    DataSourceError,
    DataValidationError,
    RateLimitError,
    SymbolNotFoundError,
)

URL = "https://fred.stlouisfed.org/graph/fredgraph.csv"

# FRED DGS10 published values (percent), data/snapshot/DGS10.csv; SOURCES.md spot checks
# 2025-04-04 = 4.01 and 2025-04-11 = 4.48. 2025-04-18 (Good Friday, bond market closed)
# is published as an empty field.
DGS10 = {
    "2025-04-01": 4.17,
    "2025-04-02": 4.20,
    "2025-04-03": 4.06,
    "2025-04-04": 4.01,
    "2025-04-07": 4.15,
    "2025-04-08": 4.26,
    "2025-04-09": 4.34,
    "2025-04-10": 4.40,
    "2025-04-11": 4.48,
    "2025-04-14": 4.38,
    "2025-04-15": 4.35,
    "2025-04-16": 4.29,
    "2025-04-17": 4.34,
}
DGS10_CSV = (
    "observation_date,DGS10\n"
    "2025-04-01,4.17\n"
    "2025-04-02,4.20\n"
    "2025-04-03,4.06\n"
    "2025-04-04,4.01\n"
    "2025-04-07,4.15\n"
    "2025-04-08,4.26\n"
    "2025-04-09,4.34\n"
    "2025-04-10,4.40\n"
    "2025-04-11,4.48\n"
    "2025-04-14,4.38\n"
    "2025-04-15,4.35\n"
    "2025-04-16,4.29\n"
    "2025-04-17,4.34\n"
    "2025-04-18,\n"
)

# FRED DEXJPUS (yen per USD), data/snapshot/DEXJPUS.csv and SOURCES.md spot checks;
# 2025-05-26 (Memorial Day) has no value, written "." by the old endpoint, "" today.
DEXJPUS_APRIL = {"2025-04-02": 149.98, "2025-04-03": 146.04, "2025-04-04": 145.93}
DEXJPUS_MAY = {"2025-05-22": 143.89, "2025-05-23": 142.61, "2025-05-27": 144.37}

# The HTML page FRED serves for an unknown id (abridged).
HTML_ERROR = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Error - St. Louis Fed</title>
</head>
<body>
<h1>Error</h1>
<p>The series does not exist.</p>
</body>
</html>
"""


class RecordingSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def mock():
    with responses.RequestsMock(registry=OrderedRegistry) as rsps:
        yield rsps


def csv_response(body: str, status: int = 200) -> dict:
    return {"body": body, "status": status, "content_type": "text/csv"}


def query(call) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(call.request.url).query))


def ts(*days: str) -> list[pd.Timestamp]:
    return [pd.Timestamp(d) for d in days]


def test_source_protocol():
    src = FredSource()
    assert isinstance(src, Source)
    assert FredSource.name == "fred"
    assert FredSource.host == "fred.stlouisfed.org"


def test_new_header_with_empty_missing_day(mock):
    mock.get(URL, **csv_response(DGS10_CSV))

    s = FredSource().fetch("DGS10", dt.date(2025, 4, 1), dt.date(2025, 4, 18))

    assert s.to_dict() == {pd.Timestamp(d): v for d, v in DGS10.items()}
    assert pd.Timestamp("2025-04-18") not in s.index  # empty field: no observation
    assert s.name == "DGS10"
    assert s.index.name == "date"
    assert s.dtype == "float64"
    assert isinstance(s.index, pd.DatetimeIndex)
    assert s.index.tz is None
    assert s.index.is_monotonic_increasing


def test_sends_id_cosd_coed_and_user_agent(mock):
    mock.get(
        URL,
        match=[
            matchers.query_param_matcher(
                {"id": "DGS10", "cosd": "2025-04-07", "coed": "2025-04-11"}
            )
        ],
        **csv_response(
            "observation_date,DGS10\n"
            "2025-04-07,4.15\n2025-04-08,4.26\n2025-04-09,4.34\n2025-04-10,4.40\n2025-04-11,4.48\n"
        ),
    )

    s = FredSource().fetch("DGS10", dt.date(2025, 4, 7), dt.date(2025, 4, 11))

    # last 5 business days of DGS10 to 2025-04-11, FRED published values
    assert s.tolist() == [4.15, 4.26, 4.34, 4.40, 4.48]
    assert len(mock.calls) == 1
    assert mock.calls[0].request.headers["User-Agent"].startswith(f"backtest/{__version__} ")


def test_no_dates_sends_only_id(mock):
    mock.get(URL, **csv_response("observation_date,DGS10\n2025-04-01,4.17\n"))
    FredSource().fetch("DGS10")
    assert query(mock.calls[0]) == {"id": "DGS10"}


@pytest.mark.parametrize(
    ("header", "missing"),
    [("DATE,DEXJPUS", "."), ("observation_date,DEXJPUS", "")],
    ids=["old-dot", "new-empty"],
)
def test_both_formats_drop_the_missing_day(mock, header, missing):
    body = (
        f"{header}\n2025-05-22,143.89\n2025-05-23,142.61\n2025-05-26,{missing}\n2025-05-27,144.37\n"
    )
    mock.get(URL, **csv_response(body))

    s = FredSource().fetch("DEXJPUS", dt.date(2025, 5, 22), dt.date(2025, 5, 27))

    assert s.to_dict() == {pd.Timestamp(d): v for d, v in DEXJPUS_MAY.items()}
    assert pd.Timestamp("2025-05-26") not in s.index


def test_old_header_dexjpus_april(mock):
    body = "DATE,DEXJPUS\n2025-04-02,149.98\n2025-04-03,146.04\n2025-04-04,145.93\n"
    mock.get(URL, **csv_response(body))
    s = FredSource().fetch("DEXJPUS", dt.date(2025, 4, 2), dt.date(2025, 4, 4))
    assert s.to_dict() == {pd.Timestamp(d): v for d, v in DEXJPUS_APRIL.items()}
    assert query(mock.calls[0]) == {"id": "DEXJPUS", "cosd": "2025-04-02", "coed": "2025-04-04"}


def test_header_symbol_is_case_insensitive(mock):
    mock.get(URL, **csv_response("observation_date,DGS10\n2025-04-01,4.17\n"))
    s = FredSource().fetch("dgs10")
    assert s.name == "dgs10"
    assert s.tolist() == [4.17]


def test_filters_rows_outside_the_requested_range(mock):
    # Defensive: even if FRED ignored cosd/coed, only [start, end] comes back.
    mock.get(URL, **csv_response(DGS10_CSV))
    s = FredSource().fetch("DGS10", dt.date(2025, 4, 3), dt.date(2025, 4, 7))
    assert list(s.index) == ts("2025-04-03", "2025-04-04", "2025-04-07")
    assert s.tolist() == [4.06, 4.01, 4.15]


def test_header_only_gives_empty_float_series(mock):
    mock.get(URL, **csv_response("observation_date,DGS10\n"))
    s = FredSource().fetch("DGS10", dt.date(2025, 4, 19), dt.date(2025, 4, 20))
    assert s.empty
    assert s.dtype == "float64"
    assert isinstance(s.index, pd.DatetimeIndex)
    assert s.index.name == "date"
    assert s.name == "DGS10"


def test_only_missing_values_gives_empty_series(mock):
    mock.get(URL, **csv_response("observation_date,DGS10\n2025-04-18,\n"))
    s = FredSource().fetch("DGS10", dt.date(2025, 4, 18), dt.date(2025, 4, 18))
    assert s.empty


@pytest.mark.parametrize("status", [200, 404])
def test_html_error_page_is_symbol_not_found(mock, status):
    mock.get(URL, body=HTML_ERROR, status=status, content_type="text/html")

    with pytest.raises(SymbolNotFoundError) as info:
        FredSource(sleep=RecordingSleep()).fetch("DGS1O")

    message = str(info.value)
    assert "FRED has no series 'DGS1O' (https://fred.stlouisfed.org/series/DGS1O)" in message
    assert "id=DGS1O" in message  # the request URL
    assert len(mock.calls) == 1  # not retried


def test_status_400_is_symbol_not_found(mock):
    mock.get(URL, body="Bad Request", status=400)
    with pytest.raises(SymbolNotFoundError, match="DGS1O"):
        FredSource().fetch("DGS1O")


def test_429_then_200_retries_with_backoff(mock):
    mock.get(URL, body="Too Many Requests", status=429)
    mock.get(URL, body="Too Many Requests", status=429)
    mock.get(URL, **csv_response(DGS10_CSV))
    sleep = RecordingSleep()

    s = FredSource(backoff=0.5, sleep=sleep).fetch("DGS10")

    assert len(mock.calls) == 3
    assert sleep.calls == [0.5, 1.0]  # backoff * 2**attempt
    assert s.loc["2025-04-11"] == 4.48  # FRED DGS10, 2025-04-11


def test_numeric_retry_after_is_honoured(mock):
    mock.get(URL, body="", status=429, headers={"Retry-After": "7"})
    mock.get(URL, body="", status=503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    mock.get(URL, **csv_response(DGS10_CSV))
    sleep = RecordingSleep()

    FredSource(backoff=1.0, sleep=sleep).fetch("DGS10")

    # 7 s from the header (longer than backoff 1 s); an HTTP-date is ignored -> 2 s.
    assert sleep.calls == [7.0, 2.0]


def test_persistent_429_is_rate_limit_error(mock):
    for _ in range(3):  # the ordered registry answers each registration once
        mock.get(URL, body="Too Many Requests", status=429)
    sleep = RecordingSleep()

    with pytest.raises(RateLimitError) as info:
        FredSource(retries=2, sleep=sleep).fetch("DGS10", dt.date(2025, 4, 1))

    assert len(mock.calls) == 3
    assert sleep.calls == [1.0, 2.0]
    message = str(info.value)
    assert "DGS10" in message
    assert "3 attempts" in message
    assert "429" in message
    assert "fredgraph.csv?id=DGS10&cosd=2025-04-01" in message


def test_persistent_500_is_data_source_error_after_retries_plus_one(mock):
    for _ in range(5):
        mock.get(URL, body="Internal Server Error", status=500)
    sleep = RecordingSleep()

    with pytest.raises(DataSourceError) as info:
        FredSource(retries=4, backoff=1.0, sleep=sleep).fetch("DGS10")

    assert not isinstance(info.value, RateLimitError)
    assert len(mock.calls) == 5  # retries + 1
    assert sleep.calls == [1.0, 2.0, 4.0, 8.0]
    message = str(info.value)
    assert "DGS10" in message
    assert "5 attempts" in message
    assert "500" in message
    assert URL in message


@pytest.mark.parametrize(
    "error",
    [requests.ConnectionError("connection reset"), requests.Timeout("read timed out")],
    ids=["connection", "timeout"],
)
def test_connection_errors_are_retried(mock, error):
    mock.get(URL, body=error)
    mock.get(URL, **csv_response(DGS10_CSV))
    sleep = RecordingSleep()

    s = FredSource(sleep=sleep).fetch("DGS10")

    assert sleep.calls == [1.0]
    assert len(s) == len(DGS10)


def test_persistent_connection_error_names_the_exception(mock):
    for _ in range(2):
        mock.get(URL, body=requests.ConnectionError("connection reset"))
    with pytest.raises(DataSourceError, match=r"2 attempts.*ConnectionError: connection reset"):
        FredSource(retries=1, sleep=RecordingSleep()).fetch("DGS10")


def test_other_client_error_is_not_retried(mock):
    mock.get(URL, body="Forbidden", status=403)
    sleep = RecordingSleep()
    with pytest.raises(DataSourceError, match="403"):
        FredSource(sleep=sleep).fetch("DGS10")
    assert sleep.calls == []
    assert len(mock.calls) == 1


@pytest.mark.parametrize(
    "body",
    [
        "observation_date,DGS2\n2025-04-01,3.86\n",  # another series
        "value,DGS10\n2025-04-01,4.17\n",  # first column not a date
        "observation_date,DGS10,extra\n2025-04-01,4.17,1\n",  # three columns
        "",  # empty body
    ],
    ids=["other-series", "no-date-column", "three-columns", "empty"],
)
def test_unexpected_header_is_data_source_error(mock, body):
    mock.get(URL, **csv_response(body))
    with pytest.raises(DataSourceError) as info:
        FredSource().fetch("DGS10")
    assert not isinstance(info.value, SymbolNotFoundError)
    message = str(info.value)
    assert URL in message
    assert "observation_date,DGS10" in message  # what was expected
    assert repr(body[:200]) in message  # what came back


def test_non_numeric_value_is_data_source_error(mock):
    mock.get(URL, **csv_response("observation_date,DGS10\n2025-04-01,N/A\n"))
    with pytest.raises(DataSourceError, match=r"'N/A' on 2025-04-01"):
        FredSource().fetch("DGS10")


def test_bad_date_is_data_source_error(mock):
    mock.get(URL, **csv_response("observation_date,DGS10\n2025-13-45,4.17\n"))
    with pytest.raises(DataSourceError, match="2025-13-45"):
        FredSource().fetch("DGS10")


def test_start_after_end_is_rejected_without_request(mock):
    with pytest.raises(DataValidationError, match="after end"):
        FredSource().fetch("DGS10", dt.date(2025, 4, 11), dt.date(2025, 4, 1))
    assert len(mock.calls) == 0


def test_field_is_ignored(mock):
    mock.get(URL, **csv_response("observation_date,DGS10\n2025-04-04,4.01\n"))
    assert FredSource().fetch("DGS10", field="adj_close").tolist() == [4.01]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    markers=st.lists(st.sampled_from(["value", "", "."]), min_size=len(DGS10), max_size=len(DGS10)),
    old_header=st.booleans(),
)
def test_missing_markers_property(markers, old_header):
    # Whatever mix of values, "" and "." FRED sends, exactly the valued days come back.
    header = "DATE,DGS10" if old_header else "observation_date,DGS10"
    lines = [header]
    expected = {}
    for (day, value), marker in zip(DGS10.items(), markers, strict=True):
        lines.append(f"{day},{value:.2f}" if marker == "value" else f"{day},{marker}")
        if marker == "value":
            expected[pd.Timestamp(day)] = value
    with responses.RequestsMock() as rsps:
        rsps.get(URL, **csv_response("\n".join(lines) + "\n"))
        s = FredSource().fetch("DGS10")
    assert s.to_dict() == expected
    assert s.dtype == "float64"
