"""The HTML report with many events: the 16 BoJ meetings of 2024-2025 (snapshot, offline).

The page leads with the pooled CAAR and the headline heatmap; the per-event CAR charts
are folded in closed ``<details>`` (drawn when opened, see test_attribution_report's
browser test); every figure is lighter than before. Bounds, not timings.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backtest.config import load_config
from backtest.pipeline import run, write_run

from ..conftest import REPO
from .test_html import figures

CONFIG = """\
name: boj_scale
title: BoJ meetings 2024-2025
data:
  series: [USDJPY, UST10Y, JGB10Y]
  start: 2023-01-01
  end: 2025-12-31
events:
  files: [{events}]
event_study:
  model: raw
  event_window: [-5, 10]
  windows: [[0, 1]]
  groups:
    rates: [UST10Y, JGB10Y]
"""


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    base = tmp_path_factory.mktemp("scale")
    path = base / "boj.yaml"
    path.write_text(CONFIG.format(events=REPO / "data" / "events" / "boj_2024_2025.csv"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BACKTEST_CACHE_DIR", str(base / "cache"))
        for var in ("BACKTEST_OFFLINE", "BACKTEST_CATALOG", "BACKTEST_SNAPSHOT_DIR"):
            mp.delenv(var, raising=False)
        config = load_config(path, {"data.offline": True, "output.dir": str(base / "run")})
        out = write_run(run(config), base / "run")
    return (Path(out) / "report.html").read_text(encoding="utf-8")


def without_plotly_js(page: str) -> str:
    js = re.search(r'<script type="text/javascript">(.*?)</script>', page, re.S)
    assert js is not None and "* plotly.js v" in js.group(1)
    return page.replace(js.group(1), "")


def test_leads_with_the_pooled_caar_then_the_heatmap(page):
    order = [m.group(1) for m in re.finditer(r'<h2 id="([^"]+)"', page)]
    assert order[:4] == ["caar", "heatmap", "timeline", "car"]
    (caar,) = [f for f in figures(page).values() if "CAAR" in f[1].get("title", {}).get("text", "")]
    titles = [v["title"]["text"] for k, v in caar[1].items() if k.startswith("yaxis")]
    assert sorted(titles) == ["CAAR (% log change)", "CAAR (bp)", "CAAR (bp)"]


def test_per_event_charts_are_folded(page):
    folded = re.findall(r'<details class="event"><summary>(\w+) ', page)
    assert len(folded) == 16 and folded[0] == "boj_2024_01_23"
    assert '<details class="event" open' not in page
    # each folded block holds its chart, drawn when opened
    blocks = re.findall(r'<details class="event">.*?</details>', page, re.S)
    assert all(b.count('class="plotly-graph-div"') == 1 and "btDraw(" in b for b in blocks)


def test_page_weight(page):
    # plotly.js (about 4.8 MB) is inlined once and cannot shrink offline; the rest can.
    # Before this change the rest weighed 432 kB here: each per-event chart 15 kB, of
    # which about 9 kB was plotly's full template, and numbers had 17 digits. A
    # per-event chart is now 3 panels x 3 traces x 16 days at 8 digits (~2.5 kB), its
    # grid layout (~3 kB) and the 2-D part of the template (~1.5 kB): under 8.5 kB.
    # The timeline (3 series over ~560 sessions at ~55 bytes a point, ~95 kB), the
    # pooled CAAR, the heatmap and the tables make up the rest: under 300 kB in all.
    blocks = re.findall(r'<details class="event">.*?</details>', page, re.S)
    assert max(len(b.encode()) for b in blocks) < 8_500
    assert len(without_plotly_js(page).encode()) < 300_000


def test_group_mean_is_standardized_in_its_own_column(page):
    head = re.search(r"<th>series</th><th>test</th><th>n</th>(<th>.*?</th>)<th>statistic", page)
    assert head is not None
    assert head.group(1) == "<th>mean CAR</th><th>mean standardized CAR</th>"
    # the group's row fills only the standardized column; a series' row only the other
    row = re.search(r"<td>rates</td><td>[^<]*</td><td[^>]*>\d+</td><td([^>]*)>([^<]*)</td>", page)
    assert row is not None and row.group(2) == ""
    row = re.search(r"<td>UST10Y</td><td>[^<]*</td><td[^>]*>\d+</td><td[^>]*>([^<]*)</td>", page)
    assert row is not None and row.group(1).endswith(" bp")
