"""The comparisons: per measure and group, the latest complete period against the baseline periods.

Sparse-level rule (as `journeylib.stats.levels` does for the models): all units together need
the same minimum sizes, else the measure is not compared; a group with fewer
than `min_latest` units in the latest period or `min_baseline` in the baseline is
pooled into 'other' (compared when 'other' is big enough, else left out); a group
present in only one of the two is named in a sentence, not compared.

Shares and counts are also compared with the same period a year earlier (`year_ago` columns) when the data
reaches back that far, so a seasonal swing can be told from a change (journeylib.changes.screen).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from journeylib.changes.cohorts import Measure, Population, nps_counts, period_days
from journeylib.stats.levels import OTHER_LEVEL

ALL = "all"
YEAR_LAG = {"month": 12, "week": 52}  # periods back to the same period a year earlier
YEAR_AGO_COLUMNS = ("year_ago_period", "year_ago_before", "year_ago_estimate", "year_ago_p", "n_year_ago")


COMPARISON_COLUMNS = ("measure", "label", "kind", "population", "group_by", "group", "members", "estimate", "ci_low",
                      "ci_high", "p", "before", "after", "n_before", "n_after", "latest_period", "baseline_from",
                      "baseline_to", "main")
NUMERIC_COLUMNS = ["estimate", "ci_low", "ci_high", "p", "before", "after", "year_ago_before", "year_ago_estimate",
                   "year_ago_p", "n_year_ago"]


def baseline_window(pop: Population, baseline_periods: int) -> list:
    """The baseline periods before the latest one, never before the population's first period."""
    first = pop.first
    if first is None:
        return []
    return [pop.latest - i for i in range(baseline_periods, 0, -1) if pop.latest - i >= first]


def _units(pop: Population, measure: Measure) -> pd.DataFrame:
    frame = pop.frame
    if measure.among is not None:
        frame = frame[frame[measure.among]]
    return frame


def _summary(rows: pd.DataFrame, measure: Measure) -> tuple:
    """What a test needs from a set of rows: (successes, n) | (promoters, detractors, n) | (count,)."""
    if measure.kind == "share":
        return int(rows[measure.success].sum()), len(rows)
    if measure.kind == "nps":
        return nps_counts(rows["score"])
    return (len(rows),)


def _size(summary: tuple) -> int:
    return summary[-1] if len(summary) > 1 else summary[0]


def _effect(measure: Measure, latest: tuple, base: tuple, latest_days: float, base_days: float) -> dict:
    from journeylib.stats import comparisons  # scipy: imported when a comparison is made

    if measure.kind == "share":
        return comparisons.proportion_change(latest[0], latest[1], base[0], base[1])
    if measure.kind == "nps":
        return comparisons.nps_change(latest, base)
    return comparisons.rate_change(latest[0], latest_days, base[0], base_days)


def year_ago_period(pop: Population, lag: int | None):
    """The same period a year before the latest one, when the data reaches back that far; else None."""
    if not lag or pop.first is None or pop.latest - lag < pop.first:
        return None
    return pop.latest - lag


def _year_ago(measure: Measure, latest: tuple, part: pd.DataFrame, period, min_latest: int,
              latest_days: float) -> dict:
    """The latest period against the same period a year earlier (shares and counts only)."""
    empty = dict.fromkeys(YEAR_AGO_COLUMNS)
    if period is None or measure.kind == "nps":
        return empty
    then = _summary(part, measure)
    if measure.kind == "share" and (then[1] < min_latest or latest[1] == 0):
        return empty
    from journeylib.stats import comparisons

    if measure.kind == "share":
        found = comparisons.proportion_change(latest[0], latest[1], then[0], then[1])
    else:
        found = comparisons.rate_change(latest[0], latest_days, then[0], period_days([period]))
        if not np.isfinite(found["estimate"]):
            return empty
    return {"year_ago_period": str(period), "year_ago_before": found["before"],
            "year_ago_estimate": found["estimate"], "year_ago_p": found["p"], "n_year_ago": _size(then)}


def effect_of(pop: Population, measure: Measure, baseline_periods: int, keep: pd.Series | None = None) -> dict | None:
    """The latest period against the baseline for the units where `keep` holds (all units without it):
    what is left of a change once another group's units are set aside (journeylib.changes.nesting)."""
    window = baseline_window(pop, baseline_periods)
    units = _units(pop, measure)
    if keep is not None:
        units = units[keep.reindex(units.index, fill_value=False)]
    s1 = _summary(units[units["period"] == pop.latest], measure)
    s0 = _summary(units[units["period"].isin(window)], measure)
    if not window or _size(s0) == 0 or (measure.kind != "count" and _size(s1) == 0):
        return None
    return _effect(measure, s1, s0, period_days([pop.latest]), period_days(window))


def compare_measure(pop: Population, measure: Measure, baseline_periods: int, min_latest: int, min_baseline: int,
                    year_lag: int | None = None):
    """(rows, skipped): one row per comparison made; skipped = {kind: [group labels]} for the sentences.
    With `year_lag`, shares and counts are also compared with the period that many periods earlier."""
    window = baseline_window(pop, baseline_periods)
    skipped = {"only_latest": [], "only_baseline": [], "pooled": [], "left_out": [], "overall_small": []}
    if not window:
        return [], skipped
    units = _units(pop, measure)
    latest = units[units["period"] == pop.latest]
    base = units[units["period"].isin(window)]
    then = year_ago_period(pop, year_lag)
    year_ago = units[units["period"] == then] if then is not None else units.iloc[:0]
    latest_days, base_days = period_days([pop.latest]), period_days(window)
    common = {"measure": measure.key, "label": measure.label, "kind": measure.kind, "population": pop.name,
              "unit": pop.unit, "latest_period": str(pop.latest), "baseline_from": str(window[0]),
              "baseline_to": str(window[-1]), "baseline_periods": len(window), "main": measure.main}
    rows = []
    for group_by in measure.group_bys:
        if group_by is None:
            n1, n0 = _size(_summary(latest, measure)), _size(_summary(base, measure))
            small = n0 < min_baseline or (measure.kind != "count" and 0 < n1 < min_latest)
            if small:
                skipped["overall_small"].append((n1, n0))
                continue
            candidates = [(ALL, ALL, [ALL], latest, base)]
        else:
            levels = sorted(set(latest[group_by]) | set(base[group_by]))
            small, candidates = [], []
            for level in levels:
                part1, part0 = latest[latest[group_by] == level], base[base[group_by] == level]
                n1, n0 = _size(_summary(part1, measure)), _size(_summary(part0, measure))
                if measure.kind == "count":
                    if n0 == 0 and n1 > 0:
                        skipped["only_latest"].append((group_by, level))
                    elif n0 < min_baseline:
                        small.append(level)
                    else:
                        candidates.append((group_by, level, [level], part1, part0))
                    continue
                if n0 == 0 and n1 > 0:
                    skipped["only_latest"].append((group_by, level))
                elif n1 == 0 and n0 > 0:
                    skipped["only_baseline"].append((group_by, level))
                elif n1 < min_latest or n0 < min_baseline:
                    small.append(level)
                else:
                    candidates.append((group_by, level, [level], part1, part0))
            if small:
                part1, part0 = latest[latest[group_by].isin(small)], base[base[group_by].isin(small)]
                n1, n0 = _size(_summary(part1, measure)), _size(_summary(part0, measure))
                big_enough = n0 >= min_baseline and (measure.kind == "count" or n1 >= min_latest)
                if big_enough and len(small) > 1:
                    candidates.append((group_by, OTHER_LEVEL, small, part1, part0))
                    skipped["pooled"] += [(group_by, level) for level in small]
                else:
                    skipped["left_out"] += [(group_by, level) for level in small]
        for group_by_name, level, members, part1, part0 in candidates:
            s1, s0 = _summary(part1, measure), _summary(part0, measure)
            if measure.kind != "count" and (_size(s1) == 0 or _size(s0) == 0):
                continue  # nothing in the latest period (said once per measure by the caller)
            part_ago = year_ago if group_by_name == ALL else year_ago[year_ago[group_by_name].isin(members)]
            row = {**common, "group_by": group_by_name, "group": str(level), "members": [str(m) for m in members],
                   **_effect(measure, s1, s0, latest_days, base_days),
                   **_year_ago(measure, s1, part_ago, then, min_latest, latest_days)}
            if measure.kind == "count":
                row["per_period_before"] = s0[0] / len(window)
            rows.append(row)
    return rows, skipped


def series(pop: Population, measure: Measure, group_by, members, periods: list) -> pd.DataFrame:
    """The measure per period (for charts and the trend page), with a 95% interval per period."""
    units = _units(pop, measure)
    if group_by not in (None, ALL):
        units = units[units[group_by].isin(members)]
    out = []
    for period in periods:
        part = units[units["period"] == period]
        summary = _summary(part, measure)
        if measure.kind == "share":
            from journeylib.stats.intervals import wilson_interval

            k, n = summary
            low, high = wilson_interval(k, n) if n else (np.nan, np.nan)
            out.append({"period": str(period), "n": n, "estimate": k / n if n else np.nan, "ci_low": low,
                        "ci_high": high})
        elif measure.kind == "nps":
            from journeylib.stats.intervals import adjusted_wald_nps

            pro, det, n = summary
            nps, low, high = adjusted_wald_nps(pro, det, n)
            out.append({"period": str(period), "n": n, "estimate": nps, "ci_low": low, "ci_high": high})
        else:
            from journeylib.stats.intervals import poisson_rate_interval

            count, low, high = poisson_rate_interval(summary[0], 1.0)
            out.append({"period": str(period), "n": summary[0], "estimate": count, "ci_low": low, "ci_high": high})
    return pd.DataFrame(out, columns=["period", "n", "estimate", "ci_low", "ci_high"])


def comparison_table(rows: list) -> pd.DataFrame:
    """The comparisons (`compare_measure` rows) as one table whose estimates are floats, even when it is empty
    or every estimate is None."""
    table = pd.DataFrame(rows)
    if table.empty:
        table = pd.DataFrame(columns=list(COMPARISON_COLUMNS))
    for column in YEAR_AGO_COLUMNS:
        if column not in table:
            table[column] = None
    table[NUMERIC_COLUMNS] = table[NUMERIC_COLUMNS].apply(pd.to_numeric, errors="coerce").astype("float64")
    return table
