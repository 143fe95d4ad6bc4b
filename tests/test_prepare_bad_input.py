"""Bad input: one-line message naming file and column, exit code 2, output folder untouched."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from journeylib.cli import main

BASIC = Path(__file__).parent / "fixtures" / "prepare" / "basic"


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
    (raw / "sales.csv").unlink()
    code, err = run_cli(raw, out, capsys)
    assert code == 2 and "sales.csv" in err and "required file not found" in err and "\n" not in err
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
    code, _ = run_cli(raw, tmp_path / "fresh", capsys)
    assert code == 2 and not (tmp_path / "fresh").exists()


def test_prepare_also_builds_the_shared_persona_table(raw, tmp_path, capsys):
    code, _ = run_cli(raw, tmp_path / "fresh", capsys)
    assert code == 0 and (tmp_path / "fresh" / "personas.parquet").exists()
