"""numba kernels of the fleet's M/G/N queue: Erlang C and Poisson quantiles, vectorized over candidates."""
from __future__ import annotations

import math

import numba
import numpy as np


def _erlang_c(servers, offered, floor: float = 0.0):
    """P(wait > 0) in an M/M/N queue (Erlang C) for arrays of N and offered load a = λ·E[S].

    ``floor`` > 0: where a rigorous upper bound on C is below ``floor`` the result is 0 instead of the exact tiny
    value (the optimizer only asks whether C exceeds 1 − q', so it passes a floor below every 1 − q')."""
    return _erlang_c_kernel(np.asarray(servers, dtype=np.float64), np.asarray(offered, dtype=np.float64),
                            float(floor))


@numba.njit(cache=True)
def _erlang_c_kernel(servers, offered, floor):
    """Erlang C: B(N, a) = pmf(N)/cdf(N) of Poisson(a), summed downward from N in ratio to pmf(N) (k/a per step)
    with rescaling, so N up to millions neither overflows nor loops far; C = B / (1 − ρ(1 − B)), ρ = a/N.

    Skip (return 0) when C ≤ 2·pmf(N)/(1 − ρ) < floor: C ≤ B/(1 − ρ), and cdf(N) ≥ 1/2 once N ≥ a + 1 (a Poisson
    median lies below a + 1/3), so B ≤ 2·pmf(N), with log pmf(N) = N·ln a − a − lgamma(N + 1)."""
    n = servers.shape[0]
    out = np.empty(n)
    log_floor = math.log(floor) if floor > 0.0 else -math.inf
    for i in range(n):
        N = servers[i]
        a = offered[i]
        if a <= 0.0:
            out[i] = 0.0
            continue
        if a >= N:
            out[i] = 1.0
            continue
        if N - a > 40.0 * math.sqrt(a) + 60.0:
            out[i] = 0.0          # P(all busy) < e^-400
            continue
        if N >= a + 1.0 and math.log(2.0) + N * math.log(a) - a - math.lgamma(N + 1.0) \
                - math.log(1.0 - a / N) < log_floor:
            out[i] = 0.0          # C below the caller's floor
            continue
        s = 1.0
        t = 1.0
        log_scale = 0.0
        k = N
        while k > 0:
            t *= k / a
            s += t
            if s > 1e250:
                s *= 1e-250
                t *= 1e-250
                log_scale += 250.0 * math.log(10.0)
            if k < a and t < 1e-17 * s:
                break
            k -= 1
        log_b = -(math.log(s) + log_scale)
        b = math.exp(log_b)
        rho = a / N
        out[i] = b / (1.0 - rho * (1.0 - b))
    return out


@numba.njit(cache=True)
def _poisson_ppf(mu, q, z):
    """Smallest k with P(Poisson(mu) ≤ k) ≥ q; normal approximation (z = Φ⁻¹(q)) above mu = 500."""
    n = mu.shape[0]
    out = np.empty(n)
    for i in range(n):
        m = mu[i]
        if m <= 0.0:
            out[i] = 0.0
            continue
        if m > 500.0:
            out[i] = math.ceil(m + z * math.sqrt(m) + 0.5)
            continue
        p = math.exp(-m)
        c = p
        k = 0
        while c < q and k < 100000:
            k += 1
            p *= m / k
            c += p
        out[i] = k
    return out


def _warmup() -> None:
    """Compile (or load from cache) the two kernels on tiny inputs."""
    _erlang_c(np.array([1.0, 4.0]), np.array([0.5, 3.0]), 1e-3)
    _poisson_ppf(np.array([0.5, 600.0]), 0.99, 2.33)
