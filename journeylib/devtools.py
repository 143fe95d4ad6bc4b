"""Developer tools for the committed notebooks.

`python -m journeylib.devtools refresh notebooks/01_journey_map.ipynb` executes
the notebook on its defaults against a fresh sample (as the tests do) and
writes it back stripped of outputs, except the cells tagged `keep_output`
(the `nbval-check-output` summary cells whose text the tests compare).
`python -m journeylib.devtools check` fails when a notebook carries outputs it should not.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import nbformat

CHECK_TAG = "nbval-check-output"
KEEP_TAG = "keep_output"


def stray_outputs(path) -> list[str]:
    """Problems that make a committed notebook unfit: outputs outside the check cells, counts, checkpoints."""
    notebook = nbformat.read(path, as_version=4)
    problems = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.get("tags", [])
        if cell.get("outputs") and KEEP_TAG not in tags:
            problems.append(f"{path}: cell {index} has outputs (strip them with nbstripout)")
        if KEEP_TAG in tags and CHECK_TAG not in tags:
            problems.append(f"{path}: cell {index} keeps outputs but is not tagged {CHECK_TAG}")
        if cell.get("execution_count") is not None and KEEP_TAG not in tags:
            problems.append(f"{path}: cell {index} has an execution count")
    return problems


def _sample_processed_dir(base: Path) -> Path:
    from journeylib.cli import DEFAULT_SAMPLE_CUSTOMERS, DEFAULT_SAMPLE_SEED
    from journeylib.prepare.cache import prepare_data
    from journeylib.sample import write_sample

    write_sample(base / "raw", customers=DEFAULT_SAMPLE_CUSTOMERS, seed=DEFAULT_SAMPLE_SEED)
    prepare_data(raw=base / "raw", processed=base / "processed")
    return base / "processed"


def _number_check_cells(notebook) -> None:
    """Kept cells get counts 1, 2, 3: nbval refuses to compare outputs of a cell that looks unrun."""
    kept = [c for c in notebook.cells if c.cell_type == "code" and KEEP_TAG in c.metadata.get("tags", [])]
    for count, cell in enumerate(kept, 1):
        cell.execution_count = count


def refresh(notebook_paths) -> None:
    import papermill
    from nbstripout import strip_output

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        processed = os.environ.get("JOURNEY_PROCESSED_DIR") or str(_sample_processed_dir(base))
        os.environ["JOURNEY_PROCESSED_DIR"] = processed
        os.environ.setdefault("JOURNEY_SCHEDULED", "1")
        for path in map(Path, notebook_paths):
            executed = base / path.name
            papermill.execute_notebook(str(path), str(executed), cwd=str(path.parent), kernel_name="python3",
                                       progress_bar=False)
            notebook = nbformat.read(executed, as_version=4)
            notebook.metadata.pop("papermill", None)
            for cell in notebook.cells:
                cell.metadata.pop("papermill", None)
                cell.metadata.pop("execution", None)
                if cell.metadata.get("tags") == []:  # papermill adds empty tags; keep diffs to what changed
                    cell.metadata.pop("tags")
                if "injected-parameters" in cell.metadata.get("tags", []):
                    raise RuntimeError("refresh must not inject parameters")
            notebook = strip_output(notebook, keep_output=False, keep_count=False, keep_id=True)
            _number_check_cells(notebook)
            nbformat.write(notebook, path)
            print(f"refreshed {path}")


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["refresh"] and len(argv) > 1:
        refresh(argv[1:])
        return 0
    if argv[:1] == ["check"]:
        from journeylib import paths

        problems = [p for nb in sorted(paths.notebooks_dir().glob("*.ipynb")) for p in stray_outputs(nb)]
        print("\n".join(problems) or "notebooks are clean")
        return 1 if problems else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
