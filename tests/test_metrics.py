"""Tests of backtest/metrics.py.

Reference checks: expected values computed here, independently of the code under test,
(1) by hand from a tiny case (the arithmetic is written out in comments), (2) by
formulas written out again with scipy.stats / pandas / plain loops, differently from
the vectorised implementation (PSR: Bailey & López de Prado 2012 eq. 9; E[max SR]:
Bailey & López de Prado 2014 eq. 2; CSCV/PBO: Bailey et al. 2017), (3) by published
figures (the numerical example of Bailey & López de Prado 2014: E[max SR] 0.1132,
DSR 0.9004), or (4) by vectorbt 1.2.0's returns accessor run on the same input.

Invariants (the code against itself): ``test_performance_frame_matches_series_columnwise``
(a frame equals its columns one by one), ``test_performance_nan_returns_are_missing``,
``test_pbo_accepts_dataframe_and_chunks`` and ``test_pbo_from_column_chunks_equals_whole_matrix``
(chunked equals whole), the monotonicity asserts in ``test_expected_max_sharpe_edge_cases``
and the DSR = PSR(SR0) / DSR < PSR(0) asserts at the end of
``test_deflated_sharpe_ratio_matches_formula_on_returns``.

Statistical properties (theory, by simulation): ``test_pbo_pure_noise_*`` (PBO of pure
noise is 1/2 for an even number of trials, (N + 1) / (2N) for odd N) and
``test_pbo_real_edge_is_small``.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from scipy.stats import norm

from backtest import metrics as mt
from backtest.errors import DataValidationError

NAN = float("nan")
EULER_GAMMA = 0.5772156649015329  # Euler-Mascheroni constant, written out


# --------------------------------------------------------------------------- performance

# The hand-made series of the brief: four quarterly returns, periods_per_year = 4.
R4 = [0.01, -0.02, 0.03, 0.0]
# total = 1.01 * 0.98 * 1.03 * 1.00 - 1 = 0.019494; with n = P = 4, CAGR = total.
R4_TOTAL = 1.01 * 0.98 * 1.03 - 1.0
# mean = 0.02 / 4 = 0.005; deviations 0.005, -0.025, 0.025, -0.005;
# sum of squares = 2.5e-5 + 6.25e-4 + 6.25e-4 + 2.5e-5 = 1.3e-3; s = sqrt(1.3e-3 / 3).
R4_STD = math.sqrt(1.3e-3 / 3)
R4_VOL = R4_STD * 2.0  # sqrt(4)
R4_SHARPE = 0.005 / R4_STD * 2.0  # 0.480384...
# Shortfalls below 0: only -0.02, so DD = sqrt(0.02**2 / 4) = 0.01; Sortino = 0.005/0.01*2.
R4_SORTINO = 1.0
# Equity 1.01, 0.9898, 1.019494, 1.019494; peak 1.01 before the loss; 1 - 0.9898/1.01 = 0.02.
R4_MDD = 0.02
R4_CALMAR = R4_TOTAL / 0.02


def _no_warnings():
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("error")
    return ctx


def test_performance_hand_computed_series():
    perf = mt.performance(pd.Series(R4, name="rule"), periods_per_year=4)
    assert list(perf.columns) == list(mt.PERFORMANCE_COLUMNS)
    assert list(perf.index) == ["rule"]
    row = perf.loc["rule"]
    assert row["total_return"] == pytest.approx(0.019494, abs=1e-12)
    assert row["cagr"] == pytest.approx(R4_TOTAL, rel=1e-12)
    assert row["volatility"] == pytest.approx(R4_VOL, rel=1e-12)
    assert row["volatility"] == pytest.approx(0.0416333, abs=1e-7)
    assert row["sharpe"] == pytest.approx(R4_SHARPE, rel=1e-12)
    assert row["sharpe"] == pytest.approx(0.4803845, abs=1e-7)
    assert row["sortino"] == pytest.approx(R4_SORTINO, rel=1e-12)
    assert row["max_drawdown"] == pytest.approx(R4_MDD, rel=1e-12)
    assert row["calmar"] == pytest.approx(R4_CALMAR, rel=1e-12)
    # No positions: positive days over all periods (2 of 4 positive), position stats and
    # the win rate (no trades given) unknown.
    assert row["positive_days"] == 0.5
    assert np.isnan(row["win_rate"])
    assert np.isnan(row[["trades", "exposure", "turnover"]].to_numpy(dtype=float)).all()
    assert (perf.dtypes == np.float64).all()


def test_performance_cagr_uses_number_of_returns():
    # Two years of quarterly data: 8 returns of 1 % -> CAGR = 1.01**4 - 1.
    perf = mt.performance(pd.Series([0.01] * 8), periods_per_year=4)
    assert perf["cagr"].iloc[0] == pytest.approx(1.01**4 - 1.0, rel=1e-12)
    assert perf["total_return"].iloc[0] == pytest.approx(1.01**8 - 1.0, rel=1e-12)


def test_performance_risk_free_per_period():
    # An annual 1.01**4 - 1 over 4 periods a year is exactly 1 % per period, so the
    # excess returns are 0.00, -0.03, 0.02, -0.01: mean -0.005, same s as R4.
    rf = 1.01**4 - 1.0
    perf = mt.performance(pd.Series(R4), periods_per_year=4, risk_free=rf).iloc[0]
    assert perf["sharpe"] == pytest.approx(-0.005 / R4_STD * 2.0, rel=1e-9)
    # Shortfalls -0.03 and -0.01: DD = sqrt((9e-4 + 1e-4) / 4) = sqrt(2.5e-4).
    assert perf["sortino"] == pytest.approx(-0.005 / math.sqrt(2.5e-4) * 2.0, rel=1e-9)
    # Volatility and the return-based figures do not depend on the risk-free rate.
    assert perf["volatility"] == pytest.approx(R4_VOL, rel=1e-12)
    assert perf["total_return"] == pytest.approx(R4_TOTAL, rel=1e-12)


def test_per_period_risk_free():
    assert mt.per_period_risk_free(1.02**4 - 1.0, 4) == pytest.approx(0.02, rel=1e-12)
    assert mt.per_period_risk_free(0.0, 252) == 0.0
    with pytest.raises(DataValidationError, match="periods_per_year"):
        mt.per_period_risk_free(0.01, 0)
    with pytest.raises(DataValidationError, match="risk_free"):
        mt.per_period_risk_free(-1.0, 252)


def test_performance_default_periods_per_year_is_252():
    r = pd.Series(R4)
    sharpe = mt.performance(r)["sharpe"].iloc[0]
    assert sharpe == pytest.approx(0.005 / R4_STD * math.sqrt(252), rel=1e-12)


def test_max_drawdown_counts_a_first_bar_loss():
    # Equity 0.9, 0.945: the starting capital 1 is the peak, so MDD = 0.1.
    perf = mt.performance(pd.Series([-0.1, 0.05])).iloc[0]
    assert perf["max_drawdown"] == pytest.approx(0.1, rel=1e-12)


def test_performance_positions_hand_computed():
    r = pd.Series([0.01, 0.02, -0.01, 0.03, -0.02, 0.01, 0.0, 0.05])
    pos = pd.Series([0, 1, 1, 0, -1, -1, 1, 0], dtype=float)
    perf = mt.performance(r, pos, periods_per_year=8).iloc[0]
    # In the market on bars 1, 2, 4, 5, 6: exposure 5/8.
    assert perf["exposure"] == pytest.approx(5 / 8)
    # Entries: bar 1 (0 -> 1), bar 4 (0 -> -1), bar 6 (-1 -> 1, a flip).
    assert perf["trades"] == 3
    # |dp| = 0, 1, 0, 1, 1, 0, 2, 1 -> 6 over 8 bars, times 8 bars a year = 6.
    assert perf["turnover"] == pytest.approx(6.0)
    # Returns while in the market: 0.02, -0.01, -0.02, 0.01, 0.0 -> 2 winners of 5.
    assert perf["positive_days"] == pytest.approx(0.4)
    assert np.isnan(perf["win_rate"])  # no trade returns given


def test_performance_trade_returns_give_win_rate_and_trades():
    r = pd.Series([0.01, 0.02, -0.01, 0.03])
    pos = pd.Series([0.0, 1.0, 1.0, 0.0])
    perf = mt.performance(r, pos, trade_returns=[0.01, -0.02, 0.03, 0.04]).iloc[0]
    assert perf["trades"] == 4
    assert perf["win_rate"] == pytest.approx(0.75)
    assert perf["exposure"] == pytest.approx(0.5)  # still from positions
    # Positive days stay a share of days in the market (bars 1 and 2: 0.02, -0.01).
    assert perf["positive_days"] == pytest.approx(0.5)

    frame = pd.DataFrame({"a": [0.01, -0.01], "b": [0.02, 0.0]})
    perf = mt.performance(frame, trade_returns={"a": [0.01, -0.01, -0.02], "b": []})
    assert perf.loc["a", "trades"] == 3
    assert perf.loc["a", "win_rate"] == pytest.approx(1 / 3)
    assert perf.loc["a", "positive_days"] == pytest.approx(0.5)  # 0.01 of 0.01, -0.01
    assert perf.loc["b", "trades"] == 0
    assert np.isnan(perf.loc["b", "win_rate"])


def test_performance_frame_matches_series_columnwise():
    # Invariant: the frame path equals the one-column path (no outside reference).
    rng = np.random.default_rng(7)
    idx = pd.date_range("2021-01-04", periods=300, freq="B")
    r = pd.DataFrame(rng.normal(0.0004, 0.01, (300, 4)), index=idx, columns=list("abcd"))
    pos = pd.DataFrame(rng.choice([-1.0, 0.0, 0.5, 1.0], (300, 4)), index=idx, columns=r.columns)
    r.iloc[:10, 2] = NAN  # a late starter
    both = mt.performance(r, pos, risk_free=0.02)
    assert list(both.index) == list("abcd")
    for col in r.columns:
        single = mt.performance(r[col], pos[col], risk_free=0.02)
        pd.testing.assert_series_equal(both.loc[col], single.iloc[0], check_names=False, rtol=1e-12)


def _reference_performance(r: pd.Series, pos: pd.Series, rf_p: float, ppy: float) -> dict:
    """One column's metrics with pandas, written out from the definitions."""
    x = r.dropna() - rf_p
    n = len(x)
    growth = float((1.0 + r.fillna(0.0)).prod())
    equity = (1.0 + r.fillna(0.0)).cumprod()
    peak = equity.cummax().clip(lower=1.0)
    mdd = float((1.0 - equity / peak).max())
    cagr = growth ** (ppy / n) - 1.0
    flat = pos.fillna(0.0)
    held = flat[r.notna()]
    signs = np.sign(flat)
    entered = (signs != 0) & (signs != signs.shift(1, fill_value=0.0))
    return {
        "total_return": growth - 1.0,
        "cagr": cagr,
        "volatility": x.std(ddof=1) * math.sqrt(ppy),
        "sharpe": x.mean() / x.std(ddof=1) * math.sqrt(ppy),
        "sortino": x.mean() / math.sqrt((x.clip(upper=0.0) ** 2).mean()) * math.sqrt(ppy),
        "max_drawdown": mdd,
        "calmar": cagr / mdd,
        "win_rate": NAN,  # no trade returns given
        "positive_days": float((r[r.notna() & (flat != 0)] > 0).mean()),
        "trades": float(entered.sum()),
        "exposure": float((held != 0).mean()),
        "turnover": float(flat.diff().fillna(flat).abs().sum()) / n * ppy,
    }


@pytest.mark.parametrize("order", ["C", "F"])
def test_performance_matches_pandas_reference_with_gaps(order):
    # Many columns with missing returns, NaN (flat) positions, fractional and short
    # positions and a risk-free rate, in both memory orders (the kernel reads strides).
    rng = np.random.default_rng(11)
    t, k = 500, 40
    r = rng.normal(0.0003, 0.012, (t, k))
    r[rng.random((t, k)) < 0.05] = NAN
    r[:25, 3] = NAN
    pos = rng.choice([-1.0, -0.5, 0.0, 0.0, 0.5, 1.0, NAN], (t, k))
    frame = pd.DataFrame(np.asarray(r, order=order))
    positions = pd.DataFrame(np.asarray(pos, order=order))
    perf = mt.performance(frame, positions, periods_per_year=252, risk_free=0.03)
    rf_p = 1.03 ** (1 / 252) - 1.0
    for j in range(k):
        expected = _reference_performance(frame[j], positions[j], rf_p, 252.0)
        for name, value in expected.items():
            assert perf.loc[j, name] == pytest.approx(value, rel=1e-10, abs=1e-14, nan_ok=True), (
                j,
                name,
            )


def test_performance_nan_returns_are_missing():
    # Invariant: leading/trailing NaN change nothing (the R4 values are checked by hand above).
    with_nan = mt.performance(pd.Series([NAN, *R4, NAN]), periods_per_year=4).iloc[0]
    clean = mt.performance(pd.Series(R4), periods_per_year=4).iloc[0]
    pd.testing.assert_series_equal(with_nan, clean, rtol=1e-12, check_names=False)


def test_performance_degenerate_inputs_give_nan_without_warnings():
    frame = pd.DataFrame(
        {
            "flat": [0.01] * 5,  # zero variance, no loss
            "gains": [0.01, 0.02, 0.01, 0.03, 0.02],  # no losing period
            "empty": [NAN] * 5,  # no data at all
            "one": [NAN, NAN, NAN, NAN, 0.01],  # a single return
        }
    )
    positions = pd.DataFrame(0.0, index=frame.index, columns=frame.columns)
    ctx = _no_warnings()
    try:
        perf = mt.performance(frame, positions)
        empty = mt.performance(pd.Series([], dtype=float))
    finally:
        ctx.__exit__(None, None, None)
    assert perf.loc["flat", ["sharpe", "volatility", "sortino", "calmar"]].isna().all()
    assert perf.loc["flat", "total_return"] == pytest.approx(1.01**5 - 1)
    assert perf.loc["gains", ["sortino", "calmar"]].isna().all()
    assert perf.loc["gains", "max_drawdown"] == 0.0
    assert perf.loc["empty"].drop(["trades"]).isna().all()
    assert perf.loc["one", ["sharpe", "volatility"]].isna().all()
    assert perf.loc["one", "total_return"] == pytest.approx(0.01)
    # Never in the market: no positive days, no win rate, no exposure, no trades.
    assert perf["positive_days"].isna().all()
    assert perf["win_rate"].isna().all()
    assert (perf.loc[["flat", "gains", "one"], "exposure"] == 0.0).all()
    assert (perf["trades"] == 0).all()
    assert empty.shape == (1, len(mt.PERFORMANCE_COLUMNS))
    assert empty.isna().all(axis=None)


def test_performance_rejects_mismatched_inputs():
    r = pd.DataFrame({"a": [0.01, 0.02], "b": [0.0, 0.01]})
    with pytest.raises(DataValidationError, match="reindex_like"):
        mt.performance(r, r.iloc[:1])
    with pytest.raises(DataValidationError, match="reindex_like"):
        mt.performance(r, r.rename(columns={"b": "c"}))
    with pytest.raises(DataValidationError, match=r"no entry for columns \['b'\]"):
        mt.performance(r, trade_returns={"a": [0.1]})
    with pytest.raises(DataValidationError, match="Series or DataFrame"):
        mt.performance(np.array([0.01, 0.02]))  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match="periods_per_year"):
        mt.performance(r, periods_per_year=-252)


def test_performance_matches_vectorbt_accessor():
    # Second implementation: vectorbt 1.2.0's returns accessor, with year_freq set to
    # 252 days so its annualisation factor is 252 (its default, 365 days, is not).
    # vectorbt's drawdown peak starts at the first bar's equity; prepending a zero
    # return makes it start at the initial capital, as ours does.
    vbt = pytest.importorskip("vectorbt")
    assert vbt.__version__ == "1.2.0"
    rng = np.random.default_rng(11)
    idx = pd.date_range("2020-01-01", periods=501, freq="D")
    r = pd.DataFrame(rng.normal(0.0005, 0.01, (501, 3)), index=idx, columns=["x", "y", "z"])
    r.iloc[0] = 0.0
    acc = r.vbt.returns(freq="1D", year_freq="252D")
    ours = mt.performance(r.iloc[1:])
    ours_full = mt.performance(r)  # the zero first return changes n, hence CAGR
    np.testing.assert_allclose(ours["total_return"], acc.total(), rtol=1e-10)
    np.testing.assert_allclose(ours_full["cagr"], acc.annualized(), rtol=1e-10)
    np.testing.assert_allclose(ours_full["volatility"], acc.annualized_volatility(), rtol=1e-10)
    np.testing.assert_allclose(ours_full["sharpe"], acc.sharpe_ratio(), rtol=1e-10)
    np.testing.assert_allclose(ours_full["sortino"], acc.sortino_ratio(), rtol=1e-10)
    np.testing.assert_allclose(ours["max_drawdown"], -acc.max_drawdown(), rtol=1e-10)
    np.testing.assert_allclose(ours_full["calmar"], acc.calmar_ratio(), rtol=1e-10)


# --------------------------------------------------------------------------- PSR / DSR

# Bailey & López de Prado (2014), section "A numerical example": annualised SR 2.5
# on 5 years of daily returns (T = 1250, 250 a year), skewness -3, kurtosis 10,
# N = 100 trials whose annualised Sharpe ratios have variance 0.5.
# Published: E[max SR] = 0.1132 (per period, non-annualised) and DSR = 0.9004.
EX_PPY = 250
EX_T = 1250
EX_SR = 2.5 / math.sqrt(EX_PPY)  # 0.158114 per day
EX_SKEW, EX_KURT = -3.0, 10.0
EX_N = 100
EX_VAR = 0.5 / EX_PPY  # per-period variance: Var(SR_annual) / P


def _sr0_by_formula(var: float, n: int) -> float:
    """Bailey & López de Prado (2014) eq. 2, written out with scipy."""
    return math.sqrt(var) * (
        (1 - EULER_GAMMA) * norm.ppf(1 - 1 / n) + EULER_GAMMA * norm.ppf(1 - 1 / (n * math.e))
    )


def _psr_by_formula(sr, sr_star, t, g3, g4):
    """Bailey & López de Prado (2012) eq. 9, written out with scipy."""
    return norm.cdf(
        (sr - sr_star) * math.sqrt(t - 1) / math.sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr**2)
    )


def test_dsr_worked_example_formula_reproduces_published_figures():
    sr0 = _sr0_by_formula(EX_VAR, EX_N)
    assert round(sr0, 4) == 0.1132  # published E[max SR], per period
    assert round(_psr_by_formula(EX_SR, sr0, EX_T, EX_SKEW, EX_KURT), 4) == 0.9004


def test_expected_max_sharpe_worked_example():
    sr0 = mt.expected_max_sharpe(EX_VAR, EX_N)
    assert sr0 == pytest.approx(_sr0_by_formula(EX_VAR, EX_N), rel=1e-10)
    assert round(sr0, 4) == 0.1132
    # Annualised: 0.1132 * sqrt(250) = 1.79, far below the observed 2.5.
    assert sr0 * math.sqrt(EX_PPY) == pytest.approx(1.7894, abs=1e-4)


def test_probabilistic_sharpe_ratio_worked_example():
    sr0 = _sr0_by_formula(EX_VAR, EX_N)
    psr = mt.probabilistic_sharpe_ratio(EX_SR, sr0, EX_T, EX_SKEW, EX_KURT)
    assert psr == pytest.approx(_psr_by_formula(EX_SR, sr0, EX_T, EX_SKEW, EX_KURT), rel=1e-12)
    assert round(psr, 4) == 0.9004


def test_probabilistic_sharpe_ratio_hand_values():
    # SR equal to the benchmark: Phi(0) = 1/2 whatever the moments.
    assert mt.probabilistic_sharpe_ratio(0.1, 0.1, 50, -1.0, 6.0) == pytest.approx(0.5)
    # Normal returns, SR 0.1 on 101 returns: z = 0.1 * 10 / sqrt(1 + 0.01 / 2).
    z = 1.0 / math.sqrt(1.005)
    assert mt.probabilistic_sharpe_ratio(0.1, 0.0, 101) == pytest.approx(norm.cdf(z), rel=1e-12)
    # Table: Phi(0.997509) = Phi(1) - 0.002491 * phi(1) = 0.841345 - 0.000603.
    assert norm.cdf(z) == pytest.approx(0.84074, abs=1e-5)
    # Negative skewness and fat tails widen the band, lowering PSR towards 1/2.
    assert mt.probabilistic_sharpe_ratio(0.1, 0.0, 101, -2.0, 9.0) < norm.cdf(z)


def test_probabilistic_sharpe_ratio_broadcasts_and_degenerates():
    out = mt.probabilistic_sharpe_ratio(np.array([0.0, 0.1]), 0.0, np.array([101, 1]))
    assert isinstance(out, np.ndarray)
    assert out[0] == pytest.approx(0.5)
    assert np.isnan(out[1])  # n < 2
    assert isinstance(mt.probabilistic_sharpe_ratio(0.1, 0.0, 10), float)


def test_expected_max_sharpe_edge_cases():
    assert mt.expected_max_sharpe(0.01, 1) == 0.0
    assert mt.expected_max_sharpe(0.0, 50) == 0.0
    # Invariant: grows with the number of trials.
    assert mt.expected_max_sharpe(0.01, 10) < mt.expected_max_sharpe(0.01, 1000)
    with pytest.raises(DataValidationError, match="n_trials"):
        mt.expected_max_sharpe(0.01, 0)
    with pytest.raises(DataValidationError, match="sr_variance"):
        mt.expected_max_sharpe(-0.01, 10)


def _trials(seed: int = 5, t: int = 750, n: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    # Student-t noise gives the best trial non-trivial skewness and kurtosis.
    data = 0.0003 + 0.01 * rng.standard_t(5, size=(t, n)) / math.sqrt(5 / 3)
    idx = pd.date_range("2019-01-01", periods=t, freq="D")
    return pd.DataFrame(data, index=idx, columns=[f"p{i}" for i in range(n)])


def test_probabilistic_sharpe_ratio_from_returns_hand_computed():
    # R4: SR = 0.005 / sqrt(1.3e-3 / 3) per period; the deviations 0.005, -0.025,
    # 0.025, -0.005 are symmetric, so skewness 0; m2 = 1.3e-3 / 4 = 3.25e-4,
    # m4 = (2 * 0.005**4 + 2 * 0.025**4) / 4 = 1.95625e-7, kurtosis m4 / m2**2.
    sr = 0.005 / R4_STD
    g4 = 1.95625e-7 / 3.25e-4**2
    assert g4 == pytest.approx(1.852071, abs=1e-6)
    expected = norm.cdf(sr * math.sqrt(3) / math.sqrt(1 + (g4 - 1) / 4 * sr**2))
    got = mt.probabilistic_sharpe_ratio_from_returns(pd.Series(R4))
    assert got == pytest.approx(expected, rel=1e-10)
    assert np.isnan(mt.probabilistic_sharpe_ratio_from_returns([0.01, 0.01, 0.01]))


def test_deflated_sharpe_ratio_matches_formula_on_returns():
    trials = _trials()
    ppy, rf = 252, 0.02
    rf_p = (1 + rf) ** (1 / ppy) - 1
    # Per-period trial Sharpe ratios, computed here without the code under test.
    excess = trials - rf_p
    sharpes = excess.mean() / excess.std(ddof=1)
    best = sharpes.idxmax()
    x = excess[best].to_numpy()
    sr = x.mean() / x.std(ddof=1)
    g3 = scipy.stats.skew(x)
    g4 = scipy.stats.kurtosis(x, fisher=False)
    sr0 = _sr0_by_formula(sharpes.var(ddof=1), len(sharpes))
    expected = _psr_by_formula(sr, sr0, len(x), g3, g4)

    dsr = mt.deflated_sharpe_ratio(trials[best], sharpes, periods_per_year=ppy, risk_free=rf)
    assert dsr == pytest.approx(expected, rel=1e-10)
    # Invariants from here on: DSR is the PSR against the expected maximum Sharpe ratio.
    sr0_ours = mt.expected_max_sharpe(sharpes.var(ddof=1), len(sharpes))
    psr = mt.probabilistic_sharpe_ratio(sr, sr0_ours, len(x), g3, g4)
    assert dsr == pytest.approx(psr, rel=1e-10)
    # ... and lower than the PSR against zero; fewer effective trials deflate less.
    assert dsr < mt.probabilistic_sharpe_ratio_from_returns(
        trials[best], periods_per_year=ppy, risk_free=rf
    )
    fewer = mt.deflated_sharpe_ratio(
        trials[best], sharpes, n_trials=5, periods_per_year=ppy, risk_free=rf
    )
    assert fewer > dsr


def test_deflated_sharpe_ratio_matches_vectorbt_accessor():
    # vectorbt's accessor treats every column as a trial and takes annualised
    # Sharpe ratios; with year_freq = 252 days its units agree with ours.
    pytest.importorskip("vectorbt")
    trials = _trials(seed=8)
    sharpes = mt.performance(trials)["sharpe"] / math.sqrt(252)
    best = sharpes.idxmax()
    theirs = trials.vbt.returns(freq="1D", year_freq="252D").deflated_sharpe_ratio()
    ours = mt.deflated_sharpe_ratio(trials[best], sharpes)
    assert ours == pytest.approx(theirs[best], rel=1e-10)


def test_deflated_sharpe_ratio_single_trial_is_psr_against_zero():
    x = _trials(seed=3)["p0"].to_numpy()
    sr = x.mean() / x.std(ddof=1)
    expected = _psr_by_formula(
        sr, 0.0, len(x), scipy.stats.skew(x), scipy.stats.kurtosis(x, fisher=False)
    )
    assert mt.deflated_sharpe_ratio(x, [0.05]) == pytest.approx(expected, rel=1e-10)


def test_deflated_sharpe_ratio_degenerate():
    assert np.isnan(mt.deflated_sharpe_ratio([0.01] * 10, [0.03, 0.06]))  # zero variance
    assert np.isnan(mt.deflated_sharpe_ratio([0.01, 0.02, -0.01], [0.03, NAN]))  # 1 finite
    with pytest.raises(DataValidationError, match="1-D"):
        mt.deflated_sharpe_ratio(np.zeros((3, 2)), [0.03, 0.06])
    with pytest.raises(DataValidationError, match="1-D"):
        mt.deflated_sharpe_ratio([0.01, 0.02, -0.01], np.zeros((2, 2)))
    with pytest.raises(DataValidationError, match="n_trials"):
        mt.deflated_sharpe_ratio([0.01, 0.02, -0.01], [0.03, 0.06], n_trials=0)


# --------------------------------------------------------------------------- PBO


def _pbo_by_loops(m: np.ndarray, s: int, metric: str):
    """CSCV as described in Bailey et al. (2017), one combination at a time."""
    blocks = np.array_split(np.arange(m.shape[0]), s)
    n = m.shape[1]

    def perf(rows):
        x = m[rows]
        if metric == "mean":
            return x.mean(axis=0)
        return x.mean(axis=0) / x.std(axis=0, ddof=1)

    logits = []
    for combo in itertools.combinations(range(s), s // 2):
        is_rows = np.concatenate([blocks[i] for i in combo])
        oos_rows = np.concatenate([blocks[i] for i in range(s) if i not in combo])
        best = int(np.argmax(perf(is_rows)))
        ranks = scipy.stats.rankdata(perf(oos_rows))  # 1 = worst, ties averaged
        omega = ranks[best] / (n + 1)
        logits.append(math.log(omega / (1 - omega)))
    logits_arr = np.array(logits)
    return float(np.mean(logits_arr <= 0)), logits_arr


def test_pbo_tiny_case_by_hand():
    # S = 4 blocks of one row, N = 3 trials (A, B, C), metric = mean.  Combinations
    # in itertools order (in-sample blocks), in-sample sums -> best, out-of-sample
    # sums -> rank of the best (ties averaged), omega = rank / 4:
    #   (0,1): A5 B1 C1      -> A; OOS A0 B2.5 C2.5 -> rank 1    -> ln(1/3)
    #   (0,2): A4 B3 C0.5    -> A; OOS A1 B0.5 C3   -> rank 2    -> ln(1) = 0
    #   (0,3): A2 B1.5 C2    -> A (first of a tie); OOS A3 B2 C1.5 -> rank 3 -> ln 3
    #   (1,2): A3 B2 C1.5    -> A; OOS A2 B1.5 C2   -> rank 2.5  -> ln(0.625/0.375)
    #   (1,3): A1 B0.5 C3    -> C; OOS A4 B3 C0.5   -> rank 1    -> ln(1/3)
    #   (2,3): A0 B2.5 C2.5  -> B (first of a tie); OOS A5 B1 C1 -> rank 1.5 -> ln(0.6)
    # lambda <= 0 in 4 of 6 combinations.
    m = np.array(
        [
            [3.0, 1.0, 0.0],
            [2.0, 0.0, 1.0],
            [1.0, 2.0, 0.5],
            [-1.0, 0.5, 2.0],
        ]
    )
    res = mt.pbo_cscv(m, n_splits=4, metric="mean")
    expected = np.log([1 / 3, 1.0, 3.0, 0.625 / 0.375, 1 / 3, 0.6])
    assert res.n_combinations == 6 == math.comb(4, 2)
    np.testing.assert_allclose(res.logits, expected, rtol=1e-12, atol=1e-12)
    assert res.pbo == pytest.approx(4 / 6)


@pytest.fixture(params=["numpy", "kernel"])
def pbo_path(request, monkeypatch):
    """Each PBO test on both paths: numpy (small problems) and the numba kernel."""
    if request.param == "kernel":
        monkeypatch.setattr(mt, "PBO_NUMPY_CELLS", -1)
    return request.param


@pytest.mark.parametrize("metric", ["sharpe", "mean"])
@pytest.mark.parametrize(("t", "s", "n"), [(12, 4, 3), (50, 6, 5), (203, 8, 12)])
def test_pbo_matches_loop_implementation(metric, t, s, n, pbo_path):
    m = np.random.default_rng(t + s + n).normal(0.0, 0.01, (t, n))
    pbo, logits = _pbo_by_loops(m, s, metric)
    res = mt.pbo_cscv(m, n_splits=s, metric=metric)
    assert res.n_combinations == math.comb(s, s // 2)
    np.testing.assert_allclose(res.logits, logits, rtol=1e-10, atol=1e-12)
    assert res.pbo == pbo


def test_pbo_accepts_dataframe():
    m = np.random.default_rng(0).normal(size=(120, 7))
    whole = mt.pbo_cscv(pd.DataFrame(m), n_splits=8)
    np.testing.assert_array_equal(whole.logits, mt.pbo_cscv(m, n_splits=8).logits)


@pytest.mark.parametrize("metric", ["sharpe", "mean"])
def test_pbo_over_several_tiles_matches_loops(metric, pbo_path):
    # Reference: the loops above. The kernel reads the trials in tiles of PBO_TILE;
    # 2.3 tiles of trials, the best in-sample trial placed in a later tile, a trial
    # tied with it (the first maximum is picked) and out-of-sample ties to rank.
    from backtest import kernels

    n = 2 * kernels.PBO_TILE + 300
    m = np.random.default_rng(11).normal(0.0, 0.01, (96, n))
    m[:, n - 5] = m[:, 10] + 0.004  # best everywhere, in the last tile
    m[:, n - 3] = m[:, n - 5]  # its twin: the first one is picked
    m[:, 700] = m[:, 3]  # ties out of sample
    pbo, logits = _pbo_by_loops(m, 6, metric)
    res = mt.pbo_cscv(m, n_splits=6, metric=metric)
    np.testing.assert_allclose(res.logits, logits, rtol=1e-10, atol=1e-12)
    assert res.pbo == pbo


def test_pbo_same_on_any_thread_count(monkeypatch):
    # Invariant: each combination is computed on one thread, whatever the count.
    from backtest import kernels

    monkeypatch.setattr(mt, "PBO_NUMPY_CELLS", -1)  # the kernel, not the numpy path

    m = np.random.default_rng(3).normal(0.0, 0.01, (120, 700))
    before = kernels.threads()
    try:
        kernels.threads(1)
        one = mt.pbo_cscv(m, n_splits=8)
        kernels.threads(3)
        three = mt.pbo_cscv(m, n_splits=8)
    finally:
        kernels.threads(before)
    np.testing.assert_array_equal(one.logits, three.logits)


@pytest.mark.parametrize("metric", ["sharpe", "mean"])
def test_pbo_numpy_path_equals_the_kernel_bit_for_bit(metric, monkeypatch):
    # Small problems rank with numpy: the same operations as the kernel, in the same
    # order, so the same logits exactly, on ties, gaps, an empty and a flat trial.
    rng = np.random.default_rng(5)
    for _ in range(40):
        n, s = int(rng.integers(2, 40)), int(rng.choice([2, 4, 8, 10]))
        m = rng.normal(0.0, 0.01, (int(rng.integers(4 * s, 200)), n))
        m[:, rng.integers(0, n)] = m[:, 0]
        m[rng.random(m.shape) < 0.1] = np.nan
        if rng.random() < 0.3:
            m[:, -1] = np.nan
        if rng.random() < 0.3:
            m[:, 1 % n] = 0.001
        st = mt.pbo_block_stats(m, s)
        small = mt.pbo_from_block_stats(st, metric)
        monkeypatch.setattr(mt, "PBO_NUMPY_CELLS", -1)
        kernel = mt.pbo_from_block_stats(st, metric)
        monkeypatch.undo()
        np.testing.assert_array_equal(small.logits, kernel.logits)
        assert small.pbo == kernel.pbo


def test_pbo_from_column_chunks_equals_whole_matrix():
    # Invariant (chunked equals whole): the sums of each trial depend on its own column
    # only, so chunks joined give the same logits as the whole matrix, exactly. The
    # block statistics themselves are checked against numpy below (reference).
    m = np.random.default_rng(5).normal(0.0, 0.01, (203, 11))
    m[:7, 4] = NAN
    whole = mt.pbo_cscv(m, n_splits=8)
    parts = [mt.pbo_block_stats(m[:, a:b], 8) for a, b in ((0, 3), (3, 4), (4, 11))]
    joined = mt.pbo_from_block_stats(np.concatenate(parts, axis=2))
    np.testing.assert_array_equal(joined.logits, whole.logits)
    assert joined.pbo == whole.pbo
    sizes = [len(b) for b in np.array_split(np.arange(203), 8)]
    bounds = np.cumsum([0, *sizes])
    stats_ = mt.pbo_block_stats(m, 8)
    for b in range(8):  # counts and sums per block, by numpy
        block = m[bounds[b] : bounds[b + 1]]
        np.testing.assert_array_equal(stats_[b, 0], (~np.isnan(block)).sum(axis=0))
        np.testing.assert_allclose(stats_[b, 1], np.nansum(block, axis=0), rtol=1e-12)
    with pytest.raises(DataValidationError, match="shape"):
        mt.pbo_from_block_stats(stats_[:3])


def test_pbo_pure_noise_is_about_one_half():
    # Under the null every OOS rank of the IS winner is equally likely; with N even,
    # P(rank <= N/2) = 1/2.  A single PBO estimate is noisy (its combinations share
    # data), so average over 20 seeded simulations: sd of one estimate ~0.15.
    pbos = [
        mt.pbo_cscv(np.random.default_rng(seed).normal(0, 0.01, (800, 50))).pbo
        for seed in range(20)
    ]
    assert np.mean(pbos) == pytest.approx(0.5, abs=0.1)


def test_pbo_pure_noise_odd_trials_counts_the_median_as_overfit():
    # N = 3: lambda <= 0 for OOS ranks 1 and 2, so noise gives (N + 1) / (2N) = 2/3.
    pbos = [
        mt.pbo_cscv(np.random.default_rng(seed).normal(0, 0.01, (200, 3)), n_splits=8).pbo
        for seed in range(100)
    ]
    assert np.mean(pbos) == pytest.approx(2 / 3, abs=0.08)


def test_pbo_real_edge_is_small():
    # Trial 7 earns 0.2 % a day over noise of 1 % (annualised Sharpe ~3.2); it wins in
    # sample and stays on top out of sample.
    m = np.random.default_rng(100).normal(0, 0.01, (2000, 50))
    m[:, 7] += 0.002
    res = mt.pbo_cscv(m)
    assert res.n_combinations == 12870
    assert res.pbo < 0.05
    assert np.median(res.logits) == pytest.approx(math.log(50), rel=1e-12)  # rank N


def test_pbo_rejects_bad_arguments():
    m = np.zeros((20, 3))
    with pytest.raises(DataValidationError, match="even"):
        mt.pbo_cscv(m, n_splits=5)
    with pytest.raises(DataValidationError, match="even"):
        mt.pbo_cscv(m, n_splits=22)
    with pytest.raises(DataValidationError, match="metric"):
        mt.pbo_cscv(m, metric="sortino")  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match="at least 2 trials"):
        mt.pbo_cscv(np.zeros((20, 1)), n_splits=4)


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(
        np.array_equal(a, b, equal_nan=True) and np.array_equal(np.signbit(a), np.signbit(b))
    )


def test_small_statistics_in_numpy_equal_the_kernels_bit_for_bit(monkeypatch):
    # Calls of up to STATS_NUMPY_CELLS cells compute return and position statistics
    # with numpy: the kernels' operations in the same order, so the same numbers to the
    # bit (NaN signs included): gaps, zeros of both signs, constant series, a loss of
    # more than 100% (negative growth: CAGR NaN), an infinite return, risk-free rates.
    from backtest import kernels

    rng = np.random.default_rng(8)
    for _ in range(300):
        t, k = int(rng.integers(0, 200)), int(rng.integers(1, 4))
        r = rng.normal(0.0003, rng.choice([0.001, 0.01, 0.3]), (t, k))
        r[rng.random((t, k)) < rng.choice([0.0, 0.2])] = np.nan
        r[rng.random((t, k)) < rng.choice([0.0, 0.3])] = 0.0
        r[rng.random((t, k)) < rng.choice([0.0, 0.1])] = -0.0
        if rng.random() < 0.1:
            r[:] = 0.001
        if t and rng.random() < 0.1:
            r[rng.integers(0, t)] = rng.choice([-1.5, np.inf])
        p = rng.choice([0.0, 1.0, -1.0, 0.5, np.nan], size=(t, k))
        rf = float(rng.choice([0.0, 1e-4, -2e-5]))
        small = kernels.return_stats(r, rf, 252.0), kernels.position_stats(r, p)
        monkeypatch.setattr(kernels, "STATS_NUMPY_CELLS", -1)
        big = kernels.return_stats(r, rf, 252.0), kernels.position_stats(r, p)
        monkeypatch.undo()
        assert _same_bits(small[0], big[0]), (t, k, rf)
        assert _same_bits(small[1], big[1]), (t, k, rf)
