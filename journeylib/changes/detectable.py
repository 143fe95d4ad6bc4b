"""The smallest change each main measure's overall comparison could have detected (80% power).

Said when nothing is flagged, so "nothing changed" is read with what could have been seen. The level
is q / comparisons: what a lone real change must reach to pass Benjamini-Hochberg.
"""

from __future__ import annotations

import pandas as pd

from journeylib.changes import cohorts, sentences
from journeylib.changes.compare import ALL, baseline_window


def detectable(table: pd.DataFrame, populations: dict, measures: dict, q: float, baseline_periods: int) -> dict:
    """main measure -> {label, kind, value (NaN without an overall comparison), sentence}."""
    from journeylib.stats import comparisons  # scipy, imported where it is used

    alpha = q / max(len(table), 1)
    out = {}
    overall = table[table["group_by"] == ALL]
    for key, measure in measures.items():
        if not measure.main:
            continue
        match = overall[overall["measure"] == key]
        value = float("nan")
        if not match.empty:
            row = match.iloc[0]
            pop = populations[measure.population]
            window = baseline_window(pop, baseline_periods)
            if measure.kind == "share":
                value = comparisons.detectable_share(row["before"], row["n_after"], row["n_before"], alpha)
            elif measure.kind == "nps":
                pro, det, n0 = cohorts.nps_counts(pop.frame.loc[pop.frame["period"].isin(window), "score"])
                value = comparisons.detectable_nps(pro, det, n0, int(row["n_after"]), alpha)
            else:
                value = comparisons.detectable_rate(int(row["n_before"]), cohorts.period_days(window),
                                                    cohorts.period_days([pop.latest]), alpha)
        out[key] = {"label": measure.label, "kind": measure.kind, "value": value,
                    "sentence": sentences.detectable_sentence(measure.label[0].upper() + measure.label[1:],
                                                              measure.kind, value)}
    return out
