"""Exercise checkers for chapter 3 (the SRAM capacity tax).

Expected values are computed from the catalog and ``labsim.capacity`` with the exercise constants below (the
exercise text states the same constants); nothing is typed in, and no checker prints its expected value.
"""
from __future__ import annotations

import math

import numpy as np

from .. import capacity, catalog
from ._core import check_bool, check_choice, check_number, not_attempted, say, unanswered

__all__ = ["EX_WEIGHTS", "EX_KV", "EX_GPU", "EX_MOE", "EX_1T", "EX_DOMAIN", "weight_bytes", "chips_with_kv",
           "gpu_tokens_per_s", "why_tokens_fall", "moe_bound", "audit_1t_capex", "claim_30m_holds",
           "max_context_one_domain"]

#: Exercise 1: weight bytes of Qwen3 32B stored in FP8.
EX_WEIGHTS = {"model": "qwen3-32b", "precision": "fp8"}
#: Exercise 2: Llama 3.3 70B on Groq LPUs, INT8 weights, FP16 KV cache, 8,192 tokens × 4 sequences;
#: count weights + KV cache only (no activations, no reserved memory), 230 MB per chip.
EX_KV = {"model": "llama-3.3-70b", "chip": "groq-lpu-v1", "precision": "int8", "kv_precision": "fp16",
         "context_tokens": 8192, "batch": 4}
#: Exercise 3: Llama 3.1 8B in FP16 on one H100, batch 1, 32,768 tokens of context, full peak bandwidth.
EX_GPU = {"model": "llama-3.1-8b", "chip": "nvidia-h100-sxm", "precision": "fp16", "kv_precision": "fp16",
          "context_tokens": 32768}
#: Exercise 4: gpt-oss-120b (MoE) on Groq LPUs at batch 1, INT8, default plan and decode assumptions.
EX_MOE = {"model": "gpt-oss-120b", "chip": "groq-lpu-v1", "precision": "int8"}
#: Exercise 5: the report's 1T-parameter example, Kimi K2 in INT8, weights only, at the report's ~US$5k per chip.
EX_1T = {"model": "kimi-k2", "chip": "groq-lpu-v1", "precision": "int8", "price_usd_per_chip": 5000.0,
         "claimed_capex_usd": 30e6}
#: Exercise 6: the largest context (a multiple of 256 tokens) at which Fig 11's 48 resident sequences of
#: Llama 3.3 70B still fit in Fig 11's 576-chip system (8 racks) — capacity.plan defaults (10 % reserve [A],
#: activations), INT8 weights with embedding and lm_head in FP16, FP16 KV cache.
EX_DOMAIN = {"model": "llama-3.3-70b", "chip": "groq-lpu-v1", "precision": "int8", "kv_precision": "fp16",
             "keep_parts": ("embedding", "lm_head"), "sequences": 48, "step_tokens": 256, "max_tokens": 131072,
             "system_chips": 576}


def _close(a, b, rtol):
    try:
        return math.isclose(float(a), float(b), rel_tol=rtol)
    except (TypeError, ValueError):
        return False


def weight_bytes(answer_bytes) -> bool:
    """Exercise 1: bytes to store every weight of EX_WEIGHTS' model at its precision."""
    m = catalog.model(EX_WEIGHTS["model"])
    expected = m.weight_bytes(EX_WEIGHTS["precision"])
    traps = [(m.weight_bytes("bf16"), "that is the BF16 size — FP8 stores one byte per parameter."),
             (32e9, "that is the round number in the model's name — use the exact params_total().")]
    return check_number(answer_bytes, expected, traps=traps, rtol=5e-3,
                       hint="parameters (model.params_total()) × bytes per parameter (bytes_per_element).")


def chips_with_kv(answer_chips) -> bool:
    """Exercise 2: chips for weights + KV cache at EX_KV's context and batch (rounded up)."""
    e = EX_KV
    m, c = catalog.model(e["model"]), catalog.chip(e["chip"])
    w = m.weight_bytes(e["precision"])
    kv = m.kv_cache_bytes(e["context_tokens"], precision=e["kv_precision"], batch=e["batch"])
    expected = math.ceil(w / c.memory_bytes + kv / c.memory_bytes - 1e-9)
    traps = [
        (math.ceil(w / c.memory_bytes), "that holds the weights only — add the KV cache of every sequence."),
        (math.ceil((w + kv / e["batch"]) / c.memory_bytes), "KV cache for one sequence only — multiply by the batch."),
        (math.ceil((w + kv / 2) / c.memory_bytes), "half the KV cache — keys AND values are cached."),
        (math.ceil((w + kv * 2) / c.memory_bytes), "that KV cache is twice too big — FP16 is 2 bytes per element."),
        ((w + kv) / c.memory_bytes, "a fraction of a chip is still a chip — round up."),
    ]
    return check_number(answer_chips, expected, traps=traps, rtol=0, atol=0.5,
                       hint="(weight bytes + KV-cache bytes) ÷ 230e6 bytes per chip, rounded up.")


def _gpu_expected() -> tuple[float, float]:
    e = EX_GPU
    d = capacity.decode_time(e["model"], e["chip"], chips=1, precision=e["precision"],
                             context_tokens=e["context_tokens"], kv_precision=e["kv_precision"],
                             bandwidth_efficiency=1.0)
    m, c = catalog.model(e["model"]), catalog.chip(e["chip"])
    # the same bound if the (looked-up, not streamed) input embedding is counted as read: also accepted
    alt = c.memory_bandwidth_bytes_per_s / (m.weight_bytes(e["precision"]) + m.kv_cache_bytes(
        e["context_tokens"], precision=e["kv_precision"]))
    return 1.0 / d.parts["memory_s"], alt


def gpu_tokens_per_s(answer_tokens_per_s) -> bool:
    """Exercise 3a: bandwidth-bound tokens/s (batch 1) of EX_GPU, weights + KV cache read once per token."""
    if unanswered(answer_tokens_per_s):
        return not_attempted()
    expected, alt = _gpu_expected()
    if _close(answer_tokens_per_s, alt, 5e-3) and not _close(answer_tokens_per_s, expected, 5e-3):
        return say(True, "(You also streamed the input embedding table; only one row of it is looked up per "
                         "token, so labsim leaves it out — a few % faster.)")
    e = EX_GPU
    m, c = catalog.model(e["model"]), catalog.chip(e["chip"])
    no_kv = c.memory_bandwidth_bytes_per_s / m.weight_bytes(e["precision"])
    traps = [(no_kv, "that ignores the KV cache — at 32k tokens it is read on every step too.")]
    return check_number(answer_tokens_per_s, expected, traps=traps, rtol=5e-3,
                       hint="tokens/s = bandwidth ÷ (weight bytes read + KV-cache bytes read) per token.")


def why_tokens_fall(answer: str) -> bool:
    """Exercise 3b: why the GPU's tokens/s falls as the context grows (one of the given choices)."""
    return check_choice(answer, "kv cache", ["kv cache", "compute", "kernel launch", "nvlink"],
                        hint="what must be read from HBM on every step, and which part of it grows with context?",
                        praise="Every step reads the whole KV cache, which grows linearly with context.")


def moe_bound(answer: str) -> bool:
    """Exercise 4: the dominant bound for EX_MOE (decode_time's ``dominant_bound``)."""
    e = EX_MOE
    expected = capacity.decode_time(e["model"], e["chip"], precision=e["precision"]).dominant_bound
    return check_choice(answer, expected, list(capacity.BOUNDS),
                        hint="compare decode_time(...).parts: how many bytes does each chip install into its matrix "
                             "units per token when the static schedule streams every expert?",
                        praise="On a static schedule every expert is streamed on every token (moe_schedule="
                               "'all_experts'), so the install rate dominates as for a dense model.")


def _1t_expected() -> tuple[int, float]:
    e = EX_1T
    m, c = catalog.model(e["model"]), catalog.chip(e["chip"])
    chips = math.ceil(m.weight_bytes(e["precision"]) / c.memory_bytes - 1e-9)
    return chips, chips * e["price_usd_per_chip"]


def audit_1t_capex(answer_capex_usd) -> bool:
    """Exercise 5a: capacity-only capex (USD) of EX_1T: ceil(weight bytes / 230 MB) × US$5,000."""
    chips, expected = _1t_expected()
    e = EX_1T
    traps = [(1000e9 / 230e6 * e["price_usd_per_chip"],
              "that uses the report's round 1,000 GB — use the model's exact INT8 weight bytes."),
             (chips * catalog.chip(e["chip"]).price_usd,
              "that uses the catalog's Fig 11 price ($4,375); the exercise asks for the report's ~$5,000 per chip.")]
    return check_number(answer_capex_usd, expected, traps=traps, rtol=2e-3,
                       hint="chips = ceil(weight bytes ÷ 230e6); capex = chips × 5,000 USD.")


def claim_30m_holds(answer: bool) -> bool:
    """Exercise 5b: does capacity arithmetic reproduce the report's US$30 M within ±10 %?"""
    _, capex = _1t_expected()
    expected = abs(capex - EX_1T["claimed_capex_usd"]) <= 0.10 * EX_1T["claimed_capex_usd"]
    return check_bool(answer, expected, hint="compare your capex with $30 M: is the gap within ±10 %?",
                      praise="Capacity alone gives noticeably less; the report itself calls its numbers "
                             "order-of-magnitude only.")


def _domain_sweep(**over) -> int | None:
    e = {**EX_DOMAIN, **over}
    ctx = np.arange(0, e["max_tokens"] + 1, e["step_tokens"])
    s = capacity.plan_sweep(e["model"], e["chip"], context_tokens=ctx, batch=e["sequences"],
                            precision=e["precision"], kv_precision=e["kv_precision"], keep_parts=e["keep_parts"],
                            **({"overhead": e["overhead"]} if "overhead" in e else {}))
    ok = s["chips"] <= e["system_chips"]
    return int(ctx[ok].max()) if ok.any() else None


def max_context_one_domain(answer_tokens) -> bool:
    """Exercise 6: largest context (multiple of 256) with EX_DOMAIN's 48 sequences inside the 576-chip system."""
    if unanswered(answer_tokens):
        return not_attempted()
    expected = _domain_sweep()
    step = EX_DOMAIN["step_tokens"]
    traps = [(_domain_sweep(overhead=0.0),
              "that ignores the 10 % reserved per chip — keep plan()'s default overhead."),
             (_domain_sweep(sequences=3), "that is for 3 sequences — Fig 11 keeps 3 × 16 = 48 in flight."),
             (expected + step, "at that context the plan no longer fits (or you left the embedding and lm_head in "
                               "INT8): take the largest context whose plan still has ≤ 576 chips."),
             (_domain_sweep(kv_precision="int8"), "that is an INT8 KV cache — the exercise asks for FP16.")]
    return check_number(answer_tokens, expected, traps=traps, rtol=0, atol=0.5,
                        hint="sweep context_tokens = 0, 256, 512 … with capacity.plan_sweep(..., batch=48) and keep "
                             "the largest context whose 'chips' is ≤ 576.",
                        praise="Fig 11's 48 concurrent sequences fit one 576-chip domain only up to a few thousand "
                               "tokens of context each; longer chats need fewer sequences or more chips.")
