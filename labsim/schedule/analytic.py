"""Closed-form cycle estimates of graphs and decoder layers on one chip (no cycle simulation).

:func:`analytic_cycles` / :func:`analytic_decoder_cycles` are chapter 2's estimates tied to the list scheduler on
``mini``; :func:`decoder_layer_cycles` is the per-layer model the cycle simulation of a full-size layer validates
(docs/design/schedule.md, "One analytic per-layer model").
"""
from __future__ import annotations

import math
from collections import defaultdict

from ..errors import LabsimError, check_bool, check_int
from ..tsp import Geometry
from .builders import decoder_layer_dims
from .graph import Graph, critical_path
from .layer_model import decoder_layer_cycles

__all__ = ["tile_count", "analytic_cycles", "analytic_decoder_cycles", "decoder_layer_cycles"]

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
                            full_size: bool = True, context_tokens: int | None = None, tp: int = 1) -> dict:
    """One decoder layer's cycles on one chip without building a graph.

    ``full_size=True``: the full layer of ``model`` (its ``tp`` share), from the per-layer model
    :func:`~labsim.schedule.layer_model.decoder_layer_cycles` — the model the cycle simulation of full-size layers
    validates (:func:`~labsim.schedule.layer_sim.simulate_layer`). ``full_size=False``: the scaled layer of
    :func:`decoder_layer_dims` (the graph of :func:`decoder_layer_graph`) with :func:`analytic_cycles`' formula, for
    the tests that tie it to the list scheduler on `mini`. The result says how many bytes of weights the layer has
    (they must fit the chip's SRAM for this to be a single-chip time). ``geometry`` (default): `faithful` for the
    full-size layer (a full head fits its 320-lane vectors), `mini` for the scaled one."""
    full_size = check_bool("full_size", full_size)
    if geometry is None:
        geometry = Geometry.faithful() if full_size else Geometry.mini()
    g = geometry
    if not isinstance(g, Geometry):
        raise LabsimError(f"geometry must be a labsim.tsp.Geometry, got {type(geometry).__name__}")
    d = decoder_layer_dims(model, g)
    vl = g.vector_len
    if full_size:
        H, F, nh, nkv = d["full_hidden"], d["full_intermediate"], d["full_heads"], d["full_kv_heads"]
        hd = d["full_head_dim"]
        ctx = 1024 if context_tokens is None else check_int("context_tokens", context_tokens, lo=1, hi=2**24)
        tp = check_int("tp", tp, lo=1, hi=nh)
        r = decoder_layer_cycles(H, nh, nkv, hd, F, ctx, tp, geometry=g)
        out = {k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
        out.update(cycles=int(round(out["cycles"])), seconds=out["cycles"] / g.clock_hz,
                   mxm_bound_cycles=out["install_cycles"] + out["pass_cycles"],
                   critical_path_cycles=out["chain_cycles"],
                   bound="MXM weight installs" if out["bound"] == 0 else "the dependent chain",
                   weight_bytes_int8=out["weight_bytes"],
                   dims={"hidden": H, "intermediate": F, "heads": nh, "kv_heads": nkv, "head_dim": hd,
                         "context": ctx, "tp": tp})
        return out
    H, F, nh, nkv, hd = d["hidden"], d["intermediate"], d["heads"], d["kv_heads"], d["head_dim"]
    ctx = d["context"] if context_tokens is None else check_int("context_tokens", context_tokens, lo=1, hi=2**24)
    c = math.ceil
    # the graph of decoder_layer_graph: one projection output vector per head, O with one input chunk per head
    phases = [(nh + 2 * nkv) * tile_count(hd, H, vl), nh * tile_count(ctx, hd, vl), nh * tile_count(hd, ctx, vl),
              tile_count(H, nh * vl, vl), 2 * tile_count(F, H, vl), tile_count(H, F, vl)]
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
    cp += lat["pass"] + red(nh * vl) + 3 * lat["vxm"]             # o_proj + requant + residual + requant
    cp += lat["pass"] + red(H) + 2 * lat["vxm"]                   # gate (relu + requant)
    cp += 2 * lat["vxm"]                                        # gate*up + requant
    cp += lat["pass"] + red(F) + 3 * lat["vxm"] + lat["wr"]       # down + requant + residual + requant + store
    out = _analytic(g, phases, cp)
    out["weight_bytes_int8"] = H * hd * (2 * nh + 2 * nkv) + 3 * H * F
    out["dims"] = {"hidden": H, "intermediate": F, "heads": nh, "kv_heads": nkv, "head_dim": hd, "context": ctx}
    return out
