"""What has to be stored and what has to be read: weight, KV-cache and workspace bytes (shared by plan and decode).

Per-model quantities are computed once per (model, precisions) and cached — models and chips are frozen
dataclasses, so a cache key can never go stale.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .. import catalog
from ..errors import LabsimError, check_array, check_choice, check_int
from ..precision import bytes_per_element
from ._common import whole

__all__ = ["PARTS", "keep_parts_tuple", "weight_bytes", "part_bytes", "workspace_bytes_per_seq", "experts_touched",
           "LayerBytes", "layer_bytes"]

#: parameter groups of :meth:`labsim.catalog.Model.param_breakdown` that ``keep_parts`` may name.
PARTS = ("embedding", "lm_head", "attention", "dense_mlp", "routed_experts", "shared_experts", "router", "norms")


def keep_parts_tuple(keep_parts) -> tuple:
    """Validate ``keep_parts`` (a parameter-group name or an iterable of them) → a tuple of names."""
    if keep_parts is None:
        return ()
    if isinstance(keep_parts, str):
        keep_parts = (keep_parts,)
    try:
        parts = tuple(keep_parts)
    except TypeError:
        raise LabsimError(f"keep_parts must be a parameter-group name or a tuple of them, got {keep_parts!r}; "
                          f"valid: {', '.join(PARTS)}") from None
    for p in parts:
        check_choice("keep_parts", p, PARTS, what="parameter group")
    return parts


def _bytes_of(m: catalog.Model, part: str, precision, expert_precision, keep_parts, keep_precision) -> float:
    if part in keep_parts:
        return bytes_per_element(keep_precision)
    if part in ("routed_experts", "shared_experts") and expert_precision is not None:
        return bytes_per_element(expert_precision)
    return bytes_per_element(precision)


def part_bytes(m: catalog.Model, part: str, precision: str, expert_precision=None, keep_parts=(),
               keep_precision="fp16") -> float:
    """Stored bytes of one parameter group (``routed_experts`` at ``expert_precision`` if given, a ``keep_parts``
    group at ``keep_precision``)."""
    return m.param_breakdown()[part] * _bytes_of(m, part, precision, expert_precision, keep_parts, keep_precision)


def weight_bytes(m: catalog.Model, precision: str, expert_precision=None, keep_parts=(), keep_precision="fp16"):
    """All stored weight bytes: :meth:`~labsim.catalog.Model.weight_bytes` (expert matmuls at
    ``expert_precision``) plus the extra bytes of ``keep_parts`` groups stored at ``keep_precision``."""
    total = m.weight_bytes(precision, expert_precision)
    if keep_parts:
        br = m.param_breakdown()
        for p in keep_parts:
            was = expert_precision if (p in ("routed_experts", "shared_experts") and expert_precision) else precision
            total += br[p] * (bytes_per_element(keep_precision) - bytes_per_element(was))
    return float(total)


def workspace_bytes_per_seq(m: catalog.Model, context, act_precision, logits_precision, workspace_vectors):
    """Activation/workspace bytes per sequence summed over all layers (statically allocated per layer).

    Per layer: ``workspace_vectors`` hidden-size vectors + q, k, v widths + 2 FFN widths (gate, up) at the
    activation precision, plus the attention logits of every head over the attended context at
    ``logits_precision`` (FP32 on the LPU, [huatai26] Q3 §4).
    """
    ffn = max(m.intermediate_size if m.num_dense_ffn_layers else 0,
              m.experts_per_token * m.moe_intermediate_size + m.num_shared_experts * m._shared_ff)
    vec = (workspace_vectors * m.hidden_size + m.num_heads * m._qk_head_dim
           + 2 * m.num_kv_heads * m.head_dim + 2 * ffn) * bytes_per_element(act_precision)
    ctx = np.asarray(context, dtype=np.float64)
    attended = (m.num_full_attention_layers * ctx
                + m.num_local_attention_layers * np.minimum(ctx, m.local_window_tokens))
    logits = m.num_heads * attended * bytes_per_element(logits_precision)
    return m.num_layers * vec + logits


def experts_touched(num_experts: int, experts_per_token: int, batch):
    """Expected distinct routed experts a batch of ``batch`` tokens touches in one MoE layer [A uniform].

    E·(1 − (1 − k/E)^B). B = 1 gives k; large B approaches E (every expert must be read).
    """
    b = check_array("batch", batch, lo=1, hi=1e8)
    whole("batch", b, "tokens")
    E = check_int("num_experts", num_experts, lo=0, hi=1_000_000)
    if E == 0:
        return np.zeros_like(b) if np.ndim(b) else 0.0
    k = check_int("experts_per_token", experts_per_token, lo=1, hi=E)
    out = E * (1.0 - (1.0 - k / E) ** b)
    return float(out) if np.ndim(out) == 0 else out


@dataclass(frozen=True)
class LayerBytes:
    """Per-layer byte counts of one model at one set of precisions (stored bytes; decode reads them).

    ``dense_attn`` = attention projections + norms of one layer; ``dense_ffn`` = one dense FFN layer's MLP;
    ``moe_fixed`` = a MoE layer's shared experts + router; ``expert`` = one routed expert of one layer;
    ``head`` = the output projection (lm_head, or the tied embedding) read once per token;
    ``kv_per_token_full`` / ``kv_per_token_local`` = one layer's KV bytes per cached token (full / local
    attention); ``n_*`` = layer counts. Stored bytes per layer use the storage precision; ``*_install`` gives the
    bytes the matrix units receive per stored byte (see :mod:`labsim.capacity.lpu`).
    """
    n_layers: int
    n_moe: int
    n_dense_ffn: int
    n_full: int
    n_local: int
    local_window: int
    dense_attn: float
    dense_ffn: float
    moe_fixed: float
    expert: float
    num_experts: int
    experts_per_token: int
    head: float
    embedding: float
    kv_per_token_full: float
    kv_per_token_local: float
    hidden_size: int
    total_weights: float


@lru_cache(maxsize=512)
def layer_bytes(m: catalog.Model, precision: str, expert_precision, keep_parts: tuple, keep_precision: str,
                kv_precision: str) -> LayerBytes:
    """:class:`LayerBytes` for ``m`` (cached per model and precisions)."""
    L, n_moe = m.num_layers, m.num_moe_layers
    br = m.param_breakdown()

    def pb(p):
        return part_bytes(m, p, precision, expert_precision, keep_parts, keep_precision)

    head = pb("lm_head") if not m.tie_word_embeddings else pb("embedding")
    n_dense = m.num_dense_ffn_layers
    kv_layer = m._kv_elems_per_token_per_layer() * bytes_per_element(kv_precision)
    return LayerBytes(
        n_layers=L, n_moe=n_moe, n_dense_ffn=n_dense, n_full=m.num_full_attention_layers,
        n_local=m.num_local_attention_layers, local_window=int(m.local_window_tokens or 0),
        dense_attn=(pb("attention") + pb("norms") * (br["norms"] - m.hidden_size) / max(br["norms"], 1)) / L,
        dense_ffn=pb("dense_mlp") / n_dense if n_dense else 0.0,
        moe_fixed=(pb("shared_experts") + pb("router")) / n_moe if n_moe else 0.0,
        expert=pb("routed_experts") / (n_moe * m.num_experts) if n_moe and m.num_experts else 0.0,
        num_experts=int(m.num_experts), experts_per_token=int(m.experts_per_token),
        head=head, embedding=pb("embedding"), kv_per_token_full=kv_layer, kv_per_token_local=kv_layer,
        hidden_size=int(m.hidden_size),
        total_weights=weight_bytes(m, precision, expert_precision, keep_parts, keep_precision))
