"""Timing helpers shared by the benchmarks (``benches/bench_*.py``)."""
from __future__ import annotations

import time


def best_of(fn, repeats: int = 3) -> float:
    """Seconds of the fastest of ``repeats`` calls of ``fn()`` (the least disturbed by other processes)."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best
