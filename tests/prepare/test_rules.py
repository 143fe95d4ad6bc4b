"""One hand-made fixture (tests/support/fixtures/prepare/basic) with a case for each contract rule."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from journeylib import paths
from journeylib.prepare import prepare
from tests.support import FIXTURES

BASIC = FIXTURES / "prepare" / "basic"


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    folder = tmp_path_factory.mktemp("prepared") / "processed"
    summary = prepare(raw=BASIC, out=folder)
    return folder, summary


def table(out, name):
    return pd.read_parquet(out[0] / f"{name}.parquet")


def rejects(out, name):
    r = table(out, "rejects")
    return r[r["table"] == name].set_index("row")


def events(out):
    return table(out, "touchpoints").set_index("event_id")


def test_timestamps_become_utc_by_their_rule(out):
    tp = events(out)
    assert tp.loc["E1", "occurred_at"] == pd.Timestamp("2024-02-01T09:00Z")            # Z
    assert tp.loc["E3", "occurred_at"] == pd.Timestamp("2024-02-03T14:00Z")            # -05:00 offset
    assert tp.loc["E2", "occurred_at"] == pd.Timestamp("2024-02-02T15:00Z")            # naive at dealer D1 (Chicago, CST)
    assert tp.loc["E4", "occurred_at"] == pd.Timestamp("2024-02-04T08:00Z")            # date only at D2 (Los Angeles)
    assert tp.loc["E18", "occurred_at"] == pd.Timestamp("2024-02-11T14:00Z")           # naive, no dealer: default New York
    visits = table(out, "service_visits").set_index("ro_id")
    assert visits.loc["R6", "opened_at"] == pd.Timestamp("2024-04-05T19:05Z")          # US format, Chicago CDT
    assert str(tp["occurred_at"].dtype) == "datetime64[us, UTC]"


def test_identity_merges_by_email_phone_and_transitively(out):
    ids = table(out, "identity_map").set_index("source_customer_id")
    assert ids.loc["C2", "customer_id"] == "C1" and ids.loc["C2", "matched_on"] == "email"  # case and spaces
    assert ids.loc["C8", "customer_id"] == "C1" and ids.loc["C8", "matched_on"] == "phone"  # C8~C2 by phone, C2~C1 by email
    assert ids.loc["C3", "customer_id"] == "C4"  # phone formats; C4 was created first
    assert out[1]["customers_merged"] == 3
    customers = table(out, "customers").set_index("customer_id")
    assert sorted(customers.index) == ["C1", "C4", "C7"]
    assert customers.loc["C1", "source_ids"] == 3
    sales = table(out, "sales").set_index("deal_id")
    assert sales.loc["S1", "customer_id"] == "C1"  # sold to C2, remapped


def test_vin_only_service_rows_belong_to_the_sale_of_that_vin(out):
    visits = table(out, "service_visits").set_index("ro_id")
    assert visits.loc["R1", "customer_id"] == "C1" and visits.loc["R1", "linked_by"] == "vin"
    r = rejects(out, "service_visits")
    assert r.loc[3, "reason"] == "unresolved_identity"  # R3: the VIN was sold only after the visit
    assert r.loc[4, "reason"] == "test_record"          # R4: the VIN was sold to a test customer


def test_anonymous_rows_follow_their_cookie(out):
    tp = events(out)
    assert tp.loc["E3", "customer_id"] == "C1" and tp.loc["E3", "linked_by"] == "anonymous_id"
    r = rejects(out, "touchpoints")
    assert r.loc[10, "reason"] == "unresolved_identity"  # cookie never linked
    assert r.loc[19, "reason"] == "unresolved_identity"  # cookie ck2 seen with two people
    assert "more than one person" in r.loc[19, "detail"]


def test_test_and_internal_records_are_set_aside_everywhere(out):
    assert rejects(out, "customers").loc[5, "reason"] == "test_record"   # last name Test
    assert rejects(out, "customers").loc[6, "reason"] == "test_record"   # internal domain (journey.yaml)
    assert rejects(out, "touchpoints").loc[9, "reason"] == "test_record"
    assert rejects(out, "sales").loc[3, "reason"] == "test_record"
    assert rejects(out, "referrals").loc[2, "reason"] == "test_record"
    assert "C5" not in set(table(out, "touchpoints")["customer_id"])


def test_duplicates_keep_one_row(out):
    r = rejects(out, "touchpoints")
    assert r.loc[6, "reason"] == "duplicate"   # same event_id
    assert r.loc[8, "reason"] == "duplicate"   # identical row without event_id
    tp = table(out, "touchpoints")
    content = tp[tp["event_id"].str.startswith("tp:")]
    assert len(content) == 1 and content["event_id"].iloc[0] != "tp:7"
    assert rejects(out, "customers").loc[9, "reason"] == "duplicate"
    assert rejects(out, "surveys").loc[4, "reason"] == "duplicate"


def test_vocabulary_synonyms_and_unknowns(out):
    tp = events(out)
    assert tp.loc["E3", ["event_type", "channel"]].tolist() == ["test_drive", "walk_in"]  # ' TEST_DRIVE ', Walk-in
    assert tp.loc["E2", ["event_type", "channel"]].tolist() == ["vdp_view", "website"]
    assert tp.loc["E4", ["event_type", "channel", "event_type_raw"]].tolist() == ["unknown", "unknown", "Teleportation"]
    assert out[1]["unknown_values"] == {"event_type": {"Teleportation": 1},
                                        "channel": {"Carrier Pigeon": 1, "Telepathy": 1}}


def test_retention_counts_only_after_the_first_purchase(out):
    tp = events(out)
    assert not tp.loc["E5", "counts_for_journey"]      # service reminder, C4 never bought
    assert not tp.loc["ro:R2", "counts_for_journey"]
    assert tp.loc["ro:R1", "counts_for_journey"]       # after C1's purchase
    assert not tp.loc["ref:F3", "counts_for_journey"]  # C7 referred before buying
    journeys = table(out, "journeys").set_index("customer_id")
    assert journeys.loc["C4", "furthest_stage"] == "awareness"
    assert journeys.loc["C7", "furthest_stage"] == "purchase"
    assert pd.isna(journeys.loc["C7", "advocacy_at"])


def test_journeys_and_funnel(out):
    j = table(out, "journeys").set_index("customer_id")
    c1 = j.loc["C1"]
    assert c1["first_touch_at"] == pd.Timestamp("2024-02-01T09:00Z") and c1["acquisition_channel"] == "social"
    assert c1["furthest_stage"] == "advocacy" and c1["purchased"] and not c1["censored"]
    assert c1["days_to_purchase"] == pytest.approx(29.375)
    assert c1["first_test_drive_at"] == pd.Timestamp("2024-02-03T14:00Z")
    c4 = j.loc["C4"]
    as_of = pd.Timestamp(out[1]["as_of"])
    assert c4["censored"] and c4["days_to_purchase"] == pytest.approx((as_of - c4["first_touch_at"]) / pd.Timedelta(days=1))
    # C7 reached purchase with a sale only: every earlier stage is reached at that moment
    assert j.loc["C7", "awareness_at"] == j.loc["C7", "purchase_at"]
    funnel = {s: int(j[f"{s}_at"].notna().sum()) for s in ("awareness", "consideration", "purchase", "retention", "advocacy")}
    assert funnel == {"awareness": 3, "consideration": 2, "purchase": 2, "retention": 1, "advocacy": 1}


def test_every_reject_reason_and_the_counts_add_up(out):
    r = table(out, "rejects")
    assert set(r["reason"]) == {"duplicate", "test_record", "unparseable_timestamp", "out_of_range_timestamp",
                                "missing_required", "unknown_customer", "unresolved_identity", "invalid_value"}
    for name, counts in out[1]["tables"].items():
        assert counts["raw"] == counts["kept"] + sum(counts["rejected"].values()), name
        assert len(r[r["table"] == name]) == sum(counts["rejected"].values()), name
    assert out[1]["tables"]["touchpoints"]["kept"] == 7  # raw rows kept; derived rows are counted separately
    assert out[1]["journey_log"] == {"referrals": 2, "sales": 2, "service_visits": 3, "touchpoints": 7}
    tp = rejects(out, "touchpoints")
    assert tp.loc[11, "reason"] == "unparseable_timestamp"
    assert tp.loc[12, "reason"] == "out_of_range_timestamp" and tp.loc[16, "reason"] == "out_of_range_timestamp"
    assert tp.loc[13, "reason"] == "unknown_customer"
    assert tp.loc[17, "reason"] == "missing_required" and tp.loc[17, "detail"] == "occurred_at: missing"
    assert rejects(out, "sales").loc[2, "reason"] == "invalid_value"      # negative price
    assert rejects(out, "surveys").loc[2, "reason"] == "invalid_value"    # score 11
    assert rejects(out, "dealers").loc[3, "reason"] == "invalid_value"    # unknown time zone


def test_no_personal_data_in_any_output(out):
    raw = pd.read_csv(BASIC / "customers.csv", dtype=str)
    secrets = set(raw["email"].dropna().str.strip()) | set(raw["phone"].dropna())
    for path in paths.processed_dir(out[0]).iterdir():  # the current version's files
        text = path.read_bytes().decode("utf-8", errors="replace").lower()
        for secret in secrets:
            assert secret.lower() not in text, (path.name, secret)
    r = table(out, "rejects")
    raw_json = [json.loads(v) for v in r["raw"]]
    assert not any(k in row for row in raw_json for k in ("email", "phone", "first_name", "last_name"))
    surveys = table(out, "surveys").set_index("response_id")
    assert surveys.loc["Q1", "comment"] == "Great! call me at [phone] or [email]"
    assert surveys.loc["Q3", "comment"] == "<b>ok</b>"  # data, kept as text


def test_values_are_cleaned(out):
    sales = table(out, "sales").set_index("deal_id")
    s1 = sales.loc["S1"]
    assert (s1["vin"], s1["condition"], s1["finance_type"], s1["price"], s1["trade_in"]) == \
        ("1HGCM82633A004352", "new", "lease", 32500.0, True)
    assert sales.loc["S4", ["condition", "finance_type"]].tolist() == ["cpo", "finance"]
    customers = table(out, "customers").set_index("customer_id")
    assert pd.isna(customers.loc["C7", "birth_year"]) and customers.loc["C4", "gender"] == "m"
    assert out[1]["cleared_values"]["customers.birth_year"] == 1
    assert not {"email", "phone", "first_name", "last_name"} & set(customers.columns)
