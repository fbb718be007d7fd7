"""Exercise checkers for chapter 5 (the agentic latency budget). Expected values are computed with
``labsim.latency`` (and chapter 3's ``capacity`` / chapter 4's ``tco`` where the exercise names a chip or a Fig 11
column) from the exercise constants below, which the exercise text states; nothing is typed in."""
from __future__ import annotations

import math

from .. import latency as L
from ._core import as_number, check_bool, check_callable, check_number, checker, not_attempted, part, say, unanswered

__all__ = ["EX_TOKENS", "EX_CHAIN", "EX_QUEUE", "EX_VOICE", "EX_SLO_COST", "EX_FANOUT",
           "reasoning_time", "within_flow", "chain_slow_fraction", "chain_p99", "queue_waits",
           "voice_budget_tokens", "slo_cost_per_task", "fanout_p99_function", "expected_slo_costs"]

#: Exercise 1: the report's worked example ([huatai26] Q7 §2).
EX_TOKENS = {"tokens": 2000, "tokens_per_s": 1600.0}

#: Exercise 2: a 10-step chain; each step takes 1 s, or 3 s with probability 5 %.
EX_CHAIN = {"steps": 10, "fast_s": 1.0, "slow_s": 3.0, "p_slow": 0.05, "quantile": 0.99}

#: Exercise 3: one server, Poisson arrivals, mean service 1.25 s (the worked example's step), load 0.8.
EX_QUEUE = {"load": 0.8, "service_mean_s": 1.25}

#: Exercise 4: the 500 ms voice budget; 300 ms of it is TTS first audio (150 ms) + transport in and out
#: (2 × 75 ms) — the medians of data/latency/voice_turn.toml [A]; Llama 3.3 70B at batch 1 via chapter 3.
EX_VOICE = {"slo": "voice_turn", "fixed_stages": ("TTS first audio", "transport in", "transport out"),
            "model": "llama-3.3-70b", "chip": "groq-lpu-v1", "gpu_chip": "nvidia-h100-sxm"}

#: Exercise 5: a 10-step on-screen agent task, 300 reasoning tokens per step, each step within 1 s
#: (only decode time counts); hardware and prices = the report's Fig 11 columns via chapter 4.
EX_SLO_COST = {"steps": 10, "tokens_per_step": 300, "step_slo_s": 1.0,
               "gpu_columns": ("gpu-latency", "gpu-throughput"), "lpu_column": "groq-cost"}

#: Exercise 6: 5-way fan-out of web searches, each lognormal(p50 0.6 s, σ 0.6) (a course assumption [A]).
EX_FANOUT = {"p50_s": 0.6, "sigma": 0.6, "quantile": 0.99}


# ---------------------------------------------------------------------------------------------- exercise 1
@checker
def reasoning_time(answer_s) -> bool:
    """Exercise 1a: seconds to generate EX_TOKENS tokens at EX_TOKENS tok/s."""
    e = EX_TOKENS
    expected = L.decode_seconds(e["tokens"], e["tokens_per_s"])
    traps = [(e["tokens_per_s"] / e["tokens"], "you divided speed by tokens — time = tokens ÷ (tokens per second).")]
    return check_number(answer_s, expected, traps=traps, rtol=1e-3, hint="time = tokens ÷ tokens per second.")


@checker
def within_flow(answer_bool) -> bool:
    """Exercise 1b: does that step finish within Nielsen's 1 s 'flow' threshold?"""
    e = EX_TOKENS
    expected = L.decode_seconds(e["tokens"], e["tokens_per_s"]) <= L.threshold_s("flow")
    return check_bool(answer_bool, expected, hint="compare your time with latency.threshold_s('flow').",
                      praise="≈1.2 s keeps attention, but it is past the 1 s flow limit — 'instant' it is not.")


# ---------------------------------------------------------------------------------------------- exercise 2
@checker
def chain_slow_fraction(answer_p) -> bool:
    """Exercise 2a: fraction of tasks that hit at least one slow step."""
    e = EX_CHAIN
    expected = L.chain_slow_probability(e["p_slow"], e["steps"])
    traps = [(e["p_slow"] * e["steps"],
              "p·k is only the small-p approximation (and it can exceed 1) — use 1 − (1 − p)^k."),
             ((1 - e["p_slow"]) ** e["steps"],
              "that is the chance that every step is fast; the question asks for the complement."),
             (e["p_slow"] ** e["steps"], "that is the chance that every step is slow.")]
    return check_number(answer_p, expected, traps=traps, rtol=1e-3)


@checker
def chain_p99(answer_s) -> bool:
    """Exercise 2b: P99 task latency of the EX_CHAIN chain (seconds)."""
    e = EX_CHAIN
    d = L.two_point(e["fast_s"], e["slow_s"], e["p_slow"])
    expected = L.chain_quantile(d, e["steps"], e["quantile"])
    traps = [(e["steps"] * e["slow_s"], "that is the worst case (every step slow), far beyond the 99th percentile."),
             (e["steps"] * e["fast_s"], "that is the median; at P99 a few steps are slow."),
             (e["steps"] * d.mean_s, "that is the mean task latency, not the 99th percentile."),
             (e["steps"] * d.quantile(e["quantile"]),
              "you added ten per-step P99s; the number of slow steps is Binomial(10, p) — find its 99th percentile.")]
    return check_number(answer_s, expected, traps=traps, rtol=1e-3,
                        hint="task = 10·fast + (slow − fast)·N with N ~ Binomial(10, p); find N's 99th percentile.")


# ---------------------------------------------------------------------------------------------- exercise 3
@checker
def queue_waits(answer_md1_wait_s, answer_mm1_wait_s) -> bool:
    """Exercise 3: mean queue waits (seconds) of M/D/1 and M/M/1 at EX_QUEUE."""
    if unanswered(answer_md1_wait_s) or unanswered(answer_mm1_wait_s):
        return not_attempted()
    e = EX_QUEUE
    md1 = L.md1_mean_wait_s(e["load"], e["service_mean_s"])
    mm1 = L.mm1_mean_wait_s(e["load"], e["service_mean_s"])
    (a, why_a), (b, why_b) = as_number(answer_md1_wait_s), as_number(answer_mm1_wait_s)
    if a is None or b is None:
        return say(False, f"give two numbers (seconds): {why_a or why_b}")
    if math.isclose(a, mm1, rel_tol=1e-3) and math.isclose(b, md1, rel_tol=1e-3):
        return say(False, "the two answers are swapped: deterministic service (M/D/1) waits less.")
    sojourn = [(md1 + e["service_mean_s"], "M/D/1"), (mm1 + e["service_mean_s"], "M/M/1")]
    for value, name in sojourn:
        if math.isclose(a if name == "M/D/1" else b, value, rel_tol=1e-3):
            return say(False, f"your {name} answer includes the service time; the question asks for the wait in queue.")
    return _two_parts(("M/D/1", part(check_number, a, md1, rtol=1e-3, hint="P–K with C_s² = 0: ρτ/(2(1 − ρ)).")),
                      ("M/M/1", part(check_number, b, mm1, rtol=1e-3, hint="P–K with C_s² = 1: ρτ/(1 − ρ).")))


def _two_parts(*parts) -> bool:
    """One line for a two-part answer: ✓ when both parts pass, else the failing parts' hints."""
    if all(ok for _, (ok, _) in parts):
        return say(True)
    return say(False, "; ".join(f"{name}: {line.removeprefix('✗ Not yet: ')}" for name, (ok, line) in parts
                                if not ok))


# ---------------------------------------------------------------------------------------------- exercise 4
def _voice_fixed_s() -> float:
    stages = {s["name"]: s for s in L.voice_stages()}
    return float(sum(stages[n]["p50_s"] for n in EX_VOICE["fixed_stages"]))


@checker
def voice_budget_tokens(answer_tokens, chip: str | None = None) -> bool:
    """Exercise 4: largest whole number of reasoning tokens within the voice SLO on EX_VOICE's chip (batch 1)."""
    if unanswered(answer_tokens):
        return not_attempted()
    e = EX_VOICE
    speed = L.decode_speed(e["model"], chip or e["chip"])
    slo = L.threshold_s(e["slo"])
    expected = L.max_reasoning_tokens(slo, speed, fixed_s=_voice_fixed_s())
    x, why = as_number(answer_tokens)
    if x is None:
        return say(False, why)
    if not x.is_integer():
        return say(False, "tokens come whole — round down (a partial token does not help).")
    traps = [(math.floor(slo * speed),
              "that spends the whole 500 ms on tokens — TTS and transport take their 300 ms first."),
             (math.floor(_voice_fixed_s() * speed),
              "that is the tokens in the fixed 300 ms; the LLM gets what is left.")]
    for wrong, why in traps:
        if wrong != expected and abs(x - wrong) < 0.5:
            return say(False, why)
    return check_number(answer_tokens, expected, rtol=0.0, atol=0.5,
                        hint="(SLO − fixed stages) × tokens/s, rounded down; speed from "
                             "capacity.decode_time(...).tokens_per_s.")


# ---------------------------------------------------------------------------------------------- exercise 5
def expected_slo_costs() -> dict[str, float]:
    """$/task of the cheapest GPU column that meets the step SLO, and of the LPU column (both from Fig 11)."""
    e = EX_SLO_COST
    pts = L.report_fig11_points()
    tokens = e["steps"] * e["tokens_per_step"]
    ok_gpu = [c for c in e["gpu_columns"]
              if L.decode_seconds(e["tokens_per_step"], pts[c]["tokens_per_s_per_user"]) <= e["step_slo_s"]]
    gpu = min(L.cost_per_task_usd(tokens, pts[c]["usd_per_mtok"]) for c in ok_gpu) if ok_gpu else math.nan
    lpu = L.cost_per_task_usd(tokens, pts[e["lpu_column"]]["usd_per_mtok"])
    cheapest_any = min(L.cost_per_task_usd(tokens, pts[c]["usd_per_mtok"]) for c in e["gpu_columns"])
    return {"gpu": gpu, "lpu": lpu, "gpu_ignoring_slo": cheapest_any}


@checker
def slo_cost_per_task(answer_gpu_usd, answer_lpu_usd) -> bool:
    """Exercise 5: $ per task on the cheapest Fig 11 GPU column that meets the SLO, and on Groq (at cost)."""
    if unanswered(answer_gpu_usd) or unanswered(answer_lpu_usd):
        return not_attempted()
    exp = expected_slo_costs()
    (g, why_g), (lp, why_l) = as_number(answer_gpu_usd), as_number(answer_lpu_usd)
    if g is None or lp is None:
        return say(False, f"give two numbers (USD per task): {why_g or why_l}")
    if math.isclose(g, exp["gpu_ignoring_slo"], rel_tol=5e-3) and not math.isclose(g, exp["gpu"], rel_tol=5e-3):
        return say(False, "your GPU column is the cheapest per token, but at 30 tok/s a 300-token step takes 10 s — "
                          "it misses the 1 s SLO. Use the cheapest column that meets it.")
    hint = "tokens per task × $/M tokens ÷ 10⁶."
    return _two_parts(("GPU", part(check_number, g, exp["gpu"], rtol=5e-3, hint=hint)),
                      ("LPU", part(check_number, lp, exp["lpu"], rtol=5e-3, hint=hint)))


# ---------------------------------------------------------------------------------------------- exercise 6
@checker
def fanout_p99_function(fn) -> bool:
    """Exercise 6: a function ``f(n) -> seconds``, the P99 latency of an n-way fan-out of EX_FANOUT searches
    (Monte Carlo or closed form; within 3 %)."""
    e = EX_FANOUT
    d = L.lognormal(e["p50_s"], e["sigma"])

    def accept_for(n):
        exp = L.fanout_quantile(d, n, e["quantile"])
        return lambda r: as_number(r)[0] is not None and math.isclose(as_number(r)[0], exp, rel_tol=0.03)

    trials = [((n,), {}, accept_for(n)) for n in (1, 5, 20)]
    return check_callable(fn, trials, hint="for n = 1, 5 or 20 your P99 is off by more than 3 % — the stage waits "
                                           "for the slowest of n searches: F⁻¹(0.99^(1/n)), "
                                           "or simulate with fan_out=n.")
