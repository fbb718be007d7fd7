"""Tests for labsim.capacity: hand-computable cases (arithmetic in comments), monotonicity, bad inputs."""
from __future__ import annotations

import math

import numpy as np
import pytest

from labsim import LabsimError, catalog
from labsim import capacity as cap

L70 = "llama-3.3-70b"
LPU = "groq-lpu-v1"

# Llama 3.3 70B parameters, by hand ([llama33-70b-hf] config.json):
#   embedding = lm_head = 128,256 × 8,192                        =  1,050,673,152 each (untied)
#   attention / layer = q 8192² + k,v 2·8192·1024 + o 8192²      =    150,994,944  × 80 = 12,079,595,520
#   MLP / layer = 3 × 8,192 × 28,672                             =    704,643,072  × 80 = 56,371,445,760
#   norms = 80 × 2 × 8,192 + 8,192                               =      1,318,912
#   total                                                        = 70,553,706,496
P70 = 70_553_706_496


def test_llama70b_param_count_by_hand():
    assert catalog.model(L70).params_total() == P70


def test_naive_chips_70gb_over_230mb():
    # 70 GB / 230 MB = 70e9 / 230e6 = 304.35 chips — the report's "naive ≈ 304"
    rows = cap.reconcile_576()
    assert rows[0]["chips"] == pytest.approx(304.3478, rel=1e-4)
    # exact INT8 weights: 70,553,706,496 B / 230e6 B = 306.755 chips
    assert rows[1]["chips"] == pytest.approx(P70 / 230e6, rel=1e-9)


def test_weights_only_plan_by_hand():
    # no KV (context 0), no reserve: (weights + per-layer workspace) / 230 MB, rounded up
    p = cap.plan(L70, LPU, "int8", context_tokens=0, overhead=0.0)
    assert p.weight_bytes == P70
    assert p.kv_cache_bytes == 0
    assert p.chips == math.ceil(p.total_bytes / 230e6)
    assert 307 <= p.chips <= 310            # 306.76 chips of weights + ~0.1 GB workspace
    # FP16 weights: 141.1 GB -> 614 chips: one ISCA 2022 network (≤ 10,440), but > the report's 576
    p16 = cap.plan(L70, LPU, "fp16", context_tokens=0, overhead=0.0)
    assert p16.chips >= math.ceil(2 * P70 / 230e6) == 614
    assert p16.domains == 1 and not p16.crosses_cliff
    r16 = cap.plan(L70, LPU, "fp16", context_tokens=0, overhead=0.0, sync_domain_chips=576)
    assert r16.crosses_cliff and r16.domains == 2


def test_kv_bytes_per_token_llama70b_fp16():
    # 80 layers × 2 (K and V) × 8 KV heads × 128 head_dim × 2 B = 327,680 B per token
    m = catalog.model(L70)
    assert m.kv_cache_bytes_per_token("fp16") == 327_680
    p = cap.plan(L70, LPU, context_tokens=4096, batch=3)
    assert p.kv_cache_bytes == 327_680 * 4096 * 3      # = 4.03 GB


def test_plan_counts_nodes_racks_domains_capex():
    p = cap.plan(L70, LPU)
    c = catalog.chip(LPU)
    assert p.nodes == math.ceil(p.chips / 8)
    assert p.racks == math.ceil(p.chips / 72)
    assert p.domains == 1 and not p.crosses_cliff
    assert p.capex_usd == pytest.approx(p.chips * c.price_usd)
    assert cap.plan(L70, LPU, price_usd_per_chip=5000).capex_usd == p.chips * 5000
    assert p.gpus_per_replica is None
    assert sum(v for k, v in p.breakdown.items() if k in ("weights", "kv_cache", "activations")) == \
        pytest.approx(p.total_bytes)


def test_reserved_overhead_by_hand():
    # usable = 230 MB × (1 − 0.25) = 172.5 MB
    p = cap.plan(L70, LPU, overhead=0.25)
    assert p.usable_bytes_per_chip == pytest.approx(172.5e6)
    assert p.chips == math.ceil(p.total_bytes / 172.5e6)


def test_hbm_plan_power_of_two_and_one_b300():
    p = cap.plan(L70, "nvidia-b300")
    assert p.chips == 1 and p.gpus_per_replica == 1       # 72 GB < 288 GB × 0.9
    p = cap.plan(L70, "nvidia-h100-sxm", "fp16")           # 141 GB + KV > 72 GB usable → 2 → power of two
    assert p.chips == 2 and p.capex_usd == 2 * catalog.chip("nvidia-h100-sxm").price_usd
    p3 = cap.plan("llama-3.1-405b", "nvidia-h100-sxm", "fp16")   # 810 GB / 72 GB = 11.3 → 16
    assert p3.chips == 16
    assert cap.plan("llama-3.1-405b", "nvidia-h100-sxm", "fp16", gpu_power_of_two=False).chips == 12


def test_one_trillion_case_and_the_two_domain_sizes():
    # 1 TB / 230 MB ≈ 4,350 chips by capacity: one ISCA 2022 network (10,440), ≥ 8 of the report's 576-chip
    # domains ([huatai26] Q4 §1, §2)
    p = cap.plan("kimi-k2", LPU, context_tokens=0, overhead=0.0)
    assert p.weight_bytes > 1.0e12
    assert p.chips >= 4_348
    assert p.domains == 1 and not p.crosses_cliff
    r = cap.plan("kimi-k2", LPU, context_tokens=0, overhead=0.0, sync_domain_chips=576)
    assert r.domains >= 8 and r.crosses_cliff
    assert cap.plan("kimi-k2", "nvidia-b300").chips <= 8      # one 8-GPU node holds it


def test_expert_precision_block_floating_point():
    base = cap.plan("gpt-oss-120b", LPU, "int8")
    bfp = cap.plan("gpt-oss-120b", LPU, "int8", expert_precision="bfp8")   # 4.5 bits per expert weight
    assert bfp.weight_bytes < base.weight_bytes and bfp.chips < base.chips
    m = catalog.model("gpt-oss-120b")
    assert bfp.weight_bytes == pytest.approx(m.weight_bytes("int8", "bfp8"))


def test_keep_parts_fp16_adds_exact_bytes():
    m = catalog.model(L70)
    a = cap.plan(L70, LPU, context_tokens=0)
    b = cap.plan(L70, LPU, context_tokens=0, keep_parts=("embedding", "lm_head"))
    # two 1,050,673,152-parameter matrices go from 1 B to 2 B each
    assert b.weight_bytes - a.weight_bytes == 2 * m.param_breakdown()["embedding"]


def test_layout_per_layer_never_fewer_chips():
    a = cap.plan(L70, LPU)
    b = cap.plan(L70, LPU, layout="per_layer")
    assert b.chips >= a.chips


def test_more_context_never_fewer_chips():
    ctx = np.arange(0, 131_073, 512)
    for batch in (1, 3, 16):
        chips = cap.plan_sweep(L70, LPU, context_tokens=ctx, batch=batch)["chips"]
        assert np.all(np.diff(chips) >= 0)
    chips_b = cap.plan_sweep(L70, LPU, context_tokens=8192, batch=np.arange(1, 200))["chips"]
    assert np.all(np.diff(chips_b) >= 0)


def test_plan_sweep_matches_plan():
    ctx = np.array([0, 1000, 8192, 32768])
    s = cap.plan_sweep(L70, LPU, context_tokens=ctx, batch=2)
    for i, c in enumerate(ctx):
        assert s["chips"][i] == cap.plan(L70, LPU, context_tokens=int(c), batch=2).chips


# ---------------------------------------------------------------- decode time

def test_gpu_tokens_fall_with_context():
    ctx = np.array([0, 4096, 16384, 65536])
    tps = cap.decode_sweep(L70, "nvidia-b300", chips=1, context_tokens=ctx)["tokens_per_s"]
    assert np.all(np.diff(tps) < 0)
    # KV read at 64k tokens: 327,680 B × 65,536 = 21.5 GB on top of 69.5 GB of weights
    d = cap.decode_time(L70, "nvidia-b300", chips=2, context_tokens=65536, bandwidth_efficiency=1.0)
    assert d.parts["memory_s"] == pytest.approx((69_503_033_344 + 327_680 * 65536) / 16e12, rel=1e-9)


def test_decode_time_matches_sweep_and_is_deterministic():
    a = cap.decode_time(L70, LPU, chips=400, batch=2, context_tokens=2048)
    s = cap.decode_sweep(L70, LPU, chips=400, batch=2, context_tokens=2048)
    assert a.seconds_per_token == pytest.approx(float(s["seconds_per_token"]))
    assert a == cap.decode_time(L70, LPU, chips=400, batch=2, context_tokens=2048)
    assert a.tokens_per_s == pytest.approx(1 / a.seconds_per_token)
    total = max(a.parts["memory_s"], a.parts["compute_s"]) + sum(
        v for k, v in a.parts.items() if k not in ("memory_s", "compute_s"))
    assert total == pytest.approx(a.seconds_per_token)


def test_microbatches_and_throughput():
    d1 = cap.decode_time(L70, LPU, chips=576, batch=3, context_tokens=1024)
    d16 = cap.decode_time(L70, LPU, chips=576, batch=3, context_tokens=1024, microbatches=16)
    assert d16.throughput_tokens_per_s > 10 * d1.throughput_tokens_per_s
    assert d16.tokens_per_s <= d1.tokens_per_s


# ---------------------------------------------------------------- roofline

def test_roofline_by_hand():
    # H100 INT8: ridge = 1,978.9 TOPS / 3.35 TB/s = 590.7 ops/byte
    r = cap.ridge_intensity("nvidia-h100-sxm", "int8")
    assert r == pytest.approx(1978.9e12 / 3.35e12)
    assert cap.roofline("nvidia-h100-sxm", r, "int8") == pytest.approx(1978.9e12)
    assert cap.roofline("nvidia-h100-sxm", 1.0, "int8") == pytest.approx(3.35e12)
    x = np.logspace(-1, 4, 50)
    y = cap.roofline(LPU, x, "int8")
    assert y.shape == x.shape and np.all(np.diff(y) >= 0) and y.max() == pytest.approx(750e12)


def test_decode_and_prefill_intensity():
    d1 = cap.decode_intensity(L70, "int8", batch=1, context_tokens=0)
    assert d1 == pytest.approx(2.0, rel=0.05)          # 2 FLOPs per 1-byte weight at batch 1
    d = cap.decode_intensity(L70, "int8", batch=np.array([1, 8, 64]), context_tokens=0)
    assert np.all(np.diff(d) > 0)
    assert cap.prefill_intensity(L70, "int8", prompt_tokens=2048) > 1000
    pts = cap.roofline_points(L70, "nvidia-b300")
    assert pts["decode"][1] < pts["prefill"][1]


def test_memory_sweep_time_fig18():
    # Fig 18 arithmetic: 230 MB / 80 TB/s = 2.9 µs; 288 GB / 8 TB/s = 36 ms
    assert cap.memory_sweep_time_s(LPU) == pytest.approx(2.875e-6)
    assert cap.memory_sweep_time_s("nvidia-b300") == pytest.approx(0.036)


# ---------------------------------------------------------------- bad inputs

@pytest.mark.parametrize("kwargs, word", [
    (dict(batch=0), "batch"),
    (dict(batch=-2), "batch"),
    (dict(context_tokens=-1), "context_tokens"),
    (dict(precision="int3"), "precision"),
    (dict(kv_precision="fp12"), "kv_precision"),
    (dict(expert_precision="nope"), "expert_precision"),
    (dict(overhead=1.0), "overhead"),
    (dict(overhead=-0.1), "overhead"),
    (dict(layout="diagonal"), "layout"),
    (dict(keep_parts=("wings",)), "keep_parts"),
    (dict(price_usd_per_chip=-5), "price_usd_per_chip"),
])
def test_plan_bad_inputs(kwargs, word):
    with pytest.raises(LabsimError, match=word):
        cap.plan(L70, LPU, **kwargs)


@pytest.mark.parametrize("kwargs, word", [
    (dict(batch=0), "batch"),
    (dict(chips=0), "chips"),
    (dict(chips=10), "chips"),               # too few to hold the model
    (dict(context_tokens=-5), "context_tokens"),
    (dict(precision="fp7"), "precision"),
    (dict(compute_efficiency=0), "compute_efficiency"),
    (dict(bandwidth_efficiency=1.5), "bandwidth_efficiency"),
    (dict(hop_source="moon"), "hop_source"),
    (dict(microbatches=0), "microbatches"),
    (dict(tensor_parallel=0), "tensor_parallel"),
])
def test_decode_bad_inputs(kwargs, word):
    with pytest.raises(LabsimError, match=word):
        cap.decode_time(L70, LPU, **kwargs)


def test_unknown_names_and_bad_arrays():
    with pytest.raises(LabsimError, match="chip"):
        cap.plan(L70, "groq-lpu-v9")
    with pytest.raises(LabsimError, match="model"):
        cap.plan("llama-99b", LPU)
    with pytest.raises(LabsimError, match="batch"):
        cap.plan_sweep(L70, LPU, batch=np.array([1, 0, 2]))
    with pytest.raises(LabsimError, match="batch"):
        cap.decode_sweep(L70, LPU, batch=np.array([1.5]))
    with pytest.raises(LabsimError, match="intensity"):
        cap.roofline(LPU, np.array([1.0, 0.0]))
    with pytest.raises(LabsimError, match="precision"):
        cap.roofline("nvidia-b300", 1.0, "int4")      # no published INT4 peak


# ---------------------------------------------------------------- clear errors for the remaining inputs (audit)

def test_mismatched_arrays_raise_labsim_error_naming_shapes():
    with pytest.raises(LabsimError, match=r"chips \(3,\).*batch \(2,\)"):
        cap.decode_sweep(L70, LPU, chips=np.array([400, 500, 600]), batch=np.array([1, 2]))
    with pytest.raises(LabsimError, match=r"context_tokens \(3,\)"):
        cap.plan_sweep(L70, LPU, context_tokens=np.array([0, 1, 2]), batch=np.array([1, 2]))


def test_fractional_counts_name_index_and_value():
    with pytest.raises(LabsimError, match=r"batch\[1\] = 2.5"):
        cap.plan_sweep(L70, LPU, batch=np.array([1, 2.5]))
    with pytest.raises(LabsimError, match=r"chips\[0\] = 400.5"):
        cap.decode_sweep(L70, LPU, chips=np.array([400.5]))


def test_keep_parts_single_name_and_bad_flags():
    # a single name is one group, not its letters
    a = cap.plan(L70, LPU, keep_parts="embedding")
    b = cap.plan(L70, LPU, keep_parts=("embedding",))
    assert a.weight_bytes == b.weight_bytes
    with pytest.raises(LabsimError, match="keep_parts"):
        cap.plan(L70, LPU, keep_parts=5)
    with pytest.raises(LabsimError, match="gpu_power_of_two"):
        cap.plan(L70, "nvidia-b300", gpu_power_of_two="no")


@pytest.mark.parametrize("kwargs, word", [
    (dict(batch=0), "batch"), (dict(context_tokens=-1), "context_tokens"), (dict(overhead=2), "overhead"),
    (dict(target_chips=0), "target_chips"), (dict(keep_parts=("wings",)), "keep_parts"),
    (dict(kv_precision="fp12"), "kv_precision"),
])
def test_reconcile_bad_inputs(kwargs, word):
    with pytest.raises(LabsimError, match=word):
        cap.reconcile_576(**kwargs)


def test_reconcile_rows_say_what_is_rounding():
    rows = cap.reconcile_576()
    kinds = [r["kind"] for r in rows]
    assert kinds[0] == "naive" and kinds[-1] == "unexplained"
    assert kinds[-3:-1] == ["rounding", "rounding"]
    # the unexplained remainder is the claim minus the last memory (non-rounding) step
    last_memory = [r for r in rows if r["kind"] == "capacity"][-1]["chips"]
    assert rows[-1]["chips"] == pytest.approx(576 - last_memory)


def test_roofline_chip_without_peak():
    # a chip with no published peak (a user entry shaped like a CS-3 wafer without its peak) → a clear error, or
    # the bandwidth slope when asked
    nopeak = catalog.load_chip({"name": "no-peak-wafer", "memory_kind": "sram", "memory_bytes": 44e9,
                                "memory_bandwidth_bytes_per_s": 21e15})
    with pytest.raises(LabsimError, match="peak_ops_per_s"):
        cap.roofline(nopeak, 1.0)
    # 21 PB/s × 2 ops/byte = 4.2e16 ops/s
    assert cap.roofline(nopeak, 2.0, peak_ops_per_s=math.inf) == pytest.approx(4.2e16)
    assert cap.roofline(nopeak, 1e6, peak_ops_per_s=1e17) == pytest.approx(1e17)
    assert cap.ridge_intensity(nopeak, peak_ops_per_s=2.1e17) == pytest.approx(10.0)
    with pytest.raises(LabsimError, match="peak_ops_per_s"):
        cap.roofline(LPU, 1.0, peak_ops_per_s=-1)
