"""Chapter 2 plots and widgets: the reservation table, TSP vs GPU latency distributions, the determinism cliff.

Callbacks (plain, tested functions): :func:`reservation_matrix`, :func:`explore`, :func:`explore_text`.
Plots take an optional ``ax``/``axes``. Widgets: :func:`make_reservation_widget`, :func:`make_ch02_widget`.
"""
from __future__ import annotations

import numpy as np

from .. import gpu, multichip
from ..errors import LabsimError, check_int, check_number
from ..schedule import Schedule

__all__ = ["OP_COLORS", "reservation_matrix", "reservation_table", "latency_hist_cdf", "cliff_plot", "explore",
           "explore_text", "make_reservation_widget", "make_ch02_widget"]

#: op family → (code, colour) for the reservation table
OP_COLORS = {"MEM_READ": (1, "#4C72B0"), "MEM_WRITE": (2, "#8DA0CB"), "VXM": (3, "#55A868"),
             "MXM_INSTALL": (4, "#F0B27A"), "MXM_MATVEC": (5, "#C44E52"), "C2C": (6, "#8172B2")}


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


def reservation_table(sched: Schedule, upto_cycle: int | None = None, ax=None, title: str | None = None):
    """Draw the reservation table (rows = slices west→east, columns = cycles)."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    r = reservation_matrix(sched, upto_cycle)
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4))
    colors = ["#F4F4F4"] + [c for _, c in sorted(OP_COLORS.values())]
    ax.imshow(r["matrix"], aspect="auto", interpolation="nearest", cmap=ListedColormap(colors), vmin=0,
              vmax=len(colors) - 1)
    ax.set_yticks(range(len(r["slices"])))
    ax.set_yticklabels(r["slices"], fontsize=6)
    ax.set_xlabel("cycle (superlane 0)")
    if upto_cycle is not None:
        ax.axvline(upto_cycle + 0.5, color="k", lw=0.8)
    from matplotlib.patches import Patch
    ax.legend(handles=[Patch(color=c, label=k) for k, (_, c) in OP_COLORS.items()], fontsize=6, loc="upper right",
              ncol=3)
    ax.set_title(title or f"{sched.policy} schedule: {sched.predicted_cycles} cycles, "
                 f"{r['filled']} instructions placed")
    return ax


def latency_hist_cdf(samples_by_name: dict, axes=None, unit: float = 1e-6, unit_name: str = "µs", bins: int = 120):
    """Histogram (left) and empirical CDF (right) of latency samples (seconds) for each named system."""
    import matplotlib.pyplot as plt
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    allx = np.concatenate([np.asarray(s, dtype=float).ravel() for s in samples_by_name.values()]) / unit
    edges = np.linspace(allx.min(), allx.max(), bins + 1) if np.ptp(allx) > 0 else None
    for name, s in samples_by_name.items():
        x = np.sort(np.asarray(s, dtype=float)) / unit
        p = multichip.percentiles(x)
        label = f"{name}: P50 {p['p50']:.1f}, P99 {p['p99']:.1f} {unit_name}"
        if np.ptp(x) == 0:
            axes[0].axvline(x[0], lw=3, label=label + " (all identical)")
        else:
            axes[0].hist(x, bins=edges, histtype="stepfilled", alpha=0.5, label=label)
        axes[1].step(x, np.arange(1, x.size + 1) / x.size, where="post", label=name)
    if edges is not None:
        axes[0].set_yscale("log")
    axes[0].set_xlabel(f"latency ({unit_name})")
    axes[0].set_ylabel("runs per bin" + (" (log scale)" if edges is not None else ""))
    axes[0].legend(fontsize=7)
    axes[1].axhline(0.99, color="grey", lw=0.6, ls="--")
    axes[1].set_xlabel(f"latency ({unit_name})")
    axes[1].set_ylabel("fraction of runs ≤ x")
    axes[1].legend(fontsize=7)
    return axes


def cliff_plot(curves: dict, ax=None, sync_domain_chips: int | None = None):
    """P99/P50 vs number of chips for each named :func:`labsim.multichip.cliff_curve` result."""
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    for name, c in curves.items():
        ax.plot(c["n_chips"], c["p99_over_p50"], marker=".", label=name)
    d = sync_domain_chips or multichip.RealScaleParams().sync_domain_chips
    ax.axvline(d, color="k", ls="--", lw=0.8)
    ax.text(d, ax.get_ylim()[1], f" {d}-chip synchronous domain", va="top", fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("chips in the pipeline")
    ax.set_ylabel("P99 / P50 of end-to-end latency")
    ax.legend(fontsize=7)
    return ax


def explore(cotenant_prob: float = 0.2, launch_overhead_us: float = 5.0, n_chips: int = 64,
            tsp_layer_s: float = 1e-6, contention: bool = True, ethernet: str = "rdma", n: int = 20_000,
            seed: int = 0) -> dict:
    """Widget callback: GPU decoder-layer percentiles under contention/launch overhead, and the percentiles of a
    pipeline of ``n_chips`` TSP stages of ``tsp_layer_s`` each (deterministic inside one domain)."""
    cp = check_number("cotenant_prob", cotenant_prob, lo=0.0, hi=1.0)
    lo = check_number("launch_overhead_us", launch_overhead_us, lo=0.0, hi=200.0)
    n_chips = check_int("n_chips", n_chips, lo=1, hi=multichip.ISCA22_MAX_CHIPS)
    ks = gpu.model_decoder_layer_kernels("llama-3.1-8b")
    s = gpu.simulate(ks, n=n, seed=seed, contention=bool(contention), cotenant_prob=cp,
                     launch_overhead_s=lo * 1e-6)
    pipe = multichip.pipeline_latency_percentiles(n_chips, tsp_layer_s, n=min(n, 10_000), seed=seed,
                                                  ethernet=ethernet)
    return {"gpu": gpu.percentiles(s), "gpu_samples": s, "pipeline": pipe,
            "domains": multichip.domains_needed(n_chips), "hops": multichip.pipeline_hops(n_chips)}


def explore_text(r: dict) -> str:
    g, p = r["gpu"], r["pipeline"]
    return (f"GPU decoder layer: P50 {g['p50'] * 1e6:.1f} µs, P99 {g['p99'] * 1e6:.1f} µs, "
            f"P99.9 {g['p99.9'] * 1e6:.1f} µs, P99/P50 = {g['p99_over_p50']:.3f}\n"
            f"TSP pipeline: {r['hops']['boundaries'] + 1} chips, {r['domains']} domain(s), "
            f"{r['hops']['c2c_hops']} C2C hops, {r['hops']['ethernet_crossings']} Ethernet crossing(s): "
            f"P50 {p['p50'] * 1e6:.2f} µs, P99 {p['p99'] * 1e6:.2f} µs, P99/P50 = {p['p99_over_p50']:.4f}")


def make_reservation_widget(sched: Schedule):
    """A slider over cycles that fills the reservation table step by step."""
    import ipywidgets as W
    import matplotlib.pyplot as plt
    last = max(i.cycle for i in sched.program.instructions)

    def show(upto_cycle):
        fig, ax = plt.subplots(figsize=(9, 4))
        reservation_table(sched, upto_cycle, ax=ax)
        fig.tight_layout()
        plt.show()

    return W.interactive(show, upto_cycle=W.IntSlider(value=min(40, last), min=0, max=last, step=1,
                                                       description="up to cycle", continuous_update=False))


def make_ch02_widget(tsp_layer_s: float = 1e-6):
    """Sliders: co-tenant contention, kernel launch overhead, chips in the TSP pipeline."""
    import ipywidgets as W
    import matplotlib.pyplot as plt

    def show(contention, cotenant_prob, launch_overhead_us, n_chips, ethernet):
        r = explore(cotenant_prob, launch_overhead_us, n_chips, tsp_layer_s, contention, ethernet)
        print(explore_text(r))
        fig, ax = plt.subplots(figsize=(7, 2.8))
        ax.hist(r["gpu_samples"] * 1e6, bins=100, histtype="stepfilled", alpha=0.6, label="GPU (dynamic)")
        ax.axvline(r["gpu"]["p99"] * 1e6, color="k", ls="--", lw=0.8, label="GPU P99")
        ax.set_xlabel("decoder-layer latency (µs)")
        ax.legend(fontsize=7)
        fig.tight_layout()
        plt.show()

    style = {"description_width": "160px"}
    lay = W.Layout(width="460px")
    return W.interactive(
        show,
        contention=W.Checkbox(value=True, description="co-tenant contention"),
        cotenant_prob=W.FloatSlider(value=0.2, min=0.0, max=1.0, step=0.05, description="co-tenant probability",
                                    style=style, layout=lay, continuous_update=False),
        launch_overhead_us=W.FloatSlider(value=5.0, min=0.0, max=40.0, step=0.5, description="launch overhead µs",
                                         style=style, layout=lay, continuous_update=False),
        n_chips=W.IntSlider(value=64, min=1, max=2000, step=1, description="chips in pipeline", style=style,
                            layout=lay, continuous_update=False),
        ethernet=W.Dropdown(options=sorted(multichip.ETHERNET_PRESETS), value="rdma", description="Ethernet [A]"),
    )
