"""HTML text and tables of the report, shared by every section.

Plain text goes in, escaped HTML comes out: callers never escape cells themselves.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

__all__ = ["MEAN_CAR_HEAD", "change_text", "escape", "mean_car_cells", "table"]

#: Columns of a mean CAR in the tests tables: a series' in its unit (bp or %), a group
#: of series' standardized (units differ); the two never share a column.
MEAN_CAR_HEAD = ("mean CAR", "mean standardized CAR")


def change_text(value: float | None, unit: str | None) -> str:
    """A change in its natural unit: ``+47.0 bp``, ``-2.66%``; ``n/a`` if not finite.

    Examples
    --------
    >>> change_text(47.04, "bp"), change_text(-2.6621, "% log return"), change_text(None, "bp")
    ('+47.0 bp', '-2.66%', 'n/a')
    """
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:+.1f} bp" if unit == "bp" else f"{value:+.2f}%"


def mean_car_cells(value: float | None, unit: str | None) -> tuple[str, str]:
    """The two :data:`MEAN_CAR_HEAD` cells of a test row: one filled, the other empty.

    Parameters
    ----------
    value : float or None
        The row's ``caar``.
    unit : str or None
        The series' unit; None for a group of series, whose ``caar`` is the mean
        standardized CAR (no unit).

    Examples
    --------
    >>> mean_car_cells(3.21, "bp"), mean_car_cells(0.4567, None)
    (('+3.2 bp', ''), ('', '+0.457'))
    """
    if unit is not None:
        return change_text(value, unit), ""
    if value is None or not math.isfinite(value):
        return "", "n/a"
    return "", f"{value:+.3g}"


def escape(value: Any) -> str:
    """`value` as HTML text: ``str(value)`` with ``& < > " '`` escaped; None is empty.

    Examples
    --------
    >>> escape("S&P 500 <close>")
    'S&amp;P 500 &lt;close&gt;'
    >>> escape(None)
    ''
    """
    return html.escape("" if value is None else str(value))


def table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    numeric: Sequence[int] = (),
    wrap: Sequence[int] = (),
    classes: Sequence[str] | None = None,
    titles: Sequence[str] | None = None,
) -> str:
    """An HTML table; header and cells are escaped here (pass plain text).

    Cells do not wrap, except in the `wrap` columns (labels, notes); `numeric` columns
    are right-aligned. `classes` and `titles` are per-row ``class`` and ``title``.

    Examples
    --------
    >>> html = table(["series", "CAR"], [["S&P 500", "-1.20"]], numeric=(1,))
    >>> html[html.index("<tbody>") :]
    '<tbody><tr><td>S&amp;P 500</td><td class="num">-1.20</td></tr></tbody></table></div>'
    """
    kind = ["num" if j in numeric else "wrap" if j in wrap else "" for j in range(len(header))]
    out = ['<div class="scroll"><table>', "<thead><tr>"]
    out += [f"<th>{escape(h)}</th>" for h in header]
    out.append("</tr></thead><tbody>")
    for i, row in enumerate(rows):
        cls = f' class="{escape(classes[i])}"' if classes and classes[i] else ""
        tip = f' title="{escape(titles[i])}"' if titles and titles[i] else ""
        cells = "".join(
            f'<td class="{kind[j]}">{escape(c)}</td>' if kind[j] else f"<td>{escape(c)}</td>"
            for j, c in enumerate(row)
        )
        out.append(f"<tr{cls}{tip}>{cells}</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)
