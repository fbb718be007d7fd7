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

and keeps, per workload, the cheapest candidate that meets every SLO. The search is vectorized: one
``decode_sweep`` per (chip, microbatches) covers every batch × layout, and a vectorized 16-ary search finds the fewest
replicas that meet the SLOs for all configurations at once. Every non-catalog number is a named [A] assumption in
:data:`ASSUMPTIONS`. Equations and limits: ``docs/design/fleet.md``.

One job per module: ``assumptions`` (the named defaults), ``workload`` (SLO, Workload, Scenario), ``scenario``
(bundled files), ``queueing`` (numba Erlang C / Poisson kernels), ``speed`` (chapter-3 speed tables), ``metrics``
(SLO metrics and cost, vectorized), ``candidate`` (one candidate, grids), ``optimizer`` (search, optimize, the
fleet), ``whatif`` (a learner's proposal, the flip SLO, next-generation chips, a Monte Carlo check). Memos:
``labsim._memo``, keyed on values only. Old names kept as aliases: ``optimise``, ``prefill_seconds``, and the
``chips=`` keyword for a sequence of chip names (now ``chip_names``).

    >>> from labsim import fleet
    >>> plan = fleet.optimize(fleet.load_scenario("mixed_product"))
    >>> print(plan.summary())                                   # doctest: +SKIP
"""
from __future__ import annotations

from .. import capacity as capacity
from .. import catalog as catalog
from .. import latency as latency
from .. import tco as tco
from .assumptions import ASSUMPTIONS, assumptions_table
from .candidate import Candidate, candidate_table, evaluate_candidate, fastest
from .metrics import _metrics as _metrics
from .optimizer import Choice, FleetPlan, clear_cache, optimise, optimize, search
from .optimizer import _fewest_replicas as _fewest_replicas
from .queueing import _erlang_c as _erlang_c
from .queueing import _poisson_ppf as _poisson_ppf
from .queueing import _warmup as _warmup
from .scenario import DATA_DIR as DATA_DIR
from .scenario import load_scenario, scenarios
from .speed import _chip_names_or_alias as _chip_names_or_alias
from .speed import _chips as _chips
from .speed import _table as _table
from .speed import prefill_seconds, replica_prefill_seconds
from .whatif import FleetCheck, check_fleet, flip_slo, sram_variant, verify_task_tail
from .workload import METRICS, SLO, Scenario, Workload, scale_rates, with_slo, workload_from_task

__all__ = [
    "ASSUMPTIONS", "assumptions_table", "METRICS", "SLO", "Workload", "Scenario", "scenarios", "load_scenario",
    "Candidate", "Choice", "FleetPlan", "evaluate_candidate", "candidate_table", "search", "optimize", "optimise",
    "check_fleet", "FleetCheck", "flip_slo", "sram_variant", "with_slo", "scale_rates", "replica_prefill_seconds",
    "prefill_seconds",
    "verify_task_tail", "workload_from_task", "fastest", "clear_cache",
]
