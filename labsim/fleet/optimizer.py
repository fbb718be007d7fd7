"""The search: per workload the cheapest candidate meeting every SLO, and the fleet of those choices."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from tqdm.auto import tqdm

from .. import _memo, catalog, latency
from ..errors import (
    LabsimError,
    check_bool,
    check_int,
    check_ints,
)
from .assumptions import _av
from .candidate import Candidate, _evaluate, _ms, _racks, _sub, candidate_table
from .metrics import _check_costs, _check_prices, _consts, _costs, _metrics, _price, _slo_key
from .speed import _chip_names_or_alias, _chips, _grid, _table
from .workload import Scenario, Workload, _check_workload, _workloads


@dataclass(frozen=True)
class Choice:
    """The cheapest feasible candidate of one workload (``best``), or why there is none."""
    workload: Workload
    best: Candidate | None
    per_chip: Mapping[str, Candidate | str]   #: chip -> its cheapest feasible candidate, or why none
    candidates_evaluated: int

    @property
    def feasible(self) -> bool:
        return self.best is not None

    @property
    def reason(self) -> str:
        """Why no chip works (empty when feasible)."""
        if self.best is not None:
            return ""
        return "; ".join(f"{k}: {v}" for k, v in self.per_chip.items())

    def summary(self) -> str:
        if self.best is None:
            return f"{self.workload.name}: INFEASIBLE — " + self.reason
        return self.best.summary()


def _why_none(wl, chip, t, met_inf, price, fits) -> str:
    """Explain why a chip has no feasible candidate: which bound or which SLO fails even with unlimited replicas."""
    if chip.power_w is None:
        return "no published power in the catalog"
    if price is None:
        return "no published price in the catalog (pass prices_usd={name: usd})"
    if not fits.any():
        return "no layout holds the model and its KV cache"
    ok = met_inf["ok"][:, 0] & fits
    if ok.any():
        return f"needs more than {_av('max_replicas'):,} replicas"
    parts = []
    for s in wl.slos:
        key = _slo_key(s)
        v = np.where(fits, met_inf["values"][key][:, 0], np.inf)
        j = int(np.argmin(v))
        if v[j] > s.seconds:
            parts.append(f"{s.label} missed: best {_ms(v[j])} ms even with unlimited replicas "
                         f"({int(t['chips'][j])} chips/replica, batch {int(t['batch'][j])}; "
                         f"speed bound: {t['bound'][j]}, {1 / t['tpot'][j]:,.0f} tok/s per user)")
    return "; ".join(parts) or "no single layout meets every SLO at once"


def _dist_key(x):
    """A distribution as a value: (kind, parameters). None for an empirical one (its samples live in an array the
    caller may still change), so a search with one is computed and not memoized."""
    d = latency.as_dist(x)
    return ("dist", d.kind, d.params) if d.samples is None else None


def _physics_key(wl: Workload):
    """What the SLO metrics of ``wl`` depend on (not its name, description or sources); None if not a value."""
    tool, net = _dist_key(wl.tool_s), _dist_key(wl.network_s)
    if tool is None or net is None:
        return None
    return (catalog.model(wl.model), wl.precision, float(wl.arrival_rate_per_s), wl.prompt_tokens, wl.output_tokens,
            tuple((s.metric, s.seconds, s.quantile, s.tokens) for s in wl.slos), wl.steps, tool, net,
            float(wl.output_tokens_cv), wl.context, wl.background)


_SEARCH_POINTS = 15     # replica counts probed per configuration and round (a 16-ary search)


def clear_cache(speed_tables: bool = True) -> None:
    """Forget memoized searches and parsed scenario files (and the chapter-3 speed tables unless
    ``speed_tables=False``). Every memo is keyed on the values it depends on (``labsim._memo``), so this is only
    needed to free memory or to time a search from scratch."""
    speed_tables = check_bool("speed_tables", speed_tables)
    _memo.clear("fleet.search", "fleet.scenario")
    if speed_tables:
        _memo.clear("fleet.speed")


def _fewest_replicas(wl: Workload, c: catalog.Chip, t: dict, rmax: int, k=None):
    """(indices of the configurations that meet every SLO at ``rmax`` replicas, their fewest feasible replicas,
    the metrics at ``rmax`` for explaining failures, candidates evaluated); ``k``: the workload's constants.

    A vectorized 16-ary search over all configurations at once (feasibility is monotone in replicas). Invariant:
    ``lo`` infeasible (or 0), ``hi`` feasible. The bracket starts at the stability bound: with r replicas the r·c
    slots must exceed the offered load λ·S, and S ≥ prefill + N·t, so every r ≤ λ·(prefill + N·t)/c is overloaded.
    The first round probes geometrically spaced replica counts above that bound (most configurations need only a
    few more), later rounds split each bracket evenly: ≈ 3–4 rounds instead of a bisection's 15."""
    k = _consts(wl, c.memory_kind) if k is None else k
    fits = np.asarray(t["fits"], dtype=bool)
    tt = {n: (v[:, None] if isinstance(v, np.ndarray) else v) for n, v in t.items()}
    top = _metrics(wl, c, tt, np.array([[float(rmax)]]), k)
    idx = np.nonzero(top["ok"][:, 0] & fits)[0]
    ts = {n: (v[idx][:, None] if isinstance(v, np.ndarray) else v) for n, v in t.items()}
    s_min = ts["prefill"][:, 0] + wl.output_tokens * ts["tpot"][:, 0]
    lo = np.clip(np.floor(wl.requests_per_s * s_min / ts["slots"][:, 0] * (1 - 1e-9)), 0.0, float(rmax) - 1.0)
    hi = np.full(idx.size, float(rmax))
    n_eval = fits.size
    K = _SEARCH_POINTS
    j = np.arange(K, dtype=np.float64)
    first = True
    while np.any(hi - lo > 1):
        act = np.nonzero(hi - lo > 1)[0]                  # only the configurations still bracketing
        w = (hi[act] - lo[act])[:, None]
        step = w ** (j / K) if first else w * (j + 1) / (K + 1)
        mids = np.minimum(lo[act][:, None] + np.ceil(step), hi[act][:, None])   # sorted, in (lo, hi]
        okm = _metrics(wl, c, {n: (v[act] if isinstance(v, np.ndarray) else v) for n, v in ts.items()},
                       mids, k)["ok"]
        n_eval += okm.size
        anyok = okm.any(axis=1)
        f = np.where(anyok, np.argmax(okm, axis=1), K)    # first feasible probe (K: none)
        rows = np.arange(act.size)
        hi[act] = np.where(anyok, mids[rows, np.minimum(f, K - 1)], hi[act])
        lo[act] = np.where(f > 0, mids[rows, np.maximum(f - 1, 0)], lo[act])
        first = False
    return idx, hi, top, n_eval


def search(workload: Workload, chip_names: Sequence | None = None, *, batches=None, layout_multipliers=None,
           microbatches=None, replicas=None, cost_overrides=None, prices_usd=None,
           max_replicas: int | None = None, progress: bool = False,
           chips: Sequence | None = None) -> Choice:
    """The cheapest candidate of ``workload`` that meets every SLO, over ``chip_names`` (default: every catalog
    chip; ``chips=`` is its old name, still accepted).

    ``replicas=None`` finds, for every configuration at once, the fewest replicas meeting the SLOs by a vectorized
    16-ary search (every metric falls and cost rises with replicas, so the fewest feasible replicas is that
    configuration's cheapest); an explicit sequence evaluates the full grid instead. Results are memoized on the
    values they depend on (a repeated search with the same workload physics, chips and inputs returns at once).
    """
    wl = _check_workload(workload)
    costs = _check_costs(cost_overrides)
    prices_usd = _check_prices(prices_usd)
    progress = check_bool("progress", progress)
    rmax = check_int("max_replicas", _av("max_replicas") if max_replicas is None else max_replicas, lo=1,
                     hi=10_000_000)
    chip_objs = _chips(_chip_names_or_alias(chip_names, chips))   # unknown names raise here, not per chip below
    _grid(batches, layout_multipliers, microbatches, chip_objs[0])   # bad grids raise here too
    for nm, g in (("batches", batches), ("layout_multipliers", layout_multipliers), ("microbatches", microbatches)):
        if g is not None:
            check_ints(nm, g, lo=1, max_len=64)
    if replicas is None:
        reps = None
    else:
        one = isinstance(replicas, (int, np.integer)) and not isinstance(replicas, bool)
        reps = check_ints("replicas", [replicas] if one else replicas, lo=1, hi=10_000_000, max_len=100_000)
    out = _search(wl, tuple(chip_objs), batches, layout_multipliers, microbatches, reps, costs, prices_usd, rmax,
                  progress)
    return out if out.workload is wl else dataclasses.replace(out, workload=wl)


def _search_key(wl, chip_objs, batches, layout_multipliers, microbatches, reps, costs, prices_usd, rmax, progress):
    """Everything a search's result depends on, as values (None: not memoizable); ``progress`` only shows a bar."""
    physics = _physics_key(wl)
    if physics is None:
        return None
    return (wl.name, physics, float(wl.active_hours_per_day), chip_objs,
            *(None if g is None else tuple(g) for g in (batches, layout_multipliers, microbatches)), reps,
            tuple(sorted(costs.items())), tuple(sorted(prices_usd.items())), rmax)


@_memo.memo(256, group="fleet.search", key=_search_key)
def _search(wl, chip_objs, batches, layout_multipliers, microbatches, reps, costs, prices_usd, rmax,
            progress) -> Choice:
    """:func:`search` on checked inputs."""
    per_chip: dict[str, Candidate | str] = {}
    best: Candidate | None = None
    n_eval = 0
    consts = {}
    for c in tqdm(chip_objs, desc=f"fleet: {wl.name}", delay=1.0, disable=not progress, unit="chip"):
        try:
            t = _table(wl, c, batches, layout_multipliers, microbatches)
        except LabsimError as exc:   # e.g. a chip without a published peak: chapter 3 cannot time it
            per_chip[c.name] = f"chapter 3 cannot time it: {exc}"
            continue
        price = _price(c, prices_usd, wl)
        fits = np.asarray(t["fits"], dtype=bool)
        if c.memory_kind not in consts:
            consts[c.memory_kind] = _consts(wl, c.memory_kind)
        k = consts[c.memory_kind]
        if reps is not None:
            tab = candidate_table(wl, c, replicas=reps, batches=batches, layout_multipliers=layout_multipliers,
                                  microbatches=microbatches, cost_overrides=costs, prices_usd=prices_usd)
            n_eval += tab["feasible"].size
            if not tab["feasible"].any():
                r_inf = np.array([[float(max(reps))]])
                tt = {n: (v[:, None] if isinstance(v, np.ndarray) else v) for n, v in t.items()}
                per_chip[c.name] = _why_none(wl, c, t, _metrics(wl, c, tt, r_inf, k), price, fits)
                continue
            j = int(np.argmin(np.where(tab["feasible"], tab["monthly_usd"], np.inf)))
            i_cfg, r_best = j // len(reps), int(tab["replicas"][j])
        else:
            if price is None or c.power_w is None:
                per_chip[c.name] = _why_none(wl, c, t, None, price, fits)
                continue
            idx, hi, top, n = _fewest_replicas(wl, c, t, rmax, k)
            n_eval += n
            if idx.size == 0:
                per_chip[c.name] = _why_none(wl, c, t, top, price, fits)
                continue
            ts = _sub(t, idx)
            met = _metrics(wl, c, ts, hi, k)
            cost = _costs(wl, c, price, ts, hi, met["rho"], costs)
            j = int(np.argmin(cost["monthly_usd"]))
            i_cfg, r_best = int(idx[j]), int(hi[j])
        cand = _evaluate(wl, c, int(t["batch"][i_cfg]), r_best, int(t["mult"][i_cfg]), int(t["micro"][i_cfg]), costs,
                         prices_usd, k)
        per_chip[c.name] = cand
        if cand.feasible and (best is None or cand.monthly_usd < best.monthly_usd):
            best = cand
    return Choice(wl, best, MappingProxyType(per_chip), n_eval)


@dataclass(frozen=True)
class FleetPlan:
    """The chosen fleet: one :class:`Choice` per workload, and totals."""
    choices: Mapping[str, Choice]
    cost_overrides: Mapping[str, float]

    @property
    def feasible(self) -> bool:
        return all(c.feasible for c in self.choices.values())

    @property
    def infeasible(self) -> dict[str, str]:
        return {k: c.reason for k, c in self.choices.items() if not c.feasible}

    def _chosen(self):
        return [c.best for c in self.choices.values() if c.best is not None]

    @property
    def chips_by_type(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for b in self._chosen():
            out[b.chip] = out.get(b.chip, 0) + b.chips
        return out

    @property
    def racks_by_type(self) -> dict[str, int]:
        """Racks per chip type when every workload on that chip shares racks."""
        return {k: _racks(catalog.chip(k), n)[1] for k, n in self.chips_by_type.items()}

    @property
    def capex_usd(self) -> float:
        return float(sum(b.capex_usd for b in self._chosen()))

    @property
    def monthly_usd(self) -> float:
        return float(sum(b.monthly_usd for b in self._chosen()))

    @property
    def power_kw(self) -> float:
        return float(sum(b.power_kw for b in self._chosen()))

    @property
    def usd_per_mtok(self) -> float | None:
        """Blended $/M output tokens over the feasible workloads; None when no workload is feasible."""
        tok = sum(c.workload.output_tokens_per_s for c in self.choices.values() if c.best is not None)
        hours = float(self.cost_overrides.get("hours_per_month", 730.0))
        return self.monthly_usd / (tok * 3600 * hours / 1e6) if tok > 0 else None

    def rows(self) -> list[dict]:
        """One dict per workload (what the table and the chart show)."""
        rows = []
        for name, ch in self.choices.items():
            b = ch.best
            if b is None:
                rows.append({"workload": name, "chip": None, "feasible": False, "reason": ch.reason})
                continue
            rows.append({"workload": name, "chip": b.chip, "memory_kind": b.memory_kind, "feasible": True,
                         "replicas": b.replicas, "chips_per_replica": b.chips_per_replica, "batch": b.batch,
                         "microbatches": b.microbatches, "chips": b.chips, "racks": b.racks,
                         "capex_usd": b.capex_usd, "monthly_usd": b.monthly_usd, "usd_per_mtok": b.usd_per_mtok,
                         "utilization": b.utilization, "slo_values": dict(b.slo_values),
                         "slo_targets": dict(b.slo_targets)})
        return rows

    def summary(self) -> str:
        lines = []
        for ch in self.choices.values():
            lines.append(ch.summary())
        lines.append("fleet: " + ", ".join(f"{n:,} × {k} ({self.racks_by_type[k]:,} racks)"
                                           for k, n in self.chips_by_type.items()))
        blended = "n/a (no feasible workload)" if self.usd_per_mtok is None else f"${self.usd_per_mtok:,.3f}"
        lines.append(f"capex ${self.capex_usd / 1e6:,.2f} M · ${self.monthly_usd / 1e3:,.1f} k per month · "
                     f"{self.power_kw:,.0f} kW · blended {blended} per M output tokens")
        if not self.feasible:
            lines.append(f"infeasible workloads: {', '.join(self.infeasible)}")
        return "\n".join(lines)


def optimize(workloads, chip_names: Sequence | None = None, *, cost_overrides=None, prices_usd=None,
             progress: bool | None = None, chips: Sequence | None = None, **search_kwargs) -> FleetPlan:
    """Choose, per workload, the cheapest candidate meeting every SLO (see :func:`search`) over ``chip_names``
    (``chips=`` is its old name); return the fleet. ``optimise`` is the old (British) name, kept as an alias.

    ``workloads``: a :class:`Scenario` (its ``cost_overrides`` apply unless you pass your own), a Workload or a
    list of them. A progress bar appears when a search runs over a second (``progress=None``)."""
    if isinstance(workloads, Scenario) and cost_overrides is None:
        cost_overrides = dict(workloads.cost_overrides)
    wls = _workloads(workloads)
    if not wls:
        raise LabsimError("workloads is empty; give at least one fleet.Workload")
    names = [w.name for w in wls]
    if len(set(names)) != len(names):
        raise LabsimError(f"workload names must be unique, got {names}")
    costs = _check_costs(cost_overrides)
    show = True if progress is None else check_bool("progress", progress)
    names = _chip_names_or_alias(chip_names, chips)
    choices = {w.name: search(w, names, cost_overrides=costs, prices_usd=prices_usd, progress=show,
                              **search_kwargs) for w in wls}
    return FleetPlan(MappingProxyType(choices), MappingProxyType(costs))


#: the old (British) name, kept as an alias
optimise = optimize
