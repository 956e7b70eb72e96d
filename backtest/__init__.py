"""backtest: market-reaction event studies and trading-rule backtests.

The public API is deliberately small.  Market data lives in
:mod:`backtest.data`; errors and warnings in :mod:`backtest.errors`.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
