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
   the notebook's title cell gets an "Exercises" banner instead of "Solutions"; the result is normalized by
   ``tools/strip_outputs.py`` (nbstripout: cell ids renumbered ``"0", "1", …``; nbformat's file layout).
4. The notebook metadata records ``lpu_lab.generated_sha256``, a hash of the generated content, so a later run
   can tell a pristine generated file from one somebody edited or ran.
Nothing else changes, so a diff between solutions/ and exercises/ is exactly the removed answers.

The same transformation makes the nbgrader student versions (``hub/nbgrader_course.py`` plugs ``clear_cell`` into
``nbgrader generate_assignment``; tests/test_classroom_nbgrader.py checks that both give the same exercises).

Learners never work in exercises/ (they work in their own copy, ``learner/``; see labsim/workspace.py), but a file
there may still hold somebody's work: an existing exercise is only replaced if it is exactly what this script
generated (from the current solutions or, by its recorded hash, from earlier ones) and carries no outputs.
Otherwise the script refuses, names the file and exits 1, unless ``--force``.

Usage: ``python tools/make_exercises.py [--check] [--force] [--out DIR] [SOLUTION.ipynb ...]``
``--check`` writes nothing and exits 1 if exercises/ is out of date.
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import json
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import strip_outputs  # noqa: E402 — after the sys.path line above

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB_MD = "*Write your answer here.*"
SOLUTION_ONLY = "solution-only"
STAMP_KEY = "lpu_lab"


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


def clear_cell(cell: dict, index: int) -> dict | None:
    """The student version of one solution cell (a new dict), or None if the cell is dropped (``solution-only``).

    This is the one transformation behind both exercises/ and nbgrader's student versions."""
    cell = json.loads(json.dumps(cell))  # deep copy
    if SOLUTION_ONLY in cell.get("metadata", {}).get("tags", []):
        return None
    try:
        new, _ = _replace_blocks(_source(cell), code=cell["cell_type"] == "code")
    except MarkerError as exc:
        raise MarkerError(f"cell {index}: {exc}") from None
    if index == 0 and cell["cell_type"] == "markdown":
        new = new.replace("— Solutions", "— Exercises").replace("(solutions)", "(exercises)")
    cell["source"] = new
    if cell["cell_type"] == "code":
        cell["outputs"] = []
        cell["execution_count"] = None
    cell.get("metadata", {}).pop("execution", None)
    return cell


def make_exercise(nb: dict) -> dict:
    nb = json.loads(json.dumps(nb))  # deep copy
    nb["cells"] = [c for i, cell in enumerate(nb["cells"]) if (c := clear_cell(cell, i)) is not None]
    return nb


def content_sha256(nb: dict) -> str:
    """Hash of a notebook's content, independent of file layout and of the recorded stamp itself."""
    nb = json.loads(json.dumps(nb))
    nb.get("metadata", {}).pop(STAMP_KEY, None)
    for cell in nb.get("cells", []):
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
        for out in cell.get("outputs", []):
            if isinstance(out.get("text"), list):
                out["text"] = "".join(out["text"])
    return hashlib.sha256(json.dumps(nb, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def dumps(nb: dict) -> str:
    """The exercise notebook stripped and laid out like every notebook here (tools/strip_outputs.py), with the
    hash of its content recorded in its metadata."""
    nb = strip_outputs.strip(nb)
    nb.metadata[STAMP_KEY] = {"generated_sha256": content_sha256(nb)}
    return strip_outputs.dumps(nb)


def _has_outputs(nb: dict) -> bool:
    return any(c.get("cell_type") == "code" and (c.get("outputs") or c.get("execution_count") is not None)
               and strip_outputs.KEEP_TAG not in c.get("metadata", {}).get("tags", []) for c in nb.get("cells", []))


def edited(path: Path, new_text: str) -> str | None:
    """Why the existing exercise ``path`` must not be replaced by ``new_text`` (None if it is safe to replace):
    it carries outputs, or it differs from what this script generated (now, or by its recorded hash, earlier)."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(nb, dict) and isinstance(nb.get("cells"), list)
    except (OSError, UnicodeDecodeError, ValueError, AssertionError):
        return "it is not a notebook this script wrote"
    if _has_outputs(nb):
        return "it carries outputs (somebody ran it)"
    body = content_sha256(nb)
    recorded = nb.get("metadata", {}).get(STAMP_KEY, {})
    if isinstance(recorded, dict) and body == recorded.get("generated_sha256"):
        return None
    if body == content_sha256(json.loads(new_text)):
        return None
    return "it was edited after it was generated"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("solutions", nargs="*", type=Path)
    ap.add_argument("--out", type=Path, default=ROOT / "exercises")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--force", action="store_true", help="replace exercises even if they were edited or run")
    args = ap.parse_args(argv)
    sources = args.solutions or sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
    stale, refused = [], []
    for sol in sources:
        nb = json.loads(sol.read_text(encoding="utf-8"))
        text = dumps(make_exercise(nb))
        dest = args.out / sol.name
        if args.check:
            if not dest.exists() or dest.read_text(encoding="utf-8") != text:
                stale.append(dest)
            continue
        shown = dest.relative_to(ROOT) if dest.is_relative_to(ROOT) else dest
        if dest.is_symlink() or (dest.exists() and not dest.is_file()):
            refused.append(dest)
            print(f"refusing to replace {shown}: it is not a regular file", file=sys.stderr)
            continue
        if dest.exists():
            if dest.read_text(encoding="utf-8", errors="replace") == text:
                continue
            why = None if args.force else edited(dest, text)
            if why:
                refused.append(dest)
                print(f"refusing to overwrite {shown}: {why}. Learners work in their own copy (learner/, see "
                      "labsim.workspace); keep this file elsewhere, or run with --force to replace it.",
                      file=sys.stderr)
                continue
        args.out.mkdir(parents=True, exist_ok=True)
        dest.write_text(text, encoding="utf-8")
        print(f"wrote {shown}")
    if args.check and stale:
        print("out of date (run `make exercises`): " + ", ".join(str(s) for s in stale))
        return 1
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
