"""Report sections of signed pooling, groups of events and cross-sectional regressions.

Reads the optional parts of ``results.json`` that
:mod:`backtest.eventstudy.signing` and :mod:`backtest.eventstudy.regression` fill:
``event_study.design.signing`` (how the CARs are signed), ``windows[i].split`` (the
cross-event tests per value of ``event_study.split_by``) and
``event_study.regressions`` (coefficient tables). Results without them render nothing,
so older results files are unchanged. :mod:`.markdown` and :mod:`.html` call these
functions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from backtest.report.tables import MEAN_CAR_HEAD, escape, mean_car_cells, table

__all__ = ["html_sections", "markdown_sections", "signing_sentence"]


def signing_sentence(results: Mapping[str, Any]) -> str | None:
    """How the CARs are signed (``design.signing``), or None for an unsigned run."""
    text = results["event_study"]["design"].get("signing")
    return str(text) if text else None


def _num(value: float | None, spec: str) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return format(value, spec)


def _split_rows(window: Mapping[str, Any], units: Mapping[str, str]) -> list[list[str]]:
    rows = []
    for group in window.get("split") or []:
        for t in group["tests"]:
            if not t["recommended"]:
                continue
            rows.append(
                [
                    f"{group['column']} = {group['value']}",
                    str(len(group["events"])),
                    str(t["series"]),
                    str(t["test"]),
                    str(t["n"]),
                    *mean_car_cells(t["caar"], units.get(str(t["series"]))),
                    _num(t["statistic"], ".3f"),
                    _num(t["pvalue"], ".4f"),
                ]
            )
    return rows


_SPLIT_HEAD = ("group", "events", "series", "test", "n", *MEAN_CAR_HEAD, "statistic", "p-value")
_REG_HEAD = ("term", "coefficient", "std. error", "t", "p-value")


def _reg_rows(reg: Mapping[str, Any]) -> list[list[str]]:
    return [
        [
            term,
            _num(value, ".4g"),
            _num(reg["bse"].get(term), ".4g"),
            _num(reg["tvalues"].get(term), ".3f"),
            _num(reg["pvalues"].get(term), ".4f"),
        ]
        for term, value in reg["params"].items()
    ]


def _reg_caption(reg: Mapping[str, Any], units: Mapping[str, str]) -> str:
    unit = ", ".join(dict.fromkeys(units.get(s, "?") for s in reg["series"]))
    a, b = reg["window"]
    cov = {"HC3": "HC3 robust", "cluster": "clustered by day-0 date", "nonrobust": "classical"}
    return (
        f"`{reg['formula']}`: CAR of days {a:+d} to {b:+d} of {', '.join(reg['series'])} "
        f"(in {unit}); {reg['nobs']} observations, R² {_num(reg['rsquared'], '.3f')}, "
        f"standard errors {cov.get(reg['cov_type'], reg['cov_type'])}"
    )


def _md_cell(value: object) -> str:
    return (
        str(value).replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ").replace("|", "\\|")
    )


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(_md_cell(c) for c in header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]


def markdown_sections(results: Mapping[str, Any]) -> list[str]:
    """Markdown lines: the tests per group of events and the regression tables."""
    es = results["event_study"]
    out: list[str] = []
    signed = signing_sentence(results)
    for window in es["windows"]:
        rows = _split_rows(window, es["units"])
        if not rows:
            continue
        a, b = window["window"]
        out += ["", f"## Cross-event tests by group of events, days {a:+d} to {b:+d}", ""]
        if signed:
            out += ["CARs signed as above (a -1 event's change is multiplied by -1).", ""]
        out += _md_table(_SPLIT_HEAD, rows)
    for i, reg in enumerate(es.get("regressions") or []):
        out += [
            "",
            f"## Cross-sectional regression {i + 1}",
            "",
            _md_cell(_reg_caption(reg, es["units"])),
        ]
        if signed:
            out += ["", "The CARs regressed are signed."]
        out += ["", *_md_table(_REG_HEAD, _reg_rows(reg))]
    return out


def html_sections(results: Mapping[str, Any]) -> list[str]:
    """HTML sections (``id="groups"``, ``id="regressions"``); empty without those parts."""
    es = results["event_study"]
    out: list[str] = []
    signed = signing_sentence(results)
    blocks = []
    for i, window in enumerate(es["windows"]):
        rows = _split_rows(window, es["units"])
        if not rows:
            continue
        a, b = window["window"]
        blocks.append(
            f"<details{' open' if i == 0 else ''}><summary>days {a:+d} to {b:+d}"
            f"{' (headline)' if i == 0 else ''}: {len(rows)} recommended tests</summary>"
            + table(list(_SPLIT_HEAD), rows, numeric=(1, 4, 5, 6, 7, 8))
            + "</details>"
        )
    if blocks:
        out.append('<h2 id="groups">Cross-event tests by group of events</h2>')
        caption = "The recommended test per series and group, for each group of events."
        if signed:
            caption += " CARs signed as in the header (a -1 event's change is multiplied by -1)."
        out.append(f'<p class="caption">{escape(caption)}</p>')
        out += blocks
    regs = es.get("regressions") or []
    if regs:
        out.append('<h2 id="regressions">Cross-sectional regressions of CARs</h2>')
        for reg in regs:
            caption = _reg_caption(reg, es["units"]).replace("`", "")
            if signed:
                caption += "; signed CARs"
            out.append(f'<p class="caption">{escape(caption)}</p>')
            out.append(table(list(_REG_HEAD), _reg_rows(reg), numeric=(1, 2, 3, 4)))
    return out
