"""Graph builders: chapter 2's example, an MLP, a decoder layer scaled to the chip, random graphs, and a
hand-written program with a stream conflict (for the exercises)."""
from __future__ import annotations

import math

import numpy as np

from .. import catalog
from ..errors import LabsimError, check_int
from ..tsp import Geometry, Program, as_stream
from .graph import Graph

__all__ = ["mlp_graph", "decoder_layer_dims", "decoder_layer_graph", "example_graph", "stream_conflict_example",
           "random_graph"]

#: mlp_graph's largest side, in vectors (16 → at most 256 weight tiles per layer: seconds to schedule)
MAX_MLP_VECTORS = 16
#: random_graph's largest sizes
MAX_RANDOM_OPS, MAX_RANDOM_INPUTS = 500, 100


def _scale_for(k: int) -> float:
    """A power-of-two requantization scale that keeps int8 × int8 sums over k terms inside int8 [A]."""
    return 2.0 ** -math.ceil(math.log2(math.sqrt(k) * 12.0))


def mlp_graph(geometry: Geometry | None = None, *, d_in: int | None = None, d_hidden: int | None = None,
              d_out: int | None = None, seed: int = 0, name: str = "mlp") -> Graph:
    """A dense two-layer MLP at batch 1: y = requant(W2 · requant(relu(W1 · x))), int8, random seeded weights.

    Defaults on `mini`: 128 → 256 → 128 (2, 4, 2 vectors). Dimensions must be multiples of the vector length.
    """
    g = Graph(geometry, name)
    vl = g.vl
    d_in = 2 * vl if d_in is None else check_int("d_in", d_in, lo=vl, hi=MAX_MLP_VECTORS * vl)
    d_hidden = 4 * vl if d_hidden is None else check_int("d_hidden", d_hidden, lo=vl, hi=MAX_MLP_VECTORS * vl)
    d_out = 2 * vl if d_out is None else check_int("d_out", d_out, lo=vl, hi=MAX_MLP_VECTORS * vl)
    for nm, v in (("d_in", d_in), ("d_hidden", d_hidden), ("d_out", d_out)):
        if v % vl:
            raise LabsimError(f"{nm} = {v} must be a multiple of the vector length {vl}")
    rng = np.random.default_rng(check_int("seed", seed, lo=0))
    x = rng.integers(-32, 32, d_in).astype(np.int8)
    W1 = rng.integers(-16, 16, (d_hidden, d_in)).astype(np.int8)
    W2 = rng.integers(-16, 16, (d_out, d_hidden)).astype(np.int8)
    xs = g.load_tensor(x, "x")
    h = g.linear(xs, W1, scale=_scale_for(d_in), relu=True, name="fc1")
    y = g.linear(h, W2, scale=_scale_for(d_hidden), name="fc2")
    for i, v in enumerate(y):
        g.store(v, f"y[{i}]")
    return g


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def decoder_layer_dims(model: str = "llama-3.1-8b", geometry: Geometry | None = None) -> dict:
    """A catalog model's decoder-layer shape scaled to ``geometry`` (default `mini`), and the full-size shape.

    Scaled: hidden = 2 vectors; the query heads per KV head (the grouped-query ratio) are the model's — one KV
    head with ``ratio`` query heads (two KV heads of one query head each for multi-head attention), so that
    head_dim = hidden / heads is a fraction of a vector (mini: 4 heads of 32 lanes for Llama 3.1 8B's 4:1); the
    FFN keeps the model's intermediate/hidden ratio rounded to whole vectors; context = 1 vector of cached
    tokens. If the ratio does not divide 2 vectors' lanes, the nearest ratio that does is used and
    ``gqa_ratio_kept`` is False. The model's numbers come from the catalog (``catalog.model(model)``).
    """
    if model is None:
        model = "llama-3.1-8b"
    g = Geometry.mini() if geometry is None else geometry
    if not isinstance(g, Geometry):
        raise LabsimError(f"geometry must be a labsim.tsp.Geometry, got {type(geometry).__name__}")
    m = catalog.model(model)
    for f in ("hidden_size", "intermediate_size", "num_heads", "num_kv_heads"):
        if not getattr(m, f, None):
            raise LabsimError(f"model {model!r} has no {f}; decoder_layer_dims needs a dense attention layer")
    vl = g.vector_len
    hidden = 2 * vl
    ratio = m.num_heads / m.num_kv_heads
    ok = [d for d in _divisors(hidden) if hidden // d >= 1 and d <= hidden]
    if ratio >= 2:
        heads = min(ok, key=lambda d: (abs(d - ratio), d))
        kv = 1
    else:                                    # multi-head attention: two KV heads with one query head each
        heads = kv = 2
    head_dim = hidden // heads
    if head_dim > vl:                        # keep every head inside one vector
        heads, kv = 2 * heads, 2 * kv
        head_dim = hidden // heads
    ffn = max(1, round(m.intermediate_size / m.hidden_size * 2)) * vl
    return {"model": model, "hidden": hidden, "head_dim": head_dim, "heads": heads, "kv_heads": kv,
            "gqa_ratio": heads // kv, "gqa_ratio_kept": heads // kv == ratio, "intermediate": ffn, "context": vl,
            "full_hidden": m.hidden_size, "full_intermediate": m.intermediate_size, "full_heads": m.num_heads,
            "full_kv_heads": m.num_kv_heads, "full_head_dim": m.head_dim or m.hidden_size // m.num_heads}


def decoder_layer_graph(model: str = "llama-3.1-8b", geometry: Geometry | None = None, *, seed: int = 0,
                        name: str = "decoder") -> Graph:
    """One transformer decoder layer at batch 1 (decode step) with the shape of ``model`` scaled to ``geometry``
    (:func:`decoder_layer_dims`).

    x → [norm ≈ requant] → per head: Q, K, V projections (one output vector per head, head_dim lanes) → per
    query head: scores = K_cache · q (matvec with the cached keys as weights), [softmax ≈ ReLU + requant],
    out = V_cacheᵀ · p → O projection (one input chunk per head) → residual add → [norm ≈ requant] → gate and up
    projections → gate ⊙ up [SiLU ≈ ReLU] → down projection → residual add → store. Grouped-query attention:
    query head h uses KV head h // ratio. The new token's K and V are computed and stored (not appended).
    """
    dims = decoder_layer_dims(model, geometry)
    g = Graph(geometry, name)
    rng = np.random.default_rng(check_int("seed", seed, lo=0))
    H, F, hd, nh, nkv, ctx = (dims["hidden"], dims["intermediate"], dims["head_dim"], dims["heads"],
                              dims["kv_heads"], dims["context"])
    vl = g.vl

    def w(o, i):
        return rng.integers(-16, 16, (o, i)).astype(np.int8)

    x = g.load_tensor(rng.integers(-32, 32, H).astype(np.int8), "x")
    q = [g.linear(x, w(hd, H), scale=_scale_for(H), name=f"q_proj.h{h}")[0] for h in range(nh)]
    k = [g.linear(x, w(hd, H), scale=_scale_for(H), name=f"k_proj.g{j}")[0] for j in range(nkv)]
    v = [g.linear(x, w(hd, H), scale=_scale_for(H), name=f"v_proj.g{j}")[0] for j in range(nkv)]
    for j in range(nkv):
        g.store(k[j], f"k_new[{j}]")
        g.store(v[j], f"v_new[{j}]")
    K_cache = [w(ctx, hd) for _ in range(nkv)]            # cached keys per KV head (ctx × head_dim)
    V_cache = [w(ctx, hd) for _ in range(nkv)]
    heads_out = []
    for h in range(nh):
        kvh = h * nkv // nh                                # grouped-query attention: heads share a KV head
        s = g.linear([q[h]], K_cache[kvh], scale=_scale_for(hd), relu=True, name=f"scores.h{h}")  # softmax ≈ relu
        o = g.linear(s, V_cache[kvh].T.copy(), scale=_scale_for(ctx), name=f"attn_v.h{h}")
        heads_out += o                                     # one vector per head, head_dim lanes used
    Wo = w(H, nh * hd)
    Wo_chunks = np.zeros((H, nh * vl), dtype=np.int8)      # head h's columns sit in input chunk h
    for h in range(nh):
        Wo_chunks[:, h * vl: h * vl + hd] = Wo[:, h * hd: (h + 1) * hd]
    a = g.linear(heads_out, Wo_chunks, name="o_proj")                     # int32
    aq = [g.requant(ai, _scale_for(nh * hd), f"o_proj.q[{i}]") for i, ai in enumerate(a)]
    h1 = [g.requant(g.add(ai, xi, f"resid1[{i}]"), 0.5, f"resid1.q[{i}]")
          for i, (ai, xi) in enumerate(zip(aq, x, strict=True))]
    gate = g.linear(h1, w(F, H), scale=_scale_for(H), relu=True, name="gate_proj")     # SiLU ≈ ReLU
    up = g.linear(h1, w(F, H), scale=_scale_for(H), name="up_proj")
    act = [g.requant(g.mul(gi, ui, f"gate*up[{i}]"), 1 / 64, f"act.q[{i}]")
           for i, (gi, ui) in enumerate(zip(gate, up, strict=True))]
    down = g.linear(act, w(H, F), scale=_scale_for(F), name="down_proj")
    out = [g.requant(g.add(di, hi, f"resid2[{i}]"), 0.5, f"out.q[{i}]")
           for i, (di, hi) in enumerate(zip(down, h1, strict=True))]
    for i, o in enumerate(out):
        g.store(o, f"out[{i}]")
    return g


def example_graph(geometry: Geometry | None = None) -> Graph:
    """The small graph of the chapter-2 exercises: y = requant(relu(W1·a + W2·b)) and z = requant(a ⊙ b)."""
    g = Graph(geometry, "example")
    rng = np.random.default_rng(2)
    vl = g.vl
    a = g.load(rng.integers(-20, 20, vl).astype(np.int8), "a")
    b = g.load(rng.integers(-20, 20, vl).astype(np.int8), "b")
    w1 = g.weights(rng.integers(-8, 8, (vl, vl)).astype(np.int8), "W1")
    w2 = g.weights(rng.integers(-8, 8, (vl, vl)).astype(np.int8), "W2")
    s = g.add(g.matvec(w1, a, "W1·a"), g.matvec(w2, b, "W2·b"), "sum")
    y = g.requant(g.relu(s, "relu"), 1 / 128, "y")
    z = g.requant(g.mul(a, b, "a*b"), 1 / 16, "z")
    g.store(y, "store y")
    g.store(z, "store z")
    return g


def stream_conflict_example(stream_b: str = "E0", geometry: Geometry | None = None):
    """A hand-written program with a stream conflict (for the exercises): two MEM reads in slice MEM_W0 (one
    per bank, same cycle) put vectors a and b on eastward streams towards the VXM, which adds them. With
    ``stream_b="E0"`` both results are written into the same stream slot on the same cycle — the simulator
    raises a stream write collision. Returns ``(program, expected_sum)``."""
    s = as_stream(stream_b, "stream_b")
    stream_b = f"{s[0]}{s[1]}"
    g = Geometry.mini() if geometry is None else geometry
    if not isinstance(g, Geometry):
        raise LabsimError(f"geometry must be a labsim.tsp.Geometry, got {type(geometry).__name__}")
    if s[1] >= g.streams_per_direction:
        raise LabsimError(f"stream_b = {stream_b!r} is out of range; {g.name} has streams 0–"
                          f"{g.streams_per_direction - 1} per direction")
    p = Program(g, name="stream conflict")
    a = (np.arange(g.vector_len) % 50).astype(np.int8)
    b = ((np.arange(g.vector_len) % 7) * 3).astype(np.int8)
    p.preload("MEM_W0", 0, 0, a, dtype="int8")
    p.preload("MEM_W0", 1, 0, b, dtype="int8")
    ra = p.mem_read(cycle=0, slice="MEM_W0", bank=0, address=0, out="E0", label="read a")
    p.mem_read(cycle=0, slice="MEM_W0", bank=1, address=0, out=stream_b, label="read b")
    t_add = p.arrival(ra, "VXM")
    out = "E7" if stream_b != "E7" else "E6"
    p.add(cycle=t_add, a="E0", b=stream_b, out=out, label="a+b")
    p.mem_write(cycle=t_add + g.vxm_cycles + g.stream_hop_cycles, slice="MEM_E0", bank=0, address=0, a=out,
                label="store")
    return p, (a.astype(np.int32) + b.astype(np.int32))


def random_graph(seed: int, geometry: Geometry | None = None, *, n_inputs: int = 3, n_ops: int = 8) -> Graph:
    """A random small graph (loads, matvecs, element-wise ops, requants, stores) for property tests."""
    seed = check_int("seed", seed, lo=0, hi=2**63 - 1)
    g = Graph(geometry, f"random{seed}")
    rng = np.random.default_rng(seed)
    vl = g.vl
    n_inputs = check_int("n_inputs", n_inputs, lo=1, hi=MAX_RANDOM_INPUTS)
    n_ops = check_int("n_ops", n_ops, lo=1, hi=MAX_RANDOM_OPS)
    int8 = [g.load(rng.integers(-20, 20, vl).astype(np.int8), f"in{i}") for i in range(n_inputs)]
    int32 = []
    for j in range(n_ops):
        kinds = ["matvec", "add", "mul", "max", "relu", "requant"] if int32 else ["matvec", "add"]
        kind = rng.choice(kinds)
        if kind == "matvec":
            wid = g.weights(rng.integers(-8, 8, (vl, vl)).astype(np.int8), f"W{j}")
            int32.append(g.matvec(wid, int(rng.choice(int8)), f"mv{j}"))
        elif kind in ("add", "mul", "max"):
            pool = int8 + int32
            a, b = int(rng.choice(pool)), int(rng.choice(pool))
            int32.append(getattr(g, kind)(a, b, f"{kind}{j}"))
        elif kind == "relu":
            int32.append(g.relu(int(rng.choice(int32)), f"relu{j}"))
        else:
            int8.append(g.requant(int(rng.choice(int32)), 1 / 256, f"rq{j}"))
    cons = g.consumers()
    for n in list(g.nodes):
        if n.out is not None and n.op not in ("weights", "load") and not cons[n.id]:
            g.store(n.id, f"out.{n.name}")
    return g
