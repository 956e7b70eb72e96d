"""Portfolio weight helpers: duration-neutral bond pairs and volatility-scaled positions.

Pure functions of data a strategy already has (yields, returns), for portfolio
strategies (:meth:`backtest.strategy.Strategy.legs`) that return target weights per
leg as fractions of the portfolio's value. Nothing here looks ahead: the weight on a
date uses data of that date and before only.

* :func:`duration_neutral`: long one constant-maturity bond against another so that
  the pair has no first-order exposure to a parallel move of both yields.
* :func:`vol_scaled`: a weight that targets a given annualised volatility from the
  trailing standard deviation of returns.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TypeVar

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from backtest.errors import DataValidationError
from backtest.instruments.bond import BOND_FREQUENCIES, DEFAULT_BOND_FREQ, modified_duration

__all__ = ["duration_neutral", "vol_scaled"]

#: A Series in, a Series out; a DataFrame in, a DataFrame out.
Returns = TypeVar("Returns", pd.Series, pd.DataFrame)


def _positive(value: object, name: str, where: str) -> float:
    """`value` as a float if it is a finite number > 0, else a DataValidationError."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | np.integer | np.floating)
        or not math.isfinite(float(value))
        or float(value) <= 0
    ):
        raise DataValidationError(f"{where}: {name} must be a finite number > 0, got {value!r}")
    return float(value)


def _numeric_frame(frame: pd.DataFrame, columns: list[str], what: str, where: str) -> np.ndarray:
    """The `columns` of `frame` as float64, checked numeric and without infinities."""
    out = []
    for name in columns:
        column = frame[name]
        if not (
            pd.api.types.is_numeric_dtype(column.dtype)
            and not pd.api.types.is_bool_dtype(column.dtype)
        ):
            raise DataValidationError(
                f"{where}: {what} {name!r} must be numeric, got dtype {column.dtype}"
            )
        values = column.to_numpy(dtype=np.float64)
        if np.isinf(values).any():
            raise DataValidationError(f"{where}: {what} {name!r} holds an infinite value")
        out.append(values)
    return np.column_stack(out) if out else np.empty((len(frame), 0))


def _bond_terms(
    name: str,
    maturities: Mapping[str, float] | None,
    freq: int | Mapping[str, int] | None,
    where: str,
) -> tuple[float, int]:
    """(maturity in years, coupons per year) of leg `name`: given, else from the catalog."""
    spec_maturity: float | None = None
    spec_freq: int | None = None
    if maturities is None or name not in maturities or freq is None:
        from backtest.data import catalog

        try:
            instrument = catalog()[name].instrument
        except (DataValidationError, LookupError):  # not in the catalog
            instrument = None
        if instrument is not None and instrument.kind == "bond":
            spec_maturity, spec_freq = instrument.maturity, instrument.freq
    if maturities is not None and name in maturities:
        maturity = _positive(maturities[name], f"maturities[{name!r}]", where)
    elif spec_maturity is not None:
        maturity = spec_maturity
    else:
        raise DataValidationError(
            f"{where}: no maturity for {name!r}: it is not a bond in the catalog "
            "(instrument kind 'bond'); pass maturities={" + repr(name) + ": years}"
        )
    if isinstance(freq, Mapping):
        if name not in freq:
            raise DataValidationError(
                f"{where}: freq has no entry for {name!r}; give one for each leg, "
                f"got keys {sorted(freq)}"
            )
        leg_freq: object = freq[name]
        label = f"freq[{name!r}]"
    elif freq is None:
        leg_freq = spec_freq if spec_freq is not None else DEFAULT_BOND_FREQ
        label = "freq"
    else:
        leg_freq, label = freq, "freq"
    if isinstance(leg_freq, bool) or leg_freq not in BOND_FREQUENCIES:
        raise DataValidationError(
            f"{where}: {label} must be the coupon payments per year, one of "
            f"{list(BOND_FREQUENCIES)}, got {leg_freq!r}"
        )
    assert isinstance(leg_freq, int)
    return maturity, leg_freq


def duration_neutral(
    yields: pd.DataFrame,
    long: str,
    short: str,
    *,
    maturities: Mapping[str, float] | None = None,
    freq: int | Mapping[str, int] | None = None,
    gross: float = 1.0,
) -> pd.DataFrame:
    r"""Weights of a duration-neutral pair: long one bond, short another, per date.

    Parameters
    ----------
    yields : pandas.DataFrame
        Constant-maturity yields in **percent per year** (4.18 for 4.18%), one column
        per series, holding at least `long` and `short`; any index (usually the dates
        of the portfolio). Each row should hold yields known at that date (align them
        first, e.g. :func:`backtest.strategy_helpers.asof`).
    long, short : str
        Columns of the bond held long and of the bond held short (distinct).
    maturities : mapping of str to float, optional
        Constant maturity in years per leg; a leg not in it takes the ``maturity`` of
        its catalog instrument (:attr:`backtest.data.SeriesSpec.instrument`, kind
        ``"bond"``: 10 for ``UST10Y`` and ``JGB10Y``).
    freq : int or mapping of str to int, optional
        Coupon payments per year, one of 1, 2, 4, 12: one number for both legs or one
        per leg; default: each leg's catalog instrument (2 for US Treasuries and
        JGBs), else 2.
    gross : float, > 0
        Gross exposure :math:`|w_{long}| + |w_{short}|` as a fraction of the
        portfolio's value (default 1.0).

    Returns
    -------
    pandas.DataFrame
        Columns ``[long, short]`` on ``yields.index``: ``w_long > 0``, ``w_short < 0``
        (fractions of the portfolio's value); NaN on a row where either yield is NaN.

    Raises
    ------
    backtest.errors.DataValidationError
        `yields` is not a DataFrame, lacks a leg, or a leg is not numeric or holds an
        infinite value; `long` equals `short`; `gross` is not a finite number > 0; a
        leg has no maturity (not a catalog bond and not in `maturities`), a
        maturity is not > 0 or a frequency is not allowed. The message names the leg.

    Notes
    -----
    With :math:`D_i` the modified duration of a par bond of leg :math:`i` at its yield
    on the date (:func:`backtest.instruments.modified_duration` with the coupon equal
    to the yield, the constant-maturity par-bond construction of
    :func:`backtest.instruments.bond_total_return`), the weights solve

    .. math:: w_L D_L + w_S D_S = 0, \qquad w_L - w_S = g,

    that is :math:`w_L = g D_S / (D_L + D_S)` and :math:`w_S = -g D_L / (D_L + D_S)`.
    The pair's value then changes by :math:`-(w_L D_L + w_S D_S)\,\Delta y = 0` to first
    order when both yields move by the same :math:`\Delta y`: the position bets on
    the spread between the yields, not on their level. A yield move that is not
    parallel (the spread moving) is what the pair earns or loses. Durations differ in
    level between low-yield JGBs and higher-yield Treasuries of the same maturity, so
    the weights are not simply ±g/2.

    References
    ----------
    .. [1] F. J. Fabozzi, *Bond Markets, Analysis, and Strategies*, ch. 4 (modified
       duration; duration-weighted spread trades).

    Examples
    --------
    >>> y = pd.DataFrame({"UST10Y": [4.0], "JGB10Y": [1.0]})
    >>> w = duration_neutral(y, "UST10Y", "JGB10Y")
    >>> [round(float(v), 4) for v in w.iloc[0]]
    [0.5373, -0.4627]
    """
    where = "duration_neutral"
    if not isinstance(yields, pd.DataFrame):
        raise DataValidationError(
            f"{where}: yields must be a pandas DataFrame with one column per series, "
            f"got {type(yields).__name__}"
        )
    if long == short:
        raise DataValidationError(f"{where}: long and short must differ, got {long!r} twice")
    missing = [leg for leg in (long, short) if leg not in yields.columns]
    if missing:
        raise DataValidationError(
            f"{where}: yields has no column {missing}; columns: {list(yields.columns)}"
        )
    g = _positive(gross, "gross", where)
    values = _numeric_frame(yields, [long, short], "yield series", where)
    terms = [_bond_terms(leg, maturities, freq, where) for leg in (long, short)]
    durations = np.full_like(values, np.nan)
    for j, (maturity, leg_freq) in enumerate(terms):
        seen = np.isfinite(values[:, j])
        if seen.any():
            durations[seen, j] = modified_duration(values[seen, j], None, maturity, leg_freq)
    d_long, d_short = durations[:, 0], durations[:, 1]
    total = d_long + d_short
    out = np.column_stack([g * d_short / total, -g * d_long / total])
    return pd.DataFrame(out, index=yields.index, columns=[long, short])


def vol_scaled(
    returns: Returns,
    target: float,
    lookback: int,
    *,
    cap: float = 1.0,
    periods_per_year: float = 252,
) -> Returns:
    r"""Weights that aim at a target annualised volatility, from trailing returns.

    Parameters
    ----------
    returns : pandas.Series or pandas.DataFrame
        Per-period returns (one column per leg), decimal (0.01 is 1%) or percent, in
        the same unit as `target`; NaN where undefined (the first return).
    target : float, > 0
        Target annualised volatility, in the unit of `returns` (0.10 with decimal
        returns: 10% a year).
    lookback : int, >= 2
        Returns in the trailing window, the current one included.
    cap : float, > 0
        Largest weight (default 1.0: no leverage).
    periods_per_year : float, > 0
        Periods in a year, to annualise the standard deviation (default 252 trading
        days).

    Returns
    -------
    Same type as `returns`
        Weights on the same index (and columns): ``min(cap, target / vol)``, always
        positive (multiply by a signal's sign). NaN before the first full window and
        where the window holds a NaN; `cap` where the trailing volatility is zero.

    Raises
    ------
    backtest.errors.DataValidationError
        `returns` is neither a Series nor a DataFrame, not numeric or holds an
        infinite value; `target`, `cap` or `periods_per_year` is not a finite number
        > 0; `lookback` is not an integer >= 2.

    Notes
    -----
    .. math:: w_t = \min\Bigl(cap,\; \frac{target}
              {\sqrt{P}\,\operatorname{std}_{ddof=1}(r_{t-L+1}, \dots, r_t)}\Bigr)

    with :math:`L` = `lookback` and :math:`P` = `periods_per_year`. The weight on
    ``t`` uses returns up to ``t`` only; each window is reduced on its own (no running
    sums), so the weight does not depend on data outside its window.

    References
    ----------
    .. [1] A. Moreira and T. Muir, "Volatility-managed portfolios", *Journal of
       Finance* 72(4) (2017), 1611-1644.

    Examples
    --------
    >>> r = pd.Series([0.01, -0.01, 0.01, -0.01])
    >>> vol_scaled(r, target=0.10, lookback=3).round(4).tolist()
    [nan, nan, 0.5455, 0.5455]
    """
    where = "vol_scaled"
    if not isinstance(returns, pd.Series | pd.DataFrame):
        raise DataValidationError(
            f"{where}: returns must be a pandas Series or DataFrame, got {type(returns).__name__}"
        )
    tgt = _positive(target, "target", where)
    top = _positive(cap, "cap", where)
    ppy = _positive(periods_per_year, "periods_per_year", where)
    if isinstance(lookback, bool) or not isinstance(lookback, int | np.integer) or lookback < 2:
        raise DataValidationError(
            f"{where}: lookback must be an integer >= 2 (returns in the window), got {lookback!r}"
        )
    if isinstance(returns, pd.Series):
        frame, label = returns.to_frame(returns.name or "returns"), "series"
    else:
        frame, label = returns, "returns column"
    values = _numeric_frame(frame, list(frame.columns), label, where)
    out = np.full(values.shape, np.nan)
    n = values.shape[0]
    if n >= lookback:
        windows = sliding_window_view(values, lookback, axis=0)  # (n - L + 1, k, L)
        vol = windows.std(axis=2, ddof=1) * math.sqrt(ppy)
        with np.errstate(divide="ignore"):
            out[lookback - 1 :] = np.minimum(top, tgt / vol)  # NaN stays NaN; 0 -> cap
    if isinstance(returns, pd.Series):
        return pd.Series(out[:, 0], index=returns.index, name=returns.name)
    return pd.DataFrame(out, index=returns.index, columns=returns.columns)
