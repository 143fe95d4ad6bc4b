"""Fixtures several test modules share."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory):
    """One local Spark session for the whole test process (skipped without pyspark or a usable Java).

    One session, because the first one started in a process fixes the JVM's heap for every later one;
    2 cores, 2 shuffle partitions and no UI keep Spark's share of the suite small. 2g: prepare's own
    local default (1g ran out of heap planning the bad-rows tables).
    """
    pytest.importorskip("pyspark", reason="pyspark is not installed: pip install -e '.[spark]'")
    from journeylib.errors import InputError
    from journeylib.engine.spark import find_java

    try:
        find_java()
    except InputError as error:
        pytest.skip(f"no usable Java for Spark: {error}")
    import os
    import sys

    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # Python workers with journeylib (as prepare's own)
    work = tmp_path_factory.mktemp("spark")
    session = (SparkSession.builder.master("local[2]").appName("journeylib tests")
               .config("spark.sql.shuffle.partitions", "2").config("spark.default.parallelism", "2")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.warehouse.dir", str(work / "warehouse"))
               .config("spark.local.dir", str(work / "spill"))
               .config("spark.network.timeout", "600s").config("spark.executor.heartbeatInterval", "60s")
               .config("spark.driver.memory", "2g").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
