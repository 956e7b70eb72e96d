"""The abnormal-volatility tables of the report (``event_study.volatility`` of results.json).

Shared by ``summary.md`` (:mod:`backtest.report.markdown`) and ``report.html``
(:mod:`backtest.report.html`): plain-text rows here, each renderer draws its tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backtest.report.formatting import number, pvalue, window_text
from backtest.report.tables import escape, table

__all__ = ["CAPTION", "cross_section_rows", "html_section", "ratio_rows"]

#: What the tables show, in one paragraph (plain text).
CAPTION = (
    "Did the variance of the changes rise (or fall) around the events? SAR = abnormal "
    "change / its forecast standard deviation (model garch: the conditional variance "
    "forecast from the end of the estimation window). Per event: VR = mean SAR^2 over "
    "the window, n VR ~ chi2(n) (garch) or VR ~ F(n, L-k) (OLS models) without "
    "event-induced variance; two-sided p. Per series and group: Savickas (2003)-style "
    "cross-sectional t test that the mean of VR / its null mean is 1, over the pairs "
    "(savickas) or over the means of each day-0 date (savickas_by_date, recommended "
    "(★) when pairs share dates). A large mean reaction raises SAR^2 too: read beside "
    "the CAR tests."
)

TEST_HEADER = ["series", "test", "n", "mean VR / null", "statistic", "p-value", "valid", "note"]
RATIO_HEADER = ["event", "series", "day 0", "n", "VR", "law", "statistic", "p-value"]


def cross_section_rows(entry: Mapping[str, Any]) -> list[list[str]]:
    """Rows of the cross-sectional test table of one ``volatility`` entry."""
    return [
        [
            t["series"],
            ("★ " if t["recommended"] else "") + t["test"],
            str(t["n"]),
            number(t["mean_ratio"], ".3g"),
            number(t["statistic"], ".3f"),
            pvalue(t["pvalue"]),
            "yes" if t["valid"] else "no",
            t["note"] or "",
        ]
        for t in entry["tests"]
    ]


def ratio_rows(entry: Mapping[str, Any]) -> list[list[str]]:
    """Rows of the per-event variance-ratio table of one ``volatility`` entry."""
    return [
        [
            r["event"],
            r["series"],
            r["day0"] or "n/a",
            str(r["n"]),
            number(r["vr"], ".3g"),
            r["distribution"],
            number(r["statistic"], ".3f"),
            pvalue(r["pvalue"]),
        ]
        for r in entry["variance_ratios"]
    ]


def html_section(res: Mapping[str, Any]) -> list[str]:
    """The report's "Abnormal volatility" section; empty without ``event_study.volatility``."""
    entries = res["event_study"].get("volatility") or []
    if not entries:
        return []
    out = [
        '<h2 id="volatility">Abnormal volatility</h2>',
        f'<p class="caption">{escape(CAPTION)}</p>',
    ]
    for i, entry in enumerate(entries):
        tests = cross_section_rows(entry)
        ratios = ratio_rows(entry)
        out.append(
            f"<details{' open' if i == 0 else ''}><summary>"
            f"{escape(window_text(entry['window']))}: {len(tests)} tests, "
            f"{len(ratios)} variance ratios</summary>"
            + table(TEST_HEADER, tests, numeric=(2, 3, 4, 5), wrap=(7,))
            + table(RATIO_HEADER, ratios, numeric=(3, 4, 6, 7))
            + "</details>"
        )
    return out
