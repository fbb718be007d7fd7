"""Issue 13: every chapter that shows a token rate gets it from the same model, capacity.decode_time."""
from __future__ import annotations

import numpy as np
import pytest

from labsim import capacity, catalog, fleet, latency, schedule
from labsim.capacity.decode import _inputs
from labsim.capacity.lpu import chain_cycles, chain_table, lpu_constants, lpu_token_time, weight_streams_per_plane
from labsim.capacity.plan import usable_bytes_per_chip
from labsim.schedule import decoder_layer_cycles, reference
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


# ---- chapter 2's layer model is chapter 3's per-layer time ------------------------------------------------------
def _layer_cycles(tp, ctx, **over):
    m, c, cfg = _inputs("llama-3.1-8b", "groq-lpu-v1", "int8", None, {"tensor_parallel": tp, **over})
    k = lpu_constants(m, c, cfg, usable_bytes_per_chip(c))
    return lpu_token_time(m, c, cfg, k, 1.0, float(ctx))["layer_s"] * c.clock_hz


def test_decode_feed_is_the_isca20_stream_count_of_the_layer_reference():
    feed = capacity.ASSUMPTIONS["mxm_feed_bytes_per_cycle"].value
    assert weight_streams_per_plane(feed) == reference._load()["isca20_weight_streams_per_plane"] == 8


@pytest.mark.parametrize("entry", [e for e in schedule.reference_layers()
                                   if e["weight_streams_per_plane"] == 8],
                         ids=lambda e: f"tp{e['tp']}-ctx{e['context']}")
def test_capacity_layer_time_matches_the_simulated_layer(entry):
    """Band ±10 %: capacity's per-layer time (install at 10,240 B/cycle + the layer model's chain) against the
    cycle-by-cycle simulation of the same Llama 3.1 8B layer share (reference_layer.toml, 8 streams a plane);
    the analytic model where the share does not fit one chip and was not simulated."""
    got = _layer_cycles(entry["tp"], entry["context"])
    want = entry.get("cycles") or entry["analytic_cycles"]
    assert got == pytest.approx(want, rel=0.10)


def test_capacity_chain_is_the_layer_model_beyond_install():
    for tp in (1, 2, 4, 8):
        r = decoder_layer_cycles(4096, 32, 8, 128, 14336, 4096, tp, weight_streams_per_plane=8)
        chain = float(r["cycles"] - r["install_cycles"])
        m = catalog.model("llama-3.1-8b")
        assert chain_cycles(chain_table(m, False, 8), tp, 4096) == pytest.approx(chain, rel=1e-12)
    # a constant chain replaces the table; zero removes it (the streaming-only bound)
    base = _layer_cycles(1, 1024)
    assert _layer_cycles(1, 1024, layer_chain_cycles=5000) > base > _layer_cycles(1, 1024, layer_chain_cycles=0)
