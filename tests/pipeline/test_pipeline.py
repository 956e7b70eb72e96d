"""End-to-end runs of every config in configs/, and the run directory they write.

Reference check: ``test_april_headline_numbers`` (CARs hand-computed from FRED's published
DGS10 and DEXJPUS levels). Golden snapshot, not a reference:
``test_every_config_runs_end_to_end`` compares each results.json with
tests/reference/results/ (see tests/reference/README.md). Invariant:
``test_two_runs_identical_apart_from_timestamps``. The rest checks behaviour (files
written, CLI, a failed run leaves the earlier one intact, progress reports).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import jsonschema
import pandas as pd
import pytest

from backtest import data, engine
from backtest.cli import main
from backtest.config import load_config
from backtest.pipeline import run, write_run

from ..conftest import REPO
from ..reference import results_json as reference

CONFIGS = sorted((REPO / "configs").glob("*.yaml"))
SCHEMA = json.loads((REPO / "backtest" / "report" / "results.schema.json").read_text())


def run_config(path: Path, out: Path) -> dict:
    cfg = load_config(path, {"data.offline": True, "output.dir": str(out)})
    write_run(run(cfg, config_path=path), out)
    return json.loads((out / "results.json").read_text())


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_every_config_runs_end_to_end(path, tmp_path):
    results = run_config(path, tmp_path / "run")
    jsonschema.validate(results, SCHEMA, cls=jsonschema.Draft202012Validator)
    # Invariant, not an independent check: the numbers equal the stored reference run
    # (tests/reference/results_json.py), so a change meant to change none changes none.
    got = reference.normalise(results, tmp_path / "run")
    diff = reference.differences(got, reference.load(path.stem))
    assert not diff, (
        f"{path.name}: results.json differs from tests/reference/results/{path.stem}.json.gz "
        "(regenerate with `python -m tests.reference.results_json` only if the change is "
        "meant to change numbers):\n" + "\n".join(diff)
    )
    files = {p.name for p in (tmp_path / "run").iterdir()}
    assert {"report.html", "summary.md", "results.json", "config.yaml", "levels.parquet"} <= files
    # The saved config is complete: loading it again gives the same config.
    again = load_config(tmp_path / "run" / "config.yaml")
    assert (
        again.model_dump()
        == load_config(
            path, {"data.offline": True, "output.dir": str(tmp_path / "run")}
        ).model_dump()
    )


def test_april_headline_numbers(tmp_path):
    results = run_config(REPO / "configs" / "april_2025_selloff.yaml", tmp_path / "run")
    rows = {(r["event"], r["series"]): r for r in results["event_study"]["windows"][0]["reactions"]}
    assert results["event_study"]["windows"][0]["window"] == [0, 6]
    ust = rows[("liberation_day", "UST10Y")]
    # FRED DGS10 4.20 (04-02) -> 4.48 (04-11): +28 bp over days 0..+6 (raw model).
    assert ust["day0"] == "2025-04-03" and ust["car"] == pytest.approx(28.0, abs=1e-9)
    yen = rows[("liberation_day", "USDJPY")]
    # FRED DEXJPUS 149.98 (04-02) -> 04-11 143.57: the yen strengthened.
    assert yen["car"] == pytest.approx(100 * math.log(143.57 / 149.98), abs=1e-9)
    assert rows[("pause_90d", "NKY")]["day0"] == "2025-04-10"
    md = (tmp_path / "run" / "summary.md").read_text()
    assert "+28.0 bp" in md and "liberation_day" in md


def test_two_runs_identical_apart_from_timestamps(tmp_path):
    path = REPO / "configs" / "april_2025_selloff.yaml"
    first = run_config(path, tmp_path / "a")
    second = run_config(path, tmp_path / "b")
    for results in (first, second):
        results["run"].pop("created_at")
        results["run"].pop("run_seconds")
        results["config"]["output"].pop("dir")
    assert first == second
    for name in ("summary.md",):
        assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text()
    a = pd.read_parquet(tmp_path / "a" / "tables" / "reactions_0_6.parquet")
    b = pd.read_parquet(tmp_path / "b" / "tables" / "reactions_0_6.parquet")
    pd.testing.assert_frame_equal(a, b)


def test_cli_run_and_report(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(
        [
            "--quiet",
            "run",
            str(REPO / "configs" / "japan_treasury_leverage.yaml"),
            "--offline",
            "--out",
            str(out),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "kato_treasuries" in captured.out and str(out) in captured.out
    saved = load_config(out / "config.yaml")
    assert saved.data.offline is True and saved.output.dir == out  # CLI overrides recorded
    assert main(["report", str(out)]) == 0
    assert "Japan" in capsys.readouterr().out
    assert main(["report", str(tmp_path)]) == 2


def test_failed_run_leaves_earlier_run_intact(tmp_path, monkeypatch):
    path = REPO / "configs" / "japan_treasury_leverage.yaml"
    out = tmp_path / "run"
    run_config(path, out)
    before = (out / "results.json").read_bytes()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("backtest.report.markdown.render_markdown", boom)
    monkeypatch.setattr("backtest.report.render_markdown", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        run_config(path, out)
    assert (out / "results.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_strategy_config_adds_strategies_to_results_and_report(tmp_path):
    results = run_config(REPO / "configs" / "usdjpy_strategies.yaml", tmp_path / "run")
    by_name = {s["name"]: s for s in results["strategies"]}
    assert set(by_name) == {
        "buy_and_hold",
        "ma_crossover",
        "event_drift",
        "risk_off_yen",
        "rate_spread",
    }
    for name in ("event_drift", "risk_off_yen", "rate_spread", "ma_crossover"):
        sweep = by_name[name]["sweep"]
        assert sweep["combinations"] >= 4 and sweep["selection"]["trials"] >= 4
        assert sweep["tasks"] == math.ceil(sweep["combinations"] / sweep["chunk_size"])
        # params/metrics are the configured parameters'; the sweep's best sits beside them
        assert set(sweep["best_metrics"]) == set(by_name[name]["metrics"])
        assert sweep["best_metrics"]["sharpe"] == max(r["sharpe"] for r in sweep["top"])
        assert by_name[name]["tearsheet"]["benchmark"] == "buy_and_hold USDJPY"
    assert by_name["ma_crossover"]["validation"]["method"] == "walk_forward"
    samples = {f["sample"] for f in by_name["risk_off_yen"]["validation"]["folds"]}
    assert samples == {"in", "out"}
    page = (tmp_path / "run" / "report.html").read_text()
    assert "Sweep: ma_crossover on USDJPY" in page and "In sample vs out of sample" in page
    equity = pd.read_parquet(tmp_path / "run" / "tables" / "equity.parquet")
    assert equity.shape[1] == 6  # date + five strategies
    md = (tmp_path / "run" / "summary.md").read_text()
    assert "## Strategies" in md


def test_run_reports_each_sweep_chunk_to_the_task_display(tmp_path):
    # Chunks of 3 combinations: every sweep reports 1..n of n tasks for its own stage.
    path = REPO / "configs" / "usdjpy_strategies.yaml"
    cfg = load_config(path, {"data.offline": True, "execution.chunk_size": 3})
    seen: dict[str, list[tuple[int, int]]] = {}
    result = run(cfg, config_path=path, tasks=lambda s, d, t: seen.setdefault(s, []).append((d, t)))
    for entry in result.results["strategies"]:
        if entry["sweep"] is None:
            continue
        calls = seen[f"strategy {entry['name']}"]
        chunks = math.ceil(entry["sweep"]["combinations"] / 3)
        assert calls == [(i, chunks) for i in range(1, chunks + 1)]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_configured_and_swept_parameters_are_reported_side_by_side(tmp_path):
    # Issue 15 item 5: a strategy with params and a sweep reports both, named as such;
    # the sweep's best no longer replaces what the config set.
    cfg_path = tmp_path / "both.yaml"
    cfg_path.write_text(
        "name: both\n"
        "data: {series: [USDJPY], start: 2023-01-01, end: 2025-06-30}\n"
        "events: {files: [" + str(REPO / "data" / "events" / "tariffs_2025.csv") + "]}\n"
        "event_study: {model: raw, estimation_window: [-250, -11], event_window: [-5, 10]}\n"
        "strategies:\n"
        "  - name: ma_crossover\n"
        "    series: USDJPY\n"
        "    params: {fast: 10, slow: 50}\n"
        "    sweep: {fast: [5, 20]}\n",
        encoding="utf-8",
    )
    results = run_config(cfg_path, tmp_path / "run")
    jsonschema.validate(results, SCHEMA, cls=jsonschema.Draft202012Validator)
    (entry,) = results["strategies"]
    levels = data.load(["USDJPY"], start="2023-01-01", end="2025-06-30", offline=True)
    configured = engine.backtest("ma_crossover", {"fast": 10, "slow": 50}, levels, series="USDJPY")
    assert entry["params"] == configured.params  # the config's, defaults for the rest
    assert entry["params"]["fast"] == 10
    for k, v in configured.metrics.items():
        assert entry["metrics"][k] == pytest.approx(v, rel=1e-12, nan_ok=True)
    best = entry["sweep"]["best"]
    assert best["fast"] in (5, 20) and best["slow"] == 50
    swept = engine.backtest("ma_crossover", best, levels, series="USDJPY")
    for k, v in swept.metrics.items():
        assert entry["sweep"]["best_metrics"][k] == pytest.approx(v, rel=1e-10, nan_ok=True)
    md = (tmp_path / "run" / "summary.md").read_text(encoding="utf-8")
    assert "sweep best" in md and "fast=10, slow=50" in md and f"fast={best['fast']}" in md
    page = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert "<td>configured</td>" in page and "<td>best of the sweep</td>" in page
    assert "Tearsheet: ma_crossover on USDJPY vs buy_and_hold USDJPY" in page
