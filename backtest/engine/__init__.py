"""The strategy engine: the only package that imports vectorbt.

:func:`backtest` runs one strategy with one parameter set; :func:`sweep` runs many
parameter sets in chunked, column-vectorised vectorbt calls and adds selection-bias
statistics (deflated Sharpe ratio, probability of backtest overfitting);
:func:`validate` runs a train/test split or walk-forward folds and reports in-sample
and out-of-sample metrics side by side.

Each held series earns its instrument's return (a bond's total return from its yield,
a currency pair's spot move plus carry, an index's price return); Sharpe ratios are of
returns in excess of each leg's currency short rate. A portfolio strategy holds several
legs sharing one cash account.

Execution rule: a target position computed from data up to the close of bar ``t`` is
filled at the close of bar ``t + 1`` (strategies may declare ``execution =
"same_close"`` explicitly). Orders are placed only when the target changes, at the
close, with fees and slippage in basis points of traded value. Metrics are annualised
by observations per year (252 by default), not calendar days.

The stages, one module each:

========================  ===========================================================
``simulate``              vectorbt: execution lag, the portfolio, trades, freeing it
``legs``                  what each held series earns: its total-return index from its
                          catalog instrument, income and funding per bar
``book``                  a strategy's legs simulated together, measured, attributed
``single``                :func:`backtest`: one parameter set
``chunks``                the chunk protocol of a sweep: :class:`ChunkSettings`, tasks,
                          what a chunk runs and sends back
``sweeps``                :func:`sweep` and :func:`grid`
``folds``                 :func:`validation_folds` and the validation defaults
``validation``            :func:`validate`, :func:`out_of_sample`
``results``               the immutable results and :data:`METRICS`
========================  ===========================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from backtest.lazy import attach

if TYPE_CHECKING:
    from backtest.engine.chunks import ChunkSettings
    from backtest.engine.folds import validation_folds
    from backtest.engine.results import (
        METRICS,
        NO_TRADES,
        BacktestResult,
        FoldChoices,
        SweepResult,
        ValidationResult,
    )
    from backtest.engine.simulate import warm_up
    from backtest.engine.single import backtest
    from backtest.engine.sweeps import BYTES_PER_CELL, grid, sweep
    from backtest.engine.validation import out_of_sample, validate

#: Public name -> the stage module that defines it. Imported on first use, so reading
#: the validation defaults of :mod:`backtest.engine.folds` (as :mod:`backtest.config`
#: does) does not import vectorbt's stages.
_HOMES = {
    "ChunkSettings": "chunks",
    "validation_folds": "folds",
    "METRICS": "results",
    "NO_TRADES": "results",
    "BacktestResult": "results",
    "FoldChoices": "results",
    "SweepResult": "results",
    "ValidationResult": "results",
    "warm_up": "simulate",
    "backtest": "single",
    "BYTES_PER_CELL": "sweeps",
    "grid": "sweeps",
    "sweep": "sweeps",
    "out_of_sample": "validation",
    "validate": "validation",
}

__all__ = [
    "BYTES_PER_CELL",
    "METRICS",
    "NO_TRADES",
    "BacktestResult",
    "ChunkSettings",
    "FoldChoices",
    "SweepResult",
    "ValidationResult",
    "backtest",
    "grid",
    "out_of_sample",
    "sweep",
    "validate",
    "validation_folds",
    "warm_up",
]


__getattr__, __dir__ = attach(
    __name__, {name: f"{__name__}.{module}" for name, module in _HOMES.items()}
)
