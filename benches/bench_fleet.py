"""Benchmarks for labsim.fleet: candidates evaluated per second (explicit grid and the optimiser's search) and the
chapter-6 widget callback's latency over representative control moves (with the search memo, as a learner gets it,
and with the memo cleared before every move, the worst case)."""
from __future__ import annotations

import time

import numpy as np
from _timing import best_of

from labsim import fleet
from labsim.viz import ch06

CHIPS = list(ch06.WIDGET_CHIPS)
GRID_REPLICAS = np.arange(1, 1001)
#: representative widget moves: each slider swept as ipywidgets would send its values (one control at a time)
MOVES = ([{"rate_scale": float(x)} for x in np.logspace(-1, 1.5, 8)]
         + [{"mix": {w: float(x)}} for w in ch06.MIX_WORKLOADS for x in (0.0, 0.5, 2.0, 5.0)]
         + [{"voice_slo_ms": float(x)} for x in (50, 120, 300, 700, 1000)]
         + [{"coding_slo_ms": float(x)} for x in (300, 1200, 2500, 5000)]
         + [{"chat_ttft_ms": float(x)} for x in (50, 200, 900, 2000)]
         + [{"electricity_usd_per_kwh": float(x)} for x in (0.02, 0.15, 0.3, 0.4)])


def _moves(cold: bool) -> np.ndarray:
    times = []
    for kw in MOVES:
        if cold:
            fleet.clear_cache(speed_tables=False)
        t0 = time.perf_counter()
        ch06.explore_html(ch06.explore(**kw))
        times.append(time.perf_counter() - t0)
    return np.asarray(times) * 1e3


def run() -> list[dict]:
    fleet._warmup()
    sc = fleet.load_scenario("mixed_product")
    voice = sc.workloads[0]
    # explicit grid: every config of one chip × 1,000 replica counts (speed tables cached after the first call)
    fleet.candidate_table(voice, "nvidia-b300", replicas=GRID_REPLICAS)
    n_grid = fleet.candidate_table(voice, "nvidia-b300", replicas=GRID_REPLICAS)["feasible"].size
    t_grid = best_of(lambda: fleet.candidate_table(voice, "nvidia-b300", replicas=GRID_REPLICAS))
    # the optimiser: every workload of the mixed product over the priced chips (memo cleared: a real search)
    fleet.optimise(sc, CHIPS, progress=False)
    fleet.clear_cache(speed_tables=False)
    n_search = sum(c.candidates_evaluated for c in fleet.optimise(sc, CHIPS, progress=False).choices.values())

    def cold_optimise():
        fleet.clear_cache(speed_tables=False)
        fleet.optimise(sc, CHIPS, progress=False)

    t_search = best_of(cold_optimise)
    ch06.explore()
    warm = _moves(cold=False)
    cold = _moves(cold=True)
    w = sc.workloads[1]
    t_scalar = best_of(lambda: fleet.evaluate_candidate(w, "groq-lpu-v1", batch=4, replicas=2,
                                                         layout_multiplier=2, microbatches=16), repeats=20)
    n = len(MOVES)
    return [
        {"name": "fleet.candidate_table (grid)", "value": n_grid / t_grid, "unit": "candidates/s",
         "note": f"{n_grid:,} candidates (B300 configs × 1,000 replica counts) for the voice workload; "
                 f"{t_grid * 1e3:.0f} ms"},
        {"name": "fleet.optimise mixed_product", "value": n_search / t_search, "unit": "candidates/s",
         "note": f"{n_search:,} candidate evaluations (16-ary search on replicas), 4 workloads × 3 chips, memo "
                 f"cleared; {t_search * 1e3:.0f} ms per fleet"},
        {"name": "ch06 widget move p50 (memo)", "value": float(np.percentile(warm, 50)), "unit": "ms",
         "note": f"explore + explore_html over {n} slider moves; p95 {np.percentile(warm, 95):.1f} ms, max "
                 f"{warm.max():.1f} ms; goal < 100 ms"},
        {"name": "ch06 widget move p50 (no memo)", "value": float(np.percentile(cold, 50)), "unit": "ms",
         "note": f"same {n} moves, search memo cleared before each (full re-optimisation); p95 "
                 f"{np.percentile(cold, 95):.1f} ms, max {cold.max():.1f} ms; goal < 100 ms"},
        {"name": "fleet.evaluate_candidate", "value": t_scalar * 1e6, "unit": "µs/call",
         "note": "one candidate (coding on groq-lpu-v1), cached speed table"},
    ]


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:<32} {row['value']:>14,.1f} {row['unit']:<14} {row['note']}")
