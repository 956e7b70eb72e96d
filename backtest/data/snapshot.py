"""Where the bundled snapshot of real market history lives."""

from __future__ import annotations

import os
from pathlib import Path

from backtest.errors import DataValidationError

__all__ = ["snapshot_dir"]

_ENV = "BACKTEST_SNAPSHOT_DIR"


def snapshot_dir() -> Path:
    """Return the directory of the bundled snapshot (``data/snapshot`` in the repository).

    Looked up in order: the ``BACKTEST_SNAPSHOT_DIR`` environment variable, the copy
    packed into an installed wheel (``backtest/_snapshot``), and ``data/snapshot`` of
    the source tree the package runs from.

    Raises
    ------
    backtest.errors.DataValidationError
        None of these exists.
    """
    env = os.environ.get(_ENV)
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise DataValidationError(f"{_ENV}={env}: not a directory")
        return path
    here = Path(__file__).resolve().parent.parent  # .../backtest
    for candidate in (here / "_snapshot", here.parent / "data" / "snapshot"):
        if candidate.is_dir():
            return candidate
    raise DataValidationError(
        "the bundled snapshot was not found (looked in backtest/_snapshot and data/snapshot); "
        f"set {_ENV} to the folder holding the snapshot CSV files"
    )
