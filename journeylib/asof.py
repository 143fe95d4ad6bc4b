"""The as-of date: one rule for `journey prepare --as-of`, `ProcessedTables(as_of=...)` and the runner.

An as-of value is an ISO-8601 date, meaning the end of that day in the configured
time zone (`default_timezone` of journey.yaml), or a timestamp (naive means that zone).
`parse_as_of` turns it into the UTC instant prepare stores in summary.json;
`names_prepared_day` says whether a value names the day a prepared folder is as of,
so `ProcessedTables(folder, as_of="2026-06-05")` accepts what
`journey prepare --as-of 2026-06-05` wrote, in any zone.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from journeylib.errors import InputError

EARLIEST = datetime(1990, 1, 1, tzinfo=timezone.utc)  # before it nothing is kept
LATEST_AS_OF = date(2060, 12, 31)                      # after it the time-zone table ends
MIN_OFFSET_MINUTES, MAX_OFFSET_MINUTES = -12 * 60, 14 * 60  # UTC offsets clocks use, as in the data


def parse_as_of(value, default_zone: str) -> datetime:
    """--as-of: an ISO-8601 date (the end of that local day) or timestamp (naive = default zone), in UTC.

    Dates: `2024-06-05`, `20240605` (and ISO week dates, `2024-W23-3`) all mean the
    end of that day in `default_zone`. Timestamps: anything Python's
    `datetime.fromisoformat` reads (`T` or a space, `Z` or an offset; `t`/`z` in any
    case). Other spellings (`2024-6-5`, `06/05/2024`, `next tuesday`) are errors, and so
    are a date outside 1990-01-01 .. 2060-12-31 (before it nothing is kept, after it the
    time-zone table ends; 9999-12-31 would overflow the arithmetic) and an offset no
    clock uses (outside -12:00 .. +14:00, as in the data).
    """
    day, stamp = as_of_parts(value)
    if day is None and stamp is None:
        raise InputError(f"--as-of: {value!r} is not an ISO-8601 date (YYYY-MM-DD) or timestamp "
                         f"(YYYY-MM-DDTHH:MM[:SS][Z or +HH:MM])")
    first, last = EARLIEST.date(), LATEST_AS_OF
    if not first <= (day or stamp.date()) <= last:
        raise InputError(f"--as-of: {value!r} is outside the supported dates {first} to {last}")
    if day is not None:  # a date: everything on that local day is included
        following = datetime.combine(day + timedelta(days=1), time()).replace(tzinfo=ZoneInfo(default_zone))
        return following.astimezone(timezone.utc) - timedelta(microseconds=1)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=ZoneInfo(default_zone))  # fold=0, like naive timestamps in the data
    minutes = stamp.utcoffset().total_seconds() / 60
    if not MIN_OFFSET_MINUTES <= minutes <= MAX_OFFSET_MINUTES:
        raise InputError(f"--as-of: {value!r} has a UTC offset no clock uses (they run from -12:00 to +14:00)")
    return stamp.astimezone(timezone.utc)


def as_of_parts(value):
    """(date, None) for an ISO date, (None, datetime) for a timestamp, (None, None) otherwise."""
    if isinstance(value, datetime):
        return None, value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
    if isinstance(value, date):
        return value, None
    text = str(value).strip().upper()
    try:
        return date.fromisoformat(text), None
    except ValueError:
        pass
    try:
        return None, datetime.fromisoformat(text)
    except ValueError:  # also offsets of a day or more (`+99:99`)
        return None, None


def local_day(instant: datetime, zone: str) -> date:
    """The calendar day of a UTC instant in `zone`."""
    return instant.astimezone(ZoneInfo(zone)).date()


def names_prepared_day(value, prepared: datetime, zone: str) -> bool:
    """Whether `value` (as for `parse_as_of`) falls on the same day in `zone` as the `prepared` as-of.

    A day is the unit: prepare's default as-of (the latest valid timestamp) is
    named by its local date as well as by the exact instant the runner passes.
    """
    return local_day(parse_as_of(value, zone), zone) == local_day(prepared, zone)


def configured_zone(raw_dir=None) -> str:
    """`default_timezone` of the project's journey.yaml (`<raw>/journey.yaml`), UTC without one."""
    from journeylib import paths
    from journeylib.config import load_config

    return load_config(raw=paths.raw_dir(raw_dir)).default_timezone
