"""The package's shape, checked statically: no import cycles, each subpackage
imports only the layers below it (as its ``__init__`` docstring says), no
module over 400 lines, ``__all__`` on every public module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import hypertool_exporter

PACKAGE = Path(hypertool_exporter.__file__).parent
ROOT = "hypertool_exporter"
MAX_LINES = 400

#: What each part may import (besides itself and ``_version``). ``cli`` and the
#: package root may import anything.
ALLOWED = {
    "model": set(),
    "fold": {"model"},
    "journal": {"model"},
    "sync": {"model", "fold", "journal"},
    "exposition": {"model", "fold", "sync"},
    "http": {"model", "exposition"},
    "app": {"model", "fold", "journal", "sync", "exposition", "http"},
    "instrument": {"model", "fold", "journal", "sync", "exposition", "http", "app"},
    "bundle": {"model"},
    "examples": {"model", "instrument"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> list[str]:
    """Package modules that ``from ... import ...`` makes ``module`` import."""
    if node.level:
        base = module.split(".")
        if path.name != "__init__.py":
            base = base[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if not target.startswith(ROOT):
        return []
    found = []
    for alias in node.names:
        submodule = f"{target}.{alias.name}"
        found.append(submodule if submodule in MODULES else target)
    return found


def imports_of(module: str) -> set[str]:
    """Every package module ``module`` imports, wherever the import statement
    stands (top level, function body or ``TYPE_CHECKING`` block)."""
    path = MODULES[module]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            found.update(_resolve(module, path, node))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith(ROOT))
    found.discard(module)
    return {name for name in found if name in MODULES}


GRAPH = {module: imports_of(module) for module in MODULES}


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules, or ``None``."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_scan_sees_relative_imports_of_every_form():
    assert "hypertool_exporter.model.catalog" in GRAPH["hypertool_exporter.fold.state"]
    assert "hypertool_exporter.instrument.tracing" in GRAPH["hypertool_exporter.instrument.call"]
    assert "hypertool_exporter._version" in GRAPH["hypertool_exporter"]


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles():
    assert find_cycle(GRAPH) is None


@pytest.mark.parametrize("module", sorted(MODULES))
def test_each_part_imports_only_the_layers_below_it(module):
    part = _part(module)
    if part not in ALLOWED:
        return  # cli, the package root, _version
    allowed = ALLOWED[part] | {part, "_version", ""}
    wrong = sorted(m for m in GRAPH[module] if _part(m) not in allowed)
    assert wrong == [], f"{module} imports {wrong}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_are_small_and_declare_their_public_names(module):
    path = MODULES[module]
    text = path.read_text()
    assert len(text.splitlines()) <= MAX_LINES, f"{path} has over {MAX_LINES} lines"
    tree = ast.parse(text)
    assert ast.get_docstring(tree), f"{path} has no docstring saying what it is for"
    public = not path.name.startswith("_") and path.name != "__main__.py"
    if public:
        names = {
            target.id
            for node in tree.body
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        assert "__all__" in names, f"{path} has no __all__"


def test_every_subpackage_says_what_it_may_import():
    for part in ALLOWED:
        init = PACKAGE / part / "__init__.py"
        if init.exists():
            assert "May import" in init.read_text(), init
