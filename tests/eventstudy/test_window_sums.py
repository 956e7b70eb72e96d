"""models.window_sums: the estimation-window sums the event study's OLS solves.

Checked against sums computed directly here (plain numpy sums of the products over each
window's usable days), and against differencing moments() (the prefix-sum form it
replaces in the study), for every block size.
"""

from __future__ import annotations

import numpy as np
import pytest

from backtest.eventstudy.models import moments, window_sums


@pytest.mark.parametrize(("n_planes", "constant"), [(0, False), (0, True), (1, True), (2, False)])
def test_window_sums_equal_direct_sums_over_usable_days(n_planes, constant):
    rng = np.random.default_rng(5)
    S, T, E = 7, 120, 6
    target = rng.normal(size=(S, T))
    target[rng.random((S, T)) < 0.1] = np.nan
    planes = rng.normal(size=(n_planes, S, T))
    planes[rng.random(planes.shape) < 0.05] = np.nan
    start = rng.integers(0, 60, size=(E, S))
    stop = start + rng.integers(0, 60, size=(E, S))
    got = window_sums(target, planes, constant, start, stop, block=3)
    for e in range(E):
        for s in range(S):
            days = slice(start[e, s], stop[e, s])
            y, xs = target[s, days], [p[s, days] for p in planes]
            ok = np.isfinite(y) & np.all([np.isfinite(x) for x in xs], axis=0)
            cols = ([np.ones(ok.sum())] if constant else []) + [x[ok] for x in xs]
            want = [ok.sum()]
            want += [np.sum(cols[i] * cols[j]) for i in range(len(cols)) for j in range(i + 1)]
            want += [np.sum(c * y[ok]) for c in cols] + [np.sum(y[ok] ** 2)]
            np.testing.assert_allclose(got[e, s], want, rtol=1e-9, atol=1e-9)
    prefix = moments(target, planes, constant)
    s_idx = np.arange(S)[None, :]
    diff = np.moveaxis(prefix[:, s_idx, stop] - prefix[:, s_idx, start], 0, -1)
    for block in (1, 2, 7, 50):
        assert np.array_equal(window_sums(target, planes, constant, start, stop, block=block), diff)


@pytest.mark.parametrize(("n_planes", "constant"), [(0, True), (1, True), (2, False), (2, True)])
def test_window_sums_of_series_sharing_regressors_equal_moments_bit_for_bit(n_planes, constant):
    # Series on one calendar with one market share their regressor sums, which are
    # computed once; every number must still be the prefix-sum difference, to the bit
    # (a -0.0 regressor, own missing days and own regressors make rows distinct, and
    # more distinct rows than comparison rounds are left to themselves).
    rng = np.random.default_rng(11)
    S, T, E = 14, 150, 5
    shared = rng.normal(size=(n_planes, 1, T))
    shared[rng.random(shared.shape) < 0.05] = np.nan
    if n_planes:
        shared[0, 0, 7] = 0.0
    planes = np.repeat(shared, S, axis=1)
    target = rng.normal(size=(S, T))
    target[:, 0] = np.nan
    target[1, 20:30] = np.nan  # own unusable days
    if n_planes:
        planes[0, 2, 7] = -0.0  # equal to the shared 0.0, not the same bits
        planes[:, 3] = rng.normal(size=(n_planes, T))  # own market
        planes[:, 4:13] = rng.normal(size=(n_planes, 9, T))  # more rows than the rounds
    start = rng.integers(0, 70, size=(E, S))
    stop = start + rng.integers(0, 80, size=(E, S))
    prefix = moments(target, planes, constant)
    s_idx = np.arange(S)[None, :]
    want = np.moveaxis(prefix[:, s_idx, stop] - prefix[:, s_idx, start], 0, -1)
    for block in (1, 3, 8, 50):
        got = window_sums(target, planes, constant, start, stop, block=block)
        assert np.array_equal(got.view(np.uint64), want.view(np.uint64))
