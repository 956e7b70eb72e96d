"""An independent reference simulation of a multi-leg portfolio with shared cash.

A plain loop over bars in numpy, written from the rules below and from reading
vectorbt 1.2's order functions (``vectorbt/portfolio/nb.py``: ``execute_order_nb``,
``buy_nb``, ``sell_nb``, ``approx_order_value_nb``, ``simulate_from_orders_nb``), without
calling vectorbt or the project's engine. Tests compare the engine (and vectorbt called
directly) with it.

The rules, for one portfolio (one parameter set):

1. Start with cash 1 and no units.
2. At the close of bar ``t``, every leg whose held weight differs from the previous
   bar's (on the first bar: differs from 0) gets an order; the other legs keep their
   units and drift.
3. The order of a leg brings its units to ``held[t, leg] * V / close[t, leg]``, where
   ``V = cash + sum(units * close[t])`` is the portfolio's value *before any order of
   bar t* (the same `V` for every leg of the bar; the valuation price is the close, not
   the fill price). The order's units are ``delta = target - units``.
4. Orders of a bar run in ascending order of ``held * V - units * close`` (the order's
   approximate value; vectorbt's ``call_seq="auto"``): the biggest sale first, the
   smallest purchase before a bigger one; ties keep the legs' column order.
5. A sale (``delta < 0``) fills at ``close * (1 - slippage)``; the cash received is
   ``|delta| * fill`` less fees of ``fees * |delta| * fill``. Short sales are not
   limited.
6. A purchase fills at ``close * (1 + slippage)`` and costs ``delta * fill * (1 +
   fees)``. If that exceeds the cash left, the purchase is cut to what the cash pays
   for: units ``cash / (1 + fees) / fill``, fees ``cash - cash / (1 + fees)``, cash 0.
   vectorbt compares amounts with a relative tolerance of 1e-9 (absolute 1e-12): a cost
   within it of the cash is paid in full and the cash set to 0; an order of at most
   1e-12 units is ignored.
7. After the orders, ``V_t = cash + sum(units * close[t])`` and the return of bar t is
   ``V_t / V_{t-1} - 1`` with ``V_{-1} = 1``.

The cost of a leg on bar t is its fees plus ``|delta| * |fill - close|`` (slippage),
as a fraction of ``V_{t-1}``; so, per bar,
``return_t = sum(units_{t-1} * (close_t - close_{t-1})) / V_{t-1} - sum(costs_t)``.
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np
import pandas as pd

from backtest.errors import DataValidationError

__all__ = ["Simulation", "simulate"]

#: vectorbt's tolerances for "equal amounts" (``vectorbt.utils.math_``).
REL_TOL = 1e-9
ABS_TOL = 1e-12


class Simulation(TypedDict):
    """What :func:`simulate` returns (see its docstring)."""

    returns: pd.Series
    value: pd.Series
    units: pd.DataFrame
    costs: pd.DataFrame


def _close_to(a: float, b: float) -> bool:
    """vectorbt's ``is_close_nb``: equal within 1e-9 relative or 1e-12 absolute."""
    return a == b or abs(a - b) <= max(REL_TOL * max(abs(a), abs(b)), ABS_TOL)


def _check(close: pd.DataFrame, held: pd.DataFrame, fees: float, slippage: float) -> None:
    """Refuse inputs the rules do not cover, naming what was expected."""
    if not close.index.equals(held.index) or not close.columns.equals(held.columns):
        raise DataValidationError(
            "reference simulate: close and held must have the same index and columns, got "
            f"columns {list(close.columns)} and {list(held.columns)}"
        )
    c = close.to_numpy(dtype=float)
    if not np.all(np.isfinite(c)) or np.any(c <= 0.0):
        raise DataValidationError("reference simulate: close must be finite and positive")
    h = held.to_numpy(dtype=float)
    if not np.all(np.isfinite(h)) or np.any(np.abs(h) > 1.0):
        raise DataValidationError("reference simulate: held must be finite weights in [-1, 1]")
    for name, x in (("fees", fees), ("slippage", slippage)):
        if not (np.isfinite(x) and x >= 0.0):
            raise DataValidationError(f"reference simulate: {name} must be >= 0, got {x!r}")


def simulate(close: pd.DataFrame, held: pd.DataFrame, fees: float, slippage: float) -> Simulation:
    """Simulate target-weight orders on several legs sharing one cash account.

    Parameters
    ----------
    close : pandas.DataFrame
        Level of each leg at each bar's close (bars x legs), positive: the price at
        which the leg is valued and traded.
    held : pandas.DataFrame
        Target weight of each leg held from the close of each bar (already lagged),
        as a fraction of the portfolio's value, in [-1, 1]; same shape as `close`.
    fees, slippage : float
        Fractions of traded value (1 bp = 1e-4).

    Returns
    -------
    Simulation
        ``returns`` (Series): simple return of the portfolio per bar; ``value``
        (Series): its value after each bar's orders, starting from 1; ``units``
        (DataFrame): units of each leg held after the bar's orders; ``costs``
        (DataFrame): fees plus slippage paid per leg and bar, as a fraction of the
        previous bar's value.

    Raises
    ------
    backtest.errors.DataValidationError
        Mismatched frames, a non-positive or missing close, a weight outside [-1, 1],
        negative costs, or a portfolio value that falls to 0 or below (no order rule
        applies then).

    Notes
    -----
    The rules are in the module docstring. Per bar, with ``V`` the value before the
    bar's orders, a leg's order is ``delta = held * V / close - units``; a sale adds
    ``|delta| * close * (1 - s) * (1 - f)`` to the cash, a purchase takes
    ``delta * close * (1 + s) * (1 + f)`` (cut to the cash there is).
    """
    _check(close, held, fees, slippage)
    c = close.to_numpy(dtype=float)
    h = held.to_numpy(dtype=float)
    n_bars, n_legs = c.shape

    cash = 1.0
    units = np.zeros(n_legs)
    prev_weight = np.zeros(n_legs)
    prev_value = 1.0
    out_units = np.zeros((n_bars, n_legs))
    out_costs = np.zeros((n_bars, n_legs))
    out_value = np.zeros(n_bars)

    for t in range(n_bars):
        price = c[t]
        value = cash + float(np.sum(units * price))  # before this bar's orders
        changed = np.flatnonzero(h[t] != prev_weight)
        if changed.size and value <= 0.0:
            raise DataValidationError(
                f"reference simulate: portfolio value {value:g} <= 0 at bar {t}; "
                "no order can be sized"
            )
        # Sales first: ascending approximate order value, ties in column order.
        approx = h[t, changed] * value - units[changed] * price[changed]
        for leg in changed[np.argsort(approx, kind="stable")]:
            if abs(cash) <= ABS_TOL:
                cash = 0.0  # vectorbt rounds a cash balance this close to 0 down to 0
            delta = h[t, leg] * value / price[leg] - units[leg]
            if abs(delta) <= ABS_TOL:
                continue  # vectorbt ignores an order of (nearly) zero units
            if delta < 0.0:  # sale (or short sale)
                fill = price[leg] * (1.0 - slippage)
                size = -delta
                fee = size * fill * fees
                cash += size * fill - fee
                units[leg] -= size
            else:  # purchase, limited by the cash there is
                fill = price[leg] * (1.0 + slippage)
                total = delta * fill * (1.0 + fees)
                if total <= cash or _close_to(total, cash):
                    size = delta
                    fee = delta * fill * fees
                    cash = 0.0 if _close_to(cash, total) else cash - total
                elif cash > 0.0:
                    spend = cash / (1.0 + fees)
                    size = spend / fill
                    fee = cash - spend
                    cash = 0.0
                else:
                    continue  # no cash: vectorbt rejects the purchase
                units[leg] += size
            out_costs[t, leg] = (fee + size * abs(fill - price[leg])) / prev_value
        out_units[t] = units
        out_value[t] = cash + float(np.sum(units * price))
        prev_value = out_value[t]
        prev_weight = h[t]

    index = close.index
    value_s = pd.Series(out_value, index=index, name="value")
    returns = value_s / np.r_[1.0, out_value[:-1]] - 1.0
    return Simulation(
        returns=returns.rename("returns"),
        value=value_s,
        units=pd.DataFrame(out_units, index=index, columns=close.columns),
        costs=pd.DataFrame(out_costs, index=index, columns=close.columns),
    )
