"""The ``garch`` normal-return model: constant mean + GARCH(1,1), estimated with `arch`.

For each included (event, series) pair, the changes of the usable estimation-window
days (the same days the OLS models use; days without a change are dropped, so the
recursion runs over the series' consecutive observations) are fitted by maximum
likelihood with::

    arch.arch_model(y, mean="Constant", vol="GARCH", p=1, q=1, dist="normal",
                    rescale=False).fit(disp="off", show_warning=False)

giving ``y_t = mu + e_t``, ``e_t = sqrt(h_t) z_t``, ``z_t ~ N(0, 1)`` and
``h_t = omega + alpha e_{t-1}^2 + beta h_{t-1}``. Then:

* the normal change of every event-window day is ``mu``, its abnormal change
  ``AR = change - mu``;
* the variance of an event-window day's AR is the conditional variance forecast
  made at the last usable estimation day ``T``, ``h_{T+j}`` with ``j`` the number of
  the series' days after ``T`` (``res.forecast(horizon=j)``; for the default
  windows, day -5 is ``j = 6``). The forecast does not use the days between the
  estimation and event windows, so an event's own days cannot change it. The
  estimation error of ``mu`` and of the GARCH parameters is not added (the AR
  variance is treated as known: the per-event t-tests use the normal, Patell a unit
  variance). The variance of a CAR is the sum of its days' forecasts (the ARs are
  uncorrelated under the model);
* the estimation-window residuals ``e_t = y_t - mu`` are standardised by their
  in-sample conditional standard deviation ``sqrt(h_t)`` wherever a test needs
  standardised estimation residuals (the portfolio test, the pooled bootstrap,
  the volatility tests' reference);
* ``sigma2`` (:attr:`~backtest.eventstudy.EventStudyResult.parameters`, and the
  ``sigma_move`` of the reactions) is the estimation window's plain residual
  variance ``sum e_t^2 / (L - 1)``, a yardstick in the series' unit, not a forecast.

Scale: `arch` warns (``DataScaleWarning``) when the variance of the data lies outside
[0.1, 10000), because its optimiser is tuned for that range. Changes in basis points
and in percent log returns usually lie inside it; when a window does not (a very
calm FX rate, a policy rate that rarely moves), the changes are multiplied by the
power of ten arch itself would choose, fitted, and ``mu``, ``omega``, the conditional
variances and the forecasts converted back to the series' unit (``alpha`` and
``beta`` do not depend on the scale). The factor used is the ``fit_scale`` column of
the parameters (1 almost always).

A pair whose fit fails (no variation in the window, the optimiser does not converge,
a non-finite estimate or forecast) is excluded with the reason, never kept with a
wrong variance.

References
----------
Bollerslev, T. (1986). Generalized autoregressive conditional heteroskedasticity.
*Journal of Econometrics*, 31(3), 307-327.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from backtest.eventstudy.design import GARCH_COEFFICIENTS
from backtest.eventstudy.panel import Panel, gather

__all__ = ["GarchFit", "apply_garch", "fit_garch", "scale_factor"]


@dataclass(frozen=True)
class GarchFit:
    """Constant-mean GARCH(1,1) fit of one estimation window, in the series' unit.

    Attributes
    ----------
    mu, omega, alpha, beta : float
        Estimates (``alpha`` on the lagged squared residual, ``beta`` on the lagged
        conditional variance).
    cond_sd : numpy.ndarray
        In-sample conditional standard deviation ``sqrt(h_t)`` of each fitted day.
    forecast : numpy.ndarray
        ``h_{T+1} .. h_{T+H}``: conditional variance forecasts from the last day.
    scale : float
        Power of ten the data were multiplied by for the optimiser (1 if none).
    loglik : float
        Log-likelihood of the scaled data at the optimum.
    """

    mu: float
    omega: float
    alpha: float
    beta: float
    cond_sd: np.ndarray
    forecast: np.ndarray
    scale: float
    loglik: float


def scale_factor(y: np.ndarray) -> float:
    """Power of ten that brings ``var(y)`` into ``[0.1, 10000)``, arch's own rule.

    Returns 1.0 when the variance is already inside (no rescaling) or is zero.

    Examples
    --------
    >>> scale_factor(np.array([0.0, 2.0, -2.0]))
    1.0
    >>> scale_factor(np.array([0.0, 0.02, -0.02]))  # variance 2.7e-4: x 100 -> 2.7
    100.0
    """
    orig = scale = float(np.var(y))
    factor = 1.0
    while not 0.1 <= scale < 10000.0 and scale > 0:
        factor = factor * 10 if scale < 1.0 else factor / 10
        scale = orig * factor**2
    return factor


def fit_garch(y: np.ndarray, horizon: int) -> GarchFit | str:
    """Fit a constant-mean GARCH(1,1) with normal errors to `y` and forecast `horizon` days.

    Parameters
    ----------
    y : numpy.ndarray
        Finite changes of the estimation window, oldest first.
    horizon : int
        Number of days after the last one to forecast (at least 1).

    Returns
    -------
    GarchFit or str
        The fit, in the unit of `y`; or the reason it failed (no variation, no
        convergence, a non-finite estimate), to exclude the pair with.
    """
    from arch import arch_model
    from arch.utility.exceptions import ConvergenceWarning, DataScaleWarning

    y = np.asarray(y, dtype=np.float64)
    if y.size < 2 or not np.isfinite(y).all():
        return "GARCH(1,1) not estimated: too few finite estimation days"
    if float(np.var(y)) <= 0.0:
        return "GARCH(1,1) not estimated: no variation in the estimation window"
    c = scale_factor(y)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("error", DataScaleWarning)  # never silently mis-scaled
            model = arch_model(
                y * c, mean="Constant", vol="GARCH", p=1, q=1, dist="normal", rescale=False
            )
            res = model.fit(disp="off", show_warning=False)
            fc = res.forecast(horizon=max(int(horizon), 1), reindex=False)
    except (ValueError, np.linalg.LinAlgError, DataScaleWarning) as exc:
        return f"GARCH(1,1) estimation failed: {exc}"
    if res.convergence_flag != 0:
        message = getattr(res.optimization_result, "message", "")
        return f"GARCH(1,1) did not converge (optimizer: {message})"
    params = np.asarray(res.params, dtype=np.float64)
    forecast = np.asarray(fc.variance, dtype=np.float64)[-1]
    cond = np.asarray(res.conditional_volatility, dtype=np.float64)
    if not (np.isfinite(params).all() and np.isfinite(forecast).all() and np.isfinite(cond).all()):
        return "GARCH(1,1) estimation failed: non-finite estimate or forecast"
    if (forecast <= 0).any() or (cond <= 0).any():
        return "GARCH(1,1) estimation failed: non-positive conditional variance"
    mu, omega, alpha, beta = params
    return GarchFit(
        mu=float(mu / c),
        omega=float(omega / c**2),
        alpha=float(alpha),
        beta=float(beta),
        cond_sd=cond / c,
        forecast=forecast / c**2,
        scale=c,
        loglik=float(res.loglikelihood),
    )


def apply_garch(panel: Panel) -> Panel:
    """Replace a constant-mean panel's normal model by a GARCH(1,1) fit per included pair.

    Parameters
    ----------
    panel : Panel
        The panel of a ``garch`` study as built for ``constant_mean`` (the same
        usable days and exclusions).

    Returns
    -------
    Panel
        With ``normal``, ``abnormal``, ``var_ar``, ``beta`` (``mu, omega, alpha, beta,
        fit_scale``), ``sigma2`` and ``cond_sd`` from the GARCH fits, and the pairs
        whose fit failed excluded with the reason (see the module docstring).
    """
    E, S = panel.included.shape
    y_est = gather(panel.target, panel.lengths, panel.day0_pos, panel.rel_est)  # (E, S, L0)
    L0 = y_est.shape[-1]
    rel_est, rel_win = panel.rel_est, panel.rel_win
    params = np.full((E, S, len(GARCH_COEFFICIENTS)), np.nan)
    var_ar = np.full(panel.abnormal.shape, np.nan)
    cond_sd = np.full((E, S, L0), np.nan)
    sigma2 = np.full((E, S), np.nan)
    included = panel.included.copy()
    reasons = panel.reasons.astype(object).copy()
    for e, s in zip(*np.nonzero(panel.included), strict=True):
        row = y_est[e, s]
        usable = np.flatnonzero(np.isfinite(row))
        if usable.size == 0:
            included[e, s] = False
            reasons[e, s] = "GARCH(1,1) not estimated: no usable estimation days"
            continue
        last = int(usable[-1])
        steps = rel_win - rel_est[last]  # days after the last fitted day, >= 1
        fit = fit_garch(row[usable], int(steps.max()))
        if isinstance(fit, str):
            included[e, s] = False
            reasons[e, s] = fit
            continue
        params[e, s] = (fit.mu, fit.omega, fit.alpha, fit.beta, fit.scale)
        var_ar[e, s] = fit.forecast[steps - 1]
        cond_sd[e, s, usable] = fit.cond_sd
        resid = row[usable] - fit.mu
        sigma2[e, s] = float(resid @ resid) / max(usable.size - 1, 1)
    mu = params[..., 0]
    # the constant-mean panel's normal is its OLS mean where the day is in the data
    normal = panel.normal - panel.beta[..., 0, None] + mu[..., None]
    abnormal = panel.actual - normal
    changes: dict[str, Any] = {
        "normal": normal,
        "abnormal": abnormal,
        "var_ar": var_ar,
        "beta": params,
        "sigma2": sigma2,
        "included": included,
        "reasons": reasons.astype(str),
        "cond_sd": cond_sd,
    }
    return replace(panel, **changes)
