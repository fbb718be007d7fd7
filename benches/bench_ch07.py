"""Benchmarks for chapter 7's kernels (labsim.systolic, labsim.mesh, labsim.numerics, labsim.silicon) and its widget.

Each kernel is timed compiled (numba) on a realistic size and as plain Python (the same kernel source under
``NUMBA_DISABLE_JIT=1``, in a subprocess) on a small size; both are reported as work per second, and their ratio
is the speed-up (goal: ≥ 100× each). Also: the next-LPU widget callback and one widget move (goal < 100 ms).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from labsim import mesh, numerics, silicon, systolic  # noqa: E402 — after the sys.path line above

try:
    from _timing import best_of
except ImportError:  # pragma: no cover - run from elsewhere
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _timing import best_of


# ------------------------------------------------------------------------------------------ one kernel each
# Each function prepares the private kernel's inputs once, then times the kernel alone (best of ``repeats``);
# under NUMBA_DISABLE_JIT=1 the very same calls run the kernel's Python source. Returns (work/s, description).

def _systolic(R, B, tiles_k, repeats):
    from labsim.systolic import _run
    rng = np.random.default_rng(0)
    a = systolic.SystolicArray(rows=R, cols=R, weight_shift_cycles=R)
    T = tiles_k
    W = rng.integers(-128, 128, (T, R, R)).astype(np.int64)
    A = rng.integers(-128, 128, (T, B, R)).astype(np.int64)
    useful = np.ones((T, R, R), np.bool_)
    sched = systolic.tile_schedule(T, B, a)
    n = sched["cycles"] + 2

    def go():
        _run(W, A, sched["start"], R, R, np.zeros((T, B, R), np.int64), np.full((T, B, R), -1, np.int64),
             np.zeros(n, np.int64), useful, np.zeros((1, 1, 1), np.int32), False)
    return n * R * R / best_of(go, repeats), f"{R}×{R} array, batch {B}, {T} tiles, {n:,} cycles"


def _mesh_dynamic(k, cycles, repeats):
    from labsim.mesh import _dynamic
    cfg = mesh.MeshConfig(width=k, height=k)
    tr = mesh.traffic(0.2, cfg, cycles=cycles, seed=0)
    arrived = np.full(len(tr), -1, np.int64)
    t = best_of(lambda: _dynamic(tr.src, tr.dst, tr.created, k, k, cfg.hop_cycles, cfg.buffer_flits, cycles + 200,
                                 arrived), repeats)
    return (cycles + 200) * cfg.nodes / t, f"{k}×{k} mesh, load 0.2, {cycles:,} cycles, {len(tr):,} packets"


def _mesh_static(k, cycles, repeats):
    from labsim.mesh import _static
    cfg = mesh.MeshConfig(width=k, height=k)
    tr = mesh.traffic(0.3, cfg, cycles=cycles, seed=0)
    depart = np.full(len(tr), -1, np.int64)
    horizon = 2 * cycles + 2000
    t = best_of(lambda: _static(tr.src, tr.dst, tr.created, k, cfg.nodes, cfg.hop_cycles, horizon, depart,
                                mesh.MAX_STATIC_PROBES), repeats)
    return len(tr) / t, f"{k}×{k} mesh, load 0.3, {len(tr):,} packets"


def _rounding(n, repeats):
    from labsim.numerics import _round_array
    x = np.random.default_rng(0).standard_normal(n)
    out = np.empty(n)
    f = numerics.fmt("fp8_e4m3")
    t = best_of(lambda: _round_array(x, out, f.man_bits, f.emin, f.max_finite, False), repeats)
    return n / t, f"{n:,} values to FP8 E4M3"


def _attention(n, d, repeats):
    from labsim.numerics import _attention as kernel
    rng = np.random.default_rng(0)
    q, Kt, V = rng.standard_normal(d), rng.standard_normal((d, n)), rng.standard_normal((n, d))
    out, probs = np.empty(d), np.empty(n)
    b = numerics.fmt("bf16")
    t = best_of(lambda: kernel(q, Kt, V, d ** -0.5, b.man_bits, b.emin, b.max_finite, True, b.man_bits, b.emin,
                               b.max_finite, False, out, probs), repeats)
    return 2 * n * d / t, f"one query over {n:,} keys, head_dim {d}, BF16 logits and accumulators"


def _int_gemv(m, k, repeats):
    from labsim.numerics import _int_gemv as kernel
    rng = np.random.default_rng(0)
    W, x = rng.integers(-128, 128, (m, k)).astype(np.int64), rng.integers(-128, 128, k).astype(np.int64)
    out, flags = np.zeros(m, np.int64), np.zeros(m, np.bool_)
    t = best_of(lambda: kernel(W, x, 24, True, out, flags), repeats)
    return m * k / t, f"{m}×{k} INT8 GEMV, 24-bit saturating accumulator"


def _wafers(n, repeats):
    from labsim.silicon import _wafers as kernel
    w = h = 725.0 ** 0.5
    cols = rows = int(300.0 / w) + 2
    t = best_of(lambda: kernel(n, 150.0, w, h, 0.001, 0.0, 0, np.zeros((n, cols * rows), np.int32)), repeats)
    defects = n * 0.001 * 4 * 150.0 ** 2
    return defects / t, f"{n:,} wafers, ~{defects:,.0f} candidate defects"


SIZES = {   # name -> (numba args, pure-Python args, unit)
    "systolic": ((64, 64, 4, 3), (8, 8, 2, 1), "PE-cycles/s"),
    "mesh dynamic": ((8, 4000, 3), (8, 1500, 1), "router-cycles/s"),
    "mesh static": ((8, 4000, 3), (8, 150, 1), "packets/s"),
    "numerics rounding": ((1_000_000, 3), (20_000, 1), "values/s"),
    "numerics attention": ((8192, 128, 3), (64, 16, 1), "accumulations/s"),
    "numerics int_gemv": ((64, 65536, 3), (4, 2048, 1), "MACs/s"),
    "silicon wafers": ((2000, 3), (20, 1), "defects/s"),
}
FUNCS = {"systolic": _systolic, "mesh dynamic": _mesh_dynamic, "mesh static": _mesh_static,
         "numerics rounding": _rounding, "numerics attention": _attention, "numerics int_gemv": _int_gemv,
         "silicon wafers": _wafers}


def _python_side() -> dict:
    out = {}
    for name, (_, small, _) in SIZES.items():
        rate, what = FUNCS[name](*small)
        out[name] = [rate, what]
    return out


def _end_to_end() -> list[dict]:
    """The public calls a notebook makes, validation and wrappers included."""
    rows = []
    rng = np.random.default_rng(0)
    W, x = rng.integers(-128, 128, (256, 256)), rng.integers(-128, 128, (1, 256))
    t = best_of(lambda: systolic.simulate(W, x, systolic.tpu_v1_array()), 3)
    rows.append({"name": "systolic.simulate: one 256×256 tile on TPU v1, batch 1", "value": t * 1e3, "unit": "ms",
                 "note": "2,117 cycles × 65,536 PEs, weights fetched from DDR3"})
    t = best_of(lambda: mesh.latency_vs_load(np.round(np.arange(0.05, 0.51, 0.05), 2)), 1)
    rows.append({"name": "mesh.latency_vs_load: 10 loads, 8×8, dynamic + static", "value": t, "unit": "s",
                 "note": "4,000 cycles each (the chapter's sweep)"})
    t = best_of(lambda: numerics.attention(32768), 1)
    rows.append({"name": "numerics.attention: 32,768-token context", "value": t * 1e3, "unit": "ms",
                 "note": "BF16 keys, FP32 logits and accumulators, + the FP64 reference"})
    t = best_of(lambda: silicon.simulate_wafers(725.0, 0.001, n_wafers=300), 3)
    rows.append({"name": "silicon.simulate_wafers: 300 wafers of 725 mm² dies", "value": t * 1e3, "unit": "ms",
                 "note": "the chapter's Monte Carlo"})
    return rows


def run() -> list[dict]:
    for mod in (systolic, mesh, numerics, silicon):
        mod._warmup()
    env = dict(os.environ, NUMBA_DISABLE_JIT="1", PYTHONPATH=str(ROOT))
    res = subprocess.run([sys.executable, __file__, "--python-side"], env=env, capture_output=True, text=True,
                         check=True, timeout=1800)
    py = json.loads(res.stdout.strip().splitlines()[-1])
    rows = []
    for name, (big, _, unit) in SIZES.items():
        rate, what = FUNCS[name](*big)
        prate, pwhat = py[name]
        rows.append({"name": f"{name} kernel (numba)", "value": rate, "unit": unit, "note": what})
        rows.append({"name": f"{name} kernel (pure Python)", "value": prate, "unit": unit,
                     "note": f"same kernel, NUMBA_DISABLE_JIT=1: {pwhat}"})
        rows.append({"name": f"{name}: numba / pure Python", "value": rate / prate, "unit": "×",
                     "note": "goal ≥ 100×"})
    rows += _end_to_end()
    # the chapter's widget: one callback, then one move of the real ipywidgets front end
    from labsim.viz import ch07
    ch07.next_lpu_explore()
    t = best_of(lambda: ch07.next_lpu_explore("5nm", 0.2, 4.0, True, "llama-3.3-70b"), 5)
    rows.append({"name": "viz.ch07.next_lpu_explore callback", "value": t * 1e3, "unit": "ms",
                 "note": "silicon + capacity.plan + decode_time + tco, twice (design and LPU v1); goal < 100 ms"})
    w = ch07.make_next_lpu_widget()
    times = []
    for key, value in (("k", 5.0), ("node", "7nm"), ("rates_scale", False), ("defect_density_per_cm2", 0.5),
                       ("model", "llama-3.1-405b"), ("k", 1.5)):
        t0 = time.perf_counter()
        w.controls[key].value = value
        times.append(time.perf_counter() - t0)
    times.sort()
    rows.append({"name": "viz.ch07 next-LPU widget: one control move", "value": times[len(times) // 2] * 1e3,
                 "unit": "ms/move", "note": f"median of {len(times)} moves, slowest {times[-1] * 1e3:.0f} ms; "
                                            "goal < 100 ms"})
    return rows


if __name__ == "__main__":
    if "--python-side" in sys.argv:
        print(json.dumps(_python_side()))
    else:
        for r in run():
            print(f"{r['name']:<48s} {r['value']:>16,.1f} {r['unit']:<16s} {r['note']}")
