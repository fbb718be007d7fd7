"""capacity.prefill_time: time to first token of one prompt (batch 1)."""
from __future__ import annotations

import pytest

from labsim import capacity, catalog, latency
from labsim.errors import LabsimError


def test_long_prompt_on_one_gpu_is_compute_bound_hand_computed():
    m, c = catalog.model("llama-3.3-70b"), catalog.chip("nvidia-b300")
    r = capacity.prefill_time(m, c, prompt_tokens=2000, chips=1, precision="fp8")
    # 2000 tokens × FLOPs/token at an average context of 1000, over 70 % of the B300's dense FP8 peak
    expected_compute = 2000 * m.flops_per_token(1000) / (c.peak_ops("fp8") * 0.7)
    assert r.parts["compute_s"] == pytest.approx(expected_compute)
    assert r.dominant_bound == "compute"
    assert r.seconds >= r.parts["compute_s"]


def test_short_prompt_is_not_compute_bound_and_time_grows_with_prompt():
    short = capacity.prefill_time("llama-3.3-70b", "nvidia-b300", prompt_tokens=50, chips=1, precision="fp8")
    assert short.dominant_bound in ("memory bandwidth", "latency")
    times = [capacity.prefill_time("llama-3.1-8b", "nvidia-h100-sxm", prompt_tokens=p, chips=1, precision="fp8").seconds
             for p in (10, 100, 1000, 10000)]
    assert times == sorted(times)


def test_lpu_prefill_uses_all_chips_and_adds_pipeline_latency():
    r = capacity.prefill_time("llama-3.3-70b", "groq-lpu-v1", prompt_tokens=2000)
    d = capacity.decode_time("llama-3.3-70b", "groq-lpu-v1", chips=r.chips, context_tokens=2000)
    assert r.parts["latency_s"] > 0
    assert r.parts["latency_s"] <= d.seconds_per_token
    m, c = catalog.model("llama-3.3-70b"), catalog.chip("groq-lpu-v1")
    assert r.parts["compute_s"] == pytest.approx(2000 * m.flops_per_token(1000) / (r.chips * c.peak_ops("int8") * 0.7))


def test_latency_adapter_uses_it():
    s = latency.prefill_seconds("llama-3.1-8b", "nvidia-h100-sxm", 1000, chips=1, precision="fp8")
    assert s == pytest.approx(capacity.prefill_time("llama-3.1-8b", "nvidia-h100-sxm", prompt_tokens=1000, chips=1,
                                                    precision="fp8").seconds)


@pytest.mark.parametrize("kw,fragment", [({"prompt_tokens": 0}, "prompt_tokens"),
                                         ({"prompt_tokens": 100, "chips": 3}, "chips"),
                                         ({"prompt_tokens": 100, "precision": "int7"}, "precision")])
def test_bad_input(kw, fragment):
    with pytest.raises(LabsimError, match=fragment):
        capacity.prefill_time("llama-3.3-70b", "groq-lpu-v1", **kw)
