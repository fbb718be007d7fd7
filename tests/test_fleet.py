"""labsim.fleet: the optimizer is exact on small grids, monotone in the SLO, explains infeasibility, rejects bad
input, and its memos never serve a stale result."""
from __future__ import annotations

import dataclasses
import math
import os

import numpy as np
import pytest

from labsim import LabsimError, catalog, fleet, latency
from labsim.capacity import mesh
from labsim.capacity.decode import DecodeConfig
from labsim.viz import ch06

SMALL = dict(batches=(1, 4, 16), layout_multipliers=(1, 2), microbatches=(1, 4))
CHIPS = ["nvidia-h100-sxm", "groq-lpu-v1", "nvidia-b300"]


def chat(rate=2.0, ttft=0.45, tpot=0.04):
    return fleet.Workload("chat", "llama-3.1-8b", rate, prompt_tokens=500, output_tokens=200,
                          slos=(fleet.SLO("ttft", ttft), fleet.SLO("tpot", tpot)), output_tokens_cv=0.3)


def voice(slo_s=0.5):
    return fleet.load_scenario("voice_agent").workloads[0].replace(
        slos=(fleet.SLO("first_tokens", slo_s, tokens=20),))


# ---------------------------------------------------------------------------------------------------------------
# optimality: brute force on small grids
@pytest.mark.parametrize("wl", [chat(), chat(rate=20.0, ttft=0.2, tpot=0.02),
                                fleet.Workload("bg", "llama-3.1-8b", 5.0, 1000, 100)])
def test_chosen_never_costlier_than_any_feasible_candidate(wl):
    reps = list(range(1, 7))
    choice = fleet.search(wl, CHIPS, replicas=reps, **SMALL)
    feasible_costs = []
    for chip in CHIPS:
        mbs = SMALL["microbatches"] if catalog.chip(chip).memory_kind == "sram" else (1,)
        for b in SMALL["batches"]:
            for m in SMALL["layout_multipliers"]:
                for mb in mbs:
                    for r in reps:
                        c = fleet.evaluate_candidate(wl, chip, batch=b, replicas=r, layout_multiplier=m,
                                                     microbatches=mb)
                        if c.feasible:
                            feasible_costs.append(c.monthly_usd)
    if not feasible_costs:
        assert choice.best is None
        return
    assert choice.best is not None and choice.best.feasible
    assert choice.best.monthly_usd <= min(feasible_costs) * (1 + 1e-9)
    assert math.isclose(choice.best.monthly_usd, min(feasible_costs), rel_tol=1e-9)


def test_auto_replicas_matches_or_beats_the_grid_and_is_minimal():
    wl = chat(rate=20.0)
    grid = fleet.search(wl, CHIPS, replicas=list(range(1, 31)), **SMALL)
    auto = fleet.search(wl, CHIPS, **SMALL)
    assert auto.best is not None and auto.best.feasible
    assert auto.best.monthly_usd <= grid.best.monthly_usd * (1 + 1e-9)
    b = auto.best
    if b.replicas > 1:
        fewer = fleet.evaluate_candidate(wl, b.chip, batch=b.batch, replicas=b.replicas - 1,
                                         layout_multiplier=b.layout_multiplier, microbatches=b.microbatches)
        assert not fewer.feasible


# ---------------------------------------------------------------------------------------------------------------
# monotonicity
def test_tightening_an_slo_never_lowers_cost():
    costs = []
    for s in (0.6, 0.5, 0.4, 0.3, 0.25, 0.2, 0.15, 0.12, 0.1, 0.05):
        ch = fleet.search(voice(s), CHIPS)
        costs.append(math.inf if ch.best is None else ch.best.monthly_usd)
    assert all(b >= a * (1 - 1e-9) for a, b in zip(costs, costs[1:], strict=False)), costs


def test_tightening_tpot_never_lowers_cost():
    costs = []
    for s in (0.1, 0.05, 0.03, 0.02, 0.01, 0.005):
        ch = fleet.search(chat(rate=10, tpot=s), CHIPS, **SMALL)
        costs.append(math.inf if ch.best is None else ch.best.monthly_usd)
    assert all(b >= a * (1 - 1e-9) for a, b in zip(costs, costs[1:], strict=False)), costs


def test_more_traffic_never_lowers_monthly_cost():
    a = fleet.search(chat(rate=5), CHIPS, **SMALL).best.monthly_usd
    b = fleet.search(chat(rate=50), CHIPS, **SMALL).best.monthly_usd
    assert b >= a


# ---------------------------------------------------------------------------------------------------------------
# infeasibility is explained
def test_infeasible_workload_reports_which_slo_and_bound():
    wl = fleet.load_scenario("coding_agent").workloads[0]
    tight = fleet.with_slo(wl, "task", 0.2)
    plan = fleet.optimize([tight], CHIPS, progress=False)
    assert not plan.feasible
    reason = plan.infeasible["coding"]
    assert "task time" in reason and "missed" in reason
    for chip in CHIPS:
        assert chip in reason
    assert "bound" in reason
    assert "INFEASIBLE" in plan.choices["coding"].summary()


def test_unpriced_and_untimed_chips_are_explained():
    nopeak = catalog.load_chip({"name": "no-peak-wafer", "memory_kind": "sram", "memory_bytes": 44e9,
                                "memory_bandwidth_bytes_per_s": 21e15})   # a user chip with no published peak
    ch = fleet.search(chat(), ["nvidia-h200", nopeak, "nvidia-h100-sxm"], **SMALL)
    assert "price" in ch.per_chip["nvidia-h200"]
    assert "cannot time" in ch.per_chip["no-peak-wafer"]
    priced = fleet.search(chat(), ["nvidia-h200"], prices_usd={"nvidia-h200": 50_000}, **SMALL)
    assert priced.best is not None and priced.best.chip == "nvidia-h200"


def test_gpu_cannot_meet_the_coding_slo_but_lpu_can():
    ch = fleet.search(fleet.load_scenario("coding_agent").workloads[0], CHIPS)
    assert ch.best is not None and ch.best.memory_kind == "sram"
    assert isinstance(ch.per_chip["nvidia-h100-sxm"], str) and "missed" in ch.per_chip["nvidia-h100-sxm"]


def test_mixed_product_is_a_hybrid_fleet():
    plan = fleet.optimize(fleet.load_scenario("mixed_product"), CHIPS, progress=False)
    assert plan.feasible
    kinds = {r["memory_kind"] for r in plan.rows()}
    assert kinds == {"sram", "hbm"}
    assert plan.capex_usd > 0 and plan.monthly_usd > 0 and plan.usd_per_mtok > 0
    assert sum(plan.chips_by_type.values()) == sum(r["chips"] for r in plan.rows())
    assert "blended" in plan.summary()


# ---------------------------------------------------------------------------------------------------------------
# queueing pieces agree with chapter 5
def test_erlang_c_known_values_and_mm1():
    c = fleet._erlang_c(np.array([1.0, 2.0, 10.0, 1000.0]), np.array([0.7, 1.0, 0.0, 500.0]))
    assert c[0] == pytest.approx(0.7)
    assert c[1] == pytest.approx(1 / 3)
    assert c[2] == 0.0
    assert c[3] < 1e-30
    # large N near saturation stays finite and in (0, 1)
    big = fleet._erlang_c(np.array([100_000.0]), np.array([99_500.0]))
    assert 0 < big[0] < 1


def test_single_slot_wait_matches_latency_mm1_quantile():
    # one slot, exponential-like service: the optimizer's P99 TTFT − prefill must equal chapter 5's M/M/1 quantile
    wl = fleet.Workload("x", "llama-3.1-8b", 1.0, prompt_tokens=100, output_tokens=100, output_tokens_cv=1.0,
                        slos=(fleet.SLO("ttft", 100.0),))
    c = fleet.evaluate_candidate(wl, "nvidia-h100-sxm", batch=1, replicas=1)
    # the platform jitter adds a little variance: C_s^2 = 1 + cv_jit^2
    cv_j = latency.lognormal(1.0, latency.platform("dedicated_gpu").decode_sigma).cv
    S = c.prefill_s + 100 * c.seconds_per_token
    rho = 1.0 * S
    mm1 = latency.mm1_wait_quantile_s(rho, S, 0.99)
    assert c.slo_values["ttft"] - c.prefill_s == pytest.approx(mm1 * (1 + 1 + cv_j ** 2) / 2 / 1.0, rel=1e-6)


def test_poisson_ppf_matches_direct_sum():
    mu = np.array([0.01, 0.5, 3.0, 40.0])
    got = fleet._poisson_ppf(mu, 0.99, 2.326)
    for m, k in zip(mu, got, strict=True):
        cdf = sum(math.exp(-m) * m ** j / math.factorial(j) for j in range(int(k) + 1))
        below = sum(math.exp(-m) * m ** j / math.factorial(j) for j in range(int(k)))
        assert cdf >= 0.99 and (k == 0 or below < 0.99)


def test_union_bound_is_above_the_simulated_tail():
    wl = fleet.load_scenario("coding_agent").workloads[0]
    best = fleet.search(wl, CHIPS).best
    v = fleet.verify_task_tail(wl, best, n=20_000, seed=1)
    assert v["p99_s"] <= v["bound_s"] + 1e-9


# ---------------------------------------------------------------------------------------------------------------
# scenarios, proposals, variants
def test_bundled_scenarios_load_with_sources():
    names = fleet.scenarios()
    for n in ("voice_agent", "coding_agent", "batch_summarization", "mixed_product"):
        assert n in names
    for n in names:
        sc = fleet.load_scenario(n)
        for w in sc.workloads:
            assert w.sources, n
            for s in w.slos:
                assert s.source


def test_scenario_without_source_is_rejected(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text('[[workload]]\nname = "a"\nmodel = "llama-3.1-8b"\narrival_rate_per_s = 1.0\n'
                 'prompt_tokens = 10\noutput_tokens = 10\n[workload.sources]\nprompt_tokens = "[A]"\n'
                 'output_tokens = "[A]"\n', encoding="utf-8")
    with pytest.raises(LabsimError, match="arrival_rate_per_s has no source"):
        fleet.load_scenario(p)


def test_check_fleet_accepts_the_optimum_and_rejects_too_few_replicas():
    sc = fleet.load_scenario("voice_agent")
    best = fleet.search(sc.workloads[0], CHIPS).best
    prop = {"voice": {"chip": best.chip, "batch": best.batch, "replicas": best.replicas,
                      "layout_multiplier": best.layout_multiplier, "microbatches": best.microbatches}}
    chk = fleet.check_fleet(sc, prop)
    assert chk.ok and chk.monthly_usd == pytest.approx(best.monthly_usd)
    bad = fleet.check_fleet(sc, {"voice": {"chip": "nvidia-h100-sxm", "batch": 128, "replicas": 1}})
    assert not bad.ok and "✗" in bad.report()
    assert not fleet.check_fleet(sc, {}).ok


def test_sram_variant_and_electricity():
    v = fleet.sram_variant("groq-lpu-v1", 4.0, name="test-lpu-4x")
    assert v.memory_bytes == pytest.approx(4 * catalog.chip("groq-lpu-v1").memory_bytes)
    # 4x the SRAM per chip: a quarter of the chips hold the model, but each chip now streams 4x the bytes
    # per token through the same MXM install path — so a packed token is slower, not faster
    from labsim import capacity
    one = capacity.decode_time("llama-3.3-70b", "groq-lpu-v1")
    four = capacity.decode_time("llama-3.3-70b", "test-lpu-4x")
    assert four.chips < one.chips / 3
    assert four.seconds_per_token > 2 * one.seconds_per_token
    wl = fleet.load_scenario("coding_agent").workloads[0]
    base = fleet.search(wl, ["groq-lpu-v1"]).best
    dear = fleet.search(wl, ["groq-lpu-v1"], cost_overrides={"electricity_usd_per_kwh": 0.174}).best
    assert dear.monthly_usd > base.monthly_usd


def test_flip_slo_finds_the_crossover():
    s = fleet.flip_slo(voice(), "first_tokens", 0.05, 0.5, CHIPS, tol_s=0.005)
    assert s is not None and 0.05 < s < 0.5
    above = fleet.search(voice(s + 0.01), CHIPS).best
    below = fleet.search(voice(s - 0.01), CHIPS).best
    assert above.memory_kind != (None if below is None else below.memory_kind)


# ---------------------------------------------------------------------------------------------------------------
# bad input
@pytest.mark.parametrize("make", [
    lambda: fleet.Workload("a", "llama-3.1-8b", -1.0, 10, 10),
    lambda: fleet.Workload("a", "llama-3.1-8b", 1.0, 10, 0),
    lambda: fleet.Workload("a", "no-such-model", 1.0, 10, 10),
    lambda: fleet.Workload("", "llama-3.1-8b", 1.0, 10, 10),
    lambda: fleet.Workload("a", "llama-3.1-8b", 1.0, 10, 10, slos=("fast",)),
    lambda: fleet.Workload("a", "llama-3.1-8b", 1.0, 10, 10, active_hours_per_day=0),
    lambda: fleet.SLO("latency", 0.5),
    lambda: fleet.SLO("ttft", -0.5),
    lambda: fleet.SLO("ttft", 0.5, quantile=1.0),
    lambda: fleet.SLO("first_tokens", 0.5),
    lambda: fleet.search(chat(), ["no-such-chip"]),
    lambda: fleet.search(chat(), []),
    lambda: fleet.search(chat(), CHIPS, batches=(0,)),
    lambda: fleet.search(chat(), CHIPS, cost_overrides={"capex_usd": 1}),
    lambda: fleet.evaluate_candidate(chat(), "nvidia-h100-sxm", batch=0),
    lambda: fleet.evaluate_candidate(chat(), "nvidia-h100-sxm", microbatches=4),
    lambda: fleet.optimize([], CHIPS),
    lambda: fleet.optimize([chat(), chat()], CHIPS),
    lambda: fleet.check_fleet([chat()], {"nope": {"chip": "nvidia-h100-sxm", "replicas": 1}}),
    lambda: fleet.check_fleet([chat()], {"chat": {"chip": "nvidia-h100-sxm"}}),
    lambda: fleet.check_fleet([chat()], {"chat": {"chip": "nvidia-h100-sxm", "replicas": 1, "gpus": 3}}),
    lambda: fleet.load_scenario("no_such_scenario"),
    lambda: fleet.flip_slo(voice(), "first_tokens", 0.5, 0.1),
    lambda: fleet.sram_variant("groq-lpu-v1", 0),
    lambda: fleet.scale_rates([chat()], 0),
    lambda: fleet.scale_rates(["chat"], 2.0),
    lambda: fleet.with_slo("chat", "ttft", 0.1),
    lambda: fleet.verify_task_tail(chat(), "a candidate"),
    lambda: fleet.candidate_table(chat(), "nvidia-h100-sxm", replicas=[0, 1]),
    lambda: fleet.prefill_seconds("llama-3.1-8b", "nvidia-h100-sxm", -5),
    lambda: fleet.search(chat(), CHIPS, replicas=[]),
    lambda: fleet.search(chat(), CHIPS, prices_usd=5),
    lambda: fleet.search(chat(), CHIPS, prices_usd={"nvidia-b300": -1}),
    lambda: fleet.fastest("chat", "nvidia-b300"),
])
def test_bad_inputs_raise_labsim_error(make):
    with pytest.raises(LabsimError):
        make()


def test_a_single_chip_name_and_the_progress_bar():
    a = fleet.search(chat(), "nvidia-b300", **SMALL)
    b = fleet.search(chat(), ["nvidia-b300"], progress=True, **SMALL)
    assert list(a.per_chip) == ["nvidia-b300"] and a.best.monthly_usd == b.best.monthly_usd


def test_assumptions_are_named_and_tagged():
    for a in fleet.ASSUMPTIONS.values():
        assert a.status.startswith("[") and a.source
    assert "idle_power_fraction" in fleet.assumptions_table()


def test_erlang_c_matches_the_textbook_sum():
    rng = np.random.default_rng(0)
    for _ in range(30):
        N = int(rng.integers(1, 60))
        a = float(rng.uniform(0.01, 0.999)) * N
        terms = [a ** k / math.factorial(k) for k in range(N)]
        last = a ** N / math.factorial(N) * N / (N - a)
        expect = last / (sum(terms) + last)
        assert fleet._erlang_c(np.array([float(N)]), np.array([a]))[0] == pytest.approx(expect, rel=1e-9)


def test_unpriced_or_unpowered_chips_in_grid_mode_and_scalar():
    ch = fleet.search(chat(), ["nvidia-h200", "nvidia-h100-sxm"], replicas=[1, 2], **SMALL)
    assert "price" in ch.per_chip["nvidia-h200"]
    c = fleet.evaluate_candidate(chat(), "google-tpu-v7", batch=4, replicas=1)
    assert not c.feasible and any("power" in f for f in c.failed)


# ---------------------------------------------------------------------------------------------------------------
# the search machinery: 16-ary replica search, Erlang floor, memos, scenario cache
@pytest.mark.parametrize("wl", [chat(rate=30.0), voice(0.3), fleet.load_scenario("coding_agent").workloads[0],
                                fleet.Workload("bg", "llama-3.1-8b", 40.0, 1000, 100)])
def test_fewest_replicas_equals_a_linear_scan(wl):
    rmax = 400
    for name in CHIPS:
        c = catalog.chip(name)
        t = fleet._table(wl, c, None, None, None)
        idx, hi, _, _ = fleet._fewest_replicas(wl, c, t, rmax)
        reps = np.arange(1, rmax + 1, dtype=float)
        tt = {k: (v[:, None] if isinstance(v, np.ndarray) else v) for k, v in t.items()}
        ok = fleet._metrics(wl, c, tt, reps[None, :])["ok"] & t["fits"][:, None]
        feasible_cfg = np.nonzero(ok[:, -1])[0]
        assert list(idx) == list(feasible_cfg)
        for j, i in enumerate(idx):
            assert hi[j] == reps[np.argmax(ok[i])], (name, i)     # the first feasible count of a linear scan


def test_erlang_floor_only_zeroes_values_below_the_floor():
    rng = np.random.default_rng(3)
    N = np.floor(rng.uniform(1, 5000, 4000))
    a = N * rng.uniform(0.01, 0.999, N.size)
    exact = fleet._erlang_c(N, a)
    for floor in (1e-3, 1e-9):
        got = fleet._erlang_c(N, a, floor)
        same = got == exact
        assert np.all(same | ((got == 0.0) & (exact < floor))), floor
        assert (~same).sum() > 0             # the shortcut does fire


def test_memoized_search_is_keyed_on_everything_that_matters():
    wl = chat(rate=4.0)
    a = fleet.search(wl, CHIPS, **SMALL)
    b = fleet.search(chat(rate=4.0), CHIPS, **SMALL)            # a new, equal workload: same answer
    assert b.best.monthly_usd == a.best.monthly_usd and b.workload is not a.workload
    night = fleet.search(wl.replace(active_hours_per_day=8.0), CHIPS, **SMALL)
    assert night.best.monthly_usd < a.best.monthly_usd          # less power drawn: the memo must not return `a`
    dear = fleet.search(wl, CHIPS, cost_overrides={"electricity_usd_per_kwh": 0.5}, **SMALL)
    assert dear.best.monthly_usd > a.best.monthly_usd
    priced = fleet.search(wl, CHIPS, prices_usd={a.best.chip: 10 * catalog.chip(a.best.chip).price_usd}, **SMALL)
    assert priced.best.monthly_usd > a.best.monthly_usd
    renamed = fleet.search(wl.replace(name="chat2"), CHIPS, **SMALL)
    assert renamed.best.workload == "chat2"


def _b300_copy(**changes):
    c = catalog.chip("nvidia-b300")
    d = {f: getattr(c, f) for f in ("memory_kind", "memory_bytes", "memory_bandwidth_bytes_per_s", "power_w",
                                    "price_usd", "chips_per_node", "chips_per_rack", "sync_domain_chips",
                                    "link_bandwidth_bytes_per_s", "link_latency_s")}
    d = {k: v for k, v in d.items() if v is not None}
    return {"name": "memo-gpu", **d, "peak_ops_per_s": dict(c.peak_ops_per_s), **changes}


def test_a_chip_re_registered_under_the_same_name_is_never_served_from_a_memo():
    wl = chat(rate=4.0)
    try:
        catalog.add_chip(_b300_copy(), replace=True)
        first = fleet.search(wl, ["memo-gpu"], **SMALL).best
        assert first is not None and first.chip == "memo-gpu"
        catalog.add_chip(_b300_copy(price_usd=3 * catalog.chip("nvidia-b300").price_usd), replace=True)
        dearer = fleet.search(wl, ["memo-gpu"], **SMALL).best           # no clear_cache in between
        assert dearer.capex_usd == pytest.approx(3 * first.capex_usd, rel=0.35) and dearer.capex_usd > first.capex_usd
        slow = catalog.chip("nvidia-b300").memory_bandwidth_bytes_per_s / 8
        catalog.add_chip(_b300_copy(memory_bandwidth_bytes_per_s=slow), replace=True)
        slower = fleet.search(wl, ["memo-gpu"], **SMALL).best
        assert slower.seconds_per_token > first.seconds_per_token       # a fresh speed table, not the cached one
    finally:
        catalog._remove_user_entries()


def test_an_entry_differing_only_in_its_extras_is_a_new_memo_key():
    base = _b300_copy()
    a, b = catalog.load_chip({**base, "extra": {"cores": 1.0}}), catalog.load_chip({**base, "extra": {"cores": 2.0}})
    assert a != b and hash(a) == hash(b)                # equal hashes, unequal values: lru_cache tells them apart
    assert a == catalog.load_chip({**base, "extra": {"cores": 1.0}})
    wafer = catalog.chip("cerebras-cs3")
    d = {f: getattr(wafer, f) for f in ("memory_kind", "memory_bytes", "memory_bandwidth_bytes_per_s", "packaging")}
    few = catalog.load_chip({"name": "w", **d, "peak_ops_per_s": dict(wafer.peak_ops_per_s),
                             "extra": {**wafer.extra, "cores": wafer.cores / 100}})
    many = catalog.load_chip({"name": "w", **d, "peak_ops_per_s": dict(wafer.peak_ops_per_s),
                              "extra": {**wafer.extra, "cores": float(wafer.cores)}})
    assert mesh.cores_per_chip(few) != mesh.cores_per_chip(many)
    cfg = capacity_config()
    assert mesh.mesh_constants(few, cfg, 1e9, "fp16").cores != mesh.mesh_constants(many, cfg, 1e9, "fp16").cores


def capacity_config():
    return DecodeConfig()


def test_a_model_re_registered_under_the_same_name_is_never_served_from_a_memo():
    m = catalog.model("llama-3.1-8b")
    d = {f.name: getattr(m, f.name) for f in dataclasses.fields(m)
         if f.name not in ("extra", "sources", "notes", "origin", "display_name")}
    try:
        catalog.add_model({**d, "name": "memo-llm"}, replace=True)
        wl = chat(rate=4.0).replace(model="memo-llm")
        small = fleet.search(wl, CHIPS, **SMALL).best
        catalog.add_model({**d, "name": "memo-llm", "num_layers": 4 * m.num_layers}, replace=True)
        big = fleet.search(wl, CHIPS, **SMALL).best
        assert big.monthly_usd > small.monthly_usd
    finally:
        catalog._remove_user_entries()


def test_a_search_with_an_empirical_distribution_is_not_memoized():
    samples = np.full(1000, 0.05)
    wl = fleet.Workload("tool", "llama-3.1-8b", 2.0, 500, 200, steps=2, tool_s=latency.empirical(samples),
                        slos=(fleet.SLO("task", 30.0),))
    before = fleet.search(wl, CHIPS, **SMALL).best.slo_values["task"]
    wl.tool_s.samples[:] = 5.0                           # the caller changes the array the distribution holds
    after = fleet.search(wl, CHIPS, **SMALL).best.slo_values["task"]
    assert after > before + 2 * 4.9


def test_an_edited_scenario_file_is_parsed_again_even_with_the_same_size_and_mtime(tmp_path):
    p = tmp_path / "s.toml"
    body = ('[[workload]]\nname = "a"\nmodel = "llama-3.1-8b"\narrival_rate_per_s = {rate}\nprompt_tokens = 10\n'
            'output_tokens = 10\n[workload.sources]\narrival_rate_per_s = "[A]"\nprompt_tokens = "[A]"\n'
            'output_tokens = "[A]"\n')
    p.write_text(body.format(rate="1.0"), encoding="utf-8")
    st = p.stat()
    assert fleet.load_scenario(p).workloads[0].arrival_rate_per_s == 1.0
    p.write_text(body.format(rate="7.0"), encoding="utf-8")             # same size ...
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))                    # ... and the same modification time
    assert p.stat().st_size == st.st_size and p.stat().st_mtime_ns == st.st_mtime_ns
    assert fleet.load_scenario(p).workloads[0].arrival_rate_per_s == 7.0


def test_load_scenario_is_cached_until_the_file_changes(tmp_path):
    assert fleet.load_scenario("voice_agent") is fleet.load_scenario("voice_agent")
    p = tmp_path / "s.toml"
    body = ('[[workload]]\nname = "a"\nmodel = "llama-3.1-8b"\narrival_rate_per_s = {rate}\nprompt_tokens = 10\n'
            'output_tokens = 10\n[workload.sources]\narrival_rate_per_s = "[A]"\nprompt_tokens = "[A]"\n'
            'output_tokens = "[A]"\n')
    p.write_text(body.format(rate="1.0"), encoding="utf-8")
    assert fleet.load_scenario(p).workloads[0].arrival_rate_per_s == 1.0
    p.write_text(body.format(rate="25.0"), encoding="utf-8")
    assert fleet.load_scenario(p).workloads[0].arrival_rate_per_s == 25.0


# ---------------------------------------------------------------------------------------------------------------
# a workload from a chapter-5 agent task; the speed ceiling
def test_workload_from_task_takes_the_hardware_free_parts():
    tool = latency.lognormal(0.2, 0.5)
    step = latency.agent_step(500, 100, prompt_tokens=2000, prefill_tokens_per_s=1e4, tool_s=tool, network_s=0.05)
    wl = fleet.workload_from_task("agent", "llama-3.1-8b", 1.5, latency.task(step, 4), slos=(fleet.SLO("task", 30),))
    assert (wl.steps, wl.output_tokens, wl.prompt_tokens, wl.arrival_rate_per_s) == (4, 500, 2000, 1.5)
    assert wl.tool_s is tool and wl.network_s.mean_s == pytest.approx(0.05)
    one = fleet.workload_from_task("one", "llama-3.1-8b", 1.0, step, precision="fp8")
    assert one.steps == 1 and one.precision == "fp8" and one.background
    assert fleet.search(wl, CHIPS, **SMALL).best is not None


@pytest.mark.parametrize("make", [
    lambda: fleet.workload_from_task("x", "llama-3.1-8b", 1.0, "a task"),
    lambda: fleet.workload_from_task("x", "llama-3.1-8b", 1.0,
                                     latency.task(latency.agent_step(100, 50, ttft_s=0.2), 2, fan_out=3),
                                     prompt_tokens=10),
    lambda: fleet.workload_from_task("x", "llama-3.1-8b", 1.0, latency.agent_step(100, 50, ttft_s=0.2)),
    lambda: fleet.workload_from_task("x", "llama-3.1-8b", -1.0, latency.agent_step(100, 50, ttft_s=0.2),
                                     prompt_tokens=10),
    lambda: fleet.workload_from_task("x", "llama-3.1-8b", 1.0, latency.agent_step(100, 50, ttft_s=0.2),
                                     prompt_tokens=10, steps=3),
    lambda: fleet.workload_from_task("x", "llama-3.1-8b", 1.0, latency.agent_step(100, 50, ttft_s=0.2),
                                     prompt_tokens=10, color="red"),
])
def test_workload_from_task_bad_input(make):
    with pytest.raises(LabsimError):
        make()


def test_fastest_is_the_ceiling_the_explanation_quotes():
    coding = fleet.load_scenario("coding_agent").workloads[0]
    lpu = fleet.fastest(coding, "groq-lpu-v1")
    gpu = fleet.fastest(coding, "nvidia-b300")
    need = coding.output_tokens / coding.slos[0].seconds
    assert gpu["tokens_per_s_per_user"] < need < lpu["tokens_per_s_per_user"]
    assert "even with unlimited replicas" in fleet.search(coding, CHIPS).per_chip["nvidia-b300"]
    with pytest.raises(LabsimError):
        fleet.fastest(coding, "no-such-chip")


# ---------------------------------------------------------------------------------------------------------------
# issue 18's names: the new ones, and the old ones kept as aliases
def test_new_names_and_their_old_aliases_give_the_same_answers():
    wl = chat(rate=4.0)
    assert fleet.optimise is fleet.optimize and fleet.prefill_seconds is fleet.replica_prefill_seconds
    new = fleet.search(wl, chip_names=CHIPS, **SMALL).best
    old = fleet.search(wl, chips=CHIPS, **SMALL).best
    assert new.monthly_usd == old.monthly_usd and new.chip == old.chip
    assert fleet.optimize([wl], chips=CHIPS, progress=False, **SMALL).monthly_usd == \
        fleet.optimize([wl], chip_names=CHIPS, progress=False, **SMALL).monthly_usd
    v = voice(0.5)
    assert fleet.flip_slo(v, "first_tokens", 0.05, 0.5, chips=CHIPS, tol_s=0.05) == \
        fleet.flip_slo(v, "first_tokens", 0.05, 0.5, chip_names=CHIPS, tol_s=0.05)
    assert ch06.explore(chips=CHIPS)["monthly_usd"] == ch06.explore(chip_names=CHIPS)["monthly_usd"]
    for call in (lambda: fleet.search(wl, CHIPS, chips=CHIPS), lambda: fleet.optimize([wl], CHIPS, chips=CHIPS),
                 lambda: ch06.explore(chip_names=CHIPS[:1], chips=CHIPS)):
        with pytest.raises(LabsimError, match="chip_names or its old name chips"):
            call()
    with pytest.raises(LabsimError, match="chip_names must be None"):
        fleet.search(wl, 42)
    old = fleet.load_scenario("batch_summarisation")          # the scenario's old (British) name still loads
    assert old is fleet.load_scenario("batch_summarization") and "batch_summarisation" not in fleet.scenarios()
