"""What-ifs around the optimizer: a learner's proposed fleet, the SLO where the choice flips, a next-generation
SRAM chip, and a Monte Carlo check of a candidate's task tail."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from .. import catalog, latency
from .. import limits as _L
from ..errors import (
    LabsimError,
    check_choice,
    check_int,
    check_name,
    check_number,
)
from .candidate import Candidate, _pct, evaluate_candidate
from .metrics import _check_costs, _check_prices, _metrics, _platform
from .optimizer import search
from .queueing import _erlang_c
from .speed import _chip, _chip_names_or_alias, _chips, _table
from .workload import METRICS, Scenario, Workload, _check_workload, _workloads, with_slo


@dataclass(frozen=True)
class FleetCheck:
    candidates: Mapping[str, Candidate]
    missing: tuple[str, ...]
    capex_usd: float
    monthly_usd: float

    @property
    def ok(self) -> bool:
        return not self.missing and all(c.feasible for c in self.candidates.values())

    def report(self) -> str:
        lines = [("✓ " if c.feasible else "✗ ") + c.summary() for c in self.candidates.values()]
        for m in self.missing:
            lines.append(f"✗ {m}: no hardware proposed")
        lines.append(f"total: capex ${self.capex_usd / 1e6:,.2f} M, ${self.monthly_usd / 1e3:,.1f} k per month")
        return "\n".join(lines)


_PROPOSAL_KEYS = {"chip", "batch", "replicas", "layout_multiplier", "microbatches"}


def check_fleet(workloads, proposal: Mapping[str, Mapping], *, cost_overrides=None, prices_usd=None) -> FleetCheck:
    """Verify a proposed fleet: ``proposal[workload] = {"chip", "batch", "replicas", "layout_multiplier"=1,
    "microbatches"=1}``. Every SLO of every workload is evaluated; the cost is summed."""
    if isinstance(workloads, Scenario) and cost_overrides is None:
        cost_overrides = dict(workloads.cost_overrides)
    wls = {w.name: w for w in _workloads(workloads)}
    if not wls:
        raise LabsimError("workloads is empty; give the workloads the proposal is for")
    cost_overrides = _check_costs(cost_overrides)
    prices_usd = _check_prices(prices_usd)
    if not isinstance(proposal, Mapping):
        raise LabsimError(f"proposal must map workload name -> settings dict, got {type(proposal).__name__}")
    for k, v in proposal.items():
        check_choice("proposal key", k, wls, what="workload")
        if not isinstance(v, Mapping):
            raise LabsimError(f"proposal[{k!r}] must be a dict with chip, batch, replicas, got {v!r}")
        for key in v:
            check_choice(f"proposal[{k!r}] key", key, _PROPOSAL_KEYS, what="setting")
        if "chip" not in v or "replicas" not in v:
            raise LabsimError(f"proposal[{k!r}] needs at least 'chip' and 'replicas'")
    cands = {}
    for k, v in proposal.items():
        cands[k] = evaluate_candidate(wls[k], v["chip"], batch=v.get("batch", 1), replicas=v["replicas"],
                                      layout_multiplier=v.get("layout_multiplier", 1),
                                      microbatches=v.get("microbatches", 1), cost_overrides=cost_overrides,
                                      prices_usd=prices_usd)
    missing = tuple(k for k in wls if k not in proposal)
    return FleetCheck(MappingProxyType(cands), missing, float(sum(c.capex_usd for c in cands.values())),
                      float(sum(c.monthly_usd for c in cands.values())))


def flip_slo(workload: Workload, metric: str, lo_s: float, hi_s: float, chip_names: Sequence | None = None, *,
             tol_s: float = 1e-3, chips: Sequence | None = None, **search_kwargs) -> float | None:
    """The SLO (seconds, between ``lo_s`` and ``hi_s``) at which the chosen memory kind changes ("sram" ↔ "hbm"):
    the choice at ``hi_s`` holds for every SLO above the returned value. None if the kind is the same at both ends.
    Infeasible counts as its own outcome. Bisection to ``tol_s``, searching ``chip_names`` (default: every catalog
    chip; ``chips=`` is its old name, still accepted)."""
    wl = _check_workload(workload)
    check_choice("metric", metric, METRICS, what="SLO metric")
    lo = check_number("lo_s", lo_s, lo=0.0, lo_open=True, hi=_L.MAX_LATENCY_S, unit="s")
    hi = check_number("hi_s", hi_s, lo=0.0, lo_open=True, hi=_L.MAX_LATENCY_S, unit="s")
    if hi <= lo:
        raise LabsimError(f"hi_s = {hi:g} s must be above lo_s = {lo:g} s")
    tol = check_number("tol_s", tol_s, lo=(hi - lo) * 1e-9, hi=_L.MAX_LATENCY_S, unit="s")
    chip_objs = _chips(_chip_names_or_alias(chip_names, chips))

    def kind(s):
        b = search(with_slo(wl, metric, s), chip_objs, **search_kwargs).best
        return None if b is None else b.memory_kind

    k_hi = kind(hi)
    if kind(lo) == k_hi:
        return None
    while hi - lo > tol:
        mid = (lo + hi) / 2
        if kind(mid) == k_hi:
            hi = mid
        else:
            lo = mid
    return hi


def sram_variant(base: str = "groq-lpu-v1", memory_factor: float = 4.0, *, name: str | None = None,
                 price_factor: float = 1.0, power_factor: float = 1.0) -> catalog.Chip:
    """Register (replacing any earlier one) a hypothetical next-generation chip: ``base`` with ``memory_factor`` ×
    its SRAM, price and power scaled by [A] factors (the report: next-gen SRAM 'not publicly disclosed', [huatai26]
    Q10). Bandwidth, compute and system shape are unchanged [A]."""
    c = _chip(base, "base")
    f = check_number("memory_factor", memory_factor, lo=0.01, hi=1e4)
    pf = check_number("price_factor", price_factor, lo=1e-3, hi=1e3)
    wf = check_number("power_factor", power_factor, lo=1e-3, hi=1e3)
    name = f"{c.name}-sram{f:g}x" if name is None else check_name("name", name)
    d: dict[str, Any] = {"name": name, "display_name": f"{c.display_name} with {f:g}× SRAM [A]", "vendor": c.vendor,
                         "memory_kind": c.memory_kind, "memory_bytes": c.memory_bytes * f,
                         "memory_bandwidth_bytes_per_s": c.memory_bandwidth_bytes_per_s,
                         "peak_ops_per_s": dict(c.peak_ops_per_s), "extra": dict(c.extra)}
    for k in ("clock_hz", "chips_per_node", "chips_per_rack", "sync_domain_chips", "link_bandwidth_bytes_per_s",
              "link_latency_s"):
        v = getattr(c, k)
        if v is not None:
            d[k] = v
    if c.power_w is not None:
        d["power_w"] = c.power_w * wf
    if c.price_usd is not None:
        d["price_usd"] = c.price_usd * pf
    try:
        chip = catalog.add_chip(d, replace=True)
    except LabsimError as exc:
        raise LabsimError(f"memory_factor = {f:g}, price_factor = {pf:g}, power_factor = {wf:g} on {c.name!r}: "
                          f"{exc}") from None
    return chip     # no memo to clear: speed tables and searches are keyed on the Chip's values


def verify_task_tail(workload: Workload, candidate: Candidate, *, n: int = 100_000, seed: int = 0) -> dict:
    """Monte Carlo check of a candidate's task (or single-call) latency with chapter 5's machinery: one step =
    a queue wait drawn from the M/M/N tail + prefill + output tokens × seconds/token × platform jitter + tool +
    network, chained ``steps`` times (``latency.task``). Returns {"p99_s", "bound_s"} for comparison with the
    union bound the optimizer uses (the bound must be ≥ the simulated P99)."""
    wl = _check_workload(workload)
    if not isinstance(candidate, Candidate):
        raise LabsimError(f"candidate must be a fleet.Candidate (e.g. search(...).best), got {candidate!r}")
    if candidate.workload != wl.name:
        raise LabsimError(f"candidate is for workload {candidate.workload!r}, not {wl.name!r}")
    c = _chip(candidate.chip)
    plat = _platform(c)
    t = _table(wl, c, (candidate.batch,), (candidate.layout_multiplier,), (candidate.microbatches,))
    met = _metrics(wl, c, t, np.array([candidate.replicas]))
    # queue wait: 0 with probability 1 − C (a free slot), else exponential with the M/M/N drain rate, stretched by
    # the same (1 + C_s²)/2 correction the optimizer uses. Prefill stalls are left out of this check.
    N = float(np.asarray(met["slots"]).ravel()[0])
    S = float(np.asarray(met["service_s"]).ravel()[0])
    lam = wl.requests_per_s
    n = check_int("n", n, lo=100, hi=10_000_000)
    seed = check_int("seed", seed, lo=0, hi=2**32 - 1)
    if not (math.isfinite(S) and N / S > lam):
        raise LabsimError(f"candidate is overloaded ({_pct(candidate.utilization)} of its slots busy): its queue grows "
                          "without bound, so there is no task tail to simulate; add replicas")
    C = float(_erlang_c(np.array([N]), np.array([lam * S]))[0])
    jit = latency.lognormal(1.0, plat.decode_sigma) if plat.decode_sigma > 0 else latency.const(1.0)
    cs2 = wl.output_tokens_cv ** 2 + jit.cv ** 2
    mean_tail = (1 + cs2) / 2 / max(N / S - lam, 1e-300)
    step = latency.agent_step(wl.output_tokens, 1.0 / candidate.seconds_per_token, ttft_s=candidate.prefill_s,
                              decode_sigma=plat.decode_sigma, tool_s=wl.tool_s, network_s=wl.network_s, name=wl.name)
    x = latency.task(step, wl.steps).sample(n, seed)
    rng = np.random.default_rng(seed)
    for _ in range(wl.steps):
        x = x + np.where(rng.random(x.size) < C, rng.exponential(mean_tail, x.size), 0.0)
    bound = [v for k, v in candidate.slo_values.items() if k == "task"]
    return {"p99_s": float(np.quantile(x, 0.99, method="inverted_cdf")), "bound_s": bound[0] if bound else None,
            "tails": latency.tails(x)}
