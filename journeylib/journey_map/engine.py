"""The event log in the engine that prepared it: one connection, and the shared pieces of every grouping.

`touchpoints.parquet` (one row per event) is never loaded into pandas: the
groupings (variants, transitions, channel mix, attribution paths) are Ibis
expressions run by the engine `journey prepare` used, recorded in summary.json
(DuckDB by default, Spark for data lakes), and only small summaries come back.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from journeylib import paths, tables as tables_module
from journeylib.config import DEFAULT_ENGINE

START, END = "(start)", "(end)"
SEP = " > "


def engine_of(tables) -> str:
    """The engine that made the processed tables (summary.json's `engine`; DuckDB for older folders)."""
    return tables.summary().get("engine") or DEFAULT_ENGINE


def connect(tables, session=None):
    """An open engine (journeylib.engine.Engine) of the kind the data was prepared with.

    DuckDB: in memory, in this process. Spark: with prepare's settings (an active or given
    session), in a work folder of its own that `journeylib.engine.disconnect` removes.
    """
    from journeylib.engine import connection

    engine = engine_of(tables)
    if engine == DEFAULT_ENGINE:
        return connection.in_memory()
    import tempfile

    return connection.connect(engine, work_dir=Path(tempfile.mkdtemp(prefix="journey-map-")), session=session,
                              temporary=True)


def open_events(tables, con=None):
    """The processed `touchpoints` table as an Ibis table on `con`; nothing is loaded.

    `con`: an open engine (journeylib.engine.Engine). `tables`: a ProcessedTables (default `con`:
    `connect(tables)`), or a folder holding touchpoints.parquet (default `con`: DuckDB in memory).
    """
    folder = tables.folder if hasattr(tables, "folder") else paths.processed_dir(tables)
    path = folder / "touchpoints.parquet"
    if not path.exists():
        raise tables_module.MissingProcessedData(
            f"{path}: table not found; run `journey prepare` or `journey run` first")
    if con is None:
        from journeylib.engine.connection import in_memory

        con = connect(tables) if hasattr(tables, "folder") else in_memory()
    backend = con.con
    if con.name != "duckdb":
        return backend.read_parquet(str(path), table_name="touchpoints")
    source = "read_parquet('" + str(path).replace("'", "''") + "')"
    # Nanosecond timestamps (pandas' default when writing Parquet) are a type Ibis does not know:
    # read them as DuckDB's microsecond timestamps (the precision prepare writes; sub-microsecond parts dropped).
    casts = [f'CAST("{name}" AS {"TIMESTAMPTZ" if kind == "TIMESTAMPTZ_NS" else "TIMESTAMP"}) AS "{name}"'
             for name, kind, *_ in backend.raw_sql(f"DESCRIBE SELECT * FROM {source}").fetchall()
             if kind in ("TIMESTAMP_NS", "TIMESTAMPTZ_NS")]
    if not casts:
        return backend.read_parquet(str(path), table_name="touchpoints")
    backend.raw_sql(f'CREATE OR REPLACE TEMP VIEW "touchpoints" AS SELECT * REPLACE ({", ".join(casts)}) FROM {source}')
    return backend.table("touchpoints")


def events_table(frame: pd.DataFrame):
    """A small DataFrame shaped like `touchpoints` as an Ibis table (tests, segments)."""
    import ibis

    return ibis.memtable(frame)


def with_segments(events, segments: pd.DataFrame | None):
    """The events joined to a (customer_id, segment) frame; without one every event is in segment 'all'."""
    import ibis

    if segments is None:
        return events.mutate(segment=ibis.literal("all"))
    seg = ibis.memtable(segments[["customer_id", "segment"]].astype(str))
    return events.join(seg, "customer_id")


def order(t):
    """Event order within a customer: time, then event id (so ties come out the same on every engine)."""
    return [t.occurred_at, t.event_id]


def journey_events(events):
    """Events that count for the journey and carry a stage."""
    return events.filter(events.counts_for_journey & events.stage.notnull())


def collapsed(t, column: str):
    """Rows where `column` differs from the previous row of the same customer (a, a, b -> a, b)."""
    import ibis

    w = ibis.window(group_by=t.customer_id, order_by=order(t))
    t = t.mutate(_previous=t[column].lag().over(w))
    return t.filter(t._previous.isnull() | (t._previous != t[column])).drop("_previous")


def sequences(steps, column: str, key: str = "path", by=("customer_id",)):
    """One row per customer: `column` over the customer's rows in event order, joined with SEP.

    Portable form: Spark has no ordered string aggregate, so the (time, event id, value)
    triples are collected, sorted (by time, then event id: `order`) and their values joined.
    """
    import ibis

    triples = steps.group_by(list(by)).aggregate(
        _steps=ibis.struct({"at": steps.occurred_at, "id": steps.event_id, "value": steps[column]}).collect())
    return triples.select(*by, **{key: triples._steps.sort().map(lambda step: step.value).join(SEP)})
