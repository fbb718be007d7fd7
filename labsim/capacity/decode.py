"""Seconds per generated token: one decode model for every chapter (LPU pipelines and HBM chips).

:func:`decode_time` (one serving point → :class:`DecodeResult`) and :func:`decode_sweep` (arrays of chips, batch
and context → arrays) evaluate the same equations: :mod:`labsim.capacity.lpu` for LPUs (weight install into the
MXM, layout, MoE schedule, dependent chain, collectives, hops, Ethernet) and :mod:`labsim.capacity.hbm` for GPUs
and other HBM chips (bandwidth, per-kernel costs, all-reduces). Every knob is a field of :class:`DecodeConfig`
whose default is in :data:`~labsim.capacity.ASSUMPTIONS`. :func:`speculative` is a separate, named what-if.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

import numpy as np

from .. import catalog
from ..errors import LabsimError, check_array, check_choice, check_int, check_number
from ._common import (
    as_chip,
    as_model,
    broadcast,
    ceil,
    compute_precision,
    nonempty,
    vmax,
    vwhere,
    whole,
)
from .defaults import ASSUMPTIONS, BOUNDS, DecodeConfig
from .hbm import hbm_constants, hbm_token_time
from .lpu import check_tensor_parallel, is_lpu, lpu_constants, lpu_token_time
from .mesh import is_mesh_machine, mesh_constants, mesh_token_time
from .plan import chips_needed, usable_bytes_per_chip

__all__ = ["DecodeResult", "decode_sweep", "decode_time", "compute_bound_batch", "speculative",
           "SpeculativeResult"]

_BOUND_NAMES = np.array(BOUNDS)


@dataclass(frozen=True)
class DecodeResult:
    """Time per generated token for one user, and what sets it.

    ``parts`` (seconds per token): ``memory_s`` and ``compute_s`` overlap (only the larger counts); every other
    part adds. ``seconds_per_token ≥ max(memory_s, compute_s) + Σ others`` (a pipeline with more microbatches
    than stages waits longer). ``tokens_per_s`` is per user; ``throughput_tokens_per_s`` counts every sequence in
    flight. ``tensor_parallel`` = chips working on one layer at a time (LPU) or the GPU group.
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
    chips_used: int = 0            #: chips the layout actually uses (LPU); = chips on HBM
    chips_per_layer: float = 1.0   #: LPU: chips sharing one layer (fractional when layers pack across chips)
    notes: str = ""
    config: DecodeConfig | None = None

    def summary(self) -> str:
        parts = ", ".join(f"{k[:-2]} {v * 1e3:.3f} ms" for k, v in self.parts.items() if v > 0)
        groups = f" ({self.chips_per_layer:.1f} chips per layer)" if self.chips_per_layer > 1 else ""
        return (f"{self.model} on {self.chips} × {self.chip}{groups} (batch {self.batch}, "
                f"{self.context_tokens} tokens): "
                f"{self.seconds_per_token * 1e3:.3f} ms/token = {self.tokens_per_s:,.0f} tok/s per user; "
                f"bound: {self.dominant_bound} [{parts}]")


def _config(precision, config, overrides) -> DecodeConfig:
    """``config`` with ``precision`` and keyword overrides (a DecodeConfig validates itself when built)."""
    try:
        key = tuple(sorted(overrides.items()))
        hash((precision, config, key))
    except TypeError:                     # an unhashable override (e.g. a list): build the config directly
        return DecodeConfig.from_kwargs(config, precision=precision, **overrides)
    return _config_cached(precision, config, key)


@lru_cache(maxsize=4096)
def _config_cached(precision, config, key) -> DecodeConfig:
    return DecodeConfig.from_kwargs(config, precision=precision, **dict(key))


def _dominant(bounds):
    """Index of the largest of (memory, compute, interconnect, fixed) — the first on ties, like argmax."""
    if isinstance(bounds[0], float) and all(isinstance(b_, float) for b_ in bounds):
        return max(range(4), key=lambda i: bounds[i])
    best = np.asarray(bounds[0], dtype=np.float64)
    idx = np.zeros(np.broadcast(*bounds).shape, dtype=np.int8)
    for i in (1, 2, 3):
        b_ = np.asarray(bounds[i], dtype=np.float64)
        more = b_ > best
        idx = np.where(more, np.int8(i), idx)
        best = np.maximum(best, b_)
    return idx


def _evaluate(m: catalog.Model, c: catalog.Chip, cfg: DecodeConfig, chips, batch, ctx, *,
              need_fit: bool = True, need_dominant: bool = True) -> dict:
    """All decode equations at validated inputs — Python floats (one serving point) or broadcast arrays.

    ``chips`` None → the chips :func:`plan` needs. Returns the dict documented in :func:`decode_sweep`; with
    ``need_fit=False`` (chips given) the capacity check is skipped, with ``need_dominant=False`` the bound index.
    """
    need = chips_needed(m, c, ctx, batch * cfg.microbatches, precision=cfg.precision,
                        expert_precision=cfg.expert_precision, kv_precision=cfg.kv_precision,
                        activation_precision=cfg.activation_precision, keep_parts=cfg.keep_parts,
                        keep_precision=cfg.keep_precision) if (need_fit or chips is None) else 0.0
    if not c.peak_ops_per_s:
        raise LabsimError(f"chip {c.name!r} publishes no peak ops/s in the catalog, so decode time cannot be "
                          "bounded by compute; add a sourced peak with catalog.add_chip(...) to use it")
    comp_p = cfg.compute_precision or compute_precision(c, cfg.precision)
    if cfg.compute_precision is not None:
        c.peak_ops(comp_p)                        # raises a clear error when that precision is unpublished
    if is_lpu(c):
        n = chips                 # an LPU's token time does not depend on idle chips: set below from the layout
        k = lpu_constants(m, c, cfg, usable_bytes_per_chip(c))
        r = lpu_token_time(m, c, cfg, k, batch, ctx)
        latency = r["seconds"]
        interval = vmax(latency, cfg.microbatches * (latency - r["ethernet_s"]) / r["stages"])
        parts = {p: r[p] for p in ("memory_s", "compute_s", "fixed_latency_s", "c2c_hops_s", "collectives_s",
                                   "ethernet_s")}
        inter = parts["c2c_hops_s"] + parts["collectives_s"] + parts["ethernet_s"]
        fixed = parts["fixed_latency_s"]
        out = {"chips_used": r["chips_used"], "chips_per_layer": r["chips_per_layer"],
               "tensor_parallel": ceil(r["chips_per_layer"]), "sram_read_s": r["sram_read_s"],
               "mxm_feed_s": r["memory_s"], "stages": r["stages"]}
        moved = r["memory_s"] * k.feed_bytes_per_s
        need = vmax(need, r["chips_used"])
        if cfg.tensor_parallel is not None:      # a layer spread over too few chips does not fit them
            need = vwhere(cfg.tensor_parallel >= r["min_tensor_parallel"], need, np.inf if not isinstance(
                need, float) else float("inf"))
        out["min_tensor_parallel"] = r["min_tensor_parallel"]
        if n is None:
            n = vwhere(np.isfinite(need), need, r["chips_used"]) if not isinstance(need, float) else \
                (need if math.isfinite(need) else r["chips_used"])
    elif is_mesh_machine(c):
        n = need if chips is None else chips
        k = mesh_constants(c, cfg, usable_bytes_per_chip(c), comp_p)
        r = mesh_token_time(m, cfg, k, batch, ctx)
        latency = r["seconds"]
        interval = vmax(latency, cfg.microbatches * latency / (m.num_layers + 1))
        parts = {p: r[p] for p in ("memory_s", "compute_s", "mesh_s", "boundaries_s")}
        inter, fixed = parts["boundaries_s"], parts["mesh_s"]
        out = {"chips_used": r["chips_used"], "chips_per_layer": r["chips_per_layer"],
               "tensor_parallel": ceil(r["chips_per_layer"]), "stages": m.num_layers + 1.0}
        moved = r["memory_s"] * k.bandwidth_bytes_per_s
        need = vmax(need, r["chips_used"])
    else:
        n = need if chips is None else chips
        k = hbm_constants(c, cfg, comp_p)
        r = hbm_token_time(m, cfg, k, n, batch, ctx)
        latency = interval = r["seconds"]
        parts = {p: r[p] for p in ("memory_s", "compute_s", "launch_s", "allreduce_s")}
        inter, fixed = parts["allreduce_s"], parts["launch_s"]
        out = {"chips_used": n, "chips_per_layer": n, "tensor_parallel": n, "stages": 1.0}
        moved = r["bytes_read"]
    dom = _dominant((parts["memory_s"], parts["compute_s"], inter, fixed)) if need_dominant else 0
    out.update({"parts": parts, "seconds_per_token": interval, "latency_s": latency,
                "tokens_per_s": 1.0 / interval, "throughput_tokens_per_s": batch * cfg.microbatches / interval,
                "aggregate_bandwidth_s": moved / (n * c.memory_bandwidth_bytes_per_s), "dominant_index": dom,
                "compute_precision": comp_p, "fits": n >= need, "chips": n, "chips_needed": need, "config": cfg})
    return out


def _inputs(model, chip, precision, config, overrides):
    m, c = as_model(model), as_chip(chip)
    cfg = _config(precision, config, overrides)
    if is_lpu(c):
        check_tensor_parallel(c, cfg.tensor_parallel)
    return m, c, cfg


_ARRAY_OUTPUTS = ("seconds_per_token", "latency_s", "tokens_per_s", "throughput_tokens_per_s", "fits", "chips",
                  "chips_needed", "chips_used", "chips_per_layer", "tensor_parallel", "stages",
                  "aggregate_bandwidth_s", "dominant_index", "sram_read_s", "mxm_feed_s", "min_tensor_parallel")
_INT_OUTPUTS = {"chips": np.int64, "tensor_parallel": np.int64, "dominant_index": np.int8, "fits": np.bool_}
#: configurations evaluated at a time by decode_sweep (bounds its working memory, see benches/bench_capacity.py)
SWEEP_CHUNK = 1 << 16
_BOUND_OBJECTS = np.array(BOUNDS, dtype=object)


def decode_sweep(model, chip, *, chips=None, batch=1, context_tokens=None, precision: str = "int8",
                 config: DecodeConfig | None = None, outputs=None, **overrides) -> dict:
    """Vectorized :func:`decode_time` over arrays of ``chips``, ``batch`` and ``context_tokens`` (broadcast).

    ``chips=None`` uses the chips :func:`plan` needs at each (context, batch). ``overrides`` are fields of
    :class:`DecodeConfig`. Returns arrays ``seconds_per_token, tokens_per_s, throughput_tokens_per_s, latency_s,
    dominant_index`` (int8 into :data:`BOUNDS`) and ``dominant_bound`` (the same as names, an object array of
    shared strings), ``fits`` (chips ≥ the need), ``chips, chips_needed, tensor_parallel, chips_used,
    chips_per_layer, stages, aggregate_bandwidth_s`` and ``parts`` (dict of arrays); ``config`` is the
    :class:`DecodeConfig` used. ``outputs`` (names from the list above, ``"parts"`` for all parts) keeps only those
    arrays — for sweeps of millions of configurations, which are evaluated :data:`SWEEP_CHUNK` at a time.
    """
    m, c, cfg = _inputs(model, chip, precision, config, overrides)
    if context_tokens is None:
        context_tokens = ASSUMPTIONS["context_tokens"].value
    ctx = nonempty("context_tokens", check_array("context_tokens", context_tokens, lo=0.0, hi=1e9))
    b = nonempty("batch", check_array("batch", batch, lo=1.0, hi=1e8))
    whole("batch", b, "sequences")
    if chips is not None:
        chips = nonempty("chips", check_array("chips", chips, lo=1.0, hi=1e8))
        whole("chips", chips, "chips")
        n, b, ctx = broadcast(chips=chips, batch=b, context_tokens=ctx)
    else:
        n = None
        b, ctx = broadcast(batch=b, context_tokens=ctx)
    valid = set(_ARRAY_OUTPUTS) | {"parts", "dominant_bound"}
    if outputs is None:
        want = valid
    else:
        if isinstance(outputs, str):
            outputs = (outputs,)
        if not isinstance(outputs, (list, tuple, set, frozenset)) or not outputs:
            raise LabsimError(f"outputs must be an output name or a non-empty list of them, got {outputs!r}; "
                              f"valid: {', '.join(sorted(valid))}")
        want = set()
        for w in outputs:
            want.add(check_choice("outputs", w, valid, what="decode_sweep output"))
    shape = np.shape(b)
    size = int(np.prod(shape)) if shape else 1
    flat = [None if n is None else np.ravel(n), np.ravel(b), np.ravel(ctx)]
    result: dict = {}
    last = None
    for lo in range(0, size, SWEEP_CHUNK):
        hi = min(size, lo + SWEEP_CHUNK)
        part = _evaluate(m, c, cfg, None if flat[0] is None else flat[0][lo:hi], flat[1][lo:hi], flat[2][lo:hi],
                         need_fit=bool(want & {"fits", "chips_needed"}),
                         need_dominant=bool(want & {"dominant_index", "dominant_bound"}))
        for key in _ARRAY_OUTPUTS:
            if key in part and (key in want or (key == "dominant_index" and "dominant_bound" in want)):
                if key not in result:
                    result[key] = np.empty(size, dtype=_INT_OUTPUTS.get(key, np.float64))
                result[key][lo:hi] = np.broadcast_to(np.asarray(part[key]), (hi - lo,))
        if "parts" in want:
            parts = result.setdefault("parts", {})
            for k_, v in part["parts"].items():
                if k_ not in parts:
                    parts[k_] = np.empty(size)
                parts[k_][lo:hi] = np.broadcast_to(np.asarray(v), (hi - lo,))
        last = part
    out = {k_: v.reshape(shape) for k_, v in result.items() if k_ != "parts"}
    if "parts" in result:
        out["parts"] = {k_: v.reshape(shape) for k_, v in result["parts"].items()}
    if "dominant_bound" in want:
        out["dominant_bound"] = _BOUND_OBJECTS[out["dominant_index"]]
        if "dominant_index" not in want:
            del out["dominant_index"]
    out["config"] = cfg
    out["compute_precision"] = last["compute_precision"]
    return out


def decode_time(model, chip, *, chips: int | None = None, precision: str = "int8", batch: int = 1,
                context_tokens: int | None = None, config: DecodeConfig | None = None,
                allow_overflow: bool = False, **overrides) -> DecodeResult:
    """Seconds per generated token for one user of ``model`` on ``chips`` × ``chip``, and the dominant bound.

    LPU (a compiler-scheduled pipeline of SRAM chips, :mod:`labsim.capacity.lpu`): weights and KV cache streamed
    into the matrix units at the install rate, layer by layer over the chips that hold each layer, plus the
    dependent chain, collectives, hops and Ethernet. HBM chips (:mod:`labsim.capacity.hbm`): bytes read ÷ usable
    bandwidth over the tensor-parallel group, per-kernel costs (CUDA graphs by default), all-reduces.
    ``chips=None`` uses :func:`plan`'s chip count; on an LPU more chips do not make a token faster unless you
    spread layers over them (``tensor_parallel=…``). ``overrides`` are :class:`DecodeConfig` fields
    (``microbatches``, ``moe_schedule``, ``cuda_graphs``, ``hop_source``, ``sync_domain_chips`` …). Raises if
    ``chips`` cannot hold the model unless ``allow_overflow``.
    """
    if context_tokens is None:
        context_tokens = ASSUMPTIONS["context_tokens"].value
    context_tokens = check_int("context_tokens", context_tokens, lo=0, hi=100_000_000)
    batch = check_int("batch", batch, lo=1, hi=10_000_000)
    if chips is not None:
        chips = check_int("chips", chips, lo=1, hi=10_000_000)
    if not isinstance(allow_overflow, (bool, np.bool_)):
        raise LabsimError(f"allow_overflow must be True or False, got {allow_overflow!r}")
    m, c, cfg = _inputs(model, chip, precision, config, overrides)
    out = _evaluate(m, c, cfg, None if chips is None else float(chips), float(batch), float(context_tokens))
    fits = bool(out["fits"])
    if not fits and not allow_overflow:
        if cfg.tensor_parallel is not None and cfg.tensor_parallel < out["min_tensor_parallel"]:
            mt = int(out["min_tensor_parallel"])
            raise LabsimError(f"tensor_parallel = {cfg.tensor_parallel} is out of range: {m.name}'s widest layer "
                              f"needs {mt} chips of {c.name} to hold it at {cfg.precision}; allowed: [{mt}, "
                              f"{int(c.sync_domain_chips)}]")
        need = int(out["chips_needed"])
        raise LabsimError(f"chips = {chips} is out of range: {m.name} at {cfg.precision} with "
                          f"{context_tokens} tokens × {batch * cfg.microbatches} sequences needs at "
                          f"least {need} × {c.name}; allowed: [{need}, inf)")
    parts = {k: float(v) for k, v in out["parts"].items()}
    if is_lpu(c):
        note = (f"MXM weight install {parts['memory_s'] * 1e3:.3f} ms per token (the same bytes at the "
                f"{c.memory_bandwidth_bytes_per_s / 1e12:.0f} TB/s SRAM headline: "
                f"{float(out['sram_read_s']) * 1e3:.3f} ms)")
    else:
        note = f"compute at {out['compute_precision']}"
    return DecodeResult(
        model=m.name, chip=c.name, chips=int(out["chips"]), batch=batch, context_tokens=context_tokens,
        precision=cfg.precision, seconds_per_token=float(out["seconds_per_token"]),
        tokens_per_s=float(out["tokens_per_s"]), throughput_tokens_per_s=float(out["throughput_tokens_per_s"]),
        parts=MappingProxyType(parts), dominant_bound=BOUNDS[int(out["dominant_index"])],
        tensor_parallel=int(out["tensor_parallel"]), fits=fits,
        aggregate_bandwidth_s=float(out["aggregate_bandwidth_s"]), chips_used=int(out["chips_used"]),
        chips_per_layer=float(out["chips_per_layer"]), notes=note, config=cfg)


def compute_bound_batch(model, chip, *, chips: int | None = None, context_tokens: int | None = None,
                        max_batch: int = 65536, **kwargs) -> int | None:
    """Smallest batch at which compute time reaches memory time (throughput stops growing ~linearly).

    Evaluates :func:`decode_sweep` at batch = 1 … ``max_batch``. None if memory still dominates at
    ``max_batch`` — the KV cache grows with batch, so long contexts may never get there.
    """
    max_batch = check_int("max_batch", max_batch, lo=1, hi=1_000_000)
    if context_tokens is not None:
        context_tokens = check_int("context_tokens", context_tokens, lo=0, hi=100_000_000)
    if chips is not None:
        chips = check_int("chips", chips, lo=1, hi=10_000_000)
    b = np.arange(1, max_batch + 1, dtype=np.float64)
    out = decode_sweep(model, chip, chips=chips, batch=b, context_tokens=context_tokens, **kwargs)
    hit = out["parts"]["compute_s"] >= out["parts"]["memory_s"]
    if not hit.any():
        return None
    return int(b[int(np.argmax(hit))])


@dataclass(frozen=True)
class SpeculativeResult:
    """A speculative-decoding what-if on top of a :class:`DecodeResult` ([leviathan23])."""
    base: DecodeResult
    acceptance_rate: float
    draft_tokens: int
    draft_cost_ratio: float
    tokens_per_step: float      #: expected tokens accepted per verification step
    seconds_per_step: float
    tokens_per_s: float
    speedup: float


def speculative(model, chip, *, acceptance_rate: float = 0.8, draft_tokens: int = 4,
                draft_cost_ratio: float = 0.05, **decode_kwargs) -> SpeculativeResult:
    """Tokens/s with speculative decoding — a named what-if, never the default.

    A draft model proposes ``draft_tokens`` tokens, each at ``draft_cost_ratio`` × one target step; the target
    verifies them in one pass (modeled as a decode step of a batch of ``draft_tokens + 1``, which reads the
    weights once). Each proposal is accepted with probability ``acceptance_rate``, so a step yields
    (1 − α^(γ+1)) / (1 − α) tokens on average ([leviathan23] Eq. 1).
    """
    a = check_number("acceptance_rate", acceptance_rate, lo=0.0, hi=1.0, hi_open=True)
    g = check_int("draft_tokens", draft_tokens, lo=1, hi=64)
    r = check_number("draft_cost_ratio", draft_cost_ratio, lo=0.0, hi=10.0)
    base = decode_time(model, chip, **decode_kwargs)
    kw = dict(decode_kwargs)
    kw.pop("batch", None)
    verify = decode_time(model, chip, batch=base.batch * (g + 1), allow_overflow=True, **kw)
    step = verify.seconds_per_token + g * r * base.seconds_per_token
    tokens = (1.0 - a ** (g + 1)) / (1.0 - a)
    tps = tokens / step
    return SpeculativeResult(base=base, acceptance_rate=a, draft_tokens=g, draft_cost_ratio=r,
                             tokens_per_step=tokens, seconds_per_step=step, tokens_per_s=tps,
                             speedup=tps / base.tokens_per_s)
