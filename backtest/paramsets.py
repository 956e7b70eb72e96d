"""Parameter sets of a sweep grid in bulk: checked, tabulated and built with numpy.

:func:`backtest.space.parse_space` checks every value of a grid against its field
once. What remains per combination is the rules *between* parameters (``fast <
slow``) and building the parameter objects. Validating each combination with pydantic
costs ~10 us, more than the simulation of a daily series; a :class:`GridPlan` does the
same work for blocks of positions at once:

* the values of each field at many positions of the grid, by mixed-radix decoding of
  the positions (the last parameter varies fastest) and numpy indexing of each axis's
  values, coerced once as the field stores them;
* which of them pass the rules between parameters, from the model's vectorised
  :meth:`~backtest.strategy.StrategyParams.valid_many`;
* the sweep table's columns (each value as ``model_dump(mode="json")`` writes it);
* the parameter objects themselves, made without validating again (every value has
  been validated, the rules checked).

A plan exists only where it gives exactly what validating each combination gives
(:func:`grid_plan` says when); otherwise the sweep validates one combination at a
time, as :meth:`backtest.strategy.Strategy.parse` does.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import functools
import gc
import itertools
import types
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import annotated_types
import numpy as np
from pydantic import BaseModel, ValidationError, create_model

from backtest.errors import StrategyError
from backtest.space import FloatRange, Grid, Take
from backtest.strategy import Strategy, StrategyParams

__all__ = ["BLOCK", "GridPlan", "grid_plan", "parse_chunk"]

#: Positions of a grid handled together (numpy arrays of this length per field).
BLOCK = 65_536

_MAX_INDEX = 2**63 - 1
_MONOTONE = (annotated_types.Ge, annotated_types.Gt, annotated_types.Le, annotated_types.Lt)
_IMMUTABLE = (type(None), bool, int, float, complex, str, bytes)
_slot = BaseModel.__dict__  # pydantic's instance slots, set as model_construct sets them
_SET_DICT = _slot["__dict__"].__set__
_SET_FIELDS = _slot["__pydantic_fields_set__"].__set__
_SET_EXTRA = _slot["__pydantic_extra__"].__set__
_SET_PRIVATE = _slot["__pydantic_private__"].__set__


@dataclass(frozen=True)
class _Field:
    """One field's values over the positions of a grid.

    A list axis (or a default: one value) holds its values coerced as the field
    stores them, and their JSON form; a range holds ``start + i * step``.
    """

    key: str
    axis: int | None  # position in the grid's axes; None: the field's default
    values: np.ndarray | None = None  # list axis or default: coerced values
    json: np.ndarray | None = None  # their model_dump(mode="json") form
    start: int | float = 0  # range axis: start + i * step
    step: int | float = 1
    kind: str = ""  # range axis: "int" or "float"
    mutable: bool = False  # each object needs its own copy of the value

    def take(self, codes: np.ndarray | None, n: int, *, json: bool = False) -> np.ndarray:
        """Values (or JSON values) at axis positions `codes` (None: a default, `n` times)."""
        if codes is None:
            source = self.json if json else self.values
            assert source is not None
            return np.repeat(source, n)
        if self.kind:
            prod = codes * self.step if isinstance(self.step, int) else codes * float(self.step)
            out = prod + self.start
            return out.astype(np.float64) if self.kind == "float" else out
        source = self.json if json else self.values
        assert source is not None
        return source[codes]


@dataclass(frozen=True, eq=False)
class GridPlan:
    """Rules, table columns and parameter objects of a grid's positions, in bulk.

    Made by :func:`grid_plan` only where the result is exactly what validating each
    combination gives (:meth:`backtest.strategy.Strategy.parse`).

    Attributes
    ----------
    params : type
        The strategy's ``Params`` model.
    grid : Grid
        The space.
    fields : tuple
        Every field of `params`, in the model's order.
    rules : bool
        The model has rules between parameters (checked by its ``valid_many``).
    """

    params: type[StrategyParams]
    grid: Grid
    fields: tuple[_Field, ...]
    rules: bool

    def _codes(self, positions: np.ndarray) -> list[np.ndarray]:
        """Each axis's value index at `positions` (mixed radix, last axis fastest)."""
        axes = self.grid.axes
        out: list[np.ndarray] = [positions] * len(axes)
        rest = positions
        for j in range(len(axes) - 1, 0, -1):
            rest, out[j] = np.divmod(rest, len(axes[j]))
        if axes:
            out[0] = rest
        return out

    def _columns(self, positions: np.ndarray, *, json: bool) -> dict[str, np.ndarray]:
        codes = self._codes(positions)
        n = len(positions)
        return {
            f.key: f.take(None if f.axis is None else codes[f.axis], n, json=json)
            for f in self.fields
        }

    def values(self, positions: np.ndarray) -> dict[str, np.ndarray]:
        """Every field's values at `positions`, one array per field (what ``valid_many``
        reads): int64, float64 or bool where every value of the field is that type,
        else object. For a kernel that reads parameters as arrays, without objects."""
        return self._columns(positions, json=False)

    def valid(self, positions: np.ndarray) -> np.ndarray:
        """Which `positions` pass the model's rules between parameters (boolean array).

        Raises
        ------
        backtest.errors.StrategyError
            ``valid_many`` returned something other than one boolean per position.
        """
        n = len(positions)
        if not self.rules:
            return np.ones(n, dtype=bool)
        mask = self.params.valid_many(self._columns(positions, json=False))
        out = np.asarray(mask)
        if mask is None or out.shape != (n,) or out.dtype != np.bool_:
            raise StrategyError(
                f"{self.params.__qualname__}.valid_many must return a boolean array of "
                f"{n} values (one per parameter set), got {_describe(mask)}"
            )
        return out

    def table(self, positions: np.ndarray) -> dict[str, Any]:
        """Table columns at `positions`: each value as ``model_dump(mode="json")`` gives it.

        Numeric columns are numpy arrays; others lists of Python objects, so that
        pandas infers the same dtypes as from the values one combination at a time.
        """
        codes, n = self._codes(positions), len(positions)
        out: dict[str, Any] = {}
        for f in self.fields:
            if f.axis is None and f.json is not None and f.json.dtype == object:
                column: Any = [f.json[0]] * n  # a default: one value, n times
            else:
                column = f.take(None if f.axis is None else codes[f.axis], n, json=True)
                column = column.tolist() if column.dtype == object else column
            if f.mutable:  # each row its own list, as model_dump gives
                column = [copy.deepcopy(v) for v in column]
            out[f.key] = column
        return out

    def build(self, positions: np.ndarray) -> list[StrategyParams]:
        """The parameter objects at `positions`, without validating them again.

        Only for positions that pass :meth:`valid`: the objects are what
        ``Params.model_validate`` returns for them (same values, types and set fields).
        """
        columns = self._columns(positions, json=False)
        names = list(columns)
        values = [columns[k].tolist() for k in names]
        for j, f in enumerate(self.fields):
            if f.mutable:
                values[j] = [copy.deepcopy(v) for v in values[j]]
        cls = self.params
        if not names:  # a model without fields: one object per position
            return [cls.model_validate({}) for _ in range(len(positions))]
        n = len(positions)
        repeat = itertools.repeat
        dicts = map(dict, map(zip, repeat(names), zip(*values, strict=True)))
        given = set(self.grid.keys)
        # A frozen model never changes its set of fields (model_copy copies it first),
        # so its objects can share one; otherwise each gets its own.
        sets = repeat(given, n) if cls.model_config.get("frozen") else map(set, repeat(given, n))
        extras: Iterator[dict[str, Any] | None] = repeat(None, n)
        if cls.model_config.get("extra") == "allow":  # model_validate gives each its own {}
            extras = ({} for _ in range(n))
        with _gc_paused():  # each step a loop in C (map), drained by a zero-length deque
            out: list[StrategyParams] = list(map(cls.__new__, repeat(cls, n)))
            collections.deque(map(_SET_DICT, out, dicts), maxlen=0)
            collections.deque(map(_SET_FIELDS, out, sets), maxlen=0)
            collections.deque(map(_SET_EXTRA, out, extras), maxlen=0)
            collections.deque(map(_SET_PRIVATE, out, repeat(None, n)), maxlen=0)
        return out


def grid_plan(params: type[StrategyParams], grid: Grid) -> GridPlan | None:
    """A :class:`GridPlan` of `grid` for `params`, or None where it could differ.

    A plan is made when building objects without validation gives what validation
    gives: the model has no field validators, no ``before``/``wrap`` model validators,
    no serializers or computed fields, no aliases, private attributes or
    ``model_post_init``, and every field outside the grid has a default that is not
    validated; a model with ``after`` validators (rules between parameters) offers
    :meth:`~backtest.strategy.StrategyParams.valid_many`; each range axis is of an
    ``int`` or ``float`` field with only bounds (``ge``, ``gt``, ``le``, ``lt``), so
    that the checked first and last values bound all of them.

    Plans are cached per (``Params``, grid).

    Returns
    -------
    GridPlan or None
    """
    try:
        return _plan(params, grid)
    except Exception:  # a model pydantic cannot copy or dump field by field: no plan
        return None


@functools.lru_cache(maxsize=16)
def _plan(params: type[StrategyParams], grid: Grid) -> GridPlan | None:
    if grid.size > _MAX_INDEX or not _plain(params):
        return None
    rules = bool(params.__pydantic_decorators__.model_validators)
    if rules and not _offers_valid_many(params):
        return None
    shadow = _fields_only(params)
    axis_of = {key: j for j, key in enumerate(grid.keys)}
    fields = []
    for key, info in params.model_fields.items():
        j = axis_of.get(key)
        if j is None:
            if info.is_required() or info.validate_default:
                return None
            try:
                default = info.get_default(call_default_factory=True, validated_data={})
            except TypeError:
                return None
            field = _listed(shadow, key, None, [default], validate=False)
        else:
            axis = grid.axes[j]
            if isinstance(axis, range | FloatRange):
                field = _ranged(params, key, j, axis)
            else:
                field = _listed(shadow, key, j, list(axis), validate=True)
        if field is None:
            return None
        fields.append(field)
    return GridPlan(params, grid, tuple(fields), rules)


def parse_chunk(strat: Strategy[Any], combos: Sequence[Any]) -> list[StrategyParams]:
    """The parameter objects of a sweep chunk: ``[strat.parse(c) for c in combos]``, fast.

    Positions of a grid (:meth:`backtest.space.Grid.take`) are built in bulk by the
    grid's :class:`GridPlan` where there is one; explicit combinations, and positions
    breaking a rule between parameters, go through :meth:`Strategy.parse` (which
    raises the same errors as before).

    Parameters
    ----------
    strat : Strategy
        The strategy.
    combos : sequence
        Parameter sets or mappings, or a :class:`backtest.space.Take` of a grid.

    Returns
    -------
    list of StrategyParams
    """
    if isinstance(combos, Take) and combos.positions:
        plan = grid_plan(strat.Params, combos.grid)
        if plan is not None:
            positions = np.array(combos.positions, dtype=np.int64)
            ok = plan.valid(positions)
            if ok.all():
                return plan.build(positions)
    return [strat.parse(c) for c in combos]


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while many acyclic objects are made.

    Building thousands of objects triggers collections that traverse every object
    alive, most of the cost of building them; none of them can be part of a cycle.
    The collector is switched back on afterwards if it was on.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


# When a plan is exact ----------------------------------------------------------------


def _plain(params: type[StrategyParams]) -> bool:
    """No validation step that a plan would skip, and nothing per object to set up."""
    dec = params.__pydantic_decorators__
    if dec.field_validators or dec.root_validators or dec.field_serializers:
        return False
    if dec.model_serializers or dec.computed_fields:
        return False
    if any(v.info.mode != "after" for v in dec.model_validators.values()):
        return False
    if params.__private_attributes__ or params.__pydantic_post_init__ is not None:
        return False
    if params.model_config.get("validate_default"):
        return False
    return all(f.alias is None and f.validation_alias is None for f in params.model_fields.values())


def _offers_valid_many(params: type[StrategyParams]) -> bool:
    """``valid_many`` overridden, and answering (not None) for an empty block."""
    own = getattr(params.valid_many, "__func__", None)
    if own is getattr(StrategyParams.valid_many, "__func__", None):
        return False
    empty = {k: np.empty(0, dtype=object) for k in params.model_fields}
    try:
        return params.valid_many(empty) is not None
    except Exception:  # cannot answer for an empty block: validate one at a time
        return False


@functools.cache
def _fields_only(params: type[StrategyParams]) -> type[BaseModel]:
    """A model with the fields and config of `params` and none of its validators.

    Reads a value as the field does (``5.0`` -> ``5`` for an int), whatever the
    rules between parameters say of the other fields' defaults. Only for models
    without field validators (:func:`_plain`).
    """
    fields: dict[str, Any] = {k: (f.annotation, f) for k, f in params.model_fields.items()}
    return create_model(f"{params.__name__}Fields", __config__=params.model_config, **fields)


def _listed(
    shadow: type[BaseModel], key: str, axis: int | None, values: list[Any], *, validate: bool
) -> _Field | None:
    """A list axis (or a default): its values coerced by the field, and their JSON."""
    coerced, dumped = [], []
    for value in values:
        if validate:
            try:
                value = getattr(shadow.model_validate({key: value}), key)
            except ValidationError:
                return None
        coerced.append(value)
        one = shadow.model_construct(**{key: value})
        dumped.append(one.model_dump(mode="json", include={key})[key])
    mutable = any(not _immutable(v) for v in coerced)
    return _Field(key, axis, values=_array(coerced), json=_array(dumped), mutable=mutable)


def _ranged(params: type[StrategyParams], key: str, axis: int, values: Any) -> _Field | None:
    """A range of an int or float field whose constraints are bounds only."""
    info = params.model_fields[key]
    members = {m for m in _members(info.annotation) if m is not type(None)}
    if not all(isinstance(m, _MONOTONE) for m in info.metadata):
        return None
    whole = [v for v in (values.start, values.step) if isinstance(v, int)]
    if whole and abs(values.start) + abs(values.step) * len(values) >= 2**62:
        return None  # whole-number arithmetic past int64: Python's ints would differ
    if isinstance(values, range) and members == {int}:
        return _Field(key, axis, start=values.start, step=values.step, kind="int")
    if isinstance(values, FloatRange) and members == {float}:
        return _Field(key, axis, start=values.start, step=values.step, kind="float")
    return None


def _members(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for a in typing.get_args(annotation) for m in _members(a)]
    return [annotation]


def _immutable(value: Any) -> bool:
    if isinstance(value, tuple | frozenset):
        return all(_immutable(v) for v in value)
    return type(value) in _IMMUTABLE


def _array(values: list[Any]) -> np.ndarray:
    """Values as a numpy array: int64, float64 or bool when all are exactly that type
    (so that ``tolist`` gives them back), else object."""
    kinds = {type(v) for v in values}
    if kinds == {int} and all(-(2**63) <= v < 2**63 for v in values):
        return np.array(values, dtype=np.int64)
    if kinds == {float}:
        return np.array(values, dtype=np.float64)
    if kinds == {bool}:
        return np.array(values, dtype=bool)
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):  # one by one: a list value stays one element
        out[i] = value
    return out


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    return repr(value) if value is None else type(value).__name__
