"""Cross-sectional regressions of CARs on event characteristics (statsmodels OLS).

One row per included (event, series) pair whose CAR window is complete in the data:
``car`` (in the series' unit), ``series``, ``day0`` (the series' day-0 date), ``event``
and every column of the events (``category``, ``direction``, ``surprise``, ``sign``,
``decision``, ``policy_rate_pct`` ...). The formula is statsmodels' (patsy's):
``"car ~ surprise + C(category)"``.

Several series: CARs of different units (bp and %) must not share one regression, so
``series`` may name several series only if they have the same unit; they are pooled
(add ``C(series)`` to the formula for series fixed effects); series of different
units raise an error instead of being mixed. To run series apart, call once per series
(in a config: one ``regressions`` entry per series).

Standard errors (``cov``): ``"HC3"`` (default; heteroskedasticity-robust, MacKinnon and
White 1985), ``"cluster"`` (clustered by day-0 date: events that share a date, or one
date in several series, are not independent) or ``"nonrobust"`` (classical OLS).

statsmodels is imported when a regression runs, so importing this module (as
:mod:`backtest.config` does for :data:`COV_TYPES`) stays light.

References
----------
MacKinnon, J. G. and White, H. (1985), "Some heteroskedasticity-consistent covariance
matrix estimators with improved finite sample properties", *Journal of Econometrics*
29, 305-325.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal, Protocol, get_args

import numpy as np
import pandas as pd

from backtest.errors import DataValidationError


class ResultLike(Protocol):
    """What a regression reads of :class:`backtest.eventstudy.EventStudyResult`
    (a protocol, so this module does not import the result, which calls it)."""

    @property
    def series(self) -> tuple[str, ...]: ...
    @property
    def units(self) -> dict[str, str]: ...
    @property
    def events(self) -> pd.DataFrame: ...
    @property
    def day0(self) -> pd.DataFrame: ...
    def car(self, start: int, end: int) -> pd.DataFrame: ...
    def incomplete(self, start: int, end: int) -> pd.DataFrame: ...


__all__ = ["COV_TYPES", "DEFAULT_COV", "CovType", "regress", "regression_data", "summarize"]

#: Covariance estimators of :func:`regress`.
CovType = Literal["HC3", "cluster", "nonrobust"]
COV_TYPES: tuple[str, ...] = get_args(CovType)
#: Default covariance estimator: heteroskedasticity-robust HC3.
DEFAULT_COV: CovType = "HC3"


def regression_data(
    result: ResultLike,
    window: tuple[int, int],
    series: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """The data of a cross-sectional regression: one row per pair with a complete window.

    Parameters
    ----------
    result : EventStudyResult
        A (possibly signed) event-study result.
    window : (int, int)
        CAR window in relative days.
    series : str or sequence of str, optional
        Series whose CARs are the rows; default every studied series. All must have
        the same unit.

    Returns
    -------
    pandas.DataFrame
        Columns ``car, series, day0, unit`` then the events' columns (``event``,
        ``label``, ``category``, ...). Rows: events in order, series in order.

    Raises
    ------
    backtest.errors.DataValidationError
        Unknown series, or series of different units.
    """
    names = _series(result, series)
    start, end = window
    car = result.car(int(start), int(end))
    incomplete = result.incomplete(int(start), int(end))
    left = set(zip(incomplete["event"], incomplete["series"], strict=True))
    day0 = result.day0
    events = result.events.reset_index(drop=True)
    events = events.assign(event=events["event"].astype(str))
    rows = []
    for name in names:
        part = pd.DataFrame(
            {
                "car": car[name].to_numpy(),
                "series": name,
                "day0": day0[name].to_numpy(),
                "unit": result.units[name],
            }
        )
        part = pd.concat(
            [part, events.drop(columns=["series", "car", "day0", "unit"], errors="ignore")], axis=1
        )
        keep = np.isfinite(part["car"].to_numpy(dtype="float64")) & np.array(
            [(ev, name) not in left for ev in part["event"]]
        )
        rows.append(part[keep])
    data = pd.concat(rows, ignore_index=True)
    return data


def regress(
    result: ResultLike,
    formula: str,
    window: tuple[int, int] = (0, 1),
    *,
    series: str | Sequence[str] | None = None,
    cov: str = DEFAULT_COV,
) -> Any:
    """OLS of CARs on event characteristics with statsmodels' formula API.

    Parameters
    ----------
    result : EventStudyResult
        The event study (signed or not: a signed result regresses signed CARs).
    formula : str
        A statsmodels/patsy formula whose left-hand side is ``car``, e.g.
        ``"car ~ surprise + C(category)"``. Columns: ``car, series, day0, unit`` and
        every events column (:func:`regression_data`).
    window : (int, int)
        CAR window in relative days (default ``(0, 1)``).
    series : str or sequence of str, optional
        The series whose CARs are regressed (one, or several of the same unit,
        pooled); default every studied series, which must then share a unit.
    cov : {"HC3", "cluster", "nonrobust"}
        Standard errors: HC3 (default), clustered by day-0 date, or classical.

    Returns
    -------
    statsmodels.regression.linear_model.RegressionResultsWrapper
        The fitted OLS (``params``, ``bse``, ``tvalues``, ``pvalues``, ``nobs``,
        ``rsquared``, ``summary()``). Rows with a missing value in a formula column
        (e.g. an event without ``surprise``) are dropped by statsmodels.

    Raises
    ------
    backtest.errors.DataValidationError
        Unknown ``cov``; unknown series or mixed units; a formula naming a column
        that does not exist (the message lists the available columns); fewer than two
        day-0 dates for ``cov="cluster"``.

    Examples
    --------
    >>> from backtest.eventstudy import EventStudy
    >>> idx = pd.bdate_range("2024-01-01", periods=300)
    >>> levels = pd.DataFrame({"X": 3 + 0.01 * np.cumsum(np.sin(np.arange(300)))}, index=idx)
    >>> ev = pd.DataFrame({
    ...     "timestamp": [idx[i].tz_localize("America/New_York") for i in (200, 230, 260)],
    ...     "label": ["a", "b", "c"], "surprise": [1.0, -0.5, 2.0]})
    >>> res = EventStudy(event_window=(-1, 1)).run(
    ...     levels, ev, kinds={"X": "yield"}, clocks={"X": ("America/New_York", "17:00")})
    >>> fit = regress(res, "car ~ surprise", window=(0, 1), series="X")
    >>> int(fit.nobs), list(fit.params.index)
    (3, ['Intercept', 'surprise'])
    """
    if cov not in COV_TYPES:
        raise DataValidationError(
            f"regress: cov must be one of {', '.join(COV_TYPES)}; got {cov!r}"
        )
    if not isinstance(formula, str) or "~" not in formula:
        raise DataValidationError(
            f"regress: formula must read 'car ~ <terms>', e.g. 'car ~ surprise + C(category)'; "
            f"got {formula!r}"
        )
    data = regression_data(result, window, series)
    if data.empty:
        raise DataValidationError(
            f"regress: no (event, series) pair has a complete CAR window {tuple(window)}"
        )
    import patsy
    import statsmodels.formula.api as smf

    try:
        model = smf.ols(formula, data=data)
    except patsy.PatsyError as exc:
        names = _names(formula)
        unknown = [n for n in names if n not in data.columns]
        hint = f"unknown column(s) {unknown}; " if unknown else ""
        raise DataValidationError(
            f"regress: formula {formula!r}: {hint}available columns: {list(data.columns)} "
            f"({str(exc).splitlines()[0]})"
        ) from None
    if cov == "cluster":
        rows = np.asarray(model.data.row_labels)
        dates = pd.DatetimeIndex(data.loc[rows, "day0"])
        groups = pd.factorize(dates)[0]
        if len(np.unique(groups)) < 2:
            raise DataValidationError(
                "regress: cov='cluster' needs at least two day-0 dates; use cov='HC3'"
            )
        return model.fit(cov_type="cluster", cov_kwds={"groups": groups})
    return model.fit(cov_type=cov)


def summarize(
    fit: Any, *, formula: str, window: tuple[int, int], series: Sequence[str], cov: str
) -> dict[str, Any]:
    """JSON-ready record of a fitted regression (what results.json stores).

    Returns
    -------
    dict
        ``formula, window, series, cov_type, nobs, rsquared, params, bse, tvalues,
        pvalues`` (the last four: ``{term: value}``).
    """
    return {
        "formula": formula,
        "window": [int(window[0]), int(window[1])],
        "series": list(series),
        "cov_type": cov,
        "nobs": int(fit.nobs),
        "rsquared": float(fit.rsquared),
        "params": {str(k): float(v) for k, v in fit.params.items()},
        "bse": {str(k): float(v) for k, v in fit.bse.items()},
        "tvalues": {str(k): float(v) for k, v in fit.tvalues.items()},
        "pvalues": {str(k): float(v) for k, v in fit.pvalues.items()},
    }


def _series(result: ResultLike, series: str | Sequence[str] | None) -> list[str]:
    names = (
        list(result.series)
        if series is None
        else [series]
        if isinstance(series, str)
        else list(series)
    )
    unknown = [n for n in names if n not in result.series]
    if unknown or not names:
        raise DataValidationError(
            f"regress: series {unknown or names} not studied; studied: {list(result.series)}"
        )
    units = {n: result.units[n] for n in names}
    if len(set(units.values())) > 1:
        raise DataValidationError(
            f"regress: series of different units cannot share one regression ({units}); "
            "pass series= one series, or several of the same unit"
        )
    return names


_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_FUNCTIONS = {
    "C",
    "np",
    "I",
    "Q",
    "log",
    "exp",
    "center",
    "standardize",
    "scale",
    "Treatment",
    "Sum",
    "Poly",
    "Diff",
    "Helmert",
    "bs",
    "cr",
    "cc",
    "te",
}


def _names(formula: str) -> list[str]:
    """Identifiers a formula refers to (rough: for the error message only)."""
    return [n for n in dict.fromkeys(_NAME.findall(formula)) if n not in _FUNCTIONS]
