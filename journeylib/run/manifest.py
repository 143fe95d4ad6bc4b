"""What a run leaves for schedulers: metrics.json, manifest.json, changes.json, and the exit code.

Keys and meanings: docs/metrics.md (metrics.json, changes.json) and docs/running.md (manifest, exit codes).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import journeylib
from journeylib.results import deep_merge, merge_results

EXIT_OK, EXIT_FAILED = 0, 1
EXIT_CHANGED = 3  # --fail-on-change: the run is ok and a change was flagged
CHANGES_FILE = "changes.json"
KEY_PACKAGES = (
    "pandas", "numpy", "pyarrow", "ibis-framework", "duckdb", "lifelines", "statsmodels", "scikit-learn",
    "scipy", "matplotlib", "seaborn", "papermill", "nbconvert", "nbformat", "nbclient", "ipykernel",
)


def write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- metrics.json

def data_section(summary: dict, processed: Path) -> dict:
    """metrics.json's `data` section from summary.json (rejected = the total over reasons)."""
    section: dict = {"as_of": summary.get("as_of"), "customers": _customer_count(processed, summary),
                     "customers_merged": summary.get("customers_merged"), "tables": {}}
    for name, counts in (summary.get("tables") or {}).items():
        by_reason = counts.get("rejected") or {}
        total = sum(by_reason.values()) if isinstance(by_reason, dict) else by_reason
        section["tables"][name] = {"raw": counts.get("raw"), "kept": counts.get("kept"), "rejected": total,
                                   "rejected_by_reason": by_reason if isinstance(by_reason, dict) else {}}
    return section


def _customer_count(processed: Path, summary: dict):
    """People after identity resolution: rows of customers.parquet."""
    try:
        import pyarrow.parquet as pq

        return pq.read_metadata(processed / "customers.parquet").num_rows
    except (OSError, ImportError):
        return (summary.get("tables", {}).get("customers") or {}).get("kept")


def build_metrics(run_section: dict, data: dict, run_dir: Path, log) -> dict:
    """run + data + every notebook's results; a clash between notebooks is logged and fails the run."""
    metrics = {"run": run_section, "data": data}
    try:
        results = merge_results(run_dir)
        for section in ("run", "data"):
            if section in results:
                raise ValueError(f"a notebook recorded section {section!r}, which belongs to the runner")
        deep_merge(metrics, results)
    except (ValueError, OSError) as error:
        log(f"metrics: notebook results not merged: {error}")
        run_section["status"] = "failed"
        run_section.setdefault("errors", []).append(f"results not merged: {error}")
    return metrics


# ---------------------------------------------------------------- manifest.json

def package_versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    versions = {"python": sys.version.split()[0], "journeylib": journeylib.__version__}
    for name in KEY_PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return versions


def git_commit(folder: Path) -> dict | None:
    """HEAD and whether tracked files differ from it (read-only git calls; None outside a repository)."""
    def git(*args):
        return subprocess.run(["git", "--no-optional-locks", "-C", str(folder), *args], capture_output=True,
                              text=True, timeout=20, check=True).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": dirty}


# ---------------------------------------------------------------- changes.json and the exit code

def changes_file(metrics: dict) -> dict:
    """changes.json: the flagged changes for schedulers (docs/metrics.md); 'not computed' without notebook 06."""
    run_section, changes = metrics.get("run") or {}, metrics.get("changes")
    out = {"run_id": run_section.get("id"), "as_of": run_section.get("as_of")}
    if not isinstance(changes, dict) or "flagged" not in changes:
        return {**out, "status": "not computed", "flagged_count": 0, "flagged": [],
                "reason": "06_what_changed did not run or failed in this run"}
    return {**out, "status": "computed", "period": changes.get("period"), "q": changes.get("q"),
            "latest_period": changes.get("latest_period"), "comparisons": changes.get("comparisons"),
            "flagged_count": len(changes["flagged"]), "flagged": changes["flagged"]}


def exit_code(code: int, run_dir: Path | None, fail_on_change: bool, log) -> int:
    """--fail-on-change: 3 when the run is ok and its changes.json flags anything; 1 (a failure) always wins."""
    if code != EXIT_OK or not fail_on_change or run_dir is None:
        return code
    try:
        flagged = json.loads((run_dir / CHANGES_FILE).read_text(encoding="utf-8"))["flagged_count"]
    except (OSError, ValueError, KeyError):
        flagged = 0
    if flagged:
        log(f"--fail-on-change: {flagged} change(s) flagged; exit code {EXIT_CHANGED}")
        return EXIT_CHANGED
    return code
