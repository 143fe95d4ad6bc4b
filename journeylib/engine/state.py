"""`Engine`: an open Ibis connection and what this process made in it, released by `connection.disconnect`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Engine:
    """One open connection. `name` is the engine ("duckdb" or "spark"), not Ibis' backend name ("pyspark")."""

    con: object                          # the Ibis connection (ibis.backends.BaseBackend)
    name: str                            # "duckdb" or "spark"
    work_dir: Path | None = None         # where the engine spills and (Spark, local) keeps its warehouse
    temporary_dir: Path | None = None    # a folder made for this connection alone, removed by disconnect
    database: str | None = None          # Spark: this connection's own database, dropped by disconnect
    owns_session: bool = False           # Spark: the session was started here, so disconnect stops it
    cached: list = field(default_factory=list)       # Spark: checkpointed frames, released by disconnect
    table_names: dict = field(default_factory=dict)  # table name -> times stored (tables.store never replaces)

    @property
    def in_process(self) -> bool:
        """True when the engine shares this process's memory (a step may then move data through Python)."""
        return self.name == "duckdb"

    @property
    def local(self) -> bool:
        """Spark with a local master (the executors are threads of this process's JVM); DuckDB always."""
        if self.name != "spark":
            return True
        return self.con._session.sparkContext.master.startswith("local")
