"""Notebook hygiene and the solutions → exercises pipeline (tools/make_exercises.py, tools/strip_outputs.py)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import make_exercises  # noqa: E402 — after the sys.path line above
import strip_outputs  # noqa: E402 — after the sys.path line above

SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
ALL_NOTEBOOKS = sorted(p for d in ("notebooks", "solutions", "exercises") for p in (ROOT / d).glob("*.ipynb"))


def _src(cell) -> str:
    s = cell["source"]
    return "".join(s) if isinstance(s, list) else s


def _nb(cells):
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _code(src, **md):
    return {"cell_type": "code", "source": src, "metadata": md, "outputs": [{"output_type": "stream",
            "name": "stdout", "text": "x"}], "execution_count": 3}


# --- the generator on fixture notebooks -------------------------------------------------------------------
def test_stub_assignments_functions_and_indent():
    src = ("x = 1\n### BEGIN SOLUTION\nanswer_bytes = 70e9 * 1\nchips, racks = 3, 4\n"
           "def relu(v):\n    '''Elementwise max(v, 0).'''\n    return max(v, 0)\n### END SOLUTION\n"
           "check(answer_bytes)")
    out = make_exercises.make_exercise(_nb([_code(src)]))["cells"][0]
    text = _src(out)
    assert "70e9" not in text and "return max" not in text
    assert "answer_bytes = ...  # YOUR CODE HERE" in text
    assert "chips = ..." in text and "racks = ..." in text
    assert "def relu(v):" in text and "Elementwise max" in text
    assert text.startswith("x = 1\n") and text.endswith("check(answer_bytes)")
    assert out["outputs"] == [] and out["execution_count"] is None
    # the stub runs without raising and leaves Ellipsis / None
    ns: dict = {"check": lambda a: a}
    exec(text, ns)
    assert ns["answer_bytes"] is Ellipsis and ns["relu"](3) is None


def test_indented_block_keeps_indent():
    src = "for i in range(2):\n    ### BEGIN SOLUTION\n    total = i\n    ### END SOLUTION\n"
    text = _src(make_exercises.make_exercise(_nb([_code(src)]))["cells"][0])
    assert "    total = ...  # YOUR CODE HERE" in text
    compile(text, "<stub>", "exec")


def test_markdown_answers_and_solution_only_cells():
    md = {"cell_type": "markdown", "metadata": {}, "source": "Why?\n### BEGIN SOLUTION\nBecause 42.\n### END SOLUTION"}
    only = _code("print('secret')", tags=["solution-only"])
    cells = make_exercises.make_exercise(_nb([md, only]))["cells"]
    assert len(cells) == 1 and "42" not in _src(cells[0]) and "*Write your answer here.*" in _src(cells[0])


@pytest.mark.parametrize("src", ["### BEGIN SOLUTION\nx = 1\n", "x = 1\n### END SOLUTION",
                                 "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION"])
def test_broken_markers_are_errors(src):
    with pytest.raises(make_exercises.MarkerError):
        make_exercises.make_exercise(_nb([_code(src)]))


def test_strip_keeps_only_checked_cells():
    keep = _code("print(1)", tags=["NBVAL_CHECK_OUTPUT"])
    drop = _code("print(2)")
    nb = strip_outputs.strip(_nb([keep, drop]))
    assert nb["cells"][0]["outputs"] and nb["cells"][0]["metadata"]["keep_output"] is True
    assert nb["cells"][1]["outputs"] == [] and nb["cells"][1]["execution_count"] is None
    assert nb["cells"][0]["execution_count"] == 1  # nbval rejects outputs without a count
    assert [c["id"] for c in nb["cells"]] == ["0", "1"]  # nbstripout's renumbering


# --- the real course -------------------------------------------------------------------------------------
def test_every_chapter_has_notebook_solution_and_exercise():
    chapters = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert "00_start_here.ipynb" in chapters
    for name in chapters:
        if name.startswith("00"):
            continue
        assert (ROOT / "solutions" / name).exists(), f"solutions/{name} missing"
        assert (ROOT / "exercises" / name).exists(), f"exercises/{name} missing"


def test_exercises_in_sync_with_solutions():
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "make_exercises.py"), "--check"],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("sol", SOLUTIONS, ids=lambda p: p.name)
def test_no_solution_text_leaks(sol):
    nb = json.loads(sol.read_text())
    ex = json.loads((ROOT / "exercises" / sol.name).read_text())
    ex_text = "\n".join(_src(c) for c in ex["cells"])
    blocks = 0
    for cell in nb["cells"]:
        for block in re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", _src(cell), flags=re.S):
            blocks += 1
            for line in block.splitlines():
                line = line.strip()
                # distinctive lines only (a bare `return x` or `)` may legitimately appear elsewhere)
                if len(line) > 24 and not line.startswith("#") and "= ..." not in line:
                    assert line not in ex_text, f"{sol.name}: solution line leaks into exercises: {line!r}"
    assert blocks >= 4, f"{sol.name}: a chapter needs at least 4 exercises, found {blocks} solution blocks"


@pytest.mark.parametrize("nb", ALL_NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_outputs_stripped(nb):
    data = json.loads(nb.read_text())
    for i, cell in enumerate(data["cells"]):
        if cell["cell_type"] != "code":
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        if "NBVAL_CHECK_OUTPUT" not in tags:
            assert cell.get("execution_count") is None, f"{nb.name} cell {i}: execution_count stored"
            assert not cell.get("outputs"), f"{nb.name} cell {i}: outputs stored (run `make strip`)"
        else:
            assert cell["metadata"].get("keep_output") is True, f"{nb.name} cell {i}: tag without keep_output"
    # byte for byte what the normalizer writes (nbstripout + nbformat's layout), so a save is a no-op diff
    assert strip_outputs.dumps(strip_outputs.strip(data)) == nb.read_text(), f"{nb.name}: run `make strip`"


@pytest.mark.parametrize("nb", ALL_NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_stock_nbstripout_changes_only_checked_cell_counts(nb):
    """Stock nbstripout (the pre-commit hook's tool, default options) leaves every notebook alone except the
    execution count of NBVAL_CHECK_OUTPUT cells, which nbval needs (an "unrun" reference cell with outputs
    is an error)."""
    data = json.loads(nb.read_text())
    stock = strip_outputs.nbstripout_default(data)
    ours = strip_outputs.strip(data)
    kept = [i for i, c in enumerate(ours.cells) if "NBVAL_CHECK_OUTPUT" in c.metadata.get("tags", [])]
    for i in kept:
        assert ours.cells[i].outputs, f"{nb.name} cell {i}: a checked cell without its reference output"
        assert ours.cells[i].execution_count == 1 and stock.cells[i].execution_count is None
        stock.cells[i].execution_count = 1
        for out in stock.cells[i].outputs:
            if "execution_count" in out:
                out["execution_count"] = 1
    assert stock == ours


@pytest.mark.parametrize("nb", ALL_NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebooks_warm_up_and_import_from_labsim(nb):
    data = json.loads(nb.read_text())
    code = [_src(c) for c in data["cells"] if c["cell_type"] == "code"]
    assert code and "labsim.warmup()" in code[0], f"{nb.name}: first code cell must call labsim.warmup()"
    for i, src in enumerate(code):
        n_lines = len([ln for ln in src.splitlines() if ln.strip() and not ln.strip().startswith("#")])
        assert n_lines <= 40, f"{nb.name} code cell {i} has {n_lines} lines: move logic into labsim"


# --- never overwrite somebody's work in exercises/ (issue 15) -----------------------------------------------
def _gen(tmp_path, *extra):
    return subprocess.run([sys.executable, str(ROOT / "tools" / "make_exercises.py"), "--out", str(tmp_path),
                           str(SOLUTIONS[0]), *extra], capture_output=True, text=True, check=False)


def _edit_solution(tmp_path) -> Path:
    """A copy of the first solution whose title changed (so its generated exercise changes too)."""
    nb = json.loads(SOLUTIONS[0].read_text())
    nb["cells"][0]["source"] = _src(nb["cells"][0]) + "\n\nA new line from the author."
    sol = tmp_path / "sol" / SOLUTIONS[0].name
    sol.parent.mkdir()
    sol.write_text(json.dumps(nb))
    return sol


def test_regenerating_a_pristine_exercise_replaces_it(tmp_path):
    out = tmp_path / "out"
    assert _gen(out).returncode == 0
    sol = _edit_solution(tmp_path)
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "make_exercises.py"), "--out", str(out), str(sol)],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr  # generated from the previous solution (its recorded hash): replaced
    assert "A new line from the author." in (out / sol.name).read_text()


@pytest.mark.parametrize("damage", ["edit", "outputs", "stamp-only"])
def test_edited_or_run_exercise_is_not_overwritten(tmp_path, damage):
    out = tmp_path / "out"
    assert _gen(out).returncode == 0
    target = out / SOLUTIONS[0].name
    nb = json.loads(target.read_text())
    code = next(c for c in nb["cells"] if c["cell_type"] == "code" and "YOUR CODE HERE" in _src(c))
    if damage == "edit":
        code["source"] = _src(code).replace("...  # YOUR CODE HERE", "42  # my answer", 1)
    elif damage == "outputs":
        code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "✓ Correct."}]
        code["execution_count"] = 7
    else:  # the learner's edit plus a forged stamp of the edited content still differs from any generation
        code["source"] = _src(code).replace("...  # YOUR CODE HERE", "42  # my answer", 1)
        nb["metadata"]["lpu_lab"] = {"generated_sha256": "0" * 64}
    mine = json.dumps(nb)
    target.write_text(mine)
    sol = _edit_solution(tmp_path)
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "make_exercises.py"), "--out", str(out), str(sol)],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 1 and "refusing to overwrite" in r.stderr and "--force" in r.stderr
    assert target.read_text() == mine, "the edited exercise was overwritten"
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "make_exercises.py"), "--out", str(out), str(sol),
                        "--force"], capture_output=True, text=True, check=False)
    assert r.returncode == 0 and "A new line from the author." in target.read_text()


def test_legacy_exercise_without_stamp_equal_to_current_generation_is_replaced(tmp_path):
    """Exercises written before the stamp existed are replaced when they equal what the current solutions give."""
    out = tmp_path / "out"
    assert _gen(out).returncode == 0
    target = out / SOLUTIONS[0].name
    nb = json.loads(target.read_text())
    nb["metadata"].pop("lpu_lab")
    target.write_text(json.dumps(nb, indent=2))
    r = _gen(out)
    assert r.returncode == 0 and "lpu_lab" in target.read_text()


def test_generator_never_writes_through_a_link(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    (out / SOLUTIONS[0].name).symlink_to(victim)
    r = _gen(out, "--force")
    assert r.returncode == 1 and "not a regular file" in r.stderr and victim.read_text() == "keep"
