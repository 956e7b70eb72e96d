"""What holding a constant-maturity government bond earns, from its yield series.

A constant-maturity yield (FRED ``DGS10``, the Ministry of Finance's 10-year JGB) is
not a price: a long position in the bond gains when the yield falls. This module turns
the yield into the daily total return of the standard constant-maturity par-bond
construction [1]_ and gives the closed-form price, modified duration and convexity it
rests on.

Units: yields and coupons in **percent per year** (4.18 for 4.18%, as FRED ``DGS10``
and the snapshot's JGB files); maturities in years; prices per 100 of face value;
returns as **simple decimal returns** (0.01 is +1%).

References
----------
.. [1] L. Swinkels, "Data: International government bond returns since 1947",
   *Financial History Review* 26 (2019): total returns of a par bond bought at the
   start of each period with coupon equal to the yield, priced at the end of the period
   at the new yield with the maturity shortened by the period, plus the coupon accrued.
.. [2] F. J. Fabozzi, *Bond Markets, Analysis, and Strategies*, ch. 2 and 4 (price of
   an annuity plus redemption; modified duration and convexity).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from backtest.errors import DataValidationError
from backtest.instruments._series import check_percent, check_series, day_gaps, series_label
from backtest.instruments.daycount import DEFAULT_BOND_DAY_COUNT, DayCount, days_per_year

__all__ = [
    "BOND_FREQUENCIES",
    "DEFAULT_BOND_FREQ",
    "bond_total_return",
    "convexity",
    "modified_duration",
    "par_bond_price",
]

#: Coupon frequencies (payments per year) the functions accept.
BOND_FREQUENCIES: tuple[int, ...] = (1, 2, 4, 12)
#: Semi-annual coupons: US Treasuries and JGBs.
DEFAULT_BOND_FREQ = 2

# Below |x|·(n + 10) < _SERIES_LIMIT the annuity and its derivatives are summed as a
# power series in x (the closed forms lose digits to cancellation near a zero yield).
_SERIES_LIMIT = 0.05
_SERIES_TERMS = 14


def _check_freq(freq: int) -> None:
    if isinstance(freq, bool) or freq not in BOND_FREQUENCIES:
        raise DataValidationError(
            "freq must be the coupon payments per year, one of "
            f"{list(BOND_FREQUENCIES)}, got {freq!r}"
        )


def _periods(
    yield_: npt.ArrayLike, coupon: npt.ArrayLike, maturity: npt.ArrayLike, freq: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(yield per period x, coupon per period, number of periods n) as decimals."""
    _check_freq(freq)
    y, c, m = (np.asarray(a, dtype=np.float64) for a in (yield_, coupon, maturity))
    if np.any(m < 0):
        raise DataValidationError(f"maturity must be >= 0 years, got {np.min(m):g}")
    if np.any(y <= -100.0 * freq):
        raise DataValidationError(
            f"yield_ must be in percent per year and above {-100 * freq}% "
            f"(1 + yield/freq > 0), got {np.min(y):g}"
        )
    return y / (100.0 * freq), c / (100.0 * freq), m * freq


def _annuity(
    x: npt.NDArray[np.float64], n: npt.NDArray[np.float64], order: int
) -> npt.NDArray[np.float64]:
    """``a(x) = (1 - (1+x)**-n) / x`` (a(0) = n) or its first or second derivative in x."""
    x, n = np.broadcast_arrays(x, n)
    small = np.abs(x) * (n + 10.0) < _SERIES_LIMIT
    xs = np.where(small | (x == 0), 1.0, x)  # safe divisor for the closed form
    vn = np.exp(-n * np.log1p(xs))
    a = -np.expm1(-n * np.log1p(xs)) / xs
    if order == 0:
        closed = a
    elif order == 1:
        closed = (n * vn / (1 + xs) - a) / xs
    else:
        closed = (
            -n * (n + 1) * vn / (1 + xs) ** 2 / xs - 2 * n * vn / (1 + xs) / xs**2 + 2 * a / xs**2
        )
    # a(x) = sum_k (-1)^k T_k x^k with T_k = n (n+1) ... (n+k) / (k+1)!
    series = np.zeros_like(closed)
    term = np.array(n, dtype=np.float64)  # T_0
    xv = np.where(small, x, 0.0)
    for k in range(_SERIES_TERMS):
        if k >= order:
            falling = 1.0 if order == 0 else (k if order == 1 else k * (k - 1))
            series = series + (-1) ** k * falling * term * xv ** (k - order)
        term = term * (n + k + 1) / (k + 2)
    return np.where(small, series, closed)


def _value(x: Any) -> Any:
    """A 0-d result as a NumPy float, anything else as an array."""
    return x[()] if isinstance(x, np.ndarray) and x.ndim == 0 else x


def par_bond_price(
    yield_: npt.ArrayLike,
    coupon: npt.ArrayLike,
    maturity: npt.ArrayLike,
    freq: int = DEFAULT_BOND_FREQ,
) -> Any:
    """Price per 100 face of a bond with a (possibly fractional) maturity.

    Parameters
    ----------
    yield_ : array_like
        Yield to maturity, percent per year, compounded `freq` times a year (the bond
        equivalent yield of FRED's constant-maturity series when ``freq=2``). Negative
        yields are accepted (above ``-100 * freq``).
    coupon : array_like
        Coupon rate, percent per year of face, paid in `freq` equal instalments.
    maturity : array_like
        Years to maturity, ``>= 0``; need not be a whole number of coupon periods.
    freq : {1, 2, 4, 12}
        Coupon payments per year (2 for US Treasuries and JGBs).

    Returns
    -------
    numpy.float64 or numpy.ndarray
        The price per 100 of face value (broadcast shape of the inputs).

    Raises
    ------
    backtest.errors.DataValidationError
        `freq` not allowed, a negative maturity or ``1 + yield/freq <= 0``.

    Notes
    -----
    With ``x = yield / (100 freq)``, ``k = coupon / (100 freq)`` and ``n = freq *
    maturity`` periods,

    .. math:: P = 100 \\left[ k \\, \\frac{1 - (1 + x)^{-n}}{x} + (1 + x)^{-n} \\right],

    the annuity-plus-redemption formula evaluated at a fractional ``n`` (the convention
    of Swinkels (2019) for a bond rolled between coupon dates). It is a *clean* price:
    the coupon earned since the last period is counted as accrual by
    :func:`bond_total_return`, not in the price. ``P = 100`` exactly when ``coupon ==
    yield``, whatever the maturity; at ``x = 0`` the annuity factor is ``n``.

    References
    ----------
    .. [1] L. Swinkels, "Data: International government bond returns since 1947",
       Financial History Review 26 (2019).

    Examples
    --------
    >>> float(par_bond_price(4.0, 4.0, 9.75))
    100.0
    >>> round(float(par_bond_price(5.0, 4.0, 10.0)), 4)
    92.2054
    """
    x, k, n = _periods(yield_, coupon, maturity, freq)
    price = 100.0 * (k * _annuity(x, n, 0) + np.exp(-n * np.log1p(x)))
    return _value(price)


def _derivatives(
    yield_: npt.ArrayLike, coupon: npt.ArrayLike | None, maturity: npt.ArrayLike, freq: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(P, dP/dy, d2P/dy2) per unit face, y a decimal yield per year."""
    x, k, n = _periods(yield_, yield_ if coupon is None else coupon, maturity, freq)
    vn = np.exp(-n * np.log1p(x))
    p = k * _annuity(x, n, 0) + vn
    d1 = (k * _annuity(x, n, 1) - n * vn / (1 + x)) / freq
    d2 = (k * _annuity(x, n, 2) + n * (n + 1) * vn / (1 + x) ** 2) / freq**2
    return p, d1, d2


def modified_duration(
    yield_: npt.ArrayLike,
    coupon: npt.ArrayLike | None,
    maturity: npt.ArrayLike,
    freq: int = DEFAULT_BOND_FREQ,
) -> Any:
    """Modified duration of :func:`par_bond_price`, in years.

    Parameters
    ----------
    yield_, coupon, maturity, freq
        As in :func:`par_bond_price` (percent per year, years); ``coupon=None`` means a
        par bond (coupon equal to the yield).

    Returns
    -------
    numpy.float64 or numpy.ndarray
        ``D = -(1/P) dP/dy`` with ``y`` the yield as a decimal per year: the relative
        price change per unit (100 percentage points) of yield; per percentage point it
        is ``D / 100``.

    Notes
    -----
    Closed-form derivative of the price of :func:`par_bond_price` (a power series in
    the yield near zero, where the closed form cancels). For a small yield change
    ``dy`` (decimal), ``dP/P ≈ -D dy + C dy**2 / 2`` with ``C`` from :func:`convexity`.

    Examples
    --------
    >>> round(float(modified_duration(4.0, None, 10.0)), 4)
    8.1757
    """
    p, d1, _ = _derivatives(yield_, coupon, maturity, freq)
    return _value(-d1 / p)


def convexity(
    yield_: npt.ArrayLike,
    coupon: npt.ArrayLike | None,
    maturity: npt.ArrayLike,
    freq: int = DEFAULT_BOND_FREQ,
) -> Any:
    """Convexity of :func:`par_bond_price`, in years squared.

    Parameters
    ----------
    yield_, coupon, maturity, freq
        As in :func:`modified_duration`.

    Returns
    -------
    numpy.float64 or numpy.ndarray
        ``C = (1/P) d2P/dy2``, ``y`` the yield as a decimal per year.

    Examples
    --------
    >>> round(float(convexity(4.0, None, 10.0)), 2)
    78.9
    """
    p, _, d2 = _derivatives(yield_, coupon, maturity, freq)
    return _value(d2 / p)


def bond_total_return(
    yields: pd.Series,
    maturity: float,
    *,
    freq: int = DEFAULT_BOND_FREQ,
    day_count: DayCount = DEFAULT_BOND_DAY_COUNT,
    name: str | None = None,
) -> pd.DataFrame:
    """Daily total return of holding a constant-maturity par bond, split in two.

    Parameters
    ----------
    yields : pandas.Series
        Constant-maturity yields in **percent per year** (FRED ``DGS10``; the JGB
        files), indexed by naive, increasing, unique observation dates. NaNs are
        days without an observation. Negative yields are accepted.
    maturity : float
        The constant maturity in years (10 for ``UST10Y``), ``> 0``.
    freq : {1, 2, 4, 12}
        Coupon payments per year (2 for US Treasuries and JGBs).
    day_count : {"ACT/365.25", "ACT/365", "ACT/360"}
        Turns calendar days between observations into the year fraction ``dt`` by which
        the bond ages and its coupon accrues. The default, ACT/365.25, is the mean
        calendar year (a stand-in for the ACT/ACT of Treasuries).
    name : str, optional
        The series' name in error messages (default ``yields.name``).

    Returns
    -------
    pandas.DataFrame
        On the index of `yields`, columns ``price``, ``accrual`` and ``total``
        (simple decimal returns, ``total = price + accrual`` exactly). The row of an
        observation holds the return from the previous observation to it; the first
        observation and rows whose yield is NaN are NaN (a holding period that spans
        them is booked on the next observed date, with its actual calendar length).

    Raises
    ------
    backtest.errors.DataValidationError
        `yields` is not a numeric Series on sorted unique naive dates, holds an
        infinite value or a value outside [-10, 100] (not percent: basis points or
        decimal fractions); `maturity` is not positive; `freq` or `day_count` not
        allowed; a gap between observations is as long as the maturity. The message
        names the series.

    Notes
    -----
    For consecutive observations ``s < t`` with ``dt = days(s, t) / basis``: buy at
    ``s`` a par bond of maturity ``M`` whose coupon is the yield then, ``c = y_s``
    (price 100); at ``t`` price it at the new yield with the remaining maturity,
    ``P_t = par_bond_price(y_t, c, M - dt, freq)``. Then

    .. math:: r^{price}_t = P_t / 100 - 1, \\qquad r^{accrual}_t = c \\, dt / 100,

    and the bond is sold and a new par bond of maturity ``M`` bought, which keeps the
    maturity constant (Swinkels 2019, who does this monthly; here at each observation).
    A negative yield gives a negative coupon: the par-bond construction keeps its
    meaning (the holder earns the negative yield).

    References
    ----------
    .. [1] L. Swinkels, "Data: International government bond returns since 1947",
       Financial History Review 26 (2019).

    Examples
    --------
    >>> dates = pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-05"])
    >>> y = pd.Series([4.0, 4.0, 3.9], index=dates)
    >>> r = bond_total_return(y, 10.0)
    >>> round(float(r["accrual"].iloc[1]), 8)  # one day of a 4% coupon, ACT/365.25
    0.00010951
    >>> bool((r["price"] + r["accrual"] == r["total"]).iloc[1:].all())
    True
    """
    label = series_label("yield series", yields, name)
    where = "bond_total_return"
    values = check_series(yields, label=label, where=where)
    if isinstance(maturity, bool) or not np.isfinite(maturity) or maturity <= 0:
        raise DataValidationError(
            f"{where}: maturity of {label} must be > 0 years, got {maturity!r}"
        )
    _check_freq(freq)
    basis = days_per_year(day_count)
    observed = values.dropna()
    check_percent(observed, label=label, where=where)
    out = pd.DataFrame(np.nan, index=values.index, columns=["price", "accrual", "total"])
    if len(observed) < 2:
        return out
    dt = day_gaps(observed.index) / basis
    if np.any(dt >= maturity):
        i = int(np.argmax(dt >= maturity))
        raise DataValidationError(
            f"{where}: {label} has no observation from {observed.index[i].date()} to "
            f"{observed.index[i + 1].date()}, as long as the bond's maturity ({maturity:g} years)"
        )
    y = observed.to_numpy()
    coupon, y_end = y[:-1], y[1:]
    price = par_bond_price(y_end, coupon, maturity - dt, freq) / 100.0 - 1.0
    accrual = coupon / 100.0 * dt
    rows = observed.index[1:]
    out.loc[rows, "price"] = price
    out.loc[rows, "accrual"] = accrual
    out.loc[rows, "total"] = price + accrual
    return out
