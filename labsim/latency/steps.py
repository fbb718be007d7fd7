"""Steps, stages and tasks: an agent step is the sum of its latency components (queue, prefill, decode, tool,
network, speech); a task chains stages, each a wait-for-all fan-out of one step, optionally under a per-task session
multiplier (:func:`session_multiplier`). Builders: :func:`agent_step`, :func:`platform_step`, :func:`voice_turn`,
:func:`task`."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import limits as _L
from ..errors import LabsimError, check_bool, check_choice, check_fraction, check_int, check_name, check_number
from ._common import _latency, _n, _seed, _speed, _tokens
from ._kernels import _sample_folded
from .dists import Dist, as_dist, const, empirical, lognormal, stall
from .presets import _platform, voice_stages

__all__ = ["Component", "Step", "Stage", "Task", "agent_step", "platform_step", "voice_turn", "task",
           "decode_seconds", "tokens_in_seconds", "session_multiplier"]

_CATEGORIES = ("queue", "prefill", "decode", "tool", "network", "speech", "other")


@dataclass(frozen=True, eq=False)
class Component:
    """One latency term: ``scale × draw(dist)`` seconds. ``reasoning`` marks the per-token decode term
    (``dist`` is then seconds per token and ``scale`` the token count) so the planner can vary it."""
    name: str
    dist: Dist
    scale: float = 1.0
    category: str = "other"
    reasoning: bool = False

    def __post_init__(self):
        check_name("name", self.name)
        if not isinstance(self.dist, Dist):
            raise LabsimError(f"Component {self.name!r}: dist must be a Dist (use as_dist(seconds)), got {self.dist!r}")
        object.__setattr__(self, "scale", check_number(f"scale of component {self.name!r}", self.scale, lo=0.0,
                                                       hi=_L.MAX_TOKENS))
        check_choice("category", self.category, _CATEGORIES, what="component category")
        check_bool("reasoning", self.reasoning)

    @property
    def median_s(self) -> float:
        return self.scale * self.dist.median_s

    @property
    def mean_s(self) -> float:
        return self.scale * self.dist.mean_s


@dataclass(frozen=True, eq=False)
class Step:
    """A step's latency is the sum of its components (each drawn independently)."""
    components: tuple[Component, ...]
    name: str = "step"

    def __post_init__(self):
        comps = self.components
        if isinstance(comps, (str, bytes, dict)) or not isinstance(comps, (tuple, list)) or not comps:
            raise LabsimError(f"components must be a non-empty tuple of Component, got {comps!r}")
        for i, c in enumerate(comps):
            if not isinstance(c, Component):
                raise LabsimError(f"components[{i}] must be a Component, got {c!r}")
        object.__setattr__(self, "components", tuple(comps))
        check_name("name", self.name)

    def breakdown(self) -> list[tuple[str, float, str]]:
        """(name, median seconds, category) per component — what a Gantt bar draws. The sum of medians is
        not the median of the sum; use ``tails()`` for percentiles."""
        return [(c.name, c.median_s, c.category) for c in self.components]

    @property
    def median_sum_s(self) -> float:
        return float(sum(c.median_s for c in self.components))

    @property
    def mean_s(self) -> float:
        return float(sum(c.mean_s for c in self.components))

    @property
    def is_deterministic(self) -> bool:
        return all(c.dist.var_s2 == 0 for c in self.components)

    def sample(self, n: int = 100_000, seed: int = 0) -> np.ndarray:
        return task(self).sample(n, seed)


@dataclass(frozen=True, eq=False)
class Stage:
    step: Step
    fan_out: int = 1

    def __post_init__(self):
        if not isinstance(self.step, Step):
            raise LabsimError(f"step must be a Step, got {type(self.step).__name__}")
        object.__setattr__(self, "fan_out", check_int("fan_out", self.fan_out, lo=1, hi=_L.MAX_FAN_OUT))


@dataclass(frozen=True, eq=False)
class Task:
    """A chain of stages; each stage runs ``fan_out`` independent copies of its step and waits for the slowest.

    ``session`` (optional): a multiplier (median ≈ 1) drawn once per task and applied to every prefill and decode
    component — a slow or throttled device serves the whole session, so its slowness does not average out along
    the chain (docs/design/latency.md). ``session_multiplier()`` builds the course default.
    """
    stages: tuple[Stage, ...]
    name: str = "task"
    session: Dist | None = None

    def __post_init__(self):
        st = self.stages
        if isinstance(st, (str, bytes, dict)) or not isinstance(st, (tuple, list)) or not st:
            raise LabsimError(f"stages must be a non-empty tuple of Stage, got {st!r}")
        for i, x in enumerate(st):
            if not isinstance(x, Stage):
                raise LabsimError(f"stages[{i}] must be a Stage, got {x!r}")
        if len(st) > _L.MAX_STEPS:
            raise LabsimError(f"stages holds {len(st):,} stages; allowed: at most {_L.MAX_STEPS:,}")
        object.__setattr__(self, "stages", tuple(st))
        check_name("name", self.name)
        if self.session is not None and not isinstance(self.session, Dist):
            raise LabsimError(f"session must be a Dist (a multiplier with median ≈ 1), got {self.session!r}")

    def _arrays(self):
        kinds, pa, pb, pc, scale, reasoning, start, fan, emps = [], [], [], [], [], [], [0], [], []
        emp_len = 0
        offsets: dict[int, int] = {}   # one copy of each empirical sample array, however often it is used
        for st in self.stages:
            for comp in st.step.components:
                if comp.dist.kind == "empirical":
                    if id(comp.dist) not in offsets:
                        offsets[id(comp.dist)] = emp_len
                        emps.append(comp.dist.samples)
                        emp_len += comp.dist.samples.size
                    k, a, b, c = comp.dist._code(offsets[id(comp.dist)])
                else:
                    k, a, b, c = comp.dist._code(0)
                for column, value in ((kinds, k), (pa, a), (pb, b), (pc, c), (scale, comp.scale),
                                      (reasoning, comp.reasoning)):
                    column.append(value)
            start.append(len(kinds))
            fan.append(st.fan_out)
        if self.session is not None and self.session.kind == "empirical":
            if id(self.session) not in offsets:
                offsets[id(self.session)] = emp_len
                emps.append(self.session.samples)
                emp_len += self.session.samples.size
            object.__setattr__(self, "_session_offset", offsets[id(self.session)])
        else:
            object.__setattr__(self, "_session_offset", 0)
        emp = np.concatenate(emps) if emps else np.zeros(1)
        return (np.asarray(kinds, np.int64), np.asarray(pa, float), np.asarray(pb, float), np.asarray(pc, float),
                np.asarray(scale, float), np.asarray(reasoning, np.bool_), np.asarray(start, np.int64),
                np.asarray(fan, np.int64), emp)

    @property
    def steps(self) -> int:
        return len(self.stages)

    @property
    def median_sum_s(self) -> float:
        return float(sum(st.step.median_sum_s for st in self.stages))

    def sample(self, n: int = 100_000, seed: int = 0) -> np.ndarray:
        """``n`` seeded task latencies (seconds)."""
        n, seed = _n("n", n), _seed(seed)
        kinds, pa, pb, pc, scale, _, start, fan, emp = self._arrays()
        corr = np.asarray([c.category in ("prefill", "decode") for st in self.stages for c in st.step.components],
                          dtype=np.bool_)
        sess = np.array([-1.0, 0.0, 0.0, 0.0]) if self.session is None else \
            np.asarray(self.session._code(self._session_offset), dtype=np.float64)
        return _sample_folded(kinds, pa, pb, pc, scale, start, fan, emp, n, seed, corr, sess)


def task(step: Step | Task, steps: int = 1, fan_out: int = 1, name: str = "task", session: Dist | None = None) -> Task:
    """A chain of ``steps`` identical stages, each a ``fan_out``-way wait-for-all of ``step``; ``session`` is an
    optional per-task multiplier on prefill and decode (see ``Task``)."""
    return _task(step, steps, fan_out, name, session, "step")


def _task(step, steps, fan_out, name, session, param: str) -> Task:
    if isinstance(step, Task):
        if steps != 1 or fan_out != 1 or session is not None:
            raise LabsimError(f"{param}: steps/fan_out/session apply to a Step, not to a Task")
        return step
    if not isinstance(step, Step):
        raise LabsimError(f"{param} must be a Step or a Task, got {type(step).__name__}")
    steps = check_int("steps", steps, lo=1, hi=_L.MAX_STEPS)
    fan_out = check_int("fan_out", fan_out, lo=1, hi=_L.MAX_FAN_OUT)
    check_name("name", name)
    return Task(tuple(Stage(step, fan_out) for _ in range(steps)), name, session)


def decode_seconds(tokens, tokens_per_s) -> float:
    """Time to generate ``tokens`` at ``tokens_per_s`` per user: tokens / speed (2,000 at 1,600 tok/s = 1.25 s)."""
    return _tokens("tokens", tokens) / _speed("tokens_per_s", tokens_per_s)


def tokens_in_seconds(seconds, tokens_per_s) -> int:
    """Whole tokens that fit in ``seconds`` at ``tokens_per_s``."""
    s = _latency("seconds", seconds)
    return int(math.floor(s * _speed("tokens_per_s", tokens_per_s) + 1e-9))


def agent_step(output_tokens, decode_tokens_per_s, *, prompt_tokens=0, prefill_tokens_per_s=None, ttft_s=None,
               decode_sigma=0.0, decode_jitter: Dist | None = None, queue_s=0.0, tool_s=0.0, network_s=0.0,
               stall_p=0.0, stall_lo_s=0.0, stall_hi_s=0.0, name: str = "agent step") -> Step:
    """One agent step = queue + TTFT + output_tokens ÷ decode speed + tool + network (+ an optional stall).

    TTFT is ``ttft_s`` if given (a number or a Dist), else prompt_tokens ÷ prefill_tokens_per_s.
    ``decode_sigma`` is a lognormal multiplier on the whole decode time, drawn once per step (a slow step stays
    slow for all its tokens; per-token jitter would average out). ``decode_jitter`` instead gives that multiplier
    as any Dist with median ≈ 1 (e.g. ``gpu_decode_jitter()``, chapter 2's run-to-run distribution).
    E2E = TTFT + N·TPOT (NVIDIA NIM / DistServe).
    """
    out = _tokens("output_tokens", output_tokens)
    speed = _speed("decode_tokens_per_s", decode_tokens_per_s)
    sigma = check_number("decode_sigma", decode_sigma, lo=0.0, hi=5.0)
    check_name("name", name)
    comps = [Component("queue", as_dist(queue_s, "queue_s"), category="queue")]
    n_in = _tokens("prompt_tokens", prompt_tokens)
    pf = None if prefill_tokens_per_s is None else _speed("prefill_tokens_per_s", prefill_tokens_per_s)
    if ttft_s is not None:
        comps.append(Component("time to first token", as_dist(ttft_s, "ttft_s"), category="prefill"))
    elif n_in > 0:
        if pf is None:
            raise LabsimError("prompt_tokens > 0 needs prefill_tokens_per_s (or give ttft_s directly)")
        if n_in / pf > _L.MAX_LATENCY_S:
            raise LabsimError(f"prompt_tokens / prefill_tokens_per_s = {n_in / pf:g} s of prefill is out of range; "
                              f"allowed: at most {_L.MAX_LATENCY_S:g} s")
        comps.append(Component("prefill", const(1.0 / pf), scale=n_in, category="prefill"))
    else:
        comps.append(Component("prefill", const(0.0), category="prefill"))
    if decode_jitter is not None:
        if not isinstance(decode_jitter, Dist):
            raise LabsimError(f"decode_jitter must be a Dist (a multiplier with median ≈ 1), got {decode_jitter!r}")
        if sigma > 0:
            raise LabsimError("give decode_sigma or decode_jitter, not both")
        try:
            spt = decode_jitter.scaled(1.0 / speed)
        except LabsimError as exc:
            raise LabsimError(f"decode_jitter ÷ decode_tokens_per_s = {speed:g} tok/s: {exc}") from None
    else:
        spt = lognormal(1.0 / speed, sigma) if sigma > 0 else const(1.0 / speed)
    comps.append(Component("reasoning / output tokens", spt, scale=out, category="decode", reasoning=True))
    p_stall = check_fraction("stall_p", stall_p)
    s_lo, s_hi = _latency("stall_lo_s", stall_lo_s), _latency("stall_hi_s", stall_hi_s)
    if s_hi < s_lo:
        raise LabsimError(f"stall_hi_s = {s_hi:g} s is below stall_lo_s = {s_lo:g} s; allowed: stall_hi_s ≥ stall_lo_s")
    stall_d = stall(p_stall, s_lo, s_hi)
    if p_stall > 0:
        comps.append(Component("stall", stall_d, category="queue"))
    comps.append(Component("tool call", as_dist(tool_s, "tool_s"), category="tool"))
    comps.append(Component("network", as_dist(network_s, "network_s"), category="network"))
    return Step(tuple(comps), name)


def platform_step(platform_name: str, output_tokens, decode_tokens_per_s, *, tool_s=0.0, network_s=0.0,
                  queue_s=0.0, stalls: bool = True, name: str | None = None) -> Step:
    """An agent step whose TTFT, decode jitter and stalls come from a platform archetype (platforms.toml, [A])."""
    p = _platform(platform_name, "platform_name")
    stalls = check_bool("stalls", stalls)
    if name is not None:
        check_name("name", name)
    ttft = lognormal(p.ttft_p50_s, p.ttft_sigma) if p.ttft_sigma > 0 else const(p.ttft_p50_s)
    return agent_step(output_tokens, decode_tokens_per_s, ttft_s=ttft, decode_sigma=p.decode_sigma,
                      queue_s=queue_s, tool_s=tool_s, network_s=network_s,
                      stall_p=p.p_stall if stalls else 0.0, stall_lo_s=p.stall_lo_s, stall_hi_s=p.stall_hi_s,
                      name=name or p.display_name)


def voice_turn(platform_name: str = "hosted_gpu_api", *, ttft_s=None, first_sentence_tokens=0,
               decode_tokens_per_s=None, stalls: bool = True, jitter: bool = True) -> Step:
    """One cascaded voice turn (mic → transport → endpointing → STT → LLM → TTS → transport → speaker).

    Non-LLM stages: data/latency/voice_turn.toml ([A] defaults built on the sources named there). The LLM stage is the
    platform's TTFT (or ``ttft_s``) plus ``first_sentence_tokens`` ÷ ``decode_tokens_per_s``.
    ``jitter=False`` replaces every distribution by its median (the deterministic budget).
    """
    p = _platform(platform_name, "platform_name")
    n_tok = _tokens("first_sentence_tokens", first_sentence_tokens)
    stalls, jitter = check_bool("stalls", stalls), check_bool("jitter", jitter)
    speed = None if decode_tokens_per_s is None else _speed("decode_tokens_per_s", decode_tokens_per_s)
    comps = []
    for st in voice_stages():
        if st.get("llm"):
            if ttft_s is not None:
                ttft = as_dist(ttft_s, "ttft_s")
            else:
                ttft = lognormal(p.ttft_p50_s, p.ttft_sigma) if (jitter and p.ttft_sigma > 0) else const(p.ttft_p50_s)
            if not jitter:
                ttft = const(ttft.median_s)
            comps.append(Component("LLM time to first token", ttft, category="prefill"))
            if stalls and jitter and p.p_stall > 0:
                comps.append(Component("LLM stall", stall(p.p_stall, p.stall_lo_s, p.stall_hi_s), category="queue"))
            if n_tok > 0:
                if decode_tokens_per_s is None:
                    raise LabsimError("first_sentence_tokens > 0 needs decode_tokens_per_s")
                sig = p.decode_sigma if jitter else 0.0
                comps.append(Component("LLM first sentence", lognormal(1 / speed, sig) if sig > 0 else const(1 / speed),
                                       scale=n_tok, category="decode", reasoning=True))
            continue
        sigma = float(st["sigma"]) if jitter else 0.0
        d = lognormal(st["p50_s"], sigma) if sigma > 0 else const(st["p50_s"])
        cat = "network" if ("transport" in st["name"]) else "speech"
        comps.append(Component(st["name"], d, category=cat))
    return Step(tuple(comps), f"voice turn ({p.display_name})")


def session_multiplier(sigma=0.05, p_slow_device=0.01, slow_lo=1.3, slow_hi=1.5, *, n: int = 100_000,
                       seed: int = 0) -> Dist:
    """Per-session device slowdown [A] (after [sinha22]): lognormal(1, σ) identical-SKU variation times,
    with probability ``p_slow_device``, a uniform(slow_lo, slow_hi) slow device (Sinha et al., SC22: 8 % average
    variation, outliers 1.5× the median GPU). Returned as an empirical Dist of ``n`` seeded draws."""
    sig = check_number("sigma", sigma, lo=0.0, hi=2.0)
    p = check_fraction("p_slow_device", p_slow_device)
    lo = check_number("slow_lo", slow_lo, lo=0.0, hi=1e3)
    hi = check_number("slow_hi", slow_hi, lo=0.0, hi=1e3)
    if hi < lo:
        raise LabsimError(f"slow_hi = {hi:g} is below slow_lo = {lo:g}; allowed: slow_hi ≥ slow_lo")
    rng = np.random.default_rng(_seed(seed))
    m = np.exp(sig * rng.standard_normal(_n("n", n)))
    slow = rng.random(m.size) < p
    m[slow] *= rng.uniform(lo, hi, int(slow.sum()))
    return empirical(m)

