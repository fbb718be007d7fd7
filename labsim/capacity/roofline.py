"""The roofline (Williams, Waterman & Patterson, CACM 2009): attainable ops/s versus arithmetic intensity."""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .. import catalog
from ..errors import LabsimError, check_array, check_fraction, check_int, check_number
from ..limits import MAX_OPS_PER_S
from ._common import as_chip as _chip
from ._common import as_model as _model
from ._common import as_precision, compute_precision, whole
from .defaults import ASSUMPTIONS, DecodeConfig
from .hbm import hbm_constants, hbm_token_time

__all__ = ["roofline", "ridge_intensity", "decode_intensity", "prefill_intensity", "roofline_points",
           "memory_sweep_time_s"]


def _prec(name, value):
    return as_precision(name, value)


def _default_compute_precision(c, precision):
    return compute_precision(c, precision)


def _peak(c: catalog.Chip, precision: str, peak_ops_per_s) -> float:
    """The chip's published dense peak at ``precision``, or the caller's ``peak_ops_per_s`` (inf = no compute roof)."""
    if peak_ops_per_s is not None:
        if isinstance(peak_ops_per_s, (float, np.floating)) and peak_ops_per_s == math.inf:
            return math.inf
        return check_number("peak_ops_per_s", peak_ops_per_s, lo=0.0, lo_open=True, hi=MAX_OPS_PER_S, unit="ops/s")
    if not c.peak_ops_per_s:
        raise LabsimError(f"chip {c.name!r} publishes no peak ops/s in the catalog, so its roofline has no compute "
                          "roof; pass peak_ops_per_s=<a sourced value> (or math.inf for the bandwidth slope only)")
    return c.peak_ops(precision)


def roofline(chip, intensity_flops_per_byte, precision: str = "int8", *, bandwidth_efficiency: float = 1.0,
             compute_efficiency: float = 1.0, peak_ops_per_s: float | None = None):
    """Attainable ops/s = min(peak × compute_efficiency, intensity × bandwidth × bandwidth_efficiency).

    Vectorized over ``intensity_flops_per_byte`` (ops per byte moved from main memory, > 0). Williams, Waterman
    & Patterson, CACM 2009. Returns a float for a scalar input, else an array. ``peak_ops_per_s`` overrides the
    catalog peak (needed for a chip that publishes none, e.g. Cerebras CS-3; ``math.inf`` = bandwidth slope only).
    """
    c = _chip(chip)
    precision = _prec("precision", precision)
    peak = _peak(c, precision, peak_ops_per_s) * check_fraction("compute_efficiency", compute_efficiency,
                                                                allow_zero=False)
    bw = c.memory_bandwidth_bytes_per_s * check_fraction("bandwidth_efficiency", bandwidth_efficiency,
                                                         allow_zero=False)
    x = check_array("intensity_flops_per_byte", intensity_flops_per_byte, lo=0.0, lo_open=True)
    out = np.minimum(peak, x * bw)
    return float(out) if out.ndim == 0 else out


def ridge_intensity(chip, precision: str = "int8", *, peak_ops_per_s: float | None = None) -> float:
    """Intensity (ops/byte) where the roofline bends: peak ÷ bandwidth (``peak_ops_per_s`` as in :func:`roofline`)."""
    c = _chip(chip)
    if isinstance(peak_ops_per_s, (float, np.floating)) and peak_ops_per_s == math.inf:
        raise LabsimError("peak_ops_per_s = inf has no ridge (the roofline never bends); allowed: a finite peak in "
                          f"(0, {MAX_OPS_PER_S:g}] ops/s, or None for the chip's published peak")
    return _peak(c, _prec("precision", precision), peak_ops_per_s) / c.memory_bandwidth_bytes_per_s


def decode_intensity(model, precision: str = "int8", *, batch=1, context_tokens=None, kv_precision="fp16",
                     expert_precision=None):
    """Arithmetic intensity of one decode step (ops per byte read): batch × FLOPs/token ÷ bytes read.

    Bytes read = active weights (MoE: experts the batch touches) + KV cache of the batch. Vectorized over batch.
    """
    m = _model(model)
    if context_tokens is None:
        context_tokens = ASSUMPTIONS["context_tokens"].value
    ctx = check_number("context_tokens", context_tokens, lo=0, hi=1e9)
    b = check_array("batch", batch, lo=1.0, hi=1e8)
    whole("batch", b, "sequences")
    cfg = DecodeConfig(precision=_prec("precision", precision), kv_precision=_prec("kv_precision", kv_precision),
                       expert_precision=None if expert_precision is None else _prec("expert_precision",
                                                                                     expert_precision))
    k = hbm_constants(_any_chip_for_bytes(), cfg, "fp16")
    out = hbm_token_time(m, cfg, k, 1.0, b, ctx)
    val = out["flops"] / out["bytes_read"]
    return float(val) if np.ndim(val) == 0 else val


@lru_cache(maxsize=1)
def _any_chip_for_bytes() -> catalog.Chip:
    """A dummy HBM chip: byte/FLOP counts of a decode step do not depend on the chip."""
    return catalog.load_chip({"name": "_intensity_probe", "memory_kind": "hbm", "memory_bytes": 1e12,
                              "memory_bandwidth_bytes_per_s": 1e12, "peak_ops_per_s": {"fp16": 1e15}})


def prefill_intensity(model, precision: str = "int8", *, prompt_tokens: int = 2048, kv_precision="fp16"):
    """Arithmetic intensity of prefilling ``prompt_tokens`` tokens at once (weights read once for all of them).

    ≈ prompt_tokens × FLOPs/token ÷ (weight bytes + KV written); grows ~linearly with the prompt length.
    """
    m = _model(model)
    n = check_int("prompt_tokens", prompt_tokens, lo=1, hi=10_000_000)
    flops = float(np.sum(m.flops_per_token(np.arange(n, dtype=np.float64)))) if n <= 100_000 else \
        n * m.flops_per_token(n / 2)
    byts = m.weight_bytes(_prec("precision", precision)) + m.kv_cache_bytes(n, precision=_prec("kv_precision",
                                                                                               kv_precision))
    return flops / byts


def roofline_points(model, chip, precision: str = "int8", *, batch: int = 1, context_tokens=None,
                    prompt_tokens: int = 2048) -> dict[str, tuple[float, float]]:
    """{"decode": (intensity, attainable ops/s), "prefill": (…)} for ``model`` on ``chip``."""
    c = _chip(chip)
    cp = _default_compute_precision(c, _prec("precision", precision))
    batch = check_int("batch", batch, lo=1, hi=10_000_000)
    d = decode_intensity(model, precision, batch=batch, context_tokens=context_tokens)
    pf = prefill_intensity(model, precision, prompt_tokens=prompt_tokens)
    return {"decode": (d, roofline(c, d, cp)), "prefill": (pf, roofline(c, pf, cp))}


def memory_sweep_time_s(chip) -> float:
    """Time to read a chip's whole memory once: capacity ÷ bandwidth (report Fig 18 arithmetic)."""
    c = _chip(chip)
    return c.memory_bytes / c.memory_bandwidth_bytes_per_s


# ----------------------------------------------------------------------------------------------------------
