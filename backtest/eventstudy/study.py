"""EventStudy: align events to each series' own sessions, fit normal models, compute ARs.

The work is vectorised over (event, series) pairs: each series' changes are laid in
a padded ``(S, T)`` array of its own observations, day 0 is found with one
``searchsorted`` per series, and windows are gathered with fancy indexing, so no
Python loop runs per pair.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
import pandas as pd

from backtest.data import REACTION_UNITS
from backtest.data import reactions as data_reactions
from backtest.data.catalog import builtin_catalog
from backtest.data.validate import check_levels
from backtest.errors import DataValidationError, RegressorLeftOutWarning
from backtest.eventstudy import signing
from backtest.eventstudy.alignment import (
    DEFAULT_DIMSON_LAGS,
    DEFAULT_ESTIMATION_EXCLUDE,
    DEFAULT_MARKET_ALIGNMENT,
    DEFAULT_SESSION_GUARD,
    ESTIMATION_EXCLUDES,
    MARKET_ALIGNMENTS,
    MarketSpec,
    event_window_mask,
    lagged_planes,
    market_columns,
    market_of,
    normalize_market,
)
from backtest.eventstudy.design import (
    DEFAULT_ESTIMATION_WINDOW,
    DEFAULT_EVENT_WINDOW,
    DEFAULT_MIN_ESTIMATION,
    StudyDesign,
)
from backtest.eventstudy.models import (
    DEFAULT_MODEL,
    MARKET_MODELS,
    MODELS,
    Fit,
    design,
    fit_sums,
    n_params,
    window_sums,
)
from backtest.eventstudy.panel import Panel, concat_series, event_window
from backtest.eventstudy.placebo import Rerun
from backtest.eventstudy.policy import DEFAULT_KP_CORRELATION, KP_CORRELATIONS
from backtest.eventstudy.result import EventStudyResult
from backtest.execution import DEFAULT_BLOCK_SIZE, Executor
from backtest.sessions import (
    Clock,
    asof_changes,
    clock_of,
    day0_from_arrays,
    event_arrays,
    observation_times,
)

__all__ = ["EventStudy", "StudySettings"]


class StudySettings(Protocol):
    """What :meth:`EventStudy.from_config` reads: a config's ``event_study`` section
    (:class:`backtest.config.EventStudyConfig`), without importing the config."""

    @property
    def model(self) -> str: ...
    @property
    def estimation_window(self) -> tuple[int, int]: ...
    @property
    def event_window(self) -> tuple[int, int]: ...
    @property
    def market(self) -> str | Mapping[str, str | None] | None: ...
    @property
    def factors(self) -> tuple[str, ...]: ...
    @property
    def min_estimation(self) -> int: ...
    @property
    def allow_incomplete(self) -> bool: ...
    @property
    def market_alignment(self) -> str: ...
    @property
    def dimson_lags(self) -> int: ...
    @property
    def estimation_exclude(self) -> str: ...
    @property
    def exclude_events(self) -> tuple[str, ...]: ...
    @property
    def session_guard(self) -> int: ...
    @property
    def sign_by(self) -> str | None: ...
    @property
    def surprise_from(self) -> str | None: ...
    @property
    def kp_correlation(self) -> str: ...


@dataclass(frozen=True)
class EventStudy:
    """An event study: model of normal behaviour, windows and minimum data.

    Parameters
    ----------
    model : {"raw", "constant_mean", "market", "market_adjusted", "factor", "garch"}
        Model of normal behaviour (see :mod:`backtest.eventstudy.models`; ``garch``:
        constant mean with GARCH(1,1) errors, :mod:`backtest.eventstudy.garch`). Default
        ``"raw"`` (zero expected change), the same default as a config's
        ``event_study.model`` (:data:`~backtest.eventstudy.models.DEFAULT_MODEL`); see
        Notes.
    estimation_window : tuple of int
        First and last relative day of the estimation window, in the series' own
        observations (default ``(-250, -11)``: ten sessions of gap before the event
        window).
    event_window : tuple of int
        First and last relative day of the event window (default ``(-5, 10)``).
    market : str or mapping, optional
        Column of `levels` holding the market series (``market`` and
        ``market_adjusted`` models), or a mapping per series, e.g.
        ``{"NKY": "TOPIX", "JGB10Y": None, "default": "SPX"}``: a series not in the
        mapping takes ``"default"``; ``None`` means no market for that series, whose
        normal change is then the constant mean (``market``: alpha only, beta 0) or
        zero (``market_adjusted``: raw change).
    factors : sequence of str
        Columns of `levels` holding factor series (``factor`` model).
    min_estimation : int
        Fewest usable estimation days; pairs with fewer are excluded, with the
        reason recorded.
    series : sequence of str, optional
        Columns to study; default every column of `levels` that is not the market
        or a factor. A market or factor series named here is left out of a
        ``market``, ``market_adjusted`` or ``factor`` study (its abnormal change
        against itself is zero by construction), with a
        :class:`~backtest.errors.RegressorLeftOutWarning` and a note in the result.
    allow_incomplete : bool
        What to do with a CAR window that is not complete in the data (it runs past
        the series' last observation or before its first, counted in the series'
        own trading days). ``False`` (default): the CAR is NaN and the pair is listed
        in :meth:`EventStudyResult.incomplete` with the reason ``"window incomplete:
        k of n days"``. ``True``: the partial sum of the ``k`` available days is
        kept, still listed and marked. Either way incomplete windows are left out of
        the cross-event tests (with the count in their ``incomplete`` column) and
        pairs whose event window is incomplete are left out of the AAR.
    market_alignment : {"asof", "date"}
        How a market change is paired with a series' day ``t``. ``"asof"`` (default):
        what the market moved between the series' previous and current observation
        instants, by the catalog clocks (:func:`backtest.sessions.asof_changes`; the
        Nikkei's day ``t`` pairs with New York's day ``t-1``; 0 when the market
        did not trade in between). ``"date"``: the market's change of the same
        calendar date (NaN, a missing day, where the market did not trade).
    dimson_lags : int
        Dimson (1979) betas (model ``market`` only): regress on the aligned market
        changes at lags ``-k..+k`` of the series' own observations; ``beta`` is the
        sum of the ``2k+1`` slopes and the abnormal change uses all of them. Default
        0.
    estimation_exclude : {"none", "events"}
        ``"events"``: each event's estimation window loses the days (in the series'
        own observations) inside any event's event window, from this run and from
        `exclude_events`; ``min_estimation`` applies after exclusion, and
        :attr:`EventStudyResult.clean_windows` records the days removed.
        Default ``"none"``.
    exclude_events : pandas.DataFrame, optional
        Extra calendars for ``estimation_exclude="events"`` (a frame like
        :func:`backtest.events.load` returns, e.g. all FOMC and BoJ decisions); their
        day 0 follows the same session rules.
    session_guard : int
        Near-close guard in minutes (default 30; 0: the plain rule). A timed event
        whose first later observation of a series is taken within the guard
        (observation instant <= event + guard) takes the next observation as day 0;
        :attr:`EventStudyResult.guarded` flags those pairs.
    exclude_own_events : bool
        With ``estimation_exclude="events"``, whether the windows of the events being
        studied are removed from the estimation windows (default True). The placebo
        (:meth:`EventStudyResult.placebo`) sets False: its stacked pseudo events must
        not clean each other's windows, and it passes the real events as
        `exclude_events` instead.
    sign_by : {None, "direction", "surprise", "reaction:<SERIES>"}
        Sign each event (+1/-1) and multiply its changes and estimation residuals by
        it, so pooled CAARs and every cross-event test run on signed changes
        (:meth:`EventStudyResult.signed`, :mod:`backtest.eventstudy.signing`):
        by the events' ``direction`` column, by the sign of their ``surprise``, or by
        the sign of SERIES' own day-0 change (market-implied surprise; SERIES must be
        a column of `levels` and is left out of the study, since its signed day-0
        change is positive by construction). Events without a sign are excluded.
        Default None: unsigned.
    surprise_from : {None, "<column>", "reaction:<SERIES>"}
        Fill the events' ``surprise`` column from another events column, or with
        SERIES' day-0 change (in its unit: bp for yields), for ``sign_by="surprise"``
        and for :meth:`EventStudyResult.regress`. Default None: as given.
    kp_correlation : {"sums", "daily"}
        Residuals whose mean pairwise correlation the ``kolari_pynnonen`` test
        corrects for: ``"sums"`` (default) of n-day sums of estimation residuals, n
        the CAR window's length, which sees the one-session lag between markets that
        close at different hours; ``"daily"`` of daily residuals, as in Kolari and
        Pynnönen (2010). See :func:`backtest.eventstudy.stats.kolari_pynnonen`.

    Notes
    -----
    Why ``raw`` is the default: the project's series are yields (changes in basis
    points), FX rates and indices, studied over daily windows of a few days. Their
    expected daily change is close to zero, so zero is the natural benchmark, and the
    estimation-window mean of ``constant_mean`` mostly adds estimation noise (a trend
    over the past year is not a forecast of the event days). With daily data the
    mean-adjusted and market models differ little in power (Brown and Warner 1985).
    Pass ``model="constant_mean"`` to subtract the estimation-window mean, or
    ``"market"`` to remove a market's co-movement.

    The defaults of every field are read from
    :mod:`backtest.eventstudy.models` and :mod:`backtest.eventstudy.design`, where the
    config's :class:`~backtest.config.EventStudyConfig` reads them too, so the Python
    API and ``backtest run`` study the same design unless told otherwise
    (:meth:`from_config` builds the study of a config).

    References
    ----------
    Brown, S. J. and Warner, J. B. (1985), "Using daily stock returns: the case of
    event studies", *Journal of Financial Economics* 14, 3-31.

    Examples
    --------
    >>> from backtest import data, events
    >>> levels = data.load(["UST10Y", "SPX", "NKY"], start="2024-01-01",
    ...                    end="2025-06-30", offline=True)
    >>> ev = pd.DataFrame({"timestamp": [pd.Timestamp("2025-04-02 16:00",
    ...                    tz="America/New_York")], "label": ["Liberation Day"]})
    >>> res = EventStudy(model="raw").run(levels, ev)
    >>> res.day0.loc["2025-04-02"].dt.strftime("%Y-%m-%d").tolist()
    ['2025-04-03', '2025-04-03', '2025-04-03']
    """

    model: str = DEFAULT_MODEL
    estimation_window: tuple[int, int] = DEFAULT_ESTIMATION_WINDOW
    event_window: tuple[int, int] = DEFAULT_EVENT_WINDOW
    market: MarketSpec = None
    factors: tuple[str, ...] = field(default_factory=tuple)
    min_estimation: int = DEFAULT_MIN_ESTIMATION
    series: tuple[str, ...] | None = None
    allow_incomplete: bool = False
    market_alignment: str = DEFAULT_MARKET_ALIGNMENT
    dimson_lags: int = DEFAULT_DIMSON_LAGS
    estimation_exclude: str = DEFAULT_ESTIMATION_EXCLUDE
    exclude_events: pd.DataFrame | None = field(default=None, compare=False)
    session_guard: int = DEFAULT_SESSION_GUARD
    exclude_own_events: bool = True
    sign_by: str | None = signing.DEFAULT_SIGN_BY
    surprise_from: str | None = signing.DEFAULT_SURPRISE_FROM
    kp_correlation: str = DEFAULT_KP_CORRELATION

    def __post_init__(self) -> None:
        object.__setattr__(self, "factors", tuple(self.factors))
        object.__setattr__(self, "market", normalize_market(self.market))
        self._check_clock_options()
        if self.series is not None:
            object.__setattr__(self, "series", tuple(self.series))
        if self.model not in MODELS:
            raise DataValidationError(
                f"model must be one of {', '.join(MODELS)}; got {self.model!r}"
            )
        for name in ("estimation_window", "event_window"):
            win = getattr(self, name)
            if (
                not isinstance(win, Sequence)
                or len(win) != 2
                or not all(isinstance(v, int | np.integer) for v in win)
                or win[0] > win[1]
            ):
                raise DataValidationError(
                    f"{name} must be two integers (first, last) with first <= last; got {win!r}"
                )
            object.__setattr__(self, name, (int(win[0]), int(win[1])))
        e0, e1 = self.estimation_window
        w0, _ = self.event_window
        if e1 >= w0:
            raise DataValidationError(
                f"estimation_window {self.estimation_window} must end before the event "
                f"window {self.event_window} starts"
            )
        if self.model in MARKET_MODELS and not self.market:
            raise DataValidationError(f"model {self.model!r} needs market=<column of levels>")
        if self.kp_correlation not in KP_CORRELATIONS:
            raise DataValidationError(
                f"kp_correlation must be one of {', '.join(KP_CORRELATIONS)}; "
                f"got {self.kp_correlation!r}"
            )
        if self.model == "factor" and not self.factors:
            raise DataValidationError("model 'factor' needs factors=[<columns of levels>]")
        k = n_params(self.model, len(self.factors)) + 2 * self.dimson_lags
        if self.min_estimation <= k:
            raise DataValidationError(
                f"min_estimation must exceed the {k} estimated parameters; "
                f"got {self.min_estimation}"
            )
        if self.min_estimation > e1 - e0 + 1:
            raise DataValidationError(
                f"min_estimation={self.min_estimation} exceeds the {e1 - e0 + 1} days of "
                f"estimation_window {self.estimation_window}"
            )
        signing.check_sign_by(self.sign_by)
        signing.check_surprise_from(self.surprise_from)

    def _check_clock_options(self) -> None:
        """Validate market_alignment, dimson_lags, estimation_exclude, session_guard."""
        if self.market_alignment not in MARKET_ALIGNMENTS:
            raise DataValidationError(
                f"market_alignment must be one of {', '.join(MARKET_ALIGNMENTS)}; got "
                f"{self.market_alignment!r}"
            )
        lags = self.dimson_lags
        if isinstance(lags, bool) or not isinstance(lags, int | np.integer) or lags < 0:
            raise DataValidationError(f"dimson_lags must be an integer >= 0; got {lags!r}")
        object.__setattr__(self, "dimson_lags", int(lags))
        if lags and self.model != "market":
            raise DataValidationError(
                f"dimson_lags={lags} needs model 'market' (Dimson betas are market-model "
                f"slopes); got model {self.model!r}"
            )
        if self.estimation_exclude not in ESTIMATION_EXCLUDES:
            raise DataValidationError(
                f"estimation_exclude must be one of {', '.join(ESTIMATION_EXCLUDES)}; got "
                f"{self.estimation_exclude!r}"
            )
        if self.exclude_events is not None and not isinstance(self.exclude_events, pd.DataFrame):
            raise DataValidationError(
                "exclude_events must be an events DataFrame (backtest.events.load); got "
                f"{type(self.exclude_events).__name__}"
            )
        guard = self.session_guard
        if isinstance(guard, bool) or not isinstance(guard, int | np.integer) or guard < 0:
            raise DataValidationError(
                f"session_guard must be an integer >= 0 (minutes); got {guard!r}"
            )
        object.__setattr__(self, "session_guard", int(guard))

    @classmethod
    def from_config(cls, config: StudySettings, series: Sequence[str] | None = None) -> EventStudy:
        """The study a config's ``event_study`` section describes.

        Parameters
        ----------
        config : backtest.config.EventStudyConfig
            The ``event_study`` section of a run config (windows, tests and groups of
            the CAR tables are read by the pipeline, not by the study).
        series : sequence of str, optional
            Columns to study (a config's ``data.series``); default as in the
            constructor.

        Returns
        -------
        EventStudy

        Notes
        -----
        The events files of ``exclude_events`` are read here
        (:func:`backtest.events.load`).

        Examples
        --------
        >>> from backtest.config import EventStudyConfig
        >>> EventStudy.from_config(EventStudyConfig()) == EventStudy()
        True
        """
        from backtest import events as events_mod

        extra = None
        if config.exclude_events:
            frames = [events_mod.load(path) for path in config.exclude_events]
            extra = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        return cls(
            model=config.model,
            estimation_window=config.estimation_window,
            event_window=config.event_window,
            market=config.market,
            factors=config.factors,
            min_estimation=config.min_estimation,
            series=tuple(series) if series is not None else None,
            allow_incomplete=config.allow_incomplete,
            market_alignment=config.market_alignment,
            dimson_lags=config.dimson_lags,
            estimation_exclude=config.estimation_exclude,
            exclude_events=extra,
            session_guard=config.session_guard,
            sign_by=config.sign_by,
            surprise_from=config.surprise_from,
            kp_correlation=config.kp_correlation,
        )

    @property
    def regressors(self) -> tuple[str, ...]:
        """Columns used as market or factors by the model."""
        if self.model in MARKET_MODELS:
            return market_columns(self.market)
        return self.factors if self.model == "factor" else ()

    def run(
        self,
        levels: pd.DataFrame,
        events: pd.DataFrame,
        *,
        kinds: Mapping[str, str] | None = None,
        clocks: Mapping[str, tuple[str, str | dt.time]] | None = None,
        history: pd.DataFrame | None = None,
        executor: Executor | None = None,
        block_size: int = DEFAULT_BLOCK_SIZE,
        progress: Callable[[int, int], None] | None = None,
    ) -> EventStudyResult:
        """Run the study on `levels` around `events`.

        Parameters
        ----------
        levels : pandas.DataFrame
            Wide frame of levels as returned by :func:`backtest.data.load`.
            Changes are computed with :func:`backtest.data.reactions` on each
            series' own observations.
        events : pandas.DataFrame
            As returned by :func:`backtest.events.load`, or a frame with a tz-aware
            ``timestamp`` column and a ``label`` column.
        kinds : mapping, optional
            Kind (``yield``/``fx``/``index``) of columns not described by `levels`'
            provenance or the catalog.
        clocks : mapping, optional
            ``{column: (timezone, "HH:MM")}`` observation clock of columns not
            described by `levels`' provenance or the catalog.
        history : pandas.DataFrame, optional
            Longer levels of the same series (e.g. ``backtest.data.load(names)``
            without dates) against which the ``percentile`` of
            :meth:`EventStudyResult.reactions` ranks each move; default `levels`.
        executor : Executor, optional
            Run blocks of `block_size` series as separate tasks
            (:func:`backtest.execution.executor`, e.g. on Dask). Each series' numbers
            are independent of the others, so the result is the same; statistics that
            need all series (cross-series correlations, Benjamini-Hochberg) are computed
            from the gathered result.
        block_size : int
            Series per task when an `executor` is given.
        progress : callable, optional
            Called with (blocks done, blocks).

        Returns
        -------
        EventStudyResult

        Raises
        ------
        backtest.errors.DataValidationError
            `levels` is not a sorted frame of unique naive dates, or a studied,
            market or factor column is not numeric or has no observation
            (:func:`backtest.data.check_levels`); no events; unknown columns.

        Warns
        -----
        backtest.errors.RegressorLeftOutWarning
            A series named in `series` is the market or a factor of the model and
            is left out.
        """
        from backtest import events as events_mod

        where = "EventStudy.run"
        check_levels(levels, where=where, columns=())
        ev = events_mod.from_frame(events)
        if ev.empty:
            raise DataValidationError("events: no events to study")
        missing = [c for c in self.regressors if c not in levels.columns]
        if missing:
            raise DataValidationError(
                f"levels has no column {missing[0]!r} (needed as "
                f"{'market' if self.model in MARKET_MODELS else 'factor'}); "
                f"columns: {list(levels.columns)}"
            )
        notes: list[str] = []
        names = self.series or tuple(c for c in levels.columns if c not in self.regressors)
        if self.model in MARKET_MODELS:
            own = [n for n in names if market_of(self.market, n) == n]
        else:
            own = [n for n in names if n in self.regressors]
        if own:
            names = tuple(n for n in names if n not in own)
            role = "market" if self.model in MARKET_MODELS else "factor"
            note = (
                f"{', '.join(own)} left out of the study: it is the {role} of the "
                f"{self.model!r} model, so its abnormal change against itself is zero by "
                "construction"
            )
            notes.append(note)
            warnings.warn(note, RegressorLeftOutWarning, stacklevel=2)
        signer = self._signer
        if signer is not None and signer in names:
            names = tuple(n for n in names if n != signer)
            note = (
                f"{signer} left out of the study: the events are signed by its own day-0 "
                "change, so its signed day-0 change is positive by construction"
            )
            notes.append(note)
            if self.series is not None:
                warnings.warn(note, RegressorLeftOutWarning, stacklevel=2)
        unknown = [n for n in names if n not in levels.columns]
        if unknown:
            raise DataValidationError(
                f"series {unknown} not in levels; columns: {list(levels.columns)}"
            )
        if not names:
            raise DataValidationError(
                "no series to study"
                + (f" (the {', '.join(own)} series is the model's regressor)" if own else "")
            )
        check_levels(levels, where=where, columns=[*names, *self.regressors])
        used = list(dict.fromkeys([*names, *self.regressors]))
        # Checked just above, all columns of `levels` in order: no copy, no second check.
        whole = used == levels.columns.tolist()
        changes = data_reactions(levels if whole else levels[used], kinds, check=False)
        units = changes.attrs["backtest"]["units"]
        kinds_used = {n: _kind(levels, n, kinds) for n in names}
        extra = (
            events_mod.from_frame(self.exclude_events, where="exclude_events")
            if self.exclude_events is not None and self.estimation_exclude == "events"
            else None
        )
        mkinds = (
            {m: _kind(levels, m, kinds) for m in self.regressors}
            if self.model in MARKET_MODELS
            else {}
        )
        moves = {
            x: self._day0_change(levels, ev, x, kinds, clocks)
            for x in dict.fromkeys(
                signing.reaction_series(v) for v in (self.sign_by, self.surprise_from)
            )
            if x is not None
        }
        ev = self._with_surprise(ev, moves)
        if executor is None or len(names) <= block_size:
            panel = self._fitted_panel(levels, changes, ev, names, clocks, mkinds, extra)
        else:
            blocks = [list(names[i : i + block_size]) for i in range(0, len(names), block_size)]
            cols = list(dict.fromkeys([*names, *self.regressors]))
            lv, ch = _plain(levels[cols]), _plain(changes[cols])
            parts = executor.map(
                _study_block,
                [(self, b, clocks, mkinds, extra) for b in blocks],
                shared=(lv, ch, ev),
                progress=progress,
            )
            panel = concat_series(parts)
        if history is not None:
            lacking = [n for n in names if n not in history.columns]
            if lacking:
                raise DataValidationError(f"history has no column(s) {lacking}")
            check_levels(history, where=f"{where} (history)", columns=names)
            full = data_reactions(history[list(names)], kinds)
            panel = replace(
                panel, history={n: full[n].dropna().to_numpy(dtype="float64") for n in names}
            )
        design = StudyDesign(
            model=self.model,
            estimation_window=self.estimation_window,
            event_window=self.event_window,
            min_estimation=self.min_estimation,
            allow_incomplete=self.allow_incomplete,
            market=normalize_market(self.market),
            factors=self.factors,
            market_alignment=self.market_alignment,
            dimson_lags=self.dimson_lags,
            estimation_exclude=self.estimation_exclude,
            exclude_events=len(extra) if extra is not None else 0,
            session_guard=self.session_guard,
            surprise_from=self.surprise_from,
            kp_correlation=self.kp_correlation,
        )
        result = EventStudyResult(
            design=design,
            events=ev,
            series=tuple(names),
            units={n: units[n] for n in names},
            kinds=kinds_used,
            panel=panel,
            provenance=dict(levels.attrs.get("backtest", {}).get("series", {})),
            notes=tuple(notes),
            rerun=Rerun(study=self, levels=levels, kinds=kinds, clocks=clocks),
        )
        if self.sign_by is None:
            return result
        x = signing.reaction_series(self.sign_by)
        by: str | dict[str, float] = (
            self.sign_by
            if x is None
            else dict(zip(result.event_ids, moves[x].tolist(), strict=True))
        )
        return result.signed(by, name=self.sign_by)

    # Signing ----------------------------------------------------------------------
    @property
    def _signer(self) -> str | None:
        """The series whose own day-0 change signs the events, if any."""
        x = signing.reaction_series(self.sign_by)
        if x is None and self.sign_by == "surprise":
            x = signing.reaction_series(self.surprise_from)
        return x

    def _day0_change(
        self,
        levels: pd.DataFrame,
        ev: pd.DataFrame,
        name: str,
        kinds: Mapping[str, str] | None,
        clocks: Mapping[str, tuple[str, str | dt.time]] | None,
    ) -> np.ndarray:
        """Each event's day-0 change of `name` (its own session-aware day 0, its unit)."""
        if name not in levels.columns:
            raise DataValidationError(
                f"reaction:{name} (sign_by / surprise_from): levels has no column {name!r}; "
                f"columns: {list(levels.columns)}"
            )
        check_levels(levels, where=f"EventStudy.run (reaction:{name})", columns=[name])
        changes = data_reactions(levels[[name]], kinds)
        probe = replace(
            self,
            model="raw",
            market=None,
            factors=(),
            estimation_window=(-2, -1),
            event_window=(0, 0),
            min_estimation=1,
            series=(name,),
            sign_by=None,
            surprise_from=None,
            estimation_exclude="none",
            exclude_events=None,
        )
        panel = probe._panel(levels, changes, ev, [name], clocks)
        pos = panel.day0_pos[:, 0]
        move = panel.actual[:, 0, 0].copy()
        move[(pos <= 0) | (pos >= panel.lengths[0])] = np.nan
        return move

    def _with_surprise(self, ev: pd.DataFrame, moves: Mapping[str, np.ndarray]) -> pd.DataFrame:
        """The events with their ``surprise`` column filled as ``surprise_from`` says."""
        source = self.surprise_from
        if source is None:
            if self.sign_by == "surprise" and "surprise" not in ev.columns:
                raise DataValidationError(
                    "sign_by='surprise' needs a 'surprise' column in the events, or "
                    "surprise_from=<column> / 'reaction:<SERIES>'"
                )
            return ev
        x = signing.reaction_series(source)
        if x is not None:
            return ev.assign(surprise=moves[x])
        signing.signs_from_column(ev, source, where=f"surprise_from={source!r}")
        return ev.assign(surprise=pd.to_numeric(ev[source], errors="coerce").astype("float64"))

    # ------------------------------------------------------------------------------
    def _fitted_panel(self, *args: Any, **kwargs: Any) -> Panel:
        """:meth:`_panel`, then the per-pair GARCH(1,1) fits of model ``garch``."""
        panel = self._panel(*args, **kwargs)
        if self.model == "garch":
            from backtest.eventstudy.garch import apply_garch

            panel = apply_garch(panel)
        return panel

    def _panel(
        self,
        levels: pd.DataFrame,
        changes: pd.DataFrame,
        ev: pd.DataFrame,
        names: Sequence[str],
        clocks: Mapping[str, tuple[str, str | dt.time]] | None,
        mkinds: Mapping[str, str] | None = None,
        extra: pd.DataFrame | None = None,
    ) -> Panel:
        S, E = len(names), len(ev)
        market_model = self.model in MARKET_MODELS
        markets = [market_of(self.market, n) for n in names] if market_model else []
        regs = [] if market_model else list(self.regressors)
        F = 1 if market_model else len(regs)
        # Plain arrays: selecting columns of a frame deep-copies its attrs every time.
        missing = np.isnan(levels.to_numpy(dtype="float64"))
        all_changes = changes.to_numpy(dtype="float64")
        at_change = _positions(changes.columns, names)
        rg = (
            all_changes[:, _positions(changes.columns, regs)]
            if regs
            else np.empty((len(all_changes), 0))
        )
        stamps = levels.index.values.astype("datetime64[ns]")
        observed = ~missing[:, _positions(levels.columns, names)]
        lengths = observed.sum(axis=0)
        T = max(int(lengths.max()), 1)
        y2 = np.full((S, T), np.nan)
        f2 = np.full((F, S, T), np.nan)
        day0 = np.empty((E, S), dtype=np.int64)
        guarded = np.zeros((E, S), dtype=bool)
        local, timed, instants = event_arrays(ev)
        x_arrays = event_arrays(extra) if extra is not None else None
        day0_x = np.empty((len(extra) if extra is not None else 0, S), dtype=np.int64)
        need_obs = instants is not None or (x_arrays is not None and x_arrays[2] is not None)
        market_cache: dict[str, tuple[np.ndarray, np.ndarray, Clock, np.ndarray | None]] = {}
        times = _ObservationTimes(stamps)
        # Series observed on the same dates, with the same clock and market, share their
        # dates, day 0s and market plane: computed for the first, copied to the others.
        calendars = [bits.tobytes() for bits in np.packbits(observed, axis=0).T]
        own: dict[bytes, list[int]] = {}  # series observed on each calendar
        groups: dict[tuple[bytes, Clock | None, str | None], list[int]] = {}
        for s, name in enumerate(names):
            own.setdefault(calendars[s], []).append(s)
            clock = None
            if need_obs or (market_model and self.market_alignment == "asof"):
                clock = clock_of(levels, name, clocks)
            groups.setdefault(
                (calendars[s], clock, markets[s] if market_model else None), []
            ).append(s)
        rows_of = {cal: np.flatnonzero(observed[:, members[0]]) for cal, members in own.items()}
        # The dates of each calendar's observations, once per calendar.
        calendar_of = np.empty(S, dtype=np.intp)
        calendar_dates = np.full((len(own), T), np.datetime64("NaT"), dtype="datetime64[ns]")
        for g, (cal, members) in enumerate(own.items()):
            calendar_of[members] = g
            calendar_dates[g, : len(rows_of[cal])] = stamps[rows_of[cal]]
        for cal, members in own.items():
            rows = rows_of[cal]
            part = all_changes.T[at_change[members]]  # (members, dates): rows of the columns
            y2[members, : len(rows)] = part if len(rows) == len(stamps) else part[:, rows]
        infos: list[dict[str, Any]] = [{} for _ in names]
        for (cal, clock, market), members in groups.items():
            s, rest = members[0], members[1:]
            rows = rows_of[cal]
            n = len(rows)
            dates_ns = stamps[rows].astype("int64")
            obs = times.at(rows, clock) if need_obs and clock is not None else None
            if market_model:
                f2[0, s, :n], infos[s] = self._market_plane(
                    names[s], market, rows, times, clock, levels, all_changes,
                    changes.columns, clocks, mkinds or {}, market_cache,
                )  # fmt: skip
            else:
                f2[:, s, :n] = rg[rows].T
            day0[:, s] = day0_from_arrays(
                local, timed, instants, dates_ns, obs, guard=self.session_guard
            )
            if self.session_guard and instants is not None:
                plain = day0_from_arrays(local, timed, instants, dates_ns, obs)
                guarded[:, s] = timed & (plain != day0[:, s]) & (plain < n)
            if x_arrays is not None:
                day0_x[:, s] = day0_from_arrays(*x_arrays, dates_ns, obs, guard=self.session_guard)
            if rest:  # same dates, clock and market: the same dates, day 0s and market plane
                f2[:, rest, :n] = f2[:, s, None, :n]
                day0[:, rest], guarded[:, rest] = day0[:, s, None], guarded[:, s, None]
                day0_x[:, rest] = day0_x[:, s, None]
                for r in rest:
                    infos[r] = {**infos[s], "series": names[r]}
        alignment = infos if market_model else []
        null = np.array([m is None for m in markets], dtype=bool) if market_model else None
        if self.dimson_lags:
            f2 = lagged_planes(f2[0], lengths, self.dimson_lags)
        if null is not None and null.any():
            f2[:, null, :] = 0.0  # no market: the reduced model (see below)
        X2, off2, constant = design(self.model, f2)  # (F', S, T), (S, T)
        k = X2.shape[0] + int(constant)
        e0, e1 = self.estimation_window
        w0, w1 = self.event_window
        rel_est = np.arange(e0, e1 + 1)
        rel_win = np.arange(w0, w1 + 1)
        # design(): an offset only for market_adjusted; y - 0.0 is y, bit for bit.
        offset = off2 if self.model == "market_adjusted" else None
        target = y2 - off2 if offset is not None else y2
        # The span of each series' data: first to last observation with every model
        # input (a change and, for market/factor models, the regressors). A window day
        # outside it is "not in the data"; a regressor gap inside it is a missing day.
        usable = np.isfinite(target) & np.isfinite(X2).all(axis=0)
        has_any = usable.any(axis=1)
        span = np.stack(
            [
                np.where(has_any, usable.argmax(axis=1), 0),
                np.where(has_any, T - usable[:, ::-1].argmax(axis=1), 0),
            ],
            axis=1,
        ).astype(np.int64)
        start = np.clip(day0 + e0, 0, lengths[None, :])
        stop = np.clip(day0 + e1 + 1, 0, lengths[None, :])
        removed = np.zeros((E, S), dtype=np.int64)
        if self.estimation_exclude == "events":
            # One mask per series: an event's own window never overlaps its
            # estimation window, so dropping every event window's days removes exactly
            # the other events' days from each estimation window.
            own_day0 = day0 if self.exclude_own_events else day0[:0]
            mask = event_window_mask(np.concatenate([own_day0, day0_x]), lengths, T, (w0, w1))
            before = _window_counts(usable, start, stop)
            target = np.where(mask, np.nan, target)
            usable = usable & ~mask  # isfinite of the masked target: the same days
            removed = before - _window_counts(usable, start, stop)
        fit = fit_sums(window_sums(target, X2, constant, start, stop, usable=usable), k)
        k_series = np.full(S, k, dtype=np.int64)
        if null is not None and null.any() and self.model == "market":
            # Series without a market: the constant-mean model (alpha only), padded
            # to the k coefficients of the others with a zero beta and zero
            # rows/columns of (X'X)^-1, so leverage and residuals are the reduced
            # model's.
            red = fit_sums(
                window_sums(target[null], X2[:0, null], True, start[:, null], stop[:, null]), 1
            )
            beta_, xtx_, sigma2_, nobs_, ok_ = (np.array(a) for a in fit)
            beta_[:, null] = np.where(red.ok[..., None], 0.0, np.nan)
            beta_[:, null, 0] = red.beta[..., 0]
            xtx_[:, null] = np.where(red.ok[..., None, None], 0.0, np.nan)
            xtx_[:, null, 0, 0] = red.xtx_inv[..., 0, 0]
            sigma2_[:, null], nobs_[:, null], ok_[:, null] = red.sigma2, red.nobs, red.ok
            fit = Fit(beta_, xtx_, sigma2_, nobs_, ok_)
            k_series[null] = 1
        beta, xtx_inv, sigma2 = fit.beta, fit.xtx_inv, fit.sigma2
        y_win, normal, ar, var_ar, _, gap = event_window(
            y2, offset, X2, lengths, day0, rel_win, constant, beta, xtx_inv, sigma2
        )
        has_day0 = day0 < lengths[None, :]
        nobs = fit.nobs
        reasons = np.full((E, S), "", dtype=object)
        reasons[~fit.ok] = "estimation failed (rank-deficient regressors)"
        few = nobs < self.min_estimation
        reasons[few] = [
            f"only {int(v)} usable estimation days (min_estimation={self.min_estimation})"
            for v in nobs[few]
        ]
        first = day0 == 0
        if first.any():
            s_first = np.nonzero(first)[1]
            reasons[first] = [
                "no observation before the event: it falls on or before the series' first "
                f"observation ({str(calendar_dates[calendar_of[j], 0])[:10]}), so neither "
                "its day-0 change nor an estimation window is in the data"
                for j in s_first
            ]
        reasons[~has_day0] = "no observation after the event (series ends before it)"
        included = reasons == ""
        # All included (the usual case): the array astype(str) gives, without the scan.
        reasons = np.full((E, S), "", dtype="<U1") if included.all() else reasons.astype(str)
        day0_date = np.where(
            has_day0 & ~first,
            calendar_dates[calendar_of[None, :], np.clip(day0, 0, T - 1)],
            np.datetime64("NaT"),
        )
        history = {name: y2[s, : lengths[s]] for s, name in enumerate(names)}
        return Panel(
            rel_est=rel_est,
            rel_win=rel_win,
            day0_pos=day0,
            day0_date=day0_date.astype("datetime64[ns]", copy=False),
            included=included,
            reasons=reasons,
            actual=y_win,
            normal=normal,
            abnormal=ar,
            var_ar=var_ar,
            calendar_dates=calendar_dates,
            calendar_of=calendar_of,
            window_gap=gap,
            xtx_inv=xtx_inv,
            beta=beta,
            sigma2=sigma2,
            nobs=nobs,
            k=k,
            history=history,
            target=target,
            regressors=X2,
            constant=constant,
            lengths=lengths,
            span=span,
            k_series=k_series,
            removed=removed,
            guarded=guarded,
            alignment=tuple(alignment),
        )

    def _market_plane(
        self,
        name: str,
        market: str | None,
        rows: np.ndarray,
        times: _ObservationTimes,
        clock: Clock | None,
        levels: pd.DataFrame,
        all_changes: np.ndarray,
        change_columns: pd.Index,
        clocks: Mapping[str, tuple[str, str | dt.time]] | None,
        mkinds: Mapping[str, str],
        cache: dict[str, tuple[np.ndarray, np.ndarray, Clock, np.ndarray | None]],
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """The market change paired with each observation of one series, and its record.

        With ``market_alignment="asof"`` this is :func:`backtest.sessions.asof_changes`
        of the market onto the series' observation instants, computed on arrays: the
        market's rows, levels and instants are read once per market (`cache`) and the
        instants of every date once per clock (`times`). A series observed at the
        market's own clock is paired by date, which is the same pairing (one clock's
        instants are in date order), without computing instants.
        """
        info: dict[str, Any] = {
            "series": name,
            "market": market,
            "alignment": self.market_alignment if market else None,
            "series_clock": _clock_text(clock) if clock is not None else None,
            "market_clock": None,
            "lag_days": None,
            "dimson_lags": self.dimson_lags if market else 0,
        }
        if market is None:
            return np.zeros(len(rows)), info
        if self.market_alignment == "date":
            col = change_columns.get_loc(market)
            with contextlib.suppress(DataValidationError):
                info["market_clock"] = _clock_text(clock_of(levels, market, clocks))
            info["lag_days"] = 0.0
            return all_changes[rows, col], info
        if market not in cache:
            column = levels[market].to_numpy(dtype="float64")
            mrows = np.flatnonzero(~np.isnan(column))
            cache[market] = (mrows, column[mrows], clock_of(levels, market, clocks), None)
        mrows, mvalues, mclock, seen = cache[market]
        assert clock is not None
        info["market_clock"] = _clock_text(mclock)
        if mclock == clock:
            # One wall-clock time: the dates' instants are in date order (a UTC offset
            # moves by less than a day), so the latest market observation at each of the
            # series' instants is the latest at its date; rows are in date order.
            idx = np.searchsorted(mrows, rows, side="right") - 1
        else:
            if seen is None:
                seen = times.at(mrows, mclock)
                cache[market] = (mrows, mvalues, mclock, seen)
            idx = np.searchsorted(seen, times.at(rows, clock), side="right") - 1
        ok = idx >= 0
        if ok.any():
            paired = times.stamps[mrows[idx[ok]]]
            lag = (times.stamps[rows[ok]] - paired) / np.timedelta64(1, "D")
            info["lag_days"] = float(np.median(lag))
        kind = mkinds.get(market, "index")
        plane = _asof_change_values(mvalues, idx, kind)
        if plane is None:  # an error to report: the public function words it
            series = levels[market].dropna()
            dates = pd.DatetimeIndex(times.stamps[rows])
            return asof_changes(series, kind, mclock, clock, dates).to_numpy("float64"), info
        return plane, info


class _ObservationTimes:
    """:func:`backtest.sessions.observation_times` of the rows of one date index.

    The instants of all dates are converted once per clock and indexed by each
    series' rows. A clock whose local time is ambiguous on some date of the index (a
    repeated autumn hour, which :func:`observation_times` refuses) is converted per
    call on the rows asked for, so a series without that date is unaffected and one
    with it gets the same error as before.
    """

    def __init__(self, stamps: np.ndarray) -> None:
        self.stamps = stamps
        self._full: dict[Clock, np.ndarray | None] = {}

    def at(self, rows: np.ndarray, clock: Clock) -> np.ndarray:
        """``observation_times(dates[rows], clock).asi8``."""
        if clock not in self._full:
            try:
                full = observation_times(pd.DatetimeIndex(self.stamps), clock).asi8
            except ValueError:
                full = None
            self._full[clock] = full
        full = self._full[clock]
        if full is None:
            return observation_times(pd.DatetimeIndex(self.stamps[rows]), clock).asi8
        return full[rows]


def _asof_change_values(values: np.ndarray, idx: np.ndarray, kind: str) -> np.ndarray | None:
    """:func:`backtest.sessions.asof_changes` on arrays, or None if it would raise.

    `values` are the market's observed levels, `idx` the position of the latest one
    observed at each of the series' instants (-1: none yet). The carried levels are
    changed as :func:`backtest.data.reactions` changes a column (log for FX and
    indices, then the difference with the previous carried level, times 100), with the
    same floating-point operations, so the numbers are identical.
    """
    if kind not in REACTION_UNITS:
        return None
    carried = np.full(len(idx), np.nan)
    ok = idx >= 0
    carried[ok] = values[idx[ok]]
    if kind != "yield":
        if (carried[ok] <= 0).any():
            return None
        carried = np.log(carried)
    # Forward-fill, then lag one: the previous carried level (NaN before the first).
    last = np.where(np.isnan(carried), -1, np.arange(len(carried)))
    np.maximum.accumulate(last, out=last)
    previous = np.full(len(carried), np.nan)
    previous[1:] = np.where(last[:-1] >= 0, carried[np.maximum(last[:-1], 0)], np.nan)
    return (carried - previous) * 100.0


def _positions(index: pd.Index, names: Sequence[str]) -> np.ndarray:
    """Positions of `names` (all present) in a unique `index`: ``index.get_indexer``
    without its cost on string indexes (a dictionary of a few dozen names)."""
    at = {name: i for i, name in enumerate(index.tolist())}
    return np.array([at[name] for name in names], dtype=np.intp)


def _window_counts(usable: np.ndarray, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """``(E, S)`` usable days of each series in ``[start, stop)``."""
    S, T = usable.shape
    cum = np.zeros((S, T + 1), dtype=np.int64)
    np.cumsum(usable, axis=1, out=cum[:, 1:])
    s_idx = np.arange(S)[None, :]
    return cum[s_idx, stop] - cum[s_idx, start]


def _clock_text(clock: Clock) -> str:
    """``"Asia/Tokyo 15:30"``."""
    return f"{clock.timezone} {clock.obs_time.strftime('%H:%M')}"


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy without attrs except the series provenance (what a block task needs)."""
    out = frame.copy()
    out.attrs = {"backtest": {"series": dict(frame.attrs.get("backtest", {}).get("series", {}))}}
    return out


def _study_block(
    task: tuple[EventStudy, list[str], Any, dict[str, str], pd.DataFrame | None],
    levels: pd.DataFrame,
    changes: pd.DataFrame,
    events: pd.DataFrame,
) -> Panel:
    """The panel of one block of series (runs on a worker)."""
    study, names, clocks, mkinds, extra = task
    return study._fitted_panel(levels, changes, events, names, clocks, mkinds, extra)


def _kind(levels: pd.DataFrame, name: str, kinds: Mapping[str, str] | None) -> str:
    if kinds and name in kinds:
        return kinds[name]
    prov = levels.attrs.get("backtest", {}).get("series", {}).get(name, {})
    if "kind" in prov:
        return str(prov["kind"])
    return builtin_catalog()[name].kind


def __getattr__(name: str) -> Any:
    """``day0_positions`` was public here; it now lives in :mod:`backtest.sessions`."""
    if name == "day0_positions":
        from backtest import sessions

        warnings.warn(
            "backtest.eventstudy.study.day0_positions moved to "
            "backtest.sessions.day0_positions; import it from there",
            DeprecationWarning,
            stacklevel=2,
        )
        return sessions.day0_positions
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
