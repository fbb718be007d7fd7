"""nbgrader for LPU Lab: graded assignments made from the authored solutions, with no per-chapter data.

``build_source(solution)`` turns any ``solutions/NN_*.ipynb`` into nbgrader's *source* version, from its structure
alone (so a new chapter needs nothing extra):

* a code cell with ``### BEGIN SOLUTION`` … ``### END SOLUTION`` → an *autograded answer* cell;
* a markdown cell with those markers → a *manually graded answer* (1 point; the lecturer grades it in nbgrader);
* a code cell that only calls checkers (``chNN.some_checker(answer)`` where ``chNN`` is imported from
  ``labsim.check``) → an *autograder test* cell worth one point per checker call. The visible call stays (it
  prints ✓, a hint or "not attempted yet" — hints never contain the expected value); the grading assertion is a
  **hidden test** (``### BEGIN HIDDEN TESTS``) appended to the cell, which nbgrader removes from the student
  version and restores at autograding, so a learner can neither see nor edit what is graded;
* ``solution-only`` cells are dropped, as in exercises/.

The student version is then made by ``nbgrader generate_assignment`` with ``LabClearSolutions`` in place of
nbgrader's ``ClearSolutions``: it calls ``tools/make_exercises.py``'s ``clear_cell`` — the very transformation that
writes exercises/ — so nbgrader's release and exercises/ hold the same exercises (tests/test_classroom_nbgrader.py).
``write_course(grader_dir, …)`` lays out the instructor's course folder: ``source/chNN/NN_*.ipynb`` for every
chapter and an ``nbgrader_config.py`` (course ``lpu-lab``, the local exchange, this preprocessor).
"""
from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
COURSE = HERE.parent
sys.path.insert(0, str(COURSE / "tools"))
import make_exercises  # noqa: E402 — after the sys.path line above
from nbgrader.converters import GenerateAssignment  # noqa: E402 — after the sys.path line above
from nbgrader.preprocessors import ClearSolutions  # noqa: E402 — after the sys.path line above

COURSE_ID = "lpu-lab"
SCHEMA = 3
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def _src(cell) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def assignment_name(notebook: Path) -> str:
    """``solutions/03_sram_capacity_tax.ipynb`` → ``ch03``."""
    m = re.match(r"^(\d\d)_", notebook.name)
    if not m:
        raise ValueError(f"{notebook.name}: chapter notebooks are named NN_slug.ipynb")
    return f"ch{m.group(1)}"


def checker_aliases(nb: dict) -> set[str]:
    """Names bound to checker modules (``from labsim.check import ch03`` → {"ch03"})."""
    names: set[str] = set()
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        try:
            tree = ast.parse(_clean(_src(cell)))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "labsim.check":
                names |= {a.asname or a.name for a in node.names}
            elif isinstance(node, ast.Import):
                names |= {a.asname for a in node.names if a.name.startswith("labsim.check.") and a.asname}
    return names


def _clean(src: str) -> str:
    """Source without IPython magics (``%matplotlib inline``), so it parses as Python."""
    return "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in src.split("\n"))


def checker_calls(src: str, aliases: set[str]) -> list[str] | None:
    """The checker calls of a cell that does nothing else (their source text), or None."""
    try:
        tree = ast.parse(src)
    except SyntaxError:
        return None
    calls = []
    for stmt in tree.body:
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                and isinstance(call.func.value, ast.Name) and call.func.value.id in aliases):
            return None
        calls.append(ast.unparse(call))
    return calls or None


def hidden_tests(calls: list[str]) -> str:
    """The hidden grading block: every checker call must return True (its printed line is swallowed)."""
    lines = [HIDDEN_BEGIN, "import contextlib as _cl, io as _io", "with _cl.redirect_stdout(_io.StringIO()):",
             "    _lpu_results = ["]
    lines += [f"        ({c}, {c.split('(')[0]!r})," for c in calls]
    lines += ["    ]", "for _ok, _name in _lpu_results:",
              "    assert _ok, f\"{_name}: not accepted (run the check above for a hint)\"", HIDDEN_END]
    return "\n".join(lines)


def _meta(kind: str, grade_id: str, points: int = 0) -> dict:
    meta = {"grade": kind in ("tests", "written"), "solution": kind in ("answer", "written"),
            "locked": kind == "tests", "grade_id": grade_id, "schema_version": SCHEMA, "task": False}
    if meta["grade"]:
        meta["points"] = points
    return meta


def build_source(nb: dict) -> tuple[dict, dict[str, int]]:
    """nbgrader's source version of a solution notebook and its points per graded cell (grade_id → points)."""
    nb = json.loads(json.dumps(nb))
    aliases = checker_aliases(nb)
    used: dict[str, int] = {}
    points: dict[str, int] = {}

    def uid(stem: str) -> str:
        stem = re.sub(r"[^\w-]+", "-", stem).strip("-") or "cell"
        used[stem] = used.get(stem, 0) + 1
        return stem if used[stem] == 1 else f"{stem}-{used[stem]}"

    for cell in nb["cells"]:
        src = _src(cell)
        md = cell.setdefault("metadata", {})
        if make_exercises.SOLUTION_ONLY in md.get("tags", []):
            continue
        has_solution = make_exercises.BEGIN in src
        if cell["cell_type"] == "markdown" and has_solution:
            gid = uid("written")
            md["nbgrader"] = _meta("written", gid, 1)
            points[gid] = 1
        elif cell["cell_type"] == "code" and has_solution:
            names = [t for ln in src.split("\n") if (t := re.match(r"\s*(answer_\w+)\s*=", ln))]
            md["nbgrader"] = _meta("answer", uid("answer-" + (names[0].group(1) if names else "cell")))
        elif cell["cell_type"] == "code" and (calls := checker_calls(src, aliases)):
            gid = uid("check-" + calls[0].split("(")[0].split(".")[-1])
            md["nbgrader"] = _meta("tests", gid, len(calls))
            points[gid] = len(calls)
            cell["source"] = src.rstrip("\n") + "\n" + hidden_tests(calls)
    return nb, points


class LabClearSolutions(ClearSolutions):
    """nbgrader's ClearSolutions step done by tools/make_exercises.py (LPU Lab's stubs: ``answer = ...``, so the
    checkers say "not attempted yet"; solution-only cells dropped; title "— Exercises")."""

    def preprocess(self, nb, resources):
        import nbformat

        resources["language"] = nb.metadata.get("kernelspec", {}).get("language", "python")
        cells = []
        for i, cell in enumerate(nb.cells):
            new = make_exercises.clear_cell(dict(cell), i)
            if new is not None:
                cells.append(nbformat.from_dict(new))
        nb.cells = cells
        nb.metadata.pop("celltoolbar", None)
        return nb, resources


def generate_preprocessors() -> list:
    """nbgrader's own generate_assignment pipeline with ClearSolutions replaced by LabClearSolutions."""
    default = GenerateAssignment.class_traits()["preprocessors"].default()
    return [LabClearSolutions if p is ClearSolutions else p for p in default]


def grader_config(grader_dir: Path, exchange_dir: Path, course_dir: Path = COURSE) -> str:
    return f'''# written by hub/nbgrader_course.py (tools/hub.py assignments): the lecturer's nbgrader course
import sys
sys.path[:0] = [{str(course_dir / "hub")!r}, {str(course_dir / "tools")!r}]
from nbgrader_course import COURSE_ID, generate_preprocessors

c = get_config()  # noqa: F821 — nbgrader defines it when it loads this file
c.CourseDirectory.course_id = COURSE_ID
c.CourseDirectory.root = {str(grader_dir)!r}
c.Exchange.root = {str(exchange_dir)!r}
c.GenerateAssignment.preprocessors = generate_preprocessors()
c.Execute.timeout = 300
'''


def write_course(grader_dir: Path, exchange_dir: Path, solutions: list[Path], course_dir: Path = COURSE
                 ) -> dict[str, dict[str, int]]:
    """Write ``source/chNN/NN_*.ipynb`` for every solution and the course's nbgrader_config.py (which loads this
    module from ``course_dir``, the class install's read-only course). Returns assignment → {grade_id: points}."""
    grader_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    (grader_dir / "nbgrader_config.py").write_text(grader_config(grader_dir, exchange_dir, course_dir))
    out = {}
    for sol in solutions:
        nb, points = build_source(json.loads(sol.read_text(encoding="utf-8")))
        folder = grader_dir / "source" / assignment_name(sol)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / sol.name).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        out[assignment_name(sol)] = points
    return out
