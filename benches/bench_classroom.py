"""Capacity of one machine as a class hub (``make hub``): N learners at once, each running chapter 3 top to bottom.

For N = 1, 5, 10, 20 (``LPU_BENCH_CLASSROOM_N``): N learner accounts are created and their servers started through
the hub's REST API, all at once; as soon as a server is ready, its learner opens ``course/notebooks/03_…`` in a
kernel session (Jupyter's REST API + kernel websocket, through the proxy, as JupyterLab does) and runs every code
cell in order. Measured per N: time to a ready server and per-learner notebook time (median, max), the hub's
memory (JupyterHub + proxy + culler, RSS) and each learner's peak memory (server + kernel: the peak of the
learner's memory cgroup). The capacity is the largest N whose slowest learner stays within 2× the single-user
time; memory per learner sizes RAM. Everyone pressing "Run All" in the same second is the worst case; a real
class spreads out.

Needs root (learners are system users) and the class install of the classroom tests
(``test-artifacts/classroom/install``, made by ``tools/hub.py install`` if missing). ``run()`` returns the rows
for ``benches/run_all.py``; ``python benches/bench_classroom.py`` prints them and the capacity table. Stops by
itself after ``LPU_BENCH_CLASSROOM_BUDGET_S`` (default 840 s): larger N are then reported as not run.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tools"), str(ROOT / "hub")]
import classroom  # noqa: E402 — after the sys.path line above

import hub as hubtool  # noqa: E402 — after the sys.path line above

INSTALL = ROOT / "test-artifacts" / "classroom" / "install"
CHAPTER = "03_sram_capacity_tax.ipynb"
SIZES = [int(x) for x in os.environ.get("LPU_BENCH_CLASSROOM_N", "1,5,10,20").split(",")]
BUDGET_S = float(os.environ.get("LPU_BENCH_CLASSROOM_BUDGET_S", "840"))


def _rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    kids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    kids.append(int(d.name))
            except (OSError, ValueError, IndexError):
                pass
    return kids


def hub_rss_bytes(hub_pid: int, learner_pids: set[int]) -> int:
    """JupyterHub and its own helpers (proxy, culler) — not the learners' servers."""
    return _rss_bytes(hub_pid) + sum(_rss_bytes(p) for p in _children(hub_pid) if p not in learner_pids)


def learner_peak_bytes(groups: classroom.Cgroups, system_user: str) -> int | None:
    if not groups.v1 or "memory" not in groups.v1:
        return None
    f = groups.v1["memory"] / groups.base / system_user / "memory.max_usage_in_bytes"
    try:
        return int(f.read_text())
    except (OSError, ValueError):
        return None


# ----------------------------------------------------------------------------------------------- one learner

async def _api(client, method, url, token, body=None):
    from tornado.httpclient import HTTPRequest

    req = HTTPRequest(url, method=method, headers={"Authorization": f"token {token}"},
                      body=None if body is None else json.dumps(body), request_timeout=600,
                      allow_nonstandard_methods=True)
    resp = await client.fetch(req)
    return json.loads(resp.body) if resp.body else None


async def _run_notebook(hub: hubtool.Hub, name: str, token: str, cells: list[str]) -> tuple[float, int]:
    """Open the chapter in a kernel session on the learner's server and run every code cell; (seconds, errors)."""
    from tornado.httpclient import AsyncHTTPClient, HTTPRequest
    from tornado.websocket import websocket_connect

    client = AsyncHTTPClient()
    base = f"{hub.url}/user/{name}/api"
    t0 = time.perf_counter()
    sess = await _api(client, "POST", f"{base}/sessions", token,
                      {"path": f"course/notebooks/{CHAPTER}", "type": "notebook", "name": CHAPTER,
                       "kernel": {"name": "python3"}})
    kid, session = sess["kernel"]["id"], uuid.uuid4().hex
    ws_url = f"{base.replace('http://', 'ws://')}/kernels/{kid}/channels?session_id={session}"
    ws = await websocket_connect(HTTPRequest(ws_url, headers={"Authorization": f"token {token}"},
                                             request_timeout=600), max_message_size=64 * 2**20)
    errors = 0
    try:
        for code in cells:
            msg_id = uuid.uuid4().hex
            await ws.write_message(json.dumps({
                "header": {"msg_id": msg_id, "username": name, "session": session, "msg_type": "execute_request",
                           "version": "5.3", "date": ""},
                "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                            "allow_stdin": False, "stop_on_error": True}}))
            replied = idle = False
            while not (replied and idle):
                raw = await ws.read_message()
                if raw is None:
                    raise RuntimeError(f"{name}: kernel websocket closed")
                if isinstance(raw, bytes):
                    continue
                msg = json.loads(raw)
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind = msg["header"]["msg_type"]
                if kind == "execute_reply":
                    replied = True
                    errors += msg["content"].get("status") != "ok"
                elif kind == "status" and msg["content"].get("execution_state") == "idle":
                    idle = True
    finally:
        ws.close()
    elapsed = time.perf_counter() - t0
    with contextlib.suppress(Exception):
        await _api(client, "DELETE", f"{base}/sessions/{sess['id']}", token)
    return elapsed, errors


async def _learner(hub: hubtool.Hub, name: str, cells: list[str], t_start: float) -> dict:
    from tornado.httpclient import AsyncHTTPClient, HTTPClientError

    client = AsyncHTTPClient()
    api = f"{hub.url}/hub/api"
    admin = hub.api_token
    with contextlib.suppress(HTTPClientError):
        await _api(client, "POST", f"{api}/users/{name}", admin)
    with contextlib.suppress(HTTPClientError):
        await _api(client, "POST", f"{api}/users/{name}/server", admin)
    while True:
        model = await _api(client, "GET", f"{api}/users/{name}", admin)
        server = model.get("servers", {}).get("")
        if server and server.get("ready"):
            break
        if time.perf_counter() - t_start > 900:
            raise RuntimeError(f"{name}: server not ready after 900 s")
        await asyncio.sleep(0.25)
    ready_s = time.perf_counter() - t_start
    token = (await _api(client, "POST", f"{api}/users/{name}/tokens", admin, {"note": "bench", "expires_in": 3600})
             )["token"]
    notebook_s, errors = await _run_notebook(hub, name, token, cells)
    return {"name": name, "ready_s": ready_s, "notebook_s": notebook_s, "errors": errors}


# ----------------------------------------------------------------------------------------------- one stage

async def _stage(hub: hubtool.Hub, names: list[str], cells: list[str], groups, hub_pid: int) -> dict:
    t0 = time.perf_counter()
    peak_hub = 0
    task = asyncio.gather(*(_learner(hub, n, cells, t0) for n in names))
    while not task.done():
        learner_pids = {p for n in names for p in groups.pids(classroom.system_name(n))}
        peak_hub = max(peak_hub, hub_rss_bytes(hub_pid, learner_pids))
        await asyncio.sleep(1.0)
    results = await task
    peaks = [learner_peak_bytes(groups, classroom.system_name(n)) for n in names]
    wall = time.perf_counter() - t0
    for n in names:  # stop the servers (their cgroups go with them) before the next stage
        with contextlib.suppress(Exception):
            hub.api("DELETE", f"/users/{n}/server", timeout=300)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and any(hub.api("GET", f"/users/{n}")["servers"] for n in names):
        await asyncio.sleep(1.0)
    return {"n": len(names), "ready": [r["ready_s"] for r in results], "notebook": [r["notebook_s"] for r in results],
            "errors": sum(r["errors"] for r in results), "hub_peak_bytes": peak_hub,
            "learner_peak_bytes": [p for p in peaks if p], "wall_s": wall}


def _code_cells(nb_path: Path) -> list[str]:
    nb = json.loads(nb_path.read_text())
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in nb["cells"] if c["cell_type"] == "code"]


def measure(sizes=SIZES, budget_s=BUDGET_S, log=print) -> list[dict]:
    if os.geteuid() != 0:
        raise RuntimeError("the classroom benchmark needs root (learners are system users)")
    if not (INSTALL / "venv" / "bin" / "jupyterhub").exists():
        hubtool.install(INSTALL, log=log)
    tag = secrets.token_hex(2)
    folder = ROOT / "test-artifacts" / "classroom" / "hubs" / f"bench{tag}"
    for sub, mode in (("", 0o755), ("home", 0o755), ("state", 0o700), ("exchange", 0o755)):
        (folder / sub).mkdir(parents=True, exist_ok=True, mode=mode)
        os.chmod(folder / sub, mode)
    sys.path.insert(0, str(ROOT / "tests"))
    from classroom_fixtures import free_port_block

    hub = hubtool.Hub(folder, "127.0.0.1", free_port_block(), install_dir=INSTALL)
    cgroup = f"lpu-lab-bench-{tag}"
    env = hubtool.hub_env(hub, cgroup=cgroup, admin=f"lec{tag}", idle_s=3600)
    names = [f"b{tag}n{i:02d}" for i in range(max(sizes))]
    cells = _code_cells(INSTALL / "course" / "notebooks" / CHAPTER)
    stages: list[dict] = []
    t_all = time.perf_counter()
    hub_pid = hubtool.start(hub, env)
    groups = classroom.Cgroups(cgroup)
    try:
        hub_idle = hub_rss_bytes(hub_pid, set())
        for n in sizes:
            spent = time.perf_counter() - t_all
            if stages and spent + stages[-1]["wall_s"] * n / stages[-1]["n"] * 1.2 > budget_s:
                log(f"N={n}: skipped (time budget {budget_s:.0f} s; {spent:.0f} s spent)")
                stages.append({"n": n, "skipped": True})
                continue
            st = asyncio.run(_stage(hub, names[:n], cells, groups, hub_pid))
            st["hub_idle_bytes"] = hub_idle
            stages.append(st)
            log(f"N={n}: ready median {statistics.median(st['ready']):.1f} s, notebook median "
                f"{statistics.median(st['notebook']):.1f} s / max {max(st['notebook']):.1f} s, errors {st['errors']}")
    finally:
        hubtool.stop(hub)
        for n in [*names, f"lec{tag}"]:
            classroom.remove_system_user(n)
        groups.remove()
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    return stages


def rows_from(stages: list[dict]) -> list[dict]:
    mib = 2**20
    rows = []
    done = [s for s in stages if not s.get("skipped")]
    single = next((statistics.median(s["notebook"]) for s in done if s["n"] == 1), None)
    capacity = None
    for s in stages:
        n = s["n"]
        if s.get("skipped"):
            rows.append({"name": f"classroom N={n}", "value": None, "unit": "", "note": "not run (time budget)"})
            continue
        ready, nb = s["ready"], s["notebook"]
        peak = s["learner_peak_bytes"]
        rows += [
            {"name": f"classroom N={n}: server ready, median", "value": statistics.median(ready), "unit": "s",
             "note": f"max {max(ready):.1f} s; N servers started at once through the REST API"},
            {"name": f"classroom N={n}: chapter 3 per learner, median", "value": statistics.median(nb), "unit": "s",
             "note": f"max {max(nb):.1f} s; {s['errors']} cell error(s); every code cell, kernel start included"},
            {"name": f"classroom N={n}: hub memory (peak RSS)", "value": s["hub_peak_bytes"] / mib, "unit": "MiB",
             "note": f"JupyterHub + proxy + culler; idle {s['hub_idle_bytes'] / mib:.0f} MiB"},
            {"name": f"classroom N={n}: learner memory (peak, median)",
             "value": statistics.median(peak) / mib if peak else None, "unit": "MiB",
             "note": (f"server + kernel, cgroup peak; max {max(peak) / mib:.0f} MiB" if peak
                      else "no memory cgroup to read")},
        ]
        if single and max(nb) <= 2 * single:
            capacity = n
    if single:
        per = [p for s in done for p in s["learner_peak_bytes"]]
        rows.append({"name": "classroom: learners within 2× single-user time", "value": capacity, "unit": "learners",
                     "note": f"largest tested N whose slowest learner ran chapter 3 in ≤ {2 * single:.1f} s "
                             f"(2 × {single:.1f} s), all starting at once"})
        if per:
            rows.append({"name": "classroom: memory per learner (peak, max)", "value": max(per) / mib, "unit": "MiB",
                         "note": "size RAM as hub memory + N × this"})
    return rows


def capacity_table(stages: list[dict]) -> str:
    lines = ["| learners | server ready median / max (s) | chapter 3 median / max (s) | hub peak (MiB) | "
             "learner peak median / max (MiB) |", "|---:|---:|---:|---:|---:|"]
    for s in stages:
        if s.get("skipped"):
            lines.append(f"| {s['n']} | not run | | | |")
            continue
        p = s["learner_peak_bytes"] or [0]
        lines.append(f"| {s['n']} | {statistics.median(s['ready']):.1f} / {max(s['ready']):.1f} | "
                     f"{statistics.median(s['notebook']):.1f} / {max(s['notebook']):.1f} | "
                     f"{s['hub_peak_bytes'] / 2**20:.0f} | {statistics.median(p) / 2**20:.0f} / {max(p) / 2**20:.0f} |")
    return "\n".join(lines)


def write_capacity(stages: list[dict], rows: list[dict], path: Path = ROOT / "benches" / "CAPACITY.md") -> None:
    """The capacity table for lecturers (``benches/CAPACITY.md``), with the machine it was measured on."""
    import datetime
    import platform

    cap = next((r for r in rows if r["name"].startswith("classroom: learners within")), None)
    mem = next((r for r in rows if r["name"].startswith("classroom: memory per learner")), None)
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    lines = ["# Class hub capacity (benches/bench_classroom.py, part of `make bench`)", "",
             f"Measured {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores, "
             f"{total:.0f} GiB ({platform.machine()}); load average at the end {os.getloadavg()[0]:.1f} (other jobs "
             "on the machine count). Every learner starts a server and runs chapter 3 top to bottom at the same "
             "moment (1 CPU core and 2 GB per learner allowed).", "", capacity_table(stages), ""]
    if cap and cap["value"] is not None:
        lines.append(f"**{cap['value']:.0f} learner(s)** run chapter 3 within 2× the single-user time "
                     f"({cap['note']}).")
    if mem and mem["value"] is not None:
        lines.append(f"**{mem['value']:.0f} MiB per learner** at peak (server + kernel); {mem['note']}.")
    path.write_text("\n".join(lines) + "\n")


def run() -> list[dict]:
    stages = measure(log=lambda m: print(m, file=sys.stderr))
    rows = rows_from(stages)
    write_capacity(stages, rows)
    return rows


if __name__ == "__main__":
    for r in run():
        v = "—" if r["value"] is None else f"{r['value']:.1f}"
        print(f"{r['name']:<55} {v:>8} {r['unit']:<9} {r['note']}")
    print()
    print((ROOT / "benches" / "CAPACITY.md").read_text())
