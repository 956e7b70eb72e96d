"""Which cross-event test to trust: validity, the recommended test and its notes.

:meth:`backtest.eventstudy.EventStudyResult.tests` runs the whole battery
:data:`TESTS` on every series and group; this module decides, from the events'
day-0 dates alone, which of those tests the design allows (``valid``), which one to
report (``recommended``) and the note that says why. The statistics themselves are
in :mod:`backtest.eventstudy.stats`.

The rule: events that share a day-0 date (one announcement, many markets; or two
announcements on one day) are not cross-sectionally independent. Tests that assume
independence (:data:`INDEPENDENCE_TESTS`) then over-reject and are marked invalid;
the clustering-robust ones (``kolari_pynnonen``, ``portfolio`` and the
date-clustered ``bootstrap``) stay valid. Without shared dates ``bmp`` is
recommended, with them ``kolari_pynnonen``: the choices whose size held in the
Brown-Warner simulation on the snapshot (benchmarks/README.md).

References
----------
Boehmer, E., Musumeci, J. and Poulsen, A. B. (1991), "Event-study methodology under
conditions of event-induced variance", *Journal of Financial Economics* 30, 253-272.

Kolari, J. W. and Pynnönen, S. (2010), "Event study testing with cross-sectional
correlation of abnormal returns", *Review of Financial Studies* 23, 3996-4025.
"""

from __future__ import annotations

from typing import Literal, NamedTuple, get_args

import numpy as np

__all__ = [
    "DEFAULT_DRAWS",
    "DEFAULT_KP_CORRELATION",
    "INDEPENDENCE_TESTS",
    "KP_CORRELATIONS",
    "KP_LABELS",
    "TESTS",
    "KPCorrelation",
    "TestName",
    "Verdict",
    "join_notes",
    "recommended_test",
    "shared_day0_count",
    "verdicts",
    "verdicts_without_data",
]

#: Name of a cross-event test of the battery.
TestName = Literal[
    "csect_t",
    "patell",
    "bmp",
    "kolari_pynnonen",
    "portfolio",
    "bootstrap",
    "corrado",
    "generalized_sign",
    "wilcoxon",
]
#: Cross-event tests of the battery, in the order they are reported; defined once
#: (:data:`TestName`) and reused in validation and messages.
TESTS: tuple[TestName, ...] = get_args(TestName)
#: Resampling draws of the bootstrap test unless told otherwise.
DEFAULT_DRAWS = 9999
#: Residuals whose mean pairwise correlation the Kolari-Pynnönen test corrects for:
#: ``"sums"``, of n-day sums of estimation residuals (n = CAR window length; this
#: project's default, which sees a one-session lead or lag between markets that close
#: at different hours), or ``"daily"``, of daily residuals (Kolari and Pynnönen 2010).
KPCorrelation = Literal["sums", "daily"]
KP_CORRELATIONS: tuple[KPCorrelation, ...] = get_args(KPCorrelation)
DEFAULT_KP_CORRELATION: KPCorrelation = "sums"
#: Label of each variant in tables and reports.
KP_LABELS: dict[str, str] = {
    "sums": "Kolari–Pynnönen (correlation of n-day sums)",
    "daily": "Kolari–Pynnönen (correlation of daily residuals)",
}
#: Tests that assume events are cross-sectionally independent.
INDEPENDENCE_TESTS = frozenset(
    {"csect_t", "patell", "bmp", "corrado", "generalized_sign", "wilcoxon"}
)


class Verdict(NamedTuple):
    """What the design allows for one test of the battery.

    Attributes
    ----------
    valid : bool
        False when the design breaks the test's assumptions.
    recommended : bool
        True for the one test of the battery to report.
    note : str
        Why (empty when nothing needs saying).
    """

    valid: bool
    recommended: bool
    note: str


def shared_day0_count(day0_dates: np.ndarray) -> int:
    """Number of events whose day-0 date an earlier event already has.

    Parameters
    ----------
    day0_dates : numpy.ndarray
        ``(N,)`` day-0 dates of the tested (event, series) pairs.

    Returns
    -------
    int
        ``N`` minus the number of distinct dates; 0 when every date is distinct.

    Examples
    --------
    >>> d = np.array(["2025-04-03", "2025-04-03", "2025-04-10"], dtype="datetime64[D]")
    >>> shared_day0_count(d)
    1
    """
    return int(len(day0_dates) - len(np.unique(day0_dates)))


def recommended_test(n_shared: int) -> str:
    """The test to report: ``kolari_pynnonen`` if events share dates, else ``bmp``.

    Parameters
    ----------
    n_shared : int
        :func:`shared_day0_count` of the tested pairs.

    Returns
    -------
    str
        A name in :data:`TESTS`.
    """
    return "kolari_pynnonen" if n_shared > 0 else "bmp"


def join_notes(*notes: str) -> str:
    """Join the non-empty notes with ``"; "``.

    Examples
    --------
    >>> join_notes("a", "", "b")
    'a; b'
    """
    return "; ".join(n for n in notes if n)


def verdicts(
    day0_dates: np.ndarray,
    *,
    mean_residual_correlation: float,
    left_out: str = "",
) -> dict[str, Verdict]:
    """Validity, recommendation and note of every test, for one tested set of pairs.

    Parameters
    ----------
    day0_dates : numpy.ndarray
        ``(N,)`` day-0 dates of the tested (event, series) pairs.
    mean_residual_correlation : float
        Mean pairwise correlation of the pairs' estimation residuals
        (:func:`backtest.eventstudy.stats.mean_residual_correlation`), shown in the
        note of ``kolari_pynnonen``, whose statistic corrects for it.
    left_out : str
        Note on pairs left out of the tests (incomplete windows), appended to every
        test's note; empty if none.

    Returns
    -------
    dict of str to Verdict
        One entry per name of :data:`TESTS`, in that order.

    Notes
    -----
    With ``n`` of ``N`` events sharing a day-0 date (:func:`shared_day0_count`),
    every test in :data:`INDEPENDENCE_TESTS` is invalid when ``n > 0``. The
    recommended test and every invalid one carry the reason (``"n of N events share
    a day-0 date: ..."`` or ``"no shared day-0 dates"``).

    Examples
    --------
    >>> d = np.array(["2025-04-03", "2025-04-03"], dtype="datetime64[D]")
    >>> v = verdicts(d, mean_residual_correlation=0.25)
    >>> v["bmp"].valid, v["kolari_pynnonen"].recommended
    (False, True)
    >>> v["bmp"].note
    '1 of 2 events share a day-0 date: tests assuming independent events over-reject'
    >>> v["kolari_pynnonen"].note.endswith("; mean residual correlation 0.250")
    True
    """
    n_shared = shared_day0_count(day0_dates)
    clustered = n_shared > 0
    recommended = recommended_test(n_shared)
    why = (
        f"{n_shared} of {len(day0_dates)} events share a day-0 date: tests assuming "
        "independent events over-reject"
        if clustered
        else "no shared day-0 dates"
    )
    out: dict[str, Verdict] = {}
    for test in TESTS:
        valid = not (clustered and test in INDEPENDENCE_TESTS)
        note = why if (test == recommended or not valid) else ""
        if test == "kolari_pynnonen":
            note = join_notes(note, f"mean residual correlation {mean_residual_correlation:.3f}")
        out[test] = Verdict(
            valid=valid, recommended=test == recommended, note=join_notes(note, left_out)
        )
    return out


def verdicts_without_data(left_out: str) -> dict[str, Verdict]:
    """Verdicts when no pair has a complete window: nothing is valid.

    Parameters
    ----------
    left_out : str
        Note on the pairs left out (their windows are incomplete).

    Returns
    -------
    dict of str to Verdict
        One entry per name of :data:`TESTS`: invalid, ``bmp`` recommended (no dates
        to share), note ``"no complete window: <left_out>"``.
    """
    recommended = recommended_test(0)
    return {
        test: Verdict(
            valid=False, recommended=test == recommended, note=f"no complete window: {left_out}"
        )
        for test in TESTS
    }
