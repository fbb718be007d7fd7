from __future__ import annotations

import pytest

from labsim.errors import LabsimError
from labsim.workspace import copy_exercises


def test_copy_never_overwrites(tmp_path, capsys):
    src = tmp_path / "ex"
    src.mkdir()
    (src / "01_a.ipynb").write_text("new 1")
    (src / "02_b.ipynb").write_text("new 2")
    (src / "README.md").write_text("not a notebook")
    dest = tmp_path / "mine"
    dest.mkdir()
    (dest / "01_a.ipynb").write_text("my work")
    res = copy_exercises(dest, source=src)
    assert (dest / "01_a.ipynb").read_text() == "my work"
    assert (dest / "02_b.ipynb").read_text() == "new 2"
    assert [p.name for p in res["copied"]] == ["02_b.ipynb"]
    assert [p.name for p in res["skipped"]] == ["01_a.ipynb"]
    assert not (dest / "README.md").exists()
    assert "not overwritten" in capsys.readouterr().out


def test_copy_selected_chapters(tmp_path):
    src = tmp_path / "ex"
    src.mkdir()
    for n in ("01_a", "02_b", "03_c"):
        (src / f"{n}.ipynb").write_text(n)
    res = copy_exercises(tmp_path / "out", chapters=[3], source=src)
    assert [p.name for p in res["copied"]] == ["03_c.ipynb"]


def test_dest_is_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(LabsimError, match="not a folder"):
        copy_exercises(f, source=tmp_path)


def test_real_exercises_folder_copies(tmp_path):
    res = copy_exercises(tmp_path / "learner")
    assert res["copied"], "the course ships exercise notebooks"
