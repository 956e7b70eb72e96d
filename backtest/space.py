"""Parameter spaces of a sweep: checked value by value, counted, generated lazily.

A sweep space maps each parameter of a strategy to its values, written as

* a scalar: one fixed value (``direction: both``);
* a list: the values (``fast: [5, 10, 20]``);
* a range ``{start, stop, step}``: ``start, start + step, ...`` up to ``stop``
  inclusive (``step`` defaults to 1; a negative step counts down);

or, from Python, as explicit combinations (a list of mappings). :func:`parse_space`
checks every value against the strategy's ``Params`` field before anything runs, so a
value of the wrong type (``fast: [five, 10]``), a fractional step of an integer
parameter or a step of 0 is an error naming the field (``sweep.fast[0]``), never a
combination silently skipped. Only combinations that break a rule *between*
parameters (``fast >= slow``) are skipped, and counted.

The Cartesian product is never built: :class:`Grid` knows its size from the lengths
of its axes, and produces the combination at any position on demand, in the order of
:func:`itertools.product` (the last parameter varies fastest). Sweeps larger than
``max_combinations`` (default :data:`DEFAULT_MAX_COMBINATIONS`) are refused with the
count and how to raise the limit.
"""

from __future__ import annotations

import itertools
import math
import re
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from backtest.errors import ConfigError
from backtest.strategy import StrategyParams

__all__ = [
    "DEFAULT_MAX_COMBINATIONS",
    "DEFAULT_SWEEP_METHOD",
    "FloatRange",
    "Grid",
    "SweepMethod",
    "Take",
    "check_count",
    "parse_space",
]

#: How a sweep picks combinations: all of them, or a seeded random sample.
SweepMethod = Literal["grid", "random"]
DEFAULT_SWEEP_METHOD: SweepMethod = "grid"

#: Most combinations a sweep runs unless told otherwise (``max_combinations``). A
#: sweep's table holds one row per combination (~120 bytes of metrics each) and its
#: work grows with the count: five million of ten years of daily bars is about a day
#: of one core. Random sampling (``method: random``) counts its samples.
DEFAULT_MAX_COMBINATIONS = 5_000_000

_RANGE_KEYS = ("start", "stop", "step")


class FloatRange(Sequence[float]):
    """``start + i * step`` for ``i < count``: the values of a float parameter's range.

    A lazy sequence (nothing is materialised), used by :class:`Grid` and by
    :func:`backtest.engine.grid`.

    Parameters
    ----------
    start, step : float
        First value and increment.
    count : int
        Number of values.

    Examples
    --------
    >>> list(FloatRange(0.5, 0.25, 3))
    [0.5, 0.75, 1.0]
    """

    def __init__(self, start: float, step: float, count: int) -> None:
        self.start, self.step, self.n = start, step, count

    def __len__(self) -> int:
        return self.n

    @typing.overload
    def __getitem__(self, i: int) -> float: ...
    @typing.overload
    def __getitem__(self, i: slice) -> Sequence[float]: ...
    def __getitem__(self, i: int | slice) -> float | Sequence[float]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self.n))]
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(i)
        return self.start + i * self.step

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FloatRange) and (self.start, self.step, self.n) == (
            other.start,
            other.step,
            other.n,
        )

    def __hash__(self) -> int:
        return hash((self.start, self.step, self.n))

    def __repr__(self) -> str:
        return f"FloatRange({self.start!r}, {self.step!r}, {self.n})"


@dataclass(frozen=True, eq=False)
class Grid(Sequence[dict[str, Any]]):
    """The Cartesian product of parameter values, without building it.

    Attributes
    ----------
    keys : tuple of str
        Parameter names, in the order given.
    axes : tuple of sequences
        Each parameter's values (lists, or lazy ranges).

    Examples
    --------
    >>> g = Grid(("fast", "slow"), ([5, 10], range(50, 70, 10)))
    >>> g.size, g[3], list(g)[:2]
    (4, {'fast': 10, 'slow': 60}, [{'fast': 5, 'slow': 50}, {'fast': 5, 'slow': 60}])
    """

    keys: tuple[str, ...]
    axes: tuple[Sequence[Any], ...]

    @property
    def size(self) -> int:
        """Number of combinations (an exact Python int, however large)."""
        return math.prod(len(a) for a in self.axes)

    def __len__(self) -> int:
        return self.size

    @typing.overload
    def __getitem__(self, i: int) -> dict[str, Any]: ...
    @typing.overload
    def __getitem__(self, i: slice) -> Sequence[dict[str, Any]]: ...
    def __getitem__(self, i: int | slice) -> dict[str, Any] | Sequence[dict[str, Any]]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self.size))]
        size = self.size
        if i < 0:
            i += size
        if not 0 <= i < size:
            raise IndexError(i)
        values = []
        for axis in reversed(self.axes):  # the last parameter varies fastest
            i, r = divmod(i, len(axis))
            values.append(axis[r])
        return dict(zip(self.keys, reversed(values), strict=True))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        keys = self.keys
        for combo in itertools.product(*self.axes):
            yield dict(zip(keys, combo, strict=True))

    def take(self, positions: Sequence[int]) -> Take:
        """The combinations at `positions`, as a small picklable lazy sequence."""
        return Take(self, tuple(map(int, positions)))


@dataclass(frozen=True)
class Take(Sequence[dict[str, Any]]):
    """Some combinations of a grid, by position (what one sweep chunk carries).

    Attributes
    ----------
    grid : Grid
        The space.
    positions : tuple of int
        Positions of the combinations in `grid`.
    """

    grid: Grid
    positions: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.positions)

    @typing.overload
    def __getitem__(self, i: int) -> dict[str, Any]: ...
    @typing.overload
    def __getitem__(self, i: slice) -> Sequence[dict[str, Any]]: ...
    def __getitem__(self, i: int | slice) -> dict[str, Any] | Sequence[dict[str, Any]]:
        if isinstance(i, slice):
            return [self.grid[p] for p in self.positions[i]]
        return self.grid[self.positions[i]]


Space = Grid | tuple[Mapping[str, Any], ...]


def parse_space(
    params: type[StrategyParams],
    space: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    where: str = "sweep",
) -> Space:
    """Check a sweep space against a strategy's ``Params`` and return it, lazily.

    Parameters
    ----------
    params : type
        The strategy's ``Params`` model.
    space : mapping or sequence of mappings
        Values per parameter (scalar, list or ``{start, stop, step}`` range), or
        explicit combinations.
    where : str
        Name of the space in messages (``"sweep"``, ``"configs/x.yaml:
        strategies[1].sweep"``).

    Returns
    -------
    Grid or tuple of mappings
        A :class:`Grid` for a mapping; the combinations as a tuple otherwise.

    Raises
    ------
    backtest.errors.ConfigError
        An unknown parameter; a value its field refuses (wrong type, out of bounds);
        an empty list or range; a repeated value; a range with unknown keys, without
        start or stop, with step 0, a non-numeric parameter, or a fractional value
        of an integer parameter. The message names the place (``sweep.fast[0]``),
        the value and what the field accepts.

    Examples
    --------
    >>> from pydantic import Field
    >>> class P(StrategyParams):
    ...     fast: int = Field(20, ge=1)
    ...     slow: int = 50
    >>> parse_space(P, {"fast": [5, 10], "slow": {"start": 50, "stop": 70, "step": 10}}).size
    6
    >>> parse_space(P, {"fast": ["five", 10]})
    Traceback (most recent call last):
    ...
    backtest.errors.ConfigError: sweep.fast[0]: Input should be a valid integer, unable to parse string as an integer (got 'five'); fast is int (ge=1)
    """  # noqa: E501
    if isinstance(space, Mapping):
        keys, axes = [], []
        for key, spec in space.items():
            _known(params, key, f"{where}.{key}")
            keys.append(str(key))
            axes.append(_axis(params, str(key), spec, f"{where}.{key}"))
        return Grid(tuple(keys), tuple(axes))
    if isinstance(space, str | bytes) or not isinstance(space, Sequence):
        raise ConfigError(
            f"{where}: expected a mapping of parameter values or a list of combinations, "
            f"got {type(space).__name__}"
        )
    combos = tuple(space)
    for i, combo in enumerate(combos):
        if not isinstance(combo, Mapping):
            raise ConfigError(f"{where}[{i}]: a combination must be a mapping, got {combo!r}")
        for key, value in combo.items():
            _known(params, key, f"{where}[{i}].{key}")
            _check_value(params, str(key), value, f"{where}[{i}].{key}")
    return combos


def check_count(
    count: int, limit: int | None, *, where: str = "sweep", limit_name: str = "max_combinations="
) -> None:
    """Refuse a sweep of more than `limit` combinations (None: no limit).

    Raises
    ------
    backtest.errors.ConfigError
        With the count, the limit and how to raise it.
    """
    if limit is not None and count > limit:
        raise ConfigError(
            f"{where}: {count:,} parameter combinations, more than the limit of {limit:,}; "
            "narrow the sweep, draw a sample (method 'random' with samples), or raise the "
            f"limit ({limit_name})"
        )


def _known(params: type[StrategyParams], key: object, where: str) -> None:
    if key not in params.model_fields:
        raise ConfigError(
            f"{where}: unknown parameter; parameters: {', '.join(params.model_fields) or 'none'}"
        )


def _axis(params: type[StrategyParams], key: str, spec: Any, where: str) -> Sequence[Any]:
    if isinstance(spec, Mapping):
        return _range(params, key, spec, where)
    if isinstance(spec, list | tuple):
        if not spec:
            raise ConfigError(f"{where}: empty list of values; give at least one")
        seen: dict[Any, int] = {}
        for i, value in enumerate(spec):
            checked = _check_value(params, key, value, f"{where}[{i}]")
            try:
                first = seen.setdefault(_hashable(checked), i)
            except TypeError:
                continue
            if first != i:
                raise ConfigError(
                    f"{where}[{i}]: {value!r} repeats {where}[{first}]; each value once "
                    "(a repeated trial would count twice in the deflated Sharpe ratio)"
                )
        return list(spec)
    _check_value(params, key, spec, where)
    return [spec]


def _hashable(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, Mapping):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, StrategyParams):
        return _hashable(value.model_dump())
    return value


def _range(
    params: type[StrategyParams], key: str, spec: Mapping[str, Any], where: str
) -> Sequence[Any]:
    unknown = [k for k in spec if k not in _RANGE_KEYS]
    if unknown:
        raise ConfigError(
            f"{where}.{unknown[0]}: unknown key of a range; a range is "
            "{start: a, stop: b, step: s} (step optional, default 1)"
        )
    missing = [k for k in ("start", "stop") if k not in spec]
    if missing:
        raise ConfigError(f"{where}: a range needs start and stop (and optional step)")
    kind = _numeric_kind(params.model_fields[key].annotation)
    if kind is None:
        raise ConfigError(
            f"{where}: {key} is {_type_name(params, key)}, not a number; list its values "
            "instead of a range"
        )
    ends = {k: spec[k] for k in _RANGE_KEYS if k in spec}
    for k, value in ends.items():
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value):
            raise ConfigError(f"{where}.{k}: expected a number, got {value!r}")
        if kind == "int" and not (isinstance(value, int) or float(value).is_integer()):
            raise ConfigError(
                f"{where}.{k}: {value!r} is not a whole number, and {key} is an integer "
                "parameter; values would be dropped"
            )
    start, stop, step = spec["start"], spec["stop"], spec.get("step", 1)
    if step == 0:
        raise ConfigError(f"{where}.step: must not be 0 (got {step!r})")
    axis: Sequence[Any]
    if kind == "int":
        start, stop, step = int(start), int(stop), int(step)
        axis = range(start, stop + (1 if step > 0 else -1), step)
    else:
        count = math.floor((stop - start) / step + 1e-9) + 1
        axis = FloatRange(start, step, max(count, 0))
    try:
        empty = len(axis) == 0
    except OverflowError:  # more values than an index can count
        raise ConfigError(f"{where}: the range has more than 2**63 values") from None
    if empty:
        raise ConfigError(
            f"{where}: the range from {start!r} to {stop!r} by {step!r} is empty; "
            "stop must be reached from start in steps of step"
        )
    _check_value(params, key, axis[0], f"{where}.start")
    _check_value(params, key, axis[-1], f"{where} (last value {axis[-1]!r})")
    return axis


def _check_value(params: type[StrategyParams], key: str, value: Any, where: str) -> Any:
    """`value` as the field `key` of `params` reads it, or an error naming `where`.

    The model is built with this one value (others at their defaults), and only the
    field's own errors count: rules between parameters (``fast < slow``) are left to
    the combinations.
    """
    if isinstance(value, bool) and not _accepts_bool(params.model_fields[key].annotation):
        raise ConfigError(f"{where}: expected {_type_name(params, key)}, got {value!r}")
    try:
        model = params.model_validate({key: value})
    except ValidationError as exc:
        own = [e for e in exc.errors() if tuple(e["loc"][:1]) == (key,)]
        if own:
            raise ConfigError(
                f"{where}: {own[0]['msg']} (got {value!r}); {key} is {_type_name(params, key)}"
            ) from None
        return value
    return getattr(model, key)


def _members(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for a in typing.get_args(annotation) for m in _members(a)]
    return [annotation]


def _numeric_kind(annotation: Any) -> Literal["int", "float"] | None:
    members = [m for m in _members(annotation) if m is not type(None)]
    if not members or any(m not in (int, float) for m in members):
        return None
    return "float" if float in members else "int"


def _accepts_bool(annotation: Any) -> bool:
    return any(m is bool or m is Any for m in _members(annotation))


def _type_name(params: type[StrategyParams], key: str) -> str:
    field = params.model_fields[key]
    ann = field.annotation
    text = ann.__name__ if isinstance(ann, type) else str(ann)
    bounds = [re.sub(r"^\w+\((.*)\)$", r"\1", str(m)) for m in field.metadata]
    return text.replace("typing.", "") + (f" ({', '.join(bounds)})" if bounds else "")
