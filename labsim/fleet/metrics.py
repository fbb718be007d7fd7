"""The vectorized core: configurations × replicas → SLO metrics (queue, prefill, stalls, jitter) and cost."""
from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from .. import catalog, latency, tco
from .. import limits as _L
from ..errors import (
    LabsimError,
    check_choice,
    check_mapping,
    check_number,
)
from .assumptions import _av
from .queueing import _erlang_c, _poisson_ppf
from .workload import SLO, Workload

_NORMAL = NormalDist()


def _dist_q(x, q: float) -> float:
    d = latency.as_dist(x)
    try:
        return d.quantile(q)
    except LabsimError:  # e.g. gamma: no closed-form quantile → Monte Carlo (seeded)
        return float(np.quantile(d.sample(200_000, 0), q))


def _random(x) -> bool:
    return latency.as_dist(x).var_s2 > 0


def _platform(chip: catalog.Chip) -> latency.Platform:
    return latency.platform(_av("platform_sram" if chip.memory_kind == "sram" else "platform_hbm"))


def _slo_key(s: SLO) -> str:
    return s.metric if s.metric != "first_tokens" else f"first_{s.tokens}_tokens"


@dataclass(frozen=True)
class _Consts:
    """Everything :func:`_metrics` needs from a workload on one memory kind that does not depend on the
    configuration or the replicas: rates, the jitter distribution, and per SLO its union-bound quantile q' with the
    jitter / tool / network quantiles at q'. Computed once per (workload, memory kind), not once per search
    round (the gamma quantiles, for instance, need a Monte Carlo)."""
    lam: float
    n_out: float
    cs2: float
    jit: latency.Dist
    slos: tuple          # (key, metric, seconds·(1 + 1e-12), q', z(q'), jitter_q', network (and tool) at q', tokens)
    background: bool
    c_floor: float       # half the smallest 1 − q': an Erlang C below it cannot make any wait quantile positive


def _consts(wl: Workload, memory_kind: str) -> _Consts:
    """The configuration-free constants of ``wl`` on ``memory_kind`` (a search computes them once per chip kind and
    passes them to every :func:`_metrics` call)."""
    plat = latency.platform(_av("platform_sram" if memory_kind == "sram" else "platform_hbm"))
    jit = latency.lognormal(1.0, plat.decode_sigma) if plat.decode_sigma > 0 else latency.const(1.0)
    tool_r, net_r = _random(wl.tool_s), _random(wl.network_s)
    specs = []
    for s in wl.slos:
        if s.metric == "ttft":
            qq = 1 - (1 - s.quantile) / (1 + net_r)
            fixed = _dist_q(wl.network_s, qq)
        elif s.metric == "tpot":
            qq = 1 - (1 - s.quantile) / 2
            fixed = 0.0
        elif s.metric == "first_tokens":
            qq = 1 - (1 - s.quantile) / (3 + net_r)
            fixed = _dist_q(wl.network_s, qq)
        else:  # task: union bound over every random term of every step
            qq = 1 - (1 - s.quantile) / (wl.steps * (3 + tool_r + net_r))
            fixed = (_dist_q(wl.tool_s, qq), _dist_q(wl.network_s, qq))
        specs.append((_slo_key(s), s.metric, s.seconds * (1 + 1e-12), qq, _NORMAL.inv_cdf(min(qq, 1 - 1e-12)),
                       jit.quantile(qq), fixed, s.tokens))
    c_floor = 0.5 * min([1.0 - sp[3] for sp in specs] + [1.0])
    return _Consts(wl.requests_per_s, float(wl.output_tokens), wl.output_tokens_cv ** 2 + jit.cv ** 2, jit,
                   tuple(specs), wl.background, c_floor)


def _metrics(wl: Workload, chip: catalog.Chip, t: dict, replicas: np.ndarray, k: _Consts | None = None) -> dict:
    """All SLO metrics and loads for configuration arrays ``t`` (broadcast with ``replicas``); ``k``: the workload's
    :func:`_consts` on this chip's memory kind when the caller already has them."""
    k = _consts(wl, chip.memory_kind) if k is None else k
    r = np.asarray(replicas, dtype=np.float64)
    lam = k.lam
    N = t["slots"] * r                                # servers of the M/G/N queue
    lam_rep = lam / r
    pf = t["prefill"]
    tpot = t["tpot"]
    multi = t["multi"]
    rho_pf = np.where(multi, lam_rep * pf, 0.0)       # 0 for one slot: nothing to stall
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        S = pf + k.n_out * tpot / np.maximum(1.0 - rho_pf, 1e-300)    # one slot's service time (mean)
        S = np.where(rho_pf < 1.0, S, np.inf)
        a = lam * S                                   # offered load
        rho = a / N
    stable = rho < 1.0
    shape = np.broadcast_shapes(np.shape(N), np.shape(a))

    def full(x):
        return x if np.shape(x) == shape else np.broadcast_to(x, shape)

    N, a, S, rho, stable = full(N), full(a), full(S), full(rho), full(stable)
    if any(sp[1] in ("ttft", "first_tokens", "task") for sp in k.slos):     # only these wait in the queue
        C = _erlang_c(N.ravel(), np.where(stable, a, 0.0).ravel(), k.c_floor).reshape(shape)
    else:
        C = np.zeros(shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        drain = np.where(stable, N / S - lam, np.inf)    # N·μ − λ
    stretch = (1 + k.cs2) / 2.0

    def wait_q(q):
        with np.errstate(divide="ignore", invalid="ignore"):
            tq = np.where(C > (1 - q), np.log(np.maximum(C, 1e-300) / (1 - q)) / drain, 0.0)
        return np.where(stable, np.maximum(tq, 0.0) * stretch, np.inf)

    def stalls_q(n_tokens, q, z):
        mu = full(np.where(multi, lam_rep * n_tokens * tpot, 0.0)).astype(np.float64).ravel()
        return _poisson_ppf(mu, q, z).reshape(shape) * pf

    out = {"rho": rho, "stable": stable, "service_s": S, "prefill_s": full(pf), "tpot_s": full(tpot), "slots": N}
    values, ok = {}, stable.copy()
    for key, metric, target, qq, z, jit_q, fixed, tokens in k.slos:
        if metric == "ttft":
            v = wait_q(qq) + pf + fixed
        elif metric == "tpot":
            p_stall = np.where(multi, -np.expm1(-lam_rep * tpot), 0.0)
            v = tpot * jit_q + np.where(p_stall > 1 - qq, pf, 0.0)
        elif metric == "first_tokens":
            v = wait_q(qq) + pf + tokens * tpot * jit_q + stalls_q(tokens, qq, z) + fixed
        else:
            v = wl.steps * (wait_q(qq) + pf + k.n_out * tpot * jit_q + stalls_q(k.n_out, qq, z) + fixed[0]
                            + fixed[1])
        v = np.where(stable, v, np.inf)
        v = full(v)
        values[key] = v
        ok &= v <= target
    if k.background:
        ok &= rho <= _av("max_utilization")
    out["values"] = values
    out["ok"] = ok
    return out


def _costs(wl: Workload, chip: catalog.Chip, price: float, t: dict, replicas, rho, cost_overrides) -> dict:
    """Chapter-4 cost of configs × replicas: capex = chips × price; power from the catalog × system factor."""
    r = np.asarray(replicas, dtype=np.float64)
    chips = t["chips"] * r
    capex = chips * price
    factor = _av("system_power_factor_sram" if chip.memory_kind == "sram" else "system_power_factor_hbm")
    kw = chips * (chip.power_w or 0.0) * factor / 1e3   # unknown power: priced at 0, marked infeasible
    idle = _av("idle_power_fraction")
    load = np.clip(np.nan_to_num(rho, nan=1.0, posinf=1.0), 0.0, 1.0) * wl.active_hours_per_day / 24.0
    util = idle + (1 - idle) * load
    inp = tco.TcoInputs(capex_usd=capex, system_power_kw=kw, chips_per_system=1, chips_per_unit=1,
                        tokens_per_s_per_user=wl.output_tokens_per_s, batch=1, utilization=util,
                        label=f"{wl.name} on {chip.name}")
    if cost_overrides:
        inp = inp.replace(**dict(cost_overrides))
    res = tco.evaluate(inp)
    return {"chips": chips, "capex_usd": capex, "power_kw": kw, "monthly_usd": np.asarray(res.monthly_total_usd),
            "usd_per_mtok": np.asarray(res.usd_per_mtok), "power_utilization": util}


def _price(chip: catalog.Chip, prices_usd, wl: Workload) -> float | None:
    """Price per chip: ``prices_usd[chip]`` if given, else the catalog price (what ``capacity.plan(...)
    .price_usd_per_chip`` reports by default; read directly, as a whole plan per call would cost a millisecond)."""
    if prices_usd and chip.name in prices_usd:
        return float(prices_usd[chip.name])       # checked by _check_prices
    return None if chip.price_usd is None else float(chip.price_usd)


def _check_prices(prices_usd) -> dict[str, float]:
    """``prices_usd``: None or {catalog chip name: USD per chip > 0}; an unknown chip name is an error (a typo
    would otherwise silently leave the catalog price in place)."""
    prices = check_mapping("prices_usd", prices_usd, allow_none=True)
    names = catalog.chips()
    out = {}
    for k, v in prices.items():
        check_choice("prices_usd key", k, names, what="chip")
        out[k] = check_number(f"prices_usd[{k!r}]", v, lo=0.0, lo_open=True, hi=_L.MAX_USD, unit="USD")
    return out


_COST_KEYS = ("life_years", "cost_of_capital", "electricity_usd_per_kwh", "hours_per_month", "pue",
              "colocation_usd_per_kw_month")


def _check_costs(cost_overrides) -> dict[str, float]:
    costs = check_mapping("cost_overrides", cost_overrides, allow_none=True)
    for k, v in costs.items():
        check_choice("cost_overrides key", k, _COST_KEYS, what="cost input")
        rule = tco.FIELDS[k]
        costs[k] = check_number(f"cost_overrides[{k!r}]", v, lo=rule.get("lo"), hi=rule.get("hi"),
                                unit=rule.get("unit", ""))
    return costs
