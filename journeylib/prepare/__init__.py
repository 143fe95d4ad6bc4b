"""`journey prepare`: raw dealer exports -> clean, identity-resolved, stage-tagged Parquet tables.

The steps are plain functions an analyst can run one at a time::

    run = load(raw_dir)                # read the exports (CSV as text) into DuckDB
    clean(run, as_of=None)             # missing markers, vocabularies, UTC timestamps, absent tables, as-of
    resolve_identities(run)            # test records, people, references remapped, duplicates
    tag_stages(run)                    # the journey log with stages
    build_journeys(run)                # one row per customer
    check_rejections(run)              # a table losing most of its rows stops here (journeylib.prepare.guard)
    write(run, out_dir)                # Parquet tables, rejects, summary.json: a new version of out_dir

`prepare()` runs them all and publishes the result as a new version of the processed folder
(journeylib.prepare.store). Rules and decisions: docs/prepare.md.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from journeylib import paths
from journeylib.config import load_config
from journeylib.prepare import store
from journeylib.prepare.clean import clean, resolve_as_of
from journeylib.engine.connection import connect, disconnect
from journeylib.prepare.guard import check_rejections
from journeylib.prepare.identity import resolve_identities
from journeylib.prepare.journeys import build_journeys
from journeylib.prepare.load import Run, load
from journeylib.prepare.stages import tag_stages
from journeylib.prepare.write import write, write_tables

__all__ = ["prepare", "load", "clean", "resolve_identities", "tag_stages", "build_journeys", "write", "Run"]


def check_inputs(raw_dir, config=None, as_of=None):
    """The configuration, read and checked, and a bad --as-of refused, before anything is written."""
    settings = load_config(config, raw_dir)
    if as_of is not None:
        resolve_as_of(as_of, settings.default_timezone)
    return settings


def build(raw_dir, settings, folder, as_of=None, now=None, engine=None, session=None, log=None) -> dict:
    """Every step, written into `folder` (an unpublished version, see store.new_version); the engine works
    in `.work-<pid>` beside it, removed at the end. Returns the summary.

    `engine`: duckdb or spark (default: the configuration's `engine`, else duckdb); `session`: an
    existing SparkSession for the spark engine; `log`: told each step's seconds, in one line.
    """
    folder = Path(folder)
    work = folder.parent / f"{store.WORK}{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    size = sum(p.stat().st_size for p in raw_dir.glob("*.*") if p.is_file()) if raw_dir.is_dir() else 0
    seconds = {}
    clock = time.monotonic()

    def timed(name, step, *args, **kwargs):
        nonlocal clock
        result = step(*args, **kwargs)
        now_ = time.monotonic()
        seconds[name], clock = now_ - clock, now_
        return result

    opened = timed("connect", connect, engine, work, size, settings, session=session)
    try:
        run = timed("load", load, raw_dir, settings, engine=opened)
        timed("clean", clean, run, as_of=as_of, now=now)
        timed("identities", resolve_identities, run)
        timed("stages", tag_stages, run)
        timed("journeys", build_journeys, run)
        timed("check", check_rejections, run)  # before anything is written: nothing silently thrown away
        summary = timed("write", write_tables, run, folder)
    finally:
        disconnect(opened)
        shutil.rmtree(work, ignore_errors=True)
    outliers = run.facts.get("as_of_outliers")
    if log and outliers:
        listed = ", ".join(f"{o['table']} row {o['row']} ({o['at'][:10]})" for o in outliers["listed"][:3])
        log(f"prepare: {outliers['rows']:,} row(s) set aside as isolated future dates ({outliers['rule']}): "
            f"{listed}; the as-of date is the latest other one, {outliers['latest_kept'][:10]} (pass --as-of to keep them)")
    if log:  # the engine evaluates lazily: most of the work shows where a table is materialised or written
        log("prepare: steps " + ", ".join(f"{name} {value:.1f} s" for name, value in seconds.items()))
    return summary


def prepare(raw=None, out=None, as_of=None, config=None, now=None, engine=None, session=None) -> dict:
    """Run every step into a new version of `out`; returns the summary. Bad input raises InputError and
    leaves `out` untouched. Personas and fingerprint.json are the runner's (journeylib.prepare.cache)."""
    raw_dir, root = paths.raw_dir(raw), paths.processed_root(out)
    settings = check_inputs(raw_dir, config, as_of)
    with store.writing(root) as writer, store.new_version(writer) as folder:
        return build(raw_dir, settings, folder, as_of=as_of, now=now, engine=engine, session=session)
