"""Tests of backtest/data/cache.py: atomic writes, integrity checks, nothing lost.

Reference check: ``test_checksum_matches_independent_computation`` (sha256 recomputed
here from the documented recipe). The rest are invariants and behaviour: a round trip
returns what was written, a failed or refused write leaves the old file untouched.
"""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from backtest.data.cache import Cache, checksum
from backtest.errors import CacheCorruptError, DataValidationError


@pytest.fixture
def series() -> pd.Series:
    # FRED DGS10, 2025-04-04..2025-04-11 (data/snapshot/SOURCES.md).
    idx = pd.DatetimeIndex(
        ["2025-04-04", "2025-04-07", "2025-04-08", "2025-04-09", "2025-04-10", "2025-04-11"],
        name="date",
    )
    return pd.Series([4.01, 4.15, 4.26, 4.34, 4.40, 4.48], index=idx, name="DGS10")


def test_round_trip_and_metadata(tmp_path, series):
    cache = Cache(tmp_path)
    meta = cache.write("fred", "DGS10", series)
    entry = cache.read("fred", "DGS10")
    pd.testing.assert_series_equal(entry.series, series, check_freq=False)
    assert (meta.rows, meta.first, meta.last) == (6, "2025-04-04", "2025-04-11")
    assert (meta.provider, meta.symbol) == ("fred", "DGS10")
    assert entry.meta == meta
    # The metadata lives in the parquet file itself and is plain JSON.
    raw = pq.read_schema(cache.path("fred", "DGS10")).metadata[b"backtest"]
    assert json.loads(raw)["checksum"] == meta.checksum


def test_checksum_matches_independent_computation(series):
    # Recomputed here from the documented recipe: days since epoch (int64 LE) + values (f8 LE).
    days = np.array([(d - pd.Timestamp("1970-01-01")).days for d in series.index], dtype="<i8")
    want = hashlib.sha256(days.tobytes() + np.array(series.tolist(), dtype="<f8").tobytes())
    assert checksum(series) == "sha256:" + want.hexdigest()
    # Independent of the index's time resolution.
    other = series.copy()
    other.index = other.index.as_unit("s")
    assert checksum(other) == checksum(series)


def test_symbol_with_special_characters(tmp_path, series):
    cache = Cache(tmp_path)
    cache.write("yahoo", "^TNX", series)
    assert cache.path("yahoo", "^TNX").name == "%5ETNX.parquet"
    assert cache.read("yahoo", "^TNX").series.tolist() == series.tolist()
    assert [m.symbol for m in cache.entries()] == ["^TNX"]


def test_missing_file_reads_as_none(tmp_path):
    assert Cache(tmp_path).read("fred", "DGS10") is None


def test_empty_series_is_refused_and_old_file_untouched(tmp_path, series):
    cache = Cache(tmp_path)
    cache.write("fred", "DGS10", series)
    before = cache.path("fred", "DGS10").read_bytes()
    with pytest.raises(DataValidationError, match="refusing to cache an empty series"):
        cache.write("fred", "DGS10", series.iloc[:0])
    assert cache.path("fred", "DGS10").read_bytes() == before


def test_failed_write_leaves_old_file_and_no_temp_files(tmp_path, series, monkeypatch):
    cache = Cache(tmp_path)
    cache.write("fred", "DGS10", series)
    path = cache.path("fred", "DGS10")
    before = path.read_bytes()

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        cache.write("fred", "DGS10", series * 2)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_truncated_file_is_reported(tmp_path, series):
    cache = Cache(tmp_path)
    cache.write("fred", "DGS10", series)
    path = cache.path("fred", "DGS10")
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CacheCorruptError, match=r"DGS10\.parquet: cache file is unreadable"):
        cache.read("fred", "DGS10")
    assert cache.entries() == []  # listing skips it rather than failing


def test_tampered_values_fail_the_checksum(tmp_path, series):
    cache = Cache(tmp_path)
    cache.write("fred", "DGS10", series)
    path = cache.path("fred", "DGS10")
    table = pq.read_table(path)
    frame = table.to_pandas()
    frame.iloc[2, 0] = 9.99
    import pyarrow as pa

    bad = pa.Table.from_pandas(frame).replace_schema_metadata(table.schema.metadata)
    pq.write_table(bad, path)
    with pytest.raises(CacheCorruptError, match="does not match its recorded checksum"):
        cache.read("fred", "DGS10")


def test_foreign_parquet_without_metadata(tmp_path, series):
    cache = Cache(tmp_path)
    path = cache.path("fred", "DGS10")
    path.parent.mkdir(parents=True)
    series.to_frame("value").to_parquet(path)
    with pytest.raises(CacheCorruptError, match="no valid backtest metadata"):
        cache.read("fred", "DGS10")


def test_unsorted_series_is_refused(tmp_path, series):
    with pytest.raises(DataValidationError, match="sorted and unique"):
        Cache(tmp_path).write("fred", "DGS10", series.iloc[::-1])
