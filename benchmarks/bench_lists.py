"""Time the lead-score list (issue 24) at scale: what it adds to notebook 02.

    python benchmarks/bench_lists.py                          # simulated leads, 100k customers
    python benchmarks/bench_lists.py --customers 20000
    python benchmarks/bench_lists.py --processed /tmp/proc100k   # a prepared folder (tables read as notebook 02 does)
    python benchmarks/bench_lists.py --customers 20000 --compare-cox   # the backtest against the Cox alternative

Per step: reading the two tables (with --processed), the scores at the as-of date (history, both fits,
scoring, reasons), the backtest (a second history and fit, 90 days earlier), and writing the two files.
Simulated leads: first touches over two years, about 12 journey events each (a tenth of them high-intent),
half test-drive; purchases under a known hazard (tests/time_to_purchase/test_lead_scores.py's world plus the touches).
Do not run above 100k on the shared machine: the issue's 1M figure is extrapolated (the steps are linear
in leads and events, apart from the fits, which are capped at 300k rows).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.time_to_purchase.test_lead_scores import AS_OF, simulate  # noqa: E402  (the tests' world with a known truth)

from journeylib.time_to_purchase import lead_history  # noqa: E402
from journeylib.time_to_purchase.lead_backtest import backtest  # noqa: E402
from journeylib.time_to_purchase.lead_scores import score, write_lead_lists  # noqa: E402


def simulated(customers: int, seed: int = 11):
    journeys, events, _ = simulate(customers, seed=seed)
    rng = np.random.default_rng(seed)
    count = rng.poisson(10, customers)
    lead = np.repeat(np.arange(customers), count)
    first = lead_history.seconds(journeys["first_touch_at"])
    end = np.minimum(lead_history.seconds(journeys["first_purchase_at"]), lead_history.seconds([AS_OF])[0])
    when = first[lead] + (rng.random(lead.size) * (end - first)[lead]).astype(np.int64)
    when = pd.to_datetime(when, unit="s", utc=True)
    kinds = np.where(rng.random(lead.size) < 0.1, rng.choice(list(lead_history.HIGH_INTENT), lead.size),
                     rng.choice(["site_visit", "vdp_view", "email_reply", "chat"], lead.size))
    touches = pd.DataFrame({"customer_id": journeys["customer_id"].to_numpy()[lead], "occurred_at": when,
                            "event_type": kinds, "source": "touchpoints"})
    events = pd.concat([events, touches], ignore_index=True)
    # as notebook 02 reads them: ids and labels as Categoricals
    return journeys, events.astype({"customer_id": "category", "event_type": "category", "source": "category"})


def timed(label, function, *args, **kwargs):
    """Wall seconds (returned) and CPU seconds of this process (printed too: on a shared machine the wall
    time is mostly waiting for a core)."""
    started, cpu = time.perf_counter(), time.process_time()
    value = function(*args, **kwargs)
    wall, used = time.perf_counter() - started, time.process_time() - cpu
    print(f"  {label:<32} {wall:6.1f} s wall {used:6.1f} s CPU", flush=True)
    return value, wall


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--processed", help="a prepared folder instead of simulated leads")
    parser.add_argument("--compare-cox", action="store_true",
                        help="also score the backtest's leads with the Cox model's conditional survival")
    args = parser.parse_args(argv)
    total = 0.0
    if args.processed:
        from journeylib.tables import ProcessedTables

        tables = ProcessedTables(args.processed)
        (journeys, events), seconds = timed("read journeys, touchpoints", lambda: (
            tables.load("journeys", columns=[*lead_history.JOURNEY_COLUMNS, "first_test_drive_at"]),
            tables.load("touchpoints", columns=lead_history.EVENT_COLUMNS, filters=[("source", "==", "touchpoints")],
                        categories=["customer_id", "event_type", "source"])))
        total += seconds
        as_of = tables.as_of
    else:
        journeys, events = simulated(args.customers)
        as_of = AS_OF
    if args.compare_cox and "first_test_drive_at" not in journeys:
        drives = events[events["event_type"].astype(str) == "test_drive"]
        first = drives.groupby(drives["customer_id"].astype(str), observed=True)["occurred_at"].min()
        journeys = journeys.assign(first_test_drive_at=first.reindex(journeys["customer_id"]).to_numpy())
    print(f"{len(journeys)} leads, {len(events)} events")
    known, seconds = timed("history at the as-of date", lead_history.history, journeys, events,
                           lead_history.seconds([as_of])[0])
    total += seconds
    scores, seconds = timed("scores (fits, scoring, reasons)", score, known)
    total += seconds
    test, seconds = timed("backtest (90 days earlier)", backtest, journeys, events, as_of, known=known)
    total += seconds
    with tempfile.TemporaryDirectory() as run:
        _, seconds = timed("write the two files", write_lead_lists, scores.table, run)
    total += seconds
    print(f"  {'total':<32} {total:6.1f} s wall  ({len(scores.table)} open leads scored)")
    totals = test.totals()
    print(f"backtest: AUC 30d {test.auc_30d:.3f}, 90d {test.auc_90d:.3f}; expected/observed 30d "
          f"{totals['expected_30d']:.0f}/{totals['observed_30d']}, 90d {totals['expected_90d']:.0f}/"
          f"{totals['observed_90d']}; {test.sentence()}")
    if args.compare_cox:
        from journeylib.time_to_purchase.lead_backtest import auc
        from journeylib.time_to_purchase.lead_cox import cox_scores

        scored = test.scored.set_index("customer_id")
        cox, seconds = timed("Cox conditional survival", cox_scores, journeys, test.as_of)
        cox = cox.set_index("customer_id").loc[scored.index]
        for days in (30, 90):
            outcome = scored[f"bought_{days}d"]
            print(f"{days} days: landmark AUC {auc(scored[f'p_purchase_{days}d'], outcome):.3f}, expected "
                  f"{scored[f'p_purchase_{days}d'].sum():.0f}; Cox AUC {auc(cox[f'p_purchase_{days}d'], outcome):.3f}, "
                  f"expected {cox[f'p_purchase_{days}d'].sum():.0f}; observed {int(outcome.sum())}")


if __name__ == "__main__":
    main()
