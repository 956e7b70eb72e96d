"""Baseline strategies: buy and hold, and a moving-average crossover.

Baselines are what an event-driven rule has to beat: being long throughout, and the
oldest trend-following rule there is.
"""

from __future__ import annotations

import threading
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


class _Averages:
    """Moving averages of one price series, each window computed once and kept.

    Row ``rows[w]`` of :attr:`values` is ``_sma(csum, w)``, bit for bit: a sweep's
    chunks (:meth:`MACrossover.crossings`) share every window's average instead of
    computing it again per chunk. Rows are added in order of first use; the array
    doubles when full (the rows a caller already holds stay valid in the old one).
    """

    def __init__(self, key: bytes, price: np.ndarray) -> None:
        self.key = key
        self.csum = _running_sum(price)
        self.values = np.empty((0, len(price)))
        self.rows: dict[int, int] = {}

    def take(self, windows: Sequence[int]) -> tuple[np.ndarray, dict[int, int]]:
        """The rows of `windows` (computed where new) and the array holding them."""
        new = [w for w in dict.fromkeys(windows) if w not in self.rows]
        if new:
            used = len(self.rows)
            if used + len(new) > self.values.shape[0]:
                grown = np.empty((max(used + len(new), 2 * used), self.values.shape[1]))
                grown[:used] = self.values[:used]
                self.values = grown
            for i, w in enumerate(new):
                self.values[used + i] = _sma(self.csum, w)
                self.rows[w] = used + i
        return self.values[: len(self.rows)], self.rows


#: Bytes of moving averages kept per price series (beyond: started afresh).
_AVERAGES_BUDGET = 1 << 27
_AVERAGES: list[_Averages] = []  # the latest two series, most recent last
_AVERAGES_LOCK = threading.Lock()


def _averages(price: np.ndarray, windows: Sequence[int]) -> tuple[np.ndarray, dict[int, int]]:
    """Every window's average of `price` as rows of one shared array (see :class:`_Averages`)."""
    key = price.tobytes()
    with _AVERAGES_LOCK:
        hit = next((a for a in _AVERAGES if a.key == key), None)
        if hit is not None:
            _AVERAGES.remove(hit)
        distinct = len(set(windows) | (set(hit.rows) if hit is not None else set()))
        if hit is None or distinct * max(len(price), 1) * 8 > _AVERAGES_BUDGET:
            hit = _Averages(key, price)
        _AVERAGES.append(hit)
        del _AVERAGES[:-2]
        return hit.take(windows)


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
        average once (the columns of :meth:`positions_many`), fast vs slow.

        The averages are kept between calls (per price series, the latest two, up to
        128 MiB each), so the chunks of a sweep compute each window once; the
        features array is shared by those calls and must not be modified.
        """
        ps = list(params)
        price = np.ascontiguousarray(data.price.to_numpy(dtype="float64"))
        values, column = _averages(price, [w for p in ps for w in (p.fast, p.slow)])
        return Crossing(
            features=values.T,
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
