"""Short rates in the catalog: FEDFUNDS_TARGET, JPY_CALL and BOJ_POLICY.

References: the published policy decisions quoted in data/snapshot/SOURCES.md (the Fed's
cut to 0-0.25% effective 2020-03-16 and to 4.75-5.0% effective 2024-09-19; the BoJ's
decisions effective 2024-03-21, 2024-08-01, 2025-01-27), and the bundled files read with
plain ``csv`` from the standard library. Online paths use ``responses`` with answers in
the providers' documented shapes, holding only values of the bundled files.
"""

from __future__ import annotations

import csv
import datetime as dt
import warnings

import pandas as pd
import pytest
import requests
import responses
from responses.registries import OrderedRegistry

from backtest import data
from backtest.data import DataLoader
from backtest.data.boj import BojSource
from backtest.data.cache import Cache
from backtest.data.catalog import builtin_catalog
from backtest.data.fred import FredSource
from backtest.errors import DataEndsEarlyWarning, FetchFailedWarning

from ..conftest import SNAPSHOT

RATES = {
    # name: (provider, symbol, snapshot file, zone, clock, calendar)
    "FEDFUNDS_TARGET": (
        "fred",
        "DFEDTARU",
        "fed_funds_target.csv",
        "America/New_York",
        "00:00",
        "24/7",
    ),
    "JPY_CALL": (
        "boj",
        "FM01'STRDCLUCON",
        "JPY_call_rate_boj.csv",
        "Asia/Tokyo",
        "17:00",
        "XTKS",
    ),
    "BOJ_POLICY": (
        "file",
        "boj_policy_rate_bis.csv",
        None,
        "Asia/Tokyo",
        "00:00",
        None,
    ),
}


def read_file(name: str) -> dict[str, float]:
    with (SNAPSHOT / name).open(newline="") as fh:
        return {row["date"]: float(row["value"]) for row in csv.DictReader(fh)}


@pytest.mark.parametrize("name", list(RATES))
def test_catalog_lists_the_short_rates(name):
    provider, symbol, snapshot, zone, clock, calendar = RATES[name]
    spec = builtin_catalog()[name]
    assert spec.kind == "yield"  # changes in basis points, like yields
    assert spec.unit == "percent per year"
    assert (spec.default.provider, spec.default.symbol, spec.default.snapshot) == (
        provider,
        symbol,
        snapshot,
    )
    assert spec.timezone == zone and spec.obs_time == dt.time.fromisoformat(clock)
    assert spec.calendar == calendar
    assert name in builtin_catalog().to_frame().index


@pytest.mark.parametrize("name", list(RATES))
def test_offline_load_equals_the_bundled_file(name):
    _, symbol, snapshot, *_ = RATES[name]
    got = data.load(name, offline=True)[name].dropna()
    expected = read_file(snapshot or symbol)
    assert len(got) == len(expected)
    assert [d.strftime("%Y-%m-%d") for d in got.index] == list(expected)
    assert got.tolist() == list(expected.values())


def rate(name: str, start: str, end: str) -> dict[str, float]:
    s = data.load(name, start=start, end=end, offline=True)[name].dropna()
    return {d.strftime("%Y-%m-%d"): v for d, v in s.items()}


def test_fed_target_steps_on_published_effective_dates():
    # 2020-03-15 (a Sunday) cut to 0-0.25%, effective 03-16; calendar days, weekends kept.
    assert rate("FEDFUNDS_TARGET", "2020-03-14", "2020-03-16") == {
        "2020-03-14": 1.25,
        "2020-03-15": 1.25,
        "2020-03-16": 0.25,
    }
    # 2024-09-18 decision (5.25-5.5% to 4.75-5.0%), effective 09-19.
    assert rate("FEDFUNDS_TARGET", "2024-09-18", "2024-09-19") == {
        "2024-09-18": 5.5,
        "2024-09-19": 5.0,
    }
    # The splice: DFEDTAR's single target (1.0) to 2008-12-15, DFEDTARU's upper bound after.
    assert rate("FEDFUNDS_TARGET", "2008-12-15", "2008-12-16") == {
        "2008-12-15": 1.0,
        "2008-12-16": 0.25,
    }


def test_call_rate_steps_after_boj_decisions():
    # Previous business day, then the effective day (SOURCES.md checks).
    assert rate("JPY_CALL", "2024-03-19", "2024-03-21") == {
        "2024-03-19": -0.001,
        "2024-03-21": 0.074,
    }
    assert rate("JPY_CALL", "2024-07-31", "2024-08-01") == {
        "2024-07-31": 0.079,
        "2024-08-01": 0.227,
    }
    assert rate("JPY_CALL", "2025-01-24", "2025-01-27") == {
        "2025-01-24": 0.227,
        "2025-01-27": 0.476,
    }


def test_bis_policy_rate_steps():
    # Weekday rows only from 2017-06-19: Friday 2025-12-19, then Monday 12-22.
    assert rate("BOJ_POLICY", "2024-03-20", "2024-03-21") == {
        "2024-03-20": -0.1,
        "2024-03-21": 0.05,
    }
    assert rate("BOJ_POLICY", "2025-12-19", "2025-12-22") == {"2025-12-19": 0.5, "2025-12-22": 0.75}


def test_call_rate_change_is_in_basis_points():
    # 0.074 - (-0.001) = 0.075 percentage points = 7.5 bp, computed by hand.
    frame = data.load("JPY_CALL", start="2024-03-19", end="2024-03-21", offline=True)
    changes = data.reactions(frame)
    assert changes["JPY_CALL"].dropna().round(6).tolist() == [7.5]


# Online paths -------------------------------------------------------------------------

BOJ_URL = "https://www.stat-search.boj.or.jp/api/v1/getDataCode"
FRED_URL = "https://fred.stlouisfed.org/graph/fredgraph.csv"


@pytest.fixture
def mock():
    with responses.RequestsMock(registry=OrderedRegistry) as rsps:
        yield rsps


def boj_answer(days: dict[str, float]) -> dict:
    """getDataCode's documented JSON envelope for FM01 STRDCLUCON."""
    return {
        "STATUS": 200,
        "MESSAGEID": "M181000I",
        "MESSAGE": "正常に終了しました。",
        "DATE": "2026-08-24T09:00:00.000+09:00",
        "PARAMETER": {"db": "FM01", "code": "STRDCLUCON", "format": "json", "lang": "en"},
        "NEXTPOSITION": None,
        "RESULTSET": [
            {
                "SERIES_CODE": "STRDCLUCON",
                "NAME_OF_TIME_SERIES": "Call Rate, Uncollateralized Overnight/Average",
                "UNIT": "% per annum",
                "FREQUENCY": "DAILY",
                "VALUES": {
                    "SURVEY_DATES": [int(d.replace("-", "")) for d in days],
                    "VALUES": list(days.values()),
                },
            }
        ],
    }


def loader(**sources) -> DataLoader:
    return DataLoader(offline=False, sources=sources, today=lambda: dt.date(2026, 8, 24))


def test_call_rate_online_extends_from_the_snapshot_through_the_boj_api(mock):
    snap = read_file("JPY_call_rate_boj.csv")  # ends 2026-08-19
    august = {d: v for d, v in snap.items() if d >= "2026-08-01"}
    mock.get(BOJ_URL, json=boj_answer(august))
    src = BojSource(sleep=lambda s: None)

    # The Bank has nothing after 2026-08-19 in this answer: the loader says so.
    with pytest.warns(DataEndsEarlyWarning, match="JPY_CALL"):
        got = loader(boj=src).load_series("JPY_CALL", start="2026-08-10", end="2026-08-21")

    # Asked from 10 days before the snapshot's end (2026-08-09), by month.
    params = mock.calls[0].request.params
    assert (params["db"], params["code"], params["startDate"], params["endDate"]) == (
        "FM01",
        "STRDCLUCON",
        "202608",
        "202608",
    )
    assert got.origin == "download"
    assert got.data.to_dict() == {
        pd.Timestamp(d): v for d, v in snap.items() if "2026-08-10" <= d <= "2026-08-21"
    }
    cached = Cache().read("boj", "FM01'STRDCLUCON").series
    assert cached.index[0] == pd.Timestamp("1998-01-05")  # full history kept


def test_call_rate_failed_download_keeps_the_snapshot(mock):
    for _ in range(2):
        mock.get(BOJ_URL, json={**boj_answer({}), "STATUS": 503, "MESSAGEID": "M181091S"})
    src = BojSource(retries=1, sleep=lambda s: None)
    with (
        pytest.warns(DataEndsEarlyWarning),
        pytest.warns(FetchFailedWarning, match=r"JPY_CALL \(boj:FM01'STRDCLUCON\).*M181091S"),
    ):
        got = loader(boj=src).load_series("JPY_CALL", start="2026-08-10", end="2026-08-21")
    assert got.origin == "snapshot" and got.data.index[-1] == pd.Timestamp("2026-08-19")
    assert not Cache().path("boj", "FM01'STRDCLUCON").exists()


def test_fed_target_online_through_fred_keeps_weekend_days(mock):
    # DFEDTARU is a calendar-day series: FRED's CSV has Saturday and Sunday rows.
    snap = read_file("fed_funds_target.csv")  # ends 2026-07-29 (a Wednesday)
    tail = {d: v for d, v in snap.items() if d >= "2026-07-19"}
    body = "observation_date,DFEDTARU\n" + "".join(f"{d},{v:.2f}\n" for d, v in tail.items())
    mock.get(FRED_URL, body=body, content_type="text/csv")
    src = FredSource(session=requests.Session(), sleep=lambda s: None)

    with pytest.warns(DataEndsEarlyWarning, match="FEDFUNDS_TARGET"):  # nothing after 07-29
        got = loader(fred=src).load_series("FEDFUNDS_TARGET", start="2026-07-24", end="2026-07-31")

    assert mock.calls[0].request.params["id"] == "DFEDTARU"
    assert [d.strftime("%a") for d in got.data.index] == [
        "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"
    ]  # fmt: skip
    assert got.data.tolist() == [3.75] * 6
    # The splice before 2008-12-16 survives an online extension (only the tail is asked for).
    cached = Cache().read("fred", "DFEDTARU").series
    assert cached.loc["2008-12-15"] == 1.0 and cached.index[0] == pd.Timestamp("1982-09-27")


def test_bis_policy_rate_never_touches_the_network():
    class Refuse:
        name = "fred"
        host = "example.invalid"

        def fetch(self, *args, **kwargs):
            raise AssertionError("the BIS series is bundled only")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = loader(fred=Refuse()).load_series("BOJ_POLICY", start="2025-12-19", end="2025-12-22")
    assert got.origin == "file" and got.data.iloc[-1] == 0.75
