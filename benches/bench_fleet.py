"""Benchmarks for labsim.fleet: candidates evaluated per second (explicit grid and the optimiser's search) and the
chapter-6 widget callback's latency."""
from __future__ import annotations


import numpy as np

from labsim import fleet
from labsim.viz import ch06

from _timing import best_of  # noqa: E402  (benches/ is on sys.path when run as a script)

CHIPS = list(ch06.WIDGET_CHIPS)
GRID_REPLICAS = np.arange(1, 1001)



def run() -> list[dict]:
    fleet._warmup()
    sc = fleet.load_scenario("mixed_product")
    voice = sc.workloads[0]
    # explicit grid: every config of one chip × 1,000 replica counts (speed tables cached after the first call)
    fleet.candidate_table(voice, "nvidia-b300", replicas=GRID_REPLICAS)
    n_grid = fleet.candidate_table(voice, "nvidia-b300", replicas=GRID_REPLICAS)["feasible"].size
    t_grid = best_of(lambda: fleet.candidate_table(voice, "nvidia-b300", replicas=GRID_REPLICAS))
    # the optimiser: every workload of the mixed product over the priced chips (bisection on replicas)
    fleet.optimise(sc, CHIPS, progress=False)
    n_search = sum(c.candidates_evaluated for c in fleet.optimise(sc, CHIPS, progress=False).choices.values())
    t_search = best_of(lambda: fleet.optimise(sc, CHIPS, progress=False))
    ch06.explore()
    t_widget = best_of(lambda: ch06.explore(rate_scale=1.3, voice_slo_ms=300.0), repeats=5)
    w = sc.workloads[1]
    t_scalar = best_of(lambda: fleet.evaluate_candidate(w, "groq-lpu-v1", batch=4, replicas=2,
                                                         layout_multiplier=2, microbatches=16), repeats=20)
    return [
        {"name": "fleet.candidate_table (grid)", "value": n_grid / t_grid, "unit": "candidates/s",
         "note": f"{n_grid:,} candidates (B300 configs × 1,000 replica counts) for the voice workload; {t_grid * 1e3:.0f} ms"},
        {"name": "fleet.optimise mixed_product", "value": n_search / t_search, "unit": "candidates/s",
         "note": f"{n_search:,} candidate evaluations (bisection on replicas), 4 workloads × 3 chips; "
                 f"{t_search * 1e3:.0f} ms per fleet"},
        {"name": "ch06.explore widget callback", "value": t_widget * 1e3, "unit": "ms/call",
         "note": "re-optimises the mixed product; goal < 100 ms"},
        {"name": "fleet.evaluate_candidate", "value": t_scalar * 1e6, "unit": "µs/call",
         "note": "one candidate (coding on groq-lpu-v1), cached speed table"},
    ]


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:<32} {row['value']:>14,.0f} {row['unit']:<14} {row['note']}")
