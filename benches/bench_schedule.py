"""Benchmarks for labsim.schedule: makespans of the naive baseline vs the critical-path list scheduler (cycles,
predicted = simulated), and how long scheduling and simulating take."""
from __future__ import annotations

import time

import numpy as np

from labsim import schedule
from labsim.tsp import Geometry, simulate


def run() -> list[dict]:
    rows = []
    for g in (schedule.example_graph(), schedule.mlp_graph(), schedule.decoder_layer_graph("llama-3.1-8b")):
        spans = {}
        for policy in ("naive", "list"):
            t0 = time.perf_counter()
            s = schedule.schedule(g, policy)
            t_s = time.perf_counter() - t0
            res = simulate(s.program, g.geometry)
            assert res.cycles == s.predicted_cycles
            spans[policy] = s.predicted_cycles
            rows.append({"name": f"makespan {g.name} ({len(g)} nodes), {policy}", "value": s.predicted_cycles,
                         "unit": "cycles", "note": f"simulated = predicted; scheduled in {t_s * 1e3:.0f} ms; "
                                                   f"{len(s.program.instructions)} instructions"})
        rows.append({"name": f"speed-up list vs naive, {g.name}", "value": spans["naive"] / spans["list"],
                     "unit": "x", "note": "ratio of makespans"})
    a = schedule.analytic_cycles(schedule.decoder_layer_graph())
    rows.append({"name": "analytic estimate, mini decoder layer", "value": a["cycles"], "unit": "cycles",
                 "note": a["bound"]})
    f = schedule.analytic_decoder_cycles("llama-3.1-8b", Geometry.faithful(), context_tokens=1024)
    rec = schedule.reference_layer(1, 1024)
    rows.append({"name": "analytic per-layer model, full Llama 3.1 8B layer on one chip", "value": f["cycles"],
                 "unit": "cycles", "note": f"{f['seconds'] * 1e6:.1f} µs at 900 MHz; {f['tiles']} tiles; simulated "
                                           f"(recorded): {rec['cycles']:,} cycles"})
    # the per-layer model's speed: what capacity.decode_time pays per call and per configuration of a sweep
    schedule.decoder_layer_cycles(4096, 32, 8, 128, 14336, 1024, 8)
    n = 2000
    t0 = time.perf_counter()
    for _ in range(n):
        schedule.decoder_layer_cycles(4096, 32, 8, 128, 14336, 1024, 8)
    t1 = (time.perf_counter() - t0) / n
    ctx = np.geomspace(128, 131072, 2500).astype(np.int64)
    tp = np.array([[1], [2], [4], [8]])
    t0 = time.perf_counter()
    out = schedule.decoder_layer_cycles(4096, 32, 8, 128, 14336, ctx, tp)
    tv = time.perf_counter() - t0
    t0 = time.perf_counter()
    for c in range(1, 501):                        # a new context each call: computed, not memoised
        schedule.decoder_layer_cycles(4096, 32, 8, 128, 14336, 100_000 + c, 8)
    t_new = (time.perf_counter() - t0) / 500
    rows.append({"name": "decoder_layer_cycles, one call (memoised)", "value": 1 / t1, "unit": "calls/s",
                 "note": f"{t1 * 1e6:.0f} µs per call; scalar integer inputs are memoised"})
    rows.append({"name": "decoder_layer_cycles, one call (computed)", "value": 1 / t_new, "unit": "calls/s",
                 "note": f"{t_new * 1e6:.0f} µs per call with new inputs"})
    rows.append({"name": "decoder_layer_cycles, vectorized sweep", "value": out["cycles"].size / tv,
                 "unit": "configs/s", "note": f"{out['cycles'].size:,} (tp × context) configurations in "
                                              f"{tv * 1e3:.1f} ms"})
    return rows


if __name__ == "__main__":
    for r in run():
        print(f"{r['name']:<58s} {r['value']:>12,.2f} {r['unit']:<7s} {r['note']}")
