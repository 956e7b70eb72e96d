"""backtest/eventstudy/stats.py against the ``eventstudy`` PyPI package (0.1a12).

Reference checks, all of them: the expected values are computed by the package, live,
on the same input (no stored numbers; skipped when the package is not installed).
``test_package_single_tstat_is_our_scar`` checks the construction (package vs numbers
computed here), and ``test_package_has_no_rank_or_sign_test`` records what the package
lacks.

What the package offers (eventstudy/single.py, multiple.py): per event, ``Single``
takes the event-window residuals ``AR_t``, a per-day variance ``var_t`` and ``df``
from a model function and computes ``CAR = cumsum(AR)``,
``var_CAR = cumsum(var)`` and ``tstat = CAR / sqrt(var_CAR)``.  ``Multiple``
aggregates events: ``AAR = mean_i AR``, ``var_AAR = sum_i var_i / N**2``,
``CAAR = cumsum(AAR)``, ``tstat = CAAR / sqrt(cumsum(var_AAR))`` (MacKinlay 1997's
J1), and ``CAR_dist`` with the cross-sectional ``Mean`` and ``Variance`` (numpy
default ddof=0) of the CARs.  Its own models estimate ``var`` with ``np.var``
(ddof=0) and report ``df = L - 1`` whatever the model; we bypass them with a model
function that hands the package our residuals and variances, so that its
definitions coincide with ours:

* Patell: feed each event's standardised ARs (summing to SCAR_i) with per-day
  variance ``nu_i / (nu_i - 2) / n``; the package's J1 is then
  ``sum SCAR_i / sqrt(sum nu_i / (nu_i - 2))``, the Patell Z.  Only the statistic is
  compared: the package's p-value uses Student's t with ``sum_i df_i`` degrees of
  freedom, ours the standard normal.
* BMP and the cross-sectional t: the package has no such test, but its
  ``CAR_dist`` Mean and (ddof=0) Variance give ``t = Mean / sqrt(Variance / (N-1))``,
  which equals ``mean / (sd_ddof1 / sqrt N)``.
* CAAR (the statistic of ``bootstrap_caar``): ``Multiple.CAAR[-1]``.

Not comparable: the package's ``Multiple.sign_test`` and ``Multiple.rank_test`` are
stubs returning None ("Not implemented yet"), so there is nothing to compare for
Corrado or the generalized sign test; it has no Kolari-Pynnönen, portfolio,
Wilcoxon, bootstrap p-value or multiple-testing adjustment either.  Its raw J1
(unequal ``var_i``, no standardisation) is not one of our statistics, so it is not
compared directly.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the package's own imports may warn
    es = pytest.importorskip(
        "eventstudy", reason="the `eventstudy` PyPI package is not installed (optional check)"
    )

from backtest.eventstudy import stats as st

N_EVENTS, L_EST, N_WIN = 7, 40, 3
EVENT_WINDOW = (-1, 1)  # three days, as N_WIN


def passthrough_model(ar, var, df, *, estimation_size, event_window_size, keep_model=False, **kw):
    """An ``eventstudy`` model function returning given residuals, df and variance."""
    assert len(ar) == event_window_size
    return np.asarray(ar, dtype=float), df, [var] * event_window_size


def single(ar: np.ndarray, var: float, df: float):
    return es.Single(
        passthrough_model,
        {"ar": ar, "var": var, "df": df},
        event_window=EVENT_WINDOW,
        estimation_size=L_EST,
        buffer_size=0,
    )


@pytest.fixture(scope="module")
def panel():
    """Market-model-like inputs: window ARs, sigma-hat from the estimation window, df."""
    rng = np.random.default_rng(11)
    sigma = rng.uniform(0.5, 2.0, size=N_EVENTS)
    est = rng.normal(size=(N_EVENTS, L_EST)) * sigma[:, None]
    win = rng.normal(0.4, 1.0, size=(N_EVENTS, N_WIN)) * sigma[:, None]
    df = np.array([38.0, 38.0, 37.0, 38.0, 36.0, 38.0, 35.0])
    var_ar = (est**2).sum(axis=1) / df  # per-day residual variance (ddof = k)
    var_car = N_WIN * var_ar
    return {"win": win, "df": df, "var_ar": var_ar, "scar": win.sum(axis=1) / np.sqrt(var_car)}


def test_patell_equals_package_j1_on_standardised_events(panel):
    nu = panel["df"]
    events = [
        single(
            panel["win"][i] / math.sqrt(N_WIN * panel["var_ar"][i]),
            nu[i] / (nu[i] - 2) / N_WIN,
            nu[i],
        )
        for i in range(N_EVENTS)
    ]
    pkg = es.Multiple(events)
    ours = st.patell(panel["scar"], nu)
    assert math.isclose(ours.statistic, float(pkg.tstat[-1]), rel_tol=1e-10, abs_tol=1e-10)
    assert ours.n == N_EVENTS
    # (p-values differ by design: the package uses t with sum(df) degrees of freedom.)


def test_package_single_tstat_is_our_scar(panel):
    # Sanity check of the construction above: the package's per-event t on the raw
    # ARs with per-day variance var_AR is CAR / sqrt(n var_AR), the SCAR we test.
    for i in range(N_EVENTS):
        ev = single(panel["win"][i], float(panel["var_ar"][i]), panel["df"][i])
        assert math.isclose(float(ev.tstat[-1]), panel["scar"][i], rel_tol=1e-10)


def package_t_from_car_dist(pkg) -> float:
    """Cross-sectional t from the package's CAR mean and ddof=0 variance."""
    mean = float(pkg.CAR_dist["Mean"][-1])
    var0 = float(pkg.CAR_dist["Variance"][-1])
    return mean / math.sqrt(var0 / (N_EVENTS - 1))


def test_bmp_equals_package_cross_sectional_moments_of_scar(panel):
    events = [
        single(panel["win"][i] / math.sqrt(N_WIN * panel["var_ar"][i]), 1.0, panel["df"][i])
        for i in range(N_EVENTS)
    ]
    pkg = es.Multiple(events)
    ours = st.bmp(panel["scar"])
    assert math.isclose(ours.statistic, package_t_from_car_dist(pkg), rel_tol=1e-10)


def test_cross_sectional_t_and_caar_equal_package(panel):
    events = [
        single(panel["win"][i], float(panel["var_ar"][i]), panel["df"][i]) for i in range(N_EVENTS)
    ]
    pkg = es.Multiple(events)
    car = panel["win"].sum(axis=1)
    ours = st.cross_sectional_t(car)
    assert math.isclose(ours.statistic, package_t_from_car_dist(pkg), rel_tol=1e-10)
    resid = np.zeros((N_EVENTS, L_EST))
    boot = st.bootstrap_caar(resid, car, N_WIN, draws=9)
    assert math.isclose(boot.statistic, float(pkg.CAAR[-1]), rel_tol=1e-10)


def test_package_has_no_rank_or_sign_test(panel):
    # If a later version implements these, add Corrado / sign comparisons here.
    events = [
        single(panel["win"][i], float(panel["var_ar"][i]), panel["df"][i]) for i in range(N_EVENTS)
    ]
    pkg = es.Multiple(events)
    assert pkg.sign_test() is None
    assert pkg.rank_test(0.9) is None
