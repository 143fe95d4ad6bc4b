"""journeylib.engine: an open connection and its state in one dataclass, released by disconnect (DuckDB here;
the Spark side is in tests/engine/test_spark.py and tests/journey_map/test_analyse.py)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from journeylib.engine import Engine, connect, disconnect
from journeylib.engine.connection import in_memory
from journeylib.engine.tables import store, to_arrow
from journeylib.errors import InputError


def test_a_duckdb_connection_is_an_engine_with_its_work_folder(tmp_path):
    engine = connect("duckdb", tmp_path / "work")
    try:
        assert isinstance(engine, Engine) and engine.name == "duckdb" and engine.con.name == "duckdb"
        assert engine.in_process and engine.local and engine.work_dir == tmp_path / "work"
        assert (tmp_path / "work" / "spill").is_dir() and engine.temporary_dir is None
    finally:
        disconnect(engine)
    assert (tmp_path / "work").is_dir()  # not made for this connection alone: kept


def test_a_temporary_work_folder_goes_with_the_connection(tmp_path):
    engine = connect("duckdb", tmp_path / "only-mine", temporary=True)
    assert engine.temporary_dir == tmp_path / "only-mine" and engine.temporary_dir.is_dir()
    disconnect(engine)
    assert not (tmp_path / "only-mine").exists()


def test_an_unknown_engine_is_refused_by_name(tmp_path):
    with pytest.raises(InputError, match="unknown engine 'postgres'"):
        connect("postgres", tmp_path)


def test_stored_tables_are_counted_on_the_engine_and_never_replaced():
    engine = in_memory()
    first = store(engine, "step", pa.table({"x": [1, 2]}))
    again = store(engine, "step", pa.table({"x": [3]}))
    assert engine.table_names == {"step": 2}
    assert first.get_name().endswith(".step") and again.get_name().endswith(".step_2")
    assert to_arrow(engine, first)["x"].to_pylist() == [1, 2] and to_arrow(engine, again)["x"].to_pylist() == [3]
    # another engine keeps its own names: the state is the connection's, not the process's
    other = in_memory()
    assert store(other, "step", pa.table({"x": [9]})).get_name().endswith(".step") and other.table_names == {"step": 1}


def test_a_stored_file_order_column_numbers_the_rows_in_scan_order():
    engine = in_memory()
    t = store(engine, "raw", pa.table({"_row": [1, 2, 3], "v": ["a", "b", "c"]}), file_order="_row")
    assert to_arrow(engine, t.order_by("_row")).to_pydict() == {"_row": [1, 2, 3], "v": ["a", "b", "c"]}
