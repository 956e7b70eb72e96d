"""Reports of a run: self-contained HTML (:mod:`.html`) and Markdown (:mod:`.markdown`).

Both are built from what a run directory holds (``results.json``, ``levels.parquet``,
``tables/``), so ``backtest report RUN_DIR`` can rebuild them from disk.
"""

from __future__ import annotations

from backtest.report.html import render_html
from backtest.report.markdown import render_markdown

__all__ = ["render_html", "render_markdown"]
