"""benches/run_all.py: one Markdown table with the machine line; a failing bench becomes a row, the rest still run.
(No timing asserts: the numbers themselves are only reported.)"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def run_all():
    spec = importlib.util.spec_from_file_location("run_all", ROOT / "benches" / "run_all.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


SKIP_ALL = ["--skip-jit", "--skip-widgets", "--skip-notebooks"]


def test_report_table_and_make_test_seconds(run_all, tmp_path, monkeypatch):
    monkeypatch.setattr(run_all, "BENCHES", tmp_path)  # no bench files: nothing slow runs
    out = tmp_path / "REPORT.md"
    assert run_all.main(SKIP_ALL + ["--make-test-seconds", "123.4", "--out", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("# LPU Lab — benchmark report")
    for word in ("cores", "Python", "numba", "UTC"):
        assert word in text
    table = [ln for ln in text.splitlines() if ln.startswith("|")]
    assert table[0] == "| group | benchmark | value | unit | note |"
    assert any("make test (wall)" in ln and "123" in ln for ln in table)


def test_make_test_seconds_from_file(run_all, tmp_path, monkeypatch):
    monkeypatch.setattr(run_all, "BENCHES", tmp_path)
    (tmp_path / ".make_test_seconds").write_text("321.5\n")
    out = tmp_path / "REPORT.md"
    run_all.main(SKIP_ALL + ["--out", str(out)])
    assert any("make test (wall)" in ln and "322" in ln for ln in out.read_text().splitlines())


def test_failing_bench_is_a_row_and_others_still_run(run_all, tmp_path, monkeypatch):
    monkeypatch.setattr(run_all, "BENCHES", tmp_path)
    (tmp_path / "bench_aaa_broken.py").write_text("def run():\n    raise RuntimeError('kaputt')\n")
    (tmp_path / "bench_bbb_ok.py").write_text(
        "def run():\n    return [{'name': 'ok thing', 'value': 42.0, 'unit': 'x/s', 'note': 'fine'},\n"
        "            {'name': 'nan thing', 'value': float('nan'), 'unit': 's', 'note': ''}]\n")
    out = tmp_path / "REPORT.md"
    run_all.main(SKIP_ALL + ["--out", str(out)])
    text = out.read_text()
    assert "bench_aaa_broken.py FAILED" in text and "kaputt" in text
    assert "| bbb_ok | ok thing | 42.0 | x/s | fine |" in text
    assert "| bbb_ok | nan thing | — | s |" in text


def test_every_real_bench_exposes_run():
    for path in sorted((ROOT / "benches").glob("bench_*.py")):
        assert "def run(" in path.read_text(encoding="utf-8"), f"{path.name} has no run() -> list[dict]"
