"""The start notebook's 60-second tour: one model, two chips, side by side.

Two first-order numbers per chip, both computed from the catalog:
* chips needed to *hold* the model: the weights alone, ceil(weight bytes / memory per chip), and the weights plus
  the KV cache of the context, activations and each chip's reserve — chapter 3's ``capacity.plan`` at that
  context (one sequence; GPUs rounded up to a power of two, as a tensor-parallel group is);
* decode speed at batch 1, twice: first a **bound** — every generated token must stream all active weights (and
  the KV cache) out of memory once, so tokens/s ≤ the memory bandwidth headline / bytes per token (per chip, since
  a pipeline's chips stream their shares in turn) — then the course's **decode model**, ``capacity.decode_time``
  (chapter 3), the one every chapter uses: on an LPU the rate at which weights enter the matrix units, not the SRAM
  headline, plus hops and collectives; on a GPU kernel costs on top of HBM time.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import ipywidgets as W

from .. import capacity, catalog
from ..errors import LabsimError, check_choice, check_int
from ..precision import PRECISIONS
from ._widgets import check_names, pre, wire

__all__ = ["TourRow", "tour", "tour_table", "make_tour_widget"]


@dataclass(frozen=True)
class TourRow:
    chip: str
    precision: str
    memory_kind: str
    memory_gb_per_chip: float
    bandwidth_tb_per_s: float
    weight_gb: float
    kv_gb: float
    chips_to_hold_weights: int      #: weights alone: ceil(weight bytes / memory per chip)
    chips_to_hold: int              #: weights + KV cache + activations + reserve (capacity.plan, one sequence)
    ceiling_tokens_per_s: float     #: bound: memory bandwidth headline / bytes per token
    decode_tokens_per_s: float      #: the decode model: capacity.decode_time(...).tokens_per_s
    decode_bound: str               #: what sets the decode model's time


def tour(model_name: str = "llama-3.3-70b", chip_names=("groq-lpu-v1", "nvidia-h100-sxm"),
         precisions=("int8", "fp8"), context_tokens: int = 4096) -> list[TourRow]:
    """One row per chip: chips to hold the weights (alone, and with the KV cache of ``context_tokens`` via
    ``capacity.plan``), and the batch-1 bandwidth-bound decode ceiling."""
    context_tokens = check_int("context_tokens", context_tokens, lo=0, hi=10_000_000)
    model = catalog.model(check_choice("model_name", model_name, catalog.models(), what="model"))
    chip_names = check_names("chip_names", chip_names, catalog.chips(), "chip")
    if isinstance(precisions, str):
        precisions = (precisions,) * len(chip_names)
    precisions = check_names("precisions", precisions, PRECISIONS, "precision")
    if len(precisions) != len(chip_names):
        raise LabsimError(f"precisions holds {len(precisions)} names for {len(chip_names)} chip_names; give one per "
                          "chip (or one name for all)")
    rows = []
    for chip_name, prec in zip(chip_names, precisions, strict=True):
        chip = catalog.chip(chip_name)
        weight_bytes = model.weight_bytes(prec)
        active_bytes = weight_bytes * model.params_active() / model.params_total()
        kv_bytes = model.kv_cache_bytes(context_tokens, precision="bf16", batch=1)
        held = capacity.plan(model.name, chip.name, prec, context_tokens=context_tokens, batch=1, kv_precision="bf16")
        speed = capacity.decode_time(model.name, chip.name, chips=held.chips, precision=prec,
                                     context_tokens=context_tokens, kv_precision="bf16")
        rows.append(TourRow(
            chip=chip.name, precision=prec, memory_kind=chip.memory_kind,
            memory_gb_per_chip=chip.memory_bytes / 1e9,
            bandwidth_tb_per_s=chip.memory_bandwidth_bytes_per_s / 1e12,
            weight_gb=weight_bytes / 1e9, kv_gb=kv_bytes / 1e9,
            chips_to_hold_weights=math.ceil(weight_bytes / chip.memory_bytes), chips_to_hold=held.chips,
            ceiling_tokens_per_s=chip.memory_bandwidth_bytes_per_s / (active_bytes + kv_bytes),
            decode_tokens_per_s=speed.tokens_per_s, decode_bound=speed.dominant_bound,
        ))
    return rows


def tour_table(rows: list[TourRow]) -> str:
    """A fixed-width text table of tour rows (what the widget shows). "chips: weights" holds the weights alone;
    "+ KV" adds the KV cache of the context, activations and the 10 % per-chip reserve (chapter 3's plan);
    "bound" is bandwidth headline ÷ bytes per token; "model" is chapter 3's decode model."""
    if isinstance(rows, (str, bytes)) or not isinstance(rows, (list, tuple)) \
            or not all(isinstance(r, TourRow) for r in rows):
        raise LabsimError(f"rows must be the list of TourRow that tour() returns, got {rows!r}")
    head = (f"{'chip':<16}{'prec':<5}{'mem/chip':>10}{'bandwidth':>12}{'weights':>8}{'KV':>8}"
            f"{'chips: weights':>15}{'+ KV':>6}{'bound':>12}{'model':>12}")
    lines = [head, "-" * len(head)]
    for r in rows:
        mem = f"{r.memory_gb_per_chip:,.2f} GB" if r.memory_gb_per_chip < 10 else f"{r.memory_gb_per_chip:,.0f} GB"
        lines.append(f"{r.chip:<16}{r.precision:<5}{mem:>10}{r.bandwidth_tb_per_s:>7.2f} TB/s"
                     f"{r.weight_gb:>5.0f} GB{r.kv_gb:>5.1f} GB{r.chips_to_hold_weights:>15,d}{r.chips_to_hold:>6,d}"
                     f"{r.ceiling_tokens_per_s:>6,.0f} tok/s{r.decode_tokens_per_s:>6,.0f} tok/s")
    return "\n".join(lines)


def make_tour_widget(model_name: str = "llama-3.3-70b"):
    """Dropdowns for model and GPU, a slider for the context length; shows the tour table."""
    check_choice("model_name", model_name, catalog.models(), what="model")
    gpus = [c for c in catalog.chips() if catalog.chip(c).memory_kind == "hbm"]
    controls = {
        "model": W.Dropdown(options=catalog.models(), value=model_name, description="model"),
        "gpu": W.Dropdown(options=gpus, value="nvidia-h100-sxm" if "nvidia-h100-sxm" in gpus else gpus[0],
                          description="GPU"),
        "context_tokens": W.IntSlider(value=4096, min=0, max=131072, step=1024, description="context",
                                      continuous_update=False),
    }
    table = W.HTML()

    def show(model, gpu, context_tokens):
        rows = tour(model, ("groq-lpu-v1", gpu), ("int8", "fp8"), context_tokens)
        table.value = pre(tour_table(rows))
        return rows

    box = wire(controls, show, [table])
    box.table = table
    return box
