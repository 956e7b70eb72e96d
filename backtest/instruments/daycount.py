"""Day counts: how calendar days between two observations become a year fraction.

Only the *actual/fixed* conventions are needed by the library layer: the number of
calendar days between two dates divided by a fixed number of days per year.

* ``"ACT/360"``: money markets in USD, EUR, CHF (the Fed funds rate, SOFR, €STR).
* ``"ACT/365"``: money markets in JPY and GBP (the BoJ uncollateralized call rate,
  SONIA); also the JGB accrual convention.
* ``"ACT/365.25"``: the average length of a calendar year; the library's default for
  rolling and accruing a constant-maturity bond, a close, convention-free stand-in for
  the ACT/ACT of US Treasuries (an ACT/ACT year has 365 or 366 days).

References
----------
.. [1] ISDA, *2006 ISDA Definitions*, section 4.16 (Day Count Fraction).
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
import numpy.typing as npt

from backtest.errors import DataValidationError

__all__ = [
    "DAY_COUNTS",
    "DEFAULT_BOND_DAY_COUNT",
    "MONEY_MARKET_DAY_COUNT",
    "DayCount",
    "days_per_year",
    "year_fraction",
]

#: The day counts the library knows.
DayCount = Literal["ACT/360", "ACT/365", "ACT/365.25"]
DAY_COUNTS: tuple[DayCount, ...] = get_args(DayCount)
_DAYS: dict[str, float] = {"ACT/360": 360.0, "ACT/365": 365.0, "ACT/365.25": 365.25}

#: Day count of a constant-maturity bond's roll and accrual unless told otherwise.
DEFAULT_BOND_DAY_COUNT: DayCount = "ACT/365.25"

#: Money-market (overnight and deposit) day count by ISO 4217 currency code.
MONEY_MARKET_DAY_COUNT: dict[str, DayCount] = {
    "USD": "ACT/360",
    "EUR": "ACT/360",
    "CHF": "ACT/360",
    "JPY": "ACT/365",
    "GBP": "ACT/365",
    "AUD": "ACT/365",
    "CAD": "ACT/365",
    "NZD": "ACT/365",
}


def days_per_year(day_count: str, *, field: str = "day_count") -> float:
    """Days in the year of an actual/fixed day count.

    Parameters
    ----------
    day_count : {"ACT/360", "ACT/365", "ACT/365.25"}
        The convention.
    field : str
        Name of the argument, for the error message.

    Returns
    -------
    float
        360, 365 or 365.25.

    Raises
    ------
    backtest.errors.DataValidationError
        `day_count` is not one of :data:`DAY_COUNTS`.

    Examples
    --------
    >>> days_per_year("ACT/360")
    360.0
    """
    try:
        return _DAYS[day_count]
    except (KeyError, TypeError):
        raise DataValidationError(
            f"{field} must be one of {list(DAY_COUNTS)}, got {day_count!r}"
        ) from None


def year_fraction(days: npt.ArrayLike, day_count: str) -> npt.NDArray[np.float64]:
    """Year fraction of a number of calendar days: ``days / days_per_year(day_count)``.

    Parameters
    ----------
    days : array_like
        Calendar days (actual days between two dates).
    day_count : {"ACT/360", "ACT/365", "ACT/365.25"}
        The convention.

    Returns
    -------
    numpy.ndarray
        The year fractions, float64.

    Examples
    --------
    >>> float(year_fraction(3, "ACT/365"))
    0.00821917808219178
    """
    return np.asarray(days, dtype=np.float64) / days_per_year(day_count)
