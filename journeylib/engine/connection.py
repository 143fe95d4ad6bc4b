"""Connecting to an engine and disconnecting from it (what this process made there goes with it)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from journeylib.config import DEFAULT_ENGINE, ENGINES, Config
from journeylib.engine.state import Engine
from journeylib.errors import InputError

MEMORY_LIMIT_ENV = "JOURNEY_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "2500MB"
ON_DISK_FROM_BYTES = 64 << 20


def connect(engine: str | None = None, work_dir=None, input_bytes: int = 0, config: Config | None = None,
            session=None, temporary: bool = False) -> Engine:
    """An open engine: `engine`, else the configuration's, else DuckDB, working in `work_dir`.

    `session`: an existing SparkSession to use (a managed platform's); it is not stopped.
    `temporary`: `work_dir` was made for this connection alone; disconnect removes it.
    """
    config = config or Config()
    engine = engine or config.engine or DEFAULT_ENGINE
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r} (expected one of {', '.join(ENGINES)})")
    work_dir = Path(work_dir)
    if engine == "duckdb":
        import ibis

        (work_dir / "spill").mkdir(parents=True, exist_ok=True)
        con = ibis.duckdb.connect(
            str(work_dir / "engine.duckdb") if input_bytes >= ON_DISK_FROM_BYTES else ":memory:",
            threads=os.cpu_count() or 1,
            memory_limit=os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT),
            temp_directory=str(work_dir / "spill"),
            preserve_insertion_order=True,  # the raw row number relies on scan order
        )
        found = Engine(con=con, name="duckdb", work_dir=work_dir)
    else:
        from journeylib.engine.spark import connect_spark

        found = connect_spark(work_dir, config, session)
    if temporary:
        found.temporary_dir = work_dir
    return found


def in_memory() -> Engine:
    """An in-memory DuckDB of this process (no work folder: nothing spills)."""
    import ibis

    return Engine(con=ibis.duckdb.connect(), name="duckdb")


def disconnect(engine: Engine) -> None:
    """Close the connection and drop what this process made in it (Spark: its views, checkpoints and
    database, and the session when it was started here); remove a temporary work folder."""
    try:
        if engine.name == "spark":
            from journeylib.engine.spark import release

            release(engine)
        else:
            engine.con.disconnect()
    finally:
        if engine.temporary_dir is not None:
            shutil.rmtree(engine.temporary_dir, ignore_errors=True)
