"""One change reported once: a group whose change explains other flagged comparisons of the same measure.

A dealer whose leads stopped converting also moves every channel it takes leads from, and the overall
rate. Flagged comparison B (another grouping, or all units) is *explained by* flagged group A of the same
measure when B, recomputed without A's units, would no longer be flagged (its p-value above the family's
Benjamini-Hochberg cut-off, its change below the practical threshold, or moved the other way). This holds
across groupings (a dealer explains channels and all units; a channel explains dealers), not only parent and
child. The group explaining the most others is reported, the ones it explains beneath it; a comparison
explained by none stands on its own.

Then one group, one period: the changes left standing of the same group (dealer D01) in the same period
(March 2026) are reported as one: the one explaining the most others (then the largest) is the headline,
the other measures are related to it (`related_to`, the headline's measure) and listed beneath it.
"""

from __future__ import annotations

import pandas as pd

from journeylib.changes.compare import ALL, effect_of
from journeylib.changes.screen import Thresholds

PARENT_GROUPS = ("dealer_id", "acquisition_channel")


def _key(row: dict) -> tuple:
    return row["measure"], row["group_by"], row["group"]


def without(parent: dict, child: dict, populations: dict, baseline_periods: int, measures: dict) -> dict | None:
    """`child`'s comparison recomputed without `parent`'s units (None when nothing of it is left)."""
    pop, measure = populations[child["population"]], measures[child["measure"]]
    frame = pop.frame
    keep = ~frame[parent["group_by"]].isin(parent["members"])
    if child["group_by"] != ALL:
        keep &= frame[child["group_by"]].isin(child["members"])
    return effect_of(pop, measure, baseline_periods, keep)


def flagged_other_way(child: dict, rest: dict | None, p_cut: float, thresholds: Thresholds) -> bool:
    """Would the rest of `child` be flagged, but moving the other way (its leads without the dealer rose)?"""
    if rest is None or not (rest["p"] <= p_cut and thresholds.beyond(child["kind"], rest["estimate"])):
        return False
    return thresholds.size(child["kind"], rest["estimate"]) * thresholds.size(child["kind"], child["estimate"]) < 0


def explains(parent: dict, child: dict, populations: dict, measures: dict, baseline_periods: int,
             p_cut: float, thresholds: Thresholds) -> bool:
    """Is `child`'s change gone once `parent`'s units are set aside (not flagged, or moving the other way)?"""
    if parent["measure"] != child["measure"] or parent["group_by"] == child["group_by"] \
            or parent["group_by"] not in PARENT_GROUPS:
        return False
    if thresholds.size(child["kind"], parent["estimate"]) * thresholds.size(child["kind"], child["estimate"]) <= 0:
        return False  # a dealer's fall does not explain a channel's rise
    rest = without(parent, child, populations, baseline_periods, measures)
    if rest is None:
        return True  # nothing of the child is left without the parent's units
    same_way = thresholds.size(child["kind"], rest["estimate"]) * thresholds.size(child["kind"], child["estimate"]) > 0
    return not (rest["p"] <= p_cut and thresholds.beyond(child["kind"], rest["estimate"]) and same_way)


def nest(flagged: pd.DataFrame, populations: dict, measures: dict, baseline_periods: int, p_cut: float,
         thresholds: Thresholds) -> pd.DataFrame:
    """`flagged` ordered as reported: each reported change (largest first) followed by those it explains;
    column `explained_by` is the reported change's group label key ('dealer_id=D01') or None; `rest_estimate`
    the explained comparison without that group's units when it is flagged the other way (else NaN: the
    sentence says so rather than hide it)."""
    if flagged.empty:
        return flagged.assign(explained_by=pd.Series(dtype=object), rest_estimate=pd.Series(dtype=float))
    records = flagged.to_dict("records")
    keys = [_key(r) for r in records]
    found = {k: [c for c, child in zip(keys, records) if c != k and
                 explains(parent, child, populations, measures, baseline_periods, p_cut, thresholds)]
             for k, parent in zip(keys, records)}
    size = dict(zip(keys, flagged["size"]))
    parent_of, children = {}, {}
    for key in sorted(keys, key=lambda k: (-len(found[k]), -size[k])):
        if key in parent_of:
            continue
        kids = [c for c in found[key] if c not in parent_of and c not in children]
        if kids:
            children[key] = kids
            parent_of.update({c: key for c in kids})
    order = []
    for key in sorted(keys, key=lambda k: -size[k]):
        if key in parent_of:
            continue
        order.append(key)
        order += sorted(children.get(key, []), key=lambda k: -size[k])
    position = {k: i for i, k in enumerate(keys)}
    out = flagged.iloc[[position[k] for k in order]].reset_index(drop=True)
    out["explained_by"] = [f"{parent_of[k][1]}={parent_of[k][2]}" if k in parent_of else None for k in order]
    by_key = dict(zip(keys, records))
    rest_estimate = []
    for k in order:
        rest = without(by_key[parent_of[k]], by_key[k], populations, baseline_periods, measures) \
            if k in parent_of else None
        other_way = flagged_other_way(by_key[k], rest, p_cut, thresholds)
        rest_estimate.append(float(rest["estimate"]) if other_way else float("nan"))
    out["rest_estimate"] = rest_estimate
    return out


def relate(nested: pd.DataFrame) -> pd.DataFrame:
    """`nested` (from `nest`) with column `related_to`: for a change standing on its own whose group (dealer D01,
    or all units) has a bigger change in the same period, that change's measure; else None. Ordered as reported:
    each headline, the comparisons it explains, then each related measure with the comparisons it explains."""
    out = nested.assign(related_to=pd.Series([None] * len(nested), index=nested.index, dtype=object))
    if out.empty:
        return out
    records = out.to_dict("records")
    explained = {}
    for r in records:
        if r["explained_by"] is not None:
            explained[(r["explained_by"], r["measure"])] = explained.get((r["explained_by"], r["measure"]), 0) + 1
    standing = [i for i, r in enumerate(records) if r["explained_by"] is None]
    cell = {i: (records[i]["group_by"], records[i]["group"], records[i]["latest_period"]) for i in standing}
    headline = {}
    for i in standing:  # the most explained, then the largest (records are largest first), then the first
        key = cell[i]
        count = explained.get((f"{key[0]}={key[1]}", records[i]["measure"]), 0)
        best = headline.get(key)
        if best is None or count > best[0]:
            headline[key] = (count, i)
    for i in standing:
        top = headline[cell[i]][1]
        if top != i:
            records[i]["related_to"] = records[top]["measure"]
    order = []

    def with_explained(i):
        group = f"{records[i]['group_by']}={records[i]['group']}"
        order.append(i)
        order.extend(j for j, r in enumerate(records) if r["explained_by"] == group
                     and r["measure"] == records[i]["measure"] and j not in order)

    for i in standing:
        if records[i]["related_to"] is None:
            with_explained(i)
            for j in standing:
                if records[j]["related_to"] == records[i]["measure"] and cell[j] == cell[i]:
                    with_explained(j)
    order += [j for j in range(len(records)) if j not in order]  # none expected; never drop a row
    out["related_to"] = [r["related_to"] for r in records]
    return out.iloc[order].reset_index(drop=True)
