"""Exercise checkers for chapter 1 (TSP slices).

Expected values are computed with ``labsim.tsp`` (geometry, simulator) and the catalog, from the exercise
constants below (the exercise text states the same constants); nothing is typed in, and no checker prints its
expected value.
"""
from __future__ import annotations

import numpy as np

from .. import catalog
from ..errors import LabsimError
from ..tsp import (
    Geometry,
    Program,
    demo_program,
    peak_fp16_flops_per_s,
    peak_int8_ops_per_s,
    reference_demo,
    simulate,
    sram_bytes_per_cycle,
    total_sram_bytes,
)
from ._core import call_learner, check_choice, not_attempted, say, unanswered
from ._core import check_number as _check_number

__all__ = ["EX_HOP", "EX_TOPS", "EX_CLAIM", "hop_latency", "peak_tops", "broken_program", "fixed_program",
           "relu_layer", "hbm_ratio", "hbm_claim"]

#: Exercise 1: on `faithful`, a MEM read at MEM_W10 issued on cycle 0 puts x on an eastward stream;
#: on which cycle can an MXM_E0 instruction read it?
EX_HOP = {"geometry": "faithful", "read_slice": "MEM_W10", "reader_slice": "MXM_E0", "read_cycle": 0}
#: Exercise 2: peak INT8 TOPS of the `faithful` geometry at the paper's illustrative 1 GHz.
EX_TOPS = {"geometry": "faithful", "clock_hz": 1.0e9}
#: Exercise 5: the claim "80 TB/s is 10× HBM3E", judged with the paper's SRAM port bandwidth at the 900 MHz
#: shipping clock against the B300's HBM3E bandwidth from the catalog.
EX_CLAIM = {"geometry": "faithful", "gpu": "nvidia-b300", "claim_ratio": 10.0}
#: Exercise 4: shapes the learner's ReLU(W·x + b) program must handle on `mini`.
EX_RELU = {"geometry": "mini", "seeds": (0, 1, 2)}


def check_number(answer, expected, **kw) -> bool:
    """``_core.check_number`` for any answer a learner may type: a value that is not one finite number (10**400,
    a string array, an object array, a list) gets a one-line hint instead of a traceback."""
    if unanswered(answer):
        return not_attempted()
    if isinstance(answer, bool):
        return say(False, "expected a number, got True/False.")
    try:
        arr = np.asarray(answer)
        value = float(arr.reshape(())) if arr.size == 1 and arr.dtype.kind in "iuf" else None
    except (TypeError, ValueError, OverflowError):
        value = None
    if value is None:
        return say(False, f"expected a single number, got {type(answer).__name__}"
                          f"{' ' + repr(answer)[:40] if isinstance(answer, str) else ''}.")
    if not np.isfinite(value):
        return say(False, "your answer is not a finite number.")
    return _check_number(value, expected, **kw)


# --- exercise 1 ---------------------------------------------------------------------------------------------
def _hop_expected():
    g = getattr(Geometry, EX_HOP["geometry"])()
    hops = g.hop_cycles(EX_HOP["read_slice"], EX_HOP["reader_slice"])
    return g, hops, EX_HOP["read_cycle"] + g.delay("MEM_READ") + hops


def hop_latency(answer_cycle) -> bool:
    """Exercise 1: issue cycle of the earliest reader at MXM_E0 = read cycle + MEM read delay + hops × hop cycles."""
    g, hops, expected = _hop_expected()
    traps = [
        (hops, "that is only the travel time — the MEM read also takes its functional delay before the value "
               "is on the stream."),
        (expected + 1, "one cycle too many: count slice boundaries crossed, not slices visited."),
        (expected - 1, "one cycle too few: count every slice boundary between the two slices."),
        (g.delay("MEM_READ") + hops + (g.superlanes - 1), "the stagger does not delay superlane 0 — the question "
                                                          "is about superlane 0."),
        (expected / g.clock_hz * 1e9, "that looks like nanoseconds — the question asks for a cycle number."),
        (expected / g.clock_hz, "that looks like seconds — the question asks for a cycle number."),
    ]
    return check_number(answer_cycle, expected, traps=traps, rtol=1e-9,
                       hint="find both slice indices with Geometry.slice_index, then add the MEM read delay.")


# --- exercise 2 ---------------------------------------------------------------------------------------------
def peak_tops(answer_tops) -> bool:
    """Exercise 2: peak INT8 TOPS (10¹² ops/s) at EX_TOPS['clock_hz'] from the geometry."""
    g = getattr(Geometry, EX_TOPS["geometry"])()
    expected = peak_int8_ops_per_s(g, EX_TOPS["clock_hz"]) / 1e12
    traps = [
        (peak_int8_ops_per_s(g, g.clock_hz) / 1e12, "that is at the 900 MHz shipping clock — the exercise asks "
                                                    "for the paper's 1 GHz."),
        (peak_int8_ops_per_s(g, 1.25e9) / 1e12, "that is at the 1.25 GHz marketing clock — use 1 GHz."),
        (peak_fp16_flops_per_s(g, EX_TOPS["clock_hz"]) / 1e12,
         "your answer is 4× too small: that is the FP16 rate (¼ of the INT8 MAC rate), the exercise asks for INT8."),
    ]
    return check_number(answer_tops, expected, traps=traps, rtol=2e-3,
                       hint="MACs per cycle = planes × 320 × 320; 2 ops per MAC; × clock; ÷ 10¹².")


# --- exercise 3 ---------------------------------------------------------------------------------------------
def broken_program():
    """Exercise 3's input on `mini`: the demo program with its VXM add issued one cycle too early.

    Returns (program, memory)."""
    p, mem, *_ = demo_program(Geometry.mini(), seed=0)
    k = p.find(op="VXM_ADD")
    return p.replace(k, cycle=p.instructions[k].cycle - 1), mem


def fixed_program(answer_program) -> bool:
    """Exercise 3: the learner's repaired program must run without a TimingFault and match NumPy."""
    if unanswered(answer_program):
        return not_attempted()
    if not isinstance(answer_program, Program):
        return say(False, f"expected a labsim.tsp.Program, got {type(answer_program).__name__}.")
    _, mem = broken_program()
    _, _, W, x, b, scale = demo_program(Geometry.mini(), seed=0)
    try:
        res = simulate(answer_program, Geometry.mini(), memory=mem)
    except LabsimError as exc:
        return say(False, f"the simulator still reports: {exc}")
    try:
        out = res.read("MEM_E3", 1, 0)
    except LabsimError:
        return say(False, "the program no longer writes its result to MEM_E3, bank 1, address 0.")
    if not np.array_equal(out, reference_demo(W, x, b, scale)):
        return say(False, "it runs, but the result differs from NumPy — did an operand change?")
    return say(True, "the add now reads both operands on the cycle they pass the VXM.")


# --- exercise 4 ---------------------------------------------------------------------------------------------
def _relu_case(seed: int, g: Geometry):
    rng = np.random.default_rng(seed)
    n = g.vector_len
    W = rng.integers(-20, 20, size=(n, n)).astype(np.int8)
    x = rng.integers(-20, 20, size=n).astype(np.int8)
    b = rng.integers(-3000, 3000, size=n).astype(np.int32)
    return W, x, b


def relu_layer(answer_fn) -> bool:
    """Exercise 4: ``answer_fn(W, x, b) -> (program, memory, (slice, bank, address))`` on `mini`; the simulated
    result at that address must equal NumPy's ``np.maximum(W @ x + b, 0)`` (int32) for several random inputs."""
    if unanswered(answer_fn):
        return not_attempted()
    if not callable(answer_fn):
        return say(False, f"expected a function, got {type(answer_fn).__name__}.")
    g = getattr(Geometry, EX_RELU["geometry"])()
    for seed in EX_RELU["seeds"]:
        W, x, b = _relu_case(seed, g)
        out, exc = call_learner(answer_fn, W, x, b)
        if exc is not None:  # the learner's code raised: show what, not the answer
            return say(False, f"your function raised {type(exc).__name__}: {exc}")
        if out is None or out is Ellipsis:
            return not_attempted()
        if not (isinstance(out, tuple) and len(out) == 3 and isinstance(out[0], Program)):
            return say(False, "return a tuple (program, memory, (slice, bank, address)).")
        prog, mem, key = out
        try:
            res = simulate(prog, g, memory=mem)
            y = res.read(*key)
        except LabsimError as exc:
            return say(False, f"the simulator says: {exc}")
        except TypeError:
            return say(False, "the third element must be (slice, bank, address).")
        ref = np.maximum(W.astype(np.int64) @ x.astype(np.int64) + b, 0)
        if y.dtype != np.int32:
            return say(False, f"the result has type {y.dtype}; ReLU(W·x + b) here stays int32 (no requantize).")
        if not np.array_equal(y.astype(np.int64), ref):
            if np.array_equal(y.astype(np.int64), W.astype(np.int64) @ x + b):
                return say(False, "that is W·x + b — the ReLU is missing.")
            if np.array_equal(y.astype(np.int64), np.maximum(W.astype(np.int64) @ x, 0)):
                return say(False, "that is ReLU(W·x) — the bias b is missing.")
            return say(False, "the program runs but its result differs from NumPy.")
    return say(True, f"your program matches NumPy on {len(EX_RELU['seeds'])} random inputs.")


# --- exercise 5 ---------------------------------------------------------------------------------------------
def _ratio_expected():
    g = getattr(Geometry, EX_CLAIM["geometry"])()
    gpu_bw = catalog.chip(EX_CLAIM["gpu"]).memory_bandwidth_bytes_per_s
    return g, gpu_bw, sram_bytes_per_cycle(g) * g.clock_hz / gpu_bw


def hbm_ratio(answer_ratio) -> bool:
    """Exercise 5a: (paper SRAM bytes/cycle × 900 MHz) ÷ B300 HBM3E bandwidth."""
    g, gpu_bw, expected = _ratio_expected()
    lpu = catalog.chip("groq-lpu-v1").memory_bandwidth_bytes_per_s
    traps = [
        (lpu / gpu_bw, "that uses Groq's 80 TB/s headline — the exercise asks for the paper's per-cycle SRAM "
                       "figure at the shipping clock."),
        (sram_bytes_per_cycle(g) * 1e9 / gpu_bw, "that is at 1 GHz (the paper's arithmetic); the chip ships at "
                                                 "900 MHz."),
        (2 * g.streams_per_direction * g.vector_len * g.clock_hz / gpu_bw,
         "that is the stream-register bandwidth, not the SRAM ports."),
        (1 / expected, "that is GPU ÷ TSP — the claim compares the TSP's bandwidth with the GPU's (TSP ÷ GPU)."),
        (total_sram_bytes(g) * g.clock_hz / gpu_bw, "that multiplies the SRAM *capacity* by the clock — bandwidth "
                                                     "is the bytes all banks deliver per cycle."),
    ]
    return check_number(answer_ratio, expected, traps=traps, rtol=5e-3,
                       hint="SRAM bytes/cycle = 2 hemispheres × 44 slices × 2 banks × 320 B.")


def hbm_claim(answer_verdict: str) -> bool:
    """Exercise 5b: 'holds', 'headline-only' or 'false'."""
    _, _, ratio = _ratio_expected()
    expected = "headline-only" if ratio < EX_CLAIM["claim_ratio"] else "holds"
    return check_choice(answer_verdict, expected, ["holds", "headline-only", "false"],
                        hint="compare the ratio you computed with the one the headline figure gives.",
                        praise="10× needs Groq's 80 TB/s, which has no published derivation; the paper's SRAM "
                               "ports give less.")
