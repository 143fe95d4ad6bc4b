"""Time `journey prepare` against a floor (the engine copying the raw files to Parquet).

    python benchmarks/bench_prepare.py [--sizes 100000 1000000] [--work /tmp/prepare-work/bench]
                                       [--engine duckdb|spark|both]

`--engine spark` (or `both`, beside DuckDB in the same run) runs prepare on local Spark
(`spark.master` local[*]); its peak memory is given for the driver (the Python process) and
the JVM (its high-water mark, read before the session stops).

Samples are generated once per size with `journey sample` (kept in the work folder).
Each measurement runs in a fresh subprocess; its peak memory is the child's max RSS.
Writes benchmarks/results/prepare.json and prints a small table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
GOAL = {"seconds": 120, "peak_mb": 4096, "ratio": 3.0}

PREPARE = """
import sys
from journeylib.prepare import prepare
prepare(raw=sys.argv[1], out=sys.argv[2])
"""
# The floor: read every raw file the way prepare does (CSV as text) and write it straight to Parquet.
FLOOR = """
import os, sys
from pathlib import Path
import ibis
con = ibis.duckdb.connect(threads=os.cpu_count() or 1, memory_limit="2500MB")
out = Path(sys.argv[2]); out.mkdir(parents=True, exist_ok=True)
for path in sorted(Path(sys.argv[1]).glob("*.csv")):
    table = con.read_csv(str(path), all_varchar=True, header=True, delim=",", quote='"', escape='"')
    con.to_parquet(table, str(out / (path.stem + ".parquet")))
"""


PREPARE_SPARK = """
import sys, tempfile
from pathlib import Path
from journeylib.prepare import prepare
from journeylib.engine.spark import spark_session
session = spark_session(Path(tempfile.mkdtemp(prefix="bench-spark-")))
prepare(raw=sys.argv[1], out=sys.argv[2], engine="spark", session=session)
jvm = session.sparkContext._gateway.proc.pid
status = open(f"/proc/{jvm}/status").read()
print("JVM_KIB", status.split("VmHWM:")[1].split()[0])
session.stop()
"""

# The child reports its own peak RSS (KiB on Linux): the engine runs in-process, so that is all of it.
REPORT_PEAK = """
import resource
print("PEAK_KIB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def measure(code: str, *args) -> dict:
    """Wall seconds and peak RSS (MB) of `code` run in a fresh Python process."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code + REPORT_PEAK, *map(str, args)], check=True,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    peak = int(done.stdout.split("PEAK_KIB")[-1].split()[0])
    result = {"seconds": round(seconds, 2), "peak_mb": round(peak / 1024, 1)}
    if "JVM_KIB" in done.stdout:
        result["jvm_peak_mb"] = round(int(done.stdout.split("JVM_KIB")[-1].split()[0]) / 1024, 1)
    return result


def ensure_sample(folder: Path, customers: int):
    if (folder / "touchpoints.csv").exists():
        return
    subprocess.run([sys.executable, "-m", "journeylib.cli", "sample", "--out", str(folder),
                    "--customers", str(customers)], check=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--work", default="/tmp/prepare-work/bench")
    parser.add_argument("--engine", choices=("duckdb", "spark", "both"), default="duckdb")
    args = parser.parse_args(argv)
    engines = ("duckdb", "spark") if args.engine == "both" else (args.engine,)
    work = Path(args.work)
    results = []
    for size in args.sizes:
        raw = work / f"raw-{size}"
        ensure_sample(raw, size)
        rows = sum(1 for _ in open(raw / "touchpoints.csv", "rb")) - 1
        floor = measure(FLOOR, raw, work / f"floor-{size}")
        for engine in engines:
            code = PREPARE if engine == "duckdb" else PREPARE_SPARK
            prep = measure(code, raw, work / f"processed-{engine}-{size}")
            results.append({
                "engine": engine, "customers": size, "touchpoint_rows": rows,
                "prepare_seconds": prep["seconds"], "prepare_peak_mb": prep["peak_mb"],
                "jvm_peak_mb": prep.get("jvm_peak_mb"),
                "floor_seconds": floor["seconds"], "floor_peak_mb": floor["peak_mb"],
                "ratio": round(prep["seconds"] / floor["seconds"], 2),
            })
    print(f"{'engine':>7} {'customers':>10} {'touchpoints':>12} {'prepare s':>10} {'peak MB':>8} {'JVM MB':>7} "
          f"{'floor s':>8} {'ratio':>6}")
    for r in results:
        print(f"{r['engine']:>7} {r['customers']:>10} {r['touchpoint_rows']:>12} {r['prepare_seconds']:>10} "
              f"{r['prepare_peak_mb']:>8} {r['jvm_peak_mb'] or '':>7} {r['floor_seconds']:>8} {r['ratio']:>6}")
    (HERE / "results").mkdir(exist_ok=True)
    record = {"cores": os.cpu_count(), "goal_1m": GOAL, "results": results,
              "note": "peak MB is each run's own max RSS (ru_maxrss of the child process); JVM MB is the "
                      "Spark JVM's VmHWM"}
    name = "prepare.json" if engines == ("duckdb",) else f"prepare-{args.engine}.json"
    (HERE / "results" / name).write_text(json.dumps(record, indent=2), encoding="utf-8")
    return results


if __name__ == "__main__":
    main()
