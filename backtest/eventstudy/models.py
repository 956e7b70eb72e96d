"""Models of normal behaviour, and their batched estimation over events x series.

Every model is written as ``y_t = offset_t + x_t' beta + e_t`` with ``k`` regressors
``x_t`` estimated by OLS over the estimation window:

=================  ===================  ==============  ===
model              regressors x_t        offset_t        k
=================  ===================  ==============  ===
``raw``            none                 0               0
``constant_mean``  1                    0               1
``market``         1, r_m,t             0               2
``market_adjusted`` none                r_m,t           0
``factor``         1, f_1,t ... f_F,t   0               1+F
=================  ===================  ==============  ===

The residual variance is ``s^2 = SSR / (L - k)`` over the ``L`` usable estimation
days (for ``raw`` and ``market_adjusted``, nothing is estimated and ``s^2`` is the mean
squared abnormal change). The variance of an event-day prediction error includes the
estimation error of ``beta`` (MacKinlay 1997, eq. 9)::

    Var(AR_t) = s^2 * (1 + x_t' (X'X)^{-1} x_t)

and, for a cumulative window of ``n`` days with ``x_sum`` the sum of their regressors,
``Var(CAR) = s^2 * (n + x_sum' (X'X)^{-1} x_sum)``. With the market model these are
MacKinlay's ``s^2 (1 + 1/L + (r_m,t - mean r_m)^2 / sum (r_m - mean r_m)^2)``.

References
----------
MacKinlay, A. C. (1997). Event studies in economics and finance. *Journal of
Economic Literature*, 35(1), 13-39.
"""

from __future__ import annotations

from typing import Literal, NamedTuple, get_args

import numpy as np

__all__ = ["MODELS", "Fit", "ModelName", "design", "fit_ols", "n_params"]

ModelName = Literal["raw", "constant_mean", "market", "market_adjusted", "factor"]
#: The models of normal behaviour, defined once and reused in validation and messages.
MODELS: tuple[str, ...] = get_args(ModelName)


def n_params(model: str, n_factors: int) -> int:
    """Return ``k``, the number of estimated coefficients of `model`."""
    return {"raw": 0, "market_adjusted": 0, "constant_mean": 1, "market": 2}.get(
        model, 1 + n_factors
    )


def design(model: str, regressors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Build the regressor matrix and offset of `model` from aligned regressor series.

    Parameters
    ----------
    model : str
        One of :data:`MODELS`.
    regressors : numpy.ndarray
        ``(..., T, F)`` market (F=1) or factor changes aligned to each series'
        observations; ``F = 0`` for ``raw`` and ``constant_mean``.

    Returns
    -------
    X : numpy.ndarray
        ``(..., T, k)`` regressors including the constant where the model has one.
    offset : numpy.ndarray
        ``(..., T)`` the part of normal change that is not estimated.
    """
    shape = regressors.shape[:-1]
    ones = np.ones((*shape, 1))
    zero = np.zeros(shape)
    if model == "raw":
        return np.zeros((*shape, 0)), zero
    if model == "constant_mean":
        return ones, zero
    if model == "market_adjusted":
        return np.zeros((*shape, 0)), regressors[..., 0]
    return np.concatenate([ones, regressors], axis=-1), zero  # market, factor


class Fit(NamedTuple):
    """Batched OLS fit over the estimation windows of many (event, series) pairs.

    Attributes
    ----------
    beta : numpy.ndarray
        ``(P, k)`` coefficients.
    xtx_inv : numpy.ndarray
        ``(P, k, k)`` inverse of ``X'X`` over the usable estimation days.
    sigma2 : numpy.ndarray
        ``(P,)`` residual variance ``SSR / (L - k)``.
    nobs : numpy.ndarray
        ``(P,)`` usable estimation days ``L``.
    resid : numpy.ndarray
        ``(P, L0)`` estimation residuals, NaN on unusable days.
    ok : numpy.ndarray
        ``(P,)`` whether the fit is defined (enough days, full-rank ``X``).
    """

    beta: np.ndarray
    xtx_inv: np.ndarray
    sigma2: np.ndarray
    nobs: np.ndarray
    resid: np.ndarray
    ok: np.ndarray


def fit_ols(y: np.ndarray, X: np.ndarray, offset: np.ndarray) -> Fit:
    """OLS of ``y - offset`` on ``X`` for every row, ignoring NaN days.

    Parameters
    ----------
    y : numpy.ndarray
        ``(P, L0)`` changes over the estimation window (NaN = missing).
    X : numpy.ndarray
        ``(P, L0, k)`` regressors (NaN = missing).
    offset : numpy.ndarray
        ``(P, L0)`` unestimated part of normal change.

    Returns
    -------
    Fit
        Rows without at least ``k + 1`` usable days or with a rank-deficient
        ``X`` have ``ok = False`` and NaN estimates.
    """
    P, L0, k = X.shape
    target = y - offset
    usable = np.isfinite(target) & np.isfinite(X).all(axis=-1)
    nobs = usable.sum(axis=1)
    t0 = np.where(usable, target, 0.0)
    X0 = np.where(usable[..., None], X, 0.0)
    xtx = np.einsum("pli,plj->pij", X0, X0)
    xty = np.einsum("pli,pl->pi", X0, t0)
    ok = nobs > k
    if k:
        rank = np.linalg.matrix_rank(xtx)
        ok &= rank == k
        safe = np.where(ok[:, None, None], xtx, np.eye(k))
        xtx_inv = np.linalg.inv(safe)
        beta = np.einsum("pij,pj->pi", xtx_inv, xty)
        fitted = np.einsum("pli,pi->pl", X0, beta)
    else:
        xtx_inv = np.zeros((P, 0, 0))
        beta = np.zeros((P, 0))
        fitted = np.zeros((P, L0))
    resid = np.where(usable, t0 - fitted, np.nan)
    ssr = np.nansum(resid**2, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma2 = np.where(ok, ssr / (nobs - k), np.nan)
    beta = np.where(ok[:, None], beta, np.nan)
    xtx_inv = np.where(ok[:, None, None], xtx_inv, np.nan)
    return Fit(beta, xtx_inv, sigma2, nobs, resid, ok)
