"""EventStudyResult: abnormal changes, cumulative windows and their tests.

Results are immutable: everything comes in through the constructor, tables are
built on demand and handed out as copies.

Rules for imperfect data (each visible in the result):

* **Incomplete windows.** Relative days count each series' own trading days; a
  window day beyond the series' last observation (or before its first) is not in
  the data. A CAR window with such days is *incomplete*: its CAR is NaN (or, with
  ``EventStudy(allow_incomplete=True)``, the partial sum, still marked), it is listed
  by :meth:`EventStudyResult.incomplete` with the reason ``"window incomplete: k of
  n days"``, the ``complete`` and ``days_in_data`` columns of the reactions say so,
  and it is left out of the cross-event tests (their ``incomplete`` column counts
  it). A pair whose whole event window is incomplete is left out of the AAR unless
  ``allow_incomplete``; the ``window_complete`` column of :attr:`abnormal` marks it.
* **Missing days inside the data** (the series traded but a regressor did not: a
  holiday in the market's calendar) have no abnormal change. A CAR sums the days
  that have one, its variance counts only those days, and the ``missing`` column
  says how many were skipped: one gap never turns an event's results into NaN.
* **Overlapping event windows** of the same series are kept as they are (each event
  sees the other's reaction) and flagged in ``overlaps``; events sharing a day-0
  date are flagged in ``shared_day0`` and make independence-based cross-event tests
  invalid (see :meth:`EventStudyResult.tests`).
* **Exclusions** (no observation after the event, too few estimation days, a
  rank-deficient model) are listed in :attr:`EventStudyResult.exclusions` with
  their reason.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from backtest.distributions import t_sf
from backtest.errors import DataValidationError
from backtest.eventstudy import policy, signing
from backtest.eventstudy import stats as st
from backtest.eventstudy.design import StudyDesign
from backtest.eventstudy.panel import Panel
from backtest.eventstudy.placebo import (
    DEFAULT_PLACEBO_BOOTSTRAP_DRAWS,
    DEFAULT_PLACEBO_DESIGN,
    DEFAULT_PLACEBO_DRAWS,
    DEFAULT_PLACEBO_MATCH,
    PlaceboResult,
    Rerun,
    run_placebo,
)
from backtest.eventstudy.policy import DEFAULT_DRAWS, INDEPENDENCE_TESTS, TESTS

if TYPE_CHECKING:
    from backtest.report.plots import EventStudyPlots

# TESTS and INDEPENDENCE_TESTS are defined in policy.py and re-exported here.
__all__ = ["INDEPENDENCE_TESTS", "TESTS", "EventStudyResult"]

_TEST_COLUMNS = (
    "test",
    "series",
    "n",
    "statistic",
    "pvalue",
    "caar",
    "valid",
    "recommended",
    "note",
    "incomplete",
)


@dataclass(frozen=True)
class _Window:
    """Per-pair statistics of one CAR window (internal)."""

    mask: np.ndarray  # (W,) days of the event window in the sub-window
    n: np.ndarray  # (E, S) days with an abnormal change
    car: np.ndarray
    var_car: np.ndarray
    change: np.ndarray  # raw cumulative change
    days_in_data: np.ndarray  # (E, S) days of the window inside the series' data
    incomplete: np.ndarray  # (E, S) included pair whose window is not all in the data


class EventStudyResult:
    """Outcome of :meth:`backtest.eventstudy.EventStudy.run`.

    Everything comes in through the constructor and is read-only afterwards:
    assigning an attribute raises ``AttributeError``; tables are computed on demand
    (cached where they do not depend on arguments) and handed out as copies.
    :meth:`summary` (and ``str(result)``) prints the design, the reactions and the
    recommended cross-event tests.

    Attributes
    ----------
    design : StudyDesign
        Model, windows and data rules of the run.
    events : pandas.DataFrame
        The events, canonical form (:func:`backtest.events.from_frame`).
    series : tuple of str
        Studied series, in order.
    units : dict
        Unit of each series' changes (``"bp"`` or ``"% log return"``).
    provenance : dict
        Data provenance of the levels (source, checksum, dates per series).
    """

    _design: StudyDesign
    _events: pd.DataFrame
    _series: tuple[str, ...]
    _units: dict[str, str]
    _kinds: dict[str, str]
    _p: Panel
    _provenance: dict[str, Any]
    _notes: tuple[str, ...]
    _rerun: Rerun | None

    def __init__(
        self,
        *,
        design: StudyDesign,
        events: pd.DataFrame,
        series: tuple[str, ...],
        units: Mapping[str, str],
        kinds: Mapping[str, str],
        panel: Panel,
        provenance: Mapping[str, Any],
        notes: Sequence[str] = (),
        rerun: Rerun | None = None,
    ) -> None:
        init = object.__setattr__
        init(self, "_design", design)
        init(self, "_events", events.copy())
        init(self, "_series", tuple(series))
        init(self, "_units", dict(units))
        init(self, "_kinds", dict(kinds))
        init(self, "_p", panel)
        init(self, "_provenance", dict(provenance))
        init(self, "_notes", tuple(notes))
        init(self, "_rerun", rerun)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"EventStudyResult is read-only: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"EventStudyResult is read-only: cannot delete {name!r}")

    # Inputs ------------------------------------------------------------------------
    @property
    def design(self) -> StudyDesign:
        """Model, windows and data rules of the run (frozen)."""
        return self._design

    @property
    def events(self) -> pd.DataFrame:
        """The events studied (a copy)."""
        return self._events.copy()

    @property
    def series(self) -> tuple[str, ...]:
        """Studied series."""
        return self._series

    @property
    def units(self) -> dict[str, str]:
        """Unit of each series' changes."""
        return dict(self._units)

    @property
    def provenance(self) -> dict[str, Any]:
        """Provenance of the input levels."""
        return dict(self._provenance)

    @property
    def notes(self) -> tuple[str, ...]:
        """What the run changed in the design and why (e.g. a market series left out)."""
        return self._notes

    @property
    def event_ids(self) -> list[str]:
        """Event identifiers, in the order given."""
        return self._events["event"].astype(str).tolist()

    @property
    def plot(self) -> EventStudyPlots:
        """Charts of this result as plotly figures: ``res.plot.car()``, ``res.plot.caar()``
        (pooled, rebased at day -1) and ``res.plot.reactions()``
        (:class:`backtest.report.plots.EventStudyPlots`)."""
        from backtest.report.plots import EventStudyPlots

        return EventStudyPlots(self)

    def describe(self) -> dict[str, Any]:
        """Return a JSON-ready description of the run (model, windows, day 0, exclusions)."""
        return {
            **self._design.as_dict(),
            "notes": list(self._notes),
            "series": list(self._series),
            "units": self.units,
            "events": len(self._events),
            "day0": {
                ev: {k: (None if pd.isna(v) else v.date().isoformat()) for k, v in row.items()}
                for ev, row in self.day0.iterrows()
            },
            "exclusions": self.exclusions.to_dict(orient="records"),
            **(
                {"signs": dict(zip(self.event_ids, self._p.sign.tolist(), strict=True))}
                if self._p.sign is not None
                else {}
            ),
        }

    @cached_property
    def _resid(self) -> np.ndarray:
        return self._p.residuals()

    # Alignment and exclusions ------------------------------------------------------------
    @cached_property
    def _day0(self) -> pd.DataFrame:
        return pd.DataFrame(
            self._p.day0_date, index=pd.Index(self.event_ids, name="event"), columns=self._series
        )

    @property
    def day0(self) -> pd.DataFrame:
        """Day-0 date of each event (rows) in each series (columns); NaT if none."""
        return self._day0.copy()

    @cached_property
    def _exclusions(self) -> pd.DataFrame:
        e, s = np.nonzero(~self._p.included)
        ids = np.array(self.event_ids, dtype=object)
        return pd.DataFrame(
            {
                "event": ids[e].astype(str),
                "series": np.array(self._series, dtype=object)[s].astype(str),
                "reason": self._p.reasons[e, s],
            }
        )

    @property
    def exclusions(self) -> pd.DataFrame:
        """Excluded (event, series) pairs and why.

        These pairs are out of every window. A pair whose CAR window is not complete
        in the data is listed per window by :meth:`incomplete`.
        """
        return self._exclusions.copy()

    def incomplete(self, start: int, end: int) -> pd.DataFrame:
        """Included pairs whose CAR window `start`..`end` is not complete in the data.

        Returns
        -------
        pandas.DataFrame
            Columns ``event, series, days_in_data, window_days, kept, reason``:
            ``days_in_data`` of the ``window_days`` relative days (the series' own
            trading days) lie within its data; ``kept`` is True when the partial
            sum is reported (``allow_incomplete``), else the CAR is NaN. ``reason``
            reads ``"window incomplete: k of n days (...)"``. Every such pair is
            left out of the cross-event tests.
        """
        win = self._window(start, end)
        p = self._p
        e, s = np.nonzero(win.incomplete)
        n = int(win.mask.sum())
        kept = bool(self._design.allow_incomplete)
        reasons = []
        for i, j in zip(e, s, strict=True):
            k = int(win.days_in_data[i, j])
            lo, hi = p.span[j] - p.day0_pos[i, j]
            side = []
            if start < lo:
                side.append(f"the series' data start at day {int(lo):+d}")
            if end > hi - 1:
                side.append(f"the series' data end at day {int(hi - 1):+d}")
            reasons.append(
                f"window incomplete: {k} of {n} days ({' and '.join(side)}); "
                + ("partial sum kept (allow_incomplete)" if kept else "CAR not computed")
            )
        return pd.DataFrame(
            {
                "event": np.array(self.event_ids, dtype=object)[e].astype(str),
                "series": np.array(self._series, dtype=object)[s].astype(str),
                "days_in_data": win.days_in_data[e, s].astype(np.int64),
                "window_days": np.full(len(e), n, dtype=np.int64),
                "kept": np.full(len(e), kept, dtype=bool),
                "reason": np.array(reasons, dtype=object).astype(str),
            }
        )

    @cached_property
    def _parameters(self) -> pd.DataFrame:
        p = self._p
        e, s = np.nonzero(p.included)
        frame = pd.DataFrame(
            {
                "event": np.array(self.event_ids, dtype=object)[e].astype(str),
                "series": np.array(self._series, dtype=object)[s].astype(str),
                "nobs": p.nobs[e, s],
                "df": p.dof()[e, s],
                "sigma2": p.sigma2[e, s],
            }
        )
        for c, name in enumerate(self._design.coefficient_names):
            frame[name] = p.beta[e, s, c]
        if self._design.model == "market" and self._design.dimson_lags:
            lags = list(self._design.coefficient_names[1:])
            frame.insert(frame.columns.get_loc("alpha") + 1, "beta", frame[lags].sum(axis=1))
        return frame

    @property
    def parameters(self) -> pd.DataFrame:
        """Estimated normal model per included pair.

        Columns: ``event, series, nobs`` (usable estimation days ``L``), ``df``
        (``L - k``), ``sigma2`` (residual variance ``SSR / df``), then the
        coefficients (``mean``; ``alpha, beta``; or ``alpha`` and one per factor).
        With ``dimson_lags=k``: ``alpha``, ``beta`` (the Dimson beta, sum of the
        slopes) and the slopes ``beta_lag-k ... beta_lag+k``. A series without a
        market (``market={..., series: None}``) has ``beta`` 0 and ``df = L - 1``.
        Model ``garch``: ``mu, omega, alpha, beta`` of the GARCH(1,1) fit and
        ``fit_scale``, the power of ten the changes were scaled by for the optimiser
        (``sigma2`` is then the plain residual variance around ``mu``, ``df = L - 1``;
        see :mod:`backtest.eventstudy.garch`).
        """
        return self._parameters.copy()

    # Clock rules -----------------------------------------------------------------------
    @property
    def alignment(self) -> pd.DataFrame:
        """How each series' market change was paired with its days (market models).

        Returns
        -------
        pandas.DataFrame
            One row per series: ``series, market`` (None: no market), ``alignment``
            (``"asof"`` or ``"date"``), ``series_clock`` and ``market_clock``
            (``"Asia/Tokyo 15:30"``), ``lag_days`` (median, over the series' days,
            of the calendar days between its date and the date of the market
            observation paired with it: 1 for the Nikkei against New York as of,
            0 by date) and ``dimson_lags``. Empty for models without a market.
        """
        cols = [
            "series",
            "market",
            "alignment",
            "series_clock",
            "market_clock",
            "lag_days",
            "dimson_lags",
        ]
        rows = self._p.alignment
        frame = pd.DataFrame({c: pd.Series([r[c] for r in rows], dtype=object) for c in cols})
        return frame.astype({"lag_days": "float64", "dimson_lags": "int64"})

    @property
    def guarded(self) -> pd.DataFrame:
        """Pairs whose day 0 the near-close guard moved to the next observation.

        Returns
        -------
        pandas.DataFrame
            Events (rows) x series (columns), bool: the event came within
            ``design.session_guard`` minutes before the series' observation, so its
            day 0 (:attr:`day0`) is the observation after.
        """
        g = self._p.guarded
        values = g if g is not None else np.zeros(self._p.day0_pos.shape, dtype=bool)
        return pd.DataFrame(
            values.copy(), index=pd.Index(self.event_ids, name="event"), columns=self._series
        )

    @property
    def clean_windows(self) -> pd.DataFrame:
        """Estimation days removed by ``estimation_exclude="events"``, per pair.

        Returns
        -------
        pandas.DataFrame
            Columns ``event, series, usable_before`` (usable estimation days before
            exclusion), ``removed`` (those inside another event's window) and
            ``usable`` (after; the ``nobs`` of the fit, to which ``min_estimation``
            applies). All pairs, included or not; ``removed`` is 0 without exclusion.
        """
        p = self._p
        E, S = p.nobs.shape
        removed = p.removed if p.removed is not None else np.zeros((E, S), dtype=np.int64)
        e, s = np.divmod(np.arange(E * S), S)
        return pd.DataFrame(
            {
                "event": np.array(self.event_ids, dtype=object)[e].astype(str),
                "series": np.array(self._series, dtype=object)[s].astype(str),
                "usable_before": (p.nobs + removed)[e, s].astype(np.int64),
                "removed": removed[e, s].astype(np.int64),
                "usable": p.nobs[e, s].astype(np.int64),
            }
        )

    # Abnormal changes ----------------------------------------------------------------------
    def _abnormal(self) -> pd.DataFrame:
        p = self._p
        E, S, W = p.abnormal.shape
        # Codes in the smallest integer type Categorical.from_codes would pick anyway.
        e = np.repeat(np.arange(E, dtype=np.min_scalar_type(-max(E, 1))), S * W)
        s = np.broadcast_to(
            np.arange(S, dtype=np.min_scalar_type(-max(S, 1)))[None, :, None], (E, S, W)
        ).ravel()
        keep = np.repeat(p.included.ravel(), W)
        everything = bool(keep.all())

        def flat(values: np.ndarray) -> np.ndarray:
            out = values.reshape(E * S * W)
            return out if everything else out[keep]

        rel_day = np.tile(p.rel_win, E * S)  # a new array (ravel of one pair: a read-only view)
        if not everything:
            e, s, rel_day = e[keep], s[keep], rel_day[keep]

        def column(values: np.ndarray) -> np.ndarray:  # a copy: the frame owns its columns
            out = flat(values)
            return out.copy() if everything else out

        ar = column(p.abnormal)
        sd = np.sqrt(flat(p.var_ar))
        with np.errstate(invalid="ignore", divide="ignore"):  # sd = 0: perfect fit
            standardized = ar / sd
        w0, w1 = self._design.event_window
        complete = np.repeat((~self._incomplete(w0, w1)[1]).ravel(), W)
        dates = p.window_dates().reshape(E * S * W)  # gathered for this table
        # One array per column, taken as they are (copy=False): no block is built by
        # copying columns together, and no column is inserted into a built frame.
        columns = {
            "event": pd.Categorical.from_codes(  # the ids of event_ids, from their array
                e, dtype=pd.CategoricalDtype(pd.Index(self._events["event"].astype(str).array))
            ),
            "series": pd.Categorical.from_codes(
                s, dtype=pd.CategoricalDtype(pd.Index(list(self._series)))
            ),
            "rel_day": rel_day,
            "date": dates if everything else dates[keep],
            "actual": column(p.actual),
            "normal": column(p.normal),
            "abnormal": ar,
            "sd": sd,
            "standardized": standardized,
            "window_complete": complete if everything else complete[keep],
        }
        return pd.DataFrame(columns, copy=False)

    @property
    def abnormal(self) -> pd.DataFrame:
        """Long table of the event window, one row per event, series and relative day.

        Columns: ``event, series, rel_day, date, actual, normal, abnormal, sd,
        standardized, window_complete``. ``window_complete`` is False for a pair whose
        event window runs beyond the series' data (those days have NaN; see
        :meth:`incomplete`). ``actual`` is the change in the series' unit (:attr:`units`),
        ``normal`` the model's expected change, ``abnormal`` their difference, ``sd``
        its forecast-error standard deviation. Excluded pairs are absent. Built
        anew on each access (the result itself is never modified).
        """
        return self._abnormal()

    def aar(self) -> pd.DataFrame:
        """Average abnormal change per relative day (rows) and series (columns).

        Averages over the same events on every relative day: a pair whose event
        window is not complete in the data is left out (listed by
        ``incomplete(*design.event_window)``), so a partial event does not change the
        composition of the average part way along the path. With
        ``allow_incomplete`` those pairs are averaged on the days they have.
        """
        p = self._p
        keep = p.included.copy()
        if not self._design.allow_incomplete:
            w0, w1 = self._design.event_window
            keep &= ~self._window_cached(w0, w1).incomplete
        ar = np.where(keep[..., None], p.abnormal, np.nan)
        with warnings.catch_warnings():  # all-NaN days give NaN, not a warning
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(ar, axis=0)  # (S, W)
        return pd.DataFrame(mean.T, index=pd.Index(p.rel_win, name="rel_day"), columns=self._series)

    # Windows ------------------------------------------------------------------------------
    def _window(self, start: int, end: int) -> _Window:
        w0, w1 = self._design.event_window
        if not (isinstance(start, int | np.integer) and isinstance(end, int | np.integer)):
            raise DataValidationError(f"CAR window must be two integers, got ({start!r}, {end!r})")
        if not (w0 <= start <= end <= w1):
            raise DataValidationError(
                f"CAR window ({start}, {end}) must lie inside the event window ({w0}, {w1}) "
                "with start <= end"
            )
        return self._window_cached(int(start), int(end))

    def _incomplete(self, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        """``(E, S)`` days of ``[start, end]`` inside each series' data, and whether an
        included pair's window ``[start, end]`` runs outside it (``start <= end``, inside
        the event window)."""
        p = self._p
        lo = np.maximum(p.day0_pos + start, p.span[None, :, 0])
        hi = np.minimum(p.day0_pos + end + 1, p.span[None, :, 1])
        days_in_data = np.maximum(hi - lo, 0)
        return days_in_data, p.included & (days_in_data < end - start + 1)

    def _window_cached(self, start: int, end: int) -> _Window:
        cache = self.__dict__.setdefault("_windows", {})
        if (start, end) in cache:
            return cache[(start, end)]
        p = self._p
        mask = (p.rel_win >= start) & (p.rel_win <= end)
        days_in_data, incomplete = self._incomplete(start, end)
        use = p.included & ~(incomplete & (not self._design.allow_incomplete))
        avail = np.isfinite(p.abnormal) & mask & use[..., None]
        n = avail.sum(axis=-1)
        car = np.where(n > 0, np.where(avail, p.abnormal, 0.0).sum(axis=-1), np.nan)
        change = np.where(n > 0, np.where(avail, p.actual, 0.0).sum(axis=-1), np.nan)
        xsum = np.where(avail[..., None], p.x_win, 0.0).sum(axis=2)
        quad = np.einsum("esi,esij,esj->es", xsum, p.xtx_inv, xsum) if p.k else 0.0
        var_car = np.where(n > 0, p.sigma2 * (n + quad), np.nan)
        if p.cond_sd is not None:  # garch: the sum of the days' variance forecasts
            var_car = np.where(n > 0, np.where(avail, p.var_ar, 0.0).sum(axis=-1), np.nan)
        win = _Window(
            mask=mask,
            n=n,
            car=car,
            var_car=var_car,
            change=change,
            days_in_data=days_in_data,
            incomplete=incomplete,
        )
        cache[(start, end)] = win
        return win

    def car(self, start: int, end: int) -> pd.DataFrame:
        """Cumulative abnormal change over relative days `start`..`end` (inclusive).

        Returns
        -------
        pandas.DataFrame
            Rows: events in the order given; columns: series. NaN for excluded pairs
            and for windows not complete in the data (:meth:`incomplete`; with
            ``allow_incomplete`` the partial sum).
        """
        win = self._window(start, end)
        return pd.DataFrame(
            win.car, index=pd.Index(self.event_ids, name="event"), columns=self._series
        )

    def reactions(self, start: int, end: int) -> pd.DataFrame:
        """Per-event statistics of the CAR over `start`..`end`, one row per event and series.

        Returns
        -------
        pandas.DataFrame
            Columns:

            ``event, series, label, day0, unit``
                identification; ``day0`` is the series' day-0 date.
            ``car``
                cumulative abnormal change (sum of the window's ARs).
            ``change``
                raw cumulative change over the same days.
            ``sd_car, t, pvalue``
                forecast-error standard deviation of the CAR (MacKinlay 1997),
                ``t = car / sd_car`` and its two-sided p-value from Student's t with
                ``L - k`` degrees of freedom (model ``garch``: ``sd_car`` from the
                conditional variance forecasts, p-value from the normal).
            ``empirical_pvalue``
                share of all same-length windows of the estimation residuals whose
                absolute sum is at least ``|car|`` (two-sided, rank based).
            ``sigma_move``
                ``car / (s * sqrt(n))``: the CAR in units of the estimation-window
                daily standard deviation, without the parameter-uncertainty term.
            ``percentile``
                percent of all same-length windows of the series' whole history
                whose raw cumulative change is <= ``change``.
            ``bhar``
                buy-and-hold abnormal return in percent (FX and indices; NaN for
                yields): ``100 (prod(1 + R_t) - prod(1 + N_t))`` with simple
                returns from the log changes.
            ``pvalue_bh``
                Benjamini-Hochberg adjusted ``pvalue`` over all rows of the table.
            ``n, missing, overlaps, shared_day0``
                days with an AR, days skipped, other events whose event window
                overlaps this one in the same series, and other events with the
                same day-0 date.
            ``complete, days_in_data``
                whether the whole window lies within the series' data, and how
                many of its days do. An incomplete window has NaN statistics (``n``
                0) unless ``allow_incomplete`` keeps the partial sum
                (:meth:`incomplete`).
        """
        p = self._p
        win = self._window(start, end)
        E, S = p.included.shape
        length = end - start + 1
        sd = np.sqrt(win.var_car)
        t = win.car / sd
        df = self._dof()
        pval = 2.0 * t_sf(np.abs(t), np.maximum(df, 1))
        sigma_move = win.car / np.sqrt(p.sigma2 * win.n)
        emp = self._empirical(win.car, win.n)
        pct = np.full((E, S), np.nan)
        for j, name in enumerate(self._series):
            hist = _rolling_sums(p.history[name], length)
            pct[:, j] = _percentile(win.change[:, j], hist)
            if p.sign is not None:  # a signed change ranks among history signed the same way
                neg = p.sign < 0
                pct[neg, j] = _percentile(win.change[neg, j], -hist)
        bhar = self._bhar(win)
        inc = p.included
        e, s = np.nonzero(inc)
        rows = pd.DataFrame(
            {
                "event": np.array(self.event_ids, dtype=object)[e].astype(str),
                "series": np.array(self._series, dtype=object)[s].astype(str),
                "label": self._events["label"].astype(str).to_numpy()[e],
                "day0": p.day0_date[e, s],
                "unit": [self._units[self._series[j]] for j in s],
                "car": win.car[e, s],
                "change": win.change[e, s],
                "sd_car": sd[e, s],
                "t": t[e, s],
                "pvalue": pval[e, s],
                "empirical_pvalue": emp[e, s],
                "sigma_move": sigma_move[e, s],
                "percentile": pct[e, s],
                "bhar": bhar[e, s],
                "n": win.n[e, s],
                "missing": (win.mask.sum() - win.n)[e, s],
            }
        )
        complete = ~win.incomplete[e, s]
        days_in_data = win.days_in_data[e, s]
        rows["pvalue_bh"] = st.benjamini_hochberg(rows["pvalue"].to_numpy())
        overlaps, shared = self._flags
        rows["overlaps"] = [overlaps[i][j] for i, j in zip(e, s, strict=True)]
        rows["shared_day0"] = [shared[i][j] for i, j in zip(e, s, strict=True)]
        rows["complete"] = complete
        rows["days_in_data"] = days_in_data.astype(np.int64)
        return rows

    def _dof(self) -> np.ndarray:
        """``(E, S)`` degrees of freedom of each pair's standardised ARs: ``L - k``, or
        ``inf`` for ``garch`` (its AR variance, a forecast, is treated as known)."""
        p = self._p
        if p.cond_sd is not None:
            return np.full(p.nobs.shape, np.inf)
        return p.dof().astype(float)

    def _empirical(self, car: np.ndarray, n: np.ndarray) -> np.ndarray:
        p = self._p
        resid_est = self._resid
        E, S, L0 = resid_est.shape
        out = np.full((E, S), np.nan)
        for length in np.unique(n[p.included & (n > 0)]):
            length = int(length)
            if length > L0:
                continue
            windows = sliding_window_view(resid_est, length, axis=-1).sum(axis=-1)
            valid = np.isfinite(windows)
            sel = p.included & (n == length) & np.isfinite(car)
            exceed = (np.abs(windows) >= (np.abs(car) - st.tie_tolerance(car))[..., None]) & valid
            count = valid.sum(axis=-1)
            value = (1.0 + exceed.sum(axis=-1)) / (1.0 + count)
            out = np.where(sel & (count > 0), value, out)
        return out

    def _bhar(self, win: _Window) -> np.ndarray:
        p = self._p
        out = np.full(p.included.shape, np.nan)
        price = np.array([self._kinds[n] != "yield" for n in self._series])
        if not price.any():
            return out
        avail = np.isfinite(p.abnormal) & win.mask & p.included[..., None]
        real = np.where(avail, np.log1p(np.expm1(p.actual / 100.0)), 0.0).sum(axis=-1)
        norm = np.where(avail, p.normal / 100.0, 0.0).sum(axis=-1)
        bhar = 100.0 * (np.exp(real) - np.exp(norm))
        return np.where(price[None, :] & (win.n > 0), bhar, np.nan)

    @cached_property
    def _flags(self) -> tuple[list[list[str]], list[list[str]]]:
        """Other events whose window overlaps / whose day 0 is the same, per pair."""
        p = self._p
        E, S = p.included.shape
        span = int(p.rel_win[-1] - p.rel_win[0])
        ids = self.event_ids
        overlaps = [["" for _ in range(S)] for _ in range(E)]
        shared = [["" for _ in range(S)] for _ in range(E)]
        for j in range(S):
            pos = p.day0_pos[:, j]
            inc = p.included[:, j]
            close = (np.abs(pos[:, None] - pos[None, :]) <= span) & inc[:, None] & inc[None, :]
            same = (pos[:, None] == pos[None, :]) & inc[:, None] & inc[None, :]
            np.fill_diagonal(close, False)
            np.fill_diagonal(same, False)
            for i in np.nonzero(close.any(axis=1))[0]:
                overlaps[i][j] = ",".join(ids[m] for m in np.nonzero(close[i])[0])
            for i in np.nonzero(same.any(axis=1))[0]:
                shared[i][j] = ",".join(ids[m] for m in np.nonzero(same[i])[0])
        return overlaps, shared

    # Cross-event tests --------------------------------------------------------------------------
    def _members(
        self, groups: Mapping[str, Sequence[str]] | None, where: str
    ) -> list[tuple[str, list[int]]]:
        """Each studied series alone, then each group: ``(name, series positions)``.

        Raises
        ------
        DataValidationError
            A group names a series that is not studied (`where` names the caller).
        """
        out = [(name, [j]) for j, name in enumerate(self._series)]
        for gname, members in (groups or {}).items():
            bad = [m for m in members if m not in self._series]
            if bad:
                raise DataValidationError(
                    f"{where}: group {gname!r} names unknown series {bad}; studied: "
                    f"{list(self._series)}"
                )
            out.append((gname, [self._series.index(m) for m in members]))
        return out

    def tests(
        self,
        start: int,
        end: int,
        *,
        groups: Mapping[str, Sequence[str]] | None = None,
        draws: int = DEFAULT_DRAWS,
        seed: int = 0,
        events: Sequence[str] | np.ndarray | pd.Series | None = None,
    ) -> pd.DataFrame:
        """Cross-event tests of the CAR over `start`..`end`.

        For each series, the tests run across its events. For each entry of
        `groups` (``{"ust": ["UST2Y", "UST10Y"]}``) they run across every (event,
        series) pair of the group, on standardised quantities only (units differ).

        Parameters
        ----------
        start, end : int
            CAR window in relative days.
        groups : mapping of str to sequence of str, optional
            Pooled groups of series.
        draws : int
            Resampling draws of the ``bootstrap`` test.
        seed : int
            Seed of the resampling.
        events : sequence of str or boolean array, optional
            Test only these events (ids, or a mask over :attr:`event_ids`), e.g. one
            group of events: ``res.tests(0, 1, events=res.events["direction"] == 1)``
            (a config's ``event_study.split_by``). Default: every event.

        Returns
        -------
        pandas.DataFrame
            Columns ``test, series, n, statistic, pvalue, caar, valid, recommended,
            note, incomplete``. ``incomplete`` counts the (event, series) pairs left
            out because their window is not complete in the data (:meth:`incomplete`);
            ``n`` counts those tested. ``series`` is the series or group name.
            ``caar`` is the mean CAR (in the series' unit; the mean standardised CAR
            for groups).
            ``valid`` is False for a test whose assumptions the design breaks: when
            events share a day-0 date (one date, many markets), tests assuming
            independent events over-reject and are marked invalid; the
            clustering-robust tests (``kolari_pynnonen``, ``portfolio`` and the
            date-clustered ``bootstrap``) stay valid. ``recommended`` marks the
            test to report: ``bmp`` without shared dates, ``kolari_pynnonen`` with
            them (the choices whose size held in the Brown-Warner simulation on the
            snapshot, see benchmarks/README.md). The note says why.

        Notes
        -----
        Tests, their statistics and references are documented in
        :mod:`backtest.eventstudy.stats`; the rule for ``valid``, ``recommended``
        and ``note`` is :func:`backtest.eventstudy.policy.verdicts`.
        """
        win = self._window(start, end)
        E = self._p.included.shape[0]
        chosen = (
            list(range(E))
            if events is None
            else np.flatnonzero(signing.event_mask(self.event_ids, events)).tolist()
        )
        rows: list[dict[str, Any]] = []
        for name, cols in self._members(groups, "tests"):
            pairs = [(i, j) for j in cols for i in chosen]
            rows += self._group_tests(name, pairs, win, draws=draws, seed=seed)
        if self._design.sign_by is not None:  # every row says the CARs are signed
            for row in rows:
                row["note"] = f"CARs signed by {self._design.sign_by}" + (
                    f"; {row['note']}" if row["note"] else ""
                )
        return pd.DataFrame(rows, columns=list(_TEST_COLUMNS))

    def pair_tests(
        self,
        pairs: Sequence[tuple[str, str]],
        start: int,
        end: int,
        *,
        name: str = "pairs",
        shift_sigma: float = 0.0,
        draws: int = DEFAULT_DRAWS,
        seed: int = 0,
    ) -> pd.DataFrame:
        """Cross-event tests over an arbitrary set of (event, series) pairs.

        :meth:`tests` is this method applied to each series and group. Pairs from
        more than one series are pooled on standardised quantities.

        Parameters
        ----------
        pairs : sequence of (str, str)
            ``(event id, series)`` pairs; excluded pairs are skipped.
        start, end : int
            CAR window in relative days.
        name : str
            Value of the ``series`` column of the output.
        shift_sigma : float
            For power studies: add ``shift_sigma`` estimation-window standard
            deviations to every pair's abnormal change on day 0 (requires day 0 in
            the window). 0 (default) tests the data as they are.
        draws, seed : int
            Resampling draws and seed of the ``bootstrap`` test.

        Returns
        -------
        pandas.DataFrame
            As :meth:`tests`.
        """
        win = self._window(start, end)
        ids = {ev: i for i, ev in enumerate(self.event_ids)}
        try:
            idx = [(ids[ev], self._series.index(s)) for ev, s in pairs]
        except (KeyError, ValueError) as exc:
            raise DataValidationError(f"pair_tests: unknown event or series in {exc}") from None
        if shift_sigma and not (start <= 0 <= end):
            raise DataValidationError("pair_tests: shift_sigma needs day 0 inside the window")
        rows = self._group_tests(name, idx, win, draws=draws, seed=seed, shift=shift_sigma)
        return pd.DataFrame(rows, columns=list(_TEST_COLUMNS))

    def placebo(
        self,
        window: tuple[int, int] | None = None,
        *,
        groups: Mapping[str, Sequence[str]] | None = None,
        draws: int = DEFAULT_PLACEBO_DRAWS,
        match: Sequence[str] = DEFAULT_PLACEBO_MATCH,
        seed: int = 0,
        design: str = DEFAULT_PLACEBO_DESIGN,
        level: float = 0.05,
        bootstrap_draws: int = DEFAULT_PLACEBO_BOOTSTRAP_DRAWS,
        shift_sigma: float = 0.0,
        progress: Callable[[int, int], None] | None = None,
    ) -> PlaceboResult:
        """Placebo study: empirical size of each test and empirical p-values of the observed ones.

        Draws `draws` sets of pseudo-event dates from the studied series' own history
        (one pseudo date per real event, matched on the weekday of day 0 and the
        pre-event volatility decile), runs them through the same study design in one
        stacked run and computes every test of :meth:`tests` (per series and per
        group) on each draw. See :mod:`backtest.eventstudy.placebo` for the candidate
        dates, the matching and the two designs.

        Parameters
        ----------
        window : (int, int), optional
            CAR window; default ``(0, last day of the event window)`` as :meth:`summary`.
        groups : mapping of str to sequence of str, optional
            Pooled groups, as in :meth:`tests`.
        draws : int
            Pseudo-event draws (default 1000).
        match : sequence of {"weekday", "volatility"}
            What each pseudo date shares with its real event; ``()`` for none.
        seed : int
            Seed of the draws (and of the bootstrap test inside each draw).
        design : {"shared", "independent"}
            ``"shared"`` (default, like the real events): the series of a draw share
            each pseudo date; ``"independent"``: each series its own dates.
        level : float
            Level of the ``size`` column (``size_5pct`` is always at 5%).
        bootstrap_draws : int
            Resamples of the ``bootstrap`` test inside each draw (default 199).
        shift_sigma : float
            For power studies: add this many estimation-window standard deviations to
            each pseudo event's day-0 abnormal change (0, the default, is the null).
        progress : callable, optional
            Called with (chunks done, chunks) as the stacked runs progress.

        Returns
        -------
        PlaceboResult
            ``table`` (per test and series/group: observed statistic and p-value,
            ``empirical_pvalue = (1 + count) / (1 + draws)`` with ``count`` the draws
            with ``|statistic|`` at least the observed one, ``size_5pct``, ``size``),
            every draw's ``statistics`` and the drawn ``dates``.

        Raises
        ------
        backtest.errors.DataValidationError
            The result was not made by :meth:`EventStudy.run` (it has no data to
            rerun), or a setting is out of range, or no candidate date exists.

        References
        ----------
        Brown, S. J. and Warner, J. B. (1985), "Using daily stock returns: the case of
        event studies", *Journal of Financial Economics* 14, 3-31.

        Examples
        --------
        >>> from backtest import data
        >>> from backtest.eventstudy import EventStudy
        >>> from backtest.eventstudy.placebo import pseudo_events
        >>> levels = data.load(["UST10Y", "SPX"], start="2023-01-01", end="2025-06-30",
        ...                    offline=True)
        >>> ev = pseudo_events(pd.to_datetime(["2025-04-03", "2025-04-09"]), ["lib", "pause"])
        >>> res = EventStudy(model="raw").run(levels, ev)
        >>> pl = res.placebo((0, 1), draws=50, seed=0)
        >>> pl.table.columns.tolist()[:6]
        ['test', 'series', 'statistic', 'pvalue', 'empirical_pvalue', 'size_5pct']
        >>> bool(pl.table["empirical_pvalue"].between(1 / 51, 1).all())
        True
        """
        if self._rerun is None:
            raise DataValidationError(
                "placebo: this result carries no data to rerun the study on pseudo events "
                "(it was not made by EventStudy.run); run the study again with "
                "EventStudy.run(levels, events) and call placebo on that result"
            )
        if window is None:
            window = (0, self._design.event_window[1])
        start, end = window
        self._window(start, end)  # validates the window
        self._members(groups, "placebo")  # validates the groups
        return run_placebo(
            self,
            self._rerun,
            window=(int(start), int(end)),
            groups=groups,
            draws=draws,
            match=match,
            seed=seed,
            design=design,
            level=level,
            bootstrap_draws=bootstrap_draws,
            shift_sigma=shift_sigma,
            progress=progress,
        )

    def _group_tests(
        self,
        name: str,
        pairs: list[tuple[int, int]],
        win: _Window,
        *,
        draws: int,
        seed: int,
        shift: float = 0.0,
    ) -> list[dict[str, Any]]:
        p = self._p
        cand = [(i, j) for i, j in pairs if p.included[i, j]]
        left = [(i, j) for i, j in cand if win.incomplete[i, j]]
        pairs = [(i, j) for i, j in cand if not win.incomplete[i, j] and win.n[i, j] > 0]
        left_note = ""
        if left:
            multi = len({j for _, j in cand}) > 1
            named = [self.event_ids[i] + (f"/{self._series[j]}" if multi else "") for i, j in left]
            shown = ", ".join(named[:5]) + (f" and {len(named) - 5} more" if len(named) > 5 else "")
            left_note = (
                f"{len(left)} incomplete window{'s' if len(left) > 1 else ''} left out ({shown})"
            )
        if not pairs:
            if not left:
                return []
            return [
                {
                    "test": test,
                    "series": name,
                    "n": 0,
                    "statistic": float("nan"),
                    "pvalue": float("nan"),
                    "caar": float("nan"),
                    "valid": v.valid,
                    "recommended": v.recommended,
                    "note": v.note,
                    "incomplete": len(left),
                }
                for test, v in policy.verdicts_without_data(left_note).items()
            ]
        e = np.array([i for i, _ in pairs])
        s = np.array([j for _, j in pairs])
        pooled = len(set(s.tolist())) > 1
        sigma = np.sqrt(p.sigma2[e, s])
        ar_all = p.abnormal[e, s]  # (N, W)
        if shift:
            zero = np.flatnonzero(p.rel_win == 0)[0]
            ar_all = ar_all.copy()
            ar_all[:, zero] += shift * sigma
        car = np.where(win.mask, np.nan_to_num(ar_all, nan=0.0), 0.0).sum(axis=1)
        sd = np.sqrt(win.var_car[e, s])
        scar = car / sd
        df = self._dof()[e, s]
        resid = self._resid[e, s]  # (N, L0)
        ar_win = ar_all[:, win.mask]
        sar_win = (ar_all / np.sqrt(p.var_ar[e, s]))[:, win.mask]
        # garch: each estimation residual over its in-sample conditional sd
        sar_est = resid / (p.cond_sd[e, s] if p.cond_sd is not None else sigma[:, None])
        dates = p.day0_date[e, s]
        _, clusters = np.unique(dates, return_inverse=True)
        length = int(win.mask.sum())
        # Correlation of n-day sums of residuals, not of daily ones (kp_correlation
        # "sums", the default): markets that close at different hours (Tokyo before New
        # York) move together with a lag of a session, which daily same-date
        # correlations miss but n-day CARs contain. "daily" is the paper's version.
        resid_n = (
            sliding_window_view(resid, length, axis=1).sum(axis=-1)
            if length <= resid.shape[1] and self._design.kp_correlation != "daily"
            else resid
        )
        if pooled:
            # standardised: a pseudo SCAR is a sum of n standardised residuals / sqrt(n)
            boot = st.bootstrap_caar(sar_est / np.sqrt(length), scar, length, clusters, draws, seed)
            center = float(np.mean(scar))
        else:
            boot = st.bootstrap_caar(resid, car, length, clusters, draws, seed)
            center = float(np.mean(car))
        results = {
            "csect_t": st.cross_sectional_t(scar if pooled else car),
            "patell": st.patell(scar, df),
            "bmp": st.bmp(scar),
            "kolari_pynnonen": st.kolari_pynnonen(scar, resid_n),
            "portfolio": st.portfolio(sar_est, sar_win),
            "bootstrap": boot,
            "corrado": st.corrado(resid, ar_win),
            "generalized_sign": st.generalized_sign(car, resid),
            "wilcoxon": st.wilcoxon(scar if pooled else car),
        }
        verdicts = policy.verdicts(
            dates,
            mean_residual_correlation=st.mean_residual_correlation(resid_n),
            left_out=left_note,
        )
        out = []
        for test, v in verdicts.items():
            res = results[test]
            out.append(
                {
                    "test": test,
                    "series": name,
                    "n": int(res.n),
                    "statistic": float(res.statistic),
                    "pvalue": float(res.pvalue),
                    "caar": center,
                    "valid": bool(v.valid),
                    "recommended": bool(v.recommended),
                    "note": v.note,
                    "incomplete": len(left),
                }
            )
        return out

    # Signed pooling and cross-sectional regressions ---------------------------------------------
    def signed(
        self, by: str | Mapping[str, float] | pd.Series = "direction", *, name: str | None = None
    ) -> EventStudyResult:
        """Return the result with each event's changes multiplied by its sign.

        The actual, normal and abnormal changes of each event's window and its
        estimation-window residuals are multiplied by the event's sign (+1 / -1), so
        the CAR tables, the AAR and every cross-event test (t, Patell, BMP,
        Kolari-Pynnonen, Corrado, sign, ...) run on signed changes. Events without a
        sign (0, NaN, blank) are excluded, with the reason in :attr:`exclusions`. The
        fitted model (:attr:`parameters`) is that of the unsigned changes; the
        ``percentile`` of a signed change ranks it among the history signed the same
        way, and ``bhar`` is that of the signed (for -1: short) position.

        Parameters
        ----------
        by : str or mapping of str to float
            An events column (``"direction"``: +1/-1/blank; ``"surprise"`` or any
            numeric column: its sign), or ``{event id: sign}`` (events not named have
            no sign). :class:`~backtest.eventstudy.EventStudy` calls this for its
            ``sign_by``, including ``"reaction:<SERIES>"`` (it computes the signs).
        name : str, optional
            How the signs were chosen, as recorded in ``design.sign_by`` (default
            `by` when it is a column, else ``"given signs"``).

        Returns
        -------
        EventStudyResult
            A new result; the events gain a ``sign`` column, ``design.sign_by`` and
            ``design.signing`` say how the result was signed, and the notes repeat it.

        Raises
        ------
        backtest.errors.DataValidationError
            The result is already signed; an unknown column or event id; a column
            that is not numeric.

        Examples
        --------
        >>> import numpy as np
        >>> from backtest.eventstudy import EventStudy
        >>> idx = pd.bdate_range("2024-01-01", periods=300)
        >>> levels = pd.DataFrame({"X": 100 + np.cumsum(np.sin(np.arange(300)))}, index=idx)
        >>> ev = pd.DataFrame({"timestamp": [idx[200].tz_localize("America/New_York"),
        ...                                  idx[250].tz_localize("America/New_York")],
        ...                    "label": ["up", "down"], "direction": [1, -1]})
        >>> res = EventStudy(event_window=(-1, 1)).run(levels, ev, kinds={"X": "yield"},
        ...                                           clocks={"X": ("America/New_York", "17:00")})
        >>> signed = res.signed("direction")
        >>> bool(np.allclose(signed.car(0, 0)["X"], res.car(0, 0)["X"] * [1, -1]))
        True
        """
        if self._p.sign is not None:
            raise DataValidationError(
                f"signed: this result is already signed ({self._design.sign_by}); sign the "
                "unsigned result instead"
            )
        sign = signing.signs_for(self.event_ids, self._events, by)
        label = name or (by if isinstance(by, str) else "given signs")
        p = self._p
        ok = np.isfinite(sign)
        s3 = sign[:, None, None]
        reasons = p.reasons.astype(object)
        reasons[p.included & ~ok[:, None]] = (
            f"no sign ({label} is 0 or blank): left out of signed pooling"
        )
        panel = replace(
            p,
            actual=p.actual * s3,
            normal=p.normal * s3,
            abnormal=p.abnormal * s3,
            included=p.included & ok[:, None],
            reasons=reasons.astype(str),
            sign=sign,
        )
        text = signing.sign_description(label, sign)
        return self._derived(
            panel=panel,
            design=replace(self._design, sign_by=label, signing=text),
            events=self._events.assign(sign=sign),
            notes=(*self._notes, text),
        )

    def _derived(self, **changes: Any) -> EventStudyResult:
        """A new result with the constructor's inputs of this one, some replaced."""
        new = object.__new__(type(self))
        for attr in EventStudyResult.__annotations__:
            if attr in self.__dict__:
                object.__setattr__(new, attr, self.__dict__[attr])
        for key, value in changes.items():
            object.__setattr__(new, f"_{key}" if key != "panel" else "_p", value)
        return new

    def regress(
        self,
        formula: str,
        window: tuple[int, int] = (0, 1),
        *,
        series: str | Sequence[str] | None = None,
        cov: str = "HC3",
    ) -> Any:
        """Cross-sectional regression of CARs on event characteristics (statsmodels OLS).

        See :func:`backtest.eventstudy.regression.regress` (this method calls it with
        this result).

        Returns
        -------
        statsmodels.regression.linear_model.RegressionResultsWrapper
            ``summary()``, ``params``, ``bse``, ``pvalues``, ``nobs``, ...
        """
        from backtest.eventstudy.regression import regress

        return regress(self, formula, window, series=series, cov=cov)

    # Volatility ---------------------------------------------------------------------------------
    def _variance_ratios(self, start: int, end: int) -> tuple[_Window, Any]:
        """Variance ratios of every pair's window (NaN where excluded or incomplete)."""
        from backtest.eventstudy import volatility

        win = self._window(start, end)
        p = self._p
        with np.errstate(invalid="ignore", divide="ignore"):
            sar = np.where(win.mask, p.abnormal / np.sqrt(p.var_ar), np.nan)
        use = p.included & ~win.incomplete
        sar = np.where(use[..., None], sar, np.nan)
        E, S, W = sar.shape
        vr = volatility.variance_ratio(sar.reshape(E * S, W), self._dof().reshape(E * S))
        return win, vr

    def variance_ratios(self, start: int, end: int) -> pd.DataFrame:
        """Variance ratio of each event and series over days `start`..`end`.

        ``VR = mean(SAR_t^2)`` over the window's days with an abnormal change, with
        ``SAR_t = AR_t / sd(AR_t)`` (the conditional variance forecast for
        ``garch``). Under no event-induced variance ``n VR ~ chi2(n)`` (``garch``) or
        ``VR ~ F(n, L - k)`` (OLS models); see :mod:`backtest.eventstudy.volatility`.

        Returns
        -------
        pandas.DataFrame
            Columns ``event, series, day0, n, vr, null_mean, statistic,
            distribution, pvalue``: ``null_mean`` is the mean of ``VR`` under H0
            (1, or ``df / (df - 2)``), ``pvalue`` two-sided. Pairs excluded, with an
            incomplete window (:meth:`incomplete`) or no abnormal change in it are
            absent.
        """
        from backtest.eventstudy import volatility

        _, vr = self._variance_ratios(start, end)
        p = self._p
        E, S = p.included.shape
        n = vr.n.reshape(E, S)
        e, s = np.nonzero(n > 0)
        flat = e * S + s
        return pd.DataFrame(
            {
                "event": np.array(self.event_ids, dtype=object)[e].astype(str),
                "series": np.array(self._series, dtype=object)[s].astype(str),
                "day0": p.day0_date[e, s],
                "n": n[e, s].astype(np.int64),
                "vr": vr.vr[flat],
                "null_mean": volatility.null_mean(self._dof()[e, s]),
                "statistic": vr.statistic[flat],
                "distribution": vr.distribution[flat].astype(str),
                "pvalue": vr.pvalue[flat],
            }
        )

    def volatility_tests(
        self, start: int, end: int, *, groups: Mapping[str, Sequence[str]] | None = None
    ) -> pd.DataFrame:
        """Cross-sectional test of event-induced volatility over `start`..`end`.

        Per series across its events, and per entry of `groups` across every
        (event, series) pair of the group: the Savickas (2003)-style test that the
        mean of ``q_i = VR_i / null_mean_i`` (:meth:`variance_ratios`) is 1, with the
        cross-sectional variance of ``q_i`` (see
        :mod:`backtest.eventstudy.volatility`).

        Two rows per series and group: ``savickas`` (every pair an independent
        observation) and ``savickas_by_date`` (the mean ``q`` of each day-0 date
        one observation: pairs sharing a date, correlated across a group's series or
        the same window twice in one series, count once).

        Returns
        -------
        pandas.DataFrame
            Columns ``test, series, n, mean_ratio, statistic, pvalue, valid,
            recommended, note, incomplete``: ``n`` pairs (``savickas``) or day-0 dates
            (``savickas_by_date``); ``mean_ratio`` is the mean of ``q_i`` over the pairs
            (above 1: more variance than forecast); ``pvalue`` two-sided (Student's t,
            ``n - 1`` df); ``valid`` False for ``savickas`` when pairs share a day-0
            date (it assumes independent events), and ``recommended`` then marks
            ``savickas_by_date`` (else ``savickas``); ``incomplete`` counts the pairs
            left out because their window is not complete in the data.
        """
        from backtest.eventstudy import volatility

        win, vr = self._variance_ratios(start, end)
        p = self._p
        E, S = p.included.shape
        q = (vr.vr / volatility.null_mean(self._dof().reshape(E * S))).reshape(E, S)
        rows = []
        for name, cols in self._members(groups, "volatility_tests"):
            sel = np.zeros((E, S), dtype=bool)
            sel[:, cols] = True
            left = int((sel & p.included & win.incomplete).sum())
            used = sel & np.isfinite(q)
            dates = p.day0_date[used]
            n_dates = len(np.unique(dates))
            shared = n_dates < len(dates)
            mean_ratio = float(np.mean(q[used])) if used.any() else float("nan")
            plain = volatility.savickas(q[used])
            by_date = volatility.savickas_by_date(q[used], dates)
            for test, res, valid, note in (
                (
                    "savickas",
                    plain,
                    not shared,
                    f"{len(dates)} pairs on {n_dates} day-0 dates: the cross-sectional test "
                    "assumes independent events and over-rejects"
                    if shared
                    else "",
                ),
                (
                    "savickas_by_date",
                    by_date,
                    True,
                    f"{len(dates)} pairs averaged within {n_dates} day-0 dates"
                    if shared
                    else "no shared day-0 dates: equals savickas",
                ),
            ):
                rows.append(
                    {
                        "test": test,
                        "series": name,
                        "n": int(res.n),
                        "mean_ratio": mean_ratio,
                        "statistic": float(res.statistic),
                        "pvalue": float(res.pvalue),
                        "valid": valid,
                        "recommended": (test == "savickas_by_date") == shared,
                        "note": note,
                        "incomplete": left,
                    }
                )
        return pd.DataFrame(rows)

    # Display ------------------------------------------------------------------------------------
    def summary(self, start: int = 0, end: int | None = None) -> str:
        """Return a readable text summary of the CAR over `start`..`end` (default to the end).

        Shows the design, the per-event reactions, the recommended cross-event
        test per series and the exclusions.
        """
        end = self._design.event_window[1] if end is None else end
        s = self._design
        head = [
            f"Event study: model={s.model}"
            + (f", market={s.market}" if s.market else "")
            + (f", factors={list(s.factors)}" if s.factors else ""),
            f"estimation window {s.estimation_window}, event window {s.event_window}, "
            f"CAR window ({start}, {end})",
            f"{len(self._events)} events x {len(self._series)} series; "
            f"{int((~self._p.included).sum())} pairs excluded",
            self._clock_line(),
            *([self._design.signing] if self._design.signing else []),
            "",
        ]
        react = self.reactions(start, end)
        table = react[["event", "series", "day0", "unit", "car", "t", "pvalue", "empirical_pvalue"]]
        table = table.assign(day0=table["day0"].dt.strftime("%Y-%m-%d"))
        incomplete = self.incomplete(start, end)
        if len(incomplete):
            n_win = end - start + 1
            table = table.assign(
                window=[
                    "complete" if c else f"incomplete {k}/{n_win}"
                    for c, k in zip(react["complete"], react["days_in_data"], strict=True)
                ]
            )
            head.insert(
                -1,
                f"{len(incomplete)} windows incomplete in the data: "
                + ("partial sums kept" if s.allow_incomplete else "CAR NaN")
                + ", left out of the cross-event tests",
            )
        with pd.option_context("display.width", 200, "display.max_rows", 500):
            body = table.to_string(index=False, float_format=lambda v: f"{v:.4g}")
            tests = self.tests(start, end, draws=999)
            rec = tests[tests["recommended"]][
                ["series", "test", "n", "statistic", "pvalue", "caar"]
            ]
            tbody = rec.to_string(index=False, float_format=lambda v: f"{v:.4g}")
        parts = [*head, body, "", "Cross-event tests (recommended)", tbody]
        if len(self._exclusions):
            parts += ["", "Excluded", self._exclusions.to_string(index=False)]
        if len(incomplete):
            parts += [
                "",
                f"Incomplete windows ({start}, {end})",
                incomplete[["event", "series", "reason"]].to_string(index=False),
            ]
        parts += [f"Note: {note}" for note in self._notes]
        return "\n".join(parts)

    def _clock_line(self) -> str:
        """One line on the clock rules: alignment, Dimson lags, clean windows, guard."""
        s, p = self._design, self._p
        parts = []
        if s.model in ("market", "market_adjusted"):
            parts.append(f"market changes aligned {s.market_alignment}")
        if s.dimson_lags:
            parts.append(f"Dimson lags {s.dimson_lags}")
        if s.estimation_exclude == "events":
            removed = int(p.removed.sum()) if p.removed is not None else 0
            parts.append(f"estimation windows cleaned of event windows ({removed} days removed)")
        moved = int(p.guarded.sum()) if p.guarded is not None else 0
        parts.append(f"session guard {s.session_guard} min ({moved} day 0s moved)")
        return "; ".join(parts)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        """Compact HTML for notebooks (:func:`backtest.report.notebook.event_study_html`)."""
        from backtest.report.notebook import event_study_html

        return event_study_html(self)

    def __repr__(self) -> str:
        from backtest.report.notebook import event_study_text

        return event_study_text(self)


def _rolling_sums(values: np.ndarray, length: int) -> np.ndarray:
    """All sums of `length` consecutive finite values of a series' own changes."""
    if len(values) < length:
        return np.empty(0)
    windows = sliding_window_view(values, length).sum(axis=-1)
    return windows[np.isfinite(windows)]


def _percentile(values: np.ndarray, history: np.ndarray) -> np.ndarray:
    """100 x share of `history` <= each value (NaN where value is NaN or no history)."""
    if history.size == 0:
        return np.full(values.shape, np.nan)
    ordered = np.sort(history)
    rank = np.searchsorted(ordered, values + st.tie_tolerance(values), side="right")
    return np.where(np.isfinite(values), 100.0 * rank / ordered.size, np.nan)
