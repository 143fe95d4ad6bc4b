"""Files through an engine: a raw export read with its exact row numbers, a Parquet file written in row order."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import ibis

from journeylib.engine.state import Engine
from journeylib.engine.tables import spark_frame

MAX_LINE_BYTES = 2_000_000  # the longest CSV row the engine reads (DuckDB's default max_line_size)
RAW_ROW = "_row"  # the 1-based data row of the raw file (header not counted), added when a file is read


def read_raw(engine: Engine, path: Path, width: int | None = None):
    """A raw export in the engine, plus `_row`, the exact 1-based data row.

    A CSV is read by position, `width` text columns named `c0`, `c1`, ... (the header is parsed in
    Python, load.csv_header; no dialect sniffing); a Parquet file keeps its column names, in file order.
    """
    path = Path(path)
    if engine.name == "spark":
        return _spark_read(engine, path, width)
    con = engine.con
    if path.suffix == ".parquet":
        source = con.read_parquet(str(path))
    else:
        source = con.read_csv(str(path), header=True, delim=",", quote='"', escape='"', auto_detect=False,
                              columns={f"c{i}": "VARCHAR" for i in range(width)}, max_line_size=MAX_LINE_BYTES)
    return source.mutate(**{RAW_ROW: ibis.row_number() + 1})  # preserve_insertion_order: file order


def _spark_read(engine: Engine, path: Path, width: int | None = None):
    """Spark reads in partitions; `_row` is each row's position in its partition plus the rows of the
    partitions before it (partitions of one file are in file order). A CSV file is one partition
    (multi-line mode: quoted fields may hold line breaks), so a big export is better as Parquet."""
    from pyspark.sql import functions as F

    reader = engine.con._session.read
    if path.suffix == ".parquet":
        frame = reader.parquet(str(path))
        frame = frame.select(*[F.col(f"`{c}`") for c in frame.columns],
                             (F.col("_metadata.row_index") + 1).alias(RAW_ROW))
        return _spark_view(engine, frame)
    frame = reader.csv(str(path), header=True, inferSchema=False, multiLine=True, quote='"', escape='"',
                       mode="FAILFAST", encoding="UTF-8", enforceSchema=False)
    if width is not None and len(frame.columns) != width:
        raise ValueError(f"the engine found {len(frame.columns)} columns in the header, Python {width}")
    # positional names, as on DuckDB (headers may also hold characters Spark's table files do not allow)
    frame = frame.toDF(*[f"c{i}" for i in range(len(frame.columns))])
    if frame.rdd.getNumPartitions() == 1:  # always so for CSV (not split in multi-line mode): no offsets
        frame = frame.withColumn(RAW_ROW, F.monotonically_increasing_id() + 1)
        return _spark_view(engine, frame)
    frame = frame.withColumn("__journey_id", F.monotonically_increasing_id())
    source = _spark_view(engine, frame)
    part, local = source.__journey_id // (1 << 33), source.__journey_id % (1 << 33)  # the id's layout
    source = source.mutate(__journey_part=part, __journey_local=local)
    sizes = source.group_by(p_part=source.__journey_part).agg(p_rows=source.count())
    before = sizes.select("p_part", p_before=sizes.p_rows.sum().over(order_by=sizes.p_part) - sizes.p_rows)
    j = source.join(before, source.__journey_part == before.p_part)
    data = [c for c in source.columns if not c.startswith("__journey")]
    return j.select(*data, **{RAW_ROW: j.__journey_local + j.p_before + 1})


def _spark_view(engine: Engine, frame):
    """A DataFrame as an Ibis table (a temporary view of this run's session)."""
    name = f"read_{uuid.uuid4().hex[:12]}"
    frame.createOrReplaceTempView(name)
    return engine.con.table(name)


def write_parquet(engine: Engine, expr, path: Path):
    """One Parquet file at `path`, written by the engine in the expression's row order."""
    path = Path(path)
    if engine.name != "spark":
        engine.con.to_parquet(expr, str(path))
        return
    folder = path.with_name(path.name + ".parts")
    frame = spark_frame(engine, expr)
    frame.coalesce(1).write.mode("overwrite").parquet(str(folder))  # coalesce keeps the sorted order
    (part,) = sorted(folder.glob("part-*.parquet"))
    os.replace(part, path)
    shutil.rmtree(folder)
