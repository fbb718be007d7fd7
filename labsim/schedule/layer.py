"""A decoder layer's share on one chip, at full size, scheduled with its weight traffic and simulated cycle by cycle.

Chapter 2's list scheduler handles small graphs; a full Llama 3.1 8B layer has ~2,600 weight tiles of 320 × 320
and ~220 MB of INT8 weights. This module schedules it the way a TSP compiler schedules a GEMV layer — weight
tiles streamed from MEM into the four MXM planes, one tile after another, activations kept in MEM next to the
VXM — and hands the program to :func:`labsim.tsp.simulate`, which checks every cycle (``values=False`` at full
size: the program does not carry 220 MB of weights; every stream slot, bank, issue slot, plane and element type
is still checked, and every operand is checked to be the value the scheduler meant). On small shapes the same
program runs with values and matches :func:`layer_reference` (NumPy).

Public: :class:`LayerShape`, :func:`layer_shape` (from the catalog), :func:`build_layer`, :func:`simulate_layer`,
:func:`layer_reference`, :func:`default_weight_streams`. Design and equations: docs/design/schedule.md.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import catalog
from ..errors import LabsimError, check_int
from ..tsp import Geometry, Program
from ._layer_sched import Job, Placer, Tile, Value, _requant, _wrap32

__all__ = ["LayerShape", "layer_shape", "build_layer", "layer_reference", "default_weight_streams", "LayerBuild",
           "streamed_rows"]

#: requantization scales of the stand-in operations (powers of two; any fixed values would do — the reference
#: uses the same ones). [A]: a real layer's scales come from calibration.
SCALES = {"norm_r": 2.0**-13, "norm_y": 2.0**-6, "q": 2.0**-9, "kv": 2.0**-9, "p": 2.0**-12, "a": 2.0**-10,
          "o": 2.0**-10, "g": 2.0**-9, "u": 2.0**-9, "act": 2.0**-6, "d": 2.0**-11}
#: tiles of one accumulation group run back to back on one plane; longer groups are split and their partial
#: sums added on the VXM (balances the planes at the end of a phase) [A]
GROUP_TILES = 8


@dataclass(frozen=True)
class LayerShape:
    """A decoder layer (dense attention + gated FFN) and the tensor-parallel share of it one chip runs.

    With ``tp`` chips per layer (Megatron split): QKV and gate/up are split by columns (heads, FFN width), O and
    down by rows, so each chip holds heads/tp query heads, max(1, kv_heads/tp) KV heads (replicated when tp >
    kv_heads) and intermediate/tp FFN columns. The all-reduces after O and down are chip-to-chip work, not
    simulated here."""
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    intermediate: int
    context: int
    tp: int = 1

    def __post_init__(self):
        check_int("hidden", self.hidden, lo=1, hi=65_536)
        check_int("heads", self.heads, lo=1, hi=1024)
        check_int("kv_heads", self.kv_heads, lo=1, hi=self.heads)
        check_int("head_dim", self.head_dim, lo=1, hi=1024)
        check_int("intermediate", self.intermediate, lo=1, hi=1_048_576)
        check_int("context", self.context, lo=1, hi=1_048_576)
        check_int("tp", self.tp, lo=1, hi=self.heads)
        if self.heads % self.kv_heads:
            raise LabsimError(f"heads = {self.heads} must be a multiple of kv_heads = {self.kv_heads}")
        if self.heads % self.tp:
            raise LabsimError(f"tp = {self.tp} must divide heads = {self.heads}")
        if self.tp <= self.kv_heads and self.kv_heads % self.tp:
            raise LabsimError(f"tp = {self.tp} must divide kv_heads = {self.kv_heads} (or exceed it)")

    @property
    def heads_share(self) -> int:
        return self.heads // self.tp

    @property
    def kv_share(self) -> int:
        return max(1, self.kv_heads // self.tp)

    @property
    def ffn_share(self) -> int:
        return -(-self.intermediate // self.tp)

    def weight_bytes(self) -> int:
        """INT8 weight bytes of the chip's share (Q, K, V, O, gate, up, down)."""
        H, hd = self.hidden, self.head_dim
        return H * hd * (2 * self.heads_share + 2 * self.kv_share) + 3 * H * self.ffn_share

    def kv_bytes(self) -> int:
        """INT8 bytes of the chip's share of the KV cache (K and V, ``context`` tokens)."""
        return 2 * self.context * self.kv_share * self.head_dim


def layer_shape(model: str = "llama-3.1-8b", *, tp: int = 1, context_tokens: int = 1024) -> LayerShape:
    """The :class:`LayerShape` of a catalog model (dense attention and FFN; MoE/MLA models: build one by hand)."""
    context_tokens = check_int("context_tokens", context_tokens, lo=1, hi=1_048_576)
    tp = check_int("tp", tp, lo=1, hi=4096)
    m = catalog.model(model)
    for f in ("hidden_size", "num_heads", "num_kv_heads", "intermediate_size"):
        if not getattr(m, f, None):
            raise LabsimError(f"model {model!r} has no {f}; layer_shape needs a dense attention + FFN layer")
    if getattr(m, "num_experts", 0) or getattr(m, "kv_lora_rank", 0):
        raise LabsimError(f"model {model!r} has a mixture of experts or latent attention; layer_shape covers dense "
                          f"layers — build a LayerShape by hand (e.g. intermediate = the active experts' width)")
    return LayerShape(hidden=m.hidden_size, heads=m.num_heads, kv_heads=m.num_kv_heads,
                      head_dim=m.head_dim or m.hidden_size // m.num_heads, intermediate=m.intermediate_size,
                      context=context_tokens, tp=tp)


def default_weight_streams(g: Geometry) -> int:
    """Weight streams per plane the published geometry allows: the streams of one direction shared by the planes
    of a hemisphere, less max(1, streams/16) kept for the VXM's outputs (faithful: (32 − 2) / 2 = 15)."""
    if not isinstance(g, Geometry):
        raise LabsimError(f"g must be a labsim.tsp.Geometry, got {type(g).__name__}")
    half = g.mxm_planes // 2
    return max(1, (g.streams_per_direction - max(1, g.streams_per_direction // 16)) // half)


def _geometry(geometry) -> Geometry:
    if geometry is None:
        return Geometry.faithful()
    if isinstance(geometry, str):
        if geometry not in ("faithful", "mini"):
            raise LabsimError(f"geometry = {geometry!r}; allowed: 'faithful', 'mini' or a Geometry")
        return getattr(Geometry, geometry)()
    if not isinstance(geometry, Geometry):
        raise LabsimError(f"geometry must be a labsim.tsp.Geometry, got {type(geometry).__name__}")
    return geometry


# ---------------------------------------------------------------------------------------------- tensors
class _Tensors:
    """The share's weights, KV cache and input (values mode) and the lane layout shared by build and reference."""

    def __init__(self, shape: LayerShape, g: Geometry, seed: int, values: bool):
        self.s, self.vl = shape, g.vector_len
        vl, hd = self.vl, shape.head_dim
        if hd > vl:
            raise LabsimError(f"head_dim = {hd} is out of range; allowed: at most the vector length {vl}")
        self.hpv = max(1, vl // hd)                      # heads (or KV groups) per vector
        self.nh, self.nkv, self.F, self.H = shape.heads_share, shape.kv_share, shape.ffn_share, shape.hidden
        self.ratio = self.nh // self.nkv if self.nh >= self.nkv else 1
        self.Hc, self.Fc = -(-self.H // vl), -(-self.F // vl)
        self.blocks = -(-shape.context // vl)
        self.n_att = -(-self.nh * shape.head_dim // self.vl)   # attention output, heads back to back in vectors
        self.kv_pairs = -(-self.nkv // self.hpv)         # K vectors hold hpv KV groups
        self.values = values
        if values:
            rng = np.random.default_rng(seed)

            def w(*shp):
                return rng.integers(-8, 8, shp).astype(np.int8)
            self.Wq, self.Wk, self.Wv = w(self.nh * hd, self.H), w(self.nkv * hd, self.H), w(self.nkv * hd, self.H)
            self.Wo, self.Wg, self.Wu, self.Wd = w(self.H, self.nh * hd), w(self.F, self.H), w(self.F, self.H), \
                w(self.H, self.F)
            self.K, self.Vc = w(self.nkv, shape.context, hd), w(self.nkv, shape.context, hd)
            self.x = rng.integers(-60, 60, self.H).astype(np.int8)

    def group(self, h: int) -> int:
        return h // self.ratio if self.nh >= self.nkv else h

    def q_slot(self, h: int) -> int:
        return self.group(h) % self.hpv

    def o_pieces(self, h: int) -> list[tuple[int, int]]:
        """Where head h's output goes in the attention vectors (heads back to back, a head may straddle two
        vectors): [(vector, lane shift)], one entry per vector it touches."""
        a = h * self.s.head_dim
        v, o = divmod(a, self.vl)
        out = [(v, o)]
        if o + self.s.head_dim > self.vl:
            out.append((v + 1, o - self.vl))
        return out

    def chunk(self, vec, j: int) -> np.ndarray:
        out = np.zeros(self.vl, dtype=np.int64)
        part = np.asarray(vec[j * self.vl: (j + 1) * self.vl], dtype=np.int64)
        out[: part.size] = part
        return out

    # tile data: rows × vl int8 (None in timing mode)
    def _tile(self, rows_fn, rows: int):
        if not self.values:
            return None
        t = np.zeros((rows, self.vl), dtype=np.int8)
        for r in range(rows):
            rows_fn(t[r], r)
        return t

    def proj_tile(self, W, row0: int, rows: int, j: int):
        def fill(dst, r):
            part = W[row0 + r, j * self.vl: (j + 1) * self.vl]
            dst[: part.size] = part
        return self._tile(fill, rows)

    def k_tile(self, pair: int, b: int, rows: int):
        hd = self.s.head_dim

        def fill(dst, r):
            for g in range(pair * self.hpv, min(self.nkv, (pair + 1) * self.hpv)):
                dst[(g % self.hpv) * hd: (g % self.hpv) * hd + hd] = self.K[g, b * self.vl + r]
        return self._tile(fill, rows)

    def v_tile(self, g: int, b: int):
        n = min(self.vl, self.s.context - b * self.vl)

        def fill(dst, r):
            dst[:n] = self.Vc[g, b * self.vl: b * self.vl + n, r]
        return self._tile(fill, self.s.head_dim)

def _groups(n: int, size: int):
    return [list(range(a, min(n, a + size))) for a in range(0, n, size)]


# ---------------------------------------------------------------------------------------------- the layer
class LayerBuild:
    """A scheduled layer: the program, what every operand should read, and the bookkeeping for the report."""

    def __init__(self, shape: LayerShape, g: Geometry, weight_streams_per_plane: int, group_tiles: int,
                 values: bool, seed: int):
        self.shape, self.g, self.values = shape, g, values
        self.T = T = _Tensors(shape, g, seed, values)
        self.P = Placer(g, weight_streams_per_plane)
        self.S = weight_streams_per_plane
        self.group_tiles = group_tiles
        self.jobs, self.tasks = [], []
        self.waiting = {}                        # value name -> [jobs/tasks waiting for it]
        self.missing = {}                        # id(job/task) -> inputs not yet known
        self.stores = {}                         # name -> Value (the layer's results)
        self._n_merge = 0
        vl, hd = g.vector_len, shape.head_dim
        # the input x: kept next to the VXM (west), preloaded
        self.x = [self._preloaded(f"x[{j}]", T.chunk(T.x, j) if values else None) for j in range(T.Hc)]
        xn = [Value(f"xn[{j}]", "int8") for j in range(T.Hc)]
        self._task("norm1", self.x, xn, lambda: self._norm(self.x, xn, "xn"))
        # Q, K, V projections: one vector per head; accumulation groups of ≤ group_tiles input chunks
        q = [Value(f"q[{h}]", "int8") for h in range(T.nh)]
        for h in range(T.nh):
            self._gemv(f"q.h{h}", (0, 0, h), xn, lambda j, h=h: T.proj_tile(T.Wq, h * hd, hd, j) if values else None,
                       hd, q[h], lambda v, out: self._then(v, out, [("requant", SCALES["q"])], ("W", "E")),
                       shift=T.q_slot(h) * hd, phase="qkv")
        for which, W in (("k", "Wk"), ("v", "Wv")):
            for gi in range(T.nkv):
                out = Value(f"{which}_new[{gi}]", "int8")
                self.stores[out.name] = out
                out.keep = True
                self._gemv(f"{which}.g{gi}", (0, 1, gi), xn,
                           lambda j, gi=gi, W=W: T.proj_tile(getattr(T, W), gi * hd, hd, j) if values else None, hd,
                           out, lambda v, o: self._then(v, o, [("requant", SCALES["kv"])], ("W",)), phase="qkv")
        # attention: scores = K_pair · q_h per 320-token block; softmax stand-in; AV with V^T tiles per group
        scores = {(h, b): Value(f"s[{h},{b}]", "int32") for h in range(T.nh) for b in range(T.blocks)}
        probs = {(h, b): Value(f"p[{h},{b}]", "int8") for h in range(T.nh) for b in range(T.blocks)}
        for pair in range(T.kv_pairs):
            heads = [h for h in range(T.nh) if T.group(h) // T.hpv == pair]
            for b in range(T.blocks):
                rows = min(vl, shape.context - b * vl)
                real = rows * hd * len({T.group(h) for h in heads})
                tile = Tile(rows, real, "kv", [(q[h], scores[(h, b)], 0) for h in heads],
                            T.k_tile(pair, b, rows) if values else None)
                self._job(f"scores.{pair}.{b}", [tile], (1, pair, b), "attention", [q[h] for h in heads],
                          [scores[(h, b)] for h in heads])
        for h in range(T.nh):
            ins = [scores[(h, b)] for b in range(T.blocks)]
            outs = [probs[(h, b)] for b in range(T.blocks)]
            self._task(f"softmax.h{h}", ins, outs, lambda m, ins=ins, outs=outs: self._softmax(ins, m, outs),
                       reduce="max")
        # AV: one pass per (head, block) and attention vector the head's output lands in (shifted into place)
        opart = {(h, b, v): Value(f"o[{h},{b},{v}]", "int32") for h in range(T.nh) for b in range(T.blocks)
                 for v, _sh in T.o_pieces(h)}
        for gi in range(T.nkv):
            heads = [h for h in range(T.nh) if T.group(h) == gi]
            for b in range(T.blocks):
                n_tok = min(vl, shape.context - b * vl)
                passes = [(probs[(h, b)], opart[(h, b, v)], sh) for h in heads for v, sh in T.o_pieces(h)]
                tile = Tile(hd, hd * n_tok, "kv", passes, T.v_tile(gi, b) if values else None)
                self._job(f"av.{gi}.{b}", [tile], (2, gi, b), "attention", [probs[(h, b)] for h in heads],
                          [p[1] for p in passes])
        att = [Value(f"a[{k}]", "int8") for k in range(T.n_att)]
        for k in range(T.n_att):
            ins = [o for (h, b, v), o in opart.items() if v == k]
            self._task(f"attn_out.{k}", ins, [att[k]],
                       lambda v, k=k: self._then(v, att[k], [("requant", SCALES["a"])], ("W", "E")), reduce="add")
        # O projection, residual, norm, FFN, down projection, residual
        hres = [Value(f"h[{j}]", "int8") for j in range(T.Hc)]
        for j in range(T.Hc):
            rows = min(vl, T.H - j * vl)
            self._gemv(f"o.{j}", (3, j), att, lambda k, j=j, rows=rows: T.proj_tile(T.Wo, j * vl, rows, k)
                       if values else None, rows, hres[j],
                       lambda v, out, j=j: self._residual(v, out, self.x[j], SCALES["o"], ("W",)),
                       phase="o", in_dim=T.nh * hd, needs=[self.x[j]])
        hn = [Value(f"hn[{j}]", "int8") for j in range(T.Hc)]
        self._task("norm2", hres, hn, lambda: self._norm(hres, hn, "hn"))
        act = [Value(f"act[{f}]", "int8") for f in range(T.Fc)]
        for f in range(T.Fc):
            rows = min(vl, T.F - f * vl)
            gsum, usum = Value(f"g[{f}]", "int8"), Value(f"u[{f}]", "int8")
            self._gemv(f"gate.{f}", (4, f, 0), hn, lambda j, f=f, rows=rows: T.proj_tile(T.Wg, f * vl, rows, j)
                       if values else None, rows, gsum,
                       lambda v, out: self._then(v, out, [("relu", None), ("requant", SCALES["g"])],
                                                 self.P.side()), phase="ffn")
            self._gemv(f"up.{f}", (4, f, 1), hn, lambda j, f=f, rows=rows: T.proj_tile(T.Wu, f * vl, rows, j)
                       if values else None, rows, usum,
                       lambda v, out: self._then(v, out, [("requant", SCALES["u"])], self.P.side()),
                       phase="ffn")
            self._task(f"act.{f}", [gsum, usum], [act[f]],
                       lambda gs=gsum, us=usum, f=f: self._act(gs, us, act[f]))
        for j in range(T.Hc):
            rows = min(vl, T.H - j * vl)
            out = Value(f"out[{j}]", "int8", keep=True)
            self.stores[out.name] = out
            self._gemv(f"down.{j}", (5, j), act, lambda f, j=j, rows=rows: T.proj_tile(T.Wd, j * vl, rows, f)
                       if values else None, rows, out,
                       lambda v, o, j=j: self._residual(v, o, hres[j], SCALES["d"], ("W",)), phase="ffn",
                       in_dim=T.F, rank_by_group=True, needs=[hres[j]])

    # ---------------------------------------------------------------- graph construction
    def _preloaded(self, name, ref):
        P = self.P
        v = Value(name, "int8", ref=ref, known=True)
        for nm, bank in P.mem.act_banks("W"):
            addr = P.mem.act_address((nm, bank))
            if addr is not None:
                v.homes["W"] = (P.idx[nm], nm, bank, addr, 0, -1)
                return v
        raise LabsimError("no activation memory left for the layer input")   # pragma: no cover

    def _task(self, name, inputs, outputs, fn, reduce=None, needs=()):
        """VXM work that runs once its inputs (and ``needs``) are known. With ``reduce`` ("add"/"max") the inputs
        are combined as they become known (pairwise, earliest first) and ``fn`` gets the result."""
        t = {"name": name, "inputs": list(inputs) + list(needs), "outputs": outputs, "fn": fn, "kind": "task",
             "reduce": reduce, "pool": [v for v in inputs if v.known], "reduced": {id(v) for v in inputs}}
        self._register(t, t["inputs"])
        self.tasks.append(t)

    def _job(self, name, tiles, rank, phase, inputs, outputs):
        j = Job(name, tiles, rank, phase, list(inputs), list(outputs))
        self._register(j, inputs)
        self.jobs.append(j)
        return j

    def _register(self, item, inputs):
        for v in {id(v): v for v in inputs}.values():
            v.uses += 1
        names = {v.name for v in inputs if not v.known}
        self.missing[id(item)] = names
        for n in names:
            self.waiting.setdefault(n, []).append(item)

    def _gemv(self, name, rank, xs, tile_fn, rows, out, finish, *, shift=0, phase="", real_cols=None,
              in_dim=None, rank_by_group=False, needs=()):
        """y (rows outputs) = Σ_k W_k · xs[k]: accumulation groups of ≤ group_tiles tiles, partials summed on the
        VXM by ``finish(parts, out)``."""
        vl = self.g.vector_len
        parts = []
        for gi, ks in enumerate(_groups(len(xs), self.group_tiles)):
            part = Value(f"{name}.part{gi}", "int32")
            tiles = []
            for i, k in enumerate(ks):
                cols = real_cols(k) if real_cols else min(vl, (in_dim or self.T.H) - k * vl)
                last = i == len(ks) - 1
                tiles.append(Tile(rows, rows * cols, "weight", [(xs[k], part if last else None, shift if last else 0)],
                                  tile_fn(k)))
            r = (rank[0], gi) + tuple(rank[1:]) if rank_by_group else tuple(rank) + (gi,)
            self._job(f"{name}.g{gi}", tiles, r, phase, [xs[k] for k in ks], [part])
            parts.append(part)
        self._task(f"{name}.finish", parts, [out], lambda v: finish(v, out), reduce="add", needs=needs)

    # ---------------------------------------------------------------- VXM stand-ins (values: layer_reference)
    def _reduce(self, vals, op, name):
        P = self.P
        pool = sorted(vals, key=P._avail)
        k = 0
        while len(pool) > 1:
            a, b = pool.pop(0), pool.pop(0)
            out = Value(f"{name}.{op}{k}", "int32")
            k += 1
            P.vxm_op(op, [a, b], out, P.side())
            pool.append(out)
            pool.sort(key=P._avail)
        return pool[0]

    def _merge(self, pool, op, name):
        """Combine the two earliest-available values of ``pool`` while it holds two or more."""
        P = self.P
        while len(pool) > 1:
            pool.sort(key=P._avail)
            a, b = pool.pop(0), pool.pop(0)
            self._n_merge += 1
            out = Value(f"{name}.{op}{self._n_merge}", "int32", uses=1)     # read by the next merge or the task
            P.vxm_op(op, [a, b], out, P.side())
            for v in (a, b):
                if v.name.startswith(name + "."):                         # an earlier partial result
                    v.uses -= 1
                    if v.uses == 0:
                        P.free(v)
            pool.append(out)

    def _then(self, v, out, ops, sides):
        P = self.P
        for i, (op, sc) in enumerate(ops):
            last = i == len(ops) - 1
            nxt = out if last else Value(f"{out.name}.{op}", "int32")
            P.vxm_op(op, [v], nxt, sides if last else P.side(), scale=sc)
            v = nxt

    def _residual(self, v, out, skip, scale, sides):
        P = self.P
        d = Value(f"{out.name}.q", "int8")
        self._then(v, d, [("requant", scale)], P.side())
        s = Value(f"{out.name}.sum", "int32")
        P.vxm_op("add", [d, skip], s, P.side())
        P.vxm_op("requant", [s], out, sides, scale=0.5)

    def _norm(self, xs, ys, name):
        P = self.P
        sq = []
        for j, x in enumerate(xs):
            v = Value(f"{name}.sq{j}", "int32")
            P.vxm_op("mul", [x, x], v, P.side())
            sq.append(v)
        self._merge(sq, "add", f"{name}.ss")
        ss = sq[0]
        r = Value(f"{name}.r", "int8")
        P.vxm_op("requant", [ss], r, P.side(), scale=SCALES["norm_r"])
        for j, x in enumerate(xs):
            m = Value(f"{name}.m{j}", "int32")
            P.vxm_op("mul", [x, r], m, P.side())
            P.vxm_op("requant", [m], ys[j], ("W", "E"), scale=SCALES["norm_y"])

    def _softmax(self, ss, m, ps):
        P = self.P
        for s, p in zip(ss, ps, strict=False):
            a = Value(f"{p.name}.add", "int32")
            P.vxm_op("add", [s, m], a, P.side())
            r = Value(f"{p.name}.relu", "int32")
            P.vxm_op("relu", [a], r, P.side())
            P.vxm_op("requant", [r], p, ("W", "E"), scale=SCALES["p"])

    def _act(self, gs, us, out):
        P = self.P
        m = Value(f"{out.name}.mul", "int32")
        P.vxm_op("mul", [gs, us], m, P.side())
        P.vxm_op("requant", [m], out, ("W", "E"), scale=SCALES["act"])

    # ---------------------------------------------------------------- scheduling loop
    def schedule(self) -> None:
        P = self.P
        pending_tasks = [t for t in self.tasks if not self.missing[id(t)]]
        ready_jobs = [j for j in self.jobs if not self.missing[id(j)]]
        left = len(self.jobs)
        done_tasks = 0

        def known(vals, newly):
            touched = {}
            for v in vals:
                v.known = True
                for item in self.waiting.pop(v.name, ()):
                    miss = self.missing[id(item)]
                    miss.discard(v.name)
                    if isinstance(item, dict) and item["reduce"] and id(v) in item["reduced"]:
                        item["pool"].append(v)
                        touched[id(item)] = item
                    if not miss:
                        newly.append(item)
            for item in touched.values():           # combine what has arrived, as it arrives
                self._merge(item["pool"], item["reduce"], item["name"])

        def run_tasks():
            nonlocal done_tasks
            while pending_tasks:
                pending_tasks.sort(key=lambda t: max([P._avail(v) for v in (t["pool"] if t["reduce"] else
                                                                             t["inputs"])] + [0]))
                t = pending_tasks.pop(0)
                if t["reduce"]:
                    self._merge(t["pool"], t["reduce"], t["name"])
                    t["fn"](t["pool"][0])
                    r = t["pool"][0]
                    if r.name.startswith(t["name"] + "."):
                        r.uses -= 1
                        if r.uses == 0:
                            P.free(r)
                else:
                    t["fn"]()
                self._release(t["inputs"], t["outputs"])
                done_tasks += 1
                newly = []
                known(t["outputs"], newly)
                for it in newly:
                    (pending_tasks if isinstance(it, dict) else ready_jobs).append(it)

        run_tasks()
        while left:
            if not ready_jobs:
                raise LabsimError("layer schedule deadlock: no job is ready")   # pragma: no cover
            plane = min(P.plane_free, key=lambda nm: (P.plane_free[nm], nm))
            T0 = P.plane_free[plane]
            ready_jobs.sort(key=lambda j: j.rank)
            pick = None
            for j in ready_jobs:
                if P.job_bound(j, plane) <= T0:
                    pick = j
                    break
            if pick is None:
                pick = min(ready_jobs, key=lambda j: (P.job_bound(j, plane), j.rank))
            ready_jobs.remove(pick)
            P.place_job(pick, plane)
            self._release(pick.inputs, pick.outputs)
            left -= 1
            newly = []
            known(pick.outputs, newly)
            for it in newly:
                (pending_tasks if isinstance(it, dict) else ready_jobs).append(it)
            run_tasks()
        if done_tasks != len(self.tasks):   # pragma: no cover
            raise LabsimError("layer schedule left operations unplaced")

    def _release(self, inputs, outputs) -> None:
        """After placing a job or an operation: inputs with no reader left, and intermediates made on the way,
        give their MEM back."""
        P = self.P
        for v in {id(v): v for v in inputs}.values():
            v.uses -= 1
            if v.uses == 0:
                P.free(v)
        outs = {id(v) for v in outputs}
        for v in P.take_homed():
            if v.uses == 0 and id(v) not in outs and not v.keep and v.known:
                P.free(v)

    # ---------------------------------------------------------------- program
    def program(self) -> Program:
        P, g = self.P, self.g
        prog = Program(g, f"decoder layer share (tp={self.shape.tp}, context {self.shape.context})")
        prog.extend(P.ins)
        for (nm, bank), rows in P.weight_preload.items():
            n = max(rows) + 1
            if self.values:
                data = np.zeros((n, g.vector_len), dtype=np.int8)
                for a, row in rows.items():
                    data[a] = row
                prog.preload_block(nm, bank, 0, data)
            else:
                prog.preload_block(nm, bank, 0, None, count=n, dtype="int8")
        for v in self.x:
            _m, nm, bank, addr, _r, _w = v.homes["W"]
            if self.values:
                prog.preload(nm, bank, addr, v.ref.astype(np.int8))
            else:
                prog.preload_block(nm, bank, addr, None, count=1, dtype="int8")
        return prog


def build_layer(shape: LayerShape, geometry: Geometry | str | None = None, *,
                weight_streams_per_plane: int | None = None, group_tiles: int = GROUP_TILES, values: bool = False,
                seed: int = 0) -> LayerBuild:
    """Schedule one chip's share of a decoder layer (default geometry: faithful). ``values=True`` also makes the
    weights, KV cache and input (seeded), so the program can be simulated with values and compared with
    :func:`layer_reference` (small shapes only)."""
    if not isinstance(shape, LayerShape):
        raise LabsimError(f"shape must be a LayerShape (see layer_shape), got {type(shape).__name__}")
    g = _geometry(geometry)
    half = g.mxm_planes // 2
    S = default_weight_streams(g) if weight_streams_per_plane is None else \
        check_int("weight_streams_per_plane", weight_streams_per_plane, lo=1, hi=(g.streams_per_direction - 1) // half)
    group_tiles = check_int("group_tiles", group_tiles, lo=1, hi=4096)
    seed = check_int("seed", seed, lo=0, hi=2**63 - 1)
    if not isinstance(values, (bool, np.bool_)):
        raise LabsimError(f"values must be True or False, got {values!r}")
    tiles = _tile_estimate(shape, g)
    if tiles > 200_000:
        raise LabsimError(f"the share has about {tiles:,} weight tiles; at most 200,000 (raise tp or shorten the "
                          f"context)")
    need = streamed_rows(shape, g)
    act_words = max(16, g.mem_words_per_bank // 128)
    room = 2 * g.mem_slices_per_hemisphere * g.mem_banks_per_slice * (g.mem_words_per_bank - act_words)
    if need > room:
        raise LabsimError(f"the share's weights and KV cache do not fit in one chip's SRAM: {need:,} rows of "
                          f"{g.vector_len} B in this scheduler's layout ({need * g.vector_len / 1e6:,.1f} MB) > "
                          f"{room:,} rows ({room * g.vector_len / 1e6:,.1f} MB, after {act_words} addresses per bank "
                          f"for activations); use a larger tp or a shorter context")
    if values and shape.weight_bytes() + shape.kv_bytes() > 64 * 2**20:
        raise LabsimError("values=True carries every weight in the program; use it for shapes under 64 MiB "
                          "(full size: values=False)")
    b = LayerBuild(shape, g, S, group_tiles, bool(values), seed)
    b.schedule()
    return b


def streamed_rows(shape: LayerShape, g: Geometry) -> int:
    """Weight and KV vectors the share streams into the planes in this scheduler's layout (each takes one MEM
    address): per-head Q/K/V rows, K tiles of hpv KV groups per 320-token block, Vᵀ tiles per group and block,
    O over attention vectors with heads back to back, gate/up/down over 320-lane chunks."""
    vl, hd, H = g.vector_len, shape.head_dim, shape.hidden
    c = math.ceil
    nh, nkv, F = shape.heads_share, shape.kv_share, shape.ffn_share
    hpv = max(1, vl // hd)
    Hc, Fc, B = c(H / vl), c(F / vl), c(shape.context / vl)
    return int(nh * Hc * hd + 2 * nkv * Hc * hd + c(nkv / hpv) * shape.context + nkv * B * hd
               + c(nh * hd / vl) * H + 2 * Hc * F + Fc * H)


def _tile_estimate(shape: LayerShape, g: Geometry) -> int:
    vl = g.vector_len
    c = math.ceil
    H, F = shape.hidden, shape.ffn_share
    return (c(H / vl) * (shape.heads_share + 2 * shape.kv_share) + 3 * c(H / vl) * c(F / vl)
            + 2 * shape.kv_share * c(shape.context / vl) + c(H / vl) * c(shape.heads_share * shape.head_dim / vl))


def layer_reference(build: LayerBuild) -> dict:
    """The layer's stored results computed in NumPy from the same tensors (values mode): {name: int8 vector}."""
    if not isinstance(build, LayerBuild) or not build.values:
        raise LabsimError("layer_reference needs a LayerBuild made with values=True")
    T = build.T
    vl, hd, H = T.vl, T.s.head_dim, T.H
    x = [T.chunk(T.x, j) for j in range(T.Hc)]

    def norm(vs):
        sq = [_wrap32(v * v) for v in vs]
        ss = _wrap32(np.sum(sq, axis=0))
        r = _requant(ss, SCALES["norm_r"])
        return [_requant(_wrap32(v * r), SCALES["norm_y"]) for v in vs]

    def mat(W, row0, rows, xs_full):     # rows of W applied to the full input vector, as lanes 0..rows-1
        out = np.zeros(vl, dtype=np.int64)
        out[:rows] = W[row0: row0 + rows].astype(np.int64) @ xs_full
        return _wrap32(out)

    xn = norm(x)
    xn_full = np.concatenate(xn)[: H]
    res = {}
    q = []
    for h in range(T.nh):
        v = mat(T.Wq, h * hd, hd, xn_full)
        q.append(_requant(np.roll(v, T.q_slot(h) * hd), SCALES["q"]))
    for gi in range(T.nkv):
        res[f"k_new[{gi}]"] = _requant(mat(T.Wk, gi * hd, hd, xn_full), SCALES["kv"])
        res[f"v_new[{gi}]"] = _requant(mat(T.Wv, gi * hd, hd, xn_full), SCALES["kv"])
    o_head = []
    for h in range(T.nh):
        gi = T.group(h)
        s = []
        for b in range(T.blocks):
            n = min(vl, T.s.context - b * vl)
            sc = np.zeros(vl, dtype=np.int64)
            qv = q[h][T.q_slot(h) * hd: T.q_slot(h) * hd + hd]
            sc[:n] = T.K[gi, b * vl: b * vl + n].astype(np.int64) @ qv
            s.append(_wrap32(sc))
        m = s[0]
        for v in s[1:]:
            m = np.maximum(m, v)
        p = [_requant(np.maximum(_wrap32(v + m), 0), SCALES["p"]) for v in s]
        acc = np.zeros(hd, dtype=np.int64)
        for b in range(T.blocks):
            n = min(vl, T.s.context - b * vl)
            acc = _wrap32(acc + T.Vc[gi, b * vl: b * vl + n].astype(np.int64).T @ p[b][:n])
        o_head.append(acc)
    a_full = np.concatenate(o_head)                       # heads back to back
    att = [_requant(T.chunk(a_full, k), SCALES["a"]) for k in range(T.n_att)]
    a_in = np.concatenate(att)[: T.nh * hd]
    hres = []
    for j in range(T.Hc):
        rows = min(vl, H - j * vl)
        d = _requant(mat(T.Wo, j * vl, rows, a_in), SCALES["o"])
        hres.append(_requant(_wrap32(d + x[j]), 0.5))
    hn = norm(hres)
    hn_full = np.concatenate(hn)[: H]
    act = []
    for f in range(T.Fc):
        rows = min(vl, T.F - f * vl)
        gv = _requant(np.maximum(mat(T.Wg, f * vl, rows, hn_full), 0), SCALES["g"])
        uv = _requant(mat(T.Wu, f * vl, rows, hn_full), SCALES["u"])
        act.append(_requant(_wrap32(gv * uv), SCALES["act"]))
    act_full = np.concatenate(act)[: T.F]
    for j in range(T.Hc):
        rows = min(vl, H - j * vl)
        d = _requant(mat(T.Wd, j * vl, rows, act_full), SCALES["d"])
        res[f"out[{j}]"] = _requant(_wrap32(d + hres[j]), 0.5)
    return {k: v.astype(np.int8) for k, v in res.items()}
