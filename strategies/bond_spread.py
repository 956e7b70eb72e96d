"""Trade the US-Japan 10-year yield spread back to its mean, duration-neutral."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from backtest.errors import DataValidationError, StrategyError
from backtest.strategy import MarketData, Strategy, StrategyParams
from backtest.strategy_helpers import asof, near_events, require_columns, selected_events
from backtest.weights import duration_neutral
from strategies.risk_off_yen import zscore

__all__ = ["BondSpread", "BondSpreadParams", "spread_states"]


def spread_states(z: np.ndarray, entry: float, exit_: float, allowed: np.ndarray) -> np.ndarray:
    """The hysteresis state machine of :class:`BondSpread`: +1, -1 or 0 per bar.

    Parameters
    ----------
    z : numpy.ndarray
        Z-score of the spread per bar (NaN where undefined).
    entry, exit_ : float
        Entry when ``z > entry`` (state +1) or ``z < -entry`` (state -1); exit from +1
        when ``z <= exit_``, from -1 when ``z >= -exit_``.
    allowed : numpy.ndarray
        ``bool`` per bar: a new position may be opened on the bar.

    Returns
    -------
    numpy.ndarray
        ``float64`` states. On each bar the exit is checked first, then (when flat
        and allowed) the entry, so one bar can close a position and open the other
        side. A NaN z-score closes any position.
    """
    out = np.zeros(len(z))
    state = 0.0
    for t, value in enumerate(z):
        if np.isnan(value):
            state = 0.0
            continue
        if (state > 0 and value <= exit_) or (state < 0 and value >= -exit_):
            state = 0.0
        if state == 0.0 and allowed[t]:
            if value > entry:
                state = 1.0
            elif value < -entry:
                state = -1.0
        out[t] = state
    return out


class BondSpreadParams(StrategyParams):
    """Parameters of :class:`BondSpread`."""

    long: str = Field("UST10Y", min_length=1, description="bond leg held long when z > entry")
    short: str = Field("JGB10Y", min_length=1, description="bond leg held short when z > entry")
    window: int = Field(60, ge=2, description="bars in the spread's trailing mean and std")
    entry: float = Field(1.0, gt=0.0, description="|z| beyond which a position is opened")
    exit: float = Field(0.0, description="z at which a position is closed (toward 0)")
    gross: float = Field(1.0, gt=0.0, description="|w_long| + |w_short|, fraction of value")
    after_events: bool = Field(False, description="open positions only after events")
    event_window: int = Field(5, ge=1, description="bars from day 0 in which to open")
    rebalance: Literal["entry", "daily"] = Field(
        "entry", description="hedge weights fixed at entry, or re-hedged every bar"
    )
    event_categories: list[str] | None = Field(
        None, min_length=1, description="events that open the window; None: all"
    )

    @model_validator(mode="after")
    def _check(self) -> BondSpreadParams:
        if self.exit >= self.entry:
            raise ValueError(f"exit must be below entry, got exit={self.exit}, entry={self.entry}")
        if self.long == self.short:
            raise ValueError(f"long and short must differ, got {self.long!r} twice")
        return self

    @classmethod
    def valid_many(cls, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """The rules of the validator for many parameter sets (NaN passes, as above)."""
        exit_, entry = np.asarray(columns["exit"]), np.asarray(columns["entry"])
        long, short = (np.asarray(columns[k], dtype=object) for k in ("long", "short"))
        same = long == short
        return ~(np.asarray(exit_ >= entry, dtype=bool) | np.asarray(same, dtype=bool))


class BondSpread(Strategy[BondSpreadParams]):
    r"""Bet that a stretched yield spread between two bonds narrows back, duration-neutral.

    When the spread between the long-leg and the short-leg yield (UST10Y minus JGB10Y
    by default) is unusually wide against its trailing mean, buy the long leg's bond
    and sell the short leg's, weighted so that the pair does not care about a parallel
    move of both yields: it earns when the spread narrows. When the spread is unusually
    narrow, the opposite. A two-leg portfolio strategy (:meth:`legs`).

    Parameters
    ----------
    long, short : str
        Catalog bond yields (instrument kind ``"bond"``), default ``"UST10Y"`` and
        ``"JGB10Y"``. The traded series is `long`: its dates are the strategy's bars.
    window : int, >= 2
        Bars in the spread's trailing mean and standard deviation (default 60).
    entry : float, > 0
        Open when the z-score is beyond ``±entry`` (default 1.0).
    exit : float, < entry
        Close when the z-score comes back to `exit` (default 0.0: the mean); see Notes.
    gross : float, > 0
        Gross exposure :math:`|w_{long}| + |w_{short}|` as a fraction of the
        portfolio's value (default 1.0). The engine clips each leg to [-1, 1].
    after_events : bool
        Open positions only within `event_window` bars of an event's day 0 (default
        False: at any time). Exits are never restricted.
    event_window : int, >= 1
        Bars from day 0 (day 0 included) in which a position may be opened (default 5).
    event_categories : list of str, optional
        Event categories that open the window (default: all the events given).

    Notes
    -----
    On bar :math:`t` of the long leg, the spread :math:`S_t = y^{long}_t -
    y^{short}_t` in percentage points, each yield as of the bar
    (:func:`backtest.strategy_helpers.asof`: JGB10Y of ``d``, 15:00 Tokyo, is known before
    UST10Y of ``d``, 15:30 New York, so both are used on ``d``), and

    .. math:: z_t = \frac{S_t - \operatorname{mean}(S_{t-w+1..t})}
                         {\operatorname{std}_{ddof=1}(S_{t-w+1..t})}

    (:func:`strategies.risk_off_yen.zscore`, :math:`w` = `window`). A state machine
    with hysteresis (:func:`spread_states`):

    * flat: :math:`z_t >` `entry` opens state +1 (spread high, expected to fall: long
      the long leg's bond, short the short leg's); :math:`z_t < -`\ `entry` opens
      state -1 (the mirror position);
    * state +1 is closed on the first bar with :math:`z_t \le` `exit`; state -1 on the
      first with :math:`z_t \ge -`\ `exit`;
    * the exit is checked before the entry, so a jump from one side to the other
      flips the position in one bar; a NaN z-score (the first ``window - 1`` bars, a
      flat window) closes any position.

    The weights of state :math:`s` are :math:`s \cdot (w_{long}, w_{short})` from
    :func:`backtest.weights.duration_neutral` at the yields of the bar the position is
    opened (``rebalance="entry"``, the default: the hedge is set at entry and held, so
    the legs trade only when the state changes) or of every bar (``"daily"``: re-hedged
    each day, a small trade on both legs every bar), with the legs' maturities and
    coupon frequencies from the loaded provenance, else the catalog; so
    :math:`w_{long} D_{long} + w_{short} D_{short} = 0` when set. The output has one
    column per leg, ``[long, short]``.

    References
    ----------
    Gatev, E., Goetzmann, W. N. and Rouwenhorst, K. G. (2006). Pairs trading:
    performance of a relative-value arbitrage rule. *Review of Financial Studies*
    19(3), 797-827.

    Fabozzi, F. J. *Bond Markets, Analysis, and Strategies*, ch. 4 (duration-weighted
    spread trades).
    """

    name = "bond_spread"

    Params = BondSpreadParams

    def legs(self, params: BondSpreadParams, traded: str) -> list[str]:
        """``[long, short]``."""
        return [params.long, params.short]

    def required_series(self, params: BondSpreadParams, traded: str) -> list[str]:
        """The legs other than the traded series."""
        return [n for n in (params.long, params.short) if n != traded]

    def yields(self, data: MarketData, params: BondSpreadParams) -> pd.DataFrame:
        """Both legs' yields (percent) as known at each bar of the long leg."""
        if data.series != params.long:
            raise StrategyError(
                f"strategy {self.name!r} trades its long leg: series must be "
                f"params.long={params.long!r}, got {data.series!r}; set series: "
                f"{params.long} or params.long: {data.series}"
            )
        require_columns(data, [params.long, params.short], self.name)
        dates = data.price.index
        return pd.DataFrame(
            {
                n: asof(data.levels[n].dropna(), data.levels, n, data.series, dates)
                for n in (params.long, params.short)
            },
            index=dates,
        )

    def _allowed(self, data: MarketData, params: BondSpreadParams) -> np.ndarray:
        n = len(data.price)
        if not params.after_events:
            return np.ones(n, dtype=bool)
        ev = selected_events(
            data, self.name, "after_events", params.event_categories, "event_categories"
        )
        return near_events(data, ev, 0, params.event_window - 1)

    @staticmethod
    def _terms(levels: pd.DataFrame, names: list[str]) -> dict[str, Any]:
        """Maturities and coupon frequencies recorded in the levels' provenance."""
        prov = levels.attrs.get("backtest", {}).get("series", {})
        maturities, freqs = {}, {}
        for name in names:
            inst = prov.get(name, {}).get("instrument") or {}
            if inst.get("kind") == "bond" and inst.get("maturity") is not None:
                maturities[name] = float(inst["maturity"])
                freqs[name] = int(inst.get("freq") or 2)
        return {
            "maturities": maturities or None,
            "freq": freqs if len(freqs) == len(names) else None,
        }

    def positions(self, data: MarketData, params: BondSpreadParams) -> pd.DataFrame:
        """Target weights per leg, ``[long, short]``: state times duration-neutral weights."""
        y = self.yields(data, params)
        legs = [params.long, params.short]
        spread = y[params.long] - y[params.short]
        z = zscore(spread, params.window).to_numpy()
        state = spread_states(z, params.entry, params.exit, self._allowed(data, params))
        try:
            w = duration_neutral(y, *legs, gross=params.gross, **self._terms(data.levels, legs))
        except DataValidationError as exc:
            raise StrategyError(f"strategy {self.name!r}: {exc}") from exc
        weights = w.to_numpy()
        if params.rebalance == "entry":  # the hedge of the bar the state began, held
            began = np.flatnonzero(np.diff(state, prepend=0.0) != 0.0)
            run = np.searchsorted(began, np.arange(len(state)), side="right") - 1
            weights = weights[began[np.clip(run, 0, None)]] if began.size else weights
        out = weights * state[:, None]
        out[state == 0.0] = 0.0  # flat, also where a weight is undefined
        return pd.DataFrame(out, index=y.index, columns=legs)
