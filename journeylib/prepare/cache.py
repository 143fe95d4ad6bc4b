"""Prepare once per set of inputs: the fingerprint of what the processed tables are made from, and the
prepare-or-reuse step `journey run` and `journey prepare` share (docs/running.md, step 3).

Every version of the processed folder (journeylib.prepare.store) is complete: the tables and summary,
the shared derived tables (personas) and fingerprint.json, written before it is published.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import journeylib
from journeylib import paths
from journeylib.digest import sha256
from journeylib.errors import InputError
from journeylib.prepare import build, check_inputs, store
from journeylib.privacy import redact

FINGERPRINT_FILE = "fingerprint.json"

# What the processed tables are made by: prepare and the shared tables it builds (personas), with every
# journeylib module they import (tests/prepare/test_cache.py checks the list against their imports). Editing an
# analysis helper (journeylib/time_to_purchase, say) must not redo a prepare that takes minutes on real data.
PREPARE_CODE = ("__init__.py", "prepare", "config.py", "digest.py", "errors.py", "paths.py", "privacy.py",
                "segments.py", "tables.py", "taxonomy.py", "vocabulary.py", "derived", "engine", "asof.py", "stats/__init__.py",
                "stats/levels.py", "derived/feedback_themes.yaml", "analysis.py", "results.py", "labels.py")


def code_digest(package_dir: Path | None = None, parts=PREPARE_CODE) -> str:
    """One digest of the code that makes the processed tables: an edited cleaning rule must not reuse old
    tables (an editable install changes code without changing the version)."""
    folder = Path(package_dir) if package_dir else Path(journeylib.__file__).resolve().parent
    files = []
    for part in parts:
        path = folder / part
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path] if path.is_file() else []
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def input_fingerprint(raw: Path, config=None, as_of=None) -> dict:
    """What prepare's output depends on: raw files, configuration, as-of date, package version and code."""
    files = {p.name: _digest(p) for p in sorted(Path(raw).iterdir()) if p.is_file() and not p.name.startswith(".")}
    config_sha = None
    if config not in (None, ""):
        config_path = Path(config).expanduser()
        if not config_path.is_file():
            raise InputError(f"{config_path}: configuration file not found")
        config_sha = _digest(config_path)
    parts = {"raw": files, "config": config_sha, "as_of": None if as_of in (None, "") else str(as_of),
             "journeylib": journeylib.__version__, "code": code_digest()}
    parts["digest"] = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    return parts


def _digest(path: Path) -> str:
    try:
        return sha256(path)
    except OSError as error:  # an unreadable raw file is one line, exit 2 (not a PermissionError traceback)
        from journeylib.prepare.load import unreadable_file

        raise unreadable_file(path, error)


def stored_fingerprint(folder: Path) -> dict | None:
    try:
        return json.loads((Path(folder) / FINGERPRINT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def build_personas(folder: Path, log) -> None:
    from journeylib.derived.persona_model.table import write_personas

    started = time.monotonic()
    try:
        write_personas(folder, seed=0)
    except Exception as error:  # noqa: BLE001 - notebooks that need personas fail on their own; the rest run
        log(f"personas: not built ({type(error).__name__}: {redact(str(error))})")
        return
    log(f"personas: built in {time.monotonic() - started:.1f} s")


class Prepared:
    """The processed tables a run reads: `folder` is one complete version, held (shared lock) until
    `release()` or the end of a with block, so no writer removes it meanwhile."""

    def __init__(self, summary: dict, reused: bool, held: store.Held):
        self.summary, self.reused, self._held = summary, reused, held
        self.folder = held.folder

    def release(self) -> None:
        self._held.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


def prepare_or_reuse(raw=None, processed=None, as_of=None, config=None, log=print, force=False,
                     engine=None) -> Prepared:
    """The processed tables for these inputs, with the shared derived tables (personas).

    Reused when the current version's fingerprint matches (never with `force`), else prepared into a new
    version published only when complete. Bad input raises InputError and leaves the folder as it was.
    """
    raw_folder, root = paths.raw_dir(raw), paths.processed_root(processed)
    if not raw_folder.is_dir():
        raise InputError(f"{raw_folder}: raw exports folder not found")
    fingerprint = input_fingerprint(raw_folder, config, as_of)
    with store.writing(root, log) as writer:
        current = paths.current_version(root)
        stored = stored_fingerprint(current)
        if (not force and stored and stored.get("digest") == fingerprint["digest"]
                and (current / "summary.json").exists()):
            log(f"prepare: reused the processed tables in {root} (raw files, configuration, as-of date "
                "and journeylib code unchanged)")
            if not (current / "personas.parquet").exists():
                log("personas: not in the reused tables (building them failed when they were prepared)")
            held = store.hold(writer)
            return Prepared(json.loads((held.folder / "summary.json").read_text(encoding="utf-8")), True, held)
        reason = "asked to" if force else "no earlier preparation" if stored is None else "inputs changed"
        log(f"prepare: preparing {raw_folder} -> {root} ({reason})")
        started = time.monotonic()
        settings = check_inputs(raw_folder, config, as_of)
        with store.new_version(writer) as folder:
            summary = build(raw_folder, settings, folder, as_of=as_of, engine=engine, log=log)  # engine: not in the fingerprint
            store.checkpoint("personas")
            build_personas(folder, log)
            store.checkpoint("fingerprint")
            (folder / FINGERPRINT_FILE).write_text(json.dumps(fingerprint, indent=2, sort_keys=True),
                                                   encoding="utf-8")
        held = store.hold(writer)
        log(f"prepare: done in {time.monotonic() - started:.1f} s")
        return Prepared(summary, False, held)


def prepare_data(raw=None, processed=None, as_of=None, config=None, log=print, force=False, engine=None) -> dict:
    """`prepare_or_reuse` for a caller that reads the folder later (tests, `journey prepare`): returns
    summary.json's dictionary and holds nothing."""
    with prepare_or_reuse(raw, processed, as_of, config, log, force, engine) as prepared:
        return prepared.summary
