"""Notebook parameters: what each notebook declares, the declared types, and `-p` values checked against both.

A -p value is parsed to the parameter's declared type (the parameters cell's
annotation or default literal); then, for a notebook with an analysis entry point
(a module exposing `NOTEBOOK` and `Params`), the values are checked by that
analysis' `Params`, the same checks the notebook runs in its set-up cell. Either
failure is an InputError (exit 2) before any notebook runs, with one message per
bad value whichever side catches it.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib
import math
import re
from pathlib import Path

from journeylib.errors import InputError
from journeylib.run.notebooks import matches

RUN_PARAMETERS = ("processed_dir", "run_dir", "as_of")  # set by the runner, never by -p
# Modules whose `NOTEBOOK` and `Params` check a notebook's parameters (those without them are skipped).
ANALYSES = ("journeylib.data_quality", "journeylib.journey_map", "journeylib.time_to_purchase",
            "journeylib.retention", "journeylib.advocacy", "journeylib.personas", "journeylib.changes")


@contextlib.contextmanager
def quiet_papermill():
    """papermill's warnings (unknown parameter, unparsable line) repeat what validation already settled."""
    import logging

    logger = logging.getLogger("papermill")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def declared_parameters(notebook: Path) -> dict:
    """The parameters cell's names -> {inferred_type_name, default} (papermill's inspection).

    papermill skips a line holding two '=' (e.g. `x = None  # None = default`);
    such names are completed from the cell's Python syntax tree.
    """
    import papermill

    with quiet_papermill():  # its "Unable to parse line" warnings are handled below
        declared = papermill.inspect_notebook(str(notebook))
    for name, info in assignments(parameters_source(notebook)).items():
        declared.setdefault(name, info)
    return declared


def parameters_source(notebook: Path) -> str:
    """The source of the first cell tagged `parameters` ('' when there is none)."""
    import nbformat

    for cell in nbformat.read(notebook, as_version=4).cells:
        if "parameters" in cell.metadata.get("tags", []):
            return cell.source
    return ""


def assignments(source: str) -> dict:
    """Every top-level `name = value` (or `name: type = value`) of a parameters cell, as papermill reports it."""
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
# No notebook parameter is meaningfully beyond this (days, counts, seeds, thresholds); larger values only
# overflow later (a JSON manifest cannot hold inf, DuckDB's BIGINT ends at 2**63)
NUMBER_LIMIT = 10**12
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
    """A -p value converted to the parameter's declared type; InputError when it does not parse, or when
    a number in it is not finite or beyond ±NUMBER_LIMIT."""
    value = _parse(text, info, where)
    bad = _out_of_bounds(value)
    if bad is not None:
        raise InputError(f"-p {where}={' '.join(text.split())[:80]}: {bad!r} is not a finite number within "
                         f"±{NUMBER_LIMIT:.0e}")
    return value


def _out_of_bounds(value):
    """The first number in a value (or in a list/dict literal) that is not finite or too large, else None."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return None
    if isinstance(value, (int, float)):
        return value if not math.isfinite(value) or abs(value) > NUMBER_LIMIT else None
    items = list(value.keys()) + list(value.values()) if isinstance(value, dict) else \
        value if isinstance(value, (list, tuple, set)) else []
    for item in items:
        bad = _out_of_bounds(item)
        if bad is not None:
            return bad
    return None


def _parse(text: str, info: dict, where: str):
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


@functools.lru_cache(maxsize=None)
def analysis_params(stem: str):
    """The `Params` class of the analysis whose `NOTEBOOK` is this notebook, or None."""
    for name in ANALYSES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if getattr(module, "NOTEBOOK", None) == stem and hasattr(module, "Params"):
            return module.Params
    return None


def check_with_params(overrides: dict[str, dict], params_of=analysis_params) -> None:
    """Each notebook's -p values through its analysis' Params: a refused value is an InputError naming it."""
    for stem, values in overrides.items():
        if not values:
            continue
        params = params_of(stem)
        if params is None:
            continue
        try:
            params.from_values(values)
        except ValueError as error:
            raise InputError(f"-p {stem}: {error}") from None


def resolve_parameters(specs, notebooks: list[Path], declared: dict | None = None) -> dict[str, dict]:
    """-p overrides validated against each selected notebook's parameters cell: {notebook stem: {name: value}}.

    A bare KEY applies to every selected notebook declaring it; NOTEBOOK.KEY to that one.
    Unknown names, values of the wrong type, values the analysis' Params refuse and
    runner-owned names are InputErrors.
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
            targets = [nb.stem for nb in notebooks if matches(notebook, nb)]
            if not targets:
                raise InputError(f"-p {spec}: no selected notebook {notebook!r}")
            for stem in targets:
                if key not in declared[stem]:
                    known = ", ".join(n for n in declared[stem] if n not in RUN_PARAMETERS) or "none"
                    raise InputError(f"-p {spec}: {stem} has no parameter {key!r} (its parameters: {known})")
        for stem in targets:
            overrides[stem][key] = parse_value(text, declared[stem][key], f"{stem}.{key}")
    check_with_params(overrides)
    return overrides
