"""Refuse a strategy on a series that cannot be held (an ``untradable`` instrument).

The catalog's ``instrument:`` entry of each loaded series is in the levels' provenance
(``levels.attrs["backtest"]["series"][name]["instrument"]``); a frame without it (built
by hand) is not checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from backtest.errors import StrategyError

__all__ = ["check_tradable", "untradable_message"]


def untradable_message(
    series: str,
    instrument: Mapping[str, Any],
    where: str,
    allow: str = "pass allow_untradable=True",
) -> str:
    """The message refusing a strategy on untradable `series`, with an alternative.

    Parameters
    ----------
    series : str
        The traded series.
    instrument : mapping
        Its instrument record (``kind``, optional ``proxy``).
    where : str
        Who refuses (``"engine.backtest"``), first in the message.
    allow : str
        How to trade it anyway (a config says ``strategies[i].allow_untradable: true``).

    Returns
    -------
    str
    """
    proxy = instrument.get("proxy")
    hint = (
        f"trade its tradable proxy {proxy!r} instead"
        if proxy
        else "trade a tradable series instead (an index, bond or fx instrument, e.g. SPX)"
    )
    return (
        f"{where}: series {series!r} is untradable (its catalog instrument has kind "
        f"'untradable': a level no position earns); {hint}, or {allow} to trade its level "
        "as a price anyway"
    )


def check_tradable(
    levels: pd.DataFrame, series: str, where: str, *, allow_untradable: bool = False
) -> None:
    """Raise when `series` is untradable per `levels`' provenance, unless allowed.

    Parameters
    ----------
    levels : pandas.DataFrame
        Levels from :func:`backtest.data.load` (provenance in ``attrs``).
    series : str
        Traded series.
    where : str
        Named first in the message.
    allow_untradable : bool
        Trade it anyway.

    Raises
    ------
    backtest.errors.StrategyError
        The series' instrument is ``untradable``; the message names the series and a
        tradable alternative.
    """
    if allow_untradable:
        return
    record = levels.attrs.get("backtest", {}).get("series", {}).get(series, {})
    instrument = record.get("instrument") if isinstance(record, Mapping) else None
    if isinstance(instrument, Mapping) and instrument.get("kind") == "untradable":
        raise StrategyError(untradable_message(series, instrument, where))
