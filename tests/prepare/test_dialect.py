"""Describe the export, never edit it (issue 21, item 6; issue 22, item 5): CSV dialects and gzip, month
names, `values:` mappings, optional categoricals kept and counted, and one line for a file that is not there."""

from __future__ import annotations

import builtins
import os

import pandas as pd
import pytest

from journeylib.cli import main
from journeylib.config import CATEGORICAL
from journeylib.errors import InputError
from journeylib.prepare.clean import CONDITIONS, FINANCE_TYPES, PAY_TYPES, SURVEY_TYPES
from journeylib.prepare.load import load
from journeylib.prepare.cache import prepare_data
from tests.support.tiny_export import ROWS, tiny_export


def quiet(*_):
    pass


def read(folder, name):
    return pd.read_parquet(folder / f"{name}.parquet")


def test_semicolon_latin1_and_a_decimal_comma(tmp_path):
    rows = {"customers": ROWS["customers"] + [["C4", "2024-01-05T10:00:00Z", "zoe@example.com", "Zoë", "Müller", "F"]],
            "sales": [["S1", "C1", "2024-03-01T12:00:00Z", "new", "lease", "32.500,50"]],
            "service_visits": [["R1", "C1", "2024-04-01T08:00:00Z", "customer", "120,5"]],
            "surveys": [["Q1", "C1", "sales", "2024-03-05T10:00:00Z", "9", "Très bien; merci"]]}
    raw = tiny_export(tmp_path / "raw", rows=rows, delimiter=";", encoding="latin-1",
                      config='csv: {delimiter: ";", encoding: latin-1, decimal: ","}\n')
    summary = prepare_data(raw=raw, processed=tmp_path / "out", log=quiet)
    assert {t: summary["tables"][t]["kept"] for t in ("customers", "touchpoints", "sales", "service_visits")} == \
        {"customers": 4, "touchpoints": 4, "sales": 1, "service_visits": 1}
    assert read(tmp_path / "out", "sales")["price"].tolist() == [32500.5]
    assert read(tmp_path / "out", "service_visits")["amount"].tolist() == [120.5]
    assert read(tmp_path / "out", "surveys")["comment"].tolist() == ["Très bien; merci"]


def test_one_tables_own_dialect_wins_over_the_shared_one(tmp_path):
    raw = tiny_export(tmp_path / "raw", delimiter=";", config='csv: {delimiter: ";", sales: {delimiter: ","}}\n')
    (raw / "sales.csv").write_text("deal_id,customer_id,sold_at,price\nS1,C1,2024-03-01T12:00:00Z,\"1,000\"\n",
                                   encoding="utf-8")
    summary = prepare_data(raw=raw, processed=tmp_path / "out", log=quiet)
    assert summary["tables"]["sales"]["kept"] == 1 and read(tmp_path / "out", "sales")["price"].tolist() == [1000.0]


def test_gzip_compressed_csv_is_read_as_it_is(tmp_path):
    raw = tiny_export(tmp_path / "raw", gzipped=("customers", "touchpoints"))
    summary = prepare_data(raw=raw, processed=tmp_path / "out", log=quiet)
    assert (summary["tables"]["customers"]["kept"], summary["tables"]["touchpoints"]["kept"]) == (3, 4)
    assert {"customers.csv.gz", "touchpoints.csv.gz"} <= set(summary["inputs"])
    events = read(tmp_path / "out", "touchpoints").query("source == 'touchpoints'").set_index("event_id").sort_index()
    assert events["event_type"].tolist() == ["lead_form", "test_drive", "site_visit", "email_reply"]  # CRM spellings


def test_month_names_in_a_configured_format(tmp_path):
    rows = {"sales": [["S1", "C1", "28-JUN-24", "new", "lease", "32500"]]}
    raw = tiny_export(tmp_path / "raw", rows=rows,
                      config='default_timezone: America/Chicago\ntimestamp_formats: {sales: "%d-%b-%y"}\n')
    prepare_data(raw=raw, processed=tmp_path / "out", log=quiet)
    assert read(tmp_path / "out", "sales")["sold_at"].tolist() == [pd.Timestamp("2024-06-28T05:00Z")]


def test_values_map_the_exports_spellings(tmp_path):
    rows = {"service_visits": [["R1", "C1", "2024-04-01T08:00:00Z", "W", "0"],
                               ["R2", "C1", "2024-04-02T08:00:00Z", " c ", "80"]],
            "sales": [["S1", "C1", "2024-03-01T12:00:00Z", "new", "Retail Finance", "32500"]],
            "surveys": [["Q1", "C1", "SLS", "2024-03-05T10:00:00Z", "9", ""]]}
    config = ("values:\n  service_visits: {pay_type: {W: warranty, C: customer_pay}}\n"
              "  sales: {finance_type: {Retail Finance: finance}}\n  surveys: {survey_type: {SLS: sales}}\n")
    raw = tiny_export(tmp_path / "raw", rows=rows, config=config)
    summary = prepare_data(raw=raw, processed=tmp_path / "out", log=quiet)
    assert read(tmp_path / "out", "service_visits")["pay_type"].tolist() == ["warranty", "customer"]
    assert read(tmp_path / "out", "sales")["finance_type"].tolist() == ["finance"]
    assert read(tmp_path / "out", "surveys")["survey_type"].tolist() == ["sales"]
    assert summary["cleared_labels"] == {"sales.condition": {}, "sales.finance_type": {}, "service_visits.pay_type": {}}


def test_an_unknown_optional_value_keeps_its_row_missing_and_counted(tmp_path):
    rows = {"service_visits": [["R1", "C1", "2024-04-01T08:00:00Z", "W", "0"],
                               ["R2", "C1", "2024-04-02T08:00:00Z", "W", "10"],
                               ["R3", "C1", "2024-04-03T08:00:00Z", "warranty", "0"]],
            "sales": [["S1", "C1", "2024-03-01T12:00:00Z", "Demo", "Retail Finance", "32500"]],
            "surveys": [["Q1", "C1", "sls", "2024-03-05T10:00:00Z", "9", ""]]}
    # the planted rows reject most of some tables: the rejection check (tests/prepare/test_guard.py) is off here
    raw = tiny_export(tmp_path / "raw", rows=rows, config="max_rejected_share: 1\n")
    summary = prepare_data(raw=raw, processed=tmp_path / "out", log=quiet)
    visits = read(tmp_path / "out", "service_visits").set_index("ro_id")
    assert visits["pay_type"].isna().tolist() == [True, True, False] and summary["tables"]["service_visits"]["kept"] == 3
    sale = read(tmp_path / "out", "sales").iloc[0]
    assert pd.isna(sale["condition"]) and pd.isna(sale["finance_type"])
    assert summary["cleared_labels"] == {"sales.condition": {"Demo": 1}, "sales.finance_type": {"Retail Finance": 1},
                                         "service_visits.pay_type": {"W": 2}}
    assert {k: summary["cleared_values"][k] for k in summary["cleared_labels"]} == \
        {"sales.condition": 1, "sales.finance_type": 1, "service_visits.pay_type": 2}
    # a required categorical still rejects its row: a survey of an unknown type is not a survey of either kind
    assert summary["tables"]["surveys"]["rejected"] == {"invalid_value": 1}


def test_the_categorical_vocabularies_agree_with_cleaning():
    assert CATEGORICAL["sales"]["condition"] == CONDITIONS
    assert CATEGORICAL["sales"]["finance_type"] == FINANCE_TYPES
    assert CATEGORICAL["service_visits"]["pay_type"] == PAY_TYPES
    assert CATEGORICAL["surveys"]["survey_type"] == SURVEY_TYPES


# ---------------------------------------------------------------- one line for a file that is not there


def prepare_error(raw, tmp_path):
    with pytest.raises(InputError) as error:
        prepare_data(raw=raw, processed=tmp_path / "out", log=quiet)
    assert "\n" not in str(error.value) and not (tmp_path / "out").exists()
    return str(error.value)


EXPECTED = "required file not found (expected customers.csv, customers.csv.gz or customers.parquet)"


def test_a_spreadsheet_instead_of_a_csv_is_named(tmp_path, capsys):
    raw = tiny_export(tmp_path / "raw")
    (raw / "customers.csv").rename(raw / "customers.xlsx")
    assert prepare_error(raw, tmp_path) == \
        f"{raw}/customers.csv: {EXPECTED}; found customers.xlsx: save it as CSV (UTF-8) or Parquet"
    code = main(["prepare", "--raw", str(raw), "--out", str(tmp_path / "out")])
    assert code == 2 and capsys.readouterr().err.strip().endswith("found customers.xlsx: save it as CSV (UTF-8) or Parquet")


def test_a_broken_link_and_a_name_in_capitals_are_named(tmp_path):
    raw = tiny_export(tmp_path / "raw")
    (raw / "customers.csv").unlink()
    os.symlink(tmp_path / "gone.csv", raw / "customers.csv")
    assert prepare_error(raw, tmp_path) == (f"{raw}/customers.csv: {EXPECTED}; customers.csv is a broken symbolic "
                                            f"link (its target {tmp_path}/gone.csv does not exist)")
    (raw / "customers.csv").unlink()
    tiny_export(tmp_path / "other")
    (tmp_path / "other" / "customers.csv").rename(raw / "Customers.CSV")
    assert prepare_error(raw, tmp_path) == \
        f"{raw}/customers.csv: {EXPECTED}; found Customers.CSV: rename it customers.csv (names are lower case)"


def test_an_unreadable_file_is_one_line_in_hashing_and_in_reading(tmp_path, monkeypatch):
    raw = tiny_export(tmp_path / "raw")
    locked = str(raw / "sales.csv")
    real_open = builtins.open

    def refusing(file, *args, **kwargs):  # the tests run as root: chmod 000 would not stop them
        if str(file) == locked:
            raise PermissionError(13, "Permission denied", locked)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", refusing)
    assert prepare_error(raw, tmp_path) == \
        f"{locked}: cannot read the file (permission denied); check that it exists and is readable"
    with pytest.raises(InputError, match=r"sales.csv: cannot read the file \(permission denied\)"):
        load(raw)  # reading, past the fingerprint


def test_a_broken_gzip_file_and_a_wrong_encoding_are_one_line(tmp_path):
    raw = tiny_export(tmp_path / "raw")
    (raw / "customers.csv").unlink()
    (raw / "customers.csv.gz").write_bytes(b"\x1f\x8b\x08\x00 not really gzip")
    assert prepare_error(raw, tmp_path).startswith(f"{raw}/customers.csv.gz: not a readable gzip file (")
    raw = tiny_export(tmp_path / "raw2", rows={"customers": [["C1", "", "", "Zoë", "", ""]]}, encoding="latin-1",
                      gzipped=("customers",))
    advice = "name the file's encoding under csv: in the configuration (such as encoding: latin-1)"
    assert prepare_error(raw, tmp_path) == f"{raw}/customers.csv.gz: not UTF-8 text (bad byte at line 2); {advice}"
    # the same bytes with a semicolon (rewritten in Python, not only decompressed): the same line
    raw = tiny_export(tmp_path / "raw3", rows={"customers": [["C1", "", "", "Zoë", "", ""]]}, encoding="latin-1",
                      gzipped=("customers",), delimiter=";", config='csv: {delimiter: ";"}\n')
    assert prepare_error(raw, tmp_path) == f"{raw}/customers.csv.gz: not UTF-8 text (bad byte at line 2); {advice}"


def test_a_ragged_row_in_a_rewritten_file_names_the_export_and_line(tmp_path):
    raw = tiny_export(tmp_path / "raw", delimiter=";", config='csv: {delimiter: ";"}\n')
    with open(raw / "sales.csv", "a", encoding="utf-8") as handle:
        handle.write("S2;C2;2024-03-02T12:00:00Z;new\n")
    assert prepare_error(raw, tmp_path) == \
        f"{raw}/sales.csv: malformed CSV at line 3: 4 values, but the header has 6 columns"
    raw = tiny_export(tmp_path / "raw2", rows={"sales": [["S1", "C1", "2024-03-01T12:00:00Z", "new", "lease", "1"],
                                                         ["S2", "C1", "2024-03-02T12:00:00Z", "new"]]},
                      gzipped=("sales",))  # only decompressed: the engine finds it, the message names the export
    assert prepare_error(raw, tmp_path) == \
        f"{raw}/sales.csv.gz: malformed CSV at line 3: 4 values, but the header has 6 columns"


def test_another_delimiter_without_a_setting_says_which_setting(tmp_path):
    raw = tiny_export(tmp_path / "raw", delimiter=";")
    assert prepare_error(raw, tmp_path) == (
        f"{raw}/customers.csv: required column 'customer_id' not found; the header looks semicolon-separated: "
        f"name its delimiter in the configuration (csv: {{customers: {{delimiter: ';'}}}})")


@pytest.mark.parametrize("text, expected", [
    ("csv: {delimiter: ';;'}\n", "csv.delimiter: expected one character such as ';' or a name (comma, semicolon, "
                                 "tab, pipe), got ';;'"),
    ("csv: {encoding: klingon}\n", "csv.encoding: unknown encoding 'klingon' (such as utf-8, latin-1, cp1252)"),
    ("csv: {decimal: ';'}\n", "csv.decimal: expected '.' or ',', got ';'"),
    ("csv: {sales: {decimal: ','}}\n", "csv.sales: the decimal mark and the delimiter are both ','"),
    ("csv: {shipments: {delimiter: ';'}}\n", "csv: unknown key 'shipments'"),
    ("values: {service_visits: {pay_type: {W: free}}}\n",
     "values.service_visits.pay_type: 'W' maps to 'free'; expected one of customer, warranty, internal"),
    ("values: {service_visits: {amount: {W: 1}}}\n", "values.service_visits: unknown key 'amount'"),
    ("values: {touchpoints: {}}\n", "values: unknown key 'touchpoints'"),
    ('timestamp_formats: {sales: "%d-%b"}\n', "timestamp_formats.sales: format '%d-%b' needs a year (%Y or %y), "
                                              "a month (%m, %b or %B) and a day (%d)"),
])
def test_bad_export_settings_are_one_line_errors(tmp_path, text, expected):
    from journeylib.config import load_config
    from journeylib.errors import ConfigError

    path = tmp_path / "journey.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value).startswith(f"{path}: {expected}") and "\n" not in str(error.value)


@pytest.mark.slow  # Spark: minutes on a shared machine
def test_duckdb_and_spark_agree_on_a_described_export_with_patterns(tmp_path, spark_session):
    """Dialect, gzip, month names, values:, patterns and keep: the same tables on both engines."""
    import json

    import pyarrow.parquet as pq

    from journeylib.prepare import prepare

    rows = {"touchpoints": ROWS["touchpoints"] + [["E5", "C2", "2024-02-05T09:00:00Z", "T07 Advice Call", "t07 desk"]],
            "sales": [["S1", "C1", "28-JUN-24", "Demo", "lease", "32.500,50"]],
            "service_visits": [["R1", "C1", "2024-07-01T08:00:00Z", "W", "120,5"],
                               ["R2", "C1", "2024-07-02T08:00:00Z", "X", "1"]]}
    config = ('csv: {delimiter: ";", encoding: latin-1, decimal: ","}\ntimestamp_formats: {sales: "%d-%b-%y"}\n'
              "values: {service_visits: {pay_type: {W: warranty}}}\n"
              'taxonomy: {channels: {"t07*": phone}, event_types: {"*": keep}, stages: {"t07*": consideration}}\n')
    raw = tiny_export(tmp_path / "raw", rows=rows, delimiter=";", encoding="latin-1", gzipped=("touchpoints",),
                      config=config)
    prepare(raw=raw, out=tmp_path / "duckdb")
    prepare(raw=raw, out=tmp_path / "spark", engine="spark", session=spark_session)
    a, b = (json.loads((tmp_path / name / "summary.json").read_text()) for name in ("duckdb", "spark"))
    assert (a.pop("engine"), b.pop("engine")) == ("duckdb", "spark") and a == b
    assert a["cleared_labels"]["service_visits.pay_type"] == {"X": 1}
    for name in sorted(p.name for p in (tmp_path / "duckdb").glob("*.parquet")):
        pd.testing.assert_frame_equal(pq.read_table(tmp_path / "duckdb" / name).to_pandas(),
                                      pq.read_table(tmp_path / "spark" / name).to_pandas(), obj=name)
    events = read(tmp_path / "spark", "touchpoints").set_index("event_id")
    assert events.loc["E5", ["event_type", "channel", "stage"]].tolist() == ["t07_advice_call", "phone", "consideration"]


# ---------------------------------------------------------------- a whole run on a described export

RUN_CONFIG = """\
default_timezone: America/Chicago
internal_domains: [autogroup-internal.com]
columns: {sales: {deal_id: DealNumber, sold_at: SoldDate}}
timestamp_formats: {service_visits: "%m/%d/%Y %H:%M", sales: "%d-%b-%y"}
csv: {delimiter: ";", encoding: latin-1}
values: {service_visits: {pay_type: {W: warranty, C: customer_pay, I: internal}}}
"""


def described_export(sample, raw):
    """The sample as a CRM writes it: semicolon-separated Latin-1, touchpoints gzip-compressed, sale dates as
    `28-JUN-24`, pay types as one letter; the configuration describes it all."""
    import csv
    import gzip
    from datetime import date

    raw.mkdir(parents=True)
    for path in sorted(sample.glob("*.csv")):
        with open(path, encoding="utf-8", newline="") as handle:
            records = list(csv.reader(handle))
        header = records[0]
        if path.stem == "sales":
            at = header.index("SoldDate")
            for record in records[1:]:
                try:
                    record[at] = date.fromisoformat(record[at][:10]).strftime("%d-%b-%y").upper()
                except ValueError:  # the sample's unparseable dates stay as they are
                    pass
        if path.stem == "service_visits":
            at = header.index("pay_type")
            for record in records[1:]:
                record[at] = {"warranty": "W", "customer": "C", "internal": "I"}.get(record[at], record[at])
        text = "".join(";".join('"' + v.replace('"', '""') + '"' for v in record) + "\n" for record in records)
        data = text.encode("latin-1", errors="replace")
        if path.stem == "touchpoints":
            (raw / "touchpoints.csv.gz").write_bytes(gzip.compress(data))
        else:
            (raw / path.name).write_bytes(data)
    (raw / "journey.yaml").write_text(RUN_CONFIG, encoding="utf-8")
    return raw


@pytest.mark.slow  # a whole run: minutes
def test_journey_run_on_a_described_export_has_every_notebook_ok(tmp_path):
    import json

    from journeylib.run import folders
    from journeylib.sample import write_sample

    write_sample(tmp_path / "sample", customers=1500, seed=7)
    raw = described_export(tmp_path / "sample", tmp_path / "raw")
    code = main(["run", "--raw", str(raw), "--processed", str(tmp_path / "processed"),
                 "--reports", str(tmp_path / "reports")])
    run_dir = folders.complete_runs(tmp_path / "reports")[-1]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert code == 0
    assert {nb: info["status"] for nb, info in metrics["run"]["notebooks"].items()} == \
        {nb: "ok" for nb in metrics["run"]["notebooks"]}
    summary = json.loads((tmp_path / "processed" / "summary.json").read_text())
    plain = prepare_data(raw=tmp_path / "sample", processed=tmp_path / "plain", log=quiet)
    for table in ("customers", "touchpoints", "service_visits", "surveys", "referrals"):
        assert summary["tables"][table] == plain["tables"][table], table  # the same rows as the plain export
    assert summary["tables"]["sales"]["raw"] == plain["tables"]["sales"]["raw"]
    assert summary["cleared_values"]["service_visits.pay_type"] == 0
