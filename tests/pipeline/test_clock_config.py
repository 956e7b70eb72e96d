"""Issue 13 items 1, 4, 5 through the config, the pipeline, results.json and the reports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

from backtest import events
from backtest.cli import main
from backtest.config import EventStudyConfig
from backtest.eventstudy import EventStudy
from backtest.execution import LocalExecutor
from tests.reference.results_json import run_config

from ..conftest import REPO

EVENTS = REPO / "data" / "events"


def test_clock_defaults_are_the_same_in_the_api_and_the_config():
    documented = {  # hand-written: the defaults the README states
        "market_alignment": "asof",
        "dimson_lags": 0,
        "estimation_exclude": "none",
        "session_guard": 30,
    }
    study, config = EventStudy(), EventStudyConfig()
    for name, value in documented.items():
        assert getattr(study, name) == value, name
        assert getattr(config, name) == value, name
    assert study.exclude_events is None and config.exclude_events == ()


def test_config_mapping_and_extra_calendars_reach_the_study():
    cfg = EventStudyConfig(
        model="market",
        market={"NKY": "TOPIX", "JGB10Y": None, "default": "SPX"},
        dimson_lags=1,
        market_alignment="date",
        estimation_exclude="events",
        exclude_events=(str(EVENTS / "boj_2024_2025.csv"), str(EVENTS / "fomc_2024_2025.csv")),
        session_guard=10,
    )
    study = EventStudy.from_config(cfg)
    assert study.market == {"NKY": "TOPIX", "JGB10Y": None, "default": "SPX"}
    assert study.regressors == ("TOPIX", "SPX")
    assert (study.dimson_lags, study.market_alignment, study.session_guard) == (1, "date", 10)
    # the two files, counted by hand from their rows (one line each, plus a header)
    rows = sum(
        len((EVENTS / f).read_text().strip().splitlines()) - 1
        for f in ("boj_2024_2025.csv", "fomc_2024_2025.csv")
    )
    assert study.exclude_events is not None and len(study.exclude_events) == rows


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"model": "raw", "dimson_lags": 2}, "dimson_lags"),
        ({"session_guard": -1}, "session_guard"),
        ({"market_alignment": "clock"}, "market_alignment"),
        ({"exclude_events": ("x.csv",)}, "exclude_events"),
    ],
)
def test_bad_clock_config_names_the_field(kwargs, field):
    with pytest.raises(ValidationError, match=field):
        EventStudyConfig(**kwargs)


def test_unknown_market_in_the_mapping_is_named(tmp_path, capsys):
    path = tmp_path / "run.yaml"
    path.write_text(
        f"""
name: t
data:
  series: [UST10Y, NKY]
  start: 2024-01-01
  end: 2025-06-30
events:
  files: [{EVENTS / "tariffs_2025.csv"}]
  ids: [liberation_day]
event_study:
  model: market
  market: {{NKY: TOPX, default: SPX}}
  windows: [[0, 1]]
output:
  dir: out
"""
    )
    assert main(["run", str(path), "--offline"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert re.search(r"event_study\.market\[NKY\]: unknown series 'TOPX'", err), err


def test_market_mapping_key_must_be_a_studied_series(tmp_path, capsys):
    path = tmp_path / "run.yaml"
    path.write_text(
        f"""
name: t
data:
  series: [UST10Y, NKY]
events:
  files: [{EVENTS / "tariffs_2025.csv"}]
event_study:
  model: market
  market: {{NKYY: SPX, default: SPX}}
output:
  dir: out
"""
    )
    assert main(["run", str(path), "--offline"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "event_study.market: key 'NKYY' is not one of data.series" in err, err


def test_blocks_give_the_same_numbers(tmp_path):
    from backtest import data

    levels = data.load(
        ["NKY", "JGB10Y", "UST10Y", "VIX", "SPX"], start="2023-06-01", end="2025-06-30",
        offline=True,
    )  # fmt: skip
    ev = pd.DataFrame(
        {
            "timestamp": [
                pd.Timestamp("2025-04-02 16:00", tz="America/New_York"),
                pd.Timestamp("2025-04-09 13:18", tz="America/New_York"),
            ],
            "label": ["liberation", "pause"],
        }
    )
    study = EventStudy(
        model="market",
        market={"JGB10Y": None, "default": "SPX"},
        dimson_lags=1,
        estimation_exclude="events",
        exclude_events=events.load(EVENTS / "fomc_2024_2025.csv"),
        series=("NKY", "JGB10Y", "UST10Y", "VIX"),
    )
    whole = study.run(levels, ev)
    blocks = study.run(levels, ev, executor=LocalExecutor(), block_size=1)
    pd.testing.assert_frame_equal(whole.parameters, blocks.parameters)
    pd.testing.assert_frame_equal(whole.abnormal, blocks.abnormal)
    pd.testing.assert_frame_equal(whole.alignment, blocks.alignment)
    pd.testing.assert_frame_equal(whole.clean_windows, blocks.clean_windows)
    pd.testing.assert_frame_equal(whole.guarded, blocks.guarded)
    assert whole.guarded.loc[:, "VIX"].tolist() == [True, False]


def test_japan_config_reports_alignment_and_clean_windows(tmp_path):
    out = tmp_path / "run"
    results = run_config(REPO / "configs" / "japan_treasury_leverage.yaml", out)
    es = results["event_study"]
    align = {r["series"]: r for r in es["alignment"]}
    assert align["NKY"]["market"] == "SPX" and align["NKY"]["alignment"] == "asof"
    assert align["NKY"]["lag_days"] == 1.0
    assert align["UST10Y"]["market"] is None
    assert all(r["removed"] > 0 for r in es["clean_windows"])
    assert es["design"]["estimation_exclude"] == "events"
    summary = (out / "summary.md").read_text()
    assert "## Market alignment" in summary and "## Clean estimation windows" in summary
    html = (out / "report.html").read_text()
    assert 'id="alignment"' in html and 'id="clean-windows"' in html


def test_april_config_marks_the_guarded_vix_day0(tmp_path):
    out = tmp_path / "run"
    results = run_config(REPO / "configs" / "april_2025_selloff.yaml", out)
    guarded = results["event_study"]["guarded"]
    assert {"event": "liberation_day", "series": "VIX", "day0": "2025-04-03",
            "guard_minutes": 30} in guarded  # fmt: skip
    summary = (out / "summary.md").read_text()
    assert "2025-04-03‡" in summary and "near-close guard" in summary
    assert "2025-04-03‡" in (out / "report.html").read_text()
    assert json.loads((out / "results.json").read_text())["event_study"]["guarded"]


def test_shipped_configs_are_paths_relative(tmp_path):
    # exclude_events are resolved against the config file, like events.files
    from backtest.config import load_config

    cfg = load_config(REPO / "configs" / "japan_treasury_leverage.yaml")
    for f in cfg.event_study.exclude_events:
        assert Path(f).is_file(), f
