"""Issue 13: every chapter that shows a token rate gets it from the same model, capacity.decode_time."""
from __future__ import annotations

import numpy as np
import pytest

from labsim import capacity, fleet, latency
from labsim.viz import ch00, ch03


@pytest.mark.parametrize("model, chip, ctx", [("llama-3.3-70b", "groq-lpu-v1", 4096),
                                              ("gpt-oss-120b", "groq-lpu-v1", 8192),
                                              ("llama-3.1-8b", "nvidia-h100-sxm", 1024)])
def test_chapter0_and_chapter3_widgets_quote_decode_time(model, chip, ctx):
    prec = "int8"
    row = ch00.tour(model, (chip,), (prec,), context_tokens=ctx)[0]
    d = capacity.decode_time(model, chip, chips=row.chips_to_hold, precision=prec, context_tokens=ctx,
                             kv_precision="bf16")
    assert row.decode_tokens_per_s == pytest.approx(d.tokens_per_s, rel=1e-12)
    r = ch03.explore(model, prec, ctx, 1, chip)
    assert r["tokens_per_s"] == pytest.approx(capacity.decode_time(model, chip, precision=prec,
                                                                   context_tokens=ctx).tokens_per_s, rel=1e-12)


def test_chapter5_speeds_are_decode_time():
    for chip, chips in (("groq-lpu-v1", None), ("nvidia-h100-sxm", 8)):
        assert latency.decode_speed("llama-3.3-70b", chip, chips=chips) == pytest.approx(
            capacity.decode_time("llama-3.3-70b", chip, chips=chips).tokens_per_s, rel=1e-12)
        step = latency.chip_step("llama-3.3-70b", chip, 1000, chips=chips)
        d = [c for c in step.components if c.category == "decode"][0]
        assert d.scale * d.dist.median_s == pytest.approx(
            1000 * capacity.decode_time("llama-3.3-70b", chip, chips=chips).seconds_per_token, rel=1e-9)


def test_chapter6_fleet_speeds_are_decode_sweep():
    wl = fleet.load_scenario("coding_agent").workloads[0]
    for chip in ("groq-lpu-v1", "nvidia-b300"):
        f = fleet.fastest(wl, chip)
        kw = {}
        if chip == "groq-lpu-v1":
            min_tp = int(capacity.decode_sweep(wl.model, chip, context_tokens=wl.context)["min_tensor_parallel"])
            mult = f["chips_per_replica"] / capacity.decode_time(wl.model, chip, context_tokens=wl.context,
                                                                 tensor_parallel=min_tp).chips_used
            kw = {"tensor_parallel": int(round(mult)) * min_tp}
        else:
            kw = {"chips": f["chips_per_replica"]}
        d = capacity.decode_time(wl.model, chip, precision=wl.precision, batch=f["batch"],
                                 microbatches=f["microbatches"], context_tokens=wl.context, **kw)
        assert f["tokens_per_s_per_user"] == pytest.approx(d.tokens_per_s, rel=1e-9)


def test_chapter2_cliff_and_chapter3_plan_agree_on_the_network():
    from labsim import multichip
    assert capacity.plan("kimi-k2", "groq-lpu-v1").domains == multichip.domains_needed(
        capacity.plan("kimi-k2", "groq-lpu-v1").chips)
    assert np.isclose(capacity.decode_time("kimi-k2", "groq-lpu-v1", sync_domain_chips=576).parts["ethernet_s"],
                      (multichip.domains_needed(capacity.decode_time("kimi-k2", "groq-lpu-v1").chips_used,
                                                sync_domain_chips=576) - 1) * multichip.ethernet_preset("rdma").base_s)
