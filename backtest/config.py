"""Run configurations: frozen pydantic models of the YAML files in ``configs/``.

A config names the data, the events, the event study, the strategies and the output
of one run. :func:`load_config` checks its schema: an unknown key or a window of the
wrong shape is a :class:`~backtest.errors.ConfigError` naming the file and the field
path. What needs the rest of the project (an unknown series, a missing events file,
an unknown strategy or parameter) is checked by
:func:`backtest.pipeline.validate_config`, which ``backtest run`` and
:func:`backtest.pipeline.run` call before any work.

Each option's allowed values and default are read from the module that owns them
(:mod:`backtest.eventstudy.models`, :mod:`backtest.eventstudy.design`,
:mod:`backtest.eventstudy.policy`, :mod:`backtest.engine.folds`,
:mod:`backtest.space`, :mod:`backtest.execution`), so the Python API and a config
share them.

Relative paths resolve against the file that wrote them, also through ``extends:``
(a config may extend a base config; mappings merge key by key, anything else in the
child replaces the base's value).
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import to_jsonable_python

from backtest import _yaml
from backtest.data.catalog import Provider
from backtest.engine.folds import (
    DEFAULT_METHOD,
    DEFAULT_TEST_BARS,
    DEFAULT_TRAIN_BARS,
    DEFAULT_TRAIN_FRACTION,
    ValidationMethod,
)
from backtest.engine.legs import DEFAULT_FUNDING, Funding
from backtest.errors import ConfigError
from backtest.eventstudy.alignment import (
    DEFAULT_DIMSON_LAGS,
    DEFAULT_ESTIMATION_EXCLUDE,
    DEFAULT_MARKET_ALIGNMENT,
    DEFAULT_SESSION_GUARD,
    EstimationExclude,
    MarketAlignment,
)
from backtest.eventstudy.design import (
    DEFAULT_ESTIMATION_WINDOW,
    DEFAULT_EVENT_WINDOW,
    DEFAULT_MIN_ESTIMATION,
    Window,
)
from backtest.eventstudy.models import DEFAULT_MODEL, MARKET_MODELS, ModelName
from backtest.eventstudy.placebo import (
    DEFAULT_PLACEBO_BOOTSTRAP_DRAWS,
    DEFAULT_PLACEBO_DESIGN,
    DEFAULT_PLACEBO_DRAWS,
    DEFAULT_PLACEBO_MATCH,
    PlaceboDesign,
    PlaceboMatch,
)
from backtest.eventstudy.policy import (
    DEFAULT_DRAWS,
    DEFAULT_KP_CORRELATION,
    TESTS,
    KPCorrelation,
    TestName,
)
from backtest.eventstudy.regression import DEFAULT_COV, CovType
from backtest.eventstudy.signing import (
    DEFAULT_SIGN_BY,
    DEFAULT_SPLIT_BY,
    DEFAULT_SURPRISE_FROM,
    check_sign_by,
    check_surprise_from,
)
from backtest.execution import (
    DEFAULT_BLOCK_SIZE,
    DEFAULT_CHUNK_SIZE,
    DEFAULT_ENGINE,
    EngineName,
)
from backtest.space import DEFAULT_MAX_COMBINATIONS, DEFAULT_SWEEP_METHOD, SweepMethod

__all__ = [
    "FORMATS",
    "DataConfig",
    "EventStudyConfig",
    "EventsConfig",
    "ExecutionConfig",
    "OutputConfig",
    "PlaceboConfig",
    "RunConfig",
    "StrategyConfig",
    "ValidationConfig",
    "load_config",
]

Format = Literal["html", "md", "json", "csv", "parquet"]
#: Output formats of a run, defined once and reused in validation and messages.
FORMATS: tuple[str, ...] = get_args(Format)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _iso_date(value: Any, info: Any) -> Any:  # info: pydantic.ValidationInfo
    """Date fields take ISO 8601 only (``2016-06-01``), parsed like every other date.

    YAML gives ``01/06/2016`` as text and ``20160601`` as an int (pydantic would read
    an int as seconds since 1970); both are refused with the ISO form to write.
    """
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    from backtest.data.dates import parse_date

    parsed = parse_date(value, str(info.field_name))  # DataValidationError is a ValueError
    return parsed.date() if parsed is not None else None


def _check_window(value: Window, name: str) -> Window:
    if value[0] > value[1]:
        raise ValueError(f"{name} must be [first, last] with first <= last, got {list(value)}")
    return value


class DataConfig(_Model):
    """Which series to load, over which dates, from where.

    Parameters
    ----------
    series : list of str
        Catalog names to study.
    start, end : date, optional
        Date range of the levels loaded (default: all available history).
    sources : mapping of str to {"fred", "yahoo", "file", "boj"}
        Preferred provider per series (default: each series' default source).
    offline : bool, optional
        ``true`` never touches the network; ``null`` detects it.
    cache_dir : path, optional
        Cache directory.
    catalogs : list of path
        Extra catalog YAML files with user series.
    define : mapping
        User series defined inline, in the catalog schema (``{NAME: {kind: ...}}``).
    """

    series: tuple[str, ...] = Field(min_length=1)
    start: dt.date | None = None
    end: dt.date | None = None
    sources: dict[str, Provider] = Field(default_factory=dict)
    offline: bool | None = None
    cache_dir: Path | None = None
    catalogs: tuple[Path, ...] = ()
    define: dict[str, dict[str, Any]] = Field(default_factory=dict)

    _dates = field_validator("start", "end", mode="before")(_iso_date)

    @model_validator(mode="after")
    def _range(self) -> DataConfig:
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        return self


class InlineEvent(_Model):
    """One event written in the config (same fields as a calendar file row).

    Parameters
    ----------
    id : str, optional
        Event id (default: its date, ``YYYY-MM-DD``, then ``YYYY-MM-DD_2`` ...).
    date : date
        Local date of the event in its time zone (ISO 8601, ``2025-04-02``).
    time : str, optional
        Local clock time ``HH:MM`` or ``HH:MM:SS`` (24-hour); empty when unknown.
    timezone : str, optional
        IANA zone of the event's clock (default ``events.timezone``).
    label : str
        What happened.
    category : str
        Free-form group (``events.categories`` filters on it).
    """

    id: str | None = None
    date: dt.date
    time: str | None = None
    timezone: str | None = None
    label: str
    category: str = ""

    _date = field_validator("date", mode="before")(_iso_date)


class EventsConfig(_Model):
    """Event calendars and filters.

    Parameters
    ----------
    files : list of path
        CSV or YAML calendars (``data/events/``).
    inline : list of InlineEvent
        Events written in the config itself.
    categories, ids : list of str, optional
        Keep only these categories / event ids.
    start, end : date, optional
        Keep only events in this range (local dates).
    timezone : str, optional
        Zone of rows that give none. An event with a time needs a zone, its own or
        this one (never assumed); a date-only event without either is recorded as
        America/New_York, which does not move its day 0.
    """

    files: tuple[Path, ...] = ()
    inline: tuple[InlineEvent, ...] = ()
    categories: tuple[str, ...] | None = None
    ids: tuple[str, ...] | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    timezone: str | None = None

    _dates = field_validator("start", "end", mode="before")(_iso_date)

    @model_validator(mode="after")
    def _some(self) -> EventsConfig:
        if not self.files and not self.inline:
            raise ValueError("give at least one events file (files) or inline event (inline)")
        for i, event in enumerate(self.inline):
            if event.time and not event.timezone and not self.timezone:
                raise ValueError(
                    f"inline[{i}]: time {event.time} has no time zone; give "
                    f"inline[{i}].timezone (e.g. America/New_York, Asia/Tokyo) or a default "
                    "for every event: events.timezone"
                )
        return self


class RegressionConfig(_Model):
    """One cross-sectional regression of CARs (:meth:`EventStudyResult.regress`).

    Parameters
    ----------
    formula : str
        statsmodels formula with ``car`` on the left, e.g. ``car ~ C(category)``;
        columns: ``car, series, day0`` and every events column.
    window : [int, int]
        CAR window (inside the event window).
    series : list of str
        Series whose CARs are regressed, pooled (one unit only); empty: every studied
        series (which must then share a unit).
    cov : {"HC3", "cluster", "nonrobust"}
        Standard errors: HC3 (default), clustered by day-0 date, or classical.
    """

    formula: str
    window: Window = (0, 1)
    series: tuple[str, ...] = ()
    cov: CovType = DEFAULT_COV

    @field_validator("formula")
    @classmethod
    def _formula(cls, value: str) -> str:
        if "~" not in value or not value.split("~")[0].strip() == "car":
            raise ValueError(f"formula must read 'car ~ <terms>', got {value!r}")
        return value

    @field_validator("window")
    @classmethod
    def _window(cls, value: Window) -> Window:
        return _check_window(value, "window")


class PlaceboConfig(_Model):
    """A placebo study of the event study's tests (``event_study.placebo``).

    See :meth:`backtest.eventstudy.EventStudyResult.placebo`.

    Parameters
    ----------
    draws : int
        Pseudo-event draws.
    match : list of {"weekday", "volatility"}
        What each pseudo date shares with its real event (``[]`` for nothing).
    seed : int
        Seed of the draws.
    design : {"shared", "independent"}
        ``shared`` (default): the series of a draw share each pseudo date, as real
        announcements do; ``independent``: each series its own dates.
    window : [int, int], optional
        CAR window of the placebo; default the first of ``event_study.windows``.
    bootstrap_draws : int
        Resamples of the bootstrap test inside each draw.
    """

    draws: int = Field(default=DEFAULT_PLACEBO_DRAWS, ge=1)
    match: tuple[PlaceboMatch, ...] = DEFAULT_PLACEBO_MATCH
    seed: int = 0
    design: PlaceboDesign = DEFAULT_PLACEBO_DESIGN
    window: Window | None = None
    bootstrap_draws: int = Field(default=DEFAULT_PLACEBO_BOOTSTRAP_DRAWS, ge=19)

    @field_validator("match")
    @classmethod
    def _distinct(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError(f"match names each criterion once, got {list(value)}")
        return value


class EventStudyConfig(_Model):
    """The event study: model, windows, tests and CAR tables (see :class:`EventStudy`).

    Parameters
    ----------
    model : {"raw", "constant_mean", "market", "market_adjusted", "factor", "garch"}
        Model of normal behaviour; default ``raw`` (zero expected change), as in
        :class:`~backtest.eventstudy.EventStudy`, whose Notes say why.
    market : str or mapping, optional
        Market series (loaded automatically if not in ``data.series``), or a
        mapping per series ``{NKY: TOPIX, JGB10Y: null, default: SPX}`` (null: no
        market for that series; see :class:`~backtest.eventstudy.EventStudy`).
    factors : list of str
        Factor series of the ``factor`` model.
    estimation_window : [int, int]
        First and last day of the estimation window, in each series' trading days
        relative to day 0 (it must end before the event window starts).
    event_window : [int, int]
        First and last day of the event window, in trading days relative to day 0;
        the CAR windows lie inside it.
    min_estimation : int
        Fewest usable estimation days.
    allow_incomplete : bool
        Keep the partial sum of a CAR window that runs beyond a series' data
        (marked, and still left out of the cross-event tests); default False: NaN,
        listed with the reason "window incomplete: k of n days".
    windows : list of [int, int]
        CAR sub-windows to tabulate; the first is the headline window.
    tests : list of str
        Cross-event tests to report.
    groups : mapping of str to list of str
        Pooled groups of series for the cross-event tests.
    bootstrap_draws, seed : int
        Resampling of the bootstrap test (fixed seed: runs are reproducible).
    market_alignment : {"asof", "date"}
        Pair each series' day with the market's change as of its observation
        instant (default) or of the same calendar date.
    dimson_lags : int
        Dimson betas over market lags ``-k..+k`` (model ``market`` only; default 0).
    estimation_exclude : {"none", "events"}
        Drop other events' window days from estimation windows (default none).
    exclude_events : list of path
        Extra events files (read like ``events.files``) whose windows are dropped too.
    session_guard : int
        Near-close guard of day 0 in minutes (default 30; 0: plain rule).
    sign_by : {null, "direction", "surprise", "reaction:<SERIES>"}
        Sign the events before pooling (:class:`~backtest.eventstudy.EventStudy`).
    surprise_from : {null, "<events column>", "reaction:<SERIES>"}
        Fill the events' ``surprise`` column from a column or a series' day-0 change.
    split_by : str, optional
        An events column: the cross-event tests are also run per value of it
        (e.g. ``direction``: the +1 events and the -1 events apart).
    regressions : list of RegressionConfig
        Cross-sectional regressions of CARs on event characteristics.
    volatility : bool or list of [int, int]
        Abnormal-volatility tests (variance ratio per event, Savickas-style
        cross-sectional test per series and group; :mod:`backtest.eventstudy.volatility`):
        ``true`` over every CAR window of `windows`, or a list of windows of their
        own; default ``false`` (none).
    kp_correlation : {"sums", "daily"}
        Residuals whose mean correlation the Kolari-Pynnönen test corrects for:
        n-day sums (default) or daily residuals as in the paper.
    placebo : PlaceboConfig, optional
        A placebo study of the tests in the headline window (off unless given).
    """

    model: ModelName = DEFAULT_MODEL
    market: str | dict[str, str | None] | None = None
    factors: tuple[str, ...] = ()
    estimation_window: Window = DEFAULT_ESTIMATION_WINDOW
    event_window: Window = DEFAULT_EVENT_WINDOW
    min_estimation: int = Field(default=DEFAULT_MIN_ESTIMATION, gt=0)
    allow_incomplete: bool = False
    windows: tuple[Window, ...] = ((0, 0), (0, 1), (0, 5))
    tests: tuple[TestName, ...] = TESTS
    groups: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    bootstrap_draws: int = Field(default=DEFAULT_DRAWS, ge=99)
    seed: int = 0
    market_alignment: MarketAlignment = DEFAULT_MARKET_ALIGNMENT
    dimson_lags: int = Field(default=DEFAULT_DIMSON_LAGS, ge=0)
    estimation_exclude: EstimationExclude = DEFAULT_ESTIMATION_EXCLUDE
    exclude_events: tuple[str, ...] = ()
    session_guard: int = Field(default=DEFAULT_SESSION_GUARD, ge=0)
    sign_by: str | None = DEFAULT_SIGN_BY
    surprise_from: str | None = DEFAULT_SURPRISE_FROM
    split_by: str | None = DEFAULT_SPLIT_BY
    regressions: tuple[RegressionConfig, ...] = ()

    @field_validator("sign_by")
    @classmethod
    def _sign_by(cls, value: str | None) -> str | None:
        return check_sign_by(value)

    @field_validator("surprise_from")
    @classmethod
    def _surprise_from(cls, value: str | None) -> str | None:
        return check_surprise_from(value)

    @model_validator(mode="after")
    def _regression_windows(self) -> EventStudyConfig:
        w0, w1 = self.event_window
        for i, reg in enumerate(self.regressions):
            if not (w0 <= reg.window[0] and reg.window[1] <= w1):
                raise ValueError(
                    f"regressions[{i}].window {list(reg.window)} is outside the event_window "
                    f"{list(self.event_window)}"
                )
        return self

    volatility: bool | tuple[Window, ...] = False
    kp_correlation: KPCorrelation = DEFAULT_KP_CORRELATION
    placebo: PlaceboConfig | None = None

    @field_validator("estimation_window", "event_window")
    @classmethod
    def _ordered(cls, value: Window, info: Any) -> Window:
        return _check_window(value, info.field_name)

    @field_validator("windows")
    @classmethod
    def _windows(cls, value: tuple[Window, ...]) -> tuple[Window, ...]:
        if not value:
            raise ValueError("give at least one CAR window, e.g. [[0, 5]]")
        for w in value:
            _check_window(w, "each window")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> EventStudyConfig:
        w0, w1 = self.event_window
        for w in self.windows:
            if not (w0 <= w[0] and w[1] <= w1):
                raise ValueError(
                    f"window {list(w)} is outside the event_window {list(self.event_window)}"
                )
        pw = self.placebo.window if self.placebo is not None else None
        if pw is not None and not (w0 <= pw[0] <= pw[1] <= w1):
            raise ValueError(
                f"placebo.window {list(pw)} must be [first, last] inside the event_window "
                f"{list(self.event_window)}"
            )
        if self.estimation_window[1] >= w0:
            raise ValueError(
                f"estimation_window {list(self.estimation_window)} must end before the "
                f"event_window {list(self.event_window)} starts"
            )
        if self.model in MARKET_MODELS and not self.market:
            raise ValueError(f"model {self.model!r} needs a market series (market: SPX)")
        if self.model == "factor" and not self.factors:
            raise ValueError("model 'factor' needs factors: [...]")
        if self.dimson_lags and self.model != "market":
            raise ValueError(
                f"dimson_lags: {self.dimson_lags} needs model: market (Dimson betas are "
                f"market-model slopes); got model: {self.model}"
            )
        if isinstance(self.market, dict) and not self.market:
            raise ValueError("market: the mapping is empty; give at least default: SPX")
        if self.exclude_events and self.estimation_exclude != "events":
            raise ValueError(
                "exclude_events is only used with estimation_exclude: events; set it or "
                "remove exclude_events"
            )
        if not isinstance(self.volatility, bool):
            if not self.volatility:
                raise ValueError("volatility: give true, false or at least one window [[0, 0]]")
            for w in self.volatility:
                _check_window(w, "each volatility window")
                if not (w0 <= w[0] and w[1] <= w1):
                    raise ValueError(
                        f"volatility window {list(w)} is outside the event_window "
                        f"{list(self.event_window)}"
                    )
        return self

    @property
    def volatility_windows(self) -> tuple[Window, ...]:
        """Windows of the abnormal-volatility tests: none, the CAR windows, or their own."""
        if isinstance(self.volatility, bool):
            return self.windows if self.volatility else ()
        return self.volatility


class ValidationConfig(_Model):
    """Out-of-sample discipline: one train/test split or walk-forward folds.

    Parameters
    ----------
    method : {"train_test", "walk_forward"}
        One train/test split, or rolling walk-forward folds.
    train_fraction : float
        Share of bars in the training sample of a train/test split.
    train_bars, test_bars : int
        Walk-forward fold lengths in bars (three years of training, one of testing).
    """

    method: ValidationMethod = DEFAULT_METHOD
    train_fraction: float = Field(default=DEFAULT_TRAIN_FRACTION, gt=0.0, lt=1.0)
    train_bars: int = Field(default=DEFAULT_TRAIN_BARS, ge=20)
    test_bars: int = Field(default=DEFAULT_TEST_BARS, ge=5)


#: Basis points of costs: a number >= 0.
NonNegative = Annotated[float, Field(ge=0.0)]


class StrategyConfig(_Model):
    """A strategy to backtest (see :mod:`backtest.engine`).

    Parameters
    ----------
    name : str
        Registered strategy (``backtest strategies list``).
    series : str
        Traded series (loaded automatically).
    params : mapping
        Fixed parameters (and defaults of a sweep).
    sweep : mapping, optional
        Parameter space: per parameter a value, a list of values or a ``{start,
        stop, step}`` range (stop inclusive, step default 1). Every value is checked
        against the strategy's parameter type when the config is loaded
        (``strategies[0].sweep.fast[0]``).
    method : {"grid", "random"}
        All combinations, or `samples` random ones (`seed`); sweep only.
    samples : int, optional
        Random combinations to draw (``method: random`` only).
    seed : int
        Seed of the random draws of ``method: random``.
    chunk_size : int, optional
        Combinations per sweep task (default ``execution.chunk_size``).
    max_combinations : int, optional
        Refuse a sweep of more combinations (random: more samples) when the config
        is loaded, with the count (default 5,000,000; ``null``: no limit). The
        combinations are counted, never built.
    fees_bps, slippage_bps : float or mapping
        Costs in basis points of traded value: one value for every leg, or one per
        leg of a portfolio strategy (``{UST10Y: 0.5, JGB10Y: 1.0}``).
    periods_per_year : int
        Annualisation (252 trading days).
    risk_free : float
        Constant annual risk-free rate, only with ``funding: none``.
    funding : {"short_rate", "none"}
        ``short_rate`` (default): Sharpe ratios of excess returns, each bond and index
        leg charged its currency's short rate (loaded through the catalog);
        ``none``: over the constant `risk_free`.
    validation : ValidationConfig, optional
        Choose parameters in sample, report out of sample.
    allow_untradable : bool
        Trade a series whose catalog instrument is ``untradable`` (VIX, policy rates)
        as a price anyway; by default such a strategy is refused before any work.
    """

    name: str
    series: str
    params: dict[str, Any] = Field(default_factory=dict)
    sweep: dict[str, Any] | None = None
    method: SweepMethod = DEFAULT_SWEEP_METHOD
    samples: int | None = Field(default=None, ge=1)
    seed: int = 0
    chunk_size: int | None = Field(default=None, ge=1)  # default: execution.chunk_size
    fees_bps: NonNegative | dict[str, NonNegative] = 0.0
    slippage_bps: NonNegative | dict[str, NonNegative] = 0.0
    periods_per_year: int = Field(default=252, ge=1)
    risk_free: float = 0.0
    validation: ValidationConfig | None = None
    max_combinations: int | None = Field(default=DEFAULT_MAX_COMBINATIONS, ge=1)
    allow_untradable: bool = False
    funding: Funding = DEFAULT_FUNDING

    @model_validator(mode="after")
    def _sweep_settings(self) -> StrategyConfig:
        if self.sweep is None:
            fields = type(self).model_fields
            # a default is no setting (the saved config writes every field out)
            unused = [k for k in _SWEEP_ONLY if getattr(self, k) != fields[k].default]
            if unused:
                raise ValueError(
                    f"{unused[0]} is a setting of a sweep, and this strategy has no sweep; "
                    "add sweep: {parameter: [values]} or remove it"
                )
        elif not self.sweep:
            raise ValueError("sweep is empty; give a parameter's values or remove it")
        if self.method == "random" and self.samples is None:
            raise ValueError("method 'random' needs samples: N (how many combinations to draw)")
        if self.method == "grid" and self.samples is not None:
            raise ValueError(
                f"samples: {self.samples} is used only with method: random; the grid runs "
                "every combination"
            )
        return self


#: Strategy settings that only a sweep reads (an error without one, never ignored).
_SWEEP_ONLY = ("method", "samples", "seed", "chunk_size", "validation", "max_combinations")


class ExecutionConfig(_Model):
    """Where the run executes (see :mod:`backtest.execution`).

    Parameters
    ----------
    engine : {"local", "dask"}
        In this process, or on a Dask cluster.
    scheduler : str, optional
        Address of an existing scheduler (``tcp://host:8786``); ``null`` starts an
        embedded ``LocalCluster``.
    workers : int, optional
        Worker processes of the embedded cluster (default 2).
    chunk_size : int
        Parameter combinations per sweep task.
    block_size : int
        Series per event-study task.
    memory_limit : str, optional
        Memory limit per worker of the embedded cluster (e.g. ``"4GiB"``).
    chunk_memory : str
        Peak memory one sweep chunk may use (``"1GiB"``, ``"512MiB"``, ``"2GB"``); the
        chunk size is lowered to fit it for long data, which bounds each worker's peak
        at its baseline plus this (default 2 GiB: about 4,000 combinations of 10 years
        of daily bars at ~200 bytes per bar x combination; well under a worker's memory).
    """

    engine: EngineName = DEFAULT_ENGINE
    scheduler: str | None = None
    workers: int | None = Field(default=None, ge=1)
    chunk_size: int = Field(default=DEFAULT_CHUNK_SIZE, ge=1)
    block_size: int = Field(default=DEFAULT_BLOCK_SIZE, ge=1)
    memory_limit: str | None = None
    chunk_memory: str = "2GiB"

    @field_validator("chunk_memory")
    @classmethod
    def _size(cls, value: str) -> str:
        parse_bytes(value)
        return value

    @property
    def chunk_memory_bytes(self) -> int:
        """``chunk_memory`` in bytes."""
        return parse_bytes(self.chunk_memory)


_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_UNITS.update({"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40})


def parse_bytes(text: str) -> int:
    """A memory size such as ``"512MiB"``, ``"1.5GB"`` or ``"1000000"`` in bytes.

    Examples
    --------
    >>> parse_bytes("1GiB"), parse_bytes("1.5 kB")
    (1073741824, 1500)
    """
    value = str(text).strip().lower().replace(" ", "")
    number = value.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = value[len(number) :]
    try:
        size = float(number) * _UNITS[unit]
    except (ValueError, KeyError):
        raise ValueError(
            f"expected a size such as '512MiB', '1GiB' or '2GB', got {text!r}"
        ) from None
    if size < 1:
        raise ValueError(f"expected a positive size, got {text!r}")
    return int(size)


class OutputConfig(_Model):
    """Where the run directory goes and which files it holds.

    Parameters
    ----------
    dir : path, optional
        Run directory (default ``runs/<name>`` in the working directory).
    formats : list of {"html", "md", "json", "csv", "parquet"}
        Files to write; the resolved config and ``results.json`` are always written.
    """

    dir: Path | None = None
    formats: tuple[Format, ...] = FORMATS  # type: ignore[assignment]


class RunConfig(_Model):
    """A complete run: data -> events -> event study -> strategies -> report.

    Parameters
    ----------
    name : str
        Name of the run: its directory is ``runs/<name>`` unless ``output.dir`` is given.
    title : str
        Title of the report (default: the name).
    description : str
        Free text shown under the title of the report.
    data : DataConfig
        Which series to load, over which dates, from where.
    events : EventsConfig
        Event calendars and filters.
    event_study : EventStudyConfig
        The event study: model, windows, tests and CAR tables.
    strategies : list of StrategyConfig
        Strategies to backtest (none by default).
    execution : ExecutionConfig
        Where the run executes: this process or a Dask cluster.
    output : OutputConfig
        Where the run directory goes and which files it holds.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    title: str = ""
    description: str = ""
    data: DataConfig
    events: EventsConfig
    event_study: EventStudyConfig = Field(default_factory=EventStudyConfig)
    strategies: tuple[StrategyConfig, ...] = ()
    execution: ExecutionConfig = Field(default_factory=ExecutionConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)

    def to_yaml(self) -> str:
        """The complete config as YAML (what a run directory records)."""
        return yaml.safe_dump(
            self.model_dump(mode="json", exclude_none=False), sort_keys=False, allow_unicode=True
        )


# Loading ------------------------------------------------------------------------------------

#: Fields holding paths, by location: resolved against the file that wrote them.
_PATHS = {
    ("data", "cache_dir"): False,
    ("data", "catalogs"): True,
    ("events", "files"): True,
    ("event_study", "exclude_events"): True,
    ("output", "dir"): False,
}


def _read(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    path = path.resolve()
    if path in seen:
        chain = " -> ".join(str(p) for p in (*seen, path))
        raise ConfigError(
            f"{path}: extends: loops back on itself ({chain}); remove one extends of the chain"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found; check the path") from None
    except IsADirectoryError:
        via = f" (extends: in {seen[-1]})" if seen else ""
        raise ConfigError(f"{path}: is a directory; give a config file (YAML){via}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not a text file (byte {exc.start} is not UTF-8); give a YAML text file"
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read the config ({exc.strerror or exc}); check its permissions"
        ) from None
    # no aliases (bounded size), no duplicate keys; errors name the file and line
    raw = _yaml.load(text, str(path), ConfigError)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path}: a config must be a mapping of keys, got {type(raw).__name__}; write "
            "one key: value per line (name:, data:, events:, ...)"
        )
    _resolve_paths(raw, path.parent)
    base_ref = raw.pop("extends", None)
    if base_ref is None:
        return raw
    if not isinstance(base_ref, str):
        raise ConfigError(
            f"{path}: extends: must be a file name, got {base_ref!r}; give the path of a base "
            "config (relative to this file)"
        )
    base = _read(path.parent / base_ref, (*seen, path))
    return _merge(base, raw)


def _resolve_paths(raw: dict[str, Any], folder: Path) -> None:
    for (section, key), many in _PATHS.items():
        block = raw.get(section)
        if not isinstance(block, dict) or block.get(key) is None:
            continue
        value = block[key]
        if many and isinstance(value, list):
            block[key] = [_join(folder, v) if isinstance(v, str) else v for v in value]
        elif not many and isinstance(value, str):
            block[key] = _join(folder, value)


def _join(folder: Path, value: str) -> str:
    """`value` resolved against `folder` (normalised, symlinks left alone)."""
    return os.path.normpath(folder / Path(value).expanduser())


def _merge(base: dict[str, Any], child: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in child.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


def load_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> RunConfig:
    """Read, merge and validate a run config against its schema.

    Parameters
    ----------
    path : path
        YAML file.
    overrides : mapping, optional
        Dotted keys to set after reading, e.g. ``{"data.offline": True}`` (CLI
        options); they are part of the returned (and saved) config.

    Returns
    -------
    RunConfig

    Raises
    ------
    backtest.errors.ConfigError
        Anything wrong with the file; the message names the file and field path.

    Notes
    -----
    What the config names (series in the catalog, events files, strategies and
    their parameters) is checked by :func:`backtest.pipeline.validate_config`, which
    needs the data, events and strategy modules; ``backtest run`` and
    :func:`backtest.pipeline.run` call it before any work.
    """
    path = Path(path)
    raw = _read(path)
    for dotted, value in (overrides or {}).items():
        node = raw
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    try:
        config = RunConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format(exc, path)) from None
    return config


def _format(exc: ValidationError, path: Path) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            parent = _model_at(err["loc"][:-1])
            allowed = sorted(parent.model_fields) if parent else []
            close = difflib.get_close_matches(str(err["loc"][-1]), allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            lines.append(f"{path}: {loc}: unknown key{hint} (allowed here: {', '.join(allowed)})")
            continue
        given = err.get("input")
        shown = "" if err["type"] == "missing" else f" (got {given!r})"
        lines.append(f"{path}: {loc}: {err['msg']}{shown}")
    return "\n".join(lines)


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The config model at a validation-error location (for listing allowed keys)."""
    model: type[BaseModel] | None = RunConfig
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(str(part))
        model = _submodel(field.annotation) if field else None
    return model


def _submodel(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for inner in getattr(annotation, "__args__", ()):
        found = _submodel(inner)
        if found is not None:
            return found
    return None


# Schema ---------------------------------------------------------------------------------------

#: The one key a config may hold that no model reads: ``_read`` merges the base file in.
_EXTENDS_DOC = (
    "A base config (path relative to this file) that this one extends: mappings merge "
    "key by key, anything else here replaces the base's value."
)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a run config, each key described (``backtest config schema``).

    The schema is pydantic's (:meth:`RunConfig.model_json_schema`), with each property's
    ``description`` read from the Parameters section of its model's numpydoc docstring
    and each model's ``description`` cut to its summary, so editors show one line of
    meaning per key. ``extends`` (read before validation) is added at the top level, and
    a file that extends another is checked against ``PartialRunConfig``: the same keys
    and types, none required (the base file gives the rest).

    Returns
    -------
    dict
        A JSON Schema (draft 2020-12) of the YAML files in ``configs/``: the models in
        ``$defs`` (``RunConfig`` at the top), their partial copies for files that
        extend another.

    Examples
    --------
    >>> schema = json_schema()
    >>> schema["$defs"]["RunConfig"]["properties"]["name"]["description"]
    'Name of the run: its directory is `runs/<name>` unless `output.dir` is given.'
    """
    schema = RunConfig.model_json_schema()
    models = {m.__name__: m for m in _config_models(RunConfig)}
    for name, node in [("RunConfig", schema), *schema.get("$defs", {}).items()]:
        model = models.get(name)
        if model is None:
            continue
        summary, params = parse_docstring(model.__doc__ or "")
        node["description"] = _plain(summary)
        for key, prop in node.get("properties", {}).items():
            if key in params:
                prop["description"] = _plain(params[key])
            field = model.model_fields[key]
            if "default" not in prop and field.default_factory is not None:
                value = field.get_default(call_default_factory=True)
                if not isinstance(value, BaseModel):  # a section: its own keys' defaults
                    prop["default"] = to_jsonable_python(value)
    schema["properties"]["extends"] = {"type": "string", "description": _EXTENDS_DOC}
    # A file with `extends:` gives only what it changes: the same keys, nothing required.
    defs = schema.pop("$defs", {})
    defs["RunConfig"] = schema
    defs.update({f"Partial{name}": _partial(node) for name, node in defs.items()})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "RunConfig",
        "description": schema["description"],
        "if": {"required": ["extends"]},
        "then": {"$ref": "#/$defs/PartialRunConfig"},
        "else": {"$ref": "#/$defs/RunConfig"},
        "$defs": defs,
    }


def _partial(node: Any) -> Any:
    """`node` with no key required and every model reference to its partial copy."""
    if isinstance(node, list):
        return [_partial(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _partial(v) for k, v in node.items() if k != "required"}
    if isinstance(out.get("$ref"), str):
        out["$ref"] = out["$ref"].replace("#/$defs/", "#/$defs/Partial")
    return out


def _plain(text: str) -> str:
    """Docstring markup as Markdown: ``code`` in single backticks, roles as code
    (``:class:`~a.B``` as ``B``, as Sphinx shows it)."""
    text = re.sub(r":[a-z]+:`~([^`]*?)`", lambda m: f"`{m.group(1).rsplit('.', 1)[-1]}`", text)
    text = re.sub(r":[a-z]+:`([^`]*?)`", r"`\1`", text)
    return text.replace("``", "`")


def _config_models(model: type[BaseModel]) -> list[type[BaseModel]]:
    """`model` and every config model nested in its fields, depth first, each once."""
    found = [model]
    for field in model.model_fields.values():
        inner = _submodel(field.annotation)
        if inner is not None and inner not in found:
            found += [m for m in _config_models(inner) if m not in found]
    return found


def parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """A numpydoc docstring's summary and the description of each parameter.

    Parameters
    ----------
    doc : str
        The docstring (``cls.__doc__``).

    Returns
    -------
    summary : str
        The first paragraph, on one line.
    params : dict of str to str
        Each name of the Parameters section (``start, end : date`` gives both names
        the same text) to its description on one line.

    Examples
    --------
    >>> parse_docstring('''One line.
    ...
    ...     Parameters
    ...     ----------
    ...     a, b : int
    ...         Two numbers
    ...         on two lines.
    ...     ''')
    ('One line.', {'a': 'Two numbers on two lines.', 'b': 'Two numbers on two lines.'})
    """
    import inspect

    lines = inspect.cleandoc(doc).splitlines()
    summary_lines: list[str] = []
    for line in lines:
        if not line.strip():
            break
        summary_lines.append(line.strip())
    params: dict[str, str] = {}
    try:
        start = next(
            i + 2
            for i, line in enumerate(lines[:-1])
            if line.strip() == "Parameters" and set(lines[i + 1].strip()) == {"-"}
        )
    except StopIteration:
        return " ".join(summary_lines), params
    names: list[str] = []
    for i in range(start, len(lines)):
        line = lines[i]
        if not line.strip():
            continue
        if not line.startswith(" "):
            if i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"}:
                break  # the next section starts
            names = [n.strip() for n in line.split(" : ")[0].split(",")]
            for n in names:
                params[n] = ""
        else:
            for n in names:
                params[n] = f"{params[n]} {line.strip()}".strip()
    return " ".join(summary_lines), params
