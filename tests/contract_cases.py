"""The input contract (docs/contract.md), as data the contract tests drive.

Every public callable of ``labsim`` (each module's ``__all__``) gets a VALID call here — a small, fast call that
works. The tests then break that call one argument at a time (every parameter × every bad value in ``BAD``) and
with hypothesis (several arguments at once, any float or integer), and check the contract:

* the call returns, and every number in what it returns (walked recursively through dataclasses, mappings, arrays,
  public properties and strings) is finite; or
* it raises ``labsim.LabsimError`` whose message names the parameter;
* never another exception, a hang (``CALL_LIMIT_S``), NaN or inf, and never a silently accepted wrong type
  (a string, bool or None where a number is expected, a fraction where a whole number is expected).

A new public function without a VALID entry fails ``test_every_public_callable_has_a_valid_call``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import inspect
import io
import math
import re
import signal
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

import numpy as np

import labsim
from labsim import (
    LabsimError,
    assumptions,
    capacity,
    fleet,
    gpu,
    latency,
    mesh,
    multichip,
    numerics,
    schedule,
    systolic,
    tco,
    tsp,
    validation,
)
from labsim.viz import ch07 as viz_ch07

CALL_LIMIT_S = 20.0

M, C, G = "llama-3.1-8b", "groq-lpu-v1", "nvidia-h100-sxm"


class Bad:
    """A bad value with a readable label (hypothesis and reports print the label)."""

    def __init__(self, label: str, make: Callable[[], object]):
        self.label, self.make = label, make

    def __repr__(self) -> str:
        return self.label


def _b(label, value):
    return Bad(label, (lambda v=value: v) if not callable(value) or isinstance(value, type) else value)


#: Extreme, non-finite and wrong-typed values; every parameter of every public callable meets each of them.
BAD = [
    _b("nan", math.nan), _b("inf", math.inf), _b("-inf", -math.inf), _b("1e308", 1e308), _b("-1e308", -1e308),
    _b("1e300", 1e300), _b("5e-324", 5e-324), _b("-5e-324", -5e-324), _b("0", 0), _b("-1", -1), _b("2.5", 2.5),
    _b("10**15", 10**15), _b("10**400", 10**400), _b("-10**15", -10**15), _b("np.float64(nan)", np.float64("nan")),
    _b("True", True), _b("'8'", "8"), _b("'abc'", "abc"), _b("''", ""), _b("'\\x00'", "\x00"), _b("None", None),
    _b("[]", lambda: []), _b("[1, nan]", lambda: [1.0, math.nan]), _b("[1e308, 1e308]", lambda: [1e308, 1e308]),
    _b("{}", lambda: {}), _b("np.array(['a'])", lambda: np.array(["a"])),
    _b("np.array([None], dtype=object)", lambda: np.array([None], dtype=object)),
    _b("np.array([])", lambda: np.array([])), _b("object()", lambda: object()), _b("b'x'", b"x"),
]
#: The short pool for slow callables (plots, widgets): one of each kind.
BAD_SHORT = [b for b in BAD if b.label in ("nan", "inf", "1e308", "-1", "0", "10**15", "10**400", "'abc'", "None",
                                           "True", "np.array(['a'])")]

NUMERIC_TYPES = (int, float, np.integer, np.floating)


def call(*args, **kwargs):
    return args, kwargs


# ------------------------------------------------------------------------------------------------ fixtures
# (functions, so that importing this module stays cheap; each builds fresh objects)

def _B():
    from labsim import tco
    return tco.REPORT_FIG11["groq-cost"]


def _wl(**kw):
    from labsim import fleet
    base = dict(name="chat", model=M, arrival_rate_per_s=1.0, prompt_tokens=256, output_tokens=128,
                slos=(fleet.SLO("ttft", 1.0),))
    base.update(kw)
    return fleet.Workload(**base)


_GRID = dict(batches=[1, 2], layout_multipliers=[1], microbatches=[1])


def _step():
    from labsim import latency
    return latency.agent_step(100, 500.0, ttft_s=latency.lognormal(0.1, 0.3), tool_s=0.05)


def _kernels():
    from labsim import gpu
    return gpu.model_decoder_layer_kernels(M)


def _chip_dict(**kw):
    from labsim import catalog
    c = catalog.chip(C)
    d = {"name": "fuzz-chip", "memory_kind": c.memory_kind, "memory_bytes": c.memory_bytes,
         "memory_bandwidth_bytes_per_s": c.memory_bandwidth_bytes_per_s, "peak_ops_per_s": dict(c.peak_ops_per_s),
         "clock_hz": c.clock_hz, "power_w": c.power_w, "price_usd": c.price_usd, "chips_per_node": c.chips_per_node,
         "chips_per_rack": c.chips_per_rack, "sync_domain_chips": c.sync_domain_chips,
         "link_bandwidth_bytes_per_s": c.link_bandwidth_bytes_per_s, "link_latency_s": c.link_latency_s}
    d.update(kw)
    return d


_MODEL_FIELDS = ("num_layers", "hidden_size", "num_heads", "num_kv_heads", "head_dim", "intermediate_size",
                 "vocab_size", "tie_word_embeddings", "max_context_tokens")


def _model_dict(**kw):
    from labsim import catalog
    m = catalog.model(M)
    d = {"name": "fuzz-model", **{k: getattr(m, k) for k in _MODEL_FIELDS}}
    d.update(kw)
    return d


def _moe_dict(**kw):
    from labsim import catalog
    m = catalog.model("gpt-oss-120b")
    keys = _MODEL_FIELDS + ("num_experts", "experts_per_token", "moe_intermediate_size", "local_window_tokens",
                            "local_attention_kind", "full_attention_period", "attention_bias", "mlp_bias",
                            "attention_sinks", "router_bias")
    d = {"name": "fuzz-moe", **{k: getattr(m, k) for k in keys}}
    d.update(kw)
    return d


def _model_use(m):
    return (m.params_total(), m.params_active(), m.param_breakdown(), m.weight_bytes("int8"),
            m.weight_bytes("bf16", expert_precision="mxfp4"), m.kv_cache_bytes_per_token("bf16"),
            m.kv_cache_bytes(4096, batch=2), m.flops_per_token(4096))


def _chip_use(c):
    return (c, [c.peak_ops(p) for p in c.peak_ops_per_s])


def _sched():
    from labsim import schedule
    return schedule.list_schedule(schedule.example_graph())


def _demo_result():
    from labsim import tsp
    p, mem, *_ = tsp.demo_program(tsp.Geometry.mini())
    return tsp.simulate(p, memory=mem)


def _plan_fleet():
    from labsim import fleet
    return fleet.optimize([_wl()], [C], progress=False, **{**_GRID, "batches": [1]})


def _dist_use(d):
    out = [d.mean_s, d.var_s2, d.cv, d.median_s, d.sample(200, 0), d.scaled(2.0).mean_s]
    with contextlib.suppress(LabsimError):   # gamma has no closed-form CDF or quantile (a LabsimError says so)
        out += [d.cdf(0.1), d.quantile(0.9)]
    return out


def _sample(x):
    return x.sample(200, 0)


def _mc_use(dist, field="utilization"):
    from labsim import tco
    return tco.monte_carlo(_B(), {field: dist}, n_samples=200, progress=False)


def _timing_view():
    """One TimingView for every timing_frame call of a sweep (building one takes ~0.4 s)."""
    global _TIMING_VIEW
    if _TIMING_VIEW is None:
        from labsim.viz import ch01
        _TIMING_VIEW = ch01.TimingView()
    return _TIMING_VIEW


_TIMING_VIEW = None


def _small_layer():
    from labsim import schedule
    return schedule.LayerShape(hidden=128, heads=4, kv_heads=1, head_dim=32, intermediate=256, context=64)


def _systolic_run():
    from labsim import systolic
    a = systolic.SystolicArray(rows=4, cols=4, weight_shift_cycles=4)
    return systolic.simulate(np.ones((4, 4), int), np.ones((3, 4), int), a, record=True)


def _explore_fn(name):
    """A valid result of ``viz.ch07.<name>()``, computed once."""
    import functools
    once = functools.lru_cache(maxsize=1)(lambda: getattr(viz_ch07, name)())
    return lambda: call(once())


def _explore(mod):
    """A valid explore() result, computed once (the formatters only read it)."""
    import functools
    once = functools.lru_cache(maxsize=1)(lambda: mod.explore())
    return lambda: call(once())


#: qualified name (without "labsim.") -> () -> (args, kwargs) of a valid, fast call.
def valid_table() -> dict[str, Callable]:
    import labsim.viz.ch00 as v0
    import labsim.viz.ch01 as v1
    import labsim.viz.ch02 as v2
    import labsim.viz.ch03 as v3
    import labsim.viz.ch04 as v4
    import labsim.viz.ch05 as v5
    import labsim.viz.ch06 as v6
    from labsim import (
        assumptions,
        capacity,
        fleet,
        latency,
        mesh,
        multichip,
        numerics,
        schedule,
        silicon,
        systolic,
        tco,
        tsp,
    )

    A = assumptions.Assumption("x", 1.0, "s", "[A]", "[A] fuzz")
    return {
        "warmup": lambda: call(),
        # assumptions
        "assumptions.Assumption": lambda: call("x", 1.0, "s", "[A]", "[A] fuzz"),
        "assumptions.registry": lambda: call([A]),
        "assumptions.table": lambda: call([A]),
        "assumptions.format_value": lambda: call(1.5),
        # capacity (owned by the lead; violations listed in KNOWN_LEAD_OWNED)
        "capacity.defaults.DecodeConfig": lambda: call(moe_schedule="routed_balanced"),
        "capacity.plan.plan": lambda: call(M, C, "int8", context_tokens=1024),
        "capacity.plan.plan_sweep": lambda: call(M, C, context_tokens=np.array([1024.0, 2048.0])),
        "capacity.plan.usable_bytes_per_chip": lambda: call(C),
        "capacity.decode.decode_time": lambda: call(M, C),
        "capacity.decode.decode_sweep": lambda: call(M, C, batch=np.array([1.0, 2.0])),
        "capacity.decode.speculative": lambda: call(M, G),
        "capacity.roofline.roofline": lambda: call(C, 10.0),
        "capacity.roofline.ridge_intensity": lambda: call(C),
        "capacity.roofline.decode_intensity": lambda: call(M),
        "capacity.roofline.prefill_intensity": lambda: call(M, prompt_tokens=512),
        "capacity.roofline.roofline_points": lambda: call(M, C),
        "capacity.decode.compute_bound_batch": lambda: call(M, G, max_batch=4096),
        "capacity.compute_precision_for": lambda: call(C),
        "capacity.plan.reconcile_576": lambda: call(),
        "capacity.prefill.prefill_time": lambda: call(M, C, prompt_tokens=512),
        "capacity.prefill.prefill_sweep": lambda: call(M, C, prompt_tokens=np.array([256.0, 512.0])),
        "capacity.roofline.memory_sweep_time_s": lambda: call(C),
        "capacity.memory.experts_touched": lambda: call(128, 4, 2),
        "capacity.defaults.assumptions_table": lambda: call(),
        # chapter 7 (systolic, mesh, numerics, silicon) and the validation data: owned elsewhere, fuzzed here
        "mesh.MeshConfig": lambda: call(width=4, height=4),
        "mesh.traffic": lambda: call(0.1, cycles=200),
        "mesh.hops": lambda: call(0, 5),
        "mesh.zero_load_latency_cycles": lambda: call(0, 5),
        "mesh.simulate": lambda: call(0.1, mesh.MeshConfig(width=4, height=4), cycles=300, warmup=50),
        "mesh.schedule_static": lambda: call(0.1, mesh.MeshConfig(width=4, height=4), cycles=300, warmup=50),
        "mesh.latency_vs_load": lambda: call([0.05, 0.1], mesh.MeshConfig(width=4, height=4), cycles=300, warmup=50),
        "mesh.saturation_load_estimate": lambda: call(),
        "numerics.FloatFormat": lambda: call("fuzz8", 4, 3, 7),
        "numerics.fmt": lambda: call("bf16"),
        "numerics.quantize": lambda: call([0.1, 1.5, -3.0], "fp8_e4m3"),
        "numerics.representable_values": lambda: call("fp8_e4m3"),
        "numerics.quantize_int8": lambda: call(np.arange(12.0).reshape(3, 4)),
        "numerics.int_gemv": lambda: call(np.ones((3, 4), dtype=np.int8), np.ones(4, dtype=np.int8), 16),
        "numerics.float_dot": lambda: call([1.0, 2.0, 3.0], [0.5, 0.25, 2.0]),
        "numerics.float_gemv": lambda: call(np.ones((3, 4)), np.ones(4)),
        "numerics.attention": lambda: call(64, head_dim=8),
        "numerics.attention_sweep": lambda: call([32, 64], {"a": dict(kv_format="bf16")}, head_dim=8),
        "numerics.bytes_moved_per_token": lambda: call(M, 4096),
        "silicon.nodes": lambda: call(),
        "silicon.node": lambda: call("5nm"),
        "silicon.defaults": lambda: call(),
        "silicon.sram_mb_per_mm2": lambda: call("5nm"),
        "silicon.sram_bytes_on_die": lambda: call("5nm", 725.0, 0.5),
        "silicon.sram_area_mm2": lambda: call(230e6, "14nm"),
        "silicon.die_yield": lambda: call(725.0, 0.001),
        "silicon.dies_per_wafer": lambda: call(725.0),
        "silicon.good_die_cost_usd": lambda: call("5nm", 725.0, 0.001),
        "silicon.wafer_scale_yield": lambda: call(900_000, 850_000, 0.05, 0.001),
        "silicon.tile_yield": lambda: call(25, 0.99),
        "silicon.required_per_die_yield": lambda: call(0.9, 25),
        "silicon.sram_usd_per_gb": lambda: call("5nm", 725.0, 0.5, 0.001),
        "silicon.simulate_wafers": lambda: call(725.0, 0.001, n_wafers=2),
        "silicon.next_lpu_chip": lambda: call(2.0, name="fuzz-next-lpu"),
        "silicon.next_lpu_whatif": lambda: call((1.0, 2.0)),
        "systolic.SystolicArray": lambda: call(rows=4, cols=4, weight_shift_cycles=4),
        "systolic.simulate": lambda: call(np.ones((4, 4), int), np.ones((3, 4), int),
                                          systolic.SystolicArray(rows=4, cols=4, weight_shift_cycles=4)),
        "systolic.tile_schedule": lambda: call(4, 8),
        "systolic.matmul_cycles": lambda: call(64, 64, 4),
        "systolic.utilization_vs_batch": lambda: call(64, 64, [1, 4]),
        "systolic.tpu_v1_array": lambda: call(),
        "systolic.mlp_batch_latency": lambda: call([(64, 64)], [1, 4]),
        "systolic.tsp_gemv": lambda: call(np.ones((16, 16), int), np.ones(16, int), tsp.Geometry.mini()),
        "table.Table": lambda: call(("a", "b"), [(1, 2.5), ("x", "y")]),
        "validation.points": lambda: call(),
        "validation.compare": lambda: call([validation.points()[0].id]),
        "validation.predict": lambda: call(validation.points()[0]),
        "validation.infer_gpu_allreduce_latency": lambda: call(),
        "validation.summary": lambda: call(),
        "viz.validation.validation_scatter": lambda: call(),
        "viz.validation.validation_table": lambda: call(worst=3),
        "viz.validation.moe_schedule_table": lambda: call(),
        "viz.ch07.machines": lambda: call(),
        "viz.ch07.machines_table": lambda: call(),
        "viz.ch07.systolic_frames": lambda: call(_systolic_run(), cycles=[4, 6]),
        "viz.ch07.systolic_spacetime": lambda: call(_systolic_run()),
        "viz.ch07.tpu_batch_plot": lambda: call(systolic.mlp_batch_latency([(64, 64)], [1, 4])),
        "viz.ch07.mesh_cdf": lambda: call({"dyn": mesh.simulate(0.1, mesh.MeshConfig(width=4, height=4),
                                                               cycles=300, warmup=50)}),
        "viz.ch07.mesh_load_plot": lambda: call(mesh.latency_vs_load([0.05, 0.1], mesh.MeshConfig(width=4, height=4),
                                                                      cycles=300, warmup=50)),
        "viz.ch07.format_lines": lambda: call(),
        "viz.ch07.accumulator_plot": lambda: call([16, 64]),
        "viz.ch07.attention_plot": lambda: call(numerics.attention_sweep([32, 64], {"a": dict(kv_format="bf16")},
                                                                         head_dim=8)),
        "viz.ch07.yield_plot": lambda: call(0.001, marks={"LPU": 725}),
        "viz.ch07.wafer_map": lambda: call(silicon.simulate_wafers(725, 0.001, n_wafers=2)),
        "viz.ch07.cost_plot": lambda: call([{"label": "5nm", "usd_per_gb": 100.0}], 10.0),
        "viz.ch07.next_lpu_plot": lambda: call({"x": silicon.next_lpu_whatif([1, 2])}),
        "viz.ch07.fig18_efficiency": lambda: call(),
        "viz.ch07.next_lpu_explore": lambda: call(),
        "viz.ch07.next_lpu_text": _explore_fn("next_lpu_explore"),
        "viz.ch07.next_lpu_bar_svg": _explore_fn("next_lpu_explore"),
        "viz.ch07.make_next_lpu_widget": lambda: call(),
        # catalog
        "catalog.chips": lambda: call(),
        "catalog.chip": lambda: call(C),
        "catalog.models": lambda: call(),
        "catalog.model": lambda: call(M),
        "catalog.add_chip": lambda: call(_chip_dict(), replace=True),
        "catalog.add_model": lambda: call(_model_dict(), replace=True),
        "catalog.load_chip": lambda: call(_chip_dict()),
        "catalog.load_model": lambda: call(_moe_dict()),
        # errors (validators)
        "errors.check_number": lambda: call("x", 1.0, lo=0.0, hi=2.0),
        "errors.check_positive": lambda: call("x", 1.0),
        "errors.check_int": lambda: call("x", 3, lo=0, hi=10),
        "errors.check_fraction": lambda: call("x", 0.5),
        "errors.check_choice": lambda: call("x", "a", ("a", "b")),
        "errors.check_array": lambda: call("x", [1.0, 2.0], lo=0.0),
        "errors.check_bool": lambda: call("x", True),
        "errors.check_name": lambda: call("x", "a-name"),
        "errors.check_text": lambda: call("x", "some text\non two lines"),
        "errors.check_ints": lambda: call("x", [1, 2, 3], lo=0, hi=10),
        "errors.check_mapping": lambda: call("x", {"a": 1}),
        "errors.ensure_finite": lambda: call("x", {"y": 1.0}, {"z": 2.0}),
        # fleet
        "fleet.assumptions.assumptions_table": lambda: call(),
        "fleet.workload.SLO": lambda: call("ttft", 0.5),
        "fleet.workload.Workload": lambda: call("chat", M, 1.0, 256, 128, slos=(fleet.SLO("ttft", 1.0),)),
        "fleet.scenario.scenarios": lambda: call(),
        "fleet.scenario.load_scenario": lambda: call("mixed_product"),
        "fleet.candidate.evaluate_candidate": lambda: call(_wl(), C, batch=1, replicas=2),
        "fleet.candidate.candidate_table": lambda: call(_wl(), C, replicas=[1, 2], **_GRID),
        "fleet.optimizer.search": lambda: call(_wl(), [C], **_GRID),
        "fleet.optimizer.optimize": lambda: call([_wl()], [C], progress=False, **_GRID),
        "fleet.whatif.check_fleet": lambda: call([_wl()], {"chat": {"chip": C, "batch": 1, "replicas": 2}}),
        "fleet.whatif.flip_slo": lambda: call(_wl(), "ttft", 0.05, 2.0, [C, G], tol_s=0.1, **_GRID),
        "fleet.whatif.sram_variant": lambda: call(memory_factor=2.0, name="fuzz-sram"),
        "fleet.workload.with_slo": lambda: call(_wl(), "ttft", 0.5),
        "fleet.workload.scale_rates": lambda: call([_wl()], 2.0),
        "fleet.speed.replica_prefill_seconds": lambda: call(M, C, 512),
        "fleet.whatif.verify_task_tail": lambda: call(_wl(), fleet.evaluate_candidate(_wl(), C, replicas=2), n=1000),
        "fleet.workload.workload_from_task": lambda: call("w", M, 1.0, latency.task(latency.agent_step(
            100, 500.0, prompt_tokens=256, prefill_tokens_per_s=1e4), 2)),
        "fleet.candidate.fastest": lambda: call(_wl(), C),
        "fleet.optimizer.clear_cache": lambda: call(speed_tables=False),
        # gpu (owned by the lead)
        "gpu.Kernel": lambda: call("k", 1e9, 1e6),
        "gpu.gpu_params": lambda: call(),
        "gpu.decoder_layer_kernels": lambda: call(4096, 14336, 32, 8, 128),
        "gpu.mlp_kernels": lambda: call(4096, 14336),
        "gpu.model_decoder_layer_kernels": lambda: call(M),
        "gpu.kernels_from_graph": lambda: call(schedule.example_graph()),
        "gpu.simulate": lambda: call(_kernels(), n=1000),
        "gpu.isolated_latency_s": lambda: call(_kernels()),
        "gpu.kernel_table": lambda: call(_kernels()),
        # latency
        "latency.presets.thresholds": lambda: call(),
        "latency.presets.threshold_s": lambda: call("voice_turn"),
        "latency.presets.platforms": lambda: call(),
        "latency.presets.platform": lambda: call("lpu"),
        "latency.presets.voice_stages": lambda: call(),
        "latency.dists.Dist": lambda: call("lognormal", (0.1, 0.5)),
        "latency.dists.as_dist": lambda: call(0.1),
        "latency.dists.const": lambda: call(0.1),
        "latency.dists.lognormal": lambda: call(0.1, 0.5),
        "latency.dists.lognormal_from_quantile": lambda: call(0.1, 0.3, 0.99),
        "latency.dists.exponential": lambda: call(0.1),
        "latency.dists.uniform": lambda: call(0.1, 0.2),
        "latency.dists.gamma": lambda: call(0.1, 0.5),
        "latency.dists.two_point": lambda: call(0.1, 1.0, 0.1),
        "latency.dists.stall": lambda: call(0.1, 0.1, 0.2),
        "latency.dists.empirical": lambda: call([0.1, 0.2, 0.3]),
        "latency.steps.Component": lambda: call("x", latency.lognormal(0.1, 0.5), 2.0),
        "latency.steps.Step": lambda: call((latency.Component("x", latency.const(0.1)),)),
        "latency.steps.Stage": lambda: call(_step(), 2),
        "latency.steps.Task": lambda: call((latency.Stage(_step(), 2),), session=latency.lognormal(1.0, 0.1)),
        "latency.steps.agent_step": lambda: call(100, 500.0, prompt_tokens=256, prefill_tokens_per_s=1e4, tool_s=0.05),
        "latency.steps.platform_step": lambda: call("lpu", 100, 500.0),
        "latency.steps.voice_turn": lambda: call(first_sentence_tokens=10, decode_tokens_per_s=500.0),
        "latency.steps.task": lambda: call(_step(), 2, 2),
        "latency.summary.tails": lambda: call([0.1, 0.2, 0.3]),
        "latency.summary.simulate": lambda: call(_step(), 1000, steps=2),
        "latency.steps.session_multiplier": lambda: call(n=1000),
        "latency.steps.decode_seconds": lambda: call(100, 500.0),
        "latency.steps.tokens_in_seconds": lambda: call(1.0, 500.0),
        "latency.closed_forms.chain_slow_probability": lambda: call(0.01, 10),
        "latency.closed_forms.fanout_slow_probability": lambda: call(0.99, 100),
        "latency.closed_forms.fanout_quantile": lambda: call(latency.lognormal(0.1, 0.5), 10, 0.99),
        "latency.closed_forms.chain_quantile": lambda: call(latency.two_point(0.1, 1.0, 0.1), 10, 0.99),
        "latency.closed_forms.binomial_quantile": lambda: call(10, 0.1, 0.99),
        "latency.queueing.pk_mean_wait_s": lambda: call(0.5, 1.0, 0.5),
        "latency.queueing.mm1_mean_wait_s": lambda: call(0.5, 1.0),
        "latency.queueing.md1_mean_wait_s": lambda: call(0.5, 1.0),
        "latency.queueing.kingman_mean_wait_s": lambda: call(0.5, 1.0, 0.5, 1.0),
        "latency.queueing.mm1_wait_quantile_s": lambda: call(0.5, 1.0, 0.99),
        "latency.queueing.simulate_queue": lambda: call(0.5, 1.0, 0.5, customers=2000),
        "latency.queueing.simulate_batching": lambda: call(1.0, 2, [0.5, 0.6], requests=1000),
        "latency.queueing.batching_curve": lambda: call([0.01, 0.012], 10, 2, loads=(0.5,), requests=1000),
        "latency.queueing.linear_batch_seconds_per_token": lambda: call(0.01, 0.001, 4),
        "latency.budget.plan_budget": lambda: call(1.0, 500.0, ttft_s=0.1, decode_sigma=0.2, n_samples=200,
                                            usd_per_mtok=2.0),
        "latency.bridges.plan_on_chip": lambda: call(1.0, M, C, prompt_tokens=256, n_samples=200),
        "latency.budget.max_reasoning_tokens": lambda: call(1.0, 500.0, fixed_s=0.1, steps=2),
        "latency.budget.cost_per_task_usd": lambda: call(1000.0, 2.0),     # an average may be fractional
        "latency.bridges.decode_speed": lambda: call(M, C),
        "latency.bridges.prefill_seconds": lambda: call(M, C, 512),
        "latency.bridges.chip_step": lambda: call(M, C, 100, prompt_tokens=256),
        "latency.bridges.usd_per_mtok": lambda: call(_B()),
        "latency.bridges.report_fig11_points": lambda: call(),
        "latency.bridges.gpu_step_samples": lambda: call(_kernels(), n=500),
        "latency.bridges.gpu_decode_jitter": lambda: call(n=500),
        # multichip
        "multichip.RealScaleParams": lambda: call(),
        "multichip.realscale_params": lambda: call(sync_domain_chips=1024),
        "multichip.EthernetJitter": lambda: call(1e-5, 0.3, 0.01, 1e-4),
        "multichip.ethernet_preset": lambda: call("rdma"),
        "multichip.hop_latency_s": lambda: call(2),
        "multichip.network_diameter_hops": lambda: call(100),
        "multichip.domains_needed": lambda: call(1000),
        "multichip.crosses_cliff": lambda: call(1000),
        "multichip.pipeline_hops": lambda: call(100),
        "multichip.pipeline_latency_s": lambda: call(100, 1e-6),
        "multichip.pipeline_latency_samples": lambda: call(600, 1e-6, n=200),
        "multichip.pipeline_latency_percentiles": lambda: call(600, 1e-6, n=200),
        "multichip.cliff_curve": lambda: call([16, 600], 1e-6, n_samples=200),
        "multichip.transfer_time_s": lambda: call(1e6, 2),
        "multichip.allreduce_time_s": lambda: call(1e6, 8),
        "multichip.tp_allreduce_time_per_layer_s": lambda: call(4096, 8),
        "multichip.allreduce_time_vec": lambda: call(np.array([1e6, 2e6]), np.array([8, 64]), 3e-7),
        "multichip.collective_hops": lambda: call(np.array([8, 64])),
        "multichip.determinism_budget": lambda: call(1000),
        # precision
        "precision.Precision": lambda: call("fuzz", 8, 32, 8, "block"),
        "precision.precision": lambda: call("int8"),
        "precision.bytes_per_element": lambda: call("int8"),
        # schedule (owned by the "tsp" helper)
        "schedule.scheduler.list_schedule": lambda: call(schedule.example_graph()),
        "schedule.scheduler.naive_schedule": lambda: call(schedule.example_graph()),
        "schedule.scheduler.schedule": lambda: call(schedule.example_graph(), "list"),
        "schedule.scheduler.simulate_schedule": lambda: call(_sched()),
        "schedule.graph.evaluate": lambda: call(schedule.example_graph()),
        "schedule.graph.critical_path": lambda: call(schedule.example_graph()),
        "schedule.analytic.analytic_cycles": lambda: call(schedule.example_graph()),
        "schedule.builders.mlp_graph": lambda: call(),
        "schedule.builders.decoder_layer_graph": lambda: call(),
        "schedule.builders.decoder_layer_dims": lambda: call(),
        "schedule.builders.random_graph": lambda: call(0),
        "schedule.analytic.tile_count": lambda: call(4, 4, 16),
        "schedule.graph.node_latency": lambda: call(schedule.example_graph(), 0),
        "schedule.graph.asap_start_cycles": lambda: call(schedule.example_graph()),
        "schedule.builders.example_graph": lambda: call(),
        "schedule.builders.stream_conflict_example": lambda: call(),
        "schedule.analytic.analytic_decoder_cycles": lambda: call(),
        "schedule.layer_model.decoder_layer_cycles": lambda: call(128, 4, 1, 32, 256, 64),
        "schedule.layer_model.layer_latencies": lambda: call(),
        "schedule.layer.LayerShape": lambda: call(hidden=128, heads=4, kv_heads=1, head_dim=32, intermediate=256,
                                                  context=64),
        "schedule.layer.layer_shape": lambda: call(M),
        "schedule.layer.build_layer": lambda: call(_small_layer(), tsp.Geometry.mini()),
        "schedule.layer.layer_reference": lambda: call(schedule.build_layer(_small_layer(), tsp.Geometry.mini(),
                                                                            values=True)),
        "schedule.layer.default_weight_streams": lambda: call(tsp.Geometry.mini()),
        "schedule.layer_sim.simulate_layer": lambda: call(_small_layer(), tsp.Geometry.mini()),
        "schedule.layer_sim.verify_sources": lambda: (lambda b: call(b, tsp.simulate(b.program(), values=False)))(
            schedule.build_layer(_small_layer(), tsp.Geometry.mini())),
        "schedule.reference.reference_layer": lambda: call(),
        "schedule.reference.reference_layers": lambda: call(),
        # sources
        "sources.bibliography": lambda: call(),
        "sources.source": lambda: call("isca20"),
        "sources.keys_in": lambda: call("[isca20] §II"),
        "sources.check_citation": lambda: call("fuzz", "[isca20] §II"),
        "sources.cite": lambda: call("[isca20] §II"),
        "sources.reference": lambda: call("isca20"),
        "sources.render_markdown": lambda: call(),
        "sources.check_keys": lambda: call("fuzz", "[isca20] §II"),
        # stats
        "stats.percentiles": lambda: call([1.0, 2.0, 3.0]),
        "stats.p99_over_p50": lambda: call(2.0, 1.0),
        # tco
        "tco.inputs.TcoInputs": lambda: call(**{f: getattr(_B(), f) for f in tco.FIELDS}),
        "tco.model.evaluate": lambda: call(_B()),
        "tco.inputs.validate": lambda: call(_B()),
        "tco.model.annuity_factor": lambda: call(0.015, 60.0),
        "tco.model.annuity_payment": lambda: call(1e6, 0.18, 5.0),
        "tco.model.annuity_schedule": lambda: call(1e6, 0.18, 5.0),
        "tco.model.cost_breakdown": lambda: call(_B()),
        "tco.prices.implied_price_for_margin": lambda: call(1e6, 0.6),
        "tco.prices.implied_margin": lambda: call(1.0, 2.0),
        "tco.prices.api_prices": lambda: call(),
        "tco.prices.api_margin_table": lambda: call(),
        "tco.prices.inputs_from_plan": lambda: call(capacity.plan(M, C), tokens_per_s_per_user=500.0, batch=1.0),
        "tco.fig11.compare_fig11": lambda: call(),
        "tco.fig11.print_fig11": lambda: call(file=io.StringIO()),
        "tco.fig11.fig11_printed": lambda: call(),
        "tco.montecarlo.Uniform": lambda: call(0.5, 0.9),
        "tco.montecarlo.Triangular": lambda: call(0.5, 0.7, 0.9),
        "tco.montecarlo.LogNormal": lambda: call(1000.0, 0.1),
        "tco.montecarlo.monte_carlo": lambda: call(_B(), {"utilization": tco.Uniform(0.5, 0.9)}, n_samples=200,
                                        progress=False),
        "tco.sensitivity.tornado": lambda: call(_B()),
        "tco.sensitivity.default_ranges": lambda: call(_B()),
        "tco.fig11.fig11_table": lambda: call(),
        # tsp (owned by the "tsp" helper)
        "tsp.geometry.Geometry": lambda: call(),
        "tsp.program.Program": lambda: call(tsp.Geometry.mini()),
        "tsp.isa.as_stream": lambda: call("E0"),
        "tsp.sim.simulate": lambda: (lambda p, mem: call(p, memory=mem))(*tsp.demo_program(tsp.Geometry.mini())[:2]),
        "tsp.geometry.total_sram_bytes": lambda: call(tsp.Geometry()),
        "tsp.geometry.sram_bytes_per_cycle": lambda: call(tsp.Geometry()),
        "tsp.geometry.stream_bytes_per_cycle": lambda: call(tsp.Geometry()),
        "tsp.geometry.macs_per_cycle": lambda: call(tsp.Geometry()),
        "tsp.geometry.peak_int8_ops_per_s": lambda: call(tsp.Geometry()),
        "tsp.geometry.peak_fp16_flops_per_s": lambda: call(tsp.Geometry()),
        "tsp.geometry.sram_sweep_time_s": lambda: call(tsp.Geometry()),
        "tsp.geometry.parameter_table": lambda: call(tsp.Geometry()),
        "tsp.demos.demo_program": lambda: call(tsp.Geometry.mini()),
        "tsp.demos.reference_demo": lambda: call(*tsp.demo_program(tsp.Geometry.mini())[2:]),
        "tsp.demos.journey_program": lambda: call(tsp.Geometry.mini()),
        "tsp.demos.reference_journey": lambda: call(*tsp.journey_program(tsp.Geometry.mini())[2:]),
        # viz: callbacks and plots (input validation is chapter code's job); widgets are thin wrappers
        "viz.ch00.tour": lambda: call(),
        "viz.ch00.tour_table": lambda: call(v0.tour()),
        "viz.ch00.make_tour_widget": lambda: call(),
        "viz.ch01.derived_vs_published": lambda: call(),
        "viz.ch01.derived_text": lambda: call(v1.derived_vs_published()),
        "viz.ch01.derived_table": lambda: call(v1.derived_vs_published()),
        "viz.ch01.parameter_view": lambda: call(),
        "viz._tables.HtmlTable": lambda: call(["a", "b"], [[1, 2]]),
        "viz.ch01.floorplan": lambda: call(),
        "viz.ch01.gpu_sm_grid": lambda: call(),
        "viz.ch01.floorplan_vs_gpu": lambda: call(),
        "viz.ch01.spacetime": lambda: call(_demo_result()),
        "viz.ch01.stagger": lambda: call(_demo_result()),
        "viz.ch01.timing_check": lambda: call(1, 0),
        "viz.ch01.timing_frame": lambda: call(1, 0, view=_timing_view()),
        "viz.ch01.TimingView": lambda: call(),
        "viz.ch01.make_timing_widget": lambda: call(),
        "viz.ch02.reservation_matrix": lambda: call(_sched(), 10),
        "viz.ch02.reservation_table": lambda: call(_sched()),
        "viz.ch02.latency_hist_cdf": lambda: call({"a": np.linspace(1e-6, 2e-6, 50)}, bins=20),
        "viz.ch02.cliff_plot": lambda: call({"rdma": multichip.cliff_curve([16, 600], 1e-6, n_samples=200)}),
        "viz.ch02.explore": lambda: call(n=1000),
        "viz.ch02.layer_table": lambda: call(),
        "viz.ch02.explore_text": lambda: call(v2.explore(n=1000)),
        "viz.ch02.ExploreView": lambda: call(),
        "viz.ch02.ReservationView": lambda: call(_sched()),
        "viz.ch02.make_reservation_widget": lambda: call(),
        "viz.ch02.make_ch02_widget": lambda: call(),
        "viz.ch03.capacity_picture": lambda: call(model=M),
        "viz.ch03.breakdown_bars": lambda: call({"lpu": capacity.plan(M, C)}),
        "viz.ch03.reconcile_waterfall": lambda: call(),
        "viz.ch03.decode_bars": lambda: call(models=(M,), chips=(C,)),
        "viz.ch03.batch_plot": lambda: call(max_batch=64),
        "viz.ch03.roofline_plot": lambda: call(chips=(C,)),
        "viz.ch03.explore": lambda: call(),
        "viz.ch03.explore_text": _explore(v3),
        "viz.ch03.reconcile_table": lambda: call(),
        "viz.ch03.make_capacity_widget": lambda: call(),
        "viz.ch04.waterfall": lambda: call(_B()),
        "viz.ch04.breakdown_bars": lambda: call(),
        "viz.ch04.annuity_plot": lambda: call(),
        "viz.ch04.utilization_plot": lambda: call(),
        "viz.ch04.tornado_plot": lambda: call(tco.tornado(_B())),
        "viz.ch04.mc_histogram": lambda: call(tco.monte_carlo(_B(), {"utilization": tco.Uniform(0.5, 0.9)},
                                                              n_samples=200, progress=False), bins=20),
        "viz.ch04.explore": lambda: call(),
        "viz.ch04.explore_text": _explore(v4),
        "viz.ch04.inputs_table": lambda: call(_B()),
        "viz.ch04.ExploreView": lambda: call(),
        "viz.ch04.make_tco_widget": lambda: call(),
        "viz.ch05.gantt": lambda: call([_step()]),
        "viz.ch05.chain_fanout_plot": lambda: call(mc_points=(1, 10), mc_n=500),
        "viz.ch05.hardware_tails": lambda: call(steps=(1, 3), n=500),
        "viz.ch05.hardware_tails_plot": lambda: call(v5.hardware_tails(steps=(1, 3), n=500)),
        "viz.ch05.queue_curves": lambda: call(loads=(0.5,), cvs=(0.0, 1.0), customers=2000),
        "viz.ch05.queue_plot": lambda: call(v5.queue_curves(loads=(0.5,), cvs=(0.0, 1.0), customers=2000)),
        "viz.ch05.batching_plot": lambda: call({"a": latency.batching_curve([0.01, 0.012], 10, 2, loads=(0.5,),
                                                                            requests=1000)}),
        "viz.ch05.planner": lambda: call(),
        "viz.ch05.thresholds_table": lambda: call(),
        "viz.ch05.batching_table": lambda: call({"a": latency.batching_curve([0.01, 0.012], 10, 2, loads=(0.5,),
                                                                             requests=1000)}, slo_s=1.0),
        "viz.ch05.planner_text": lambda: call(v5.planner()),
        "viz.ch05.planner_bar_svg": lambda: call(v5.planner()),
        "viz.ch05.make_planner_widget": lambda: call(),
        "viz.ch06.fleet_chart": lambda: call(_plan_fleet()),
        "viz.ch06.sensitivity_plot": lambda: call({"base": _plan_fleet()}),
        "viz.ch06.slo_sweep_plot": lambda: call(_wl(), "ttft", [0.5, 1.0], chips=(C,)),
        "viz.ch06.explore": lambda: call(),
        "viz.ch06.explore_text": _explore(v6),
        "viz.ch06.explore_html": _explore(v6),
        "viz.ch06.plan_table": lambda: call(_plan_fleet()),
        "viz.ch06.make_fleet_widget": lambda: call(),
        # workspace (owned by the "hub" helper); the tests run it inside a temporary folder
        "workspace.exercises_dir": lambda: call(),
        "workspace.course_root": lambda: call(),
        "workspace.learner_dir": lambda: call(),
        "workspace.available_chapters": lambda: call(),
        "workspace.copy_exercises": lambda: call("fuzz-copy", chapters=[1]),
    }


#: What to do with the object a constructor returns, so that a bad field meets the code that uses it.
USE: dict[str, Callable] = {
    "assumptions.Assumption": lambda a: assumptions.table([a]),
    "catalog.add_chip": _chip_use, "catalog.load_chip": _chip_use,
    "catalog.add_model": _model_use, "catalog.load_model": _model_use,
    "latency.dists.Dist": _dist_use, "latency.dists.as_dist": _dist_use, "latency.dists.const": _dist_use,
    "latency.dists.lognormal": _dist_use, "latency.dists.lognormal_from_quantile": _dist_use,
    "latency.dists.exponential": _dist_use, "latency.dists.uniform": _dist_use, "latency.dists.gamma": _dist_use,
    "latency.dists.two_point": _dist_use, "latency.dists.stall": _dist_use, "latency.dists.empirical": _dist_use,
    "latency.steps.session_multiplier": _dist_use, "latency.bridges.gpu_decode_jitter": _dist_use,
    "latency.steps.Component": lambda c: latency.Step((c,)).sample(200, 0),
    "latency.steps.Step": _sample, "latency.steps.Task": _sample, "latency.steps.task": _sample,
    "latency.steps.agent_step": _sample, "latency.steps.platform_step": _sample, "latency.steps.voice_turn": _sample,
    "latency.bridges.chip_step": _sample,
    "latency.steps.Stage": lambda s: latency.Task((s,)).sample(200, 0),
    "fleet.workload.SLO": lambda s: _wl(slos=(s,)),
    "fleet.workload.Workload": lambda w: fleet.evaluate_candidate(w, C, replicas=2),
    "fleet.workload.workload_from_task": lambda w: fleet.evaluate_candidate(w, C, replicas=2),
    "fleet.workload.with_slo": lambda w: fleet.evaluate_candidate(w, C, replicas=2),
    "fleet.workload.scale_rates": lambda ws: [fleet.evaluate_candidate(w, C, replicas=2)
                                     for w in ws],
    "fleet.whatif.sram_variant": lambda c: (c, capacity.plan(M, c)),
    "gpu.Kernel": lambda k: gpu.isolated_latency_s([k]),
    "gpu.gpu_params": lambda p: gpu.isolated_latency_s(_kernels(), gpu=p),
    "multichip.RealScaleParams": lambda p: multichip.allreduce_time_s(
        1e6, 64, params=p),
    "multichip.realscale_params": lambda p: multichip.allreduce_time_s(
        1e6, 64, params=p),
    "multichip.EthernetJitter": lambda e: multichip.pipeline_latency_samples(
        1200, 1e-6, n=200, ethernet=e),
    "precision.Precision": lambda p: (p.bits_per_element, p.bytes_per_element),
    "capacity.defaults.DecodeConfig": lambda cfg: capacity.decode_time(M, C, config=cfg),
    "mesh.MeshConfig": lambda c: mesh.simulate(0.1, c, cycles=200, warmup=50),
    "numerics.FloatFormat": lambda f: numerics.quantize(np.array([0.5, 1.5]), f),
    "systolic.SystolicArray": lambda a: systolic.matmul_cycles(64, 64, 4, a),
    "table.Table": lambda t: (str(t), t._repr_html_()),
    "viz._tables.HtmlTable": lambda t: t._repr_html_(),
    "schedule.layer.LayerShape": lambda sh: schedule.simulate_layer(
        sh, tsp.Geometry.mini()),
    "silicon.next_lpu_chip": _chip_use,
    "tco.inputs.TcoInputs": lambda i: tco.evaluate(i),
    "tco.montecarlo.Uniform": _mc_use, "tco.montecarlo.Triangular": _mc_use,
    "tco.montecarlo.LogNormal": lambda d: _mc_use(d, "capex_usd"),
    "tsp.geometry.Geometry": lambda g: (g.describe(), tsp.parameter_table(g)),
    "tsp.program.Program": lambda p: p.listing(),
}

#: Parameters that hold a mapping whose VALUES are fuzzed too (each key in turn).
DICT_PARAMS: dict[str, tuple[str, ...]] = {
    "catalog.add_chip": ("path_or_dict",), "catalog.load_chip": ("path_or_dict",),
    "catalog.add_model": ("path_or_dict",), "catalog.load_model": ("path_or_dict",),
    "tco.sensitivity.default_ranges": (), "fleet.whatif.check_fleet": (),
}

#: Public classes that are results or records (built by labsim functions that validate their inputs), exception
#: types, and the tsp/schedule builder types whose checks live in ``tsp.simulate``; they are not fuzzed directly.
NOT_FUZZED: dict[str, str] = {
    **{k: "result record, built by a validating function" for k in (
        "capacity.Plan", "capacity.DecodeResult", "capacity.PrefillResult",
        "catalog.chip_entry.Chip", "catalog.model_entry.Model",
        "fleet.workload.Scenario", "fleet.candidate.Candidate", "fleet.optimizer.Choice", "fleet.optimizer.FleetPlan",
        "fleet.whatif.FleetCheck",
        "gpu.GPUParams", "latency.presets.Threshold", "latency.presets.Platform", "latency.summary.Tails",
        "latency.queueing.QueueResult", "latency.queueing.BatchResult", "latency.budget.BudgetPlan", "sources.Source",
        "tco.model.TcoResult", "tco.fig11.Fig11Check", "tco.montecarlo.MonteCarloResult",
        "tco.sensitivity.TornadoBar", "tsp.sim.Result", "tsp.sim.Trace", "viz.ch00.TourRow",
        "schedule.scheduler.Schedule", "capacity.plan.Plan", "capacity.decode.DecodeResult",
        "capacity.prefill.PrefillResult",
        "capacity.decode.SpeculativeResult", "mesh.Traffic", "mesh.MeshRun", "numerics.AttentionResult",
        "silicon.Node", "silicon.WaferMaps", "systolic.SystolicRun", "validation.Point")},
    **{k: "exception type" for k in ("errors.LabsimError", "errors.UnknownNameError", "errors.TimingFault")},
    **{k: "graph/program builder of the tsp helper; tsp.simulate and schedule.schedule validate what it built"
       for k in ("schedule.graph.Tensor", "schedule.graph.Node", "schedule.graph.Graph", "tsp.program.Instruction",
                 "tsp.isa.Stream", "schedule.layer.LayerBuild")},
    "cli.main": "fuzzed through argv by tests/test_contract_cli.py",
    "cli.build_parser": "argparse parser (no inputs)",
}

#: Slow callables (a figure or a widget per call): the short pool of bad values.
def is_slow(key: str) -> bool:
    name = key.rsplit(".", 1)[-1]
    return key.startswith("viz.") and name not in ("explore", "explore_text", "explore_html", "planner",
                                                    "planner_text", "planner_bar_svg", "tour", "tour_table",
                                                    "timing_check", "derived_vs_published", "derived_text",
                                                    "reservation_matrix") \
        or key in ("warmup", "fleet.whatif.flip_slo", "viz.ch05.hardware_tails", "viz.ch05.queue_curves",
                   "viz.ch01.timing_frame", "systolic.simulate", "validation.infer_gpu_allreduce_latency",
                   "validation.compare", "validation.summary") \
        or key.split(".")[0] in ("mesh", "numerics", "silicon", "systolic")


# ------------------------------------------------------------------------------------------------ enumeration

def public_modules() -> list[str]:
    """Every labsim module that ships, except private ones (``_x``), ``__main__`` and the checkers (fuzzed by
    tests/test_contract_checkers.py)."""
    import pkgutil
    out = []   # every module that ships, by name: the enumeration is the point of this test
    for m in pkgutil.walk_packages(labsim.__path__, "labsim."):
        parts = m.name.split(".")
        if any(p.startswith("_") for p in parts[1:]) or parts[1] == "check":
            continue
        out.append(m.name)
    return sorted(out)


def public_callables() -> dict[str, object]:
    """key ("module.name" without "labsim.", at the defining module) -> callable, from every module's __all__."""
    import importlib
    found: dict[str, object] = {"warmup": labsim.warmup}
    for name in public_modules():
        mod = importlib.import_module(name)  # noqa: TID251 — fuzzing every shipped module is this test's job
        parent = sys.modules[name.rsplit(".", 1)[0]] if name.count(".") >= 2 else None
        # a module inside a package that declares __all__ (capacity, tsp) is an implementation part: only what the
        # package exports is public
        exported = set(getattr(parent, "__all__", ())) if parent is not None and hasattr(parent, "__all__") else None
        for attr in getattr(mod, "__all__", ()):
            if exported is not None and attr not in exported:
                continue
            obj = getattr(mod, attr)
            if not callable(obj):
                continue
            home = getattr(obj, "__module__", name) or name
            if not home.startswith("labsim"):
                continue
            key = f"{home}.{obj.__qualname__}".removeprefix("labsim.")
            found.setdefault(key, obj)
    return found


# ------------------------------------------------------------------------------------------------ checking

_NONFINITE_TEXT = re.compile(r"(?<![\w/-])-?(nan|inf)(?![\w/-])", re.IGNORECASE)


def _feasible_mask(obj) -> np.ndarray | None:
    """candidate_table's rows: the boolean ``feasible`` array, where infinities (overloaded rows) are documented."""
    f = obj.get("feasible") if isinstance(obj, Mapping) else None
    return f if isinstance(f, np.ndarray) and f.dtype == bool else None


def _inf_allowed(obj, field: str) -> bool:
    """Documented infinities (docs/contract.md): an overloaded fleet candidate's SLO values and utilization
    ("unbounded", always with feasible=False and a reason)."""
    from labsim import fleet
    return isinstance(obj, fleet.Candidate) and not obj.feasible and field in ("slo_values", "utilization")


def nonfinite(obj, path: str = "result", depth: int = 0, seen=None) -> list[str]:
    """Paths of every NaN/inf (or 'nan'/'inf' printed in a string) in ``obj``."""
    seen = set() if seen is None else seen
    if depth > 6 or id(obj) in seen:
        return []
    if isinstance(obj, (bool, np.bool_)) or obj is None:
        return []
    if isinstance(obj, (float, np.floating)):
        return [] if math.isfinite(float(obj)) else [f"{path} = {float(obj)}"]
    if isinstance(obj, (int, np.integer)):
        return []
    if isinstance(obj, str):
        m = _NONFINITE_TEXT.search(obj)
        return [f"{path} prints {obj[max(0, m.start() - 40):m.end() + 10]!r}"] if m else []
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "fc":
            bad = ~np.isfinite(obj)
            return [f"{path}[{np.argwhere(bad)[0].tolist()}] = {obj[bad].ravel()[0]}"] if bad.any() else []
        if obj.dtype.kind == "O":
            return [p for i, x in enumerate(obj.ravel()[:1000]) for p in nonfinite(x, f"{path}[{i}]", depth + 1, seen)]
        return []
    seen.add(id(obj))
    if isinstance(obj, (Mapping, MappingProxyType)):
        mask = _feasible_mask(obj)
        out = []
        for k, v in list(obj.items())[:2000]:
            if mask is not None and isinstance(v, np.ndarray) and v.shape == mask.shape and v.dtype.kind == "f":
                v = v[mask]        # an infeasible (overloaded) row may be unbounded: documented in contract.md
            out += nonfinite(v, f"{path}[{k!r}]", depth + 1, seen)
        return out
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [p for i, v in enumerate(list(obj)[:2000]) for p in nonfinite(v, f"{path}[{i}]", depth + 1, seen)]
    mod = type(obj).__module__ or ""
    if not mod.startswith("labsim"):
        return []          # figures, widgets, paths …
    out = []
    if dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            if f.name in ("inputs", "geometry", "graph", "program", "trace", "memory", "workload", "samples"):
                continue   # inputs were checked on the way in; big arrays are summarized elsewhere
            if _inf_allowed(obj, f.name):
                continue
            out += nonfinite(getattr(obj, f.name), f"{path}.{f.name}", depth + 1, seen)
    for name, attr in vars(type(obj)).items():
        if name.startswith("_") or not isinstance(attr, property):
            continue
        try:
            val = getattr(obj, name)
        except LabsimError:
            continue
        except Exception as exc:  # noqa: BLE001 — a property that crashes is a violation too
            out.append(f"{path}.{name} raised {type(exc).__name__}: {exc}")
            continue
        if not _inf_allowed(obj, name):
            out += nonfinite(val, f"{path}.{name}", depth + 1, seen)
    for meth in ("summary", "report", "as_dict"):
        fn = getattr(obj, meth, None)
        if callable(fn):
            try:
                out += nonfinite(fn(), f"{path}.{meth}()", depth + 1, seen)
            except LabsimError:
                pass
            except Exception as exc:  # noqa: BLE001 — a result method that crashes is a violation too
                out.append(f"{path}.{meth}() raised {type(exc).__name__}: {exc}")
    return out


class Hang(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise Hang after ``seconds`` (SIGALRM; main thread only — elsewhere no limit)."""
    import threading
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def handler(signum, frame):
        raise Hang(f"no answer after {seconds:g} s")

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _intent(param: inspect.Parameter, given) -> str:
    """What a parameter expects: "int", "number", "other" — from its annotation, else its valid value."""
    ann = param.annotation if param.annotation is not inspect.Parameter.empty else ""
    ann = ann if isinstance(ann, str) else getattr(ann, "__name__", str(ann))
    if ann:
        parts = {p.strip() for p in ann.replace("|", ",").split(",")}
        if parts & {"str", "bool", "Any", "object"} or "[" in ann:
            return "other"
        if "float" in parts:
            return "number"
        if "int" in parts:
            return "int"
    v = given if given is not inspect.Parameter.empty else param.default
    if isinstance(v, (bool, np.bool_)) or v is None or v is inspect.Parameter.empty:
        return "other"
    if isinstance(v, (int, np.integer)):
        return "int"
    if isinstance(v, (float, np.floating)):
        return "number"
    return "other"


def wrongly_accepted(intent: str, default, bad) -> str | None:
    """A reason if accepting ``bad`` silently for a parameter of this intent breaks the contract."""
    if intent not in ("int", "number"):
        return None
    if isinstance(bad, (str, bytes, bool, np.bool_, dict)) or (bad is None and default is not None) \
            or type(bad) is object:
        return f"accepted {bad!r} where a number is expected"
    if intent == "int" and isinstance(bad, float) and math.isfinite(bad) and not bad.is_integer():
        return f"accepted {bad!r} where a whole number is expected"
    return None


@dataclasses.dataclass
class Outcome:
    key: str
    param: str
    bad: str
    problem: str | None     # None = the contract holds


def run_one(key: str, fn, args: tuple, kwargs: dict, use, *, param: str, bad_label: str, intent: str = "other",
            default=None, bad_value=None, limit: float = CALL_LIMIT_S) -> Outcome:
    """Call ``fn(*args, **kwargs)`` (+ ``use`` on the result) and judge it against the contract."""
    import matplotlib.pyplot as plt
    out = io.StringIO()
    try:
        with time_limit(limit), contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            res = fn(*args, **kwargs)
            if use is not None:
                res = (res, use(res))
    except LabsimError as exc:
        msg = str(exc)
        names = {param, param.rstrip("_s"), param.removesuffix("_usd")} | ALIASES.get((key, param), set())
        if param != "*" and not any(n and n.lower() in msg.lower() for n in names):
            return Outcome(key, param, bad_label, f"LabsimError does not name {param!r}: {msg[:200]}")
        return Outcome(key, param, bad_label, None)
    except Hang as exc:
        return Outcome(key, param, bad_label, f"hang: {exc}")
    except RecursionError as exc:
        return Outcome(key, param, bad_label, f"raw RecursionError: {str(exc)[:120]}")
    except Exception as exc:  # noqa: BLE001 — exactly what the contract forbids
        return Outcome(key, param, bad_label, f"raw {type(exc).__name__}: {str(exc)[:200]}")
    finally:
        plt.close("all")
    bad = nonfinite(res)
    if bad:
        return Outcome(key, param, bad_label, "non-finite result: " + "; ".join(bad[:3]))
    why = wrongly_accepted(intent, default, bad_value) if param != "*" else None
    if why:
        return Outcome(key, param, bad_label, why)
    return Outcome(key, param, bad_label, None)


#: (key, parameter) -> other words an error message may use for that parameter: the validators name the value by
#: the ``name`` their caller gives (here "x"); a precision lookup says "precision"; a dict entry is named by its key.
ALIASES: dict[tuple[str, str], set[str]] = {
    **{(f"errors.{f}", "value"): {"x"} for f in ("check_number", "check_positive", "check_int", "check_fraction",
                                                 "check_choice", "check_array")},
    **{(f"errors.{f}", b): {"x"} for f in ("check_number", "check_positive", "check_int", "check_fraction",
                                            "check_array", "check_ints") for b in ("lo", "hi")},
    **{(f"errors.{f}", "value"): {"x"} for f in ("check_bool", "check_name", "check_text", "check_mapping")},
    ("errors.check_ints", "values"): {"x"}, ("errors.ensure_finite", "results"): {"x", "y"},
    ("precision.precision", "name"): {"precision"}, ("precision.bytes_per_element", "name"): {"precision"},
    **{(f"catalog.{f}", "path_or_dict"): {"chip dict", "model dict", "chip file", "model file"}
       for f in ("add_chip", "add_model", "load_chip", "load_model")},
}


def mutations(fn, args: tuple, kwargs: dict):
    """(name, Parameter, the valid value given or empty) for every parameter of ``fn`` that a call can set."""
    sig = inspect.signature(fn)
    for i, (name, p) in enumerate(sig.parameters.items()):
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if i < len(args) and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            yield name, p, args[i]
        elif p.kind != p.POSITIONAL_ONLY:
            yield name, p, kwargs.get(name, inspect.Parameter.empty)


def cleanup() -> None:
    """Undo what a fuzzed call may have registered (user chips/models, memoized searches)."""
    from labsim import catalog, fleet
    catalog._remove_user_entries()
    fleet.clear_cache(speed_tables=False)


#: (callable, parameter) whose bad values crash the whole process today (a segfault in a numba kernel): the sweep
#: does not call them in-process; tests/test_contract_issue15.py runs one reproducer each in a subprocess.
CRASHES: dict[tuple[str, str], str] = {}


def sweep(key: str, fn, make_call, use, pool, limits: dict[str, float] | None = None) -> list[Outcome]:
    """Every parameter × every bad value, one at a time (and every key of a dict parameter). ``limits``: a shorter
    time limit for some parameters (known hangs, so that a run does not wait CALL_LIMIT_S for each)."""
    limits = limits or {}
    outcomes = []
    base_args, base_kwargs = make_call()
    for name, p, given in list(mutations(fn, base_args, base_kwargs)):
        if (key, name) in CRASHES:
            outcomes.append(Outcome(key, name, "(not run)", f"crash: {CRASHES[(key, name)]}"))
            continue
        intent = _intent(p, given)
        default = None if p.default is inspect.Parameter.empty else p.default
        for bad in pool:
            a, k = make_call()
            v = bad.make()
            args, kwargs = _reput(fn, a, k, name, v)
            outcomes.append(run_one(key, fn, args, kwargs, use, param=name, bad_label=bad.label, intent=intent,
                                    default=default, bad_value=v, limit=limits.get(name, CALL_LIMIT_S)))
            cleanup()
        if name in DICT_PARAMS.get(key, ()) and isinstance(given, Mapping):
            for field in list(given):
                for bad in pool:
                    a, k = make_call()
                    args, kwargs = _reput(fn, a, k, name, {**_get(fn, a, k, name), field: bad.make()})
                    outcomes.append(run_one(key, fn, args, kwargs, use, param=field, bad_label=bad.label,
                                            intent="other", bad_value=None))
                    cleanup()
    return outcomes


def _get(fn, args, kwargs, name):
    names = list(inspect.signature(fn).parameters)
    i = names.index(name)
    return args[i] if i < len(args) else kwargs[name]


def _reput(fn, args, kwargs, name, value):
    names = list(inspect.signature(fn).parameters)
    i = names.index(name)
    if i < len(args):
        a = list(args)
        a[i] = value
        return tuple(a), dict(kwargs)
    return tuple(args), {**kwargs, name: value}


def chdir_tmp(tmp: Path):
    """Context: run in ``tmp`` with HOME and the learner folder there too (copy_exercises writes relative to them,
    or to ``$LPU_LAB_LEARNER_DIR`` when ``dest`` is None)."""
    import os

    @contextlib.contextmanager
    def cm():
        old_cwd, old_home = Path.cwd(), os.environ.get("HOME")
        old_learner = os.environ.get("LPU_LAB_LEARNER_DIR")
        os.chdir(tmp)
        os.environ["HOME"] = str(tmp)
        os.environ["LPU_LAB_LEARNER_DIR"] = str(tmp / "learner")
        try:
            yield
        finally:
            os.chdir(old_cwd)
            if old_learner is None:
                os.environ.pop("LPU_LAB_LEARNER_DIR", None)
            else:
                os.environ["LPU_LAB_LEARNER_DIR"] = old_learner
            if old_home is None:
                os.environ.pop("HOME", None)
            else:
                os.environ["HOME"] = old_home
    return cm()


__all__ = ["BAD", "BAD_SHORT", "valid_table", "USE", "NOT_FUZZED", "public_callables", "sweep", "run_one",
           "nonfinite", "cleanup", "is_slow", "chdir_tmp", "Outcome", "mutations", "call", "sys"]
