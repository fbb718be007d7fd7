"""copy_exercises (labsim/workspace.py): a learner's own copy, never overwritten, every bad argument a LabsimError."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from labsim import workspace
from labsim.errors import LabsimError
from labsim.workspace import copy_exercises

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def src(tmp_path):
    s = tmp_path / "ex"
    s.mkdir()
    for n in ("01_a", "02_b", "03_c"):
        (s / f"{n}.ipynb").write_text(f"new {n}")
    (s / "README.md").write_text("not a notebook")
    return s


def test_copy_never_overwrites(src, tmp_path, capsys):
    dest = tmp_path / "mine"
    dest.mkdir()
    (dest / "01_a.ipynb").write_text("my work")
    res = copy_exercises(dest, source=src)
    assert (dest / "01_a.ipynb").read_text() == "my work"
    assert (dest / "02_b.ipynb").read_text() == "new 02_b"
    assert [p.name for p in res["copied"]] == ["02_b.ipynb", "03_c.ipynb"]
    assert [p.name for p in res["skipped"]] == ["01_a.ipynb"]
    assert not (dest / "README.md").exists()
    assert "not overwritten" in capsys.readouterr().out
    again = copy_exercises(dest, source=src)
    assert again["copied"] == [] and len(again["skipped"]) == 3


def test_copy_selected_chapters(src, tmp_path):
    res = copy_exercises(tmp_path / "out", chapters=[3], source=src)
    assert [p.name for p in res["copied"]] == ["03_c.ipynb"]
    res = copy_exercises(tmp_path / "out2", chapters=2, source=src)  # one chapter as a plain int
    assert [p.name for p in res["copied"]] == ["02_b.ipynb"]


def test_dangling_symlink_is_never_followed(src, tmp_path):
    """A dangling link at the destination used to make the copy land outside it."""
    dest = tmp_path / "mine"
    dest.mkdir()
    outside = tmp_path / "outside.ipynb"
    (dest / "01_a.ipynb").symlink_to(outside)
    res = copy_exercises(dest, source=src)
    assert not outside.exists(), "wrote through a link, outside the destination"
    assert [p.name for p in res["skipped"]] == ["01_a.ipynb"]
    link_dest = tmp_path / "gone"
    link_dest.symlink_to(tmp_path / "nowhere")
    with pytest.raises(LabsimError, match="does not exist"):
        copy_exercises(link_dest, source=src)
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("bad, match", [
    ("", "empty"), ("   ", "empty"), (5, "folder path"), (3.2, "folder path"), (["x"], "folder path"),
    ("~nobody/x", "home of user 'nobody'"), ("~no-such-user-xyz/x", "home of user"), ("a\x00b", "NUL"),
])
def test_bad_dest(src, bad, match, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(LabsimError, match=match):
        copy_exercises(bad, source=src)
    assert not Path("/nonexistent/x").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ex"], "something was written into the cwd"


@pytest.mark.parametrize("bad, match", [
    ([1.7], "must be an integer"), ([99], "no exercise notebook for chapter 99"), ("x", "chapter numbers"),
    ("1", "chapter numbers"), ([], "empty"), ([True], "must be an integer"), (object(), "list of chapter numbers"),
    ([None], "must be an integer"), ([-1], "out of range"),
])
def test_bad_chapters(src, tmp_path, bad, match):
    with pytest.raises(LabsimError, match=match):
        copy_exercises(tmp_path / "out", chapters=bad, source=src)
    assert not (tmp_path / "out").exists()


def test_missing_or_empty_source(tmp_path):
    with pytest.raises(LabsimError, match="not a folder"):
        copy_exercises(tmp_path / "out", source=tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(LabsimError, match="holds no exercise notebooks"):
        copy_exercises(tmp_path / "out", source=tmp_path / "empty")
    with pytest.raises(LabsimError, match="source must be a folder path"):
        copy_exercises(tmp_path / "out", source=5)


def test_dest_is_a_file(src, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(LabsimError, match="not a folder"):
        copy_exercises(f, source=src)


def test_unwritable_dest_is_a_labsim_error(src, tmp_path, monkeypatch):
    dest = tmp_path / "ro"
    dest.mkdir()
    real_access = os.access
    monkeypatch.setattr(workspace.os, "access", lambda p, m: False if Path(p) == dest else real_access(p, m))
    with pytest.raises(LabsimError, match="not writable by you"):
        copy_exercises(dest, source=src)

    def refuse(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.raises(LabsimError, match="permission denied"):
        copy_exercises(tmp_path / "new", source=src)


def test_default_destination_is_learner_inside_the_course(monkeypatch, tmp_path):
    monkeypatch.delenv(workspace.LEARNER_ENV, raising=False)
    assert workspace.learner_dir() == ROOT / "learner"
    assert "/learner/" in (ROOT / ".gitignore").read_text().split()
    monkeypatch.setenv(workspace.LEARNER_ENV, str(tmp_path / "hub-user"))
    res = copy_exercises(chapters=[3])
    assert [p.parent for p in res["copied"]] == [tmp_path / "hub-user"]


def test_real_exercises_folder_copies(tmp_path):
    res = copy_exercises(tmp_path / "learner")
    assert res["copied"], "the course ships exercise notebooks"
    assert sorted(workspace.available_chapters()) == sorted(int(p.name[:2]) for p in res["copied"])
