"""mkdocs hooks of the documentation site (``hooks:`` in mkdocs.yml).

The numpydoc docstrings use Sphinx roles (``:class:`~backtest.x.Y```), which
mkdocstrings renders as text: ``:class:`` before the code. This hook shows them as
Sphinx would: the code alone, ``~`` keeping only the last name.
"""

from __future__ import annotations

import re
from typing import Any

#: A role before inline code, e.g. ``:class:<code>~backtest.x.Y</code>`` (``:math:`` too).
_ROLE = re.compile(r":(?:py:)?[a-z]+:<code>(~?)([^<]*)</code>")


def _show(match: re.Match[str]) -> str:
    short, target = match.group(1), match.group(2)
    return f"<code>{target.rsplit('.', 1)[-1] if short else target}</code>"


def on_page_content(html: str, **kwargs: Any) -> str:
    """Sphinx roles in the rendered page as code (``:func:`x``` -> ``x``)."""
    return _ROLE.sub(_show, html)
