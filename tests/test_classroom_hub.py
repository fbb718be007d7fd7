"""The class hub end to end (make hub): real JupyterHub, configurable-http-proxy from npm, NativeAuthenticator, the
idle culler, learners as system users with enforced limits, a personal copy of the exercises, a read-only course."""
from __future__ import annotations

import json
import os
import pwd
import stat
import subprocess
import time
import urllib.error
from pathlib import Path

import pytest
from classroom_fixtures import as_user, class_install, hubtool, running_hub  # noqa: F401 — pytest fixtures

pytestmark = pytest.mark.classroom


@pytest.fixture(scope="module")
def hub(class_install):  # noqa: F811 — the fixture imported above
    with running_hub(class_install, "hub", open_signup=True, mem="1G", cpu=1.0) as h:
        yield h


def _login(h, name: str, password: str) -> tuple[int, str]:
    status, url, _ = hubtool.Browser(h.hub.url).post_form("/hub/login", {"username": name, "password": password})
    return status, url


def test_lecturer_account_and_loopback_binding(hub):
    pw_file = hub.admin_password_file
    assert stat.S_IMODE(os.stat(pw_file).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(hub.hub.state).st_mode) == 0o700
    status, url = _login(hub, hub.admin, pw_file.read_text().strip())
    assert status == 200 and "/hub/login" not in url, url
    assert _login(hub, hub.admin, "wrong-password-1")[1].endswith("/hub/login")
    assert hub.hub.api("GET", f"/users/{hub.admin}")["admin"] is True
    # the public proxy listens on 127.0.0.1 only (make hub's default); the hub API and proxy API too
    listening = _listening_addresses()
    for port in (hub.hub.port, hub.hub.port + 1, hub.hub.port + 2):
        assert listening.get(port) == {"127.0.0.1"}, (port, listening.get(port))


def _listening_addresses() -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        if state != "0A":  # LISTEN
            continue
        hexip, hexport = local.split(":")
        ip = ".".join(str(int(hexip[i:i + 2], 16)) for i in (6, 4, 2, 0))
        out.setdefault(int(hexport, 16), set()).add(ip)
    return out


@pytest.mark.parametrize("name, password, outcome", [
    ("Bob_1", "correct-horse-9", "error"),          # only lower-case letters and digits
    ("a" * 21, "correct-horse-9", "error"),         # at most 20 characters
    ("shortpw", "abc", "error"),                    # at least 8 characters
    ("commonpw", "password", "error"),              # a common password
])
def test_signup_refuses_bad_accounts(hub, name, password, outcome):
    assert hubtool.signup(hub.hub, name, password)[0] == outcome


def test_learner_signs_up_logs_in_and_gets_the_course(hub, class_install):  # noqa: F811 — the fixture imported above
    name = hub.learner_name("ann")
    assert hubtool.signup(hub.hub, name, "correct-horse-9")[0] == "ok"
    status, url = _login(hub, name, "correct-horse-9")  # logging in starts the server
    assert status == 200, url
    model = hub.wait_ready(name)
    assert model["server"] == f"/user/{name}/"

    pw = pwd.getpwnam(f"lpu-{name}")
    home = Path(pw.pw_dir)
    assert home == hub.hub.dir / "home" / name and pw.pw_shell.endswith(("nologin", "false"))
    st = os.lstat(home)
    assert st.st_uid == pw.pw_uid and stat.S_IMODE(st.st_mode) == 0o700
    # the shared course, read-only, and the learner's own copy of every exercise
    assert (home / "course").is_symlink() and (home / "course").resolve() == (class_install / "course").resolve()
    mine = sorted(p.name for p in (home / "learner").glob("*.ipynb"))
    assert mine == sorted(p.name for p in (class_install / "course" / "exercises").glob("*.ipynb")) and mine
    assert all(os.stat(home / "learner" / f).st_uid == pw.pw_uid for f in mine)
    assert not any((class_install / "course" / "solutions").glob("*.ipynb")), "learners must not see solutions/"

    token = hub.user_token(name)
    listing = hub.server_api(name, token, "GET", "/contents/course/notebooks")
    assert any(c["name"] == "00_start_here.ipynb" and not c["writable"] for c in listing["content"])
    with pytest.raises(urllib.error.HTTPError) as err:  # the course is read-only for learners
        hub.server_api(name, token, "PUT", "/contents/course/notebooks/mine.txt",
                       {"type": "file", "format": "text", "content": "x"})
    assert err.value.code in (403, 500)
    hub.server_api(name, token, "PUT", "/contents/learner/notes.txt", {"type": "file", "format": "text",
                                                                        "content": "mine"})
    assert (home / "learner" / "notes.txt").read_text() == "mine"


def test_limits_are_enforced_on_the_learners_processes(hub):
    name = hub.learner_name("cat")
    hub.start_server(name)
    from classroom_fixtures import classroom

    groups = classroom.Cgroups(hub.cgroup)
    assert groups.enforced() == {"memory": True, "cpu": True, "pids": True}, "this machine has writable cgroups"
    pids = groups.pids(f"lpu-{name}")
    assert pids, "the learner's server is not in its control group"
    uid = pwd.getpwnam(f"lpu-{name}").pw_uid
    assert all(os.stat(f"/proc/{p}").st_uid == uid for p in pids)
    if groups.v1:
        base = groups.v1["memory"] / hub.cgroup / f"lpu-{name}"
        assert int((base / "memory.limit_in_bytes").read_text()) == 1024 ** 3
        cpu = groups.v1["cpu"] / hub.cgroup / f"lpu-{name}"
        assert int((cpu / "cpu.cfs_quota_us").read_text()) == int((cpu / "cpu.cfs_period_us").read_text())
        assert int((groups.v1["pids"] / hub.cgroup / f"lpu-{name}" / "pids.max").read_text()) == 512
    # a kernel that allocates past the limit is killed inside the group; the server survives
    token = hub.user_token(name)
    kernel = hub.server_api(name, token, "POST", "/kernels", {"name": "python3"})
    time.sleep(1)
    kpids = groups.pids(f"lpu-{name}") - pids
    assert kpids, "the kernel did not start in the learner's group"
    procs = " ".join(str(f) for f in groups.prepare(f"lpu-{name}", 1024 ** 3, 1.0, 512))
    hog = subprocess.run(["sh", "-c", f"for f in {procs}; do echo $$ > $f; done; exec setpriv --reuid=lpu-{name} "
                          f"--regid=lpu-{name} --clear-groups /usr/bin/python3 -c "
                          "\"b = b'x' * (1536 * 2**20); print('allocated', len(b))\""],
                         capture_output=True, text=True, timeout=120, check=False)
    assert "allocated" not in hog.stdout and hog.returncode in (-9, 137), (hog.returncode, hog.stdout, hog.stderr)
    small = subprocess.run(["sh", "-c", f"for f in {procs}; do echo $$ > $f; done; exec setpriv --reuid=lpu-{name} "
                            f"--regid=lpu-{name} --clear-groups /usr/bin/python3 -c "
                            "\"b = b'x' * (256 * 2**20); print('allocated', len(b))\""],
                           capture_output=True, text=True, timeout=120, check=False)
    assert small.returncode == 0 and "allocated" in small.stdout, small.stderr
    hub.server_api(name, token, "DELETE", f"/kernels/{kernel['id']}")
    assert hub.hub.api("GET", f"/users/{name}")["servers"][""]["ready"]


def test_restart_never_overwrites_the_learners_work(hub):
    name = hub.learner_name("dan")
    hub.start_server(name)
    home = Path(pwd.getpwnam(f"lpu-{name}").pw_dir)
    first = sorted((home / "learner").glob("*.ipynb"))[0]
    mine = json.loads(first.read_text())
    mine["cells"][0]["source"] = "# my own notes\n" + "".join(mine["cells"][0]["source"])
    first.write_text(json.dumps(mine))
    gone = sorted((home / "learner").glob("*.ipynb"))[-1]
    gone.unlink()
    hub.hub.api("DELETE", f"/users/{name}/server")
    for _ in range(120):
        if not hub.hub.api("GET", f"/users/{name}")["servers"]:
            break
        time.sleep(0.5)
    hub.start_server(name)
    assert json.loads(first.read_text())["cells"][0]["source"].startswith("# my own notes")
    assert gone.exists(), "a missing exercise is copied again at the next start"


def test_learners_cannot_read_each_other(hub):
    a, b = hub.learner_name("eve"), hub.learner_name("fay")
    hub.start_server(a)
    hub.start_server(b)
    home_b = hub.hub.dir / "home" / b
    r = as_user(f"lpu-{a}", ["ls", str(home_b / "learner")], home=hub.hub.dir / "home" / a)
    assert r.returncode != 0 and "Permission denied" in r.stderr
    r = as_user(f"lpu-{a}", ["cat", str(hub.hub.state / "api-token")], home=None)
    assert r.returncode != 0


def test_room_switch_and_idle_culler(class_install):  # noqa: F811 — the fixture imported above
    """``make hub HUB_IP=0.0.0.0``: the public proxy listens on every interface while the hub API stays on
    loopback; and the idle culler stops a server nobody uses (here after 8 s instead of an hour)."""
    with running_hub(class_install, "room", ip="0.0.0.0", open_signup=True, idle_s=8, cull_every_s=3) as h:
        listening = _listening_addresses()
        assert "0.0.0.0" in listening.get(h.hub.port, set())
        assert listening.get(h.hub.port + 1) == {"127.0.0.1"} and listening.get(h.hub.port + 2) == {"127.0.0.1"}
        name = h.learner_name("gil")
        h.start_server(name)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and h.hub.api("GET", f"/users/{name}")["servers"]:
            time.sleep(1)
        assert not h.hub.api("GET", f"/users/{name}")["servers"], "the idle culler did not stop the server"
        assert f"Culling server {name}" in h.log(400)
