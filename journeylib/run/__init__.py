"""`journey run`: prepare the data, execute every notebook, write a dated report folder.

A run validates its arguments first (nothing runs on a typo), writes the
sample exports into the default raw folder when it is empty and no raw folder
was named (an explicitly named empty one is an error), prepares the processed tables (or
reuses them when the inputs are unchanged), then executes `notebooks/NN_*.ipynb`
in order with papermill into `reports/<run-id>/`, renders each executed
notebook to HTML, merges the notebooks' results into metrics.json and writes
changes.json, manifest.json, run.log and index.html. The folder holds an INCOMPLETE
marker until the end; then, for a published run, reports/trends.html is rebuilt and
`reports/latest` moves. A run with --only or -p is exploratory (not published) unless
`publish`; a run on the sample's exports is marked synthetic on every page (`synthetic`).
Layout and exit codes (3: --fail-on-change and a flagged change): docs/running.md;
metrics.json and changes.json: docs/metrics.md.

Modules, one concern each: `notebooks` (which notebooks), `parameters` (declared
parameters, their types, -p values), `folders` (run ids, INCOMPLETE, latest),
`execute` (kernel, papermill, timeouts, SIGTERM), `manifest` (metrics.json,
manifest.json, changes.json, exit codes), `log` (run.log), `synthetic` (sample data or not),
`render` and `trends` (HTML).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sys
import time
from pathlib import Path

from journeylib import paths
from journeylib.errors import InputError
from journeylib.prepare.cache import prepare_or_reuse, stored_fingerprint
from journeylib.run.execute import (
    KERNEL_NAME, cell_timeout, execute_all, jobs as notebook_jobs, previous_seconds, sigterm_interrupts,
)
from journeylib.run.folders import (
    INCOMPLETE_MARKER, iso, mark_exploratory, new_run_dir, now, previous_run, update_latest,
)
from journeylib.run.log import RunLog
from journeylib.run.manifest import (
    CHANGES_FILE, EXIT_FAILED, EXIT_OK, build_metrics, changes_file, data_section, exit_code, git_commit,
    package_versions, write_json,
)
from journeylib.run.notebooks import find_notebooks, select_notebooks
from journeylib.run.parameters import resolve_parameters
from journeylib.run.synthetic import is_sample
from journeylib.vocabulary import COUNTED_TABLES

RAW_TABLES = COUNTED_TABLES + ("dealers",)
LOW_SPACE_BYTES = 1 << 20  # a failed notebook with less than this free in the run folder: a full disk


def raw_has_tables(raw: Path) -> bool:
    from journeylib.prepare.load import EXTENSIONS  # what prepare reads (a gzip-compressed CSV too)

    return any((raw / f"{t}.{ext}").exists() for t in RAW_TABLES for ext in EXTENSIONS)


def run(raw=None, processed=None, reports=None, as_of=None, config=None, only=None, parameters=None,
        notebooks_dir=None, execution_timeout=None, echo=True, fail_on_change=False, engine=None,
        jobs=None, publish=False) -> int:
    """The `journey run` command. Returns the exit code (0 ok, 1 a notebook failed, 3 with `fail_on_change`
    when the run is ok and a change was flagged); InputError for bad input.

    A run with `only` or `parameters` is exploratory: it is not published (reports/latest, trends.html
    and the next run's comparison ignore it) unless `publish`."""
    log = RunLog(echo=echo)
    named_raw = raw not in (None, "") or bool(os.environ.get(paths.RAW_ENV))
    raw_folder, processed_folder = paths.raw_dir(raw), paths.processed_root(processed)
    reports_folder = paths.reports_dir(reports)
    timeout = cell_timeout(execution_timeout)
    side_by_side = notebook_jobs(jobs)
    notebooks = select_notebooks(find_notebooks(notebooks_dir or paths.notebooks_dir()), only)
    overrides = resolve_parameters(parameters, notebooks)
    if not raw_folder.is_dir():
        raise InputError(f"{raw_folder}: raw exports folder not found")
    if named_raw and not raw_has_tables(raw_folder):
        # a nightly job whose export drop failed must not publish a report on invented data
        raise InputError(f"{raw_folder}: holds no exports (expected a touchpoints or sales file, "
                         ".csv, .csv.gz or .parquet); the synthetic sample is written only by `journey sample` or into an "
                         "empty data/raw when no --raw is given")
    _check_writable(reports_folder)
    exploratory = exploratory_reason(only, parameters)
    try:
        with sigterm_interrupts(), contextlib.ExitStack() as holds:
            code = _run(log, raw_folder, processed_folder, reports_folder, as_of, config, notebooks, overrides,
                        timeout, holds, engine, side_by_side, exploratory=exploratory,
                        publish=publish or exploratory is None)
            return exit_code(code, log.run_dir, fail_on_change, log)
    except OSError as error:
        # a write that failed on a full or read-only disk names no file: name the folder being written
        raise with_path(error, log.run_dir or processed_folder) from error
    finally:
        with contextlib.suppress(OSError):  # run.log on a full disk: the error above is what matters
            log.close()


def with_path(error: OSError, folder: Path) -> OSError:
    """The error itself when it names its file, else the same error naming `folder`."""
    if error.filename is not None or error.errno is None:
        return error
    try:
        return type(error)(error.errno, error.strerror or os.strerror(error.errno), str(folder))
    except TypeError:  # a subclass with another constructor
        return OSError(error.errno, error.strerror or os.strerror(error.errno), str(folder))


def exploratory_reason(only, parameters) -> str | None:
    """Why a run is exploratory ('--only 03; -p churn_after_days=545'), None for a complete run with the
    configured parameters."""
    reasons = []
    if only:
        reasons.append("--only " + " ".join(only))
    if parameters:
        reasons.append("; ".join(f"-p {spec}" for spec in parameters))
    return "; ".join(reasons) or None


def _check_writable(reports: Path) -> None:
    """A reports folder that exists but cannot be written: one line before anything runs."""
    if reports.is_dir() and not os.access(reports, os.W_OK | os.X_OK):
        raise InputError(f"{reports}: the reports folder is not writable")


def _check_space(run_dir: Path, outcomes) -> None:
    """A notebook that failed on a full disk (papermill's 'Kernel died', a truncated notebook) is an
    environment failure: exit 2 naming the folder, not a failed report."""
    if all(o.status == "ok" for o in outcomes):
        return
    try:
        free = shutil.disk_usage(run_dir).free
    except OSError:
        return
    if free < LOW_SPACE_BYTES:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(run_dir))


def _run(log, raw, processed, reports, as_of, config, notebooks, overrides, timeout, holds, engine=None,
         jobs=1, exploratory=None, publish=True) -> int:
    started, clock = now(), time.monotonic()
    if not raw_has_tables(raw):
        from journeylib.sample import write_sample

        log(f"raw: {raw} holds no exports; writing the synthetic sample there (journey sample): this run's "
            "report is on invented data and says so on every page")
        write_sample(raw)
    synthetic = is_sample(raw)
    prepare_started = time.monotonic()
    # one complete version of the processed folder, held (no writer removes it) until the run ends
    prepared = holds.enter_context(prepare_or_reuse(raw, processed, as_of, config, log, engine=engine))
    summary, reused, processed = prepared.summary, prepared.reused, prepared.folder
    prepare_seconds = round(time.monotonic() - prepare_started, 2)
    data_as_of = summary.get("as_of")

    run_dir = new_run_dir(reports, started)
    log.run_dir = run_dir
    log.attach(run_dir / "run.log")
    log(f"run {run_dir.name}: {len(notebooks)} notebook(s) into {run_dir}, {min(jobs, len(notebooks))} at a time")
    if synthetic:
        log(f"run {run_dir.name}: the raw folder holds the synthetic sample (truth.json): every page says so")
    if exploratory:
        log(f"run {run_dir.name}: exploratory ({exploratory}); "
            + ("published as asked (--publish)" if publish else "reports/latest and trends.html stay as they are"))
    previous = previous_run(reports, run_dir)  # its times order the notebooks; the index compares with it
    try:
        outcomes = execute_all(log, notebooks, overrides, processed, run_dir, data_as_of, timeout, jobs,
                               previous_seconds(previous))
    except KeyboardInterrupt:
        log(f"run {run_dir.name}: interrupted; the folder stays marked {INCOMPLETE_MARKER} and latest is unchanged")
        raise
    _check_space(run_dir, outcomes)

    status = "ok" if all(o.status == "ok" for o in outcomes) else "failed"
    run_section = {
        "id": run_dir.name, "started_at": iso(started), "finished_at": iso(now()), "as_of": data_as_of,
        "timezone": summary.get("default_timezone") or "UTC",  # the zone the pages write dates in
        "status": status, "prepare": "reused" if reused else "prepared",
        "notebooks": {o.name: {"status": o.status, "seconds": o.seconds} for o in outcomes},
        "synthetic_data": synthetic, "exploratory": exploratory, "published": publish,
    }
    metrics = build_metrics(run_section, data_section(summary, processed), run_dir, log)
    write_json(run_dir / "metrics.json", metrics)
    write_json(run_dir / "manifest.json", {
        "run_id": run_dir.name, "command": sys.argv, "parameters": {o.name: o.parameters for o in outcomes},
        "inputs": {"raw_dir": str(raw), "processed_dir": str(processed), "config": config,
                   "as_of_requested": as_of, "fingerprint": stored_fingerprint(processed),
                   "raw_files": summary.get("inputs"), "synthetic_data": synthetic},
        "engine": summary.get("engine", "duckdb"),  # the engine that made the processed tables
        "versions": package_versions(), "git": git_commit(paths.project_root()),
        "kernel": {"name": KERNEL_NAME, "python": sys.executable}, "cell_timeout_seconds": timeout, "jobs": jobs,
        "timings": {"prepare_seconds": prepare_seconds, "total_seconds": round(time.monotonic() - clock, 2),
                    "notebooks": {o.name: o.seconds for o in outcomes}},
    })
    write_json(run_dir / CHANGES_FILE, changes_file(metrics))
    from journeylib.run import render

    if synthetic:
        for outcome in outcomes:
            for role in ("analyst", "reviewer"):
                if outcome.files.get(role):
                    render.mark_synthetic_file(run_dir / outcome.files[role])
    render.write_index(run_dir, metrics, outcomes, previous)
    log(f"run {run_dir.name}: {metrics['run']['status']} in {time.monotonic() - clock:.1f} s; "
        f"open {run_dir / 'index.html'}")
    if not publish:
        mark_exploratory(run_dir, exploratory)
    (run_dir / INCOMPLETE_MARKER).unlink()
    if publish:
        _write_trends(reports, log)
        update_latest(reports, log)
    return EXIT_OK if metrics["run"]["status"] == "ok" else EXIT_FAILED


def _write_trends(reports: Path, log) -> None:
    from journeylib.run import trends

    try:
        trends.write_trends(reports)
    except Exception as error:  # noqa: BLE001 - the trend page must not fail a finished run
        log(f"trends: not written ({type(error).__name__}: {error})")
