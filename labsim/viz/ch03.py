"""Chapter 3 plots and widget: the SRAM capacity tax.

* ``capacity_picture`` — one model as a slice of one GPU's HBM vs hundreds of 230 MB chips.
* ``breakdown_bars`` — stacked memory breakdown (weights, KV cache, activations, reserved, unused) per plan.
* ``reconcile_waterfall`` — from the naive ≈304 chips to the report's 576 (``capacity.reconcile_576``);
  ``reconcile_table`` — the same steps as a table.
* ``decode_bars`` — tokens/s per user for several models × chips, each bar labeled with its dominant bound.
* ``batch_plot`` — total throughput vs batch, with the batch where compute takes over from memory.
* ``roofline_plot`` — attainable ops/s vs arithmetic intensity for several chips, with decode/prefill points.
* ``explore`` — the widget callback: (model, precision, context, batch, chip) → dict of plan + decode numbers
  (plain function, a few ms); ``explore_text`` formats it; ``make_capacity_widget()`` wraps it in ipywidgets.
"""
from __future__ import annotations

import math

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

from .. import capacity, catalog
from ..errors import LabsimError, check_array, check_choice, check_int, check_ints, check_mapping
from ..precision import PRECISIONS
from ..table import Table
from ._widgets import check_names, check_result, figure_and_ax, pre, wire

__all__ = ["capacity_picture", "breakdown_bars", "reconcile_waterfall", "reconcile_table", "decode_bars", "batch_plot",
           "roofline_plot",
           "explore", "explore_text", "make_capacity_widget", "ROOFLINE_CHIPS", "DECODE_CHIPS"]

ROOFLINE_CHIPS = ("groq-lpu-v1", "nvidia-h100-sxm", "nvidia-b300", "google-tpu-v7", "cerebras-cs3")
DECODE_CHIPS = ("groq-lpu-v1", "nvidia-h100-sxm", "nvidia-b300")
_PART_COLORS = {"weights": "#4c72b0", "kv_cache": "#dd8452", "activations": "#55a868", "reserved": "#8c8c8c",
                "unused": "#e5e5e5"}
_BOUND_COLORS = {"memory bandwidth": "#4c72b0", "compute": "#c44e52", "interconnect": "#8172b3",
                 "fixed latency": "#937860"}


def _name(param: str, value, valid, what: str) -> str:
    """One catalog name, the error naming the parameter."""
    return check_choice(param, value, valid, what=what)


def _count(n: int, c: catalog.Chip) -> str:
    unit = "GPU" if c.memory_kind == "hbm" else "chip"
    return f"{n:,} {unit}{'s' if n != 1 else ''}"


def capacity_picture(model: str = "llama-3.3-70b", precision: str = "int8", gpu: str = "nvidia-b300",
                     lpu: str = "groq-lpu-v1", context_tokens: int = 4096):
    """Left: the model inside one GPU's HBM (one bar, to scale). Right: the same bytes as a grid of LPU chips,
    one square per chip, 3 nodes per row so that every 3 rows are one rack (groq-lpu-v1: 24 chips a row, 72 a rack,
    from its chip file); a chip whose file gives no node or rack size is drawn as a plain grid."""
    _name("model", model, catalog.models(), "model")
    _name("gpu", gpu, catalog.chips(), "chip")
    _name("lpu", lpu, catalog.chips(), "chip")
    context_tokens = check_int("context_tokens", context_tokens, lo=0, hi=10_000_000)
    _name("precision", precision, PRECISIONS, "precision")
    pg = capacity.plan(model, gpu, precision, context_tokens=context_tokens, gpu_power_of_two=False)
    pl = capacity.plan(model, lpu, precision, context_tokens=context_tokens)
    g, lchip, m = catalog.chip(gpu), catalog.chip(lpu), catalog.model(model)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.6), gridspec_kw={"width_ratios": [1, 3]})
    cap_gb = g.memory_bytes / 1e9
    a1.bar(0, cap_gb, color="#f2f2f2", edgecolor="k", width=0.6, label="free HBM")
    w, kv = pg.weight_bytes / 1e9, (pg.kv_cache_bytes + pg.activation_bytes) / 1e9
    a1.bar(0, w, color=_PART_COLORS["weights"], width=0.6, label=f"weights {w:.0f} GB")
    a1.bar(0, kv, bottom=w, color=_PART_COLORS["kv_cache"], width=0.6, label=f"KV cache + act. {kv:.1f} GB")
    a1.set_xticks([0])
    a1.set_xticklabels([f"1 × {g.display_name}\n{cap_gb:.0f} GB HBM"], fontsize=8)
    a1.set_ylabel("memory (GB)")
    a1.set_ylim(0, cap_gb * 1.25)
    a1.legend(fontsize=7, loc="upper center", ncol=1)
    a1.set_title(f"{pg.total_bytes / 1e9:.0f} GB fit in {_count(pg.chips, g)}", fontsize=9)
    n = pl.chips
    # rows of 3 nodes, 3 rows a rack — when the chip file gives its node and rack sizes (groq-lpu-v1: 8 and 72,
    # [isca22]) and a rack is a whole number of such rows; otherwise a plain grid without rack boundaries
    per_rack, per_node = lchip.chips_per_rack, lchip.chips_per_node
    by_rack = bool(per_rack and per_node and n <= 1500 and per_rack % (3 * per_node) == 0)
    cols = 3 * per_node if by_rack else int(np.ceil(np.sqrt(n * 2)))
    rows = int(np.ceil(n / cols))
    n_w = min(n, int(np.ceil(pl.weight_bytes / pl.usable_bytes_per_chip)))   # chips filled by weights
    grid = np.zeros(rows * cols, dtype=int)             # 0 = no chip, 1 = weights, 2 = KV cache + activations
    grid[:n] = 2
    grid[:n_w] = 1
    cmap = ListedColormap(["white", _PART_COLORS["weights"], _PART_COLORS["kv_cache"]])
    a2.imshow(grid.reshape(rows, cols), cmap=cmap, vmin=0, vmax=2, interpolation="nearest", aspect="equal")
    if n <= 2000:  # chip boundaries, and rack boundaries when the grid is laid out by rack
        a2.set_xticks(np.arange(-0.5, cols, 1), minor=True)
        a2.set_yticks(np.arange(-0.5, rows, 1), minor=True)
        a2.grid(which="minor", color="white", linewidth=0.8)
        a2.tick_params(which="minor", length=0)
        if by_rack:
            rows_per_rack = per_rack // cols
            for r in range(rows_per_rack, rows, rows_per_rack):
                a2.axhline(r - 0.5, color="k", lw=1.2)
    a2.set_xticks([])
    a2.set_yticks([])
    for sp in a2.spines.values():
        sp.set_visible(False)
    handles = [Patch(color=_PART_COLORS["weights"], label=f"weights ({n_w} chips)"),
               Patch(color=_PART_COLORS["kv_cache"], label=f"KV cache + activations ({n - n_w} chips)")]
    if by_rack:
        handles.append(plt.Line2D([], [], color="k", lw=1.2, label=f"rack boundary ({per_rack} chips)"))
    a2.legend(handles=handles, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=3, frameon=False)
    a2.set_title(f"the same model needs {_count(n, lchip)} × {lchip.memory_bytes / 1e6:.0f} MB "
                 f"({lchip.display_name}, {pl.usable_bytes_per_chip / 1e6:.0f} MB usable each [A]) = "
                 f"{pl.racks} racks", fontsize=9)
    fig.suptitle(f"{m.display_name} at {precision.upper()}, "
                 f"{context_tokens:,} tokens of context, 1 sequence", fontsize=10)
    fig.tight_layout()
    return fig


def breakdown_bars(plans: dict, ax=None, unit: str = "GB"):
    """Stacked bars of each plan's memory breakdown (``Plan.breakdown``); the chip count is printed on top."""
    plans = check_mapping("plans", plans)
    if not plans or not all(isinstance(p, capacity.Plan) for p in plans.values()):
        raise LabsimError(f"plans must map a label to a capacity.Plan (at least one), got {plans!r}")
    check_choice("unit", unit, ("GB", "MB"), what="unit")
    fig, ax = figure_and_ax(ax, (8, 4.2))
    scale = {"GB": 1e9, "MB": 1e6}[unit]
    labels = list(plans)
    top = 0.0
    for i, lab in enumerate(labels):
        bottom = 0.0
        for part, val in plans[lab].breakdown.items():
            ax.bar(i, val / scale, bottom=bottom, color=_PART_COLORS[part], edgecolor="k", linewidth=0.3,
                   label=part.replace("_", " ").replace("kv", "KV") if i == 0 else None)
            bottom += val / scale
        top = max(top, bottom)
        ax.text(i, bottom, _count(plans[lab].chips, catalog.chip(plans[lab].chip)), ha="center", va="bottom",
                fontsize=8)
    ax.set_ylim(0, top * 1.12)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_xlabel("chip, context tokens × sequences held at once", fontsize=8)
    ax.set_ylabel(f"memory ({unit}, all chips of the plan)")
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title("Where the memory goes (reserved = 10 % of every chip [A]; unused = rounding up to whole chips)",
                 fontsize=9)
    fig.tight_layout()
    return fig


def reconcile_waterfall(rows: list[dict] | None = None, ax=None, target_chips: int = 576):
    """Waterfall of ``capacity.reconcile_576`` rows: each assumption adds chips; the dashed line is the claim.

    Memory steps are orange, steps that only round up (whole racks, the whole domain) are gray and hatched; the
    bracket marks the chips that no memory need in the model explains.
    """
    target_chips = check_int("target_chips", target_chips, lo=1, hi=10**9)
    if rows is not None:
        if isinstance(rows, (str, bytes)) or not isinstance(rows, (list, tuple)) or not rows:
            raise LabsimError(f"rows must be the list capacity.reconcile_576() returns, got {rows!r}")
        for i, r in enumerate(rows):
            check_result(r, ("added",), f"rows[{i}]", "capacity.reconcile_576()")
    rows = capacity.reconcile_576(target_chips=target_chips) if rows is None else rows
    steps = [r for r in rows if r["added"] is not None]
    fig, ax = figure_and_ax(ax, (10, 4.6))
    prev = 0.0
    last_memory = 0.0
    colors = {"naive": "#4c72b0", "capacity": "#dd8452", "rounding": "#bdbdbd"}
    for i, r in enumerate(steps):
        kind = r.get("kind", "capacity")
        base = 0.0 if i == 0 else prev
        ax.bar(i, r["chips"] - base, bottom=base, color=colors.get(kind, "#dd8452"), edgecolor="k", linewidth=0.4,
               hatch="//" if kind == "rounding" else "")
        ax.text(i, r["chips"], f"{r['chips']:.0f}", ha="center", va="bottom", fontsize=8)
        if kind != "rounding":
            last_memory = r["chips"]
        prev = r["chips"]
    ax.axhline(target_chips, color="k", ls="--", lw=1)
    ax.text(len(steps) * 0.45, target_chips * 1.01, f"report: {target_chips} chips", va="bottom", ha="center",
            fontsize=8)
    # bracket: chips the memory steps do not explain
    xb = len(steps) - 0.5
    ax.annotate("", xy=(xb, last_memory), xytext=(xb, target_chips),
                arrowprops=dict(arrowstyle="<->", color="#c44e52", lw=1.2))
    ax.text(xb + 0.1, (last_memory + target_chips) / 2, f"{target_chips - last_memory:.0f} chips\nnot explained\n"
            "by any memory need", color="#c44e52", fontsize=8, va="center", ha="left")
    ax.set_xlim(-0.6, len(steps) + 1.3)
    ax.set_ylim(0, target_chips * 1.15)
    ax.set_xticks(range(len(steps)))
    ax.set_xticklabels([s["step"].replace(" (", "\n(").replace(": ", ":\n") for s in steps], fontsize=7,
                       rotation=30, ha="right")
    ax.set_ylabel("chips (230 MB each)")
    ax.legend(handles=[Patch(color=colors["naive"], label="naive 70 GB ÷ 230 MB"),
                       Patch(color=colors["capacity"], label="memory the model needs"),
                       Patch(facecolor=colors["rounding"], hatch="//", edgecolor="k",
                             label="rounding up (racks, domain)")], fontsize=7, loc="upper left")
    ax.set_title(f"From 70 GB ÷ 230 MB to {target_chips} chips: what each assumption adds", fontsize=10)
    fig.tight_layout()
    return fig


_HATCHES = ["", "//", ".."]


def reconcile_table(rows: list[dict] | None = None) -> Table:
    """The steps of ``capacity.reconcile_576`` as a table (step, chips after it, chips it adds, its assumption):
    aligned text when printed, an HTML table in a notebook."""
    if rows is not None:
        if isinstance(rows, (str, bytes)) or not isinstance(rows, (list, tuple)):
            raise LabsimError(f"rows must be the list capacity.reconcile_576() returns, got {rows!r}")
        for i, r in enumerate(rows):
            check_result(r, ("step", "chips", "added", "assumption"), f"rows[{i}]", "capacity.reconcile_576()")
    rows = capacity.reconcile_576() if rows is None else rows
    body = [(r["step"], f"{r['chips']:,.1f}", "" if r["added"] is None else f"{r['added']:+,.1f}", r["assumption"])
            for r in rows]
    return Table(("step", "chips", "added", "assumption"), body, align="lrrl", wide=(0, 3))


def decode_bars(models=("llama-3.1-8b", "llama-3.3-70b", "gpt-oss-120b"), chips=DECODE_CHIPS,
                precision: str = "int8", context_tokens: int = 4096, batch: int = 1, ax=None):
    """Grouped bars of tokens/s per user (log scale); bar color = dominant bound, hatch = chip; each bar is
    labeled (vertically) with tokens/s, the dominant bound and the chip count."""
    models = check_names("models", models, catalog.models(), "model")
    chips = check_names("chips", chips, catalog.chips(), "chip")
    _name("precision", precision, PRECISIONS, "precision")
    context_tokens = check_int("context_tokens", context_tokens, lo=0, hi=10_000_000)
    batch = check_int("batch", batch, lo=1, hi=1_000_000)
    fig, ax = figure_and_ax(ax, (10, 5))
    width = 0.8 / len(chips)
    top = 0.0
    for j, ch in enumerate(chips):
        c = catalog.chip(ch)
        for i, m in enumerate(models):
            d = capacity.decode_time(m, ch, precision=precision, context_tokens=context_tokens, batch=batch)
            x = i + (j - (len(chips) - 1) / 2) * width
            ax.bar(x, d.tokens_per_s, width=width * 0.95, color=_BOUND_COLORS[d.dominant_bound],
                   edgecolor="k", linewidth=0.4, hatch=_HATCHES[j % 3])
            ax.text(x, d.tokens_per_s * 1.08, f"{d.tokens_per_s:,.0f} · {d.dominant_bound} · {_count(d.chips, c)}",
                    ha="center", va="bottom", fontsize=7, rotation=90)
            top = max(top, d.tokens_per_s)
    ax.set_yscale("log")
    ax.set_xticks(range(len(models)))
    ax.set_xticklabels(models)
    ax.set_ylabel(f"tokens/s per user (batch {batch})")
    ax.set_ylim(top=top * 200)
    handles = [Patch(facecolor="white", edgecolor="k", hatch=_HATCHES[j % 3],
                     label=catalog.chip(ch).display_name) for j, ch in enumerate(chips)]
    handles += [Patch(color=c, label=f"bound: {b}") for b, c in _BOUND_COLORS.items()]
    ax.legend(handles=handles, fontsize=7, ncol=2, loc="upper left")
    ax.set_title(f"Decode speed at {precision.upper()} weights, {context_tokens:,} tokens of context, and the bound "
                 "that sets it (chips = what plan() needs)", fontsize=9)
    fig.tight_layout()
    return fig


def batch_plot(model: str = "llama-3.3-70b", chip: str = "nvidia-b300", contexts=(0, 4096, 32768),
               max_batch: int = 1024, chips: int = 1, precision: str = "int8", ax=None):
    """Total decode throughput vs batch on ``chips`` × ``chip`` for several contexts.

    Solid where the batch's KV caches fit in the chips' memory (``decode_sweep(...)["fits"]``), dotted beyond (a
    batch that would need more memory); ● marks where the compute bound takes over from memory
    (``capacity.compute_bound_batch``), × where memory is full.
    """
    _name("model", model, catalog.models(), "model")
    _name("chip", chip, catalog.chips(), "chip")
    contexts = check_ints("contexts", contexts, lo=0, hi=10_000_000, max_len=20)
    _name("precision", precision, PRECISIONS, "precision")
    chips = check_int("chips", chips, lo=1, hi=1_000_000)
    max_batch = check_int("max_batch", max_batch, lo=2, hi=65536)
    fig, ax = figure_and_ax(ax, (9, 4.6))
    b = np.arange(1, max_batch + 1, dtype=np.float64)
    for ctx in contexts:
        s = capacity.decode_sweep(model, chip, chips=chips, batch=b, context_tokens=ctx, precision=precision)
        thr = s["throughput_tokens_per_s"]
        fits = np.asarray(s["fits"], dtype=bool)
        n_fit = int(fits.sum()) if fits[0] else 0           # fits is monotone: batches 1 … n_fit fit
        (line,) = ax.plot(b[:n_fit], thr[:n_fit], lw=1.8, label=f"context {ctx:,} tokens")
        if n_fit < len(b):
            ax.plot(b[max(n_fit - 1, 0):], thr[max(n_fit - 1, 0):], ls=":", lw=1, color=line.get_color())
        hit = (s["parts"]["compute_s"] >= s["parts"]["memory_s"]) & fits
        if hit.any():
            k = int(np.argmax(hit))
            ax.plot(b[k], thr[k], "o", color=line.get_color(), ms=7)
            ax.annotate(f"compute-bound from batch {int(b[k])}", (b[k], thr[k]), textcoords="offset points",
                        xytext=(8, -14), fontsize=8, color=line.get_color())
        if 0 < n_fit < len(b):
            k = n_fit - 1
            ax.plot(b[k], thr[k], "x", color=line.get_color(), ms=9, mew=2)
            ax.annotate(f"memory full at batch {n_fit}" + ("" if hit.any() else " (still memory-bound)"),
                        (b[k], thr[k]), textcoords="offset points", xytext=(6, 6), fontsize=8,
                        color=line.get_color())
        elif n_fit == len(b) and not hit.any():
            ax.text(b[-1], thr[-1], f"  still memory-bound\n  at batch {max_batch}", fontsize=8,
                    color=line.get_color(), va="center")
    ax.set_xscale("log", base=2)
    ticks = [t for t in 4 ** np.arange(0, 9) if t <= max_batch]
    ax.set_xticks(ticks, [f"{t:,}" for t in ticks])
    ax.set_xlabel("batch (sequences decoded together)")
    ax.set_ylabel("total throughput (tokens/s)")
    ax.set_xlim(1, max_batch * 12)
    ax.plot([], [], ls=":", color="gray", label="KV caches no longer fit in memory")
    ax.legend(fontsize=8, loc="upper left")
    c = catalog.chip(chip)
    ax.set_title(f"{model}, {precision.upper()}, on {chips} × {c.display_name}: batching pays until compute "
                 "catches up\n— or until the KV caches fill the memory", fontsize=9)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig


_STYLES = ["-", "--", "-.", (0, (5, 1, 1, 1)), ":"]


def roofline_plot(chips=ROOFLINE_CHIPS, precision: str = "int8", model: str | None = "llama-3.3-70b", ax=None,
                  intensity=None):
    """Rooflines (log–log) for ``chips``; ``model``'s decode (batch 1 and 64) and prefill points on each.

    A chip without a published peak (Cerebras CS-3 in the catalog) is drawn as its bandwidth slope only
    (``capacity.roofline(..., peak_ops_per_s=math.inf)``).
    """
    chips = check_names("chips", chips, catalog.chips(), "chip")
    _name("precision", precision, PRECISIONS, "precision")
    if model is not None:
        _name("model", model, catalog.models(), "model")
    x = np.logspace(-1, 4.5, 200) if intensity is None else \
        check_array("intensity", intensity, lo=1e-6, hi=1e12, unit="FLOP/B").ravel()
    if x.size == 0:
        raise LabsimError("intensity must hold at least one FLOP/byte value")
    fig, ax = figure_and_ax(ax, (9, 5))
    top = max((max(catalog.chip(ch).peak_ops_per_s.values()) for ch in chips if catalog.chip(ch).peak_ops_per_s),
              default=None)
    for k, ch in enumerate(chips):
        c = catalog.chip(ch)
        if not c.peak_ops_per_s:
            ax.plot(x, capacity.roofline(c, x, peak_ops_per_s=math.inf), ls=":", lw=1.5,
                    label=f"{c.display_name}: {c.memory_bandwidth_bytes_per_s / 1e15:g} PB/s slope only "
                          "(no published peak)")
            continue
        p = capacity.compute_precision_for(c, precision)
        (line,) = ax.plot(x, capacity.roofline(c, x, p), ls=_STYLES[k % len(_STYLES)], lw=1.6,
                          label=f"{c.display_name}: {c.peak_ops(p) / 1e15:.2f} P ops/s ({p.upper()}), "
                                f"{c.memory_bandwidth_bytes_per_s / 1e12:g} TB/s")
        if model is not None:
            for b, mk in ((1, "o"), (64, "s")):
                xi = capacity.decode_intensity(model, precision, batch=b)
                ax.plot(xi, capacity.roofline(c, xi, p), mk, color=line.get_color(), ms=6, mec="k", mew=0.5)
            xp = capacity.prefill_intensity(model, precision)
            ax.plot(xp, capacity.roofline(c, xp, p), "^", color=line.get_color(), ms=7, mec="k", mew=0.5)
    ax.set_xscale("log")
    ax.set_yscale("log")
    if top is not None:
        ax.set_ylim(top=top * 5)
    ax.set_xlabel("arithmetic intensity (ops per byte read from main memory)")
    ax.set_ylabel("attainable ops/s (dense peak at the listed precision)")
    first = ax.legend(fontsize=7, loc="lower right")
    if model is not None:
        mk = [ax.plot([], [], m, color="gray", mec="k", mew=0.5, label=lab)[0]
              for m, lab in (("o", "decode, batch 1"), ("s", "decode, batch 64"), ("^", "prefill, 2,048 tokens"))]
        ax.add_artist(first)
        ax.legend(handles=mk, fontsize=7, loc="upper left", title=model, title_fontsize=7)
    ax.set_title(f"Roofline at {precision.upper()} weights (compute at the chip's nearest published precision)",
                 fontsize=9)
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
    _name("model", model, catalog.models(), "model")
    _name("chip", chip, catalog.chips(), "chip")
    p = capacity.plan(model, chip, precision, context_tokens=context_tokens, batch=batch)
    out = {"model": model, "chip": chip, "precision": precision, "context_tokens": context_tokens, "batch": batch,
           "chips": p.chips, "nodes": p.nodes, "racks": p.racks, "domains": p.domains,
           "crosses_cliff": p.crosses_cliff, "capex_usd": p.capex_usd, "weight_gb": p.weight_bytes / 1e9,
           "kv_gb": p.kv_cache_bytes / 1e9, "activation_gb": p.activation_bytes / 1e9, "error": None,
           "seconds_per_token": None, "tokens_per_s": None,     # None: not computable (see "error")
           "throughput_tokens_per_s": None, "dominant_bound": "", "parts_ms": {}}
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
    check_result(r, ("model", "chip", "precision", "context_tokens", "batch", "capex_usd", "weight_gb", "kv_gb",
                     "activation_gb", "chips", "nodes", "racks", "domains", "crosses_cliff", "error",
                     "seconds_per_token", "tokens_per_s", "throughput_tokens_per_s", "dominant_bound", "parts_ms"))
    capex = "no published price" if r["capex_usd"] is None else f"USD {r['capex_usd']:,.0f}"
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
    controls = {
        "model": W.Dropdown(options=catalog.models(), value="llama-3.3-70b", description="model"),
        "precision": W.Dropdown(options=["int8", "fp8", "fp16", "bf16", "int4", "mxfp4"], value="int8",
                                description="precision"),
        "context_tokens": W.IntSlider(value=4096, min=0, max=131072, step=1024, description="context",
                                      continuous_update=False),
        "batch": W.IntSlider(value=1, min=1, max=256, description="batch", continuous_update=False),
        "chip": W.Dropdown(options=catalog.chips(), value="groq-lpu-v1", description="chip"),
    }
    text = W.HTML()

    def show(model, precision, context_tokens, batch, chip):
        r = explore(model, precision, context_tokens, batch, chip)
        text.value = pre(explore_text(r))
        return r

    return wire(controls, show, [text])
