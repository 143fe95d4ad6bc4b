"""Runs a manager can trust (issue 22): no synthetic data by accident and always labelled, experiments
that do not publish, one-line environment failures, bounded -p values, help that stands alone, a
processed folder that repairs a copy without symlinks, and the index's folded notes and lists to call.

The end-to-end runs use exports that are not the sample (the sample's files without its truth.json)
and the fixture notebook 02_echo, so each run is a kernel start and a few cells.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from journeylib import cli, paths
from journeylib.prepare import cache
from journeylib.prepare.cache import prepare_data
from journeylib.run import _check_space, exploratory_reason, folders, render, run, synthetic
from journeylib.run.execute import Outcome
from journeylib.sample import write_sample
from tests.support import FIXTURES

ROOT = Path(__file__).resolve().parents[2]
ECHO = FIXTURES / "notebooks" / "02_echo.ipynb"
BANNER = render.SYNTHETIC_TEXT


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """Exports that are not the sample: the sample's tables and journey.yaml, without truth.json."""
    raw = tmp_path_factory.mktemp("trust") / "raw"
    write_sample(raw, customers=100, seed=3)
    (raw / "truth.json").unlink()
    return raw


@pytest.fixture(scope="module")
def echo_notebooks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("trust-notebooks")
    shutil.copy(ECHO, folder)
    return folder


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    return err


# ---------------------------------------------------------------- 1. synthetic data only when asked

def test_an_explicitly_named_empty_raw_folder_is_exit_2_and_nothing_is_written(tmp_path, capsys, monkeypatch):
    raw = tmp_path / "drop"
    raw.mkdir()
    code = cli.main(["run", "--raw", str(raw), "--processed", str(tmp_path / "p"), "--reports", str(tmp_path / "r")])
    assert code == cli.EXIT_BAD_INPUT
    assert f"{raw}: holds no exports" in _one_line_error(capsys)
    assert list(raw.iterdir()) == [] and not (tmp_path / "p").exists() and not (tmp_path / "r").exists()
    # named through the environment (a scheduled job's setting) is named too
    monkeypatch.setenv(paths.RAW_ENV, str(raw))
    assert cli.main(["run", "--processed", str(tmp_path / "p"), "--reports", str(tmp_path / "r")]) == 2
    assert "holds no exports" in _one_line_error(capsys) and list(raw.iterdir()) == []


def test_the_sample_is_recognised_by_its_truth_file_and_nothing_else(tmp_path, exports):
    assert not synthetic.is_sample(exports)
    (tmp_path / "truth.json").write_text(json.dumps({"seed": 7, "identity": {}, "funnel": {}}))
    assert synthetic.is_sample(tmp_path)
    (tmp_path / "truth.json").write_text(json.dumps({"note": "a dealer's own file of that name"}))
    assert not synthetic.is_sample(tmp_path)
    (tmp_path / "truth.json").write_text("not json")
    assert not synthetic.is_sample(tmp_path)


def test_the_banner_goes_right_after_body_once():
    page = '<html><head><title>x</title></head><body class="jp">\n<h1>Report</h1></body></html>'
    marked = render.add_synthetic_banner(page)
    assert marked.index('<body class="jp">') < marked.index(BANNER) < marked.index("<h1>")
    assert render.add_synthetic_banner(marked) == marked


# ---------------------------------------------------------------- 2. experiments do not publish

@pytest.fixture(scope="module")
def runs(exports, echo_notebooks, tmp_path_factory):
    """A complete run, then the same with -p (exploratory), then with -p and --publish."""
    base = tmp_path_factory.mktemp("trust-runs")
    processed, reports = base / "processed", base / "reports"

    def one(**kwargs):
        code = run(raw=exports, processed=processed, reports=reports, notebooks_dir=echo_notebooks, echo=False,
                   **kwargs)
        newest = max((p for p in reports.iterdir() if folders.RUN_ID.match(p.name)),
                     key=lambda p: folders.run_sort_key(p.name))
        return code, newest

    out = {"reports": reports, "processed": processed}
    out["published"] = one()
    out["trends_after_published"] = (reports / "trends.html").read_bytes()
    out["exploratory"] = one(parameters=["top_n=7"])
    out["trends_after_exploratory"] = (reports / "trends.html").read_bytes()
    out["latest_after_exploratory"] = (reports / "latest").resolve()
    out["forced"] = one(parameters=["top_n=7"], publish=True)
    return out


def test_a_run_on_real_exports_has_no_synthetic_banner_anywhere(runs):
    code, run_dir = runs["published"]
    assert code == 0
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["run"]["synthetic_data"] is False and metrics["run"]["published"] is True
    assert metrics["run"]["exploratory"] is None
    for page in [*run_dir.glob("*.html"), runs["reports"] / "trends.html"]:
        assert BANNER not in page.read_text(encoding="utf-8"), page.name
    assert "Exploratory run" not in (run_dir / "index.html").read_text(encoding="utf-8")


def test_a_parameter_run_leaves_latest_and_trends_unchanged(runs):
    published = runs["published"][1]
    code, run_dir = runs["exploratory"]
    assert code == 0 and run_dir != published
    assert runs["latest_after_exploratory"] == published.resolve()
    assert runs["trends_after_exploratory"] == runs["trends_after_published"]
    assert (run_dir / folders.EXPLORATORY_MARKER).exists() and (run_dir / "index.html").exists()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["run"]["exploratory"] == "-p top_n=7" and metrics["run"]["published"] is False
    index = (run_dir / "index.html").read_text(encoding="utf-8")
    assert index.index("Exploratory run") < index.index("<h1>") and "Not published" in index
    assert folders.published_runs(runs["reports"])[:1] == [published]


def test_publish_publishes_an_exploratory_run(runs):
    code, run_dir = runs["forced"]
    assert code == 0
    assert (runs["reports"] / "latest").resolve() == run_dir.resolve()
    assert f"to {run_dir.name}" in (runs["reports"] / "trends.html").read_text(encoding="utf-8")
    assert not (run_dir / folders.EXPLORATORY_MARKER).exists()
    index = (run_dir / "index.html").read_text(encoding="utf-8")
    assert "Published as asked" in index
    # it compared with the last published run, never with the exploratory one
    assert f'href="../{runs["published"][1].name}/index.html"' in index


def test_exploratory_reason_names_only_and_parameters():
    assert exploratory_reason(None, []) is None
    assert exploratory_reason(["03"], ["churn_after_days=545"]) == "--only 03; -p churn_after_days=545"


def _past_run(reports: Path, name: str, churn: float, parameters: dict) -> Path:
    folder = reports / name
    (folder / "results").mkdir(parents=True)
    (folder / "results" / "03_retention_churn.json").write_text(json.dumps({"retention": {"churn_rate": churn}}))
    (folder / "results" / "00_data_quality.json").write_text(json.dumps({"data_quality": {}}))
    metrics = {"run": {"id": name, "status": "ok"}, "data": {"customers": 2000}, "retention": {"churn_rate": churn}}
    (folder / "metrics.json").write_text(json.dumps(metrics))
    (folder / "manifest.json").write_text(json.dumps({"parameters": {
        "03_retention_churn": {"run_dir": str(folder), **parameters}, "00_data_quality": {"run_dir": str(folder)}}}))
    return folder


def test_a_headline_defined_by_other_parameters_is_not_compared(tmp_path):
    before = _past_run(tmp_path, "2026-11-24T0315Z", 0.279, {})
    now = _past_run(tmp_path, "2026-11-25T0315Z", 0.264, {"churn_after_days": 545})
    metrics = json.loads((now / "metrics.json").read_text())
    outcomes = [Outcome("03_retention_churn", "ok", parameters={"run_dir": str(now), "churn_after_days": 545}),
                Outcome("00_data_quality", "ok", parameters={"run_dir": str(now)})]
    page = render.write_index(now, metrics, outcomes, before).read_text(encoding="utf-8")
    assert "−1.5 pts" not in page and "-1.5 pts" not in page
    assert "not compared" in page and "churn_after_days = 545 in this run" in page
    rows = {r["key"]: r for r in render.headline_rows(
        metrics, json.loads((before / "metrics.json").read_text()),
        render.redefined_sections(now, {o.name: o.parameters for o in outcomes}, before))}
    assert rows["retention.churn_rate"]["change"] == render.NOT_COMPARED
    assert rows["data.customers"]["change"] == "no change"  # not defined by a notebook parameter
    # the same parameters: compared as before
    same = render.redefined_sections(now, {"03_retention_churn": {"churn_after_days": 545}}, now)
    assert same == {}


# ---------------------------------------------------------------- 3. the processed folder repairs itself

def test_a_copy_without_symlinks_is_repaired_by_the_next_prepare(exports, runs, tmp_path):
    import pandas as pd

    copy = tmp_path / "restored"
    shutil.copytree(runs["processed"], copy)  # follows links: `current` and the top-level files become copies
    assert (copy / "current").is_dir() and not (copy / "current").is_symlink()
    assert not (copy / "summary.json").is_symlink()
    before = json.loads((copy / "summary.json").read_text())
    earlier = str((pd.Timestamp(before["as_of"][:10]) - pd.Timedelta(days=40)).date())
    after = prepare_data(raw=exports, processed=copy, as_of=earlier, force=True, log=lambda m: None)
    assert after["as_of"] != before["as_of"]
    assert (copy / "current").is_symlink()
    for name in ("summary.json", "customers.parquet", "touchpoints.parquet", "fingerprint.json"):
        assert (copy / name).is_symlink(), name
        assert (copy / name).resolve() == (paths.current_version(copy) / name).resolve(), name
    assert json.loads((copy / "summary.json").read_text())["as_of"] == after["as_of"]
    strays = [p.name for p in copy.iterdir() if p.is_file() and not p.is_symlink() and p.suffix in (".json", ".parquet")]
    assert strays == []


def test_a_copy_is_repaired_when_its_tables_are_reused(exports, runs, tmp_path):
    from journeylib.prepare.cache import prepare_or_reuse

    copy = tmp_path / "restored"
    shutil.copytree(runs["processed"], copy)
    (copy / "stale.parquet").write_text("an older version's table")
    with prepare_or_reuse(exports, copy, log=lambda m: None) as prepared:
        assert prepared.reused
    assert (copy / "current").is_symlink() and (copy / "summary.json").is_symlink()
    assert not (copy / "stale.parquet").exists()


# ---------------------------------------------------------------- 4. environment failures: one line, exit 2

@contextlib.contextmanager
def _tmpfs(folder: Path, options: str):
    folder.mkdir(parents=True, exist_ok=True)
    try:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                                 capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        mounted = False
    if not mounted:
        pytest.skip("cannot mount a tmpfs here (the simulated-ENOSPC tests cover the same path)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=20)


def _fill(folder: Path) -> None:
    with contextlib.suppress(OSError), open(folder / "filler", "wb", buffering=0) as handle:
        while True:
            handle.write(b"\0" * 4096)


def test_processed_folder_on_a_full_disk_is_one_line(exports, tmp_path, capsys):
    with _tmpfs(tmp_path / "disk", "size=256k") as disk:
        (disk / "processed").mkdir()
        _fill(disk)
        code = cli.main(["prepare", "--raw", str(exports), "--processed", str(disk / "processed")])
        assert code == cli.EXIT_BAD_INPUT
        err = _one_line_error(capsys)
        assert str(disk / "processed") in err and "no space left on the device" in err
        assert list((disk / "processed").iterdir()) == []  # nothing half-written


def test_reports_folder_on_a_full_or_read_only_disk_is_one_line(exports, echo_notebooks, runs, tmp_path, capsys,
                                                                monkeypatch):
    monkeypatch.setattr(paths, "notebooks_dir", lambda: echo_notebooks)
    processed = runs["processed"]  # prepared already: reused
    with _tmpfs(tmp_path / "disk", "size=256k") as disk:
        (disk / "reports").mkdir()
        _fill(disk)
        code = cli.main(["run", "--raw", str(exports), "--processed", str(processed), "--reports", str(disk / "reports")])
        assert code == cli.EXIT_BAD_INPUT
        err = _one_line_error(capsys)
        assert str(disk / "reports") in err and "no space left on the device" in err
        assert not (disk / "reports" / "latest").exists()
    with _tmpfs(tmp_path / "readonly", "size=256k,ro") as readonly:
        code = cli.main(["run", "--raw", str(exports), "--processed", str(processed), "--reports", str(readonly)])
        assert code == cli.EXIT_BAD_INPUT
        assert f"{readonly}: the reports folder is not writable" in _one_line_error(capsys)


def test_simulated_full_disk_and_permission_errors_are_one_line(exports, runs, tmp_path, capsys, monkeypatch):
    processed = runs["processed"]  # prepared already: reused
    real_write_text = Path.write_text
    reports = tmp_path / "reports"

    def full(self, *args, **kwargs):
        if str(self).startswith(str(reports)):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real_write_text(self, *args, **kwargs)

    monkeypatch.setattr(paths, "notebooks_dir", lambda: ECHO.parent)
    with monkeypatch.context() as patch:
        patch.setattr(Path, "write_text", full)
        code = cli.main(["run", "--raw", str(exports), "--processed", str(processed), "--reports", str(reports),
                         "--only", "02_echo"])
    assert code == cli.EXIT_BAD_INPUT
    err = _one_line_error(capsys)
    assert err.startswith(f"journey run: error: {reports}") and err.endswith("no space left on the device")

    # a read-only reports folder, where the permission check cannot see it (root, a network share)
    with monkeypatch.context() as patch:
        patch.setattr("journeylib.run.new_run_dir", lambda reports, started: (_ for _ in ()).throw(
            PermissionError(errno.EACCES, "Permission denied", str(reports / "2026-12-07T0315Z"))))
        code = cli.main(["run", "--raw", str(exports), "--processed", str(processed), "--reports", str(reports),
                         "--only", "02_echo"])
    assert code == 2 and _one_line_error(capsys).endswith("2026-12-07T0315Z: permission denied")

    # DuckDB's full disk while preparing
    import duckdb

    def no_space(*args, **kwargs):
        raise duckdb.IOException('IO Error: Could not write file \\"/data/processed/.tmp-1/touchpoints.parquet\\": '
                                 "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(cache, "build", no_space)
        code = cli.main(["prepare", "--raw", str(exports), "--processed", str(tmp_path / "q")])
    assert code == 2
    assert _one_line_error(capsys) == ("journey prepare: error: /data/processed/.tmp-1/touchpoints.parquet: "
                                       "no space left on the device")
    assert not (tmp_path / "q").exists()


def test_an_unreadable_raw_file_is_one_line_naming_it(exports, tmp_path, capsys, monkeypatch):
    real_sha256 = cache.sha256

    def unreadable(path):
        if Path(path).name == "sales.csv":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_sha256(path)

    monkeypatch.setattr(cache, "sha256", unreadable)
    code = cli.main(["prepare", "--raw", str(exports), "--processed", str(tmp_path / "p")])
    assert code == cli.EXIT_BAD_INPUT
    assert _one_line_error(capsys) == (f"journey prepare: error: {exports / 'sales.csv'}: cannot read the file "
                                       "(permission denied); check that it exists and is readable")


def test_a_notebook_that_failed_on_a_full_disk_is_an_environment_failure(tmp_path, monkeypatch):
    outcomes = [Outcome("01", "ok"), Outcome("02", "failed", error="RuntimeError: Kernel died")]
    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(100, 100, 0))
    with pytest.raises(OSError) as raised:
        _check_space(tmp_path, outcomes)
    assert raised.value.errno == errno.ENOSPC and raised.value.filename == str(tmp_path)
    _check_space(tmp_path, outcomes[:1])  # every notebook ok: nothing to say
    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10**9, 0, 10**9))
    _check_space(tmp_path, outcomes)  # room left: a real notebook failure (exit 1)


def test_a_bug_is_still_a_traceback(monkeypatch):
    monkeypatch.setattr(cli, "_dispatch", lambda args: (_ for _ in ()).throw(KeyError("bug")))
    with pytest.raises(KeyError):
        cli.main(["prepare"])
    assert cli.environment_message(ValueError("no")) is None


# ---------------------------------------------------------------- -p bounds

@pytest.mark.parametrize("spec, shown", [
    ("half_life_days=inf", "inf"),
    ("half_life_days=nan", "nan"),
    ("01.half_life_days=1e300", "1e+300"),
    ("top_n=99999999999999999999999999", "99999999999999999999999999"),
])
def test_numeric_parameters_are_finite_and_bounded(tmp_path, capsys, spec, shown):
    raw = tmp_path / "raw"
    raw.mkdir()
    code = cli.main(["run", "--raw", str(raw), "--processed", str(tmp_path / "p"), "--reports", str(tmp_path / "r"),
                     "--only", "01", "-p", spec])
    assert code == cli.EXIT_BAD_INPUT
    err = _one_line_error(capsys)
    assert f"{shown} is not a finite number" in err and spec.split("=")[0].split(".")[-1] in err
    assert not (tmp_path / "p").exists() and not (tmp_path / "r").exists()


# ---------------------------------------------------------------- 8. help

@pytest.mark.parametrize("argv, words", [
    ([], "Customer-journey analytics"),
    (["sample"], "Synthetic sample data"),
    (["prepare"], "Clean the raw exports"),
    (["run"], "exploratory"),
])
def test_help_describes_the_command_and_its_exit_codes(capsys, argv, words):
    with pytest.raises(SystemExit) as raised:
        cli.main([*argv, "--help"])
    assert raised.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert words in out and "exit codes:" in out
    for code in ("0 success", "1 the run finished", "2 bad input", "130 interrupted"):
        assert code in out


def test_prepare_takes_processed_and_keeps_out():
    parser = cli._parser()
    assert parser.parse_args(["prepare", "--processed", "a"]).processed == "a"
    assert parser.parse_args(["prepare", "--out", "b"]).processed == "b"


# ---------------------------------------------------------------- 6. the index: notes folded, lists to call

def _notes(run_dir: Path, name: str, notes: list[str]) -> None:
    (run_dir / "results").mkdir(parents=True, exist_ok=True)
    (run_dir / "results" / f"{name}.json").write_text(json.dumps({"section": {"notes": notes}}))


def test_the_index_folds_each_notebooks_notes_under_one_line(tmp_path):
    run_dir = tmp_path / "2026-11-25T0315Z"
    notes = [f"Dealer D{i:02d}: pooled into 'other' (fewer than 30 customers)" for i in range(25)]
    _notes(run_dir, "06_what_changed", notes)
    page = render.write_index(run_dir, {"run": {"id": run_dir.name}}, [Outcome("06_what_changed", "ok")],
                              None).read_text(encoding="utf-8")
    assert page.count("<details") == 1
    summary = page[page.index("<summary>"):page.index("</summary>")]
    assert "Dealer D00" in summary and "(and 24 more)" in summary and "D24" not in summary
    assert page.index("</summary>") < page.index("Dealer D24")  # the rest folded underneath
    assert render.notes_summary(["one"]) == "one" and render.notes_summary([]) == ""


LEADS = {"leads": 1234, "expected_purchases_30d": 87.4, "file": "lead_scores.parquet",
         "to_call_file": "leads_to_call.csv", "to_call_rows": 75}
SERVICE = {"buyers": 900, "expected_customer_pay_12m": 412345.6, "value_at_risk_12m": 52310.2,
           "file": "service_scores.parquet", "to_call_file": "service_to_call.csv", "to_call_rows": 60}


def test_the_index_shows_the_lists_to_call_with_their_sizes_and_links(tmp_path):
    run_dir = tmp_path / "2026-11-25T0315Z"
    run_dir.mkdir()
    for name in ("lead_scores.parquet", "leads_to_call.csv", "service_to_call.csv"):
        (run_dir / name).write_text("x")
    metrics = {"run": {"id": run_dir.name}, "time_to_purchase": {"lead_scores": LEADS},
               "retention": {"service_scores": SERVICE}}
    page = render.write_index(run_dir, metrics, [], None).read_text(encoding="utf-8")
    text = " ".join(page.split())
    assert "Who to call" in page and page.index("What changed") < page.index("Who to call") < page.index("Headline")
    assert "1,234 open leads scored" in text and "87.4 purchases expected" in text
    assert "Call list (75 leads)" in text and 'href="leads_to_call.csv"' in page and 'href="lead_scores.parquet"' in page
    assert "900 buyers scored" in text and "412,346 expected" in text and "52,310 of it at risk" in text
    assert 'href="service_to_call.csv"' in page and "Call list (60 buyers)" in text
    assert 'href="service_scores.parquet"' not in page and "service_scores.parquet" in page  # not in the folder


@pytest.mark.parametrize("metrics", [
    {},
    {"time_to_purchase": {"lead_scores": None}, "retention": {"service_scores": None}},
    {"time_to_purchase": None, "retention": {"churn_rate": 0.2}},
])
def test_no_lists_no_section(tmp_path, metrics):
    run_dir = tmp_path / "2026-11-25T0315Z"
    run_dir.mkdir()
    page = render.write_index(run_dir, {"run": {"id": run_dir.name}, **metrics}, [], None).read_text(encoding="utf-8")
    assert "Who to call" not in page
    assert render.action_lists(run_dir, metrics) == []


def test_a_file_outside_the_run_folder_is_named_not_linked(tmp_path):
    lists = render.action_lists(tmp_path, {"time_to_purchase": {"lead_scores": {**LEADS, "file": "../../etc/passwd"}}})
    assert lists[0]["all"] == {"name": "../../etc/passwd", "href": None}

