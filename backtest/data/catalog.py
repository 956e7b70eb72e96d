"""The catalog of named series: what each series is, where it comes from, and when it is observed.

A :class:`SeriesSpec` describes one series (``UST10Y``): its kind, unit, exchange
calendar and an ordered list of :class:`SourceSpec` (default first). Each source
records the clock time and time zone at which its daily value is observed, which
is what session-aware event alignment needs: FRED's noon New York USD/JPY rate and
Yahoo's start-of-day London bar are different observations of the same market.

The built-in catalog is ``backtest/data/catalog.yaml``; users add or override
series with YAML files of the same schema (:meth:`Catalog.from_yaml`).
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SkipValidation,
    ValidationError,
    field_validator,
    model_validator,
)

from backtest import _yaml
from backtest.errors import DataValidationError, UnknownSeriesError
from backtest.instruments.spec import INSTRUMENT_KINDS, Instrument

__all__ = [
    "FIELDS",
    "KINDS",
    "PROVIDERS",
    "Catalog",
    "SeriesSpec",
    "SourceSpec",
    "builtin_catalog",
    "default_instrument",
    "instrument_record",
]

Kind = Literal["yield", "fx", "index"]
Provider = Literal["fred", "yahoo", "file", "boj"]
Field_ = Literal["close", "adj_close", "open", "high", "low"]

#: What a series without an ``instrument:`` entry is taken to be, by its kind: only an
#: index is assumed tradable (held for its price return). A yield needs its maturity
#: and coupon frequency to be held as a bond, a pair its base and quote currencies,
#: so both are ``untradable`` until the catalog declares them.
DEFAULT_INSTRUMENT_KIND: dict[str, str] = {
    "yield": "untradable",
    "fx": "untradable",
    "index": "index",
}

#: Allowed values, defined once and reused in validation and messages.
KINDS: tuple[str, ...] = get_args(Kind)
PROVIDERS: tuple[str, ...] = get_args(Provider)
FIELDS: tuple[str, ...] = get_args(Field_)


@cache
def _calendar_names() -> frozenset[str]:
    import exchange_calendars

    return frozenset(exchange_calendars.get_calendar_names(include_aliases=True))


class SourceSpec(BaseModel):
    """One way of obtaining a series.

    Attributes
    ----------
    provider : {"fred", "yahoo", "file", "boj"}
        Which source fetches it. ``file`` reads a local CSV/parquet file; ``boj``
        is the Bank of Japan's Time-Series Data Search API.
    symbol : str
        The provider's identifier (``"DGS10"``, ``"^TNX"``, ``"FM01'STRDCLUCON"``) or,
        for ``file``, a path (relative paths resolve against the catalog's base
        directory).
    timezone : str
        IANA time zone of the observation clock, e.g. ``"America/New_York"``.
    obs_time : datetime.time
        Local clock time at which the value dated D is observed.
    origin : str
        Who publishes the numbers (for reports and provenance).
    field : {"close", "adj_close", "open", "high", "low"}
        Bar field to use where the source returns bars.
    snapshot : str, optional
        File in the bundled snapshot holding this source's history.
    note : str
        Caveats a user should know.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: Provider
    symbol: str = Field(min_length=1)
    timezone: str
    obs_time: dt.time
    origin: str = ""
    field: Field_ = "close"
    snapshot: str | None = None
    note: str = ""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r}; expected an IANA name like 'America/New_York'"
            ) from exc
        return value

    @property
    def key(self) -> str:
        """``"provider:symbol"``, a stable identifier of this source."""
        return f"{self.provider}:{self.symbol}"

    def observation_times(self, dates: pd.DatetimeIndex) -> pd.DatetimeIndex:
        """Return the UTC instants at which the values dated `dates` were observed.

        Parameters
        ----------
        dates : pandas.DatetimeIndex
            Observation dates (tz-naive, midnight).

        Returns
        -------
        pandas.DatetimeIndex
            ``date + obs_time`` localised in :attr:`timezone` (daylight saving
            applied per date) and converted to UTC.

        Examples
        --------
        >>> spec = SourceSpec(provider="fred", symbol="DEXJPUS",
        ...                   timezone="America/New_York", obs_time="12:00")
        >>> times = spec.observation_times(pd.DatetimeIndex(["2025-01-06", "2025-04-07"]))
        >>> [t.isoformat() for t in times]  # EST, then EDT
        ['2025-01-06T17:00:00+00:00', '2025-04-07T16:00:00+00:00']
        """
        offset = pd.Timedelta(
            hours=self.obs_time.hour, minutes=self.obs_time.minute, seconds=self.obs_time.second
        )
        local = (pd.DatetimeIndex(dates).normalize() + offset).tz_localize(
            self.timezone, ambiguous="raise", nonexistent="shift_forward"
        )
        return local.tz_convert("UTC")


class SeriesSpec(BaseModel):
    """A named series of the catalog.

    Attributes
    ----------
    name : str
        Catalog name, e.g. ``"UST10Y"``.
    kind : {"yield", "fx", "index"}
        Decides the natural unit of changes: basis points for yields, percent log
        returns for FX and indices (see :func:`backtest.data.reactions`).
    unit : str
        Unit of the levels (``"percent"``, ``"JPY per USD"``).
    sources : tuple of SourceSpec
        Default source first, then alternatives.
    calendar : str, optional
        exchange_calendars name of the market's trading calendar (``"XNYS"``).
    description : str
        One line for humans.
    instrument : Instrument, optional
        What holding the series means (``instrument: {kind: bond, maturity: 10,
        currency: USD}``), a mapping of :class:`~backtest.instruments.Instrument`'s
        fields. Omitted: :func:`default_instrument` of `kind` (an index is an
        ``index``; a yield or a pair is ``untradable`` until declared).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")
    kind: Kind
    unit: str
    sources: tuple[SourceSpec, ...] = Field(min_length=1)
    calendar: str | None = None
    description: str = ""
    instrument: SkipValidation[Instrument] | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_instrument(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and data.get("instrument") is None:
            kind = data.get("kind")
            if kind in DEFAULT_INSTRUMENT_KIND:
                return {**data, "instrument": default_instrument(kind)}
        return data

    @field_validator("instrument", mode="before")
    @classmethod
    def _parse_instrument(cls, value: Any) -> Any:
        if value is None or isinstance(value, Instrument):
            return value
        if not isinstance(value, Mapping):
            raise ValueError(
                "instrument must be a mapping such as {kind: bond, maturity: 10, "
                f"currency: USD}}, got {type(value).__name__}"
            )
        known = set(Instrument.__dataclass_fields__)
        unknown = [k for k in value if k not in known]
        if unknown:
            raise ValueError(f"instrument has unknown field(s) {unknown}; allowed: {sorted(known)}")
        if "kind" not in value:
            raise ValueError(f"instrument needs a kind, one of {list(INSTRUMENT_KINDS)}")
        try:
            return Instrument(**value)
        except DataValidationError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("calendar")
    @classmethod
    def _known_calendar(cls, value: str | None) -> str | None:
        if value is not None and value not in _calendar_names():
            close = difflib.get_close_matches(value, sorted(_calendar_names()), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ValueError(f"unknown exchange calendar {value!r}{hint}")
        return value

    @field_validator("sources")
    @classmethod
    def _unique_providers(cls, value: tuple[SourceSpec, ...]) -> tuple[SourceSpec, ...]:
        providers = [s.provider for s in value]
        if len(set(providers)) != len(providers):
            raise ValueError(f"each provider may appear once per series, got {providers}")
        return value

    @property
    def default(self) -> SourceSpec:
        """The default source (first listed)."""
        return self.sources[0]

    @property
    def timezone(self) -> str:
        """Time zone of the default source's observations."""
        return self.default.timezone

    @property
    def obs_time(self) -> dt.time:
        """Clock time of the default source's observations."""
        return self.default.obs_time

    def source(self, provider: str | None = None) -> SourceSpec:
        """Return the source for `provider`, or the default when it is ``None``.

        Raises
        ------
        backtest.errors.DataValidationError
            The series has no source from `provider`.
        """
        if provider is None:
            return self.default
        for spec in self.sources:
            if spec.provider == provider:
                return spec
        have = ", ".join(s.provider for s in self.sources)
        raise DataValidationError(
            f"series {self.name} has no {provider!r} source; available: {have}"
        )


class Catalog(Mapping[str, SeriesSpec]):
    """An immutable mapping of series name to :class:`SeriesSpec`.

    Parameters
    ----------
    series : iterable of SeriesSpec
        Later entries replace earlier ones with the same name.
    base_dir : pathlib.Path, optional
        Directory against which relative ``file`` paths of *these* series resolve
        (kept per series, so merged catalogs keep each file's own base).

    Examples
    --------
    >>> cat = builtin_catalog()
    >>> cat["UST10Y"].default.symbol
    'DGS10'
    >>> "USDJPY" in cat
    True
    """

    def __init__(self, series: Iterable[SeriesSpec] = (), base_dir: Path | None = None) -> None:
        self._series: dict[str, SeriesSpec] = {}
        self._base: dict[str, Path | None] = {}
        for spec in series:
            self._series[spec.name] = spec
            self._base[spec.name] = base_dir

    # Mapping protocol -------------------------------------------------------------
    def __getitem__(self, name: str) -> SeriesSpec:
        try:
            return self._series[name]
        except KeyError:
            raise UnknownSeriesError(self._unknown_message(name)) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._series)

    def __len__(self) -> int:
        return len(self._series)

    def __repr__(self) -> str:
        return f"Catalog({', '.join(self._series)})"

    def _unknown_message(self, name: str) -> str:
        upper = {n.upper(): n for n in self._series}
        close = difflib.get_close_matches(str(name).upper(), list(upper), n=3, cutoff=0.5)
        hint = (
            f"; did you mean {', '.join(upper[c] for c in close)}?"
            if close
            else f"; known series: {', '.join(self._series)}"
        )
        return f"unknown series {name!r}{hint}"

    # Construction -----------------------------------------------------------------
    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, where: str, base_dir: Path | None = None
    ) -> Catalog:
        """Build a catalog from the YAML schema ``{"series": {NAME: {...}}}``.

        Parameters
        ----------
        data : mapping
            Parsed YAML.
        where : str
            Name of the file or object, used in error messages.
        base_dir : pathlib.Path, optional
            Base directory of relative ``file`` paths.

        Raises
        ------
        backtest.errors.DataValidationError
            The data does not match the schema; the message names the field path.
        """
        if not isinstance(data, Mapping) or set(data) != {"series"}:
            keys = list(data) if isinstance(data, Mapping) else type(data).__name__
            raise DataValidationError(
                f"{where}: expected a mapping with the single key 'series', got {keys}; "
                "put the entries under series:"
            )
        entries = data["series"]
        if not isinstance(entries, Mapping):
            raise DataValidationError(
                f"{where}: series: must map names to series entries; write series: "
                "{NAME: {kind: ..., unit: ..., sources: [...]}}"
            )
        specs = []
        for name, body in entries.items():
            if not isinstance(body, Mapping):
                raise DataValidationError(
                    f"{where}: series.{name}: must be a mapping, got {type(body).__name__}; "
                    "give its kind, unit and sources"
                )
            try:
                specs.append(SeriesSpec.model_validate({"name": name, **body}))
            except ValidationError as exc:
                raise DataValidationError(
                    _format_validation(exc, where, f"series.{name}")
                ) from None
        return cls(specs, base_dir=base_dir)

    @classmethod
    def from_yaml(cls, path: str | Path) -> Catalog:
        """Read a catalog YAML file; relative ``file`` paths resolve against its folder.

        Raises
        ------
        backtest.errors.DataValidationError
            The file is missing, is not valid YAML, or does not match the schema.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise DataValidationError(
                f"{path}: catalog file not found; check the path (data.catalogs or --catalog)"
            ) from None
        # no aliases (bounded size), no duplicate keys; errors name the file and line
        data = _yaml.load(text, str(path), DataValidationError)
        return cls.from_dict(data or {}, where=str(path), base_dir=path.resolve().parent)

    def merge(self, other: Catalog) -> Catalog:
        """Return a catalog with `other`'s series added, replacing same-named ones."""
        out = Catalog()
        out._series = {**self._series, **other._series}
        out._base = {**self._base, **other._base}
        return out

    # Queries ----------------------------------------------------------------------
    def base_dir(self, name: str) -> Path | None:
        """Directory that relative ``file`` paths of series `name` resolve against.

        ``None`` means the bundled snapshot directory (built-in series).
        """
        self[name]  # raises for unknown names
        return self._base.get(name)

    def to_frame(self) -> pd.DataFrame:
        """Return one row per series: kind, unit, default source, clock, calendar.

        Returns
        -------
        pandas.DataFrame
            Indexed by series name.
        """
        rows = []
        for spec in self._series.values():
            src = spec.default
            rows.append(
                {
                    "name": spec.name,
                    "kind": spec.kind,
                    "unit": spec.unit,
                    "source": src.provider,
                    "symbol": src.symbol,
                    "observed": f"{src.obs_time:%H:%M} {src.timezone}",
                    "calendar": spec.calendar or "",
                    "alternatives": ", ".join(s.key for s in spec.sources[1:]),
                    "description": spec.description,
                }
            )
        return pd.DataFrame(rows).set_index("name")


def default_instrument(kind: str) -> Instrument:
    """Return the instrument a series of `kind` is taken to be without an ``instrument:``.

    Parameters
    ----------
    kind : {"yield", "fx", "index"}
        The series' kind.

    Returns
    -------
    Instrument
        ``Instrument("index")`` for an index; ``Instrument("untradable")`` for a yield
        (held as a bond only once its maturity is declared) or a pair (once its base
        and quote are declared): the safe choice, a strategy on it is refused
        unless allowed explicitly.

    Raises
    ------
    backtest.errors.DataValidationError
        `kind` is not a series kind.

    Examples
    --------
    >>> default_instrument("yield").kind
    'untradable'
    """
    if kind not in DEFAULT_INSTRUMENT_KIND:
        raise DataValidationError(f"kind must be one of {list(KINDS)}, got {kind!r}")
    return Instrument(DEFAULT_INSTRUMENT_KIND[kind])  # type: ignore[arg-type]


def instrument_record(instrument: Instrument | None) -> dict[str, object] | None:
    """Return `instrument` as a JSON-ready mapping of its set fields (``None`` stays).

    Examples
    --------
    >>> instrument_record(Instrument("fx", base="USD", quote="JPY"))
    {'kind': 'fx', 'currency': 'JPY', 'base': 'USD', 'quote': 'JPY'}
    """
    if instrument is None:
        return None
    return {
        name: getattr(instrument, name)
        for name in Instrument.__dataclass_fields__
        if getattr(instrument, name) is not None
    }


def _format_validation(exc: ValidationError, where: str, prefix: str) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in (prefix, *err["loc"]))
        given = err.get("input")
        lines.append(f"{where}: {loc}: {err['msg']} (got {given!r})")
    return "\n".join(lines)


@cache
def builtin_catalog() -> Catalog:
    """Return the catalog shipped with backtest (``backtest/data/catalog.yaml``).

    Its series have no base directory: their relative ``file`` paths resolve
    against the bundled snapshot (:func:`backtest.data.snapshot.snapshot_dir`).
    """
    text = resources.files("backtest.data").joinpath("catalog.yaml").read_text("utf-8")
    where = "backtest/data/catalog.yaml"
    return Catalog.from_dict(_yaml.load(text, where, DataValidationError), where=where)
