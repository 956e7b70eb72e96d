"""Load catalog series from cache, bundled snapshot or the network.

Resolution for one series (its chosen :class:`~backtest.data.catalog.SourceSpec`):

1. **Local history**: the cache file if there is one, else the bundled snapshot
   file (``file`` sources *are* a local file).
2. **Offline** (``offline=True``, ``$BACKTEST_OFFLINE=1``, or the source's host
   does not answer within a second or two): local history only; a series with
   none is an :class:`~backtest.errors.OfflineError` naming it and the fix.
3. **Online**: only the missing tail is downloaded (from a few days before the
   last local date, so late revisions are picked up), merged over the local
   history and written to the cache atomically. A download that fails leaves
   the cache untouched and falls back to local history with a
   :class:`~backtest.errors.FetchFailedWarning`.

The result is sliced to ``[start, end]``; when it ends before a requested `end`
(missing sessions by the series' exchange calendar) a
:class:`~backtest.errors.DataEndsEarlyWarning` says so.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal, TypeAlias

import numpy as np
import pandas as pd

from backtest.data.cache import Cache, checksum
from backtest.data.catalog import Catalog, SeriesSpec, SourceSpec, builtin_catalog
from backtest.data.snapshot import snapshot_dir
from backtest.data.sources import FileSource, Source, read_series_file
from backtest.errors import (
    DataEndsEarlyWarning,
    DataSourceError,
    DataValidationError,
    FetchFailedWarning,
    OfflineError,
)

__all__ = ["DataLoader", "LoadedSeries", "network_available", "parse_date"]

Origin = Literal["cache", "snapshot", "file", "download"]
DateLike: TypeAlias = str | dt.date | dt.datetime | pd.Timestamp


@dataclass(frozen=True)
class LoadedSeries:
    """One loaded series with its provenance.

    Attributes
    ----------
    name : str
        Catalog name.
    spec : SeriesSpec
        Its catalog entry.
    source : SourceSpec
        The source actually used.
    data : pandas.Series
        Levels on observation dates (sliced to the requested range).
    origin : {"cache", "snapshot", "file", "download"}
        Where the returned history came from (``download`` when this call
        extended it over the network).
    checksum : str
        :func:`backtest.data.cache.checksum` of the *full* local history used.
    path : pathlib.Path or None
        The cache or snapshot file read or written.
    """

    name: str
    spec: SeriesSpec
    source: SourceSpec
    data: pd.Series
    origin: Origin
    checksum: str
    path: Path | None

    def provenance(self) -> dict[str, object]:
        """Return a JSON-ready record of where this series came from."""
        return {
            "name": self.name,
            "kind": self.spec.kind,
            "unit": self.spec.unit,
            "source": self.source.key,
            "origin": self.origin,
            "publisher": self.source.origin,
            "timezone": self.source.timezone,
            "obs_time": self.source.obs_time.isoformat(timespec="minutes"),
            "first": _iso(self.data.index[0]) if len(self.data) else None,
            "last": _iso(self.data.index[-1]) if len(self.data) else None,
            "rows": len(self.data),
            "checksum": self.checksum,
            "path": str(self.path) if self.path else None,
        }


def _iso(ts: pd.Timestamp) -> str:
    return ts.date().isoformat()


def parse_date(value: DateLike | None, what: str) -> pd.Timestamp | None:
    """Parse a user-given date; ``None`` passes through.

    Raises
    ------
    backtest.errors.DataValidationError
        `value` is not a date; the message names `what`.
    """
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        ts = pd.NaT
    if ts is pd.NaT or pd.isna(ts):
        raise DataValidationError(
            f"{what}={value!r} does not parse as a date; expected YYYY-MM-DD, e.g. 2025-04-02"
        )
    if ts.tz is not None:
        ts = ts.tz_localize(None)
    return ts.normalize()


_probe_lock = threading.Lock()


@cache
def network_available(host: str, port: int = 443, timeout: float = 1.5) -> bool:
    """Return whether a TCP connection to `host` opens within `timeout` seconds.

    The answer is remembered for the process. Name resolution runs in a daemon
    thread so a hanging resolver cannot stall the caller beyond `timeout`.
    """
    result: list[bool] = []
    failure: list[BaseException] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)
        except BaseException as exc:  # anything but a network error is a bug: re-raise
            failure.append(exc)

    with _probe_lock:
        thread = threading.Thread(target=probe, daemon=True, name=f"probe-{host}")
        thread.start()
        thread.join(timeout + 0.5)
    if failure:
        raise failure[0]
    return bool(result and result[0])


def _env_offline() -> bool | None:
    value = os.environ.get("BACKTEST_OFFLINE", "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    return None


class DataLoader:
    """Loads catalog series; the engine behind :func:`backtest.data.load`.

    Parameters
    ----------
    catalog : Catalog, optional
        Series definitions; the built-in catalog when omitted.
    cache : Cache or path, optional
        Cache (or its directory); :func:`~backtest.data.cache.default_cache_dir`
        when omitted.
    sources : mapping of str to Source, optional
        Source objects by provider name, replacing the defaults (FRED, Yahoo).
    offline : bool, optional
        ``True`` never touches the network; ``False`` always tries it; ``None``
        (default) reads ``$BACKTEST_OFFLINE`` and otherwise probes the source's
        host quickly.
    max_age : datetime.timedelta
        A cache file downloaded more recently than this is not extended again.
    overlap_days : int
        Calendar days re-downloaded before the last local date, to pick up
        revisions.
    today : callable, optional
        Returns today's date (UTC); injectable for tests.
    """

    def __init__(
        self,
        catalog: Catalog | None = None,
        *,
        cache: Cache | str | Path | None = None,
        sources: Mapping[str, Source] | None = None,
        offline: bool | None = None,
        max_age: dt.timedelta = dt.timedelta(hours=12),
        overlap_days: int = 10,
        today: Callable[[], dt.date] | None = None,
    ) -> None:
        self.catalog = catalog if catalog is not None else builtin_catalog()
        self.cache = cache if isinstance(cache, Cache) else Cache(cache)
        self._sources: dict[str, Source] = dict(sources or {})
        self.offline = offline
        self.max_age = max_age
        self.overlap_days = overlap_days
        self._today = today or (lambda: dt.datetime.now(dt.UTC).date())

    # Sources --------------------------------------------------------------------
    def source(self, provider: str) -> Source:
        """Return the source object for `provider`, creating the default one lazily."""
        if provider not in self._sources:
            if provider == "fred":
                from backtest.data.fred import FredSource

                self._sources[provider] = FredSource()
            elif provider == "yahoo":
                from backtest.data.yahoo import YahooSource

                self._sources[provider] = YahooSource()
            else:
                raise DataValidationError(f"no online source for provider {provider!r}")
        return self._sources[provider]

    def is_offline(self, provider: str) -> bool:
        """Decide whether to stay off the network for `provider`."""
        if self.offline is not None:
            return self.offline
        env = _env_offline()
        if env is not None:
            return env
        host = self.source(provider).host
        return host is None or not network_available(host)

    # Local history ----------------------------------------------------------------
    def _resolve_path(self, name: str, relative: str) -> Path:
        base = self.catalog.base_dir(name) or snapshot_dir()
        path = Path(relative).expanduser()
        return path if path.is_absolute() else base / path

    def local(self, name: str, prefer: str | None = None) -> LoadedSeries | None:
        """Return the history available without the network, or ``None``.

        The cache wins over the bundled snapshot (it extends it).

        Raises
        ------
        backtest.errors.CacheCorruptError
            The cache file of this series is corrupt.
        """
        spec = self.catalog[name]
        src = spec.source(prefer)
        if src.provider == "file":
            path = self._resolve_path(name, src.symbol)
            data = FileSource().fetch(str(path), field=src.field)
            return LoadedSeries(name, spec, src, data, "file", checksum(data), path)
        entry = self.cache.read(src.provider, src.symbol)
        if entry is not None:
            return LoadedSeries(
                name, spec, src, entry.series, "cache", entry.meta.checksum, entry.path
            )
        if src.snapshot:
            path = self._resolve_path(name, src.snapshot)
            data = read_series_file(path, field=src.field)
            return LoadedSeries(name, spec, src, data, "snapshot", checksum(data), path)
        return None

    # Loading ------------------------------------------------------------------------
    def load_series(
        self,
        name: str,
        start: DateLike | None = None,
        end: DateLike | None = None,
        *,
        prefer: str | None = None,
    ) -> LoadedSeries:
        """Load one series; see the module docstring for the resolution rules.

        Parameters
        ----------
        name : str
            Catalog name.
        start, end : date-like, optional
            Inclusive bounds.
        prefer : str, optional
            Provider to use instead of the series' default.

        Returns
        -------
        LoadedSeries
        """
        t0, t1 = _check_range(start, end)
        spec = self.catalog[name]
        src = spec.source(prefer)
        base = self.local(name, prefer)
        offline = src.provider == "file" or self.is_offline(src.provider)
        if offline:
            if base is None:
                raise OfflineError(
                    f"series {name} ({src.key}) is not in the cache ({self.cache.root}) "
                    "or the bundled snapshot, and the network is off; fetch it once online "
                    f"with `backtest data fetch {name}`"
                )
            loaded = base
        else:
            loaded = self._extend(name, spec, src, base, t1)
        data = loaded.data.loc[t0:t1]
        self._warn_if_short(loaded, data, t1, offline)
        return LoadedSeries(name, spec, src, data, loaded.origin, loaded.checksum, loaded.path)

    def _extend(
        self,
        name: str,
        spec: SeriesSpec,
        src: SourceSpec,
        base: LoadedSeries | None,
        end: pd.Timestamp | None,
        *,
        mode: Literal["auto", "tail", "full"] = "auto",
    ) -> LoadedSeries:
        """Download what `base` lacks: nothing if it is current ("auto"), the tail, or all."""
        if mode == "full":
            base = None
        fetch_from: pd.Timestamp | None = None
        if base is not None and len(base.data):
            last = base.data.index[-1]
            if mode == "auto":
                today = pd.Timestamp(self._today())
                target = min(end, today) if end is not None else today
                if last >= target or (base.origin == "cache" and self._fresh(src)):
                    return base
            fetch_from = last - pd.Timedelta(days=self.overlap_days)
        try:
            new = self.source(src.provider).fetch(
                src.symbol,
                fetch_from.date() if fetch_from is not None else None,
                None,
                field=src.field,
            )
        except DataSourceError as exc:
            if base is None:
                raise
            warnings.warn(
                f"{name} ({src.key}): download failed, using {base.origin} data to "
                f"{_iso(base.data.index[-1])} ({exc})",
                FetchFailedWarning,
                stacklevel=4,
            )
            return base
        merged = new if base is None else new.combine_first(base.data)
        if merged.empty:
            raise DataSourceError(f"{name} ({src.key}): the source returned no observations")
        merged = merged.astype("float64").rename(src.symbol)
        merged.index.name = "date"
        self.cache.write(src.provider, src.symbol, merged)
        path = self.cache.path(src.provider, src.symbol)
        return LoadedSeries(name, spec, src, merged, "download", checksum(merged), path)

    def _fresh(self, src: SourceSpec) -> bool:
        entry = self.cache.read(src.provider, src.symbol)
        if entry is None:
            return False
        fetched = pd.Timestamp(entry.meta.fetched_at)
        return pd.Timestamp.now(tz="UTC") - fetched < self.max_age

    def _warn_if_short(
        self, loaded: LoadedSeries, data: pd.Series, end: pd.Timestamp | None, offline: bool
    ) -> None:
        if end is None:
            return
        last = data.index[-1] if len(data) else None
        missing = _expected_sessions(loaded.spec.calendar, last, end)
        if missing:
            where = "offline, " if offline else ""
            ends = f"ends {_iso(last)}" if last is not None else "has no observations"
            warnings.warn(
                f"{loaded.name} ({loaded.source.key}, {where}{loaded.origin}) {ends}, "
                f"before the requested end {_iso(end)} ({missing} expected sessions missing)",
                DataEndsEarlyWarning,
                stacklevel=4,
            )

    def load(
        self,
        names: str | Iterable[str],
        start: DateLike | None = None,
        end: DateLike | None = None,
        *,
        prefer: str | Mapping[str, str] | None = None,
    ) -> pd.DataFrame:
        """Load several series into one wide frame; see :func:`backtest.data.load`."""
        names = [names] if isinstance(names, str) else list(names)
        if not names:
            raise DataValidationError("no series requested; pass at least one catalog name")
        seen = [n for i, n in enumerate(names) if n in names[:i]]
        if seen:
            raise DataValidationError(f"series listed more than once: {', '.join(seen)}")
        _check_range(start, end)
        for name in names:
            self.catalog[name]  # unknown names fail before any work
        loaded = [self.load_series(n, start, end, prefer=_pick(prefer, n)) for n in names]
        return to_frame(loaded)

    def fetch(self, name: str, *, prefer: str | None = None, refresh: bool = False) -> LoadedSeries:
        """Download (the missing tail of) one series into the cache.

        Parameters
        ----------
        name : str
            Catalog name.
        prefer : str, optional
            Provider to use instead of the default.
        refresh : bool
            Re-download the whole history, replacing the cache file (also the way
            to replace a corrupt one).

        Raises
        ------
        backtest.errors.OfflineError
            The network is off.
        backtest.errors.DataValidationError
            The source is a bundled-only ``file`` source.
        """
        spec = self.catalog[name]
        src = spec.source(prefer)
        if src.provider == "file":
            raise DataValidationError(
                f"{name} is read from the file {src.symbol} ({src.origin or 'local file'}); "
                "there is no online source to fetch it from"
            )
        if self.is_offline(src.provider):
            raise OfflineError(
                f"cannot fetch {name} ({src.key}): offline (no network, --offline or "
                "BACKTEST_OFFLINE=1)"
            )
        base = None if refresh else self.local(name, prefer)
        return self._extend(name, spec, src, base, None, mode="full" if refresh else "tail")


def _pick(prefer: str | Mapping[str, str] | None, name: str) -> str | None:
    if prefer is None or isinstance(prefer, str):
        return prefer
    return prefer.get(name)


def _check_range(
    start: DateLike | None, end: DateLike | None
) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    t0, t1 = parse_date(start, "start"), parse_date(end, "end")
    if t0 is not None and t1 is not None and t0 > t1:
        raise DataValidationError(
            f"start={_iso(t0)} is after end={_iso(t1)}; start must be on or before end"
        )
    return t0, t1


def _expected_sessions(calendar: str | None, last: pd.Timestamp | None, end: pd.Timestamp) -> int:
    """Count sessions of `calendar` in (last, end]; weekdays when there is no calendar."""
    begin = (last + pd.Timedelta(days=1)) if last is not None else end - pd.Timedelta(days=6)
    if begin > end:
        return 0
    if calendar and calendar not in ("24/5", "24/7"):
        try:
            import exchange_calendars

            with warnings.catch_warnings():  # its pandas deprecation noise is not ours
                warnings.simplefilter("ignore", FutureWarning)
                warnings.simplefilter("ignore", DeprecationWarning)
                cal = exchange_calendars.get_calendar(calendar)
                lo = max(begin, cal.first_session)
                hi = min(end, cal.last_session)
                if lo <= hi:
                    return len(cal.sessions_in_range(lo, hi))
        except (ValueError, KeyError):  # outside the calendar's bounds: fall back
            pass
    return int(np.busday_count(begin.date(), (end + pd.Timedelta(days=1)).date()))


def to_frame(loaded: Iterable[LoadedSeries]) -> pd.DataFrame:
    """Combine loaded series into the wide frame returned by :func:`backtest.data.load`.

    Provenance is kept in ``frame.attrs["backtest"]["series"][name]``.
    """
    loaded = list(loaded)
    columns = {item.name: item.data for item in loaded}
    frame = pd.concat(columns, axis=1, join="outer", sort=True)
    frame.index = pd.DatetimeIndex(frame.index, name="date")
    frame.columns.name = None
    frame = frame.astype("float64")
    frame.attrs["backtest"] = {"series": {item.name: item.provenance() for item in loaded}}
    return frame
