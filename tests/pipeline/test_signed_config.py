"""Config keys sign_by / surprise_from / split_by / regressions, end to end on the snapshot.

References: the signed CAR is the unsigned CAR of the same run times the direction
written in the events file (hand flip); the regression equals statsmodels OLS run here
on the results' own CARs with a hand-built design (the CARs themselves are checked
against hand-computed changes in tests/eventstudy/).
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import statsmodels.api as sm
from pydantic import ValidationError

from backtest.config import EventStudyConfig, load_config
from backtest.errors import ConfigError
from backtest.eventstudy import EventStudy
from backtest.pipeline import run, validate_config, write_run

from ..conftest import REPO

EVENTS = REPO / "data" / "events" / "tariffs_2025.csv"
SCHEMA = json.loads((REPO / "backtest" / "report" / "results.schema.json").read_text())


def config(tmp_path: Path, event_study: str, series: str = "[UST10Y, SPX]") -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(
        f"""
name: signed
data:
  series: {series}
  start: 2024-01-01
  end: 2025-12-31
  offline: true
events:
  files: [{EVENTS}]
  start: 2025-03-01
  end: 2025-06-30
event_study:
  model: raw
  windows: [[0, 1]]
  bootstrap_draws: 99
{event_study}
output:
  dir: {tmp_path / "out"}
"""
    )
    return path


def test_config_keys_are_checked():
    assert EventStudyConfig(sign_by="reaction:UST2Y").sign_by == "reaction:UST2Y"
    with pytest.raises(ValidationError, match="sign_by must be one of"):
        EventStudyConfig(sign_by="up")
    with pytest.raises(ValidationError, match="outside the event_window"):
        EventStudyConfig(regressions=[{"formula": "car ~ 1", "window": [0, 20]}])
    with pytest.raises(ValidationError, match="car ~"):
        EventStudyConfig(regressions=[{"formula": "surprise ~ car"}])
    with pytest.raises(ValidationError, match="cov"):
        EventStudyConfig(regressions=[{"formula": "car ~ 1", "cov": "HC1"}])
    study = EventStudy.from_config(EventStudyConfig(sign_by="direction", surprise_from="x"))
    assert (study.sign_by, study.surprise_from) == ("direction", "x")


def test_validate_config_names_unknown_series(tmp_path):
    cfg = load_config(config(tmp_path, "  sign_by: reaction:UST2X"))
    with pytest.raises(ConfigError, match=r"event_study.sign_by: .*UST2X"):
        validate_config(cfg)
    cfg = load_config(config(tmp_path, "  split_by: size"))
    with pytest.raises(ConfigError, match=r"event_study\.split_by: the events have no 'size'"):
        validate_config(cfg)
    cfg = load_config(config(tmp_path, "  sign_by: surprise"))
    with pytest.raises(ConfigError, match=r"event_study\.sign_by: the events have no 'surprise'"):
        validate_config(cfg)
    validate_config(load_config(config(tmp_path, "  sign_by: direction\n  split_by: sign")))
    text = "  regressions:\n    - {formula: 'car ~ 1', series: [UST2Y]}"
    cfg = load_config(config(tmp_path, text))
    with pytest.raises(ConfigError, match=r"regressions\[0\].series\[0\]: 'UST2Y'"):
        validate_config(cfg)


def test_signed_run_split_and_regression_end_to_end(tmp_path):
    text = """  sign_by: direction
  split_by: direction
  regressions:
    - {formula: "car ~ C(direction)", window: [0, 1], series: [UST10Y], cov: HC3}"""
    signed_cfg = load_config(config(tmp_path, text))
    plain_cfg = load_config(config(tmp_path, ""))
    signed, plain = run(signed_cfg), run(plain_cfg)
    results = signed.results
    jsonschema.validate(results, SCHEMA, cls=jsonschema.Draft202012Validator)
    es = results["event_study"]
    assert es["design"]["sign_by"] == "direction"
    assert "CARs signed by direction" in es["design"]["signing"]
    # signed CAR = unsigned CAR x direction from the events file (hand flip)
    direction = dict(zip(signed.events["event"], signed.events["direction"], strict=True))
    car_s = signed.study.car(0, 1)
    car_p = plain.study.car(0, 1)
    for ev, d in direction.items():
        if np.isnan(d):
            assert np.isnan(car_s.loc[ev, "UST10Y"])
        else:
            assert car_s.loc[ev, "UST10Y"] == pytest.approx(d * car_p.loc[ev, "UST10Y"], abs=1e-12)
    # the groups: one entry per value, tests over that group's events only
    split = es["windows"][0]["split"]
    assert [g["value"] for g in split] == ["+1", "-1"]
    for g in split:
        want = [e for e, d in direction.items() if d == float(g["value"])]
        assert g["events"] == want
        t = next(t for t in g["tests"] if t["series"] == "UST10Y" and t["test"] == "csect_t")
        assert t["n"] == len(want)
        assert t["caar"] == pytest.approx(np.mean([car_s.loc[e, "UST10Y"] for e in want]))
    # the regression: statsmodels on the same CARs with a hand-built design
    reg = es["regressions"][0]
    ok = [e for e, d in direction.items() if not np.isnan(d)]
    y = np.array([car_s.loc[e, "UST10Y"] for e in ok])
    X = np.column_stack([np.ones(len(ok)), [direction[e] == 1.0 for e in ok]]).astype(float)
    ref = sm.OLS(y, X).fit(cov_type="HC3")
    assert reg["nobs"] == len(ok) and reg["cov_type"] == "HC3"
    assert list(reg["params"].values()) == pytest.approx(list(ref.params), rel=1e-10)
    assert list(reg["bse"].values()) == pytest.approx(list(ref.bse), rel=1e-9)
    # the reports say it
    out = tmp_path / "written"
    write_run(signed, out)
    md = (out / "summary.md").read_text()
    assert "**CARs signed by direction" in md
    assert "## Cross-event tests by group of events" in md
    assert "## Cross-sectional regression 1" in md
    html = (out / "report.html").read_text()
    assert 'id="groups"' in html and 'id="regressions"' in html and "<dt>signed</dt>" in html
