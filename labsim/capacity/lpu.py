"""Decode time on a pipeline of LPUs (TSPs joined by a compiler-scheduled network), one token at a time.

The mechanism, in the order a token meets it ([isca20], [isca22]; equations in docs/design/capacity.md):

1. **Weight install, not SRAM bandwidth.** At batch 1 every weight is installed into the MXM once per token and
   used once, so a chip's time on its share of a layer is the bytes it streams into the MXM ÷ the install rate
   (``mxm_feed_bytes_per_cycle`` × clock), not ÷ the 80 TB/s SRAM headline. The KV cache is streamed the same
   way (it is the "weight" of QKᵀ and AV). Weights whose format the MXM cannot multiply (block floating point,
   FP8: the MXM does INT8 and FP16 only) are installed as FP16, two bytes per weight.
2. **Layout: how many chips share a layer.** Packed (default): a layer is spread over as few chips as hold it,
   and they stream their shares in parallel — so one layer costs at most one chip's usable SRAM of streaming.
   ``tensor_parallel = t`` spreads every layer over t chips instead (a stated choice, not a side effect of how
   many chips you bought).
3. **MoE on a static schedule** (``moe_schedule``): stream every expert; or gather only routed experts but
   reserve time for the worst placement; or the optimistic balanced case.
4. **The dependent chain** of a layer that streaming cannot hide (``layer_chain_cycles``, from the TSP layer
   model of chapter 2), **collectives** (two all-reduces per layer among the chips sharing it, [shoeybi19]),
   **hops** between consecutive layers' chips, and **Ethernet** crossings beyond one scheduled network.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .. import catalog
from .. import multichip as mc
from ..errors import check_int
from ..precision import bytes_per_element
from ..schedule.layer_model import decoder_layer_cycles, layer_latencies
from ..tsp import Geometry
from ._common import ceil, compute_precision, vmax, vmin
from .defaults import ASSUMPTIONS, DecodeConfig
from .memory import layer_bytes

__all__ = ["is_lpu", "LpuConstants", "lpu_constants", "lpu_token_time", "allreduce_s", "chain_table", "chain_cycles",
           "head_chain_cycles", "weight_streams_per_plane"]


def is_lpu(c: catalog.Chip) -> bool:
    """SRAM chips joined by a compiler-scheduled network (RealScale): the pipeline model of this module."""
    return c.memory_kind == "sram" and bool(c.chips_per_node) and bool(c.sync_domain_chips)


#: contexts (cached tokens) at which a model's per-layer chain is tabulated: 1 … 2**24, one point per octave
_CTX_LOG2 = np.arange(0, 25, dtype=np.float64)


def weight_streams_per_plane(feed_bytes_per_cycle: float, geometry: Geometry | None = None) -> int:
    """Weight streams feeding each MXM plane that deliver ``feed_bytes_per_cycle`` (faithful geometry: 4 planes
    × 320-byte vectors, so [isca20]'s 10,240 B/cycle is 8 streams a plane)."""
    g = geometry or Geometry.faithful()
    s = int(round(float(feed_bytes_per_cycle) / (g.mxm_planes * g.vector_len)))
    return min(max(1, s), g.streams_per_direction)


def _layer_dims(m: catalog.Model, moe_layer: bool, vl: int) -> tuple[int, int, int, int, int]:
    """(hidden, heads, kv_heads, head_dim, FFN width) of one layer as the TSP layer model sees it: a MoE layer's
    FFN is its active experts (routed per token + shared); MLA attention as GQA at its query/key head width."""
    if moe_layer:
        ffn = m.experts_per_token * m.moe_intermediate_size + m.num_shared_experts * m._shared_ff
    else:
        ffn = m.intermediate_size
    return (m.hidden_size, m.num_heads, min(m.num_kv_heads, m.num_heads), min(m._qk_head_dim, vl), max(1, ffn))


@lru_cache(maxsize=512)
def chain_table(m: catalog.Model, moe_layer: bool, streams: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-layer cycles a token waits beyond installing the layer's weights and KV, tabulated once per model.

    From the TSP's analytic per-layer model (:func:`labsim.schedule.decoder_layer_cycles`, validated by the cycle
    simulation of full-size layer shares): ``cycles − install_cycles`` = MXM passes + the dependent chain the
    planes cannot hide (norms, softmax, reductions, barriers) + the superlane stagger, at ``streams`` weight
    streams per plane. Returns (tensor-parallel widths = divisors of the head count, table[width, log2 context]).
    """
    g = Geometry.faithful()
    H, nh, nkv, hd, ffn = _layer_dims(m, moe_layer, g.vector_len)
    widths = np.array([d for d in range(1, nh + 1) if nh % d == 0], dtype=np.int64)
    r = decoder_layer_cycles(H, nh, nkv, hd, ffn, (2.0 ** _CTX_LOG2)[None, :], widths[:, None], geometry=g,
                             weight_streams_per_plane=streams)
    table = np.asarray(r["cycles"] - r["install_cycles"], dtype=np.float64)
    table.setflags(write=False)
    widths.setflags(write=False)
    return widths, table


def chain_cycles(table: tuple[np.ndarray, np.ndarray], chips_per_layer, ctx):
    """Look up :func:`chain_table` for a layer spread over ``chips_per_layer`` chips (fractional = several layers
    share a chip: width 1; otherwise the narrowest head-count divisor ≥ the chips, capped at the head count) at
    ``ctx`` cached tokens (linear in log2 context between octaves). Scalars in, float out; arrays broadcast."""
    widths, T = table
    need = np.ceil(np.asarray(chips_per_layer, dtype=np.float64) - 1e-9)
    i = np.minimum(np.searchsorted(widths, need), len(widths) - 1)
    x = np.log2(np.clip(np.asarray(ctx, dtype=np.float64), 1.0, 2.0 ** _CTX_LOG2[-1]))
    k = np.minimum(np.floor(x).astype(np.int64), len(_CTX_LOG2) - 2)
    w = x - k
    out = T[i, k] * (1.0 - w) + T[i, k + 1] * w
    return float(out) if np.ndim(out) == 0 else out


def head_chain_cycles(geometry: Geometry | None = None) -> float:
    """Cycles of the LM head's dependent chain beyond its weight install: read the hidden vector, carry it to a
    plane, one pass, the result back to the VXM, the superlane stagger ([isca20] §II latencies, from the
    geometry via :func:`labsim.schedule.layer_model.layer_latencies`)."""
    lat = layer_latencies(geometry or Geometry.faithful())
    return float(lat["read"] + lat["to_plane"] + lat["pass"] + lat["from_plane"] + lat["stagger"])


def allreduce_s(message_bytes, n, hop_s, params):
    """One all-reduce among the ``n`` chips sharing a layer: :func:`labsim.multichip.allreduce_time_vec`
    (direct inside a node, two-phase across the network), at the config's hop latency."""
    if isinstance(n, float) and n <= 1:
        return 0.0 * message_bytes
    return mc.allreduce_time_vec(message_bytes, n, hop_s, params)


@dataclass(frozen=True)
class LpuConstants:
    """Everything about (model, chip, config) that does not depend on the serving point, computed once."""
    feed_bytes_per_s: float
    clock_hz: float
    chain_fixed_cycles: float | None   #: a user's constant per-layer chain; None = the TSP layer model's table
    chain_dense: tuple | None          #: :func:`chain_table` of a dense-FFN layer (None if the model has none)
    chain_moe: tuple | None            #: same for a MoE layer
    head_chain_s: float
    hop_s: float
    usable_bytes: float
    network: mc.RealScaleParams
    chips_per_node: int
    inter_node_extra_hops: int
    sync_domain_chips: int
    ethernet_s: float
    r_weights: float        #: installed bytes per stored byte, dense weights
    r_experts: float        #: same for routed and shared experts
    r_kv: float             #: same for the KV cache
    act_bytes: float
    peak_ops_per_s: float   #: usable peak (× compute efficiency) at the weights' compute precision
    flops_dense_layer: float
    flops_expert: float
    flops_head: float


@lru_cache(maxsize=256)
def lpu_constants(m: catalog.Model, c: catalog.Chip, cfg: DecodeConfig, usable_bytes: float) -> LpuConstants:
    """The serving-point-independent constants of :func:`lpu_token_time` (cached per model, chip, config)."""
    clock = c.clock_hz or mc.RealScaleParams().clock_hz
    # cfg's fields were validated when it was built (DecodeConfig.__post_init__)
    feed = cfg.mxm_feed_bytes_per_cycle
    if feed == "auto" or feed is None:
        feed = ASSUMPTIONS["mxm_feed_bytes_per_cycle"].value
    feed = float(feed)
    chain = cfg.layer_chain_cycles
    fixed = None if chain == "auto" else float(chain)
    streams = weight_streams_per_plane(feed)
    dense_t = chain_table(m, False, streams) if fixed is None and m.num_dense_ffn_layers else None
    moe_t = chain_table(m, True, streams) if fixed is None and m.is_moe else None
    head_s = (head_chain_cycles() if fixed is None else fixed) / clock
    p = mc.realscale_params(chips_per_node=int(c.chips_per_node),
                            chips_per_rack=max(int(c.chips_per_rack or c.chips_per_node), int(c.chips_per_node)))
    hop_s = float(mc.hop_latency_s(1, source=cfg.hop_source))
    dom = c.sync_domain_chips if cfg.sync_domain_chips in (None, "catalog") else cfg.sync_domain_chips
    prec = cfg.precision
    eprec = cfg.expert_precision or prec

    def ratio(fmt):
        return bytes_per_element(compute_precision(c, fmt)) / bytes_per_element(fmt)

    comp = cfg.compute_precision or compute_precision(c, prec)
    peak = c.peak_ops(comp) * cfg.compute_efficiency
    d = m.hidden_size
    f_dense = 2.0 * (m._attn_matmul() + (m._ffn(d, m.intermediate_size, False)[0] if m.num_dense_ffn_layers else 0))
    f_exp = 2.0 * m._ffn(d, m.moe_intermediate_size, False)[0] if m.is_moe else 0.0
    return LpuConstants(
        feed_bytes_per_s=feed * clock, clock_hz=clock, chain_fixed_cycles=fixed, chain_dense=dense_t,
        chain_moe=moe_t, head_chain_s=head_s, hop_s=hop_s, usable_bytes=usable_bytes,
        network=p, chips_per_node=int(c.chips_per_node), inter_node_extra_hops=max(0, p.inter_node_hops - 1),
        sync_domain_chips=int(dom), ethernet_s=mc.ethernet_preset(cfg.ethernet).base_s,
        r_weights=ratio(prec), r_experts=ratio(eprec), r_kv=ratio(cfg.kv_precision),
        act_bytes=bytes_per_element(cfg.activation_precision), peak_ops_per_s=peak,
        flops_dense_layer=f_dense, flops_expert=f_exp, flops_head=2.0 * m.vocab_size * d)


def lpu_token_time(m: catalog.Model, c: catalog.Chip, cfg: DecodeConfig, k: LpuConstants, batch, ctx) -> dict:
    """Seconds per token and its parts for ``batch`` sequences at ``ctx`` cached tokens (floats or arrays).

    Returns a dict: ``seconds`` (latency of one token through the pipeline), ``memory_s`` (MXM install of
    weights and KV), ``sram_read_s`` (same bytes at the SRAM headline bandwidth, for contrast), ``compute_s``,
    ``fixed_latency_s``, ``c2c_hops_s``, ``collectives_s``, ``ethernet_s``, ``chips_used``, ``chips_per_layer``,
    ``stages``, ``domains``, ``min_tensor_parallel`` (the fewest chips that hold the widest layer), ``layer_s``
    (one decoder layer on its chips: install + chain, without collectives or hops — what chapter 2's layer
    simulation measures).
    """
    sched = cfg.moe_schedule
    lb = layer_bytes(m, cfg.precision, cfg.expert_precision, cfg.keep_parts, cfg.keep_precision, cfg.kv_precision)
    B, U, F, t = batch, k.usable_bytes, k.feed_bytes_per_s, cfg.tensor_parallel
    kv_full = B * ctx * lb.kv_per_token_full
    kv_local = B * vmin(ctx, float(lb.local_window)) * lb.kv_per_token_local if lb.n_local else 0.0 * ctx
    frac_full = lb.n_full / lb.n_layers
    kv_layer = frac_full * kv_full + (1.0 - frac_full) * kv_local          # average KV bytes per layer
    msg = B * lb.hidden_size * k.act_bytes
    attn_flops = 4.0 * ctx * m.num_heads * m._qk_head_dim

    def layer(stored_fixed, stream_fixed, n_exp, flops, table):
        """(install s, compute s, collective s, chips, chips held, stored bytes, chain s) of one layer; experts
        streamed per the MoE schedule."""
        stored = stored_fixed + n_exp * lb.expert
        chips = vmax(1.0, stored / U) if t is None else float(t) + 0.0 * stored
        if n_exp:
            E, kk = lb.num_experts, lb.experts_per_token
            touched = E * (1.0 - (1.0 - kk / E) ** B)
            if sched == "all_experts":
                exp_chip = n_exp * lb.expert * k.r_experts / chips
            elif sched == "routed_worst_case":
                exp_chip = vmin(touched, ceil(E / chips)) * lb.expert * k.r_experts
            else:
                exp_chip = vmax(1.0, touched / chips) * lb.expert * k.r_experts
        else:
            exp_chip = 0.0
        coll = cfg.allreduces_per_layer * allreduce_s(msg, ceil(chips), k.hop_s, k.network)
        held = stored / U if t is None else chips          # packed: small layers share a chip
        chain = (k.chain_fixed_cycles if table is None else chain_cycles(table, chips, ctx)) / k.clock_hz
        return ((stream_fixed / chips + exp_chip) / F, B * flops / (chips * k.peak_ops_per_s), coll, chips, held,
                stored, chain)

    # dense-FFN layers and MoE layers (attention + KV in both)
    a_stream = lb.dense_attn * k.r_weights + kv_layer * k.r_kv
    parts = []
    if lb.n_dense_ffn:
        parts.append((lb.n_dense_ffn, layer(lb.dense_attn + lb.dense_ffn + kv_layer,
                                            a_stream + lb.dense_ffn * k.r_weights, 0,
                                            k.flops_dense_layer + attn_flops, k.chain_dense)))
    if lb.n_moe:
        parts.append((lb.n_moe, layer(lb.dense_attn + lb.moe_fixed + kv_layer,
                                      a_stream + lb.moe_fixed * k.r_experts, lb.num_experts,
                                      k.flops_dense_layer + lb.experts_per_token * k.flops_expert + attn_flops,
                                      k.chain_moe)))
    head_held = lb.head / U if t is None else float(t)
    head_chips = max(1.0, head_held) if t is None else float(t)
    memory_s = lb.head * k.r_weights / head_chips / F
    compute_s = B * k.flops_head / (head_chips * k.peak_ops_per_s)
    coll_s = allreduce_s(msg, ceil(head_chips), k.hop_s, k.network)
    chips_used = head_held
    widest = lb.head
    fixed_s = k.head_chain_s
    for n, (mem, comp, coll, _, held, stored, chain) in parts:
        widest = vmax(widest, stored)
        memory_s = memory_s + n * mem
        compute_s = compute_s + n * comp
        coll_s = coll_s + n * coll
        chips_used = chips_used + n * held
        fixed_s = fixed_s + n * chain
    chips_used = ceil(chips_used)
    stages = lb.n_layers + 1.0
    nodes = ceil(chips_used / k.chips_per_node)
    hops_s = (lb.n_layers + (nodes - 1.0) * k.inter_node_extra_hops) * k.hop_s
    domains = ceil(chips_used / k.sync_domain_chips)
    eth_s = (domains - 1.0) * k.ethernet_s
    seconds = vmax(memory_s, compute_s) + fixed_s + coll_s + hops_s + eth_s
    return {"seconds": seconds, "memory_s": memory_s, "compute_s": compute_s, "fixed_latency_s": fixed_s,
            "c2c_hops_s": hops_s, "collectives_s": coll_s, "ethernet_s": eth_s,
            "sram_read_s": memory_s * F / c.memory_bandwidth_bytes_per_s, "chips_used": chips_used,
            "chips_per_layer": parts[-1][1][3] if parts else head_chips, "stages": stages, "domains": domains,
            "layer_s": parts[-1][1][0] + parts[-1][1][6] if parts else 0.0 * memory_s,
            "min_tensor_parallel": ceil(widest / U)}


def check_tensor_parallel(c: catalog.Chip, tensor_parallel) -> int | None:
    """Validate an explicit LPU tensor-parallel width (chips per layer)."""
    if tensor_parallel is None:
        return None
    return check_int("tensor_parallel", tensor_parallel, lo=1, hi=int(c.sync_domain_chips or 10_440))

