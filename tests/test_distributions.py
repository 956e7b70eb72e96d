"""backtest.distributions and the scipy-free Wilcoxon p-value against scipy.stats itself.

The library calls :mod:`scipy.special` directly so that runs need not import
:mod:`scipy.stats` (two seconds); these tests hold every replacement to the scipy.stats
function it stands for, on grids of inputs with the edge cases (support bounds,
infinities, NaN, invalid parameters). Expected values come from scipy.stats only.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from backtest import distributions as dist
from backtest.eventstudy import stats as st

X = np.array(
    [-np.inf, -40.0, -3.5, -1.96, -1.0, -1e-9, -0.0, 0.0, 1e-300, 1e-9, 0.3, 1.0,
     1.96, 2.5, 7.0, 40.0, 1e6, np.inf, np.nan]
)  # fmt: skip
DF = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, 3.0, 4.5, 10.0, 28.0, 250.0, 1e6, np.inf, np.nan])
Q = np.array(
    [-0.1, 0.0, 1e-300, 1e-12, 0.001, 0.025, 0.3, 0.5, 0.7, 0.975, 0.999, 1 - 1e-12,
     1.0, 1.1, np.nan]
)  # fmt: skip


def _same(got: object, want: object) -> None:
    """Equal floats (NaN where NaN), shape and scalar-ness included."""
    g, w = np.asarray(got), np.asarray(want)
    assert g.shape == w.shape
    assert np.isscalar(got) == np.isscalar(want) or g.ndim == 0
    np.testing.assert_array_equal(g, w)  # exact: the same special functions


def test_t_sf_matches_scipy() -> None:
    x, df = np.meshgrid(X, DF)
    _same(dist.t_sf(x, df), stats.t.sf(x, df))
    for a, b in itertools.product(X, DF):
        _same(dist.t_sf(a, b), stats.t.sf(a, b))


def test_t_ppf_matches_scipy() -> None:
    q, df = np.meshgrid(Q, DF)
    _same(dist.t_ppf(q, df), stats.t.ppf(q, df))
    _same(dist.t_ppf(0.975, 28), stats.t.ppf(0.975, 28))


def test_normal_functions_match_scipy() -> None:
    _same(dist.norm_cdf(X), stats.norm.cdf(X))
    _same(dist.norm_sf(X), stats.norm.sf(X))
    _same(dist.norm_ppf(Q), stats.norm.ppf(Q))
    for x in X:
        _same(dist.norm_sf(x), stats.norm.sf(x))
        _same(dist.norm_cdf(x), stats.norm.cdf(x))
    for q in Q:
        _same(dist.norm_ppf(q), stats.norm.ppf(q))


@pytest.mark.parametrize("fn", ["cdf", "sf"])
def test_chi2_matches_scipy(fn: str) -> None:
    x, df = np.meshgrid(X, DF)
    _same(getattr(dist, f"chi2_{fn}")(x, df), getattr(stats.chi2, fn)(x, df))


@pytest.mark.parametrize("fn", ["cdf", "sf"])
def test_f_matches_scipy(fn: str) -> None:
    grid = np.array(list(itertools.product(X, DF, DF))).T
    x, dfn, dfd = grid
    _same(getattr(dist, f"f_{fn}")(x, dfn, dfd), getattr(stats.f, fn)(x, dfn, dfd))


def test_average_ranks_match_scipy_rankdata() -> None:
    rng = np.random.default_rng(16)
    a = rng.integers(0, 6, size=(40, 25)).astype(float)  # many ties
    a[rng.random(a.shape) < 0.2] = np.nan
    a[3] = np.nan  # a row of NaN only
    a[4, :] = 2.0  # one tie over the row
    a[5, 0] = -0.0
    a[5, 1] = 0.0
    _same(dist.average_ranks(a), stats.rankdata(a, axis=1, nan_policy="omit"))
    b = rng.normal(size=31)
    _same(dist.average_ranks(b), stats.rankdata(b))
    _same(
        dist.average_ranks(np.abs(a[0][~np.isnan(a[0])])),
        stats.rankdata(np.abs(a[0][~np.isnan(a[0])])),
    )


@pytest.mark.parametrize("seed", range(6))
def test_skew_and_kurtosis_match_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for size in (2, 3, 7, 252, 2520):
        x = rng.standard_t(4, size=size) * 0.01 + 1e-4 * seed
        assert dist.skew(x) == float(stats.skew(x, bias=True))
        assert dist.kurtosis(x) == float(stats.kurtosis(x, fisher=False, bias=True))
    const = np.full(10, 0.25)
    with pytest.warns(RuntimeWarning, match="Precision loss"):  # scipy's; ours is silent
        assert np.isnan(float(stats.skew(const)))
    assert np.isnan(dist.skew(const))
    assert np.isnan(dist.kurtosis(const))


def _wilcoxon_samples() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    out = []
    for size in (1, 2, 5, 10, 13, 14, 20, 29, 50, 51, 80):
        out.append(rng.normal(0.2, 1.0, size))  # no ties: exact up to 50
        tied = np.round(rng.normal(0.0, 1.5, size), 0)  # ties and zeros
        out.append(tied)
        out.append(np.abs(tied) + 1.0)  # ties, no zeros, all positive
        with_zero = rng.normal(0.0, 1.0, size)
        with_zero[0] = 0.0
        out.append(with_zero)
    out.append(np.array([1.0, -2.0, 3.0, 4.0, 0.0]))
    out.append(np.array([-0.23, -0.23, -1.53, 0.70, 1.31, 1.31, -2.74, -2.74] * 4))
    return out


@pytest.mark.parametrize("sample", _wilcoxon_samples(), ids=lambda s: f"n{s.size}")
def test_wilcoxon_pvalue_matches_scipy(sample: np.ndarray) -> None:
    res = st.wilcoxon(sample)
    nonzero = sample[sample != 0]
    if nonzero.size == 0:
        assert np.isnan(res.pvalue)
        return
    want = stats.wilcoxon(sample, zero_method="wilcox", alternative="two-sided").pvalue
    assert res.pvalue == float(want)
    # W+ by hand: ranks of |x| among the non-zero values, ties averaged
    ranks = stats.rankdata(np.abs(nonzero))
    assert res.statistic == float(ranks[nonzero > 0].sum())
