"""Test statistics for event studies: parametric, rank, sign, resampling and multiple testing.

Pure numpy/scipy kernels; no pandas.  Every test returns a :class:`TestResult`.

Conventions
-----------
* ``N`` events are the rows of every array.  Two-dimensional inputs are aligned in
  event time: row ``i``, column ``j`` is relative day ``j`` of event ``i``'s
  estimation window (``L`` columns) or event window (``n`` columns).
* NaN means missing.  An event whose scalar input (CAR, SCAR, degrees of freedom) is
  NaN is dropped; means over days are NaN-aware.  Each function says which events
  enter the test, and ``TestResult.n`` counts them.
* Every p-value is two-sided.
* Too few events (or a degenerate sample) give a NaN statistic and p-value, never an
  exception.  Malformed arguments (wrong shapes, impossible settings) raise
  :class:`~backtest.errors.DataValidationError`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from backtest.distributions import average_ranks, norm_sf, t_sf
from backtest.errors import DataValidationError
from backtest.eventstudy.policy import DEFAULT_DRAWS

__all__ = [
    "TestResult",
    "benjamini_hochberg",
    "bmp",
    "bootstrap_caar",
    "corrado",
    "cross_sectional_t",
    "empirical_pvalue",
    "generalized_sign",
    "kolari_pynnonen",
    "mean_residual_correlation",
    "patell",
    "percentile_rank",
    "portfolio",
    "tie_tolerance",
    "wilcoxon",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Pairs with fewer common observations are skipped by :func:`mean_residual_correlation`.
MIN_COMMON_OBS = 3


class TestResult(NamedTuple):
    """Outcome of a test statistic.

    Attributes
    ----------
    statistic : float
        Value of the test statistic (NaN when the test cannot be computed).
    pvalue : float
        Two-sided p-value (NaN when the test cannot be computed).
    n : int
        Number of events that entered the test.
    """

    statistic: float
    pvalue: float
    n: int


TestResult.__test__ = False  # type: ignore[attr-defined]  # a result, not a pytest test class


# --------------------------------------------------------------------------- helpers


def _vector(x: npt.ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1:
        raise DataValidationError(
            f"{name} must be 1-D (one value per event), got shape {arr.shape}; "
            "pass one scalar per event, e.g. the CAR of each event"
        )
    return arr


def _panel(x: npt.ArrayLike, name: str, n_events: int | None = None) -> FloatArray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2:
        raise DataValidationError(
            f"{name} must be 2-D (events x relative days), got shape {arr.shape}; "
            "pass one row per event, aligned in event time"
        )
    if n_events is not None and arr.shape[0] != n_events:
        raise DataValidationError(
            f"{name} must have one row per event ({n_events}), got {arr.shape[0]} rows"
        )
    return arr


def _nan_result(n: int) -> TestResult:
    return TestResult(float("nan"), float("nan"), int(n))


def _t_pvalue(t: float, df: float) -> float:
    return float(2.0 * t_sf(abs(t), df))


def _norm_pvalue(z: float) -> float:
    return float(2.0 * norm_sf(abs(z)))


def _t_result(x: FloatArray) -> TestResult:
    """One-sample t test of a NaN-free sample against zero."""
    n = int(x.size)
    if n < 2:
        return _nan_result(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = float(x.mean() / (x.std(ddof=1) / np.sqrt(n)))
    return TestResult(t, _t_pvalue(t, n - 1), n)


def _day_means(a: FloatArray) -> FloatArray:
    """NaN-aware mean over events (rows) for each day (column); NaN where no data."""
    valid = ~np.isnan(a)
    count = valid.sum(axis=0)
    total = np.where(valid, a, 0.0).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(count > 0, total / count, np.nan)


# --------------------------------------------------------------------- parametric


def cross_sectional_t(car: npt.ArrayLike) -> TestResult:
    """Cross-sectional t test that the mean cumulative abnormal return is zero.

    Parameters
    ----------
    car : array_like, shape (N,)
        Cumulative abnormal return of each event over the event window, in any
        return unit (e.g. percent log returns, basis points).  NaN events are dropped.

    Returns
    -------
    TestResult
        ``statistic`` is the t statistic, ``pvalue`` two-sided from Student's t with
        ``N - 1`` degrees of freedom, ``n`` the number of non-NaN CARs.  NaN when
        fewer than two CARs remain; ``+-inf`` when all CARs are equal and non-zero.

    Notes
    -----
    With :math:`N` non-missing events,

    .. math::

        t = \\frac{\\overline{CAR}}{s_{CAR} / \\sqrt{N}}, \\qquad
        s_{CAR}^2 = \\frac{1}{N-1} \\sum_i (CAR_i - \\overline{CAR})^2,

    distributed :math:`t_{N-1}` under the null of i.i.d. normal CARs with mean zero.
    The test uses only the cross-section of CARs, so it is robust to event-induced
    variance but not to cross-sectional correlation (Brown and Warner 1985).

    References
    ----------
    .. [1] Brown, S. J. and J. B. Warner (1985). "Using daily stock returns: The case
       of event studies". Journal of Financial Economics 14(1), pp. 3-31.
    .. [2] MacKinlay, A. C. (1997). "Event studies in economics and finance".
       Journal of Economic Literature 35(1), pp. 13-39.

    Examples
    --------
    >>> res = cross_sectional_t([1.0, 2.0, 3.0, float("nan")])
    >>> round(res.statistic, 4), round(res.pvalue, 4), res.n
    (3.4641, 0.0742, 3)
    """
    x = _vector(car, "car")
    return _t_result(x[~np.isnan(x)])


def patell(scar: npt.ArrayLike, df: npt.ArrayLike) -> TestResult:
    """Patell (1976) standardised-residual test on standardised CARs.

    Parameters
    ----------
    scar : array_like, shape (N,)
        Standardised CAR of each event: :math:`CAR_i / \\sqrt{\\widehat{Var}(CAR_i)}`,
        with the variance corrected for forecast error (MacKinlay 1997, eq. 12).
        Dimensionless.
    df : array_like, shape (N,)
        Degrees of freedom of each event's estimation, :math:`L_i - k_i` (estimation
        days minus fitted parameters; ``L_i - 2`` for the market model).  ``inf``
        means a known variance (the SCAR is then standard normal).

    Returns
    -------
    TestResult
        ``statistic`` is the Patell Z, ``pvalue`` two-sided standard normal, ``n`` the
        number of events kept.  Events with NaN ``scar``, NaN ``df`` or ``df <= 2``
        (whose t variance is undefined) are dropped.  NaN when no event remains.

    Raises
    ------
    DataValidationError
        If ``scar`` and ``df`` are not 1-D arrays of the same length.

    Notes
    -----
    Under the null each :math:`SCAR_i` is Student-t with :math:`\\nu_i` degrees of
    freedom, hence has variance :math:`\\nu_i / (\\nu_i - 2)`.  Summing independent
    events,

    .. math::

        Z = \\frac{\\sum_i SCAR_i}{\\sqrt{\\sum_i \\nu_i / (\\nu_i - 2)}}
        \\;\\dot\\sim\\; N(0, 1).

    The test assumes no event-induced variance and no cross-sectional correlation.

    References
    ----------
    .. [1] Patell, J. M. (1976). "Corporate forecasts of earnings per share and
       stock price behavior: Empirical tests". Journal of Accounting Research
       14(2), pp. 246-276.
    .. [2] MacKinlay, A. C. (1997). "Event studies in economics and finance".
       Journal of Economic Literature 35(1), pp. 13-39.

    Examples
    --------
    Two events, each with 4 degrees of freedom (variance 4/2 = 2):

    >>> res = patell([1.0, 1.0], [4, 4])
    >>> res.statistic, round(res.pvalue, 4), res.n
    (1.0, 0.3173, 2)
    """
    s = _vector(scar, "scar")
    nu = _vector(df, "df")
    if nu.shape != s.shape:
        raise DataValidationError(
            f"df must have one value per event like scar ({s.size}), got {nu.size}"
        )
    keep = ~np.isnan(s) & (nu > 2)
    n = int(keep.sum())
    if n < 1:
        return _nan_result(n)
    nu_k = nu[keep]
    with np.errstate(invalid="ignore"):
        var = np.where(np.isinf(nu_k), 1.0, nu_k / (nu_k - 2.0))
    z = float(s[keep].sum() / np.sqrt(var.sum()))
    return TestResult(z, _norm_pvalue(z), n)


def bmp(scar: npt.ArrayLike) -> TestResult:
    """Boehmer, Musumeci and Poulsen (1991) standardised cross-sectional t test.

    Parameters
    ----------
    scar : array_like, shape (N,)
        Standardised CAR of each event (see :func:`patell`).  NaN events are dropped.

    Returns
    -------
    TestResult
        ``statistic`` is the BMP t, ``pvalue`` two-sided from Student's t with
        ``N - 1`` degrees of freedom, ``n`` the number of non-NaN SCARs.  NaN when
        fewer than two remain.

    Notes
    -----
    .. math::

        t_{BMP} = \\frac{\\overline{SCAR}}{s_{SCAR} / \\sqrt{N}}, \\qquad
        s_{SCAR}^2 = \\frac{1}{N-1} \\sum_i (SCAR_i - \\overline{SCAR})^2,

    compared with :math:`t_{N-1}`.  Standardising by the estimation-window variance
    weights events by precision (as Patell), while the cross-sectional variance of
    the SCARs makes the test robust to event-induced variance.

    References
    ----------
    .. [1] Boehmer, E., J. Musumeci and A. B. Poulsen (1991). "Event-study
       methodology under conditions of event-induced variance". Journal of
       Financial Economics 30(2), pp. 253-272.

    Examples
    --------
    >>> res = bmp([0.5, 1.0, 1.5, float("nan")])
    >>> round(res.statistic, 4), res.n
    (3.4641, 3)
    """
    x = _vector(scar, "scar")
    return _t_result(x[~np.isnan(x)])


# ------------------------------------------------------- cross-sectional correlation


def mean_residual_correlation(resid: npt.ArrayLike) -> float:
    """Average pairwise correlation of estimation-window residuals across events.

    Parameters
    ----------
    resid : array_like, shape (N, L)
        Estimation-window residuals aligned in event time: row ``i``, column ``j`` is
        relative day ``j`` of event ``i``'s estimation window.  NaN is missing.

    Returns
    -------
    float
        :math:`\\bar r`, the mean over pairs :math:`i < j` of the Pearson correlation
        of rows ``i`` and ``j`` on the columns where both are observed.  Pairs with
        fewer than 3 common observations, or with a row constant on the common
        columns, are skipped.  NaN when no pair is usable.

    Notes
    -----
    For a pair with common columns :math:`C_{ij}` (:math:`m = |C_{ij}|`),

    .. math::

        r_{ij} = \\frac{\\sum_{t \\in C_{ij}} (e_{it} - \\bar e_i)(e_{jt} - \\bar e_j)}
                      {\\sqrt{\\sum_{t \\in C_{ij}} (e_{it} - \\bar e_i)^2
                              \\sum_{t \\in C_{ij}} (e_{jt} - \\bar e_j)^2}},
        \\qquad \\bar r = \\frac{2}{P} \\sum_{i<j} r_{ij},

    with the means :math:`\\bar e_i, \\bar e_j` taken over :math:`C_{ij}` and
    :math:`P` usable pairs.  All pairs are computed at once from the masked cross
    products :math:`E M^\\top`, :math:`E^2 M^\\top` and :math:`E E^\\top`
    (:math:`E` the zero-filled residuals, :math:`M` the observed mask), so memory is
    :math:`O(N^2)`.

    References
    ----------
    .. [1] Kolari, J. W. and S. Pynnönen (2010). "Event study testing with
       cross-sectional correlation of abnormal returns". Review of Financial
       Studies 23(11), pp. 3996-4025.

    Examples
    --------
    >>> resid = [[1, 2, 3, 4], [2, 4, 6, 8], [4, 3, 2, 1]]
    >>> round(mean_residual_correlation(resid), 4)  # (1 - 1 - 1) / 3
    -0.3333
    """
    x = _panel(resid, "resid")
    n_events = x.shape[0]
    if n_events < 2:
        return float("nan")
    obs = ~np.isnan(x)
    mask = obs.astype(np.float64)
    count = mask.sum(axis=1)
    # Centre each row on its own mean first: the correlation is unchanged and the
    # one-pass sums below lose less precision.
    with np.errstate(divide="ignore", invalid="ignore"):
        row_mean = np.where(count > 0, np.where(obs, x, 0.0).sum(axis=1) / count, 0.0)
    e = np.where(obs, x - row_mean[:, None], 0.0)
    n_common = mask @ mask.T
    s_x = e @ mask.T  # s_x[i, j] = sum of e_i over columns common to i and j
    s_xx = (e * e) @ mask.T
    s_xy = e @ e.T
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = s_xy - s_x * s_x.T / n_common
        var = s_xx - s_x * s_x / n_common
        r = cov / np.sqrt(var * var.T)
    iu = np.triu_indices(n_events, k=1)
    var_i, var_j = var[iu], var.T[iu]
    # A row constant on the common columns has zero variance up to rounding.
    usable = (
        (n_common[iu] >= MIN_COMMON_OBS)
        & (var_i > 1e-12 * s_xx[iu])
        & (var_j > 1e-12 * s_xx.T[iu])
        & np.isfinite(r[iu])
    )
    if not usable.any():
        return float("nan")
    return float(np.clip(r[iu][usable], -1.0, 1.0).mean())


def kolari_pynnonen(scar: npt.ArrayLike, resid: npt.ArrayLike) -> TestResult:
    """Kolari and Pynnönen (2010) adjusted BMP test for cross-sectional correlation.

    Parameters
    ----------
    scar : array_like, shape (N,)
        Standardised CAR of each event (see :func:`patell`).  NaN events are dropped.
    resid : array_like, shape (N, L)
        Estimation-window residuals of the same events, aligned in event time (see
        :func:`mean_residual_correlation`).  Only the rows of events with a non-NaN
        SCAR are used.

    Returns
    -------
    TestResult
        ``statistic`` is the adjusted t, ``pvalue`` two-sided from Student's t with
        ``N - 1`` degrees of freedom, ``n`` the number of non-NaN SCARs.  NaN when
        fewer than two events remain, when no pair of residual rows is usable, or
        when :math:`1 + (N-1)\\bar r \\le 0`.

    Raises
    ------
    DataValidationError
        If ``resid`` does not have one row per event.

    Notes
    -----
    With :math:`\\bar r` the mean pairwise residual correlation of the :math:`N`
    events in the test,

    .. math::

        t_{KP} = t_{BMP} \\sqrt{\\frac{1 - \\bar r}{1 + (N - 1)\\bar r}},

    compared with :math:`t_{N-1}`.  With :math:`\\bar r = 0` it is the BMP test.

    **Which residuals.** The paper takes :math:`\\bar r` from the *daily*
    estimation-window residuals. This function uses whatever rows it is given, and
    :meth:`backtest.eventstudy.EventStudyResult.tests` gives it, by default
    (``kp_correlation="sums"``), the rolling **n-day sums** of the residuals, n the
    length of the CAR window: markets that close at different hours (Tokyo before
    New York) move together with a lag of one session, which daily same-date
    correlations miss but n-day CARs contain, and the test is about the correlation of
    the CARs. With ``kp_correlation="daily"`` it passes the daily residuals, the
    paper's version. For a one-day window the two coincide.

    References
    ----------
    .. [1] Kolari, J. W. and S. Pynnönen (2010). "Event study testing with
       cross-sectional correlation of abnormal returns". Review of Financial
       Studies 23(11), pp. 3996-4025.
    .. [2] Boehmer, E., J. Musumeci and A. B. Poulsen (1991). "Event-study
       methodology under conditions of event-induced variance". Journal of
       Financial Economics 30(2), pp. 253-272.

    Examples
    --------
    Orthogonal residual rows (:math:`\\bar r = 0`) leave the BMP t unchanged:

    >>> resid = [[1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]]
    >>> res = kolari_pynnonen([0.5, 1.0, 1.5], resid)
    >>> round(res.statistic, 4), res.n
    (3.4641, 3)
    """
    s = _vector(scar, "scar")
    e = _panel(resid, "resid", s.size)
    keep = ~np.isnan(s)
    base = _t_result(s[keep])
    n = base.n
    if n < 2:
        return _nan_result(n)
    rbar = mean_residual_correlation(e[keep])
    denom = 1.0 + (n - 1) * rbar
    if np.isnan(rbar) or denom <= 0:
        return _nan_result(n)
    t = float(base.statistic * np.sqrt((1.0 - rbar) / denom))
    return TestResult(t, _t_pvalue(t, n - 1), n)


# ------------------------------------------------------------------ rank and sign


def _with_window(
    estimation: npt.ArrayLike, window: npt.ArrayLike, names: tuple[str, str]
) -> tuple[FloatArray, FloatArray, int]:
    """Estimation days and window days side by side, for the events with window data.

    Returns the validated estimation panel, the ``(n, L + W)`` joined rows of the events
    that have at least one non-NaN window value, and ``n``.
    """
    est = _panel(estimation, names[0])
    win = _panel(window, names[1], est.shape[0])
    keep = (~np.isnan(win)).any(axis=1)
    return est, np.hstack([est, win])[keep], int(keep.sum())


def corrado(ar_est: npt.ArrayLike, ar_win: npt.ArrayLike) -> TestResult:
    """Corrado (1989) rank test, multi-day, with Corrado-Zivney normalised ranks.

    Parameters
    ----------
    ar_est : array_like, shape (N, L)
        Abnormal returns over the estimation window, aligned in event time.
    ar_win : array_like, shape (N, n)
        Abnormal returns over the event window (``n`` days), aligned in event time.
        Events with no observed window return are dropped.

    Returns
    -------
    TestResult
        ``statistic`` is the rank statistic T, ``pvalue`` two-sided standard normal,
        ``n`` the number of events with at least one window observation.  NaN when
        no event remains or all mean ranks are zero.

    Raises
    ------
    DataValidationError
        If the two panels do not have the same number of rows.

    Notes
    -----
    For event :math:`i` with :math:`M_i` observed abnormal returns over the
    estimation and event windows together, let :math:`K_{it}` be the rank of
    :math:`AR_{it}` among them (ties get their average rank) and

    .. math::

        U_{it} = \\frac{K_{it}}{M_i + 1} - \\frac12, \\qquad
        \\bar U_t = \\frac{1}{N_t} \\sum_{i : AR_{it} \\text{ observed}} U_{it},

        S_U = \\sqrt{\\frac{1}{T_d} \\sum_t \\bar U_t^2}, \\qquad
        T = \\frac{\\sum_{t \\in W} \\bar U_t}{\\sqrt{n_w}\\, S_U}
        \\;\\dot\\sim\\; N(0, 1),

    where :math:`S_U` runs over the :math:`T_d` estimation and window days with some
    observation, :math:`W` is the event window and :math:`n_w` the number of its days
    with some observation.  Dividing by :math:`M_i + 1` (Corrado and Zivney 1992)
    puts events with missing returns on the same uniform scale; the sum over
    window days is the multi-day extension of Cowan (1992).

    References
    ----------
    .. [1] Corrado, C. J. (1989). "A nonparametric test for abnormal security-price
       performance in event studies". Journal of Financial Economics 23(2),
       pp. 385-395.
    .. [2] Corrado, C. J. and T. L. Zivney (1992). "The specification and power of
       the sign test in event study hypothesis tests using daily stock returns".
       Journal of Financial and Quantitative Analysis 27(3), pp. 465-478.
    .. [3] Cowan, A. R. (1992). "Nonparametric event study tests". Review of
       Quantitative Finance and Accounting 2(4), pp. 343-358.

    Examples
    --------
    Both events have their largest return on the event day:

    >>> res = corrado([[1, 2, 3], [2, 1, 3]], [[4], [4]])
    >>> round(res.statistic, 4), res.n  # 0.3 / sqrt(0.045) = sqrt(2)
    (1.4142, 2)
    """
    est, a, n = _with_window(ar_est, ar_win, ("ar_est", "ar_win"))
    if n < 1:
        return _nan_result(n)
    ranks = average_ranks(a)
    m = (~np.isnan(a)).sum(axis=1)
    u = ranks / (m + 1.0)[:, None] - 0.5
    ubar = _day_means(u)
    defined = ~np.isnan(ubar)
    s_u = np.sqrt(np.mean(ubar[defined] ** 2))
    u_win = ubar[est.shape[1] :]
    u_win = u_win[~np.isnan(u_win)]
    if not s_u > 1e-12:  # every mean rank at 1/2 (all ties): the statistic is 0/0
        return _nan_result(n)
    z = float(u_win.sum() / (np.sqrt(u_win.size) * s_u))
    if not np.isfinite(z):
        return _nan_result(n)
    return TestResult(z, _norm_pvalue(z), n)


def generalized_sign(car: npt.ArrayLike, ar_est: npt.ArrayLike) -> TestResult:
    """Cowan (1992) generalized sign test.

    Parameters
    ----------
    car : array_like, shape (N,)
        Cumulative abnormal return of each event over the event window.
    ar_est : array_like, shape (N, L)
        Estimation-window abnormal returns of the same events (NaN is missing).
        Events with a NaN CAR or no observed estimation return are dropped.

    Returns
    -------
    TestResult
        ``statistic`` is the Z, ``pvalue`` two-sided standard normal, ``n`` the number
        of events kept.  NaN when no event remains or :math:`\\hat p \\in \\{0, 1\\}`.

    Raises
    ------
    DataValidationError
        If ``ar_est`` does not have one row per event.

    Notes
    -----
    With :math:`L_i` observed estimation returns for event :math:`i`,

    .. math::

        \\hat p = \\frac1N \\sum_i \\frac{1}{L_i} \\sum_t 1[AR_{it} > 0], \\qquad
        w = \\#\\{i : CAR_i > 0\\}, \\qquad
        Z = \\frac{w - N\\hat p}{\\sqrt{N \\hat p (1 - \\hat p)}}
        \\;\\dot\\sim\\; N(0, 1).

    Using the estimation-window fraction of positive returns instead of 1/2 corrects
    the plain sign test for skewed abnormal returns.

    References
    ----------
    .. [1] Cowan, A. R. (1992). "Nonparametric event study tests". Review of
       Quantitative Finance and Accounting 2(4), pp. 343-358.

    Examples
    --------
    >>> res = generalized_sign([1, 2, -1, 3], [[1, -1]] * 4)
    >>> res.statistic, res.n  # (3 - 4 * 0.5) / sqrt(4 * 0.25)
    (1.0, 4)
    """
    c = _vector(car, "car")
    est = _panel(ar_est, "ar_est", c.size)
    obs = ~np.isnan(est)
    n_obs = obs.sum(axis=1)
    keep = ~np.isnan(c) & (n_obs > 0)
    n = int(keep.sum())
    if n < 1:
        return _nan_result(n)
    positive = (np.where(obs, est, 0.0) > 0).sum(axis=1)
    p_hat = float(np.mean(positive[keep] / n_obs[keep]))
    if not 0.0 < p_hat < 1.0:
        return _nan_result(n)
    w = int((c[keep] > 0).sum())
    z = float((w - n * p_hat) / np.sqrt(n * p_hat * (1.0 - p_hat)))
    return TestResult(z, _norm_pvalue(z), n)


def wilcoxon(x: npt.ArrayLike) -> TestResult:
    """Wilcoxon signed-rank test that CARs (or SCARs) are centred on zero.

    Parameters
    ----------
    x : array_like, shape (N,)
        CAR or SCAR of each event.  NaN events are dropped; zeros are dropped as in
        Wilcoxon's original method (``zero_method="wilcox"``).

    Returns
    -------
    TestResult
        ``statistic`` is :math:`W^+`, ``pvalue`` two-sided from
        :func:`scipy.stats.wilcoxon` (``zero_method="wilcox"``, scipy's default
        exact/normal choice), ``n`` the number of non-zero, non-NaN values.  NaN when
        no such value remains.

    Notes
    -----
    With :math:`R_i` the rank of :math:`|x_i|` among the non-zero values (ties get
    their average rank),

    .. math::

        W^+ = \\sum_{i : x_i > 0} R_i, \\qquad
        E[W^+] = \\frac{n(n+1)}{4} \\text{ under the null.}

    The null is that the distribution of each :math:`x_i` is symmetric about zero.

    References
    ----------
    .. [1] Wilcoxon, F. (1945). "Individual comparisons by ranking methods".
       Biometrics Bulletin 1(6), pp. 80-83.

    Examples
    --------
    >>> res = wilcoxon([1.0, -2.0, 3.0, 4.0, 0.0])
    >>> res.statistic, res.pvalue, res.n  # W+ = 1 + 3 + 4; p = 2 * 3/16
    (8.0, 0.375, 4)
    """
    v = _vector(x, "x")
    v = v[~np.isnan(v)]
    nonzero = v[v != 0]
    n = int(nonzero.size)
    if n < 1:
        return _nan_result(n)
    ranks = average_ranks(np.abs(nonzero))
    w_plus = float(ranks[nonzero > 0].sum())
    return TestResult(w_plus, _wilcoxon_pvalue(v, ranks, w_plus), n)


def _wilcoxon_pvalue(v: FloatArray, ranks: FloatArray, w_plus: float) -> float:
    """Two-sided p-value of ``scipy.stats.wilcoxon(v, zero_method="wilcox")``.

    `v` holds the values (no NaN, zeros included), `ranks` the average ranks of the
    non-zero ones' absolute values, `w_plus` the sum of the positive ones'. scipy's
    default method (1.17): exact for at most 50 values without ties or zeros; a
    sign-flip permutation test (left to scipy, imported here) for at most 13 values
    with ties or zeros; else the normal approximation without continuity correction,
    with the tie correction of the variance.
    """
    size, n = v.size, ranks.size
    _, counts = np.unique(ranks, return_counts=True)
    ties = bool((counts > 1).any())
    zeros = size > n
    if size <= 50 and not ties and not zeros:
        pmf = _wilcoxon_null(n)
        mean = n * (n + 1) / 4
        k = math.floor(w_plus)  # integral: no ties
        sf = pmf[k:].sum() if k <= mean else 1 - pmf[:k].sum()
        cdf = pmf[: k + 1].sum() if k <= mean else 1 - pmf[k + 1 :].sum()
        return float(np.clip(2 * np.minimum(sf, cdf), 0, 1))
    if size <= 13:
        from scipy import stats  # the permutation test: rare, and scipy.stats is slow to import

        return float(stats.wilcoxon(v, zero_method="wilcox", alternative="two-sided").pvalue)
    count = float(n)
    mn = count * (count + 1.0) * 0.25
    se = count * (count + 1.0) * (2.0 * count + 1.0)
    t = counts.astype(np.float64)
    se = math.sqrt((se - float(np.sum(t**3 - t)) / 2) / 24)
    z = (w_plus - mn) / se
    return float(2 * norm_sf(abs(z)))


def _wilcoxon_null(n: int) -> FloatArray:
    """Null distribution of :math:`W^+` for `n` untied values (scipy's recursion)."""
    c = np.ones(1, dtype=np.float64)
    for k in range(1, n + 1):
        prev = c
        c = np.zeros(k * (k + 1) // 2 + 1, dtype=np.float64)
        m = len(prev)
        c[:m] = prev * 0.5
        c[-m:] += prev * 0.5
    return c


# ------------------------------------------------------------ dependence-robust


def portfolio(sar_est: npt.ArrayLike, sar_win: npt.ArrayLike) -> TestResult:
    """Brown and Warner "crude dependence adjustment" on standardised abnormal returns.

    Parameters
    ----------
    sar_est : array_like, shape (N, L)
        Standardised abnormal returns over the estimation window, aligned in event
        time (dimensionless).
    sar_win : array_like, shape (N, n)
        Standardised abnormal returns over the event window.  Events with no
        observed window value are dropped.

    Returns
    -------
    TestResult
        ``statistic`` is the t, ``pvalue`` two-sided from Student's t with (number of
        estimation days with a portfolio value) - 1 degrees of freedom, ``n`` the
        number of events kept.  NaN when no event remains, fewer than two estimation
        days have a value, or the portfolio is constant over the estimation window.

    Raises
    ------
    DataValidationError
        If the two panels do not have the same number of rows.

    Notes
    -----
    The equally weighted portfolio of the events in event time,
    :math:`p_t = \\frac{1}{N_t}\\sum_{i} SAR_{it}` (NaN-aware), is tested against its
    own time-series dispersion over the :math:`L_d` estimation days with a value:

    .. math::

        \\hat\\sigma_p^2 = \\frac{1}{L_d - 1} \\sum_{t \\in E} (p_t - \\bar p_E)^2,
        \\qquad
        T = \\frac{\\sum_{t \\in W} p_t}{\\hat\\sigma_p \\sqrt{n_w}} \\sim t_{L_d - 1},

    with :math:`n_w` window days that have a value.  Because the variance is that of
    the portfolio itself, any cross-sectional correlation of the events is accounted
    for; the price is lower power than the cross-sectional tests.

    References
    ----------
    .. [1] Brown, S. J. and J. B. Warner (1980). "Measuring security price
       performance". Journal of Financial Economics 8(3), pp. 205-258.
    .. [2] Brown, S. J. and J. B. Warner (1985). "Using daily stock returns: The case
       of event studies". Journal of Financial Economics 14(1), pp. 3-31.

    Examples
    --------
    >>> res = portfolio([[1, -1, 1, -1], [1, -1, 1, -1]], [[2], [2]])
    >>> round(res.statistic, 4), res.n  # 2 / sqrt(4/3) = sqrt(3)
    (1.7321, 2)
    """
    est, joined, n = _with_window(sar_est, sar_win, ("sar_est", "sar_win"))
    if n < 1:
        return _nan_result(n)
    p = _day_means(joined)
    p_est = p[: est.shape[1]]
    p_est = p_est[~np.isnan(p_est)]
    p_win = p[est.shape[1] :]
    p_win = p_win[~np.isnan(p_win)]
    if p_est.size < 2:
        return _nan_result(n)
    sigma = p_est.std(ddof=1)
    if sigma == 0:
        return _nan_result(n)
    t = float(p_win.sum() / (sigma * np.sqrt(p_win.size)))
    return TestResult(t, _t_pvalue(t, p_est.size - 1), n)


# ------------------------------------------------------------------- resampling


def bootstrap_caar(
    resid: npt.ArrayLike,
    car: npt.ArrayLike,
    n_days: int,
    clusters: npt.ArrayLike | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
) -> TestResult:
    """Resampling p-value for the CAAR from pseudo-event windows in the estimation period.

    Parameters
    ----------
    resid : array_like, shape (N, L)
        Estimation-window residuals aligned in event time (NaN is missing).
    car : array_like, shape (N,)
        Observed CAR of each event over an ``n_days`` window, in the same unit as
        ``resid``.  Events with a NaN CAR are dropped.
    n_days : int
        Length of the event window, ``1 <= n_days <= L``.
    clusters : array_like of int, shape (N,), optional
        Cluster label of each event (e.g. an integer code of the event date).
        Events with the same label share the same pseudo-window in every draw, which
        preserves their cross-correlation.  By default every event is its own
        cluster.
    draws : int, default :data:`~backtest.eventstudy.policy.DEFAULT_DRAWS` (9999)
        Number of resamples, ``>= 1``.
    seed : int, default 0
        Seed of :func:`numpy.random.default_rng`; the result is reproducible.

    Returns
    -------
    TestResult
        ``statistic`` is the observed :math:`CAAR = \\operatorname{nanmean}(CAR)`,
        ``pvalue`` the two-sided resampling p-value, ``n`` the number of non-NaN CARs.
        NaN when every CAR is NaN.

    Raises
    ------
    DataValidationError
        If shapes disagree, ``n_days`` is not in ``[1, L]`` or ``draws < 1``.

    Notes
    -----
    In draw :math:`b` every cluster :math:`g` gets an offset
    :math:`o_g^b \\sim U\\{0, \\dots, L - n_{days}\\}` and each event :math:`i` in it a
    pseudo CAR

    .. math::

        CAR_i^{*b} = \\sum_{j=0}^{n_{days}-1} e_{i, o_g^b + j}

    (NaN-aware; NaN when all are missing), and
    :math:`CAAR^{*b}` is the NaN-aware mean over events.  With :math:`B` draws whose
    :math:`CAAR^{*b}` is defined,

    .. math::

        p = \\frac{1 + \\#\\{b : |CAAR^{*b}| \\ge |CAAR|\\}}{1 + B}.

    The pseudo-windows reproduce each event's own residual distribution and
    autocorrelation without a normality assumption.  Memory is
    :math:`O(\\text{draws} \\times N)`.

    References
    ----------
    .. [1] Brown, S. J. and J. B. Warner (1980). "Measuring security price
       performance". Journal of Financial Economics 8(3), pp. 205-258.
    .. [2] Davison, A. C. and D. V. Hinkley (1997). Bootstrap Methods and their
       Application. Cambridge University Press, ch. 4.
    .. [3] Phipson, B. and G. K. Smyth (2010). "Permutation p-values should never be
       zero: Calculating exact p-values when permutations are randomly drawn".
       Statistical Applications in Genetics and Molecular Biology 9(1), Article 39.

    Examples
    --------
    Every pseudo CAR is 3 x 0.01, below the observed CAAR of 0.05:

    >>> import numpy as np
    >>> res = bootstrap_caar(np.full((3, 10), 0.01), [0.05, 0.04, 0.06], 3, draws=999)
    >>> round(res.statistic, 4), res.pvalue, res.n  # p = 1 / (1 + 999)
    (0.05, 0.001, 3)
    """
    c = _vector(car, "car")
    e = _panel(resid, "resid", c.size)
    length = e.shape[1]
    if isinstance(n_days, bool) or not isinstance(n_days, int | np.integer):
        raise DataValidationError(f"n_days must be an integer, got {n_days!r}")
    if not 1 <= n_days <= length:
        raise DataValidationError(
            f"n_days must be between 1 and the estimation length {length}, got {n_days}; "
            "use a longer estimation window or a shorter event window"
        )
    if draws < 1:
        raise DataValidationError(f"draws must be >= 1, got {draws}")
    keep = ~np.isnan(c)
    n = int(keep.sum())
    if n < 1:
        return _nan_result(n)
    caar = float(c[keep].mean())
    if clusters is None:
        group = np.arange(n)
    else:
        labels = np.asarray(clusters)
        if labels.shape != c.shape:
            raise DataValidationError(
                f"clusters must have one label per event ({c.size}), got shape {labels.shape}"
            )
        _, group = np.unique(labels[keep], return_inverse=True)
    n_groups = int(group.max()) + 1
    rng = np.random.default_rng(seed)
    offsets = rng.integers(0, length - n_days + 1, size=(draws, n_groups))[:, group]
    e = e[keep]
    obs = ~np.isnan(e)
    filled = np.where(obs, e, 0.0)
    # every event's pseudo-window sum for each possible start, summed day by day in the
    # order a draw sums them (so the same floats), then picked by each draw's start
    starts = length - n_days + 1
    sums = np.zeros((n, starts))
    counts = np.zeros((n, starts), dtype=np.int64)
    for j in range(n_days):  # loop over days, not events
        sums += filled[:, j : j + starts]
        counts += obs[:, j : j + starts]
    rows = np.arange(n)[None, :]
    # C order, as the (draws, n) sums a draw-by-draw loop makes: the sum over events
    # below then adds in the same order
    total = np.ascontiguousarray(sums[rows, offsets])
    count = np.ascontiguousarray(counts[rows, offsets])
    has = count > 0
    n_has = has.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        caar_star = np.where(n_has > 0, np.where(has, total, 0.0).sum(axis=1) / n_has, np.nan)
    caar_star = caar_star[~np.isnan(caar_star)]
    exceed = int((np.abs(caar_star) >= abs(caar)).sum())
    return TestResult(caar, (1.0 + exceed) / (1.0 + caar_star.size), n)


#: Relative tolerance within which two sums count as tied in rank statistics.
TIE_RTOL = 1e-9


def tie_tolerance(value: npt.ArrayLike) -> np.ndarray:
    """Absolute tolerance for ties with `value`: ``TIE_RTOL * max(1, |value|)``.

    Changes in basis points are multiples of 0.01 bp, but their binary sums are not
    exact (``(4.15 - 4.01) * 100`` is ``14.000000000000057``): without a tolerance,
    equal historical moves would rank as smaller or larger depending on rounding.
    """
    return TIE_RTOL * np.maximum(1.0, np.abs(np.asarray(value, dtype=float)))


def empirical_pvalue(value: float, history: npt.ArrayLike) -> float:
    """Two-sided rank p-value of a value among a sample of past values.

    Parameters
    ----------
    value : float
        The observed value (e.g. a CAAR).
    history : array_like, shape (H,)
        Reference sample centred on zero under the null (e.g. placebo CAARs).
        NaN entries are dropped.

    Returns
    -------
    float
        :math:`(1 + \\#\\{h : |h| \\ge |v|\\}) / (1 + H)`; NaN if ``value`` is NaN or the
        history is empty.

    Notes
    -----
    Counting the observed value as one of the :math:`H + 1` draws keeps the
    p-value above zero and exact under exchangeability.

    References
    ----------
    .. [1] Phipson, B. and G. K. Smyth (2010). "Permutation p-values should never be
       zero: Calculating exact p-values when permutations are randomly drawn".
       Statistical Applications in Genetics and Molecular Biology 9(1), Article 39.

    Examples
    --------
    >>> round(empirical_pvalue(2.5, [-3, -1, 0, 1, 2, 3]), 4)  # (1 + 2) / 7
    0.4286
    """
    h = _vector(history, "history")
    h = h[~np.isnan(h)]
    if np.isnan(value) or h.size == 0:
        return float("nan")
    tol = tie_tolerance(value)
    return float((1 + int((np.abs(h) >= abs(value) - tol).sum())) / (1 + h.size))


def percentile_rank(value: float, history: npt.ArrayLike) -> float:
    """Percentile rank of a value in a sample: percent of the sample at or below it.

    Parameters
    ----------
    value : float
        The observed value.
    history : array_like, shape (H,)
        Reference sample; NaN entries are dropped.

    Returns
    -------
    float
        :math:`100 \\cdot \\#\\{h \\le v\\} / H`, in percent; NaN if ``value`` is NaN
        or the history is empty.

    Notes
    -----
    This is the empirical distribution function of the history at ``value``,
    :math:`100\\,\\hat F_H(v)` (the ``kind="weak"`` convention of
    :func:`scipy.stats.percentileofscore`).

    References
    ----------
    .. [1] Hyndman, R. J. and Y. Fan (1996). "Sample quantiles in statistical
       packages". The American Statistician 50(4), pp. 361-365.

    Examples
    --------
    >>> round(percentile_rank(1, [-3, -1, 0, 1, 2, 3, float("nan")]), 4)  # 4 of 6
    66.6667
    """
    h = _vector(history, "history")
    h = h[~np.isnan(h)]
    if np.isnan(value) or h.size == 0:
        return float("nan")
    return float(100.0 * (h <= value + tie_tolerance(value)).sum() / h.size)


# ------------------------------------------------------------- multiple testing


def benjamini_hochberg(pvalues: npt.ArrayLike) -> FloatArray:
    """Benjamini-Hochberg step-up adjusted p-values (false discovery rate).

    Parameters
    ----------
    pvalues : array_like, shape (m,)
        Raw p-values in ``[0, 1]``.  NaN entries stay NaN and are not counted.

    Returns
    -------
    numpy.ndarray of float, shape (m,)
        Adjusted p-values, in the input order, capped at 1.  Rejecting those
        ``<= q`` controls the false discovery rate at ``q`` for independent tests.

    Raises
    ------
    DataValidationError
        If ``pvalues`` is not 1-D or has a value outside ``[0, 1]``.

    Notes
    -----
    With the :math:`m` non-NaN p-values sorted,
    :math:`p_{(1)} \\le \\dots \\le p_{(m)}`,

    .. math::

        \\tilde p_{(k)} = \\min\\Big(1, \\min_{j \\ge k} \\frac{m\\, p_{(j)}}{j}\\Big),

    which is monotone in :math:`k` and never below :math:`p_{(k)}`.

    References
    ----------
    .. [1] Benjamini, Y. and Y. Hochberg (1995). "Controlling the false discovery
       rate: A practical and powerful approach to multiple testing". Journal of the
       Royal Statistical Society, Series B 57(1), pp. 289-300.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03, float("nan")]).round(4).tolist()
    [0.03, 0.04, 0.04, nan]
    """
    p = _vector(pvalues, "pvalues")
    ok = ~np.isnan(p)
    q = p[ok]
    if ((q < 0) | (q > 1)).any():
        bad = q[(q < 0) | (q > 1)][0]
        raise DataValidationError(f"pvalues must lie in [0, 1], got {bad}")
    m = q.size
    out = np.full(p.shape, np.nan)
    if m == 0:
        return out
    order = np.argsort(q, kind="stable")
    scaled = q[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    q_adj = np.empty(m)
    q_adj[order] = adjusted
    out[ok] = q_adj
    return out
