#!/usr/bin/env python3
"""Generate ``exercises/NN_*.ipynb`` from the authored ``solutions/NN_*.ipynb``.

Transformations (the only ones; tests/test_exercises.py checks each):
1. In a code cell, every block between a line ``### BEGIN SOLUTION`` and a line ``### END SOLUTION`` is
   replaced by stubs that do not raise: ``name = ...`` for each top-level assignment target in the block
   (``a, b = …`` gives ``a = ...`` and ``b = ...``), and for each top-level ``def`` its signature with the
   body ``...  # YOUR CODE HERE`` (so it returns None, which checkers report as "not attempted yet").
   A block with neither gets ``# YOUR CODE HERE``. The indentation of the BEGIN marker is kept.
2. In a markdown cell, the same markers around prose become ``*Write your answer here.*``.
3. All outputs and execution counts are cleared; cells tagged ``solution-only`` are dropped;
   the notebook's title cell gets an "Exercises" banner instead of "Solutions"; the result is normalised by
   ``tools/strip_outputs.py`` (nbstripout: cell ids renumbered ``"0", "1", …``; nbformat's file layout).
Nothing else changes, so a diff between solutions/ and exercises/ is exactly the removed answers.

Usage: ``python tools/make_exercises.py [--check] [--out DIR] [SOLUTION.ipynb ...]``
``--check`` writes nothing and exits 1 if exercises/ is out of date.
"""
from __future__ import annotations

import argparse
import ast
import json
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import strip_outputs  # noqa: E402

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB_MD = "*Write your answer here.*"


class MarkerError(ValueError):
    pass


def _targets(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, (ast.Tuple, ast.List)):
        return [n for elt in node.elts for n in _targets(elt)]
    return []


def stub_for(block: str, indent: str) -> list[str]:
    """Stub lines (without indentation) for the solution code in ``block``."""
    try:
        tree = ast.parse(textwrap.dedent(block))
    except SyntaxError as exc:
        raise MarkerError(f"solution block does not parse: {exc}") from None
    lines: list[str] = []
    seen: set[str] = set()
    for node in tree.body:
        names: list[str] = []
        if isinstance(node, ast.Assign):
            for t in node.targets:
                names += _targets(t)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            names += _targets(node.target)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = ast.unparse(node.args)
            ret = f" -> {ast.unparse(node.returns)}" if node.returns else ""
            doc = ast.get_docstring(node)
            lines.append(f"def {node.name}({args}){ret}:")
            if doc:
                lines.append(f'    """{doc}"""')
            lines.append("    ...  # YOUR CODE HERE")
            continue
        for n in names:
            if n not in seen:
                seen.add(n)
                lines.append(f"{n} = ...  # YOUR CODE HERE")
    return [indent + ln for ln in (lines or ["# YOUR CODE HERE"])]


def _replace_blocks(source: str, code: bool) -> tuple[str, int]:
    out: list[str] = []
    block: list[str] | None = None
    indent = ""
    n = 0
    for line in source.split("\n"):
        stripped = line.strip()
        if stripped == BEGIN:
            if block is not None:
                raise MarkerError("nested ### BEGIN SOLUTION")
            block, indent = [], line[: len(line) - len(line.lstrip())]
            continue
        if stripped == END:
            if block is None:
                raise MarkerError("### END SOLUTION without BEGIN")
            out += stub_for("\n".join(block), indent) if code else [STUB_MD]
            block = None
            n += 1
            continue
        if block is not None:
            block.append(line)
        else:
            out.append(line)
    if block is not None:
        raise MarkerError("### BEGIN SOLUTION without END")
    return "\n".join(out), n


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def make_exercise(nb: dict) -> dict:
    nb = json.loads(json.dumps(nb))  # deep copy
    cells = []
    for i, cell in enumerate(nb["cells"]):
        tags = cell.get("metadata", {}).get("tags", [])
        if "solution-only" in tags:
            continue
        src = _source(cell)
        try:
            new, _ = _replace_blocks(src, code=cell["cell_type"] == "code")
        except MarkerError as exc:
            raise MarkerError(f"cell {i}: {exc}") from None
        if i == 0 and cell["cell_type"] == "markdown":
            new = new.replace("— Solutions", "— Exercises").replace("(solutions)", "(exercises)")
        cell["source"] = new
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell.get("metadata", {}).pop("execution", None)
        cells.append(cell)
    nb["cells"] = cells
    return nb


def dumps(nb: dict) -> str:
    """The exercise notebook stripped and laid out like every notebook here (tools/strip_outputs.py)."""
    return strip_outputs.dumps(strip_outputs.strip(nb))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("solutions", nargs="*", type=Path)
    ap.add_argument("--out", type=Path, default=ROOT / "exercises")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    sources = args.solutions or sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
    stale = []
    for sol in sources:
        nb = json.loads(sol.read_text(encoding="utf-8"))
        text = dumps(make_exercise(nb))
        dest = args.out / sol.name
        if args.check:
            if not dest.exists() or dest.read_text(encoding="utf-8") != text:
                stale.append(dest)
            continue
        args.out.mkdir(parents=True, exist_ok=True)
        dest.write_text(text, encoding="utf-8")
        print(f"wrote {dest.relative_to(ROOT) if dest.is_relative_to(ROOT) else dest}")
    if args.check and stale:
        print("out of date (run `make exercises`): " + ", ".join(str(s) for s in stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
