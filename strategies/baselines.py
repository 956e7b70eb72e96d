"""Baseline strategies: buy and hold, and a moving-average crossover.

Baselines are what an event-driven rule has to beat: being long throughout, and the
oldest trend-following rule there is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from backtest.strategy import Crossing, MarketData, Strategy, StrategyParams

__all__ = ["BuyAndHold", "BuyAndHoldParams", "MACrossover", "MACrossoverParams"]


class BuyAndHoldParams(StrategyParams):
    """Buy and hold takes no parameters."""


class BuyAndHold(Strategy[BuyAndHoldParams]):
    """Hold the traded series long on every bar: the benchmark every rule is compared with.

    Parameters
    ----------
    None.

    Notes
    -----
    The position is ``+1`` on every observation of the traded series. Filled at the
    close of the first bar (``next_close`` execution), it earns the series' return
    from the second bar on.

    Examples
    --------
    >>> idx = pd.date_range("2025-01-06", periods=3, freq="B")
    >>> data = MarketData(levels=pd.DataFrame({"USDJPY": [150.0, 151.0, 149.0]}, index=idx),
    ...                   series="USDJPY")
    >>> BuyAndHold().positions(data, BuyAndHold.Params()).tolist()
    [1.0, 1.0, 1.0]
    """

    name = "buy_and_hold"
    Params = BuyAndHoldParams

    def positions(self, data: MarketData, params: BuyAndHoldParams) -> pd.Series:
        """Target position ``+1`` on every bar of the traded series."""
        return pd.Series(1.0, index=data.price.index, name=data.series)


def _running_sum(price: np.ndarray) -> np.ndarray:
    """Cumulative sum with a leading zero: ``c[t] = price[0] + ... + price[t-1]``."""
    return np.concatenate(([0.0], np.cumsum(price, dtype="float64")))


def _sma(csum: np.ndarray, window: int) -> np.ndarray:
    """Simple moving average of `window` bars from a running sum; NaN before it exists."""
    n = len(csum) - 1
    out = np.full(n, np.nan)
    if window <= n:
        out[window - 1 :] = (csum[window:] - csum[:-window]) / window
    return out


class MACrossoverParams(StrategyParams):
    """Parameters of :class:`MACrossover`."""

    fast: int = Field(20, ge=1, description="bars in the fast simple moving average")
    slow: int = Field(50, ge=2, description="bars in the slow simple moving average")
    direction: Literal["long", "both"] = Field(
        "long", description="'long': long or flat; 'both': long or short"
    )

    @model_validator(mode="after")
    def _fast_below_slow(self) -> MACrossoverParams:
        if self.fast >= self.slow:
            raise ValueError(
                f"fast must be below slow, got fast={self.fast}, slow={self.slow}; "
                "swap them or lower fast"
            )
        return self

    @classmethod
    def valid_many(cls, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """``fast < slow`` for many parameter sets at once (the rule of the validator)."""
        return np.asarray(np.asarray(columns["fast"]) < np.asarray(columns["slow"]), dtype=bool)


class MACrossover(Strategy[MACrossoverParams]):
    r"""Follow the trend: long while the fast moving average of the price is above the slow one.

    The classic rule of Brock, Lakonishok and LeBaron (1992). With ``direction="both"``
    the rule is short, instead of flat, while the fast average is at or below the slow one.

    Parameters
    ----------
    fast : int, >= 1
        Bars in the fast simple moving average (default 20). Must be below `slow`.
    slow : int, >= 2
        Bars in the slow simple moving average (default 50).
    direction : {"long", "both"}
        ``"long"`` (default): long or flat. ``"both"``: long or short.

    Notes
    -----
    With price :math:`p_t` on the traded series' own bars,

    .. math:: \bar p^{(w)}_t = \frac{1}{w} \sum_{i=0}^{w-1} p_{t-i}, \qquad
              \text{position}_t = \begin{cases} +1 & \bar p^{(fast)}_t > \bar p^{(slow)}_t\\
              0 \text{ or } -1 & \text{otherwise} \end{cases}

    and 0 on the first ``slow - 1`` bars, before the slow average exists. Averages
    are differences of one running sum of the price, shared by every window in
    :meth:`positions_many`, so a sweep computes each distinct window once and its
    columns equal :meth:`positions` exactly. A running sum carries rounding of about
    ``1e-16`` times the sum of the prices: averages closer than that are a tie decided
    by rounding.

    References
    ----------
    Brock, W., Lakonishok, J. and LeBaron, B. (1992). Simple technical trading rules
    and the stochastic properties of stock returns. *Journal of Finance* 47(5),
    1731-1764.

    Examples
    --------
    >>> idx = pd.date_range("2025-01-06", periods=6, freq="B")
    >>> price = pd.DataFrame({"USDJPY": [1.0, 2.0, 3.0, 2.0, 1.0, 2.0]}, index=idx)
    >>> rule = MACrossover()
    >>> rule.positions(MarketData(price, "USDJPY"), rule.parse({"fast": 2, "slow": 3})).tolist()
    [0.0, 0.0, 1.0, 1.0, 0.0, 0.0]
    """

    name = "ma_crossover"
    Params = MACrossoverParams

    def positions(self, data: MarketData, params: MACrossoverParams) -> pd.Series:
        """Target positions: +1 while fast SMA > slow SMA, else 0 (or -1 with "both")."""
        price = data.price
        csum = _running_sum(price.to_numpy(dtype="float64"))
        fast, slow = _sma(csum, params.fast), _sma(csum, params.slow)
        short = -1.0 if params.direction == "both" else 0.0
        out = np.where(np.isnan(slow), 0.0, np.where(fast > slow, 1.0, short))
        return pd.Series(out, index=price.index, name=data.series)

    def crossings(self, data: MarketData, params: Sequence[MACrossoverParams]) -> Crossing:
        """The rule as a :class:`~backtest.strategy.Crossing`: each distinct window's
        average once (the columns of :meth:`positions_many`), fast vs slow."""
        ps = list(params)
        csum = _running_sum(data.price.to_numpy(dtype="float64"))
        windows = sorted({w for p in ps for w in (p.fast, p.slow)})
        column = {w: j for j, w in enumerate(windows)}
        features = np.empty((len(csum) - 1, len(windows)), order="F")
        for j, w in enumerate(windows):
            features[:, j] = _sma(csum, w)
        return Crossing(
            features=features,
            left=np.array([column[p.fast] for p in ps], dtype=np.int64),
            right=np.array([column[p.slow] for p in ps], dtype=np.int64),
            above=np.ones(len(ps)),
            below=np.array([-1.0 if p.direction == "both" else 0.0 for p in ps]),
        )

    def positions_many(self, data: MarketData, params: Sequence[MACrossoverParams]) -> pd.DataFrame:
        """Positions for many parameter sets at once, one column each (in order).

        Each distinct window's average is computed once from one running sum; the
        columns are then built by one comparison of two ``(bars, sets)`` arrays.
        """
        ps = list(params)
        price = data.price
        if not ps:
            return pd.DataFrame(index=price.index, columns=pd.RangeIndex(0), dtype="float64")
        csum = _running_sum(price.to_numpy(dtype="float64"))
        windows = sorted({w for p in ps for w in (p.fast, p.slow)})
        column = {w: j for j, w in enumerate(windows)}
        averages = np.column_stack([_sma(csum, w) for w in windows])
        fast = averages[:, [column[p.fast] for p in ps]]
        slow = averages[:, [column[p.slow] for p in ps]]
        short = np.array([-1.0 if p.direction == "both" else 0.0 for p in ps])
        out = np.where(np.isnan(slow), 0.0, np.where(fast > slow, 1.0, short[None, :]))
        return pd.DataFrame(out, index=price.index, columns=pd.RangeIndex(len(ps)))
