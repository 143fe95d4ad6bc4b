"""Tests mirror the package (issue 23, item 8; docs/architecture.md, "Tests"), so the layout cannot erode.

Every folder under tests/ is a journeylib package (`tests/prepare/` for `journeylib/prepare/`) or
`support/` (shared simulators, builders, fixtures); every folder is a Python package, so one basename can
sit in two folders; outside support/ a module is a test, a conftest or an `__init__`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
PACKAGE = TESTS.parent / "journeylib"
SUPPORT = "support"


def layout_problems(tests: Path, package: Path) -> list[str]:
    """One line for each folder or module out of place."""
    problems = []
    folders = [tests, *(p for p in tests.rglob("*") if p.is_dir() and not skipped(p, tests))]
    for folder in sorted(folders):
        relative = folder.relative_to(tests)
        if folder != tests and relative.parts[0] != SUPPORT and not (package / relative / "__init__.py").is_file():
            problems.append(f"tests/{relative.as_posix()}/ is neither a journeylib package nor {SUPPORT}/")
        if relative.parts[:1] != (SUPPORT,) or len(relative.parts) == 1:
            if not (folder / "__init__.py").is_file():
                problems.append(f"tests/{relative.as_posix()}/ has no __init__.py".replace("tests/./", "tests/"))
    for module in sorted(tests.rglob("*.py")):
        relative = module.relative_to(tests)
        if skipped(module, tests) or relative.parts[0] == SUPPORT:
            continue
        if not (module.name.startswith("test_") or module.name in {"conftest.py", "__init__.py"}):
            problems.append(f"tests/{relative.as_posix()} is a helper: it belongs under tests/{SUPPORT}/")
    return problems


def skipped(path: Path, tests: Path) -> bool:
    return any(part.startswith((".", "__pycache__")) for part in path.relative_to(tests).parts)


def test_tests_mirror_the_package():
    assert layout_problems(TESTS, PACKAGE) == []


def test_an_eroded_layout_is_named(tmp_path):
    package, tests = tmp_path / "journeylib", tmp_path / "tests"
    for folder in (package / "prepare", tests / "prepare", tests / "scratch", tests / SUPPORT / "fixtures"):
        folder.mkdir(parents=True)
    for module in (package / "__init__.py", package / "prepare" / "__init__.py", tests / "__init__.py",
                   tests / SUPPORT / "__init__.py", tests / "prepare" / "test_rules.py",
                   tests / SUPPORT / "tiny_export.py", tests / "simulate.py", tests / "scratch" / "test_x.py"):
        module.write_text("")
    (tests / "__pycache__").mkdir()

    assert layout_problems(tests, package) == [
        "tests/prepare/ has no __init__.py",
        "tests/scratch/ is neither a journeylib package nor support/",
        "tests/scratch/ has no __init__.py",
        "tests/simulate.py is a helper: it belongs under tests/support/",
    ]
    (tests / "prepare" / "__init__.py").write_text("")
    (tests / "scratch").rename(tests / "retention")
    (package / "retention").mkdir()
    (package / "retention" / "__init__.py").write_text("")
    (tests / "retention" / "__init__.py").write_text("")
    (tests / "simulate.py").rename(tests / SUPPORT / "simulate.py")
    assert layout_problems(tests, package) == []
