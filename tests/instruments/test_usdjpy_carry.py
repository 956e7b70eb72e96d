"""Long USD/JPY over calendar 2023 on the bundled snapshot: the carry a position earned.

Kind: published fact + hand loop. The US-Japan short-rate differential was about 5% a year
in 2023 (Fed funds target upper bound 4.50% -> 5.50%, Japan's overnight call rate about
-0.03%; FRED DFEDTARU and the Bank of Japan's FM01 STRDCLUCON, as held in data/snapshot/),
so a long USD/JPY position earned between 4% and 6% of carry over the year (issue 14's
acceptance). The reference sum is a plain Python loop over the observation intervals with
each rate looked up by hand as of the interval's start (ACT/360 for USD, ACT/365 for JPY).
"""

from __future__ import annotations

import bisect
import itertools

import pandas as pd
import pytest

from backtest import data
from backtest.instruments import fx_total_return


@pytest.fixture(scope="module")
def levels():
    return data.load(
        ["USDJPY", "FEDFUNDS_TARGET", "JPY_CALL"],
        start="2022-06-01",
        end="2024-06-30",
        offline=True,
    )


def test_long_usdjpy_2023_carry_between_4_and_6_percent(levels):
    spot = levels["USDJPY"].dropna()
    usd, jpy = levels["FEDFUNDS_TARGET"].dropna(), levels["JPY_CALL"].dropna()
    ret = fx_total_return(spot, usd, jpy, base="USD", quote="JPY", name="USDJPY")
    year = ret.loc["2023-01-01":"2023-12-31"]
    carry = float(year["carry"].sum())
    assert 0.04 <= carry <= 0.06, carry
    assert float((year["spot"] + year["carry"] - year["total"]).abs().max()) < 1e-15

    def asof(series: pd.Series, day: pd.Timestamp) -> float:
        i = bisect.bisect_right(list(series.index), day) - 1
        return float(series.iloc[i])

    dates = list(spot.index)
    hand = 0.0
    for s, t in itertools.pairwise(dates):
        if not (pd.Timestamp("2023-01-01") <= t <= pd.Timestamp("2023-12-31")):
            continue
        days = (t - s).days
        hand += asof(usd, s) / 100 * days / 360 - asof(jpy, s) / 100 * days / 365
    assert carry == pytest.approx(hand, rel=1e-12)
