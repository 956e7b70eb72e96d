"""Return attribution of the strategies: what each leg's price, accrual or carry, funding
and costs contributed (HTML chart and table, Markdown table).

Reads a strategy's ``attribution`` in ``results.json`` (the sums) and, for the chart,
its daily table ``tables/attribution_<i>_<name>`` (``date`` then one ``leg:component``
column each), both written by :func:`backtest.pipeline.write_run`. A strategy without
``attribution`` (an engine that does not give it) gets no section.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from backtest.data.dates import iso_dates
from backtest.report.style import PALETTE
from backtest.report.tables import escape, table

__all__ = [
    "HEADER",
    "attribution_figure",
    "convention_text",
    "html_section",
    "instruments_text",
    "read_daily",
    "rows",
]

#: Columns of the attribution table (HTML and Markdown).
HEADER = ("leg", "component", "contribution (% of capital)")
_TOTAL_LINE = "total return (all but funding)"
_EXCESS_LINE = "excess return (all components)"


def _pct(value: Any) -> str:
    """A decimal fraction in percent, signed; ``+0.00%`` for what rounds to zero.

    Examples
    --------
    >>> _pct(0.01234), _pct(-1e-18), _pct(None)
    ('+1.23%', '+0.00%', 'n/a')
    """
    if value is None or not np.isfinite(float(value)):
        return "n/a"
    pct = 100 * float(value)
    return f"{0.0 if abs(pct) < 0.005 else pct:+.2f}%"


def rows(entry: Mapping[str, Any]) -> list[list[str]]:
    """Rows of a strategy's attribution table (plain text; empty without ``attribution``).

    One row per (leg, component) in the order of ``results.json``, then the funding of
    all legs, the total (every component but funding) and the excess (every component)
    lines; contributions are arithmetic sums of daily contributions in percent of
    capital.

    Parameters
    ----------
    entry : mapping
        One element of ``results.json``'s ``strategies``.

    Returns
    -------
    list of list of str
        ``[leg, component, contribution]`` rows.

    Examples
    --------
    >>> att = {"components": {"SPX": {"price": 0.1, "funding": -0.02, "costs": -0.001}},
    ...        "total": 0.099, "funding": -0.02, "excess": 0.079, "method": "sum"}
    >>> rows({"attribution": att})[-2:]
    [['all legs', 'total return (all but funding)', '+9.90%'], ['all legs', \
'excess return (all components)', '+7.90%']]
    """
    att = entry.get("attribution")
    if not att:
        return []
    out = [
        [leg, component, _pct(value)]
        for leg, parts in att["components"].items()
        for component, value in parts.items()
    ]
    if len(att["components"]) > 1:
        out.append(["all legs", "funding", _pct(att.get("funding"))])
    out.append(["all legs", _TOTAL_LINE, _pct(att.get("total"))])
    out.append(["all legs", _EXCESS_LINE, _pct(att.get("excess"))])
    return out


def convention_text(entry: Mapping[str, Any]) -> str:
    """The returns convention a strategy's results state, as one line; empty when absent.

    Read from ``settings.conventions``: a mapping of convention names to sentences
    (``total``, ``excess``, ``attribution``, ...) or one sentence.

    Examples
    --------
    >>> convention_text({"settings": {"conventions": {"total": "price + carry - costs"}}})
    'Returns: total: price + carry - costs.'
    """
    settings = entry.get("settings") or {}
    conv = settings.get("conventions")
    if not conv:
        return ""
    if isinstance(conv, Mapping):
        parts = [f"{k}: {str(v).rstrip('.')}" for k, v in conv.items()]
    else:
        parts = [str(conv).rstrip(".")]
    return "Returns: " + "; ".join(parts) + "."


def instruments_text(entry: Mapping[str, Any]) -> str:
    """What each leg is (kind, currency, funding, dividends), as one line; empty when absent.

    Examples
    --------
    >>> instruments_text({"instruments": {
    ...     "USDJPY": {"kind": "fx", "base": "USD", "quote": "JPY", "funding": None}}})
    'Legs: USDJPY (fx, USD/JPY, self-financed).'
    >>> instruments_text({"instruments": {"SPX": {"kind": "index", "currency": "USD",
    ...     "funding": "FEDFUNDS_TARGET", "dividends": "not included"}}})
    'Legs: SPX (index, USD, funded at FEDFUNDS_TARGET, dividends not included).'
    """
    inst = entry.get("instruments")
    if not inst:
        return ""
    parts = []
    for leg, spec in inst.items():
        spec = spec or {}
        bits = [str(spec["kind"])] if spec.get("kind") else []
        if spec.get("base") and spec.get("quote"):
            bits.append(f"{spec['base']}/{spec['quote']}")
        elif spec.get("currency"):
            bits.append(str(spec["currency"]))
        funding = spec.get("funding")
        if funding:
            bits.append(f"funded at {funding}")
        else:
            bits.append("self-financed" if spec.get("kind") == "fx" else "no funding")
        if spec.get("dividends"):
            bits.append(f"dividends {spec['dividends']}")
        parts.append(f"{leg} ({', '.join(bits)})")
    return "Legs: " + "; ".join(parts) + "."


def read_daily(run_dir: Path, index: int, name: str) -> pd.DataFrame | None:
    """The daily attribution table of strategy `index` (``name``), or None if not written.

    Parameters
    ----------
    run_dir : pathlib.Path
        The run directory.
    index : int
        Position of the strategy in ``results.json``'s ``strategies``.
    name : str
        Its strategy name.

    Returns
    -------
    pandas.DataFrame or None
        Indexed by date, one ``leg:component`` column each, daily decimal
        contributions; from ``.parquet``, else ``.csv``.
    """
    base = Path(run_dir) / "tables" / f"attribution_{index}_{name}"
    if base.with_suffix(".parquet").is_file():
        frame = pd.read_parquet(base.with_suffix(".parquet"))
    elif base.with_suffix(".csv").is_file():
        frame = pd.read_csv(base.with_suffix(".csv"), parse_dates=["date"])
    else:
        return None
    return frame.set_index("date")


#: Colour slot of each component within a leg's block of four palette colours.
_SLOT = {"price": 0, "accrual": 1, "carry": 1, "funding": 2, "costs": 3}


def _colour(leg_index: int, component: str) -> str:
    """The same colour for a component in every chart; legs take the next block."""
    return PALETTE[(4 * leg_index + _SLOT.get(component, 3)) % len(PALETTE)]


def attribution_figure(daily: pd.DataFrame, title: str) -> dict[str, Any]:
    """Stacked cumulative contributions per (leg, component), and the total lines.

    Parameters
    ----------
    daily : pandas.DataFrame
        Daily decimal contributions indexed by date, columns ``leg:component``
        (:func:`read_daily`).
    title : str
        What the chart shows (the units are added).

    Returns
    -------
    dict
        A plotly figure. Each column's cumulative contribution (the running sum of
        its daily contributions, in percent of capital; missing days count 0) is one
        legend entry drawn as two stacked areas sharing its colour: its positive part
        in the stack above zero (``stackgroup`` "gains") and its negative part in the
        stack below (``stackgroup`` "losses"), so contributions of opposite signs do
        not cover each other; the hover shows the whole contribution (once). Then a line for
        the total return (every component but funding: the running sum of the
        returns) and, when there is funding, a dashed one for the excess return (every
        component; the top of the gains plus the bottom of the losses).
    """
    x = iso_dates(daily.index)
    cumulative = 100 * daily.astype(float).fillna(0.0).cumsum()
    legs = list(dict.fromkeys(str(c).rpartition(":")[0] for c in daily.columns))
    traces: list[dict[str, Any]] = []
    for col in daily.columns:
        leg, _, component = str(col).rpartition(":")
        name = f"{leg} {component}"
        values = cumulative[col].to_numpy()
        colour = _colour(legs.index(leg), component)
        for group, part in (
            ("gains", np.maximum(values, 0.0)),
            ("losses", np.minimum(values, 0.0)),
        ):
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": name,
                    "x": x,
                    "y": part.tolist(),
                    # the hover shows the whole contribution, once (on the gains trace)
                    **(
                        {"customdata": values.tolist(), "hovertemplate": "%{customdata:+.2f}%"}
                        if group == "gains"
                        else {"hoverinfo": "skip"}
                    ),
                    "stackgroup": group,
                    "legendgroup": name,
                    "showlegend": group == "gains",
                    "line": {"width": 0.5, "color": colour},
                    "fillcolor": colour,
                }
            )
    funding = [c for c in daily.columns if str(c).rpartition(":")[2] == "funding"]
    lines = [(_TOTAL_LINE, cumulative.drop(columns=funding).sum(axis=1), "solid")]
    if funding:
        lines.append((_EXCESS_LINE, cumulative.sum(axis=1), "dash"))
    for name, values, dash in lines:
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": name,
                "x": x,
                "y": values.tolist(),
                "hovertemplate": "%{y:+.2f}%",
                "line": {"width": 2, "color": "#1f2933", "dash": dash},
            }
        )
    return {
        "data": traces,
        "layout": {
            "title": {"text": f"{title}: cumulative contributions (% of capital)"},
            "height": 420,
            "margin": {"l": 60, "r": 20, "t": 50, "b": 40},
            "yaxis": {"title": {"text": "% of capital (sum of daily contributions)"}},
            "legend": {"orientation": "h", "traceorder": "normal"},
            "hovermode": "x unified",
        },
    }


def html_section(res: Mapping[str, Any], run_dir: Path, figure: Callable[[Any], str]) -> list[str]:
    """HTML of the strategies' attribution: convention, chart and table per strategy.

    Parameters
    ----------
    res : mapping
        ``results.json`` content.
    run_dir : pathlib.Path
        The run directory (for the daily tables the charts draw).
    figure : callable
        Turns a figure into HTML (the page's counter of chart ids).

    Returns
    -------
    list of str
        Empty when no strategy has an ``attribution``.
    """
    out: list[str] = []
    for i, s in enumerate(res.get("strategies") or []):
        body = rows(s)
        if not body:
            continue
        legs = ", ".join(s.get("legs") or [str(s.get("series", ""))])
        label = f"{s['name']} on {legs}"
        out.append(f"<h3>Return attribution: {escape(label)}</h3>")
        notes = " ".join(t for t in (convention_text(s), instruments_text(s)) if t)
        method = s["attribution"].get("method", "")
        out.append(
            f'<p class="caption">{escape(notes)} Contributions in percent of capital, '
            f"{escape(method)} (not compounded).</p>"
        )
        daily = read_daily(Path(run_dir), i, str(s["name"]))
        if daily is not None and len(daily.columns):
            out.append(figure(attribution_figure(daily, label)))
        out.append(table(list(HEADER), body, numeric=(2,)))
    return out
