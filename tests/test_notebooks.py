"""Template sanity for every committed notebook (docs/notebooks.md).

Each notebook: a stable NN_name, exactly one `parameters` cell holding plain
literals (the runner's processed_dir, run_dir and as_of among them), no stray
outputs, results recorded through journeylib.results.Results and saved by the
last code cell, and two or three deterministic check cells. That every notebook
runs on its defaults is checked by `pytest --nbval-lax notebooks/`; the last test
runs them all through `journey run` and checks metrics.json against the interface.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import nbformat
import pytest

from journeylib.run import folders, run
from journeylib.run.notebooks import NOTEBOOK_NAME
from journeylib.run.parameters import RUN_PARAMETERS, assignments, declared_parameters
from journeylib.devtools import CHECK_TAG, KEEP_TAG, stray_outputs

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SECTION = re.compile(r"""Results\(\s*["'](\w+)["']\s*,\s*notebook\s*=\s*["']([\w-]+)["']""")


def _code_cells(path: Path):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def _tagged(path: Path, tag: str):
    return [c for c in _code_cells(path) if tag in c.metadata.get("tags", [])]


def test_there_are_notebooks_with_unique_numbers():
    assert NOTEBOOKS, "no notebooks in notebooks/"
    numbers = [p.stem[:2] for p in NOTEBOOKS]
    assert len(numbers) == len(set(numbers)), numbers


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_name_is_numbered(path):
    assert NOTEBOOK_NAME.match(path.stem), f"{path.name}: expected NN_name.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_exactly_one_parameters_cell_of_plain_literals(path):
    cells = _tagged(path, "parameters")
    assert len(cells) == 1, f"{path.name}: {len(cells)} cells tagged parameters"
    tree = ast.parse(cells[0].source)
    names = []
    for node in tree.body:
        assert isinstance(node, (ast.Assign, ast.AnnAssign)), (
            f"{path.name}: line {node.lineno} of the parameters cell is not an assignment")
        value = node.value
        assert value is not None, f"{path.name}: line {node.lineno} declares without a default"
        try:
            ast.literal_eval(value)  # a derived value here would go stale when papermill injects overrides
        except ValueError:
            pytest.fail(f"{path.name}: parameter on line {node.lineno} is computed, not a literal; "
                        "compute it in a later cell")
        target = node.targets[0] if isinstance(node, ast.Assign) else node.target
        assert isinstance(target, ast.Name), f"{path.name}: line {node.lineno} assigns to something other than a name"
        names.append(target.id)
    assert set(RUN_PARAMETERS) <= set(names), f"{path.name}: the runner's parameters are missing"
    assert len(names) == len(set(names)), f"{path.name}: a parameter is declared twice"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_parameter_is_seen_by_the_runner(path):
    declared = declared_parameters(path)
    assigned = assignments(_tagged(path, "parameters")[0].source)
    assert set(assigned) <= set(declared)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_stray_outputs(path):
    assert stray_outputs(path) == []


def _sections(path: Path) -> list[tuple[str, str]]:
    """(section, notebook) of every Results(...) the notebook creates."""
    return SECTION.findall("\n".join(c.source for c in _code_cells(path)))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_results_are_recorded_and_saved_last(path):
    cells = _code_cells(path)
    sections = _sections(path)
    assert sections, f"{path.name}: no Results(\"<section>\", notebook=...) in the set-up"
    for section, notebook in sections:
        assert notebook == path.stem, f"{path.name}: Results names notebook {notebook!r}"
        assert section not in ("run", "data"), "sections run and data belong to the runner"
    assert ".record" in "\n".join(c.source for c in cells), f"{path.name}: nothing recorded"
    assert re.search(r"\bresults\.save\(\)", cells[-1].source), f"{path.name}: the last code cell must save results"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_two_or_three_check_cells_keep_their_text_output(path):
    checked = _tagged(path, CHECK_TAG)
    assert 2 <= len(checked) <= 3, f"{path.name}: {len(checked)} cells tagged {CHECK_TAG}"
    for cell in checked:
        assert KEEP_TAG in cell.metadata["tags"], f"{path.name}: check cell without {KEEP_TAG}"
        assert cell.outputs, f"{path.name}: check cell has no output to compare; run devtools refresh"
        for output in cell.outputs:
            assert output.output_type == "stream" and output.name == "stdout", (
                f"{path.name}: check cells print plain text (got {output.output_type})")


def test_each_metrics_section_belongs_to_one_notebook():
    owners = {}
    for path in NOTEBOOKS:
        for section, _ in _sections(path):
            owners.setdefault(section, set()).add(path.stem)
    shared = {section: sorted(names) for section, names in owners.items() if len(names) > 1}
    assert shared == {}, f"sections written by several notebooks: {shared}"


def test_a_full_run_on_the_sample_fills_every_required_metric(tmp_path):
    """All notebooks through `journey run` on the default sample: each writes its results, metrics.json holds
    every key scheduled jobs and the index rely on, and the funnel equals the journeys table's counts."""
    import pandas as pd

    from journeylib.cli import DEFAULT_SAMPLE_CUSTOMERS, DEFAULT_SAMPLE_SEED
    from journeylib.results import missing_keys
    from journeylib.sample import write_sample

    write_sample(tmp_path / "raw", customers=DEFAULT_SAMPLE_CUSTOMERS, seed=DEFAULT_SAMPLE_SEED)
    code = run(raw=tmp_path / "raw", processed=tmp_path / "processed", reports=tmp_path / "reports",
                      echo=False)
    run_dir = folders.complete_runs(tmp_path / "reports")[-1]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert code == 0, metrics["run"]["notebooks"]
    for path in NOTEBOOKS:
        assert (run_dir / "results" / f"{path.stem}.json").exists(), path.stem
        for role in (".html", ".reviewer.html", ".ipynb"):
            assert (run_dir / f"{path.stem}{role}").exists(), path.stem + role
    assert missing_keys(metrics) == []
    journeys = pd.read_parquet(tmp_path / "processed" / "journeys.parquet")
    for stage in ("awareness", "consideration", "purchase", "retention", "advocacy"):
        assert metrics["journey"]["funnel"][stage] == int(journeys[f"{stage}_at"].notna().sum()), stage
    assert metrics["time_to_purchase"]["reference_channel"] == "website"
    assert metrics["advocacy"]["reference_satisfaction"] == "passive"
    assert {k: metrics["retention"]["reference_levels"][k] for k in ("finance_type", "condition", "satisfaction")} \
        == {"finance_type": "finance", "condition": "new", "satisfaction": "passive"}

    # The package computes every section headless, exactly as the notebooks record it (the `run`
    # section, with ids and timings, is the runner's own).
    from journeylib.headless import analyse_all

    headless = json.loads(json.dumps(analyse_all(tmp_path / "processed"), allow_nan=False))
    recorded = {section: values for section, values in metrics.items() if section != "run"}
    # Equal, floats to 1e-9 relative: the run's side-by-side kernels use fewer BLAS threads than this process,
    # and a linear algebra library that sums in another order moves an estimate in its 14th digit (a tiny p-value in its 12th).
    assert _same(headless, recorded), "headless and notebook results differ"
    assert headless.keys() == recorded.keys()


def _same(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b))
    return a == b
