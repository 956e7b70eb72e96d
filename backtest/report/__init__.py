"""Reports of a run: self-contained HTML (:mod:`.html`) and Markdown (:mod:`.markdown`).

Both are built from what a run directory holds (``results.json``, ``levels.parquet``,
``tables/``), so ``backtest report RUN_DIR`` can rebuild them from disk.
:func:`render_html` and :func:`render_markdown` (:mod:`.render`) also take the
:class:`~backtest.pipeline.RunResult` of :func:`backtest.run` in a notebook, and write
the report to a file if given one (never over a file backtest did not write).
"""

from __future__ import annotations

from backtest.report.render import render_html, render_markdown

__all__ = ["render_html", "render_markdown"]
