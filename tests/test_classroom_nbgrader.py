"""nbgrader on the class install, the full loop on one machine with a local exchange:
generate → release → learners fetch and submit (as their own system users) → collect → autograde → feedback →
learners fetch feedback; grades land in nbgrader's gradebook. Also: nbgrader's student version of every chapter is
exactly exercises/ (one stub mechanism: tools/make_exercises.py's clear_cell)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from classroom_fixtures import ARTIFACTS, ROOT, as_user, class_install, classroom, hubtool  # noqa: F401 — pytest fixtures

pytestmark = pytest.mark.classroom

SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))


def _src(cell) -> str:
    s = cell["source"]
    return "".join(s) if isinstance(s, list) else s


@pytest.fixture(scope="module")
def course(class_install):  # noqa: F811 — the fixture imported above
    """A fresh lecturer's course (grader/) and exchange in the class install; two learners with homes."""
    for sub in ("grader", "exchange"):
        shutil.rmtree(class_install / sub, ignore_errors=True)
        (class_install / sub).mkdir(mode=0o700 if sub == "grader" else 0o755)
    points = hubtool.assignments(class_install, ROOT / "solutions")
    homes = ARTIFACTS / "nbgrader-homes"
    homes.mkdir(exist_ok=True)
    os.chmod(homes, 0o755)
    import secrets

    learners = [f"ida{secrets.token_hex(2)}", f"joe{secrets.token_hex(2)}"]
    for name in learners:
        classroom.ensure_system_user(name, homes)
    try:
        yield class_install, points, learners
    finally:
        for name in learners:
            classroom.remove_system_user(name)


def _nbgrader(install, *args):
    r = hubtool.nbgrader(install, list(args), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"nbgrader {' '.join(args)}:\n{r.stdout}\n{r.stderr}"
    return r


def _student(install, name, *args, cwd=None):
    home = Path(__import__("pwd").getpwnam(f"lpu-{name}").pw_dir)
    r = as_user(f"lpu-{name}", [str(install / "venv" / "bin" / "nbgrader"), *args], home=home,
                env={"PATH": f"{install / 'venv' / 'bin'}:/usr/bin:/bin", "JUPYTERHUB_USER": name},
                cwd=str(cwd or home), timeout=300)
    assert r.returncode == 0, f"{name}: nbgrader {' '.join(args)}:\n{r.stdout}\n{r.stderr}"
    return home


def test_source_notebooks_have_graded_cells_for_every_checker(course):
    install, points, _ = course
    assert set(points) == {f"ch{p.name[:2]}" for p in SOLUTIONS}
    for sol in SOLUTIONS:
        nb = json.loads(sol.read_text())
        n_checks = sum(1 for c in nb["cells"] if c["cell_type"] == "code" and "BEGIN SOLUTION" not in _src(c)
                       for ln in _src(c).splitlines() if re.match(r"ch\d\d\.\w+\(", ln))
        auto = sum(v for k, v in points[f"ch{sol.name[:2]}"].items() if k.startswith("check-"))
        assert auto == n_checks and auto >= 4, (sol.name, auto, n_checks)


def test_nbgrader_student_version_equals_exercises(course):
    """``nbgrader generate_assignment`` (with LabClearSolutions) gives exactly exercises/: the same cells, the same
    sources; hidden tests gone; only nbgrader's own metadata added."""
    install, _, _ = course
    # every chapter in one process (nbgrader's Python API; the same pipeline as `nbgrader generate_assignment`)
    script = ("from nbgrader.apps import NbGrader, NbGraderAPI\n"
              "app = NbGrader(); app.load_config_file()\n"
              "api = NbGraderAPI(config=app.config)\n"
              f"for a in {[f'ch{p.name[:2]}' for p in SOLUTIONS]!r}:\n"
              "    r = api.generate_assignment(a, force=True)\n"
              "    assert r['success'], r['log'] + r.get('error', '')\n")
    r = subprocess.run([str(install / "venv" / "bin" / "python"), "-c", script], cwd=install / "grader",
                       capture_output=True, text=True, timeout=600,
                       env={**os.environ, "PATH": f"{install / 'venv' / 'bin'}:{os.environ['PATH']}"}, check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    for sol in SOLUTIONS:
        assignment = f"ch{sol.name[:2]}"
        release = json.loads((install / "grader" / "release" / assignment / sol.name).read_text())
        exercise = json.loads((ROOT / "exercises" / sol.name).read_text())
        assert [c["cell_type"] for c in release["cells"]] == [c["cell_type"] for c in exercise["cells"]]
        for i, (r, e) in enumerate(zip(release["cells"], exercise["cells"], strict=False)):
            assert _src(r) == _src(e), f"{sol.name} cell {i} differs between nbgrader's release and exercises/"
        text = json.dumps(release)
        assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text


def test_full_loop_release_fetch_submit_autograde_feedback(course):
    install, points, (good, idle) = course
    sol = next(p for p in SOLUTIONS if p.name.startswith("03_"))
    if not (install / "grader" / "release" / "ch03" / sol.name).exists():
        _nbgrader(install, "generate_assignment", "ch03", "--force")
    _nbgrader(install, "release_assignment", "ch03", "--force")

    # learner 1 answers exercise 1 right and exercise 2 wrong; learner 2 submits the untouched notebook
    home = _student(install, good, "fetch_assignment", "ch03")
    mine = home / "learner" / "ch03" / sol.name
    nb = json.loads(mine.read_text())
    answers = {"answer_weight_bytes = ...": 'qwen = catalog.model("qwen3-32b")\n'
                                           'answer_weight_bytes = qwen.params_total() * bytes_per_element("fp8")\n',
               "answer_chips_kv = ...": "answer_chips_kv = 1\n"}
    for cell in nb["cells"]:
        for stub, answer in answers.items():
            if stub in _src(cell):
                cell["source"] = answer
    r = as_user(f"lpu-{good}", [str(install / "venv" / "bin" / "python"), "-c",
                                "import sys; open(sys.argv[1], 'w').write(sys.argv[2])", str(mine), json.dumps(nb)],
                home=home)
    assert r.returncode == 0, r.stderr
    _student(install, good, "submit", "ch03")
    _student(install, idle, "fetch_assignment", "ch03")
    _student(install, idle, "submit", "ch03")
    r = as_user(f"lpu-{idle}", ["ls", str(install / "exchange" / "lpu-lab" / "inbound")], home=None)
    assert r.returncode != 0, "a learner can list the others' submissions"

    _nbgrader(install, "collect", "ch03", "--update")
    _nbgrader(install, "autograde", "ch03", "--force")
    _nbgrader(install, "generate_feedback", "ch03", "--force")
    _nbgrader(install, "release_feedback", "ch03")
    home = _student(install, good, "fetch_feedback", "ch03")
    feedback = sorted((home / "learner" / "ch03" / "feedback").rglob("*.html"))
    assert feedback and os.stat(feedback[0]).st_uid == os.stat(home).st_uid
    html = feedback[0].read_text()
    assert "✓ Correct." in html and "not accepted" in html

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{install / 'grader' / 'gradebook.db'}") as gb:
        nb_name = sol.stem
        scores = {s: {g.name: g.score for g in gb.find_submission_notebook(nb_name, "ch03", f"lpu-{s}").grades}
                  for s in (good, idle)}
        assert scores[good]["check-weight_bytes"] == 1 and scores[good]["check-chips_with_kv"] == 0
        assert all(v == 0 for k, v in scores[idle].items() if k.startswith("check-"))
        assert gb.find_submission("ch03", f"lpu-{good}").max_score == sum(points["ch03"].values())
        assert gb.find_submission("ch03", f"lpu-{good}").score == 1
