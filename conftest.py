"""Test session set-up: notebooks under nbval run on a freshly prepared sample.

The sample is built only when notebooks are collected, in a temporary folder,
and handed to the kernels through $JOURNEY_PROCESSED_DIR (kernels inherit the
environment), so tests never touch the user's data/ folders.
"""

from __future__ import annotations

import os


from journeylib import paths


def _has_notebook_items(items) -> bool:
    return any(str(item.fspath).endswith(".ipynb") for item in items)


def pytest_collection_modifyitems(session, config, items):
    if not _has_notebook_items(items) or os.environ.get(paths.PROCESSED_ENV):
        return
    from journeylib.cli import DEFAULT_SAMPLE_CUSTOMERS, DEFAULT_SAMPLE_SEED
    from journeylib.prepare.cache import prepare_data
    from journeylib.sample import write_sample

    base = config._tmp_path_factory.mktemp("notebook-data") if hasattr(config, "_tmp_path_factory") else None
    if base is None:
        import tempfile
        from pathlib import Path

        base = Path(tempfile.mkdtemp(prefix="journey-nbval-"))
    write_sample(base / "raw", customers=DEFAULT_SAMPLE_CUSTOMERS, seed=DEFAULT_SAMPLE_SEED)
    prepare_data(raw=base / "raw", processed=base / "processed")
    os.environ[paths.PROCESSED_ENV] = str(base / "processed")
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("JOURNEY_SCHEDULED", "1")
