"""Chapter 6's named assumptions: every default of the fleet optimizer, with its status and source."""
from __future__ import annotations

from collections.abc import Mapping

from ..assumptions import Assumption, registry, table

_A = [
    Assumption("quantile", 0.99, "", "[A]",
               "SLOs are stated at P99 (the report's 'tail latency (P99)', [huatai26] Q5); each SLO may set its own "
               "quantile"),
    Assumption("batches", (1, 2, 4, 8, 16, 32, 64, 128), "sequences per replica", "[A]",
               "grid of decode batch sizes searched ([huatai26] Fig 11 uses 2, 3 and 64)"),
    Assumption("layout_multipliers", (1, 2, 4, 8), "× chapter-3 layout", "[A]",
               "GPU: chips per replica = multiplier × capacity.plan(batch 1).chips (a wider tensor-parallel "
               "group); LPU: every layer spread over multiplier × the fewest chips that hold it "
               "(capacity.decode_time(tensor_parallel=…)); 1 = chapter 3's packed layout"),
    Assumption("microbatches_sram", (1, 4, 16), "batches in flight", "[A]/[S]",
               "pipeline microbatches on SRAM chips ([huatai26] Fig 11 Groq column: batch 3 × pipeline 16); "
               "GPUs use 1"),
    Assumption("max_replicas", 20_000, "replicas", "[A]", "search ceiling on replicas per workload"),
    Assumption("system_power_factor_sram", 230.4e3 / 576 / 300, "× chip W", "[D]",
               "[huatai26] Fig 11 Groq system 230.4 kW ÷ 576 chips ÷ 300 W chip max ([groq-brief]) = 1.33: "
               "hosts, fans, network"),
    Assumption("system_power_factor_hbm", 10.2e3 / 8 / 700, "× chip W", "[D]",
               "[huatai26] Fig 11 8×H100 system 10.2 kW ÷ 8 ÷ 700 W ([nvidia-h100-datasheet]) = 1.82: CPUs, "
               "NICs, fans"),
    Assumption("idle_power_fraction", 0.3, "of system power", "[A]",
               "power drawn by an idle system; drawn power = idle + (1 − idle) × load, passed to tco.evaluate as "
               "its 'utilization' (which scales the power bill)"),
    Assumption("max_utilization", 0.9, "of slots", "[A]",
               "background workloads (no SLO) may load the fleet's slots up to this fraction; above it a "
               "Poisson stream's queue explodes (chapter 5)"),
    Assumption("platform_sram", "lpu", "", "[A]",
               "decode jitter of SRAM chips: chapter 5's 'lpu' platform archetype (data/latency/platforms.toml)"),
    Assumption("platform_hbm", "dedicated_gpu", "", "[A]",
               "decode jitter of HBM chips: chapter 5's 'dedicated_gpu' archetype (our own fleet, not a WAN API)"),
    Assumption("dispatch", "shared queue", "", "[A]",
               "a load balancer sends each request to any free slot of any replica: an M/G/N queue with N = "
               "replicas × batch × microbatches slots (Erlang C with an Allen–Cunneen (1 + C_s²)/2 correction)"),
    Assumption("decode_at_full_batch", True, "", "[A]",
               "every token is timed at the full batch (conservative: a half-empty batch is faster)"),
    Assumption("prefill_model", "capacity.prefill_sweep", "", "[A]",
               "chapter 3's prefill: max(P × FLOPs/token(P/2) ÷ (chips × peak × efficiency), weights + KV ÷ "
               "bandwidth) + one forward pass of hop/collective/launch latency"),
    Assumption("prefill_interrupts_decode", True, "", "[A]",
               "no chunked prefill: while a replica prefills a new request its other sequences stall (the "
               "'generation stalls' of [sarathi24] Fig. 1a)"),
    Assumption("tokens_priced", "output", "", "[S]",
               "USD per million tokens counts generated (output) tokens, as [huatai26] Fig 11 does"),
]

#: name -> Assumption(value, unit, status, source). Every default below comes from this table.
ASSUMPTIONS: Mapping[str, Assumption] = registry(_A)


def _av(name):
    return ASSUMPTIONS[name].value


def assumptions_table() -> str:
    """A plain-text table of the fleet assumptions (name, value, status, source)."""
    return table(_A)
