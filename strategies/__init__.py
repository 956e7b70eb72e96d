"""Built-in strategy plugins for backtest.

Strategies are registered under the ``backtest.strategies`` entry-point group;
the plugin contract lives in ``backtest`` (see the strategy issue).

Built-ins (name: class, module):

* ``buy_and_hold``: :class:`~strategies.baselines.BuyAndHold`, always long.
* ``ma_crossover``: :class:`~strategies.baselines.MACrossover`, fast/slow simple
  moving-average crossover, with a vectorised sweep.
* ``event_drift``: :class:`~strategies.event_drift.EventDrift`, trade with or against
  a series' day-0 reaction to events, for a number of bars.
* ``risk_off_yen``: :class:`~strategies.risk_off_yen.RiskOffYen`, short USD/JPY when
  the z-score of a stress gauge (VIX, Treasury yield changes) spikes.
* ``rate_spread``: :class:`~strategies.rate_spread.RateSpread`, USD/JPY on the level or
  trend of the UST10Y - JGB10Y spread.

Modules are imported only when a strategy is requested
(:func:`backtest.strategy.get_strategy`), so importing this package is cheap.
"""
