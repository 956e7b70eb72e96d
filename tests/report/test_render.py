"""Tests of backtest/report/render.py: reports of a run in memory, written only where allowed.

The run is the real pipeline on ``configs/usdjpy_strategies.yaml`` (offline, from the
snapshot: an event study and five strategies with sweeps). Expected outputs are what
``backtest run`` wrote for the same run (its ``report.html`` and ``summary.md``), read
back from the run directory: rendering in memory must give the same bytes. The rules
for an existing file are checked with files made by hand in the test.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from backtest.config import load_config
from backtest.errors import OutputError
from backtest.pipeline import RunResult, run, write_run
from backtest.report import render_html, render_markdown

from ..conftest import REPO

CONFIG = REPO / "configs" / "usdjpy_strategies.yaml"


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, Path]:
    """The run in memory and the run directory ``backtest run`` writes of it."""
    target = tmp_path_factory.mktemp("render") / "run"
    with pytest.MonkeyPatch.context() as mp:  # module-scoped: no per-test environment yet
        mp.setenv("BACKTEST_CACHE_DIR", str(target.parent / "cache"))
        for var in ("BACKTEST_OFFLINE", "BACKTEST_CATALOG", "BACKTEST_SNAPSHOT_DIR"):
            mp.delenv(var, raising=False)
        config = load_config(CONFIG, {"data.offline": True, "output.dir": str(target)})
        result = run(config, config_path=CONFIG)
        write_run(result, target)
    return result, target


@pytest.fixture(scope="module")
def page(written: tuple[RunResult, Path]) -> str:
    return render_html(written[0])


def test_html_in_memory_is_the_run_directorys_page(written, page):
    _, run_dir = written
    assert page == (run_dir / "report.html").read_text(encoding="utf-8")
    assert "Sweep: ma_crossover on USDJPY" in page  # read from tables/ of the temporary run


def test_html_from_a_run_directory_still_works(written, page):
    assert render_html(written[1]) == page
    assert render_html(str(written[1])) == page


def test_html_needs_no_parquet_in_the_users_formats(written, page):
    # The user asked for CSV tables only; the page still has its strategy charts (the
    # temporary run holds parquet tables whatever output.formats says).
    result, _ = written
    output = result.config.output.model_copy(update={"formats": ("csv", "md")})
    config = result.config.model_copy(update={"output": output})
    assert render_html(dataclasses.replace(result, config=config)) == page


def test_markdown_from_result_results_and_run_directory(written):
    result, run_dir = written
    expected = (run_dir / "summary.md").read_text(encoding="utf-8")
    assert render_markdown(result) == expected
    assert render_markdown(result.results) == expected
    assert render_markdown(run_dir) == expected


def test_written_to_a_new_path_then_replaced(written, page, tmp_path):
    result, _ = written
    target = tmp_path / "reports" / "usdjpy.html"  # parents are created
    assert render_html(result, target) == page
    assert target.read_text(encoding="utf-8") == page
    target.write_text(page.replace("USD/JPY strategies", "older run"), encoding="utf-8")
    render_html(result, target)  # a report of backtest: replaced
    assert target.read_text(encoding="utf-8") == page
    md = tmp_path / "summary.md"
    text = render_markdown(result, md)
    assert md.read_text(encoding="utf-8") == text
    render_markdown(result, md)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports", "summary.md"]  # no temp
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["usdjpy.html"]


@pytest.mark.parametrize("kind", ["html", "md"])
def test_a_file_backtest_did_not_write_is_left_alone(written, tmp_path, monkeypatch, kind):
    result, _ = written
    target = tmp_path / f"notes.{kind}"
    target.write_text("# My notes\n\nRun `x` with care.\n", encoding="utf-8")
    # Refused before any work: the renderer is never reached.
    monkeypatch.setattr("backtest.pipeline.write_run", _boom)
    monkeypatch.setattr("backtest.report.markdown.render_markdown", _boom)
    render = render_html if kind == "html" else render_markdown
    with pytest.raises(OutputError, match=r"notes\.\w+: exists and was not written by backtest"):
        render(result, target)
    assert target.read_text(encoding="utf-8") == "# My notes\n\nRun `x` with care.\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_a_report_of_the_other_kind_is_not_replaced(written, page, tmp_path):
    result, _ = written
    target = tmp_path / "summary.md"
    target.write_text(page, encoding="utf-8")  # an HTML report where Markdown is asked
    with pytest.raises(OutputError, match="was not written by backtest"):
        render_markdown(result, target)
    assert target.read_text(encoding="utf-8") == page


def test_a_directory_or_a_link_is_refused(written, tmp_path):
    result, _ = written
    (tmp_path / "dir.md").mkdir()
    with pytest.raises(OutputError, match=r"dir\.md: exists and is not a file"):
        render_markdown(result, tmp_path / "dir.md")
    own = tmp_path / "own.md"
    render_markdown(result, own)
    (tmp_path / "link.md").symlink_to(own)
    with pytest.raises(OutputError, match=r"link\.md: exists and is not a file"):
        render_markdown(result, tmp_path / "link.md")


def _boom(*args, **kwargs):
    raise AssertionError("rendered although the target is refused")
