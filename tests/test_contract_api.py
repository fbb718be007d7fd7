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

#: Chapter 7 (systolic.py, mesh.py, numerics.py, silicon.py, viz/ch07.py): all 99 pairs fixed on the c7fix branch
#: (tests/test_contract_ch07.py pins each class); keep it empty.
KNOWN_CH07: dict[tuple[str, str], str] = {}

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
#: chapter 7's simulators keep the contract too (issue 15); their calls are small, so hypothesis mixes them although
#: the one-at-a-time sweep gives them the short pool
CH07 = ("mesh.", "numerics.", "silicon.", "systolic.")
HYPO_KEYS = [k for k in FUZZED if (k.startswith(OWNED) and not cc.is_slow(k) or k.startswith(CH07))
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
