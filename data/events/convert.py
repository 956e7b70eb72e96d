"""Convert the shared event calendars into the project's event-file format.

Reads ``date,time_et,...`` / ``date_jst,time_jst,...`` calendars from the shared
directory (default ``../shared/data/events`` relative to the repository root) and
writes ``id,date,time,timezone,label,category,source[,extra...]`` files with an
explicit IANA time zone on every row (see ``SOURCES.md`` beside this script).

Nothing is computed: dates, times, labels, sources and extra values are copied
verbatim; only the ``id`` and ``timezone`` columns are added, from the tables
below. Each table row repeats the source date so that a changed source file
stops the conversion instead of silently shifting ids or zones.

Usage (from the repository root)::

    python data/events/convert.py [SOURCE_DIR] [OUTPUT_DIR]
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parents[2] / "shared" / "data" / "events"
COLUMNS = ("id", "date", "time", "timezone", "label", "category", "source")

NEW_YORK = "America/New_York"
TOKYO = "Asia/Tokyo"
SEOUL = "Asia/Seoul"

#: tariffs_2025.csv, in file order: (source date, id, time zone). Times in the
#: source are New York time (column ``time_et``) except where the label says the
#: date is another zone's; those two rows have no time.
TARIFF_ROWS: tuple[tuple[str, str, str], ...] = (
    ("2025-02-01", "ieepa_orders_signed", NEW_YORK),
    ("2025-02-03", "canada_mexico_postponed", NEW_YORK),
    ("2025-02-04", "china_10pct_effective", NEW_YORK),
    ("2025-02-10", "steel_aluminium_232", NEW_YORK),
    ("2025-02-13", "reciprocal_memo", NEW_YORK),
    ("2025-03-04", "canada_mexico_effective", NEW_YORK),
    ("2025-03-12", "steel_aluminium_effective", NEW_YORK),
    ("2025-03-26", "auto_tariff_announced", NEW_YORK),
    ("2025-04-02", "liberation_day", NEW_YORK),
    ("2025-04-03", "auto_tariff_effective", NEW_YORK),
    ("2025-04-04", "china_retaliation_34pct", NEW_YORK),
    ("2025-04-05", "baseline_10pct_effective", NEW_YORK),
    ("2025-04-09", "reciprocal_rates_effective", NEW_YORK),
    ("2025-04-09", "pause_90d", NEW_YORK),
    # "aired Friday, Japan time": the date is a Tokyo date.
    ("2025-05-02", "kato_treasuries", TOKYO),
    ("2025-05-08", "us_uk_deal", NEW_YORK),
    ("2025-05-12", "geneva_us_china", NEW_YORK),
    ("2025-05-23", "eu_50pct_threat", NEW_YORK),
    ("2025-05-25", "eu_50pct_delay", NEW_YORK),
    ("2025-05-28", "cit_ieepa_ruling", NEW_YORK),
    ("2025-05-29", "cafc_admin_stay", NEW_YORK),
    ("2025-07-07", "letters_japan_korea", NEW_YORK),
    ("2025-07-22", "us_japan_deal", NEW_YORK),
    ("2025-07-27", "us_eu_turnberry", NEW_YORK),
    ("2025-07-31", "reciprocal_rates_eo", NEW_YORK),
    ("2025-08-07", "revised_rates_effective", NEW_YORK),
    ("2025-08-29", "cafc_en_banc_ruling", NEW_YORK),
    ("2025-10-10", "china_100pct_threat", NEW_YORK),
    # "date is Korea time": the date is a Seoul date; "~11:15 KST" is approximate.
    ("2025-10-30", "busan_trump_xi", SEOUL),
)

#: Direction of each tariff event (issue 13): a judgement from the row's own label and
#: sources, added here (not in the shared calendar). The rule:
#:   +1 escalation: new tariffs announced, signed or threatened, tariffs taking effect,
#:      retaliation, and a court order that keeps tariffs in force;
#:   -1 de-escalation: pauses, postponements and delays, trade deals that cut or cap
#:      rates, and court rulings against tariffs;
#:   "" (blank) no sign: the event is not a change of tariffs (excluded from signed
#:      pooling, with the reason recorded by the event study).
#: Mixed rows are classified by the tariff change their label leads with; the reason
#: says so. ``direction_reason`` quotes the label words the call rests on; the sources
#: are the row's ``source`` column.
DIRECTION_RULE = (
    "2025 US tariff events; see SOURCES.md. Written by convert.py: do not edit by hand.",
    "direction: a judgement from each row's label and sources (convert.py TARIFF_DIRECTIONS).",
    "+1 escalation: tariffs announced, signed or threatened; tariffs taking effect;",
    "   retaliation; a court order that keeps tariffs in force.",
    "-1 de-escalation: pauses, postponements, delays; deals that cut or cap rates;",
    "   court rulings against tariffs.",
    "blank: not a change of tariffs; excluded from signed pooling (EventStudy sign_by).",
    "Mixed rows follow the change the label leads with; direction_reason says so.",
)
TARIFF_DIRECTIONS: dict[str, tuple[str, str]] = {
    "ieepa_orders_signed": ("+1", "announcement: orders signed for +25%/+10% tariffs"),
    "canada_mexico_postponed": ("-1", "pause: Canada and Mexico tariffs postponed 30 days"),
    "china_10pct_effective": ("+1", "effective date: additional 10% on China takes effect"),
    "steel_aluminium_232": ("+1", "announcement: 25% on all steel and aluminium, no exemptions"),
    "reciprocal_memo": ("+1", "announcement: reciprocal tariff plans ordered"),
    "canada_mexico_effective": ("+1", "effective date: 25% on Canada and Mexico; China doubled"),
    "steel_aluminium_effective": ("+1", "effective date: Section 232 tariffs take effect"),
    "auto_tariff_announced": ("+1", "announcement: 25% tariff on imported cars and light trucks"),
    "liberation_day": ("+1", "announcement: reciprocal tariffs, 10% baseline, China +34%"),
    "auto_tariff_effective": ("+1", "effective date: 25% auto import tariffs take effect"),
    "china_retaliation_34pct": ("+1", "retaliation: China 34% on all US goods"),
    "baseline_10pct_effective": ("+1", "effective date: 10% universal baseline takes effect"),
    "reciprocal_rates_effective": ("+1", "effective date: country-specific reciprocal tariffs"),
    "pause_90d": (
        "-1",
        "pause: 90-day pause of reciprocal tariffs for most countries (mixed: China raised "
        "to 125%; classified by the pause the label leads with)",
    ),
    "kato_treasuries": ("", "no sign: a comment on tariff talks, not a change of tariffs"),
    "us_uk_deal": ("-1", "deal: US-UK trade deal"),
    "geneva_us_china": ("-1", "deal: reciprocal tariffs cut for 90 days (145%->30%)"),
    "eu_50pct_threat": ("+1", "threat: 50% tariff on EU goods recommended"),
    "eu_50pct_delay": ("-1", "delay: EU 50% tariff delayed to 2025-07-09"),
    "cit_ieepa_ruling": ("-1", "court ruling against tariffs: IEEPA tariffs unlawful, enjoined"),
    "cafc_admin_stay": ("+1", "court keeps tariffs in force: stay, IEEPA tariffs remain"),
    "letters_japan_korea": (
        "+1",
        "threat: letters set 25% on Japan and South Korea (mixed: July 9 deadline delayed "
        "to Aug 1; classified by the new rates the label leads with)",
    ),
    "us_japan_deal": ("-1", "deal: US-Japan trade deal, 15% reciprocal tariff"),
    "us_eu_turnberry": ("-1", "deal: US-EU framework, 15% on most EU goods"),
    "reciprocal_rates_eo": ("+1", "announcement: executive order on reciprocal rates 10-41%"),
    "revised_rates_effective": ("+1", "effective date: revised reciprocal rates take effect"),
    "cafc_en_banc_ruling": ("-1", "court ruling against tariffs: most IEEPA tariffs unlawful"),
    "china_100pct_threat": ("+1", "threat: additional 100% tariff on China"),
    "busan_trump_xi": ("-1", "deal: fentanyl tariff cut 20%->10%"),
}

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _write(
    path: Path, header: list[str], rows: list[dict[str, str]], comments: tuple[str, ...] = ()
) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        handle.writelines(f"# {line}\n".rstrip() + "\n" for line in comments)
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _check(path: Path, line: int, date: str, time: str) -> None:
    if not _DATE.match(date):
        raise ValueError(f"{path}: line {line}: date {date!r} is not YYYY-MM-DD")
    if time and not _TIME.match(time):
        raise ValueError(f"{path}: line {line}: time {time!r} is not HH:MM")


def convert_tariffs(source: Path, out: Path) -> None:
    """Write ``tariffs_2025.csv``: ``time_et`` becomes ``time``; zones from TARIFF_ROWS."""
    path = source / "tariffs_2025.csv"
    header, rows = _read(path)
    if header != ["date", "time_et", "label", "category", "source"]:
        raise ValueError(f"{path}: unexpected columns {header}")
    if len(rows) != len(TARIFF_ROWS):
        raise ValueError(f"{path}: {len(rows)} rows, the table has {len(TARIFF_ROWS)}")
    converted = []
    for line, (row, (date, event_id, zone)) in enumerate(
        zip(rows, TARIFF_ROWS, strict=True), start=2
    ):
        if row["date"] != date:
            raise ValueError(f"{path}: line {line}: date {row['date']}, table expects {date}")
        if zone != NEW_YORK and row["time_et"]:
            raise ValueError(f"{path}: line {line}: an ET time on a {zone} row needs review")
        _check(path, line, row["date"], row["time_et"])
        converted.append(
            {
                "id": event_id,
                "date": row["date"],
                "time": row["time_et"],
                "timezone": zone,
                "label": row["label"],
                "category": row["category"],
                "source": row["source"],
                "direction": TARIFF_DIRECTIONS[event_id][0],
                "direction_reason": TARIFF_DIRECTIONS[event_id][1],
            }
        )
    _write(
        out / "tariffs_2025.csv",
        [*COLUMNS, "direction", "direction_reason"],
        converted,
        DIRECTION_RULE,
    )


def convert_fomc(source: Path, out: Path) -> None:
    """Write ``fomc_2024_2025.csv``: New York time, category ``fomc``, ids ``fomc_YYYY_MM_DD``."""
    path = source / "fomc_2024_2025.csv"
    header, rows = _read(path)
    if header != ["date", "time_et", "label", "decision", "target_upper_pct", "source"]:
        raise ValueError(f"{path}: unexpected columns {header}")
    converted = []
    for line, row in enumerate(rows, start=2):
        _check(path, line, row["date"], row["time_et"])
        converted.append(
            {
                "id": "fomc_" + row["date"].replace("-", "_"),
                "date": row["date"],
                "time": row["time_et"],
                "timezone": NEW_YORK,
                "label": row["label"],
                "category": "fomc",
                "source": row["source"],
                "decision": row["decision"],
                "target_upper_pct": row["target_upper_pct"],
            }
        )
    _write(out / "fomc_2024_2025.csv", [*COLUMNS, "decision", "target_upper_pct"], converted)


def convert_boj(source: Path, out: Path) -> None:
    """Write ``boj_2024_2025.csv``: Tokyo time, category ``boj``, ids ``boj_YYYY_MM_DD``."""
    path = source / "boj_2024_2025.csv"
    header, rows = _read(path)
    if header != ["date_jst", "time_jst", "label", "decision", "policy_rate_pct", "source"]:
        raise ValueError(f"{path}: unexpected columns {header}")
    converted = []
    for line, row in enumerate(rows, start=2):
        _check(path, line, row["date_jst"], row["time_jst"])
        converted.append(
            {
                "id": "boj_" + row["date_jst"].replace("-", "_"),
                "date": row["date_jst"],
                "time": row["time_jst"],
                "timezone": TOKYO,
                "label": row["label"],
                "category": "boj",
                "source": row["source"],
                "decision": row["decision"],
                "policy_rate_pct": row["policy_rate_pct"],
            }
        )
    _write(out / "boj_2024_2025.csv", [*COLUMNS, "decision", "policy_rate_pct"], converted)


def convert(source: Path = DEFAULT_SOURCE, out: Path = HERE) -> list[Path]:
    """Convert all three calendars from `source` into `out`; return the files written."""
    source, out = Path(source), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    convert_tariffs(source, out)
    convert_fomc(source, out)
    convert_boj(source, out)
    names = ("tariffs_2025.csv", "fomc_2024_2025.csv", "boj_2024_2025.csv")
    return [out / name for name in names]


if __name__ == "__main__":
    args = sys.argv[1:]
    for written in convert(*(Path(a) for a in args[:2])):
        print(written)
