"""Invariant: the modules of backtest/eventstudy/ import one another without a circle.

The graph is read from the source with :mod:`ast` (every ``import`` statement,
including those under ``if TYPE_CHECKING:`` and inside functions), not by importing
the package, so a circle hidden behind a lazy import is found too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import backtest.eventstudy

PACKAGE = "backtest.eventstudy"
ROOT = Path(backtest.eventstudy.__file__).parent


def module_name(path: Path) -> str:
    return PACKAGE if path.stem == "__init__" else f"{PACKAGE}.{path.stem}"


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """Modules of `modules` that the source file at `path` imports."""
    here = module_name(path)
    package = here if path.stem == "__init__" else here.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                # `from backtest.eventstudy import stats` imports the submodule stats;
                # `from backtest.eventstudy import EventStudy` needs the package itself
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in modules else base)
    return {m for m in found if m in modules and m != here}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A circle of `graph` as a list of nodes (first == last), or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def package_graph() -> dict[str, set[str]]:
    files = sorted(ROOT.glob("*.py"))
    modules = {module_name(f) for f in files}
    return {module_name(f): imports_of(f, modules) for f in files}


def test_find_cycle_on_hand_made_graphs():
    # hand-made: a -> b -> c -> a is a circle; a -> b, a -> c, b -> c is not
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_graph_sees_the_imports_it_must():
    graph = package_graph()
    # read from the source by hand: study.py builds the design and the result
    assert {f"{PACKAGE}.design", f"{PACKAGE}.result"} <= graph[f"{PACKAGE}.study"]
    assert {f"{PACKAGE}.policy", f"{PACKAGE}.stats"} <= graph[f"{PACKAGE}.result"]


def test_no_import_circle_in_eventstudy():
    graph = package_graph()
    assert find_cycle(graph) is None, f"import circle: {' -> '.join(find_cycle(graph) or [])}"


def test_result_does_not_import_the_study():
    assert f"{PACKAGE}.study" not in package_graph()[f"{PACKAGE}.result"]
