"""Small input builders shared by the tests (not references: they only shape inputs)."""

from __future__ import annotations

import pandas as pd


def events(*rows: tuple[str, str | None, str, str]) -> pd.DataFrame:
    """Canonical events from (date, time or None, zone, id) tuples."""
    out = []
    for date, time, zone, name in rows:
        local = pd.Timestamp(f"{date} {time or '00:00'}").tz_localize(zone)
        out.append(
            {
                "event": name,
                "timestamp": local.tz_convert("UTC"),
                "timezone": zone,
                "date": pd.Timestamp(date),
                "time_given": time is not None,
                "label": name,
                "category": "",
            }
        )
    return pd.DataFrame(out)
