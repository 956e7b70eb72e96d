"""Checks and date arithmetic shared by :mod:`bond` and :mod:`fx` (package-private)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from backtest.errors import DataValidationError

#: Percent-per-year values outside this range are taken for a unit mistake.
PERCENT_RANGE = (-10.0, 100.0)


def check_series(series: object, *, label: str, where: str) -> pd.Series:
    """Return `series` as float64 if it is a numeric Series on sorted unique naive dates."""
    if not isinstance(series, pd.Series):
        raise DataValidationError(
            f"{where}: {label} must be a pandas Series indexed by date, got {type(series).__name__}"
        )
    if not isinstance(series.index, pd.DatetimeIndex) or series.index.tz is not None:
        raise DataValidationError(
            f"{where}: {label} must have a naive DatetimeIndex (dates of its observations), "
            f"got {type(series.index).__name__}"
            + (
                f" with time zone {series.index.tz}"
                if isinstance(series.index, pd.DatetimeIndex)
                else ""
            )
        )
    if series.index.hasnans:
        raise DataValidationError(f"{where}: {label} has a missing date (NaT) in its index")
    if not series.index.is_unique:
        dup = series.index[series.index.duplicated()][0]
        raise DataValidationError(f"{where}: {label} has the date {dup.date()} more than once")
    if not series.index.is_monotonic_increasing:
        raise DataValidationError(
            f"{where}: {label} dates must be in increasing order; sort it first"
        )
    if not (
        pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)
    ):
        raise DataValidationError(f"{where}: {label} must be numeric, got dtype {series.dtype}")
    values = series.astype(np.float64)
    if np.isinf(values.to_numpy()).any():
        raise DataValidationError(f"{where}: {label} holds an infinite value")
    return values


def check_percent(values: pd.Series, *, label: str, where: str) -> None:
    """Raise unless every observed value is a plausible rate in percent per year."""
    lo, hi = PERCENT_RANGE
    bad = values[(values < lo) | (values > hi)]
    if len(bad):
        raise DataValidationError(
            f"{where}: {label} must be in percent per year (4.18 for 4.18%, as FRED DGS10), "
            f"within [{lo:g}, {hi:g}]; got {bad.iloc[0]:g} on {bad.index[0].date()} "
            "(basis points? divide by 100; a decimal fraction? multiply by 100)"
        )


def day_gaps(index: pd.DatetimeIndex) -> npt.NDArray[np.float64]:
    """Calendar days from each date to the next (``len(index) - 1`` values)."""
    days = index.to_numpy().astype("datetime64[D]").astype(np.int64)
    return np.diff(days).astype(np.float64)


def series_label(what: str, series: object, name: str | None = None) -> str:
    """``"yield series 'UST10Y'"``: what the series is and its name, if it has one."""
    label = name or getattr(series, "name", None)
    return f"{what} {label!r}" if label else what
