"""Chapter 6 plots and widget: the hybrid fleet.

* ``fleet_chart`` — monthly cost per workload, coloured by memory kind (SRAM "reflex" vs HBM "cortex"), labelled with
  the chosen chips.
* ``sensitivity_plot`` — the fleet's monthly cost per workload under several what-ifs, side by side.
* ``slo_sweep_plot`` — cheapest monthly cost of one workload as its SLO tightens, coloured by the chip chosen.
* ``explore`` — the widget's callback: mix (traffic scale) and SLOs → the optimised fleet as a dict (plain function,
  tested; ``labsim.fleet`` does the work). ``make_fleet_widget()`` wraps it in ipywidgets.
"""
from __future__ import annotations

import numpy as np

from .. import fleet
from ..errors import check_number, check_positive

__all__ = ["KIND_COLORS", "WIDGET_CHIPS", "fleet_chart", "sensitivity_plot", "slo_sweep_plot", "explore",
           "explore_text", "make_fleet_widget"]

KIND_COLORS = {"sram": "#dd8452", "hbm": "#4c72b0", None: "#bbbbbb"}

#: chips with a catalog price (the others need prices_usd); the widget searches these to stay fast.
WIDGET_CHIPS = ("groq-lpu-v1", "nvidia-h100-sxm", "nvidia-b300")


def _ax(ax, figsize=(8, 3.5)):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    return ax.figure, ax


def fleet_chart(plan: fleet.FleetPlan, ax=None, title: str | None = None):
    """Horizontal bars: monthly cost of each workload's chosen hardware (orange = SRAM/LPU, blue = HBM/GPU)."""
    fig, ax = _ax(ax)
    rows = plan.rows()
    for i, r in enumerate(rows):
        if not r["feasible"]:
            ax.barh(i, 0, color=KIND_COLORS[None])
            ax.text(0, i, "  infeasible — no chip meets its SLOs", va="center", fontsize=8, color="firebrick")
            continue
        ax.barh(i, r["monthly_usd"] / 1e3, color=KIND_COLORS[r["memory_kind"]], edgecolor="k", linewidth=0.5)
        mb = f" × {r['microbatches']}" if r["microbatches"] > 1 else ""
        ax.text(r["monthly_usd"] / 1e3, i, f"  {r['replicas']} × {r['chips_per_replica']} {r['chip']} "
                f"(batch {r['batch']}{mb}) · \\${r['usd_per_mtok']:.2f}/M tok", va="center", fontsize=8)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([r["workload"] for r in rows])
    ax.invert_yaxis()
    ax.set_xscale("symlog", linthresh=1.0)
    ax.set_xlabel("monthly cost, thousand USD (log scale)")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=KIND_COLORS["sram"], label="SRAM chip (LPU, 'reflex')"),
                       Patch(color=KIND_COLORS["hbm"], label="HBM GPU ('cortex')")], fontsize=7, loc="upper right")
    ax.set_title(title or f"Cheapest fleet meeting every SLO — \\${plan.monthly_usd / 1e3:,.0f} k/month, "
                          f"capex \\${plan.capex_usd / 1e6:,.2f} M", fontsize=10)
    ax.set_xlim(0, max([r.get("monthly_usd", 0) for r in rows] + [1e3]) / 1e3 * 60)
    fig.tight_layout()
    return fig


def sensitivity_plot(plans: dict[str, fleet.FleetPlan], ax=None):
    """Stacked bars: one bar per what-if, one segment per workload (hatched when served by SRAM chips)."""
    fig, ax = _ax(ax, (8, 3.8))
    names = list(plans)
    workloads = list(next(iter(plans.values())).choices)
    cmap = ["#4c72b0", "#55a868", "#c44e52", "#8172b2", "#ccb974", "#64b5cd"]
    bottoms = np.zeros(len(names))
    for j, w in enumerate(workloads):
        vals, hatches = [], []
        for n in names:
            b = plans[n].choices[w].best if w in plans[n].choices else None
            vals.append(0.0 if b is None else b.monthly_usd / 1e3)
            hatches.append("//" if b is not None and b.memory_kind == "sram" else "")
        for i, (v, h) in enumerate(zip(vals, hatches)):
            ax.bar(i, v, bottom=bottoms[i], color=cmap[j % len(cmap)], hatch=h, edgecolor="k", linewidth=0.4,
                   label=w if i == 0 else None)
        bottoms += np.asarray(vals)
    for i, n in enumerate(names):
        flag = "" if plans[n].feasible else "\n(some infeasible)"
        ax.text(i, bottoms[i], f"\\${bottoms[i]:,.0f} k{flag}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, fontsize=8)
    ax.set_ylabel("monthly cost, thousand USD")
    ax.set_title("What-ifs (hatched = served by SRAM chips)", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def slo_sweep_plot(workload: fleet.Workload, metric: str, slos_s, chips=WIDGET_CHIPS, ax=None):
    """Cheapest monthly cost of ``workload`` as its ``metric`` SLO varies; dots coloured by the chosen memory kind."""
    fig, ax = _ax(ax, (7, 3.5))
    xs = np.asarray(slos_s, dtype=float)
    for s in xs:
        check_positive("slo_s", s, unit="s")
        b = fleet.search(fleet.with_slo(workload, metric, float(s)), chips).best
        if b is None:
            ax.scatter([s * 1e3], [0], marker="x", color="firebrick")
            continue
        ax.scatter([s * 1e3], [b.monthly_usd / 1e3], color=KIND_COLORS[b.memory_kind], edgecolor="k", zorder=3)
    ax.set_yscale("log")
    ax.set_xlabel(f"{metric} SLO at P99, ms")
    ax.set_ylabel("cheapest monthly cost, k USD")
    ax.set_title(f"{workload.name}: the price of a tighter SLO (orange = SRAM, blue = HBM, × = infeasible)",
                 fontsize=10)
    ax.invert_xaxis()
    fig.tight_layout()
    return fig


def explore(rate_scale: float = 1.0, voice_slo_ms: float = 500.0, coding_slo_ms: float = 1500.0,
            chat_ttft_ms: float = 450.0, electricity_usd_per_kwh: float = 0.087,
            scenario: str = "mixed_product", chips=WIDGET_CHIPS) -> dict:
    """Widget callback: scale every arrival rate, set the voice / coding / chat SLOs (ms) and the electricity price,
    re-optimise ``scenario`` and return {"rows", "monthly_usd", "capex_usd", "usd_per_mtok", "chips_by_type",
    "infeasible", "plan"}. Workloads the scenario lacks are ignored."""
    f = check_positive("rate_scale", rate_scale)
    v = check_positive("voice_slo_ms", voice_slo_ms, unit="ms") / 1e3
    c = check_positive("coding_slo_ms", coding_slo_ms, unit="ms") / 1e3
    t = check_positive("chat_ttft_ms", chat_ttft_ms, unit="ms") / 1e3
    e = check_number("electricity_usd_per_kwh", electricity_usd_per_kwh, lo=0.0, unit="USD/kWh")
    sc = fleet.load_scenario(scenario)
    wls = []
    for w in fleet.scale_rates(sc.workloads, f):
        if w.name == "voice":
            w = fleet.with_slo(w, "first_tokens", v)
        elif w.name == "coding":
            w = fleet.with_slo(w, "task", c)
        elif w.name == "chat":
            w = fleet.with_slo(w, "ttft", t)
        wls.append(w)
    costs = dict(sc.cost_overrides)
    costs["electricity_usd_per_kwh"] = e
    plan = fleet.optimise(wls, list(chips), cost_overrides=costs, progress=False)
    return {"rows": plan.rows(), "monthly_usd": plan.monthly_usd, "capex_usd": plan.capex_usd,
            "usd_per_mtok": plan.usd_per_mtok, "chips_by_type": plan.chips_by_type, "infeasible": plan.infeasible,
            "plan": plan}


def explore_text(d: dict) -> str:
    """Plain-text rendering of :func:`explore`'s result."""
    lines = []
    for r in d["rows"]:
        if not r["feasible"]:
            lines.append(f"{r['workload']:<8} INFEASIBLE: {r['reason'][:160]}")
            continue
        slo = ", ".join(f"{k} {r['slo_values'][k] * 1e3:,.0f}/{r['slo_targets'][k] * 1e3:,.0f} ms"
                        for k in r["slo_values"]) or "background"
        lines.append(f"{r['workload']:<8} {r['replicas']:>4} × {r['chips_per_replica']:>5} {r['chip']:<16} "
                     f"batch {r['batch']:>3}  ${r['monthly_usd'] / 1e3:>8,.1f} k/mo  ${r['usd_per_mtok']:>7.3f}/M  "
                     f"{r['utilization']:>4.0%} busy  [{slo}]")
    lines.append(f"fleet: {', '.join(f'{n:,} × {k}' for k, n in d['chips_by_type'].items())} — capex "
                 f"${d['capex_usd'] / 1e6:,.2f} M, ${d['monthly_usd'] / 1e3:,.1f} k per month, blended "
                 f"${d['usd_per_mtok']:.3f} per M output tokens")
    return "\n".join(lines)


def make_fleet_widget():
    """Sliders for traffic and SLOs → the optimised fleet (text + chart). Needs ipywidgets."""
    import ipywidgets as W
    import matplotlib.pyplot as plt
    from IPython.display import display

    sl = dict(continuous_update=False, style={"description_width": "150px"}, layout=W.Layout(width="480px"))
    rate = W.FloatLogSlider(value=1.0, base=10, min=-1, max=1.5, step=0.05, description="traffic × ", **sl)
    voice = W.IntSlider(value=500, min=50, max=1000, step=10, description="voice P99 1st sentence ms", **sl)
    coding = W.IntSlider(value=1500, min=300, max=5000, step=50, description="coding P99 action ms", **sl)
    chat = W.IntSlider(value=450, min=50, max=2000, step=10, description="chat P99 TTFT ms", **sl)
    elec = W.FloatSlider(value=0.087, min=0.02, max=0.4, step=0.001, readout_format=".3f",
                         description="electricity $/kWh", **sl)
    out = W.Output()

    def update(*_):
        d = explore(rate.value, voice.value, coding.value, chat.value, elec.value)
        with out:
            out.clear_output(wait=True)
            print(explore_text(d))
            fig = fleet_chart(d["plan"])
            plt.show()
            plt.close(fig)

    for w in (rate, voice, coding, chat, elec):
        w.observe(update, names="value")
    update()
    box = W.VBox([rate, voice, coding, chat, elec, out])
    display(box)
    return box
