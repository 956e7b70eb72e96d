"""Benchmark: market-model event study in backtest vs statsmodels and the `eventstudy` package.

Three implementations run in this one script on the same input, so the ratios are
meaningful on any machine:

1. ``backtest.eventstudy.EventStudy(model="market")``: vectorised over all
   (event, series) pairs; timed as ``run(...)`` plus building the long
   ``result.abnormal`` table, after a warm-up, median of ``--repeat`` runs.
2. A plain statsmodels loop: for each event x series, ``sm.OLS`` of the series on a
   constant and the market over the estimation window, ``predict`` over the event
   window, AR = actual - predicted.
3. The ``eventstudy`` PyPI package (0.1a12): ``Single.market_model`` for each
   event x series after ``Single.import_returns`` (the package reads returns only
   from a CSV file; writing and importing that file is not timed), and its low-level
   ``Single(models.market_model, {...})`` on slices we cut ourselves.

Peers are timed as the median of ``--peer-repeat`` runs after a warm-up on 4 pairs.
The whole timed comparison is repeated ``--runs`` times (default 5), each run timing
backtest and every peer afresh (interleaved: ``--repeat / --peer-repeat`` timings of
backtest before each round of the peers, so both sides see the same load), and the
script prints each run's ratio and the minimum
(the target: backtest >= 100x faster than the package's fastest entry point in every
run). Wall-clock times decide; each process's CPU time is printed beside them because the
machine may be shared.

Windows: estimation (-250, -11), event (-5, +10). In the package's terms that is
``estimation_size=240, buffer_size=5, event_window=(-5, 10)``.

Input: a *resampled panel* built from real snapshot data. The market is the real
S&P 500 (``SPX``, FRED SP500) in percent log returns; each studied series is a real
snapshot series' change (``data.reactions``: bp for yields, % log returns otherwise),
default and alternative sources, and past those, moving-block-bootstrap resamples
(seeded) of the real series. Every series keeps only the dates on which all have an
observation, so the three implementations see one calendar. backtest receives
levels ``100 * exp(cumsum(r / 100))`` of kind ``index`` observed at 16:00 New York,
and the peers receive exactly the changes backtest derives from those levels.
Events are date-only New York pseudo-events on random panel dates, so day 0 is that
date in all three.

Checked: abnormal returns agree to 1e-10, and statsmodels' coefficients and residual
variance equal ``result.parameters``. Variances are not compared with the package:
it uses ``np.var`` (ddof=0) of the estimation residuals and no forecast-error term.

Usage::

    python benchmarks/bench_eventstudy.py [--events 100] [--series 50] [--repeat 15]
        [--peer-repeat 3] [--runs 5] [--block 20] [--seed 0]

Exits with status 1 if a check fails. Nothing here is asserted in the test suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import statsmodels.api as sm

from backtest import data
from backtest.eventstudy import EventStudy, EventStudyResult
from backtest.eventstudy.placebo import pseudo_events

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the package's own imports may warn
    try:
        import eventstudy as es
        from eventstudy import models as es_models
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SystemExit(
            "bench_eventstudy.py needs the `eventstudy` package: pip install eventstudy==0.1a12"
        ) from exc

NY = "America/New_York"
MARKET = "SPX"
EST, WIN = (-250, -11), (-5, 10)
#: Real snapshot series, as (catalog name, source or None for the default source).
REAL: list[tuple[str, str | None]] = [
    *((n, None) for n in ["UST3M", "UST2Y", "UST5Y", "UST10Y", "UST30Y", "USDJPY"]),
    *((n, None) for n in ["NKY", "TOPIX", "USD", "VIX"]),
    *((n, None) for n in ["JGB2Y", "JGB5Y", "JGB10Y", "JGB20Y", "JGB30Y"]),
    ("UST10Y", "yahoo"),
    ("USDJPY", "yahoo"),
    ("USDJPY", "file"),
    ("NKY", "yahoo"),
    ("VIX", "yahoo"),
]
LEFT_OUT = (
    "DXY (snapshot starts 2024-07-23: would cut the common calendar to two years), "
    "SPX@yahoo (^GSPC: the market itself)"
)
TOL = 1e-10


def timeit(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall-clock and CPU time of `repeat` calls after a warm-up call."""
    fn()  # warm-up
    return timed(fn, repeat)


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall-clock and CPU (this process) time of `repeat` calls, no warm-up."""
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - t0)
    return statistics.median(wall), statistics.median(cpu)


def real_returns() -> pd.DataFrame:
    """Market and real series' own daily changes, on the dates where all have one."""
    cols = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # series ending before today
        for name, source in [(MARKET, None), *REAL]:
            levels = data.load([name], offline=True, sources=source)
            label = name if source is None else f"{name}_{'ecb' if source == 'file' else source}"
            cols[label] = data.reactions(levels)[name].dropna()
    return pd.concat(cols, axis=1, join="inner").rename_axis("date")


def resampled_panel(
    n_series: int, block: int, seed: int
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Real returns, topped up with moving-block-bootstrap resamples of them."""
    real = real_returns()
    names = [c for c in real.columns if c != MARKET]
    picked, boot = names[:n_series], {}
    rng = np.random.default_rng(seed)
    T = len(real)
    for j in range(n_series - len(picked)):
        source = names[j % len(names)]
        starts = rng.integers(0, T - block + 1, size=-(-T // block))
        idx = (starts[:, None] + np.arange(block)).ravel()[:T]
        boot[f"bs{j + 1:02d}_{source}"] = real[source].to_numpy()[idx]
    panel = pd.concat([real[[MARKET, *picked]], pd.DataFrame(boot, index=real.index)], axis=1)
    return panel, picked, list(boot)


def statsmodels_loop(
    returns: pd.DataFrame, names: list[str], event_dates: pd.DatetimeIndex
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """AR (E, S, W), [alpha, beta] (E, S, 2) and residual variance (E, S) by sm.OLS."""
    m = returns[MARKET].to_numpy()
    ys = {n: returns[n].to_numpy() for n in names}
    day0 = np.searchsorted(returns.index.values, event_dates.values)
    E, S, W = len(day0), len(names), WIN[1] - WIN[0] + 1
    ar, params, scale = np.empty((E, S, W)), np.empty((E, S, 2)), np.empty((E, S))
    for e, p in enumerate(day0):
        est = slice(p + EST[0], p + EST[1] + 1)
        win = slice(p + WIN[0], p + WIN[1] + 1)
        X_est, X_win = sm.add_constant(m[est]), sm.add_constant(m[win])
        for s, name in enumerate(names):
            y = ys[name]
            fit = sm.OLS(y[est], X_est).fit()
            ar[e, s] = y[win] - fit.predict(X_win)
            params[e, s], scale[e, s] = fit.params, fit.scale
    return ar, params, scale


def package_kwargs() -> dict[str, object]:
    """Our windows in the `eventstudy` package's terms."""
    return {
        "event_window": WIN,
        "estimation_size": EST[1] - EST[0] + 1,
        "buffer_size": WIN[0] - EST[1] - 1,
    }


def package_market_model(
    names: list[str], event_dates: pd.DatetimeIndex
) -> tuple[np.ndarray, np.ndarray]:
    """AR (E, S, W) and the package's var_AR (E, S) with ``Single.market_model``."""
    days = [np.datetime64(d.date()) for d in event_dates]
    kw = package_kwargs()
    ar = np.empty((len(days), len(names), WIN[1] - WIN[0] + 1))
    var = np.empty((len(days), len(names)))
    for e, day in enumerate(days):
        for s, name in enumerate(names):
            one = es.Single.market_model(name, MARKET, day, **kw)
            ar[e, s], var[e, s] = one.AR, one.var_AR[0]
    return ar, var


def package_low_level(
    returns: pd.DataFrame, names: list[str], event_dates: pd.DatetimeIndex
) -> np.ndarray:
    """AR (E, S, W) with ``Single(models.market_model, ...)`` on slices cut here."""
    m = returns[MARKET].to_numpy()
    ys = {n: returns[n].to_numpy() for n in names}
    day0 = np.searchsorted(returns.index.values, event_dates.values)
    kw = package_kwargs()
    ar = np.empty((len(day0), len(names), WIN[1] - WIN[0] + 1))
    for e, p in enumerate(day0):
        cut = slice(p + EST[0], p + WIN[1] + 1)
        for s, name in enumerate(names):
            data_ = {"security_returns": ys[name][cut], "market_returns": m[cut]}
            ar[e, s] = es.Single(es_models.market_model, data_, **kw).AR
    return ar


def write_package_csv(returns: pd.DataFrame, path: str) -> None:
    """Returns in the CSV layout ``Single.import_returns`` reads (a ``date`` column)."""
    frame = returns.reset_index()
    frame["date"] = frame["date"].dt.strftime("%Y-%m-%d")
    frame.to_csv(path, index=False)


def max_abs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b))) if np.isfinite(a).all() and np.isfinite(b).all() else np.inf


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--series", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=15, help="timed runs of backtest")
    parser.add_argument("--peer-repeat", type=int, default=3, help="timed runs of each peer")
    parser.add_argument("--block", type=int, default=20, help="bootstrap block length (days)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--runs", type=int, default=5, help="complete timed comparisons, one after the other"
    )
    args = parser.parse_args()

    # Input ---------------------------------------------------------------------------
    source, real, boot = resampled_panel(args.series, args.block, args.seed)
    names = [*real, *boot]
    cols = [MARKET, *names]
    kinds = dict.fromkeys(cols, "index")
    clocks = dict.fromkeys(cols, (NY, "16:00"))
    growth = np.exp(np.cumsum(source.iloc[1:].to_numpy() / 100.0, axis=0))
    levels = pd.DataFrame(
        100.0 * np.vstack([np.ones(len(cols)), growth]), index=source.index, columns=cols
    )
    returns = data.reactions(levels, kinds).iloc[1:]  # what backtest sees; peers get the same
    returns.attrs = {}
    rng = np.random.default_rng(args.seed)
    first, last = -EST[0], len(returns) - 1 - WIN[1]  # full windows inside the panel
    counts = (args.series, args.repeat, args.peer_repeat, args.runs)
    if not 0 < args.events <= last - first + 1 or min(counts) < 1:
        parser.error(
            f"need 1 <= --events <= {last - first + 1} (panel dates with full windows) "
            f"and --series, --repeat, --peer-repeat, --runs >= 1; got --events {args.events} "
            f"--series {args.series} --repeat {args.repeat} --peer-repeat {args.peer_repeat} "
            f"--runs {args.runs}"
        )
    picks = np.sort(rng.choice(np.arange(first, last + 1), size=args.events, replace=False))
    event_dates = pd.DatetimeIndex(returns.index[picks])
    ids = [f"e{i:03d}" for i in range(args.events)]
    events = pseudo_events(event_dates, ids)
    E, S, W = args.events, len(names), WIN[1] - WIN[0] + 1
    print(
        f"resampled panel: {S} series + market on {len(returns)} common dates "
        f"{returns.index[0].date()}..{returns.index[-1].date()}; market {MARKET} "
        f"(real FRED SP500, % log returns); {len(real)} real snapshot series: "
        f"{', '.join(real)}; {len(boot)} moving-block-bootstrap resamples of them "
        f"(block {args.block} days, seed {args.seed}, independent of the market); "
        f"left out: {LEFT_OUT}"
    )
    print(
        f"input to backtest: levels 100*exp(cumsum(r/100)), kind index, 16:00 New York; "
        f"max |reactions - r| = {max_abs(returns.to_numpy(), source.iloc[1:].to_numpy()):.1e} "
        f"(peers get backtest's reactions, bit for bit)"
    )
    print(
        f"{E} date-only pseudo-events on panel dates {event_dates[0].date()}.."
        f"{event_dates[-1].date()} (seed {args.seed}); market model, estimation window "
        f"{EST}, event window {WIN}: {E * S} (event, series) pairs"
    )

    # Results (once: every implementation is deterministic) ------------------------------
    study = EventStudy(model="market", market=MARKET, estimation_window=EST, event_window=WIN)

    def run() -> EventStudyResult:
        return study.run(levels, events, kinds=kinds, clocks=clocks)

    def ours() -> pd.DataFrame:
        return study.run(levels, events, kinds=kinds, clocks=clocks).abnormal

    res = run()
    tab = res.abnormal.set_index(["event", "series", "rel_day"])
    full = pd.MultiIndex.from_product([ids, names, range(WIN[0], WIN[1] + 1)])
    ar_bt = tab["abnormal"].reindex(full).to_numpy().reshape(E, S, W)
    par = res.parameters.set_index(["event", "series"]).reindex(
        pd.MultiIndex.from_product([ids, names])
    )
    day0_ok = bool((res.day0.to_numpy() == event_dates.values[:, None]).all())
    ar_sm, params_sm, scale_sm = statsmodels_loop(returns, names, event_dates)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "returns.csv")
        write_package_csv(returns, path)  # not timed
        t0 = time.perf_counter()
        es.Single.import_returns(path)
        t_import = time.perf_counter() - t0
    imported = es.Single._parameters["returns"]
    csv_exact = all(np.array_equal(imported[c], returns[c].to_numpy()) for c in cols)
    ar_es, var_es = package_market_model(names, event_dates)
    ar_ll = package_low_level(returns, names, event_dates)

    # Checks ------------------------------------------------------------------------------
    sigma2 = par["sigma2"].to_numpy().reshape(E, S)
    checks = {
        "AR backtest vs statsmodels": max_abs(ar_bt, ar_sm),
        "AR backtest vs eventstudy Single.market_model": max_abs(ar_bt, ar_es),
        "AR backtest vs eventstudy Single(models.market_model)": max_abs(ar_bt, ar_ll),
        "AR statsmodels vs eventstudy": max_abs(ar_sm, ar_es),
        "alpha backtest vs statsmodels": max_abs(
            par["alpha"].to_numpy(), params_sm[..., 0].ravel()
        ),
        "beta backtest vs statsmodels": max_abs(par["beta"].to_numpy(), params_sm[..., 1].ravel()),
        "sigma2 backtest vs statsmodels scale": max_abs(sigma2, scale_sm),
    }
    L = EST[1] - EST[0] + 1
    nobs_ok = bool((par["nobs"].to_numpy() == L).all())
    print(
        f"backtest: {len(res.exclusions)} exclusions, nobs = {L} for all pairs: {nobs_ok}, "
        f"day 0 = event date for all pairs: {day0_ok}; package CSV round trip exact: {csv_exact}"
    )
    ok = day0_ok and nobs_ok and len(res.exclusions) == 0
    for what, diff in checks.items():
        good = diff <= TOL
        ok &= good
        print(f"  max |diff| {what}: {diff:.2e} {'ok' if good else 'MISMATCH'} (tol {TOL:g})")
    ratio = var_es / sigma2
    print(
        f"  not compared: variances. eventstudy var_AR / backtest s^2 = {np.median(ratio):.6f} "
        f"(range {ratio.min():.6f}..{ratio.max():.6f}; (L-k)/L = {(L - 2) / L:.6f}: ddof=0), "
        f"and the package has no forecast-error term s^2 x'(X'X)^-1 x"
    )

    # Timings: --runs complete comparisons, each timing every side afresh -----------------
    n_peer = f"median of {args.peer_repeat} after a warm-up on 4 pairs"
    print(
        f"timings: {args.runs} run(s); in each, backtest = median of "
        f"{-(-args.repeat // args.peer_repeat) * args.peer_repeat} after a warm-up, each "
        f"peer = {n_peer}, interleaved (a share of backtest's timings before each round of "
        f"the peers); writing the CSV and Single.import_returns "
        f"({t_import * 1e3:.0f} ms) not timed; wall clock (CPU time of this process in "
        "brackets: the machine may be shared)"
    )
    ratios = []
    for r in range(1, args.runs + 1):
        t_run, _ = timeit(run, args.repeat)
        t_react, _ = timeit(lambda: data.reactions(levels, kinds), args.repeat)
        ours()  # warm-ups
        statsmodels_loop(returns, names[:2], event_dates[:2])
        package_market_model(names[:2], event_dates[:2])
        package_low_level(returns, names[:2], event_dates[:2])
        # Interleaved: a share of backtest's timings before each round of the peers, so
        # both sides are timed under the same load of a shared machine.
        samples: dict[str, list[tuple[float, float]]] = {"bt": [], "sm": [], "es": [], "ll": []}
        per_round = -(-args.repeat // args.peer_repeat)
        for _ in range(args.peer_repeat):
            samples["bt"] += [timed(ours, 1) for _ in range(per_round)]
            samples["sm"].append(timed(lambda: statsmodels_loop(returns, names, event_dates), 1))
            samples["es"].append(timed(lambda: package_market_model(names, event_dates), 1))
            samples["ll"].append(timed(lambda: package_low_level(returns, names, event_dates), 1))
        (t_bt, c_bt), (t_sm, c_sm), (t_es, c_es), (t_ll, c_ll) = (
            (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
            for v in samples.values()
        )
        best, c_best = min((t_es, c_es), (t_ll, c_ll))
        ratios.append(best / t_bt)
        print(
            f"run {r}: backtest EventStudy.run + .abnormal table {t_bt * 1e3:.1f} ms "
            f"[{c_bt * 1e3:.1f}] ({t_bt / (E * S) * 1e6:.1f} us/pair; run alone "
            f"{t_run * 1e3:.1f} ms, of which data.reactions of the levels {t_react * 1e3:.1f} ms)"
            f" | statsmodels OLS loop {t_sm:.2f} s [{c_sm:.2f}] ({t_sm / t_bt:.0f}x)"
            f" | eventstudy Single.market_model {t_es:.2f} s [{c_es:.2f}] ({t_es / t_bt:.0f}x)"
            f" | eventstudy Single(models.market_model) {t_ll:.2f} s [{c_ll:.2f}] "
            f"({t_ll / t_bt:.0f}x) | backtest vs the package's fastest: {best / t_bt:.1f}x "
            f"[CPU {c_best / c_bt:.1f}x]"
        )
    low = min(ratios)
    print(
        f"ratios per run (eventstudy's fastest entry point / backtest): "
        f"{', '.join(f'{x:.1f}x' for x in ratios)}"
    )
    print(
        f"target backtest >= 100x faster than eventstudy in each run: min {low:.1f}x, "
        f"{'met' if low >= 100 else 'NOT met'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
