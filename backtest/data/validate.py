"""The one check of a levels frame handed to the Python API.

:func:`check_levels` is called at the entry of :meth:`backtest.eventstudy.EventStudy.run`,
:func:`backtest.engine.backtest`, :func:`backtest.engine.sweep` and
:func:`backtest.data.reactions`. Every later step assumes what it checks: positions in
the frame are time order, a date is one row, and the columns used hold numbers.
Without it a shuffled frame silently gives a different CAR, a duplicated date a
wrong one, a descending index or an empty frame NaN.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from backtest.errors import DataValidationError

__all__ = ["check_levels"]


def check_levels(
    levels: object,
    *,
    where: str,
    columns: Sequence[str] | None = None,
    require_data: bool = True,
) -> None:
    """Raise unless `levels` is a frame the library can read positionally.

    Parameters
    ----------
    levels : object
        The frame given by the caller.
    where : str
        The function checking (starts every message, e.g. ``"EventStudy.run"``).
    columns : sequence of str, optional
        Columns that will be used (default all): each must be numeric and hold at
        least one finite value. Names not in `levels` are skipped (the caller
        reports them in its own terms).
    require_data : bool
        Also reject a used column with no observation at all (default). Off for
        :func:`backtest.data.reactions`, an element-wise transform whose all-NaN
        output for an all-NaN column is self-evident.

    Raises
    ------
    backtest.errors.DataValidationError
        Not a DataFrame; no rows or no columns; an index that is not a naive
        ``DatetimeIndex`` (dates of each market's own observations); a missing
        (NaT), duplicated or out-of-order date; a used column that is not numeric,
        holds an infinite value, or has no observation at all. The message names
        the problem and the fix.

    Examples
    --------
    >>> idx = pd.DatetimeIndex(["2025-04-04", "2025-04-03"])
    >>> try:
    ...     check_levels(pd.DataFrame({"SPX": [1.0, 2.0]}, index=idx), where="demo")
    ... except ValueError as exc:
    ...     print(str(exc).split("; ")[-1])
    sort it with levels.sort_index()
    """
    if not isinstance(levels, pd.DataFrame):
        raise DataValidationError(
            f"{where}: levels must be a pandas DataFrame of levels (dates x series), got "
            f"{type(levels).__name__}; load it with backtest.data.load"
        )
    if levels.shape[0] == 0 or levels.shape[1] == 0:
        raise DataValidationError(
            f"{where}: levels is empty ({levels.shape[0]} rows x {levels.shape[1]} columns); "
            "check the date range and series names it was loaded with"
        )
    index = levels.index
    if not isinstance(index, pd.DatetimeIndex):
        raise DataValidationError(
            f"{where}: levels must have a DatetimeIndex of observation dates, got "
            f"{type(index).__name__} (dtype {index.dtype}); fix: "
            "levels.set_index(pd.to_datetime(levels['date'])) or "
            "levels.index = pd.to_datetime(levels.index)"
        )
    if index.tz is not None:
        raise DataValidationError(
            f"{where}: levels index is tz-aware ({index.tz}); levels are dated by each "
            "market's local observation date, without a time zone; fix: "
            "levels.tz_localize(None) (keeps the local dates)"
        )
    if index.hasnans:
        raise DataValidationError(
            f"{where}: levels index has {int(index.isna().sum())} missing date(s) (NaT); "
            "drop those rows: levels[levels.index.notna()]"
        )
    if not index.is_unique:
        dup = index[index.duplicated()]
        raise DataValidationError(
            f"{where}: levels index has {len(dup)} duplicated date(s), first "
            f"{dup[0].date()}; keep one row per date, e.g. "
            "levels[~levels.index.duplicated(keep='last')]"
        )
    if not index.is_monotonic_increasing:
        values = index.asi8
        bad = int(np.flatnonzero(np.diff(values) < 0)[0])
        order = (
            "descending"
            if index.is_monotonic_decreasing
            else f"not in ascending date order ({index[bad + 1].date()} follows "
            f"{index[bad].date()})"
        )
        raise DataValidationError(
            f"{where}: levels index is {order}; sort it with levels.sort_index()"
        )
    if not levels.columns.is_unique:
        dup = levels.columns[levels.columns.duplicated()]
        raise DataValidationError(
            f"{where}: levels has the column {dup[0]!r} twice; keep one, e.g. "
            "levels.loc[:, ~levels.columns.duplicated()]"
        )
    # Columns the caller will use; a missing one is the caller's to report.
    names = levels.columns.tolist()
    position = {c: i for i, c in enumerate(names)}  # columns are unique (checked above)
    used = names if columns is None else [c for c in dict.fromkeys(columns) if c in position]
    if not used:
        return
    dtypes = levels.dtypes
    if all(d == np.float64 for d in dtypes.tolist()):  # the usual frame: plain floats
        at = np.array([position[c] for c in used], dtype=np.intp)
        array = levels.to_numpy()
        inf = np.isinf(array).any(axis=0)[at]
        has_data = np.isfinite(array).any(axis=0)[at]
    else:
        bad_types = [
            f"{c!r} ({dtypes[c]})"
            for c in used
            if not pd.api.types.is_numeric_dtype(dtypes[c]) or pd.api.types.is_bool_dtype(dtypes[c])
        ]
        if bad_types:
            raise DataValidationError(
                f"{where}: levels column(s) {', '.join(bad_types)} are not numeric; convert "
                "them, e.g. levels[col] = pd.to_numeric(levels[col], errors='coerce')"
            )
        values = levels[used].to_numpy(dtype="float64", na_value=np.nan)
        inf = np.isinf(values).any(axis=0)
        has_data = np.isfinite(values).any(axis=0)
    if inf.any():
        name = used[int(np.flatnonzero(inf)[0])]
        raise DataValidationError(
            f"{where}: levels column {name!r} holds an infinite value; replace it with "
            "NaN (no observation): levels.replace([np.inf, -np.inf], np.nan)"
        )
    empty = [c for c, has in zip(used, has_data, strict=True) if not has]
    if empty and require_data:
        raise DataValidationError(
            f"{where}: levels column(s) {empty} have no observation (all NaN) in "
            f"{index[0].date()}..{index[-1].date()}; drop them or widen the date range"
        )
