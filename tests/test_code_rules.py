"""Structure rules of CONTRIBUTING.md, checked on the source: no import cycle between packages,
no private name imported from another package, no function over 80 lines."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "edgesal"
MAX_FUNCTION_LINES = 80


def _modules() -> dict[str, ast.Module]:
    """Dotted module name → parsed source, for every file of the package."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        out[name] = ast.parse(path.read_text(encoding="utf-8"))
    return out


def _unit(module: str) -> str:
    """The top-level unit a module belongs to: ``edgesal.export.pipeline`` → ``export``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "edgesal"


def _imports(tree: ast.Module) -> list[tuple[str, list[str]]]:
    """(imported module, imported names) of every absolute import, lazy ones included."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names]
    return found


def _unit_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for module, tree in _modules().items():
        for target, _ in _imports(tree):
            if target.startswith("edgesal.") and _unit(target) != _unit(module):
                graph[_unit(module)].add(_unit(target))
    return graph


def _cycle_from(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    """A path start → … → start through the graph, or None."""
    stack, seen = [(start, [start])], set()
    while stack:
        node, path = stack.pop()
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                return path + [start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, path + [nxt]))
    return None


def test_no_import_cycle_between_packages():
    graph = _unit_graph()
    cycles = [" → ".join(c) for unit in sorted(graph) if (c := _cycle_from(unit, graph))]
    assert not cycles, f"import cycles: {cycles}"


def test_no_private_name_imported_across_packages():
    bad = []
    for module, tree in _modules().items():
        for target, names in _imports(tree):
            if target.startswith("edgesal") and _unit(target) != _unit(module):
                bad += [f"{module}: from {target} import {n}" for n in names
                        if n.startswith("_") and not n.endswith("__")]
                if any(part.startswith("_") for part in target.split(".")):
                    bad.append(f"{module}: import {target}")
    assert not bad, bad


def test_no_function_over_80_lines():
    long = []
    for module, tree in _modules().items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{module}.{node.name}: {length} lines")
    assert not long, long
