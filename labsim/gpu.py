"""A dynamic (run-time scheduled) GPU latency model: the same op sequence, many runs, a latency distribution.

Honest scope. In isolation a GPU runs a fixed kernel sequence very predictably — Clockwork (Gujarati et al.,
OSDI 2020) measured ResNet-50 P99.99 within 0.03 % of the median ([clockwork20] §2).
Tails come from *dynamic* effects around the kernels: host-side kernel launches, co-tenant contention for SMs
and HBM, clock/power management, and (outside this model) serving queues and batching. This model can show
both: ``contention=False, clock_variation=False`` → a tight distribution; switching them on → a tail.

Per run and per kernel (all draws seeded, no tail clipped):
- **Launch**: the host issues launches back to back, each ``launch_overhead_s × lognormal(0, launch_sigma)``;
  a kernel starts when both the host has launched it and the GPU is free. With ``cuda_graph=True`` one launch
  covers the whole sequence and kernels follow each other after ``graph_kernel_gap_s``.
- **Warps on SMs, memory requests**: a kernel's bytes are split into ``request_bytes`` requests spread over the
  SMs; an SM's memory time is the sum of its request costs (L2 hit or HBM miss, each with variability
  ``request_cv``), overlapped ``requests_in_flight_per_sm`` deep. The kernel ends when its slowest SM ends:
  the max over SMs is sampled exactly for a normal per-SM load (order statistic ``Φ⁻¹(U^{1/n_SM})``).
  Body time = ``kernel_fixed_s`` + max(compute time, memory time).
- **Co-tenant contention** (optional): with probability ``cotenant_prob`` a kernel shares the GPU, losing a
  uniform fraction (≤ ``cotenant_steal_max``) of SMs/bandwidth and waiting Exp(``cotenant_wait_mean_s``) for SMs.
- **Clock variation** (optional): one lognormal clock factor per run plus rare throttle events.

Parameters live in ``labsim/data/gpu/*.toml`` with a source each; unpublished ones are marked [A] there and
in the notebook. Design notes: ``docs/design/gpu.md``.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numba
import numpy as np

from . import catalog
from .errors import (
    LabsimError,
    check_bool,
    check_choice,
    check_fraction,
    check_int,
    check_name,
    check_number,
    check_positive,
)
from .schedule import Graph
from .stats import percentiles

__all__ = [
    "Kernel", "GPUParams", "gpu_params", "GPUS", "decoder_layer_kernels", "mlp_kernels", "model_decoder_layer_kernels",
    "kernels_from_graph",
    "simulate", "percentiles", "isolated_latency_s", "kernel_table",
]

_DATA_DIR = Path(__file__).resolve().parent / "data" / "gpu"


@dataclass(frozen=True)
class Kernel:
    """One GPU kernel of an op sequence: its arithmetic (``flops``), its memory traffic (``bytes``) and the
    fraction of that traffic expected to hit in L2 (``l2_hit_rate``; 0 for weights streamed once)."""
    name: str
    flops: float
    bytes: float
    l2_hit_rate: float = 0.0

    def __post_init__(self):
        check_name("name", self.name)
        check_number("flops", self.flops, lo=0.0)
        check_number("bytes", self.bytes, lo=0.0, unit="B")
        check_fraction("l2_hit_rate", self.l2_hit_rate)


@dataclass(frozen=True)
class GPUParams:
    """Parameters of the dynamic model (see ``data/gpu/h100_sxm.toml`` for each source; [A] = assumption)."""
    name: str
    sms: int
    hbm_bandwidth_bytes_per_s: float
    achievable_bw_fraction: float
    peak_flops: float
    achievable_flops_fraction: float
    launch_overhead_s: float
    launch_sigma: float
    graph_kernel_gap_s: float
    kernel_fixed_s: float
    request_bytes: float
    l2_latency_s: float
    hbm_latency_s: float
    request_cv: float
    requests_in_flight_per_sm: float
    cotenant_prob: float
    cotenant_steal_max: float
    cotenant_wait_mean_s: float
    contended_request_cv: float
    clock_sigma: float
    throttle_prob: float
    throttle_slowdown: float
    sources: tuple = ()

    def __post_init__(self):
        check_int("sms", self.sms, lo=1)
        for f in ("hbm_bandwidth_bytes_per_s", "peak_flops", "request_bytes", "l2_latency_s", "hbm_latency_s",
                  "requests_in_flight_per_sm"):
            check_positive(f, getattr(self, f))
        for f in ("achievable_bw_fraction", "achievable_flops_fraction"):
            check_fraction(f, getattr(self, f), allow_zero=False)
        for f in ("launch_overhead_s", "graph_kernel_gap_s", "kernel_fixed_s", "cotenant_wait_mean_s"):
            check_number(f, getattr(self, f), lo=0.0, hi=1.0, unit="s")
        for f in ("launch_sigma", "request_cv", "contended_request_cv", "clock_sigma"):
            check_number(f, getattr(self, f), lo=0.0, hi=3.0)
        check_fraction("cotenant_prob", self.cotenant_prob)
        check_number("cotenant_steal_max", self.cotenant_steal_max, lo=0.0, hi=0.95)
        check_fraction("throttle_prob", self.throttle_prob)
        check_number("throttle_slowdown", self.throttle_slowdown, lo=1.0, hi=10.0)

    def source(self, field: str) -> str:
        """The source line of a parameter (from the data file; the longest source key that prefixes ``field``)."""
        src = dict(self.sources)
        if field in src:
            return src[field]
        keys = [k for k in src if field.startswith(k)]
        return src[max(keys, key=len)] if keys else ""

    def table(self) -> list[tuple[str, float, str]]:
        """(parameter, value, source) for every numeric parameter — for a notebook listing."""
        return [(f.name, getattr(self, f.name), self.source(f.name)) for f in fields(self)
                if f.name not in ("name", "sources")]


def _load(path: Path) -> GPUParams:
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    c, k = raw.get("contention", {}), raw.get("clock", {})
    src = {key[: -len("_source")]: v for sec in (raw, c, k) for key, v in sec.items() if key.endswith("_source")}
    return GPUParams(
        name=raw["name"], sms=int(raw["sms"]), hbm_bandwidth_bytes_per_s=raw["hbm_bandwidth_bytes_per_s"],
        achievable_bw_fraction=raw["achievable_bw_fraction"], peak_flops=raw["peak_flops"],
        achievable_flops_fraction=raw["achievable_flops_fraction"], launch_overhead_s=raw["launch_overhead_s"],
        launch_sigma=raw["launch_sigma"], graph_kernel_gap_s=raw["graph_kernel_gap_s"],
        kernel_fixed_s=raw["kernel_fixed_s"], request_bytes=raw["request_bytes"], l2_latency_s=raw["l2_latency_s"],
        hbm_latency_s=raw["hbm_latency_s"], request_cv=raw["request_cv"],
        requests_in_flight_per_sm=raw["requests_in_flight_per_sm"], cotenant_prob=c["cotenant_prob"],
        cotenant_steal_max=c["cotenant_steal_max"], cotenant_wait_mean_s=c["cotenant_wait_mean_s"],
        contended_request_cv=c["request_cv"], clock_sigma=k["clock_sigma"], throttle_prob=k["throttle_prob"],
        throttle_slowdown=k["throttle_slowdown"], sources=tuple(sorted(src.items())),
    )


#: Parameter sets by name, one per data file in ``labsim/data/gpu/``.
GPUS: dict[str, GPUParams] = {p.name: p for p in (_load(f) for f in sorted(_DATA_DIR.glob("*.toml")))}


def gpu_params(gpu: str = "h100_sxm", **overrides) -> GPUParams:
    """A parameter set by name, with keyword overrides (e.g. ``gpu_params(launch_overhead_s=10e-6)``)."""
    base = GPUS[check_choice("gpu", gpu, GPUS, what="GPU parameter set")]
    names = {f.name for f in fields(GPUParams)} - {"name", "sources"}
    for key in overrides:
        check_choice("parameter", key, names, what="GPU model parameter")
    return replace(base, **overrides)


# ----------------------------------------------------------------------------------------------- op sequences
#: The widest element a kernel list is built for: 8 bytes (FP64); anything wider is a typo, not a format.
MAX_BYTES_PER_ELEMENT = 8.0


def _check_bytes_per_element(value) -> float:
    return check_number("bytes_per_element", value, lo=0.0, lo_open=True, hi=MAX_BYTES_PER_ELEMENT, unit="B")


def decoder_layer_kernels(hidden_size: int, intermediate_size: int, num_heads: int, num_kv_heads: int,
                          head_dim: int, *, context_tokens: int = 1024, batch: int = 1,
                          bytes_per_element: float = 2.0) -> list[Kernel]:
    """One Llama-style decoder layer at decode time as 11 unfused kernels (8–15 per layer is typical without
    fusion or CUDA graphs [A]): norm, QKV GEMV, RoPE, attention over the KV cache, output
    projection, residual, norm, gate+up GEMV, SiLU·mul, down GEMV, residual. FLOPs = 2 per MAC; bytes =
    weights + activations + KV cache read, in ``bytes_per_element`` (2 = bf16)."""
    h = check_int("hidden_size", hidden_size, lo=1)
    f = check_int("intermediate_size", intermediate_size, lo=1)
    nh = check_int("num_heads", num_heads, lo=1)
    nkv = check_int("num_kv_heads", num_kv_heads, lo=1, hi=nh)
    if nh % nkv:
        raise LabsimError(f"num_kv_heads = {nkv} is out of range: grouped-query attention shares each KV head among "
                          f"an equal group of query heads; allowed: divisors of num_heads = {nh}")
    hd = check_int("head_dim", head_dim, lo=1)
    ctx = check_int("context_tokens", context_tokens, lo=1)
    b = check_int("batch", batch, lo=1)
    e = _check_bytes_per_element(bytes_per_element)
    q, kv = nh * hd, nkv * hd
    act = b * h * e
    kv_bytes = 2 * ctx * kv * e * b
    return [
        Kernel("rmsnorm_1", 4 * b * h, 2 * act + h * e, 0.5),
        Kernel("qkv_proj", 2 * b * h * (q + 2 * kv), h * (q + 2 * kv) * e + act, 0.0),
        Kernel("rope", 6 * b * (q + kv), 2 * b * (q + kv) * e, 0.5),
        Kernel("attention", 4 * b * nh * hd * ctx, kv_bytes + 2 * b * q * e, 0.0),
        Kernel("o_proj", 2 * b * q * h, q * h * e + act, 0.0),
        Kernel("residual_1", b * h, 3 * act, 0.5),
        Kernel("rmsnorm_2", 4 * b * h, 2 * act + h * e, 0.5),
        Kernel("gate_up_proj", 2 * b * h * 2 * f, 2 * h * f * e + act, 0.0),
        Kernel("silu_mul", 4 * b * f, 3 * b * f * e, 0.5),
        Kernel("down_proj", 2 * b * f * h, f * h * e + b * f * e, 0.0),
        Kernel("residual_2", b * h, 3 * act, 0.5),
    ]


def mlp_kernels(hidden_size: int, intermediate_size: int, *, batch: int = 1, bytes_per_element: float = 2.0):
    """A dense two-layer MLP (up GEMV, activation, down GEMV) as 3 kernels."""
    h = check_int("hidden_size", hidden_size, lo=1)
    f = check_int("intermediate_size", intermediate_size, lo=1)
    b = check_int("batch", batch, lo=1)
    e = _check_bytes_per_element(bytes_per_element)
    return [Kernel("up_proj", 2 * b * h * f, h * f * e + b * h * e, 0.0),
            Kernel("activation", 4 * b * f, 2 * b * f * e, 0.5),
            Kernel("down_proj", 2 * b * f * h, f * h * e + b * f * e, 0.0)]


def model_decoder_layer_kernels(model: str = "llama-3.1-8b", **kwargs) -> list[Kernel]:
    """:func:`decoder_layer_kernels` with dimensions from ``labsim.catalog.model(model)`` (the catalog's model
    file holds them with their source); a model without a dense attention layer's dimensions is refused."""
    m = catalog.model(model)
    dims = {f: getattr(m, f, None) for f in ("hidden_size", "intermediate_size", "num_heads", "num_kv_heads")}
    missing = [f for f, v in dims.items() if not v]
    if missing:
        raise LabsimError(f"model={model!r} has no {', '.join(missing)} in the catalog; "
                          "model_decoder_layer_kernels needs a dense attention layer's dimensions")
    dims["head_dim"] = m.head_dim or m.hidden_size // m.num_heads
    return decoder_layer_kernels(**dims, **kwargs)


def kernels_from_graph(graph, *, bytes_per_element: float = 1.0) -> list[Kernel]:
    """The *same* op sequence as a :class:`labsim.schedule.Graph`, one GPU kernel per tensor-level operation.

    Nodes are grouped by the part of their name before the first ``.`` (``q_proj.mv[0,1]`` → ``q_proj``), in
    graph order, as an unfused framework would launch them. A kernel's flops: 2 per MAC of each matvec tile, one
    per element of each element-wise op; bytes: the weight tiles plus every vector read and written, at
    ``bytes_per_element`` (1 = int8, as on the TSP).
    """
    e = _check_bytes_per_element(bytes_per_element)
    if not isinstance(graph, Graph):
        raise LabsimError(f"graph must be a labsim.schedule.Graph, got {type(graph).__name__}")
    groups: dict[str, list[float]] = {}
    for n in graph.nodes:
        if n.op in ("load", "weights", "store", "send", "recv"):
            continue
        key = n.name.split(".")[0].split("[")[0]
        vl = n.out.shape[0]
        if n.op == "matvec":
            fl, by = 2.0 * vl * vl, (vl * vl + 2 * vl) * e
        else:
            fl, by = float(vl), (len(n.inputs) + 1) * vl * e
        acc = groups.setdefault(key, [0.0, 0.0])
        acc[0] += fl
        acc[1] += by
    if not groups:
        raise LabsimError("the graph has no compute nodes to turn into kernels")
    return [Kernel(k, fl, by, 0.0) for k, (fl, by) in groups.items()]


def _kernels(kernels) -> list[Kernel]:
    if isinstance(kernels, Kernel):
        kernels = [kernels]
    try:
        ks = list(kernels)
    except TypeError:
        raise LabsimError(f"kernels must be a sequence of gpu.Kernel, got {type(kernels).__name__}") from None
    if not ks:
        raise LabsimError("kernels must be a non-empty sequence of gpu.Kernel")
    for i, k in enumerate(ks):
        if not isinstance(k, Kernel):
            raise LabsimError(f"kernels[{i}] must be a gpu.Kernel, got {type(k).__name__}")
    return ks


def _per_kernel(ks: list[Kernel], p: GPUParams, request_cv: float):
    """Deterministic per-kernel quantities: compute time, mean memory time, per-SM load σ, SMs used, fixed time."""
    n = len(ks)
    t_comp, t_mem, sd, nsm, fixed = (np.empty(n) for _ in range(5))
    bw = p.hbm_bandwidth_bytes_per_s * p.achievable_bw_fraction
    for i, k in enumerate(ks):
        t_comp[i] = k.flops / (p.peak_flops * p.achievable_flops_fraction)
        reqs = max(1.0, math.ceil(k.bytes / p.request_bytes))
        used = min(float(p.sms), reqs)
        per_sm = reqs / used
        h = k.l2_hit_rate
        mean_lat = h * p.l2_latency_s + (1 - h) * p.hbm_latency_s
        # per-request cost variance: hit/miss mixture + HBM request variability
        var = h * (1 - h) * (p.hbm_latency_s - p.l2_latency_s) ** 2 + ((1 - h) * request_cv * p.hbm_latency_s) ** 2
        t_lat = per_sm * mean_lat / p.requests_in_flight_per_sm + mean_lat  # Little's law + one latency to drain
        t_mem[i] = max(k.bytes / bw, t_lat)
        sd[i] = math.sqrt(var) / (mean_lat * math.sqrt(per_sm))
        nsm[i] = used
        fixed[i] = p.kernel_fixed_s
    return t_comp, t_mem, sd, nsm, fixed


# ----------------------------------------------------------------------------------------------- numba kernel
@numba.njit(cache=True)
def _norm_ppf(p):
    """Inverse standard normal CDF (Acklam's rational approximation, |rel err| < 1.2e-9)."""
    a0, a1, a2, a3, a4, a5 = -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, \
        1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00
    b0, b1, b2, b3, b4 = -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, \
        6.680131188771972e+01, -1.328068155288572e+01
    c0, c1, c2, c3, c4, c5 = -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, \
        -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00
    d0, d1, d2, d3 = 7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00
    plow = 0.02425
    if p < plow:
        q = math.sqrt(-2.0 * math.log(p))
        return ((((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5)
                / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1.0))
    if p > 1.0 - plow:
        q = math.sqrt(-2.0 * math.log(1.0 - p))
        return (-(((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5)
                / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1.0))
    q = p - 0.5
    r = q * q
    return (((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q / \
        (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1.0)


@numba.njit(cache=True)
def _simulate(n, seed, t_comp, t_mem, sd_sm, n_sm, t_fixed, launch_s, launch_sigma, graph, graph_gap_s,
              cot_prob, cot_steal_max, cot_wait_mean_s, clock_sigma, throttle_prob, throttle_slowdown):
    np.random.seed(seed)
    nk = t_comp.size
    out = np.empty(n)
    for r in range(n):
        clk = 1.0
        if clock_sigma > 0.0:
            clk = math.exp(clock_sigma * np.random.standard_normal())
        if throttle_prob > 0.0 and np.random.random() < throttle_prob:
            clk *= throttle_slowdown
        cpu = 0.0
        gpu = 0.0
        if graph:
            cpu = launch_s * math.exp(launch_sigma * np.random.standard_normal())
        for k in range(nk):
            if graph:
                start = max(gpu, cpu) + (graph_gap_s if k > 0 else 0.0)
            else:
                cpu += launch_s * math.exp(launch_sigma * np.random.standard_normal())
                start = max(gpu, cpu)
            straggle = 1.0
            if sd_sm[k] > 0.0:
                u = 1.0 - np.random.random()              # (0, 1]
                v = u ** (1.0 / n_sm[k])                    # CDF value of the max of n_sm iid uniforms
                if v >= 1.0:
                    v = 1.0 - 1e-16
                straggle = 1.0 + sd_sm[k] * _norm_ppf(v)
                if straggle < 0.0:
                    straggle = 0.0
            mem = t_mem[k] * straggle
            comp = t_comp[k] * clk
            if cot_prob > 0.0 and np.random.random() < cot_prob:
                keep = 1.0 - np.random.random() * cot_steal_max
                mem /= keep
                comp /= keep
                start += np.random.exponential(cot_wait_mean_s)
            gpu = start + t_fixed[k] * clk + max(comp, mem)
        out[r] = gpu
    return out


def simulate(kernels, *, n: int = 100_000, seed: int = 0, gpu: str | GPUParams = "h100_sxm",
             contention: bool = False, clock_variation: bool = False, cuda_graph: bool = False,
             launch_overhead_s: float | None = None, cotenant_prob: float | None = None) -> np.ndarray:
    """``n`` seeded end-to-end latencies (s) of running ``kernels`` once, each run an independent draw.

    ``contention``: co-tenant contention for SMs and HBM on/off; ``clock_variation``: per-run clock factor
    and throttle events on/off; ``cuda_graph``: one launch for the whole sequence. ``launch_overhead_s`` and
    ``cotenant_prob`` override the parameter set (widget knobs). Same inputs and seed → identical samples.
    """
    ks = _kernels(kernels)
    p = gpu if isinstance(gpu, GPUParams) else gpu_params(gpu)
    n = check_int("n", n, lo=1, hi=50_000_000)
    seed = check_int("seed", seed, lo=0, hi=2**32 - 1)
    for name, v in (("contention", contention), ("clock_variation", clock_variation), ("cuda_graph", cuda_graph)):
        if not isinstance(v, (bool, np.bool_)):
            raise LabsimError(f"{name} must be True or False, got {v!r}")
    launch = p.launch_overhead_s if launch_overhead_s is None else check_number(
        "launch_overhead_s", launch_overhead_s, lo=0.0, hi=1e-3, unit="s")
    cprob = p.cotenant_prob if cotenant_prob is None else check_fraction("cotenant_prob", cotenant_prob)
    cv = p.contended_request_cv if contention else p.request_cv
    t_comp, t_mem, sd, nsm, fixed = _per_kernel(ks, p, cv)
    return _simulate(n, seed, t_comp, t_mem, sd, nsm, fixed, launch, p.launch_sigma, bool(cuda_graph),
                     p.graph_kernel_gap_s, cprob if contention else 0.0, p.cotenant_steal_max,
                     p.cotenant_wait_mean_s, p.clock_sigma if clock_variation else 0.0,
                     p.throttle_prob if clock_variation else 0.0, p.throttle_slowdown)


def isolated_latency_s(kernels, *, gpu: str | GPUParams = "h100_sxm", cuda_graph: bool = False,
                       launch_overhead_s: float | None = None) -> float:
    """The latency with every random term at its median and the straggler term off (a deterministic reference).

    The simulated isolated median sits slightly above it (the slowest of many SMs sets each kernel's end).
    """
    ks = _kernels(kernels)
    p = gpu if isinstance(gpu, GPUParams) else gpu_params(gpu)
    launch = p.launch_overhead_s if launch_overhead_s is None else check_number(
        "launch_overhead_s", launch_overhead_s, lo=0.0, hi=1e-3, unit="s")
    t_comp, t_mem, _, _, fixed = _per_kernel(ks, p, p.request_cv)
    cuda_graph = check_bool("cuda_graph", cuda_graph)
    cpu = gpu_t = 0.0
    if cuda_graph:
        cpu = launch
    for k in range(len(ks)):
        if cuda_graph:
            start = max(gpu_t, cpu) + (p.graph_kernel_gap_s if k > 0 else 0.0)
        else:
            cpu += launch
            start = max(gpu_t, cpu)
        gpu_t = start + fixed[k] + max(t_comp[k], t_mem[k])
    return gpu_t


def kernel_table(kernels, *, gpu: str | GPUParams = "h100_sxm") -> list[dict]:
    """Per kernel: name, flops, bytes, compute_s, memory_s, bound ("compute"/"memory") — for a notebook table."""
    ks = _kernels(kernels)
    p = gpu if isinstance(gpu, GPUParams) else gpu_params(gpu)
    t_comp, t_mem, _, _, _ = _per_kernel(ks, p, p.request_cv)
    return [{"name": k.name, "flops": k.flops, "bytes": k.bytes, "compute_s": float(c), "memory_s": float(m),
             "bound": "compute" if c > m else "memory"} for k, c, m in zip(ks, t_comp, t_mem, strict=False)]




def _warmup() -> None:
    ks = mlp_kernels(64, 256)
    simulate(ks, n=4, seed=0)
    simulate(ks, n=4, seed=0, contention=True, clock_variation=True, cuda_graph=True)
    _norm_ppf(0.5)
