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


# ------------------------------------------------------------------ open leads' journeys written from their purchase
def _world(consistent: bool, customers: int = 20_000, seed: int = 1):
    import numpy as np

    from journeylib.sample._events import journey_events
    from journeylib.sample._people import ACQ_TO_CHANNEL, service_visits, simulate

    rng = np.random.default_rng(seed)
    people, _ = simulate(rng, customers)
    people.channel_code = ACQ_TO_CHANNEL[people.channel]
    people.interest_model = people.model
    visits = service_visits(rng, people)
    return people, journey_events(rng, people, visits, consistent=consistent)


def _warned_buyers(people, ev, at: int) -> float:
    """Share of the leads open at `at` who buy within 30 days that show a credit application or deposit by `at`."""
    import numpy as np

    from journeylib.sample import _spec as S

    when = np.where(people.bought, people.purchase, people.later_purchase)
    buyers = (people.first_touch <= at) & (when > at) & (when <= at + 30 * S.DAY)
    steps = np.zeros(len(people), bool)
    steps[ev.person[(ev.source == 2) & (ev.t <= at)]] = True
    return float(steps[buyers].mean())


@pytest.mark.parametrize("consistent", [False, True])
def test_the_present_shows_the_future_as_the_past_showed_the_past(consistent):
    # 90 days before the as-of date about 40% of the next month's buyers already show a credit application or
    # deposit. At the as-of date the default writes none for the next month's buyers (their journeys stop at the
    # as-of date, those steps come only before recorded sales), so the lead scores learnt on the past over-rank
    # engagement there; consistent journeys show the future buyers' steps as the past's
    from journeylib.sample import _spec as S

    people, ev = _world(consistent)
    past, now = _warned_buyers(people, ev, S.AS_OF - 90 * S.DAY), _warned_buyers(people, ev, S.AS_OF)
    assert 0.25 < past < 0.55
    if consistent:
        assert abs(now - past) < 0.12
    else:
        assert now < 0.1


def test_consistent_journeys_keep_the_future_and_cut_at_the_as_of_date(tmp_path):
    import numpy as np

    from journeylib.sample import _spec as S

    default = json.loads((write_sample(tmp_path / "default") / "truth.json").read_text())["future"]
    folder = write_sample(tmp_path / "consistent", consistent_future=True)
    future = json.loads((folder / "truth.json").read_text())["future"]
    assert future.pop("journeys_to_purchase") is True
    # the same drawn future (ids are drawn after the journeys, so they differ): only the exports' journeys differ
    shape = lambda f: {k: (len(v) if isinstance(v, (list, dict)) else v) for k, v in f.items()}  # noqa: E731
    assert shape(future) == shape(default)
    assert sorted(future["service_12m"].values()) == sorted(default["service_12m"].values())
    assert _sha((folder / "touchpoints.csv").read_bytes()) != BEFORE["touchpoints.csv"]
    # open leads' journeys run to purchases after the as-of date: what would come later is not written
    people, ev = _world(True, customers=2000, seed=7)
    before_sale = np.isin(ev.source, (0, 2, 4))
    assert (ev.t[before_sale] <= S.AS_OF - 60).all()
    assert np.isin(ev.person[before_sale], np.flatnonzero(~people.bought)).any()


def test_journey_sample_takes_consistent_future(tmp_path):
    from journeylib.cli import main

    assert main(["sample", "--out", str(tmp_path / "raw"), "--customers", "300", "--consistent-future"]) == 0
    assert json.loads((tmp_path / "raw" / "truth.json").read_text())["future"]["journeys_to_purchase"] is True
    assert main(["sample", "--out", str(tmp_path / "plain"), "--customers", "300"]) == 0
    assert "journeys_to_purchase" not in json.loads((tmp_path / "plain" / "truth.json").read_text())["future"]


# ------------------------------------------------------------------ the true hazard's own chance (`hazard_*`)
def test_chance_is_the_true_hazard_given_what_happened_so_far():
    import numpy as np

    from journeylib.sample import _spec as S
    from journeylib.sample._future import chance
    from journeylib.sample._people import ACQ, People

    website, walk_in = ACQ.index("website"), ACQ.index("walk_in")
    old = S.AS_OF - 3 * 365 * S.DAY                       # long past any test-drive delay
    people = People(persona=np.array([0, 0, 1]), channel=np.array([website, website, walk_in]),
                    first_touch=np.array([old, old, S.AS_OF - 3_600]), test_drive=np.array([old + 5, -1, -1]))
    p = chance(people, np.arange(3), np.array([30.0, 90.0]))
    rate = S.BASE_HAZARD_PER_DAY
    assert p[0] == pytest.approx(1 - np.exp(-rate * S.TEST_DRIVE_HR * np.array([30, 90])))
    assert p[1] == pytest.approx(1 - np.exp(-rate * np.array([30, 90])), rel=1e-6)
    # a walk-in of an hour ago: 80% take a test drive after about a day, then 2.5x the walk-in rate
    walk = rate * S.CHANNEL_HR["walk_in"]
    assert 1 - np.exp(-walk * 30) < p[2][0] < 1 - np.exp(-walk * S.TEST_DRIVE_HR * 30)
    assert p[2][0] == pytest.approx(0.8 * (1 - np.exp(-walk * S.TEST_DRIVE_HR * 29)) + 0.2 * (1 - np.exp(-walk * 30)),
                                    rel=0.02)


def test_hazard_keys_add_up_to_the_drawn_future(sample):
    future = json.loads((sample / "truth.json").read_text())["future"]
    for days in (30, 90):
        observed = len(future[f"purchases_{days}d"])
        assert abs(future[f"hazard_expected_{days}d"] - observed) < 4 * observed ** 0.5 + 1
        assert 0.55 < future[f"hazard_auc_{days}d"] < 0.85
