"""Chapter 7 plots and widget: the other roads (TPU v1, Dojo, Cerebras) and the next LPU.

* ``machines`` / ``machines_table`` — the four machines side by side, each drawn to its own scale, from the catalog.
* ``systolic_frames`` — snapshots of a small array (which vector each PE works on) = the animation as frames;
  ``systolic_spacetime`` — active PEs per cycle with the fill, steady state and drain marked.
* ``tpu_batch_plot`` — TPU v1 utilization and device time vs batch (simulator schedule) with the paper's points.
* ``mesh_cdf`` / ``mesh_load_plot`` — latency CDFs of the dynamic mesh against the flat static line; P50/P99/P99.9
  against load.
* ``format_lines``, ``accumulator_plot``, ``attention_plot`` — the numerics.
* ``yield_plot``, ``wafer_map``, ``cost_plot``, ``next_lpu_plot`` — the silicon and the what-if.
* ``fig18_efficiency`` — Fig 18's "single-batch efficiency" re-derived from the roofline.
* ``next_lpu_explore`` (callback, plain dict, a few ms) / ``next_lpu_text`` / ``make_next_lpu_widget``.
"""
from __future__ import annotations

import html
import math

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, Patch, Rectangle

from .. import capacity, catalog, mesh, numerics, silicon, systolic
from ..errors import (
    LabsimError,
    check_bool,
    check_choice,
    check_int,
    check_mapping,
    check_number,
    check_text,
)
from ..limits import MAX_CLOCK_HZ, MAX_USD
from ..precision import bytes_per_element
from ._ch07_inputs import _chip_names, _curve, _dict, _explore_result, _run, _seq
from ._widgets import figure_and_ax, pre, wire

__all__ = ["MACHINES", "machines", "machines_table", "systolic_frames", "systolic_spacetime", "tpu_batch_plot",
           "mesh_cdf", "mesh_load_plot", "format_lines", "accumulator_plot", "attention_plot", "yield_plot",
           "wafer_map", "cost_plot", "next_lpu_plot", "fig18_efficiency", "FIG18_CHIPS", "FIG18_RATINGS",
           "next_lpu_explore", "next_lpu_text", "next_lpu_bar_svg", "make_next_lpu_widget"]

#: the four machines of the chapter, in the order they are drawn
MACHINES = ("groq-lpu-v1", "google-tpu-v1", "tesla-dojo-d1", "cerebras-cs3")
#: Fig 18 of the report: its four chips and its printed "single-batch efficiency" rating ([huatai26] Fig 18)
FIG18_CHIPS = ("groq-lpu-v1", "nvidia-b300", "google-tpu-v7", "cerebras-cs3")
FIG18_RATINGS = {"groq-lpu-v1": "Extremely High", "nvidia-b300": "Low (Memory Bound)", "google-tpu-v7": "Medium",
                 "cerebras-cs3": "High"}
_C = {"sram": "#dd8452", "logic": "#c7d3e6", "dram": "#4c72b0", "hbm": "#4c72b0", "io": "#8c8c8c",
      "static": "#2a9d8f", "dynamic": "#c44e52"}


def _where(c: catalog.Chip) -> str:
    if c.memory_kind == "dram":
        return "off-chip DDR"
    if c.packaging == "wafer":
        return "on-wafer SRAM"
    return "on-die SRAM" if c.memory_kind == "sram" else "HBM beside the die"


def machines_table(names=MACHINES) -> list[dict]:
    """One row per machine from the catalog: what one 'chip' is, where the weights live, capacity, bandwidth,
    the time to read the whole memory once, and the dense peak at its narrowest published precision."""
    rows = []
    for n in _chip_names("names", names):
        c = catalog.chip(n)
        prec = min(c.peak_ops_per_s, key=lambda p: (_bits(p), p)) if c.peak_ops_per_s else None
        rows.append({"chip": n, "unit": {"die": "one die", "tile": f"one die of a {c.dies_per_unit}-die tile",
                                          "wafer": "one wafer"}[c.packaging],
                     "weights_in": _where(c), "memory_bytes": c.memory_bytes,
                     "bandwidth_bytes_per_s": c.memory_bandwidth_bytes_per_s,
                     "sweep_s": c.memory_bytes / c.memory_bandwidth_bytes_per_s,
                     "peak_precision": prec, "peak_ops_per_s": c.peak_ops(prec) if prec else None})
    return rows


def _bits(precision: str) -> int:
    return int(round(8 * bytes_per_element(precision)))


def machines(names=MACHINES):
    """The four machines side by side, each to its own scale (scale bar in each panel): the LPU die with its SRAM
    share, the TPU v1 die with its DDR3 weight memory beside it, a 5 × 5 Dojo training tile, the WSE-3 wafer."""

    rows = {r["chip"]: r for r in machines_table(names)}
    if not set(rows) & set(MACHINES):
        raise LabsimError(f"names must include at least one of the machines this figure draws: {', '.join(MACHINES)}")
    fig, axes = plt.subplots(1, 4, figsize=(15, 4.4))

    def label(ax, r, extra=""):
        cap = r["memory_bytes"]
        cap_s = f"{cap / 1e9:.3g} GB" if cap >= 1e9 else f"{cap / 1e6:.0f} MB"
        bw = r["bandwidth_bytes_per_s"]
        bw_s = (f"{bw / 1e15:.0f} PB/s" if bw >= 1e15 else f"{bw / 1e12:.1f} TB/s" if bw >= 1e12
                else f"{bw / 1e9:.0f} GB/s")
        t = r["sweep_s"]
        t_s = f"{t * 1e3:,.0f} ms" if t >= 1e-3 else f"{t * 1e6:,.1f} µs"
        ax.set_title(f"{catalog.chip(r['chip']).display_name}\n{cap_s} {r['weights_in']} · {bw_s}", fontsize=9.5)
        ax.text(0.5, -0.06, f"whole memory read once: {t_s}{extra}", transform=ax.transAxes,
                ha="center", va="top", fontsize=8.5)

    def scalebar(ax, x, y, mm):
        ax.plot([x, x + mm], [y, y], color="k", lw=2)
        ax.text(x + mm / 2, y - 0.04 * mm * 4, f"{mm:g} mm", ha="center", va="top", fontsize=8)

    for ax in axes:
        ax.set_aspect("equal")
        ax.axis("off")
    # LPU: 25 × 29 mm die; SRAM slices in two hemispheres (share of area from the silicon model)
    if "groq-lpu-v1" in rows:
        ax = axes[0]
        share = silicon.sram_area_mm2(catalog.chip("groq-lpu-v1").memory_bytes, "14nm") / 725.0
        ax.add_patch(Rectangle((0, 0), 25, 29, fc=_C["logic"], ec="k"))
        w = 25 * share / 2
        for x0 in (12.5 - w - 1, 13.5):
            ax.add_patch(Rectangle((x0, 1), w, 27, fc=_C["sram"], ec="none"))
        ax.text(12.5, 14.5, f"SRAM arrays\n≈{share:.0%} of the die", ha="center", va="center", fontsize=8,
                bbox=dict(fc="white", ec="none", alpha=0.85))
        scalebar(ax, 0, -3, 10)
        ax.set_xlim(-2, 27)
        ax.set_ylim(-7, 31)
        label(ax, rows["groq-lpu-v1"])
    # TPU v1: die ≤ half of a ~600 mm² Haswell ([jouppi17] §3) — drawn as 300 mm²; DDR3 weight memory off chip
    if "google-tpu-v1" in rows:
        ax = axes[1]
        s3 = math.sqrt(300.0)
        ax.add_patch(Rectangle((0, 6), s3, s3, fc=_C["logic"], ec="k"))
        ax.add_patch(Rectangle((1, 6 + s3 / 2), s3 / 2 - 1, s3 / 2 - 1, fc="#f0c27b", ec="k"))
        ax.text(s3 / 4 + 0.5, 6 + 3 * s3 / 4, "256×256\nMACs", ha="center", va="center", fontsize=7.5)
        ax.add_patch(Rectangle((1, 7), s3 - 2, s3 / 2 - 2, fc=_C["sram"], ec="none"))
        ax.text(s3 / 2, 6 + s3 / 4, "28 MiB buffers\n(activations)", ha="center", va="center", fontsize=7.5)
        for i in range(4):
            ax.add_patch(Rectangle((22, 2 + i * 7), 6, 5, fc=_C["dram"], ec="k"))
        ax.text(25, 30, "DDR3: weights", ha="center", fontsize=8)
        ax.annotate("", xy=(s3, 15), xytext=(22, 15), arrowprops=dict(arrowstyle="->", lw=1.5))
        scalebar(ax, 0, 0, 10)
        ax.set_xlim(-2, 30)
        ax.set_ylim(-5, 33)
        label(ax, rows["google-tpu-v1"])
    # Dojo: 5 × 5 D1 dies (≈ 25.4 mm each side for 645 mm²) on a tile with an I/O ring
    if "tesla-dojo-d1" in rows:
        ax = axes[2]
        s = math.sqrt(645.0)
        g = 2.0
        side = 5 * s + 6 * g
        ax.add_patch(Rectangle((-6, -6), side + 12, side + 12, fc=_C["io"], ec="k", alpha=0.5))
        for i in range(5):
            for j in range(5):
                ax.add_patch(Rectangle((g + i * (s + g), g + j * (s + g)), s, s, fc=_C["logic"], ec="k", lw=0.6))
                ax.add_patch(Rectangle((g + i * (s + g) + 3, g + j * (s + g) + 3), s - 6, s * 0.21, fc=_C["sram"],
                                       ec="none"))
        ax.text(side / 2, side + 8, "25 known-good D1 dies + I/O dies (grey)", ha="center", fontsize=8)
        scalebar(ax, 0, -12, 50)
        ax.set_xlim(-10, side + 10)
        ax.set_ylim(-22, side + 14)
        label(ax, rows["tesla-dojo-d1"], extra=" (per die)")
    # Cerebras: 300 mm wafer, 215 × 215 mm engine
    if "cerebras-cs3" in rows:
        ax = axes[3]
        ax.add_patch(Circle((0, 0), 150, fc="#eeeeee", ec="k"))
        a = math.sqrt(46225.0)
        ax.add_patch(Rectangle((-a / 2, -a / 2), a, a, fc=_C["logic"], ec="k"))
        for i in range(12):
            ax.add_patch(Rectangle((-a / 2 + i * a / 12 + 2, -a / 2 + 2), a / 12 * 0.23, a - 4, fc=_C["sram"],
                                   ec="none"))
        ax.text(0, 0, "900,000 cores\n48 KB SRAM each", ha="center", va="center", fontsize=8,
                bbox=dict(fc="white", ec="none", alpha=0.8))
        scalebar(ax, -150, -165, 100)
        ax.set_xlim(-160, 160)
        ax.set_ylim(-190, 160)
        label(ax, rows["cerebras-cs3"])
    fig.suptitle("Where the weights live — each panel to its own scale (see its scale bar); orange = SRAM",
                 fontsize=10)
    fig.tight_layout()
    return fig


def systolic_frames(run: systolic.SystolicRun, cycles=None, ncols: int = 6):
    """Frames of the recorded run: each PE colored by the vector it works on this cycle (blank = idle)."""

    run = _run(run)
    if run.trace is None:
        raise LabsimError("systolic_frames needs a run recorded with systolic.simulate(..., record=True)")
    ncols = check_int("ncols", ncols, lo=1, hi=12)
    if cycles is None:
        cycles = np.unique(np.linspace(0, run.cycles - 1, 12).astype(int))
    cycles = [check_int(f"cycles[{i}]", t, lo=0, hi=run.cycles - 1) for i, t in enumerate(_seq("cycles", cycles))]
    n = len(cycles)
    rows = -(-n // ncols)
    fig, axes = plt.subplots(rows, ncols, figsize=(2.1 * ncols, 2.3 * rows), squeeze=False)
    vmax = max(1, int(run.trace.max()))
    cmap = plt.get_cmap("viridis")
    for ax, t in zip(axes.ravel()[:n], cycles, strict=True):
        img = np.ma.masked_less(run.trace[t].astype(float), 0)
        ax.imshow(img, cmap=cmap, vmin=0, vmax=vmax)
        ax.set_title(f"cycle {t} · {int(run.busy_per_cycle[t])} busy", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    fig.legend(handles=[Patch(color=cmap(v / vmax), label=f"vector {v % run.batch}"
                              + (f", tile {v // run.batch}" if run.n_tiles > 1 else ""))
                        for v in range(vmax + 1)][:12], loc="lower right", fontsize=7, ncol=2)
    fig.suptitle(f"{run.rows} × {run.cols} weight-stationary array, {run.batch} vectors × {run.n_tiles} tile(s): "
                 "color = which vector a PE multiplies (activations enter at the left, partial sums leave at the "
                 "bottom)", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig


def systolic_spacetime(run: systolic.SystolicRun, ax=None):
    """Busy PEs per cycle, with the fill (R + C − 1 cycles to the first full output) and the steady state."""
    run = _run(run)
    fig, ax = figure_and_ax(ax, (10, 3.2))
    t = np.arange(run.cycles)
    t0 = int(run.tile_starts[0])
    if t0 > 0:
        ax.axvspan(-0.5, t0 - 0.5, color="#dddddd", zorder=0, label=f"weights fetched / shifted in: {t0} cycles")
    ax.axvspan(t0 - 0.5, run.first_output_cycle + 0.5, color="#f7e1b5", zorder=0,
               label=f"fill: {run.fill_cycles} cycles = R + C − 1 to the first full output")
    ax.step(t, run.busy_per_cycle, where="mid", color="#4c72b0", lw=2, zorder=3, label="PEs doing a MAC")
    ax.axhline(run.rows * run.cols, color="k", lw=0.8, ls="--", label=f"all {run.rows * run.cols} PEs")
    ax.set_xlabel("cycle")
    ax.set_ylabel("busy PEs")
    ax.set_title(f"{run.rows} × {run.cols} array, batch {run.batch}: utilization {run.utilization:.1%} over "
                 f"{run.cycles} cycles", fontsize=10)
    ax.set_ylim(0, run.rows * run.cols * 1.45)
    ax.legend(fontsize=8, loc="upper left", ncol=2)
    fig.tight_layout()
    return fig


def tpu_batch_plot(curves: dict, *, published: dict | None = None, lpu_point: dict | None = None, ax=None):
    """Utilization (left axis, log batch) from ``systolic.mlp_batch_latency``; published points as markers."""
    curves = check_mapping("curves", curves)
    b = _curve("curves", curves, "batch", lo=1.0)
    util = _curve("curves", curves, "utilization", b.size, lo=0.0, hi=1.0)
    secs = _curve("curves", curves, "seconds", b.size, lo=1e-300)
    if published is not None:
        published = check_mapping("published", published)
        if "batch" not in published or "label" not in published:
            raise LabsimError("published must be a dict with 'batch' (a number ≥ 1) and 'label' (text)")
        check_number("published['batch']", published["batch"], lo=1.0, hi=1e12)
        check_text("published['label']", published["label"])
    if lpu_point is not None:
        lpu_point = check_mapping("lpu_point", lpu_point)
        if "utilization" not in lpu_point or "label" not in lpu_point:
            raise LabsimError("lpu_point must be a dict with 'utilization' (a fraction) and 'label' (text)")
        check_number("lpu_point['utilization']", lpu_point["utilization"], lo=0.0, hi=1.0)
        check_text("lpu_point['label']", lpu_point["label"])
    fig, ax = figure_and_ax(ax, (10, 4))
    curves = {"batch": b, "utilization": util, "seconds": secs}
    ax.semilogx(b, 100 * curves["utilization"], "-o", ms=3, color="#4c72b0", label="TPU v1 array busy (simulated)")
    ax.set_xlabel("batch (inferences sharing one pass over the weights)")
    ax.set_ylabel("MACs used, % of peak")
    ax2 = ax.twinx()
    ax2.loglog(b, curves["seconds"] * 1e3, "--", color="#c44e52", label="device time per batch (ms)")
    ax2.set_ylabel("device time per batch, ms", color="#c44e52")
    if published:
        ax.axvline(published["batch"], color="k", ls=":", lw=1)
        ax.text(published["batch"] * 1.08, 90, published["label"], fontsize=8, va="top")
    if lpu_point:
        ax.plot([1], [100 * lpu_point["utilization"]], "s", color=_C["sram"], ms=8, label=lpu_point["label"])
    ax.set_ylim(0, 100)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def mesh_cdf(runs: dict, ax=None):
    """CDF of latency ÷ zero-load latency (h × hop) for each run ``{label: MeshRun}``. A dynamic run spreads to
    the right of 1; for a static run the time *in the network* is exactly 1 × zero-load (the vertical line) —
    its planned wait before departure, fixed at compile time, is drawn dotted."""
    runs = _dict("runs", runs, max_len=20)
    for label, r in runs.items():
        if not isinstance(r, mesh.MeshRun):
            raise LabsimError(f"runs[{label!r}] must be a labsim.mesh.MeshRun, got {type(r).__name__}")
        if r.latency_cycles.size == 0:
            raise LabsimError(f"runs[{label!r}] has no delivered packet to draw")
    fig, ax = figure_and_ax(ax, (8.5, 4))
    for label, r in runs.items():
        zero = np.maximum(r.hops * r.config.hop_cycles, 1)
        if r.mode == "static":
            ax.axvline(1.0, color=_C["static"], lw=2.5, label=f"{label}: in the network (every packet)")
            x = np.sort(r.latency_cycles / zero)
            ax.step(x, np.arange(1, x.size + 1) / x.size, where="post", color=_C["static"], ls=":",
                    label=f"{label}: incl. the planned wait")
        else:
            x = np.sort(r.latency_cycles / zero)
            ax.step(x, np.arange(1, x.size + 1) / x.size, where="post", lw=1.4, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("latency ÷ zero-load latency (h × hop)")
    ax.set_ylabel("fraction of packets ≤ x")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def mesh_load_plot(curves: dict, *, clock_hz: float = 2e9):
    """Left: P50/P99/P99.9 of the dynamic mesh and the static schedule's P99 (incl. planned wait) vs load.
    Right: P99 of the delay *in the network* beyond h × hop — dynamic grows, static is 0 at every load."""

    clock_hz = check_number("clock_hz", clock_hz, lo=1.0, hi=MAX_CLOCK_HZ, unit="Hz")
    curves = check_mapping("curves", curves)
    ld = _curve("curves", curves, "load", lo=0.0, hi=1.0)
    sat = curves.get("saturated")
    if not isinstance(sat, np.ndarray) or sat.dtype != bool or sat.shape != ld.shape:
        raise LabsimError("curves['saturated'] must be a boolean array as long as curves['load'] (pass what "
                          "mesh.latency_vs_load returned)")
    curves = {"load": ld, "saturated": sat, **{k: _curve("curves", curves, k, ld.size, lo=0.0, masked_ok=True)
                                               for k in ("dyn_p50", "dyn_p99", "dyn_p999", "dyn_net_p99",
                                                         "static_p99", "static_net_max_excess")}}
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(13, 4))
    ok = ~curves["saturated"]
    for key, lab in (("dyn_p50", "dynamic P50"), ("dyn_p99", "dynamic P99"), ("dyn_p999", "dynamic P99.9")):
        ax.semilogy(ld[ok], curves[key][ok], "-o", ms=3, label=lab)
    ax.semilogy(ld, curves["static_p99"], "--", color=_C["static"], label="static schedule P99 (incl. planned wait)")
    if (~ok).any():
        ax.axvspan(ld[~ok].min(), ld.max(), color="#eeeeee", label="dynamic mesh saturated")
    ax.set_xlabel("offered load, packets per node per cycle")
    ax.set_ylabel("latency, cycles")
    sec = ax.secondary_yaxis("right", functions=(lambda c: c / clock_hz * 1e9, lambda ns: ns * clock_hz / 1e9))
    sec.set_ylabel(f"ns at {clock_hz / 1e9:g} GHz")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    bx.plot(ld[ok], curves["dyn_net_p99"][ok], "-o", ms=3, color=_C["dynamic"], label="dynamic mesh, P99")
    bx.plot(ld, curves["static_net_max_excess"], "-", color=_C["static"], lw=3,
            label="static schedule, maximum (flat at 0)")
    bx.set_yscale("symlog", linthresh=1)
    bx.set_xlabel("offered load, packets per node per cycle")
    bx.set_ylabel("cycles in the network beyond h × hop")
    bx.legend(fontsize=8, loc="upper left")
    bx.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def format_lines(names=("fp8_e4m3", "fp8_e5m2", "cfp8_143", "cfp8_143"), biases=(None, None, 7, 40), ax=None):
    """Every positive value of each 8-bit format on a log axis (CFP8 with a chosen bias)."""
    names, biases = _seq("names", names, max_len=20), _seq("biases", biases, max_len=20)
    if len(names) != len(biases):
        raise LabsimError(f"names and biases must be equally long (one bias or None per format), got {len(names)} "
                          f"and {len(biases)}")
    for i, (n, b) in enumerate(zip(names, biases, strict=True)):
        numerics._format(f"names[{i}]", n, None)
        if b is not None:
            numerics._format(f"names[{i}]", n, check_int(f"biases[{i}]", b, lo=0, hi=63))
            biases[i] = int(b)
    fig, ax = figure_and_ax(ax, (10, 2.6))
    for i, (n, b) in enumerate(zip(names, biases, strict=True)):
        v = numerics.representable_values(n, bias=b)[1:]
        ax.plot(v, np.full(v.size, i), "|", ms=14)
        f = numerics.fmt(n, bias=b)
        ax.text(v.max() * 1.5, i, f"{f.name}: {v.min():.1e} … {v.max():g}", va="center", fontsize=8)
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels([numerics.fmt(n, bias=b).name for n, b in zip(names, biases, strict=True)], fontsize=8)
    ax.set_xscale("log")
    ax.set_xlim(1e-8, 1e9)
    ax.set_xlabel("positive representable values (log scale)")
    return fig


def accumulator_plot(Ks, bits=(16, 24, 32, 64), seed: int = 0, ax=None):
    """Relative error of an INT8 GEMV row vs K for each accumulator width, worst case (all −128) and random."""
    Ks = [check_int(f"Ks[{i}]", K, lo=1, hi=1 << 22) for i, K in enumerate(_seq("Ks", Ks, max_len=30))]
    bits = [check_int(f"bits[{i}]", b, lo=8, hi=128) for i, b in enumerate(_seq("bits", bits, max_len=10))]
    for i, b in enumerate(bits):
        if 62 < b < 64:
            raise LabsimError(f"bits[{i}] = {b} is out of range; allowed: 8 … 62, or ≥ 64 (exact)")
    if sum(Ks) * len(bits) > 50_000_000:
        raise LabsimError(f"Ks: Σ K × len(bits) = {sum(Ks) * len(bits):,}; allowed ≤ 50,000,000")
    seed = check_int("seed", seed, lo=0)
    fig, ax = figure_and_ax(ax, (8, 3.8))
    rng = np.random.default_rng(seed)
    for b in bits:
        worst, rand = [], []
        for K in Ks:
            wv = numerics.int_gemv(np.full((1, K), -128), np.full(K, -128), b)
            worst.append(abs(wv["output"][0] - wv["exact"][0]) / abs(wv["exact"][0]))
            W, x = rng.integers(-128, 128, (4, K)), rng.integers(-128, 128, K)
            rv = numerics.int_gemv(W, x, b)
            rand.append(np.max(np.abs(rv["output"] - rv["exact"])) / np.max(np.abs(rv["exact"])))
        line, = ax.loglog(Ks, np.maximum(worst, 1e-9), "-o", ms=3, label=f"{b}-bit, worst case")
        ax.loglog(Ks, np.maximum(rand, 1e-9), ":", color=line.get_color(), label=f"{b}-bit, random int8")
    ax.axhline(1e-9, color="k", lw=0.5)
    ax.text(Ks[0], 1.4e-9, "exact (error 0, drawn at 10⁻⁹)", fontsize=8)
    ax.set_xlabel("dot-product length K")
    ax.set_ylabel("relative error of the output")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def attention_plot(sweep: dict, metric: str = "softmax_shift", ax=None):
    """One line per config of ``numerics.attention_sweep`` against context length."""
    metric = check_choice("metric", metric, ("softmax_shift", "output_rel_error"), what="metric")
    sweep = _dict("sweep", sweep)
    ctx = _curve("sweep", sweep, "contexts", lo=1.0)
    lines = {}
    for label, d in sweep.items():
        if label == "contexts":
            continue
        if not isinstance(d, dict):
            raise LabsimError(f"sweep[{label!r}] must be a dict of arrays (pass what numerics.attention_sweep "
                              "returned)")
        lines[label] = _curve(f"sweep[{label!r}]", d, metric, ctx.size, lo=0.0)
    if not lines:
        raise LabsimError("sweep holds no config to draw (pass what numerics.attention_sweep returned)")
    fig, ax = figure_and_ax(ax, (8, 4))
    for label, y in lines.items():
        ax.loglog(ctx, y, "-o", ms=3, label=label)
    ax.set_xlabel("context tokens attended")
    ax.set_ylabel({"softmax_shift": "softmax shift (total-variation distance)",
                   "output_rel_error": "relative error of the attention output"}.get(metric, metric))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return fig


def yield_plot(defect_density_per_mm2: float = 0.001, ax=None, marks=None):
    """Die yield vs area for the four models; machine areas marked."""
    defect_density_per_mm2 = check_number("defect_density_per_mm2", defect_density_per_mm2, lo=0.0, hi=10.0)
    if marks is not None:
        marks = _dict("marks", marks, max_len=20)
        for name, area in marks.items():
            check_number(f"marks[{name!r}]", area, lo=1.0, hi=silicon.MAX_AREA_MM2, unit="mm²")
    fig, ax = figure_and_ax(ax, (8, 4))
    A = np.geomspace(10, 50_000, 200)
    for m in silicon.YIELD_MODELS:
        ax.semilogx(A, 100 * silicon.die_yield(A, defect_density_per_mm2, m), label=m.replace("_", " "))
    for i, (name, area) in enumerate((marks or {}).items()):
        ax.axvline(area, color="k", lw=0.6, ls=":")
        ax.text(area * 1.05, 97 - 14 * (i % 3), name, rotation=90, va="top", fontsize=8,
                bbox=dict(fc="white", ec="none", alpha=0.8, pad=0.5))
    ax.set_xlabel("die area, mm² (log)")
    ax.set_ylabel("dies with no killer defect, %")
    ax.set_title(f"defect density {defect_density_per_mm2 * 100:g} per cm²", fontsize=10)
    ax.legend(fontsize=8)
    return fig


def wafer_map(maps: silicon.WaferMaps, wafer: int = 0, ax=None):
    """One simulated wafer: good dies green, dies with a defect red, partial edge sites grey."""

    if not isinstance(maps, silicon.WaferMaps):
        raise LabsimError(f"maps must be a labsim.silicon.WaferMaps (from silicon.simulate_wafers), got "
                          f"{type(maps).__name__}")
    wafer = check_int("wafer", wafer, lo=0, hi=maps.counts.shape[0] - 1)
    fig, ax = figure_and_ax(ax, (5, 5))
    ax.add_patch(Circle((0, 0), maps.radius_mm, fc="#f4f4f4", ec="k"))
    x0, y0 = -maps.cols * maps.die_w_mm / 2, -maps.rows * maps.die_h_mm / 2
    cnt = maps.counts[wafer]
    for s in range(maps.cols * maps.rows):
        r, c = divmod(s, maps.cols)
        if not maps.usable[s]:
            continue
        color = "#55a868" if cnt[s] == 0 else "#c44e52"
        ax.add_patch(Rectangle((x0 + c * maps.die_w_mm, y0 + r * maps.die_h_mm), maps.die_w_mm, maps.die_h_mm,
                               fc=color, ec="white", lw=0.8))
    good = int((cnt[maps.usable] == 0).sum())
    ax.set_title(f"{good} of {maps.dies_per_wafer} dies good on this wafer "
                 f"(all wafers: {maps.yield_fraction:.0%})", fontsize=9)
    ax.set_xlim(-155, 155)
    ax.set_ylim(-155, 155)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig


def cost_plot(rows: list[dict], hbm_usd_per_gb: float, ax=None):
    """Foundry cost per GB of SRAM by node (bars) against HBM's price per GB (line)."""
    hbm_usd_per_gb = check_number("hbm_usd_per_gb", hbm_usd_per_gb, lo=0.0, hi=MAX_USD, unit="USD/GB")
    names, vals = [], []
    for i, r in enumerate(_seq("rows", rows)):
        r = check_mapping(f"rows[{i}]", r)
        if "label" not in r or "usd_per_gb" not in r:
            raise LabsimError(f"rows[{i}] must be a dict with 'label' (text) and 'usd_per_gb' (a number)")
        names.append(check_text(f"rows[{i}]['label']", str(r["label"]) if isinstance(r["label"], (int, float))
                                else r["label"]))
        vals.append(check_number(f"rows[{i}]['usd_per_gb']", r["usd_per_gb"], lo=0.0, hi=MAX_USD))
    fig, ax = figure_and_ax(ax, (7, 3.6))
    ax.bar(names, vals, color=_C["sram"])
    for i, v in enumerate(vals):
        ax.text(i, v, f"US${v:,.0f}", ha="center", va="bottom", fontsize=8)
    ax.axhline(hbm_usd_per_gb, color=_C["hbm"], lw=2, label=f"HBM ≈ US${hbm_usd_per_gb:g}/GB [A]")
    ax.set_ylabel("US$ per GB")
    ax.legend(fontsize=8)
    return fig


def next_lpu_plot(table: dict):
    """Chips for the model (left) and US$ per million tokens (right) vs the SRAM multiple k, one line per case."""

    table = _dict("table", table, max_len=20)
    lines = {}
    for label, rows in table.items():
        cols = {"k": [], "chips": [], "usd_per_mtok": []}
        for i, r in enumerate(_seq(f"table[{label!r}]", rows, max_len=200)):
            r = check_mapping(f"table[{label!r}][{i}]", r)
            for key, hi in (("k", 1e3), ("chips", 1e9), ("usd_per_mtok", MAX_USD)):
                if key not in r:
                    raise LabsimError(f"table[{label!r}][{i}] lacks {key!r} (pass what silicon.next_lpu_whatif "
                                      "returned)")
                cols[key].append(check_number(f"table[{label!r}][{i}][{key!r}]", r[key], lo=0.0, hi=hi))
        lines[label] = cols
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 3.8))
    for label, cols in lines.items():
        k = cols["k"]
        a1.plot(k, cols["chips"], "-o", ms=4, label=label)
        a2.plot(k, cols["usd_per_mtok"], "-o", ms=4, label=label)
    a1.axhline(576, color="k", ls=":", lw=1)
    a1.text(k[-1], 590, "576-chip domain", ha="right", fontsize=8)
    a1.set_xlabel("SRAM per chip, × LPU v1 (230 MB)")
    a1.set_ylabel("chips to hold the model")
    a2.set_xlabel("SRAM per chip, × LPU v1")
    a2.set_ylabel("US$ per million tokens (chapter 4)")
    a1.legend(fontsize=8)
    fig.tight_layout()
    return fig


def fig18_efficiency(model: str = "llama-3.3-70b", precision: str = "int8", chips=FIG18_CHIPS) -> list[dict]:
    """Fraction of dense peak reachable at batch 1 (roofline: min(1, intensity × bandwidth / peak)) per chip,
    next to Fig 18's printed rating. Intensity from ``capacity.decode_intensity`` (batch 1, default context)."""
    chips = _chip_names("chips", chips)
    inten = float(capacity.decode_intensity(model, precision))
    out = []
    for n in chips:
        cp = capacity.compute_precision_for(n, precision)
        peak = catalog.chip(n).peak_ops(cp)
        frac = capacity.roofline(n, inten, cp) / peak
        out.append({"chip": n, "compute_precision": cp, "intensity_ops_per_byte": inten, "fraction_of_peak": frac,
                    "fig18_rating": FIG18_RATINGS.get(n, "")})
    return out


# ----------------------------------------------------------------------------------------------------------
# the widget: design the next LPU
# ----------------------------------------------------------------------------------------------------------

_WIDGET_MODELS = ("llama-3.3-70b", "llama-3.1-8b", "qwen3-32b", "llama-3.1-405b")


def next_lpu_explore(node: str = "5nm", defect_density_per_cm2: float = 0.1, k: float = 3.0,
                     rates_scale: bool = True, model: str = "llama-3.3-70b", die_area_mm2: float = 725.0) -> dict:
    """Widget callback (plain dict, a few ms): silicon at ``node`` (SRAM density, yield and good-die cost of a
    ``die_area_mm2`` die, SRAM US$/GB vs HBM) and the chapter 3/4 numbers for an LPU with ``k`` × the SRAM."""
    d_mm2 = check_number("defect_density_per_cm2", defect_density_per_cm2, lo=0.0, hi=10.0) / 100.0
    rates_scale = check_bool("rates_scale", rates_scale)
    k = check_number("k", k, lo=0.1, hi=1000.0)
    die_area_mm2 = check_number("die_area_mm2", die_area_mm2, lo=1.0, hi=silicon.MAX_AREA_MM2)
    model = check_choice("model", model, catalog.models(), what="model")
    n = silicon._node("node", node)
    node = n.name
    v1 = catalog.chip("groq-lpu-v1")
    need = silicon.sram_area_mm2(k * v1.memory_bytes, node)
    priced = n.wafer_usd is not None
    row = silicon.next_lpu_whatif([k], model=model, node_name=node, die_area_mm2=die_area_mm2,
                                  defect_density_per_mm2=d_mm2, bandwidth_scales=bool(rates_scale),
                                  price_mode="die_cost_delta" if priced else "same")[0]
    base = silicon.next_lpu_whatif([1.0], model=model, node_name="14nm", die_area_mm2=die_area_mm2,
                                   defect_density_per_mm2=d_mm2, price_mode="same")[0]
    y = silicon.die_yield(die_area_mm2, d_mm2)
    cost = silicon.good_die_cost_usd(node, die_area_mm2, d_mm2) if n.wafer_usd is not None else None
    share = min(1.0, need / die_area_mm2)
    per_gb = (silicon.sram_usd_per_gb(node, die_area_mm2, share, d_mm2) if n.wafer_usd is not None and share > 0
              else None)
    return {"node": node, "node_label": n.label, "k": k, "sram_mb": k * v1.memory_bytes / 1e6,
            "mb_per_mm2": silicon.sram_mb_per_mm2(node), "sram_area_mm2": need, "sram_share": need / die_area_mm2,
            "fits": need <= die_area_mm2, "die_yield": y, "good_die_usd": cost, "sram_usd_per_gb": per_gb,
            "hbm_usd_per_gb": silicon.defaults()["hbm_usd_per_gb"][0], "model": model, "row": row, "base": base,
            "price_note": ("LPU v1 price + the difference in good-die cost [A]" if priced else
                           "LPU v1 price (no sourced wafer price at this node) [A]")}


def next_lpu_text(r: dict) -> str:
    r = _explore_result(r)
    row, base = r["row"], r["base"]
    cost = "n/a (no sourced wafer price)" if r["good_die_usd"] is None else f"US${r['good_die_usd']:,.0f}"
    per_gb = "n/a" if r["sram_usd_per_gb"] is None else f"US${r['sram_usd_per_gb']:,.0f}/GB"
    lines = [
        f"{r['node_label']}: {r['mb_per_mm2']:.2f} MB of SRAM per mm²",
        f"{r['k']:g} × 230 MB = {r['sram_mb']:,.0f} MB needs {r['sram_area_mm2']:,.0f} mm² of arrays = "
        f"{r['sram_share']:.0%} of a 725 mm² die{'' if r['fits'] else '  — DOES NOT FIT'}",
        f"die yield {r['die_yield']:.0%} · good die {cost} · SRAM {per_gb} vs HBM ≈ US${r['hbm_usd_per_gb']:g}/GB [A]",
        f"price per chip US${row['price_usd_per_chip']:,.0f}: {r['price_note']}",
        f"{r['model']}: {row['chips']:,} chips ({row['racks']} racks, "
        f"{'crosses' if row['crosses_cliff'] else 'inside'} the 576-chip domain) vs {base['chips']:,} LPU v1",
        f"speed {row['tokens_per_s_per_user']:,.0f} tok/s per user ({row['dominant_bound']}) vs "
        f"{base['tokens_per_s_per_user']:,.0f}; cost US${row['usd_per_mtok']:.2f} vs US${base['usd_per_mtok']:.2f} "
        f"per M tokens",
    ]
    return "\n".join(lines)


def next_lpu_bar_svg(r: dict, width: int = 560) -> str:
    """Two pairs of bars (chips, US$/M tokens): LPU v1 vs the design — SVG text, no matplotlib."""
    r = _explore_result(r)
    width = check_int("width", width, lo=300, hi=5000)
    row, base = r["row"], r["base"]
    pairs = [("chips", base["chips"], row["chips"]), ("US$/M tok", base["usd_per_mtok"], row["usd_per_mtok"])]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="92" font-family="sans-serif" '
           'font-size="11">']
    for i, (name, a, b) in enumerate(pairs):
        top = max(a, b) or 1.0
        y = 8 + i * 42
        for j, (lab, v, col) in enumerate((("LPU v1", a, "#8c8c8c"), ("design", b, _C["sram"]))):
            w = (width - 230) * v / top          # leave room for the value label
            out.append(f'<rect x="150" y="{y + j * 17}" width="{w:.1f}" height="14" fill="{col}"/>')
            txt = f"{v:,.0f}" if name == "chips" else f"{v:.2f}"
            out.append(f'<text x="{155 + w:.1f}" y="{y + j * 17 + 11}">{html.escape(txt)}</text>')
            out.append(f'<text x="0" y="{y + j * 17 + 11}">{html.escape(name + " · " + lab)}</text>')
    out.append("</svg>")
    return "".join(out)


def make_next_lpu_widget():
    """Controls: node, defect density, SRAM multiple k, whether SRAM/MXM rates scale with k, model → text +
    SVG bars. Each move runs one plan + decode + TCO evaluation (a few ms) and rewrites two HTML strings."""

    style = {"description_width": "190px"}
    lay = W.Layout(width="480px")
    controls = {
        "node": W.Dropdown(options=silicon.nodes(), value="5nm", description="process node", style=style, layout=lay),
        "defect_density_per_cm2": W.FloatSlider(value=0.1, min=0.0, max=1.0, step=0.05,
                                                description="defect density (per cm²)", style=style, layout=lay,
                                                continuous_update=False),
        "k": W.FloatSlider(value=3.0, min=1.0, max=8.0, step=0.5, description="SRAM per chip (× 230 MB)",
                           style=style, layout=lay, continuous_update=False),
        "rates_scale": W.Checkbox(value=True, description="read rates grow with k [A]", style=style,
                                  layout=lay),
        "model": W.Dropdown(options=list(_WIDGET_MODELS), value="llama-3.3-70b", description="model", style=style,
                            layout=lay),
    }
    text = W.HTML()
    picture = W.HTML()

    def show(**kw):
        r = next_lpu_explore(**kw)
        text.value = pre(next_lpu_text(r))
        picture.value = next_lpu_bar_svg(r)
        return r

    return wire(controls, show, [text, picture])
