"""Reliability of configs, catalogs and event files (issue 11): values refused, not dropped.

Outcome classes (see ``conftest.py``): *clean error* (exit 2 naming the file and the
field, or the error class and message from the API), *correct result*, *nothing
written*. Expected values are written by hand from the inputs of each case.
"""

from __future__ import annotations

import re
import tracemalloc
from pathlib import Path

import pandas as pd
import pytest

from backtest import _yaml, events
from backtest.config import load_config
from backtest.data.catalog import Catalog
from backtest.errors import ConfigError, DataValidationError
from backtest.pipeline import validate_config

from ..conftest import REPO
from .conftest import tree_digest

TARIFFS = REPO / "data" / "events" / "tariffs_2025.csv"

BASE = f"""\
name: t
data:
  series: [USDJPY]
  start: 2024-01-01
  end: 2025-06-30
  offline: true
event_study:
  model: raw
  windows: [[0, 1]]
events:
  files: [{TARIFFS}]
"""

MA = "strategies:\n  - name: ma_crossover\n    series: USDJPY\n"

#: A "billion laughs": nine levels of nine aliases each, 9**9 (387 million) strings
#: once expanded, from 600 bytes of text.
BOMB = 'lol: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + "".join(
    f"l{i}: &{b} [{', '.join([f'*{a}'] * 9)}]\n"
    for i, (a, b) in enumerate(zip("abcdefgh", "bcdefghi", strict=True))
)


def _norm(text: str) -> str:
    """The CLI's output on one line (the console wraps long messages)."""
    return " ".join(text.split())


# Clean errors through the CLI: exit 2, a message naming the file, line or field, and
# no run directory ----------------------------------------------------------------------

CLI_CASES = [
    pytest.param(
        BASE.replace("name: t\n", "name: t\nname: u\n"),
        r"line 2: key 'name' appears twice in one mapping \(first at line 1\)",
        id="duplicate-top-level-key",
    ),
    pytest.param(
        BASE + MA + "    sweep: {fast: [5, 10], fast: [20]}\n",
        r"line 15: key 'fast' appears twice in one mapping \(first at line 15, column 13; again "
        r"at column 28\)",
        id="duplicate-sweep-key",
    ),
    pytest.param(
        BASE + "defaults: &d {fees_bps: 1}\n",
        r"unknown key",  # an anchor alone is harmless; the key is still unknown
        id="anchor-without-alias-is-just-an-unknown-key",
    ),
    pytest.param(
        BASE + MA + "    params: &p {direction: long}\n  - name: ma_crossover\n"
        "    series: USDJPY\n    params: *p\n",
        r"line 18: YAML aliases are not accepted \(\*p\)",
        id="alias",
    ),
    pytest.param(
        BASE.replace("event_study:\n", "event_study: &es\n") + "more:\n  <<: *es\n",
        r"YAML aliases are not accepted \(\*es\)",
        id="merge-key-alias",
    ),
    pytest.param(BASE + BOMB, r"line 13: YAML aliases are not accepted \(\*a\)", id="alias-bomb"),
    pytest.param(
        BASE + MA + "    sweep: {fast: [five, 10], slow: [50]}\n",
        r"strategies\[0\]\.sweep\.fast\[0\]: .*valid integer.*\(got 'five'\); fast is int",
        id="sweep-value-wrong-type",
    ),
    pytest.param(
        BASE + MA + "    sweep: {fast: [5, 10.5]}\n",
        r"strategies\[0\]\.sweep\.fast\[1\]: .*\(got 10\.5\)",
        id="sweep-value-fractional-int",
    ),
    pytest.param(
        BASE + MA + "    sweep: {fast: [true, 10]}\n",
        r"strategies\[0\]\.sweep\.fast\[0\]: expected int .*got True",
        id="sweep-value-bool-for-int",
    ),
    pytest.param(
        BASE + MA + "    sweep: {direction: [long, short]}\n",
        r"strategies\[0\]\.sweep\.direction\[1\]: .*'long' or 'both' \(got 'short'\)",
        id="sweep-value-not-allowed",
    ),
    pytest.param(
        BASE + MA + "    sweep: {fast: [0, 10]}\n",
        r"strategies\[0\]\.sweep\.fast\[0\]: .*greater than or equal to 1 \(got 0\)",
        id="sweep-value-out-of-bounds",
    ),
    pytest.param(
        BASE + MA + "    sweep: {fast: {start: 5, stop: 10, step: 0.5}}\n",
        r"strategies\[0\]\.sweep\.fast\.step: 0\.5 is not a whole number.*integer parameter",
        id="range-fractional-step-int",
    ),
    pytest.param(
        BASE + MA + "    sweep: {fast: {start: 5, stop: 10, step: 0}}\n",
        r"strategies\[0\]\.sweep\.fast\.step: must not be 0",
        id="range-step-zero",
    ),
    pytest.param(
        BASE + MA + "    sweep: {fast: {start: 5, stop: 10, stpe: 2}}\n",
        r"strategies\[0\]\.sweep\.fast\.stpe: unknown key of a range",
        id="range-unknown-key",
    ),
    pytest.param(
        BASE + MA + "    sweep: {fast: {start: 5}}\n",
        r"strategies\[0\]\.sweep\.fast: a range needs start and stop",
        id="range-without-stop",
    ),
    pytest.param(
        BASE + MA + "    sweep: {fast: {start: 10, stop: 5}}\n",
        r"strategies\[0\]\.sweep\.fast: the range from 10 to 5 by 1 is empty",
        id="range-empty",
    ),
    pytest.param(
        BASE + MA + "    sweep: {fast: {start: 0, stop: 10}}\n",
        r"strategies\[0\]\.sweep\.fast\.start: .*greater than or equal to 1 \(got 0\)",
        id="range-start-out-of-bounds",
    ),
    pytest.param(
        BASE + MA + "    sweep: {direction: {start: 1, stop: 2}}\n",
        r"strategies\[0\]\.sweep\.direction: direction is Literal.*not a number",
        id="range-of-a-non-number",
    ),
    pytest.param(
        BASE + MA + "    sweep: {fast: []}\n",
        r"strategies\[0\]\.sweep\.fast: empty list of values",
        id="sweep-empty-list",
    ),
    pytest.param(
        BASE + MA + "    sweep: {fast: [5, 10, 5]}\n",
        r"strategies\[0\]\.sweep\.fast\[2\]: 5 repeats .*sweep\.fast\[0\]",
        id="sweep-repeated-value",
    ),
    pytest.param(
        BASE + MA + "    sweep: {}\n",
        r"strategies\.0: Value error, sweep is empty",
        id="sweep-empty",
    ),
    pytest.param(
        BASE + MA + "    sweep: {fast: [5]}\n    samples: 10\n",
        r"samples: 10 is used only with method: random",
        id="samples-with-grid",
    ),
    pytest.param(
        BASE + MA + "    sweep: {fast: [5]}\n    method: random\n",
        r"method 'random' needs samples",
        id="random-without-samples",
    ),
    pytest.param(
        BASE + MA + "    validation: {method: train_test}\n",
        r"validation is a setting of a sweep, and this strategy has no sweep",
        id="validation-without-sweep",
    ),
    pytest.param(
        BASE + MA + "    sweep: {fast: {start: 1, stop: 10000}, slow: {start: 2, stop: 10001}}\n",
        r"strategies\[0\]\.sweep of 'ma_crossover': 100,000,000 parameter combinations, more "
        r"than the limit of 5,000,000.*strategies\[0\]\.max_combinations",
        id="grid-of-1e8",
    ),
    pytest.param(
        BASE + MA + "    sweep: {fast: [5, 10, 20]}\n    max_combinations: 2\n",
        r"3 parameter combinations, more than the limit of 2",
        id="grid-over-a-lowered-limit",
    ),
    pytest.param(
        BASE + "  inline:\n    - {date: 2025-04-02, time: '16:00', label: x}\n",
        r"events: Value error, inline\[0\]: time 16:00 has no time zone.*events\.timezone",
        id="inline-event-time-without-zone",
    ),
]


@pytest.mark.parametrize(("text", "message"), CLI_CASES)
def test_cli_refuses_with_exit_2_and_writes_nothing(cli, tmp_path, text, message):
    config = tmp_path / "run.yaml"
    config.write_text(text)
    before = tree_digest(tmp_path)
    code, out, err = cli("run", config, "--offline", "--out", tmp_path / "run")
    assert code == 2
    shown = _norm(out + err)
    assert "run.yaml" in shown
    assert re.search(message, shown), shown
    assert tree_digest(tmp_path) == before  # nothing written
    assert not (tmp_path / "run").exists()


EVENT_FILE_CASES = [
    pytest.param(
        "events.csv",
        "id,date,time,label\nboj,2025-01-24,12:00,BoJ hike\n",
        r"events\.files\[0\]: .*events\.csv: line 2: time 12:00 has no time zone.*'timezone' "
        r"column.*events\.timezone",
        id="csv-time-without-zone",
    ),
    pytest.param(
        "events.yaml",
        "events:\n  - {date: 2025-01-24, time: '12:00', label: BoJ hike}\n",
        r"events\.yaml: events\[0\]: time 12:00 has no time zone.*'timezone:'",
        id="yaml-time-without-zone",
    ),
    pytest.param(
        "events.yaml",
        "timezone: Asia/Tokyo\ntimezone: UTC\nevents:\n  - {date: 2025-01-24, label: x}\n",
        r"events\.yaml: line 2: key 'timezone' appears twice",
        id="yaml-duplicate-key",
    ),
    pytest.param(
        "events.yaml",
        "events:\n  - &e {date: 2025-01-24, timezone: Asia/Tokyo, label: x}\n  - *e\n",
        r"events\.yaml: line 3: YAML aliases are not accepted",
        id="yaml-alias",
    ),
    pytest.param(
        "events.yaml",
        BOMB.replace("lol:", "events:"),
        r"events\.yaml: line 2: YAML aliases are not accepted \(\*a\)",
        id="yaml-alias-bomb",
    ),
]


@pytest.mark.parametrize(("name", "content", "message"), EVENT_FILE_CASES)
def test_cli_refuses_bad_event_files(cli, tmp_path, name, content, message):
    (tmp_path / name).write_text(content)
    config = tmp_path / "run.yaml"
    config.write_text(BASE.replace(str(TARIFFS), name))
    before = tree_digest(tmp_path)
    code, out, err = cli("run", config, "--offline", "--out", tmp_path / "run")
    assert code == 2
    assert re.search(message, _norm(out + err)), _norm(out + err)
    assert tree_digest(tmp_path) == before


CATALOG_CASES = [
    pytest.param(
        "series:\n  MINE:\n    kind: fx\n    kind: index\n",
        r"catalog\.yaml: line 4: key 'kind' appears twice",
        id="catalog-duplicate-key",
    ),
    pytest.param(
        "series:\n  A: &s {kind: fx}\n  B: *s\n",
        r"catalog\.yaml: line 3: YAML aliases are not accepted",
        id="catalog-alias",
    ),
    pytest.param(
        BOMB.replace("lol:", "series:"),
        r"catalog\.yaml: line 2: YAML aliases are not accepted",
        id="catalog-alias-bomb",
    ),
]


@pytest.mark.parametrize(("content", "message"), CATALOG_CASES)
def test_catalogs_refuse_aliases_and_duplicate_keys(cli, tmp_path, content, message):
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(content)
    with pytest.raises(DataValidationError, match=message):
        Catalog.from_yaml(catalog)
    config = tmp_path / "run.yaml"
    config.write_text(
        BASE.replace("  offline: true\n", "  offline: true\n  catalogs: [catalog.yaml]\n")
    )
    before = tree_digest(tmp_path)
    code, out, err = cli("run", config, "--offline", "--out", tmp_path / "run")
    assert code == 2 and re.search(message, _norm(out + err))
    assert tree_digest(tmp_path) == before


# The alias bomb: refused at the first alias, before anything is built ----------------


@pytest.mark.parametrize(
    ("reader", "error"),
    [
        pytest.param(lambda p: load_config(p), ConfigError, id="config"),
        pytest.param(lambda p: Catalog.from_yaml(p), DataValidationError, id="catalog"),
        pytest.param(lambda p: events.load(p), DataValidationError, id="events"),
    ],
)
def test_alias_bomb_is_refused_at_once_without_expansion(tmp_path, reader, error):
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    tracemalloc.start()
    try:
        with pytest.raises(error, match=r"line 2: YAML aliases are not accepted \(\*a\)"):
            reader(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Expanded, the document would hold 9**9 strings (gigabytes); refused at line 2,
    # the first alias, nothing of it is built.
    assert peak < 2_000_000


def test_loader_never_expands_an_alias():
    # Only the composer meets an alias: the node of an alias is never constructed.
    with pytest.raises(ValueError, match=r"x\.yaml: line 1: YAML aliases"):
        _yaml.load("[&a 1, *a]", "x.yaml", ValueError)
    assert _yaml.load("a: 1\nb: {c: [1, 2]}\n", "x.yaml", ValueError) == {
        "a": 1,
        "b": {"c": [1, 2]},
    }


def test_deep_nesting_is_an_error_not_a_recursion_error():
    with pytest.raises(ValueError, match=r"line 1: nested more than 100 levels deep"):
        _yaml.load("[" * 5000 + "]" * 5000, "x.yaml", ValueError)


def test_merge_key_without_alias_still_works():
    # An inline merge (no alias) cannot grow: it is read as before, and the explicit key
    # wins over the merged one as YAML specifies.
    assert _yaml.load("a: {<<: {x: 1, y: 2}, y: 3}\n", "x.yaml", ValueError) == {
        "a": {"x": 1, "y": 3}
    }


# Event times and zones: refused without a zone, correct with one ----------------------


BOJ_CSV = "id,date,time,label\nboj_2025_01_24,2025-01-24,12:00,BoJ hike\n"


def test_event_time_without_zone_names_file_and_fix(tmp_path):
    path = tmp_path / "boj.csv"
    path.write_text(BOJ_CSV)
    with pytest.raises(DataValidationError) as info:
        events.load(path)
    text = str(info.value)
    assert text.startswith(f"{path}: line 2: time 12:00 has no time zone")
    assert "'timezone' column" in text and "events.timezone:" in text


@pytest.mark.parametrize(
    ("zone", "instant"),
    [
        # 12:00 in Tokyo (UTC+9) is 03:00 UTC; in New York (UTC-5 in January) 17:00 UTC.
        pytest.param("Asia/Tokyo", "2025-01-24T03:00Z", id="tokyo"),
        pytest.param("America/New_York", "2025-01-24T17:00Z", id="new-york"),
    ],
)
def test_event_time_with_an_explicit_file_default(tmp_path, zone, instant):
    path = tmp_path / "boj.csv"
    path.write_text(BOJ_CSV)
    loaded = events.load(path, timezone=zone)
    assert loaded.loc[0, "timestamp"] == pd.Timestamp(instant)
    assert loaded.loc[0, "timezone"] == zone


def test_config_events_timezone_is_the_file_default(tmp_path):
    (tmp_path / "boj.csv").write_text(BOJ_CSV)
    config = tmp_path / "run.yaml"
    config.write_text(
        BASE.replace(str(TARIFFS), "boj.csv").replace(
            "events:\n", "events:\n  timezone: Asia/Tokyo\n"
        )
    )
    cfg = load_config(config)
    validate_config(cfg, config)  # reads boj.csv with the config's zone
    assert cfg.events.timezone == "Asia/Tokyo"
    inline = (
        BASE
        + "  timezone: Asia/Tokyo\n  inline:\n    - {date: 2025-04-02, time: '16:00', label: x}\n"
    )
    config.write_text(inline)
    assert load_config(config).events.inline[0].time == "16:00"


def test_date_only_events_need_no_zone(tmp_path):
    # A date-only event's day 0 is the first observation dated on or after its date,
    # whatever its zone: it loads, recorded in New York, at the start of its local day.
    path = tmp_path / "events.csv"
    path.write_text("id,date,label\nkato,2025-05-02,Kato on Treasuries\n")
    loaded = events.load(path)
    assert loaded.loc[0, "timezone"] == "America/New_York"
    assert not loaded.loc[0, "time_given"]
    assert loaded.loc[0, "timestamp"] == pd.Timestamp("2025-05-02T04:00Z")  # EDT midnight


@pytest.mark.parametrize(
    "path", sorted((REPO / "data" / "events").glob("*.csv")), ids=lambda p: p.name
)
def test_shipped_event_files_still_load(path: Path):
    assert len(events.load(path)) > 0


@pytest.mark.parametrize("path", sorted((REPO / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_still_load(path: Path):
    cfg = load_config(path)
    validate_config(cfg, path)
    assert cfg.name


def test_a_raised_limit_is_honoured(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text(
        BASE + MA + "    sweep: {fast: {start: 1, stop: 10000}, slow: {start: 2, stop: 10001}}\n"
        "    max_combinations: 100000000\n"
    )
    tracemalloc.start()
    try:
        cfg = load_config(config)
        validate_config(cfg, config)  # counted, not built
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50_000_000  # the 10^8 combinations as dicts would be ~11 GB
    assert cfg.strategies[0].max_combinations == 100_000_000
