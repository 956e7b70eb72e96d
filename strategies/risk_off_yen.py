"""Short USD/JPY when a risk-off signal spikes: the yen as a safe haven."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from pydantic import Field, model_validator

from backtest.data import reactions
from backtest.strategy import MarketData, Strategy, StrategyParams
from backtest.strategy_helpers import asof, require_columns

__all__ = ["RiskOffYen", "RiskOffYenParams", "zscore"]


def zscore(x: pd.Series, lookback: int) -> pd.Series:
    r"""Trailing z-score of `x` over its last `lookback` observations.

    Parameters
    ----------
    x : pandas.Series
        Observations (NaN only where undefined, e.g. the first change).
    lookback : int, >= 2
        Observations in the window, the current one included.

    Returns
    -------
    pandas.Series
        :math:`z_t = (x_t - \bar x_t) / s_t` with the mean and the standard deviation
        (``ddof=1``) of :math:`x_{t-lookback+1}, \dots, x_t`; NaN for the first
        ``lookback - 1`` observations, for windows holding a NaN, and where
        :math:`s_t = 0`.

    Notes
    -----
    Each window is reduced on its own (no running sums), so the value at ``t`` does
    not depend on anything outside its window, to the last bit.
    """
    values = x.to_numpy(dtype="float64")
    z = np.full(len(values), np.nan)
    if len(values) >= lookback:
        windows = sliding_window_view(values, lookback)
        mean = windows.mean(axis=1)
        std = windows.std(axis=1, ddof=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            tail = (values[lookback - 1 :] - mean) / std
        tail[~np.isfinite(tail)] = np.nan
        z[lookback - 1 :] = tail
    return pd.Series(z, index=x.index, name=x.name)


def _short_on_spikes(
    z: np.ndarray, threshold: float, exit_threshold: float, hold: int
) -> np.ndarray:
    """Positions -1 from each upward crossing of `threshold`, until exit or `hold` bars."""
    out = np.zeros(len(z))
    left = 0
    previous = np.nan
    for t, value in enumerate(z):
        if value > threshold and previous <= threshold:  # NaN compares False: no cross
            left = hold
        elif left and value < exit_threshold:
            left = 0
        if left:
            out[t] = -1.0
            left -= 1
        previous = value
    return out


class RiskOffYenParams(StrategyParams):
    """Parameters of :class:`RiskOffYen`."""

    signal: str = Field("VIX", min_length=1, description="catalog name of the signal")
    signal_transform: Literal["level", "change"] = Field(
        "level", description="z-score the level or the per-observation change"
    )
    lookback: int = Field(60, ge=2, description="observations in the z-score window")
    threshold: float = Field(2.0, description="entry when z crosses above it")
    exit_threshold: float = Field(0.0, description="exit when z falls below it")
    hold: int = Field(10, ge=1, description="most bars held, entry bar included")

    @model_validator(mode="after")
    def _exit_not_above_entry(self) -> RiskOffYenParams:
        if self.exit_threshold > self.threshold:
            raise ValueError(
                f"exit_threshold must be at most threshold, got exit_threshold="
                f"{self.exit_threshold}, threshold={self.threshold}"
            )
        return self

    @classmethod
    def valid_many(cls, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """``exit_threshold <= threshold`` for many parameter sets (NaN passes, as above)."""
        exit_, entry = np.asarray(columns["exit_threshold"]), np.asarray(columns["threshold"])
        return ~np.asarray(exit_ > entry, dtype=bool)


class RiskOffYen(Strategy[RiskOffYenParams]):
    r"""Sell USD/JPY when markets turn risk-off: the yen tends to rise when fear spikes.

    A risk-off signal fires when the trailing z-score of a stress gauge crosses above
    `threshold`: the VIX level by default, or the daily change of the 10-year Treasury
    yield (``signal="UST10Y", signal_transform="change"``) for a yield spike. The rule
    is then short the traded series (USD/JPY) for `hold` bars, or until the z-score
    falls back below `exit_threshold`, whichever comes first.

    Parameters
    ----------
    signal : str
        Catalog name of the signal series (default ``"VIX"``); it must be loaded
        beside the traded series (:meth:`required_series`).
    signal_transform : {"level", "change"}
        Z-score the level (default) or the per-observation change
        (:func:`backtest.data.reactions`: basis points for yields, percent log
        returns for indices).
    lookback : int, >= 2
        Observations of the signal in the z-score window, the current one included
        (default 60).
    threshold : float
        Entry: the z-score crosses above it (default 2.0).
    exit_threshold : float
        Early exit: the z-score falls below it (default 0.0); at most `threshold`.
    hold : int, >= 1
        Most bars a position is held, the entry bar included (default 10).

    Notes
    -----
    On the signal's own observations, with :math:`x` the level or the change,

    .. math:: z_t = \frac{x_t - \operatorname{mean}(x_{t-L+1..t})}
                          {\operatorname{std}_{ddof=1}(x_{t-L+1..t})}

    (:func:`zscore`). :math:`z` is carried onto the traded series' bars as of each bar
    (:func:`backtest.strategy_helpers.asof`): a signal value counts from the bar dated the
    same day only if it was observed no later (UTC) than the traded series on that
    day, else from the next bar. FRED's VIX close (16:15 New York) of day ``d`` is
    therefore used from the DEXJPUS fix (12:00 New York) of the next day on.

    On the traded bars, a position ``-1`` starts at a bar where :math:`z` crosses the
    threshold (:math:`z_{t-1} \le` `threshold` :math:`< z_t`; a first value after a
    gap in :math:`z` is not a crossing) and lasts `hold` bars; it ends earlier, from
    the first bar with :math:`z <` `exit_threshold`. A new crossing during a trade
    restarts the count. Elsewhere the position is 0.

    References
    ----------
    Ranaldo, A. and Söderlind, P. (2010). Safe haven currencies. *Review of Finance*
    14(3), 385-407.

    Brunnermeier, M. K., Nagel, S. and Pedersen, L. H. (2008). Carry trades and
    currency crashes. *NBER Macroeconomics Annual* 23, 313-347.
    """

    name = "risk_off_yen"

    Params = RiskOffYenParams

    def required_series(self, params: RiskOffYenParams, traded: str) -> list[str]:
        """The signal series."""
        return [params.signal]

    def positions(self, data: MarketData, params: RiskOffYenParams) -> pd.Series:
        """Target positions: -1 after a risk-off z-score spike, else 0."""
        aligned = self._aligned_z(data, params)
        out = _short_on_spikes(aligned, params.threshold, params.exit_threshold, params.hold)
        return pd.Series(out, index=data.price.index, name=data.series)

    def positions_many(self, data: MarketData, params: Sequence[RiskOffYenParams]) -> pd.DataFrame:
        """Positions of many parameter sets; the aligned z-score is computed once per
        signal, transform and lookback."""
        ps = list(params)
        index = data.price.index
        z: dict[tuple[str, str, int], np.ndarray] = {}
        out = np.empty((len(index), len(ps)))
        for i, p in enumerate(ps):
            key = (p.signal, p.signal_transform, p.lookback)
            if key not in z:
                z[key] = self._aligned_z(data, p)
            out[:, i] = _short_on_spikes(z[key], p.threshold, p.exit_threshold, p.hold)
        return pd.DataFrame(out, index=index, columns=pd.RangeIndex(len(ps)))

    def _aligned_z(self, data: MarketData, params: RiskOffYenParams) -> np.ndarray:
        """The signal's z-score as of each traded bar (see the class notes)."""
        require_columns(data, [params.signal], self.name)
        own = data.levels[[params.signal]].dropna()
        x = (
            own[params.signal]
            if params.signal_transform == "level"
            else reactions(own)[params.signal]
        )
        z = zscore(x, params.lookback)
        return asof(z, data.levels, params.signal, data.series, data.price.index)
