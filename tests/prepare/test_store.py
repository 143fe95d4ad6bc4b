"""The processed folder is always one complete version (issue 12, items 2-5).

A kill at any point of `journey prepare` leaves the old complete version or the new one (compared by
digest), and the next run cleans up; two writers never interleave (the second waits and says so once);
a run reads the version it started with while another process publishes; bad input leaves the folder
byte-identical; an --out that names a file or cannot be written is a one-line error, exit 2.

Kill and pause points are named (`JOURNEY_FAULT`, journeylib.prepare.store.checkpoint), not timed.
Everything runs on the tiny fixture tests/support/fixtures/prepare/basic.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from journeylib import cli, paths, tables
from journeylib.run import folders
from journeylib.digest import folder_digests, sha256
from journeylib.errors import InputError
from journeylib.prepare import cache, store
from tests.support import FIXTURES

BASIC = FIXTURES / "prepare" / "basic"
READS_ONE_VERSION = FIXTURES / "notebooks" / "03_reads_one_version.ipynb"
NEW_AS_OF = "2024-04-01"  # the new version: an as-of date before the data's own, so every table differs


def quiet(message):
    pass


def version(root: Path) -> dict:
    """{file: sha256} of the version the folder's pointer names."""
    return folder_digests(paths.processed_dir(root))


def through_links(root: Path) -> dict:
    """The same, read through the fixed links `<root>/<file>` that users and older code open."""
    return {p.name: sha256(p) for p in sorted(root.iterdir())
            if p.name not in (paths.CURRENT, store.VERSIONS) and p.is_file()}


def snapshot(root: Path) -> dict:
    """Every entry under the folder, links as their targets, files by content."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            key = str(path.relative_to(root))
            found[key] = ("link", os.readlink(path)) if path.is_symlink() else \
                ("file", sha256(path)) if path.is_file() else ("folder",)
    return found


def assert_clean(root: Path) -> None:
    """One version, the pointer, its links and nothing else: no work, temporary or old folders."""
    current = paths.processed_dir(root)
    assert current.parent == root / store.VERSIONS
    assert os.listdir(root / store.VERSIONS) == [current.name]
    files = set(os.listdir(current))
    assert {p.name for p in root.iterdir()} == files | {paths.CURRENT, store.VERSIONS}
    assert all(os.readlink(root / name) == f"{paths.CURRENT}/{name}" for name in files)
    assert os.listdir(root.parent) == [root.name]  # nothing beside it either (.processed.work-*, ...)


def journey(*args, fault=None, **popen):
    """`journey ...` in its own process (so it can be killed), with an optional fault point."""
    env = {k: v for k, v in os.environ.items() if k not in (store.FAULT_ENV, paths.PROCESSED_ENV)}
    env["PYTHONUNBUFFERED"] = "1"
    if fault:
        env[store.FAULT_ENV] = fault
    command = [sys.executable, "-m", "journeylib.cli", *map(str, args)]
    if popen:
        return subprocess.Popen(command, env=env, text=True, **popen)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)


def wait_for(condition, what: str, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The fixture's exports, an `old` folder (default as-of) and a `new` one (NEW_AS_OF) for reference."""
    folder = tmp_path_factory.mktemp("consistency")
    raw, old, new = folder / "raw", folder / "old", folder / "new"
    shutil.copytree(BASIC, raw)
    cache.prepare_data(raw=raw, processed=old, log=quiet)
    cache.prepare_data(raw=raw, processed=new, as_of=NEW_AS_OF, log=quiet)
    found = SimpleNamespace(raw=raw, old=old, new=new, old_digest=version(old), new_digest=version(new))
    assert found.old_digest != found.new_digest and "personas.parquet" in found.old_digest
    assert found.old_digest["summary.json"] != found.new_digest["summary.json"]
    return found


@pytest.fixture
def processed(base, tmp_path):
    """A folder holding one complete version (the old one)."""
    root = tmp_path / "processed"
    shutil.copytree(base.old, root, symlinks=True)
    assert version(root) == through_links(root) == base.old_digest
    return root


@pytest.fixture
def side(tmp_path_factory):
    """A folder for a test's logs, gates and reports, away from the processed folder's parent."""
    return tmp_path_factory.mktemp("side")


# ---------------------------------------------------------------- kills

KILL_POINTS = {  # point -> the version a kill there leaves
    "locked": "old",             # early: the lock is taken, nothing written yet
    "write.touchpoints": "old",  # during writing: three tables written
    "personas": "old",           # tables and summary written, the derived tables (personas) not yet
    "publish.renamed": "old",    # the complete version moved into versions/, the pointer not yet replaced
    "publish.pointer": "new",    # the pointer replaced, the old version not yet removed
    "cleanup": "new",            # the old version half removed
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_kill_leaves_the_old_or_the_new_version_and_the_next_run_cleans_up(base, processed, point):
    killed = journey("prepare", "--raw", base.raw, "--out", processed, "--as-of", NEW_AS_OF, fault=f"kill:{point}")
    assert killed.returncode == -signal.SIGKILL, killed.stderr  # it got to that point and died there
    expected = base.old_digest if KILL_POINTS[point] == "old" else base.new_digest
    assert version(processed) == expected
    assert through_links(processed) == expected
    customers, personas = tables.load("customers", processed), tables.load("personas", processed)
    assert sorted(customers["customer_id"]) == sorted(personas["customer_id"])

    lines = []
    cache.prepare_data(raw=base.raw, processed=processed, as_of=NEW_AS_OF, log=lines.append)  # the next run
    assert version(processed) == base.new_digest
    assert any(("reused" if KILL_POINTS[point] == "new" else "preparing") in line for line in lines)
    assert_clean(processed)


# ---------------------------------------------------------------- two processes

def test_a_second_writer_waits_for_the_first_saying_so_once_and_they_never_interleave(base, processed, side):
    gate = side / "go"
    first_log, second_log = side / "first.log", side / "second.log"
    with open(first_log, "w") as out1, open(second_log, "w") as out2:
        first = journey("prepare", "--raw", base.raw, "--out", processed, "--as-of", NEW_AS_OF,
                        fault=f"pause:personas:{gate}", stdout=out1, stderr=subprocess.STDOUT)
        try:
            wait_for(Path(f"{gate}.reached").exists, "the first writer to reach personas")
            second = journey("prepare", "--raw", base.raw, "--out", processed, stdout=out2, stderr=subprocess.STDOUT)
            wait_for(lambda: "waiting for" in second_log.read_text(), "the second writer to wait")
            assert version(processed) == base.old_digest  # the first is half-way; the second has not begun
            gate.touch()
            assert first.wait(600) == 0 and second.wait(600) == 0
        finally:
            gate.touch()
            for process in (first, locals().get("second")):
                if process is not None and process.poll() is None:
                    process.kill()
    assert "prepare: done" in first_log.read_text()
    waiting = [line for line in second_log.read_text().splitlines() if "waiting" in line]
    assert waiting == [f"prepare: waiting for {processed}: another journey prepare or run is writing it"]
    assert version(processed) == base.old_digest  # the second prepared the old inputs again, after the first
    assert_clean(processed)


def test_a_run_reads_the_version_it_started_with_while_another_process_publishes(base, processed, side):
    notebooks, reports, gate = side / "notebooks", side / "reports", side / "go"
    notebooks.mkdir()
    shutil.copy(READS_ONE_VERSION, notebooks)
    code = (f"import sys; from journeylib.run import run; sys.exit(run(raw={str(base.raw)!r}, "
            f"processed={str(processed)!r}, reports={str(reports)!r}, notebooks_dir={str(notebooks)!r}))")
    env = {k: v for k, v in os.environ.items() if k != paths.PROCESSED_ENV}
    env[store.FAULT_ENV] = f"pause:notebook:{gate}"
    with open(side / "run.log", "w") as log:
        run = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(Path(f"{gate}.reached").exists, "the notebook to pause")
            held = paths.processed_dir(processed)
            cache.prepare_data(raw=base.raw, processed=processed, as_of=NEW_AS_OF, log=quiet)
            assert version(processed) == base.new_digest
            assert held != paths.processed_dir(processed) and folder_digests(held) == base.old_digest  # kept
            gate.touch()
            assert run.wait(600) == 0, (side / "run.log").read_text()
        finally:
            gate.touch()
            if run.poll() is None:
                run.kill()
    run_dir = folders.complete_runs(reports)[-1]
    results = json.loads((run_dir / "results" / "03_reads_one_version.json").read_text())["consistency"]
    assert results["processed_dir"] == results["env_processed_dir"] == str(held)
    assert results["first"] == results["second"]
    assert results["first"]["as_of"] == json.loads((base.old / "summary.json").read_text())["as_of"]
    assert results["personas_match"] is True
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["inputs"]["processed_dir"] == str(held)
    assert "prepare: reused the processed tables" in (run_dir / "run.log").read_text()

    cache.prepare_data(raw=base.raw, processed=processed, as_of=NEW_AS_OF, log=quiet)  # reuses; nobody holds the old
    assert not held.exists()
    assert_clean(processed)


# ---------------------------------------------------------------- bad input and --out

def _spoil(raw: Path, how: str) -> None:
    if how == "missing raw file":  # an export needs an event log or sales (issue 21)
        (raw / "sales.csv").unlink()
        (raw / "touchpoints.csv").unlink()
    else:
        (raw / "journey.yaml").write_text("default_timezone: Atlantis/Capital\n", encoding="utf-8")


@pytest.mark.parametrize("command", ["prepare", "run"])
@pytest.mark.parametrize("how", ["missing raw file", "bad configuration"])
def test_bad_input_leaves_the_processed_folder_byte_identical(base, processed, tmp_path, capsys, command, how):
    raw = tmp_path / "raw"
    shutil.copytree(base.raw, raw)
    _spoil(raw, how)
    before = snapshot(processed)
    assert before["fingerprint.json"] == ("link", "current/fingerprint.json")
    fingerprint = (processed / "fingerprint.json").read_bytes()
    folder_option = "--out" if command == "prepare" else "--processed"
    extra = ["--reports", str(tmp_path / "reports")] if command == "run" else []
    code = cli.main([command, "--raw", str(raw), folder_option, str(processed), *extra])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert ("sales.csv" if how == "missing raw file" else "Atlantis/Capital") in err
    assert snapshot(processed) == before
    assert (processed / "fingerprint.json").read_bytes() == fingerprint
    assert sorted(os.listdir(tmp_path)) == ["processed", "raw"]  # no report folder, nothing beside


def test_out_naming_a_file_or_a_path_below_a_file_is_a_one_line_error(tmp_path, capsys):
    target = tmp_path / "processed"
    target.write_text("not a folder", encoding="utf-8")
    for argv in (["prepare", "--out", str(target)], ["prepare", "--out", str(target / "sub")],
                 ["run", "--processed", str(target), "--reports", str(tmp_path / "reports")]):
        code = cli.main([argv[0], "--raw", str(BASIC), *argv[1:]])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1, err
        assert f"{target}: is a file, not a folder" in err
    assert target.read_text(encoding="utf-8") == "not a folder"
    assert os.listdir(tmp_path) == ["processed"]


def test_an_out_folder_or_parent_that_cannot_be_written_is_a_one_line_error(tmp_path):
    """In a process that cannot write there: root writes anywhere, so as root the process runs without the
    capabilities that let it (setpriv)."""
    prefix = []
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: cannot make a folder unwritable")
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    env = {k: v for k, v in os.environ.items() if k != paths.PROCESSED_ENV}
    try:
        for out, message in ((locked, f"{locked}: the processed folder is not writable"),
                             (locked / "processed", f"{locked / 'processed'}: cannot create the processed folder")):
            done = subprocess.run([*prefix, sys.executable, "-m", "journeylib.cli", "prepare", "--raw", str(BASIC),
                                   "--out", str(out)], env=env, capture_output=True, text=True, timeout=600)
            assert done.returncode == 2, done.stderr
            assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
        assert os.listdir(locked) == []
    finally:
        locked.chmod(0o755)


# ---------------------------------------------------------------- readers

def test_tables_load_reads_the_current_version_from_the_default_folder(base, tmp_path, monkeypatch):
    """JupyterLab: no processed_dir, no $JOURNEY_PROCESSED_DIR, the project's data/processed."""
    shutil.copytree(base.old, tmp_path / "data" / "processed", symlinks=True)
    monkeypatch.setenv(paths.PROJECT_ROOT_ENV, str(tmp_path))
    monkeypatch.delenv(paths.PROCESSED_ENV, raising=False)
    current = paths.processed_dir()
    assert current.parent == tmp_path / "data" / "processed" / store.VERSIONS
    customers = tables.load("customers")
    pd.testing.assert_frame_equal(customers, pd.read_parquet(current / "customers.parquet"))
    pd.testing.assert_frame_equal(customers, pd.read_parquet(tmp_path / "data" / "processed" / "customers.parquet"))
    assert str(tables.as_of().date()) == json.loads((base.old / "summary.json").read_text())["as_of"][:10]


# ---------------------------------------------------------------- the store on its own (fake versions)

def _publish(root: Path, text: str, log=None) -> Path:
    with store.writing(root, log) as writer, store.new_version(writer) as folder:
        (folder / "summary.json").write_text(text, encoding="utf-8")
        (folder / "customers.parquet").write_text(text, encoding="utf-8")
    return paths.processed_dir(root)


def test_a_held_version_outlives_newer_ones_and_goes_with_the_first_writer_after_its_release(tmp_path):
    root = tmp_path / "processed"
    first = _publish(root, "one")
    with store.writing(root) as writer:
        held = store.hold(writer)
    second = _publish(root, "two")
    assert held.folder == first and first.is_dir() and (root / "summary.json").read_text() == "two"
    _publish(root, "three")
    assert first.is_dir() and not second.exists()  # unheld old versions go at once
    held.release()
    with store.writing(root):
        pass  # any writer, even one that reuses, removes what nobody holds
    assert not first.exists()
    assert_clean(root)


def test_a_folder_from_before_versions_becomes_the_old_version_then_links(tmp_path):
    root = tmp_path / "processed"
    root.mkdir()
    for name in ("summary.json", "customers.parquet", "fingerprint.json"):
        (root / name).write_text(f"old {name}", encoding="utf-8")
    (root / "notes.txt").write_text("mine", encoding="utf-8")  # not prepare's: left alone
    assert paths.processed_dir(root) == root  # read as it is until then
    _publish(root, "new")
    assert (root / "summary.json").read_text() == "new" and (root / "summary.json").is_symlink()
    assert not (root / "fingerprint.json").exists()  # a link to a file the new version does not have
    assert (root / "notes.txt").read_text() == "mine"
    assert os.listdir(root / store.VERSIONS) == [paths.processed_dir(root).name]


def test_without_symlinks_the_pointer_is_a_file(tmp_path, monkeypatch):
    def no_symlinks(*args, **kwargs):
        raise OSError("symbolic links are not supported here")

    monkeypatch.setattr(os, "symlink", no_symlinks)
    root = tmp_path / "processed"
    first = _publish(root, "one")
    second = _publish(root, "two")
    assert (root / paths.CURRENT_FILE).read_text().strip() == f"{store.VERSIONS}/{second.name}"
    assert not (root / paths.CURRENT).exists() and not first.exists()
    assert sorted(os.listdir(root)) == [paths.CURRENT_FILE, store.VERSIONS]
    assert (paths.processed_dir(root) / "summary.json").read_text() == "two"


def test_a_writer_waiting_on_a_folder_its_creator_removes_starts_again(tmp_path):
    root = tmp_path / "processed"
    waiting, published = threading.Event(), []

    def second_writer():
        published.append(_publish(root, "second", log=lambda message: waiting.set()))

    thread = threading.Thread(target=second_writer)
    with pytest.raises(InputError):
        with store.writing(root):  # creates the folder, then fails like bad input does
            thread.start()
            assert waiting.wait(60)
            raise InputError("bad input")
    thread.join(60)
    assert published and (paths.processed_dir(root) / "summary.json").read_text() == "second"
    assert_clean(root)


def test_leftovers_of_killed_writers_go_with_the_next_writer_even_the_old_layouts(tmp_path):
    root = tmp_path / "processed"
    _publish(root, "one")
    left = [root / ".tmp-123", root / ".work-123" / "spill", root / store.VERSIONS / "2026-01-01T000000Z-9",
            root / store.VERSIONS / ".trash-2025-12-31T000000Z-8", tmp_path / ".processed.work-77" / "spill",
            tmp_path / ".processed.tmp-77"]
    for folder in left:
        folder.mkdir(parents=True)
        (folder / "customers.parquet").write_text("stale", encoding="utf-8")
    (root / ".tmp-123.current").symlink_to("versions/2026-01-01T000000Z-9")
    (tmp_path / "unrelated").mkdir()  # not ours: stays
    with store.writing(root):
        pass
    assert not any(folder.exists() for folder in left) and not (root / ".tmp-123.current").is_symlink()
    assert (tmp_path / "unrelated").is_dir()
    (tmp_path / "unrelated").rmdir()
    assert_clean(root)
