"""Tests of backtest/cli.py: commands, output and exit codes."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from backtest import __version__
from backtest.cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"backtest {__version__}"


def test_help_lists_commands(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "data" in out
    code, out, _ = run(capsys, "data", "--help")
    assert code == 0 and all(c in out for c in ("list", "show", "fetch"))


def test_data_list_shows_snapshot_table(capsys):
    code, out, _ = run(capsys, "data", "list", "--offline")
    assert code == 0
    lines = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") > 3}
    assert {"UST10Y", "USDJPY", "SPX", "NKY", "JGB10Y", "VIX"} <= set(lines)
    # Last value and dates of the bundled FRED DGS10 file (data/snapshot/SOURCES.md).
    assert "1962-01-02" in lines["UST10Y"] and "2026-08-20" in lines["UST10Y"]
    assert "4.69" in lines["UST10Y"] and "fred:DGS10" in lines["UST10Y"]
    # What a position earns, from the catalog's instrument entries (catalog.yaml).
    assert "bond 10y USD" in lines["UST10Y"] and "bond 10y JPY" in lines["JGB10Y"]
    assert "fx USD/JPY + carry" in lines["USDJPY"] and "untradable" in lines["VIX"]


def test_data_show_levels_and_bp_changes(capsys):
    code, out, _ = run(
        capsys,
        "data",
        "show",
        "UST10Y",
        "--start",
        "2025-04-04",
        "--end",
        "2025-04-11",
        "--offline",
    )
    assert code == 0
    assert "change (bp)" in out
    row = next(line for line in out.splitlines() if line.strip().startswith("2025-04-07"))
    assert "4.15" in row and "+14.00" in row
    first = next(line for line in out.splitlines() if line.strip().startswith("2025-04-04"))
    assert "-5.00" in first  # the change into the first shown day is computed too
    assert "6 observations" in out


def test_data_show_several_series_side_by_side_each_in_its_unit(capsys):
    code, out, _ = run(
        capsys,
        *("data", "show", "UST10Y", "JGB10Y", "USDJPY"),
        *("--start", "2025-04-25", "--end", "2025-05-07", "--offline"),
    )
    assert code == 0
    header = next(line for line in out.splitlines() if line.strip().startswith("date"))
    for title in (
        "UST10Y (percent)",
        "UST10Y change (bp)",
        "JGB10Y change (bp)",
        "USDJPY (JPY per USD)",
        "USDJPY change (% log return)",
    ):
        assert title in header

    def cells(day: str) -> list[str]:
        line = next(x for x in out.splitlines() if x.strip().startswith(day))
        return [c.strip() for c in line.split("│")]

    # Hand check from the printed levels: JGB10Y 1.283 (05-02) -> 1.318 (05-07) is
    # +3.5 bp; 05-05 and 05-06 (Golden Week) have no JGB observation: blank cells.
    assert cells("2025-05-07")[3:5] == ["1.318", "+3.50"]
    assert cells("2025-05-05")[3:5] == ["", ""]
    # UST10Y 4.33 (05-02) -> 4.36 (05-05): +3 bp.
    assert cells("2025-05-05")[1:3] == ["4.36", "+3.00"]
    day = cells("2025-05-07")
    before = cells("2025-05-06")
    expected = 100 * math.log(float(day[5]) / float(before[5]))  # % log return
    assert day[6] == f"{expected:+.2f}"
    assert "JGB10Y: 6 observations, 2025-04-25 to 2025-05-07" in out
    assert "UST10Y: 9 observations" in out


def test_unknown_series_exit_2_with_suggestion(capsys):
    code, _, err = run(capsys, "data", "show", "UST10", "--offline")
    assert code == 2 and "did you mean UST10Y" in err


def test_bad_date_exit_2(capsys):
    code, _, err = run(capsys, "data", "show", "UST10Y", "--end", "2025-99-01", "--offline")
    assert code == 2 and "does not parse" in err


def test_fetch_offline_is_a_clear_error(capsys):
    code, _, err = run(capsys, "data", "fetch", "UST10Y", "--offline")
    assert code == 1 and "cannot fetch UST10Y" in err and "offline" in err


def test_fetch_unknown_name_before_any_download(capsys):
    code, _, err = run(capsys, "data", "fetch", "UST10Y", "NOPE", "--offline")
    assert code == 2 and "unknown series 'NOPE'" in err


def test_usage_error_exit_2(capsys):
    code, _, _ = run(capsys, "data", "show")
    assert code == 2


@pytest.mark.slow
def test_console_script_entry_point():
    # The installed `backtest` script runs the same main().
    result = subprocess.run(
        [sys.executable, "-m", "backtest", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and __version__ in result.stdout


def test_strategies_list_shows_builtins_with_parameters(capsys):
    code, out, _ = run(capsys, "strategies", "list")
    assert code == 0
    for name in ("ma_crossover", "buy_and_hold", "event_drift", "risk_off_yen", "rate_spread"):
        assert name in out
    assert "fast: int = 20" in out and "Literal['long', 'both']" in out
