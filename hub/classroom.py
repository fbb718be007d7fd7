"""The class hub's moving parts: one system user per learner, a spawner with enforced limits, the learner's home.

Loaded by ``hub/jupyterhub_config.py`` (the hub runs as root: each learner's server runs as that learner's own
system user, made at first login). Nothing here is imported by labsim or the course.

* **Learners are system users** named ``lpu-<hub name>`` (hub names: lower-case letters and digits, 1–20, so a
  hub account can never be ``root`` or any existing account). ``useradd`` creates them at the first spawn, with a
  private home (0700) under ``<hub dir>/home`` and no login shell; an existing account is used only if it carries
  this hub's marker and home, so the hub never takes over somebody else's account.
* **Limits** (``ClassroomSpawner.mem_limit`` / ``cpu_limit`` / ``pids_limit``) are enforced with Linux control
  groups (v1 or v2, whichever has the controllers): the server and every kernel it starts are in the learner's
  group, so memory over the limit is reclaimed or OOM-killed inside that group only, CPU is capped by CFS quota,
  and a fork bomb stops at ``pids_limit``. ``enforced_limits()`` says what this machine enforces; where no
  writable cgroup exists the limits are *not* enforced and the hub log says so. Core dumps are always off.
* **The learner's home** holds ``course`` — a link to the shared, read-only course — and ``learner/``, their own
  copy of the exercises, made at each start by ``hub/singleuser.py`` running *as the learner* (never
  overwriting; root never writes inside a learner's home).
"""
from __future__ import annotations

import os
import pwd
import re
import resource
import stat
import subprocess
from pathlib import Path

from jupyterhub.spawner import LocalProcessSpawner, set_user_setuid
from traitlets import Integer, Unicode

USERNAME_PATTERN = r"^[a-z][a-z0-9]{0,19}$"
SYSTEM_PREFIX = "lpu-"
MARKER = "LPU Lab learner"
NOLOGIN = "/usr/sbin/nologin"


class ClassroomError(RuntimeError):
    pass


def system_name(hub_name: str) -> str:
    if not re.fullmatch(USERNAME_PATTERN, hub_name or ""):
        raise ClassroomError(f"hub user name {hub_name!r} does not match {USERNAME_PATTERN}")
    return SYSTEM_PREFIX + hub_name


def ensure_system_user(hub_name: str, home_base: Path) -> pwd.struct_passwd:
    """The learner's system account (created on first use) with a private home ``home_base/<hub name>``."""
    name, home = system_name(hub_name), Path(home_base) / hub_name
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        shell = NOLOGIN if os.path.exists(NOLOGIN) else "/bin/false"
        subprocess.run(["useradd", "--home-dir", str(home), "--create-home", "--shell", shell, "--user-group",
                        "--comment", MARKER, name], check=True, capture_output=True, text=True)
        pw = pwd.getpwnam(name)
    if pw.pw_gecos != MARKER or Path(pw.pw_dir) != home:
        raise ClassroomError(f"system user {name} exists but is not this hub's learner (home {pw.pw_dir}); "
                             "remove it or use another hub name")
    st = os.lstat(home)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != pw.pw_uid:
        raise ClassroomError(f"{home} is not a folder owned by {name}")
    os.chmod(home, 0o700)
    return pw


def remove_system_user(hub_name: str) -> None:
    """Delete the learner's account and home (tests, or a lecturer clearing a class)."""
    name = system_name(hub_name)
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        return
    if pw.pw_gecos == MARKER:
        subprocess.run(["userdel", "--remove", name], capture_output=True, check=False)


# ----------------------------------------------------------------------------------------------- control groups

def _parse_bytes(text) -> int | None:
    if text in (None, "", 0):
        return None
    if isinstance(text, (int, float)):
        return int(text)
    m = re.fullmatch(r"\s*([\d.]+)\s*([KMGT]?)i?B?\s*", str(text), re.I)
    if not m:
        raise ClassroomError(f"memory limit {text!r}: expected e.g. '2G' or '1500M'")
    return int(float(m.group(1)) * 1024 ** " KMGT".index(m.group(2).upper() or " "))


class Cgroups:
    """Per-learner control groups under ``<controller>/<base>/<learner>`` (v1 mounts, else the v2 unified tree)."""

    def __init__(self, base: str = "lpu-lab", root: Path = Path("/sys/fs/cgroup")):
        self.base, self.root = base, root
        self.v2 = None
        self.v1: dict[str, Path] = {}
        for ctrl in ("memory", "cpu", "pids"):
            d = root / ctrl
            if (d / "cgroup.procs").exists() and os.access(d, os.W_OK):
                self.v1[ctrl] = d
        if len(self.v1) < 3:
            for cand in (root, root / "unified"):
                ctrls = cand / "cgroup.controllers"
                if ctrls.exists() and os.access(cand, os.W_OK):
                    have = set(ctrls.read_text().split())
                    if {"memory", "cpu", "pids"} & have:
                        self.v2, self.v2_controllers = cand, have
                        self.v1 = {}
                        break

    def enforced(self) -> dict[str, bool]:
        if self.v1:
            return {k: k in self.v1 for k in ("memory", "cpu", "pids")}
        if self.v2:
            return {k: k in self.v2_controllers for k in ("memory", "cpu", "pids")}
        return {"memory": False, "cpu": False, "pids": False}

    def prepare(self, learner: str, mem_bytes: int | None, cpu_cores: float | None, pids: int | None) -> list[Path]:
        """Create the learner's groups with these limits; returns the files a process writes its pid into."""
        procs: list[Path] = []
        if self.v1:
            for ctrl, mount in self.v1.items():
                d = mount / self.base / learner
                d.mkdir(parents=True, exist_ok=True)
                if ctrl == "memory" and mem_bytes:
                    (d / "memory.limit_in_bytes").write_text(str(mem_bytes))
                if ctrl == "cpu" and cpu_cores:
                    (d / "cpu.cfs_period_us").write_text("100000")
                    (d / "cpu.cfs_quota_us").write_text(str(max(1000, int(cpu_cores * 100000))))
                if ctrl == "pids" and pids:
                    (d / "pids.max").write_text(str(pids))
                procs.append(d / "cgroup.procs")
        elif self.v2:
            parent = self.v2 / self.base
            parent.mkdir(exist_ok=True)
            wanted = " ".join(f"+{c}" for c in ("memory", "cpu", "pids") if c in self.v2_controllers)
            for d in (self.v2, parent):
                try:
                    (d / "cgroup.subtree_control").write_text(wanted)
                except OSError:
                    pass
            d = parent / learner
            d.mkdir(exist_ok=True)
            if mem_bytes and (d / "memory.max").exists():
                (d / "memory.max").write_text(str(mem_bytes))
            if cpu_cores and (d / "cpu.max").exists():
                (d / "cpu.max").write_text(f"{max(1000, int(cpu_cores * 100000))} 100000")
            if pids and (d / "pids.max").exists():
                (d / "pids.max").write_text(str(pids))
            procs.append(d / "cgroup.procs")
        return procs

    def pids(self, learner: str) -> set[int]:
        out: set[int] = set()
        dirs = [m / self.base / learner for m in self.v1.values()] if self.v1 else \
            ([self.v2 / self.base / learner] if self.v2 else [])
        for d in dirs:
            try:
                out |= {int(x) for x in (d / "cgroup.procs").read_text().split()}
            except OSError:
                pass
        return out

    def remove(self, learner: str | None = None) -> None:
        """Remove the learner's (or, with None, every) group of this base that has no process left."""
        tops = [m / self.base for m in self.v1.values()] if self.v1 else ([self.v2 / self.base] if self.v2 else [])
        for top in tops:
            subs = [top / learner] if learner else (sorted(p for p in top.iterdir() if p.is_dir()) if top.exists()
                                                    else [])
            for d in subs:
                try:
                    d.rmdir()
                except OSError:
                    pass
            if learner is None:
                try:
                    top.rmdir()
                except OSError:
                    pass


# ----------------------------------------------------------------------------------------------- the spawner

class ClassroomSpawner(LocalProcessSpawner):
    """LocalProcessSpawner for LPU Lab: learner = system user ``lpu-<name>``, limits enforced by cgroups."""

    home_base = Unicode("/srv/lpu-lab/home", config=True, help="Folder holding every learner's home")
    course_dir = Unicode("/srv/lpu-lab/course", config=True, help="The shared, read-only course")
    cgroup_base = Unicode("lpu-lab", config=True, help="Name of this hub's control-group folder")
    pids_limit = Integer(512, config=True, help="Most processes and threads one learner may run (0: no limit)")

    _cgroups: Cgroups | None = None

    @property
    def system_user(self) -> str:
        return system_name(self.user.name)

    @classmethod
    def cgroups(cls, base: str) -> Cgroups:
        if cls._cgroups is None or cls._cgroups.base != base:
            cls._cgroups = Cgroups(base)
        return cls._cgroups

    def enforced_limits(self) -> dict[str, bool]:
        return self.cgroups(self.cgroup_base).enforced()

    def user_env(self, env):
        pw = pwd.getpwnam(self.system_user)
        env["USER"] = env["LOGNAME"] = self.system_user
        env["HOME"] = pw.pw_dir
        env["SHELL"] = pw.pw_shell
        env["LPU_LAB_COURSE"] = self.course_dir
        env["LPU_LAB_LEARNER_DIR"] = os.path.join(pw.pw_dir, "learner")
        # no more threads per library than the learner has cores (20 learners on 2 cores otherwise thrash)
        threads = str(max(1, int(self.cpu_limit or 1)))
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
            env[var] = threads
        return env

    def make_preexec_fn(self, name):
        drop = set_user_setuid(self.system_user)
        procs = self._procs

        def preexec():
            pid = str(os.getpid()).encode()
            for f in procs:  # join the learner's control groups while still root
                fd = os.open(f, os.O_WRONLY)
                try:
                    os.write(fd, pid)
                finally:
                    os.close(fd)
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            drop()

        return preexec

    async def start(self):
        ensure_system_user(self.user.name, Path(self.home_base))
        cg = self.cgroups(self.cgroup_base)
        self._procs = cg.prepare(self.system_user, _parse_bytes(self.mem_limit), self.cpu_limit,
                                 self.pids_limit or None)
        if not self._procs:
            self.log.warning("no writable control group: memory/CPU limits for %s are NOT enforced", self.user.name)
        return await super().start()

    async def stop(self, now=False):
        await super().stop(now=now)
        # kernels run in sessions of their own; whatever is left of this learner in its group is ended too
        cg = self.cgroups(self.cgroup_base)
        for pid in cg.pids(self.system_user):
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        cg.remove(self.system_user)
