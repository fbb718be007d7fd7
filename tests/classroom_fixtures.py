"""Shared fixtures of the ``classroom`` tests: one read-only class install per test run, hubs started from it.

The class install is exactly what ``make hub`` makes (``tools/hub.py install``: a root-owned copy of the course,
a venv made by ``tools/install.sh`` with a Python every user can run, the proxy from npm, the numba kernels
compiled once), kept in ``test-artifacts/classroom/install`` and brought up to date once per run (under a file
lock, so parallel pytest workers share it). Each hub gets its own folder (state, homes, exchange), ports, control
group and learner names, and is stopped — servers, system users, homes and groups removed — at the end.

The classroom tests need root (learners are system users). Without root they are skipped, except under CI.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tools"), str(ROOT / "hub")]
import classroom  # noqa: E402 — after the sys.path line above

import hub as hubtool  # noqa: E402 — after the sys.path line above

ARTIFACTS = ROOT / "test-artifacts" / "classroom"
INSTALL = ARTIFACTS / "install"
RUN_ID = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"solo-{os.getpid()}"


def require_root() -> None:
    if os.geteuid() == 0:
        return
    msg = "the classroom tests need root: every learner is a system user (they run as root here and in CI)"
    if os.environ.get("CI"):
        pytest.fail(msg + " [CI is set, so this is a failure]")
    pytest.skip(msg)


@pytest.fixture(scope="session")
def class_install() -> Path:
    """The class install (built or updated once per test run, shared by parallel workers)."""
    require_root()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for p in (ARTIFACTS.parent, ARTIFACTS):
        os.chmod(p, 0o755)
    with open(ARTIFACTS / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = INSTALL / f".installed-{RUN_ID}"
        if not done.exists():
            for old in INSTALL.glob(".installed-*"):
                old.unlink()
            t = time.perf_counter()
            hubtool.install(INSTALL, log=lambda m: print(m, file=sys.stderr))
            done.write_text(f"{time.perf_counter() - t:.0f} s\n")
    return INSTALL


def free_port_block(n: int = 3) -> int:
    """A port p with p … p+n-1 all free on 127.0.0.1 (the proxy, the hub API and the proxy API)."""
    for _ in range(200):
        base = secrets.randbelow(20000) + 20000
        socks = []
        try:
            for p in range(base, base + n):
                s = socket.socket()
                s.bind(("127.0.0.1", p))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port block")


class ClassHub:
    """A started hub plus the learners it made (removed by ``close``)."""

    def __init__(self, install: Path, name: str, **options):
        self.tag = f"{name}{secrets.token_hex(2)}"
        folder = ARTIFACTS / "hubs" / self.tag
        folder.mkdir(parents=True, mode=0o755)
        os.chmod(folder.parent, 0o755)
        for sub, mode in (("home", 0o755), ("state", 0o700), ("grader", 0o700), ("exchange", 0o755)):
            (folder / sub).mkdir(mode=mode)
            os.chmod(folder / sub, mode)
        ip = options.pop("ip", "127.0.0.1")
        self.admin = options.setdefault("admin", f"lec{secrets.token_hex(2)}")  # system users are machine-wide
        self.hub = hubtool.Hub(folder, ip, free_port_block(), install_dir=install)
        self.cgroup = f"lpu-lab-test-{self.tag}"
        self.env = hubtool.hub_env(self.hub, cgroup=self.cgroup, **options)
        self.learners: list[str] = [self.admin]
        self.pid = hubtool.start(self.hub, self.env)
        self.admin_password_file = hubtool.ensure_admin(self.hub, self.env["LPU_HUB_ADMIN"])

    def learner_name(self, stem: str) -> str:
        name = f"{stem}{secrets.token_hex(2)}"
        self.learners.append(name)
        return name

    def log(self, n: int = 60) -> str:
        lines = (self.hub.state / "jupyterhub.log").read_text(errors="replace").splitlines()
        return "\n".join(lines[-n:])

    def close(self) -> None:
        try:
            hubtool.stop(self.hub)
        finally:
            for name in self.learners:
                classroom.remove_system_user(name)
            classroom.Cgroups(self.cgroup).remove()
            shutil.rmtree(self.hub.dir, ignore_errors=True)

    # --- helpers the tests share -----------------------------------------------------------------------------
    def start_server(self, name: str, timeout_s: float = 240) -> dict:
        """Create the hub user if needed and start their server through the REST API; returns the user model."""
        with contextlib.suppress(urllib.error.HTTPError):
            self.hub.api("POST", f"/users/{name}")
        with contextlib.suppress(urllib.error.HTTPError):  # 400: already running / pending
            self.hub.api("POST", f"/users/{name}/server", timeout=timeout_s)
        return self.wait_ready(name, timeout_s)

    def wait_ready(self, name: str, timeout_s: float = 240) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            model = self.hub.api("GET", f"/users/{name}")
            server = model.get("servers", {}).get("")
            if server and server.get("ready"):
                return model
            time.sleep(0.5)
        raise AssertionError(f"{name}'s server not ready after {timeout_s} s:\n{self.log()}")

    def user_token(self, name: str) -> str:
        return self.hub.api("POST", f"/users/{name}/tokens", {"note": "test", "expires_in": 3600})["token"]

    def server_api(self, name: str, token: str, method: str, path: str, body=None):
        import json

        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.hub.url}/user/{name}/api{path}", data=data, method=method,
                                     headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(req, timeout=120) as r:
            raw = r.read()
        return json.loads(raw) if raw else None


@contextlib.contextmanager
def running_hub(install: Path, name: str, **options):
    h = ClassHub(install, name, **options)
    try:
        yield h
    finally:
        h.close()


def as_user(user: str, argv: list[str], home: Path | str | None, env: dict | None = None, **kw):
    """Run ``argv`` as system user ``user`` (or a bare ``uid:gid``) with a clean environment."""
    if ":" in user:
        uid, gid = user.split(":")
    else:
        uid = gid = user
    clean = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    if home is not None:
        clean["HOME"] = str(home)
    clean.update(env or {})
    return subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "/usr/bin/env", "-i",
                           *(f"{k}={v}" for k, v in clean.items()), *argv], capture_output=True, text=True,
                          **kw, check=False)
