"""Issue 11, the CLI: every bad input is a clean error, never a traceback.

Exit 2 for bad input (the message names the path, option or field), 130 for an
interrupt, 1 for a runtime failure or an internal error (one line, the traceback only
with BACKTEST_DEBUG=1), 0 only for a complete run. User text reaches the terminal as
typed (never as Rich markup) and summary.md as inert text (no raw HTML, no column shift).
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pytest

from backtest.config import load_config
from backtest.errors import BacktestWarning, ConfigError
from backtest.execution import check_scheduler
from backtest.pipeline import run, write_run

from ..conftest import REPO
from .conftest import tree_digest

APRIL = REPO / "configs" / "april_2025_selloff.yaml"
FAST = "output:\n  formats: [md, csv]\n"


def yaml_file(tmp_path: Path, text: str, name: str = "c.yaml") -> Path:
    path = tmp_path / name
    path.write_text(f"extends: {APRIL}\n{FAST}{text}", encoding="utf-8")
    return path


@pytest.fixture
def no_compute(monkeypatch: pytest.MonkeyPatch) -> None:
    def computed(*args: object, **kwargs: object) -> None:
        raise AssertionError("the computation started before the input was checked")

    monkeypatch.setattr("backtest.pipeline.run", computed)


# Bad input before any work -----------------------------------------------------------------


def test_run_a_directory_exit_2(tmp_path, cli, no_compute):
    code, _, err = cli("run", REPO / "configs", "--offline", "--out", tmp_path / "r")
    assert code == 2 and f"{REPO / 'configs'}: is a directory" in err


def test_extends_a_directory_exit_2(tmp_path, cli, no_compute):
    (tmp_path / "base").mkdir()
    cfg = tmp_path / "c.yaml"
    cfg.write_text("extends: base\nname: x\n", encoding="utf-8")
    code, _, err = cli("run", cfg, "--offline", "--out", tmp_path / "r")
    assert code == 2
    assert f"{tmp_path / 'base'}: is a directory" in err and f"extends: in {cfg}" in err


BAD_SCHEDULERS = {
    "not a url": "notaurl",
    "no port": "tcp://127.0.0.1",
    "port not a number": "tcp://127.0.0.1:port",
    "port out of range": "tcp://127.0.0.1:70000",
    "http": "http://127.0.0.1:8786",
    "empty": "",
}


@pytest.mark.parametrize("address", BAD_SCHEDULERS.values(), ids=BAD_SCHEDULERS.keys())
def test_bad_scheduler_option_exit_2(address, tmp_path, cli, no_compute):
    code, _, err = cli("run", APRIL, "--offline", "--scheduler", address, "--out", tmp_path / "r")
    assert code == 2
    assert "--scheduler must be" in err and "tcp://host:port" in err and repr(address) in err
    assert list(tmp_path.iterdir()) == []


def test_bad_scheduler_in_config_names_the_key(tmp_path, cli, no_compute):
    cfg = yaml_file(tmp_path, "execution:\n  engine: dask\n  scheduler: notaurl\n")
    code, _, err = cli("run", cfg, "--offline", "--out", tmp_path / "r")
    assert code == 2 and "execution.scheduler must be" in err and "tcp://host:port" in err


@pytest.mark.parametrize(
    "address", ["tcp://127.0.0.1:8786", "tcp://[::1]:8786", "tls://sched.example-1.org:1"]
)
def test_scheduler_addresses_accepted(address):
    assert check_scheduler(address) == address


def test_scheduler_check_raises_config_error():
    with pytest.raises(ConfigError, match="tcp://host:port"):
        check_scheduler("tcp://127.0.0.1")


def test_error_text_with_brackets_is_printed_as_written(tmp_path, cli, no_compute):
    """'must be [first, last]' once printed as 'must be  with' (Rich markup)."""
    cfg = yaml_file(tmp_path, "event_study:\n  windows: [[6, 0]]\n")
    code, _, err = cli("run", cfg, "--offline", "--out", tmp_path / "r")
    assert code == 2 and "must be [first, last] with first <= last" in err


def test_quiet_accepted_after_run(tmp_path, cli):
    cfg = yaml_file(tmp_path, "")
    code, out, err = cli("run", cfg, "--offline", "--quiet", "--out", tmp_path / "r")
    assert code == 0, err
    assert err == "" and "run directory:" in out
    code, _, err = cli("run", cfg, "--offline", "-q", "--out", tmp_path / "r")
    assert code == 0 and err == ""


# User text never becomes markup ------------------------------------------------------------

WEIRD_TITLE = "Tariffs [/x] <script>alert(1)</script> | [bold]bold?[/bold] :smile:"
WEIRD_ID = "lib[/x]|<i>"
WEIRD_LABEL = "Liberation [/x] | <script>x</script>"


def test_markup_and_html_in_user_text(tmp_path, cli):
    cfg = yaml_file(
        tmp_path,
        f"title: {json.dumps(WEIRD_TITLE)}\n"
        'description: "A <b>test</b> of [/x] markup"\n'
        "events:\n  files: []\n  ids: null\n  inline:\n"
        f"    - {{id: {json.dumps(WEIRD_ID)}, date: 2025-04-02, time: '16:00',"
        f" timezone: America/New_York, label: {json.dumps(WEIRD_LABEL)}}}\n"
        "    - {id: pause_90d, date: 2025-04-09, time: '13:18', timezone: America/New_York,"
        " label: pause}\n",
    )
    out_dir = tmp_path / "r"
    code, out, err = cli("run", cfg, "--offline", "-q", "--out", out_dir)
    assert code == 0, err
    assert WEIRD_TITLE in out  # the table title, as typed (no markup, no emoji)
    assert WEIRD_ID in out  # a headline cell
    md = (out_dir / "summary.md").read_text(encoding="utf-8")
    assert "<script>" not in md and "<b>" not in md and "<i>" not in md
    assert "# Tariffs [/x] &lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert "| lib[/x]\\|&lt;i&gt; |" in md and "Liberation [/x] \\| &lt;script&gt;" in md
    # every row of a table has as many cells as its header: no column shifted by `|`
    for block in md.split("\n\n"):
        rows = [r for r in block.splitlines() if r.startswith("|")]
        if rows:
            widths = {len(r.replace("\\|", "").split("|")) for r in rows}
            assert len(widths) == 1, block
    # `backtest report` prints the same Markdown, byte for byte (never re-wrapped)
    code, report, err = cli("report", out_dir)
    assert code == 0, err
    assert report == md


def test_warning_text_is_printed_as_written(tmp_path, cli, monkeypatch):
    real = run

    def warn_then_run(cfg, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.warn("series [/x] ends [bold]early[/bold]", BacktestWarning, stacklevel=1)
        return real(cfg, **kwargs)

    monkeypatch.setattr("backtest.pipeline.run", warn_then_run)
    code, _, err = cli("run", yaml_file(tmp_path, ""), "--offline", "-q", "--out", tmp_path / "r")
    assert code == 0 and "warning: series [/x] ends [bold]early[/bold]" in err


# The last resort ---------------------------------------------------------------------------


def test_unexpected_exception_is_one_line_exit_1(tmp_path, cli, monkeypatch):
    def bug(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom [/x]")

    monkeypatch.setattr("backtest.pipeline.run", bug)
    code, _, err = cli("run", yaml_file(tmp_path, ""), "--offline", "--out", tmp_path / "r")
    assert code == 1
    assert "internal error: RuntimeError: boom [/x]" in err and "BACKTEST_DEBUG=1" in err
    assert not (tmp_path / "r").exists()


def test_debug_env_shows_the_traceback(tmp_path, capsys, monkeypatch):
    from backtest.cli import main

    def bug(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("backtest.pipeline.run", bug)
    monkeypatch.setenv("BACKTEST_DEBUG", "1")
    code = main(["run", str(yaml_file(tmp_path, "")), "--offline", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback (most recent call last)" in err and "in bug" in err


# backtest report on a damaged run directory ------------------------------------------------


@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete run directory (April 2025, Markdown and CSV)."""
    target = tmp_path_factory.mktemp("report") / "run"
    with pytest.MonkeyPatch.context() as mp:  # module scope: no per-test environment yet
        mp.setenv("BACKTEST_CACHE_DIR", str(target.parent / "cache"))
        for var in ("BACKTEST_OFFLINE", "BACKTEST_CATALOG", "BACKTEST_SNAPSHOT_DIR"):
            mp.delenv(var, raising=False)
        cfg = load_config(APRIL, {"data.offline": True, "output.formats": ["md", "csv"]})
        return write_run(run(cfg), target)


def _edit(fn):
    """A damage done to results.json, as a function of its parsed content."""

    def damage(run_dir: Path) -> None:
        path = run_dir / "results.json"
        path.write_text(json.dumps(fn(json.loads(path.read_text(encoding="utf-8")))))

    return damage


def _drop(key: str):
    def fn(results: dict) -> dict:
        results.pop(key)
        return results

    return fn


def _set(value, *keys):
    def fn(results: dict) -> dict:
        node = results
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
        return results

    return fn


def _truncate(run_dir: Path) -> None:
    path = run_dir / "results.json"
    path.write_bytes(path.read_bytes()[:5000])


DAMAGED = {  # id -> (damage, message fragments; "{json}" is the results.json path)
    "truncated": (_truncate, ["{json}: not valid JSON", "truncated"]),
    "empty file": (lambda d: (d / "results.json").write_text(""), ["{json}: not valid JSON"]),
    "a list": (_edit(lambda r: [r]), ["{json}: must be a JSON object", "got array"]),
    "missing run": (_edit(_drop("run")), ["{json}: (top level): 'run' is a required"]),
    "wrong type title": (_edit(_set(5, "run", "title")), ["{json}: run.title: must be"]),
    "wrong nested type": (
        _edit(_set("0,6", "event_study", "windows", 0, "window")),
        ["{json}: event_study.windows[0].window: must be", "got string"],
    ),
    "no windows": (_edit(_set([], "event_study", "windows")), ["event_study.windows"]),
    "newer schema": (
        _edit(_set("backtest.results/99", "schema")),
        ["{json}: schema 'backtest.results/99' is not the one this backtest reads"],
    ),
    "another tool": (_edit(_set("x", "schema")), ["{json}: not a backtest results file"]),
    "no results.json": (lambda d: (d / "results.json").unlink(), ["no results.json here"]),
}


@pytest.mark.parametrize("case", DAMAGED.values(), ids=DAMAGED.keys())
def test_report_on_damaged_run_exit_2_names_file_and_field(case, good_run, tmp_path, cli):
    damage, fragments = case
    run_dir = tmp_path / "run"
    shutil.copytree(good_run, run_dir)
    damage(run_dir)
    before = tree_digest(run_dir)
    code, out, err = cli("report", run_dir, "--html")
    assert code == 2, err
    for fragment in fragments:
        assert fragment.format(json=run_dir / "results.json") in err, err
    assert out == ""
    assert tree_digest(run_dir) == before  # no report.html written


@pytest.mark.parametrize(
    "what", ["missing", "not parquet"], ids=["levels missing", "levels damaged"]
)
def test_report_html_without_usable_levels_exit_2(what, good_run, tmp_path, cli):
    run_dir = tmp_path / "run"
    shutil.copytree(good_run, run_dir)
    levels = run_dir / "levels.parquet"
    if what == "missing":
        levels.unlink()
    else:
        levels.write_bytes(b"not parquet")
    before = tree_digest(run_dir)
    code, _, err = cli("report", run_dir, "--html")
    assert code == 2
    assert str(levels if what == "missing" else run_dir) in err
    assert tree_digest(run_dir) == before


@pytest.mark.parametrize("what", ["a file", "absent"])
def test_report_on_a_non_directory_exit_2(what, tmp_path, cli):
    path = tmp_path / "x"
    if what == "a file":
        path.write_text("{}")
    code, _, err = cli("report", path)
    assert code == 2 and str(path) in err
    assert ("is not a directory" if what == "a file" else "does not exist") in err


def test_report_on_a_good_run_prints_its_summary_exactly(good_run, cli):
    code, out, err = cli("report", good_run)
    assert code == 0, err
    assert out == (good_run / "summary.md").read_text(encoding="utf-8")
    assert max(len(line) for line in out.splitlines()) > 160  # long lines survive


@pytest.mark.slow
def test_report_html_on_a_good_run_writes_it(good_run, tmp_path, cli):
    run_dir = tmp_path / "run"
    shutil.copytree(good_run, run_dir)
    code, _, err = cli("report", run_dir, "--html")
    assert code == 0, err
    assert (run_dir / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


# data show / list and progress: user text as typed ------------------------------------------

CATALOG = """
series:
  BUND10Y:
    description: "German [/x] yield [bold]bold?[/bold]"
    kind: yield
    unit: "percent [/u]"
    calendar: XFRA
    sources:
      - {provider: file, symbol: bund.csv, timezone: Europe/Berlin, obs_time: "17:30"}
"""


@pytest.mark.parametrize("command", ["show", "list"])
def test_catalog_text_with_markup_printed_as_written(command, tmp_path, cli):
    (tmp_path / "mine.yaml").write_text(CATALOG, encoding="utf-8")
    (tmp_path / "bund.csv").write_text("date,value\n2025-04-01,2.70\n2025-04-02,2.72\n")
    args = ["BUND10Y"] if command == "show" else []
    code, out, err = cli("data", command, *args, "--catalog", tmp_path / "mine.yaml", "--offline")
    assert code == 0, err
    assert "percent [/u]" in out
    if command == "show":
        assert "German [/x] yield [bold]bold?[/bold]" in out


def test_progress_description_is_plain_text():
    from backtest.cli import _progress

    progress = _progress()
    task = progress.add_task("strategy risk[/x]_[bold]off", total=1)
    column = progress.columns[0]
    assert column.render(progress.tasks[task]).plain == "strategy risk[/x]_[bold]off"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(b"\x7fELF\x02\x01\x01\x00\xff\xfe", "not a text file", id="binary"),
        pytest.param(b"name: t\ndata: [\n", "run.yaml", id="broken-yaml"),
    ],
)
def test_config_that_is_not_yaml_text_exits_2(tmp_path, cli, content, expected):
    path = tmp_path / "run.yaml"
    path.write_bytes(content)
    code, _, err = cli("run", path, "--offline", "--out", tmp_path / "r")
    assert code == 2 and expected in err
    assert not (tmp_path / "r").exists()
