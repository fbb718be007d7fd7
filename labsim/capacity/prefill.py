"""Time to first token: one prompt through the model in one forward pass (batch 1)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from ..errors import LabsimError, check_array, check_int, check_number
from ._common import as_chip, as_model, broadcast, nonempty
from .decode import decode_sweep
from .defaults import ASSUMPTIONS, MIN_EFFICIENCY

__all__ = ["PrefillResult", "prefill_sweep", "prefill_time"]


@dataclass(frozen=True)
class PrefillResult:
    """Time to process one prompt (batch 1) and emit its first token. ``parts`` in seconds:
    ``compute_s`` and ``memory_s`` overlap (the larger counts); ``latency_s`` (hops, collectives, launches, fixed
    on-chip steps of one forward pass) adds once."""
    model: str
    chip: str
    chips: int
    prompt_tokens: int
    seconds: float
    tokens_per_s: float      #: prompt tokens processed per second
    parts: Mapping[str, float]
    dominant_bound: str      #: "compute", "memory bandwidth" or "latency"


def prefill_sweep(model, chip, *, prompt_tokens, chips=None, context_tokens=None, precision: str = "int8",
                  expert_precision: str | None = None, kv_precision: str = "fp16",
                  compute_efficiency: float = ASSUMPTIONS["compute_efficiency"].value,
                  bandwidth_efficiency: float | None = None, **decode_kwargs) -> dict:
    """Vectorized :func:`prefill_time` over arrays of ``prompt_tokens`` and ``chips`` (broadcast).

    ``context_tokens`` (default: the prompt) sizes the plan and the KV cache the chips must hold. Returns arrays
    ``seconds, compute_s, memory_s, latency_s, chips, fits`` and the ``compute_precision`` used.
    """
    P = nonempty("prompt_tokens", check_array("prompt_tokens", prompt_tokens, lo=1.0, hi=1e9))
    ctx = P if context_tokens is None else \
        nonempty("context_tokens", check_array("context_tokens", context_tokens, lo=0.0, hi=1e9))
    broadcast(prompt_tokens=P, context_tokens=ctx)
    m, c = as_model(model), as_chip(chip)
    # a number, not None (decode_sweep reads None as "the default"); its range is DecodeConfig's
    check_number("compute_efficiency", compute_efficiency, lo=MIN_EFFICIENCY, hi=1.0)
    one = decode_sweep(m, c, chips=chips, batch=1, context_tokens=ctx, precision=precision,
                       expert_precision=expert_precision, kv_precision=kv_precision,
                       compute_efficiency=compute_efficiency, bandwidth_efficiency=bandwidth_efficiency,
                       **decode_kwargs)
    cfg = one["config"]          # the validated knobs (None = the default, as in decode_sweep)
    n = np.asarray(one["chips"], dtype=np.float64)
    parts = one["parts"]
    latency_s = np.asarray(one["latency_s"]) - np.maximum(parts["memory_s"], parts["compute_s"])
    comp_p = one["compute_precision"]
    peak = c.peak_ops(comp_p) * cfg.compute_efficiency if comp_p else np.inf
    compute_s = P * np.asarray(m.flops_per_token(P / 2.0), dtype=np.float64) / (n * peak)
    bw_eff = cfg.bandwidth_efficiency
    if bw_eff is None:
        kind = "sram" if c.memory_kind == "sram" else "hbm"
        bw_eff = ASSUMPTIONS[f"bandwidth_efficiency_{kind}"].value
    bytes_moved = (m.weight_bytes(cfg.precision, expert_precision=cfg.expert_precision)
                   + P * m.kv_cache_bytes_per_token(cfg.kv_precision))
    memory_s = bytes_moved / (n * c.memory_bandwidth_bytes_per_s * bw_eff)
    seconds = np.maximum(compute_s, memory_s) + latency_s
    return {"seconds": seconds, "compute_s": compute_s + 0 * seconds, "memory_s": memory_s + 0 * seconds,
            "latency_s": latency_s + 0 * seconds, "chips": one["chips"], "fits": one["fits"],
            "compute_precision": comp_p}


def prefill_time(model, chip, *, prompt_tokens: int, chips: int | None = None, precision: str = "int8",
                 expert_precision: str | None = None, kv_precision: str = "fp16",
                 compute_efficiency: float = ASSUMPTIONS["compute_efficiency"].value,
                 bandwidth_efficiency: float | None = None, **decode_kwargs) -> PrefillResult:
    """Time to first token of one ``prompt_tokens``-long prompt on ``chips`` × ``chip`` (batch 1).

    Model [A]: all prompt tokens go through the model in one forward pass, so every chip works at once — on a
    GPU all tensor-parallel GPUs, on an LPU pipeline every stage on a different slice of the prompt (balanced
    stages). compute = P · FLOPs/token(P/2) (each token attends to those before it) ÷ (chips · usable peak);
    memory = (all weights once + the P tokens' KV written) ÷ (chips · usable bandwidth); the two overlap. The
    last prompt token must still cross every hop, collective and kernel launch of one forward pass: those
    latency terms are taken from :func:`decode_time` at batch 1 and added once. Left out: the bandwidth of
    prefill-sized all-reduces and chunked prefill.
    """
    prompt_tokens = check_int("prompt_tokens", prompt_tokens, lo=1, hi=100_000_000)
    m, c = as_model(model), as_chip(chip)
    if chips is not None:
        chips = check_int("chips", chips, lo=1, hi=10_000_000)
    out = prefill_sweep(m, c, prompt_tokens=prompt_tokens, chips=chips, precision=precision,
                        expert_precision=expert_precision, kv_precision=kv_precision,
                        compute_efficiency=compute_efficiency, bandwidth_efficiency=bandwidth_efficiency,
                        **decode_kwargs)
    if chips is not None and not bool(out["fits"]):
        raise LabsimError(f"chips = {chips} is out of range: {m.name} at {precision} needs more chips to hold "
                          f"its weights and a {prompt_tokens}-token KV cache")
    n = int(out["chips"])
    compute_s, memory_s, latency_s = (float(out[k]) for k in ("compute_s", "memory_s", "latency_s"))
    seconds = float(out["seconds"])
    parts = {"compute_s": compute_s, "memory_s": memory_s, "latency_s": latency_s}
    bound = max((("compute", compute_s), ("memory bandwidth", memory_s), ("latency", latency_s)),
                key=lambda kv: kv[1])[0]
    return PrefillResult(model=m.name, chip=c.name, chips=n, prompt_tokens=prompt_tokens, seconds=seconds,
                         tokens_per_s=prompt_tokens / seconds, parts=MappingProxyType(parts), dominant_bound=bound)
