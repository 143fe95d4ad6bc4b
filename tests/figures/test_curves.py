"""Figures that draw step curves: bounded points, exact values where they are read."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from journeylib.figures.curves import MAX_POINTS, draw_km, thinned


def test_a_thinned_step_function_is_exact_where_it_is_read_and_keeps_both_ends():
    times = np.sort(np.random.default_rng(1).uniform(0, 365, 50_000))
    step = pd.DataFrame({"value": np.arange(len(times), dtype=float)}, index=times)
    small = thinned(step, 500)
    assert 400 < len(small) <= 501
    assert small.index[0] == times[0] and small.index[-1] == times[-1]
    # at each of the evenly spaced times it was read at, the kept rows give the full function's value
    grid = np.linspace(times[0], times[-1], 500)
    full = step["value"].to_numpy()[np.searchsorted(times, grid, side="right") - 1]
    kept = small["value"].to_numpy()[np.searchsorted(small.index.to_numpy(), grid, side="right") - 1]
    np.testing.assert_array_equal(kept, full)
    at = small.index.to_numpy()
    np.testing.assert_array_equal(small["value"].to_numpy(), step.loc[at, "value"].to_numpy())
    assert thinned(step.iloc[:100], 500) is step.iloc[:100] or len(thinned(step.iloc[:100], 500)) == 100


def test_a_million_event_km_is_drawn_with_a_bounded_number_of_points():
    import matplotlib.pyplot as plt
    from lifelines import KaplanMeierFitter

    rng = np.random.default_rng(2)
    km = KaplanMeierFitter().fit(rng.exponential(90, 200_000), rng.random(200_000) < 0.7, label="leads")
    fig, ax = plt.subplots()
    line = draw_km(ax, km, "cumulative")
    x, y = line.get_data()
    assert len(x) <= MAX_POINTS + 1 and line.get_label() == "leads"
    # every drawn point lies on the fitted curve
    np.testing.assert_allclose(y, km.cumulative_density_.loc[x].iloc[:, 0].to_numpy())
    with pytest.raises(ValueError, match="kind"):
        draw_km(ax, km, "hazard")
    plt.close(fig)


def test_one_satisfaction_band_draws_without_a_warning_in_the_report():
    """A header-only surveys export leaves one band; a one-element Series as an error bar made matplotlib
    print a FutureWarning into the reviewer report."""
    import warnings

    import matplotlib.pyplot as plt

    from journeylib.figures import advocacy

    rates = pd.DataFrame({"satisfaction": ["no_response"], "per_buyer_year": [0.22], "ci_low": [0.19],
                          "ci_high": [0.25]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = advocacy.referrals_per_buyer(pd.DataFrame({"referrals": [0, 1, 2, 0]}), rates)
    bars = fig.axes[1].patches
    assert len(bars) == 1 and bars[0].get_height() == pytest.approx(0.22)
    plt.close(fig)


def test_error_bars_are_float_arrays_below_and_above_the_estimate():
    from journeylib.figures.style import error_bars

    table = pd.DataFrame({"rate": [0.3, 0.5], "ci_low": [0.2, 0.45], "ci_high": [0.35, 0.6]})
    centre, (below, above) = error_bars(table, "rate")
    assert isinstance(centre, np.ndarray) and centre.dtype == float
    np.testing.assert_allclose(below, [0.1, 0.05])
    np.testing.assert_allclose(above, [0.05, 0.1])


def test_one_level_churn_panel_draws_without_a_warning():
    import warnings

    import matplotlib.pyplot as plt

    from journeylib.figures import retention

    rates = pd.DataFrame({"feature": ["satisfaction"], "level": ["no_response"], "buyers": [930],
                          "churn_rate": [0.28], "ci_low": [0.25], "ci_high": [0.31]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = retention.rate_panels(rates, 0.28, {"satisfaction": "satisfaction"}, "Churn")
    plt.close(fig)


def test_one_group_purchase_share_panel_draws_without_a_warning():
    """A few dozen customers can leave one acquisition channel: its one-row table drew a FutureWarning."""
    import warnings

    import matplotlib.pyplot as plt

    from journeylib.figures import journey

    one = pd.DataFrame({"segment": ["walk_in"], "share_of_segment": [0.4], "ci_low": [0.25], "ci_high": [0.57]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = journey.purchase_share_panels({"acquisition_channel": one})
    (bars,) = [c for c in fig.axes[0].containers]
    x, _ = bars.lines[0].get_data()
    assert list(x) == [0.4]
    plt.close(fig)


def test_a_shown_figure_carries_its_title_and_axes_as_alt_text(monkeypatch):
    import matplotlib.pyplot as plt

    from journeylib import figures

    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    ax.set_title("Leads per month", loc="left")
    ax.set_xlabel("month")
    ax.set_ylabel("leads ($)")
    assert figures.describe(fig) == "Chart. Leads per month; x axis: month; y axis: leads ()."
    figures.show(fig)
    assert shown[-1]._repr_png_()[1] == {"alt": "Chart. Leads per month; x axis: month; y axis: leads ()."}
    assert not plt.get_fignums()  # closed
    fig, _ = plt.subplots()
    figures.show(fig, alt="An empty chart: nothing to draw.")
    assert shown[-1]._repr_png_()[1] == {"alt": "An empty chart: nothing to draw."}
    fig, _ = plt.subplots()
    assert figures.describe(fig) == "Chart without a title."
    plt.close(fig)
