"""Imports flow one way: architectures, then datasets, then bench; command lines on top (issue 14).

Reads every module's imports with ``ast`` (nothing is imported), so a violation is named by file
and line. Only function bodies count as function-local; module level includes ``if`` blocks such
as ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("architectures", "datasets", "bench")  # each may import only itself and those before it

# Command lines that live in a lower package (their `python -m` names are public): they may
# import bench at module level, and no module of the packages imports them.
CLIS_ON_TOP = {"datasets.check", "datasets.synthetic.__main__"}

# (module, project module it imports inside a function): why it cannot be at module level.
FUNCTION_LOCAL_ALLOWED = {
    ("bench.regression.worker", "architectures"): "imports another commit's tree: looked up "
    "after --models-root has replaced this tree's on sys.path",
    ("bench.regression.worker", "bench.measure.complexity"): "same: the measured commit's copy",
    ("bench.regression.worker", "bench.regression.signature"): "same: after the tree is chosen",
}


@dataclass(frozen=True)
class Edge:
    source: str  # importing module
    target: str  # imported project module (a submodule when `from pkg import submodule`)
    where: str  # file:line
    local: bool  # inside a function body


def _module_files() -> dict[str, Path]:
    files = {}
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return files


MODULES = _module_files()


def _absolute(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = base[: len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _targets(module: str, path: Path, node: ast.stmt) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        target = _absolute(module, path, node)
        subs = [f"{target}.{alias.name}" for alias in node.names]
        return [sub if sub in MODULES else target for sub in subs]
    return []


def _edges(module: str, path: Path) -> list[Edge]:
    edges = []

    def visit(node: ast.AST, local: bool) -> None:
        for child in ast.iter_child_nodes(node):
            for target in _targets(module, path, child):
                if target.split(".")[0] in LAYERS and target != module:
                    where = f"{path.relative_to(ROOT)}:{child.lineno}"
                    edges.append(Edge(module, target, where, local))
            visit(child, local or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return edges


EDGES = [edge for module, path in MODULES.items() for edge in _edges(module, path)]


def _layer(module: str) -> int:
    return LAYERS.index(module.split(".")[0])


def _cycle(edges: list[Edge]) -> list[str] | None:
    graph: dict[str, set[str]] = {}
    for edge in edges:
        graph.setdefault(edge.source, set()).add(edge.target)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            found = None if nxt in state else visit(nxt)
            if found:
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        found = None if node in state else visit(node)
        if found:
            return found
    return None


def test_the_walk_sees_the_packages_and_resolves_relative_imports():
    """Guards the guard: a walk that found nothing would pass every rule below."""
    assert {"architectures.registry", "datasets.metrics", "architectures.errors"} <= MODULES.keys()
    found = {(e.source, e.target) for e in EDGES}
    assert ("architectures.gcpm", "architectures.registry") in found  # from .registry import
    assert ("datasets.augment", "datasets.transforms") in found  # from . import transforms
    assert ("datasets.synthetic", "datasets.atomic") in found  # from ..atomic import
    assert ("bench.report.files", "datasets.atomic") in found
    assert any(e.local for e in EDGES if e.source == "bench.regression.worker")


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_imports_only_itself_and_the_layers_below(layer):
    upward = [
        f"{e.where}: {e.source} imports {e.target}"
        for e in EDGES
        if e.source.split(".")[0] == layer
        and _layer(e.target) > _layer(e.source)
        and e.source not in CLIS_ON_TOP
    ]
    assert not upward, "a lower layer imports a higher one:\n" + "\n".join(upward)


def test_no_module_imports_a_command_line_on_top():
    importers = [f"{e.where}: imports {e.target}" for e in EDGES if e.target in CLIS_ON_TOP]
    assert not importers, "\n".join(importers)
    assert CLIS_ON_TOP <= MODULES.keys()  # a renamed CLI must be renamed here too


def test_no_function_local_project_import_outside_the_allow_list():
    local = [e for e in EDGES if e.local]
    unlisted = [
        f"{e.where}: {e.source} imports {e.target} inside a function"
        for e in local
        if (e.source, e.target) not in FUNCTION_LOCAL_ALLOWED
    ]
    assert not unlisted, "move to module level (or list with a reason):\n" + "\n".join(unlisted)
    stale = set(FUNCTION_LOCAL_ALLOWED) - {(e.source, e.target) for e in local}
    assert not stale, f"no longer function-local, remove from FUNCTION_LOCAL_ALLOWED: {stale}"


def test_module_level_graph_is_acyclic():
    cycle = _cycle([e for e in EDGES if not e.local])
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_graph_stays_acyclic_with_function_local_imports_at_module_level():
    """The allowed function-local imports hide no cycle (they are there for another reason)."""
    cycle = _cycle(EDGES)
    assert cycle is None, "import cycle through a function-local import: " + " -> ".join(cycle)


def test_cycle_finder_finds_a_cycle():
    edges = [Edge("a", "b", "", False), Edge("b", "c", "", False), Edge("c", "a", "", False)]
    assert _cycle(edges) == ["a", "b", "c", "a"]
    assert _cycle(edges[:2]) is None
