"""What the engine returns: immutable results of a backtest, a sweep and a validation.

Everything goes in through the constructor; nothing here runs a simulation or imports
vectorbt.  The metric columns of every result are :data:`METRICS`, in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from backtest import metrics as mt

if TYPE_CHECKING:
    from backtest.report.plots import BacktestPlots, SweepPlots
    from backtest.tearsheet import Tearsheet

__all__ = [
    "METRICS",
    "NO_TRADES",
    "BacktestResult",
    "FoldChoices",
    "SweepResult",
    "ValidationResult",
]

METRICS = mt.PERFORMANCE_COLUMNS  # the metrics of every result, in order

#: The ``note`` of a validation fold in which no combination trades in sample.
NO_TRADES = "no trades: no combination has an in-sample Sharpe ratio"


@dataclass(frozen=True)
class BacktestResult:
    """One strategy, one parameter set.

    Attributes
    ----------
    strategy, series : str
        Strategy name and traded series.
    params : dict
        Parameters used.
    returns : pandas.Series
        Daily simple returns of the strategy (after fees and slippage): each leg
        earns its instrument's return (bond total return, fx spot + carry, index
        price); cash earns nothing.
    positions : pandas.Series or pandas.DataFrame
        Position (weight) held over each bar (the target, after the execution lag);
        one column per leg for a portfolio strategy.
    trades : pandas.DataFrame
        One row per trade: ``leg, entry_date, exit_date, direction, entry_price,
        exit_price, return, status`` (prices are the leg's total-return index: the
        level itself for an index or a frame without provenance).
    metrics : dict
        ``total_return, cagr, volatility, sharpe, sortino, max_drawdown, calmar,
        win_rate, positive_days, trades, exposure, turnover`` (see
        :func:`backtest.metrics.performance`: ``win_rate`` is the share of winning
        trades, ``positive_days`` the share of days in the market with a gain).
    settings : dict
        Fees, slippage, execution rule, annualisation, ``funding``, each leg's
        ``instruments`` record (with its funding series) and the ``conventions``.
    legs : tuple of str
        The held series (the traded one first).
    excess_returns : pandas.Series
        The returns minus each bond and index leg's weight times its currency's
        short rate (the returns themselves when no leg is funded). Volatility, Sharpe
        and Sortino are of these.
    attribution : pandas.DataFrame
        Daily contributions, columns ``(leg, component)``: ``price``, ``accrual``
        (bond) or ``carry`` (fx), ``funding``, ``costs``, as fractions of the value at
        the previous close. All but ``funding`` sum to `returns`, all to
        `excess_returns` (to rounding); cumulative contributions are their sums.
    """

    strategy: str
    series: str
    params: dict[str, Any]
    returns: pd.Series
    positions: pd.Series | pd.DataFrame
    trades: pd.DataFrame
    metrics: dict[str, float]
    settings: dict[str, Any]
    legs: tuple[str, ...] = ()
    excess_returns: pd.Series | None = None
    attribution: pd.DataFrame | None = None

    @property
    def equity(self) -> pd.Series:
        """Growth of 1 invested at the start."""
        return (1.0 + self.returns).cumprod()

    def tearsheet(
        self,
        benchmark: pd.Series | str | BacktestResult | None = None,
        *,
        levels: pd.DataFrame | None = None,
        rates: pd.DataFrame | None = None,
        window: int = 126,
        periods_per_year: float | None = None,
    ) -> Tearsheet:
        """This backtest's tearsheet: :func:`backtest.tearsheet.tearsheet` of `self`.

        Parameters are those of :func:`backtest.tearsheet.tearsheet` after `bt`;
        `levels` (the frame the backtest ran on) is needed for the default benchmark,
        buy-and-hold of the traded instrument.
        """
        from backtest.tearsheet import tearsheet

        return tearsheet(
            self,
            benchmark,
            levels=levels,
            rates=rates,
            window=window,
            periods_per_year=periods_per_year,
        )

    def _repr_html_(self) -> str:
        """Compact HTML for notebooks (:func:`backtest.report.notebook.backtest_html`)."""
        from backtest.report.notebook import backtest_html

        return backtest_html(self)

    def __repr__(self) -> str:
        from backtest.report.notebook import backtest_text

        return backtest_text(self)

    @property
    def plot(self) -> BacktestPlots:
        """Charts as plotly figures: ``bt.plot.equity()``, ``bt.plot.drawdown()``,
        ``bt.plot.attribution()`` (:class:`backtest.report.plots.BacktestPlots`)."""
        from backtest.report.plots import BacktestPlots

        return BacktestPlots(self)


@dataclass(frozen=True)
class FoldChoices:
    """The in-sample choice of every validation fold, made where the returns were.

    Attributes
    ----------
    folds : list of (int, int, int, int)
        ``(train_start, train_end, test_start, test_end)`` bar positions of each fold
        (ends exclusive), from :func:`backtest.engine.validation_folds`.
    spec : dict
        The validation settings the folds came from.
    picks : list of int
        Row of the combination with the best in-sample Sharpe ratio in each fold (the
        first on ties; -1 when no combination has one).
    returns : pandas.DataFrame
        Each fold's pick's daily returns over all bars, one column per fold.
    excess : pandas.DataFrame or None
        The same picks' excess returns (None: the legs are not funded).
    """

    folds: list[tuple[int, int, int, int]]
    spec: dict[str, Any]
    picks: list[int]
    returns: pd.DataFrame
    excess: pd.DataFrame | None = None

    def _repr_html_(self) -> str:
        """Compact HTML for notebooks (:func:`backtest.report.notebook.folds_html`)."""
        from backtest.report.notebook import folds_html

        return folds_html(self)

    def __repr__(self) -> str:
        from backtest.report.notebook import folds_text

        return folds_text(self)


@dataclass(frozen=True)
class SweepResult:
    """Many parameter sets of one strategy.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per combination: the parameters, then the metrics.
    returns : pandas.DataFrame
        Daily returns, one column per combination (same order as `table`, labelled by
        row number); only the best combination's column when the sweep ran with
        ``keep_returns=False`` (``settings["returns"]`` says which).
    best : int
        Row of the best combination by Sharpe ratio.
    selection : dict
        Selection-bias statistics over the whole sweep: ``psr`` and ``dsr`` of the
        best combination, ``pbo`` (CSCV), number of trials (all on excess returns
        when the legs are funded).
    excess_returns : pandas.DataFrame or None
        The excess returns of the combinations in `returns` (None: not funded).
    """

    strategy: str
    series: str
    table: pd.DataFrame
    returns: pd.DataFrame
    best: int
    selection: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)
    folds: FoldChoices | None = None
    excess_returns: pd.DataFrame | None = None

    def _repr_html_(self) -> str:
        """Compact HTML for notebooks (:func:`backtest.report.notebook.sweep_html`)."""
        from backtest.report.notebook import sweep_html

        return sweep_html(self)

    def __repr__(self) -> str:
        from backtest.report.notebook import sweep_text

        return sweep_text(self)

    @property
    def plot(self) -> SweepPlots:
        """Charts as plotly figures: ``sweep.plot.heatmap(x, y, metric="sharpe")``
        (:class:`backtest.report.plots.SweepPlots`)."""
        from backtest.report.plots import SweepPlots

        return SweepPlots(self)


@dataclass(frozen=True)
class ValidationResult:
    """In-sample vs out-of-sample metrics of a train/test split or walk-forward folds.

    A fold in which no combination trades in sample (every in-sample Sharpe ratio
    undefined: no trades, no returns) has nothing to choose: its two rows have NaN
    metrics, no parameters and ``note`` :data:`NO_TRADES`; it adds nothing to the
    stitched out-of-sample returns, and ``settings["folds_without_trades"]`` lists
    it. The other folds are reported as usual.
    """

    strategy: str
    series: str
    folds: pd.DataFrame  # one row per fold and sample: fold, sample, start, end, params, metrics
    oos_returns: pd.Series  # stitched out-of-sample returns
    oos_metrics: dict[str, float]
    settings: dict[str, Any] = field(default_factory=dict)
    oos_excess_returns: pd.Series | None = None

    def _repr_html_(self) -> str:
        """Compact HTML for notebooks (:func:`backtest.report.notebook.validation_html`)."""
        from backtest.report.notebook import validation_html

        return validation_html(self)

    def __repr__(self) -> str:
        from backtest.report.notebook import validation_text

        return validation_text(self)
