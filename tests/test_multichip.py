"""labsim.multichip: hop latencies from the facts, topology, the determinism cliff."""
import numpy as np
import pytest

from labsim import LabsimError
from labsim import multichip as mc


def test_fig6_hops():
    # report Fig 6: 0.6 / 1.2 / 1.8 us for 1 / 2 / 3 hops
    np.testing.assert_allclose(mc.hop_latency_s([1, 2, 3]), [0.6e-6, 1.2e-6, 1.8e-6])
    assert mc.hop_latency_s(1, source="link") == pytest.approx(260 / 900e6)
    assert [mc.network_diameter_hops(n) for n in (1, 8, 16, 64, 264, 576, 10_440)] == [0, 1, 2, 3, 3, 5, 5]


REPORT = mc.realscale_params(sync_domain_chips=576)     # the report's view of where determinism ends


def test_domains_and_cliff():
    # ISCA 2022: one scheduled network of up to 10,440 chips; the report: 576
    assert mc.domains_needed(10_440) == 1 and mc.domains_needed(10_441) == 2
    assert not mc.crosses_cliff(577) and mc.crosses_cliff(10_441)
    assert mc.domains_needed(576, sync_domain_chips=576) == 1 and mc.domains_needed(577, sync_domain_chips=576) == 2
    assert mc.crosses_cliff(577, sync_domain_chips=576)
    assert mc.RealScaleParams().report_sync_domain_chips == 576


def test_pipeline_hops_and_latency():
    h = mc.pipeline_hops(16)
    assert h == {"boundaries": 15, "intra_node": 14, "inter_node": 1, "inter_rack": 0, "c2c_hops": 16,
                 "ethernet_crossings": 0, "domains": 1}
    assert mc.pipeline_latency_s(16, 2e-6) == pytest.approx(16 * 2e-6 + 16 * 0.6e-6)
    assert mc.pipeline_hops(577)["ethernet_crossings"] == 0
    assert mc.pipeline_hops(577, params=REPORT)["ethernet_crossings"] == 1


def test_cliff_continuous_below_jittery_above():
    chips = np.arange(8, 577, 8)
    c = mc.cliff_curve(chips, 1e-6, n_samples=2000, params=REPORT)
    assert np.all(c["p99_over_p50"] == 1.0)                 # deterministic inside the domain
    steps = np.diff(c["p50_s"])
    assert np.all(steps > 0)
    assert steps.max() <= 8 * (1e-6 + 3 * 0.6e-6) + 1e-12     # grows smoothly: a stage + <= 3 hops per chip
    above = mc.cliff_curve([577, 1000, 1153, 2000], 1e-6, n_samples=20_000, params=REPORT)
    assert np.all(above["p99_over_p50"] > 1.0)
    isca = mc.cliff_curve([577, 1000, 1153, 2000, 10_440], 1e-6, n_samples=2_000)
    assert np.all(isca["p99_over_p50"] == 1.0)              # ISCA 2022's network: still one schedule
    tcp = mc.cliff_curve([577], 1e-6, n_samples=20_000, ethernet="tcp", params=REPORT)
    assert tcp["p99_over_p50"][0] > above["p99_over_p50"][0]


def test_samples_seeded_and_percentiles_monotone():
    a = mc.pipeline_latency_samples(1200, 1e-6, n=5000, seed=4)
    b = mc.pipeline_latency_samples(1200, 1e-6, n=5000, seed=4)
    np.testing.assert_array_equal(a, b)
    p = mc.percentiles(a)
    assert p["p50"] <= p["p90"] <= p["p99"] <= p["p99.9"]
    assert np.ptp(mc.pipeline_latency_samples(500, 1e-6, n=1000)) == 0.0


def test_allreduce():
    m = 4096 * 2
    d = mc.allreduce_time_s(m, 8)
    assert d == pytest.approx(2 * (0.6e-6 + m / 8 * 1.025 / 15e9))
    assert mc.allreduce_time_s(m, 1) == 0.0
    assert mc.allreduce_time_s(m, 64) > d
    assert mc.tp_allreduce_time_per_layer_s(4096, 8) == pytest.approx(2 * d)
    with pytest.raises(LabsimError):
        mc.allreduce_time_s(m, 16, algorithm="direct")


def test_transfer_and_params():
    assert mc.transfer_time_s(320, 2) == pytest.approx(1.2e-6 + 320 * 1.025 / 15e9)
    p = mc.realscale_params(sync_domain_chips=1024)
    assert mc.pipeline_hops(1000, params=p)["ethernet_crossings"] == 0
    assert "Fig 6" in mc.RealScaleParams().sources["hop_latency_fig6"]


def test_bad_inputs():
    for bad in (lambda: mc.hop_latency_s(-1), lambda: mc.hop_latency_s(1, source="x"),
                lambda: mc.domains_needed(0), lambda: mc.pipeline_latency_s(8, -1.0),
                lambda: mc.pipeline_latency_samples(8, 1e-6, ethernet="wifi"),
                lambda: mc.realscale_params(foo=1), lambda: mc.network_diameter_hops(20_000),
                lambda: mc.EthernetJitter(0.0, 0.1, 0.0, 0.0)):
        with pytest.raises(LabsimError):
            bad()


def test_chip_counts_bounded_and_whole():
    with pytest.raises(LabsimError):
        mc.pipeline_hops(mc.MAX_PIPELINE_CHIPS + 1)            # no runaway arrays
    with pytest.raises(LabsimError):
        mc.pipeline_latency_samples(10**9, 1e-6, n=10)          # no runaway sampling loop
    with pytest.raises(LabsimError):
        mc.cliff_curve([8, 577.5], 1e-6, n_samples=100)        # chip counts are whole numbers
    with pytest.raises(LabsimError):
        mc.cliff_curve([], 1e-6, n_samples=100)
    assert mc.pipeline_hops(mc.MAX_PIPELINE_CHIPS)["domains"] == -(-mc.MAX_PIPELINE_CHIPS // 10_440)


def test_zero_latency_pipeline_ratio_is_one_not_nan():
    p = mc.pipeline_latency_percentiles(1, 0.0, n=100)
    assert p["p50"] == 0.0 and p["p99_over_p50"] == 1.0


def test_determinism_budget_where_it_really_ends():
    # 5 hops × 6σ × 2.75 cycles = 82.5 cycles of guard band, inside one 256-cycle HAC period
    b = mc.determinism_budget(10_440)
    assert b["hops"] == 5 and b["guard_cycles"] == pytest.approx(5 * 6 * 2.75)
    assert b["timing_ok"] and b["wiring_ok"] and b["deterministic"]
    assert b["max_hops_timing"] == 15                       # floor(256 / 16.5)
    assert b["limit_chips"] == 10_440 and b["report_claim_chips"] == 576
    beyond = mc.determinism_budget(10_441)
    assert not beyond["wiring_ok"] and not beyond["deterministic"]
    assert mc.determinism_budget(577)["deterministic"]       # past the report's 576, still one schedule
    assert mc.determinism_budget(8)["hops"] == 1


def test_two_phase_allreduce_is_latency_optimal_for_decode_vectors():
    msg = 8192 * 2                                           # one hidden vector of Llama 3.3 70B in FP16
    for n in (16, 64, 264, 576):
        assert mc.allreduce_time_s(msg, n) == pytest.approx(mc.allreduce_time_s(msg, n, algorithm="two_phase"))
        assert mc.allreduce_time_s(msg, n, algorithm="two_phase") < mc.allreduce_time_s(msg, n, algorithm="ring")
    assert mc.allreduce_time_s(msg, 8) == pytest.approx(mc.allreduce_time_s(msg, 8, algorithm="direct"))
    assert mc.collective_hops(64) == 3 and mc.collective_hops(300) == 5 and mc.collective_hops(8) == 1


def test_allreduce_time_vec_scalar_path_equals_the_arrays():
    """One serving point takes a plain-float path (the decode model's hot path); it must give the array answer."""
    for n in (1, 2, 8, 9, 264, 265, 10_440):
        for m_bytes in (0.0, 16_384.0, 1e9):
            scalar = mc.allreduce_time_vec(m_bytes, float(n), 6e-7)
            array = mc.allreduce_time_vec(np.array([m_bytes]), np.array([float(n)]), 6e-7)[0]
            assert isinstance(scalar, float) and scalar == pytest.approx(array, rel=1e-15, abs=0.0)
