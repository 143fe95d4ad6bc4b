"""Seconds for the journey map on a prepared folder: the paths before and after collapsing identical journeys.

    python benchmarks/bench_journey_map.py benchmarks/work/100k/processed
    python benchmarks/bench_journey_map.py data/processed --repeat 3 --json benchmarks/results/journey_map.json

In one run, on the same connection and data:
- attribution before (issue 14): the Markov chain built journey by journey in the engine (a window
  pass over every customer's collapsed steps), first and last touch from per-touch row numbers, and
  the distinct paths grouped a second time for the notebook's table;
- attribution after: identical journeys collapsed once in the engine (path -> customers, buyers),
  first/last touch and the Markov chain from that aggregated form; linear and time decay per touch;
- the variants before (DuckDB's ordered string aggregate, three passes: journeys, variants, top) and
  after (the portable form that also runs on Spark, totals in the same pass as the top variants);
- the whole `journey_map.analyse` (everything notebook 01 computes, figures aside).
Results before and after are checked equal (floating-point rounding aside) before any time is printed.
Prints one line per step, the best of `--repeat` runs, and the after/before ratios.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from journeylib import journey_map
from journeylib.journey_map import attribution, engine, variants
from journeylib.journey_map.engine import SEP, collapsed, journey_events, order
from journeylib.tables import ProcessedTables

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.reference_attribution import backwards, per_journey_transitions  # noqa: E402  (the tests' reference chain)


# ---------------------------------------------------------------- before: the per-journey forms (issue 14)

def before_rule_based(touches, half_life_days: float) -> pd.DataFrame:
    import ibis

    b = touches.filter(touches.bought)
    forward = ibis.window(group_by=b.customer_id, order_by=order(b))
    back = ibis.window(group_by=b.customer_id, order_by=backwards(b))
    per_buyer = ibis.window(group_by=b.customer_id)
    days_before = b.first_purchase_at.delta(b.occurred_at, unit="second") / 86400
    b = b.mutate(_pos=ibis.row_number().over(forward), _pos_back=ibis.row_number().over(back),
                 _touches=b.event_id.count().over(per_buyer), _days=days_before)
    b = b.mutate(_weight=((b._days.min().over(per_buyer) - b._days) * (math.log(2) / half_life_days)).exp())
    b = b.mutate(_decay=b._weight / b._weight.sum().over(per_buyer))
    out = b.group_by("channel").aggregate(
        first_touch=(b._pos == 0).cast("int64").sum(), last_touch=(b._pos_back == 0).cast("int64").sum(),
        linear=(1.0 / b._touches).sum(), time_decay=b._decay.sum()).to_pandas()
    return out.set_index("channel").astype("float64").sort_index()


def before_channel_paths(touches) -> pd.DataFrame:
    steps = collapsed(touches, "channel")
    per_customer = steps.group_by(["customer_id", "bought"]).aggregate(
        path=steps.channel.group_concat(SEP, order_by=order(steps)))
    grouped = per_customer.group_by("path").aggregate(
        customers=per_customer.count(), conversions=per_customer.bought.cast("int64").sum())
    grouped = grouped.mutate(nulls=grouped.customers - grouped.conversions)
    return grouped.order_by([grouped.customers.desc(), grouped.path]).to_pandas()


def before_attribute(events, half_life_days, as_of):
    touches = attribution.pre_purchase_touches(events, as_of)
    trans = per_journey_transitions(touches)
    rules = before_rule_based(touches, half_life_days)
    markov = attribution.markov_removal(trans)
    credits = rules.join(markov[["markov"]], how="outer").fillna(0.0).reindex(columns=list(attribution.MODELS))
    return credits.sort_values("last_touch", ascending=False), before_channel_paths(touches)


def before_variants(events, kind: str, top_n: int):
    t = journey_events(events)
    bought = events.filter(events.event_type == "purchase").select("customer_id").distinct().mutate(bought=1)
    steps = collapsed(t, kind)
    per_customer = steps.group_by("customer_id").aggregate(variant=steps[kind].group_concat(SEP, order_by=order(steps)))
    per_customer = per_customer.left_join(bought, "customer_id").select("variant", "bought")
    grouped = per_customer.group_by("variant").aggregate(
        customers=per_customer.count(), buyers=per_customer.bought.fill_null(0).sum())
    journeys = int(per_customer.count().to_pandas())  # three passes over the log: journeys, variants, top
    n_variants = int(grouped.count().to_pandas())
    top = grouped.order_by([grouped.customers.desc(), grouped.variant]).limit(top_n).to_pandas()
    return top[["variant", "customers", "buyers"]], {"journeys": journeys, "variants": n_variants}


# ---------------------------------------------------------------- after

def after_attribute(events, half_life_days, as_of):
    credits, info = attribution.attribute(events, half_life_days=half_life_days, as_of=as_of)
    return credits, info["channel_paths"]


def after_variants(events, kind: str, top_n: int):
    top, totals = variants.variants(events, kind=kind, top_n=top_n)
    return top[["variant", "customers", "buyers"]], {"journeys": totals["journeys"], "variants": totals["variants"]}


def same_variants(before, after) -> None:
    pd.testing.assert_frame_equal(before[0], after[0], check_dtype=False)
    assert before[1] == after[1]


def same_attribution(before, after) -> None:
    (credits_b, paths_b), (credits_a, paths_a) = before, after
    credits_a = credits_a.reindex(index=credits_b.index)
    np.testing.assert_allclose(credits_a.to_numpy(), credits_b.to_numpy(), rtol=1e-9, atol=1e-9)
    pd.testing.assert_frame_equal(paths_a.reset_index(drop=True), paths_b.reset_index(drop=True), check_dtype=False)


# ---------------------------------------------------------------- timing

def best_of(repeat: int, function, *args):
    times, value = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        value = function(*args)
        times.append(time.perf_counter() - started)
    return value, min(times)


def bench(processed, repeat: int = 1, half_life_days: float = 7.0, top_n: int = 10) -> dict:
    tables = ProcessedTables(processed)
    events = engine.open_events(tables)
    customers = int(events.customer_id.nunique().to_pandas())
    print(f"{customers:,} customers, {int(events.count().to_pandas()):,} events; best of {repeat}", flush=True)
    rows = {}

    def pair(label, before, after, check, *args):
        b, seconds_before = best_of(repeat, before, *args)
        a, seconds_after = best_of(repeat, after, *args)
        check(b, a)
        rows[label] = {"before": seconds_before, "after": seconds_after, "ratio": seconds_before / seconds_after}
        print(f"{label:<34} before {seconds_before:7.2f} s  after {seconds_after:7.2f} s  "
              f"{seconds_before / seconds_after:5.1f}x faster", flush=True)

    pair("attribution (five models + paths)", before_attribute, after_attribute, same_attribution,
         events, half_life_days, tables.as_of)
    for kind in ("stage", "event_type"):
        pair(f"{kind} variants", before_variants, after_variants, same_variants, events, kind, top_n)
    _, whole = best_of(repeat, journey_map.analyse, tables, journey_map.Params(half_life_days=half_life_days))
    print(f"{'journey_map.analyse (all of 01)':<34} {whole:7.2f} s", flush=True)
    return {"customers": customers, "repeat": repeat, "steps": rows, "analyse_seconds": whole}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("processed", help="a processed folder (summary.json + Parquet tables)")
    parser.add_argument("--repeat", type=int, default=1, help="time each step this many times, keep the best")
    parser.add_argument("--half-life-days", type=float, default=7.0)
    parser.add_argument("--top-n", type=int, default=10)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    figures = bench(args.processed, args.repeat, args.half_life_days, args.top_n)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
