"""The engine's own simulation kernel: target weights to fills, returns and metrics.

One numba pass per parameter set does what the vectorbt path (:func:`backtest.engine.
simulate.portfolio` + :func:`backtest.engine.book.measure`) does in several: the orders
of ``Portfolio.from_orders`` with target-percent sizes at the close, fees and slippage,
one cash account shared by a portfolio's legs (sales first), the exit trades that give
``trades`` and ``win_rate``, funding and excess returns, and every metric of the sweep
table, the per-trial Sharpe ratio of the deflated Sharpe ratio, the PBO block sums and
the in-sample Sharpe ratio of every validation fold. Nothing of size bars x
combinations is needed but the returns a chunk keeps.

**The order rules are vectorbt 1.2's**, line for line (``vectorbt/portfolio/nb.py``:
``simulate_from_orders_nb``, ``execute_order_nb``, ``buy_nb``, ``sell_nb``,
``get_exit_trades_nb``; tolerances of ``vectorbt/utils/math_.py``), for the arguments the
engine passes (``size_type="targetpercent"``, ``direction="both"``, ``init_cash=1``,
``val_price`` = the close, ``update_value=False``, ``call_seq="auto"`` with cash
sharing, no fixed fees, no size limits):

1. On every bar each leg whose held weight differs from the previous bar's gets an
   order; the valuation price is the close (carried forward where missing).
2. The portfolio's value ``V`` is taken once per bar, before its orders: cash plus
   units times valuation prices.
3. Orders run in ascending order of ``weight * V - units * price`` (sales first),
   stable for ties.
4. An order's units are ``weight * V / price - units``; a sale fills at
   ``close * (1 - slippage)``, a purchase at ``close * (1 + slippage)``; fees are a
   fraction of the filled value; a purchase is cut to the cash there is.
5. Amounts within 1e-12 of zero are zero, and "equal" allows a relative 1e-9, as in
   vectorbt; an order of fewer than 1e-8 units (vectorbt's default ``min_size``) is
   rejected, so a tiny rebalance leaves the position as it is.

vectorbt stays the reference: ``tests/engine/test_fastsim.py`` runs random strategies,
costs, long/short/fractional weights, carry and multi-leg portfolios through both and
requires every return and metric to agree to 1e-10.

The kernels compile on first use, once: the callers (:func:`backtest.engine.book.
simulate_kernel`, :func:`~backtest.engine.book.record_kernel`) pass C-ordered,
writable float64/int64 arrays only (bars last: a set's row is contiguous), so each
entry point has one specialisation, cached on disk (``cache=True``). A run that holds
one leg never compiles the portfolio kernels, and its single backtests and sweeps share
one compiled function (:func:`one_leg_record` is :func:`one_leg_columns` in record
mode): the simulation is the largest function to compile, so it is compiled once. The
helpers only kernels call are built without Python wrappers.

NaN is tested as ``x != x`` (``x == x``: not NaN), the IEEE definition: numba compiles
``np.isnan`` on a scalar into slower code, and these tests run on every bar.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from backtest.kernels import INNER as _INNER
from backtest.kernels import block_stats_1d as _block_stats
from backtest.kernels import position_stats_1d as _position_stats
from backtest.kernels import return_stats_1d as _return_stats

__all__ = [
    "compile_later_parts",
    "compile_one_leg",
    "legs_columns",
    "legs_record",
    "one_leg_columns",
    "one_leg_record",
]

_REL = 1e-9  # vectorbt.utils.math_.rel_tol
_ABS = 1e-12  # vectorbt.utils.math_.abs_tol
_MIN_SIZE = 1e-8  # vectorbt.settings.portfolio["min_size"]: smaller orders are rejected
_NO_ORDER = np.nan

#: Columns of the metrics array of :func:`simulate_columns`: backtest.metrics.PERFORMANCE_COLUMNS.
N_METRICS = 12
#: Sets x bars of a kernel call from which :func:`one_leg_columns` runs with its inner
#: loop of quiet bars (``quiet=True``; about 20-30% less time per set on a long sweep).
#: Below it the call uses the specialisation without that loop, which compiles about
#: 1.5 s faster: what a fresh installation's first, small run waits for. The numbers
#: are the same either way.
QUIET_MIN_CELLS = 1_000_000


# --------------------------------------------------------------------------- vectorbt's arithmetic


@njit(**_INNER)
def _is_close(a, b):  # pragma: no cover - numba
    if a != a or b != b:
        return False
    if np.isinf(a) or np.isinf(b):
        return False
    if a == b:
        return True
    return abs(a - b) <= max(_REL * max(abs(a), abs(b)), _ABS)


@njit(**_INNER)
def _is_close_or_less(a, b):  # pragma: no cover - numba
    if _is_close(a, b):
        return True
    return a < b


@njit(**_INNER)
def _is_less(a, b):  # pragma: no cover - numba
    if _is_close(a, b):
        return False
    return a < b


@njit(**_INNER)
def _add(a, b):  # pragma: no cover - numba
    """vectorbt's add_nb: ``a + b``, or 0 when the sum is zero within the tolerances."""
    if b == 0.0:  # the common case, decided as add_nb decides it
        if a == 0.0 or abs(a) <= _ABS:
            return 0.0
        return a
    sa = 1.0 if a > 0.0 else (-1.0 if a < 0.0 else 0.0)
    sb = 1.0 if b > 0.0 else -1.0
    if a != a or b != b:
        return a + b
    zero = _is_close(abs(a), abs(b)) if sa != sb else _is_close(a + b, 0.0)
    if zero:
        return 0.0
    return a + b


@njit(**_INNER)
def _bar_return(value, v_prev):  # pragma: no cover - numba
    """vectorbt's get_return_nb: the return from `v_prev` to `value` (its sign kept for
    a negative `v_prev`; from 0 to non-zero: infinite)."""
    if v_prev == 0.0:
        return 0.0 if value == 0.0 else np.inf * np.sign(value)
    ret = (value - v_prev) / v_prev
    if v_prev < 0.0:
        ret *= -1.0
    return ret


@njit(**_INNER)
def _trade_return(size, entry_price, entry_fees, exit_price, exit_fees, short):  # pragma: no cover
    entry_val = size * entry_price
    exit_val = size * exit_price
    val_diff = _add(exit_val, -entry_val)
    if val_diff != 0 and short:
        val_diff *= -1
    pnl = val_diff - entry_fees - exit_fees
    return pnl / entry_val


# --------------------------------------------------------------------------- one portfolio


@njit(cache=True, nogil=True, error_model="numpy")
def _simulate(  # pragma: no cover - numba
    close,  # (T, L) what each leg trades at (NaN before its first value)
    h,  # (T, L) weight held over each bar, already lagged
    fees,  # (L,)
    slip,  # (L,)
    fund,  # (T, L) funding per bar, or (0, 0): not funded
    r,  # (T,) out: returns
    x,  # (T,) out: excess returns (written when funded)
    counts,  # (3,) out: trades, winning trades, first bar of a long weight not filled
    o_f,  # (n, 4) out: size, price, fees, side (0 buy, 1 sell) of each fill
    o_i,  # (n, 2) out: bar, leg of each fill
    wts,  # (T, L) out: each leg's value / portfolio value at each close
    vals,  # (T,) out: the portfolio's value at each close (record mode: o_f not empty)
    check,  # 1: look for long weights the cash could not buy (portfolios), else 0
):
    n_bars, n_legs = close.shape
    funded = fund.shape[0] > 0
    rec = o_f.shape[0] > 0
    cash = 1.0
    units = np.zeros(n_legs)
    prev = np.zeros(n_legs)
    val = np.full(n_legs, np.nan)
    order_value = np.empty(n_legs)
    seq = np.empty(n_legs, np.int64)
    w_last = np.zeros(n_legs)
    changed = np.zeros(n_legs, np.bool_)
    # exit-trade state per leg (vectorbt get_exit_trades_nb)
    in_pos = np.zeros(n_legs, np.bool_)
    short = np.zeros(n_legs, np.bool_)
    es = np.zeros(n_legs)
    eg = np.zeros(n_legs)
    ef = np.zeros(n_legs)
    n_trades = 0.0
    n_wins = 0.0
    n_orders = 0
    bad = -1.0
    v_prev = 1.0
    # the portfolio as vectorbt reads it back from the order records (Portfolio.value):
    # cash from the summed cash flows, units from the asset flows, both with add_nb
    cash_s = 1.0
    assets_s = np.zeros(n_legs)
    flow = np.zeros(n_legs)
    a_flow = np.zeros(n_legs)
    for t in range(n_bars):
        for j in range(n_legs):
            flow[j] = 0.0
            a_flow[j] = 0.0
        for j in range(n_legs):
            c = close[t, j]
            if c == c:
                val[j] = c
        value = cash
        for j in range(n_legs):
            if units[j] != 0:
                value += units[j] * val[j]
        for j in range(n_legs):
            seq[j] = j
            w = h[t, j]
            changed[j] = w != prev[j]
            if changed[j]:
                order_value[j] = w * value - units[j] * val[j]
            else:
                order_value[j] = _NO_ORDER
        if n_legs > 1:  # vectorbt's insert_argsort_nb: ascending, NaN last, stable
            for a in range(1, n_legs):
                key = order_value[a]
                ik = seq[a]
                b = a - 1
                while b >= 0 and (order_value[b] > key or np.isnan(order_value[b])):
                    order_value[b + 1] = order_value[b]
                    seq[b + 1] = seq[b]
                    b -= 1
                order_value[b + 1] = key
                seq[b + 1] = ik
        for k in range(n_legs):
            j = seq[k]
            # every processed order rounds the state near zero (execute_order_nb)
            if abs(cash) <= _ABS:
                cash = 0.0
            pos = units[j]
            if abs(pos) <= _ABS:
                pos = 0.0
            units[j] = pos
            if not changed[j]:
                continue
            price = close[t, j]
            if price != price:
                continue  # ignored: no price
            v = value
            if abs(v) <= _ABS:
                v = 0.0
            if v != v or v <= 0.0:
                continue  # ignored / rejected: no value to size the order
            vp = val[j]
            if vp != vp:
                continue
            size = h[t, j]
            size *= v
            size /= vp
            size -= pos
            if size > 0.0:  # buy_nb
                adj = price * (1.0 + slip[j])
                if cash == 0.0:
                    continue  # rejected: no cash
                req_cash = size * adj
                req_fees = req_cash * fees[j] + 0.0
                total = req_cash + req_fees
                if _is_close_or_less(total, cash):
                    fill = size
                    paid = req_fees
                    spent = total
                else:
                    max_req = _add(cash, -0.0) / (1.0 + fees[j])
                    if max_req <= 0.0:
                        continue  # rejected: cannot cover the fees
                    fill = max_req / adj
                    paid = cash - max_req
                    spent = cash
                if abs(size) <= _ABS:
                    continue  # ignored: size zero
                if _is_less(fill, _MIN_SIZE):
                    continue  # rejected: below the minimum size
                cash = _add(cash, -spent)
                units[j] = _add(pos, fill)
                side = 0
            else:  # sell_nb
                adj = price * (1.0 - slip[j])
                fill = -size
                if abs(fill) <= _ABS:
                    continue  # ignored: size zero
                if _is_less(fill, _MIN_SIZE):
                    continue  # rejected: below the minimum size
                acq = fill * adj
                paid = acq * fees[j] + 0.0
                got = _add(acq, -paid)
                if got < 0.0:
                    continue  # rejected: cannot cover the fees
                cash = cash + got
                units[j] = _add(pos, -fill)
                side = 1
            if side == 0:
                flow[j] = _add(0.0, -fill * adj - paid)
                a_flow[j] = _add(0.0, fill)
            else:
                flow[j] = _add(0.0, fill * adj - paid)
                a_flow[j] = _add(0.0, -fill)
            if rec:
                o_f[n_orders, 0] = fill
                o_f[n_orders, 1] = adj
                o_f[n_orders, 2] = paid
                o_f[n_orders, 3] = side
                o_i[n_orders, 0] = t
                o_i[n_orders, 1] = j
            n_orders += 1
            # exit trades of this leg (get_exit_trades_nb, on the fly)
            if not in_pos[j]:
                in_pos[j] = True
                short[j] = side == 1
                es[j] = 0.0
                eg[j] = 0.0
                ef[j] = 0.0
            if short[j] == (side == 1):  # position increased
                es[j] += fill
                eg[j] += fill * adj
                ef[j] += paid
            elif _is_close_or_less(fill, es[j]):  # (partly) closed
                closed = _is_close(fill, es[j])
                exit_size = es[j] if closed else fill
                entry_price = eg[j] / es[j]
                entry_fees = exit_size / es[j] * ef[j]
                ret = _trade_return(exit_size, entry_price, entry_fees, adj, paid, short[j])
                if ret == ret:
                    n_trades += 1.0
                    if ret > 0.0:
                        n_wins += 1.0
                if closed:
                    in_pos[j] = False
                else:
                    frac = (es[j] - fill) / es[j]
                    es[j] *= frac
                    eg[j] *= frac
                    ef[j] *= frac
            else:  # reversed
                cl = es[j]
                cl_fees = cl / fill * paid
                entry_price = eg[j] / es[j]
                entry_fees = cl / es[j] * ef[j]
                ret = _trade_return(cl, entry_price, entry_fees, adj, cl_fees, short[j])
                if ret == ret:
                    n_trades += 1.0
                    if ret > 0.0:
                        n_wins += 1.0
                es[j] = fill - cl
                eg[j] = es[j] * adj
                ef[j] = paid - cl_fees
                short[j] = not short[j]
        for j in range(n_legs):
            prev[j] = h[t, j]
        g_flow = 0.0
        asset_value = 0.0
        for j in range(n_legs):
            g_flow += flow[j]
            assets_s[j] = _add(assets_s[j], a_flow[j])
            if assets_s[j] != 0:
                asset_value += val[j] * assets_s[j]
        cash_s = _add(cash_s, g_flow)
        value = cash_s + asset_value
        ret_t = _bar_return(value, v_prev)
        r[t] = ret_t
        if rec:
            vals[t] = value
        if funded:
            charge = 0.0
            for j in range(n_legs):
                charge += w_last[j] * fund[t, j]
            x[t] = ret_t - charge
        for j in range(n_legs):
            w_last[j] = val[j] * assets_s[j] / value if assets_s[j] != 0 else 0.0 / value
            if rec:
                wts[t, j] = w_last[j]
            if check == 1 and bad < 0.0 and changed[j] and h[t, j] > 0.0:
                # as book._check_filled: more short of the target than costs explain
                gross_t = 0.0
                for i in range(n_legs):
                    gross_t += abs(h[t, i])
                tol = 2.0 * (fees[j] + slip[j]) * max(gross_t, 1.0) + 1e-9
                if h[t, j] - w_last[j] > tol:
                    bad = t * n_legs + j
        v_prev = value
    for j in range(n_legs):  # an open trade is valued at the last close
        if in_pos[j] and _is_less(-es[j], 0.0):
            entry_price = eg[j] / es[j]
            entry_fees = es[j] / es[j] * ef[j]
            ret = _trade_return(es[j], entry_price, entry_fees, close[n_bars - 1, j], 0.0, short[j])
            if ret == ret:
                n_trades += 1.0
                if ret > 0.0:
                    n_wins += 1.0
    counts[0] = n_trades
    counts[1] = n_wins
    counts[2] = bad
    return n_orders


# --------------------------------------------------------------------------- one leg, fused


@njit(error_model="numpy", **_INNER)
def _one_leg(  # pragma: no cover - numba
    close, h, fee, sl, fund, rf_p, ppy, r, x, o_f, o_i, wts, vals, quiet
):
    """:func:`_simulate` of one leg fused with the metrics of :func:`simulate_columns`.

    The same operations in the same order as ``_simulate`` + ``_return_stats`` +
    ``_position_stats`` + ``_block_stats`` (so the same numbers, bit for bit), with the
    state in scalars. While simulating, only what the second pass
    (:func:`_second_pass`) needs first: the sums the means come from, the trade counts
    and the turnover (which changes only where an order may be placed), returned; the
    second pass reads the returns back from ``r``/``x``, PBO block by block, for
    everything else: growth, drawdown, extremes, days held and won, centred sums,
    block sums. The maximum drawdown is taken per run below a peak,
    at its lowest point (the same value: ``1 - g / peak`` is monotone in ``g``). Bars
    without an order in a settled state run in an inner loop, and a flat run of them
    with a zero return is simulated at once (the same sums: see the comments). With
    `rec`, the fills go to ``o_f``/``o_i`` and the weight and value at each close to
    ``wts``/``vals``. Returns the number of fills and the second pass's inputs.

    `quiet` None compiles a smaller function (numba drops the branch on the argument's
    type), without the inner loop of quiet bars: every bar goes through the general
    bar, which gives the same numbers more slowly (:data:`QUIET_MIN_CELLS`).
    """
    n_bars = close.shape[0]
    funded = fund.shape[0] > 0
    rec = o_f.shape[0] > 0  # record mode (a runtime value: one compiled function for both)
    rf0 = rf_p == 0.0  # then rt - rf_p is rt: the excess sums are the plain ones
    cash = 1.0
    units = 0.0
    prev = 0.0
    val = np.nan
    in_pos = False
    # np.bool_(False) and np.int64(0), not False and 0: numba would type the callees
    # (_trade_return, _second_pass) once with Literal[...] arguments while inferring
    # these variables' types, and compile them a second, wasted time (~1.2 s)
    short: bool | np.bool_ = np.bool_(False)
    es = 0.0
    eg = 0.0
    ef = 0.0
    n_trades = 0.0
    n_wins = 0.0
    cash_s = 1.0
    assets_s = 0.0
    v_prev = 1.0
    w_last = 0.0
    # the sums the second pass centres on (np.int64: see `short`); the turnover
    n = np.int64(0)
    sum_x = 0.0
    sum_r = 0.0
    xn = np.int64(0)
    x_sum_r = 0.0
    turnover = 0.0
    p_prev = 0.0
    n_orders = 0
    settled = False
    t = 0
    while t < n_bars:  # a bar that may trade, then the quiet bars after it
        price = close[t]
        if price == price:
            val = price
        w = h[t]
        changed = w != prev
        before_cash, before_units, before_cs, before_as = cash, units, cash_s, assets_s
        value = cash
        if units != 0:
            value += units * val
        if abs(cash) <= _ABS:
            cash = 0.0
        if abs(units) <= _ABS:
            units = 0.0
        flow = 0.0
        a_flow = 0.0
        v = value
        if abs(v) <= _ABS:
            v = 0.0
        if changed and price == price and v == v and v > 0.0:
            pos = units
            size = w
            size *= v
            size /= val
            size -= pos
            filled = False
            if size > 0.0:
                adj = price * (1.0 + sl)
                if cash != 0.0:
                    req_cash = size * adj
                    req_fees = req_cash * fee + 0.0
                    total = req_cash + req_fees
                    ok = True
                    if _is_close_or_less(total, cash):
                        fill = size
                        paid = req_fees
                        spent = total
                    else:
                        max_req = _add(cash, -0.0) / (1.0 + fee)
                        ok = max_req > 0.0
                        fill = max_req / adj
                        paid = cash - max_req
                        spent = cash
                    if ok and abs(size) > _ABS and not _is_less(fill, _MIN_SIZE):
                        cash = _add(cash, -spent)
                        units = _add(pos, fill)
                        flow = _add(0.0, -fill * adj - paid)
                        a_flow = _add(0.0, fill)
                        filled = True
                side = 0
            else:
                adj = price * (1.0 - sl)
                fill = -size
                if abs(fill) > _ABS and not _is_less(fill, _MIN_SIZE):
                    acq = fill * adj
                    paid = acq * fee + 0.0
                    got = _add(acq, -paid)
                    if got >= 0.0:
                        cash = cash + got
                        units = _add(pos, -fill)
                        flow = _add(0.0, fill * adj - paid)
                        a_flow = _add(0.0, -fill)
                        filled = True
                side = 1
            if filled:
                if rec:
                    o_f[n_orders, 0] = fill
                    o_f[n_orders, 1] = adj
                    o_f[n_orders, 2] = paid
                    o_f[n_orders, 3] = side
                    o_i[n_orders, 0] = t
                    o_i[n_orders, 1] = 0
                n_orders += 1
                if not in_pos:
                    in_pos = True
                    short = side == 1
                    es = 0.0
                    eg = 0.0
                    ef = 0.0
                if short == (side == 1):
                    es += fill
                    eg += fill * adj
                    ef += paid
                elif _is_close_or_less(fill, es):
                    closed = _is_close(fill, es)
                    exit_size = es if closed else fill
                    entry_price = eg / es
                    entry_fees = exit_size / es * ef
                    ret = _trade_return(exit_size, entry_price, entry_fees, adj, paid, short)
                    if ret == ret:
                        n_trades += 1.0
                        if ret > 0.0:
                            n_wins += 1.0
                    if closed:
                        in_pos = False
                    else:
                        frac = (es - fill) / es
                        es *= frac
                        eg *= frac
                        ef *= frac
                else:
                    cl = es
                    cl_fees = cl / fill * paid
                    entry_price = eg / es
                    entry_fees = cl / es * ef
                    ret = _trade_return(cl, entry_price, entry_fees, adj, cl_fees, short)
                    if ret == ret:
                        n_trades += 1.0
                        if ret > 0.0:
                            n_wins += 1.0
                    es = fill - cl
                    eg = es * adj
                    ef = paid - cl_fees
                    short = not short
        prev = w
        # add_nb, its common case (nothing traded) written out
        if a_flow == 0.0:
            if abs(assets_s) <= _ABS:
                assets_s = 0.0
        else:
            assets_s = _add(assets_s, a_flow)
        asset_value = 0.0
        if assets_s != 0:
            asset_value += val * assets_s
        g_flow = 0.0 + flow
        if g_flow == 0.0:
            if abs(cash_s) <= _ABS:
                cash_s = 0.0
        else:
            cash_s = _add(cash_s, g_flow)
        value = cash_s + asset_value
        settled = (
            cash == before_cash
            and units == before_units
            and cash_s == before_cs
            and assets_s == before_as
        )
        rt = _bar_return(value, v_prev)
        r[t] = rt
        xt = np.nan
        if funded:
            xt = rt - (0.0 + w_last * fund[t])
            x[t] = xt
        if funded or rec:  # the weight at this close: next bar's funding
            w_last = val * assets_s / value if assets_s != 0 else 0.0 / value
        if rec:
            wts[t] = w_last
            vals[t] = value
        v_prev = value
        # first pass of the statistics
        q = w
        if q != q:
            q = 0.0
        if q != p_prev:  # else: turnover + 0
            turnover += abs(q - p_prev)
            p_prev = q
        if rt == rt:  # the sums the second pass centres on
            n += 1
            if not rf0:
                sum_x += rt - rf_p
            sum_r += rt
        if funded and xt == xt:
            xn += 1
            x_sum_r += xt
        t += 1
        if quiet is None:  # the small specialisation: no quiet-bar loop compiled
            continue
        if not settled or rec:
            continue
        # Quiet bars: the weight unchanged and the state rounded already, so no order
        # and nothing to round; the value is marked to market. The same operations as
        # the bar above, in the same order, without what cannot change (the position
        # statistics: q is p_prev; the order and trade state). In record mode the
        # quiet bars go through the loop's first part instead, which gives the same
        # numbers (its cash_s + (0.0 + v) is cash_s + v: cash_s is never -0.0) and
        # records the weights and values.
        if assets_s == 0:
            # Flat: the value is cash_s + 0.0 on every quiet bar, the value of the bar
            # above, so every return is the same rt. Where that is 0 (and the funding
            # charge 0.0 + 0 * fund is 0: finite funding), adding it again changes no
            # sum: the run's sums are those of one bar, with the count times its
            # length (a float of a whole number: exact). Only the sum of rt - rf_p
            # with rf_p != 0 is added bar by bar.
            value = cash_s + 0.0
            rt = _bar_return(value, v_prev)
            flat = rt == 0.0 and (w_last == 0.0 or not funded)
            price = val  # the last price of the run, below
            e = t
            while e < n_bars and h[e] == prev:
                if not np.isnan(close[e]):
                    price = close[e]
                if funded and not np.isfinite(fund[e]):
                    flat = False
                e += 1
            if flat and e > t:
                val = price
                for i in range(t, e):
                    r[i] = rt
                    if funded:
                        x[i] = rt  # rt - (0.0 + w_last * fund[i]), bit for bit
                    if not rf0:
                        sum_x += rt - rf_p
                n += e - t
                sum_r += rt
                if funded:
                    xn += e - t
                    x_sum_r += rt
                v_prev = value
                t = e
        while t < n_bars and h[t] == prev:
            price = close[t]
            if price == price:
                val = price
            value = cash_s + (val * assets_s if assets_s != 0 else 0.0)
            rt = _bar_return(value, v_prev)
            r[t] = rt
            xt = np.nan
            if funded:
                xt = rt - (0.0 + w_last * fund[t])
                x[t] = xt
                w_last = val * assets_s / value if assets_s != 0 else 0.0 / value
            v_prev = value
            if rt == rt:
                n += 1
                if not rf0:
                    sum_x += rt - rf_p
                sum_r += rt
            if funded and xt == xt:
                xn += 1
                x_sum_r += xt
            t += 1
    if in_pos and _is_less(-es, 0.0):
        entry_price = eg / es
        entry_fees = es / es * ef
        ret = _trade_return(es, entry_price, entry_fees, close[n_bars - 1], 0.0, short)
        if ret == ret:
            n_trades += 1.0
            if ret > 0.0:
                n_wins += 1.0
    return n_orders, n, sum_r, sum_x, xn, x_sum_r, n_trades, n_wins, turnover


@njit(error_model="numpy", **_INNER)
def _second_pass(  # pragma: no cover - numba
    r, x, h, bounds, funded, rf_p, ppy, n, sum_r, sum_x, xn, x_sum_r, n_trades, n_wins,
    turnover, m_out, b_out, c,
):  # fmt: skip
    """:func:`_one_leg`'s second pass, over the returns it kept in `r` (and `x`): from
    the first pass's sums (the means), the trade counts and the turnover, the metrics
    of set `c` into ``m_out`` and its PBO block sums into ``b_out``."""
    n_bars = r.shape[0]
    n_blocks = bounds.shape[0] - 1
    rf0 = rf_p == 0.0
    ann = math.sqrt(ppy)
    growth = 1.0
    hi = -np.inf
    lo = np.inf
    peak = 1.0
    trough = 1.0
    max_dd = 0.0
    x_hi = -np.inf
    x_lo = np.inf
    active = 0
    wins = 0
    if rf0:
        sum_x = sum_r
    mean_x = sum_x / n
    mean_r = sum_r / n
    x_mean_r = x_sum_r / xn
    ss_x = 0.0
    ss_r = 0.0
    down = 0.0
    x_ss_r = 0.0
    x_down = 0.0
    # One loop per PBO block (the whole series when there are none), bars in order: the
    # growth, drawdown and day counts, the risk sums (of the excess returns when
    # funded) and the block's count, sum and centred sums. A block centres on the mean
    # of the series it sums (mean_r, or x_mean_r when funded), as the variance does,
    # so both add the same e and e * e.
    one = n_blocks <= 0  # bounds empty: no blocks
    for blk in range(1 if one else n_blocks):
        start = 0 if one else bounds[blk]
        stop = n_bars if one else bounds[blk + 1]
        b_count = 0.0
        b_sum = 0.0
        sd = 0.0
        sq = 0.0
        for t in range(start, stop):
            rt = r[t]
            if rt == rt:
                growth *= 1.0 + rt
                up_now = int(rt > 0.0)  # branch-free: rt's sign is a coin toss
                if growth > peak:
                    dd = 1.0 - trough / peak
                    if dd > max_dd:
                        max_dd = dd
                    peak = growth
                    trough = growth
                else:  # a select, not a branch: a new low is a coin toss
                    trough = growth if growth < trough else trough
                q = h[t]
                held_now = int(q == q and q != 0.0)
                active += held_now
                wins += held_now & up_now
                if not funded:  # funded: the risk measures are the excess returns'
                    hi = max(hi, rt)
                    lo = min(lo, rt)
                    e = rt - mean_r
                    ee = e * e
                    ss_r += ee
                    if not rf0:
                        d = rt - rf_p - mean_x
                        ss_x += d * d
                    short_fall = rt - rf_p  # min(rt - rf_p, 0.0); a zero's sign squares away
                    short_fall = 0.0 if short_fall >= 0.0 else short_fall
                    down += short_fall * short_fall
                    b_count += 1.0
                    b_sum += rt
                    sd += e
                    sq += ee
            if funded:
                sv = x[t]
                if sv == sv:
                    x_hi = max(x_hi, sv)
                    x_lo = min(x_lo, sv)
                    e = sv - x_mean_r
                    ee = e * e
                    x_ss_r += ee
                    short_fall = 0.0 if sv >= 0.0 else sv
                    x_down += short_fall * short_fall
                    b_count += 1.0
                    b_sum += sv
                    sd += e
                    sq += ee
        if not one:
            b_out[blk, 0, c] = b_count
            b_out[blk, 1, c] = b_sum
            b_out[blk, 2, c] = sd
            b_out[blk, 3, c] = sq
    dd = 1.0 - trough / peak
    if dd > max_dd:
        max_dd = dd
    if rf0:
        ss_x = ss_r
    for i in range(N_METRICS + 1):
        m_out[c, i] = np.nan
    if n > 0:
        total = growth - 1.0
        cagr = growth ** (ppy / n) - 1.0
        m_out[c, 0] = total
        m_out[c, 1] = cagr
        if not funded:
            if n >= 2 and hi != lo:
                std_x = math.sqrt(ss_x / (n - 1.0))
                m_out[c, 2] = std_x * ann
                m_out[c, 3] = mean_x / std_x * ann
                std_r = math.sqrt(ss_r / (n - 1.0))
                if std_r > 0.0:
                    m_out[c, 12] = mean_r / std_r
            downside = math.sqrt(down / n)
            if downside > 0.0:
                m_out[c, 4] = mean_x / downside * ann
        m_out[c, 5] = max_dd
        if max_dd > 0.0:
            m_out[c, 6] = cagr / max_dd
    if funded and xn > 0:
        if xn >= 2 and x_hi != x_lo:
            std_x = math.sqrt(x_ss_r / (xn - 1.0))
            m_out[c, 2] = std_x * ann
            m_out[c, 3] = x_mean_r / std_x * ann
            std_r = math.sqrt(x_ss_r / (xn - 1.0))
            if std_r > 0.0:
                m_out[c, 12] = x_mean_r / std_r
        downside = math.sqrt(x_down / xn)
        if downside > 0.0:
            m_out[c, 4] = x_mean_r / downside * ann
    m_out[c, 7] = n_wins / n_trades
    m_out[c, 8] = wins / active
    m_out[c, 9] = n_trades
    m_out[c, 10] = active / n
    m_out[c, 11] = turnover / n * ppy


@njit(error_model="numpy", **_INNER)
def _sharpe(r, lo, hi, rf_p, ppy):  # pragma: no cover - numba
    """The annualised Sharpe ratio of ``r[lo:hi]``: :func:`backtest.kernels.return_stats_1d`'s
    ``sharpe``, the same operations in the same order, without its other statistics."""
    n = 0
    sum_x = 0.0
    hi_v = -np.inf
    lo_v = np.inf
    for i in range(lo, hi):
        v = r[i]
        if v == v:
            n += 1
            sum_x += v - rf_p
            hi_v = max(hi_v, v)
            lo_v = min(lo_v, v)
    if n < 2 or hi_v == lo_v:
        return np.nan
    mean_x = sum_x / n
    ss_x = 0.0
    for i in range(lo, hi):
        v = r[i]
        if v == v:
            d = v - rf_p - mean_x
            ss_x += d * d
    std_x = math.sqrt(ss_x / (n - 1.0))
    return mean_x / std_x * math.sqrt(ppy)


@njit(error_model="numpy", **_INNER)
def _finish(r, x, funded, folds, rf_p, ppy, f_out, c, store, r_out, x_out):  # pragma: no cover
    """A simulated set's epilogue: the in-sample Sharpe ratio of each validation fold
    (train rows ``folds[f, 0:2]``) and, with `store`, its returns kept in row `c`."""
    for f in range(folds.shape[0]):
        if funded:
            f_out[c, f] = _sharpe(x, folds[f, 0], folds[f, 1], 0.0, ppy)
        else:
            f_out[c, f] = _sharpe(r, folds[f, 0], folds[f, 1], rf_p, ppy)
    if store:  # element loops: a slice assignment compiles numba's shape-error formatting
        for t in range(r.shape[0]):
            r_out[c, t] = r[t]
        if funded:
            for t in range(x.shape[0]):
                x_out[c, t] = x[t]


# --------------------------------------------------------------------------- many columns


@njit(error_model="numpy", **_INNER)
def _fill_signal(features, rule, levels, lag, c, h):  # pragma: no cover - numba
    """Weights of set ``c`` of a comparison rule (:class:`backtest.strategy.Crossing`)."""
    a = rule[c, 0]
    b = rule[c, 1]
    for t in range(h.shape[0]):
        if t < lag:
            h[t] = 0.0
            continue
        s = t - lag
        right = features[b, s]
        if right != right:
            w = 0.0
        elif features[a, s] > right:
            w = levels[c, 0]
        else:
            w = levels[c, 1]
        if w != w:
            w = 0.0
        h[t] = min(max(w, -1.0), 1.0)


@njit(cache=True, nogil=True, error_model="numpy")
def one_leg_columns(  # pragma: no cover - numba
    close, held, features, rule, levels, lag, fee, sl, fund, rf_p, ppy, bounds, folds, store,
    r_out, x_out, m_out, b_out, f_out, o_f, o_i, wts, vals, work, quiet,
):  # fmt: skip
    """Simulate and measure K parameter sets of a one-leg strategy.

    Arrays are bars-last: ``held`` (K, T), ``features`` (F, T), ``r_out`` (K, T). The
    weights are either given (``held``, already lagged) or made here from a
    comparison rule (``held`` of shape (0, 0)): the target of bar t is ``levels[k, 0]``
    when ``features[t, rule[k, 0]] > features[t, rule[k, 1]]``, else ``levels[k,
    1]``, and 0 while the right side is NaN; it is held from bar ``t + lag``. Writes
    the metrics (and the PBO block sums, fold Sharpe ratios, returns when `store`).
    Record mode (:func:`one_leg_record`, one set): non-empty ``o_f``/``o_i``/``wts``/
    ``vals`` take the fills, weights and values. ``work`` (3, T) is scratch space.
    Returns the number of fills of the last set. One entry point serves both uses, so
    the simulation is compiled once for each value of `quiet`: True (the quiet-bar
    loop, for large chunks) or None (a smaller function, quicker to compile, for small
    ones and records; see :data:`QUIET_MIN_CELLS`). Both give the same numbers, bit
    for bit.
    """
    n_bars = close.shape[0]
    signal = held.shape[1] == 0
    k_sets = rule.shape[0] if signal else held.shape[0]
    funded = fund.shape[0] > 0
    r = work[0]
    x = work[1]
    h = work[2]
    n_fills = 0
    for c in range(k_sets):
        if signal:
            _fill_signal(features, rule, levels, lag, c, h)
        else:
            for t in range(n_bars):
                h[t] = held[c, t]
        n_fills, n, sum_r, sum_x, xn, x_sum_r, n_trades, n_wins, turnover = _one_leg(
            close, h, fee, sl, fund, rf_p, ppy, r, x, o_f, o_i, wts, vals, quiet
        )
        _second_pass(
            r, x, h, bounds, funded, rf_p, ppy, n, sum_r, sum_x, xn, x_sum_r, n_trades,
            n_wins, turnover, m_out, b_out, c,
        )  # fmt: skip
        _finish(r, x, funded, folds, rf_p, ppy, f_out, c, store, r_out, x_out)
    return n_fills


_NO_F = np.empty((0, 4))
_NO_I = np.empty((0, 2), np.int64)
_NO_W = np.empty(0)


def no_record() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The empty record arrays of :func:`one_leg_columns` outside record mode."""
    return _NO_F, _NO_I, _NO_W, _NO_W


def one_leg_record(
    close: np.ndarray,
    h: np.ndarray,
    fee: float,
    sl: float,
    fund: np.ndarray,
    rf_p: float,
    ppy: float,
    r: np.ndarray,
    x: np.ndarray,
    m_out: np.ndarray,
    o_f: np.ndarray,
    o_i: np.ndarray,
    wts: np.ndarray,
    vals: np.ndarray,
) -> int:
    """One parameter set of a one-leg strategy with its fills, weights and values.

    :func:`one_leg_columns` in record mode on one set: returns in ``r`` (and excess
    returns in ``x`` when funded), metrics in ``m_out`` (1, N_METRICS + 1), fills in
    ``o_f``/``o_i``, the weight and value at each close in ``wts``/``vals``; returns the
    number of fills.
    """
    funded = fund.shape[0] > 0
    r2 = r.reshape(1, -1)
    x2 = x.reshape(1, -1) if funded else np.empty((0, 0))
    n = one_leg_columns(
        close, h.reshape(1, -1), np.empty((0, 0)), np.empty((0, 2), np.int64),
        np.empty((0, 2)), 0, fee, sl, fund, rf_p, ppy, np.empty(0, np.int64),
        np.empty((0, 4), np.int64), True, r2, x2, m_out, np.empty((0, 4, 0)),
        np.empty((1, 0)), o_f, o_i, wts, vals, np.empty((3, close.shape[0])), None,
    )  # fmt: skip
    return int(n)


def compile_one_leg(quiet: bool | None = None) -> None:
    """Compile :func:`one_leg_columns` (or load it from the disk cache) without pandas.

    One call on a tiny problem with the argument types :func:`backtest.engine.book.
    simulate_kernel` and :func:`one_leg_record` pass (C-ordered, writable float64 and
    int64 arrays, a Python int, floats, a bool), so the specialisation a run uses is
    the one compiled: with `quiet` None the small one (small sweeps, single backtests),
    with True the one with the quiet-bar loop (chunks of :data:`QUIET_MIN_CELLS` or
    more). The cold-cache compile child runs this (:mod:`backtest.engine.precompile`):
    it needs numpy and numba only, so it starts compiling within a fraction of a second.
    """
    n = 8
    held = np.ones((1, n))
    held[0, 0] = 0.0
    none2 = np.empty((0, 0))
    one_leg_columns(
        np.linspace(1.0, 2.0, n), held, none2, np.empty((0, 2), np.int64), np.empty((0, 2)),
        1, 1e-4, 1e-4, np.empty(0), 0.0, 252.0, np.array([0, 4, 8], np.int64),
        np.array([[0, 4, 4, 8]], np.int64), True, np.empty((1, n)), none2,
        np.empty((1, N_METRICS + 1)), np.zeros((2, 4, 1)), np.empty((1, 1)), *no_record(),
        np.empty((3, n)), quiet,
    )  # fmt: skip


def compile_later_parts() -> None:
    """Compile the functions :func:`one_leg_columns` calls after the simulation loop
    (:func:`_second_pass`, then :func:`_finish`) into the disk cache, for the argument
    types they are called with.

    ``backtest run`` runs this on a cold cache while its compile child
    (:func:`compile_one_leg`) compiles the loop with its helpers: numba compiles the
    entry point's callees in the order it calls them, so by the time the child reaches
    these, it loads them from the cache instead of compiling them (if it gets there
    first, it compiles them itself: the same code either way). The loop's helpers are
    left to the child, which needs them within its first seconds.
    """
    from numba import typeof

    row = typeof(np.empty((3, 8))[0])  # a row of the entry point's work space
    vec = typeof(np.empty(0, np.int64))
    two, three = typeof(np.empty((1, 1))), typeof(np.empty((1, 1, 1)))
    two_i = typeof(np.empty((1, 4), np.int64))
    f64, i64, flag = typeof(0.0), typeof(np.int64(0)), typeof(True)
    _second_pass.compile(
        (row, row, row, vec, flag, f64, f64, i64, f64, f64, i64, f64, f64, f64, f64, two,
         three, i64)
    )  # fmt: skip
    _finish.compile((row, row, flag, two_i, f64, f64, two, i64, flag, two, two))


@njit(cache=True, nogil=True, error_model="numpy")
def legs_columns(  # pragma: no cover - numba
    close, held, fees, slip, fund, rf_p, ppy, bounds, folds, store, r_out, x_out, m_out, b_out,
    f_out, bad_out,
):  # fmt: skip
    """Simulate and measure K parameter sets of a portfolio of L legs (shared cash).

    ``held`` is (K * L, T), legs innermost, already lagged; ``r_out`` (K, T).
    ``bad_out[k]`` is the first ``bar * L + leg`` at which a long weight was filled
    short of its target by more than its costs explain (no borrowing), or -1.
    """
    n_bars, n_legs = close.shape
    k_sets = held.shape[0] // n_legs
    funded = fund.shape[0] > 0
    check = n_legs - n_legs + 1  # 1, as a runtime value
    r = np.empty(n_bars)
    x = np.empty(n_bars) if funded else np.empty(0)
    gross = np.empty(n_bars)
    leg = np.empty(n_bars)
    h = np.empty((n_bars, n_legs))
    counts = np.empty(3)
    rs = np.empty(10)
    ps = np.empty(4)
    no_f = np.empty((0, 4))
    no_i = np.empty((0, 2), np.int64)
    no_w = np.empty((0, 0))
    no_v = np.empty(0)
    for c in range(k_sets):
        for j in range(n_legs):
            for t in range(n_bars):
                h[t, j] = held[c * n_legs + j, t]
        _simulate(close, h, fees, slip, fund, r, x, counts, no_f, no_i, no_w, no_v, check)
        bad_out[c] = np.int64(counts[2])
        score = x if funded else r
        # metrics, as backtest.engine.book.measure
        _return_stats(r, rf_p, ppy, rs)
        total, cagr, vol, sharpe, sortino = rs[1], rs[2], rs[3], rs[4], rs[5]
        max_dd, calmar, raw = rs[6], rs[7], rs[9]
        if funded:
            _return_stats(x, 0.0, ppy, rs)
            vol, sharpe, sortino, raw = rs[3], rs[4], rs[5], rs[9]
        turnover = 0.0
        for j in range(n_legs):
            for t in range(n_bars):
                leg[t] = h[t, j]
            _position_stats(r, leg, ps)
            turnover += ps[2]
        turnover *= ppy
        for t in range(n_bars):
            g = 0.0
            for j in range(n_legs):
                g += abs(h[t, j])
            gross[t] = g
        _position_stats(r, gross, ps)
        m_out[c, 0] = total
        m_out[c, 1] = cagr
        m_out[c, 2] = vol
        m_out[c, 3] = sharpe
        m_out[c, 4] = sortino
        m_out[c, 5] = max_dd
        m_out[c, 6] = calmar
        m_out[c, 7] = counts[1] / counts[0]
        m_out[c, 8] = ps[3]
        m_out[c, 9] = counts[0]
        m_out[c, 10] = ps[0]
        m_out[c, 11] = turnover
        m_out[c, 12] = raw
        if bounds.shape[0] > 0:
            _block_stats(score, bounds, b_out, c)
        _finish(r, x, funded, folds, rf_p, ppy, f_out, c, store, r_out, x_out)
    return k_sets


@njit(cache=True, nogil=True, error_model="numpy")
def legs_record(close, h, fees, slip, fund, r, x, counts, o_f, o_i, wts, vals):  # pragma: no cover
    """One parameter set of a portfolio with its fills, weights and values.

    ``o_f`` and ``o_i`` have room for one order per bar and leg; returns the number
    of orders written.
    """
    check = close.shape[1] - close.shape[1]  # 0, as a runtime value
    return _simulate(close, h, fees, slip, fund, r, x, counts, o_f, o_i, wts, vals, check)
