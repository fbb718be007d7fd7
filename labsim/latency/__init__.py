"""The agentic latency budget (chapter 5): thresholds, steps, chains, fan-out tails, queues, a budget planner.

The core takes plain numbers — tokens/s, seconds, USD per million tokens; the bridges (``decode_speed``,
``prefill_seconds``, ``chip_step``, ``plan_on_chip``, ``usd_per_mtok``, ``report_fig11_points``,
``gpu_decode_jitter``) fetch those numbers from ``labsim.capacity`` / ``labsim.tco`` / ``labsim.gpu``.

Model (design and sources: ``docs/design/latency.md``; bibliography: ``docs/sources.md``):

* a **component** is a latency in seconds, fixed or drawn from a named distribution, times a scale
  (e.g. ``tokens × seconds-per-token``);
* an agent **step** = queue wait + time to first token (prefill) + reasoning/output tokens ÷ decode speed + tool
  call + network — the sum of its components (NVIDIA NIM / DistServe definition of end-to-end latency);
* a **task** = a chain of stages; a stage runs ``fan_out`` independent copies of its step and the slowest gates
  the next stage ("wait for all");
* tails by seeded Monte Carlo (numba) and, where one exists, by closed form: ``1 − p^k`` for chains and
  ``1 − F(t)^n`` for fan-out (Dean & Barroso, "The Tail at Scale", CACM 2013);
* a single FIFO server with Poisson (or any-CV gamma) arrivals simulated by the Lindley recursion, against
  Pollaczek–Khinchine and Kingman; a batching server that waits to fill a batch;
* a budget planner: the largest reasoning budget whose task latency quantile meets an SLO, and its cost per task.

Every random draw takes ``seed``; no distribution's tail is clipped.

Modules, lowest floor first (each imports only modules above it in this list):

* :mod:`._common` — the quantiles, bounds and validators the others share;
* :mod:`.presets` — sourced thresholds, platform archetypes, voice-turn stages (``data/latency/*.toml``);
* :mod:`._kernels` — the numba kernels (private) and the kind codes they switch on;
* :mod:`.dists` — :class:`Dist` and its constructors;
* :mod:`.steps` — components, steps, stages, tasks and their builders, the session multiplier;
* :mod:`.summary` — :func:`tails` and :func:`simulate`;
* :mod:`.closed_forms` — chain and fan-out closed forms;
* :mod:`.queueing` — M/G/1 closed forms, the Lindley queue, the batching server;
* :mod:`.budget` — the reasoning-budget planner and cost per task;
* :mod:`.bridges` — numbers from chapters 2–4 (``gpu``, ``capacity``, ``tco``).
"""
from __future__ import annotations

from ._common import QUANTILES
from ._kernels import _gamma_draw, _normals  # noqa: F401  (private kernels that tests and benches call directly)
from .bridges import (
    chip_step,
    decode_speed,
    gpu_decode_jitter,
    gpu_step_samples,
    plan_on_chip,
    prefill_seconds,
    report_fig11_points,
    usd_per_mtok,
)
from .budget import BudgetPlan, cost_per_task_usd, max_reasoning_tokens, plan_budget
from .closed_forms import (
    binomial_quantile,
    chain_quantile,
    chain_slow_probability,
    fanout_quantile,
    fanout_slow_probability,
)
from .dists import (
    Dist,
    as_dist,
    const,
    empirical,
    exponential,
    gamma,
    lognormal,
    lognormal_from_quantile,
    stall,
    two_point,
    uniform,
)
from .presets import Platform, Threshold, platform, platforms, threshold_s, thresholds, voice_stages
from .queueing import (
    BatchResult,
    QueueResult,
    batching_curve,
    kingman_mean_wait_s,
    linear_batch_seconds_per_token,
    md1_mean_wait_s,
    mm1_mean_wait_s,
    mm1_wait_quantile_s,
    pk_mean_wait_s,
    simulate_batching,
    simulate_queue,
)
from .steps import (
    Component,
    Stage,
    Step,
    Task,
    agent_step,
    decode_seconds,
    platform_step,
    session_multiplier,
    task,
    tokens_in_seconds,
    voice_turn,
)
from .summary import Tails, simulate, tails

__all__ = [
    # thresholds and presets
    "Threshold", "thresholds", "threshold_s", "Platform", "platforms", "platform", "voice_stages",
    # distributions
    "Dist", "as_dist", "const", "lognormal", "lognormal_from_quantile", "exponential", "uniform", "gamma",
    "two_point", "stall", "empirical",
    # steps and tasks
    "Component", "Step", "Stage", "Task", "agent_step", "platform_step", "voice_turn", "task", "Tails",
    "tails", "simulate", "session_multiplier", "QUANTILES", "decode_seconds", "tokens_in_seconds",
    # closed forms
    "chain_slow_probability", "fanout_slow_probability", "fanout_quantile", "chain_quantile",
    "binomial_quantile",
    # queueing and batching
    "pk_mean_wait_s", "mm1_mean_wait_s", "md1_mean_wait_s", "kingman_mean_wait_s", "mm1_wait_quantile_s",
    "QueueResult", "simulate_queue", "BatchResult", "simulate_batching", "batching_curve",
    "linear_batch_seconds_per_token",
    # planner
    "BudgetPlan", "plan_budget", "plan_on_chip", "max_reasoning_tokens", "cost_per_task_usd",
    # bridges to chapters 2-4
    "decode_speed", "prefill_seconds", "chip_step", "usd_per_mtok", "report_fig11_points", "gpu_step_samples",
    "gpu_decode_jitter",
]


def _warmup() -> None:
    """Compile (or load from cache) every kernel on tiny inputs."""
    _normals(4, 0)
    s = agent_step(10, 100.0, ttft_s=lognormal(0.1, 0.1), tool_s=two_point(0.1, 0.5, 0.1),
                   network_s=exponential(0.01), queue_s=stall(0.1, 0.1, 0.2))
    task(s, 2, 2).sample(10, 0)
    task(s, 2, 1, session=session_multiplier(n=10)).sample(10, 0)
    empirical([0.1, 0.2]).sample(4, 0)
    uniform(0.0, 1.0).sample(2, 0)
    gamma(1.0, 0.5).sample(2, 0)
    simulate_queue(0.5, 1.0, 1.0, customers=1000, seed=0)
    simulate_queue(0.5, 1.0, 0.5, arrival_cv=0.5, customers=1000, seed=0)
    simulate_batching(1.0, 2, [0.5, 0.6], requests=100, seed=0)
    plan_budget(1.0, 100.0, decode_sigma=0.1, n_samples=10)
