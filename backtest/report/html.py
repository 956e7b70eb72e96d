"""Self-contained HTML report of a run directory: the page.

:func:`render_html` reads only what a run directory holds (``results.json``,
``levels.parquet``, ``tables/abnormal.parquet`` or ``.csv``) and returns one HTML file
that works offline: plotly.js is embedded once, inline, and every chart is a plotly
figure drawn from inline JSON. Nothing is fetched when the page is opened.

Sections: header (run facts, how to read), the pooled CAAR across events (rebased at
day -1, :mod:`.plots`), an events x series heatmap of the headline window, the event
timeline over the levels, per-event CAR paths with confidence bands (folded in closed
``<details>``, drawn when opened, past :data:`MANY_EVENTS` events), tables
(reactions, cross-event tests, events, exclusions, data provenance) and strategies.
This module writes the page: its sections, captions and tables (:mod:`.tables`); the
charts are :mod:`.figures`' and :mod:`.plots`', the strategy section
:mod:`.strategies`'.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from plotly.offline import get_plotlyjs

from backtest.eventstudy.models import n_params
from backtest.report.clock import (
    GUARD_MARK,
    alignment_table,
    clean_windows_table,
    guard_note,
    guarded_pairs,
    market_text,
)
from backtest.report.figures import (
    BAND_Z,
    DRAW_SCRIPT,
    FONT,
    SPAN,
    T_CLIP,
    Figure,
    car_figure,
    car_paths,
    figure_html,
    heatmap_spec,
    plotly_dict,
    timeline_spec,
)
from backtest.report.formatting import (
    incomplete_text,
    local_time,
    number,
    pvalue,
    window_text,
)
from backtest.report.markdown import (
    INCOMPLETE_MARK,
    fmt_change,
    headline_notes,
    label_test,
    placebo_rows,
    stars,
)
from backtest.report.plots import caar_paths, caar_spec
from backtest.report.signed import html_sections, signing_sentence
from backtest.report.strategies import strategies_section
from backtest.report.tables import MEAN_CAR_HEAD, mean_car_cells
from backtest.report.tables import escape as _e
from backtest.report.tables import table as _table
from backtest.report.volatility import html_section as volatility_section

# car_paths lives in .figures; it stays importable from here, where it was first.
__all__ = ["car_paths", "render_html"]

#: More events than this: the per-event CAR charts are folded in ``<details>``.
MANY_EVENTS = 6
#: Confidence level of the pooled CAAR band.
CAAR_LEVEL = 0.95

_CSS = (
    f"body {{ font-family: {FONT}; color: #1f2933; margin: 0; background: #fff; }}"
    + """
main { max-width: 1180px; margin: 0 auto; padding: 1.5rem 1.5rem 4rem; }
h1 { font-size: 1.6rem; margin: 0.2rem 0 0.6rem; }
h2 { font-size: 1.25rem; margin-top: 2.4rem; border-bottom: 1px solid #d9dee3;
     padding-bottom: 0.25rem; }
h3 { font-size: 1.05rem; margin: 1.6rem 0 0.2rem; }
p, li { line-height: 1.45; }
code { background: #f1f3f5; padding: 0 0.2em; border-radius: 3px; }
nav { font-size: 0.9rem; margin: 0.8rem 0; }
nav a { margin-right: 0.9rem; color: #1f5f99; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 1rem;
           font-size: 0.92rem; margin: 0.8rem 0; }
dl.facts dt { color: #52606d; }
dl.facts dd { margin: 0; }
.howto { background: #f5f8fb; border-left: 4px solid #1f5f99; padding: 0.6rem 0.9rem;
         font-size: 0.92rem; }
.caption { font-size: 0.85rem; color: #52606d; margin: 0.2rem 0 0.8rem; }
.label { font-size: 0.9rem; margin: 0 0 0.2rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.82rem; margin: 0.4rem 0 1rem; }
th, td { border-bottom: 1px solid #e4e7eb; padding: 0.22rem 0.55rem; text-align: left;
         vertical-align: top; white-space: nowrap; }
td.wrap { white-space: normal; min-width: 14rem; }
th { background: #f5f7fa; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.recommended td { font-weight: 600; background: #fffbea; }
tr.invalid td { color: #9aa5b1; }
details { margin: 0.4rem 0; }
details.event summary { font-weight: 600; }
details.event .caption { font-weight: 400; }
summary { cursor: pointer; font-weight: 600; font-size: 0.95rem; }
footer { margin-top: 3rem; font-size: 0.8rem; color: #7b8794; }
"""
)


@dataclass(frozen=True)
class _Run:
    results: dict[str, Any]
    levels: pd.DataFrame
    abnormal: pd.DataFrame | None


def render_html(run_dir: Path) -> str:
    """Return the self-contained HTML report of the run directory `run_dir`.

    Parameters
    ----------
    run_dir : pathlib.Path
        A run directory written by :func:`backtest.pipeline.write_run`: it must hold
        ``results.json`` and ``levels.parquet``; ``tables/abnormal.parquet`` (or
        ``.csv``) adds the CAR paths.

    Returns
    -------
    str
        One HTML document. plotly.js is inlined once; the page makes no network
        request. The output depends only on the files (the one time stamp shown is
        ``run.created_at`` from ``results.json``), so the same run gives the same bytes.

    Raises
    ------
    FileNotFoundError
        If ``results.json`` or ``levels.parquet`` is missing.
    """
    run = _load(Path(run_dir))
    res = run.results
    title = res["run"]["title"] or res["run"]["name"]
    charts = 0

    def figure(fig: Figure) -> str:
        nonlocal charts
        charts += 1
        return figure_html(fig, f"fig-{charts}")

    body = [_header(res)]
    body += _caar_section(res, run.abnormal, figure)
    body += _heatmap_section(res, figure)
    body += _timeline_section(res, run.levels, figure)
    body += _car_section(res, run.abnormal, figure)
    body += _reactions_section(res)
    body += _tests_section(res)
    body += html_sections(res)
    body += volatility_section(res)
    body += _placebo_section(res)
    body += _events_section(res)
    body += _clock_section(res)
    body += _exclusions_section(res)
    body += _data_section(res)
    body += strategies_section(res, Path(run_dir), figure)
    body.append(
        "<footer>Generated by backtest "
        + _e(res["run"]["backtest_version"])
        + " from the files of the run directory. Charts: plotly.js (inline, offline).</footer>"
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f'<meta name="generator" content="backtest {_e(res["run"]["backtest_version"])}">',
            f"<title>{_e(title)}</title>",
            f"<style>{_CSS}</style>",
            f'<script type="text/javascript">{get_plotlyjs()}</script>',
            f'<script type="text/javascript">{DRAW_SCRIPT}</script>',
            "</head>",
            "<body>",
            "<main>",
            *body,
            "</main>",
            "</body>",
            "</html>",
            "",
        ]
    )


# Loading -----------------------------------------------------------------------------------
# Loading -----------------------------------------------------------------------------------


def _load(run_dir: Path) -> _Run:
    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    levels = pd.read_parquet(run_dir / "levels.parquet")
    tables = run_dir / "tables"
    abnormal = None
    if (tables / "abnormal.parquet").exists():
        abnormal = pd.read_parquet(tables / "abnormal.parquet")
    elif (tables / "abnormal.csv").exists():
        abnormal = pd.read_csv(tables / "abnormal.csv")
    return _Run(results, levels, abnormal)


# Timeline ----------------------------------------------------------------------------------


def _timeline_section(
    res: Mapping[str, Any], levels: pd.DataFrame, figure: Callable[[Figure], str]
) -> list[str]:
    out = ['<h2 id="timeline">Event timeline</h2>']
    timeline = timeline_spec(res["events"], levels, res["data"]["series"])
    if timeline is None:
        return [*out, "<p>No levels to show.</p>"]
    spec, clockless = timeline
    out.append(figure(plotly_dict(spec)))
    note = (
        f"Levels from {SPAN} sessions before the first event to {SPAN} after the last, one "
        "panel per series, each point placed at its observation instant (the series' "
        "observation clock in its own time zone, converted to UTC), so day 0 is the first "
        "point to the right of an event's dotted line (date-only events sit at local "
        "midnight). Hover a triangle for the event."
    )
    if clockless:
        note += " Observation clock unknown, plotted at midnight UTC: " + ", ".join(clockless)
    out.append(f'<p class="caption">{_e(note)}</p>')
    return out


# CAR paths ---------------------------------------------------------------------------------


def _car_section(
    res: Mapping[str, Any], abnormal: pd.DataFrame | None, figure: Callable[[Figure], str]
) -> list[str]:
    es = res["event_study"]
    design = es["design"]
    out = ['<h2 id="car">Cumulative abnormal change by event</h2>']
    if abnormal is None or abnormal.empty:
        return [*out, "<p>No <code>tables/abnormal</code> in the run directory.</p>"]
    w0, _ = design["event_window"]
    a, b = es["windows"][0]["window"]
    exact = n_params(design["model"], len(design.get("factors") or [])) == 0
    band = (
        f"Band: ±{BAND_Z} × sqrt(sum of daily forecast variances) from day {w0:+d}, the "
        "daily sd of tables/abnormal summed in quadrature. "
        + (
            f"With the {design['model']} model nothing is estimated, so the daily forecast "
            "errors are independent and this is the forecast-error sd of the CAR."
            if exact
            else "With the garch model the daily sds are the conditional variance forecasts, "
            "whose errors the model treats as independent, so this is the sd of the CAR it "
            "tests with."
            if design["model"] == "garch"
            else f"The {design['model']} model estimates coefficients whose error makes "
            "daily forecast errors covary; that covariance is not in the run files, so the "
            "band understates the CAR's sd a little (exact sd_car per configured window: "
            "reactions table)."
        )
    )
    out.append(
        f'<p class="caption">{_e(f"CAR from day {w0:+d} (start of the event window) to each")}'
        " relative day, one panel per series, yields (bp) in the first row(s) and FX and "
        "indices (% log change) below, each panel on its own scale. Yellow: the headline "
        f"window ({_e(window_text((a, b)))}); dotted: day 0. A path stops where the "
        f"series' data end (see Exclusions for windows not complete in the data). {_e(band)}</p>"
    )
    paths = car_paths(abnormal)
    day0 = design["day0"]
    folded = len(res["events"]) > MANY_EVENTS
    if folded:
        out.append(
            f'<p class="caption">{len(res["events"])} events: each event\'s panels are folded '
            "below (click an event to open its chart; the pooled CAAR and the headline "
            'heatmap above summarise them all). <a href="#" onclick="document.querySelectorAll'
            "('details.event').forEach(function (d) { d.open = true; }); return false;\">"
            "Open all</a></p>"
        )
    for ev in res["events"]:
        name = ev["event"]
        sub = paths[paths["event"] == name]
        if sub.empty:
            out.append(f"<h3>{_e(name)}</h3>")
            out.append("<p>Excluded in every series (see Exclusions).</p>")
            continue
        fig = car_figure(sub, design["series"], es["units"], (a, b))
        d0 = day0.get(name, {})
        days = sorted({d for d in d0.values() if d})
        when = f"{local_time(ev)}; day 0: {', '.join(days) if days else 'n/a'}"
        if folded:
            out.append(
                f'<details class="event"><summary>{_e(name)} <span class="caption">'
                f"{_e(ev['label'])} ({_e(when)})</span></summary>{figure(fig)}</details>"
            )
            continue
        out.append(f"<h3>{_e(name)}</h3>")
        out.append(
            f'<p class="label">{_e(ev["label"])}<br><span class="caption">{_e(when)}</span></p>'
        )
        out.append(figure(fig))
    return out


def _caar_section(
    res: Mapping[str, Any], abnormal: pd.DataFrame | None, figure: Callable[[Figure], str]
) -> list[str]:
    """The pooled CAAR across events, rebased at day -1 (none with fewer than 2 events)."""
    if abnormal is None or abnormal.empty or len(res["events"]) < 2:
        return []
    es = res["event_study"]
    w0, w1 = es["design"]["event_window"]
    paths = caar_paths(abnormal, (w0, w1), level=CAAR_LEVEL)
    if paths.empty:
        return []
    return [
        '<h2 id="caar">Pooled across events: cumulative average abnormal change</h2>',
        figure(plotly_dict(caar_spec(paths, es["units"], level=CAAR_LEVEL))),
        '<p class="caption">'
        + _e(
            f"Mean over the events of each event's cumulative abnormal change, rebased to 0 "
            f"at day -1 (days after: the sum from day 0; days before: minus the sum up to "
            f"day -1), one panel per series in its unit (bp for yields, % log change for FX "
            f"and indices). Events whose event window is not complete in the data are left "
            f"out, so the same events make every day; n in the hover. Band: "
            f"{100 * CAAR_LEVEL:g}% confidence, CAAR ± t(n-1) × the cross-sectional standard "
            f"deviation of the events' CARs / sqrt(n) (the cross-sectional t test; it allows "
            f"for event-induced variance but assumes independent events). The same chart in "
            f"a notebook: res.plot.caar(window=({w0}, {w1}))."
        )
        + "</p>",
    ]


# Heatmap -----------------------------------------------------------------------------------


def _heatmap_section(res: Mapping[str, Any], figure: Callable[[Figure], str]) -> list[str]:
    a, b = res["event_study"]["windows"][0]["window"]
    return [
        f'<h2 id="heatmap">Headline window: cumulative abnormal change, {window_text((a, b))}</h2>',
        figure(plotly_dict(heatmap_spec(res))),
        f'<p class="caption">Cell text: the CAR in its natural unit (bp for yields, % log '
        f"change for FX and indices) with significance marks. Colour: the per-event t "
        f"statistic (CAR / its forecast-error sd), clipped at ±{T_CLIP:g}, so series in "
        "different units share one scale; blue negative, red positive. Grey: excluded.</p>",
        *(f'<p class="caption">{_e(n)}</p>' for n in headline_notes(res)),
    ]


# Header ------------------------------------------------------------------------------------


def _header(res: Mapping[str, Any]) -> str:
    run, design = res["run"], res["event_study"]["design"]
    windows = [w["window"] for w in res["event_study"]["windows"]]
    model = design["model"]
    if design.get("market"):
        model += f" (market {market_text(design)})"
    if design.get("factors"):
        model += " (factors " + ", ".join(design["factors"]) + ")"
    facts = [
        ("run", run["name"]),
        ("model", model),
        ("estimation window", "days {:+d} to {:+d}".format(*design["estimation_window"])),
        ("event window", "days {:+d} to {:+d}".format(*design["event_window"])),
        (
            "CAR windows",
            "; ".join(
                window_text(w) + (" (headline)" if i == 0 else "") for i, w in enumerate(windows)
            ),
        ),
        ("events x series", f"{design['events']} x {len(design['series'])}"),
        ("data", f"{res['data']['start']} to {res['data']['end']}"),
        ("backtest", f"{run['backtest_version']} (Python {run['python']})"),
        ("created", run["created_at"]),
    ]
    if run.get("config_file"):
        facts.append(("config", Path(run["config_file"]).name))
    if signing_sentence(res):
        facts.append(("signed", str(signing_sentence(res))))
    nav = [
        *([("caar", "Pooled CAAR")] if len(res["events"]) >= 2 else []),
        ("heatmap", "Headline heatmap"),
        ("timeline", "Event timeline"),
        ("car", "CAR paths"),
        ("reactions", "Reactions"),
        ("tests", "Cross-event tests"),
        *(
            [("groups", "Groups of events")]
            if any(w.get("split") for w in res["event_study"]["windows"])
            else []
        ),
        *([("regressions", "Regressions")] if res["event_study"].get("regressions") else []),
        *([("volatility", "Abnormal volatility")] if res["event_study"].get("volatility") else []),
        *([("placebo", "Placebo")] if res["event_study"].get("placebo") else []),
        ("events", "Events"),
        ("exclusions", "Exclusions"),
        ("data", "Data"),
        ("strategies", "Strategies"),
    ]
    out = [f"<h1>{_e(run['title'] or run['name'])}</h1>"]
    if run.get("description"):
        out.append(f"<p>{_e(run['description'].strip())}</p>")
    out.append(
        '<dl class="facts">'
        + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts)
        + "</dl>"
    )
    out.append(
        '<p class="howto"><strong>How to read.</strong> Changes are in basis points (bp) '
        "for yields and in percent log changes (%) for FX and indices. Day 0 is the first "
        "observation of each market strictly after the event time, in that market's own "
        "session (for an event without a clock time, the market's first session on or "
        "after the event's local date); relative days count each market's own sessions. "
        "Abnormal = actual change minus the model's normal change; CAR = their sum. "
        "Marks: *** p&lt;0.01, ** p&lt;0.05, * p&lt;0.10 (per-event t test).</p>"
    )
    out.append("<nav>" + "".join(f'<a href="#{a}">{_e(t)}</a>' for a, t in nav) + "</nav>")
    return "\n".join(out)


# Tables ------------------------------------------------------------------------------------


def _reactions_section(res: Mapping[str, Any]) -> list[str]:
    window = res["event_study"]["windows"][0]
    header = [
        "event",
        "series",
        "day 0",
        "CAR",
        "t",
        "p",
        "empirical p",
        "sigma move",
        "percentile",
        "BH p",
        "n",
    ]
    rows = [
        [
            r["event"],
            r["series"],
            r["day0"] or "n/a",
            fmt_change(r["car"], r["unit"])
            + stars(r["pvalue"])
            + incomplete_text(r, window["window"]),
            number(r["t"]),
            pvalue(r["pvalue"]),
            pvalue(r["empirical_pvalue"]),
            number(r["sigma_move"]),
            number(r["percentile"], ".1f"),
            pvalue(r["pvalue_bh"]),
            str(r["n"]),
        ]
        for r in window["reactions"]
    ]
    return [
        f'<h2 id="reactions">Per-event reactions, {window_text(window["window"])}</h2>',
        '<p class="caption">t = CAR / forecast-error sd; p two-sided from Student\'s t'
        + (
            " (model garch: sd from the conditional variance forecasts, p from the normal)"
            if res["event_study"]["design"]["model"] == "garch"
            else ""
        )
        + "; "
        "empirical p: share of same-length estimation-residual windows at least as large; "
        "sigma move: CAR in daily estimation sds times sqrt(n); percentile of the raw change "
        "among all same-length windows of the series' history; BH p: Benjamini-Hochberg "
        "adjusted over the table. "
        f"{INCOMPLETE_MARK}/window incomplete k/n: only k of the window's n days lie within "
        "the series' data; the CAR is n/a (or, with allow_incomplete, the partial sum) and "
        "the pair is left out of the cross-event tests.</p>",
        _table(header, rows, numeric=range(3, 11)),
    ]


def _tests_section(res: Mapping[str, Any]) -> list[str]:
    out = [
        '<h2 id="tests">Cross-event tests</h2>',
        '<p class="caption">One table per CAR window. Bold (★): the test recommended for '
        "the series or group, with the reason. Grey: not valid for these events, with the "
        "note saying why. Mean CAR: of a series, in its unit (bp or % log change); of a "
        "group of series (units differ), the mean standardized CAR (CAR / its "
        "forecast-error sd, no unit) in its own column.</p>",
    ]
    units = res["event_study"]["units"]
    for i, window in enumerate(res["event_study"]["windows"]):
        rows, classes = [], []
        for t in window["tests"]:
            cls = "recommended" if t["recommended"] else "" if t["valid"] else "invalid"
            rows.append(
                [
                    t["series"],
                    ("★ " if t["recommended"] else "")
                    + label_test(t["test"], res["event_study"]["design"]),
                    str(t["n"]),
                    *mean_car_cells(t["caar"], units.get(t["series"])),
                    number(t["statistic"], ".3f"),
                    pvalue(t["pvalue"]),
                    "yes" if t["valid"] else "no",
                    t["note"] or "",
                ]
            )
            classes.append(cls)
        head = ["series", "test", "n", *MEAN_CAR_HEAD, "statistic", "p", "valid", "note"]
        out.append(
            f"<details{' open' if i == 0 else ''}><summary>"
            f"{_e(window_text(window['window']))}"
            f"{' (headline)' if i == 0 else ''}: {len(rows)} tests</summary>"
            + _table(head, rows, numeric=(2, 3, 4, 5, 6), wrap=(8,), classes=classes)
            + "</details>"
        )
    return out


def _placebo_section(res: Mapping[str, Any]) -> list[str]:
    placebo = res["event_study"].get("placebo")
    if not placebo:
        return []
    rows = placebo_rows(placebo, recommended_only=False)
    classes = ["recommended placebo" if t.get("recommended") else "" for t in placebo["tests"]]
    rows = [[r[0], ("★ " if c else "") + r[1], *r[2:]] for r, c in zip(rows, classes, strict=True)]
    return [
        '<h2 id="placebo">Placebo</h2>',
        f'<p class="caption">{placebo["draws"]} draws of pseudo-event dates from the '
        f"series' own history ({_e(placebo['design'])} dates, matched on "
        f"{_e(', '.join(placebo['match']) or 'nothing')}, seed {placebo['seed']}), CAR "
        f"window {_e(window_text(placebo['window']))}, run through the same design. "
        "Empirical p: (1 + draws with |statistic| at least the observed) / (1 + draws). "
        "Size at 5%: share of draws rejecting at 5%, about 5% for a test that holds its "
        "size. ★: the recommended test.</p>",
        _table(
            ["series", "test", "statistic", "p", "empirical p", "size at 5%", "draws"],
            [[str(c) for c in r] for r in rows],
            numeric=(2, 3, 4, 5, 6),
            classes=classes,
        ),
    ]


def _events_section(res: Mapping[str, Any]) -> list[str]:
    design = res["event_study"]["design"]
    series = design["series"]
    day0 = design["day0"]
    events = res["events"]
    listing = [[e["event"], local_time(e), e.get("category") or "", e["label"]] for e in events]
    moved = guarded_pairs(res["event_study"])
    days = [
        [
            e["event"],
            *(
                (day0.get(e["event"], {}).get(s) or "n/a")
                + (GUARD_MARK if (e["event"], s) in moved else "")
                for s in series
            ),
        ]
        for e in events
    ]
    return [
        '<h2 id="events">Events</h2>',
        _table(["event", "time (time zone of the event)", "category", "label"], listing, wrap=(3,)),
        "<h3>Day 0 per market</h3>",
        '<p class="caption">Each market\'s day 0 is its first observation strictly after '
        "the event instant (date-only events: its first session on or after the local "
        "date), in that market's own session calendar.</p>",
        _table(["event", *series], days),
    ]


def _clock_section(res: Mapping[str, Any]) -> list[str]:
    """Near-close guard note, market alignment and clean estimation windows (if used)."""
    es = res["event_study"]
    out: list[str] = []
    note = guard_note(es)
    if note:
        out.append(f'<p class="caption">{_e(note)}</p>')
    align = alignment_table(es)
    if align:
        out += [
            '<h3 id="alignment">Market alignment</h3>',
            '<p class="caption">lag: median calendar days between a series\' date and the '
            "date of the market observation paired with it.</p>",
            _table(*align),
        ]
    clean = clean_windows_table(es)
    if clean is not None:
        out.append('<h3 id="clean-windows">Clean estimation windows</h3>')
        out.append(
            _table(*clean)
            if clean[1]
            else "<p>No estimation window contained another event's window.</p>"
        )
    return out


def _exclusions_section(res: Mapping[str, Any]) -> list[str]:
    es = res["event_study"]
    excl = es["design"].get("exclusions") or []
    out = ['<h2 id="exclusions">Exclusions</h2>']
    out += [f"<p>{_e(n)}</p>" for n in es["design"].get("notes") or []]
    rows = [[x["event"], x["series"], "all", x["reason"]] for x in excl]
    for window in es["windows"]:
        rows += [
            [x["event"], x["series"], window_text(window["window"]), x["reason"]]
            for x in window.get("incomplete") or []
        ]
    if not rows:
        return [*out, "<p>None: every event was studied in every series.</p>"]
    return [*out, _table(["event", "series", "window", "reason"], rows)]


def _data_section(res: Mapping[str, Any]) -> list[str]:
    header = ["series", "source", "publisher", "observed", "first", "last", "rows", "checksum"]
    rows, titles = [], []
    for name, p in res["data"]["series"].items():
        checksum = str(p.get("checksum") or "")
        rows.append(
            [
                name,
                str(p.get("source") or ""),
                str(p.get("publisher") or ""),
                f"{p.get('obs_time') or '?'} {p.get('timezone') or ''}".strip(),
                str(p.get("first") or ""),
                str(p.get("last") or ""),
                "n/a" if p.get("rows") is None else str(p["rows"]),
                checksum[:19] + "…" if len(checksum) > 19 else checksum,
            ]
        )
        titles.append(checksum)
    return [
        '<h2 id="data">Data provenance</h2>',
        f'<p class="caption">Levels used: {_e(res["data"]["start"])} to '
        f"{_e(res['data']['end'])}. observed: the clock of each value in its market's time "
        "zone (day 0 is aligned with it); first/last/rows describe the source file; hover a "
        "row for the full checksum.</p>",
        _table(header, rows, numeric=(6,), wrap=(2,), titles=titles),
    ]
