"""Trade the drift (or the reversal) of a series after dated announcements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field

from backtest import events as events_mod
from backtest.data import reactions
from backtest.errors import DataValidationError, StrategyError
from backtest.strategy import MarketData, Strategy, StrategyParams
from backtest.strategy_helpers import day0_bars

__all__ = ["EventDrift", "EventDriftParams"]


class EventDriftParams(StrategyParams):
    """Parameters of :class:`EventDrift`."""

    categories: list[str] | None = Field(
        None, min_length=1, description="event categories to trade; None: all"
    )
    mode: Literal["momentum", "reversal"] = Field(
        "momentum", description="trade with ('momentum') or against the day-0 reaction"
    )
    hold: int = Field(5, ge=1, description="bars held, day 0 included")
    min_move: float = Field(
        0.0, ge=0.0, description="smallest |day-0 reaction| traded (bp or percent)"
    )


class EventDrift(Strategy[EventDriftParams]):
    r"""Bet that a market keeps moving the way it first reacted to news, or that it snaps back.

    After each event of the chosen categories, take a position in the direction of the
    traded series' day-0 reaction (``mode="momentum"``: under-reaction, the news is
    absorbed slowly) or against it (``mode="reversal"``: over-reaction), and hold it
    for `hold` bars.

    Parameters
    ----------
    categories : list of str, optional
        Event categories to trade (``["tariff_announcement", "boj"]``); default all.
        A category absent from the events is an error (a typo, most likely).
    mode : {"momentum", "reversal"}
        Trade with (default) or against the day-0 reaction.
    hold : int, >= 1
        Bars the position is held, day 0 included (default 5).
    min_move : float, >= 0
        Smallest absolute day-0 reaction that is traded, in the series' natural unit
        (:func:`backtest.data.reactions`: basis points for yields, percent log returns
        for FX and indices); default 0, every non-zero reaction.

    Notes
    -----
    Day 0 of an event is the traded series' first bar that can reflect it, by the event
    study's rule: an event with a time maps to the first observation taken strictly
    after it (the series' observation clock comes from the provenance of the loaded
    levels), a date-only event to the first observation dated on or after its local
    date. Where ``data.day0`` (from :class:`backtest.eventstudy.EventStudy`) has the
    traded series and the event, its date is used instead.

    With :math:`r_0` the change on day 0 (from the previous observation of the series
    to day 0), the position is

    .. math:: s \cdot \operatorname{sign}(r_0) \text{ on bars } 0, \dots, hold - 1,
              \quad s = +1 \text{ (momentum) or } -1 \text{ (reversal)},

    set at the close of day 0 itself (when :math:`r_0` is known; the engine fills it at
    the next close). Events with :math:`|r_0| <` `min_move`, :math:`r_0 = 0`, or no
    day 0 in the data are not traded and do not interrupt a running trade. When holds
    overlap, the latest event wins from its day 0 on; events sharing a day 0 share
    its reaction.

    Raises
    ------
    backtest.errors.StrategyError
        ``data.events`` is missing, or a category is not among the events.

    References
    ----------
    Bernard, V. L. and Thomas, J. K. (1989). Post-earnings-announcement drift: delayed
    price response or risk premium? *Journal of Accounting Research* 27, 1-36.

    Andersen, T. G., Bollerslev, T., Diebold, F. X. and Vega, C. (2003). Micro effects
    of macro announcements: real-time price discovery in foreign exchange. *American
    Economic Review* 93(1), 38-62.
    """

    name = "event_drift"

    Params = EventDriftParams

    def _events(self, data: MarketData, p: EventDriftParams) -> pd.DataFrame:
        if data.events is None:
            raise StrategyError(
                f"strategy {self.name!r} needs events: pass MarketData(events=...) "
                "(backtest.events.load) or list an events file in the run config"
            )
        try:
            return events_mod.select(data.events, categories=p.categories)
        except DataValidationError as exc:
            raise StrategyError(f"strategy {self.name!r}: params.categories: {exc}") from exc

    def positions(self, data: MarketData, params: EventDriftParams) -> pd.Series:
        """Target positions: the sign of each event's day-0 reaction, held `hold` bars."""
        out = _hold_signs(*self._day0(data, params), params)
        return pd.Series(out, index=data.price.index, name=data.series)

    def positions_many(self, data: MarketData, params: Sequence[EventDriftParams]) -> pd.DataFrame:
        """Positions of many parameter sets; the events' day 0 and reactions are found
        once per category selection."""
        ps = list(params)
        index = data.price.index
        found: dict[tuple[str, ...] | None, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        out = np.empty((len(index), len(ps)))
        for i, p in enumerate(ps):
            key = None if p.categories is None else tuple(p.categories)
            if key not in found:
                found[key] = self._day0(data, p)
            out[:, i] = _hold_signs(*found[key], p)
        return pd.DataFrame(out, index=index, columns=pd.RangeIndex(len(ps)))

    def _day0(
        self, data: MarketData, params: EventDriftParams
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each selected event's day-0 bar and time stamp, and the day-0 changes."""
        ev = self._events(data, params)
        bars = day0_bars(data, ev)
        change = reactions(data.levels[[data.series]])[data.series]
        r0 = change.reindex(data.price.index).to_numpy(dtype="float64")
        stamps = pd.DatetimeIndex(ev["timestamp"]).as_unit("ns").asi8
        return np.asarray(bars), stamps, r0


def _hold_signs(
    bars: np.ndarray, stamps: np.ndarray, r0: np.ndarray, params: EventDriftParams
) -> np.ndarray:
    """The positions of :class:`EventDrift` from the events' day-0 bars and changes."""
    n = len(r0)
    out = np.zeros(n)
    sign = 1.0 if params.mode == "momentum" else -1.0
    # Oldest first, so later events overwrite the positions of earlier ones.
    for e in np.lexsort((stamps, bars)):
        bar = int(bars[e])
        if bar >= n:
            continue
        move = r0[bar]
        if not np.isfinite(move) or move == 0.0 or abs(move) < params.min_move:
            continue
        out[bar : bar + params.hold] = sign * np.sign(move)
    return out
