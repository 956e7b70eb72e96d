"""Parameter sets of a grid in bulk (:mod:`backtest.paramsets`) against pydantic, one by one.

Every expected value comes from validating each combination on its own, as the sweep
did before: ``strat.parse(combo)`` (valid or ``ConfigError``), the object it returns,
and ``model_dump(mode="json")`` of it for the table, built in the test by plain loops
over :func:`itertools.product` of the values written out by hand. Never from the
plan under test.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ConfigDict, Field, field_validator, model_validator

from backtest.engine import sweeps
from backtest.errors import ConfigError, StrategyError
from backtest.paramsets import grid_plan, parse_chunk
from backtest.space import Grid, parse_space
from backtest.strategy import Strategy, StrategyParams, get_strategy

#: Per built-in: a space crossing its rules between parameters (ties included), with
#: coerced values (5.0 for an int), NaN and infinity for floats, lists as values,
#: defaults left out; and the same values written out by hand.
SPACES: dict[str, tuple[dict[str, Any], dict[str, list[Any]]]] = {
    "ma_crossover": (
        {
            "fast": [3, 5.0, 10, 20],
            "slow": {"start": 5, "stop": 20, "step": 5},
            "direction": ["long", "both"],
        },
        {"fast": [3, 5.0, 10, 20], "slow": [5, 10, 15, 20], "direction": ["long", "both"]},
    ),
    "risk_off_yen": (
        {
            "threshold": [1.0, 2, math.nan, math.inf],
            "exit_threshold": {"start": 0.0, "stop": 3.0, "step": 0.5},
            "hold": {"start": 10, "stop": 1, "step": -3},
            "signal_transform": ["level", "change"],
        },
        {
            "threshold": [1.0, 2, math.nan, math.inf],
            "exit_threshold": [0.0 + i * 0.5 for i in range(7)],
            "hold": [10, 7, 4, 1],
            "signal_transform": ["level", "change"],
        },
    ),
    "bond_spread": (
        {
            "long": ["UST10Y", "JGB10Y"],
            "short": ["JGB10Y", "UST10Y", "BUND10Y"],
            "entry": [0.5, 1, 2.0],
            "exit": {"start": -1, "stop": 2, "step": 1},
            "event_categories": [None, ["boj"], ["fomc", "boj"]],
        },
        {
            "long": ["UST10Y", "JGB10Y"],
            "short": ["JGB10Y", "UST10Y", "BUND10Y"],
            "entry": [0.5, 1, 2.0],
            "exit": [-1.0, 0.0, 1.0, 2.0],
            "event_categories": [None, ["boj"], ["fomc", "boj"]],
        },
    ),
    "event_drift": (
        {
            "categories": [None, ["fomc"]],
            "hold": {"start": 1, "stop": 9, "step": 4},
            "min_move": [0, 0.5],
        },
        {"categories": [None, ["fomc"]], "hold": [1, 5, 9], "min_move": [0, 0.5]},
    ),
    "fx_carry": (
        {
            "lookback": [20, 60],
            "threshold": {"start": 0, "stop": 1, "step": 0.25},
            "avoid_events": [True, False],
        },
        {
            "lookback": [20, 60],
            "threshold": [0 + i * 0.25 for i in range(5)],
            "avoid_events": [True, False],
        },
    ),
    "rate_spread": (
        {
            "mode": ["level", "change"],
            "threshold": [None, 0.25, -1],
            "window": {"start": 2, "stop": 62, "step": 30},
        },
        {"mode": ["level", "change"], "threshold": [None, 0.25, -1], "window": [2, 32, 62]},
    ),
    "buy_and_hold": ({}, {}),
}


def product(values: dict[str, list[Any]]) -> list[dict[str, Any]]:
    keys = list(values)
    return [dict(zip(keys, c, strict=True)) for c in itertools.product(*values.values())]


def parse_or_none(strat: Strategy[Any], combo: dict[str, Any]) -> StrategyParams | None:
    try:
        return strat.parse(combo)
    except ConfigError:
        return None


def same_object(a: StrategyParams, b: StrategyParams) -> bool:
    """Equal values of the same types, the same set fields, and no shared list."""
    same_types = [type(v) for v in a.__dict__.values()] == [type(v) for v in b.__dict__.values()]
    return (
        a == b
        and same_types
        and a.model_fields_set == b.model_fields_set
        and a.__pydantic_extra__ == b.__pydantic_extra__
        and a.__pydantic_private__ == b.__pydantic_private__
    )


def nan_equal(a: Any, b: Any) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and a != a and b != b)


@pytest.mark.parametrize("name", list(SPACES))
def test_plan_decides_builds_and_tabulates_as_parse_does(name):
    strat = get_strategy(name)
    space, written = SPACES[name]
    grid = parse_space(strat.Params, space)
    plan = grid_plan(strat.Params, grid)
    assert plan is not None, "every built-in's grid is built in bulk"
    expected = [parse_or_none(strat, c) for c in product(written)]
    positions = np.arange(grid.size, dtype=np.int64)
    # Validity: valid_many (or no rule) agrees with parse on every combination.
    mask = plan.valid(positions)
    assert mask.tolist() == [p is not None for p in expected]
    assert 0 < mask.sum() <= grid.size
    if name in ("ma_crossover", "risk_off_yen", "bond_spread"):
        assert not mask.all(), "the space crosses the rule between parameters"
    # Objects: what parse returns, value types and set fields included.
    kept = positions[mask]
    built = plan.build(kept)
    parsed = [p for p in expected if p is not None]
    assert len(built) == len(parsed)
    for a, b in zip(built, parsed, strict=True):
        assert same_object(a, b) or all(
            nan_equal(x, y) for x, y in zip(a.__dict__.values(), b.__dict__.values(), strict=True)
        ), (a, b)
        assert a.model_fields_set == b.model_fields_set
    # Mutable values are each object's own (as model_validate copies them).
    for field in strat.Params.model_fields:
        values = [getattr(p, field) for p in built]
        lists = [v for v in values if isinstance(v, list)]
        assert len({id(v) for v in lists}) == len(lists)
    # Table: model_dump(mode="json") of each, into columns as the sweep built them.
    table = pd.DataFrame(plan.table(kept), index=pd.RangeIndex(len(parsed)))
    dumps = [p.model_dump(mode="json") for p in parsed]
    reference = pd.DataFrame(
        {k: [d[k] for d in dumps] for k in strat.Params.model_fields},
        index=pd.RangeIndex(len(parsed)),
    )
    pd.testing.assert_frame_equal(table, reference)
    cells = [v for column in table.columns for v in table[column] if isinstance(v, list)]
    assert len({id(v) for v in cells}) == len(cells)  # each row its own list
    # The arrays a kernel would read: each object's attributes.
    for key, column in plan.values(kept).items():
        assert all(
            nan_equal(a, getattr(p, key)) for a, p in zip(column.tolist(), parsed, strict=True)
        )


@pytest.mark.parametrize("name", ["ma_crossover", "risk_off_yen", "bond_spread"])
def test_valid_many_agrees_with_parse_on_every_combination(name):
    # The vectorised rule alone, on the fields' own values (the plan's columns aside).
    strat = get_strategy(name)
    combos = product(SPACES[name][1])
    objects = [strat.Params.model_construct(**dict(c)) for c in combos]
    columns = {
        k: np.array([getattr(o, k) for o in objects], dtype=object)
        for k in strat.Params.model_fields
    }
    typed = {
        k: v.astype(float) if isinstance(strat.Params.model_fields[k].default, float) else v
        for k, v in columns.items()
    }
    answer = strat.Params.valid_many(typed)
    assert answer is not None
    assert answer.tolist() == [parse_or_none(strat, c) is not None for c in combos]


def test_the_base_model_offers_no_vectorised_rule():
    assert StrategyParams.valid_many({"x": np.arange(3)}) is None


# The sweep's walk: the same as parse one combination at a time -------------------------


def walk_by_hand(strat: Strategy[Any], combos: list[dict[str, Any]], positions: list[int]) -> Any:
    valid, rows = [], []
    for i in positions:
        p = parse_or_none(strat, combos[i])
        if p is not None:
            valid.append(i)
            rows.append(p.model_dump(mode="json"))
    return valid, rows


@pytest.mark.parametrize("block", [3, 7, 65_536])
@pytest.mark.parametrize("name", ["ma_crossover", "risk_off_yen", "bond_spread"])
def test_walk_matches_parse_for_grids_and_random_draws(monkeypatch, name, block):
    monkeypatch.setattr(sweeps, "BLOCK", block)
    strat = get_strategy(name)
    space, written = SPACES[name]
    series = "USDJPY"
    if name == "bond_spread":  # the traded series is the long leg: one of them
        space, written = {**space, "long": "UST10Y"}, {**written, "long": ["UST10Y"]}
        series = "UST10Y"
    grid = parse_space(strat.Params, space)
    combos = product(written)
    draw = sorted(int(i) for i in np.random.default_rng(4).choice(len(combos), 11, replace=False))
    for candidates in (None, draw):
        valid, columns, first, legs = sweeps._walk(strat, grid, candidates, series)
        positions = list(range(len(combos))) if candidates is None else draw
        exp_valid, rows = walk_by_hand(strat, combos, positions)
        assert list(valid) == exp_valid
        assert first is not None and same_object(first, strat.parse(combos[exp_valid[0]]))
        table = pd.DataFrame(columns, index=pd.RangeIndex(len(valid)))
        reference = pd.DataFrame(
            {k: [r[k] for r in rows] for k in strat.Params.model_fields},
            index=pd.RangeIndex(len(valid)),
        )
        pd.testing.assert_frame_equal(table, reference)
        if name == "bond_spread":  # legs() depends on the parameters: each valid one's legs
            expected_legs = list(
                dict.fromkeys(
                    x for i in exp_valid for x in strat.legs(strat.parse(combos[i]), series)
                )
            )
            assert legs == expected_legs
        else:
            assert legs == ["USDJPY"]


def test_walk_of_a_grid_without_valid_combination_finds_none():
    strat = get_strategy("ma_crossover")
    grid = parse_space(strat.Params, {"fast": [50, 60], "slow": [20, 50]})
    valid, _, first, _ = sweeps._walk(strat, grid, None, "USDJPY")
    assert list(valid) == [] and first is None


# Chunks: positions of a grid in bulk, explicit combinations and bad positions by parse --


def test_parse_chunk_builds_takes_and_parses_the_rest():
    strat = get_strategy("ma_crossover")
    space, written = SPACES["ma_crossover"]
    grid = parse_space(strat.Params, space)
    combos = product(written)
    good = [i for i, c in enumerate(combos) if c["fast"] < c["slow"]][::3]
    got = parse_chunk(strat, grid.take(good))
    assert all(same_object(a, strat.parse(combos[i])) for a, i in zip(got, good, strict=True))
    explicit = [{"fast": 5, "slow": 50}, {"fast": 7.0, "slow": 9}]
    assert parse_chunk(strat, explicit) == [strat.parse(c) for c in explicit]
    bad = [*good[:2], combos.index({"fast": 20, "slow": 5, "direction": "long"})]
    with pytest.raises(
        ConfigError, match=r"params\.: Value error, fast must be below slow, got fast=20, slow=5"
    ):
        parse_chunk(strat, grid.take(bad))  # as strat.parse raises it
    assert parse_chunk(strat, grid.take([])) == []


# When there is no plan: each combination validated, as before ----------------------


class Checked(StrategyParams):
    a: int = Field(1, ge=0)
    b: int = 2

    @field_validator("b")
    @classmethod
    def _even(cls, v: int) -> int:
        if v % 2:
            raise ValueError("b must be even")
        return v


class RuleOnly(StrategyParams):
    a: int = 1
    b: int = 2

    @model_validator(mode="after")
    def _a_below_b(self) -> RuleOnly:
        if self.a >= self.b:
            raise ValueError("a must be below b")
        return self


class Stepped(StrategyParams):
    a: int = Field(2, multiple_of=2)


class Either(StrategyParams):
    a: int | float = 1


class Needed(StrategyParams):
    a: int
    b: int = 0


class BadRule(RuleOnly):
    @classmethod
    def valid_many(cls, columns: Any) -> Any:
        return np.ones(2, dtype=bool)  # the wrong length


@pytest.mark.parametrize(
    ("params", "space"),
    [
        pytest.param(Checked, {"a": [1, 2], "b": [2, 4]}, id="field-validator"),
        pytest.param(RuleOnly, {"a": [1, 2], "b": [2, 3]}, id="rule-without-valid-many"),
        pytest.param(Stepped, {"a": {"start": 2, "stop": 8, "step": 2}}, id="multiple-of-range"),
        pytest.param(Either, {"a": {"start": 1, "stop": 3}}, id="int-or-float-range"),
        pytest.param(Needed, {"b": [1, 2]}, id="required-field-outside-the-grid"),
        pytest.param(
            Needed, {"a": {"start": -(2**62), "stop": 2**62, "step": 2**61}}, id="past-int64"
        ),
    ],
)
def test_no_plan_where_bulk_could_differ_from_validation(params, space):
    assert grid_plan(params, parse_space(params, space)) is None


def test_a_plan_where_nothing_between_parameters_is_checked():
    assert grid_plan(Stepped, parse_space(Stepped, {"a": [2, 4]})) is not None
    assert grid_plan(Either, parse_space(Either, {"a": [1, 2.5]})) is not None
    assert grid_plan(Needed, parse_space(Needed, {"a": [1, 2]})) is not None


def test_a_valid_many_of_the_wrong_shape_is_an_error_naming_the_model():
    plan = grid_plan(BadRule, parse_space(BadRule, {"a": [1, 2, 3]}))
    assert plan is not None
    with pytest.raises(
        StrategyError, match=r"BadRule\.valid_many must return a boolean array of 3"
    ):
        plan.valid(np.arange(3, dtype=np.int64))


def test_grid_without_plan_is_walked_one_combination_at_a_time():
    class Rules(Strategy[RuleOnly]):
        name = "rules"
        Params = RuleOnly

        def positions(self, data: Any, params: RuleOnly) -> pd.Series:
            raise NotImplementedError

    strat = Rules()
    grid = parse_space(RuleOnly, {"a": [1, 2, 3], "b": [2, 3]})
    assert isinstance(grid, Grid) and grid_plan(RuleOnly, grid) is None
    valid, columns, _, _ = sweeps._walk(strat, grid, None, "X")
    assert list(valid) == [0, 1, 3]  # (1,2) (1,3) (2,3); a >= b skipped
    assert columns == {"a": [1, 1, 2], "b": [2, 3, 3]}
    assert parse_chunk(strat, grid.take([1, 3])) == [RuleOnly(a=1, b=3), RuleOnly(a=2, b=3)]


class Mixed(StrategyParams):
    either: int | float = 1
    flag: bool = False
    tags: list[str] = Field(["a"], min_length=1)
    level: float | None = None
    kind: str = "x"


def strategy_of(params: type[StrategyParams]) -> Strategy[Any]:
    class Plugin(Strategy[Any]):
        name = "plugin"
        Params = params

        def positions(self, data: Any, p: Any) -> pd.Series:
            raise NotImplementedError

    return Plugin()


@pytest.mark.parametrize(
    ("params", "space", "written"),
    [
        pytest.param(
            Mixed,
            {
                "either": [1, 2.5],
                "flag": [True, False],
                "tags": [["b"], ["c", "d"]],
                "level": [None, 1, math.inf],
            },
            {
                "either": [1, 2.5],
                "flag": [True, False],
                "tags": [["b"], ["c", "d"]],
                "level": [None, 1, math.inf],
            },
            id="unions-bools-lists-infinity",
        ),
        pytest.param(Mixed, {"kind": ["y"]}, {"kind": ["y"]}, id="defaults-only"),
        pytest.param(
            Needed,
            {"a": {"start": 3, "stop": -3, "step": -2}},
            {"a": [3, 1, -1, -3]},
            id="required",
        ),
        pytest.param(
            Mixed,
            {"level": {"start": 1, "stop": 2, "step": 0.5}},
            {"level": [1.0, 1.5, 2.0]},
            id="optional-float-range",
        ),
    ],
)
def test_plain_models_walk_and_build_as_parse_does(params, space, written):
    strat = strategy_of(params)
    grid = parse_space(params, space)
    assert grid_plan(params, grid) is not None
    combos = product(written)
    valid, columns, _, _ = sweeps._walk(strat, grid, None, "X")
    exp_valid, rows = walk_by_hand(strat, combos, list(range(len(combos))))
    assert list(valid) == exp_valid == list(range(len(combos)))
    reference = pd.DataFrame({k: [r[k] for r in rows] for k in params.model_fields})
    pd.testing.assert_frame_equal(pd.DataFrame(columns), reference)
    built = parse_chunk(strat, grid.take(exp_valid))
    for a, c in zip(built, combos, strict=True):
        assert same_object(a, strat.parse(c))
    tags = [p.__dict__.get("tags") for p in built if "tags" in p.__dict__]
    assert len({id(t) for t in tags}) == len(tags)  # each object its own list


class Loose(StrategyParams):
    model_config = ConfigDict(frozen=False, extra="allow")
    a: int = 1
    b: str = "x"


def test_unfrozen_models_with_extras_get_their_own_sets_and_extras():
    strat = strategy_of(Loose)
    grid = parse_space(Loose, {"a": [1, 2, 3]})
    built = parse_chunk(strat, grid.take([0, 1, 2]))
    parsed = [strat.parse({"a": a}) for a in (1, 2, 3)]
    assert all(same_object(x, y) for x, y in zip(built, parsed, strict=True))
    assert built[0].__pydantic_extra__ == {} and parsed[0].__pydantic_extra__ == {}
    assert len({id(p.model_fields_set) for p in built}) == 3
    assert len({id(p.__pydantic_extra__) for p in built}) == 3
    built[0].b = "y"  # an unfrozen object's set of fields grows alone
    assert built[0].model_fields_set == {"a", "b"} and built[1].model_fields_set == {"a"}


class OffByOne(RuleOnly):
    @classmethod
    def valid_many(cls, columns: Any) -> Any:
        return np.asarray(columns["a"] <= columns["b"], dtype=bool)  # the rule says a < b


def test_the_contract_check_catches_a_vectorised_rule_that_differs_from_parse():
    from backtest.testing import check_sweep_params

    check_sweep_params(
        get_strategy("ma_crossover"), [{"fast": 5, "slow": 10}, {"fast": 10, "slow": 20}]
    )
    with pytest.raises(AssertionError, match=r"valid_many accepts \{'a': 2, 'b': 2\}"):
        check_sweep_params(strategy_of(OffByOne), [{"a": 1, "b": 2}, {"a": 2, "b": 3}])
