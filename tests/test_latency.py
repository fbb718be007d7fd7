"""Tests of labsim.latency: Monte Carlo vs closed forms at fixed seeds, zero variance in → zero variance out,
clear errors on bad inputs. Sampling tolerances are ~4 standard errors (stated next to each assertion)."""
from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest

from labsim import LabsimError, UnknownNameError
from labsim import latency as L

N = 400_000  # Monte Carlo draws per closed-form comparison


def _one(dist) -> L.Step:
    return L.Step((L.Component("x", dist),))


def _binom_tol(q: float, n: int, k: float = 4.0) -> float:
    """k standard errors of an empirical CDF value q estimated from n iid draws."""
    return k * math.sqrt(q * (1 - q) / n)


# ------------------------------------------------------------------------------------------------ thresholds
def test_thresholds_are_sourced_and_ordered():
    t = L.thresholds()
    secs = {k: v.seconds for k, v in t.items()}
    assert secs["instant"] == 0.1 and secs["conversational_gap"] == 0.2 and secs["voice_turn"] == 0.5
    assert secs["flow"] == 1.0 and secs["attention"] == 10.0
    assert list(secs.values()) == sorted(secs.values())
    for v in t.values():
        assert v.source and v.tag in {"P", "S", "W", "D", "A"}
    assert L.threshold_s("voice_turn") == 0.5
    with pytest.raises(UnknownNameError, match="did you mean 'voice_turn'"):
        L.threshold_s("voice_trn")


def test_platforms_and_voice_stages_load():
    assert {"hosted_gpu_api", "dedicated_gpu", "lpu", "hosted_lpu_api"} <= set(L.platforms())
    stages = L.voice_stages()
    assert sum(1 for s in stages if s.get("llm")) == 1
    assert all(s.get("source") for s in stages)


# ------------------------------------------------------------------------------------------------ distributions
@pytest.mark.parametrize("dist", [
    L.lognormal(0.6, 0.5), L.exponential(0.2), L.uniform(0.1, 0.3), L.two_point(1.0, 3.0, 0.05),
    L.stall(0.1, 1.0, 3.0), L.gamma(0.5, 0.5), L.gamma(0.5, 2.0), L.empirical([0.1, 0.2, 0.7]),
])
def test_sample_mean_matches_closed_form_mean(dist):
    x = dist.sample(N, seed=11)
    se = math.sqrt(dist.var_s2 / N)
    assert abs(x.mean() - dist.mean_s) <= 5 * se + 1e-12
    assert (x >= 0).all()


@pytest.mark.parametrize("dist", [L.lognormal(0.6, 0.5), L.exponential(0.2), L.uniform(0.1, 0.3),
                                  L.stall(0.1, 1.0, 3.0)])
def test_quantile_inverts_cdf_and_matches_samples(dist):
    x = dist.sample(N, seed=5)
    for q in (0.5, 0.9, 0.99, 0.999):
        t = dist.quantile(q)
        f = dist.cdf(t)
        assert f >= q - 1e-9 and (f == pytest.approx(q, abs=1e-9) or dist.kind == "stall")  # stall: atom at 0
        assert np.mean(x <= t) == pytest.approx(f, abs=_binom_tol(f, N) + 1e-12)


def test_lognormal_from_quantile():
    d = L.lognormal_from_quantile(0.536, 1.771, 0.95)  # GPT-4.1 TTFT median/P95 (voice AI primer's table)
    assert d.quantile(0.95) == pytest.approx(1.771)
    assert d.params[1] == pytest.approx(math.log(1.771 / 0.536) / 1.6448536, rel=1e-6)


def test_seeded_and_reproducible():
    s = L.agent_step(500, 100.0, ttft_s=L.lognormal(0.6, 0.5), decode_sigma=0.1, tool_s=L.exponential(0.3))
    a, b, c = (L.task(s, 3, 2).sample(1000, seed) for seed in (7, 7, 8))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_never_clips_tails():
    x = L.lognormal(1.0, 1.0).sample(N, seed=3)
    # P(X > e^{4σ}) = 1 − Φ(4) ≈ 3.2e-5 → about 13 draws expected beyond 54.6 s; clipping would give none.
    assert (x > math.exp(4)).sum() >= 3
    assert x.max() > math.exp(4)


# ------------------------------------------------------------------------------------------------ steps, worked example
def test_report_worked_example():
    # the report ([huatai26]) Q7 §2: 2,000 reasoning tokens at ≈ 1,600 tok/s → ≈ 1.2 s (exactly 1.25 s)
    assert L.decode_seconds(2000, 1600) == pytest.approx(1.25)
    assert L.tokens_in_seconds(1.25, 1600) == 2000
    t = L.simulate(L.agent_step(2000, 1600), n=1000)
    assert t.p50_s == t.p999_s == pytest.approx(1.25)


def test_agent_step_components_add_up():
    s = L.agent_step(600, 1000.0, prompt_tokens=5000, prefill_tokens_per_s=50_000.0, queue_s=0.05, tool_s=0.3,
                     network_s=0.075)
    assert s.median_sum_s == pytest.approx(0.05 + 0.1 + 0.6 + 0.3 + 0.075)
    assert [c[2] for c in s.breakdown()] == ["queue", "prefill", "decode", "tool", "network"]
    assert s.is_deterministic


def test_zero_variance_in_zero_variance_out():
    s = L.agent_step(300, 500.0, ttft_s=L.lognormal(0.1, 0.0), decode_sigma=0.0, tool_s=L.gamma(0.2, 0.0),
                     network_s=L.two_point(0.05, 1.0, 0.0), stall_p=0.0)
    x = L.task(s, steps=10, fan_out=8).sample(10_000, seed=1)
    assert np.ptp(x) == 0.0
    assert x[0] == pytest.approx(10 * (0.1 + 0.6 + 0.2 + 0.05))
    tl = L.tails(x)
    assert tl.p50_s == tl.p90_s == tl.p99_s == tl.p999_s
    # queue: deterministic arrivals and service (D/D/1 below saturation) never wait
    r = L.simulate_queue(0.9, 1.0, 0.0, arrival_cv=0.0, customers=10_000)
    assert r.mean_wait_s == 0.0 and r.wait.p999_s == 0.0
    assert r.sojourn.p50_s == r.sojourn.p999_s == 1.0


def test_voice_turn_reproduces_facts_worked_defaults():
    # sum of medians ≈ 1.33 s; MC (400k) p50 1.35, p95 2.13, p99 2.68 s (no stalls; docs/design/latency.md)
    v = L.voice_turn("hosted_gpu_api", stalls=False)
    assert v.median_sum_s == pytest.approx(1.325)
    x = v.sample(N, seed=0)
    p50, p95, p99 = np.percentile(x, [50, 95, 99])
    assert p50 == pytest.approx(1.35, rel=0.02) and p95 == pytest.approx(2.13, rel=0.02)
    assert p99 == pytest.approx(2.68, rel=0.03)
    det = L.voice_turn("hosted_gpu_api", jitter=False)
    assert det.is_deterministic
    assert np.ptp(det.sample(10)) == 0.0 and det.median_sum_s == pytest.approx(1.325)


# ------------------------------------------------------------------------------------------------ chains and fan-out
def test_chain_closed_form_probability():
    assert L.chain_slow_probability(0.01, 100) == pytest.approx(1 - 0.99 ** 100)
    assert L.chain_slow_probability(0.0, 50) == 0.0 and L.chain_slow_probability(1.0, 1) == 1.0
    p, k = 0.05, 10
    x = L.task(_one(L.two_point(1.0, 3.0, p)), steps=k).sample(N, seed=2)
    frac = np.mean(x > k * 1.0 + 1e-9)
    expect = L.chain_slow_probability(p, k)
    assert frac == pytest.approx(expect, abs=_binom_tol(expect, N))


def test_chain_two_point_quantiles_exact():
    d = L.two_point(1.0, 3.0, 0.05)
    tl = L.simulate(_one(d), n=1_000_000, seed=4, steps=10)
    for got, q in zip((tl.p50_s, tl.p90_s, tl.p99_s, tl.p999_s), L.QUANTILES, strict=True):
        assert got == pytest.approx(L.chain_quantile(d, 10, q))
    # Binomial(10, 0.05): P(N ≤ 2) = 0.9885, P(N ≤ 3) = 0.9990
    assert L.chain_quantile(d, 10, 0.99) == pytest.approx(16.0)


def test_chain_exponential_matches_erlang():
    d = L.exponential(0.2)
    x = L.task(_one(d), steps=10).sample(N, seed=6)
    for q in L.QUANTILES:
        t = L.chain_quantile(d, 10, q)
        assert np.mean(x <= t) == pytest.approx(q, abs=_binom_tol(q, N))


def test_fanout_tail_at_scale():
    # Dean & Barroso 2013: 1 % of leaf requests slow (1 s vs 10 ms), 100-way fan-out → 63 % of requests slow
    assert L.fanout_slow_probability(0.99, 100) == pytest.approx(0.634, abs=5e-4)
    d = L.two_point(0.010, 1.0, 0.01)
    assert L.fanout_slow_probability(d, 100, 0.5) == pytest.approx(1 - 0.99 ** 100)
    n = 100_000
    x = L.task(_one(d), fan_out=100).sample(n, seed=9)
    expect = 1 - 0.99 ** 100
    assert np.mean(x > 0.5) == pytest.approx(expect, abs=_binom_tol(expect, n))


def test_fanout_lognormal_quantiles_match_formula():
    d = L.lognormal(0.6, 0.6)  # 5 parallel searches → p50 1.18, p99 3.37 s (docs/design/latency.md)
    x = L.task(_one(d), fan_out=5).sample(N, seed=10)
    for q in L.QUANTILES:
        t = L.fanout_quantile(d, 5, q)
        assert np.mean(x <= t) == pytest.approx(q, abs=_binom_tol(q, N))
        assert d.cdf(t) ** 5 == pytest.approx(q, abs=1e-9)
    assert L.fanout_quantile(d, 5, 0.5) == pytest.approx(1.18, abs=0.01)
    assert L.fanout_quantile(d, 5, 0.99) == pytest.approx(3.37, abs=0.01)


def test_chain_averages_and_fanout_compounds():
    d = L.lognormal(1.0, 0.4)
    one = L.simulate(_one(d), n=N, seed=1)
    chain = L.simulate(_one(d), n=N, seed=1, steps=10)
    fan = L.simulate(_one(d), n=N, seed=1, fan_out=10)
    assert chain.p99_s / chain.p50_s < one.p99_s / one.p50_s     # iid jitter averages along a chain
    assert fan.p50_s > 1.5 * one.p50_s                              # and compounds in a fan-out


def test_session_multiplier_is_correlated_and_exact():
    s = L.agent_step(500, 1000.0, ttft_s=0.1, tool_s=0.2, network_s=0.05)
    x = L.task(s, steps=4, session=L.const(2.0)).sample(100, seed=0)
    assert np.ptp(x) == 0.0 and x[0] == pytest.approx(4 * (2 * (0.1 + 0.5) + 0.2 + 0.05))  # tool, network unscaled
    a = L.task(s, steps=3).sample(1000, seed=5)
    b = L.task(s, steps=3, session=L.const(1.0)).sample(1000, seed=5)
    assert np.array_equal(a, b)
    # iid jitter averages out along a chain; a per-session slowdown does not
    st = L.agent_step(300, 500.0, decode_sigma=0.05, ttft_s=0.1)
    sm = L.session_multiplier(seed=0)
    assert np.median(sm.samples) == pytest.approx(1.0, abs=0.01)
    iid = L.simulate(st, n=100_000, seed=1, steps=30)
    corr = L.simulate(st, n=100_000, seed=1, steps=30, session=sm)
    assert iid.p99_s / iid.p50_s < 1.03 < 1.15 < corr.p99_s / corr.p50_s
    with pytest.raises(LabsimError, match="session"):
        L.task(s, session=1.2)


def test_empirical_gpu_jitter_multiplier_has_median_one():
    j = L.gpu_decode_jitter(n=2000, seed=0)
    assert np.median(j.samples) == pytest.approx(1.0)
    s = L.agent_step(1000, 500.0, decode_jitter=j)
    x = s.sample(20_000, seed=1)
    assert np.median(x) == pytest.approx(2.0, rel=0.01)


# ------------------------------------------------------------------------------------------------ queueing
@pytest.mark.parametrize("load", [0.5, 0.8])
@pytest.mark.parametrize("cv", [0.0, 0.5, 1.0, 2.0])
def test_queue_mean_wait_matches_pollaczek_khinchine(load, cv):
    r = L.simulate_queue(load, 1.0, cv, customers=1_000_000, seed=1)
    assert r.pk_mean_wait_s == pytest.approx(load * (1 + cv * cv) / (2 * (1 - load)))
    assert abs(r.mean_wait_s - r.pk_mean_wait_s) <= 4 * r.mean_wait_stderr_s
    assert r.mean_wait_s == pytest.approx(r.pk_mean_wait_s, rel=0.05)


def test_md1_waits_half_of_mm1():
    assert L.md1_mean_wait_s(0.8, 1.25) == pytest.approx(2.5) and L.mm1_mean_wait_s(0.8, 1.25) == pytest.approx(5.0)
    mm1 = L.simulate_queue(0.8, 1.0, 1.0, customers=1_000_000, seed=3)
    md1 = L.simulate_queue(0.8, 1.0, 0.0, customers=1_000_000, seed=3)
    se = math.hypot(mm1.mean_wait_stderr_s / mm1.mean_wait_s, md1.mean_wait_stderr_s / md1.mean_wait_s)
    assert md1.mean_wait_s / mm1.mean_wait_s == pytest.approx(0.5, abs=4 * se * 0.5)


@pytest.mark.parametrize("load", [0.5, 0.8])
def test_mm1_wait_tail_matches_closed_form(load):
    r = L.simulate_queue(load, 1.0, 1.0, customers=1_000_000, seed=2)
    assert r.wait.p99_s == pytest.approx(L.mm1_wait_quantile_s(load, 1.0, 0.99), rel=0.05)
    assert r.wait.p90_s == pytest.approx(L.mm1_wait_quantile_s(load, 1.0, 0.90), rel=0.05)
    # M/M/1 sojourn is exponential with rate μ − λ
    assert r.sojourn.p99_s == pytest.approx(-math.log(0.01) / (1 - load), rel=0.05)
    assert L.mm1_wait_quantile_s(0.5, 1.0, 0.4) == 0.0  # P(W = 0) = 1 − ρ


def test_lognormal_service_family_and_kingman():
    r = L.simulate_queue(0.7, 1.0, 1.0, family="lognormal", customers=1_000_000, seed=5)
    assert abs(r.mean_wait_s - r.pk_mean_wait_s) <= 4 * r.mean_wait_stderr_s
    assert L.kingman_mean_wait_s(0.8, 1.0, 0.5) == pytest.approx(L.pk_mean_wait_s(0.8, 1.0, 0.5))
    g = L.simulate_queue(0.9, 1.0, 0.5, arrival_cv=0.5, customers=1_000_000, seed=5)
    assert g.mean_wait_s == pytest.approx(g.kingman_mean_wait_s, rel=0.25)  # an approximation, good in heavy traffic


def test_batching_batch1_is_md1_and_batching_adds_wait():
    tau = 0.5
    r = L.simulate_batching(1.2, 1, tau, requests=400_000, seed=1)          # load 0.6
    expected_mean = L.md1_mean_wait_s(0.6, tau) + tau
    assert r.latency.mean_s == pytest.approx(expected_mean, rel=0.03)
    assert r.throughput_per_s == pytest.approx(1.2, rel=0.02) and r.utilization == pytest.approx(0.6, rel=0.02)
    assert r.utilisation == r.utilization   # the old name still answers
    # waiting to fill a batch of 8 at a low rate adds ≈ (b − 1)/(2λ) of fill wait
    lam, b = 2.0, 8
    rb = L.simulate_batching(lam, b, tau, requests=200_000, seed=2)
    assert rb.mean_batch == pytest.approx(b, rel=0.02)
    assert rb.latency.mean_s > (b - 1) / (2 * lam) + tau - 0.05
    # a deadline caps the fill wait
    rd = L.simulate_batching(lam, b, tau, max_wait_s=0.25, requests=200_000, seed=2)
    assert rd.latency.max_s <= 0.25 + tau + 1e-9 or rd.latency.p99_s < rb.latency.p99_s
    assert rd.latency.p50_s < rb.latency.p50_s


def test_batching_curve_shapes():
    spt = L.linear_batch_seconds_per_token(0.02, 0.0005, 32)
    gpu = L.batching_curve(spt, 500, 32, loads=(0.2, 0.8), requests=20_000)
    lpu = L.batching_curve([0.002], 500, 1, loads=(0.2, 0.8), requests=20_000)
    assert gpu["throughput_tok_s"][1] > gpu["throughput_tok_s"][0]
    assert gpu["p50_s"][0] > lpu["p50_s"][0]
    assert lpu["tokens_per_s_per_user"][0] == pytest.approx(500.0)


# ------------------------------------------------------------------------------------------------ planner
def test_planner_deterministic_matches_closed_form():
    # on-screen step SLO 1.5 s, 1,600 tok/s, nothing else → 2,400 tokens
    p = L.plan_budget(1.5, 1600.0, usd_per_mtok=2.0)
    assert p.max_reasoning_tokens == L.max_reasoning_tokens(1.5, 1600.0) == 2400
    assert p.meets_slo and p.cost_per_task_usd == pytest.approx(2400 * 2.0 / 1e6)
    p = L.plan_budget(0.5, 500.0, ttft_s=0.1, tool_s=0.1, network_s=0.1)
    assert p.max_reasoning_tokens == L.max_reasoning_tokens(0.5, 500.0, fixed_s=0.3) == 100
    p = L.plan_budget(10.0, 100.0, steps=5, ttft_s=0.5)
    assert p.max_reasoning_tokens == L.max_reasoning_tokens(10.0, 100.0, fixed_s=0.5, steps=5) == 150
    p = L.plan_budget(0.2, 100.0, ttft_s=0.3)
    assert not p.feasible and p.max_reasoning_tokens == -1 and not p.meets_slo
    assert L.max_reasoning_tokens(0.2, 100.0, fixed_s=0.3) == -1


def test_planner_with_jitter_is_consistent():
    kw = dict(ttft_s=L.lognormal(0.1, 0.3), tool_s=L.lognormal(0.2, 0.5), decode_sigma=0.05, steps=3, fan_out=2)
    p99 = L.plan_budget(3.0, 1000.0, quantile=0.99, **kw)
    p50 = L.plan_budget(3.0, 1000.0, quantile=0.5, **kw)
    assert 0 < p99.max_reasoning_tokens < p50.max_reasoning_tokens
    over = L.plan_budget(3.0, 1000.0, quantile=0.99, reasoning_tokens=p99.max_reasoning_tokens + 1, **kw)
    assert p99.meets_slo and not over.meets_slo
    assert over.tokens_per_task == 3 * 2 * (p99.max_reasoning_tokens + 1)


def test_cost_per_task():
    assert L.cost_per_task_usd(3000, 5.20) == pytest.approx(0.0156)
    pts = L.report_fig11_points()
    assert pts["gpu-throughput"]["tokens_per_s_per_user"] == 30.0
    assert pts["groq-cost"]["usd_per_mtok"] == pytest.approx(1.94, abs=0.005)


# ------------------------------------------------------------------------------------------------ bad inputs
@pytest.mark.parametrize("call, match", [
    (lambda: L.pk_mean_wait_s(1.0, 1.0, 1.0), "load"),
    (lambda: L.simulate_queue(1.2, 1.0, 1.0), "load"),
    (lambda: L.mm1_wait_quantile_s(1.0, 1.0, 0.9), "load"),
    (lambda: L.simulate_batching(100.0, 4, 0.1), "cannot keep up"),
    (lambda: L.const(-0.1), "seconds"),
    (lambda: L.agent_step(100, 100.0, tool_s=-0.2), "tool_s"),
    (lambda: L.agent_step(100, 0.0), "decode_tokens_per_s"),
    (lambda: L.agent_step(100, 100.0, prompt_tokens=1000), "prefill_tokens_per_s"),
    (lambda: L.two_point(1.0, 3.0, 1.5), "p_slow"),
    (lambda: L.two_point(3.0, 1.0, 0.5), "slow_s"),
    (lambda: L.chain_slow_probability(-0.1, 10), "p_slow"),
    (lambda: L.fanout_slow_probability(1.2, 10), "cdf"),
    (lambda: L.fanout_slow_probability(L.const(1.0), 10), "t_s"),
    (lambda: L.lognormal(0.0, 0.5), "p50_s"),
    (lambda: L.lognormal(1.0, -0.5), "sigma"),
    (lambda: L.empirical([0.1, -0.2]), "samples_s"),
    (lambda: L.task(L.agent_step(1, 1.0), steps=0), "steps"),
    (lambda: L.agent_step(1, 1.0).sample(0), "n"),
    (lambda: L.agent_step(1, 1.0).sample(10, seed=-1), "seed"),
    (lambda: L.simulate_queue(0.5, 1.0, 1.0, family="pareto"), "family"),
    (lambda: L.plan_budget(0.0, 100.0), "slo_s"),
    (lambda: L.plan_budget(1.0, 100.0, quantile=1.5), "quantile"),
    (lambda: L.chain_quantile(L.lognormal(1.0, 0.5), 3, 0.99), "no closed form"),
    (lambda: L.simulate_batching(1.0, 3, [0.1, 0.2]), "batch size"),
    (lambda: L.Component("x", 0.3), "must be a Dist"),
    (lambda: L.Component("x", L.const(0.1), scale=-2.0), "scale"),
    (lambda: L.Stage(L.agent_step(1, 1.0), fan_out=0), "fan_out"),
    (lambda: L.simulate_batching(1.0, 2, 0.1, max_wait_s=-1.0), "max_wait_s"),
])
def test_bad_inputs_raise_clear_errors(call, match):
    with pytest.raises(LabsimError, match=match):
        call()


def test_empirical_shared_across_stages_is_stored_once():
    e = L.empirical([0.1, 0.2, 0.3])
    t = L.task(L.Step((L.Component("x", e),)), steps=50, fan_out=4)
    assert t._arrays()[-1].size == 3
    x = t.sample(1000, seed=0)
    assert x.min() >= 50 * 0.1 - 1e-12 and x.max() <= 50 * 0.3 + 1e-12


def test_warmup_runs():
    L._warmup()


# ------------------------------------------------------------------------------------------------ sampler internals
def test_ziggurat_normal_is_standard_normal():
    """The lognormal draws use a ziggurat N(0, 1) (faster than numba's polar method): check it is exactly normal —
    chi-square over 200 bins, both tails beyond the ziggurat's base r, moments, no lag-1 correlation, seeded."""
    from statistics import NormalDist
    n = 2_000_000
    z = L._normals(n, 7)
    assert np.array_equal(z, L._normals(n, 7)) and not np.array_equal(z[:100], L._normals(100, 8))
    edges = np.concatenate(([-np.inf], np.linspace(-4.5, 4.5, 201), [np.inf]))
    cdf = np.array([0.0 if e == -np.inf else 1.0 if e == np.inf else NormalDist().cdf(e) for e in edges])
    expected = np.diff(cdf) * n
    counts = np.histogram(z, bins=edges)[0]
    df = len(expected) - 1
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < df + 5 * math.sqrt(2 * df)                       # ≈ 5 s.d. of the chi-square
    r = 3.6541528853610088                                         # base of the 256-layer ziggurat
    p_tail = 2 * (1 - NormalDist().cdf(r))
    assert np.mean(np.abs(z) > r) == pytest.approx(p_tail, abs=_binom_tol(p_tail, n, 5))
    assert (z > 4.5).any() and (z < -4.5).any()                    # the exact tail is reached on both sides
    assert abs(z.mean()) < 5 / math.sqrt(n) and abs(z.var() - 1) < 5 * math.sqrt(2 / n)
    assert abs(np.corrcoef(z[:-1], z[1:])[0, 1]) < 5 / math.sqrt(n)


def test_fixed_components_folded_without_changing_draws():
    """Task.sample folds fixed components into one constant per stage; the random draws stay the same, so the
    samples equal the random-only task plus the constants (also under a session multiplier on prefill)."""
    rnd = L.lognormal(0.5, 0.4)
    mixed = L.Step((L.Component("queue", L.const(0.05), category="queue"), L.Component("x", rnd),
                    L.Component("prefill", L.lognormal(0.2, 0.0), category="prefill"),
                    L.Component("y", L.exponential(0.1)), L.Component("net", L.const(0.03), category="network")))
    only = L.Step((L.Component("x", rnd), L.Component("y", L.exponential(0.1))))
    a = L.task(mixed, steps=3, fan_out=2).sample(10_000, seed=4)
    b = L.task(only, steps=3, fan_out=2).sample(10_000, seed=4)
    np.testing.assert_allclose(a, b + 3 * (0.05 + 0.2 + 0.03), rtol=1e-12)
    c = L.task(mixed, steps=3, fan_out=2, session=L.const(2.0)).sample(10_000, seed=4)
    np.testing.assert_allclose(c, b + 3 * (0.05 + 2 * 0.2 + 0.03), rtol=1e-12)


def test_chip_step_and_plan_on_chip_use_chapter_3():
    speed = L.decode_speed("llama-3.3-70b", "groq-lpu-v1")
    ttft = L.prefill_seconds("llama-3.3-70b", "groq-lpu-v1", 2000)
    assert speed > 0 and ttft > 0
    s = L.chip_step("llama-3.3-70b", "groq-lpu-v1", 2000, prompt_tokens=2000, network_s=0.05)
    assert s.median_sum_s == pytest.approx(ttft + 2000 / speed + 0.05)
    p = L.plan_on_chip(0.2, "llama-3.3-70b", "groq-lpu-v1", prompt_tokens=500, usd_per_mtok=1.94)
    fixed = L.prefill_seconds("llama-3.3-70b", "groq-lpu-v1", 500)
    assert p.max_reasoning_tokens == L.max_reasoning_tokens(0.2, speed, fixed_s=fixed)
    assert p.cost_per_task_usd == pytest.approx(p.max_reasoning_tokens * 1.94e-6)
    gpu = L.plan_on_chip(0.2, "llama-3.3-70b", "nvidia-h100-sxm", prompt_tokens=500)
    assert gpu.max_reasoning_tokens < p.max_reasoning_tokens
    with pytest.raises(LabsimError, match="plan_budget"):
        L.plan_on_chip(1.0, "llama-3.3-70b", "groq-lpu-v1", ttft_s=0.1)
    with pytest.raises(LabsimError, match="prompt_tokens"):
        L.chip_step("llama-3.3-70b", "groq-lpu-v1", 10, prompt_tokens=-5)
    with pytest.raises(LabsimError):
        L.plan_on_chip(1.0, "llama-3.3-70b", "no-such-chip")


# ------------------------------------------------------------------------------------------------ the package's layout
#: The package's modules, lowest floor first (docs/design/latency.md): each may import only modules before it.
FLOORS = ("_common", "presets", "_kernels", "dists", "steps", "summary", "closed_forms", "queueing", "budget",
          "bridges", "__init__")


def _package_imports() -> dict[str, set[str]]:
    """Module name -> names of sibling modules it imports (``from .x import …``), and the other statements that
    load a module (any ``import``/``__import__``/``importlib`` use below module level)."""
    root = Path(L.__file__).parent
    out = {}
    for path in sorted(root.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        deps = set()
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                deps.add(node.module)
        nested = [n for top in tree.body if not isinstance(top, (ast.Import, ast.ImportFrom))
                  for n in ast.walk(top) if isinstance(n, (ast.Import, ast.ImportFrom))]
        assert not nested, f"{path.name}: import inside a function or class (line {nested[0].lineno})"
        text = path.read_text(encoding="utf-8")
        assert "importlib" not in text and "__import__" not in text, f"{path.name} loads a module by name"
        out[path.stem] = deps
    return out


def test_every_module_imports_only_lower_floors():
    imports = _package_imports()
    assert set(imports) == set(FLOORS), "a module was added or removed: place it in FLOORS and the design doc"
    for mod, deps in imports.items():
        for dep in deps:
            assert FLOORS.index(dep) < FLOORS.index(mod), f"latency.{mod} imports latency.{dep}, a higher floor"


def test_modules_are_small_and_the_public_api_is_whole():
    for path in Path(L.__file__).parent.glob("*.py"):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines <= 450, f"labsim/latency/{path.name} has {lines} lines; the package aims for ≤ 450 each"
    for name in L.__all__:
        assert getattr(L, name) is not None
    # private kernels the tests and benches call through the package
    assert callable(L._normals) and callable(L._gamma_draw) and callable(L._warmup)
