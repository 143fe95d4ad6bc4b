"""Tests of journeylib.advocacy: known inputs, known outputs; models against simulated truth."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from journeylib import advocacy
from journeylib.advocacy import chains, count_models, lead_times, nps, reviews, zinb
from journeylib.advocacy import referrals as refs
from journeylib.errors import NotEstimable
from journeylib.stats.intervals import adjusted_wald_nps, poisson_rate_interval
from tests.support.simulate_referrals import simulate_buyers  # noqa: E402

UTC = "UTC"
AS_OF = pd.Timestamp("2026-06-30", tz=UTC)


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=UTC)


def surveys_frame(rows) -> pd.DataFrame:
    """rows: (response_id, customer_id, survey_type, responded_at, score)."""
    frame = pd.DataFrame(rows, columns=["response_id", "customer_id", "survey_type", "responded_at", "score"])
    frame["responded_at"] = pd.to_datetime(frame["responded_at"], utc=True, format="ISO8601")
    return frame


# ---------------------------------------------------------------- NPS


def test_adjusted_wald_nps_matches_hand_computation():
    # Scores 10 10 9 9 9 | 8 7 | 6 3 0: 5 promoters, 2 passives, 3 detractors, n = 10.
    # NPS = 100 * (5 - 3) / 10 = 20.
    # Adjusted: n' = 13, p_pro = 5.75 / 13 = 0.442308, p_det = 3.75 / 13 = 0.288462,
    # difference = 2 / 13 = 0.153846,
    # variance = (0.442308 + 0.288462 - 0.153846^2) / 13 = (0.730769 - 0.023669) / 13 = 0.0543924,
    # se = 0.233222, half width = 1.959964 * 0.233222 = 0.457106,
    # interval = 100 * (0.153846 -/+ 0.457106) = (-30.326, 61.095).
    nps, low, high = adjusted_wald_nps(promoters=5, detractors=3, n=10)
    assert nps == pytest.approx(20.0)
    assert low == pytest.approx(-30.326, abs=1e-3)
    assert high == pytest.approx(61.095, abs=1e-3)


def test_adjusted_wald_nps_is_clipped_and_handles_empty_groups():
    # 3 promoters, 1 passive, n = 4: NPS 75; adjusted centre (3.75 - 0.75) / 7 = 0.428571,
    # variance (0.535714 + 0.107143 - 0.183673) / 7 = 0.0655977, se 0.256120 -> (-7.342, 93.056).
    nps, low, high = adjusted_wald_nps(3, 0, 4)
    assert (nps, round(low, 3), round(high, 3)) == (75.0, -7.342, 93.056)
    # All of 5 answers promoters: the upper bound would pass 100 and is clipped.
    assert adjusted_wald_nps(5, 0, 5)[2] == 100.0
    assert all(math.isnan(v) for v in adjusted_wald_nps(0, 0, 0))


def test_nps_table_counts_every_response_per_survey_type():
    surveys = surveys_frame([
        ("r1", "C1", "sales", "2026-01-05", 10), ("r2", "C2", "sales", "2026-01-06", 9),
        ("r3", "C3", "sales", "2026-02-01", 7), ("r4", "C4", "sales", "2026-04-01", 2),
        ("r5", "C1", "service", "2026-03-01", 6), ("r6", "C1", "service", "2026-05-01", 10),
    ])
    table = nps.nps_table(surveys, by="survey_type").set_index("survey_type")
    assert table.loc["sales", ["responses", "promoters", "passives", "detractors"]].tolist() == [4, 2, 1, 1]
    assert table.loc["sales", "nps"] == pytest.approx(25.0)
    assert table.loc["service", "nps"] == pytest.approx(0.0)  # one detractor, one promoter
    overall = nps.nps_table(surveys)
    assert overall.loc[0, "responses"] == 6 and overall.loc[0, "nps"] == pytest.approx(100 * (3 - 2) / 6)
    # One per customer: C1's latest service answer (10) replaces both.
    latest = nps.nps_table(advocacy.inputs.latest_per_customer(surveys), by="survey_type").set_index("survey_type")
    assert latest.loc["service", ["responses", "nps"]].tolist() == [1, 100.0]


def test_score_distribution_has_every_score_and_shares_sum_to_one():
    surveys = surveys_frame([("r1", "C1", "sales", "2026-01-05", 10), ("r2", "C2", "sales", "2026-01-06", 10),
                             ("r3", "C3", "sales", "2026-02-01", 4)])
    table = nps.score_distribution(surveys)
    assert len(table) == 11
    assert table.set_index("score").loc[10, "responses"] == 2 and table["share"].sum() == pytest.approx(1.0)
    assert table.set_index("score").loc[4, "category"] == "detractor"


def test_attach_dealer_uses_the_rated_sale_or_visit_else_the_home_dealer():
    surveys = surveys_frame([
        ("r1", "C1", "sales", "2026-03-10", 9),     # after the D2 sale (the D1 sale is earlier)
        ("r2", "C1", "service", "2026-04-02", 9),   # after the D3 visit
        ("r3", "C2", "service", "2025-12-31 23:00", 5),  # no visit: home dealer D9
    ])
    sales = pd.DataFrame({"customer_id": ["C1", "C1"], "sold_at": [ts("2025-01-01"), ts("2026-03-01")],
                          "dealer_id": ["D1", "D2"]})
    visits = pd.DataFrame({"customer_id": ["C1", "C1"], "opened_at": [ts("2026-04-01"), ts("2026-05-01")],
                           "dealer_id": ["D3", "D4"]})
    journeys = pd.DataFrame({"customer_id": ["C1", "C2"], "dealer_id": ["D1", "D9"]})
    out = advocacy.inputs.attach_dealer(surveys, sales, visits, journeys).set_index("response_id")
    assert out["dealer_id"].to_dict() == {"r1": "D2", "r2": "D3", "r3": "D9"}
    assert out["quarter"].to_dict() == {"r1": "2026Q1", "r2": "2026Q2", "r3": "2025Q4"}


# ---------------------------------------------------------------- referral counts


@pytest.fixture
def small_buyers() -> pd.DataFrame:
    buyers = pd.DataFrame({
        "first_purchase_at": [ts("2025-06-30"), ts("2026-06-30"), ts("2024-06-30")],
        "satisfaction": ["promoter", "passive", None],
        "finance_type": ["cash", None, "lease"], "condition": ["new", "used", "new"],
        "acquisition_channel": ["website", "search", "website"],
    }, index=pd.Index(["B1", "B2", "B3"], name="customer_id"))
    buyers["exposure_years"] = (AS_OF - buyers["first_purchase_at"]).dt.days / 365.25
    return buyers


def referrals_frame(rows) -> pd.DataFrame:
    """rows: (referral_id, referrer, referred_at, referred_customer_id)."""
    frame = pd.DataFrame(rows, columns=["referral_id", "referrer_customer_id", "referred_at", "referred_customer_id"])
    frame["referred_at"] = pd.to_datetime(frame["referred_at"], utc=True, format="ISO8601")
    return frame


def test_referral_counts_keep_only_referrals_in_the_buyer_window(small_buyers):
    referrals = referrals_frame([
        ("F1", "B1", "2025-07-01", None),        # counted
        ("F2", "B1", "2025-06-30", None),        # on the purchase instant: counted
        ("F3", "B1", "2025-01-01", None),        # before the purchase
        ("F4", "B3", "2026-07-02", None),        # after as-of
        ("F5", "X9", "2026-01-01", None),        # referrer never bought
        ("F6", "B3", "2025-01-01", "C7"),        # counted
    ])
    labelled = refs.window_referrals(small_buyers, referrals, AS_OF).set_index("referral_id")
    assert labelled["status"].to_dict() == {"F1": "counted", "F2": "counted", "F3": "before_purchase",
                                            "F4": "after_as_of", "F5": "not_a_buyer", "F6": "counted"}
    counts = refs.referral_counts(small_buyers, labelled.reset_index())
    assert counts.to_dict() == {"B1": 2, "B2": 0, "B3": 1}


def test_model_frame_fills_unknown_and_drops_buyers_without_exposure(small_buyers):
    counts = pd.Series({"B1": 2, "B3": 1})
    frame = refs.model_frame(small_buyers, counts)
    assert list(frame.index) == ["B1", "B3"]  # B2 bought on the as-of date
    assert frame.loc["B3", "satisfaction"] == "unknown" and frame.loc["B1", "referrals"] == 2


def test_plan_levels_merges_sparse_levels():
    frame = pd.DataFrame({
        "satisfaction": ["passive"] * 30 + ["promoter"] * 30 + ["detractor"] * 5,
        "acquisition_channel": ["website"] * 40 + ["chat"] * 10 + ["sms"] * 12 + ["fax"] * 3,
        "referrals": [1] * 30 + [2] * 30 + [1] * 5,
    })
    plan = count_models.plan_levels(frame, min_level_size=20, min_referrals=3,
                                features=("satisfaction", "acquisition_channel"))
    # detractor (5 buyers) alone is sparse and "other" would be too: it joins the reference
    assert plan.mapping["satisfaction"]["detractor"] == "passive"
    assert plan.levels["satisfaction"] == ["passive", "promoter"]
    # chat, sms and fax (25 buyers together) make an estimable "other"
    assert plan.levels["acquisition_channel"] == ["other", "website"]
    assert {plan.mapping["acquisition_channel"][c] for c in ("chat", "sms", "fax")} == {"other"}
    # a level without referrals is sparse however large it is
    no_referrals = frame.assign(referrals=np.where(frame["satisfaction"] == "passive", 1, 0))
    plan = count_models.plan_levels(no_referrals, features=("satisfaction",))
    assert "satisfaction" not in plan.levels  # passive alone is left: the feature drops out
    assert any("single level" in note for note in plan.notes)


def test_plan_levels_falls_back_to_the_largest_level_when_the_reference_is_missing():
    frame = pd.DataFrame({"finance_type": ["cash"] * 40 + ["lease"] * 25, "referrals": 1})
    plan = count_models.plan_levels(frame, features=("finance_type",))
    assert plan.references["finance_type"] == "cash"
    assert any("'finance' absent or sparse" in note for note in plan.notes)


# ---------------------------------------------------------------- models against known truth


@pytest.fixture(scope="module")
def simulated_models():
    frame = simulate_buyers(n=3000, seed=11, base_rate=0.15, alpha=0.5)
    return frame, count_models.fit_referral_models(frame)


def test_nb2_rate_ratio_intervals_cover_the_simulated_truth(simulated_models):
    _, models = simulated_models
    table = count_models.rate_ratios(models).set_index("term")
    # the satisfaction levels only: coverage of the null effects is the slow test's job
    for term, truth in {"satisfaction:promoter": 3.0, "satisfaction:detractor": 0.4,
                        "satisfaction:no_response": 1.0}.items():
        assert table.loc[term, "ci_low"] < truth < table.loc[term, "ci_high"], term
    assert table.loc["satisfaction:promoter", "p"] < 1e-6
    assert table.loc["satisfaction:promoter", "reference"] == "passive"
    # the dispersion is estimated, near the true 0.5
    assert 0.3 < models.alpha < 0.75


def test_overdispersion_is_detected_in_nb2_counts_and_not_in_poisson_counts(simulated_models):
    _, models = simulated_models
    assert count_models.overdispersion(models)["ct_p"] < 0.001
    poisson = count_models.fit_referral_models(simulate_buyers(n=3000, seed=12, alpha=0.0))
    result = count_models.overdispersion(poisson)
    assert result["ct_p"] > 0.05 and abs(result["pearson_chi2_df"] - 1) < 0.1


def test_count_fit_table_accounts_for_every_buyer(simulated_models):
    frame, models = simulated_models
    table = count_models.count_fit_table(models)
    assert table["observed"].sum() == len(frame)
    assert table["nb2_expected"].sum() == pytest.approx(len(frame), rel=1e-6)
    # NB2 data: Poisson expects too few zeros, NB2 about the right number (within 2%)
    zeros = table.iloc[0]
    assert zeros["poisson_expected"] < zeros["observed"]
    assert zeros["nb2_expected"] == pytest.approx(zeros["observed"], rel=0.02)


def test_zero_inflation_is_flagged_only_when_structural_zeros_exist(simulated_models):
    _, models = simulated_models
    plain = count_models.zero_inflation(models)
    assert plain["matters"] is False and plain["zinb_converged"] and plain["lr_p"] > 0.01
    assert plain["zinb_inflation"] < 0.05
    inflated = simulate_buyers(n=3000, seed=13, base_rate=0.6, alpha=0.2)
    # 40% never refer anyone, drawn independently of the buyers' bands. (The same seed as
    # simulate_buyers would replay its first uniforms, which drew the bands: the "never" group
    # would be every promoter and half the passives, not structural zeros.)
    never = np.random.default_rng(1013).random(len(inflated)) < 0.4
    inflated.loc[never, "referrals"] = 0
    models = count_models.fit_referral_models(inflated)
    assert models.plan.notes == []  # every band keeps its own level
    result = count_models.zero_inflation(models)
    assert result["matters"] is True and 0.3 < result["zinb_inflation"] < 0.5 and result["lr_p"] < 1e-6
    # NB2 soaks the extra zeros up in a larger dispersion (true 0.2), which ZINB gives back
    assert models.alpha > 0.4 and 0.1 < result["zinb_alpha"] < 0.35
    # among buyers who refer at all, the promoter rate ratio is the simulated 3
    assert 2.4 < result["promoter_rr_zinb"] < 3.6


def test_design_matrix_is_the_formula_design():
    import patsy

    for frame in (simulate_buyers(n=3000, seed=5), simulate_buyers(n=300, seed=3)):
        plan = count_models.plan_levels(frame)
        data = plan.apply(frame)
        formula, terms = count_models.formula(plan)
        expected = patsy.dmatrix(formula.split("~", 1)[1], data, return_type="dataframe")
        design = count_models.design_matrix(data, plan)
        pd.testing.assert_frame_equal(design, expected, check_names=False)
        assert set(terms) <= set(design.columns)


def nb2_logpmf(y: np.ndarray, mu: np.ndarray, alpha: float) -> np.ndarray:
    """log P(Y = y) under NB2 with mean mu and variance mu + alpha mu^2, written out plainly (the test's oracle)."""
    from scipy.special import gammaln

    size = 1.0 / alpha
    return (gammaln(y + size) - gammaln(size) - gammaln(y + 1)
            + size * np.log(size / (size + mu)) + y * np.log(mu / (size + mu)))


def test_zinb_likelihood_and_gradient(simulated_models):
    from scipy.special import log_expit

    _, models = simulated_models
    y = np.asarray(models.nb2.model.endog, dtype=float)
    exog = np.asarray(models.nb2.model.exog, dtype=float)
    offset = np.log(models.data["exposure_years"].to_numpy(float))
    args = zinb.likelihood_data(y, exog, offset)
    k = exog.shape[1]
    theta = np.concatenate([[-1.2], np.asarray(models.nb2.params)[:k] + 0.03, [np.log(0.3)]])
    value, gradient = zinb.negative_log_likelihood(theta, *args)
    # the value: the zero-inflated NB2 written out with the plain NB2 log pmf
    count = nb2_logpmf(y, np.exp(exog @ theta[1:k + 1] + offset), np.exp(theta[-1]))
    log_pi, log_not = log_expit(theta[0]), log_expit(-theta[0])
    llf = np.where(y == 0, np.logaddexp(log_pi, log_not + count), log_not + count).sum()
    assert value == pytest.approx(-llf, rel=1e-10)
    # the analytic gradient against central differences
    step = 1e-5
    numeric = np.array([(zinb.negative_log_likelihood(theta + step * e, *args)[0]
                         - zinb.negative_log_likelihood(theta - step * e, *args)[0]) / (2 * step)
                        for e in np.eye(len(theta))])
    np.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-4)


def test_required_terms_stay_in_the_table_when_not_estimable():
    frame = simulate_buyers(n=600, seed=3)
    frame = frame[frame["satisfaction"] != "detractor"]
    table = count_models.rate_ratios(count_models.fit_referral_models(frame)).set_index("term")
    assert math.isnan(table.loc["satisfaction:detractor", "rate_ratio"])
    assert "not estimable" in table.loc["satisfaction:detractor", "note"]


# ---------------------------------------------------------------- rates


def test_poisson_rate_interval_matches_exact_values():
    # 10 events in 5 years: chi2(0.025, 20) / 2 = 4.7954, chi2(0.975, 22) / 2 = 18.3904
    rate, low, high = poisson_rate_interval(10, 5.0)
    assert rate == 2.0 and low == pytest.approx(4.7954 / 5, abs=1e-4) and high == pytest.approx(18.3904 / 5, abs=1e-4)
    # no events: the upper bound is -ln(0.025) = 3.6889 events
    assert poisson_rate_interval(0, 1.0)[1:] == (0.0, pytest.approx(3.6889, abs=1e-4))


def test_quasi_poisson_rate_widens_for_clustered_counts():
    # counts 0 0 0 6 over 1 year each: rate 1.5, expected 1.5 each,
    # Pearson = (3 * 1.5^2 + 4.5^2) / 1.5 = (6.75 + 20.25) / 1.5 = 18, phi = 18 / 3 = 6,
    # se(log rate) = sqrt(6 / 6) = 1 -> 1.5 * exp(-/+1.959964) = 1.5 * (0.140863, 7.099045) = (0.2113, 10.6486)
    result = refs.quasi_poisson_rate([0, 0, 0, 6], [1, 1, 1, 1])
    assert result["estimate"] == 1.5 and result["dispersion"] == pytest.approx(6.0)
    assert result["ci_low"] == pytest.approx(0.2113, abs=1e-4) and result["ci_high"] == pytest.approx(10.6486, abs=1e-3)
    # evenly spread counts: phi is floored at 1 (the Poisson interval on the log scale)
    even = refs.quasi_poisson_rate([1, 1, 1, 1], [1, 1, 1, 1])
    assert even["dispersion"] == 1.0 and even["ci_high"] == pytest.approx(math.exp(1.959964 / 2), rel=1e-5)


# ---------------------------------------------------------------- what referrals bring


@pytest.fixture
def referral_world(small_buyers):
    journeys = pd.DataFrame({
        "customer_id": ["B1", "B2", "B3", "C7", "C8", "C9"],
        "purchased": [True, True, True, True, False, True],
        "first_purchase_at": [ts("2025-06-30"), ts("2026-06-30"), ts("2024-06-30"), ts("2026-02-01"), pd.NaT,
                              ts("2024-01-01")],
    })
    referrals = referrals_frame([
        ("F1", "B1", "2025-07-01", "C7"),   # C7 bought after the referral: a referred buyer
        ("F2", "B1", "2025-08-01", "C8"),   # C8 never bought
        ("F3", "B3", "2025-01-01", "C9"),   # C9 had bought before the referral: not brought by it
        ("F4", "B3", "2025-02-01", None),   # no customer yet
        ("F5", "B3", "2026-07-05", "C7"),   # after as-of: left out
    ])
    return small_buyers, journeys, referrals


def test_referral_funnel_and_k_factor(referral_world):
    buyers, journeys, referrals = referral_world
    outcomes = refs.referral_outcomes(referrals, journeys, AS_OF).set_index("referral_id")
    assert outcomes["became_buyer"].to_dict() == {"F1": True, "F2": False, "F3": False, "F4": False}
    funnel = refs.referral_funnel(outcomes.reset_index()).set_index("step")
    assert funnel["count"].tolist() == [4, 3, 1]
    assert funnel.loc["referred buyers", "share_of_previous"] == pytest.approx(1 / 3)
    # one referred buyer over 1 + 0 + 2 years of exposure
    k = refs.k_factor(buyers, outcomes.reset_index(), AS_OF)
    assert k["events"] == 1 and k["estimate"] == pytest.approx(1 / buyers["exposure_years"].sum())
    assert k["ci_low"] < k["estimate"] < k["ci_high"]


def test_chain_depth_follows_referrers_and_stops_on_cycles():
    referrals = referrals_frame([
        ("F1", "A", "2025-01-01", "B"), ("F2", "B", "2025-02-01", "C"), ("F3", "C", "2025-03-01", "D"),
        ("F4", "E", "2025-01-01", "F"), ("F5", "X", "2025-05-01", "B"),  # B's later referral is ignored
        ("F6", "G", "2025-01-01", None),
    ])
    depth = chains.chain_depth(referrals)
    assert depth.sort_index().to_dict() == {"B": 1, "C": 2, "D": 3, "F": 1}
    table = chains.depth_table(depth, customers=10).set_index("depth")
    assert table["customers"].to_dict() == {0: 6, 1: 2, 2: 1, 3: 1}
    cycle = referrals_frame([("F1", "P", "2025-01-01", "Q"), ("F2", "Q", "2025-02-01", "P")])
    assert chains.chain_depth(cycle, max_depth=5).max() <= 6


def test_referred_hazard_ratio_covers_a_known_ratio():
    rng = np.random.default_rng(5)
    n = 3000
    referred = rng.random(n) < 0.3
    days = rng.exponential(200 / np.where(referred, 2.0, 1.0))  # referred leads buy twice as fast
    censor = rng.uniform(0, 600, n)
    times = pd.DataFrame({"days": np.minimum(days, censor), "purchased": days <= censor, "referred": referred})
    result = lead_times.referred_hazard_ratio(times)
    assert result["ci_low"] < 2.0 < result["ci_high"] and result["p"] < 1e-6


def test_referred_lead_times_flags_referred_customers():
    journeys = pd.DataFrame({
        "customer_id": ["A", "B", "C", "D", "E"],
        "first_touch_at": [ts("2025-01-01"), ts("2025-01-01"), pd.NaT, ts("2025-01-01"), ts("2025-01-01")],
        "first_purchase_at": [ts("2025-01-11"), pd.NaT, pd.NaT, ts("2025-01-05"), pd.NaT],
        "days_to_purchase": [10.0, 300.0, np.nan, 4.0, 300.0], "purchased": [True, False, False, True, False],
        "acquisition_channel": "referral", "dealer_id": "D1"})
    journeys["first_test_drive_at"] = pd.Series(pd.NaT, index=journeys.index, dtype="datetime64[ns, UTC]")
    referrals = referrals_frame([
        ("F1", "Z", "2024-12-30", "A"),   # before A's first touch: referred
        ("F2", "Z", "2025-02-01", "D"),   # after D had bought: not what brought D
        ("F3", "Z", "2025-03-01", "E"),   # logged after E's first touch, E still shopping: referred, flagged
        ("F4", "Z", "2025-03-01", "C"),   # C has no journey
    ])
    times = lead_times.referred_lead_times(journeys, referrals)
    assert times[["days", "purchased", "referred", "referred_after_first_touch"]].to_dict("index") == {
        "A": {"days": 10.0, "purchased": True, "referred": True, "referred_after_first_touch": False},
        "B": {"days": 300.0, "purchased": False, "referred": False, "referred_after_first_touch": False},
        "D": {"days": 4.0, "purchased": True, "referred": False, "referred_after_first_touch": False},
        "E": {"days": 300.0, "purchased": False, "referred": True, "referred_after_first_touch": True}}
    assert times.loc["A", "day"] == 11  # notebook 02's journey day


# ---------------------------------------------------------------- reviews and shares


def test_advocacy_by_band_counts_events_after_purchase_only(small_buyers):
    buyers = small_buyers.assign(satisfaction=["promoter", "passive", "promoter"])
    touchpoints = pd.DataFrame({
        "customer_id": ["B1", "B1", "B1", "B3", "B2", "B3"],
        "event_type": ["review_posted", "review_posted", "social_share", "review_posted", "review_posted",
                       "site_visit"],
        "counts_for_journey": [True, True, True, False, True, True],  # B3's review came before the purchase
        "occurred_at": [ts("2025-07-01"), ts("2025-08-01"), ts("2025-09-01"), ts("2024-01-01"),
                        ts("2026-06-30"), ts("2025-01-01")],
    })
    events = reviews.advocacy_events(buyers, touchpoints, AS_OF)
    assert events[["review_posted", "social_share"]].to_dict("index") == {
        "B1": {"review_posted": 2, "social_share": 1}, "B2": {"review_posted": 1, "social_share": 0},
        "B3": {"review_posted": 0, "social_share": 0}}
    table = reviews.advocacy_by_band(events).set_index(["event", "satisfaction"])
    promoters = table.loc[("review_posted", "promoter")]
    assert (promoters["buyers"], promoters["buyers_with_event"], promoters["share"]) == (2, 1, 0.5)
    # 2 reviews over B1's 1 year and B3's 2 years
    assert promoters["per_buyer_year"] == pytest.approx(2 / buyers.loc[["B1", "B3"], "exposure_years"].sum())
    assert table.loc[("social_share", "detractor"), "buyers"] == 0
    spots = reviews.highlights(table.reset_index())
    # B2 (passive) reviewed: passives 1 of 1, promoters 1 of 2; nobody shared but B1 (a promoter)
    assert spots["top"] == {"review_posted": "passive", "social_share": "promoter"}
    assert spots["overall"]["review_posted"] == pytest.approx(2 / 3) and spots["others"] == []
    assert reviews.highlights(reviews.advocacy_by_band(events.iloc[:0])) is None


# ---------------------------------------------------------------- the pipeline on `journey sample` output


def sample_pipeline(folder, customers, seed):
    """`journey sample` + prepare into `folder`, then the notebook's analysis: (truth, tables, result)."""
    from journeylib.prepare.cache import prepare_data
    from journeylib.sample import write_sample
    from journeylib.tables import ProcessedTables

    write_sample(folder / "raw", customers=customers, seed=seed)
    prepare_data(raw=folder / "raw", processed=folder / "processed", log=lambda message: None)
    truth = json.loads((folder / "raw" / "truth.json").read_text())
    tables = ProcessedTables(folder / "processed")
    return truth, tables, advocacy.analyse(tables, advocacy.Params())


@pytest.fixture(scope="module")
def default_sample_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("sample")


@pytest.fixture(scope="module")
def default_sample(default_sample_dir):
    from journeylib.cli import DEFAULT_SAMPLE_CUSTOMERS, DEFAULT_SAMPLE_SEED

    return sample_pipeline(default_sample_dir, DEFAULT_SAMPLE_CUSTOMERS, DEFAULT_SAMPLE_SEED)


def test_load_inputs_reads_only_the_advocacy_touchpoints_and_loses_none(default_sample):
    _, tables, result = default_sample
    subset = advocacy.inputs.load_inputs(tables).advocacy_touchpoints
    assert set(subset["event_type"]) <= set(advocacy.inputs.ADVOCACY_EVENTS) and len(subset) > 0
    full = tables.load("touchpoints")
    assert len(subset) == full["event_type"].isin(advocacy.inputs.ADVOCACY_EVENTS).sum()
    pd.testing.assert_frame_equal(reviews.advocacy_events(result.buyers_, subset, tables.as_of),
                                  reviews.advocacy_events(result.buyers_, full, tables.as_of))
    pd.testing.assert_frame_equal(result.advocacy_events_, reviews.advocacy_events(result.buyers_, full, tables.as_of))


def test_sample_counts_every_referral_and_keeps_the_reference(default_sample):
    truth, _, result = default_sample
    # the generator's referrals are all made by buyers after their purchase and before as-of
    assert (result.referrals_["status"] == "counted").sum() == truth["advocacy"]["referrals"]
    assert result.referral_status_ == {"counted": truth["advocacy"]["referrals"], "before_purchase": 0,
                                      "after_as_of": 0, "not_a_buyer": 0}
    assert result.reference_satisfaction == truth["advocacy"]["reference_satisfaction"] == "passive"
    assert result.models_.plan.levels["satisfaction"] == ["detractor", "no_response", "passive", "promoter"]


def test_sample_intervals_cover_the_true_referral_rate_ratios(default_sample):
    truth, _, result = default_sample
    table = result.rate_ratios_.set_index("term")
    # fixed seed (the `journey sample` defaults, about 930 buyers); the slow test repeats at a larger size
    for term, true_rr in truth["advocacy"]["referral_rate_ratios"].items():
        row = table.loc[term]
        assert row["ci_low"] <= true_rr <= row["ci_high"], (term, true_rr, row["ci_low"], row["ci_high"])
    assert table.loc["satisfaction:promoter", "p"] < 1e-6  # the strong true effect is detected


def test_sample_sales_nps_matches_the_simulated_scores(default_sample):
    truth, _, result = default_sample
    row = result.nps_.loc["sales"]
    # the generator's NPS is over every simulated answer; cleaning rejects a handful (invalid scores, ...)
    assert abs(row["responses"] - truth["satisfaction"]["sales_responses"]) <= 10
    assert row["nps"] == pytest.approx(truth["satisfaction"]["nps_sales"], abs=2)
    assert row["ci_low"] < truth["satisfaction"]["nps_sales"] < row["ci_high"]


# ---------------------------------------------------------------- coverage (slow)


@pytest.mark.slow
def test_promoter_rate_ratio_interval_coverage_over_many_seeds():
    covered = []
    for seed in range(100):
        frame = simulate_buyers(n=1000, seed=1000 + seed)
        row = count_models.rate_ratios(count_models.fit_referral_models(frame)).set_index("term").loc["satisfaction:promoter"]
        covered.append(row["ci_low"] < 3.0 < row["ci_high"])
    assert 0.88 <= np.mean(covered) <= 0.99


@pytest.mark.slow
def test_quasi_poisson_rate_coverage_over_many_seeds():
    covered = []
    for seed in range(300):
        frame = simulate_buyers(n=800, seed=seed, rate_ratios={"promoter": 1.0, "detractor": 1.0})
        result = refs.quasi_poisson_rate(frame["referrals"], frame["exposure_years"])
        covered.append(result["ci_low"] < 0.15 < result["ci_high"])
    assert 0.90 <= np.mean(covered) <= 0.99


@pytest.mark.slow
def test_sample_promoter_interval_covers_the_truth_at_a_larger_size(tmp_path):
    """One `journey sample` world of 8000 customers (about 3,700 buyers)."""
    truth, _, result = sample_pipeline(tmp_path, customers=8000, seed=8)
    table = result.rate_ratios_.set_index("term")
    for term, true_rr in truth["advocacy"]["referral_rate_ratios"].items():
        row = table.loc[term]
        assert row["ci_low"] <= true_rr <= row["ci_high"], (term, true_rr, row["ci_low"], row["ci_high"])
    promoter = table.loc["satisfaction:promoter"]
    assert promoter["ci_high"] / promoter["ci_low"] < 2.0  # about half the default sample's log width


# ---------------------------------------------------------------- sparse levels and fallbacks (issue 11)


def test_pooling_a_level_without_referrals_matches_fitting_without_its_buyers():
    from journeylib.stats import level_notes as fallbacks

    frame = simulate_buyers(n=3000, seed=12)
    rare = frame.head(10).copy()
    rare.index = [f"R{i}" for i in range(10)]
    rare["acquisition_channel"], rare["referrals"] = "sms", 0
    with_rare = pd.concat([frame, rare])
    pooled = count_models.rate_ratios(count_models.fit_referral_models(with_rare)).set_index("term")
    without = count_models.rate_ratios(count_models.fit_referral_models(frame)).set_index("term")
    plan = count_models.plan_levels(with_rare)
    assert "sms" in fallbacks.pooled_levels(plan)["acquisition_channel"]
    for term in ("satisfaction:promoter", "satisfaction:detractor", "finance_type:lease", "condition:used"):
        assert pooled.loc[term, "rate_ratio"] == pytest.approx(without.loc[term, "rate_ratio"], rel=0.05)


def test_a_referral_model_without_referrals_is_skipped_with_a_reason(small_buyers):
    labelled = refs.window_referrals(small_buyers, referrals_frame([]), AS_OF)
    counts = refs.referral_counts(small_buyers, labelled)
    with pytest.raises(NotEstimable, match="0 referrals were made by the 2 buyers"):
        count_models.referral_models(refs.model_frame(small_buyers, counts))
    with pytest.raises(NotEstimable, match="No buyer had any time to refer"):
        count_models.referral_models(refs.model_frame(small_buyers.iloc[:0], counts.iloc[:0]))
    assert refs.referral_rate(counts)["referrers"] == 0


def test_a_singular_design_drops_a_feature_and_still_fits():
    frame = simulate_buyers(n=2000, seed=13)
    frame["condition"] = frame["finance_type"].map({"finance": "new", "cash": "used", "lease": "cpo"})  # collinear
    models = count_models.fit_referral_models(frame)
    assert any("left out of the model" in note for note in models.fit_notes)
    ratios = count_models.rate_ratios(models).set_index("term")
    assert np.isfinite(ratios.loc["satisfaction:promoter", "rate_ratio"])


def test_nps_interval_contains_the_estimate_in_tiny_groups():
    for promoters, detractors, n in ((1, 0, 1), (0, 1, 1), (2, 0, 2), (0, 0, 1)):
        estimate, low, high = adjusted_wald_nps(promoters, detractors, n)
        assert low <= estimate <= high


# ---------------------------------------------------------------- the entry point: Params, analyse, metrics


@pytest.mark.parametrize("name, value", [("min_level_customers", 0), ("min_referrals", True),
                                         ("min_group_responses", 2.5), ("min_referrals", "3")])
def test_params_refuse_what_the_notebook_refused(name, value):
    with pytest.raises(ValueError, match=rf"^parameter {name}={value!r}: expected a positive integer$".replace("(", r"\(")):
        advocacy.Params(**{name: value})
    picked = advocacy.Params.from_values({"min_referrals": 5, "processed_dir": "x", "run_dir": None})
    assert (picked.min_level_customers, picked.min_referrals, picked.min_group_responses) == (20, 5, 30)


def test_metrics_are_the_result_tables_in_the_notebooks_keys(default_sample):
    from journeylib.results import REQUIRED_KEYS, Results, missing_keys

    _, _, result = default_sample
    metrics = result.metrics()
    required = [key.split(".", 1)[1] for key in REQUIRED_KEYS if key.startswith("advocacy.")]
    assert missing_keys(metrics, required) == []
    promoter = result.rate_ratios_.set_index("term").loc["satisfaction:promoter"]
    assert metrics["referral_rate_ratios"]["satisfaction:promoter"] == {
        "estimate": promoter["rate_ratio"], "ci_low": promoter["ci_low"], "ci_high": promoter["ci_high"],
        "p": promoter["p"]}
    assert metrics["nps_responses"]["sales"] == int(result.nps_.loc["sales", "responses"])
    assert metrics["referral_funnel"] == dict(zip(["referrals", "referred_customers", "referred_buyers"],
                                                  result.funnel_["count"].tolist()))
    assert metrics["chain_depth"]["customers_by_depth"]["0"] + len(result.chain_depth_) == result.customers_
    assert metrics["k_factor"]["estimate"] == result.k_factor_["estimate"] > 0
    assert list(result.rate_ratios_.columns) == count_models.RATE_RATIO_COLUMNS
    # what the notebook saves: the same section, notes once each
    notebook = Results(advocacy.SECTION, notebook=advocacy.NOTEBOOK)
    notebook.record_all(result.metrics())
    assert notebook.as_dict() == {"advocacy": metrics}


class WithoutRows:
    """ProcessedTables with some tables emptied (their columns kept): an export without surveys or referrals."""

    def __init__(self, tables, empty):
        self.tables, self.empty, self.as_of = tables, set(empty), tables.as_of

    def load(self, name, columns=None, filters=None):
        frame = self.tables.load(name, columns=columns, filters=filters)
        return frame.iloc[:0] if name in self.empty else frame


def test_no_surveys_and_no_referrals_are_nulls_with_reasons(default_sample):
    _, tables, _ = default_sample
    result = advocacy.analyse(WithoutRows(tables, {"surveys", "referrals"}))
    metrics = result.metrics()
    assert result.missing_["nps_by_group"] and result.nps_by_dealer_ is None and result.dealer_range_ is None
    assert metrics["nps"] == {"sales": None, "service": None}
    assert metrics["missing"]["nps.sales"] == "No sales survey responses in this export, so there is no sales NPS."
    assert result.models_ is None and result.rate_ratios_ is None
    assert "0 referrals were made" in result.missing_["referral_models"]
    for key in ("reference_satisfaction", "referral_rate_ratios.satisfaction:promoter",
                "referral_rate_ratios.satisfaction:no_response"):
        assert metrics["missing"][key] == result.missing_["referral_models"]
    assert metrics["reference_satisfaction"] is None and "dispersion" not in metrics
    assert metrics["referred_hazard_ratio"] is None and "No referred lead" in metrics["missing"]["referred_hazard_ratio"]
    assert metrics["k_factor"] == {"estimate": 0.0, "ci_low": 0.0, "ci_high": metrics["k_factor"]["ci_high"]}
    assert metrics["referral_funnel"] == {"referrals": 0, "referred_customers": 0, "referred_buyers": 0}
    assert metrics["notes"][0] == metrics["missing"]["nps.sales"]


def test_nps_picks_the_best_and_worst_dealer_and_the_trend_among_large_groups():
    by_dealer = pd.DataFrame({"survey_type": ["sales"] * 4 + ["service"],
                              "dealer_id": ["D1", "D2", "D3", "D4", "D1"], "responses": [40, 35, 5, 60, 90],
                              "nps": [10.0, 50.0, 90.0, 30.0, -80.0], "ci_low": [0.0, 41.0, 60.0, 20.0, -90.0],
                              "ci_high": [20.0, 60.0, 100.0, 40.0, -70.0]})
    span = nps.dealer_range(by_dealer, min_responses=30)
    assert (span["best"]["dealer_id"], span["worst"]["dealer_id"], span["separated"]) == ("D2", "D1", True)
    assert nps.dealer_range(by_dealer, min_responses=50) is None  # only D4 is large enough
    by_quarter = by_dealer.rename(columns={"dealer_id": "quarter"}).assign(quarter=["2025Q3", "2025Q1", "2025Q2",
                                                                                    "2025Q4", "2025Q1"])
    trend = nps.quarter_trend(by_quarter, min_responses=30)
    assert (trend["first"]["quarter"], trend["last"]["quarter"], trend["median_width"]) == ("2025Q1", "2025Q4", 20.0)
    assert nps.intervals_overlap(pd.DataFrame({"ci_low": [0, 30], "ci_high": [20, 40]}, index=["sales", "service"])) is False
    assert nps.intervals_overlap(pd.DataFrame({"ci_low": [0], "ci_high": [20]}, index=["sales"])) is None


def test_purchase_by_day_is_one_minus_the_kaplan_meier_curve():
    rng = np.random.default_rng(3)
    days = rng.exponential(200, 4000)
    censor = rng.uniform(0, 250, 4000)
    times = pd.DataFrame({"days": np.minimum(days, censor), "purchased": days <= censor,
                          "referred": rng.random(4000) < 0.3})
    times["lead"] = np.where(times["referred"], "referred", "other")
    curves = lead_times.purchase_curves(times)
    assert list(curves) == ["referred", "other"]
    table = lead_times.purchase_by_day(curves)
    for group, km in curves.items():
        curve = km.survival_function_.iloc[:, 0]  # the step in force at day t: the last one at or before t
        for t in (30, 90, 180):
            assert table.loc[t, group] == pytest.approx(1 - curve[curve.index <= t].iloc[-1], abs=1e-12)
    # exponential purchases with mean 200 days: P(bought by 90 days) = 1 - exp(-90 / 200) = 0.362
    assert table.loc[90, "other"] == pytest.approx(1 - np.exp(-90 / 200), abs=0.03)
    assert table.loc[365].isna().all()  # past every lead's follow-up (at most 250 days)


def test_referred_hazard_ratio_says_why_it_cannot_be_estimated():
    times = pd.DataFrame({"days": [5.0, 10.0, 20.0], "purchased": [True, False, True], "referred": [False] * 3})
    with pytest.raises(NotEstimable, match="No referred lead"):
        lead_times.referred_hazard_ratio(times)
    with pytest.raises(NotEstimable, match="No lead has bought yet"):
        lead_times.referred_hazard_ratio(times.assign(purchased=False, referred=[True, False, False]))


def test_the_notebook_records_the_section_analyse_all_names():
    import re
    from pathlib import Path

    import nbformat

    notebook = Path(__file__).resolve().parents[2] / "notebooks" / f"{advocacy.NOTEBOOK}.ipynb"
    code = "\n".join(c.source for c in nbformat.read(notebook, 4).cells if c.cell_type == "code")
    assert re.search(rf'Results\("{advocacy.SECTION}", notebook="{advocacy.NOTEBOOK}"', code)
    assert "results.record_all(result.metrics())" in code and code.count(".record") == 1


# --- the takeaways notebook 04 shows: methods of the result, on known numbers ---------------------------

def _result(**parts):
    """A Result with only the parts a sentence reads (the others are not needed by the method under test)."""
    result = object.__new__(advocacy.Result)
    defaults = {"params": advocacy.Params(), "missing_": {}, "notes_": [], "models_": None}
    for name, value in {**defaults, **parts}.items():
        setattr(result, name, value)
    return result


def _nps_rows(**rows):
    return pd.DataFrame([{"nps": n, "ci_low": lo, "ci_high": hi, "responses": r} for n, lo, hi, r in rows.values()],
                        index=pd.Index(list(rows), name="survey_type"))


def test_referral_count_sentence_says_how_many_count():
    referrals = pd.DataFrame({"status": ["counted"] * 3 + ["not_a_buyer", "before_purchase"]})
    assert _result(referral_status_={"counted": 3}, referrals_=referrals).referral_count_sentence() == (
        "3 of 5 referrals were made by a buyer after their first purchase and count below; 2 do not (made before "
        "the referrer's purchase or by someone who never bought).")
    assert _result(referral_status_={}, referrals_=referrals.iloc[:0]).referral_count_sentence() == \
        "This export has no referrals."


def test_nps_sentences_name_each_survey_and_whether_they_differ():
    apart = _result(nps_=_nps_rows(sales=(60.4, 50.2, 70.0, 300), service=(10.0, -0.4, 20.0, 200)))
    assert apart.nps_sentences() == ["Sales: NPS 60 (95% interval 50 to 70) from 300 responses; Service: NPS 10 "
                                     "(95% interval 0 to 20) from 200 responses; the intervals do not overlap: the two "
                                     "surveys differ."]
    close = _result(nps_=_nps_rows(sales=(30.0, 20.0, 40.0, 100), service=(25.0, 15.0, 35.0, 80)))
    assert close.nps_sentences()[0].endswith("the two intervals overlap, so the surveys do not clearly differ.")
    reason = "No service survey responses in this export, so there is no service NPS."
    only_sales = _result(nps_=_nps_rows(sales=(30.0, 20.0, 40.0, 100)), missing_={"nps.service": reason})
    assert only_sales.nps_sentences() == [reason, "Sales: NPS 30 (95% interval 20 to 40) from 100 responses."]


def test_dealer_and_quarter_sentences():
    row = lambda **v: pd.Series(v)  # noqa: E731
    span = {"best": row(dealer_id="D2", nps=50.0), "worst": row(dealer_id="D1", nps=10.0), "separated": True}
    trend = {"first": row(quarter="2025Q1", nps=20.0), "last": row(quarter="2025Q4", nps=31.0), "median_width": 18.2}
    result = _result(dealer_range_=span, quarter_trend_=trend)
    assert result.dealer_sentence() == ("Sales NPS ranges from 10 at dealer D1 to 50 at dealer D2 (dealers with at "
                                        "least 30 responses); their intervals do not overlap.")
    assert result.quarter_sentence() == ("Sales NPS was 20 in 2025Q1 and 31 in 2025Q4 (quarters with at least 30 "
                                         "responses); quarterly intervals are about 18 points wide, so moves smaller "
                                         "than that are noise.")
    few = _result(dealer_range_=None, quarter_trend_=None, params=advocacy.Params(min_group_responses=50))
    assert few.dealer_sentence() == "Fewer than two dealers have 50 sales responses: no dealer comparison."
    assert few.quarter_sentence() == "Too few quarters with 50 sales responses to read a trend."
    none = _result(missing_={"nps_by_group": "No survey responses"})
    assert (none.dealer_sentence(), none.quarter_sentence()) == ("No survey responses: no NPS by dealer.",
                                                                 "No survey responses: no NPS by quarter.")


def test_referral_rate_sentence_gives_referrals_per_buyer_year():
    frame = pd.DataFrame({"referrals": [0, 2, 1, 0], "exposure_years": [1.0, 2.0, 0.5, 0.5]})
    rate = {"estimate": 0.5, "ci_low": 0.15, "ci_high": 0.85, "referrers": 2, "buyers": 4}
    result = _result(model_frame_=frame, referral_rate_=rate)
    assert result.referrals_per_buyer_year == {"referrals": 3, "buyer_years": 4.0, "estimate": 0.75}
    assert result.referral_rate_sentence() == ("2 of 4 buyers (50.0%, 95% interval 15.0% to 85.0%) have referred "
                                               "someone; 3 referrals over 4 buyer-years is 0.75 per buyer per year.")
    empty = _result(model_frame_=frame.iloc[:0], referral_rate_={**rate, "referrers": 0, "buyers": 0})
    assert math.isnan(empty.referrals_per_buyer_year["estimate"])
    assert empty.referral_rate_sentence() == "No buyer has had time to refer anyone yet."


def test_model_sentences_say_overdispersion_and_other_factors_in_plain_words():
    disp = {"ct_p": 1e-9, "lr_p": 0.004, "nb2_alpha": 1.234}
    assert _result(dispersion_=disp).dispersion_sentence() == (
        "Referrals are overdispersed (Cameron-Trivedi p < 0.001, likelihood ratio p = 0.004; NB2 alpha = 1.23). "
        "Poisson intervals would be too narrow; NB2 below corrects them.")
    assert _result(dispersion_={**disp, "ct_p": 0.3, "lr_p": 0.5}).dispersion_sentence().startswith(
        "No clear overdispersion (Cameron-Trivedi p = 0.30, likelihood ratio p = 0.50;")
    ratios = pd.DataFrame({"term": ["satisfaction:promoter", "satisfaction:detractor", "satisfaction:no_response",
                                    "acquisition_channel:walk_in", "condition:used"],
                           "rate_ratio": [2.5, 0.42, 0.9, 1.8, 1.1], "ci_low": [2.0, 0.31, 0.7, 1.2, 0.9],
                           "ci_high": [3.1, 0.55, 1.1, 2.6, 1.3], "p": [1e-6, 1e-4, 0.4, 0.01, 0.3]})
    assert _result(rate_ratios_=ratios).satisfaction_sentence() == (
        "Promoters make 2.5 times as many referrals per year as passives (95% interval 2.0 to 3.1), detractors 0.42 "
        "times (95% interval 0.31 to 0.55). Other factors with p < 0.05: Acquisition channel: Walk-in (with 2 "
        "non-satisfaction terms, about 0.1 are expected by chance).")
    quiet = ratios.assign(p=[1e-6, 1e-4, 0.4, 0.2, 0.3])
    assert _result(rate_ratios_=quiet).satisfaction_sentence().endswith(
        "No finance type, condition or channel effect reaches p < 0.05.")
    reason = "0 referrals were made: no referral model."
    no_model = _result(missing_={"referral_models": reason}, rate_ratios_=None, dispersion_=None, zero_inflation_=None,
                       models_=None)
    # the reason is read once, under the overdispersion check; the model sections below stay silent
    assert [no_model.dispersion_sentence(), no_model.satisfaction_sentence(), no_model.zero_inflation_sentence()] == \
        [reason, "", ""] and no_model.model_sentences() == []


def test_zero_inflation_sentence_says_whether_it_matters():
    z = {"observed_zeros": 700, "nb2_expected_zeros": 690.4, "poisson_expected_zeros": 610.2, "zinb_inflation": 0.31,
         "lr_p": 0.0002, "matters": True, "promoter_rr_zinb": 1.84, "promoter_rr_nb2": 2.51}
    assert _result(zero_inflation_=z).zero_inflation_sentence() == (
        "700 buyers made no referral; NB2 expects 690 and Poisson 610. The zero-inflated model estimates 31% "
        "never-referrers (likelihood ratio p < 0.001): zero inflation matters: part of the satisfaction effect is "
        "about whether buyers refer at all; among buyers who refer, promoters refer 1.8 times as often as passives "
        "(NB2: 2.5).")
    assert _result(zero_inflation_={**z, "matters": False}).zero_inflation_sentence().endswith(
        "zero inflation does not matter here; the promoter rate ratio would be 1.8 against NB2's 2.5.")


def test_funnel_lead_time_chain_and_review_sentences():
    funnel = pd.DataFrame({"step": ["referrals", "referred customers", "referred buyers"], "count": [100, 40, 10],
                           "share_of_previous": [np.nan, 0.4, 0.25], "ci_low": [np.nan, 0.31, 0.14],
                           "ci_high": [np.nan, 0.5, 0.41]})
    k = {"estimate": 0.025, "ci_low": 0.012, "ci_high": 0.046}
    assert _result(outcomes_=pd.DataFrame({"x": [1]}), funnel_=funnel, k_factor_=k).funnel_sentence() == (
        "40% of referrals became customers and 25% of those bought (95% interval 14% to 41%). Each buyer brings "
        "0.025 referred buyers per year (k, 95% interval 0.012 to 0.046), about one new buyer a year for every 40 "
        "buyers. Recent referrals have had little time to convert, so k is a floor.")
    assert _result(outcomes_=pd.DataFrame(), funnel_=funnel, k_factor_={"estimate": 0.0}).funnel_sentence() == (
        "No referrals were made by the as-of date: there is no referral funnel. The referral coefficient k is 0.")
    times = pd.DataFrame({"referred": [True, True, False, False, False], "referred_after_first_touch": [True] + [False] * 4})
    hr = {"estimate": 1.64, "ci_low": 1.21, "ci_high": 2.2, "logrank_p": 0.0004}
    assert _result(lead_times_=times, referred_hazard_ratio_=hr).lead_time_sentence() == (
        "2 referred leads against 3 others: referred leads buy 1.6 times as fast per day (Cox hazard ratio, 95% "
        "interval 1.2 to 2.2; log-rank p < 0.001). 1 referred leads were referred only after their first touch; "
        "they count as referred from day 0.")
    assert _result(lead_times_=times, referred_hazard_ratio_=None,
                   missing_={"referred_hazard_ratio": "No referred lead."}).lead_time_sentence() == "No referred lead."
    depth = pd.Series([1, 1, 2, 3])
    table = pd.DataFrame({"depth": [0, 1, 2, 3], "customers": [196, 2, 1, 1]})
    assert _result(chain_depth_=depth, depth_table_=table, customers_=200).chain_sentence() == (
        "4 customers came through a referral (2.0% of all customers); 2 of them were referred by someone who had "
        "been referred in turn (chains up to depth 3).")
    shares = {("review_posted", "all"): 0.2, ("review_posted", "promoter"): 0.3, ("review_posted", "passive"): 0.15,
              ("review_posted", "detractor"): 0.1, ("review_posted", "no_response"): 0.12,
              ("social_share", "all"): 0.05, ("social_share", "promoter"): 0.08, ("social_share", "passive"): 0.04,
              ("social_share", "detractor"): 0.01, ("social_share", "no_response"): 0.02}
    by_band = pd.DataFrame([{"event": e, "satisfaction": b, "share": s} for (e, b), s in shares.items()])
    assert _result(advocacy_by_band_=by_band).reviews_sentence() == (
        "20% of buyers posted a review and 5% shared after their purchase; reviews are most common among promoters "
        "(30%; detractors 10%, passives 15%) and shares among promoters (8%).")


def test_every_sentence_on_the_sample_is_plain_and_its_numbers_are_in_the_metrics(default_sample):
    import re

    _, tables, _ = default_sample
    result = advocacy.analyse(tables)
    sentences = [result.referral_count_sentence(), *result.nps_sentences(), result.dealer_sentence(),
                 result.quarter_sentence(), result.referral_rate_sentence(), result.dispersion_sentence(),
                 *result.model_sentences(), result.satisfaction_sentence(), result.zero_inflation_sentence(),
                 result.funnel_sentence(), result.lead_time_sentence(), result.chain_sentence(), result.reviews_sentence()]
    for sentence in sentences:
        assert sentence and not re.search(r"[a-z]_[a-z]|e-\d|nan\b", sentence), sentence
    metrics = result.metrics()
    per_year = metrics["referrals_per_buyer_year"]
    assert per_year["estimate"] == pytest.approx(result.model_frame_["referrals"].sum()
                                                 / result.model_frame_["exposure_years"].sum())
    assert f"is {per_year['estimate']:.2f} per buyer per year" in result.referral_rate_sentence()
    assert metrics["referral_status"]["counted"] == result.referral_status_["counted"]
    assert f"{metrics['referred_leads']['referred']} referred leads" in result.lead_time_sentence()
