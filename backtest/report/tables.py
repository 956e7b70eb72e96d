"""HTML text and tables of the report, shared by every section.

Plain text goes in, escaped HTML comes out: callers never escape cells themselves.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

__all__ = ["escape", "table"]


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
