"""Chapter 1 plots and widget: the TSP as an assembly line.

* ``floorplan`` — the slices west→east coloured by type, superlanes stacked south→north (labsim.tsp.Geometry).
* ``gpu_sm_grid`` — a GPU drawn as a grid of SMs around a shared L2, with HBM stacks off-die (schematic).
* ``floorplan_vs_gpu`` — both side by side.
* ``spacetime`` — slice × cycle diagram of a run: each stream value's world-line and each instruction's issue.
* ``stagger`` — when one instruction executes on each superlane (one superlane per cycle).
* ``timing_check`` — the widget's callback: move the VXM add's issue cycle or the bias read's slice in the
  demo program and get the simulator's verdict (a plain function returning a dict, a few ms);
  ``make_timing_widget()`` wraps it in ipywidgets.
"""
from __future__ import annotations

import numpy as np

from ..errors import LabsimError, TimingFault, check_choice, check_int
from ..tsp import Geometry, Result, Trace, demo_program, simulate
from ..tsp.sim import Result as _Result

__all__ = ["SLICE_COLORS", "derived_vs_published", "derived_text", "floorplan", "gpu_sm_grid", "floorplan_vs_gpu",
           "spacetime", "stagger",
           "timing_check", "make_timing_widget"]

SLICE_COLORS = {"C2C": "#9e9e9e", "MXM": "#c44e52", "SXM": "#8172b2", "MEM": "#4c72b0", "VXM": "#55a868"}
_OP_COLORS = {"MEM": "#4c72b0", "VXM": "#55a868", "MXM": "#c44e52", "SXM": "#8172b2", "C2C": "#7f7f7f",
              "NOP": "#bbbbbb"}


def _ax(ax, figsize=(8, 4)):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    return ax.figure, ax


def _geometry(g) -> Geometry:
    if g is None:
        return Geometry.faithful()
    if isinstance(g, str):
        check_choice("geometry", g, ("faithful", "mini"), what="geometry profile")
        return getattr(Geometry, g)()
    if not isinstance(g, Geometry):
        raise LabsimError(f"geometry must be 'faithful', 'mini' or a Geometry, got {g!r}")
    return g


def floorplan(geometry=None, ax=None, title: str | None = None):
    """Slices (columns, west→east) × superlanes (rows, south→north), coloured by slice type."""
    from matplotlib.patches import Patch, Rectangle

    g = _geometry(geometry)
    fig, ax = _ax(ax, (9, 3.2))
    for i, kind in enumerate(g.slice_types):
        for s in range(g.superlanes):
            ax.add_patch(Rectangle((i, s), 0.9, 0.85, color=SLICE_COLORS[kind], lw=0))
    ax.set_xlim(-0.5, g.n_slices + 0.5)
    ax.set_ylim(-0.5, g.superlanes + 0.5)
    ax.set_xlabel("slice index (west → east); streams flow horizontally")
    ax.set_ylabel("superlane (instructions flow ↑)")
    ax.annotate("", xy=(g.n_slices * 0.62, g.superlanes + 0.25), xytext=(g.n_slices * 0.38, g.superlanes + 0.25),
                arrowprops=dict(arrowstyle="<->", color="k"), annotation_clip=False)
    ax.set_title(title or f"TSP floorplan ({g.name}): {g.n_slices} slices × {g.superlanes} superlanes, "
                          f"{g.vector_len}-byte vectors", fontsize=10)
    counts = {k: g.slice_types.count(k) for k in SLICE_COLORS}
    ax.legend(handles=[Patch(color=c, label=f"{k} ×{counts[k]}") for k, c in SLICE_COLORS.items()],
              loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=5, fontsize=8, frameon=False)
    ax.set_aspect("auto")
    return fig, ax


def gpu_sm_grid(n_sms: int = 132, ax=None, title: str | None = None):
    """Schematic GPU: a grid of SMs (H100 SXM has 132) around a shared L2 cache, HBM stacks at the edges.

    Not to scale; the point is the structure (many independent cores, caches, warps scheduled at run time)."""
    from matplotlib.patches import Rectangle

    n_sms = check_int("n_sms", n_sms, lo=1, hi=1024)
    fig, ax = _ax(ax, (5, 3.2))
    cols = int(np.ceil(np.sqrt(n_sms * 2)))
    rows = int(np.ceil(n_sms / cols))
    half = rows // 2
    for k in range(n_sms):
        r, c = divmod(k, cols)
        y = r + (1.2 if r >= half else 0)
        ax.add_patch(Rectangle((c + 1.5, y), 0.85, 0.85, color="#76b900", lw=0))
    ax.add_patch(Rectangle((1.5, half), cols - 0.15, 1.0, color="#f0c05a", lw=0))
    ax.text(1.5 + cols / 2, half + 0.5, "shared L2 cache", ha="center", va="center", fontsize=8)
    for side in (0, cols + 1.7):
        for j in range(3):
            ax.add_patch(Rectangle((side, j * (rows + 1.2) / 3 + 0.1), 1.1, (rows + 1.2) / 3 - 0.3,
                                   color="#999999", lw=0))
        ax.text(side + 0.55, (rows + 1.2) / 2, "HBM", rotation=90, ha="center", va="center", fontsize=8,
                color="white")
    ax.set_xlim(-0.3, cols + 3.2)
    ax.set_ylim(-0.3, rows + 1.6)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title or f"GPU (schematic): {n_sms} SMs + caches + HBM", fontsize=10)
    return fig, ax


def floorplan_vs_gpu(geometry=None, n_sms: int = 132):
    """The TSP floorplan next to a GPU's SM grid (one figure, two panels)."""
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 3.6), gridspec_kw={"width_ratios": [2.2, 1]})
    floorplan(geometry, ax=a1)
    gpu_sm_grid(n_sms, ax=a2)
    fig.tight_layout()
    return fig, (a1, a2)


def _trace_of(x) -> Trace:
    if isinstance(x, (Result, _Result)):
        return x.trace
    if isinstance(x, Trace):
        return x
    raise LabsimError(f"expected a simulate() Result or its Trace, got {type(x).__name__}")


def spacetime(result, ax=None, title: str | None = None, label_ops: bool = True):
    """Space–time diagram: x = slice (west→east), y = cycle (downwards). Each stream value is a line from the
    slice and cycle where it was written to where it stopped (overwritten, or off the chip edge); each
    instruction is a dot at (its slice, its issue cycle), coloured by unit."""
    tr = _trace_of(result)
    fig, ax = _ax(ax, (9, 5))
    names = tr.slice_names or tuple(str(i) for i in range(tr.n_slices))
    kinds = [n.split("_")[0] for n in names]
    for i, k in enumerate(kinds):  # background stripes by slice type
        ax.axvspan(i - 0.5, i + 0.5, color=SLICE_COLORS.get(k, "#eeeeee"), alpha=0.08, lw=0)
    ops = tr.op_names()
    for d, s, sl, c0, c1, r in tr.segments():
        step = 1 if d == 0 else -1
        n_hops = (c1 - 1 - c0) // tr.hop_cycles
        end_sl = sl + step * n_hops
        end_sl = min(max(end_sl, 0), tr.n_slices - 1)
        kind = ops[r].split("_")[0]
        ax.plot([sl, end_sl], [c0, c0 + abs(end_sl - sl) * tr.hop_cycles], color=_OP_COLORS.get(kind, "k"),
                lw=1.6, alpha=0.8)
        ax.text(sl + 0.3 * step, c0 - 0.6, f"{'E' if d == 0 else 'W'}{s}", fontsize=6, color="#444444")
    for r in range(len(tr.cycle)):
        kind = ops[r].split("_")[0]
        ax.plot([tr.slice[r]] * 2, [tr.cycle[r], tr.done_cycle[r]], ":", color=_OP_COLORS.get(kind, "k"), lw=1)
        ax.plot(tr.slice[r], tr.cycle[r], "o", color=_OP_COLORS.get(kind, "k"), ms=6, mec="k", mew=0.5)
        # a read: mark where operand values were picked up
        if label_ops:
            ax.annotate(ops[r].replace("_", " ").lower(), (tr.slice[r], tr.cycle[r]), xytext=(4, 2),
                        textcoords="offset points", fontsize=7)
    ax.set_xlim(-0.5, tr.n_slices - 0.5)
    top = int(max(tr.seg_end.max(initial=0), tr.done_cycle.max(initial=0))) + 1
    ax.set_ylim(top, -1)
    step = max(1, tr.n_slices // 25)
    ax.set_xticks(range(0, tr.n_slices, step))
    ax.set_xticklabels([names[i] for i in range(0, tr.n_slices, step)], rotation=90, fontsize=7)
    ax.set_ylabel("cycle (superlane 0)")
    ax.set_title(title or "space–time: dot = issue, dotted = functional delay, line = a stream value moving",
                 fontsize=10)
    fig.tight_layout()
    return fig, ax


def stagger(result, row: int | None = None, ax=None):
    """Cycle on which instruction ``row`` (default: every instruction) executes on each superlane: superlane k
    runs superlane 0's schedule k × stagger cycles later (ISCA 2020 §II-C)."""
    tr = _trace_of(result)
    fig, ax = _ax(ax, (7, 3.2))
    rows = range(len(tr.cycle)) if row is None else [check_int("row", row, lo=0, hi=len(tr.cycle) - 1)]
    ops = tr.op_names()
    k = np.arange(tr.superlanes)
    for r in rows:
        kind = ops[r].split("_")[0]
        ax.plot(tr.cycle[r] + k * tr.stagger, k, "-o", ms=3, color=_OP_COLORS.get(kind, "k"),
                label=ops[r].replace("_", " ").lower())
    ax.set_xlabel("cycle")
    ax.set_ylabel("superlane")
    ax.set_title(f"instruction stagger: {tr.stagger} cycle per superlane, "
                 f"{(tr.superlanes - 1) * tr.stagger} cycles from superlane 0 to {tr.superlanes - 1}", fontsize=10)
    if len(list(rows)) <= 10:
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig, ax


def timing_check(issue_shift: int = 0, bias_slice_shift: int = 0, geometry: str = "mini", seed: int = 0) -> dict:
    """Widget callback. Take the demo program (MEM→MXM→VXM→MEM: y = requant(relu(W·x + b))), issue its VXM add
    ``issue_shift`` cycles later (negative: earlier) and move the bias read ``bias_slice_shift`` MEM slices
    east (keeping its cycle), then simulate. Returns {"ok", "text", "cycles", "result", "program"}; on a timing
    fault ``text`` is the simulator's own message and ``result`` is None."""
    g = _geometry(geometry)
    issue_shift = check_int("issue_shift", issue_shift, lo=-20, hi=20)
    bias_slice_shift = check_int("bias_slice_shift", bias_slice_shift, lo=-2, hi=g.mem_slices_per_hemisphere - 3)
    p, mem, W, x, b, scale = demo_program(g, seed=seed)
    k_add = p.find(op="VXM_ADD")
    k_b = p.find(label="b")
    if issue_shift:
        p = p.replace(k_add, cycle=p.instructions[k_add].cycle + issue_shift)
    if bias_slice_shift:
        new_slice = f"MEM_E{2 + bias_slice_shift}"
        p = p.replace(k_b, slice=new_slice)
        mem = {(new_slice if key == ("MEM_E2", 0, 0) else key[0], key[1], key[2]): v for key, v in mem.items()}
    add, rb = p.instructions[k_add], p.instructions[k_b]
    setting = (f"VXM add issued on cycle {add.cycle} ({issue_shift:+d}), bias read at {rb.slice} on cycle "
               f"{rb.cycle}")
    try:
        res = simulate(p, g, memory=mem)
    except TimingFault as exc:
        return {"ok": False, "text": f"{setting}\n✗ TimingFault: {exc}", "cycles": None, "result": None,
                "program": p}
    from ..tsp import reference_demo
    match = bool(np.array_equal(res.read("MEM_E3", 1, 0), reference_demo(W, x, b, scale)))
    text = (f"{setting}\n✓ runs in {res.cycles} cycles ({res.cycles_superlane0} on superlane 0 + "
            f"{res.cycles - res.cycles_superlane0} of stagger) = {res.cycles / g.clock_hz * 1e9:.0f} ns at "
            f"{g.clock_hz / 1e6:g} MHz; output {'equals' if match else 'DIFFERS from'} NumPy.")
    return {"ok": True, "text": text, "cycles": res.cycles, "result": res, "program": p}


def make_timing_widget(geometry: str = "mini"):
    """Sliders for the VXM add's issue cycle and the bias read's slice; prints the verdict, draws the run."""
    import ipywidgets as W
    import matplotlib.pyplot as plt

    def show(issue_shift, bias_slice_shift):
        r = timing_check(issue_shift, bias_slice_shift, geometry)
        print(r["text"])
        if r["ok"]:
            fig, ax = spacetime(r["result"])
            fig.set_size_inches(8, 4)
            plt.show()

    style = {"description_width": "200px"}
    lay = W.Layout(width="520px")
    g = _geometry(geometry)
    return W.interactive(
        show,
        issue_shift=W.IntSlider(value=0, min=-5, max=5, description="VXM add issue shift (cycles)", style=style,
                                layout=lay),
        bias_slice_shift=W.IntSlider(value=0, min=-2, max=g.mem_slices_per_hemisphere - 3,
                                     description="bias read: MEM slices east", style=style, layout=lay),
    )


def derived_vs_published(geometry=None) -> list[dict]:
    """Quantities derived from the geometry (labsim.tsp) next to Groq's published figures (catalog
    'groq-lpu-v1'), each with how they relate. Units: bytes, bytes/s, ops/s."""
    from .. import catalog
    from ..tsp import (macs_per_cycle, peak_fp16_flops_per_s, peak_int8_ops_per_s, sram_bytes_per_cycle,
                       stream_bytes_per_cycle, total_sram_bytes)

    g = _geometry(geometry)
    chip = catalog.chip("groq-lpu-v1")
    src = chip.sources
    sram = total_sram_bytes(g)
    return [
        {"quantity": "on-chip SRAM", "derived": sram, "unit": "B",
         "derived_text": f"{sram / 2**20:,.0f} MiB = {sram / 1e6:,.1f} MB",
         "published": chip.memory_bytes, "published_text": f"{chip.memory_bytes / 1e6:,.0f} MB",
         "source": src.get("memory_bytes", ""),
         "why": "same capacity: MiB are 2^20 B, MB are 10^6 B"},
        {"quantity": "SRAM port bandwidth", "derived": sram_bytes_per_cycle(g) * g.clock_hz, "unit": "B/s",
         "derived_text": f"{sram_bytes_per_cycle(g):,} B/cycle → "
                         f"{sram_bytes_per_cycle(g) * g.clock_hz / 1e12:.1f} TB/s "
                         f"@ {g.clock_hz / 1e9:g} GHz, {sram_bytes_per_cycle(g) * 1e9 / 1e12:.1f} TB/s @ 1 GHz",
         "published": chip.memory_bandwidth_bytes_per_s,
         "published_text": f"{chip.memory_bandwidth_bytes_per_s / 1e12:.0f} TB/s",
         "source": src.get("memory_bandwidth_bytes_per_s", ""),
         "why": "80 TB/s is a product headline with no published derivation; the paper's Eq. 2 gives ~56 at 1 GHz"},
        {"quantity": "stream-register bandwidth", "derived": stream_bytes_per_cycle(g) * g.clock_hz, "unit": "B/s",
         "derived_text": f"{stream_bytes_per_cycle(g):,} B/cycle → "
                         f"{stream_bytes_per_cycle(g) * g.clock_hz / 1e12:.1f} TB/s",
         "published": None, "published_text": "—", "source": "ISCA 2020 Eq. 1 (20 TiB/s at 1 GHz)",
         "why": "not in the product brief"},
        {"quantity": "INT8 MACs per cycle", "derived": macs_per_cycle(g), "unit": "MAC/cycle",
         "derived_text": f"{macs_per_cycle(g):,}", "published": None, "published_text": "409,600 (paper)",
         "source": "ISCA 2020 §III-D", "why": "4 planes × 320 × 320"},
        {"quantity": "peak INT8", "derived": peak_int8_ops_per_s(g), "unit": "ops/s",
         "derived_text": f"{peak_int8_ops_per_s(g) / 1e12:,.0f} TOPS @ {g.clock_hz / 1e9:g} GHz "
                         f"({peak_int8_ops_per_s(g, 1e9) / 1e12:,.0f} @ 1 GHz, "
                         f"{peak_int8_ops_per_s(g, 1.25e9) / 1e12:,.0f} @ 1.25 GHz)",
         "published": chip.peak_ops("int8"), "published_text": f"{chip.peak_ops('int8') / 1e12:,.0f} TOPS",
         "source": src.get("peak_ops_per_s.int8", ""),
         "why": "737 from the MAC count; the ~2 % gap is not explained in the sources"},
        {"quantity": "peak FP16", "derived": peak_fp16_flops_per_s(g), "unit": "FLOP/s",
         "derived_text": f"{peak_fp16_flops_per_s(g) / 1e12:,.0f} TFLOPS @ {g.clock_hz / 1e9:g} GHz",
         "published": chip.peak_ops("fp16"), "published_text": f"{chip.peak_ops('fp16') / 1e12:,.0f} TFLOPS",
         "source": src.get("peak_ops_per_s.fp16", ""), "why": "1/4 of the INT8 MAC rate; ~2 % gap unexplained"},
    ]


def derived_text(rows: list[dict]) -> str:
    """The rows of :func:`derived_vs_published` as an aligned text table."""
    lines = [f"{'quantity':<27}{'derived from the geometry':<62}{'published':<18}why they differ"]
    for r in rows:
        lines.append(f"{r['quantity']:<27}{r['derived_text']:<62}{r['published_text']:<18}{r['why']}")
    return "\n".join(lines)
