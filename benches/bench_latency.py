"""Benchmarks for labsim.latency: Monte Carlo tasks sampled per second (goal: 1e6 tasks in about a second),
customers per second in the Lindley queue, and the planner widget's callback time (goal < 100 ms)."""
from __future__ import annotations

from _timing import best_of

from labsim import latency as L


def run() -> list[dict]:
    L._warmup()
    from labsim.viz import ch05

    # the sampler's raw speed: N(0, 1) draws (ziggurat) behind every lognormal component
    m = 10_000_000
    sec = best_of(lambda: L._normals(m, 0))
    rows_n = [{"name": "latency._normals (ziggurat N(0,1), numba)", "value": m / sec / 1e6, "unit": "M draws/s",
               "note": f"1e7 draws in {sec * 1e3:.0f} ms"}]

    rows = rows_n
    n = 1_000_000
    cases = {
        "voice turn (9 stages, 7 lognormal)": L.task(L.voice_turn("hosted_gpu_api")),
        "10-step agent chain (TTFT, decode, tool lognormal)": L.task(
            L.agent_step(300, 500.0, ttft_s=L.lognormal(0.6, 0.5), decode_sigma=0.1, tool_s=L.lognormal(0.6, 0.6),
                         network_s=0.075), steps=10),
        "one step, 5-way fan-out (lognormal search)": L.task(L.Step((L.Component("s", L.lognormal(0.6, 0.6)),)),
                                                            fan_out=5),
    }
    for name, t in cases.items():
        sec = best_of(lambda t=t: L.tails(t.sample(n, seed=0)))
        rows.append({"name": f"latency Monte Carlo: {name}", "value": n / sec, "unit": "tasks/s",
                     "note": f"1e6 tasks + P50/P90/P99/P99.9 in {sec:.2f} s; goal ≈ 1 s"})
    m = 1_000_000
    sec = best_of(lambda: L.simulate_queue(0.8, 1.0, 1.0, customers=m, seed=0))
    rows.append({"name": "latency.simulate_queue (M/M/1, load 0.8)", "value": m / sec, "unit": "customers/s",
                 "note": f"1e6 customers + 10 % warm-up + tails in {sec * 1e3:.0f} ms"})
    for label, kw in {"deterministic": dict(),
                      "jitter σ 0.3, 10 steps × 3-way": dict(jitter_sigma=0.3, steps=10, fan_out=3, tool_s=0.3,
                                                             slo_s=20.0),
                      "worst slider corner (σ 1, 50 steps × 20-way)": dict(jitter_sigma=1.0, steps=50, fan_out=20,
                                                                           tool_s=5.0, slo_s=60.0)}.items():
        ch05.planner(**kw)
        k = 5
        sec = best_of(lambda kw=kw, k=k: [ch05.planner(**kw) for _ in range(k)]) / k
        rows.append({"name": f"viz.ch05.planner callback ({label})", "value": sec * 1e3, "unit": "ms/call",
                     "note": "goal < 100 ms"})
    # the whole widget callback: a control move → planner + text + SVG bar (what the learner waits for)
    import importlib.util
    import time

    if importlib.util.find_spec("ipywidgets") is None:
        return rows

    w = ch05.make_planner_widget()
    moves = [("reasoning_tokens", 5000), ("decode_tokens_per_s", 420.0), ("tool_s", 0.5), ("steps", 10),
             ("fan_out", 3), ("jitter_sigma", 0.3), ("slo_s", 20.0), ("quantile", 0.999), ("preset", "gpu-latency"),
             ("preset", "custom"), ("steps", 50), ("fan_out", 20), ("jitter_sigma", 1.0), ("jitter_sigma", 0.0)]
    times = []
    for key, value in moves:
        t0 = time.perf_counter()
        w.controls[key].value = value
        times.append(time.perf_counter() - t0)
    times.sort()
    rows.append({"name": "viz.ch05 planner widget: one control move (callback + text + SVG redraw)",
                 "value": times[len(times) // 2] * 1e3, "unit": "ms/move",
                 "note": f"median of {len(times)} moves; slowest {times[-1] * 1e3:.0f} ms; goal < 100 ms"})
    return rows


if __name__ == "__main__":
    for r in run():
        print(f"{r['name']:<72} {r['value']:>14,.1f} {r['unit']:<12} {r['note']}")
