"""Tests of backtest/data/sources.py: local files and the canonical series shape."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtest.data.sources import FileSource, normalize_series, read_series_file
from backtest.errors import DataValidationError

from ..conftest import SNAPSHOT


def write(tmp_path: Path, text: str, name: str = "s.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_fred_style_csv_with_missing_markers(tmp_path):
    # DEXJPUS values 2025-04-02..04 as published by FRED (data/snapshot/SOURCES.md);
    # a holiday row written as "." and one as an empty field are dropped.
    path = write(
        tmp_path,
        "observation_date,DEXJPUS\n2025-04-02,149.98\n2025-04-03,146.04\n"
        "2025-04-04,145.93\n2025-04-05,.\n2025-04-06,\n",
    )
    s = read_series_file(path)
    assert s.index.tolist() == list(pd.to_datetime(["2025-04-02", "2025-04-03", "2025-04-04"]))
    assert s.tolist() == [149.98, 146.04, 145.93]
    assert s.dtype == np.float64 and s.index.name == "date"


def test_bar_file_uses_requested_field(tmp_path):
    path = write(tmp_path, "date,open,high,low,close\n2025-04-07,1,3,0.5,2\n2025-04-08,2,4,1,3\n")
    assert read_series_file(path).tolist() == [2.0, 3.0]
    assert read_series_file(path, field="open").tolist() == [1.0, 2.0]


def test_unsorted_dates_are_sorted(tmp_path):
    path = write(tmp_path, "date,value\n2025-04-08,2\n2025-04-07,1\n")
    s = read_series_file(path)
    assert s.index.is_monotonic_increasing and s.tolist() == [1.0, 2.0]


def test_identical_duplicate_rows_collapse(tmp_path):
    path = write(tmp_path, "date,value\n2025-04-07,1\n2025-04-07,1\n2025-04-08,2\n")
    assert read_series_file(path).tolist() == [1.0, 2.0]


def test_conflicting_duplicates_are_an_error(tmp_path):
    path = write(tmp_path, "date,value\n2025-04-07,1\n2025-04-07,1.5\n")
    with pytest.raises(
        DataValidationError, match=r"s\.csv: date 2025-04-07 appears more than once"
    ):
        read_series_file(path)


def test_csv_without_date_column(tmp_path):
    path = write(tmp_path, "day,value\n2025-04-07,1\n")
    with pytest.raises(DataValidationError, match=r"s\.csv: no date column.*found columns \['day'"):
        read_series_file(path)


def test_date_that_does_not_parse(tmp_path):
    path = write(tmp_path, "date,value\n2025-04-07,1\n2025-13-45,2\n")
    with pytest.raises(DataValidationError, match=r"s\.csv: date '2025-13-45' does not parse"):
        read_series_file(path)


def test_non_numeric_value(tmp_path):
    path = write(tmp_path, "date,value\n2025-04-07,n/a?\n")
    with pytest.raises(DataValidationError, match=r"non-numeric value 'n/a\?' on 2025-04-07"):
        read_series_file(path)


def test_missing_file_and_bad_suffix(tmp_path):
    with pytest.raises(DataValidationError, match="file not found"):
        read_series_file(tmp_path / "nope.csv")
    with pytest.raises(DataValidationError, match=r"unsupported file type '\.xlsx'"):
        read_series_file(write(tmp_path, "x", "a.xlsx"))


def test_parquet_file(tmp_path):
    idx = pd.DatetimeIndex(["2025-04-07", "2025-04-08"], name="date")
    pd.DataFrame({"value": [1.5, 2.5]}, index=idx).to_parquet(tmp_path / "p.parquet")
    s = FileSource(tmp_path).fetch("p.parquet")
    assert s.tolist() == [1.5, 2.5]
    assert s.index.equals(pd.DatetimeIndex(["2025-04-07", "2025-04-08"], name="date"))


def test_file_source_slices_inclusive(tmp_path):
    s = FileSource(SNAPSHOT).fetch(
        "DGS10.csv", pd.Timestamp("2025-04-04"), pd.Timestamp("2025-04-11")
    )
    # FRED DGS10 published values (data/snapshot/SOURCES.md spot checks).
    assert s.tolist() == [4.01, 4.15, 4.26, 4.34, 4.40, 4.48]


def test_tz_aware_index_keeps_local_date():
    # A Tokyo bar stamped at local midnight must stay on its own date.
    idx = pd.DatetimeIndex(["2025-04-07", "2025-04-08"]).tz_localize("Asia/Tokyo")
    s = normalize_series(pd.Series([31136.58, 33012.58], index=idx), what="t")
    assert [d.date().isoformat() for d in s.index] == ["2025-04-07", "2025-04-08"]
