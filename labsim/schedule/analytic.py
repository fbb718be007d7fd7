"""Closed-form cycle estimates of graphs and decoder layers on one chip (no cycle simulation).

:func:`analytic_cycles` / :func:`analytic_decoder_cycles` are chapter 2's estimates tied to the list scheduler on
``mini``; :func:`decoder_layer_cycles` is the per-layer model the cycle simulation of a full-size layer validates
(docs/design/schedule.md, "One analytic per-layer model").
"""
from __future__ import annotations

import math
from collections import defaultdict

from ..errors import LabsimError, check_int
from ..tsp import Geometry
from .builders import decoder_layer_dims
from .graph import Graph, critical_path

__all__ = ["tile_count", "analytic_cycles", "analytic_decoder_cycles"]

def tile_count(out_features: int, in_features: int, vector_len: int) -> int:
    """Weight tiles of vector_len × vector_len for an (out × in) matrix."""
    out_features = check_int("out_features", out_features, lo=1, hi=10**12)
    in_features = check_int("in_features", in_features, lo=1, hi=10**12)
    vector_len = check_int("vector_len", vector_len, lo=1, hi=10**6)
    return -(-out_features // vector_len) * -(-in_features // vector_len)


def _matvec_phases(graph: Graph) -> list[int]:
    """Tiles per dependency level of matvecs (level = 1 + deepest matvec ancestor)."""
    level = {}
    for n in graph.nodes:
        up = max((level.get(i, 0) for i in n.inputs), default=0)
        level[n.id] = up + (1 if n.op == "matvec" else 0)
    counts = defaultdict(int)
    for n in graph.nodes:
        if n.op == "matvec":
            counts[level[n.id]] += 1
    return [counts[k] for k in sorted(counts)]


def _analytic(g: Geometry, phases: list[int], cp: int) -> dict:
    planes = len(g.slices_of_type("MXM"))
    per_tile = g.mxm_install_cycles + 1
    stagger = (g.superlanes - 1) * g.instr_stagger_cycles_per_superlane
    tiles = sum(phases)
    mxm = math.ceil(tiles / planes) * per_tile
    phased = cp + sum((math.ceil(n / planes) - 1) * per_tile for n in phases)
    body = max(mxm, phased)
    return {"tiles": tiles, "phases": list(phases), "mxm_bound_cycles": mxm, "critical_path_cycles": cp,
            "phased_cycles": phased, "cycles": body + stagger,
            "bound": "MXM weight installs" if mxm >= phased else "critical path + per-phase installs",
            "seconds": (body + stagger) / g.clock_hz}


def analytic_cycles(graph: Graph) -> dict:
    """Closed-form makespan estimate of a graph on one chip (no cycle simulation).

    cycles = max(MXM bound, phased bound) + superlane stagger, where the MXM bound is
    ceil(tiles / planes) × (install + 1) — at batch 1 each weight tile is installed once and used once, so
    weight installation, not arithmetic, limits throughput — and the phased bound is the critical path plus,
    for every dependency level of matvecs, the extra rounds (ceil(tiles_in_level / planes) − 1) × (install + 1)
    that the planes need for that level. Tied to :func:`list_schedule` by tests on `mini` graphs.
    """
    if not isinstance(graph, Graph):
        raise LabsimError(f"graph must be a labsim.schedule.Graph, got {type(graph).__name__}")
    cp, _ = critical_path(graph)
    return _analytic(graph.geometry, _matvec_phases(graph), cp)


def analytic_decoder_cycles(model: str | None = "llama-3.1-8b", geometry: Geometry | None = None, *,
                            full_size: bool = True, context_tokens: int | None = None) -> dict:
    """:func:`analytic_cycles` for one decoder layer without building the graph — usable at full size on the
    `faithful` geometry where cycle simulation would be slow. ``full_size=False`` uses the scaled dimensions of
    :func:`decoder_layer_dims` (the same graph as :func:`decoder_layer_graph`, for the tests that tie the two).
    The layer's weights must still fit the chip's SRAM for this to be a real single-chip time; the result says
    how many bytes of weights the layer has."""
    g = Geometry.mini() if geometry is None else geometry
    d = decoder_layer_dims(model, g)
    vl = g.vector_len
    if full_size:
        H, F, nh, nkv = d["full_hidden"], d["full_intermediate"], d["full_heads"], d["full_kv_heads"]
        hd = H // nh
    else:
        H, F, nh, nkv, hd = d["hidden"], d["intermediate"], d["heads"], d["kv_heads"], d["head_dim"]
    ctx = d["context"] if context_tokens is None else check_int("context_tokens", context_tokens, lo=1)
    c = math.ceil
    phases = [tile_count(nh * hd, H, vl) + 2 * tile_count(nkv * hd, H, vl),
              nh * tile_count(ctx, hd, vl), nh * tile_count(hd, ctx, vl), tile_count(H, nh * hd, vl),
              2 * tile_count(F, H, vl), tile_count(H, F, vl)]
    lat = {k: v + g.stream_hop_cycles for k, v in (("mv", g.mxm_install_cycles + g.mxm_pass_cycles),
                                                   ("vxm", g.vxm_cycles), ("rd", g.mem_read_cycles),
                                                   ("wr", g.mem_write_cycles))}
    lat["pass"] = g.mxm_pass_cycles + g.stream_hop_cycles   # later phases: weights were installed ahead
    lat["mv"] += g.stream_hop_cycles                        # first phase: install and pass both on the path

    def red(k):                         # reduce tree over k input chunks
        return max(0, c(math.log2(max(1, c(k / vl))))) * lat["vxm"]
    cp = lat["rd"]
    cp += lat["mv"] + red(H) + lat["vxm"]                       # q projection + requant
    cp += lat["pass"] + red(hd) + 2 * lat["vxm"]                  # scores + relu + requant
    cp += lat["pass"] + red(ctx) + lat["vxm"]                     # attn·V + requant
    cp += lat["pass"] + red(nh * hd) + 3 * lat["vxm"]             # o_proj + requant + residual + requant
    cp += lat["pass"] + red(H) + 2 * lat["vxm"]                   # gate (relu + requant)
    cp += 2 * lat["vxm"]                                        # gate*up + requant
    cp += lat["pass"] + red(F) + 3 * lat["vxm"] + lat["wr"]       # down + requant + residual + requant + store
    out = _analytic(g, phases, cp)
    out["weight_bytes_int8"] = (H * (nh * hd + 2 * nkv * hd) + nh * hd * H + 3 * H * F)
    out["dims"] = {"hidden": H, "intermediate": F, "heads": nh, "kv_heads": nkv, "head_dim": hd, "context": ctx}
    return out
