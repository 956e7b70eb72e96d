"""Placebo (pseudo-event) studies: empirical size and p-values of the cross-event tests.

:meth:`backtest.eventstudy.EventStudyResult.placebo` draws pseudo-event dates from the
studied series' own history, matched to each real event on the weekday of day 0 and on
the pre-event volatility decile, runs them through the *same* study design (model,
windows, ``min_estimation``; one stacked run for all draws) and computes the whole test
battery of :meth:`~backtest.eventstudy.EventStudyResult.tests` on every draw, batched
over draws (one array operation per test rather than a Python loop of the battery per
draw; only the resampling test loops, over its own small resamples).

From the draws' statistics it reports, for each test and each series or group,

* the **empirical size**: the share of draws whose p-value is below 5% (and below the
  chosen ``level``): a test that holds its size rejects a true null about 5% of the
  time (Brown and Warner 1985);
* the **empirical p-value** of the observed statistic: ``(1 + count) / (1 + draws)``
  with ``count`` the draws whose ``|statistic - c|`` is at least the observed one
  (``c = 0``, except ``n (n + 1) / 4`` for the Wilcoxon signed-rank sum, whose null
  centre is not 0).

Candidate dates
---------------
A date is a candidate for series ``s`` when it is one of the series' own observations
whose whole estimation window and event window lie inside the series' data (first to
last observation with every model input), and whose event window does not overlap the
event window of any real event in that series (it is more than ``w1 - w0`` of the
series' observations away from every real day 0).

Matching
--------
``"weekday"``: the pseudo day 0 has the weekday of the real event's day 0.
``"volatility"``: its pre-event volatility (standard deviation of the series' changes,
net of the model's offset, over the estimation window before day 0) is in the same
decile, among all candidate dates of the series, as the real event's. Deciles are
``ceil(10 * share of candidates <= v) - 1`` (clipped to 0..9).

Designs (Brown and Warner 1985)
-------------------------------
``"shared"`` (default): the studied series of a draw share one pseudo date per real
event, as real announcements hit every series on the same date, so the draws keep the
cross-correlation of the real design. A shared pseudo event is a date-only event: its
day 0 in each series is the series' first observation on or after the date (as for a
real date-only event; markets closed that day react on their next session). Shared
candidates are the days observed by some series whose day 0 is a candidate in every
series; the weekday is that of the real event's most common day-0 date across its
series; the volatility score of a date is the mean over series of the volatility
percentile of its day 0 among the series' candidates, and the deciles are those of that
score among the shared candidates (a market-wide volatility decile).
``"independent"``: each series draws its own pseudo dates, matched on its own weekday
and volatility decile; the draws then have no cross-correlation.

When no candidate matches a real event on everything asked, the volatility match is
dropped for that event (then the weekday), and :attr:`PlaceboResult.notes` says so.

References
----------
Brown, S. J. and Warner, J. B. (1985), "Using daily stock returns: the case of event
studies", *Journal of Financial Economics* 14, 3-31.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, NamedTuple, get_args

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from backtest.errors import DataValidationError
from backtest.eventstudy.panel import concat_series
from backtest.eventstudy.policy import INDEPENDENCE_TESTS, TESTS

# scipy (through stats.py) is imported inside the functions that compute, so that the
# config can read this module's options without loading it.

__all__ = [
    "DEFAULT_PLACEBO_BOOTSTRAP_DRAWS",
    "DEFAULT_PLACEBO_DESIGN",
    "DEFAULT_PLACEBO_DRAWS",
    "DEFAULT_PLACEBO_MATCH",
    "PLACEBO_DESIGNS",
    "PLACEBO_MATCHES",
    "PlaceboDesign",
    "PlaceboMatch",
    "PlaceboResult",
    "Rerun",
    "pseudo_events",
    "run_placebo",
]

#: How pseudo dates are shared across series (see the module docstring).
PlaceboDesign = Literal["shared", "independent"]
PLACEBO_DESIGNS: tuple[PlaceboDesign, ...] = get_args(PlaceboDesign)
#: The real design: one announcement hits every series on the same date.
DEFAULT_PLACEBO_DESIGN: PlaceboDesign = "shared"
#: What a pseudo date is matched on.
PlaceboMatch = Literal["weekday", "volatility"]
PLACEBO_MATCHES: tuple[PlaceboMatch, ...] = get_args(PlaceboMatch)
DEFAULT_PLACEBO_MATCH: tuple[PlaceboMatch, ...] = ("weekday", "volatility")
DEFAULT_PLACEBO_DRAWS = 1000
#: Resamples of the bootstrap test inside each placebo draw (its size only needs a
#: rough p-value; the observed statistic, the CAAR, needs none).
DEFAULT_PLACEBO_BOOTSTRAP_DRAWS = 199
#: Bytes of estimation residuals held at once; draws are run in chunks below this.
_CHUNK_BYTES = 200_000_000


class Rerun(NamedTuple):
    """What :meth:`EventStudy.run` had: enough to run the same study on other dates.

    Attributes
    ----------
    study : EventStudy
        The study that ran (model, windows, ``min_estimation``, series).
    levels : pandas.DataFrame
        The levels it ran on.
    kinds, clocks : mapping or None
        The ``kinds`` and ``clocks`` it was given.
    """

    study: Any
    levels: pd.DataFrame
    kinds: Mapping[str, str] | None
    clocks: Mapping[str, Any] | None


def pseudo_events(dates: Sequence[Any] | pd.DatetimeIndex, ids: Sequence[str]) -> pd.DataFrame:
    """Date-only pseudo events (day 0 = each series' first observation on or after the date).

    Parameters
    ----------
    dates : sequence of dates
        One date per event.
    ids : sequence of str
        Event identifiers (unique).

    Returns
    -------
    pandas.DataFrame
        A canonical events frame (:data:`backtest.events.EVENT_COLUMNS`), category
        ``"pseudo"``.
    """
    days = pd.DatetimeIndex(dates).normalize().as_unit("ns")  # the canonical dtypes
    return pd.DataFrame(
        {
            "event": list(ids),
            "timestamp": days.tz_localize("America/New_York").tz_convert("UTC"),
            "timezone": "America/New_York",
            "date": days,
            "time_given": False,
            "label": list(ids),
            "category": "pseudo",
        }
    )


#: Events columns a pseudo event takes from the real event it stands in for, so that a
#: signed study (``sign_by="direction"`` or ``"surprise"``) is signed the same way.
INHERITED_COLUMNS = ("direction", "surprise")


def _inherit(pseudo: pd.DataFrame, real: pd.DataFrame, draws: int) -> pd.DataFrame:
    """`pseudo` (``draws`` x the real events, in order) with the real events' signs.

    Each pseudo event carries the ``direction`` and ``surprise`` of the real event it
    replaces, so a study signed by them is signed on the pseudo dates as on the real
    ones (a study signed by a market's reaction signs pseudo events by that market's
    own move on the pseudo date, which needs nothing from here).
    """
    out = pseudo.copy()
    for col in INHERITED_COLUMNS:
        if col in real.columns:
            out[col] = np.tile(real[col].to_numpy(), draws)
    return out


def _placebo_study(study: Any, real: pd.DataFrame) -> Any:
    """The study the pseudo events run through: the real one, except that with
    ``estimation_exclude="events"`` the real events (and the extra calendars) are the
    windows removed from estimation windows, not the other pseudo events."""
    from backtest import events as events_mod

    if study.estimation_exclude != "events":
        return study
    frames = [real[list(events_mod.EVENT_COLUMNS)]]
    if study.exclude_events is not None:
        frames.append(events_mod.from_frame(study.exclude_events)[list(events_mod.EVENT_COLUMNS)])
    return replace(
        study, exclude_own_events=False, exclude_events=pd.concat(frames, ignore_index=True)
    )


@dataclass(frozen=True)
class PlaceboResult:
    """Outcome of :meth:`EventStudyResult.placebo` (read-only).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per test and series or group: ``test, series, statistic, pvalue``
        (observed, from :meth:`EventStudyResult.tests`; the ``bootstrap`` p-value with
        ``bootstrap_draws`` resamples and ``seed``), ``empirical_pvalue``,
        ``size_5pct``, ``size`` (share of draws with p-value < ``level``),
        ``draws`` (draws with a finite statistic), ``valid, recommended`` (as
        observed).
    statistics : pandas.DataFrame
        Every draw's statistics: ``draw, test, series, n, statistic, pvalue, valid,
        recommended`` (``valid`` and ``recommended`` by the rule of
        :func:`backtest.eventstudy.policy.verdicts` applied to the draw's day-0 dates).
    dates : pandas.DataFrame
        The drawn pseudo day-0 dates: ``draw, event, series, date, weekday,
        decile`` (the real event's id; for the shared design one row per series
        with the same date).
    design, match, draws, seed, window, level, bootstrap_draws, shift_sigma
        The settings of the placebo.
    notes : tuple of str
        Matches relaxed for lack of candidates, and the candidate rule.
    """

    table: pd.DataFrame
    statistics: pd.DataFrame
    dates: pd.DataFrame
    design: str
    match: tuple[str, ...]
    draws: int
    seed: int
    window: tuple[int, int]
    level: float
    bootstrap_draws: int
    shift_sigma: float
    notes: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready record (``results.json``'s ``event_study.placebo``)."""
        cols = ["test", "series", "statistic", "pvalue", "empirical_pvalue", "size_5pct"]
        cols += ["size", "draws", "valid", "recommended"]
        rows = [
            {k: (None if _missing(v) else v) for k, v in r.items()}
            for r in self.table[cols].to_dict(orient="records")
        ]
        return {
            "design": self.design,
            "match": list(self.match),
            "draws": self.draws,
            "seed": self.seed,
            "window": list(self.window),
            "level": self.level,
            "bootstrap_draws": self.bootstrap_draws,
            "notes": list(self.notes),
            "tests": rows,
        }

    def _repr_html_(self) -> str:
        """Compact HTML for notebooks (:func:`backtest.report.notebook.placebo_html`)."""
        from backtest.report.notebook import placebo_html

        return placebo_html(self)

    def __repr__(self) -> str:
        from backtest.report.notebook import placebo_text

        return placebo_text(self)


def _missing(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


# --------------------------------------------------------------------------- dates
def _rolling_sd(values: np.ndarray, first: int, last: int) -> np.ndarray:
    """NaN-aware sample sd of ``values[t + first .. t + last]`` for every position t."""
    T = values.size
    ok = np.isfinite(values)
    v = np.where(ok, values, 0.0)
    c1 = np.concatenate([[0.0], np.cumsum(ok)])
    s1 = np.concatenate([[0.0], np.cumsum(v)])
    s2 = np.concatenate([[0.0], np.cumsum(v * v)])
    t = np.arange(T)
    lo = np.clip(t + first, 0, T)
    hi = np.clip(t + last + 1, 0, T)
    n = c1[hi] - c1[lo]
    sm = s1[hi] - s1[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        var = (s2[hi] - s2[lo] - sm * sm / n) / (n - 1)
    return np.where(n >= 2, np.sqrt(np.maximum(var, 0.0)), np.nan)


def _share_le(sorted_ref: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.searchsorted(sorted_ref, values, side="right") / max(sorted_ref.size, 1)


def _decile(share: np.ndarray) -> np.ndarray:
    return np.clip(np.ceil(10.0 * share - 1e-12) - 1, 0, 9).astype(np.int64)


@dataclass(frozen=True)
class _Pool:
    """Candidates of one series (or the shared calendar) and the real events' keys."""

    dates: np.ndarray  # (C,) datetime64[ns]
    weekday: np.ndarray  # (C,)
    decile: np.ndarray  # (C,)
    real_weekday: np.ndarray  # (E,) -1 if unknown
    real_decile: np.ndarray  # (E,)


def _series_pools(res: Any, levels: pd.DataFrame) -> tuple[list[_Pool], list[Any]]:
    """Per-series candidates, volatility shares of candidates and of real events."""
    p = res._p
    e0, e1 = res.design.estimation_window
    w0, w1 = res.design.event_window
    pools, extra = [], []
    for j, name in enumerate(res.series):
        own = levels.index[levels[name].notna().to_numpy()].values.astype("datetime64[ns]")
        n = int(p.lengths[j])
        own = own[:n]
        vol = _rolling_sd(p.target[j, :n], e0, e1)
        t = np.arange(n)
        cand = (t + e0 >= p.span[j, 0]) & (t + w1 < p.span[j, 1]) & np.isfinite(vol)
        real = p.day0_pos[:, j]
        has = (real > 0) & (real < n)
        for r in real[has]:
            cand &= np.abs(t - r) > (w1 - w0)
        c = np.flatnonzero(cand)
        if c.size == 0:
            raise DataValidationError(
                f"placebo: series {name!r} has no candidate pseudo-event date (no day whose "
                f"estimation window {res.design.estimation_window} and event window "
                f"{res.design.event_window} are in its data, away from the real events)"
            )
        ref = np.sort(vol[c])
        real_vol = np.where(has, vol[np.clip(real, 0, n - 1)], np.nan)
        real_share = np.where(has, _share_le(ref, real_vol), np.nan)
        real_dates = np.where(has, own[np.clip(real, 0, n - 1)], np.datetime64("NaT"))
        pools.append(
            _Pool(
                dates=own[c],
                weekday=pd.DatetimeIndex(own[c]).day_of_week.to_numpy(),
                decile=_decile(_share_le(ref, vol[c])),
                real_weekday=np.where(
                    has, pd.DatetimeIndex(real_dates).day_of_week.to_numpy(na_value=-1), -1
                ),
                real_decile=np.where(has, _decile(np.nan_to_num(real_share)), -1),
            )
        )
        extra.append((ref, own, vol, c, real_dates, real_share))
    return pools, extra


def _shared_pool(res: Any, extra: list[Any]) -> _Pool:
    """Shared dates: days observed by a series whose day 0 is a candidate in every series.

    As for a real date-only event, day 0 of a shared date in each series is its first
    observation on or after the date; the score is the mean over series of the
    volatility percentile of that day 0 among the series' candidates.
    """
    common = np.unique(np.concatenate([own[c] for _, own, _, c, _, _ in extra]))
    keep = np.ones(common.size, dtype=bool)
    positions = []
    for _, own, _, c, _, _ in extra:
        is_cand = np.zeros(own.size + 1, dtype=bool)
        is_cand[c] = True
        pos = np.searchsorted(own, common, side="left")
        keep &= is_cand[pos]
        positions.append(pos)
    common = common[keep]
    if common.size == 0:
        raise DataValidationError(
            "placebo: no date is a candidate in every series for the shared design; "
            "use design='independent' or fewer series"
        )
    score = np.zeros(common.size)
    for (ref, _, vol, _, _, _), pos in zip(extra, positions, strict=True):
        score += _share_le(ref, vol[pos[keep]])
    score /= len(extra)
    ref_score = np.sort(score)
    real_shares = np.stack([x[5] for x in extra], axis=1)  # (E, S)
    with np.errstate(invalid="ignore"):
        real_score = np.nanmean(np.where(np.isfinite(real_shares), real_shares, np.nan), axis=1)
    real_dates = np.stack([x[4] for x in extra], axis=1)
    real_wd = np.full(real_dates.shape[0], -1)
    for i, row in enumerate(real_dates):
        row = row[~np.isnat(row)]
        if row.size:
            vals, counts = np.unique(row, return_counts=True)
            real_wd[i] = pd.Timestamp(vals[np.argmax(counts)]).weekday()
    known = np.isfinite(real_score)
    return _Pool(
        dates=common,
        weekday=pd.DatetimeIndex(common).day_of_week.to_numpy(),
        decile=_decile(_share_le(ref_score, score)),
        real_weekday=real_wd,
        real_decile=np.where(known, _decile(_share_le(ref_score, np.nan_to_num(real_score))), -1),
    )


def _draw(
    pool: _Pool,
    match: tuple[str, ...],
    draws: int,
    rng: np.random.Generator,
    ids: list[str],
    where: str,
    notes: list[str],
) -> tuple[np.ndarray, np.ndarray]:
    """(draws, E) pseudo dates and their deciles, matched per real event."""
    E = len(ids)
    out = np.empty((draws, E), dtype="datetime64[ns]")
    dec = np.empty((draws, E), dtype=np.int64)
    chosen: dict[bytes, tuple[np.ndarray, list[int]]] = {}
    for i in range(E):
        sel = np.ones(pool.dates.size, dtype=bool)
        if pool.real_weekday[i] >= 0:
            wd_ok = pool.weekday == pool.real_weekday[i]
            vol_ok = pool.decile == pool.real_decile[i]
            if "weekday" in match:
                sel &= wd_ok
            if "volatility" in match:
                sel &= vol_ok
            if not sel.any() and "volatility" in match:
                sel = wd_ok.copy() if "weekday" in match else np.ones_like(sel)
                notes.append(f"{where}, event {ids[i]}: no candidate in its volatility decile")
            if not sel.any():
                sel = np.ones_like(sel)
                notes.append(f"{where}, event {ids[i]}: no candidate on its weekday")
        chosen.setdefault(np.packbits(sel).tobytes(), (sel, []))[1].append(i)
    for sel, events in chosen.values():
        c = np.flatnonzero(sel)
        k = len(events)
        if k <= c.size:
            # events with the same candidates get distinct dates within a draw
            pick = c[np.argsort(rng.random((draws, c.size)), axis=1)[:, :k]]
        else:
            pick = c[rng.integers(0, c.size, size=(draws, k))]
        out[:, events] = pool.dates[pick]
        dec[:, events] = pool.decile[pick]
    return out, dec


# ------------------------------------------------------------------- batched tests
def _nan_t(x: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One-sample t per row of the valid entries: (t, p, n)."""
    from scipy import stats as sps

    n = ok.sum(axis=1)
    xs = np.where(ok, x, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = xs.sum(axis=1) / n
        dev = np.where(ok, x - mean[:, None], 0.0)
        sd = np.sqrt((dev * dev).sum(axis=1) / (n - 1))
        t = mean / (sd / np.sqrt(n))
    t = np.where(n >= 2, t, np.nan)
    return t, 2.0 * sps.t.sf(np.abs(t), np.maximum(n - 1, 1)), n


def _mean_corr(x: np.ndarray) -> np.ndarray:
    """:func:`backtest.eventstudy.stats.mean_residual_correlation` of each (N, L) slice."""

    from backtest.eventstudy import stats as st

    obs = ~np.isnan(x)
    mask = obs.astype(np.float64)
    count = mask.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        row_mean = np.where(count > 0, np.where(obs, x, 0.0).sum(axis=-1) / count, 0.0)
    e = np.where(obs, x - row_mean[..., None], 0.0)
    # einsum's own loops, not BLAS: batched small products, no thread oversubscription
    n_common = np.einsum("dil,djl->dij", mask, mask)
    s_x = np.einsum("dil,djl->dij", e, mask)
    s_xx = np.einsum("dil,djl->dij", e * e, mask)
    s_xy = np.einsum("dil,djl->dij", e, e)
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = s_xy - s_x * np.swapaxes(s_x, -1, -2) / n_common
        var = s_xx - s_x * s_x / n_common
        r = cov / np.sqrt(var * np.swapaxes(var, -1, -2))
    N = x.shape[-2]
    iu = np.triu_indices(N, k=1)
    var_i, var_j = var[:, iu[0], iu[1]], np.swapaxes(var, -1, -2)[:, iu[0], iu[1]]
    sxx_i, sxx_j = s_xx[:, iu[0], iu[1]], np.swapaxes(s_xx, -1, -2)[:, iu[0], iu[1]]
    rr = r[:, iu[0], iu[1]]
    usable = (
        (n_common[:, iu[0], iu[1]] >= st.MIN_COMMON_OBS)
        & (var_i > 1e-12 * sxx_i)
        & (var_j > 1e-12 * sxx_j)
        & np.isfinite(rr)
    )
    total = np.where(usable, np.clip(np.nan_to_num(rr), -1.0, 1.0), 0.0).sum(axis=1)
    cnt = usable.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, total / cnt, np.nan)


def _day_means(a: np.ndarray) -> np.ndarray:
    valid = ~np.isnan(a)
    count = valid.sum(axis=1)
    total = np.where(valid, a, 0.0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(count > 0, total / count, np.nan)


def _battery(
    *,
    ok: np.ndarray,  # (D, N) pair enters the test
    car: np.ndarray,
    scar: np.ndarray,
    df: np.ndarray,
    resid: np.ndarray,  # (D, N, L0)
    ar_win: np.ndarray,  # (D, N, n)
    sar_win: np.ndarray,
    sigma: np.ndarray,
    dates: np.ndarray,  # (D, N)
    pooled: np.ndarray,  # (D,)
    length: int,
    kp_daily: bool,
    bootstrap_draws: int,
    seed: int,
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The battery of ``EventStudyResult._group_tests`` for D draws at once."""
    from scipy import stats as sps

    nan = np.nan
    L0 = resid.shape[2]
    okx = ok[..., None]
    resid = np.where(okx, resid, nan)
    ar_win = np.where(okx, ar_win, nan)
    sar_win = np.where(okx, sar_win, nan)
    x_pool = np.where(pooled[:, None], scar, car)
    out: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    out["csect_t"] = _nan_t(x_pool, ok)
    # Patell
    keep = ok & (df > 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.where(np.isinf(df), 1.0, df / (df - 2.0))
        z = np.where(keep, scar, 0.0).sum(axis=1) / np.sqrt(np.where(keep, var, 0.0).sum(axis=1))
    n_p = keep.sum(axis=1)
    z = np.where(n_p >= 1, z, nan)
    out["patell"] = (z, 2.0 * sps.norm.sf(np.abs(z)), n_p)
    t_bmp, p_bmp, n_b = _nan_t(scar, ok)
    out["bmp"] = (t_bmp, p_bmp, n_b)
    # Kolari-Pynnonen
    kp_rows = (
        resid
        if kp_daily or length > L0
        else sliding_window_view(resid, length, axis=-1).sum(axis=-1)
    )
    rbar = _mean_corr(np.where(okx, kp_rows, nan))
    with np.errstate(invalid="ignore", divide="ignore"):
        denom = 1.0 + (n_b - 1) * rbar
        t_kp = t_bmp * np.sqrt((1.0 - rbar) / denom)
    t_kp = np.where((n_b >= 2) & np.isfinite(rbar) & (denom > 0), t_kp, nan)
    out["kolari_pynnonen"] = (t_kp, 2.0 * sps.t.sf(np.abs(t_kp), np.maximum(n_b - 1, 1)), n_b)
    # Portfolio (crude dependence adjustment) on standardised ARs
    sar_est = resid / sigma[..., None]
    has_win = (~np.isnan(sar_win)).any(axis=-1) & ok
    pe = _day_means(np.where(has_win[..., None], sar_est, nan))
    pw = _day_means(np.where(has_win[..., None], sar_win, nan))
    ne = (~np.isnan(pe)).sum(axis=1)
    nw = (~np.isnan(pw)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        me = np.nansum(pe, axis=1) / ne
        sig = np.sqrt(np.nansum((pe - me[:, None]) ** 2, axis=1) / (ne - 1))
        t_pf = np.nansum(pw, axis=1) / (sig * np.sqrt(nw))
    n_pf = has_win.sum(axis=1)
    t_pf = np.where((n_pf >= 1) & (ne >= 2) & (sig != 0), t_pf, nan)
    out["portfolio"] = (t_pf, 2.0 * sps.t.sf(np.abs(t_pf), np.maximum(ne - 1, 1)), n_pf)
    # Bootstrap (date-clustered), batched over draws with the same shape
    out["bootstrap"] = _bootstrap(
        np.where(pooled[:, None, None], sar_est / np.sqrt(length), resid),
        np.where(pooled[:, None], scar, car),
        ok,
        dates,
        length,
        bootstrap_draws,
        seed,
    )
    # Corrado rank test
    joined = np.concatenate([resid, ar_win], axis=-1)
    has_c = (~np.isnan(ar_win)).any(axis=-1) & ok
    joined = np.where(has_c[..., None], joined, nan)
    ranks = sps.rankdata(joined, axis=-1, nan_policy="omit")
    m = (~np.isnan(joined)).sum(axis=-1)
    u = ranks / (m + 1.0)[..., None] - 0.5
    ubar = _day_means(u)
    defined = ~np.isnan(ubar)
    with np.errstate(invalid="ignore", divide="ignore"):
        s_u = np.sqrt((np.where(defined, ubar, 0.0) ** 2).sum(axis=1) / defined.sum(axis=1))
        uw = ubar[:, L0:]
        nuw = (~np.isnan(uw)).sum(axis=1)
        z_c = np.nansum(uw, axis=1) / (np.sqrt(nuw) * s_u)
    n_c = has_c.sum(axis=1)
    z_c = np.where((n_c >= 1) & (s_u > 1e-12) & np.isfinite(z_c), z_c, nan)
    out["corrado"] = (z_c, 2.0 * sps.norm.sf(np.abs(z_c)), n_c)
    # Generalised sign
    obs = ~np.isnan(resid)
    n_obs = obs.sum(axis=-1)
    keep = ok & ~np.isnan(car) & (n_obs > 0)
    n_g = keep.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = (np.where(obs, resid, 0.0) > 0).sum(axis=-1) / n_obs
        p_hat = np.where(keep, frac, 0.0).sum(axis=1) / n_g
        w = (keep & (car > 0)).sum(axis=1)
        z_g = (w - n_g * p_hat) / np.sqrt(n_g * p_hat * (1.0 - p_hat))
    z_g = np.where((n_g >= 1) & (p_hat > 0) & (p_hat < 1), z_g, nan)
    out["generalized_sign"] = (z_g, 2.0 * sps.norm.sf(np.abs(z_g)), n_g)
    out["wilcoxon"] = _wilcoxon(x_pool, ok)
    return out


def _shared_counts(dates: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Per row: tested pairs whose day-0 date an earlier pair has (policy.shared_day0_count)."""
    v = dates.astype("datetime64[ns]").astype(np.int64)
    sentinel = np.iinfo(np.int64).min + np.arange(v.shape[1])[None, :]
    v = np.sort(np.where(ok, v, sentinel), axis=1)
    return (np.diff(v, axis=1) == 0).sum(axis=1).astype(float)


def _bootstrap(
    values: np.ndarray,  # (D, N, L) estimation rows resampled
    center: np.ndarray,  # (D, N) observed CARs (or SCARs)
    ok: np.ndarray,
    dates: np.ndarray,
    n_days: int,
    draws: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`backtest.eventstudy.stats.bootstrap_caar` of every row, same numbers.

    Every row's resampling starts from ``default_rng(seed)``, so rows with the same
    number of pairs and date clusters draw the same offsets; they are computed together,
    with the same day-by-day sums as the function.
    """
    from backtest.eventstudy import stats as st

    D, _, L = values.shape
    stat, pval = np.full(D, np.nan), np.full(D, np.nan)
    keep = ok & ~np.isnan(center)
    n = keep.sum(axis=1)
    if not 1 <= n_days <= L:  # as the function: refuse, naming the lengths
        st.bootstrap_caar(values[0, :1], center[0, :1], n_days, None, draws, seed)
    groups = np.zeros(keep.shape, dtype=np.int64)
    n_groups = np.zeros(D, dtype=np.int64)
    for d in np.flatnonzero(n > 0):
        _, inv = np.unique(dates[d, keep[d]], return_inverse=True)
        groups[d, : inv.size] = inv
        n_groups[d] = inv.max() + 1
    for size, g in {(int(a), int(b)) for a, b in zip(n, n_groups, strict=True) if a > 0}:
        rows = np.flatnonzero((n == size) & (n_groups == g))
        order = np.argsort(~keep[rows], axis=1, kind="stable")[:, :size]
        e = np.take_along_axis(values[rows], order[..., None], axis=1)  # (R, N, L)
        c = np.take_along_axis(center[rows], order, axis=1)  # (R, N)
        caar = c.mean(axis=1)
        rng = np.random.default_rng(seed)
        m = rng.integers(0, L - n_days + 1, size=(draws, g))
        offsets = np.moveaxis(m[:, groups[rows, :size]], 0, 1)  # (R, B, N)
        obs = ~np.isnan(e)
        filled = np.where(obs, e, 0.0).ravel()
        obs = obs.ravel()
        # flat position of (row, pair, offset) in the (R, N, L) block
        flat = (np.arange(rows.size)[:, None, None] * size + np.arange(size)) * L + offsets
        total = np.zeros(offsets.shape)
        count = np.zeros(offsets.shape, dtype=np.int64)
        for j in range(n_days):  # loop over days, as the function
            total += filled[flat + j]
            count += obs[flat + j]
        has = count > 0
        n_has = has.sum(axis=2)
        with np.errstate(divide="ignore", invalid="ignore"):
            star = np.where(
                n_has > 0, np.where(has, total, 0.0).sum(axis=2) / n_has, np.nan
            )  # (R, B)
        finite = ~np.isnan(star)
        exceed = ((np.abs(star) >= np.abs(caar)[:, None]) & finite).sum(axis=1)
        stat[rows] = caar
        pval[rows] = (1.0 + exceed) / (1.0 + finite.sum(axis=1))
    return stat, pval, n


def _wilcoxon(x: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Signed-rank sum W+ and scipy's two-sided p-value, per row (as stats.wilcoxon)."""
    from scipy import stats as sps

    D = x.shape[0]
    nz = ok & (x != 0) & ~np.isnan(x)
    n = nz.sum(axis=1)
    ranks = sps.rankdata(np.where(nz, np.abs(x), np.nan), axis=-1, nan_policy="omit")
    w_plus = np.where(nz & (x > 0), ranks, 0.0).sum(axis=1)
    stat = np.where(n >= 1, w_plus, np.nan)
    pval = np.full(D, np.nan)
    n_ok = ok.sum(axis=1)
    # scipy picks the exact, permutation or normal p-value from the whole block (ties
    # anywhere switch every row), so rows go in blocks of one size and tie status.
    absx = np.where(nz, np.abs(x), np.nan)
    srt = np.sort(absx, axis=1)
    tied = (np.diff(srt, axis=1) == 0).any(axis=1) | (n < n_ok)
    for size in np.unique(n_ok[n >= 1]):
        for flag in (False, True):
            rows = np.flatnonzero((n_ok == size) & (n >= 1) & (tied == flag))
            if not rows.size:
                continue
            if flag and size <= 13:
                pval[rows] = _signed_rank_permutation(ranks[rows], w_plus[rows], n[rows])
                continue
            # the valid values of each row, in order, as a (rows, size) block
            order = np.argsort(~ok[rows], axis=1, kind="stable")[:, :size]
            block = np.take_along_axis(x[rows], order, axis=1)
            pval[rows] = sps.wilcoxon(
                block, zero_method="wilcox", alternative="two-sided", axis=1
            ).pvalue
    return stat, pval, n


def _signed_rank_permutation(ranks: np.ndarray, w_plus: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Two-sided p-value of W+ over all sign flips, as scipy's wilcoxon with ties (n <= 13).

    scipy then runs an exact permutation test (``permutation_test``, all ``2**n`` sign
    assignments); zeros flip to zero and leave the proportions unchanged, so the flips of
    the non-zero ranks give the same p-value, with scipy's tolerance on ties.
    """
    out = np.full(w_plus.shape, np.nan)
    for m in np.unique(n):
        rows = np.flatnonzero(n == m)
        r = ranks[rows]
        order = np.argsort(np.isnan(r), axis=1, kind="stable")[:, :m]
        r = np.take_along_axis(r, order, axis=1)  # (R, m) the non-zero ranks
        signs = (np.arange(2**m)[:, None] >> np.arange(m)[None, :]) & 1  # (2^m, m)
        null = r @ signs.T.astype(np.float64)  # (R, 2^m): exact half-integer sums
        obs = w_plus[rows][:, None]
        gamma = np.abs(np.finfo(np.float64).eps * 100 * obs)
        less = (null <= obs + gamma).sum(axis=1) / 2.0**m
        greater = (null >= obs - gamma).sum(axis=1) / 2.0**m
        out[rows] = np.clip(np.minimum(less, greater) * 2, 0.0, 1.0)
    return out


# ------------------------------------------------------------------------ the run
def run_placebo(
    res: Any,
    rerun: Rerun,
    *,
    window: tuple[int, int],
    groups: Mapping[str, Sequence[str]] | None,
    draws: int,
    match: Sequence[str],
    seed: int,
    design: str,
    level: float,
    bootstrap_draws: int,
    shift_sigma: float,
    progress: Callable[[int, int], None] | None,
) -> PlaceboResult:
    """Implementation of :meth:`EventStudyResult.placebo` (see there)."""
    if design not in PLACEBO_DESIGNS:
        raise DataValidationError(
            f"placebo: design must be one of {', '.join(PLACEBO_DESIGNS)}; got {design!r}"
        )
    match = tuple(match)
    bad = [m for m in match if m not in PLACEBO_MATCHES]
    if bad or len(set(match)) != len(match):
        raise DataValidationError(
            f"placebo: match must be distinct names among {', '.join(PLACEBO_MATCHES)}; "
            f"got {list(match)}"
        )
    if isinstance(draws, bool) or not isinstance(draws, int | np.integer) or draws < 1:
        raise DataValidationError(f"placebo: draws must be a positive integer; got {draws!r}")
    if not 0.0 < level < 1.0:
        raise DataValidationError(f"placebo: level must be in (0, 1); got {level!r}")
    start, end = window
    observed = res.tests(start, end, groups=groups, draws=bootstrap_draws, seed=seed)
    real_win = res._window(start, end)
    p = res._p
    E, S = p.included.shape
    real_ok = p.included & ~real_win.incomplete & (real_win.n > 0)
    ids = res.event_ids
    levels = rerun.levels
    rng = np.random.default_rng(seed)
    notes: list[str] = [
        "candidates: own observation days with the whole estimation and event windows in "
        "the series' data, more than "
        f"{res.design.event_window[1] - res.design.event_window[0]} observations from "
        "every real event's day 0"
    ]
    pools, extra = _series_pools(res, levels)
    if design == "shared":
        pool = _shared_pool(res, extra)
        dd, dec = _draw(pool, match, draws, rng, ids, "shared dates", notes)
        pdates = np.repeat(dd[:, :, None], S, axis=2)
        pdec = np.repeat(dec[:, :, None], S, axis=2)
    else:
        pdates = np.empty((draws, E, S), dtype="datetime64[ns]")
        pdec = np.empty((draws, E, S), dtype=np.int64)
        for j, name in enumerate(res.series):
            pdates[:, :, j], pdec[:, :, j] = _draw(
                pools[j], match, draws, rng, ids, f"series {name}", notes
            )
    # one stacked run per chunk of draws
    L0 = p.rel_est.size
    per_draw = max(E * S * L0 * 8 * 3, 1)
    chunk = max(1, min(draws, _CHUNK_BYTES // per_draw))
    member_sets = res._members(groups, "placebo")
    stats_rows: dict[tuple[str, str], list[np.ndarray]] = {}
    study = _placebo_study(rerun.study, res.events)
    n_chunks = -(-draws // chunk)
    for c in range(n_chunks):
        lo, hi = c * chunk, min(draws, (c + 1) * chunk)
        Dc = hi - lo
        cids = [f"p{d}_{i}" for d in range(lo, hi) for i in range(E)]
        if design == "shared":
            ev = _inherit(pseudo_events(pdates[lo:hi, :, 0].ravel(), cids), res.events, Dc)
            sub = replace(study, series=tuple(res.series)).run(
                levels, ev, kinds=rerun.kinds, clocks=rerun.clocks
            )
            panel = sub._p
        else:
            parts = []
            for j, name in enumerate(res.series):
                ev = _inherit(pseudo_events(pdates[lo:hi, :, j].ravel(), cids), res.events, Dc)
                one = replace(study, series=(name,)).run(
                    levels, ev, kinds=rerun.kinds, clocks=rerun.clocks
                )
                parts.append(one._p)
            panel = concat_series(parts)
        stacked = type(res)(
            design=res.design,
            events=pseudo_events(pdates[lo:hi, :, 0].ravel(), cids),
            series=res.series,
            units=res.units,
            kinds=res._kinds,
            panel=panel,
            provenance={},
        )
        win = stacked._window(start, end)
        resid_all = stacked._resid.reshape(Dc, E, S, L0)
        pp = panel
        k = pp.k
        mask = win.mask
        ar_all = pp.abnormal.reshape(Dc, E, S, -1)
        sigma_all = np.sqrt(pp.sigma2.reshape(Dc, E, S))
        if shift_sigma:
            zero = int(np.flatnonzero(pp.rel_win == 0)[0])
            ar_all = ar_all.copy()
            ar_all[..., zero] += shift_sigma * sigma_all
        ok_all = (
            pp.included.reshape(Dc, E, S)
            & ~win.incomplete.reshape(Dc, E, S)
            & (win.n.reshape(Dc, E, S) > 0)
            & real_ok[None]
        )
        car_all = np.where(mask, np.nan_to_num(ar_all, nan=0.0), 0.0).sum(axis=-1)
        sd_all = np.sqrt(win.var_car.reshape(Dc, E, S))
        with np.errstate(invalid="ignore", divide="ignore"):
            scar_all = car_all / sd_all
            sar_all = ar_all / np.sqrt(pp.var_ar.reshape(Dc, E, S, -1))
        df_all = (pp.nobs - k).reshape(Dc, E, S).astype(float)
        dates_all = pp.day0_date.reshape(Dc, E, S)
        for gname, cols in member_sets:

            def pick(a: np.ndarray, cols: list[int] = cols) -> np.ndarray:
                # member-major order, as EventStudyResult._group_tests
                sel = a[:, :, cols]
                return np.swapaxes(sel, 1, 2).reshape(a.shape[0], len(cols) * E, *a.shape[3:])

            ok = pick(ok_all)
            scol = np.repeat(np.array(cols), E)[None, :]
            pooled = np.array(
                [len(set(scol[0, ok[d]].tolist())) > 1 for d in range(Dc)], dtype=bool
            )
            out = _battery(
                ok=ok,
                car=pick(car_all),
                scar=pick(scar_all),
                df=pick(df_all),
                resid=pick(resid_all),
                ar_win=pick(ar_all)[..., mask],
                sar_win=pick(sar_all)[..., mask],
                sigma=pick(sigma_all),
                dates=pick(dates_all),
                pooled=pooled,
                length=int(mask.sum()),
                kp_daily=res.design.kp_correlation == "daily",
                bootstrap_draws=bootstrap_draws,
                seed=seed,
            )
            shared = _shared_counts(pick(dates_all), ok)
            for test, (stat, pval, n) in out.items():
                stats_rows.setdefault((test, gname), []).append(
                    np.stack([stat, pval, n.astype(float), shared])
                )
        if progress is not None:
            progress(c + 1, n_chunks)
    return _assemble(
        observed,
        stats_rows,
        member_sets,
        pdates,
        pdec,
        ids,
        res.series,
        design=design,
        match=match,
        draws=draws,
        seed=seed,
        window=(start, end),
        level=level,
        bootstrap_draws=bootstrap_draws,
        shift_sigma=shift_sigma,
        notes=notes,
    )


def _assemble(
    observed: pd.DataFrame,
    stats_rows: dict[tuple[str, str], list[np.ndarray]],
    member_sets: list[tuple[str, list[int]]],
    pdates: np.ndarray,
    pdec: np.ndarray,
    ids: list[str],
    series: tuple[str, ...],
    **settings: Any,
) -> PlaceboResult:

    from backtest.eventstudy import stats as st

    level = settings["level"]
    draws = settings["draws"]
    long_parts, rows = [], []
    obs = observed.set_index(["test", "series"])
    for gname, _ in member_sets:
        for test in TESTS:
            stat, pval, n, shared = np.concatenate(stats_rows[(test, gname)], axis=1)
            long_parts.append(
                pd.DataFrame(
                    {
                        "draw": np.arange(draws),
                        "test": test,
                        "series": gname,
                        "n": n.astype(np.int64),
                        "statistic": stat,
                        "pvalue": pval,
                        "valid": ~((shared > 0) & (test in INDEPENDENCE_TESTS)),
                        "recommended": np.where(shared > 0, "kolari_pynnonen", "bmp") == test,
                    }
                )
            )
            if (test, gname) not in obs.index:
                continue
            o = obs.loc[(test, gname)]
            finite = np.isfinite(stat)
            centre = n * (n + 1) / 4.0 if test == "wilcoxon" else np.zeros_like(stat)
            o_centre = o["n"] * (o["n"] + 1) / 4.0 if test == "wilcoxon" else 0.0
            o_dev = abs(float(o["statistic"]) - o_centre)
            dev = np.abs(stat - centre)
            count = int((dev[finite] >= o_dev - st.tie_tolerance(o_dev)).sum())
            nd = int(finite.sum())
            pf = pval[np.isfinite(pval)]
            rows.append(
                {
                    "test": test,
                    "series": gname,
                    "statistic": float(o["statistic"]),
                    "pvalue": float(o["pvalue"]),
                    "empirical_pvalue": (1.0 + count) / (1.0 + nd)
                    if nd and np.isfinite(o["statistic"])
                    else float("nan"),
                    "size_5pct": float(np.mean(pf < 0.05)) if pf.size else float("nan"),
                    "size": float(np.mean(pf < level)) if pf.size else float("nan"),
                    "draws": nd,
                    "valid": bool(o["valid"]),
                    "recommended": bool(o["recommended"]),
                }
            )
    D, E, S = pdates.shape
    d, i, s = np.meshgrid(np.arange(D), np.arange(E), np.arange(S), indexing="ij")
    dates = pd.DataFrame(
        {
            "draw": d.ravel(),
            "event": np.array(ids, dtype=object)[i.ravel()].astype(str),
            "series": np.array(series, dtype=object)[s.ravel()].astype(str),
            "date": pdates.ravel(),
        }
    )
    dates["weekday"] = dates["date"].dt.day_of_week
    dates["decile"] = pdec.ravel()
    return PlaceboResult(
        table=pd.DataFrame(rows),
        statistics=pd.concat(long_parts, ignore_index=True),
        dates=dates,
        design=settings["design"],
        match=tuple(settings["match"]),
        draws=draws,
        seed=settings["seed"],
        window=settings["window"],
        level=level,
        bootstrap_draws=settings["bootstrap_draws"],
        shift_sigma=settings["shift_sigma"],
        notes=tuple(dict.fromkeys(settings["notes"])),
    )
