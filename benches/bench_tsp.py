"""Benchmarks for labsim.tsp: slice-cycle updates per second, numba vs pure Python, JIT compile time, and what a
learner waits for: simulate() end to end on chapter 2's decoder layer, chapter 2's "1,000 simulations" cell, the
MXM matvec, and a full-size decoder layer share simulated cycle by cycle.

A *slice-cycle update* is advancing one slice's stream registers (both directions, all streams) by one cycle
and executing whatever that slice issues in that cycle; a run of C cycles on a chip of S slices performs
S × C of them. The pure-Python side is the same kernel source run under ``NUMBA_DISABLE_JIT=1`` in a
subprocess, on a smaller program of the same shape (it is ~10³× slower).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from labsim import schedule  # noqa: E402 — after the sys.path line above
from labsim.tsp import Geometry, Program, _encode, _kernel, simulate  # noqa: E402 — after the sys.path line above

#: measured before issue 18's changes (commit 7f65ae0) on the 2-core dev machine that also produced the "after"
#: rows of the first REPORT of this branch; printed next to the live figures (timings on a shared machine vary)
BEFORE = {"simulate_ms": 10.6, "simulate_py_ms": 154.0, "thousand_s": 7.8}

DENSE_CYCLES = 4000        # numba side, faithful geometry
SPARSE_CYCLES = 200_000
MXM_CYCLES = 100
PY_DENSE_CYCLES = 150      # pure-Python side
PY_SPARSE_CYCLES = 2000


def dense_program(g: Geometry, cycles: int) -> tuple[Program, dict]:
    """Steady-state streaming: every cycle two MEM reads meet at the VXM, are added, and the sum is written back.

    4 instructions per cycle, each on full vectors (320 elements on faithful)."""
    p = Program(g, f"dense-{cycles}")
    words = g.mem_words_per_bank
    mem = {}
    for bank in range(2):
        for a in range(4):
            mem[("MEM_W0", bank, a)] = np.arange(g.vector_len, dtype=np.int32) + a
            mem[("MEM_E0", bank, a)] = np.arange(g.vector_len, dtype=np.int32) - a
    for t in range(cycles):
        bank, addr = t % 2, (t // 2) % 4
        ra = p.mem_read(t, "MEM_W0", bank, addr, "E0")
        p.mem_read(t, "MEM_E0", bank, addr, "W0")
        add = p.add(p.arrival(ra, "VXM"), "E0", "W0", "E1")
        p.mem_write(p.arrival(add, "MEM_E1"), "MEM_E1", bank, (t // 2) % words, "E1")
    return p, mem


def sparse_program(g: Geometry, cycles: int) -> tuple[Program, dict]:
    """Mostly idle streams: one read → write pair every 100 cycles (the engine still advances every register)."""
    p = Program(g, f"sparse-{cycles}")
    mem = {("MEM_W0", 0, 0): np.arange(g.vector_len, dtype=np.int8)}
    for t in range(0, cycles - 20, 100):
        r = p.mem_read(t, "MEM_W0", 0, 0, "E0")
        p.mem_write(p.arrival(r, "MEM_E3"), "MEM_E3", 1, 0, "E0")
    return p, mem


def mxm_program(g: Geometry, cycles: int) -> tuple[Program, dict]:
    """MXM-bound: all 4 planes run one full matvec every cycle (the chip's peak MAC rate, simulated exactly)."""
    p = Program(g, f"mxm-{cycles}")
    n = g.vector_len
    w = (np.arange(n * n).reshape(n, n) % 7 - 3).astype(np.int8)
    mem = {}
    for bank in range(2):
        mem[("MEM_W0", bank, 0)] = (np.arange(n) % 5 - 2).astype(np.int8)
        mem[("MEM_E0", bank, 0)] = (np.arange(n) % 3 - 1).astype(np.int8)
    for s in ("MXM_W1", "MXM_W0", "MXM_E0", "MXM_E1"):
        p.mxm_install(0, s, w)
    start = g.mxm_install_cycles
    for t in range(start, start + cycles):
        ra = p.mem_read(t, "MEM_W0", t % 2, 0, "E0")      # east to MXM_E0 / MXM_E1
        rb = p.mem_read(t, "MEM_E0", t % 2, 0, "W0")      # west to MXM_W0 / MXM_W1
        p.mxm_matvec(p.arrival(ra, "MXM_E0"), "MXM_E0", "E0", "W1")
        p.mxm_matvec(p.arrival(ra, "MXM_E1"), "MXM_E1", "E0", "W2")
        p.mxm_matvec(p.arrival(rb, "MXM_W0"), "MXM_W0", "W0", "E1")
        p.mxm_matvec(p.arrival(rb, "MXM_W1"), "MXM_W1", "W0", "E2")
    return p, mem


def kernel_args(p: Program, g: Geometry, mem: dict, values: bool = True) -> tuple:
    """The kernel's arguments for program ``p`` (the same ones simulate() passes)."""
    enc = _encode.encode(p)
    pool, pool_dt, mem_val, vref, src_a, src_b, seg_end, lsrc_w, err = _encode.run_arrays(enc, g, mem, values)
    return (enc["tab"], enc["lsrc"], enc["fimm"], enc["ev"], g.n_slices, g.streams_per_direction,
            g.stream_hop_cycles, enc["t_end"], values, pool, pool_dt, enc["prow"], mem_val, enc["n_banks"],
            enc["n_planes"], enc["wts"], enc["wdt"], enc["perms"], vref, src_a, src_b, seg_end, lsrc_w, err)


def time_kernel(p: Program, g: Geometry, mem: dict, repeats: int = 3) -> tuple[float, int]:
    """Best-of wall time of the kernel alone and the slice-cycles it simulated."""
    best = float("inf")
    for _ in range(repeats):
        args = kernel_args(p, g, mem)
        t0 = time.perf_counter()
        _kernel._run(*args)
        best = min(best, time.perf_counter() - t0)
        assert args[-1][0] == 0, "benchmark program faulted"
    return best, g.n_slices * (args[7] + 1)


def _ch2_layer():
    layer = schedule.decoder_layer_graph("llama-3.1-8b")
    return layer, schedule.list_schedule(layer)


def _simulate_per_call(n: int) -> float:
    """Seconds per simulate() call on chapter 2's list-scheduled decoder layer (warm: encoding cached)."""
    layer, sch = _ch2_layer()
    simulate(sch.program, layer.geometry)
    t0 = time.perf_counter()
    for _ in range(n):
        simulate(sch.program, layer.geometry)
    return (time.perf_counter() - t0) / n


def _python_side(dense_cycles: int, sparse_cycles: int) -> dict:
    g = Geometry.faithful()
    out = {"simulate_s": _simulate_per_call(3)}
    for name, (p, mem) in (("dense", dense_program(g, dense_cycles)), ("sparse", sparse_program(g, sparse_cycles))):
        t, sc = time_kernel(p, g, mem, repeats=1)
        out[name] = sc / t
    return out


def _compile_time() -> float:
    """Seconds to compile the kernel from scratch (empty cache dir, fresh interpreter)."""
    code = ("import time, labsim.tsp as t; from labsim.tsp import demo_program, simulate;"
            "p, m, *_ = demo_program(); t0 = time.perf_counter(); simulate(p, memory=m);"
            "t1 = time.perf_counter(); simulate(p, memory=m); t2 = time.perf_counter();"
            "print((t1 - t0) - (t2 - t1))")
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, NUMBA_CACHE_DIR=d, PYTHONPATH=str(ROOT))
        res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(res.stdout.strip().splitlines()[-1])


def run() -> list[dict]:
    g = Geometry.faithful()
    import labsim.tsp
    labsim.tsp._warmup()
    layer_rows = _learner_rows()
    rates = {}
    for name, (p, mem) in (("dense", dense_program(g, DENSE_CYCLES)), ("sparse", sparse_program(g, SPARSE_CYCLES))):
        t, sc = time_kernel(p, g, mem)
        rates[name] = (sc / t, t, sc)
    p_mxm, mem_mxm = mxm_program(g, MXM_CYCLES)
    t_mxm, _ = time_kernel(p_mxm, g, mem_mxm)
    env = dict(os.environ, NUMBA_DISABLE_JIT="1", PYTHONPATH=str(ROOT))
    res = subprocess.run([sys.executable, __file__, "--python-side", str(PY_DENSE_CYCLES), str(PY_SPARSE_CYCLES)],
                         env=env, capture_output=True, text=True, check=True)
    py = json.loads(res.stdout.strip().splitlines()[-1])
    # end to end (validation + encoding + kernel) for the dense program
    p, mem = dense_program(g, DENSE_CYCLES)
    t0 = time.perf_counter()
    simulate(p, g, memory=mem)
    t_e2e = time.perf_counter() - t0
    compile_s = _compile_time()
    rows = []
    for name, what in (("dense", "4 full-vector instructions/cycle"), ("sparse", "1 instruction pair per 100 cycles")):
        rate, t, sc = rates[name]
        rows.append({"name": f"tsp kernel, {name} program (numba)", "value": rate, "unit": "slice-cycles/s",
                     "note": f"faithful, 97 slices, {sc // 97:,} cycles, {what}; {t * 1e3:.1f} ms; goal ≥ 1e8"})
        rows.append({"name": f"tsp kernel, {name} program (pure Python)", "value": py[name],
                     "unit": "slice-cycles/s", "note": "same kernel, NUMBA_DISABLE_JIT=1, smaller program"})
        rows.append({"name": f"tsp numba / pure Python, {name}", "value": rate / py[name], "unit": "×",
                     "note": "goal ≥ 100×"})
    rows.append({"name": "tsp kernel, MXM-bound program (numba)", "value": 4 * g.vector_len ** 2 * MXM_CYCLES / t_mxm,
                 "unit": "simulated MAC/s", "note": f"4 planes × one 320×320 int8 matvec per cycle, {MXM_CYCLES} "
                                                    f"cycles, exact arithmetic; {t_mxm * 1e3:.0f} ms "
                                                    f"(= {97 * MXM_CYCLES / t_mxm:.3g} slice-cycles/s)"})
    rows.append({"name": "tsp simulate() end to end, dense", "value": rates["dense"][2] / t_e2e,
                 "unit": "slice-cycles/s", "note": f"incl. Python validation + encoding of "
                                                   f"{len(p):,} instructions; {t_e2e:.2f} s"})
    rows.append({"name": "tsp JIT compile time", "value": compile_s, "unit": "s",
                 "note": "first call with an empty numba cache minus a warm call; cached afterwards (cache=True)"})
    t_jit = _simulate_per_call(300)
    rows.append({"name": "tsp simulate() end to end, ch2 decoder layer (numba)", "value": t_jit * 1e3, "unit": "ms",
                 "note": f"list-scheduled mini layer, encoding cached per program; before (7f65ae0): "
                         f"{BEFORE['simulate_ms']} ms"})
    rows.append({"name": "tsp simulate() end to end, ch2 decoder layer (pure Python)", "value": py["simulate_s"] * 1e3,
                 "unit": "ms", "note": f"NUMBA_DISABLE_JIT=1; before: {BEFORE['simulate_py_ms']} ms"})
    rows.append({"name": "tsp simulate() numba / pure Python, ch2 decoder layer", "value": py["simulate_s"] / t_jit,
                 "unit": "×", "note": f"goal ≥ 100×; before: {BEFORE['simulate_py_ms'] / BEFORE['simulate_ms']:.0f}×"})
    return rows + layer_rows


def _learner_rows() -> list[dict]:
    rows = []
    layer, sch = _ch2_layer()
    g = layer.geometry
    t0 = time.perf_counter()
    cycles = [simulate(sch.program, g).cycles for _ in range(1000)]
    t_1000 = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(50):
        simulate(sch.program.copy(), g)            # a fresh copy: the encoding is redone every time
    t_uncached = (time.perf_counter() - t0) / 50
    rows.append({"name": "ch2 '1,000 simulations' cell", "value": t_1000, "unit": "s",
                 "note": f"{len(set(cycles))} distinct cycle count; goal < 0.3 s; before (7f65ae0): "
                         f"{BEFORE['thousand_s']} s; re-encoding every call (cache defeated) would take "
                         f"{1000 * t_uncached:.1f} s"})
    # MXM matvec: the SIMD (fastmath) loop for integer data vs the ordered scalar loop it replaced
    n = Geometry.faithful().vector_len
    rng = np.random.default_rng(0)
    w = rng.integers(-128, 128, (n, n)).astype(np.float64)
    x = rng.integers(-128, 128, n).astype(np.float64)
    acc = np.zeros(n)
    for fn in (_kernel._matvec_exact, _kernel._matvec_ordered):
        fn(w, x, acc)
    times = {}
    for name, fn in (("simd", _kernel._matvec_exact), ("ordered", _kernel._matvec_ordered)):
        t0 = time.perf_counter()
        for _ in range(200):
            fn(w, x, acc)
        times[name] = (time.perf_counter() - t0) / 200
    rows.append({"name": "MXM 320×320 int8 matvec in the kernel", "value": n * n / times["simd"], "unit": "MAC/s",
                 "note": f"SIMD loop (exact for integers); before: ordered scalar loop {n * n / times['ordered']:.3g} "
                         f"MAC/s ({times['ordered'] / times['simd']:.1f}× slower)"})
    # a full-size decoder layer share, scheduled and simulated cycle by cycle (timing only)
    for tp in (8, 1):
        r = schedule.simulate_layer(schedule.layer_shape("llama-3.1-8b", tp=tp, context_tokens=1024))
        rows.append({"name": f"full Llama 3.1 8B layer share, tp={tp}, context 1,024: simulated", "value": r["cycles"],
                     "unit": "cycles", "note": f"{r['us']:.2f} µs; schedule {r['schedule_s']:.1f} s + program "
                                               f"{r['program_s']:.1f} s + simulate {r['simulate_s']:.1f} s; "
                                               f"{r['issue_rows']:,} issue rows, {r['operands_checked']:,} operands "
                                               f"checked; install {r['install_bytes_per_cycle']:,.0f} B/cycle"})
    return rows


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--python-side":
        print(json.dumps(_python_side(int(sys.argv[2]), int(sys.argv[3]))))
        sys.exit(0)
    for row in run():
        print(f"{row['name']:<58} {row['value']:>14,.4g} {row['unit']:<15} {row['note']}")
