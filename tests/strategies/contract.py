"""The contract every strategy keeps: the public one, :mod:`backtest.testing`.

Each strategy's tests subclass :class:`backtest.testing.StrategyContract` (re-exported
here for the built-ins' tests, with the snapshot and calendar loaders they share), so
the built-ins and third-party plugins pass the same checks from one copy.

The data are real: the bundled snapshot (``offline=True``) from 2019 to 2025 for the
traded series and every series the parameter sets require, and the tariff, FOMC and
BoJ calendars in ``data/events``. Kind: invariants only. No expected value comes from
outside: each check compares the strategy with itself under a change that must not
matter (dropped future data = no look-ahead, a batch instead of one call, a second
call), or checks declarations and bounds. The numbers of each built-in strategy are
checked against hand-computed and pandas references in ``test_builtins.py``.
"""

from __future__ import annotations

import pandas as pd

from backtest.testing import StrategyContract, assert_same, bundled_events, snapshot_levels

__all__ = ["StrategyContract", "all_events", "assert_same", "snapshot_levels"]


def all_events() -> pd.DataFrame:
    """Tariff, FOMC and BoJ calendars in one canonical frame, sorted by time."""
    events = bundled_events()
    assert events is not None, "data/events is missing from the source tree"
    return events
