"""`journey run`: prepare the data, execute every notebook, write a dated report folder.

A run validates its arguments first (nothing runs on a typo), writes the
sample exports into an empty raw folder, prepares the processed tables (or
reuses them when the inputs are unchanged), then executes `notebooks/NN_*.ipynb`
in order with papermill into `reports/<run-id>/`, renders each executed
notebook to HTML, merges the notebooks' results into metrics.json and writes
changes.json, manifest.json, run.log and index.html. The folder holds an INCOMPLETE
marker until the end; then reports/trends.html is rebuilt and `reports/latest` moves.
Layout and exit codes (3: --fail-on-change and a flagged change): docs/running.md;
metrics.json and changes.json: docs/metrics.md.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import journeylib
from journeylib import paths
from journeylib.errors import InputError
# prepare's cache and fingerprint live with prepare; these names stay importable from here for callers
from journeylib.prepare.cache import (  # noqa: F401
    FINGERPRINT_FILE, PREPARE_CODE, code_digest, input_fingerprint, prepare_data, prepare_or_reuse,
    stored_fingerprint as _stored_fingerprint,
)
from journeylib.privacy import redact
from journeylib.results import deep_merge, merge_results

EXIT_OK, EXIT_FAILED = 0, 1
EXIT_CHANGED = 3  # --fail-on-change: the run is ok and a change was flagged
CHANGES_FILE = "changes.json"
DEFAULT_CELL_TIMEOUT = 600  # seconds per cell; $JOURNEY_CELL_TIMEOUT overrides
CELL_TIMEOUT_ENV = "JOURNEY_CELL_TIMEOUT"
KERNEL_NAME = "journeylib-run"
INCOMPLETE_MARKER = "INCOMPLETE"
LATEST = "latest"
RUN_PARAMETERS = ("processed_dir", "run_dir", "as_of")  # set by the runner, never by -p
RAW_TABLES = ("customers", "touchpoints", "sales", "service_visits", "surveys", "referrals", "dealers")
NOTEBOOK_NAME = re.compile(r"^(\d\d)_[A-Za-z0-9_-]+$")
RUN_ID = re.compile(r"^\d{4}-\d\d-\d\dT\d{4}Z(-\d+)?$")
KEY_PACKAGES = (
    "pandas", "numpy", "pyarrow", "ibis-framework", "duckdb", "lifelines", "statsmodels", "scikit-learn",
    "scipy", "matplotlib", "seaborn", "papermill", "nbconvert", "nbformat", "nbclient", "ipykernel",
)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


# ---------------------------------------------------------------- logging

class RunLog:
    """Plain timestamped lines on stdout, kept for run.log once the run folder exists."""

    def __init__(self, echo=True):
        self.echo = echo
        self.lines: list[str] = []
        self.file = None
        self.run_dir: Path | None = None  # the run folder, once made (for --fail-on-change)

    def __call__(self, message: str) -> None:
        line = f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M:%SZ} {message}"
        self.lines.append(line)
        if self.echo:
            print(line, flush=True)
        if self.file is not None:
            self.file.write(line + "\n")
            self.file.flush()

    def attach(self, path: Path) -> None:
        self.file = open(path, "a", encoding="utf-8")
        self.file.write("".join(line + "\n" for line in self.lines))
        self.file.flush()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


# ---------------------------------------------------------------- notebooks and parameters

def find_notebooks(folder) -> list[Path]:
    """Every `NN_name.ipynb` in the folder, in name order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: notebooks folder not found")
    found = sorted(p for p in folder.glob("*.ipynb") if NOTEBOOK_NAME.match(p.stem))
    if not found:
        raise InputError(f"{folder}: no notebooks named NN_name.ipynb")
    return found


def _matches(token: str, notebook: Path) -> bool:
    token = token.removesuffix(".ipynb")
    return token == notebook.stem or token == notebook.stem[:2]


def select_notebooks(notebooks: list[Path], only) -> list[Path]:
    """The notebooks named by --only (`01` or `01_journey_map`), in run order; all without --only."""
    if not only:
        return list(notebooks)
    for token in only:
        if not any(_matches(token, nb) for nb in notebooks):
            names = ", ".join(nb.stem for nb in notebooks)
            raise InputError(f"--only {token}: no such notebook (available: {names})")
    return [nb for nb in notebooks if any(_matches(token, nb) for token in only)]


def declared_parameters(notebook: Path) -> dict:
    """The parameters cell's names -> {inferred_type_name, default} (papermill's inspection).

    papermill skips a line holding two '=' (e.g. `x = None  # None = default`);
    such names are completed from the cell's Python syntax tree.
    """
    import papermill

    with _quiet_papermill():  # its "Unable to parse line" warnings are handled below
        declared = papermill.inspect_notebook(str(notebook))
    for name, info in _assignments(parameters_source(notebook)).items():
        declared.setdefault(name, info)
    return declared


def parameters_source(notebook: Path) -> str:
    """The source of the first cell tagged `parameters` ('' when there is none)."""
    import nbformat

    for cell in nbformat.read(notebook, as_version=4).cells:
        if "parameters" in cell.metadata.get("tags", []):
            return cell.source
    return ""


def _assignments(source: str) -> dict:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, annotation = node.targets[0].id, "None"
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name, annotation = node.target.id, ast.get_source_segment(source, node.annotation) or "None"
        else:
            continue
        found[name] = {"name": name, "inferred_type_name": annotation,
                       "default": ast.get_source_segment(source, node.value), "help": ""}
    return found


_TRUE, _FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off")
_NONE = ("none", "null", "")


def _declared_type(info: dict) -> tuple[str, bool]:
    """(type name, may be None) from the annotation, else from the default's literal."""
    annotation = str(info.get("inferred_type_name") or "None").replace(" ", "")
    match = re.fullmatch(r"Optional\[(\w+)\]", annotation)
    if match:
        return match.group(1), True
    if annotation != "None":
        return annotation, False
    try:
        default = ast.literal_eval(str(info.get("default", "None")))
    except (ValueError, SyntaxError):
        return "str", False  # an expression default: accept text, the notebook converts it
    if default is None:
        return "str", True  # untyped None default: text (paths, dates, names); 'none' keeps None
    return type(default).__name__, False


def parse_value(text: str, info: dict, where: str):
    """A -p value converted to the parameter's declared type; InputError when it does not parse."""
    type_name, nullable = _declared_type(info)
    if nullable and text.strip().lower() in _NONE:
        return None
    try:
        if type_name == "str":
            return text  # never through a number: '1.10' stays '1.10'
        if type_name == "bool":
            lowered = text.strip().lower()
            if lowered in _TRUE or lowered in _FALSE:
                return lowered in _TRUE
            raise ValueError("expected true or false")
        if type_name == "int":
            return int(text.strip())
        if type_name == "float":
            return float(text.strip())
        if type_name in ("list", "dict", "tuple"):
            value = ast.literal_eval(text.strip())
            expected = {"list": list, "dict": dict, "tuple": tuple}[type_name]
            if type_name == "list" and isinstance(value, tuple):
                value = list(value)
            if not isinstance(value, expected):
                raise ValueError(f"expected a {type_name} literal")
            return value
    except (ValueError, SyntaxError) as error:
        raise InputError(f"-p {where}={text}: not a valid {type_name} ({error})") from None
    raise InputError(f"-p {where}: parameter of unsupported type {type_name!r}; declare str, int, float, bool, "
                     "list or dict in the notebook's parameters cell")


def _split_spec(spec: str) -> tuple[str | None, str, str]:
    if "=" not in spec:
        raise InputError(f"-p {spec}: expected KEY=VALUE or NOTEBOOK.KEY=VALUE")
    target, value = spec.split("=", 1)
    target = target.strip()
    notebook, _, key = target.rpartition(".")
    if not key.isidentifier():
        raise InputError(f"-p {spec}: {key!r} is not a parameter name")
    return (notebook or None), key, value


def resolve_parameters(specs, notebooks: list[Path], declared: dict | None = None) -> dict[str, dict]:
    """-p overrides validated against each selected notebook's parameters cell: {notebook stem: {name: value}}.

    A bare KEY applies to every selected notebook declaring it; NOTEBOOK.KEY to that one.
    Unknown names, values of the wrong type and runner-owned names are InputErrors.
    """
    if declared is None:
        declared = {nb.stem: declared_parameters(nb) for nb in notebooks}
    overrides: dict[str, dict] = {nb.stem: {} for nb in notebooks}
    for spec in specs or ():
        notebook, key, text = _split_spec(spec)
        if key in RUN_PARAMETERS:
            raise InputError(f"-p {spec}: {key} is set by journey run; use --processed, --as-of or --reports")
        if notebook is None:
            targets = [nb.stem for nb in notebooks if key in declared[nb.stem]]
            if not targets:
                raise InputError(f"-p {spec}: no selected notebook has a parameter {key!r}")
        else:
            targets = [nb.stem for nb in notebooks if _matches(notebook, nb)]
            if not targets:
                raise InputError(f"-p {spec}: no selected notebook {notebook!r}")
            for stem in targets:
                if key not in declared[stem]:
                    known = ", ".join(n for n in declared[stem] if n not in RUN_PARAMETERS) or "none"
                    raise InputError(f"-p {spec}: {stem} has no parameter {key!r} (its parameters: {known})")
        for stem in targets:
            overrides[stem][key] = parse_value(text, declared[stem][key], f"{stem}.{key}")
    return overrides


# ---------------------------------------------------------------- data

def raw_has_tables(raw: Path) -> bool:
    return any((raw / f"{t}.{ext}").exists() for t in RAW_TABLES for ext in ("csv", "parquet"))


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


# ---------------------------------------------------------------- run folder

def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def new_run_dir(reports: Path, started: datetime) -> Path:
    """reports/<YYYY-MM-DDTHHMMZ>[-N], created atomically (a second run in the same minute gets -2)."""
    reports.mkdir(parents=True, exist_ok=True)
    base = started.strftime("%Y-%m-%dT%H%MZ")
    for attempt in range(1, 100):
        run_dir = reports / (base if attempt == 1 else f"{base}-{attempt}")
        try:
            run_dir.mkdir()
        except FileExistsError:
            continue
        (run_dir / INCOMPLETE_MARKER).write_text(
            f"run started {_iso(started)} (pid {os.getpid()}); this file is removed when the run finishes.\n"
            "If it is still here, the run was interrupted or is still going.\n", encoding="utf-8")
        return run_dir
    raise InputError(f"{reports}: too many runs started in the same minute")


def _run_sort_key(name: str):
    """Run ids in start order: 2026-11-25T0315Z < 2026-11-25T0315Z-2 < 2026-11-25T0315Z-10."""
    base, _, suffix = name.partition("Z-")
    return (base.removesuffix("Z"), int(suffix) if suffix.isdigit() else 1)


def complete_runs(reports: Path) -> list[Path]:
    """Finished run folders (no INCOMPLETE marker), oldest first."""
    if not reports.is_dir():
        return []
    runs = [p for p in reports.iterdir() if p.is_dir() and not p.is_symlink() and RUN_ID.match(p.name)
            and not (p / INCOMPLETE_MARKER).exists() and (p / "metrics.json").exists()]
    return sorted(runs, key=lambda p: _run_sort_key(p.name))


def previous_run(reports: Path, run_dir: Path) -> Path | None:
    earlier = [p for p in complete_runs(reports) if _run_sort_key(p.name) < _run_sort_key(run_dir.name)]
    return earlier[-1] if earlier else None


def update_latest(reports: Path, log) -> Path | None:
    """Point reports/latest at the newest complete run (symlink; latest.txt + latest.html where that fails)."""
    runs = complete_runs(reports)
    if not runs:
        return None
    newest = runs[-1]
    link = reports / LATEST
    temporary = reports / f".{LATEST}-{os.getpid()}"
    try:
        temporary.unlink(missing_ok=True)
        os.symlink(newest.name, temporary, target_is_directory=True)
        os.replace(temporary, link)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        log(f"latest: no symlink ({error}); wrote latest.txt and latest.html instead")
        (reports / "latest.txt").write_text(newest.name + "\n", encoding="utf-8")
        (reports / "latest.html").write_text(
            f'<!DOCTYPE html><meta charset="utf-8"><meta http-equiv="refresh" content="0; url={newest.name}/index.html">'
            f'<a href="{newest.name}/index.html">{newest.name}</a>\n', encoding="utf-8")
    return newest


# ---------------------------------------------------------------- executing

@dataclass
class Outcome:
    """One notebook's execution in a run."""

    name: str
    status: str = "not run"  # ok | failed | not run
    seconds: float = 0.0
    error: str | None = None
    error_cell: int | None = None  # execution count of the failing cell
    parameters: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)  # role -> file name in the run folder


@contextlib.contextmanager
def run_kernel(extra_env: dict):
    """A kernelspec for this very Python, found first through a temporary JUPYTER_PATH.

    A user-level `python3` kernel pointing at another environment cannot shadow
    it, and the kernel gets JOURNEY_SCHEDULED, MPLBACKEND=Agg and quiet progress bars.
    """
    with tempfile.TemporaryDirectory(prefix="journey-kernel-") as tmp:
        spec_dir = Path(tmp) / "kernels" / KERNEL_NAME
        spec_dir.mkdir(parents=True)
        # log_level=CRITICAL: the kernel's start-up warnings (local TCP) and the "KeyboardInterrupt caught"
        # line jupyter_client's SIGINT-before-shutdown provokes would repeat in every cron mail; a notebook's
        # own errors are in its executed copy and the run log.
        spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                         "--IPKernelApp.log_level=CRITICAL"],
                "display_name": f"Python {sys.version_info.major}.{sys.version_info.minor} (journey run)",
                "language": "python", "env": extra_env, "metadata": {"debugger": False}}
        (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
        previous = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = os.pathsep.join([tmp] + ([previous] if previous else []))
        try:
            yield KERNEL_NAME
        finally:
            if previous is None:
                os.environ.pop("JUPYTER_PATH", None)
            else:
                os.environ["JUPYTER_PATH"] = previous


def _error_text(error: BaseException) -> tuple[str, int | None]:
    """A one-paragraph error for the index (ANSI codes stripped, personal data redacted)."""
    ename, evalue = getattr(error, "ename", None), getattr(error, "evalue", None)
    text = f"{ename}: {evalue}" if ename else f"{type(error).__name__}: {error}"
    text = redact(_ANSI.sub("", text)).strip()
    if len(text) > 2000:
        text = text[:2000] + " …"
    return text, getattr(error, "exec_count", None)


def execute(notebook: Path, run_dir: Path, parameters: dict, kernel: str, timeout: int, log) -> Outcome:
    """Run one notebook with papermill into the run folder; a failure is recorded, not raised."""
    import papermill

    outcome = Outcome(notebook.stem, parameters=parameters)
    output = run_dir / notebook.name
    started = time.monotonic()
    try:
        papermill.execute_notebook(
            str(notebook), str(output), parameters=parameters, kernel_name=kernel, cwd=str(notebook.parent),
            progress_bar=sys.stderr.isatty(), log_output=False, execution_timeout=timeout,
        )
        outcome.status = "ok"
    except Exception as error:  # noqa: BLE001 - any notebook failure is reported, the run goes on
        outcome.status = "failed"
        outcome.error, outcome.error_cell = _error_text(error)
    outcome.seconds = round(time.monotonic() - started, 2)
    if output.exists():
        _restore_kernelspec(output, notebook)
        outcome.files["notebook"] = output.name
    return outcome


def _restore_kernelspec(executed: Path, source: Path) -> None:
    """The executed copy names the notebook's own kernel, so it opens anywhere (not the temporary one)."""
    import nbformat

    original = nbformat.read(source, as_version=4).metadata.get("kernelspec")
    notebook = nbformat.read(executed, as_version=4)
    if original and notebook.metadata.get("kernelspec", {}).get("name") != original.get("name"):
        notebook.metadata["kernelspec"] = original
        nbformat.write(notebook, executed)


@contextlib.contextmanager
def _quiet_papermill():
    """papermill's warnings (unknown parameter, unparsable line) repeat what validation already settled."""
    import logging

    logger = logging.getLogger("papermill")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextlib.contextmanager
def _sigterm_interrupts():
    """SIGTERM (a scheduler's kill) unwinds like Ctrl-C: kernels shut down, the folder stays INCOMPLETE."""
    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# ---------------------------------------------------------------- manifest and metrics

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


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- the command

def cell_timeout(value=None) -> int:
    raw = value if value is not None else os.environ.get(CELL_TIMEOUT_ENV, DEFAULT_CELL_TIMEOUT)
    try:
        seconds = int(raw)
    except (TypeError, ValueError):
        raise InputError(f"cell timeout {raw!r}: expected whole seconds") from None
    if seconds <= 0:
        raise InputError(f"cell timeout {seconds}: must be positive")
    return seconds


def run(raw=None, processed=None, reports=None, as_of=None, config=None, only=None, parameters=None,
        notebooks_dir=None, execution_timeout=None, echo=True, fail_on_change=False, engine=None) -> int:
    """The `journey run` command. Returns the exit code (0 ok, 1 a notebook failed, 3 with `fail_on_change`
    when the run is ok and a change was flagged); InputError for bad input."""
    log = RunLog(echo=echo)
    raw_folder, processed_folder = paths.raw_dir(raw), paths.processed_root(processed)
    reports_folder = paths.reports_dir(reports)
    timeout = cell_timeout(execution_timeout)
    notebooks = select_notebooks(find_notebooks(notebooks_dir or paths.notebooks_dir()), only)
    overrides = resolve_parameters(parameters, notebooks)
    if not raw_folder.is_dir():
        raise InputError(f"{raw_folder}: raw exports folder not found")
    try:
        with _sigterm_interrupts(), contextlib.ExitStack() as holds:
            code = _run(log, raw_folder, processed_folder, reports_folder, as_of, config, notebooks, overrides,
                        timeout, holds, engine)
            return exit_code(code, log.run_dir, fail_on_change, log)
    finally:
        log.close()


def _run(log, raw, processed, reports, as_of, config, notebooks, overrides, timeout, holds, engine=None) -> int:
    started, clock = _now(), time.monotonic()
    if not raw_has_tables(raw):
        from journeylib.sample import write_sample

        log(f"raw: {raw} holds no exports; writing the synthetic sample there (journey sample) and going on")
        write_sample(raw)
    prepare_started = time.monotonic()
    # one complete version of the processed folder, held (no writer removes it) until the run ends
    prepared = holds.enter_context(prepare_or_reuse(raw, processed, as_of, config, log, engine=engine))
    summary, reused, processed = prepared.summary, prepared.reused, prepared.folder
    prepare_seconds = round(time.monotonic() - prepare_started, 2)
    data_as_of = summary.get("as_of")

    run_dir = new_run_dir(reports, started)
    log.run_dir = run_dir
    log.attach(run_dir / "run.log")
    log(f"run {run_dir.name}: {len(notebooks)} notebook(s) into {run_dir}")
    try:
        outcomes = _execute_all(log, notebooks, overrides, processed, run_dir, data_as_of, timeout)
    except KeyboardInterrupt:
        log(f"run {run_dir.name}: interrupted; the folder stays marked {INCOMPLETE_MARKER} and latest is unchanged")
        raise

    status = "ok" if all(o.status == "ok" for o in outcomes) else "failed"
    run_section = {
        "id": run_dir.name, "started_at": _iso(started), "finished_at": _iso(_now()), "as_of": data_as_of,
        "status": status, "prepare": "reused" if reused else "prepared",
        "notebooks": {o.name: {"status": o.status, "seconds": o.seconds} for o in outcomes},
    }
    metrics = build_metrics(run_section, data_section(summary, processed), run_dir, log)
    _write_json(run_dir / "metrics.json", metrics)
    _write_json(run_dir / "manifest.json", {
        "run_id": run_dir.name, "command": sys.argv, "parameters": {o.name: o.parameters for o in outcomes},
        "inputs": {"raw_dir": str(raw), "processed_dir": str(processed), "config": config,
                   "as_of_requested": as_of, "fingerprint": _stored_fingerprint(processed),
                   "raw_files": summary.get("inputs")},
        "engine": summary.get("engine", "duckdb"),  # the engine that made the processed tables
        "versions": package_versions(), "git": git_commit(paths.project_root()),
        "kernel": {"name": KERNEL_NAME, "python": sys.executable}, "cell_timeout_seconds": timeout,
        "timings": {"prepare_seconds": prepare_seconds, "total_seconds": round(time.monotonic() - clock, 2),
                    "notebooks": {o.name: o.seconds for o in outcomes}},
    })
    _write_json(run_dir / CHANGES_FILE, changes_file(metrics))
    from journeylib import render

    previous = previous_run(reports, run_dir)
    render.write_index(run_dir, metrics, outcomes, previous)
    log(f"run {run_dir.name}: {metrics['run']['status']} in {time.monotonic() - clock:.1f} s; "
        f"open {run_dir / 'index.html'}")
    (run_dir / INCOMPLETE_MARKER).unlink()
    _write_trends(reports, log)
    update_latest(reports, log)
    return EXIT_OK if metrics["run"]["status"] == "ok" else EXIT_FAILED


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


def _write_trends(reports: Path, log) -> None:
    from journeylib import trends

    try:
        trends.write_trends(reports)
    except Exception as error:  # noqa: BLE001 - the trend page must not fail a finished run
        log(f"trends: not written ({type(error).__name__}: {error})")


def _execute_all(log, notebooks, overrides, processed, run_dir, data_as_of, timeout) -> list[Outcome]:
    from journeylib import render

    outcomes: list[Outcome] = []
    with run_kernel({"JOURNEY_SCHEDULED": "1", "MPLBACKEND": "Agg", "TQDM_DISABLE": "1",
                     paths.PROCESSED_ENV: str(processed)}) as kernel, \
            _quiet_papermill():
        for number, notebook in enumerate(notebooks, 1):
            values = {"processed_dir": str(processed), "run_dir": str(run_dir), "as_of": data_as_of,
                      **overrides[notebook.stem]}
            log(f"[{number}/{len(notebooks)}] {notebook.stem}: running")
            outcome = execute(notebook, run_dir, values, kernel, timeout, log)
            outcome.files.update(render.render_notebook(run_dir, outcome, log))
            outcomes.append(outcome)
            detail = f": {outcome.error}" if outcome.error else ""
            log(f"[{number}/{len(notebooks)}] {notebook.stem}: {outcome.status} in {outcome.seconds:.1f} s{detail}")
    return outcomes
