"""The landmark model's new pieces (ridge by cross-validation, silence in the buyer's own shrunk gap) and the
independent benchmark's bound, each against a known truth."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from journeylib.retention import service_landmark

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import independent_lists as bench  # noqa: E402


def _logistic_rows(n, signal, noise, seed):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 1 + noise))
    eta = signal * z[:, 0]
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    return np.c_[np.ones(n), z], y


def test_ridge_is_strong_for_few_noisy_rows_and_weak_for_many_informative_rows():
    x, y = _logistic_rows(150, signal=0.3, noise=40, seed=1)
    assert service_landmark.choose_ridge(x, y, np.arange(len(y))) >= 100
    x, y = _logistic_rows(20_000, signal=2.0, noise=3, seed=2)
    assert service_landmark.choose_ridge(x, y, np.arange(len(y))) <= 10


def test_ridge_keeps_a_buyers_rows_in_one_fold_and_falls_back_without_both_outcomes():
    x, y = _logistic_rows(400, signal=1.0, noise=2, seed=3)
    assert service_landmark.choose_ridge(x, np.zeros(len(y)), np.arange(len(y))) == service_landmark.RIDGE
    # the same buyer at four landmarks: rows copied four times must not leak across folds (a leak favours
    # a weak ridge; the copies carry no new information)
    who = np.repeat(np.arange(100), 4)
    assert service_landmark.choose_ridge(x, y, who) in service_landmark.RIDGES


def test_silence_is_counted_in_the_own_gap_shrunk_to_the_population():
    usual = {"gap": 200.0}
    f = {"age": np.array([1000.0, 1000.0, 1000.0]), "visits": np.array([1, 20, 0]),
         "since": np.array([300.0, 300.0, 1000.0]), "mean_gap": np.array([100.0, 100.0, np.nan]),
         "last_gap": np.array([100.0, 100.0, np.nan]), "paying": np.array([0, 5, 0]),
         "mean_pay": np.array([0.0, 200.0, 0.0]), "recent": np.array([0, 3, 0]), "dealer": np.array(["D"] * 3)}
    names, x = service_landmark.design(f, ["D"], usual)
    silence = x[:, names.index("silence (shrunk)")]
    k = service_landmark.SHRINK_VISITS
    assert silence[0] == pytest.approx(300 / ((100 + k * 200) / (1 + k)))  # one visit: mostly the population's
    assert silence[1] == pytest.approx(300 / ((20 * 100 + k * 200) / (20 + k)))  # twenty: mostly their own
    assert silence[2] == 0.0  # no visit yet: described by the vehicle's age


def _bound_world(n, seed):
    rng = np.random.default_rng(seed)
    world = {"bought_day": rng.integers(0, bench.AS_OF_DAY - 30, n)}
    buyers, visits, hidden = bench.simulate_service(rng, world)
    bought = world["bought_day"][buyers].astype(float)
    past = visits[visits.t < bench.AS_OF_DAY]
    future = visits[(visits.t >= bench.AS_OF_DAY) & (visits.t < bench.AS_OF_DAY + bench.HORIZON)]
    position = pd.Series(np.arange(buyers.size), index=buyers)
    returned = np.isin(buyers, future.lead.unique())
    pay = future[future.pay_type == "customer"].groupby("lead").amount.sum()
    paid = pd.Series(buyers).map(pay).fillna(0.0).to_numpy()
    p, visits_, pay_ = bench.best_service(np.random.default_rng(seed + 1), bought,
                                          past.assign(pos=past.lead.map(position).to_numpy()), draws=800)
    return hidden, bought, returned, paid, p, visits_, pay_, len(future)


@pytest.mark.slow  # about 20 s: a few thousand buyers, each with 800 draws
def test_the_benchmarks_bound_is_calibrated_and_below_the_oracle():
    hidden, bought, returned, paid, p, visits, pay, observed_visits = _bound_world(2500, seed=4)
    assert p.sum() == pytest.approx(returned.sum(), rel=0.06)
    assert visits.sum() == pytest.approx(observed_visits, rel=0.08)
    assert pay.sum() == pytest.approx(paid.sum(), rel=0.12)
    deciles = pd.qcut(pd.Series(p).rank(method="first"), 5, labels=False)
    by = pd.DataFrame({"p": p, "y": returned}).groupby(deciles.to_numpy()).mean()
    assert (by["p"] - by["y"]).abs().max() < 0.06
    # knowing the move-away time (the old oracle) ranks better than anything known at the as-of date
    alive = np.clip((np.minimum(hidden["moves"], bench.AS_OF_DAY + bench.HORIZON) - bench.AS_OF_DAY)
                    / bench.HORIZON, 0, 1)
    assert roc_auc_score(returned, p) < roc_auc_score(returned, alive)
    assert roc_auc_score(returned, p) > 0.65
