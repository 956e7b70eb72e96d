"""Tests of backtest/data/loader.py and the public load()/fetch() API.

Reference values are FRED's and Yahoo's published levels (data/snapshot/SOURCES.md spot
checks) and the snapshot files read here with plain ``pandas.read_csv``; the rest checks
behaviour (caching, offline, errors) with a fake source, no expected number involved.
"""

from __future__ import annotations

import datetime as dt
import warnings

import pandas as pd
import pytest

from backtest import data
from backtest.data import DataLoader
from backtest.data.cache import Cache
from backtest.errors import (
    DataEndsEarlyWarning,
    DataSourceError,
    DataValidationError,
    FetchFailedWarning,
    OfflineError,
    UnknownSeriesError,
)

from ..conftest import SNAPSHOT


class FakeSource:
    """A source returning a fixed series (or raising), recording every call."""

    host = "example.invalid"

    def __init__(self, name: str, series: pd.Series | None = None, error: Exception | None = None):
        self.name = name
        self.series = series
        self.error = error
        self.calls: list[tuple] = []

    def fetch(self, symbol, start=None, end=None, *, field="close"):
        self.calls.append((symbol, start, end, field))
        if self.error is not None:
            raise self.error
        s = self.series
        if start is not None:
            s = s.loc[pd.Timestamp(start) :]
        return s.rename(symbol)


def snapshot(name: str) -> pd.Series:
    frame = pd.read_csv(SNAPSHOT / name, parse_dates=["date"], index_col="date")
    return frame["value"].dropna().astype("float64")


def online(**sources) -> DataLoader:
    return DataLoader(offline=False, sources=sources, today=lambda: dt.date(2026, 11, 26))


# Acceptance: the real FRED values and the +47 bp week ------------------------------------


def test_ust10y_offline_real_values():
    levels = data.load(["UST10Y"], offline=True)
    # FRED DGS10 as published (data/snapshot/SOURCES.md spot checks).
    assert levels.at[pd.Timestamp("2025-04-04"), "UST10Y"] == 4.01
    assert levels.at[pd.Timestamp("2025-04-11"), "UST10Y"] == 4.48


def test_ust10y_week_reaction_is_47bp():
    levels = data.load(["UST10Y"], start="2025-04-04", end="2025-04-11", offline=True)
    changes = data.reactions(levels)["UST10Y"]
    # Hand computation: 4.48 - 4.01 = 0.47 percentage points = 47 bp, in daily steps
    # 14, 11, 8, 6, 8 bp (DGS10: 4.15, 4.26, 4.34, 4.40, 4.48).
    assert changes.dropna().round(9).tolist() == [14.0, 11.0, 8.0, 6.0, 8.0]
    assert changes.sum() == pytest.approx(47.0, abs=1e-9)


def test_wide_frame_union_of_dates_nan_where_closed():
    levels = data.load(["UST10Y", "NKY"], start="2025-04-28", end="2025-05-09", offline=True)
    assert list(levels.columns) == ["UST10Y", "NKY"]
    assert levels.index.name == "date" and levels.index.is_monotonic_increasing
    # Golden Week: Tokyo closed 2025-05-05 and 05-06; New York open.
    for day in ("2025-05-05", "2025-05-06"):
        assert pd.isna(levels.at[pd.Timestamp(day), "NKY"])
        assert not pd.isna(levels.at[pd.Timestamp(day), "UST10Y"])
    prov = levels.attrs["backtest"]["series"]
    assert prov["UST10Y"]["source"] == "fred:DGS10" and prov["UST10Y"]["origin"] == "snapshot"
    assert prov["NKY"]["checksum"].startswith("sha256:")


def test_prefer_alternative_source():
    levels = data.load(
        "USDJPY", start="2022-12-20", end="2022-12-20", offline=True, sources={"USDJPY": "yahoo"}
    )
    # Yahoo's bar dated 2022-12-20 still shows the pre-BoJ level (SOURCES.md cross-checks).
    assert levels.iloc[0, 0] == 136.995
    assert levels.attrs["backtest"]["series"]["USDJPY"]["source"] == "yahoo:JPY=X"
    default = data.load("USDJPY", start="2022-12-20", end="2022-12-20", offline=True)
    assert default.iloc[0, 0] == 131.08  # FRED noon New York rate


def test_loaded_values_equal_the_snapshot_files():
    levels = data.load(["USDJPY", "SPX"], offline=True)
    for name, file in (("USDJPY", "DEXJPUS.csv"), ("SPX", "SP500.csv")):
        want = snapshot(file)
        got = levels[name].dropna()
        assert got.index.equals(want.index) and (got.to_numpy() == want.to_numpy()).all()


# Bad input -----------------------------------------------------------------------------


def test_unknown_series_suggests():
    with pytest.raises(UnknownSeriesError, match="did you mean USDJPY"):
        data.load(["USDJYP"], offline=True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": "2025-04-11", "end": "2025-04-04"}, "start=2025-04-11 is after end=2025-04-04"),
        ({"start": "2025-02-30"}, r"start='2025-02-30' does not parse as a date"),
        ({"end": "yesterday-ish"}, r"end='yesterday-ish' does not parse"),
    ],
)
def test_bad_dates(kwargs, message):
    with pytest.raises(DataValidationError, match=message):
        data.load(["UST10Y"], offline=True, **kwargs)


def test_duplicate_and_empty_names():
    with pytest.raises(DataValidationError, match="more than once: UST10Y"):
        data.load(["UST10Y", "UST2Y", "UST10Y"], offline=True)
    with pytest.raises(DataValidationError, match="no series requested"):
        data.load([], offline=True)


def test_offline_series_without_local_history(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "series:\n  BUND10Y:\n    kind: yield\n    unit: percent\n    sources:\n"
        "      - {provider: fred, symbol: IRLTLT01DEM156N, timezone: Europe/Berlin,"
        " obs_time: '17:00'}\n"
    )
    with pytest.raises(
        OfflineError, match=r"BUND10Y \(fred:IRLTLT01DEM156N\).*backtest data fetch BUND10Y"
    ):
        data.load(["BUND10Y"], offline=True, catalog=data.catalog(path))


def test_user_file_series(tmp_path):
    (tmp_path / "bund.csv").write_text("date,value\n2025-04-03,2.66\n2025-04-04,2.58\n")
    (tmp_path / "c.yaml").write_text(
        "series:\n  BUND10Y:\n    kind: yield\n    unit: percent\n    sources:\n"
        "      - {provider: file, symbol: bund.csv, timezone: Europe/Berlin, obs_time: '17:00'}\n"
    )
    levels = data.load(
        ["BUND10Y", "UST10Y"],
        start="2025-04-03",
        end="2025-04-04",
        offline=True,
        catalog=data.catalog(tmp_path / "c.yaml"),
    )
    assert levels["BUND10Y"].tolist() == [2.66, 2.58]
    assert data.reactions(levels)["BUND10Y"].round(9).tolist()[1] == -8.0


def test_data_ends_early_warning_offline():
    # The snapshot's DGS10 ends 2026-08-20.
    with pytest.warns(
        DataEndsEarlyWarning, match=r"UST10Y \(fred:DGS10, offline, snapshot\) ends 2026-08-20"
    ):
        data.load(["UST10Y"], start="2026-08-01", end="2026-09-30", offline=True)


def test_no_warning_when_end_is_a_weekend_or_holiday():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # 2025-04-11 is a Friday; 04-12/13 are a weekend.
        data.load(["UST10Y"], start="2025-04-07", end="2025-04-13", offline=True)
        # Tokyo's Golden Week: 2025-05-03..06 closed, last session 05-02.
        data.load(["NKY"], start="2025-04-28", end="2025-05-06", offline=True)


# Online: extending, caching, failing safely ----------------------------------------------


def fred_tail() -> pd.Series:
    # Values after the snapshot's end, shaped as a FredSource returns them. Not real data:
    # used only to check merging, never asserted as market values.
    idx = pd.DatetimeIndex(["2026-08-19", "2026-08-20", "2026-08-21", "2026-08-24"], name="date")
    return pd.Series([4.70, 4.69, 4.71, 4.72], index=idx)


def test_online_downloads_only_the_tail_and_caches_it():
    src = FakeSource("fred", fred_tail())
    loader = online(fred=src)
    got = loader.load_series("UST10Y", start="2025-04-04", end="2026-08-24")
    # Asked from 10 days before the snapshot's last date (2026-08-20), to catch revisions,
    # and never past the requested end.
    assert src.calls == [("DGS10", dt.date(2026, 8, 10), dt.date(2026, 8, 24), "close")]
    assert got.origin == "download"
    assert got.data.loc["2025-04-04"] == 4.01 and got.data.iloc[-1] == 4.72
    cached = Cache().read("fred", "DGS10")
    assert cached.series.index[0] == pd.Timestamp("1962-01-02")  # full history kept
    assert cached.series.index[-1] == pd.Timestamp("2026-08-24")
    # Second call: the cache is fresh, nothing is downloaded again.
    src.calls.clear()
    again = online(fred=src).load_series("UST10Y", end="2026-08-24")
    assert src.calls == [] and again.origin == "cache"


def test_online_no_download_when_history_covers_the_range():
    src = FakeSource("fred", fred_tail())
    got = online(fred=src).load_series("UST10Y", start="2025-04-01", end="2025-04-11")
    assert src.calls == [] and got.origin == "snapshot"


def test_revised_values_in_the_overlap_replace_old_ones():
    revised = fred_tail().copy()
    revised.loc["2026-08-19"] = 4.75  # a revision inside the overlap window
    online(fred=FakeSource("fred", revised)).load_series("UST10Y", end="2026-08-24")
    assert Cache().read("fred", "DGS10").series.loc["2026-08-19"] == 4.75


def test_failed_download_keeps_cache_byte_identical():
    loader = online(fred=FakeSource("fred", fred_tail()))
    loader.load_series("UST10Y", end="2026-08-24")
    path = Cache().path("fred", "DGS10")
    before = path.read_bytes()
    failing = DataLoader(
        offline=False,
        sources={"fred": FakeSource("fred", error=DataSourceError("HTTP 503 from FRED"))},
        today=lambda: dt.date(2026, 11, 26),
        max_age=dt.timedelta(0),
    )
    with pytest.warns(
        FetchFailedWarning, match=r"UST10Y \(fred:DGS10\): download failed.*HTTP 503"
    ):
        got = failing.load_series("UST10Y", start="2026-08-01")
    assert path.read_bytes() == before
    assert got.data.iloc[-1] == 4.72 and got.origin == "cache"


def test_failed_download_without_history_is_an_error(tmp_path):
    (tmp_path / "c.yaml").write_text(
        "series:\n  X:\n    kind: index\n    unit: pts\n    sources:\n"
        "      - {provider: fred, symbol: NOPE, timezone: UTC, obs_time: '12:00'}\n"
    )
    loader = DataLoader(
        data.catalog(tmp_path / "c.yaml"),
        offline=False,
        sources={"fred": FakeSource("fred", error=DataSourceError("FRED has no series 'NOPE'"))},
    )
    with pytest.raises(DataSourceError, match="NOPE"):
        loader.load_series("X")
    assert not Cache().path("fred", "NOPE").exists()


def test_empty_download_does_not_overwrite():
    loader = online(fred=FakeSource("fred", fred_tail()))
    loader.fetch("UST10Y")
    path = Cache().path("fred", "DGS10")
    before = Cache().read("fred", "DGS10").series
    empty = FakeSource("fred", fred_tail().iloc[:0])
    got = online(fred=empty).fetch("UST10Y")
    pd.testing.assert_series_equal(Cache().read("fred", "DGS10").series, before)
    assert got.data.equals(before) and path.exists()


def test_fetch_refresh_replaces_corrupt_cache():
    loader = online(fred=FakeSource("fred", fred_tail()))
    loader.fetch("UST10Y")
    path = Cache().path("fred", "DGS10")
    path.write_bytes(b"garbage")
    with pytest.raises(Exception, match="unreadable"):
        loader.load_series("UST10Y")
    got = loader.fetch("UST10Y", refresh=True)
    assert got.data.index[0] == pd.Timestamp("2026-08-19")  # the full (fake) history
    assert Cache().read("fred", "DGS10") is not None


def test_fetch_offline_and_file_sources_are_clear_errors():
    with pytest.raises(OfflineError, match="cannot fetch UST10Y"):
        DataLoader(offline=True).fetch("UST10Y")
    with pytest.raises(DataValidationError, match=r"JGB10Y is read from the file JGB10Y\.csv"):
        DataLoader(offline=False).fetch("JGB10Y")


def test_file_series_never_touch_the_network():
    # offline=False with a source that would fail: JGB data comes from the bundled file.
    loader = online(fred=FakeSource("fred", error=AssertionError("no network for files")))
    got = loader.load_series("JGB10Y", start="2025-04-02", end="2025-04-04")
    # MoF 10-year JGB yields (data/snapshot/SOURCES.md spot checks).
    assert got.data.tolist() == [1.481, 1.366, 1.176] and got.origin == "file"
