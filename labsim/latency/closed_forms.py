"""Closed forms for tails, tested against the sampler: a slow step in a chain (1 − q^k), the slowest of a fan-out
(1 − F(t)^n, "The Tail at Scale"), binomial and Erlang chain quantiles."""
from __future__ import annotations

import math

import numpy as np

from .. import limits as _L
from ..errors import LabsimError, check_fraction, check_int
from .dists import Dist, as_dist

__all__ = ["chain_slow_probability", "fanout_slow_probability", "fanout_quantile", "chain_quantile",
           "binomial_quantile"]


def chain_slow_probability(p_slow, k) -> float:
    """P(at least one of k independent steps is slow) = 1 − p^k with p = 1 − p_slow the chance a step is on time."""
    p = check_fraction("p_slow", p_slow)
    k = check_int("k", k, lo=0)
    return 1.0 - (1.0 - p) ** k


def fanout_slow_probability(dist_or_cdf, n, t_s=None) -> float:
    """P(the slowest of n independent copies exceeds t) = 1 − F(t)^n ("The Tail at Scale": F = 0.99, n = 100
    → 63 %). Pass F(t) as a number, or a Dist and ``t_s``."""
    n = check_int("n", n, lo=0)
    if isinstance(dist_or_cdf, Dist):
        if t_s is None:
            raise LabsimError("fanout_slow_probability(dist, n, t_s): t_s is required with a distribution")
        f = dist_or_cdf.cdf(t_s)
    else:
        f = check_fraction("dist_or_cdf", dist_or_cdf)
    return 1.0 - f ** n


def fanout_quantile(dist: Dist, n, q) -> float:
    """q-quantile of the slowest of n iid copies: F⁻¹(q^{1/n})."""
    n = check_int("n", n, lo=1, hi=_L.MAX_CHIPS)
    q = check_fraction("q", q)
    d = as_dist(dist, "dist")
    qn = q ** (1.0 / n)
    if qn == 1.0 and q < 1.0:
        raise LabsimError(f"n = {n:,} copies push q^(1/n) to 1 in floating point: the slowest copy's {q:g}-quantile "
                          "is not resolvable; allowed: a smaller n")
    return d.quantile(qn)


def binomial_quantile(k, p, q) -> int:
    """Smallest m with P(Binomial(k, p) <= m) >= q."""
    k = check_int("k", k, lo=0, hi=_L.MAX_STEPS)
    p = check_fraction("p", p)
    q = check_fraction("q", q)
    target = q * (1 - 1e-12)
    if k <= 1000:      # exact terms (math.comb) for the chains a course uses
        cdf = 0.0
        for m in range(k + 1):
            cdf += math.comb(k, m) * p ** m * (1 - p) ** (k - m)
            if cdf >= target:
                return m
        return k
    if p in (0.0, 1.0):
        return 0 if p == 0.0 or q == 0.0 else k
    # long chains: the pmf in log space (no overflow of comb(k, m) or underflow of p^m), one vectorized pass
    m = np.arange(k + 1, dtype=np.float64)
    steps = np.log(k - m[:-1]) - np.log(m[:-1] + 1) + math.log(p) - math.log1p(-p)
    log_pmf = k * math.log1p(-p) + np.concatenate(([0.0], np.cumsum(steps)))
    cdf = np.cumsum(np.exp(log_pmf))
    hit = np.nonzero(cdf >= target)[0]
    return int(hit[0]) if hit.size else k


def _erlang_cdf(t, k, mean):
    x = t / mean
    term, acc = 1.0, 1.0
    for i in range(1, k):
        term *= x / i
        acc += term
    return 1.0 - math.exp(-x) * acc


def chain_quantile(dist: Dist, k, q) -> float:
    """q-quantile of the sum of k iid step latencies, where a closed form exists: fixed (k·t), two-point
    (k·fast + (slow − fast)·Binomial quantile), exponential (Erlang-k, inverted by bisection)."""
    k = check_int("k", k, lo=1, hi=_L.MAX_STEPS)
    q = check_fraction("q", q)
    d = as_dist(dist, "dist")
    if d.kind == "const" or (d.kind in ("lognormal", "gamma") and d.var_s2 == 0):
        return k * d.median_s
    if d.kind == "two_point":
        fast, slow, p = d.params
        return k * fast + (slow - fast) * binomial_quantile(k, p, q)
    if d.kind == "exponential" or (d.kind == "gamma" and d.params[1] == 1.0):
        mean = d.params[0]
        if mean == 0 or q == 0:
            return 0.0
        if q == 1:
            return math.inf
        lo, hi = 0.0, mean * (k + 10 * math.sqrt(k) + 50)
        for _ in range(200):
            mid = (lo + hi) / 2
            if _erlang_cdf(mid, k, mean) < q:
                lo = mid
            else:
                hi = mid
        return hi
    raise LabsimError(f"no closed form for the sum of {d.kind} latencies; use simulate(step, steps=k)")

