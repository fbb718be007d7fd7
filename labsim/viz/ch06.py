"""Chapter 6 plots and widget: the hybrid fleet.

* ``plan_table`` — a fleet plan as a table (one row per workload, the fleet's totals as its title).
* ``fleet_chart`` — monthly cost per workload, colored by memory kind (SRAM "reflex" vs HBM "cortex"), labeled with
  the chosen hardware and its $/M tokens.
* ``sensitivity_plot`` — the fleet's monthly cost per workload under several what-ifs, side by side.
* ``slo_sweep_plot`` — cheapest monthly cost of one workload as its SLO tightens, colored by the chip chosen.
* ``explore`` — the widget's callback: mix (traffic per workload) and SLOs → the optimized fleet as a dict (plain
  function, tested; ``labsim.fleet`` does the work). ``explore_text`` / ``explore_html`` render it;
  ``make_fleet_widget()`` wraps it in ipywidgets. The widget draws its bars as HTML, not matplotlib, so a slider
  move costs the optimizer's few milliseconds and no figure rendering.
"""
from __future__ import annotations

import html
import math
from collections.abc import Mapping

import ipywidgets as W
import numpy as np
from IPython.display import display
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from .. import fleet
from .. import limits as _L
from ..errors import LabsimError, check_array, check_choice, check_mapping, check_number
from ..table import Table
from ._widgets import check_result, check_title, figure_and_ax

__all__ = ["KIND_COLORS", "WIDGET_CHIPS", "MIX_WORKLOADS", "plan_table", "fleet_chart", "sensitivity_plot",
           "slo_sweep_plot", "explore", "explore_text", "explore_html", "make_fleet_widget"]

KIND_COLORS = {"sram": "#dd8452", "hbm": "#4c72b0", None: "#bbbbbb"}
KIND_LABELS = {"sram": "SRAM chip (LPU, 'reflex')", "hbm": "HBM GPU ('cortex')"}

#: chips with a catalog price (the others need prices_usd); the widget searches these.
WIDGET_CHIPS = ("groq-lpu-v1", "nvidia-h100-sxm", "nvidia-b300")
#: the mixed product's workloads, in the order the widget's mix sliders show them
MIX_WORKLOADS = ("voice", "coding", "chat", "batch")


def _hardware(r: dict) -> str:
    mb = f" × {r['microbatches']} microbatches" if r["microbatches"] > 1 else ""
    return f"{r['replicas']:,} × {r['chips_per_replica']:,} {r['chip']}, batch {r['batch']}{mb}"


def _kind_legend(ax, **kw):
    return ax.legend(handles=[Patch(color=KIND_COLORS[k], label=v) for k, v in KIND_LABELS.items()], **kw)


def plan_table(plan: fleet.FleetPlan) -> Table:
    """The plan's workloads as a table — hardware, chips, racks, capex, monthly cost, USD per million output tokens,
    slots busy and each SLO (modeled P99 / target) — titled with the fleet's totals. Aligned text when printed, an
    HTML table in a notebook (``plan.summary()`` is the same in one line per workload)."""
    if not isinstance(plan, fleet.FleetPlan):
        raise LabsimError(f"plan must be the FleetPlan fleet.optimize() returns, got {type(plan).__name__}")
    body = []
    for r in plan.rows():
        if not r["feasible"]:
            body.append((r["workload"], "INFEASIBLE", "", "", "", "", "", "", r["reason"]))
            continue
        body.append((r["workload"], _hardware(r), f"{r['chips']:,}", f"{r['racks']:,}",
                     f"{r['capex_usd'] / 1e6:,.2f} M", f"{r['monthly_usd'] / 1e3:,.1f} k", f"{r['usd_per_mtok']:,.3f}",
                     f"{r['utilization']:.0%}", _slo_text(r)))
    title = (f"fleet: capex USD {plan.capex_usd / 1e6:,.2f} M, USD {plan.monthly_usd / 1e3:,.1f} k per month, "
             f"{plan.power_kw:,.0f} kW, blended USD {plan.usd_per_mtok:,.3f} per million output tokens")
    return Table(("workload", "hardware", "chips", "racks", "capex USD", "USD/month", "USD/M out", "slots busy",
                  "P99 model / SLO"), body, align="llrrrrrrl", title=title, wide=(1, 8))


def fleet_chart(plan: fleet.FleetPlan, ax=None, title: str | None = None):
    """Horizontal bars: monthly cost of each workload's chosen hardware (orange = SRAM/LPU, blue = HBM/GPU), on a
    log axis in thousand USD; the label at each bar names the hardware and its $/M output tokens."""

    if not isinstance(plan, fleet.FleetPlan):
        raise LabsimError(f"plan must be the FleetPlan fleet.optimize() returns, got {type(plan).__name__}")
    check_title(title)
    rows = plan.rows()
    fig, ax = figure_and_ax(ax, (9, 1.3 + 0.55 * len(rows)))
    costs_k = [r["monthly_usd"] / 1e3 for r in rows if r["feasible"]] or [1.0]
    lo = 10 ** math.floor(math.log10(min(costs_k)) - 0.3)
    for i, r in enumerate(rows):
        if not r["feasible"]:
            ax.text(lo * 1.1, i, "infeasible — no chip meets its SLOs", va="center", fontsize=8, color="firebrick")
            continue
        v = r["monthly_usd"] / 1e3
        ax.barh(i, v - lo, left=lo, color=KIND_COLORS[r["memory_kind"]], edgecolor="k", linewidth=0.5)
        ax.text(v * 1.08, i, f"{_hardware(r)} · \\${r['usd_per_mtok']:.2f}/M tok", va="center", fontsize=8)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([r["workload"] for r in rows])
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlim(lo, max(costs_k) * 400)              # room on the right for the labels
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.0f}" if x >= 1 else f"{x:g}"))
    ax.set_xlabel("monthly cost per workload, thousand USD (log scale)")
    _kind_legend(ax, fontsize=8, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, frameon=False)
    ax.set_title(title or f"Cheapest fleet meeting every SLO: \\${plan.monthly_usd / 1e3:,.0f} k per month, "
                          f"capex \\${plan.capex_usd / 1e6:,.2f} M", fontsize=10, pad=22)
    fig.tight_layout()
    return fig


def sensitivity_plot(plans: dict[str, fleet.FleetPlan], ax=None):
    """Stacked bars: one bar per what-if, one segment per workload (hatched when served by SRAM chips)."""
    plans = check_mapping("plans", plans)
    if not plans or not all(isinstance(p, fleet.FleetPlan) for p in plans.values()):
        raise LabsimError(f"plans must map a label to a fleet.FleetPlan (at least one), got {plans!r}")
    fig, ax = figure_and_ax(ax, (9, 3.8))
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
        for i, (v, h) in enumerate(zip(vals, hatches, strict=True)):
            ax.bar(i, v, bottom=bottoms[i], color=cmap[j % len(cmap)], hatch=h, edgecolor="k", linewidth=0.4,
                   label=w if i == 0 else None)
        bottoms += np.asarray(vals)
    for i, n in enumerate(names):
        flag = "" if plans[n].feasible else "\n(some infeasible)"
        ax.text(i, bottoms[i], f"\\${bottoms[i]:,.0f} k{flag}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, fontsize=8)
    ax.set_ylabel("monthly cost, thousand USD")
    ax.set_ylim(0, bottoms.max() * 1.12 if bottoms.max() > 0 else 1)
    ax.set_title("What-ifs: monthly cost of the cheapest fleet (hatched = served by SRAM chips)", fontsize=10)
    ax.legend(title="workload", fontsize=8, title_fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def slo_sweep_plot(workload: fleet.Workload, metric: str, slos_s, chip_names=WIDGET_CHIPS, ax=None, *, chips=None):
    """Cheapest monthly cost of ``workload`` as its ``metric`` SLO varies; dots colored by the chosen memory kind,
    × at the bottom where no chip meets the SLO. ``chip_names``: the chips searched (``chips=`` is its old name)."""

    if not isinstance(workload, fleet.Workload):
        raise LabsimError(f"workload must be a fleet.Workload, got {type(workload).__name__}")
    check_choice("metric", metric, fleet.METRICS, what="SLO metric")
    xs = check_array("slos_s", slos_s, lo=0.0, lo_open=True, hi=_L.MAX_LATENCY_S, unit="s").ravel()
    if not 1 <= xs.size <= 200:
        raise LabsimError(f"slos_s must hold 1 to 200 SLOs, got {xs.size}")
    chip_objs = fleet._chips(fleet._chip_names_or_alias(chip_names, chips, WIDGET_CHIPS))
    fig, ax = figure_and_ax(ax, (8, 3.5))
    what = None
    costs_k = []
    for s in xs:
        wl = fleet.with_slo(workload, metric, float(s))
        what = what or next(x for x in wl.slos if x.metric == metric)
        b = fleet.search(wl, chip_objs).best
        if b is None:
            ax.scatter([s * 1e3], [0.03], marker="x", color="firebrick", transform=ax.get_xaxis_transform(),
                       clip_on=False)
            continue
        ax.scatter([s * 1e3], [b.monthly_usd / 1e3], color=KIND_COLORS[b.memory_kind], edgecolor="k", zorder=3)
        costs_k.append(b.monthly_usd / 1e3)
    ax.set_yscale("log")
    if costs_k:      # explicit limits with head-room: autoscaling put the highest markers on the frame
        ax.set_ylim(min(costs_k) / 2.0, max(costs_k) * 2.0)
    plain = FuncFormatter(lambda y, _: f"{y:,.0f}" if y >= 1 else f"{y:g}")
    ax.yaxis.set_major_formatter(plain)

    def minor(y, _):      # label 2, 3 and 5 × 10^k when the axis spans less than about a decade and a half
        lo, hi = ax.get_ylim()
        lead = round(y / 10 ** math.floor(math.log10(y) + 1e-9))
        return plain(y, _) if hi / lo < 30 and lead in (2, 3, 5) else ""

    ax.yaxis.set_minor_formatter(FuncFormatter(minor))
    pad = 0.05 * max(xs.max() - xs.min(), xs.max()) * 1e3     # × markers do not take part in autoscaling
    ax.set_xlim(xs.min() * 1e3 - pad, xs.max() * 1e3 + pad)
    ax.set_xlabel(f"SLO: {what.label.split(' ≤ ')[0]}, ms (tighter →)")
    ax.set_ylabel("cheapest monthly cost, k USD")
    ax.set_title(f"{workload.name}: the price of a tighter SLO", fontsize=10)
    handles = [Line2D([], [], marker="o", ls="", color=KIND_COLORS[k], markeredgecolor="k", label=v)
               for k, v in KIND_LABELS.items()]
    handles.append(Line2D([], [], marker="x", ls="", color="firebrick", label="infeasible"))
    ax.legend(handles=handles, fontsize=8, loc="lower right")     # tight SLOs (right) cost most: bottom right is free
    ax.invert_xaxis()
    fig.tight_layout()
    return fig


def explore(rate_scale: float = 1.0, voice_slo_ms: float = 500.0, coding_slo_ms: float = 1500.0,
            chat_ttft_ms: float = 450.0, electricity_usd_per_kwh: float = 0.087,
            scenario: str = "mixed_product", chip_names=WIDGET_CHIPS, mix=None, *, chips=None) -> dict:
    """Widget callback: re-optimize ``scenario`` with every arrival rate × ``rate_scale`` and, per workload,
    × ``mix[name]`` (0 leaves the workload out), the voice / coding / chat SLOs (ms) and the electricity price.
    Returns {"rows", "monthly_usd", "capex_usd", "usd_per_mtok", "chips_by_type", "racks_by_type", "infeasible",
    "plan"}. SLOs of workloads the scenario lacks are ignored. ``chip_names``: the chips searched (``chips=`` is its
    old name). Searches are memoized by ``labsim.fleet``."""
    f = check_number("rate_scale", rate_scale, lo=0.0, lo_open=True, hi=1e6)
    v = check_number("voice_slo_ms", voice_slo_ms, lo=1e-3, hi=_L.MAX_LATENCY_S * 1e3, unit="ms") / 1e3
    c = check_number("coding_slo_ms", coding_slo_ms, lo=1e-3, hi=_L.MAX_LATENCY_S * 1e3, unit="ms") / 1e3
    t = check_number("chat_ttft_ms", chat_ttft_ms, lo=1e-3, hi=_L.MAX_LATENCY_S * 1e3, unit="ms") / 1e3
    rule = fleet.tco.FIELDS["electricity_usd_per_kwh"]
    e = check_number("electricity_usd_per_kwh", electricity_usd_per_kwh, lo=rule["lo"], hi=rule["hi"],
                     unit="USD/kWh")
    if not isinstance(scenario, str):
        raise LabsimError(f"scenario must be a bundled scenario name, got {scenario!r}")
    chip_objs = fleet._chips(fleet._chip_names_or_alias(chip_names, chips, WIDGET_CHIPS))
    sc = fleet.load_scenario(scenario)
    names = [w.name for w in sc.workloads]
    if mix is not None and not isinstance(mix, Mapping):
        raise LabsimError(f"mix must map workload name -> traffic share (0 = leave out), got {mix!r}")
    mix = {} if mix is None else dict(mix)
    for k, x in mix.items():
        if k not in names:
            raise LabsimError(f"mix key {k!r} is not a workload of scenario {scenario!r}; allowed: {names}")
        check_number(f"mix[{k!r}]", x, lo=0.0, hi=1e6)
    wls = []
    for w in sc.workloads:
        m = f * float(mix.get(w.name, 1.0))
        if m == 0.0:
            continue
        try:
            w = w.replace(arrival_rate_per_s=w.arrival_rate_per_s * m)
        except LabsimError as exc:
            raise LabsimError(f"rate_scale = {f:g} × mix share takes workload {w.name!r} out of range: {exc}") from None
        if w.name == "voice":
            w = fleet.with_slo(w, "first_tokens", v)
        elif w.name == "coding":
            w = fleet.with_slo(w, "task", c)
        elif w.name == "chat":
            w = fleet.with_slo(w, "ttft", t)
        wls.append(w)
    if not wls:
        raise LabsimError("mix leaves no workload (every share is 0); give at least one workload a share > 0")
    costs = dict(sc.cost_overrides)
    costs["electricity_usd_per_kwh"] = e
    plan = fleet.optimize(wls, chip_objs, cost_overrides=costs, progress=False)
    return {"rows": plan.rows(), "monthly_usd": plan.monthly_usd, "capex_usd": plan.capex_usd,
            "usd_per_mtok": plan.usd_per_mtok, "chips_by_type": plan.chips_by_type,
            "racks_by_type": plan.racks_by_type, "infeasible": plan.infeasible, "plan": plan}


def _slo_text(r: dict) -> str:
    return ", ".join(f"{k} {r['slo_values'][k] * 1e3:,.0f}/{r['slo_targets'][k] * 1e3:,.0f} ms"
                     for k in r["slo_values"]) or "background"


def _fleet_line(d: dict) -> str:
    chips = ", ".join(f"{n:,} × {k} ({d['racks_by_type'][k]:,} racks)" for k, n in d["chips_by_type"].items())
    bad = f"; infeasible: {', '.join(d['infeasible'])}" if d["infeasible"] else ""
    blended = "n/a" if d["usd_per_mtok"] is None else f"${d['usd_per_mtok']:.3f}"
    return (f"fleet: {chips or 'none'} — capex ${d['capex_usd'] / 1e6:,.2f} M, ${d['monthly_usd'] / 1e3:,.1f} k "
            f"per month, blended {blended} per M output tokens{bad}")


_EXPLORE_KEYS = ("rows", "monthly_usd", "capex_usd", "usd_per_mtok", "chips_by_type", "racks_by_type", "infeasible")


def explore_text(d: dict) -> str:
    """Plain-text rendering of :func:`explore`'s result."""
    check_result(d, _EXPLORE_KEYS, "d")
    lines = []
    for r in d["rows"]:
        if not r["feasible"]:
            lines.append(f"{r['workload']:<8} INFEASIBLE: {r['reason'][:160]}")
            continue
        lines.append(f"{r['workload']:<8} {r['replicas']:>4} × {r['chips_per_replica']:>5} {r['chip']:<16} "
                     f"batch {r['batch']:>3}  ${r['monthly_usd'] / 1e3:>8,.1f} k/mo  ${r['usd_per_mtok']:>7.3f}/M  "
                     f"{r['utilization']:>4.0%} busy  [{_slo_text(r)}]")
    lines.append(_fleet_line(d))
    return "\n".join(lines)


def explore_html(d: dict) -> str:
    """:func:`explore`'s result as an HTML table with one cost bar per workload (log length, colored by memory
    kind, as in :func:`fleet_chart`) — what the widget shows; no figure to render."""
    check_result(d, _EXPLORE_KEYS, "d")
    costs = [r["monthly_usd"] for r in d["rows"] if r["feasible"]] or [1.0]
    lo, hi = math.log10(min(costs) / 3), math.log10(max(costs))
    td = '<td style="padding:2px 8px;text-align:{};white-space:nowrap">{}</td>'
    rows = []
    for r in d["rows"]:
        name = td.format("left", f"<b>{html.escape(r['workload'])}</b>")
        if not r["feasible"]:
            rows.append(f"<tr>{name}<td colspan=5 style='padding:2px 8px;color:firebrick;max-width:900px;"
                        f"white-space:normal'>INFEASIBLE — {html.escape(r['reason'][:600])}</td></tr>")
            continue
        width = 12 + 188 * (math.log10(r["monthly_usd"]) - lo) / max(hi - lo, 1e-9)
        bar = (f"<div style='display:inline-block;height:12px;width:{width:.0f}px;background:"
               f"{KIND_COLORS[r['memory_kind']]};border:1px solid #333;vertical-align:middle'></div> "
               f"${r['monthly_usd'] / 1e3:,.1f} k")
        rows.append("<tr>" + name + td.format("left", html.escape(_hardware(r))) + td.format("left", bar)
                    + td.format("right", f"${r['usd_per_mtok']:,.2f}") + td.format("right", f"{r['utilization']:.0%}")
                    + td.format("left", html.escape(_slo_text(r))) + "</tr>")
    head = "".join(f"<th style='padding:2px 8px;text-align:left'>{h}</th>" for h in
                   ("workload", "hardware", "monthly cost (log bar)", "USD/M out tok", "slots busy",
                    "P99 model / SLO"))
    legend = " ".join(f"<span style='color:{KIND_COLORS[k]}'>■</span> {html.escape(v)}" for k, v in KIND_LABELS.items())
    return (f"<table style='border-collapse:collapse;font-size:12px'><tr>{head}</tr>{''.join(rows)}</table>"
            f"<div style='font-size:12px;margin-top:4px'>{html.escape(_fleet_line(d))}<br>{legend}</div>")


def make_fleet_widget():
    """Sliders for the mix (traffic per workload), the SLOs and electricity → the optimized fleet as an HTML
    table with cost bars. Needs ipywidgets."""

    sl = dict(continuous_update=False, style={"description_width": "170px"}, layout=W.Layout(width="430px"))
    rate = W.FloatLogSlider(value=1.0, base=10, min=-1, max=1.5, step=0.05, description="all traffic ×", **sl)
    shares = {n: W.FloatSlider(value=1.0, min=0.0, max=5.0, step=0.25, description=f"{n} traffic ×", **sl)
              for n in MIX_WORKLOADS}
    voice = W.IntSlider(value=500, min=50, max=1000, step=10, description="voice 1st sentence ms", **sl)
    coding = W.IntSlider(value=1500, min=300, max=5000, step=50, description="coding action ms", **sl)
    chat = W.IntSlider(value=450, min=50, max=2000, step=10, description="chat TTFT ms", **sl)
    elec = W.FloatSlider(value=0.087, min=0.02, max=0.4, step=0.001, readout_format=".3f",
                         description="electricity USD/kWh", **sl)
    out = W.HTML()

    def update(*_):
        try:
            d = explore(rate.value, voice.value, coding.value, chat.value, elec.value,
                        mix={n: s.value for n, s in shares.items()})
            out.value = explore_html(d)
        except LabsimError as exc:
            out.value = f"<span style='color:firebrick'>{html.escape(str(exc))}</span>"

    controls = [rate, *shares.values(), voice, coding, chat, elec]
    for w in controls:
        w.observe(update, names="value")
    update()
    box = W.VBox([W.HBox([W.VBox([W.HTML("<b>Mix</b> (a workload's share 0 leaves it out)"), rate,
                                  *shares.values()]),
                          W.VBox([W.HTML("<b>SLOs</b> (at P99) <b>and prices</b>"), voice, coding, chat, elec])]), out])
    display(box)
    return box
