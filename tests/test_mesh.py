"""labsim.mesh: dynamic mesh with credits vs the compile-time schedule on identical traffic."""
from __future__ import annotations

import numpy as np
import pytest

from labsim import mesh as M
from labsim.errors import LabsimError


def _one(src, dst, cfg, t0=3):
    return M.Traffic(src=np.array([src]), dst=np.array([dst]), created=np.array([t0]), load=0.1, cycles=t0 + 1,
                     seed=0)


@pytest.mark.parametrize("hop", [1, 2, 5])
@pytest.mark.parametrize("src,dst", [(0, 1), (0, 63), (63, 0), (9, 54), (7, 56)])
def test_zero_load_latency_is_hops_times_hop_delay(src, dst, hop):
    cfg = M.MeshConfig(hop_cycles=hop)
    tr = _one(src, dst, cfg)
    d = M.simulate(0.1, cfg, warmup=0, traffic_=tr)
    s = M.schedule_static(0.1, cfg, warmup=0, traffic_=tr)
    expect = M.hops(src, dst, cfg) * hop
    assert d.latency_cycles.tolist() == [expect] == s.latency_cycles.tolist()
    assert M.zero_load_latency_cycles(src, dst, cfg) == expect


def test_every_packet_arrives_and_traffic_is_seeded():
    cfg = M.MeshConfig(width=4, height=4)
    a, b = M.traffic(0.1, cfg, cycles=500, seed=3), M.traffic(0.1, cfg, cycles=500, seed=3)
    assert np.array_equal(a.src, b.src) and np.array_equal(a.created, b.created)
    assert np.all(a.src != a.dst)
    d = M.simulate(0.1, cfg, cycles=500, warmup=0, traffic_=a)
    assert d.delivered_fraction == 1.0 and len(d.latency_cycles) == len(a)
    assert np.all(d.latency_cycles >= d.hops * cfg.hop_cycles)      # never faster than zero load


def test_static_schedule_has_constant_network_latency_dynamic_has_a_tail():
    cfg = M.MeshConfig()
    tr = M.traffic(0.3, cfg, cycles=3000, seed=1)
    d = M.simulate(0.3, cfg, warmup=500, traffic_=tr)
    s = M.schedule_static(0.3, cfg, warmup=500, traffic_=tr)
    assert np.array_equal(s.network_cycles, s.hops * cfg.hop_cycles)  # in flight: exactly h × hop, every packet
    assert d.queueing_cycles.max() > 0
    qd = d.percentiles()
    assert qd["p99.9"] > qd["p50"]
    # the static schedule's waits are planned: the same traffic gives the same departures, run after run
    s2 = M.schedule_static(0.3, cfg, warmup=500, traffic_=tr)
    assert np.array_equal(s.latency_cycles, s2.latency_cycles)


def test_tail_grows_with_load_and_saturation_is_reported():
    cfg = M.MeshConfig()
    r = M.latency_vs_load([0.05, 0.2, 0.3], cfg, cycles=2500, warmup=500)
    assert np.all(np.diff(r["dyn_p99"]) > 0)
    assert np.all(r["static_net_max_excess"] == 0)
    hot = M.simulate(0.7, cfg, cycles=2000, warmup=500)
    assert hot.saturated
    with pytest.raises(LabsimError, match="saturated"):
        hot.percentiles()
    assert M.saturation_load_estimate(cfg) == 0.5


def test_credits_bound_the_buffers():
    """With one-flit buffers and a slow hop the network still delivers everything (no flit is ever dropped)."""
    cfg = M.MeshConfig(width=4, height=4, buffer_flits=1, hop_cycles=3)
    d = M.simulate(0.05, cfg, cycles=1500, warmup=0)
    assert d.delivered_fraction == 1.0


def test_bad_inputs():
    with pytest.raises(LabsimError, match="load"):
        M.traffic(0.0)
    with pytest.raises(LabsimError, match="load"):
        M.traffic(1.5)
    with pytest.raises(LabsimError, match="width"):
        M.MeshConfig(width=1)
    with pytest.raises(LabsimError, match="buffer_flits"):
        M.MeshConfig(buffer_flits=0)
    with pytest.raises(LabsimError, match=r"dst = 64 is out of range; allowed: \[0, 63\]"):
        M.hops(0, 64)
    with pytest.raises(LabsimError, match="warmup"):
        M.simulate(0.1, warmup=5000, cycles=1000)
    with pytest.raises(LabsimError, match="config must be"):
        M.simulate(0.1, "8x8")


def test_sizes_are_capped_with_a_clear_error():
    with pytest.raises(LabsimError, match="cycles × nodes"):
        M.traffic(0.1, M.MeshConfig(width=64, height=64), cycles=5000)
