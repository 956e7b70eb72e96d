"""Signed pooling: multiply each event's changes by its sign before averaging.

Pooled averages of events that push markets in opposite directions cancel: a tariff
escalation raises the 2-year yield, a pause lowers it, and their mean CAR is near zero
whatever the size of either reaction. Signing each event by its expected direction
(+1 / -1) turns both into moves "in the direction of the news", so the CAAR and every
cross-event test measure the size of the reaction, not its net sum.

Sources of the sign (``sign_by``):

``"direction"``
    the events' ``direction`` column (+1, -1 or blank; :mod:`backtest.events` checks it).
``"surprise"``
    the sign of the events' numeric ``surprise`` column (0 or blank: no sign).
``"reaction:<SERIES>"``
    the sign of SERIES' own day-0 change (a fast market's reading of the news:
    market-implied surprise). SERIES is then left out of the study: signed by its own
    reaction, its day-0 change is positive by construction.

``surprise_from`` fills the ``surprise`` column from another events column
(``"<column>"``) or from SERIES' day-0 change (``"reaction:<SERIES>"``, its size in the
series' unit), for ``sign_by="surprise"`` and for cross-sectional regressions
(:meth:`backtest.eventstudy.EventStudyResult.regress`).

Events without a sign (0, NaN, blank) are excluded from a signed result with the reason
recorded (:attr:`EventStudyResult.exclusions`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from backtest.errors import DataValidationError

__all__ = [
    "DEFAULT_SIGN_BY",
    "DEFAULT_SPLIT_BY",
    "DEFAULT_SURPRISE_FROM",
    "REACTION_PREFIX",
    "SIGN_COLUMNS",
    "check_sign_by",
    "check_surprise_from",
    "event_groups",
    "reaction_series",
    "sign_description",
    "signs_from_column",
]

#: Default of ``EventStudy(sign_by=...)`` and of a config's ``event_study.sign_by``: no signing.
DEFAULT_SIGN_BY: str | None = None
#: Default of ``surprise_from``: the events' own ``surprise`` column, if any.
DEFAULT_SURPRISE_FROM: str | None = None
#: Default of a config's ``event_study.split_by``: no groups of events.
DEFAULT_SPLIT_BY: str | None = None
#: Events columns that can sign events (besides ``reaction:<SERIES>``).
SIGN_COLUMNS = ("direction", "surprise")
#: Prefix of a market-implied sign or surprise: ``"reaction:UST2Y"``.
REACTION_PREFIX = "reaction:"


def reaction_series(spec: str | None) -> str | None:
    """The series of a ``"reaction:<SERIES>"`` spec, else None.

    Examples
    --------
    >>> reaction_series("reaction:UST2Y"), reaction_series("direction")
    ('UST2Y', None)
    """
    if spec is not None and spec.startswith(REACTION_PREFIX):
        return spec[len(REACTION_PREFIX) :]
    return None


def check_sign_by(value: str | None, name: str = "sign_by") -> str | None:
    """Validate a ``sign_by`` value: None, ``"direction"``, ``"surprise"`` or ``"reaction:S"``.

    Raises
    ------
    backtest.errors.DataValidationError
        Any other value, naming `name` and what is accepted.
    """
    if value is None:
        return None
    if not isinstance(value, str) or not (
        value in SIGN_COLUMNS or (reaction_series(value) or "").strip()
    ):
        raise DataValidationError(
            f"{name} must be one of {', '.join(SIGN_COLUMNS)} or 'reaction:<SERIES>' "
            f"(e.g. 'reaction:UST2Y'), or null for unsigned pooling; got {value!r}"
        )
    return value


def check_surprise_from(value: str | None, name: str = "surprise_from") -> str | None:
    """Validate a ``surprise_from`` value: None, an events column or ``"reaction:S"``."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or value.strip() == REACTION_PREFIX[:-1]:
        raise DataValidationError(
            f"{name} must name an events column (e.g. 'policy_rate_pct') or "
            f"'reaction:<SERIES>' (e.g. 'reaction:UST2Y'); got {value!r}"
        )
    if value.startswith(REACTION_PREFIX) and not (reaction_series(value) or "").strip():
        raise DataValidationError(f"{name}: {value!r} names no series after 'reaction:'")
    return value


def signs_from_column(events: pd.DataFrame, column: str, *, where: str = "sign_by") -> np.ndarray:
    """Signs (+1.0, -1.0, NaN for none) of the events from a numeric column.

    ``direction`` values are taken as given (checked +1/-1 by :mod:`backtest.events`);
    any other column gives ``sign(value)``, with 0 and blank meaning "no sign".

    Raises
    ------
    backtest.errors.DataValidationError
        The column is missing or not numeric.
    """
    if column not in events.columns:
        from backtest.events import EVENT_COLUMNS  # here: importing the config stays light

        extra = [c for c in events.columns if c not in EVENT_COLUMNS]
        raise DataValidationError(
            f"{where}: the events have no {column!r} column; their extra columns: {extra}. "
            f"Add a {column!r} column to the events file (see backtest.events)"
        )
    values = pd.to_numeric(events[column], errors="coerce")
    bad = events[column].notna() & values.isna() & (events[column].astype(str).str.strip() != "")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataValidationError(
            f"{where}: events column {column!r} must be numeric; event "
            f"{events['event'].iloc[i]!r} has {events[column].iloc[i]!r}"
        )
    sign = np.sign(values.to_numpy(dtype="float64"))
    sign[sign == 0] = np.nan
    return sign


def sign_description(by: str, signs: np.ndarray) -> str:
    """The sentence a signed result shows (design record, notes, report header).

    Examples
    --------
    >>> signs = np.array([1.0, -1.0, np.nan])
    >>> sign_description("direction", signs)  # doctest: +NORMALIZE_WHITESPACE
    'CARs signed by direction: +1 events (e.g. escalation) as observed, -1 events (e.g.
    de-escalation) multiplied by -1, so a positive mean CAR is a move in the direction of
    the +1 events; 1 event(s) at +1, 1 at -1, 1 without a sign left out'
    """
    plus = int(np.sum(signs == 1.0))
    minus = int(np.sum(signs == -1.0))
    none = int(np.sum(~np.isfinite(signs)))
    if by == "direction":
        head = (
            "CARs signed by direction: +1 events (e.g. escalation) as observed, -1 events "
            "(e.g. de-escalation) multiplied by -1, so a positive mean CAR is a move in the "
            "direction of the +1 events"
        )
    elif by == "surprise":
        head = (
            "CARs signed by the sign of the surprise column: events with a negative surprise "
            "multiplied by -1, so a positive mean CAR is a move in the direction of a "
            "positive surprise"
        )
    elif reaction_series(by):
        head = (
            f"CARs signed by the sign of {reaction_series(by)}'s day-0 change "
            "(market-implied surprise): events on which it fell multiplied by -1, so a "
            f"positive mean CAR is a move in the direction of {reaction_series(by)}'s rise; "
            f"{reaction_series(by)} itself is left out (positive by construction)"
        )
    else:
        head = f"CARs signed by {by}: events with sign -1 multiplied by -1"
    return f"{head}; {plus} event(s) at +1, {minus} at -1, {none} without a sign left out"


def event_groups(
    events: pd.DataFrame, column: str, *, where: str = "split_by"
) -> dict[str, list[str]]:
    """Event ids per value of an events column, values in sorted order (blank left out).

    Numbers that are whole print without a decimal point and with a sign (``"+1"``,
    ``"-1"``), so ``split_by: direction`` gives the groups ``"+1"`` and ``"-1"``.

    Raises
    ------
    backtest.errors.DataValidationError
        The column is missing (the message lists the events' columns).

    Examples
    --------
    >>> ev = pd.DataFrame({"event": ["a", "b", "c"], "direction": [1.0, -1.0, None]})
    >>> event_groups(ev, "direction")
    {'+1': ['a'], '-1': ['b']}
    """
    if column not in events.columns:
        raise DataValidationError(
            f"{where}: the events have no {column!r} column; columns: {list(events.columns)}"
        )
    out: dict[Any, list[str]] = {}
    for ev, value in zip(events["event"].astype(str), events[column].tolist(), strict=True):
        if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
            continue
        out.setdefault(value, []).append(ev)
    keys = sorted(out, key=lambda v: (-v if isinstance(v, int | float) else 0, str(v)))
    return {_value_name(k): out[k] for k in keys}


def event_mask(
    event_ids: Sequence[str], events: Sequence[str] | np.ndarray | pd.Series
) -> np.ndarray:
    """Boolean mask over `event_ids` of a selection given as ids or as a boolean mask.

    Raises
    ------
    backtest.errors.DataValidationError
        A mask of the wrong length or an unknown event id.
    """
    ids = list(event_ids)
    arr = np.asarray(events)
    if arr.dtype == bool:
        if arr.shape != (len(ids),):
            raise DataValidationError(
                f"events: a boolean mask needs one value per event ({len(ids)}), got shape "
                f"{arr.shape}"
            )
        return arr
    wanted = [str(v) for v in arr.tolist()]
    unknown = [v for v in wanted if v not in ids]
    if unknown:
        raise DataValidationError(f"events: unknown event id(s) {unknown[:5]}; events: {ids}")
    chosen = set(wanted)
    return np.array([i in chosen for i in ids], dtype=bool)


def signs_for(
    event_ids: Sequence[str], events: pd.DataFrame, by: str | Mapping[str, float] | pd.Series
) -> np.ndarray:
    """Signs per event from a column name, or a mapping/Series event id -> sign."""
    if isinstance(by, str):
        return signs_from_column(events, by, where=f"signed(by={by!r})")
    given = dict(by.items()) if isinstance(by, pd.Series) else dict(by)
    unknown = [k for k in given if str(k) not in set(event_ids)]
    if unknown:
        raise DataValidationError(f"signed: unknown event id(s) {unknown[:5]}")
    raw = np.array([given.get(ev, np.nan) for ev in event_ids], dtype="float64")
    sign = np.sign(raw)
    sign[sign == 0] = np.nan
    return sign


def _value_name(value: Any) -> str:
    if isinstance(value, float | int | np.floating | np.integer) and float(value).is_integer():
        return f"{int(value):+d}"
    return str(value)
