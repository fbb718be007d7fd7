"""A catalog LLM (:class:`Model`): architecture fields, derived parameter counts, KV-cache bytes and FLOPs per
token, and the parser of one entry."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from .. import _memo
from .. import limits as _L
from ..errors import (
    LabsimError,
    check_array,
    check_bool,
    check_choice,
    check_int,
    check_name,
)
from ..precision import bytes_per_element
from .schema import _coerce, _Frozen, _parse_extra, _unknown_key_error, _unwrap

_MODEL_STR = {"name": (True, None), "display_name": (False, None), "vendor": (False, ""),
              "hf_id": (False, ""), "notes": (False, ""), "qk_norm": (False, "none"),
              "local_attention_kind": (False, "none")}
_QK_NORMS = ("none", "rmsnorm", "l2")
_LOCAL_KINDS = ("none", "sliding", "chunked")
# name -> (kind, required, default)
_MODEL_NUM: dict[str, tuple[str, bool, Any]] = {
    "num_layers": ("int", True, None),
    "hidden_size": ("int", True, None),
    "num_heads": ("int", True, None),
    "num_kv_heads": ("int", True, None),
    "head_dim": ("int", True, None),
    "intermediate_size": ("int", True, None),      # dense-layer FFN width (unused if every layer is MoE)
    "vocab_size": ("int", True, None),
    "tie_word_embeddings": ("bool", True, None),
    "max_context_tokens": ("int", False, 0),
    # MoE
    "num_experts": ("int", False, 0),               # routed experts per MoE layer (0 = dense model)
    "experts_per_token": ("int", False, 0),         # routed experts each token uses
    "num_shared_experts": ("int", False, 0),        # always-on experts per MoE layer
    "moe_intermediate_size": ("int", False, 0),     # FFN width of one routed expert
    "shared_expert_intermediate_size": ("int", False, 0),  # 0 -> same as moe_intermediate_size
    "num_dense_layers": ("int", False, 0),          # first-k layers with a dense FFN (DeepSeek first_k_dense)
    "moe_layer_step": ("int", False, 1),            # after those, layer i is MoE iff (i+1) % step == 0
    "router_bias": ("bool", False, False),          # router Linear has a bias (gpt-oss)
    "router_score_bias": ("bool", False, False),    # per-expert routing-bias vector (DeepSeek noaux_tc)
    # attention
    "attention_bias": ("bool", False, False),       # q/k/v/o biases (gpt-oss)
    "mlp_bias": ("bool", False, False),             # FFN / expert biases (gpt-oss)
    "attention_sinks": ("bool", False, False),      # one learned sink logit per head per layer (gpt-oss)
    "local_window_tokens": ("int", False, 0),       # sliding window / attention chunk size (0 = none)
    "full_attention_period": ("int", False, 1),     # layer i is full attention iff (i+1) % period == 0
    # MLA (DeepSeek-V3 / Kimi K2); kv_lora_rank > 0 switches attention to MLA
    "q_lora_rank": ("int", False, 0),
    "kv_lora_rank": ("int", False, 0),
    "qk_nope_head_dim": ("int", False, 0),
    "qk_rope_head_dim": ("int", False, 0),
    "v_head_dim": ("int", False, 0),
    # excluded from counts, recorded for the notes
    "num_mtp_layers": ("int", False, 0),
}


@dataclass(frozen=True)
class Model(_Frozen):
    """An LLM's architecture (Hugging Face config fields, renamed with units-free names).

    All parameter counts are derived by :meth:`param_breakdown` from these fields. Layer pattern:
    layer ``i`` has a MoE FFN iff ``num_experts > 0``, ``i >= num_dense_layers`` and
    ``(i + 1) % moe_layer_step == 0``; otherwise a dense FFN of width ``intermediate_size``.
    Attention: layer ``i`` is full attention iff ``local_window_tokens == 0`` or
    ``(i + 1) % full_attention_period == 0``; other layers attend to at most ``local_window_tokens``.
    """

    name: str
    display_name: str
    vendor: str
    hf_id: str
    num_layers: int
    hidden_size: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    intermediate_size: int
    vocab_size: int
    tie_word_embeddings: bool
    max_context_tokens: int = 0
    num_experts: int = 0
    experts_per_token: int = 0
    num_shared_experts: int = 0
    moe_intermediate_size: int = 0
    shared_expert_intermediate_size: int = 0
    num_dense_layers: int = 0
    moe_layer_step: int = 1
    router_bias: bool = False
    router_score_bias: bool = False
    attention_bias: bool = False
    mlp_bias: bool = False
    attention_sinks: bool = False
    qk_norm: str = "none"
    local_attention_kind: str = "none"
    local_window_tokens: int = 0
    full_attention_period: int = 1
    q_lora_rank: int = 0
    kv_lora_rank: int = 0
    qk_nope_head_dim: int = 0
    qk_rope_head_dim: int = 0
    v_head_dim: int = 0
    num_mtp_layers: int = 0
    # extra numbers and sources take part in ==, so a memo keyed on this entry (labsim._memo, capacity's caches)
    # sees an entry re-registered with other extras as a new key; unhashable mappings stay out of hash()
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False, repr=False)
    sources: Mapping[str, str] = field(default_factory=dict, hash=False, repr=False)
    notes: str = field(default="", compare=False, repr=False)
    origin: str = field(default="", compare=False, repr=False)

    _MAPPINGS = ("extra", "sources")

    # ---- structure ------------------------------------------------------------------------------------
    @property
    def is_moe(self) -> bool:
        return self.num_experts > 0

    @property
    def is_mla(self) -> bool:
        return self.kv_lora_rank > 0

    def is_moe_layer(self, i: int) -> bool:
        i = check_int("i", i, lo=0, hi=self.num_layers - 1)
        return self.is_moe and i >= self.num_dense_layers and (i + 1) % self.moe_layer_step == 0

    @property
    def num_moe_layers(self) -> int:
        """Layers i ≥ num_dense_layers with (i + 1) divisible by moe_layer_step (closed form, O(1))."""
        if not self.is_moe:
            return 0
        s = self.moe_layer_step
        return max(0, self.num_layers // s - self.num_dense_layers // s)

    @property
    def num_dense_ffn_layers(self) -> int:
        return self.num_layers - self.num_moe_layers

    def is_full_attention_layer(self, i: int) -> bool:
        i = check_int("i", i, lo=0, hi=self.num_layers - 1)
        return self.local_window_tokens == 0 or (i + 1) % self.full_attention_period == 0

    @property
    def num_full_attention_layers(self) -> int:
        """Layers with (i + 1) divisible by full_attention_period, or all of them without a local window (O(1))."""
        if self.local_window_tokens == 0:
            return self.num_layers
        return self.num_layers // self.full_attention_period

    @property
    def num_local_attention_layers(self) -> int:
        return self.num_layers - self.num_full_attention_layers

    @property
    def _shared_ff(self) -> int:
        return self.shared_expert_intermediate_size or self.moe_intermediate_size

    @property
    def _qk_head_dim(self) -> int:
        return self.qk_nope_head_dim + self.qk_rope_head_dim if self.is_mla else self.head_dim

    @property
    def _v_head_dim(self) -> int:
        return self.v_head_dim if self.is_mla else self.head_dim

    # ---- per-layer pieces (weights = matmul matrices; biases/norms counted apart) -------------------------
    def _attn_matmul(self) -> int:
        d, H = self.hidden_size, self.num_heads
        if self.is_mla:
            qk = self.qk_nope_head_dim + self.qk_rope_head_dim
            q = (d * self.q_lora_rank + self.q_lora_rank * H * qk) if self.q_lora_rank else d * H * qk
            kv = d * (self.kv_lora_rank + self.qk_rope_head_dim) \
                + self.kv_lora_rank * H * (self.qk_nope_head_dim + self.v_head_dim)
            o = H * self.v_head_dim * d
            return q + kv + o
        hd, kv_h = self.head_dim, self.num_kv_heads
        return d * H * hd + 2 * d * kv_h * hd + H * hd * d

    def _attn_other(self) -> int:
        """Attention biases and sink logits (not matmul weights)."""
        n = 0
        if self.attention_bias:
            n += self.num_heads * self.head_dim + 2 * self.num_kv_heads * self.head_dim + self.hidden_size
        if self.attention_sinks:
            n += self.num_heads
        return n

    def _layer_norms(self) -> int:
        n = 2 * self.hidden_size  # pre-attention and pre-FFN RMSNorm
        if self.qk_norm == "rmsnorm":
            n += 2 * self.head_dim
        if self.is_mla:
            n += self.kv_lora_rank + (self.q_lora_rank or 0)
        return n

    @staticmethod
    def _ffn(d: int, ff: int, bias: bool) -> tuple[int, int]:
        """(matmul weights, biases) of one SwiGLU FFN: gate, up (d×ff each) and down (ff×d)."""
        return 3 * d * ff, (2 * ff + d) if bias else 0

    # ---- public counts --------------------------------------------------------------------------------
    def param_breakdown(self) -> dict[str, int]:
        """Parameters by component (see :func:`_param_breakdown`); computed once per model."""
        return dict(_param_breakdown(self))

    def _param_breakdown_uncached(self) -> dict[str, int]:
        """Parameters by component, derived from the architecture fields.

        Keys: ``embedding``, ``lm_head`` (0 if tied), ``attention`` (q/k/v/o or MLA projections, biases,
        sinks), ``dense_mlp``, ``routed_experts``, ``shared_experts``, ``router`` (gate matrix + biases),
        ``norms`` (RMSNorm weights incl. q/k-norm and MLA latent norms, final norm), ``total``.
        SwiGLU FFNs (3 matrices) throughout; MTP layers are excluded (see ``num_mtp_layers``).
        """
        d, L = self.hidden_size, self.num_layers
        n_moe = self.num_moe_layers
        n_dense = L - n_moe
        emb = self.vocab_size * d
        dense_w, dense_b = self._ffn(d, self.intermediate_size, self.mlp_bias)
        exp_w, exp_b = self._ffn(d, self.moe_intermediate_size, self.mlp_bias)
        sh_w, sh_b = self._ffn(d, self._shared_ff, False)
        router = d * self.num_experts + (self.num_experts if self.router_bias else 0) \
            + (self.num_experts if self.router_score_bias else 0)
        out = {
            "embedding": emb,
            "lm_head": 0 if self.tie_word_embeddings else emb,
            "attention": L * (self._attn_matmul() + self._attn_other()),
            "dense_mlp": n_dense * (dense_w + dense_b),
            "routed_experts": n_moe * self.num_experts * (exp_w + exp_b),
            "shared_experts": n_moe * self.num_shared_experts * (sh_w + sh_b),
            "router": n_moe * router,
            "norms": L * self._layer_norms() + d,
        }
        out["total"] = sum(out.values())
        return out

    def params_total(self) -> int:
        """All parameters (embedding + layers + head; MTP layers excluded). Derived, never typed in."""
        return self.param_breakdown()["total"]

    def params_active(self, *, include_embedding: bool = True) -> int:
        """Parameters one token touches: everything except the routed experts it does not use.

        = total − (num_experts − experts_per_token) × (one routed expert) × MoE layers; for a dense model
        = total. Embedding and lm_head are included by default (the convention of Mixtral's 12.9B and Llama 4's
        17B); ``include_embedding=False`` drops the input embedding table (OpenAI's convention for gpt-oss:
        5.1B / 3.6B active). Shared experts and dense-FFN layers always count.
        """
        check_bool("include_embedding", include_embedding)
        idle = 0
        if self.is_moe:
            exp_w, exp_b = self._ffn(self.hidden_size, self.moe_intermediate_size, self.mlp_bias)
            idle = (self.num_experts - self.experts_per_token) * (exp_w + exp_b) * self.num_moe_layers
        emb = 0 if include_embedding or self.tie_word_embeddings else self.vocab_size * self.hidden_size
        return self.params_total() - idle - emb

    def _expert_matmul_params(self) -> int:
        """Matmul weights of all routed + shared experts (the part ``expert_precision`` applies to)."""
        d = self.hidden_size
        return self.num_moe_layers * (self.num_experts * 3 * d * self.moe_intermediate_size
                                      + self.num_shared_experts * 3 * d * self._shared_ff)

    def weight_bytes(self, precision: str, expert_precision: str | None = None) -> float:
        """Bytes to store all weights.

        Everything is stored at ``precision`` except, if ``expert_precision`` is given, the routed and
        shared expert matrices (e.g. gpt-oss ships experts in ``"mxfp4"``, the rest in bf16; Groq's report says
        MoE weights use block floating point, ``"bfp8"``). Block formats include their shared-exponent overhead.
        """
        b = bytes_per_element(precision)
        total = self.params_total()
        if expert_precision is None:
            return total * b
        be = bytes_per_element(expert_precision)
        ex = self._expert_matmul_params()
        return (total - ex) * b + ex * be

    def _kv_elems_per_token_per_layer(self) -> int:
        if self.is_mla:
            return self.kv_lora_rank + self.qk_rope_head_dim
        return 2 * self.num_kv_heads * self.head_dim

    def kv_cache_bytes_per_token(self, precision: str = "bf16") -> float:
        """KV-cache bytes per token summed over **all** layers (window caps ignored; see kv_cache_bytes).

        GQA/MHA: 2 · num_kv_heads · head_dim per layer; MLA: kv_lora_rank + qk_rope_head_dim per layer
        (the compressed latent that absorbed-MLA kernels cache). × bytes per element.
        """
        return self.num_layers * self._kv_elems_per_token_per_layer() * bytes_per_element(precision)

    def kv_cache_bytes(self, context_tokens, precision: str = "bf16", batch=1, *, cap_local: bool = True):
        """KV-cache bytes for ``batch`` sequences of ``context_tokens`` each (scalar or array).

        Full-attention layers keep every token; local layers (gpt-oss sliding window 128, Llama 4 chunked
        attention 8192) keep min(context, window) tokens when ``cap_local`` (the runtime must exploit it).
        """
        ctx = check_array("context_tokens", context_tokens, lo=0, hi=_L.MAX_TOKENS)
        batch = check_array("batch", batch, lo=0, hi=_L.MAX_BATCH)
        check_bool("cap_local", cap_local)
        per_layer = self._kv_elems_per_token_per_layer() * bytes_per_element(precision)
        full = self.num_full_attention_layers if cap_local else self.num_layers
        local = self.num_layers - full
        tokens = full * ctx + local * np.minimum(ctx, self.local_window_tokens)
        out = batch * per_layer * tokens
        return float(out) if out.ndim == 0 else out

    def _matmul_params_active(self) -> int:
        """Matmul weights a token multiplies: attention projections, dense FFNs, k routed + shared experts,
        router, and lm_head (vocab × hidden, also when tied). Embedding lookup, biases and norms excluded."""
        d = self.hidden_size
        n_moe = self.num_moe_layers
        per_moe = (self.experts_per_token * 3 * d * self.moe_intermediate_size
                   + self.num_shared_experts * 3 * d * self._shared_ff + d * self.num_experts)
        return (self.num_layers * self._attn_matmul()
                + (self.num_layers - n_moe) * 3 * d * self.intermediate_size
                + n_moe * per_moe + self.vocab_size * d)

    def flops_per_token(self, context_tokens):
        """FLOPs to produce one token with ``context_tokens`` tokens in context (scalar or array).

        F = 2·P_mm + Σ_layers 2·n_ℓ·H·(d_qk + d_v), where P_mm = active matmul parameters (attention
        projections, dense FFN, routed experts_per_token + shared experts, router, lm_head; not the embedding
        lookup), n_ℓ = context for full-attention layers and min(context, window) for local layers,
        d_qk/d_v = head_dim (GQA) or qk_nope+qk_rope / v_head_dim (MLA, non-absorbed form). One multiply-add
        = 2 FLOPs; softmax, norms and activations are ignored.
        """
        ctx = check_array("context_tokens", context_tokens, lo=0, hi=_L.MAX_TOKENS)
        attended = (self.num_full_attention_layers * ctx
                    + self.num_local_attention_layers * np.minimum(ctx, self.local_window_tokens))
        attn = 2.0 * attended * self.num_heads * (self._qk_head_dim + self._v_head_dim)
        out = 2.0 * self._matmul_params_active() + attn
        return float(out) if np.ndim(out) == 0 else out


@_memo.memo(1024, group="catalog")
def _param_breakdown(m: Model) -> Mapping[str, int]:
    """Memoized :meth:`Model.param_breakdown` (keyed on the frozen Model's values, so it cannot go stale)."""
    return MappingProxyType(m._param_breakdown_uncached())


def parse_model(raw: Mapping, where: str, *, require_source: bool) -> Model:
    """Validate one model entry already read into ``raw`` (``where`` names it in errors). ``require_source``: every
    number must cite the bibliography (shipped files); user entries may give bare numbers."""
    sources: dict[str, str] = {}
    allowed = set(_MODEL_STR) | set(_MODEL_NUM) | {"extra"}
    for k in raw:
        if k not in allowed:
            raise _unknown_key_error(where, k, allowed)
    kw: dict[str, Any] = {}
    for k, (req, default) in _MODEL_STR.items():
        if k not in raw:
            if req:
                raise LabsimError(f"{where}: missing field {k!r}")
            kw[k] = default
            continue
        kw[k] = _coerce(where, k, "str", _unwrap(where, k, raw[k], sources if k in ("qk_norm",
                        "local_attention_kind") else {}, require_source=False), allow_zero=True)
    check_name(f"{where}: name", kw["name"])
    kw["display_name"] = kw["display_name"] or kw["name"]
    kw["qk_norm"] = check_choice(f"{where}: qk_norm", kw["qk_norm"], _QK_NORMS, what="option")
    kw["local_attention_kind"] = check_choice(f"{where}: local_attention_kind", kw["local_attention_kind"],
                                              _LOCAL_KINDS, what="option")
    positive = {"num_layers", "hidden_size", "num_heads", "num_kv_heads", "head_dim", "vocab_size",
                "moe_layer_step", "full_attention_period"}
    for k, (kind, req, default) in _MODEL_NUM.items():
        if k not in raw:
            if req:
                raise LabsimError(f"{where}: missing field {k!r}")
            kw[k] = default
            continue
        v = _unwrap(where, k, raw[k], sources, require_source=require_source)
        kw[k] = _coerce(where, k, kind, v, allow_zero=k not in positive)
    # cross-field checks
    if kw["num_experts"]:
        for k in ("experts_per_token", "moe_intermediate_size"):
            if kw[k] <= 0:
                raise LabsimError(f"{where}: {k} = {kw[k]} must be > 0 for a MoE model (num_experts = "
                                  f"{kw['num_experts']})")
        if kw["experts_per_token"] > kw["num_experts"]:
            raise LabsimError(f"{where}: experts_per_token = {kw['experts_per_token']} exceeds num_experts = "
                              f"{kw['num_experts']}")
    elif kw["experts_per_token"] or kw["num_shared_experts"]:
        raise LabsimError(f"{where}: experts_per_token/num_shared_experts set but num_experts = 0")
    if kw["num_dense_layers"] > kw["num_layers"]:
        raise LabsimError(f"{where}: num_dense_layers = {kw['num_dense_layers']} exceeds num_layers = "
                          f"{kw['num_layers']}")
    if kw["num_heads"] % kw["num_kv_heads"]:
        raise LabsimError(f"{where}: num_heads = {kw['num_heads']} is not a multiple of num_kv_heads = "
                          f"{kw['num_kv_heads']}")
    if kw["kv_lora_rank"] and not (kw["qk_rope_head_dim"] and kw["qk_nope_head_dim"] and kw["v_head_dim"]):
        raise LabsimError(f"{where}: MLA (kv_lora_rank > 0) needs qk_nope_head_dim, qk_rope_head_dim and "
                          "v_head_dim > 0")
    if (kw["local_window_tokens"] > 0) != (kw["local_attention_kind"] != "none"):
        raise LabsimError(f"{where}: local_window_tokens = {kw['local_window_tokens']} and "
                          f"local_attention_kind = {kw['local_attention_kind']!r} disagree "
                          "(both set or neither)")
    dense_layers_needed = kw["num_experts"] == 0 or kw["num_dense_layers"] > 0 or kw["moe_layer_step"] > 1
    if dense_layers_needed and kw["intermediate_size"] <= 0:
        raise LabsimError(f"{where}: intermediate_size = {kw['intermediate_size']} must be > 0 "
                          "(the model has dense FFN layers)")
    kw["extra"] = MappingProxyType(_parse_extra(where, raw.get("extra"), sources, require_source, Model))
    kw["sources"] = MappingProxyType(sources)
    kw["origin"] = where
    return Model(**kw)
