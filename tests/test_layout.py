"""The package's layout: no import cycle between its modules, each module importable on its own, small,
and saying what it is for in its first sentence."""

import ast
import importlib
import subprocess
import sys

import pytest

from .conftest import ROOT

PACKAGE = ROOT / "warp_gl_lifecycle"


def module_name(path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(name: str, path) -> set[str]:
    """The package's modules that ``name`` imports anywhere in its body (top level or inside a function:
    a cycle through a deferred import is still a cycle), resolved as Python resolves them."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module
            # "from . import x" names a module; "from .m import f" names module m
            candidates = [f"{prefix}.{alias.name}" for alias in node.names] + [prefix]
        else:
            continue
        for candidate in candidates:
            if candidate in MODULES and candidate != name:
                found.add(candidate)
                break
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle in ``graph`` as a path that starts and ends on the same node, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for child in sorted(graph[node]):
            if state.get(child) == 1:
                return path[path.index(child):] + [child]
            if child not in state and (cycle := visit(child)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def import_graph(skip_package_inits: bool) -> dict[str, set[str]]:
    """Arrows between the package's modules. An arrow to a package's ``__init__`` that comes only from
    reaching a submodule through it (Python runs the parent first) is not counted: it is how every
    submodule is found, not a dependency of the importer."""
    graph = {name: imported_modules(name, path) for name, path in MODULES.items()}
    if skip_package_inits:
        for name, edges in graph.items():
            graph[name] = {edge for edge in edges if not (edge != name and name.startswith(edge + "."))}
    return graph


def test_the_cycle_finder_sees_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_reads_relative_imports():
    graph = import_graph(skip_package_inits=True)
    assert "warp_gl_lifecycle.bench.common" in graph["warp_gl_lifecycle.bench.command"]
    assert "warp_gl_lifecycle.newton_compat" in graph["warp_gl_lifecycle.bench.newton"]
    assert "warp_gl_lifecycle.registry" in graph["warp_gl_lifecycle.bench.registry"]
    assert "warp_gl_lifecycle.bench" in graph["warp_gl_lifecycle.__main__"]


def test_no_import_cycle_inside_the_package():
    graph = import_graph(skip_package_inits=True)
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


@pytest.mark.parametrize("name", sorted(MODULES))
def test_each_module_imports_on_its_own(name):
    """In a fresh interpreter, so no other module's import hides a missing one."""
    proc = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("name", sorted(MODULES))
def test_each_module_is_small_and_says_what_it_is_for(name):
    path = MODULES[name]
    text = path.read_text()
    assert text.count("\n") <= 800, f"{path.name}: over 800 lines"
    docstring = ast.get_docstring(ast.parse(text))
    assert docstring and docstring.strip(), f"{name} has no module docstring"


def test_bench_package_keeps_its_names():
    """What the tests and tools import from ``warp_gl_lifecycle.bench`` is still there."""
    bench = importlib.import_module("warp_gl_lifecycle.bench")
    for attribute in ("GOALS", "GROUPS", "add_arguments", "main", "numpy_instance_matrices"):
        assert hasattr(bench, attribute), attribute
