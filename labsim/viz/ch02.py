"""Chapter 2 plots and widgets: the reservation table, TSP vs GPU latency distributions, the determinism cliff.

Callbacks (plain, tested functions): :func:`reservation_matrix`, :func:`explore`, :func:`explore_text`.
Plots take an optional ``ax``/``axes``. Widgets: :func:`make_reservation_widget`, :func:`make_ch02_widget`; their
pictures (:class:`ReservationView`, :class:`ExploreView`) are drawn once and then only the moving parts are
redrawn (blitting on a cached background), so a move answers well under 100 ms.
"""
from __future__ import annotations

import functools
import io

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory
from PIL import Image

from .. import gpu, multichip
from .. import schedule as _schedule
from ..errors import LabsimError, check_array, check_bool, check_int, check_number
from ..schedule import Schedule
from ..tsp import Geometry
from ._tables import HtmlTable
from ._widgets import check_bins, check_dpi, check_figsize, check_result, check_title, pre, wire

__all__ = ["layer_table", "OP_COLORS", "reservation_matrix", "reservation_table", "latency_hist_cdf", "cliff_plot",
           "explore", "explore_text", "ExploreView", "ReservationView", "EXPLORE_RUNS", "make_reservation_widget",
           "make_ch02_widget"]

#: op family → (code, color) for the reservation table
OP_COLORS = {"MEM_READ": (1, "#4C72B0"), "MEM_WRITE": (2, "#8DA0CB"), "VXM": (3, "#55A868"),
             "MXM_INSTALL": (4, "#F0B27A"), "MXM_MATVEC": (5, "#C44E52"), "C2C": (6, "#8172B2")}


def _check_axes(axes, n: int) -> None:
    """``axes`` must be None or n matplotlib Axes (one Axes when n == 1)."""
    if axes is None:
        return
    ok = isinstance(axes, plt.Axes) if n == 1 else (
        hasattr(axes, "__len__") and len(axes) >= n and all(isinstance(a, plt.Axes) for a in list(axes)[:n]))
    if not ok:
        raise LabsimError(f"{'ax' if n == 1 else 'axes'} must be None or {n} matplotlib Axes, got {axes!r:.60}")


def _figure_args(figsize, dpi):
    try:
        w, h = (float(v) for v in figsize)
    except (TypeError, ValueError, OverflowError):
        raise LabsimError(f"figsize must be (width, height) in inches, got {figsize!r:.60}") from None
    w = check_number("figsize width", w, lo=1.0, hi=40.0, unit="in")
    h = check_number("figsize height", h, lo=1.0, hi=40.0, unit="in")
    return (w, h), check_int("dpi", dpi, lo=40, hi=300)


def _family(op: str) -> str:
    if op.startswith("VXM"):
        return "VXM"
    if op.startswith("C2C"):
        return "C2C"
    return op


def reservation_matrix(sched: Schedule, upto_cycle: int | None = None) -> dict:
    """Slice × cycle matrix of the schedule (superlane 0): 0 = free, else the op family's code (see OP_COLORS).

    Cells are filled only for instructions issued at or before ``upto_cycle`` (all if None), so a slider over
    ``upto_cycle`` shows the table filling step by step. An MXM install also marks the cycles its plane spends
    installing. Returns ``{"matrix", "slices", "cycles", "filled"}``.
    """
    if not isinstance(sched, Schedule):
        raise LabsimError(f"sched must be a labsim.schedule.Schedule, got {type(sched).__name__}")
    g = sched.graph.geometry
    ins = sched.program.instructions
    span = max((i.cycle + 1 for i in ins), default=1)
    span = max(span, max((i.cycle + g.mxm_install_cycles for i in ins if i.op == "MXM_INSTALL"), default=0))
    upto = span if upto_cycle is None else check_int("upto_cycle", upto_cycle, lo=-1)
    m = np.zeros((g.n_slices, span), dtype=np.int64)
    filled = 0
    for i in ins:
        if i.cycle > upto:
            continue
        code = OP_COLORS[_family(i.op)][0]
        row = g.slice_index(i.slice)
        if i.op == "MXM_INSTALL":
            m[row, i.cycle: i.cycle + g.mxm_install_cycles] = code
        else:
            m[row, i.cycle] = code
        filled += 1
    return {"matrix": m, "slices": g.slice_names, "cycles": span, "filled": filled}


def reservation_table(sched: Schedule, upto_cycle: int | None = None, ax=None, title: str | None = None,
                      legend: bool = True):
    """Draw the reservation table (rows = slices west→east, columns = cycles of superlane 0).

    The legend sits outside the axes, to the right, so it never covers a slice's row; ``legend=False`` leaves it
    out (for the left panel of a side-by-side pair).
    """
    r = reservation_matrix(sched, upto_cycle)
    check_title(title)
    check_bool("legend", legend)
    _check_axes(ax, 1)
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4))
    colors = ["#F4F4F4"] + [c for _, c in sorted(OP_COLORS.values())]
    ax.imshow(r["matrix"], aspect="auto", interpolation="nearest", cmap=ListedColormap(colors), vmin=0,
              vmax=len(colors) - 1)
    n = len(r["slices"])
    step = max(1, -(-n // 32))                 # at most ~32 names, 8 pt: readable at 1,400 px
    ax.set_yticks(range(0, n, step))
    ax.set_yticklabels(r["slices"][::step], fontsize=8)
    ax.set_ylabel("slice (west → east)")
    ax.set_xlabel("cycle (superlane 0)")
    if upto_cycle is not None:
        ax.axvline(upto_cycle + 0.5, color="k", lw=0.8)
    if legend:
        ax.legend(handles=[Patch(color=c, label=k) for k, (_, c) in OP_COLORS.items()], fontsize=8,
                  loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, title="issue slot", title_fontsize=8)
    ax.set_title(title or f"{sched.policy} schedule: {sched.predicted_cycles} cycles, "
                 f"{r['filled']} instructions placed", fontsize=10)
    return ax


def latency_hist_cdf(samples_by_name: dict, axes=None, unit: float = 1e-6, unit_name: str = "µs", bins: int = 120,
                     relative: bool = False):
    """Histogram (left, fraction of runs per bin, log scale) and empirical CDF (right) of latency samples
    (seconds) for each named system, on shared bins.

    ``relative=True`` divides each system's samples by its own median (P50), so systems of very different
    speed can be compared by the *shape* of their distributions: a deterministic system is a single bar at 1.
    A system whose samples are all identical is marked "(all identical)" in the legend.
    """
    if not isinstance(samples_by_name, dict):
        raise LabsimError(f"samples_by_name must be a dict {{name: samples}}, got {type(samples_by_name).__name__}")
    unit = check_number("unit", unit, lo=1e-15, hi=1e6)
    bins = check_int("bins", bins, lo=1, hi=10_000)
    _check_axes(axes, 2)
    if not samples_by_name:
        raise LabsimError("samples_by_name must name at least one system")
    try:
        arrays = {name: np.asarray(s, dtype=float).ravel() for name, s in samples_by_name.items()}
    except (TypeError, ValueError):
        raise LabsimError("samples_by_name must map names to arrays of latencies in seconds") from None
    samples_by_name = arrays
    relative = check_bool("relative", relative)
    xs = {}
    for name, s in samples_by_name.items():
        x = np.sort(check_array(f"samples_by_name[{name!r}]", s, lo=0.0, hi=1e6, unit="s").ravel())
        if x.size == 0:
            raise LabsimError(f"samples_by_name[{name!r}] must be a non-empty array of finite latencies")
        if relative and np.median(x) <= 0:
            raise LabsimError(f"samples_by_name[{name!r}] has median 0: relative=True divides by the median")
        xs[name] = x / np.median(x) if relative else x / unit
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    allx = np.concatenate(list(xs.values()))
    lo, hi = float(allx.min()), float(allx.max())
    if hi - lo <= 1e-9 * max(abs(hi), 1.0):               # everything identical: a narrow window around it
        pad = 0.01 * max(abs(hi), 1.0)
        lo, hi = lo - pad, hi + pad
    edges = np.linspace(lo, hi, bins + 1)
    xlabel = "latency / own median (P50)" if relative else f"latency ({unit_name})"
    styles = ["-", "--", ":", "-."]
    for k, (name, x) in enumerate(xs.items()):
        # the first-named system is drawn underneath, wide and translucent; later ones on top, thinner and
        # dashed, so that two systems on the same spot (P99/P50 = 1.00) both stay visible
        z = 3 + k
        p = multichip.percentiles(x)
        fmt = (lambda v: f"{v:.3f}") if relative else (lambda v: f"{v:.1f} {unit_name}")
        label = f"{name}: P50 {fmt(p['p50'])}, P99 {fmt(p['p99'])}" + (" (all identical)" if np.ptp(x) == 0 else "")
        first = k == 0 and len(xs) > 1
        axes[0].hist(x, bins=edges, weights=np.full(x.size, 1.0 / x.size), histtype="stepfilled",
                     alpha=0.35 if first else 0.5, label=label, zorder=z, lw=0)
        axes[0].hist(x, bins=edges, weights=np.full(x.size, 1.0 / x.size), histtype="step", zorder=z + 0.5,
                     ls=styles[k % len(styles)], lw=1.2, color=axes[0].patches[-1].get_facecolor()[:3])
        axes[1].step(x, np.arange(1, x.size + 1) / x.size, where="post", label=name, zorder=z,
                     lw=5 if first else 1.8, alpha=0.45 if first else 1.0, ls="-" if first else styles[k % 4])
    axes[0].set_yscale("log")
    axes[0].set_xlabel(xlabel)
    axes[0].set_ylabel("fraction of runs per bin (log)")
    axes[0].legend(fontsize=8)
    axes[1].axhline(0.99, color="gray", lw=0.6, ls="--")
    axes[1].text(edges[0], 0.99, " P99", color="gray", fontsize=7, ha="left", va="bottom")
    axes[1].set_xlabel(xlabel)
    axes[1].set_ylabel("fraction of runs ≤ x")
    axes[1].legend(fontsize=8, loc="lower right")
    return axes


def cliff_plot(curves: dict, ax=None, sync_domain_chips: int | None = None, title: str | None = None):
    """P99/P50 vs number of chips for each named :func:`labsim.multichip.cliff_curve` result.

    A dashed line marks the synchronous-domain size; dotted lines mark its multiples (each one more Ethernet
    crossing).
    """
    if not isinstance(curves, dict) or not curves or not all(
            isinstance(c, dict) and "n_chips" in c and "p99_over_p50" in c for c in curves.values()):
        raise LabsimError("curves must be a non-empty dict {name: multichip.cliff_curve(...) result}")
    if sync_domain_chips is not None:
        sync_domain_chips = check_int("sync_domain_chips", sync_domain_chips, lo=1, hi=10**6)
    _check_axes(ax, 1)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 3.8))
    for name, c in curves.items():
        ax.plot(c["n_chips"], c["p99_over_p50"], marker=".", label=f"Ethernet preset '{name}' [A]")
    d = sync_domain_chips or multichip.RealScaleParams().sync_domain_chips
    top = max(int(np.max(c["n_chips"])) for c in curves.values())
    ax.axvline(d, color="k", ls="--", lw=0.8)
    for k in range(2, top // d + 1):
        ax.axvline(k * d, color="gray", ls=":", lw=0.6)
    tr = blended_transform_factory(ax.transData, ax.transAxes)
    ax.text(d * 0.93, 0.55, f"{d}-chip synchronous domain", rotation=90, ha="right", va="center", fontsize=7,
            transform=tr)
    ax.set_xscale("log")
    ax.set_xlabel("chips in the pipeline (one stage per chip)")
    ax.set_ylabel("P99 / P50 of end-to-end latency")
    ax.legend(fontsize=7, loc="upper left")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


#: GPU model runs per widget move: enough for P50/P99 (100 runs beyond P99), small enough to answer fast.
EXPLORE_RUNS = 10_000


@functools.lru_cache(maxsize=64)
def _gpu_samples(contention: bool, cotenant_prob: float, launch_overhead_us: float, n: int, seed: int) -> np.ndarray:
    s = gpu.simulate(gpu.model_decoder_layer_kernels("llama-3.1-8b"), n=n, seed=seed, contention=contention,
                     cotenant_prob=cotenant_prob, launch_overhead_s=launch_overhead_us * 1e-6)
    s.flags.writeable = False                 # shared by the cache: nobody may change it in place
    return s


#: where a software-scheduled network ends: ISCA 2022's design, or the report's view
NETWORKS = {"ISCA 2022: 10,440 chips": multichip.RealScaleParams().sync_domain_chips,
            "the report: 576 chips": multichip.RealScaleParams().report_sync_domain_chips}


def explore(cotenant_prob: float = 0.2, launch_overhead_us: float = 5.0, n_chips: int = 64,
            tsp_layer_s: float = 1e-6, contention: bool = True, ethernet: str = "rdma", n: int = EXPLORE_RUNS,
            seed: int = 0, sync_domain_chips: int | None = None) -> dict:
    """Widget callback: GPU decoder-layer latency (Llama 3.1 8B on the H100 model, ``n`` seeded runs) under
    co-tenant contention and launch overhead, and the end-to-end latency of a pipeline of ``n_chips`` TSP stages of
    ``tsp_layer_s`` each (deterministic inside one scheduled network of ``sync_domain_chips`` — 10,440 by default
    (ISCA 2022), 576 in the report's view — Ethernet jitter [A] beyond).

    GPU samples are cached per (contention, co-tenant probability, launch overhead, n, seed) — a move of the chip
    slider does not re-run the GPU model; with contention off the co-tenant probability has no effect and shares
    one cache entry. Returns percentiles, the samples of both systems, domains and hop counts.
    """
    if not isinstance(contention, (bool, np.bool_)):
        raise LabsimError(f"contention must be True or False, got {contention!r}")
    cp = check_number("cotenant_prob", cotenant_prob, lo=0.0, hi=1.0)
    lo = check_number("launch_overhead_us", launch_overhead_us, lo=0.0, hi=200.0, unit="µs")
    n_chips = check_int("n_chips", n_chips, lo=1, hi=multichip.ISCA22_MAX_CHIPS)
    tsp_layer_s = check_number("tsp_layer_s", tsp_layer_s, lo=0.0, lo_open=True, hi=1.0, unit="s")
    n = check_int("n", n, lo=100, hi=1_000_000)
    seed = check_int("seed", seed, lo=0, hi=2**32 - 1)
    tsp_layer_s = check_number("tsp_layer_s", tsp_layer_s, lo=0.0, hi=1.0, lo_open=True, unit="s")
    s = _gpu_samples(bool(contention), float(cp) if contention else 0.0, float(lo), n, seed)
    params = None if sync_domain_chips is None else multichip.realscale_params(
        sync_domain_chips=check_int("sync_domain_chips", sync_domain_chips, lo=1, hi=multichip.ISCA22_MAX_CHIPS))
    pipe_s = multichip.pipeline_latency_samples(n_chips, tsp_layer_s, n=min(n, 10_000), seed=seed, ethernet=ethernet,
                                                params=params)
    pipe = multichip.percentiles(pipe_s)
    dom_size = multichip.RealScaleParams().sync_domain_chips if params is None else params.sync_domain_chips
    pipe["domains"] = multichip.domains_needed(n_chips, sync_domain_chips=dom_size)
    return {"gpu": gpu.percentiles(s), "gpu_samples": s, "pipeline": pipe, "pipeline_samples": pipe_s,
            "domains": pipe["domains"], "hops": multichip.pipeline_hops(n_chips, params=params), "n_chips": n_chips,
            "tsp_layer_s": float(tsp_layer_s), "sync_domain_chips": dom_size}


def explore_text(r: dict) -> str:
    if not isinstance(r, dict) or not {"gpu", "pipeline", "hops", "domains"} <= set(r):
        raise LabsimError("explore_text takes the dict returned by explore()")
    g, p = r["gpu"], r["pipeline"]
    return (f"GPU decoder layer: P50 {g['p50'] * 1e6:.1f} µs, P99 {g['p99'] * 1e6:.1f} µs, "
            f"P99.9 {g['p99.9'] * 1e6:.1f} µs, P99/P50 = {g['p99_over_p50']:.3f}\n"
            f"TSP pipeline: {r['hops']['boundaries'] + 1} chips, {r['domains']} domain(s), "
            f"{r['hops']['c2c_hops']} C2C hops, {r['hops']['ethernet_crossings']} Ethernet crossing(s): "
            f"P50 {p['p50'] * 1e6:.2f} µs, P99 {p['p99'] * 1e6:.2f} µs, P99/P50 = {p['p99_over_p50']:.4f}")


def _png(canvas) -> bytes:
    """The canvas as PNG bytes (fast zlib level: the picture is re-sent on every move)."""
    w, h = canvas.get_width_height()
    buf = io.BytesIO()
    Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).save(buf, format="png",
                                                                                     compress_level=1)
    return buf.getvalue()


_YMIN = 3e-5          # fraction-of-runs axis floor (1 run in 10,000 is 1e-4)


class ExploreView:
    """The picture behind :func:`make_ch02_widget`: GPU latency histogram (left) and TSP pipeline latency
    histogram (right), fraction of runs per bin on a fixed log axis, with P50/P99 markers.

    Built once, outside pyplot. Frames, y axes, labels and legend are rendered once into a cached background;
    each :meth:`update` restores it and redraws only the histograms, markers, x axes and titles, then encodes a
    PNG — the same picture as a full redraw at a fraction of the cost.
    """

    def __init__(self, figsize=(11.0, 3.8), dpi: int = 100, bins: int = 80):
        figsize, dpi = _figure_args(figsize, dpi)
        bins = check_int("bins", bins, lo=2, hi=1000)

        self.bins = check_bins(bins)
        self.fig = Figure(figsize=check_figsize(figsize), dpi=check_dpi(dpi))
        self.canvas = FigureCanvasAgg(self.fig)
        self.axes = (self.fig.add_axes((0.075, 0.17, 0.40, 0.66)), self.fig.add_axes((0.575, 0.17, 0.40, 0.66)))
        self.hist, self.p50, self.p99 = [], [], []
        labels = ("GPU decoder-layer latency (µs)", "TSP pipeline end-to-end latency (µs)")
        titles = ("GPU, Llama 3.1 8B layer (scheduled at run time)", "TSP pipeline (scheduled by the compiler)")
        colors = ("#DD8452", "#4C72B0")
        for ax, xl, title, c in zip(self.axes, labels, titles, colors, strict=False):
            ax.set_yscale("log")
            ax.set_ylim(_YMIN, 1.5)
            ax.tick_params(labelsize=9)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
            ax.set_title(title, fontsize=10)
            # the x label is static text under the axes (redrawing it with the moving x axis costs time)
            x0, y0, w, _ = ax.get_position().bounds
            self.fig.text(x0 + w / 2, 0.02, xl, ha="center", va="bottom", fontsize=10)
            self.hist.append(ax.stairs(np.full(bins, _YMIN / 10), np.arange(bins + 1.0), baseline=_YMIN / 10,
                                       fill=True, color=c, alpha=0.6, animated=True))
            self.p50.append(ax.axvline(0.0, color="k", lw=1.0, animated=True))
            self.p99.append(ax.axvline(0.0, color="k", lw=1.0, ls="--", animated=True))
            ax.xaxis.set_animated(True)
        self.axes[0].set_ylabel("fraction of runs per bin", fontsize=10)
        self.fig.legend(handles=[Line2D([], [], color="k", lw=1.0, label="P50"),
                                 Line2D([], [], color="k", lw=1.0, ls="--", label="P99")],
                        loc="upper center", ncol=2, fontsize=9, frameon=False)
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.fig.bbox)

    def _panel(self, i: int, x_us: np.ndarray) -> None:
        # x window relative to the median, [0.9, ≥ 1.5] × P50: a tight distribution looks tight, a tail looks long
        # (an autoscaled window would blow a 1 % spread up to the full width)
        p50, p99 = np.percentile(x_us, [50.0, 99.0])
        top = float(x_us.max())
        if p50 > 0:
            lo, hi = 0.9 * p50, max(top, 1.5 * p50)
            lo = min(lo, float(x_us.min()))
        else:
            lo, hi = float(x_us.min()), max(top, 1e-3)
        edges = np.linspace(lo, hi, self.bins + 1)
        h = np.histogram(x_us, bins=edges)[0] / x_us.size
        self.hist[i].set_data(np.where(h > 0, h, _YMIN / 10), edges)
        self.p50[i].set_xdata([p50, p50])
        self.p99[i].set_xdata([p99, p99])
        pad = 0.02 * (hi - lo)
        self.axes[i].set_xlim(lo - pad, hi + pad)

    def update(self, r: dict) -> bytes:
        """Redraw for an :func:`explore` result; return the picture as PNG bytes."""
        check_result(r, ("gpu_samples", "pipeline_samples"))
        self._panel(0, np.asarray(r["gpu_samples"]) * 1e6)
        self._panel(1, np.asarray(r["pipeline_samples"]) * 1e6)
        self.canvas.restore_region(self._background)
        for i, ax in enumerate(self.axes):
            for art in (self.p50[i], self.p99[i], self.hist[i], ax.xaxis):
                ax.draw_artist(art)
        return _png(self.canvas)


class ReservationView:
    """The picture behind :func:`make_reservation_widget`: the reservation table drawn once (slice names, axes,
    legend cached), then only the filled cells, the cursor line and the title are redrawn per move."""

    def __init__(self, sched: Schedule, figsize=(11.0, 4.6), dpi: int = 100):
        if not isinstance(sched, Schedule):
            raise LabsimError(f"sched must be a labsim.schedule.Schedule, got {type(sched).__name__}")
        figsize, dpi = _figure_args(figsize, dpi)

        if not isinstance(sched, Schedule):
            raise LabsimError(f"sched must be a labsim.schedule.Schedule, got {type(sched).__name__}")
        self.sched = sched
        self.fig = Figure(figsize=check_figsize(figsize), dpi=check_dpi(dpi))
        self.canvas = FigureCanvasAgg(self.fig)
        ax = self.ax = self.fig.add_axes((0.09, 0.12, 0.76, 0.78))
        reservation_table(sched, None, ax=ax)
        self.image = ax.images[0]
        self.image.set_animated(True)
        self.cursor = ax.axvline(-0.5, color="k", lw=0.8, animated=True)
        ax.title.set_animated(True)
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.fig.bbox)

    def update(self, upto_cycle: int) -> bytes:
        r = reservation_matrix(self.sched, upto_cycle)
        self.image.set_data(r["matrix"])
        self.cursor.set_xdata([upto_cycle + 0.5, upto_cycle + 0.5])
        self.ax.set_title(f"{self.sched.policy} schedule: {self.sched.predicted_cycles} cycles; up to cycle "
                          f"{upto_cycle}: {r['filled']} instructions placed", fontsize=10)
        self.canvas.restore_region(self._background)
        for art in (self.image, self.cursor, self.ax.title):
            self.ax.draw_artist(art)
        return _png(self.canvas)


def make_reservation_widget(sched: Schedule | None = None):
    """A slider over cycles that fills the reservation table step by step (picture: :class:`ReservationView`).

    ``sched`` defaults to the list schedule of the chapter's small example graph (``schedule.example_graph()``).

    Wired with ``observe`` (no output area to clear and refill): a move redraws the picture and nothing else.
    """
    if sched is None:
        sched = _schedule.list_schedule(_schedule.example_graph())
    if not isinstance(sched, Schedule):
        raise LabsimError(f"sched must be a labsim.schedule.Schedule, got {type(sched).__name__}")
    last = max(i.cycle for i in sched.program.instructions)
    view = ReservationView(sched)
    slider = W.IntSlider(value=min(40, last), min=0, max=last, step=1, description="up to cycle",
                         continuous_update=False)
    image = W.Image(format="png", layout=W.Layout(width="1000px"))

    def show(upto_cycle):
        image.value = view.update(upto_cycle)

    slider.observe(lambda change: show(change["new"]), names="value")
    show(slider.value)
    box = W.VBox([slider, image])
    box.show, box.view = show, view          # the callback and the figure behind the picture (tests, the curious)
    return box


def make_ch02_widget(tsp_layer_s: float = 1e-6):
    """Controls: co-tenant contention, kernel launch overhead, chips in the TSP pipeline (each stage
    ``tsp_layer_s``), Ethernet preset, and where the scheduled network ends (ISCA 2022's 10,440 or the report's
    576). Each move calls :func:`explore` (GPU runs cached), writes :func:`explore_text` into a text line and
    redraws :class:`ExploreView` — wired with ``observe``, no output area to clear and refill."""

    check_number("tsp_layer_s", tsp_layer_s, lo=0.0, hi=1.0, lo_open=True, unit="s")
    view = ExploreView()
    style = {"description_width": "160px"}
    lay = W.Layout(width="460px")
    controls = dict(
        contention=W.Checkbox(value=True, description="co-tenant contention"),
        cotenant_prob=W.FloatSlider(value=0.2, min=0.0, max=1.0, step=0.05, description="co-tenant probability",
                                    style=style, layout=lay, continuous_update=False),
        launch_overhead_us=W.FloatSlider(value=5.0, min=0.0, max=40.0, step=0.5, description="launch overhead µs",
                                         style=style, layout=lay, continuous_update=False),
        n_chips=W.IntSlider(value=64, min=1, max=2000, step=1, description="chips in pipeline", style=style,
                            layout=lay, continuous_update=False),
        ethernet=W.Dropdown(options=sorted(multichip.ETHERNET_PRESETS), value="rdma", description="Ethernet [A]"),
        network=W.Dropdown(options=list(NETWORKS), value="the report: 576 chips", description="network ends at",
                           style=style, layout=lay),
    )
    text = W.HTML()
    image = W.Image(format="png", layout=W.Layout(width="1000px"))

    def show(contention, cotenant_prob, launch_overhead_us, n_chips, ethernet, network="the report: 576 chips"):
        r = explore(cotenant_prob, launch_overhead_us, n_chips, tsp_layer_s, contention, ethernet,
                    sync_domain_chips=NETWORKS[network])
        text.value = pre(explore_text(r))
        image.value = view.update(r)
        return r

    box = wire(controls, show, [text, image])
    box.view = view          # the figure behind the picture (tests, the curious)
    return box


def layer_table(weight_streams_per_plane: int | None = None) -> HtmlTable:
    """The recorded full-size layer simulations (``schedule.reference_layers()``) next to the analytic per-layer
    model: one row per tensor-parallel width and context, cycles and µs of both, their ratio, the weight-install
    rate the simulation achieved and the share of cycles the planes were streaming."""
    if weight_streams_per_plane is not None:
        weight_streams_per_plane = check_int("weight_streams_per_plane", weight_streams_per_plane, lo=1, hi=256)
    rows = _schedule.reference_layers()
    if weight_streams_per_plane is None:
        weight_streams_per_plane = rows[0]["default_weight_streams_per_plane"] if rows else None
    out = []
    for r in rows:
        if r["weight_streams_per_plane"] != weight_streams_per_plane:
            continue
        if not r["fits"]:
            out.append([r["tp"], f"{r['context']:,}", "does not fit one chip", "", f"{r['analytic_cycles']:,.0f}",
                        "", "", ""])
            continue
        out.append([r["tp"], f"{r['context']:,}", f"{r['cycles']:,}", f"{r['us']:.2f}", f"{r['analytic_cycles']:,.0f}",
                    f"{r['analytic_cycles'] / r['cycles']:.3f}", f"{r['install_bytes_per_cycle']:,.0f}",
                    f"{r['plane_busy_fraction']:.0%}"])
    return HtmlTable(["chips per layer (tp)", "context (tokens)", "simulated (cycles)", "simulated (µs)",
                      "analytic (cycles)", "analytic / simulated", "weights installed (B/cycle)",
                      "planes busy"], out,
                     caption=f"Llama 3.1 8B decoder layer, one chip's share, {weight_streams_per_plane} weight streams "
                             f"per MXM plane (faithful geometry, {Geometry.faithful().clock_hz / 1e6:.0f} MHz)")
