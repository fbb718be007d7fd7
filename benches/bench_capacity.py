"""Benchmarks for labsim.capacity: configurations per second in the vectorised sweeps (goal ≥ 1e5/s each),
and the latency of one scalar plan/decode call (what the widget pays)."""
from __future__ import annotations


import numpy as np

from labsim import capacity

from _timing import best_of  # noqa: E402  (benches/ is on sys.path when run as a script)

N_CONFIGS = 200_000



def run() -> list[dict]:
    rng = np.random.default_rng(0)
    ctx = rng.integers(0, 131_073, N_CONFIGS)
    batch = rng.integers(1, 65, N_CONFIGS)
    chips = rng.integers(700, 6_000, N_CONFIGS)       # enough LPUs for Llama 3.3 70B at any of these configs
    rows = []
    for model, chip, kw in [("llama-3.3-70b", "groq-lpu-v1", {"chips": chips}),
                            ("llama-3.3-70b", "nvidia-b300", {"chips": np.full(N_CONFIGS, 8)}),
                            ("gpt-oss-120b", "groq-lpu-v1", {"chips": chips})]:
        capacity.plan_sweep(model, chip, context_tokens=ctx, batch=batch)     # warm
        t_plan = best_of(lambda: capacity.plan_sweep(model, chip, context_tokens=ctx, batch=batch))
        t_dec = best_of(lambda: capacity.decode_sweep(model, chip, context_tokens=ctx, batch=batch, **kw))
        rows.append({"name": f"capacity.plan_sweep {model} on {chip}", "value": N_CONFIGS / t_plan,
                     "unit": "configs/s", "note": f"{N_CONFIGS:.0e} (context, batch) pairs; {t_plan * 1e3:.0f} ms; "
                                                  "goal ≥ 1e5/s"})
        rows.append({"name": f"capacity.decode_sweep {model} on {chip}", "value": N_CONFIGS / t_dec,
                     "unit": "configs/s", "note": f"{N_CONFIGS:.0e} (chips, context, batch) triples; "
                                                  f"{t_dec * 1e3:.0f} ms; goal ≥ 1e5/s"})
    n = 500
    t_p = best_of(lambda: [capacity.plan("llama-3.3-70b", "groq-lpu-v1") for _ in range(n)]) / n
    rows.append({"name": "capacity.plan scalar call", "value": t_p * 1e3, "unit": "ms/call",
                 "note": "Llama 3.3 70B on LPU, defaults"})
    for model, chip in (("llama-3.3-70b", "groq-lpu-v1"), ("gpt-oss-120b", "groq-lpu-v1"),
                        ("llama-3.3-70b", "nvidia-b300")):
        t_d = best_of(lambda: [capacity.decode_time(model, chip) for _ in range(n)]) / n
        rows.append({"name": f"capacity.decode_time single call {model} on {chip}", "value": 1.0 / t_d,
                     "unit": "calls/s", "note": f"{t_d * 1e6:.0f} µs per call incl. the plan for the chip count; "
                                                "goal ≥ 1e4/s (peer analytic tools: 6k/s and 15k/s)"})
    return rows


if __name__ == "__main__":
    for r in run():
        print(f"{r['name']:<58} {r['value']:>14,.3g} {r['unit']:<10} {r['note']}")
