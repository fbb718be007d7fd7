"""Benchmarks for labsim.schedule: makespans of the naive baseline vs the critical-path list scheduler (cycles,
predicted = simulated), and how long scheduling and simulating take."""
from __future__ import annotations

import time

from labsim import schedule
from labsim.tsp import simulate


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
    from labsim.tsp import Geometry
    f = schedule.analytic_decoder_cycles("llama-3.1-8b", Geometry.faithful(), context_tokens=1024)
    rows.append({"name": "analytic estimate, full Llama 3.1 8B layer on faithful", "value": f["cycles"],
                 "unit": "cycles", "note": f"{f['seconds'] * 1e6:.1f} µs at 900 MHz; {f['tiles']} tiles"})
    return rows


if __name__ == "__main__":
    for r in run():
        print(f"{r['name']:<58s} {r['value']:>12,.2f} {r['unit']:<7s} {r['note']}")
