"""What holding a series earns: the return arithmetic of instruments (library layer).

Pure, vectorised functions of level series, applied by the engine to every held series
(:mod:`backtest.engine.legs`).

* :mod:`~backtest.instruments.bond`: total return of a constant-maturity par bond from
  its yield (price + accrual), its price, modified duration and convexity.
* :mod:`~backtest.instruments.fx`: log return of a long currency pair (spot + carry).
* :mod:`~backtest.instruments.daycount`: ACT/360, ACT/365, ACT/365.25.
* :mod:`~backtest.instruments.spec`: :class:`Instrument`, what a series is.
"""

from __future__ import annotations

from backtest.instruments.bond import (
    bond_total_return,
    convexity,
    modified_duration,
    par_bond_price,
)
from backtest.instruments.daycount import DayCount, year_fraction
from backtest.instruments.fx import fx_total_return, money_market_day_count
from backtest.instruments.spec import INSTRUMENT_KINDS, Instrument, InstrumentKind

__all__ = [
    "INSTRUMENT_KINDS",
    "DayCount",
    "Instrument",
    "InstrumentKind",
    "bond_total_return",
    "convexity",
    "fx_total_return",
    "modified_duration",
    "money_market_day_count",
    "par_bond_price",
    "year_fraction",
]
