"""The module graph: what issue 12 and STYLE.md promise about imports.

* no module imports a private name (``_x``) defined in another module (private
  modules such as ``backtest._yaml`` are the package's own and may be imported);
* vectorbt is imported only under ``backtest/engine/``; yfinance only in the data sources;
* the package's import graph (module-level imports, ``TYPE_CHECKING`` blocks aside)
  has no cycle.

These are invariants of the code base read with :mod:`ast`, not numbers.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import REPO

PACKAGES = ("backtest", "strategies")
FILES = sorted(p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py"))


def _module(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {_module(p) for p in FILES}


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imports(path: Path) -> list[tuple[str, list[str], int, bool]]:
    """(module imported, names, line, at module level outside TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = _module(path)
    is_package = path.name == "__init__.py"
    out: list[tuple[str, list[str], int, bool]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                visit(child, False)
            elif isinstance(child, ast.Import):
                out.extend((a.name, [], child.lineno, top) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                target = _absolute(child, module, is_package)
                out.append((target, [a.name for a in child.names], child.lineno, top))
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                visit(child, False if not isinstance(child, ast.ClassDef) else top)
            else:
                visit(child, top)

    visit(tree, True)
    return out


def test_no_private_name_is_imported_from_another_module():
    found = []
    for path in FILES:
        for target, names, line, _ in _imports(path):
            if not target.startswith(PACKAGES) or target == _module(path):
                continue
            # a private module (backtest._yaml) is the package's own; a private name
            # defined in another module (study._observation_times) is not
            private = [
                n
                for n in names
                if n.startswith("_") and not n.startswith("__") and f"{target}.{n}" not in MODULES
            ]
            if private:
                found.append(f"{path.relative_to(REPO)}:{line}: {target} {private}")
    assert not found, "private names imported across modules:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("library", "allowed"),
    [("vectorbt", "backtest/engine/"), ("yfinance", "backtest/data/")],
)
def test_heavy_libraries_stay_behind_their_module(library, allowed):
    found = [
        f"{path.relative_to(REPO)}:{line}"
        for path in FILES
        for target, _, line, _ in _imports(path)
        if target.split(".")[0] == library and not str(path.relative_to(REPO)).startswith(allowed)
    ]
    assert not found, f"{library} imported outside {allowed}: {found}"


def test_module_graph_has_no_cycle():
    modules = {_module(p): p for p in FILES}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for m, path in modules.items():
        for target, names, _, top in _imports(path):
            if not top:
                continue  # function-level imports are lazy by design
            for cand in [f"{target}.{n}" for n in names] + [target]:
                if cand in modules and cand != m and not m.startswith(cand + "."):
                    graph[m].add(cand)
                    break
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := dfs(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := dfs(node)):
            pytest.fail("import cycle: " + " -> ".join(cycle))
