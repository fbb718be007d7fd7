"""Queueing: closed forms for M/G/1 and G/G/1 waits (Pollaczek–Khinchine, Kingman, M/M/1 quantiles), a FIFO
single server simulated by the Lindley recursion, and a batching server with its throughput–latency curve."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import limits as _L
from ..errors import LabsimError, check_array, check_choice, check_fraction, check_int, check_number
from ._common import _cv, _latency, _n, _seed, _tokens
from ._kernels import _batch_server, _lindley
from .dists import Dist, gamma, lognormal
from .summary import Tails, tails

__all__ = ["pk_mean_wait_s", "mm1_mean_wait_s", "md1_mean_wait_s", "kingman_mean_wait_s", "mm1_wait_quantile_s",
           "QueueResult", "simulate_queue", "BatchResult", "simulate_batching", "batching_curve",
           "linear_batch_seconds_per_token"]


def _load_check(load) -> float:
    return check_number("load", load, lo=0.0, hi=1.0, hi_open=True)


def pk_mean_wait_s(load, service_mean_s, service_cv) -> float:
    """Pollaczek–Khinchine M/G/1 mean queue wait: ρ·τ·(1 + C_s²) / (2(1 − ρ)) ([kleinrock75] ch. 5)."""
    rho = _load_check(load)
    tau = _latency("service_mean_s", service_mean_s)
    cs = check_number("service_cv", service_cv, lo=0.0, hi=_L.MAX_CV)
    return rho * tau * (1 + cs * cs) / (2 * (1 - rho))


def mm1_mean_wait_s(load, service_mean_s) -> float:
    """M/M/1 mean queue wait ρτ/(1 − ρ)."""
    return pk_mean_wait_s(load, service_mean_s, 1.0)


def md1_mean_wait_s(load, service_mean_s) -> float:
    """M/D/1 mean queue wait ρτ/(2(1 − ρ)) — exactly half of M/M/1."""
    return pk_mean_wait_s(load, service_mean_s, 0.0)


def kingman_mean_wait_s(load, service_mean_s, service_cv, arrival_cv=1.0) -> float:
    """Kingman's G/G/1 approximation (ρ/(1 − ρ))·((C_a² + C_s²)/2)·τ; equals P–K when arrivals are Poisson."""
    rho = _load_check(load)
    tau = _latency("service_mean_s", service_mean_s)
    cs = check_number("service_cv", service_cv, lo=0.0, hi=_L.MAX_CV)
    ca = check_number("arrival_cv", arrival_cv, lo=0.0, hi=_L.MAX_CV)
    return rho / (1 - rho) * (ca * ca + cs * cs) / 2 * tau


def mm1_wait_quantile_s(load, service_mean_s, q) -> float:
    """q-quantile of the M/M/1 queue wait: P(W > t) = ρ·e^{−μ(1−ρ)t} ⇒ t_q = ln(ρ/(1−q)) / (μ(1−ρ));
    0 if q ≤ 1 − ρ (that share of customers does not wait at all)."""
    rho = _load_check(load)
    tau = check_number("service_mean_s", service_mean_s, lo=0.0, lo_open=True, hi=_L.MAX_LATENCY_S, unit="s")
    q = check_fraction("q", q, allow_one=False)
    if q <= 1 - rho:
        return 0.0
    return math.log(rho / (1 - q)) / ((1 - rho) / tau)


@dataclass(frozen=True)
class QueueResult:
    load: float
    service_mean_s: float
    service_cv: float
    arrival_cv: float
    mean_wait_s: float
    mean_wait_stderr_s: float        #: batch-means standard error (50 batches) of mean_wait_s
    wait: Tails                      #: queue-wait percentiles
    sojourn: Tails                   #: wait + service percentiles
    pk_mean_wait_s: float            #: Pollaczek–Khinchine (exact for Poisson arrivals)
    kingman_mean_wait_s: float       #: Kingman's approximation
    customers: int


def _service_dist(service_mean_s, service_cv, family) -> Dist:
    family = check_choice("family", family, ("gamma", "lognormal"), what="service family")
    tau = check_number("service_mean_s", service_mean_s, lo=0.0, lo_open=True, hi=_L.MAX_LATENCY_S, unit="s")
    cv = _cv("service_cv", service_cv)
    if family == "gamma" or cv == 0:
        return gamma(tau, cv)
    sigma = math.sqrt(math.log1p(cv * cv))  # lognormal: C_s² = e^{σ²} − 1
    return lognormal(tau / math.exp(sigma * sigma / 2), sigma)


def simulate_queue(load, service_mean_s, service_cv=1.0, *, arrival_cv=1.0, family="gamma",
                   customers: int = 1_000_000, warmup: int | None = None, seed: int = 0) -> QueueResult:
    """Simulate a single-server FIFO queue (Lindley recursion, numba) at utilization ``load`` = λτ.

    Service: gamma (or lognormal) with mean ``service_mean_s`` and coefficient of variation ``service_cv``
    (0 = deterministic, like a statically scheduled chip; 1 = exponential). Arrivals: Poisson
    (``arrival_cv`` = 1) or gamma gaps of another CV. ``warmup`` customers are simulated and dropped.
    """
    rho = _load_check(load)
    if rho == 0:
        raise LabsimError("load = 0 means no arrivals; use a load in (0, 1)")
    svc = _service_dist(service_mean_s, service_cv, family)
    ca = _cv("arrival_cv", arrival_cv)
    n = _n("customers", customers, lo=1000)
    wu = _n("warmup", n // 10 if warmup is None else warmup, lo=0)
    seed = _seed(seed)
    k, a, b, c = svc._code(0)
    waits, services = _lindley(svc.mean_s / rho, ca, k, a, b, c, np.zeros(1), n, wu, seed)
    batches = waits[: (n // 50) * 50].reshape(50, -1).mean(axis=1)
    stderr = float(batches.std(ddof=1) / math.sqrt(50))
    return QueueResult(rho, svc.mean_s, float(service_cv), ca, float(waits.mean()), stderr, tails(waits),
                       tails(waits + services), pk_mean_wait_s(rho, svc.mean_s, service_cv),
                       kingman_mean_wait_s(rho, svc.mean_s, service_cv, ca), n)


@dataclass(frozen=True)
class BatchResult:
    arrival_rate_per_s: float
    batch: int
    latency: Tails                   #: arrival -> whole batch finished, seconds
    mean_batch: float                #: mean requests per batch served
    utilization: float               #: fraction of time the server is busy
    throughput_per_s: float          #: requests completed per second
    requests: int

    @property
    def utilisation(self) -> float:
        """The same as :attr:`utilization` (the name before the package settled on American spelling)."""
        return self.utilization


def linear_batch_seconds_per_token(t_fixed_s, t_per_seq_s, batch) -> np.ndarray:
    """[A] A decode step that reads the weights once (``t_fixed_s``) plus per-sequence KV/compute
    (``t_per_seq_s``): seconds per token at batch 1..batch. Prefer ``labsim.capacity.decode_time(batch=…)``."""
    t0 = check_number("t_fixed_s", t_fixed_s, lo=0.0, lo_open=True, hi=_L.MAX_LATENCY_S, unit="s")
    t1 = _latency("t_per_seq_s", t_per_seq_s)
    b = check_int("batch", batch, lo=1, hi=100_000)
    return t0 + t1 * np.arange(1, b + 1, dtype=np.float64)


#: Slowest arrival rate a simulation accepts (one request per ~32 years): mean gaps stay finite.
_MIN_RATE_PER_S = 1e-9


def simulate_batching(arrival_rate_per_s, batch, service_by_size_s, *, max_wait_s=math.inf,
                      requests: int = 200_000, warmup: int | None = None, seed: int = 0) -> BatchResult:
    """Poisson requests served in batches of up to ``batch`` (static batching: a batch runs to completion).

    ``service_by_size_s``: seconds one batch of m requests takes, for m = 1..batch (a scalar means the same
    for every m). The server waits for a full batch unless the oldest request has waited ``max_wait_s``.
    Raises if full batches cannot keep up (load = λ·service(batch)/batch ≥ 1).
    """
    lam = check_number("arrival_rate_per_s", arrival_rate_per_s, lo=_MIN_RATE_PER_S, hi=_L.MAX_RATE_PER_S, unit="1/s")
    b = check_int("batch", batch, lo=1, hi=100_000)
    svc = check_array("service_by_size_s", service_by_size_s, lo=0.0, hi=_L.MAX_LATENCY_S, unit="s")
    svc = np.full(b, float(svc)) if svc.ndim == 0 else svc.ravel()
    if svc.size != b:
        raise LabsimError(f"service_by_size_s needs one entry per batch size 1..{b}, got {svc.size}")
    if isinstance(max_wait_s, (int, float)) and not isinstance(max_wait_s, bool) and max_wait_s == math.inf:
        wait = math.inf
    else:
        wait = _latency("max_wait_s", max_wait_s)
    load = lam * svc[-1] / b
    if load >= 1:
        raise LabsimError(f"load = λ·service(batch)/batch = {load:.3g} >= 1: the server cannot keep up "
                          f"(arrival_rate_per_s = {lam:g}, service_by_size_s[-1] = {svc[-1]:g} s, batch = {b}); "
                          "the queue grows without bound")
    n = _n("requests", requests, lo=100)
    wu = _n("warmup", n // 10 if warmup is None else warmup, lo=0)
    lat, sizes, busy, span = _batch_server(1.0 / lam, b, np.ascontiguousarray(svc), wait, n, wu, _seed(seed))
    n_batches = int(sizes.sum())
    served = int((sizes * np.arange(b + 1)).sum())
    return BatchResult(lam, b, tails(lat), served / max(n_batches, 1), min(busy / span, 1.0) if span > 0 else 0.0,
                       served / span if span > 0 else 0.0, n)


def batching_curve(seconds_per_token_by_batch, output_tokens, batch, loads=(0.1, 0.3, 0.5, 0.7, 0.8, 0.9),
                   *, max_wait_s=math.inf, requests: int = 50_000, seed: int = 0) -> dict[str, np.ndarray]:
    """Throughput–latency curve of a server running ``batch`` requests of ``output_tokens`` together.

    ``seconds_per_token_by_batch[m-1]``: seconds per decode step with m sequences (from capacity, or
    ``linear_batch_seconds_per_token``). For each load (fraction of the full-batch capacity) it simulates
    ``simulate_batching`` and returns arrays: throughput_tok_s, tokens_per_s_per_user, p50_s, p99_s, load.
    A batch-1 LPU is the same call with batch = 1 (then it is an M/D/1 queue).
    """
    b = check_int("batch", batch, lo=1, hi=100_000)
    spt = check_array("seconds_per_token_by_batch", seconds_per_token_by_batch, lo=0.0, lo_open=True,
                      hi=_L.MAX_LATENCY_S, unit="s").ravel()
    if spt.size < b:
        raise LabsimError(f"seconds_per_token_by_batch needs at least {b} entries (batch 1..{b}), got {spt.size}")
    n_out = _tokens("output_tokens", output_tokens, lo=1)
    lds = check_array("loads", loads, lo=0.0, hi=1.0, lo_open=True, hi_open=True).ravel()
    seed = check_int("seed", seed, lo=0, hi=2**32 - 1 - lds.size)
    service = n_out * spt[:b]
    if service[-1] > _L.MAX_LATENCY_S:
        raise LabsimError(f"output_tokens × seconds_per_token_by_batch[{b - 1}] = {service[-1]:g} s per batch is out "
                          f"of range; allowed: at most {_L.MAX_LATENCY_S:g} s")
    cap_per_s = b / service[-1]
    lam = lds * cap_per_s
    if np.any(lam < _MIN_RATE_PER_S) or np.any(lam > _L.MAX_RATE_PER_S):
        raise LabsimError(f"loads × capacity give arrival rates from {lam.min():g} to {lam.max():g} per second; "
                          f"allowed: [{_MIN_RATE_PER_S:g}, {_L.MAX_RATE_PER_S:g}] (raise the smallest loads, or "
                          "check seconds_per_token_by_batch and output_tokens)")
    rows = {k: np.empty(lds.size) for k in ("load", "throughput_tok_s", "tokens_per_s_per_user", "p50_s", "p99_s")}
    for i, ld in enumerate(lds):
        r = simulate_batching(ld * cap_per_s, b, service, max_wait_s=max_wait_s, requests=requests, seed=seed + i)
        rows["load"][i] = ld
        rows["throughput_tok_s"][i] = r.throughput_per_s * n_out
        rows["tokens_per_s_per_user"][i] = 1.0 / spt[min(int(round(r.mean_batch)), b) - 1]
        rows["p50_s"][i] = r.latency.p50_s
        rows["p99_s"][i] = r.latency.p99_s
    return rows

