"""Issue 11, output: ``--out`` never deletes what backtest did not write.

Outcome classes (see conftest): a refused ``--out`` is a *clean error* (exit 2, the
message names the path and why) with *nothing written* (the whole tmp tree byte-identical,
no hidden folder left) and *no computation* (``pipeline.run`` is replaced by a function
that fails the test if called). Accepted targets give a *correct result*: the run
directory in place, an earlier one replaced atomically.

Tests run as root, for whom ``chmod`` does not block writing: an unwritable location is
simulated by making the probe fail as the OS does (PermissionError, EROFS), plus one
real case, /sys, where even root cannot create a folder.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from backtest.rundir import STAGING_MARKER, check_output, clean_stale_staging

from ..conftest import REPO
from .conftest import tree_digest

APRIL = REPO / "configs" / "april_2025_selloff.yaml"
RUN_HEAD = '{\n  "schema": "backtest.results/1",\n  "run": {"name": "earlier"}\n}\n'


def snapshot(root: Path) -> tuple[dict[str, str], list[str]]:
    """Byte digest of every file, and every path (empty and hidden folders included)."""
    return tree_digest(root), sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """The April 2025 config, writing Markdown and CSV only (a run takes about a second)."""
    path = tmp_path / "cfg" / "fast.yaml"
    path.parent.mkdir()
    path.write_text(f"extends: {APRIL}\noutput:\n  formats: [md, csv]\n", encoding="utf-8")
    return path


@pytest.fixture
def no_compute(monkeypatch: pytest.MonkeyPatch) -> None:
    """The computation must not start: checks of the output come before it."""

    def computed(*args: object, **kwargs: object) -> None:
        raise AssertionError("the computation started before the output was checked")

    monkeypatch.setattr("backtest.pipeline.run", computed)


def earlier_run(path: Path) -> Path:
    """A run directory as an earlier `backtest run` leaves it (every kind of file)."""
    (path / "tables").mkdir(parents=True)
    (path / "results.json").write_text(RUN_HEAD, encoding="utf-8")
    (path / "summary.md").write_text("# earlier\n", encoding="utf-8")
    (path / "config.yaml").write_text("name: earlier\n", encoding="utf-8")
    (path / "report.html").write_text("<html>earlier</html>\n", encoding="utf-8")
    (path / "tables" / "car_0_6.csv").write_text("event,car\n", encoding="utf-8")
    return path


def user_folder(path: Path) -> Path:
    """A folder of the user's: thesis text, data, a hidden file, a subfolder."""
    (path / "data").mkdir(parents=True)
    (path / "thesis.tex").write_text("\\chapter{Results}\n", encoding="utf-8")
    (path / ".git-keep").write_bytes(b"\x00\x01")
    (path / "data" / "prices.csv").write_text("date,px\n2025-04-02,1\n", encoding="utf-8")
    return path


def _setup_user_dir(tmp: Path) -> tuple[Path, Path, str]:
    return user_folder(tmp / "thesis"), tmp / "thesis", "not empty and not a backtest run"


def _setup_file(tmp: Path) -> tuple[Path, Path, str]:
    (tmp / "notes.txt").write_text("my notes\n", encoding="utf-8")
    return tmp / "notes.txt", tmp / "notes.txt", "is a file, not a directory"


def _setup_under_file(tmp: Path) -> tuple[Path, Path, str]:
    (tmp / "notes.txt").write_text("my notes\n", encoding="utf-8")
    return tmp / "notes.txt" / "run", tmp / "notes.txt", "is a file, not a directory"


def _setup_run_plus_user_file(tmp: Path) -> tuple[Path, Path, str]:
    run = earlier_run(tmp / "run")
    (run / "my_notes.md").write_text("keep me\n", encoding="utf-8")
    return run, run, "files backtest did not write (my_notes.md)"


def _setup_run_plus_user_table(tmp: Path) -> tuple[Path, Path, str]:
    run = earlier_run(tmp / "run")
    (run / "tables" / "mine.xlsx").write_bytes(b"PK\x03\x04")
    return run, run, "tables/mine.xlsx"


def _setup_other_results_json(tmp: Path) -> tuple[Path, Path, str]:
    (tmp / "other").mkdir()
    (tmp / "other" / "results.json").write_text('{"accuracy": 0.93}\n', encoding="utf-8")
    return tmp / "other", tmp / "other", "not empty and not a backtest run"


def _setup_folder_of_runs(tmp: Path) -> tuple[Path, Path, str]:
    earlier_run(tmp / "runs" / "a")
    earlier_run(tmp / "runs" / "b")
    return tmp / "runs", tmp / "runs", "not empty and not a backtest run"


REFUSED = {
    "non-empty user folder": _setup_user_dir,
    "a file": _setup_file,
    "a path under a file": _setup_under_file,
    "run directory with a user file": _setup_run_plus_user_file,
    "run directory with a user table": _setup_run_plus_user_table,
    "results.json of another tool": _setup_other_results_json,
    "folder holding run directories": _setup_folder_of_runs,
}


@pytest.mark.parametrize("setup", REFUSED.values(), ids=REFUSED.keys())
def test_refused_out_exit_2_nothing_touched_nothing_computed(
    setup, tmp_path, cli, config, no_compute
):
    work = tmp_path / "work"
    work.mkdir()
    out, named, why = setup(work)
    before = snapshot(tmp_path)
    code, _stdout, err = cli("run", config, "--offline", "-q", "--out", out)
    assert code == 2, err
    assert str(named) in err and why in err
    assert snapshot(tmp_path) == before


def test_out_dot_in_a_user_folder_is_refused(tmp_path, cli, config, no_compute, monkeypatch):
    folder = user_folder(tmp_path / "thesis")
    before = snapshot(tmp_path)
    monkeypatch.chdir(folder)
    code, _, err = cli("run", config, "--offline", "--out", ".")
    assert code == 2 and str(folder) in err and "not a backtest run directory" in err
    assert snapshot(tmp_path) == before


def test_default_run_dir_from_config_is_checked_too(tmp_path, cli, no_compute):
    """output.dir in the YAML gets the same rule as --out."""
    folder = user_folder(tmp_path / "thesis")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"extends: {APRIL}\noutput:\n  dir: thesis\n", encoding="utf-8")
    before = snapshot(tmp_path)
    code, _, err = cli("run", cfg, "--offline")
    assert code == 2 and str(folder) in err
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    "error",
    [
        PermissionError(errno.EACCES, "Permission denied"),
        OSError(errno.EROFS, "Read-only file system"),
    ],
    ids=["no permission", "read-only filesystem"],
)
def test_unwritable_out_exit_2_before_computation(
    error, tmp_path, cli, config, no_compute, monkeypatch
):
    def refuse(*args: object, **kwargs: object) -> str:
        raise error

    monkeypatch.setattr("backtest.rundir.tempfile.mkdtemp", refuse)
    before = snapshot(tmp_path)
    code, _, err = cli("run", config, "--offline", "--out", tmp_path / "new" / "run")
    assert code == 2
    assert f"{tmp_path / 'new' / 'run'}: cannot write in {tmp_path}" in err
    assert error.strerror in err
    assert snapshot(tmp_path) == before


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs Linux sysfs")
def test_really_unwritable_out_exit_2(cli, config, no_compute):
    """sysfs refuses a new folder even to root: a real unwritable location."""
    try:
        os.mkdir("/sys/backtest-probe")
    except OSError:
        pass
    else:  # pragma: no cover - an unusual, writable /sys
        os.rmdir("/sys/backtest-probe")
        pytest.skip("/sys is writable here")
    code, _, err = cli("run", config, "--offline", "--out", "/sys/backtest-run")
    assert code == 2 and "/sys/backtest-run: cannot write in /sys" in err


def test_symlink_target_refused_by_write_run(tmp_path):
    """The library call gets the rule too; a link is not followed into a replacement."""
    real = earlier_run(tmp_path / "real")
    (tmp_path / "link").symlink_to(real)
    before = snapshot(tmp_path)
    with pytest.raises(Exception, match="symbolic link") as info:
        check_output(tmp_path / "link")
    assert isinstance(info.value, OSError)
    assert snapshot(tmp_path) == before


# Accepted targets: a correct result ----------------------------------------------------


def _results(run: Path) -> dict:
    return json.loads((run / "results.json").read_text(encoding="utf-8"))


def test_absent_nested_out_is_created(tmp_path, cli, config):
    out = tmp_path / "a" / "b" / "run"
    code, stdout, err = cli("run", config, "--offline", "-q", "--out", out)
    assert code == 0, err
    assert _results(out)["run"]["name"] == "april_2025_selloff"
    assert f"run directory: {out}" in stdout
    assert sorted(p.name for p in out.parent.iterdir()) == ["run"]  # no staging left


def test_empty_dir_is_used_and_keeps_its_permissions(tmp_path, cli, config):
    out = tmp_path / "run"
    out.mkdir()
    out.chmod(0o750)
    code, _, err = cli("run", config, "--offline", "-q", "--out", out)
    assert code == 0, err
    assert (out / "summary.md").is_file() and (out / "tables" / "car_0_6.csv").is_file()
    assert out.stat().st_mode & 0o777 == 0o750
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cfg", "run"]


def test_earlier_run_is_replaced_whole(tmp_path, cli, config):
    out = earlier_run(tmp_path / "run")
    neighbour = user_folder(tmp_path / "thesis")
    before = snapshot(neighbour)
    code, _, err = cli("run", config, "--offline", "-q", "--out", out)
    assert code == 0, err
    assert _results(out)["run"]["name"] == "april_2025_selloff"
    # report.html of the earlier run is gone (this run writes md and csv only): replaced
    # as a whole, not merged
    assert not (out / "report.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cfg", "run", "thesis"]
    assert snapshot(neighbour) == before


def test_out_dot_in_an_earlier_run_replaces_it(tmp_path, cli, config, monkeypatch):
    out = earlier_run(tmp_path / "run")
    monkeypatch.chdir(out)
    code, _, err = cli("run", config, "--offline", "-q", "--out", ".")
    assert code == 0, err
    assert _results(out)["run"]["name"] == "april_2025_selloff"


def test_failed_write_leaves_earlier_run_byte_identical(tmp_path, cli, config, monkeypatch):
    out = earlier_run(tmp_path / "run")
    before = snapshot(tmp_path)

    def disk_full(*args: object, **kwargs: object) -> str:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("backtest.report.render_markdown", disk_full)
    code, _, err = cli("run", config, "--offline", "-q", "--out", out)
    assert code == 1 and "No space left on device" in err and "internal error" not in err
    assert snapshot(tmp_path) == before


def test_interrupt_between_the_two_renames_puts_the_earlier_run_back(
    tmp_path, cli, config, monkeypatch
):
    """Ctrl-C after the earlier run was moved aside, before the new one moved in."""
    import backtest.rundir as rundir

    out = earlier_run(tmp_path / "run")
    before = snapshot(tmp_path)
    mark = rundir._mark

    def interrupted(folder: Path, target: Path, kind: str) -> None:
        if kind == "old":
            raise KeyboardInterrupt
        mark(folder, target, kind)

    monkeypatch.setattr(rundir, "_mark", interrupted)
    code, _, err = cli("run", config, "--offline", "-q", "--out", out)
    assert code == 130 and "interrupted; nothing written" in err
    assert snapshot(tmp_path) == before


# Ctrl-C ------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["computation", "writing"])
def test_keyboard_interrupt_exit_130_earlier_run_intact(where, tmp_path, cli, config, monkeypatch):
    out = earlier_run(tmp_path / "run")
    before = snapshot(tmp_path)

    def ctrl_c(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    hooks = {"computation": "backtest.pipeline.run", "writing": "backtest.report.render_markdown"}
    monkeypatch.setattr(hooks[where], ctrl_c)
    code, _stdout, err = cli("run", config, "--offline", "-q", "--out", out)
    assert code == 130
    assert "interrupted; nothing written" in err
    assert snapshot(tmp_path) == before


def test_keyboard_interrupt_in_another_command_exit_130(cli, monkeypatch):
    def ctrl_c() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("backtest.strategy.discover", ctrl_c)
    code, _, err = cli("strategies", "list")
    assert code == 130 and "interrupted" in err


# Real processes: SIGINT mid-run, SIGKILL mid-write -----------------------------------------

_HOOKED = textwrap.dedent(
    """
    import sys, time
    import backtest.pipeline as pipeline
    import backtest.report as report

    STAGE = sys.argv[1] if len(sys.argv) > 1 else ""
    run, render = pipeline.run, report.render_markdown

    def hold(where):
        print("READY " + where, flush=True)
        time.sleep(120)

    def hooked_run(cfg, **kwargs):
        progress = kwargs.get("progress")

        def step(stage):
            if progress is not None:
                progress(stage)
            if STAGE == "compute" and stage == "running the event study":
                hold(stage)

        kwargs["progress"] = step
        return run(cfg, **kwargs)

    def hooked_render(results):
        if STAGE == "write":
            hold("writing")
        return render(results)

    if __name__ == "__main__":  # Dask's worker processes import this file again
        pipeline.run, report.render_markdown = hooked_run, hooked_render
        from backtest.cli import main

        sys.exit(main(sys.argv[2:]))
    """
)


def _start(tmp_path: Path, stage: str, *args: object) -> subprocess.Popen[str]:
    script = tmp_path / "hooked.py"
    script.write_text(_HOOKED, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, str(script), stage, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
        start_new_session=True,  # its own process group, like a terminal's foreground job
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # blocks until the hook is reached (or the process ends)
    if not line.startswith("READY"):
        proc.kill()
        pytest.fail(f"the run did not reach {stage}: {line!r} {proc.stderr.read()}")  # type: ignore[union-attr]
    return proc


@pytest.mark.slow
def test_sigint_mid_run_real_process_exit_130(tmp_path, config):
    out = earlier_run(tmp_path / "run")
    before = snapshot(tmp_path)
    proc = _start(tmp_path, "compute", "run", config, "--offline", "-q", "--out", out)
    proc.send_signal(signal.SIGINT)
    _stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "interrupted; nothing written" in stderr and "Traceback" not in stderr
    after = snapshot(tmp_path)
    after[1].remove("hooked.py")
    after[0].pop("hooked.py")
    assert after == before


@pytest.mark.slow
def test_sigint_to_the_process_group_on_dask_exit_130_no_traceback(tmp_path, config):
    """A terminal's Ctrl-C reaches the workers of the embedded cluster too."""
    pytest.importorskip("distributed")
    out = earlier_run(tmp_path / "run")
    before = snapshot(out)
    args = ("run", config, "--offline", "-q", "--engine", "dask", "--workers", "1", "--out", out)
    proc = _start(tmp_path, "compute", *args)
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "interrupted; nothing written" in stderr and "Traceback" not in stderr
    assert snapshot(out) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
def test_sigkill_mid_write_leaves_staging_that_the_next_run_removes(tmp_path, config, cli):
    out = earlier_run(tmp_path / "run")
    earlier = snapshot(out)
    proc = _start(tmp_path, "write", "run", config, "--offline", "-q", "--out", out)
    proc.kill()
    proc.communicate(timeout=60)
    staged = [p for p in tmp_path.iterdir() if p.name.startswith(".run.")]
    assert len(staged) == 1 and (staged[0] / STAGING_MARKER).is_file()
    assert (staged[0] / "results.json").is_file()  # killed half-way through writing
    assert snapshot(out) == earlier  # the earlier run untouched by the killed writer
    code, _, err = cli("run", config, "--offline", "-q", "--out", out)
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cfg", "hooked.py", "run"]


# Stale staging folders: removed only when carrying the marker and their writer is gone --


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _staged(parent: Path, name: str, **marker: object) -> Path:
    folder = parent / name
    folder.mkdir()
    (folder / "results.json").write_text("{", encoding="utf-8")
    info = {
        "tool": "backtest",
        "kind": "staging",
        "folder": name,
        "target": "run",
        "pid": _dead_pid(),
        "host": socket.gethostname(),
        "created": time.time(),
        **marker,
    }
    (folder / STAGING_MARKER).write_text(json.dumps(info), encoding="utf-8")
    return folder


STALE = {  # name -> (marker fields, removed?)
    ".run.dead": ({}, True),
    ".run.alive": ({"pid": os.getppid()}, False),
    ".run.elsewhere": ({"host": "another-host"}, False),
    ".run.elsewhere-old": ({"host": "another-host", "created": time.time() - 2 * 86400}, True),
    ".run.not-ours": ({"tool": "other"}, False),
    ".run.renamed": ({"folder": ".run.original"}, False),
}


def test_stale_staging_removed_only_with_marker_and_dead_writer(tmp_path, cli, config):
    parent = tmp_path / "runs"
    parent.mkdir()
    for name, (marker, _) in STALE.items():
        _staged(parent, name, **marker)
    unmarked = user_folder(parent / ".run.unmarked")  # looks like staging, has no marker
    hidden = user_folder(parent / ".cache")
    kept = {p: snapshot(p) for p in (unmarked, hidden)}
    code, _, err = cli("run", config, "--offline", "-q", "--out", parent / "run")
    assert code == 0, err
    left = {p.name for p in parent.iterdir()}
    for name, (_, removed) in STALE.items():
        assert (name not in left) is removed, name
    assert {p: snapshot(p) for p in kept} == kept
    assert "run" in left


def test_earlier_run_moved_aside_by_a_killed_writer_is_put_back(tmp_path):
    """Killed between its two renames: the target is missing, the earlier run is aside."""
    aside = earlier_run(tmp_path / ".run.old-1-abcd")
    info = {
        "tool": "backtest",
        "kind": "old",
        "folder": aside.name,
        "target": "run",
        "pid": _dead_pid(),
        "host": socket.gethostname(),
        "created": time.time(),
    }
    (aside / STAGING_MARKER).write_text(json.dumps(info), encoding="utf-8")
    assert clean_stale_staging(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == sorted(
        ["config.yaml", "report.html", "results.json", "summary.md", "tables"]
    )
