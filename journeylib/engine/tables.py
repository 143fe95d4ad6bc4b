"""Tables in an engine: an expression computed once as a named table, and an expression's rows as Arrow."""

from __future__ import annotations

import ibis

from journeylib.engine.state import Engine


def spark_frame(engine: Engine, expr):
    """The Spark DataFrame of an Ibis expression (in-memory tables it reads registered first)."""
    con = engine.con
    con._run_pre_execute_hooks(expr)
    return con._session.sql(con.compile(expr))


def store(engine: Engine, name: str, data, file_order: str | None = None):
    """Materialise an expression (or Arrow table) as a new engine table.

    Never replaces a table: a repeated name gets a suffix, so a step can be run
    again on the same connection (and Ibis 12's overwrite path is avoided: it
    emits a bare `DROP TABLE IF EXISTS` under sqlglot 30). The names used are
    counted in `engine.table_names` (list_tables() fails on duckdb 2.0).
    """
    used = engine.table_names
    used[name] = used.get(name, 0) + 1
    # in-memory data becomes a memtable there: Ibis would emit the broken DROP VIEW
    return materialise(engine, name if used[name] == 1 else f"{name}_{used[name]}", data, file_order)


def materialise(engine: Engine, name: str, data, file_order: str | None = None):
    """Compute an expression (or hold in-memory data) once, as a new engine table called `name`.

    `file_order`: the expression's column numbering a raw file's rows 1, 2, ... in scan order (as
    `files.read_raw` adds it); DuckDB then keeps it as the table's row ids instead of computing it.

    DuckDB: a table. Spark: a checkpoint (the rows kept by the executors, the query plan cut
    there, so later steps do not re-plan everything before them) as a temporary view of this
    run's session. Local masters keep it on local disk (released when the run disconnects); a
    cluster writes it to the run's database (it survives a lost executor).
    """
    con = engine.con
    if not isinstance(data, ibis.Expr):
        data = ibis.memtable(data)
    if engine.name != "spark":
        if file_order is None:
            return con.create_table(name, data)
        # The table is written in scan order (preserve_insertion_order), so its rowid is the file order:
        # the same numbers as the row_number() over the scan, without that window's one-threaded pass.
        con.create_table(f"{name}_data", data.drop(file_order))
        con.raw_sql(f'CREATE VIEW "{name}" AS SELECT rowid + 1 AS "{file_order}", * FROM "{name}_data"')
        return con.table(name)
    frame = spark_frame(engine, data)
    if engine.local:
        from pyspark import StorageLevel

        # on local disk, not in the heap: the heap is the one machine's memory for every step's joins and sorts
        frame = frame.localCheckpoint(eager=True, storageLevel=StorageLevel.DISK_ONLY)
        engine.cached.append(frame)
        frame.createOrReplaceTempView(name)
    else:
        frame.write.saveAsTable(name)
    return con.table(name)


def drop(engine: Engine, table) -> None:
    """Free a table `store` made, before the engine is closed (DuckDB: its memory). Spark's checkpoints are
    freed when the run disconnects."""
    if engine.name != "spark":
        engine.con.raw_sql(f'DROP TABLE IF EXISTS "{table.get_name()}"')


def to_arrow(engine: Engine, expr):
    """An expression's rows as an Arrow table. Spark's timestamps are instants (the session is in
    UTC) but arrive without their zone: they get it back, as DuckDB gives them."""
    import pyarrow as pa

    data = engine.con.to_pyarrow(expr)
    if engine.name != "spark":
        return data
    fields = [pa.field(f.name, pa.timestamp(f.type.unit, "UTC")) if pa.types.is_timestamp(f.type) and f.type.tz is None
              else f for f in data.schema]
    return data.cast(pa.schema(fields))
