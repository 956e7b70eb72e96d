"""event_study.volatility and model garch through the config, results.json and the report."""

from __future__ import annotations

import json
import math
from pathlib import Path

import jsonschema
import pandas as pd
import pytest
from pydantic import ValidationError

from backtest.config import EventStudyConfig, load_config
from backtest.eventstudy import EventStudy
from backtest.pipeline import run, write_run

from ..conftest import REPO

EVENTS = REPO / "data" / "events" / "tariffs_2025.csv"
SCHEMA = json.loads((REPO / "backtest" / "report" / "results.schema.json").read_text())

CONFIG = f"""
name: garch_vol
data:
  series: [UST10Y, SPX]
  start: 2023-06-01
  end: 2025-06-30
  offline: true
events:
  files: [{EVENTS}]
  ids: [liberation_day, pause_90d]
event_study:
  model: garch
  windows: [[0, 1], [0, 0]]
  groups:
    both: [UST10Y, SPX]
  volatility: true
output:
  dir: out
"""


def test_volatility_setting_values():
    assert EventStudyConfig().volatility is False
    assert EventStudyConfig().volatility_windows == ()
    cfg = EventStudyConfig(windows=[[0, 1], [0, 5]], volatility=True)
    assert cfg.volatility_windows == ((0, 1), (0, 5))
    assert EventStudyConfig(volatility=[[-1, 1]]).volatility_windows == ((-1, 1),)
    with pytest.raises(ValidationError, match=r"volatility window \[0, 30\] is outside"):
        EventStudyConfig(volatility=[[0, 30]])
    with pytest.raises(ValidationError, match="first <= last"):
        EventStudyConfig(volatility=[[2, 1]])
    with pytest.raises(ValidationError, match="at least one window"):
        EventStudyConfig(volatility=[])
    assert EventStudyConfig(model="garch").model == "garch"


def test_garch_run_with_volatility_end_to_end(tmp_path: Path):
    path = tmp_path / "run.yaml"
    path.write_text(CONFIG)
    cfg = load_config(path)
    out = tmp_path / "out"
    result = run(cfg, config_path=path)
    write_run(result, out)
    results = json.loads((out / "results.json").read_text())
    jsonschema.validate(results, SCHEMA, cls=jsonschema.Draft202012Validator)
    es = results["event_study"]
    assert es["design"]["model"] == "garch"
    assert [v["window"] for v in es["volatility"]] == [[0, 1], [0, 0]]
    # the same numbers as the Python API on the same study
    res = result.study
    assert EventStudy.from_config(cfg.event_study, series=cfg.data.series).model == "garch"
    api = res.variance_ratios(0, 1)
    got = pd.DataFrame(es["volatility"][0]["variance_ratios"])
    assert got["vr"].tolist() == pytest.approx(api["vr"].tolist(), rel=1e-12)
    assert got["pvalue"].tolist() == pytest.approx(api["pvalue"].tolist(), rel=1e-12)
    assert set(got["distribution"]) == {"chi2(2)"}
    tests = {(t["series"], t["test"]): t for t in es["volatility"][0]["tests"]}
    assert {s for s, _ in tests} == {"UST10Y", "SPX", "both"}
    ref = res.volatility_tests(0, 1, groups={"both": ["UST10Y", "SPX"]})
    ref = ref.set_index(["series", "test"])
    got = tests[("SPX", "savickas")]["statistic"]
    assert math.isclose(got, ref.loc[("SPX", "savickas"), "statistic"], rel_tol=1e-12)
    # the two series share each event's dates: the pooled test is invalid, by date recommended
    assert tests[("both", "savickas")]["valid"] is False
    assert tests[("both", "savickas_by_date")]["recommended"] is True
    md = (out / "summary.md").read_text()
    assert "## Abnormal volatility, days +0 to +1" in md and "chi2(2)" in md
    page = (out / "report.html").read_text()
    assert 'id="volatility"' in page
    assert 'href="#volatility"' in page and "mean VR / null" in page
    tables = {p.name for p in (out / "tables").iterdir()}
    assert {"volatility_0_1.csv", "variance_ratios_0_1.csv", "parameters.csv"} <= tables
