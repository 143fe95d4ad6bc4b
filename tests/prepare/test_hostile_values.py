"""Values that must not be kept as they are (issue 12, item 7), on one tiny hand-made export.

Impossible UTC offsets are unparseable timestamps; NaN, infinity and out-of-range numbers
are invalid values in every numeric column; control and invisible characters inside ids
are removed (the documented normalisation), so the row still belongs to its customer.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from journeylib.prepare import prepare

HEADERS = {
    "customers": "customer_id,created_at,email,first_name,birth_year,dealer_id",
    "touchpoints": "event_id,customer_id,occurred_at,event_type,channel,dealer_id",
    "sales": "deal_id,customer_id,sold_at,vin,price",
    "service_visits": "ro_id,customer_id,opened_at,vin,amount,mileage",
    "surveys": "response_id,customer_id,survey_type,responded_at,score",
    "referrals": "referral_id,referrer_customer_id,referred_at",
    "dealers": "dealer_id,timezone",
}
ROWS = {
    "customers": [
        "C1,2024-01-01T00:00:00Z,ann@example.com,Ann,1980,D1",
        "C2\u200b,2024-01-02T00:00:00Z,bob@example.com,Bob,NaN,D1",       # zero-width space in the id
        "C3,2024-01-03T00:00:00Z,ann@example.com\x00,Cy,1e400,D1",       # NUL in the email: still merges with C1
    ],
    "touchpoints": [
        "E1,C1\x00,2024-02-01T10:00:00Z,vdp view,www,D1",               # NUL: the orphaned customer
        "E2,\ufeffC1,2024-02-01T11:00:00Z,vdp view,www,D1",              # byte-order mark
        "E3,C1,2024-02-01T10:00:00+99:99,vdp view,www,D1",               # impossible offset
        "E4,C1,2024-02-01T10:00:00+15:00,vdp view,www,D1",
        "E5,C1,2024-02-01T10:00:00+14:00,vdp view,www,D1",               # the largest real offset
        "E6,C2,2024-02-01 10:00,vdp view,www,D1\x00",                    # naive at D1 (Chicago)
        "E6\x01,C2,2024-02-01 10:00,vdp view,www,D1",                    # the same event once cleaned
    ],
    "sales": [
        "S1,C1,2024-03-01T00:00:00Z,V1,NaN",
        "S2,C1,2024-03-01T00:00:00Z,V2,1e400",
        "S3,C1,2024-03-01T00:00:00Z,V3,inf",
        "S4,C1,2024-03-01T00:00:00Z,V4,-Infinity",
        "S5,C1,2024-03-01T00:00:00Z,V5,1_000",
        "S6,C1,2024-03-01T00:00:00Z,V6,\"32,500\"",
        "S7,C1,2024-03-01T00:00:00Z,V7\x00,1e3",
    ],
    "service_visits": [
        "R1,C1,2024-04-01T00:00:00Z,,NaN,100",
        "R2,C1,2024-04-01T00:00:00Z,,10,1e400",
        "R3,,2024-04-01T00:00:00Z,v7,10,100",                            # VIN of S7 (its NUL removed)
    ],
    "surveys": [
        "Q1,C1,sales,2024-03-02T00:00:00Z,NaN",
        "Q2,C1,sales,2024-03-02T00:00:00Z,1e400",
        "Q3,C1\x7f,sales,2024-03-02T00:00:00Z,9",
    ],
    "referrals": ["F1,C2\u200b\u200b,2024-05-01T00:00:00Z"],
    "dealers": ["D1\ufeff,America/Chicago"],
}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    raw = tmp_path_factory.mktemp("hostile") / "raw"
    raw.mkdir()
    for name, header in HEADERS.items():
        (raw / f"{name}.csv").write_text("\n".join([header] + ROWS[name]) + "\n", encoding="utf-8")
    (raw / "journey.yaml").write_text("max_rejected_share: 1\n", encoding="utf-8")  # hostile rows, rejected on purpose
    out = raw.parent / "processed"
    summary = prepare(raw=raw, out=out, as_of="2024-12-31")
    return out, summary


def table(prepared, name):
    return pd.read_parquet(prepared[0] / f"{name}.parquet")


def reasons(prepared, name):
    r = table(prepared, "rejects")
    return r[r["table"] == name].set_index("row")[["reason", "detail"]]


def test_rows_still_add_up(prepared):
    for name, counts in prepared[1]["tables"].items():
        assert counts["raw"] == counts["kept"] + sum(counts["rejected"].values()), name


def test_control_and_invisible_characters_are_removed_from_ids(prepared):
    summary = prepared[1]["tables"]
    assert "unknown_customer" not in summary["touchpoints"]["rejected"]
    assert "unresolved_identity" not in summary["service_visits"]["rejected"]
    tp = table(prepared, "touchpoints").set_index("event_id")
    assert tp.loc["E1", "customer_id"] == "C1" and tp.loc["E2", "customer_id"] == "C1"
    assert tp.loc["E6", "occurred_at"] == pd.Timestamp("2024-02-01T16:00Z")   # D1's zone found
    assert reasons(prepared, "touchpoints").loc[7, "reason"] == "duplicate"    # E6\x01 is E6
    customers = table(prepared, "customers")
    assert sorted(customers["customer_id"]) == ["C1", "C2"]                    # C3 merged into C1 by email
    visits = table(prepared, "service_visits").set_index("ro_id")
    assert visits.loc["R3", "customer_id"] == "C1" and visits.loc["R3", "linked_by"] == "vin"
    assert table(prepared, "surveys").set_index("response_id").loc["Q3", "customer_id"] == "C1"
    assert table(prepared, "referrals").loc[0, "referrer_customer_id"] == "C2"
    assert list(table(prepared, "dealers")["dealer_id"]) == ["D1"]
    for name in ("customers", "touchpoints", "sales", "service_visits", "surveys", "referrals", "identity_map"):
        text = table(prepared, name).astype(str).to_string()
        assert not any(ch in text for ch in "\x00\x01\x7f\u200b\ufeff"), name


def test_impossible_utc_offsets_are_unparseable_timestamps(prepared):
    r = reasons(prepared, "touchpoints")
    assert r.loc[3, "reason"] == "unparseable_timestamp" and "+99:99" in r.loc[3, "detail"]
    assert r.loc[4, "reason"] == "unparseable_timestamp"
    tp = table(prepared, "touchpoints").set_index("event_id")
    assert tp.loc["E5", "occurred_at"] == pd.Timestamp("2024-01-31T20:00Z")


@pytest.mark.parametrize("table_name, row, column", [
    ("sales", 1, "price"), ("sales", 2, "price"), ("sales", 3, "price"), ("sales", 4, "price"),
    ("sales", 5, "price"), ("service_visits", 1, "amount"), ("service_visits", 2, "mileage"),
    ("surveys", 1, "score"), ("surveys", 2, "score"),
])
def test_nan_infinity_and_overflowing_numbers_are_invalid_values(prepared, table_name, row, column):
    r = reasons(prepared, table_name)
    assert r.loc[row, "reason"] == "invalid_value" and r.loc[row, "detail"].startswith(f"{column}: ")


def test_plain_numbers_are_still_read(prepared):
    sales = table(prepared, "sales").set_index("deal_id")
    assert sales.loc["S6", "price"] == 32500 and sales.loc["S7", "price"] == 1000 and sales.loc["S7", "vin"] == "V7"
    assert table(prepared, "sales")["price"].map(lambda v: v == v and abs(v) != float("inf")).all()


def test_a_birth_year_that_is_not_a_number_is_cleared(prepared):
    assert prepared[1]["cleared_values"]["customers.birth_year"] == 2  # C2 (NaN) and C3 (1e400), kept records
    customers = table(prepared, "customers").set_index("customer_id")
    assert pd.isna(customers.loc["C2", "birth_year"])


def test_each_reject_keeps_its_raw_values_as_json_control_characters_and_all(prepared):
    """`raw` is json.dumps of the raw row's non-personal columns: quotes, backslashes and control
    characters escaped exactly as Python's json writes them (the engine builds it)."""
    import csv
    import io
    import json

    from journeylib.privacy import PERSONAL_COLUMNS

    rejects = table(prepared, "rejects")
    assert list(rejects.columns) == ["table", "row", "reason", "detail", "raw"]
    assert len(rejects) >= 10
    order = list(HEADERS)
    assert rejects["table"].map(order.index).is_monotonic_increasing
    for name, rows in rejects.groupby("table", sort=False):
        assert rows["row"].is_monotonic_increasing, name
        header = HEADERS[name].split(",")
        for row, raw in zip(rows["row"], rows["raw"]):
            values = next(csv.reader(io.StringIO(ROWS[name][row - 1])))
            # an empty field is read as missing
            expected = {c: v if v != "" else None for c, v in zip(header, values) if c not in PERSONAL_COLUMNS}
            assert json.loads(raw) == expected, (name, row)
            assert raw == json.dumps(json.loads(raw), ensure_ascii=False)  # Python's own spelling, byte for byte
    duplicate = rejects.set_index(["table", "row"]).loc[("touchpoints", 7), "raw"]  # E6\x01
    assert '"event_id": "E6\\u0001"' in duplicate
