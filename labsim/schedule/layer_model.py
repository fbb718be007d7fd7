"""One analytic per-layer model of the LPU: cycles for one chip's share of a decoder layer at batch 1.

:func:`decoder_layer_cycles` is pure and vectorized (NumPy arrays in, arrays out; no catalog inside). It counts
exactly what the layer scheduler (:mod:`labsim.schedule.layer`) does — every weight and KV tile is streamed from
MEM into one of the MXM planes, ceil(rows / S) cycles per tile over S streams, then one cycle per pass — and
adds the dependent chain the planes cannot hide: the start (RMSNorm before the first pass), the hard barrier
after the O projection (residual + RMSNorm before the FFN), the soft barriers where too little independent work
is left to hide a latency (q → scores, scores → softmax → AV, AV → O, gate/up → down), the tail after the last
pass, and the superlane stagger. Its constants come from the geometry (one place per fact): the stream count,
the vector length, hop, MEM read/write, VXM, MXM pass and stagger cycles. The cycle simulation of full-size
layers validates it (tests/test_schedule_layer.py; docs/design/schedule.md, "One analytic per-layer model").
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ..errors import LabsimError, check_array, check_int
from ..tsp import Geometry

__all__ = ["decoder_layer_cycles", "layer_latencies"]


@lru_cache(maxsize=1)
def _faithful() -> Geometry:
    return Geometry.faithful()


def _geometry(geometry) -> Geometry:
    if geometry is None:
        return _faithful()
    if not isinstance(geometry, Geometry):
        raise LabsimError(f"geometry must be a labsim.tsp.Geometry, got {type(geometry).__name__}")
    return geometry


def _default_streams(g: Geometry) -> int:
    half = g.mxm_planes // 2
    return max(1, (g.streams_per_direction - max(1, g.streams_per_direction // 16)) // half)


def layer_latencies(geometry: Geometry | None = None) -> dict:
    """The latency primitives of the model, from the geometry (cycles): VXM op, a value's trip from the VXM to a
    plane's pass (through a MEM home next to the VXM), a pass's result back to the VXM, the stagger."""
    return dict(_latencies(_geometry(geometry)))


@lru_cache(maxsize=64)
def _latencies(g: Geometry) -> tuple:
    return tuple(_latency_dict(g).items())


def _latency_dict(g: Geometry) -> dict:
    h = g.stream_hop_cycles
    d = (g.mem_slices_per_hemisphere + 2 + 0.5 * (g.mxm_planes // 2 - 1)) * h   # VXM ↔ plane, mean over planes
    home = h + g.mem_write_cycles + g.mem_read_cycles                           # keep in MEM_x0, read back
    return {"vxm": g.vxm_cycles, "home": home, "to_plane": home + d, "from_plane": g.mxm_pass_cycles + d + home,
            "pass": g.mxm_pass_cycles, "read": g.mem_read_cycles + h,
            "stagger": (g.superlanes - 1) * g.instr_stagger_cycles_per_superlane, "hop_plane": d}


def _pieces(nh, hd, vl: int):
    """Attention vectors' pieces: heads sit back to back in vl-lane vectors, and a head whose lanes straddle two
    vectors is passed twice — nh + the number of straddling heads (vectorized)."""
    nh, hd = np.broadcast_arrays(np.asarray(nh, dtype=np.int64), np.asarray(hd, dtype=np.int64))
    out = nh.copy()
    for d in np.unique(hd):
        d = int(d)
        period = vl // math.gcd(vl, d)
        straddle = ((np.arange(period) * d) % vl + d > vl).astype(np.int64)
        cum = np.concatenate([[0], np.cumsum(straddle)])
        sel = hd == d
        n = nh[sel]
        out[sel] = n + (n // period) * cum[-1] + cum[n % period]
    return out


def decoder_layer_cycles(hidden, heads, kv_heads, head_dim, intermediate, context, tp=1, *,
                         geometry: Geometry | None = None, weight_streams_per_plane: int | None = None,
                         group_tiles: int = 8) -> dict:
    """Cycles of one chip's share (tensor parallel over ``tp`` chips) of one decoder layer at batch 1.

    Arguments are the layer's full dimensions (scalars or NumPy arrays, broadcast together): ``hidden``,
    ``heads``, ``kv_heads``, ``head_dim``, ``intermediate`` (FFN width: for a mixture of experts, the active
    experts' total), ``context`` (cached tokens), ``tp`` (chips sharing the layer; heads/tp query heads,
    max(1, kv_heads/tp) KV heads and intermediate/tp FFN columns per chip). Returns a dict of arrays:

    ``cycles`` (total, incl. stagger), ``seconds``; the parts ``install_cycles`` (weight and KV rows streamed into
    the planes, per plane), ``pass_cycles`` (one per pass, per plane), ``chain_cycles`` (dependent chain the
    planes cannot hide), ``stagger_cycles``; ``weight_bytes`` and ``kv_bytes`` of the share, ``streamed_bytes``
    (rows × vector length), ``install_bytes_per_cycle`` (streamed bytes / cycles) and ``bound`` (0 = the weight
    install, 1 = the dependent chain is the larger part).
    """
    args = (hidden, heads, kv_heads, head_dim, intermediate, context, tp)
    if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args) and \
            (geometry is None or isinstance(geometry, Geometry)) and \
            (weight_streams_per_plane is None or isinstance(weight_streams_per_plane, (int, np.integer))) and \
            isinstance(group_tiles, (int, np.integer)) and not isinstance(group_tiles, bool):
        # scalar integers: a pure function of hashable inputs, memoized (a capacity sweep calls it per model)
        return dict(_cached(tuple(int(a) for a in args), geometry, weight_streams_per_plane, int(group_tiles)))
    return _layer_cycles(*args, geometry=geometry, weight_streams_per_plane=weight_streams_per_plane,
                         group_tiles=group_tiles)


@lru_cache(maxsize=4096)
def _cached(args: tuple, geometry, weight_streams_per_plane, group_tiles: int) -> tuple:
    out = _layer_cycles(*args, geometry=geometry, weight_streams_per_plane=weight_streams_per_plane,
                        group_tiles=group_tiles)
    for v in out.values():
        if isinstance(v, np.ndarray):
            v.setflags(write=False)
    return tuple(out.items())


def _layer_cycles(hidden, heads, kv_heads, head_dim, intermediate, context, tp=1, *,
                  geometry: Geometry | None = None, weight_streams_per_plane: int | None = None,
                  group_tiles: int = 8) -> dict:
    g = _geometry(geometry)
    planes = g.mxm_planes
    vl = g.vector_len
    S = _default_streams(g) if weight_streams_per_plane is None else check_int(
        "weight_streams_per_plane", weight_streams_per_plane, lo=1, hi=g.streams_per_direction)
    G = check_int("group_tiles", group_tiles, lo=1, hi=4096)
    H = check_array("hidden", hidden, lo=1, hi=2**20)
    nh_all = check_array("heads", heads, lo=1, hi=4096)
    nkv_all = check_array("kv_heads", kv_heads, lo=1, hi=4096)
    hd = check_array("head_dim", head_dim, lo=1, hi=vl)
    F_all = check_array("intermediate", intermediate, lo=1, hi=2**24)
    ctx = check_array("context", context, lo=1, hi=2**24)
    t = check_array("tp", tp, lo=1, hi=4096)
    for name, a in (("hidden", H), ("heads", nh_all), ("kv_heads", nkv_all), ("head_dim", hd),
                    ("intermediate", F_all), ("context", ctx), ("tp", t)):
        if np.any(a != np.round(a)):
            raise LabsimError(f"{name} must hold integers, got {a.ravel()[np.flatnonzero(a != np.round(a))[0]]:g}")
    H, nh_all, nkv_all, hd, F_all, ctx, t = np.broadcast_arrays(*(a.astype(np.int64) for a in
                                                                 (H, nh_all, nkv_all, hd, F_all, ctx, t)))
    if np.any(nh_all % t):
        raise LabsimError("tp must divide heads")
    lat = dict(_latencies(g))

    def L(rows):                                    # load cycles of a tile of ``rows`` weight vectors
        return -(-rows // S)

    def cdiv(a, b):
        return -(-a // b)

    def lg(n):
        return np.ceil(np.log2(np.maximum(n, 1))).astype(np.int64)

    nh = nh_all // t
    nkv = np.maximum(1, nkv_all // t)
    F = cdiv(F_all, t)
    Hc, Fc, B = cdiv(H, vl), cdiv(F, vl), cdiv(ctx, vl)
    hpv = np.maximum(1, vl // hd)
    kv_pairs = cdiv(nkv, hpv)
    n_att = cdiv(nh * hd, vl)
    last_H, last_F, last_B = H - (Hc - 1) * vl, F - (Fc - 1) * vl, ctx - (B - 1) * vl
    pieces = _pieces(nh, hd, vl)
    # ---- plane work (load + pass cycles, summed over the share's tiles) -----------------------------------
    inst = {
        "q": nh * Hc * L(hd), "kv": 2 * nkv * Hc * L(hd),
        "scores": kv_pairs * ((B - 1) * L(vl) + L(last_B)), "av": nkv * B * L(hd),
        "o": n_att * ((Hc - 1) * L(vl) + L(last_H)),
        "gate_up": 2 * Hc * ((Fc - 1) * L(vl) + L(last_F)), "down": Fc * ((Hc - 1) * L(vl) + L(last_H)),
    }
    passes = {"q": nh * Hc, "kv": 2 * nkv * Hc, "scores": nh * B, "av": B * pieces, "o": n_att * Hc,
              "gate_up": 2 * Hc * Fc, "down": Fc * Hc}
    work = {k: (inst[k] + passes[k]) / planes for k in inst}
    install = sum(inst.values()) / planes
    npass = sum(passes.values()) / planes
    # ---- dependent chain the planes cannot hide -----------------------------------------------------------
    V, to_p, from_p = lat["vxm"], lat["to_plane"], lat["from_plane"]

    def subgroups(n_in):
        return cdiv(n_in, G)

    norm = V * (2 + lg(Hc) + 2)                                    # x², Σ over chunks, requant, x·r, requant
    start = lat["read"] + norm + to_p
    q_done = from_p + V * (lg(subgroups(Hc)) + 1) + to_p          # last q partial → q head at a plane
    gap_q = np.maximum(0, q_done - L(vl) - work["kv"])             # k/v projections fill the wait
    # attention: every pair's scores, then the last pair's softmax and AV, then its attention vector
    per_pair_av = (np.minimum(hpv, nkv) * B * (L(hd) + 1) + B * np.minimum(hpv, nkv) * hpv) / planes
    att_chain = (work["scores"] + from_p + V * (lg(B) + 3) + to_p + per_pair_av + from_p
                 + V * (lg(2 * B) + 1) + to_p - L(vl))
    att = np.maximum(work["scores"] + work["av"], att_chain)

    def imbalance(n_jobs, phase_work):           # equal jobs on the planes, waited for at a barrier
        n_jobs = np.maximum(1, n_jobs)
        return (np.ceil(n_jobs / planes) - n_jobs / planes) * phase_work * planes / n_jobs
    barrier = (from_p + V * (lg(subgroups(n_att)) + 3) + norm + to_p - L(vl)
               + imbalance(Hc * subgroups(n_att), work["o"]))            # O → residual → RMSNorm → gate
    ffn_tail = np.maximum(0, from_p + V * (lg(subgroups(Hc)) + 4) + to_p - L(vl)
                          - work["down"] * (1 - 1 / np.maximum(1, subgroups(Fc))))
    tail = from_p + V * (lg(subgroups(Fc)) + 3) + lat["home"] + imbalance(Hc * subgroups(Fc), work["down"])
    serial = (start + work["q"] + work["kv"] + gap_q + att + work["o"] + barrier + work["gate_up"] + ffn_tail
              + work["down"] + tail)
    body = np.maximum(serial, install + npass)
    cycles = body + lat["stagger"]
    chain = cycles - lat["stagger"] - install - npass
    weight_bytes = H * hd * (2 * nh + 2 * nkv) + 3 * H * F
    kv_bytes = 2 * ctx * nkv * hd
    rows = (nh * Hc * hd + 2 * nkv * Hc * hd + kv_pairs * ctx + nkv * B * hd + n_att * H + 2 * Hc * F + Fc * H)
    tiles = (nh + 2 * nkv) * Hc + kv_pairs * B + nkv * B + n_att * Hc + 3 * Hc * Fc
    out = {"cycles": cycles, "seconds": cycles / g.clock_hz, "install_cycles": install, "pass_cycles": npass,
           "tiles": tiles,
           "chain_cycles": chain, "stagger_cycles": np.full_like(cycles, lat["stagger"]),
           "weight_bytes": weight_bytes, "kv_bytes": kv_bytes, "streamed_bytes": rows * vl,
           "install_bytes_per_cycle": rows * vl / cycles, "bound": (chain > install).astype(np.int64),
           "weight_streams_per_plane": S}
    return {k: (v if k == "weight_streams_per_plane" else np.asarray(v)) for k, v in out.items()}

