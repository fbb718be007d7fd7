"""Run every benchmark and write one Markdown table: ``benches/REPORT.md`` (``make bench``).

Collected, each in its own subprocess (a crash or timeout in one is reported as a row and the rest still run):

* every ``benches/bench_*.py`` — its ``run() -> list[dict]`` rows ``{name, value, unit, note}``;
* numba JIT: cold ``import labsim; labsim.warmup()`` with a fresh, empty ``NUMBA_CACHE_DIR`` (everything compiles),
  then the same again on that now-warm cache (what a learner's first cell costs after ``make install``);
* widget callbacks: every ``labsim.viz.chNN.make_*_widget()`` built without a browser, each slider/dropdown moved
  through its range, the callback's p50/p95 in ms (figures rendered to PNG as the inline backend does);
* each ``notebooks/NN_*.ipynb`` run top to bottom on a fresh kernel with nbclient (kernel start included);
* ``make test`` wall time, if given (``--make-test-seconds S`` or a number in ``benches/.make_test_seconds``).

Ratios (e.g. numba vs ``NUMBA_DISABLE_JIT=1``) come from the benches themselves, measured in the same run.
Nothing here asserts a time. Usage::

    .venv/bin/python benches/run_all.py [--make-test-seconds S] [--only tco,latency] [--skip-notebooks]
                                         [--skip-jit] [--skip-widgets] [--out benches/REPORT.md]
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHES = ROOT / "benches"
NOTEBOOKS = ROOT / "notebooks"
PY = sys.executable

# ------------------------------------------------------------------------------------------------- child code
# Each snippet runs as ``python -c CODE OUT_JSON [ARGS]`` and writes a list of rows (or a dict) to OUT_JSON.

_BENCH_CHILD = r"""
import importlib.util, json, math, pathlib, sys
out, path = sys.argv[1], sys.argv[2]
here = pathlib.Path(path).resolve()
sys.path[:0] = [str(here.parents[1]), str(here.parent)]
spec = importlib.util.spec_from_file_location("bench_module", path)
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
rows = mod.run()
clean = []
for r in rows:
    v = r.get("value")
    try:
        v = float(v)
    except (TypeError, ValueError):
        v = None
    if v is not None and not math.isfinite(v):
        v = None
    clean.append({"name": str(r.get("name", "?")), "value": v, "unit": str(r.get("unit", "")),
                  "note": str(r.get("note", ""))})
json.dump(clean, open(out, "w"))
"""

_JIT_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import labsim
t_import = time.perf_counter() - t0
per_module = labsim.warmup()
total = time.perf_counter() - t0
import numba
json.dump({"import_s": t_import, "total_s": total, "per_module_s": per_module,
           "cache_dir": numba.config.CACHE_DIR}, open(sys.argv[1], "w"))
"""

_WIDGET_CHILD = r"""
import contextlib, importlib, inspect, io, json, os, pkgutil, sys, time, warnings
os.environ.setdefault("MPLBACKEND", "Agg")
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import ipywidgets as W
import labsim
labsim.warmup()

def _show(*a, **k):   # what the inline backend does at the end of a cell: render each figure to PNG, close it
    for num in plt.get_fignums():
        fig = plt.figure(num)
        fig.savefig(io.BytesIO(), format="png", dpi=fig.dpi)
    plt.close("all")
plt.show = _show

def walk(w, seen):
    if id(w) in seen:
        return
    seen.add(id(w))
    yield w
    for c in getattr(w, "children", ()) or ():
        yield from walk(c, seen)

def values_for(ctrl, n=12):
    if isinstance(ctrl, (W.SelectionSlider, W.Dropdown, W.ToggleButtons, W.RadioButtons, W.Select)):
        opts = list(ctrl.options)
        vals = [o[1] if isinstance(o, tuple) else o for o in opts]
        return vals[:n]
    if isinstance(ctrl, (W.IntSlider, W.FloatSlider, W.BoundedIntText, W.BoundedFloatText)):
        xs = np.linspace(ctrl.min, ctrl.max, n)
        return [int(round(x)) if isinstance(ctrl, (W.IntSlider, W.BoundedIntText)) else float(x) for x in xs]
    if isinstance(ctrl, W.FloatLogSlider):
        return [float(ctrl.base ** e) for e in np.linspace(ctrl.min, ctrl.max, n)]
    if isinstance(ctrl, W.Checkbox):
        return [not ctrl.value, ctrl.value]
    return []

import logging
from traitlets import log as _tlog

class _Swallowed(logging.Handler):   # interactive() logs callback exceptions instead of raising without a kernel
    count = 0
    def emit(self, record):
        if "Exception in interact" in record.getMessage():
            _Swallowed.count += 1
_h = _Swallowed()
logging.getLogger().addHandler(_h)
_tlog.get_logger().addHandler(_h)
_tlog.get_logger().propagate = False

import labsim.viz as viz
results = []
for info in sorted(pkgutil.iter_modules(viz.__path__), key=lambda i: i.name):
    if not info.name.startswith("ch"):
        continue
    try:
        mod = importlib.import_module(f"labsim.viz.{info.name}")
    except Exception as exc:
        results.append({"widget": f"viz.{info.name}", "error": f"import failed: {exc!r}"[:200]})
        continue
    for name, fn in sorted(vars(mod).items()):
        if not (name.startswith("make_") and name.endswith("_widget") and callable(fn)):
            continue
        label = f"viz.{info.name}.{name}()"
        sig = inspect.signature(fn)
        if any(p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
               for p in sig.parameters.values()):
            results.append({"widget": label, "skipped": "needs arguments"})
            continue
        sink = io.StringIO()
        try:
            with contextlib.redirect_stdout(sink), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                root = fn()
        except Exception as exc:
            results.append({"widget": label, "error": f"build failed: {exc!r}"[:200]})
            continue
        if root is None:
            results.append({"widget": label, "skipped": "returns None (displays itself)"})
            continue
        ctrls = [w for w in walk(root, set()) if isinstance(w, W.ValueWidget) and values_for(w)]
        times, errors = [], 0
        for ctrl in ctrls:
            start = ctrl.value
            for v in values_for(ctrl) + [start]:
                if v == ctrl.value:
                    continue
                before = _Swallowed.count
                t0 = time.perf_counter()
                try:
                    with contextlib.redirect_stdout(sink), warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        ctrl.value = v       # observers (interactive's update) run synchronously
                except Exception:
                    errors += 1
                    continue
                dt = time.perf_counter() - t0
                if _Swallowed.count > before:
                    errors += 1
                    continue
                times.append(dt)
        plt.close("all")
        if not times:
            results.append({"widget": label, "skipped": "no movable controls"})
            continue
        t = np.array(times) * 1e3
        results.append({"widget": label, "n": int(t.size), "controls": len(ctrls), "errors": errors,
                        "p50_ms": float(np.percentile(t, 50)), "p95_ms": float(np.percentile(t, 95)),
                        "max_ms": float(t.max())})
json.dump(results, open(sys.argv[1], "w"))
"""

_NOTEBOOK_CHILD = r"""
import json, shutil, sys, tempfile, time, pathlib
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError
src = pathlib.Path(sys.argv[2])
with tempfile.TemporaryDirectory() as tmp:
    dst = pathlib.Path(tmp) / src.name
    shutil.copyfile(src, dst)          # run a copy: the course tree is never written
    nb = nbformat.read(dst, as_version=4)
    client = NotebookClient(nb, timeout=int(sys.argv[3]), kernel_name="python3",
                            resources={"metadata": {"path": tmp}})
    t0 = time.perf_counter()
    err = None
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError) as exc:
        err = str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else type(exc).__name__
    total = time.perf_counter() - t0
n_code = sum(1 for c in nb.cells if c.cell_type == "code")
json.dump({"seconds": total, "code_cells": n_code, "error": err}, open(sys.argv[1], "w"))
"""


def _child(code: str, args: list[str], *, env: dict | None = None, timeout_s: float) -> tuple[object, str | None]:
    """Run ``code`` in a fresh interpreter; returns (its JSON result, None) or (None, a one-line error)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        try:
            r = subprocess.run([PY, "-c", code, str(out), *args], cwd=ROOT, env=env or os.environ.copy(),
                               capture_output=True, text=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            return None, f"timed out after {timeout_s:.0f} s"
        if r.returncode != 0 or not out.exists():
            tail = (r.stderr or r.stdout).strip().splitlines()
            return None, f"exit {r.returncode}: {tail[-1] if tail else 'no output'}"[:300]
        return json.loads(out.read_text()), None


def _row(group: str, name: str, value, unit: str, note: str = "") -> dict:
    return {"group": group, "name": name, "value": value, "unit": unit, "note": note}


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------------- collectors

def collect_benches(only: set[str] | None, timeout_s: float) -> list[dict]:
    rows = []
    for path in sorted(BENCHES.glob("bench_*.py")):
        short = path.stem.removeprefix("bench_")
        if only and short not in only:
            continue
        _log(f"bench {path.name} …")
        t0 = time.perf_counter()
        res, err = _child(_BENCH_CHILD, [str(path)], timeout_s=timeout_s)
        dt = time.perf_counter() - t0
        if err:
            rows.append(_row(short, f"{path.name} FAILED", None, "", err))
            _log(f"  failed: {err}")
            continue
        for r in res:
            rows.append(_row(short, r["name"], r["value"], r["unit"], r["note"]))
        _log(f"  {len(res)} rows in {dt:.1f} s")
    return rows


def collect_jit(timeout_s: float) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="labsim-numba-cold-") as cache:
        env = os.environ.copy()
        env["NUMBA_CACHE_DIR"] = cache
        for label, what in (("cold", "fresh empty NUMBA_CACHE_DIR: every kernel compiles"),
                            ("warm", "same NUMBA_CACHE_DIR again: kernels load from the on-disk cache")):
            _log(f"jit {label} …")
            res, err = _child(_JIT_CHILD, [], env=env, timeout_s=timeout_s)
            if err:
                rows.append(_row("jit", f"import labsim + warmup() ({label})", None, "s", f"FAILED: {err}"))
                continue
            per = ", ".join(f"{k.removeprefix('labsim.')} {v:.2f}" for k, v in res["per_module_s"].items())
            rows.append(_row("jit", f"import labsim + warmup() ({label})", res["total_s"], "s",
                             f"{what}; import {res['import_s']:.2f} s; per module (s): {per}"))
    return rows


def collect_widgets(timeout_s: float) -> list[dict]:
    _log("widget callbacks …")
    res, err = _child(_WIDGET_CHILD, [], timeout_s=timeout_s)
    if err:
        return [_row("widgets", "widget callbacks FAILED", None, "", err)]
    rows = []
    for r in res:
        if "error" in r or "skipped" in r:
            rows.append(_row("widgets", f"{r['widget']} callback", None, "ms",
                             r.get("error") or f"not measured: {r['skipped']}"))
            continue
        raised = f", {r['errors']} moves raised" if r["errors"] else ""
        note = (f"{r['n']} control moves over {r['controls']} controls, max {r['max_ms']:.1f} ms{raised}; "
                "figures rendered to PNG; goal < 100 ms")
        rows.append(_row("widgets", f"{r['widget']} callback p50", r["p50_ms"], "ms", note))
        rows.append(_row("widgets", f"{r['widget']} callback p95", r["p95_ms"], "ms", ""))
    return rows


def collect_notebooks(timeout_s: float, cell_timeout_s: int) -> list[dict]:
    rows = []
    for nb in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        _log(f"notebook {nb.name} …")
        res, err = _child(_NOTEBOOK_CHILD, [str(nb), str(cell_timeout_s)], timeout_s=timeout_s)
        if err:
            rows.append(_row("notebooks", f"{nb.name} top to bottom", None, "s", f"FAILED: {err}"))
            continue
        note = f"{res['code_cells']} code cells, fresh kernel (start included), nbclient"
        if res["error"]:
            note += f"; STOPPED AT AN ERROR: {res['error']}"
        rows.append(_row("notebooks", f"{nb.name} top to bottom", res["seconds"], "s", note))
    return rows


def make_test_row(arg: float | None) -> list[dict]:
    src = None
    if arg is not None:
        seconds, src = arg, "--make-test-seconds"
    else:
        f = BENCHES / ".make_test_seconds"
        seconds = None
        if f.is_file():
            try:
                seconds, src = float(f.read_text().split()[0]), "benches/.make_test_seconds"
            except (ValueError, IndexError):
                seconds = None
    if seconds is None:
        return [_row("make test", "make test (wall)", None, "s",
                     "not measured in this run: pass --make-test-seconds S or write S to benches/.make_test_seconds")]
    return [_row("make test", "make test (wall)", seconds, "s", f"from {src}; JOBS=2")]


# ------------------------------------------------------------------------------------------------- report

def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    versions = {}
    for mod in ("numba", "numpy", "llvmlite", "jupyterlab", "ipywidgets", "matplotlib"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001 — a report line, not a check: any failure reads n/a
            versions[mod] = "n/a"
    return {"cpu": cpu, "cores": os.cpu_count(), "usable_cores": usable,
            "python": platform.python_version(), "os": f"{platform.system()} {platform.release()}",
            "versions": versions,
            "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")}


def fmt_value(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    v = float(v)
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e9:
        return f"{v:.3g}".replace("e+0", "e").replace("e+", "e")
    if a >= 100:
        return f"{v:,.0f}"
    if a >= 1:
        return f"{v:.3g}" if a < 10 else f"{v:.1f}"
    return f"{v:.3g}"


def _md(s: str) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def render(rows: list[dict], m: dict, elapsed_s: float) -> str:
    v = m["versions"]
    lines = [
        "# LPU Lab — benchmark report",
        "",
        f"Generated by `make bench` (`benches/run_all.py`) on {m['date']}. Machine: **{m['cpu']}**, "
        f"{m['cores']} cores ({m['usable_cores']} usable by this process), {m['os']}; Python {m['python']}, "
        f"numba {v['numba']} (llvmlite {v['llvmlite']}), NumPy {v['numpy']}, matplotlib {v['matplotlib']}, "
        f"ipywidgets {v['ipywidgets']}, JupyterLab {v['jupyterlab']}. Whole run: {elapsed_s:.0f} s.",
        "",
        "Each group ran in its own process; ratios are measured in the same run. "
        "“—” = not measured (see note). No test asserts on these times.",
        "",
        "| group | benchmark | value | unit | note |",
        "|---|---|---:|---|---|",
    ]
    for r in rows:
        lines.append(f"| {_md(r['group'])} | {_md(r['name'])} | {fmt_value(r['value'])} | {_md(r['unit'])} | "
                     f"{_md(r['note'])} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Run every benchmark and write benches/REPORT.md.")
    ap.add_argument("--make-test-seconds", type=float, default=None,
                    help="wall time of `make test` measured outside (else benches/.make_test_seconds, if present)")
    ap.add_argument("--only", default=None, help="comma-separated bench names to run, e.g. tco,latency (bench_NAME.py)")
    ap.add_argument("--skip-benches", action="store_true")
    ap.add_argument("--skip-jit", action="store_true")
    ap.add_argument("--skip-widgets", action="store_true")
    ap.add_argument("--skip-notebooks", action="store_true")
    ap.add_argument("--bench-timeout", type=float, default=900, help="seconds per bench file (default 900)")
    ap.add_argument("--notebook-timeout", type=float, default=900, help="seconds per notebook (default 900)")
    ap.add_argument("--out", type=Path, default=BENCHES / "REPORT.md")
    args = ap.parse_args(argv)
    only = {s.strip().removeprefix("bench_").removesuffix(".py") for s in args.only.split(",")} if args.only else None

    t0 = time.perf_counter()
    rows: list[dict] = []
    if not args.skip_benches:
        rows += collect_benches(only, args.bench_timeout)
    if not args.skip_jit:
        rows += collect_jit(args.bench_timeout)
    if not args.skip_widgets:
        rows += collect_widgets(args.bench_timeout)
    if not args.skip_notebooks:
        rows += collect_notebooks(args.notebook_timeout, cell_timeout_s=int(args.notebook_timeout))
    rows += make_test_row(args.make_test_seconds)
    report = render(rows, machine(), time.perf_counter() - t0)
    args.out.write_text(report, encoding="utf-8")
    print(report)
    _log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
