"""Contract rules found missing in review, each on a small hand-made export."""

from __future__ import annotations

import random
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest

from journeylib import tables
from journeylib.cli import main
from journeylib.errors import InputError
from journeylib.prepare import prepare
from journeylib.prepare.clean import resolve_as_of
from tests.support.reference_clean import survivors  # noqa: E402
from tests.support import FIXTURES

BASIC = FIXTURES / "prepare" / "basic"
HEADERS = {
    "customers": "customer_id,created_at,email,phone,first_name,last_name,dealer_id",
    "touchpoints": "event_id,customer_id,anonymous_id,occurred_at,event_type,channel,dealer_id",
    "sales": "deal_id,customer_id,sold_at,vin",
    "service_visits": "ro_id,customer_id,opened_at,vin",
    "surveys": "response_id,customer_id,survey_type,responded_at,score",
    "referrals": "referral_id,referrer_customer_id,referred_at,referred_customer_id,channel",
}


def exports(folder: Path, **rows) -> Path:
    """A raw folder: every file (header only unless rows are given); dealers D1 (Chicago) by default."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, header in HEADERS.items():
        lines = [header] + list(rows.get(name, []))
        (folder / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    dealers = rows.get("dealers", ["D1,America/Chicago,Chicago Motors,midwest"])
    (folder / "dealers.csv").write_text("\n".join(["dealer_id,timezone,name,region"] + dealers) + "\n",
                                        encoding="utf-8")
    return folder


def read(out: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(out / f"{name}.parquet")


def rejects(out: Path, name: str) -> pd.DataFrame:
    r = read(out, "rejects")
    return r[r["table"] == name].set_index("row")


def add_up(summary):
    for name, counts in summary["tables"].items():
        assert counts["raw"] == counts["kept"] + sum(counts["rejected"].values()), name


# --- 1. dealers is optional --------------------------------------------------------------------
def test_a_missing_dealers_file_is_not_an_error(tmp_path, capsys):
    raw = tmp_path / "raw"
    shutil.copytree(BASIC, raw)
    (raw / "dealers.csv").unlink()
    code = main(["prepare", "--raw", str(raw), "--out", str(tmp_path / "out")])
    assert code == 0, capsys.readouterr().err
    out = tmp_path / "out"
    summary = tables.summary(out)
    assert summary["tables"]["dealers"] == {"raw": 0, "kept": 0, "rejected": {}}
    add_up(summary)
    assert list(read(out, "dealers").columns) == ["dealer_id", "timezone", "name", "region"]
    assert read(out, "dealers").empty
    # without dealers a naive time is in the default zone (New York in this fixture), not Chicago
    tp = read(out, "touchpoints").set_index("event_id")
    assert tp.loc["E2", "occurred_at"] == pd.Timestamp("2024-02-02T14:00Z")
    assert set(read(out, "sales")["dealer_id"]) == {"D1"}  # unknown dealer ids are kept as they are


# --- 2. identity: exact connected components, any chain length --------------------------------
def test_a_long_chain_of_alternating_email_and_phone_matches_is_one_person(tmp_path):
    n = 301
    rows = []
    for i in range(n):
        # record i shares its email with i-1 when i is odd, its phone with i-1 when i is even
        email = f"p{(i + 1) // 2}@example.com"
        phone = f"312555{i // 2:04d}"
        rows.append(f"C{i:04d},2024-01-01T00:00:00Z,{email},{phone},Ann,Lee,")
    rows.reverse()  # file order must not matter
    raw = exports(tmp_path / "raw", customers=rows)
    summary = prepare(raw=raw, out=tmp_path / "out", as_of="2024-12-31")
    ids = read(tmp_path / "out", "identity_map")
    assert len(ids) == n and set(ids["customer_id"]) == {"C0000"}  # ties on created_at: smallest id
    assert summary["customers_merged"] == n - 1
    assert read(tmp_path / "out", "customers")["source_ids"].tolist() == [n]


def test_identity_matches_a_plain_union_find_on_a_random_graph(tmp_path):
    rng = random.Random(5)
    records = []
    for i in range(400):
        day = rng.randint(1, 28)
        email = f"e{rng.randint(0, 150)}@x.com" if rng.random() < 0.7 else None
        phone = f"31255{rng.randint(0, 150):05d}" if rng.random() < 0.7 else None
        records.append((f"C{i}", f"2024-01-{day:02d}T00:00:00Z", email, phone))
    raw = exports(tmp_path / "raw", customers=[f"{c},{t},{e or ''},{p or ''},Ann,Lee," for c, t, e, p in records])
    prepare(raw=raw, out=tmp_path / "out", as_of="2024-12-31")
    got = read(tmp_path / "out", "identity_map").set_index("source_customer_id")["customer_id"].to_dict()
    assert got == survivors({cid: (email, phone, datetime.fromisoformat(created))
                             for cid, created, email, phone in records})


# --- 3. ISO-8601 spellings (more in test_prepare_timestamps.py) --------------------------------
def test_iso_spellings_in_an_export_are_parsed(tmp_path):
    stamps = ["2024-02-01T09:00:00.1234567Z", "2024-02-01T09:00:00,5Z", "2024-02-01t09:00:00z",
              "20240201T090000Z"]
    raw = exports(tmp_path / "raw", customers=["C1,2024-01-01T00:00:00Z,,,Ann,Lee,"],
                  touchpoints=[f"E{i},C1,,\"{s}\",site visit,www," for i, s in enumerate(stamps)])
    summary = prepare(raw=raw, out=tmp_path / "out", as_of="2024-12-31")
    assert summary["tables"]["touchpoints"] == {"raw": 4, "kept": 4, "rejected": {}}
    got = read(tmp_path / "out", "touchpoints").set_index("event_id")["occurred_at"]
    assert got["E0"] == pd.Timestamp("2024-02-01T09:00:00.123456Z")
    assert got["E1"] == pd.Timestamp("2024-02-01T09:00:00.5Z")
    assert got["E2"] == got["E3"] == pd.Timestamp("2024-02-01T09:00:00Z")


# --- 4. a customer created after the as-of date did not exist yet ------------------------------
def test_customers_created_after_the_as_of_date_are_rejected(tmp_path):
    raw = exports(
        tmp_path / "raw",
        customers=["C1,1985-01-01T00:00:00Z,a@x.com,,Ann,Lee,",      # before 1990: cleared, kept
                   "C2,2024-07-01T00:00:00Z,b@x.com,,Bo,Ray,",       # after the as-of date: rejected
                   "C3,not a date,c@x.com,,Cy,Ng,",                  # unparseable: cleared, kept
                   "C4,2024-07-02T00:00:00Z,a@x.com,,Ann,Lee,"],     # after as-of, would merge with C1
        touchpoints=["E1,C1,,2024-02-01T09:00:00Z,site visit,www,",
                     "E2,C2,,2024-06-01T09:00:00Z,site visit,www,",  # C2 not a customer at the as-of date
                     "E3,C2,,2024-07-02T09:00:00Z,site visit,www,",  # after the as-of date itself
                     "E4,C4,,2024-06-02T09:00:00Z,site visit,www,"],
        sales=["S1,C2,2024-06-10T00:00:00Z,V1"],
    )
    (raw / "journey.yaml").write_text("max_rejected_share: 1\n", encoding="utf-8")  # most rows planted to go
    summary = prepare(raw=raw, out=tmp_path / "out", as_of="2024-06-30")
    out = tmp_path / "out"
    assert sorted(read(out, "customers")["customer_id"]) == ["C1", "C3"]
    assert read(out, "customers")["created_at"].isna().all()
    assert summary["cleared_values"]["customers.created_at"] == 2
    c = rejects(out, "customers")
    assert c.loc[2, "reason"] == "out_of_range_timestamp" and "after the as-of date" in c.loc[2, "detail"]
    assert c.loc[4, "reason"] == "out_of_range_timestamp"
    tp = rejects(out, "touchpoints")
    assert tp.loc[2, "reason"] == "unknown_customer" and tp.loc[3, "reason"] == "out_of_range_timestamp"
    assert tp.loc[4, "reason"] == "unknown_customer"
    assert rejects(out, "sales").loc[1, "reason"] == "unknown_customer"
    assert set(read(out, "journeys")["customer_id"]) == {"C1", "C3"}
    assert summary["customers_merged"] == 0
    add_up(summary)


# --- 5. dealers are written --------------------------------------------------------------------
def test_kept_dealers_are_a_processed_table(tmp_path):
    prepare(raw=BASIC, out=tmp_path / "out")
    dealers = tables.load("dealers", tmp_path / "out")
    assert dealers.to_dict("records") == [
        {"dealer_id": "D1", "timezone": "America/Chicago", "name": "Chicago Motors", "region": "midwest"},
        {"dealer_id": "D2", "timezone": "America/Los_Angeles", "name": "LA Cars", "region": "west"},
    ]  # D3 (bad time zone) is in rejects


# --- 6. a purchase is a row of sales ------------------------------------------------------------
def test_a_crm_sold_label_without_a_sale_is_not_a_purchase(tmp_path):
    raw = exports(
        tmp_path / "raw",
        customers=["C1,2024-01-01T00:00:00Z,,,Ann,Lee,", "C2,2024-01-01T00:00:00Z,,,Bo,Ray,"],
        touchpoints=["E1,C1,,2024-02-01T09:00:00Z,site visit,www,",
                     "E2,C1,,2024-02-05T09:00:00Z,Sold,walk in,",
                     "E3,C1,,2024-02-06T09:00:00Z,service reminder,email,",
                     "E4,C2,,2024-02-01T09:00:00Z,site visit,www,",
                     "E5,C2,,2024-02-05T09:00:00Z,sale,walk in,",
                     "E6,C2,,2024-03-06T09:00:00Z,service reminder,email,"],
        sales=["S1,C2,2024-03-01T09:00:00Z,V1"],
    )
    prepare(raw=raw, out=tmp_path / "out", as_of="2024-06-30")
    tp = read(tmp_path / "out", "touchpoints").set_index("event_id")
    assert tp.loc["E2", ["event_type", "stage"]].tolist() == ["purchase", "purchase"]  # stays in the log
    assert not tp.loc["E3", "counts_for_journey"]   # retention before any sale
    assert tp.loc["E6", "counts_for_journey"]       # after C2's sale
    j = read(tmp_path / "out", "journeys").set_index("customer_id")
    c1 = j.loc["C1"]
    assert not c1["purchased"] and c1["censored"] and pd.isna(c1["first_purchase_at"])
    assert c1["purchase_at"] == pd.Timestamp("2024-02-05T09:00Z")  # the stage is reached by any event of it
    assert c1["furthest_stage"] == "purchase"
    assert c1["days_to_purchase"] == pytest.approx((pd.Timestamp("2024-07-01T00:00Z") - pd.Timedelta(microseconds=1)
                                                    - pd.Timestamp("2024-02-01T09:00Z")) / pd.Timedelta(days=1))
    c2 = j.loc["C2"]
    assert c2["purchased"] and c2["first_purchase_at"] == pd.Timestamp("2024-03-01T09:00Z")
    assert c2["days_to_purchase"] == pytest.approx(29.0)
    assert c2["retention_at"] == pd.Timestamp("2024-03-06T09:00Z")


# --- 7. the first touch counts for the journey ------------------------------------------------
def test_the_first_touch_is_the_first_event_that_counts(tmp_path):
    prepare(raw=BASIC, out=tmp_path / "out")
    j = read(tmp_path / "out", "journeys").set_index("customer_id")
    c7 = j.loc["C7"]  # referred someone (ref:F3, 2024-01-01) before buying (S4, 2024-03-04)
    assert c7["first_touch_at"] == pd.Timestamp("2024-03-04T12:00Z") == c7["awareness_at"]
    assert c7["acquisition_channel"] == "walk_in" and c7["days_to_purchase"] == 0
    c4 = j.loc["C4"]  # first event a service reminder with no purchase (does not count), then a site visit
    assert c4["first_touch_at"] == pd.Timestamp("2024-02-06T10:00Z") == c4["awareness_at"]
    assert c4["acquisition_channel"] == "website"
    assert (j["first_touch_at"] == j["awareness_at"]).all()


def test_a_customer_whose_events_do_not_count_has_no_first_touch(tmp_path):
    raw = exports(tmp_path / "raw", customers=["C1,2024-01-01T00:00:00Z,,,Ann,Lee,"],
                  touchpoints=["E1,C1,,2024-02-01T09:00:00Z,Teleport,www,",
                               "E2,C1,,2024-02-02T09:00:00Z,loyalty signup,email,"])
    prepare(raw=raw, out=tmp_path / "out", as_of="2024-06-30")
    c1 = read(tmp_path / "out", "journeys").iloc[0]
    assert c1["touchpoints"] == 2 and pd.isna(c1["first_touch_at"]) and c1["acquisition_channel"] is None
    assert c1["censored"] and pd.isna(c1["days_to_purchase"]) and c1["furthest_stage"] is None


# --- 8. the default as-of date ignores test records and unknown customers ----------------------
def test_the_default_as_of_comes_from_rows_of_real_customers(tmp_path):
    raw = exports(
        tmp_path / "raw",
        customers=["C1,2024-01-01T00:00:00Z,,,Ann,Lee,", "C5,2024-01-01T00:00:00Z,,,Cat,Test,"],
        touchpoints=["E1,C1,,2024-02-01T09:00:00Z,site visit,www,",
                     "E2,C5,,2024-05-01T09:00:00Z,site visit,www,",     # test customer
                     "E3,C99,,2024-05-02T09:00:00Z,site visit,www,",    # unknown customer
                     "E4,C1,,2024-05-03T09:00:00Z,,www,",               # missing event type
                     "E5,,ck1,2024-05-04T09:00:00Z,site visit,www,"],   # anonymous, never linked
        sales=["S1,C5,2024-05-05T00:00:00Z,V1"],
        referrals=["F1,C5,2024-05-06T00:00:00Z,,"],
        surveys=["Q1,C1,sales,2024-02-03T00:00:00Z,9", "Q2,C1,sales,2024-05-07T00:00:00Z,11"],  # score 11: invalid
    )
    (raw / "journey.yaml").write_text("max_rejected_share: 1\n", encoding="utf-8")  # most rows planted to go
    summary = prepare(raw=raw, out=tmp_path / "out", now=datetime(2025, 1, 1, tzinfo=timezone.utc))
    assert summary["as_of"] == "2024-02-03T00:00:00+00:00"
    add_up(summary)


# --- 9. --as-of dates mean the end of the day, whatever ISO spelling; others are errors --------
def test_as_of_date_forms():
    end = datetime(2024, 6, 6, 4, 0, tzinfo=timezone.utc) - pd.Timedelta(microseconds=1)
    for value in ("2024-06-05", "20240605", " 2024-06-05 ", "2024-W23-3"):
        assert resolve_as_of(value, "America/New_York") == end, value
    assert resolve_as_of("2024-06-05T10:00:00Z", "America/New_York") == datetime(2024, 6, 5, 10, tzinfo=timezone.utc)
    assert resolve_as_of("2024-06-05t10:00z", "UTC") == datetime(2024, 6, 5, 10, tzinfo=timezone.utc)
    assert resolve_as_of("2024-06-05 10:00", "America/New_York") == datetime(2024, 6, 5, 14, tzinfo=timezone.utc)
    for value in ("2024-6-5", "06/05/2024", "June 5 2024", "next tuesday", "2024-06-31"):
        with pytest.raises(InputError, match="--as-of"):
            resolve_as_of(value, "UTC")


def test_a_non_iso_as_of_is_a_clear_error(tmp_path, capsys):
    code = main(["prepare", "--raw", str(BASIC), "--out", str(tmp_path / "out"), "--as-of", "2024-6-5"])
    err = capsys.readouterr().err
    assert code == 2 and "--as-of" in err and "YYYY-MM-DD" in err and not (tmp_path / "out").exists()
