"""Tests for journeylib.time_to_purchase: published fits, hand-worked examples, and simulations with known truth."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from lifelines.datasets import load_rossi, load_stanford_heart_transplants
from scipy.optimize import minimize

from journeylib import time_to_purchase
from journeylib.errors import NotEstimable
from journeylib.labels import label
from journeylib.tables import ProcessedTables
from journeylib.time_to_purchase import aft, checks, coding, cox, fallbacks, km, leads, risksets, scenario
from journeylib.vocabulary import REFERENCE_CHANNEL
from tests.support.survival_simulation import simulate_journeys  # noqa: E402
from tests.support.imports import loaded_by_import

TRUE_TD_HR = 2.0
TRUE_CHANNEL_HR = {"search": 1.3, "social": 0.7, "third_party": 1.6}


# ----------------------------------------------------------------------------- published results

def test_rossi_cox_matches_r_coxph_efron():
    # R: coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio, data = Rossi), Efron ties
    # (Fox & Weisberg, "Cox Proportional-Hazards Regression for Survival Data in R", appendix to
    # An R Companion to Applied Regression).
    published = {"fin": -0.3794, "age": -0.0574, "race": 0.3139, "wexp": -0.1498, "mar": -0.4337,
                 "paro": -0.0849, "prio": 0.0915}
    rossi = load_rossi()
    fitter = cox.fit_cox(rossi, "week", "arrest", list(published))
    for name, coef in published.items():
        assert fitter.params_[name] == pytest.approx(coef, abs=5e-4), name


def test_stanford_heart_time_varying_matches_r_coxph_efron():
    # lifelines ships R survival's `heart` data (172 start/stop rows, 103 patients). Reference:
    # R survival, coxph(Surv(start, stop, event) ~ age + year + surgery + transplant, data = heart)
    # with R's default Efron ties: coef 0.02717, -0.14635, -0.63721, -0.01025;
    # se 0.01371, 0.07047, 0.36723, 0.31375.
    # The same model with Breslow ties is the one usually quoted from SAS/Stata (e.g. the
    # talkstats.com thread 51952: 0.02715, -0.14611, -0.63582, -0.01189);
    # test_stanford_data_is_r_heart reproduces that from scratch, tying the data to R's.
    heart = load_stanford_heart_transplants()
    fitter = cox.fit_time_varying_cox(heart, ["age", "year", "surgery", "transplant"], id_col="id")
    expected_coef = [0.02717, -0.14635, -0.63721, -0.01025]
    expected_se = [0.01371, 0.07047, 0.36723, 0.31375]
    np.testing.assert_allclose(fitter.params_.to_numpy(), expected_coef, atol=5e-4)
    np.testing.assert_allclose(fitter.standard_errors_.to_numpy(), expected_se, atol=5e-4)
    # Three decimals, as published.
    assert list(np.round(fitter.params_.to_numpy(), 3)) == [0.027, -0.146, -0.637, -0.010]


def test_stanford_data_is_r_heart():
    """A from-scratch Breslow partial likelihood on the lifelines copy gives the published Breslow fit."""
    heart = load_stanford_heart_transplants()
    x = heart[["age", "year", "surgery", "transplant"]].to_numpy()
    start, stop, event = heart["start"].to_numpy(), heart["stop"].to_numpy(), heart["event"].to_numpy() == 1

    def negative_log_likelihood(beta):
        eta = x @ beta
        total = 0.0
        for t in np.unique(stop[event]):
            at_risk = (start < t) & (t <= stop)
            dies = (stop == t) & event
            total += eta[dies].sum() - dies.sum() * np.log(np.exp(eta[at_risk]).sum())
        return -total

    beta = minimize(negative_log_likelihood, np.zeros(4), method="BFGS", options={"gtol": 1e-8}).x
    np.testing.assert_allclose(beta, [0.02715, -0.14611, -0.63582, -0.01189], atol=5e-4)


# ----------------------------------------------------------------------------- data preparation

def _journeys(rows):
    frame = pd.DataFrame(rows, columns=["customer_id", "dealer_id", "acquisition_channel", "first_touch_at",
                                        "first_test_drive_at", "first_purchase_at", "days_to_purchase",
                                        "purchased"])
    for column in ("first_touch_at", "first_test_drive_at", "first_purchase_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    frame["censored"] = ~frame["purchased"]
    return frame


T0 = "2024-01-01T00:00:00Z"


def _start_stop_rows(n=400, seed=3):
    """Start/stop rows with fractional and tied times, and rows that start exactly at an event time."""
    rng = np.random.default_rng(seed)
    rows = []
    for person in range(n):
        x, group = rng.normal(), int(rng.integers(0, 3))
        switch = float(rng.integers(1, 30))  # whole days: many rows start where others end
        stop = round(float(rng.exponential(25 / np.exp(0.5 * x))), 1) + 0.1
        if stop > switch:
            rows.append((person, 0.0, switch, 0, x, group, False))
            rows.append((person, switch, stop, 1, x, group, bool(rng.random() < 0.8)))
        else:
            rows.append((person, 0.0, stop, 0, x, group, bool(rng.random() < 0.8)))
    return pd.DataFrame(rows, columns=["id", "start", "stop", "treated", "x", "group", "event"])


@pytest.mark.parametrize("strata", [None, ["group"]])
def test_time_varying_fit_equals_lifelines_time_varying_fitter(strata):
    from lifelines import CoxTimeVaryingFitter

    rows = _start_stop_rows()
    ours = cox.fit_time_varying_cox(rows, ["treated", "x"], id_col="id", strata=strata)
    columns = ["id", "start", "stop", "event", "treated", "x", *(strata or [])]
    theirs = CoxTimeVaryingFitter().fit(rows[columns], id_col="id", event_col="event", start_col="start",
                                        stop_col="stop", strata=strata)
    np.testing.assert_allclose(ours.params_.to_numpy(), theirs.params_.to_numpy(), atol=1e-6)
    np.testing.assert_allclose(ours.standard_errors_.to_numpy(), theirs.standard_errors_.to_numpy(), rtol=1e-4)
    np.testing.assert_allclose(ours.summary["p"].to_numpy(), theirs.summary["p"].to_numpy(), rtol=1e-3, atol=1e-12)


def strict_entry(start, stop, event) -> np.ndarray:
    """Entry times that give statsmodels the (start, stop] risk sets of R's coxph and lifelines.

    statsmodels counts a row as at risk at its entry time (Stata's convention); moving each entry
    up to the first event time after `start` (never past `stop`) leaves out exactly the event
    times equal to `start`, and changes nothing else.
    """
    start, stop = np.asarray(start, dtype="float64"), np.asarray(stop, dtype="float64")
    times = np.unique(stop[np.asarray(event, dtype=bool)])
    following = np.searchsorted(times, start, side="right")
    return np.minimum(np.append(times, np.inf)[following], stop)


def test_strict_entry_leaves_out_only_event_times_equal_to_the_start():
    start = np.array([0.0, 2.0, 2.0, 5.0])
    stop = np.array([2.0, 4.0, 9.0, 6.0])
    event = np.array([True, True, False, False])  # event times 2 and 4
    np.testing.assert_array_equal(strict_entry(start, stop, event), [2.0, 4.0, 4.0, 6.0])


@pytest.mark.parametrize("strata", [None, ["group"]])
def test_time_varying_fit_equals_statsmodels_phreg(strata):
    """The whole-array Efron fit against statsmodels' loops: coefficients, covariance and log-likelihood."""
    from statsmodels.duration.hazard_regression import PHReg

    rows = _start_stop_rows(n=600, seed=11)
    rows["group2"] = (rows["x"] > 0.5).astype(int)  # a third covariate, correlated with x
    covariates = ["treated", "x", "group2"]
    ours = cox.fit_time_varying_cox(rows, covariates, id_col="id", strata=strata)
    event = rows["event"].to_numpy()
    theirs = PHReg(rows["stop"].to_numpy(), rows[covariates].to_numpy(dtype=float), status=event.astype(float),
                   entry=strict_entry(rows["start"], rows["stop"], event),
                   strata=None if strata is None else rows["group"].to_numpy(), ties="efron").fit(disp=False)
    np.testing.assert_allclose(ours.params_.to_numpy(), theirs.params, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ours.variance_matrix_.to_numpy(), theirs.cov_params(), rtol=1e-6, atol=1e-12)
    assert ours.log_likelihood_ == pytest.approx(theirs.llf, rel=1e-10)


def test_a_covariate_that_separates_buyers_is_refused():
    rows = _start_stop_rows()
    rows["perfect"] = rows["event"].astype(int)  # only buyers have it: the coefficient runs to infinity
    with pytest.raises(RuntimeError, match="did not converge") as caught:
        cox.fit_time_varying_cox(rows, ["perfect", "x"], id_col="id")
    assert isinstance(caught.value, NotEstimable)  # a named condition the notebook degrades on


def test_a_constant_term_and_no_events_are_named_conditions():
    rows = _start_stop_rows()
    with pytest.raises(cox.ConstantTerm) as caught:
        cox.fit_time_varying_cox(rows.assign(nobody=0), ["nobody", "x"], id_col="id")
    assert caught.value.terms == ["nobody"]
    with pytest.raises(NotEstimable, match="No purchases"):
        cox.fit_time_varying_cox(rows.assign(event=False), ["x"], id_col="id")


def test_customer_table_keeps_only_pre_purchase_test_drives():
    journeys = _journeys([
        ("a", "D1", "website", T0, "2024-01-04T12:00:00Z", "2024-01-08T02:24:00Z", 7.1, True),
        ("b", None, "search", T0, "2024-01-20T00:00:00Z", "2024-01-10T00:00:00Z", 9.0, True),  # drove after buying
        ("c", "D2", None, T0, None, None, 30.0, False),
        ("d", "D1", None, None, None, None, None, False),  # no events: no journey
    ])
    table = leads.customer_table(journeys)
    assert list(table["customer_id"]) == ["a", "b", "c"]
    assert table["test_drive_days"].iloc[0] == pytest.approx(3.5)
    assert math.isnan(table["test_drive_days"].iloc[1])
    assert list(table["dealer_id"]) == ["D1", leads.NO_DEALER, "D2"]
    assert list(table["acquisition_channel"]) == ["website", "search", "unknown"]
    assert list(table["day"]) == [8.0, 10.0, 31.0]
    assert list(table["first_touch_month"]) == ["2024-01"] * 3


def test_long_format_splits_at_the_test_drive_day():
    customers = pd.DataFrame({
        "customer_id": ["none", "mid", "first_day"],
        "days": [10.2, 7.1, 20.5],
        "purchased": [True, True, False],
        "day": leads.model_day([10.2, 7.1, 20.5]),
        "acquisition_channel": ["website"] * 3,
        "dealer_id": ["D1"] * 3,
        "test_drive_days": [np.nan, 3.5, 0.4],
    })
    long = leads.long_format(customers)
    got = [tuple(r) for r in long[["customer_id", "start", "stop", "test_drive", "event"]].itertuples(index=False)]
    assert got == [
        ("first_day", 0.0, 21.0, 1, False),  # test drive on day 1: test-driven from the start
        ("mid", 0.0, 3.0, 0, False),          # days 1-3 not yet test-driven
        ("mid", 3.0, 8.0, 1, True),           # day 4 (the test drive's day) on: test-driven; buys on day 8
        ("none", 0.0, 11.0, 0, True),
    ]
    naive = leads.naive_table(customers).set_index("customer_id")
    assert naive["ever_test_drove"].to_dict() == {"none": 0, "mid": 1, "first_day": 1}


def test_reference_channel_must_be_present():
    with pytest.raises(ValueError, match="'website' is not in the data"):
        coding.check_reference_channel(["search", "social"])
    assert coding.check_reference_channel(["search", "website"]) == "website"


def test_reference_dealer_is_most_common_then_first_sorted():
    assert coding.reference_dealer(["D2", "D1", "D2", "D3"]) == "D2"
    assert coding.reference_dealer(["D3", "D1", "D3", "D1", "D2"]) == "D1"


def test_dummy_code_leaves_reference_levels_out():
    frame = pd.DataFrame({"acquisition_channel": ["website", "search", "social", "search"],
                          "dealer_id": ["D1", "D2", "D2", "D3"]})
    design = coding.dummy_code(frame)
    assert design.covariates == ["channel:search", "channel:social", "dealer:D1", "dealer:D3"]
    assert design.reference_dealer == "D2"
    assert design.frame["channel:search"].tolist() == [0, 1, 0, 1]


# ----------------------------------------------------------------------------- risk-set helpers

def test_breslow_cumulative_hazard_hand_example():
    long = pd.DataFrame({"start": [0.0, 0.0, 1.0], "stop": [2.0, 3.0, 4.0], "event": [True, False, True],
                         "x": [0.0, 0.0, 1.0]})
    # beta = 0: at t=2 three rows at risk (1/3); at t=4 one row (1): Nelson-Aalen 1/3, 4/3.
    base = risksets.breslow_cumulative_hazard(long, pd.Series({"x": 0.0}))
    assert base.to_dict() == pytest.approx({2.0: 1 / 3, 4.0: 4 / 3})
    # beta = log 2: risk sums 1 + 1 + 2 = 4 at t=2 and 2 at t=4.
    base = risksets.breslow_cumulative_hazard(long, pd.Series({"x": math.log(2)}))
    assert base.to_dict() == pytest.approx({2.0: 0.25, 4.0: 0.75})
    assert list(risksets.cumulative_hazard_at(base, [1.0, 2.0, 3.5, 9.0])) == pytest.approx([0.0, 0.25, 0.25, 0.75])


def test_concordance_equals_harrell_c_for_one_row_per_customer():
    from lifelines.utils import concordance_index

    rng = np.random.default_rng(3)
    n = 300
    x = rng.normal(size=n)
    t = rng.exponential(1 / np.exp(0.8 * x))
    c = rng.exponential(2.0, n)
    long = pd.DataFrame({"customer_id": np.arange(n), "start": 0.0, "stop": np.minimum(t, c), "event": t <= c,
                         "x": x})
    ours = risksets.time_varying_concordance(long, pd.Series({"x": 0.8}))
    theirs = concordance_index(long["stop"], -long["x"], long["event"])
    assert ours == pytest.approx(theirs, abs=1e-12)
    assert 0.6 < ours < 0.8


def test_schoenfeld_test_matches_lifelines_on_rossi():
    from lifelines import CoxPHFitter
    from lifelines.statistics import proportional_hazard_test

    rossi = load_rossi()
    covariates = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
    cph = CoxPHFitter().fit(rossi, "week", "arrest")
    theirs = proportional_hazard_test(cph, rossi, time_transform="identity").summary
    long = rossi.assign(customer_id=np.arange(len(rossi)), start=0.0).rename(columns={"week": "stop",
                                                                                    "arrest": "event"})
    ours = checks.schoenfeld_test(long, covariates, time_transform="identity")
    np.testing.assert_allclose(ours["test_statistic"].to_numpy(), theirs.loc[covariates, "test_statistic"],
                               rtol=1e-3)


def _piecewise_hr_data(seed=5, n=3000):
    """x doubles the purchase hazard for 40 days, then halves it: proportional hazards fail for x."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, n)
    rate = 1 / 60
    early = rng.exponential(1 / (rate * np.where(x == 1, 2.0, 1.0)))
    late = 40 + rng.exponential(1 / (rate * np.where(x == 1, 0.5, 1.0)))
    t = np.where(early < 40, early, late)
    c = rng.uniform(0, 300, n)
    return pd.DataFrame({"customer_id": np.arange(n), "start": 0.0, "stop": np.floor(np.minimum(t, c)) + 1,
                         "event": t <= c, "x": x})


def test_schoenfeld_test_flags_a_changing_effect_and_the_period_split_recovers_it():
    long = _piecewise_hr_data()
    assert checks.schoenfeld_test(long, ["x"])["p"]["x"] < 1e-6
    split, names = checks.period_interaction(long, [40], covariate="x")
    fitter = cox.fit_time_varying_cox(split, names)
    hr = cox.hazard_ratios(fitter)
    assert hr.loc["x[0-40]", "ci_low"] < 2.0 < hr.loc["x[0-40]", "ci_high"]
    assert hr.loc["x[40+]", "ci_low"] < 0.5 < hr.loc["x[40+]", "ci_high"]


def test_splitting_only_the_exposed_rows_gives_the_fit_of_splitting_every_row():
    long = _piecewise_hr_data().assign(z=lambda d: (d["customer_id"] % 3 == 0).astype("int8"))
    split, names = checks.period_interaction(long, [40], covariate="x")
    assert len(split) < len(checks.split_follow_up(long, [40]))  # rows with x = 0 stay whole
    every = checks.split_follow_up(long, [40])
    for name, period in zip(names, ["0-40", "40+"]):
        every[name] = ((every["period"] == period) & (every["x"] == 1)).astype("int8")
    ours = cox.fit_time_varying_cox(split, [*names, "z"]).params_
    theirs = cox.fit_time_varying_cox(every, [*names, "z"]).params_
    assert np.allclose(ours, theirs, rtol=0, atol=1e-10)


def test_split_follow_up_moves_the_event_to_the_last_piece():
    long = pd.DataFrame({"customer_id": ["a", "b"], "start": [0.0, 40.0], "stop": [100.0, 50.0],
                         "event": [True, False], "test_drive": [1, 0]})
    split = checks.split_follow_up(long, [30])
    got = [tuple(r) for r in split[["customer_id", "start", "stop", "event", "period"]].itertuples(index=False)]
    assert got == [("a", 0.0, 30.0, False, "0-30"), ("a", 30.0, 100.0, True, "30+"), ("b", 40.0, 50.0, False, "30+")]


# ----------------------------------------------------------------------------- Kaplan-Meier helpers

def test_purchase_probability_hand_example():
    fitted = KaplanMeierFitter().fit([10, 20, 40, 50, 60], [1, 1, 1, 0, 1])
    table = km.purchase_probability(fitted, horizons=(5, 30, 55, 365))
    assert table["estimate"].tolist()[:3] == pytest.approx([0.0, 0.4, 0.6])
    assert math.isnan(table.loc[365, "estimate"])  # past the longest follow-up
    assert (table["ci_low"].iloc[1:3] < table["estimate"].iloc[1:3]).all()
    assert (table["estimate"].iloc[1:3] < table["ci_high"].iloc[1:3]).all()


def test_restricted_mean_without_censoring_is_the_mean_of_capped_times():
    times = np.array([0.0, 5, 10, 10, 30, 200])
    mean, low, high = km.restricted_mean(KaplanMeierFitter().fit(times), 100)
    capped = np.minimum(times, 100)
    assert mean == pytest.approx(capped.mean())
    # Without censoring the variance formula reduces to the plug-in variance of the mean.
    assert (high - low) / 2 == pytest.approx(1.959963984540054 * math.sqrt(capped.var() / len(capped)))


def test_median_days_and_logrank():
    rng = np.random.default_rng(1)
    fast, slow = rng.exponential(20, 400), rng.exponential(60, 400)
    customers = pd.DataFrame({"days": np.r_[fast, slow], "purchased": True,
                              "group": ["fast"] * 400 + ["slow"] * 400})
    median, low, high = km.median_days(km.kaplan_meier(customers.loc[customers.group == "fast"]))
    assert low < 20 * math.log(2) < high and low < median < high
    statistic, df, p = km.logrank(customers, "group")
    assert df == 1 and p < 1e-10


# ----------------------------------------------------------------------------- known truth

@pytest.fixture(scope="module")
def simulated():
    customers = leads.customer_table(simulate_journeys(3000, seed=11, test_drive_hr=TRUE_TD_HR))
    return customers, cox.time_varying_model(customers)


def test_time_varying_model_covers_the_true_hazard_ratios(simulated):
    _, result = simulated
    hr = result.hazard_ratios
    assert hr.loc["test_drive", "ci_low"] < TRUE_TD_HR < hr.loc["test_drive", "ci_high"]
    for channel, truth in TRUE_CHANNEL_HR.items():
        assert hr.loc[f"channel:{channel}", "ci_low"] < truth < hr.loc[f"channel:{channel}", "ci_high"], channel
    assert result.design.reference_channel == "website"
    assert 0.55 < result.concordance < 0.75


def test_stratifying_a_factor_that_breaks_proportional_hazards(simulated):
    _, result = simulated
    refit, strata = checks.stratified_refit(result, ["channel:search", "test_drive"])
    assert strata == ["acquisition_channel"]
    assert "test_drive" in refit.params_.index
    assert not any(term.startswith("channel:") for term in refit.params_.index)
    assert any(term.startswith("dealer:") for term in refit.params_.index)
    # The same model written out by hand: strata columns joined onto the start/stop rows.
    long = result.long.join(result.design.frame.set_index(leads.ID)[["acquisition_channel"]], on=leads.ID)
    direct = cox.fit_time_varying_cox(long, list(refit.params_.index), strata=["acquisition_channel"])
    np.testing.assert_allclose(refit.params_.to_numpy(), direct.params_.to_numpy())
    both, both_strata = checks.stratified_refit(result, ["dealer:D2", "channel:search"])
    assert both_strata == ["acquisition_channel", "dealer_id"] and list(both.params_.index) == ["test_drive"]


def test_naive_coding_is_biased_by_immortal_time(simulated):
    # Test-drivers cannot buy before their test drive, yet the naive coding counts those days
    # as test-driven days without a purchase: the test drive's effect on buying is understated.
    customers, result = simulated
    naive = cox.hazard_ratios(cox.naive_model(customers, result.design)).loc["ever_test_drove"]
    assert naive["ci_high"] < TRUE_TD_HR
    assert naive["hazard_ratio"] < result.hazard_ratios.loc["test_drive", "ci_low"]


def test_proportional_hazards_hold_on_simulated_data(simulated):
    _, result = simulated
    check = checks.schoenfeld_test(result.long, list(result.fitter.params_.index), max_rows=2000, seed=1)
    assert check.attrs["rows_used"] <= 2300
    assert check["p"].min() > 0.01


def test_weibull_aft_time_ratio_is_inverse_hazard_ratio_for_exponential_times(simulated):
    _, result = simulated
    ratios = aft.time_ratios(aft.weibull_aft(result.design))
    # Exponential times are Weibull with shape 1, where the time ratio is 1 / hazard ratio.
    for channel, truth in TRUE_CHANNEL_HR.items():
        row = ratios.loc[f"channel:{channel}"]
        assert row["ci_low"] < 1 / truth < row["ci_high"], channel


def test_scenario_covers_the_true_expected_gain(simulated):
    customers, result = simulated
    outcome = scenario.test_drive_scenario(result, share=0.10, window_days=14, horizon_days=90, draws=200)
    # Truth from the simulation's own rates: exponential pieces from day 14 to day 90.
    rate = (1 / 200) * customers["acquisition_channel"].map({"website": 1.0, **TRUE_CHANNEL_HR}) \
        * customers["dealer_id"].map({"D1": 1.0, "D2": 0.8, "D3": 1.25})
    eligible = (customers["day"] > 14) & ~(leads.model_day(customers["test_drive_days"]) - 1 < 14)
    r = rate[eligible].to_numpy() * (90 - 14)
    truth = 0.10 * np.sum(np.exp(-r) - np.exp(-r * TRUE_TD_HR))
    assert outcome.eligible == int(eligible.sum())
    assert outcome.ci_low < truth < outcome.ci_high
    assert outcome.p_with > outcome.p_without


@pytest.mark.slow
def test_coverage_of_the_test_drive_interval_over_many_seeds():
    seeds = range(200)
    covered = 0
    for seed in seeds:
        customers = leads.customer_table(simulate_journeys(800, seed=1000 + seed, test_drive_hr=TRUE_TD_HR))
        design = coding.dummy_code(customers)
        fitter = cox.fit_time_varying_cox(leads.long_format(design.frame, design.covariates),
                                         ["test_drive", *design.covariates])
        hr = cox.hazard_ratios(fitter).loc["test_drive"]
        covered += hr["ci_low"] < TRUE_TD_HR < hr["ci_high"]
    coverage = covered / len(seeds)
    print(f"coverage of the 95% test-drive interval over {len(seeds)} seeds: {coverage:.3f}")
    # Binomial(200, 0.95) lies in [0.915, 0.98] with probability > 0.99.
    assert 0.915 <= coverage <= 0.98


# ----------------------------------------------------------------------------- sparse levels and fallbacks

def _with_rare_channel(customers, n=8, channel="sms", purchased=False):
    rare = customers.sample(n, random_state=1).assign(acquisition_channel=channel, purchased=purchased)
    rare["customer_id"] = [f"R{i:04d}" for i in range(n)]
    return pd.concat([customers, rare], ignore_index=True)


def test_pooling_a_channel_without_purchases_leaves_the_other_cox_estimates_alone(simulated):
    customers, plain = simulated
    choice = coding.choose_levels(_with_rare_channel(customers))
    assert choice.pooled == {"acquisition_channel": ["sms"]}
    assert choice.reference_channel == "website"
    assert any("Text message" in sentence and "pooled" in sentence for sentence in choice.sentences)
    pooled = cox.purchase_model(choice)
    assert not pooled.notes and not pooled.missing and not pooled.penalised
    assert list(pooled.hazard_ratios.index) == list(plain.hazard_ratios.index)
    np.testing.assert_allclose(np.log(pooled.hazard_ratios["hazard_ratio"]), np.log(plain.hazard_ratios["hazard_ratio"]),
                               atol=0.03)
    assert pooled.hazard_ratios.loc["test_drive", "ci_low"] < TRUE_TD_HR < pooled.hazard_ratios.loc["test_drive", "ci_high"]


def test_pooling_a_channel_without_purchases_leaves_the_other_weibull_estimates_alone(simulated):
    customers, plain = simulated
    choice = coding.choose_levels(_with_rare_channel(customers))
    model = cox.purchase_model(choice)
    check = aft.cross_check_aft(model.design)
    theirs = aft.time_ratios(aft.weibull_aft(plain.design))
    ours = aft.time_ratios(check.fitter)
    assert not check.notes and list(ours.index) == list(theirs.index)
    np.testing.assert_allclose(np.log(ours["time_ratio"]), np.log(theirs["time_ratio"]), atol=0.03)


def test_rare_levels_with_purchases_are_pooled_into_other_and_keep_their_own_term(simulated):
    customers, _ = simulated
    frame = customers.copy()
    frame.loc[frame.index[:12], "acquisition_channel"] = "sms"
    frame.loc[frame.index[12:24], "acquisition_channel"] = "chat"
    frame.loc[frame.index[:24], "purchased"] = True
    choice = coding.choose_levels(frame, min_level_customers=20)
    assert choice.pooled["acquisition_channel"] == ["chat", "sms"]
    assert choice.targets["acquisition_channel"] == "other"
    assert (choice.customers["acquisition_channel"] == "other").sum() == 24
    model = cox.purchase_model(choice)
    assert "channel:other" in model.hazard_ratios.index and "channel:sms" not in model.hazard_ratios.index


def test_an_export_without_website_falls_back_to_the_largest_channel(simulated):
    customers, _ = simulated
    frame = customers.loc[customers["acquisition_channel"] != "website"]
    choice = coding.choose_levels(frame)
    largest = frame["acquisition_channel"].value_counts().idxmax()
    assert choice.reference_channel == largest
    assert any("'Website' is not in this export" in s and f"'{label(largest)}'" in s for s in choice.sentences)
    model = cox.purchase_model(choice)
    assert model.design.reference_channel == largest and f"channel:{largest}" not in model.hazard_ratios.index


def test_single_dealer_and_no_test_drives_leave_those_terms_out(simulated):
    customers, plain = simulated
    frame = customers.assign(dealer_id="D1", test_drive_days=np.nan)
    choice = coding.choose_levels(frame)
    assert choice.in_model == {"acquisition_channel": True, "dealer_id": False}
    assert any("same dealer" in s for s in choice.sentences)
    model = cox.purchase_model(choice)
    assert "test_drive" not in model.hazard_ratios.index and "test drive" in model.missing["test_drive"]
    assert not any(t.startswith("dealer:") for t in model.hazard_ratios.index)
    assert {f"channel:{c}" for c in TRUE_CHANNEL_HR} <= set(model.hazard_ratios.index)
    with pytest.raises(NotEstimable, match="test-drive effect"):
        scenario.test_drive_scenario(model)
    with pytest.raises(NotEstimable):
        cox.naive_model(choice.customers, model.design)


def test_no_purchases_is_a_named_condition_everywhere(simulated):
    customers, _ = simulated
    frame = customers.assign(purchased=False)
    choice = coding.choose_levels(frame)
    assert choice.in_model == {"acquisition_channel": False, "dealer_id": False}
    with pytest.raises(NotEstimable, match="No lead has bought"):
        cox.purchase_model(choice)
    with pytest.raises(NotEstimable, match="No lead has bought"):
        km.logrank(frame, "acquisition_channel")
    with pytest.raises(NotEstimable, match="only one group"):
        km.logrank(frame.assign(dealer_id="D1").assign(purchased=customers["purchased"]), "dealer_id")


def test_a_separating_test_drive_is_left_out_after_the_factors_are_tried(simulated):
    customers, _ = simulated
    frame = customers.copy()
    # Every buyer test-drove on the day of the purchase, nobody else did: the test drive separates buyers.
    frame["test_drive_days"] = np.where(frame["purchased"], frame["days"], np.nan)
    model = cox.purchase_model(coding.choose_levels(frame))
    assert "test_drive" not in model.hazard_ratios.index
    assert "test drive" in model.missing["test_drive"] and model.notes == [model.missing["test_drive"]]
    assert any(t.startswith("channel:") for t in model.hazard_ratios.index)


def test_the_penalised_fit_is_the_fallback_when_no_term_can_be_dropped(simulated, monkeypatch):
    customers, plain = simulated

    def never(*args, **kwargs):
        raise fallbacks.NotConverged("the Cox model did not converge")

    monkeypatch.setattr(cox, "fit_time_varying_cox", never)
    model = cox.purchase_model(coding.choose_levels(customers), penalizer=0.01)
    assert model.penalised and "penalty" in model.notes[0]
    # a light ridge barely moves a well-determined effect
    assert abs(math.log(model.hazard_ratios.loc["test_drive", "hazard_ratio"])
               - math.log(plain.hazard_ratios.loc["test_drive", "hazard_ratio"])) < 0.1


def test_a_wrong_column_still_fails_loudly(simulated):
    customers, _ = simulated
    with pytest.raises(KeyError):
        coding.choose_levels(customers.drop(columns="purchased"))
    with pytest.raises(ValueError, match="min_level_customers"):
        coding.choose_levels(customers, min_level_customers=0)


# ----------------------------------------------------------------------------- the journey sample

def test_sample_true_test_drive_effect_lies_inside_the_interval(tmp_path):
    from journeylib.prepare.cache import prepare_data
    from journeylib.sample import write_sample

    write_sample(tmp_path / "raw", customers=3000, seed=7)
    prepare_data(raw=tmp_path / "raw", processed=tmp_path / "processed", log=lambda *_: None)
    truth = json.loads((tmp_path / "raw" / "truth.json").read_text())["time_to_purchase"]["hazard_ratios"]
    # The sample plants rare channels without buyers: the notebook's pooled model, not the raw one.
    result = time_to_purchase.analyse(ProcessedTables(tmp_path / "processed"))
    hr = result.hazard_ratios_
    assert hr.loc["test_drive", "ci_low"] < truth["test_drive"] < hr.loc["test_drive", "ci_high"]
    metrics = result.metrics()
    td = metrics["hazard_ratios"]["test_drive"]
    assert (td["estimate"], td["ci_low"]) == (hr.loc["test_drive", "hazard_ratio"], hr.loc["test_drive", "ci_low"])
    assert set(metrics["purchase_probability"]) == {"30", "90", "180", "365"}
    assert metrics["reference_channel"] == REFERENCE_CHANNEL and "levels_pooled" in metrics


# ----------------------------------------------------------------------------- the entry point

class SimulatedTables:
    """Stands in for ProcessedTables: the journeys table of a simulation, only the columns asked for; the lead
    scores' event log is the simulation's test drives (as of the simulation's default as-of date)."""

    def __init__(self, journeys, as_of="2024-12-31"):
        self.journeys, self.as_of = journeys, pd.Timestamp(as_of, tz="UTC")

    def load(self, name, columns=None, filters=None, categories=None):
        if name == "touchpoints":
            drives = self.journeys.dropna(subset=["first_test_drive_at"])
            return pd.DataFrame({"customer_id": drives["customer_id"], "occurred_at": drives["first_test_drive_at"],
                                 "event_type": "test_drive", "source": "touchpoints"})
        assert name == "journeys" and filters is None
        return self.journeys[columns] if columns else self.journeys


@pytest.fixture(scope="module")
def analysed():
    journeys = simulate_journeys(3000, seed=11, test_drive_hr=TRUE_TD_HR)
    return time_to_purchase.analyse(SimulatedTables(journeys), time_to_purchase.Params())


def test_analyse_covers_the_known_truth_and_records_it(analysed):
    metrics = analysed.metrics()
    td = metrics["hazard_ratios"]["test_drive"]
    assert td["ci_low"] < TRUE_TD_HR < td["ci_high"]
    for channel, truth in TRUE_CHANNEL_HR.items():
        effect = metrics["hazard_ratios"][f"channel:{channel}"]
        assert effect["ci_low"] < truth < effect["ci_high"], channel
    assert "dealer:D2" not in metrics["hazard_ratios"]  # dealers are modelled, not recorded
    assert metrics["reference_channel"] == "website" and metrics["reference_dealer"] == analysed.levels_.reference_dealer
    # the naive coding is biased downwards (immortal time) and recorded beside the correct one
    assert metrics["naive_test_drive_hazard_ratio"]["ci_high"] < TRUE_TD_HR
    assert list(analysed.codings_.columns) == ["hazard ratio", "95% low", "95% high"]
    assert set(metrics["restricted_mean_days"]) == {"horizon_days", *analysed.levels_.channels()}
    assert metrics["scenario"]["eligible_leads"] == analysed.scenario_.eligible
    assert 0.5 < metrics["concordance"] < 1
    # picks: fastest channel has the fewest mean days shopping
    rmst = analysed.rmst_["estimate"]
    assert rmst[analysed.fastest_channel_] == rmst.min() and rmst[analysed.slowest_channel_] == rmst.max()
    assert "missing" not in metrics and "notes" not in metrics  # nothing pooled, nothing fell back


def test_analyse_reuses_one_curve_per_channel_for_panels_medians_and_means(analysed):
    curves = analysed.channel_curves_
    assert list(curves) == analysed.levels_.channels() == list(analysed.medians_.index)
    website = analysed.levels_.customers.query("acquisition_channel == 'website'")
    direct = km.kaplan_meier(website, label="website")
    assert km.median_days(curves["website"]) == km.median_days(direct)
    assert analysed.rmst_.loc["website", "estimate"] == km.restricted_mean(direct, 180)[0]


def test_no_purchases_gives_nulls_with_reasons_and_no_model():
    journeys = simulate_journeys(400, seed=3)
    journeys = journeys.assign(purchased=False, first_purchase_at=pd.NaT)
    result = time_to_purchase.analyse(SimulatedTables(journeys))
    metrics = result.metrics()
    assert result.model_ is None and result.scenario_ is None and result.aft_ is None
    assert metrics["hazard_ratios"]["test_drive"] is None and metrics["concordance"] is None
    assert metrics["missing"]["hazard_ratios.test_drive"].startswith("No lead has bought yet")
    assert "naive_test_drive_hazard_ratio" in metrics["missing"] and "scenario" not in metrics
    assert any(note.startswith("Log-rank test across acquisition channels skipped") for note in metrics["notes"])
    assert result.notes_for("ph") == ["Without the model there is no proportional-hazards check."]


@pytest.mark.parametrize("values, message", [
    ({"max_rows": 0}, "parameter max_rows=0: expected a positive"),
    ({"min_level_customers": True}, "parameter min_level_customers=True: expected a positive"),
    ({"rmst_horizon_days": -5}, "parameter rmst_horizon_days=-5: expected a positive"),
    ({"seed": 1.5}, "parameter seed=1.5: expected a whole number"),
    ({"scenario_share": 1.5}, r"scenario_share=1.5: expected a share in \(0, 1\]"),
    ({"scenario_window_days": 90}, "parameter scenario_window_days=.*: expected fewer days than scenario_horizon_days"),
])
def test_params_refuse_bad_values_with_the_notebook_message(values, message):
    with pytest.raises(ValueError, match=message):
        time_to_purchase.Params(**values)


def test_the_notebook_records_the_section_the_package_names():
    import nbformat

    notebook = Path(__file__).resolve().parents[2] / "notebooks" / f"{time_to_purchase.NOTEBOOK}.ipynb"
    source = "\n".join(cell.source for cell in nbformat.read(notebook, 4).cells if cell.cell_type == "code")
    assert f'Results("{time_to_purchase.SECTION}", notebook="{time_to_purchase.NOTEBOOK}"' in source
    assert "results.record_all(result.metrics())" in source and ".record(" not in source


def test_params_take_their_fields_from_a_notebook_namespace():
    params = time_to_purchase.Params.from_values({"seed": -3, "rmst_horizon_days": 90.5, "run_dir": "x"})
    assert (params.seed, params.rmst_horizon_days, params.max_rows) == (-3, 90.5, 20000)


def test_fit_without_a_group_tries_the_groups_in_order_and_skips_empty_ones():
    tried = []

    def fit(terms):
        tried.append(terms)
        if "channel:b" in terms:
            raise fallbacks.NotConverged("separated")
        return "fitted"

    terms = ["test_drive", "channel:b", "dealer:x"]
    assert fallbacks.fit_without_a_group(fit, terms, fallbacks.term_groups(terms)) == \
        ("fitted", "acquisition channel", ["test_drive", "dealer:x"])
    assert tried == [["test_drive", "channel:b"], ["test_drive", "dealer:x"]]
    assert fallbacks.fit_without_a_group(fit, ["channel:b"], fallbacks.term_groups(["channel:b"])) is None


def test_logrank_equals_lifelines_multivariate_test(simulated):
    from lifelines.statistics import multivariate_logrank_test

    customers, _ = simulated
    for group in ("acquisition_channel", "dealer_id"):
        theirs = multivariate_logrank_test(customers["days"], customers[group], customers["purchased"])
        statistic, df, p = km.logrank(customers, group)
        assert statistic == pytest.approx(theirs.test_statistic, rel=1e-9)
        assert df == theirs.degrees_of_freedom and p == pytest.approx(theirs.p_value, rel=1e-6)


def test_weibull_on_aggregated_rows_equals_the_fit_on_every_lead(simulated):
    from lifelines import WeibullAFTFitter

    _, result = simulated
    table = result.design.frame[["day", "purchased", *result.design.covariates]].astype({"purchased": bool})
    every_lead = WeibullAFTFitter().fit(table, duration_col="day", event_col="purchased").summary
    fitted = aft.weibull_aft(result.design)
    ours = fitted.summary.loc[every_lead.index]
    assert np.allclose(ours["coef"], every_lead["coef"], atol=1e-4)  # lifelines stops at its optimizer's tolerance
    assert np.allclose(ours["se(coef)"], every_lead["se(coef)"], rtol=1e-3)
    assert np.allclose(ours["p"], every_lead["p"], atol=1e-4)
    medians = aft.aft_median_by_channel(fitted, result.design)
    theirs = aft.aft_median_by_channel(WeibullAFTFitter().fit(table, duration_col="day", event_col="purchased"),
                                       result.design)
    assert np.allclose(medians, theirs, rtol=1e-4)


def test_a_level_without_purchases_does_not_converge_in_the_weibull_fit(simulated):
    customers, _ = simulated
    design = coding.dummy_code(_with_rare_channel(customers, n=30))
    with pytest.raises(fallbacks.NotConverged):
        aft.weibull_aft(design)


def test_risk_sets_give_the_breslow_hazard_for_every_coefficient_vector(simulated):
    _, result = simulated
    long, params = result.long, result.fitter.params_
    sets = risksets.RiskSets(long, params.index)
    for beta in (params, params * 0.5):
        expected = risksets.breslow_cumulative_hazard(long, beta)
        pd.testing.assert_series_equal(sets.baseline(beta), expected, rtol=1e-12)  # same sums, other order
    # by hand at the first purchase day: deaths / sum of exp(x beta) over the rows at risk
    t = sets.times[0]
    at_risk = (long["start"] < t) & (t <= long["stop"])
    weight = np.exp(long.loc[at_risk, list(params.index)].to_numpy(dtype=float) @ params.to_numpy())
    assert sets.baseline(params).iloc[0] == pytest.approx(sets.deaths[0] / weight.sum())


# ----------------------------------------------------------------------------- what the reviewer reads

CODE_OR_RAW = re.compile(r"\b[a-z]+_[a-z_]+\b|\d\.?\d*e-\d+|\bnan\b|\bNaN\b|-0\b")


def test_every_takeaway_is_words_and_its_numbers_are_in_metrics(analysed):
    from journeylib.time_to_purchase.sentences import SECTIONS

    metrics = analysed.metrics()
    said = {section: analysed.takeaways(section) for section in SECTIONS}
    for section, sentences in said.items():
        for sentence in sentences:
            assert isinstance(sentence, str) and not CODE_OR_RAW.search(sentence), (section, sentence)
    assert said["censoring"] == [f"{metrics['leads'] - metrics['bought']:,} of {metrics['leads']:,} leads have not "
                                 f"bought yet; they are followed for a median of "
                                 f"{metrics['follow_up_median_days']:.0f} days and count as censored, not as lost."]
    channels = metrics["logrank"]["acquisition_channel"]
    assert channels["p"] < 0.001 and said["logrank:acquisition_channel"] == [
        f"Log-rank test across all {channels['df'] + 1:.0f} acquisition channels: chi-square {channels['statistic']:.1f}"
        f" on {channels['df']:.0f} degrees of freedom, p < 0.001: purchase curves across acquisition channels differ."]
    td, p90 = metrics["hazard_ratios"]["test_drive"], metrics["purchase_probability"]["90"]
    assert said["model"][0].startswith(f"Once a lead has test-driven, purchases come {td['estimate']:.1f} times as fast")
    assert f"correctly {metrics['concordance']:.0%} of the time" in said["model"][0]
    assert said["probability"] == [f"{p90['estimate']:.0%} of leads buy within 90 days of first touch (95% interval "
                                   f"{p90['ci_low']:.0%} to {p90['ci_high']:.0%})."]
    means = metrics["restricted_mean_days"]
    fastest, slowest = analysed.fastest_channel_, analysed.slowest_channel_
    assert said["rmst"] == [f"Within the first 180 days, {label(fastest)} leads shop {means[fastest]['estimate']:.0f} "
                            f"days on average and {label(slowest)} leads {means[slowest]['estimate']:.0f} days."]
    agree = metrics["channel_agreement"]
    assert said["aft"][0].startswith(f"For {agree['agree']} of {agree['channels']} channels")
    scenario_said = said["scenario"][0]
    assert f"about {metrics['scenario_detail']['extra_test_drives']:.0f} leads" in scenario_said
    assert f"from {metrics['scenario_detail']['p_without']:.0%} to {metrics['scenario_detail']['p_with']:.0%}" \
        in scenario_said
    assert set(metrics["proportional_hazards"]["tests"]) == set(analysed.ph_test_.index)
    no_remedy = "No remedy needed: the main model stands as fitted."
    assert (no_remedy in said["remedy"]) == (not metrics["proportional_hazards"]["violated"])


def test_a_doubtful_factor_is_named_in_words_with_the_false_alarms_expected(analysed):
    doubtful = dataclasses.replace(analysed, ph_violated_=["channel:third_party"])
    tests = len(analysed.ph_test_)
    assert doubtful.takeaways("ph") == [f"Proportional hazards look doubtful (p < 0.05) for: Channel: Third-party "
                                        f"sites; remedy below. With {tests} tests, about {0.05 * tests:.1f} false "
                                        "alarms are expected by chance."]
    assert doubtful.takeaways("remedy") == []  # no remedy fitted here, and no "no remedy needed" either


def test_reviewer_tables_hold_words_no_index_and_no_nan(analysed):
    not_reached = analysed.medians_.copy()
    not_reached.iloc[0, 1:] = np.nan  # a channel where fewer than half have bought
    result = dataclasses.replace(analysed, medians_=not_reached)
    tables = [result.probability_table(), result.hazard_ratio_table(), result.codings_table(), result.ph_table(),
              result.time_ratio_table(), result.median_table()]
    for table in tables:
        assert isinstance(table.index, pd.RangeIndex)
        text = " ".join(table.astype(str).to_numpy().ravel())
        assert not CODE_OR_RAW.search(text) and "nan" not in text.lower(), text
    medians = result.median_table()
    assert medians.iloc[0, 0] == label(analysed.medians_.index[0]) and (medians.iloc[0, 2:] == "not reached").all()
    assert result.hazard_ratio_table().iloc[0].tolist()[0] == "Test drive"
    assert result.hazard_ratio_table()["p-value"].iloc[0] == "p < 0.001"
    assert result.probability_table()["Share bought"].tolist() == \
        [f"{v:.1%}" for v in analysed.purchase_probability_["estimate"]]


def test_no_purchases_says_so_once_and_leaves_the_model_sections_silent():
    journeys = simulate_journeys(400, seed=3).assign(purchased=False, first_purchase_at=pd.NaT)
    result = time_to_purchase.analyse(SimulatedTables(journeys))
    assert result.takeaways("censoring")[0].endswith("No lead has bought yet, so the comparisons below cannot be made.")
    assert result.takeaways("probability") == ["None of the leads bought within 90 days of first touch."]
    for section in ("model", "naive", "ph", "remedy", "aft", "scenario", "logrank:acquisition_channel"):
        assert result.takeaways(section) == [], section
    assert result.hazard_ratio_table() is None and result.codings_table() is None and result.ph_table() is None


def test_the_notebook_words_nothing_itself():
    import nbformat

    notebook = Path(__file__).resolve().parents[2] / "notebooks" / f"{time_to_purchase.NOTEBOOK}.ipynb"
    cells = [c for c in nbformat.read(notebook, 4).cells if c.cell_type == "code"
             and not {"nbval-check-output", "parameters"} & set(c.metadata.get("tags", []))]
    source = "\n".join(cell.source for cell in cells)
    assert "print(" not in source and "report.takeaway(f" not in source and "Markdown(" not in source
    assert source.count("report.takeaway(") == source.count("for sentence in result.takeaways(")


def test_the_period_remedy_reads_as_days(analysed):
    from journeylib.time_to_purchase.sentences import period_words

    assert [period_words(t) for t in ("test_drive[0-30]", "test_drive[30-90]", "test_drive[90+]")] == \
        ["days 0 to 30", "days 30 to 90", "day 90 on"]
    by_period = pd.DataFrame({"hazard_ratio": [3.0, 1.5], "ci_low": [2.0, 1.0], "ci_high": [4.0, 2.0], "p": [0.0, 0.1]},
                             index=["test_drive[0-30]", "test_drive[30+]"])
    result = dataclasses.replace(analysed, by_period_=by_period, ph_violated_=["test_drive"])
    assert result.takeaways("remedy") == ["The effect of the test drive differs across the journey: days 0 to 30: 3.00; "
                                          "day 30 on: 1.50. The single hazard ratio above is an average over these "
                                          "periods."]
    assert result.by_period_table()["Period of the journey"].tolist() == ["days 0 to 30", "day 30 on"]


@pytest.mark.parametrize("case", ["no purchases", "no test drives"])
def test_the_notebook_runs_on_results_that_could_not_estimate(case, monkeypatch, tmp_path):
    """The notebook's own cells (check cells aside) on a result where steps are missing: nothing fails."""
    import nbformat

    from journeylib import report

    journeys = simulate_journeys(400, seed=3)
    journeys = (journeys.assign(purchased=False, first_purchase_at=pd.NaT) if case == "no purchases"
                else journeys.assign(first_test_drive_at=journeys["first_test_drive_at"].where(lambda t: t.isna())))
    result = time_to_purchase.analyse(SimulatedTables(journeys))
    monkeypatch.setattr(time_to_purchase, "analyse", lambda tables, params: result)
    monkeypatch.setattr(report, "open_tables", lambda processed_dir, as_of: None)
    shown = []
    monkeypatch.setattr(report, "_markdown", shown.append)
    monkeypatch.setattr(report, "table", lambda frame, title=None, **kw: shown.append(report.reviewer_frame(frame)))
    notebook = Path(__file__).resolve().parents[2] / "notebooks" / f"{time_to_purchase.NOTEBOOK}.ipynb"
    namespace = {"run_dir": str(tmp_path)}
    for cell in nbformat.read(notebook, 4).cells:
        if cell.cell_type == "code" and "nbval-check-output" not in cell.metadata.get("tags", []):
            exec(cell.source.replace("results.save()", ""), namespace)
    text = " ".join(map(str, shown))
    assert not CODE_OR_RAW.search(text) and "Takeaway" in text


def test_pooled_levels_read_as_labels_and_what_they_joined(analysed):
    from journeylib.stats import levels as level_rules
    from journeylib.time_to_purchase.leads import NO_DEALER

    pooled = {"acquisition_channel": ["sms", "walk_in"], "dealer_id": [NO_DEALER]}
    targets = {"acquisition_channel": "website", "dealer_id": "other"}
    said = [level_rules.pooled_sentence("acquisition channel", ["sms", "walk_in"], 20, target="website",
                                        events="purchases", units="leads"),
            level_rules.pooled_sentence("dealer", ["(no dealer recorded)"], 20, target="other", events="purchases",
                                        units="leads"),
            "Every lead has the same dealer (D1), so dealer is left out of the models."]
    result = dataclasses.replace(analysed, levels_=dataclasses.replace(analysed.levels_, pooled=pooled, targets=targets),
                                 notes_=said, note_sections_={"levels": said})
    assert result.level_notes() == [
        "These acquisition channels had fewer than 20 leads or no purchase and are counted with acquisition channel "
        "Website: Text message, Walk-in.",
        "This dealer had fewer than 20 leads or no purchase and is counted with the other small ones ('Other'): "
        "no dealer recorded.",
        said[2]]
    assert result.metrics()["notes"] == said  # metrics keep the analyst's wording


def test_notes_keep_each_sentence_once_in_order_with_its_sections_and_keys():
    from journeylib.time_to_purchase.analyse import Notes

    notes = Notes()
    notes.note("levels", "A pooled.")
    notes.missing_keys("model", [("hazard_ratios", "test_drive"), "concordance"], "No buyer.")
    notes.note("ph", "A pooled.")
    notes.note("levels", "A pooled.")
    assert notes.notes == ["A pooled.", "No buyer."]
    assert notes.missing == {"hazard_ratios.test_drive": "No buyer.", "concordance": "No buyer."}
    assert notes.sections == {"levels": ["A pooled."], "model": ["No buyer."], "ph": ["A pooled."]}


def test_the_package_is_the_analysis_template_and_imports_no_heavy_library():
    """`journeylib.time_to_purchase` re-exports the template's five names (older names resolve on first use),
    the result is built by keyword, and importing it loads neither scipy nor lifelines."""
    from journeylib.stats import survival

    assert set(time_to_purchase.__all__) == {"Params", "analyse", "Result", "SECTION", "NOTEBOOK"}
    assert time_to_purchase.TimeToPurchaseResult is time_to_purchase.Result
    assert time_to_purchase.fit_cox is survival.fit_cox and time_to_purchase.kaplan_meier is km.kaplan_meier
    assert all(f.kw_only for f in dataclasses.fields(time_to_purchase.Result))
    assert {"missing_", "notes_"} <= {f.name for f in dataclasses.fields(time_to_purchase.Result)}
    assert loaded_by_import("journeylib.time_to_purchase", ("scipy", "lifelines", "statsmodels")) == []


def test_notebook_04_compares_referred_leads_on_notebook_02s_lead_table():
    """The lead table and the survival helpers sit below both analyses; notebook 02's names are the same objects."""
    from journeylib.advocacy import lead_times
    from journeylib.derived import leads as lead_table

    assert lead_times.customer_table is lead_table.customer_table is leads.customer_table
    assert lead_times.fit_cox is cox.fit_cox and lead_times.logrank is km.logrank
