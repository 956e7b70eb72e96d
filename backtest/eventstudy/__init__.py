"""Event studies: reactions of many markets around dated announcements.

>>> from backtest.eventstudy import EventStudy
>>> study = EventStudy(model="raw", estimation_window=(-250, -11), event_window=(-5, 10))

Modules: :mod:`~backtest.eventstudy.models` (normal-return models, batched OLS),
:mod:`~backtest.eventstudy.stats` (test statistics),
:mod:`~backtest.eventstudy.study` (alignment and estimation),
:mod:`~backtest.eventstudy.design` (the frozen design a result records, default windows),
:mod:`~backtest.eventstudy.alignment` (clock rules: market alignment, Dimson lags, clean
estimation windows, near-close guard),
:mod:`~backtest.eventstudy.policy` (which cross-event test is valid and recommended),
:mod:`~backtest.eventstudy.result` (the result object),
:mod:`~backtest.eventstudy.garch` (model ``garch``: GARCH(1,1) fits with `arch`),
:mod:`~backtest.eventstudy.volatility` (abnormal-volatility tests).
:mod:`~backtest.eventstudy.placebo` (placebo studies: empirical size and p-values).

The names are imported on first use, so reading an option's allowed values and
default (``backtest.eventstudy.models.MODELS``, ``backtest.eventstudy.policy.TESTS``),
as :mod:`backtest.config` does, does not import the study and its data modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from backtest.lazy import attach

if TYPE_CHECKING:
    from backtest.eventstudy.design import StudyDesign
    from backtest.eventstudy.models import MODELS
    from backtest.eventstudy.placebo import PlaceboResult
    from backtest.eventstudy.policy import TESTS
    from backtest.eventstudy.result import EventStudyResult
    from backtest.eventstudy.study import EventStudy

__all__ = ["MODELS", "TESTS", "EventStudy", "EventStudyResult", "PlaceboResult", "StudyDesign"]

#: Public name -> the submodule that defines it.
_HOMES = {
    "MODELS": "models",
    "TESTS": "policy",
    "StudyDesign": "design",
    "EventStudyResult": "result",
    "EventStudy": "study",
    "PlaceboResult": "placebo",
}


__getattr__, __dir__ = attach(
    __name__, {name: f"{__name__}.{module}" for name, module in _HOMES.items()}
)
