"""Percentile summaries of latency samples, shared by the GPU model and the multi-chip model (chapter 2).

Quantiles by ``numpy.percentile`` with linear interpolation. (Chapter 5's ``latency.tails`` uses the inverse-CDF
definition instead, so that Monte Carlo and closed forms compare exactly on discrete distributions.)
"""
from __future__ import annotations

import numpy as np

from .errors import LabsimError, check_array, check_number, ensure_finite

__all__ = ["PERCENTILES", "percentiles", "p99_over_p50"]

#: name -> percentile reported for every latency distribution in chapter 2
PERCENTILES = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p99.9": 99.9}


def percentiles(samples) -> dict[str, float]:
    """P50/P90/P99/P99.9 (``numpy.percentile``, linear) of a sample array, plus ``mean`` and ``p99_over_p50``."""
    x = check_array("samples", samples)
    if x.size == 0:
        raise LabsimError("samples must not be empty")
    vals = np.percentile(x, list(PERCENTILES.values()))
    out = {k: float(v) for k, v in zip(PERCENTILES, vals, strict=False)}
    with np.errstate(over="ignore", invalid="ignore"):
        out["mean"] = float(x.mean())
    ensure_finite("percentiles", out, {"samples": x})   # the mean of samples near ±1.8e308 overflows
    out["p99_over_p50"] = p99_over_p50(out["p99"], out["p50"])
    return out


def p99_over_p50(p99: float, p50: float) -> float:
    """P99/P50; 1 when every quantile is the same number (identical runs, even all zero); an error when P50 ≤ 0
    but P99 differs (a ratio to zero or a negative median is meaningless for latencies)."""
    p99, p50 = check_number("p99", p99), check_number("p50", p50)
    if p50 > 0:
        ratio = p99 / p50
        if not np.isfinite(ratio):
            raise LabsimError(f"p99 / p50 = {p99:g} / {p50:g} overflows; allowed: a ratio a float can hold")
        return ratio
    if p99 == p50:
        return 1.0
    raise LabsimError(f"samples: P50 = {p50:g} ≤ 0 while P99 = {p99:g}; P99/P50 needs a positive median")
