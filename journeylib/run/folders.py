"""Run folders: `reports/<run-id>/`, its INCOMPLETE and EXPLORATORY markers, the complete and the
published runs, and `reports/latest`.

A complete run is published unless its folder holds the EXPLORATORY marker (a run with --only or -p
and no --publish): `latest`, trends.html and the next run's comparison follow published runs only.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

from journeylib.errors import InputError

INCOMPLETE_MARKER = "INCOMPLETE"
EXPLORATORY_MARKER = "EXPLORATORY"
LATEST = "latest"
RUN_ID = re.compile(r"^\d{4}-\d\d-\d\dT\d{4}Z(-\d+)?$")


def now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def new_run_dir(reports: Path, started: datetime) -> Path:
    """reports/<YYYY-MM-DDTHHMMZ>[-N], created atomically (a second run in the same minute gets -2)."""
    reports.mkdir(parents=True, exist_ok=True)
    base = started.strftime("%Y-%m-%dT%H%MZ")
    for attempt in range(1, 100):
        run_dir = reports / (base if attempt == 1 else f"{base}-{attempt}")
        try:
            run_dir.mkdir()
        except FileExistsError:
            continue
        try:
            (run_dir / INCOMPLETE_MARKER).write_text(
                f"run started {iso(started)} (pid {os.getpid()}); this file is removed when the run finishes.\n"
                "If it is still here, the run was interrupted or is still going.\n", encoding="utf-8")
        except OSError as error:  # a full or read-only disk: no empty run folder left behind, the path named
            shutil.rmtree(run_dir, ignore_errors=True)
            if error.filename is None and error.errno is not None:
                raise OSError(error.errno, error.strerror, str(run_dir)) from error
            raise
        return run_dir
    raise InputError(f"{reports}: too many runs started in the same minute")


def run_sort_key(name: str):
    """Run ids in start order: 2026-11-25T0315Z < 2026-11-25T0315Z-2 < 2026-11-25T0315Z-10."""
    base, _, suffix = name.partition("Z-")
    return (base.removesuffix("Z"), int(suffix) if suffix.isdigit() else 1)


def complete_runs(reports: Path) -> list[Path]:
    """Finished run folders (no INCOMPLETE marker), oldest first."""
    if not reports.is_dir():
        return []
    runs = [p for p in reports.iterdir() if p.is_dir() and not p.is_symlink() and RUN_ID.match(p.name)
            and not (p / INCOMPLETE_MARKER).exists() and (p / "metrics.json").exists()]
    return sorted(runs, key=lambda p: run_sort_key(p.name))


def is_published(run_dir: Path) -> bool:
    return not (run_dir / EXPLORATORY_MARKER).exists()


def published_runs(reports: Path) -> list[Path]:
    """Complete runs that were published (no EXPLORATORY marker), oldest first."""
    return [p for p in complete_runs(reports) if is_published(p)]


def mark_exploratory(run_dir: Path, reason: str) -> None:
    (run_dir / EXPLORATORY_MARKER).write_text(
        f"exploratory run ({reason}): reports/latest, trends.html and the next run's comparison do not "
        "follow it (journey run --publish would have published it).\n", encoding="utf-8")


def previous_run(reports: Path, run_dir: Path) -> Path | None:
    """The newest published run started before `run_dir`: the one its index compares with."""
    earlier = [p for p in published_runs(reports) if run_sort_key(p.name) < run_sort_key(run_dir.name)]
    return earlier[-1] if earlier else None


def update_latest(reports: Path, log) -> Path | None:
    """Point reports/latest at the newest published run (symlink; latest.txt + latest.html where that fails)."""
    runs = published_runs(reports)
    if not runs:
        return None
    newest = runs[-1]
    link = reports / LATEST
    temporary = reports / f".{LATEST}-{os.getpid()}"
    try:
        temporary.unlink(missing_ok=True)
        os.symlink(newest.name, temporary, target_is_directory=True)
        os.replace(temporary, link)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        log(f"latest: no symlink ({error}); wrote latest.txt and latest.html instead")
        (reports / "latest.txt").write_text(newest.name + "\n", encoding="utf-8")
        (reports / "latest.html").write_text(
            f'<!DOCTYPE html><meta charset="utf-8"><meta http-equiv="refresh" content="0; url={newest.name}/index.html">'
            f'<a href="{newest.name}/index.html">{newest.name}</a>\n', encoding="utf-8")
    return newest
