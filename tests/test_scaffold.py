"""Tests of backtest/scaffold.py and ``backtest new-strategy``: the plugin kit.

The acceptance path of issue 15: ``backtest new-strategy demo_rule`` writes a package;
installed, its strategy appears in ``backtest strategies list`` and its generated test
passes. The test environment has no network and the shared virtual environment must not
change, so "installed" is what ``pip install`` leaves for :mod:`importlib.metadata`: a
``*.dist-info`` folder (``METADATA``, ``entry_points.txt``) on the path, here written
from the entry points the generated ``pyproject.toml`` declares (read with tomllib and
checked by setuptools' own pyproject validator), with the package's ``src`` on
``PYTHONPATH``. Kind: behaviour (files, exit codes, messages); no expected number.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from backtest.cli import main
from backtest.scaffold import class_name, package_files

from .conftest import REPO


def _install(package: Path, site: Path) -> dict[str, str]:
    """What ``pip install`` of `package` registers, written into `site`; the env to use."""
    meta = tomllib.loads((package / "pyproject.toml").read_text(encoding="utf-8"))
    project = meta["project"]
    dist = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n",
        encoding="utf-8",
    )
    lines = []
    for group, entries in project["entry-points"].items():
        lines.append(f"[{group}]")
        lines += [f"{k} = {v}" for k, v in entries.items()]
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    path = os.pathsep.join([str(REPO), str(site), str(package / "src")])
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return {**env, "PYTHONPATH": path}


def test_class_name():
    assert class_name("demo_rule") == "DemoRule"
    assert class_name("x2_carry") == "X2Carry"


def test_new_strategy_writes_the_package(tmp_path, capsys):
    target = tmp_path / "demo_rule"
    assert main(["new-strategy", "demo_rule", "--dir", str(target)]) == 0
    written = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert written == sorted(package_files("demo_rule"))
    assert written == sorted(
        [
            ".gitignore",
            "README.md",
            "pyproject.toml",
            "src/demo_rule/__init__.py",
            "tests/test_demo_rule.py",
        ]
    )
    meta = tomllib.loads((target / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["entry-points"]["backtest.strategies"] == {
        "demo_rule": "demo_rule:DemoRule"
    }
    assert "pip install -e" in capsys.readouterr().out


def test_generated_pyproject_is_valid_for_setuptools(tmp_path):
    pyprojecttoml = pytest.importorskip("setuptools.config.pyprojecttoml")
    target = tmp_path / "demo_rule"
    assert main(["new-strategy", "demo_rule", "--dir", str(target)]) == 0
    config = pyprojecttoml.read_configuration(target / "pyproject.toml")  # validates
    assert config["project"]["name"] == "backtest-demo-rule"


def test_an_empty_directory_is_used(tmp_path):
    (tmp_path / "here").mkdir()
    assert main(["new-strategy", "demo_rule", "--dir", str(tmp_path / "here")]) == 0
    assert (tmp_path / "here" / "pyproject.toml").is_file()


def test_an_existing_directory_is_never_overwritten(tmp_path, capsys):
    target = tmp_path / "demo_rule"
    target.mkdir()
    (target / "pyproject.toml").write_text("mine\n", encoding="utf-8")
    assert main(["new-strategy", "demo_rule", "--dir", str(target)]) == 2
    message = capsys.readouterr().err
    assert str(target) in message and "not empty" in message
    assert (target / "pyproject.toml").read_text(encoding="utf-8") == "mine\n"
    assert sorted(p.name for p in target.iterdir()) == ["pyproject.toml"]


def test_a_file_in_the_way_is_refused(tmp_path, capsys):
    target = tmp_path / "demo_rule"
    target.write_text("mine\n", encoding="utf-8")
    assert main(["new-strategy", "demo_rule", "--dir", str(target)]) == 2
    assert str(target) in capsys.readouterr().err
    assert target.read_text(encoding="utf-8") == "mine\n"


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("Demo", "not a valid strategy name"),
        ("demo-rule", "not a valid strategy name"),
        ("class", "not a valid strategy name"),
        ("ma_crossover", "already installed"),
        ("json", "already an importable module"),
    ],
)
def test_bad_names_are_refused(tmp_path, capsys, name, why):
    assert main(["new-strategy", name, "--dir", str(tmp_path / "x")]) == 2
    message = capsys.readouterr().err
    assert f"NAME: {name!r}" in message or f"strategy {name!r}" in message
    assert why in message
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_installed_plugin_is_listed_and_its_generated_test_passes(tmp_path):
    package = tmp_path / "demo_rule"
    assert main(["new-strategy", "demo_rule", "--dir", str(package)]) == 0
    env = _install(package, tmp_path / "site")
    listed = subprocess.run(
        [sys.executable, "-m", "backtest", "strategies", "list"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if "demo_rule" in line)
    assert "entry point demo_rule:DemoRule" in row
    assert "failed to load" not in listed.stdout
    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        env=env,
        cwd=package,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert " passed" in tested.stdout and "failed" not in tested.stdout
    assert (
        "test_check_strategy"
        in subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "--collect-only", "-p", "no:cacheprovider"],
            capture_output=True,
            text=True,
            env=env,
            cwd=package,
            check=False,
        ).stdout
    )
