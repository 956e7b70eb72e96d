"""On-disk cache of downloaded series: one parquet file per source series.

Each file ``<root>/<provider>/<symbol>.parquet`` holds the dates and values and,
in the parquet key-value metadata under ``backtest``, a JSON record of where the
data came from (:class:`CacheMeta`). Guarantees:

* **Atomic writes.** A file is written to a temporary name in the same folder,
  flushed to disk and renamed over the old one, so a reader sees the old file or
  the new one, never half of one.
* **Nothing replaces good data with nothing.** :meth:`Cache.write` refuses an
  empty series; the loader only writes after a successful download.
* **Corruption is reported, not used.** A file that cannot be read, lacks its
  metadata, or whose data no longer matches the recorded row count and checksum
  raises :class:`~backtest.errors.CacheCorruptError` naming the file and the fix.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import tempfile
import urllib.parse
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from backtest.errors import CacheCorruptError, DataValidationError

__all__ = ["Cache", "CacheEntry", "CacheMeta", "checksum", "default_cache_dir"]

_META_KEY = b"backtest"
_FORMAT = 1


def default_cache_dir() -> Path:
    """Return the cache directory: ``$BACKTEST_CACHE_DIR``, else ``$XDG_CACHE_HOME/backtest``.

    Falls back to ``~/.cache/backtest``.
    """
    env = os.environ.get("BACKTEST_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "backtest"


def checksum(series: pd.Series) -> str:
    """Return a SHA-256 fingerprint of a daily series' dates and values.

    Parameters
    ----------
    series : pandas.Series
        Float values on a ``DatetimeIndex`` of dates.

    Returns
    -------
    str
        ``"sha256:<hex>"`` over the dates (days since 1970-01-01, little-endian
        int64) followed by the values (little-endian float64). Independent of the
        file format and of the index's time resolution, so the same data always
        has the same fingerprint.
    """
    days = np.asarray(series.index.values.astype("datetime64[D]").astype("<i8"))
    values = np.asarray(series.to_numpy(dtype="float64"), dtype="<f8")
    digest = hashlib.sha256(days.tobytes() + values.tobytes()).hexdigest()
    return f"sha256:{digest}"


@dataclass(frozen=True)
class CacheMeta:
    """Provenance of one cached series.

    Attributes
    ----------
    provider, symbol : str
        Which source series this is (``"fred"``, ``"DGS10"``).
    fetched_at : str
        ISO 8601 UTC time of the download that last changed the file.
    rows : int
        Number of observations.
    first, last : str
        First and last observation date (ISO).
    checksum : str
        :func:`checksum` of the data.
    """

    provider: str
    symbol: str
    fetched_at: str
    rows: int
    first: str
    last: str
    checksum: str
    format: int = _FORMAT


@dataclass(frozen=True)
class CacheEntry:
    """A cached series and its metadata."""

    series: pd.Series
    meta: CacheMeta
    path: Path


class Cache:
    """Parquet cache of source series under a root directory.

    Parameters
    ----------
    root : pathlib.Path, optional
        Cache directory; :func:`default_cache_dir` when omitted.

    Examples
    --------
    >>> import tempfile
    >>> cache = Cache(tempfile.mkdtemp())
    >>> s = pd.Series([4.01, 4.15], index=pd.DatetimeIndex(["2025-04-04", "2025-04-07"]))
    >>> cache.write("fred", "DGS10", s).rows
    2
    >>> cache.read("fred", "DGS10").series.tolist()
    [4.01, 4.15]
    """

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_cache_dir()

    def path(self, provider: str, symbol: str) -> Path:
        """Return the file of ``provider:symbol`` (symbols are percent-encoded)."""
        return self.root / provider / f"{urllib.parse.quote(symbol, safe='')}.parquet"

    def read(self, provider: str, symbol: str) -> CacheEntry | None:
        """Return the cached series, or ``None`` when there is no file.

        Raises
        ------
        backtest.errors.CacheCorruptError
            The file exists but is unreadable or fails its integrity checks.
        """
        path = self.path(provider, symbol)
        if not path.exists():
            return None
        fix = f"delete {path} or re-download it with `backtest data fetch ... --refresh`"
        try:
            table = pq.read_table(path)
        except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ...
            raise CacheCorruptError(f"{path}: cache file is unreadable ({exc}); {fix}") from exc
        raw = (table.schema.metadata or {}).get(_META_KEY)
        try:
            meta = CacheMeta(**json.loads(raw)) if raw is not None else None
        except (TypeError, ValueError):
            meta = None
        if meta is None:
            raise CacheCorruptError(f"{path}: cache file has no valid backtest metadata; {fix}")
        frame = table.to_pandas()
        series = frame["value"].astype("float64")
        series.index = pd.DatetimeIndex(frame.index, name="date")
        series.name = symbol
        if len(series) != meta.rows or checksum(series) != meta.checksum:
            raise CacheCorruptError(
                f"{path}: cache file does not match its recorded checksum "
                f"({len(series)} rows, expected {meta.rows}); {fix}"
            )
        return CacheEntry(series=series, meta=meta, path=path)

    def write(
        self,
        provider: str,
        symbol: str,
        series: pd.Series,
        fetched_at: dt.datetime | None = None,
    ) -> CacheMeta:
        """Atomically replace the cached ``provider:symbol`` with `series`.

        Parameters
        ----------
        provider, symbol : str
            Source series identity.
        series : pandas.Series
            Canonical series (see :mod:`backtest.data.sources`); must not be empty.
        fetched_at : datetime.datetime, optional
            Download time (UTC); now when omitted.

        Returns
        -------
        CacheMeta
            The metadata written.

        Raises
        ------
        backtest.errors.DataValidationError
            `series` is empty or not sorted by unique dates; the old file is untouched.
        """
        if series.empty:
            raise DataValidationError(
                f"refusing to cache an empty series for {provider}:{symbol}; "
                "the existing cache file is left as it was"
            )
        if not (series.index.is_monotonic_increasing and series.index.is_unique):
            raise DataValidationError(
                f"refusing to cache {provider}:{symbol}: dates must be sorted and unique"
            )
        when = (fetched_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        meta = CacheMeta(
            provider=provider,
            symbol=symbol,
            fetched_at=when.isoformat(timespec="seconds"),
            rows=len(series),
            first=series.index[0].date().isoformat(),
            last=series.index[-1].date().isoformat(),
            checksum=checksum(series),
        )
        frame = pd.DataFrame(
            {"value": series.to_numpy(dtype="float64")},
            index=pd.DatetimeIndex(series.index, name="date"),
        )
        table = pa.Table.from_pandas(frame, preserve_index=True)
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), _META_KEY: json.dumps(asdict(meta)).encode()}
        )
        path = self.path(provider, symbol)
        _atomic_write_table(table, path)
        return meta

    def entries(self) -> list[CacheMeta]:
        """Return the metadata of every readable cache file (corrupt ones are skipped)."""
        out = []
        for path in sorted(self.root.glob("*/*.parquet")):
            provider, symbol = path.parent.name, urllib.parse.unquote(path.stem)
            with contextlib.suppress(CacheCorruptError):
                entry = self.read(provider, symbol)
                if entry is not None:
                    out.append(entry.meta)
        return out


def _atomic_write_table(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            pq.write_table(table, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
