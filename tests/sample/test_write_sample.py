"""`journey sample`: deterministic, complete, messy in every way the contract names,
and honest: the truth it writes is what a correct reading of its files finds."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import pytest
import yaml

from journeylib.cli import DEFAULT_SAMPLE_CUSTOMERS, DEFAULT_SAMPLE_SEED, main
from journeylib.errors import InputError
from journeylib.sample import TABLES, assemble, write_sample
from journeylib.taxonomy import CHANNELS, Taxonomy

from tests.support.reference_clean import clean as reference_clean  # noqa: E402

REQUIRED = {
    "customers": ["customer_id"],
    "touchpoints": ["customer_id", "occurred_at", "event_type", "channel"],
    "sales": ["DealNumber", "customer_id", "SoldDate"],          # deal_id and sold_at, renamed in journey.yaml
    "service_visits": ["ro_id", "customer_id", "opened_at"],
    "surveys": ["response_id", "customer_id", "survey_type", "responded_at", "score"],
    "referrals": ["referral_id", "referrer_customer_id", "referred_at"],
    "dealers": ["dealer_id", "timezone"],
}
SMALL = 400

MESS_KINDS = [
    "duplicate_customer_records", "test_customer_records", "test_record_rows", "duplicate_touchpoint_rows",
    "repeated_event_id", "repeated_deal_id", "repeated_ro_id", "repeated_response_id", "repeated_referral_id",
    "messy_spellings", "timestamp_utc_z", "timestamp_with_offset", "timestamp_naive_local", "timestamp_date_only",
    "vin_only_service_rows", "anonymous_rows_linked_by_cookie", "invalid_score", "negative_price",
    "unknown_event_type", "unknown_channel", "unparseable_timestamp", "out_of_range_timestamp",
    "missing_value_tokens", "unknown_customer", "unlinked_anonymous_rows", "missing_required",
    "unresolved_vin_only_rows", "comments_with_email", "comments_with_phone", "comments_with_markup",
]


def read(folder: Path, name: str) -> list[dict]:
    with open(folder / f"{name}.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def header(folder: Path, name: str) -> list[str]:
    with open(folder / f"{name}.csv", newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle))


def digest(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    return write_sample(tmp_path_factory.mktemp("small") / "raw", customers=SMALL, seed=11)


@pytest.fixture(scope="module")
def default(tmp_path_factory) -> Path:
    return write_sample(tmp_path_factory.mktemp("default") / "raw",
                        customers=DEFAULT_SAMPLE_CUSTOMERS, seed=DEFAULT_SAMPLE_SEED)


def truth_of(folder: Path) -> dict:
    return json.loads((folder / "truth.json").read_text(encoding="utf-8"))


# --- determinism and refusal ----------------------------------------------------------------
def test_same_seed_gives_identical_bytes_and_another_seed_differs(small, tmp_path):
    again = write_sample(tmp_path / "again", customers=SMALL, seed=11)
    assert digest(again) == digest(small)
    other = write_sample(tmp_path / "other", customers=SMALL, seed=12)
    assert digest(other)["touchpoints.csv"] != digest(small)["touchpoints.csv"]
    assert digest(other)["truth.json"] != digest(small)["truth.json"]


@pytest.mark.parametrize("existing", ["customers.csv", "touchpoints.parquet", "journey.yaml"])
def test_refuses_to_overwrite_exports(tmp_path, existing):
    (tmp_path / existing).write_text("keep me", encoding="utf-8")
    with pytest.raises(InputError, match=existing):
        write_sample(tmp_path, customers=100, seed=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == [existing]
    assert (tmp_path / existing).read_text(encoding="utf-8") == "keep me"


def test_cli_writes_then_refuses(tmp_path, capsys):
    out = tmp_path / "raw"
    assert main(["sample", "--out", str(out), "--customers", "120", "--seed", "3"]) == 0
    assert (out / "truth.json").exists()
    assert main(["sample", "--out", str(out), "--customers", "120", "--seed", "3"]) == 2
    assert "already holds exports" in capsys.readouterr().err


# --- shape ---------------------------------------------------------------------------------
def test_all_tables_with_the_contract_columns_and_the_config(small):
    for table in TABLES:
        assert (small / f"{table}.csv").exists(), table
        columns = header(small, table)
        assert set(REQUIRED[table]) <= set(columns), (table, columns)
        assert read(small, table), f"{table} is empty"
    config = yaml.safe_load((small / "journey.yaml").read_text(encoding="utf-8"))
    assert config["default_timezone"] == "America/Chicago"
    assert config["internal_domains"] == ["autogroup-internal.com"]
    assert config["columns"] == {"sales": {"deal_id": "DealNumber", "sold_at": "SoldDate"}}
    assert config["timestamp_formats"] == {"service_visits": "%m/%d/%Y %H:%M"}
    assert config["taxonomy"] == {"channels": {}, "event_types": {}, "stages": {}}
    dealers = read(small, "dealers")
    assert 6 <= len(dealers) <= 7   # six simulated dealers and the long tail's small one
    assert {d["timezone"] for d in dealers} == {
        "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles"}


def test_service_visits_use_the_configured_us_format(small):
    opened = [r["opened_at"] for r in read(small, "service_visits")]
    us = [v for v in opened if re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", v)]
    assert len(us) >= 0.97 * len(opened)


def test_nothing_valid_after_the_as_of_date(small):
    truth = truth_of(small)
    assert truth["as_of"] == "2026-06-30T23:59:00Z"
    stamps = [r["occurred_at"] for r in read(small, "touchpoints")]
    assert "2026-06-30T23:59:00Z" in stamps
    later = [s for s in stamps if s[:4].isdigit() and s[:10] > "2026-07-01" and not s.startswith("2099")]
    assert later == []


# --- mess ----------------------------------------------------------------------------------
def test_every_mess_kind_is_counted(small):
    mess = truth_of(small)["mess"]
    missing = [kind for kind in MESS_KINDS if mess.get(kind, 0) <= 0]
    assert missing == []



def test_declared_rules_are_what_truth_json_counts(tmp_path, monkeypatch):
    """Each table's declared MESS list is exactly the mess kinds it plants, fixed counts are exact,
    and truth.json's mess is the sum over the tables."""
    counted = {}
    for name, module in assemble.TABLE_MODULES.items():
        def recording(*args, _build=module.build, _name=name, **kwargs):
            out = _build(*args, **kwargs)
            counted[_name] = dict((out[1] if isinstance(out, tuple) else out) or {})
            return out
        monkeypatch.setattr(module, "build", recording)
    folder = write_sample(tmp_path / "raw", customers=SMALL, seed=11)
    assert set(counted) == set(TABLES)
    total = {}
    for name, module in assemble.TABLE_MODULES.items():
        kinds = [rule.kind for rule in module.MESS]
        assert len(kinds) == len(set(kinds)), name
        assert {k for k, v in counted[name].items() if v > 0} == set(kinds), name
        for rule in module.MESS:
            got = counted[name][rule.kind]
            if rule.add is not None and rule.share == 0 and rule.minimum:
                assert got == rule.minimum, (name, rule.kind)
            assert got >= rule.minimum, (name, rule.kind)
            total[rule.kind] = total.get(rule.kind, 0) + got
    assert truth_of(folder)["mess"] == dict(sorted(total.items()))
    assert sorted(total) == sorted(MESS_KINDS)


def test_docs_list_the_declared_rules():
    """docs/sample.md holds the generated table of every table's declared rules, unedited."""
    docs = (Path(__file__).resolve().parents[2] / "docs" / "sample.md").read_text(encoding="utf-8")
    start, end = docs.index(assemble.DOCS_START), docs.index(assemble.DOCS_END) + len(assemble.DOCS_END)
    assert docs[start:end] == assemble.mess_rules_markdown(), "regenerate: python -m journeylib.sample.assemble"
    for module in assemble.TABLE_MODULES.values():
        for rule in module.MESS:
            assert f"`{rule.kind}`" in docs[start:end]

def test_mess_is_visible_in_the_files(small):
    tp = read(small, "touchpoints")
    customers = read(small, "customers")
    sales = read(small, "sales")
    service = read(small, "service_visits")
    surveys = read(small, "surveys")
    taxonomy = Taxonomy()
    rows = [tuple(r.values()) for r in tp]
    assert len(rows) > len(set(rows)), "identical touchpoint rows"
    ids = [r["event_id"] for r in tp if r["event_id"]]
    assert len(ids) > len(set(ids)), "repeated event ids"
    for name, column in (("sales", "DealNumber"), ("service_visits", "ro_id"), ("surveys", "response_id"),
                         ("referrals", "referral_id")):
        values = [r[column] for r in read(small, name) if r[column]]
        assert len(values) > len(set(values)), f"repeated {column}"
    raw_types = {r["event_type"] for r in tp}
    raw_channels = {r["channel"] for r in tp}
    assert {"Test Drive", "test-drive", " TEST_DRIVE "} & raw_types
    assert any(taxonomy.event_type(v) == "unknown" for v in raw_types if v not in ("", "NULL", "N/A"))
    assert any(taxonomy.channel(v) == "unknown" for v in raw_channels if v not in ("", "NULL", "N/A"))
    assert {"Google Ads", "FB", "Cars.com"} & raw_channels
    stamps = [r["occurred_at"] for r in tp]
    assert any(s.endswith("Z") for s in stamps)
    assert any(re.search(r"[+-]\d{2}:\d{2}$", s) for s in stamps)
    assert any(re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", s) for s in stamps)
    assert any(re.fullmatch(r"\d{4}-\d{2}-\d{2}", s) for s in stamps)
    assert any(s.startswith(("1970", "2099", "1900", "1985")) for s in stamps)
    assert {"not a date", "2024-13-45"} & set(stamps)
    assert any(not r["customer_id"] and r["anonymous_id"] for r in tp)
    assert any(r["customer_id"] in ("NULL", "N/A") or r["dealer_id"] in ("NULL", "N/A") for r in tp)
    known = {c["customer_id"] for c in customers}
    assert any(r["customer_id"] and r["customer_id"] not in ("NULL", "N/A") and r["customer_id"] not in known
               for r in tp)
    # customers: tests, duplicates spelled differently
    assert any(c["first_name"] in ("Test", "TEST") or c["last_name"].lower() == "test" for c in customers)
    assert any(c["email"].endswith("@autogroup-internal.com") for c in customers)
    emails = [c["email"] for c in customers if c["email"] not in ("", "NULL", "N/A")]
    assert any(e != e.strip() for e in emails) and any(e != e.lower() for e in emails)
    phones = [c["phone"] for c in customers]
    assert any(re.fullmatch(r"\(\d{3}\) \d{3}-\d{4}", p) for p in phones)
    assert any(re.fullmatch(r"\d{3}\.\d{3}\.\d{4}", p) for p in phones)
    assert any(p.startswith("+1 ") for p in phones)
    # sales, service, surveys
    assert any(r["price"].startswith("-") for r in sales)
    sold_vins = {r["vin"] for r in sales}
    assert any(not r["customer_id"] and r["vin"] in sold_vins for r in service)
    scores = {r["score"] for r in surveys}
    assert {"11", "-1", "ten"} <= scores
    comments = " ".join(r["comment"] for r in surveys)
    assert "<script>alert(1)</script>" in comments and "<b>" in comments
    assert re.search(r"[\w.]+@[\w.]+\.\w+", comments)
    assert re.search(r"\(\d{3}\) \d{3}-\d{4}", comments)


def test_mess_rates_stay_small(default):
    mess = truth_of(default)["mess"]
    rows = truth_of(default)["rows"]
    for kind in ("duplicate_touchpoint_rows", "repeated_event_id", "unknown_event_type", "unknown_channel",
                 "unparseable_timestamp", "out_of_range_timestamp", "unknown_customer", "unlinked_anonymous_rows"):
        assert mess[kind] <= 0.03 * rows["touchpoints"], kind
    assert mess["duplicate_customer_records"] <= 0.1 * rows["customers"]
    assert mess["test_customer_records"] <= 0.02 * rows["customers"]


def test_spellings_all_map_to_their_canonical_value():
    from journeylib.sample import _text as T

    taxonomy = Taxonomy()
    for canonical, spellings in T.EVENT_SPELLINGS.items():
        assert {taxonomy.event_type(s) for s in spellings} == {canonical}
    for canonical, spellings in T.CHANNEL_SPELLINGS.items():
        assert {taxonomy.channel(s) for s in spellings} == {canonical}
    assert {taxonomy.channel(s) for s in T.REFERRAL_CHANNEL_SPELLINGS} == {"referral"}
    assert {taxonomy.event_type(s) for s in T.UNKNOWN_EVENT_TYPES} == {"unknown"}
    assert {taxonomy.channel(s) for s in T.UNKNOWN_CHANNELS} == {"unknown"}


def test_the_long_tail_is_planted(small):
    """A few leads through rare channels and unknown labels, and one small dealer: levels with no buyers."""
    tail = truth_of(small)["long_tail"]
    taxonomy = Taxonomy()
    assert tail["rare_channels"] == ["other", "sms", "unknown"] and tail["buyers"] == 0
    assert {taxonomy.channel(label) for label in tail["unknown_labels"]} == {"unknown"}
    counts = truth_of(small)["time_to_purchase"]["acquisition_channel_counts"]
    for channel in tail["rare_channels"]:
        assert 1 <= tail["acquisition_channel_counts"][channel] <= 5 and counts[channel] >= 1, channel
    assert tail["small_dealer"] in {d["dealer_id"] for d in read(small, "dealers")}
    dealer_of = {r["customer_id"]: r["dealer_id"] for r in read(small, "customers")}
    small_dealers = [c for c, d in dealer_of.items() if d == tail["small_dealer"]]
    assert len(small_dealers) == tail["small_dealer_leads"]
    tail_leads = {r["customer_id"] for r in read(small, "touchpoints")
                  if taxonomy.channel(r["channel"]) in ("sms", "other", "unknown") and r["customer_id"].startswith("CT")}
    assert len(tail_leads) == sum(tail["acquisition_channel_counts"][c] for c in tail["rare_channels"])
    buyers = {r["customer_id"] for r in read(small, "sales")}
    assert not (tail_leads | set(small_dealers)) & buyers


# --- truth -----------------------------------------------------------------------------------
def test_truth_records_the_effects(small):
    truth = truth_of(small)
    assert truth["seed"] == 11 and truth["customers_requested"] == SMALL
    ttp = truth["time_to_purchase"]
    assert ttp["reference_channel"] == "website"
    assert ttp["hazard_ratios"]["test_drive"] > 1
    assert {f"channel:{c}" for c in ("search", "social", "display", "third_party", "walk_in", "phone", "email",
                                    "referral")} <= set(ttp["hazard_ratios"])
    assert all(k.split(":", 1)[1] in CHANNELS for k in ttp["hazard_ratios"] if k.startswith("channel:"))
    retention = truth["retention"]
    assert retention["churn_after_days"] == 365
    assert retention["reference_levels"] == {"finance_type": "finance", "condition": "new", "satisfaction": "passive"}
    assert set(retention["odds_ratios"]) == {
        "finance_type:lease", "finance_type:cash", "condition:used", "condition:cpo",
        "satisfaction:detractor", "satisfaction:promoter", "satisfaction:no_response"}
    advocacy = truth["advocacy"]
    assert advocacy["reference_satisfaction"] == "passive"
    assert set(advocacy["referral_rate_ratios"]) == {
        "satisfaction:promoter", "satisfaction:detractor", "satisfaction:no_response"}
    assert advocacy["referral_rate_ratios"]["satisfaction:promoter"] > 1
    assert advocacy["base_rate_per_year"] > 0 and advocacy["dispersion"] > 0
    assert abs(sum(truth["personas"]["shares"].values()) - 1) < 1e-9
    assert set(truth["feedback"]["themes"]) >= {"price", "financing", "salesperson", "vehicle", "delivery",
                                                "service_quality"}
    identity = truth["identity"]
    assert identity["raw_customer_records"] == (identity["persons"] + identity["customers_merged"]
                                                + identity["test_customers"])
    funnel = list(truth["funnel"].values())
    assert list(truth["funnel"]) == ["awareness", "consideration", "purchase", "retention", "advocacy"]
    assert funnel == sorted(funnel, reverse=True) and funnel[0] == identity["persons"]


def test_truth_is_what_a_correct_reading_of_the_files_finds(small):
    truth = truth_of(small)
    as_of = dt.datetime.fromisoformat(truth["as_of"].replace("Z", "+00:00"))
    found = reference_clean(small, as_of)
    assert found["persons"] == truth["identity"]["persons"]
    assert found["customers_merged"] == truth["identity"]["customers_merged"]
    assert found["test_customers"] == truth["identity"]["test_customers"]
    assert found["funnel"] == truth["funnel"]
    assert found["buyers"] == truth["time_to_purchase"]["buyers"]
    assert round(found["purchase_share_365"], 4) == truth["time_to_purchase"]["purchase_share_365"]
    assert found["acquisition_channels"] == {k: v for k, v in
                                             truth["time_to_purchase"]["acquisition_channel_counts"].items() if v}
    assert found["eligible_buyers"] == truth["retention"]["eligible_buyers"]
    assert found["churned"] == truth["retention"]["churned"]
    assert found["sales_responses"] == truth["satisfaction"]["sales_responses"]
    assert round(found["nps_sales"], 2) == truth["satisfaction"]["nps_sales"]
    assert found["referrals"] == truth["advocacy"]["referrals"]


def test_default_sample_is_realistic(default):
    truth = truth_of(default)
    n = truth["customers_requested"]
    assert n <= truth["identity"]["persons"] <= 1.25 * n
    assert 0.25 <= truth["time_to_purchase"]["purchase_share_365"] <= 0.35
    assert 20 <= truth["satisfaction"]["nps_sales"] <= 50
    assert 0.25 <= truth["retention"]["churn_rate"] <= 0.40
    assert truth["retention"]["buyers_with_service_visit"] > 0.5
    per_person = truth["rows"]["touchpoints"] / truth["identity"]["persons"]
    assert 9 <= per_person <= 16
    funnel = truth["funnel"]
    assert funnel["purchase"] < 0.6 * funnel["awareness"]
    assert funnel["retention"] > 0.6 * funnel["purchase"]
    comments = sum(1 for r in read(default, "surveys") if r["comment"])
    assert 0.4 <= comments / truth["rows"]["surveys"] <= 0.6
