"""panel.event_window: the event-window arrays of every (event, series) pair.

Checked against a plain Python loop over pairs and days written here (the definition:
the day's change, the offset, the regressors, normal = offset + x'beta, forecast-error
variance sigma2 (1 + x'(X'X)^-1 x), NaN/NaT outside the series' observations), with the
same floating-point operations in the same order, so the numbers must agree bit for bit,
including windows that run before a series' first or past its last observation.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from backtest.eventstudy.panel import (
    _Windows,
    event_window,
    take,
    window_index,
    window_regressors,
)

NAT = np.datetime64("NaT", "ns")


def reference(y2, off2, X2, dates2, lengths, day0, rel, constant, beta, xtx_inv, sigma2):
    E, S = day0.shape
    W, F = len(rel), X2.shape[0]
    k = F + int(constant)
    offset = off2 is not None and bool(off2.any())
    out = {n: np.empty((E, S, W)) for n in ("actual", "normal", "abnormal", "var_ar")}
    dates = np.empty((E, S, W), dtype="datetime64[ns]")
    x_win = np.empty((E, S, W, k))
    for e in range(E):
        for s in range(S):
            for w in range(W):
                pos = int(day0[e, s] + rel[w])
                inside = 0 <= pos < lengths[s]
                y = float(y2[s, pos]) if inside else math.nan
                if offset:
                    off = float(off2[s, pos]) if inside else math.nan
                else:
                    off = 0.0 if inside else math.nan
                gap = math.isnan(off)
                x = ([math.nan if gap else 1.0] if constant else []) + [
                    math.nan if gap or not inside else float(X2[f, s, pos]) for f in range(F)
                ]
                normal = off
                for i in range(k):
                    normal = normal + x[i] * float(beta[e, s, i])
                lev = 0.0
                for i in range(k):
                    for j in range(k):
                        lev = lev + (x[i] * float(xtx_inv[e, s, i, j])) * x[j]
                out["actual"][e, s, w] = y
                out["normal"][e, s, w] = normal
                out["abnormal"][e, s, w] = y - normal
                out["var_ar"][e, s, w] = float(sigma2[e, s]) * (lev + 1.0)
                dates[e, s, w] = dates2[s, pos] if inside else NAT
                x_win[e, s, w] = x
    return out["actual"], out["normal"], out["abnormal"], out["var_ar"], dates, x_win


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind == "f":  # NaN payloads aside (the loop's NaN is Python's)
        return bool(
            np.array_equal(np.isnan(a), np.isnan(b))
            and np.array_equal(a[~np.isnan(a)].view(np.uint64), b[~np.isnan(b)].view(np.uint64))
        )
    return a.tobytes() == b.tobytes()


@pytest.mark.parametrize(
    ("F", "constant", "with_offset"),
    [(1, True, False), (0, True, False), (0, False, True), (2, True, False), (0, False, False)],
)
def test_event_window_equals_the_definition_bit_for_bit(F, constant, with_offset):
    rng = np.random.default_rng(17 + F)
    S, T, E = 5, 40, 7
    lengths = np.array([40, 31, 40, 12, 3])
    y2 = rng.normal(size=(S, T))
    y2[rng.random((S, T)) < 0.1] = np.nan
    y2[1, 5] = -0.0
    X2 = rng.normal(size=(F, S, T))
    X2[rng.random(X2.shape) < 0.1] = np.nan
    off2 = None
    if with_offset:
        off2 = rng.normal(size=(S, T))
        off2[rng.random((S, T)) < 0.1] = np.nan
    for s, n in enumerate(lengths):  # padding past each series' data, as the study has
        y2[s, n:] = np.nan
        X2[:, s, n:] = 0.0  # not NaN: must not leak into the windows
    # two calendars; the dates of each series are its calendar's
    calendars = np.datetime64("2020-01-01", "ns") + np.stack(
        [np.arange(T), 2 * np.arange(T)]
    ).astype("timedelta64[D]")
    calendar_of = np.array([0, 1, 0, 1, 1])
    dates2 = calendars[calendar_of]
    rel = np.arange(-3, 5)
    # day 0 anywhere in [0, length]: windows before the first and past the last day
    day0 = np.stack([rng.integers(0, n + 1, size=E) for n in lengths], axis=1)
    day0[0] = [0, 1, 39, 12, 3]
    k = F + int(constant)
    beta = rng.normal(size=(E, S, k))
    beta[0, 0] = -0.0
    a = rng.normal(size=(E, S, k, k))
    xtx_inv = a + np.swapaxes(a, -1, -2)
    sigma2 = rng.random((E, S))
    args = (y2, off2, X2, dates2, lengths, day0, rel, constant, beta, xtx_inv, sigma2)
    *got, x_reg, gap = event_window(*args[:3], *args[4:])  # no dates: gathered apart
    dates = _Windows(lengths, day0, rel, T, rows=calendar_of).take(calendars, NAT)
    got += [dates, window_regressors(x_reg, gap, constant)]
    want = reference(*args)
    for g, w in zip(got, want, strict=True):
        assert same_bits(g, w)


@pytest.mark.parametrize(
    ("rel", "T"), [(np.arange(-2, 3), 30), (np.array([-2, 0, 3]), 30), (np.arange(-4, 6), 6)]
)
def test_window_gathers_equal_take_of_window_index(rel, T):
    # Contiguous days are gathered as slices; other days (or windows longer than the
    # data) position by position: both equal take(window_index(...)).
    rng = np.random.default_rng(3)
    S, E = 4, 6
    lengths = np.array([T, T - 1, 2, 0])
    day0 = np.stack([rng.integers(0, n + 1, size=E) for n in lengths], axis=1)
    values = rng.normal(size=(2, S, T))
    dates = np.datetime64("2021-03-01", "ns") + rng.integers(0, 10**6, size=(S, T)).astype(
        "timedelta64[s]"
    )
    at = window_index(lengths, day0, rel, T)
    windows = _Windows(lengths, day0, rel, T)
    assert same_bits(windows.take(values, np.nan), take(values, at))
    assert same_bits(windows.take(dates, NAT), take(dates, at))
    assert np.array_equal(windows.outside(), at[1])
    # rows of another array: series 0 and 2 read row 1, series 1 and 3 row 0
    rows = np.array([1, 0, 1, 0])
    mapped = _Windows(lengths, day0, rel, T, rows=rows)
    assert same_bits(mapped.take(dates[:2], NAT), take(dates[:2][rows], at))
