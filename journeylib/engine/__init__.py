"""The engines that run Ibis expressions, and the state of each open connection.

    from journeylib.engine import connect, disconnect
    engine = connect("duckdb", work_dir)   # an Engine: the Ibis connection and what was made in it
    engine.con.table(...)                  # Ibis calls go to the connection
    disconnect(engine)                     # drops what this process made (Spark: views, database, session)

Two engines run the same expressions: embedded DuckDB (the default, in this process) and Apache
Spark (`pip install -e '.[spark]'` plus a Java 17 or 21 runtime). What differs between them is in
this package and nowhere else: `state` (the `Engine` dataclass), `connection` (connecting and
disconnecting), `spark` (Java, the session, Spark's reader), `tables` (materialising a table once,
an expression's rows as Arrow), `files` (a raw file with exact row numbers, a Parquet file written).
Below prepare and the analyses; ibis and pyspark are imported by the modules that use them.
"""

from __future__ import annotations

from journeylib.engine.state import Engine

__all__ = ["Engine", "connect", "disconnect"]


def __getattr__(name: str):
    if name in ("connect", "disconnect"):  # on demand: connection imports ibis
        from journeylib.engine import connection

        return getattr(connection, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
