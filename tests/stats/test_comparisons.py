"""The what-changed comparisons' shared constants."""

def test_the_written_out_normal_quantiles_are_scipys():
    from scipy import stats as scipy_stats

    from journeylib.stats import comparisons

    assert comparisons.Z95 == float(scipy_stats.norm.ppf(0.975))
    assert comparisons.POWER_Z == float(scipy_stats.norm.ppf(0.80))
