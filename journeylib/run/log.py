"""The run log: plain timestamped lines on stdout, kept in the run folder's run.log."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from pathlib import Path


class RunLog:
    """Plain timestamped lines on stdout, kept for run.log once the run folder exists."""

    def __init__(self, echo=True):
        self.echo = echo
        self.lines: list[str] = []
        self.file = None
        self.run_dir: Path | None = None  # the run folder, once made (for --fail-on-change)
        self._lock = threading.Lock()  # notebooks running side by side log from their own threads

    def __call__(self, message: str) -> None:
        with self._lock:
            line = f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M:%SZ} {message}"
            self.lines.append(line)
            if self.echo:
                print(line, flush=True)
            if self.file is not None:
                self.file.write(line + "\n")
                self.file.flush()

    def attach(self, path: Path) -> None:
        with self._lock:
            self.file = open(path, "a", encoding="utf-8")
            self.file.write("".join(line + "\n" for line in self.lines))
            self.file.flush()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
