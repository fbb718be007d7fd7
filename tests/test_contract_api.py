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

import contract_cases as cc
import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")   # overflow warnings of lead-owned code

TABLE = cc.valid_table()
PUBLIC = cc.public_callables()
FUZZED = sorted(k for k in PUBLIC if k in TABLE)

# ---------------------------------------------------------------------------------------------- known, owned elsewhere
# (callable, parameter) -> a reproducer (the first bad value that breaks it) and what goes wrong. Generated from a
# full sweep and then reviewed; a pair that starts to pass is simply not reported (xfail is not strict).

#: (empty: every violation found in capacity/, gpu.py, sources.py, table.py, validation.py and viz/validation.py is
#: fixed; a new one fails the sweep)
KNOWN_LEAD_OWNED: dict[tuple[str, str], str] = {
}

#: Chapter 7 (systolic.py, mesh.py, numerics.py, silicon.py, viz/ch07.py), merged by the lead from the ch07 branch.
KNOWN_CH07: dict[tuple[str, str], str] = {
    ("systolic.SystolicArray", "*"): "SystolicArray() itself: weight_bytes_per_cycle = inf by default ('unlimited')",
    ('mesh.hops', 'dst'):
        'mesh.hops(dst=nan): raw ValueError: cannot convert float NaN to integer',
    ('mesh.hops', 'src'):
        'mesh.hops(src=nan): raw ValueError: cannot convert float NaN to integer',
    ('mesh.latency_vs_load', 'loads'):
        'mesh.latency_vs_load(loads=10**400): raw OverflowError: int too large to convert to float',
    ('mesh.schedule_static', 'traffic_'):
        "mesh.schedule_static(traffic_=nan): raw TypeError: object of type 'float' has no len()",
    ('mesh.simulate', 'traffic_'):
        "mesh.simulate(traffic_=nan): raw TypeError: object of type 'float' has no len()",
    ('mesh.zero_load_latency_cycles', 'dst'):
        'mesh.zero_load_latency_cycles(dst=nan): raw ValueError: cannot convert float NaN to integer',
    ('mesh.zero_load_latency_cycles', 'src'):
        'mesh.zero_load_latency_cycles(src=nan): raw ValueError: cannot convert float NaN to integer',
    ('numerics.FloatFormat', 'bias'):
        'numerics.FloatFormat(bias=nan): raw TypingError: Failed in nopython mode pipeline (step: nopython fron...',
    ('numerics.FloatFormat', 'e4m3_nan_only'):
        'numerics.FloatFormat(e4m3_nan_only=nan): non-finite result: result[0].e4m3_nan_only = nan',
    ('numerics.FloatFormat', 'exp_bits'):
        "numerics.FloatFormat(exp_bits=nan): raw TypeError: unsupported operand type(s) for <<: 'int' and 'float'",
    ('numerics.FloatFormat', 'ieee_special'):
        'numerics.FloatFormat(ieee_special=nan): non-finite result: result[0].ieee_special = nan',
    ('numerics.FloatFormat', 'man_bits'):
        "numerics.FloatFormat(man_bits=(not run)): crash: numerics.quantize([1.0], numerics.FloatFormat('x', 4,...",
    ('numerics.FloatFormat', 'name'):
        'numerics.FloatFormat(name=nan): non-finite result: result[0].name = nan',
    ('numerics.FloatFormat', 'source'):
        'numerics.FloatFormat(source=nan): non-finite result: result[0].source = nan',
    ('numerics.attention', 'data'):
        "numerics.attention(data=nan): raw TypeError: 'float' object is not iterable",
    ('numerics.attention', 'kv_format'):
        "numerics.attention(kv_format=nan): LabsimError does not name 'kv_format': unknown number format format...",
    ('numerics.attention', 'logits_format'):
        "numerics.attention(logits_format=nan): LabsimError does not name 'logits_format': unknown number forma...",
    ('numerics.attention_sweep', 'contexts'):
        'numerics.attention_sweep(contexts=inf): raw OverflowError: cannot convert float infinity to integer',
    ('numerics.bytes_moved_per_token', 'kv_precision'):
        "numerics.bytes_moved_per_token(kv_precision=nan): LabsimError does not name 'kv_precision': unknown pr...",
    ('numerics.bytes_moved_per_token', 'logits_precision'):
        "numerics.bytes_moved_per_token(logits_precision=nan): LabsimError does not name 'logits_precision': un...",
    ('numerics.bytes_moved_per_token', 'weight_precision'):
        "numerics.bytes_moved_per_token(weight_precision=nan): LabsimError does not name 'weight_precision': un...",
    ('numerics.float_dot', 'a'):
        'numerics.float_dot(a=10**400): raw OverflowError: int too large to convert to float',
    ('numerics.float_dot', 'b'):
        'numerics.float_dot(b=10**400): raw OverflowError: int too large to convert to float',
    ('numerics.float_gemv', 'W'):
        'numerics.float_gemv(W=10**400): raw OverflowError: int too large to convert to float',
    ('numerics.float_gemv', 'activations'):
        "numerics.float_gemv(activations=nan): LabsimError does not name 'activations': unknown number format f...",
    ('numerics.float_gemv', 'output'):
        "numerics.float_gemv(output=nan): LabsimError does not name 'output': unknown number format format=nan;...",
    ('numerics.float_gemv', 'weights'):
        "numerics.float_gemv(weights=nan): LabsimError does not name 'weights': unknown number format format=na...",
    ('numerics.float_gemv', 'x'):
        'numerics.float_gemv(x=10**400): raw OverflowError: int too large to convert to float',
    ('numerics.fmt', 'name'):
        "numerics.fmt(name=nan): LabsimError does not name 'name': unknown number format format=nan; valid: bf1...",
    ('numerics.quantize', 'x'):
        'numerics.quantize(x=1e308): non-finite result: result = nan',
    ('numerics.quantize_int8', 'W'):
        'numerics.quantize_int8(W=10**400): raw OverflowError: int too large to convert to float',
    ('silicon.die_yield', 'alpha'):
        'silicon.die_yield(alpha=True): accepted True where a number is expected',
    ('silicon.dies_per_wafer', 'wafer_diameter_mm'):
        "silicon.dies_per_wafer(wafer_diameter_mm=1e308): raw OverflowError: (34, 'Numerical result out of range')",
    ('silicon.good_die_cost_usd', 'alpha'):
        'silicon.good_die_cost_usd(alpha=True): accepted True where a number is expected',
    ('silicon.good_die_cost_usd', 'node_name'):
        "silicon.good_die_cost_usd(node_name=nan): LabsimError does not name 'node_name': unknown process node ...",
    ('silicon.next_lpu_chip', 'base'):
        "silicon.next_lpu_chip(base=nan): LabsimError does not name 'base': unknown chip name=nan; valid: cereb...",
    ('silicon.next_lpu_whatif', 'base'):
        "silicon.next_lpu_whatif(base=nan): LabsimError does not name 'base': unknown chip name=nan; valid: cer...",
    ('silicon.next_lpu_whatif', 'base_node'):
        "silicon.next_lpu_whatif(base_node=nan): LabsimError does not name 'base_node': unknown process node no...",
    ('silicon.next_lpu_whatif', 'batch'):
        "silicon.next_lpu_whatif(batch=None): raw TypeError: unsupported operand type(s) for *: 'NoneType' and ...",
    ('silicon.next_lpu_whatif', 'context_tokens'):
        'silicon.next_lpu_whatif(context_tokens=None): accepted None where a number is expected',
    ('silicon.next_lpu_whatif', 'microbatches'):
        "silicon.next_lpu_whatif(microbatches=nan): LabsimError does not name 'microbatches': batch must be an ...",
    ('silicon.next_lpu_whatif', 'node_name'):
        "silicon.next_lpu_whatif(node_name=nan): LabsimError does not name 'node_name': unknown process node no...",
    ('silicon.node', 'name'):
        "silicon.node(name=nan): LabsimError does not name 'name': unknown process node node=nan; valid: 14nm, ...",
    ('silicon.simulate_wafers', 'alpha'):
        'silicon.simulate_wafers(alpha=(not run)): crash: hang: silicon.simulate_wafers(725.0, 0.001, n_wafers=...',
    ('silicon.sram_area_mm2', 'node_name'):
        "silicon.sram_area_mm2(node_name=nan): LabsimError does not name 'node_name': unknown process node node...",
    ('silicon.sram_bytes_on_die', 'die_area_mm2'):
        'silicon.sram_bytes_on_die(die_area_mm2=1e308): non-finite result: result = inf',
    ('silicon.sram_bytes_on_die', 'node_name'):
        "silicon.sram_bytes_on_die(node_name=nan): LabsimError does not name 'node_name': unknown process node ...",
    ('silicon.sram_mb_per_mm2', 'node_name'):
        "silicon.sram_mb_per_mm2(node_name=nan): LabsimError does not name 'node_name': unknown process node no...",
    ('silicon.sram_usd_per_gb', 'node_name'):
        "silicon.sram_usd_per_gb(node_name=nan): LabsimError does not name 'node_name': unknown process node no...",
    ('systolic.SystolicArray', 'clock_hz'):
        'systolic.SystolicArray(clock_hz=1e308): non-finite result: result[0].weight_bytes_per_cycle = inf; res...',
    ('systolic.SystolicArray', 'weight_bytes_per_cycle'):
        'systolic.SystolicArray(weight_bytes_per_cycle=inf): non-finite result: result[0].weight_bytes_per_cycl...',
    ('systolic.SystolicArray', 'weight_shift_cycles'):
        'systolic.SystolicArray(weight_shift_cycles=0): non-finite result: result[0].weight_bytes_per_cycle = inf',
    ('systolic.mlp_batch_latency', 'batches'):
        "systolic.mlp_batch_latency(batches=1e308): LabsimError does not name 'batches': batch = an integer of ...",
    ('systolic.mlp_batch_latency', 'layer_shapes'):
        "systolic.mlp_batch_latency(layer_shapes=nan): raw TypeError: 'float' object is not iterable",
    ('systolic.simulate', 'record'):
        'systolic.simulate(record=10**400): raw OverflowError: int too big to convert',
    ('systolic.tpu_v1_array', 'weights_on_chip'):
        'systolic.tpu_v1_array(weights_on_chip=nan): non-finite result: result.weight_bytes_per_cycle = inf',
    ('systolic.tsp_gemv', 'geometry'):
        "systolic.tsp_gemv(geometry=nan): raw AttributeError: 'float' object has no attribute 'vector_len'",
    ('systolic.utilization_vs_batch', 'batches'):
        "systolic.utilization_vs_batch(batches=1e308): LabsimError does not name 'batches': batch = an integer ...",
    ('viz.ch07.accumulator_plot', 'Ks'):
        "viz.ch07.accumulator_plot(Ks=nan): raw TypeError: 'float' object is not iterable",
    ('viz.ch07.accumulator_plot', 'ax'):
        "viz.ch07.accumulator_plot(ax=nan): raw AttributeError: 'float' object has no attribute 'figure'",
    ('viz.ch07.accumulator_plot', 'bits'):
        "viz.ch07.accumulator_plot(bits=nan): raw TypeError: 'float' object is not iterable",
    ('viz.ch07.accumulator_plot', 'seed'):
        'viz.ch07.accumulator_plot(seed=nan): raw TypeError: SeedSequence expects int or sequence of ints for e...',
    ('viz.ch07.attention_plot', 'ax'):
        "viz.ch07.attention_plot(ax=nan): raw AttributeError: 'float' object has no attribute 'figure'",
    ('viz.ch07.attention_plot', 'metric'):
        'viz.ch07.attention_plot(metric=nan): raw KeyError: nan',
    ('viz.ch07.attention_plot', 'sweep'):
        "viz.ch07.attention_plot(sweep=nan): raw AttributeError: 'float' object has no attribute 'items'",
    ('viz.ch07.cost_plot', 'ax'):
        "viz.ch07.cost_plot(ax=nan): raw AttributeError: 'float' object has no attribute 'figure'",
    ('viz.ch07.cost_plot', 'hbm_usd_per_gb'):
        'viz.ch07.cost_plot(hbm_usd_per_gb=10**400): raw OverflowError: int too large to convert to float',
    ('viz.ch07.cost_plot', 'rows'):
        "viz.ch07.cost_plot(rows=nan): raw TypeError: 'float' object is not iterable",
    ('viz.ch07.fig18_efficiency', 'chips'):
        "viz.ch07.fig18_efficiency(chips=nan): raw TypeError: 'float' object is not iterable",
    ('viz.ch07.format_lines', 'ax'):
        "viz.ch07.format_lines(ax=nan): raw AttributeError: 'float' object has no attribute 'figure'",
    ('viz.ch07.format_lines', 'biases'):
        "viz.ch07.format_lines(biases=nan): raw TypeError: 'float' object is not iterable",
    ('viz.ch07.format_lines', 'names'):
        "viz.ch07.format_lines(names=nan): raw TypeError: 'float' object is not iterable",
    ('viz.ch07.machines', 'names'):
        "viz.ch07.machines(names=nan): raw TypeError: 'float' object is not iterable",
    ('viz.ch07.machines_table', 'names'):
        "viz.ch07.machines_table(names=nan): raw TypeError: 'float' object is not iterable",
    ('viz.ch07.mesh_cdf', 'ax'):
        "viz.ch07.mesh_cdf(ax=nan): raw AttributeError: 'float' object has no attribute 'figure'",
    ('viz.ch07.mesh_cdf', 'runs'):
        "viz.ch07.mesh_cdf(runs=nan): raw AttributeError: 'float' object has no attribute 'items'",
    ('viz.ch07.mesh_load_plot', 'clock_hz'):
        'viz.ch07.mesh_load_plot(clock_hz=nan): raw ValueError: Axis limits cannot be NaN or Inf',
    ('viz.ch07.mesh_load_plot', 'curves'):
        "viz.ch07.mesh_load_plot(curves=nan): raw TypeError: 'float' object is not subscriptable",
    ('viz.ch07.next_lpu_bar_svg', 'r'):
        "viz.ch07.next_lpu_bar_svg(r=nan): raw TypeError: 'float' object is not subscriptable",
    ('viz.ch07.next_lpu_bar_svg', 'width'):
        'viz.ch07.next_lpu_bar_svg(width=nan): non-finite result: result prints \'lns="http://www.w3.org/2000/sv...',
    ('viz.ch07.next_lpu_explore', 'k'):
        "viz.ch07.next_lpu_explore(k=nan): LabsimError does not name 'k': sram_bytes must be finite, got nan",
    ('viz.ch07.next_lpu_plot', 'table'):
        "viz.ch07.next_lpu_plot(table=nan): raw AttributeError: 'float' object has no attribute 'items'",
    ('viz.ch07.next_lpu_text', 'r'):
        "viz.ch07.next_lpu_text(r=nan): raw TypeError: 'float' object is not subscriptable",
    ('viz.ch07.systolic_frames', 'cycles'):
        "viz.ch07.systolic_frames(cycles=nan): raw TypeError: 'float' object is not iterable",
    ('viz.ch07.systolic_frames', 'ncols'):
        'viz.ch07.systolic_frames(ncols=nan): raw ValueError: figure size must be positive finite not (nan, nan)',
    ('viz.ch07.systolic_frames', 'run'):
        "viz.ch07.systolic_frames(run=nan): raw AttributeError: 'float' object has no attribute 'trace'",
    ('viz.ch07.systolic_spacetime', 'ax'):
        "viz.ch07.systolic_spacetime(ax=nan): raw AttributeError: 'float' object has no attribute 'figure'",
    ('viz.ch07.systolic_spacetime', 'run'):
        "viz.ch07.systolic_spacetime(run=nan): raw AttributeError: 'float' object has no attribute 'cycles'",
    ('viz.ch07.tpu_batch_plot', 'ax'):
        "viz.ch07.tpu_batch_plot(ax=nan): raw AttributeError: 'float' object has no attribute 'figure'",
    ('viz.ch07.tpu_batch_plot', 'curves'):
        "viz.ch07.tpu_batch_plot(curves=nan): raw TypeError: 'float' object is not subscriptable",
    ('viz.ch07.tpu_batch_plot', 'lpu_point'):
        "viz.ch07.tpu_batch_plot(lpu_point=nan): raw TypeError: 'float' object is not subscriptable",
    ('viz.ch07.tpu_batch_plot', 'published'):
        "viz.ch07.tpu_batch_plot(published=nan): raw TypeError: 'float' object is not subscriptable",
    ('viz.ch07.wafer_map', 'ax'):
        "viz.ch07.wafer_map(ax=nan): raw AttributeError: 'float' object has no attribute 'figure'",
    ('viz.ch07.wafer_map', 'maps'):
        "viz.ch07.wafer_map(maps=nan): raw AttributeError: 'float' object has no attribute 'radius_mm'",
    ('viz.ch07.wafer_map', 'wafer'):
        'viz.ch07.wafer_map(wafer=nan): raw IndexError: only integers, slices (`:`), ellipsis (`...`), numpy.ne...',
    ('viz.ch07.yield_plot', 'ax'):
        "viz.ch07.yield_plot(ax=nan): raw AttributeError: 'float' object has no attribute 'figure'",
    ('viz.ch07.yield_plot', 'defect_density_per_mm2'):
        "viz.ch07.yield_plot(defect_density_per_mm2=None): raw TypeError: unsupported operand type(s) for *: 'N...",
    ('viz.ch07.yield_plot', 'marks'):
        "viz.ch07.yield_plot(marks=nan): raw AttributeError: 'float' object has no attribute 'items'",
}

#: Owned by the "tsp" helper (tsp/*, schedule.py) and the "hub" helper (workspace.py); reported to them.
KNOWN_HELPER_OWNED: dict[tuple[str, str], str] = {
}
KNOWN = {**KNOWN_LEAD_OWNED, **KNOWN_CH07, **KNOWN_HELPER_OWNED}

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
    limits = {p: 2.0 for (k, p), why in KNOWN.items() if k == key and "hang:" in why}
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


#: hypothesis mixes arguments freely: it runs on the modules this branch maintains (a random mix in code owned
#: elsewhere can crash the process, e.g. a numba kernel; the one-at-a-time sweep above covers those modules)
OWNED = ("assumptions.", "catalog.", "errors.", "fleet.", "latency.", "multichip.", "precision.", "stats.", "tco.",
         "viz.ch00.", "viz.ch01.", "viz.ch02.", "viz.ch03.", "viz.ch04.", "viz.ch05.", "viz.ch06.")
HYPO_KEYS = [k for k in FUZZED if k.startswith(OWNED) and not cc.is_slow(k)
             and any(True for _ in cc.mutations(PUBLIC[k], *TABLE[k]()))]


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
