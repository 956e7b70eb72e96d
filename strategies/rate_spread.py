"""Trade USD/JPY on the US-Japan 10-year yield spread (the rate differential)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from pydantic import Field

from backtest.strategy import MarketData, Strategy, StrategyParams
from backtest.strategy_helpers import asof, require_columns

__all__ = ["RateSpread", "RateSpreadParams"]

#: The two legs of the spread, US minus Japan.
US, JAPAN = "UST10Y", "JGB10Y"


def _trailing_mean(x: np.ndarray, window: int) -> np.ndarray:
    """Mean of the last `window` values, each window reduced on its own; NaN before."""
    out = np.full(len(x), np.nan)
    if len(x) >= window:
        out[window - 1 :] = sliding_window_view(x, window).mean(axis=1)
    return out


class RateSpreadParams(StrategyParams):
    """Parameters of :class:`RateSpread`."""

    mode: Literal["level", "change"] = Field(
        "level", description="trade the spread's level or its change over window bars"
    )
    threshold: float | None = Field(
        None, description="percentage points; None: trailing mean (level) or 0 (change)"
    )
    window: int = Field(60, ge=2, description="bars in the moving average or the change")
    direction: Literal["long", "both"] = Field(
        "long", description="'long': long or flat; 'both': long or short"
    )


class RateSpread(Strategy[RateSpreadParams]):
    r"""Hold the dollar against the yen while the US pays more than Japan, or increasingly so.

    The carry view of USD/JPY: a wide (``mode="level"``) or widening (``mode="change"``)
    gap between the 10-year Treasury yield and the 10-year JGB yield draws capital
    into the dollar. The rule is long USD/JPY while the spread signal is on, and flat
    (``direction="long"``) or short (``"both"``) otherwise.

    Parameters
    ----------
    mode : {"level", "change"}
        ``"level"`` (default): long while the spread is above `threshold`.
        ``"change"``: long while the spread has risen over the last `window` bars by
        more than `threshold`.
    threshold : float, optional
        In percentage points. ``"level"``: a fixed spread level; default None, the
        spread's own trailing `window`-bar mean (long while the spread is above its
        moving average). ``"change"``: the smallest rise that counts (default 0).
    window : int, >= 2
        Bars of the traded series in the moving average or the change (default 60).
    direction : {"long", "both"}
        ``"long"`` (default): long or flat. ``"both"``: long or short.

    Notes
    -----
    The spread on bar :math:`t` of the traded series is
    :math:`S_t = y^{US}_t - y^{JP}_t` (percentage points), each yield carried onto
    the traded bars as of the bar (:func:`backtest.strategy_helpers.asof`): a yield dated
    ``d`` counts from the bar dated ``d`` only if it was observed no later (UTC) than
    the traded series on ``d``, else from the next bar. With FRED's DEXJPUS (12:00
    New York) as USD/JPY, JGB10Y of ``d`` (Tokyo close, 15:00 JST: the night before
    in New York) is used on ``d``, but UST10Y of ``d`` (DGS10, 15:30 New York) only
    from the next bar: the spread of bar ``d`` is
    :math:`y^{US}_{d-1} - y^{JP}_d`. This is conservative: the engine fills at the
    next close anyway, but a position never uses a number from after its own bar.

    The signal, with :math:`w` = `window` and :math:`c` = `threshold`:

    .. math:: \text{level: } S_t > c \;(c = \tfrac{1}{w}\textstyle\sum_{i<w} S_{t-i}
              \text{ if None}), \qquad \text{change: } S_t - S_{t-w} > c \;(c = 0
              \text{ if None}).

    The position is 0 wherever the signal is undefined (before both yields and the
    window exist).

    References
    ----------
    Fama, E. F. (1984). Forward and spot exchange rates. *Journal of Monetary
    Economics* 14(3), 319-338.

    Brunnermeier, M. K., Nagel, S. and Pedersen, L. H. (2008). Carry trades and
    currency crashes. *NBER Macroeconomics Annual* 23, 313-347.
    """

    name = "rate_spread"

    Params = RateSpreadParams

    def required_series(self, params: RateSpreadParams, traded: str) -> list[str]:
        """The two yields, ``["UST10Y", "JGB10Y"]``."""
        return [US, JAPAN]

    def spread(self, data: MarketData) -> pd.Series:
        """UST10Y - JGB10Y (percentage points) as known at each bar of the traded series."""
        require_columns(data, [US, JAPAN], self.name)
        dates = data.price.index
        legs = [
            asof(data.levels[name].dropna(), data.levels, name, data.series, dates)
            for name in (US, JAPAN)
        ]
        return pd.Series(legs[0] - legs[1], index=dates, name="spread")

    def positions(self, data: MarketData, params: RateSpreadParams) -> pd.Series:
        """Target positions: +1 while the spread signal is on, else 0 (or -1)."""
        s = self.spread(data).to_numpy()
        w = params.window
        if params.mode == "level":
            line = (
                _trailing_mean(s, w)
                if params.threshold is None
                else np.full(len(s), params.threshold)
            )
            signal = s - line
            cutoff = 0.0
        else:
            signal = np.full(len(s), np.nan)
            signal[w:] = s[w:] - s[:-w]
            cutoff = 0.0 if params.threshold is None else params.threshold
        short = -1.0 if params.direction == "both" else 0.0
        out = np.where(np.isnan(signal), 0.0, np.where(signal > cutoff, 1.0, short))
        return pd.Series(out, index=data.price.index, name=data.series)
