"""Per-value cost of every text step of prepare at 1 KB, 10 KB and 100 KB: it must grow linearly.

    python benchmarks/bench_text.py [--sizes 1000 10000 100000] [--limit 15]

One long value must not stall a run, so no text step may cost more than linear time
in the length of a value. For each step and each shape of text (prose with emails and
phone numbers, and long runs without spaces that make backtracking regular
expressions quadratic) this times one value of each size (the best of a few batches),
prints a table (`-`: too cheap to measure, e.g. timestamps longer than any timestamp are
refused before any pattern runs) and fails (exit 1) when the time per value grows faster
than linearly from the two longest sizes: time(100 KB) / time(10 KB) must stay below `--limit` (linear
is about 10, quadratic about 100).
A benchmark, not a timed unit test: run it by hand on a quiet machine.

Steps: redaction (`journeylib.privacy.redact`, survey comments and error text), label
normalisation (the engine's `label`, and `journeylib.taxonomy.normalise_label`), id
cleaning (the engine's `ident`), number and timestamp parsing (the engine), reading a
CSV row, and sentiment scoring (`journeylib.personas.feedback.sentiment`, notebook 05).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import ibis
import pandas as pd

from journeylib.personas.feedback import sentiment
from journeylib.prepare import timestamps
from journeylib.prepare.engine import ident, label, number, text
from journeylib.prepare.load import csv_header
from journeylib.privacy import redact
from journeylib.taxonomy import normalise_label

SIZES = (1_000, 10_000, 100_000)
LIMIT = 15.0
BUDGET_BYTES = 400_000  # text per batch: many short values, a few long ones
MIN_SECONDS = 0.3       # repeat a batch until this much time was measured (max 5 batches)
NOISE_FLOOR = 1e-4      # below 0.1 ms per 100 KB value a step costs nothing measurable: not asserted

SHAPES = {
    "prose": ("Great service from Ann, call me at (312) 555-0101 or ann.lee@example.com about the "
              "2024-06-05 visit; price 32,500.00 was fair. "),
    "run": "a.",           # one long run of word characters and points: email and phone scans
    "digits": "1 2-",      # digits and separators without end: the phone scan
    "at": "a@b.",          # many @ in one run: the email domain scan
    "separators": " -_. ",  # the label's separator runs
}


def value(shape: str, size: int) -> str:
    unit = SHAPES[shape]
    return (unit * (size // len(unit) + 1))[:size]


def distinct(values):
    """The values made distinct at the same lengths: sentiment scores each distinct comment once, and a
    batch of one repeated value would time one value."""
    return [str(i) + v[len(str(i)):] for i, v in enumerate(values)]


def engine_step(expression):
    """Time an engine expression over a batch of values: compiled once, then run on each batch.

    (Compiling the timestamp expression takes about a second, the same for any value: measured
    per batch it would drown what the values cost.)
    """
    import duckdb
    import pyarrow as pa

    t = ibis.table({"v": "string"}, name="bench_values")
    sql = ibis.to_sql(t.select(x=expression(t.v)), dialect="duckdb")
    con = duckdb.connect(config={"threads": 1})

    def run(values):
        con.register("bench_values", pa.table({"v": pa.array(values, pa.string())}))
        con.sql(sql).to_arrow_table()
    return run


def csv_step(values):
    """Write the values as one-column rows of a CSV and read it the way prepare does."""
    from journeylib.engine import Engine
    from journeylib.prepare.load import _open

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.csv"
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write("id,comment\n")
            for i, v in enumerate(values):
                handle.write(f'{i},"{v}"\n')
        engine = Engine(con=ibis.duckdb.connect(threads=1), name="duckdb")
        width = len(csv_header(path))
        engine.con.to_pyarrow(_open(engine, path, width))


STEPS = {
    "redaction (privacy.redact)": lambda values: [redact(v) for v in values],
    "label (engine)": engine_step(lambda c: label(text(c))),
    "label (taxonomy.normalise_label)": lambda values: [normalise_label(v) for v in values],
    "id cleaning (engine ident)": engine_step(ident),
    "number (engine)": engine_step(number),
    "timestamp (engine)": engine_step(lambda c: timestamps.naive_and_offset(c, "%m/%d/%Y %H:%M")[0]),
    "csv row (engine read)": csv_step,
    "sentiment (feedback.sentiment)": lambda values: sentiment(pd.Series(distinct(values), dtype="object")),
}


def batch_seconds(step, values) -> float:
    """The best time of up to five runs of `step` on `values`."""
    best, spent, runs = float("inf"), 0.0, 0
    while runs < 5 and (runs == 0 or spent < MIN_SECONDS):
        start = time.perf_counter()
        step(values)
        took = time.perf_counter() - start
        best, spent, runs = min(best, took), spent + took, runs + 1
        if took > 5:  # a quadratic step: one run says enough
            break
    return best


def per_value_seconds(step, shape: str, size: int) -> float:
    """The marginal time per value: a batch of long values minus the same batch of one-character values.

    The subtraction removes what a batch costs whatever the values (an engine query's planning,
    a DataFrame): otherwise a fixed cost divided by a count that shrinks as values grow would
    look linear by construction.
    """
    count = max(1, BUDGET_BYTES // size)
    long = batch_seconds(step, [value(shape, size) for _ in range(count)])
    short = batch_seconds(step, [value(shape, 1) for _ in range(count)])
    return max(long - short, 1e-7) / count


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--limit", type=float, default=LIMIT)
    parser.add_argument("--steps", nargs="+", help="only steps whose name contains one of these words")
    args = parser.parse_args(argv)
    sizes = sorted(args.sizes)
    steps = {name: step for name, step in STEPS.items()
             if not args.steps or any(word in name for word in args.steps)}
    header = f"{'step':34} {'shape':10} " + " ".join(f"{s // 1000:>7} KB" for s in sizes) + "  growth per 10x"
    print(header)
    failures = []
    for name, step in steps.items():
        for shape in SHAPES:
            for attempt in range(2):  # a shared machine is noisy: a failing step is measured once more
                times = [per_value_seconds(step, shape, size) for size in sizes]
                growth = [later / earlier for earlier, later in zip(times, times[1:])]
                # asserted on the longest values (10 KB -> 100 KB); shorter ones are dominated by overheads and caches
                ok = (not growth or times[-1] < NOISE_FLOOR
                      or growth[-1] < args.limit * (sizes[-1] / sizes[-2]) / 10)
                if ok:
                    break
            print(f"{name:34} {shape:10} " + " ".join(f"{t * 1000:8.2f}ms" for t in times) + "  "
                  + " ".join(f"{g:5.1f}" if later >= NOISE_FLOOR else "    -" for g, later in zip(growth, times[1:]))
                  + ("" if ok else "  <- faster than linear"), flush=True)
            if not ok:
                failures.append(f"{name} on {shape}")
    if failures:
        print(f"\nFAILED: per-value cost grows faster than linearly (limit {args.limit} per 10x) in: "
              + "; ".join(failures))
        return 1
    print(f"\nOK: every step's per-value cost grows at most linearly (below {args.limit} per 10x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
