"""Ordered funnels with a window per step, named in configuration (`funnels:` in journey.yaml).

A customer reaches the first step at their first matching event (up to the
as-of date), and each later step at the first matching event at or after the
time they reached the previous one and within its `within_days` of it. A
customer who reached the previous step less than `within_days` before the
as-of date and not this one is *in progress*: their window is still open, so
they are neither converted nor lost. Conversion of a step is
`reached / (reached previous - in progress)` with a Wilson 95% interval; the
first step's is the share of all customers. Without `within_days` a step has
no window and nobody is in progress.

The matching runs in the engine that prepared the data, one grouping per step
(only the customers who reached it, with the time, come back); the rates per
dealer or acquisition channel are then pandas on that per-customer table.
Definitions: docs/journey_map.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from journeylib.stats.intervals import wilson_interval
from journeylib.taxonomy import matches_any

from journeylib.derived.funnel_steps import DEFAULT_FUNNELS, configured  # noqa: F401 (the definitions)

SECONDS_PER_DAY = 86400.0


def step_times(events, steps: list, as_of) -> pd.DataFrame:
    """One row per customer who reached the first step: `customer_id` and the time each step was reached
    (a column per step, NaT when not reached). Each step is one grouping in the engine."""
    import ibis

    types = events.select("event_type").distinct().to_pandas()["event_type"].dropna().tolist()
    t = events.filter(events.occurred_at <= ibis.literal(pd.Timestamp(as_of).to_pydatetime()))
    out, previous = None, None
    for i, step in enumerate(steps):
        names = [name for name in types if matches_any(name, step["events"])]
        m = t.filter(t.event_type.isin(names or ["\x00"])).select("customer_id", "occurred_at")
        if i:
            m = m.join(ibis.memtable(previous.rename(columns={"at": "_previous_at"})), "customer_id")
            keep = m.occurred_at >= m._previous_at
            if step.get("within_days") is not None:
                seconds = m.occurred_at.delta(m._previous_at, unit="second")
                keep &= seconds <= step["within_days"] * SECONDS_PER_DAY
            m = m.filter(keep)
        previous = m.group_by("customer_id").aggregate(at=m.occurred_at.min()).to_pandas()
        previous["at"] = _utc_column(previous["at"])
        column = previous.set_index("customer_id")["at"].rename(step["step"])
        out = column.to_frame() if out is None else out.join(column, how="left")
        if previous.empty:
            for later in steps[i + 1:]:
                out[later["step"]] = pd.Series(dtype=out[step["step"]].dtype)
            break
    return out.rename_axis("customer_id").reset_index()


def aligned_step_times(events, steps: list, as_of, ids) -> pd.DataFrame:
    """`step_times` for the customers `ids` (index, in that order; NaT where not reached), in one read.

    The engine returns only the matching events of these customers as integers (customer position, microseconds,
    step events); the steps are then chained in numpy over the events sorted by customer and time. Same rule
    as `step_times`, including the window's whole-second count (the engine's `date_diff('second', ...)`)."""
    import ibis

    index = pd.Index(ids)
    codes, uniques = pd.factorize(index)
    types = events.select("event_type").distinct().to_pandas()["event_type"].dropna().tolist()
    names = [[name for name in types if matches_any(name, step["events"])] for step in steps]
    wanted = sorted(set().union(*names))
    kind = {name: i for i, name in enumerate(wanted)}
    t = events.filter(events.occurred_at <= ibis.literal(pd.Timestamp(as_of).to_pydatetime()))
    t = t.filter(t.event_type.isin(wanted or ["\x00"]))
    who = ibis.memtable(pd.DataFrame({"customer_id": np.asarray(uniques, dtype=object),
                                      "_who": np.arange(len(uniques), dtype=np.int64)}))
    kinds = ibis.memtable(pd.DataFrame({"event_type": wanted or ["\x00"],
                                        "_kind": np.arange(max(len(wanted), 1), dtype=np.int64)}))
    t = t.join(who, "customer_id").join(kinds, "event_type").select("_who", "_kind", "occurred_at")
    table = t.to_pyarrow()
    person = table["_who"].to_numpy().astype(np.int64)
    event = table["_kind"].to_numpy().astype(np.int64)
    micros = table["occurred_at"].cast(_pa_timestamp_us(table["occurred_at"].type)).cast("int64").to_numpy()
    order = np.lexsort((micros, person))
    person, event, micros = person[order], event[order], micros[order]
    missing = np.iinfo(np.int64).min
    out, previous = {}, None
    for step, matching in zip(steps, names):
        at = np.full(len(uniques), missing, dtype=np.int64)
        mask = np.isin(event, [kind[name] for name in matching])
        p, m = person[mask], micros[mask]
        if previous is not None:
            before = previous[p]
            keep = (before != missing) & (m >= before)
            if step.get("within_days") is not None:
                keep &= (m // 1_000_000 - before // 1_000_000) <= step["within_days"] * SECONDS_PER_DAY
            p, m = p[keep], m[keep]
        first = np.r_[True, p[1:] != p[:-1]] if len(p) else np.zeros(0, bool)
        at[p[first]] = m[first]
        # int64's minimum is NaT in datetime64: customers who did not reach the step
        out[step["step"]] = pd.Series(at[codes].astype("datetime64[us]")).dt.tz_localize("UTC")
        previous = at
    out = pd.DataFrame(out, columns=[step["step"] for step in steps])
    out.index = index
    return out


def _pa_timestamp_us(kind):
    import pyarrow as pa

    return pa.timestamp("us", tz=getattr(kind, "tz", None))


def customer_steps(times: pd.DataFrame, steps: list, as_of) -> dict:
    """Per step, customer-aligned arrays: reached (bool), in_progress (bool), days from the previous step."""
    as_of = _utc(as_of)
    out, previous = {}, None
    for step in steps:
        at = times[step["step"]]
        reached = at.notna().to_numpy()
        if previous is None:
            in_progress = np.zeros(len(times), dtype=bool)
            days = np.full(len(times), np.nan)
        else:
            days = ((at - previous).dt.total_seconds() / SECONDS_PER_DAY).to_numpy()
            window = step.get("within_days")
            open_window = ((as_of - previous).dt.total_seconds() < (window or 0) * SECONDS_PER_DAY).to_numpy()
            in_progress = previous.notna().to_numpy() & ~reached & open_window if window else np.zeros(len(times), bool)
        out[step["step"]] = (reached, in_progress, days)
        previous = at
    return out


def step_table(flags: dict, steps: list, customers: int, mask=None) -> pd.DataFrame:
    """Per step: reached, in_progress, eligible (the conversion's denominator), conversion with Wilson 95%
    interval, median days from the previous step, and same_moment: customers who reached the step at the very
    moment they reached the previous one (every one of them: the export records no event of its own for the
    step, only a later step's event that counts for it). `mask`: the customers (of `flags`) counted."""
    rows, before = [], customers
    for step in steps:
        reached, in_progress, days = flags[step["step"]]
        if mask is not None:
            reached, in_progress, days = reached[mask], in_progress[mask], days[mask]
        n_reached, n_progress = int(reached.sum()), int(in_progress.sum())
        eligible = before - n_progress
        reached_days = days[reached & ~np.isnan(days)]
        rows.append({"step": step["step"], "reached": n_reached, "in_progress": n_progress, "eligible": eligible,
                     "median_days": float(np.median(reached_days)) if len(reached_days) else np.nan,
                     "same_moment": int((reached_days == 0).sum())})
        before = n_reached
    table = pd.DataFrame(rows)
    table["conversion"] = table["reached"] / table["eligible"].where(table["eligible"] > 0)
    table["ci_low"], table["ci_high"] = wilson_interval(table["reached"], table["eligible"])
    return table


def funnel_tables(events, journeys: pd.DataFrame, funnels: dict, as_of, groups: dict | None = None):
    """Every funnel overall and per group: (overall, by_group) long tables.

    overall: funnel, step, reached, in_progress, eligible, conversion, ci_low, ci_high, median_days, same_moment.
    by_group: the same per `by` (a grouping name) and `group`, plus `shrunk` (the empirical-Bayes
    conversion, pulled toward the funnel's overall rate in proportion to how few customers a group has).
    `groups`: {by: labels aligned with `journeys`} (already pooled by the sparse-level rule).
    """
    overall, by_group = [], []
    ids = journeys["customer_id"].astype(str)
    for name, steps in funnels.items():
        # every customer, those who never reached the first step with no times
        aligned = aligned_step_times(events, steps, as_of, ids.to_numpy())
        flags = customer_steps(aligned, steps, as_of)
        overall.append(step_table(flags, steps, len(journeys)).assign(funnel=name))
        for by, labels in (groups or {}).items():
            labels = np.asarray(labels)
            for group in pd.unique(labels):
                mask = labels == group
                by_group.append(step_table(flags, steps, int(mask.sum()), mask).assign(
                    funnel=name, by=by, group=group, customers=int(mask.sum())))
    columns = ["funnel", "step", "reached", "in_progress", "eligible", "conversion", "ci_low", "ci_high",
               "median_days", "same_moment"]
    overall = pd.concat(overall, ignore_index=True)[columns] if overall else pd.DataFrame(columns=columns)
    if not by_group:
        return overall, pd.DataFrame(columns=["by", "group", "customers", *columns, "shrunk"])
    by_group = pd.concat(by_group, ignore_index=True)[["by", "group", "customers", *columns]]
    by_group["shrunk"] = np.nan
    for _, rows in by_group.groupby(["funnel", "by", "step"], sort=False):
        by_group.loc[rows.index, "shrunk"] = shrink(rows["reached"].to_numpy(), rows["eligible"].to_numpy())
    return overall, by_group


def shrink(successes, trials) -> np.ndarray:
    """Empirical-Bayes rates: a beta prior fitted to the groups by moments (beta-binomial), then each group's
    posterior mean (k + a) / (n + a + b). A small group is pulled toward the pooled rate, a large one
    keeps its own; with no spread between groups beyond chance every group gets the pooled rate."""
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    valid = n > 0
    out = np.full(len(k), np.nan)
    if not valid.any():
        return out
    k, n_valid = k[valid], n[valid]
    pooled = k.sum() / n_valid.sum()
    if pooled in (0.0, 1.0) or valid.sum() < 2:
        out[valid] = k / n_valid if valid.sum() < 2 else pooled
        return out
    rates = k / n_valid
    weights = n_valid / n_valid.sum()
    spread = float(np.sum(weights * (rates - pooled) ** 2))  # weighted variance of the observed rates
    chance = pooled * (1 - pooled) * float(np.sum(weights / n_valid))  # its expectation from binomial noise alone
    between = max(spread - chance, 0.0)
    if between <= 0:
        out[valid] = pooled
        return out
    strength = max(pooled * (1 - pooled) / between - 1, 1e-9)  # a + b
    out[valid] = (k + strength * pooled) / (n_valid + strength)
    return out


def _utc_column(values: pd.Series) -> pd.Series:
    values = pd.to_datetime(values)
    values = values.dt.tz_convert("UTC") if values.dt.tz is not None else values.dt.tz_localize("UTC")
    return values.astype("datetime64[us, UTC]")  # the processed tables' precision, whatever the engine returns


def _utc(stamp) -> pd.Timestamp:
    stamp = pd.Timestamp(stamp)
    return stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize("UTC")
