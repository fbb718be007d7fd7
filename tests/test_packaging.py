"""The pins live in pyproject.toml; environment.yml (Binder) must mirror them exactly."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_pins() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = list(data["project"]["dependencies"]) + [r for extra in data["project"]["optional-dependencies"].values()
                                                    for r in extra]
    pins = {}
    for r in reqs:
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.]+)", r.strip())
        assert m, f"pyproject.toml requirement {r!r} is not an exact pin (name==version)"
        pins[m.group(1).lower()] = m.group(2)
    return pins


def _env_pins() -> tuple[dict[str, str], str | None]:
    pins, python = {}, None
    for line in (ROOT / "environment.yml").read_text().splitlines():
        m = re.fullmatch(r"\s*-\s*([A-Za-z0-9_.\-]+)==?([A-Za-z0-9_.]+)\s*(#.*)?", line)
        if not m:
            continue
        if m.group(1) == "python":
            python = m.group(2)
        else:
            pins[m.group(1).lower()] = m.group(2)
    return pins, python


def test_environment_yml_matches_pyproject():
    env, python = _env_pins()
    assert python == "3.11", "environment.yml must pin python=3.11 exactly"
    assert env == _pyproject_pins()


def test_postbuild_installs_repo_and_warms_numba():
    text = (ROOT / "postBuild").read_text()
    assert "pip install --no-deps -e ." in text
    assert "warmup" in text


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme


def test_every_kernel_module_has_a_warmup():
    import sys

    import labsim

    for name in labsim.KERNEL_MODULES:
        labsim._import_kernel_module(name)
        mod = sys.modules[name]
        assert callable(getattr(mod, "_warmup", None)), f"{name} lacks _warmup()"
