"""backtest.data.dates.iso_dates and finite_or_none against the plain Python they replace."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backtest.data.dates import finite_or_none, iso_dates


@pytest.mark.parametrize(
    "index",
    [
        pd.date_range("1960-01-01 13:45", periods=500, freq="37h"),
        pd.bdate_range("2015-01-01", "2025-12-31"),
        pd.DatetimeIndex(["2025-04-02", "NaT", "1900-02-28 23:59:59"]),
        pd.date_range("2025-03-08", periods=60, freq="6h", tz="America/New_York"),
        pd.DatetimeIndex([]),
    ],
)
def test_iso_dates_are_the_dates_isoformat(index):
    assert iso_dates(index) == [d.isoformat() for d in pd.DatetimeIndex(index).date]
    assert iso_dates(pd.Series(0, index=index).index) == iso_dates(index)


@pytest.mark.parametrize("scale", [1.0, 100.0, -0.3])
def test_finite_or_none_is_the_comprehension(scale):
    rng = np.random.default_rng(4)
    values = rng.normal(size=1000) * 10.0 ** rng.integers(-12, 12, size=1000)
    values[::7] = np.nan
    values[3], values[5] = np.inf, -np.inf
    want = [None if not np.isfinite(v) else scale * float(v) for v in values]
    got = finite_or_none(values, scale)
    assert got == want
    assert all(type(v) is float for v in got if v is not None)
    assert finite_or_none(pd.Series(values), scale) == want
