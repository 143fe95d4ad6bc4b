"""End to end on `journey sample`: no personal data out, merges and funnel as the sample's truth says."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from journeylib import STAGES, paths
from journeylib.prepare import prepare

sample = pytest.importorskip("journeylib.sample")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("e2e")
    sample.write_sample(base / "raw", customers=500, seed=7)
    summary = prepare(raw=base / "raw", out=base / "processed")
    truth = json.loads((base / "raw" / "truth.json").read_text(encoding="utf-8"))
    return base, summary, truth


def test_no_email_or_phone_from_the_raw_files_reaches_the_output(run):
    base = run[0]
    customers = pd.read_csv(base / "raw" / "customers.csv", dtype=str, keep_default_na=False)
    emails = {e.strip().lower() for e in customers["email"] if "@" in e}
    phones = {re.sub(r"\D", "", p)[-10:] for p in customers["phone"] if len(re.sub(r"\D", "", p)) >= 7}
    assert emails and phones
    files = list(paths.processed_dir(base / "processed").iterdir())  # the current version
    assert {"customers.parquet", "summary.json", "rejects.parquet"} <= {p.name for p in files}
    for path in files:
        if path.suffix == ".json":
            text = path.read_text(encoding="utf-8")
        else:
            text = pd.read_parquet(path).astype(str).to_csv(index=False)
        lowered = text.lower()
        assert not any(e in lowered for e in emails), path.name
        digits = re.sub(r"\D", " ", text).split()
        assert not phones & {d[-10:] for d in digits if len(d) >= 10}, path.name


def test_merges_match_the_truth(run):
    _, summary, truth = run
    assert summary["customers_merged"] == truth["identity"]["customers_merged"]
    customers = summary["tables"]["customers"]
    assert customers["raw"] == truth["identity"]["raw_customer_records"]
    assert customers["rejected"].get("test_record", 0) == truth["identity"]["test_customers"]
    people = pd.read_parquet(run[0] / "processed" / "customers.parquet")
    assert len(people) == truth["identity"]["persons"]


def test_funnel_matches_the_truth(run):
    journeys = pd.read_parquet(run[0] / "processed" / "journeys.parquet")
    funnel = {stage: int(journeys[f"{stage}_at"].notna().sum()) for stage in STAGES}
    assert funnel == run[2]["funnel"]


def test_counts_add_up(run):
    for name, counts in run[1]["tables"].items():
        assert counts["raw"] == counts["kept"] + sum(counts["rejected"].values()), name
