"""Tests of backtest/config.py: validation, extends, path resolution, CLI exit codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backtest.cli import main
from backtest.config import load_config
from backtest.errors import ConfigError
from backtest.pipeline import validate_config

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
        validate_config(cfg, path)  # what the config names exists (catalog, files, plugins)
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
    with pytest.raises(ConfigError, match=r"extends: loops back on itself.*; remove one extends"):
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
    # the schema is fine: the pipeline's validation step finds what does not exist
    path = write(tmp_path, GOOD + f"strategies:\n  - {strategy}\n")
    cfg = load_config(path)
    with pytest.raises(ConfigError, match=message) as err:
        validate_config(cfg, path)
    assert str(err.value).startswith(f"{path}: strategies[0]")


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


# One home for each option: the config and the Python API read the same defaults ------


def test_schema_load_leaves_cross_checks_to_the_pipeline_validation_step(tmp_path):
    # load_config checks the schema only; validate_config finds the unknown series,
    # and pipeline.run calls it before any data is loaded
    from backtest import pipeline

    path = write(tmp_path, GOOD.replace("[UST10Y, USDJPY]", "[UST10Y, USDJPI]"))
    cfg = load_config(path)
    message = r"data\.series\[1\]: unknown series 'USDJPI'; did you mean USDJPY"
    with pytest.raises(ConfigError, match=message):
        validate_config(cfg, path)

    class NoLoading:
        def __init__(self, *args, **kwargs):
            raise AssertionError("data loaded before the config was validated")

    mp = pytest.MonkeyPatch()
    mp.setattr(pipeline.data_mod, "DataLoader", NoLoading)
    try:
        with pytest.raises(ConfigError, match=message) as err:
            pipeline.run(cfg, config_path=path)
    finally:
        mp.undo()
    assert str(err.value).startswith(f"{path}: ")


def test_event_study_defaults_are_the_same_in_the_api_and_the_config():
    # expected: the documented defaults (hand-written here, not read from the code)
    import inspect

    from backtest.config import EventStudyConfig, ExecutionConfig
    from backtest.eventstudy import EventStudy, EventStudyResult

    study, config = EventStudy(), EventStudyConfig()
    documented = {
        "model": "raw",
        "estimation_window": (-250, -11),
        "event_window": (-5, 10),
        "min_estimation": 100,
        "allow_incomplete": False,
    }
    for name, value in documented.items():
        assert getattr(study, name) == value, name
        assert getattr(config, name) == value, name
    # invariants: the config's study is the API's default study; shared run settings
    assert EventStudy.from_config(config) == study
    assert EventStudy.from_config(config, series=["UST10Y"]).series == ("UST10Y",)
    assert config.bootstrap_draws == 9999
    assert inspect.signature(EventStudyResult.tests).parameters["draws"].default == 9999
    assert inspect.signature(EventStudy.run).parameters["block_size"].default == 200
    assert ExecutionConfig().block_size == 200


def test_validation_and_sweep_defaults_are_the_same_in_the_engine_and_the_config():
    # expected: the documented defaults (70 % train; 3 years train, 1 year test in bars)
    import inspect
    import typing

    from backtest import engine
    from backtest.config import ExecutionConfig, StrategyConfig, ValidationConfig

    documented = {
        "method": "train_test",
        "train_fraction": 0.7,
        "train_bars": 756,
        "test_bars": 252,
    }
    cfg = ValidationConfig()
    for fn in (engine.validation_folds, engine.validate, engine.out_of_sample):
        params = inspect.signature(fn).parameters
        for name, value in documented.items():
            assert params[name].default == value, (fn.__name__, name)
    for name, value in documented.items():
        assert getattr(cfg, name) == value, name
    method = ValidationConfig.model_fields["method"].annotation
    assert typing.get_args(method) == ("train_test", "walk_forward")
    sweep = inspect.signature(engine.sweep).parameters
    assert StrategyConfig(name="x", series="y").method == sweep["method"].default == "grid"
    assert ExecutionConfig().chunk_size == sweep["chunk_size"].default == 2000


def test_importing_the_config_does_not_import_vectorbt_or_the_study():
    # a fresh interpreter: the config reads only the light homes of its options
    import subprocess
    import sys

    code = (
        "import sys, backtest.config; "
        "heavy = ['vectorbt', 'numba', 'backtest.eventstudy.study', "
        "'backtest.events', 'backtest.engine.simulate']; "
        "print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert out.stdout.strip() == "[]", out.stdout


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (("name: t", "extends: [a, b]\nname: t"), "extends"),
        ((f"files: [{EVENTS}]", "files: [no_such_events.csv]"), "events.files[0]"),
        (("  model: raw", "  model: raw\n  groups: {g: [UST10Y, SPX]}"), "event_study.groups.g[1]"),
        (("  model: raw", "  model: raw\n  market: {NKY: SPX}"), "event_study.market"),
        (("  model: raw", "  model: raw\n  split_by: region"), "event_study.split_by"),
    ],
)  # fmt: skip
def test_config_errors_share_one_format(tmp_path, change, field):
    # errors.py: "<file>: <field>: <problem>; <fix>" (written by hand per case here).
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(ConfigError) as err:
        validate_config(load_config(path), path)
    text = str(err.value)
    assert text.startswith(f"{path}: {field}: "), text
    problem, _, fix = text[len(f"{path}: {field}: ") :].partition("; ")
    assert problem and fix, text
