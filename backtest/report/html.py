"""HTML report (placeholder until the report module lands)."""

from __future__ import annotations

from pathlib import Path


def render_html(run_dir: Path) -> str:
    """Return the HTML report of the run directory `run_dir`."""
    return "<html><body>report</body></html>"
