"""Run folders: run ids in start order, the INCOMPLETE marker, reports/latest."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from journeylib.run import folders


def test_run_ids_sort_in_start_order_and_a_same_minute_run_gets_a_suffix(tmp_path):
    started = pd.Timestamp("2026-11-25 03:15:40", tz="UTC").to_pydatetime()
    first, second = folders.new_run_dir(tmp_path, started), folders.new_run_dir(tmp_path, started)
    assert (first.name, second.name) == ("2026-11-25T0315Z", "2026-11-25T0315Z-2")
    names = ["2026-11-25T0315Z-10", "2026-11-25T0316Z", "2026-11-25T0315Z-2", "2026-11-25T0315Z"]
    assert sorted(names, key=folders.run_sort_key) == ["2026-11-25T0315Z", "2026-11-25T0315Z-2",
                                                      "2026-11-25T0315Z-10", "2026-11-25T0316Z"]
    assert (first / folders.INCOMPLETE_MARKER).exists()


def _finished_run(reports: Path, name: str) -> Path:
    folder = reports / name
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text("{}")
    return folder


def test_latest_is_the_newest_complete_run_and_falls_back_to_files_without_symlinks(tmp_path, monkeypatch):
    older = _finished_run(tmp_path, "2026-11-24T0315Z")
    newer = _finished_run(tmp_path, "2026-11-25T0315Z")
    (newer / folders.INCOMPLETE_MARKER).write_text("")
    assert folders.update_latest(tmp_path, print) == older
    assert os.readlink(tmp_path / "latest") == older.name
    (newer / folders.INCOMPLETE_MARKER).unlink()

    def no_symlinks(*args, **kwargs):
        raise OSError("symlinks not supported")

    monkeypatch.setattr(os, "symlink", no_symlinks)
    assert folders.update_latest(tmp_path, lambda message: None) == newer
    assert (tmp_path / "latest.txt").read_text().strip() == newer.name
    assert f'url={newer.name}/index.html' in (tmp_path / "latest.html").read_text()


def test_exploratory_runs_are_complete_but_never_published_latest_or_previous(tmp_path):
    published = _finished_run(tmp_path, "2026-11-24T0315Z")
    experiment = _finished_run(tmp_path, "2026-11-25T0315Z")
    folders.mark_exploratory(experiment, "--only 03")
    assert folders.complete_runs(tmp_path) == [published, experiment]
    assert folders.published_runs(tmp_path) == [published]
    assert folders.update_latest(tmp_path, print) == published
    assert folders.previous_run(tmp_path, tmp_path / "2026-11-26T0315Z") == published
    assert "--only 03" in (experiment / folders.EXPLORATORY_MARKER).read_text()
