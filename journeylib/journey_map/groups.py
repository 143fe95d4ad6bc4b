"""Customers in groups: segment labels, small groups pooled into 'other', the funnel per group, best and worst.

Per-group figures pool groups with fewer than `min_level_customers` customers
(the rule of journeylib.stats.levels.pool_rare), and the best and worst group are
picked among groups of at least MIN_COMPARED customers, so a tiny group does not
top the ranking by chance.
"""

from __future__ import annotations

import pandas as pd

from journeylib.journey_map.funnel import reached
from journeylib.stats import levels
from journeylib.stats.intervals import wilson_interval
from journeylib.vocabulary import OTHER_LEVEL, STAGES

SEGMENTS = ("acquisition_channel", "dealer_id", "persona")
PURCHASE_SHARE_BY = ("acquisition_channel", "dealer_id")  # part 1: the purchase share per group
NO_SEGMENT = "(none)"
MIN_SEGMENT_CUSTOMERS = 20  # per-group figures: smaller groups are pooled into 'other'
MIN_COMPARED = 30  # best and worst group: only groups at least this large, when two or more are
SEGMENT_WORDS = {"acquisition_channel": "acquisition channel", "dealer_id": "dealer", "persona": "persona"}


def segment_labels(journeys: pd.DataFrame, segment_by: str, personas: pd.DataFrame | None = None) -> pd.Series:
    """Each customer's segment (index aligned with `journeys`); missing values become '(none)'."""
    if segment_by not in SEGMENTS:
        raise ValueError(f"segment_by={segment_by!r}: expected one of {SEGMENTS}")
    if segment_by == "persona":
        if personas is None:
            raise ValueError("segment_by='persona' needs the personas table; run `journey run` to build it")
        label = journeys["customer_id"].map(personas.set_index("customer_id")["persona"])
    else:
        label = journeys[segment_by]
    return label.astype("object").where(label.notna(), NO_SEGMENT).astype(str).rename("segment")


def funnel_by_segment(journeys: pd.DataFrame, segments: pd.Series) -> pd.DataFrame:
    """Per segment and stage: customers reached, share of the segment's customers, conversion from the previous stage."""
    flags = reached(journeys)
    size = segments.value_counts()
    counts = flags.groupby(segments.to_numpy()).sum()
    long = counts.stack().rename("customers").reset_index()
    long.columns = ["segment", "stage", "customers"]
    long["segment_customers"] = long["segment"].map(size).astype("int64")
    long["share_of_segment"] = long["customers"] / long["segment_customers"]
    previous = long.groupby("segment")["customers"].shift(1)
    long["conversion_from_previous"] = long["customers"] / previous.where(previous > 0)
    long["stage"] = pd.Categorical(long["stage"], categories=STAGES, ordered=True)
    return long.sort_values(["segment_customers", "segment", "stage"], ascending=[False, True, True],
                            ignore_index=True)


def pool_segments(segments: pd.Series, min_customers: int = MIN_SEGMENT_CUSTOMERS) -> tuple[pd.Series, list]:
    """Per-group figures: segments with fewer than `min_customers` customers pooled into 'other'.

    The rule of journeylib.stats.levels.pool_rare (a lone small segment is pooled too, so no tiny group
    gets its own bar or map). Returns the labels and the sorted pooled segment names.
    """
    labels, pooled = levels.pool_rare(segments, min_customers)
    return labels, [name for name in pooled if name != OTHER_LEVEL]  # a small 'other' is not news


def pooled_note(segment_by: str, pooled, min_customers: int) -> str:
    """The report's sentence for the segments pooled by `pool_segments`."""
    word = SEGMENT_WORDS.get(segment_by, segment_by)
    names = [f"(no {word} recorded)" if name == NO_SEGMENT else name for name in pooled]
    return levels.pooled_sentence(word, names, min_customers, events=None)


def purchase_share(journeys: pd.DataFrame, by: str, min_customers: int = MIN_SEGMENT_CUSTOMERS,
                   personas: pd.DataFrame | None = None) -> tuple[pd.DataFrame, list]:
    """Share of each segment's customers who reached purchase, with Wilson 95% intervals (best first).

    Small segments are pooled first (`pool_segments`); returns the table and the pooled names.
    """
    labels, pooled = pool_segments(segment_labels(journeys, by, personas), min_customers)
    table = funnel_by_segment(journeys, labels)
    table = table[table["stage"] == "purchase"].copy()
    table["ci_low"], table["ci_high"] = wilson_interval(table["customers"], table["segment_customers"])
    return table.sort_values(["share_of_segment", "segment"], ascending=[False, True], ignore_index=True), pooled




def extremes(table: pd.DataFrame, value: str, size: str, min_n: int = MIN_COMPARED) -> dict:
    """The best and worst row of `table` by `value`, among rows with at least `min_n` in `size`.

    Ties go to the first row in the table's order.
    Falls back to every row when fewer than two are that large. Returns {"best", "worst"
    (rows), "compared" (rows ranked), "restricted" (small rows were left out), "all_large"
    (every ranked row has at least `min_n`), "min_n"}.
    """
    large = table[table[size] >= min_n]
    ranked = large if len(large) >= 2 else table
    return {"best": ranked.loc[ranked[value].idxmax()], "worst": ranked.loc[ranked[value].idxmin()],
            "compared": len(ranked),
            "restricted": len(ranked) < len(table), "all_large": bool((ranked[size] >= min_n).all()), "min_n": min_n}
