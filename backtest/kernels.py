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
    "INNER",
    "PBO_TILE",
    "block_stats",
    "block_stats_1d",
    "pbo_cscv_logits",
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


#: numba options of the functions only other kernels call (here and in
#: :mod:`backtest.engine.fastsim`): no CPython or C wrappers to build.
INNER: dict[str, Any] = {
    "cache": True,
    "nogil": True,
    "no_cpython_wrapper": True,
    "no_cfunc_wrapper": True,
}


@njit(cache=True, nogil=True, error_model="numpy")
def return_stats_1d(r, rf_p, ppy, out):  # pragma: no cover - numba
    """The :data:`RETURN_STATS` of one column of returns, into ``out`` (10,)."""
    t = r.shape[0]
    for i in range(out.shape[0]):
        out[i] = np.nan
    n = np.int64(0)  # not 0: a literal would compile _return_stats_out a second time
    growth = 1.0
    sum_x = 0.0
    sum_r = 0.0
    up = np.int64(0)
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
    _return_stats_out(out, n, growth, mean_x, mean_r, ss_x, ss_r, down, hi != lo, max_dd, up, ppy)


@njit(error_model="numpy", **INNER)
def _return_stats_out(  # pragma: no cover - numba (its py_func: _return_stats_numpy)
    out, n, growth, mean_x, mean_r, ss_x, ss_r, down, varies, max_dd, up, ppy
):
    """``out[1:]`` of :func:`return_stats_1d` from its sums over the ``n > 0`` returns:
    the growth, the means and sums of squares about them, the downside sum, whether the
    returns vary, the maximum drawdown and the count of positive returns. Shared with
    the numpy path, which runs it as Python on numpy floats (``mean_x`` and ``growth``
    numpy scalars: division by zero and ``**`` as in the kernel)."""
    ann = math.sqrt(ppy)
    cagr = growth ** (ppy / n) - 1.0
    out[1] = growth - 1.0
    out[2] = cagr
    if n >= 2 and varies:
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


#: Cells (rows x columns) up to which :func:`return_stats` and :func:`position_stats`
#: compute with numpy instead of their numba kernels: the same operations in the same
#: order (sums and products accumulated one element at a time from the kernels'
#: starting values), so the same numbers bit for bit, and a small run (single
#: backtests, out-of-sample checks) compiles neither kernel (~2 s).
STATS_NUMPY_CELLS = 1 << 16


def _running_sum(x: np.ndarray) -> float:
    """``s = 0.0; for v in x: s += v``, as the kernels add (numpy's sum is pairwise)."""
    return float(np.add.accumulate(np.concatenate(([0.0], x)))[-1])


def _return_stats_numpy(r: np.ndarray, rf_p: float, ppy: float) -> np.ndarray:
    """:func:`return_stats_1d` of one column with numpy (silent on infinities and NaN,
    as the kernel)."""
    with np.errstate(all="ignore"):
        return _return_stats_quiet(r, rf_p, ppy)


def _return_stats_quiet(r: np.ndarray, rf_p: float, ppy: float) -> np.ndarray:
    out = np.full(len(RETURN_STATS), np.nan)
    v = r[r == r]
    n = v.size
    out[0] = n
    if n == 0:
        return out
    path = np.multiply.accumulate(1.0 + v)  # growth: 1.0 * (1 + v0) is 1 + v0
    growth = np.float64(path[-1])
    peak = np.fmax.accumulate(np.concatenate(([1.0], path)))[1:]  # a NaN is never a peak
    dd = 1.0 - path / peak
    dd = dd[dd > 0.0]
    max_dd = np.float64(dd.max() if dd.size else 0.0)
    mean_x = np.float64(_running_sum(v - rf_p)) / n
    mean_r = np.float64(_running_sum(v)) / n
    ss_x = _running_sum((v - rf_p - mean_x) ** 2)
    ss_r = _running_sum((v - mean_r) ** 2)
    short = v - rf_p
    short = short[short < 0.0]
    down = _running_sum(short * short)
    up = np.count_nonzero(v > 0.0)
    tail: Any = _return_stats_out.py_func  # the kernel's own code, run as Python
    tail(out, n, growth, mean_x, mean_r, ss_x, ss_r, down, v.max() != v.min(), max_dd, up, ppy)
    return out


def _position_stats_numpy(r: np.ndarray, p: np.ndarray) -> np.ndarray:
    """:func:`position_stats_1d` of one column with numpy."""
    q = np.where(p == p, p, 0.0)
    sign = np.sign(q)
    entries = np.count_nonzero((sign != 0.0) & (sign != np.concatenate(([0.0], sign[:-1]))))
    turnover = _running_sum(np.abs(q - np.concatenate(([0.0], q[:-1]))))
    seen = r == r
    n = np.count_nonzero(seen)
    held = seen & (q != 0.0)
    active = np.count_nonzero(held)
    wins = np.count_nonzero(held & (r > 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.array(
            [np.float64(active) / n, entries, np.float64(turnover) / n, np.float64(wins) / active]
        )


def return_stats(r: Any, rf_p: float, ppy: float) -> np.ndarray:
    """Per column of returns ``r`` (T, K): the :data:`RETURN_STATS`, shape (K, 10).

    ``sharpe_raw`` is the per-period Sharpe ratio of the raw returns (risk-free 0,
    not annualised), the quantity the deflated Sharpe ratio compares across trials.
    Up to :data:`STATS_NUMPY_CELLS` cells, with numpy (the same numbers).
    """
    rt = _rows(r)
    if rt.size <= STATS_NUMPY_CELLS:
        return np.array([_return_stats_numpy(row, float(rf_p), float(ppy)) for row in rt]).reshape(
            rt.shape[0], len(RETURN_STATS)
        )
    out = np.empty((rt.shape[0], len(RETURN_STATS)))
    _return_stats_rows(rt, float(rf_p), float(ppy), out)
    return out


def position_stats(r: Any, p: Any) -> np.ndarray:
    """Per column: the :data:`POSITION_STATS` from returns ``r`` and positions ``p`` (T, K).

    Exposure and turnover are per non-missing return (turnover not yet annualised);
    NaN positions are flat; the position before the first bar is 0. Up to
    :data:`STATS_NUMPY_CELLS` cells, with numpy (the same numbers).
    """
    rt, pt = _rows(r), _rows(p)
    if rt.size <= STATS_NUMPY_CELLS:
        return np.array([_position_stats_numpy(a, b) for a, b in zip(rt, pt, strict=True)]).reshape(
            rt.shape[0], len(POSITION_STATS)
        )
    out = np.empty((rt.shape[0], len(POSITION_STATS)))
    _position_stats_rows(rt, pt, out)
    return out


def compile_stats() -> None:
    """Compile (or load from the disk cache) the kernels of :func:`return_stats` and
    :func:`position_stats`, which calls of more than :data:`STATS_NUMPY_CELLS` use."""
    rt = np.zeros((1, 4))
    _return_stats_rows(rt, 0.0, 252.0, np.empty((1, len(RETURN_STATS))))
    _position_stats_rows(rt, np.zeros((1, 4)), np.empty((1, len(POSITION_STATS))))


def block_stats(m: Any, bounds: Any) -> np.ndarray:
    """Per contiguous row block and column of ``m`` (T, N): count, sum, centred sum and
    centred sum of squares, shape (S, 4, N) for the S blocks ``bounds[b]:bounds[b + 1]``.

    The centre is the column's mean over all rows (0 for an all-missing column), so
    the blocks' centred sums of one column do not depend on any other column.
    """
    b = np.require(np.asarray(bounds, dtype=np.int64), np.int64, ["C", "W"])
    mt = _rows(m)
    out = np.empty((b.size - 1, 4, mt.shape[0]))
    _block_stats_rows(mt, b, out)
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def _return_stats_rows(rt, rf_p, ppy, out):  # pragma: no cover - numba
    """:func:`return_stats` of the rows of ``rt`` (K, T), into ``out`` (K, 10)."""
    for j in range(rt.shape[0]):
        return_stats_1d(rt[j], rf_p, ppy, out[j])


@njit(cache=True, nogil=True, error_model="numpy")
def _position_stats_rows(rt, pt, out):  # pragma: no cover - numba
    """:func:`position_stats` of the rows of ``rt`` and ``pt`` (K, T), into ``out`` (K, 4)."""
    for j in range(rt.shape[0]):
        position_stats_1d(rt[j], pt[j], out[j])


@njit(cache=True, nogil=True, error_model="numpy")
def _block_stats_rows(mt, bounds, out):  # pragma: no cover - numba
    """:func:`block_stats` of the rows of ``mt`` (N, T), into ``out`` (S, 4, N)."""
    for j in range(mt.shape[0]):
        block_stats_1d(mt[j], bounds, out, j)


#: Trials per tile of :func:`pbo_cscv_logits`: S blocks x 4 sums x 512 trials x 8 bytes
#: (160 KiB at S = 10) stay in the core's cache while every combination reads them.
PBO_TILE = 512


@njit(error_model="numpy", **INNER)
def _pbo_tile(flat, grand, rows, n, j0, m, sharpe, oos, acc, v):  # pragma: no cover - numba
    """The CSCV metric of trials ``j0 .. j0 + m`` on the blocks `rows` (in sample) or
    the others (`oos`: ``grand`` minus the in-sample sums), into ``v[:m]``.

    Each in-sample sum adds the blocks' sums in ascending block order starting from 0.0
    (what a product with a 0/1 block indicator adds, term by term). The metric: the
    mean, or the Sharpe ratio with the variance about the set's mean from centred sums;
    undefined (no variance, no observation) is -inf.
    """
    for k in range(4):  # 1-D slices: the loops over trials vectorise
        lo = k * n + j0
        a = acc[k]
        for jj in range(m):
            a[jj] = 0.0
        for i in range(rows.shape[0]):
            row = flat[rows[i], lo : lo + m]
            for jj in range(m):
                a[jj] += row[jj]
        if oos:
            g = grand[lo : lo + m]
            for jj in range(m):
                a[jj] = g[jj] - a[jj]
    counts = acc[0]
    totals = acc[1]
    sums = acc[2]
    squares = acc[3]
    for jj in range(m):
        count = counts[jj]
        mean = totals[jj] / count
        if sharpe:
            sum_c = sums[jj]
            var = (squares[jj] - sum_c * sum_c / count) / (count - 1.0)
            x = mean / math.sqrt(max(var, 0.0)) if var > 0 else np.nan
        else:
            x = mean
        v[jj] = -np.inf if np.isnan(x) else x


@njit(cache=True, nogil=True, error_model="numpy")
def pbo_cscv_logits(flat, grand, combos, n, sharpe, out, acc, work, picks):  # pragma: no cover
    """The CSCV logit of each combination (row of `combos`: its in-sample blocks, in
    ascending order) from the block statistics `flat` (S, 4 * N) and their totals
    `grand` (4 * N), the out-of-sample half being ``grand`` minus the in-sample sums.
    The trials are read in tiles of :data:`PBO_TILE` that every combination uses while
    they are in cache, so no (combinations x trials) array is made: one pass picks each
    combination's best trial in sample (the first maximum, as numpy's argmax), then
    that trial's out-of-sample metric is taken, and a last pass ranks it among all
    trials' (ties counted half). Work space, from the caller (nothing is allocated
    here): `acc` (5, :data:`PBO_TILE`) floats, `work` (2, C) floats and `picks`
    (3, C) int64 for the C combinations.
    """
    n_comb = combos.shape[0]
    v = acc[4]
    best_v = work[0]
    chosen = work[1]
    best = picks[0]
    below = picks[1]
    equal = picks[2]
    for c in range(n_comb):
        best[c] = -1
        best_v[c] = -np.inf
        below[c] = 0
        equal[c] = 0
    # phase 0: each combination's first in-sample maximum; 1: its out-of-sample metric;
    # 2: the rank of that among every trial's (one call site: compiled once)
    for phase in range(3):
        for j0 in range(0, 1 if phase == 1 else n, PBO_TILE):
            m = 1 if phase == 1 else min(PBO_TILE, n - j0)
            for c in range(n_comb):
                first = best[c] if phase == 1 else j0
                _pbo_tile(flat, grand, combos[c], n, first, m, sharpe, phase > 0, acc, v)
                if phase == 0:
                    b = best[c]
                    b_v = best_v[c]
                    for jj in range(m):
                        if b < 0 or v[jj] > b_v:  # the first maximum, as numpy's argmax
                            b = j0 + jj
                            b_v = v[jj]
                    best[c] = b
                    best_v[c] = b_v
                elif phase == 1:
                    chosen[c] = v[0]
                else:
                    ch = chosen[c]
                    lo = 0
                    eq = 0
                    for jj in range(m):
                        lo += int(v[jj] < ch)
                        eq += int(v[jj] == ch)
                    below[c] += lo
                    equal[c] += eq
    for c in range(n_comb):
        rank = below[c] + (equal[c] + 1) / 2
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
