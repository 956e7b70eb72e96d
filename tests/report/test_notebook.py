"""Notebook display of the result objects (``_repr_html_`` and ``__repr__``).

Every object is built on the bundled snapshot (offline). The checks:

* the HTML parses (:mod:`html.parser`, tags balanced) and stays under 50 kB, also for
  a sweep of 2,000 combinations and an event study of 5,000 (event, series) pairs;
* its text contains the headline numbers, each taken from the object's own tables
  (``res.tests``, ``bt.metrics``, ``sw.table``, ``va.folds``, ``run.results``) and
  formatted here with plain f-strings, not with the module's helpers;
* the ``repr`` is at most 15 lines and never lists the dates of the data rows.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from html.parser import HTMLParser

import pandas as pd
import pytest

from backtest import data, engine
from backtest.config import load_config
from backtest.eventstudy import EventStudy
from backtest.eventstudy.placebo import pseudo_events
from backtest.pipeline import run

from ..conftest import REPO

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

LIMIT = 50_000  # bytes of HTML per object
VOID = {"br", "hr", "img", "meta", "input", "col", "wbr"}
SERIES = ["UST10Y", "SPX", "NKY"]
REAL = ["2019-08-05", "2020-03-16", "2022-09-28", "2024-08-05", "2025-04-03"]
SPACE = {"fast": [5, 10, 20], "slow": [50, 100]}


class _Page(HTMLParser):
    """Collects the text and checks that every opened tag is closed in order."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.text: list[str] = []
        self.in_style = False
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag not in VOID:
            self.stack.append(tag)
        self.in_style = tag == "style"

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()
        self.in_style = False

    def handle_data(self, text):
        if not self.in_style:
            self.text.append(text)


def parse(page: str) -> tuple[str, list[str]]:
    """The visible text of `page` (cells joined by a bar) and its tags; fails if unbalanced."""
    parser = _Page()
    parser.feed(page)
    parser.close()
    assert not parser.stack, f"unclosed tags {parser.stack}"
    return "|".join(parser.text), parser.tags


def cells(page: str) -> list[list[str]]:
    """The rows of every table of `page`, as lists of cell texts."""

    class Rows(HTMLParser):
        def __init__(self):
            super().__init__()
            self.rows: list[list[str]] = []
            self.cell: list[str] | None = None

        def handle_starttag(self, tag, attrs):
            if tag == "tr":
                self.rows.append([])
            elif tag in ("td", "th"):
                self.cell = []

        def handle_endtag(self, tag):
            if tag in ("td", "th") and self.cell is not None:
                self.rows[-1].append("".join(self.cell))
                self.cell = None

        def handle_data(self, text):
            if self.cell is not None:
                self.cell.append(text)

    parser = Rows()
    parser.feed(page)
    return parser.rows


def pct(x: float) -> str:
    return f"{x * 100:.2f}%"


def p4(x: float) -> str:
    return "<0.0001" if x < 1e-4 else f"{x:.4f}"


def check_html(page: str) -> str:
    assert len(page.encode("utf-8")) < LIMIT
    text, tags = parse(page)
    assert "table" in tags
    return text


def check_repr(text: str, index: pd.Index) -> None:
    lines = text.splitlines()
    assert 1 <= len(lines) <= 15
    # the first and last dates may be named (the period); no date in between is
    inner = index[1:-1]
    for day in inner[:: max(len(inner) // 50, 1)]:
        assert f"{day:%Y-%m-%d}" not in text


# --------------------------------------------------------------------- event study
@pytest.fixture(scope="module")
def levels():
    return data.load(SERIES, start="2015-01-01", end="2025-12-31", offline=True)


@pytest.fixture(scope="module")
def study_result(levels):
    study = EventStudy(
        model="constant_mean",
        estimation_window=(-120, -11),
        event_window=(-5, 5),
        min_estimation=60,
    )
    return study.run(levels, pseudo_events(pd.to_datetime(REAL), [f"e{i}" for i in range(5)]))


def test_event_study_html_has_the_recommended_test_of_each_series(study_result):
    res = study_result
    page = res._repr_html_()
    text = check_html(page)
    tests = res.tests(0, 5)  # the default window of the display: days 0 to the end
    rec = tests[tests["recommended"]]
    assert list(rec["series"]) == SERIES
    rows = {r[0]: r for r in cells(page) if r and r[0] in SERIES}
    for r in rec.itertuples():
        unit = res.units[r.series]
        caar = f"{r.caar:.2f}" if unit == "bp" else f"{r.caar:.3f}"
        assert rows[r.series] == [
            r.series,
            unit,
            str(r.n),
            caar,
            r.test,
            f"{r.statistic:.3f}",
            p4(r.pvalue),
            "0",
        ]
    assert res.units["UST10Y"] == "bp" and res.units["SPX"] == "% log return"
    assert "constant_mean" in text and "5 events" in text and "days +0 to +5" in text


def test_event_study_repr_is_short(study_result):
    text = repr(study_result)
    assert text.startswith("EventStudyResult: model constant_mean, 5 events x 3 series")
    assert "UST10Y bp" in text
    lines = text.splitlines()
    assert len(lines) <= 15
    for day in REAL:
        assert day not in text


def test_placebo_html_shows_observed_and_placebo_p_values(study_result):
    placebo = study_result.placebo((0, 1), groups={"all": SERIES}, draws=20, seed=3)
    page = placebo._repr_html_()
    check_html(page)
    rec = placebo.table[placebo.table["recommended"]]
    rows = {r[0]: r for r in cells(page) if r and r[0] in [*SERIES, "all"]}
    assert set(rows) == {*SERIES, "all"}
    for r in rec.itertuples():
        assert rows[r.series][1:] == [
            r.test,
            f"{r.statistic:.3f}",
            p4(r.pvalue),
            p4(r.empirical_pvalue),
            pct(r.size),
            str(r.draws),
        ]
    text = repr(placebo)
    assert len(text.splitlines()) <= 15 and "20 draws" in text


@pytest.fixture(scope="module")
def large_study():
    names = ["UST10Y", "SPX", "NKY", "USDJPY", "JGB10Y"]
    frame = data.load(names, start="2012-01-01", end="2025-12-31", offline=True)
    days = frame["SPX"].dropna().index
    days = days[(days >= "2016-01-01") & (days <= "2025-06-30")][::2][:1000]
    study = EventStudy(
        model="constant_mean",
        estimation_window=(-120, -11),
        event_window=(-5, 5),
        min_estimation=60,
    )
    res = study.run(frame, pseudo_events(days, [f"e{i}" for i in range(len(days))]))
    assert len(res.event_ids) * len(res.series) == 5000
    return res, days


@pytest.mark.slow
def test_large_event_study_stays_small(large_study):
    res, days = large_study
    page = res._repr_html_()
    text = check_html(page)
    assert "1000 events" in text
    check_repr(repr(res), days)
    for day in days[1:-1:37]:
        assert f"{day:%Y-%m-%d}" not in page


# ------------------------------------------------------------------------ engine
@pytest.fixture(scope="module")
def usdjpy():
    return data.load(["USDJPY"], start="2016-01-01", end="2025-12-31", offline=True)


@pytest.fixture(scope="module")
def single(usdjpy):
    return engine.backtest("ma_crossover", {"fast": 10, "slow": 50}, usdjpy, series="USDJPY")


def test_backtest_html_has_every_metric(single):
    bt = single
    page = bt._repr_html_()
    text = check_html(page)
    table = cells(page)
    header, values = table[0], table[1]
    m = bt.metrics
    expected = {
        "total return": pct(m["total_return"]),
        "CAGR": pct(m["cagr"]),
        "volatility": pct(m["volatility"]),
        "Sharpe": f"{m['sharpe']:.3f}",
        "Sortino": f"{m['sortino']:.3f}",
        "max drawdown": pct(m["max_drawdown"]),
        "Calmar": f"{m['calmar']:.3f}",
        "win rate (trades)": pct(m["win_rate"]),
        "positive days": pct(m["positive_days"]),
        "trades": str(int(m["trades"])),
        "exposure": pct(m["exposure"]),
        "turnover": f"{m['turnover']:.3f}",
    }
    assert dict(zip(header, values, strict=True)) == expected
    assert "ma_crossover on USDJPY" in text and "fast=10, slow=50" in text
    assert f"{len(bt.returns)} bars" in text


def test_backtest_repr_does_not_dump_series(single):
    text = repr(single)
    check_repr(text, single.returns.index)
    assert text.startswith("BacktestResult: ma_crossover on USDJPY (fast=10, slow=50")
    assert f"Sharpe {single.metrics['sharpe']:.3f}" in text
    assert "dtype" not in text and "Name:" not in text


def test_text_is_escaped(single):
    odd = dataclasses.replace(single, strategy="<script>alert(1)</script>", params={"a": "x&y"})
    page = odd._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page and "a=x&amp;y" in page
    parse(page)


@pytest.fixture(scope="module")
def small_sweep(usdjpy):
    folds = {"method": "walk_forward", "train_bars": 756, "test_bars": 252}
    return engine.sweep("ma_crossover", SPACE, usdjpy, series="USDJPY", validation=folds)


def _check_sweep(sw):
    page = sw._repr_html_()
    text = check_html(page)
    sel = sw.selection
    for key in ("psr", "dsr", "pbo"):
        assert f"{key.upper()} {sel[key]:.3f}" in text
    best = sw.table.iloc[sw.best]
    assert f"row {sw.best}" in text
    # the best row's metrics, then the top five by Sharpe (ranked here with nlargest)
    table = cells(page)
    metrics = dict(zip(table[0], table[1], strict=True))
    assert metrics["Sharpe"] == f"{best['sharpe']:.3f}"
    assert metrics["total return"] == pct(best["total_return"])
    top = sw.table["sharpe"].nlargest(5, keep="first")
    rows = [r for r in table[3:] if r]
    assert [int(r[0]) for r in rows] == list(top.index)
    sharpe_col = table[2].index("Sharpe")
    assert [r[sharpe_col] for r in rows] == [f"{v:.3f}" for v in top]
    return text


def test_sweep_html_best_row_top_five_and_selection(small_sweep):
    text = _check_sweep(small_sweep)
    assert "6 combinations" in text
    r = repr(small_sweep)
    assert len(r.splitlines()) <= 15 and f"DSR {small_sweep.selection['dsr']:.3f}" in r


def test_fold_choices_show_each_folds_bars_and_pick(small_sweep):
    fc = small_sweep.folds
    assert fc is not None and len(fc.folds) > 1
    page = fc._repr_html_()
    check_html(page)
    rows = [r for r in cells(page)[1:] if r]
    assert rows == [
        [str(k), f"{a} to {b - 1}", f"{c} to {d - 1}", str(pick)]
        for k, ((a, b, c, d), pick) in enumerate(zip(fc.folds, fc.picks, strict=True))
    ]
    text = repr(fc)
    assert len(text.splitlines()) <= 15 and "walk_forward" in text
    assert "dtype" not in text and "2016-" not in text


@pytest.mark.slow
def test_large_sweep_html_stays_small(usdjpy):
    space = {"fast": list(range(2, 42)), "slow": list(range(50, 300, 5))}
    sw = engine.sweep("ma_crossover", space, usdjpy, series="USDJPY", keep_returns=False)
    assert len(sw.table) == 2000
    text = _check_sweep(sw)
    assert "2000 combinations" in text and "1995 more combinations" in text
    r = repr(sw)
    assert len(r.splitlines()) <= 15


def test_validation_html_in_and_out_of_sample_rows(usdjpy):
    va = engine.validate(
        "ma_crossover",
        SPACE,
        usdjpy,
        series="USDJPY",
        method="walk_forward",
        train_bars=756,
        test_bars=252,
    )
    page = va._repr_html_()
    text = check_html(page)
    table = cells(page)
    oos = dict(zip(table[0], table[1], strict=True))
    assert oos["Sharpe"] == f"{va.oos_metrics['sharpe']:.3f}"
    assert oos["CAGR"] == pct(va.oos_metrics["cagr"])
    header = table[2]
    # folds count no trades: a column of n/a only is left out
    assert va.folds["trades"].isna().all() and "trades" not in header
    fold_rows = [dict(zip(header, r, strict=True)) for r in table[3:] if r]
    assert len(fold_rows) == min(len(va.folds), 20)
    for r, f in zip(fold_rows, va.folds.itertuples(), strict=False):
        assert r["fold"] == str(f.fold)
        assert r["sample"] == ("in sample" if f.sample == "in" else "out of sample")
        assert r["start"] == f"{f.start:%Y-%m-%d}" and r["end"] == f"{f.end:%Y-%m-%d}"
        assert r["params"] == (
            f"fast={f.param_fast}, slow={f.param_slow}, direction={f.param_direction}"
        )
        assert r["Sharpe"] == f"{f.sharpe:.3f}"
        assert r["CAGR"] == pct(f.cagr) and r["max drawdown"] == pct(f.max_drawdown)
    assert "walk_forward" in text
    rep = repr(va)
    check_repr(rep, va.oos_returns.index)
    means = va.folds.groupby("sample")["sharpe"].mean()
    assert f"in sample {means['in']:.3f}, out of sample {means['out']:.3f}" in rep


# ---------------------------------------------------------------------------- run
@pytest.mark.slow
def test_run_result_html_what_ran_tests_and_strategies(tmp_path):
    path = REPO / "configs" / "usdjpy_strategies.yaml"
    cfg = load_config(path, {"data.offline": True, "output.dir": str(tmp_path / "out")})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run(cfg, config_path=path)
    page = result._repr_html_()
    text = check_html(page)
    res = result.results
    assert res["run"]["name"] in text and str(tmp_path / "out") in text and str(path) in text
    first = res["event_study"]["windows"][0]
    lo, hi = first["window"]
    assert f"CAR days {lo:+d} to {hi:+d}" in text
    table = cells(page)
    by_series = {r[0]: r for r in table if r and r[0] in res["event_study"]["units"]}
    for t in first["tests"]:
        if t["recommended"]:
            unit = res["event_study"]["units"][t["series"]]
            caar = f"{t['caar']:.2f}" if unit == "bp" else f"{t['caar']:.3f}"
            assert by_series[t["series"]][1:] == [
                unit,
                str(t["n"]),
                caar,
                t["test"],
                f"{t['statistic']:.3f}",
                p4(t["pvalue"]),
            ]
    strategies = {r[0]: r for r in table if r and " on USDJPY" in r[0]}
    header = next(r for r in table if r and r[0] == "strategy")
    for s in res["strategies"]:
        row = dict(zip(header, strategies[f"{s['name']} on {s['series']}"], strict=True))
        assert row["Sharpe"] == f"{s['metrics']['sharpe']:.3f}"
        assert row["total return"] == pct(s["metrics"]["total_return"])
        if s["sweep"]:
            assert row["DSR"] == f"{s['sweep']['selection']['dsr']:.3f}"
            assert row["combinations"] == str(s["sweep"]["combinations"])
        if s["validation"]:
            oos = s["validation"]["oos_metrics"]["sharpe"]
            assert row["OOS Sharpe"] == (f"{oos:.3f}" if math.isfinite(oos) else "n/a")
    rep = repr(result)
    assert len(rep.splitlines()) <= 15 and "5 strategies" in rep
    check_repr(rep, result.levels.index)


@pytest.mark.slow
def test_run_result_labels_pooled_groups_standardised(tmp_path):
    path = REPO / "configs" / "april_2025_selloff.yaml"
    cfg = load_config(path, {"data.offline": True, "event_study.placebo.draws": 20})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run(cfg, config_path=path)
    page = result._repr_html_()
    check_html(page)
    es = result.results["event_study"]
    units = es["units"]
    rows = {r[0]: r for r in cells(page) if r}
    tests = [t for t in es["windows"][0]["tests"] if t["recommended"]]
    assert "treasuries" in {t["series"] for t in tests}
    for t in tests:
        unit = units.get(t["series"], "standardised")  # a group pools standardised CARs
        caar = f"{t['caar']:.2f}" if unit == "bp" else f"{t['caar']:.3f}"
        assert rows[t["series"]][1:4] == [unit, str(t["n"]), caar]
    assert rows["treasuries"][1] == "standardised" and units["UST10Y"] == "bp"
    assert "RunResult: april_2025_selloff" in repr(result)


def test_loaded_series_repr_is_one_line():
    from backtest.data.loader import DataLoader

    loaded = DataLoader(offline=True).load_series("USDJPY", start="2020-01-01", end="2020-12-31")
    text = repr(loaded)
    first, last = loaded.data.index[0], loaded.data.index[-1]
    assert text == (
        f"LoadedSeries(USDJPY: {loaded.spec.kind} in {loaded.spec.unit}, {loaded.source.key} "
        f"from {loaded.origin}, {first:%Y-%m-%d} to {last:%Y-%m-%d}, {len(loaded.data)} rows)"
    )
    assert "\n" not in text and "2020-06-" not in text
