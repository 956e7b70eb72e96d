"""The arrays of an event-study run, shaped ``(E, S, ...)`` for events x series.

Internal: built by :mod:`backtest.eventstudy.study`, read by
:mod:`backtest.eventstudy.result`. Each series' changes sit in one row of a padded
``(S, T)`` array of its own observations, so a window of any event in any series is a
gather at ``day0 + relative day``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "Panel",
    "concat_series",
    "event_window",
    "gather",
    "take",
    "window_index",
    "window_regressors",
]


def gather(
    values: np.ndarray, lengths: np.ndarray, day0: np.ndarray, rel: np.ndarray
) -> np.ndarray:
    """Values at ``day0 + rel`` of each series, NaN (NaT) outside its observations.

    Parameters
    ----------
    values : numpy.ndarray
        ``(..., S, T)`` per-series arrays over their own observations.
    lengths : numpy.ndarray
        ``(S,)`` observations of each series.
    day0 : numpy.ndarray
        ``(E, S)`` day-0 positions.
    rel : numpy.ndarray
        ``(n,)`` relative days.

    Returns
    -------
    numpy.ndarray
        ``(..., E, S, n)``.
    """
    return take(values, window_index(lengths, day0, rel, values.shape[-1]))


def window_index(
    lengths: np.ndarray, day0: np.ndarray, rel: np.ndarray, T: int
) -> tuple[np.ndarray, np.ndarray]:
    """Flat positions of ``day0 + rel`` in ``(S, T)`` arrays, and which are outside.

    Returns
    -------
    flat : numpy.ndarray
        ``(E, S, n)`` positions in a series-major ``(S * T)`` array (clipped).
    outside : numpy.ndarray
        ``(E, S, n)`` bool: the day is not among the series' observations.
    """
    S = len(lengths)
    pos = day0[:, :, None] + rel[None, None, :]
    outside = (pos < 0) | (pos >= lengths[None, :, None])
    flat = np.clip(pos, 0, T - 1) + (np.arange(S) * T)[None, :, None]
    return flat, outside


def take(values: np.ndarray, index: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """:func:`gather` with the positions of :func:`window_index` (shared by many arrays)."""
    flat, outside = index
    *lead, S, T = values.shape
    if values.dtype.kind == "M":  # gathered as integers; NaT is the smallest int64
        out = values.view("int64").reshape(*lead, S * T)[..., flat]
        out[..., outside] = np.iinfo(np.int64).min
        return out.view(values.dtype)
    out = values.reshape(*lead, S * T)[..., flat]
    out[..., outside] = np.nan
    return out


def event_window(
    y2: np.ndarray,
    off2: np.ndarray | None,
    X2: np.ndarray,
    lengths: np.ndarray,
    day0: np.ndarray,
    rel: np.ndarray,
    constant: bool,
    beta: np.ndarray,
    xtx_inv: np.ndarray,
    sigma2: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Event-window arrays of every (event, series) pair from the fitted model.

    Parameters
    ----------
    y2 : numpy.ndarray
        ``(S, T)`` changes over each series' own observations.
    off2 : numpy.ndarray or None
        ``(S, T)`` the model's offset (the part of normal change that is not
        estimated); None: zero (every model but ``market_adjusted``).
    X2 : numpy.ndarray
        ``(F, S, T)`` non-constant regressors.
    lengths : numpy.ndarray
        ``(S,)`` observations of each series.
    day0 : numpy.ndarray
        ``(E, S)`` day-0 positions.
    rel : numpy.ndarray
        ``(W,)`` relative days of the event window.
    constant : bool
        Whether the model has an intercept (the first coefficient).
    beta, xtx_inv, sigma2 : numpy.ndarray
        ``(E, S, k)``, ``(E, S, k, k)`` and ``(E, S)`` fits
        (:func:`backtest.eventstudy.models.fit_sums`).

    Returns
    -------
    actual, normal, abnormal, var_ar : numpy.ndarray
        ``(E, S, W)`` change, normal change, their difference and its forecast-error
        variance ``sigma2 (1 + x' (X'X)^-1 x)``; NaN outside the data and where the
        offset is missing.
    x_reg : numpy.ndarray
        ``(F, E, S, W)`` the non-constant regressors of each day, NaN where the day is
        not usable.
    gap : numpy.ndarray
        ``(E, S, W)`` bool: the day is outside the data or its offset is missing
        (:func:`window_regressors` makes the regressor matrix of each day from both).
    """
    k = X2.shape[0] + int(constant)
    window = _Windows(lengths, day0, rel, y2.shape[-1])
    y_win = window.take(y2, np.nan)
    if off2 is not None and off2.any():
        normal = window.take(off2, np.nan)  # the offset, then the model's terms added
        gap = np.isnan(normal)
        if constant:
            normal += beta[..., 0, None]
    else:  # no offset: zeros (+ the intercept), NaN outside the data
        gap = window.outside()
        intercept = beta[..., 0, None] + 0.0 if constant else 0.0  # 0.0 + b, as added
        normal = np.where(gap, np.nan, intercept)
    x_reg = window.take(X2, np.nan)  # (F', E, S, W)
    for plane in x_reg:
        plane[gap] = np.nan
    # The model's terms in the order of window_regressors(...)[..., i] (intercept
    # first). The intercept's regressor is 1 (NaN in a gap): here the scalar 1.0, whose
    # products are the other factor bit for bit, and the gaps are set to NaN at the end.
    planes: list[float | np.ndarray] = ([1.0] if constant else []) + list(x_reg)
    term = np.empty_like(normal)
    for i, x in enumerate(x_reg, start=int(constant)):
        normal += np.multiply(x, beta[..., i, None], out=term)
    lev: np.ndarray | None = None
    for i in range(k):
        for j in range(k):
            np.multiply(planes[i], xtx_inv[..., i, j, None], out=term)
            np.multiply(term, planes[j], out=term)
            if lev is None:  # 0.0 + term: the same number once 1.0 is added below
                lev = term.copy()
            else:
                lev += term
    if lev is None:  # no coefficient (raw, market adjusted)
        lev = np.zeros_like(normal)
    else:  # every term has the day's regressors (1 or x), which are NaN in a gap
        lev[gap] = np.nan
    ar = np.subtract(y_win, normal, out=term)
    lev += 1.0
    var_ar = np.multiply(sigma2[..., None], lev, out=lev)
    return y_win, normal, ar, var_ar, x_reg, gap


def window_regressors(x_reg: np.ndarray, gap: np.ndarray, constant: bool) -> np.ndarray:
    """``(E, S, W, k)`` regressors of each event-window day, intercept first (1, NaN in a
    `gap`), from the ``(F, E, S, W)`` non-constant ones of :func:`event_window`."""
    planes = ([np.where(gap, np.nan, 1.0)] if constant else []) + list(x_reg)
    return np.stack(planes, axis=-1) if planes else np.zeros((*gap.shape, 0))


class _Windows:
    """Gathers of the event windows of every (event, series) pair: what :func:`take` of
    :func:`window_index` returns, for contiguous relative days.

    A window inside the series' observations is a contiguous slice of its row, so
    the gather copies ``W`` values a pair instead of computing ``W`` positions; the
    few windows that run outside the data are gathered position by position.
    """

    def __init__(
        self,
        lengths: np.ndarray,
        day0: np.ndarray,
        rel: np.ndarray,
        T: int,
        rows: np.ndarray | None = None,
    ) -> None:
        # rows: the row of each series in the arrays taken (default its own)
        self.W = W = len(rel)
        self.shape = (*day0.shape, W)
        self.contiguous = 0 < W <= T and bool((np.diff(rel) == 1).all())
        row = np.arange(len(lengths)) if rows is None else rows
        if not self.contiguous:
            flat, outside = window_index(lengths, day0, rel, T)
            self.at = (flat + ((row - np.arange(len(lengths))) * T)[None, :, None], outside)
            return
        first = day0 + int(rel[0])
        self.start = np.clip(first, 0, T - W) + (row * T)[None, :]
        self.edge = np.nonzero((first < 0) | (first + W > lengths[None, :]))
        pos = first[self.edge][:, None] + np.arange(W)  # (edge pairs, W)
        self.edge_outside = (pos < 0) | (pos >= lengths[self.edge[1]][:, None])
        self.edge_flat = np.clip(pos, 0, T - 1) + (row[self.edge[1]] * T)[:, None]

    def outside(self) -> np.ndarray:
        """``(E, S, W)`` bool: the day is not among the series' observations."""
        if not self.contiguous:
            return self.at[1]
        out = np.zeros(self.shape, dtype=bool)
        out[self.edge] = self.edge_outside
        return out

    def take(self, values: np.ndarray, fill: Any) -> np.ndarray:
        """``(..., E, S, W)`` values at ``day0 + rel`` of ``(..., S, T)`` `values`,
        `fill` (NaN or NaT) outside each series' observations."""
        if not self.contiguous:
            return take(values, self.at)
        *lead, R, T = values.shape
        flat = values.reshape(*lead, R * T)
        out = sliding_window_view(flat, self.W, axis=-1)[..., self.start, :]
        if len(self.edge[0]):
            edge = flat[..., self.edge_flat]
            edge[..., self.edge_outside] = fill
            out[..., self.edge[0], self.edge[1], :] = edge
        return out


@dataclass(frozen=True)
class Panel:
    """Inputs, fits and event-window arrays of one run (see the module docstring)."""

    rel_est: np.ndarray
    rel_win: np.ndarray
    day0_pos: np.ndarray
    day0_date: np.ndarray
    included: np.ndarray
    reasons: np.ndarray
    actual: np.ndarray
    normal: np.ndarray
    abnormal: np.ndarray
    var_ar: np.ndarray
    # (G, T) dates of the observations of each distinct calendar, and (S,) the
    # calendar of each series: the event window's dates are gathered on demand
    calendar_dates: np.ndarray
    calendar_of: np.ndarray
    window_gap: np.ndarray  # (E, S, W) day outside the data or without its offset
    xtx_inv: np.ndarray
    beta: np.ndarray
    sigma2: np.ndarray
    nobs: np.ndarray
    k: int
    history: Mapping[str, np.ndarray]
    # Per-series inputs, kept to compute estimation residuals on demand.
    target: np.ndarray  # (S, T) change minus offset
    regressors: np.ndarray  # (F, S, T) non-constant regressors
    constant: bool
    lengths: np.ndarray  # (S,)
    # (S, 2) first and one-past-last position with every model input: the series' data
    span: np.ndarray
    # (S,) estimated coefficients per series (a series without a market in a market
    # model is fitted with the reduced model); None: every series has `k`.
    k_series: np.ndarray | None = None
    # (E, S) estimation days removed by estimation_exclude="events"; None: none.
    removed: np.ndarray | None = None
    # (E, S) pairs whose day 0 the near-close guard moved; None: none.
    guarded: np.ndarray | None = None
    # Per series: how its market change is paired with its days (market models).
    alignment: tuple[dict[str, Any], ...] = ()

    @cached_property
    def x_win(self) -> np.ndarray:
        """``(E, S, W, k)`` regressors of each event-window day (intercept first), NaN
        where the day is not usable; gathered on first use (the CAR variances need it,
        the abnormal changes do not) as :func:`event_window` gathers it."""
        T = self.regressors.shape[-1]
        x_reg = _Windows(self.lengths, self.day0_pos, self.rel_win, T).take(self.regressors, np.nan)
        x_reg[:, self.window_gap] = np.nan
        return window_regressors(x_reg, self.window_gap, self.constant)

    def window_dates(self) -> np.ndarray:
        """``(E, S, W)`` dates of the event-window days (NaT outside the data), a new
        array on each call."""
        window = _Windows(
            self.lengths,
            self.day0_pos,
            self.rel_win,
            self.calendar_dates.shape[-1],
            rows=self.calendar_of,
        )
        return window.take(self.calendar_dates, np.datetime64("NaT"))

    def dof(self) -> np.ndarray:
        """``(E, S)`` residual degrees of freedom ``L - k`` of each fit."""
        k = self.k_series[None, :] if self.k_series is not None else self.k
        return self.nobs - k

    # (E,) sign of each event (+1/-1) of a signed study (eventstudy/signing.py), else None:
    # the event-window arrays are already signed, the estimation residuals are signed here.
    sign: np.ndarray | None = None
    # (E, S, L0) in-sample conditional sd of the estimation residuals of a conditional
    # variance model (``garch``, see garch.py); None for the OLS models.
    cond_sd: np.ndarray | None = None

    def residuals(self) -> np.ndarray:
        """Estimation-window residuals ``(E, S, L0)``, NaN on unusable days.

        Computed on demand: fitting needs only window sums (see
        :func:`backtest.eventstudy.models.fit_windows`), the tests need the days.
        """
        t = gather(self.target, self.lengths, self.day0_pos, self.rel_est)
        x = gather(self.regressors, self.lengths, self.day0_pos, self.rel_est)
        resid = t.copy()
        c = 0
        if self.constant:
            resid -= self.beta[..., 0, None]
            c = 1
        for i in range(x.shape[0]):
            resid -= x[i] * self.beta[..., c + i, None]
        if self.sign is not None:
            resid *= self.sign[:, None, None]
        return resid


def concat_series(panels: list[Panel]) -> Panel:
    """Join panels of the same events and windows computed for different blocks of series.

    Arrays over series are concatenated along the series axis; per-series arrays over
    observations are padded to the longest series. Used to gather an event study run
    in blocks (e.g. on Dask workers): each series' numbers do not depend on the others.
    """
    if len(panels) == 1:
        return panels[0]
    first = panels[0]
    T = max(p.target.shape[1] for p in panels)

    T_dates = max(p.calendar_dates.shape[1] for p in panels)
    calendar_offsets = np.cumsum([0] + [len(p.calendar_dates) for p in panels[:-1]])

    def pad_dates(a: np.ndarray, n: int) -> np.ndarray:
        out = np.full((len(a), n), np.datetime64("NaT"), dtype="datetime64[ns]")
        out[:, : a.shape[1]] = a
        return out

    def pad(a: np.ndarray) -> np.ndarray:
        out = np.full((*a.shape[:-1], T), np.nan)
        out[..., : a.shape[-1]] = a
        return out

    def cat(name: str, axis: int = 1) -> np.ndarray:
        return np.concatenate([getattr(p, name) for p in panels], axis=axis)

    return Panel(
        rel_est=first.rel_est,
        rel_win=first.rel_win,
        day0_pos=cat("day0_pos"),
        day0_date=cat("day0_date"),
        included=cat("included"),
        reasons=cat("reasons"),
        actual=cat("actual"),
        normal=cat("normal"),
        abnormal=cat("abnormal"),
        var_ar=cat("var_ar"),
        calendar_dates=np.concatenate(
            [pad_dates(p.calendar_dates, T_dates) for p in panels], axis=0
        ),
        calendar_of=np.concatenate(
            [p.calendar_of + g for p, g in zip(panels, calendar_offsets, strict=True)]
        ),
        window_gap=cat("window_gap"),
        xtx_inv=cat("xtx_inv"),
        beta=cat("beta"),
        sigma2=cat("sigma2"),
        nobs=cat("nobs"),
        k=first.k,
        history={k: v for p in panels for k, v in p.history.items()},
        target=np.concatenate([pad(p.target) for p in panels], axis=0),
        regressors=np.concatenate([pad(p.regressors) for p in panels], axis=1),
        constant=first.constant,
        lengths=np.concatenate([p.lengths for p in panels]),
        span=np.concatenate([p.span for p in panels], axis=0),
        k_series=np.concatenate(
            [p.k_series if p.k_series is not None else np.full(len(p.lengths), p.k) for p in panels]
        ),
        removed=np.concatenate(
            [
                p.removed if p.removed is not None else np.zeros(p.nobs.shape, np.int64)
                for p in panels
            ],
            axis=1,
        ),
        guarded=np.concatenate(
            [p.guarded if p.guarded is not None else np.zeros(p.nobs.shape, bool) for p in panels],
            axis=1,
        ),
        alignment=tuple(a for p in panels for a in p.alignment),
        cond_sd=None if first.cond_sd is None else cat("cond_sd"),
    )
