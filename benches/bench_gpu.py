"""Benchmarks for labsim.gpu (and the multichip sampler): samples per second after warm-up.
Goal (issue 4): n = 100,000 GPU-model samples of a decoder layer in well under a second."""
from __future__ import annotations

from _timing import best_of

from labsim import gpu, multichip


def run() -> list[dict]:
    gpu._warmup()
    multichip._warmup()
    ks = gpu.model_decoder_layer_kernels("llama-3.1-8b")
    n = 100_000
    rows = []
    cases = [("isolated", {}), ("contention + clock variation", {"contention": True, "clock_variation": True})]
    for label, kw in cases:
        t = best_of(lambda kw=kw: gpu.simulate(ks, n=n, seed=0, **kw))
        rows.append({"name": f"gpu.simulate decoder layer ({len(ks)} kernels), {label}", "value": n / t,
                     "unit": "samples/s", "note": f"n = {n:,} in {t * 1e3:.0f} ms; goal: well under 1 s"})
    t = best_of(lambda: multichip.pipeline_latency_samples(2000, 1e-6, n=n, seed=0))
    rows.append({"name": "multichip.pipeline_latency_samples, 2,000 chips (3 domains)", "value": n / t,
                 "unit": "samples/s", "note": f"n = {n:,} in {t * 1e3:.0f} ms"})
    # the chapter-2 widget: one move that re-runs the GPU model (cache cleared) and redraws the picture
    from labsim.viz import ch02
    view = ch02.ExploreView()

    def move():
        ch02._gpu_samples.cache_clear()
        view.update(ch02.explore(cotenant_prob=0.35, n_chips=1200, ethernet="tcp"))

    t = best_of(move, repeats=5)
    rows.append({"name": "viz.ch02 widget move: explore (GPU re-run) + ExploreView.update", "value": t * 1e3,
                 "unit": "ms", "note": f"{ch02.EXPLORE_RUNS:,} GPU runs + 10,000 pipeline runs + PNG; goal < 100 ms"})
    return rows


if __name__ == "__main__":
    for r in run():
        print(f"{r['name']:<62s} {r['value']:>14,.0f} {r['unit']:<10s} {r['note']}")
