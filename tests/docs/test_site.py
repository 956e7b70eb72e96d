"""The documentation site builds with ``mkdocs build --strict`` (as ``make docs`` does).

Strict mode turns every warning into an error: a broken link between pages, a missing
snippet of README.md, a numpydoc section griffe cannot read. The build runs in a
subprocess into a temporary folder and must not need the network (no remote fonts).

Kind: a build check; the pages' content is checked by hand counts of what must be there.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

#: One object per public module the API reference must show (read from its docstrings).
API = {
    "backtest": "backtest.pipeline.run",
    "data": "backtest.data.load",
    "events": "backtest.events.load",
    "eventstudy": "backtest.eventstudy.EventStudy",
    "engine": "backtest.engine.backtest",
    "metrics": "backtest.metrics.deflated_sharpe_ratio",
    "instruments": "backtest.instruments.bond_total_return",
    "strategy": "backtest.strategy.Strategy",
    "weights": "backtest.weights.duration_neutral",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", "mkdocs.yml", "-d", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return out


@pytest.mark.slow
def test_site_builds_strict_with_every_page(site: Path) -> None:
    pages = [
        "index.html",
        "tutorial_april_2025/index.html",
        "strategy_plugins/index.html",
        "configuration/index.html",
        "dask/index.html",
        "position_returns/index.html",
    ]
    for page in pages:
        assert (site / page).is_file(), page
    for module, obj in API.items():
        text = (site / "api" / module / "index.html").read_text(encoding="utf-8")
        assert f'id="{obj}"' in text, f"{obj} missing from the API page of {module}"
        # Sphinx roles shown as code by scripts/mkdocs_hooks.py, not as ":class:"
        assert ":class:<code>" not in text and ":func:<code>" not in text, module


@pytest.mark.slow
def test_site_includes_readme_sections_and_config_keys(site: Path) -> None:
    earns = (site / "position_returns" / "index.html").read_text(encoding="utf-8")
    assert "In the engine" in earns and "bond_total_return" in earns
    dask = (site / "dask" / "index.html").read_text(encoding="utf-8")
    assert "Nothing large travels" in dask
    config = (site / "configuration" / "index.html").read_text(encoding="utf-8")
    assert "event_study.min_estimation" in config and 'id="config-strategies"' in config


@pytest.mark.slow
def test_site_fetches_nothing_remote(site: Path) -> None:
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "fonts.googleapis.com" not in text and "fonts.gstatic.com" not in text, page
