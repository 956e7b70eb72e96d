"""EventStudy: align events to each series' own sessions, fit normal models, compute ARs.

The work is vectorised over (event, series) pairs: each series' changes are laid in
a padded ``(S, T)`` array of its own observations, day 0 is found with one
``searchsorted`` per series, and windows are gathered with fancy indexing, so no
Python loop runs per pair.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from backtest.data import reactions as data_reactions
from backtest.data.catalog import builtin_catalog
from backtest.errors import DataValidationError
from backtest.eventstudy.models import MODELS, design, fit_ols, n_params
from backtest.eventstudy.result import EventStudyResult, Panel

__all__ = ["EventStudy", "day0_positions"]


@dataclass(frozen=True)
class EventStudy:
    """An event study: model of normal behaviour, windows and minimum data.

    Parameters
    ----------
    model : {"raw", "constant_mean", "market", "market_adjusted", "factor"}
        Model of normal behaviour (see :mod:`backtest.eventstudy.models`). ``raw``
        (zero expected change) is the natural choice for yields in basis points.
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
        or a factor.

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

    model: str = "constant_mean"
    estimation_window: tuple[int, int] = (-250, -11)
    event_window: tuple[int, int] = (-5, 10)
    market: str | None = None
    factors: tuple[str, ...] = field(default_factory=tuple)
    min_estimation: int = 100
    series: tuple[str, ...] | None = None

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
        if self.model in ("market", "market_adjusted") and not self.market:
            raise DataValidationError(f"model {self.model!r} needs market=<column of levels>")
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

    @property
    def regressors(self) -> tuple[str, ...]:
        """Columns used as market or factors by the model."""
        if self.model in ("market", "market_adjusted"):
            return (self.market,) if self.market else ()
        return self.factors if self.model == "factor" else ()

    def run(
        self,
        levels: pd.DataFrame,
        events: pd.DataFrame,
        *,
        kinds: Mapping[str, str] | None = None,
        clocks: Mapping[str, tuple[str, str | dt.time]] | None = None,
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

        Returns
        -------
        EventStudyResult
        """
        from backtest import events as events_mod

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
        names = self.series or tuple(c for c in levels.columns if c not in self.regressors)
        unknown = [n for n in names if n not in levels.columns]
        if unknown:
            raise DataValidationError(
                f"series {unknown} not in levels; columns: {list(levels.columns)}"
            )
        if not names:
            raise DataValidationError("no series to study")
        changes = data_reactions(levels[list(dict.fromkeys([*names, *self.regressors]))], kinds)
        units = changes.attrs["backtest"]["units"]
        kinds_used = {n: _kind(levels, n, kinds) for n in names}
        panel = self._panel(levels, changes, ev, names, clocks)
        return EventStudyResult(
            study=self,
            events=ev,
            series=tuple(names),
            units={n: units[n] for n in names},
            kinds=kinds_used,
            panel=panel,
            provenance=dict(levels.attrs.get("backtest", {}).get("series", {})),
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
        own = [levels[n].dropna().index for n in names]
        lengths = np.array([len(ix) for ix in own])
        T = int(lengths.max()) if S else 0
        regs = list(self.regressors)
        F = len(regs)
        y2 = np.full((S, T), np.nan)
        f2 = np.full((S, T, F), np.nan)
        dates2 = np.full((S, T), np.datetime64("NaT"), dtype="datetime64[ns]")
        day0 = np.empty((E, S), dtype=np.int64)
        for s, (name, ix) in enumerate(zip(names, own, strict=True)):
            n = len(ix)
            y2[s, :n] = changes[name].reindex(ix).to_numpy(dtype="float64")
            for j, reg in enumerate(regs):
                f2[s, :n, j] = changes[reg].reindex(ix).to_numpy(dtype="float64")
            dates2[s, :n] = ix.values.astype("datetime64[ns]")
            obs = _observation_times(levels, name, ix, clocks)
            day0[:, s] = day0_positions(ev, ix, obs)
        X2, off2 = design(self.model, f2)
        e0, e1 = self.estimation_window
        w0, w1 = self.event_window
        rel_est = np.arange(e0, e1 + 1)
        rel_win = np.arange(w0, w1 + 1)

        def gather(arr: np.ndarray, rel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            idx = day0[:, :, None] + rel[None, None, :]  # (E, S, n)
            inside = (idx >= 0) & (idx < lengths[None, :, None])
            safe = np.clip(idx, 0, max(T - 1, 0))
            s_idx = np.arange(S)[None, :, None]
            return arr[s_idx, safe], inside

        y_est, in_est = gather(y2, rel_est)
        X_est, _ = gather(X2, rel_est)
        off_est, _ = gather(off2, rel_est)
        y_est = np.where(in_est, y_est, np.nan)
        k = X2.shape[-1]
        P = E * S
        fit = fit_ols(
            y_est.reshape(P, -1),
            np.where(in_est[..., None], X_est, np.nan).reshape(P, len(rel_est), k),
            np.where(in_est, off_est, np.nan).reshape(P, -1),
        )
        y_win, in_win = gather(y2, rel_win)
        X_win, _ = gather(X2, rel_win)
        off_win, _ = gather(off2, rel_win)
        d_win, _ = gather(dates2, rel_win)
        y_win = np.where(in_win, y_win, np.nan)
        X_win = np.where(in_win[..., None], X_win, np.nan)
        off_win = np.where(in_win, off_win, np.nan)
        d_win = np.where(in_win, d_win, np.datetime64("NaT"))
        beta = fit.beta.reshape(E, S, k)
        normal = off_win + np.einsum("eswi,esi->esw", X_win, beta)
        ar = y_win - normal
        xtx_inv = fit.xtx_inv.reshape(E, S, k, k)
        lev = np.einsum("eswi,esij,eswj->esw", X_win, xtx_inv, X_win)
        sigma2 = fit.sigma2.reshape(E, S)
        var_ar = sigma2[..., None] * (1.0 + lev)

        has_day0 = day0 < lengths[None, :]
        nobs = fit.nobs.reshape(E, S)
        reasons = np.full((E, S), "", dtype=object)
        reasons[~fit.ok.reshape(E, S)] = "estimation failed (rank-deficient regressors)"
        few = nobs < self.min_estimation
        reasons[few] = [
            f"only {int(v)} usable estimation days (min_estimation={self.min_estimation})"
            for v in nobs[few]
        ]
        reasons[~has_day0] = "no observation after the event (series ends before it)"
        included = reasons == ""
        day0_date = np.where(
            has_day0,
            dates2[np.arange(S)[None, :], np.clip(day0, 0, max(T - 1, 0))],
            np.datetime64("NaT"),
        )
        history = {
            name: changes[name].reindex(ix).to_numpy(dtype="float64")
            for name, ix in zip(names, own, strict=True)
        }
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
            resid_est=fit.resid.reshape(E, S, len(rel_est)),
            history=history,
        )


def _kind(levels: pd.DataFrame, name: str, kinds: Mapping[str, str] | None) -> str:
    if kinds and name in kinds:
        return kinds[name]
    prov = levels.attrs.get("backtest", {}).get("series", {}).get(name, {})
    if "kind" in prov:
        return str(prov["kind"])
    return builtin_catalog()[name].kind


def _observation_times(
    levels: pd.DataFrame,
    name: str,
    dates: pd.DatetimeIndex,
    clocks: Mapping[str, tuple[str, str | dt.time]] | None,
) -> np.ndarray:
    """UTC observation instants (int64 ns) of a series' own dates."""
    from backtest.data.catalog import SourceSpec

    prov = levels.attrs.get("backtest", {}).get("series", {}).get(name, {})
    if clocks and name in clocks:
        zone, clock = clocks[name]
    elif "timezone" in prov and "obs_time" in prov:
        zone, clock = prov["timezone"], prov["obs_time"]
    else:
        try:
            spec = builtin_catalog()[name].default
        except KeyError:
            raise DataValidationError(
                f"observation clock of column {name!r} is unknown; load it with "
                "backtest.data.load or pass clocks={name: ('America/New_York', '16:00')}"
            ) from None
        zone, clock = spec.timezone, spec.obs_time
    src = SourceSpec.model_validate(
        {"provider": "file", "symbol": name, "timezone": zone, "obs_time": clock}
    )
    return src.observation_times(dates).as_unit("ns").asi8


def day0_positions(
    events: pd.DataFrame, dates: pd.DatetimeIndex, obs_times_ns: np.ndarray
) -> np.ndarray:
    """Position of day 0 of each event in a series' own observations.

    Parameters
    ----------
    events : pandas.DataFrame
        Canonical events (:func:`backtest.events.from_frame`).
    dates : pandas.DatetimeIndex
        The series' observation dates.
    obs_times_ns : numpy.ndarray
        UTC instants (int64 ns) at which those observations were taken.

    Returns
    -------
    numpy.ndarray
        ``(E,)`` positions; ``len(dates)`` where the series has no observation
        after the event.

    Notes
    -----
    An event with a time is matched to the first observation taken *strictly after*
    it. An event with a date only counts as happening during that date's session in
    its time zone: day 0 is the first observation dated on or after that date.
    """
    ts = pd.DatetimeIndex(events["timestamp"]).tz_convert("UTC").as_unit("ns").asi8
    local = events["date"].to_numpy(dtype="datetime64[ns]").astype("int64")
    timed = events["time_given"].to_numpy(dtype=bool)
    by_time = np.searchsorted(obs_times_ns, ts, side="right")
    by_date = np.searchsorted(dates.values.astype("datetime64[ns]").astype("int64"), local)
    return np.where(timed, by_time, by_date).astype(np.int64)
