"""Out-of-sample validation: choose parameters in sample, measure them out of sample.

:func:`validate` runs a sweep that also picks each fold's best combination in its
chunks; :func:`out_of_sample` turns a finished sweep into in-sample and out-of-sample
metrics side by side (:class:`~backtest.engine.results.ValidationResult`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from backtest import metrics as mt
from backtest.engine.folds import (
    DEFAULT_METHOD,
    DEFAULT_TEST_BARS,
    DEFAULT_TRAIN_BARS,
    DEFAULT_TRAIN_FRACTION,
    ValidationMethod,
    validation_folds,
)
from backtest.engine.results import METRICS, NO_TRADES, SweepResult, ValidationResult
from backtest.engine.sweeps import sweep
from backtest.errors import ConfigError
from backtest.space import DEFAULT_SWEEP_METHOD, SweepMethod
from backtest.strategy import Strategy

__all__ = ["out_of_sample", "validate"]


def validate(
    strategy: str | Strategy,
    space: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    levels: pd.DataFrame,
    events: pd.DataFrame | None = None,
    *,
    series: str,
    method: ValidationMethod = DEFAULT_METHOD,
    train_fraction: float = DEFAULT_TRAIN_FRACTION,
    train_bars: int = DEFAULT_TRAIN_BARS,
    test_bars: int = DEFAULT_TEST_BARS,
    sweep_method: SweepMethod = DEFAULT_SWEEP_METHOD,
    **kwargs: Any,
) -> ValidationResult:
    """Choose parameters in sample, measure them out of sample.

    For each fold the sweep runs on the whole history (indicators need their warm-up;
    positions use data up to each bar only), the best combination by in-sample Sharpe
    is chosen on the training bars, and both samples' metrics are computed from the
    returns of their own bars.

    Parameters
    ----------
    strategy, space, levels, events, series
        As in :func:`sweep`.
    method : {"train_test", "walk_forward"}
        One split at `train_fraction`, or rolling folds of `train_bars` followed by
        `test_bars`.
    train_fraction : float
        Share of bars in the training sample (train/test split).
    train_bars, test_bars : int
        Fold lengths (walk-forward).
    sweep_method : {"grid", "random"}
        ``method`` of the underlying :func:`sweep`.
    **kwargs
        Passed to :func:`sweep` (costs, annualisation, ...).
    """
    spec = {
        "method": method,
        "train_fraction": train_fraction,
        "train_bars": train_bars,
        "test_bars": test_bars,
    }
    result = sweep(
        strategy,
        space,
        levels,
        events,
        series=series,
        method=sweep_method,
        validation=spec,
        **kwargs,
    )
    return out_of_sample(
        result,
        method=method,
        train_fraction=train_fraction,
        train_bars=train_bars,
        test_bars=test_bars,
    )


def out_of_sample(
    result: SweepResult,
    *,
    method: ValidationMethod = DEFAULT_METHOD,
    train_fraction: float = DEFAULT_TRAIN_FRACTION,
    train_bars: int = DEFAULT_TRAIN_BARS,
    test_bars: int = DEFAULT_TEST_BARS,
) -> ValidationResult:
    """In-sample choice and out-of-sample metrics from a finished sweep (see :func:`validate`).

    Parameters
    ----------
    result : SweepResult
        The sweep whose returns are split; it is not run again.
    method, train_fraction, train_bars, test_bars
        As in :func:`validate`.

    Returns
    -------
    ValidationResult
    """
    n = len(result.folds.returns) if result.folds is not None else len(result.returns)
    folds = validation_folds(
        n, method, train_fraction=train_fraction, train_bars=train_bars, test_bars=test_bars
    )
    ppy = result.settings["periods_per_year"]
    rf = result.settings["risk_free"]
    chosen_by_sweep = result.folds is not None and result.folds.folds == folds
    if not chosen_by_sweep and result.settings.get("returns", "all") != "all":
        raise ConfigError(
            f"out-of-sample validation of {result.strategy!r} needs every combination's "
            "returns, or the folds chosen during the sweep; the sweep ran with "
            "keep_returns=False and without these validation settings (pass "
            "validation= to sweep, as validate does)"
        )
    rows, oos_parts, idle = [], [], []
    oos_excess_parts: list[pd.Series] = []
    params_cols = [c for c in result.table.columns if c not in METRICS]
    dates = result.folds.returns.index if result.folds is not None else result.returns.index
    all_excess = result.excess_returns
    xcol: pd.DataFrame | None = None
    for k, (a, b, c, d) in enumerate(folds):
        if chosen_by_sweep:
            assert result.folds is not None
            pick = result.folds.picks[k]
            col = result.folds.returns.iloc[:, [k]]
            fx = result.folds.excess
            xcol = None if fx is None else fx.iloc[:, [k]]
        else:
            ins_all = mt.performance(
                result.returns.iloc[a:b],
                periods_per_year=ppy,
                risk_free=rf,
                excess=None if all_excess is None else all_excess.iloc[a:b],
            )
            sharpe = ins_all["sharpe"].to_numpy(dtype=float)
            pick = int(np.nanargmax(sharpe)) if np.isfinite(sharpe).any() else -1
            col = result.returns.iloc[:, [max(pick, 0)]]
            xcol = None if all_excess is None else all_excess.iloc[:, [max(pick, 0)]]
        if pick < 0:  # no combination trades in sample: nothing to choose, no trades
            idle.append(k)
            for sample, (lo, hi) in (("in", (a, b)), ("out", (c, d))):
                row = {"fold": k, "sample": sample, "start": dates[lo], "end": dates[hi - 1]}
                row.update({m: np.nan for m in METRICS})
                row["note"] = NO_TRADES
                rows.append(row)
            continue
        chosen = result.table.iloc[pick][params_cols].to_dict()
        ins = mt.performance(
            col.iloc[a:b],
            periods_per_year=ppy,
            risk_free=rf,
            excess=None if xcol is None else xcol.iloc[a:b],
        )
        outs = mt.performance(
            col.iloc[c:d],
            periods_per_year=ppy,
            risk_free=rf,
            excess=None if xcol is None else xcol.iloc[c:d],
        )
        for sample, perf, (lo, hi) in (("in", ins, (a, b)), ("out", outs, (c, d))):
            row = {"fold": k, "sample": sample, "start": dates[lo], "end": dates[hi - 1]}
            row.update({f"param_{p}": v for p, v in chosen.items()})
            row.update({m: float(perf.iloc[0][m]) for m in perf.columns if m in METRICS})
            rows.append(row)
        oos_parts.append(col.iloc[c:d, 0])
        if xcol is not None:
            oos_excess_parts.append(xcol.iloc[c:d, 0])
    oos_excess = None
    if oos_parts:
        oos = pd.concat(oos_parts).rename("returns")
        if oos_excess_parts:
            oos_excess = pd.concat(oos_excess_parts).rename("excess_returns")
        oos_perf = mt.performance(oos, periods_per_year=ppy, risk_free=rf, excess=oos_excess)
        oos_metrics = {m: float(oos_perf.iloc[0][m]) for m in oos_perf.columns if m in METRICS}
    else:  # no fold traded
        oos = pd.Series([], index=dates[:0], dtype=float, name="returns")
        oos_metrics = {m: float("nan") for m in METRICS}
    return ValidationResult(
        strategy=result.strategy,
        series=result.series,
        folds=pd.DataFrame(rows),
        oos_returns=oos,
        oos_metrics=oos_metrics,
        settings={
            **result.settings,
            "validation": method,
            "folds": len(folds),
            "folds_without_trades": idle,
        },
        oos_excess_returns=oos_excess,
    )
