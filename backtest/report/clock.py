"""The clock rules of a run, as report tables (shared by summary.md and report.html).

Reads ``results.json``'s optional ``event_study.alignment``, ``clean_windows`` and
``guarded`` records (written only when the run used as-of market alignment or a market
model, clean estimation windows, or moved a day 0 with the near-close guard).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "GUARD_MARK",
    "alignment_table",
    "clean_windows_table",
    "guard_note",
    "guarded_pairs",
    "market_text",
]

#: Mark of a day 0 the near-close guard moved to the next observation.
GUARD_MARK = "‡"


def market_text(design: Mapping[str, Any]) -> str:
    """The design's market for a report's header: ``"SPX, aligned asof"`` or
    ``"per series: NKY SPX, JGB10Y none, others SPX; aligned asof"``.

    Examples
    --------
    >>> market_text({"market": {"NKY": "SPX", "default": None}, "market_alignment": "asof"})
    'per series: NKY SPX, others none; aligned asof'
    """
    market = design.get("market")
    if isinstance(market, Mapping):
        parts = [f"{k} {v or 'none'}" for k, v in market.items() if k != "default"]
        if "default" in market:
            parts.append(f"others {market['default'] or 'none'}")
        text = "per series: " + ", ".join(parts) + ";"
    else:
        text = f"{market},"
    text += f" aligned {design.get('market_alignment', 'date')}"
    lags = design.get("dimson_lags") or 0
    return text + (f", Dimson lags {lags}" if lags else "")


def guarded_pairs(es: Mapping[str, Any]) -> set[tuple[str, str]]:
    """``(event, series)`` pairs whose day 0 the near-close guard moved."""
    return {(g["event"], g["series"]) for g in es.get("guarded") or []}


def guard_note(es: Mapping[str, Any]) -> str | None:
    """Footnote of the guard mark, or None when no day 0 was moved."""
    guarded = es.get("guarded") or []
    if not guarded:
        return None
    minutes = guarded[0].get("guard_minutes")
    return (
        f"{GUARD_MARK} near-close guard: the event came within {minutes} minutes before the "
        "market's observation, so day 0 is the observation after (session_guard)."
    )


def alignment_table(es: Mapping[str, Any]) -> tuple[list[str], list[list[str]]] | None:
    """Header and rows of the market alignment per series, or None without a market."""
    rows = es.get("alignment")
    if not rows:
        return None
    header = ["series", "market", "alignment", "series clock", "market clock", "lag (days)"]
    header.append("Dimson lags")
    body = [
        [
            str(r["series"]),
            str(r["market"]) if r.get("market") else "none (constant mean / raw)",
            str(r.get("alignment") or "n/a"),
            str(r.get("series_clock") or "n/a"),
            str(r.get("market_clock") or "n/a"),
            "n/a" if r.get("lag_days") is None else f"{r['lag_days']:g}",
            str(r.get("dimson_lags", 0)),
        ]
        for r in rows
    ]
    return header, body


def clean_windows_table(es: Mapping[str, Any]) -> tuple[list[str], list[list[str]]] | None:
    """Header and rows of the estimation days removed per pair (only pairs that lost
    days), or None when the run did not clean its estimation windows."""
    rows = es.get("clean_windows")
    if rows is None:
        return None
    header = ["event", "series", "usable before", "removed", "usable"]
    body = [
        [str(r["event"]), str(r["series"]), str(r["usable_before"]), str(r["removed"]),
         str(r["usable"])]
        for r in rows
        if r["removed"]
    ]  # fmt: skip
    return header, body
