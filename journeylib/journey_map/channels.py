"""Channels per stage: events and customers per (stage, channel or event type), computed in the engine."""

from __future__ import annotations

import pandas as pd

from journeylib.journey_map.engine import journey_events, with_segments
from journeylib.vocabulary import STAGES


def stage_counts(events, by: str = "channel", segments: pd.DataFrame | None = None) -> pd.DataFrame:
    """Events and customers per (segment, stage, channel or event type), over events that count for the journey."""
    if by not in ("channel", "event_type"):
        raise ValueError(f"by={by!r}: expected 'channel' or 'event_type'")
    t = with_segments(journey_events(events), segments)
    out = (t.group_by(["segment", "stage", by])
            .aggregate(events=t.count(), customers=t.customer_id.nunique())
            .to_pandas())
    out["share_of_stage"] = out["events"] / out.groupby(["segment", "stage"])["events"].transform("sum")
    out["stage"] = pd.Categorical(out["stage"], categories=STAGES, ordered=True)
    return out.sort_values(["segment", "stage", "events", by], ascending=[True, True, False, True],
                           ignore_index=True)


def channel_mix(counts: pd.DataFrame) -> pd.DataFrame:
    """stage x channel share of events (rows sum to 1) from `stage_counts(by='channel')` of one segment."""
    return (counts.pivot_table(index="stage", columns="channel", values="share_of_stage", aggfunc="sum",
                               fill_value=0.0, observed=True)
                  .reindex([s for s in STAGES if s in set(counts["stage"].astype(str))]))


def top_values(counts: pd.DataFrame, by: str, n: int = 3) -> dict:
    """{(segment, stage): [the n most frequent values]} from `stage_counts`."""
    out = {}
    for (segment, stage), group in counts.groupby(["segment", "stage"], observed=True):
        out[(segment, str(stage))] = group.nlargest(n, "events")[by].tolist()
    return out


