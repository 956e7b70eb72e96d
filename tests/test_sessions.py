"""Tests of backtest/sessions.py: observation instants, day 0, as-of alignment.

Expected values are hand-computed from the UTC offsets written beside them (2025: the
US moved to summer time on 03-09 and back on 11-02, Europe on 03-30 and 10-26; Tokyo
keeps UTC+9), or come from an independent construction in the test (plain Python
``zoneinfo`` instants with a loop, and ``pandas.merge_asof``) for the as-of alignment.
"""

from __future__ import annotations

import datetime as dt
import warnings
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtest import data, sessions
from backtest.errors import DataValidationError
from backtest.sessions import Clock, asof_align, clock_of, day0, day0_positions, observation_times

from .builders import events

NY = "America/New_York"
TOKYO = "Asia/Tokyo"
LONDON = "Europe/London"


def levels(dates: list[str], *names: str) -> pd.DataFrame:
    """Levels 1, 2, 3, ... on `dates` for each of `names` (values are irrelevant here)."""
    values = np.arange(1.0, len(dates) + 1.0)
    return pd.DataFrame({n: values for n in names}, index=pd.DatetimeIndex(dates))


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


LIBERATION = ("2025-04-02", "16:00", NY, "liberation_day")
PAUSE = ("2025-04-09", "13:18", NY, "pause_90d")
KATO = ("2025-05-02", None, TOKYO, "kato_treasuries")

# The clocks of the README's example (and of the built-in catalog).
CLOCKS = {
    "SPX": (NY, "16:00"),  # S&P 500 close
    "NKY": (TOKYO, "15:30"),  # Nikkei 225 close
    "USDJPY": (NY, "12:00"),  # FRED DEXJPUS, noon New York buying rate
    "JGB10Y": (TOKYO, "15:00"),
}
APRIL = ["2025-04-01", "2025-04-02", "2025-04-03", "2025-04-04", "2025-04-07", "2025-04-08"]
APRIL += ["2025-04-09", "2025-04-10", "2025-04-11"]


# Observation instants ------------------------------------------------------------------------


def test_observation_times_apply_each_dates_utc_offset():
    dates = pd.DatetimeIndex(["2025-03-07", "2025-03-10", "2025-03-31"])
    ny = observation_times(dates, (NY, "12:00"))
    london = observation_times(dates, Clock(LONDON, dt.time(16, 30)))
    tokyo = observation_times(dates, (TOKYO, "15:00"))
    # Hand: NY UTC-5 until 03-09, then UTC-4; London UTC+0 until 03-30, then UTC+1.
    assert list(ny) == [
        ts("2025-03-07 17:00Z"),
        ts("2025-03-10 16:00Z"),
        ts("2025-03-31 16:00Z"),
    ]
    assert list(london) == [
        ts("2025-03-07 16:30Z"),
        ts("2025-03-10 16:30Z"),
        ts("2025-03-31 15:30Z"),
    ]
    assert list(tokyo) == [ts(f"2025-03-{d} 06:00Z") for d in ("07", "10", "31")]
    assert str(ny.tz) == "UTC" and ny.unit == "ns"


def test_observation_time_skipped_by_spring_forward_moves_to_the_next_instant():
    # 02:30 does not exist in New York on 2025-03-09 (02:00 EST -> 03:00 EDT); hand:
    # shifted to 03:00 EDT = 07:00 UTC.
    got = observation_times(pd.DatetimeIndex(["2025-03-09"]), (NY, "02:30"))
    assert got[0] == ts("2025-03-09 07:00Z")


def test_catalog_sources_give_the_same_instants():
    # Invariant (code against code): SourceSpec.observation_times in the catalog does the
    # same arithmetic for one source; the two must not drift apart.
    from backtest.data.catalog import builtin_catalog

    dates = pd.bdate_range("2024-01-01", "2025-12-31")
    cat = builtin_catalog()
    for name in cat:
        for src in cat[name].sources:
            mine = observation_times(dates, (src.timezone, src.obs_time))
            assert mine.equals(src.observation_times(dates).as_unit("ns")), (name, src.provider)


def test_clock_parse_refuses_unknown_zone_and_time():
    with pytest.raises(DataValidationError, match="unknown time zone 'Mars/Olympus'"):
        Clock.parse(("Mars/Olympus", "12:00"))
    with pytest.raises(DataValidationError, match="'HH:MM'"):
        Clock.parse((NY, "noon"))
    with pytest.raises(DataValidationError, match="a clock is"):
        Clock.parse("America/New_York")  # type: ignore[arg-type]


def test_clock_of_prefers_clocks_then_provenance_then_catalog():
    frame = levels(APRIL, "SPX", "MINE")
    frame.attrs["backtest"] = {"series": {"SPX": {"timezone": LONDON, "obs_time": "16:30"}}}
    assert clock_of(frame, "SPX") == Clock(LONDON, dt.time(16, 30))
    assert clock_of(frame, "SPX", {"SPX": (TOKYO, "09:00")}) == Clock(TOKYO, dt.time(9))
    frame.attrs = {}
    assert clock_of(frame, "SPX") == Clock(NY, dt.time(16))  # the catalog's FRED SP500
    with pytest.raises(DataValidationError, match="observation clock of column 'MINE'"):
        clock_of(frame, "MINE")


# Day 0: the README's cases -------------------------------------------------------------------


def test_liberation_day_after_the_new_york_close_is_04_03_in_new_york_and_tokyo():
    got = day0(events(LIBERATION), levels(APRIL, "SPX", "NKY"), clocks=CLOCKS)
    # Hand: the event is 04-02 16:00 EDT = 20:00 UTC. SPX 04-02 is observed at exactly
    # that instant (not strictly after) -> 04-03. NKY 04-02 15:30 JST = 06:30 UTC is
    # before; 04-03 06:30 UTC is the first after.
    assert got.loc["liberation_day"].tolist() == [ts("2025-04-03"), ts("2025-04-03")]


def test_pause_at_13_18_is_04_09_for_spx_but_04_10_for_fred_noon_and_tokyo():
    got = day0(events(PAUSE), levels(APRIL, "SPX", "USDJPY", "NKY"), clocks=CLOCKS)
    # Hand: 13:18 EDT = 17:18 UTC. SPX 04-09 20:00 UTC after it; USDJPY 04-09 noon EDT
    # = 16:00 UTC before it, 04-10 16:00 UTC after; NKY 04-09 06:30 UTC before,
    # 04-10 06:30 UTC after.
    assert got.loc["pause_90d"].tolist() == [ts("2025-04-09"), ts("2025-04-10"), ts("2025-04-10")]


def test_readme_cases_on_the_snapshot_with_the_catalogs_clocks():
    lv = data.load(["SPX", "NKY", "USDJPY"], start="2025-03-01", end="2025-05-31", offline=True)
    got = day0(events(LIBERATION, PAUSE, KATO), lv)
    assert got.loc["liberation_day", "SPX"] == ts("2025-04-03")
    assert got.loc["liberation_day", "NKY"] == ts("2025-04-03")
    assert got.loc["pause_90d", "SPX"] == ts("2025-04-09")
    assert got.loc["pause_90d", "USDJPY"] == ts("2025-04-10")
    assert got.loc["pause_90d", "NKY"] == ts("2025-04-10")
    # Date-only, Friday 2025-05-02 in Tokyo (a trading day between Golden Week's holidays).
    assert got.loc["kato_treasuries", "NKY"] == ts("2025-05-02")
    assert got.loc["kato_treasuries", "SPX"] == ts("2025-05-02")


def test_event_exactly_at_an_observation_instant_maps_to_the_next_observation():
    # 2025-04-10 15:30 Tokyo is NKY's observation instant of 04-10 (hand: 06:30 UTC).
    ev = events(("2025-04-10", "15:30", TOKYO, "at"), ("2025-04-10", "15:29", TOKYO, "before"))
    got = day0(ev, levels(APRIL, "NKY"), clocks=CLOCKS)["NKY"]
    assert got.tolist() == [ts("2025-04-11"), ts("2025-04-10")]


# Day 0: date-only events --------------------------------------------------------------------


def test_date_only_event_is_in_that_dates_session_whatever_the_clock():
    # Hand: a date-only event maps to the first observation dated on or after its
    # date, for every clock. A timed event at 00:00 Tokyo differs for SPX: 04-08 00:00
    # JST = 04-07 15:00 UTC = 04-07 11:00 EDT, before SPX's 04-07 close.
    frame = levels(APRIL, "SPX", "NKY")
    got = day0(events(("2025-04-08", None, TOKYO, "d")), frame, clocks=CLOCKS)
    assert got.loc["d"].tolist() == [ts("2025-04-08"), ts("2025-04-08")]
    midnight = day0(events(("2025-04-08", "00:00", TOKYO, "t")), frame, clocks=CLOCKS)
    assert midnight.loc["t"].tolist() == [ts("2025-04-07"), ts("2025-04-08")]
    weekend = day0(events(("2025-04-05", None, NY, "sat")), frame, clocks=CLOCKS)
    assert weekend.loc["sat"].tolist() == [ts("2025-04-07"), ts("2025-04-07")]


def test_date_only_events_need_no_clock():
    frame = levels(APRIL, "MINE")  # not in the catalog, no provenance, no clocks
    got = day0(events(("2025-04-02", None, NY, "d")), frame)
    assert got.loc["d", "MINE"] == ts("2025-04-02")
    with pytest.raises(DataValidationError, match="observation clock of column 'MINE'"):
        day0(events(LIBERATION), frame)


def test_day0_positions_timed_events_need_instants():
    with pytest.raises(DataValidationError, match="timed events need observation times"):
        day0_positions(events(LIBERATION), pd.DatetimeIndex(APRIL), None)


def test_event_outside_the_data_has_position_0_or_len():
    dates = pd.DatetimeIndex(APRIL)
    obs = observation_times(dates, CLOCKS["SPX"]).asi8
    ev = events(("2025-03-01", "10:00", NY, "before"), ("2025-04-11", "16:00", NY, "after"))
    assert day0_positions(ev, dates, obs).tolist() == [0, len(dates)]
    assert day0(ev, levels(APRIL, "SPX"), clocks=CLOCKS)["SPX"].isna().tolist() == [False, True]


# Day 0: daylight saving ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date", "expected", "why"),
    [
        # Winter: 12:15 EST = 17:15 UTC; London's 16:30 GMT = 16:30 UTC close was before.
        ("2025-03-05", "2025-03-06", "both on winter time"),
        # New York on EDT, London still on GMT: 12:15 EDT = 16:15 UTC, before 16:30 UTC.
        ("2025-03-12", "2025-03-12", "US on summer time, Europe not yet"),
        # Both on summer time: 16:15 UTC, London's 16:30 BST = 15:30 UTC was before.
        ("2025-04-02", "2025-04-03", "both on summer time"),
        # Europe back on GMT (10-26), New York still EDT (until 11-02): as in March.
        ("2025-10-29", "2025-10-29", "Europe on winter time, US not yet"),
    ],
)
def test_new_york_midday_event_in_london_across_dst_weeks(date, expected, why):
    dates = pd.bdate_range("2025-03-03", "2025-11-07")
    frame = pd.DataFrame({"FTSE": 1.0}, index=dates)
    got = day0(events((date, "12:15", NY, "e")), frame, clocks={"FTSE": (LONDON, "16:30")})
    assert got.loc["e", "FTSE"] == ts(expected), why


def test_tokyo_close_against_new_york_event_in_the_dst_switch_week():
    # Tokyo has no DST: 15:00 JST = 06:00 UTC always. An event at 01:30 New York on
    # Tuesday 2025-03-11 (EDT, = 05:30 UTC) precedes that day's close; one week
    # earlier, 01:30 EST = 06:30 UTC comes after it.
    dates = pd.bdate_range("2025-03-03", "2025-03-14")
    frame = pd.DataFrame({"JGB10Y": 1.0}, index=dates)
    ev = events(("2025-03-04", "01:30", NY, "est"), ("2025-03-11", "01:30", NY, "edt"))
    got = day0(ev, frame, clocks=CLOCKS)["JGB10Y"]
    assert got.tolist() == [ts("2025-03-05"), ts("2025-03-11")]


# Day 0: the event study uses the same rule (invariant, code against code) -------------------


def test_event_study_day0_equals_sessions_day0():
    from backtest.eventstudy import EventStudy

    lv = data.load(["SPX", "NKY", "USDJPY"], start="2024-01-01", end="2025-06-30", offline=True)
    ev = events(LIBERATION, PAUSE, KATO)
    res = EventStudy(model="raw").run(lv, ev)
    assert res.day0.to_numpy().tolist() == day0(ev, lv).to_numpy().tolist()


def test_day0_positions_moved_but_still_importable_from_the_study_with_a_warning():
    import backtest.eventstudy.study as study

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        moved = study.day0_positions
    assert moved is sessions.day0_positions
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)


# As-of alignment against independent constructions ------------------------------------------


def _instant(date: dt.datetime, zone: str, clock: str) -> dt.datetime:
    """Observation instant in UTC with plain zoneinfo (no pandas tz machinery)."""
    local = dt.datetime.combine(date.date(), dt.time.fromisoformat(clock), ZoneInfo(zone))
    return local.astimezone(dt.UTC)


def brute_force_asof(
    values: pd.Series, b_clock: tuple[str, str], a_clock: tuple[str, str], dates: pd.DatetimeIndex
) -> list[float]:
    """For each A day, loop over B's observations; keep the last one taken by A's instant."""
    out = []
    for day in dates:
        at = _instant(day, *a_clock)
        best = np.nan
        best_when = None
        for b_day, v in values.items():
            when = _instant(b_day, *b_clock)
            if when <= at and (best_when is None or when > best_when):
                best, best_when = float(v), when
        out.append(best)
    return out


def merge_asof_construction(
    values: pd.Series, b_clock: tuple[str, str], a_clock: tuple[str, str], dates: pd.DatetimeIndex
) -> list[float]:
    """The same with pandas.merge_asof on UTC instants built from zoneinfo."""
    b = values
    utc = "datetime64[ns, UTC]"
    right = pd.DataFrame(
        {
            "t": pd.DatetimeIndex([_instant(d, *b_clock) for d in b.index], dtype=utc),
            "v": b.to_numpy(dtype=float),
        }
    )
    left = pd.DataFrame(
        {
            "t": pd.DatetimeIndex([_instant(d, *a_clock) for d in dates], dtype=utc),
            "i": range(len(dates)),
        }
    )
    merged = pd.merge_asof(left.sort_values("t"), right, on="t", allow_exact_matches=True)
    return merged.sort_values("i")["v"].tolist()


# Clocks kept out of 01:00-03:00 local, where zoneinfo (fold=0 for a skipped time) and the
# rule (shift forward) deliberately differ; that case is tested above.
ZONE_CLOCKS = st.sampled_from(
    [
        (NY, "12:00"),
        (NY, "16:00"),
        (NY, "23:30"),
        (LONDON, "16:30"),
        (TOKYO, "15:00"),
        (TOKYO, "05:00"),
        ("Pacific/Auckland", "06:00"),
        ("Pacific/Honolulu", "20:00"),
        ("America/Chicago", "15:00"),
        ("UTC", "00:00"),
    ]
)
# Dates around the 2025 DST changes on both sides of the Atlantic and in New Zealand.
DAYS = pd.bdate_range("2025-03-03", "2025-04-11").append(pd.bdate_range("2025-10-20", "2025-11-07"))


@st.composite
def subsets(draw: st.DrawFn) -> pd.DatetimeIndex:
    keep = draw(st.lists(st.booleans(), min_size=len(DAYS), max_size=len(DAYS)))
    return DAYS[np.array(keep)]


@settings(max_examples=150, deadline=None)
@given(
    b_clock=ZONE_CLOCKS,
    a_clock=ZONE_CLOCKS,
    b_days=subsets(),
    a_days=subsets(),
    nan_every=st.integers(min_value=0, max_value=5),
)
def test_asof_align_matches_a_brute_force_loop_and_merge_asof(
    b_clock, a_clock, b_days, a_days, nan_every
):
    vals = np.arange(1.0, len(b_days) + 1.0)
    if nan_every:
        vals[::nan_every] = np.nan
    b = pd.Series(vals, index=b_days, name="B")
    got = asof_align(b, b_clock, a_clock, a_days)
    assert got.index.equals(a_days)
    assert got.name == "B"
    expected = brute_force_asof(b, b_clock, a_clock, a_days)
    np.testing.assert_array_equal(got.to_numpy(), np.array(expected, dtype=float))
    if len(a_days):
        np.testing.assert_array_equal(
            got.to_numpy(), np.array(merge_asof_construction(b, b_clock, a_clock, a_days), float)
        )
    valid = b.dropna()
    np.testing.assert_array_equal(
        asof_align(valid, b_clock, a_clock, a_days).to_numpy(),
        np.array(brute_force_asof(valid, b_clock, a_clock, a_days), dtype=float),
    )


def test_asof_align_hand_case_london_close_at_new_york_noon_across_dst():
    days = pd.DatetimeIndex(["2025-03-07", "2025-03-10", "2025-03-31"])
    ftse = pd.Series([10.0, 11.0, 12.0], index=days)
    got = asof_align(ftse, (LONDON, "16:30"), (NY, "12:00"), days)
    # Hand: 03-07 London 16:30 UTC <= NY noon 17:00 UTC -> same day (10); 03-10 London
    # 16:30 UTC > NY noon 16:00 UTC -> previous (10); 03-31 London 15:30 UTC <= 16:00
    # UTC -> same day (12).
    assert got.tolist() == [10.0, 10.0, 12.0]


def test_asof_align_carries_nan_unless_dropped():
    days = pd.DatetimeIndex(["2025-04-08", "2025-04-09", "2025-04-10"])
    jgb = pd.Series([1.0, np.nan, 3.0], index=days)
    tokyo, noon = CLOCKS["JGB10Y"], CLOCKS["USDJPY"]
    # Hand: Tokyo 15:00 (06:00 UTC) is before New York noon (16:00 UTC): same day.
    got = asof_align(jgb, tokyo, noon, days).to_numpy()
    assert got[0] == 1.0 and np.isnan(got[1]) and got[2] == 3.0
    assert asof_align(jgb.dropna(), tokyo, noon, days).tolist() == [1.0, 1.0, 3.0]
