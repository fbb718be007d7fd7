#!/usr/bin/env python3
"""The class hub for a lecturer: install, start, stop and inspect one JupyterHub that serves a whole class.

    sudo make hub                      # = tools/hub.py start --dir /srv/lpu-lab  (install/update, then start)
    sudo make hub HUB_IP=0.0.0.0       # serve a room (TLS: a reverse proxy in front; docs/teaching.md)
    sudo make hub-stop                 # = tools/hub.py stop --dir /srv/lpu-lab
    tools/hub.py status --dir /srv/lpu-lab

``install`` copies the course into ``<dir>/course`` (root-owned, read-only for learners, without solutions/ unless
``--with-solutions``), runs the project's one install script ``tools/install.sh`` there with a Python every user
can run (the venv in ``<dir>/venv``; the proxy from npm; the numba kernels compiled once into the copy's cache),
and writes the learners' nbgrader settings (exchange ``<dir>/exchange``, course ``lpu-lab``).
``start`` runs JupyterHub (``hub/jupyterhub_config.py``) in the background from ``<dir>/state`` (root only: database,
tokens, log), makes the lecturer's account and prints the address and where the lecturer's password is.
Learners sign up at ``/hub/signup``; each gets a system user, a private home and their own exercise copy.
"""
from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COURSE_ID = "lpu-lab"
# What a class copy leaves out of the course folder (never needed by learners or the hub).
EXCLUDE = {".git", ".venv", "learner", "test-artifacts", ".pytest_cache", ".hypothesis", "node_modules",
           ".ipynb_checkpoints", "build", "dist"}
EXCLUDE_SUFFIX = (".egg-info", ".pyc")


class HubError(RuntimeError):
    pass


# ----------------------------------------------------------------------------------------------- install

def readable_by_all(path: Path) -> str | None:
    """None if every user can reach and read ``path``; else the first component that blocks them."""
    path = path.resolve()
    for parent in reversed(path.parents):
        if not os.stat(parent).st_mode & stat.S_IXOTH:
            return f"{parent} (mode {stat.S_IMODE(os.stat(parent).st_mode):04o})"
    mode = os.stat(path).st_mode
    need = stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(mode) or os.access(path, os.X_OK) else 0)
    return None if mode & need == need else f"{path} (mode {stat.S_IMODE(mode):04o})"


def python_for_all(candidates: list[str]) -> tuple[str | None, list[str]]:
    """The first Python 3.11 that every user can run (interpreter and standard library), and why others failed."""
    why = []
    for cand in candidates:
        exe = shutil.which(cand) or cand
        if not Path(exe).exists():
            why.append(f"{cand}: not found")
            continue
        try:
            out = subprocess.run([exe, "-c", "import sys, sysconfig; print(sys.version_info[:2] == (3, 11)); "
                                  "print(sys.executable); print(sysconfig.get_paths()['stdlib'])"],
                                 capture_output=True, text=True, timeout=30, check=True).stdout.split("\n")
        except (subprocess.SubprocessError, OSError) as exc:
            why.append(f"{cand}: {exc}")
            continue
        if out[0] != "True":
            why.append(f"{cand}: not Python 3.11")
            continue
        blocked = readable_by_all(Path(out[1])) or readable_by_all(Path(out[2]))
        if blocked:
            why.append(f"{cand}: learners could not run it — {blocked} is not open to other users")
            continue
        return exe, why
    return None, why


def default_pythons() -> list[str]:
    return ["/usr/bin/python3.11", "/usr/local/bin/python3.11", "python3.11"]


def sync_course(src: Path, dest: Path, with_solutions: bool) -> int:
    """Mirror the course folder ``src`` into ``dest`` (files copied when changed, stale ones removed)."""
    skip = set(EXCLUDE) | (set() if with_solutions else {"solutions"})
    dest.mkdir(mode=0o755, exist_ok=True)
    changed = 0
    wanted: set[Path] = set()
    for dirpath, dirnames, filenames in os.walk(src):
        rel = Path(dirpath).relative_to(src)
        dirnames[:] = sorted(d for d in dirnames if d not in skip and not d.endswith(EXCLUDE_SUFFIX))
        (dest / rel).mkdir(mode=0o755, exist_ok=True)
        wanted.add(dest / rel)
        for f in filenames:
            if f.endswith(EXCLUDE_SUFFIX) or (Path(dirpath) / f).is_symlink():
                continue
            s, d = Path(dirpath) / f, dest / rel / f
            wanted.add(d)
            if not d.exists() or d.stat().st_size != s.stat().st_size or d.read_bytes() != s.read_bytes():
                shutil.copy2(s, d)
                changed += 1
    for dirpath, _dirnames, filenames in os.walk(dest, topdown=False):
        for f in filenames:
            p = Path(dirpath) / f
            if p not in wanted and "__pycache__" not in p.parts and "node_modules" not in p.parts \
                    and not p.name.endswith(EXCLUDE_SUFFIX):
                p.unlink()
    return changed


def close_to_others(top: Path) -> None:
    """Make ``top`` read-only for everyone but its owner (root): no group/other write bit anywhere below."""
    for dirpath, dirnames, filenames in os.walk(top):
        for name in [*dirnames, *filenames]:
            p = Path(dirpath) / name
            if p.is_symlink():
                continue
            mode = stat.S_IMODE(p.stat().st_mode)
            if mode & 0o022:
                os.chmod(p, mode & ~0o022)
    os.chmod(top, stat.S_IMODE(top.stat().st_mode) & ~0o022)


def nbgrader_learner_config(hub_dir: Path) -> str:
    return (f"# written by tools/hub.py: the learners' nbgrader settings (one machine, a local exchange)\n"
            f"import os\n"
            f"c = get_config()  # noqa: F821 — JupyterHub defines it when it loads this file\n"
            f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
            f"c.Exchange.root = {str(hub_dir / 'exchange')!r}\n"
            f"c.Exchange.assignment_dir = os.path.expanduser('~/learner')  # fetched assignments: ~/learner/chNN\n")


def install(hub_dir: Path, python: str | None = None, with_solutions: bool = False, src: Path = ROOT,
            log=print) -> Path:
    """Create or update the class install in ``hub_dir``; returns the class venv's Python."""
    if os.geteuid() != 0:
        raise HubError("the class hub needs root (each learner is a system user): run `sudo make hub`")
    exe, why = python_for_all([python] if python else default_pythons())
    if exe is None:
        raise HubError("no Python 3.11 that every learner can run:\n  " + "\n  ".join(why) +
                       "\nInstall one (apt-get install python3.11 python3.11-venv) or pass --python.")
    hub_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
    os.chmod(hub_dir, 0o755)
    for sub, mode in (("home", 0o755), ("state", 0o700), ("grader", 0o700), ("exchange", 0o755)):
        (hub_dir / sub).mkdir(mode=mode, exist_ok=True)
        os.chmod(hub_dir / sub, mode)
    n = sync_course(src, hub_dir / "course", with_solutions)
    log(f"course copy: {hub_dir / 'course'} ({n} file(s) updated)")
    venv = hub_dir / "venv"
    t = time.perf_counter()
    subprocess.run([str(hub_dir / "course" / "tools" / "install.sh"), str(venv)], check=True,
                   env={**os.environ, "PYTHON": exe, "LPU_LAB_PROXY": "1"})
    log(f"install.sh with {exe}: {time.perf_counter() - t:.0f} s")
    conf = venv / "etc" / "jupyter"
    (conf / "labconfig").mkdir(parents=True, exist_ok=True)
    (conf / "nbgrader_config.py").write_text(nbgrader_learner_config(hub_dir))
    # learners fetch, validate and submit; the lecturer's grading screens stay out of their JupyterLab
    (conf / "labconfig" / "page_config.json").write_text(json.dumps({"disabledExtensions": {
        f"@jupyter/nbgrader:{p}": True for p in ("formgrader", "course-list", "create-assignment")}}, indent=1))
    # no "Jupyter news?" pop-up for a room of learners
    lab_settings = venv / "share" / "jupyter" / "lab" / "settings"
    lab_settings.mkdir(parents=True, exist_ok=True)
    (lab_settings / "overrides.json").write_text(json.dumps(
        {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}, indent=1))
    close_to_others(hub_dir / "course")
    close_to_others(venv)
    return venv / "bin" / "python"


# ----------------------------------------------------------------------------------------------- running hub

@dataclass
class Hub:
    """A running (or to-be-started) class hub: where it lives and how to talk to it."""

    dir: Path
    ip: str = "127.0.0.1"
    port: int = 8000
    install_dir: Path | None = None  # where course/ and venv/ are (default: dir itself)

    @property
    def installed(self) -> Path:
        return self.install_dir or self.dir

    @property
    def state(self) -> Path:
        return self.dir / "state"

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.ip in ("0.0.0.0", "", "::") else self.ip
        return f"http://{host}:{self.port}"

    @property
    def api_token(self) -> str:
        return (self.state / "api-token").read_text().strip()

    def api(self, method: str, path: str, body=None, token: str | None = None, timeout: float = 30):
        """Call the hub's REST API (``/hub/api`` + path) with the tools token; returns parsed JSON or None."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}/hub/api{path}", data=data, method=method,
                                     headers={"Authorization": f"token {token or self.api_token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
        return json.loads(raw) if raw else None

    @classmethod
    def load(cls, hub_dir: Path) -> Hub:
        """The hub that ``start`` recorded in ``<dir>/state/hub.json`` (address and port)."""
        try:
            rec = json.loads((hub_dir / "state" / "hub.json").read_text())
            return cls(hub_dir, rec["ip"], int(rec["port"]))
        except (OSError, ValueError, KeyError):
            return cls(hub_dir)

    def pid(self) -> int | None:
        try:
            pid = int((self.state / "hub.pid").read_text())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None


def _secret_file(path: Path) -> str:
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
    return path.read_text().strip()


def hub_env(hub: Hub, *, open_signup=False, roster: Path | None = None, mem="2G", cpu=1.0, pids=512,
            idle_s=3600, cull_every_s=300, admin="lecturer", cgroup="lpu-lab") -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LPU_HUB_", "JUPYTER", "PYTHON"))}
    env.update({"LPU_HUB_DIR": str(hub.dir), "LPU_HUB_IP": hub.ip, "LPU_HUB_PORT": str(hub.port),
                "LPU_HUB_ADMIN": admin, "LPU_HUB_OPEN_SIGNUP": "1" if open_signup else "0",
                "LPU_HUB_ROSTER": str(roster or ""), "LPU_HUB_MEM_LIMIT": str(mem), "LPU_HUB_CPU_LIMIT": str(cpu),
                "LPU_HUB_PIDS_LIMIT": str(pids), "LPU_HUB_IDLE_TIMEOUT_S": str(int(idle_s)),
                "LPU_HUB_CULL_EVERY_S": str(int(cull_every_s)), "LPU_HUB_CGROUP": cgroup,
                "PATH": f"{hub.installed / 'venv' / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}"})
    return env


# ----------------------------------------------------------------------------------------------- nbgrader

def assignments(hub_dir: Path, solutions_dir: Path = ROOT / "solutions", install_dir: Path | None = None) -> dict:
    """Write the lecturer's nbgrader course (``<dir>/grader``, root only) from the authored solutions: one
    assignment ``chNN`` per chapter. Run again after editing solutions."""
    course = (install_dir or hub_dir) / "course"
    sys.path.insert(0, str(course / "hub"))
    import nbgrader_course

    grader = hub_dir / "grader"
    grader.mkdir(mode=0o700, exist_ok=True)
    os.chmod(grader, 0o700)
    return nbgrader_course.write_course(grader, hub_dir / "exchange",
                                        sorted(solutions_dir.glob("[0-9][0-9]_*.ipynb")), course)


def nbgrader(hub_dir: Path, args: list[str], install_dir: Path | None = None, **kw) -> subprocess.CompletedProcess:
    """Run the class install's ``nbgrader ARGS`` in the lecturer's course folder (``<dir>/grader``)."""
    venv_bin = (install_dir or hub_dir) / "venv" / "bin"
    env = {**os.environ, "PATH": f"{venv_bin}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    return subprocess.run([str(venv_bin / "nbgrader"), *args], cwd=hub_dir / "grader", env=env, **kw, check=False)


def start(hub: Hub, env: dict, timeout_s: float = 120, log=print) -> int:
    """Start JupyterHub in the background (its own session); wait until it answers; returns its pid."""
    if os.geteuid() != 0:
        raise HubError("the class hub needs root (each learner is a system user): run `sudo make hub`")
    if hub.pid():
        raise HubError(f"a hub is already running from {hub.dir} (pid {hub.pid()}); `make hub-stop` first")
    _secret_file(hub.state / "proxy-token")
    _secret_file(hub.state / "api-token")
    exe = hub.installed / "venv" / "bin" / "jupyterhub"
    logf = open(hub.state / "jupyterhub.log", "ab")
    proc = subprocess.Popen([str(exe), "-f", str(hub.installed / "course" / "hub" / "jupyterhub_config.py")],
                            cwd=hub.state, env=env, stdout=logf, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    logf.close()
    (hub.state / "hub.pid").write_text(str(proc.pid))
    (hub.state / "hub.json").write_text(json.dumps({"ip": hub.ip, "port": hub.port}))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = (hub.state / "jupyterhub.log").read_text(errors="replace").splitlines()[-30:]
            raise HubError("JupyterHub exited at start:\n" + "\n".join(tail))
        try:
            hub.api("GET", "/")
            return proc.pid
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    stop(hub)
    raise HubError(f"JupyterHub did not answer within {timeout_s:.0f} s; see {hub.state / 'jupyterhub.log'}")


def stop(hub: Hub, timeout_s: float = 60) -> bool:
    """SIGTERM the hub (it stops every learner's server and the proxy), SIGKILL after ``timeout_s``."""
    pid = hub.pid()
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.3)
    else:
        os.killpg(pid, signal.SIGKILL)
    (hub.state / "hub.pid").unlink(missing_ok=True)
    return True


# ----------------------------------------------------------------------------------------------- accounts

class Browser:
    """A cookie-keeping HTTP client for the hub's HTML forms (sign up, log in), with JupyterHub's XSRF token."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=60) as r:
            return r.read().decode()

    def post_form(self, path: str, fields: dict) -> tuple[int, str, str]:
        page = self.get(path)
        m = re.search(r'name="_xsrf"\s+value="([^"]+)"', page)
        data = dict(fields, **({"_xsrf": m.group(1)} if m else {}))
        req = urllib.request.Request(self.base + path, data=urllib.parse.urlencode(data).encode(), method="POST")
        try:
            with self.opener.open(req, timeout=120) as r:
                return r.status, r.geturl(), r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.geturl(), exc.read().decode(errors="replace")


def signup(hub: Hub, name: str, password: str) -> tuple[str, str]:
    """Sign ``name`` up on the hub's NativeAuthenticator page, as a learner would; returns (outcome, message) with
    outcome "ok" (may log in now), "pending" (the lecturer must authorize) or "error"."""
    status, _, page = Browser(hub.url).post_form("/hub/signup", {"username": name, "signup_password": password,
                                                                 "signup_password_confirmation": password})
    m = re.search(r'<div class="alert (alert-\w+)[^"]*"[^>]*>(.*?)</div>', page, re.S)
    if not m:
        return "error", f"HTTP {status}: no message on the sign-up page"
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", m.group(2))).strip()
    return {"alert-success": "ok", "alert-info": "pending"}.get(m.group(1), "error"), text


def ensure_admin(hub: Hub, admin: str) -> Path:
    """The lecturer's account exists, with a password in ``state/admin-password`` (0600); returns that file."""
    pw_file = hub.state / "admin-password"
    if pw_file.exists():
        return pw_file
    password = secrets.token_urlsafe(12)
    outcome, msg = signup(hub, admin, password)
    if outcome != "ok":
        raise HubError(f"could not create the lecturer's account {admin!r}: {msg}")
    fd = os.open(pw_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(password + "\n")
    return pw_file


# ----------------------------------------------------------------------------------------------- CLI

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="tools/hub.py", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("install", "start", "stop", "status", "assignments", "nbgrader"):
        p = sub.add_parser(name)
        p.add_argument("--dir", type=Path, default=Path("/srv/lpu-lab"), help="class folder (default /srv/lpu-lab)")
        if name == "nbgrader":
            p.add_argument("args", nargs=argparse.REMAINDER, help="nbgrader's own arguments, e.g. autograde ch03")
        if name in ("install", "start"):
            p.add_argument("--python", help="a Python 3.11 every user can run (default: /usr/bin/python3.11, …)")
            p.add_argument("--with-solutions", action="store_true", help="let learners read solutions/")
        if name == "start":
            p.add_argument("--ip", default="127.0.0.1", help="0.0.0.0 to serve a room (put TLS in front)")
            p.add_argument("--port", type=int, default=8000)
            p.add_argument("--admin", default="lecturer")
            p.add_argument("--open-signup", action="store_true", help="anyone reaching the hub may sign up")
            p.add_argument("--roster", type=Path, help="file of hub names allowed to sign up at once")
            p.add_argument("--mem", default="2G")
            p.add_argument("--cpu", type=float, default=1.0)
            p.add_argument("--idle-timeout", type=int, default=3600, help="seconds before an idle server stops")
            p.add_argument("--no-install", action="store_true", help="start the existing class install as it is")
    args = ap.parse_args(argv)
    hub = Hub(args.dir.resolve(), args.ip, args.port) if args.cmd == "start" else Hub.load(args.dir.resolve())
    try:
        if args.cmd == "install":
            install(hub.dir, args.python, args.with_solutions)
        elif args.cmd == "start":
            if not args.no_install:
                install(hub.dir, args.python, args.with_solutions)
            env = hub_env(hub, open_signup=args.open_signup, roster=args.roster, mem=args.mem, cpu=args.cpu,
                          idle_s=args.idle_timeout, admin=args.admin)
            pid = start(hub, env)
            pw = ensure_admin(hub, args.admin)
            where = "this machine only" if args.ip in ("127.0.0.1", "localhost") else f"the network ({args.ip})"
            print(f"LPU Lab class hub running (pid {pid}), reachable from {where}:\n"
                  f"  {hub.url}/hub/login            lecturer: {args.admin}, password in {pw}\n"
                  f"  {hub.url}/hub/signup           learners create their account here"
                  f"{'' if args.open_signup or args.roster else ' (you authorize them at /hub/authorize)'}\n"
                  f"  log: {hub.state / 'jupyterhub.log'}    stop: make hub-stop")
        elif args.cmd == "assignments":
            made = assignments(hub.dir)
            print(f"nbgrader course in {hub.dir / 'grader'}: " + ", ".join(
                f"{a} ({sum(p.values())} points)" for a, p in made.items()))
        elif args.cmd == "nbgrader":
            return nbgrader(hub.dir, args.args).returncode
        elif args.cmd == "stop":
            print("stopped" if stop(hub) else f"no hub running from {hub.dir}")
        elif args.cmd == "status":
            pid = hub.pid()
            if pid is None:
                print(f"no hub running from {hub.dir}")
                return 1
            users = hub.api("GET", "/users")
            running = [u["name"] for u in users if u.get("servers")]
            print(f"hub pid {pid}: {len(users)} account(s), {len(running)} server(s) running: {', '.join(running)}")
    except (HubError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
