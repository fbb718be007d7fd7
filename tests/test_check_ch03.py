"""Chapter 3 checkers: the solution's answer passes, typical wrong answers fail, stubs report 'not attempted'."""
from __future__ import annotations

import math

import numpy as np
import pytest

from labsim import capacity, catalog
from labsim.check import ch03
from labsim.check._core import NOT_ATTEMPTED


def _ok(capsys, fn, answer):
    res = fn(answer)
    out = capsys.readouterr().out
    return res, out


# ---- solution answers (computed the way the solution notebook does) ----

def _sol_weight_bytes():
    e = ch03.EX_WEIGHTS
    return catalog.model(e["model"]).params_total() * 1.0          # FP8 = 1 byte per parameter


def _sol_chips_kv():
    e = ch03.EX_KV
    m, c = catalog.model(e["model"]), catalog.chip(e["chip"])
    kv = m.kv_cache_bytes(e["context_tokens"], precision=e["kv_precision"], batch=e["batch"])
    return math.ceil((m.weight_bytes(e["precision"]) + kv) / c.memory_bytes)


def _sol_gpu():
    e = ch03.EX_GPU
    d = capacity.decode_time(e["model"], e["chip"], chips=1, precision=e["precision"],
                             context_tokens=e["context_tokens"], bandwidth_efficiency=1.0)
    return 1.0 / d.parts["memory_s"]


def _sol_1t():
    e = ch03.EX_1T
    m, c = catalog.model(e["model"]), catalog.chip(e["chip"])
    return math.ceil(m.weight_bytes(e["precision"]) / c.memory_bytes) * e["price_usd_per_chip"]


def test_expected_values_not_printed(capsys):
    for fn, ans in [(ch03.weight_bytes, 1.0), (ch03.chips_with_kv, 3), (ch03.gpu_tokens_per_s, 1.0),
                    (ch03.audit_1t_capex, 1.0)]:
        fn(ans)
    out = capsys.readouterr().out
    for value in (_sol_weight_bytes(), _sol_chips_kv(), _sol_gpu(), _sol_1t()):
        for fmt in (f"{value:g}", f"{value:,.0f}", f"{value:.0f}", f"{value:.1f}"):
            assert fmt not in out


@pytest.mark.parametrize("fn", [ch03.weight_bytes, ch03.chips_with_kv, ch03.gpu_tokens_per_s, ch03.why_tokens_fall,
                                ch03.moe_bound, ch03.audit_1t_capex, ch03.claim_30m_holds])
@pytest.mark.parametrize("stub", [..., None])
def test_not_attempted(capsys, fn, stub):
    assert fn(stub) is False
    assert NOT_ATTEMPTED in capsys.readouterr().out


def test_weight_bytes(capsys):
    good = _sol_weight_bytes()
    assert ch03.weight_bytes(good)
    assert not ch03.weight_bytes(2 * good)           # BF16 instead of FP8
    assert "BF16" in capsys.readouterr().out
    assert not ch03.weight_bytes(good / 1e9)         # GB instead of bytes
    assert not ch03.weight_bytes(8 * good)           # bits
    assert not ch03.weight_bytes(-good)              # sign
    assert not ch03.weight_bytes("lots")


def test_chips_with_kv(capsys):
    good = _sol_chips_kv()
    assert ch03.chips_with_kv(good)
    e = ch03.EX_KV
    m = catalog.model(e["model"])
    w = m.weight_bytes("int8")
    assert not ch03.chips_with_kv(math.ceil(w / 230e6))     # forgot the KV cache
    assert "KV cache" in capsys.readouterr().out
    assert not ch03.chips_with_kv(good - 2)
    assert not ch03.chips_with_kv(2 * good)
    kv = m.kv_cache_bytes(e["context_tokens"], precision="fp16", batch=e["batch"])
    assert not ch03.chips_with_kv(math.ceil((w + kv / e["batch"]) / 230e6))   # one sequence only
    assert not ch03.chips_with_kv((w + kv) / 230e6)                           # not rounded up


def test_gpu_tokens_per_s(capsys):
    good = _sol_gpu()
    assert ch03.gpu_tokens_per_s(good)
    assert not ch03.gpu_tokens_per_s(good * 1000)     # ms vs s
    assert not ch03.gpu_tokens_per_s(good / 2)
    e = ch03.EX_GPU
    m, c = catalog.model(e["model"]), catalog.chip(e["chip"])
    assert not ch03.gpu_tokens_per_s(c.memory_bandwidth_bytes_per_s / m.weight_bytes("fp16"))   # no KV
    assert "KV" in capsys.readouterr().out


def test_why_tokens_fall():
    assert ch03.why_tokens_fall("kv cache")
    assert ch03.why_tokens_fall("KV cache ")
    assert not ch03.why_tokens_fall("compute")
    assert not ch03.why_tokens_fall("gremlins")


def test_moe_bound():
    right = capacity.decode_time("gpt-oss-120b", "groq-lpu-v1").dominant_bound
    assert ch03.moe_bound(right)
    for wrong in capacity.BOUNDS:
        if wrong != right:
            assert not ch03.moe_bound(wrong)


def test_audit_1t(capsys):
    good = _sol_1t()
    assert ch03.audit_1t_capex(good)
    assert not ch03.audit_1t_capex(1000e9 / 230e6 * 5000)     # report's round 1,000 GB
    assert "1,000 GB" in capsys.readouterr().out
    assert not ch03.audit_1t_capex(good / 1e6)                # $M instead of $
    assert not ch03.audit_1t_capex(30e6)                      # just the claim
    assert ch03.claim_30m_holds(False)
    assert not ch03.claim_30m_holds(True)
    assert not ch03.claim_30m_holds("no")


# ---- exercise 6: 48 resident sequences in one 576-chip domain ----

def _sol_domain():
    e = ch03.EX_DOMAIN
    ctx = np.arange(0, 131_073, 256)
    s = capacity.plan_sweep(e["model"], e["chip"], context_tokens=ctx, batch=48, precision="int8",
                            kv_precision="fp16", keep_parts=("embedding", "lm_head"))
    return int(ctx[s["chips"] <= 576].max())


def test_max_context_one_domain(capsys):
    good = _sol_domain()
    # by hand: 576 × 207 MB = 119.2 GB usable; weights 72.7 GB (FP16 embedding + head) → ≈ 46 GB for KV +
    # activations of 48 sequences ≈ 0.96 GB each ≈ 2,900 tokens at 327,680 B/token → a little under 3,000 tokens
    assert 2_000 <= good <= 3_000 and good % 256 == 0
    assert ch03.max_context_one_domain(good)
    assert not ch03.max_context_one_domain(good + 256)            # first context that no longer fits
    assert not ch03.max_context_one_domain(2 * good)              # INT8 KV cache (factor 2)
    assert "INT8" in capsys.readouterr().out
    assert not ch03.max_context_one_domain(good / 1000)           # k tokens instead of tokens
    assert not ch03.max_context_one_domain(-good)
    e = ch03.EX_DOMAIN
    ctx = np.arange(0, 131_073, 256)
    no_res = capacity.plan_sweep(e["model"], e["chip"], context_tokens=ctx, batch=48, overhead=0.0,
                                 keep_parts=("embedding", "lm_head"))
    assert not ch03.max_context_one_domain(int(ctx[no_res["chips"] <= 576].max()))   # forgot the reserve
    assert "reserved" in capsys.readouterr().out
    for stub in (..., None):
        assert ch03.max_context_one_domain(stub) is False
        assert NOT_ATTEMPTED in capsys.readouterr().out


def test_weight_bytes_round_name_trap(capsys):
    assert not ch03.weight_bytes(32e9)                             # "32B" from the name, not params_total()
    assert "params_total" in capsys.readouterr().out


def test_ex6_expected_not_printed(capsys):
    for ans in (1.0, 100, 3.3e9):
        ch03.max_context_one_domain(ans)
    out = capsys.readouterr().out
    v = _sol_domain()
    for fmt in (f"{v:g}", f"{v:,.0f}", f"{v:.0f}"):
        assert fmt not in out
