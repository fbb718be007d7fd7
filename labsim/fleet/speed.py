"""Chapter-3 speed tables: seconds per token, prefill, fit and slots for every configuration of a chip."""
from __future__ import annotations

import numpy as np

from .. import _memo, capacity, catalog
from .. import limits as _L
from ..errors import (
    LabsimError,
    check_choice,
    check_int,
    check_ints,
)
from .assumptions import _av


def _chip(c, param: str = "chip") -> catalog.Chip:
    if isinstance(c, catalog.Chip):
        return c
    if isinstance(c, str):
        return catalog.chip(check_choice(param, c, catalog.chips(), what="chip"))
    raise LabsimError(f"{param} must be a catalog chip name or a Chip, got {c!r}")


def _chips(chip_names, param: str = "chip_names") -> list[catalog.Chip]:
    """None (every catalog chip), one name or Chip, or a sequence of them."""
    if chip_names is None:
        names = catalog.chips()
    elif isinstance(chip_names, (str, catalog.Chip)):
        names = [chip_names]
    elif isinstance(chip_names, (list, tuple)) or (isinstance(chip_names, np.ndarray) and chip_names.ndim == 1):
        names = list(chip_names)
    else:
        raise LabsimError(f"{param} must be None, a catalog chip name or a list of them, got {chip_names!r}")
    if not names:
        raise LabsimError(f"{param} must name at least one catalog chip")
    return [_chip(n, param) for n in names]


def _chip_names_or_alias(chip_names, chips, default=None):
    """``chip_names``, or the same sequence given under its old keyword ``chips`` (kept as an alias)."""
    if chips is None:
        return chip_names
    if chip_names is not default:
        raise LabsimError("give chip_names or its old name chips, not both")
    return chips


def replica_prefill_seconds(model, chip, prompt_tokens, *, chips=None, precision: str = "int8",
                            context_tokens: int | None = None) -> float:
    """Prefill time of ``prompt_tokens`` on one replica of ``chips`` × ``chip`` (a count; default: chapter 3's),
    from chapter 3's model (:func:`labsim.capacity.prefill_sweep`). Old name: ``prefill_seconds`` (an alias;
    ``labsim.latency`` has its own prefill bridge at batch 1)."""
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


#: the old name, kept as an alias
prefill_seconds = replica_prefill_seconds


@_memo.memo(256, group="fleet.speed")
def _speed_table(m: catalog.Model, chip: catalog.Chip, precision: str, ctx: int, prompt: int,
                 batches: tuple, mults: tuple, micros: tuple):
    """Per configuration (multiplier × batch × microbatches), flattened: chips per replica, seconds per token,
    prefill seconds, slots, fits, dominant bound, crosses the cliff. Pure chapter-3 numbers. Memoized on the Model
    and Chip values (every field compares, extras included), so a chip or model re-registered under the same name
    with other numbers gets a fresh table.

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
                fits &= chips <= chip.sync_domain_chips      # tensor parallelizm stays inside one NVLink domain
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


def _table(wl, chip, batches, layout_multipliers, microbatches):
    b, m, mb = _grid(batches, layout_multipliers, microbatches, chip)
    return _speed_table(catalog.model(wl.model), chip, wl.precision, wl.context, int(wl.prompt_tokens), b, m, mb)
