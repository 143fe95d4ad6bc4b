"""One as-of rule: `journey prepare --as-of DAY` and `ProcessedTables(folder, as_of=DAY)` agree in any zone."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest

from journeylib import asof, paths
from journeylib.errors import InputError
from journeylib.tables import AsOfMismatch, ProcessedTables
from tests.support import FIXTURES

BASIC = FIXTURES / "prepare" / "basic"
ZONES = ("America/Chicago", "Asia/Kolkata", "Pacific/Auckland")


@pytest.mark.parametrize("value, zone, expected", [
    ("2026-06-05", "America/Chicago", "2026-06-06T04:59:59.999999+00:00"),   # the example (CDT, -5)
    ("2026-06-05", "Asia/Kolkata", "2026-06-05T18:29:59.999999+00:00"),      # +5:30
    ("2026-06-05", "Pacific/Auckland", "2026-06-05T11:59:59.999999+00:00"),  # NZST, +12
    ("2026-01-05", "Pacific/Auckland", "2026-01-05T10:59:59.999999+00:00"),  # NZDT, +13
    ("20260605", "UTC", "2026-06-05T23:59:59.999999+00:00"),
    ("2026-06-05T10:00", "Asia/Kolkata", "2026-06-05T04:30:00+00:00"),       # naive: the configured zone
    ("2026-06-05t10:00z", "Asia/Kolkata", "2026-06-05T10:00:00+00:00"),
])
def test_parse_as_of_reads_a_date_as_the_end_of_that_local_day(value, zone, expected):
    assert asof.parse_as_of(value, zone).isoformat() == expected


@pytest.mark.parametrize("value, message", [
    ("2026-6-5", "not an ISO-8601 date"), ("next tuesday", "not an ISO-8601 date"),
    ("1989-12-31", "outside the supported dates"), ("9999-12-31", "outside the supported dates"),
    ("2026-06-05T10:00+14:30", "UTC offset no clock uses"),
])
def test_parse_as_of_refuses_other_spellings_with_one_line(value, message):
    with pytest.raises(InputError, match=message):
        asof.parse_as_of(value, "UTC")


def test_a_date_names_the_prepared_day_in_the_zone_not_in_utc():
    prepared = datetime(2026, 6, 6, 4, 59, 59, 999999, tzinfo=timezone.utc)  # end of 5 June in Chicago
    assert asof.names_prepared_day("2026-06-05", prepared, "America/Chicago")
    assert asof.names_prepared_day(prepared.isoformat(), prepared, "America/Chicago")  # what the runner passes
    assert not asof.names_prepared_day("2026-06-06", prepared, "America/Chicago")  # its UTC date
    assert not asof.names_prepared_day("2026-06-04", prepared, "America/Chicago")


def _prepare(tmp_path: Path, zone: str, as_of: str) -> tuple[Path, Path]:
    from journeylib.prepare import prepare

    raw = tmp_path / "raw"
    shutil.copytree(BASIC, raw)
    config = (raw / "journey.yaml").read_text().replace("America/New_York", zone)
    (raw / "journey.yaml").write_text(config)
    out = tmp_path / "processed"
    prepare(raw=raw, out=out, as_of=as_of)
    return raw, out


@pytest.mark.parametrize("zone", [ZONES[0], *(pytest.param(z, marks=pytest.mark.slow) for z in ZONES[1:])])
def test_processed_tables_accept_the_day_journey_prepare_was_given(tmp_path, monkeypatch, zone):
    raw, out = _prepare(tmp_path, zone, "2024-06-05")
    monkeypatch.setenv(paths.RAW_ENV, str(raw))  # the project's configuration: <raw>/journey.yaml
    stored = json.loads((out / "summary.json").read_text())["as_of"]
    assert pd.Timestamp(stored) == pd.Timestamp(asof.parse_as_of("2024-06-05", zone))

    tables = ProcessedTables(out, as_of="2024-06-05")
    assert tables.as_of == pd.Timestamp(stored)
    assert ProcessedTables(out, as_of=stored).as_of == tables.as_of  # the runner passes summary.json's value
    assert ProcessedTables(out, as_of="2024-06-05", timezone=zone).as_of == tables.as_of
    for other in ("2024-06-04", "2024-06-06"):
        with pytest.raises(AsOfMismatch, match=rf"prepared as of 2024-06-05 \({zone}\)"):
            ProcessedTables(out, as_of=other)
