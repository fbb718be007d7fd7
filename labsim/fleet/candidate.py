"""One candidate (chip, batch, layout, replicas) evaluated: its SLO values, feasibility, cost; grids of them."""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from .. import catalog
from ..errors import (
    LabsimError,
    check_int,
    check_ints,
)
from .assumptions import _av
from .metrics import _check_costs, _check_prices, _costs, _metrics, _price, _slo_key
from .speed import _chip, _table
from .workload import Workload, _check_workload


@dataclass(frozen=True)
class Candidate:
    """One evaluated way to serve a workload."""
    workload: str
    chip: str
    memory_kind: str
    batch: int
    microbatches: int
    layout_multiplier: int
    chips_per_replica: int
    replicas: int
    chips: int
    nodes: int
    racks: int
    capex_usd: float
    power_kw: float
    monthly_usd: float
    usd_per_mtok: float
    utilization: float                 #: fraction of the fleet's slots busy while active
    prefill_s: float
    seconds_per_token: float
    slo_values: Mapping[str, float]    #: metric -> modeled quantile (s)
    slo_targets: Mapping[str, float]   #: metric -> target (s)
    fits: bool
    feasible: bool
    dominant_bound: str
    crosses_cliff: bool
    failed: tuple[str, ...] = ()       #: human-readable reasons when not feasible

    def summary(self) -> str:
        slo = "; ".join(f"{k} {_ms(self.slo_values[k])}/{self.slo_targets[k] * 1e3:,.0f} ms"
                        for k in self.slo_values) or "no SLO (background)"
        verdict = "meets every SLO" if self.feasible else "FAILS: " + "; ".join(self.failed)
        return (f"{self.workload}: {self.replicas:,} × {self.chips_per_replica:,} {self.chip} (batch {self.batch}"
                f"{f' × {self.microbatches} microbatches' if self.microbatches > 1 else ''}) = {self.chips:,} chips, "
                f"{self.racks:,} racks, capex ${self.capex_usd / 1e6:,.2f} M, ${self.monthly_usd / 1e3:,.1f} k/month, "
                f"${self.usd_per_mtok:,.3f}/M output tokens, slots {_pct(self.utilization)} busy; {slo}; {verdict}")


def _ms(seconds) -> str:
    """Seconds as whole milliseconds; "unbounded" for the infinite wait of an overloaded queue."""
    return f"{seconds * 1e3:,.0f}" if math.isfinite(seconds) else "unbounded"


def _pct(fraction) -> str:
    return f"{fraction:.0%}" if math.isfinite(fraction) else "over 100 %"


def _racks(chip: catalog.Chip, chips):
    per_node = chip.chips_per_node or 1
    per_rack = chip.chips_per_rack or per_node
    return int(math.ceil(chips / per_node - 1e-9)), int(math.ceil(chips / per_rack - 1e-9))


def _make_candidate(wl, chip, t, i, r, met, cost, price_known=True) -> Candidate:
    targets = {}
    for s in wl.slos:
        targets[_slo_key(s)] = s.seconds
    vals = {k: float(np.asarray(v).ravel()[0]) for k, v in met["values"].items()}
    chips = int(round(float(np.asarray(cost["chips"]).ravel()[0])))
    nodes, racks = _racks(chip, chips)
    rho = float(np.asarray(met["rho"]).ravel()[0])
    fits = bool(t["fits"][i])
    failed = []
    if not fits:
        if chip.memory_kind == "hbm" and chip.sync_domain_chips and t["chips"][i] > chip.sync_domain_chips:
            failed.append(f"tensor parallelizm over {int(t['chips'][i])} GPUs exceeds the "
                          f"{chip.sync_domain_chips}-GPU NVLink domain")
        else:
            failed.append("does not fit: model + KV cache for this batch exceed the replica's memory")
    if not bool(np.asarray(met["stable"]).ravel()[0]):
        failed.append(f"overloaded: slots would be {_pct(rho)} busy (needs < 100 %)")
    elif wl.background and rho > _av("max_utilization"):
        failed.append(f"background load {rho:.0%} above max_utilization {_av('max_utilization'):.0%}")
    for k, v in vals.items():
        if v > targets[k] * (1 + 1e-12):
            failed.append(f"{k} {_ms(v)} ms > SLO {targets[k] * 1e3:,.0f} ms")
    if not price_known:
        failed.append("no published price in the catalog (pass prices_usd)")
    if chip.power_w is None:
        failed.append("no published power in the catalog (register a variant with catalog.add_chip)")
    return Candidate(
        workload=wl.name, chip=chip.name, memory_kind=chip.memory_kind, batch=int(t["batch"][i]),
        microbatches=int(t["micro"][i]), layout_multiplier=int(t["mult"][i]), chips_per_replica=int(t["chips"][i]),
        replicas=int(r), chips=chips, nodes=nodes, racks=racks,
        capex_usd=float(np.asarray(cost["capex_usd"]).ravel()[0]),
        power_kw=float(np.asarray(cost["power_kw"]).ravel()[0]),
        monthly_usd=float(np.asarray(cost["monthly_usd"]).ravel()[0]),
        usd_per_mtok=float(np.asarray(cost["usd_per_mtok"]).ravel()[0]), utilization=rho,
        prefill_s=float(t["prefill"][i]), seconds_per_token=float(t["tpot"][i]),
        slo_values=MappingProxyType(vals), slo_targets=MappingProxyType(targets), fits=fits,
        feasible=not failed, dominant_bound=str(t["bound"][i]), crosses_cliff=bool(t["domains"][i] > 1),
        failed=tuple(failed))


def _sub(t, idx):
    return {k: (v[idx] if isinstance(v, np.ndarray) else v) for k, v in t.items()}


def fastest(workload: Workload, chip, *, batches=None, layout_multipliers=None, microbatches=None) -> dict:
    """The fastest configuration of ``chip`` for ``workload`` in the search grid (chapter 3's decode speed at
    batch ≥ 1, no queue): {"tokens_per_s_per_user", "chips_per_replica", "batch", "microbatches", "bound"}.
    The ceiling no number of replicas can lift; None values if no layout holds the model."""
    wl = _check_workload(workload)
    t = _table(wl, _chip(chip), batches, layout_multipliers, microbatches)
    tpot = np.where(t["fits"], t["tpot"], np.inf)
    i = int(np.argmin(tpot))
    if not np.isfinite(tpot[i]):
        return {"tokens_per_s_per_user": None, "chips_per_replica": None, "batch": None, "microbatches": None,
                "bound": None}
    return {"tokens_per_s_per_user": float(1.0 / tpot[i]), "chips_per_replica": int(t["chips"][i]),
            "batch": int(t["batch"][i]), "microbatches": int(t["micro"][i]), "bound": str(t["bound"][i])}


def evaluate_candidate(workload: Workload, chip, *, batch: int = 1, replicas: int = 1, layout_multiplier: int = 1,
                       microbatches: int = 1, cost_overrides=None, prices_usd=None) -> Candidate:
    """Evaluate one candidate (scalar): its SLO values, feasibility with reasons, and its cost.

    Uses the same vectorized core as :func:`search`, on a one-element grid."""
    wl = _check_workload(workload)
    c = _chip(chip)
    prices_usd = _check_prices(prices_usd)
    batch = check_int("batch", batch, lo=1, hi=100_000)
    replicas = check_int("replicas", replicas, lo=1, hi=10_000_000)
    layout_multiplier = check_int("layout_multiplier", layout_multiplier, lo=1, hi=1024)
    microbatches = check_int("microbatches", microbatches, lo=1, hi=100_000)
    if c.memory_kind == "hbm" and microbatches != 1:
        raise LabsimError(f"microbatches = {microbatches} is out of range for HBM chip {c.name!r}; allowed: 1")
    return _evaluate(wl, c, batch, replicas, layout_multiplier, microbatches, _check_costs(cost_overrides), prices_usd)


def _evaluate(wl: Workload, c: catalog.Chip, batch: int, replicas: int, layout_multiplier: int, microbatches: int,
              costs: dict, prices_usd: dict, k=None) -> Candidate:
    """:func:`evaluate_candidate` on checked inputs (``k``: the workload's constants, if the caller has them)."""
    t = _table(wl, c, (batch,), (layout_multiplier,), (microbatches,))
    price = _price(c, prices_usd, wl)
    r = np.array([replicas])
    met = _metrics(wl, c, t, r, k)
    cost = _costs(wl, c, price if price is not None else 0.0, t, r, met["rho"], costs)
    return _make_candidate(wl, c, t, 0, replicas, met, cost, price_known=price is not None)


def candidate_table(workload: Workload, chip, *, replicas, batches=None, layout_multipliers=None,
                    microbatches=None, cost_overrides=None, prices_usd=None) -> dict[str, np.ndarray]:
    """Every candidate of an explicit grid (configs × ``replicas``) as flat arrays: chip configuration, replicas,
    SLO values, ``feasible``, ``monthly_usd``, ``usd_per_mtok``. For exploring and for brute-force tests."""
    wl = _check_workload(workload)
    c = _chip(chip)
    prices_usd = _check_prices(prices_usd)
    reps = [replicas] if isinstance(replicas, (int, np.integer)) and not isinstance(replicas, bool) else replicas
    r = np.asarray(check_ints("replicas", reps, lo=1, hi=10_000_000, max_len=100_000), dtype=np.float64)
    t = _table(wl, c, batches, layout_multipliers, microbatches)
    price = _price(c, prices_usd, wl)
    tt = {k: (v[:, None] if isinstance(v, np.ndarray) else v) for k, v in t.items()}
    met = _metrics(wl, c, tt, r[None, :])
    cost = _costs(wl, c, price if price is not None else 0.0, tt, r[None, :], met["rho"], _check_costs(cost_overrides))
    shape = met["ok"].shape
    feas = met["ok"] & np.broadcast_to(tt["fits"], shape) & (price is not None) & (c.power_w is not None)
    out = {"batch": np.broadcast_to(tt["batch"], shape).ravel(),
           "microbatches": np.broadcast_to(tt["micro"], shape).ravel(),
           "layout_multiplier": np.broadcast_to(tt["mult"], shape).ravel(),
           "chips_per_replica": np.broadcast_to(tt["chips"], shape).ravel(),
           "replicas": np.broadcast_to(r[None, :], shape).ravel(), "feasible": feas.ravel(),
           "monthly_usd": np.broadcast_to(cost["monthly_usd"], shape).ravel(),
           "usd_per_mtok": np.broadcast_to(cost["usd_per_mtok"], shape).ravel(),
           "utilization": np.asarray(met["rho"]).ravel()}
    for k, v in met["values"].items():
        out[k] = np.asarray(v).ravel()
    return out
