"""How many chips a model needs: weights + KV cache + workspace + per-chip reserve → chips, nodes, racks, capex."""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType

import numpy as np

from .. import catalog
from ..errors import LabsimError, check_array, check_choice, check_int, check_number
from ..precision import bytes_per_element
from ._common import as_chip, as_model, as_precision, broadcast, ceil, vmax, vmin, whole
from .defaults import ASSUMPTIONS
from .memory import keep_parts_tuple, part_bytes, weight_bytes, workspace_bytes_per_seq

__all__ = ["Plan", "plan", "plan_sweep", "reconcile_576", "usable_bytes_per_chip", "chips_needed"]

_LAYOUTS = ("packed", "per_layer")


def usable_bytes_per_chip(chip, overhead: float | None = None) -> float:
    """Memory per chip left for weights, KV and workspace: capacity × (1 − reserved fraction)."""
    c = as_chip(chip)
    if overhead is None:
        overhead = ASSUMPTIONS["reserved_fraction_sram" if c.memory_kind == "sram" else "reserved_fraction_hbm"].value
    return c.memory_bytes * (1.0 - check_number("overhead", overhead, lo=0.0, hi=1.0, hi_open=True))


@dataclass(frozen=True)
class Plan:
    """Chips needed to hold a model, with the memory breakdown that sets the count (bytes, decimal units).

    ``domains`` = ceil(chips / chip.sync_domain_chips): software-scheduled networks for the LPU (one network of up
    to 10,440 TSPs per ISCA 2022); for GPUs the NVLink domain (crossing it means InfiniBand/Ethernet).
    """
    model: str
    chip: str
    memory_kind: str
    precision: str
    expert_precision: str | None
    kv_precision: str
    context_tokens: int
    batch: int
    weight_bytes: float
    kv_cache_bytes: float
    activation_bytes: float
    reserved_bytes_per_chip: float
    usable_bytes_per_chip: float
    total_bytes: float
    chips_by_capacity: float        #: total_bytes / usable bytes per chip (fractional)
    chips: int                      #: whole chips after layout rounding
    nodes: int
    racks: int
    domains: int
    crosses_cliff: bool
    price_usd_per_chip: float | None
    capex_usd: float | None
    gpus_per_replica: int | None    #: HBM chips only: tensor-parallel group holding one replica
    layout: str
    assumptions: Mapping[str, object] = field(default_factory=dict, repr=False)

    @property
    def breakdown(self) -> dict[str, float]:
        """Memory breakdown in bytes (what the stacked bar shows); reserved = over all chips."""
        return {"weights": self.weight_bytes, "kv_cache": self.kv_cache_bytes,
                "activations": self.activation_bytes,
                "reserved": self.reserved_bytes_per_chip * self.chips,
                "unused": max(0.0, self.chips * self.usable_bytes_per_chip - self.total_bytes)}

    def summary(self) -> str:
        cap = "n/a (no published price)" if self.capex_usd is None else f"US${self.capex_usd / 1e6:,.2f} M"
        lines = [
            f"{self.model} on {self.chip} ({self.precision} weights, KV {self.kv_precision}, "
            f"{self.context_tokens} tokens × batch {self.batch})",
            f"  weights {self.weight_bytes / 1e9:8.2f} GB   KV cache {self.kv_cache_bytes / 1e9:8.2f} GB   "
            f"activations {self.activation_bytes / 1e9:6.3f} GB",
            f"  usable per chip {self.usable_bytes_per_chip / 1e6:,.0f} MB → {self.chips_by_capacity:,.1f} chips by "
            f"capacity → {self.chips:,} chips ({self.layout})",
            f"  nodes {self.nodes:,}  racks {self.racks:,}  network domains {self.domains:,}"
            f"{'  — crosses into Ethernet' if self.crosses_cliff else ''}",
            f"  capex {cap}",
        ]
        return "\n".join(lines)


def _resolve(model, chip, precision, expert_precision, kv_precision, activation_precision, logits_precision,
             overhead, keep_parts, keep_precision, layout, price_usd_per_chip, workspace_vectors):
    m, c = as_model(model), as_chip(chip)
    precision = as_precision("precision", precision)
    expert_precision = None if expert_precision is None else as_precision("expert_precision", expert_precision)
    kv_precision = as_precision("kv_precision", kv_precision)
    activation_precision = as_precision("activation_precision", activation_precision)
    logits_precision = as_precision("logits_precision", logits_precision)
    if overhead is None:
        overhead = ASSUMPTIONS["reserved_fraction_sram" if c.memory_kind == "sram" else "reserved_fraction_hbm"].value
    overhead = check_number("overhead", overhead, lo=0.0, hi=1.0, hi_open=True)
    keep_parts = keep_parts_tuple(keep_parts)
    keep_precision = as_precision("keep_precision", keep_precision)
    layout = check_choice("layout", layout, _LAYOUTS, what="layout")
    price = c.price_usd if price_usd_per_chip is None else \
        check_number("price_usd_per_chip", price_usd_per_chip, lo=0.0, hi=1e12, unit="USD")
    workspace_vectors = check_number("workspace_vectors", workspace_vectors, lo=0.0, hi=1e6)
    return (m, c, precision, expert_precision, kv_precision, activation_precision, logits_precision, overhead,
            keep_parts, keep_precision, layout, price, workspace_vectors)


@lru_cache(maxsize=1024)
def _static(m: catalog.Model, c: catalog.Chip, precision, expert_precision, kv_precision, act_p, logits_p,
            overhead, keep_parts, keep_precision, workspace_vectors) -> dict:
    """Per (model, chip, precisions) constants of the plan equations, computed once."""
    per_layer_kv = m._kv_elems_per_token_per_layer() * bytes_per_element(kv_precision)
    ws_full = float(workspace_bytes_per_seq(m, 0.0, act_p, logits_p, workspace_vectors))
    return {
        "w": weight_bytes(m, precision, expert_precision, keep_parts, keep_precision),
        "emb": part_bytes(m, "embedding", precision, expert_precision, keep_parts, keep_precision)
        + part_bytes(m, "lm_head", precision, expert_precision, keep_parts, keep_precision),
        "kv_full": m.num_full_attention_layers * per_layer_kv,
        "kv_local": m.num_local_attention_layers * per_layer_kv,
        "window": float(m.local_window_tokens),
        "ws_fixed": ws_full,
        "logits_full": m.num_heads * m.num_full_attention_layers * bytes_per_element(logits_p),
        "logits_local": m.num_heads * m.num_local_attention_layers * bytes_per_element(logits_p),
        "usable": c.memory_bytes * (1.0 - overhead),
    }


def _chips_needed(st: dict, ctx, b, layout: str, n_layers: int):
    """Memory per (context, batch) → (weights, KV, workspace, chips by capacity, whole chips)."""
    local_ctx = vmin(ctx, st["window"])
    kv = b * (st["kv_full"] * ctx + st["kv_local"] * local_ctx)
    act = b * (st["ws_fixed"] + st["logits_full"] * ctx + st["logits_local"] * local_ctx)
    total = st["w"] + kv + act
    usable = st["usable"]
    if layout == "per_layer":
        # every decoder layer (its weights, its KV cache, its workspace) gets whole chips; the embedding and
        # lm_head get their own whole chips.
        per_layer = (st["w"] - st["emb"]) / n_layers + (kv + act) / n_layers
        chips = n_layers * ceil(per_layer / usable) + ceil(st["emb"] / usable)
    else:
        chips = ceil(total / usable)
    return kv, act, total, total / usable, vmax(chips, 1.0)


def plan_sweep(model, chip, *, context_tokens=None, batch=1, precision: str = "int8",
               expert_precision: str | None = None, kv_precision: str = ASSUMPTIONS["kv_precision"].value,
               activation_precision: str = ASSUMPTIONS["activation_precision"].value,
               logits_precision: str = ASSUMPTIONS["logits_precision"].value, overhead: float | None = None,
               keep_parts=(), keep_precision: str = "fp16", layout: str = ASSUMPTIONS["layout"].value,
               price_usd_per_chip: float | None = None,
               workspace_vectors: float = ASSUMPTIONS["workspace_vectors_hidden"].value,
               gpu_power_of_two: bool = ASSUMPTIONS["gpu_power_of_two"].value,
               sync_domain_chips: int | None = None) -> dict[str, np.ndarray]:
    """Vectorized :func:`plan` over arrays of ``context_tokens`` and ``batch`` (broadcast together).

    Returns arrays: ``weight_bytes, kv_cache_bytes, activation_bytes, total_bytes, chips_by_capacity, chips,
    nodes, racks, domains, crosses_cliff, capex_usd`` (NaN capex when the chip has no published price).
    """
    (m, c, precision, expert_precision, kv_precision, act_p, logits_p, overhead, keep_parts, keep_precision,
     layout, price, workspace_vectors) = _resolve(
        model, chip, precision, expert_precision, kv_precision, activation_precision, logits_precision, overhead,
        keep_parts, keep_precision, layout, price_usd_per_chip, workspace_vectors)
    if not isinstance(gpu_power_of_two, (bool, np.bool_)):
        raise LabsimError(f"gpu_power_of_two must be True or False, got {gpu_power_of_two!r}")
    if context_tokens is None:
        context_tokens = ASSUMPTIONS["context_tokens"].value
    ctx = check_array("context_tokens", context_tokens, lo=0.0, hi=1e9)
    b = check_array("batch", batch, lo=1.0, hi=1e8)
    whole("batch", b, "sequences")
    ctx, b = broadcast(context_tokens=ctx, batch=b)
    st = _static(m, c, precision, expert_precision, kv_precision, act_p, logits_p, overhead, keep_parts,
                 keep_precision, workspace_vectors)
    kv, act, total, by_cap, chips = _chips_needed(st, ctx, b, layout, m.num_layers)
    if c.memory_kind == "hbm" and gpu_power_of_two:
        chips = 2.0 ** ceil(np.log2(chips))
    chips = _whole_units(c, chips)
    per_node = c.chips_per_node or 1
    per_rack = c.chips_per_rack or per_node
    dom = (c.sync_domain_chips or per_rack) if sync_domain_chips is None else \
        check_int("sync_domain_chips", sync_domain_chips, lo=1, hi=10_000_000)
    nodes = ceil(chips / per_node)
    racks = ceil(chips / per_rack)
    domains = ceil(chips / dom)
    capex = chips * (np.nan if price is None else price)
    return {"weight_bytes": np.full(ctx.shape, st["w"]), "kv_cache_bytes": kv, "activation_bytes": act,
            "total_bytes": total, "chips_by_capacity": by_cap, "chips": chips, "nodes": nodes, "racks": racks,
            "domains": domains, "crosses_cliff": domains > 1, "capex_usd": capex}


def chips_needed(m: catalog.Model, c: catalog.Chip, ctx, b, *, precision, expert_precision, kv_precision,
                 activation_precision, keep_parts, keep_precision):
    """Whole chips :func:`plan` needs (default plan assumptions, validated inputs) — the decode model's
    capacity check, without re-validating what the caller validated."""
    overhead = ASSUMPTIONS["reserved_fraction_sram" if c.memory_kind == "sram" else "reserved_fraction_hbm"].value
    st = _static(m, c, precision, expert_precision, kv_precision, activation_precision,
                 ASSUMPTIONS["logits_precision"].value, overhead, keep_parts, keep_precision,
                 ASSUMPTIONS["workspace_vectors_hidden"].value)
    chips = _chips_needed(st, ctx, b, ASSUMPTIONS["layout"].value, m.num_layers)[-1]
    if c.memory_kind == "hbm" and ASSUMPTIONS["gpu_power_of_two"].value:
        chips = 2.0 ** ceil(math.log2(chips) if isinstance(chips, float) else np.log2(chips))
    return _whole_units(c, chips)


def _whole_units(c: catalog.Chip, chips):
    """Dies sold only in tiles (Dojo D1: 25 per tile) are bought in whole tiles."""
    d = c.dies_per_unit
    return chips if d <= 1 else ceil(chips / d) * d


def plan(model, chip, precision: str = "int8", *, context_tokens: int | None = None, batch: int = 1,
         kv_precision: str = ASSUMPTIONS["kv_precision"].value, overhead: float | None = None,
         expert_precision: str | None = None, activation_precision: str = ASSUMPTIONS["activation_precision"].value,
         logits_precision: str = ASSUMPTIONS["logits_precision"].value, keep_parts=(), keep_precision: str = "fp16",
         layout: str = ASSUMPTIONS["layout"].value, price_usd_per_chip: float | None = None,
         workspace_vectors: float = ASSUMPTIONS["workspace_vectors_hidden"].value,
         gpu_power_of_two: bool = ASSUMPTIONS["gpu_power_of_two"].value,
         sync_domain_chips: int | None = None) -> Plan:
    """Chips needed to serve ``model`` on ``chip``: memory breakdown → chips → nodes, racks, domains, capex.

    Memory = weights (``precision``; MoE experts at ``expert_precision``, e.g. ``"bfp8"`` block floating point as
    the report describes; ``keep_parts`` such as ``("embedding", "lm_head")`` stored at ``keep_precision``)
    + KV cache (``context_tokens`` × ``batch`` sequences at ``kv_precision``) + activations/workspace
    (``activation_precision``; attention logits at ``logits_precision``). Each chip loses ``overhead`` (a
    fraction, [A] 0.10 by default) to instructions/runtime. ``batch`` = every sequence whose KV cache is held
    at once (on a pipeline: batch per stage × stages in flight). ``layout="per_layer"`` gives each layer whole
    chips (layout granularity). For HBM chips ``chips`` = GPUs per replica, rounded up to a power of two
    (``gpu_power_of_two``). Capex = chips × ``price_usd_per_chip`` (catalog price by default; None if the
    catalog has none). ``domains`` counts networks of ``sync_domain_chips`` (default: the chip's catalog value,
    10,440 for the LPU per ISCA 2022; pass 576 for the report's view).
    """
    if context_tokens is None:
        context_tokens = ASSUMPTIONS["context_tokens"].value
    context_tokens = check_int("context_tokens", context_tokens, lo=0, hi=100_000_000)
    batch = check_int("batch", batch, lo=1, hi=10_000_000)
    out = plan_sweep(model, chip, context_tokens=context_tokens, batch=batch, precision=precision,
                     expert_precision=expert_precision, kv_precision=kv_precision,
                     activation_precision=activation_precision, logits_precision=logits_precision,
                     overhead=overhead, keep_parts=keep_parts, keep_precision=keep_precision, layout=layout,
                     price_usd_per_chip=price_usd_per_chip, workspace_vectors=workspace_vectors,
                     gpu_power_of_two=gpu_power_of_two, sync_domain_chips=sync_domain_chips)
    m, c = as_model(model), as_chip(chip)
    if overhead is None:
        overhead = ASSUMPTIONS["reserved_fraction_sram" if c.memory_kind == "sram" else "reserved_fraction_hbm"].value
    price = c.price_usd if price_usd_per_chip is None else float(price_usd_per_chip)
    chips = int(out["chips"])
    capex = None if price is None else float(out["capex_usd"])
    return Plan(
        model=m.name, chip=c.name, memory_kind=c.memory_kind, precision=precision,
        expert_precision=expert_precision, kv_precision=kv_precision, context_tokens=context_tokens, batch=batch,
        weight_bytes=float(out["weight_bytes"]), kv_cache_bytes=float(out["kv_cache_bytes"]),
        activation_bytes=float(out["activation_bytes"]), reserved_bytes_per_chip=c.memory_bytes * overhead,
        usable_bytes_per_chip=c.memory_bytes * (1 - overhead), total_bytes=float(out["total_bytes"]),
        chips_by_capacity=float(out["chips_by_capacity"]), chips=chips, nodes=int(out["nodes"]),
        racks=int(out["racks"]), domains=int(out["domains"]), crosses_cliff=bool(out["crosses_cliff"]),
        price_usd_per_chip=price, capex_usd=capex,
        gpus_per_replica=chips if c.memory_kind == "hbm" else None, layout=layout,
        assumptions=MappingProxyType({"overhead": overhead, "activation_precision": activation_precision,
                                      "logits_precision": logits_precision, "keep_parts": keep_parts_tuple(keep_parts),
                                      "keep_precision": keep_precision, "workspace_vectors": workspace_vectors}),
    )


def reconcile_576(model="llama-3.3-70b", chip="groq-lpu-v1", *, context_tokens: int = 4096, batch: int = 3,
                  kv_precision: str = "fp16", keep_parts=("embedding", "lm_head"), overhead: float | None = None,
                  target_chips: int = 576) -> list[dict]:
    """Walk from the naive chip count to the report's 576, one named assumption at a time.

    Steps: (1) naive 70 GB ÷ 230 MB; (2) the model's exact INT8 parameter bytes; (3) embedding and lm_head kept
    in FP16; (4) KV cache for ``batch`` sequences × ``context_tokens`` at ``kv_precision``; (5) activations and
    workspace (FP16, FP32 logits); (6) per-chip reserved memory (``overhead``); (7) layout granularity (whole
    chips per layer); (8) whole racks; (9) the report's own synchronous domain (``target_chips``, 8 racks). Each
    row: ``step, chips`` (fractional capacity count for 1–6, whole chips for 7–9), ``added`` (vs the previous
    row; None on the last row), ``assumption`` and ``kind`` ("naive", "capacity", "rounding" for 8–9 — not a
    memory need — or "unexplained"). The gap between ``target_chips`` and the last memory step is the last row,
    ``unexplained``.
    """
    m, c = as_model(model), as_chip(chip)
    if overhead is None:
        overhead = ASSUMPTIONS["reserved_fraction_sram"].value
    overhead = check_number("overhead", overhead, lo=0.0, hi=1.0, hi_open=True)
    context_tokens = check_int("context_tokens", context_tokens, lo=0, hi=100_000_000)
    batch = check_int("batch", batch, lo=1, hi=10_000_000)
    kv_precision = as_precision("kv_precision", kv_precision)
    keep_parts = keep_parts_tuple(keep_parts)
    target_chips = check_int("target_chips", target_chips, lo=1, hi=10_000_000)
    usable = c.memory_bytes
    rows = []

    def add(step, chips, assumption, kind="capacity"):
        prev = rows[-1]["chips"] if rows else 0.0
        rows.append({"step": step, "chips": float(chips), "added": float(chips) - prev, "assumption": assumption,
                     "kind": kind})

    add("naive: 70 GB ÷ 230 MB", 70e9 / usable, "the report's round numbers ([huatai26] Q2 §1)", kind="naive")
    w = m.weight_bytes("int8")
    add("exact INT8 weights", w / usable, f"{m.params_total() / 1e9:.2f} B parameters × 1 B")
    w2 = weight_bytes(m, "int8", None, keep_parts, "fp16")
    add("FP16 embedding + lm_head", w2 / usable, f"{', '.join(keep_parts)} at 2 B (report: INT8 and FP16 mix)")
    kv = m.kv_cache_bytes(context_tokens, precision=kv_precision, batch=batch)
    add(f"KV cache ({batch} × {context_tokens} tokens, {kv_precision})", (w2 + kv) / usable,
        f"{m.kv_cache_bytes_per_token(kv_precision) / 1e3:.0f} kB per token")
    act = batch * float(workspace_bytes_per_seq(m, context_tokens, "fp16", "fp32", 4))
    add("activations / workspace", (w2 + kv + act) / usable, "FP16 vectors, FP32 attention logits, per layer")
    usable_r = c.memory_bytes * (1 - overhead)
    add(f"reserved {overhead:.0%} per chip", (w2 + kv + act) / usable_r, "instructions, buffers [A]")
    p = plan(m, c, "int8", context_tokens=context_tokens, batch=batch, kv_precision=kv_precision,
             keep_parts=keep_parts, overhead=overhead, layout="per_layer")
    add("layout: whole chips per layer", p.chips, "each of the layers on its own chips")
    if c.chips_per_rack:
        racks = math.ceil(p.chips / c.chips_per_rack)
        add(f"round up to whole racks of {c.chips_per_rack}", racks * c.chips_per_rack, f"{racks} racks",
            kind="rounding")
    add(f"round up to the report's {target_chips}-chip system", math.ceil(p.chips / target_chips) * target_chips,
        "[huatai26] Q2 §1: '8 racks of 72 chips'", kind="rounding")
    rows.append({"step": "unexplained by capacity (before rounding to racks/system)",
                 "chips": float(target_chips - p.chips), "added": None,
                 "assumption": f"{target_chips} − {p.chips}", "kind": "unexplained"})
    return rows
