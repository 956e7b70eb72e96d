"""What a long currency position earns: the spot move plus the short-rate carry.

Long ``BASE/QUOTE`` (long USD/JPY: long dollars funded in yen) earns the change of the
spot rate (quote per base: yen per dollar) and the interest differential between the
two currencies' short rates, accrued over the calendar days the position is held [1]_.

Units: spot in quote currency per unit of base currency; short rates in **percent per
year** (money-market simple rates, e.g. the Fed funds target, the BoJ call rate);
returns as **decimal log returns** (0.01 is +1% log).

References
----------
.. [1] L. Menkhoff, L. Sarno, M. Schmeling and A. Schrimpf, "Carry Trades and Global
   Foreign Exchange Volatility", *Journal of Finance* 67 (2012): the excess return of a
   long foreign currency position is the log spot change plus the interest differential.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from backtest.errors import DataValidationError
from backtest.instruments._series import check_percent, check_series, day_gaps, series_label
from backtest.instruments.daycount import MONEY_MARKET_DAY_COUNT, DayCount, days_per_year

__all__ = ["fx_total_return", "money_market_day_count"]


def money_market_day_count(currency: str) -> DayCount:
    """The money-market day count of an ISO 4217 currency (USD ACT/360, JPY ACT/365, ...).

    Parameters
    ----------
    currency : str
        Three-letter code, e.g. ``"USD"``.

    Returns
    -------
    {"ACT/360", "ACT/365"}
        The convention of its overnight and deposit rates.

    Raises
    ------
    backtest.errors.DataValidationError
        The currency is not in :data:`backtest.instruments.daycount.MONEY_MARKET_DAY_COUNT`
        (pass the day count explicitly instead).

    Examples
    --------
    >>> money_market_day_count("JPY")
    'ACT/365'
    """
    try:
        return MONEY_MARKET_DAY_COUNT[currency]
    except (KeyError, TypeError):
        raise DataValidationError(
            f"no money-market day count known for currency {currency!r}; known: "
            f"{sorted(MONEY_MARKET_DAY_COUNT)}; pass base_day_count / quote_day_count"
        ) from None


def _rate_at(rate: pd.Series, starts: pd.DatetimeIndex, *, label: str, where: str) -> np.ndarray:
    """The last observed rate at or before each start date (NaN before the first)."""
    values = check_series(rate, label=label, where=where).dropna()
    check_percent(values, label=label, where=where)
    if values.empty:
        raise DataValidationError(f"{where}: {label} has no observation")
    pos = np.searchsorted(values.index.to_numpy(), starts.to_numpy(), side="right") - 1
    out = values.to_numpy()[np.clip(pos, 0, None)]
    return np.where(pos >= 0, out, np.nan)


def fx_total_return(
    spot: pd.Series,
    base_rate: pd.Series,
    quote_rate: pd.Series,
    *,
    base: str,
    quote: str,
    base_day_count: DayCount | None = None,
    quote_day_count: DayCount | None = None,
    name: str | None = None,
) -> pd.DataFrame:
    """Daily log return of a long ``base/quote`` position, split into spot and carry.

    Parameters
    ----------
    spot : pandas.Series
        Spot rate, units of `quote` per unit of `base` (USD/JPY: yen per dollar), > 0,
        indexed by naive, increasing, unique observation dates; NaN for a day without
        an observation.
    base_rate, quote_rate : pandas.Series
        Short rates of the two currencies in **percent per year** (simple money-market
        rates), each on its own dates (a daily series or only the dates it changed).
    base, quote : str
        ISO 4217 codes of the two currencies (``"USD"``, ``"JPY"``).
    base_day_count, quote_day_count : {"ACT/360", "ACT/365", "ACT/365.25"}, optional
        Day count of each rate; by default the currency's money-market convention
        (:func:`money_market_day_count`: USD ACT/360, JPY ACT/365).
    name : str, optional
        The spot series' name in error messages (default ``spot.name``).

    Returns
    -------
    pandas.DataFrame
        On the index of `spot`, columns ``spot``, ``carry`` and ``total`` (decimal log
        returns, ``total = spot + carry`` exactly). The row of an observation holds the
        return from the previous observation to it; the first observation and rows
        whose spot is NaN are NaN; carry (and total) is NaN for an interval that starts
        before either rate's first observation.

    Raises
    ------
    backtest.errors.DataValidationError
        A series that is not numeric on sorted unique naive dates; a spot that is not
        positive; a rate outside [-10, 100] (not percent) or with no observation;
        an unknown currency without an explicit day count. The message names the series.

    Notes
    -----
    For consecutive spot observations ``s < t``, ``d`` calendar days apart,

    .. math::

        r^{spot}_t = \\ln(S_t / S_s), \\qquad
        r^{carry}_t = \\frac{r^{base}_s}{100} \\frac{d}{B_{base}}
                    - \\frac{r^{quote}_s}{100} \\frac{d}{B_{quote}},

    with ``B`` the days per year of each rate's day count and each rate taken **as of
    the start of the interval**: its last observation dated at or before ``s`` (a rate
    dated ``s`` is known at ``s``; no look-ahead). A rate change inside a multi-day
    interval takes effect from the next interval. The carry is the interest
    differential accrued linearly, the usual first-order form of
    ``ln(1 + r_b d/B_b) - ln(1 + r_q d/B_q)`` (they differ by about ``(r d / B)**2 / 2``:
    under 1e-8 a day at 5%). ``exp(total) - 1`` is the simple return.

    Examples
    --------
    >>> idx = pd.to_datetime(["2023-01-05", "2023-01-06", "2023-01-09"])
    >>> spot = pd.Series([130.0, 130.0, 130.0], index=idx)
    >>> usd = pd.Series([4.5], index=pd.to_datetime(["2023-01-01"]))
    >>> jpy = pd.Series([0.0], index=pd.to_datetime(["2023-01-01"]))
    >>> r = fx_total_return(spot, usd, jpy, base="USD", quote="JPY")
    >>> round(float(r["carry"].iloc[2]), 8)  # Friday to Monday: 3 days at 4.5% ACT/360
    0.000375
    """
    where = "fx_total_return"
    label = series_label("spot series", spot, name)
    values = check_series(spot, label=label, where=where)
    observed = values.dropna()
    if (observed <= 0).any():
        bad = observed[observed <= 0]
        raise DataValidationError(
            f"{where}: {label} must be a positive exchange rate ({quote} per {base}), "
            f"got {bad.iloc[0]:g} on {bad.index[0].date()}"
        )
    b_basis = days_per_year(base_day_count or money_market_day_count(base), field="base_day_count")
    q_basis = days_per_year(
        quote_day_count or money_market_day_count(quote), field="quote_day_count"
    )
    out = pd.DataFrame(np.nan, index=values.index, columns=["spot", "carry", "total"])
    if len(observed) < 2:
        return out
    starts = observed.index[:-1]
    rb = _rate_at(
        base_rate,
        starts,
        label=series_label(f"{base} short rate", base_rate),
        where=where,
    )
    rq = _rate_at(
        quote_rate,
        starts,
        label=series_label(f"{quote} short rate", quote_rate),
        where=where,
    )
    days = day_gaps(observed.index)
    s = observed.to_numpy()
    spot_ret = np.log(s[1:] / s[:-1])
    carry = rb / 100.0 * days / b_basis - rq / 100.0 * days / q_basis
    rows = observed.index[1:]
    out.loc[rows, "spot"] = spot_ret
    out.loc[rows, "carry"] = carry
    out.loc[rows, "total"] = spot_ret + carry
    return out
