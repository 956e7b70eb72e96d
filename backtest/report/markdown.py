"""Markdown summary of a run: reads well on GitHub and in a terminal."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from backtest.eventstudy.policy import DEFAULT_KP_CORRELATION, KP_LABELS
from backtest.report import attribution
from backtest.report.clock import (
    GUARD_MARK,
    alignment_table,
    clean_windows_table,
    guard_note,
    guarded_pairs,
    market_text,
)
from backtest.report.signed import markdown_sections, signing_sentence
from backtest.report.tables import MEAN_CAR_HEAD, change_text, mean_car_cells

__all__ = [
    "INCOMPLETE_MARK",
    "headline_notes",
    "headline_table",
    "label_test",
    "placebo_rows",
    "render_markdown",
    "stars",
]

#: Mark of a CAR whose window is not complete in the data (a partial sum, kept).
INCOMPLETE_MARK = "†"


def stars(pvalue: float | None) -> str:
    """Significance marks: ``***`` p < 0.01, ``**`` p < 0.05, ``*`` p < 0.10."""
    if pvalue is None or not math.isfinite(pvalue):
        return ""
    return "***" if pvalue < 0.01 else "**" if pvalue < 0.05 else "*" if pvalue < 0.10 else ""


def label_test(test: str, design: Mapping[str, Any]) -> str:
    """Name of a test in the tables; Kolari-Pynnönen says which correlation it uses."""
    if test == "kolari_pynnonen":
        variant = design.get("kp_correlation") or DEFAULT_KP_CORRELATION
        return f"{test}: {KP_LABELS[variant]}"
    return test


def placebo_rows(placebo: Mapping[str, Any], recommended_only: bool) -> list[list[Any]]:
    """Rows of the placebo table: series, test, statistic, p, empirical p, size, draws."""
    return [
        [
            t["series"],
            t["test"],
            _f(t.get("statistic"), ".3f"),
            _f(t.get("pvalue"), ".4f"),
            _f(t["empirical_pvalue"], ".4f"),
            "n/a" if t["size_5pct"] is None else f"{100 * t['size_5pct']:.1f}%",
            t["draws"],
        ]
        for t in placebo["tests"]
        if t.get("recommended") or not recommended_only
    ]


def fmt_change(value: float | None, unit: str) -> str:
    """A change in its natural unit: ``+47.0 bp``, ``-2.66%`` (:func:`.tables.change_text`)."""
    return change_text(value, unit)


def _f(value: float | None, spec: str) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return format(value, spec)


def text(value: object) -> str:
    """User text made inert in Markdown: no raw HTML (``<`` ``>`` as entities), one line."""
    return (
        str(value).replace("<", "&lt;").replace(">", "&gt;").replace("\r", " ").replace("\n", " ")
    )


def cell(value: object) -> str:
    r"""A table cell: :func:`text`, with ``|`` escaped so it cannot shift the columns.

    Examples
    --------
    >>> print(cell("a|b <i>"))
    a\|b &lt;i&gt;
    """
    return text(value).replace("|", "\\|")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(cell(c) for c in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines


def headline_table(results: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Events x series table of the headline (first) CAR window, with significance marks."""
    es = results["event_study"]
    window = es["windows"][0]
    series = es["design"]["series"]
    cells: dict[tuple[str, str], str] = {}
    labels: dict[str, str] = {}
    a, b = window["window"]
    for row in window["reactions"]:
        mark = stars(row["pvalue"])
        cell = fmt_change(row["car"], row["unit"]) + mark
        if not row.get("complete", True):  # results written before the field: complete
            days = f"{row.get('days_in_data')}/{b - a + 1}"
            cell = (
                f"n/a (window incomplete {days})"
                if row["car"] is None
                else f"{cell}{INCOMPLETE_MARK} (incomplete {days})"
            )
        cells[(row["event"], row["series"])] = cell
        labels[row["event"]] = row["label"]
    events = [e["event"] for e in results["events"]]
    rows = [[ev, *(cells.get((ev, s), "excluded") for s in series)] for ev in events]
    return ["event", *series], rows


def headline_notes(results: Mapping[str, Any]) -> list[str]:
    """Footnotes of :func:`headline_table`: incomplete windows and design notes (plain text)."""
    es = results["event_study"]
    window = es["windows"][0]
    a, b = window["window"]
    incomplete = window.get("incomplete") or []
    notes = []
    if incomplete:
        kept = any(x["kept"] for x in incomplete)
        pairs = ", ".join(
            f"{x['event']}/{x['series']} {x['days_in_data']}/{x['window_days']}" for x in incomplete
        )
        notes.append(
            (f"{INCOMPLETE_MARK} " if kept else "Window incomplete: ")
            + f"{len(incomplete)} CAR window(s) of days {a:+d}..{b:+d} run "
            "beyond the data (days in data / window days): "
            + pairs
            + ("; partial sums shown (allow_incomplete)" if kept else "; CAR not computed (n/a)")
            + "; left out of the cross-event tests."
        )
    notes += [f"Note: {n}" for n in es["design"].get("notes") or []]
    return notes


def _clock_lines(es: Mapping[str, Any]) -> list[str]:
    """Guard footnote, market alignment and clean estimation windows (when used)."""
    out: list[str] = []
    note = guard_note(es)
    if note:
        out += ["", note]
    align = alignment_table(es)
    if align:
        out += ["", "## Market alignment", ""]
        out += _table(*align)
        out += [
            "",
            "lag: median calendar days between a series' date and the date of the market "
            "observation paired with it (as of: the market's latest observation at or before "
            "the series' own).",
        ]
    clean = clean_windows_table(es)
    if clean is not None:
        out += ["", "## Clean estimation windows", ""]
        if clean[1]:
            out += _table(*clean)
        else:
            out += ["No estimation window contained another event's window."]
    return out


def _params_text(params: Mapping[str, Any] | None) -> str:
    if params is None:
        return ""
    return ", ".join(f"{k}={v}" for k, v in params.items()) or "(defaults)"


def _tearsheet_lines(strategies: Sequence[Mapping[str, Any]]) -> list[str]:
    """The benchmark-relative table of the strategies with a ``tearsheet``."""
    rows = []
    for s in strategies:
        sheet = s.get("tearsheet")
        if not sheet:
            continue
        m = sheet["metrics"]
        rows.append(
            [
                s["name"],
                sheet["benchmark"],
                _f(m.get("alpha"), ".2%"),
                _f(m.get("beta"), ".2f"),
                _f(m.get("information_ratio"), ".2f"),
                _f(m.get("tracking_error"), ".2%"),
                _f(m.get("profit_factor"), ".2f"),
                _f(m.get("avg_holding_days"), ".1f"),
            ]
        )
    if not rows:
        return []
    return [
        "",
        "### Against the benchmark",
        "",
        *_table(
            [
                "strategy",
                "benchmark",
                "alpha",
                "beta",
                "information ratio",
                "tracking error",
                "profit factor",
                "avg holding (days)",
            ],
            rows,
        ),
        "",
        "On excess returns: alpha is the OLS intercept on the benchmark's excess returns "
        "times 252 (a year, arithmetic), information ratio and tracking error annualised.",
    ]


def _attribution_lines(strategies: Sequence[Mapping[str, Any]]) -> list[str]:
    """Per strategy with an ``attribution``: its returns convention and contributions."""
    out: list[str] = []
    for s in strategies:
        body = attribution.rows(s)
        if not body:
            continue
        legs = ", ".join(s.get("legs") or [str(s.get("series", ""))])
        out += ["", f"### Return attribution: {text(s['name'])} on {text(legs)}", ""]
        for line in (attribution.convention_text(s), attribution.instruments_text(s)):
            if line:
                out += [text(line), ""]
        out += _table(attribution.HEADER, body)
        out += [
            "",
            "Contributions in percent of capital, "
            + text(s["attribution"].get("method", ""))
            + " (not compounded).",
        ]
    return out


def render_markdown(results: Mapping[str, Any]) -> str:
    """Return the Markdown summary of a run from its ``results.json`` content."""
    run = results["run"]
    es = results["event_study"]
    design = es["design"]
    a, b = es["windows"][0]["window"]
    out = [f"# {text(run['title'] or run['name'])}", ""]
    if run.get("description"):
        desc = run["description"].strip().replace("<", "&lt;").replace(">", "&gt;")
        out += [desc, ""]
    out += [
        f"Run `{run['name']}` with backtest {run['backtest_version']}. Model `{design['model']}`"
        + (f" (market {market_text(design)})" if design.get("market") else "")
        + f", estimation window {tuple(design['estimation_window'])}, event window "
        f"{tuple(design['event_window'])}; {design['events']} events x "
        f"{len(design['series'])} series. Changes: bp for yields, % log returns for FX and "
        "indices. Marks: \\*\\*\\* p<0.01, \\*\\* p<0.05, \\* p<0.10 (per-event t test).",
        "",
        *([f"**{text(signing_sentence(results))}.**", ""] if signing_sentence(results) else []),
        f"## Cumulative abnormal change, days {a:+d} to {b:+d}",
        "",
    ]
    header, rows = headline_table(results)
    out += _table(header, rows)
    notes = headline_notes(results)
    if notes:
        out += ["", *notes]
    out += ["", "## Events", ""]
    day0 = design["day0"]
    moved = guarded_pairs(es)
    out += _table(
        ["event", "time", "label", *(f"day 0 {s}" for s in design["series"])],
        [
            [
                e["event"],
                f"{e['timestamp']} ({e['timezone']})"
                if e["time_given"]
                else f"{e['date']} (date only)",
                e["label"],
                *(
                    (day0.get(e["event"], {}).get(s) or "n/a")
                    + (GUARD_MARK if (e["event"], s) in moved else "")
                    for s in design["series"]
                ),
            ]
            for e in results["events"]
        ],
    )
    out += _clock_lines(es)
    for window in es["windows"]:
        a, b = window["window"]
        rec = [t for t in window["tests"] if t["recommended"]]
        if not rec:
            continue
        left = max((t.get("incomplete") or 0 for t in rec), default=0)
        out += ["", f"## Cross-event tests, days {a:+d} to {b:+d} (recommended test)", ""]
        out += _table(
            ["series", "test", "n", *MEAN_CAR_HEAD, "statistic", "p-value", "why"],
            [
                [
                    t["series"],
                    label_test(t["test"], design),
                    t["n"],
                    *mean_car_cells(t["caar"], es["units"].get(t["series"])),
                    "n/a" if t["statistic"] is None else f"{t['statistic']:.3f}",
                    "n/a" if t["pvalue"] is None else f"{t['pvalue']:.4f}",
                    t["note"],
                ]
                for t in rec
            ],
        )
        if left:
            out += [
                "",
                "Windows not complete in the data are left out of these tests (see Excluded).",
            ]
    out += markdown_sections(results)
    for entry in es.get("volatility") or []:  # event_study.volatility (report/volatility.py)
        from backtest.report import volatility as vol

        a, b = entry["window"]
        out += ["", f"## Abnormal volatility, days {a:+d} to {b:+d}", "", vol.CAPTION, ""]
        out += _table(vol.TEST_HEADER, vol.cross_section_rows(entry))
        out += ["", *_table(vol.RATIO_HEADER, vol.ratio_rows(entry))]
    placebo = es.get("placebo")
    if placebo:
        a, b = placebo["window"]
        out += ["", f"## Placebo, days {a:+d} to {b:+d} (recommended test)", ""]
        out += [
            f"{placebo['draws']} draws of pseudo-event dates from the series' own history "
            f"({placebo['design']} dates, matched on {', '.join(placebo['match']) or 'nothing'}"
            f", seed {placebo['seed']}), run through the same design. Empirical p: "
            "(1 + draws with |statistic| >= observed) / (1 + draws); size: share of draws "
            "rejecting at 5% (about 5% if the test holds its size).",
            "",
        ]
        out += _table(
            ["series", "test", "statistic", "p-value", "empirical p", "size at 5%", "draws"],
            placebo_rows(placebo, recommended_only=True),
        )
    excl = [{**x, "window": "all"} for x in design.get("exclusions") or []]
    for window in es["windows"]:
        a, b = window["window"]
        excl += [{**x, "window": f"{a:+d}..{b:+d}"} for x in window.get("incomplete") or []]
    if excl:
        out += ["", "## Excluded", ""]
        out += _table(
            ["event", "series", "window", "reason"],
            [[x["event"], x["series"], x["window"], x["reason"]] for x in excl],
        )
    strategies = results.get("strategies") or []
    if strategies:
        out += ["", "## Strategies", ""]
        out += _table(
            [
                "strategy",
                "series",
                "params",
                "Sharpe",
                "CAGR",
                "max drawdown",
                "trades",
                "win rate",
                "sweep best",
                "best Sharpe",
                "DSR",
                "PBO",
                "out-of-sample Sharpe",
            ],
            [
                [
                    s["name"],
                    s["series"],
                    _params_text(s["params"]),
                    _f(s["metrics"].get("sharpe"), ".2f"),
                    _f(s["metrics"].get("cagr"), ".2%"),
                    _f(s["metrics"].get("max_drawdown"), ".2%"),
                    _f(s["metrics"].get("trades"), ".0f"),
                    _f(s["metrics"].get("win_rate"), ".0%"),
                    _params_text((s.get("sweep") or {}).get("best")),
                    _f((s.get("sweep") or {}).get("best_metrics", {}).get("sharpe"), ".2f"),
                    _f((s.get("sweep") or {}).get("selection", {}).get("dsr"), ".3f"),
                    _f((s.get("sweep") or {}).get("selection", {}).get("pbo"), ".3f"),
                    _f((s.get("validation") or {}).get("oos_metrics", {}).get("sharpe"), ".2f"),
                ]
                for s in strategies
            ],
        )
        out += [
            "",
            "Fills at the close of the bar after the signal; Sharpe annualised with 252 "
            "observations per year. params, Sharpe .. win rate: the configured parameters "
            "(the config's params, the strategy's defaults for the rest). sweep best / best "
            "Sharpe: the best combination of the sweep by Sharpe; DSR/PBO measure how much "
            "of that best is selection luck. Win rate: share of winning trades.",
        ]
        out += _tearsheet_lines(strategies)
        out += _attribution_lines(strategies)
    out += ["", "## Data", ""]
    out += _table(
        ["series", "source", "publisher", "observed", "first", "last", "checksum"],
        [
            [
                name,
                p.get("source"),
                p.get("publisher"),
                f"{p.get('obs_time')} {p.get('timezone')}",
                p.get("first"),
                p.get("last"),
                f"`{str(p.get('checksum'))[:19]}…`",
            ]
            for name, p in results["data"]["series"].items()
        ],
    )
    return "\n".join(out) + "\n"
