"""Chapter 1 plots and widget: the TSP as an assembly line.

* ``floorplan`` — the slices west→east colored by type, superlanes stacked south→north (labsim.tsp.Geometry).
* ``gpu_sm_grid`` — a GPU drawn as a grid of SMs around a shared L2, with HBM stacks off-die (schematic).
* ``floorplan_vs_gpu`` — both side by side.
* ``spacetime`` — slice × cycle diagram of a run: each stream value's world-line and each instruction's issue.
* ``stagger`` — when one instruction executes on each superlane (one superlane per cycle).
* ``timing_check`` — the widget's callback: move the VXM add's issue cycle or the bias read's slice in the
  demo program and get the simulator's verdict (a plain function returning a dict, a few ms);
  ``timing_frame`` adds the PNG of its space–time plot, drawn by a ``TimingView`` (blitting, a few ms);
  ``make_timing_widget()`` wraps both in ipywidgets.
"""
from __future__ import annotations

import html
import io

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory
from PIL import Image

from .. import catalog
from ..errors import LabsimError, TimingFault, check_bool, check_choice, check_int
from ..sources import cite
from ..tsp import (
    Geometry,
    Result,
    Trace,
    demo_program,
    macs_per_cycle,
    parameter_table,
    peak_fp16_flops_per_s,
    peak_int8_ops_per_s,
    reference_demo,
    simulate,
    sram_bytes_per_cycle,
    stream_bytes_per_cycle,
    total_sram_bytes,
)
from ._tables import HtmlTable
from ._widgets import check_title, figure_and_ax

__all__ = ["SLICE_COLORS", "derived_vs_published", "derived_text", "derived_table", "parameter_view", "HtmlTable",
           "floorplan", "gpu_sm_grid", "floorplan_vs_gpu", "spacetime", "stagger", "timing_check", "timing_frame",
           "TimingView", "make_timing_widget"]

#: slice-type colors: SXM gold so that the two SXM columns stand out between the MXM (red) and MEM (blue) ones
SLICE_COLORS = {"C2C": "#9e9e9e", "MXM": "#c44e52", "SXM": "#e5ae38", "MEM": "#4c72b0", "VXM": "#55a868"}
_OP_COLORS = {"MEM": "#4c72b0", "VXM": "#55a868", "MXM": "#c44e52", "SXM": "#e5ae38", "C2C": "#7f7f7f",
              "NOP": "#bbbbbb"}


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
    """Slices (columns, west→east) × superlanes (rows, south→north), colored by slice type."""

    check_title(title)

    g = _geometry(geometry)
    fig, ax = figure_and_ax(ax, (9, 3.4))
    kinds = list(SLICE_COLORS)
    codes = np.array([[kinds.index(k) for k in g.slice_types]] * g.superlanes)
    ax.imshow(codes, cmap=ListedColormap([SLICE_COLORS[k] for k in kinds]), vmin=-0.5, vmax=len(kinds) - 0.5,
              origin="lower", aspect="auto", interpolation="nearest",
              extent=(-0.5, g.n_slices - 0.5, -0.5, g.superlanes - 0.5))
    # thin white grid: one cell = one tile (16 lanes of one slice in one superlane)
    ax.vlines(np.arange(g.n_slices + 1) - 0.5, -0.5, g.superlanes - 0.5, color="white", lw=0.4)
    ax.hlines(np.arange(g.superlanes + 1) - 0.5, -0.5, g.n_slices - 0.5, color="white", lw=0.6)
    ax.set_xlim(-0.5, g.n_slices - 0.5)
    ax.set_ylim(-0.5, g.superlanes - 0.5)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("slice index (0 = west edge → east); vectors flow east or west along the streams, "
                  "one slice per hop", fontsize=8)
    ax.set_ylabel("superlane (instructions\nflow north ↑, 1 per cycle)", fontsize=8)
    # name the groups above the plot
    tr = blended_transform_factory(ax.transData, ax.transAxes)
    n_mem = g.mem_slices_per_hemisphere
    half = g.mxm_planes // 2
    v = g.vxm_index
    groups = [(half / 2 + 0.5, "C2C·MXM·SXM"), ((v - 1 + v - n_mem) / 2, f"MEM × {n_mem} (west hemisphere)"),
              (v, "VXM"), ((v + 1 + v + n_mem) / 2, f"MEM × {n_mem} (east hemisphere)"),
              (g.n_slices - 1 - half / 2 - 0.5, "SXM·MXM·C2C")]
    for x, text in groups:
        ax.text(x, 1.02, text, transform=tr, ha="center", va="bottom", fontsize=7.5)
    ax.set_title(title or f"TSP floorplan ({g.name}): {g.n_slices} slices × {g.superlanes} superlanes of "
                          f"{g.lanes_per_superlane} lanes = {g.vector_len}-byte vectors", fontsize=10, pad=16)
    counts = {k: g.slice_types.count(k) for k in SLICE_COLORS}
    ax.legend(handles=[Patch(color=c, label=f"{k} ×{counts[k]}") for k, c in SLICE_COLORS.items()],
              loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=5, fontsize=8, frameon=False)
    return fig, ax


def gpu_sm_grid(n_sms: int = 132, ax=None, title: str | None = None):
    """Schematic GPU: a grid of SMs (H100 SXM has 132) around a shared L2 cache, HBM stacks at the edges.

    Not to scale; the point is the structure (many independent cores, caches, warps scheduled at run time)."""

    n_sms = check_int("n_sms", n_sms, lo=1, hi=1024)
    check_title(title)
    fig, ax = figure_and_ax(ax, (5, 3.4))
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
    ax.set_xlabel("green square = one SM: its own warp schedulers, registers, L1;\n"
                  "gray = HBM stacks off the die (not to scale)", fontsize=8)
    ax.set_title(title or f"GPU (schematic): {n_sms} SMs + caches + HBM", fontsize=10, pad=16)
    return fig, ax


def floorplan_vs_gpu(geometry=None, n_sms: int = 132):
    """The TSP floorplan next to a GPU's SM grid (one figure, two panels)."""

    g = _geometry(geometry)
    n_sms = check_int("n_sms", n_sms, lo=1, hi=1024)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 3.9), gridspec_kw={"width_ratios": [2.2, 1]})
    floorplan(g, ax=a1)
    gpu_sm_grid(n_sms, ax=a2)
    fig.tight_layout()
    return fig, (a1, a2)


def _trace_of(x) -> Trace:
    if isinstance(x, Result):
        return x.trace
    if isinstance(x, Trace):
        return x
    raise LabsimError(f"result must be a simulate() Result or its Trace, got {type(x).__name__}")


_SHORT = {"MEM_READ": "read", "MEM_WRITE": "write", "VXM_ADD": "add", "VXM_MUL": "mul", "VXM_MAX": "max",
          "VXM_RELU": "relu", "VXM_REQUANT": "requant", "MXM_INSTALL": "install", "MXM_MATVEC": "matvec",
          "SXM_SHIFT": "shift", "SXM_PERMUTE": "permute", "C2C_SEND": "send", "C2C_RECV": "receive", "NOP": "nop"}


def _op_text(op: str, label: str, out: str | None) -> str:
    short = _SHORT.get(op, op.lower())
    text = label if label and short in label.lower() else (f"{short} ({label})" if label else short)
    return text + (f" → {out}" if out else "")


def _schedule(source, g: Geometry | None = None) -> dict:
    """What a space–time plot draws, from a simulated Trace or (planned, not simulated) from a Program:
    instructions (slice, issue, done, op, text) and stream world-lines (dir, stream, slice, start, end, op)."""
    if isinstance(source, (Result, Trace)):
        tr = _trace_of(source)
        ops = tr.op_names()
        labels = tr.labels or ("",) * len(ops)
        outs = [None if tr.out_dir[r] < 0 else f"{'E' if tr.out_dir[r] == 0 else 'W'}{tr.out_stream[r]}"
                for r in range(len(ops))]
        ins = [(int(tr.slice[r]), int(tr.cycle[r]), int(tr.done_cycle[r]), ops[r], _op_text(ops[r], labels[r],
                                                                                           outs[r]))
               for r in range(len(ops))]
        segs = [(d, s, sl, c0, c1, ops[r]) for d, s, sl, c0, c1, r in tr.segments()]
        names = tr.slice_names or tuple(str(i) for i in range(tr.n_slices))
        return dict(ins=ins, segs=segs, n_slices=tr.n_slices, hop=tr.hop_cycles, names=names)
    g = source.geometry if g is None else g
    n_pos = (g.n_slices - 1) * g.stream_hop_cycles + 1
    ins, segs = [], []
    for r in sorted(source.instructions, key=lambda r: r.cycle):
        sl = g.slice_index(r.slice)
        done = r.cycle + g.delay(r.op)
        out = str(r.dst) if r.dst is not None else None
        ins.append((sl, r.cycle, done, r.op, _op_text(r.op, r.label, out)))
        if r.dst is not None:
            d = 0 if r.dst.direction == "E" else 1
            x = sl * g.stream_hop_cycles if d == 0 else (g.n_slices - 1 - sl) * g.stream_hop_cycles
            segs.append((d, r.dst.index, sl, done, done + n_pos - x, r.op))
    return dict(ins=ins, segs=segs, n_slices=g.n_slices, hop=g.stream_hop_cycles, names=g.slice_names)


def _draw_schedule(ax, sch: dict, animated: bool = False, label_ops: bool = True, avoid=None) -> list:
    """Draw world-lines, issue dots and labels of a _schedule on ax; returns the artists created. ``avoid``:
    a (slice, cycle) marked by the caller (a fault's ✗) — labels of instructions there move aside."""
    arts = []
    n = sch["n_slices"]
    for d, s, sl, c0, c1, op in sch["segs"]:
        step = 1 if d == 0 else -1
        n_hops = (c1 - 1 - c0) // sch["hop"]
        end_sl = min(max(sl + step * n_hops, 0), n - 1)
        off = ((s % 4) - 1.5) * 0.15 * (1 if d == 0 else -1)   # parallel values stay distinguishable
        arts += ax.plot([sl + off, end_sl + off], [c0, c0 + abs(end_sl - sl) * sch["hop"]],
                        color=_OP_COLORS.get(op.split("_")[0], "k"), lw=1.6, alpha=0.85, animated=animated)
    for sl, c, done, op, text in sch["ins"]:
        col = _OP_COLORS.get(op.split("_")[0], "k")
        arts += ax.plot([sl, sl], [c, done], ":", color=col, lw=1, animated=animated)
        arts += ax.plot(sl, c, "o", color=col, ms=6, mec="k", mew=0.5, animated=animated)
        if label_ops:
            right = sl < n * 0.75
            near = avoid is not None and abs(sl - avoid[0]) <= 1 and abs(c - avoid[1]) <= 3
            if near:                       # the label goes on the other side of the ✗, a little higher
                right = not right
            dx, dy = ((16 if right else -16), -9) if near else ((5 if right else -5), 0)
            arts.append(ax.annotate(text, (sl, c), xytext=(dx, dy), textcoords="offset points",
                                    fontsize=7, va="center", ha="left" if right else "right", animated=animated))
    return arts


def _spacetime_frame(ax, names, n_slices: int, top: int, title: str):
    """The static part of a space–time plot: unit stripes, slice names, axes labels, legend."""

    kinds = [nm.split("_")[0] for nm in names]
    strip = np.array([[to_rgba(SLICE_COLORS.get(k, "#eeeeee"), 0.10) for k in kinds]])
    ax.imshow(strip, aspect="auto", extent=(-0.5, n_slices - 0.5, top, -1), interpolation="nearest", zorder=0)
    ax.set_xlim(-0.5, n_slices - 0.5)
    ax.set_ylim(top, -1)
    step = max(1, n_slices // 25)
    ax.set_xticks(range(0, n_slices, step))
    ax.set_xticklabels([names[i] for i in range(0, n_slices, step)], rotation=90, fontsize=7)
    ax.set_xlabel("slice (west → east)", fontsize=8)
    ax.set_ylabel("cycle (superlane 0), time runs down", fontsize=8)
    ax.set_title(title, fontsize=9)
    handles = [Line2D([], [], color=_OP_COLORS[k], lw=2, label=f"{k} result") for k in ("MEM", "VXM", "MXM", "SXM")]
    handles += [Line2D([], [], marker="o", color="w", mfc="#888888", mec="k", ms=6, label="instruction issues"),
                Line2D([], [], ls=":", color="#555555", label="functional delay")]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)


def spacetime(result, ax=None, title: str | None = None, label_ops: bool = True):
    """Space–time diagram: x = slice (west→east), y = cycle (downwards). Each stream value is a line from the
    slice and cycle where it was written to where it stopped (overwritten, or off the chip edge); each
    instruction is a dot at (its slice, its issue cycle), colored by unit, labeled with its output stream."""
    check_title(title)
    check_bool("label_ops", label_ops)
    sch = _schedule(_trace_of(result))
    fig, ax = figure_and_ax(ax, (10, 5))
    top = max([c1 for *_, c1, _ in sch["segs"]] + [done for _, _, done, _, _ in sch["ins"]] + [0]) + 1
    _spacetime_frame(ax, sch["names"], sch["n_slices"], top,
                     title or "space–time: dot = issue, dotted = functional delay, slanted line = a value moving "
                              "one slice per hop")
    _draw_schedule(ax, sch, label_ops=label_ops)
    fig.tight_layout()
    return fig, ax


def stagger(result, row: int | None = None, ax=None):
    """Cycle on which instruction ``row`` (default: every instruction) executes on each superlane: superlane k
    runs superlane 0's schedule k × stagger cycles later (ISCA 2020 §II-C)."""

    tr = _trace_of(result)
    fig, ax = figure_and_ax(ax, (9, 3.4))
    rows = list(range(len(tr.cycle))) if row is None else [check_int("row", row, lo=0, hi=len(tr.cycle) - 1)]
    ops = tr.op_names()
    labels = tr.labels or ("",) * len(ops)
    k = np.arange(tr.superlanes)
    colors = plt.get_cmap("tab10").colors
    seen: dict = {}
    for j, r in enumerate(rows):
        dup = seen.get(int(tr.cycle[r]), 0)      # instructions issued on the same cycle share a line: draw the
        seen[int(tr.cycle[r])] = dup + 1          # first one wide and pale, the others dashed on top of it
        ax.plot(tr.cycle[r] + k * tr.stagger, k, "--" if dup else "-", marker="o", ms=2.5,
                lw=1.3 if dup else (3.5 if len(rows) > 1 else 1.4), alpha=1.0 if dup else 0.75, color=colors[j % 10],
                label=f"{_op_text(ops[r], labels[r], None)} (issued on cycle {tr.cycle[r]})")
    ax.set_xlabel("cycle on which superlane k executes the instruction", fontsize=8)
    ax.set_ylabel("superlane k", fontsize=8)
    ax.set_title(f"instruction stagger: {tr.stagger} cycle per superlane → superlane {tr.superlanes - 1} runs each "
                 f"instruction {(tr.superlanes - 1) * tr.stagger} cycles after superlane 0", fontsize=9)
    if len(rows) <= 12:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    return fig, ax


def timing_check(issue_shift: int = 0, bias_slice_shift: int = 0, geometry: str = "mini", seed: int = 0) -> dict:
    """Widget callback. Take the demo program (MEM→MXM→VXM→MEM: y = requant(relu(W·x + b))), issue its VXM add
    ``issue_shift`` cycles later (negative: earlier) and move the bias read ``bias_slice_shift`` MEM slices
    east (keeping its cycle), then simulate. Returns {"ok", "text", "cycles", "result", "program", "fault"}; on a
    timing fault ``text`` is the simulator's own message, ``result`` is None and ``fault`` is
    {"kind", "cycle", "slice", "stream"} (None when the run succeeds)."""
    g = _geometry(geometry)
    issue_shift = check_int("issue_shift", issue_shift, lo=-20, hi=20)
    bias_slice_shift = check_int("bias_slice_shift", bias_slice_shift, lo=-2, hi=g.mem_slices_per_hemisphere - 3)
    seed = check_int("seed", seed, lo=0)
    p, mem, W, x, b, scale = _demo_cached(g, seed)
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
        fault = {"kind": getattr(exc, "kind", None), "cycle": getattr(exc, "cycle", None),
                 "slice": getattr(exc, "slice", None), "stream": getattr(exc, "stream", None)}
        return {"ok": False, "text": f"{setting}\n✗ TimingFault: {exc}", "cycles": None, "result": None,
                "program": p, "fault": fault}
    match = bool(np.array_equal(res.read("MEM_E3", 1, 0), reference_demo(W, x, b, scale)))
    text = (f"{setting}\n✓ runs in {res.cycles} cycles ({res.cycles_superlane0} on superlane 0 + "
            f"{res.cycles - res.cycles_superlane0} of stagger) = {res.cycles / g.clock_hz * 1e9:.0f} ns at "
            f"{g.clock_hz / 1e6:g} MHz; output {'equals' if match else 'DIFFERS from'} NumPy.")
    return {"ok": True, "text": text, "cycles": res.cycles, "result": res, "program": p, "fault": None}


_DEMO_CACHE: dict = {}


def _demo_cached(g: Geometry, seed: int):
    """demo_program(g, seed), built once per (geometry, seed): the widget moves sliders over the same program."""
    key = (g, seed)
    if key not in _DEMO_CACHE:
        if len(_DEMO_CACHE) > 16:
            _DEMO_CACHE.clear()
        _DEMO_CACHE[key] = demo_program(g, seed=seed)
    p, mem, *rest = _DEMO_CACHE[key]
    return (p.copy(), dict(mem), *rest)


class TimingView:
    """The widget's picture: a space–time plot of the (possibly broken) program, redrawn in a few ms.

    The frame (unit stripes, slice names, axes, legend) is drawn once; each update restores it and draws only the
    instructions and world-lines (Agg blitting), then encodes a PNG. A successful run shows the simulator's
    trace; a failed one shows the planned schedule with the fault marked ✗ at its slice and cycle.
    """

    def __init__(self, geometry="mini", dpi: int = 90):

        self.geometry = _geometry(geometry)
        base = timing_check(0, 0, self.geometry)
        sch = _schedule(base["result"])
        self.top = max(c1 for *_, c1, _ in sch["segs"]) + 8        # room for the widest slider setting
        self.fig = Figure(figsize=(9, 4.6), dpi=check_int("dpi", dpi, lo=40, hi=200))
        self.canvas = FigureCanvasAgg(self.fig)
        self.ax = self.fig.add_axes((0.07, 0.22, 0.74, 0.70))
        _spacetime_frame(self.ax, sch["names"], sch["n_slices"], self.top,
                         "space–time of the widget's program: dot = issue, line = a value moving")
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.fig.bbox)

    def render(self, check: dict) -> bytes:
        """PNG bytes of the space–time plot for one :func:`timing_check` result."""
        if not isinstance(check, dict) or "program" not in check:
            raise LabsimError("render() takes the dict returned by timing_check()")
        self.canvas.restore_region(self._background)
        sch = _schedule(check["result"]) if check["ok"] else _schedule(check["program"], self.geometry)
        f = check.get("fault")
        marked = f and f.get("cycle") is not None and f.get("slice")
        avoid = (self.geometry.slice_index(f["slice"]), f["cycle"]) if marked else None
        arts = _draw_schedule(self.ax, sch, animated=True, avoid=avoid)
        if marked:
            x = avoid[0]
            arts += self.ax.plot(x, f["cycle"], "x", color="red", ms=14, mew=3, animated=True)
            # the fault's caption sits beside the plot, under the legend, so it never covers a label
            arts.append(self.fig.text(0.825, 0.42, f"✗ {f['kind'].replace('_', ' ')}"
                                      + (f"\non stream {f['stream']}" if f.get("stream") else "")
                                      + f"\nat {f['slice']}, cycle {f['cycle']}", fontsize=8, color="red",
                                      weight="bold", va="top", animated=True))
        for a in arts:
            (self.fig if a.axes is None else self.ax).draw_artist(a)
        for a in arts:
            a.remove()
        buf = io.BytesIO()
        Image.fromarray(np.asarray(self.canvas.buffer_rgba())).save(buf, format="png", compress_level=1)
        return buf.getvalue()


def timing_frame(issue_shift: int = 0, bias_slice_shift: int = 0, view: TimingView | None = None) -> dict:
    """What one slider move computes: :func:`timing_check` plus the PNG of its space–time plot (``"png"``)."""
    view = TimingView() if view is None else view
    if not isinstance(view, TimingView):
        raise LabsimError(f"view must be a TimingView, got {type(view).__name__}")
    r = timing_check(issue_shift, bias_slice_shift, view.geometry)
    r["png"] = view.render(r)
    return r


def make_timing_widget(geometry: str = "mini"):
    """Sliders for the VXM add's issue cycle and the bias read's slice; shows the verdict and the space–time plot
    (a :class:`TimingView`, redrawn by blitting so a slider move answers in well under 100 ms)."""


    view = TimingView(geometry)
    g = view.geometry
    style = {"description_width": "200px"}
    lay = W.Layout(width="520px")
    s_issue = W.IntSlider(value=0, min=-5, max=5, description="VXM add issue shift (cycles)", style=style,
                          layout=lay)
    s_bias = W.IntSlider(value=0, min=-2, max=g.mem_slices_per_hemisphere - 3,
                         description="bias read: MEM slices east", style=style, layout=lay)
    text = W.HTML()
    image = W.Image(format="png")

    def update(_change=None):
        r = timing_frame(s_issue.value, s_bias.value, view)
        color = "#1a7f37" if r["ok"] else "#b00020"
        text.value = (f"<pre style='white-space: pre-wrap; color: {color}; font-size: 12px'>"
                      f"{html.escape(r['text'])}</pre>")
        image.value = r["png"]

    s_issue.observe(update, names="value")
    s_bias.observe(update, names="value")
    update()
    return W.VBox([s_issue, s_bias, text, image])


def derived_vs_published(geometry=None) -> list[dict]:
    """Quantities derived from the geometry (labsim.tsp) next to Groq's published figures (catalog
    'groq-lpu-v1'), each with how they relate. Units: bytes, bytes/s, ops/s."""

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
         "why": f"{chip.memory_bandwidth_bytes_per_s / 1e12:.0f} TB/s is a product headline with no published "
                f"derivation; the paper's Eq. 2 gives {sram_bytes_per_cycle(g) * 1e9 / 1e12:.0f} at 1 GHz"},
        {"quantity": "stream-register bandwidth", "derived": stream_bytes_per_cycle(g) * g.clock_hz, "unit": "B/s",
         "derived_text": f"{stream_bytes_per_cycle(g):,} B/cycle → "
                         f"{stream_bytes_per_cycle(g) * g.clock_hz / 1e12:.1f} TB/s",
         "published": None, "published_text": "—", "source": "[isca20] §II-B Eq. 1 (20 TiB/s at 1 GHz)",
         "why": "not in the product brief"},
        {"quantity": "INT8 MACs per cycle", "derived": macs_per_cycle(g), "unit": "MAC/cycle",
         "derived_text": f"{macs_per_cycle(g):,}", "published": None, "published_text": "409,600 (paper)",
         "source": "[isca20] §III-D", "why": f"{g.mxm_planes} planes × {g.vector_len} × {g.vector_len}"},
        {"quantity": "peak INT8", "derived": peak_int8_ops_per_s(g), "unit": "ops/s",
         "derived_text": f"{peak_int8_ops_per_s(g) / 1e12:,.0f} TOPS @ {g.clock_hz / 1e9:g} GHz "
                         f"({peak_int8_ops_per_s(g, 1e9) / 1e12:,.0f} @ 1 GHz, "
                         f"{peak_int8_ops_per_s(g, 1.25e9) / 1e12:,.0f} @ 1.25 GHz)",
         "published": chip.peak_ops("int8"), "published_text": f"{chip.peak_ops('int8') / 1e12:,.0f} TOPS",
         "source": src.get("peak_ops_per_s.int8", ""),
         "why": f"brief is {chip.peak_ops('int8') / peak_int8_ops_per_s(g) - 1:+.1%} vs the MAC count; "
                f"the sources do not explain the gap"},
        {"quantity": "peak FP16", "derived": peak_fp16_flops_per_s(g), "unit": "FLOP/s",
         "derived_text": f"{peak_fp16_flops_per_s(g) / 1e12:,.0f} TFLOPS @ {g.clock_hz / 1e9:g} GHz",
         "published": chip.peak_ops("fp16"), "published_text": f"{chip.peak_ops('fp16') / 1e12:,.0f} TFLOPS",
         "source": src.get("peak_ops_per_s.fp16", ""),
         "why": f"1/4 of the INT8 MAC rate; brief is {chip.peak_ops('fp16') / peak_fp16_flops_per_s(g) - 1:+.1%}, "
                f"unexplained"},
    ]


def derived_text(rows: list[dict]) -> str:
    """The rows of :func:`derived_vs_published` as an aligned text table."""
    if not isinstance(rows, list) or not all(isinstance(r, dict) and "quantity" in r for r in rows):
        raise LabsimError("rows must be the list derived_vs_published() returns (derived_text)")
    lines = [f"{'quantity':<27}{'derived from the geometry':<62}{'published':<18}why they differ"]
    for r in rows:
        lines.append(f"{r['quantity']:<27}{r['derived_text']:<62}{r['published_text']:<18}{r['why']}")
    return "\n".join(lines)


def derived_table(rows: list[dict], sources: bool = True) -> HtmlTable:
    """:func:`derived_vs_published` as a table: quantity, derived, published, why they differ (and the source of
    the published figure, readable, unless ``sources=False``)."""
    if not isinstance(rows, list) or not all(isinstance(r, dict) and "quantity" in r for r in rows):
        raise LabsimError("rows must be the list derived_vs_published() returns (derived_table)")
    head = ["quantity", "derived from the geometry", "published", "why they differ"] + (["source"] if sources else [])
    return HtmlTable(head, [[r["quantity"], r["derived_text"], r["published_text"], r["why"]]
                            + ([cite(r["source"]) or "—"] if sources else []) for r in rows], text=derived_text(rows))


def parameter_view(geometry=None) -> HtmlTable:
    """The geometry's fields (:func:`labsim.tsp.parameter_table`) with readable citations, assumptions marked."""
    g = _geometry(geometry)
    return HtmlTable(["field", "value", "status", "source"],
                     [[r["field"], f"{r['value']:g}" if isinstance(r["value"], float) else r["value"],
                       "ASSUMPTION [A]" if r["assumption"] else "", r["citation"]] for r in parameter_table(g)],
                     caption=f"Geometry.{g.name}(): every field, its value and its source")
