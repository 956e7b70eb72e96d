"""backtest.tearsheet against quantstats 0.0.86, empyrical-reloaded 0.7 and statsmodels
run on the same returns (STYLE.md "Tests", kind 2), and hand counts (kind 1).

Conventions aligned for the comparison (stated in backtest/tearsheet.py):
* alpha is annualised arithmetically (P * a, quantstats ``greeks``); empyrical compounds
  it, (1 + a)**P - 1, so its value is compared after that transform;
* the information ratio is annualised (quantstats' is per period: times sqrt(P));
* quantstats' trade win rate leaves zero-return trades out of the count (ours counts
  them as trades that did not win): the reference inputs have no zero trade, and a hand
  count checks the zero case;
* quantstats fills months without data with 0 in its monthly table (ours: NaN), so
  only months with returns are compared.
"""

from __future__ import annotations

import math
import warnings

import empyrical as ep
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import quantstats as qs
import statsmodels.api as sm

from backtest import data, engine
from backtest import tearsheet as ts
from backtest.errors import DataValidationError

TOL = 1e-10
P = 252


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the reference packages' own deprecation noise
        yield


@pytest.fixture(scope="module")
def levels() -> pd.DataFrame:
    """USD/JPY from the bundled snapshot, with its provenance: spot plus carry, funded."""
    return data.load(["USDJPY"], start="2018-01-01", end="2025-12-31", offline=True)


def _pair(seed: int = 3, n: int = 700) -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2019-01-01", periods=n)
    b = pd.Series(rng.normal(0.0003, 0.01, n), index=idx)
    x = pd.Series(0.0002 + 0.4 * b.to_numpy() + rng.normal(0, 0.006, n), index=idx)
    return x, b


def test_alpha_beta_equal_quantstats_empyrical_and_statsmodels():
    x, b = _pair()
    got = ts.benchmark_stats(x, b, P)
    greeks = qs.stats.greeks(x, b, periods=P)
    assert got["beta"] == pytest.approx(greeks["beta"], abs=TOL)
    assert got["alpha"] == pytest.approx(greeks["alpha"], abs=TOL)
    alpha_ep, beta_ep = ep.alpha_beta(x, b, risk_free=0.0, annualization=P)
    assert got["beta"] == pytest.approx(beta_ep, abs=TOL)
    # empyrical compounds the daily alpha: (1 + a)**P - 1 with a = alpha / P.
    assert (1.0 + got["alpha"] / P) ** P - 1.0 == pytest.approx(alpha_ep, abs=TOL)
    ols = sm.OLS(x.to_numpy(), sm.add_constant(b.to_numpy())).fit()
    assert got["alpha"] == pytest.approx(ols.params[0] * P, abs=TOL)
    assert got["beta"] == pytest.approx(ols.params[1], abs=TOL)
    assert got["correlation"] == pytest.approx(float(np.corrcoef(x, b)[0, 1]), abs=TOL)
    assert got["observations"] == len(x)


def test_tracking_error_information_ratio_and_benchmark_sharpe_equal_references():
    x, b = _pair(5)
    got = ts.benchmark_stats(x, b, P)
    active = x - b
    # quantstats' information ratio is per period; ours is annualised by sqrt(P).
    assert got["information_ratio"] == pytest.approx(
        qs.stats.information_ratio(x, b) * math.sqrt(P), abs=TOL
    )
    assert got["information_ratio"] == pytest.approx(
        float(ep.excess_sharpe(x, b)) * math.sqrt(P), abs=TOL
    )
    assert got["tracking_error"] == pytest.approx(qs.stats.volatility(active, periods=P), abs=TOL)
    assert got["tracking_error"] == pytest.approx(
        ep.annual_volatility(active, annualization=P), abs=TOL
    )
    assert got["benchmark_sharpe"] == pytest.approx(qs.stats.sharpe(b, periods=P), abs=TOL)
    assert got["benchmark_sharpe"] == pytest.approx(ep.sharpe_ratio(b, annualization=P), abs=TOL)
    assert got["benchmark_total_return"] == pytest.approx(ep.cum_returns_final(b), abs=TOL)


def test_benchmark_stats_use_the_days_both_observe():
    x, b = _pair(7)
    x_gappy = x.copy()
    x_gappy.iloc[[3, 50, 51]] = np.nan
    b_short = b.iloc[10:]
    got = ts.benchmark_stats(x_gappy, b_short, P)
    common = pd.concat([x_gappy, b_short], axis=1, join="inner").dropna()
    ref = qs.stats.greeks(common[0], common[1], periods=P)
    assert got["observations"] == len(common) == len(x) - 10 - 2
    assert got["beta"] == pytest.approx(ref["beta"], abs=TOL)
    assert got["alpha"] == pytest.approx(ref["alpha"], abs=TOL)


def test_benchmark_stats_degenerate_inputs_are_nan():
    idx = pd.bdate_range("2024-01-01", periods=5)
    flat = pd.Series(0.001, index=idx)
    got = ts.benchmark_stats(pd.Series([0.01, -0.01, 0.0, 0.02, 0.01], index=idx), flat, P)
    assert math.isnan(got["beta"]) and math.isnan(got["alpha"])
    one = ts.benchmark_stats(flat.iloc[:1], flat.iloc[:1], P)
    assert one["observations"] == 1 and math.isnan(one["tracking_error"])


def test_rolling_sharpe_and_volatility_equal_quantstats_and_empyrical():
    x, _ = _pair(11, 400)
    w = 60
    sharpe = ts.rolling_sharpe(x, w, P)
    vol = ts.rolling_volatility(x, w, P)
    ref_s = qs.stats.rolling_sharpe(x, rolling_period=w, periods_per_year=P)
    ref_v = qs.stats.rolling_volatility(x, rolling_period=w, periods_per_year=P)
    assert sharpe.isna().sum() == w - 1 == ref_s.isna().sum()
    np.testing.assert_allclose(sharpe.dropna(), ref_s.dropna(), rtol=0, atol=TOL)
    np.testing.assert_allclose(vol.dropna(), ref_v.dropna(), rtol=0, atol=TOL)
    # empyrical gives one value per full window, starting at the window's last day
    ep_s = ep.roll_sharpe_ratio(x, window=w, annualization=P)
    ep_v = ep.roll_annual_volatility(x, window=w, annualization=P)
    np.testing.assert_allclose(sharpe.dropna(), np.asarray(ep_s), rtol=0, atol=TOL)
    np.testing.assert_allclose(vol.dropna(), np.asarray(ep_v), rtol=0, atol=TOL)


def test_underwater_equals_quantstats_and_empyrical_max_drawdown():
    x, _ = _pair(13, 500)
    x.iloc[0] = -0.03  # a first-bar loss is a drawdown from the initial capital
    dd = ts.underwater(x)
    np.testing.assert_allclose(dd, qs.stats.to_drawdown_series(x), rtol=0, atol=TOL)
    assert dd.iloc[0] == pytest.approx(-0.03, abs=1e-15)
    assert dd.min() == pytest.approx(ep.max_drawdown(x), abs=TOL)
    assert dd.max() <= 0.0


def test_monthly_returns_compound_within_month_like_empyrical_and_quantstats():
    x, _ = _pair(17, 600)  # 2019-01 .. 2021-04, partial last month
    table = ts.monthly_returns(x)
    months = ep.aggregate_returns(x, "monthly")
    years = ep.aggregate_returns(x, "yearly")
    for (year, month), value in months.items():
        assert table.loc[year, table.columns[month - 1]] == pytest.approx(value, abs=TOL)
    for year, value in years.items():
        assert table.loc[year, "year"] == pytest.approx(value, abs=TOL)
    ref = qs.stats.monthly_returns(x, eoy=True, compounded=True)
    for year in table.index:
        for col in table.columns[:12]:
            if not math.isnan(table.loc[year, col]):
                assert table.loc[year, col] == pytest.approx(
                    ref.loc[str(year), col.upper()], abs=TOL
                )
        assert table.loc[year, "year"] == pytest.approx(ref.loc[str(year), "EOY"], abs=TOL)
    # months without a return are missing, not 0 (quantstats writes 0)
    assert table.loc[2021, ["May", "Dec"]].isna().all()
    # hand count: two days of +10 % and -10 % in one month compound to -1 %
    two = pd.Series([0.1, -0.1], index=pd.to_datetime(["2024-03-04", "2024-03-05"]))
    assert ts.monthly_returns(two).loc[2024, "Mar"] == pytest.approx(-0.01, abs=1e-15)


def _trades(returns: list[float], entries: list[str], exits: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "entry_date": pd.to_datetime(entries),
            "exit_date": pd.to_datetime(exits),
            "return": returns,
        }
    )


def test_trade_statistics_equal_quantstats_on_the_trade_returns():
    rng = np.random.default_rng(19)
    rets = rng.normal(0.002, 0.02, 40)
    assert (rets != 0).all()  # quantstats' win rate drops zero trades (see module doc)
    idx = pd.bdate_range("2020-01-01", periods=400)
    starts = np.sort(rng.choice(300, 40, replace=False))
    trades = _trades(list(rets), list(idx[starts]), list(idx[starts + 5]))
    got = ts.trade_stats(trades, idx)
    ref = pd.Series(rets)
    assert got["trades"] == 40
    assert got["win_rate"] == pytest.approx(qs.stats.win_rate(ref, prepare_returns=False), abs=TOL)
    assert got["profit_factor"] == pytest.approx(
        qs.stats.profit_factor(ref, prepare_returns=False), abs=TOL
    )
    assert got["avg_win"] == pytest.approx(qs.stats.avg_win(ref, prepare_returns=False), abs=TOL)
    assert got["avg_loss"] == pytest.approx(qs.stats.avg_loss(ref, prepare_returns=False), abs=TOL)
    assert got["avg_holding_bars"] == 5.0


def test_trade_statistics_hand_counts():
    idx = pd.bdate_range("2024-01-01", periods=20)  # Mon 1 Jan 2024 ..
    trades = _trades(
        [0.02, -0.01, 0.0, 0.04, float("nan")],
        ["2024-01-01", "2024-01-03", "2024-01-05", "2024-01-10", "2024-01-11"],
        ["2024-01-03", "2024-01-05", "2024-01-10", "2024-01-12", "2024-01-12"],
    )
    got = ts.trade_stats(trades, idx)
    assert got["trades"] == 4  # the NaN-return row is no trade
    assert got["win_rate"] == 0.5  # 2 wins of 4; the zero trade did not win
    assert got["profit_factor"] == pytest.approx(0.06 / 0.01, abs=1e-15)
    assert got["avg_win"] == pytest.approx(0.03, abs=1e-15)
    assert got["avg_loss"] == pytest.approx(-0.01, abs=1e-15)
    # bars: 2, 2, 3 (Fri 5 -> Wed 10), 2 -> 9 / 4; calendar days: 2, 2, 5, 2 -> 11 / 4
    assert got["avg_holding_bars"] == pytest.approx(9 / 4)
    assert got["avg_holding_days"] == pytest.approx(11 / 4)
    none = ts.trade_stats(trades.iloc[:0], idx)
    assert none["trades"] == 0 and math.isnan(none["win_rate"])
    only_wins = ts.trade_stats(trades.iloc[[0]], idx)
    assert math.isnan(only_wins["profit_factor"]) and math.isnan(only_wins["avg_loss"])


def test_tearsheet_of_a_backtest_against_buy_and_hold(levels):
    bt = engine.backtest(
        "ma_crossover",
        {"fast": 10, "slow": 50, "direction": "both"},
        levels,
        series="USDJPY",
        fees_bps=1.0,
        slippage_bps=1.0,
    )
    sheet = bt.tearsheet(levels=levels, window=63)
    bh = engine.backtest("buy_and_hold", {}, levels, series="USDJPY")
    # the default benchmark is the engine's buy-and-hold of the traded instrument
    pd.testing.assert_series_equal(
        sheet.benchmark_excess, bh.excess_returns.rename("benchmark_excess"), check_freq=False
    )
    assert sheet.benchmark == "buy_and_hold USDJPY"
    x, b = bt.excess_returns, bh.excess_returns
    greeks = qs.stats.greeks(x, b, periods=P)
    assert sheet.metrics["alpha"] == pytest.approx(greeks["alpha"], abs=TOL)
    assert sheet.metrics["beta"] == pytest.approx(greeks["beta"], abs=TOL)
    assert sheet.metrics["information_ratio"] == pytest.approx(
        qs.stats.information_ratio(x, b) * math.sqrt(P), abs=TOL
    )
    # one meaning, one name: the tearsheet's win rate is the engine's
    assert sheet.metrics["win_rate"] == pytest.approx(bt.metrics["win_rate"], abs=1e-15)
    assert sheet.metrics["trades"] == bt.metrics["trades"]
    # the rolling Sharpe is of the series the backtest's Sharpe is of
    assert qs.stats.sharpe(x, periods=P) == pytest.approx(bt.metrics["sharpe"], abs=TOL)
    np.testing.assert_allclose(
        sheet.rolling_sharpe.dropna(),
        qs.stats.rolling_sharpe(x, rolling_period=63, periods_per_year=P).dropna(),
        rtol=0,
        atol=TOL,
    )
    for fig in (sheet.plot_monthly(), sheet.plot_rolling(), sheet.plot_underwater()):
        assert isinstance(fig, go.Figure)
        assert fig.layout.yaxis.title.text and fig.layout.xaxis.title.text
    assert "information_ratio" in sheet._repr_html_() and len(sheet._repr_html_()) < 50_000
    assert "buy_and_hold USDJPY" in str(sheet) and "Series" not in repr(sheet)
    plain = sheet.as_dict()
    assert plain["benchmark"] == "buy_and_hold USDJPY"
    assert set(plain["metrics"]) == set(ts.BENCHMARK_METRICS) | set(ts.TRADE_METRICS)
    # a named series and a given Series as benchmarks
    named = bt.tearsheet("USDJPY", levels=levels)
    assert named.metrics["beta"] == pytest.approx(sheet.metrics["beta"], abs=1e-15)
    given = bt.tearsheet(bh.excess_returns.rename("usdjpy"))
    assert given.metrics["alpha"] == pytest.approx(sheet.metrics["alpha"], abs=1e-15)
    assert given.benchmark == "usdjpy"


def test_shared_buy_and_hold_benchmark_gives_the_same_tearsheet(levels):
    """The pipeline computes buy-and-hold once per benchmark_key and passes it as benchmark."""
    bt = engine.backtest("buy_and_hold", {}, levels, series="USDJPY", fees_bps=2.0)
    other = engine.backtest(
        "ma_crossover", {"fast": 5, "slow": 40}, levels, series="USDJPY", slippage_bps=1.0
    )
    assert ts.benchmark_key(bt) == ts.benchmark_key(other) == ("USDJPY", 252, "short_rate", 0.0)
    bench = ts.buy_and_hold(other, levels)
    for strategy in (bt, other):
        own = ts.tearsheet(strategy, levels=levels)
        shared = ts.tearsheet(strategy, bench, levels=levels)
        assert shared.as_dict() == own.as_dict()
        pd.testing.assert_series_equal(shared.benchmark_excess, own.benchmark_excess)


def test_tearsheet_bad_input_names_what_was_expected(levels):
    bt = engine.backtest("buy_and_hold", {}, levels, series="USDJPY")
    with pytest.raises(DataValidationError, match="levels="):
        bt.tearsheet()
    with pytest.raises(DataValidationError, match="window"):
        bt.tearsheet(bt.returns, window=1)
    with pytest.raises(DataValidationError, match="benchmark must be"):
        ts.tearsheet(bt, 3.0)  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match="DatetimeIndex"):
        bt.tearsheet(pd.Series([0.01, 0.02]))
    with pytest.raises(DataValidationError, match="BacktestResult"):
        ts.tearsheet("bt")  # type: ignore[arg-type]
