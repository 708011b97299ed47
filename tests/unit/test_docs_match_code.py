"""The map of the code in words (subpackage docstrings, docs/architecture.md)
names what is there and nothing that is not."""

import importlib
import re
from pathlib import Path

import pytest

import hypertool_exporter

PACKAGE = Path(hypertool_exporter.__file__).parent
ARCHITECTURE = PACKAGE.parents[1] / "docs" / "architecture.md"
SUBPACKAGES = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))


def _modules(package: str) -> set[str]:
    folder = PACKAGE / package
    files = {p.stem for p in folder.glob("*.py")} - {"__init__", "__main__"}
    return files | {p.parent.name for p in folder.glob("*/__init__.py")}


@pytest.mark.parametrize("package", SUBPACKAGES)
def test_each_subpackage_docstring_names_its_modules(package):
    doc = importlib.import_module(f"hypertool_exporter.{package}").__doc__ or ""
    named = set(re.findall(r"``([a-z_]+)``", doc))
    missing = sorted(_modules(package) - named)
    assert not missing, f"{package}/__init__.py does not describe {missing}"


def test_the_architecture_page_names_every_subpackage_and_only_modules_that_exist():
    text = ARCHITECTURE.read_text()
    for package in SUBPACKAGES:
        assert f"`{package}/`" in text, f"docs/architecture.md does not mention {package}/"
    for package, module in re.findall(r"`([a-z_]+)/([a-z_]+)(?:\.py)?`", text):
        if package in SUBPACKAGES:
            assert module in _modules(package), f"docs/architecture.md names {package}/{module}"


def test_the_architecture_table_lists_each_package_s_modules():
    rows = re.findall(r"^\| `([a-z_]+)/` \| (.*?) \|", ARCHITECTURE.read_text(), re.M)
    assert {package for package, _ in rows} == set(SUBPACKAGES)
    for package, cell in rows:
        listed = set(re.findall(r"`([a-z_]+)/?`", cell))
        assert listed == _modules(package), f"{package}/: table {sorted(listed)}"
