"""Shared look of the report's charts."""

from __future__ import annotations

__all__ = ["PALETTE"]

#: Series colours (plotly's D3 palette), cycled in order.
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
