"""StudyDesign: the frozen description of an event study that its result reads.

:meth:`backtest.eventstudy.EventStudy.run` builds one and hands it to
:class:`~backtest.eventstudy.result.EventStudyResult`, so the result never reads
the study object itself (and ``result.py`` does not import ``study.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backtest.eventstudy.alignment import (
    DEFAULT_DIMSON_LAGS,
    DEFAULT_ESTIMATION_EXCLUDE,
    DEFAULT_MARKET_ALIGNMENT,
    DEFAULT_SESSION_GUARD,
    lag_names,
)
from backtest.eventstudy.policy import DEFAULT_KP_CORRELATION

__all__ = [
    "DEFAULT_ESTIMATION_WINDOW",
    "DEFAULT_EVENT_WINDOW",
    "DEFAULT_MIN_ESTIMATION",
    "GARCH_COEFFICIENTS",
    "StudyDesign",
    "Window",
]

#: ``(first, last)`` relative trading days, both included.
Window = tuple[int, int]
#: Default windows of :class:`~backtest.eventstudy.EventStudy` and of a config's
#: ``event_study``: 240 estimation days ending ten sessions before the event window.
DEFAULT_ESTIMATION_WINDOW: Window = (-250, -11)
DEFAULT_EVENT_WINDOW: Window = (-5, 10)
#: Fewest usable estimation days of an included (event, series) pair, by default.
DEFAULT_MIN_ESTIMATION = 100
#: Per-pair estimates of model ``garch`` (:mod:`backtest.eventstudy.garch`): the
#: constant mean, the GARCH(1,1) ``omega, alpha, beta`` and the fit's power-of-ten scale.
GARCH_COEFFICIENTS: tuple[str, ...] = ("mu", "omega", "alpha", "beta", "fit_scale")


@dataclass(frozen=True, kw_only=True)
class StudyDesign:
    """Model, windows and data rules of one event-study run (read-only).

    Parameters
    ----------
    model : {"raw", "constant_mean", "market", "market_adjusted", "factor", "garch"}
        Model of normal behaviour (:mod:`backtest.eventstudy.models`).
    estimation_window : tuple of int
        First and last relative day of the estimation window, in each series' own
        observations.
    event_window : tuple of int
        First and last relative day of the event window.
    market : str, optional
        Market series of the ``market`` and ``market_adjusted`` models.
    factors : tuple of str
        Factor series of the ``factor`` model.
    kp_correlation : {"sums", "daily"}
        Residuals whose mean correlation the Kolari-Pynnönen test corrects for
        (:data:`backtest.eventstudy.policy.KPCorrelation`); default ``"sums"``.
    min_estimation : int
        Fewest usable estimation days of an included (event, series) pair.
    allow_incomplete : bool
        Whether a CAR window not complete in the data keeps its partial sum
        (True) or is NaN (False).
    market_alignment : {"asof", "date"}
        How market changes were paired with each series' days.
    dimson_lags : int
        Dimson lags of the market model (0: plain market model).
    estimation_exclude : {"none", "events"}
        Whether other events' windows were removed from estimation windows.
    exclude_events : int
        Number of events of the extra calendars used for that exclusion.
    session_guard : int
        Near-close guard of day 0, in minutes.
    sign_by : str, optional
        How the events were signed (``"direction"``, ``"surprise"``,
        ``"reaction:<SERIES>"``; :mod:`backtest.eventstudy.signing`); None: unsigned.
    surprise_from : str, optional
        Where the events' ``surprise`` column came from (an events column or
        ``"reaction:<SERIES>"``); None: as given.
    signing : str, optional
        The sentence that says how the CARs are signed (shown in the reports).

    Notes
    -----
    The values are those of the :class:`~backtest.eventstudy.EventStudy` that ran,
    already validated by it; this class only records them (the defaults are the
    ``DEFAULT_*`` constants of this module, which ``EventStudy`` and the config read,
    so every field but ``market`` and ``factors`` is required).

    Examples
    --------
    >>> d = StudyDesign(model="market", estimation_window=(-250, -11),
    ...                 event_window=(-5, 10), min_estimation=100,
    ...                 allow_incomplete=False, market="SPX")
    >>> d.coefficient_names
    ('alpha', 'beta')
    >>> d.as_dict()["event_window"]
    [-5, 10]
    """

    model: str
    estimation_window: tuple[int, int]
    event_window: tuple[int, int]
    min_estimation: int
    allow_incomplete: bool
    market: str | dict[str, str | None] | None = None
    factors: tuple[str, ...] = field(default_factory=tuple)
    market_alignment: str = DEFAULT_MARKET_ALIGNMENT
    dimson_lags: int = DEFAULT_DIMSON_LAGS
    estimation_exclude: str = DEFAULT_ESTIMATION_EXCLUDE
    exclude_events: int = 0
    session_guard: int = DEFAULT_SESSION_GUARD
    sign_by: str | None = None
    surprise_from: str | None = None
    signing: str | None = None
    kp_correlation: str = DEFAULT_KP_CORRELATION

    def __post_init__(self) -> None:
        object.__setattr__(self, "factors", tuple(self.factors))
        for name in ("estimation_window", "event_window"):
            first, last = getattr(self, name)
            object.__setattr__(self, name, (int(first), int(last)))

    @property
    def coefficient_names(self) -> tuple[str, ...]:
        """Names of the estimated coefficients, in the order of the fit.

        ``("mean",)`` for ``constant_mean``, ``("alpha", "beta")`` for ``market``,
        ``("alpha", *factors)`` for ``factor``, none for ``raw`` and
        ``market_adjusted`` (nothing is estimated but the residual variance);
        ``("mu", "omega", "alpha", "beta", "fit_scale")`` for ``garch``
        (:mod:`backtest.eventstudy.garch`). With Dimson lags the market slopes are
        ``beta_lag-k ... beta_lag+k``.
        """
        if self.model == "constant_mean":
            return ("mean",)
        if self.model == "market" and self.dimson_lags:
            return ("alpha", *lag_names(self.dimson_lags))
        if self.model == "market":
            return ("alpha", "beta")
        if self.model == "factor":
            return ("alpha", *self.factors)
        if self.model == "garch":
            return GARCH_COEFFICIENTS
        return ()

    def as_dict(self) -> dict[str, Any]:
        """Return the design as JSON-ready values (lists for the windows and factors)."""
        return {
            "model": self.model,
            "market": self.market,
            "factors": list(self.factors),
            "estimation_window": list(self.estimation_window),
            "event_window": list(self.event_window),
            "min_estimation": self.min_estimation,
            "allow_incomplete": self.allow_incomplete,
            "market_alignment": self.market_alignment,
            "dimson_lags": self.dimson_lags,
            "estimation_exclude": self.estimation_exclude,
            "exclude_events": self.exclude_events,
            "session_guard": self.session_guard,
            "sign_by": self.sign_by,
            "surprise_from": self.surprise_from,
            "signing": self.signing,
            "kp_correlation": self.kp_correlation,
        }
