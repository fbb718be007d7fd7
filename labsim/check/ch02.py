"""Exercise checkers for chapter 2 (compiler scheduling). Expected values are computed with ``labsim.schedule``,
``labsim.gpu`` and ``labsim.multichip`` from the exercise constants below (the exercise text states the same
constants); nothing is typed in, and no checker prints the expected value."""
from __future__ import annotations

import functools
import math

import numpy as np

from .. import gpu, multichip, schedule
from ..errors import LabsimError, TimingFault
from ..tsp import simulate
from ._core import as_number, call_learner, check_bool, check_number, checker, not_attempted, part, say, unanswered

__all__ = ["EX_P99", "EX_PIPELINE", "critical_path", "asap_scheduler", "p99_from_samples", "stream_conflict",
           "pipeline_16", "cliff_claim", "ex_p99_samples"]

#: Exercise 3: the decoder layer of Llama 3.1 8B on the GPU model, 100,000 runs, co-tenant contention on.
EX_P99 = {"n": 100_000, "seed": 0, "contention": True}

#: Exercise 5: 16 pipeline stages (one per chip), each stage as long as the list-scheduled mini decoder layer
#: [A: a stand-in for a per-chip stage]; hops at the report's Fig 6 rate.
EX_PIPELINE = {"n_chips": 16, "hop_source": "fig6"}


def _part(fn, *args, **kwargs) -> bool:
    """Run one part of a multi-part check quietly; print its feedback only when it fails."""
    ok, line = part(fn, *args, **kwargs)
    if not ok:
        print(line)
    return ok


def _is_close(a, b, rtol):
    return math.isclose(float(a), float(b), rel_tol=rtol)


@checker
def critical_path(answer_cycles) -> bool:
    """Exercise 1: length in cycles of the critical path of ``schedule.example_graph()``."""
    g = schedule.example_graph()
    expected, path = schedule.critical_path(g)
    if unanswered(answer_cycles):
        return not_attempted()
    a, why = as_number(answer_cycles)
    if a is None:
        return say(False, f"answer with a number of cycles: {why}")
    # typical slips: forgetting the weight install, or the hops
    no_install = expected - schedule.node_latency(g, path[0])
    no_hops = expected - len(path) * g.geometry.stream_hop_cycles
    if _is_close(a, no_install, 1e-9) and schedule.node_latency(g, path[0]) > 0:
        return say(False, "the path starts before the matvec: its weights must be installed first.")
    if _is_close(a, no_hops, 1e-9):
        return say(False, "close — every node also adds one stream hop to reach the next unit.")
    return check_number(a, expected, rtol=1e-9, hint="follow the longest chain: weights → matvec → add → relu → "
                        "requant → store, adding each node's delay + 1 hop.")


@checker
def asap_scheduler(fn) -> bool:
    """Exercise 2: ``fn(graph) -> {node id: earliest start}`` (unlimited resources), then used as the priority of
    the placement-aware scheduler, must beat the naive baseline on the mini decoder layer."""
    if unanswered(fn):
        return not_attempted()
    if not callable(fn):
        return say(False, f"expected a function, got {type(fn).__name__}.")
    graphs = [schedule.example_graph(), schedule.mlp_graph(), schedule.random_graph(3)]
    for g in graphs:
        got, exc = call_learner(fn, g)
        if exc is not None:  # the learner's code raised: say what, not the answer
            return say(False, f"your function raised {type(exc).__name__}: {exc}")
        if got is None or got is Ellipsis:
            return not_attempted()
        ref = schedule.asap_start_cycles(g)
        try:
            ok = all(int(got[i]) == ref[i] for i in ref)
        except (KeyError, TypeError, ValueError, IndexError):
            return say(False, "return a dict {node id: start cycle} with one entry per node.")
        if not ok:
            bad = next(i for i in ref if int(got[i]) != ref[i])
            return say(False, f"node {bad} ({g.nodes[bad].name!r}) has a wrong start: a node starts when its "
                              f"LATEST input has finished (start + node_latency).")
    g = schedule.decoder_layer_graph()
    asap, exc = call_learner(fn, g)
    if exc is None:
        prio, exc = call_learner(lambda: [-float(asap[i]) for i in range(len(g.nodes))])
    if exc is not None:  # the learner's code raised on the bigger graph (or returned no list): say what
        return say(False, f"your function failed on the decoder layer: {type(exc).__name__}: {exc}")
    mine = schedule.schedule(g, "list", priority=prio).predicted_cycles
    naive = schedule.naive_schedule(g).predicted_cycles
    return say(mine < naive, f"your ASAP priority gives {mine} cycles vs {naive} for the naive baseline."
               if mine < naive else "your priorities do not beat the naive baseline.")


@functools.lru_cache(maxsize=1)
def _ex_p99_cached() -> np.ndarray:
    s = gpu.simulate(gpu.model_decoder_layer_kernels("llama-3.1-8b"), **EX_P99)
    s.flags.writeable = False
    return s


def ex_p99_samples() -> np.ndarray:
    """The samples of exercise 3 (the same call the exercise asks for; computed once, a fresh copy each call)."""
    return _ex_p99_cached().copy()


@checker
def p99_from_samples(answer_p99_us, answer_p99_over_p50) -> bool:
    """Exercise 3: P99 of the exercise-3 samples in µs, and P99/P50."""
    if unanswered(answer_p99_us) or unanswered(answer_p99_over_p50):
        return not_attempted()
    s = ex_p99_samples()
    p50, p99 = np.percentile(s, [50, 99])
    p50_lo, p99_lo = np.percentile(s, [50, 99], method="lower")
    ok1 = _part(check_number, answer_p99_us, p99 * 1e6, rtol=max(2e-3, abs(p99_lo - p99) / p99 * 1.01),
                       hint="sort the samples and take the value below which 99 % of them lie (np.percentile).")
    if not ok1:
        return False
    r, why = as_number(answer_p99_over_p50)
    if r is None:
        return say(False, f"P99/P50 must be a number: {why}")
    if _is_close(r, p50 / p99, 1e-2):
        return say(False, "the ratio is upside down: P99 divided by P50.")
    return check_number(r, p99 / p50, rtol=5e-3, hint="divide P99 by the median (P50).")


@checker
def stream_conflict(answer_fault_cycle, answer_stream_b) -> bool:
    """Exercise 4: the cycle the simulator names in the stream-collision fault, and a stream for ``b`` that fixes
    the program (``schedule.stream_conflict_example(stream_b)`` must then simulate and compute a + b)."""
    if unanswered(answer_fault_cycle) or unanswered(answer_stream_b):
        return not_attempted()
    prog, _ = schedule.stream_conflict_example()
    try:
        simulate(prog, prog.geometry)
        expected_cycle = None
    except TimingFault as exc:
        expected_cycle = int(str(exc).split("cycle ")[1].split(",")[0])
    ok = _part(check_number, answer_fault_cycle, expected_cycle, rtol=0, atol=0.5,
                      hint="read the cycle in the TimingFault message (the cycle the two values are written).")
    if not ok:
        return False
    try:
        prog, expected = schedule.stream_conflict_example(answer_stream_b)
        res = simulate(prog, prog.geometry)
    except TimingFault as exc:
        return say(False, f"the program still faults: {str(exc)[:160]}")
    except LabsimError as exc:
        return say(False, f"that is not a valid stream here: {exc}")
    got = res.read("MEM_E0", 0, 0)
    right = bool(np.array_equal(got, expected))
    return say(right, "the program runs and stores a + b." if right
               else "the program runs but stores the wrong vector — does b still reach the VXM on your stream?")


def _ex5_expected(per_stage_s):
    return multichip.pipeline_latency_s(EX_PIPELINE["n_chips"], per_stage_s, hop_source=EX_PIPELINE["hop_source"])


@checker
def pipeline_16(answer_latency_us, answer_one_domain, per_stage_s) -> bool:
    """Exercise 5: end-to-end latency (µs) of a 16-stage pipeline (one chip per stage, ``per_stage_s`` each,
    stages placed node by node) and whether it stays inside one synchronous domain."""
    if unanswered(answer_latency_us) or unanswered(answer_one_domain):
        return not_attempted()
    try:
        per = float(per_stage_s)
    except (TypeError, ValueError, OverflowError):
        per = float("nan")
    if not (math.isfinite(per) and 0 < per < 1):
        return say(False, "per_stage_s must be one stage's time in seconds (the list-scheduled mini layer's "
                          "makespan ÷ the clock), a number between 0 and 1.")
    expected = _ex5_expected(per) * 1e6
    n = EX_PIPELINE["n_chips"]
    hop = multichip.hop_latency_s(1)
    try:
        a = float(answer_latency_us)
    except (TypeError, ValueError, OverflowError):
        return say(False, "answer the latency as a number of µs.")
    if not math.isfinite(a):
        return say(False, "answer the latency as a finite number of µs.")
    if _is_close(a, (n * per + (n - 1) * hop) * 1e6, 1e-4):
        return say(False, "almost: the boundary between the two nodes costs more than one hop "
                          "(Fig 6: 16 chips → 2 hops).")
    if _is_close(a, n * per * 1e6, 1e-4):
        return say(False, "you left out the chip-to-chip hops (0.6 µs each, report Fig 6).")
    ok = _part(check_number, a, expected, rtol=1e-3, hint="stages × per-stage time + hops × 0.6 µs.")
    if not ok:
        return False
    return check_bool(answer_one_domain, not multichip.crosses_cliff(n),
                      hint="compare 16 chips with the 576-chip synchronous domain.")


#: Exercise 6: a 1,000-chip pipeline, 1 µs per stage, TCP Ethernet between networks, in the report's view that a
#: scheduled network ends at 576 chips.
EX_CLIFF = {"n_chips": 1000, "per_stage_s": 1e-6, "ethernet": "tcp",
            "sync_domain_chips": multichip.RealScaleParams().report_sync_domain_chips}   # the report's 576


@checker
def cliff_claim(answer_claim_holds) -> bool:
    """Exercise 6: in the report's view (576-chip domains, TCP beyond), does "P99 ≈ median" hold for a 1,000-chip
    pipeline (P99/P50 within 1 %)? Answer True or False."""
    e = EX_CLIFF
    p = multichip.pipeline_latency_percentiles(e["n_chips"], e["per_stage_s"], n=20_000, seed=0,
                                               ethernet=e["ethernet"],
                                               params=multichip.realscale_params(sync_domain_chips=e["sync_domain_chips"]))
    return check_bool(answer_claim_holds, p["p99_over_p50"] < 1.01,
                      hint="compute pipeline_latency_percentiles(1000, 1e-6, ethernet='tcp', "
                           "params=multichip.realscale_params(sync_domain_chips=576)) and look at P99/P50.",
                      praise="beyond one 576-chip domain the Ethernet hop brings the tail back — in ISCA 2022's "
                             "10,440-chip network the same pipeline is still one schedule.")
