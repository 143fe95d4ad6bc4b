"""Give tests/ the package's shape, once (issue 23, item 8): run on a clean checkout, review, commit.

    python scripts/mirror_tests.py            # moves (git mv), rewrites, stages; prints what it did
    python scripts/mirror_tests.py --dry-run  # prints the plan only

The layout it makes (docs/architecture.md, "Tests"):
- `tests/<package>/test_<module>.py` tests `journeylib/<package>/<module>.py`; a test of a whole analysis
  (its `analyse` and everything under it) is `tests/<package>/test_analyse.py`; a test of one theme of a
  package that no single module owns keeps the theme's name (`tests/prepare/test_rules.py`).
- `tests/test_<module>.py` tests a top-level module (`journeylib/labels.py`). Tests of the whole project
  stay at the top too: exports end to end, notebooks, environment, import layers, the layout itself.
- `tests/support/`: the shared simulators and builders (importable as `tests.support.<name>`) and
  `tests/support/fixtures/` (`from tests.support import FIXTURES`).
- Every folder is a package (`__init__.py`), so the same basename can sit in two folders; pytest's
  default import mode then puts the repository root on sys.path, which is what `tests.support` needs.

The mapping below was written by reading each test's imports. A `tests/test_*.py` it does not know is
reported and left where it is, never guessed. Anything importing a moved module (tests, benchmarks,
journeylib, conftest.py; any import style: `from awkward_exports import`, `from tests.tiny_export import`,
`import test_prepare_timestamps as ...`) and every text file naming a moved path (docs, README, .ci,
pyproject.toml) is rewritten. `Path(__file__)` chains in moved files are deepened.
Idempotent: a second run finds nothing to do. Refuses to run on a dirty tree.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

# old file in tests/ -> new path under tests/ (the folder must be a journeylib package on the tree it runs on)
MOVES = {
    "test_advocacy.py": "advocacy/test_analyse.py",
    "test_attribution.py": "journey_map/test_attribution.py",
    "test_changes.py": "changes/test_analyse.py",
    "test_data_quality.py": "data_quality/test_analyse.py",  # once data_quality is a package; else it stays
    "test_export_dialects.py": "prepare/test_dialect.py",
    "test_feedback.py": "derived/test_feedback.py",  # personas.feedback is an alias of derived.feedback
    "test_figures.py": "figures/test_curves.py",
    "test_funnels.py": "journey_map/test_funnels.py",
    "test_group_paths.py": "journey_map/test_compare.py",
    "test_intervals.py": "stats/test_intervals.py",
    "test_journey_map.py": "journey_map/test_analyse.py",
    "test_lead_scores.py": "time_to_purchase/test_lead_scores.py",
    "test_levels.py": "stats/test_levels.py",
    "test_personas.py": "personas/test_analyse.py",
    "test_prepare_bad_input.py": "prepare/test_bad_input.py",
    "test_prepare_cache.py": "prepare/test_cache.py",
    "test_prepare_contract.py": "prepare/test_contract.py",
    "test_prepare_end_to_end.py": "prepare/test_end_to_end.py",
    "test_prepare_hostile_values.py": "prepare/test_hostile_values.py",
    "test_prepare_properties.py": "prepare/test_properties.py",
    "test_prepare_rules.py": "prepare/test_rules.py",
    "test_prepare_timestamps.py": "prepare/test_timestamps.py",
    "test_processed_consistency.py": "prepare/test_store.py",
    "test_rejection_guard.py": "prepare/test_guard.py",
    "test_retention.py": "retention/test_analyse.py",
    "test_revenue_credit.py": "journey_map/test_revenue.py",
    "test_reviewer_pages.py": "run/test_render.py",
    "test_run_folders.py": "run/test_folders.py",
    "test_run_parameters.py": "run/test_parameters.py",
    "test_run_trust.py": "run/test_trust.py",
    "test_runner.py": "run/test_end_to_end.py",
    "test_sample.py": "sample/test_write_sample.py",
    "test_sample_future.py": "sample/test_future.py",
    "test_service_scores.py": "retention/test_service_scores.py",
    "test_spark_engine.py": "engine/test_spark.py",
    "test_engine.py": "engine/test_state.py",
    "test_service_landmark.py": "retention/test_service_landmark.py",
    "test_survival.py": "time_to_purchase/test_analyse.py",
    "test_tables_sample.py": "test_tables.py",
    "test_taxonomy_patterns.py": "test_taxonomy.py",
    "test_trends.py": "run/test_trends.py",
}
# stay at tests/ top: top-level modules, and tests of the whole project
STAY = {
    "test_asof.py", "test_buyers.py", "test_config.py", "test_labels.py", "test_privacy.py", "test_report.py",
    "test_results.py",
    "test_awkward_exports.py", "test_degenerate_exports.py", "test_event_log_exports.py",  # exports end to end
    "test_real_logs.py",
    "test_environment.py", "test_import_layers.py", "test_notebooks.py", "test_layout.py",
    "test_mirror_tests.py",  # the script's own test, until the script is deleted
}
HELPERS = ["awkward_exports.py", "event_log_exports.py", "reference_attribution.py", "reference_clean.py",
           "simulate_referrals.py", "survival_simulation.py", "tiny_export.py"]
FIXTURES = "fixtures"
SUPPORT = "support"
OWN = {"scripts/mirror_tests.py", "tests/test_mirror_tests.py"}  # old names on purpose: never rewritten
TEXT_SUFFIXES = {".py", ".md", ".toml", ".yml", ".yaml", ".cfg", ".ini", ".txt", ".ipynb", ".sh", ""}
SUPPORT_INIT = '''"""What several test modules share: simulators with a known truth, export builders, fixtures."""

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"  # hand-made exports and notebooks the tests read
'''
GUARD = re.compile(r"\n# mirror_tests: guard start\n.*?# mirror_tests: guard end\n", re.S)
PATH_CHAIN = re.compile(r"Path\(__file__\)(\.resolve\(\))?(\.parents\[(\d+)\]|(?:\.parent)+(?![\w\[]))")


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def is_package(root: Path, folder: str) -> bool:
    return (root / "journeylib" / folder / "__init__.py").is_file()


def plan(root: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """(moves as (old, new) paths relative to the root, notes on what was left and why)."""
    tests = root / "tests"
    moves, notes = [], []
    for path in sorted(tests.glob("test_*.py")):
        name = path.name
        if name in STAY:
            continue
        if name not in MOVES:
            stem = path.stem[len("test_"):]
            if (root / "journeylib" / f"{stem}.py").is_file():
                continue  # already the mirror of a top-level module
            notes.append(f"left in place (not in the mapping): tests/{name}")
            continue
        new = MOVES[name]
        folder = str(Path(new).parent)
        if folder != "." and not is_package(root, folder):
            notes.append(f"left in place: tests/{name} (journeylib/{folder} is not a package here)")
            continue
        if (tests / new).exists():
            notes.append(f"left in place: tests/{name} (tests/{new} already exists)")
            continue
        moves.append((f"tests/{name}", f"tests/{new}"))
    for name in [*HELPERS, FIXTURES]:
        if (tests / name).exists():
            if (tests / SUPPORT / name).exists():
                notes.append(f"left in place: tests/{name} (tests/{SUPPORT}/{name} already exists)")
            else:
                moves.append((f"tests/{name}", f"tests/{SUPPORT}/{name}"))
    for path in sorted(tests.glob("*.py")):
        if not path.name.startswith("test_") and path.name not in {"conftest.py", "__init__.py", *HELPERS}:
            notes.append(f"left in place (a helper not in the mapping): tests/{path.name}")
    return moves, notes


def module_of(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def import_map(moves) -> dict[str, str]:
    """Every name a moved module was imported by -> its new dotted name."""
    names = {}
    for old, new in moves:
        if not old.endswith(".py"):
            continue
        names[module_of(old)] = module_of(new)  # tests.tiny_export
        names[Path(old).stem] = module_of(new)  # tiny_export (tests/ on sys.path)
    return names


def rewrite_imports(text: str, names: dict[str, str]) -> str:
    if not names:
        return text
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))

    def from_import(m):
        return f"{m[1]}from {names[m[2]]} import"

    def plain_import(m):
        old, new, alias = m[2], names[m[2]], m[3]
        if alias:
            return f"{m[1]}import {new} as {alias}"
        if "." in old:
            return f"{m[1]}import {new}"
        parent, leaf = new.rsplit(".", 1)
        return f"{m[1]}from {parent} import {leaf}" + ("" if leaf == old else f" as {old}")

    text = re.sub(rf"(?m)^(\s*)from\s+({alternatives})\s+import\b", from_import, text)

    def from_tests_import(m):  # `from tests import tiny_export`: every name must have moved to one package
        imported = [part.split()[0] for part in m[2].split(",")]
        homes = {names.get(f"tests.{name}", "").rpartition(".")[0] for name in imported}
        return f"{m[1]}from {homes.pop()} import {m[2]}{m[3]}" if len(homes) == 1 and "" not in homes else m[0]

    text = re.sub(r"(?m)^(\s*)from\s+tests\s+import\s+([\w ,]+?)(\s*)(?=#|$)", from_tests_import, text)
    text = re.sub(rf"(?m)^(\s*)import\s+({alternatives})(?:\s+as\s+(\w+))?(?=\s*(?:#|$))", plain_import, text)
    for old, new in names.items():  # attribute use after `import tests.x`
        if "." in old:
            text = re.sub(rf"\b{re.escape(old)}\b", new, text)
    return re.sub(r"  \(tests/ is on sys\.path(?: under pytest)?\)", "", text)


def deepen(text: str, depth: int, is_test: bool) -> tuple[str, bool]:
    """`Path(__file__)` chains in a file moved `depth` folders below tests/; fixture paths -> FIXTURES."""
    uses_fixtures = False

    def chain(m):
        up = m[2].count(".parent") if m[3] is None else int(m[3]) + 1
        up += depth
        return f"Path(__file__){m[1] or ''}" + (".parent" if up == 1 else f".parents[{up - 1}]")

    if is_test:
        fixtures = re.compile(r'Path\(__file__\)(?:\.resolve\(\))?\.parent\s*/\s*"fixtures"'
                              r'|\b[A-Z_]+\s*/\s*"tests"\s*/\s*"fixtures"')
        text, count = fixtures.subn("FIXTURES", text)
        uses_fixtures = count > 0
    if depth:
        text = PATH_CHAIN.sub(chain, text)
    return text, uses_fixtures


def add_fixtures_import(text: str) -> str:
    if re.search(r"(?m)^from tests\.support import .*\bFIXTURES\b", text):
        return text
    lines = text.split("\n")
    last = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if re.match(r"(def|class|@)\b", line):
            break
        if re.match(r"(from|import) ", line):
            while lines[i].rstrip().endswith(("(", ",")) or ("(" in lines[i] and ")" not in lines[i]):
                i += 1
            last = i
        i += 1
    at = 0 if last is None else last + 1
    lines.insert(at, "from tests.support import FIXTURES")
    return "\n".join(lines)


def rewrite_paths(text: str, moves) -> str:
    for old, new in moves:
        text = re.sub(rf"(?<![\w.-]){re.escape(old)}(?![\w])", new, text)
    return text


def text_files(root: Path) -> list[Path]:
    files = git(root, "ls-files", "-z").split("\0")
    return [root / f for f in files if f and Path(f).suffix in TEXT_SUFFIXES and (root / f).is_file()]


def static_pairs() -> list[tuple[str, str]]:
    """Every (old, new) path the layout knows, whether or not this run moved it."""
    return ([(f"tests/{old}", f"tests/{new}") for old, new in MOVES.items()]
            + [(f"tests/{name}", f"tests/{SUPPORT}/{name}") for name in [*HELPERS, FIXTURES]])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent,
                        help="a folder of the checkout to change (default: this script's)")
    args = parser.parse_args(argv)
    root = Path(git(args.root, "rev-parse", "--show-toplevel").strip())
    moves, notes = plan(root)
    for old, new in moves:
        print(f"{'would move' if args.dry_run else 'moved'} {old} -> {new}")
    for note in notes:
        print(note)
    if args.dry_run:
        return 0
    if git(root, "status", "--porcelain"):
        print("refused: the working tree is not clean (commit or stash first)", file=sys.stderr)
        return 1

    for old, new in moves:
        (root / new).parent.mkdir(parents=True, exist_ok=True)
        git(root, "mv", old, new)
    touched = set()
    for old, new in moves:  # every folder on the way is a package
        folder = (root / new).parent
        while folder != root:
            init = folder / "__init__.py"
            if not init.exists():
                init.write_text(SUPPORT_INIT if folder.name == SUPPORT and folder.parent.name == "tests" else "")
                touched.add(init)
            folder = folder.parent

    # rewrite for everything moved, in this run or an earlier one (a branch merged later may use old names)
    done = [(old, new) for old, new in static_pairs() if not (root / old).exists() and (root / new).exists()]
    names = import_map(done)
    fixtures_moved = (f"tests/{FIXTURES}", f"tests/{SUPPORT}/{FIXTURES}") in done
    depth_of = {root / new: new.count("/") - 1 for old, new in moves if new.endswith(".py")}
    for path in text_files(root):
        relative = path.relative_to(root).as_posix()
        if relative in OWN:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        new = rewrite_paths(text, done)
        if relative == "tests/test_layout.py":
            new = GUARD.sub("\n", new) if (root / "tests" / SUPPORT).is_dir() else new
        elif path.suffix == ".py":
            new = rewrite_imports(new, names)
            in_tests = relative.startswith("tests/") and not relative.startswith(f"tests/{SUPPORT}/")
            new, uses_fixtures = deepen(new, depth_of.get(path, 0),
                                        fixtures_moved and in_tests and path.name.startswith("test_"))
            if uses_fixtures:
                new = add_fixtures_import(new)
            if not relative.startswith("tests/"):  # benchmarks put tests/ on sys.path; now the root
                new = re.sub(r'(sys\.path\.insert\(0,\s*str\(Path\(__file__\)(?:\.resolve\(\))?\.parents\[\d+\])'
                             r'\s*/\s*"tests"\)', r"\1)", new)
                if fixtures_moved:
                    new = re.sub(r'"tests"(\s*/\s*)"fixtures"', r'"tests"\1"support"\1"fixtures"', new)
        if new != text:
            path.write_text(new, encoding="utf-8")
            touched.add(path)
    if touched:
        git(root, "add", "--", *[str(p.relative_to(root)) for p in sorted(touched)])
    for path in sorted(touched):
        print(f"rewrote {path.relative_to(root)}")
    for line in leftovers(root, names):
        print(f"check by hand: {line}")
    if not moves and not touched:
        print("nothing to do: tests/ already mirrors the package")
        return 0
    print(f"{len(moves)} moved, {len(touched)} files written, all staged: review with `git diff --cached`, "
          "check `python -m pytest --collect-only -q tests | tail -1`, then commit")
    return 0


def leftovers(root: Path, names: dict[str, str]) -> list[str]:
    """Imports of an old name and paths to moved files that the rewrite did not reach."""
    found = []
    bare = [n for n in names if "." not in n]
    old_import = re.compile(rf"^\s*(from|import)\s+({'|'.join(map(re.escape, bare))})\b"
                            rf"|^\s*from\s+tests\s+import\s+.*\b({'|'.join(map(re.escape, bare))})\b") if bare else None
    mentioned = re.compile(r"(?<![\w.-])tests/[\w/]+\.py")
    for path in text_files(root):
        relative = path.relative_to(root).as_posix()
        if relative in OWN or relative == "tests/test_layout.py":  # they name old paths on purpose
            continue
        try:
            lines = path.read_text(encoding="utf-8").split("\n")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(lines, 1):
            if path.suffix == ".py" and old_import and old_import.match(line):
                found.append(f"{relative}:{number}: {line.strip()}")
            for match in mentioned.finditer(line):
                if not (root / match[0]).exists():
                    found.append(f"{relative}:{number}: names {match[0]}, which is not there")
    return found


if __name__ == "__main__":
    sys.exit(main())
