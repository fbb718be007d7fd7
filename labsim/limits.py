"""Sane upper bounds for every size and magnitude labsim accepts (docs/contract.md).

Each bound sits far beyond anything real — typically 100× to 1,000× the largest published value — so no
honest input meets it, yet small enough that no product of bounded inputs overflows a float and no loop over a
size runs for long. An input above its bound raises ``LabsimError`` naming the parameter and the bound.
"""
from __future__ import annotations

__all__ = [
    "MAX_TOKENS", "MAX_BATCH", "MAX_LATENCY_S", "MAX_RATE_PER_S", "MAX_TOKENS_PER_S", "MAX_USD", "MAX_POWER_KW",
    "MAX_POWER_W", "MAX_CHIPS", "MAX_BYTES", "MAX_BYTES_PER_S", "MAX_OPS_PER_S", "MAX_CLOCK_HZ", "MAX_MODEL_DIM",
    "MAX_LAYERS", "MAX_HEADS", "MAX_EXPERTS", "MAX_STEPS", "MAX_FAN_OUT", "MAX_SAMPLES", "MAX_CV",
]

#: Tokens in a context, prompt, output or task: 100× the longest published context window (10 M tokens).
MAX_TOKENS = 10**9
#: Sequences decoded together (a batch): far above any KV cache that fits real memory.
MAX_BATCH = 10**7
#: A latency or a service time, in seconds (≈ 11.6 days).
MAX_LATENCY_S = 1e6
#: Requests or tasks per second arriving at one workload or server.
MAX_RATE_PER_S = 1e9
#: Decode or prefill speed, tokens per second.
MAX_TOKENS_PER_S = 1e12
#: Any price or capital cost, US dollars (US$10 trillion, about a tenth of world GDP).
MAX_USD = 1e13
#: Power of a system or a fleet, kW (100 GW, several times the largest data-center campus announced).
MAX_POWER_KW = 1e8
#: Power of one chip, W.
MAX_POWER_W = 1e7
#: Chips in a system, a plan or a fleet.
MAX_CHIPS = 10**9
#: Bytes of memory or of one message (an exabyte).
MAX_BYTES = 1e18
#: Bandwidth, bytes per second.
MAX_BYTES_PER_S = 1e18
#: Peak operations per second of one chip.
MAX_OPS_PER_S = 1e21
#: Clock frequency, Hz.
MAX_CLOCK_HZ = 1e12
#: Width of a model dimension (hidden size, FFN width, vocabulary, head dim, LoRA rank): 40× the largest
#: published vocabulary (256 k).
MAX_MODEL_DIM = 10**7
#: Decoder layers of a model.
MAX_LAYERS = 10**5
#: Attention heads (query or KV) of one layer.
MAX_HEADS = 10**5
#: Routed experts of one MoE layer.
MAX_EXPERTS = 10**6
#: Sequential stages of an agent task.
MAX_STEPS = 100_000
#: Parallel copies of one stage (fan-out).
MAX_FAN_OUT = 100_000
#: Monte Carlo draws in one call.
MAX_SAMPLES = 50_000_000
#: Coefficient of variation of a latency or an arrival process.
MAX_CV = 20.0
