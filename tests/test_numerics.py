"""labsim.numerics: formats bit for bit, accumulator widths, attention error vs an FP64 reference."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labsim import numerics as N
from labsim.errors import LabsimError

RNG = np.random.default_rng(0)
WIDE = RNG.standard_normal(20_000) * np.exp(RNG.uniform(-40, 25, 20_000))   # spans subnormals → overflow


def test_fp32_and_fp16_equal_numpy_casts():
    assert np.array_equal(N.quantize(WIDE, "fp32"), WIDE.astype(np.float32).astype(np.float64))
    clipped = np.clip(WIDE, -65504, 65504)
    assert np.array_equal(N.quantize(WIDE, "fp16"), clipped.astype(np.float16).astype(np.float64))


def _bf16_reference(x):
    """Round-to-nearest-even on the float32 bit pattern (how bfloat16 is produced in software)."""
    f = np.asarray(x, np.float32)
    u = f.view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16 << 16
    return u.astype(np.uint32).view(np.float32).astype(np.float64)


def test_bf16_equals_bit_rounding_of_float32():
    x = WIDE[np.abs(WIDE) < 3e38]
    x32 = x.astype(np.float32).astype(np.float64)                 # bf16 from float32 inputs, as in hardware
    assert np.array_equal(N.quantize(x32, "bf16"), _bf16_reference(x32))


@pytest.mark.parametrize("name,count,top,tiny", [("fp8_e4m3", 127, 448.0, 2.0 ** -9),
                                                 ("fp8_e5m2", 124, 57344.0, 2.0 ** -16),
                                                 ("cfp8_143", 128, 480.0, 2.0 ** -9),
                                                 ("cfp8_152", 128, 114688.0, 2.0 ** -16)])
def test_fp8_value_sets(name, count, top, tiny):
    v = N.representable_values(name)
    assert v.size == count and v.max() == top == N.fmt(name).max_finite and v[1] == tiny
    # quantize maps every representable value to itself and saturates beyond the top
    assert np.array_equal(N.quantize(v, name), v)
    assert N.quantize(1e9, name) == top and N.quantize(-1e9, name) == -top


def test_cfp8_bias_moves_the_range():
    lo, hi = N.fmt("cfp8_143", bias=0), N.fmt("cfp8_143", bias=63)
    assert lo.max_finite == 1.875 * 2.0 ** 15 and hi.max_finite == 1.875 * 2.0 ** -48   # Tesla's Table 4 ranges
    x = 3e-15
    assert N.quantize(x, "cfp8_143") == 0.0                        # underflows at the default bias 7
    assert N.quantize(x, "cfp8_143", bias=50) == pytest.approx(x, rel=2 ** -4)
    with pytest.raises(LabsimError, match="bias"):
        N.fmt("cfp8_143", bias=64)
    with pytest.raises(LabsimError, match="only to the configurable"):
        N.fmt("bf16", bias=3)


@settings(max_examples=200, deadline=None)
@given(x=st.floats(min_value=-1e4, max_value=1e4, allow_nan=False), name=st.sampled_from(list(N.FORMATS)))
def test_rounding_is_nearest(x, name):
    """No representable value lies strictly closer to x than the rounded one (8-bit formats, exhaustive)."""
    f = N.fmt(name)
    q = N.quantize(x, name)
    if abs(x) >= f.max_finite:
        assert abs(q) == f.max_finite
        return
    if f.bits <= 8:
        vals = N.representable_values(name)
        vals = np.concatenate([-vals[::-1], vals])
        assert abs(q - x) <= np.min(np.abs(vals - x)) + 1e-300
    else:
        assert abs(q - x) <= f.epsilon * abs(x) * 2 + f.min_subnormal


@pytest.mark.parametrize("K", [1, 100, 4096])
def test_wide_integer_accumulation_matches_numpy_int64(K):
    W, x = RNG.integers(-128, 128, (7, K)), RNG.integers(-128, 128, K)
    r = N.int_gemv(W, x, 64)
    assert np.array_equal(r["output"], W.astype(np.int64) @ x.astype(np.int64)) and not r["overflowed"].any()
    r100 = N.int_gemv(W, x, 100)                                   # TruePoint-like: ≥ 64 bits is exact
    assert np.array_equal(r100["output"], r["output"])


def test_narrow_accumulators_overflow_exactly_like_twos_complement():
    W, x = np.full((1, 2000), 127), np.full(2000, 127)             # worst case: 2000 × 16,129 = 32,258,000
    exact = 32_258_000
    for bits in (16, 24):
        r = N.int_gemv(W, x, bits)
        wrapped = (exact + 2 ** (bits - 1)) % 2 ** bits - 2 ** (bits - 1)
        assert r["overflowed"][0] and r["output"][0] == wrapped
        s = N.int_gemv(W, x, bits, overflow="saturate")
        assert s["output"][0] == 2 ** (bits - 1) - 1
    assert N.int_gemv(W, x, 32)["output"][0] == exact


def test_float_accumulator_swamping():
    """1 + 2^-9 added 4096 times: a bf16 running sum stops growing (swamping); fp32 and exact do not."""
    a = np.ones(4097)
    b = np.r_[1.0, np.full(4096, 2.0 ** -9)]
    assert N.float_dot(a, b, "bf16") == 1.0
    assert N.float_dot(a, b, "fp32") == pytest.approx(1 + 4096 * 2.0 ** -9)
    assert N.float_dot(a, b, "exact") == 1 + 4096 * 2.0 ** -9


def test_attention_reference_and_ordering_of_errors():
    base = N.attention(2048, kv_format="fp64", logits_format="fp64", accumulator="exact")
    assert base.output_rel_error < 1e-12 and base.softmax_shift < 1e-12
    good = N.attention(2048, kv_format="bf16", logits_format="fp32", accumulator="fp32")
    bad_acc = N.attention(2048, kv_format="bf16", logits_format="fp32", accumulator="bf16")
    assert good.softmax_shift < bad_acc.softmax_shift
    assert np.isclose(good.probs.sum(), 1.0) and np.all(good.probs >= 0)


def test_bf16_logits_hurt_more_as_context_grows():
    sw = N.attention_sweep([512, 8192], {"bf16 logits": dict(kv_format="bf16", logits_format="bf16"),
                                         "fp32 logits": dict(kv_format="bf16", logits_format="fp32")})
    assert sw["bf16 logits"]["softmax_shift"][1] > 2 * sw["bf16 logits"]["softmax_shift"][0]
    # at a short context the BF16 keys dominate either way; at a long one the logits' rounding does
    assert sw["fp32 logits"]["softmax_shift"][1] < 0.5 * sw["bf16 logits"]["softmax_shift"][1]


def test_bytes_moved_prices_fp32_logits():
    a = N.bytes_moved_per_token("llama-3.3-70b", 8192, logits_precision="fp32")
    b = N.bytes_moved_per_token("llama-3.3-70b", 8192, logits_precision="bf16")
    # 80 layers × 64 heads × 8,192 tokens × 2 (write + read) × 2 extra bytes
    assert a["logits"] - b["logits"] == 80 * 64 * 8192 * 2 * 2
    assert a["weights"] == b["weights"] and a["total"] > b["total"]


def test_bad_inputs():
    with pytest.raises(LabsimError, match="number format"):
        N.quantize(1.0, "fp7")
    with pytest.raises(LabsimError, match=r"x\[1\] must be finite"):
        N.quantize([1.0, np.nan], "bf16")
    with pytest.raises(LabsimError, match="no Infinity"):
        N.quantize(1.0, "fp8_e4m3", overflow="inf")
    assert N.quantize(1e6, "fp16", overflow="inf") == np.inf    # asked for explicitly, and the format has Inf
    with pytest.raises(LabsimError, match="int8 values"):
        N.int_gemv(np.full((1, 2), 200), np.ones(2, int))
    with pytest.raises(LabsimError, match="accumulator_bits"):
        N.int_gemv(np.ones((1, 2), int), np.ones(2, int), 63)
    with pytest.raises(LabsimError, match="accumulator"):
        N.float_dot([1.0], [1.0], "fp64")
    with pytest.raises(LabsimError, match="context_tokens"):
        N.attention(0)


def test_context_is_capped():
    with pytest.raises(LabsimError, match="context_tokens"):
        N.attention(10_000_000)
