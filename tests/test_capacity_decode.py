"""The one decode model (labsim.capacity.decode_time): hand-computed cases, mechanisms, invariants, defaults."""
from __future__ import annotations

import dataclasses
import inspect

import numpy as np
import pytest

from labsim import LabsimError, catalog
from labsim import capacity as cap

L8, L70, LPU, B300 = "llama-3.1-8b", "llama-3.3-70b", "groq-lpu-v1", "nvidia-b300"
FEED = 10_240 * 0.9e9               # MXM install rate: 10,240 B/cycle × 900 MHz = 9.216e12 B/s
USABLE = 230e6 * 0.9                # 10 % of each chip reserved → 207 MB usable


def test_lpu_install_bound_by_hand():
    # Llama 3.1 8B at INT8, context 0 (no KV). One decoder layer: q 4096² + k,v 2·4096·1024 + o 4096² =
    # 41,943,040; MLP 3·4096·14336 = 176,160,768; 2 norms · 4096 = 8,192 → 218,112,000 B > 207 MB usable.
    # Packed, the layer spans 218.112 / 207 = 1.054 chips that stream their shares in parallel: the busiest
    # streams one chip's usable SRAM, 207 MB. Same for the lm_head (128,256 · 4096 = 525 MB over 2.54 chips).
    # memory = 33 × 207e6 / 9.216e12 = 0.7412 ms
    d = cap.decode_time(L8, LPU, context_tokens=0)
    assert d.parts["memory_s"] == pytest.approx(33 * USABLE / FEED, rel=1e-9)
    assert d.chips_per_layer == pytest.approx(218_112_000 / USABLE, rel=1e-9)
    assert d.dominant_bound == "memory bandwidth"
    # the SRAM headline (80 TB/s) would make the same bytes 8.7x faster — the note says so
    assert "80 TB/s" in d.notes


def test_lpu_layer_smaller_than_a_chip_streams_only_its_bytes():
    # Llama 3.1 8B at INT4-like 0.5 B per weight: a layer is 109 MB < 207 MB → one chip, 109 MB streamed.
    # bytes installed per stored byte = 1 B (INT8 MXM) / 0.5 B = 2 → the MXM receives 218 MB per layer.
    d = cap.decode_time(L8, LPU, context_tokens=0, precision="int4")
    per_layer_stored = 218_112_000 * 0.5
    head_stored = 128_256 * 4096 * 0.5
    expect = (32 * per_layer_stored * 2 + head_stored * 2 / (head_stored / USABLE)) / FEED
    assert d.parts["memory_s"] == pytest.approx(expect, rel=1e-9)


def test_more_chips_do_not_make_an_lpu_token_faster_but_tensor_parallel_does():
    base = cap.decode_time(L70, LPU)
    more = cap.decode_time(L70, LPU, chips=576)
    assert more.seconds_per_token == pytest.approx(base.seconds_per_token)      # extra chips hold nothing
    assert more.chips_used == base.chips_used
    spread = cap.decode_time(L70, LPU, tensor_parallel=8, allow_overflow=True)
    assert spread.chips_used == 8 * 81                # 80 layers + lm_head, 8 chips each
    assert spread.tokens_per_s > base.tokens_per_s
    assert spread.parts["memory_s"] < base.parts["memory_s"]
    assert spread.parts["collectives_s"] > 0
    assert not spread.fits or spread.chips >= spread.chips_used
    with pytest.raises(LabsimError, match="chips"):
        cap.decode_time(L70, LPU, chips=576, tensor_parallel=8)          # 648 chips needed


def test_lpu_pipeline_not_aggregate_bandwidth():
    d = cap.decode_time(L70, LPU, chips=576)
    # aggregate bound: ~70 GB / (576 × 80 TB/s) ≈ 1.5 µs — three orders of magnitude too optimistic
    assert d.aggregate_bandwidth_s < 5e-6
    assert d.seconds_per_token > 100 * d.aggregate_bandwidth_s
    assert d.parts["c2c_hops_s"] > 0 and d.parts["collectives_s"] > 0


def test_moe_schedules_order_and_block_floating_point_install():
    kw = dict(context_tokens=0, expert_precision="bfp8")
    t = {s: cap.decode_time("gpt-oss-120b", LPU, moe_schedule=s, **kw).seconds_per_token
         for s in cap.MOE_SCHEDULES}
    # streaming every expert is the slowest; worst-case placement of routed experts next; balanced fastest
    assert t["all_experts"] > t["routed_worst_case"] > t["routed_balanced"]
    # bfp8 stores 4.5 bits per weight but the MXM multiplies INT8: 1 / 0.5625 installed bytes per stored byte
    a = cap.decode_time("gpt-oss-120b", LPU, **kw)
    b = cap.decode_time("gpt-oss-120b", LPU, context_tokens=0, expert_precision="int8")
    assert a.parts["memory_s"] > b.parts["memory_s"]
    assert cap.compute_precision_for(LPU, "bfp8") == "int8"
    assert cap.compute_precision_for(LPU, "fp8") == "fp16"          # the TSP has no FP8 MXM mode


def test_b300_bandwidth_bound_by_hand():
    # Bytes read per token at context 0 = all weights except the input embedding (a one-row lookup):
    # 70,553,706,496 − 1,050,673,152 = 69,503,033,344 B at INT8; at 8 TB/s (efficiency 1): 8.688 ms.
    # CUDA graphs (default): 80 layers × 11 kernels × 2.5 µs device gap + one 5 µs graph launch = 2.205 ms.
    d = cap.decode_time(L70, B300, context_tokens=0, bandwidth_efficiency=1.0)
    assert d.parts["memory_s"] == pytest.approx(69_503_033_344 / 8e12, rel=1e-9)
    assert d.parts["launch_s"] == pytest.approx(80 * 11 * 2.5e-6 + 5e-6, rel=1e-9)
    assert d.seconds_per_token == pytest.approx(69_503_033_344 / 8e12 + 80 * 11 * 2.5e-6 + 5e-6, rel=1e-9)
    assert d.dominant_bound == "memory bandwidth"


def test_eager_launches_are_a_what_if_and_never_faster():
    g = cap.decode_time("gpt-oss-120b", B300, context_tokens=1024)
    e = cap.decode_time("gpt-oss-120b", B300, context_tokens=1024, cuda_graphs=False)
    assert e.seconds_per_token > g.seconds_per_token
    assert g.config.cuda_graphs is True


def test_gpu_allreduce_by_hand():
    # 2 × A100, Llama 2 7B fp16, context 0: 32 layers × 2 all-reduces × (17 µs + 2·(1/2)·4096·2 B / 300 GB/s)
    d = cap.decode_time("llama-2-7b", "nvidia-a100-sxm", chips=2, precision="fp16", context_tokens=0)
    assert d.parts["allreduce_s"] == pytest.approx(64 * (17e-6 + 4096 * 2 / 300e9), rel=1e-9)


def test_moe_reads_only_active_experts_on_a_gpu():
    m = catalog.model("gpt-oss-120b")
    s = cap.decode_sweep(m, B300, chips=1, context_tokens=0, batch=1)
    assert float(s["aggregate_bandwidth_s"]) * 8e12 < 0.25 * m.weight_bytes("int8")
    assert cap.experts_touched(128, 4, 1) == pytest.approx(4.0)
    assert cap.experts_touched(128, 4, 10_000) == pytest.approx(128.0)
    big = cap.decode_sweep(m, B300, chips=1, context_tokens=0, batch=4096)
    assert float(big["aggregate_bandwidth_s"]) * 8e12 == pytest.approx(
        m.weight_bytes("int8") - m.param_breakdown()["embedding"], rel=1e-3)


def test_batch_raises_throughput_until_compute_bound():
    b = np.arange(1, 2049)
    s = cap.decode_sweep(L70, B300, chips=1, context_tokens=0, batch=b)
    thr = s["throughput_tokens_per_s"]
    kb = cap.compute_bound_batch(L70, B300, context_tokens=0, chips=1)
    assert kb is not None and 100 < kb < 2048
    assert np.all(np.diff(thr[:kb - 1]) > 0)                     # grows while memory-bound
    assert s["dominant_bound"][kb - 2] == "memory bandwidth"
    assert s["dominant_bound"][kb - 1] == "compute"


def test_scalar_and_array_paths_are_one_model():
    ctx = np.array([0, 1024, 8192, 65536])
    for model, chip in ((L70, LPU), ("gpt-oss-120b", LPU), (L70, B300), ("kimi-k2", LPU)):
        s = cap.decode_sweep(model, chip, context_tokens=ctx)
        for i, c in enumerate(ctx):
            d = cap.decode_time(model, chip, context_tokens=int(c))
            assert d.seconds_per_token == pytest.approx(float(s["seconds_per_token"][i]), rel=1e-12)
            assert d.chips == int(s["chips"][i])
            for k, v in d.parts.items():
                assert v == pytest.approx(float(s["parts"][k][i]), rel=1e-12, abs=1e-18)


def test_parts_add_up_and_results_are_deterministic():
    for chip in (LPU, B300):
        a = cap.decode_time(L70, chip, batch=2, context_tokens=2048)
        assert a == cap.decode_time(L70, chip, batch=2, context_tokens=2048)
        total = max(a.parts["memory_s"], a.parts["compute_s"]) + sum(
            v for k, v in a.parts.items() if k not in ("memory_s", "compute_s"))
        assert total == pytest.approx(a.seconds_per_token)


def test_report_domain_is_a_what_if_and_adds_ethernet():
    kimi = cap.decode_time("kimi-k2", LPU, expert_precision="bfp8")
    assert kimi.parts["ethernet_s"] == 0                 # ISCA 2022: one scheduled network up to 10,440 TSPs
    report = cap.decode_time("kimi-k2", LPU, expert_precision="bfp8", sync_domain_chips=576)
    assert report.parts["ethernet_s"] > 0
    assert report.seconds_per_token > kimi.seconds_per_token


def test_speculative_is_a_separate_what_if():
    s = cap.speculative(L70, LPU, acceptance_rate=0.8, draft_tokens=4, draft_cost_ratio=0.05)
    # (1 − 0.8^5) / 0.2 = 3.3616 tokens per verification step
    assert s.tokens_per_step == pytest.approx((1 - 0.8 ** 5) / 0.2)
    assert s.speedup > 1.5
    assert cap.decode_time(L70, LPU).tokens_per_s == pytest.approx(s.base.tokens_per_s)
    with pytest.raises(LabsimError, match="acceptance_rate"):
        cap.speculative(L70, LPU, acceptance_rate=1.0)


def test_decode_config_defaults_live_in_the_assumptions_table():
    A = cap.ASSUMPTIONS
    cfg = cap.DecodeConfig()
    for f in dataclasses.fields(cfg):
        if f.name in A:
            assert getattr(cfg, f.name) == A[f.name].value, f.name
    for name in ("mxm_feed_bytes_per_cycle", "layer_chain_cycles", "moe_schedule", "cuda_graphs",
                 "gpu_allreduce_latency_s", "hop_source", "sync_domain_chips"):
        assert A[name].status and A[name].source
    pl = inspect.signature(cap.plan).parameters
    for name in ("logits_precision", "layout", "gpu_power_of_two", "kv_precision"):
        assert pl[name].default == A[name].value, name
    assert cap.plan(L70, LPU).reserved_bytes_per_chip == pytest.approx(230e6 * A["reserved_fraction_sram"].value)
    assert cap.decode_time(L70, LPU).context_tokens == A["context_tokens"].value


def test_config_object_and_keyword_overrides_agree():
    cfg = cap.DecodeConfig(moe_schedule="routed_worst_case", cuda_graphs=False)
    a = cap.decode_time("gpt-oss-120b", LPU, config=cfg)
    b = cap.decode_time("gpt-oss-120b", LPU, moe_schedule="routed_worst_case", cuda_graphs=False)
    assert a == b
    with pytest.raises(LabsimError, match="unknown decode parameter"):
        cap.decode_time(L70, LPU, serial_ops_per_layer=12)
    with pytest.raises(LabsimError, match="moe_schedule"):
        cap.decode_time(L70, LPU, moe_schedule="magic")
    with pytest.raises(LabsimError, match="tensor_parallel"):
        cap.decode_time(L70, LPU, tensor_parallel=0)
