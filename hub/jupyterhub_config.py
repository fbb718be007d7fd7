"""JupyterHub configuration of the LPU Lab class hub (started by ``tools/hub.py start`` = ``make hub``).

Every setting a lecturer may change comes from an ``LPU_HUB_*`` environment variable that ``tools/hub.py`` sets
from its options (defaults in brackets):

  LPU_HUB_DIR [/srv/lpu-lab]       class folder: course/ (read-only copy), venv/, home/, state/, exchange/, grader/
  LPU_HUB_IP [127.0.0.1]           address of the public proxy; 0.0.0.0 serves a room (put TLS in front of it)
  LPU_HUB_PORT [8000]              its port; the hub API and proxy API use the next two ports
  LPU_HUB_ADMIN [lecturer]         the lecturer's account (NativeAuthenticator admin)
  LPU_HUB_OPEN_SIGNUP [0]          1: anyone who reaches the hub may sign up and log in at once
  LPU_HUB_ROSTER []                file with one hub name per line: those may sign up and log in at once
  LPU_HUB_MEM_LIMIT [2G]           per learner (server + kernels), enforced by a cgroup where one is writable
  LPU_HUB_CPU_LIMIT [1.0]          CPU cores per learner (CFS quota), same
  LPU_HUB_PIDS_LIMIT [512]         processes + threads per learner, same
  LPU_HUB_IDLE_TIMEOUT_S [3600]    the idle culler stops a server idle this long ...
  LPU_HUB_CULL_EVERY_S [300]       ... checking this often
  LPU_HUB_CGROUP [lpu-lab]         name of the control-group folder of this hub
"""
# ruff: noqa: F821 — `c` and get_config() are provided by JupyterHub when it loads this file
from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from classroom import USERNAME_PATTERN, ClassroomSpawner  # noqa: E402 — after the sys.path line above

COURSE = HERE.parent
env = os.environ.get
HUB_DIR = Path(env("LPU_HUB_DIR", "/srv/lpu-lab"))
STATE = HUB_DIR / "state"
IP, PORT = env("LPU_HUB_IP", "127.0.0.1"), int(env("LPU_HUB_PORT", "8000"))
ADMIN = env("LPU_HUB_ADMIN", "lecturer")

c = get_config()

# --- network: the public proxy on IP:PORT; everything else on loopback ---------------------------------------
c.JupyterHub.bind_url = f"http://{IP}:{PORT}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = PORT + 1
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PORT + 2}"
c.ConfigurableHTTPProxy.command = [str(COURSE / "hub" / "node_modules" / ".bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.auth_token = (STATE / "proxy-token").read_text().strip()

# --- state (root-only folder) ------------------------------------------------------------------------------
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.cleanup_servers = True

# --- accounts: NativeAuthenticator (sign-up page, passwords, the lecturer authorizes) ------------------------
c.JupyterHub.authenticator_class = "native"
c.Authenticator.admin_users = {ADMIN}
c.Authenticator.username_pattern = USERNAME_PATTERN
c.Authenticator.allow_all = True  # who may log in is NativeAuthenticator's authorization, below
c.NativeAuthenticator.open_signup = env("LPU_HUB_OPEN_SIGNUP", "0") == "1"
c.NativeAuthenticator.minimum_password_length = 8
c.NativeAuthenticator.check_common_password = True
c.NativeAuthenticator.allowed_failed_logins = 5
c.NativeAuthenticator.seconds_before_next_try = 60
roster = env("LPU_HUB_ROSTER", "")
if roster:
    c.Authenticator.allowed_users = {ln.strip() for ln in Path(roster).read_text().splitlines()
                                     if ln.strip() and not ln.startswith("#")}

# --- learners' servers ------------------------------------------------------------------------------------------
c.JupyterHub.spawner_class = ClassroomSpawner
c.Spawner.cmd = [sys.executable, str(HERE / "singleuser.py")]
c.Spawner.args = ["--ServerApp.jpserver_extensions={'notebook_shim': False}"]
c.Spawner.notebook_dir = "~"
c.Spawner.default_url = "/lab/tree/course/notebooks/00_start_here.ipynb"
c.Spawner.mem_limit = env("LPU_HUB_MEM_LIMIT", "2G")
c.Spawner.cpu_limit = float(env("LPU_HUB_CPU_LIMIT", "1.0"))
c.Spawner.start_timeout = 300
c.Spawner.http_timeout = 300
c.ClassroomSpawner.home_base = str(HUB_DIR / "home")
c.ClassroomSpawner.course_dir = str(COURSE)
c.ClassroomSpawner.cgroup_base = env("LPU_HUB_CGROUP", "lpu-lab")
c.ClassroomSpawner.pids_limit = int(env("LPU_HUB_PIDS_LIMIT", "512"))

# --- services: the idle culler, and the token tools/hub.py uses (create users, start servers, tests) -------------
c.JupyterHub.services = [
    {"name": "idle-culler",
     "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                 f"--timeout={int(env('LPU_HUB_IDLE_TIMEOUT_S', '3600'))}",
                 f"--cull-every={int(env('LPU_HUB_CULL_EVERY_S', '300'))}"]},
    {"name": "lpu-lab-tools", "api_token": (STATE / "api-token").read_text().strip()},
]
c.JupyterHub.load_roles = [
    {"name": "idle-culler", "services": ["idle-culler"],
     "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]},
    {"name": "lpu-lab-tools", "services": ["lpu-lab-tools"],
     "scopes": ["admin:users", "admin:servers", "tokens", "list:users", "read:users:activity", "access:servers"]},
]
