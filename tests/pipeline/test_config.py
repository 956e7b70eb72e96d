"""Tests of backtest/config.py: validation, extends, path resolution, CLI exit codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backtest.cli import main
from backtest.config import load_config
from backtest.errors import ConfigError

from ..conftest import REPO

CONFIGS = REPO / "configs"
EVENTS = REPO / "data" / "events" / "tariffs_2025.csv"


def write(tmp_path: Path, text: str, name: str = "run.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


GOOD = f"""
name: t
data:
  series: [UST10Y, USDJPY]
  start: 2024-01-01
  end: 2025-06-30
events:
  files: [{EVENTS}]
  ids: [liberation_day]
event_study:
  model: raw
  windows: [[0, 1]]
output:
  dir: out
"""


def test_good_config_and_relative_paths(tmp_path):
    cfg = load_config(write(tmp_path, GOOD))
    assert cfg.data.series == ("UST10Y", "USDJPY")
    assert cfg.output.dir == tmp_path / "out"  # relative to the config file
    assert cfg.event_study.windows == ((0, 1),)


def test_shipped_configs_validate():
    for path in sorted(CONFIGS.glob("*.yaml")):
        cfg = load_config(path)
        assert cfg.name


def test_extends_merges_and_resolves_paths_against_each_file(tmp_path):
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "events.csv").write_text(
        "id,date,time,timezone,label,category\n"
        "x,2025-04-02,16:00,America/New_York,Liberation Day,tariff\n"
    )
    write(
        tmp_path / "base",
        "name: base\ndata: {series: [UST10Y], start: 2024-01-01}\n"
        "events: {files: [events.csv]}\nevent_study: {model: raw, windows: [[0, 1]]}\n",
        "base.yaml",
    )
    child = write(
        tmp_path,
        "extends: base/base.yaml\nname: child\ndata: {series: [UST10Y, SPX]}\n"
        "event_study: {windows: [[0, 0]]}\n",
    )
    cfg = load_config(child)
    assert cfg.name == "child"
    assert cfg.data.series == ("UST10Y", "SPX")  # child wins
    assert str(cfg.data.start) == "2024-01-01"  # merged from the base
    assert cfg.events.files == (tmp_path / "base" / "events.csv",)  # the base's folder
    assert cfg.event_study.model == "raw" and cfg.event_study.windows == ((0, 0),)


def test_extends_loop(tmp_path):
    write(tmp_path, "extends: b.yaml\nname: a\n", "a.yaml")
    write(tmp_path, "extends: a.yaml\nname: b\n", "b.yaml")
    with pytest.raises(ConfigError, match="extends loops back"):
        load_config(tmp_path / "a.yaml")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("event_study:", "event_study:\n  evnt_window: [0, 5]"),
         r"event_study\.evnt_window: unknown key; did you mean 'event_window'\?"),
        (("  windows: [[0, 1]]", "  windows: [[0, 1]]\n  event_window: [5]"),
         r"event_study\.event_window"),
        (("  windows: [[0, 1]]", "  windows: [[3, 1]]"), r"event_study\.windows"),
        (("series: [UST10Y, USDJPY]", "series: [UST10Y, USDJPI]"),
         r"data\.series\[1\]: unknown series 'USDJPI'; did you mean USDJPY"),
        ((f"files: [{EVENTS}]", "files: [no_such_events.csv]"),
         r"events\.files\[0\]: file not found: .*no_such_events\.csv"),
        (("name: t", "name: t\ncolour: red"), r"colour: unknown key"),
        (("  model: raw", "  model: capm"), r"event_study\.model: Input should be 'raw'"),
    ],
)  # fmt: skip
def test_bad_configs_exit_2_name_the_field_and_write_nothing(tmp_path, capsys, change, message):
    path = write(tmp_path, GOOD.replace(*change))
    code = main(["run", str(path), "--offline"])
    err = capsys.readouterr().err
    assert code == 2
    assert str(path) in err.replace("\n", "")
    assert re.search(message, " ".join(err.split())), err
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["run.yaml"]


def test_missing_config_file(capsys):
    assert main(["run", "no/such/config.yaml"]) == 2
    assert "config file not found" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("strategy", "message"),
    [
        (
            "{name: ma_crosover, series: USDJPY}",
            r"unknown strategy 'ma_crosover'; did you mean ma_crossover",
        ),
        (
            "{name: ma_crossover, series: USDJPY, params: {fats: 5}}",
            r"params\.fats: unknown parameter",
        ),
        (
            "{name: ma_crossover, series: USDJPY, sweep: {slwo: [50]}}",
            r"sweep\.slwo: unknown parameter",
        ),
        (
            "{name: ma_crossover, series: USDJYP}",
            r"strategies\[0\]\.series: unknown series 'USDJYP'",
        ),
    ],
)
def test_bad_strategy_configs(tmp_path, strategy, message):
    path = write(tmp_path, GOOD + f"strategies:\n  - {strategy}\n")
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_execution_chunk_memory_parses_sizes_and_names_bad_ones(tmp_path):
    from backtest.config import parse_bytes

    assert parse_bytes("512MiB") == 512 * 2**20 and parse_bytes("2GB") == 2 * 10**9
    assert parse_bytes("1.5 kB") == 1500 and parse_bytes("4096") == 4096
    base = REPO / "configs" / "usdjpy_strategies.yaml"
    cfg = load_config(base, {"execution.chunk_memory": "256MiB"})
    assert cfg.execution.chunk_memory_bytes == 256 * 2**20
    with pytest.raises(ConfigError, match="chunk_memory") as err:
        load_config(base, {"execution.chunk_memory": "lots"})
    assert "512MiB" in str(err.value)
