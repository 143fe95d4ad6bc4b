"""Kernels for `journey run`: a kernelspec for this very Python, and kernels warmed while prepare runs.

Before its first cell every notebook pays a kernel's start and the imports all notebooks make
(pandas, matplotlib, seaborn, scipy.stats: about 1.4 s on the default sample, most of a small
notebook). `journey prepare` leaves a core idle most of its time, so the first notebooks' kernels
start then and import those libraries, silently (no execution count, no output): the notebook finds
them imported, as it would after its own first import. A kernel whose warm-up fails is shut down and
its notebook starts a fresh one, as without warming.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

KERNEL_NAME = "journeylib-run"
WARM_IMPORTS = "import pandas, matplotlib.pyplot, seaborn, scipy.stats"
WARM_TIMEOUT = 120  # seconds for a kernel to start and import


@dataclass
class KernelSpec:
    """The run's kernelspec (found first through a temporary JUPYTER_PATH) and its environment."""

    name: str
    file: Path
    env: dict

    def set_env(self, name: str, value: str) -> None:
        """Kernels started from now on get this variable (warm ones get it from WarmKernels.take)."""
        self.env[name] = value
        self._write()

    def _write(self) -> None:
        # log_level=CRITICAL: the kernel's start-up warnings (local TCP) and the "KeyboardInterrupt caught"
        # line jupyter_client's SIGINT-before-shutdown provokes would repeat in every cron mail; a notebook's
        # own errors are in its executed copy and the run log.
        spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                         "--IPKernelApp.log_level=CRITICAL"],
                "display_name": f"Python {sys.version_info.major}.{sys.version_info.minor} (journey run)",
                "language": "python", "env": self.env, "metadata": {"debugger": False}}
        self.file.write_text(json.dumps(spec), encoding="utf-8")


@contextlib.contextmanager
def run_kernel(env: dict):
    """A kernelspec for this very Python: a user-level `python3` kernel pointing at another
    environment cannot shadow it. The kernel gets `env` (JOURNEY_SCHEDULED, MPLBACKEND=Agg, ...)."""
    with tempfile.TemporaryDirectory(prefix="journey-kernel-") as tmp:
        spec_dir = Path(tmp) / "kernels" / KERNEL_NAME
        spec_dir.mkdir(parents=True)
        spec = KernelSpec(KERNEL_NAME, spec_dir / "kernel.json", dict(env))
        spec._write()
        previous = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = os.pathsep.join([tmp] + ([previous] if previous else []))
        try:
            yield spec
        finally:
            if previous is None:
                os.environ.pop("JUPYTER_PATH", None)
            else:
                os.environ["JUPYTER_PATH"] = previous


def _silently(client, code: str, timeout: float) -> None:
    """Run code in the kernel without an execution count or output; raise if it fails."""
    msg_id = client.execute(code, silent=True, store_history=False)
    while True:
        reply = client.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    if reply["content"].get("status") != "ok":
        content = reply["content"]
        raise RuntimeError(f"kernel warm-up failed: {content.get('ename')}: {content.get('evalue')}")


def _client(manager):
    """A blocking client of the kernel, for the warm-up only (papermill makes its own)."""
    from jupyter_client import BlockingKernelClient

    client = BlockingKernelClient()
    client.load_connection_info(manager.get_connection_info())
    client.start_channels()
    return client


def shut_down(manager) -> None:
    """End a kernel papermill did not own (it leaves a kernel manager it was given running)."""
    asyncio.run(manager.shutdown_kernel(now=True))


def _warm(spec: KernelSpec, cwd: Path):
    # The asynchronous manager papermill's nbclient expects; its kernel process outlives this event loop
    from jupyter_client import AsyncKernelManager

    manager = AsyncKernelManager(kernel_name=spec.name)
    asyncio.run(manager.start_kernel(cwd=str(cwd)))
    client = _client(manager)
    try:
        client.wait_for_ready(timeout=WARM_TIMEOUT)
        _silently(client, WARM_IMPORTS, WARM_TIMEOUT)
    except BaseException:
        shut_down(manager)
        raise
    finally:
        client.stop_channels()
    return manager


class WarmKernels:
    """`count` kernels started now, handed out by take() to the first notebooks; close() ends the rest."""

    def __init__(self, spec: KernelSpec, cwd: Path, count: int):
        self._pool = ThreadPoolExecutor(max_workers=max(1, count), thread_name_prefix="warm-kernel")
        self._waiting = [self._pool.submit(_warm, spec, cwd) for _ in range(count)]
        self._lock = threading.Lock()  # notebooks side by side take at the same time

    def take(self, env: dict):
        """A warmed kernel manager with `env` set in its process, or None (none left, or its warm-up failed)."""
        with self._lock:
            if not self._waiting:
                return None
            future = self._waiting.pop(0)
        try:
            manager = future.result()
        except Exception:  # noqa: BLE001 - the notebook then starts its own kernel
            return None
        client = _client(manager)
        try:
            _silently(client, f"import os\nos.environ.update({env!r})", WARM_TIMEOUT)
        except Exception:  # noqa: BLE001
            shut_down(manager)
            return None
        finally:
            client.stop_channels()
        return manager

    def close(self) -> None:
        """Shut down the kernels no notebook took."""
        for future in self._waiting:
            future.cancel()
        self._pool.shutdown(wait=True)
        for future in self._waiting:
            if not future.cancelled() and future.exception() is None:
                shut_down(future.result())
        self._waiting = []


@contextlib.contextmanager
def warm_kernels(spec: KernelSpec, cwd: Path, count: int):
    warm = WarmKernels(spec, cwd, count)
    try:
        yield warm
    finally:
        warm.close()
