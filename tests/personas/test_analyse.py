"""Personas: features, the choice of k, recovery of planted segments, naming rules, the written table."""

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest

from journeylib.errors import ParameterError

from journeylib import personas
from journeylib.labels import date_text

AS_OF = pd.Timestamp("2024-12-31", tz="UTC")

# Three well-separated shopping profiles: (acquisition channel, shopping channels, vdp views, build & price,
# test drive, buys, days to purchase, finance type, survey comment).
PROFILES = {
    "researcher": ("search", ["website", "search", "third_party"], (10, 16), (3, 6), True, True, (60, 90),
                   "finance", "Nice car"),
    "walk_in": ("walk_in", ["walk_in", "phone"], (0, 1), (0, 0), True, True, (1, 4), "cash", "Quick and easy"),
    "social": ("social", ["social", "social", "display"], (1, 3), (0, 0), False, False, None, None,
               "Terrible price, awful"),
}


def planted_tables(per_profile=60, seed=0, silent=3):
    """Customers simulated from PROFILES (demographics pure noise) plus `silent` customers with no events."""
    rng = np.random.default_rng(seed)
    customers, journeys, events, sales, surveys, truth = [], [], [], [], [], {}
    for name, (acquisition, channels, vdp, bap, drive, buys, days, finance, comment) in PROFILES.items():
        for i in range(per_profile):
            cid = f"{name[:3]}{i:03d}"
            truth[cid] = name
            customers.append({"customer_id": cid, "birth_year": int(rng.integers(1950, 2000)),
                              "gender": rng.choice(["f", "m"]), "income_band": rng.choice(["low", "mid", "high"]),
                              "dealer_id": rng.choice(["D1", "D2", "D3"])})
            start = AS_OF - pd.Timedelta(days=200 + int(rng.integers(0, 30)))
            log = [(acquisition, "site_visit" if acquisition != "walk_in" else "showroom_visit")]
            log += [(channels[j % len(channels)], "site_visit") for j in range(int(rng.integers(2, 5)))]
            log += [("website", "vdp_view")] * int(rng.integers(vdp[0], vdp[1] + 1))
            log += [("website", "build_and_price")] * int(rng.integers(bap[0], bap[1] + 1))
            if drive:
                log.append(("walk_in", "test_drive"))
            for j, (channel, event) in enumerate(log):
                stage = "awareness" if event == "site_visit" else "consideration"
                events.append({"customer_id": cid, "occurred_at": start + pd.Timedelta(hours=j), "event_type": event,
                               "channel": channel, "stage": stage, "source": "touchpoints"})
            purchased_days = float(rng.integers(days[0], days[1] + 1)) if buys else np.nan
            if buys:
                sales.append({"deal_id": f"d{cid}", "customer_id": cid,
                              "sold_at": start + pd.Timedelta(days=purchased_days), "finance_type": finance})
            journeys.append({
                "customer_id": cid, "touchpoints": len(log) + int(buys), "acquisition_channel": acquisition,
                "channels": len(set(c for c, _ in log)), "purchased": buys,
                "days_to_purchase": purchased_days if buys else float((AS_OF - start).days),
                "first_test_drive_at": start + pd.Timedelta(hours=len(log)) if drive else pd.NaT,
            })
            surveys.append({"response_id": f"r{cid}", "customer_id": cid, "survey_type": "sales",
                            "score": 3 if name == "social" else 9, "comment": comment})
    for i in range(silent):
        cid = f"zzz{i:03d}"
        customers.append({"customer_id": cid, "birth_year": None, "gender": None, "income_band": None,
                          "dealer_id": None})
        journeys.append({"customer_id": cid, "touchpoints": 0, "acquisition_channel": None, "channels": 0,
                         "purchased": False, "days_to_purchase": np.nan, "first_test_drive_at": pd.NaT})
    frames = {
        "customers": pd.DataFrame(customers), "journeys": pd.DataFrame(journeys),
        "touchpoints": pd.DataFrame(events), "sales": pd.DataFrame(sales), "surveys": pd.DataFrame(surveys),
        "dealers": pd.DataFrame({"dealer_id": ["D1", "D2", "D3"], "timezone": ["UTC"] * 3,
                                 "name": ["North", "South", "West"], "region": ["North", "South", None]}),
    }
    return frames, pd.Series(truth)


@pytest.fixture(scope="module")
def planted():
    frames, truth = planted_tables()
    return personas.customer_features(**frames, as_of=AS_OF), truth


def _ari(labels, truth):
    from sklearn.metrics import adjusted_rand_score

    return adjusted_rand_score(truth.reindex(labels.index), labels)


def test_features_are_computed_from_the_tables(planted):
    features, _ = planted
    walk_in = features.loc["wal000"]
    assert walk_in["acquisition_channel"] == "walk_in" and walk_in["finance_type"] == "cash"
    assert walk_in["build_and_price"] == 0 and walk_in["test_drive"] == 1.0
    assert 1 <= walk_in["days_to_purchase"] <= 4
    social = features.loc["soc000"]
    assert np.isnan(social["days_to_purchase"]) and social["finance_type"] == "none"
    assert social["pain_price"] == 1.0 and social["social_share"] > 0.3
    assert features.loc["res000", "social_share"] == 0.0 and features.loc["res000", "pain_price"] == 0.0
    birth_years = planted_tables()[0]["customers"].set_index("customer_id")["birth_year"]
    assert (features.loc["res000":"soc059", "age"] == 2024 - birth_years.loc["res000":"soc059"]).all()
    assert features.loc["zzz000", "touchpoints"] == 0 and features.loc["zzz000", "gender"] == "missing"


def test_age_is_as_of_year_minus_birth_year_and_implausible_ages_are_missing():
    customers = pd.DataFrame({"birth_year": [1980, 1800, None, 2020]})
    ages = personas.features._age(customers, AS_OF)
    assert ages.iloc[0] == 44 and ages.iloc[1:].isna().all()


def test_k_is_chosen_by_silhouette_and_the_planted_segments_are_recovered(planted):
    features, truth = planted
    fit = personas.fit_clusters(features, k_min=2, k_max=6, seed=0)
    assert fit["k"] == 3
    assert fit["k_table"]["chosen"].sum() == 1
    assert fit["k_table"].set_index("k")["silhouette"].idxmax() == 3
    assert _ari(fit["labels"], truth) > 0.95
    assert "zzz000" not in fit["labels"].index  # no events, not clustered


def test_fitting_on_a_sample_still_assigns_everyone(planted):
    features, truth = planted
    fit = personas.fit_clusters(features, k=3, seed=0, fit_size=45)
    assert len(fit["labels"]) == 180
    assert _ari(fit["labels"], truth) > 0.9


def test_planted_segments_are_stable_across_seeds(planted):
    features, _ = planted
    table = personas.stability(features, k=3, seeds=[1, 2, 3])
    assert table["seed"].tolist() == [1, 2, 3]
    assert table["ari"].min() > 0.95


def test_planted_segments_get_the_rule_names(planted):
    features, truth = planted
    result = personas.assign_personas(features, seed=0, k_min=2, k_max=6).set_index("customer_id")["persona"]
    crosstab = pd.crosstab(truth, result.reindex(truth.index))
    named = crosstab.idxmax(axis=1).to_dict()
    assert named == {"researcher": "digital_researcher", "walk_in": "walk_in_decider", "social": "social_browser"}
    assert (result[result.index.str.startswith("zzz")] == personas.UNCLASSIFIED).all()


def test_same_seed_same_personas(planted):
    features, _ = planted
    first = personas.assign_personas(features, seed=4)
    second = personas.assign_personas(features, seed=4)
    pd.testing.assert_frame_equal(first, second)


def test_names_are_unique_when_two_clusters_fit_one_rule():
    z = pd.DataFrame({"vdp_views": [2.0, 1.8, -1.0], "build_and_price": [2.0, 1.9, -1.0],
                      "digital_share": [1.0, 1.0, -1.0], "channels": [0.0, 0.3, 0.1],
                      "in_person_share": 0.0, "acquisition_channel=walk_in": 0.0, "days_to_purchase": 0.0},
                     index=[0, 1, 2])
    names = personas.name_clusters(z)
    assert names[0] == "digital_researcher"
    assert len(set(names.values())) == 3
    # No other rule scores >= 0.5 here, so the others are named in plain words after their most distinctive feature.
    assert names[1] == "build_and_price_users" and names[2] == "light_vehicle_page_viewers"


def test_a_weak_match_gets_a_plain_words_name_not_a_rule_name():
    z = pd.DataFrame({"vdp_views": [0.2], "build_and_price": [0.1], "digital_share": [0.3], "age": [-1.5]})
    assert personas.name_clusters(z) == {0: "younger_shoppers"}


def test_plain_names_skip_names_already_taken():
    z_row = pd.Series({"age": 2.0, "channels": -1.0})
    assert personas.naming._descriptive_name(z_row, {"older_shoppers"}) == "few_channel_shoppers"
    assert personas.naming._descriptive_name(z_row, {"older_shoppers", "few_channel_shoppers"}) == "segment_2"
    assert personas.naming._descriptive_name(pd.Series({"age": 0.0}), set()) == "segment_2"


@pytest.mark.parametrize("feature, above, name", [
    ("digital_share", True, "mostly_digital_shoppers"),
    ("in_person_share", False, "rarely_in_person_shoppers"),
    ("days_to_purchase", False, "quick_deciders"),
    ("pain_price", True, "price_complainers"),
    ("acquisition_channel=third_party", True, "third_party_leads"),
    ("income_band=<50k", True, "under_50k_earners"),
    ("income_band=150k+", False, "few_150k_plus_earners"),
    ("income_band=50.5k+", True, "50_5k_plus_earners"),
    ("finance_type=none", True, "non_buyers"),
    ("gender=f", True, "mostly_women"),
    ("gender=missing", True, "mostly_unknown_gender"),
    ("region=Mid West", True, "mostly_mid_west_customers"),
    ("loyalty_tier=Gold Plus", True, "mostly_loyalty_tier_gold_plus"),
    ("some new feature", False, "less_some_new_feature"),
])
def test_plain_names_read_as_words_and_are_safe_metrics_keys(feature, above, name):
    assert personas.plain_name(feature, above) == name
    assert re.fullmatch(r"[0-9a-z]+(_[0-9a-z]+)*", name)


def test_every_indicator_of_the_features_has_a_plain_name_in_both_directions(planted):
    features, _ = planted
    for feature in personas.naming.indicator_frame(features).columns:
        high, low = personas.plain_name(feature, True), personas.plain_name(feature, False)
        stem = re.sub(r"[^0-9a-z]+", "_", feature.lower()).strip("_")
        assert high != low and high != f"high_{stem}" and low != f"low_{stem}"  # words, not the feature's name
        assert all(re.fullmatch(r"[0-9a-z]+(_[0-9a-z]+)*", name) for name in (high, low))


def _write_processed(folder, frames):
    folder.mkdir(parents=True)
    for name, frame in frames.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    (folder / "summary.json").write_text(json.dumps({"as_of": AS_OF.isoformat()}), encoding="utf-8")


def test_write_personas_writes_one_row_per_customer(tmp_path):
    frames, truth = planted_tables(per_profile=40, silent=2)
    _write_processed(tmp_path / "processed", frames)
    written = personas.write_personas(tmp_path / "processed", seed=0)
    table = pd.read_parquet(tmp_path / "processed" / "personas.parquet")
    assert table["customer_id"].tolist() == sorted(frames["customers"]["customer_id"])
    assert table["customer_id"].is_unique and table["persona"].notna().all()
    assert (table["persona"].value_counts()[personas.UNCLASSIFIED]) == 2
    assert set(table["persona"]) == {"digital_researcher", "walk_in_decider", "social_browser", "unclassified"}
    pd.testing.assert_frame_equal(written.reset_index(drop=True), table.astype(object), check_dtype=False)


def test_region_comes_from_the_customers_dealer_and_is_missing_where_unknown(planted):
    features, _ = planted
    frames, _ = planted_tables()
    dealer = frames["customers"].set_index("customer_id")["dealer_id"]
    expected = dealer.map({"D1": "North", "D2": "South"}).fillna("missing")
    pd.testing.assert_series_equal(features["region"], expected.reindex(features.index), check_names=False)
    assert "region" in personas.CATEGORICAL_FEATURES


def test_persona_profile_summarises_each_persona(planted):
    features, truth = planted
    table = pd.DataFrame({"customer_id": truth.index, "persona": truth.to_numpy()})
    profile = personas.persona_profile(features, table)
    assert profile["customers"].sum() == 180 and profile["share"].sum() == pytest.approx(1.0)
    assert profile.loc["social", "conversion"] == 0.0 and profile.loc["walk_in", "conversion"] == 1.0
    assert profile.loc["social", "top_pain_points"] == "price"
    assert profile.loc["walk_in", "top_pain_points"] == "none"
    assert profile.loc["walk_in", "top_finance_type"] == "cash"
    assert profile.loc["researcher", "top_acquisition_channel"] == "search"
    assert profile.loc["walk_in", "median_days_to_purchase"] <= 4


# ---------------------------------------------------------------- the default sample (`journey sample` defaults)

SIZE_TOLERANCE = 0.10  # a recovered persona's size may differ from the planted count by 10%


@pytest.fixture(scope="module")
def default_sample(tmp_path_factory):
    """The `journey sample` defaults, prepared; prepare_data also writes personas.parquet (seed 0, k 2..8)."""
    from journeylib.prepare.cache import prepare_data
    from journeylib.sample import write_sample

    folder = tmp_path_factory.mktemp("sample")
    write_sample(folder / "raw", customers=2000, seed=7)
    prepare_data(raw=folder / "raw", processed=folder / "processed", log=lambda message: None)
    truth = json.loads((folder / "raw" / "truth.json").read_text(encoding="utf-8"))["personas"]["counts"]
    sizes = pd.read_parquet(folder / "processed" / "personas.parquet")["persona"].value_counts().to_dict()
    return sizes, truth


def _close(size, planted):
    return abs(size - planted) <= SIZE_TOLERANCE * planted


def test_default_sample_recovers_the_separable_personas_and_names_the_rest_in_words(default_sample):
    """What the default sample gives: walk-in deciders and social browsers with their rule names and sizes;
    digital researchers and deal hunters together as one persona with a plain-words name (their planted
    differences overlap too much for any k criterion to split them: docs/personas_and_feedback.md)."""
    sizes, truth = default_sample
    assert _close(sizes["walk_in_decider"], truth["walk_in_decider"])
    assert _close(sizes["social_browser"], truth["social_browser"])
    merged = {name: size for name, size in sizes.items() if name not in personas.NAMING_RULES}
    assert merged == {"mostly_digital_shoppers": merged.get("mostly_digital_shoppers")}
    assert _close(merged["mostly_digital_shoppers"], truth["digital_researcher"] + truth["deal_hunter"])


@pytest.mark.xfail(strict=True, reason="deal hunters overlap digital researchers: silhouette (and every other "
                                       "k criterion tried) picks 3 personas on the default sample; see the docs")
def test_default_sample_finds_the_four_planted_personas_with_their_names_and_sizes(default_sample):
    sizes, truth = default_sample
    assert set(truth) <= set(sizes)
    assert all(_close(sizes[name], count) for name, count in truth.items())


# ---------------------------------------------------------------- sparse levels and tiny exports (issue 11)


def test_rare_categories_are_pooled_and_named(planted):
    frames, _ = planted_tables(per_profile=40, silent=2)
    frames["journeys"].loc[:4, "acquisition_channel"] = "sms"  # five customers on a rare channel
    features = personas.customer_features(**frames, as_of=AS_OF)
    assert features.attrs["levels_pooled"]["acquisition_channel"] == ["sms"]
    assert "sms" not in set(features["acquisition_channel"])
    assert (features["acquisition_channel"] == "other").sum() == 5
    kept = personas.customer_features(**frames, as_of=AS_OF, min_level_customers=1)
    assert (kept["acquisition_channel"] == "sms").sum() == 5


def test_pooling_a_rare_category_leaves_the_other_personas_as_they_were(planted):
    frames, _ = planted_tables(per_profile=60)
    base = personas.assign_personas(personas.customer_features(**frames, as_of=AS_OF)).set_index("customer_id")
    frames["customers"].loc[:2, "income_band"] = "very_rare"  # three customers: pooled into "other"
    pooled = personas.assign_personas(personas.customer_features(**frames, as_of=AS_OF)).set_index("customer_id")
    others = base.index[3:]
    assert _ari(pooled.loc[others, "persona"], base.loc[others, "persona"]) > 0.95


def test_too_few_customers_leave_everyone_unclassified(tmp_path):
    frames, _ = planted_tables(per_profile=3, silent=1)
    _write_processed(tmp_path / "processed", frames)
    written = personas.write_personas(tmp_path / "processed", seed=0)
    assert set(written["persona"]) == {personas.UNCLASSIFIED} and len(written) == 3 * len(PROFILES) + 1
    features = personas.customer_features(**frames, as_of=AS_OF)
    with pytest.raises(personas.NotEstimable, match="too few|personas need"):
        personas.fit_clusters(features)


def test_personas_build_without_dealers_or_surveys(tmp_path):
    frames, _ = planted_tables(per_profile=30)
    frames["dealers"] = frames["dealers"].iloc[:0]
    frames["surveys"] = frames["surveys"].iloc[:0]
    _write_processed(tmp_path / "processed", frames)
    written = personas.write_personas(tmp_path / "processed", seed=0)
    assert written["persona"].notna().all() and len(set(written["persona"])) >= 2


# ---------------------------------------------------------------- the entry point (issue 13)

from journeylib.tables import ProcessedTables  # noqa: E402


@pytest.fixture(scope="module")
def planted_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("planted") / "processed"
    frames, truth = planted_tables()
    _write_processed(folder, frames)
    personas.write_personas(folder, seed=0)
    return folder, truth


@pytest.mark.parametrize("values, message", [
    ({"seed": -1}, "parameter seed=-1: expected a non-negative integer"),
    ({"stability_seeds": 2.5}, "parameter stability_seeds=2.5"),
    ({"quotes_per_theme": True}, "parameter quotes_per_theme=True"),
    ({"k_min": 1}, "parameter k_min=1: expected a whole number >= 2"),
    ({"k_min": 5, "k_max": 4}, "parameter k_max=4: expected a whole number >= k_min (5)"),
])
def test_params_refuse_bad_values_with_the_notebooks_message(values, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        personas.Params(**values)


def test_params_pick_their_fields_from_a_notebooks_globals():
    params = personas.Params.from_values({"seed": 3, "k_max": 6, "processed_dir": None, "run_dir": "x"})
    assert (params.seed, params.k_max, params.k_min) == (3, 6, 2)


def test_analyse_recovers_the_planted_personas_and_complaints(planted_folder):
    folder, truth = planted_folder
    result = personas.analyse(ProcessedTables(folder), personas.Params(k_max=6, stability_seeds=3))
    metrics = result.metrics()
    assert set(metrics) == set(personas.SECTION) == {"personas", "feedback"}
    section = metrics["personas"]
    assert section["count"] == 3 and result.k_ == 3 and section["k_chosen_by"] == "silhouette"
    assert section["sizes"] == {"digital_researcher": 60, "walk_in_decider": 60, "social_browser": 60,
                                personas.UNCLASSIFIED: 3}
    assert section["conversion"]["social_browser"] == 0.0 and section["conversion"]["walk_in_decider"] == 1.0
    assert section["stability"]["min_ari"] > 0.95 and result.stored_agreement_ > 0.999
    assert list(result.stability_.columns) == ["seed", "ari"] and len(result.stability_) == 3
    feedback = metrics["feedback"]
    assert feedback["comments"] == 180 and feedback["themes"]["price"]["mentions"] == 60
    assert feedback["pain_points"] == {"price": 60}  # the social browsers' "Terrible price, awful"
    assert feedback["themes"]["delivery"] == {"mentions": 0, "mean_sentiment": None}
    persona, theme, share = result.hottest_pain()
    assert (persona, theme, share) == ("social_browser", "price", 100.0)
    assert result.quotes_ == {"price": ["Terrible price, awful"]}


def test_analyse_refuses_a_stale_persona_table(tmp_path):
    frames, _ = planted_tables(per_profile=30)
    _write_processed(tmp_path / "processed", frames)
    personas.write_personas(tmp_path / "processed", seed=0)
    table = pd.read_parquet(tmp_path / "processed" / "personas.parquet")
    table.iloc[1:].to_parquet(tmp_path / "processed" / "personas.parquet", index=False)
    with pytest.raises(ValueError, match="1 customers have no persona: personas.parquet is stale"):
        personas.analyse(ProcessedTables(tmp_path / "processed"))


def test_analyse_without_personas_or_comments_says_why_in_the_metrics(tmp_path):
    frames, _ = planted_tables(per_profile=3, silent=1)
    frames["surveys"]["comment"] = None
    _write_processed(tmp_path / "processed", frames)
    personas.write_personas(tmp_path / "processed", seed=0)
    result = personas.analyse(ProcessedTables(tmp_path / "processed"))
    metrics = result.metrics()
    assert metrics["personas"]["count"] == 0 and metrics["personas"]["stability"]["mean_ari"] is None
    assert "personas need at least 20" in metrics["personas"]["missing"]["stability.mean_ari"]
    assert result.k_table_ is None and result.profile_ is None
    assert metrics["feedback"]["comments"] == 0 and metrics["feedback"]["mean_sentiment"] is None
    assert metrics["feedback"]["missing"]["mean_sentiment"].startswith("No survey comments")
    assert "pain_points" not in metrics["feedback"] and result.pain_points_ is None


def test_the_chosen_k_model_is_the_final_model(planted):
    features, _ = planted
    chosen = personas.fit_clusters(features, k_min=2, k_max=6, seed=0)
    fixed = personas.fit_clusters(features, k=chosen["k"], seed=0)
    pd.testing.assert_series_equal(chosen["labels"], fixed["labels"])


def test_stability_refits_on_at_most_the_fitting_size(planted, monkeypatch):
    features, _ = planted
    sizes = []
    from sklearn.cluster import KMeans  # personas.clusters imports it where it fits

    fit = KMeans.fit

    def recording_fit(self, matrix, *args, **kwargs):
        sizes.append(len(matrix))
        return fit(self, matrix, *args, **kwargs)

    monkeypatch.setattr(KMeans, "fit", recording_fit)
    table = personas.stability(features, k=3, seeds=[1, 2], fit_size=50)
    assert sizes == [50, 50, 50]  # the reference fit, then one refit per seed
    assert table["ari"].min() > 0.9
    sizes.clear()
    personas.stability(features, k=3, seeds=[1], fit_size=10_000)
    assert sizes == [180, int(0.8 * 180)]  # small exports: the reference on everyone, refits on 80%


def test_the_stored_k_choice_gives_the_metrics_a_refit_gives(planted_folder, tmp_path):
    folder, _ = planted_folder
    params = personas.Params(k_max=6, stability_seeds=2)
    personas.write_personas(folder, seed=0, k_max=6)  # prepare with these settings: the notebook reads its choice
    assert personas.table.stored_k_choice(ProcessedTables(folder), 0, 2, 6, 20)[0] == 3
    assert personas.table.stored_k_choice(ProcessedTables(folder), 1, 2, 6, 20) is None  # another seed: refit
    stored = personas.analyse(ProcessedTables(folder), params)
    plain = tmp_path / "plain"
    shutil.copytree(folder, plain)
    table = pd.read_parquet(plain / "personas.parquet")
    table.to_parquet(plain / "personas.parquet", index=False)  # the same table without the stored choice
    assert personas.table.stored_k_choice(ProcessedTables(plain), 0, 2, 6, 20) is None
    refit = personas.analyse(ProcessedTables(plain), params)
    assert stored.metrics() == refit.metrics()
    pd.testing.assert_frame_equal(stored.k_table_, refit.k_table_)
    personas.write_personas(folder, seed=0)  # back to the fixture's table


# --- the takeaways notebook 05 shows: methods of the result ---------------------------------------------

def test_persona_sentences_on_the_planted_personas(planted_folder):
    folder, _ = planted_folder
    result = personas.analyse(ProcessedTables(folder), personas.Params(k_max=6, stability_seeds=3))
    assert result.customers_sentence() == (f"183 customers as of {date_text(result.as_of)}; 180 with at least one event "
                                           "are segmented.")
    assert result.k_sentence().startswith("3 personas separate customers best (silhouette ")
    assert result.k_sentence().endswith("Agreement with the stored personas: adjusted Rand index 1.00 (identical).")
    assert result.stability_sentence().startswith("The personas are stable: mean ARI 1.00 over 3 refits")
    assert result.sizes_sentence().startswith("3 personas; the largest, ")
    assert result.sizes_sentence().endswith("holds 32.8% of customers.")
    assert result.unclassified_sentence() == "3 customers have no events yet and are unclassified."
    persona, feature, z = result.sharpest_difference()
    assert result.difference_sentence() == (f"The sharpest difference: {personas_label(persona)} on "
                                            f"{personas_label(feature)} ({z:+.1f} standard deviations from the "
                                            "average customer).")
    assert result.top_pain_sentence() == "The top pain point is price: 60 negative mentions, 33.3% of all comments."
    assert result.hottest_pain_sentence() == ("The most concentrated pain: price for social browser (100% of their "
                                              "comments).")
    assert [heading for heading, _ in result.pain_point_quotes()] == [
        f"1. Price: 60 negative mentions (mean sentiment {result.themes_.loc['price', 'mean_sentiment']:+.2f})"]
    metrics = result.metrics()
    assert metrics["feedback"]["top_pain_share"] == {"theme": "price", "negative_mentions": 60,
                                                     "share_of_comments": 60 / 180}
    assert metrics["feedback"]["hottest_pain"] == {"persona": "social_browser", "theme": "price", "per_100_comments": 100.0}
    assert metrics["personas"]["customers"] == 183 and metrics["personas"]["classified"] == 180
    assert metrics["personas"]["k_choice"]["k"] == 3 and metrics["personas"]["k_choice"]["stored_agreement"] == 1.0
    assert metrics["personas"]["sharpest_difference"] == {"persona": persona, "feature": feature, "z": z}
    for sentence in (result.themes_sentence(), result.gap_sentence(), result.band_sentiment_sentence()):
        assert "_" not in sentence and "nan" not in sentence


def personas_label(code: str) -> str:
    from journeylib.labels import label

    return label(code).lower()


def test_persona_sentences_say_why_when_there_are_no_personas_or_comments(tmp_path):
    frames, _ = planted_tables(per_profile=3, silent=1)
    frames["surveys"]["comment"] = None
    _write_processed(tmp_path / "processed", frames)
    personas.write_personas(tmp_path / "processed", seed=0)
    result = personas.analyse(ProcessedTables(tmp_path / "processed"))
    reason = result.missing_["personas"]
    for method in (result.k_sentence, result.stability_sentence, result.sizes_sentence, result.unclassified_sentence,
                   result.difference_sentence):
        assert method() == f"No personas: {reason}"
    for method in (result.themes_sentence, result.gap_sentence, result.band_sentiment_sentence,
                   result.top_pain_sentence, result.hottest_pain_sentence):
        assert method() == result.missing_["comments"] == "No survey comments in this export: no themes, sentiment or pain points."
    assert result.pain_point_quotes() == []
    metrics = result.metrics()
    assert metrics["feedback"]["top_pain_share"] is None and metrics["personas"]["k_choice"] is None
    assert "top_pain_share" not in metrics["feedback"].get("missing", {})  # new keys: null, old reasons unchanged


def test_stability_verdict_follows_the_documented_thresholds():
    result = object.__new__(personas.Result)
    for aris, verdict in (([0.9, 0.8], "stable"), ([0.7, 0.6], "moderately stable"), ([0.5, 0.6], "unstable")):
        result.stability_ = pd.DataFrame({"seed": [1, 2], "ari": aris})
        assert result.stability_verdict() == verdict
