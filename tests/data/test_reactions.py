"""Tests of backtest.data.reactions: natural units, each series on its own observations.

Reference checks: hand-computed from published levels (data/snapshot/SOURCES.md) or
from levels read back and differenced here with numpy / math.log. Invariant (hypothesis
property): ``test_changes_add_up_to_the_total_change`` (daily changes sum to the total
change, whatever the gaps).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest import data
from backtest.errors import DataValidationError


def test_units_on_real_data():
    levels = data.load(
        ["UST10Y", "USDJPY", "SPX"], start="2025-04-02", end="2025-04-04", offline=True
    )
    r = data.reactions(levels)
    # Hand-computed from the published levels (data/snapshot/SOURCES.md spot checks):
    # DGS10 4.20 -> 4.06 -> 4.01; DEXJPUS 149.98 -> 146.04 -> 145.93;
    # SP500 5670.97 -> 5396.52 -> 5074.08.
    assert r["UST10Y"].iloc[1:].tolist() == pytest.approx([-14.0, -5.0], abs=1e-9)
    assert r["USDJPY"].iloc[1] == pytest.approx(100 * math.log(146.04 / 149.98), rel=1e-12)
    assert r["SPX"].iloc[2] == pytest.approx(100 * math.log(5074.08 / 5396.52), rel=1e-12)
    assert r.attrs["backtest"]["units"] == {
        "UST10Y": "bp",
        "USDJPY": "% log return",
        "SPX": "% log return",
    }


def test_closed_days_are_skipped_not_zero():
    # Nikkei across Golden Week 2025: 05-02 close 36830.69, next session 05-07 36779.66
    # (Nikkei official closes, data/snapshot/NIKKEI225.csv).
    levels = data.load(["NKY", "UST10Y"], start="2025-05-01", end="2025-05-07", offline=True)
    r = data.reactions(levels)
    assert r.loc["2025-05-05":"2025-05-06", "NKY"].isna().all()
    nky = levels["NKY"]
    want = 100 * math.log(nky.loc["2025-05-07"] / nky.loc["2025-05-02"])
    assert r.at[pd.Timestamp("2025-05-07"), "NKY"] == pytest.approx(want, rel=1e-12)
    assert r.loc["2025-05-05":"2025-05-06", "UST10Y"].notna().all()


def test_explicit_kinds_and_unknown_columns():
    idx = pd.DatetimeIndex(["2025-01-02", "2025-01-03"])
    frame = pd.DataFrame({"mine": [1.0, 1.5]}, index=idx)
    assert data.reactions(frame, kinds={"mine": "yield"})["mine"].iloc[1] == pytest.approx(50.0)
    with pytest.raises(DataValidationError, match="kind of column 'mine' is unknown"):
        data.reactions(frame)
    with pytest.raises(DataValidationError, match="must be one of"):
        data.reactions(frame, kinds={"mine": "bond"})


def test_non_positive_price_is_an_error():
    idx = pd.DatetimeIndex(["2025-01-02", "2025-01-03"])
    frame = pd.DataFrame({"SPX": [100.0, 0.0]}, index=idx)
    with pytest.raises(
        DataValidationError, match="SPX \\(index\\) has a non-positive level on 2025-01-03"
    ):
        data.reactions(frame)


def test_negative_yields_are_fine():
    # JGB10Y was negative in 2016-2019 (MoF); changes in bp are plain differences.
    levels = data.load(["JGB10Y"], start="2016-07-27", end="2016-07-29", offline=True)
    assert (levels["JGB10Y"] < 0).all()
    r = data.reactions(levels)["JGB10Y"].iloc[1:]
    want = np.diff(levels["JGB10Y"].to_numpy()) * 100
    assert r.to_numpy() == pytest.approx(want, abs=1e-9)


levels_strategy = st.lists(
    st.one_of(st.none(), st.floats(min_value=0.5, max_value=500.0)), min_size=2, max_size=40
)


@settings(max_examples=60, deadline=None)
@given(values=levels_strategy, kind=st.sampled_from(["yield", "fx", "index"]))
def test_changes_add_up_to_the_total_change(values, kind):
    idx = pd.bdate_range("2024-01-01", periods=len(values))
    lv = pd.DataFrame({"x": [np.nan if v is None else v for v in values]}, index=idx)
    r = data.reactions(lv, kinds={"x": kind})["x"]
    own = [v for v in values if v is not None]
    assert r.isna().sum() == len(values) - max(len(own) - 1, 0)
    if len(own) < 2:
        return
    total = (own[-1] - own[0]) * 100 if kind == "yield" else 100 * math.log(own[-1] / own[0])
    assert r.sum() == pytest.approx(total, rel=1e-9, abs=1e-7)
