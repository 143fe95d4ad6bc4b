"""The service scores (journeylib.retention.service_*) against simulated buyers with a known truth."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from journeylib.errors import NotEstimable
from journeylib.retention import service_landmark, service_list, service_scores
from journeylib.retention.service import analyse_service
from journeylib.retention.service_backtest import (AUC_SLACK, TOTAL_TOLERANCE, ServiceBacktest, backtest, choose,
                                                  decile_calibration)
from journeylib.retention.service_value import YEAR_DAYS, GammaGamma, MBGNBD, PayShare

AS_OF = pd.Timestamp("2025-06-30 23:59", tz="UTC")
TRUE_VISITS = MBGNBD(r=3.0, alpha=1.2, a=0.8, b=3.0)  # about 2.5 visits a year; a fifth never come
TRUE_SPEND = GammaGamma(p=4.0, q=5.0, gamma=300.0)  # mean customer-pay spend per paying visit 300
TRUE_SHARE = (3.0, 1.5)  # Beta: two thirds of visits are customer pay
DEALERS = ["D1", "D2", "D3"]


def simulate(n, seed, years=5.0, future_years=1.0, visits=TRUE_VISITS, spend=TRUE_SPEND, share=TRUE_SHARE):
    """Buyers who bought uniformly over `years` before AS_OF, their visits (MBG/NBD: Poisson visits, dropout at
    the purchase and after each visit) up to `future_years` after AS_OF, customer pay with a per-buyer share and
    Gamma–Gamma amounts. Returns (buyers, visits, truth per buyer)."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"C{i:06d}" for i in range(n)])
    T = rng.uniform(0, years, n)
    lam = rng.gamma(visits.r, 1 / visits.alpha, n)
    drop = rng.beta(visits.a, visits.b, n)
    nu = rng.gamma(spend.q, 1 / spend.gamma, n)
    pay_share = rng.beta(*share, n)
    t, alive = np.zeros(n), rng.random(n) >= drop
    dead_at = np.where(alive, np.inf, 0.0)
    who, when = [], []
    while alive.any():
        t = t + rng.exponential(1 / lam)
        alive &= t <= T + future_years
        who.append(np.flatnonzero(alive))
        when.append(t[alive] - T[alive])  # years after AS_OF (negative: before)
        drops = alive & (rng.random(n) < drop)
        dead_at[drops] = t[drops]
        alive &= ~drops
    who, when = np.concatenate(who), np.concatenate(when)
    paid = rng.random(who.size) < pay_share[who]
    amount = np.where(paid, rng.gamma(spend.p, 1 / nu[who]), rng.gamma(2.0, 150.0, who.size))
    purchase = AS_OF - pd.to_timedelta(T * YEAR_DAYS, unit="D")
    buyers = pd.DataFrame({"first_purchase_at": purchase, "dealer_id": rng.choice(DEALERS, n)},
                          index=pd.Index(ids, name="customer_id"))
    visits = pd.DataFrame({"customer_id": ids[who], "opened_at": AS_OF + pd.to_timedelta(when * YEAR_DAYS, unit="D"),
                           "pay_type": np.where(paid, "customer", rng.choice(["warranty", "internal"], who.size)),
                           "amount": amount.round(2)})
    future = visits[visits["opened_at"] > AS_OF]
    truth = pd.DataFrame(index=buyers.index)
    truth["visits"] = future.groupby("customer_id").size().reindex(ids).fillna(0)
    truth["customer_pay"] = future[future["pay_type"] == "customer"].groupby("customer_id")["amount"].sum() \
        .reindex(ids).fillna(0)
    # what a buyer would pay in the next year given what only the simulation knows (alive, rate, dropout, spend)
    h = future_years
    truth["expected_customer_pay"] = np.where(dead_at > T, -np.expm1(-lam * drop * h) / drop, 0.0) \
        * pay_share * spend.p / nu
    return buyers, visits.sort_values(["customer_id", "opened_at"]).reset_index(drop=True), truth


@pytest.fixture(scope="module")
def world():
    buyers, visits, truth = simulate(30_000, seed=7)
    known = visits[visits["opened_at"] <= AS_OF]
    hist = service_scores.history(buyers, known, AS_OF)
    model = service_scores.fit(hist)
    scores = service_scores.score(hist, model, AS_OF).set_index("customer_id")
    return buyers, visits, truth.loc[scores.index], hist, model, scores


def true_p_return(hist):
    x, t_x, T = hist["x"].to_numpy(float), hist["t_x"].to_numpy(float), hist["T"].to_numpy(float)
    horizon = 365 / YEAR_DAYS
    return TRUE_VISITS.p_alive(x, t_x, T) * TRUE_VISITS.p_visit_if_alive(x, T, horizon)


def true_expected_pay(hist):
    x, t_x, T = hist["x"].to_numpy(float), hist["t_x"].to_numpy(float), hist["T"].to_numpy(float)
    visits = TRUE_VISITS.p_alive(x, t_x, T) * TRUE_VISITS.expected_if_alive(x, T, 365 / YEAR_DAYS)
    share = PayShare(*TRUE_SHARE).expected_share(hist["paying"], x)
    return visits * share * TRUE_SPEND.expected_spend(hist["paying"], hist["mean_pay"])


# ------------------------------------------------------------------ known truth
def test_visit_model_recovers_the_true_parameters(world):
    _, _, _, _, model, _ = world
    fitted = model.visits
    for name, tolerance in (("r", 0.25), ("alpha", 0.25), ("a", 0.25), ("b", 0.3)):
        true = getattr(TRUE_VISITS, name)
        assert abs(getattr(fitted, name) / true - 1) < tolerance, (name, getattr(fitted, name), true)


def test_spend_and_share_models_recover_the_truth(world):
    _, _, _, _, model, _ = world
    assert model.spend.population_mean == pytest.approx(TRUE_SPEND.population_mean, rel=0.08)
    assert model.spend.p == pytest.approx(TRUE_SPEND.p, rel=0.3)
    share = model.pay_share.a / (model.pay_share.a + model.pay_share.b)
    assert share == pytest.approx(TRUE_SHARE[0] / sum(TRUE_SHARE), abs=0.03)


def test_return_probability_is_calibrated_in_total_and_by_decile(world):
    _, _, truth, _, _, scores = world
    came = truth["visits"] > 0
    assert scores["p_return_12m"].sum() == pytest.approx(came.sum(), rel=0.10)
    table = decile_calibration(scores["p_return_12m"], came)
    assert len(table) == 10
    for row in table.itertuples():
        # within 10%, or within two binomial standard errors where returns are rare (the lowest decile: ~30)
        noise = 2 * np.sqrt(row.observed * (1 - row.observed) / row.buyers)
        assert abs(row.predicted - row.observed) <= max(0.10 * row.observed, noise), row


def test_return_probability_ranks_as_well_as_the_true_model(world):
    _, _, truth, hist, _, scores = world
    came = truth["visits"] > 0
    fitted_auc = roc_auc_score(came, scores["p_return_12m"])
    true_auc = roc_auc_score(came, true_p_return(hist))
    assert fitted_auc > 0.75
    assert abs(fitted_auc - true_auc) < 0.02


def test_expected_visits_and_customer_pay_match_what_happened(world):
    _, _, truth, hist, _, scores = world
    assert scores["expected_visits_12m"].sum() == pytest.approx(truth["visits"].sum(), rel=0.10)
    ratio = scores["expected_customer_pay_12m"].sum() / truth["customer_pay"].sum()
    assert 0.8 <= ratio <= 1.25
    # per buyer, against what each would pay on average (the simulation's own parameters)
    assert spearmanr(scores["expected_customer_pay_12m"], truth["expected_customer_pay"]).statistic >= 0.6
    # against the one year that happened, as well as the true model's parameters do
    best = spearmanr(true_expected_pay(hist), truth["customer_pay"]).statistic
    assert spearmanr(scores["expected_customer_pay_12m"], truth["customer_pay"]).statistic > best - 0.02


def test_value_at_risk_is_what_a_live_buyer_would_add(world):
    _, _, _, hist, _, scores = world
    assert (scores["value_at_risk_12m"] >= -1e-9).all()
    # value at risk = (visits if alive − expected visits) × expected customer pay per visit
    per_visit = scores["expected_customer_pay_12m"] / scores["expected_visits_12m"]
    gap = scores["expected_if_alive"] - scores["expected_visits_12m"]
    assert np.allclose(scores["value_at_risk_12m"], gap * per_visit)
    # the likelier a buyer is still a customer, the less is at risk; p_alive falls as the silence grows
    alive = scores["p_alive"]
    assert scores.loc[alive > alive.quantile(0.9), "value_at_risk_12m"].mean() \
        < scores.loc[alive < alive.quantile(0.1), "value_at_risk_12m"].mean() / 3
    old_silent = (hist["x"] == 0) & (hist["T"] > 3)
    new = (hist["x"] == 0) & (hist["T"] < 0.1)
    assert alive[old_silent.to_numpy()].mean() < alive[new.to_numpy()].mean() - 0.2


def test_recent_buyer_is_not_lost(world):
    _, _, _, hist, model, scores = world
    new = ((hist["x"] == 0) & (hist["T"] < 60 / YEAR_DAYS)).to_numpy()
    prior_alive = model.visits.b / (model.visits.a + model.visits.b)
    assert scores.loc[new, "p_alive"].min() > prior_alive - 0.1  # hardly any evidence against them yet
    assert scores.loc[new, "reason"].str.endswith("first service not yet due").all()


# ------------------------------------------------------------------ the backtest
def test_backtest_refits_a_year_earlier_and_compares_with_what_happened(world):
    buyers, visits, _, _, _, _ = world
    known = visits[visits["opened_at"] <= AS_OF]
    checked = backtest(buyers, known, AS_OF, top_per_dealer=20)
    start = AS_OF - pd.Timedelta(days=365)
    assert checked.as_of == start and checked.buyers == int((buyers["first_purchase_at"] <= start).sum())
    # what happened between start and AS_OF, counted independently
    later = known[(known["opened_at"] > start) & known["customer_id"].isin(checked.scores["customer_id"])]
    later = later.merge(buyers["first_purchase_at"], left_on="customer_id", right_index=True)
    assert checked.returned == later["customer_id"].nunique()
    m = checked.metrics()
    assert m["observed_visits"] == later.assign(day=later["opened_at"].dt.floor("D"))[["customer_id", "day"]] \
        .drop_duplicates().shape[0]
    assert m["expected_visits"] == pytest.approx(m["observed_visits"], rel=0.1)
    assert m["expected_customer_pay"] == pytest.approx(m["observed_customer_pay"], rel=0.15)
    assert m["auc_return_12m"] > 0.75 and m["spearman_customer_pay"] > 0.35
    assert m["top_n"] == 60 and 0 <= m["precision_top_n"] <= 1
    sentence = checked.sentence()
    assert sentence.startswith(f"Of the {checked.buyers:,} buyers we would have scored on 30 June 2024, "
                               f"{checked.returned:,} came back for service by 30 June 2025; we expected ")
    assert "nan" not in sentence.lower()


def test_backtest_quality_sentence_says_how_well_it_ranked_and_when_it_barely_did(world):
    buyers, visits, _, _, _, _ = world
    checked = backtest(buyers, visits[visits["opened_at"] <= AS_OF], AS_OF, top_per_dealer=20)
    text = checked.quality_sentence()
    assert text.startswith(f"The return probability put a buyer who came back above one who did not "
                           f"{checked.auc:.0%} of the time")
    assert f"of the 60 buyers the list would have named, {checked.precision_top_n:.0%} did not come back" in text
    assert "barely differ" not in text
    flat = checked.calibration.assign(predicted=0.76)
    from dataclasses import replace

    assert "barely differ between buyers (76% to 76% by tenth)" in replace(checked, calibration=flat).quality_sentence()


def test_backtest_needs_a_buyer_a_year_before():
    buyers, visits, _ = simulate(200, seed=3, years=0.5)
    with pytest.raises(NotEstimable, match="a year before the as-of date"):
        backtest(buyers, visits[visits["opened_at"] <= AS_OF], AS_OF)


def test_backtests_share_one_year_before_made_once(world, monkeypatch):
    # both models' backtests read the same buyers of then and what they did: made once, same results as alone
    from journeylib.retention import service_backtest

    buyers, visits, _, _, _, _ = world
    known = visits[visits["opened_at"] <= AS_OF]
    before = service_backtest.year_before(buyers, known, AS_OF)
    alone = backtest(buyers, known, AS_OF, top_per_dealer=20)
    shared = backtest(buyers, known, AS_OF, top_per_dealer=20, before=before)
    pd.testing.assert_frame_equal(alone.scores, shared.scores)
    assert alone.metrics() == shared.metrics()
    calls = []
    original = service_backtest.observed
    monkeypatch.setattr(service_backtest, "observed", lambda *a: calls.append(1) or original(*a))
    analyse_service(buyers, known, AS_OF)
    assert len(calls) == 1


# ------------------------------------------------------------------ reasons and lists
def test_reasons_are_short_plain_phrases():
    day = pd.Timedelta(days=1)
    hist = pd.DataFrame({
        "first_purchase_at": [AS_OF, AS_OF - 60 * day, AS_OF - 400 * day, AS_OF - 700 * day, AS_OF - 1000 * day,
                              AS_OF - 300 * day, AS_OF - 900 * day, AS_OF - 900 * day],
        "last_visit_at": [pd.NaT, pd.NaT, pd.NaT, AS_OF - 100 * day, AS_OF - 430 * day, AS_OF - 50 * day,
                          AS_OF - 880 * day, AS_OF - 300 * day],
        "x": [0, 0, 0, 3, 2, 1, 1, 3], "visits_last_year": [0, 0, 0, 3, 0, 1, 0, 0]})
    hist["t_x"] = np.where(hist["x"] > 0, (hist["last_visit_at"] - hist["first_purchase_at"]).dt.days / YEAR_DAYS, 0)
    assert list(service_scores.reasons(hist, AS_OF, due_days=150)) == [
        "bought today, first service not yet due",
        "bought 2 months ago, first service not yet due",
        "bought 13 months ago, no service visit since",
        "came 3 times in the last year",
        "no visit for 14 months, usually every 9 months",
        "came once, 2 months ago (8 months after buying)",
        "no visit for 29 months, came once (20 days after buying)",  # one visit is no rhythm
        "last visit 10 months ago, usually every 7 months"]
    due = service_scores.not_yet_due(hist, AS_OF, due_days=150)
    assert due.tolist() == [True, True] + [False] * 6


def test_to_call_takes_the_top_per_dealer_by_value_at_risk(world, tmp_path):
    _, _, _, _, _, scores = world
    flat = scores.reset_index()
    listed = service_list.to_call(flat, top=5)
    assert listed.columns.tolist() == service_scores.SCORE_COLUMNS
    assert listed.groupby("dealer_id").size().to_dict() == {d: 5 for d in DEALERS}
    for dealer, rows in listed.groupby("dealer_id"):
        best = flat[flat["dealer_id"] == dealer].nlargest(5, "value_at_risk_12m")
        assert set(rows["customer_id"]) == set(best["customer_id"])
    assert service_list.write_to_call(listed, None) is None and service_list.write_scores(flat, None) is None
    path = service_list.write_scores(flat, tmp_path)
    written = pd.read_parquet(path)
    assert written.columns.tolist() == service_scores.SCORE_COLUMNS and len(written) == len(flat)
    csv = service_list.write_to_call(listed, tmp_path)
    assert pd.read_csv(csv).shape == (15, len(service_scores.SCORE_COLUMNS))
    with pytest.raises(ValueError, match="ids and scores only"):
        service_list.write_to_call(listed.assign(email="a@b.c"), tmp_path / "other")
    with pytest.raises(ValueError, match="email addresses"):
        service_list.write_scores(flat.assign(customer_id="x@example.com"), tmp_path / "other")
    assert not (tmp_path / "other").exists()


def test_to_call_never_lists_a_buyer_whose_first_service_is_not_due():
    scores = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "dealer_id": "D1",
                           "p_return_12m": [0.2, 0.9, 0.5, 0.3], "expected_visits_12m": 1.0,
                           "expected_customer_pay_12m": 100.0, "value_at_risk_12m": [50.0, 400.0, 10.0, 80.0],
                           "last_visit_at": pd.NaT, "reason": "r", "not_yet_due": [False, True, False, False],
                           "p_alive": 0.5, "expected_if_alive": 1.0})
    assert service_list.to_call(scores, top=3)["customer_id"].tolist() == ["d", "a", "c"]
    assert service_list.to_call(scores.drop(columns="not_yet_due"), top=1)["customer_id"].tolist() == ["b"]


# ------------------------------------------------------------------ exports that cannot support a list
def test_no_service_visits_at_all_gives_nulls_with_reasons():
    buyers, visits, _ = simulate(300, seed=4)
    result = analyse_service(buyers, visits.iloc[:0], AS_OF)
    assert result.scores_ is None and "No buyer has a service visit" in result.no_scores
    values, missing = result.metrics()
    assert values["buyers"] is None and values["backtest"] is None
    assert set(missing) >= {"buyers", "expected_customer_pay_12m", "backtest"}
    assert result.sentence() == result.no_scores


def test_no_customer_pay_visits_leave_revenue_null_and_return_probabilities():
    buyers, visits, _ = simulate(2000, seed=5)
    visits = visits.assign(pay_type="warranty")
    result = analyse_service(buyers, visits[visits["opened_at"] <= AS_OF], AS_OF)
    assert result.scores_["p_return_12m"].between(0, 1).all()
    assert result.scores_["expected_customer_pay_12m"].isna().all()
    values, missing = result.metrics()
    assert values["expected_customer_pay_12m"] is None and values["value_at_risk_12m"] is None
    assert "paid by the customer" in missing["expected_customer_pay_12m"]
    assert values["backtest"]["expected_customer_pay"] is None and values["backtest"]["auc_return_12m"] > 0.6
    assert "paid by the customer" in missing["backtest.expected_customer_pay"]
    assert len(result.to_call_) == 3 * 25  # ranked by visits at risk instead
    assert "nan" not in result.sentence().lower() and "nan" not in result.backtest.sentence().lower()


def test_purchase_on_the_as_of_date_is_scored_as_new():
    buyers, visits, _ = simulate(3000, seed=6)
    buyers.iloc[0, buyers.columns.get_loc("first_purchase_at")] = AS_OF
    visits = visits[(visits["customer_id"] != buyers.index[0]) & (visits["opened_at"] <= AS_OF)]
    result = analyse_service(buyers, visits, AS_OF)
    row = result.scores_.set_index("customer_id").loc[buyers.index[0]]
    visits_model = result.model.visits
    mbg = service_scores.score(service_scores.history(buyers, visits, AS_OF), result.model, AS_OF)
    assert mbg.set_index("customer_id").loc[buyers.index[0], "p_alive"] == pytest.approx(
        visits_model.b / (visits_model.a + visits_model.b))
    assert 0 < row["p_return_12m"] < 1 and np.isfinite(row["expected_customer_pay_12m"])
    assert row["reason"] == "bought today, first service not yet due" and pd.isna(row["last_visit_at"])


def test_leads_only_export_has_no_buyer_to_score():
    buyers = pd.DataFrame({"first_purchase_at": pd.Series([], dtype="datetime64[ns, UTC]"),
                           "dealer_id": pd.Series([], dtype=object)}, index=pd.Index([], name="customer_id"))
    visits = pd.DataFrame({"customer_id": pd.Series([], dtype=object),
                           "opened_at": pd.Series([], dtype="datetime64[ns, UTC]"),
                           "pay_type": pd.Series([], dtype=object), "amount": pd.Series([], dtype=float)})
    result = analyse_service(buyers, visits, AS_OF)
    assert result.scores_ is None and "No customer had bought" in result.no_scores
    assert result.backtest is None and "No buyer had bought" in result.no_backtest


def test_pay_share_with_no_paying_visit_is_refused_by_fit_not_silently_zero():
    assert PayShare.fit([0, 1, 2], [2, 2, 2]).expected_share([1], [2])[0] == pytest.approx(0.5, abs=0.2)
    with pytest.raises(NotEstimable):
        GammaGamma.fit([0, 0], [np.nan, np.nan])


def test_expected_visits_if_alive_match_the_closed_form_and_survive_degenerate_fits():
    from scipy import special

    x, T, h = np.array([0, 1, 3, 10.0]), np.array([0.1, 1, 2, 3.0]), 1.0
    for r, alpha, a, b in [(2, 1, 0.8, 4), (0.8, 1, 0.05, 0.6), (5, 2, 3, 10)]:
        closed = (a + b + x) / (a - 1) * (1 - ((alpha + T) / (alpha + T + h)) ** (r + x)
                                          * special.hyp2f1(r + x, b + x + 1, a + b + x, h / (alpha + T + h)))
        assert np.allclose(MBGNBD(r, alpha, a, b).expected_if_alive(x, T, h), closed, rtol=1e-4)
    # a fit on an awkward export: equal rates (r, alpha huge), almost no dropout (b huge): about r / alpha a year
    flat = MBGNBD(105_187.8, 66_717.7, 0.00308, 2053.9)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning would show in the reviewer report
        assert np.allclose(flat.expected_if_alive(x, T, h), 105_187.8 / 66_717.7, rtol=1e-3)


def test_service_sentence_and_the_reviewers_table():
    buyers, visits, _ = simulate(3000, seed=8)
    result = analyse_service(buyers, visits[visits["opened_at"] <= AS_OF], AS_OF, top=4)
    s = result.scores_
    assert result.sentence() == (
        f"Of the {len(s):,} buyers, we expect {s['p_return_12m'].sum():,.0f} to come back for service in the next "
        f"12 months ({s['expected_visits_12m'].sum():,.0f} visits), paying {s['expected_customer_pay_12m'].sum():,.0f} "
        f"for customer-pay work; {s['value_at_risk_12m'].sum():,.0f} more would come in if every buyer who may have "
        "stopped coming were still a service customer.")
    view = result.to_call_view(5)
    assert view.columns.tolist() == ["Customer", "Dealer", "Chance of a visit in 12 months", "Expected visits",
                                     "Expected customer pay", "Value at risk", "Last visit", "Why"]
    assert view.index.tolist() == list(range(5)) and len(result.to_call_) == 12
    top = result.to_call_.nlargest(5, "value_at_risk_12m")
    assert view["Customer"].tolist() == top["customer_id"].tolist()
    assert view["Value at risk"].tolist() == [f"{v:,.0f}" for v in top["value_at_risk_12m"]]
    assert view["Chance of a visit in 12 months"].str.fullmatch(r"\d{1,3}%").all()
    assert not view.isin(["nan", "NaN", "NaT"]).any().any()


# ------------------------------------------------------------------ the landmark model and the choice
def rising_share(years):
    """The chance a visit is customer pay, by the vehicle's age: rising from 5% until it levels off at 90%."""
    return np.minimum(0.9, 0.05 + 0.25 * years)


def simulate_regular(n, seed, years=5.0, future_years=1.0, customer_share=rising_share):
    """Buyers who come to service in near-regular gaps (Gamma, shape 6, a usual gap of 4–10 months per buyer)
    until they move away at an exponential time (mean 4 years; 15% never come), customer pay by the vehicle's
    age (`customer_share` of years since the purchase; warranty first). Returns (buyers, visits up to AS_OF,
    truth: visits and customer pay in the year after AS_OF)."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"R{i:06d}" for i in range(n)])
    T = rng.uniform(0, years, n)
    gap = rng.uniform(0.33, 0.83, n)
    move = np.where(rng.random(n) < 0.15, 0.0, rng.exponential(4.0, n))
    scale = rng.lognormal(np.log(80), 0.5, n)
    end = np.minimum(move, T + future_years)
    t, who, when = np.zeros(n), [], []
    active = np.ones(n, bool)
    while active.any():
        t = t + rng.gamma(6.0, gap / 6.0)
        active &= t < end
        who.append(np.flatnonzero(active))
        when.append(t[active])
    who, when = np.concatenate(who), np.concatenate(when)
    paid = rng.random(who.size) < customer_share(when)
    amount = np.where(paid, rng.gamma(4.0, scale[who]), rng.gamma(2.0, 150.0, who.size))
    purchase = AS_OF - pd.to_timedelta(T * YEAR_DAYS, unit="D")
    buyers = pd.DataFrame({"first_purchase_at": purchase, "dealer_id": rng.choice(DEALERS, n)},
                          index=pd.Index(ids, name="customer_id"))
    visits = pd.DataFrame({"customer_id": ids[who],
                           "opened_at": AS_OF + pd.to_timedelta((when - T[who]) * YEAR_DAYS, unit="D"),
                           "pay_type": np.where(paid, "customer", "warranty"), "amount": amount.round(2)})
    future = visits[visits["opened_at"] > AS_OF]
    truth = pd.DataFrame(index=buyers.index)
    truth["visits"] = future.groupby("customer_id").size().reindex(ids).fillna(0)
    truth["customer_pay"] = future[future["pay_type"] == "customer"].groupby("customer_id")["amount"].sum() \
        .reindex(ids).fillna(0)
    return buyers, visits[visits["opened_at"] <= AS_OF].reset_index(drop=True), truth


@pytest.fixture(scope="module")
def regular():
    buyers, visits, truth = simulate_regular(20_000, seed=21)
    hist = service_scores.history(buyers, visits, AS_OF)
    mbg = service_scores.score(hist, service_scores.fit(hist), AS_OF).set_index("customer_id")
    days = service_landmark.visit_days(buyers, visits, AS_OF)
    fitted = service_landmark.fit(days, AS_OF)
    landmark = service_landmark.score(hist, days, fitted, AS_OF, service_scores.due_days(hist),
                                      service_scores.reasons).set_index("customer_id")
    return buyers, visits, truth.loc[landmark.index], fitted, mbg, landmark


def test_landmark_model_reads_regular_visits_better_than_the_poisson_type_model(regular):
    _, _, truth, fitted, mbg, landmark = regular
    came = truth["visits"] > 0
    assert len(fitted.landmarks) == 4 and fitted.rows > 20_000
    auc_landmark = roc_auc_score(came, landmark["p_return_12m"])
    auc_mbg = roc_auc_score(came, mbg["p_return_12m"])
    assert auc_landmark > auc_mbg + 0.01 and auc_landmark > 0.9
    rho_landmark = spearmanr(landmark["expected_customer_pay_12m"], truth["customer_pay"]).statistic
    rho_mbg = spearmanr(mbg["expected_customer_pay_12m"], truth["customer_pay"]).statistic
    assert rho_landmark > rho_mbg + 0.03


def test_landmark_model_is_calibrated_in_total(regular):
    _, _, truth, _, _, landmark = regular
    assert landmark["p_return_12m"].sum() == pytest.approx((truth["visits"] > 0).sum(), rel=0.10)
    assert landmark["expected_visits_12m"].sum() == pytest.approx(truth["visits"].sum(), rel=0.10)
    assert landmark["expected_customer_pay_12m"].sum() == pytest.approx(truth["customer_pay"].sum(), rel=0.15)
    calibration = decile_calibration(landmark["p_return_12m"], truth["visits"] > 0)
    assert (calibration["predicted"] - calibration["observed"]).abs().max() < 0.10
    # value at risk is what a returning buyer pays beyond what is expected: never negative, 0 for a sure return
    assert (landmark["value_at_risk_12m"] >= 0).all()
    assert np.allclose(landmark["value_at_risk_12m"] + landmark["expected_customer_pay_12m"],
                       landmark["expected_customer_pay_12m"] / landmark["p_return_12m"])


def test_the_backtest_chooses_the_landmark_model_for_regular_visits_and_says_why(regular):
    buyers, visits, truth, _, _, _ = regular
    result = analyse_service(buyers, visits, AS_OF)
    assert result.chosen == "landmark" and result.backtest.model == "landmark"
    assert result.checks["landmark"].auc > result.checks["mbg_nbd"].auc
    values, missing = result.metrics()
    assert values["model"] == "landmark" and not any(k.startswith("model_backtest") for k in missing)
    assert values["model_backtest"]["landmark"]["auc_return_12m"] == result.backtest.auc
    assert result.backtest.quality_sentence().endswith(result.choice)
    assert result.choice.startswith("The lists use the landmark model") and "MBG/NBD visit model (AUC" in result.choice
    scores = result.scores_.set_index("customer_id")
    assert roc_auc_score(truth.loc[scores.index, "visits"] > 0, scores["p_return_12m"]) > 0.85
    assert scores.columns.tolist()[:7] == service_scores.SCORE_COLUMNS[1:]


def test_the_backtest_keeps_the_mbg_nbd_when_visits_are_poisson(world):
    buyers, visits, _, _, _, _ = world
    result = analyse_service(buyers, visits[visits["opened_at"] <= AS_OF], AS_OF)
    assert result.chosen == "mbg_nbd" and result.metrics()[0]["model"] == "mbg_nbd"
    assert result.choice.startswith("The lists use the MBG/NBD visit model: the landmark model")


def _check(auc, spearman, ratio, model):
    """A ServiceBacktest with the given AUC, Spearman and expected/observed customer pay."""
    scores = pd.DataFrame({"expected_customer_pay_12m": [ratio * 100.0, 0.0], "customer_pay": [100.0, 0.0]})
    return ServiceBacktest(AS_OF, AS_OF, scores, auc, None, spearman, None, pd.DataFrame(), 0, None, model)


def test_choose_weighs_ranking_revenue_and_totals():
    mbg = _check(0.80, 0.30, 1.0, "mbg_nbd")
    assert choose({"mbg_nbd": mbg, "landmark": _check(0.82, 0.35, 1.0, "landmark")})[0] == "landmark"
    assert choose({"mbg_nbd": mbg, "landmark": _check(0.80, 0.30, 1.0, "landmark")})[0] == "mbg_nbd"  # a tie
    # better revenue but returns ranked worse by more than AUC_SLACK: the return probability ranks the at-risk list
    assert choose({"mbg_nbd": mbg, "landmark": _check(0.80 - AUC_SLACK - 0.01, 0.60, 1.0, "landmark")})[0] == "mbg_nbd"
    # totals off by half cost more than a slightly better ranking gains
    assert choose({"mbg_nbd": mbg, "landmark": _check(0.82, 0.32, 0.5, "landmark")})[0] == "mbg_nbd"
    # totals within 1.25× either way do not decide: better rankings at 0.905× beat 0.925× (seen on an export)
    assert choose({"mbg_nbd": _check(0.889, 0.531, 0.925, "mbg_nbd"),
                   "landmark": _check(0.899, 0.536, 0.905, "landmark")})[0] == "landmark"
    assert choose({"mbg_nbd": mbg, "landmark": _check(0.81, 0.30, 1.0 / TOTAL_TOLERANCE, "landmark")})[0] == "landmark"
    assert choose({"mbg_nbd": mbg, "landmark": _check(0.81, 0.30, 0.7, "landmark")})[0] == "mbg_nbd"
    name, why = choose({"mbg_nbd": mbg, "landmark": "The export holds 1.5 years of purchases."})
    assert name == "mbg_nbd" and why.endswith("could not be checked: the export holds 1.5 years of purchases.")


def test_landmark_model_needs_two_years_and_falls_back_to_the_mbg_nbd():
    buyers, visits, _ = simulate(3000, seed=9, years=1.8)
    known = visits[visits["opened_at"] <= AS_OF]
    with pytest.raises(NotEstimable, match="1.8 years of purchases, fewer than the two"):
        service_landmark.fit(service_landmark.visit_days(buyers, known, AS_OF), AS_OF)
    result = analyse_service(buyers, known, AS_OF)
    values, missing = result.metrics()
    assert result.chosen == "mbg_nbd" and values["model"] == "mbg_nbd" and values["model_backtest"]["landmark"] is None
    assert "fewer than the two a landmark model needs" in missing["model_backtest.landmark"]
    assert "fewer than the two" in result.choice and result.scores_["p_return_12m"].between(0, 1).all()


def test_landmark_features_are_what_was_known_at_the_date():
    day = pd.Timedelta(days=1)
    buyers = pd.DataFrame({"first_purchase_at": [AS_OF - 1000 * day, AS_OF - 100 * day], "dealer_id": ["D1", "D2"]},
                          index=pd.Index(["A", "B"], name="customer_id"))
    visits = pd.DataFrame({"customer_id": ["A", "A", "A", "A", "B"],
                           "opened_at": [AS_OF - 800 * day, AS_OF - 500 * day,
                                         AS_OF - 500 * day - pd.Timedelta(hours=1), AS_OF - 300 * day,
                                         AS_OF + 10 * day],
                           "pay_type": ["warranty", "customer", "customer", "customer", "customer"],
                           "amount": [100.0, 50.0, 30.0, 200.0, 70.0]})
    days = service_landmark.visit_days(buyers, visits, AS_OF + 30 * day)
    f = service_landmark.facts(days, (AS_OF - 400 * day).value / service_landmark.DAY_NS)
    # A at T − 400 days: two visit days (the two repair orders of one day are one visit), the last 100 days ago
    assert f["visits"].tolist() == [2, 0] and f["bought"].tolist() == [True, False]
    assert f["since"][0] == pytest.approx(100, abs=0.1) and f["mean_gap"][0] == pytest.approx(250, abs=0.1)
    assert f["last_gap"][0] == pytest.approx(300, abs=0.1) and f["paying"][0] == 1 and f["mean_pay"][0] == 80.0
    got, pay = service_landmark.outcome(days, (AS_OF - 400 * day).value / service_landmark.DAY_NS)
    assert got.tolist() == [1.0, 0.0] and pay.tolist() == [200.0, 0.0]
