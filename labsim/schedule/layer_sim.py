"""Simulating a scheduled layer share and reporting what bounds it (see :mod:`labsim.schedule.layer`).

:func:`simulate_layer` runs the program on :func:`labsim.tsp.simulate`, then checks that every operand — every
pass input, every VXM operand, every value written to MEM and every weight row a plane loaded — was the value the
scheduler meant (the trace records who wrote what each instruction read). With ``values=True`` it also compares
the stored results with :func:`~labsim.schedule.layer.layer_reference`. It returns a report: simulated cycles and
µs, the weight-install rate achieved, plane and stream utilization, and the cycles the planes stood idle.
"""
from __future__ import annotations

import time

import numpy as np

from ..errors import LabsimError, check_bool
from ..tsp import Result, simulate
from ..tsp.isa import OPCODE
from .layer import LayerBuild, LayerShape, build_layer, layer_reference
from .reference import BRITISH_KEYS

__all__ = ["simulate_layer", "verify_sources", "verify_memory"]


def verify_memory(build: LayerBuild) -> int:
    """Check that every activation read finds the value the scheduler meant in MEM: the intended write has
    committed and no other write to that address commits between it and the read. Returns reads checked."""
    if not isinstance(build, LayerBuild):
        raise LabsimError(f"verify_memory takes a LayerBuild, got {type(build).__name__}")
    P = build.P
    wr = P.g.mem_write_cycles
    writes = {}
    for i, ins in enumerate(P.ins):
        if ins.op == "MEM_WRITE":
            writes.setdefault((ins.slice, ins.bank, ins.address), []).append((ins.cycle + wr, i))
    for lst in writes.values():
        lst.sort()
    for rd, w in P.read_want.items():
        ins = P.ins[rd]
        key = (ins.slice, ins.bank, ins.address)
        lst = writes.get(key, [])
        before = [x for x in lst if x[0] <= ins.cycle]
        last = before[-1][1] if before else -1
        if last != w:
            raise LabsimError(f"{ins.describe(rd)} finds the value of instruction #{last} in MEM, not #{w} as "
                              f"scheduled")
    return len(P.read_want)


def verify_sources(build: LayerBuild, result) -> int:
    """Check that every operand read was written by the instruction the scheduler meant. Returns the number of
    operand reads checked; raises LabsimError naming the first one that was not."""
    if not isinstance(build, LayerBuild) or not isinstance(result, Result):
        raise LabsimError("verify_sources takes a LayerBuild and the Result of simulating its program")
    tr = result.trace
    want = np.asarray(build.P.want, dtype=np.int64)
    idx = tr.index
    checked = 0
    for col, src in ((0, tr.src_a), (1, tr.src_b)):
        rows = np.flatnonzero(src >= 0)
        w = want[idx[rows], col]
        sel = w >= 0
        got = idx[src[rows[sel]]]
        bad = np.flatnonzero(got != w[sel])
        if bad.size:
            r = int(rows[sel][bad[0]])
            ins = build.P.ins[int(idx[r])]
            raise LabsimError(f"{ins.describe(int(idx[r]))} read the value of instruction #{int(got[bad[0]])}, "
                              f"not #{int(w[sel][bad[0]])} as scheduled")
        checked += int(sel.sum())
        missing = np.flatnonzero((want[idx, col] >= 0) & (src < 0))
        if missing.size:                               # pragma: no cover - the simulator faults first
            raise LabsimError(f"instruction #{int(idx[missing[0]])} read nothing")
    # weight rows: load cycle j of stream k must read element j − done of the repeated read covering j
    load_rows = np.flatnonzero(tr.op == _LOAD_CODE)
    if load_rows.size:
        issue = np.array([i.cycle for i in build.P.ins], dtype=np.int64)
        exp_rows, exp_src = [], []
        for r, li, c in zip(load_rows.tolist(), idx[load_rows].tolist(), tr.cycle[load_rows].tolist(), strict=False):
            j = c - int(issue[li])
            o = int(tr.load_offset[r])
            for k, parts in build.P.load_want[li].items():
                for rid, done, n in parts:
                    if done <= j < done + n:
                        exp_rows.append(o + k)
                        exp_src.append(rid)
                        break
        exp_rows = np.asarray(exp_rows, dtype=np.int64)
        exp_src = np.asarray(exp_src, dtype=np.int64)
        src_rows = tr.load_src[exp_rows]
        got = np.where(src_rows >= 0, idx[np.maximum(src_rows, 0)], -1)
        bad = np.flatnonzero(got != exp_src)
        if bad.size:
            raise LabsimError(f"a weight row loaded at trace entry {int(exp_rows[bad[0]])} came from instruction "
                              f"#{int(got[bad[0]])}, not #{int(exp_src[bad[0]])} as scheduled")
        checked += int(exp_rows.size)
    return checked


_LOAD_CODE = OPCODE["MXM_LOAD"]


def simulate_layer(shape_or_build, geometry=None, *, weight_streams_per_plane: int | None = None,
                   values: bool = False, verify: bool = True, seed: int = 0) -> dict:
    """Schedule (unless given a :class:`~labsim.schedule.layer.LayerBuild`) and simulate one chip's share of a
    decoder layer cycle by cycle; returns the report (keys in docs/design/schedule.md)."""
    t0 = time.perf_counter()
    values, verify = check_bool("values", values), check_bool("verify", verify)
    if isinstance(shape_or_build, LayerBuild):
        build = shape_or_build
    elif isinstance(shape_or_build, LayerShape):
        build = build_layer(shape_or_build, geometry, weight_streams_per_plane=weight_streams_per_plane,
                            values=values, seed=seed)
    else:
        raise LabsimError(f"shape_or_build must be a LayerShape or a LayerBuild, got {type(shape_or_build).__name__}")
    if values and not build.values:
        raise LabsimError("this LayerBuild carries no values (build_layer(..., values=True))")
    t1 = time.perf_counter()
    prog = build.program()
    t2 = time.perf_counter()
    res = simulate(prog, values=bool(values))
    t3 = time.perf_counter()
    checked = (verify_sources(build, res) + verify_memory(build)) if verify else 0
    if values:
        ref = layer_reference(build)
        for name, v in build.stores.items():
            _m, nm, bank, addr, _r, _w = v.homes["W"]
            if not np.array_equal(res.read(nm, bank, addr).astype(np.int64), ref[name].astype(np.int64)):
                raise LabsimError(f"simulated {name} differs from the NumPy reference")
    return _report(build, prog, res, checked, {"schedule_s": t1 - t0, "program_s": t2 - t1, "simulate_s": t3 - t2})


def _report(build: LayerBuild, prog, res, checked: int, times: dict) -> dict:
    g, P, sh = build.g, build.P, build.shape
    stagger = (g.superlanes - 1) * g.instr_stagger_cycles_per_superlane
    span = res.cycles_superlane0
    planes = len(P.planes)
    busy = np.array(list(P.busy.values()), dtype=float)
    streamed = sum(P.streamed_bytes.values())
    real = sum(P.real_bytes.values())
    phases = {}
    for j in build.jobs:
        a = phases.setdefault(j.phase, [j.start, j.end])
        a[0], a[1] = min(a[0], j.start), max(a[1], j.end)
    out = {
        "cycles": int(res.cycles), "cycles_superlane0": int(span), "stagger_cycles": stagger,
        "us": res.cycles / g.clock_hz * 1e6, "seconds": res.cycles / g.clock_hz, "clock_hz": g.clock_hz,
        "tp": sh.tp, "context": sh.context, "weight_streams_per_plane": build.S, "planes": planes,
        "weight_bytes": sh.weight_bytes(), "kv_bytes": sh.kv_bytes(),
        "streamed_bytes": int(streamed), "streamed_rows": int(P.rows_streamed),
        "layout_efficiency": real / streamed,
        "install_bytes_per_cycle": streamed / res.cycles,
        "install_bytes_per_cycle_real": real / res.cycles,
        "install_bytes_per_cycle_peak": planes * build.S * g.vector_len,
        "install_bytes_per_cycle_all_streams": 2 * g.streams_per_direction * g.vector_len,
        "install_bytes_per_cycle_isca20": 409_600 / 40,
        "plane_busy_cycles": float(busy.mean()), "plane_busy_fraction": float(busy.mean() / span),
        "plane_idle_cycles": float(span - busy.mean()),
        "exposed_cycles": float(res.cycles - busy.mean()),
        "weight_stream_utilization": P.rows_streamed / (planes * build.S * span),
        "all_stream_utilization": P.rows_streamed / (2 * g.streams_per_direction * span),
        "phases": {k: (int(a), int(b)) for k, a in phases.items() for a, b in [phases[k]]},
        "instructions": len(prog.instructions), "issue_rows": int(res.trace.cycle.size),
        "operands_checked": checked, "activation_accesses": P.act_accesses, **times,
    }
    out.update({old: out[new] for old, new in BRITISH_KEYS.items()})
    return out
