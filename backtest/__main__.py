"""``python -m backtest`` runs the command-line interface."""

from backtest.cli import run

run()
