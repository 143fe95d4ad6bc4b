"""`journey prepare`: raw dealer exports -> clean, identity-resolved, stage-tagged Parquet tables.

The steps are plain functions an analyst can run one at a time::

    run = load(raw_dir)                # read the exports (CSV as text) into DuckDB
    clean(run, as_of=None)             # missing markers, vocabularies, UTC timestamps, as-of
    resolve_identities(run)            # test records, people, references remapped, duplicates
    tag_stages(run)                    # the journey log with stages
    build_journeys(run)                # one row per customer
    write(run, out_dir)                # Parquet tables, rejects, summary.json

`prepare()` runs them all. Rules and decisions: docs/prepare.md.
"""

from __future__ import annotations

import os
import shutil

from journeylib import paths
from journeylib.config import load_config
from journeylib.prepare.clean import clean, resolve_as_of
from journeylib.prepare.connection import connect, disconnect
from journeylib.prepare.identity import resolve_identities
from journeylib.prepare.journeys import build_journeys
from journeylib.prepare.load import Run, load
from journeylib.prepare.stages import tag_stages
from journeylib.prepare.write import write

__all__ = ["prepare", "load", "clean", "resolve_identities", "tag_stages", "build_journeys", "write", "Run"]


def prepare(raw=None, out=None, as_of=None, config=None, now=None, engine=None, session=None) -> dict:
    """Run every step; returns the summary. Bad input raises InputError and leaves `out` untouched.

    `engine`: duckdb or spark (default: the configuration's `engine`, else duckdb); `session`: an
    existing SparkSession for the spark engine.
    """
    raw_dir, out_dir = paths.raw_dir(raw), paths.processed_dir(out)
    settings = load_config(config, raw_dir)
    if as_of is not None:
        resolve_as_of(as_of, settings.default_timezone)  # fail early on a bad --as-of
    work = out_dir.parent / f".{out_dir.name}.work-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    size = sum(p.stat().st_size for p in raw_dir.glob("*.*") if p.is_file()) if raw_dir.is_dir() else 0
    con = connect(engine, work, size, settings, session=session)
    try:
        run = load(raw_dir, settings, con=con)
        clean(run, as_of=as_of, now=now)
        resolve_identities(run)
        tag_stages(run)
        build_journeys(run)
        return write(run, out_dir)
    finally:
        disconnect(con)
        shutil.rmtree(work, ignore_errors=True)
