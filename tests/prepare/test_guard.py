"""Nothing silently thrown away (issue 21 item 4, issue 22 items 3 and 5): a table losing most of its rows
stops prepare with one line and writes nothing; the as-of date is never today's and not moved by an
isolated future date; a repeated header row is rejected, counted and named in notebook 00."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tests.support.event_log_exports import event_log
from journeylib.cli import main
from journeylib.data_quality import analyse as data_quality
from journeylib.data_quality import offending
from journeylib.tables import ProcessedTables


def prepare(raw: Path, out: Path, capsys, *extra):
    code = main(["prepare", "--raw", str(raw), "--out", str(out), *extra])
    return code, capsys.readouterr().err.strip()


def current(out: Path) -> tuple[Path, str]:
    """The current version's folder and its summary.json."""
    folder = (out / "current").resolve()
    return folder, (folder / "summary.json").read_text(encoding="utf-8")


def test_header_only_customers_with_a_full_event_log_stop_prepare(tmp_path, capsys):
    raw, out = tmp_path / "raw", tmp_path / "processed"
    log = event_log(raw, users=40)
    assert prepare(raw, out, capsys)[0] == 0
    before = current(out)
    (raw / "customers.csv").write_text("customer_id,created_at\n", encoding="utf-8")
    code, err = prepare(raw, out, capsys)
    assert code == 2 and "\n" not in err
    assert err.endswith(f"touchpoints.csv: {len(log):,} of {len(log):,} rows rejected (unknown_customer): "
                        "customers.csv has no rows; drop the file to derive customers from the event log")
    assert current(out) == before  # the old processed version untouched


def test_more_than_the_allowed_share_rejected_stops_prepare(tmp_path, capsys):
    raw, out = tmp_path / "raw", tmp_path / "processed"
    log = event_log(raw, users=40)
    bad = log.index[: int(len(log) * 0.6)]
    log.loc[bad, "timestamp"] = "28-JUN-24"
    log.to_csv(raw / "touchpoints.csv", index=False)
    code, err = prepare(raw, out, capsys)
    assert code == 2 and "\n" not in err and not (out / "current").exists()
    assert f"touchpoints.csv: {len(bad):,} of {len(log):,} rows (60%, more than max_rejected_share 0.5) " \
           "rejected (unparseable_timestamp): for example occurred_at: '28-JUN-24' is not a timestamp" in err
    assert "timestamp_formats.touchpoints" in err
    with open(raw / "journey.yaml", "a", encoding="utf-8") as handle:
        handle.write("max_rejected_share: 0.7\n")
    assert prepare(raw, out, capsys)[0] == 0


def test_no_usable_timestamp_is_an_error_not_today(tmp_path, capsys):
    raw, out = tmp_path / "raw", tmp_path / "processed"
    log = event_log(raw, users=10)
    log["timestamp"] = "not a date"
    log.to_csv(raw / "touchpoints.csv", index=False)
    code, err = prepare(raw, out, capsys)
    assert code == 2 and "no row has a usable timestamp" in err and "\n" not in err


def test_an_isolated_future_date_does_not_move_the_as_of_date(tmp_path, capsys):
    raw, out = tmp_path / "raw", tmp_path / "processed"
    log = event_log(raw, users=600, seed=8)
    assert len(log) > 1000  # one row is fewer than 0.1% of them
    latest = pd.to_datetime(log["timestamp"]).max()
    typo = log.index[len(log) // 2]
    log.loc[typo, "timestamp"] = (latest + pd.Timedelta(days=150)).strftime("%Y-%m-%d %H:%M:%S")
    log.to_csv(raw / "touchpoints.csv", index=False)
    assert prepare(raw, out, capsys)[0] == 0
    summary = json.loads((out / "summary.json").read_text())
    as_of = pd.Timestamp(summary["as_of"])
    assert as_of == latest.tz_localize("Europe/Berlin").tz_convert("UTC")
    assert summary["as_of_outliers"]["rows"] == 1
    assert summary["as_of_outliers"]["listed"] == [{"table": "touchpoints", "row": int(typo) + 1,
                                                    "at": summary["as_of_outliers"]["listed"][0]["at"]}]
    assert summary["tables"]["touchpoints"]["rejected"] == {"out_of_range_timestamp": 1}
    rejects = pd.read_parquet(out / "rejects.parquet")
    assert rejects["row"].tolist() == [typo + 1] and "isolated future date" in rejects["detail"][0]
    sentence = data_quality(ProcessedTables(out)).outliers_sentence()
    assert f"touchpoints row {typo + 1}" in sentence and "as-of date" in sentence
    # an explicit --as-of keeps it
    assert prepare(raw, out, capsys, "--as-of", "2026-01-01")[0] == 0
    assert json.loads((out / "summary.json").read_text())["tables"]["touchpoints"]["rejected"] == {}


def test_an_as_of_date_before_all_data_is_an_error(tmp_path, capsys):
    raw, out = tmp_path / "raw", tmp_path / "processed"
    event_log(raw, users=10)
    code, err = prepare(raw, out, capsys, "--as-of", "2000-01-01")
    assert code == 2 and "\n" not in err and "--as-of: 2000-01-01 is before all the data" in err
    assert not (out / "current").exists()


def test_a_repeated_header_row_is_rejected_and_counted(tmp_path, capsys):
    raw, out = tmp_path / "raw", tmp_path / "processed"
    log = event_log(raw, users=30)
    lines = (raw / "touchpoints.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    half = len(lines) // 2
    (raw / "touchpoints.csv").write_text("".join(lines[:half] + lines[:1] + lines[half:]), encoding="utf-8")
    assert prepare(raw, out, capsys)[0] == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["tables"]["touchpoints"] == {"raw": len(log) + 1, "kept": len(log),
                                                "rejected": {"invalid_value": 1}}
    tables = ProcessedTables(out)
    assert "user" not in set(tables.load("customers")["customer_id"])
    assert len(tables.load("customers")) == log["user"].nunique()
    table = data_quality(tables).rejects_table().reset_index()
    assert table.to_dict("records") == [{"Table": "Touchpoints", "Reason": "Invalid value", "Column": "(whole row)",
                                         "Most frequent values (rows)": "(the header line, repeated) (1)"}]


def test_notebook_00_names_the_column_and_the_offending_values(tmp_path, capsys):
    raw, out = tmp_path / "raw", tmp_path / "processed"
    log = event_log(raw, users=60)
    log.loc[log.index[:3], "timestamp"] = "28-JUN-24"
    log.loc[log.index[3:4], "timestamp"] = "yesterday"
    log.to_csv(raw / "touchpoints.csv", index=False)
    assert prepare(raw, out, capsys)[0] == 0
    rows = data_quality(ProcessedTables(out)).rejects_table().reset_index().to_dict("records")
    assert rows == [{"Table": "Touchpoints", "Reason": "Unparseable timestamp", "Column": "occurred_at",
                     "Most frequent values (rows)": "'28-JUN-24' (3); 'yesterday' (1)"}]


def test_offending_values_are_read_from_the_details():
    assert offending("price: '-3' is negative") == ("price", "'-3'")
    assert offending("customer_id: C1 is not in customers") == ("customer_id", "C1")
    assert offending("same deal_id as a kept row") == ("deal_id", "(repeated rows)")
    assert offending("event_type: missing") == ("event_type", "(missing)")
    assert offending("customer C2 is a test or internal record") == ("customer_id", "C2")
