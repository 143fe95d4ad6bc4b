"""Executing notebooks: a kernel for this Python, papermill, cell timeouts, side-by-side jobs, SIGTERM as Ctrl-C."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from journeylib import paths
from journeylib.errors import InputError
from journeylib.privacy import redact
from journeylib.run.parameters import quiet_papermill

DEFAULT_CELL_TIMEOUT = 600  # seconds per cell; $JOURNEY_CELL_TIMEOUT overrides
CELL_TIMEOUT_ENV = "JOURNEY_CELL_TIMEOUT"
JOBS_ENV = "JOURNEY_JOBS"
# Notebooks side by side: two fill two cores (most of a notebook's work is one-threaded pandas and
# lifelines, and a kernel's start and imports are a few seconds each); more would multiply kernel
# memory (up to ~4 GB each at 1M customers) for little gain on the machines the runs use.
DEFAULT_JOBS = min(2, os.cpu_count() or 1)
KERNEL_NAME = "journeylib-run"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


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


def _positive_whole(value, env_name: str, default: int, what: str, unit: str) -> int:
    """An option's value, else the environment variable's, else the default: a positive whole number."""
    raw = value if value is not None else os.environ.get(env_name, default)
    try:
        number = int(raw)
    except (TypeError, ValueError):
        raise InputError(f"{what} {raw!r}: expected {unit}") from None
    if number <= 0:
        raise InputError(f"{what} {number}: must be positive")
    return number


def jobs(value=None) -> int:
    """How many notebooks run side by side: --jobs, else $JOURNEY_JOBS, else DEFAULT_JOBS."""
    return _positive_whole(value, JOBS_ENV, DEFAULT_JOBS, "jobs", "a whole number of notebooks")


def cell_timeout(value=None) -> int:
    return _positive_whole(value, CELL_TIMEOUT_ENV, DEFAULT_CELL_TIMEOUT, "cell timeout", "whole seconds")


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
            shutdown_kernel="immediate",  # its outputs are in; a graceful exit only waits (0.5 s a notebook)
        )
        outcome.status = "ok"
    except Exception as error:  # noqa: BLE001 - any notebook failure is reported, the run goes on
        outcome.status = "failed"
        outcome.error, outcome.error_cell = _error_text(error)
    outcome.seconds = round(time.monotonic() - started, 2)
    if output.exists():
        try:
            _restore_kernelspec(output, notebook)
        except OSError:
            raise  # a full disk or a read-only folder: the run stops with one line (journeylib.cli)
        except Exception as error:  # noqa: BLE001 - a truncated copy (the disk filled up): the failure is reported
            outcome.status = "failed"
            outcome.error = outcome.error or f"the executed notebook could not be read back ({type(error).__name__})"
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
def sigterm_interrupts():
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


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def thread_limits(jobs: int) -> dict:
    """Kernel environment that shares the cores among notebooks side by side: each kernel's OpenMP and
    BLAS pools (k-means, linear algebra) get cores / jobs threads, as joblib does for its workers, so
    two kernels do not each spin a pool the size of the machine. A variable the user set is kept."""
    if jobs <= 1:
        return {}
    share = str(max(1, (os.cpu_count() or 1) // jobs))
    return {name: os.environ.get(name, share) for name in THREAD_VARIABLES}


def start_order(notebooks, seconds: dict | None = None) -> list:
    """The order to start notebooks side by side: the longest first by `seconds` (a previous run's
    times; unknown ones first, as they may be long), else name order. The longest first keeps one
    long notebook from running alone at the end while the other jobs have nothing left to do."""
    seconds = seconds or {}
    return sorted(notebooks, key=lambda nb: -seconds.get(nb.stem, float("inf")))


def previous_seconds(run_dir) -> dict:
    """Each notebook's seconds in an earlier run folder's manifest.json ({} when there is none)."""
    if run_dir is None:
        return {}
    try:
        manifest = json.loads((Path(run_dir) / "manifest.json").read_text(encoding="utf-8"))
        return {name: float(value) for name, value in manifest["timings"]["notebooks"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def execute_all(log, notebooks, overrides, processed, run_dir, data_as_of, timeout, jobs=1,
                seconds=None) -> list[Outcome]:
    """Every selected notebook, `jobs` at a time, each rendered to HTML as soon as it ends; outcomes in
    name order. Side by side they start longest first (`start_order` on `seconds`, a previous run's).

    Notebooks only read the processed tables and write their own files, so their order does not matter.
    """
    from journeylib.run import render

    total = len(notebooks)

    def one(number: int, notebook: Path) -> Outcome:
        values = {"processed_dir": str(processed), "run_dir": str(run_dir), "as_of": data_as_of,
                  **overrides[notebook.stem]}
        log(f"[{number}/{total}] {notebook.stem}: running")
        outcome = execute(notebook, run_dir, values, kernel, timeout, log)
        outcome.files.update(render.render_notebook(run_dir, outcome, log))
        detail = f": {outcome.error}" if outcome.error else ""
        log(f"[{number}/{total}] {notebook.stem}: {outcome.status} in {outcome.seconds:.1f} s{detail}")
        return outcome

    with run_kernel({"JOURNEY_SCHEDULED": "1", "MPLBACKEND": "Agg", "TQDM_DISABLE": "1",
                     paths.PROCESSED_ENV: str(processed), **thread_limits(jobs)}) as kernel, \
            quiet_papermill():
        if jobs <= 1 or total <= 1:
            return [one(number, notebook) for number, notebook in enumerate(notebooks, 1)]
        pool = ThreadPoolExecutor(max_workers=min(jobs, total), thread_name_prefix="notebook")
        numbers = {notebook: number for number, notebook in enumerate(notebooks, 1)}
        futures = {notebook: pool.submit(one, numbers[notebook], notebook)
                   for notebook in start_order(notebooks, seconds)}
        try:
            return [futures[notebook].result() for notebook in notebooks]
        except BaseException:
            # Ctrl-C or SIGTERM reach this thread only: stop what has not started, end the kernels the
            # worker threads wait on (they then fail fast), and let the interrupt go on
            for future in futures.values():
                future.cancel()
            _kill_kernels()
            raise
        finally:
            pool.shutdown(wait=True)


def _kill_kernels() -> None:
    import psutil

    killed = []
    for child in psutil.Process().children(recursive=True):
        try:
            if any("ipykernel_launcher" in part for part in child.cmdline()):
                child.kill()
                killed.append(child)
        except psutil.Error:  # already gone, or a zombie: nothing left to kill
            pass
    # reap them, so no zombie kernel outlives the run while this process unwinds
    psutil.wait_procs(killed, timeout=10)
