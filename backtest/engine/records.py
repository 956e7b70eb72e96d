"""Trade records and fill costs from order records, without vectorbt.

A simulation's fills are order records (:data:`ORDER_DTYPE`, the fields and types of
vectorbt 1.2's ``order_dt``). This module turns them into what a single backtest
reports, so that a run needs no vectorbt import:

- :func:`exit_trades`: vectorbt's exit trades (:data:`TRADE_DTYPE`, its ``trade_dt``),
  a line-by-line port of ``vectorbt.portfolio.nb.get_exit_trades_nb`` and
  ``get_trade_stats_nb`` with the same float tolerances (``vectorbt.utils.math_``:
  relative 1e-9, absolute 1e-12);
- :func:`trade_table_from_records`: the trade table of
  :func:`backtest.engine.simulate.trade_table` from those records;
- :func:`costs_from_orders`: each bar's and leg's fill costs, as
  :func:`backtest.engine.book.attribution` charges them.

The trade loop is plain Python over lists and the trades' pnl and return one numpy
pass (a backtest has at most a few thousand orders: 3,000 take 6-17 ms here, against
0.1 ms for vectorbt's compiled kernel), which costs no compilation on a cold cache.
Every float matches vectorbt's to the last bit (IEEE double arithmetic in the same
order, no fused multiply-add).
"""

from __future__ import annotations

from collections.abc import Sequence
from math import isfinite

import numpy as np
import pandas as pd

from backtest.errors import DataValidationError

__all__ = [
    "ORDER_DTYPE",
    "TRADE_COLUMNS",
    "TRADE_DTYPE",
    "costs_from_orders",
    "exit_trades",
    "trade_table_from_records",
]

#: Order records: the fields and types of ``vectorbt.portfolio.enums.order_dt``.
#: ``side``: 0 buy, 1 sell; ``size`` > 0 units; ``price`` the fill price (after
#: slippage); ``fees`` in cash.
ORDER_DTYPE = np.dtype(
    [
        ("id", np.int64),
        ("col", np.int64),
        ("idx", np.int64),
        ("size", np.float64),
        ("price", np.float64),
        ("fees", np.float64),
        ("side", np.int64),
    ],
    align=True,
)

#: Exit trade records: the fields and types of ``vectorbt.portfolio.enums.trade_dt``.
#: ``direction``: 0 long, 1 short; ``status``: 0 open, 1 closed; ``parent_id`` the
#: position the trade belongs to.
TRADE_DTYPE = np.dtype(
    [
        ("id", np.int64),
        ("col", np.int64),
        ("size", np.float64),
        ("entry_idx", np.int64),
        ("entry_price", np.float64),
        ("entry_fees", np.float64),
        ("exit_idx", np.int64),
        ("exit_price", np.float64),
        ("exit_fees", np.float64),
        ("pnl", np.float64),
        ("return", np.float64),
        ("direction", np.int64),
        ("status", np.int64),
        ("parent_id", np.int64),
    ],
    align=True,
)

_BUY, _SELL = 0, 1
_LONG, _SHORT = 0, 1
_OPEN, _CLOSED = 0, 1
_REL_TOL, _ABS_TOL = 1e-9, 1e-12  # vectorbt.utils.math_

#: Columns of a backtest's trade table (those of :func:`trade_table_from_records`).
TRADE_COLUMNS = (
    "leg",
    "entry_date",
    "exit_date",
    "direction",
    "entry_price",
    "exit_price",
    "return",
    "status",
)


def _is_close(a: float, b: float) -> bool:
    """``vectorbt.utils.math_.is_close_nb``: never for NaN or infinity."""
    if not (isfinite(a) and isfinite(b)):
        return False
    if a == b:
        return True
    aa, ab = abs(a), abs(b)
    tol = _REL_TOL * (aa if aa >= ab else ab)
    return abs(a - b) <= (tol if tol >= _ABS_TOL else _ABS_TOL)


def _is_close_or_less(a: float, b: float) -> bool:
    """``vectorbt.utils.math_.is_close_or_less_nb``."""
    return True if _is_close(a, b) else a < b


def _is_less(a: float, b: float) -> bool:
    """``vectorbt.utils.math_.is_less_nb``."""
    return False if _is_close(a, b) else a < b


def _is_close_arr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`_is_close` elementwise."""
    with np.errstate(invalid="ignore", over="ignore"):
        tol = np.maximum(_REL_TOL * np.maximum(np.abs(a), np.abs(b)), _ABS_TOL)
        near = (a == b) | (np.abs(a - b) <= tol)
    return np.isfinite(a) & np.isfinite(b) & near


def _add_arr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``vectorbt.utils.math_.add_nb`` elementwise: a + b, exactly 0 when they (nearly)
    cancel (signs differ, NaN's included: |a| and |b| close; else a + b close to 0)."""
    with np.errstate(invalid="ignore", over="ignore"):
        total = a + b
        differ = np.sign(a) != np.sign(b)
        zero = np.where(
            differ, _is_close_arr(np.abs(a), np.abs(b)), _is_close_arr(total, np.zeros_like(total))
        )
    return np.where(zero, 0.0, total)


def _trade_stats(
    size: np.ndarray,
    entry_price: np.ndarray,
    entry_fees: np.ndarray,
    exit_price: np.ndarray,
    exit_fees: np.ndarray,
    direction: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``vectorbt.portfolio.nb.get_trade_stats_nb`` elementwise: (pnl, return)."""
    entry_val = size * entry_price
    exit_val = size * exit_price
    val_diff = _add_arr(exit_val, -entry_val)
    val_diff = np.where((val_diff != 0) & (direction == _SHORT), -val_diff, val_diff)
    pnl = val_diff - entry_fees - exit_fees
    with np.errstate(divide="ignore", invalid="ignore"):
        return pnl, pnl / entry_val


def _check_orders(orders: np.ndarray, n_cols: int, where: str) -> None:
    missing = [
        f
        for f in ("id", "col", "idx", "size", "price", "fees", "side")
        if f not in (orders.dtype.names or ())
    ]
    if orders.ndim != 1 or missing:
        raise DataValidationError(
            f"{where}: orders must be a 1-d array of ORDER_DTYPE records, got shape "
            f"{orders.shape} with fields {orders.dtype.names}; missing {missing}"
        )
    col = orders["col"]
    if col.size and (col.min() < 0 or col.max() >= n_cols):
        raise DataValidationError(
            f"{where}: orders['col'] must lie in [0, {n_cols}) (the columns of close), got "
            f"{int(col.min())}..{int(col.max())}"
        )


def _close_2d(close: np.ndarray, where: str) -> np.ndarray:
    arr = np.asarray(close, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise DataValidationError(
            f"{where}: close must be a (bars, columns) array with at least one bar, got shape "
            f"{np.shape(close)}"
        )
    return arr


def exit_trades(orders: np.ndarray, close: np.ndarray) -> np.ndarray:
    """Exit trades of order records, as vectorbt 1.2's ``Portfolio.trades.values``.

    A trade is opened by an order on a flat column and closed (in part or in full) by
    each order against the position: a sell in a long, a buy in a short. An order
    larger than the position closes it and opens the opposite one with the rest of
    its size (and the matching share of its fees). A position still open after the
    last order is one open trade marked at the last close.

    Parameters
    ----------
    orders : numpy.ndarray
        Order records (:data:`ORDER_DTYPE` fields), in any order: they are taken per
        column in ascending ``id`` (a stable sort by ``(col, id)``, vectorbt's column
        map for ids in order of fill).
    close : numpy.ndarray
        (bars, columns) close of each column (1-d for one column); the last row marks
        open trades.

    Returns
    -------
    numpy.ndarray
        :data:`TRADE_DTYPE` records by column, then by exit; ``id`` counts from 0.

    Raises
    ------
    DataValidationError
        `orders` lack an :data:`ORDER_DTYPE` field or name a column `close` lacks, an
        order's size or price is not positive, or `close` is not 2-d.

    Notes
    -----
    For a trade of size :math:`s` closed at :math:`p_x` with exit fees :math:`f_x`, out
    of entries with size-weighted average price :math:`\\bar p_e` and fees
    :math:`F_e`: entry fees :math:`f_e = F_e s / S_e` (:math:`S_e` the entries' size),
    :math:`\\text{pnl} = \\pm(s p_x - s \\bar p_e) - f_e - f_x` (``-`` for a short, the
    difference 0 when within 1e-9 relative / 1e-12 absolute) and return
    :math:`\\text{pnl} / (s \\bar p_e)`. A partial exit scales the remaining entries'
    size, value and fees by :math:`(S_e - s) / S_e`.

    Examples
    --------
    >>> orders = np.array([(0, 0, 0, 2.0, 10.0, 0.0, 0), (1, 0, 2, 2.0, 11.0, 0.0, 1)],
    ...                   dtype=ORDER_DTYPE)
    >>> t = exit_trades(orders, np.array([10.0, 10.5, 11.0]))
    >>> float(t["pnl"][0]), float(t["return"][0]), int(t["status"][0])
    (2.0, 0.1, 1)
    """
    close2 = _close_2d(close, "exit_trades")
    _check_orders(orders, close2.shape[1], "exit_trades")
    order = np.lexsort((orders["id"], orders["col"]))
    sizes = orders["size"][order]
    prices = orders["price"][order]
    bad = np.flatnonzero(~(sizes > 0.0) | ~(prices > 0.0))
    if bad.size:
        o = orders[order[bad[0]]]
        raise DataValidationError(
            f"exit_trades: order {int(o['id'])} (column {int(o['col'])}, bar {int(o['idx'])}) "
            f"has size {float(o['size']):g} and price {float(o['price']):g}; both must be > 0"
        )
    cols = orders["col"][order].tolist()
    idxs = orders["idx"][order].tolist()
    size_l, price_l = sizes.tolist(), prices.tolist()
    fees_l = orders["fees"][order].tolist()
    sides = orders["side"][order].tolist()
    last_row = close2.shape[0] - 1
    last_close = close2[last_row].tolist()

    out: list[tuple[int, float, int, float, float, int, float, float, int, int, int]] = []
    parent_id = -1
    n = len(cols)
    start = 0
    while start < n:
        col = cols[start]
        stop = start
        while stop < n and cols[stop] == col:
            stop += 1
        in_position = False
        entry_idx = direction = -1
        entry_size_sum = entry_gross_sum = entry_fees_sum = 0.0
        for k in range(start, stop):
            i, order_size, order_price = idxs[k], size_l[k], price_l[k]
            order_fees, order_side = fees_l[k], sides[k]
            if not in_position:  # trade opened
                in_position = True
                entry_idx = i
                direction = _LONG if order_side == _BUY else _SHORT
                parent_id += 1
                entry_size_sum = entry_gross_sum = entry_fees_sum = 0.0
            if (direction == _LONG and order_side == _BUY) or (
                direction == _SHORT and order_side == _SELL
            ):  # position increased
                entry_size_sum += order_size
                entry_gross_sum += order_size * order_price
                entry_fees_sum += order_fees
            elif (direction == _LONG and order_side == _SELL) or (
                direction == _SHORT and order_side == _BUY
            ):
                if _is_close_or_less(order_size, entry_size_sum):  # trade closed
                    closes_all = _is_close(order_size, entry_size_sum)
                    exit_size = entry_size_sum if closes_all else order_size
                    entry_price = entry_gross_sum / entry_size_sum
                    entry_fees = exit_size / entry_size_sum * entry_fees_sum
                    out.append(
                        (
                            col,
                            exit_size,
                            entry_idx,
                            entry_price,
                            entry_fees,
                            i,
                            order_price,
                            order_fees,
                            direction,
                            _CLOSED,
                            parent_id,
                        )
                    )
                    if closes_all:  # position closed
                        entry_idx = direction = -1
                        in_position = False
                    else:  # position decreased: earlier entries weigh less
                        fraction = (entry_size_sum - order_size) / entry_size_sum
                        entry_size_sum *= fraction
                        entry_gross_sum *= fraction
                        entry_fees_sum *= fraction
                else:  # trade reversed: close the position, open the other side
                    cl_exit_size = entry_size_sum
                    cl_exit_fees = cl_exit_size / order_size * order_fees
                    entry_price = entry_gross_sum / entry_size_sum
                    entry_fees = cl_exit_size / entry_size_sum * entry_fees_sum
                    out.append(
                        (
                            col,
                            cl_exit_size,
                            entry_idx,
                            entry_price,
                            entry_fees,
                            i,
                            order_price,
                            cl_exit_fees,
                            direction,
                            _CLOSED,
                            parent_id,
                        )
                    )
                    entry_size_sum = order_size - cl_exit_size
                    entry_gross_sum = entry_size_sum * order_price
                    entry_fees_sum = order_fees - cl_exit_fees
                    entry_idx = i
                    direction = _SHORT if direction == _LONG else _LONG
                    parent_id += 1
        if in_position and _is_less(-entry_size_sum, 0):  # trade not closed
            entry_price = entry_gross_sum / entry_size_sum
            entry_fees = entry_size_sum / entry_size_sum * entry_fees_sum
            out.append(
                (
                    col,
                    entry_size_sum,
                    entry_idx,
                    entry_price,
                    entry_fees,
                    last_row,
                    last_close[col],
                    0.0,
                    direction,
                    _OPEN,
                    parent_id,
                )
            )
        start = stop
    trades = np.zeros(len(out), dtype=TRADE_DTYPE)
    if not out:
        return trades
    fields = [name for name in TRADE_DTYPE.names or () if name not in ("id", "pnl", "return")]
    for name, values in zip(fields, zip(*out, strict=True), strict=True):
        trades[name] = values
    trades["id"] = np.arange(len(out))
    trades["pnl"], trades["return"] = _trade_stats(
        trades["size"],
        trades["entry_price"],
        trades["entry_fees"],
        trades["exit_price"],
        trades["exit_fees"],
        trades["direction"],
    )
    return trades


def trade_table_from_records(
    trades: np.ndarray, bars: pd.DatetimeIndex, legs: Sequence[str]
) -> pd.DataFrame:
    """The trade table of one parameter set, as :func:`backtest.engine.simulate.trade_table`.

    Parameters
    ----------
    trades : numpy.ndarray
        :data:`TRADE_DTYPE` records (:func:`exit_trades`), columns numbering `legs`.
    bars : pandas.DatetimeIndex
        The simulation's bars (``entry_idx`` and ``exit_idx`` index them).
    legs : sequence of str
        The name of each column, in order.

    Returns
    -------
    pandas.DataFrame
        One row per trade, columns ``leg, entry_date, exit_date, direction`` ("long" or
        "short"), ``entry_price, exit_price, return, status`` ("open" or "closed");
        empty (no dtypes) without trades.

    Raises
    ------
    DataValidationError
        A trade's column is not a leg or its bars are not in `bars`.
    """
    if len(trades) == 0:
        return pd.DataFrame(columns=list(TRADE_COLUMNS))
    col = trades["col"]
    if col.min() < 0 or col.max() >= len(legs):
        raise DataValidationError(
            f"trade_table_from_records: trades['col'] must lie in [0, {len(legs)}) (legs "
            f"{list(legs)}), got {int(col.min())}..{int(col.max())}"
        )
    entry, exit_ = trades["entry_idx"], trades["exit_idx"]
    lo, hi = min(entry.min(), exit_.min()), max(entry.max(), exit_.max())
    if lo < 0 or hi >= len(bars):
        raise DataValidationError(
            f"trade_table_from_records: trades' entry_idx/exit_idx must lie in [0, {len(bars)}) "
            f"(the bars), got {int(lo)}..{int(hi)}"
        )
    index = pd.DatetimeIndex(bars)
    names = np.array(["long", "short"], dtype=object)
    status = np.array(["open", "closed"], dtype=object)
    return pd.DataFrame(
        {
            "leg": [legs[int(c)] for c in col],
            "entry_date": index[entry].to_numpy(),
            "exit_date": index[exit_].to_numpy(),
            "direction": pd.Series(names[trades["direction"]]).astype(str).to_numpy(),
            "entry_price": trades["entry_price"].astype(float),
            "exit_price": trades["exit_price"].astype(float),
            "return": trades["return"].astype(float),
            "status": pd.Series(status[trades["status"]]).astype(str).to_numpy(),
        }
    )


def costs_from_orders(
    orders: np.ndarray, close: np.ndarray, n_bars: int, n_legs: int
) -> np.ndarray:
    """Each bar's and leg's fill costs in cash: fees plus slippage against the close.

    Parameters
    ----------
    orders : numpy.ndarray
        Order records (:data:`ORDER_DTYPE` fields) of one parameter set; ``col`` is the
        leg.
    close : numpy.ndarray
        (bars, legs) close each leg is marked at.
    n_bars, n_legs : int
        Shape of the result.

    Returns
    -------
    numpy.ndarray
        (n_bars, n_legs): :math:`\\sum (f + s \\lvert p - c \\rvert)` over the orders of
        each bar and leg (fees :math:`f`, size :math:`s`, fill price :math:`p`, close
        :math:`c`); 0 where nothing was filled.

    Raises
    ------
    DataValidationError
        `close` is not (n_bars, n_legs), or an order's bar or leg lies outside it.
    """
    close2 = np.asarray(close, dtype=np.float64)
    if close2.ndim == 1 and n_legs == 1:
        close2 = close2.reshape(-1, 1)
    if close2.shape != (n_bars, n_legs):
        raise DataValidationError(
            f"costs_from_orders: close must have shape (n_bars, n_legs) = ({n_bars}, {n_legs}), "
            f"got {close2.shape}"
        )
    _check_orders(orders, n_legs, "costs_from_orders")
    idx, col = orders["idx"], orders["col"]
    if idx.size and (idx.min() < 0 or idx.max() >= n_bars):
        raise DataValidationError(
            f"costs_from_orders: orders['idx'] must lie in [0, {n_bars}) (the bars), got "
            f"{int(idx.min())}..{int(idx.max())}"
        )
    cost = np.zeros((n_bars, n_legs))
    fill_cost = orders["fees"] + orders["size"] * np.abs(orders["price"] - close2[idx, col])
    np.add.at(cost, (idx, col), fill_cost)
    return cost
