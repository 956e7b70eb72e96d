"""Clock rules of an event study: market alignment, Dimson lags, clean windows, guard.

The options of :class:`~backtest.eventstudy.EventStudy` that change how the panel of
(event, series) pairs is built, with their allowed values and defaults (which the
config's :class:`~backtest.config.EventStudyConfig` reads):

* ``market``: one market column for every series, or a mapping per series
  (``{"NKY": "TOPIX", "JGB10Y": None, "default": "SPX"}``; ``None`` = no market for
  that series, see :func:`market_of`);
* ``market_alignment``: how a market change is paired with a series' day
  (:data:`MARKET_ALIGNMENTS`);
* ``dimson_lags``: Dimson (1979) betas on the aligned market changes at lags
  ``-k..+k`` (:func:`lagged_planes`);
* ``estimation_exclude``: drop from estimation windows the days inside other events'
  windows (:func:`event_window_mask`);
* ``session_guard``: the near-close guard of day 0, in minutes
  (:func:`backtest.sessions.day0_from_arrays`).

References
----------
Dimson, E. (1979), "Risk measurement when shares are subject to infrequent trading",
*Journal of Financial Economics* 7, 197-226.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypeAlias, get_args

import numpy as np

from backtest.errors import DataValidationError

__all__ = [
    "DEFAULT_DIMSON_LAGS",
    "DEFAULT_ESTIMATION_EXCLUDE",
    "DEFAULT_MARKET_ALIGNMENT",
    "DEFAULT_SESSION_GUARD",
    "ESTIMATION_EXCLUDES",
    "MARKET_ALIGNMENTS",
    "EstimationExclude",
    "MarketAlignment",
    "MarketSpec",
    "event_window_mask",
    "lag_names",
    "lagged_planes",
    "market_columns",
    "market_of",
    "normalize_market",
]

MarketAlignment = Literal["asof", "date"]
#: ``"asof"``: the market change paired with a series' day t is what the market moved
#: between the series' previous and current observation instants
#: (:func:`backtest.sessions.asof_changes`); ``"date"``: the market's change of the same
#: calendar date (NaN where the market did not trade that date).
MARKET_ALIGNMENTS: tuple[str, ...] = get_args(MarketAlignment)
#: Default of ``EventStudy(market_alignment=...)`` and of the config: by the clock.
DEFAULT_MARKET_ALIGNMENT: MarketAlignment = "asof"

EstimationExclude = Literal["none", "events"]
#: ``"none"``: estimation windows keep every usable day; ``"events"``: they lose the
#: days inside any event's event window (the run's events and extra calendars).
ESTIMATION_EXCLUDES: tuple[str, ...] = get_args(EstimationExclude)
#: Default of ``EventStudy(estimation_exclude=...)`` and of the config.
DEFAULT_ESTIMATION_EXCLUDE: EstimationExclude = "none"

#: Default near-close guard of the event study and of the config, in minutes: an event
#: stamped 16:00 New York is not day 0 of the VIX observed at 16:15.
DEFAULT_SESSION_GUARD = 30
#: Default Dimson lags (0: the plain market model).
DEFAULT_DIMSON_LAGS = 0

MarketSpec: TypeAlias = str | Mapping[str, str | None] | None
"""A market column, a ``{series: market or None, "default": market}`` mapping, or None."""

_DEFAULT_KEY = "default"


def normalize_market(market: MarketSpec) -> str | dict[str, str | None] | None:
    """Check a ``market`` option and return it as a string, a plain dict or None.

    Raises
    ------
    backtest.errors.DataValidationError
        Not a string, a mapping of strings to strings or None, or None.
    """
    if market is None or isinstance(market, str):
        if isinstance(market, str) and not market:
            raise DataValidationError("market must be a column name, got an empty string")
        return market
    if not isinstance(market, Mapping):
        raise DataValidationError(
            "market must be a column name or a mapping {series: market or None, "
            f"'default': market}}; got {market!r}"
        )
    out: dict[str, str | None] = {}
    for key, value in market.items():
        if not isinstance(key, str) or not (value is None or (isinstance(value, str) and value)):
            raise DataValidationError(
                f"market[{key!r}] must map a series name to a market column or None; got {value!r}"
            )
        out[key] = value
    if not out:
        raise DataValidationError("market mapping is empty; give at least 'default'")
    return out


def market_columns(market: MarketSpec) -> tuple[str, ...]:
    """The distinct market columns a ``market`` option names, in order.

    Examples
    --------
    >>> market_columns({"NKY": "TOPIX", "JGB10Y": None, "default": "SPX"})
    ('TOPIX', 'SPX')
    """
    if market is None:
        return ()
    if isinstance(market, str):
        return (market,)
    return tuple(dict.fromkeys(v for v in market.values() if v is not None))


def market_of(market: MarketSpec, series: str) -> str | None:
    """The market column of `series` under a ``market`` option (None: no market).

    Raises
    ------
    backtest.errors.DataValidationError
        `market` is a mapping without `series` and without a ``"default"`` entry.

    Examples
    --------
    >>> spec = {"NKY": "TOPIX", "JGB10Y": None, "default": "SPX"}
    >>> [market_of(spec, s) for s in ("NKY", "JGB10Y", "UST10Y")]
    ['TOPIX', None, 'SPX']
    """
    if market is None or isinstance(market, str):
        return market
    if series in market:
        return market[series]
    if _DEFAULT_KEY in market:
        return market[_DEFAULT_KEY]
    raise DataValidationError(
        f"market: series {series!r} is not in the mapping {dict(market)!r} and there is no "
        "'default' entry; add it or a 'default' market"
    )


def lag_names(lags: int) -> tuple[str, ...]:
    """Names of the per-lag market slopes of a Dimson fit, lag ``-k`` first.

    Examples
    --------
    >>> lag_names(1)
    ('beta_lag-1', 'beta_lag+0', 'beta_lag+1')
    """
    return tuple(f"beta_lag{j:+d}" for j in range(-lags, lags + 1))


def lagged_planes(plane: np.ndarray, lengths: np.ndarray, lags: int) -> np.ndarray:
    """Market changes at lags ``-k..+k`` of each series' own observations.

    Parameters
    ----------
    plane : numpy.ndarray
        ``(S, T)`` aligned market change of each series' observation ``t``.
    lengths : numpy.ndarray
        ``(S,)`` observations of each series.
    lags : int
        ``k >= 0``.

    Returns
    -------
    numpy.ndarray
        ``(2k + 1, S, T)``: plane ``j`` (lag ``j - k``) holds the market change of
        observation ``t + j - k`` on observation ``t``, NaN outside the series' data.
    """
    S, T = plane.shape
    out = np.full((2 * lags + 1, S, T), np.nan)
    pos = np.arange(T)
    for i, lag in enumerate(range(-lags, lags + 1)):
        src = pos + lag
        ok = (src >= 0)[None, :] & (src[None, :] < lengths[:, None])
        vals = plane[:, np.clip(src, 0, T - 1)]
        out[i] = np.where(ok, vals, np.nan)
    return out


def event_window_mask(
    day0: np.ndarray, lengths: np.ndarray, T: int, window: tuple[int, int]
) -> np.ndarray:
    """Days of each series inside any event's window ``[w0, w1]`` around its day 0.

    Parameters
    ----------
    day0 : numpy.ndarray
        ``(E, S)`` day-0 positions in each series' own observations (``>= length``:
        no day 0, ignored).
    lengths : numpy.ndarray
        ``(S,)`` observations of each series.
    T : int
        Padded length of the per-series arrays.
    window : tuple of int
        ``(w0, w1)`` relative days, both included.

    Returns
    -------
    numpy.ndarray
        ``(S, T)`` bool.

    Examples
    --------
    >>> event_window_mask(np.array([[3]]), np.array([8]), 8, (-1, 1)).astype(int).tolist()
    [[0, 0, 1, 1, 1, 0, 0, 0]]
    """
    S = len(lengths)
    mask = np.zeros((S, T), dtype=bool)
    w0, w1 = window
    rel = np.arange(w0, w1 + 1)
    for s in range(S):
        d = day0[:, s]
        d = d[d < lengths[s]]
        if not len(d):
            continue
        pos = (d[:, None] + rel[None, :]).ravel()
        pos = pos[(pos >= 0) & (pos < lengths[s])]
        mask[s, pos] = True
    return mask
