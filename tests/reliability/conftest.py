"""Shared helpers of the reliability suite (issue 11).

Each case asserts one outcome class:

* ``clean error``: the CLI returns the documented exit code (2 bad input, 130 interrupt)
  and prints one message naming the problem, never a Python traceback;
* ``correct result``: the run completes (exit 0) with the right number;
* ``nothing written``: no file the tool did not write was touched.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from backtest.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process and return (exit code, stdout, stderr)."""
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    assert "Traceback (most recent call last)" not in captured.out + captured.err
    return code, captured.out, captured.err


def tree_digest(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under `root` (byte-level snapshot)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def cli(capsys):
    """``cli(*args) -> (code, out, err)``, with a traceback check."""
    return lambda *args: run_cli(capsys, *args)
