import csv
import json
import re

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from journeylib import retention
from journeylib.retention import at_risk, labels, model, rates, sensitivity, validation
from journeylib.tables import ProcessedTables
from journeylib.vocabulary import RETENTION_REFERENCES
from journeylib.errors import NotEstimable
from tests.support.imports import loaded_by_import

AS_OF = pd.Timestamp("2025-01-01", tz="UTC")
DAY = pd.Timedelta(days=1)

# Known truth for the simulated buyers (references finance, new, passive, trade_in no).
TRUE_ODDS_RATIOS = {
    "finance_type:lease": 0.6, "finance_type:cash": 1.5,
    "condition:used": 1.8, "condition:cpo": 1.3,
    "satisfaction:detractor": 2.5, "satisfaction:promoter": 0.7, "satisfaction:no_response": 1.4,
    "trade_in:yes": 0.8, "days_to_purchase:per_doubling": 0.9,
}
DEALER_EFFECTS = {"d1": 0.0, "d2": 0.3, "d3": -0.3, "d4": 0.2, "d5": -0.1}


def simulate_frame(n, seed, start=AS_OF - 6 * 365 * DAY, end=AS_OF - 365 * DAY):
    """Eligible buyers in the model's feature format, churn drawn from known odds ratios."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(index=pd.Index([f"c{i:05d}" for i in range(n)], name="customer_id"))
    frame["finance_type"] = rng.choice(["finance", "lease", "cash"], n, p=[0.5, 0.3, 0.2])
    frame["condition"] = rng.choice(["new", "used", "cpo"], n, p=[0.5, 0.35, 0.15])
    frame["satisfaction"] = rng.choice(["passive", "promoter", "detractor", "no_response"], n, p=[0.3, 0.35, 0.15, 0.2])
    frame["acquisition_channel"] = rng.choice(["website", "search", "walk_in"], n)
    frame["price_band"] = rng.choice(["low", "mid_low", "mid_high", "high"], n)
    frame["trade_in"] = rng.choice(["no", "yes"], n)
    frame["dealer_id"] = rng.choice(list(DEALER_EFFECTS), n)
    days = rng.exponential(40, n)
    frame[labels.NUMERIC_FEATURE] = np.log2(1 + days)
    log_odds = logit(0.3) + frame["dealer_id"].map(DEALER_EFFECTS)
    for term, odds_ratio in TRUE_ODDS_RATIOS.items():
        feature, level = term.split(":")
        if feature == "days_to_purchase":
            log_odds += np.log(odds_ratio) * (frame[labels.NUMERIC_FEATURE] - 5)
        else:
            log_odds += np.log(odds_ratio) * (frame[feature] == level)
    frame["churned"] = rng.random(n) < expit(log_odds)
    frame["eligible"] = True
    frame["active"] = ~frame["churned"]
    seconds = rng.uniform(0, (end - start).total_seconds(), n)
    frame["first_purchase_at"] = start + pd.to_timedelta(seconds, unit="s")
    return frame


@pytest.fixture(scope="module")
def simulated():
    # One fixed draw: 12 intervals all cover their truth in about half of the seeds, and this
    # seed is one of them; the slow test checks the coverage rate itself over 200 seeds.
    return simulate_frame(4000, seed=16)


@pytest.fixture(scope="module")
def fitted(simulated):
    return model.fit_churn_model(simulated)


# ---------------------------------------------------------------- labels at the edges


def buyers_frame(purchases):
    return pd.DataFrame({"first_purchase_at": pd.Series(purchases)}).rename_axis("customer_id")


def visits_frame(rows):
    return pd.DataFrame(rows, columns=["customer_id", "opened_at"])


def test_churn_labels_follow_the_definition_at_the_edges():
    window_start = AS_OF - 365 * DAY
    old = AS_OF - 900 * DAY
    buyers = buyers_frame({
        "visit_exactly_n_days_before": old, "visit_one_second_later": old, "visit_on_as_of": old,
        "no_visit": old, "only_future_visit": old,
        "bought_exactly_n_days_before": window_start, "bought_one_second_later": window_start + pd.Timedelta(seconds=1),
    })
    visits = visits_frame([
        ("visit_exactly_n_days_before", window_start),
        ("visit_one_second_later", window_start + pd.Timedelta(seconds=1)),
        ("visit_on_as_of", AS_OF),
        ("only_future_visit", AS_OF + pd.Timedelta(seconds=1)),
        ("someone_else", AS_OF - DAY),
    ])
    labelled = labels.churn_labels(buyers, visits, AS_OF, churn_after_days=365)
    assert labelled["eligible"].to_dict() == {
        "visit_exactly_n_days_before": True, "visit_one_second_later": True, "visit_on_as_of": True,
        "no_visit": True, "only_future_visit": True, "bought_exactly_n_days_before": True,
        "bought_one_second_later": False}
    assert labelled["churned"].to_dict() == {
        "visit_exactly_n_days_before": True,  # window is (as_of - N, as_of]: the start is outside
        "visit_one_second_later": False, "visit_on_as_of": False, "no_visit": True,
        "only_future_visit": True,  # nothing after as-of is used
        "bought_exactly_n_days_before": True, "bought_one_second_later": False}
    assert (labelled["active"] == ~labelled["churned"]).all()
    assert pd.isna(labelled.loc["no_visit", "last_visit_at"])


def test_churn_window_length_is_the_parameter():
    buyers = buyers_frame({"a": AS_OF - 1000 * DAY})
    visits = visits_frame([("a", AS_OF - 300 * DAY)])
    assert labels.churn_labels(buyers, visits, AS_OF, 270)["churned"].item()
    assert not labels.churn_labels(buyers, visits, AS_OF, 365)["churned"].item()


def test_lapse_is_the_first_gap_longer_than_n_days_censored_at_as_of():
    p1, p2, p3, p4, p5 = (AS_OF - d * DAY for d in (1000, 800, 365, 364, 500))
    buyers = buyers_frame({"gap_exactly_n": p1, "gap_over_n": p2, "no_visit_n": p3, "no_visit_short": p4,
                           "recent_visit": p5})
    visits = visits_frame([
        ("gap_exactly_n", p1 + 100 * DAY), ("gap_exactly_n", p1 + 465 * DAY),  # 365-day gap: no lapse
        ("gap_over_n", p2 + 366 * DAY), ("gap_over_n", p2 + 400 * DAY),
        ("recent_visit", p5 + 200 * DAY), ("recent_visit", p5 - 10 * DAY),  # before purchase: ignored
    ])
    lapses = labels.lapse_times(buyers, visits, AS_OF, 365)
    assert lapses["duration_days"].round(6).to_dict() == {
        "gap_exactly_n": 830.0, "gap_over_n": 365.0, "no_visit_n": 365.0, "no_visit_short": 364.0,
        "recent_visit": 500.0}
    assert lapses["lapsed"].to_dict() == {"gap_exactly_n": True, "gap_over_n": True, "no_visit_n": True,
                                          "no_visit_short": False, "recent_visit": False}


def test_every_churned_buyer_has_lapsed_within_their_exposure():
    rng = np.random.default_rng(3)
    purchases = {f"b{i}": AS_OF - int(d) * DAY for i, d in enumerate(rng.integers(1, 1500, 300))}
    rows = [(c, p + int(d) * DAY) for c, p in purchases.items() for d in np.cumsum(rng.integers(50, 500, 4))]
    buyers, visits = buyers_frame(purchases), visits_frame(rows)
    labelled = labels.churn_labels(buyers, visits, AS_OF)
    lapses = labels.lapse_times(buyers, visits, AS_OF)
    assert labelled["churned"].sum() > 20
    assert lapses.loc[labelled["churned"], "lapsed"].all()
    exposure = (AS_OF - buyers["first_purchase_at"]).dt.total_seconds() / 86400
    assert (lapses["duration_days"] <= exposure + 1e-9).all()
    # a buyer seen fewer than N days after purchase cannot have lapsed
    assert not lapses.loc[exposure < 365, "lapsed"].any()


def test_retention_curve_counts_only_complete_windows():
    width = pd.Timedelta(days=6 * rates.DAYS_PER_MONTH)
    pa = AS_OF - 400 * DAY
    buyers = buyers_frame({"a": pa, "b": AS_OF - 200 * DAY, "c": AS_OF - 100 * DAY})
    visits = visits_frame([
        ("a", pa - DAY),  # before purchase: not retention
        ("a", pa + 10 * DAY), ("a", pa + width),  # both in window 0 (its end is inclusive)
        ("a", pa + 200 * DAY),  # window 1
        ("a", pa + 390 * DAY),  # window 2 has not ended by as-of
    ])
    curve = rates.retention_curve(buyers, visits, AS_OF)
    assert curve["window"].tolist() == ["0-6 months", "6-12 months"]
    assert curve["buyers"].tolist() == [2, 1]
    assert curve["with_visit"].tolist() == [1, 1]
    assert curve["share"].tolist() == [0.5, 1.0]


def test_churn_rates_use_wilson_intervals():
    frame = pd.DataFrame({"churned": [True] * 10 + [False] * 30, "finance_type": ["lease"] * 5 + ["cash"] * 35})
    overall = rates.churn_rates(frame)
    z, n, p = 1.959963984540054, 40, 0.25
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert overall.loc[0, "churn_rate"] == 0.25
    assert overall.loc[0, "ci_low"] == pytest.approx(centre - half)
    assert overall.loc[0, "ci_high"] == pytest.approx(centre + half)
    by = rates.churn_rates(frame, "finance_type").set_index("finance_type")
    assert by.loc["lease", ["buyers", "churned"]].tolist() == [5, 5]
    assert by.loc["cash", ["buyers", "churned"]].tolist() == [35, 5]
    assert by.loc["lease", "ci_high"] == pytest.approx(1.0)


# ---------------------------------------------------------------- features and levels


def test_feature_frame_marks_missing_values_unknown():
    buyers = pd.DataFrame({
        "first_purchase_at": [AS_OF] * 3, "finance_type": ["lease", None, "cash"], "condition": ["new", "used", None],
        "satisfaction": pd.Categorical(["passive", "no_response", "promoter"]), "acquisition_channel": [None, "web", "x"],
        "price_band": pd.Categorical(["low", "unknown", "high"]), "trade_in": [True, False, None],
        "dealer_id": ["d1", "d2", None], "days_to_purchase": [0.0, 3.0, np.nan],
    }, index=["a", "b", "c"])
    frame = labels.feature_frame(buyers)
    assert frame["finance_type"].tolist() == ["lease", "unknown", "cash"]
    assert frame["trade_in"].tolist() == ["yes", "no", "unknown"]
    assert frame["dealer_id"].tolist() == ["d1", "d2", "unknown"]
    assert frame[labels.NUMERIC_FEATURE].tolist() == [0.0, 2.0, np.log2(2.5)]  # missing -> median days (1.5)


def test_sparse_levels_merge_and_required_terms_stay_reported():
    frame = simulate_frame(1500, seed=5)
    # three cpo buyers only: too few, and "other" (cpo alone) is still sparse -> merged into the reference
    cpo = frame.index[frame["condition"] == "cpo"]
    frame.loc[cpo[3:], "condition"] = "new"
    # two rare channels that together are enough for an "other" level
    frame.loc[frame.index[:15], "acquisition_channel"] = "sms"
    frame.loc[frame.index[15:30], "acquisition_channel"] = "chat"
    plan = model.plan_levels(frame)
    assert plan.levels["condition"] == ["new", "used"]
    assert plan.mapping["condition"]["cpo"] == "new"
    assert plan.levels["acquisition_channel"] == ["other", "search", "walk_in", "website"]
    assert any("condition" in note and "cpo" in note for note in plan.notes)
    table = model.odds_ratios(model.fit_churn_model(frame, plan=plan), frame).set_index("term")
    assert set(model.REQUIRED_TERMS) <= set(table.index)
    assert np.isnan(table.loc["condition:cpo", "odds_ratio"])
    assert "not estimable" in table.loc["condition:cpo", "note"]
    assert table.loc["acquisition_channel:other", "buyers"] == 30


def test_missing_fixed_reference_falls_back_to_the_most_common_level():
    frame = simulate_frame(1500, seed=6)
    frame.loc[frame["satisfaction"] == "passive", "satisfaction"] = "promoter"
    fit = model.fit_churn_model(frame)
    references = model.reference_levels(fit)
    assert {f: references[f] for f in model.REPORTED_REFERENCES} == {
        "finance_type": "finance", "condition": "new", "satisfaction": "promoter"}
    # the other features: fixed references where present, the dealer with most buyers
    assert references["acquisition_channel"] == "website" and references["trade_in"] == "no"
    assert references["dealer_id"] == frame["dealer_id"].value_counts().idxmax()
    assert any("satisfaction: reference 'passive'" in note for note in fit.notes)


def test_unseen_levels_map_to_other_or_the_reference():
    frame = simulate_frame(1500, seed=8)
    frame.loc[frame.index[:15], "acquisition_channel"] = "sms"
    frame.loc[frame.index[15:30], "acquisition_channel"] = "chat"
    plan = model.plan_levels(frame)
    new = frame.head(2).copy()
    new["acquisition_channel"] = "tiktok"
    new["finance_type"] = "balloon"
    applied = plan.apply(new)
    assert applied["acquisition_channel"].tolist() == ["other", "other"]
    assert applied["finance_type"].tolist() == ["finance", "finance"]


# ---------------------------------------------------------------- the model against known truth


def test_odds_ratio_intervals_cover_the_truth(simulated, fitted):
    table = model.odds_ratios(fitted, simulated).set_index("term")
    for term, truth in TRUE_ODDS_RATIOS.items():
        row = table.loc[term]
        assert row["ci_low"] <= truth <= row["ci_high"], (term, truth, row["ci_low"], row["ci_high"])
        assert row["odds_ratio"] == pytest.approx(truth, rel=0.25)
    # no effect was simulated for price band: its intervals cover 1
    price = table[table["feature"] == "price_band"]
    assert ((price["ci_low"] <= 1) & (price["ci_high"] >= 1)).all()
    assert table.loc["finance_type:lease", "reference"] == "finance"
    assert table.loc["satisfaction:detractor", "p"] < 1e-6


def test_cluster_robust_option_changes_the_standard_errors(simulated, fitted):
    robust = model.fit_churn_model(simulated, cluster_by_dealer=True)
    assert robust.result.cov_type == "cluster"
    assert fitted.result.cov_type == "nonrobust"
    np.testing.assert_allclose(robust.result.params, fitted.result.params)
    assert not np.allclose(robust.result.bse, fitted.result.bse)
    assert any("dealers" in note for note in robust.notes)  # 5 clusters is too few to trust


@pytest.mark.slow
def test_odds_ratio_interval_coverage_over_many_seeds():
    seeds = range(200)
    covered = {term: 0 for term in TRUE_ODDS_RATIOS}
    for seed in seeds:
        frame = simulate_frame(1500, seed=1000 + seed)
        table = model.odds_ratios(model.fit_churn_model(frame)).set_index("term")
        for term, truth in TRUE_ODDS_RATIOS.items():
            covered[term] += table.loc[term, "ci_low"] <= truth <= table.loc[term, "ci_high"]
    coverage = {term: hits / len(seeds) for term, hits in covered.items()}
    # 200 draws: one term's coverage has sd 0.015; the mean over terms is tighter
    assert 0.93 <= np.mean(list(coverage.values())) <= 0.97, str(coverage)
    assert all(0.88 <= c <= 0.99 for c in coverage.values()), str(coverage)


# ---------------------------------------------------------------- validation


def test_temporal_split_keeps_whole_months_and_tests_the_latest():
    months = pd.to_datetime(["2023-01-15", "2023-02-15", "2023-03-15", "2023-04-15"], utc=True)
    frame = pd.DataFrame({"first_purchase_at": np.repeat(months, 25)})
    train, test = validation.temporal_split(frame, 0.25)
    assert len(test) == 25 and (test["first_purchase_at"] == months[3]).all()
    train, test = validation.temporal_split(frame, 0.5)
    assert len(test) == 50 and train["first_purchase_at"].max() < test["first_purchase_at"].min()
    train, test = validation.temporal_split(frame.head(25), 0.9)
    assert len(train) == 25 and test.empty  # one month only: it stays in training
    with pytest.raises(ValueError):
        validation.temporal_split(frame, 1.5)


def test_calibration_slope_and_intercept_detect_miscalibration():
    rng = np.random.default_rng(1)
    p = expit(rng.normal(-0.5, 1.2, 40000))
    y = rng.random(len(p)) < p
    good = validation.calibration(y, p)
    assert good["calibration_slope"] == pytest.approx(1, abs=0.06)
    assert good["calibration_intercept"] == pytest.approx(0, abs=0.04)
    underconfident = validation.calibration(y, expit(0.5 * logit(p)))
    assert underconfident["calibration_slope"] == pytest.approx(2, abs=0.12)
    too_low = validation.calibration(y, expit(logit(p) - 1))
    assert too_low["calibration_intercept"] == pytest.approx(1, abs=0.06)


def test_calibration_of_one_class_or_equal_predictions_is_not_estimable():
    y = np.array([0, 1, 0, 1, 1, 0])
    with pytest.raises(NotEstimable, match="same risk"):
        validation.calibration(y, np.full(6, 0.4))  # an intercept-only model: once an IndexError
    with pytest.raises(NotEstimable, match="all churned or all retained"):
        validation.calibration(np.ones(6), np.linspace(0.2, 0.8, 6))


def test_churn_model_with_no_varying_feature_is_not_estimable(simulated):
    flat = simulated.copy()
    for column in labels.CATEGORICAL_FEATURES:
        flat[column] = "x"
    flat[labels.NUMERIC_FEATURE] = 3.0
    with pytest.raises(NotEstimable, match="No purchase-time feature varies"):
        model.fit_churn_model(flat)


def test_holdout_with_equal_predictions_records_nulls_with_reasons(simulated, monkeypatch):
    from journeylib.retention.result import RetentionResult

    class Same:
        def predict(self, frame):
            return pd.Series(0.3, index=frame.index)

    monkeypatch.setattr(validation, "fit_churn_model", lambda *args, **kwargs: Same())
    out = validation.holdout_validation(simulated, holdout_share=0.25)
    assert np.isnan(out.metrics["auc"]) and np.isnan(out.metrics["calibration_slope"])
    assert out.missing["auc"] == validation.EQUAL_RISKS == out.missing["calibration_slope"]
    assert out.lift["buyers"].sum() == out.metrics["test_buyers"]  # the rest of the holdout stands
    m = RetentionResult._record_holdout.__get__(type("R", (), {"holdout_": out, "missing_": {}})())
    from journeylib.results import SectionMetrics

    values = SectionMetrics()
    m(values)
    assert values.values["auc"] is None and values.values["holdout"]["calibration_slope"] is None
    assert values.values["missing"]["auc"] == validation.EQUAL_RISKS
    assert values.values["missing"]["holdout.calibration_intercept"] == validation.EQUAL_RISKS
    assert values.values["brier"] == pytest.approx(out.metrics["brier"])


def test_lift_table_orders_deciles_from_highest_risk():
    p = np.linspace(0.95, 0.0, 20)
    y = np.array([1, 1, 1, 0] + [0] * 16)
    table = validation.lift_table(y, p)
    assert table["buyers"].tolist() == [2] * 10
    assert table["churned"].tolist() == [2, 1] + [0] * 8
    assert table.loc[0, "lift"] == pytest.approx(1.0 / 0.15)
    assert table["mean_risk"].is_monotonic_decreasing


def test_holdout_validation_beats_the_no_model_baseline(simulated):
    out = validation.holdout_validation(simulated, holdout_share=0.25)
    metrics = out.metrics
    assert metrics["test_buyers"] == pytest.approx(0.25 * len(simulated), rel=0.15)
    assert metrics["train_until"] < metrics["test_from"]
    assert 0.6 < metrics["auc"] < 0.8
    assert metrics["brier"] < metrics["baseline_brier"]
    assert metrics["calibration_slope"] == pytest.approx(1, abs=0.3)
    assert out.lift["buyers"].sum() == metrics["test_buyers"]
    assert out.lift.loc[0, "lift"] > 1.3
    assert out.comparison.loc["Brier score"].tolist() == [metrics["brier"], metrics["baseline_brier"]]
    assert out.comparison.loc["AUC", "no-model baseline"] == 0.5
    assert out.top_fifth_share == pytest.approx(out.lift.head(2)["churned"].sum() / out.lift["churned"].sum())


# ---------------------------------------------------------------- action list


def test_at_risk_list_has_active_buyers_ids_risk_and_factors_only(simulated, fitted):
    table = at_risk.at_risk_buyers(fitted, simulated, top=30)
    assert table.columns.tolist() == ["customer_id", "risk", "factor_1", "factor_2"]
    assert len(table) == 30
    assert not simulated.loc[table["customer_id"], "churned"].any()
    assert table["risk"].is_monotonic_decreasing
    assert table["risk"].tolist() == pytest.approx(fitted.predict(simulated.loc[table["customer_id"]]).tolist(), abs=1e-4)


def test_top_factors_are_the_largest_raises_over_the_reference(simulated, fitted):
    buyer = simulated.head(2).copy()
    reference = {"finance_type": "finance", "condition": "new", "satisfaction": "passive", "trade_in": "no",
                 "price_band": "low"}
    for column, level in reference.items():
        buyer[column] = level
    for column in ("acquisition_channel", "dealer_id"):
        buyer[column] = fitted.plan.references[column]
    buyer[labels.NUMERIC_FEATURE] = fitted.plan.numeric_center
    buyer.loc[buyer.index[1], ["finance_type", "condition", "satisfaction"]] = ["cash", "used", "detractor"]
    factors = at_risk.top_factors(fitted, buyer)
    assert factors.iloc[0].tolist() == ["", ""]  # everything at the reference: nothing raises the risk
    assert factors.iloc[1].tolist() == ["satisfaction:detractor", "condition:used"]


def test_write_at_risk_only_in_a_run_and_only_ids(tmp_path, simulated, fitted):
    table = at_risk.at_risk_buyers(fitted, simulated, top=5)
    assert at_risk.write_at_risk(table, None) is None
    path = at_risk.write_at_risk(table, tmp_path)
    written = pd.read_csv(path, keep_default_na=False)
    assert path == tmp_path / "at_risk_buyers.csv"
    assert written.columns.tolist() == at_risk.AT_RISK_COLUMNS
    assert written["customer_id"].tolist() == table["customer_id"].tolist()
    with pytest.raises(ValueError, match="email"):
        at_risk.write_at_risk(table.assign(email="x@example.com"), tmp_path)


# ---------------------------------------------------------------- sensitivity on buyers with visits


def simulate_buyers_and_visits(n, seed):
    """A buyer table and service visits: loyal buyers visit every 150 days, others stop at a random time."""
    frame = simulate_frame(n, seed, start=AS_OF - 5 * 365 * DAY, end=AS_OF - 30 * DAY)
    buyers = frame.drop(columns=[labels.NUMERIC_FEATURE, "churned", "eligible", "active"])
    buyers["trade_in"] = buyers["trade_in"] == "yes"
    buyers["days_to_purchase"] = 2 ** frame[labels.NUMERIC_FEATURE] - 1
    rng = np.random.default_rng(seed)
    rows = []
    for customer, purchase, leaves in zip(frame.index, frame["first_purchase_at"], frame["churned"]):
        stop = purchase + rng.uniform(0, 700) * DAY if leaves else AS_OF
        visit = purchase + 150 * DAY
        while visit <= stop:
            rows.append((customer, visit))
            visit += 150 * DAY
    return buyers, visits_frame(rows)


def test_sensitivity_reports_each_window_with_its_labels():
    buyers, visits = simulate_buyers_and_visits(2500, seed=21)
    table = sensitivity.sensitivity(buyers, visits, AS_OF).set_index("churn_after_days")
    assert table.index.tolist() == [270, 365, 545]
    for days in (270, 365, 545):
        labelled = labels.churn_labels(buyers, visits, AS_OF, days)
        assert table.loc[days, "eligible"] == labelled["eligible"].sum()
        assert table.loc[days, "churn_rate"] == pytest.approx(labelled.loc[labelled["eligible"], "churned"].mean())
    assert table["eligible"].is_monotonic_decreasing
    # detractors were simulated to leave more often: every window shows it
    assert (table["OR satisfaction:detractor"] > 1).all()
    assert table["CI finance_type:lease"].str.match(r"^\d+\.\d\d-\d+\.\d\d$").all()


# ---------------------------------------------------------------- small guards


def test_calibration_table_bins_shrink_for_a_small_holdout_and_carry_intervals():
    p = np.linspace(0.05, 0.6, 130)
    y = (np.arange(130) % 3 == 0)
    table = validation.calibration_table(y, p)
    assert len(table) == 4 and table["buyers"].sum() == 130
    assert ((table["ci_low"] <= table["observed"]) & (table["observed"] <= table["ci_high"])).all()
    assert len(validation.calibration_table(np.tile(y, 10), np.tile(p, 10))) == 10


def test_holdout_needs_more_than_one_purchase_month(simulated):
    one_month = simulated.assign(first_purchase_at=pd.Timestamp("2023-03-10", tz="UTC"))
    with pytest.raises(NotEstimable, match="single purchase month"):
        validation.holdout_validation(one_month)


def test_at_risk_list_refuses_email_shaped_ids(tmp_path, simulated, fitted):
    table = at_risk.at_risk_buyers(fitted, simulated, top=3)
    table.loc[0, "customer_id"] = "jane.doe@example.com"
    with pytest.raises(ValueError, match="email"):
        at_risk.write_at_risk(table, tmp_path)
    assert not (tmp_path / "at_risk_buyers.csv").exists()


def test_still_active_reads_the_kaplan_meier_curve():
    lapses = pd.DataFrame({"duration_days": [365.0, 365.0, 400.0, 500.0, 600.0, 700.0],
                           "lapsed": [True, True, True, False, True, False]})
    table = rates.still_active(rates.lapse_km(lapses), days=(100, 365, 450, 650, 800))
    assert table["estimate"].tolist()[:4] == pytest.approx([1.0, 4 / 6, 3 / 6, 3 / 6 * 1 / 2])
    assert np.isnan(table.loc[800, "estimate"])  # past the longest follow-up
    assert table.loc[365, "ci_low"] < table.loc[365, "estimate"] < table.loc[365, "ci_high"]


def test_recent_buyers_only_leave_nobody_eligible():
    buyers = simulate_buyers_and_visits(200, seed=4)[0]
    buyers["first_purchase_at"] = AS_OF - 10 * DAY
    dataset = labels.churn_dataset(buyers, visits_frame([]), AS_OF)
    assert not dataset["eligible"].any()
    assert "nobody is eligible" in labels.retention_gap(dataset, AS_OF, 365)


# ---------------------------------------------------------------- the pipeline on `journey sample` output


def sample_pipeline(folder, customers, seed):
    """`journey sample` + prepare into `folder`, then the notebook's analysis; (truth, result)."""
    from journeylib.prepare.cache import prepare_data
    from journeylib.sample import write_sample

    write_sample(folder / "raw", customers=customers, seed=seed)
    prepare_data(raw=folder / "raw", processed=folder / "processed", log=lambda message: None)
    truth = json.loads((folder / "raw" / "truth.json").read_text())["retention"]
    tables = ProcessedTables(folder / "processed")
    return truth, retention.analyse(tables, retention.Params(churn_after_days=truth["churn_after_days"]))


@pytest.fixture(scope="module")
def default_sample(tmp_path_factory):
    from journeylib.cli import DEFAULT_SAMPLE_CUSTOMERS, DEFAULT_SAMPLE_SEED

    folder = tmp_path_factory.mktemp("sample")
    truth, result = sample_pipeline(folder, DEFAULT_SAMPLE_CUSTOMERS, DEFAULT_SAMPLE_SEED)
    return folder, truth, result


def test_sample_labels_match_the_simulated_churn(default_sample):
    _, truth, result = default_sample
    # the generator draws churn for buyers who bought by as-of - 365 days and places visits accordingly:
    # cleaning and the label definition must give back exactly its eligible buyers and churn rate
    assert len(result.eligible_) == truth["eligible_buyers"]
    assert int(result.eligible_["churned"].sum()) == truth["churned"]
    assert round(result.churn_rate, 4) == truth["churn_rate"]


def test_sample_intervals_cover_the_true_odds_ratios(default_sample):
    _, truth, result = default_sample
    assert {f: result.reference_levels[f] for f in truth["reference_levels"]} == truth["reference_levels"]
    table = result.odds_ratios_.set_index("term")
    assert set(truth["odds_ratios"]) <= set(table.index)
    # fixed seed (the `journey sample` defaults); about 530 eligible buyers give wide intervals, so
    # the slow test below checks the coverage rate over several larger samples
    for term, true_or in truth["odds_ratios"].items():
        row = table.loc[term]
        assert row["ci_low"] <= true_or <= row["ci_high"], (term, true_or, row["ci_low"], row["ci_high"])
    # the strongest true effect is detected
    assert table.loc["satisfaction:detractor", "p"] < 0.05


def test_sample_at_risk_csv_holds_no_personal_data(default_sample, tmp_path):
    folder, _, result = default_sample
    table = result.at_risk_  # the notebook's default: 100 buyers, ranked by the service model
    assert table.equals(at_risk.service_at_risk(result.service.scores_, result.dataset_, result.model, top=100))
    p_return = result.service.scores_.set_index("customer_id")["p_return_12m"]
    assert np.allclose(table["risk"], (1 - p_return.loc[table["customer_id"]]).round(4))
    assert table["risk"].is_monotonic_decreasing
    path = at_risk.write_at_risk(table, tmp_path)
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == at_risk.AT_RISK_COLUMNS and len(rows) == 101
    cells = [cell for row in rows[1:] for cell in row]
    # the listed buyers are active processed customers
    assert set(r[0] for r in rows[1:]) <= set(result.dataset_.index[result.dataset_["active"]])
    raw = pd.read_csv(folder / "raw" / "customers.csv", dtype=str, keep_default_na=False)
    emails = {e.strip().lower() for e in raw["email"] if e.strip()}
    phones = {re.sub(r"\D", "", p)[-10:] for p in raw["phone"] if len(re.sub(r"\D", "", p)) >= 7}
    names = {n.strip().lower() for n in pd.concat([raw["first_name"], raw["last_name"]]) if n.strip()}
    assert len(emails) > 100 and len(phones) > 100 and len(names) > 50  # the raw export does hold personal data
    text = path.read_text(encoding="utf-8").lower()
    assert not any(email in text for email in emails)
    assert not re.search(r"@", text)
    tokens = {token for cell in cells for token in re.split(r"[:_\s]+", cell.lower()) if token}
    assert not tokens & names
    digit_runs = {run[-10:] for cell in cells for run in re.findall(r"\d{7,}", re.sub(r"[\s().\-+]", "", cell))}
    assert not digit_runs & phones


def test_sample_metrics_come_from_the_result_tables(default_sample):
    from journeylib.results import REQUIRED_KEYS, missing_keys

    _, truth, result = default_sample
    metrics = result.metrics()
    required = [key.split(".", 1)[1] for key in REQUIRED_KEYS if key.startswith("retention.")]
    assert missing_keys(metrics, required) == []
    assert metrics["eligible"] == truth["eligible_buyers"] and round(metrics["churn_rate"], 4) == truth["churn_rate"]
    odds = result.odds_ratios_.set_index("term")
    assert metrics["odds_ratios"]["condition:used"]["estimate"] == pytest.approx(odds.loc["condition:used", "odds_ratio"])
    assert metrics["at_risk"]["file"] == retention.AT_RISK_FILE == "at_risk_buyers.csv"  # the same in and outside a run
    assert metrics["at_risk"]["buyers"] == len(result.at_risk_) == 100
    scores = result.service.scores_
    assert metrics["at_risk"]["mean_risk"] == pytest.approx(result.at_risk_["risk"].mean())
    active = result.dataset_.index[result.dataset_["active"]]
    assert metrics["at_risk"]["mean_risk_all_active"] == pytest.approx(
        1 - scores.set_index("customer_id").loc[active, "p_return_12m"].mean())
    service = metrics["service_scores"]
    assert service["buyers"] == len(scores) == result.buyers
    assert service["expected_customer_pay_12m"] == pytest.approx(scores["expected_customer_pay_12m"].sum())
    assert service["file"] == "service_scores.parquet" and service["to_call_file"] == "service_to_call.csv"
    assert service["to_call_rows"] == len(result.service.to_call_) <= 25 * result.dataset_["dealer_id"].nunique()
    assert set(service["backtest"]) == set(retention.service_backtest.BACKTEST_KEYS)
    assert 0.5 < service["backtest"]["auc_return_12m"] <= 1
    assert metrics["auc"] == result.holdout.metrics["auc"] and 0.5 < metrics["auc"] < 1
    windows = {str(d) for d in retention.Params().sensitivity_days}
    assert set(metrics["sensitivity"]) == windows
    assert metrics["sensitivity"]["365"]["eligible"] == metrics["eligible"]
    assert set(metrics["churn_rate_by"]) == set(rates.RATE_FEATURES)
    assert sum(row.buyers for row in result.rates_.itertuples() if row.feature == "dealer_id") == metrics["eligible"]


def test_nobody_eligible_gives_nulls_with_reasons(default_sample):
    folder, _, _ = default_sample
    result = retention.analyse(ProcessedTables(folder / "processed"), retention.Params(churn_after_days=5000))
    assert result.eligible == 0 and result.buyers > 0
    assert "nobody is eligible" in result.no_rate and result.no_model == result.no_rate
    assert result.missing_ == dict.fromkeys(("churn_rate", "model", "holdout"), result.no_rate)  # one reason, three parts
    assert result.model is None and result.odds_ratios_ is None and result.holdout is None
    assert result.model_ is None and result.holdout_ is None and result.notes_ == []
    # the at-risk list comes from the service scores, which need no eligible buyer; no churn model: no factors
    assert len(result.at_risk_) == 100 and (result.at_risk_[["factor_1", "factor_2"]] == "").all().all()
    metrics = result.metrics()
    assert metrics["churn_rate"] is None and metrics["auc"] is None and metrics["at_risk"]["buyers"] == 100
    assert metrics["service_scores"]["buyers"] == result.buyers
    assert all(metrics["odds_ratios"][term] is None for term in model.REQUIRED_TERMS)
    assert metrics["missing"]["churn_rate"] == result.no_rate == metrics["missing"]["odds_ratios.condition:used"]
    assert result.no_rate in metrics["notes"]
    assert all(np.isnan(rate) for rate in result.sensitivity_["churn_rate"][result.sensitivity_["eligible"] == 0])


def test_params_refuse_bad_values_with_the_notebook_messages():
    assert retention.Params().sensitivity_days == (270, 365, 545)
    assert retention.Params.from_values({"sensitivity_days": [90], "run_dir": "x"}).sensitivity_days == (90,)
    cases = {"churn_after_days": (0, "expected a positive whole number"),
             "at_risk_top": (True, "expected a positive whole number"),
             "sensitivity_days": ([365, -1], "sensitivity_days=-1: expected a positive whole number"),
             "holdout_share": (1.0, "expected a share between 0 and 1"),
             "cluster_by_dealer": ("yes", "expected True or False")}
    for name, (value, message) in cases.items():
        with pytest.raises(ValueError, match=re.escape(message)) as error:
            retention.Params(**{name: value})
        assert str(error.value).startswith(f"parameter {name}=")


def test_odds_ratio_forest_draws_each_estimable_term_against_its_reference(simulated, fitted):
    from journeylib.figures.retention import odds_ratio_forest

    odds = model.odds_ratios(fitted, simulated)
    odds.loc[0, ["odds_ratio", "ci_low", "ci_high"]] = np.nan  # a term not estimable: not drawn
    fig = odds_ratio_forest(odds, "odds")
    labels_drawn = [tick.get_text() for tick in fig.axes[0].get_yticklabels()]
    import matplotlib.pyplot as plt

    plt.close(fig)
    assert len(labels_drawn) == len(odds) - 1
    assert "Finance type: Lease (vs Finance)" in labels_drawn
    assert "Days to purchase (per doubling of 1 + days)" in labels_drawn


@pytest.mark.slow
def test_sample_interval_coverage_over_larger_samples(tmp_path):
    """Five `journey sample` worlds of 8000 customers (about 2,100 eligible buyers each): 35 intervals."""
    misses, estimates = [], []
    for seed in range(101, 106):
        truth, result = sample_pipeline(tmp_path / str(seed), 8000, seed)
        assert len(result.eligible_) == truth["eligible_buyers"]
        assert round(result.churn_rate, 4) == truth["churn_rate"]
        table = result.odds_ratios_.set_index("term")
        for term, true_or in truth["odds_ratios"].items():
            row = table.loc[term]
            estimates.append(np.log(row["odds_ratio"] / true_or))
            if not row["ci_low"] <= true_or <= row["ci_high"]:
                misses.append((seed, term, true_or, round(row["ci_low"], 3), round(row["ci_high"], 3)))
    # 95% intervals: 1.75 misses expected; 6 or more has probability about 1% when the intervals are right
    assert len(misses) <= 5, misses
    # and no systematic bias: the mean log ratio estimate/truth is near 0 (its sd is about 0.04 here)
    assert abs(np.mean(estimates)) < 0.12, np.mean(estimates)


# ---------------------------------------------------------------- sparse levels and fallbacks (issue 11)


def test_pooling_a_level_without_churn_matches_fitting_without_its_buyers():
    from journeylib.stats import level_notes as fallbacks

    frame = simulate_frame(2000, seed=21)
    rare = frame.head(8).copy()
    rare.index = [f"r{i}" for i in range(8)]
    rare["acquisition_channel"], rare["churned"] = "sms", False  # a rare channel with no churned buyer
    rare["active"] = True
    with_rare = pd.concat([frame, rare])
    pooled = model.odds_ratios(model.fit_churn_model(with_rare), with_rare).set_index("term")
    without = model.odds_ratios(model.fit_churn_model(frame), frame).set_index("term")
    plan = model.plan_levels(with_rare)
    assert fallbacks.pooled_levels(plan)["acquisition_channel"] == ["sms"]
    assert "acquisition_channel:sms" not in pooled.index
    shared = without.dropna(subset=["odds_ratio"]).index
    np.testing.assert_allclose(pooled.loc[shared, "odds_ratio"], without.loc[shared, "odds_ratio"], rtol=0.05)
    sentences = fallbacks.plan_sentences(plan, labels.CATEGORICAL_FEATURES, RETENTION_REFERENCES, 20)
    assert any(s.startswith("Acquisition channel: Text message") for s in sentences)


def test_a_collinear_feature_is_dropped_and_the_model_still_fits():
    frame = simulate_frame(1500, seed=22)
    # price band is a copy of condition under other names: the design is singular with both
    frame["price_band"] = frame["condition"].map({"new": "high", "used": "low", "cpo": "mid_low"})
    fit = model.fit_churn_model(frame)
    assert "price_band" not in fit.plan.levels
    assert any("price band left out" in note for note in fit.fit_notes)
    table = model.odds_ratios(fit, frame).set_index("term")
    assert np.isfinite(table.loc["condition:used", "odds_ratio"])


def test_too_few_churned_buyers_is_a_named_condition():
    frame = simulate_frame(300, seed=23)
    frame["churned"] = False
    frame.loc[frame.index[:3], "churned"] = True
    with pytest.raises(NotEstimable, match="at least 5 churned"):
        model.fit_churn_model(frame)


def test_everyone_retained_or_nobody_bought_is_not_estimable():
    buyers = simulate_buyers_and_visits(200, seed=4)[0]
    assert labels.retention_gap(labels.churn_dataset(buyers.iloc[:0], visits_frame([]), AS_OF), AS_OF, 365).startswith(
        "No customer had bought")


def test_churn_rates_by_group_pool_small_groups():
    frame = simulate_frame(400, seed=24)
    frame.loc[frame.index[:5], "dealer_id"] = "D99"
    table, pooled = rates.churn_rates_pooled(frame, "dealer_id", 20)
    assert pooled == ["D99"] and "other" in set(table["dealer_id"]) and table["buyers"].sum() == 400


# ---------------------------------------------------------------- the result's sentences and reviewer tables (notebook 03)

CODE = re.compile(r"\b[a-z]+_[a-z_]+\b|\b[a-z_]+:[a-z_]+\b|\bnan\b|\bNaN\b")


def _percent(share):
    return f"{share:.0%}"


def test_takeaways_state_the_numbers_recorded_in_metrics(default_sample):
    _, _, result = default_sample
    metrics = result.metrics()
    overall = result.takeaways("overall")[0]
    assert overall.startswith(f"{_percent(metrics['churn_rate'])} of the {metrics['eligible']} eligible buyers")
    assert f"{metrics['buyers'] - metrics['eligible']} more recent buyers" in overall
    high, low = result.rate_extremes()
    extremes = result.takeaways("rates")[-1]
    assert f"({_percent(high['churn_rate'])}, n={high['buyers']})" in extremes and "Dealer = D" in extremes
    assert metrics["churn_rate_by"][high["feature"]][str(high["level"])]["estimate"] == high["churn_rate"]
    first = metrics["retention_curve"][str(result.curve_.iloc[0]["months_from"])]["estimate"]
    assert result.takeaways("curve")[0].startswith(f"{_percent(first)} of buyers came for service in the first 6 months")
    by_two = metrics["not_lapsed"]["730"]
    assert f"by day 730, {_percent(1 - by_two['estimate'])} have lapsed" in result.takeaways("lapses")[0]
    shown = metrics["significant_odds"]
    assert shown["tested"] == int(result.odds_ratios_["p"].notna().sum())
    assert shown["expected_false_alarms"] == pytest.approx(0.05 * shown["tested"])
    assert "satisfaction:detractor" in shown["raising"]  # the strongest true effect (see above)
    significance = result.takeaways("significance")[0]
    assert "Satisfaction: Detractor (" in significance and f"about {0.05 * shown['tested']:.1f} false alarms" in significance
    assert f"{len(metrics['stable_terms'])} of 4 main odds ratios" in result.takeaways("sensitivity")[0]
    assert f"hold {_percent(metrics['holdout_top_fifth_share'])} of the churned ones" in result.takeaways("holdout")[0]
    assert f"top decile lift {metrics['lift_top_decile']:.1f}" in result.takeaways("holdout")[0]
    factors = metrics["at_risk_factors"]
    assert sum(factors.values()) <= 2 * metrics["at_risk"]["buyers"] and list(factors.values()) == sorted(
        factors.values(), reverse=True)
    assert metrics["expected_returners_12m"] == pytest.approx(result.service.scores_["p_return_12m"].sum())
    assert f"we expect {metrics['expected_returners_12m']:,.0f} to come back" in result.takeaways("service")[0]


def test_takeaways_and_tables_read_like_a_report(default_sample):
    from journeylib.retention.sentences import SECTIONS, TABLES

    _, _, result = default_sample
    sentences = [s for section in SECTIONS for s in result.takeaways(section)]
    assert len(sentences) >= len(SECTIONS) and all(isinstance(s, str) and s for s in sentences)
    # the reviewer wording of pooled levels names labels, not codes (metrics' notes keep the analyst's wording)
    model = result.takeaways("model")
    assert any("counted with the other small ones ('Other')" in s for s in model)
    assert not any(CODE.search(s.split("Note:")[0]) for s in sentences), [s for s in sentences if CODE.search(s)]
    assert model[-1 - len(result.model.fit_notes)].startswith("Reference levels: Finance type = Finance;")
    for section in TABLES:
        for table in result.tables(section):
            frame = table["frame"]
            assert set(table) == {"frame", "title", "formats"} and table["title"]
            assert isinstance(frame.index, pd.RangeIndex) and len(frame)
            cells = [str(v) for v in frame.to_numpy().ravel()] + list(map(str, frame.columns))
            assert all(isinstance(v, str) for v in frame.to_numpy().ravel()), section
            assert not [c for c in cells if CODE.search(c) or c == "None"], (section, [c for c in cells if CODE.search(c)])
    odds = result.tables("model")[0]["frame"]
    assert len(odds) == len(result.odds_ratios_)
    assert odds.loc[odds["Factor"] == "Condition: Used", "p-value"].item().startswith("p ")
    assert (odds["Note"] == "").sum() > 0  # an empty note stays empty, not "Not recorded"
    lapses = result.tables("lapses")[0]["frame"]
    assert list(lapses["Days since purchase"]) == ["365", "730", "1,095"]


def test_sections_without_a_table_say_why_and_draw_nothing(default_sample):
    from dataclasses import replace

    from journeylib.figures import retention as figures

    _, _, result = default_sample
    no_model = replace(result, model_=None, holdout_=None, notes_=[],
                       missing_={"model": "Too few churned buyers.", "holdout": "Too few churned buyers."})
    assert no_model.takeaways("model") == ["Too few churned buyers."]
    assert no_model.takeaways("significance") == [] and no_model.tables("model") == []
    assert no_model.takeaways("holdout") == ["No holdout validation: too few churned buyers."]
    assert no_model.tables("holdout") == []
    assert figures.odds_ratios(no_model) is None and figures.holdout(no_model) is None
    assert "significant_odds" not in no_model.metrics() and "holdout_top_fifth_share" not in no_model.metrics()
    no_curve = replace(result, curve_=result.curve_.iloc[:0])
    assert no_curve.takeaways("curve")[0].startswith("No buyer has had a complete 6-month window")
    assert figures.retention_curve(no_curve) is None
    one_class = replace(result, holdout_=replace(result.holdout_, missing={"auc": "One class.", "calibration_slope": "One class."}))
    assert one_class.takeaways("holdout") == ["One class."] and figures.holdout(one_class) is None
    figures.show(None)  # draws nothing, raises nothing


def test_nobody_eligible_sentences_give_the_reason(default_sample):
    from dataclasses import replace

    from journeylib.figures import retention as figures

    _, _, result = default_sample
    nobody = replace(result, missing_={"churn_rate": "Nobody is eligible yet."}, churn_rate_=None, rates_=None,
                     rate_levels_pooled_={}, lapses_=None, not_lapsed_=None)
    for section in ("overall", "rates", "lapses"):
        assert nobody.takeaways(section) == ["Nobody is eligible yet."]
    assert nobody.tables("lapses") == [] and figures.churn_rates(nobody) is None and figures.lapses(nobody) is None


def test_write_lists_only_in_a_run_and_the_sentences_say_so(default_sample, tmp_path):
    from dataclasses import replace

    _, _, sample = default_sample
    result = replace(sample, written_={})
    assert result.write_lists(None) == {}
    assert result.takeaways("at_risk")[0].endswith("Not written (no run folder outside `journey run`).")
    assert result.takeaways("service")[-1] == "Not written (no run folder outside `journey run`)."
    written = result.write_lists(tmp_path)
    assert {path.name for path in written.values()} == {"at_risk_buyers.csv", "service_to_call.csv"}
    assert (tmp_path / "service_scores.parquet").exists()
    assert result.takeaways("at_risk")[0].endswith("Written to at_risk_buyers.csv in the run folder.")
    assert result.takeaways("service")[-1] == ("Written to service_to_call.csv and service_scores.parquet in the "
                                               "run folder.")


def test_the_package_is_the_analysis_template_and_imports_no_heavy_library():
    """`journeylib.retention` re-exports the template's five names, the result is built by keyword, and importing
    it loads neither scipy nor statsmodels (they come with the models, on first use)."""
    import dataclasses

    assert set(retention.__all__) == {"Params", "analyse", "Result", "SECTION", "NOTEBOOK"}
    assert retention.RetentionResult is retention.Result and callable(retention.analyse)
    assert all(f.kw_only for f in dataclasses.fields(retention.Result))
    assert {"missing_", "notes_"} <= {f.name for f in dataclasses.fields(retention.Result)}
    assert loaded_by_import("journeylib.retention", ("scipy", "statsmodels", "sklearn")) == []
