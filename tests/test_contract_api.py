"""The input contract (docs/contract.md) for every public callable of labsim.

Every public function returns finite values or raises ``LabsimError`` naming the parameter — for every
parameter, every value in ``contract_cases.BAD`` (one bad argument at a time), and any mix of up to three bad or
extreme arguments that hypothesis draws. The callables come from each module's ``__all__``, so a new public
function is fuzzed as soon as it has a VALID entry (and a missing entry fails the first test).

Violations in modules this branch does not own are listed below, each with a reproducer, as expected failures
(strict=False): they turn into passes when their owner fixes them.
"""
from __future__ import annotations

import collections
import contextlib
import inspect
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import contract_cases as cc

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")   # overflow warnings of lead-owned code

TABLE = cc.valid_table()
PUBLIC = cc.public_callables()
FUZZED = sorted(k for k in PUBLIC if k in TABLE)

# ------------------------------------------------------------------------------------------------ known, owned elsewhere
#: (callable, parameter) -> reproducer and what goes wrong. capacity.py and gpu.py are being rewritten by the lead
#: (issue 13); sources.py is the lead's bibliography module.
KNOWN_LEAD_OWNED: dict[tuple[str, str], str] = {
    ("capacity.decode_intensity", "batch"): "decode_intensity(M, batch=2.5) accepts a fractional batch",
    ("capacity.decode_intensity", "expert_precision"):
        "decode_intensity(M, expert_precision=nan): the error says 'precision', not 'expert_precision'",
    ("capacity.decode_sweep", "bandwidth_efficiency"): "decode_sweep(M, C, bandwidth_efficiency=5e-324) → inf",
    ("capacity.decode_sweep", "compute_efficiency"): "decode_sweep(M, C, compute_efficiency=5e-324) → inf",
    ("capacity.decode_sweep", "kernels_per_layer"): "decode_sweep(M, C, kernels_per_layer=2.5) accepted",
    ("capacity.decode_sweep", "mxm_feed_bytes_per_cycle"): "decode_sweep(M, C, mxm_feed_bytes_per_cycle=5e-324) → inf",
    ("capacity.decode_sweep", "op_latency_cycles"): "decode_sweep(M, C, op_latency_cycles=1e308) → inf",
    ("capacity.decode_sweep", "serial_ops_per_layer"): "decode_sweep(M, C, serial_ops_per_layer=1e308) → inf",
    ("capacity.decode_time", "bandwidth_efficiency"): "decode_time(M, C, bandwidth_efficiency=5e-324) → inf",
    ("capacity.decode_time", "compute_efficiency"): "decode_time(M, C, compute_efficiency=5e-324) → inf",
    ("capacity.decode_time", "kernels_per_layer"): "decode_time(M, C, kernels_per_layer=2.5) accepted",
    ("capacity.decode_time", "mxm_feed_bytes_per_cycle"): "decode_time(M, C, mxm_feed_bytes_per_cycle=5e-324) → inf",
    ("capacity.decode_time", "op_latency_cycles"): "decode_time(M, C, op_latency_cycles=1e308) → inf",
    ("capacity.decode_time", "serial_ops_per_layer"): "decode_time(M, C, serial_ops_per_layer=1e308) → inf",
    ("capacity.decode_time", "kernel_launch_s"): "decode_time(M, 'nvidia-h100-sxm', kernel_launch_s=1e308) → inf "
                                                 "seconds_per_token (on a GPU chip; the sweep uses C)",
    ("capacity.experts_touched", "batch"): "experts_touched(128, 4, 2.5) accepts a fractional batch",
    ("capacity.plan", "keep_parts"): "plan(M, C, keep_parts=None) → raw TypeError",
    ("capacity.plan", "price_usd_per_chip"): "plan(M, C, price_usd_per_chip=1e308).capex_usd = inf",
    ("capacity.plan", "workspace_vectors"): "plan(M, C, workspace_vectors=1e308) → raw OverflowError",
    ("capacity.plan_sweep", "price_usd_per_chip"): "plan_sweep(M, C, price_usd_per_chip=1e308)['capex_usd'] = inf",
    ("capacity.plan_sweep", "workspace_vectors"): "plan_sweep(M, C, workspace_vectors=1e308) → inf bytes",
    ("capacity.prefill_sweep", "bandwidth_efficiency"): "prefill_sweep(M, C, prompt_tokens=512, "
                                                        "bandwidth_efficiency=5e-324) → nan",
    ("capacity.prefill_sweep", "compute_efficiency"): "prefill_sweep(..., compute_efficiency=5e-324) → nan",
    ("capacity.prefill_sweep", "context_tokens"): "prefill_sweep(M, C, prompt_tokens=[256, 512], context_tokens=[]) "
                                                  "→ raw ValueError (broadcast)",
    ("capacity.prefill_sweep", "prompt_tokens"): "prefill_sweep(M, C, prompt_tokens=1e308): the error names "
                                                 "context_tokens, not prompt_tokens",
    ("capacity.prefill_time", "bandwidth_efficiency"): "prefill_time(M, C, prompt_tokens=512, "
                                                       "bandwidth_efficiency=5e-324) → nan",
    ("capacity.prefill_time", "compute_efficiency"): "prefill_time(..., compute_efficiency=5e-324) → nan",
    ("capacity.reconcile_576", "*"): "reconcile_576() itself: rows[9]['added'] = nan (a NaN marker row)",
    ("capacity.reconcile_576", "context_tokens"): "reconcile_576(context_tokens=0)[9]['added'] = nan",
    ("capacity.reconcile_576", "keep_parts"): "reconcile_576(keep_parts=None)[9]['added'] = nan",
    ("capacity.reconcile_576", "overhead"): "reconcile_576(overhead=5e-324)[9]['added'] = nan",
    ("capacity.ridge_intensity", "peak_ops_per_s"): "ridge_intensity(C, peak_ops_per_s=inf) → inf",
    ("capacity.roofline", "peak_ops_per_s"): "roofline(C, 10.0, peak_ops_per_s=np.array([])) → raw ValueError",
    ("capacity.roofline_points", "batch"): "roofline_points(M, C, batch=2.5) accepted",
    ("capacity.roofline_points", "precision"): "roofline_points(M, C, precision=[]) → raw TypeError (unhashable)",
    ("gpu.Kernel", "name"): "Kernel(nan, 1e9, 1e6) accepts a non-string name",
    ("gpu.decoder_layer_kernels", "bytes_per_element"): "decoder_layer_kernels(4096, 14336, 32, 8, 128, "
                                                        "bytes_per_element=1e308): the error names 'bytes'",
    ("gpu.isolated_latency_s", "cuda_graph"): "isolated_latency_s(kernels, cuda_graph=np.array([])) → raw ValueError",
    ("gpu.kernels_from_graph", "bytes_per_element"): "kernels_from_graph(g, bytes_per_element=1e308): names 'bytes'",
    ("gpu.mlp_kernels", "bytes_per_element"): "mlp_kernels(4096, 14336, bytes_per_element=1e308): names 'bytes'",
    ("sources.check_citation", "text"): "check_citation('x', nan): the error does not name 'text'",
    ("sources.cite", "text"): "cite(nan) → raw TypeError",
    ("sources.keys_in", "text"): "keys_in(nan) → raw TypeError",
    ("sources.reference", "key"): "reference(nan) → raw TypeError",
    ("sources.source", "key"): "source(nan) → raw TypeError",
}

#: Owned by the "tsp" helper (tsp/*, schedule.py) and the "hub" helper (workspace.py); reported to them.
KNOWN_HELPER_OWNED: dict[tuple[str, str], str] = {
    ("schedule.analytic_decoder_cycles", "full_size"): "analytic_decoder_cycles(full_size=np.array([])) → ValueError",
    ("schedule.analytic_decoder_cycles", "geometry"): "analytic_decoder_cycles(geometry=nan) → raw AttributeError",
    ("schedule.asap_start_cycles", "graph"): "asap_start_cycles(nan) → raw AttributeError",
    ("schedule.decoder_layer_dims", "geometry"): "decoder_layer_dims(geometry=nan) → raw AttributeError",
    ("schedule.decoder_layer_graph", "geometry"): "decoder_layer_graph(geometry=nan) → raw AttributeError",
    ("schedule.mlp_graph", "d_hidden"): "mlp_graph(d_hidden=10**15) → raw MemoryError",
    ("schedule.mlp_graph", "d_in"): "mlp_graph(d_in=10**15) → raw MemoryError",
    ("schedule.mlp_graph", "d_out"): "mlp_graph(d_out=10**15) → raw MemoryError",
    ("schedule.node_latency", "graph"): "node_latency(nan, 0) → raw AttributeError",
    ("schedule.node_latency", "nid"): "node_latency(g, nan): the error says 'node', not 'nid'",
    ("schedule.random_graph", "n_inputs"): "hang: random_graph(0, n_inputs=10**15) does not return",
    ("schedule.random_graph", "n_ops"): "hang: random_graph(0, n_ops=10**15) does not return",
    ("schedule.schedule", "priority"): "schedule(g, priority=10**400) → raw OverflowError",
    ("schedule.stream_conflict_example", "stream_b"): "stream_conflict_example(nan): names 'output stream'",
    ("schedule.tile_count", "in_features"): "tile_count(4, nan, 16) → raw ValueError",
    ("schedule.tile_count", "out_features"): "tile_count(nan, 4, 16) → raw ValueError",
    ("schedule.tile_count", "vector_len"): "tile_count(4, 4, nan) → raw ValueError",
    ("tsp.geometry.Geometry", "notes"): "Geometry(notes=nan) accepted",
    ("tsp.geometry.peak_fp16_flops_per_s", "clock_hz"): "peak_fp16_flops_per_s(g, clock_hz=1e308) → inf",
    ("tsp.geometry.peak_int8_ops_per_s", "clock_hz"): "peak_int8_ops_per_s(g, clock_hz=1e308) → inf",
    ("tsp.geometry.sram_sweep_time_s", "clock_hz"): "sram_sweep_time_s(g, clock_hz=5e-324) → inf",
    ("tsp.program.as_stream", "value"): "as_stream(nan): the error says 'stream', not 'value'",
    ("tsp.reference_journey", "s_out"): "reference_journey(..., s_out=nan): the error says 'scale'",
    ("tsp.sim.simulate", "memory"): "simulate(p, memory=None) of a program that reads preloads: names no 'memory'",
    ("workspace.copy_exercises", "chapters"): "copy_exercises(dest, chapters=nan) → raw TypeError",
    ("workspace.copy_exercises", "dest"): "copy_exercises(nan) → raw TypeError",
    ("workspace.copy_exercises", "source"): "copy_exercises(dest, source=nan) → raw TypeError",
}
KNOWN = {**KNOWN_LEAD_OWNED, **KNOWN_HELPER_OWNED}

#: inputs tried, per area (written to test-artifacts/contract-counts.json by the last test)
COUNTS: collections.Counter = collections.Counter()


def _area(key: str) -> str:
    return "viz" if key.startswith("viz.") else key.split(".")[0]


def _describe(outcomes) -> str:
    return "\n".join(f"  {o.key}({o.param}={o.bad}): {o.problem}" for o in outcomes[:40])


# ------------------------------------------------------------------------------------------------ tests
def test_every_public_callable_has_a_valid_call():
    """A new public function needs a VALID entry in contract_cases.py (or a reason in NOT_FUZZED)."""
    missing = [k for k in PUBLIC if k not in TABLE and k not in cc.NOT_FUZZED]
    stale = [k for k in TABLE if k not in PUBLIC]
    assert not missing, f"add a valid call to contract_cases.valid_table() for: {missing}"
    assert not stale, f"VALID entries for callables that are no longer public: {stale}"
    assert len(FUZZED) > 250


@pytest.mark.parametrize("key", FUZZED)
def test_valid_call_keeps_the_contract(key, tmp_path):
    """The VALID call itself works: no error, every number finite (so each sweep starts from a working call)."""
    args, kwargs = TABLE[key]()
    with cc.chdir_tmp(tmp_path):
        out = cc.run_one(key, PUBLIC[key], args, kwargs, cc.USE.get(key), param="*", bad_label="valid call")
    cc.cleanup()
    if out.problem and (key, "*") in KNOWN:
        pytest.xfail(KNOWN[(key, "*")])
    assert out.problem is None, out.problem


@pytest.mark.parametrize("key", FUZZED)
def test_one_bad_argument_at_a_time(key, tmp_path):
    """Every parameter × every value in BAD (BAD_SHORT for plots and widgets)."""
    pool = cc.BAD_SHORT if cc.is_slow(key) else cc.BAD
    limits = {p: 2.0 for (k, p), why in KNOWN.items() if k == key and why.startswith("hang")}
    with cc.chdir_tmp(tmp_path):
        outs = cc.sweep(key, PUBLIC[key], TABLE[key], cc.USE.get(key), pool, limits=limits)
    COUNTS[_area(key)] += len(outs)
    bad = [o for o in outs if o.problem]
    new = [o for o in bad if (o.key, o.param) not in KNOWN]
    assert not new, f"{len(new)} contract violation(s):\n{_describe(new)}"
    if bad:
        pytest.xfail(f"{len(bad)} known violation(s) owned elsewhere, e.g. {KNOWN[(bad[0].key, bad[0].param)]}")


# ------------------------------------------------------------------------------------------------ hypothesis
def _scaled(given, k: int):
    """The valid value moved by 10^k (an extreme but well-typed input)."""
    if isinstance(given, (bool, np.bool_)) or not isinstance(given, (int, float, np.integer, np.floating)):
        return given
    if isinstance(given, (int, np.integer)):
        return int(given) * 10 ** max(k, 0) if k >= 0 else -int(given) * 10 ** (-k)
    with np.errstate(over="ignore", under="ignore"):
        return float(np.float64(given) * np.float64(10.0) ** k)


def _values(given):
    return st.one_of(
        st.sampled_from(cc.BAD).map(lambda b: b.make()),
        st.floats(allow_nan=True, allow_infinity=True, width=64),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.integers(min_value=-320, max_value=320).map(lambda k: _scaled(given, k)),
    )


HYPO_KEYS = [k for k in FUZZED if not cc.is_slow(k) and any(True for _ in cc.mutations(PUBLIC[k], *TABLE[k]()))]


@pytest.mark.parametrize("key", HYPO_KEYS)
@settings(max_examples=6, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_several_bad_arguments_at_once(key, tmp_path, data):
    """Up to three parameters at once get a bad value, any float, a huge integer or the valid value × 10^±k."""
    fn = PUBLIC[key]
    args, kwargs = TABLE[key]()
    params = [(n, p, g) for n, p, g in cc.mutations(fn, args, kwargs)]
    chosen = data.draw(st.lists(st.sampled_from(range(len(params))), min_size=1, max_size=min(3, len(params)),
                                unique=True), label="parameters")
    names = []
    for i in chosen:
        name, p, given = params[i]
        g = given if given is not inspect.Parameter.empty else p.default
        value = data.draw(_values(g), label=name)
        args, kwargs = cc._reput(fn, args, kwargs, name, value)
        names.append(name)
    note(f"{key}: {', '.join(f'{n}={cc._get(fn, args, kwargs, n)!r}' for n in names)}")
    with cc.chdir_tmp(tmp_path):
        out = cc.run_one(key, fn, args, kwargs, cc.USE.get(key), param=names[0] if len(names) == 1 else "*",
                         bad_label="hypothesis", limit=10.0)
    cc.cleanup()
    COUNTS[_area(key)] += 1
    if out.problem and not any((key, n) in KNOWN for n in names):
        if out.problem.startswith("LabsimError does not name") and len(names) > 1:
            return      # several bad arguments: the error may name any one of them
        raise AssertionError(f"{key}({', '.join(names)}): {out.problem}")


# ------------------------------------------------------------------------------------------------ ranges are sane
def test_tco_inputs_at_the_ends_of_their_ranges_give_finite_outputs():
    """Every TCO input at the bottom or the top of its allowed range, 20,000 seeded combinations at once: every
    output is finite (the ranges in tco.FIELDS are chosen so; ensure_finite would raise otherwise)."""
    from labsim import tco
    rng = np.random.default_rng(15)
    n = 20_000
    vals = {}
    for name, rule in tco.FIELDS.items():
        ends = np.array([rule["lo"], rule["hi"], math.sqrt(max(rule["lo"], 1e-12) * rule["hi"])])
        vals[name] = ends[rng.integers(0, 3, n)]
        if rule.get("integer"):
            vals[name] = np.floor(vals[name])
    vals["chips_per_unit"] = np.minimum(vals["chips_per_unit"], vals["chips_per_system"])
    for flag in (False, True):
        res = tco.evaluate(tco.TcoInputs(**vals, utilization_derates_tokens=flag))
        for k, v in res.as_dict().items():
            assert np.all(np.isfinite(v)), k
    COUNTS["tco"] += 2 * n


def test_a_model_at_every_size_bound_answers_at_once_and_finitely():
    """num_layers at 10**5 and every width at 10**7: parameter counts are closed forms (no loop over layers)."""
    import time

    from labsim import catalog, limits
    m = catalog.load_model({"name": "huge", "num_layers": limits.MAX_LAYERS, "hidden_size": limits.MAX_MODEL_DIM,
                            "num_heads": limits.MAX_HEADS, "num_kv_heads": 1, "head_dim": limits.MAX_MODEL_DIM,
                            "intermediate_size": limits.MAX_MODEL_DIM, "vocab_size": limits.MAX_MODEL_DIM,
                            "tie_word_embeddings": False, "num_experts": limits.MAX_EXPERTS,
                            "experts_per_token": 8, "moe_intermediate_size": limits.MAX_MODEL_DIM,
                            "local_window_tokens": 128, "local_attention_kind": "sliding",
                            "full_attention_period": 2})
    t0 = time.perf_counter()
    vals = [m.params_total(), m.params_active(), m.weight_bytes("fp32"), m.kv_cache_bytes_per_token("fp32"),
            m.kv_cache_bytes(limits.MAX_TOKENS, batch=limits.MAX_BATCH), m.flops_per_token(limits.MAX_TOKENS)]
    assert time.perf_counter() - t0 < 1.0
    assert all(math.isfinite(float(v)) for v in vals)
    COUNTS["catalog"] += 1


def test_latency_inputs_at_their_bounds_stay_finite():
    """The slowest speed and the most tokens, the longest latencies and the largest CVs: finite tails."""
    from labsim import latency as L
    from labsim import limits
    step = L.agent_step(limits.MAX_TOKENS, 1e-6, ttft_s=limits.MAX_LATENCY_S, tool_s=limits.MAX_LATENCY_S,
                        network_s=L.gamma(limits.MAX_LATENCY_S, limits.MAX_CV), decode_sigma=5.0)
    t = L.simulate(step, 1000, steps=100, fan_out=10)
    assert all(math.isfinite(v) for v in (t.p50_s, t.p99_s, t.mean_s, t.max_s))
    q = L.simulate_queue(0.99, limits.MAX_LATENCY_S, limits.MAX_CV, arrival_cv=limits.MAX_CV, customers=2000)
    assert math.isfinite(q.mean_wait_s) and math.isfinite(q.sojourn.max_s)
    q = L.simulate_queue(0.5, 1.0, 1e-6, arrival_cv=1e-6, customers=2000)      # shape 10¹²: still a number
    assert math.isfinite(q.mean_wait_s)
    COUNTS["latency"] += 3


def test_zz_write_counts(root):
    """Inputs tried per area by this module (the report quotes them)."""
    out = root / "test-artifacts"
    out.mkdir(exist_ok=True)
    with contextlib.suppress(OSError):
        (out / "contract-counts-api.json").write_text(json.dumps(dict(sorted(COUNTS.items())), indent=1))
