"""Story lines per notebook: what a reader of the notebook source has to get through.

    python benchmarks/story_lines.py [notebooks/NN_name.ipynb ...]

Counts non-blank lines of code and of markdown, leaving out the `parameters` cell
and the tagged check cells (`nbval-check-output`), which every notebook has and no
reader follows. `story` is code + markdown; issue 23's limit (at most 60) and its
"00 and 06 are about 28 lines" count the code column.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SKIPPED_TAGS = {"parameters", "nbval-check-output"}
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def counts(path) -> dict:
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    total = {"code": 0, "markdown": 0}
    for cell in cells:
        if cell["cell_type"] not in total or SKIPPED_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        total[cell["cell_type"]] += sum(1 for line in source.splitlines() if line.strip())
    return {**total, "story": total["code"] + total["markdown"]}


def main(argv=None) -> int:
    paths = [Path(p) for p in (argv or sys.argv[1:])] or sorted(NOTEBOOKS.glob("0*.ipynb"))
    print(f"{'notebook':34} {'code':>5} {'markdown':>9} {'story':>6}")
    for path in paths:
        c = counts(path)
        print(f"{path.stem:34} {c['code']:>5} {c['markdown']:>9} {c['story']:>6}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
