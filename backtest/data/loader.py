"""Load catalog series from cache, bundled snapshot or the network.

Resolution for one series (its chosen :class:`~backtest.data.catalog.SourceSpec`):

1. **Local history**: the cache file if there is one, else the bundled snapshot
   file (``file`` sources *are* a local file).
2. **Covered**: when local history already reaches the requested `end` (no
   session of the series' exchange calendar is missing up to ``min(end, today)``),
   or the cache file was downloaded within ``max_age``, the network is not touched
   at all, whatever `offline` says.
3. **Offline** (``offline=True``, ``$BACKTEST_OFFLINE=1``, or, with
   ``offline=None``, the source's host does not answer within a second or two):
   local history only; a series with none is an
   :class:`~backtest.errors.OfflineError` naming it and the fix. Detected (not
   requested) offline use is announced once per loader by a
   :class:`~backtest.errors.FetchFailedWarning`.
4. **Online**: only the missing tail is downloaded, from a few days before the
   last local date (to pick up late revisions) up to `end` (never past it),
   merged over the local history and written to the cache atomically.
   A host that cannot be reached at all (:class:`~backtest.errors.NoNetworkError`:
   name resolution failed, connection refused, network unreachable) is detected
   at the first request and never retried: with ``offline=False`` the load fails
   at once with one message suggesting ``--offline``; with ``offline=None`` every
   series of the load falls back to local history with one warning. Any other
   failed download leaves the cache untouched and falls back to local history
   with a :class:`~backtest.errors.FetchFailedWarning`.

The result is sliced to ``[start, end]``. A range holding no observation of a
series is a :class:`~backtest.errors.DataValidationError` naming the series and
its available dates; when a series ends before a requested `end` (missing
sessions by its exchange calendar, up to today) a
:class:`~backtest.errors.DataEndsEarlyWarning` says so.

Dates are parsed by :func:`backtest.data.dates.parse_date` (ISO 8601 only).
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
from typing import Literal

import numpy as np
import pandas as pd

from backtest.data.cache import Cache, checksum
from backtest.data.catalog import (
    Catalog,
    SeriesSpec,
    SourceSpec,
    builtin_catalog,
    instrument_record,
)
from backtest.data.dates import DateLike, parse_date
from backtest.data.snapshot import snapshot_dir
from backtest.data.sources import FileSource, Source, read_series_file
from backtest.errors import (
    DataEndsEarlyWarning,
    DataSourceError,
    DataValidationError,
    FetchFailedWarning,
    NoNetworkError,
    OfflineError,
)

__all__ = [
    "DataLoader",
    "DateLike",
    "LoadedSeries",
    "network_available",
    "parse_date",
    "require_observations",
]

Origin = Literal["cache", "snapshot", "file", "download"]

#: Seconds the network probe waits for a host (``offline=None``).
PROBE_TIMEOUT = 1.5


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
    available : tuple of pandas.Timestamp, optional
        First and last date of the full local history, before slicing (``None``
        when it is empty or unknown); quoted when a range holds no observation.
    """

    name: str
    spec: SeriesSpec
    source: SourceSpec
    data: pd.Series
    origin: Origin
    checksum: str
    path: Path | None
    available: tuple[pd.Timestamp, pd.Timestamp] | None = None

    def __repr__(self) -> str:
        """One line: name, kind, unit, source, origin and the dates held (not the data)."""
        data = self.data
        span = (
            f"{data.index[0]:%Y-%m-%d} to {data.index[-1]:%Y-%m-%d}, {len(data)} rows"
            if len(data)
            else "no rows"
        )
        return (
            f"LoadedSeries({self.name}: {self.spec.kind} in {self.spec.unit}, "
            f"{self.source.key} from {self.origin}, {span})"
        )

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
            "instrument": instrument_record(self.spec.instrument),
        }


def _iso(ts: pd.Timestamp) -> str:
    return ts.date().isoformat()


_probe_lock = threading.Lock()


@cache
def network_available(host: str, port: int = 443, timeout: float = PROBE_TIMEOUT) -> bool:
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
        Source objects by provider name, replacing the defaults (FRED, Yahoo, Bank of Japan).
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
        self._no_network: str | None = None  # why this loader found no network, once
        self._warned_offline = False

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
            elif provider == "boj":
                from backtest.data.boj import BojSource

                self._sources[provider] = BojSource()
            else:
                raise DataValidationError(f"no online source for provider {provider!r}")
        return self._sources[provider]

    def _policy(self) -> Literal["offline", "online", "detect"]:
        """``offline``/``online`` when asked for (argument, then environment), else ``detect``."""
        wanted = self.offline if self.offline is not None else _env_offline()
        if wanted is None:
            return "detect"
        return "offline" if wanted else "online"

    def _detected_offline(self, provider: str) -> str | None:
        """Why the network is off for `provider` (``detect`` policy), or ``None``."""
        if self._no_network is not None:  # found once: not probed again for any series
            return self._no_network
        host = self.source(provider).host
        if host is None:
            return f"the {provider} source has no network host"
        if not network_available(host):
            self._no_network = f"{host} did not answer within {PROBE_TIMEOUT:g} s"
            return self._no_network
        return None

    def is_offline(self, provider: str) -> bool:
        """Decide whether to stay off the network for `provider`.

        ``offline`` when given, else ``$BACKTEST_OFFLINE``, else a quick probe of the
        source's host (answered once per process); also ``True`` once a request of
        this loader found no network at all.
        """
        policy = self._policy()
        if policy != "detect":
            return policy == "offline"
        return self._detected_offline(provider) is not None

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
        history: bool = False,
    ) -> LoadedSeries:
        """Load one series; see the module docstring for the resolution rules.

        Parameters
        ----------
        name : str
            Catalog name.
        start, end : str, datetime.date or pandas.Timestamp, optional
            Inclusive bounds, ISO 8601 (see :func:`backtest.data.dates.parse_date`).
            Nothing after `end` is downloaded.
        prefer : str, optional
            Provider to use instead of the series' default.
        history : bool
            Also return the observations before `start` (all history up to `end`,
            e.g. for estimation windows); `start` then only bounds the check that
            the range holds data.

        Returns
        -------
        LoadedSeries

        Raises
        ------
        backtest.errors.DataValidationError
            A date is not ISO 8601, `start` is after `end`, or the range holds no
            observation of the series (the message gives its available dates).
        backtest.errors.OfflineError
            Data must be downloaded but the network is off and there is no local
            copy; or (:class:`~backtest.errors.NoNetworkError`) ``offline=False``
            and the source's host cannot be reached.
        """
        t0, t1 = _check_range(start, end)
        got = self._load_one(name, None if history else t0, t1, prefer)
        require_observations([got], t0, t1)
        return got

    def _load_one(
        self, name: str, t0: pd.Timestamp | None, t1: pd.Timestamp | None, prefer: str | None
    ) -> LoadedSeries:
        spec = self.catalog[name]
        src = spec.source(prefer)
        base = self.local(name, prefer)
        policy = "offline" if src.provider == "file" else self._policy()
        if base is not None and (policy == "offline" or self._covered(src, base, t1)):
            loaded, offline = base, policy == "offline"
        else:
            loaded, offline = self._download_or_local(name, spec, src, base, t1, policy)
        data = loaded.data.loc[t0:t1]
        self._warn_if_short(loaded, data, t1, offline)
        full = loaded.data.index
        available = (full[0], full[-1]) if len(full) else None
        return LoadedSeries(
            name, spec, src, data, loaded.origin, loaded.checksum, loaded.path, available
        )

    def _download_or_local(
        self,
        name: str,
        spec: SeriesSpec,
        src: SourceSpec,
        base: LoadedSeries | None,
        end: pd.Timestamp | None,
        policy: Literal["offline", "online", "detect"],
    ) -> tuple[LoadedSeries, bool]:
        """Extend `base` up to `end` over the network if it may be used; else `base`.

        Returns the series and whether it is local data used for want of a network.
        """
        reason = "offline" if policy == "offline" else None
        if policy == "detect":
            reason = self._detected_offline(src.provider)
        if reason is None:
            try:
                return self._extend(name, spec, src, base, end), False
            except NoNetworkError as exc:
                if policy == "online":  # the user asked for the network: stop here
                    message = self._no_network_message(name, src, base, end, exc)
                    raise NoNetworkError(message) from None  # one line, no urllib3 chain
                self._no_network = reason = str(exc)
        if base is None:
            why = "--offline or BACKTEST_OFFLINE=1" if reason == "offline" else reason
            raise OfflineError(
                f"series {name} ({src.key}) is not in the cache ({self.cache.root}) "
                f"or the bundled snapshot, and the network is off ({why}); fetch it "
                f"once online with `backtest data fetch {name}`"
            )
        if policy == "detect":
            self._warn_offline_once(reason)
        return base, True

    def _target(self, end: pd.Timestamp | None) -> pd.Timestamp:
        """The last date data can exist for: `end`, but never after today."""
        today = pd.Timestamp(self._today())
        return min(end, today) if end is not None else today

    def _covered(self, src: SourceSpec, base: LoadedSeries, end: pd.Timestamp | None) -> bool:
        """Whether `base` needs no download for a range ending at `end`."""
        if not len(base.data):
            return False
        last, target = base.data.index[-1], self._target(end)
        if last >= target or (base.origin == "cache" and self._fresh(src)):
            return True
        return _expected_sessions(base.spec.calendar, last, target) == 0

    def _no_network_message(
        self,
        name: str,
        src: SourceSpec,
        base: LoadedSeries | None,
        end: pd.Timestamp | None,
        exc: NoNetworkError,
    ) -> str:
        upto = _iso(end) if end is not None else "today"
        if base is not None and len(base.data):
            have = f"local data ({base.origin}) end {_iso(base.data.index[-1])}"
            fix = (
                "run with --offline (offline=True; data.offline: true in a config) to use "
                "the cache and the bundled snapshot only"
            )
        else:
            have = "there is no local copy (cache or bundled snapshot)"
            fix = f"connect and run `backtest data fetch {name}` once"
        return (
            f"no network: {exc}. {name} ({src.key}) needs data up to {upto} and {have}; "
            f"nothing was downloaded or written. To go on without the network, {fix}"
        )

    def _warn_offline_once(self, reason: str) -> None:
        if self._warned_offline:
            return
        self._warned_offline = True
        warnings.warn(
            f"no network ({reason}): using local data (cache and bundled snapshot) without "
            "downloading; pass --offline (offline=True) to skip the network check, or "
            "--online (data.offline: false) to require downloads, e.g. behind a proxy",
            FetchFailedWarning,
            stacklevel=5,
        )

    def _extend(
        self,
        name: str,
        spec: SeriesSpec,
        src: SourceSpec,
        base: LoadedSeries | None,
        end: pd.Timestamp | None,
        *,
        mode: Literal["tail", "full"] = "tail",
    ) -> LoadedSeries:
        """Download what `base` lacks up to `end` (the tail, or all with ``mode="full"``).

        Raises
        ------
        backtest.errors.NoNetworkError
            The source's host cannot be reached at all (never turned into a warning
            here: the caller decides).
        """
        if mode == "full":
            base = None
        fetch_from: pd.Timestamp | None = None
        if base is not None and len(base.data):
            fetch_from = base.data.index[-1] - pd.Timedelta(days=self.overlap_days)
        try:
            new = self.source(src.provider).fetch(
                src.symbol,
                fetch_from.date() if fetch_from is not None else None,
                end.date() if end is not None else None,
                field=src.field,
            )
        except NoNetworkError:
            raise
        except DataSourceError as exc:
            if base is None:
                raise
            warnings.warn(
                f"{name} ({src.key}): download failed, using {base.origin} data to "
                f"{_iso(base.data.index[-1])} ({exc})",
                FetchFailedWarning,
                stacklevel=5,
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
        if last is None:
            return  # no observation at all in the range: require_observations says so
        missing = _expected_sessions(loaded.spec.calendar, last, self._target(end))
        if missing:
            where = "offline, " if offline else ""
            warnings.warn(
                f"{loaded.name} ({loaded.source.key}, {where}{loaded.origin}) ends {_iso(last)}, "
                f"before the requested end {_iso(end)} ({missing} expected sessions missing)",
                DataEndsEarlyWarning,
                stacklevel=5,
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
        t0, t1 = _check_range(start, end)
        for name in names:
            self.catalog[name]  # unknown names fail before any work
        loaded = [self._load_one(n, t0, t1, _pick(prefer, n)) for n in names]
        require_observations(loaded, t0, t1)
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
            The network is off, or (:class:`~backtest.errors.NoNetworkError`) the
            source's host cannot be reached; nothing is written.
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
        try:
            return self._extend(name, spec, src, base, None, mode="full" if refresh else "tail")
        except NoNetworkError as exc:
            raise NoNetworkError(
                f"cannot fetch {name} ({src.key}): no network: {exc}; nothing was written. "
                "Connect and retry; cached and bundled data stay usable with --offline"
            ) from None


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


def require_observations(
    loaded: Iterable[LoadedSeries], start: DateLike | None = None, end: DateLike | None = None
) -> None:
    """Refuse a date range that holds no observation of some series.

    Parameters
    ----------
    loaded : iterable of LoadedSeries
        Loaded series (their ``data`` may extend beyond the range).
    start, end : date-like, optional
        Inclusive range to check.

    Raises
    ------
    backtest.errors.DataValidationError
        Some series has no observation in ``[start, end]``; the message names every
        such series with its source and the dates it has.
    """
    t0, t1 = _check_range(start, end)
    empty = [item for item in loaded if item.data.loc[t0:t1].empty]
    if not empty:
        return
    if t0 is not None:
        span = f"from {_iso(t0)} to {_iso(t1)}" if t1 is not None else f"from {_iso(t0)} on"
    else:
        span = f"up to {_iso(t1)}" if t1 is not None else "at all"
    parts = []
    for item in empty:
        has = (
            f"{_iso(item.available[0])} to {_iso(item.available[-1])}"
            if item.available is not None
            else "no observations"
        )
        parts.append(f"{item.name} ({item.source.key}, {item.origin}: {has})")
    raise DataValidationError(
        f"no observations {span} for {'; '.join(parts)}; choose start and end within the "
        "available dates"
    )


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
