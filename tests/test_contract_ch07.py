"""Issue 15 in chapter 7's modules: one test per class of defect that was fixed (docs/contract.md).

The general sweep (tests/test_contract_api.py) drives every public function with bad values; these tests pin the
specific classes: the former process crashes (run in a subprocess), unbounded work, inf by default, arrays the
kernels trust, NaN for "no value", errors that name the parameter, and JIT-independent random draws.
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from labsim import LabsimError, mesh, numerics, silicon, systolic
from labsim.viz import ch07

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]


def _run_python(code: str, *, env: dict | None = None, timeout: float = 120.0) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, check=False)


# ------------------------------------------------------------------------------------------------ former crashes
def test_former_crashes_raise_a_clear_error_in_a_subprocess():
    """A FloatFormat with 10**15 mantissa bits segfaulted the rounding kernel; alpha=5e-324 made the wafer kernel
    loop forever. Both are now rejected before any kernel runs, naming the parameter."""
    code = """
from labsim import LabsimError, numerics, silicon
out = []
for f in (lambda: numerics.quantize([1.0], numerics.FloatFormat('x', 4, 10**15, 7)),
          lambda: silicon.simulate_wafers(725, 0.001, n_wafers=2, alpha=5e-324)):
    try:
        f()
        out.append('returned')
    except LabsimError as e:
        out.append(str(e))
import json
print(json.dumps(out))
"""
    res = _run_python(code, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    msgs = json.loads(res.stdout.strip().splitlines()[-1])
    assert "man_bits" in msgs[0] and "out of range" in msgs[0]
    assert "alpha" in msgs[1] and "out of range" in msgs[1]


@pytest.mark.parametrize("fields", [dict(exp_bits=4, man_bits=53, bias=7), dict(exp_bits=12, man_bits=3, bias=7),
                                    dict(exp_bits=11, man_bits=52, bias=1023), dict(exp_bits=8, man_bits=3, bias=-900),
                                    dict(exp_bits=4, man_bits=0, bias=7, ieee_special=False, e4m3_nan_only=True),
                                    dict(exp_bits=1, man_bits=3, bias=0, ieee_special=True),
                                    dict(exp_bits=8, man_bits=3, bias=1024)])
def test_float_formats_the_kernel_cannot_round_exactly_are_rejected(fields):
    with pytest.raises(LabsimError):
        numerics.FloatFormat("x", **fields)


@pytest.mark.parametrize("name", ["bf16", "fp16", "fp8_e4m3", "fp8_e5m2", "cfp8_143"])
def test_huge_inputs_saturate_instead_of_nan(name):
    f = numerics.fmt(name)
    out = numerics.quantize([1e308, -1e308, 1e300, 3.0], name)
    assert np.all(np.isfinite(out))
    assert out[0] == f.max_finite and out[1] == -f.max_finite and out[2] == f.max_finite
    if f.ieee_special:       # asked for explicitly, and the format has Infinity
        assert numerics.quantize(1e308, name, overflow="inf") == math.inf


# ------------------------------------------------------------------------------------------------ no inf by default
def test_systolic_array_has_no_infinite_default():
    a = systolic.SystolicArray()
    assert a.weight_bytes_per_cycle is None and a.weights_on_chip and a.tile_fetch_cycles == 0.0
    assert systolic.tpu_v1_array(weights_on_chip=True).weight_bytes_per_cycle is None
    with pytest.raises(LabsimError, match="weight_bytes_per_cycle = inf.*None"):
        systolic.SystolicArray(weight_bytes_per_cycle=math.inf)
    with pytest.raises(LabsimError, match="clock_hz"):
        systolic.SystolicArray(clock_hz=5e-324)
    with pytest.raises(LabsimError, match="record"):
        systolic.simulate(np.ones((2, 2), int), np.ones((1, 2), int), record=10**400)


# ------------------------------------------------------------------------------------------------ bounded work
@pytest.mark.parametrize("call, name", [
    (lambda: mesh.simulate(1.0, mesh.MeshConfig(width=64, height=64), cycles=400, drain_cycles=10_000_000), "drain"),
    (lambda: mesh.latency_vs_load(np.linspace(0.05, 1.0, 100), cycles=30_000), "loads"),
    (lambda: silicon.simulate_wafers(725.0, 1.0, n_wafers=10_000), "defect_density_per_mm2"),
    (lambda: silicon.wafer_scale_yield(10_000_000, 1, 0.05, [0.001] * 50), "spares"),
    (lambda: systolic.simulate(np.ones((4096, 4096), np.int8), np.ones((1, 4096), np.int8),
                               systolic.SystolicArray(rows=1, cols=1)), "tiles"),
    (lambda: systolic.mlp_batch_latency([(10**8, 10**8)], [1]), "layer_shapes"),
    (lambda: numerics.attention_sweep([131_072] * 50, {"a": {}}), "contexts"),
    (lambda: numerics.attention(131_072, head_dim=1024), "context_tokens × head_dim"),
])
def test_unbounded_work_is_refused_at_once(call, name):
    t0 = time.perf_counter()
    with pytest.raises(LabsimError, match=name):
        call()
    assert time.perf_counter() - t0 < 5.0


def test_static_schedule_far_past_saturation_stops_and_reports_saturated():
    """Past saturation every packet waits longer; the scheduler's probe budget ends the search and the run says
    it is saturated (it does not hang)."""
    cfg = mesh.MeshConfig(width=8, height=8)
    t0 = time.perf_counter()
    s = mesh.schedule_static(1.0, cfg, cycles=20_000, warmup=0)
    assert time.perf_counter() - t0 < 30.0
    assert s.saturated and s.delivered_fraction < 1.0
    with pytest.raises(LabsimError, match="saturated"):
        s.percentiles()


# ------------------------------------------------------------------------------------------------ trusted arrays
def test_traffic_is_validated_and_cannot_change_after_the_check():
    ok = mesh.Traffic(src=np.array([0]), dst=np.array([63]), created=np.array([5]), load=0.01, cycles=6, seed=0)
    with pytest.raises(ValueError):
        ok.src[0] = 99               # read-only: the kernels trust what was checked
    small = mesh.MeshConfig(width=4, height=4)
    with pytest.raises(LabsimError, match="traffic_ addresses node 63"):
        mesh.simulate(0.1, small, traffic_=ok)
    with pytest.raises(LabsimError, match="traffic_ addresses node 63"):
        mesh.schedule_static(0.1, small, traffic_=ok)
    for bad, match in ((dict(src=[0, 1], dst=[1]), "equally long"), (dict(src=[2], dst=[2]), "src = dst"),
                       (dict(created=[3, 1], src=[0, 1], dst=[1, 0]), "sorted"), (dict(created=[6]), "created"),
                       (dict(src=[np.nan]), "src"), (dict(dst=[1.5]), "whole number")):
        kw = dict(src=[0], dst=[1], created=[0], load=0.1, cycles=6, seed=0)
        kw.update(bad)
        with pytest.raises(LabsimError, match=match):
            mesh.Traffic(**{k: np.asarray(v) if isinstance(v, list) else v for k, v in kw.items()})
    with pytest.raises(LabsimError, match="traffic_"):
        mesh.simulate(0.1, traffic_=float("nan"))


# ------------------------------------------------------------------------------------------------ no NaN for "no value"
def test_saturated_percentiles_are_masked_not_nan():
    c = mesh.latency_vs_load([0.1, 0.6], mesh.MeshConfig(), cycles=1000, warmup=200, seed=1)
    assert c["saturated"].tolist() == [False, True]
    for key in ("dyn_p50", "dyn_p99", "dyn_p999", "dyn_net_p99"):
        v = c[key]
        assert isinstance(v, np.ma.MaskedArray) and v.mask.tolist() == [False, True]
        assert np.all(np.isfinite(v.compressed()))
    fig = ch07.mesh_load_plot(c)          # the plot leaves a gap
    assert fig is not None


def test_nothing_to_summarise_raises_instead_of_nan():
    """An empty measurement window has no percentiles; a wafer with no whole usable die has no yield."""
    r = mesh.simulate(0.001, mesh.MeshConfig(width=2, height=1), cycles=10, warmup=9)
    with pytest.raises(LabsimError, match="no packet was created in the measurement window"):
        r.percentiles()
    with pytest.raises(LabsimError, match="edge_exclusion_mm"):
        silicon.simulate_wafers(20_000.0, 0.001, n_wafers=2, edge_exclusion_mm=50.0)


# ------------------------------------------------------------------------------------------------ errors name it
@pytest.mark.parametrize("call, name", [
    (lambda: numerics.fmt(float("nan")), "name"),
    (lambda: numerics.attention(16, head_dim=4, kv_format="fp9"), "kv_format"),
    (lambda: numerics.attention(16, head_dim=4, logits_format=None), "logits_format"),
    (lambda: numerics.float_gemv(np.ones((2, 2)), np.ones(2), output="x"), "output"),
    (lambda: numerics.bytes_moved_per_token("llama-3.1-8b", 10, kv_precision="fp9"), "kv_precision"),
    (lambda: numerics.attention_sweep([16], {"a": {"kv_fromat": "bf16"}}, head_dim=4), "kv_fromat"),
    (lambda: silicon.sram_mb_per_mm2("2nm"), "node_name"),
    (lambda: silicon.next_lpu_whatif([1.0], base_node="2nm"), "base_node"),
    (lambda: silicon.next_lpu_whatif([1.0], batch=None), "batch"),
    (lambda: silicon.next_lpu_chip(base="nope"), "base"),
    (lambda: silicon.die_yield(100.0, 0.001, alpha=True), "alpha"),
    (lambda: silicon.good_die_cost_usd("5nm", 2_000.0, 10.0), "defect_density_per_mm2"),
    (lambda: mesh.hops(float("nan"), 3), "src"),
    (lambda: mesh.zero_load_latency_cycles(0, 10**400), "dst"),
    (lambda: systolic.tsp_gemv(np.ones((2, 2), int), np.ones(2, int), geometry="mini"), "geometry"),
    (lambda: systolic.utilization_vs_batch(64, 64, [1e308]), "batches"),
    (lambda: ch07.yield_plot(0.001, ax="not an axes"), "ax"),
    (lambda: ch07.wafer_map(silicon.simulate_wafers(725.0, 0.001, n_wafers=2), wafer=5), "wafer"),
    (lambda: ch07.next_lpu_bar_svg(ch07.next_lpu_explore(), width=float("nan")), "width"),
    (lambda: ch07.systolic_frames(float("nan")), "run"),
])
def test_bad_input_names_the_parameter(call, name):
    with pytest.raises(LabsimError, match=name):
        call()


# ------------------------------------------------------------------------------------------------ determinism
def test_wafer_maps_are_the_same_with_the_jit_on_or_off():
    """The clustered wafer density is drawn with latency._gamma_draw (numba's gamma algorithm written out), so
    NUMBA_DISABLE_JIT=1 gives the same defects as the compiled kernel."""
    code = ("import json; from labsim import silicon; "
            "m = silicon.simulate_wafers(725.0, 0.01, n_wafers=6, alpha=0.7, seed=11); "
            "print(json.dumps(m.counts.sum(axis=1).tolist()))")
    jit = json.loads(_run_python(code).stdout.strip().splitlines()[-1])
    res = _run_python(code, env={"NUMBA_DISABLE_JIT": "1"})
    assert res.returncode == 0, res.stderr[-2000:]
    assert json.loads(res.stdout.strip().splitlines()[-1]) == jit
    here = silicon.simulate_wafers(725.0, 0.01, n_wafers=6, alpha=0.7, seed=11)
    assert here.counts.sum(axis=1).tolist() == jit
