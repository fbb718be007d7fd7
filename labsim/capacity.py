"""The SRAM capacity tax: chips needed, decode time per token, and the roofline (chapter 3).

Three questions, each answered from catalog inputs plus named assumptions:

* :func:`plan` — how many chips (nodes, racks, synchronous domains, dollars) a model needs once weights,
  KV cache, activations/workspace and per-chip reserved memory are all counted.
* :func:`decode_time` — seconds per generated token and which bound sets it: memory bandwidth, compute,
  interconnect (C2C hops + collectives on an LPU pipeline, NVLink all-reduce on GPUs) or fixed latency
  (on-chip op latency on an LPU, kernel launches on a GPU).
* :func:`roofline` — attainable ops/s versus arithmetic intensity, with prefill and decode points.

:func:`plan_sweep` and :func:`decode_sweep` evaluate the same equations over NumPy arrays (≥ 1e5
configurations per second; see ``benches/bench_capacity.py``); the scalar functions call them.

Every unpublished number is a named, overridable parameter listed in :data:`ASSUMPTIONS` with its status
([P]/[S]/[D]/[A]) and source. None of them is tuned to reproduce a published tokens/s.
Design notes and equations: ``docs/design/capacity.md``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Mapping

import numpy as np

from . import catalog
from . import multichip as mc
from .assumptions import Assumption, registry, table
from .errors import LabsimError, check_array, check_choice, check_fraction, check_int, check_number, check_positive
from .precision import PRECISIONS, bytes_per_element

__all__ = [
    "ASSUMPTIONS", "Assumption", "BOUNDS", "Plan", "DecodeResult", "plan", "plan_sweep", "decode_time",
    "decode_sweep", "roofline", "ridge_intensity", "decode_intensity", "prefill_intensity", "roofline_points",
    "compute_bound_batch", "compute_precision_for", "reconcile_576", "prefill_time", "prefill_sweep", "PrefillResult", "memory_sweep_time_s", "experts_touched", "assumptions_table",
]


# ----------------------------------------------------------------------------------------------------------
# Named assumptions (value, unit, status, source). Every default below comes from this table.
# ----------------------------------------------------------------------------------------------------------

_A = [
    Assumption("context_tokens", 4096, "tokens", "[A]",
               "a typical chat context; also the maximum context of Llama 2 70B, the model of Groq's 576-chip "
               "system (facts/models.md §2, facts/tsp.md row 7.4)"),
    Assumption("kv_precision", "fp16", "", "[S]",
               "report 001 Q3 §4: weights/activations mainly INT8 and FP16 (via facts/seeds.md §1.4); the KV "
               "cache is activation data, so FP16"),
    Assumption("activation_precision", "fp16", "", "[S]", "report 001 Q3 §4 (via facts/seeds.md §1.4)"),
    Assumption("logits_precision", "fp32", "", "[S]",
               "report 001 Q3 §4 / Q8 §4: attention logits kept in FP32 (via facts/seeds.md §1.4)"),
    Assumption("reserved_fraction_sram", 0.10, "of each chip", "[A]",
               "instructions (the TSP fetches them from its MEM slices, ISCA 2020 Ifetch, facts/tsp.md §5.4), "
               "stream buffers and layout slack; unpublished"),
    Assumption("reserved_fraction_hbm", 0.10, "of each GPU", "[A]",
               "CUDA context, framework and allocator slack; unpublished, order of magnitude only"),
    Assumption("workspace_vectors_hidden", 4, "hidden-size vectors per layer per sequence", "[A]",
               "residual, normed input, attention output, FFN output — statically allocated per layer on an LPU"),
    Assumption("bandwidth_efficiency_sram", 1.0, "", "[A]",
               "statically scheduled SRAM reads: no contention, no refresh (report 001 Q2 §1); upper bound"),
    Assumption("bandwidth_efficiency_hbm", 0.8, "", "[A]",
               "0.7–0.8 of peak HBM is typical of STREAM-like measurements (facts/tsp.md §11.4)"),
    Assumption("compute_efficiency", 0.7, "", "[A]", "fraction of dense peak reached by real matmuls; unpublished"),
    Assumption("mxm_feed_bytes_per_cycle", 10240, "B/cycle", "[S]/[D]",
               "TSP only: MEM installs 409,600 INT8 weights into the 4 MXM planes in < 40 cycles = 10,240 B/cycle "
               "(ISCA 2020 §V, via facts/tsp.md row 5.1.4). At batch 1 every weight is installed once per token"),
    Assumption("serial_ops_per_layer", 12, "dependent steps", "[A]",
               "norm, QKV, RoPE, QK^T, softmax, AV, O-proj, residual, norm, gate/up, SiLU·mul, down"),
    Assumption("op_latency_cycles", 100, "cycles", "[A]",
               "one dependent step: 20-cycle instruction stagger + 24-cycle MXM pass + ~50 cycles of stream "
               "transit (pieces from facts/tsp.md §11.2)"),
    Assumption("tensor_parallel_lpu", "min(chips_per_node, chips // layers)", "chips", "[A]",
               "each layer is split over the chips of (at most) one fully connected node; layers pipelined"),
    Assumption("allreduces_per_layer", 2, "", "[P]", "Megatron tensor parallelism (Shoeybi et al. 2019)"),
    Assumption("hop_source", "fig6", "", "[S]",
               "0.6 µs per C2C hop (report Fig 6); 'isca22' = 0.29 µs (labsim.multichip)"),
    Assumption("ethernet", "rdma", "", "[A]", "5 µs median per domain crossing (labsim.multichip preset)"),
    Assumption("kernels_per_layer", 10, "kernels", "[A]", "8–15 without fusion/CUDA graphs (facts/tsp.md §11.4)"),
    Assumption("kernel_launch_s", 5e-6, "s", "[P]/[A]",
               "4–6 µs measured (facts/tsp.md rows 9.7–9.8); launches overlap execution, only the excess shows"),
    Assumption("gpu_allreduce_latency_s", 5e-6, "s", "[A]",
               "latency of one small tensor-parallel all-reduce inside an NVLink domain when the catalog gives no "
               "link latency; several µs is typical of NCCL small messages, unpublished here"),
    Assumption("moe_routing", "uniform", "", "[A]",
               "experts touched by a batch of B tokens: E·(1 − (1 − k/E)^B) (independent uniform routing)"),
    Assumption("layout", "packed", "", "[A]",
               "'packed' = bytes fill chips; 'per_layer' = every layer gets whole chips (layout granularity)"),
    Assumption("gpu_power_of_two", True, "", "[A]",
               "GPU tensor-parallel degree rounded up to 1, 2, 4, 8 … (heads must split evenly)"),
]

#: name -> Assumption (value, unit, status, source). Shown by the notebook's closing note.
ASSUMPTIONS: Mapping[str, Assumption] = registry(_A)


def assumptions_table() -> str:
    """A plain-text table of the default assumptions (name, value, status, source)."""
    return table(_A)


#: names of the bounds :func:`decode_time` can report as dominant.
BOUNDS = ("memory bandwidth", "compute", "interconnect", "fixed latency")


# ----------------------------------------------------------------------------------------------------------
# Input resolution
# ----------------------------------------------------------------------------------------------------------

def _model(model) -> catalog.Model:
    if isinstance(model, catalog.Model):
        return model
    if isinstance(model, str):
        return catalog.model(model)
    raise LabsimError(f"model must be a catalog model name or a Model, got {model!r}")


def _chip(chip) -> catalog.Chip:
    if isinstance(chip, catalog.Chip):
        return chip
    if isinstance(chip, str):
        return catalog.chip(chip)
    raise LabsimError(f"chip must be a catalog chip name or a Chip, got {chip!r}")


def _prec(name: str, value) -> str:
    return check_choice(name, value, PRECISIONS, what="precision")


def compute_precision_for(chip, precision: str = "int8") -> str:
    """The precision the matmuls of ``precision`` weights run at on ``chip`` (see :func:`_default_compute_precision`)."""
    return _default_compute_precision(_chip(chip), _prec("precision", precision))


def _default_compute_precision(chip: catalog.Chip, precision: str) -> str:
    """The precision the matmuls run at: the weight precision if the chip publishes a peak for it, else the
    narrowest published format that is at least as wide (INT8 weights on a chip without INT8 run in FP8/FP16)."""
    peaks = chip.peak_ops_per_s
    if precision in peaks:
        return precision
    want = bytes_per_element(precision)
    wider = sorted((bytes_per_element(p), p) for p in peaks if bytes_per_element(p) >= want)
    if wider:
        return wider[0][1]
    if peaks:
        return max(peaks, key=lambda p: peaks[p])
    raise LabsimError(f"chip {chip.name!r} publishes no peak ops/s at any precision")


# ----------------------------------------------------------------------------------------------------------
# Memory pieces (shared by plan and decode)
# ----------------------------------------------------------------------------------------------------------

_PARTS = ("embedding", "lm_head", "attention", "dense_mlp", "routed_experts", "shared_experts", "router", "norms")


def _keep_parts(keep_parts) -> tuple:
    """Validate ``keep_parts`` (a parameter-group name or an iterable of them) → tuple of names."""
    if keep_parts is None:
        return ()
    if isinstance(keep_parts, str):
        keep_parts = (keep_parts,)
    try:
        parts = tuple(keep_parts)
    except TypeError:
        raise LabsimError(f"keep_parts must be a parameter-group name or a tuple of them, got {keep_parts!r}; "
                          f"valid: {', '.join(_PARTS)}") from None
    for p in parts:
        check_choice("keep_parts", p, _PARTS, what="parameter group")
    return parts


def _whole(name: str, arr: np.ndarray, what: str) -> None:
    """Raise if an array of counts holds a fractional value (names the index and the value)."""
    frac = arr != np.floor(arr)
    if np.any(frac):
        idx = np.unravel_index(int(np.argmax(frac)), arr.shape) if arr.ndim else ()
        where = f"[{', '.join(map(str, idx))}]" if arr.ndim else ""
        raise LabsimError(f"{name}{where} = {float(arr[idx] if arr.ndim else arr):g} is out of range; allowed: "
                          f"whole numbers of {what} (≥ 1)")


def _broadcast(**arrays):
    """np.broadcast_arrays with a LabsimError naming the arrays and their shapes when they do not fit."""
    try:
        return np.broadcast_arrays(*arrays.values())
    except ValueError:
        shapes = ", ".join(f"{k} {np.shape(v)}" for k, v in arrays.items())
        raise LabsimError(f"array inputs must broadcast to one shape (equal lengths, or length 1); got {shapes}") \
            from None


def _weight_bytes(m: catalog.Model, precision: str, expert_precision, keep_parts, keep_precision) -> float:
    """Stored weight bytes: ``model.weight_bytes`` plus the extra bytes of parts kept at ``keep_precision``."""
    total = m.weight_bytes(precision, expert_precision)
    if keep_parts:
        br = m.param_breakdown()
        extra = bytes_per_element(keep_precision) - bytes_per_element(precision)
        for p in keep_parts:
            if p in ("routed_experts", "shared_experts") and expert_precision is not None:
                extra_p = bytes_per_element(keep_precision) - bytes_per_element(expert_precision)
                total += br[p] * extra_p
            else:
                total += br[p] * extra
    return float(total)


def _part_bytes(m, part, precision, expert_precision, keep_parts, keep_precision) -> float:
    br = m.param_breakdown()
    if part in keep_parts:
        b = bytes_per_element(keep_precision)
    elif part in ("routed_experts", "shared_experts") and expert_precision is not None:
        b = bytes_per_element(expert_precision)
    else:
        b = bytes_per_element(precision)
    return br[part] * b


def _workspace_bytes_per_seq(m: catalog.Model, context, act_precision, logits_precision, workspace_vectors):
    """Activation/workspace bytes per sequence summed over all layers (statically allocated per layer).

    Per layer: ``workspace_vectors`` hidden-size vectors + q, k, v widths + 2 FFN widths (gate, up) at the
    activation precision, plus the attention logits of every head over the attended context at
    ``logits_precision`` (FP32 on the LPU, report 001 Q3 §4).
    """
    ffn = max(m.intermediate_size if m.num_dense_ffn_layers else 0,
              m.experts_per_token * m.moe_intermediate_size + m.num_shared_experts * m._shared_ff)
    vec = (workspace_vectors * m.hidden_size + m.num_heads * m._qk_head_dim
           + 2 * m.num_kv_heads * m.head_dim + 2 * ffn) * bytes_per_element(act_precision)
    ctx = np.asarray(context, dtype=np.float64)
    attended = (m.num_full_attention_layers * ctx
                + m.num_local_attention_layers * np.minimum(ctx, m.local_window_tokens))
    logits = m.num_heads * attended * bytes_per_element(logits_precision)
    return m.num_layers * vec + logits


def experts_touched(num_experts: int, experts_per_token: int, batch):
    """Expected distinct routed experts a batch of ``batch`` tokens touches in one MoE layer [A uniform].

    E·(1 − (1 − k/E)^B). B = 1 gives k; large B approaches E (every expert must be read).
    """
    b = check_array("batch", batch, lo=1)
    E = check_int("num_experts", num_experts, lo=0)
    if E == 0:
        return np.zeros_like(b) if np.ndim(b) else 0.0
    k = check_int("experts_per_token", experts_per_token, lo=1, hi=E)
    out = E * (1.0 - (1.0 - k / E) ** b)
    return float(out) if np.ndim(out) == 0 else out


# ----------------------------------------------------------------------------------------------------------
# plan
# ----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    """Chips needed to hold a model, with the memory breakdown that sets the count (bytes, decimal units).

    ``domains`` = ceil(chips / chip.sync_domain_chips): RealScale domains for the LPU (``crosses_cliff`` = the
    determinism cliff of chapter 2); for GPUs the NVLink domain (crossing it means InfiniBand/Ethernet).
    """
    model: str
    chip: str
    memory_kind: str
    precision: str
    expert_precision: str | None
    kv_precision: str
    context_tokens: int
    batch: int
    weight_bytes: float
    kv_cache_bytes: float
    activation_bytes: float
    reserved_bytes_per_chip: float
    usable_bytes_per_chip: float
    total_bytes: float
    chips_by_capacity: float        #: total_bytes / usable bytes per chip (fractional)
    chips: int                      #: whole chips after layout rounding
    nodes: int
    racks: int
    domains: int
    crosses_cliff: bool
    price_usd_per_chip: float | None
    capex_usd: float | None
    gpus_per_replica: int | None    #: HBM chips only: tensor-parallel group holding one replica
    layout: str
    assumptions: Mapping[str, object] = field(default_factory=dict, repr=False)

    @property
    def breakdown(self) -> dict[str, float]:
        """Memory breakdown in bytes (what the stacked bar shows); reserved = over all chips."""
        return {"weights": self.weight_bytes, "kv_cache": self.kv_cache_bytes,
                "activations": self.activation_bytes,
                "reserved": self.reserved_bytes_per_chip * self.chips,
                "unused": max(0.0, self.chips * self.usable_bytes_per_chip - self.total_bytes)}

    def summary(self) -> str:
        cap = "n/a (no published price)" if self.capex_usd is None else f"${self.capex_usd / 1e6:,.2f} M"
        lines = [
            f"{self.model} on {self.chip} ({self.precision} weights, KV {self.kv_precision}, "
            f"{self.context_tokens} tokens × batch {self.batch})",
            f"  weights {self.weight_bytes / 1e9:8.2f} GB   KV cache {self.kv_cache_bytes / 1e9:8.2f} GB   "
            f"activations {self.activation_bytes / 1e9:6.3f} GB",
            f"  usable per chip {self.usable_bytes_per_chip / 1e6:,.0f} MB → {self.chips_by_capacity:,.1f} chips by "
            f"capacity → {self.chips:,} chips ({self.layout})",
            f"  nodes {self.nodes:,}  racks {self.racks:,}  sync domains {self.domains:,}"
            f"{'  — crosses the determinism cliff' if self.crosses_cliff else ''}",
            f"  capex {cap}",
        ]
        return "\n".join(lines)


_LAYOUTS = ("packed", "per_layer")


def _resolve_plan_args(model, chip, precision, expert_precision, kv_precision, activation_precision,
                       logits_precision, overhead, keep_parts, keep_precision, layout, price_usd_per_chip,
                       workspace_vectors):
    m, c = _model(model), _chip(chip)
    precision = _prec("precision", precision)
    expert_precision = None if expert_precision is None else _prec("expert_precision", expert_precision)
    kv_precision = _prec("kv_precision", kv_precision)
    activation_precision = _prec("activation_precision", activation_precision)
    logits_precision = _prec("logits_precision", logits_precision)
    if overhead is None:
        overhead = ASSUMPTIONS["reserved_fraction_sram" if c.memory_kind == "sram" else "reserved_fraction_hbm"].value
    overhead = check_number("overhead", overhead, lo=0.0, hi=1.0, hi_open=True)
    keep_parts = _keep_parts(keep_parts)
    keep_precision = _prec("keep_precision", keep_precision)
    layout = check_choice("layout", layout, _LAYOUTS, what="layout")
    if price_usd_per_chip is None:
        price = c.price_usd
    else:
        price = check_number("price_usd_per_chip", price_usd_per_chip, lo=0.0, unit="USD")
    workspace_vectors = check_number("workspace_vectors", workspace_vectors, lo=0.0)
    return (m, c, precision, expert_precision, kv_precision, activation_precision, logits_precision, overhead,
            keep_parts, keep_precision, layout, price, workspace_vectors)


def _ceil(x):
    # guard against 303.0000000001 from float error
    return np.ceil(np.asarray(x) * (1 - 1e-12))


def plan_sweep(model, chip, *, context_tokens=None, batch=1, precision: str = "int8",
               expert_precision: str | None = None, kv_precision: str = "fp16",
               activation_precision: str = "fp16", logits_precision: str = "fp32", overhead: float | None = None,
               keep_parts=(), keep_precision: str = "fp16", layout: str = "packed",
               price_usd_per_chip: float | None = None, workspace_vectors: float = 4,
               gpu_power_of_two: bool = True) -> dict[str, np.ndarray]:
    """Vectorised :func:`plan` over arrays of ``context_tokens`` and ``batch`` (broadcast together).

    Returns arrays: ``weight_bytes, kv_cache_bytes, activation_bytes, total_bytes, chips_by_capacity, chips,
    nodes, racks, domains, crosses_cliff, capex_usd`` (NaN capex when the chip has no published price).
    """
    (m, c, precision, expert_precision, kv_precision, act_p, logits_p, overhead, keep_parts, keep_precision,
     layout, price, workspace_vectors) = _resolve_plan_args(
        model, chip, precision, expert_precision, kv_precision, activation_precision, logits_precision, overhead,
        keep_parts, keep_precision, layout, price_usd_per_chip, workspace_vectors)
    if not isinstance(gpu_power_of_two, (bool, np.bool_)):
        raise LabsimError(f"gpu_power_of_two must be True or False, got {gpu_power_of_two!r}")
    if context_tokens is None:
        context_tokens = ASSUMPTIONS["context_tokens"].value
    ctx = check_array("context_tokens", context_tokens, lo=0.0)
    b = check_array("batch", batch, lo=1.0)
    _whole("batch", b, "sequences")
    ctx, b = _broadcast(context_tokens=ctx, batch=b)
    w = _weight_bytes(m, precision, expert_precision, keep_parts, keep_precision)
    kv = np.asarray(m.kv_cache_bytes(ctx, precision=kv_precision, batch=b), dtype=np.float64)
    act = b * _workspace_bytes_per_seq(m, ctx, act_p, logits_p, workspace_vectors)
    total = w + kv + act
    usable = c.memory_bytes * (1.0 - overhead)
    by_cap = total / usable
    if layout == "per_layer":
        # every decoder layer (its weights, its KV cache, its workspace) gets whole chips; the embedding and
        # lm_head get their own whole chips.
        emb = _part_bytes(m, "embedding", precision, expert_precision, keep_parts, keep_precision) \
            + _part_bytes(m, "lm_head", precision, expert_precision, keep_parts, keep_precision)
        per_layer = (w - emb) / m.num_layers + (kv + act) / m.num_layers
        chips = m.num_layers * _ceil(per_layer / usable) + _ceil(emb / usable)
    else:
        chips = _ceil(by_cap)
    chips = np.maximum(chips, 1.0)
    if c.memory_kind == "hbm" and gpu_power_of_two:
        chips = 2.0 ** _ceil(np.log2(chips))
    per_node = c.chips_per_node or 1
    per_rack = c.chips_per_rack or per_node
    dom = c.sync_domain_chips or per_rack
    nodes = _ceil(chips / per_node)
    racks = _ceil(chips / per_rack)
    domains = _ceil(chips / dom)
    capex = chips * (np.nan if price is None else price)
    return {"weight_bytes": np.full(ctx.shape, w), "kv_cache_bytes": kv, "activation_bytes": act,
            "total_bytes": total, "chips_by_capacity": by_cap, "chips": chips, "nodes": nodes, "racks": racks,
            "domains": domains, "crosses_cliff": domains > 1, "capex_usd": capex}


def plan(model, chip, precision: str = "int8", *, context_tokens: int | None = None, batch: int = 1,
         kv_precision: str = "fp16", overhead: float | None = None, expert_precision: str | None = None,
         activation_precision: str = "fp16", logits_precision: str = "fp32", keep_parts=(),
         keep_precision: str = "fp16", layout: str = "packed", price_usd_per_chip: float | None = None,
         workspace_vectors: float = 4, gpu_power_of_two: bool = True) -> Plan:
    """Chips needed to serve ``model`` on ``chip``: memory breakdown → chips → nodes, racks, domains, capex.

    Memory = weights (``precision``; MoE experts at ``expert_precision``, e.g. ``"bfp8"`` block floating point as
    the report describes; ``keep_parts`` such as ``("embedding", "lm_head")`` stored at ``keep_precision``)
    + KV cache (``context_tokens`` × ``batch`` sequences at ``kv_precision``) + activations/workspace
    (``activation_precision``; attention logits at ``logits_precision``). Each chip loses ``overhead`` (a
    fraction, [A] 0.10 by default) to instructions/runtime. ``batch`` = every sequence whose KV cache is held
    at once (on a pipeline: batch per stage × stages in flight). ``layout="per_layer"`` gives each layer whole
    chips (layout granularity). For HBM chips ``chips`` = GPUs per replica, rounded up to a power of two
    (``gpu_power_of_two``). Capex = chips × ``price_usd_per_chip`` (catalog price by default; None if the
    catalog has none).
    """
    if context_tokens is None:
        context_tokens = ASSUMPTIONS["context_tokens"].value
    context_tokens = check_int("context_tokens", context_tokens, lo=0, hi=100_000_000)
    batch = check_int("batch", batch, lo=1, hi=10_000_000)
    out = plan_sweep(model, chip, context_tokens=context_tokens, batch=batch, precision=precision,
                     expert_precision=expert_precision, kv_precision=kv_precision,
                     activation_precision=activation_precision, logits_precision=logits_precision,
                     overhead=overhead, keep_parts=keep_parts, keep_precision=keep_precision, layout=layout,
                     price_usd_per_chip=price_usd_per_chip, workspace_vectors=workspace_vectors,
                     gpu_power_of_two=gpu_power_of_two)
    m, c = _model(model), _chip(chip)
    if overhead is None:
        overhead = ASSUMPTIONS["reserved_fraction_sram" if c.memory_kind == "sram" else "reserved_fraction_hbm"].value
    price = c.price_usd if price_usd_per_chip is None else float(price_usd_per_chip)
    chips = int(out["chips"])
    capex = None if price is None else float(out["capex_usd"])
    return Plan(
        model=m.name, chip=c.name, memory_kind=c.memory_kind, precision=precision,
        expert_precision=expert_precision, kv_precision=kv_precision, context_tokens=context_tokens, batch=batch,
        weight_bytes=float(out["weight_bytes"]), kv_cache_bytes=float(out["kv_cache_bytes"]),
        activation_bytes=float(out["activation_bytes"]), reserved_bytes_per_chip=c.memory_bytes * overhead,
        usable_bytes_per_chip=c.memory_bytes * (1 - overhead), total_bytes=float(out["total_bytes"]),
        chips_by_capacity=float(out["chips_by_capacity"]), chips=chips, nodes=int(out["nodes"]),
        racks=int(out["racks"]), domains=int(out["domains"]), crosses_cliff=bool(out["crosses_cliff"]),
        price_usd_per_chip=price, capex_usd=capex,
        gpus_per_replica=chips if c.memory_kind == "hbm" else None, layout=layout,
        assumptions=MappingProxyType({"overhead": overhead, "activation_precision": activation_precision,
                                      "logits_precision": logits_precision, "keep_parts": tuple(keep_parts),
                                      "keep_precision": keep_precision, "workspace_vectors": workspace_vectors}),
    )


# ----------------------------------------------------------------------------------------------------------
# decode time
# ----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DecodeResult:
    """Time per generated token for one user, and what sets it.

    ``parts`` (seconds per token): ``memory_s`` and ``compute_s`` overlap (only the larger counts); every other
    part adds. ``seconds_per_token = max(memory_s, compute_s) + Σ others``. ``tokens_per_s`` is per user;
    ``throughput_tokens_per_s`` counts every sequence in flight.
    """
    model: str
    chip: str
    chips: int
    batch: int
    context_tokens: int
    precision: str
    seconds_per_token: float
    tokens_per_s: float
    throughput_tokens_per_s: float
    parts: Mapping[str, float]
    dominant_bound: str
    tensor_parallel: int
    fits: bool
    aggregate_bandwidth_s: float   #: bytes per token ÷ (all chips' bandwidth) — the misleading "aggregate" bound
    notes: str = ""

    def summary(self) -> str:
        parts = ", ".join(f"{k[:-2]} {v * 1e3:.3f} ms" for k, v in self.parts.items() if v > 0)
        groups = f" in {self.tensor_parallel}-chip groups" if self.tensor_parallel < self.chips else ""
        return (f"{self.model} on {self.chips} × {self.chip}{groups} (batch {self.batch}, "
                f"{self.context_tokens} tokens): "
                f"{self.seconds_per_token * 1e3:.3f} ms/token = {self.tokens_per_s:,.0f} tok/s per user; "
                f"bound: {self.dominant_bound} [{parts}]")


_ROUTING = ("uniform",)


def _pipeline_hop_counts(n_chips, tp, p: mc.RealScaleParams):
    """Vectorised boundary counts for groups of ``tp`` chips placed node-major on ``n_chips`` chips.

    Same rules as :func:`labsim.multichip.pipeline_hops` (which is the case ``tp = 1``): the boundary before
    chip j is intra-node, inter-node, inter-rack or an Ethernet crossing. Returns (c2c_hops, ethernet, stages).
    """
    n = np.asarray(n_chips, dtype=np.int64)
    tp = np.asarray(tp, dtype=np.int64)
    stages = -(-n // tp)
    nb = stages - 1                                   # boundaries at chips j = g·tp, g = 1 … stages-1
    P, R, D = p.chips_per_node, p.chips_per_rack, p.sync_domain_chips
    if R % P or D % R:  # the closed form needs P | R | D; otherwise classify each boundary (multichip's rules)
        return _pipeline_hop_counts_loop(n, tp, stages, p)

    def count(mod):  # boundaries g·tp ≡ 0 (mod mod), g in [1, nb]
        step = mod // np.gcd(tp, mod)
        return nb // step

    eth = count(D)
    rack = count(R) - eth
    node = count(P) - count(R)
    intra = nb - count(P)
    c2c = intra + p.inter_node_hops * node + p.inter_rack_hops * rack
    return c2c, eth, stages


def _pipeline_hop_counts_loop(n, tp, stages, p: mc.RealScaleParams):
    """Boundary-by-boundary version of :func:`_pipeline_hop_counts` for any topology (one pass per unique pair)."""
    n_b, tp_b = np.broadcast_arrays(n, tp)
    c2c = np.zeros(n_b.shape, dtype=np.int64)
    eth = np.zeros(n_b.shape, dtype=np.int64)
    pairs, inverse = np.unique(np.stack([n_b.ravel(), tp_b.ravel()], axis=1), axis=0, return_inverse=True)
    vals = np.empty((len(pairs), 2), dtype=np.int64)
    for i, (nn, tt) in enumerate(pairs):
        j = np.arange(tt, nn, tt, dtype=np.int64)          # first chip of every group after the first
        local = j % p.sync_domain_chips
        e = local == 0
        rack = ~e & (local % p.chips_per_rack == 0)
        node = ~e & ~rack & ((local % p.chips_per_rack) % p.chips_per_node == 0)
        intra = ~e & ~rack & ~node
        vals[i] = (int(intra.sum()) + p.inter_node_hops * int(node.sum()) + p.inter_rack_hops * int(rack.sum()),
                   int(e.sum()))
    c2c = vals[inverse.ravel(), 0].reshape(n_b.shape)
    eth = vals[inverse.ravel(), 1].reshape(n_b.shape)
    return c2c, eth, stages


def _allreduce_vec(message_bytes, n, hop_s, p: mc.RealScaleParams):
    """Vectorised :func:`labsim.multichip.allreduce_time_s` with ``algorithm="auto"``."""
    n = np.asarray(n, dtype=np.float64)
    m = np.asarray(message_bytes, dtype=np.float64)
    shard = m / n * (1.0 + p.packet_overhead_frac)
    direct = 2.0 * (hop_s + shard / p.local_link_bandwidth_bytes_per_s)
    ring = 2.0 * (n - 1) * (p.inter_node_hops * hop_s + shard / p.global_link_bandwidth_bytes_per_s)
    out = np.where(n <= p.chips_per_node, direct, ring)
    return np.where(n <= 1, 0.0, out)


def _is_realscale(c: catalog.Chip) -> bool:
    """SRAM chips joined by a compiler-scheduled RealScale-style network (the LPU): pipeline + hop model."""
    return c.memory_kind == "sram" and bool(c.sync_domain_chips) and bool(c.chips_per_node)


def _launches_kernels(c: catalog.Chip) -> bool:
    """CUDA GPUs pay a host launch per kernel [A]; TPU (XLA-compiled program) and SRAM wafers do not."""
    return c.memory_kind == "hbm" and c.vendor.strip().lower() == "nvidia"


def _decode_core(m: catalog.Model, c: catalog.Chip, chips, batch, ctx, *, precision, expert_precision,
                 kv_precision, activation_precision, compute_precision, bandwidth_efficiency, compute_efficiency,
                 tensor_parallel, microbatches, hop_source, ethernet, serial_ops_per_layer, op_latency_cycles,
                 mxm_feed_bytes_per_cycle, kernels_per_layer, kernel_launch_s, allreduces_per_layer,
                 keep_parts, keep_precision):
    """All decode equations over broadcast arrays (chips, batch, ctx). Returns a dict of arrays."""
    L = m.num_layers
    br = m.param_breakdown()
    wb = bytes_per_element(precision)
    act_b = bytes_per_element(activation_precision)

    def part_b(p):
        return _part_bytes(m, p, precision, expert_precision, keep_parts, keep_precision)

    # bytes read per decode step (all sequences of the batch share one weight read)
    head = part_b("lm_head") if not m.tie_word_embeddings else br["embedding"] * (
        bytes_per_element(keep_precision) if "embedding" in keep_parts else wb)
    dense_b = part_b("attention") + part_b("dense_mlp") + part_b("shared_experts") + part_b("router") \
        + part_b("norms") + head
    n_moe = m.num_moe_layers
    if m.is_moe:
        one_expert = part_b("routed_experts") / (n_moe * m.num_experts)
        e_t = m.num_experts * (1.0 - (1.0 - m.experts_per_token / m.num_experts) ** batch)
        expert_read = n_moe * e_t * one_expert
    else:
        one_expert, e_t = 0.0, np.zeros_like(batch)
        expert_read = np.zeros_like(batch)
    kv_read = np.asarray(m.kv_cache_bytes(ctx, precision=kv_precision, batch=batch), dtype=np.float64)
    weights_read = dense_b + expert_read
    bytes_read = weights_read + kv_read
    flops = batch * np.asarray(m.flops_per_token(ctx), dtype=np.float64)

    bw = c.memory_bandwidth_bytes_per_s * bandwidth_efficiency
    # a chip with no published peak (Cerebras CS-3 in the catalog): compute not modelled (0 s), see notes
    peak = (c.peak_ops(compute_precision) if compute_precision else np.inf) * compute_efficiency
    zeros = np.zeros(np.broadcast(chips, batch, ctx).shape)
    out = {"aggregate_bandwidth_s": bytes_read / (chips * c.memory_bandwidth_bytes_per_s) + zeros,
           "bytes_read": bytes_read + zeros, "flops": flops + zeros}

    if _is_realscale(c):
        p = mc.realscale_params(chips_per_node=c.chips_per_node or 8, chips_per_rack=c.chips_per_rack or 72,
                                sync_domain_chips=c.sync_domain_chips or 576) \
            if (c.chips_per_node, c.chips_per_rack, c.sync_domain_chips) != (
                mc.RealScaleParams().chips_per_node, mc.RealScaleParams().chips_per_rack,
                mc.RealScaleParams().sync_domain_chips) else mc.RealScaleParams()
        if tensor_parallel is None:
            tp = np.clip(chips // L, 1, p.chips_per_node)
        else:
            tp = np.minimum(tensor_parallel, chips)
        tp = np.asarray(tp, dtype=np.int64) + np.zeros(zeros.shape, dtype=np.int64)
        # chips working on one token at a time: tp for dense parts; for routed experts at most the experts
        # touched (each on its own chip [A balanced placement])
        par_dense = tp.astype(np.float64)
        par_exp = np.maximum(1.0, np.minimum(par_dense, e_t)) if m.is_moe else par_dense
        t_dense_bytes = dense_b + kv_read
        sram_s = t_dense_bytes / (par_dense * bw) + expert_read / (par_exp * bw)
        if mxm_feed_bytes_per_cycle is not None and c.clock_hz:
            feed = mxm_feed_bytes_per_cycle * c.clock_hz
            # weights are installed once per step and reused by the batch; KV is batch-specific
            feed_s = t_dense_bytes / (par_dense * feed) + expert_read / (par_exp * feed)
        else:
            feed_s = zeros
        memory_s = np.maximum(sram_s, feed_s)
        # compute: dense FLOPs over tp chips; expert FLOPs over the expert chips
        if m.is_moe:
            exp_flops = batch * 2.0 * n_moe * m.experts_per_token * 3 * m.hidden_size * m.moe_intermediate_size
        else:
            exp_flops = 0.0
        compute_s = (flops - exp_flops) / (par_dense * peak) + exp_flops / (par_exp * peak)
        clock = c.clock_hz or p.clock_hz
        fixed_s = L * serial_ops_per_layer * op_latency_cycles / clock + zeros
        hop_s = mc.hop_latency_s(1, source=hop_source, params=p)
        c2c, eth_n, stages = _pipeline_hop_counts(chips, tp, p)
        vec_bytes = batch * m.hidden_size * act_b
        # one hidden-state transfer per stage boundary, split over the tp links of the group
        xfer = vec_bytes * (1 + p.packet_overhead_frac) / (tp * p.local_link_bandwidth_bytes_per_s)
        hops_s = c2c * hop_s + (stages - 1) * xfer
        coll_s = L * allreduces_per_layer * _allreduce_vec(vec_bytes, tp, hop_s, p) + zeros
        eth = mc.ethernet_preset(ethernet)
        eth_s = eth_n * eth.base_s + zeros
        parts = {"memory_s": memory_s + zeros, "compute_s": compute_s + zeros, "fixed_latency_s": fixed_s,
                 "c2c_hops_s": hops_s + zeros, "collectives_s": coll_s, "ethernet_s": eth_s}
        out["sram_read_s"] = sram_s + zeros
        out["mxm_feed_s"] = feed_s + zeros
        latency = np.maximum(parts["memory_s"], parts["compute_s"]) + fixed_s + parts["c2c_hops_s"] + coll_s + eth_s
        # pipeline with `microbatches` independent batches in flight: a user's next token waits for the
        # pipeline to cycle through all of them (balanced stages [A])
        stage_s = (latency - eth_s) / stages
        interval = np.maximum(latency, microbatches * stage_s)
        out["tensor_parallel"] = tp
        out["stages"] = stages + np.zeros(zeros.shape, dtype=np.int64)
        inter = parts["c2c_hops_s"] + coll_s + eth_s
        lat_part = fixed_s
    else:
        n = chips.astype(np.float64) + zeros
        memory_s = bytes_read / (n * bw)
        compute_s = flops / (n * peak)
        work_layer = np.maximum(memory_s, compute_s) / L
        launch_s = L * np.maximum(0.0, kernels_per_layer * kernel_launch_s - work_layer) \
            if _launches_kernels(c) else 0.0 * work_layer
        link_bw = c.link_bandwidth_bytes_per_s or np.inf
        link_lat = c.link_latency_s if c.link_latency_s is not None else ASSUMPTIONS["gpu_allreduce_latency_s"].value
        msg = batch * m.hidden_size * act_b
        ar = np.where(n > 1, link_lat + 2.0 * (n - 1) / n * msg / link_bw, 0.0)
        allreduce_s = L * allreduces_per_layer * ar
        parts = {"memory_s": memory_s, "compute_s": compute_s + zeros, "launch_s": launch_s + zeros,
                 "allreduce_s": allreduce_s + zeros}
        latency = np.maximum(memory_s, compute_s) + launch_s + allreduce_s
        interval = latency
        out["tensor_parallel"] = chips + np.zeros(zeros.shape, dtype=np.int64)
        out["stages"] = np.ones(zeros.shape, dtype=np.int64)
        inter = parts["allreduce_s"]
        lat_part = parts["launch_s"]
    out["parts"] = parts
    out["seconds_per_token"] = interval
    out["latency_s"] = latency
    out["tokens_per_s"] = 1.0 / interval
    out["throughput_tokens_per_s"] = batch * microbatches / interval
    stack = np.stack([np.broadcast_to(parts["memory_s"], zeros.shape), np.broadcast_to(parts["compute_s"], zeros.shape),
                      np.broadcast_to(inter, zeros.shape), np.broadcast_to(lat_part, zeros.shape)])
    out["dominant_index"] = np.argmax(stack, axis=0)
    return out


def _decode_args(model, chip, precision, expert_precision, kv_precision, activation_precision, compute_precision,
                 bandwidth_efficiency, compute_efficiency, hop_source, ethernet, mxm_feed_bytes_per_cycle,
                 keep_parts, keep_precision):
    m, c = _model(model), _chip(chip)
    precision = _prec("precision", precision)
    expert_precision = None if expert_precision is None else _prec("expert_precision", expert_precision)
    kv_precision = _prec("kv_precision", kv_precision)
    activation_precision = _prec("activation_precision", activation_precision)
    if compute_precision is None:
        if not c.peak_ops_per_s:
            raise LabsimError(f"chip {c.name!r} publishes no peak ops/s in the catalog, so decode time cannot be "
                              "bounded by compute; add a sourced peak with catalog.add_chip(...) to use it")
        compute_precision = _default_compute_precision(c, precision)
    else:
        compute_precision = _prec("compute_precision", compute_precision)
        c.peak_ops(compute_precision)  # raises a clear error when unpublished
    if bandwidth_efficiency is None:
        bandwidth_efficiency = ASSUMPTIONS["bandwidth_efficiency_sram" if c.memory_kind == "sram"
                                           else "bandwidth_efficiency_hbm"].value
    bandwidth_efficiency = check_fraction("bandwidth_efficiency", bandwidth_efficiency, allow_zero=False)
    compute_efficiency = check_fraction("compute_efficiency", compute_efficiency, allow_zero=False)
    check_choice("hop_source", hop_source, mc.HOP_SOURCES, what="hop-latency source")
    mc.ethernet_preset(ethernet)
    if mxm_feed_bytes_per_cycle == "auto":
        # only the TSP publishes the MXM weight-install rate; other chips have no separate feed limit
        mxm_feed_bytes_per_cycle = (ASSUMPTIONS["mxm_feed_bytes_per_cycle"].value
                                    if c.memory_kind == "sram" and "macs_per_cycle_int8" in c.extra else None)
    elif mxm_feed_bytes_per_cycle is not None:
        mxm_feed_bytes_per_cycle = check_positive("mxm_feed_bytes_per_cycle", mxm_feed_bytes_per_cycle, unit="B")
    keep_parts = _keep_parts(keep_parts)
    keep_precision = _prec("keep_precision", keep_precision)
    return (m, c, precision, expert_precision, kv_precision, activation_precision, compute_precision,
            bandwidth_efficiency, compute_efficiency, mxm_feed_bytes_per_cycle, keep_parts, keep_precision)


_BOUND_NAMES = np.array(BOUNDS)


def decode_sweep(model, chip, *, chips=None, batch=1, context_tokens=None, precision: str = "int8",
                 expert_precision: str | None = None, kv_precision: str = "fp16",
                 activation_precision: str = "fp16", compute_precision: str | None = None,
                 bandwidth_efficiency: float | None = None, compute_efficiency: float = 0.7,
                 tensor_parallel: int | None = None, microbatches: int = 1, hop_source: str = "fig6",
                 ethernet="rdma", serial_ops_per_layer: int = 12, op_latency_cycles: float = 100,
                 mxm_feed_bytes_per_cycle="auto", kernels_per_layer: int = 10, kernel_launch_s: float = 5e-6,
                 allreduces_per_layer: int = 2, keep_parts=(), keep_precision: str = "fp16") -> dict:
    """Vectorised :func:`decode_time` over arrays of ``chips``, ``batch`` and ``context_tokens`` (broadcast).

    ``chips=None`` uses the chips :func:`plan` needs at each (context, batch) with default plan assumptions.
    Returns arrays ``seconds_per_token, tokens_per_s, throughput_tokens_per_s, latency_s, dominant_bound``
    (strings), ``fits`` (chips ≥ plan's need), ``tensor_parallel, stages, aggregate_bandwidth_s`` and ``parts``
    (dict of arrays).
    """
    (m, c, precision, expert_precision, kv_precision, act_p, comp_p, bw_eff, c_eff, feed, keep_parts,
     keep_precision) = _decode_args(model, chip, precision, expert_precision, kv_precision, activation_precision,
                                    compute_precision, bandwidth_efficiency, compute_efficiency, hop_source,
                                    ethernet, mxm_feed_bytes_per_cycle, keep_parts, keep_precision)
    if context_tokens is None:
        context_tokens = ASSUMPTIONS["context_tokens"].value
    ctx = check_array("context_tokens", context_tokens, lo=0.0)
    b = check_array("batch", batch, lo=1.0)
    _whole("batch", b, "sequences")
    microbatches = check_int("microbatches", microbatches, lo=1, hi=100_000)
    need = plan_sweep(m, c, context_tokens=ctx, batch=b * microbatches, precision=precision,
                      expert_precision=expert_precision, kv_precision=kv_precision,
                      activation_precision=act_p, keep_parts=keep_parts, keep_precision=keep_precision)["chips"]
    if chips is None:
        n = need
    else:
        n = check_array("chips", chips, lo=1.0)
        _whole("chips", n, "chips")
    _broadcast(chips=n, batch=b, context_tokens=ctx)
    if tensor_parallel is not None:
        tensor_parallel = check_int("tensor_parallel", tensor_parallel, lo=1, hi=1_000_000)
        if c.memory_kind == "sram" and tensor_parallel > (c.sync_domain_chips or 576):
            raise LabsimError(f"tensor_parallel = {tensor_parallel} is out of range; allowed: [1, "
                              f"{c.sync_domain_chips or 576}] (one synchronous domain)")
    n, b, ctx = np.broadcast_arrays(np.asarray(n, dtype=np.int64), b, ctx)
    out = _decode_core(m, c, n, b, ctx, precision=precision, expert_precision=expert_precision,
                       kv_precision=kv_precision, activation_precision=act_p, compute_precision=comp_p,
                       bandwidth_efficiency=bw_eff, compute_efficiency=c_eff, tensor_parallel=tensor_parallel,
                       microbatches=microbatches, hop_source=hop_source, ethernet=ethernet,
                       serial_ops_per_layer=check_number("serial_ops_per_layer", serial_ops_per_layer, lo=0),
                       op_latency_cycles=check_number("op_latency_cycles", op_latency_cycles, lo=0),
                       mxm_feed_bytes_per_cycle=feed,
                       kernels_per_layer=check_number("kernels_per_layer", kernels_per_layer, lo=0),
                       kernel_launch_s=check_number("kernel_launch_s", kernel_launch_s, lo=0, unit="s"),
                       allreduces_per_layer=check_int("allreduces_per_layer", allreduces_per_layer, lo=0),
                       keep_parts=keep_parts, keep_precision=keep_precision)
    out["dominant_bound"] = _BOUND_NAMES[out.pop("dominant_index")]
    out["fits"] = n >= np.broadcast_to(need, n.shape)
    out["chips"] = n
    out["compute_precision"] = comp_p
    return out


def decode_time(model, chip, *, chips: int | None = None, precision: str = "int8", batch: int = 1,
                context_tokens: int | None = None, expert_precision: str | None = None,
                kv_precision: str = "fp16", activation_precision: str = "fp16",
                compute_precision: str | None = None, bandwidth_efficiency: float | None = None,
                compute_efficiency: float = 0.7, tensor_parallel: int | None = None, microbatches: int = 1,
                hop_source: str = "fig6", ethernet="rdma", serial_ops_per_layer: int = 12,
                op_latency_cycles: float = 100, mxm_feed_bytes_per_cycle="auto", kernels_per_layer: int = 10,
                kernel_launch_s: float = 5e-6, allreduces_per_layer: int = 2, keep_parts=(),
                keep_precision: str = "fp16", allow_overflow: bool = False) -> DecodeResult:
    """Seconds per generated token for one user of ``model`` on ``chips`` × ``chip``, and the dominant bound.

    Built from (equations in docs/design/capacity.md):

    * memory: bytes read per step (active weights once per step — MoE reads only the experts the batch touches
      — plus the KV cache of every sequence, growing with context and batch) ÷ usable bandwidth. On a
      **multi-chip LPU** only the chips holding the current layer work on a token at a time (tensor-parallel
      group of ``tensor_parallel`` chips, default ≤ one node), so the per-group SRAM read and MXM weight feed set
      the time — not the aggregate bandwidth of all chips (reported as ``aggregate_bandwidth_s`` for contrast);
    * compute: FLOPs ÷ usable peak (same per-group rule on the LPU);
    * LPU interconnect: C2C hops between pipeline stages + 2 all-reduces per layer inside the group
      (:mod:`labsim.multichip` α–β model) + one Ethernet crossing per extra synchronous domain;
      fixed latency: dependent on-chip steps per layer;
    * GPU: HBM time, the launch overhead not hidden behind kernel execution, and 2 tensor-parallel all-reduces
      per layer over NVLink.

    ``chips=None`` uses :func:`plan`'s chip count. ``microbatches`` = independent batches in flight in an LPU
    pipeline (report Fig 11: batch 3 × 16). Raises if ``chips`` cannot hold the model unless ``allow_overflow``.
    """
    if context_tokens is None:
        context_tokens = ASSUMPTIONS["context_tokens"].value
    context_tokens = check_int("context_tokens", context_tokens, lo=0, hi=100_000_000)
    batch = check_int("batch", batch, lo=1, hi=10_000_000)
    if chips is not None:
        chips = check_int("chips", chips, lo=1, hi=10_000_000)
    out = decode_sweep(model, chip, chips=chips, batch=batch, context_tokens=context_tokens, precision=precision,
                       expert_precision=expert_precision, kv_precision=kv_precision,
                       activation_precision=activation_precision, compute_precision=compute_precision,
                       bandwidth_efficiency=bandwidth_efficiency, compute_efficiency=compute_efficiency,
                       tensor_parallel=tensor_parallel, microbatches=microbatches, hop_source=hop_source,
                       ethernet=ethernet, serial_ops_per_layer=serial_ops_per_layer,
                       op_latency_cycles=op_latency_cycles, mxm_feed_bytes_per_cycle=mxm_feed_bytes_per_cycle,
                       kernels_per_layer=kernels_per_layer, kernel_launch_s=kernel_launch_s,
                       allreduces_per_layer=allreduces_per_layer, keep_parts=keep_parts,
                       keep_precision=keep_precision)
    m, c = _model(model), _chip(chip)
    fits = bool(out["fits"])
    if not fits and not allow_overflow:
        need = plan(m, c, precision, context_tokens=context_tokens, batch=batch * microbatches,
                    kv_precision=kv_precision, expert_precision=expert_precision,
                    activation_precision=activation_precision, keep_parts=keep_parts,
                    keep_precision=keep_precision).chips
        raise LabsimError(f"chips = {chips} is out of range: {m.name} at {precision} with {context_tokens} tokens × "
                          f"{batch * microbatches} sequences needs at least {need} × {c.name}; allowed: [{need}, inf) "
                          "(or pass allow_overflow=True)")
    parts = {k: float(v) for k, v in out["parts"].items()}
    if _is_realscale(c):
        parts_note = (f"SRAM read {float(out['sram_read_s']) * 1e3:.3f} ms, MXM weight feed "
                      f"{float(out['mxm_feed_s']) * 1e3:.3f} ms (memory_s is the larger)")
    elif out["compute_precision"] is None:
        parts_note = f"{c.name} publishes no peak ops/s in the catalog: compute time not modelled (0 s)"
    else:
        parts_note = f"compute at {out['compute_precision']}"
    return DecodeResult(
        model=m.name, chip=c.name, chips=int(out["chips"]), batch=batch, context_tokens=context_tokens,
        precision=precision, seconds_per_token=float(out["seconds_per_token"]),
        tokens_per_s=float(out["tokens_per_s"]), throughput_tokens_per_s=float(out["throughput_tokens_per_s"]),
        parts=MappingProxyType(parts), dominant_bound=str(out["dominant_bound"]),
        tensor_parallel=int(out["tensor_parallel"]), fits=fits,
        aggregate_bandwidth_s=float(out["aggregate_bandwidth_s"]), notes=parts_note)


def compute_bound_batch(model, chip, *, chips: int | None = None, context_tokens: int | None = None,
                        max_batch: int = 65536, **kwargs) -> int | None:
    """Smallest batch at which compute time reaches memory time (throughput stops growing ~linearly).

    Evaluates :func:`decode_sweep` at batch = 1 … ``max_batch`` (powers of two, then bisection). None if
    memory still dominates at ``max_batch``. The KV cache grows with batch, so long contexts may never get there.
    """
    max_batch = check_int("max_batch", max_batch, lo=1, hi=10_000_000)
    m, c = _model(model), _chip(chip)
    if chips is None:
        chips = plan(m, c, kwargs.get("precision", "int8"), context_tokens=context_tokens).chips
    b = np.arange(1, max_batch + 1, dtype=np.float64)
    out = decode_sweep(m, c, chips=chips, batch=b, context_tokens=context_tokens, **kwargs)
    hit = out["parts"]["compute_s"] >= out["parts"]["memory_s"]
    if not hit.any():
        return None
    return int(b[int(np.argmax(hit))])


# ----------------------------------------------------------------------------------------------------------
# roofline
# ----------------------------------------------------------------------------------------------------------

def _peak(c: catalog.Chip, precision: str, peak_ops_per_s) -> float:
    """The chip's published dense peak at ``precision``, or the caller's ``peak_ops_per_s`` (inf = no compute roof)."""
    if peak_ops_per_s is not None:
        if peak_ops_per_s == math.inf:
            return math.inf
        return check_positive("peak_ops_per_s", peak_ops_per_s, unit="ops/s")
    if not c.peak_ops_per_s:
        raise LabsimError(f"chip {c.name!r} publishes no peak ops/s in the catalog, so its roofline has no compute "
                          "roof; pass peak_ops_per_s=<a sourced value> (or math.inf for the bandwidth slope only)")
    return c.peak_ops(precision)


def roofline(chip, intensity_flops_per_byte, precision: str = "int8", *, bandwidth_efficiency: float = 1.0,
             compute_efficiency: float = 1.0, peak_ops_per_s: float | None = None):
    """Attainable ops/s = min(peak × compute_efficiency, intensity × bandwidth × bandwidth_efficiency).

    Vectorised over ``intensity_flops_per_byte`` (ops per byte moved from main memory, > 0). Williams, Waterman
    & Patterson, CACM 2009. Returns a float for a scalar input, else an array. ``peak_ops_per_s`` overrides the
    catalog peak (needed for a chip that publishes none, e.g. Cerebras CS-3; ``math.inf`` = bandwidth slope only).
    """
    c = _chip(chip)
    precision = _prec("precision", precision)
    peak = _peak(c, precision, peak_ops_per_s) * check_fraction("compute_efficiency", compute_efficiency,
                                                                allow_zero=False)
    bw = c.memory_bandwidth_bytes_per_s * check_fraction("bandwidth_efficiency", bandwidth_efficiency,
                                                         allow_zero=False)
    x = check_array("intensity_flops_per_byte", intensity_flops_per_byte, lo=0.0, lo_open=True)
    out = np.minimum(peak, x * bw)
    return float(out) if out.ndim == 0 else out


def ridge_intensity(chip, precision: str = "int8", *, peak_ops_per_s: float | None = None) -> float:
    """Intensity (ops/byte) where the roofline bends: peak ÷ bandwidth (``peak_ops_per_s`` as in :func:`roofline`)."""
    c = _chip(chip)
    return _peak(c, _prec("precision", precision), peak_ops_per_s) / c.memory_bandwidth_bytes_per_s


def decode_intensity(model, precision: str = "int8", *, batch=1, context_tokens=None, kv_precision="fp16",
                     expert_precision=None):
    """Arithmetic intensity of one decode step (ops per byte read): batch × FLOPs/token ÷ bytes read.

    Bytes read = active weights (MoE: experts the batch touches) + KV cache of the batch. Vectorised over batch.
    """
    m = _model(model)
    if context_tokens is None:
        context_tokens = ASSUMPTIONS["context_tokens"].value
    ctx = check_number("context_tokens", context_tokens, lo=0)
    b = check_array("batch", batch, lo=1.0)
    c = _any_chip_for_bytes()
    out = _decode_core(m, c, np.ones_like(b, dtype=np.int64), b, np.full(b.shape, ctx), precision=_prec(
        "precision", precision), expert_precision=expert_precision, kv_precision=_prec("kv_precision", kv_precision),
        activation_precision="fp16", compute_precision=_default_compute_precision(c, "fp16"),
        bandwidth_efficiency=1.0, compute_efficiency=1.0, tensor_parallel=None, microbatches=1,
        hop_source="fig6", ethernet="rdma", serial_ops_per_layer=0, op_latency_cycles=0,
        mxm_feed_bytes_per_cycle=None, kernels_per_layer=0, kernel_launch_s=0.0, allreduces_per_layer=0,
        keep_parts=(), keep_precision="fp16")
    val = out["flops"] / out["bytes_read"]
    return float(val) if np.ndim(val) == 0 else val


@lru_cache(maxsize=1)
def _any_chip_for_bytes() -> catalog.Chip:
    """A dummy HBM chip: byte/FLOP counts of the decode core do not depend on the chip."""
    return catalog.load_chip({"name": "_intensity_probe", "memory_kind": "hbm", "memory_bytes": 1e12,
                              "memory_bandwidth_bytes_per_s": 1e12, "peak_ops_per_s": {"fp16": 1e15}})


def prefill_intensity(model, precision: str = "int8", *, prompt_tokens: int = 2048, kv_precision="fp16"):
    """Arithmetic intensity of prefilling ``prompt_tokens`` tokens at once (weights read once for all of them).

    ≈ prompt_tokens × FLOPs/token ÷ (weight bytes + KV written); grows ~linearly with the prompt length.
    """
    m = _model(model)
    n = check_int("prompt_tokens", prompt_tokens, lo=1, hi=10_000_000)
    flops = float(np.sum(m.flops_per_token(np.arange(n, dtype=np.float64)))) if n <= 100_000 else \
        n * m.flops_per_token(n / 2)
    byts = m.weight_bytes(_prec("precision", precision)) + m.kv_cache_bytes(n, precision=_prec("kv_precision",
                                                                                               kv_precision))
    return flops / byts


def roofline_points(model, chip, precision: str = "int8", *, batch: int = 1, context_tokens=None,
                    prompt_tokens: int = 2048) -> dict[str, tuple[float, float]]:
    """{"decode": (intensity, attainable ops/s), "prefill": (…)} for ``model`` on ``chip``."""
    c = _chip(chip)
    cp = _default_compute_precision(c, precision)
    d = decode_intensity(model, precision, batch=batch, context_tokens=context_tokens)
    pf = prefill_intensity(model, precision, prompt_tokens=prompt_tokens)
    return {"decode": (d, roofline(c, d, cp)), "prefill": (pf, roofline(c, pf, cp))}


def memory_sweep_time_s(chip) -> float:
    """Time to read a chip's whole memory once: capacity ÷ bandwidth (report Fig 18 arithmetic)."""
    c = _chip(chip)
    return c.memory_bytes / c.memory_bandwidth_bytes_per_s


# ----------------------------------------------------------------------------------------------------------
# The report's "576 chips for a 70B INT8 model", step by step
# ----------------------------------------------------------------------------------------------------------

def reconcile_576(model="llama-3.3-70b", chip="groq-lpu-v1", *, context_tokens: int = 4096, batch: int = 3,
                  kv_precision: str = "fp16", keep_parts=("embedding", "lm_head"), overhead: float | None = None,
                  target_chips: int = 576) -> list[dict]:
    """Walk from the naive chip count to the report's 576, one named assumption at a time.

    Steps: (1) naive 70 GB ÷ 230 MB; (2) the model's exact INT8 parameter bytes; (3) embedding and lm_head kept
    in FP16; (4) KV cache for ``batch`` sequences × ``context_tokens`` at ``kv_precision``; (5) activations and
    workspace (FP16, FP32 logits); (6) per-chip reserved memory (``overhead``); (7) layout granularity (whole
    chips per layer); (8) whole racks; (9) the full synchronous domain. Each row: ``step, chips`` (fractional
    capacity count for 1–6, whole chips for 7–9), ``added`` (vs previous row), ``assumption`` and ``kind``
    ("naive", "capacity", "rounding" for 8–9 — not a memory need — or "unexplained").
    The remaining gap to ``target_chips`` is reported in the last row as ``unexplained``.
    """
    m, c = _model(model), _chip(chip)
    if overhead is None:
        overhead = ASSUMPTIONS["reserved_fraction_sram"].value
    overhead = check_number("overhead", overhead, lo=0.0, hi=1.0, hi_open=True)
    context_tokens = check_int("context_tokens", context_tokens, lo=0, hi=100_000_000)
    batch = check_int("batch", batch, lo=1, hi=10_000_000)
    kv_precision = _prec("kv_precision", kv_precision)
    keep_parts = _keep_parts(keep_parts)
    target_chips = check_int("target_chips", target_chips, lo=1, hi=10_000_000)
    usable = c.memory_bytes
    rows = []

    def add(step, chips, assumption, kind="capacity"):
        prev = rows[-1]["chips"] if rows else 0.0
        rows.append({"step": step, "chips": float(chips), "added": float(chips) - prev, "assumption": assumption,
                     "kind": kind})

    add("naive: 70 GB ÷ 230 MB", 70e9 / usable, "report's round numbers (001 Q2 §1)", kind="naive")
    w = m.weight_bytes("int8")
    add("exact INT8 weights", w / usable, f"{m.params_total() / 1e9:.2f} B parameters × 1 B")
    w2 = _weight_bytes(m, "int8", None, keep_parts, "fp16")
    add("FP16 embedding + lm_head", w2 / usable, f"{', '.join(keep_parts)} at 2 B (report: INT8 and FP16 mix)")
    kv = m.kv_cache_bytes(context_tokens, precision=kv_precision, batch=batch)
    add(f"KV cache ({batch} × {context_tokens} tokens, {kv_precision})", (w2 + kv) / usable,
        f"{m.kv_cache_bytes_per_token(kv_precision) / 1e3:.0f} kB per token")
    act = batch * float(_workspace_bytes_per_seq(m, context_tokens, "fp16", "fp32", 4))
    add("activations / workspace", (w2 + kv + act) / usable, "FP16 vectors, FP32 attention logits, per layer")
    usable_r = c.memory_bytes * (1 - overhead)
    add(f"reserved {overhead:.0%} per chip", (w2 + kv + act) / usable_r, "instructions, buffers [A]")
    p = plan(m, c, "int8", context_tokens=context_tokens, batch=batch, kv_precision=kv_precision,
             keep_parts=keep_parts, overhead=overhead, layout="per_layer")
    add("layout: whole chips per layer", p.chips, "each of the layers on its own chips")
    per_rack = c.chips_per_rack or 72
    racks = math.ceil(p.chips / per_rack)
    add(f"round up to whole racks of {per_rack}", racks * per_rack, f"{racks} racks", kind="rounding")
    dom = c.sync_domain_chips or 576
    add("use the whole synchronous domain", math.ceil(p.chips / dom) * dom, f"{dom}-chip RealScale domain",
        kind="rounding")
    rows.append({"step": "unexplained by capacity (before rounding to racks/domain)",
                 "chips": float(target_chips - p.chips), "added": float("nan"),
                 "assumption": f"{target_chips} − {p.chips}", "kind": "unexplained"})
    return rows


# ----------------------------------------------------------------------------------------------------------
# prefill (time to first token)
# ----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PrefillResult:
    """Time to process one prompt (batch 1) and emit its first token. ``parts`` in seconds:
    ``compute_s`` and ``memory_s`` overlap (the larger counts); ``latency_s`` (hops, collectives, launches, fixed
    on-chip steps of one forward pass) adds once."""
    model: str
    chip: str
    chips: int
    prompt_tokens: int
    seconds: float
    tokens_per_s: float      #: prompt tokens processed per second
    parts: Mapping[str, float]
    dominant_bound: str      #: "compute", "memory bandwidth" or "latency"


def prefill_sweep(model, chip, *, prompt_tokens, chips=None, context_tokens=None, precision: str = "int8",
                  expert_precision: str | None = None, kv_precision: str = "fp16", compute_efficiency: float = 0.7,
                  bandwidth_efficiency: float | None = None, **decode_kwargs) -> dict:
    """Vectorised :func:`prefill_time` over arrays of ``prompt_tokens`` and ``chips`` (broadcast).

    ``context_tokens`` (default: the prompt) sizes the plan and the KV cache the chips must hold. Returns arrays
    ``seconds, compute_s, memory_s, latency_s, chips, fits`` and the ``compute_precision`` used.
    """
    P = check_array("prompt_tokens", prompt_tokens, lo=1.0)
    ctx = P if context_tokens is None else check_array("context_tokens", context_tokens, lo=0.0)
    m, c = _model(model), _chip(chip)
    one = decode_sweep(m, c, chips=chips, batch=1, context_tokens=ctx, precision=precision,
                       expert_precision=expert_precision, kv_precision=kv_precision,
                       compute_efficiency=compute_efficiency, bandwidth_efficiency=bandwidth_efficiency,
                       **decode_kwargs)
    n = np.asarray(one["chips"], dtype=np.float64)
    parts = one["parts"]
    latency_s = np.asarray(one["latency_s"]) - np.maximum(parts["memory_s"], parts["compute_s"])
    comp_p = one["compute_precision"]
    peak = c.peak_ops(comp_p) * compute_efficiency if comp_p else np.inf
    compute_s = P * np.asarray(m.flops_per_token(P / 2.0), dtype=np.float64) / (n * peak)
    if bandwidth_efficiency is None:
        bandwidth_efficiency = ASSUMPTIONS["bandwidth_efficiency_sram" if c.memory_kind == "sram"
                                           else "bandwidth_efficiency_hbm"].value
    bytes_moved = (m.weight_bytes(precision, expert_precision=expert_precision)
                   + P * m.kv_cache_bytes_per_token(kv_precision))
    memory_s = bytes_moved / (n * c.memory_bandwidth_bytes_per_s * bandwidth_efficiency)
    seconds = np.maximum(compute_s, memory_s) + latency_s
    return {"seconds": seconds, "compute_s": compute_s + 0 * seconds, "memory_s": memory_s + 0 * seconds,
            "latency_s": latency_s + 0 * seconds, "chips": one["chips"], "fits": one["fits"],
            "compute_precision": comp_p}


def prefill_time(model, chip, *, prompt_tokens: int, chips: int | None = None, precision: str = "int8",
                 expert_precision: str | None = None, kv_precision: str = "fp16",
                 compute_efficiency: float = 0.7, bandwidth_efficiency: float | None = None,
                 **decode_kwargs) -> PrefillResult:
    """Time to first token of one ``prompt_tokens``-long prompt on ``chips`` × ``chip`` (batch 1).

    Model [A]: all prompt tokens go through the model in one forward pass, so every chip works at once — on a
    GPU all tensor-parallel GPUs, on an LPU pipeline every stage on a different slice of the prompt (balanced
    stages). compute = P · FLOPs/token(P/2) (each token attends to those before it) ÷ (chips · usable peak);
    memory = (all weights once + the P tokens' KV written) ÷ (chips · usable bandwidth); the two overlap. The
    last prompt token must still cross every hop, collective and kernel launch of one forward pass: those
    latency terms are taken from :func:`decode_time` at batch 1 and added once. Left out: the bandwidth of
    prefill-sized all-reduces and chunked prefill.
    """
    prompt_tokens = check_int("prompt_tokens", prompt_tokens, lo=1, hi=100_000_000)
    m, c = _model(model), _chip(chip)
    if chips is not None:
        chips = check_int("chips", chips, lo=1, hi=10_000_000)
    out = prefill_sweep(m, c, prompt_tokens=prompt_tokens, chips=chips, precision=precision,
                        expert_precision=expert_precision, kv_precision=kv_precision,
                        compute_efficiency=compute_efficiency, bandwidth_efficiency=bandwidth_efficiency,
                        **decode_kwargs)
    if chips is not None and not bool(out["fits"]):
        raise LabsimError(f"chips = {chips} is out of range: {m.name} at {precision} needs more chips to hold "
                          f"its weights and a {prompt_tokens}-token KV cache")
    n = int(out["chips"])
    compute_s, memory_s, latency_s = (float(out[k]) for k in ("compute_s", "memory_s", "latency_s"))
    seconds = float(out["seconds"])
    parts = {"compute_s": compute_s, "memory_s": memory_s, "latency_s": latency_s}
    bound = max((("compute", compute_s), ("memory bandwidth", memory_s), ("latency", latency_s)),
                key=lambda kv: kv[1])[0]
    return PrefillResult(model=m.name, chip=c.name, chips=n, prompt_tokens=prompt_tokens, seconds=seconds,
                         tokens_per_s=prompt_tokens / seconds, parts=MappingProxyType(parts), dominant_bound=bound)
