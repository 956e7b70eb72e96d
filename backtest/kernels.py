"""Numba kernels behind :mod:`backtest.metrics`: one pass over each column.

The numpy formulation of the performance statistics makes about twenty temporary
(bars x strategies) arrays; on a sweep chunk of 2,500 bars x 1,000 combinations that is
more time than vectorbt's own simulation of the chunk.  These kernels walk each column
once (twice for the centred sums) and keep only scalars, so their cost is negligible
next to the simulation.  They are the implementation behind :mod:`backtest.metrics`:
the definitions (what each number means, how NaN and degenerate columns are treated)
are documented on the public functions there, and the tests check those functions
against independent computations; call those functions, not the kernels.

Every kernel is compiled on first use, for one array type only: the per-column
functions take C-ordered, writable float rows, and the public 2-D functions hand them
the columns as rows of such a copy (no copy when the input already is one), so this
module and the simulation kernel (:mod:`backtest.engine.fastsim`) share one compiled
specialisation of each, cached on disk (``cache=True``): the compile cost is paid once
per installation, not once per process or Dask worker, and a run compiles only the
kernels it uses.  ``error_model="numpy"`` makes 0/0 give NaN as in numpy instead
of raising.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
from numba import njit

__all__ = [
    "block_stats",
    "block_stats_1d",
    "pbo_logits",
    "pool",
    "position_stats",
    "position_stats_1d",
    "return_stats",
    "return_stats_1d",
    "threads",
]

#: Output columns of :func:`return_stats`.
RETURN_STATS = (
    "n",
    "total_return",
    "cagr",
    "volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "calmar",
    "up_share",
    "sharpe_raw",
)
#: Output columns of :func:`position_stats`.
POSITION_STATS = ("exposure", "trades", "turnover", "positive_days")


@njit(cache=True, nogil=True, error_model="numpy")
def return_stats_1d(r, rf_p, ppy, out):  # pragma: no cover - numba
    """The :data:`RETURN_STATS` of one column of returns, into ``out`` (10,)."""
    t = r.shape[0]
    for i in range(out.shape[0]):
        out[i] = np.nan
    ann = math.sqrt(ppy)
    n = 0
    growth = 1.0
    sum_x = 0.0
    sum_r = 0.0
    up = 0
    hi = -np.inf
    lo = np.inf
    peak = 1.0
    max_dd = 0.0
    for i in range(t):
        v = r[i]
        if np.isnan(v):
            continue
        n += 1
        growth *= 1.0 + v
        sum_x += v - rf_p
        sum_r += v
        if v > 0.0:
            up += 1
        hi = max(hi, v)
        lo = min(lo, v)
        if growth > peak:
            peak = growth
        dd = 1.0 - growth / peak
        if dd > max_dd:
            max_dd = dd
    out[0] = n
    if n == 0:
        return
    mean_x = sum_x / n
    mean_r = sum_r / n
    ss_x = 0.0
    ss_r = 0.0
    down = 0.0
    for i in range(t):
        v = r[i]
        if np.isnan(v):
            continue
        d = v - rf_p - mean_x
        ss_x += d * d
        e = v - mean_r
        ss_r += e * e
        if v - rf_p < 0.0:
            down += (v - rf_p) * (v - rf_p)
    total = growth - 1.0
    cagr = growth ** (ppy / n) - 1.0
    out[1] = total
    out[2] = cagr
    if n >= 2 and hi != lo:
        std_x = math.sqrt(ss_x / (n - 1.0))
        out[3] = std_x * ann
        out[4] = mean_x / std_x * ann
        std_r = math.sqrt(ss_r / (n - 1.0))
        if std_r > 0.0:
            out[9] = mean_r / std_r
    downside = math.sqrt(down / n)
    if downside > 0.0:
        out[5] = mean_x / downside * ann
    out[6] = max_dd
    if max_dd > 0.0:
        out[7] = cagr / max_dd
    out[8] = up / n


@njit(cache=True, nogil=True, error_model="numpy")
def position_stats_1d(r, p, out):  # pragma: no cover - numba
    """The :data:`POSITION_STATS` of one column, into ``out`` (4,)."""
    t = r.shape[0]
    n = 0
    active = 0
    wins = 0
    entries = 0
    turnover = 0.0
    prev = 0.0
    prev_sign = 0.0
    for i in range(t):
        q = p[i]
        if np.isnan(q):
            q = 0.0
        sign = 0.0 if q == 0.0 else (1.0 if q > 0.0 else -1.0)
        if sign != 0.0 and sign != prev_sign:
            entries += 1
        turnover += abs(q - prev)
        prev = q
        prev_sign = sign
        v = r[i]
        if np.isnan(v):
            continue
        n += 1
        if q != 0.0:
            active += 1
            if v > 0.0:
                wins += 1
    out[0] = active / n
    out[1] = entries
    out[2] = turnover / n
    out[3] = wins / active


@njit(cache=True, nogil=True, error_model="numpy")
def block_stats_1d(m, bounds, out, col):  # pragma: no cover - numba
    """The block statistics of one column, into ``out[:, :, col]``."""
    t = m.shape[0]
    s = bounds.size - 1
    count = 0
    total = 0.0
    for i in range(t):
        v = m[i]
        if not np.isnan(v):
            count += 1
            total += v
    center = total / count if count > 0 else 0.0
    for b in range(s):
        c = 0
        sm = 0.0
        sd = 0.0
        sq = 0.0
        for i in range(bounds[b], bounds[b + 1]):
            v = m[i]
            if np.isnan(v):
                continue
            c += 1
            sm += v
            d = v - center
            sd += d
            sq += d * d
        out[b, 0, col] = c
        out[b, 1, col] = sm
        out[b, 2, col] = sd
        out[b, 3, col] = sq


def _rows(a: Any) -> np.ndarray:
    """``a`` (T, K) as a C-ordered, writable float (K, T) array: each column a contiguous
    row, the one array type the per-column kernels are compiled for (the simulation
    kernel passes the same), so no second specialisation is ever compiled."""
    return np.require(np.asarray(a, dtype=np.float64).T, np.float64, ["C", "W"])


def return_stats(r: Any, rf_p: float, ppy: float) -> np.ndarray:
    """Per column of returns ``r`` (T, K): the :data:`RETURN_STATS`, shape (K, 10).

    ``sharpe_raw`` is the per-period Sharpe ratio of the raw returns (risk-free 0,
    not annualised), the quantity the deflated Sharpe ratio compares across trials.
    """
    return _return_stats_rows(_rows(r), float(rf_p), float(ppy))


def position_stats(r: Any, p: Any) -> np.ndarray:
    """Per column: the :data:`POSITION_STATS` from returns ``r`` and positions ``p`` (T, K).

    Exposure and turnover are per non-missing return (turnover not yet annualised);
    NaN positions are flat; the position before the first bar is 0.
    """
    return _position_stats_rows(_rows(r), _rows(p))


def block_stats(m: Any, bounds: Any) -> np.ndarray:
    """Per contiguous row block and column of ``m`` (T, N): count, sum, centred sum and
    centred sum of squares, shape (S, 4, N) for the S blocks ``bounds[b]:bounds[b + 1]``.

    The centre is the column's mean over all rows (0 for an all-missing column), so
    the blocks' centred sums of one column do not depend on any other column.
    """
    b = np.require(np.asarray(bounds, dtype=np.int64), np.int64, ["C", "W"])
    return _block_stats_rows(_rows(m), b)


@njit(cache=True, nogil=True, error_model="numpy")
def _return_stats_rows(rt, rf_p, ppy):  # pragma: no cover - numba
    """:func:`return_stats` of the rows of ``rt`` (K, T)."""
    k = rt.shape[0]
    out = np.full((k, len(RETURN_STATS)), np.nan)
    for j in range(k):
        return_stats_1d(rt[j], rf_p, ppy, out[j])
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def _position_stats_rows(rt, pt):  # pragma: no cover - numba
    """:func:`position_stats` of the rows of ``rt`` and ``pt`` (K, T)."""
    k = rt.shape[0]
    out = np.full((k, len(POSITION_STATS)), np.nan)
    for j in range(k):
        position_stats_1d(rt[j], pt[j], out[j])
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def _block_stats_rows(mt, bounds):  # pragma: no cover - numba
    """:func:`block_stats` of the rows of ``mt`` (N, T)."""
    n = mt.shape[0]
    out = np.zeros((bounds.size - 1, 4, n))
    for j in range(n):
        block_stats_1d(mt[j], bounds, out, j)
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def pbo_logits(in_sample, grand, n, sharpe, out):  # pragma: no cover - numba
    """The CSCV logit of each row of `in_sample` (C, 4 * N): summed block statistics
    of the in-sample half (count, sum, centred sum, centred sum of squares of each of
    the N trials); the out-of-sample half is ``grand - in_sample``. The same
    arithmetic, element by element, as the vectorised numpy this replaced (mean,
    variance about the set mean from centred sums, undefined as -inf; first maximum in
    sample; rank with ties halved), compiled on first use."""
    perf_oos = np.empty(n)
    for c in range(in_sample.shape[0]):
        best = -1
        best_v = -np.inf
        for j in range(n):
            for half in range(2):
                if half == 0:
                    count = in_sample[c, j]
                    total = in_sample[c, n + j]
                    sum_c = in_sample[c, 2 * n + j]
                    sumsq_c = in_sample[c, 3 * n + j]
                else:
                    count = grand[j] - in_sample[c, j]
                    total = grand[n + j] - in_sample[c, n + j]
                    sum_c = grand[2 * n + j] - in_sample[c, 2 * n + j]
                    sumsq_c = grand[3 * n + j] - in_sample[c, 3 * n + j]
                mean = total / count
                if sharpe:
                    var = (sumsq_c - sum_c * sum_c / count) / (count - 1.0)
                    v = mean / math.sqrt(max(var, 0.0)) if var > 0 else np.nan
                else:
                    v = mean
                if np.isnan(v):
                    v = -np.inf
                if half == 0:
                    if best < 0 or v > best_v:  # the first maximum, as numpy's argmax
                        best = j
                        best_v = v
                else:
                    perf_oos[j] = v
        chosen = perf_oos[best]
        below = 0
        equal = 0
        for j in range(n):
            below += int(perf_oos[j] < chosen)
            equal += int(perf_oos[j] == chosen)
        rank = below + (equal + 1) / 2
        omega = rank / (n + 1.0)
        out[c] = math.log(omega / (1.0 - omega))


_THREADS: list[int] = []
_POOL: list[Any] = []


def threads(n: int | None = None) -> int:
    """Threads the numba kernels share work over in this process; set it with `n`.

    Default: ``BACKTEST_KERNEL_THREADS`` if set, else the CPUs this process may use.
    The kernels release the GIL and each unit of work (a parameter set, a CSCV
    combination) runs on one thread, so results do not depend on the count.
    """
    if n is not None:
        if n < 1:
            raise ValueError(f"threads: must be >= 1, got {n}")
        _THREADS[:] = [int(n)]
        for old in _POOL:
            old.shutdown(wait=False)
        _POOL.clear()
    if not _THREADS:
        env = os.environ.get("BACKTEST_KERNEL_THREADS", "")
        affinity = getattr(os, "sched_getaffinity", None)  # Linux; elsewhere the CPU count
        cpus = len(affinity(0)) if affinity else (os.cpu_count() or 1)
        _THREADS.append(max(1, int(env)) if env.isdigit() else cpus)
    return _THREADS[0]


def pool() -> Any:
    """The process's thread pool of :func:`threads` workers (made on first use)."""
    from concurrent.futures import ThreadPoolExecutor

    if not _POOL:
        _POOL.append(ThreadPoolExecutor(threads(), thread_name_prefix="backtest-kernels"))
    return _POOL[0]
