"""Validation folds: which bars train and which test, for a split or walk-forward.

The allowed methods and the fold defaults are defined here once; :func:`validation_folds`,
:func:`backtest.engine.validate` and :func:`backtest.engine.out_of_sample` read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args

from backtest.errors import ConfigError

__all__ = [
    "DEFAULT_METHOD",
    "DEFAULT_TEST_BARS",
    "DEFAULT_TRAIN_BARS",
    "DEFAULT_TRAIN_FRACTION",
    "Fold",
    "ValidationMethod",
    "validation_folds",
    "validation_spec",
]

#: How the bars are split: one train/test split, or rolling walk-forward folds.
ValidationMethod = Literal["train_test", "walk_forward"]
DEFAULT_METHOD: ValidationMethod = "train_test"
#: Share of bars in the training sample of a train/test split.
DEFAULT_TRAIN_FRACTION = 0.7
#: Walk-forward fold lengths in bars (three years of training, one of testing).
DEFAULT_TRAIN_BARS = 756
DEFAULT_TEST_BARS = 252

#: ``(train_start, train_end, test_start, test_end)`` bar positions, ends exclusive.
Fold = tuple[int, int, int, int]

_SPEC_KEYS = ("method", "train_fraction", "train_bars", "test_bars")


def validation_folds(
    n_bars: int,
    method: ValidationMethod = DEFAULT_METHOD,
    train_fraction: float = DEFAULT_TRAIN_FRACTION,
    train_bars: int = DEFAULT_TRAIN_BARS,
    test_bars: int = DEFAULT_TEST_BARS,
) -> list[Fold]:
    """Bar positions of train/test or walk-forward folds.

    Parameters
    ----------
    n_bars : int
        Bars of the traded series.
    method, train_fraction, train_bars, test_bars
        As in :func:`backtest.engine.validate`.

    Returns
    -------
    list of (int, int, int, int)
        ``(train_start, train_end, test_start, test_end)`` per fold, ends exclusive.

    Raises
    ------
    ConfigError
        If the split does not fit the bars.

    Examples
    --------
    >>> validation_folds(10, "train_test", train_fraction=0.7)
    [(0, 7, 7, 10)]
    >>> validation_folds(10, "walk_forward", train_bars=4, test_bars=3)
    [(0, 4, 4, 7), (3, 7, 7, 10)]
    """
    n = n_bars
    if method == "train_test":
        if not 0.0 < train_fraction < 1.0:
            raise ConfigError(f"validation.train_fraction must be in (0, 1), got {train_fraction}")
        cut = int(n * train_fraction)
        return [(0, cut, cut, n)]
    if method != "walk_forward":
        allowed = " or ".join(repr(m) for m in get_args(ValidationMethod))
        raise ConfigError(f"validation.method must be {allowed}, got {method!r}")
    if train_bars < 2 or test_bars < 2 or train_bars + test_bars > n:
        raise ConfigError(
            f"validation: train_bars={train_bars} + test_bars={test_bars} must fit in {n} bars"
        )
    return [
        (s, s + train_bars, s + train_bars, min(s + train_bars + test_bars, n))
        for s in range(0, n - train_bars - 1, test_bars)
        if s + train_bars < n
    ]


def validation_spec(validation: Mapping[str, Any] | None) -> dict[str, Any]:
    """The `validation` settings of a sweep, checked; :func:`validation_folds` fills in
    its own defaults for the ones not given.

    Raises
    ------
    ConfigError
        An unknown setting, naming the ones accepted.
    """
    if not validation:
        return {}
    unknown = sorted(set(validation) - set(_SPEC_KEYS))
    if unknown:
        raise ConfigError(
            f"sweep validation: unknown settings {unknown}; expected {list(_SPEC_KEYS)}"
        )
    return dict(validation)
