"""`journey run` parameters: notebook selection, declared parameters, -p values and their types."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeylib.errors import InputError
from journeylib.run.notebooks import find_notebooks, select_notebooks
from journeylib.run.parameters import declared_parameters, parse_value, resolve_parameters

PROJECT_NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def test_notebook_selection_by_number_or_name_in_run_order():
    notebooks = [Path(f"{n}.ipynb") for n in ("00_data_quality", "01_journey_map", "02_buyers")]
    assert [p.stem for p in select_notebooks(notebooks, ["02", "00_data_quality"])] == ["00_data_quality",
                                                                                               "02_buyers"]
    assert select_notebooks(notebooks, None) == notebooks
    with pytest.raises(InputError, match="--only 7: no such notebook"):
        select_notebooks(notebooks, ["7"])


def test_find_notebooks_takes_only_numbered_names(tmp_path):
    for name in ("01_b.ipynb", "00_a.ipynb", "scratch.ipynb", "1_bad.ipynb", "02_c.txt"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in find_notebooks(tmp_path)] == ["00_a.ipynb", "01_b.ipynb"]
    with pytest.raises(InputError):
        find_notebooks(tmp_path / "missing")


def test_a_bare_key_applies_to_every_selected_notebook_declaring_it():
    declared = {"00_a": {"top_n": {"inferred_type_name": "None", "default": "3"}},
                "01_b": {"top_n": {"inferred_type_name": "None", "default": "10"}, "label": {"default": "'x'"}},
                "02_c": {}}
    notebooks = [Path(f"{stem}.ipynb") for stem in declared]
    resolved = resolve_parameters(["top_n=7", "01.label=1.10"], notebooks, declared)
    assert resolved == {"00_a": {"top_n": 7}, "01_b": {"top_n": 7, "label": "1.10"}, "02_c": {}}
    with pytest.raises(InputError, match="no selected notebook has a parameter 'label2'"):
        resolve_parameters(["label2=1"], notebooks, declared)


@pytest.mark.parametrize("annotation, default, text, expected", [
    ("None", "'v1'", "1.10", "1.10"),
    ("str", "None", "007", "007"),
    ("None", "None", "2024-06-30", "2024-06-30"),
    ("None", "None", "none", None),
    ("Optional[int]", "None", "12", 12),
    ("int", "3", " 42 ", 42),
    ("None", "0.5", "1e-3", 0.001),
    ("None", "True", "off", False),
    ("None", "['a']", "('x', 'y')", ["x", "y"]),
    ("None", "{'a': 1}", "{'b': 2}", {"b": 2}),
])
def test_values_parse_to_the_declared_type(annotation, default, text, expected):
    value = parse_value(text, {"inferred_type_name": annotation, "default": default}, "nb.x")
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("annotation, default, text", [
    ("None", "3", "3.5"), ("int", "None", "none"), ("None", "True", "2"), ("None", "[1]", "{'a': 1}"),
    ("None", "0.5", "half"), ("None", "['a']", "__import__('os')"),
])
def test_values_that_do_not_parse_are_input_errors(annotation, default, text):
    with pytest.raises(InputError, match="not a valid"):
        parse_value(text, {"inferred_type_name": annotation, "default": default}, "nb.x")


def test_declared_parameters_include_lines_papermill_cannot_parse():
    declared = declared_parameters(PROJECT_NOTEBOOKS / "00_data_quality.ipynb")
    assert {"processed_dir", "run_dir", "as_of", "top_unknown"} <= set(declared)
    assert parse_value("12", declared["top_unknown"], "00.top_unknown") == 12


# ---------------------------------------------------------------- the analysis' Params

DECLARED_06 = {"06_what_changed": {"q": {"inferred_type_name": "None", "default": "0.1"},
                                   "period": {"inferred_type_name": "None", "default": "'month'"},
                                   "min_latest": {"inferred_type_name": "None", "default": "10"}},
               "00_data_quality": {"top_unknown": {"inferred_type_name": "None", "default": "10"}}}
NOTEBOOKS_06 = [Path(f"{stem}.ipynb") for stem in DECLARED_06]


@pytest.mark.parametrize("spec, params, values", [
    ("06.q=1.5", "journeylib.changes", {"q": 1.5}),
    ("06.period=year", "journeylib.changes", {"period": "year"}),
    ("06.min_latest=0", "journeylib.changes", {"min_latest": 0}),
    ("top_unknown=-2", "journeylib.data_quality", {"top_unknown": -2}),
])
def test_a_value_the_analysis_refuses_is_an_input_error_with_the_notebooks_message(spec, params, values):
    import importlib

    with pytest.raises(ValueError) as in_notebook:  # what the notebook's set-up cell would say
        importlib.import_module(params).Params(**values)
    with pytest.raises(InputError) as in_runner:
        resolve_parameters([spec], NOTEBOOKS_06, DECLARED_06)
    assert str(in_notebook.value) in str(in_runner.value)
    assert str(in_runner.value).startswith("-p ")


def test_a_value_of_the_wrong_type_is_refused_by_the_type_check_first():
    with pytest.raises(InputError, match=r"-p 06_what_changed\.q=high: not a valid float"):
        resolve_parameters(["06.q=high"], NOTEBOOKS_06, DECLARED_06)


def test_good_values_pass_and_notebooks_without_an_analysis_are_not_checked():
    assert resolve_parameters(["06.q=0.05", "06.period=week"], NOTEBOOKS_06, DECLARED_06)["06_what_changed"] == {
        "q": 0.05, "period": "week"}
    declared = {"99_scratch": {"q": {"inferred_type_name": "None", "default": "0.1"}}}
    assert resolve_parameters(["q=7.5"], [Path("99_scratch.ipynb")], declared) == {"99_scratch": {"q": 7.5}}


def test_every_project_notebook_with_an_analysis_declares_its_params_defaults():
    """The parameters cell and Params agree on names and defaults, so the runner checks what the notebook uses."""
    import ast
    import dataclasses

    from journeylib.run.parameters import analysis_params

    checked = 0
    for path in sorted(PROJECT_NOTEBOOKS.glob("*.ipynb")):
        params = analysis_params(path.stem)
        if params is None:
            continue
        declared = declared_parameters(path)
        for field in dataclasses.fields(params):
            assert field.name in declared, f"{path.stem}: Params.{field.name} is not a notebook parameter"
            default = ast.literal_eval(declared[field.name]["default"])
            default = tuple(default) if isinstance(default, list) else default  # Params keep lists as tuples
            wanted = field.default if field.default is not dataclasses.MISSING else field.default_factory()
            assert default == wanted, (path.stem, field.name)
        checked += 1
    assert checked >= 2  # 00 and 06 at least


@pytest.mark.parametrize("text, annotation, default", [
    ("inf", "float", "7.0"), ("-inf", "float", "7.0"), ("nan", "float", "7.0"), ("1e300", "float", "7.0"),
    ("99999999999999999999999999", "int", "10"), ("-10000000000001", "int", "10"),
    ("[1, 1e400]", "list", "[]"), ("{'a': 1e999}", "dict", "{}"), ("{'a': 10000000000001}", "dict", "{}"),
])
def test_numbers_must_be_finite_and_within_bounds(text, annotation, default):
    with pytest.raises(InputError, match="is not a finite number within"):
        parse_value(text, {"inferred_type_name": annotation, "default": default}, "nb.x")


def test_numbers_at_the_bound_pass():
    assert parse_value("1000000000000", {"inferred_type_name": "int"}, "nb.x") == 10**12
    assert parse_value("[0.5, -3]", {"inferred_type_name": "list"}, "nb.x") == [0.5, -3]
    assert parse_value("true", {"inferred_type_name": "bool"}, "nb.x") is True
