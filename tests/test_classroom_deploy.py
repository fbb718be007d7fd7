"""deploy/ (Zero to JupyterHub), checked offline: the YAML parses and says what a class needs, and the user image
installs with the project's one install script — the same steps as `make install` and the one-machine hub."""
from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.classroom

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"


@pytest.fixture(scope="module")
def values() -> dict:
    return yaml.safe_load((DEPLOY / "values.yaml").read_text())


def test_yaml_files_parse():
    for f in sorted(DEPLOY.glob("*.yaml")):
        docs = list(yaml.safe_load_all(f.read_text()))
        assert docs and all(isinstance(d, dict) for d in docs), f.name
    pvc = yaml.safe_load((DEPLOY / "nbgrader-exchange.yaml").read_text())
    assert pvc["kind"] == "PersistentVolumeClaim" and "ReadWriteMany" in pvc["spec"]["accessModes"]


def test_values_have_image_limits_culler_and_exchange(values):
    su = values["singleuser"]
    assert su["image"]["name"] and su["image"]["tag"]
    assert re.fullmatch(r"\d+(\.\d+)?[MG]", su["memory"]["limit"]) and su["cpu"]["limit"] > 0
    assert values["cull"]["enabled"] is True and values["cull"]["timeout"] > 0
    vol = {v["name"]: v for v in su["storage"]["extraVolumes"]}
    pvc = yaml.safe_load((DEPLOY / "nbgrader-exchange.yaml").read_text())["metadata"]["name"]
    assert vol["nbgrader-exchange"]["persistentVolumeClaim"]["claimName"] == pvc
    mounts = {m["name"]: m["mountPath"] for m in su["storage"]["extraVolumeMounts"]}
    learner_conf = (DEPLOY / "nbgrader_config.py").read_text()
    assert f'c.Exchange.root = "{mounts["nbgrader-exchange"]}"' in learner_conf
    hub = values["hub"]["config"]
    assert hub["JupyterHub"]["authenticator_class"] == "native" and hub["Authenticator"]["admin_users"]


def test_values_agree_with_the_one_machine_hub(values):
    """Same start script, default URL and account rules as hub/jupyterhub_config.py."""
    import sys

    sys.path.insert(0, str(ROOT / "hub"))
    import classroom

    su = values["singleuser"]
    assert su["cmd"][-1] == "/opt/lpu-lab/course/hub/singleuser.py" and (ROOT / "hub" / "singleuser.py").exists()
    conf = (ROOT / "hub" / "jupyterhub_config.py").read_text()
    default_url = re.search(r'c\.Spawner\.default_url = "([^"]+)"', conf).group(1)
    assert su["defaultUrl"] == default_url
    assert (ROOT / default_url.split("/lab/tree/course/", 1)[1]).exists()
    assert values["hub"]["config"]["Authenticator"]["username_pattern"] == classroom.USERNAME_PATTERN
    assert su["extraEnv"]["LPU_LAB_COURSE"] == "/opt/lpu-lab/course"


def _run_steps(dockerfile: str) -> list[str]:
    text = re.sub(r"\\\n", " ", dockerfile)
    return [ln.split(None, 1)[1] for ln in text.splitlines() if ln.startswith("RUN ")]


def test_image_installs_with_the_same_script_as_make_install():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    steps = " && ".join(_run_steps(dockerfile))
    calls = [c.strip() for c in steps.split("&&") if "install.sh" in c]
    assert calls == ["PYTHON=python3.11 tools/install.sh /opt/lpu-lab/venv"], calls
    makefile = (ROOT / "Makefile").read_text()
    stamp_recipe = re.search(r"^\$\(STAMP\):.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    assert "tools/install.sh $(VENV)" in stamp_recipe and "pip install" not in stamp_recipe
    hubtool = (ROOT / "tools" / "hub.py").read_text()
    assert '"tools" / "install.sh"' in hubtool and "pip install" not in hubtool
    script = (ROOT / "tools" / "install.sh").read_text()
    assert "pip install" in script and "labsim.warmup()" in script
    # the image's Python is the one pyproject.toml requires
    base = re.search(r"^FROM python:(\d+\.\d+)", dockerfile, re.M).group(1)
    req = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert f">={base}" in req
    # the start command is the file the image copies in
    cmd = shlex.split(re.search(r'^CMD \["(.+)"\]$', dockerfile, re.M).group(1).replace('", "', " "))
    assert cmd[-1].startswith("/opt/lpu-lab/course/") and (ROOT / cmd[-1].removeprefix("/opt/lpu-lab/course/")).exists()


def test_chart_runs_the_pinned_jupyterhub_major():
    readme = (DEPLOY / "values.yaml").read_text()
    chart_hub_major = re.search(r"JupyterHub (\d+)\.\d+\)", readme).group(1)
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["hub"]
    pinned = next(p for p in pins if p.startswith("jupyterhub=="))
    assert pinned.split("==")[1].split(".")[0] == chart_hub_major, "hub and user image must share a major version"
