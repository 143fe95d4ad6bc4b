"""environment.yml must give conda users the environment pyproject.toml defines."""

import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parent.parent


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _environment():
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def test_environment_installs_the_package_with_dev_extra():
    pip_entries = [d for d in _environment()["dependencies"] if isinstance(d, dict)]
    assert pip_entries and pip_entries[0]["pip"] == ["-e .[dev]"]


def test_environment_python_satisfies_requires_python():
    requires = SpecifierSet(_pyproject()["project"]["requires-python"])
    pythons = [d for d in _environment()["dependencies"] if isinstance(d, str) and d.startswith("python")]
    assert len(pythons) == 1
    assert pythons[0].split("=", 1)[1] + ".0" in requires


def test_conda_packages_other_than_python_and_pip_repeat_pyproject_bounds():
    declared = {Requirement(r).name.lower(): Requirement(r) for r in _pyproject()["project"]["dependencies"]}
    for entry in _environment()["dependencies"]:
        if not isinstance(entry, str) or entry.split("=")[0] in ("python", "pip"):
            continue
        name = entry.split("=")[0].split("<")[0].split(">")[0].strip().lower()
        assert name in declared, f"{entry} is in environment.yml but not in pyproject.toml"
        assert str(declared[name].specifier) in entry.replace(" ", "")


def test_pandas_is_bounded_below_3_for_lifelines():
    pandas = next(Requirement(r) for r in _pyproject()["project"]["dependencies"] if r.startswith("pandas"))
    assert "3.0" not in pandas.specifier and "2.2.0" in pandas.specifier
