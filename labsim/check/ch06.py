"""Exercise checkers for chapter 6 (the hybrid fleet). Expected values come from ``labsim.fleet`` on the bundled
scenarios and the exercise constants below (the exercise text states the same constants); nothing is typed in."""
from __future__ import annotations

import math
from collections.abc import Mapping

from .. import fleet
from ..errors import LabsimError
from ._core import as_number, check_number, checker, not_attempted, say, unanswered

__all__ = ["EX_CHIPS", "EX_PRICE", "EX_FLIP", "EX_MIX_SCALE", "EX_NEW_MIX", "price_two_chips", "flip_slo_ms",
           "fleet_monthly_cost", "new_mix_workloads", "propose_fleet"]

#: the chips every exercise searches (those with a catalog price)
EX_CHIPS = ("groq-lpu-v1", "nvidia-h100-sxm", "nvidia-b300")
#: Exercise 1: the mixed product's chat workload, priced on each of these two chips (cheapest feasible candidate)
EX_PRICE = {"scenario": "mixed_product", "workload": "chat", "chips": ("groq-lpu-v1", "nvidia-b300")}
#: Exercise 2: the voice agent's first-sentence SLO, searched between 50 and 500 ms
EX_FLIP = {"scenario": "voice_agent", "workload": "voice", "metric": "first_tokens", "lo_s": 0.05, "hi_s": 0.5}
#: Exercise 3: the mixed product with every arrival rate doubled
EX_MIX_SCALE = 2.0
#: Exercise 4 (open-ended): a new mix — the mixed product's voice at a 300 ms SLO and 3× the traffic, chat as is,
#: the batch job doubled, no coding agent.
EX_NEW_MIX = {"voice": {"rate_scale": 3.0, "slo_s": 0.3}, "chat": {"rate_scale": 1.0}, "batch": {"rate_scale": 2.0}}


def _wl(scenario, name):
    for w in fleet.load_scenario(scenario).workloads:
        if w.name == name:
            return w
    raise LabsimError(f"scenario {scenario!r} has no workload {name!r}")


def _expected_prices():
    w = _wl(EX_PRICE["scenario"], EX_PRICE["workload"])
    return tuple(fleet.search(w, [c]).best.usd_per_mtok for c in EX_PRICE["chips"])


@checker
def price_two_chips(answer_lpu_usd_per_mtok, answer_gpu_usd_per_mtok) -> bool:
    """Exercise 1: $/M output tokens of the chat workload on its cheapest feasible groq-lpu-v1 and nvidia-b300
    fleets."""
    if unanswered(answer_lpu_usd_per_mtok) or unanswered(answer_gpu_usd_per_mtok):
        return not_attempted()
    lpu, gpu = _expected_prices()
    (a, why_a), (b, why_b) = as_number(answer_lpu_usd_per_mtok), as_number(answer_gpu_usd_per_mtok)
    if a is None or b is None:
        return say(False, f"give two numbers in US$ per million output tokens: {why_a or why_b}")
    if math.isclose(a, gpu, rel_tol=0.01) and math.isclose(b, lpu, rel_tol=0.01):
        return say(False, "the two answers are swapped: the first is the LPU, the second the GPU.")
    ok_a = math.isclose(a, lpu, rel_tol=0.01)
    ok_b = math.isclose(b, gpu, rel_tol=0.01)
    if ok_a and ok_b:
        return say(True, "The GPU is cheaper per token whenever both meet the SLO.")
    which = "LPU" if not ok_a else "GPU"
    wrong, right = (a, lpu) if not ok_a else (b, gpu)
    for f, what in ((1e6, "10⁶"), (1e3, "10³")):
        if math.isclose(wrong * f, right, rel_tol=0.01) or math.isclose(wrong / f, right, rel_tol=0.01):
            return say(False, f"the {which} price is off by {what} — US$ per MILLION output tokens.")
    if math.isclose(wrong * 2, right, rel_tol=0.01) or math.isclose(wrong / 2, right, rel_tol=0.01):
        return say(False, f"the {which} price is off by a factor of 2 — take usd_per_mtok of the cheapest feasible "
                          "fleet as it is.")
    return say(False, f"the {which} price is {'too large' if wrong > right else 'too small'} — use "
                      "fleet.search(workload, [chip]).best.usd_per_mtok on the chat workload of mixed_product.")


def _expected_flip_ms():
    w = _wl(EX_FLIP["scenario"], EX_FLIP["workload"])
    s = fleet.flip_slo(w, EX_FLIP["metric"], EX_FLIP["lo_s"], EX_FLIP["hi_s"], EX_CHIPS, tol_s=5e-4)
    return None if s is None else 1e3 * s


@checker
def flip_slo_ms(answer_ms) -> bool:
    """Exercise 2: the voice first-sentence P99 SLO (ms) below which the cheapest fleet switches to SRAM chips."""
    exp = _expected_flip_ms()
    return check_number(answer_ms, exp, rtol=0.03,
                        hint="bisect on the SLO with fleet.with_slo and fleet.search, watching best.memory_kind "
                             "(or call fleet.flip_slo); answer in milliseconds.")


def _expected_mix_monthly():
    sc = fleet.load_scenario("mixed_product")
    plan = fleet.optimize(fleet.scale_rates(sc.workloads, EX_MIX_SCALE), list(EX_CHIPS),
                          cost_overrides=dict(sc.cost_overrides), progress=False)
    return plan.monthly_usd


@checker
def fleet_monthly_cost(answer_usd_per_month) -> bool:
    """Exercise 3: monthly cost (USD) of the cheapest fleet for the mixed product at twice the traffic."""
    return check_number(answer_usd_per_month, _expected_mix_monthly(), rtol=0.01,
                        hint="scale every workload's rate with fleet.scale_rates, optimize over EX_CHIPS and read "
                             "plan.monthly_usd (US$ per month, not thousands).")


def new_mix_workloads() -> list[fleet.Workload]:
    """The workloads of exercise 4 (EX_NEW_MIX applied to the mixed product)."""
    out = []
    for w in fleet.load_scenario("mixed_product").workloads:
        if w.name not in EX_NEW_MIX:
            continue
        spec = EX_NEW_MIX[w.name]
        w = w.replace(arrival_rate_per_s=w.arrival_rate_per_s * spec["rate_scale"])
        if "slo_s" in spec:
            w = fleet.with_slo(w, "first_tokens", spec["slo_s"])
        out.append(w)
    return out


@checker
def propose_fleet(proposal) -> bool:
    """Exercise 4 (open-ended): ``proposal = {workload: {"chip", "batch", "replicas", "layout_multiplier",
    "microbatches"}}`` for every workload of :func:`new_mix_workloads`. Verifies every SLO, prints the check and the
    fleet's cost, and compares it with the optimizer's fleet."""
    if unanswered(proposal):
        return not_attempted()
    if not isinstance(proposal, Mapping):
        return say(False, "give a dict: workload name -> {'chip': …, 'batch': …, 'replicas': …}.")
    wls = new_mix_workloads()
    try:
        chk = fleet.check_fleet(wls, proposal)
    except LabsimError as exc:
        return say(False, str(exc))
    if not chk.ok:
        bad = [f"{k}: {'; '.join(c.failed)}" for k, c in chk.candidates.items() if not c.feasible]
        bad += [f"{m}: no hardware proposed" for m in chk.missing]
        return say(False, f"{len(bad)} workload(s) not served — {' | '.join(bad)} (print "
                          "fleet.check_fleet(new_mix_workloads(), proposal).report() for every line).")
    best = fleet.optimize(wls, list(EX_CHIPS), progress=False).monthly_usd
    extra = chk.monthly_usd / best - 1 if best > 0 else 0.0
    if extra <= 0.05:
        return say(True, f"Every SLO is met; your fleet's total is ${chk.monthly_usd / 1e3:,.1f} k per month, within "
                         "5 % of the optimizer's cost.")
    return say(True, f"Every SLO is met (your total: ${chk.monthly_usd / 1e3:,.1f} k per month). The optimizer "
                     f"found a fleet {extra:.0%} cheaper — can you find it?")
