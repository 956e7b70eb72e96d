"""Numbers, p-values, event times and windows as plain text.

Shared by the tables of the HTML page (:mod:`.html`) and the hover text of its charts
(:mod:`.figures`), so a value reads the same in a table cell and in a tooltip. Plain
text comes out: escaping is the caller's (:func:`.tables.escape` for HTML, the figures'
own for plotly).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from backtest.report.markdown import INCOMPLETE_MARK

__all__ = ["incomplete_text", "local_time", "metric_cell", "number", "pvalue", "window_text"]


def number(value: Any, spec: str = ".2f") -> str:
    """`value` formatted with the format `spec`; ``n/a`` for None, NaN, inf or a non-number.

    Examples
    --------
    >>> number(1.234), number(float("nan")), number(12.345, ".1f")
    ('1.23', 'n/a', '12.3')
    """
    if value is None or not isinstance(value, int | float) or not math.isfinite(value):
        return "n/a"
    return format(value, spec)


def metric_cell(value: Any, kind: str) -> str:
    """A strategy metric as shown in the report: ``pct`` in percent (2 decimals), ``int``
    a count, anything else 3 decimals; ``n/a`` when missing or not finite.

    Examples
    --------
    >>> metric_cell(0.1234, "pct"), metric_cell(12.0, "int"), metric_cell(None, "num")
    ('12.34%', '12', 'n/a')
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if kind == "pct":
        return f"{100 * float(value):.2f}%"
    if kind == "int":
        return f"{int(value)}"
    return f"{float(value):.3f}"


def pvalue(value: Any) -> str:
    """A p-value with four decimals, ``<0.0001`` below that; ``n/a`` if not a finite number.

    Examples
    --------
    >>> pvalue(0.0123), pvalue(0.00001), pvalue(None)
    ('0.0123', '<0.0001', 'n/a')
    """
    if value is None or not isinstance(value, int | float) or not math.isfinite(value):
        return "n/a"
    return "<0.0001" if value < 0.0001 else f"{value:.4f}"


def local_time(event: Mapping[str, Any]) -> str:
    """When an event happened, in its own time zone and in UTC.

    Parameters
    ----------
    event : Mapping
        One entry of ``results["events"]``: keys ``time_given``, ``timestamp``
        (ISO 8601 with offset), ``timezone`` (IANA name) and ``date``.

    Returns
    -------
    str
        ``2025-04-02 16:00 America/New_York (20:00 UTC)``; for an event given without a
        clock time, ``2025-04-02 (date only, America/New_York)``.
    """
    if not event["time_given"]:
        return f"{event['date']} (date only, {event['timezone']})"
    ts = pd.Timestamp(event["timestamp"])
    local = ts.tz_convert(event["timezone"])
    utc = ts.tz_convert("UTC")
    return f"{local:%Y-%m-%d %H:%M} {event['timezone']} ({utc:%H:%M} UTC)"


def window_text(window: Sequence[int]) -> str:
    """A window of relative days as text.

    Examples
    --------
    >>> window_text((-1, 5))
    'days -1 to +5'
    """
    a, b = window
    return f"days {a:+d} to {b:+d}"


def incomplete_text(row: Mapping[str, Any], window: Sequence[int]) -> str:
    """``† (window incomplete k/n)`` for a reaction whose window runs beyond the data.

    Parameters
    ----------
    row : Mapping
        One reaction of ``results["event_study"]["windows"][i]["reactions"]``: keys
        ``complete``, ``days_in_data`` and ``car``.
    window : sequence of int
        The window's first and last relative day.

    Returns
    -------
    str
        The mark only when a partial sum is shown (the CAR itself reads n/a otherwise);
        '' for a complete window and for results written before the field existed.

    Examples
    --------
    >>> incomplete_text({"complete": False, "days_in_data": 3, "car": 1.0}, (-1, 5))
    '† (window incomplete 3/7)'
    >>> incomplete_text({"complete": True, "car": 1.0}, (-1, 5))
    ''
    """
    if row.get("complete", True):
        return ""
    days = f"{row.get('days_in_data')}/{window[1] - window[0] + 1}"
    kept = row["car"] is not None
    return f"{INCOMPLETE_MARK if kept else ''} (window incomplete {days})"
