"""scripts/mirror_tests.py (issue 23, item 8): the one-off move of tests/ into the package's shape.

Run on a small made-up checkout in tmp_path; delete this test with the script once the move is merged.
"""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest

from tests.test_layout import layout_problems

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "mirror_tests.py"
spec = importlib.util.spec_from_file_location("mirror_tests", SCRIPT)
mirror = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mirror)

RULES = '''"""Rules (tests/fixtures/prepare/basic)."""

from pathlib import Path

from journeylib import paths
from tiny_export import ROWS  # noqa: E402  (tests/ is on sys.path under pytest)

BASIC = Path(__file__).parent / "fixtures" / "prepare" / "basic"
ROOT = Path(__file__).resolve().parent.parent


def test_rules():
    assert (ROOT / "docs").is_dir() and ROWS
'''
BENCH = '''import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_prepare_rules import BASIC  # noqa: E402
'''


def git(root, *args):
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=root,
                          check=True, capture_output=True, text=True).stdout


@pytest.fixture
def checkout(tmp_path):
    files = {
        "journeylib/__init__.py": "", "journeylib/labels.py": "", "journeylib/prepare/__init__.py": "",
        "journeylib/data_quality.py": "",  # still a module: its test stays at the top
        "tests/conftest.py": "", "tests/test_labels.py": "def test_labels():\n    pass\n",
        "tests/test_prepare_rules.py": RULES,
        "tests/test_data_quality.py": "", "tests/test_brand_new.py": "", "tests/scratch_helper.py": "",
        "tests/tiny_export.py": "ROWS = [1]\n",
        "tests/test_taxonomy_patterns.py": "from tests.tiny_export import ROWS\nimport tests.tiny_export\n",
        "tests/fixtures/prepare/basic/customers.csv": "customer_id\n",
        "docs/prepare.md": "See tests/test_prepare_rules.py and tests/fixtures/prepare/basic.\n",
        "benchmarks/bench.py": BENCH,
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "before")
    return tmp_path


def test_the_move_mirrors_the_package_and_rewrites_every_reference(checkout, capsys):
    assert mirror.main(["--root", str(checkout)]) == 0
    said = capsys.readouterr().out

    assert "moved tests/test_prepare_rules.py -> tests/prepare/test_rules.py" in said
    assert "moved tests/fixtures -> tests/support/fixtures" in said
    assert "left in place (not in the mapping): tests/test_brand_new.py" in said
    assert "left in place: tests/test_data_quality.py (journeylib/data_quality is not a package here)" in said
    assert "left in place (a helper not in the mapping): tests/scratch_helper.py" in said
    tests = checkout / "tests"
    assert sorted(p.relative_to(tests).as_posix() for p in tests.rglob("*.py")) == [
        "__init__.py", "conftest.py", "prepare/__init__.py", "prepare/test_rules.py", "scratch_helper.py",
        "support/__init__.py", "support/tiny_export.py", "test_brand_new.py", "test_data_quality.py",
        "test_labels.py", "test_taxonomy.py"]
    assert layout_problems(tests, checkout / "journeylib") == [
        "tests/scratch_helper.py is a helper: it belongs under tests/support/"]

    rules = (tests / "prepare" / "test_rules.py").read_text()
    assert '"""Rules (tests/support/fixtures/prepare/basic)."""' in rules
    assert "from tests.support.tiny_export import ROWS  # noqa: E402\nfrom tests.support import FIXTURES\n" in rules
    assert 'BASIC = FIXTURES / "prepare" / "basic"' in rules
    assert "ROOT = Path(__file__).resolve().parents[2]" in rules
    assert (tests / "test_taxonomy.py").read_text() == ("from tests.support.tiny_export import ROWS\n"
                                                        "import tests.support.tiny_export\n")
    assert (checkout / "docs" / "prepare.md").read_text() == (
        "See tests/prepare/test_rules.py and tests/support/fixtures/prepare/basic.\n")
    bench = (checkout / "benchmarks" / "bench.py").read_text()
    assert 'sys.path.insert(0, str(Path(__file__).resolve().parents[1]))\n' in bench
    assert "from tests.prepare.test_rules import BASIC  # noqa: E402" in bench
    assert "FIXTURES = " in (tests / "support" / "__init__.py").read_text()
    assert git(checkout, "diff", "--name-only") == ""  # everything it changed is staged
    assert git(checkout, "ls-files", "--others", "--exclude-standard") == ""

    git(checkout, "commit", "-qm", "after")
    assert mirror.main(["--root", str(checkout)]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert git(checkout, "status", "--porcelain") == ""


def test_a_dirty_tree_is_refused_and_left_alone(checkout, capsys):
    (checkout / "tests" / "test_labels.py").write_text("# edited\n")

    assert mirror.main(["--root", str(checkout)]) == 1
    assert "not clean" in capsys.readouterr().err
    assert (checkout / "tests" / "test_prepare_rules.py").exists()
    assert not (checkout / "tests" / "prepare").exists()


def test_a_dry_run_only_prints_the_plan(checkout, capsys):
    assert mirror.main(["--root", str(checkout), "--dry-run"]) == 0
    assert "would move tests/tiny_export.py -> tests/support/tiny_export.py" in capsys.readouterr().out
    assert git(checkout, "status", "--porcelain") == ""


@pytest.mark.parametrize(("line", "rewritten"), [
    ("from awkward_exports import CASES", "from tests.support.awkward_exports import CASES"),
    ("    import awkward_exports", "    from tests.support import awkward_exports"),
    ("from tests import awkward_exports  # x", "from tests.support import awkward_exports  # x"),
    ("import test_prepare_timestamps as ts", "import tests.prepare.test_timestamps as ts"),
    ("import test_prepare_timestamps", "from tests.prepare import test_timestamps as test_prepare_timestamps"),
    ("from tests import conftest", "from tests import conftest"),
    ("from awkward_exports_extra import X", "from awkward_exports_extra import X"),
])
def test_every_import_style_is_rewritten(line, rewritten):
    names = mirror.import_map([("tests/awkward_exports.py", "tests/support/awkward_exports.py"),
                               ("tests/test_prepare_timestamps.py", "tests/prepare/test_timestamps.py")])
    assert mirror.rewrite_imports(line, names) == rewritten
