"""The arrays of an event-study run, shaped ``(E, S, ...)`` for events x series.

Internal: built by :mod:`backtest.eventstudy.study`, read by
:mod:`backtest.eventstudy.result`. Each series' changes sit in one row of a padded
``(S, T)`` array of its own observations, so a window of any event in any series is a
gather at ``day0 + relative day``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["Panel", "gather"]


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
    *lead, S, T = values.shape
    pos = day0[:, :, None] + rel[None, None, :]
    outside = (pos < 0) | (pos >= lengths[None, :, None])
    flat = np.clip(pos, 0, T - 1) + (np.arange(S) * T)[None, :, None]
    out = values.reshape(*lead, S * T)[..., flat]
    out[..., outside] = np.datetime64("NaT") if out.dtype.kind == "M" else np.nan
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
    dates: np.ndarray
    x_win: np.ndarray
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
        return resid
