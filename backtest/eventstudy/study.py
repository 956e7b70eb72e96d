"""EventStudy: align events to each series' own sessions, fit normal models, compute ARs.

The work is vectorised over (event, series) pairs: each series' changes are laid in
a padded ``(S, T)`` array of its own observations, day 0 is found with one
``searchsorted`` per series, and windows are gathered with fancy indexing, so no
Python loop runs per pair.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
import pandas as pd

from backtest.data import reactions as data_reactions
from backtest.data.catalog import builtin_catalog
from backtest.data.validate import check_levels
from backtest.errors import DataValidationError, RegressorLeftOutWarning
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
    design,
    fit_windows,
    moments,
    n_params,
)
from backtest.eventstudy.panel import Panel, concat_series, gather
from backtest.eventstudy.placebo import Rerun
from backtest.eventstudy.policy import DEFAULT_KP_CORRELATION, KP_CORRELATIONS
from backtest.eventstudy.result import EventStudyResult
from backtest.execution import DEFAULT_BLOCK_SIZE, Executor
from backtest.sessions import clock_of, day0_from_arrays, observation_times

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
    def market(self) -> str | None: ...
    @property
    def factors(self) -> tuple[str, ...]: ...
    @property
    def min_estimation(self) -> int: ...
    @property
    def allow_incomplete(self) -> bool: ...
    @property
    def kp_correlation(self) -> str: ...


@dataclass(frozen=True)
class EventStudy:
    """An event study: model of normal behaviour, windows and minimum data.

    Parameters
    ----------
    model : {"raw", "constant_mean", "market", "market_adjusted", "factor"}
        Model of normal behaviour (see :mod:`backtest.eventstudy.models`). Default
        ``"raw"`` (zero expected change), the same default as a config's
        ``event_study.model`` (:data:`~backtest.eventstudy.models.DEFAULT_MODEL`); see
        Notes.
    estimation_window : tuple of int
        First and last relative day of the estimation window, in the series' own
        observations (default ``(-250, -11)``: ten sessions of gap before the event
        window).
    event_window : tuple of int
        First and last relative day of the event window (default ``(-5, 10)``).
    market : str, optional
        Column of `levels` holding the market series (``market`` and
        ``market_adjusted`` models).
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
    market: str | None = None
    factors: tuple[str, ...] = field(default_factory=tuple)
    min_estimation: int = DEFAULT_MIN_ESTIMATION
    series: tuple[str, ...] | None = None
    allow_incomplete: bool = False
    kp_correlation: str = DEFAULT_KP_CORRELATION

    def __post_init__(self) -> None:
        object.__setattr__(self, "factors", tuple(self.factors))
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
        k = n_params(self.model, len(self.factors))
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

        Examples
        --------
        >>> from backtest.config import EventStudyConfig
        >>> EventStudy.from_config(EventStudyConfig()) == EventStudy()
        True
        """
        return cls(
            model=config.model,
            estimation_window=config.estimation_window,
            event_window=config.event_window,
            market=config.market,
            factors=config.factors,
            min_estimation=config.min_estimation,
            series=tuple(series) if series is not None else None,
            allow_incomplete=config.allow_incomplete,
            kp_correlation=config.kp_correlation,
        )

    @property
    def regressors(self) -> tuple[str, ...]:
        """Columns used as market or factors by the model."""
        if self.model in MARKET_MODELS:
            return (self.market,) if self.market else ()
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
                f"{'market' if self.market in missing else 'factor'}); "
                f"columns: {list(levels.columns)}"
            )
        notes: list[str] = []
        names = self.series or tuple(c for c in levels.columns if c not in self.regressors)
        own = [n for n in names if n in self.regressors]
        if own:
            names = tuple(n for n in names if n not in self.regressors)
            role = "market" if self.model in MARKET_MODELS else "factor"
            note = (
                f"{', '.join(own)} left out of the study: it is the {role} of the "
                f"{self.model!r} model, so its abnormal change against itself is zero by "
                "construction"
            )
            notes.append(note)
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
        changes = data_reactions(levels[list(dict.fromkeys([*names, *self.regressors]))], kinds)
        units = changes.attrs["backtest"]["units"]
        kinds_used = {n: _kind(levels, n, kinds) for n in names}
        if executor is None or len(names) <= block_size:
            panel = self._panel(levels, changes, ev, names, clocks)
        else:
            blocks = [list(names[i : i + block_size]) for i in range(0, len(names), block_size)]
            cols = list(dict.fromkeys([*names, *self.regressors]))
            lv, ch = _plain(levels[cols]), _plain(changes[cols])
            parts = executor.map(
                _study_block,
                [(self, b, clocks) for b in blocks],
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
            market=self.market,
            factors=self.factors,
            kp_correlation=self.kp_correlation,
        )
        return EventStudyResult(
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

    # ------------------------------------------------------------------------------
    def _panel(
        self,
        levels: pd.DataFrame,
        changes: pd.DataFrame,
        ev: pd.DataFrame,
        names: Sequence[str],
        clocks: Mapping[str, tuple[str, str | dt.time]] | None,
    ) -> Panel:
        S, E = len(names), len(ev)
        regs = list(self.regressors)
        F = len(regs)
        # Plain arrays: selecting columns of a frame deep-copies its attrs every time.
        lv = levels.to_numpy(dtype="float64")[:, levels.columns.get_indexer(list(names))]
        all_changes = changes.to_numpy(dtype="float64")
        ch = all_changes[:, changes.columns.get_indexer(list(names))]
        rg = all_changes[:, changes.columns.get_indexer(regs)] if F else np.empty((len(ch), 0))
        stamps = levels.index.values.astype("datetime64[ns]")
        own = [np.flatnonzero(~np.isnan(lv[:, s])) for s in range(S)]
        lengths = np.array([len(o) for o in own])
        T = max(int(lengths.max()), 1)
        y2 = np.full((S, T), np.nan)
        f2 = np.full((F, S, T), np.nan)
        dates2 = np.full((S, T), np.datetime64("NaT"), dtype="datetime64[ns]")
        day0 = np.empty((E, S), dtype=np.int64)
        timed = ev["time_given"].to_numpy(dtype=bool)
        local = ev["date"].to_numpy(dtype="datetime64[ns]").astype("int64")
        instants = (
            pd.DatetimeIndex(ev["timestamp"]).tz_convert("UTC").as_unit("ns").asi8
            if timed.any()
            else None
        )
        for s, (name, rows) in enumerate(zip(names, own, strict=True)):
            n = len(rows)
            y2[s, :n] = ch[rows, s]
            f2[:, s, :n] = rg[rows].T
            dates2[s, :n] = stamps[rows]
            obs = None
            if instants is not None:
                ix = pd.DatetimeIndex(stamps[rows])
                obs = observation_times(ix, clock_of(levels, name, clocks)).asi8
            day0[:, s] = day0_from_arrays(local, timed, instants, stamps[rows].astype("int64"), obs)
        X2, off2, constant = design(self.model, f2)  # (F', S, T), (S, T)
        k = X2.shape[0] + int(constant)
        e0, e1 = self.estimation_window
        w0, w1 = self.event_window
        rel_est = np.arange(e0, e1 + 1)
        rel_win = np.arange(w0, w1 + 1)
        target = y2 - off2
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
        fit = fit_windows(moments(target, X2, constant), start, stop, k)
        y_win = gather(y2, lengths, day0, rel_win)
        off_win = gather(off2, lengths, day0, rel_win)
        x_reg = gather(X2, lengths, day0, rel_win)  # (F', E, S, W)
        planes = ([np.ones_like(off_win)] if constant else []) + list(x_reg)
        X_win = np.stack(planes, axis=-1) if planes else np.zeros((*off_win.shape, 0))
        X_win[np.isnan(off_win)] = np.nan
        d_win = gather(dates2, lengths, day0, rel_win)
        beta, xtx_inv, sigma2 = fit.beta, fit.xtx_inv, fit.sigma2
        normal = off_win.copy()
        lev = np.zeros_like(off_win)
        for i in range(k):
            normal += X_win[..., i] * beta[..., i, None]
            for j in range(k):
                lev += X_win[..., i] * xtx_inv[..., i, j, None] * X_win[..., j]
        ar = y_win - normal
        var_ar = sigma2[..., None] * (1.0 + lev)

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
                f"observation ({str(dates2[j, 0])[:10]}), so neither its day-0 change nor "
                "an estimation window is in the data"
                for j in s_first
            ]
        reasons[~has_day0] = "no observation after the event (series ends before it)"
        included = reasons == ""
        day0_date = np.where(
            has_day0 & ~first,
            dates2[np.arange(S)[None, :], np.clip(day0, 0, T - 1)],
            np.datetime64("NaT"),
        )
        history = {name: y2[s, : lengths[s]] for s, name in enumerate(names)}
        return Panel(
            rel_est=rel_est,
            rel_win=rel_win,
            day0_pos=day0,
            day0_date=day0_date.astype("datetime64[ns]"),
            included=included,
            reasons=reasons.astype(str),
            actual=y_win,
            normal=normal,
            abnormal=ar,
            var_ar=var_ar,
            dates=d_win.astype("datetime64[ns]"),
            x_win=X_win,
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
        )


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy without attrs except the series provenance (what a block task needs)."""
    out = frame.copy()
    out.attrs = {"backtest": {"series": dict(frame.attrs.get("backtest", {}).get("series", {}))}}
    return out


def _study_block(
    task: tuple[EventStudy, list[str], Any],
    levels: pd.DataFrame,
    changes: pd.DataFrame,
    events: pd.DataFrame,
) -> Panel:
    """The panel of one block of series (runs on a worker)."""
    study, names, clocks = task
    return study._panel(levels, changes, events, names, clocks)


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
