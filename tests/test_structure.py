"""The shape of the package (issue 18): small modules, ordinary imports, no import cycle between labsim's files.

These read the source (AST), they do not import it: a cycle that only shows at run time in one order of imports
still fails here, with the cycle printed.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "labsim"
MAX_LINES = 700


def _modules() -> dict[str, Path]:
    """Dotted module name → file, for every ``.py`` file of labsim (a package is its ``__init__``)."""
    out = {}
    for path in sorted(PKG.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _resolve(module: str, node: ast.ImportFrom) -> str:
    """The absolute module a ``from … import`` names (``from ..x import y`` inside ``module``)."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not _is_package(module):
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
    return ".".join(base + ([node.module] if node.module else []))


def _targets(module: str, tree: ast.AST) -> list[tuple[str, int]]:
    """(labsim module imported, line) for every import statement anywhere in the file (module level and inside
    functions): ``import a.b`` → a.b; ``from a import b`` → a.b when b is a module, else a."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, node)
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for name in names:
            while name and name not in MODULES:     # `import labsim.tsp.geometry.X` → the longest module prefix
                name = name.rpartition(".")[0]
            if name and name != module:
                found.append((name, node.lineno))
    return found


def import_graph() -> dict[str, dict[str, int]]:
    """module → {imported labsim module: first line that imports it}."""
    graph: dict[str, dict[str, int]] = {}
    for module, path in MODULES.items():
        edges: dict[str, int] = {}
        for target, line in _targets(module, ast.parse(path.read_text(), filename=str(path))):
            edges.setdefault(target, line)
        graph[module] = edges
    return graph


def find_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan), as a closed path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                components.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    cycles = []
    for comp in components:                      # a shortest closed path through the component's first module
        members, start = set(comp), comp[0]
        prev: dict[str, str] = {start: ""}
        frontier, path = [start], None
        while frontier and path is None:
            nxt = []
            for v in frontier:
                for w in sorted(graph[v]):
                    if w == start:
                        path = [v]
                        break
                    if w in members and w not in prev:
                        prev[w] = v
                        nxt.append(w)
                if path is not None:
                    break
            frontier = nxt
        while path[-1] != start:
            path.append(prev[path[-1]])
        cycles.append([*reversed(path), start])
    return cycles


def _describe(cycle: list[str], graph: dict[str, dict[str, int]]) -> str:
    steps = [f"{a} (line {graph[a][b]}) → {b}" for a, b in zip(cycle, cycle[1:], strict=False)]
    return " ; ".join(steps)


def test_no_module_over_700_lines():
    long = {str(p.relative_to(ROOT)): n for p in MODULES.values()
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines (split them, one job per file): {long}"


def test_no_importlib_or_dunder_import():
    bad = []
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "importlib" for a in node.names):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno} import importlib")
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("importlib"):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno} from {node.module} import …")
            elif isinstance(node, ast.Name) and node.id == "__import__":
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno} __import__")
    assert not bad, "hidden dependencies (use an ordinary import): " + "; ".join(bad)


#: the one module allowed to import inside a function: ``labsim.warmup`` loads the kernel modules on demand so that
#: ``import labsim`` stays light (its reason is written beside each import)
LAZY_IMPORTS_ALLOWED = {"labsim/__init__.py"}


def test_imports_at_module_level():
    """Dependencies are visible at the top of each file (issue 18: function-local imports of hard dependencies)."""
    bad = []
    for path in MODULES.values():
        rel = str(path.relative_to(ROOT))
        if rel in LAZY_IMPORTS_ALLOWED:
            continue
        for fn in ast.walk(ast.parse(path.read_text())):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                bad += [f"{rel}:{n.lineno} {ast.unparse(n)}" for n in ast.walk(fn)
                        if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert not bad, "move these imports to the top of their module: " + "; ".join(bad)


def test_no_import_cycle_between_labsim_files():
    graph = import_graph()
    cycles = find_cycles(graph)
    assert not cycles, "import cycles in labsim:\n" + "\n".join(_describe(c, graph) for c in cycles)


# ---------------------------------------------------------------------------------------- the checks themselves
def test_cycle_finder_finds_a_planted_cycle_and_passes_a_tree():
    g = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}, "d": {"a": 4}}
    (cycle,) = find_cycles(g)
    assert cycle[0] == cycle[-1] and set(cycle) == {"a", "b", "c"}
    assert "a (line 1) → b" in _describe(cycle, g)
    assert find_cycles({"a": {"b": 1}, "b": {}, "c": {"a": 2, "b": 3}}) == []


@pytest.mark.parametrize(("module", "source", "expected"), [
    ("labsim.tsp.geometry", "from .program import X", "labsim.tsp.program"),
    ("labsim.tsp.geometry", "from .. import catalog", "labsim.catalog"),
    ("labsim.tsp", "from .isa import OPCODES", "labsim.tsp.isa"),
    ("labsim.viz.ch02", "from ..schedule import Schedule", "labsim.schedule"),
    ("labsim.gpu", "def f():\n    from . import tco", "labsim.tco"),
    ("labsim.cli", "import labsim.tsp.geometry", "labsim.tsp.geometry"),
])
def test_imports_resolve_to_files(module, source, expected):
    assert [t for t, _ in _targets(module, ast.parse(source))] == [expected]
