"""Built-in strategy plugins for backtest.

Strategies are registered under the ``backtest.strategies`` entry-point group;
the plugin contract lives in ``backtest`` (see the strategy issue).
"""
