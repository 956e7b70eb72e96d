"""What holding a series means: the description a catalog ``instrument:`` entry maps to.

Every catalog series' ``instrument:`` entry is read into an :class:`Instrument`
(:attr:`backtest.data.SeriesSpec.instrument`); the engine refuses a strategy on an
``"untradable"`` one unless allowed (:mod:`backtest.engine.tradable`), and picks the
return function from its ``kind``: :func:`~backtest.instruments.bond.bond_total_return`
for ``"bond"``, :func:`~backtest.instruments.fx.fx_total_return` for ``"fx"``, the price
return for ``"index"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

from backtest.errors import DataValidationError
from backtest.instruments.bond import BOND_FREQUENCIES, DEFAULT_BOND_FREQ
from backtest.instruments.daycount import DAY_COUNTS, DEFAULT_BOND_DAY_COUNT, DayCount

__all__ = ["INSTRUMENT_KINDS", "Instrument", "InstrumentKind"]

#: What holding a series earns.
InstrumentKind = Literal["bond", "fx", "index", "untradable"]
INSTRUMENT_KINDS: tuple[InstrumentKind, ...] = get_args(InstrumentKind)

_CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True)
class Instrument:
    """What holding one series means (immutable; checked on construction).

    Parameters
    ----------
    kind : {"bond", "fx", "index", "untradable"}
        ``"bond"``: a constant-maturity yield held as a par bond; ``"fx"``: a currency
        pair held long base, funded in quote; ``"index"``: a price (index) level, held
        for its price return; ``"untradable"``: cannot be held (VIX).
    currency : str, optional
        ISO 4217 code of the series' currency (bond, index). For ``"fx"`` it defaults
        to `quote`, the currency returns are counted in.
    maturity : float, optional
        Bond only, required: constant maturity in years (> 0).
    freq : {1, 2, 4, 12}
        Bond only: coupon payments per year (default 2, US Treasuries and JGBs).
    day_count : {"ACT/365.25", "ACT/365", "ACT/360"}, optional
        Bond only: the roll and accrual day count (default ACT/365.25). An fx pair's
        rates take their currencies' money-market day counts instead.
    base, quote : str, optional
        Fx only, required: the pair's currencies (USD/JPY: base ``"USD"``, quote
        ``"JPY"``; the spot is quote per base).
    proxy : str, optional
        Untradable only: a tradable series to suggest instead.

    Raises
    ------
    backtest.errors.DataValidationError
        An unknown kind; a field missing for its kind or set for another kind; a
        non-positive maturity, an unknown frequency or day count, a currency that is not
        three capital letters. The message names the field.

    Examples
    --------
    >>> Instrument("bond", currency="USD", maturity=10.0).freq
    2
    >>> Instrument("fx", base="USD", quote="JPY").currency
    'JPY'
    """

    kind: InstrumentKind
    currency: str | None = None
    maturity: float | None = None
    freq: int | None = None
    day_count: DayCount | None = None
    base: str | None = None
    quote: str | None = None
    proxy: str | None = None

    def __post_init__(self) -> None:
        def fail(message: str) -> None:
            raise DataValidationError(f"Instrument(kind={self.kind!r}): {message}")

        if self.kind not in INSTRUMENT_KINDS:
            raise DataValidationError(
                f"Instrument.kind must be one of {list(INSTRUMENT_KINDS)}, got {self.kind!r}"
            )
        for field in ("currency", "base", "quote"):
            code = getattr(self, field)
            if code is not None and not (isinstance(code, str) and _CURRENCY.fullmatch(code)):
                fail(f"{field} must be a three-letter ISO 4217 code such as 'USD', got {code!r}")
        own = {
            "bond": {"maturity", "freq", "day_count"},
            "fx": {"base", "quote"},
            "untradable": {"proxy"},
            "index": set(),
        }[self.kind]
        for field in ("maturity", "freq", "day_count", "base", "quote", "proxy"):
            if field not in own and getattr(self, field) is not None:
                fail(f"{field} applies only to kind {self._kind_of(field)!r}; remove it")
        if self.kind == "bond":
            m = self.maturity
            if m is None or isinstance(m, bool) or not isinstance(m, int | float) or not m > 0:
                fail(f"maturity must be a number of years > 0, got {m!r}")
            object.__setattr__(self, "maturity", float(m))  # type: ignore[arg-type]
            freq = DEFAULT_BOND_FREQ if self.freq is None else self.freq
            if isinstance(freq, bool) or freq not in BOND_FREQUENCIES:
                fail(f"freq must be one of {list(BOND_FREQUENCIES)}, got {freq!r}")
            object.__setattr__(self, "freq", freq)
            day_count = DEFAULT_BOND_DAY_COUNT if self.day_count is None else self.day_count
            if day_count not in DAY_COUNTS:
                fail(f"day_count must be one of {list(DAY_COUNTS)}, got {day_count!r}")
            object.__setattr__(self, "day_count", day_count)
        elif self.kind == "fx":
            if self.base is None or self.quote is None:
                fail(
                    "base and quote are required (e.g. base='USD', quote='JPY'), "
                    f"got {self.base!r}, {self.quote!r}"
                )
            if self.base == self.quote:
                fail(f"base and quote must differ, got {self.base!r} twice")
            if self.currency is None:
                object.__setattr__(self, "currency", self.quote)
            elif self.currency != self.quote:
                fail(
                    f"currency of a pair is its quote currency {self.quote!r}, "
                    f"got {self.currency!r}"
                )

    @staticmethod
    def _kind_of(field: str) -> str:
        return {"base": "fx", "quote": "fx", "proxy": "untradable"}.get(field, "bond")
