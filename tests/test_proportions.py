"""The one Wilson interval the funnel, churn and advocacy analyses share."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from journeylib.proportions import wilson_interval


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
