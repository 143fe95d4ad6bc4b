"""`journey run` end to end: prepare reuse, the run folder, index.html, metrics.json, latest.

The parts on their own: tests/run/test_parameters.py, tests/run/test_folders.py,
tests/prepare/test_cache.py.

One shared run (module fixture) starts from an empty default raw folder (no --raw given), so it
also covers "writes the sample and goes on" and the synthetic-data banner; it has -p values and
--publish, so it is published; it executes the real 00 notebook plus
two fixture notebooks (tests/support/fixtures/notebooks): 01_fails raises on purpose,
02_echo records its parameters and quotes survey comments, one of which holds
a <script> tag planted in the raw export.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from journeylib import cli, paths
from journeylib.prepare.cache import prepare_data
from journeylib.run import execute, folders, run
from journeylib.errors import InputError
from journeylib.results import REQUIRED_KEYS, missing_keys
from journeylib.run.render import Headline, format_value, is_flagged, metric_value, strip_remote_assets
from tests.support import FIXTURES

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_NOTEBOOKS = FIXTURES / "notebooks"
PROJECT_NOTEBOOKS = ROOT / "notebooks"
SAMPLE_CUSTOMERS = 400
SCRIPT_COMMENT = 'Great dealer <script>alert("owned")</script> & friendly staff'
REMOTE_ASSET = re.compile(r"<script[^>]+src=[\"']?(https?:)?//|<link[^>]+href=[\"']?(https?:)?//|@import\s+url\(\s*[\"']?https?:",
                          re.I)


def _plant_script_comment(raw: Path) -> None:
    """A survey comment with markup, copied from a real sample row so prepare keeps it."""
    path = raw / "surveys.csv"
    surveys = pd.read_csv(path, dtype=str, keep_default_na=False)
    row = surveys.iloc[[0]].copy()
    row["response_id"] = "planted-script-1"
    row["score"] = "9"
    row["comment"] = SCRIPT_COMMENT
    pd.concat([surveys, row]).to_csv(path, index=False)


def _notebooks_folder(base: Path) -> Path:
    folder = base / "notebooks"
    folder.mkdir()
    shutil.copy(PROJECT_NOTEBOOKS / "00_data_quality.ipynb", folder)
    for name in ("01_fails.ipynb", "02_echo.ipynb"):
        shutil.copy(FIXTURE_NOTEBOOKS / name, folder)
    return folder


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One run from an empty raw folder: sample written (small), prepared, three notebooks executed."""
    import journeylib.sample

    base = tmp_path_factory.mktemp("journey-run")
    raw, processed, reports = base / "data" / "raw", base / "processed", base / "reports"
    raw.mkdir(parents=True)
    notebooks = _notebooks_folder(base)
    real_write_sample = journeylib.sample.write_sample
    sample_calls = []

    def small_sample(out, **kwargs):
        sample_calls.append(out)
        real_write_sample(out, customers=SAMPLE_CUSTOMERS, seed=7)
        _plant_script_comment(Path(out))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(journeylib.sample, "write_sample", small_sample)
        patch.setenv(paths.PROJECT_ROOT_ENV, str(base))  # the default raw folder is base/data/raw
        patch.delenv(paths.RAW_ENV, raising=False)
        code = run(raw=None, processed=processed, reports=reports, notebooks_dir=notebooks, echo=False,
                   parameters=["02_echo.label=1.10", "top_n=5", "enabled=no", "channels=['sms', 'email']"],
                   publish=True)
    runs = folders.complete_runs(reports)
    return {"code": code, "base": base, "raw": raw, "processed": processed, "reports": reports,
            "notebooks": notebooks, "run_dir": runs[-1], "sample_calls": sample_calls}


def _metrics(run_dir: Path) -> dict:
    return json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------- the shared run

def test_an_empty_default_raw_folder_gets_the_sample_and_the_run_goes_on(shared):
    assert shared["sample_calls"] == [shared["raw"]]
    assert (shared["raw"] / "customers.csv").exists()
    assert (shared["processed"] / "summary.json").exists()
    assert "holds no exports; writing the synthetic sample" in (shared["run_dir"] / "run.log").read_text()


def test_a_failing_notebook_fails_the_run_but_the_others_run(shared):
    metrics = _metrics(shared["run_dir"])
    assert shared["code"] == cli.EXIT_FAILED == 1
    assert metrics["run"]["status"] == "failed"
    assert metrics["run"]["notebooks"]["00_data_quality"]["status"] == "ok"
    assert metrics["run"]["notebooks"]["01_fails"]["status"] == "failed"
    assert metrics["run"]["notebooks"]["02_echo"]["status"] == "ok"  # ran after the failure
    for name in ("00_data_quality", "01_fails", "02_echo"):
        for suffix in (".ipynb", ".html", ".reviewer.html"):
            assert (shared["run_dir"] / f"{name}{suffix}").stat().st_size > 0, name + suffix


def test_index_shows_the_failure_escaped_with_links_to_the_failing_cell(shared):
    run_dir = shared["run_dir"]
    index = (run_dir / "index.html").read_text(encoding="utf-8")
    assert "deliberate failure &lt;b&gt;not bold&lt;/b&gt;" in index
    assert "<b>not bold</b>" not in index
    assert 'href="01_fails.html#papermill-error-cell"' in index
    assert 'href="01_fails.ipynb"' in index
    assert 'id="papermill-error-cell"' in (run_dir / "01_fails.html").read_text(encoding="utf-8")
    for name in ("00_data_quality.reviewer.html", "00_data_quality.html", "00_data_quality.ipynb",
                 "02_echo.reviewer.html"):
        assert f'href="{name}"' in index
    assert "Data quality" in index  # the notebook's title, not only its file name


def test_metrics_hold_the_run_and_data_keys_and_the_notebooks_results(shared):
    metrics = _metrics(shared["run_dir"])
    runner_keys = [k for k in REQUIRED_KEYS if k.startswith(("run.", "data."))]
    assert missing_keys(metrics, runner_keys) == []
    assert metrics["run"]["id"] == shared["run_dir"].name
    summary = json.loads((shared["processed"] / "summary.json").read_text())
    for table, counts in metrics["data"]["tables"].items():
        assert counts["raw"] == counts["kept"] + counts["rejected"], table
        assert counts["rejected"] == sum(summary["tables"][table]["rejected"].values())
    assert metrics["data"]["customers"] == len(pd.read_parquet(shared["processed"] / "customers.parquet"))
    assert metrics["data_quality"]["rows_balanced"] is True
    assert metrics["data_quality"]["tables"]["touchpoints"]["kept"] == metrics["data"]["tables"]["touchpoints"]["kept"]
    assert "echo" in metrics and "fails" not in json.dumps(list(metrics))


def test_notebook_00_records_exactly_what_its_analysis_computes_headless(shared):
    from journeylib import data_quality
    from journeylib.results import to_jsonable
    from journeylib.tables import ProcessedTables

    headless = data_quality.analyse(ProcessedTables(shared["processed"]), data_quality.Params()).metrics()
    assert json.loads(json.dumps(to_jsonable(headless))) == _metrics(shared["run_dir"])["data_quality"]


def test_parameters_reach_the_notebook_with_their_declared_types(shared):
    echo = _metrics(shared["run_dir"])["echo"]
    assert echo["parameters"]["label"] == "1.10" and echo["types"]["label"] == "str"
    assert echo["parameters"]["top_n"] == 5 and echo["types"]["top_n"] == "int"
    assert echo["parameters"]["enabled"] is False
    assert echo["parameters"]["channels"] == ["sms", "email"]
    assert echo["parameters"]["threshold"] == 0.5  # default kept
    assert echo["parameters"]["as_of"] == json.loads((shared["processed"] / "summary.json").read_text())["as_of"]


def test_the_kernel_is_this_python_in_the_notebooks_folder_with_the_scheduler_environment(shared):
    kernel = _metrics(shared["run_dir"])["echo"]["kernel"]
    assert Path(kernel["python"]).resolve() == Path(os.sys.executable).resolve()
    assert kernel["scheduled"] == "1" and kernel["mplbackend"] == "Agg"
    assert Path(kernel["cwd"]).resolve() == shared["notebooks"].resolve()
    executed = json.loads((shared["run_dir"] / "02_echo.ipynb").read_text())
    assert executed["metadata"]["kernelspec"]["name"] == "python3"  # opens in JupyterLab without the temporary kernel


def test_a_script_tag_in_a_survey_comment_shows_as_text(shared):
    reviewer = (shared["run_dir"] / "02_echo.reviewer.html").read_text(encoding="utf-8")
    assert _metrics(shared["run_dir"])["echo"]["comments_with_markup"] >= 1  # ours, and the sample may plant one
    # the markup tag a web form let through is dropped, the customer's words stay, shown as text
    assert "Great dealer alert(\"owned\") &amp; friendly staff" in reviewer
    assert "<script>alert" not in reviewer and "&lt;script&gt;" not in reviewer


def test_html_needs_nothing_from_the_web_and_figures_are_inline_png(shared):
    for page in shared["run_dir"].glob("*.html"):
        assert not REMOTE_ASSET.search(page.read_text(encoding="utf-8")), page.name
    reviewer = (shared["run_dir"] / "00_data_quality.reviewer.html").read_text(encoding="utf-8")
    assert reviewer.count('src="data:image/png;base64,') >= 2
    assert "report.setup()" not in reviewer  # no code for reviewers
    analyst = (shared["run_dir"] / "00_data_quality.html").read_text(encoding="utf-8")
    assert "report.setup()" in re.sub(r"<[^>]+>", "", analyst)  # code is there, split by highlighting spans
    assert (shared["run_dir"] / "00_data_quality.reviewer.html").stat().st_size < 1_500_000


def test_manifest_records_parameters_inputs_versions_and_timings(shared):
    manifest = json.loads((shared["run_dir"] / "manifest.json").read_text())
    assert manifest["parameters"]["02_echo"]["label"] == "1.10"
    assert manifest["parameters"]["00_data_quality"]["run_dir"] == str(shared["run_dir"])
    assert manifest["versions"]["python"] == os.sys.version.split()[0]
    assert manifest["versions"]["papermill"] and manifest["versions"]["pandas"]
    assert set(manifest["inputs"]["fingerprint"]["raw"]) >= {"customers.csv", "surveys.csv"}
    assert set(manifest["timings"]["notebooks"]) == {"00_data_quality", "01_fails", "02_echo"}
    assert "git" in manifest
    assert manifest["engine"] == "duckdb"  # the engine that made the processed tables


def test_the_finished_run_is_complete_and_latest_points_at_it(shared):
    assert not (shared["run_dir"] / folders.INCOMPLETE_MARKER).exists()
    assert (shared["reports"] / "latest").resolve() == shared["run_dir"].resolve()


def test_a_second_run_reuses_prepare_compares_with_the_first_and_an_interrupted_run_changes_nothing(shared, monkeypatch):
    first = shared["run_dir"]
    trends_page = (shared["reports"] / "trends.html").read_bytes()
    code = run(raw=shared["raw"], processed=shared["processed"], reports=shared["reports"],
                      notebooks_dir=shared["notebooks"], only=["00"], echo=False)
    second = folders.complete_runs(shared["reports"])[-1]
    assert code == 0 and second != first
    assert folders.run_sort_key(second.name) > folders.run_sort_key(first.name)
    assert "prepare: reused the processed tables" in (second / "run.log").read_text()
    metrics = _metrics(second)
    assert metrics["run"]["prepare"] == "reused" and list(metrics["run"]["notebooks"]) == ["00_data_quality"]
    index = (second / "index.html").read_text(encoding="utf-8")
    assert f'href="../{first.name}/index.html"' in index
    customers = format_value(metrics["data"]["customers"], "count")
    assert re.search(rf"<td>Customers</td><td class=\"number\">{customers}</td><td class=\"number\">{customers}</td>",
                     index)
    # --only without --publish: exploratory, so latest and trends.html stay with the published run
    assert metrics["run"]["exploratory"] == "--only 00" and metrics["run"]["published"] is False
    assert index.index("Exploratory run") < index.index("<h1>")
    assert (second / folders.EXPLORATORY_MARKER).exists()
    assert (shared["reports"] / "latest").resolve() == first.resolve()
    assert (shared["reports"] / "trends.html").read_bytes() == trends_page

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(execute, "execute", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(raw=shared["raw"], processed=shared["processed"], reports=shared["reports"],
                   notebooks_dir=shared["notebooks"], only=["00"], echo=False, publish=True)
    broken = max((p for p in shared["reports"].iterdir() if folders.RUN_ID.match(p.name)),
                 key=lambda p: folders.run_sort_key(p.name))
    assert (broken / folders.INCOMPLETE_MARKER).exists() and not (broken / "metrics.json").exists()
    assert "interrupted" in (broken / "run.log").read_text()
    assert (shared["reports"] / "latest").resolve() == first.resolve()
    assert folders.update_latest(shared["reports"], print) == first  # incomplete and exploratory: never latest
    assert folders.previous_run(shared["reports"], shared["reports"] / "9999-01-01T0000Z") == first


def test_a_sample_run_says_synthetic_on_every_page_and_in_metrics(shared):
    run_dir = shared["run_dir"]
    assert _metrics(run_dir)["run"]["synthetic_data"] is True
    assert json.loads((run_dir / "manifest.json").read_text())["inputs"]["synthetic_data"] is True
    pages = sorted(run_dir.glob("*.html")) + [shared["reports"] / "trends.html"]
    assert len(pages) == 8  # index, 3 x (report, with code), trends
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert text.count("Synthetic sample data") == 1, page.name
        assert text.index("Synthetic sample data") < text.index("</h1>") if "</h1>" in text else True


def _sleepy_notebooks(base: Path, count: int) -> Path:
    """Notebooks that note when they started and then wait (nothing to read, nothing to prepare)."""
    import nbformat

    folder = base / "sleepy"
    folder.mkdir()
    for number in range(count):
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [
            nbformat.v4.new_code_cell("processed_dir = None\nrun_dir = None\nas_of = None", metadata={"tags": ["parameters"]}),
            nbformat.v4.new_code_cell("import time, pathlib\n"
                                      f"pathlib.Path(run_dir, 'started-{number}').write_text(str(time.time()))\n"
                                      "time.sleep(120)"),
        ]
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(notebook, folder / f"{number:02d}_sleepy.ipynb")
    return folder


def test_notebooks_run_side_by_side_and_sigterm_ends_every_kernel(shared, tmp_path):
    import signal
    import threading
    import time

    import psutil

    notebooks = _sleepy_notebooks(tmp_path, 3)
    stop = threading.Event()

    def terminate_when_two_started():
        # both side-by-side notebooks in their sleep at once: they did run together
        while not stop.is_set():
            started = list(tmp_path.glob("reports/*/started-*"))
            if len(started) >= 2:
                os.kill(os.getpid(), signal.SIGTERM)
                return
            time.sleep(0.2)

    watcher = threading.Thread(target=terminate_when_two_started, daemon=True)
    watcher.start()
    began = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            run(raw=shared["raw"], processed=shared["processed"], reports=tmp_path / "reports",
                notebooks_dir=notebooks, echo=False, jobs=2)
    finally:
        stop.set()
    assert time.monotonic() - began < 90  # not the notebooks' two minutes of sleep
    run_dir = next((tmp_path / "reports").glob("2*"))
    assert sorted(p.name for p in run_dir.glob("started-*")) == ["started-0", "started-1"]  # the third never began
    assert (run_dir / folders.INCOMPLETE_MARKER).exists() and not (run_dir / "metrics.json").exists()
    assert _running_kernels(psutil) == []


def _running_kernels(psutil) -> list:
    running = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE and any(
                    "ipykernel_launcher" in part for part in child.cmdline()):
                running.append(child)
        except (psutil.NoSuchProcess, psutil.ZombieProcess):  # ended while we looked
            pass
    return running


def test_side_by_side_notebooks_start_longest_first_by_the_previous_run(tmp_path):
    notebooks = [Path(f"{name}.ipynb") for name in ("00_a", "01_b", "02_c", "03_new")]
    earlier = tmp_path / "2026-01-01T0000Z"
    earlier.mkdir()
    (earlier / "manifest.json").write_text(json.dumps({"timings": {"notebooks": {"00_a": 3.0, "01_b": 40.5, "02_c": 9}}}))
    seconds = execute.previous_seconds(earlier)
    assert seconds == {"00_a": 3.0, "01_b": 40.5, "02_c": 9.0}
    # a notebook the previous run did not time starts first: it may be the longest
    assert [nb.stem for nb in execute.start_order(notebooks, seconds)] == ["03_new", "01_b", "02_c", "00_a"]
    assert execute.start_order(notebooks, {}) == notebooks  # no earlier run: name order
    assert execute.previous_seconds(None) == {} and execute.previous_seconds(tmp_path / "missing") == {}
    (earlier / "manifest.json").write_text("{not json")
    assert execute.previous_seconds(earlier) == {}


def test_side_by_side_kernels_share_the_cores_and_keep_a_users_setting(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    for name in execute.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert execute.thread_limits(1) == {}  # one at a time: the libraries' own defaults
    assert execute.thread_limits(2) == {name: "4" for name in execute.THREAD_VARIABLES}
    assert execute.thread_limits(16)["OMP_NUM_THREADS"] == "1"
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert execute.thread_limits(2)["OMP_NUM_THREADS"] == "3"


def test_the_cell_timeout_comes_from_the_option_else_the_environment_and_must_be_positive(monkeypatch):
    monkeypatch.delenv(execute.CELL_TIMEOUT_ENV, raising=False)
    assert execute.cell_timeout() == execute.DEFAULT_CELL_TIMEOUT
    monkeypatch.setenv(execute.CELL_TIMEOUT_ENV, "90")
    assert execute.cell_timeout() == 90 and execute.cell_timeout(30) == 30
    for bad, message in (("soon", "expected whole seconds"), ("0", "must be positive"), ("-5", "must be positive")):
        with pytest.raises(InputError, match=f"cell timeout .*{message}"):
            execute.cell_timeout(bad)


@pytest.mark.parametrize("option, environment", [("0", None), ("-1", None), (None, "two")])
def test_cli_bad_jobs_exit_2_before_anything_runs(tmp_path, capsys, monkeypatch, option, environment):
    raw = tmp_path / "raw"
    raw.mkdir()
    if environment:
        monkeypatch.setenv(execute.JOBS_ENV, environment)
    code = cli.main(["run", "--raw", str(raw), "--processed", str(tmp_path / "p"), "--reports", str(tmp_path / "r"),
                     *(["--jobs", option] if option else [])])
    assert code == cli.EXIT_BAD_INPUT
    assert "jobs" in capsys.readouterr().err
    assert list(raw.iterdir()) == [] and not (tmp_path / "p").exists()


def test_cli_unknown_parameter_exits_2_before_anything_runs(shared, tmp_path, capsys):
    raw = tmp_path / "raw"
    raw.mkdir()
    code = cli.main(["run", "--raw", str(raw), "--processed", str(tmp_path / "p"), "--reports", str(tmp_path / "r"),
                     "-p", "no_such_parameter=1"])
    assert code == cli.EXIT_BAD_INPUT == 2
    assert "no_such_parameter" in capsys.readouterr().err
    assert list(raw.iterdir()) == []  # no sample written
    assert not (tmp_path / "p").exists() and not (tmp_path / "r").exists()


@pytest.mark.parametrize("spec, message", [
    ("02_echo.top_n=five", "not a valid int"),
    ("02_echo.threshold=high", "not a valid float"),
    ("enabled=maybe", "not a valid bool"),
    ("channels=sms", "not a valid list"),
    ("02_echo.nope=1", "02_echo has no parameter 'nope'"),
    ("03.top_n=1", "no selected notebook '03'"),
    ("as_of=2024-01-01", "set by journey run"),
    ("label", "expected KEY=VALUE"),
])
def test_bad_parameters_are_input_errors_before_anything_runs(shared, tmp_path, spec, message):
    with pytest.raises(InputError, match=re.escape(message)):
        run(raw=shared["raw"], processed=tmp_path / "p", reports=tmp_path / "r",
                   notebooks_dir=shared["notebooks"], parameters=[spec], echo=False)
    assert not (tmp_path / "p").exists() and not (tmp_path / "r").exists()


def test_prepare_is_reused_for_unchanged_inputs_and_redone_when_as_of_changes(shared, tmp_path):
    lines = []
    processed = tmp_path / "processed"
    first = prepare_data(raw=shared["raw"], processed=processed, log=lines.append)
    stamp = (processed / "summary.json").stat().st_mtime_ns
    again = prepare_data(raw=shared["raw"], processed=processed, log=lines.append)
    assert again == first and (processed / "summary.json").stat().st_mtime_ns == stamp
    assert any("reused" in line for line in lines) and sum("preparing" in line for line in lines) == 1
    earlier = str((pd.Timestamp(first["as_of"]) - pd.Timedelta(days=30)).date())
    prepare_data(raw=shared["raw"], processed=processed, as_of=earlier, log=lines.append)
    assert sum("preparing" in line for line in lines) == 2 and any("(inputs changed)" in line for line in lines)
    # a date is the end of that day in the data's time zone, so compare loosely
    prepared_as_of = pd.Timestamp(json.loads((processed / "summary.json").read_text())["as_of"])
    assert prepared_as_of < pd.Timestamp(first["as_of"]) - pd.Timedelta(days=28)


# ---------------------------------------------------------------- rendering

def test_headlines_are_flagged_by_the_statistical_result_not_by_a_threshold():
    churn = Headline("Churn", "retention.churn_rate", "share", change="service_return")
    nps = Headline("NPS", "advocacy.nps.sales", "score", change="nps_sales")
    metrics = {"changes": {"overall": {
        "service_return": {"estimate": -0.01, "ci_low": -0.02, "ci_high": -0.001, "p": 0.001, "flagged": True},
        "nps_sales": {"estimate": -30.0, "ci_low": -60, "ci_high": 1, "p": 0.06, "flagged": False}}}}
    assert is_flagged(metrics, churn)  # a small move, but beyond chance
    assert not is_flagged(metrics, nps)  # a large move within chance
    assert not is_flagged({}, churn) and not is_flagged(None, nps)
    assert not is_flagged(metrics, Headline("k", "advocacy.k_factor", "ratio"))


def test_missing_or_odd_metrics_show_as_a_dash_never_crash():
    metrics = {"advocacy": {"nps": {"sales": {"estimate": 41.5, "ci_low": 30, "ci_high": 50}, "service": "n/a"}},
               "retention": {"churn_rate": float("nan")}, "journey": {"funnel": {"purchase": True}}}
    assert metric_value(metrics, "advocacy.nps.sales") == 41.5
    for key in ("advocacy.nps.service", "retention.churn_rate", "journey.funnel.purchase", "advocacy.k_factor",
                "time_to_purchase.purchase_probability.90"):
        assert metric_value(metrics, key) is None
        assert format_value(metric_value(metrics, key), "share") == "—"
    assert metric_value(None, "data.customers") is None


def test_remote_scripts_and_stylesheets_are_removed():
    page = ('<script src="https://cdn.example/require.js"></script><script>var local = 1;</script>'
            "<link rel=stylesheet href='//cdn.example/x.css'><style>@import url(\"https://f.example/a.css\");</style>"
            '<img src="data:image/png;base64,AAA">')
    cleaned = strip_remote_assets(page)
    assert not REMOTE_ASSET.search(cleaned)
    assert "var local = 1;" in cleaned and "data:image/png" in cleaned
