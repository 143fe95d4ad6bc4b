"""The one Wilson interval the funnel, churn and advocacy analyses share."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from journeylib.stats.intervals import wilson_interval


def test_matches_statsmodels_for_arrays_and_levels():
    for alpha in (0.05, 0.10):
        low, high = wilson_interval([8, 0, 50], [10, 12, 50], alpha=alpha)
        ref_low, ref_high = proportion_confint([8, 0, 50], [10, 12, 50], alpha=alpha, method="wilson")
        assert low == pytest.approx(ref_low) and high == pytest.approx(ref_high)
    assert low[1] == pytest.approx(0) and high[2] == pytest.approx(1)


def test_scalars_give_plain_floats_and_no_trials_give_nan():
    low, high = wilson_interval(3, 10)
    assert type(low) is float and 0 < low < 0.3 < high < 1
    nan_low, nan_high = wilson_interval(0, 0)
    assert np.isnan(nan_low) and np.isnan(nan_high)


def test_wilson_interval_contains_the_estimate_at_zero_and_one():
    # a group at 0% or 100% must give error bars of non-negative length
    low, high = wilson_interval(np.array([0, 7, 3]), np.array([7, 7, 7]))
    p = np.array([0, 7, 3]) / 7
    assert (low <= p).all() and (high >= p).all()
    assert low[0] == 0.0 and high[1] == 1.0
    assert (p - low >= 0).all() and (high - p >= 0).all()


def test_poisson_interval_matches_the_exact_chi_square_bounds():
    from scipy import stats

    from journeylib.stats.intervals import poisson_rate_interval

    rate, low, high = poisson_rate_interval(7, 2.0)
    assert rate == 3.5
    assert low == pytest.approx(stats.chi2.ppf(0.025, 14) / 2 / 2.0)
    assert high == pytest.approx(stats.chi2.ppf(0.975, 16) / 2 / 2.0)
    _, zero_low, zero_high = poisson_rate_interval(0, 1.0)
    assert zero_low == 0.0 and zero_high == pytest.approx(3.689, abs=1e-3)


def test_wald_interval_is_estimate_plus_minus_z_se():
    from journeylib.stats.intervals import Z95, wald_interval

    assert Z95 == pytest.approx(1.959964, abs=1e-6)
    from scipy import stats
    assert Z95 == float(stats.norm.ppf(0.975))  # exactly: metrics.json must not move by a rounding
    assert wald_interval(1.0, 0.5) == pytest.approx((1.0 - 0.5 * Z95, 1.0 + 0.5 * Z95))


def test_ratio_table_exponentiates_and_keeps_required_terms():
    import pandas as pd
    import statsmodels.formula.api as smf

    from journeylib.stats.ratios import ratio_table

    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"group": rng.choice(["a", "b"], 4000)})
    frame["y"] = rng.poisson(np.where(frame["group"] == "b", 2.0, 1.0))
    fit = smf.poisson("y ~ C(group, Treatment('a'))", frame).fit(disp=0)
    name = "C(group, Treatment('a'))[T.b]"
    table = ratio_table(fit, {name: "group:b"}, {"group": "a"}, required=("group:b", "group:c"))
    row = table.set_index("term").loc["group:b"]
    assert row["ci_low"] < 2.0 < row["ci_high"] and row["reference"] == "a"
    assert np.isnan(table.set_index("term").loc["group:c", "ratio"])


def test_importing_the_intervals_does_not_import_scipy_stats():
    import subprocess
    import sys

    code = "import sys, journeylib.stats.intervals; assert 'scipy.stats' not in sys.modules, 'scipy.stats imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
