"""Tests of backtest/data/catalog.py: the named series and their observation clocks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from backtest.data import catalog
from backtest.data.catalog import Catalog, SourceSpec, builtin_catalog
from backtest.errors import DataValidationError, UnknownSeriesError

from ..conftest import SNAPSHOT

REQUIRED = [
    "UST3M",
    "UST2Y",
    "UST5Y",
    "UST10Y",
    "UST30Y",
    "USDJPY",
    "SPX",
    "NKY",
    "TOPIX",
    "USD",
    "DXY",
    "VIX",
    "JGB2Y",
    "JGB5Y",
    "JGB10Y",
    "JGB20Y",
    "JGB30Y",
    "FEDFUNDS_TARGET",
    "JPY_CALL",
    "BOJ_POLICY",
]


def test_required_series_present():
    cat = builtin_catalog()
    assert set(REQUIRED) <= set(cat)


# Expected clocks come from the issue and the publishers' documentation:
# H.15 CMT yields ~15:30 NY; H.10 noon buying rates 12:00 NY; NYSE close 16:00;
# TSE close 15:30 (from 2024-11-05); MoF JGB yields from Tokyo 15:00 closing prices;
# Yahoo's FX bar dated D is the rate at the start of D in London (data/snapshot/SOURCES.md).
@pytest.mark.parametrize(
    ("name", "provider", "symbol", "zone", "clock"),
    [
        ("UST10Y", "fred", "DGS10", "America/New_York", "15:30"),
        ("UST2Y", "fred", "DGS2", "America/New_York", "15:30"),
        ("USDJPY", "fred", "DEXJPUS", "America/New_York", "12:00"),
        ("SPX", "fred", "SP500", "America/New_York", "16:00"),
        ("NKY", "fred", "NIKKEI225", "Asia/Tokyo", "15:30"),
        ("USD", "fred", "DTWEXBGS", "America/New_York", "12:00"),
        ("JGB10Y", "file", "JGB10Y.csv", "Asia/Tokyo", "15:00"),
    ],
)
def test_default_source_and_clock(name, provider, symbol, zone, clock):
    spec = builtin_catalog()[name]
    assert (spec.default.provider, spec.default.symbol) == (provider, symbol)
    assert spec.timezone == zone
    assert spec.obs_time == dt.time.fromisoformat(clock)


def test_yahoo_usdjpy_records_start_of_day_london():
    src = builtin_catalog()["USDJPY"].source("yahoo")
    assert (src.symbol, src.timezone, src.obs_time) == ("JPY=X", "Europe/London", dt.time(0, 0))
    assert src.snapshot == "USDJPY_yahoo.csv"


def test_kinds():
    cat = builtin_catalog()
    assert {cat[n].kind for n in ("UST10Y", "JGB30Y", "UST3M")} == {"yield"}
    assert cat["USDJPY"].kind == "fx"
    assert {cat[n].kind for n in ("SPX", "NKY", "VIX", "USD", "DXY", "TOPIX")} == {"index"}


def test_series_with_two_snapshot_sources_name_default_and_alternative():
    cat = builtin_catalog()
    # Each pair is (default, alternative) per data/snapshot/SOURCES.md.
    pairs = {
        "UST10Y": ("DGS10.csv", "TNX_yahoo.csv"),
        "USDJPY": ("DEXJPUS.csv", "USDJPY_yahoo.csv"),
        "SPX": ("SP500.csv", "GSPC_yahoo.csv"),
        "NKY": ("NIKKEI225.csv", "N225_yahoo.csv"),
        "VIX": ("VIXCLS.csv", "VIX_yahoo.csv"),
    }
    for name, (default, alternative) in pairs.items():
        files = [s.snapshot or s.symbol for s in cat[name].sources]
        assert files[0] == default
        assert alternative in files[1:]


def test_every_snapshot_file_is_in_the_catalog_and_exists():
    cat = builtin_catalog()
    referenced = set()
    for spec in cat.values():
        for src in spec.sources:
            name = src.snapshot or (src.symbol if src.provider == "file" else None)
            if name:
                assert (SNAPSHOT / name).is_file(), name
                referenced.add(name)
    on_disk = {p.name for p in SNAPSHOT.glob("*.csv")}
    assert on_disk == referenced


def test_unknown_name_suggests_close_names():
    with pytest.raises(UnknownSeriesError, match=r"did you mean UST10Y"):
        builtin_catalog()["UST10"]
    with pytest.raises(KeyError):  # UnknownSeriesError is also a KeyError
        builtin_catalog()["usdjpi"]
    with pytest.raises(UnknownSeriesError) as info:
        builtin_catalog()["usdjpi"]
    assert "did you mean USDJPY" in str(info.value)


def test_observation_times_apply_daylight_saving():
    spec = builtin_catalog()["USDJPY"].default  # 12:00 New York
    dates = pd.DatetimeIndex(["2025-01-06", "2025-04-07", "2025-11-03"])
    got = spec.observation_times(dates)
    # Independent: the standard library's zoneinfo, one date at a time.
    ny = ZoneInfo("America/New_York")
    want = [dt.datetime(d.year, d.month, d.day, 12, 0, tzinfo=ny).astimezone(dt.UTC) for d in dates]
    assert [t.to_pydatetime() for t in got] == want
    assert [t.hour for t in got] == [17, 16, 17]  # EST, EDT, EST


def test_tokyo_close_precedes_new_york_afternoon_same_date():
    nky = builtin_catalog()["NKY"].default.observation_times(pd.DatetimeIndex(["2025-04-03"]))
    spx = builtin_catalog()["SPX"].default.observation_times(pd.DatetimeIndex(["2025-04-02"]))
    # Tokyo 15:30 JST on 04-03 = 06:30 UTC; New York 16:00 EDT on 04-02 = 20:00 UTC.
    assert nky[0] == pd.Timestamp("2025-04-03 06:30", tz="UTC")
    assert spx[0] == pd.Timestamp("2025-04-02 20:00", tz="UTC")


USER_YAML = """
series:
  BUND10Y:
    description: German 10-year yield (user file)
    kind: yield
    unit: percent
    calendar: XFRA
    sources:
      - provider: file
        symbol: bund.csv
        timezone: Europe/Berlin
        obs_time: "17:30"
  UST10Y:
    kind: yield
    unit: percent
    sources:
      - {provider: yahoo, symbol: ^TNX, timezone: America/Chicago, obs_time: "15:00"}
"""


def test_user_yaml_adds_and_overrides(tmp_path: Path):
    path = tmp_path / "mine.yaml"
    path.write_text(USER_YAML)
    cat = catalog(path)
    assert cat["BUND10Y"].default.obs_time == dt.time(17, 30)
    assert cat.base_dir("BUND10Y") == tmp_path.resolve()
    assert cat["UST10Y"].default.symbol == "^TNX"  # user definition wins
    assert cat.base_dir("UST2Y") is None  # built-ins resolve against the snapshot
    assert "USDJPY" in cat


def test_user_yaml_via_environment(tmp_path: Path, monkeypatch):
    path = tmp_path / "mine.yaml"
    path.write_text(USER_YAML)
    monkeypatch.setenv("BACKTEST_CATALOG", str(path))
    assert "BUND10Y" in catalog()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("series: {X: {kind: bond, unit: p, sources: []}}", r"series\.X\.kind"),
        (
            "series: {X: {kind: yield, unit: p, sources: [{provider: fred, symbol: A, "
            "timezone: Mars/Base, obs_time: '12:00'}]}}",
            r"series\.X\.sources\.0\.timezone.*unknown time zone 'Mars/Base'",
        ),
        (
            "series: {X: {kind: yield, unit: p, colour: red, sources: [{provider: fred, "
            "symbol: A, timezone: UTC, obs_time: '12:00'}]}}",
            r"series\.X\.colour: Extra inputs are not permitted",
        ),
        (
            "series: {X: {kind: yield, unit: p, calendar: XNYZ, sources: [{provider: fred, "
            "symbol: A, timezone: UTC, obs_time: '12:00'}]}}",
            r"unknown exchange calendar 'XNYZ'; did you mean XNZE, XNYS",
        ),
        ("serie: {}", r"expected a mapping with the single key 'series'"),
    ],
)
def test_bad_user_yaml_names_file_and_field(tmp_path: Path, body, message):
    path = tmp_path / "bad.yaml"
    path.write_text(body)
    with pytest.raises(DataValidationError, match=message) as info:
        Catalog.from_yaml(path)
    assert str(path) in str(info.value)


def test_missing_user_yaml():
    with pytest.raises(DataValidationError, match="catalog file not found"):
        Catalog.from_yaml("no/such/file.yaml")


def test_source_spec_is_frozen_and_strict():
    spec = SourceSpec(provider="fred", symbol="DGS10", timezone="UTC", obs_time="15:30")
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen error type
        spec.symbol = "DGS2"  # type: ignore[misc]
    assert spec.key == "fred:DGS10"


def test_to_frame_lists_every_series():
    frame = builtin_catalog().to_frame()
    assert list(frame.index) == list(builtin_catalog())
    assert frame.loc["USDJPY", "observed"] == "12:00 America/New_York"
    assert "yahoo:JPY=X" in frame.loc["USDJPY", "alternatives"]
