"""The budget planner: the largest reasoning budget per step whose task-latency quantile meets an SLO (common
random numbers + doubling and bisection), its deterministic closed form, and the cost per task."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import limits as _L
from ..errors import LabsimError, check_fraction, check_int, check_number
from ._common import _latency, _n, _seed, _speed, _tokens
from ._kernels import _sample_ab, _totals_at
from .dists import as_dist
from .steps import agent_step, task

__all__ = ["BudgetPlan", "plan_budget", "max_reasoning_tokens", "cost_per_task_usd"]


def cost_per_task_usd(tokens_per_task, usd_per_mtok) -> float:
    """$ per task = generated tokens × ($ per million tokens) / 10⁶ (chapter 4's cost per token)."""
    return check_number("tokens_per_task", tokens_per_task, lo=0.0, hi=_L.MAX_TOKENS * _L.MAX_STEPS) * \
        check_number("usd_per_mtok", usd_per_mtok, lo=0.0, hi=_L.MAX_USD, unit="USD/Mtok") / 1e6


def max_reasoning_tokens(slo_s, decode_tokens_per_s, *, fixed_s=0.0, steps=1) -> int:
    """Deterministic budget: the most tokens per step with steps·(fixed_s + tokens/speed) <= slo_s; -1 if even
    zero tokens miss the SLO."""
    slo = check_number("slo_s", slo_s, lo=0.0, lo_open=True, hi=_L.MAX_LATENCY_S, unit="s")
    speed = _speed("decode_tokens_per_s", decode_tokens_per_s)
    fixed = _latency("fixed_s", fixed_s)
    k = check_int("steps", steps, lo=1, hi=_L.MAX_STEPS)
    room = slo / k - fixed
    if room < -1e-12:
        return -1
    return int(math.floor(max(room, 0.0) * speed + 1e-9))


@dataclass(frozen=True)
class BudgetPlan:
    slo_s: float
    quantile: float
    steps: int
    fan_out: int
    max_reasoning_tokens: int        #: per step per branch; -1 when even 0 tokens miss the SLO
    reasoning_tokens: int            #: the budget evaluated below (given, or the max)
    latency_s: float                 #: task latency at ``quantile`` with ``reasoning_tokens``
    meets_slo: bool
    tokens_per_task: int             #: steps × fan_out × reasoning_tokens
    cost_per_task_usd: float | None  #: tokens_per_task × usd_per_mtok / 1e6 (None without a price)
    feasible: bool                   #: some budget >= 0 meets the SLO

    def summary(self) -> str:
        q = f"P{self.quantile * 100:g}"
        verdict = "meets" if self.meets_slo else "misses"
        cost = "" if self.cost_per_task_usd is None else f"; ${self.cost_per_task_usd:.4f} per task"
        most = (f"at most {self.max_reasoning_tokens:,} tokens/step fit" if self.feasible
                else "no reasoning budget fits")
        return (f"{q} task latency {self.latency_s * 1e3:,.0f} ms with {self.reasoning_tokens:,} tokens/step "
                f"{verdict} the {self.slo_s * 1e3:,.0f} ms SLO ({most}){cost}")


def plan_budget(slo_s, decode_tokens_per_s, *, quantile=0.99, steps=1, fan_out=1, reasoning_tokens=None,
                ttft_s=0.0, queue_s=0.0, tool_s=0.0, network_s=0.0, decode_sigma=0.0, decode_jitter=None,
                usd_per_mtok=None,
                n_samples: int = 20_000, seed: int = 0) -> BudgetPlan:
    """Largest reasoning budget per step whose task latency at ``quantile`` meets ``slo_s``, and its $/task.

    The task is ``steps`` stages of a ``fan_out``-way agent step (queue + TTFT + tokens ÷ speed + tool +
    network; any term a number or a Dist). Monte Carlo with common random numbers, so latency is monotone in
    the budget and the search is exact for the sampled tasks; with no randomness it equals the closed form.
    """
    slo = check_number("slo_s", slo_s, lo=0.0, lo_open=True, hi=_L.MAX_LATENCY_S, unit="s")
    q = check_fraction("quantile", quantile)
    k = check_int("steps", steps, lo=1, hi=10_000)
    n_fan = check_int("fan_out", fan_out, lo=1, hi=10_000)
    n = _n("n_samples", n_samples, hi=2_000_000)
    for nm, v in (("ttft_s", ttft_s), ("queue_s", queue_s), ("tool_s", tool_s), ("network_s", network_s)):
        as_dist(v, nm)     # a number or a Dist (None is not "no time": say 0)
    x_given = None if reasoning_tokens is None else _tokens("reasoning_tokens", reasoning_tokens)
    if usd_per_mtok is not None:
        check_number("usd_per_mtok", usd_per_mtok, lo=0.0, hi=_L.MAX_USD, unit="USD/Mtok")
    if k * n_fan * n > 50_000_000:
        raise LabsimError(f"steps·fan_out·n_samples = {k * n_fan * n:,} is too many draws; lower n_samples")
    step = agent_step(1, decode_tokens_per_s, ttft_s=ttft_s, queue_s=queue_s, tool_s=tool_s, network_s=network_s,
                      decode_sigma=decode_sigma, decode_jitter=decode_jitter)
    t = task(step, k, n_fan)
    kinds, pa, pb, pc, scale, reasoning, start, fan, emp = t._arrays()
    if t_det := (step.is_deterministic):
        n = 1
    a_s, b_s = _sample_ab(kinds, pa, pb, pc, scale, reasoning, start, fan, emp, n, _seed(seed))

    def lat(x: float) -> float:
        tot = _totals_at(a_s, b_s, fan, float(x))
        return float(np.quantile(tot, q, method="inverted_cdf")) if not t_det else float(tot[0])

    tol = 1e-12 * max(slo, 1.0)
    feasible = lat(0) <= slo + tol
    if not feasible:
        best = -1
    else:
        lo, hi = 0, 1
        while lat(hi) <= slo + tol:
            lo, hi = hi, hi * 2
            if hi > _L.MAX_TOKENS:
                raise LabsimError(f"slo_s = {slo:g} s at decode_tokens_per_s = {float(decode_tokens_per_s):g} allows "
                                  f"more than {_L.MAX_TOKENS:,} reasoning tokens per step; allowed: a budget up to "
                                  "that bound (lower the SLO or the speed)")
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if lat(mid) <= slo + tol:
                lo = mid
            else:
                hi = mid
        best = lo
    x = best if x_given is None else x_given
    x_eval = max(x, 0)
    latency = lat(x_eval)
    tokens = k * n_fan * x_eval
    cost = None if usd_per_mtok is None else cost_per_task_usd(tokens, usd_per_mtok)
    return BudgetPlan(slo, q, k, n_fan, best, x_eval, latency, bool(latency <= slo + tol), tokens, cost, feasible)

