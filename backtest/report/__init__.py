"""Reports of a run: self-contained HTML (:mod:`.html`) and Markdown (:mod:`.markdown`).

Both are built from what a run directory holds (``results.json``, ``levels.parquet``,
``tables/``), so ``backtest report RUN_DIR`` can rebuild them from disk.
:func:`render_html` and :func:`render_markdown` (:mod:`.render`) also take the
:class:`~backtest.pipeline.RunResult` of :func:`backtest.run` in a notebook, and write
the report to a file if given one (never over a file backtest did not write). The names
are imported lazily, so the notebook display of a result (:mod:`.notebook`) does not
load plotly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from backtest.lazy import attach

if TYPE_CHECKING:
    from backtest.report.render import render_html, render_markdown

__all__ = ["render_html", "render_markdown"]

__getattr__, __dir__ = attach(
    __name__,
    {"render_html": "backtest.report.render", "render_markdown": "backtest.report.render"},
)
