"""Chapter 3 plots and widget: the SRAM capacity tax.

* ``capacity_picture`` — one model as a slice of one GPU's HBM vs hundreds of 230 MB chips.
* ``breakdown_bars`` — stacked memory breakdown (weights, KV cache, activations, reserved, unused) per plan.
* ``reconcile_waterfall`` — from the naive ≈304 chips to the report's 576 (``capacity.reconcile_576``).
* ``decode_bars`` — tokens/s per user for several models × chips, each bar labelled with its dominant bound.
* ``roofline_plot`` — attainable ops/s vs arithmetic intensity for several chips, with decode/prefill points.
* ``explore`` — the widget callback: (model, precision, context, batch, chip) → dict of plan + decode numbers
  (plain function, a few ms); ``explore_text`` formats it; ``make_capacity_widget()`` wraps it in ipywidgets.
"""
from __future__ import annotations

import numpy as np

from .. import capacity, catalog
from ..errors import LabsimError, check_int

__all__ = ["capacity_picture", "breakdown_bars", "reconcile_waterfall", "decode_bars", "roofline_plot",
           "explore", "explore_text", "make_capacity_widget", "ROOFLINE_CHIPS", "DECODE_CHIPS"]

ROOFLINE_CHIPS = ("groq-lpu-v1", "nvidia-h100-sxm", "nvidia-b300", "google-tpu-v7", "cerebras-cs3")
DECODE_CHIPS = ("groq-lpu-v1", "nvidia-h100-sxm", "nvidia-b300")
_PART_COLORS = {"weights": "#4c72b0", "kv_cache": "#dd8452", "activations": "#55a868", "reserved": "#8c8c8c",
                "unused": "#e5e5e5"}
_BOUND_COLORS = {"memory bandwidth": "#4c72b0", "compute": "#c44e52", "interconnect": "#8172b3",
                 "fixed latency": "#937860"}


def _fig(ax, figsize):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    return ax.figure, ax


def capacity_picture(model: str = "llama-3.3-70b", precision: str = "int8", gpu: str = "nvidia-b300",
                     lpu: str = "groq-lpu-v1", context_tokens: int = 4096):
    """Left: the model inside one GPU's HBM (one bar, to scale). Right: the same bytes as a grid of LPU chips."""
    import matplotlib.pyplot as plt

    pg = capacity.plan(model, gpu, precision, context_tokens=context_tokens, gpu_power_of_two=False)
    pl = capacity.plan(model, lpu, precision, context_tokens=context_tokens)
    g, lchip = catalog.chip(gpu), catalog.chip(lpu)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4.2), gridspec_kw={"width_ratios": [1, 3]})
    cap_gb = g.memory_bytes / 1e9
    a1.bar(0, cap_gb, color="#f2f2f2", edgecolor="k", width=0.6)
    w, kv = pg.weight_bytes / 1e9, pg.kv_cache_bytes / 1e9
    a1.bar(0, w, color=_PART_COLORS["weights"], width=0.6, label="weights")
    a1.bar(0, kv, bottom=w, color=_PART_COLORS["kv_cache"], width=0.6, label="KV cache")
    a1.set_xticks([0])
    a1.set_xticklabels([f"1 × {g.display_name}\n{cap_gb:.0f} GB HBM"], fontsize=8)
    a1.set_ylabel("GB")
    a1.legend(fontsize=7, loc="upper right")
    a1.set_title(f"{pg.total_bytes / 1e9:.0f} GB fits in {pg.chips} GPU", fontsize=9)
    n = pl.chips
    cols = int(np.ceil(np.sqrt(n * 2)))
    rows = int(np.ceil(n / cols))
    n_w = int(round(pl.weight_bytes / pl.total_bytes * n))
    from matplotlib.colors import ListedColormap

    grid = np.full(rows * cols, 0)                      # 0 = no chip, 1 = weights, 2 = KV cache and the rest
    grid[:n] = 2
    grid[:n_w] = 1
    cmap = ListedColormap(["white", _PART_COLORS["weights"], _PART_COLORS["kv_cache"]])
    a2.imshow(grid.reshape(rows, cols), cmap=cmap, vmin=0, vmax=2, interpolation="nearest")
    if n <= 2000:  # draw chip boundaries when they are visible
        a2.set_xticks(np.arange(-0.5, cols, 1), minor=True)
        a2.set_yticks(np.arange(-0.5, rows, 1), minor=True)
        a2.grid(which="minor", color="white", linewidth=0.8)
        a2.tick_params(which="minor", length=0)
    a2.set_xticks([])
    a2.set_yticks([])
    for sp in a2.spines.values():
        sp.set_visible(False)
    a2.set_title(f"the same model needs {n} × {lchip.display_name} ({lchip.memory_bytes / 1e6:.0f} MB each, "
                 f"{pl.racks} racks)", fontsize=9)
    fig.suptitle(f"{model} at {precision}, {context_tokens} tokens of context", fontsize=10)
    fig.tight_layout()
    return fig


def breakdown_bars(plans: dict, ax=None, unit: str = "GB"):
    """Stacked bars of each plan's memory breakdown (``Plan.breakdown``); the chip count is printed on top."""
    fig, ax = _fig(ax, (7, 4))
    scale = {"GB": 1e9, "MB": 1e6}[unit]
    labels = list(plans)
    for i, lab in enumerate(labels):
        bottom = 0.0
        for part, val in plans[lab].breakdown.items():
            ax.bar(i, val / scale, bottom=bottom, color=_PART_COLORS[part], edgecolor="k", linewidth=0.3,
                   label=part.replace("_", " ") if i == 0 else None)
            bottom += val / scale
        ax.text(i, bottom, f"{plans[lab].chips:,} chips", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylabel(f"memory ({unit})")
    ax.legend(fontsize=7)
    ax.set_title("Where the memory goes", fontsize=10)
    fig.tight_layout()
    return fig


def reconcile_waterfall(rows: list[dict] | None = None, ax=None, target_chips: int = 576):
    """Waterfall of ``capacity.reconcile_576`` rows: each assumption adds chips; the dashed line is the claim."""
    rows = capacity.reconcile_576() if rows is None else rows
    steps = [r for r in rows if not np.isnan(r["added"])]
    fig, ax = _fig(ax, (9, 4))
    prev = 0.0
    for i, r in enumerate(steps):
        base = 0.0 if i == 0 else prev
        color = "#4c72b0" if i == 0 else ("#dd8452" if r["added"] >= 0 else "#55a868")
        ax.bar(i, r["chips"] - base, bottom=base, color=color, edgecolor="k", linewidth=0.4)
        ax.text(i, r["chips"], f"{r['chips']:.0f}", ha="center", va="bottom", fontsize=8)
        prev = r["chips"]
    ax.axhline(target_chips, color="k", ls="--", lw=1)
    ax.text(-0.4, target_chips, f"report: {target_chips}", va="bottom", ha="left", fontsize=8)
    ax.set_xticks(range(len(steps)))
    ax.set_xticklabels([s["step"].replace(" (", "\n(").replace(": ", ":\n") for s in steps], fontsize=7,
                       rotation=30, ha="right")
    ax.set_ylabel("chips")
    ax.set_title("From 70 GB ÷ 230 MB to 576 chips: what each assumption adds", fontsize=10)
    fig.tight_layout()
    return fig


def decode_bars(models=("llama-3.1-8b", "llama-3.3-70b", "gpt-oss-120b"), chips=DECODE_CHIPS,
                precision: str = "int8", context_tokens: int = 4096, batch: int = 1, ax=None):
    """Grouped bars of tokens/s per user (log scale); each bar is labelled with its dominant bound."""
    fig, ax = _fig(ax, (9, 4))
    width = 0.8 / len(chips)
    for j, ch in enumerate(chips):
        for i, m in enumerate(models):
            d = capacity.decode_time(m, ch, precision=precision, context_tokens=context_tokens, batch=batch)
            x = i + (j - (len(chips) - 1) / 2) * width
            ax.bar(x, d.tokens_per_s, width=width * 0.95, color=_BOUND_COLORS[d.dominant_bound],
                   edgecolor="k", linewidth=0.4, hatch=["", "//", ".."][j % 3])
            ax.text(x, d.tokens_per_s, f"{d.tokens_per_s:,.0f}\n{d.dominant_bound}\n{d.chips}×",
                    ha="center", va="bottom", fontsize=6)
    ax.set_yscale("log")
    ax.set_xticks(range(len(models)))
    ax.set_xticklabels(models)
    ax.set_ylabel("tokens/s per user (batch %d)" % batch)
    ax.set_ylim(top=ax.get_ylim()[1] * 6)
    from matplotlib.patches import Patch

    handles = [Patch(facecolor="white", edgecolor="k", hatch=["", "//", ".."][j % 3],
                     label=catalog.chip(ch).display_name) for j, ch in enumerate(chips)]
    handles += [Patch(color=c, label=b) for b, c in _BOUND_COLORS.items()]
    ax.legend(handles=handles, fontsize=6, ncol=2, loc="upper right")
    ax.set_title(f"Decode speed at {precision}, {context_tokens} tokens, and what bounds it", fontsize=10)
    fig.tight_layout()
    return fig


def roofline_plot(chips=ROOFLINE_CHIPS, precision: str = "int8", model: str | None = "llama-3.3-70b", ax=None,
                  intensity=None):
    """Rooflines (log–log) for ``chips``; ``model``'s decode (batch 1 and 64) and prefill points on each.

    A chip without a published peak (Cerebras CS-3 in the catalog) is drawn as its bandwidth slope only.
    """
    fig, ax = _fig(ax, (8, 4.5))
    x = np.logspace(-1, 4.5, 200) if intensity is None else np.asarray(intensity, dtype=float)
    top = max((max(catalog.chip(ch).peak_ops_per_s.values()) for ch in chips if catalog.chip(ch).peak_ops_per_s),
              default=None)
    for ch in chips:
        c = catalog.chip(ch)
        if not c.peak_ops_per_s:
            y = x * c.memory_bandwidth_bytes_per_s
            ax.plot(x, y, ls=":", label=f"{c.display_name}: bandwidth only (no published peak)")
            continue
        p = capacity.compute_precision_for(c, precision)
        (line,) = ax.plot(x, capacity.roofline(c, x, p), label=f"{c.display_name} ({p})")
        if model is not None:
            for b, mk in ((1, "o"), (64, "s")):
                xi = capacity.decode_intensity(model, precision, batch=b)
                ax.plot(xi, capacity.roofline(c, xi, p), mk, color=line.get_color(), ms=5)
            xp = capacity.prefill_intensity(model, precision)
            ax.plot(xp, capacity.roofline(c, xp, p), "^", color=line.get_color(), ms=6)
    ax.set_xscale("log")
    ax.set_yscale("log")
    if top is not None:
        ax.set_ylim(top=top * 5)
    ax.set_xlabel("arithmetic intensity (ops per byte from main memory)")
    ax.set_ylabel("attainable ops/s")
    ax.legend(fontsize=7, loc="lower right")
    t = "Roofline" + (f" — {model}: ● decode batch 1, ■ decode batch 64, ▲ prefill 2,048 tokens" if model else "")
    ax.set_title(t, fontsize=9)
    ax.grid(True, which="major", alpha=0.3)
    fig.tight_layout()
    return fig


def explore(model: str = "llama-3.3-70b", precision: str = "int8", context_tokens: int = 4096, batch: int = 1,
            chip: str = "groq-lpu-v1") -> dict:
    """Widget callback: plan + decode numbers for one configuration, as a plain dict (no plotting).

    Keys: ``chips, nodes, racks, domains, crosses_cliff, capex_usd, weight_gb, kv_gb, activation_gb,
    seconds_per_token, tokens_per_s, throughput_tokens_per_s, dominant_bound, parts_ms, error`` (``error`` is
    a message string when the configuration is impossible, e.g. a chip with no published peak; else None).
    """
    context_tokens = check_int("context_tokens", context_tokens, lo=0, hi=10_000_000)
    batch = check_int("batch", batch, lo=1, hi=1_000_000)
    p = capacity.plan(model, chip, precision, context_tokens=context_tokens, batch=batch)
    out = {"model": model, "chip": chip, "precision": precision, "context_tokens": context_tokens, "batch": batch,
           "chips": p.chips, "nodes": p.nodes, "racks": p.racks, "domains": p.domains,
           "crosses_cliff": p.crosses_cliff, "capex_usd": p.capex_usd, "weight_gb": p.weight_bytes / 1e9,
           "kv_gb": p.kv_cache_bytes / 1e9, "activation_gb": p.activation_bytes / 1e9, "error": None,
           "seconds_per_token": float("nan"), "tokens_per_s": float("nan"),
           "throughput_tokens_per_s": float("nan"), "dominant_bound": "", "parts_ms": {}}
    try:
        d = capacity.decode_time(model, chip, chips=p.chips, precision=precision, batch=batch,
                                 context_tokens=context_tokens)
    except LabsimError as exc:
        out["error"] = str(exc)
        return out
    out.update(seconds_per_token=d.seconds_per_token, tokens_per_s=d.tokens_per_s,
               throughput_tokens_per_s=d.throughput_tokens_per_s, dominant_bound=d.dominant_bound,
               parts_ms={k[:-2]: v * 1e3 for k, v in d.parts.items()})
    return out


def explore_text(r: dict) -> str:
    """Format :func:`explore`'s dict as a few lines of text (what the widget prints)."""
    capex = "no published price" if r["capex_usd"] is None else f"${r['capex_usd']:,.0f}"
    lines = [f"{r['model']} on {r['chip']} — {r['precision']}, {r['context_tokens']:,} tokens × batch {r['batch']}",
             f"memory: weights {r['weight_gb']:.1f} GB + KV {r['kv_gb']:.2f} GB + activations "
             f"{r['activation_gb']:.3f} GB",
             f"chips {r['chips']:,}  nodes {r['nodes']:,}  racks {r['racks']:,}  domains {r['domains']:,}"
             f"{'  (past the determinism cliff)' if r['crosses_cliff'] else ''}  capex {capex}"]
    if r["error"]:
        lines.append(f"decode: not computable — {r['error']}")
    else:
        parts = ", ".join(f"{k} {v:.3f}" for k, v in r["parts_ms"].items() if v > 0)
        lines.append(f"decode: {r['seconds_per_token'] * 1e3:.3f} ms/token = {r['tokens_per_s']:,.0f} tok/s per "
                     f"user ({r['throughput_tokens_per_s']:,.0f} tok/s total); bound: {r['dominant_bound']}")
        lines.append(f"parts (ms): {parts}")
    return "\n".join(lines)


def make_capacity_widget():
    """ipywidgets front end for :func:`explore` (model, precision, context, batch, chip)."""
    import ipywidgets as W

    def show(model, precision, context_tokens, batch, chip):
        print(explore_text(explore(model, precision, context_tokens, batch, chip)))

    return W.interactive(
        show,
        model=W.Dropdown(options=catalog.models(), value="llama-3.3-70b", description="model"),
        precision=W.Dropdown(options=["int8", "fp8", "fp16", "bf16", "int4", "mxfp4"], value="int8",
                             description="precision"),
        context_tokens=W.IntSlider(value=4096, min=0, max=131072, step=1024, description="context",
                                   continuous_update=False),
        batch=W.IntSlider(value=1, min=1, max=256, description="batch", continuous_update=False),
        chip=W.Dropdown(options=catalog.chips(), value="groq-lpu-v1", description="chip"),
    )
