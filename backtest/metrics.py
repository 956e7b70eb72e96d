r"""Strategy performance statistics and backtest-overfitting diagnostics.

Vectorised over strategies: the per-column passes (performance statistics, PBO block
sums) are numba kernels in :mod:`backtest.kernels`, the rest numpy/pandas/scipy.
:func:`deflated_sharpe_ratio` and :func:`expected_max_sharpe` evaluate Bailey & López de
Prado (2014) with scipy in the same operations, in the same order, as vectorbt's
``deflated_sharpe_ratio`` and ``approx_exp_max_sharpe`` (the tests check them against
vectorbt); nothing here imports vectorbt, which only the engine does.

All Sharpe ratios taken or returned by the PSR/DSR functions are **per period** (not
annualised); :func:`performance` reports annualised ones (divide by
:math:`\sqrt{P}`).

Conventions
-----------
* Returns are **simple** (not log) returns per period, as fractions (0.01 = 1 %).
  A DataFrame holds one strategy (or parameter combination) per column; a Series is
  one strategy.
* ``periods_per_year`` is the number of *return observations* per year: 252 for
  trading-day data (the default), 12 for monthly data.  It is not the number of
  calendar days: vectorbt's default ``year_freq`` of 365 days overstates the Sharpe
  ratio of trading-day data by :math:`\sqrt{365/252} - 1 \approx 20\,\%`.
* ``risk_free`` is an annual, effectively compounded rate (0.03 = 3 % a year),
  converted per period as :math:`r_f^{(p)} = (1 + r_f)^{1/P} - 1`, ``P`` =
  ``periods_per_year``.
* NaN returns are missing: they are left out of every mean, standard deviation and
  count, and compound as 0 in the equity curve.  NaN positions mean flat (0).
* Degenerate inputs (empty, a single return, zero variance, no losing period, no
  drawdown, no position) give NaN for the statistics they make undefined, never an
  exception or a warning.  Malformed arguments raise
  :class:`~backtest.errors.DataValidationError`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Literal, NamedTuple, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special

from backtest.distributions import kurtosis, norm_cdf, norm_ppf, skew
from backtest.errors import DataValidationError

__all__ = [
    "PBO_METRICS",
    "PERFORMANCE_COLUMNS",
    "PBOResult",
    "deflated_sharpe_ratio",
    "expected_max_sharpe",
    "pbo_block_bounds",
    "pbo_block_stats",
    "pbo_cscv",
    "pbo_from_block_stats",
    "per_period_risk_free",
    "performance",
    "probabilistic_sharpe_ratio",
    "probabilistic_sharpe_ratio_from_returns",
]

FloatArray = npt.NDArray[np.float64]

#: Columns of the frame returned by :func:`performance`, in order.
PERFORMANCE_COLUMNS: tuple[str, ...] = (
    "total_return",
    "cagr",
    "volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "calmar",
    "win_rate",
    "positive_days",
    "trades",
    "exposure",
    "turnover",
)

PBOMetric = Literal["sharpe", "mean"]
#: Performance measures accepted by :func:`pbo_cscv`.
PBO_METRICS: tuple[str, ...] = get_args(PBOMetric)


# --------------------------------------------------------------------------- helpers


def per_period_risk_free(risk_free: float, periods_per_year: float) -> float:
    r"""Convert an annual risk-free rate to a rate per period.

    Parameters
    ----------
    risk_free : float
        Annual, effectively compounded rate as a fraction (0.03 = 3 % a year).
        Must be greater than -1.
    periods_per_year : float
        Return observations per year (252 for trading days).  Must be positive.

    Returns
    -------
    float
        :math:`(1 + r_f)^{1/P} - 1`.

    Raises
    ------
    DataValidationError
        If ``periods_per_year`` is not a positive finite number or ``risk_free <= -1``.

    Examples
    --------
    Four quarters at 2 % compound to :math:`1.02^4 - 1 = 8.243216\,\%` a year:

    >>> round(per_period_risk_free(0.08243216, 4), 10)
    0.02
    """
    _check_periods_per_year(periods_per_year)
    if not (math.isfinite(risk_free) and risk_free > -1.0):
        raise DataValidationError(
            f"risk_free must be an annual rate greater than -1 (0.03 = 3 %), got {risk_free!r}"
        )
    return float((1.0 + risk_free) ** (1.0 / periods_per_year) - 1.0)


def _check_periods_per_year(periods_per_year: float) -> None:
    if not (math.isfinite(periods_per_year) and periods_per_year > 0):
        raise DataValidationError(
            f"periods_per_year must be a positive number of return observations per year "
            f"(252 for trading days, 12 for months), got {periods_per_year!r}"
        )


def _as_frame(obj: pd.Series | pd.DataFrame, name: str) -> pd.DataFrame:
    if isinstance(obj, pd.Series):
        return obj.to_frame()
    if isinstance(obj, pd.DataFrame):
        return obj
    raise DataValidationError(
        f"{name} must be a pandas Series or DataFrame, got {type(obj).__name__}; "
        f"wrap an array as pd.Series(values) or pd.DataFrame(values)"
    )


def _aligned_positions(
    positions: pd.Series | pd.DataFrame, returns: pd.Series | pd.DataFrame, frame: pd.DataFrame
) -> FloatArray:
    pos = _as_frame(positions, "positions")
    same_kind = isinstance(positions, pd.Series) == isinstance(returns, pd.Series)
    if not same_kind or pos.shape != frame.shape:
        raise DataValidationError(
            f"positions must have the shape of returns {frame.shape}, got "
            f"{type(positions).__name__} of shape {positions.shape}; "
            "use positions.reindex_like(returns)"
        )
    if not pos.index.equals(frame.index) or (
        isinstance(returns, pd.DataFrame) and not pos.columns.equals(frame.columns)
    ):
        raise DataValidationError(
            "positions must have the index and columns of returns; "
            "use positions.reindex_like(returns)"
        )
    return pos.to_numpy(dtype=np.float64, na_value=np.nan)  # NaN: flat (the kernels' rule)


def _trade_arrays(
    trade_returns: object, returns: pd.Series | pd.DataFrame, frame: pd.DataFrame
) -> list[FloatArray]:
    def one(values: object, label: object) -> FloatArray:
        arr = np.asarray(values, dtype=np.float64)
        if arr.ndim != 1:
            raise DataValidationError(
                f"trade_returns for {label!r} must be 1-D (one return per trade), "
                f"got shape {arr.shape}"
            )
        return arr[~np.isnan(arr)]

    if isinstance(returns, pd.Series):
        if isinstance(trade_returns, Mapping):
            raise DataValidationError(
                "trade_returns for a Series of returns must be one sequence of trade "
                "returns, got a mapping; pass e.g. [0.02, -0.01]"
            )
        return [one(trade_returns, returns.name)]
    if not isinstance(trade_returns, Mapping):
        raise DataValidationError(
            "trade_returns for a DataFrame of returns must map each column label to "
            f"its trade returns, got {type(trade_returns).__name__}; "
            "pass e.g. {'fast': [0.02, -0.01], 'slow': []}"
        )
    missing = [c for c in frame.columns if c not in trade_returns]
    if missing:
        raise DataValidationError(
            f"trade_returns has no entry for columns {missing!r}; give every column "
            "(an empty list for a column without trades)"
        )
    return [one(trade_returns[c], c) for c in frame.columns]


# --------------------------------------------------------------------------- performance


def performance(
    returns: pd.Series | pd.DataFrame,
    positions: pd.Series | pd.DataFrame | None = None,
    *,
    trade_returns: object = None,
    periods_per_year: float = 252,
    risk_free: float = 0.0,
    excess: pd.Series | pd.DataFrame | None = None,
) -> pd.DataFrame:
    r"""Performance statistics of one or many strategies.

    Parameters
    ----------
    returns : Series or DataFrame, shape (T,) or (T, K)
        Simple returns per period as fractions (0.01 = 1 %), one column per strategy
        or parameter combination.  NaN means missing.
    positions : Series or DataFrame, optional
        Target position held over each bar (so bar ``t`` earns ``returns[t]`` with
        ``positions[t]``), in units of capital (1 = fully long, -0.5 = half short).
        Same type, shape, index and columns as ``returns``; NaN means flat.  The
        position before the first bar is taken to be 0.
    trade_returns : sequence of float, or mapping of column label to sequence, optional
        Return of each closed trade.  For a Series of ``returns`` one sequence; for a
        DataFrame a mapping with an entry (possibly empty) for every column.  When
        given, ``win_rate`` and ``trades`` are computed from it.
    periods_per_year : float, default 252
        Return observations per year: 252 for trading days (not 365), 12 for months.
    risk_free : float, default 0.0
        Annual risk-free rate as a fraction, see :func:`per_period_risk_free`.
    excess : Series or DataFrame, optional
        The same returns in excess of a time-varying risk-free rate (shape of
        ``returns``): volatility, Sharpe and Sortino are then those of `excess`, and
        `risk_free` must be 0.

    Returns
    -------
    DataFrame
        One row per column of ``returns`` (one row, labelled like
        ``Series.to_frame()``, for a Series), columns :data:`PERFORMANCE_COLUMNS`,
        all float64:

        ``total_return``
            :math:`\prod_t (1 + r_t) - 1`.
        ``cagr``
            :math:`(1 + \text{total})^{P/n} - 1`.
        ``volatility``
            :math:`s \sqrt{P}`, ``s`` the sample standard deviation (ddof=1).
        ``sharpe``
            :math:`\bar x / s_x \cdot \sqrt{P}`, with excess returns
            :math:`x_t = r_t - r_f^{(p)}`.
        ``sortino``
            :math:`\bar x / DD \cdot \sqrt{P}` with downside deviation
            :math:`DD = \sqrt{\tfrac1n \sum_t \min(x_t, 0)^2}`.
        ``max_drawdown``
            :math:`\max_t (1 - E_t / \max(1, \max_{s \le t} E_s))`, a positive
            fraction, on the equity curve :math:`E_t = \prod_{s \le t} (1 + r_s)`.
        ``calmar``
            ``cagr / max_drawdown``.
        ``win_rate``
            Share of winning trades: trades with a return > 0 over all trades in
            ``trade_returns``; NaN when ``trade_returns`` is not given.
        ``positive_days``
            Share of periods in the market with a positive return, :math:`r_t > 0`:
            in the market means a nonzero position when ``positions`` is given, and
            every non-missing period when it is not.  A share of periods, not of
            trades: compare ``win_rate``.
        ``trades``
            ``len(trade_returns)`` if given, else the number of entries: bars where
            the position becomes nonzero from 0 or flips sign.  NaN when neither
            ``trade_returns`` nor ``positions`` is given.
        ``exposure``
            Share of periods with a nonzero position; NaN without ``positions``.
        ``turnover``
            Annualised mean absolute position change,
            :math:`\tfrac{P}{n} \sum_t |p_t - p_{t-1}|`, :math:`p_0 = 0`; NaN without
            ``positions``.

        Here ``n`` is the number of non-missing returns and ``P`` is
        ``periods_per_year``.

    Raises
    ------
    DataValidationError
        If ``returns`` is not a Series/DataFrame, ``positions`` or ``trade_returns``
        do not match it, or ``periods_per_year``/``risk_free`` are out of range.

    Notes
    -----
    **Undefined values.**  Sharpe and volatility need :math:`n \ge 2` and a
    non-constant series; Sortino needs at least one period with :math:`x_t < 0`
    (with no loss it is NaN rather than :math:`+\infty`); Calmar needs a drawdown;
    ``win_rate`` needs a trade and ``positive_days`` a period in the market.

    **Sharpe ratio.**  The sample ratio of mean to standard deviation of excess
    returns (Sharpe 1994), annualised by :math:`\sqrt{P}`, which assumes IID returns
    (Lo 2002 gives the correction for serial correlation).

    **Sortino ratio.**  The target (minimum acceptable return) is the per-period
    risk-free rate.  Following Sortino & Price (1994), the downside deviation is the
    root mean square of the shortfalls below the target over *all* ``n`` periods,
    with periods above the target counted as zero shortfall -- not the standard
    deviation of the negative periods alone.  vectorbt's ``sortino_ratio`` uses the
    same convention.

    **Maximum drawdown.**  The running peak starts at the initial capital 1, so a
    loss on the first bar is a drawdown.  (vectorbt's returns accessor starts the
    peak at the first bar's equity and would miss it.)

    **Turnover** counts both legs: opening and closing a unit position once a year
    gives a turnover of 2 (200 % of capital traded a year).  A position still open
    at the end of the sample is not closed.

    References
    ----------
    .. [1] Sharpe, W. F. (1994). "The Sharpe ratio". Journal of Portfolio Management
       21(1), pp. 49-58.
    .. [2] Lo, A. W. (2002). "The statistics of Sharpe ratios". Financial Analysts
       Journal 58(4), pp. 36-52.
    .. [3] Sortino, F. A. and Price, L. N. (1994). "Performance measurement in a
       downside risk framework". Journal of Investing 3(3), pp. 59-64.
    .. [4] Young, T. W. (1991). "Calmar ratio: A smoother tool". Futures, October
       1991.

    Examples
    --------
    >>> r = pd.Series([0.01, -0.02, 0.03, 0.0], name="rule")
    >>> perf = performance(r, periods_per_year=4)
    >>> perf.loc["rule", ["total_return", "max_drawdown"]].round(6).tolist()
    [0.019494, 0.02]
    """
    _check_periods_per_year(periods_per_year)
    rf_p = per_period_risk_free(risk_free, periods_per_year)
    frame = _as_frame(returns, "returns")
    r = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    if r.ndim != 2:  # pragma: no cover - pandas guarantees 2-D
        raise DataValidationError(f"returns must be 2-D, got shape {r.shape}")
    p = None if positions is None else _aligned_positions(positions, returns, frame)
    trade_counts = None
    if trade_returns is not None:
        per_col = _trade_arrays(trade_returns, returns, frame)
        counts = np.array([a.size for a in per_col], dtype=np.float64)
        wins = np.array([(a > 0).sum() for a in per_col], dtype=np.float64)
        trade_counts = [counts, wins]
    x = None
    if excess is not None:
        if risk_free != 0.0:
            raise DataValidationError("performance: pass either excess returns or risk_free")
        x = _as_frame(excess, "excess").to_numpy(dtype=np.float64, na_value=np.nan)
        if x.shape != r.shape:
            raise DataValidationError(
                f"performance: excess has shape {x.shape}, returns {r.shape}; they must match"
            )
    data, _ = performance_arrays(r, p, trade_counts, rf_p, float(periods_per_year), excess=x)
    return pd.DataFrame(data, index=frame.columns, columns=list(PERFORMANCE_COLUMNS))


def performance_arrays(
    r: FloatArray,
    p: FloatArray | None,
    trade_counts: list[FloatArray] | None,
    rf_p: float,
    periods_per_year: float,
    excess: FloatArray | None = None,
) -> tuple[dict[str, FloatArray], FloatArray]:
    """:func:`performance` on arrays, without checks: the engine's per-chunk metrics.

    Computed by the kernels in :mod:`backtest.kernels` in one pass per column, with
    the definitions documented on :func:`performance`.

    Parameters
    ----------
    r : numpy.ndarray, shape (T, K)
        Simple returns per period, one column per strategy; NaN is missing.
    p : numpy.ndarray, shape (T, K), or None
        Position held over each period (NaN is flat); None: exposure, trades and
        turnover are NaN and ``positive_days`` counts all periods.
    trade_counts : [numpy.ndarray, numpy.ndarray] or None
        Per column, the number of trades and of winning trades; when given, ``trades``
        and ``win_rate`` come from them (else ``win_rate`` is NaN).
    rf_p : float
        Risk-free rate per period (:func:`per_period_risk_free`).
    periods_per_year : float
        Return observations per year, for annualisation.
    excess : numpy.ndarray, shape (T, K), optional
        Returns in excess of a time-varying risk-free rate (the engine's funded
        returns): when given, ``volatility``, ``sharpe``, ``sortino`` and `sharpe_raw`
        are those of `excess` (risk-free 0) and `rf_p` must be 0.

    Returns
    -------
    columns : dict of str to numpy.ndarray
        Each of :data:`PERFORMANCE_COLUMNS`, one value per column of `r`.
    sharpe_raw : numpy.ndarray, shape (K,)
        Each column's per-period Sharpe ratio of the raw returns (risk-free 0), or of
        `excess` when given: the trial Sharpe ratios of :func:`deflated_sharpe_ratio`.
    """
    from backtest import kernels

    k = r.shape[1]
    rs = kernels.return_stats(r, rf_p, periods_per_year)
    with np.errstate(divide="ignore", invalid="ignore"):
        win_rate = np.full(k, np.nan)
        if p is None:
            exposure = trades = turnover = np.full(k, np.nan)
            positive_days = rs[:, 8]
        else:
            ps = kernels.position_stats(r, p)
            exposure, trades, positive_days = ps[:, 0], ps[:, 1], ps[:, 3]
            turnover = ps[:, 2] * periods_per_year
        if trade_counts is not None:
            trades, wins = trade_counts
            win_rate = wins / trades
    total, cagr, volatility, sharpe, sortino, max_dd, calmar = (rs[:, i] for i in range(1, 8))
    raw = rs[:, 9]
    if excess is not None:
        if rf_p != 0.0:
            raise ValueError("performance_arrays: excess returns need rf_p == 0")
        xs = kernels.return_stats(excess, 0.0, periods_per_year)
        volatility, sharpe, sortino, raw = xs[:, 3], xs[:, 4], xs[:, 5], xs[:, 9]
    values = [
        total,
        cagr,
        volatility,
        sharpe,
        sortino,
        max_dd,
        calmar,
        win_rate,
        positive_days,
        trades,
        exposure,
        turnover,
    ]
    columns = {
        name: np.ascontiguousarray(v, dtype=np.float64)
        for name, v in zip(PERFORMANCE_COLUMNS, values, strict=True)
    }
    return columns, np.ascontiguousarray(raw)


# --------------------------------------------------------------------------- PSR / DSR


def probabilistic_sharpe_ratio(
    sr: npt.ArrayLike,
    sr_benchmark: npt.ArrayLike,
    n: npt.ArrayLike,
    skew: npt.ArrayLike = 0.0,
    kurtosis: npt.ArrayLike = 3.0,
) -> float | FloatArray:
    r"""Probabilistic Sharpe ratio of Bailey & López de Prado (2012).

    The probability that the true Sharpe ratio exceeds ``sr_benchmark``, given the
    Sharpe ratio ``sr`` estimated on ``n`` returns with the given skewness and
    kurtosis.

    Parameters
    ----------
    sr : float or array_like
        Estimated Sharpe ratio **per period** (not annualised): divide an annualised
        ratio by :math:`\sqrt{P}`.
    sr_benchmark : float or array_like
        Benchmark Sharpe ratio :math:`SR^*`, per period.
    n : int or array_like
        Number of returns the ratio was estimated on.
    skew : float or array_like, default 0.0
        Skewness :math:`\hat\gamma_3` of the returns.
    kurtosis : float or array_like, default 3.0
        Kurtosis :math:`\hat\gamma_4` of the returns, **not** excess kurtosis (3 for
        normal returns).

    Returns
    -------
    float or ndarray
        PSR in [0, 1]; arguments broadcast, a float when all are scalars.  NaN where
        ``n < 2`` or an argument is NaN.

    Notes
    -----
    .. math::

        \widehat{PSR}(SR^*) = \Phi\left[
            \frac{(\widehat{SR} - SR^*) \sqrt{n - 1}}
                 {\sqrt{1 - \hat\gamma_3 \widehat{SR}
                        + \frac{\hat\gamma_4 - 1}{4} \widehat{SR}^2}}
        \right]

    with :math:`\Phi` the standard normal CDF (Bailey & López de Prado 2012, eq. 9;
    the asymptotic variance of :math:`\widehat{SR}` is from Mertens 2002).  The
    radicand is non-negative for any distribution, since
    :math:`\gamma_4 \ge 1 + \gamma_3^2`.

    References
    ----------
    .. [1] Bailey, D. H. and López de Prado, M. (2012). "The Sharpe ratio efficient
       frontier". Journal of Risk 15(2), pp. 3-44.
    .. [2] Mertens, E. (2002). "Comments on variance of the IID estimator in Lo
       (2002)". Working paper, University of Basel.

    Examples
    --------
    The numerical example of Bailey & López de Prado (2014): annualised SR 2.5 on
    five years of daily returns (250 a year), skewness -3, kurtosis 10, against the
    expected maximum of 100 trials, 0.113172 per period (the paper prints 0.1132;
    the rounded value would give 0.9003):

    >>> round(probabilistic_sharpe_ratio(2.5 / 250**0.5, 0.113172, 1250, -3, 10), 4)
    0.9004
    """
    sr_, bench, n_, g3, g4 = (
        np.asarray(a, dtype=np.float64) for a in (sr, sr_benchmark, n, skew, kurtosis)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        radicand = 1.0 - g3 * sr_ + (g4 - 1.0) / 4.0 * sr_**2
        z = (sr_ - bench) * np.sqrt(n_ - 1.0) / np.sqrt(radicand)
        out = np.where((n_ >= 2) & (radicand > 0), special.ndtr(z), np.nan)
    return float(out) if out.ndim == 0 else out


def expected_max_sharpe(sr_variance: float, n_trials: int) -> float:
    r"""Expected maximum Sharpe ratio of ``n_trials`` unskilled trials.

    Parameters
    ----------
    sr_variance : float
        Variance :math:`V` of the Sharpe ratios across the trials, in the units the
        result should have: per-period variance for a per-period result (divide the
        variance of annualised ratios by ``periods_per_year``).
    n_trials : int
        Number of independent trials :math:`N`, at least 1.

    Returns
    -------
    float
        :math:`E[\max_n \widehat{SR}_n]` under the null of zero true Sharpe ratio;
        0 for a single trial.

    Raises
    ------
    DataValidationError
        If ``sr_variance < 0`` or ``n_trials < 1``.

    Notes
    -----
    Bailey & López de Prado (2014, eq. 2), from the extreme value theory of the
    maximum of :math:`N` IID normal variables (Bailey et al. 2014a):

    .. math::

        E[\max_n \widehat{SR}_n] \approx \sqrt{V} \left[
            (1 - \gamma)\, \Phi^{-1}\!\left(1 - \frac1N\right)
            + \gamma\, \Phi^{-1}\!\left(1 - \frac{1}{N e}\right) \right]

    with :math:`\gamma \approx 0.5772` the Euler-Mascheroni constant.  Evaluated in the
    operations of vectorbt's ``approx_exp_max_sharpe`` with a zero mean (vectorbt
    1.2.0), which is this formula, so the two give the same floats.
    For :math:`N = 1` the formula breaks down (:math:`\Phi^{-1}(0) = -\infty`); the
    exact value, the null mean 0, is returned.

    References
    ----------
    .. [1] Bailey, D. H. and López de Prado, M. (2014). "The deflated Sharpe ratio:
       Correcting for selection bias, backtest overfitting and non-normality".
       Journal of Portfolio Management 40(5), pp. 94-107.

    Examples
    --------
    The paper's numerical example: 100 trials whose annualised Sharpe ratios have
    variance 0.5, with 250 daily observations a year:

    >>> round(expected_max_sharpe(0.5 / 250, 100), 4)
    0.1132
    """
    if not sr_variance >= 0 and not math.isnan(sr_variance):
        raise DataValidationError(f"sr_variance must be >= 0, got {sr_variance!r}")
    if int(n_trials) != n_trials or n_trials < 1:
        raise DataValidationError(f"n_trials must be an integer >= 1, got {n_trials!r}")
    if n_trials == 1:
        return 0.0
    return float(_expected_max_sharpe(sr_variance, int(n_trials)))


def _expected_max_sharpe(sr_variance: float, n_trials: int) -> float:
    """Bailey & López de Prado (2014, eq. 2) for ``n_trials >= 2``, unchecked.

    The operations of vectorbt's ``approx_exp_max_sharpe(0, sr_variance, n_trials)``
    (vectorbt 1.2.0, ``vectorbt/returns/metrics.py``), in the same order, so the
    floats are the same.
    """
    g = np.euler_gamma
    return 0 + np.sqrt(sr_variance) * (
        (1 - g) * norm_ppf(1 - 1 / n_trials) + g * norm_ppf(1 - 1 / (n_trials * math.e))
    )


def _sharpe_and_moments(
    returns: pd.Series | npt.ArrayLike, periods_per_year: float, risk_free: float
) -> tuple[float, int, float, float]:
    """Per-period Sharpe ratio, count, skewness and kurtosis of excess returns."""
    _check_periods_per_year(periods_per_year)
    rf_p = per_period_risk_free(risk_free, periods_per_year)
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim != 1:
        raise DataValidationError(
            f"returns must be 1-D (one strategy), got shape {r.shape}; "
            "pass one column, e.g. returns[sharpes.idxmax()]"
        )
    x = r[~np.isnan(r)] - rf_p
    t = int(x.size)
    if t < 2 or np.all(x == x[0]):
        return float("nan"), t, float("nan"), float("nan")
    sr = float(x.mean() / x.std(ddof=1))
    g3 = skew(x)
    g4 = kurtosis(x)
    return sr, t, g3, g4


def probabilistic_sharpe_ratio_from_returns(
    returns: pd.Series | npt.ArrayLike,
    sr_benchmark: float = 0.0,
    *,
    periods_per_year: float = 252,
    risk_free: float = 0.0,
) -> float:
    r"""Probabilistic Sharpe ratio of a return series.

    Parameters
    ----------
    returns : Series or array_like, shape (T,)
        Simple returns per period of one strategy.  NaN is missing.
    sr_benchmark : float, default 0.0
        Benchmark Sharpe ratio :math:`SR^*` **per period** (annualised / :math:`\sqrt{P}`).
    periods_per_year : float, default 252
        Return observations per year; only used to convert ``risk_free``.
    risk_free : float, default 0.0
        Annual risk-free rate, see :func:`per_period_risk_free`.

    Returns
    -------
    float
        :func:`probabilistic_sharpe_ratio` of the per-period Sharpe ratio of the excess
        returns (ddof=1), with ``n`` the number of non-missing returns and their sample
        skewness and (non-excess) kurtosis (``scipy.stats.skew``/``kurtosis``,
        ``bias=True``).  NaN with fewer than 2 returns or zero variance.

    Raises
    ------
    DataValidationError
        If ``returns`` is not 1-D.

    Notes
    -----
    See :func:`probabilistic_sharpe_ratio` for the formula.

    References
    ----------
    .. [1] Bailey, D. H. and López de Prado, M. (2012). "The Sharpe ratio efficient
       frontier". Journal of Risk 15(2), pp. 3-44.

    Examples
    --------
    >>> round(probabilistic_sharpe_ratio_from_returns([0.01, -0.02, 0.03, 0.0]), 4)
    0.6604
    """
    sr, t, g3, g4 = _sharpe_and_moments(returns, periods_per_year, risk_free)
    return float(probabilistic_sharpe_ratio(sr, sr_benchmark, t, g3, g4))


def deflated_sharpe_ratio(
    returns: pd.Series | npt.ArrayLike,
    trial_sharpes: pd.Series | npt.ArrayLike,
    *,
    n_trials: int | None = None,
    periods_per_year: float = 252,
    risk_free: float = 0.0,
) -> float:
    r"""Deflated Sharpe ratio of Bailey & López de Prado (2014).

    The probabilistic Sharpe ratio of the selected strategy against the Sharpe ratio
    that the best of ``n_trials`` unskilled trials would be expected to reach.

    Parameters
    ----------
    returns : Series or array_like, shape (T,)
        Simple returns per period of the selected (best) strategy.  NaN is missing.
    trial_sharpes : Series or array_like, shape (N,)
        Sharpe ratios **per period** (not annualised) of all trials, the selected one
        included: ``performance(all_returns)["sharpe"] / sqrt(periods_per_year)``.
        Compute them with the same ``risk_free``.  NaN ratios are left out of their
        variance.
    n_trials : int, optional
        Number of independent trials :math:`N`; defaults to ``len(trial_sharpes)``.
        Pass a smaller effective number when the trials are highly correlated.
    periods_per_year : float, default 252
        Return observations per year; only used to convert ``risk_free``.
    risk_free : float, default 0.0
        Annual risk-free rate, see :func:`per_period_risk_free`.

    Returns
    -------
    float
        DSR in [0, 1]: the probability that the selected strategy's true Sharpe
        ratio is positive after deflating for the selection.  NaN when the selected
        strategy's Sharpe ratio is undefined (fewer than 2 returns, zero variance) or
        the trials' variance is (fewer than 2 finite trial Sharpe ratios).

    Raises
    ------
    DataValidationError
        If ``returns`` or ``trial_sharpes`` are not 1-D, or ``n_trials < 1``.

    Notes
    -----
    .. math::

        \widehat{DSR} = \widehat{PSR}(\widehat{SR}_0), \qquad
        \widehat{SR}_0 = \sqrt{V[\{\widehat{SR}_n\}]} \left[
            (1 - \gamma)\, \Phi^{-1}\!\left(1 - \frac1N\right)
            + \gamma\, \Phi^{-1}\!\left(1 - \frac{1}{N e}\right) \right]

    (Bailey & López de Prado 2014, eq. 2), with every Sharpe ratio per period:
    :math:`\widehat{SR} = \bar x / s_x` of the excess returns (ddof=1),
    :math:`V` the sample variance (ddof=1) of ``trial_sharpes``, :math:`T` the
    number of non-missing returns, and the skewness and (non-excess) kurtosis of the
    returns estimated by their sample moments (``scipy.stats.skew``/``kurtosis`` with
    ``bias=True``).  See :func:`probabilistic_sharpe_ratio` for
    :math:`\widehat{PSR}`.  (The paper's example states :math:`V` for annualised
    ratios; divide such a variance by ``periods_per_year``.)

    The formula is evaluated in the same operations, in the same order, as
    ``vectorbt.returns.metrics.deflated_sharpe_ratio`` (vectorbt 1.2.0), which
    implements exactly the equations above on per-period inputs with non-excess
    kurtosis, so the two give the same floats (vectorbt itself is not imported
    here).  Its returns-accessor wrapper is not matched: it
    annualises with vectorbt's ``year_freq`` (365 days by default) and treats every
    column of the frame as a trial.  With a single trial there is no selection and
    the DSR is the PSR against :math:`SR^* = 0`.

    References
    ----------
    .. [1] Bailey, D. H. and López de Prado, M. (2014). "The deflated Sharpe ratio:
       Correcting for selection bias, backtest overfitting and non-normality".
       Journal of Portfolio Management 40(5), pp. 94-107.
    .. [2] Bailey, D. H. and López de Prado, M. (2012). "The Sharpe ratio efficient
       frontier". Journal of Risk 15(2), pp. 3-44.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> trials = pd.DataFrame(rng.normal(0.0005, 0.01, size=(1000, 20)))
    >>> sharpes = performance(trials)["sharpe"] / np.sqrt(252)
    >>> dsr = deflated_sharpe_ratio(trials[sharpes.idxmax()], sharpes)
    >>> 0.0 <= dsr <= 1.0
    True
    """
    trials = np.asarray(trial_sharpes, dtype=np.float64)
    if trials.ndim != 1:
        raise DataValidationError(
            f"trial_sharpes must be 1-D (one per-period Sharpe ratio per trial), "
            f"got shape {trials.shape}"
        )
    n_trials = trials.size if n_trials is None else n_trials
    if int(n_trials) != n_trials or n_trials < 1:
        raise DataValidationError(f"n_trials must be an integer >= 1, got {n_trials!r}")
    sr, t, g3, g4 = _sharpe_and_moments(returns, periods_per_year, risk_free)
    if n_trials == 1:
        return float(probabilistic_sharpe_ratio(sr, 0.0, t, g3, g4))
    finite = trials[np.isfinite(trials)]
    if finite.size < 2 or np.isnan(sr):
        return float("nan")

    # The operations of vectorbt's deflated_sharpe_ratio (vectorbt 1.2.0), in order.
    est = np.array([sr])
    with np.errstate(divide="ignore", invalid="ignore"):
        sr0 = _expected_max_sharpe(float(finite.var(ddof=1)), int(n_trials))
        out = norm_cdf(
            ((est - sr0) * np.sqrt(t - 1))
            / np.sqrt(1 - np.array([g3]) * est + ((np.array([g4]) - 1) / 4) * est**2)
        )
    return float(np.asarray(out)[0])


# --------------------------------------------------------------------------- PBO


class PBOResult(NamedTuple):
    """Outcome of :func:`pbo_cscv`.

    Attributes
    ----------
    pbo : float
        Probability of backtest overfitting: share of combinations whose in-sample
        best trial ranks at or below the out-of-sample median (logit <= 0).
    logits : ndarray of float, shape (n_combinations,)
        Logit :math:`\\lambda_c` of the out-of-sample relative rank of the in-sample
        best trial, one per combination in ``itertools.combinations(range(S), S/2)``
        order of the in-sample block sets.
    n_combinations : int
        Number of combinations :math:`\\binom{S}{S/2}`.
    """

    pbo: float
    logits: FloatArray
    n_combinations: int


def pbo_cscv(
    performance_matrix: pd.DataFrame | npt.ArrayLike,
    n_splits: int = 16,
    metric: PBOMetric = "sharpe",
) -> PBOResult:
    r"""Probability of backtest overfitting by combinatorially symmetric cross-validation.

    Parameters
    ----------
    performance_matrix : DataFrame or array_like, shape (T, N)
        Returns per period (rows, in time order) of ``N >= 2`` trials (columns), e.g.
        every parameter combination of a strategy.  NaN is missing.
    n_splits : int, default 16
        Number :math:`S` of contiguous blocks the rows are split into; even, at least
        2 and at most ``T``.  When ``T`` is not a multiple of ``S`` the first
        ``T mod S`` blocks get one extra row (``numpy.array_split``).
    metric : {"sharpe", "mean"}, default "sharpe"
        Performance measure ranked in and out of sample: the (non-annualised)
        Sharpe ratio, mean / standard deviation (ddof=1), or the mean return.

    Returns
    -------
    PBOResult
        ``pbo``, ``logits`` and ``n_combinations`` (:math:`\binom{S}{S/2}`).

    Raises
    ------
    DataValidationError
        If the matrix is not 2-D with at least 2 columns, ``n_splits`` is odd, below
        2 or above ``T``, or ``metric`` is unknown.

    Notes
    -----
    Bailey, Borwein, López de Prado & Zhu (2017), section 2:

    1. Split the rows of the :math:`T \times N` matrix into :math:`S` contiguous
       blocks.
    2. For each of the :math:`\binom{S}{S/2}` sets :math:`J` of :math:`S/2` blocks,
       the in-sample set is :math:`J` and the out-of-sample set its complement
       :math:`\bar J`.
    3. Pick :math:`n^* = \arg\max_n R_n(J)`, the trial with the best in-sample
       metric (the first on ties).
    4. Let :math:`\bar\omega_c = \text{rank}(\bar R_{n^*}(\bar J)) / (N + 1)` be its
       relative out-of-sample rank (rank 1 = worst, ties get their average rank) and
       :math:`\lambda_c = \ln(\bar\omega_c / (1 - \bar\omega_c))` its logit.
    5. :math:`PBO = \frac{1}{C} \sum_c \mathbb{1}[\lambda_c \le 0]`.

    A trial whose metric is undefined in a set (zero variance) ranks below every
    other.  For pure noise :math:`PBO \to 1/2` when ``N`` is even; with an odd ``N``
    the median rank itself has :math:`\lambda = 0` and counts as overfit, so noise
    gives :math:`(N + 1) / (2N)`.

    The metric of every (combination, trial) pair is assembled from per-block sums,
    so the cost is one small matrix product per chunk of combinations rather than a
    pass over the returns per combination.  The per-block sums are
    :func:`pbo_block_stats` and the rest is :func:`pbo_from_block_stats`; calling the
    two separately lets the sums be computed per chunk of trials where the returns
    are (a sweep's workers) and only the sums be gathered.

    References
    ----------
    .. [1] Bailey, D. H., Borwein, J. M., López de Prado, M. and Zhu, Q. J. (2017).
       "The probability of backtest overfitting". Journal of Computational Finance
       20(4), pp. 39-69.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> res = pbo_cscv(rng.normal(size=(400, 10)), n_splits=8)
    >>> res.n_combinations, res.logits.shape
    (70, (70,))
    """
    stats_ = pbo_block_stats(performance_matrix, n_splits)
    if stats_.shape[2] < 2:
        raise DataValidationError(
            f"performance_matrix must be 2-D (periods x trials) with at least 2 trials, "
            f"got shape {np.shape(performance_matrix)}"
        )
    return pbo_from_block_stats(stats_, metric)


def pbo_block_stats(performance_matrix: pd.DataFrame | npt.ArrayLike, n_splits: int) -> FloatArray:
    r"""Per-block sufficient statistics of each trial for :func:`pbo_from_block_stats`.

    Parameters
    ----------
    performance_matrix : DataFrame or array_like, shape (T, N)
        Returns per period (rows, in time order) of ``N`` trials; NaN is missing.
    n_splits : int
        Number :math:`S` of contiguous row blocks (``numpy.array_split`` sizes); even,
        between 2 and ``T``.

    Returns
    -------
    ndarray, shape (S, 4, N)
        For each block and trial: the count of non-missing returns, their sum, and
        their sum and sum of squares after subtracting the trial's mean over all
        ``T`` rows (centring keeps the variance of a set of blocks accurate).

    Raises
    ------
    DataValidationError
        If the matrix is not 2-D or ``n_splits`` is odd, below 2 or above ``T``.

    Notes
    -----
    A trial's statistics depend on its own column only, so the matrix can be split by
    columns (chunks of a parameter sweep, on different machines) and the pieces joined
    with ``numpy.concatenate(pieces, axis=2)``: :func:`pbo_from_block_stats` then gives
    exactly the PBO of the whole matrix without the matrix ever being in one place.

    Examples
    --------
    >>> m = np.arange(12.0).reshape(6, 2)
    >>> pbo_block_stats(m, 2)[:, 1, :]  # sums of rows 0-2 and 3-5 of each column
    array([[ 6.,  9.],
           [24., 27.]])
    """
    from backtest import kernels

    m = np.asarray(performance_matrix, dtype=np.float64)
    if m.ndim != 2:
        raise DataValidationError(
            f"performance_matrix must be 2-D (periods x trials), got shape {m.shape}"
        )
    t = m.shape[0]
    if int(n_splits) != n_splits or n_splits < 2 or n_splits % 2 or n_splits > t:
        raise DataValidationError(
            f"n_splits must be an even integer between 2 and the number of rows ({t}), "
            f"got {n_splits!r}"
        )
    return np.asarray(kernels.block_stats(m, pbo_block_bounds(t, int(n_splits))))


def pbo_block_bounds(t: int, n_splits: int) -> npt.NDArray[np.int64]:
    """Row bounds of the CSCV's contiguous blocks.

    Parameters
    ----------
    t : int
        Rows (periods).
    n_splits : int
        Blocks, sized as by ``numpy.array_split``.

    Returns
    -------
    numpy.ndarray
        ``n_splits + 1`` int64 bounds: block ``b`` is rows ``bounds[b]:bounds[b + 1]``.

    Examples
    --------
    >>> pbo_block_bounds(7, 2).tolist()
    [0, 4, 7]
    """
    sizes = [len(b) for b in np.array_split(np.arange(t), n_splits)]
    return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


#: Combinations x trials up to which :func:`pbo_from_block_stats` ranks with numpy
#: (:func:`_pbo_logits_numpy`, at most 2**20 x 4 x 8 bytes = 32 MiB of in-sample sums)
#: instead of the numba kernel :func:`backtest.kernels.pbo_cscv_logits`: the same
#: operations in the same order, so the same logits bit for bit, and a small sweep's
#: first run compiles no PBO kernel (about 3 s).
PBO_NUMPY_CELLS = 1 << 20


def _cscv_metric(acc: np.ndarray, n: int, sharpe: bool) -> np.ndarray:
    """The CSCV metric of each row's trials from their summed block statistics ``acc``
    (C, 4 * n): the mean, or the Sharpe ratio (variance about the set's mean from the
    centred sums); undefined is -inf. :func:`backtest.kernels._pbo_tile`'s arithmetic."""
    count, totals, sums, squares = (acc[:, k * n : (k + 1) * n] for k in range(4))
    with np.errstate(divide="ignore", invalid="ignore"):
        x = totals / count
        if sharpe:
            var = (squares - sums * sums / count) / (count - 1.0)
            x = np.where(var > 0, x / np.sqrt(np.maximum(var, 0.0)), np.nan)
    return np.where(np.isnan(x), -np.inf, x)


def _pbo_logits_numpy(
    flat: np.ndarray, grand: np.ndarray, combos: np.ndarray, n: int, sharpe: bool
) -> np.ndarray:
    """:func:`backtest.kernels.pbo_cscv_logits` with numpy, for small problems: every
    combination's in-sample sums (its blocks added in ascending order from 0.0), the
    first in-sample maximum, that trial's out-of-sample rank (ties counted half)."""
    ins = np.zeros((combos.shape[0], flat.shape[1]))
    for i in range(combos.shape[1]):
        ins += flat[combos[:, i]]
    v_in = _cscv_metric(ins, n, sharpe)
    v_out = _cscv_metric(grand - ins, n, sharpe)
    chosen = v_out[np.arange(combos.shape[0]), np.argmax(v_in, axis=1)][:, None]
    rank = (v_out < chosen).sum(axis=1) + ((v_out == chosen).sum(axis=1) + 1) / 2
    omega = rank / (n + 1.0)
    return np.array([math.log(w) for w in omega / (1.0 - omega)], dtype=np.float64)


def _pbo_logits_kernel(
    flat: np.ndarray, grand: np.ndarray, combos: np.ndarray, n: int, sharpe: bool
) -> np.ndarray:
    """:func:`backtest.kernels.pbo_cscv_logits` of every combination, the combinations
    shared over the kernels' threads (each one on one thread, with its own work space)."""
    from backtest import kernels

    n_comb = combos.shape[0]
    logits = np.empty(n_comb, dtype=np.float64)
    flat = np.ascontiguousarray(flat)
    parts = min(kernels.threads(), n_comb)
    cuts = [n_comb * i // parts for i in range(parts + 1)]

    def part(a: int, b: int) -> None:  # combinations a..b-1
        acc = np.empty((5, kernels.PBO_TILE))
        work = np.empty((2, b - a))
        picks = np.empty((3, b - a), dtype=np.int64)
        kernels.pbo_cscv_logits(flat, grand, combos[a:b], n, sharpe, logits[a:b], acc, work, picks)

    if parts == 1:
        part(0, n_comb)
    else:
        list(kernels.pool().map(part, cuts[:-1], cuts[1:]))
    return logits


def pbo_from_block_stats(block_stats: npt.ArrayLike, metric: PBOMetric = "sharpe") -> PBOResult:
    """Probability of backtest overfitting from :func:`pbo_block_stats`.

    Parameters
    ----------
    block_stats : array_like, shape (S, 4, N)
        Per-block statistics of ``N >= 2`` trials over ``S`` (even) blocks, possibly
        joined from column chunks along the last axis.
    metric : {"sharpe", "mean"}, default "sharpe"
        As in :func:`pbo_cscv`.

    Returns
    -------
    PBOResult
        The same as :func:`pbo_cscv` on the matrix the statistics came from.

    Raises
    ------
    DataValidationError
        If the array is not of shape (S, 4, N) with S even and N >= 2, or ``metric``
        is unknown.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> m = rng.normal(size=(400, 10))
    >>> joined = np.concatenate([pbo_block_stats(m[:, :4], 8), pbo_block_stats(m[:, 4:], 8)], 2)
    >>> pbo_from_block_stats(joined).pbo == pbo_cscv(m, n_splits=8).pbo
    True
    """
    if metric not in PBO_METRICS:
        raise DataValidationError(f"metric must be one of {PBO_METRICS}, got {metric!r}")
    st = np.asarray(block_stats, dtype=np.float64)
    if st.ndim != 3 or st.shape[1] != 4 or st.shape[0] < 2 or st.shape[0] % 2 or st.shape[2] < 2:
        raise DataValidationError(
            f"block_stats must have shape (S, 4, N) with S even and N >= 2 (from "
            f"pbo_block_stats), got {st.shape}"
        )
    s, _, n = st.shape
    # Shape (S, 4 * N): count, sum, centred sum, centred sum of squares of every trial.
    flat = st.reshape(s, 4 * n)
    grand = flat.sum(axis=0)

    combos = np.array(list(itertools.combinations(range(s), s // 2)), dtype=np.int64)
    n_comb = combos.shape[0]
    small = n_comb * n <= PBO_NUMPY_CELLS
    logits = (_pbo_logits_numpy if small else _pbo_logits_kernel)(
        flat, grand, combos, n, metric == "sharpe"
    )
    return PBOResult(float(np.mean(logits <= 0.0)), logits, int(n_comb))
