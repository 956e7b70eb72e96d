"""Return attribution in results.json, the run directory and the reports.

The engine on this branch gives no attribution yet, so ``engine.backtest`` is wrapped to
return a :class:`FakePortfolioResult`: the real backtest of ``buy_and_hold`` on the
snapshot's USD/JPY (real dates, real returns) with the fields of the engine contract
(``legs``, ``excess_returns``, ``attribution``, ``settings["conventions"]``,
``settings["instruments"]``). Its attribution is a SYNTHETIC split of the real daily
returns over two legs (labelled below): it is not market data, only a frame that obeys
the contract's identities (all but funding sum to the returns, all sum to the excess
returns).

References: the sums in results.json are checked against a pandas ``melt``/``groupby`` of
the fake frame computed here, and against the returns themselves (the identity); the
chart's last points against those sums; the Markdown cells against percentages
formatted here; the JSON against the schema (``jsonschema``); the drawn page in headless
Chromium (marked ``browser``, skipped without it).
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest

import backtest.engine
from backtest.config import load_config
from backtest.engine.results import BacktestResult
from backtest.errors import DataValidationError
from backtest.pipeline import run, write_run
from backtest.report.attribution import attribution_figure, read_daily
from backtest.report.strategies import strategies_section
from backtest.report.validate import validate_results

from ..conftest import REPO
from .test_browser import DRAW_TIMEOUT
from .test_browser import driver as driver  # the browser fixture

SCHEMA = json.loads((REPO / "backtest" / "report" / "results.schema.json").read_text())
LEGS = ("USDJPY", "UST10Y")
COLUMNS = [
    ("USDJPY", "price"),
    ("USDJPY", "carry"),
    ("USDJPY", "funding"),
    ("USDJPY", "costs"),
    ("UST10Y", "price"),
    ("UST10Y", "accrual"),
    ("UST10Y", "funding"),
    ("UST10Y", "costs"),
]
CONVENTIONS = {
    "total": "price + accrual or carry - costs, per leg, weighted",
    "excess": "total minus each leg's funding at its currency's short rate",
    "attribution": "daily arithmetic contributions",
}
INSTRUMENTS = {
    "USDJPY": {"kind": "fx", "currency": "JPY", "funding": None},
    "UST10Y": {"kind": "bond", "currency": "USD", "funding": "FEDFUNDS_TARGET"},
}


def synthetic_attribution(returns: pd.Series, positions: pd.Series) -> pd.DataFrame:
    """A synthetic split of real daily returns over two legs (not market data).

    60% of each day's return to USDJPY, 40% to UST10Y; carry 1.5 bp and accrual 1 bp per
    day held, 1 bp of costs per unit of position change on each leg, UST10Y funded at
    1.2 bp per day held, USDJPY self-financed (funding 0). Prices take the rest, so the
    non-funding columns sum to `returns`.
    """
    held = positions.reindex(returns.index).fillna(0.0).abs()
    traded = held.diff().abs().fillna(held)
    carry, accrual = 1.5e-4 * held, 1.0e-4 * held
    cost_fx, cost_bond = -1.0e-4 * traded, -1.0e-4 * traded
    parts = {
        ("USDJPY", "price"): 0.6 * returns - carry - cost_fx,
        ("USDJPY", "carry"): carry,
        ("USDJPY", "funding"): 0.0 * held,
        ("USDJPY", "costs"): cost_fx,
        ("UST10Y", "price"): 0.4 * returns - accrual - cost_bond,
        ("UST10Y", "accrual"): accrual,
        ("UST10Y", "funding"): -1.2e-4 * held,
        ("UST10Y", "costs"): cost_bond,
    }
    frame = pd.DataFrame({k: parts[k] for k in COLUMNS}, index=returns.index)
    frame.columns = pd.MultiIndex.from_tuples(COLUMNS, names=["leg", "component"])
    return frame


@pytest.fixture()
def fake_engine(monkeypatch):
    """engine.backtest returning the contract's fields; the results it made, by call."""
    real = backtest.engine.backtest
    made: list[BacktestResult] = []

    def fake(*args, **kwargs):
        bt = real(*args, **kwargs)
        frame = synthetic_attribution(bt.returns, bt.positions)
        excess = bt.returns + frame.xs("funding", axis=1, level=1).sum(axis=1)
        settings = {**bt.settings, "conventions": CONVENTIONS, "instruments": INSTRUMENTS}
        out = dataclasses.replace(
            bt, settings=settings, legs=LEGS, excess_returns=excess, attribution=frame
        )
        made.append(out)
        return out

    monkeypatch.setattr(backtest.engine, "backtest", fake)
    return made


def small_config(tmp_path: Path) -> Path:
    """One buy-and-hold strategy over the 2025 base study (two series, offline)."""
    path = tmp_path / "attribution.yaml"
    path.write_text(
        f"extends: {REPO / 'configs' / 'base_2025.yaml'}\n"
        "name: attribution_test\n"
        "data: {series: [USDJPY, UST10Y]}\n"
        "strategies:\n"
        "  - {name: buy_and_hold, series: USDJPY, fees_bps: 1.0, slippage_bps: 1.0}\n",
        encoding="utf-8",
    )
    return path


def run_small(tmp_path: Path) -> tuple[dict, Path]:
    path = small_config(tmp_path)
    out = tmp_path / "run"
    cfg = load_config(path, {"data.offline": True, "output.dir": str(out)})
    write_run(run(cfg, config_path=path), out)
    return json.loads((out / "results.json").read_text()), out


def pct(value: float) -> str:
    return f"{100 * value:+.2f}%"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_run_writes_attribution_sums_table_and_reports(fake_engine, tmp_path):
    results, out = run_small(tmp_path)
    # the strategy's backtest, then the tearsheet's benchmark (buy-and-hold of USDJPY)
    bt, _benchmark = fake_engine
    frame = bt.attribution
    assert len(frame) > 600  # 2023-2025 snapshot days, the real returns' dates
    entry = results["strategies"][0]

    # Schema: jsonschema directly and the report's loader.
    jsonschema.validate(results, SCHEMA, cls=jsonschema.Draft202012Validator)
    validate_results(results)

    assert entry["legs"] == list(LEGS)
    assert entry["instruments"] == INSTRUMENTS
    assert entry["settings"]["conventions"] == CONVENTIONS
    assert "metrics" in entry and "sharpe" in entry["metrics"]

    # Reference: a long-format pandas groupby of the fake frame, computed here.
    long = frame.melt(ignore_index=False, value_name="value")
    by_part = long.groupby(["leg", "component"], sort=False)["value"].sum()
    att = entry["attribution"]
    assert att["method"] == "arithmetic sum of daily contributions"
    got = {(leg, c): v for leg, parts in att["components"].items() for c, v in parts.items()}
    assert list(got) == COLUMNS  # the frame's order: price, carry/accrual, funding, costs
    for key, value in by_part.items():
        assert got[key] == pytest.approx(value, abs=1e-13)
    funding = long.loc[long["component"] == "funding", "value"].sum()
    assert att["funding"] == pytest.approx(funding, abs=1e-13)
    # Identities of the contract, against the returns themselves.
    assert att["total"] == pytest.approx(bt.returns.sum(), abs=1e-12)
    assert att["excess"] == pytest.approx(bt.excess_returns.sum(), abs=1e-12)
    assert att["excess"] == pytest.approx(att["total"] + att["funding"], abs=1e-12)

    # The daily table: date, then leg:component columns with the frame's values.
    csv = pd.read_csv(out / "tables" / "attribution_0_buy_and_hold.csv", parse_dates=["date"])
    assert list(csv.columns) == ["date", *(f"{leg}:{c}" for leg, c in COLUMNS)]
    assert list(csv["date"]) == list(frame.index)
    np.testing.assert_allclose(csv.iloc[:, 1:].to_numpy(), frame.to_numpy(), rtol=0, atol=1e-15)
    parquet = read_daily(out, 0, "buy_and_hold")
    assert parquet is not None and parquet.shape == frame.shape

    # Markdown: the table per strategy, the total/excess lines and the convention.
    md = (out / "summary.md").read_text()
    assert "### Return attribution: buy_and_hold on USDJPY, UST10Y" in md
    assert "| leg | component | contribution (% of capital) |" in md
    assert f"| USDJPY | carry | {pct(by_part[('USDJPY', 'carry')])} |" in md
    assert f"| UST10Y | accrual | {pct(by_part[('UST10Y', 'accrual')])} |" in md
    assert f"| all legs | funding | {pct(funding)} |" in md
    assert f"| all legs | total return (all but funding) | {pct(bt.returns.sum())} |" in md
    excess = bt.excess_returns.sum()
    assert f"| all legs | excess return (all components) | {pct(excess)} |" in md
    assert "Returns: total: price + accrual or carry - costs, per leg, weighted;" in md
    assert "UST10Y (bond, USD, funded at FEDFUNDS_TARGET)" in md

    # HTML: the section and its chart are in the page.
    page = (out / "report.html").read_text()
    assert "Return attribution: buy_and_hold on USDJPY, UST10Y" in page
    assert "cumulative contributions (% of capital)" in page


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_the_real_engine_attribution_reaches_results_and_reports(tmp_path):
    # The engine's own attribution of long USD/JPY (spot + carry, self-financed): the
    # entry's sums equal sums of the returns computed here from the equity curve.
    results, out = run_small(tmp_path)
    jsonschema.validate(results, SCHEMA, cls=jsonschema.Draft202012Validator)
    entry = results["strategies"][0]
    assert entry["legs"] == ["USDJPY"]
    assert entry["instruments"]["USDJPY"]["kind"] == "fx"
    att = entry["attribution"]
    assert list(att["components"]["USDJPY"]) == ["price", "carry", "funding", "costs"]
    assert att["funding"] == 0.0  # a currency pair is self-financed
    equity = pd.read_parquet(out / "tables" / "equity.parquet").set_index("date").iloc[:, 0]
    daily = equity.pct_change().fillna(equity.iloc[0] - 1.0)
    assert att["total"] == pytest.approx(float(daily.sum()), abs=1e-10)
    assert att["components"]["USDJPY"]["carry"] > 0.0  # long USD earned the differential
    assert (out / "tables" / "attribution_0_buy_and_hold.csv").is_file()
    assert "Return attribution" in (out / "summary.md").read_text()
    assert "Return attribution" in (out / "report.html").read_text()


def daily_frame() -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Synthetic two-leg split on the snapshot's 2024 USD/JPY dates, as read_daily gives."""
    from backtest import data

    levels = data.load(["USDJPY"], "2024-01-01", "2024-12-31", offline=True)["USDJPY"]
    returns = levels.pct_change().fillna(0.0)
    frame = synthetic_attribution(returns, pd.Series(1.0, index=returns.index))
    flat = frame.copy()
    flat.columns = pd.Index([f"{leg}:{c}" for leg, c in COLUMNS])
    excess = returns + frame.xs("funding", axis=1, level=1).sum(axis=1)
    return flat.rename_axis("date"), returns, excess


def test_chart_has_one_legend_entry_per_leg_and_component():
    flat, returns, excess = daily_frame()
    fig = attribution_figure(flat, "carry on USDJPY, UST10Y")
    stacked = [t for t in fig["data"] if t.get("stackgroup")]
    lines = [t for t in fig["data"] if not t.get("stackgroup")]
    # One legend entry per (leg, component), in the frame's order; each is a pair of
    # areas: its positive part stacked above zero, its negative part below.
    entries = [t for t in stacked if t["showlegend"]]
    assert [t["name"] for t in entries] == [f"{leg} {c}" for leg, c in COLUMNS]
    assert len(stacked) == 2 * len(COLUMNS)
    for leg, c in COLUMNS:
        pair = [t for t in stacked if t["name"] == f"{leg} {c}"]
        assert sorted(t["stackgroup"] for t in pair) == ["gains", "losses"]
        assert len({t["legendgroup"] for t in pair}) == 1
        assert len({t["line"]["color"] for t in pair}) == 1
        gains = np.array(next(t["y"] for t in pair if t["stackgroup"] == "gains"))
        losses = np.array(next(t["y"] for t in pair if t["stackgroup"] == "losses"))
        assert (gains >= 0).all() and (losses <= 0).all()
        # Reference: a running sum written here with a Python loop, in percent.
        running, expected = 0.0, []
        for v in flat[f"{leg}:{c}"]:
            running += 100 * v
            expected.append(running)
        np.testing.assert_allclose(gains + losses, expected, atol=1e-10)
    # The same component has the same colour on each leg's block, legs differ.
    colour = {t["name"]: t["line"]["color"] for t in entries}
    assert colour["USDJPY price"] != colour["UST10Y price"]
    assert colour["USDJPY carry"] != colour["USDJPY price"]
    assert [t["name"] for t in lines] == [
        "total return (all but funding)",
        "excess return (all components)",
    ]
    # The total line is the cumulative return; the excess line the cumulative excess.
    np.testing.assert_allclose(lines[0]["y"], 100 * returns.cumsum().to_numpy(), atol=1e-10)
    np.testing.assert_allclose(lines[1]["y"], 100 * excess.cumsum().to_numpy(), atol=1e-10)
    assert "% of capital" in fig["layout"]["title"]["text"]
    assert "% of capital" in fig["layout"]["yaxis"]["title"]["text"]


def test_chart_without_funding_has_no_excess_line():
    flat, returns, _ = daily_frame()
    no_funding = flat.drop(columns=["USDJPY:funding", "UST10Y:funding"])
    fig = attribution_figure(no_funding, "x")
    (line,) = [t for t in fig["data"] if not t.get("stackgroup")]
    assert line["name"] == "total return (all but funding)"
    np.testing.assert_allclose(line["y"], 100 * returns.cumsum().to_numpy(), atol=1e-10)


def test_html_section_reads_the_csv_table_when_there_is_no_parquet(tmp_path):
    flat, returns, excess = daily_frame()
    (tmp_path / "tables").mkdir()
    flat.reset_index().to_csv(tmp_path / "tables" / "attribution_1_fx_carry.csv", index=False)
    components = {
        leg: {c: float(flat[f"{leg}:{c}"].sum()) for lg, c in COLUMNS if lg == leg} for leg in LEGS
    }
    res = {
        "strategies": [
            {"name": "buy_and_hold", "series": "SPX", "params": {}, "metrics": {}},
            {
                "name": "fx_carry",
                "series": "USDJPY",
                "legs": list(LEGS),
                "params": {},
                "metrics": {},
                "settings": {"conventions": "total <b>and</b> excess"},
                "attribution": {
                    "components": components,
                    "total": float(returns.sum()),
                    "funding": float(excess.sum() - returns.sum()),
                    "excess": float(excess.sum()),
                    "method": "arithmetic sum of daily contributions",
                },
            },
        ]
    }
    figures: list[dict] = []
    page = "".join(strategies_section(res, tmp_path, lambda f: figures.append(f) or "<fig>"))
    assert page.count("Return attribution") == 1  # the first strategy has none
    assert "Returns: total &lt;b&gt;and&lt;/b&gt; excess." in page  # escaped once
    (fig,) = figures
    assert sum(1 for t in fig["data"] if t.get("stackgroup") and t["showlegend"]) == len(COLUMNS)
    assert f'<td class="num">{pct(returns.sum())}</td>' in page


def test_schema_requires_every_sum_of_an_attribution():
    att = {"components": {"SPX": {"price": 0.1}}, "total": 0.1, "funding": 0.0, "method": "m"}
    with pytest.raises(jsonschema.ValidationError, match="'excess' is a required property"):
        jsonschema.validate(
            {"attribution": att},
            SCHEMA["properties"]["strategies"]["items"] | {"$defs": SCHEMA["$defs"]},
            cls=jsonschema.Draft202012Validator,
        )


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_frame_without_leg_and_component_columns_is_refused(monkeypatch, tmp_path):
    real = backtest.engine.backtest

    def flat(*args, **kwargs):
        bt = real(*args, **kwargs)
        bad = pd.DataFrame({"price": bt.returns})
        return dataclasses.replace(bt, attribution=bad)

    monkeypatch.setattr(backtest.engine, "backtest", flat)
    path = small_config(tmp_path)
    cfg = load_config(path, {"data.offline": True})
    with pytest.raises(DataValidationError, match=r"attribution: columns must be a 2-level"):
        run(cfg, config_path=path)


def test_convention_and_legs_lines():
    # Hand-written expectations; settings.conventions is read when settings.returns is absent.
    from backtest.report.attribution import convention_text, instruments_text

    conv = {"total": "price + carry + costs.", "excess": "total + funding"}
    want = "Returns: total: price + carry + costs; excess: total + funding."
    assert convention_text({"settings": {"conventions": conv}}) == want
    assert convention_text({"settings": {"conventions": conv}}) == want
    assert convention_text({"settings": {}}) == "" and convention_text({}) == ""
    legs = {
        "UST10Y": {"kind": "bond", "currency": "USD", "funding": "FEDFUNDS_TARGET"},
        "USDJPY": {"kind": "fx", "base": "USD", "quote": "JPY", "funding": None},
        "NKY": {"kind": "index", "currency": "JPY", "funding": "JPY_CALL", "dividends": "missing"},
    }
    assert instruments_text({"instruments": legs}) == (
        "Legs: UST10Y (bond, USD, funded at FEDFUNDS_TARGET); USDJPY (fx, USD/JPY, "
        "self-financed); NKY (index, JPY, funded at JPY_CALL, dividends missing)."
    )


@pytest.mark.browser
@pytest.mark.allow_hosts(["127.0.0.1", "::1"])
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_browser_draws_the_attribution_chart(fake_engine, driver, tmp_path):
    # Headless Chromium (tests/report/test_browser.py): plotly draws every chart of the
    # page, the attribution chart included, and logs no error. With many events the
    # per-event CAR charts are folded in closed <details> and drawn when opened, at
    # the page's width.
    _, out = run_small(tmp_path)
    driver.get((out / "report.html").resolve().as_uri())
    folded = (
        "return Array.from(document.querySelectorAll('details.event .plotly-graph-div'))"
        ".map(d => [d.querySelectorAll('svg.main-svg').length, d.offsetWidth])"
    )
    closed = driver.execute_script(folded)
    assert len(closed) > 6 and all(n == 0 for n, _ in closed), closed  # not drawn yet
    driver.execute_script("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    script = (
        "return Array.from(document.querySelectorAll('.plotly-graph-div'))"
        ".map(d => [d.querySelectorAll('svg.main-svg').length,"
        " d.querySelector('.gtitle') ? d.querySelector('.gtitle').textContent : ''])"
    )
    deadline = time.monotonic() + DRAW_TIMEOUT
    while not (divs := driver.execute_script(script)) or any(n == 0 for n, _ in divs):
        if time.monotonic() > deadline:
            pytest.fail(f"plotly did not draw every chart within {DRAW_TIMEOUT:g} s: {divs}")
        time.sleep(0.1)
    titles = [t for _, t in divs]
    assert any("cumulative contributions (% of capital)" in t for t in titles), titles
    assert all(width > 300 for _, width in driver.execute_script(folded))
    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == [], severe
