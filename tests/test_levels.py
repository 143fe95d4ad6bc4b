import pandas as pd

from journeylib.levels import OTHER_LEVEL, pool_rare


def test_pool_rare_pools_small_levels_keeps_missing_and_kept_levels():
    values = pd.Series(["website"] * 10 + ["sms"] * 2 + ["display"] + ["referral"] + [None])
    recoded, pooled = pool_rare(values, min_count=5, keep={"referral"})
    assert pooled == ["display", "sms"]
    assert recoded.tolist() == ["website"] * 10 + [OTHER_LEVEL] * 3 + ["referral", None]


def test_pool_rare_with_nothing_rare_returns_the_values_unchanged():
    values = pd.Series(["a"] * 5 + ["b"] * 5)
    recoded, pooled = pool_rare(values, min_count=5)
    assert pooled == [] and recoded is values
