"""The landmark model's new pieces (ridge by cross-validation, silence in the buyer's own shrunk gap) and the
independent benchmark's bound, each against a known truth."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from journeylib.errors import NotConverged
from journeylib.retention import service_landmark
from journeylib.stats import ridge as ridge_fits

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


def _bound_world(n, seed, params=None):
    rng = np.random.default_rng(seed)
    world = {"bought_day": rng.integers(0, bench.AS_OF_DAY - 30, n)}
    buyers, visits, hidden = bench.simulate_service(rng, world, params)
    bought = world["bought_day"][buyers].astype(float)
    past = visits[visits.t < bench.AS_OF_DAY]
    future = visits[(visits.t >= bench.AS_OF_DAY) & (visits.t < bench.AS_OF_DAY + bench.HORIZON)]
    position = pd.Series(np.arange(buyers.size), index=buyers)
    returned = np.isin(buyers, future.lead.unique())
    pay = future[future.pay_type == "customer"].groupby("lead").amount.sum()
    paid = pd.Series(buyers).map(pay).fillna(0.0).to_numpy()
    p, visits_, pay_ = bench.best_service(np.random.default_rng(seed + 1), bought,
                                          past.assign(pos=past.lead.map(position).to_numpy()), params, draws=800)
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


@pytest.mark.slow  # about 20 s
def test_the_bound_knows_that_some_buyers_never_come():
    # 40% are serviced elsewhere from the start: the bound learns who from the silence after the purchase
    params = {"never_share": 0.4, "gap_shape": 2.0, "gap_low": 90.0, "gap_high": 240.0, "move_years": 6.0}
    hidden, bought, returned, paid, p, visits, pay, observed_visits = _bound_world(2500, seed=6, params=params)
    never = hidden["moves"] == bought
    assert never.mean() == pytest.approx(0.4, abs=0.03)
    assert p.sum() == pytest.approx(returned.sum(), rel=0.06)
    assert visits.sum() == pytest.approx(observed_visits, rel=0.08)
    assert roc_auc_score(returned, p) > 0.88
    old = bought < bench.AS_OF_DAY - 730
    assert p[never & old].max() < 0.05  # two years without a visit: surely elsewhere


# --- the ridge GLM fits (journeylib.stats.ridge) on designs where plain Newton steps cycle ------------------------

def _rare_band_rows(n=5000, share=0.005, seed=0):
    """An intercept, a standardised band held by `share` of the rows (they return 20 % of the time, the others
    85 %) and two noise columns: the shape of the 'no visit yet, vehicle over a year old' band at the landmark
    dates of a million-customer export, on which the plain Newton fit cycled between two points and returned
    one of them (a large positive coefficient for a band whose buyers return less)."""
    rng = np.random.default_rng(seed)
    band = (rng.random(n) < share).astype(float)
    noise = rng.normal(size=(n, 2))
    y = (rng.random(n) < np.where(band > 0, 0.2, 0.85)).astype(float)
    return np.c_[np.ones(n), (band - band.mean()) / band.std(), noise], y, band


def _plain_newton(x, y, ridge, iterations=50):
    """The fit as it was (full Newton steps, no check): the failure this guards against."""
    penalty = np.r_[0.0, np.full(x.shape[1] - 1, ridge)]
    beta = np.zeros(x.shape[1])
    beta[0] = np.log(y.mean() / (1 - y.mean()))
    for _ in range(iterations):
        p = ridge_fits.expit(x @ beta)
        step = np.linalg.solve((x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty), x.T @ (y - p) - penalty * beta)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-6:
            return beta, True
    return beta, False


def test_logistic_fit_converges_where_plain_newton_steps_cycle():
    from sklearn.linear_model import LogisticRegression

    x, y, band = _rare_band_rows()
    old, converged = _plain_newton(x, y, 10.0)
    assert not converged and old[1] > 0  # the design still breaks the old way
    beta = ridge_fits.fit_logistic(x, y, 10.0)
    # the penalised score is zero at the optimum, and the same optimum as an independent solver's
    p = ridge_fits.expit(x @ beta)
    assert np.abs(x.T @ (y - p) - np.r_[0.0, 10.0 * beta[1:]]).max() < 1e-6
    reference = LogisticRegression(C=1 / 10.0, tol=1e-10, max_iter=10_000).fit(x[:, 1:], y)
    assert np.allclose(beta, np.r_[reference.intercept_, reference.coef_[0]], atol=1e-4)
    # the rare band returns less, and its fitted share is pulled from the others' 85 % towards its own 20 %
    assert beta[1] < 0 and p[band > 0].mean() < 0.7


def test_log_linear_fit_matches_an_independent_solver_on_a_rare_band():
    from sklearn.linear_model import PoissonRegressor

    x, _, band = _rare_band_rows(n=20_000, share=0.003, seed=1)
    rng = np.random.default_rng(2)
    y = rng.gamma(2.0, np.where(band > 0, 6.0, 1.0) / 2.0) * (rng.random(len(band)) < 0.9)
    beta = ridge_fits.fit_log_linear(x, y, 10.0)
    mu = np.exp(x @ beta)
    assert np.abs(x.T @ (y - mu) - np.r_[0.0, 10.0 * beta[1:]]).max() < 1e-4
    assert mu.sum() == pytest.approx(y.sum(), rel=1e-8)  # the intercept's score: totals match
    reference = PoissonRegressor(alpha=10.0 / len(y), tol=1e-12, max_iter=10_000).fit(x[:, 1:], y)
    assert np.allclose(beta, np.r_[reference.intercept_, reference.coef_], atol=1e-4)


def test_a_fit_that_does_not_converge_raises_instead_of_returning_coefficients():
    x, y, _ = _rare_band_rows()
    with pytest.raises(NotConverged, match="did not converge in 2 Newton steps"):
        ridge_fits.fit_logistic(x, y, 10.0, iterations=2)
    with pytest.raises(NotConverged, match="did not converge in 1 Newton steps"):
        ridge_fits.fit_log_linear(x, y + 1.0, 10.0, iterations=1)
    broken = x.copy()
    broken[0, 2] = np.nan
    with pytest.raises(NotConverged, match="not finite"):
        ridge_fits.fit_logistic(broken, y, 10.0)


def test_a_landmark_fit_that_does_not_converge_leaves_the_lists_to_the_mbg_nbd_and_says_why(monkeypatch):
    from tests.retention.test_service_scores import AS_OF, simulate_regular

    from journeylib.retention.service import analyse_service

    buyers, visits, _ = simulate_regular(3000, seed=5)

    def stuck(*args, **kwargs):
        raise NotConverged("The ridge logistic regression did not converge in 50 Newton steps.")

    monkeypatch.setattr(service_landmark, "fit_logistic", stuck)
    result = analyse_service(buyers, visits, AS_OF)
    values, missing = result.metrics()
    assert result.chosen == "mbg_nbd" and values["model"] == "mbg_nbd" and result.landmark is None
    assert values["model_backtest"]["landmark"] is None
    assert "did not converge in 50 Newton steps" in missing["model_backtest.landmark"]
    assert "did not converge in 50 Newton steps" in result.choice
    assert result.scores_["p_return_12m"].between(0, 1).all()


# ------------------------------------------------------------------ customer pay as the vehicle ages
def test_log_linear_fit_with_an_offset_recovers_the_coefficients():
    rng = np.random.default_rng(4)
    x = np.c_[np.ones(30_000), rng.normal(size=30_000)]
    offset = np.log(rng.uniform(0.5, 2.0, 30_000))
    y = rng.poisson(np.exp(x @ np.array([0.3, 0.5]) + offset))
    beta = ridge_fits.fit_log_linear(x, y.astype(float), 0.0, offset=offset)
    assert beta == pytest.approx([0.3, 0.5], abs=0.02)
    assert np.exp(x @ beta + offset).sum() == pytest.approx(y.sum(), rel=1e-8)
    # no offset is an offset of 0
    assert np.array_equal(ridge_fits.fit_log_linear(x, y.astype(float), 1.0),
                          ridge_fits.fit_log_linear(x, y.astype(float), 1.0, offset=np.zeros(len(y))))


def _visit_days(ages_days, pays):
    """A VisitDays of one buyer per visit, bought on day 0, each visit at the given vehicle age."""
    n = len(ages_days)
    return service_landmark.VisitDays(pd.Index([f"C{i}" for i in range(n)]), np.array(["D"] * n), np.zeros(n),
                                      np.arange(n), np.asarray(ages_days, float), np.asarray(pays, float))


def test_pay_curve_follows_the_vehicle_age_and_averages_the_year_ahead():
    half = service_landmark.CURVE_BIN_DAYS
    k = 10 * service_landmark.CURVE_MIN_VISITS  # many visits a bin: little shrinking
    ages = np.r_[np.full(k, half * 0.5), np.full(k, half * 1.5), np.full(k, half * 2.5)]
    pays = np.r_[np.full(k, 100.0), np.full(k, 100.0), np.full(k, 400.0)]  # warranty ends after two bins
    curve = service_landmark.pay_curve(_visit_days(ages, pays))
    mean = pays.mean()
    shrink = (k * 400 + service_landmark.CURVE_MIN_VISITS * mean) / (k + service_landmark.CURVE_MIN_VISITS)
    assert curve.relative[2] == pytest.approx(shrink / mean)
    assert curve.relative[0] < 0.6 < 1.6 < curve.relative[2]
    ahead = np.exp(curve.ahead(np.array([0.0, half, 2 * half, 20 * half])))
    assert ahead[0] == pytest.approx(np.mean(curve.relative[[0] * 6 + [1] * 6]), rel=0.02)  # the next year: bins 0, 1
    assert ahead[1] == pytest.approx(np.mean(curve.relative[[1] * 6 + [2] * 6]), rel=0.02)
    assert ahead[3] == pytest.approx(curve.relative[2])  # past the data: the last bin's value
    assert service_landmark.pay_curve(_visit_days(ages, np.zeros(len(ages)))) is None  # no customer pay
    sparse = service_landmark.pay_curve(_visit_days([10.0, 20.0], [50.0, 150.0]))
    assert sparse.relative == pytest.approx([1.0])  # too few visits to see any change with age


def test_customer_pay_rises_for_vehicles_leaving_warranty_after_the_last_landmark(monkeypatch):
    # purchases over 3.8 years: the latest landmark is a year before AS_OF, when no vehicle was over 2.8 years
    # old; at AS_OF many are past three, where a visit's chance of customer pay steps from 45% to 85%: the
    # curve of pay by age, learned from every visit up to AS_OF, carries that into the year ahead
    from tests.retention.test_service_scores import AS_OF, simulate_regular

    from journeylib.retention import service_scores

    buyers, visits, truth = simulate_regular(12_000, seed=5, years=3.8,
                                             customer_share=lambda years: np.where(years < 3.0, 0.45, 0.85))
    pay = truth["customer_pay"]
    hist = service_scores.history(buyers, visits, AS_OF)
    days = service_landmark.visit_days(buyers, visits, AS_OF)

    def expected_total():
        fitted = service_landmark.fit(days, AS_OF)
        scores = service_landmark.score(hist, days, fitted, AS_OF, service_scores.due_days(hist))
        return scores["expected_customer_pay_12m"].sum() / pay.sum()

    with_curve = expected_total()
    monkeypatch.setattr(service_landmark, "pay_curve", lambda vd: service_landmark.PayCurve(np.ones(1)))  # flat
    without = expected_total()
    assert with_curve == pytest.approx(1.0, abs=0.10)
    assert without < with_curve - 0.03
