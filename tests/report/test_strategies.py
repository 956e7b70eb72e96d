"""The strategy section of the HTML report (``backtest/report/strategies.py``).

Built from a hand-written ``results.json`` fragment; expected text is hand-written too.
"""

from __future__ import annotations

import re

from backtest.report.strategies import strategies_section

EVIL = "<script>x</script> & <b>"


def results() -> dict:
    return {
        "strategies": [
            {
                "name": "ma_crossover",
                "series": "USDJPY",
                "params": {"fast": 10, "slow": EVIL},
                "settings": {"fill": "next close", "periods_per_year": 252, "carry": "none"},
                "metrics": {"sharpe": 0.5, "total_return": 0.1234, "trades": 3},
                "sweep": {
                    "selection": {"psr": 0.9, "dsr": 0.4, "pbo": 0.5},
                    "combinations": 2,
                    "method": "grid",
                    "best": {"fast": 10, "slow": 50},
                    "space": {"fast": [5, 10], "threshold": [None]},
                    "top": [{"fast": 10, "threshold": None, "sharpe": 0.5, "trades": 3}],
                },
                "validation": {
                    "method": "train_test",
                    "folds": [
                        {
                            "fold": 0,
                            "sample": "test",
                            "start": "2020-01-01",
                            "end": "2020-12-31",
                            "param_fast": 10,
                            "sharpe": 0.25,
                        }
                    ],
                    "oos_metrics": {"sharpe": 0.25},
                },
            }
        ]
    }


def test_text_is_escaped_once(tmp_path):
    page = "".join(strategies_section(results(), tmp_path, lambda fig: ""))
    assert "<script>" not in page and "<b>" not in page
    assert "slow=&lt;script&gt;x&lt;/script&gt; &amp; &lt;b&gt;" in page
    assert "&amp;amp;" not in page and "&amp;lt;" not in page  # not escaped twice


def test_tables_share_the_report_layout(tmp_path):
    page = "".join(strategies_section(results(), tmp_path, lambda fig: ""))
    assert page.count('<div class="scroll"><table>') == 3
    # metrics: label, then right-aligned numbers ("n/a" where missing)
    assert '<td class="num">12.34%</td>' in page and '<td class="num">0.500</td>' in page
    # sweep: parameter values as written, None included
    row = re.search(r"<tbody><tr><td>10</td><td>None</td>(.*?)</tr>", page)
    assert row is not None and '<td class="num">3</td>' in row.group(1)
    # validation: the fold's parameters joined
    assert "<td>fast=10</td>" in page and '<td class="num">0.250</td>' in page
