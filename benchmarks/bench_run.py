"""Time a whole nightly run: `journey prepare`, its two floors and every notebook under `journey run`.

    python benchmarks/bench_run.py [--sizes 100000,1000000] [--engine duckdb|spark]
                                   [--only prepare,floor,floor_sorted,run|NN,...] [--data benchmarks/data]
                                   [--baseline DIR]

For each size the raw exports are generated once with `journey sample --customers N` and kept in
`--data` (default benchmarks/data/, git-ignored). Then, one size after the other, in one run:

- `floor`: the engine reads every raw CSV as text and writes it straight to Parquet (the least
  `journey prepare` can pay to turn the exports into Parquet);
- `floor_sorted`: the engine reads touchpoints.csv as text, sorts it by customer and time and writes
  it (the least any event-log tool pays for an ordered journey log);
- `prepare`: `journey prepare --raw ... --out ...` (a fresh processed folder);
- `run`: `journey run --jobs 1` into a fresh processed and reports folder (so it prepares again: its total
  is the whole nightly job, one notebook after the other); the time of each notebook (alone on the
  machine, as a data scientist running it in JupyterLab sees it) and of its prepare step are the ones the
  run records in its manifest.json (`timings`), its status the one in metrics.json;
- `run_jobs`: the same `journey run` with its default `--jobs` (notebooks side by side), into the `run`
  step's reports folder (so, as a nightly job, it starts the notebooks longest first by the previous
  run's times): the nightly job as scheduled.

`--repeat N` runs the floors and prepare N times, interleaved, and keeps each one's fastest (a shared
machine disturbs single runs); `cpu_seconds` (user + system of the process tree) is given beside wall time, and `tables_seconds`: when
the processed tables were written (summary.json appeared), before `journey prepare` builds personas.
`--only` keeps some of these steps; a notebook name or number (`02`, `05_personas_and_feedback`) runs
`journey run --only` those notebooks. `--baseline DIR` also times `journey prepare` with the journeylib
package found in DIR (an older checkout: `git archive <commit> journeylib | tar -x -C DIR`), right beside
the current one, as `prepare_baseline`.

Peak memory: every command runs as a child process; a sampler thread walks the child's process tree
with psutil every 0.2 s. A step's `peak_mb` is the larger of the highest tree RSS sampled and the main
process's own high-water mark (VmHWM in /proc/<pid>/status, read while it runs), so the prepare process
counts whole (with Spark's JVM, a child, included in the tree). Under `journey run` the papermill kernels
are child processes (`ipykernel_launcher`): each kernel's peak is its VmHWM or its subtree's sampled RSS,
whichever is larger, and kernels are matched to notebooks in the order they started (notebooks run one
after the other). The `journey run` row's peak is that main process's own VmHWM (prepare runs in it).

Writes benchmarks/results/run.json and benchmarks/results/run.md (the Markdown table, also printed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
STEPS = ("floor", "floor_sorted", "prepare", "run", "run_jobs")
SAMPLE_SECONDS = 0.2

# The floors run in a fresh Python on the chosen engine; argv: engine, raw folder, out folder.
FLOOR = """
import os, sys
from pathlib import Path
import ibis
engine, raw, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
out.mkdir(parents=True, exist_ok=True)
if engine == "duckdb":
    con = ibis.duckdb.connect(threads=os.cpu_count() or 1, memory_limit="2500MB")
    def read(path):
        return con.read_csv(str(path), all_varchar=True, header=True, delim=",", quote='"', escape='"')
else:
    from journeylib.engine.spark import spark_session
    import tempfile
    session = spark_session(Path(tempfile.mkdtemp(prefix="bench-floor-")))
    con = ibis.pyspark.connect(session)
    def read(path):
        return con.read_csv(str(path), header=True, inferSchema=False, multiLine=True, quote='"', escape='"')
"""
FLOOR_ALL = FLOOR + """
for path in sorted(raw.glob("*.csv")):
    con.to_parquet(read(path), str(out / (path.stem + ".parquet")))
"""
FLOOR_SORTED = FLOOR + """
table = read(raw / "touchpoints.csv")
con.to_parquet(table.order_by(["customer_id", "occurred_at"]), str(out / "touchpoints.parquet"))
"""


def _hwm_kib(pid: int) -> int:
    """The process's own peak resident memory (VmHWM), 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    for p in [process, *process.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def measure(command: list[str], env: dict | None = None, log: Path | None = None, watch: Path | None = None) -> dict:
    """Run `command`; wall seconds, exit code, peak MB of the whole process tree and of each kernel.

    `watch`: a processed folder; `tables_seconds` is when its summary.json first appeared (the tables
    written: what follows in `journey prepare` is the shared personas table)."""
    out = open(log, "w") if log else subprocess.DEVNULL
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    # a neutral working folder: `python -m` puts the working folder first on sys.path, so run from the
    # project root it would import this checkout's journeylib whatever PYTHONPATH (--baseline) says
    child = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tempfile.gettempdir())
    main = psutil.Process(child.pid)
    peak = {"tree": 0, "main_hwm": 0}
    kernels: dict[int, dict] = {}
    done = threading.Event()
    written = {}

    def sample():
        while not done.is_set():
            if watch is not None and not written and any(Path(watch).rglob("summary.json")):
                written["at"] = time.perf_counter() - start
            try:
                peak["tree"] = max(peak["tree"], _tree_rss(main))
                peak["main_hwm"] = max(peak["main_hwm"], _hwm_kib(child.pid) * 1024)
                for p in main.children(recursive=True):
                    try:
                        if not any("ipykernel" in part for part in p.cmdline()):
                            continue
                        k = kernels.setdefault(p.pid, {"started": p.create_time(), "peak": 0})
                        k["peak"] = max(k["peak"], _tree_rss(p), _hwm_kib(p.pid) * 1024)
                    except psutil.Error:
                        pass
            except psutil.Error:
                pass
            done.wait(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = child.wait()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if log:
        out.close()
    mb = 1 << 20
    return {"seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "exit_code": code,
            "peak_mb": round(max(peak["tree"], peak["main_hwm"]) / mb, 1),
            "main_peak_mb": round(peak["main_hwm"] / mb, 1),
            **({"tables_seconds": round(written["at"], 2)} if written else {}),
            "kernel_peaks_mb": [round(k["peak"] / mb, 1) for k in sorted(kernels.values(), key=lambda k: k["started"])]}


def journey(*args) -> list[str]:
    return [sys.executable, "-m", "journeylib.cli", *map(str, args)]


def ensure_sample(folder: Path, customers: int) -> Path:
    """The raw exports for `customers`, generated once (a complete folder has its truth.json)."""
    raw = folder / f"raw-{customers}"
    if not (raw / "truth.json").exists():
        shutil.rmtree(raw, ignore_errors=True)
        subprocess.run(journey("sample", "--out", raw, "--customers", customers), check=True,
                       stdout=subprocess.DEVNULL)
    return raw


def _fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    return path


def _checked(name: str, result: dict) -> dict:
    if result["exit_code"] != 0:
        print(f"  {name}: exit code {result['exit_code']}", file=sys.stderr)
    return result


def _best(results: list) -> dict:
    """The fastest of repeated measurements (the least disturbed by other work on the machine)."""
    best = dict(min(results, key=lambda r: r["seconds"]))
    if len(results) > 1:
        best["all_seconds"] = [r["seconds"] for r in results]
    return best


def bench_size(customers: int, data: Path, engine: str, steps: set, notebooks: list, baseline: Path | None,
               repeat: int = 1) -> dict:
    raw = ensure_sample(data, customers)
    work = data / "work"
    work.mkdir(parents=True, exist_ok=True)
    rows = sum(1 for _ in open(raw / "touchpoints.csv", "rb")) - 1
    entry = {"customers": customers, "touchpoint_rows": rows, "engine": engine, "steps": {}}
    step = entry["steps"]
    plain = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # floors and prepare, each once per round: repeated rounds interleave them, so a busy spell on the
    # machine does not fall on one of them alone
    commands = {}  # name -> (command, environment, output folder, is it a prepare)
    if "floor" in steps:
        out = work / f"floor-{customers}"
        commands["floor"] = ([sys.executable, "-c", FLOOR_ALL, engine, raw, out], plain, out, False)
    if "floor_sorted" in steps:
        out = work / f"floor-sorted-{customers}"
        commands["floor_sorted"] = ([sys.executable, "-c", FLOOR_SORTED, engine, raw, out], plain, out, False)
    if "prepare" in steps:
        runs = [("prepare_baseline", {**plain, "PYTHONPATH": str(baseline)})] if baseline else []
        for name, env in runs + [("prepare", plain)]:
            out = work / f"{name}-{customers}"
            commands[name] = (journey("prepare", "--raw", raw, "--out", out, "--engine", engine), env, out, True)
    measured = {name: [] for name in commands}
    for round_ in range(repeat):
        for name, (command, env, out, prepares) in commands.items():
            print(f"{customers}: {name}" + (f" ({round_ + 1}/{repeat})" if repeat > 1 else ""), flush=True)
            _fresh(out)
            measured[name].append(_checked(name, measure(command, env=env, log=work / f"{name}-{customers}.log",
                                                         watch=out if prepares else None)))
    for name, results in measured.items():
        step[name] = _best(results)
    if "run" in steps:
        print(f"{customers}: run", flush=True)
        # an older journeylib (the baseline's Python) runs notebooks one at a time and has no --jobs
        one_at_a_time = ["--jobs", "1"] if "--jobs" in _run_help(plain) else []
        result, reports = _run(raw, work, customers, engine, notebooks, plain, one_at_a_time, "run")
        step["run"] = {k: result[k] for k in ("seconds", "cpu_seconds", "exit_code")}
        step["run"]["peak_mb"] = result["main_peak_mb"]
        entry["notebooks"] = _notebooks(reports / "latest", result["kernel_peaks_mb"], step["run"])
    if "run_jobs" in steps:
        print(f"{customers}: run_jobs", flush=True)
        result, reports = _run(raw, work, customers, engine, notebooks, plain, [], "run_jobs")
        step["run_jobs"] = {k: result[k] for k in ("seconds", "cpu_seconds", "exit_code")}
        step["run_jobs"]["peak_mb"] = result["peak_mb"]  # the whole tree: kernels side by side
    return entry


def _run_help(env: dict) -> str:
    return subprocess.run(journey("run", "--help"), env=env, capture_output=True, text=True,
                          cwd=tempfile.gettempdir()).stdout


def _run(raw: Path, work: Path, customers: int, engine: str, notebooks: list, env: dict, extra: list, name: str):
    """`journey run` into fresh folders: (measurement, reports folder)."""
    # run_jobs keeps the run step's report folder, as a nightly job has the night before's: the
    # notebooks then start longest first by its times
    reports = work / f"reports-{customers}" if name == "run_jobs" else _fresh(work / f"reports-{customers}")
    processed = _fresh(work / f"processed-{customers}")
    command = journey("run", "--raw", raw, "--processed", processed, "--reports", reports, "--engine", engine, *extra)
    if notebooks:
        # --publish: an --only run is exploratory, and the timings are read through reports/latest
        command += ["--only", *notebooks, "--publish"]
    return _checked(name, measure(command, env=env, log=work / f"{name}-{customers}.log")), reports


def _notebooks(run_dir: Path, kernel_peaks: list, run: dict) -> dict:
    """Each notebook's seconds (manifest.json timings), status (metrics.json) and kernel peak."""
    try:
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
        metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        run["note"] = f"no run folder to read ({error})"
        return {}
    timings = manifest.get("timings", {})
    run["recorded_total_seconds"] = timings.get("total_seconds")
    run["recorded_prepare_seconds"] = timings.get("prepare_seconds")
    seconds = timings.get("notebooks", {})
    statuses = metrics.get("run", {}).get("notebooks", {})
    matched = len(kernel_peaks) == len(seconds)
    if not matched:
        run["note"] = f"{len(kernel_peaks)} kernels seen for {len(seconds)} notebooks: kernel peaks not given"
    return {name: {"seconds": value, "status": statuses.get(name, {}).get("status"),
                   "kernel_peak_mb": kernel_peaks[i] if matched else None}
            for i, (name, value) in enumerate(seconds.items())}


def _rows(entry: dict) -> list[tuple[str, float | None, float | None]]:
    """(label, seconds, peak MB) in table order for one size."""
    steps, rows = entry["steps"], []
    for name in ("floor", "floor_sorted", "prepare_baseline", "prepare"):
        if name in steps:
            rows.append((f"`journey prepare` ({name.split('_')[1]})" if name == "prepare_baseline" else
                         {"floor": "floor: CSV as text -> Parquet", "floor_sorted": "floor: touchpoints sorted",
                          "prepare": "`journey prepare`"}[name], steps[name]["seconds"], steps[name]["peak_mb"]))
    for name in ("prepare_baseline", "prepare"):
        if steps.get(name, {}).get("tables_seconds"):
            which = " (baseline)" if name == "prepare_baseline" else ""
            rows.append((f"&nbsp;&nbsp;of which the tables{which}", steps[name]["tables_seconds"], None))
    if "prepare" in steps and "floor" in steps:
        rows.append(("prepare / floor", round(steps["prepare"]["seconds"] / steps["floor"]["seconds"], 2), None))
    if "run" in steps:
        run = steps["run"]
        rows.append(("run: prepare step", run.get("recorded_prepare_seconds"), None))
        for name, nb in entry.get("notebooks", {}).items():
            label = name if nb["status"] in ("ok", None) else f"{name} ({nb['status']})"
            rows.append((label, nb["seconds"], nb["kernel_peak_mb"]))
        rows.append(("whole `journey run`, one notebook at a time", run["seconds"], run["peak_mb"]))
    if "run_jobs" in steps:
        rows.append(("whole `journey run` (default --jobs)", steps["run_jobs"]["seconds"],
                     steps["run_jobs"]["peak_mb"]))
    return rows


def table(results: list) -> str:
    """The Markdown table: seconds and peak MB per size, and growth (1.0 = linear in customers)."""
    sizes = [r["customers"] for r in results]
    per_size = [dict((label, (s, m)) for label, s, m in _rows(r)) for r in results]
    labels = list(dict.fromkeys(label for r in results for label, _, _ in _rows(r)))
    head = "| step | " + " | ".join(f"{n:,} s | peak MB" for n in sizes)
    head += f" | growth {sizes[-2]:,} -> {sizes[-1]:,} |" if len(sizes) > 1 else " |"
    rule = "|---|" + "---:|---:|" * len(sizes) + ("---:|" if len(sizes) > 1 else "")
    lines = [head, rule]
    for label in labels:
        cells = []
        for values in per_size:
            s, m = values.get(label, (None, None))
            cells += [f"{s:.2f}" if isinstance(s, (int, float)) else "", f"{m:,.0f}" if m else ""]
        if len(sizes) > 1:
            first, last = per_size[-2].get(label, (None,))[0], per_size[-1].get(label, (None,))[0]
            ratio = label != "prepare / floor" and first and last
            cells.append(f"{(last / first) / (sizes[-1] / sizes[-2]):.2f}" if ratio else "")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    touch = ", ".join(f"{r['touchpoint_rows']:,}" for r in results)
    lines.append("")
    lines.append(f"Engine {results[0]['engine']}; touchpoint rows {touch}; {os.cpu_count()} cores. Growth: the time "
                 f"ratio between the two largest sizes over their customer ratio (1.0 is linear, "
                 f"below 1 better). Notebook peaks are the kernels'; the `--jobs 1` run's peak is the `journey run` process, the side-by-side run's the whole process tree.")
    return "\n".join(lines)


def parse_only(value: str | None) -> tuple[set, list]:
    """--only: steps, and notebook names (which imply the run step with `journey run --only`)."""
    if not value:
        return set(STEPS), []
    names = [v.strip() for v in value.split(",") if v.strip()]
    steps = {n for n in names if n in STEPS}
    notebooks = [n for n in names if n not in STEPS]
    bad = [n for n in notebooks if not n[:2].isdigit()]
    if bad:
        raise SystemExit(f"--only: {', '.join(bad)} is neither a step ({', '.join(STEPS)}) nor a notebook (NN...)")
    if notebooks and not steps & {"run", "run_jobs"}:
        steps.add("run")
    return steps, notebooks


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="customers per sample, comma-separated")
    parser.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb")
    parser.add_argument("--only", help=f"comma-separated steps ({', '.join(STEPS)}) and/or notebooks (02,05)")
    parser.add_argument("--data", default=str(HERE / "data"), help="where samples are generated once and kept")
    parser.add_argument("--baseline", help="also time `journey prepare` with the journeylib package in this folder")
    parser.add_argument("--results", default=str(RESULTS),
                        help="folder for run.json and run.md (default benchmarks/results)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of the floors and prepare (the fastest is kept)")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    steps, notebooks = parse_only(args.only)
    baseline = Path(args.baseline).resolve() if args.baseline else None
    if baseline and not (baseline / "journeylib" / "__init__.py").is_file():
        raise SystemExit(f"--baseline: {baseline} has no journeylib package")
    data = Path(args.data).resolve()
    started = datetime.now(timezone.utc)
    results = [bench_size(n, data, args.engine, steps, notebooks, baseline, max(1, args.repeat)) for n in sizes]
    record = {
        "started_at": started.isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / (1 << 30), 1),
                    "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
                    "python": platform.python_version()},
        "engine": args.engine, "steps": sorted(steps), "notebooks": notebooks or "all",
        "baseline": str(baseline) if baseline else None,
        "peak_memory": "psutil samples of each child's process tree every 0.2 s, and VmHWM of the main "
                       "process and of each kernel (see the module docstring)",
        "results": results,
    }
    out = Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    (out / "run.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    markdown = table(results)
    (out / "run.md").write_text(markdown + "\n", encoding="utf-8")
    print(markdown)
    return record


if __name__ == "__main__":
    main()
