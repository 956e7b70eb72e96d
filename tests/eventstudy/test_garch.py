"""Model ``garch`` (backtest/eventstudy/garch.py) against `arch` called directly.

Every number is recomputed here with ``arch.arch_model`` on the same estimation window
(the same days, the same options), so the fits must agree to the last digits: the
optimiser sees identical inputs.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from arch import arch_model
from arch.utility.exceptions import DataScaleWarning
from scipy import stats

from backtest import data
from backtest.eventstudy import EventStudy
from backtest.eventstudy.garch import fit_garch, scale_factor

from ..builders import events

NY = "America/New_York"


LIBERATION = ("2025-04-02", "16:00", NY, "liberation_day")
PAUSE = ("2025-04-09", "13:18", NY, "pause_90d")


@pytest.fixture(scope="module")
def april() -> pd.DataFrame:
    return data.load(
        ["UST10Y", "USDJPY", "SPX", "VIX"], start="2023-06-01", end="2025-06-30", offline=True
    )


@pytest.fixture(scope="module")
def garch_res(april):
    return EventStudy(model="garch").run(april, events(LIBERATION, PAUSE))


def _arch_direct(y: np.ndarray):
    model = arch_model(y, mean="Constant", vol="GARCH", p=1, q=1, dist="normal", rescale=False)
    return model.fit(disp="off", show_warning=False)


@pytest.mark.parametrize("series", ["UST10Y", "SPX", "USDJPY", "VIX"])
@pytest.mark.parametrize("event", ["liberation_day", "pause_90d"])
def test_garch_matches_arch_on_the_same_window(april, garch_res, series, event):
    res = garch_res
    day0 = res.day0.loc[event, series]
    changes = data.reactions(april)[series]
    own = april[series].dropna().index
    pos0 = own.get_loc(day0)
    # estimation window (-250, -11) in the series' own observations
    y = changes.reindex(own[pos0 - 250 : pos0 - 10]).dropna().to_numpy()
    assert len(y) == 240
    direct = _arch_direct(y)
    assert direct.convergence_flag == 0
    p = res.parameters.set_index(["event", "series"]).loc[(event, series)]
    mu, omega, alpha, beta = direct.params.to_numpy()
    assert p["fit_scale"] == 1.0  # bp and % log changes need no rescaling here
    assert p["mu"] == pytest.approx(mu, rel=1e-9, abs=1e-12)
    assert p["omega"] == pytest.approx(omega, rel=1e-9, abs=1e-12)
    assert p["alpha"] == pytest.approx(alpha, rel=1e-9, abs=1e-12)
    assert p["beta"] == pytest.approx(beta, rel=1e-9, abs=1e-12)
    assert p["nobs"] == 240
    assert p["sigma2"] == pytest.approx(((y - mu) ** 2).sum() / 239, rel=1e-10)
    # event window (-5, 10): day r is r + 11 days after the last estimation day (-11)
    fc = direct.forecast(horizon=21, reindex=False).variance.to_numpy()[-1]
    ab = res.abnormal.query("event == @event and series == @series").set_index("rel_day")
    win_days = own[pos0 - 5 : pos0 + 11]
    actual = changes.reindex(win_days).to_numpy()
    np.testing.assert_allclose(ab["normal"].to_numpy(), mu, rtol=1e-9)
    np.testing.assert_allclose(ab["abnormal"].to_numpy(), actual - mu, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ab["sd"].to_numpy() ** 2, fc[np.arange(-5, 11) + 11 - 1], rtol=1e-9)
    # CAR(0, 1): variance is the sum of the two days' forecasts; normal p-value
    row = res.reactions(0, 1).set_index(["event", "series"]).loc[(event, series)]
    car = (actual[5:7] - mu).sum()
    sd = np.sqrt(fc[10] + fc[11])
    assert row["car"] == pytest.approx(car, rel=1e-9, abs=1e-12)
    assert row["sd_car"] == pytest.approx(sd, rel=1e-9)
    assert row["pvalue"] == pytest.approx(2 * stats.norm.sf(abs(car / sd)), rel=1e-7)


def test_fit_garch_in_sample_conditional_sd_matches_arch(april):
    y = data.reactions(april)["UST10Y"].dropna().to_numpy()[-300:]
    fit = fit_garch(y, 5)
    assert not isinstance(fit, str)
    direct = _arch_direct(y)
    np.testing.assert_allclose(fit.cond_sd, direct.conditional_volatility, rtol=1e-9)
    fc = direct.forecast(horizon=5, reindex=False).variance.to_numpy()[-1]
    np.testing.assert_allclose(fit.forecast, fc, rtol=1e-9)
    assert fit.loglik == pytest.approx(direct.loglikelihood, rel=1e-12)


def test_small_scale_is_rescaled_like_arch_and_converted_back(april):
    # USD/JPY in fractions of a percent: variance ~1e-5, outside arch's [0.1, 1e4)
    y = data.reactions(april)["USDJPY"].dropna().to_numpy()[-300:] / 1000.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataScaleWarning)
        fit = fit_garch(y, 3)
    assert not isinstance(fit, str)
    # arch's own rescaling (rescale=True) picks the same power of ten and fits y * scale
    auto = arch_model(y, mean="Constant", vol="GARCH", p=1, q=1, dist="normal", rescale=True)
    direct = auto.fit(disp="off", show_warning=False)
    c = direct.scale
    assert c == 1000.0 == fit.scale == scale_factor(y)
    mu, omega, alpha, beta = direct.params.to_numpy()
    assert fit.mu * c == pytest.approx(mu, rel=1e-9)
    assert fit.omega * c**2 == pytest.approx(omega, rel=1e-9)
    assert (fit.alpha, fit.beta) == pytest.approx((alpha, beta), rel=1e-9)
    fc = direct.forecast(horizon=3, reindex=False).variance.to_numpy()[-1]
    np.testing.assert_allclose(fit.forecast * c**2, fc, rtol=1e-9)
    # and arch warns about this scale when not told what to do, which we never let happen
    with pytest.warns(DataScaleWarning):
        arch_model(y, mean="Constant", vol="GARCH", rescale=None).fit(disp="off")


def test_pair_without_variation_is_excluded_with_reason():
    idx = pd.bdate_range("2020-01-01", periods=400)
    rng = np.random.default_rng(3)
    flat = np.r_[np.full(350, 5.0), 5.0 + np.cumsum(rng.normal(0, 0.05, 50))]
    moving = 3.0 + np.cumsum(rng.normal(0, 0.05, 400))
    lv = pd.DataFrame({"FLAT": flat, "MOVE": moving}, index=idx)
    lv.attrs["backtest"] = {
        "series": {n: {"kind": "yield", "timezone": NY, "obs_time": "16:00"} for n in lv}
    }
    ev = events((str(idx[300].date()), None, NY, "e"))
    res = EventStudy(model="garch").run(lv, ev)
    ex = res.exclusions.set_index("series")
    assert list(ex.index) == ["FLAT"]
    assert "no variation" in ex.loc["FLAT", "reason"]
    assert list(res.parameters["series"]) == ["MOVE"]
    assert res.car(0, 1)["FLAT"].isna().all()


def test_garch_standardises_estimation_residuals_by_conditional_sd(april, garch_res):
    # the portfolio test reads the estimation residuals over their in-sample sd:
    # with one event its statistic is the window's mean SAR over the sd of the
    # estimation days' standardised residuals, computed here from arch directly
    res = garch_res
    day0 = res.day0.loc["liberation_day", "SPX"]
    changes = data.reactions(april)["SPX"]
    own = april["SPX"].dropna().index
    pos0 = own.get_loc(day0)
    y = changes.reindex(own[pos0 - 250 : pos0 - 10]).to_numpy()
    direct = _arch_direct(y)
    z = direct.std_resid  # (y - mu) / conditional sd
    fc = direct.forecast(horizon=12, reindex=False).variance.to_numpy()[-1]
    mu = direct.params["mu"]
    sar0 = (changes.reindex(own[pos0 : pos0 + 1]).to_numpy()[0] - mu) / np.sqrt(fc[10])
    pairs = [("liberation_day", "SPX")]
    out = res.pair_tests(pairs, 0, 0).set_index("test").loc["portfolio"]
    assert out["statistic"] == pytest.approx(sar0 / np.std(z, ddof=1), rel=1e-7)


def test_garch_in_blocks_of_series_equals_one_block(april, garch_res):
    from backtest.execution import LocalExecutor

    blocks = EventStudy(model="garch").run(
        april, events(LIBERATION, PAUSE), executor=LocalExecutor(), block_size=1
    )
    pd.testing.assert_frame_equal(garch_res.parameters, blocks.parameters)
    pd.testing.assert_frame_equal(garch_res.abnormal, blocks.abnormal)
    pd.testing.assert_frame_equal(garch_res.tests(0, 1), blocks.tests(0, 1))
    pd.testing.assert_frame_equal(garch_res.variance_ratios(0, 1), blocks.variance_ratios(0, 1))
    assert "model=garch" in garch_res.summary(0, 1)


def test_non_convergence_excludes_the_pair_with_the_optimizer_message(april, monkeypatch):
    from arch.univariate.base import ARCHModel

    real_fit = ARCHModel.fit

    def one_iteration(self, *args, **kwargs):  # a genuine failure: SLSQP stops at 1 step
        return real_fit(self, *args, **{**kwargs, "options": {"maxiter": 1}})

    monkeypatch.setattr(ARCHModel, "fit", one_iteration)
    res = EventStudy(model="garch", series=("SPX",)).run(april, events(LIBERATION))
    ex = res.exclusions
    assert ex["series"].tolist() == ["SPX"]
    assert ex["reason"].iloc[0].startswith("GARCH(1,1) did not converge (optimizer: ")
    assert "iteration" in ex["reason"].iloc[0].lower()
    assert res.parameters.empty and res.car(0, 1).isna().all().all()
