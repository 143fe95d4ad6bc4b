"""The `journey` command: sample, prepare, run.

Exit codes: 0 success; 1 a run finished but a notebook failed; 2 bad input,
configuration or arguments, or an environment failure (full disk, read-only
folder, unreadable file; one-line message on stderr naming the path); 3
(`run --fail-on-change`) the run is ok and a change was flagged; 130 interrupted.
"""

from __future__ import annotations

import argparse
import errno
import gc
import re
import sys

from journeylib.config import ENGINES
from journeylib.errors import InputError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
DEFAULT_SAMPLE_CUSTOMERS = 2000
DEFAULT_SAMPLE_SEED = 7


DESCRIPTION = """Customer-journey analytics for car dealers: clean the dealership exports into processed
tables (prepare), then execute the analysis notebooks into a dated report folder (run)."""

EXIT_CODES = """exit codes:
  0    success
  1    the run finished but a notebook failed (see its index.html and run.log)
  2    bad input, configuration or arguments, or an environment failure (full disk,
       read-only folder, unreadable file): one line on stderr naming the file or folder
  3    journey run --fail-on-change only: the run is ok and a change was flagged
  130  interrupted (Ctrl-C or SIGTERM)"""

SAMPLE_HELP = """Write synthetic dealership exports (seven CSV tables), the journey.yaml that describes them
and truth.json (the effects the analyses should recover). A run on these exports is marked
"Synthetic sample data" on every page. Refuses a folder that already holds exports."""

PREPARE_HELP = """Clean the raw exports into the processed tables (Parquet): the data contract's checks,
identity resolution, stage tagging, journeys and the shared personas table. Writes a complete
new version of the processed folder and only then switches to it (docs/prepare.md)."""

RUN_HELP = """Prepare (reused when the inputs are unchanged), then execute every notebook into
reports/<run-id>/ with index.html, metrics.json and changes.json. A complete run with the
configured parameters is published: reports/latest and reports/trends.html follow it. A run
with --only or -p is exploratory: its own folder and index only, unless --publish.
With no --raw and an empty data/raw, the synthetic sample is written there first (the quick
start); an explicitly named raw folder without exports is an error (docs/running.md)."""


def _command(sub, name: str, summary: str, description: str) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=summary, description=description, epilog=EXIT_CODES,
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="journey", description=DESCRIPTION, epilog=EXIT_CODES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="{sample,prepare,run}")

    sample = _command(sub, "sample", "write synthetic dealership exports (with their true effects)", SAMPLE_HELP)
    sample.add_argument("--out", help="folder for the exports (default data/raw)")
    sample.add_argument("--customers", type=int, default=DEFAULT_SAMPLE_CUSTOMERS)
    sample.add_argument("--seed", type=int, default=DEFAULT_SAMPLE_SEED)
    sample.add_argument("--no-shift", dest="shift", action="store_false",
                        help="leave out the planted recent shift (a sample where nothing changed)")
    sample.add_argument("--consistent-future", action="store_true",
                        help="write the open leads' journeys from their drawn purchase times, as the buyers' are "
                             "(other exports; lead scores judged against truth.json's future)")

    prepare = _command(sub, "prepare", "clean the raw exports into processed tables", PREPARE_HELP)
    prepare.add_argument("--raw", help="raw exports folder (default data/raw)")
    # --processed names the folder as `journey run` does; --out is kept for existing scripts
    prepare.add_argument("--processed", "--out", dest="processed", metavar="DIR",
                         help="processed folder (default data/processed); --out is the same option")
    prepare.add_argument("--as-of", help="ISO date or timestamp; default: the latest valid timestamp in the data")
    prepare.add_argument("--config", help="YAML or TOML configuration file")
    prepare.add_argument("--engine", choices=ENGINES, help="duckdb (default, in-process) or spark (pip install -e '.[spark]')")

    run = _command(sub, "run", "prepare, then execute every notebook into a dated report", RUN_HELP)
    run.add_argument("--raw", help="raw exports folder (default data/raw; the sample is written there when it is empty)")
    run.add_argument("--processed", help="processed folder (default data/processed)")
    run.add_argument("--reports", help="reports folder (default reports)")
    run.add_argument("--as-of", help="ISO date or timestamp; default: the latest valid timestamp in the data")
    run.add_argument("--config", help="YAML or TOML configuration file")
    run.add_argument("--engine", choices=ENGINES, help="engine for prepare: duckdb (default) or spark")
    run.add_argument("--only", nargs="+", metavar="NAME",
                     help="run only these notebooks (e.g. 01 or 01_journey_map); an exploratory run")
    run.add_argument("-p", "--parameter", action="append", default=[], metavar="KEY=VALUE",
                     help="notebook parameter; NOTEBOOK.KEY=VALUE for one notebook (repeatable); an exploratory run")
    run.add_argument("--publish", action="store_true",
                     help="publish a run with --only or -p: reports/latest, trends.html and the next run's "
                          "comparison follow it")
    run.add_argument("--jobs", type=int, metavar="N",
                     help="notebooks run side by side (default $JOURNEY_JOBS, else 2, or 1 on one core)")
    run.add_argument("--fail-on-change", action="store_true",
                     help="exit 3 when the run is ok and 06_what_changed flagged a change (1 still wins)")
    return parser


def _dispatch(args) -> int:
    if args.command == "sample":
        from journeylib.sample import write_sample

        write_sample(args.out, customers=args.customers, seed=args.seed, shift=args.shift,
                     consistent_future=args.consistent_future)
        return EXIT_OK
    if args.command == "prepare":
        from journeylib.prepare.cache import prepare_data

        from journeylib import paths
        from journeylib.run import with_path

        # the same processed folder `journey run` would build, shared derived tables (personas) included
        try:
            prepare_data(raw=args.raw, processed=args.processed, as_of=args.as_of, config=args.config, force=True,
                         engine=args.engine)
        except OSError as error:  # a failed write names no file: name the processed folder
            raise with_path(error, paths.processed_root(args.processed)) from error
        return EXIT_OK
    # papermill -> nbformat -> jsonschema imports rfc3987_syntax when it is installed (JupyterLab brings
    # it), which compiles ~40 grammars at import, 0.8 s of every run, for an IRI format check nbformat
    # never makes: jsonschema skips that check when the import fails
    sys.modules.setdefault("rfc3987_syntax", None)
    from journeylib.run import run

    return run(
        raw=args.raw, processed=args.processed, reports=args.reports, as_of=args.as_of,
        config=args.config, only=args.only, parameters=args.parameter, engine=args.engine,
        fail_on_change=args.fail_on_change, jobs=args.jobs, publish=args.publish,
    )


# errno -> what the one-line message says about the path
ENVIRONMENT_ERRORS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}
# the same failures as other libraries word them (DuckDB's IOException, pyarrow's errors without errno)
_WORDED = ((re.compile(r"no space left on device", re.I), "no space left on the device"),
           (re.compile(r"disk quota exceeded", re.I), "disk quota exceeded"),
           (re.compile(r"read-only file system", re.I), "read-only file system"))
_QUOTED_PATH = re.compile(r"""["'](/[^"'\\]+)\\?["']""")


def environment_message(error: BaseException) -> str | None:
    """One line naming the path for a failure of the machine rather than of the data (a full disk, a
    read-only or unreadable file or folder), else None. DuckDB reports a full disk as its own
    IOException with the path in its text."""
    if isinstance(error, OSError) and error.errno in ENVIRONMENT_ERRORS:
        path = error.filename or "a file"
        return f"{path}: {ENVIRONMENT_ERRORS[error.errno]}"
    text = str(error)
    for pattern, words in _WORDED:
        if pattern.search(text):
            found = _QUOTED_PATH.search(text)
            return f"{found.group(1) if found else 'a file'}: {words}"
    return None


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except InputError as error:
        print(f"journey {args.command}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"journey {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # noqa: BLE001 - only environment failures become one line; bugs still raise
        message = environment_message(error)
        if message is None:
            raise
        print(f"journey {args.command}: error: {' '.join(message.split())}", file=sys.stderr)
        return EXIT_BAD_INPUT


def console() -> None:
    """The installed `journey` script: main(), then exit without the interpreter's last collections."""
    code = main()
    # Shutdown would run full garbage collections over every object pandas, scipy, Ibis and nbconvert
    # made (0.6 s a command); frozen, they are left to the exit. Not in main(): tests call it in-process.
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    console()
