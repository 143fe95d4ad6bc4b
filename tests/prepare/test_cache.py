"""prepare's cache: the input fingerprint, the code digest and the modules it covers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import journeylib
from journeylib.errors import InputError
from journeylib.prepare.cache import PREPARE_CODE, code_digest, input_fingerprint


def test_fingerprint_changes_with_raw_content_config_and_as_of(tmp_path):
    (tmp_path / "customers.csv").write_text("customer_id\nC1\n")
    (tmp_path / ".gitkeep").write_text("")
    config = tmp_path.parent / f"{tmp_path.name}-config.yaml"
    config.write_text("timezone: UTC\n")
    base = input_fingerprint(tmp_path)["digest"]
    assert input_fingerprint(tmp_path)["digest"] == base
    assert input_fingerprint(tmp_path, as_of="2024-06-30")["digest"] != base
    assert input_fingerprint(tmp_path, config=config)["digest"] != base
    (tmp_path / ".gitkeep").write_text("ignored")
    assert input_fingerprint(tmp_path)["digest"] == base
    (tmp_path / "customers.csv").write_text("customer_id\nC2\n")
    assert input_fingerprint(tmp_path)["digest"] != base
    with pytest.raises(InputError, match="configuration file not found"):
        input_fingerprint(tmp_path, config=tmp_path / "missing.yaml")


def test_code_digest_follows_the_code_that_makes_the_processed_tables(tmp_path):
    package = tmp_path / "pkg"
    (package / "prepare").mkdir(parents=True)
    (package / "prepare" / "clean.py").write_text("RULE = 1\n")
    (package / "survival.py").write_text("FIT = 1\n")
    base = code_digest(package)
    (package / "survival.py").write_text("FIT = 2\n")  # an analysis helper: prepare's output is unchanged
    assert code_digest(package) == base
    (package / "prepare" / "clean.py").write_text("RULE = 2\n")
    assert code_digest(package) != base
    assert input_fingerprint(tmp_path)["code"] == code_digest()


def _journeylib_imports(path: Path) -> set[str]:
    """journeylib modules a file imports ("stats.levels", "tables"), at any depth of the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "journeylib":
            inner = node.module.split(".")[1:]
            found |= {".".join(inner)} if inner else set()
            found |= {".".join(inner + [alias.name]) for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".", 1)[1] for a in node.names if a.name.startswith("journeylib.")}
    return found


def test_prepare_code_lists_every_module_prepare_and_personas_import():
    package = Path(journeylib.__file__).resolve().parent
    parts = [package / part for part in PREPARE_CODE]
    files = [p for part in parts if part.exists() for p in (part.rglob("*.py") if part.is_dir() else [part])
             if p.suffix == ".py"]
    imported = set().union(*(_journeylib_imports(p) for p in files))
    sources = set()
    for name in imported:
        base = package.joinpath(*name.split("."))
        if base.with_suffix(".py").exists():
            sources.add(base.with_suffix(".py"))
        elif base.is_dir():
            sources.add(base / "__init__.py")
    assert sources, "the check must see prepare's imports"
    uncovered = {str(s.relative_to(package)) for s in sources
                 if not any(s == part or part in s.parents for part in parts)}
    assert uncovered == set()
