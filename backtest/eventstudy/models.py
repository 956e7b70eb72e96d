"""Models of normal behaviour, and their batched estimation over events x series.

Every model is written as ``y_t = offset_t + x_t' beta + e_t`` with ``k`` regressors
``x_t`` estimated by OLS over the estimation window:

=================  ===================  ==============  ===
model              regressors x_t        offset_t        k
=================  ===================  ==============  ===
``raw``            none                 0               0
``constant_mean``  1                    0               1
``market``         1, r_m,t             0               2
``market_adjusted`` none                r_m,t           0
``factor``         1, f_1,t ... f_F,t   0               1+F
``garch``          1                    0               1
=================  ===================  ==============  ===

``garch`` is laid out as ``constant_mean`` (same usable days and exclusions), then
re-estimated per pair as a constant mean with GARCH(1,1) errors by maximum likelihood
(:mod:`backtest.eventstudy.garch`): its ARs are standardised by the conditional
variance forecast, not by ``s^2``.

The residual variance is ``s^2 = SSR / (L - k)`` over the ``L`` usable estimation
days (for ``raw`` and ``market_adjusted``, nothing is estimated and ``s^2`` is the mean
squared abnormal change). The variance of an event-day prediction error includes the
estimation error of ``beta`` (MacKinlay 1997, eq. 9)::

    Var(AR_t) = s^2 * (1 + x_t' (X'X)^{-1} x_t)

and, for a cumulative window of ``n`` days with ``x_sum`` the sum of their regressors,
``Var(CAR) = s^2 * (n + x_sum' (X'X)^{-1} x_sum)``. With the market model these are
MacKinlay's ``s^2 (1 + 1/L + (r_m,t - mean r_m)^2 / sum (r_m - mean r_m)^2)``.

References
----------
MacKinlay, A. C. (1997). Event studies in economics and finance. *Journal of
Economic Literature*, 35(1), 13-39.
"""

from __future__ import annotations

from typing import Literal, NamedTuple, get_args

import numpy as np

__all__ = [
    "DEFAULT_MODEL",
    "MARKET_MODELS",
    "MODELS",
    "Fit",
    "ModelName",
    "design",
    "fit_sums",
    "fit_windows",
    "moments",
    "n_params",
    "window_sums",
]

ModelName = Literal["raw", "constant_mean", "market", "market_adjusted", "factor", "garch"]
#: The models of normal behaviour, defined once and reused in validation and messages.
MODELS: tuple[str, ...] = get_args(ModelName)
#: The default model of both :class:`~backtest.eventstudy.EventStudy` and a config's
#: ``event_study.model``: zero expected change. The project's series are yields in
#: basis points, FX and indices over daily windows, where zero is the natural benchmark
#: and an estimated mean adds estimation noise without power (Brown and Warner 1985).
DEFAULT_MODEL: ModelName = "raw"
#: Models that need a market series.
MARKET_MODELS: tuple[ModelName, ...] = ("market", "market_adjusted")


def n_params(model: str, n_factors: int) -> int:
    """Return ``k``, the number of estimated coefficients of `model`."""
    return {"raw": 0, "market_adjusted": 0, "constant_mean": 1, "market": 2, "garch": 1}.get(
        model, 1 + n_factors
    )


def design(model: str, regressors: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """Split aligned regressor series into `model`'s estimated part and offset.

    Parameters
    ----------
    model : str
        One of :data:`MODELS`.
    regressors : numpy.ndarray
        ``(F, ...)`` market (F=1) or factor changes aligned to each series'
        observations.

    Returns
    -------
    X : numpy.ndarray
        ``(F', ...)`` the non-constant regressors the model estimates (market or
        factors; none for ``raw``, ``constant_mean`` and ``market_adjusted``).
    offset : numpy.ndarray
        ``(...)`` the part of normal change that is not estimated (the market for
        ``market_adjusted``, else zero).
    constant : bool
        Whether the model has an intercept.
    """
    shape = regressors.shape[1:]
    none = np.zeros((0, *shape))
    zero = np.zeros(shape)
    if model == "raw":
        return none, zero, False
    if model in ("constant_mean", "garch"):  # garch: re-estimated afterwards (garch.py)
        return none, zero, True
    if model == "market_adjusted":
        return none, regressors[0], False
    return regressors, zero, True  # market, factor


class Fit(NamedTuple):
    """OLS fits over the estimation windows of many (event, series) pairs.

    Attributes
    ----------
    beta : numpy.ndarray
        ``(..., k)`` coefficients (intercept first where the model has one).
    xtx_inv : numpy.ndarray
        ``(..., k, k)`` inverse of ``X'X`` over the usable estimation days.
    sigma2 : numpy.ndarray
        ``(...)`` residual variance ``SSR / (L - k)``.
    nobs : numpy.ndarray
        ``(...)`` usable estimation days ``L``.
    ok : numpy.ndarray
        ``(...)`` whether the fit is defined (enough days, full-rank ``X``).
    """

    beta: np.ndarray
    xtx_inv: np.ndarray
    sigma2: np.ndarray
    nobs: np.ndarray
    ok: np.ndarray


def moments(target: np.ndarray, planes: np.ndarray, constant: bool) -> np.ndarray:
    """Prefix sums of the cross products OLS needs, along each series' observations.

    Parameters
    ----------
    target : numpy.ndarray
        ``(S, T)`` changes minus offset, NaN where unusable.
    planes : numpy.ndarray
        ``(F, S, T)`` non-constant regressors, NaN where missing.
    constant : bool
        Whether the model has an intercept.

    Returns
    -------
    numpy.ndarray
        ``(m, S, T + 1)`` cumulative sums (a leading zero) of, in order: the
        usable-day indicator, the ``k (k + 1) / 2`` products ``x_i x_j`` (``i >= j``)
        of the regressors ``x = (1, planes)``, the ``k`` products ``x_i t`` and ``t^2``.
        The sums over any window are two lookups, so the cost of fitting every
        (event, series) pair does not grow with the estimation window.
    """
    S, T = target.shape
    out = np.empty((_n_moments(planes.shape[0] + int(constant)), S, T + 1))
    _prefix_sums(target, planes, constant, out, np.empty((S, T)))
    return out


def window_sums(
    target: np.ndarray,
    planes: np.ndarray,
    constant: bool,
    start: np.ndarray,
    stop: np.ndarray,
    *,
    block: int = 8,
    usable: np.ndarray | None = None,
) -> np.ndarray:
    """Sums over the windows ``[start, stop)`` of the cross products of :func:`moments`.

    The same numbers as differencing :func:`moments` at `stop` and `start`, computed
    `block` series at a time, so that only one block's prefix sums are in memory (a
    run's fixed cost is mostly memory first touched, not arithmetic). The sums of the
    regressors alone (the usable-day count and ``x_i x_j``) are computed once for
    series that share their usable days and regressors (series on one calendar
    with one market, say), with the same operations, so they are the same numbers.

    Parameters
    ----------
    target, planes, constant
        As in :func:`moments`.
    start, stop : numpy.ndarray
        ``(E, S)`` window bounds in each series' observations (clipped to its data).
    block : int
        Series per block.
    usable : numpy.ndarray, optional
        ``(S, T)`` the caller's ``isfinite(target) & isfinite(planes).all(axis=0)``
        (computed here if not given).

    Returns
    -------
    numpy.ndarray
        ``(E, S, m)``: the window sums :func:`fit_sums` solves.
    """
    S, T = target.shape
    k = planes.shape[0] + int(constant)
    m = _n_moments(k)
    r = 1 + k * (k + 1) // 2  # moments of the regressors alone come first
    if usable is None:
        usable = np.isfinite(target) & np.isfinite(planes).all(axis=0)
    sums = np.empty((*start.shape, m))
    into = np.moveaxis(sums, -1, 0)  # (m, E, S) view
    b = max(1, min(block, S))
    out, work = np.empty((max(r, m - r), b, T + 1)), np.empty((b, T))
    reps, group = _distinct_rows(usable, planes)
    for a in range(0, len(reps), b):
        n = min(b, len(reps) - a)
        part = out[:r, :n]
        first = reps[a : a + n]
        xs = np.where(usable[first], planes[:, first], 0.0)  # 0 on unusable days
        _regressor_prefix(usable[first], xs, constant, part, work)
        members = np.flatnonzero((group >= a) & (group < a + n))
        row = (group[members] - a)[None, :]
        lo, hi = start[:, members], stop[:, members]
        into[:r, :, members] = part[:, row, hi] - part[:, row, lo]
    for a in range(0, S, b):
        n = min(b, S - a)
        part = out[: m - r, :n]
        cut = slice(a, a + n)
        xs = np.where(usable[cut], planes[:, cut], 0.0)
        _target_prefix(target[cut], usable[cut], xs, constant, part, work[:n])
        s_idx = np.arange(n)[None, :]
        lo, hi = start[:, cut], stop[:, cut]
        np.subtract(part[:, s_idx, hi], part[:, s_idx, lo], out=into[r:, :, cut])
    return sums


def _distinct_rows(
    usable: np.ndarray, planes: np.ndarray, rounds: int = 8
) -> tuple[list[int], np.ndarray]:
    """Series whose usable days and regressors are equal bit for bit (so are the
    regressors set to 0 on unusable days, and every sum of them).

    Returns the first series of each distinct row and, per series, the position of
    its row in that list. Rows are compared with the first series not yet matched,
    `rounds` times; the series left after that keep a row of their own.
    """
    S = len(usable)
    bits = np.ascontiguousarray(planes).view(np.uint64)  # bits, not values: -0.0 != 0.0
    group = np.full(S, -1, dtype=np.int64)
    reps: list[int] = []
    left = np.arange(S)
    for _ in range(rounds):
        if not len(left):
            break
        ref = int(left[0])
        rows = slice(None) if len(left) == S else left  # all series: no copies
        same = (usable[rows] == usable[ref]).all(axis=1)
        same &= (bits[:, rows] == bits[:, ref, None]).all(axis=(0, 2))
        group[left[same]] = len(reps)
        reps.append(ref)
        left = left[~same]
    group[left] = np.arange(len(reps), len(reps) + len(left))
    reps.extend(int(s) for s in left)
    return reps, group


def _n_moments(k: int) -> int:
    """Number of prefix-summed columns for `k` coefficients (see :func:`moments`)."""
    return 1 + k * (k + 1) // 2 + k + 1


def _cumsum_into(values: np.ndarray, out: np.ndarray) -> None:
    """``out[:, 0] = 0`` and ``out[:, 1:]`` the cumulative sums of `values` (float64)."""
    out[:, 0] = 0.0
    np.cumsum(values, axis=1, dtype=np.float64, out=out[:, 1:])


def _regressor_prefix(
    usable: np.ndarray, xs: np.ndarray, constant: bool, out: np.ndarray, work: np.ndarray
) -> None:
    """The first ``1 + k (k + 1) / 2`` columns of :func:`moments` (usable-day count and
    ``x_i x_j``) into `out`, from `xs` the regressors set to 0 on unusable days.

    `work` is ``(>= S, T)`` scratch. A product with the intercept's column (1 on usable
    days, else 0) equals the other factor exactly (both are 0 on unusable days), so it
    is summed without multiplying; ``1 x 1`` repeats the indicator's sums.
    """
    n = len(usable)
    cols: list[np.ndarray | None] = ([None] if constant else []) + list(xs)
    _cumsum_into(usable, out[0])
    c = 1
    for i, a in enumerate(cols):
        for b in cols[: i + 1]:
            if a is None:  # 1 x 1: the indicator again
                out[c] = out[0]
            elif b is None:
                _cumsum_into(a, out[c])
            else:
                _cumsum_into(np.multiply(a, b, out=work[:n]), out[c])
            c += 1


def _target_prefix(
    target: np.ndarray,
    usable: np.ndarray,
    xs: np.ndarray,
    constant: bool,
    out: np.ndarray,
    work: np.ndarray,
) -> None:
    """The last ``k + 1`` columns of :func:`moments` (``x_i t`` and ``t^2``) into `out`."""
    t = np.where(usable, target, 0.0)
    cols: list[np.ndarray | None] = ([None] if constant else []) + list(xs)
    for c, a in enumerate(cols):
        _cumsum_into(t if a is None else np.multiply(a, t, out=work), out[c])
    _cumsum_into(np.multiply(t, t, out=work), out[len(cols)])


def _prefix_sums(
    target: np.ndarray, planes: np.ndarray, constant: bool, out: np.ndarray, work: np.ndarray
) -> None:
    """Write :func:`moments` of `target` and `planes` into `out` (``(m, S, T + 1)``).

    `work` is ``(S, T)`` scratch.
    """
    usable = np.isfinite(target) & np.isfinite(planes).all(axis=0)
    xs = np.where(usable, planes, 0.0)
    r = 1 + (planes.shape[0] + int(constant)) * (planes.shape[0] + int(constant) + 1) // 2
    _regressor_prefix(usable, xs, constant, out[:r], work)
    _target_prefix(target, usable, xs, constant, out[r:], work)


def fit_windows(prefix: np.ndarray, start: np.ndarray, stop: np.ndarray, k: int) -> Fit:
    """OLS over the windows ``[start, stop)`` of each series, from :func:`moments`.

    Parameters
    ----------
    prefix : numpy.ndarray
        ``(m, S, T + 1)`` output of :func:`moments`.
    start, stop : numpy.ndarray
        ``(E, S)`` window bounds in each series' observations (clipped to its data).
    k : int
        Number of coefficients.

    Returns
    -------
    Fit
        As :func:`fit_sums`.
    """
    S = prefix.shape[1]
    s_idx = np.arange(S)[None, :]
    return fit_sums(np.moveaxis(prefix[:, s_idx, stop] - prefix[:, s_idx, start], 0, -1), k)


def fit_sums(sums: np.ndarray, k: int) -> Fit:
    """OLS of many (event, series) pairs from their window sums.

    Parameters
    ----------
    sums : numpy.ndarray
        ``(E, S, m)`` sums over each pair's estimation window of the columns of
        :func:`moments` (:func:`window_sums`).
    k : int
        Number of coefficients.

    Returns
    -------
    Fit
        With ``(E, S, ...)`` arrays; undefined fits (too few days, rank-deficient
        ``X'X``) have ``ok = False`` and NaN estimates.

    Notes
    -----
    ``beta = (X'X)^{-1} X't`` and ``SSR = t't - beta' X't`` from the window sums; the
    residual variance is ``SSR / (L - k)``.
    """
    nobs = np.rint(sums[..., 0]).astype(np.int64)
    ok = nobs > k
    shape = sums.shape[:-1]
    xtx = np.empty((*shape, k, k))
    c = 1
    for i in range(k):
        for j in range(i + 1):
            xtx[..., i, j] = xtx[..., j, i] = sums[..., c]
            c += 1
    xty = sums[..., c : c + k]
    tt = sums[..., c + k]
    if k:
        xtx_inv, full_rank = _inverse(xtx)
        ok &= full_rank
        beta = np.einsum("...ij,...j->...i", xtx_inv, xty)
        ssr = tt - np.einsum("...i,...i->...", beta, xty)
    else:
        xtx_inv = xtx
        beta = xty
        ssr = tt
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma2 = np.where(ok, np.maximum(ssr, 0.0) / (nobs - k), np.nan)
    beta = np.where(ok[..., None], beta, np.nan)
    xtx_inv = np.where(ok[..., None, None], xtx_inv, np.nan)
    return Fit(beta, xtx_inv, sigma2, nobs, ok)


def _inverse(xtx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverses of stacked symmetric PSD matrices and whether each has full rank.

    Closed forms for 1x1 and 2x2 (every model but ``factor``), which are much faster
    than LAPACK on many tiny matrices; a matrix counts as singular when its smallest
    eigenvalue is below 1e-12 times its largest.
    """
    k = xtx.shape[-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        if k == 1:
            a = xtx[..., 0, 0]
            full = a > 0
            return np.where(full, 1.0 / a, np.nan)[..., None, None], full
        if k == 2:
            a, b, d = xtx[..., 0, 0], xtx[..., 0, 1], xtx[..., 1, 1]
            det = a * d - b * b
            tr = a + d
            # eigenvalues l1 <= l2: l1 * l2 = det, l2 <= tr, so l1 >= det / tr
            full = (det > 1e-12 * tr * tr) & (tr > 0)
            inv = np.stack([np.stack([d, -b], -1), np.stack([-b, a], -1)], -2)
            return np.where(full[..., None, None], inv / det[..., None, None], np.nan), full
    eig = np.linalg.eigvalsh(xtx)
    full = eig[..., 0] > eig[..., -1] * 1e-12
    safe = np.where(full[..., None, None], xtx, np.eye(k))
    return np.linalg.inv(safe), full
