"""The capstone (chapter 6): a hybrid fleet that meets every SLO at least cost.

A :class:`Workload` is a named stream of requests — an arrival rate, prompt and output tokens per LLM call, optionally
a chapter-5 agent task (``steps`` calls in a chain with tool and network time between them) — with SLOs
(:class:`SLO`: P99 time to first token, P99 time per output token, P99 time to the first *n* tokens, P99 task time)
or none (background/batch). A **candidate** is one way to serve it: a catalog chip × batch per replica × parallel
layout (chips per replica = ``layout_multiplier`` × the chips chapter 3 says the model needs; pipeline
``microbatches`` on SRAM chips) × replicas. For every candidate this module

* takes speed from chapter 3 (:func:`labsim.capacity.decode_sweep`: seconds per token at that batch, chips and
  layout; :func:`labsim.capacity.plan_sweep`: does the model + KV cache fit);
* adds queueing and tails (chapter 5 quantities: :mod:`labsim.latency` platform jitter and distributions, an
  M/G/N queue over all slots of the fleet, chains by a union bound);
* prices it with chapter 4 (:func:`labsim.tco.evaluate`: annuity capex + power × PUE + colocation);

and keeps, per workload, the cheapest candidate that meets every SLO. The search is vectorised: one
``decode_sweep`` per (chip, microbatches) covers every batch × layout, and a vectorised 16-ary search finds the fewest
replicas that meet the SLOs for all configurations at once. Every non-catalog number is a named [A] assumption in
:data:`ASSUMPTIONS`. Equations and limits: ``docs/design/fleet.md``.

    >>> from labsim import fleet
    >>> plan = fleet.optimise(fleet.load_scenario("mixed_product"))
    >>> print(plan.summary())                                   # doctest: +SKIP
"""
from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from statistics import NormalDist
from types import MappingProxyType
from typing import Any

import numba
import numpy as np

from . import capacity, catalog, latency, tco
from . import limits as _L
from .assumptions import Assumption, registry, table
from .errors import (
    LabsimError,
    check_bool,
    check_choice,
    check_int,
    check_ints,
    check_mapping,
    check_name,
    check_number,
    check_text,
)
from .precision import PRECISIONS

__all__ = [
    "ASSUMPTIONS", "assumptions_table", "METRICS", "SLO", "Workload", "Scenario", "scenarios", "load_scenario",
    "Candidate", "Choice", "FleetPlan", "evaluate_candidate", "candidate_table", "search", "optimise",
    "check_fleet", "FleetCheck", "flip_slo", "sram_variant", "with_slo", "scale_rates", "prefill_seconds",
    "verify_task_tail", "workload_from_task", "fastest", "clear_cache",
]

DATA_DIR = Path(__file__).resolve().parent / "data" / "fleet"
_NORMAL = NormalDist()

# ----------------------------------------------------------------------------------------------------------------
# Named assumptions
# ----------------------------------------------------------------------------------------------------------------
_A = [
    Assumption("quantile", 0.99, "", "[A]", "SLOs are stated at P99 (the report's 'tail latency (P99)', [huatai26] Q5); each SLO may set "
               "its own quantile"),
    Assumption("batches", (1, 2, 4, 8, 16, 32, 64, 128), "sequences per replica", "[A]",
               "grid of decode batch sizes searched ([huatai26] Fig 11 uses 2, 3 and 64)"),
    Assumption("layout_multipliers", (1, 2, 4, 8), "× chapter-3 layout", "[A]",
               "GPU: chips per replica = multiplier × capacity.plan(batch 1).chips (a wider tensor-parallel "
               "group); LPU: every layer spread over multiplier × the fewest chips that hold it "
               "(capacity.decode_time(tensor_parallel=…)); 1 = chapter 3's packed layout"),
    Assumption("microbatches_sram", (1, 4, 16), "batches in flight", "[A]/[S]",
               "pipeline microbatches on SRAM chips ([huatai26] Fig 11 Groq column: batch 3 × pipeline 16); "
               "GPUs use 1"),
    Assumption("max_replicas", 20_000, "replicas", "[A]", "search ceiling on replicas per workload"),
    Assumption("system_power_factor_sram", 230.4e3 / 576 / 300, "× chip W", "[D]",
               "[huatai26] Fig 11 Groq system 230.4 kW ÷ 576 chips ÷ 300 W chip max ([groq-brief]) = 1.33: "
               "hosts, fans, network"),
    Assumption("system_power_factor_hbm", 10.2e3 / 8 / 700, "× chip W", "[D]",
               "[huatai26] Fig 11 8×H100 system 10.2 kW ÷ 8 ÷ 700 W ([nvidia-h100-datasheet]) = 1.82: CPUs, "
               "NICs, fans"),
    Assumption("idle_power_fraction", 0.3, "of system power", "[A]",
               "power drawn by an idle system; drawn power = idle + (1 − idle) × load, passed to tco.evaluate as "
               "its 'utilization' (which scales the power bill)"),
    Assumption("max_utilization", 0.9, "of slots", "[A]",
               "background workloads (no SLO) may load the fleet's slots up to this fraction; above it a "
               "Poisson stream's queue explodes (chapter 5)"),
    Assumption("platform_sram", "lpu", "", "[A]",
               "decode jitter of SRAM chips: chapter 5's 'lpu' platform archetype (data/latency/platforms.toml)"),
    Assumption("platform_hbm", "dedicated_gpu", "", "[A]",
               "decode jitter of HBM chips: chapter 5's 'dedicated_gpu' archetype (our own fleet, not a WAN API)"),
    Assumption("dispatch", "shared queue", "", "[A]",
               "a load balancer sends each request to any free slot of any replica: an M/G/N queue with N = "
               "replicas × batch × microbatches slots (Erlang C with an Allen–Cunneen (1 + C_s²)/2 correction)"),
    Assumption("decode_at_full_batch", True, "", "[A]",
               "every token is timed at the full batch (conservative: a half-empty batch is faster)"),
    Assumption("prefill_model", "capacity.prefill_sweep", "", "[A]",
               "chapter 3's prefill: max(P × FLOPs/token(P/2) ÷ (chips × peak × efficiency), weights + KV ÷ "
               "bandwidth) + one forward pass of hop/collective/launch latency"),
    Assumption("prefill_interrupts_decode", True, "", "[A]",
               "no chunked prefill: while a replica prefills a new request its other sequences stall (the "
               "'generation stalls' of [sarathi24] Fig. 1a)"),
    Assumption("tokens_priced", "output", "", "[S]",
               "USD per million tokens counts generated (output) tokens, as [huatai26] Fig 11 does"),
]

#: name -> Assumption(value, unit, status, source). Every default below comes from this table.
ASSUMPTIONS: Mapping[str, Assumption] = registry(_A)


def _av(name):
    return ASSUMPTIONS[name].value


def assumptions_table() -> str:
    """A plain-text table of the fleet assumptions (name, value, status, source)."""
    return table(_A)


# ----------------------------------------------------------------------------------------------------------------
# Workloads and SLOs
# ----------------------------------------------------------------------------------------------------------------
#: SLO metrics: time to first token, time per output token, time to the first ``tokens`` tokens, whole task.
METRICS = ("ttft", "tpot", "first_tokens", "task")

#: Slowest arrival rate of a workload (one request per ~11.6 days): its output tokens per second, the token
#: output chapter 4 prices, stay within tco's range.
_MIN_RATE_PER_S = 1e-6


@dataclass(frozen=True)
class SLO:
    """A latency objective: the ``quantile`` of ``metric`` must be ≤ ``seconds``.

    ``ttft`` = queue + prefill (+ network); ``tpot`` = one output token's interval; ``first_tokens`` = queue +
    prefill + the first ``tokens`` tokens (+ network) — e.g. a voice agent's first sentence; ``task`` = the whole
    chapter-5 chain of ``steps`` calls with tool and network time.
    """
    metric: str
    seconds: float
    quantile: float = 0.99
    tokens: int = 0
    source: str = ""

    def __post_init__(self):
        check_choice("metric", self.metric, METRICS, what="SLO metric")
        check_number("seconds", self.seconds, lo=0.0, lo_open=True, hi=_L.MAX_LATENCY_S, unit="s")
        check_number("quantile", self.quantile, lo=0.5, hi=1.0, hi_open=True)
        check_int("tokens", self.tokens, lo=0, hi=10_000_000)
        check_text("source", self.source)
        if self.metric == "first_tokens" and self.tokens < 1:
            raise LabsimError("an SLO with metric='first_tokens' needs tokens >= 1")

    @property
    def label(self) -> str:
        q = f"P{self.quantile * 100:g}"
        what = {"ttft": "time to first token", "tpot": "time per output token",
                "first_tokens": f"time to first {self.tokens} tokens", "task": "task time"}[self.metric]
        return f"{q} {what} ≤ {self.seconds * 1e3:,.0f} ms"


@dataclass(frozen=True, eq=False)
class Workload:
    """A named request stream. Rates are per second **while active** (``active_hours_per_day``).

    One task = ``steps`` LLM calls in a chain (a chapter-5 agent task), each with ``prompt_tokens`` in and
    ``output_tokens`` out, plus ``tool_s`` and ``network_s`` per step (seconds or a :class:`labsim.latency.Dist`).
    ``output_tokens_cv`` = variability of output length (coefficient of variation, [A]). ``context_tokens`` sizes
    the KV cache (default prompt + output). No SLOs = background: only throughput (≤ max_utilization) matters.
    """
    name: str
    model: str
    arrival_rate_per_s: float
    prompt_tokens: int
    output_tokens: int
    slos: tuple[SLO, ...] = ()
    precision: str = "int8"
    steps: int = 1
    tool_s: Any = 0.0
    network_s: Any = 0.0
    output_tokens_cv: float = 0.0
    context_tokens: int | None = None
    active_hours_per_day: float = 24.0
    description: str = ""
    sources: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self):
        check_name("name", self.name)
        if not isinstance(self.model, str):
            raise LabsimError(f"model must be a catalog model name, got {self.model!r}")
        catalog.model(self.model)  # unknown names raise UnknownNameError listing the valid ones
        check_number("arrival_rate_per_s", self.arrival_rate_per_s, lo=_MIN_RATE_PER_S, hi=_L.MAX_RATE_PER_S,
                     unit="1/s")
        check_int("prompt_tokens", self.prompt_tokens, lo=0, hi=10_000_000)
        check_int("output_tokens", self.output_tokens, lo=1, hi=10_000_000)
        check_int("steps", self.steps, lo=1, hi=10_000)
        check_choice("precision", self.precision, PRECISIONS, what="precision")
        check_number("output_tokens_cv", self.output_tokens_cv, lo=0.0, hi=10.0)
        check_number("active_hours_per_day", self.active_hours_per_day, lo=0.1, hi=24.0, unit="h")
        if self.context_tokens is not None:
            check_int("context_tokens", self.context_tokens, lo=1, hi=100_000_000)
        latency.as_dist(self.tool_s, "tool_s")
        latency.as_dist(self.network_s, "network_s")
        check_text("description", self.description)
        slos = self.slos
        if isinstance(slos, (str, bytes, Mapping)) or not isinstance(slos, (tuple, list)):
            raise LabsimError(f"slos must be a tuple of fleet.SLO objects, got {slos!r}")
        for s in slos:
            if not isinstance(s, SLO):
                raise LabsimError(f"slos must hold fleet.SLO objects, got {s!r}")
        srcs = check_mapping("sources", self.sources)
        for k, v in srcs.items():
            check_text(f"sources[{k!r}]", v)
        object.__setattr__(self, "slos", tuple(slos))
        object.__setattr__(self, "sources", MappingProxyType(srcs))

    @property
    def context(self) -> int:
        return int(self.context_tokens or (self.prompt_tokens + self.output_tokens))

    @property
    def requests_per_s(self) -> float:
        """LLM calls per second while active (tasks × steps)."""
        return float(self.arrival_rate_per_s) * self.steps

    @property
    def output_tokens_per_s(self) -> float:
        """Output tokens per second averaged over the whole day."""
        return self.requests_per_s * self.output_tokens * self.active_hours_per_day / 24.0

    @property
    def background(self) -> bool:
        return not self.slos

    def replace(self, **changes) -> Workload:
        valid = {f.name for f in dataclasses.fields(self)}
        for k in changes:
            check_choice("field", k, valid, what="Workload field")
        return dataclasses.replace(self, **changes)


def with_slo(workload: Workload, metric: str, seconds: float) -> Workload:
    """The workload with the ``seconds`` of its ``metric`` SLO replaced (added at P99 if absent)."""
    workload = _check_workload(workload)
    check_choice("metric", metric, METRICS, what="SLO metric")
    check_number("seconds", seconds, lo=0.0, lo_open=True, hi=_L.MAX_LATENCY_S, unit="s")
    slos = list(workload.slos)
    for i, s in enumerate(slos):
        if s.metric == metric:
            slos[i] = dataclasses.replace(s, seconds=seconds)
            break
    else:
        slos.append(SLO(metric, seconds, tokens=1 if metric == "first_tokens" else 0))
    return workload.replace(slos=tuple(slos))


def scale_rates(workloads: Sequence[Workload], factor: float) -> list[Workload]:
    """Every workload with its arrival rate multiplied by ``factor``."""
    f = check_number("factor", factor, lo=0.0, lo_open=True, hi=_L.MAX_RATE_PER_S)
    out = []
    for w in _workloads(workloads):
        try:
            out.append(w.replace(arrival_rate_per_s=w.arrival_rate_per_s * f))
        except LabsimError as exc:
            raise LabsimError(f"factor = {f:g} takes workload {w.name!r} out of range: {exc}") from None
    return out


def workload_from_task(name: str, model: str, arrival_rate_per_s: float, task, *, prompt_tokens: int | None = None,
                       slos: Sequence[SLO] = (), **fields) -> Workload:
    """A :class:`Workload` from a chapter-5 agent task (``latency.task(latency.agent_step(...), k)``) or one step.

    The task supplies what does not depend on the hardware: the number of steps, output tokens per step, and the
    tool and network time per step (numbers or distributions). What depends on the hardware — queue, prefill,
    decode speed and jitter, stalls — the fleet computes for every candidate, so those components of the task
    are ignored. ``prompt_tokens`` defaults to the step's prefill token count (``agent_step(prompt_tokens=…)``).
    Fan-out stages are refused (each step here is one LLM call). ``fields``: any other Workload field."""
    if isinstance(task, latency.Step):
        task = latency.task(task)
    if not isinstance(task, latency.Task):
        raise LabsimError(f"task must be a chapter-5 latency.Task or latency.Step, got {type(task).__name__}")
    steps = task.stages
    if any(st.fan_out != 1 for st in steps):
        raise LabsimError("task has fan-out stages (fan_out > 1); fleet workloads are chains of single LLM calls")

    def parts(step):
        comps = step.components
        dec = [c for c in comps if c.category == "decode"]
        if len(dec) != 1:
            raise LabsimError(f"step {step.name!r} needs exactly one decode component (build it with "
                              f"latency.agent_step), found {len(dec)}")
        pre = [c for c in comps if c.category == "prefill" and c.scale > 1]
        tool = [c.dist for c in comps if c.category == "tool"]
        net = [c.dist for c in comps if c.category == "network"]
        return (int(round(dec[0].scale)), int(round(pre[0].scale)) if pre else None,
                tool[0] if len(tool) == 1 else 0.0, net[0] if len(net) == 1 else 0.0)

    first = parts(steps[0].step)
    for st in steps[1:]:
        p = parts(st.step)
        if p[:2] != first[:2] or latency.as_dist(p[2]).params != latency.as_dist(first[2]).params \
                or latency.as_dist(p[3]).params != latency.as_dist(first[3]).params:
            raise LabsimError("the task's steps differ; fleet workloads repeat one step (latency.task(step, k))")
    out_tokens, task_prompt, tool_s, network_s = first
    if prompt_tokens is None:
        if task_prompt is None:
            raise LabsimError("the task's steps give no prompt token count (ttft_s was given); pass prompt_tokens")
        prompt_tokens = task_prompt
    if isinstance(slos, (str, bytes, Mapping)) or not isinstance(slos, (tuple, list)):
        raise LabsimError(f"slos must be a tuple of fleet.SLO objects, got {slos!r}")
    taken = {"prompt_tokens", "output_tokens", "slos", "steps", "tool_s", "network_s"}
    valid = {f.name for f in dataclasses.fields(Workload)} - taken - {"name", "model", "arrival_rate_per_s"}
    for k in fields:
        check_choice("field", k, sorted(valid), what="Workload field (the task sets the others)")
    return Workload(name, model, arrival_rate_per_s, prompt_tokens=prompt_tokens, output_tokens=out_tokens,
                    slos=tuple(slos), steps=len(steps), tool_s=tool_s, network_s=network_s, **fields)


# ----------------------------------------------------------------------------------------------------------------
# Scenario files
# ----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    description: str
    workloads: tuple[Workload, ...]
    cost_overrides: Mapping[str, float]
    sources: Mapping[str, str]


_WL_NUMERIC = ("arrival_rate_per_s", "prompt_tokens", "output_tokens", "steps", "tool_s", "network_s",
               "output_tokens_cv", "context_tokens", "active_hours_per_day")


def scenarios() -> list[str]:
    """Names of the bundled scenario files (``labsim/data/fleet/*.toml``)."""
    return sorted(p.stem for p in DATA_DIR.glob("*.toml"))


def load_scenario(name_or_path) -> Scenario:
    """Load a scenario TOML (a bundled name or a path). Every number needs a source (``[A]`` for assumptions):
    ``sources.<field>`` per workload and ``source`` per SLO; a missing source raises LabsimError."""
    if isinstance(name_or_path, (str, Path)) and str(name_or_path).endswith(".toml"):
        if isinstance(name_or_path, str):
            check_text("name_or_path", name_or_path, allow_empty=False, max_chars=4096)
        path = Path(name_or_path)
    else:
        path = DATA_DIR / f"{check_choice('name_or_path', name_or_path, scenarios(), what='scenario')}.toml"
    try:
        st = path.stat()
    except OSError as exc:
        raise LabsimError(f"cannot read scenario {str(path)!r}: {exc}") from None
    return _load_scenario(str(path.resolve()), st.st_mtime_ns, st.st_size)   # re-read when the file changes


@lru_cache(maxsize=64)
def _load_scenario(path_str: str, mtime_ns: int, size: int) -> Scenario:
    path = Path(path_str)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise LabsimError(f"cannot read scenario {str(path)!r}: {exc}") from None
    meta = data.get("meta", {})
    wls = []
    for i, raw in enumerate(data.get("workload", [])):
        raw = dict(raw)
        where = f"{path.name}: workload[{i}]"
        srcs = dict(raw.pop("sources", {}))
        for k in _WL_NUMERIC:
            if k in raw and k not in srcs:
                raise LabsimError(f"{where}: {k} has no source; add sources.{k} (use '[A] …' for an assumption)")
        slos = []
        for j, s in enumerate(raw.pop("slo", [])):
            s = dict(s)
            if not s.get("source"):
                raise LabsimError(f"{where}: slo[{j}] has no source")
            slos.append(SLO(**s))
        for k in ("tool_s", "network_s"):
            if isinstance(raw.get(k), Mapping):  # {p50_s, sigma} → lognormal
                d = raw[k]
                raw[k] = latency.lognormal(d["p50_s"], d["sigma"]) if d.get("sigma", 0) > 0 else d["p50_s"]
        try:
            wls.append(Workload(slos=tuple(slos), sources=srcs, **raw))
        except TypeError as exc:
            raise LabsimError(f"{where}: {exc}") from None
    if not wls:
        raise LabsimError(f"{path.name}: no [[workload]] entries")
    costs = dict(data.get("costs", {}))
    cost_src = costs.pop("sources", {})
    for k in costs:
        check_choice("costs key", k, tco.FIELDS, what="TcoInputs field")
        if k not in cost_src:
            raise LabsimError(f"{path.name}: costs.{k} has no source")
    return Scenario(path.stem, meta.get("title", path.stem), meta.get("description", ""), tuple(wls),
                    MappingProxyType(costs), MappingProxyType(dict(meta.get("sources", {}))))


# ----------------------------------------------------------------------------------------------------------------
# numba kernels: Erlang C and Poisson quantiles (vectorised over candidates)
# ----------------------------------------------------------------------------------------------------------------
def _erlang_c(servers, offered, floor: float = 0.0):
    """P(wait > 0) in an M/M/N queue (Erlang C) for arrays of N and offered load a = λ·E[S].

    ``floor`` > 0: where a rigorous upper bound on C is below ``floor`` the result is 0 instead of the exact tiny
    value (the optimiser only asks whether C exceeds 1 − q', so it passes a floor below every 1 − q')."""
    return _erlang_c_kernel(np.asarray(servers, dtype=np.float64), np.asarray(offered, dtype=np.float64),
                            float(floor))


@numba.njit(cache=True)
def _erlang_c_kernel(servers, offered, floor):
    """Erlang C: B(N, a) = pmf(N)/cdf(N) of Poisson(a), summed downward from N in ratio to pmf(N) (k/a per step)
    with rescaling, so N up to millions neither overflows nor loops far; C = B / (1 − ρ(1 − B)), ρ = a/N.

    Skip (return 0) when C ≤ 2·pmf(N)/(1 − ρ) < floor: C ≤ B/(1 − ρ), and cdf(N) ≥ 1/2 once N ≥ a + 1 (a Poisson
    median lies below a + 1/3), so B ≤ 2·pmf(N), with log pmf(N) = N·ln a − a − lgamma(N + 1)."""
    n = servers.shape[0]
    out = np.empty(n)
    log_floor = math.log(floor) if floor > 0.0 else -math.inf
    for i in range(n):
        N = servers[i]
        a = offered[i]
        if a <= 0.0:
            out[i] = 0.0
            continue
        if a >= N:
            out[i] = 1.0
            continue
        if N - a > 40.0 * math.sqrt(a) + 60.0:
            out[i] = 0.0          # P(all busy) < e^-400
            continue
        if N >= a + 1.0 and math.log(2.0) + N * math.log(a) - a - math.lgamma(N + 1.0) \
                - math.log(1.0 - a / N) < log_floor:
            out[i] = 0.0          # C below the caller's floor
            continue
        s = 1.0
        t = 1.0
        log_scale = 0.0
        k = N
        while k > 0:
            t *= k / a
            s += t
            if s > 1e250:
                s *= 1e-250
                t *= 1e-250
                log_scale += 250.0 * math.log(10.0)
            if k < a and t < 1e-17 * s:
                break
            k -= 1
        log_b = -(math.log(s) + log_scale)
        b = math.exp(log_b)
        rho = a / N
        out[i] = b / (1.0 - rho * (1.0 - b))
    return out


@numba.njit(cache=True)
def _poisson_ppf(mu, q, z):
    """Smallest k with P(Poisson(mu) ≤ k) ≥ q; normal approximation (z = Φ⁻¹(q)) above mu = 500."""
    n = mu.shape[0]
    out = np.empty(n)
    for i in range(n):
        m = mu[i]
        if m <= 0.0:
            out[i] = 0.0
            continue
        if m > 500.0:
            out[i] = math.ceil(m + z * math.sqrt(m) + 0.5)
            continue
        p = math.exp(-m)
        c = p
        k = 0
        while c < q and k < 100000:
            k += 1
            p *= m / k
            c += p
        out[i] = k
    return out


def _warmup() -> None:
    """Compile (or load from cache) the two kernels on tiny inputs."""
    _erlang_c(np.array([1.0, 4.0]), np.array([0.5, 3.0]), 1e-3)
    _poisson_ppf(np.array([0.5, 600.0]), 0.99, 2.33)


# ----------------------------------------------------------------------------------------------------------------
# Speed tables (chapter 3) — cached per (model, chip, shapes)
# ----------------------------------------------------------------------------------------------------------------
def _chip(c, param: str = "chip") -> catalog.Chip:
    if isinstance(c, catalog.Chip):
        return c
    if isinstance(c, str):
        return catalog.chip(check_choice(param, c, catalog.chips(), what="chip"))
    raise LabsimError(f"{param} must be a catalog chip name or a Chip, got {c!r}")


def _chips(chips) -> list[catalog.Chip]:
    """None (every catalog chip), one name or Chip, or a sequence of them."""
    if chips is None:
        names = catalog.chips()
    elif isinstance(chips, (str, catalog.Chip)):
        names = [chips]
    elif isinstance(chips, (list, tuple)) or (isinstance(chips, np.ndarray) and chips.ndim == 1):
        names = list(chips)
    else:
        raise LabsimError(f"chips must be None, a catalog chip name or a list of them, got {chips!r}")
    if not names:
        raise LabsimError("chips must name at least one catalog chip")
    return [_chip(n, "chips") for n in names]


def _workloads(workloads) -> list[Workload]:
    """A Scenario, one Workload, or a sequence of Workloads."""
    if isinstance(workloads, Scenario):
        return list(workloads.workloads)
    if isinstance(workloads, Workload):
        return [workloads]
    if not isinstance(workloads, (list, tuple)):
        raise LabsimError(f"workloads must be a Scenario, a Workload or a list of Workloads, got {workloads!r}")
    for i, w in enumerate(workloads):
        if not isinstance(w, Workload):
            raise LabsimError(f"workloads[{i}] must be a fleet.Workload, got {type(w).__name__}")
    return list(workloads)


def prefill_seconds(model, chip, prompt_tokens, *, chips=None, precision: str = "int8",
                    context_tokens: int | None = None) -> float:
    """Prefill time of ``prompt_tokens`` on one replica of ``chips`` × ``chip`` (default: chapter 3's count),
    from chapter 3's model (:func:`labsim.capacity.prefill_sweep`)."""
    prompt_tokens = check_int("prompt_tokens", prompt_tokens, lo=1, hi=10_000_000)
    chips = None if chips is None else check_int("chips", chips, lo=1, hi=_L.MAX_CHIPS)
    if context_tokens is not None:
        context_tokens = check_int("context_tokens", context_tokens, lo=1, hi=100_000_000)
    if not isinstance(model, (str, catalog.Model)):
        raise LabsimError(f"model must be a catalog model name or a Model, got {model!r}")
    m = catalog.model(model) if isinstance(model, str) else model
    return float(capacity.prefill_sweep(m, _chip(chip), prompt_tokens=prompt_tokens, chips=chips,
                                        context_tokens=context_tokens or (prompt_tokens + 1),
                                        precision=precision)["seconds"])


@lru_cache(maxsize=256)
def _speed_table(m: catalog.Model, chip: catalog.Chip, precision: str, ctx: int, prompt: int,
                 batches: tuple, mults: tuple, micros: tuple):
    """Per configuration (multiplier × batch × microbatches), flattened: chips per replica, seconds per token,
    prefill seconds, slots, fits, dominant bound, crosses the cliff. Pure chapter-3 numbers. Keyed on the Model
    and Chip objects, so a chip or model re-registered with ``replace=True`` gets a fresh table.

    The multiplier is the layout: on a GPU, chips per replica = multiplier × chapter 3's chips (a wider tensor-
    parallel group); on an LPU, multiplier 1 = chapter 3's packed layout and multiplier k spreads every layer over
    k × the fewest chips that hold it (``capacity.decode_time(tensor_parallel=…)``) — more chips, faster tokens.
    """
    base = capacity.plan(m, chip, precision, context_tokens=ctx).chips
    B = np.asarray(batches, dtype=np.float64)
    M = np.asarray(mults, dtype=np.float64)
    lpu = capacity.lpu.is_lpu(chip)
    min_tp = int(capacity.decode_sweep(m, chip, context_tokens=ctx, precision=precision)["min_tensor_parallel"]) \
        if lpu else 1
    rows = {k: [] for k in ("chips", "batch", "mult", "micro", "tpot", "prefill", "fits", "bound", "domains")}
    for mb in micros:
        bb = np.ones_like(M)[:, None] * B[None, :]
        if lpu:
            tpot, chips, fits, bound, pf = (np.empty(bb.shape) for _ in range(5))
            bound = np.empty(bb.shape, dtype=object)
            for i, mult in enumerate(M):
                tp = None if mult == 1 else int(mult * min_tp)
                d = capacity.decode_sweep(m, chip, batch=B, context_tokens=ctx, precision=precision,
                                          microbatches=int(mb), tensor_parallel=tp)
                need = np.asarray(d["chips_needed"], dtype=np.float64)
                chips[i] = np.where(np.isfinite(need), need, 0.0)
                fits[i] = np.isfinite(need) & (need <= chip.sync_domain_chips * 100)
                tpot[i], bound[i] = d["seconds_per_token"], d["dominant_bound"]
                n1 = max(float(chips[i][0]), 1.0)
                pf[i] = float(capacity.prefill_sweep(m, chip, prompt_tokens=max(prompt, 1), chips=n1,
                                                     context_tokens=ctx, precision=precision,
                                                     tensor_parallel=tp)["seconds"])
            fits = fits.astype(bool)
        else:
            chips = (M[:, None] * base) * np.ones_like(B)[None, :]
            d = capacity.decode_sweep(m, chip, chips=chips, batch=bb, context_tokens=ctx, precision=precision,
                                      microbatches=int(mb))
            tpot, bound = d["seconds_per_token"], d["dominant_bound"]
            pf = np.asarray(capacity.prefill_sweep(m, chip, prompt_tokens=max(prompt, 1), chips=M * base,
                                                   context_tokens=ctx, precision=precision)["seconds"])
            pf = pf[:, None] * np.ones_like(B)[None, :]
            fits = np.asarray(d["fits"], dtype=bool)
            if chip.memory_kind == "hbm" and chip.sync_domain_chips:
                fits &= chips <= chip.sync_domain_chips      # tensor parallelism stays inside one NVLink domain
        dom = np.ceil(chips / (chip.sync_domain_chips or max(chips.max(), 1.0)))
        rows["chips"].append(chips.ravel())
        rows["batch"].append(bb.ravel())
        rows["mult"].append((M[:, None] * np.ones_like(B)[None, :]).ravel())
        rows["micro"].append(np.full(chips.size, float(mb)))
        rows["tpot"].append(np.asarray(tpot, dtype=np.float64).ravel())
        rows["prefill"].append(np.asarray(pf, dtype=np.float64).ravel())
        rows["fits"].append(fits.ravel())
        rows["bound"].append(np.asarray(bound).astype(str).ravel())
        rows["domains"].append(dom.ravel())
    out = {k: np.concatenate(v) for k, v in rows.items()}
    out["slots"] = out["batch"] * out["micro"]          # sequences in flight per replica
    out["multi"] = out["slots"] > 1                      # a prefill stalls the other sequences
    out["base_chips"] = base
    for v in out.values():
        if isinstance(v, np.ndarray):
            v.setflags(write=False)
    return out


# ----------------------------------------------------------------------------------------------------------------
# The vectorised core: configs × replicas → SLO metrics, feasibility, cost
# ----------------------------------------------------------------------------------------------------------------
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


@lru_cache(maxsize=256)
def _consts(wl: Workload, memory_kind: str) -> _Consts:
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


def _metrics(wl: Workload, chip: catalog.Chip, t: dict, replicas: np.ndarray) -> dict:
    """All SLO metrics and loads for configuration arrays ``t`` (broadcast with ``replicas``)."""
    k = _consts(wl, chip.memory_kind)
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


def _grid(batches, layout_multipliers, microbatches, chip: catalog.Chip):
    b = check_ints("batches", _av("batches") if batches is None else batches, lo=1, hi=100_000, max_len=64)
    m = check_ints("layout_multipliers", _av("layout_multipliers") if layout_multipliers is None
                   else layout_multipliers, lo=1, hi=1024, max_len=64)
    if microbatches is None:
        mb = _av("microbatches_sram") if chip.memory_kind == "sram" else (1,)
    else:
        mb = check_ints("microbatches", microbatches, lo=1, hi=100_000, max_len=64)
        if chip.memory_kind == "hbm":
            mb = (1,)
    return tuple(sorted(set(b))), tuple(sorted(set(m))), tuple(sorted(set(mb)))


def _check_workload(wl, param: str = "workload") -> Workload:
    if not isinstance(wl, Workload):
        raise LabsimError(f"{param} must be a fleet.Workload, got {type(wl).__name__}")
    return wl


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


# ----------------------------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------------------------
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
    slo_values: Mapping[str, float]    #: metric -> modelled quantile (s)
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
            failed.append(f"tensor parallelism over {int(t['chips'][i])} GPUs exceeds the "
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


def _table(wl, chip, batches, layout_multipliers, microbatches):
    b, m, mb = _grid(batches, layout_multipliers, microbatches, chip)
    return _speed_table(catalog.model(wl.model), chip, wl.precision, wl.context, int(wl.prompt_tokens), b, m, mb)


def evaluate_candidate(workload: Workload, chip, *, batch: int = 1, replicas: int = 1, layout_multiplier: int = 1,
                       microbatches: int = 1, cost_overrides=None, prices_usd=None) -> Candidate:
    """Evaluate one candidate (scalar): its SLO values, feasibility with reasons, and its cost.

    Uses the same vectorised core as :func:`search`, on a one-element grid."""
    wl = _check_workload(workload)
    c = _chip(chip)
    prices_usd = _check_prices(prices_usd)
    batch = check_int("batch", batch, lo=1, hi=100_000)
    replicas = check_int("replicas", replicas, lo=1, hi=10_000_000)
    layout_multiplier = check_int("layout_multiplier", layout_multiplier, lo=1, hi=1024)
    microbatches = check_int("microbatches", microbatches, lo=1, hi=100_000)
    if c.memory_kind == "hbm" and microbatches != 1:
        raise LabsimError(f"microbatches = {microbatches} is out of range for HBM chip {c.name!r}; allowed: 1")
    costs = _check_costs(cost_overrides)
    t = _table(wl, c, (batch,), (layout_multiplier,), (microbatches,))
    price = _price(c, prices_usd, wl)
    r = np.array([replicas])
    met = _metrics(wl, c, t, r)
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
    out = {"batch": np.broadcast_to(tt["batch"], shape).ravel(), "microbatches": np.broadcast_to(tt["micro"], shape).ravel(),
           "layout_multiplier": np.broadcast_to(tt["mult"], shape).ravel(),
           "chips_per_replica": np.broadcast_to(tt["chips"], shape).ravel(),
           "replicas": np.broadcast_to(r[None, :], shape).ravel(), "feasible": feas.ravel(),
           "monthly_usd": np.broadcast_to(cost["monthly_usd"], shape).ravel(),
           "usd_per_mtok": np.broadcast_to(cost["usd_per_mtok"], shape).ravel(),
           "utilization": np.asarray(met["rho"]).ravel()}
    for k, v in met["values"].items():
        out[k] = np.asarray(v).ravel()
    return out


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
    d = latency.as_dist(x)
    return ("dist", d.kind, d.params) if d.samples is None else d   # empirical: by identity


def _physics_key(wl: Workload):
    """What the SLO metrics of ``wl`` depend on (not its name, description or sources)."""
    return (catalog.model(wl.model), wl.precision, float(wl.arrival_rate_per_s), wl.prompt_tokens, wl.output_tokens,
            tuple((s.metric, s.seconds, s.quantile, s.tokens) for s in wl.slos), wl.steps, _dist_key(wl.tool_s),
            _dist_key(wl.network_s), float(wl.output_tokens_cv), wl.context)


class _Memo:
    """A small least-recently-used memo for search results (immutable objects, safe to share)."""

    def __init__(self, size: int):
        self.size, self.data = size, {}

    def get(self, key):
        if key in self.data:
            self.data[key] = self.data.pop(key)          # most recently used goes last
            return self.data[key]
        return None

    def put(self, key, value):
        self.data[key] = value
        while len(self.data) > self.size:
            self.data.pop(next(iter(self.data)))

    def clear(self):
        self.data.clear()


_SEARCH_POINTS = 15     # replica counts probed per configuration and round (a 16-ary search)
_FEASIBLE = _Memo(512)   # (physics, chip, grid, max replicas) -> fewest feasible replicas per configuration
_SEARCHES = _Memo(256)   # every argument of search -> its Choice


def clear_cache(speed_tables: bool = True) -> None:
    """Forget memoised searches (and the chapter-3 speed tables unless ``speed_tables=False``). They are keyed on
    everything they depend on, so this is only needed to free memory or to time a search from scratch."""
    speed_tables = check_bool("speed_tables", speed_tables)
    _FEASIBLE.clear()
    _SEARCHES.clear()
    _consts.cache_clear()
    if speed_tables:
        _speed_table.cache_clear()


def _fewest_replicas(wl: Workload, c: catalog.Chip, t: dict, grid, rmax: int):
    """(indices of the configurations that meet every SLO at ``rmax`` replicas, their fewest feasible replicas,
    the metrics at ``rmax`` for explaining failures, candidates evaluated). Feasibility does not depend on prices
    or cost inputs, so the result is memoised on the workload's physics: a widget moving the electricity price
    re-prices, it does not re-search.

    A vectorised 16-ary search over all configurations at once (feasibility is monotone in replicas). Invariant:
    ``lo`` infeasible (or 0), ``hi`` feasible. The bracket starts at the stability bound: with r replicas the r·c
    slots must exceed the offered load λ·S, and S ≥ prefill + N·t, so every r ≤ λ·(prefill + N·t)/c is overloaded.
    The first round probes geometrically spaced replica counts above that bound (most configurations need only a
    few more), later rounds split each bracket evenly: ≈ 3–4 rounds instead of a bisection's 15."""
    try:
        key = (_physics_key(wl), wl.background, c, grid, rmax)
        hash(key)
    except TypeError:        # an unhashable distribution: compute, do not memoise
        key = None
    hit = None if key is None else _FEASIBLE.get(key)
    if hit is not None:
        return hit
    fits = np.asarray(t["fits"], dtype=bool)
    tt = {k: (v[:, None] if isinstance(v, np.ndarray) else v) for k, v in t.items()}
    top = _metrics(wl, c, tt, np.array([[float(rmax)]]))
    idx = np.nonzero(top["ok"][:, 0] & fits)[0]
    ts = {k: (v[idx][:, None] if isinstance(v, np.ndarray) else v) for k, v in t.items()}
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
        okm = _metrics(wl, c, {k: (v[act] if isinstance(v, np.ndarray) else v) for k, v in ts.items()},
                       mids)["ok"]
        n_eval += okm.size
        anyok = okm.any(axis=1)
        f = np.where(anyok, np.argmax(okm, axis=1), K)    # first feasible probe (K: none)
        rows = np.arange(act.size)
        hi[act] = np.where(anyok, mids[rows, np.minimum(f, K - 1)], hi[act])
        lo[act] = np.where(f > 0, mids[rows, np.maximum(f - 1, 0)], lo[act])
        first = False
    res = (idx, hi, top, n_eval)
    if key is not None:
        _FEASIBLE.put(key, res)
    return res


def search(workload: Workload, chips: Sequence | None = None, *, batches=None, layout_multipliers=None,
           microbatches=None, replicas=None, cost_overrides=None, prices_usd=None,
           max_replicas: int | None = None, progress: bool = False) -> Choice:
    """The cheapest candidate of ``workload`` that meets every SLO, over ``chips`` (default: every catalog chip).

    ``replicas=None`` finds, for every configuration at once, the fewest replicas meeting the SLOs by a vectorised
    16-ary search (every metric falls and cost rises with replicas, so the fewest feasible replicas is that
    configuration's cheapest); an explicit sequence evaluates the full grid instead. Results are memoised (a
    repeated search with the same workload physics, chips and inputs returns at once).
    """
    wl = _check_workload(workload)
    costs = _check_costs(cost_overrides)
    prices_usd = _check_prices(prices_usd)
    progress = check_bool("progress", progress)
    rmax = check_int("max_replicas", _av("max_replicas") if max_replicas is None else max_replicas, lo=1,
                     hi=10_000_000)
    chip_objs = _chips(chips)            # unknown names raise here, not per chip below
    _grid(batches, layout_multipliers, microbatches, chip_objs[0])   # bad grids raise here too
    for nm, g in (("batches", batches), ("layout_multipliers", layout_multipliers), ("microbatches", microbatches)):
        if g is not None:
            check_ints(nm, g, lo=1, max_len=64)
    if replicas is None:
        reps = None
    else:
        one = isinstance(replicas, (int, np.integer)) and not isinstance(replicas, bool)
        reps = check_ints("replicas", [replicas] if one else replicas, lo=1, hi=10_000_000, max_len=100_000)
    try:
        memo_key = (wl.name, _physics_key(wl), wl.background, float(wl.active_hours_per_day), tuple(chip_objs),
                    *(None if g is None else tuple(g) for g in (batches, layout_multipliers, microbatches)), reps,
                    tuple(sorted(costs.items())), None if not prices_usd else tuple(sorted(prices_usd.items())), rmax)
        hash(memo_key)
    except TypeError:
        memo_key = None
    hit = None if memo_key is None else _SEARCHES.get(memo_key)
    if hit is not None:
        return dataclasses.replace(hit, workload=wl)
    per_chip: dict[str, Candidate | str] = {}
    best: Candidate | None = None
    n_eval = 0
    from tqdm.auto import tqdm
    for c in tqdm(chip_objs, desc=f"fleet: {wl.name}", delay=1.0, disable=not progress, unit="chip"):
        try:
            t = _table(wl, c, batches, layout_multipliers, microbatches)
        except LabsimError as exc:   # e.g. a chip without a published peak: chapter 3 cannot time it
            per_chip[c.name] = f"chapter 3 cannot time it: {exc}"
            continue
        price = _price(c, prices_usd, wl)
        fits = np.asarray(t["fits"], dtype=bool)
        if reps is not None:
            tab = candidate_table(wl, c, replicas=reps, batches=batches, layout_multipliers=layout_multipliers,
                                  microbatches=microbatches, cost_overrides=costs, prices_usd=prices_usd)
            n_eval += tab["feasible"].size
            if not tab["feasible"].any():
                r_inf = np.array([[float(max(reps))]])
                tt = {k: (v[:, None] if isinstance(v, np.ndarray) else v) for k, v in t.items()}
                per_chip[c.name] = _why_none(wl, c, t, _metrics(wl, c, tt, r_inf), price, fits)
                continue
            j = int(np.argmin(np.where(tab["feasible"], tab["monthly_usd"], np.inf)))
            i_cfg, r_best = j // len(reps), int(tab["replicas"][j])
        else:
            if price is None or c.power_w is None:
                per_chip[c.name] = _why_none(wl, c, t, None, price, fits)
                continue
            idx, hi, top, n = _fewest_replicas(wl, c, t, _grid(batches, layout_multipliers, microbatches, c), rmax)
            n_eval += n
            if idx.size == 0:
                per_chip[c.name] = _why_none(wl, c, t, top, price, fits)
                continue
            ts = _sub(t, idx)
            met = _metrics(wl, c, ts, hi)
            cost = _costs(wl, c, price, ts, hi, met["rho"], costs)
            j = int(np.argmin(cost["monthly_usd"]))
            i_cfg, r_best = int(idx[j]), int(hi[j])
        cand = evaluate_candidate(wl, c, batch=int(t["batch"][i_cfg]), replicas=r_best,
                                  layout_multiplier=int(t["mult"][i_cfg]), microbatches=int(t["micro"][i_cfg]),
                                  cost_overrides=costs, prices_usd=prices_usd)
        per_chip[c.name] = cand
        if cand.feasible and (best is None or cand.monthly_usd < best.monthly_usd):
            best = cand
    out = Choice(wl, best, MappingProxyType(per_chip), n_eval)
    if memo_key is not None:
        _SEARCHES.put(memo_key, out)
    return out


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
        for name, ch in self.choices.items():
            lines.append(ch.summary())
        lines.append("fleet: " + ", ".join(f"{n:,} × {k} ({self.racks_by_type[k]:,} racks)"
                                           for k, n in self.chips_by_type.items()))
        blended = "n/a (no feasible workload)" if self.usd_per_mtok is None else f"${self.usd_per_mtok:,.3f}"
        lines.append(f"capex ${self.capex_usd / 1e6:,.2f} M · ${self.monthly_usd / 1e3:,.1f} k per month · "
                     f"{self.power_kw:,.0f} kW · blended {blended} per M output tokens")
        if not self.feasible:
            lines.append(f"infeasible workloads: {', '.join(self.infeasible)}")
        return "\n".join(lines)


def optimise(workloads, chips: Sequence | None = None, *, cost_overrides=None, prices_usd=None,
             progress: bool | None = None, **search_kwargs) -> FleetPlan:
    """Choose, per workload, the cheapest candidate meeting every SLO (see :func:`search`); return the fleet.

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
    choices = {w.name: search(w, chips, cost_overrides=costs, prices_usd=prices_usd, progress=show,
                              **search_kwargs) for w in wls}
    return FleetPlan(MappingProxyType(choices), MappingProxyType(costs))


# ----------------------------------------------------------------------------------------------------------------
# A learner's proposal, the SLO at which a choice flips, next-generation chips
# ----------------------------------------------------------------------------------------------------------------
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


def flip_slo(workload: Workload, metric: str, lo_s: float, hi_s: float, chips: Sequence | None = None, *,
             tol_s: float = 1e-3, **search_kwargs) -> float | None:
    """The SLO (seconds, between ``lo_s`` and ``hi_s``) at which the chosen memory kind changes ("sram" ↔ "hbm"):
    the choice at ``hi_s`` holds for every SLO above the returned value. None if the kind is the same at both ends.
    Infeasible counts as its own outcome. Bisection to ``tol_s``."""
    wl = _check_workload(workload)
    check_choice("metric", metric, METRICS, what="SLO metric")
    lo = check_number("lo_s", lo_s, lo=0.0, lo_open=True, hi=_L.MAX_LATENCY_S, unit="s")
    hi = check_number("hi_s", hi_s, lo=0.0, lo_open=True, hi=_L.MAX_LATENCY_S, unit="s")
    if hi <= lo:
        raise LabsimError(f"hi_s = {hi:g} s must be above lo_s = {lo:g} s")
    tol = check_number("tol_s", tol_s, lo=(hi - lo) * 1e-9, hi=_L.MAX_LATENCY_S, unit="s")
    chips = _chips(chips)

    def kind(s):
        b = search(with_slo(wl, metric, s), chips, **search_kwargs).best
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
    its SRAM, price and power scaled by [A] factors (the report: next-gen SRAM 'not publicly disclosed', [huatai26] Q10). Bandwidth, compute and system shape are unchanged [A]."""
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
    clear_cache()
    return chip


def verify_task_tail(workload: Workload, candidate: Candidate, *, n: int = 100_000, seed: int = 0) -> dict:
    """Monte Carlo check of a candidate's task (or single-call) latency with chapter 5's machinery: one step =
    a queue wait drawn from the M/M/N tail + prefill + output tokens × seconds/token × platform jitter + tool +
    network, chained ``steps`` times (``latency.task``). Returns {"p99_s", "bound_s"} for comparison with the
    union bound the optimiser uses (the bound must be ≥ the simulated P99)."""
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
    # the same (1 + C_s²)/2 correction the optimiser uses. Prefill stalls are left out of this check.
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
