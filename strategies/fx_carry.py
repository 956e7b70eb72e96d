"""Hold the higher-yielding currency of a pair while its carry pays for the risk."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from pydantic import Field

from backtest.strategy import MarketData, Strategy, StrategyParams
from backtest.strategy_helpers import asof, near_events, require_columns, selected_events

#: Trading days in a year, to annualise the daily volatility.
PERIODS_PER_YEAR = 252


def trailing_vol(price: pd.Series, lookback: int) -> np.ndarray:
    r"""Annualised volatility of daily log returns over the last `lookback` returns.

    Parameters
    ----------
    price : pandas.Series
        Levels of the pair on its own observation dates (no NaN).
    lookback : int, >= 2
        Returns in the window, the latest one included.

    Returns
    -------
    numpy.ndarray
        ``float64`` of ``len(price)``:
        :math:`\sigma_t = \sqrt{252}\,\operatorname{std}_{ddof=1}(r_{t-L+1}, \dots, r_t)`
        with :math:`r_t = \ln(p_t / p_{t-1})` (decimal); NaN for the first `lookback`
        bars (the window needs `lookback` returns, hence ``lookback + 1`` prices).
    """
    p = price.to_numpy(dtype="float64")
    out = np.full(len(p), np.nan)
    if len(p) > lookback:
        r = np.diff(np.log(p))
        out[lookback:] = sliding_window_view(r, lookback).std(axis=1, ddof=1) * math.sqrt(
            PERIODS_PER_YEAR
        )
    return out


class FxCarryParams(StrategyParams):
    """Parameters of :class:`FxCarry`."""

    base_rate: str = Field(
        "FEDFUNDS_TARGET", min_length=1, description="catalog short rate of the base currency"
    )
    quote_rate: str = Field(
        "JPY_CALL", min_length=1, description="catalog short rate of the quote currency"
    )
    lookback: int = Field(60, ge=2, description="daily log returns in the volatility window")
    threshold: float = Field(0.5, ge=0.0, description="smallest |carry / volatility| traded")
    direction: Literal["long", "both"] = Field(
        "long", description="'long': long or flat; 'both': long or short"
    )
    avoid_events: bool = Field(False, description="step aside around events")
    avoid_before: int = Field(1, ge=0, description="weekdays flat before an event's day 0")
    avoid_after: int = Field(1, ge=0, description="bars flat after an event's day 0")
    avoid_categories: list[str] = Field(
        ["boj", "fomc"], min_length=1, description="event categories stepped aside from"
    )


class FxCarry(Strategy[FxCarryParams]):
    r"""Carry trade: hold the currency that pays more while its carry beats the pair's risk.

    Long the base currency of the pair (USD in USD/JPY) while the annual short-rate
    differential, base minus quote, is more than `threshold` times the pair's trailing
    annualised volatility; with ``direction="both"`` short while it is below
    ``-threshold`` times the volatility; flat otherwise. Optionally flat around
    central-bank decisions, when the carry trade is most exposed to jumps.

    Parameters
    ----------
    base_rate, quote_rate : str
        Catalog short rates, percent per year, of the base and of the quote currency
        (defaults ``"FEDFUNDS_TARGET"``, the Fed funds target, and ``"JPY_CALL"``, the
        Bank of Japan's overnight call rate); loaded with the pair
        (:meth:`required_series`).
    lookback : int, >= 2
        Daily log returns of the pair in the trailing volatility (default 60).
    threshold : float, >= 0
        Carry-to-volatility ratio needed to hold a position (default 0.5).
    direction : {"long", "both"}
        ``"long"`` (default): long or flat. ``"both"``: also short when the
        differential favours the quote currency.
    avoid_events : bool
        Be flat around events of `avoid_categories` (default False).
    avoid_before : int, >= 0
        Weekdays before an event's day 0 on which to be flat (default 1; see Notes
        for why weekdays and why 2 keeps day 0's own move out).
    avoid_after : int, >= 0
        Bars after day 0 on which to be flat, day 0 itself always (default 1).
    avoid_categories : list of str
        Event categories (the events' ``category`` column) to step aside from
        (default ``["boj", "fomc"]``); one absent from the events is an error.

    Notes
    -----
    On bar :math:`t` of the pair (its own observation dates),

    .. math:: c_t = \frac{r^{base}_t - r^{quote}_t}{100}, \qquad
              \rho_t = \frac{c_t}{\sigma_t}, \qquad
              \text{position}_t = \begin{cases} +1 & \rho_t > \theta \\
              -1 & \rho_t < -\theta \text{ and direction = both} \\
              0 & \text{otherwise} \end{cases}

    with :math:`\theta` = `threshold`, :math:`\sigma_t` from :func:`trailing_vol`
    (decimal, annualised with :math:`\sqrt{252}`) and each rate carried onto the pair's
    bars as of the bar (:func:`backtest.strategy_helpers.asof`: the latest value observed
    no later, in UTC, than the pair's own observation). With FRED's DEXJPUS (12:00
    New York) the Fed funds target dated ``d`` (in effect on ``d``, 00:00 New York) and
    the call rate of ``d`` (17:00 Tokyo, early morning in New York) are both used on
    ``d``. The position is 0 wherever :math:`\rho_t` is undefined (the first
    `lookback` bars, a rate not yet observed, zero volatility).

    The event filter sets the position to 0 on bars from `avoid_before` weekdays
    before to `avoid_after` bars after each event's day 0
    (:func:`backtest.strategy_helpers.near_events`; day 0 by the event study's rule). The
    engine fills a position set at bar :math:`t` at the close of :math:`t + 1`, so the
    position held over day 0's own move (close of :math:`b_0 - 1` to close of
    :math:`b_0`) is the one set at :math:`b_0 - 2`: ``avoid_before=2`` keeps day 0 out,
    ``avoid_before=1`` only the days after it.

    References
    ----------
    Burnside, C., Eichenbaum, M. and Rebelo, S. (2011). Carry trade and momentum in
    currency markets. *Annual Review of Financial Economics* 3, 511-535.

    Brunnermeier, M. K., Nagel, S. and Pedersen, L. H. (2008). Carry trades and
    currency crashes. *NBER Macroeconomics Annual* 23, 313-347.
    """

    name = "fx_carry"

    Params = FxCarryParams

    def required_series(self, params: FxCarryParams, traded: str) -> list[str]:
        """The two short rates, base then quote."""
        return [params.base_rate, params.quote_rate]

    def carry(self, data: MarketData, params: FxCarryParams) -> pd.Series:
        """Short-rate differential, base minus quote, as a decimal per year, on the pair's bars."""
        names = [params.base_rate, params.quote_rate]
        require_columns(data, names, self.name)
        dates = data.price.index
        base, quote = (
            asof(data.levels[n].dropna(), data.levels, n, data.series, dates) for n in names
        )
        return pd.Series((base - quote) / 100.0, index=dates, name="carry")

    def _blackout(self, data: MarketData, params: FxCarryParams) -> np.ndarray:
        """Bars on which the event filter keeps the position flat (all False without it)."""
        if not params.avoid_events:
            return np.zeros(len(data.price), dtype=bool)
        ev = selected_events(
            data, self.name, "avoid_events", params.avoid_categories, "avoid_categories"
        )
        return near_events(data, ev, params.avoid_before, params.avoid_after)

    @staticmethod
    def _rule(ratio: np.ndarray, params: FxCarryParams, blackout: np.ndarray) -> np.ndarray:
        short = -1.0 if params.direction == "both" else 0.0
        out = np.where(
            ratio > params.threshold, 1.0, np.where(ratio < -params.threshold, short, 0.0)
        )
        out[np.isnan(ratio) | blackout] = 0.0
        return out

    def positions(self, data: MarketData, params: FxCarryParams) -> pd.Series:
        """Target positions: +1 (or -1) while carry over volatility passes the threshold."""
        return self.positions_many(data, [params])[0].rename(data.series)

    def positions_many(self, data: MarketData, params: Sequence[FxCarryParams]) -> pd.DataFrame:
        """Positions of many parameter sets; carry, volatility and event windows are
        computed once per distinct input."""
        price = data.price
        carries: dict[tuple[str, str], np.ndarray] = {}
        vols: dict[int, np.ndarray] = {}
        masks: dict[tuple[object, ...], np.ndarray] = {}
        columns = {}
        with np.errstate(divide="ignore", invalid="ignore"):
            for i, p in enumerate(params):
                rates = (p.base_rate, p.quote_rate)
                if rates not in carries:
                    carries[rates] = self.carry(data, p).to_numpy()
                if p.lookback not in vols:
                    vols[p.lookback] = trailing_vol(price, p.lookback)
                key = (p.avoid_events, p.avoid_before, p.avoid_after, tuple(p.avoid_categories))
                if key not in masks:
                    masks[key] = self._blackout(data, p)
                ratio = carries[rates] / vols[p.lookback]
                ratio[~np.isfinite(ratio)] = np.nan
                columns[i] = self._rule(ratio, p, masks[key])
        return pd.DataFrame(columns, index=price.index, dtype="float64")
