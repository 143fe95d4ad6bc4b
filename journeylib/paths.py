"""Where the project's folders are, without ever looking at the working directory.

papermill runs in the caller's directory, JupyterLab and nbval in the
notebook's, so a relative path would mean different things. Folders come from
an explicit argument, else an environment variable, else the project root (the
folder holding the installed-editable package).

The processed folder holds versions (docs/prepare.md#the-processed-folder):
`processed_root` is the folder as named, `processed_dir` the complete version
its `current` pointer names, which is what every reader opens.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT_ENV = "JOURNEY_PROJECT_ROOT"
PROCESSED_ENV = "JOURNEY_PROCESSED_DIR"
RAW_ENV = "JOURNEY_RAW_DIR"
REPORTS_ENV = "JOURNEY_REPORTS_DIR"


def project_root() -> Path:
    """The project folder: $JOURNEY_PROJECT_ROOT, else the package's parent."""
    env = os.environ.get(PROJECT_ROOT_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return Path(__file__).resolve().parent.parent


def _resolve(explicit, env_name: str, default_relative: str) -> Path:
    if explicit not in (None, ""):
        return Path(explicit).expanduser().resolve()
    env = os.environ.get(env_name)
    if env:
        return Path(env).expanduser().resolve()
    return project_root() / default_relative


def raw_dir(explicit=None) -> Path:
    return _resolve(explicit, RAW_ENV, "data/raw")


CURRENT = "current"  # <processed>/current -> versions/<id>: the complete version readers open
CURRENT_FILE = "current.txt"  # the same pointer as a file, where symlinks cannot be made


def processed_root(explicit=None) -> Path:
    """The processed folder as named (--out / --processed): where prepare publishes versions."""
    return _resolve(explicit, PROCESSED_ENV, "data/processed")


def current_version(root: Path) -> Path:
    """The version `root/current` points at; `root` itself when it has no pointer (a version folder, or a
    folder written before versions existed)."""
    root = Path(root)
    try:
        target = os.readlink(root / CURRENT)
    except OSError:
        try:
            target = (root / CURRENT_FILE).read_text(encoding="utf-8").strip()
        except OSError:
            return root
    return root / target if target else root


def processed_dir(explicit=None) -> Path:
    """The processed tables to read: the current version of the processed folder (resolved at each call;
    `journey run` resolves it once and hands the version folder to its notebooks)."""
    return current_version(processed_root(explicit))


def reports_dir(explicit=None) -> Path:
    return _resolve(explicit, REPORTS_ENV, "reports")


def notebooks_dir() -> Path:
    return project_root() / "notebooks"
