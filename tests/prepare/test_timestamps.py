"""Local time -> UTC in the engine, checked against Python's zoneinfo (fold=0) across DST changes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import ibis
import pytest

from journeylib.prepare import timestamps

ZONES = ["America/Chicago", "Europe/London", "Australia/Lord_Howe", "UTC"]


@pytest.fixture(scope="module")
def con():
    backend = ibis.duckdb.connect()
    backend.create_table("offsets", ibis.memtable(timestamps.offsets_table(ZONES)))
    return backend


def to_utc(con, values, zone, fmt=None):
    t = ibis.memtable({"i": list(range(len(values))), "v": values, "z": [zone] * len(values)},
                      schema={"i": "int64", "v": "string", "z": "string"})
    parsed = timestamps.parse_column(t, "v", t.z, con.table("offsets"), fmt).order_by("i")
    return [v.as_py() for v in con.to_pyarrow(parsed)["v"]]


def test_naive_local_times_match_zoneinfo_fold_0_around_dst_changes(con):
    for zone in ZONES:
        starts = [datetime(2024, 3, 9), datetime(2024, 3, 30), datetime(2024, 10, 26), datetime(2024, 11, 2),
                  datetime(2024, 4, 6), datetime(2024, 10, 5)]
        locals_ = [s + timedelta(minutes=15 * k) for s in starts for k in range(4 * 48)]
        got = to_utc(con, [t.isoformat(sep=" ") for t in locals_], zone)
        want = [t.replace(tzinfo=ZoneInfo(zone)).astimezone(timezone.utc) for t in locals_]
        assert got == want, zone


@pytest.mark.parametrize("text, zone, fmt, expected", [
    ("2024-06-25T14:05:00Z", "America/Chicago", None, "2024-06-25T14:05:00+00:00"),
    ("2024-06-25T14:05:00+02:00", "America/Chicago", None, "2024-06-25T12:05:00+00:00"),
    ("2024-06-25 14:05:00-0530", "UTC", None, "2024-06-25T19:35:00+00:00"),
    ("2024-06-25T14:05:00.250", "America/Chicago", None, "2024-06-25T19:05:00.250000+00:00"),
    ("2024-06-25", "America/Chicago", None, "2024-06-25T05:00:00+00:00"),
    ("06/25/2024 14:05", "America/Chicago", "%m/%d/%Y %H:%M", "2024-06-25T19:05:00+00:00"),
    ("6/5/2024", "America/Chicago", "%m/%d/%Y %H:%M", "2024-06-05T05:00:00+00:00"),
    ("06/25/24 02:05 PM", "UTC", "%m/%d/%y %I:%M %p", "2024-06-25T14:05:00+00:00"),
    ("2024-06-25 14:05", "America/Chicago", "%m/%d/%Y %H:%M", "2024-06-25T19:05:00+00:00"),  # ISO still works
    # more than 6 decimals (cut to microseconds), a decimal comma, lower-case t and z, basic format
    ("2024-06-25T14:05:00.1234567Z", "America/Chicago", None, "2024-06-25T14:05:00.123456+00:00"),
    ("2024-06-25T14:05:00.123456789", "America/Chicago", None, "2024-06-25T19:05:00.123456+00:00"),
    ("2024-06-25T14:05:00,25+02:00", "UTC", None, "2024-06-25T12:05:00.250000+00:00"),
    ("2024-06-25t14:05:00z", "America/Chicago", None, "2024-06-25T14:05:00+00:00"),
    ("2024-06-25t14:05", "America/Chicago", None, "2024-06-25T19:05:00+00:00"),
    ("20240625T140500Z", "America/Chicago", None, "2024-06-25T14:05:00+00:00"),
    ("20240625T140500,5+0200", "UTC", None, "2024-06-25T12:05:00.500000+00:00"),
    ("20240625T1405", "America/Chicago", None, "2024-06-25T19:05:00+00:00"),
    ("20240625", "America/Chicago", None, "2024-06-25T05:00:00+00:00"),
    # month names, any case (issue 21, item 6): a CRM's 28-JUN-24
    ("28-JUN-24", "America/Chicago", "%d-%b-%y", "2024-06-28T05:00:00+00:00"),
    ("5-sep-99", "UTC", "%d-%b-%y", "1999-09-05T00:00:00+00:00"),
    ("Dec 31 2024 11:59 PM", "UTC", "%b %d %Y %I:%M %p", "2024-12-31T23:59:00+00:00"),
    ("3 March 2024", "UTC", "%d %B %Y", "2024-03-03T00:00:00+00:00"),
    # the extreme offsets clocks use
    ("2024-06-25T14:05:00+14:00", "UTC", None, "2024-06-25T00:05:00+00:00"),
    ("2024-06-25T14:05:00-12:00", "UTC", None, "2024-06-26T02:05:00+00:00"),
    ("2024-06-25T14:05:00+05:45", "UTC", None, "2024-06-25T08:20:00+00:00"),
])
def test_formats(con, text, zone, fmt, expected):
    assert to_utc(con, [text], zone, fmt)[0] == datetime.fromisoformat(expected)


@pytest.mark.parametrize("text", ["not a date", "2024-13-01", "2024-02-30 10:00", "25/06/2024", "infinity",
                                  "13/45/2024 10:00", "2024-06-25 25:00", "2024-06-25T14:05:00.", "20240230",
                                  "20240625T14:05:00Z", "2024-06-25 1405Z", "2024-06-25T14:05:00,Z",
                                  # offsets no clock uses are unparseable, not a shifted time (issue 12, item 7)
                                  "2024-06-25T14:05:00+99:99", "2024-06-25T14:05:00+15:00", "2024-06-25T14:05:00-13:00",
                                  "2024-06-25T14:05:00+05:60", "2024-06-25T14:05:00-0099", "2024-06-25T14:05:00+24",
                                  # longer than any timestamp: no pattern runs on it
                                  "2024-06-25T14:05:00." + "0" * 100 + "Z"])
def test_unparseable_values_are_null(con, text):
    assert to_utc(con, [text], "UTC", "%m/%d/%Y %H:%M") == [None]


@pytest.mark.parametrize("text", ["28-JUX-24", "31-FEB-24", "28-June-24", "28-06-24", "28-JUN-2024"])
def test_a_month_name_that_is_no_month_or_no_date_is_null(con, text):
    assert to_utc(con, [text], "UTC", "%d-%b-%y") == [None]
