"""Tests of backtest/events.py and of the bundled calendars in data/events/.

Expected instants are computed in the tests with :mod:`zoneinfo` (independent of
the code under test) or written out by hand; expected dates, times and labels come
from the shared original calendars, read here with pandas.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from backtest import events
from backtest.errors import DataValidationError

from .conftest import REPO

EVENTS_DIR = REPO / "data" / "events"
SHARED = REPO.parent / "shared" / "data" / "events"
NY, TOKYO, SEOUL = "America/New_York", "Asia/Tokyo", "Asia/Seoul"
CONVERTED = ("tariffs_2025.csv", "fomc_2024_2025.csv", "boj_2024_2025.csv")

needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"shared original calendars not present at {SHARED}"
)


def utc(year, month, day, hour=0, minute=0, zone=NY):
    """The UTC instant of a local clock reading, computed with zoneinfo."""
    local = dt.datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone))
    return pd.Timestamp(local.astimezone(dt.UTC))


def write(tmp_path: Path, text: str, name: str = "ev.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def original(name: str) -> pd.DataFrame:
    return pd.read_csv(SHARED / name, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def tariffs() -> pd.DataFrame:
    return events.load(EVENTS_DIR / "tariffs_2025.csv")


@pytest.fixture(scope="module")
def fomc() -> pd.DataFrame:
    return events.load(EVENTS_DIR / "fomc_2024_2025.csv")


@pytest.fixture(scope="module")
def boj() -> pd.DataFrame:
    return events.load(EVENTS_DIR / "boj_2024_2025.csv")


def by_id(frame: pd.DataFrame, event: str) -> pd.Series:
    rows = frame[frame["event"] == event]
    assert len(rows) == 1, event
    return rows.iloc[0]


# The bundled calendars against the shared originals ------------------------------------


def check_against_original(loaded, source, *, date_col, time_col, zone_of):
    """Every original row appears once, with its date, time, label and zone."""
    assert len(loaded) == len(source)
    local_dates = loaded["date"].dt.strftime("%Y-%m-%d")
    for _, row in source.iterrows():
        match = loaded[(local_dates == row[date_col]) & (loaded["label"] == row["label"])]
        assert len(match) == 1, (row[date_col], row["label"])
        event = match.iloc[0]
        zone = zone_of(row)
        assert event["timezone"] == zone, row["label"]
        assert event["source"] == row["source"]
        local = event["timestamp"].tz_convert(zone)
        assert local.strftime("%Y-%m-%d") == row[date_col]
        if row[time_col]:
            assert event["time_given"]
            assert local.strftime("%H:%M") == row[time_col]
        else:
            assert not event["time_given"]
            assert local.strftime("%H:%M") == "00:00"


@needs_shared
def test_tariffs_match_original(tariffs):
    source = original("tariffs_2025.csv")
    assert len(source) == 29

    def zone_of(row):
        # Label words: "aired Friday, Japan time" (Kato), "date is Korea time" (Busan).
        if "Japan time" in row["label"]:
            return TOKYO
        if "date is Korea time" in row["label"]:
            return SEOUL
        return NY

    check_against_original(tariffs, source, date_col="date", time_col="time_et", zone_of=zone_of)
    assert sorted(tariffs["category"]) == sorted(source["category"])
    zones = tariffs.set_index("event")["timezone"]
    assert zones["kato_treasuries"] == TOKYO and zones["busan_trump_xi"] == SEOUL
    assert (zones.drop(["kato_treasuries", "busan_trump_xi"]) == NY).all()


@needs_shared
def test_fomc_match_original(fomc):
    source = original("fomc_2024_2025.csv")
    assert len(source) == 16
    check_against_original(fomc, source, date_col="date", time_col="time_et", zone_of=lambda r: NY)
    assert (fomc["category"] == "fomc").all()
    assert fomc["decision"].tolist() == source["decision"].tolist()
    assert fomc["target_upper_pct"].tolist() == [float(v) for v in source["target_upper_pct"]]
    # Every FOMC statement is at 14:00 New York time.
    local = fomc["timestamp"].dt.tz_convert(NY)
    assert (local.dt.strftime("%H:%M") == "14:00").all()


@needs_shared
def test_boj_match_original(boj):
    source = original("boj_2024_2025.csv")
    assert len(source) == 16
    check_against_original(
        boj, source, date_col="date_jst", time_col="time_jst", zone_of=lambda r: TOKYO
    )
    assert (boj["category"] == "boj").all() and (boj["timezone"] == TOKYO).all()
    assert boj["decision"].tolist() == source["decision"].tolist()
    assert boj["policy_rate_pct"].tolist() == [float(v) for v in source["policy_rate_pct"]]


def test_ids_are_the_chosen_ones(tariffs, fomc, boj):
    for name in ("liberation_day", "pause_90d", "kato_treasuries", "busan_trump_xi"):
        by_id(tariffs, name)
    by_id(fomc, "fomc_2025_03_19")
    by_id(boj, "boj_2025_01_24")


def test_known_instants(tariffs, fomc, boj):
    # Hand-written UTC from the EDT/EST/JST offsets, and the same computed with zoneinfo.
    cases = [
        (tariffs, "liberation_day", "2025-04-02T20:00Z", utc(2025, 4, 2, 16)),  # EDT
        (tariffs, "pause_90d", "2025-04-09T17:18Z", utc(2025, 4, 9, 13, 18)),  # EDT
        (fomc, "fomc_2025_01_29", "2025-01-29T19:00Z", utc(2025, 1, 29, 14)),  # EST
        (fomc, "fomc_2025_07_30", "2025-07-30T18:00Z", utc(2025, 7, 30, 14)),  # EDT
        # Label: "statement 11:25 JST = 2025-03-18 22:25 EDT".
        (boj, "boj_2025_03_19", "2025-03-19T02:25Z", utc(2025, 3, 18, 22, 25)),
    ]
    for frame, event, literal, computed in cases:
        stamp = by_id(frame, event)["timestamp"]
        assert stamp == pd.Timestamp(literal) == computed, event
        assert by_id(frame, event)["time_given"]


def test_date_only_rows_start_at_local_midnight(tariffs, boj):
    boj_jan = by_id(boj, "boj_2025_01_24")
    assert boj_jan["timestamp"] == utc(2025, 1, 24, zone=TOKYO) == pd.Timestamp("2025-01-23T15:00Z")
    assert boj_jan["date"] == pd.Timestamp("2025-01-24")  # the Tokyo date, not the UTC one
    assert not boj_jan["time_given"]
    busan = by_id(tariffs, "busan_trump_xi")
    assert busan["timestamp"] == utc(2025, 10, 30, zone=SEOUL) == pd.Timestamp("2025-10-29T15:00Z")
    kato = by_id(tariffs, "kato_treasuries")
    assert kato["timestamp"] == utc(2025, 5, 2, zone=TOKYO) == pd.Timestamp("2025-05-01T15:00Z")
    memo = by_id(tariffs, "reciprocal_memo")  # 2025-02-13, EST
    assert memo["timestamp"] == pd.Timestamp("2025-02-13T05:00Z") and not memo["time_given"]


@pytest.mark.parametrize("name", CONVERTED)
def test_canonical_shape(name):
    frame = events.load(EVENTS_DIR / name)
    assert tuple(frame.columns[:7]) == events.EVENT_COLUMNS
    assert "source" in frame.columns
    assert isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0
    assert str(frame["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert str(frame["date"].dtype) == "datetime64[ns]"
    assert (frame["date"] == frame["date"].dt.normalize()).all()
    assert frame["time_given"].dtype == np.bool_
    for column in ("event", "timezone", "label", "category"):
        assert pd.api.types.is_string_dtype(frame[column]), column
    assert frame["timestamp"].is_monotonic_increasing
    assert frame["event"].is_unique


def load_convert_module():
    spec = importlib.util.spec_from_file_location("convert_events", EVENTS_DIR / "convert.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_shared
def test_convert_script_reproduces_bundled_files(tmp_path):
    written = load_convert_module().convert(SHARED, tmp_path)
    assert sorted(p.name for p in written) == sorted(CONVERTED)
    for name in CONVERTED:
        assert (tmp_path / name).read_bytes() == (EVENTS_DIR / name).read_bytes(), name


# Loading: formats, zones, ids -------------------------------------------------------------


def test_zone_precedence_row_then_file_then_argument(tmp_path):
    csv = write(tmp_path, "date,time,timezone,label\n2025-04-02,09:00,,a\n2025-04-02,09:00,UTC,b\n")
    # A time with no zone from anywhere is refused (issue 11), not read as New York.
    with pytest.raises(DataValidationError, match="line 2: time 09:00 has no time zone"):
        events.load(csv)
    with_arg = events.load(csv, timezone=TOKYO).set_index("label")
    assert with_arg["timezone"].to_dict() == {"a": TOKYO, "b": "UTC"}
    assert with_arg["timestamp"].to_dict() == {
        "a": utc(2025, 4, 2, 9, zone=TOKYO),
        "b": pd.Timestamp("2025-04-02T09:00Z"),
    }
    yaml_file = write(
        tmp_path,
        "timezone: Asia/Tokyo\nevents:\n"
        "  - {date: 2025-04-02, time: '09:00', label: a}\n"
        "  - {date: 2025-04-02, time: '09:00', label: b, timezone: Europe/London}\n",
        "ev.yaml",
    )
    # The file's default beats the argument; a row's own zone beats both.
    loaded = events.load(yaml_file, timezone="America/Chicago")
    assert loaded["timezone"].tolist() == [TOKYO, "Europe/London"]
    assert loaded["timestamp"].tolist() == [
        pd.Timestamp("2025-04-02T00:00Z"),  # 09:00 JST = UTC+9
        pd.Timestamp("2025-04-02T08:00Z"),  # 09:00 BST = UTC+1
    ]


def test_yaml_format_with_extras_and_ids(tmp_path):
    path = write(
        tmp_path,
        "timezone: Asia/Tokyo\n"
        "events:\n"
        "  - id: boj_hike\n"
        "    date: 2025-01-24\n"
        "    label: BoJ hike\n"
        "    category: boj\n"
        "    policy_rate_pct: 0.5\n"
        "  - date: 2025-03-19\n"
        "    time: 11:25\n"  # unquoted: not YAML 1.1's base-60 number 685
        "    label: BoJ hold\n"
        "    note: statement\n",
        "ev.yml",
    )
    frame = events.load(path)
    assert frame["event"].tolist() == ["boj_hike", "2025-03-19"]
    assert frame["category"].tolist() == ["boj", ""]
    assert frame["timestamp"].tolist() == [
        pd.Timestamp("2025-01-23T15:00Z"),
        pd.Timestamp("2025-03-19T02:25Z"),
    ]
    assert frame["time_given"].tolist() == [False, True]
    assert list(frame.columns[7:]) == ["policy_rate_pct", "note"]
    assert frame["policy_rate_pct"].iloc[0] == 0.5 and np.isnan(frame["policy_rate_pct"].iloc[1])
    assert frame["note"].tolist() == ["", "statement"]


def test_yaml_top_level_list_and_seconds(tmp_path):
    path = write(
        tmp_path,
        "- {date: 2025-04-09, time: '13:18:30', timezone: America/New_York, label: x}\n",
        "ev.yaml",
    )
    frame = events.load(path)
    assert frame["timestamp"].iloc[0] == pd.Timestamp("2025-04-09T17:18:30Z")


def test_generated_ids_count_rows_of_a_date_in_file_order(tmp_path):
    path = write(
        tmp_path,
        "date,time,label\n2025-04-09,13:18,b\n2025-04-09,,a\n2025-04-10,,c\n2025-04-09,09:00,d\n",
    )
    frame = events.load(path, timezone=NY)  # times need a zone written down (issue 11)
    assert frame["label"].tolist() == ["a", "d", "b", "c"]  # sorted by instant
    assert frame["event"].tolist() == ["2025-04-09_2", "2025-04-09_3", "2025-04-09", "2025-04-10"]


def test_equal_instants_keep_file_order(tmp_path):
    path = write(tmp_path, "date,label\n2025-04-09,second\n2025-04-08,first\n2025-04-09,third\n")
    assert events.load(path)["label"].tolist() == ["first", "second", "third"]


def test_midnight_in_a_dst_gap_starts_the_day_at_the_first_valid_instant(tmp_path):
    # Chile moved clocks from 2024-09-08 00:00 to 01:00 (-04 -> -03): midnight did
    # not exist, the day began at 01:00 -03 = 04:00 UTC (checked with zoneinfo).
    zone = ZoneInfo("America/Santiago")
    midnight = dt.datetime(2024, 9, 8, tzinfo=zone)
    assert midnight.astimezone(dt.UTC).astimezone(zone).hour == 1  # midnight is in the gap
    path = write(tmp_path, "date,timezone,label\n2024-09-08,America/Santiago,x\n")
    frame = events.load(path)
    assert frame["timestamp"].iloc[0] == utc(2024, 9, 8, 1, zone="America/Santiago")
    assert frame["timestamp"].iloc[0] == pd.Timestamp("2024-09-08T04:00Z")
    assert frame["date"].iloc[0] == pd.Timestamp("2024-09-08")


def test_quoted_multiline_field_keeps_editor_line_numbers(tmp_path):
    path = write(tmp_path, 'date,label\n2025-04-02,"two\nlines"\n\n2025-99-01,x\n')
    with pytest.raises(DataValidationError, match=r"ev\.csv: line 5: date '2025-99-01'"):
        events.load(path)


# Bad input ----------------------------------------------------------------------------

BAD_CSV = [
    ("date,label\n2025-04-02,ok\n2025-02-30,x\n", r"line 3: date '2025-02-30' is not a valid date"),
    ("date,label\n04/02/2025,x\n", r"line 2: date '04/02/2025'.*expected YYYY-MM-DD"),
    ("date,label\n,x\n", r"line 2: date is missing"),
    ("date,time,label\n2025-04-02,25:00,x\n", r"line 2: time '25:00'.*HH:MM or HH:MM:SS"),
    ("date,time,label\n2025-04-02,4pm,x\n", r"line 2: time '4pm' is not a valid time"),
    ("date,time,label\n2025-04-02,16:60,x\n", r"line 2: time '16:60'"),
    (
        "date,timezone,label\n2025-04-02,Asia/Tokio,x\n",
        r"line 2: timezone 'Asia/Tokio' is not a known IANA.*did you mean 'Asia/Tokyo'",
    ),
    ("date,timezone,label\n2025-04-02,JST,x\n", r"line 2: timezone 'JST'.*use 'Asia/Tokyo'"),
    ("date,timezone,label\n2025-04-02,EST,x\n", r"timezone 'EST' is an abbreviation"),
    ("date,label\n2025-04-02,ok\n2025-04-03,\n", r"line 3: label is missing"),
    ("day,label\n2025-04-02,x\n", r"no 'date' column; found \['day', 'label'\]"),
    ("date,text\n2025-04-02,x\n", r"no 'label' column"),
    ("date_jst,label\n2025-04-02,x\n", r"no 'date' column.*rename 'date_jst' to 'date'"),
    ("date,time_et,label\n2025-04-02,16:00,x\n", r"'time_et' looks like a clock time.*'time'"),
    ("date,label,timestamp\n2025-04-02,x,y\n", r"column 'timestamp' is reserved"),
    ("date,label,tz\n2025-04-02,x,UTC\n", r"column 'tz' would be ignored; name.*'timezone'"),
    ("date,label,Label\n2025-04-02,x,y\n", r"column 'Label' appears twice"),
    ("date,label\n2025-04-02,x,extra\n", r"line 2: 3 fields, but the header \(line 1\) has 2"),
    (
        "id,date,label\na,2025-04-02,x\nb,2025-04-03,y\na,2025-04-04,z\n",
        r"line 4: id 'a' was already used at line 2",
    ),
    (
        "id,date,label\n2025-04-02,2025-04-01,x\n,2025-04-02,y\n",
        r"line 3: id '2025-04-02' was already used at line 2",
    ),
    (
        # 2025-03-09 02:30 New York: clocks jump from 02:00 EST to 03:00 EDT.
        "date,time,timezone,label\n2025-03-09,02:30,America/New_York,x\n",
        r"line 2: time 2025-03-09 02:30 does not exist in America/New_York.*"
        r"e\.g\. 03:30.*timezone UTC, date 2025-03-09, time 07:30",
    ),
    (
        # 2025-11-02 01:30 New York happens at 05:30 UTC (EDT) and again at 06:30 UTC (EST).
        "date,time,timezone,label\n2025-11-02,01:30,America/New_York,x\n",
        r"line 2: time 2025-11-02 01:30 is ambiguous in America/New_York.*"
        r"timezone UTC, date 2025-11-02, time 05:30 \(the first\).*time 06:30 \(the second\)",
    ),
    ("", r"file is empty; expected a header line"),
    ("\n  \n", r"file is empty"),
    ("date,time,label\n", r"no events below the header line"),
]


@pytest.mark.parametrize(("text", "message"), BAD_CSV)
def test_bad_csv(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(DataValidationError, match=rf"^{tmp_path / 'ev.csv'}: .*{message}"):
        events.load(path)


BAD_YAML = [
    ("", r"file is empty"),
    ("events: []\n", r"'events' must be a non-empty list"),
    ("timezone: Asia/Tokyo\n", r"'events' must be a non-empty list"),
    ("timezon: Asia/Tokyo\nevents: []\n", r"unknown top-level key 'timezon'.*did you mean"),
    ("timezone: Mars/Base\nevents: [{date: 2025-04-02, label: x}]\n", r"timezone: timezone"),
    ("events:\n  - {date: 2025-04-02, time: 16:75, label: x}\n", r"events\[0\]: time '16:75'"),
    ("events:\n  - {date: 2025-04-02, time: 4pm, label: x}\n", r"events\[0\]: time '4pm'"),
    (
        "events:\n  - {date: 2025-04-02, label: x}\n  - {date: 2025-04-31, label: y}\n",
        r"events\[1\]: date",
    ),
    ("events:\n  - {date: 2025-04-02 10:00:00, label: x}\n", r"events\[0\]: date.*time of day"),
    ("events:\n  - {date: 2025-04-02}\n", r"events\[0\]: no 'label' key; found \['date'\]"),
    ("events:\n  - {date: 2025-04-02, label: ''}\n", r"events\[0\]: label is missing"),
    ("events:\n  - {date: 2025-04-02, label: x, timezone: KST}\n", r"events\[0\]: timezone 'KST'"),
    ("events:\n  - just text\n", r"events\[0\] must be a mapping"),
    ("events:\n  - {date: 2025-04-02, label: x, event: y}\n", r"key 'event' is reserved.*'id'"),
    (
        "events:\n  - {id: a, date: 2025-04-02, label: x}\n"
        "  - {id: a, date: 2025-04-03, label: y}\n",
        r"events\[1\]: id 'a' was already used at events\[0\]",
    ),
    ("events: [unclosed\n", r"not valid YAML"),
]


@pytest.mark.parametrize(("text", "message"), BAD_YAML)
def test_bad_yaml(tmp_path, text, message):
    path = write(tmp_path, text, "ev.yaml")
    with pytest.raises(DataValidationError, match=rf"^{tmp_path / 'ev.yaml'}: .*{message}"):
        events.load(path)


def test_bad_file_and_argument(tmp_path):
    with pytest.raises(DataValidationError, match=r"missing\.csv: events file not found"):
        events.load(tmp_path / "missing.csv")
    with pytest.raises(DataValidationError, match=r"unsupported file type '\.json'"):
        events.load(write(tmp_path, "{}", "ev.json"))
    good = write(tmp_path, "date,label\n2025-04-02,x\n")
    with pytest.raises(DataValidationError, match=r"timezone= argument: timezone 'Tokyo'"):
        events.load(good, timezone="Tokyo")


def test_errors_are_value_errors(tmp_path):
    with pytest.raises(ValueError, match="file is empty"):
        events.load(write(tmp_path, ""))


# from_frame ---------------------------------------------------------------------------


def test_from_frame_derives_zone_date_and_ids():
    stamps = pd.to_datetime(["2025-01-24 11:00", "2025-01-24 12:00", "2025-03-19 11:25"])
    frame = pd.DataFrame(
        {
            "timestamp": stamps.tz_localize(TOKYO),
            "label": ["b", "a", "c"],
            "source": ["s1", "s2", "s3"],
        },
        index=[10, 11, 12],
    )
    out = events.from_frame(frame)
    assert tuple(out.columns) == (*events.EVENT_COLUMNS, "source")
    assert out["event"].tolist() == ["2025-01-24", "2025-01-24_2", "2025-03-19"]
    assert (out["timezone"] == TOKYO).all() and out["time_given"].all()
    assert out["date"].tolist() == list(pd.to_datetime(["2025-01-24", "2025-01-24", "2025-03-19"]))
    assert out["timestamp"].iloc[0] == pd.Timestamp("2025-01-24T02:00Z")  # 11:00 JST
    assert str(out["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert out["category"].tolist() == ["", "", ""]
    assert out["source"].tolist() == ["s1", "s2", "s3"]
    assert isinstance(out.index, pd.RangeIndex)


def test_from_frame_local_date_differs_from_utc_date():
    # 2025-03-18 22:25 New York is 2025-03-19 02:25 UTC; the event's date is the 18th.
    frame = pd.DataFrame(
        {"timestamp": [pd.Timestamp("2025-03-18 22:25", tz=NY)], "label": ["x"], "event": ["e"]}
    )
    out = events.from_frame(frame)
    assert out["date"].iloc[0] == pd.Timestamp("2025-03-18")
    assert out["timestamp"].iloc[0] == pd.Timestamp("2025-03-19T02:25Z")


def test_from_frame_is_idempotent_on_canonical_frames(tariffs, fomc):
    for frame in (tariffs, fomc):
        again = events.from_frame(frame)
        pd.testing.assert_frame_equal(again, frame)
        # A frame keeps the order it was given in (event-study results follow it).
        shuffled = frame.sample(frac=1.0, random_state=0)
        pd.testing.assert_frame_equal(
            events.from_frame(shuffled), frame.loc[shuffled.index].reset_index(drop=True)
        )


def test_from_frame_rejects_naive_mixed_and_offset_timestamps():
    naive = pd.DataFrame({"timestamp": pd.to_datetime(["2025-04-02 16:00"]), "label": ["x"]})
    with pytest.raises(DataValidationError, match=r"tz-naive; localise them first.*tz_localize"):
        events.from_frame(naive)
    mixed = pd.DataFrame(
        {
            "timestamp": [
                pd.Timestamp("2025-04-02 16:00", tz=NY),
                pd.Timestamp("2025-04-03", tz=TOKYO),
            ],
            "label": ["x", "y"],
        }
    )
    with pytest.raises(
        DataValidationError, match=r"mixes time zones \['America/New_York', 'Asia/Tokyo'\]"
    ):
        events.from_frame(mixed)
    offset = pd.DataFrame({"timestamp": [pd.Timestamp("2025-04-02T16:00+09:00")], "label": ["x"]})
    with pytest.raises(DataValidationError, match=r"no IANA name.*tz_convert"):
        events.from_frame(offset)
    text = pd.DataFrame({"timestamp": ["2025-04-02 16:00"], "label": ["x"]})
    with pytest.raises(DataValidationError, match=r"must hold tz-aware datetimes"):
        events.from_frame(text)


def test_from_frame_rejects_missing_columns_and_values(tariffs):
    with pytest.raises(DataValidationError, match=r"my events: missing column\(s\) \['label'\]"):
        events.from_frame(
            pd.DataFrame({"timestamp": [pd.Timestamp("2025-04-02", tz=NY)]}), where="my events"
        )
    with pytest.raises(DataValidationError, match=r"\['date'\] are derived from 'timestamp'"):
        events.from_frame(
            pd.DataFrame(
                {"timestamp": [pd.Timestamp("2025-04-02", tz=NY)], "label": ["x"], "date": [1]}
            )
        )
    with pytest.raises(DataValidationError, match=r"row 1: label is missing"):
        events.from_frame(
            pd.DataFrame(
                {"timestamp": [pd.Timestamp("2025-04-02", tz=NY)] * 2, "label": ["x", None]}
            )
        )
    with pytest.raises(DataValidationError, match=r"row 1: id 'e' was already used at row 0"):
        events.from_frame(
            pd.DataFrame(
                {
                    "timestamp": [pd.Timestamp("2025-04-02", tz=NY)] * 2,
                    "label": ["x", "y"],
                    "event": ["e", "e"],
                }
            )
        )
    broken = tariffs.copy()
    broken.loc[0, "date"] = pd.Timestamp("2024-01-01")
    with pytest.raises(DataValidationError, match=r"row 0: date 2024-01-01.*not the local date"):
        events.from_frame(broken)
    with pytest.raises(DataValidationError, match=r"expected a pandas DataFrame"):
        events.from_frame([1, 2])  # type: ignore[arg-type]


def test_from_frame_whole_column_checks_agree_with_the_row_by_row_path(
    tariffs, fomc, boj, monkeypatch
):
    # A canonical frame of one zone is checked with whole-column operations
    # (events._checked_copy); anything else, and any frame failing a check, goes row by
    # row. Both must give the same frame, and every failing check must fall through.
    mixed = pd.concat([fomc, boj], ignore_index=True)
    assert mixed["timezone"].nunique() == 2
    renamed = boj.set_axis(pd.RangeIndex(5, 5 + len(boj)))
    frames = [tariffs, fomc, boj, mixed, renamed, boj.rename_axis("row")]
    assert all(frame["timezone"].nunique() == 1 for frame in (fomc, boj))
    fast = [events.from_frame(frame) for frame in frames]
    assert events._checked_copy(fomc) is not None and events._checked_copy(mixed) is None
    with monkeypatch.context() as m:
        m.setattr(events, "_checked_copy", lambda frame: None)
        slow = [events.from_frame(frame) for frame in frames]
    for a, b in zip(fast, slow, strict=True):
        pd.testing.assert_frame_equal(a, b)
        assert isinstance(a.index, pd.RangeIndex) and a.index.name is None
    assert fast[2]["event"].tolist() == fast[4]["event"].tolist()

    def broken(column: str, row: int, value: object) -> pd.DataFrame:
        frame = fomc.copy()
        frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value
        return frame.astype({column: fomc[column].dtype})

    bad = {
        "local date": (broken("date", 1, pd.Timestamp("2024-01-01")), r"row 1: date 2024-01"),
        "missing date": (broken("date", 2, pd.NaT), r"row 2: timestamp or date is missing"),
        "missing timestamp": (broken("timestamp", 0, pd.NaT), r"row 0: timestamp or date"),
        "repeated id": (broken("event", 3, fomc["event"][0]), r"row 3: id .* already used"),
        "blank id": (broken("event", 1, "  "), r"row 1: event is missing"),
        "missing id": (broken("event", 4, None), r"row 4: event is missing"),
        "missing zone": (broken("timezone", 0, None), r"row 0: timezone is missing"),
        "abbreviated zone": (broken("timezone", 0, "EST"), r"timezone 'EST' is an abbreviation"),
    }
    for what, (frame, message) in bad.items():
        assert events._checked_copy(frame) is None, what
        with pytest.raises(DataValidationError, match=message):
            events.from_frame(frame)
    whole = fomc.assign(timezone="Asia/Tokyo")  # one valid zone; 19:00 UTC is the next day
    assert events._checked_copy(whole) is None
    with pytest.raises(DataValidationError, match=r"not the local date"):
        events.from_frame(whole)


# select -------------------------------------------------------------------------------


def test_select_by_category_ids_and_dates(tariffs, boj):
    pauses = events.select(tariffs, categories="tariff_pause")
    assert pauses["event"].tolist() == ["canada_mexico_postponed", "pause_90d", "eu_50pct_delay"]
    both = events.select(tariffs, categories=["legal", "official_comment"])
    assert set(both["category"]) == {"legal", "official_comment"} and len(both) == 4
    assert isinstance(both.index, pd.RangeIndex)
    picked = events.select(tariffs, ids=["pause_90d", "liberation_day"])
    assert picked["event"].tolist() == ["liberation_day", "pause_90d"]  # frame order kept
    april = events.select(tariffs, start="2025-04-02", end=dt.date(2025, 4, 5))
    assert april["event"].tolist()[0] == "liberation_day" and april["event"].tolist()[-1] == (
        "baseline_10pct_effective"
    )
    assert len(april) == 4
    # Date bounds compare local dates: the Tokyo 2025-01-24 decision (2025-01-23 15:00 UTC)
    # is inside start=2025-01-24; an instant bound compares timestamps.
    jan = events.select(boj, start="2025-01-24", end="2025-01-24")
    assert jan["event"].tolist() == ["boj_2025_01_24"]
    instant = events.select(boj, start=pd.Timestamp("2025-01-24", tz="UTC"), end="2025-03-19")
    assert instant["event"].tolist() == ["boj_2025_03_19"]
    combined = events.select(tariffs, categories=["tariff_pause"], end="2025-04-30")
    assert combined["event"].tolist() == ["canada_mexico_postponed", "pause_90d"]


def test_select_errors(tariffs):
    with pytest.raises(DataValidationError, match=r"categories \['tarif_pause'\].*'tariff_pause'"):
        events.select(tariffs, categories=["tarif_pause"])
    with pytest.raises(DataValidationError, match=r"ids \['nope'\] not in the events"):
        events.select(tariffs, ids=["nope"])
    with pytest.raises(DataValidationError, match=r"start '2025-05-01' is after end '2025-04-01'"):
        events.select(tariffs, start="2025-05-01", end="2025-04-01")
    with pytest.raises(DataValidationError, match=r"has a time of day but no time zone"):
        events.select(tariffs, start="2025-04-01 12:00")
    with pytest.raises(DataValidationError, match=r"start 'soon' does not parse"):
        events.select(tariffs, start="soon")
