"""Seconds for the journey-map notebook's computations on a prepared folder.

    python benchmarks/bench_journey_map.py benchmarks/work/100k/processed
    python benchmarks/bench_journey_map.py data/processed --half-life-days 7 --segment-by dealer_id

Times every computation 01_journey_map runs, in the same order and with the
same engines: the event log stays in DuckDB (read from touchpoints.parquet
through Ibis) and only summaries come back; the per-customer `journeys` table
is handled in pandas. Figures are not drawn (their cost does not grow with
the data beyond the Sankey's few dozen bands). Prints one line per step and
the total.
"""

from __future__ import annotations

import argparse
import time

from journeylib import attribution, feedback, tables
from journeylib import journey_map as jm


def _timed(label, function, *args, **kwargs):
    started = time.perf_counter()
    value = function(*args, **kwargs)
    seconds = time.perf_counter() - started
    print(f"{label:<40} {seconds:8.2f} s", flush=True)
    return value, seconds


def bench(processed, half_life_days=7.0, horizon_days=90, top_n=10, segment_by="acquisition_channel",
          segment_maps=3) -> dict:
    steps = {}

    def step(label, function, *args, **kwargs):
        value, seconds = _timed(label, function, *args, **kwargs)
        steps[label] = seconds
        return value

    as_of = tables.as_of(processed)
    journeys = step("load journeys", tables.load, "journeys", processed)
    surveys = step("load surveys", tables.load, "surveys", processed)
    events = jm.open_events(processed)
    print(f"{len(journeys):,} customers, {int(events.count().to_pandas()):,} events, {len(surveys):,} surveys", flush=True)
    step("funnel and conversion", lambda: (jm.funnel(journeys), jm.conversion(journeys)))
    for by in ("acquisition_channel", "dealer_id"):
        step(f"funnel by {by}", lambda by=by: jm.funnel_by_segment(journeys, jm.segment_labels(journeys, by)))
    step("cohort funnel", jm.cohort_funnel, journeys, as_of, horizon_days)
    step("durations and Kaplan-Meier", lambda: (jm.stage_durations(journeys), jm.progression(journeys, as_of)))
    counts_channel = step("stage x channel counts", jm.stage_counts, events, "channel")
    counts_event = step("stage x event type counts", jm.stage_counts, events, "event_type")
    touches = attribution.pre_purchase_touches(events, as_of)
    step("channels used before purchase", attribution.channels_used, touches)
    step("channel sequences before purchase", attribution.channel_paths, touches, top_n * 50)
    step("stage variants", jm.variants, events, "stage", top_n)
    step("event-type variants", jm.variants, events, "event_type", top_n)
    step("stage transitions", jm.transitions, events, "stage")
    step("channel transitions", jm.transitions, events, "channel")
    step("attribution (five models)", attribution.attribute, events, half_life_days, as_of)
    themes = list(feedback.load_taxonomy())
    scored = step("survey comments (sentiment, themes)", feedback.score_comments, surveys)
    step("journey map table", jm.journey_map_table, journeys, counts_channel, counts_event, surveys, scored, themes)
    personas = tables.load("personas", processed) if segment_by == "persona" else None
    segment_of = jm.segment_labels(journeys, segment_by, personas)
    largest = list(segment_of.value_counts().index[:segment_maps])
    frame = journeys[["customer_id"]].assign(segment=segment_of.to_numpy())
    chosen = frame[frame["segment"].isin(largest)]
    seg_channel = step("segment stage counts (channel)", jm.stage_counts, events, "channel", chosen)
    seg_event = step("segment stage counts (event type)", jm.stage_counts, events, "event_type", chosen)

    def segment_tables():
        for name in largest:
            members = journeys[segment_of.to_numpy() == name]
            jm.journey_map_table(members, seg_channel, seg_event, surveys, scored, themes, segment=name)

    step("segment journey map tables", segment_tables)
    total = sum(steps.values())
    print(f"{'total':<40} {total:8.2f} s ({len(journeys):,} customers)", flush=True)
    return {"customers": len(journeys), "seconds": total, "steps": steps}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("processed", help="a processed folder (summary.json + Parquet tables)")
    parser.add_argument("--half-life-days", type=float, default=7.0)
    parser.add_argument("--horizon-days", type=int, default=90)
    parser.add_argument("--top-n", type=int, default=10)
    parser.add_argument("--segment-by", default="acquisition_channel", choices=jm.SEGMENTS)
    args = parser.parse_args(argv)
    bench(args.processed, args.half_life_days, args.horizon_days, args.top_n, args.segment_by)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
