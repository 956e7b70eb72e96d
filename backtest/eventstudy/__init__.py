"""Event studies: reactions of many markets around dated announcements.

>>> from backtest.eventstudy import EventStudy
>>> study = EventStudy(model="raw", estimation_window=(-250, -11), event_window=(-5, 10))

Modules: :mod:`~backtest.eventstudy.models` (normal-return models, batched OLS),
:mod:`~backtest.eventstudy.stats` (test statistics),
:mod:`~backtest.eventstudy.study` (alignment and estimation),
:mod:`~backtest.eventstudy.design` (the frozen design a result records),
:mod:`~backtest.eventstudy.policy` (which cross-event test is valid and recommended),
:mod:`~backtest.eventstudy.result` (the result object).
"""

from __future__ import annotations

from backtest.eventstudy.design import StudyDesign
from backtest.eventstudy.models import MODELS
from backtest.eventstudy.policy import TESTS
from backtest.eventstudy.result import EventStudyResult
from backtest.eventstudy.study import EventStudy

__all__ = ["MODELS", "TESTS", "EventStudy", "EventStudyResult", "StudyDesign"]
