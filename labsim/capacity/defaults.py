"""Every default of the capacity models in one table (value, unit, status, citation), and the decode config.

:data:`ASSUMPTIONS` is the only place a default is written: :class:`DecodeConfig`'s field defaults, ``plan``'s
keyword defaults and the notebooks' assumption tables all read it. Status tags: [P] primary, [S] secondary,
[D] derived, [A] assumption (unpublished, overridable). Citations name keys of ``labsim/data/sources.toml``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

from .. import limits as _L
from .. import multichip as _mc
from ..assumptions import Assumption, registry, table
from ..errors import LabsimError, UnknownNameError, check_bool, check_choice, check_int, check_number
from ._common import as_precision
from .memory import keep_parts_tuple

__all__ = ["ASSUMPTIONS", "assumptions_table", "DecodeConfig", "LAYOUTS", "MOE_SCHEDULES", "BOUNDS"]

_A = [
    # --- what is served -----------------------------------------------------------------------------------
    Assumption("context_tokens", 4096, "tokens", "[A]",
               "[A] a typical chat context; also the maximum context of Llama 2 70B ([llama2-card]), the model of "
               "Groq's first 576-chip system ([nextplatform23])"),
    Assumption("kv_precision", "fp16", "", "[S]",
               "[huatai26] Q3 §4: weights and activations mainly INT8 and FP16; the KV cache is activation data"),
    Assumption("activation_precision", "fp16", "", "[S]", "[huatai26] Q3 §4"),
    Assumption("logits_precision", "fp32", "", "[S]", "[huatai26] Q3 §4, Q8 §4: attention logits kept in FP32"),
    # --- memory per chip ------------------------------------------------------------------------------------
    Assumption("reserved_fraction_sram", 0.10, "of each chip", "[A]",
               "[A] instructions (the TSP fetches them from its MEM slices, [isca20] §II-B), stream buffers and "
               "layout slack; unpublished"),
    Assumption("reserved_fraction_hbm", 0.10, "of each GPU", "[A]",
               "[A] CUDA context, framework and allocator slack; order of magnitude only"),
    Assumption("workspace_vectors_hidden", 4, "hidden-size vectors per layer per sequence", "[A]",
               "[A] residual, normed input, attention output, FFN output, statically allocated per layer"),
    Assumption("layout", "packed", "", "[A]",
               "[A] plan: 'packed' = bytes fill chips in layer order; 'per_layer' = every layer gets whole chips"),
    Assumption("gpu_power_of_two", True, "", "[A]",
               "[A] GPU tensor-parallel degree rounded up to 1, 2, 4, 8 … (attention heads must split evenly)"),
    # --- efficiencies -----------------------------------------------------------------------------------------
    Assumption("bandwidth_efficiency_sram", 1.0, "", "[A]",
               "[A] statically scheduled SRAM reads: no contention, no refresh ([huatai26] Q2 §1); an upper bound"),
    Assumption("bandwidth_efficiency_hbm", 0.8, "", "[A]",
               "[A] 0.7–0.8 of peak HBM is typical of STREAM-like measurements; gpt-fast measured 0.69 on a "
               "330-W A100 ([gpt-fast] README) — not fitted"),
    Assumption("compute_efficiency", 0.7, "", "[A]", "[A] fraction of dense peak reached by real matmuls"),
    # --- LPU (TSP) decode -----------------------------------------------------------------------------------
    Assumption("mxm_feed_bytes_per_cycle", 10240, "B/cycle", "[S]/[D]",
               "[isca20] §V: MEM installs 409,600 INT8 weights into the 4 MXM planes in < 40 cycles, i.e. "
               "≥ 10,240 B/cycle. At batch 1 every weight is installed once per token, so this rate, not the "
               "80 TB/s SRAM headline, is what a token waits for"),
    Assumption("layer_chain_cycles", "auto", "cycles per layer", "[D]",
               "what weight streaming cannot hide in one decoder layer (MXM passes, norms, softmax, reductions, "
               "barriers, superlane stagger): 'auto' = labsim.schedule.decoder_layer_cycles minus its install "
               "cycles for the model's layer at the chips sharing it and the context, at mxm_feed / (4 planes × "
               "320 B) = 8 weight streams a plane ([isca20] §II latencies). That layer model is checked against "
               "the cycle simulation of full-size Llama 3.1 8B layer shares (labsim/data/tsp/reference_layer.toml, "
               "within 5 %). A number = a constant chain per layer; 0 = the streaming-only bound"),
    Assumption("lpu_layout", "packed", "", "[A]",
               "[A] decode: each layer's weights are spread over as few chips as hold them (packed, in layer "
               "order); the chips holding a layer stream their shares in parallel, so a layer costs at most one "
               "chip's usable SRAM of streaming. tensor_parallel = t spreads every layer over t chips instead"),
    Assumption("moe_schedule", "all_experts", "", "[A]",
               "[A] routing is data-dependent but the schedule is fixed at compile time. 'all_experts': every "
               "expert is streamed every token (no dependence on routing); 'routed_worst_case': MEM Gather reads "
               "only routed experts ([isca20] Table I) but the schedule reserves time for all of a token's "
               "experts landing on one chip; 'routed_balanced': routed experts always on different chips "
               "(optimistic). Chapter 3 compares all three with published speeds"),
    Assumption("allreduces_per_layer", 2, "", "[P]", "[shoeybi19] §3: two all-reduces per layer (attention, MLP)"),
    Assumption("hop_source", "fig6", "", "[S]",
               "[huatai26] Fig 6: 0.6 µs per C2C hop, consistent with [isca22] abstract (< 3 µs end to end over "
               "≤ 5 hops → ≤ 0.6 µs per hop). 'link' = the course's own estimate from the ~216-cycle link "
               "latency ([isca22] §5), 0.29 µs, a lower bound without endpoint work"),
    Assumption("sync_domain_chips", "catalog", "chips", "[P]",
               "the chip's sync_domain_chips: [isca22] abstract, one software-scheduled network of up to 10,440 "
               "TSPs. The report's 576 ([huatai26] Q2 §3) is its own view; pass sync_domain_chips=576 to see it"),
    Assumption("ethernet", "rdma", "", "[A]", "[A] 5 µs median per domain crossing (labsim.multichip preset)"),
    # --- GPU decode --------------------------------------------------------------------------------------------
    Assumption("cuda_graphs", True, "", "[P]",
               "serving stacks capture the decode step in a CUDA graph: one host launch per step "
               "([vllm-docs] CUDA graphs; [gpt-fast] uses torch.compile reduce-overhead). False = eager launches"),
    Assumption("kernels_per_layer", "auto", "kernels", "[A]",
               "the unfused kernels of chapter 2's GPU model (labsim.gpu.decoder_layer_kernels: 11)"),
    Assumption("kernel_launch_s", "auto", "s", "[P]/[A]",
               "eager only: host launch per kernel, labsim.gpu parameters (launch_overhead_s, 5 µs)"),
    Assumption("kernel_gap_s", "auto", "s", "[A]",
               "per kernel on the device: start-up, tail wave and the gap after it (labsim.gpu kernel_fixed_s + "
               "graph_kernel_gap_s = 2.5 µs)"),
    Assumption("gpu_allreduce_latency_s", 17e-6, "s", "[D]",
               "latency of one small tensor-parallel all-reduce; inferred from the calibration subset "
               "(gpt-fast Llama-2-7B on 2, 4, 8 A100s, [gpt-fast] README), validated on its Llama-2-70B rows "
               "(labsim.validation.infer_gpu_allreduce_latency reproduces it)"),
    Assumption("mesh_hop_s", 1e-9, "s", "[A]",
               "wafers and tiles (capacity.mesh): one core-to-core hop of the on-chip mesh, about one clock; "
               "no source publishes it ([cerebras-wse3], [talpes23] give bandwidths, not hop latency)"),
    Assumption("mesh_chip_boundary_s", 1e-6, "s", "[A]",
               "wafers and tiles: one crossing between wafers (or dies) of a layer pipeline; unpublished, the order "
               "of an Ethernet-class link"),
    Assumption("moe_routing", "uniform", "", "[A]",
               "[A] experts touched by a batch of B tokens: E·(1 − (1 − k/E)^B) (independent uniform routing)"),
]

#: name -> Assumption (value, unit, status, source). Shown by the notebooks' assumption tables.
ASSUMPTIONS: Mapping[str, Assumption] = registry(_A)


def assumptions_table() -> str:
    """A plain-text table of the default assumptions (name, value, status, source)."""
    return table(_A)


#: bounds :func:`~labsim.capacity.decode_time` can report as dominant.
BOUNDS = ("memory bandwidth", "compute", "interconnect", "fixed latency")
#: LPU decode layouts.
LAYOUTS = ("packed", "spread")
#: how a static schedule handles MoE routing (see the ``moe_schedule`` assumption).
MOE_SCHEDULES = ("all_experts", "routed_worst_case", "routed_balanced")
#: Smallest efficiency (bandwidth or compute) a config accepts: a divisor, so it needs a floor (0.01 % of peak,
#: far below any real kernel) — below it a token would take longer than any latency labsim accepts.
MIN_EFFICIENCY = 1e-4
#: Largest weight feed into the MXM, bytes per cycle: 100,000× the [isca20] figure (the stream count it implies
#: is capped by the geometry anyway).
MAX_FEED_BYTES_PER_CYCLE = 1e9
#: Largest fixed dependent chain per layer, cycles (a second at 1 GHz; the simulated Llama layers need ~10⁴).
MAX_CHAIN_CYCLES = 1e9


def _d(name):
    return field(default=ASSUMPTIONS[name].value)


@dataclass(frozen=True)
class DecodeConfig:
    """Every knob of the decode model except the serving point (model, chip, chips, batch, context).

    Defaults come from :data:`ASSUMPTIONS` (``"auto"`` = derived from the chip, the TSP model or chapter 2's GPU
    parameters; ``None`` = the chip's own value). Build one with overrides, e.g.
    ``DecodeConfig(cuda_graphs=False)`` or ``DecodeConfig().replace(tensor_parallel=8)``.
    """
    precision: str = "int8"
    expert_precision: str | None = None
    kv_precision: str = _d("kv_precision")
    activation_precision: str = _d("activation_precision")
    compute_precision: str | None = None
    keep_parts: tuple = ()
    keep_precision: str = "fp16"
    bandwidth_efficiency: float | None = None
    compute_efficiency: float = _d("compute_efficiency")
    microbatches: int = 1
    # LPU
    tensor_parallel: int | None = None
    mxm_feed_bytes_per_cycle: float | str = _d("mxm_feed_bytes_per_cycle")
    layer_chain_cycles: float | str = _d("layer_chain_cycles")
    moe_schedule: str = _d("moe_schedule")
    allreduces_per_layer: int = _d("allreduces_per_layer")
    hop_source: str = _d("hop_source")
    sync_domain_chips: int | str = _d("sync_domain_chips")
    ethernet: object = _d("ethernet")
    # GPU
    cuda_graphs: bool = _d("cuda_graphs")
    kernels_per_layer: int | str = _d("kernels_per_layer")
    kernel_launch_s: float | str = _d("kernel_launch_s")
    kernel_gap_s: float | str = _d("kernel_gap_s")
    gpu_allreduce_latency_s: float = _d("gpu_allreduce_latency_s")
    # wafers and tiles
    mesh_hop_s: float = _d("mesh_hop_s")
    mesh_chip_boundary_s: float = _d("mesh_chip_boundary_s")

    def __post_init__(self) -> None:
        """Validate every field when the config is built (an object that exists is valid, docs/contract.md);
        chip-specific checks (``tensor_parallel`` against the model's widest layer) happen when it is used."""
        def put(name, value):                   # normalized: a tuple for keep_parts, int for counts
            object.__setattr__(self, name, value)

        def _keep(name, value):                 # validated; the value stays as given (10240 stays an int)
            return value

        as_precision("precision", self.precision)
        for name in ("expert_precision", "compute_precision"):
            if getattr(self, name) is not None:
                as_precision(name, getattr(self, name))
        for name in ("kv_precision", "activation_precision", "keep_precision"):
            as_precision(name, getattr(self, name))
        put("keep_parts", keep_parts_tuple(self.keep_parts))
        if self.bandwidth_efficiency is not None:
            _keep("bandwidth_efficiency", check_number("bandwidth_efficiency", self.bandwidth_efficiency,
                                                     lo=MIN_EFFICIENCY, hi=1.0))
        _keep("compute_efficiency", check_number("compute_efficiency", self.compute_efficiency,
                                               lo=MIN_EFFICIENCY, hi=1.0))
        put("microbatches", check_int("microbatches", self.microbatches, lo=1, hi=100_000))
        if self.tensor_parallel is not None:
            put("tensor_parallel", check_int("tensor_parallel", self.tensor_parallel, lo=1, hi=_L.MAX_CHIPS))
        if not (self.mxm_feed_bytes_per_cycle is None or isinstance(self.mxm_feed_bytes_per_cycle, str)
                and self.mxm_feed_bytes_per_cycle == "auto"):
            _keep("mxm_feed_bytes_per_cycle", check_number("mxm_feed_bytes_per_cycle", self.mxm_feed_bytes_per_cycle,
                                                         lo=1.0, hi=MAX_FEED_BYTES_PER_CYCLE, unit="B/cycle"))
        if not (isinstance(self.layer_chain_cycles, str) and self.layer_chain_cycles == "auto"):
            _keep("layer_chain_cycles", check_number("layer_chain_cycles", self.layer_chain_cycles, lo=0.0,
                                                   hi=MAX_CHAIN_CYCLES, unit="cycles"))
        check_choice("moe_schedule", self.moe_schedule, MOE_SCHEDULES, what="MoE schedule")
        put("allreduces_per_layer", check_int("allreduces_per_layer", self.allreduces_per_layer, lo=0, hi=64))
        check_choice("hop_source", self.hop_source, _mc.HOP_SOURCES, what="hop-latency source")
        if not (self.sync_domain_chips is None or isinstance(self.sync_domain_chips, str)
                and self.sync_domain_chips == "catalog"):
            put("sync_domain_chips", check_int("sync_domain_chips", self.sync_domain_chips, lo=1, hi=10_000_000))
        if not isinstance(self.ethernet, _mc.EthernetJitter):
            check_choice("ethernet", self.ethernet, _mc.ETHERNET_PRESETS, what="Ethernet preset")
        put("cuda_graphs", check_bool("cuda_graphs", self.cuda_graphs))
        if not (isinstance(self.kernels_per_layer, str) and self.kernels_per_layer == "auto"):
            put("kernels_per_layer", check_int("kernels_per_layer", self.kernels_per_layer, lo=0, hi=10_000))
        for name in ("kernel_launch_s", "kernel_gap_s"):
            value = getattr(self, name)
            if not (isinstance(value, str) and value == "auto"):
                _keep(name, check_number(name, value, lo=0.0, hi=1.0, unit="s"))
        _keep("gpu_allreduce_latency_s", check_number("gpu_allreduce_latency_s", self.gpu_allreduce_latency_s,
                                                    lo=0.0, hi=1.0, unit="s"))
        _keep("mesh_hop_s", check_number("mesh_hop_s", self.mesh_hop_s, lo=0.0, hi=1e-3, unit="s"))
        _keep("mesh_chip_boundary_s", check_number("mesh_chip_boundary_s", self.mesh_chip_boundary_s, lo=0.0,
                                                 hi=1.0, unit="s"))

    def replace(self, **changes) -> DecodeConfig:
        """A copy with ``changes`` (unknown names raise, listing the valid ones)."""
        names = [f.name for f in fields(self)]
        for k in changes:
            if k not in names:
                raise UnknownNameError(f"unknown decode parameter {k!r}; valid: {', '.join(names)}")
        return replace(self, **changes)

    @classmethod
    def from_kwargs(cls, config: DecodeConfig | None = None, **kwargs) -> DecodeConfig:
        """``config`` (or the defaults) with keyword overrides; ``None`` values keep the default."""
        if config is not None and not isinstance(config, DecodeConfig):
            raise LabsimError(f"config must be a capacity.DecodeConfig, got {type(config).__name__}")
        base = config or cls()
        return base.replace(**{k: v for k, v in kwargs.items() if v is not None}) if kwargs else base
