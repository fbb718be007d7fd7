"""Decode time on SRAM machines built from a 2-D mesh of small cores: a wafer (Cerebras WSE-3) or dies in a tile
(Tesla Dojo D1). Not a GPU with other numbers, and not an LPU: there is no separate weight-install path.

Each core keeps its share of the weights in its own SRAM and multiplies them in place, so at batch 1 the cores
holding the current layer read their SRAM once per token — a layer costs the time for its cores to sweep their
memory ([cerebras-wse3]: 44 GB at 21 PB/s = 2.1 µs for a whole wafer; [talpes23]: 354 cores per D1). A model
smaller than one chip is spread over all of its cores, so one layer's cores each hold little. What the cores
cannot overlap is the mesh: every dependent step of a layer (norms, projections, softmax — the same 12 steps as
the LPU's chain) broadcasts its input across the layer's region of cores and reduces the partial sums back, about
2√(cores in the layer) hops. Between chips (wafers, or dies of a tile) a token crosses one link per boundary.

Two parameters are not published and are named assumptions in :data:`~labsim.capacity.ASSUMPTIONS`:
``mesh_hop_s`` (one core-to-core hop, of the order of one clock) and ``mesh_chip_boundary_s`` (one chip-to-chip
crossing). This is a structural model; chapter 7 shows its predictions next to the published speeds.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .. import catalog
from ..precision import bytes_per_element
from ._common import ceil, vmax, vmin
from .defaults import ASSUMPTIONS, DecodeConfig
from .memory import layer_bytes

__all__ = ["is_mesh_machine", "MeshConstants", "mesh_constants", "mesh_token_time", "cores_per_chip"]

#: [A] dependent reductions per decoder layer, each a sweep across the layer's cores: RMSNorm, q, scores, softmax
#: max and sum, AV, O + residual, RMSNorm, gate and up, SiLU·up, down + residual — the dependency structure the
#: TSP's layer model chains (labsim.schedule.layer_model), counted one reduction per step
_STEPS = 12


def is_mesh_machine(c: catalog.Chip) -> bool:
    """An SRAM wafer, or SRAM dies in a tile: weights stationary in mesh-connected cores."""
    return c.memory_kind == "sram" and c.packaging in ("wafer", "tile")


def cores_per_chip(c: catalog.Chip) -> float:
    """Cores on one catalog chip: ``extra.cores`` (a wafer) or ``extra.cores_per_die`` (a die)."""
    for k in ("cores", "cores_per_die"):
        if k in c.extra:
            return float(c.extra[k])
    return float(c.memory_bytes / 48e3)     # unknown: one core per 48 KB of SRAM [A]


@dataclass(frozen=True)
class MeshConstants:
    usable_bytes: float
    bandwidth_bytes_per_s: float
    cores: float
    peak_ops_per_s: float
    hop_s: float
    boundary_s: float
    act_bytes: float


@lru_cache(maxsize=128)
def mesh_constants(c: catalog.Chip, cfg: DecodeConfig, usable_bytes: float, compute_prec: str) -> MeshConstants:
    hop = float(cfg.mesh_hop_s)                      # validated when cfg was built (DecodeConfig.__post_init__)
    boundary = float(cfg.mesh_chip_boundary_s)
    eff = cfg.bandwidth_efficiency if cfg.bandwidth_efficiency is not None else \
        ASSUMPTIONS["bandwidth_efficiency_sram"].value
    return MeshConstants(usable_bytes=usable_bytes, bandwidth_bytes_per_s=c.memory_bandwidth_bytes_per_s * eff,
                         cores=cores_per_chip(c), peak_ops_per_s=c.peak_ops(compute_prec) * cfg.compute_efficiency,
                         hop_s=hop, boundary_s=boundary, act_bytes=bytes_per_element(cfg.activation_precision))


def mesh_token_time(m: catalog.Model, cfg: DecodeConfig, k: MeshConstants, batch, ctx) -> dict:
    """Seconds per token on a mesh machine and its parts (floats or arrays): ``seconds, memory_s, compute_s,
    mesh_s, boundaries_s, chips_used``. Routed experts: the ones the batch touches are read (cores hold them)."""
    lb = layer_bytes(m, cfg.precision, cfg.expert_precision, cfg.keep_parts, cfg.keep_precision, cfg.kv_precision)
    B, U = batch, k.usable_bytes
    kv_layer = B * ctx * lb.kv_per_token_full * (lb.n_full / lb.n_layers) \
        + B * vmin(ctx, float(lb.local_window)) * lb.kv_per_token_local * (lb.n_local / lb.n_layers)
    stored = lb.total_weights - lb.embedding * (0 if m.tie_word_embeddings else 1) + lb.n_layers * kv_layer
    chips = vmax(1.0, stored / U)
    held = stored / chips                                   # bytes each chip holds: all of its cores are used
    per_core_bw = k.bandwidth_bytes_per_s / k.cores
    touched = 0.0
    if lb.n_moe:
        E, kk = lb.num_experts, lb.experts_per_token
        touched = E * (1.0 - (1.0 - kk / E) ** B)
    read = lb.total_weights - lb.embedding * (0 if m.tie_word_embeddings else 1) \
        - lb.n_moe * (lb.num_experts - touched) * lb.expert + lb.n_layers * kv_layer
    # every core holds held / cores bytes; the cores of one layer read theirs in parallel, layer after layer
    memory_s = (read / stored) * (lb.n_layers + 1) * (held / k.cores) / per_core_bw
    cores_per_layer = k.cores * (stored / (lb.n_layers + 1)) / held
    # each layer's FLOPs run on that layer's cores only (at batch 1 the other layers wait)
    compute_s = B * 2.0 * m._matmul_params_active() * k.cores / (cores_per_layer * k.peak_ops_per_s)
    mesh_s = (lb.n_layers + 1) * _STEPS * 2.0 * (cores_per_layer ** 0.5) * k.hop_s
    n_chips = ceil(chips)
    boundaries_s = (n_chips - 1.0) * k.boundary_s
    seconds = vmax(memory_s, compute_s) + mesh_s + boundaries_s
    return {"seconds": seconds, "memory_s": memory_s, "compute_s": compute_s, "mesh_s": mesh_s,
            "boundaries_s": boundaries_s, "chips_used": n_chips, "chips_per_layer": vmin(1.0, stored / (
                (lb.n_layers + 1) * U)) + 0.0 * seconds}

