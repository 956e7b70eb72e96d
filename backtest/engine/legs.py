"""What each held series earns, bar by bar: the instrument layer of the engine.

The engine does not trade a series' level. Each leg (a series a strategy holds) is
turned into a **total-return index** from its catalog ``instrument:`` (carried in the
levels' provenance), and vectorbt trades that index; the index's return on each bar is
split into the components the attribution reports:

=============  ==========================================  ===========  ==============
kind           index return per bar                        income       funding
=============  ==========================================  ===========  ==============
``bond``       par bond held from the yield (price +        ``accrual``  its currency's
               accrual, :func:`~backtest.instruments.                    short rate
               bond_total_return`), starts at 100
``fx``         spot and carry (:func:`~backtest.            ``carry``    none: a
               instruments.fx_total_return`), starts at                  currency pair is
               the first spot                                            self-financed
``index``      price return (dividends missing), the        none         its currency's
               level itself                                              short rate
price          the level itself (a frame without            none         none
               provenance, or ``allow_untradable``)
=============  ==========================================  ===========  ==============

**Calendars.** The portfolio is marked on the traded series' observation dates (the
first leg); another leg is valued at its last observation at or before each date
(as of), so a leg quoted on another market's calendar (JGB yields on Tokyo dates) earns
what it moved since its previous mark. The income of a bar is the income the leg
accrued on its running value over the bar's observations, so ``price + income`` is
the index's return exactly.

**Funding.** ``funding`` is the per-bar simple return of the leg's currency short
rate (:data:`SHORT_RATES`), taken as of the start of the bar and accrued over its
calendar days with the currency's money-market day count. A position of weight ``w``
in a bond or index leg is charged ``w * funding``: its return in excess of its own
currency's rate (a currency-hedged excess return). Sharpe and Sortino ratios use these
excess returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from backtest.errors import ConfigError, DataValidationError, StrategyError
from backtest.instruments.bond import bond_total_return
from backtest.instruments.daycount import days_per_year
from backtest.instruments.fx import fx_total_return, money_market_day_count

__all__ = [
    "DEFAULT_FUNDING",
    "SHORT_RATES",
    "Funding",
    "Leg",
    "instrument_of",
    "leg_returns",
    "rate_series",
]

#: The short rate that funds (and is the risk-free rate of) each currency: catalog names.
SHORT_RATES: Mapping[str, str] = {"USD": "FEDFUNDS_TARGET", "JPY": "JPY_CALL"}

#: ``"short_rate"``: excess returns over each leg's currency short rate (Sharpe ratios
#: use them); ``"none"``: no funding, Sharpe ratios over the constant ``risk_free``.
Funding = Literal["short_rate", "none"]
DEFAULT_FUNDING: Funding = "short_rate"

_INCOME = {"bond": "accrual", "fx": "carry"}


@dataclass(frozen=True)
class Leg:
    """One held series on the portfolio's bars.

    Attributes
    ----------
    name : str
        The series.
    kind : {"bond", "fx", "index", "price"}
        How its return is computed (``"price"``: its level, no instrument known or
        an untradable series traded as a price by explicit permission).
    income : {"accrual", "carry"} or None
        Name of its income component.
    funding_series : str or None
        The short rate charged on a position in it.
    close : numpy.ndarray
        Its total-return index on the bars (what vectorbt trades).
    price, income_return, funding_return : numpy.ndarray
        Per bar: the price and income parts of the index's simple return
        (``close[t] / close[t - 1] - 1 == price[t] + income_return[t]``) and the
        funding rate accrued over the bar; 0 on the first bar.
    first : int
        First bar at which the leg has a value (a weight before it is an error).
    instrument : dict
        The instrument record (JSON-ready), with the funding series.
    """

    name: str
    kind: str
    income: str | None
    funding_series: str | None
    close: np.ndarray
    price: np.ndarray
    income_return: np.ndarray
    funding_return: np.ndarray
    first: int
    instrument: dict[str, Any] = field(default_factory=dict)


def instrument_of(levels: pd.DataFrame, series: str) -> dict[str, Any] | None:
    """The catalog instrument record of `series` in `levels`' provenance, if any."""
    record = levels.attrs.get("backtest", {}).get("series", {}).get(series)
    if not isinstance(record, Mapping):
        return None
    instrument = record.get("instrument")
    return dict(instrument) if isinstance(instrument, Mapping) else None


def _kind(instrument: Mapping[str, Any] | None) -> str:
    kind = (instrument or {}).get("kind")
    return str(kind) if kind in ("bond", "fx", "index") else "price"


def rate_series(
    instruments: Mapping[str, Mapping[str, Any] | None],
    funding: Funding = DEFAULT_FUNDING,
    short_rates: Mapping[str, str] | None = None,
) -> list[str]:
    """The short-rate series the legs need: fx carry always, funding unless ``"none"``.

    Parameters
    ----------
    instruments : mapping
        Leg name -> its instrument record (None: traded as a price, needs nothing).
    funding : {"short_rate", "none"}
        Whether bond and index legs are charged their currency's short rate.
    short_rates : mapping, optional
        Currency -> catalog series, overriding :data:`SHORT_RATES`.

    Returns
    -------
    list of str
        Catalog names, each once, in the order first needed.

    Raises
    ------
    backtest.errors.ConfigError
        A currency without a known short rate (names the leg and the fix).
    """
    if funding not in get_args(Funding):
        raise ConfigError(f"funding must be one of {list(get_args(Funding))}, got {funding!r}")
    rates = {**SHORT_RATES, **(short_rates or {})}
    out: list[str] = []

    def need(currency: str, leg: str, why: str) -> None:
        if not rates.get(currency):
            raise ConfigError(
                f"leg {leg!r}: no short rate known for currency {currency!r} ({why}); known: "
                f"{sorted(rates)}; pass short_rates={{{currency!r}: '<catalog series>'}}"
                + (" or funding='none'" if why == "funding" else "")
            )
        if rates[currency] not in out:
            out.append(rates[currency])

    for leg, instrument in instruments.items():
        kind = _kind(instrument)
        if kind == "fx":
            assert instrument is not None
            need(str(instrument["base"]), leg, "carry")
            need(str(instrument["quote"]), leg, "carry")
        elif kind in ("bond", "index") and funding == "short_rate":
            assert instrument is not None
            currency = instrument.get("currency")
            if currency:
                need(str(currency), leg, "funding")
    return out


def _asof(own: pd.Series, bars: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Values of `own` (on its dates) at or before each bar, and the position used."""
    pos = np.searchsorted(own.index.to_numpy(), bars.to_numpy(), side="right") - 1
    values = own.to_numpy()[np.clip(pos, 0, None)]
    return np.where(pos >= 0, values, np.nan), pos


def _rate(rates: pd.DataFrame, name: str, leg: str) -> pd.Series:
    if name not in rates.columns:
        raise DataValidationError(
            f"leg {leg!r} needs the short rate {name!r}, which is not in the rates "
            f"(columns: {list(rates.columns)})"
        )
    values = rates[name].dropna()
    if values.empty:
        raise DataValidationError(f"short rate {name!r} (for leg {leg!r}) has no observation")
    return values.rename(name)


def _funding_return(rate: pd.Series, bars: pd.DatetimeIndex, currency: str, leg: str) -> np.ndarray:
    """Per bar: the rate as of the bar's start times its calendar days over the basis."""
    out = np.zeros(len(bars))
    if len(bars) < 2:
        return out
    basis = days_per_year(money_market_day_count(currency))
    start, pos = _asof(rate, bars[:-1])
    if (pos < 0).any():
        raise DataValidationError(
            f"short rate {rate.name!r} (funding leg {leg!r}) starts on "
            f"{rate.index[0]:%Y-%m-%d}, after the first bar {bars[0]:%Y-%m-%d}; load it "
            "from earlier or start the data later"
        )
    days = np.diff(bars.to_numpy().astype("datetime64[D]").astype(np.int64)).astype(float)
    out[1:] = start / 100.0 * days / basis
    return out


def leg_returns(
    levels: pd.DataFrame,
    name: str,
    bars: pd.DatetimeIndex,
    *,
    rates: pd.DataFrame | None,
    funding: Funding = DEFAULT_FUNDING,
    short_rates: Mapping[str, str] | None = None,
    instrument: Mapping[str, Any] | None = None,
) -> Leg:
    """The total-return index of leg `name` on `bars`, split into its components.

    Parameters
    ----------
    levels : pandas.DataFrame
        Levels with provenance (:func:`backtest.data.load`).
    name : str
        The leg (a column of `levels`).
    bars : pandas.DatetimeIndex
        The portfolio's bars (the traded series' dates).
    rates : pandas.DataFrame or None
        Short rates in percent per year, one column per catalog name
        (:func:`rate_series`); None when the legs need none.
    funding : {"short_rate", "none"}
        Charge bond and index legs their currency's short rate, or nothing.
    short_rates : mapping, optional
        Currency -> rate series, overriding :data:`SHORT_RATES`.
    instrument : mapping, optional
        The instrument record; default: `levels`' provenance (:func:`instrument_of`).

    Returns
    -------
    Leg

    Raises
    ------
    backtest.errors.DataValidationError
        The leg has no observation at or before the last bar; a short rate needed is
        missing or starts after the data; the carry of an fx leg is unknown on a bar.
    """
    instrument = dict(instrument) if instrument is not None else instrument_of(levels, name)
    kind = _kind(instrument)
    own = levels[name].dropna()
    if own.empty:
        raise DataValidationError(f"leg {name!r} has no observation")
    table = {**SHORT_RATES, **(short_rates or {})}
    income = np.zeros(len(own))
    if kind == "bond":
        assert instrument is not None
        parts = bond_total_return(
            own,
            float(instrument["maturity"]),
            freq=int(instrument.get("freq", 2)),
            day_count=instrument.get("day_count", "ACT/365.25"),
            name=name,
        )
        total = parts["total"].to_numpy(copy=True)
        income = parts["accrual"].to_numpy(copy=True)
        base = 100.0
    elif kind == "fx":
        assert instrument is not None
        b, q = str(instrument["base"]), str(instrument["quote"])
        if rates is None:
            raise DataValidationError(
                f"leg {name!r} is an fx leg ({b}/{q}): its carry needs the short rates "
                f"{table[b]!r} and {table[q]!r}, and no rates were given (rate_series)"
            )
        parts = fx_total_return(
            own,
            _rate(rates, table[b], name),
            _rate(rates, table[q], name),
            base=b,
            quote=q,
            name=name,
        )
        log_total = parts["total"].to_numpy()
        unknown = np.flatnonzero(np.isnan(log_total[1:]))
        if unknown.size:
            day = own.index[unknown[0] + 1]
            raise DataValidationError(
                f"leg {name!r}: the carry is unknown on {day:%Y-%m-%d} ({unknown.size} bars): "
                f"the short rates {table[b]!r}/{table[q]!r} start later than the spot; "
                "start the data later"
            )
        total = np.expm1(log_total)
        income = total - np.expm1(parts["spot"].to_numpy())  # carry incl. its cross term
        base = float(own.iloc[0])
    else:
        values = own.to_numpy()
        total = np.r_[np.nan, values[1:] / values[:-1] - 1.0]
        base = float(values[0])
    total[0], income[0] = 0.0, 0.0
    index_own = base * np.cumprod(1.0 + total)
    prev = np.r_[base, index_own[:-1]]
    income_points = np.cumsum(income * prev)  # income accrued on the running value
    close, pos = _asof(pd.Series(index_own, index=own.index), bars)
    if (pos < 0).all():
        raise DataValidationError(
            f"leg {name!r} starts on {own.index[0]:%Y-%m-%d}, after the last bar "
            f"{bars[-1]:%Y-%m-%d}"
        )
    first = int(np.argmax(pos >= 0))
    earned = np.where(pos >= 0, income_points[np.clip(pos, 0, None)], 0.0)
    close = np.where(pos >= 0, close, index_own[0])  # flat before its first observation
    r_total = np.r_[0.0, close[1:] / close[:-1] - 1.0]
    r_income = np.r_[0.0, np.diff(earned) / close[:-1]]
    funding_series = None
    f = np.zeros(len(bars))
    currency = (instrument or {}).get("currency")
    if kind in ("bond", "index") and funding == "short_rate" and currency:
        funding_series = table[str(currency)]
        if rates is None:
            raise DataValidationError(f"leg {name!r} needs the short rate {funding_series!r}")
        f = _funding_return(_rate(rates, funding_series, name), bars, str(currency), name)
        f[: first + 1] = 0.0
    record = {**(instrument or {"kind": "price"}), "funding": funding_series}
    if kind == "index":
        record["dividends"] = "not included: price return only"
    return Leg(
        name=name,
        kind=kind,
        income=_INCOME.get(kind),
        funding_series=funding_series,
        close=close,
        price=r_total - r_income,
        income_return=r_income,
        funding_return=f,
        first=first,
        instrument=record,
    )


def load_rates(levels: pd.DataFrame, names: Sequence[str], bars: pd.DatetimeIndex) -> pd.DataFrame:
    """Short rates `names` through the catalog, over the bars plus a year before.

    Loaded from the snapshot (offline) when any leg of `levels` came from it, else with
    the loader's default policy. The frame's provenance is that of the load.
    """
    from backtest import data

    series = levels.attrs.get("backtest", {}).get("series", {})
    offline = True if any(r.get("origin") == "snapshot" for r in series.values()) else None
    start = (bars[0] - pd.Timedelta(days=366)).date()
    try:
        return data.load(list(names), start, bars[-1].date(), offline=offline)
    except DataValidationError as exc:
        raise DataValidationError(f"loading the short rates {list(names)}: {exc}") from None


def check_weights(legs: Sequence[Leg], held: np.ndarray, strategy: str) -> None:
    """Refuse a nonzero weight on a leg before its first observation."""
    for j, leg in enumerate(legs):
        if leg.first == 0:
            continue
        early = held[: leg.first, j :: len(legs)]
        if np.any(early != 0.0):
            raise StrategyError(
                f"strategy {strategy!r} holds leg {leg.name!r} before its first observation "
                f"(the leg has no value before bar {leg.first})"
            )
