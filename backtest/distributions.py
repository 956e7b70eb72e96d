"""The few distribution functions and sample statistics of scipy.stats the library needs.

``import scipy.stats`` costs about two seconds (it builds ~130 distribution objects and
their docstrings), more than the rest of a typical run's statistics. The functions
here call the same :mod:`scipy.special` routines that :mod:`scipy.stats` calls (scipy
1.17: ``t._sf`` is ``stdtr(df, -x)``, ``norm._cdf`` is ``ndtr``, ``chi2._cdf`` is
``chdtr``, ``f._cdf`` is ``fdtr``, ...) with the same handling of the support and of
invalid parameters, so the numbers are the same floats; ``tests/test_distributions.py``
compares each with :mod:`scipy.stats` on grids of inputs, edge cases included.

Scalars give NumPy scalars (as scipy.stats does), arrays give arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special

__all__ = [
    "average_ranks",
    "chi2_cdf",
    "chi2_sf",
    "f_cdf",
    "f_sf",
    "kurtosis",
    "norm_cdf",
    "norm_ppf",
    "norm_sf",
    "skew",
    "t_ppf",
    "t_sf",
]


def _out(value: npt.NDArray[np.float64]) -> Any:
    return value[()] if value.ndim == 0 else value


def _positive(*params: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    ok = np.ones((), dtype=bool)
    for p in params:
        ok = ok & (np.asarray(p, dtype=np.float64) > 0)
    return ok


def t_sf(x: npt.ArrayLike, df: npt.ArrayLike) -> Any:
    """Student's t survival function, ``scipy.stats.t.sf(x, df)``.

    Parameters
    ----------
    x : array_like
        Quantiles.
    df : array_like
        Degrees of freedom (> 0; otherwise the result is NaN).

    Returns
    -------
    numpy.float64 or numpy.ndarray
        :math:`P(T_{df} > x)`.
    """
    xa, d = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(df, dtype=np.float64))
    with np.errstate(invalid="ignore"):
        out = np.where(_positive(d) & ~np.isnan(xa), special.stdtr(d, -xa), np.nan)
    return _out(np.asarray(out, dtype=np.float64))


def t_ppf(q: npt.ArrayLike, df: npt.ArrayLike) -> Any:
    """Student's t quantile function, ``scipy.stats.t.ppf(q, df)``.

    Parameters
    ----------
    q : array_like
        Probabilities in [0, 1] (outside: NaN; 0 and 1 give -inf and inf).
    df : array_like
        Degrees of freedom (> 0; otherwise the result is NaN).

    Returns
    -------
    numpy.float64 or numpy.ndarray
        The quantile :math:`t` with :math:`P(T_{df} \\le t) = q`.
    """
    qa, d = np.broadcast_arrays(np.asarray(q, dtype=np.float64), np.asarray(df, dtype=np.float64))
    ok = _positive(d)
    with np.errstate(invalid="ignore"):
        inner = (qa > 0) & (qa < 1)
        out = np.where(ok & inner, special.stdtrit(d, np.where(inner, qa, 0.5)), np.nan)
        out = np.where(ok & (qa == 0), -np.inf, out)
        out = np.where(ok & (qa == 1), np.inf, out)
    return _out(np.asarray(out, dtype=np.float64))


def norm_cdf(x: npt.ArrayLike) -> Any:
    """Standard normal distribution function, ``scipy.stats.norm.cdf(x)`` (``ndtr``).

    Parameters
    ----------
    x : array_like
        Quantiles.

    Returns
    -------
    numpy.float64 or numpy.ndarray
        :math:`\\Phi(x)`.
    """
    return _out(np.asarray(special.ndtr(np.asarray(x, dtype=np.float64)), dtype=np.float64))


def norm_sf(x: npt.ArrayLike) -> Any:
    """Standard normal survival function, ``scipy.stats.norm.sf(x)`` (``ndtr(-x)``).

    Parameters
    ----------
    x : array_like
        Quantiles.

    Returns
    -------
    numpy.float64 or numpy.ndarray
        :math:`1 - \\Phi(x)`, computed as :math:`\\Phi(-x)`.
    """
    return _out(np.asarray(special.ndtr(-np.asarray(x, dtype=np.float64)), dtype=np.float64))


def norm_ppf(q: npt.ArrayLike) -> Any:
    """Standard normal quantile function, ``scipy.stats.norm.ppf(q)`` (``ndtri``).

    Parameters
    ----------
    q : array_like
        Probabilities; outside [0, 1] give NaN, 0 and 1 give -inf and inf.

    Returns
    -------
    numpy.float64 or numpy.ndarray
        :math:`\\Phi^{-1}(q)`.
    """
    qa = np.asarray(q, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        inside = (qa >= 0) & (qa <= 1)
        out = np.where(inside, special.ndtri(np.where(inside, qa, 0.5)), np.nan)
    return _out(np.asarray(out, dtype=np.float64))


def _nonnegative_support(
    x: npt.ArrayLike, params: tuple[npt.ArrayLike, ...], kernel: Any, at_zero: float
) -> Any:
    """A distribution on [0, inf): `kernel(x)` inside, `at_zero` at or below 0, 1 - it at inf."""
    arrays = np.broadcast_arrays(np.asarray(x, dtype=np.float64), *(np.asarray(p) for p in params))
    xa, ps = arrays[0], arrays[1:]
    ok = _positive(*ps) & ~np.isnan(xa)
    with np.errstate(invalid="ignore"):
        inner = (xa > 0) & (xa < np.inf)
        value = kernel(*(np.asarray(p, dtype=np.float64) for p in ps), np.where(inner, xa, 1.0))
        out = np.where(inner, value, np.where(xa <= 0, at_zero, 1.0 - at_zero))
    return _out(np.asarray(np.where(ok, out, np.nan), dtype=np.float64))


def chi2_cdf(x: npt.ArrayLike, df: npt.ArrayLike) -> Any:
    """Chi-squared distribution function, ``scipy.stats.chi2.cdf(x, df)`` (``chdtr``).

    Parameters
    ----------
    x : array_like
        Quantiles (0 at or below zero).
    df : array_like
        Degrees of freedom (> 0; otherwise the result is NaN).

    Returns
    -------
    numpy.float64 or numpy.ndarray
        :math:`P(\\chi^2_{df} \\le x)`.
    """
    return _nonnegative_support(x, (df,), lambda d, v: special.chdtr(d, v), 0.0)


def chi2_sf(x: npt.ArrayLike, df: npt.ArrayLike) -> Any:
    """Chi-squared survival function, ``scipy.stats.chi2.sf(x, df)`` (``chdtrc``).

    Parameters
    ----------
    x, df : array_like
        As :func:`chi2_cdf`.

    Returns
    -------
    numpy.float64 or numpy.ndarray
        :math:`P(\\chi^2_{df} > x)`.
    """
    return _nonnegative_support(x, (df,), lambda d, v: special.chdtrc(d, v), 1.0)


def f_cdf(x: npt.ArrayLike, dfn: npt.ArrayLike, dfd: npt.ArrayLike) -> Any:
    """F distribution function, ``scipy.stats.f.cdf(x, dfn, dfd)`` (``fdtr``).

    Parameters
    ----------
    x : array_like
        Quantiles (0 at or below zero).
    dfn, dfd : array_like
        Numerator and denominator degrees of freedom (> 0; otherwise NaN).

    Returns
    -------
    numpy.float64 or numpy.ndarray
        :math:`P(F_{dfn, dfd} \\le x)`.
    """
    return _nonnegative_support(x, (dfn, dfd), lambda n, d, v: special.fdtr(n, d, v), 0.0)


def f_sf(x: npt.ArrayLike, dfn: npt.ArrayLike, dfd: npt.ArrayLike) -> Any:
    """F survival function, ``scipy.stats.f.sf(x, dfn, dfd)`` (``fdtrc``).

    Parameters
    ----------
    x, dfn, dfd : array_like
        As :func:`f_cdf`.

    Returns
    -------
    numpy.float64 or numpy.ndarray
        :math:`P(F_{dfn, dfd} > x)`.
    """
    return _nonnegative_support(x, (dfn, dfd), lambda n, d, v: special.fdtrc(n, d, v), 1.0)


def average_ranks(a: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Ranks along the last axis, ties averaged, NaN left NaN.

    ``scipy.stats.rankdata(a, axis=-1, nan_policy="omit")``: each row is ranked
    1, 2, ... among its non-NaN values; tied values get the mean of their ranks.

    Parameters
    ----------
    a : array_like
        Values, 1-D or 2-D.

    Returns
    -------
    numpy.ndarray
        Float ranks, the shape of `a`.
    """
    arr = np.asarray(a, dtype=np.float64)
    rows = arr.reshape(-1, arr.shape[-1]) if arr.ndim else arr.reshape(1, 1)
    m, k = rows.shape
    if rows.size == 0:
        return np.full(arr.shape, np.nan)
    # NaN sorts last in each row, so the others' ordinal ranks are those without it
    order = np.argsort(rows, axis=1, kind="stable")
    ordered = np.take_along_axis(rows, order, axis=1)
    first = np.ones((m, k), dtype=bool)
    first[:, 1:] = ordered[:, 1:] != ordered[:, :-1]  # a new value (each NaN is one)
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, rows.size))
    average = (starts % k) + 1 + (counts - 1) / 2.0
    ranks = np.empty((m, k))
    np.put_along_axis(ranks, order, np.repeat(average, counts).reshape(m, k), axis=1)
    ranks[np.isnan(rows)] = np.nan
    return ranks.reshape(arr.shape)


def _central_moments(x: npt.NDArray[np.float64]) -> tuple[np.float64, Any, Any, Any]:
    """Mean and second to fourth central moments, with scipy's operations in order."""
    mean = np.mean(x, keepdims=True)
    d = x - mean
    m2 = np.mean(d**2)
    m3 = np.mean(d**2 * d)
    m4 = np.mean((d**2) ** 2)
    return mean[0], m2, m3, m4


def skew(x: npt.ArrayLike) -> float:
    """Sample skewness, biased: ``scipy.stats.skew(x, bias=True)`` of a 1-D sample.

    Parameters
    ----------
    x : array_like
        The sample (no NaN; a NaN gives NaN).

    Returns
    -------
    float
        The skewness; NaN for an empty or constant sample.

    Notes
    -----
    :math:`m_3 / m_2^{3/2}` with :math:`m_k` the k-th central sample moment; NaN when
    :math:`m_2 \\le (\\varepsilon \\bar x)^2` (a constant sample). Unlike scipy, no
    warning about precision loss is issued for nearly constant samples.
    """
    arr = np.asarray(x, dtype=np.float64)
    if arr.size == 0:
        return float("nan")
    mean, m2, m3, _ = _central_moments(arr)
    with np.errstate(all="ignore"):
        zero = m2 <= (np.finfo(np.float64).eps * mean) ** 2
        return float(np.nan if zero else m3 / m2**1.5)


def kurtosis(x: npt.ArrayLike) -> float:
    """Sample kurtosis (non-excess), biased: ``scipy.stats.kurtosis(x, fisher=False)``.

    Parameters
    ----------
    x : array_like
        The sample (no NaN; a NaN gives NaN).

    Returns
    -------
    float
        The kurtosis (3 for a normal distribution); NaN for an empty or constant sample.

    Notes
    -----
    :math:`m_4 / m_2^2` with :math:`m_k` the k-th central sample moment; NaN for a
    constant sample, as :func:`skew`.
    """
    arr = np.asarray(x, dtype=np.float64)
    if arr.size == 0:
        return float("nan")
    mean, m2, _, m4 = _central_moments(arr)
    with np.errstate(all="ignore"):
        zero = m2 <= (np.finfo(np.float64).eps * mean) ** 2
        return float(np.nan if zero else m4 / m2**2.0)
