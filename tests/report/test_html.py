"""Tests of backtest/report/html.py: the self-contained HTML report of a run directory.

The run directory comes from the real pipeline on ``configs/april_2025_selloff.yaml``
(offline, from the snapshot). Expected numbers are computed by hand in the tests.
"""

from __future__ import annotations

import base64
import itertools
import json
import math
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from backtest.config import load_config
from backtest.pipeline import run, write_run
from backtest.report.html import BAND_Z, car_paths, render_html

from ..conftest import REPO

CONFIG = REPO / "configs" / "april_2025_selloff.yaml"
EVENTS = ("liberation_day", "pause_90d")


def build_run(target: Path) -> Path:
    """Run the April 2025 config offline and write its run directory to `target`."""
    with pytest.MonkeyPatch.context() as mp:  # module-scoped: no per-test environment yet
        mp.setenv("BACKTEST_CACHE_DIR", str(target.parent / "cache"))
        for var in ("BACKTEST_OFFLINE", "BACKTEST_CATALOG", "BACKTEST_SNAPSHOT_DIR"):
            mp.delenv(var, raising=False)
        config = load_config(CONFIG, {"data.offline": True, "output.dir": str(target)})
        return write_run(run(config), target)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_run(tmp_path_factory.mktemp("report") / "april_2025_selloff")


@pytest.fixture(scope="module")
def page(run_dir: Path) -> str:
    return (run_dir / "report.html").read_text(encoding="utf-8")


class _Tags(HTMLParser):
    """Start tags and their attributes (script and style bodies are not parsed as tags)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def figures(page: str) -> dict[str, tuple[list[dict[str, Any]], dict[str, Any]]]:
    """``div id -> (data, layout)`` of every ``Plotly.newPlot`` call in the page."""
    decoder = json.JSONDecoder()
    out = {}
    for m in re.finditer(r'Plotly\.newPlot\(\s*"([^"]+)",\s*', page):
        data, end = decoder.raw_decode(page, m.end())
        rest = re.match(r"\s*,\s*", page[end:])
        assert rest is not None
        layout, _ = decoder.raw_decode(page, end + rest.end())
        out[m.group(1)] = (data, layout)
    return out


def values(array: list[float] | dict[str, str]) -> np.ndarray:
    """A plotly JSON array: a list, or numpy's bytes as ``{"dtype", "bdata"}`` (plotly >= 6)."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
    return np.asarray(array)


def the_figure(page: str, trace_type: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    found = [f for f in figures(page).values() if any(t["type"] == trace_type for t in f[0])]
    assert len(found) == 1
    return found[0]


# Self-contained -----------------------------------------------------------------------------


def test_nothing_is_fetched(page):
    for tag, attrs in tags(page):
        for name in ("src", "href", "srcset", "data", "action"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//")), (tag, name, value)
        assert tag != "link", "no <link>: styles are inline"
        if tag == "script":
            assert "src" not in attrs, "scripts are inline"


def test_plotly_js_is_inlined_once(page):
    assert page.count("* plotly.js v") == 1
    assert page.count("Plotly.newPlot(") == len(figures(page))


def test_one_plotly_div_per_chart(page):
    # charts: the pooled CAAR, the heatmap, the timeline, one CAR figure per event
    divs = [a["id"] for t, a in tags(page) if "plotly-graph-div" in (a.get("class") or "")]
    assert len(divs) == 3 + len(EVENTS)
    assert len(set(divs)) == len(divs)
    assert sorted(divs) == sorted(figures(page))


def test_mentions_the_events_and_sections(page):
    for event in EVENTS:
        assert event in page
    assert "&quot;Liberation Day&quot;: reciprocal tariffs" in page
    assert "2025-04-02 16:00 America/New_York (20:00 UTC)" in page
    for anchor in ("timeline", "car", "heatmap", "reactions", "tests", "events", "data"):
        assert f'id="{anchor}"' in page


# Numbers ------------------------------------------------------------------------------------


# FRED DGS10 (percent), 2025-04-02 .. 2025-04-11: the close before Liberation Day
# (announced 16:00 New York, after the 15:30 H.15 observation) and the 7 sessions
# 2025-04-03 .. 04-11 of the headline window (0, +6).
DGS10 = [4.20, 4.06, 4.01, 4.15, 4.26, 4.34, 4.40, 4.48]


def test_the_snapshot_has_the_fred_values(run_dir):
    levels = pd.read_parquet(run_dir / "levels.parquet")["UST10Y"].dropna()
    assert levels.loc["2025-04-02":"2025-04-11"].tolist() == DGS10


def test_heatmap_cell_ust10y_liberation_day(page):
    changes_bp = [round((b - a) * 100) for a, b in itertools.pairwise(DGS10)]
    assert changes_bp == [-14, -5, 14, 11, 8, 6, 8]
    expected = f"{sum(changes_bp):+.1f} bp"  # raw model: abnormal = actual change
    assert expected == "+28.0 bp"
    data, _ = the_figure(page, "heatmap")
    (heat,) = data
    cell = heat["text"][heat["y"].index("liberation_day")][heat["x"].index("UST10Y")]
    assert re.fullmatch(re.escape(expected) + r"\**", cell), cell
    assert expected in page  # also in the reactions table


def test_heatmap_colour_is_the_clipped_t(page, run_dir):
    data, _ = the_figure(page, "heatmap")
    (heat,) = data
    assert heat["zmin"] == -4 and heat["zmax"] == 4
    reactions = pd.read_parquet(run_dir / "tables" / "reactions_0_6.parquet")
    for r in reactions.itertuples():
        z = heat["z"][heat["y"].index(r.event)][heat["x"].index(r.series)]
        assert z == pytest.approx(max(-4.0, min(4.0, r.t)))


def test_car_paths_by_hand():
    ab = pd.DataFrame(
        {
            "event": ["a"] * 3 + ["b"] * 3,
            "series": ["X"] * 6,
            "rel_day": [-1, 0, 1] * 2,
            "abnormal": [float("nan"), 2.0, -1.0, 1.0, 1.0, 1.0],
            "sd": [1.0, 3.0, 4.0, 1.0, 1.0, 2.0],
        }
    )
    got = car_paths(ab)
    assert got["rel_day"].tolist() == [-1, 0, 1, -1, 0, 1]
    assert got["car"].isna().tolist() == [True, False, False, False, False, False]
    assert got["car"].tolist()[1:] == [2.0, 1.0, 1.0, 2.0, 3.0]
    # sqrt(9), sqrt(9 + 16); sqrt(1), sqrt(2), sqrt(1 + 1 + 4)
    assert got["sd_car"].tolist()[1:] == pytest.approx([3.0, 5.0, 1.0, math.sqrt(2), math.sqrt(6)])


def test_car_figure_ust10y_liberation_day(page, run_dir):
    cars = [
        f
        for f in figures(page).values()
        if any(t.get("fill") == "tonexty" for t in f[0])
        and "CAAR" not in f[1].get("title", {}).get("text", "")  # the pooled chart
    ]
    assert len(cars) == len(EVENTS)
    data, _ = cars[0]  # in the order of the events: liberation_day first
    i = next(j for j, t in enumerate(data) if t.get("name") == "UST10Y")
    days, y = values(data[i]["x"]), values(data[i]["y"])
    upper, lower = values(data[i - 2]["y"]), values(data[i - 1]["y"])
    car = dict(zip(days.tolist(), y.tolist(), strict=True))
    # CAR from day -5; the headline window (0, +6) is the difference from day -1
    assert car[6] - car[-1] == pytest.approx(28.0)
    # raw model: constant daily sd, so the band is 1.96 * sd * sqrt(days since -5)
    ab = pd.read_parquet(run_dir / "tables" / "abnormal.parquet")
    sd = ab[(ab["event"] == "liberation_day") & (ab["series"] == "UST10Y")]["sd"].unique()
    assert len(sd) == 1
    for j, day in enumerate(days):
        half = BAND_Z * sd[0] * math.sqrt(day + 6)
        assert upper[j] - y[j] == pytest.approx(half)
        assert y[j] - lower[j] == pytest.approx(half)
    assert "sqrt(sum of daily forecast variances)" in page


# Tables and text ---------------------------------------------------------------------------


def test_tests_tables_mark_recommended_and_invalid(page, run_dir):
    results = json.loads((run_dir / "results.json").read_text())
    tests = [t for w in results["event_study"]["windows"] for t in w["tests"]]
    assert page.count('<tr class="recommended">') == sum(t["recommended"] for t in tests)
    invalid = re.findall(r'<tr class="invalid">(.*?)</tr>', page)
    assert len(invalid) == sum(not t["valid"] and not t["recommended"] for t in tests) > 0
    assert all("share a day-0 date" in row for row in invalid)


def test_day0_per_market(page):
    # The pause: 13:18 New York on 2025-04-09. Markets observed later that day (Treasury
    # yields 15:30, S&P 16:00, VIX 16:15) react on 04-09; the noon FX fixes (USD/JPY, the
    # broad dollar) and Tokyo (02:30 New York on 04-10) only on 04-10.
    expected = {
        "UST2Y": "2025-04-09",
        "UST10Y": "2025-04-09",
        "UST30Y": "2025-04-09",
        "USDJPY": "2025-04-10",
        "USD": "2025-04-10",
        "SPX": "2025-04-09",
        "NKY": "2025-04-10",
        "VIX": "2025-04-09",
        "JGB10Y": "2025-04-10",
    }
    day0 = page[page.index("Day 0 per market") :]
    header = re.search(r"<thead><tr>(.*?)</tr></thead>", day0)
    row = re.search(r"<tr><td>pause_90d</td>(.*?)</tr>", day0)
    assert header is not None and row is not None
    series = re.findall(r"<th>([^<]*)</th>", header.group(1))[1:]
    cells = re.findall(r"<td>([^<]*)</td>", row.group(1))
    assert dict(zip(series, cells, strict=True)) == expected


def test_strategies_placeholder(page):
    section = page[page.index('id="strategies"') :]
    assert "None configured" in section


def test_provenance(page):
    assert "fred:DGS10" in page and "Federal Reserve H.15 via FRED" in page
    assert "15:30 America/New_York" in page


def test_same_input_same_bytes(run_dir, page):
    assert render_html(run_dir) == page


def test_text_is_escaped(run_dir, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    results = json.loads((copy / "results.json").read_text())
    evil = "<script>alert(1)</script> & <b>"
    results["run"]["title"] = evil
    results["events"][0]["label"] = evil
    (copy / "results.json").write_text(json.dumps(results))
    page = render_html(copy)
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;" in page


def _timeline_x(page: str, name: str) -> list[pd.Timestamp]:
    """x (UTC instants, naive) of series `name`'s line in the timeline figure."""
    (trace,) = [
        t
        for data, _ in figures(page).values()
        for t in data
        if t.get("name") == name and "observed" in t.get("hovertemplate", "")
    ]
    return [pd.Timestamp(x) for x in trace["x"]]


def test_timeline_places_observations_at_the_clock_recorded_in_results(run_dir, tmp_path):
    # Hand: the Nikkei closes at 15:30 Tokyo (UTC+9, no DST) = 06:30 UTC.
    page = render_html(run_dir)
    assert pd.Timestamp("2025-04-03 06:30") in _timeline_x(page, "NKY")
    # The report reads the clock from results.json (the run's record), not the catalog:
    # a different recorded clock moves the points (09:00 Tokyo = 00:00 UTC).
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    results = json.loads((copy / "results.json").read_text())
    results["data"]["series"]["NKY"]["obs_time"] = "09:00"
    (copy / "results.json").write_text(json.dumps(results))
    moved = _timeline_x(render_html(copy), "NKY")
    assert pd.Timestamp("2025-04-03 00:00") in moved
    assert pd.Timestamp("2025-04-03 06:30") not in moved


def test_placebo_table_and_summary(page, run_dir):
    # the April config runs a placebo: its rows appear in the page and summary.md
    results = json.loads((run_dir / "results.json").read_text())
    placebo = results["event_study"]["placebo"]
    assert placebo["draws"] == 500 and placebo["design"] == "shared"
    assert 'id="placebo"' in page and '<a href="#placebo">' in page
    summary = (run_dir / "summary.md").read_text()
    assert "## Placebo, days +0 to +6" in summary
    for row in placebo["tests"]:
        emp = f"{row['empirical_pvalue']:.4f}"
        assert emp in page
        if row["recommended"]:
            assert f"| {row['series']} | {row['test']} |" in summary and emp in summary
    # the Kolari-Pynnönen label names its variant
    assert "Kolari–Pynnönen (correlation of n-day sums)" in page
