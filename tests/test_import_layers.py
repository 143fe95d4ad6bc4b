"""Layers that only point down: `lint-imports` (import-linter, a dev dependency) with pyproject.toml's contracts.

The contracts are in `[tool.importlinter]`; docs/architecture.md draws the layers. A wrong-way
import that is not listed in a contract's `ignore_imports` fails this test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")  # installed with the dev dependencies


def _lint(config: Path | None = None) -> subprocess.CompletedProcess:
    command = [str(LINT_IMPORTS), "--no-cache"] + ([] if config is None else ["--config", str(config)])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout's journeylib, not an installed one
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_every_import_contract_is_kept():
    run = _lint()
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout and "Layers point down" in run.stdout


def test_the_layers_contract_fails_on_a_wrong_way_import(tmp_path):
    """Without its ignore list the layers contract names each wrong-way import listed there (so every entry is
    still needed), and passes once the list is empty."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["id"] == "layers")
    lines = ["[importlinter]", f"root_package = {config['root_package']}", "",
             "[importlinter:contract:layers]", f"name = {layers['name']}", "type = layers", "layers ="]
    lines += [f"    {layer}" for layer in layers["layers"]]
    (tmp_path / "strict.ini").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = _lint(tmp_path / "strict.ini")
    ignored = [line.split("#")[0].strip() for line in layers.get("ignore_imports", [])]
    assert run.returncode == (1 if ignored else 0), run.stdout + run.stderr
    for wrong_way in ignored:
        assert wrong_way in run.stdout, wrong_way
