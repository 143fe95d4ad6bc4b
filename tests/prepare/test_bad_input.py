"""Bad input: one-line message naming file and column, exit code 2, output folder untouched."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from journeylib.cli import main
from tests.support import FIXTURES

BASIC = FIXTURES / "prepare" / "basic"


@pytest.fixture
def raw(tmp_path):
    folder = tmp_path / "raw"
    shutil.copytree(BASIC, folder)
    return folder


@pytest.fixture
def out(tmp_path):
    folder = tmp_path / "processed"
    folder.mkdir()
    (folder / "summary.json").write_text("previous run", encoding="utf-8")
    return folder


def run_cli(raw, out, capsys, *extra):
    code = main(["prepare", "--raw", str(raw), "--out", str(out), *extra])
    return code, capsys.readouterr().err.strip()


def untouched(out):
    return sorted(p.name for p in out.parent.iterdir()) == ["processed", "raw"] and \
        [p.name for p in out.iterdir()] == ["summary.json"] and \
        (out / "summary.json").read_text(encoding="utf-8") == "previous run"


def test_missing_file(raw, out, capsys):
    """Every table may be absent but one: an export needs an event log or sales (issue 21)."""
    (raw / "sales.csv").unlink()
    (raw / "touchpoints.csv").unlink()
    code, err = run_cli(raw, out, capsys)
    assert code == 2 and "touchpoints.csv" in err and "sales.csv" in err and "required file not found" in err
    assert "\n" not in err
    assert untouched(out)


def test_missing_required_column(raw, out, capsys):
    text = (raw / "surveys.csv").read_text(encoding="utf-8").replace("score", "rating", 1)
    (raw / "surveys.csv").write_text(text, encoding="utf-8")
    code, err = run_cli(raw, out, capsys)
    assert code == 2 and "surveys.csv" in err and "'score'" in err
    assert untouched(out)


def test_mapped_column_missing_names_the_export_column(raw, out, capsys):
    (raw / "journey.yaml").write_text("columns: {sales: {deal_id: DealNumber}}\n", encoding="utf-8")
    code, err = run_cli(raw, out, capsys)
    assert code == 2 and "sales.csv" in err and "'DealNumber' (mapped to deal_id)" in err
    assert untouched(out)


def test_wrongly_encoded_file(raw, out, capsys):
    text = (raw / "referrals.csv").read_text(encoding="utf-8") + "F9,C1,2024-05-02T10:00:00Z,,caf\u00e9 flyer\n"
    (raw / "referrals.csv").write_bytes(text.encode("latin-1"))
    code, err = run_cli(raw, out, capsys)
    assert code == 2 and "referrals.csv" in err and "UTF-8" in err and "line 5" in err
    assert untouched(out)


def test_bad_config(raw, out, capsys):
    (raw / "journey.yaml").write_text("default_timezone: Atlantis/Capital\n", encoding="utf-8")
    code, err = run_cli(raw, out, capsys)
    assert code == 2 and "journey.yaml" in err and "default_timezone" in err
    assert untouched(out)


def test_bad_as_of(raw, out, capsys):
    code, err = run_cli(raw, out, capsys, "--as-of", "next tuesday")
    assert code == 2 and "--as-of" in err
    assert untouched(out)


def test_row_problems_are_not_errors(raw, tmp_path, capsys):
    code, err = run_cli(raw, tmp_path / "fresh", capsys)
    assert code == 0 and err == "" and (tmp_path / "fresh" / "summary.json").exists()


def test_bad_input_creates_no_output_folder(raw, tmp_path, capsys):
    (raw / "sales.csv").unlink()
    (raw / "touchpoints.csv").unlink()
    code, _ = run_cli(raw, tmp_path / "fresh", capsys)
    assert code == 2 and not (tmp_path / "fresh").exists()


def test_prepare_also_builds_the_shared_persona_table(raw, tmp_path, capsys):
    code, _ = run_cli(raw, tmp_path / "fresh", capsys)
    assert code == 0 and (tmp_path / "fresh" / "personas.parquet").exists()


# --- issue 12: hostile files, each a one-line error naming the file and the line or column ------
def append(raw, name, text):
    with open(raw / f"{name}.csv", "a", encoding="utf-8", newline="") as handle:
        handle.write(text)


@pytest.mark.parametrize("extra, problem", [
    ("F9,C1,2024-05-02T10:00:00Z\n", "line 5: 3 values, but the header has 5 columns"),        # ragged: short
    ("F9,C1,2024-05-02T10:00:00Z,,x,y\n", "line 5: 6 values, but the header has 5 columns"),  # ragged: long
    ('F9,C1,"2024-05-02T10:00:00Z,,x\nF10,C1,2024-05-02T10:00:00Z,,\n', "line 5: a quoted value is not closed"),
    ('F9,C1,2024-05-02T10:00:00Z,,"x"y\n', "line 5: a quoted value is not closed"),
])
def test_a_malformed_row_in_a_small_csv_names_the_file_and_line(raw, out, capsys, extra, problem):
    append(raw, "referrals", extra)  # a file far below 1 MiB: the reader used to answer with its sniffer
    code, err = run_cli(raw, out, capsys)
    assert code == 2 and "referrals.csv: malformed CSV at " + problem in err and "\n" not in err
    assert untouched(out)


def test_the_line_counts_quoted_line_breaks(raw, out, capsys):
    append(raw, "referrals", 'F9,C1,2024-05-02T10:00:00Z,,"two\nlines"\nF10,C1\n')
    code, err = run_cli(raw, out, capsys)
    assert code == 2 and "malformed CSV at line 7: 2 values" in err


def test_a_row_longer_than_the_reader_takes_names_its_line(raw, out, capsys):
    append(raw, "surveys", "Q9,C1,sales,2024-03-05T10:00:00Z,9," + "x" * 2_100_000 + "\n")
    code, err = run_cli(raw, out, capsys)
    assert code == 2 and "surveys.csv: malformed CSV at line 6: the row is longer than 2,000,000 bytes" in err
    assert untouched(out)


def test_a_long_comment_is_read_and_redacted(raw, tmp_path):
    from journeylib.prepare import prepare  # the tables only: personas score sentiment (journeylib.personas.feedback)

    comment = "very good, call 312-555-0101 " * 8_000  # 230 KB
    append(raw, "surveys", f'Q9,C1,sales,2024-03-05T10:00:00Z,9,"{comment}"\n')
    prepare(raw=raw, out=tmp_path / "fresh")
    surveys = pd.read_parquet(tmp_path / "fresh" / "surveys.parquet").set_index("response_id")
    assert surveys.loc["Q9", "comment"] == "very good, call [phone] " * 8_000


@pytest.mark.parametrize("header, named", [
    ("customer_id,created_at,email,phone,email", "'email' (column 3) and 'email' (column 5)"),
    ("customer_id,created_at,Email,phone, EMAIL ", "'Email' (column 3) and ' EMAIL ' (column 5)"),
])
def test_a_duplicated_header_is_an_error_naming_the_column(raw, out, capsys, header, named):
    (raw / "customers.csv").write_text(header + "\nC1,2024-01-01T10:00:00Z,a@x.com,,b@x.com\n", encoding="utf-8")
    code, err = run_cli(raw, out, capsys)
    assert code == 2 and "customers.csv: column 'email' is in the header more than once: " + named in err
    assert "\n" not in err and untouched(out)


def test_an_exact_header_wins_over_a_case_variant(raw, tmp_path, capsys):
    text = (raw / "referrals.csv").read_text(encoding="utf-8").replace("channel", " Referral_ID", 1)
    (raw / "referrals.csv").write_text(text, encoding="utf-8")
    code, err = run_cli(raw, tmp_path / "fresh", capsys)
    assert code == 0, err


def test_a_duplicated_column_in_parquet_is_an_error(raw, out, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (raw / "referrals.csv").unlink()
    columns = ["referral_id", "referrer_customer_id", "referred_at", "referral_id"]
    pq.write_table(pa.table([pa.array(["F1"]), pa.array(["C1"]), pa.array(["2024-05-01T10:00:00Z"]),
                             pa.array(["F2"])], names=columns), raw / "referrals.parquet")
    code, err = run_cli(raw, out, capsys)
    assert code == 2 and "referrals.parquet: column 'referral_id' is in the header more than once" in err
    assert untouched(out)


@pytest.mark.parametrize("delimiter, name", [(";", "semicolon"), ("\t", "tab"), ("|", "pipe")])
def test_another_delimiter_is_named(raw, out, capsys, delimiter, name):
    text = (raw / "customers.csv").read_text(encoding="utf-8").replace(",", delimiter)
    (raw / "customers.csv").write_text(text, encoding="utf-8")
    code, err = run_cli(raw, out, capsys)
    assert code == 2 and "customers.csv: required column 'customer_id' not found" in err
    assert f"the header looks {name}-separated" in err and "\n" not in err and untouched(out)


@pytest.mark.parametrize("as_of", ["9999-12-31", "9999-12-31T23:59:59-05:00", "0001-01-01", "1985-06-30",
                                   "2024-06-05T10:00+15:00"])
def test_an_as_of_out_of_range_is_a_one_line_error(raw, out, capsys, as_of):
    code, err = run_cli(raw, out, capsys, "--as-of", as_of)  # 9999-12-31 was an OverflowError traceback
    assert code == 2 and err.startswith("journey prepare: error: --as-of: ") and "\n" not in err
    assert untouched(out)


def test_a_duplicated_configuration_key_is_an_error(raw, out, capsys):
    (raw / "journey.yaml").write_text("default_timezone: UTC\ndefault_timezone: America/Chicago\n", encoding="utf-8")
    code, err = run_cli(raw, out, capsys)
    assert code == 2 and "journey.yaml: key 'default_timezone' is given twice" in err
    assert untouched(out)
