"""Generated inputs: configs and levels frames never raise anything but backtest's own errors.

Hypothesis builds malformed and edge-case inputs (shuffled, duplicated, descending,
empty, tz-aware or non-date indexes; NaN, inf, zero and negative levels; configs with
fields replaced by values of every YAML type; arbitrary YAML text). Each must either
work or fail with a :class:`~backtest.errors.BacktestError` (whose message the CLI prints
with exit code 2 or 1) -- never a ``KeyError``, ``IndexError``, ``ZeroDivisionError`` or
any other traceback a user would see. Through the CLI, the exit code is 0, 1 or 2 and
stderr never holds a traceback.
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backtest import data, engine
from backtest.cli import main
from backtest.config import load_config
from backtest.errors import BacktestError
from backtest.eventstudy import EventStudy

from ..conftest import REPO

EVENTS_FILE = REPO / "data" / "events" / "tariffs_2025.csv"
SERIES = ("UST10Y", "USDJPY", "SPX")
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Levels frames ------------------------------------------------------------------------------

values = st.one_of(
    st.floats(min_value=0.01, max_value=1e4, allow_nan=False),
    st.just(np.nan),
    st.sampled_from([0.0, -1.0, np.inf, -np.inf, 1e-300]),
)


@st.composite
def levels_frames(draw: st.DrawFn) -> pd.DataFrame:
    """A wide levels frame of 0-120 rows, with an index that may be malformed."""
    n = draw(st.integers(min_value=0, max_value=120))
    columns = draw(
        st.lists(st.sampled_from([*SERIES, "NOT_IN_CATALOG"]), min_size=1, max_size=3, unique=True)
    )
    start = pd.Timestamp("2025-01-01") + pd.Timedelta(days=draw(st.integers(0, 200)))
    index: Any = pd.bdate_range(start, periods=n)
    shape = draw(
        st.sampled_from(
            ["ok", "shuffled", "duplicate", "descending", "tz", "int", "str", "gap", "ok"]
        )
    )
    if shape == "shuffled" and n > 2:
        order = draw(st.permutations(list(range(n))))
        index = index[list(order)]
    elif shape == "duplicate" and n > 2:
        i = draw(st.integers(1, n - 1))
        index = index.insert(i, index[i - 1])
    elif shape == "descending":
        index = index[::-1]
    elif shape == "tz":
        index = index.tz_localize("America/New_York")
    elif shape == "int":
        index = pd.RangeIndex(len(index))
    elif shape == "str":
        index = pd.Index([f"{d:%d/%m/%Y}" for d in index], dtype=object)
    elif shape == "gap" and n > 10:
        index = index.delete(slice(n // 3, n // 2))
    rows = len(index)
    body = {
        c: draw(st.lists(values, min_size=rows, max_size=rows))
        if draw(st.booleans())
        else list(100 + np.cumsum(np.linspace(-1, 1, rows)))
        for c in columns
    }
    return pd.DataFrame(body, index=index, columns=columns, dtype=float)


def _events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "timestamp": [
                pd.Timestamp("2025-04-02 16:00", tz="America/New_York"),
                pd.Timestamp("2025-04-09 13:18", tz="America/New_York"),
            ],
            "label": ["Liberation Day", "90-day pause"],
        }
    )


def _only_own_errors(call) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # warnings are allowed; exceptions are the test
            call()
    except BacktestError:
        pass


@FUZZ
@given(levels=levels_frames())
def test_reactions_raise_only_own_errors(levels):
    _only_own_errors(lambda: data.reactions(levels))


@FUZZ
@given(levels=levels_frames(), model=st.sampled_from(["raw", "constant_mean"]))
def test_event_study_raises_only_own_errors(levels, model):
    study = EventStudy(
        model=model, estimation_window=(-40, -3), event_window=(-1, 3), min_estimation=10
    )

    def call():
        res = study.run(levels, _events())
        res.car(0, 3)
        res.tests(0, 3)

    _only_own_errors(call)


@settings(FUZZ, max_examples=25)
@given(levels=levels_frames())
def test_backtest_raises_only_own_errors(levels):
    series = levels.columns[0]
    _only_own_errors(lambda: engine.backtest("buy_and_hold", {}, levels, series=series))


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda f: f.iloc[::-1], id="descending"),
        pytest.param(lambda f: f.sample(frac=1.0, random_state=1), id="shuffled"),
        pytest.param(lambda f: pd.concat([f, f.iloc[[5]]]), id="duplicate-date"),
        pytest.param(lambda f: f.iloc[0:0], id="empty"),
    ],
)
def test_malformed_levels_are_refused_by_every_entry_point(make):
    """The malformed index of each kind is an error everywhere, never a number."""
    good = data.load(["SPX"], start="2024-06-01", end="2025-06-30", offline=True)
    bad = make(good)
    study = EventStudy(
        model="raw", estimation_window=(-100, -3), event_window=(0, 2), min_estimation=50
    )
    calls = {
        "reactions": lambda: data.reactions(bad),
        "EventStudy.run": lambda: study.run(bad, _events()),
        "engine.backtest": lambda: engine.backtest("buy_and_hold", {}, bad, series="SPX"),
        "engine.sweep": lambda: engine.sweep(
            "ma_crossover", {"fast": [5], "slow": [20]}, bad, series="SPX"
        ),
    }
    for name, call in calls.items():
        with pytest.raises(BacktestError):
            call()
        assert name  # each entry point refused


# Configs ------------------------------------------------------------------------------------

BASE: dict[str, Any] = {
    "name": "fuzz",
    "data": {"series": ["UST10Y", "SPX"], "start": "2024-06-01", "end": "2025-06-30"},
    "events": {"files": [str(EVENTS_FILE)], "ids": ["liberation_day"]},
    "event_study": {
        "model": "raw",
        "estimation_window": [-100, -11],
        "event_window": [-2, 5],
        "min_estimation": 50,
        "windows": [[0, 1]],
    },
    "output": {"dir": "out", "formats": ["json", "md"]},
}
FIELDS = [
    ("name",),
    ("data", "series"),
    ("data", "start"),
    ("data", "end"),
    ("data", "offline"),
    ("events", "ids"),
    ("events", "timezone"),
    ("event_study", "model"),
    ("event_study", "estimation_window"),
    ("event_study", "event_window"),
    ("event_study", "min_estimation"),
    ("event_study", "windows"),
    ("event_study", "tests"),
    ("event_study", "groups"),
    ("output", "formats"),
    ("strategies",),
    ("execution",),
]
yaml_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**12), max_value=10**12),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=12),
        st.sampled_from(["2025-13-01", "01/06/2016", "raw", "market", "[/x]", "UST10Y"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def mutated_configs(draw: st.DrawFn) -> dict[str, Any]:
    cfg = copy.deepcopy(BASE)
    for path in draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=3)):
        node = cfg
        for key in path[:-1]:
            node = node.setdefault(key, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            node[path[-1]] = draw(yaml_values)
    return cfg


def _write(tmp: Path, cfg: Any) -> Path:
    path = tmp / "run.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    return path


@FUZZ
@given(cfg=mutated_configs())
def test_config_validation_raises_only_config_errors(tmp_path, cfg):
    _only_own_errors(lambda: load_config(_write(tmp_path, cfg)))


@FUZZ
@given(text=st.text(max_size=200))
def test_arbitrary_yaml_text_raises_only_config_errors(tmp_path, text):
    path = tmp_path / "run.yaml"
    path.write_text(text, encoding="utf-8")
    _only_own_errors(lambda: load_config(path))


@settings(FUZZ, max_examples=12)
@given(cfg=mutated_configs())
def test_cli_run_of_mutated_configs_exits_cleanly(tmp_path, capsys, cfg):
    """The whole run: exit 0, 1 or 2, never a traceback (offline, so never the network)."""
    path = _write(tmp_path, cfg)
    code = main(["--quiet", "run", str(path), "--offline", "--out", str(tmp_path / "runs" / "x")])
    captured = capsys.readouterr()
    assert code in (0, 1, 2), captured.err
    assert "Traceback" not in captured.out + captured.err


@pytest.mark.parametrize("bad", [0.0, -5.0], ids=["zero", "negative"])
@pytest.mark.parametrize("call", ["backtest", "sweep"])
def test_traded_series_that_is_not_a_price_is_refused(bad, call):
    """A level the engine cannot trade as a price is an error naming the series."""
    good = data.load(["SPX"], start="2024-06-01", end="2025-06-30", offline=True)
    levels = good.copy()
    levels.iloc[100, 0] = bad
    with pytest.raises(BacktestError, match="'SPX'"):
        if call == "backtest":
            engine.backtest("buy_and_hold", {}, levels, series="SPX")
        else:
            engine.sweep("ma_crossover", {"fast": [5], "slow": [20]}, levels, series="SPX")
    # the unaltered frame runs
    assert np.isfinite(engine.backtest("buy_and_hold", {}, good, series="SPX").metrics["sharpe"])
