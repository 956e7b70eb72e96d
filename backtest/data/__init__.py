"""Market data: a catalog of named series, three real sources, a cache and a bundled snapshot.

The public API is four functions:

* :func:`load` - wide frame of levels for catalog series;
* :func:`reactions` - per-observation changes in each series' natural unit;
* :func:`catalog` - the catalog (built-in plus user YAML files);
* :func:`fetch` - download series into the cache (online).

Examples
--------
>>> from backtest import data
>>> levels = data.load(["UST10Y"], start="2025-04-04", end="2025-04-11", offline=True)
>>> levels["UST10Y"].tolist()
[4.01, 4.15, 4.26, 4.34, 4.4, 4.48]
>>> round(float(data.reactions(levels)["UST10Y"].sum()), 6)
47.0
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from backtest.data.cache import Cache, checksum, default_cache_dir
from backtest.data.catalog import Catalog, SeriesSpec, SourceSpec, builtin_catalog
from backtest.data.loader import (
    DataLoader,
    DateLike,
    LoadedSeries,
    parse_date,
    require_observations,
    to_frame,
)
from backtest.data.snapshot import snapshot_dir
from backtest.data.validate import check_levels
from backtest.errors import DataValidationError

__all__ = [
    "Cache",
    "Catalog",
    "DataLoader",
    "LoadedSeries",
    "SeriesSpec",
    "SourceSpec",
    "catalog",
    "check_levels",
    "checksum",
    "default_cache_dir",
    "fetch",
    "load",
    "parse_date",
    "reactions",
    "require_observations",
    "snapshot_dir",
    "to_frame",
]

#: Unit of :func:`reactions` per series kind.
REACTION_UNITS = {"yield": "bp", "fx": "% log return", "index": "% log return"}


def catalog(*paths: str | Path) -> Catalog:
    """Return the series catalog: built-in series plus user YAML files.

    Parameters
    ----------
    *paths : str or pathlib.Path
        Catalog YAML files (schema of ``backtest/data/catalog.yaml``). Files listed
        in ``$BACKTEST_CATALOG`` (separated by ``os.pathsep``) are read first.
        Later definitions replace earlier ones of the same name.

    Returns
    -------
    Catalog
        Mapping of series name to :class:`SeriesSpec`; ``.to_frame()`` tabulates it.

    Examples
    --------
    >>> cat = catalog()
    >>> cat["USDJPY"].default.symbol, cat["USDJPY"].obs_time.isoformat()
    ('DEXJPUS', '12:00:00')
    """
    env = [p for p in os.environ.get("BACKTEST_CATALOG", "").split(os.pathsep) if p]
    result = builtin_catalog()
    for path in (*env, *paths):
        result = result.merge(Catalog.from_yaml(path))
    return result


_full_catalog = catalog


def load(
    names: str | Iterable[str],
    start: DateLike | None = None,
    end: DateLike | None = None,
    offline: bool | None = None,
    *,
    sources: str | Mapping[str, str] | None = None,
    cache_dir: str | Path | None = None,
    catalog: Catalog | None = None,
) -> pd.DataFrame:
    """Load catalog series as a wide frame of levels.

    Parameters
    ----------
    names : str or iterable of str
        Catalog names, e.g. ``["UST10Y", "USDJPY"]``.
    start, end : str, datetime.date or pandas.Timestamp, optional
        Inclusive date range: ISO 8601 text ``"2025-04-01"``, a ``date`` or a
        ``Timestamp`` (see :func:`parse_date`). ``"01/06/2016"`` and other non-ISO
        forms are refused with the ISO form to write. Nothing after `end` is
        downloaded.
    offline : bool, optional
        ``True`` reads only the cache and the bundled snapshot; ``False`` extends
        them from the network (and fails at once, suggesting ``offline=True``, when
        there is no network); ``None`` (default) uses ``$BACKTEST_OFFLINE`` and
        otherwise goes offline, with one warning, when the source's host does not
        answer quickly. A local copy that already reaches `end` is used without
        touching the network in every mode.
    sources : str or mapping, optional
        Preferred provider, for all series (``"yahoo"``) or per series
        (``{"USDJPY": "yahoo"}``); default: each series' default source.
    cache_dir : path, optional
        Cache directory (default :func:`default_cache_dir`).
    catalog : Catalog, optional
        Catalog to resolve names in (default :func:`catalog`).

    Returns
    -------
    pandas.DataFrame
        One ``float64`` column of levels per series, in the order requested, on a
        ``DatetimeIndex`` named ``date`` of observation dates (the union over
        series); NaN where that market had no observation. Provenance of each
        column is in ``frame.attrs["backtest"]["series"]``.

    Raises
    ------
    backtest.errors.UnknownSeriesError
        A name is not in the catalog (the message suggests close names).
    backtest.errors.DataValidationError
        Dates that are not ISO 8601, ``start`` after ``end``, a range holding no
        observation of some series (the message gives each one's available dates),
        or a series listed twice.
    backtest.errors.OfflineError
        A series is neither cached nor bundled and the network is off; or
        (:class:`~backtest.errors.NoNetworkError`) ``offline=False`` and a source's
        host cannot be reached (nothing is retried or written).

    Warns
    -----
    backtest.errors.DataEndsEarlyWarning
        A series ends before the requested `end`.
    backtest.errors.FetchFailedWarning
        A download failed, or (once per call) no network was detected, and local
        data was used instead.
    """
    loader = DataLoader(
        catalog if catalog is not None else _full_catalog(),
        cache=cache_dir,
        offline=offline,
    )
    return loader.load(names, start, end, prefer=sources)


def fetch(
    names: str | Iterable[str],
    *,
    sources: str | Mapping[str, str] | None = None,
    refresh: bool = False,
    cache_dir: str | Path | None = None,
) -> list[LoadedSeries]:
    """Download series into the cache (the missing tail, or everything with `refresh`).

    Raises
    ------
    backtest.errors.OfflineError
        The network is off.
    """
    loader = DataLoader(catalog(), cache=cache_dir, offline=None)
    names = [names] if isinstance(names, str) else list(names)
    picks = sources if isinstance(sources, Mapping) else dict.fromkeys(names, sources)
    return [loader.fetch(n, prefer=picks.get(n), refresh=refresh) for n in names]


def _forward_filled(values: np.ndarray) -> np.ndarray:
    """`values` with each NaN replaced by the last non-NaN value above it in its column.

    What ``pd.DataFrame(values).ffill()`` returns, without a frame; columns with no
    gap are returned as they are (a view when no column has one).
    """
    gaps = np.isnan(values[1:]).any(axis=0)
    if not gaps.any():
        return values
    out = values.copy()
    cols = np.flatnonzero(gaps)
    part = values[:, cols]
    last = np.where(np.isnan(part), -1, np.arange(len(values))[:, None])
    np.maximum.accumulate(last, axis=0, out=last)
    filled = np.take_along_axis(part, np.maximum(last, 0), axis=0)
    out[:, cols] = np.where(last >= 0, filled, np.nan)
    return out


def reactions(
    levels: pd.DataFrame,
    kinds: Mapping[str, str] | None = None,
    *,
    check: bool = True,
) -> pd.DataFrame:
    """Per-observation change of each series in its natural unit.

    Parameters
    ----------
    levels : pandas.DataFrame
        Wide frame of levels as returned by :func:`load`.
    kinds : mapping of str to {"yield", "fx", "index"}, optional
        Kind of each column. By default taken from the provenance that
        :func:`load` attaches, then from the catalog.
    check : bool
        Run :func:`check_levels` on `levels` first (default). ``False`` is for a
        caller that has just checked the same columns itself.

    Returns
    -------
    pandas.DataFrame
        Same shape as `levels`. Yields: ``100 * (y_t - y_{t-1})`` basis points of
        percent yields. FX and indices: ``100 * ln(p_t / p_{t-1})``, percent log
        returns. Each change is taken between a series' *own* consecutive
        observations: a day the market was closed (NaN) is skipped, not read as
        a zero change, and the change after it spans the gap. NaN where the
        series has no observation, and on its first one.

    Raises
    ------
    backtest.errors.DataValidationError
        `levels` is not a sorted frame of unique dates with numeric columns
        (:func:`check_levels`), a column of kind fx/index has a
        non-positive level (its log is undefined), or a column's kind is unknown.

    Examples
    --------
    >>> idx = pd.DatetimeIndex(["2025-04-03", "2025-04-04", "2025-04-07"])
    >>> lv = pd.DataFrame({"UST10Y": [4.06, np.nan, 4.15]}, index=idx)
    >>> reactions(lv)["UST10Y"].round(6).tolist()
    [nan, nan, 9.0]
    """
    if check:
        check_levels(levels, where="reactions", require_data=False)
    provenance = levels.attrs.get("backtest", {}).get("series", {})
    units: dict[str, str] = {}
    kind_of: dict[str, str] = {}
    is_yield = np.zeros(len(levels.columns), dtype=bool)
    for j, column in enumerate(levels.columns):
        kind = (kinds or {}).get(column) or provenance.get(column, {}).get("kind")
        if kind is None:
            try:
                kind = catalog()[column].kind
            except KeyError:
                raise DataValidationError(
                    f"reactions: kind of column {column!r} is unknown; pass "
                    "kinds={column: 'yield' | 'fx' | 'index'}"
                ) from None
        if kind not in REACTION_UNITS:
            raise DataValidationError(
                f"reactions: kind of {column!r} must be one of {list(REACTION_UNITS)}, got {kind!r}"
            )
        units[column] = REACTION_UNITS[kind]
        kind_of[column] = kind
        is_yield[j] = kind == "yield"
    values = levels.to_numpy(dtype="float64", copy=True)
    no_yield = not is_yield.any()  # the usual price frame: logs in place, no column copies
    prices = values if no_yield else values[:, ~is_yield]
    if (prices <= 0).any():
        row, col = np.argwhere(prices <= 0)[0]
        column = levels.columns[np.flatnonzero(~is_yield)[col]]
        raise DataValidationError(
            f"reactions: {column} ({kind_of[column]}) has a non-positive "
            f"level on {levels.index[row].date()}; log returns need positive prices"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        if no_yield:
            np.log(values, out=values)
        else:
            values[:, ~is_yield] = np.log(prices)
    # Change since each series' own previous observation: forward-fill, then lag one row.
    # A closed day (NaN) is skipped, not read as zero, and the next change spans the gap.
    # Differenced in place, last rows first, a block of rows at a time (so each block's
    # previous rows are still the levels when it is read): no second frame-sized array.
    change = values
    previous = _forward_filled(values[:-1])  # values[:-1] itself when no column has a gap
    block = 256
    for stop in range(len(values), 1, -block):
        start = max(1, stop - block)
        np.subtract(values[start:stop], previous[start - 1 : stop - 1], out=change[start:stop])
    change[0] = np.nan
    change *= 100.0
    frame = pd.DataFrame(change, index=levels.index, columns=levels.columns, copy=False)
    frame.attrs["backtest"] = {"units": units}
    return frame
