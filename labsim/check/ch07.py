"""Exercise checkers for chapter 7 (the other roads: TPU v1, Dojo, Cerebras, the next LPU).

Every expected value is computed here from ``labsim`` (the simulators, the catalog, ``capacity``, ``silicon``) with
the exercise constants below — the exercise text states the same constants. No checker prints its expected value.
"""
from __future__ import annotations

import numpy as np

from .. import capacity, catalog, numerics, silicon, systolic
from ..viz import ch07 as viz
from ._core import check_bool, check_callable, check_number, not_attempted, say, unanswered

__all__ = ["EX_CYCLES", "EX_UTIL", "EX_ACC", "EX_TILE", "EX_1600", "EX_FIG18", "systolic_cycles",
           "smallest_batch_function", "accumulator_bits", "tile_bond_yield", "untested_tile_yield",
           "lpu_tokens_per_s", "tokens_per_step", "needs_speculation", "fig18_ranking", "fig18_ratio",
           "fig18_holds"]

#: Exercise 1: one batch of 8 vectors through a 256 × 256 weight-stationary array whose weights are already in place.
EX_CYCLES = {"rows": 256, "cols": 256, "batch": 8}
#: Exercise 2: the smallest batch at which TPU v1 (weights streamed from DDR3) keeps ≥ target of its MACs busy on
#: one 2048 × 2048 layer; the learner writes min_batch(target) with labsim.systolic.
EX_UTIL = {"k": 2048, "n": 2048, "targets": (0.1, 0.5), "max_batch": 100_000}
#: Exercise 3: the narrowest signed accumulator that can never overflow on an INT8 dot product of length 8,192.
EX_ACC = {"K": 8192}
#: Exercise 4: a Dojo training tile of 25 dies; 90 % of tiles should work; untested dies of 645 mm² at 0.1 / cm².
EX_TILE = {"dies": 25, "target": 0.90, "die_area_mm2": 645.0, "defect_density_per_mm2": 0.001}
#: Exercise 5: "1,600+ tokens/s" — Llama 3.3 70B on LPU v1, chapter 3's plan and decode defaults at batch 1;
#: the measured speculative-decoding figure: 1,665 tokens/s ([groq-specdec24]).
EX_1600 = {"model": "llama-3.3-70b", "chip": "groq-lpu-v1", "precision": "int8", "claimed_tokens_per_s": 1665.0}
#: Exercise 6: Fig 18's four chips, batch-1 decode of Llama 3.3 70B in INT8 weights, roofline fraction of peak.
EX_FIG18 = {"model": "llama-3.3-70b", "precision": "int8", "chips": viz.FIG18_CHIPS}


# ---------------------------------------------------------------------------------------------------- ex 1
def _cycles_expected() -> int:
    e = EX_CYCLES
    a = systolic.SystolicArray(rows=e["rows"], cols=e["cols"], weight_shift_cycles=0)
    return systolic.matmul_cycles(e["rows"], e["cols"], e["batch"], a)["cycles"]


def systolic_cycles(answer_cycles) -> bool:
    """Exercise 1: cycles for EX_CYCLES' batch on a weights-loaded array (first input in → last output out)."""
    e = EX_CYCLES
    R, C, B = e["rows"], e["cols"], e["batch"]
    traps = [(R + C - 1, "that is one vector's fill latency; the other vectors follow one cycle apart."),
             (B * (R + C - 1), "the vectors do not wait for each other to drain: they enter one cycle apart."),
             (B + R + C - 1, "off by one: count cycles 0 … last; vector b leaves column C−1 on cycle b + R + C − 2."),
             (B + R + C - 2 + R, "the weights are already in place here; no shift-in to add.")]
    return check_number(answer_cycles, _cycles_expected(), rtol=0, atol=0.5, traps=traps,
                        hint="vector b reaches PE(i, j) on cycle b + i + j; when does the last one leave?")


# ---------------------------------------------------------------------------------------------------- ex 2
def _smallest_batch(target: float) -> int:
    """Bisection on the (monotonic) utilization of the TPU v1 schedule."""
    e = EX_UTIL
    a = systolic.tpu_v1_array()

    def util(b):
        return systolic.matmul_cycles(e["k"], e["n"], b, a)["utilization"]

    lo, hi = 1, e["max_batch"]
    if util(lo) >= target:
        return lo
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if util(mid) >= target:
            hi = mid
        else:
            lo = mid
    return hi


def smallest_batch_function(fn) -> bool:
    """Exercise 2: ``fn(target)`` must return the smallest batch reaching ``target`` utilization (EX_UTIL)."""
    if unanswered(fn):
        return not_attempted()
    def right(got, t):
        return (isinstance(got, (int, float, np.integer, np.floating)) and not isinstance(got, bool)
                and float(got) == _smallest_batch(t))

    trials = [((t,), {}, (lambda got, t=t: right(got, t))) for t in EX_UTIL["targets"]]
    return check_callable(fn, trials, hint="your function returns a different batch for at least one target — "
                                           "is it the *smallest* batch with utilization ≥ target (not >, not "
                                           "the last one below)? Use systolic.tpu_v1_array() and a 2048 × 2048 "
                                           "layer.")


# ---------------------------------------------------------------------------------------------------- ex 3
def _acc_expected() -> int:
    K = EX_ACC["K"]
    pos = (np.full((1, K), -128), np.full(K, -128))      # largest positive sum
    neg = (np.full((1, K), -128), np.full(K, 127))       # most negative sum
    for bits in range(8, 63):
        if not (numerics.int_gemv(*pos, bits)["overflowed"][0] or numerics.int_gemv(*neg, bits)["overflowed"][0]):
            return bits
    raise AssertionError("no width up to 62 bits")        # pragma: no cover


def accumulator_bits(answer_bits) -> bool:
    """Exercise 3: the smallest signed accumulator width with no overflow for any INT8 inputs of length K."""
    exp = _acc_expected()
    traps = [(exp - 1, "one bit short: (−128)·(−128) = +16,384, and K of them sum to exactly a power of two, "
                       "one more than the largest positive value of that width."),
             (32, "32 bits never overflows here, but it is not the narrowest width."),
             (16, "a 16-bit accumulator overflows after three worst-case products.")]
    return check_number(answer_bits, exp, rtol=0, atol=0.5, traps=traps,
                        hint="find the largest |sum| K products of int8 values can reach, then the signed width "
                             "whose range holds it (or test widths with numerics.int_gemv).")


# ---------------------------------------------------------------------------------------------------- ex 4
def tile_bond_yield(answer_yield) -> bool:
    """Exercise 4a: per-die bond/assembly yield for a EX_TILE tile of known-good dies to work EX_TILE['target']."""
    e = EX_TILE
    exp = silicon.required_per_die_yield(e["target"], e["dies"])
    traps = [(1 - (1 - e["target"]) / e["dies"], "that is the first-order approximation 1 − 0.1/25; compute "
                                                 "the 25th root exactly."),
             (e["target"], "every one of the 25 bonds must succeed: the per-die yield must be much higher than "
                           "the tile's."),
             (100 * exp, "give a fraction (0 … 1), not a percentage.")]
    return check_number(answer_yield, exp, rtol=2e-6, traps=traps,
                        hint="tile yield = (per-die yield)^25; solve for the per-die yield.")


def untested_tile_yield(answer_yield) -> bool:
    """Exercise 4b: tile yield if the 25 dies were not tested first (Poisson die yield at EX_TILE's area/density)."""
    e = EX_TILE
    y = silicon.die_yield(e["die_area_mm2"], e["defect_density_per_mm2"], "poisson")
    exp = silicon.tile_yield(e["dies"], y)
    traps = [(y, "that is the yield of one die; all 25 dies of the tile must be good."),
             (silicon.tile_yield(e["dies"], silicon.die_yield(e["die_area_mm2"], e["defect_density_per_mm2"] * 100)),
              "the density is 0.1 per cm² = 0.001 per mm²."),
             (1 - 25 * (1 - y), "yields multiply; they do not subtract linearly.")]
    return check_number(answer_yield, exp, rtol=1e-3, traps=traps,
                        hint="Poisson die yield e^(−A·D) with A in mm² and D per mm², then to the 25th power.")


# ---------------------------------------------------------------------------------------------------- ex 5
def _lpu_speed() -> float:
    e = EX_1600
    p = capacity.plan(e["model"], e["chip"], e["precision"])
    return capacity.decode_time(e["model"], e["chip"], chips=p.chips, precision=e["precision"]).tokens_per_s


def lpu_tokens_per_s(answer_tokens_per_s) -> bool:
    """Exercise 5a: chapter 3's batch-1 tokens/s per user for EX_1600 (plan's chip count, default decode)."""
    e = EX_1600
    exp = _lpu_speed()
    m, c = catalog.model(e["model"]), catalog.chip(e["chip"])
    p = capacity.plan(e["model"], e["chip"], e["precision"])
    traps = [(p.chips * c.memory_bandwidth_bytes_per_s / m.weight_bytes(e["precision"]),
              "that is the 'aggregate bandwidth' shortcut: only the chips holding the current layer read at once."),
             (e["claimed_tokens_per_s"], "that is the claim to audit, not the model's estimate.")]
    return check_number(answer_tokens_per_s, exp, rtol=1e-2, traps=traps,
                        hint="capacity.plan(...) for the chip count, then capacity.decode_time(..., chips=...)"
                             ".tokens_per_s.")


def tokens_per_step(answer_tokens) -> bool:
    """Exercise 5b: average tokens accepted per verification step for 1,665 tok/s if a step costs one decode."""
    exp = EX_1600["claimed_tokens_per_s"] / _lpu_speed()
    traps = [(1.0 / exp, "inverted: tokens per step = claimed speed ÷ one step's speed.")]
    return check_number(answer_tokens, exp, rtol=1e-2, traps=traps,
                        hint="each verification step takes one decode step's time and yields several tokens.")


def needs_speculation(answer: bool) -> bool:
    """Exercise 5c: True if 1,665 tok/s needs more than one token per step on the chapter-3 model."""
    return check_bool(answer, EX_1600["claimed_tokens_per_s"] > _lpu_speed() * 1.05,
                      hint="compare the claim with one-token-per-step decoding in 5a.",
                      praise="Only with several tokens accepted per step — speculative decoding, as the report's "
                             "Q7 says — does a 70B model reach 1,600+ tokens/s on these chips.")


# ---------------------------------------------------------------------------------------------------- ex 6
def _fig18() -> list[dict]:
    e = EX_FIG18
    return viz.fig18_efficiency(e["model"], e["precision"], e["chips"])


def fig18_ranking(answer_ranking) -> bool:
    """Exercise 6a: the four chips ordered from the highest to the lowest batch-1 fraction of peak."""
    if unanswered(answer_ranking):
        return not_attempted()
    rows = sorted(_fig18(), key=lambda r: -r["fraction_of_peak"])
    exp = [r["chip"] for r in rows]
    try:
        got = [str(x) for x in answer_ranking]
    except TypeError:
        return say(False, "give a list of the four chip names, highest fraction first.")
    if sorted(got) != sorted(exp):
        return say(False, f"list exactly these four chips: {', '.join(sorted(EX_FIG18['chips']))}.")
    if got == exp:
        return say(True)
    if got == exp[::-1]:
        return say(False, "reversed: put the chip with the highest fraction of its peak first.")
    if got == list(EX_FIG18["chips"]):
        return say(False, "that is Fig 18's column order; sort by the roofline fraction you computed.")
    return say(False, "the order differs: fraction = min(1, intensity × bandwidth ÷ peak) at each chip's compute "
                      "precision (capacity.compute_precision_for).")


def fig18_ratio(answer_ratio) -> bool:
    """Exercise 6b: LPU's batch-1 fraction of peak ÷ B300's."""
    rows = {r["chip"]: r["fraction_of_peak"] for r in _fig18()}
    exp = rows["groq-lpu-v1"] / rows["nvidia-b300"]
    traps = [(1.0 / exp, "inverted: LPU ÷ B300."),
             (80e12 / 8e12, "that is the bandwidth ratio alone; the peaks differ too.")]
    return check_number(answer_ratio, exp, rtol=1e-2, traps=traps,
                        hint="divide the two fractions of peak from the roofline.")


def fig18_holds(answer: bool) -> bool:
    """Exercise 6c: does the roofline reproduce Fig 18's order (LPU > CS-3 > TPU v7 > B300)?"""
    rows = {r["chip"]: r["fraction_of_peak"] for r in _fig18()}
    fig_order = ["groq-lpu-v1", "cerebras-cs3", "google-tpu-v7", "nvidia-b300"]
    holds = all(rows[a] > rows[b] for a, b in zip(fig_order, fig_order[1:], strict=False))
    return check_bool(answer, holds, hint="compare your ranking with Fig 18's ratings pair by pair.",
                      praise="The roofline puts the wafer above the LPU and the TPU v7 next to the B300: Fig 18's "
                             "ratings are not a roofline at batch 1.")
