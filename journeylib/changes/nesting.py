"""One change reported once: a group whose change explains other flagged comparisons of the same measure.

A dealer whose leads stopped converting also moves every channel it takes leads from, and the overall
rate. Flagged comparison B (another grouping, or all units) is *explained by* flagged group A of the same
measure when B, recomputed without A's units, would no longer be flagged (its p-value above the family's
Benjamini-Hochberg cut-off, or its change below the practical threshold). The group explaining the most
others is reported, the ones it explains beneath it; a comparison explained by none stands on its own.
"""

from __future__ import annotations

import pandas as pd

from journeylib.changes.compare import ALL, effect_of
from journeylib.changes.screen import Thresholds

PARENT_GROUPS = ("dealer_id", "acquisition_channel")


def _key(row: dict) -> tuple:
    return row["measure"], row["group_by"], row["group"]


def explains(parent: dict, child: dict, populations: dict, measures: dict, baseline_periods: int,
             p_cut: float, thresholds: Thresholds) -> bool:
    """Is `child`'s change gone once `parent`'s units are set aside?"""
    if parent["measure"] != child["measure"] or parent["group_by"] == child["group_by"] \
            or parent["group_by"] not in PARENT_GROUPS:
        return False
    pop, measure = populations[child["population"]], measures[child["measure"]]
    frame = pop.frame
    keep = ~frame[parent["group_by"]].isin(parent["members"])
    if child["group_by"] != ALL:
        keep &= frame[child["group_by"]].isin(child["members"])
    rest = effect_of(pop, measure, baseline_periods, keep)
    if rest is None:
        return True  # nothing of the child is left without the parent's units
    return not (rest["p"] <= p_cut and thresholds.beyond(child["kind"], rest["estimate"]))


def nest(flagged: pd.DataFrame, populations: dict, measures: dict, baseline_periods: int, p_cut: float,
         thresholds: Thresholds) -> pd.DataFrame:
    """`flagged` ordered as reported: each reported change (largest first) followed by those it explains;
    column `explained_by` is the reported change's group label key ('dealer_id=D01') or None."""
    if flagged.empty:
        return flagged.assign(explained_by=pd.Series(dtype=object))
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
    return out
