"""Properties on generated messy exports: counts add up, row order does not matter, runs repeat exactly."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings, strategies as st

from journeylib import paths
from journeylib.errors import InputError
from journeylib.prepare import prepare
from journeylib.prepare.write import SORT_KEYS
from tests.support import FIXTURES

IDS = [f"C{i}" for i in range(6)] + ["", "C99"]
STAMPS = ["2024-01-02T10:00:00Z", "2024-01-02 10:00:00", "2024-03-10 02:30", "2024-01-03", "01/02/2024",
          "bogus", "1980-01-01T00:00:00Z", "NULL", "2024-02-01T09:00:00-05:00"]
EVENTS = ["Test Drive", "vdp view", "Teleport", "", "service visit", "referral"]
CHANNELS = ["FB", "www", "Pigeon", "N/A", "walk in"]
EMAILS = ["a@x.com", " A@X.com", "b@x.com", "t@autogroup-internal.com", ""]
PHONES = ["3125550101", "(312) 555-0101", "", "555 0199"]
NAMES = ["Ann", "test", "Bo"]

text = st.sampled_from
customer = st.tuples(text(IDS[:6] + [""]), text(STAMPS), text(EMAILS), text(PHONES), text(NAMES))
touch = st.tuples(text(["", "E1", "E2", "E3"]), text(IDS), text(["", "ck1", "ck2"]), text(STAMPS), text(EVENTS),
                  text(CHANNELS))
sale = st.tuples(text(["S1", "S2", ""]), text(IDS), text(STAMPS), text(["V1", "V2", ""]), text(["100", "-1", "x"]))
visit = st.tuples(text(["R1", "R2"]), text(IDS), text(STAMPS), text(["V1", "V2", ""]))
survey = st.tuples(text(["Q1", "Q2"]), text(IDS), text(["sales", "service", "x"]), text(STAMPS), text(["9", "11", "a"]))
referral = st.tuples(text(["F1", "F2"]), text(IDS), text(STAMPS), text(IDS), text(CHANNELS))
exports = st.fixed_dictionaries({
    "customers": st.lists(customer, max_size=8), "touchpoints": st.lists(touch, max_size=12),
    "sales": st.lists(sale, max_size=4), "service_visits": st.lists(visit, max_size=4),
    "surveys": st.lists(survey, max_size=3), "referrals": st.lists(referral, max_size=3),
})
HEADERS = {
    "customers": ["customer_id", "created_at", "email", "phone", "first_name"],
    "touchpoints": ["event_id", "customer_id", "anonymous_id", "occurred_at", "event_type", "channel"],
    "sales": ["deal_id", "customer_id", "sold_at", "vin", "price"],
    "service_visits": ["ro_id", "customer_id", "opened_at", "vin"],
    "surveys": ["response_id", "customer_id", "survey_type", "responded_at", "score"],
    "referrals": ["referral_id", "referrer_customer_id", "referred_at", "referred_customer_id", "channel"],
}
# messy on purpose: most rows of a table may be rejected (prepare's rejection check off)
CONFIG = 'internal_domains: [autogroup-internal.com]\ntimestamp_formats: {sales: "%m/%d/%Y"}\nmax_rejected_share: 1\n'
FAST = settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def write_exports(folder: Path, data, shuffle_seed=None):
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in data.items():
        rows = list(rows)
        if shuffle_seed is not None:
            random.Random(shuffle_seed).shuffle(rows)
        with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADERS[name])
            writer.writerows(rows)
    (folder / "journey.yaml").write_text(CONFIG, encoding="utf-8")
    (folder / "dealers.csv").write_text("dealer_id,timezone\nD1,America/Chicago\n", encoding="utf-8")


NO_STAMP = "no row has a usable timestamp"


def prepared(raw: Path, out: Path, now):
    """prepare's summary, or None for an export without one usable timestamp (no as-of date: an error)."""
    try:
        return prepare(raw=raw, out=out, now=now)
    except InputError as error:
        assert NO_STAMP in str(error)
        return None


def processed(folder: Path) -> dict:
    tables = {name: pd.read_parquet(folder / f"{name}.parquet") for name in SORT_KEYS}
    # rejects carry the raw row number, which shuffling changes by design: compare their content
    rejects = pd.read_parquet(folder / "rejects.parquet").drop(columns="row")
    tables["rejects"] = rejects.sort_values(list(rejects.columns)).reset_index(drop=True)
    return tables


@FAST
@given(data=exports)
def test_every_raw_row_is_kept_or_rejected(tmp_path_factory, data):
    base = tmp_path_factory.mktemp("prop")
    write_exports(base / "raw", data)
    summary = prepared(base / "raw", base / "out", pd.Timestamp("2025-01-01", tz="UTC"))
    if summary is None:
        return
    rejects = pd.read_parquet(base / "out" / "rejects.parquet")
    for name, rows in data.items():
        counts = summary["tables"][name]
        assert counts["raw"] == len(rows)
        assert counts["raw"] == counts["kept"] + sum(counts["rejected"].values())
        assert sorted(rejects.loc[rejects["table"] == name, "row"]) == sorted(set(rejects.loc[rejects["table"] == name, "row"]))
        assert len(rejects[rejects["table"] == name]) == sum(counts["rejected"].values())


@FAST
@given(data=exports, seed=st.integers(0, 1000))
def test_shuffled_rows_give_identical_tables(tmp_path_factory, data, seed):
    base = tmp_path_factory.mktemp("shuffle")
    write_exports(base / "a", data)
    write_exports(base / "b", data, shuffle_seed=seed)
    now = pd.Timestamp("2025-01-01", tz="UTC")
    first = prepared(base / "a", base / "out_a", now)
    second = prepared(base / "b", base / "out_b", now)
    assert (first is None) == (second is None)
    if first is None:
        return
    a, b = processed(base / "out_a"), processed(base / "out_b")
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], obj=name)
    assert {k: v for k, v in first.items() if k != "inputs"} == {k: v for k, v in second.items() if k != "inputs"}


def test_running_twice_gives_identical_files(tmp_path):
    basic = FIXTURES / "prepare" / "basic"
    prepare(raw=basic, out=tmp_path / "one")
    prepare(raw=basic, out=tmp_path / "two")
    one, two = paths.processed_dir(tmp_path / "one"), paths.processed_dir(tmp_path / "two")  # current versions
    names = sorted(p.name for p in one.iterdir())
    assert names == sorted(p.name for p in two.iterdir())
    for name in names:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
