"""The funnel: who reaches each stage, conversion to the next, monthly cohorts, time between stages.

From the `journeys` table (one row per customer, pandas). A customer reached a
stage iff `<stage>_at` is set; conversion from a stage is the share of those who
reached it who also reached the next one (docs/journey_map.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from journeylib.stats.intervals import wilson_interval
from journeylib.vocabulary import STAGES

STAGE_PAIRS = tuple(zip(STAGES[:-1], STAGES[1:]))


def reached(journeys: pd.DataFrame) -> pd.DataFrame:
    """customer x stage booleans: the stage's `<stage>_at` is set."""
    missing = [f"{s}_at" for s in STAGES if f"{s}_at" not in journeys]
    if missing:
        raise KeyError(f"journeys lacks the stage columns {missing}")
    return pd.DataFrame({s: journeys[f"{s}_at"].notna().to_numpy() for s in STAGES}, index=journeys.index)


def funnel(journeys: pd.DataFrame) -> pd.DataFrame:
    """Customers reaching each stage, and their share of all customers."""
    counts = reached(journeys).sum()
    return pd.DataFrame({
        "stage": list(STAGES),
        "customers": counts.to_numpy().astype("int64"),
        "share_of_customers": (counts / max(len(journeys), 1)).to_numpy(),
    })


def conversion(journeys: pd.DataFrame) -> pd.DataFrame:
    """Stage-to-stage conversion with Wilson 95% intervals and the drop-off in customers."""
    flags = reached(journeys)
    rows = []
    for a, b in STAGE_PAIRS:
        n = int(flags[a].sum())
        k = int((flags[a] & flags[b]).sum())
        rows.append({"from_stage": a, "to_stage": b, "reached": n, "converted": k, "dropped": n - k})
    out = pd.DataFrame(rows)
    out["rate"] = out["converted"] / out["reached"].where(out["reached"] > 0)
    out["ci_low"], out["ci_high"] = wilson_interval(out["converted"], out["reached"])
    out["key"] = out["from_stage"] + "_to_" + out["to_stage"]
    return out


def largest_drop_off(conv: pd.DataFrame) -> pd.Series:
    """The step that loses the largest share of the customers who reached it."""
    valid = conv.dropna(subset=["rate"])
    if valid.empty:
        raise ValueError("no stage was reached by anyone: there is no drop-off to report")
    return valid.loc[valid["rate"].idxmin()]


def cohort_funnel(journeys: pd.DataFrame, as_of, horizon_days: int = 90) -> pd.DataFrame:
    """Monthly first-touch cohorts: share reaching each stage within `horizon_days` of the first touch.

    Only customers whose first touch is at least `horizon_days` before `as_of`
    count (`eligible`): every one of them had the full horizon to progress, so a
    recent cohort is not penalised for short follow-up. Cohorts with no
    eligible customer are left out.
    """
    if horizon_days <= 0:
        raise ValueError(f"horizon_days must be positive, got {horizon_days}")
    as_of = _utc(as_of)
    first = journeys["first_touch_at"]
    horizon = pd.Timedelta(days=horizon_days)
    eligible = first.notna() & (first + horizon <= as_of)
    frame = journeys.loc[eligible]
    if frame.empty:
        return pd.DataFrame(columns=["cohort", "eligible", *STAGES])
    cohort = frame["first_touch_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M").astype(str)
    within = pd.DataFrame({
        s: (frame[f"{s}_at"].notna() & (frame[f"{s}_at"] - frame["first_touch_at"] <= horizon)).to_numpy()
        for s in STAGES
    }, index=frame.index)
    grouped = within.groupby(cohort.to_numpy())
    out = grouped.mean()
    out.insert(0, "eligible", grouped.size())
    return out.rename_axis("cohort").reset_index()


def stage_durations(journeys: pd.DataFrame) -> pd.DataFrame:
    """Days from each stage to the next among those who reached the next one later: median and quartiles.

    `progressed` counts everyone who reached both; `same_moment` those who reached both at once (an event of a
    later stage counts for the earlier one: advocacy before any service reaches retention then too), left out
    of the days, which would read as a 0-day step; `later` the rest, whose days are summarised.
    """
    rows = []
    for a, b in STAGE_PAIRS:
        days = ((journeys[f"{b}_at"] - journeys[f"{a}_at"]).dt.total_seconds() / 86400).dropna()
        later = days[days > 0]
        rows.append({"from_stage": a, "to_stage": b, "progressed": len(days), "later": len(later),
                     "same_moment": len(days) - len(later), "median_days": later.median(),
                     "q1_days": later.quantile(0.25), "q3_days": later.quantile(0.75)})
    return pd.DataFrame(rows)


def progression(journeys: pd.DataFrame, as_of, at_days=(30, 90, 180)):
    """Kaplan-Meier progression from each stage to the next, censoring at `as_of`.

    Returns (summary, curves): summary per step with the KM median and the
    probability of having progressed by each of `at_days`; curves with the
    cumulative progression (1 - survival) over days for plotting.
    """
    from lifelines import KaplanMeierFitter

    as_of = _utc(as_of)
    rows, curves = [], []
    for a, b in STAGE_PAIRS:
        start = journeys[f"{a}_at"]
        at_risk = start.notna()
        end = journeys.loc[at_risk, f"{b}_at"]
        observed = end.notna()
        stop = end.where(observed, as_of)
        days = ((stop - start[at_risk]).dt.total_seconds() / 86400).clip(lower=0)
        row = {"from_stage": a, "to_stage": b, "at_risk": int(at_risk.sum()), "progressed": int(observed.sum())}
        if row["at_risk"] == 0:
            rows.append({**row, "km_median_days": np.nan, **{f"by_{d}_days": np.nan for d in at_days}})
            continue
        fitter = KaplanMeierFitter().fit(days.to_numpy(), observed.to_numpy())
        row["km_median_days"] = float(fitter.median_survival_time_)
        for d in at_days:
            row[f"by_{d}_days"] = float(1 - fitter.predict(d))
        rows.append(row)
        curve = fitter.survival_function_.reset_index()
        curve.columns = ["days", "survival"]
        curves.append(curve.assign(step=f"{a} → {b}", progressed=1 - curve["survival"]))
    return pd.DataFrame(rows), (pd.concat(curves, ignore_index=True) if curves else pd.DataFrame())


def step_table(durations: pd.DataFrame, progression_summary: pd.DataFrame) -> pd.DataFrame:
    """Per step: the observed days (`stage_durations`) beside the Kaplan-Meier progression (`progression`)."""
    table = durations.merge(progression_summary, on=["from_stage", "to_stage", "progressed"])
    table.insert(0, "step", table["from_stage"] + " → " + table["to_stage"])
    table["km_median_days"] = table["km_median_days"].replace(np.inf, np.nan)  # fewer than half ever progress
    return table.drop(columns=["from_stage", "to_stage"]).set_index("step")


def _utc(stamp) -> pd.Timestamp:
    stamp = pd.Timestamp(stamp)
    return stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize("UTC")


