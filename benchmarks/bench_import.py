"""Import time of journeylib and of one function, in fresh interpreters (median of 5).

    python benchmarks/bench_import.py [--repeat 5] [module ...]

Each import runs in a new `python -c "import <module>"` so nothing is cached in
the process; the time is the wall clock of that process minus an empty
interpreter's (`python -c pass`), the median of `--repeat` runs. The interpreters start in this
checkout's root, so they import its journeylib whatever PYTHONPATH says. Defaults:
`journeylib` and `journeylib.journey_map.attribution` (issue 23). A benchmark,
not a timed unit test: run it by hand on a quiet machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = ("journeylib", "journeylib.journey_map.attribution", "journeylib.advocacy", "journeylib.personas")


def seconds(code: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", default=list(MODULES))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    empty = seconds("pass", args.repeat)
    print(f"empty interpreter: {empty:.3f} s (subtracted)")
    print(f"{'module':40} {'import, s':>9}")
    for module in args.modules:
        print(f"{module:40} {seconds(f'import {module}', args.repeat) - empty:>9.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
