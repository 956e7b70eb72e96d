"""Abnormal-volatility tests: did the variance of the changes rise (or fall) around events?

Both tests read the event-window standardised abnormal changes ``SAR_t = AR_t /
sd(AR_t)`` of each (event, series) pair: for the OLS models ``sd(AR_t)`` is the
forecast-error standard deviation ``sqrt(s^2 (1 + x_t' (X'X)^{-1} x_t))``
(:mod:`backtest.eventstudy.models`); for ``garch`` the square root of the conditional
variance forecast from the end of the estimation window
(:mod:`backtest.eventstudy.garch`).

**Variance ratio per event** (:func:`variance_ratio`). Over the ``n`` days of a
window with an abnormal change, ``VR = (1/n) sum_t SAR_t^2``. Under the null of no
event-induced variance (normal changes):

* ``garch`` (variance known): ``n VR ~ chi2(n)``;
* OLS models (variance estimated with ``L - k`` degrees of freedom):
  ``VR ~ F(n, L - k)`` (exact for ``raw``; for estimated coefficients the ARs of
  one event share the estimation error, which the ``1 + x' (X'X)^{-1} x`` term
  sizes but whose small cross-day correlation the F law ignores).

The p-value is two-sided (a variance that rises and one that falls, e.g. after an
announcement resolves uncertainty, are both abnormal): ``2 min(P(X <= x), P(X >= x))``.

**Cross-sectional test** (:func:`savickas`), after Savickas (2003). Savickas's
test is one of *mean* abnormal returns: each event's abnormal return is standardised
by its GARCH conditional standard deviation and the test across events uses the
cross-sectional variance of the standardised values (Boehmer, Musumeci and Poulsen
1991), so it needs no assumption that the event leaves variances unchanged, nor that
every event changes them alike (in this library that mean test is ``bmp`` of
:meth:`~backtest.eventstudy.EventStudyResult.tests` under ``model="garch"``). Here the
same construction is applied to the *squared* standardised changes, to test the
variance itself: with ``q_i = VR_i / m_i`` the event's variance ratio over its null mean
``m_i`` (``1`` for ``garch``; ``E[F(n, nu)] = nu / (nu - 2)`` for the OLS models, so
the estimation error of ``s^2`` does not count as volatility), H0 "no event-induced
volatility" is ``E[q_i] = 1``, and::

    t = (mean(q) - 1) / (sd(q) / sqrt(N)),   sd with ddof = 1,

two-sided from Student's t with ``N - 1`` degrees of freedom. For a one-day window
``q_i`` is ``SAR_i^2`` (over ``m_i``). Like every test on squared abnormal changes it
also responds to a large common mean reaction (a big AR is a big squared AR): read it
beside the CAR tests. It assumes independent events: events sharing a day-0 date (one
date, several series of a group; or two events of one calendar on the same day) make
it invalid, and the result says so.

**By date** (:func:`savickas_by_date`): the same statistic on the mean ``q`` of each
day-0 date (``M`` dates, ``M - 1`` degrees of freedom), so that pairs reacting on
the same date, correlated or literally the same window, count once. Dates are
assumed independent; without shared dates it equals :func:`savickas`. It is the
recommended test when dates are shared (as Kolari-Pynnonen is for the CAR tests).

References
----------
Savickas, R. (2003). Event-induced volatility and tests for abnormal performance.
*Journal of Financial Research*, 26(2), 165-178.

Boehmer, E., Musumeci, J. and Poulsen, A. B. (1991). Event-study methodology under
conditions of event-induced variance. *Journal of Financial Economics*, 30(2), 253-272.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from backtest.distributions import chi2_cdf, chi2_sf, f_cdf, f_sf, t_sf
from backtest.errors import DataValidationError
from backtest.eventstudy.stats import TestResult

__all__ = ["VarianceRatios", "null_mean", "savickas", "savickas_by_date", "variance_ratio"]


class VarianceRatios(NamedTuple):
    """Per-event variance ratios (arrays of shape ``(N,)``).

    Attributes
    ----------
    n : numpy.ndarray
        Days with a standardised abnormal change.
    vr : numpy.ndarray
        ``mean(SAR_t^2)`` over those days (NaN when ``n = 0``).
    statistic : numpy.ndarray
        ``n VR`` (chi-square, known variance) or ``VR`` (F, estimated variance).
    pvalue : numpy.ndarray
        Two-sided p-value.
    distribution : numpy.ndarray
        ``"chi2(n)"`` or ``"F(n, df)"`` per event.
    """

    n: np.ndarray
    vr: np.ndarray
    statistic: np.ndarray
    pvalue: np.ndarray
    distribution: np.ndarray


def null_mean(df: npt.ArrayLike) -> np.ndarray:
    """Mean of a variance ratio under H0: ``df / (df - 2)``, or 1 for ``df = inf``.

    NaN for ``df <= 2`` (the F mean is undefined).
    """
    d = np.asarray(df, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isinf(d), 1.0, np.where(d > 2, d / (d - 2.0), np.nan))


def variance_ratio(sar: npt.ArrayLike, df: npt.ArrayLike) -> VarianceRatios:
    """Variance ratio ``mean(SAR_t^2)`` of each event's window and its p-value.

    Parameters
    ----------
    sar : array_like, shape (N, W)
        Standardised abnormal changes of the window's days, NaN on days without one.
    df : array_like, shape (N,)
        Degrees of freedom of each event's variance estimate: ``L - k`` for the OLS
        models (F law), ``inf`` for a known variance (``garch``: chi-square law).

    Returns
    -------
    VarianceRatios

    Raises
    ------
    DataValidationError
        If `sar` is not 2-D or `df` does not have one entry per row.
    """
    x = np.asarray(sar, dtype=np.float64)
    d = np.asarray(df, dtype=np.float64)
    if x.ndim != 2 or d.shape != (x.shape[0],):
        raise DataValidationError(
            f"variance_ratio: sar must be (N, W) and df (N,); got {x.shape} and {d.shape}"
        )
    ok = np.isfinite(x)
    n = ok.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        vr = np.where(n > 0, np.where(ok, x * x, 0.0).sum(axis=1) / n, np.nan)
    known = np.isinf(d)
    nn = np.maximum(n, 1).astype(np.float64)
    dd = np.where(known | ~(d > 0), 1.0, d)
    stat = np.where(known, n * vr, vr)
    lower = np.where(known, chi2_cdf(stat, nn), f_cdf(stat, nn, dd))
    upper = np.where(known, chi2_sf(stat, nn), f_sf(stat, nn, dd))
    pvalue = np.minimum(1.0, 2.0 * np.minimum(lower, upper))
    bad = (n == 0) | ~(known | (d > 0))
    pvalue = np.where(bad, np.nan, pvalue)
    stat = np.where(bad, np.nan, stat)
    dist = np.array(
        [
            f"chi2({k})" if inf else f"F({k}, {v:g})"
            for k, inf, v in zip(n.tolist(), known.tolist(), d.tolist(), strict=True)
        ],
        dtype=object,
    )
    return VarianceRatios(n=n, vr=vr, statistic=stat, pvalue=pvalue, distribution=dist)


def savickas(q: npt.ArrayLike) -> TestResult:
    """Cross-sectional test of event-induced volatility (Savickas 2003, BMP style).

    Parameters
    ----------
    q : array_like, shape (N,)
        Each event's variance ratio over its null mean, ``VR_i / m_i``
        (:func:`null_mean`); 1 in expectation under H0. NaN entries are dropped.

    Returns
    -------
    TestResult
        ``statistic`` ``(mean(q) - 1) / (sd(q) / sqrt(N))``, ``pvalue`` two-sided from
        Student's t with ``N - 1`` degrees of freedom; NaN with fewer than two events
        or no cross-sectional variation.

    Raises
    ------
    DataValidationError
        If `q` is not 1-D.
    """
    x = np.asarray(q, dtype=np.float64)
    if x.ndim != 1:
        raise DataValidationError(f"savickas: q must be 1-D; got shape {x.shape}")
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n < 2:
        return TestResult(float("nan"), float("nan"), n)
    sd = float(np.std(x, ddof=1))
    if not sd > 0:
        return TestResult(float("nan"), float("nan"), n)
    t = (float(np.mean(x)) - 1.0) / (sd / np.sqrt(n))
    return TestResult(t, float(2.0 * t_sf(abs(t), n - 1)), n)


def savickas_by_date(q: npt.ArrayLike, dates: npt.ArrayLike) -> TestResult:
    """:func:`savickas` on the mean ratio of each day-0 date (date-clustered).

    Parameters
    ----------
    q : array_like, shape (N,)
        Variance ratios over their null means (NaN entries dropped).
    dates : array_like, shape (N,)
        Day-0 date of each entry; entries with the same date are averaged first.

    Returns
    -------
    TestResult
        As :func:`savickas` over the ``M`` date means; ``n`` is ``M``.

    Raises
    ------
    DataValidationError
        If `q` and `dates` are not 1-D of the same length.
    """
    x = np.asarray(q, dtype=np.float64)
    d = np.asarray(dates)
    if x.ndim != 1 or d.shape != x.shape:
        raise DataValidationError(
            f"savickas_by_date: q and dates must be 1-D of one length; got {x.shape}, {d.shape}"
        )
    keep = np.isfinite(x)
    x, d = x[keep], d[keep]
    if x.size == 0:
        return TestResult(float("nan"), float("nan"), 0)
    _, cluster = np.unique(d, return_inverse=True)
    means = np.bincount(cluster, weights=x) / np.bincount(cluster)
    return savickas(means)
