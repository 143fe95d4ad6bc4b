"""truth.json `future` (issue 24): the sample's future is added without changing a byte of anything else."""

import hashlib
import json

import pytest

from journeylib.sample import write_sample

# sha256 of the default sample (2000 customers, seed 7) before the future was added
BEFORE = {
    "customers.csv": "1ec7c4c5a4af24e304dba3e93a80da9e238ddd4c967898e864b717cf057b9501",
    "dealers.csv": "3dc4b5cc6eb1537466b70d07afbcd8e284ca665b0e16a475d4d728709e296012",
    "journey.yaml": "0ae9a9e1648b289aba294681b02555e1c7dee2f72d21d5838512ef223f313418",
    "referrals.csv": "b5bdb49d90e213fee5d1e171a5c7d365d0c986676863efd99ba97b33c7e054f2",
    "sales.csv": "67c864222384b3abd237e4b5935984fa5dfcbebae9c46f097e645c545dfd0d6b",
    "service_visits.csv": "6c45e5d3fbf4855bba3d20be82195e0d089dea5710f6cce624733e1bad274a70",
    "surveys.csv": "cb6969ff7d8347ef043bbb297d60dfeee0dfc71698f39f96dc14903806678216",
    "touchpoints.csv": "c9c61aefc3624b76289879de4690d84d4f2bc21ea1a473e9cc887e252eebaa6c",
    "truth.json": "045afab5dfb11031119ac62a78492c0767d3898959be7f2e25f5747caf3622d1",
}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return write_sample(tmp_path_factory.mktemp("future") / "raw")


def test_every_export_keeps_its_bytes(sample):
    for name, digest in BEFORE.items():
        if name != "truth.json":
            assert _sha((sample / name).read_bytes()) == digest, name


def test_truth_gains_future_and_keeps_every_other_key(sample):
    truth = json.loads((sample / "truth.json").read_text())
    future = truth.pop("future")
    assert _sha((json.dumps(truth, indent=2) + "\n").encode()) == BEFORE["truth.json"]
    assert future["open_leads"] > 0
    bought_30, bought_90 = set(future["purchases_30d"]), set(future["purchases_90d"])
    assert bought_30 <= bought_90 and len(bought_90) > len(bought_30) > 0
    assert len(future["service_12m"]) == future["buyers"] == truth["time_to_purchase"]["buyers"]
    visits = sum(v for v, _ in future["service_12m"].values())
    assert visits == future["service_visits_12m"] > 0
    assert sum(p for _, p in future["service_12m"].values()) == pytest.approx(future["customer_pay_12m"], abs=0.05)


def test_future_buyers_are_open_leads_and_service_buyers_are_buyers(sample):
    import csv

    truth = json.loads((sample / "truth.json").read_text())
    future = truth["future"]
    with open(sample / "customers.csv", newline="", encoding="utf-8") as handle:
        ids = {row["customer_id"] for row in csv.DictReader(handle)}
    assert set(future["purchases_90d"]) <= ids and set(future["service_12m"]) <= ids
    assert not set(future["purchases_90d"]) & set(future["service_12m"])  # a buyer is not an open lead


def test_churned_buyers_stay_away():
    # the renewal process continues for the retained and stops for the lapsed: lapsed buyers have no future visits
    import numpy as np

    from journeylib.sample import _people, _spec as S
    from journeylib.sample._future import _service

    rng = np.random.default_rng(7)
    people, _ = _people.simulate(rng, 600)
    visits = _people.service_visits(rng, people)
    count, pay = _service(np.random.default_rng([7, 24]), people, visits["drawn"])
    assert count[people.churned].sum() == 0
    retained = people.churn_eligible & ~people.churned
    assert count[retained].mean() > 365 / S.SERVICE_GAP_DAYS[1] * 0.7
    assert (pay <= count * 1e5).all() and pay[~people.bought].sum() == 0
