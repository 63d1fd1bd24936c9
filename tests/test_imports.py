"""The import graph of ``runner``: no cycle, and the ledger imports no domain.

The graph is read from the source (the AST), not by importing: an edge ``a -> b`` for every import that
runs when ``a`` is imported, i.e. at module level (inside ``if``/``try``/``with`` too) but not inside a
function or under ``if TYPE_CHECKING:``. Importing ``runner.x.y`` also imports the package ``runner.x``,
so the edge goes to every package on the way, except the importer's own packages (those are being
imported already: ``runner/x/__init__.py`` importing its own ``runner.x.y`` is no cycle).
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from tests.conftest import REPO

#: what the ledger may import (transitively): itself, the domain registry (data naming modules, importing
#: none), the contract of results and where files live. Everything else is a domain or built on the ledger.
LEDGER_MAY_IMPORT = ("runner.ledger", "runner.domains", "runner.paths", "runner.results")

Graph = Mapping[str, frozenset[str]]


def _modules(root: Path = REPO / "runner") -> dict[str, tuple[Path, bool]]:
    """Every module of the package: dotted name -> (file, is a package)."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        package = parts[-1] == "__init__"
        if package:
            parts.pop()
        found[".".join(parts)] = (path, package)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _import_statements(body: Sequence[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements that run when the module (or class body) runs."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _import_statements(node.body)
            yield from _import_statements(node.orelse)
        elif isinstance(node, ast.Try | ast.TryStar):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                yield from _import_statements(block)
        elif isinstance(node, ast.With | ast.For | ast.While | ast.ClassDef):
            yield from _import_statements(node.body)
            if isinstance(node, ast.For | ast.While):
                yield from _import_statements(node.orelse)
        # a function's imports run when it is called, not on import


def imports_of(source: str, module: str, package: bool, known: set[str]) -> frozenset[str]:
    """The modules of ``known`` that importing ``module`` (with this ``source``) imports directly."""
    home = module if package else module.rpartition(".")[0]
    targets: set[str] = set()
    for node in _import_statements(ast.parse(source).body):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:  # relative: from . import x / from ..y import z
            parts = home.split(".")
            anchor = parts[: len(parts) - node.level + 1]
            base = ".".join([*anchor, *([node.module] if node.module else [])])
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            targets.add(submodule if submodule in known else base)
    edges: set[str] = set()
    for target in targets:
        parts = target.split(".")
        for end in range(1, len(parts) + 1):
            name = ".".join(parts[:end])
            if name in known and name != module and not module.startswith(name + "."):
                edges.add(name)
    return frozenset(edges)


def import_graph() -> dict[str, frozenset[str]]:
    modules = _modules()
    known = set(modules)
    return {
        name: imports_of(path.read_text(encoding="utf-8"), name, package, known)
        for name, (path, package) in modules.items()
    }


def cycles(graph: Graph) -> list[list[str]]:
    """One cycle (``[a, b, ..., a]``) per strongly connected component with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    counter = 0
    for start in sorted(graph):  # iterative Tarjan: no recursion limit on a deep graph
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(component)
    return [_cycle_through(graph, component) for component in components]


def _cycle_through(graph: Graph, component: set[str]) -> list[str]:
    """A shortest cycle from the component's first module back to itself, within the component."""
    start = min(component)
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(graph[node] & component):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [start, *reversed(path[:-1]), start] if node != start else [start, start]
            if child not in came_from:
                came_from[child] = node
                queue.append(child)
    raise AssertionError(f"no cycle in component {sorted(component)}")  # pragma: no cover


def path_between(graph: Graph, starts: set[str], goal: str) -> list[str]:
    """The shortest import chain from any of ``starts`` to ``goal``."""
    came_from: dict[str, str | None] = dict.fromkeys(starts)
    queue = deque(sorted(starts))
    while queue:
        node = queue.popleft()
        if node == goal:
            chain = [node]
            while (previous := came_from[chain[-1]]) is not None:
                chain.append(previous)
            return chain[::-1]
        for child in sorted(graph[node]):
            if child not in came_from:
                came_from[child] = node
                queue.append(child)
    return []


def reachable(graph: Graph, starts: set[str]) -> set[str]:
    seen = set(starts)
    queue = deque(starts)
    while queue:
        for child in graph[queue.popleft()]:
            if child not in seen:
                seen.add(child)
                queue.append(child)
    return seen


def _inside(module: str, packages: Sequence[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


# -- the graph builder itself ---------------------------------------------------------------------

KNOWN = {"pkg", "pkg.a", "pkg.b", "pkg.c", "pkg.sub", "pkg.sub.d", "pkg.sub.e", "pkg.f"}


def test_only_imports_that_run_on_import_are_edges() -> None:
    source = """
from __future__ import annotations
import os
from typing import TYPE_CHECKING
import pkg.a
from pkg import b
from pkg.sub import d, CONSTANT
if TYPE_CHECKING:
    from pkg import c
else:
    from pkg import f
try:
    from . import e
except ImportError:
    pass
def later():
    from pkg import c
class Holder:
    from pkg.sub import e as again
"""
    # as the module pkg.sub.x: its own packages pkg and pkg.sub are no edge, pkg.sub.d/e are
    assert imports_of(source, "pkg.sub.x", False, KNOWN) == {
        "pkg.a",
        "pkg.b",
        "pkg.f",
        "pkg.sub.d",
        "pkg.sub.e",
    }
    # the same text as a top-level module: importing pkg.a imports the package pkg first
    assert "pkg" in imports_of(source, "top", False, KNOWN)
    # a name from a package (not a submodule) is an edge to the package
    assert imports_of("from pkg.sub import CONSTANT\n", "pkg.a", False, KNOWN) == {"pkg.sub"}
    assert imports_of("from .. import a\nfrom ..sub import e\n", "pkg.sub.d", False, KNOWN) == {
        "pkg.a",
        "pkg.sub.e",
    }


def test_a_cycle_is_found_and_spelled_out() -> None:
    graph = {
        "a": frozenset({"b"}),
        "b": frozenset({"c"}),
        "c": frozenset({"a", "d"}),
        "d": frozenset(),
        "x": frozenset({"y"}),
        "y": frozenset({"x"}),
    }
    assert sorted(cycles(graph)) == [["a", "b", "c", "a"], ["x", "y", "x"]]
    assert cycles({"a": frozenset({"b"}), "b": frozenset()}) == []


def test_the_graph_sees_the_real_imports() -> None:
    graph = import_graph()
    assert "runner.ledger.schema" in graph["runner.network.snapshots"]
    assert "runner.ledger" in graph["runner.network.snapshots"]  # the package, on the way to its schema
    assert "runner.cli.app" in graph["runner.cli"]


# -- the rules ----------------------------------------------------------------------------------


def test_runner_has_no_import_cycle() -> None:
    found = cycles(import_graph())
    assert found == [], "import cycles:\n" + "\n".join("  " + " -> ".join(cycle) for cycle in found)


def test_the_ledger_imports_no_domain() -> None:
    """Nothing ``runner.ledger`` imports, directly or not, is a domain: domains call the ledger's
    chained-table factory, and a Ledger imports their table modules by name (runner.domains)."""
    graph = import_graph()
    ledger = {m for m in graph if _inside(m, ("runner.ledger",))}
    outside = sorted(m for m in reachable(graph, ledger) - {"runner"} if not _inside(m, LEDGER_MAY_IMPORT))
    assert outside == [], "the ledger imports:\n" + "\n".join(
        "  " + " -> ".join(path_between(graph, ledger, module)) for module in outside
    )


def test_the_domain_registry_imports_nothing_of_runner() -> None:
    """It only names modules, so the CLI reads it at start-up and the ledger without depending on any."""
    assert import_graph()["runner.domains"] == frozenset()
