"""The `journey` command: sample, prepare, run.

Exit codes: 0 success; 1 a run finished but a notebook failed; 2 bad input,
configuration or arguments (one-line message on stderr); 3 (`run --fail-on-change`)
the run is ok and a change was flagged; 130 interrupted.
"""

from __future__ import annotations

import argparse
import gc
import sys

from journeylib.config import ENGINES
from journeylib.errors import InputError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
DEFAULT_SAMPLE_CUSTOMERS = 2000
DEFAULT_SAMPLE_SEED = 7


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="journey", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    sample = sub.add_parser("sample", help="write synthetic dealership exports (with their true effects)")
    sample.add_argument("--out", help="folder for the exports (default data/raw)")
    sample.add_argument("--customers", type=int, default=DEFAULT_SAMPLE_CUSTOMERS)
    sample.add_argument("--seed", type=int, default=DEFAULT_SAMPLE_SEED)
    sample.add_argument("--no-shift", dest="shift", action="store_false",
                        help="leave out the planted recent shift (a sample where nothing changed)")

    prepare = sub.add_parser("prepare", help="clean the raw exports into processed tables")
    prepare.add_argument("--raw", help="raw exports folder (default data/raw)")
    prepare.add_argument("--out", help="processed folder (default data/processed)")
    prepare.add_argument("--as-of", help="ISO date or timestamp; default: the latest valid timestamp in the data")
    prepare.add_argument("--config", help="YAML or TOML configuration file")
    prepare.add_argument("--engine", choices=ENGINES, help="duckdb (default, in-process) or spark (pip install -e '.[spark]')")

    run = sub.add_parser("run", help="prepare, then execute every notebook into a dated report")
    run.add_argument("--raw", help="raw exports folder (default data/raw)")
    run.add_argument("--processed", help="processed folder (default data/processed)")
    run.add_argument("--reports", help="reports folder (default reports)")
    run.add_argument("--as-of", help="ISO date or timestamp; default: the latest valid timestamp in the data")
    run.add_argument("--config", help="YAML or TOML configuration file")
    run.add_argument("--engine", choices=ENGINES, help="engine for prepare: duckdb (default) or spark")
    run.add_argument("--only", nargs="+", metavar="NAME", help="run only these notebooks (e.g. 01 or 01_journey_map)")
    run.add_argument("-p", "--parameter", action="append", default=[], metavar="KEY=VALUE",
                     help="notebook parameter; NOTEBOOK.KEY=VALUE for one notebook (repeatable)")
    run.add_argument("--jobs", type=int, metavar="N",
                     help="notebooks run side by side (default $JOURNEY_JOBS, else 2, or 1 on one core)")
    run.add_argument("--fail-on-change", action="store_true",
                     help="exit 3 when the run is ok and 06_what_changed flagged a change (1 still wins)")
    return parser


def _dispatch(args) -> int:
    if args.command == "sample":
        from journeylib.sample import write_sample

        write_sample(args.out, customers=args.customers, seed=args.seed, shift=args.shift)
        return EXIT_OK
    if args.command == "prepare":
        from journeylib.prepare.cache import prepare_data

        # the same processed folder `journey run` would build, shared derived tables (personas) included
        prepare_data(raw=args.raw, processed=args.out, as_of=args.as_of, config=args.config, force=True,
                     engine=args.engine)
        return EXIT_OK
    # papermill -> nbformat -> jsonschema imports rfc3987_syntax when it is installed (JupyterLab brings
    # it), which compiles ~40 grammars at import, 0.8 s of every run, for an IRI format check nbformat
    # never makes: jsonschema skips that check when the import fails
    sys.modules.setdefault("rfc3987_syntax", None)
    from journeylib.run import run

    return run(
        raw=args.raw, processed=args.processed, reports=args.reports, as_of=args.as_of,
        config=args.config, only=args.only, parameters=args.parameter, engine=args.engine,
        fail_on_change=args.fail_on_change, jobs=args.jobs,
    )


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


def console() -> None:
    """The installed `journey` script: main(), then exit without the interpreter's last collections."""
    code = main()
    # Shutdown would run full garbage collections over every object pandas, scipy, Ibis and nbconvert
    # made (0.6 s a command); frozen, they are left to the exit. Not in main(): tests call it in-process.
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    console()
