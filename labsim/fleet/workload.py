"""Workloads, SLOs and scenarios as values: what a fleet must serve, and the helpers that edit them."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .. import catalog, latency
from .. import limits as _L
from ..errors import (
    LabsimError,
    check_choice,
    check_int,
    check_mapping,
    check_name,
    check_number,
    check_text,
)
from ..precision import PRECISIONS

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


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    description: str
    workloads: tuple[Workload, ...]
    cost_overrides: Mapping[str, float]
    sources: Mapping[str, str]


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


def _check_workload(wl, param: str = "workload") -> Workload:
    if not isinstance(wl, Workload):
        raise LabsimError(f"{param} must be a fleet.Workload, got {type(wl).__name__}")
    return wl
