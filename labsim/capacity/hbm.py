"""Decode time on a tensor-parallel group of HBM chips (GPUs, TPUs): bandwidth, kernel overheads, all-reduces.

Per token: max(bytes read ÷ usable HBM bandwidth, FLOPs ÷ usable peak) over the group, plus what a GPU adds per
kernel (device start-up and gap — chapter 2's GPU parameters; with eager launches, the host launch time not hidden
behind the kernels), plus two tensor-parallel all-reduces per layer ([shoeybi19]).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .. import catalog, gpu
from ..precision import bytes_per_element
from ._common import vmax, vmin, vwhere
from .defaults import ASSUMPTIONS, DecodeConfig
from .memory import layer_bytes

__all__ = ["HbmConstants", "hbm_constants", "hbm_token_time", "launches_kernels"]


def launches_kernels(c: catalog.Chip) -> bool:
    """CUDA GPUs pay per-kernel launch and gap costs [A]; TPUs (one XLA-compiled program) do not."""
    return c.memory_kind == "hbm" and c.vendor.strip().lower() == "nvidia"


@dataclass(frozen=True)
class HbmConstants:
    bandwidth_bytes_per_s: float     #: usable bandwidth per chip
    peak_ops_per_s: float            #: usable peak per chip (inf if unpublished)
    kernels_per_layer: int
    kernel_gap_s: float
    kernel_launch_s: float
    allreduce_latency_s: float
    link_bytes_per_s: float
    act_bytes: float


@lru_cache(maxsize=256)
def hbm_constants(c: catalog.Chip, cfg: DecodeConfig, compute_precision: str | None) -> HbmConstants:
    """Serving-point-independent constants of :func:`hbm_token_time` (cached per chip and config)."""
    eff = cfg.bandwidth_efficiency
    if eff is None:
        eff = ASSUMPTIONS["bandwidth_efficiency_hbm"].value
    p = gpu.gpu_params("h100_sxm")      # chapter 2's per-kernel costs, the same for every NVIDIA GPU [A]
    # cfg's fields were validated when it was built (DecodeConfig.__post_init__)
    k = len(gpu.decoder_layer_kernels(64, 64, 1, 1, 64)) if cfg.kernels_per_layer == "auto" else \
        int(cfg.kernels_per_layer)
    gap = p.kernel_fixed_s + p.graph_kernel_gap_s if cfg.kernel_gap_s == "auto" else float(cfg.kernel_gap_s)
    launch = p.launch_overhead_s if cfg.kernel_launch_s == "auto" else float(cfg.kernel_launch_s)
    ar = float(cfg.gpu_allreduce_latency_s)
    if not launches_kernels(c):
        k, gap, launch = 0, 0.0, 0.0
    peak = c.peak_ops(compute_precision) * cfg.compute_efficiency if compute_precision else np.inf
    return HbmConstants(bandwidth_bytes_per_s=c.memory_bandwidth_bytes_per_s * eff, peak_ops_per_s=peak,
                        kernels_per_layer=k, kernel_gap_s=gap, kernel_launch_s=launch, allreduce_latency_s=ar,
                        link_bytes_per_s=c.link_bandwidth_bytes_per_s or np.inf,
                        act_bytes=bytes_per_element(cfg.activation_precision))


def hbm_token_time(m: catalog.Model, cfg: DecodeConfig, k: HbmConstants, chips, batch, ctx) -> dict:
    """Seconds per token and its parts on a ``chips``-wide tensor-parallel group (floats or arrays).

    Returns ``seconds, memory_s, compute_s, launch_s, allreduce_s, bytes_read, flops``.
    """
    lb = layer_bytes(m, cfg.precision, cfg.expert_precision, cfg.keep_parts, cfg.keep_precision, cfg.kv_precision)
    n, B = chips, batch
    L = lb.n_layers
    experts = 0.0
    if lb.n_moe:
        E, kk = lb.num_experts, lb.experts_per_token
        experts = lb.n_moe * E * (1.0 - (1.0 - kk / E) ** B) * lb.expert
    weights = lb.total_weights - lb.n_moe * lb.num_experts * lb.expert - lb.embedding \
        + (lb.embedding if m.tie_word_embeddings else 0.0)
    attended = lb.n_full * ctx + lb.n_local * vmin(ctx, float(lb.local_window))
    kv = B * attended * lb.kv_per_token_full
    bytes_read = weights + experts + kv
    flops = B * (2.0 * m._matmul_params_active()
                 + 2.0 * attended * m.num_heads * (m._qk_head_dim + m._v_head_dim))
    memory_s = bytes_read / (n * k.bandwidth_bytes_per_s)
    compute_s = flops / (n * k.peak_ops_per_s)
    work_layer = vmax(memory_s, compute_s) / L
    device_s = L * k.kernels_per_layer * k.kernel_gap_s
    if cfg.cuda_graphs:
        launch_s = device_s + k.kernel_launch_s + 0.0 * work_layer      # one graph launch per step
    else:                                                              # host launches back to back
        launch_s = device_s + L * vmax(0.0, k.kernels_per_layer * k.kernel_launch_s
                                       - work_layer - k.kernels_per_layer * k.kernel_gap_s)
    msg = B * lb.hidden_size * k.act_bytes
    ar = vwhere(n > 1, k.allreduce_latency_s + 2.0 * (n - 1) / n * msg / k.link_bytes_per_s, 0.0 * msg)
    allreduce_s = L * cfg.allreduces_per_layer * ar
    seconds = vmax(memory_s, compute_s) + launch_s + allreduce_s
    return {"seconds": seconds, "memory_s": memory_s, "compute_s": compute_s, "launch_s": launch_s,
            "allreduce_s": allreduce_s, "bytes_read": bytes_read, "flops": flops}
