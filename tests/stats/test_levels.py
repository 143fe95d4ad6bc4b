import pandas as pd

from journeylib.stats.levels import OTHER_LEVEL, pool_rare, pooled_sentence


def test_pool_rare_pools_small_levels_keeps_missing_and_kept_levels():
    values = pd.Series(["website"] * 10 + ["sms"] * 2 + ["display"] + ["referral"] + [None])
    recoded, pooled = pool_rare(values, min_count=5, keep={"referral"})
    assert pooled == ["display", "sms"]
    assert recoded.tolist() == ["website"] * 10 + [OTHER_LEVEL] * 3 + ["referral", None]


def test_pool_rare_with_nothing_rare_returns_the_values_unchanged():
    values = pd.Series(["a"] * 5 + ["b"] * 5)
    recoded, pooled = pool_rare(values, min_count=5)
    assert pooled == [] and recoded is values


def test_pooled_sentence_names_the_levels_the_minimum_and_the_target():
    assert pooled_sentence("acquisition_channel", ["display", "sms"], 20) == (
        "Acquisition channel: Display ads, Text message had fewer than 20 customers (or no events) and are pooled "
        "into 'Other'.")
    assert pooled_sentence("dealer", ["D9"], 20, target="D1", events="purchases", units="leads") == (
        "Dealer: D9 had fewer than 20 leads (or no purchases) and is pooled into 'D1'.")
    assert pooled_sentence("dealer", ["D9"], 5, events=None) == "Dealer: D9 had fewer than 5 customers and is pooled into 'Other'."


def test_pooled_sentence_reads_codes_as_labels_and_leaves_labels_as_they_are():
    coded = pooled_sentence("satisfaction", ["no_response"], 20)
    assert coded == "Satisfaction: No response had fewer than 20 customers (or no events) and is pooled into 'Other'."
    assert pooled_sentence("Satisfaction", ["No response"], 20, target="Other") == coded  # labelled once, not twice
    assert pooled_sentence("dealer_id", ["(no dealer recorded)", "walk_in"], 20, target="other / website") == (
        "Dealer: (no dealer recorded), Walk-in had fewer than 20 customers (or no events) and are pooled into "
        "'Other / Website'.")
