"""The SRAM capacity tax: chips needed, decode time per token, time to first token and the roofline (chapter 3).

* :func:`plan` — how many chips (nodes, racks, network domains, dollars) a model needs once weights, KV cache,
  activations/workspace and per-chip reserved memory are all counted (:mod:`.plan`).
* :func:`decode_time` — seconds per generated token and which bound sets it: one model for every chapter
  (:mod:`.decode`; LPU pipelines in :mod:`.lpu`, HBM chips in :mod:`.hbm`), validated against published
  speeds in :mod:`labsim.validation`. Every knob is a field of :class:`DecodeConfig`.
* :func:`prefill_time` — time to first token (:mod:`.prefill`); :func:`roofline` and friends (:mod:`.roofline`).

:func:`plan_sweep`, :func:`decode_sweep` and :func:`prefill_sweep` evaluate the same equations over NumPy
arrays. Every unpublished number is a named, overridable parameter in :data:`ASSUMPTIONS` with its status
([P]/[S]/[D]/[A]) and citation; none is tuned to reproduce a published tokens/s. Design notes and equations:
``docs/design/capacity.md``.
"""
from __future__ import annotations

from ..assumptions import Assumption
from . import lpu, mesh  # noqa: F401  (sub-models, for labsim.validation)
from ._common import as_chip as _as_chip
from ._common import as_precision as _as_precision
from ._common import compute_precision as _compute_precision
from .decode import DecodeResult, SpeculativeResult, compute_bound_batch, decode_sweep, decode_time, speculative
from .defaults import ASSUMPTIONS, BOUNDS, LAYOUTS, MOE_SCHEDULES, DecodeConfig, assumptions_table
from .memory import experts_touched
from .plan import Plan, plan, plan_sweep, reconcile_576, usable_bytes_per_chip
from .prefill import PrefillResult, prefill_sweep, prefill_time
from .roofline import (
    decode_intensity,
    memory_sweep_time_s,
    prefill_intensity,
    ridge_intensity,
    roofline,
    roofline_points,
)

__all__ = [
    "ASSUMPTIONS", "Assumption", "BOUNDS", "LAYOUTS", "MOE_SCHEDULES", "DecodeConfig", "Plan", "DecodeResult",
    "PrefillResult", "SpeculativeResult", "plan", "plan_sweep", "decode_time", "decode_sweep", "prefill_time",
    "prefill_sweep", "speculative", "roofline", "ridge_intensity", "decode_intensity", "prefill_intensity",
    "roofline_points", "compute_bound_batch", "compute_precision_for", "reconcile_576", "memory_sweep_time_s",
    "experts_touched", "assumptions_table", "usable_bytes_per_chip",
]


def compute_precision_for(chip, precision: str = "int8") -> str:
    """The precision the matmuls of ``precision`` weights run at on ``chip`` (INT8 weights on a chip without
    INT8 run in FP8/FP16; block floating point on the TSP runs in FP16)."""
    return _compute_precision(_as_chip(chip), _as_precision("precision", precision))
