"""Tests of backtest/eventstudy/stats.py.

Reference checks: every expected value is computed here, independently of the code
under test, (1) by hand from a tiny case, (2) by straightforward loops over events,
pairs and days written from the papers' formulas (Patell 1976, Boehmer et al. 1991,
Kolari & Pynnönen 2010, Corrado 1989, Cowan 1992 for the generalized sign test),
differently from the vectorised implementation, or (3) by a second library run on the
same input: scipy.stats (ttest_1samp, wilcoxon, rankdata, percentileofscore),
statsmodels ``multipletests(method="fdr_bh")``, numpy.corrcoef.  Comparisons with the
``eventstudy`` PyPI package live in ``test_stats_vs_eventstudy_pkg.py``.

Invariants (the code against itself, no expected number from outside):
``test_bootstrap_is_reproducible_with_seed`` (same seed, same answer),
``test_bmp_is_scale_invariant``, ``test_sign_flip_flips_statistics``,
``test_benjamini_hochberg_dominates_and_is_monotone`` (hypothesis properties) and
``test_kolari_pynnonen_equals_bmp_when_rbar_is_zero`` (KP reduces to BMP, an identity
of the formula).

Statistical properties (expected value from theory, checked by simulation):
``test_rejection_rate_under_iid_normal_null`` (size 5% under an exact null),
``test_bootstrap_pvalue_close_to_exact_enumeration``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.stats
from hypothesis import assume, given, settings
from hypothesis import strategies as hst
from hypothesis.extra import numpy as hnp
from statsmodels.stats.multitest import multipletests

from backtest.errors import DataValidationError
from backtest.eventstudy import stats as st

NAN = float("nan")

# A hand-made panel: 6 events, 10 estimation days, 3 window days (percent returns),
# with missing values, ties (0.3 in row 0, -0.81 in row 3) and one event (row 5)
# without any event-window return.
EST = np.array(
    [
        [0.30, 0.30, -0.27, -0.89, -0.45, -0.99, 0.06, 1.34, -0.49, -0.62],
        [0.49, 0.36, NAN, -0.93, -0.03, 0.70, -1.34, -0.46, -1.90, -1.29],
        [-1.84, -0.24, -1.27, 0.27, 0.16, -0.19, -2.52, -0.54, -0.05, 0.11],
        [-1.53, -0.48, -0.98, -0.81, 1.06, -0.81, -0.03, NAN, NAN, NAN],
        [0.11, 0.06, -1.23, 0.08, 1.36, -1.55, 0.86, 0.12, -0.64, 2.00],
        [0.25, -0.35, 0.45, 0.10, -0.20, NAN, 0.30, -0.15, 0.05, 0.40],
    ]
)
WIN = np.array(
    [
        [1.26, -0.70, 0.30],
        [1.08, 0.31, 1.18],
        [0.43, 1.17, 1.94],
        [-0.18, 0.70, 0.04],
        [0.63, NAN, -0.08],
        [NAN, NAN, NAN],
    ]
)
CAR = np.array([0.86, 2.57, 3.54, 0.56, 0.55, NAN])
SCAR = np.array([0.71, 1.93, 1.62, 0.38, 0.44, NAN])
DF = np.array([8.0, 7.0, 8.0, 5.0, 2.0, 8.0])  # event 4 has df <= 2


def close(a: float, b: float, tol: float = 1e-12) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def two_sided_t(t: float, df: int) -> float:
    return 2 * scipy.stats.t.sf(abs(t), df)


def two_sided_z(z: float) -> float:
    return 2 * scipy.stats.norm.sf(abs(z))


def loop_mean_sd(values: list[float]) -> tuple[float, float]:
    """Mean and ddof=1 standard deviation by explicit sums."""
    n = len(values)
    mean = sum(values) / n
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))


# ------------------------------------------------------------- cross-sectional t


def test_cross_sectional_t_matches_scipy_ttest_1samp():
    x = CAR[~np.isnan(CAR)]
    ref = scipy.stats.ttest_1samp(x, 0.0)  # independent software
    res = st.cross_sectional_t(CAR)
    assert res.n == 5
    assert close(res.statistic, float(ref.statistic))
    assert close(res.pvalue, float(ref.pvalue))


def test_cross_sectional_t_hand_formula():
    values = [v for v in CAR if not math.isnan(v)]
    mean, sd = loop_mean_sd(values)
    t = mean / (sd / math.sqrt(len(values)))
    res = st.cross_sectional_t(CAR)
    assert close(res.statistic, t)
    assert close(res.pvalue, two_sided_t(t, len(values) - 1))


def test_cross_sectional_t_tiny_case_by_hand():
    # mean 2, sd 1, N 3: t = 2 / (1 / sqrt 3) = 2 sqrt 3; t_2 tail: 1 - t / sqrt(t^2 + 2).
    res = st.cross_sectional_t([1.0, 2.0, 3.0])
    assert close(res.statistic, 2 * math.sqrt(3))
    assert close(res.pvalue, 1 - 2 * math.sqrt(3) / math.sqrt(14))


@pytest.mark.parametrize("car", [[], [NAN, NAN], [1.5], [NAN, 2.0]])
def test_cross_sectional_t_too_few_events_is_nan(car):
    res = st.cross_sectional_t(car)
    assert math.isnan(res.statistic) and math.isnan(res.pvalue)
    assert res.n == sum(not math.isnan(v) for v in car)


def test_cross_sectional_t_rejects_2d_input():
    with pytest.raises(DataValidationError, match="car must be 1-D"):
        st.cross_sectional_t(np.zeros((2, 3)))


# ------------------------------------------------------------------------ patell


def test_patell_hand_loop_drops_nan_and_small_df():
    num, var = 0.0, 0.0
    kept = 0
    for s, d in zip(SCAR, DF, strict=True):
        if math.isnan(s) or d <= 2:
            continue
        num += s
        var += d / (d - 2)
        kept += 1
    z = num / math.sqrt(var)
    res = st.patell(SCAR, DF)
    assert res.n == kept == 4
    assert close(res.statistic, z)
    assert close(res.pvalue, two_sided_z(z))


def test_patell_tiny_case_by_hand():
    # Two events with 4 df: variance 4/2 each, Z = 2 / sqrt(4) = 1.
    res = st.patell([1.0, 1.0], [4, 4])
    assert close(res.statistic, 1.0)
    assert close(res.pvalue, 0.31731050786291415)  # 2 * (1 - Phi(1)), tables
    assert res.n == 2


def test_patell_infinite_df_is_known_variance():
    res = st.patell([1.0, 2.0], [math.inf, math.inf])
    assert close(res.statistic, 3 / math.sqrt(2))


def test_patell_nan_df_dropped_and_empty_is_nan():
    assert st.patell([1.0, 2.0], [NAN, 10]).n == 1
    res = st.patell([1.0, 2.0], [2, 1])
    assert res.n == 0 and math.isnan(res.statistic) and math.isnan(res.pvalue)


def test_patell_length_mismatch_raises():
    with pytest.raises(DataValidationError, match="df must have one value per event"):
        st.patell([1.0, 2.0], [5.0])


# --------------------------------------------------------------------------- bmp


def test_bmp_matches_scipy_ttest_1samp():
    ref = scipy.stats.ttest_1samp(SCAR[~np.isnan(SCAR)], 0.0)
    res = st.bmp(SCAR)
    assert res.n == 5
    assert close(res.statistic, float(ref.statistic))
    assert close(res.pvalue, float(ref.pvalue))


def test_bmp_hand_formula():
    values = [v for v in SCAR if not math.isnan(v)]
    mean, sd = loop_mean_sd(values)
    assert close(st.bmp(SCAR).statistic, mean / sd * math.sqrt(len(values)))


def test_bmp_single_event_is_nan():
    res = st.bmp([0.4, NAN])
    assert math.isnan(res.statistic) and res.n == 1


# ----------------------------------------------------- mean residual correlation


def pairwise_rbar_loop(resid: np.ndarray) -> float:
    """Per-pair loop with numpy.corrcoef on the columns both events observe."""
    rs = []
    for i in range(resid.shape[0]):
        for j in range(i + 1, resid.shape[0]):
            both = ~np.isnan(resid[i]) & ~np.isnan(resid[j])
            if both.sum() < 3:
                continue
            a, b = resid[i, both], resid[j, both]
            if np.ptp(a) == 0 or np.ptp(b) == 0:
                continue
            rs.append(np.corrcoef(a, b)[0, 1])
    return float(np.mean(rs)) if rs else NAN


def test_mean_residual_correlation_complete_rows_match_corrcoef():
    x = np.nan_to_num(EST[:5], nan=0.1)
    c = np.corrcoef(x)  # independent: one correlation matrix on complete rows
    expected = c[np.triu_indices(5, k=1)].mean()
    assert close(st.mean_residual_correlation(x), expected)


def test_mean_residual_correlation_with_missing_matches_pair_loop():
    assert close(st.mean_residual_correlation(EST), pairwise_rbar_loop(EST))


def test_mean_residual_correlation_skips_pairs_with_few_common_obs():
    x = np.array(
        [
            [1.0, 2.0, 3.0, 4.0, NAN, NAN],
            [2.0, 4.0, 6.0, 8.5, NAN, NAN],
            [NAN, NAN, NAN, 1.0, 2.0, 3.0],  # overlaps rows 0, 1 on one day only
        ]
    )
    # Only pair (0, 1) is usable.
    assert close(st.mean_residual_correlation(x), np.corrcoef(x[0, :4], x[1, :4])[0, 1])


def test_mean_residual_correlation_tiny_case_by_hand():
    x = [[1, 2, 3, 4], [2, 4, 6, 8], [4, 3, 2, 1]]  # pairs: +1, -1, -1
    assert close(st.mean_residual_correlation(x), -1 / 3)


def test_mean_residual_correlation_skips_constant_rows():
    x = [[1.0, 2.0, 4.0, 3.0], [0.7, 0.7, 0.7, 0.7], [1.0, 2.5, 2.0, 4.0]]
    expected = np.corrcoef(x[0], x[2])[0, 1]
    assert close(st.mean_residual_correlation(x), expected)


@pytest.mark.parametrize(
    "resid", [np.zeros((1, 5)), np.full((3, 4), NAN), [[1.0, 2.0, NAN], [2.0, 1.0, NAN]]]
)
def test_mean_residual_correlation_no_pair_is_nan(resid):
    assert math.isnan(st.mean_residual_correlation(resid))


def test_mean_residual_correlation_rejects_1d():
    with pytest.raises(DataValidationError, match="resid must be 2-D"):
        st.mean_residual_correlation([1.0, 2.0, 3.0])


# ---------------------------------------------------------------- kolari-pynnönen


def test_kolari_pynnonen_hand_formula_uses_only_tested_events():
    resid = EST.copy()
    resid[5] = resid[0] * 2 + 0.01  # event 5 (NaN SCAR) would add r = 1 if used
    keep = ~np.isnan(SCAR)
    n = int(keep.sum())
    t_bmp = float(scipy.stats.ttest_1samp(SCAR[keep], 0.0).statistic)
    rbar = pairwise_rbar_loop(resid[keep])
    t = t_bmp * math.sqrt((1 - rbar) / (1 + (n - 1) * rbar))
    res = st.kolari_pynnonen(SCAR, resid)
    assert res.n == n
    assert close(res.statistic, t)
    assert close(res.pvalue, two_sided_t(t, n - 1))


def test_kolari_pynnonen_orthogonal_rows_equal_bmp_by_hand():
    resid = [[1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]]  # r = 0 for every pair
    res = st.kolari_pynnonen([0.5, 1.0, 1.5], resid)
    assert close(res.statistic, 2 * math.sqrt(3))  # mean 1, sd 0.5, N 3


def test_kolari_pynnonen_undefined_adjustment_is_nan():
    # Two events with r = -1: 1 + (N - 1) rbar = 0, the adjustment is undefined.
    res = st.kolari_pynnonen([0.5, 1.5], [[1, 2, 3], [3, 2, 1]])
    assert math.isnan(res.statistic) and math.isnan(res.pvalue) and res.n == 2


def test_kolari_pynnonen_no_usable_pair_is_nan():
    res = st.kolari_pynnonen([0.5, 1.5], [[1, 2, NAN], [3, 2, NAN]])
    assert math.isnan(res.statistic) and res.n == 2


def test_kolari_pynnonen_row_mismatch_raises():
    with pytest.raises(DataValidationError, match="one row per event"):
        st.kolari_pynnonen([1.0, 2.0], np.zeros((3, 5)))


# ------------------------------------------------------------------------ corrado


def average_rank(values: list[float], v: float) -> float:
    """Rank of v among values by counting: #less + (#equal + 1) / 2."""
    less = sum(1 for u in values if u < v)
    equal = sum(1 for u in values if u == v)
    return less + (equal + 1) / 2


def corrado_loop(est: np.ndarray, win: np.ndarray) -> float:
    n_est, n_win = est.shape[1], win.shape[1]
    u_by_day: list[list[float]] = [[] for _ in range(n_est + n_win)]
    for i in range(est.shape[0]):
        row = list(est[i]) + list(win[i])
        if all(math.isnan(v) for v in win[i]):
            continue
        observed = [v for v in row if not math.isnan(v)]
        for t, v in enumerate(row):
            if not math.isnan(v):
                u_by_day[t].append(average_rank(observed, v) / (len(observed) + 1) - 0.5)
    ubar = [sum(u) / len(u) if u else None for u in u_by_day]
    defined = [u for u in ubar if u is not None]
    s_u = math.sqrt(sum(u * u for u in defined) / len(defined))
    window = [u for u in ubar[n_est:] if u is not None]
    return sum(window) / (math.sqrt(len(window)) * s_u)


def test_corrado_matches_explicit_rank_loop():
    z = corrado_loop(EST, WIN)
    res = st.corrado(EST, WIN)
    assert res.n == 5  # event 5 has no window return
    assert close(res.statistic, z)
    assert close(res.pvalue, two_sided_z(z))


def test_corrado_ranks_agree_with_scipy_rankdata_loop():
    # Second check of the ranking convention: scipy.stats.rankdata per event.
    u_rows = []
    for i in range(5):
        row = np.concatenate([EST[i], WIN[i]])
        ok = ~np.isnan(row)
        u = np.full(row.shape, NAN)
        u[ok] = scipy.stats.rankdata(row[ok]) / (ok.sum() + 1) - 0.5
        u_rows.append(u)
    u = np.array(u_rows)
    ubar = np.array([np.mean(col[~np.isnan(col)]) for col in u.T])
    t = ubar[10:].sum() / (math.sqrt(3) * math.sqrt(np.mean(ubar**2)))
    assert close(st.corrado(EST, WIN).statistic, t)


def test_corrado_tiny_case_by_hand():
    # U = rank/5 - 1/2: event 1 (-.3, -.1, .1 | .3), event 2 (-.1, -.3, .1 | .3);
    # Ubar = (-.2, -.2, .1 | .3); S_U = sqrt(0.18 / 4); T = 0.3 / S_U = sqrt 2.
    res = st.corrado([[1, 2, 3], [2, 1, 3]], [[4], [4]])
    assert close(res.statistic, math.sqrt(2))
    assert res.n == 2


def test_corrado_no_window_data_is_nan():
    res = st.corrado(EST[:2], np.full((2, 3), NAN))
    assert res.n == 0 and math.isnan(res.statistic)


def test_corrado_row_mismatch_raises():
    with pytest.raises(DataValidationError, match="ar_win must have one row per event"):
        st.corrado(EST, WIN[:3])


# ---------------------------------------------------------------- generalized sign


def test_generalized_sign_explicit_counting():
    fractions, wins, n = [], 0, 0
    for i in range(len(CAR)):
        if math.isnan(CAR[i]):
            continue
        observed = [v for v in EST[i] if not math.isnan(v)]
        positives = 0
        for v in observed:
            if v > 0:
                positives += 1
        fractions.append(positives / len(observed))
        wins += 1 if CAR[i] > 0 else 0
        n += 1
    p = sum(fractions) / n
    z = (wins - n * p) / math.sqrt(n * p * (1 - p))
    res = st.generalized_sign(CAR, EST)
    assert res.n == n == 5
    assert close(res.statistic, z)
    assert close(res.pvalue, two_sided_z(z))


def test_generalized_sign_tiny_case_by_hand():
    # p = 1/2, w = 3 of 4: Z = (3 - 2) / sqrt(4 * 1/4) = 1.
    res = st.generalized_sign([1, 2, -1, 3], [[1, -1]] * 4)
    assert close(res.statistic, 1.0)


def test_generalized_sign_drops_events_without_estimation_data():
    est = [[1, -1], [NAN, NAN], [1, -1]]
    res = st.generalized_sign([1.0, -5.0, 2.0], est)
    assert res.n == 2
    assert close(res.statistic, (2 - 1) / math.sqrt(2 * 0.25))


def test_generalized_sign_degenerate_p_is_nan():
    res = st.generalized_sign([1.0, 2.0], [[1.0, 2.0], [3.0, 4.0]])  # p = 1
    assert math.isnan(res.statistic) and res.n == 2


# ----------------------------------------------------------------------- wilcoxon


def exact_two_sided_signed_rank_p(x: list[float]) -> float:
    """Enumerate all 2^n sign patterns (no ties, no zeros)."""
    n = len(x)
    ranks = {abs(v): r for r, v in enumerate(sorted(x, key=abs), start=1)}
    w = sum(ranks[abs(v)] for v in x if v > 0)
    centre = n * (n + 1) / 4
    extreme = 0
    for signs in itertools.product([0, 1], repeat=n):
        w_star = sum(r * s for r, s in zip(range(1, n + 1), signs, strict=True))
        extreme += abs(w_star - centre) >= abs(w - centre)
    return extreme / 2**n


def test_wilcoxon_w_plus_and_scipy_pvalue():
    x = np.array([0.86, -2.57, 3.54, 0.0, -0.56, 1.55, 0.55, NAN, 2.2])
    values = [v for v in x if not math.isnan(v) and v != 0]
    w_plus = sum(average_rank([abs(u) for u in values], abs(v)) for v in values if v > 0)
    ref = scipy.stats.wilcoxon(x[~np.isnan(x)], zero_method="wilcox")
    res = st.wilcoxon(x)
    assert res.n == 7
    assert close(res.statistic, w_plus)
    assert close(res.pvalue, float(ref.pvalue))


def test_wilcoxon_exact_pvalue_by_enumeration():
    x = [0.86, -2.57, 3.54, -0.56, 1.55, 0.55]
    res = st.wilcoxon(x)
    assert close(res.statistic, 1 + 3 + 4 + 6)  # ranks of .55, .86, 1.55, 3.54
    assert close(res.pvalue, exact_two_sided_signed_rank_p(x))


def test_wilcoxon_tiny_case_by_hand():
    res = st.wilcoxon([1.0, -2.0, 3.0, 4.0, 0.0])
    assert res.statistic == 8.0 and res.n == 4
    assert close(res.pvalue, 6 / 16)  # W+ in {8, 9, 10} or {0, 1, 2}


def test_wilcoxon_ties_get_average_ranks():
    # |x| = 1, 1, 2, 3 -> ranks 1.5, 1.5, 3, 4; W+ = 1.5 + 4.
    assert st.wilcoxon([1.0, -1.0, -2.0, 3.0]).statistic == 5.5


def test_wilcoxon_all_zero_or_nan_is_nan():
    res = st.wilcoxon([0.0, NAN, 0.0])
    assert res.n == 0 and math.isnan(res.statistic) and math.isnan(res.pvalue)


# ---------------------------------------------------------------------- portfolio


def test_portfolio_explicit_day_loops():
    keep = [i for i in range(6) if any(not math.isnan(v) for v in WIN[i])]

    def day_mean(column: np.ndarray) -> float | None:
        vals = [column[i] for i in keep if not math.isnan(column[i])]
        return sum(vals) / len(vals) if vals else None

    p_est = [m for m in (day_mean(EST[:, t]) for t in range(10)) if m is not None]
    p_win = [m for m in (day_mean(WIN[:, t]) for t in range(3)) if m is not None]
    _, sd = loop_mean_sd(p_est)
    t = sum(p_win) / (sd * math.sqrt(len(p_win)))
    res = st.portfolio(EST, WIN)
    assert res.n == 5
    assert close(res.statistic, t)
    assert close(res.pvalue, two_sided_t(t, len(p_est) - 1))


def test_portfolio_tiny_case_by_hand():
    # p_t = 1, -1, 1, -1 (sd sqrt(4/3)); window p = 2; T = 2 / sqrt(4/3) = sqrt 3, 3 df.
    res = st.portfolio([[1, -1, 1, -1], [1, -1, 1, -1]], [[2], [2]])
    assert close(res.statistic, math.sqrt(3))
    assert close(res.pvalue, two_sided_t(math.sqrt(3), 3))


def test_portfolio_absorbs_a_common_shock():
    # Events share a common daily shock (strong cross-correlation); the statistic is
    # the one of the equally weighted portfolio series alone, complete-panel case.
    rng = np.random.default_rng(3)
    common = rng.normal(size=13)
    sar = rng.normal(size=(8, 13)) * 0.1 + common
    p = sar.mean(axis=0)
    t = p[10:].sum() / (p[:10].std(ddof=1) * math.sqrt(3))
    assert close(st.portfolio(sar[:, :10], sar[:, 10:]).statistic, t)


def test_portfolio_too_few_estimation_days_is_nan():
    res = st.portfolio([[1.0, NAN], [2.0, NAN]], [[1.0], [2.0]])
    assert math.isnan(res.statistic) and res.n == 2


# ---------------------------------------------------------------------- bootstrap


def test_bootstrap_constant_residuals_never_exceed():
    res = st.bootstrap_caar(np.full((3, 10), 0.01), [0.05, 0.04, 0.06], 3, draws=999)
    assert close(res.statistic, 0.05)
    assert close(res.pvalue, 1 / 1000)
    assert res.n == 3


def test_bootstrap_constant_residuals_always_exceed():
    # Pseudo CAR 3 x 0.01 = 0.03 >= |CAAR| = 0.02 in every draw: p = 1.
    res = st.bootstrap_caar(np.full((3, 6), 0.01), [0.02, -0.06, NAN], 3, draws=50)
    assert res.n == 2 and close(res.statistic, -0.02) and res.pvalue == 1.0


def test_bootstrap_pvalue_close_to_exact_enumeration():
    # Two events, L = 4, n_days = 3: offsets in {0, 1} each, four equally likely
    # pseudo CAARs; the exact tail probability is enumerated here.
    resid = np.array([[0.5, -1.0, 2.0, 0.25], [1.0, 0.0, -3.0, 1.5]])
    car = np.array([0.3, 0.1])  # |CAAR| = 0.2: two of the four exceed
    caar = car.mean()
    hits = 0
    for o1, o2 in itertools.product([0, 1], repeat=2):
        pseudo = (resid[0, o1 : o1 + 3].sum() + resid[1, o2 : o2 + 3].sum()) / 2
        hits += abs(pseudo) >= abs(caar)
    exact = hits / 4
    res = st.bootstrap_caar(resid, car, 3, draws=20000, seed=1)
    assert 0 < exact < 1
    assert abs(res.pvalue - exact) < 0.015  # binomial sd ~ 0.003


def test_bootstrap_clusters_share_offsets():
    # Row 1 = -row 0: with a shared offset the pseudo CAAR is exactly 0 < |CAAR|.
    r = np.array([0.3, -1.2, 0.8, 2.0, -0.4, 1.1, -0.7, 0.5])
    resid = np.vstack([r, -r])
    car = [1e-9, 1e-9]
    shared = st.bootstrap_caar(resid, car, 2, clusters=[7, 7], draws=499)
    assert close(shared.pvalue, 1 / 500)
    independent = st.bootstrap_caar(resid, car, 2, clusters=[1, 2], draws=499)
    assert independent.pvalue > 0.5


def test_bootstrap_missing_residuals_are_skipped():
    # Event 1 has no residuals: its pseudo CAR is always NaN, so CAAR* = event 0's.
    resid = np.vstack([np.full(5, 0.1), np.full(5, NAN)])
    res = st.bootstrap_caar(resid, [0.25, 0.25], 2, draws=99)  # pseudo 0.2 < 0.25
    assert close(res.pvalue, 1 / 100)


def test_bootstrap_is_reproducible_with_seed():
    # Invariant (same seed, same result); the statistic itself is the plain mean of CAR.
    a = st.bootstrap_caar(EST, CAR, 3, draws=300, seed=5)
    b = st.bootstrap_caar(EST, CAR, 3, draws=300, seed=5)
    assert a == b
    assert close(a.statistic, float(np.mean(CAR[:5])))


@pytest.mark.parametrize("n_days", [0, 11, 2.5])
def test_bootstrap_bad_n_days_raises(n_days):
    with pytest.raises(DataValidationError, match="n_days"):
        st.bootstrap_caar(EST, CAR, n_days)


def test_bootstrap_bad_clusters_raises():
    with pytest.raises(DataValidationError, match="clusters must have one label per event"):
        st.bootstrap_caar(EST, CAR, 3, clusters=[1, 2])


# -------------------------------------------------------- empirical p and percentile


def test_empirical_pvalue_by_counting():
    history = [-3.0, -1.0, 0.0, 1.0, 2.0, 3.0, NAN]
    assert close(st.empirical_pvalue(2.5, history), 3 / 7)  # |-3|, |3| >= 2.5
    assert close(st.empirical_pvalue(-1.0, history), 6 / 7)
    assert close(st.empirical_pvalue(10.0, history), 1 / 7)


def test_empirical_pvalue_nan_cases():
    assert math.isnan(st.empirical_pvalue(NAN, [1.0, 2.0]))
    assert math.isnan(st.empirical_pvalue(1.0, [NAN]))


def test_percentile_rank_matches_scipy_weak():
    history = [-3.0, -1.0, 0.0, 1.0, 1.0, 2.0, 3.0]
    for v in (-4.0, -1.0, 1.0, 2.5, 3.0):
        ref = scipy.stats.percentileofscore(history, v, kind="weak")
        assert close(st.percentile_rank(v, [*history, NAN]), float(ref))
    assert close(st.percentile_rank(1.0, history), 100 * 5 / 7)
    assert math.isnan(st.percentile_rank(1.0, []))


# ----------------------------------------------------------------- BH adjustment


def test_benjamini_hochberg_matches_statsmodels():
    p = np.array([0.01, 0.04, 0.03, NAN, 0.2, 0.001, 0.04, 0.9, NAN])
    ok = ~np.isnan(p)
    ref = multipletests(p[ok], method="fdr_bh")[1]
    out = st.benjamini_hochberg(p)
    assert np.isnan(out[~ok]).all()
    np.testing.assert_allclose(out[ok], ref, rtol=1e-12)


def test_benjamini_hochberg_tiny_case_by_hand():
    # sorted .01, .03, .04 -> x 3/k: .03, .045, .04 -> step-up min: .03, .04, .04.
    out = st.benjamini_hochberg([0.01, 0.04, 0.03, NAN])
    np.testing.assert_allclose(out[:3], [0.03, 0.04, 0.04], rtol=1e-12)
    assert math.isnan(out[3])


def test_benjamini_hochberg_empty_and_invalid():
    assert st.benjamini_hochberg([NAN, NAN]).shape == (2,)
    with pytest.raises(DataValidationError, match=r"pvalues must lie in \[0, 1\]"):
        st.benjamini_hochberg([0.5, 1.2])


# ------------------------------------------- invariants (hypothesis properties)

finite = hst.floats(-10, 10, allow_nan=False, allow_infinity=False)


@settings(max_examples=150, deadline=None)
@given(
    x=hnp.arrays(np.float64, hst.integers(3, 30), elements=finite),
    c=hst.floats(1e-3, 1e3),
)
def test_bmp_is_scale_invariant(x, c):
    assume(np.std(x) > 1e-6 * (1 + np.abs(x).max()))
    a, b = st.bmp(x), st.bmp(c * x)
    assert math.isclose(a.statistic, b.statistic, rel_tol=1e-8, abs_tol=1e-10)
    assert math.isclose(a.pvalue, b.pvalue, rel_tol=1e-7, abs_tol=1e-12)


@settings(max_examples=100, deadline=None)
@given(
    n=hst.integers(2, 12),
    extra=hst.integers(1, 10),
    seed=hst.integers(0, 2**32 - 1),
    scar=hnp.arrays(np.float64, 12, elements=finite),
)
def test_kolari_pynnonen_equals_bmp_when_rbar_is_zero(n, extra, seed, scar):
    scar = scar[:n]
    assume(np.std(scar) > 1e-6 * (1 + np.abs(scar).max()))
    length = n + 1 + extra
    # Rows orthogonal to each other and to the constant: zero pairwise correlation.
    a = np.random.default_rng(seed).normal(size=(length, n + 1))
    a[:, 0] = 1.0
    q, _ = np.linalg.qr(a)
    resid = q[:, 1:].T
    assert abs(pairwise_rbar_loop(resid)) < 1e-10
    kp, b = st.kolari_pynnonen(scar, resid), st.bmp(scar)
    assert math.isclose(kp.statistic, b.statistic, rel_tol=1e-8, abs_tol=1e-10)


@settings(max_examples=150, deadline=None)
@given(
    p=hnp.arrays(
        np.float64,
        hst.integers(1, 40),
        elements=hst.one_of(hst.floats(0, 1), hst.just(NAN)),
    )
)
def test_benjamini_hochberg_dominates_and_is_monotone(p):
    out = st.benjamini_hochberg(p)
    ok = ~np.isnan(p)
    assert (np.isnan(out) == ~ok).all()
    assert (out[ok] >= p[ok] - 1e-15).all() and (out[ok] <= 1).all()
    order = np.argsort(p[ok], kind="stable")
    assert (np.diff(out[ok][order]) >= -1e-15).all()


panel = hnp.arrays(
    np.float64,
    hst.tuples(hst.integers(2, 8), hst.integers(4, 12)),
    elements=hst.one_of(finite, hst.just(NAN)),
)


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@settings(max_examples=150, deadline=None)
@given(a=panel, n_win=hst.integers(1, 3))
def test_sign_flip_flips_statistics(a, n_win):
    est, win = a[:, :-n_win], a[:, -n_win:]
    car = np.nansum(win, axis=1)
    df = np.full(a.shape[0], 8.0)
    for f, args, neg in [
        (st.cross_sectional_t, (car,), (-car,)),
        (st.bmp, (car,), (-car,)),
        (st.patell, (car, df), (-car, df)),
        (st.corrado, (est, win), (-est, -win)),
        (st.portfolio, (est, win), (-est, -win)),
    ]:
        r, s = f(*args), f(*neg)
        assert same(s.statistic, -r.statistic), f.__name__
        assert same(s.pvalue, r.pvalue), f.__name__
        assert s.n == r.n


# ------------------------------------------------- size under the null (theory)


def test_rejection_rate_under_iid_normal_null():
    # Reference: theory. Under an exact null a 5% test rejects 5% of the time; 400
    # replications give a binomial sd of ~1.1 percentage points, hence 2%..9%.
    n_events, length, n_win, reps = 30, 60, 3, 400
    rejected = {"bmp": 0, "patell": 0, "cross_sectional_t": 0}
    for seed in range(reps):
        rng = np.random.default_rng(seed)
        sigma = rng.uniform(0.5, 3.0, size=(n_events, 1))  # heteroscedastic events
        est = rng.normal(size=(n_events, length)) * sigma
        win = rng.normal(size=(n_events, n_win)) * sigma
        car = win.sum(axis=1)
        # Known zero mean: sigma-hat^2 = sum e^2 / L has L df and SCAR ~ t_L exactly.
        sigma_hat = np.sqrt((est**2).mean(axis=1))
        scar = car / (sigma_hat * math.sqrt(n_win))
        df = np.full(n_events, float(length))
        rejected["bmp"] += st.bmp(scar).pvalue < 0.05
        rejected["patell"] += st.patell(scar, df).pvalue < 0.05
        rejected["cross_sectional_t"] += st.cross_sectional_t(car).pvalue < 0.05
    for name, count in rejected.items():
        assert 0.02 <= count / reps <= 0.09, (name, count / reps)


def test_corrado_all_ties_is_undefined_not_noise():
    # Found by hypothesis: every mean rank is 1/2 up to rounding, so S_U and the sum
    # are both ~1e-17 and their ratio was floating-point noise (1.118 for x and -x).
    a = np.array([[-1.0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [1, 0, 0, 0, 0]])
    res = st.corrado(a[:, :4], a[:, 4:])
    assert np.isnan(res.statistic) and np.isnan(res.pvalue)


@pytest.mark.parametrize("seed", range(8))
def test_bootstrap_matches_a_draw_by_draw_loop(seed):
    """The p-value equals a plain loop over draws and events (same offsets, same sums).

    The reference draws the offsets as documented (one start per cluster and draw, from
    ``numpy.random.default_rng(seed)``) and sums each pseudo window day by day.
    """
    rng = np.random.default_rng(100 + seed)
    n_ev, length = int(rng.integers(2, 9)), int(rng.integers(6, 40))
    resid = rng.normal(size=(n_ev, length))
    resid[rng.random(resid.shape) < 0.15] = NAN
    car = rng.normal(size=n_ev) * 0.5
    car[0] = NAN if seed % 3 == 0 else car[0]
    n_days = int(rng.integers(1, length + 1))
    clusters = rng.integers(0, 3, size=n_ev) if seed % 2 else None
    draws = 199
    res = st.bootstrap_caar(resid, car, n_days, draws=draws, seed=seed, clusters=clusters)

    keep = [i for i in range(n_ev) if not np.isnan(car[i])]
    labels = list(range(len(keep))) if clusters is None else [clusters[i] for i in keep]
    _, group = np.unique(labels, return_inverse=True)
    draw_rng = np.random.default_rng(seed)
    starts = draw_rng.integers(0, length - n_days + 1, size=(draws, int(group.max()) + 1))
    caar = sum(car[i] for i in keep) / len(keep)
    exceed = valid = 0
    for d in range(draws):
        pseudo = []
        for k, i in enumerate(keep):
            total, seen = 0.0, 0
            for j in range(n_days):
                v = resid[i, starts[d, group[k]] + j]
                if not np.isnan(v):
                    total += v
                    seen += 1
            if seen:
                pseudo.append(total)
        if pseudo:
            valid += 1
            exceed += abs(sum(pseudo) / len(pseudo)) >= abs(caar)
    assert res.n == len(keep)
    assert res.statistic == pytest.approx(caar, rel=1e-12)
    assert res.pvalue == pytest.approx((1 + exceed) / (1 + valid), rel=1e-12)
