"""Test-wide isolation: no network, a private cache, no user environment.

pytest runs with ``--disable-socket`` (pytest-socket, see pyproject.toml): any test
that tries to open a network socket fails. ``tests/test_no_network.py`` proves it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backtest.data.loader import network_available

REPO = Path(__file__).resolve().parent.parent
SNAPSHOT = REPO / "data" / "snapshot"


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory, monkeypatch):
    """Give every test its own cache directory and a clean environment."""
    monkeypatch.setenv("BACKTEST_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    for var in ("BACKTEST_OFFLINE", "BACKTEST_CATALOG", "BACKTEST_SNAPSHOT_DIR"):
        monkeypatch.delenv(var, raising=False)
    network_available.cache_clear()
    yield
    network_available.cache_clear()
