"""Every report finishes on every valid export (issue 11).

Each case of `awkward_exports.CASES` is derived from one sample built once per
session and run through `journey run` (prepare and every notebook): exit code
0, every notebook `ok`, every required metrics key present, every null one
explained under its section's `missing`, and what the case must say (levels
pooled, a fallback reference, estimates that cannot be made). Where an estimate
is still possible it must still be right: the test-drive hazard ratio's interval
covers the sample's truth.

A full run takes one to three minutes, so only the two quickest cases run in the
normal suite; the whole matrix runs with `pytest -m slow tests/test_awkward_exports.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.awkward_exports import CASES, MID_DEALERS, TINY_DEALERS, build  # noqa: E402
from journeylib.run import folders
from journeylib.cli import main
from journeylib.labels import label
from journeylib.results import REQUIRED_KEYS, get_key, missing_keys
from journeylib.sample import write_sample

SAMPLE_CUSTOMERS = 2500
SAMPLE_SEED = 7
CASE_SEED = 3
QUICK = ("few_dozen_customers", "leads_only")
NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
RUNNER_SECTIONS = ("run", "data")


@pytest.fixture(scope="session")
def sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("awkward-sample") / "raw"
    write_sample(folder, customers=SAMPLE_CUSTOMERS, seed=SAMPLE_SEED)
    return folder


def run_case(name, sample, tmp_path):
    raw = tmp_path / "raw"
    facts = build(name, sample, raw, seed=CASE_SEED)
    argv = ["run", "--raw", str(raw), "--processed", str(tmp_path / "processed"),
            "--reports", str(tmp_path / "reports")]
    if facts.get("as_of"):
        argv += ["--as-of", facts["as_of"]]
    code = main(argv)
    run_dir = folders.complete_runs(tmp_path / "reports")[-1]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return code, metrics, facts, run_dir


def is_null(value) -> bool:
    return value is None or (isinstance(value, dict) and "estimate" in value and value["estimate"] is None)


def reason_for(metrics, key):
    section, rest = key.split(".", 1)
    return (metrics.get(section, {}).get("missing") or {}).get(rest)


def failures(run_dir, metrics) -> str:
    """The notebooks that did not finish, with the run log's lines about them (for the assertion message)."""
    bad = {nb: info for nb, info in metrics["run"]["notebooks"].items() if info.get("status") != "ok"}
    log = (run_dir / "run.log").read_text(errors="replace").splitlines()
    return "\n".join([json.dumps(bad)] + [line for line in log if "failed" in line])


def warnings_shown(run_dir) -> dict:
    """Python warnings the executed notebooks printed (each would show in its reviewer report)."""
    shown = {}
    for path in sorted(run_dir.glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            for output in cell.get("outputs", []):
                text = "".join(output.get("text", ""))
                if output.get("name") == "stderr" and "Warning" in text:
                    shown.setdefault(path.stem, []).append(text[:300])
    return shown


@pytest.mark.parametrize("name", [pytest.param(n, marks=() if n in QUICK else pytest.mark.slow) for n in CASES])
def test_every_report_finishes_and_says_what_it_could_not_compute(name, sample, tmp_path):
    case = CASES[name]
    code, metrics, facts, run_dir = run_case(name, sample, tmp_path)

    assert code == 0, failures(run_dir, metrics)
    assert {nb: info["status"] for nb, info in metrics["run"]["notebooks"].items()} == \
        {nb: "ok" for nb in metrics["run"]["notebooks"]}
    assert set(metrics["run"]["notebooks"]) == {path.stem for path in NOTEBOOKS}
    assert warnings_shown(run_dir) == {}  # an expected condition reads as a sentence, not a warning box
    assert missing_keys(metrics) == []
    for key in REQUIRED_KEYS:
        if is_null(get_key(metrics, key)):
            assert key.split(".")[0] not in RUNNER_SECTIONS, key
            assert reason_for(metrics, key), f"{key} is null without a reason under missing"

    for key in case.missing:
        assert is_null(get_key(metrics, key)), f"{key} should not be computable here: {get_key(metrics, key)}"
        reason = reason_for(metrics, key)
        assert isinstance(reason, str) and reason.strip()
        assert reason in metrics[key.split(".")[0]]["notes"]

    for key, levels in case.pooled.items():
        pooled = get_key(metrics, key)
        assert set(levels) <= set(pooled), (key, pooled)
        section = key.split(".")[0]
        assert any(all(label(level) in note for level in levels) for note in metrics[section].get("notes", [])), \
            f"no note names the pooled levels {levels}"

    if case.absent_reference_channel:
        used = metrics["time_to_purchase"]["reference_channel"]
        assert used not in (None, case.absent_reference_channel)
        assert any(used in note for note in metrics["time_to_purchase"].get("notes", []))

    if case.test_drive_estimable:
        truth = json.loads((sample / "truth.json").read_text())["time_to_purchase"]["hazard_ratios"]["test_drive"]
        effect = metrics["time_to_purchase"]["hazard_ratios"]["test_drive"]
        assert effect["ci_low"] <= truth <= effect["ci_high"], effect

    if "unknown_channel_rows" in facts:
        unknown = metrics["data_quality"]["unknown_values"]["channel"]
        assert unknown["rows"] >= 0.9 * facts["unknown_channel_rows"]
        assert unknown["labels"] >= facts["unknown_channel_labels"]
    if name == "nobody_churn_eligible":
        assert metrics["retention"]["eligible"] == 0
    if name == "one_dealer":
        assert metrics["data_quality"]["events"]["dealers"] == 1
    if name == "many_small_dealers":
        pooled = metrics["retention"].get("levels_pooled", {}).get("dealer_id", [])
        assert pooled and set(pooled) <= set(TINY_DEALERS + MID_DEALERS), pooled
    if name == "leads_only":
        assert metrics["journey"]["funnel"]["awareness"] > 0
        assert metrics["retention"]["eligible"] == 0
