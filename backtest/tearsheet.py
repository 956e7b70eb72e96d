r"""A strategy's tearsheet: benchmark-relative metrics, monthly returns, rolling risk,
drawdowns and trade statistics (what quantstats users expect), from a
:class:`~backtest.engine.BacktestResult`.

:func:`tearsheet` builds a :class:`Tearsheet`; ``bt.tearsheet(...)`` is the same call.
The pure functions below it (:func:`benchmark_stats`, :func:`trade_stats`,
:func:`monthly_returns`, :func:`rolling_sharpe`, :func:`rolling_volatility`,
:func:`underwater`) and the figure builders (:func:`monthly_figure`,
:func:`rolling_figure`, :func:`underwater_figure`) are what the HTML report uses too.

Conventions
-----------
* Returns are simple daily returns as fractions (0.01 = 1 %); ``P`` is
  ``periods_per_year`` (252 trading days by default: the backtest's own).
* **Excess returns** ``x`` are the strategy's ``excess_returns`` (each funded leg charged
  its currency's short rate) minus the per-period constant ``risk_free`` of an unfunded
  backtest (0 when funded): the returns the backtest's Sharpe ratio is of.  The benchmark's
  excess returns ``b`` are those of its own backtest (buy-and-hold of the traded
  instrument by default: :func:`backtest.engine.backtest` with ``"buy_and_hold"`` on the
  same levels, funding and annualisation, without costs), or a given Series minus the
  same constant rate.  Every benchmark-relative number is of ``x`` and ``b`` on the days
  both are observed.
* **Alpha and beta**: OLS of ``x`` on ``b`` with an intercept,
  :math:`\beta = \widehat{\mathrm{cov}}(x, b) / \widehat{\mathrm{var}}(b)`,
  :math:`a = \bar x - \beta \bar b` per day; ``alpha`` is annualised **arithmetically**,
  :math:`P a` (quantstats' ``greeks``).  empyrical's ``alpha`` compounds it,
  :math:`(1 + a)^P - 1`; the tests check both.
* **Tracking error** :math:`s(x - b)\sqrt P` and **information ratio**
  :math:`\overline{x - b} / s(x - b) \cdot \sqrt P`, ``s`` the sample standard deviation
  (ddof=1).  quantstats' ``information_ratio`` is not annualised (divide by
  :math:`\sqrt P` to compare).
* **Rolling Sharpe and volatility** over ``window`` days of ``x``: mean / sample standard
  deviation times :math:`\sqrt P`, and sample standard deviation times :math:`\sqrt P`; NaN
  until a full window is observed.
* **Underwater**: :math:`E_t / \max(1, \max_{s \le t} E_s) - 1 \le 0` on the equity curve
  :math:`E_t = \prod_{s \le t}(1 + r_s)` of the returns (not excess), the peak starting at
  the initial capital 1 (as in :func:`backtest.metrics.performance`).
* **Monthly returns**: the returns compounded within each calendar month,
  :math:`\prod (1 + r_t) - 1`, and within each year (column ``year``).
* **Trade statistics** of ``bt.trades`` (every leg's trades, open ones marked to the last
  bar): ``win_rate`` = winning trades (return > 0) / trades; ``profit_factor`` = sum of
  winning trades' returns / |sum of losing trades' returns| (NaN without a losing
  trade); ``avg_win`` / ``avg_loss`` = mean return of winning / losing (< 0) trades;
  ``avg_holding_bars`` = mean number of bars from entry to exit (positions in the
  returns' index), ``avg_holding_days`` = mean calendar days.  quantstats' ``win_rate``
  leaves trades with a return of exactly 0 out of the count; here they are trades that
  did not win.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from backtest import metrics as mt
from backtest.data.dates import finite_or_none, iso_dates
from backtest.errors import DataValidationError

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from backtest.engine.results import BacktestResult

__all__ = [
    "BENCHMARK_METRICS",
    "DEFAULT_WINDOW",
    "TRADE_METRICS",
    "Tearsheet",
    "benchmark_key",
    "benchmark_stats",
    "buy_and_hold",
    "monthly_figure",
    "monthly_returns",
    "rolling_figure",
    "rolling_sharpe",
    "rolling_volatility",
    "tearsheet",
    "trade_stats",
    "underwater",
    "underwater_figure",
]

#: Rolling window in days (about six months of trading days, quantstats' default).
DEFAULT_WINDOW = 126

#: Keys of :func:`benchmark_stats`, in order.
BENCHMARK_METRICS: tuple[str, ...] = (
    "alpha",
    "beta",
    "correlation",
    "tracking_error",
    "information_ratio",
    "benchmark_total_return",
    "benchmark_sharpe",
    "observations",
)
#: Keys of :func:`trade_stats`, in order.
TRADE_METRICS: tuple[str, ...] = (
    "trades",
    "win_rate",
    "profit_factor",
    "avg_win",
    "avg_loss",
    "avg_holding_bars",
    "avg_holding_days",
)

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# --------------------------------------------------------------------------- statistics


def _series(obj: object, name: str) -> pd.Series:
    if not isinstance(obj, pd.Series):
        raise DataValidationError(
            f"{name} must be a pandas Series of simple returns, got {type(obj).__name__}"
        )
    if not isinstance(obj.index, pd.DatetimeIndex):
        raise DataValidationError(
            f"{name} must be indexed by dates (a DatetimeIndex), got "
            f"{type(obj.index).__name__}; set the index to the return dates"
        )
    return obj.astype(np.float64)


def benchmark_stats(
    excess: pd.Series, benchmark_excess: pd.Series, periods_per_year: float = 252
) -> dict[str, float]:
    r"""Benchmark-relative statistics of excess returns (see the module's conventions).

    Parameters
    ----------
    excess : pandas.Series
        The strategy's daily excess returns ``x`` (fractions), indexed by date.
    benchmark_excess : pandas.Series
        The benchmark's daily excess returns ``b``, indexed by date; only the dates both
        observe count.
    periods_per_year : float, default 252
        Return observations per year.

    Returns
    -------
    dict of str to float
        :data:`BENCHMARK_METRICS`: ``alpha`` (:math:`P a`, annualised arithmetically),
        ``beta``, ``correlation`` of ``x`` and ``b``, ``tracking_error``
        (:math:`s(x-b)\sqrt P`), ``information_ratio``
        (:math:`\overline{x-b}/s(x-b)\cdot\sqrt P`), ``benchmark_total_return``
        (:math:`\prod(1+b)-1` of the benchmark's excess returns),
        ``benchmark_sharpe`` (:math:`\bar b / s(b) \sqrt P`) and ``observations`` (days
        used).  NaN where undefined (fewer than 2 days, a constant benchmark or no
        tracking error).

    Raises
    ------
    DataValidationError
        An argument is not a date-indexed Series, or `periods_per_year` is not positive.
    """
    mt.per_period_risk_free(0.0, periods_per_year)  # checks periods_per_year
    x = _series(excess, "excess")
    b = _series(benchmark_excess, "benchmark_excess")
    both = pd.concat([x, b], axis=1, join="inner").dropna()
    xv = both.iloc[:, 0].to_numpy()
    bv = both.iloc[:, 1].to_numpy()
    n = len(xv)
    nan = float("nan")
    out = dict.fromkeys(BENCHMARK_METRICS, nan)
    out["observations"] = float(n)
    if n < 2:
        return out
    ann = math.sqrt(periods_per_year)
    xc, bc = xv - xv.mean(), bv - bv.mean()
    var_b = float(bc @ bc) / (n - 1)
    var_x = float(xc @ xc) / (n - 1)
    cov = float(xc @ bc) / (n - 1)
    out["benchmark_total_return"] = float(np.prod(1.0 + bv) - 1.0)
    if var_b > 0.0:
        beta = cov / var_b
        out["beta"] = beta
        out["alpha"] = float(xv.mean() - beta * bv.mean()) * periods_per_year
        out["benchmark_sharpe"] = float(bv.mean()) / math.sqrt(var_b) * ann
        if var_x > 0.0:
            out["correlation"] = cov / math.sqrt(var_x * var_b)
    active = xv - bv
    te = float(active.std(ddof=1))
    if te > 0.0:
        out["tracking_error"] = te * ann
        out["information_ratio"] = float(active.mean()) / te * ann
    return out


def trade_stats(trades: pd.DataFrame, index: pd.DatetimeIndex) -> dict[str, float]:
    """Statistics of a backtest's trades (see the module's conventions).

    Parameters
    ----------
    trades : pandas.DataFrame
        ``BacktestResult.trades``: columns ``entry_date``, ``exit_date`` and ``return``
        (a fraction) at least, one row per trade; rows with a NaN return are left out.
    index : pandas.DatetimeIndex
        The backtest's bars (``bt.returns.index``), for holding periods in bars.

    Returns
    -------
    dict of str to float
        :data:`TRADE_METRICS`: ``trades``, ``win_rate``, ``profit_factor``,
        ``avg_win``, ``avg_loss`` (negative), ``avg_holding_bars``,
        ``avg_holding_days``; NaN where there is nothing to average.

    Raises
    ------
    DataValidationError
        `trades` lacks a column, or a trade's dates are not bars of `index`.
    """
    missing = [c for c in ("entry_date", "exit_date", "return") if c not in trades.columns]
    if missing:
        raise DataValidationError(
            f"trades has no column {missing[0]!r}; expected BacktestResult.trades "
            "(entry_date, exit_date, return, ...)"
        )
    t = trades[pd.to_numeric(trades["return"], errors="coerce").notna()]
    ret = t["return"].to_numpy(dtype=np.float64)
    nan = float("nan")
    out = dict.fromkeys(TRADE_METRICS, nan)
    out["trades"] = float(len(ret))
    if len(ret) == 0:
        return out
    wins, losses = ret[ret > 0.0], ret[ret < 0.0]
    out["win_rate"] = len(wins) / len(ret)
    if len(losses):
        out["profit_factor"] = float(wins.sum() / abs(losses.sum()))
        out["avg_loss"] = float(losses.mean())
    if len(wins):
        out["avg_win"] = float(wins.mean())
    entry = pd.DatetimeIndex(pd.to_datetime(t["entry_date"]))
    exit_ = pd.DatetimeIndex(pd.to_datetime(t["exit_date"]))
    i, j = index.get_indexer(entry), index.get_indexer(exit_)
    if (i < 0).any() or (j < 0).any():
        raise DataValidationError(
            "trades: an entry_date or exit_date is not a bar of the returns' index; pass "
            "the backtest's own returns index"
        )
    out["avg_holding_bars"] = float(np.mean(j - i))
    out["avg_holding_days"] = float(np.mean((exit_ - entry).days))
    return out


def monthly_returns(returns: pd.Series) -> pd.DataFrame:
    """Returns compounded within each calendar month, one row per year.

    Parameters
    ----------
    returns : pandas.Series
        Daily simple returns (fractions), indexed by date; NaN is missing.

    Returns
    -------
    pandas.DataFrame
        Index: the years (int); columns ``Jan`` .. ``Dec`` then ``year`` (the year
        compounded); :math:`\\prod(1 + r_t) - 1` over the days of each month with a
        return, NaN for a month without one.
    """
    r = _series(returns, "returns").dropna()
    growth = 1.0 + r
    by_month = growth.groupby([r.index.year, r.index.month]).prod() - 1.0
    table = by_month.unstack().reindex(columns=range(1, 13))
    table.columns = list(_MONTHS)
    table["year"] = growth.groupby(r.index.year).prod() - 1.0
    table.index = table.index.astype(int)
    table.index.name = "year"
    return table.astype(np.float64)


def rolling_sharpe(
    excess: pd.Series, window: int = DEFAULT_WINDOW, periods_per_year: float = 252
) -> pd.Series:
    r"""Annualised Sharpe ratio over a rolling window of `window` days.

    :math:`\bar x / s_x \cdot \sqrt P` over the last `window` returns (ddof=1), NaN
    until `window` returns are observed (missing returns count against the window).
    """
    _check_window(window)
    x = _series(excess, "excess")
    roll = x.rolling(window, min_periods=window)
    return (roll.mean() / roll.std(ddof=1) * math.sqrt(periods_per_year)).rename("rolling_sharpe")


def rolling_volatility(
    excess: pd.Series, window: int = DEFAULT_WINDOW, periods_per_year: float = 252
) -> pd.Series:
    r"""Annualised volatility over a rolling window: :math:`s_x \sqrt P` (ddof=1)."""
    _check_window(window)
    x = _series(excess, "excess")
    return (x.rolling(window, min_periods=window).std(ddof=1) * math.sqrt(periods_per_year)).rename(
        "rolling_volatility"
    )


def underwater(returns: pd.Series) -> pd.Series:
    r"""Drawdown from the running peak of the equity curve, a fraction :math:`\le 0`.

    :math:`E_t / \max(1, \max_{s \le t} E_s) - 1` with :math:`E_t = \prod_{s \le t}
    (1 + r_s)`, NaN returns compounding as 0.
    """
    r = _series(returns, "returns").fillna(0.0)
    equity = (1.0 + r).cumprod()
    peak = equity.cummax().clip(lower=1.0)
    return (equity / peak - 1.0).rename("drawdown")


def _check_window(window: int) -> None:
    if isinstance(window, bool) or not isinstance(window, int | np.integer) or window < 2:
        raise DataValidationError(
            f"window must be an integer number of days >= 2, got {window!r}; e.g. 126"
        )


# --------------------------------------------------------------------------- figures


def monthly_figure(table: pd.DataFrame) -> dict[str, Any]:
    """Heatmap of :func:`monthly_returns` (percent), as a plotly figure dict."""
    months = [c for c in table.columns if c in _MONTHS]
    z = [
        [None if not np.isfinite(v) else round(100.0 * float(v), 4) for v in row]
        for row in table[months].to_numpy(dtype=float)
    ]
    return {
        "data": [
            {
                "type": "heatmap",
                "z": z,
                "x": months,
                "y": [str(y) for y in table.index],
                "colorscale": "RdBu",
                "zmid": 0,
                "colorbar": {"title": {"text": "%"}},
                "texttemplate": "%{z:.1f}",
                "hovertemplate": "%{y} %{x}: %{z:.2f}%<extra></extra>",
            }
        ],
        "layout": {
            "height": max(220, 40 + 26 * len(table)),
            "margin": {"l": 60, "r": 20, "t": 30, "b": 40},
            "xaxis": {"title": {"text": "month"}, "type": "category"},
            "yaxis": {"title": {"text": "year"}, "type": "category", "autorange": "reversed"},
        },
    }


def rolling_figure(sharpe: pd.Series, volatility: pd.Series, window: int) -> dict[str, Any]:
    """Rolling Sharpe ratio (top) and annualised volatility in % (bottom)."""
    from backtest.report.style import PALETTE

    def xs(s: pd.Series) -> list[str]:
        return iso_dates(s.index)

    def ys(s: pd.Series, scale: float = 1.0) -> list[float | None]:
        return finite_or_none(s.to_numpy(), scale)

    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"Sharpe ({window} days)",
                "x": xs(sharpe),
                "y": ys(sharpe),
                "yaxis": "y",
                "line": {"color": PALETTE[0]},
            },
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"volatility ({window} days)",
                "x": xs(volatility),
                "y": ys(volatility, 100.0),
                "xaxis": "x",
                "yaxis": "y2",
                "line": {"color": PALETTE[1]},
            },
        ],
        "layout": {
            "height": 420,
            "margin": {"l": 60, "r": 20, "t": 30, "b": 40},
            "yaxis": {"title": {"text": "Sharpe (annualised)"}, "domain": [0.55, 1.0]},
            "yaxis2": {"title": {"text": "volatility % a year"}, "domain": [0.0, 0.45]},
            "xaxis": {"anchor": "y2", "title": {"text": "date"}},
            "legend": {"orientation": "h"},
        },
    }


def underwater_figure(drawdown: pd.Series) -> dict[str, Any]:
    """The underwater chart: drawdown from the running peak, in %."""
    from backtest.report.style import PALETTE

    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "name": "drawdown",
                "x": iso_dates(drawdown.index),
                "y": finite_or_none(drawdown.to_numpy(), 100.0),
                "fill": "tozeroy",
                "line": {"color": PALETTE[3], "width": 1},
            }
        ],
        "layout": {
            "height": 260,
            "margin": {"l": 60, "r": 20, "t": 30, "b": 40},
            "yaxis": {"title": {"text": "drawdown % from peak"}},
            "xaxis": {"title": {"text": "date"}},
            "showlegend": False,
        },
    }


def _go(spec: dict[str, Any], title: str) -> go.Figure:
    import plotly.graph_objects as go

    fig = go.Figure(spec)
    fig.update_layout(template="plotly_white", title={"text": title})
    return fig


# --------------------------------------------------------------------------- tearsheet


@dataclass(frozen=True)
class Tearsheet:
    """A strategy's tearsheet; build it with :func:`tearsheet`.

    Attributes
    ----------
    strategy, series : str
        The backtest's strategy and traded series.
    benchmark : str
        What the benchmark is (``"buy_and_hold USDJPY"``, or a given Series' name).
    returns, excess_returns : pandas.Series
        The strategy's daily returns and excess returns (see the module's conventions).
    benchmark_excess : pandas.Series
        The benchmark's daily excess returns.
    trades : pandas.DataFrame
        The backtest's trades.
    periods_per_year : float
        Return observations per year.
    window : int
        Rolling window in days.
    """

    strategy: str
    series: str
    benchmark: str
    returns: pd.Series = field(repr=False)
    excess_returns: pd.Series = field(repr=False)
    benchmark_excess: pd.Series = field(repr=False)
    trades: pd.DataFrame = field(repr=False)
    periods_per_year: float = 252
    window: int = DEFAULT_WINDOW

    @cached_property
    def metrics(self) -> dict[str, float]:
        """:data:`BENCHMARK_METRICS` then :data:`TRADE_METRICS`, floats (NaN: undefined)."""
        return {
            **benchmark_stats(self.excess_returns, self.benchmark_excess, self.periods_per_year),
            **trade_stats(self.trades, pd.DatetimeIndex(self.returns.index)),
        }

    @cached_property
    def monthly_returns(self) -> pd.DataFrame:
        """:func:`monthly_returns` of the strategy's returns."""
        return monthly_returns(self.returns)

    @cached_property
    def rolling_sharpe(self) -> pd.Series:
        """:func:`rolling_sharpe` of the excess returns over `window` days."""
        return rolling_sharpe(self.excess_returns, self.window, self.periods_per_year)

    @cached_property
    def rolling_volatility(self) -> pd.Series:
        """:func:`rolling_volatility` of the excess returns over `window` days."""
        return rolling_volatility(self.excess_returns, self.window, self.periods_per_year)

    @cached_property
    def underwater(self) -> pd.Series:
        """:func:`underwater` of the strategy's returns."""
        return underwater(self.returns)

    def plot_monthly(self) -> go.Figure:
        """Heatmap of the monthly returns (%), years by months."""
        return _go(monthly_figure(self.monthly_returns), f"{self.strategy}: monthly returns")

    def plot_rolling(self) -> go.Figure:
        """Rolling Sharpe ratio and volatility over `window` days."""
        return _go(
            rolling_figure(self.rolling_sharpe, self.rolling_volatility, self.window),
            f"{self.strategy}: rolling Sharpe and volatility",
        )

    def plot_underwater(self) -> go.Figure:
        """Underwater chart: drawdown from the running peak (%)."""
        return _go(underwater_figure(self.underwater), f"{self.strategy}: underwater")

    def as_dict(self) -> dict[str, Any]:
        """The metrics and the monthly table as plain values (results.json's ``tearsheet``)."""
        table = self.monthly_returns
        return {
            "benchmark": self.benchmark,
            "window": self.window,
            "metrics": {k: _plain(v) for k, v in self.metrics.items()},
            "monthly_returns": {
                "columns": list(table.columns),
                "years": [int(y) for y in table.index],
                "values": [[_plain(v) for v in row] for row in table.to_numpy(dtype=float)],
            },
        }

    def _repr_html_(self) -> str:
        import html

        cells = "".join(
            f"<tr><td>{html.escape(k)}</td><td style='text-align:right'>{v:.6g}</td></tr>"
            for k, v in self.metrics.items()
        )
        title = html.escape(f"Tearsheet: {self.strategy} on {self.series} vs {self.benchmark}")
        return f"<b>{title}</b><table>{cells}</table>"

    def __str__(self) -> str:
        rows = [f"Tearsheet: {self.strategy} on {self.series} vs {self.benchmark}"]
        rows += [f"  {k:<22}{v: .6g}" for k, v in self.metrics.items()]
        return "\n".join(rows)


def _plain(value: float) -> float | None:
    return None if not math.isfinite(value) else float(value)


def tearsheet(
    bt: BacktestResult,
    benchmark: pd.Series | str | BacktestResult | None = None,
    *,
    levels: pd.DataFrame | None = None,
    rates: pd.DataFrame | None = None,
    window: int = DEFAULT_WINDOW,
    periods_per_year: float | None = None,
) -> Tearsheet:
    """The tearsheet of a backtest against a benchmark.

    Parameters
    ----------
    bt : BacktestResult
        The strategy's backtest (:func:`backtest.engine.backtest`).
    benchmark : None, str, pandas.Series or BacktestResult
        ``None`` (default): buy-and-hold of the traded instrument, ``bt.series``, run by
        the engine on `levels` (its total return for a bond, spot plus carry for a
        currency pair); a str: buy-and-hold of that series (a column of `levels`); a
        Series: the benchmark's daily simple returns, used as given minus the
        backtest's constant ``risk_free`` (no funding charge: pass excess returns of a
        funded benchmark); a BacktestResult: its ``excess_returns``.
    levels : pandas.DataFrame, optional
        The levels the backtest ran on; needed when `benchmark` is None or a str.
    rates : pandas.DataFrame, optional
        Short rates for the benchmark's funding, as :func:`backtest.engine.backtest`.
    window : int, default 126
        Rolling window in days for the rolling Sharpe ratio and volatility.
    periods_per_year : float, optional
        Observations per year; default the backtest's own (``settings``, 252).

    Returns
    -------
    Tearsheet
        ``metrics`` (benchmark-relative and trade statistics), ``monthly_returns``,
        ``rolling_sharpe``, ``rolling_volatility``, ``underwater`` and the ``plot_*``
        figures.

    Raises
    ------
    DataValidationError
        `benchmark` is None or a str without `levels`, or of an unsupported type; a
        Series benchmark is not date-indexed; `window` < 2.

    Notes
    -----
    Conventions (which returns, annualisation, how alpha is annualised) are in the
    module docstring of :mod:`backtest.tearsheet`.
    """
    from backtest.engine.results import BacktestResult

    if not isinstance(bt, BacktestResult):
        raise DataValidationError(
            f"tearsheet: bt must be a BacktestResult, got {type(bt).__name__}"
        )
    _check_window(window)
    settings = bt.settings or {}
    ppy = float(periods_per_year or settings.get("periods_per_year", 252))
    rf_p = mt.per_period_risk_free(float(settings.get("risk_free", 0.0) or 0.0), ppy)
    excess = bt.excess_returns if bt.excess_returns is not None else bt.returns
    x = excess.astype(np.float64) - rf_p
    if isinstance(benchmark, BacktestResult):
        bench = benchmark
        label = f"{bench.strategy} {bench.series}"
        b = (bench.excess_returns if bench.excess_returns is not None else bench.returns) - rf_p
    elif isinstance(benchmark, pd.Series):
        b = _series(benchmark, "benchmark") - rf_p
        label = str(benchmark.name or "benchmark")
    elif benchmark is None or isinstance(benchmark, str):
        name = bt.series if benchmark is None else benchmark
        if levels is None:
            raise DataValidationError(
                f"tearsheet: benchmark {'buy-and-hold of ' + name!s} needs levels=, the frame "
                "the backtest ran on; or pass benchmark= a Series of returns"
            )
        b = _buy_and_hold(bt, name, levels, rates, ppy) - rf_p
        label = f"buy_and_hold {name}"
    else:
        raise DataValidationError(
            "tearsheet: benchmark must be None (buy-and-hold of the traded series), a series "
            f"name, a Series of returns or a BacktestResult, got {type(benchmark).__name__}"
        )
    return Tearsheet(
        strategy=bt.strategy,
        series=bt.series,
        benchmark=label,
        returns=bt.returns.astype(np.float64),
        excess_returns=x.rename("excess_returns"),
        benchmark_excess=b.astype(np.float64).rename("benchmark_excess"),
        trades=bt.trades,
        periods_per_year=ppy,
        window=window,
    )


def _buy_and_hold(
    bt: BacktestResult,
    series: str,
    levels: pd.DataFrame,
    rates: pd.DataFrame | None,
    ppy: float,
) -> pd.Series:
    """Excess returns of buy-and-hold of `series`, as the engine computes them."""
    res = buy_and_hold(bt, levels, rates, series=series, periods_per_year=ppy)
    out = res.excess_returns if res.excess_returns is not None else res.returns
    return out.astype(np.float64)


def benchmark_key(
    bt: BacktestResult, series: str | None = None, periods_per_year: float | None = None
) -> tuple[str, int, Any, float]:
    """What :func:`buy_and_hold` of `bt` depends on besides the levels and rates.

    Two backtests with the same key on the same levels and rates have the same
    buy-and-hold benchmark, so a run computes it once (:func:`backtest.pipeline.run`).

    Returns
    -------
    tuple
        ``(series, periods per year, funding, risk_free)``.
    """
    settings: Mapping[str, Any] = bt.settings or {}
    ppy = float(periods_per_year or settings.get("periods_per_year", 252))
    return (
        bt.series if series is None else series,
        int(ppy),
        settings.get("funding", "short_rate"),
        float(settings.get("risk_free", 0.0) or 0.0),
    )


def buy_and_hold(
    bt: BacktestResult,
    levels: pd.DataFrame,
    rates: pd.DataFrame | None = None,
    *,
    series: str | None = None,
    periods_per_year: float | None = None,
) -> BacktestResult:
    """The default benchmark of :func:`tearsheet`: buy-and-hold run by the engine.

    Parameters
    ----------
    bt : BacktestResult
        The strategy's backtest: its funding, risk-free rate and periods per year
        (``settings``) are the benchmark's.
    levels : pandas.DataFrame
        The levels the backtest ran on.
    rates : pandas.DataFrame, optional
        Short rates for the funding, as :func:`backtest.engine.backtest`.
    series : str, optional
        The series held (default ``bt.series``).
    periods_per_year : float, optional
        Default the backtest's own (``settings``, 252).

    Returns
    -------
    BacktestResult
        Buy-and-hold of `series` without costs; ``tearsheet(bt, buy_and_hold(bt,
        levels, rates), ...)`` is ``tearsheet(bt, levels=levels, rates=rates)``.
    """
    from backtest import engine

    name, ppy, funding, risk_free = benchmark_key(bt, series, periods_per_year)
    return engine.backtest(
        "buy_and_hold",
        {},
        levels,
        series=name,
        periods_per_year=ppy,
        funding=funding,
        risk_free=risk_free,
        rates=rates,
        # the strategy itself ran on these levels, so its series may be held
        allow_untradable=True,
    )
