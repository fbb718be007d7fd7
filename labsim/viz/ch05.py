"""Chapter 5 plots and widget: the agentic latency budget.

* ``gantt`` — stacked bars (median of each component) of voice turns / agent steps, threshold lines drawn.
* ``chain_fanout_plot`` — 1 − (1 − p)^k for chains and fan-outs, with Monte Carlo dots on top.
* ``hardware_tails`` / ``hardware_tails_plot`` — P50/P99 of a k-step chain on deterministic vs jittery hardware.
* ``queue_curves`` / ``queue_plot`` — mean and P99 queue wait vs load for service CVs 0, 0.5, 1 (simulated vs
  Pollaczek–Khinchine).
* ``batching_plot`` / ``batching_table`` — throughput–latency curves from ``labsim.latency.batching_curve``.
* ``thresholds_table`` — the human thresholds with readable sources.
* ``planner`` — the widget's callback (numbers in → dict out: pass/fail, quantile latency, largest budget, $/task);
  ``planner_text`` formats it, ``planner_bar_svg`` draws one median step as SVG (no matplotlib, so a move redraws in
  microseconds); ``make_planner_widget()`` wires them to ipywidgets with ``observe``.
"""
from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from .. import latency as L
from .. import limits as _L
from ..errors import (
    LabsimError,
    check_array,
    check_choice,
    check_int,
    check_ints,
    check_mapping,
    check_number,
)
from ..sources import cite
from ..table import Table
from ._widgets import check_axes, check_names, check_result, check_title, figure_and_ax, pre, wire

__all__ = ["gantt", "chain_fanout_plot", "hardware_tails", "hardware_tails_plot", "queue_curves", "queue_plot",
           "batching_plot", "batching_table", "thresholds_table", "planner", "planner_text", "planner_bar_svg",
           "PLANNER_PRESETS", "make_planner_widget"]

_CAT_COLORS = {"queue": "#c44e52", "prefill": "#dd8452", "decode": "#4c72b0", "tool": "#8c8c8c",
               "network": "#55a868", "speech": "#8172b3", "other": "#b0b0b0"}
_SHORT = {"instant": "instant", "conversational_gap": "turn gap", "doherty": "Doherty", "voice_turn": "voice turn",
          "flow": "flow", "onscreen_agent_step": "agent step", "attention": "attention"}
_THRESH_STYLE = {"instant": ":", "conversational_gap": "--", "doherty": "-.", "voice_turn": "-",
                 "flow": "--", "onscreen_agent_step": "-.", "attention": ":"}


def _wrap2(name: str) -> str:
    """Split a label into two lines of about equal length at a space (or after ' / ')."""
    words = name.replace(" / ", "/ ").split(" ")
    if len(words) < 2:
        return name
    best = min(range(1, len(words)), key=lambda k: abs(len(" ".join(words[:k])) - len(" ".join(words[k:]))))
    return " ".join(words[:best]) + "\n" + " ".join(words[best:])


def gantt(steps, thresholds=("conversational_gap", "voice_turn", "flow", "onscreen_agent_step"), ax=None,
          title: str = "Where the time goes (median of each component)"):
    """One horizontal stacked bar per step (a ``Step`` or a dict label → Step); each segment is a component's
    median, labeled when wide enough; vertical lines at the named thresholds."""
    if isinstance(steps, L.Step):
        steps = {steps.name: steps}
    elif isinstance(steps, dict):
        steps = dict(steps)
    elif isinstance(steps, (list, tuple)):
        steps = {getattr(s, "name", str(i)): s for i, s in enumerate(steps)}
    else:
        raise LabsimError(f"steps must be a Step, a list of Steps or a dict label -> Step, got {steps!r}")
    if not steps or not all(isinstance(s, L.Step) for s in steps.values()):
        raise LabsimError(f"steps must hold at least one latency.Step (and only Steps), got {steps!r}")
    table = L.thresholds()
    empty = isinstance(thresholds, (tuple, list)) and len(thresholds) == 0
    names = [] if empty else check_names("thresholds", thresholds, table, "threshold")
    check_title(title)
    fig, ax = figure_and_ax(ax, (9, 1.4 + 0.75 * len(steps)))
    longest = 0.0
    seen = set()
    for i, step in enumerate(steps.values()):
        left = 0.0
        for _name, sec, cat in step.breakdown():
            if sec <= 0:
                continue
            ax.barh(i, sec, left=left, color=_CAT_COLORS.get(cat, "#b0b0b0"), edgecolor="white", linewidth=0.8,
                    label=cat if cat not in seen else None)
            seen.add(cat)
            left += sec
        longest = max(longest, left)
        ax.text(left, i, f"  {left * 1e3:,.0f} ms", va="center", fontsize=8)
    top = max(longest * 1.15, max(table[n].seconds for n in names) * 1.05 if names else 0)
    px_per_s = fig.get_figwidth() * fig.dpi * 0.7 / max(top, 1e-9)   # the axes take ≈ 70 % of the width
    char_px = 6.5 * 0.6 * fig.dpi / 72                                   # ≈ width of one 6.5 pt character
    for i, step in enumerate(steps.values()):
        left = 0.0
        for name, sec, _cat in step.breakdown():
            if sec <= 0:
                continue
            text = _wrap2(name) if len(name) > 14 else name
            if max(map(len, text.split("\n"))) * char_px <= sec * px_per_s - 4:   # label only where it fits
                ax.text(left + sec / 2, i, text, ha="center", va="center", fontsize=6.5, color="white")
            left += sec
    for j, n in enumerate(sorted(names, key=lambda n: table[n].seconds)):
        t = table[n]
        if t.seconds <= top:
            ax.axvline(t.seconds, color="k", lw=1, ls=_THRESH_STYLE.get(n, "--"), alpha=0.7)
            ax.text(t.seconds, 1.01 + 0.07 * (j % 2), f"{_SHORT.get(n, n)} {t.seconds * 1e3:,.0f} ms", fontsize=7,
                    ha="center", va="bottom", transform=ax.get_xaxis_transform())
    ax.set_yticks(range(len(steps)))
    ax.set_yticklabels(list(steps), fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, top * 1.02)
    ax.set_ylim(len(steps) - 0.5 + 0.9, -0.6)
    ax.set_xlabel("seconds")
    ax.set_title(title, fontsize=10, pad=30)
    ax.legend(fontsize=7, loc="lower right", ncol=3)
    fig.tight_layout()
    return fig


def chain_fanout_plot(p_slow=(0.001, 0.01, 0.05), n_max: int = 200, mc_points=(1, 10, 50, 100), mc_n: int = 20_000,
                      seed: int = 0, ax=None):
    """P(the task meets a slow step) vs number of steps/branches: 1 − (1 − p)^n (the same curve for a chain
    that any slow step spoils and a fan-out that waits for all), with Monte Carlo dots from the sampler."""
    n_max = check_int("n_max", n_max, lo=2, hi=100_000)
    p_slow = check_array("p_slow", p_slow, lo=0.0, hi=1.0).ravel()
    if p_slow.size == 0 or p_slow.size > 20:
        raise LabsimError(f"p_slow must hold 1 to 20 probabilities, got {p_slow.size}")
    mc_points = check_ints("mc_points", mc_points, lo=1, hi=100_000, min_len=0, max_len=50)
    mc_n = check_int("mc_n", mc_n, lo=100, hi=1_000_000)
    seed = check_int("seed", seed, lo=0, hi=2**32 - 1 - p_slow.size)
    fig, ax = figure_and_ax(ax, (8.5, 3.6))
    ns = np.arange(1, n_max + 1)
    for j, p in enumerate(p_slow):
        ax.plot(ns, [L.chain_slow_probability(p, n) for n in ns], lw=1.8, label=f"per step slow p = {p:g}")
        step = L.Step((L.Component("leaf", L.two_point(0.01, 1.0, p)),))
        for n in mc_points:
            if n <= n_max:
                x = L.task(step, fan_out=n).sample(mc_n, seed + j)
                ax.plot(n, np.mean(x > 0.5), "ko", ms=3.5)
    ax.plot([], [], "ko", ms=3.5, label=f"Monte Carlo ({mc_n:,} tasks)")
    ax.annotate("Tail at Scale: 1 % slow, 100-way → 63 %", (100, L.fanout_slow_probability(0.99, 100)),
                xytext=(110, 0.35), fontsize=8, arrowprops=dict(arrowstyle="->", lw=0.8))
    ax.set_xlabel("steps in the chain / branches in the fan-out")
    ax.set_ylabel("P(task hits ≥ 1 slow step)")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def hardware_tails(steps=(1, 3, 10, 30), output_tokens: int = 300, decode_tokens_per_s: float = 500.0,
                   platforms=("lpu", "dedicated_gpu", "hosted_gpu_api"), fan_out: int = 1, n: int = 100_000,
                   seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    """P50 and P99 of a k-step agent task on each platform archetype (platforms.toml, [A]) at the same decode
    speed: what jitter, TTFT spread and rare stalls do to a chain. Returns {platform: {steps, p50_s, p99_s}}."""
    steps = check_ints("steps", steps, lo=1, hi=10_000, max_len=50)
    platforms = check_names("platforms", platforms, L.platforms(), "platform")
    out = {}
    for name in platforms:
        s = L.platform_step(name, output_tokens, decode_tokens_per_s)
        p50, p99 = [], []
        for k in steps:
            t = L.simulate(s, n=n, seed=seed, steps=k, fan_out=fan_out)
            p50.append(t.p50_s)
            p99.append(t.p99_s)
        out[name] = {"steps": np.asarray(steps), "p50_s": np.asarray(p50), "p99_s": np.asarray(p99),
                     "display_name": L.platform(name).display_name}
    return out


def hardware_tails_plot(data: dict, ax=None):
    """P99 / P50 of a k-step task per platform (from ``hardware_tails``): how far the tail sits from the median."""
    data = check_mapping("data", data)
    for k, d in data.items():
        check_result(d, ("steps", "p50_s", "p99_s", "display_name"), f"data[{k!r}]", "hardware_tails()")
        if np.any(np.asarray(d["p50_s"], dtype=float) <= 0):
            raise LabsimError(f"data[{k!r}]['p50_s'] must be positive (P99/P50 divides by it)")
    fig, ax = figure_and_ax(ax, (6.5, 3.4))
    for d in data.values():
        ax.plot(d["steps"], d["p99_s"] / d["p50_s"], "o-", label=d["display_name"])
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xscale("log")
    steps = next(iter(data.values()))["steps"] if data else []
    ax.set_xticks(list(steps), [str(k) for k in steps])
    ax.minorticks_off()
    ax.set_xlabel("steps in the chain (k)")
    ax.set_ylabel("task P99 / P50")
    ax.set_title("how far the tail sits from the median (1 = no tail)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def queue_curves(loads=(0.3, 0.5, 0.7, 0.8, 0.9), cvs=(0.0, 0.5, 1.0), service_mean_s: float = 1.0,
                 customers: int = 200_000, seed: int = 0) -> dict[float, dict[str, np.ndarray]]:
    """Simulated mean and P99 queue waits vs load for each service CV, with the P–K mean alongside."""
    loads = check_array("loads", loads, lo=0.0, hi=1.0, lo_open=True, hi_open=True).ravel()
    cvs = check_array("cvs", cvs, lo=0.0, hi=_L.MAX_CV).ravel()
    if loads.size == 0 or cvs.size == 0 or loads.size * cvs.size > 200:
        raise LabsimError(f"loads × cvs must hold 1 to 200 points, got {loads.size} × {cvs.size}")
    seed = check_int("seed", seed, lo=0, hi=2**32 - 1 - loads.size)
    out = {}
    for cv in cvs:
        rows = {"load": np.asarray(loads, float), "mean_wait_s": [], "pk_mean_wait_s": [], "p99_wait_s": []}
        for i, rho in enumerate(loads):
            r = L.simulate_queue(rho, service_mean_s, cv, customers=customers, seed=seed + i)
            rows["mean_wait_s"].append(r.mean_wait_s)
            rows["pk_mean_wait_s"].append(r.pk_mean_wait_s)
            rows["p99_wait_s"].append(r.wait.p99_s)
        out[cv] = {k: np.asarray(v, float) for k, v in rows.items()}
    return out


def queue_plot(curves: dict, service_mean_s: float = 1.0, axes=None):
    """Left: mean wait (in service times) vs load — dots simulated, lines Pollaczek–Khinchine. Right: P99 wait."""
    curves = check_mapping("curves", curves)
    if not curves:
        raise LabsimError("curves must hold at least one service CV -> queue_curves() row")
    for cv, d in curves.items():
        check_number("curves key (service CV)", cv, lo=0.0, hi=_L.MAX_CV)
        check_result(d, ("load", "mean_wait_s", "p99_wait_s"), f"curves[{cv!r}]", "queue_curves()")
    service_mean_s = check_number("service_mean_s", service_mean_s, lo=0.0, lo_open=True, hi=_L.MAX_LATENCY_S,
                                  unit="s")
    axes = check_axes(axes, 2)
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    fig = axes[0].figure
    fine = np.linspace(0.05, 0.95, 60)
    for cv, d in curves.items():
        line, = axes[0].plot(fine, [L.pk_mean_wait_s(r, 1.0, cv) for r in fine], lw=1.5,
                             label=f"service CV {cv:g}" + (" (deterministic)" if cv == 0 else
                                                          " (exponential)" if cv == 1 else ""))
        axes[0].plot(d["load"], d["mean_wait_s"] / service_mean_s, "o", color=line.get_color(), ms=4)
        axes[1].plot(d["load"], d["p99_wait_s"] / service_mean_s, "o-", color=line.get_color(), ms=4)
    axes[0].set_title("mean wait: dots simulated, lines P–K", fontsize=9)
    axes[1].set_title("P99 wait (simulated; colors as left)", fontsize=9)
    for a in axes:
        a.set_xlabel("load ρ = arrival rate × service time")
        a.set_ylabel("wait / mean service time")
        a.set_yscale("log")
        a.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        a.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        a.yaxis.set_minor_formatter(NullFormatter())
        a.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def thresholds_table() -> Table:
    """The human response-time thresholds of ``labsim/data/latency/thresholds.toml``: time, meaning, status tag and
    readable source — aligned text when printed, an HTML table in a notebook."""
    body = [(f"{t.seconds * 1e3:,.0f} ms", t.label, f"[{t.tag}]", cite(t.source)) for t in L.thresholds().values()]
    return Table(("threshold", "meaning", "tag", "source"), body, align="rlcl", wide=(1, 3))


def batching_table(curves: dict[str, dict], slo_s: float | None = None) -> Table:
    """One row per configuration of ``{label: latency.batching_curve(...)}``: P50/P99 request latency at the lowest
    and highest load, the range of tokens/s per user, the throughput at the highest load, and the first load at
    which P99 exceeds ``slo_s`` ("—" if none)."""
    curves = check_mapping("curves", curves)
    for label, c in curves.items():
        check_result(c, ("load", "p50_s", "p99_s", "tokens_per_s_per_user", "throughput_tok_s"),
                     f"curves[{label!r}]", "latency.batching_curve()")
        if np.size(c["load"]) != np.size(c["p99_s"]):
            raise LabsimError(f"curves[{label!r}]: 'load' and 'p99_s' must have the same length, got "
                              f"{np.size(c['load'])} and {np.size(c['p99_s'])}")
    if slo_s is not None:
        slo_s = check_number("slo_s", slo_s, lo=0.0, lo_open=True, hi=_L.MAX_LATENCY_S, unit="s")
    head = ["configuration", "lowest load: P50 / P99", "highest load: P50 / P99", "tok/s per user",
            "throughput at highest load"]
    if slo_s is not None:
        head.append(f"P99 > {slo_s:g} s from load")
    body = []
    for name, c in curves.items():
        row = [name, f"{c['load'][0]:.0%}: {c['p50_s'][0]:.1f} / {c['p99_s'][0]:.1f} s",
               f"{c['load'][-1]:.0%}: {c['p50_s'][-1]:.1f} / {c['p99_s'][-1]:.1f} s",
               f"{c['tokens_per_s_per_user'].min():,.0f}–{c['tokens_per_s_per_user'].max():,.0f}",
               f"{c['throughput_tok_s'][-1]:,.0f} tok/s"]
        if slo_s is not None:
            over = [ld for ld, p99 in zip(c["load"], c["p99_s"], strict=True) if p99 > slo_s]
            row.append(f"{over[0]:.0%}" if over else "—")
        body.append(row)
    return Table(head, body, align="l" + "r" * (len(head) - 1), wide=(0,))


def batching_plot(curves: dict[str, dict], ax=None, slo_s: float | None = None):
    """Throughput (tokens/s per server) vs P99 request latency, one line per configuration
    (``{label: latency.batching_curve(...)}``)."""
    curves = check_mapping("curves", curves)
    if not curves:
        raise LabsimError("curves must hold at least one label -> latency.batching_curve() result")
    for label, d in curves.items():
        if not isinstance(label, str):
            raise LabsimError(f"curves keys must be labels (strings), got {label!r}")
        check_result(d, ("throughput_tok_s", "p99_s", "p50_s"), f"curves[{label!r}]", "latency.batching_curve()")
    if slo_s is not None:
        check_number("slo_s", slo_s, lo=0.0, lo_open=True, hi=_L.MAX_LATENCY_S, unit="s")
    fig, ax = figure_and_ax(ax, (6.5, 3.6))
    for label, d in curves.items():
        ax.plot(d["throughput_tok_s"], d["p99_s"], "o-", label=label + " P99")
        ax.plot(d["throughput_tok_s"], d["p50_s"], ":", color=ax.lines[-1].get_color(), label=label + " P50")
    if slo_s is not None:
        ax.axhline(slo_s, color="k", ls="--", lw=1)
        ax.text(0.01, slo_s, f" SLO {slo_s:g} s", va="bottom", fontsize=8, transform=ax.get_yaxis_transform())
    ax.set_xlabel("throughput (tokens/s served by one server)")
    ax.set_ylabel("request latency (s)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------------------------------------------
# the budget planner widget
#: Presets for the planner's hardware dropdown: (decode tok/s per user, $/M tokens, label). The Fig 11 rows
#: come from chapter 4 (labsim.tco.REPORT_FIG11, the report's Fig 11); "custom" uses the sliders.
def _presets() -> dict[str, tuple[float | None, float | None, str]]:
    out: dict[str, tuple[float | None, float | None, str]] = {"custom": (None, None, "sliders")}
    for col, p in L.report_fig11_points().items():
        out[col] = (p["tokens_per_s_per_user"], p["usd_per_mtok"], p["label"])
    return out


PLANNER_PRESETS = _presets()


def planner(reasoning_tokens=2000, decode_tokens_per_s=1600.0, tool_s=0.0, steps=1, fan_out=1, slo_s=1.5,
            ttft_s=0.1, network_s=0.05, jitter_sigma=0.0, quantile=0.99, usd_per_mtok=2.0, preset="custom",
            seed: int = 0) -> dict:
    """The planner widget's callback. Task = ``steps`` × (``fan_out``-way: TTFT + tokens ÷ speed + tool +
    network). ``jitter_sigma`` is a lognormal σ on TTFT, decode time and tool time (0 = deterministic).
    Returns pass/fail at ``quantile``, the latency, the largest budget that fits, tokens and $ per task."""
    preset = check_choice("preset", preset, PLANNER_PRESETS, what="hardware preset")
    speed, price, label = PLANNER_PRESETS[preset]
    speed = check_number("decode_tokens_per_s", decode_tokens_per_s, lo=1e-6, hi=_L.MAX_TOKENS_PER_S) \
        if speed is None else speed
    price = check_number("usd_per_mtok", usd_per_mtok, lo=0.0, hi=_L.MAX_USD) if price is None else price
    sigma = check_number("jitter_sigma", jitter_sigma, lo=0.0, hi=2.0)
    steps = check_int("steps", steps, lo=1, hi=200)
    fan_out = check_int("fan_out", fan_out, lo=1, hi=100)
    tool = check_number("tool_s", tool_s, lo=0.0, hi=_L.MAX_LATENCY_S, unit="s")
    ttft = check_number("ttft_s", ttft_s, lo=0.0, hi=_L.MAX_LATENCY_S, unit="s")
    network_s = check_number("network_s", network_s, lo=0.0, hi=_L.MAX_LATENCY_S, unit="s")
    reasoning_tokens = check_int("reasoning_tokens", reasoning_tokens, lo=0, hi=_L.MAX_TOKENS)

    def jit(x):
        return L.lognormal(x, sigma) if (sigma > 0 and x > 0) else x

    # keep the callback < 100 ms: about 300,000 sampled branches in all (at least 300 tasks)
    n = int(min(20_000, max(300, 300_000 // (steps * fan_out)))) if sigma > 0 else 1
    plan = L.plan_budget(slo_s, speed, quantile=quantile, steps=steps, fan_out=fan_out,
                         reasoning_tokens=reasoning_tokens, ttft_s=jit(ttft), tool_s=jit(tool), network_s=network_s,
                         decode_sigma=sigma, usd_per_mtok=price, n_samples=n, seed=seed)
    median_step = ttft + reasoning_tokens / speed + tool + network_s
    return {"meets_slo": plan.meets_slo, "latency_s": plan.latency_s, "slo_s": plan.slo_s, "quantile": plan.quantile,
            "max_reasoning_tokens": plan.max_reasoning_tokens, "feasible": plan.feasible,
            "tokens_per_task": plan.tokens_per_task, "cost_per_task_usd": plan.cost_per_task_usd,
            "decode_tokens_per_s": speed, "usd_per_mtok": price, "hardware": label,
            "breakdown_s": {"time to first token": ttft, "reasoning tokens": reasoning_tokens / speed,
                            "tool call": tool, "network": network_s},
            "median_step_s": median_step, "samples": n, "steps": steps, "fan_out": fan_out}


_PLANNER_KEYS = ("meets_slo", "latency_s", "slo_s", "quantile", "max_reasoning_tokens", "feasible", "tokens_per_task",
                 "cost_per_task_usd", "decode_tokens_per_s", "usd_per_mtok", "hardware", "breakdown_s", "steps")


def planner_text(r: dict) -> str:
    check_result(r, _PLANNER_KEYS, made_by="planner()")
    q = f"P{r['quantile'] * 100:g}"
    verdict = "✓ meets" if r["meets_slo"] else "✗ misses"
    most = (f"largest budget that fits: {r['max_reasoning_tokens']:,} tokens per step" if r["feasible"]
            else "no budget fits: the fixed costs alone exceed the SLO")
    return (f"{verdict} the SLO — task {q} = {r['latency_s'] * 1e3:,.0f} ms vs {r['slo_s'] * 1e3:,.0f} ms\n"
            f"{most}\n"
            f"hardware: {r['hardware']} — {r['decode_tokens_per_s']:,.0f} tok/s per user, "
            f"USD {r['usd_per_mtok']:.2f} per M tokens\n"
            f"{r['tokens_per_task']:,} generated tokens per task → USD {r['cost_per_task_usd']:.4f} per task "
            f"(USD {r['cost_per_task_usd'] * 1000:.2f} per 1,000 tasks)")


def _nice_step(span: float) -> float:
    raw = span / 5 if span > 0 else 1.0
    mag = 10 ** np.floor(np.log10(raw))
    return float(min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=10 * mag))


def _ms_or_s(sec: float) -> str:
    return f"{sec * 1e3:,.0f} ms" if sec < 10 else f"{sec:,.1f} s"


def planner_bar_svg(r: dict, width: int = 720) -> str:
    """The widget's picture, as an SVG string (no matplotlib, so a slider move redraws in well under 1 ms): one
    median step stacked by component, the SLO share per step (SLO ÷ steps) as a dashed line, a seconds axis."""
    check_result(r, _PLANNER_KEYS, made_by="planner()")
    width = check_int("width", width, lo=200, hi=4000)
    parts = [(k, float(v)) for k, v in r["breakdown_s"].items()]
    per_step = r["slo_s"] / r["steps"]
    total = sum(v for _, v in parts)
    top = max(total, per_step, 1e-3) * 1.08
    step = _nice_step(top)
    x0, x1, y0, bar_h = 10, width - 80, 28, 26      # 80 px on the right for the total's label
    sx = (x1 - x0) / top
    colors = {"time to first token": "#dd8452", "reasoning tokens": "#4c72b0", "tool call": "#8c8c8c",
              "network": "#55a868"}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="118" font-family="sans-serif" '
           f'font-size="11">']
    left = x0
    for name, sec in parts:
        w = sec * sx
        if w > 0:
            out.append(f'<rect x="{left:.1f}" y="{y0}" width="{w:.1f}" height="{bar_h}" '
                       f'fill="{colors.get(name, "#b0b0b0")}" stroke="white"><title>{name}: {sec * 1e3:,.0f} ms'
                       f'</title></rect>')
        left += w
    xs = x0 + per_step * sx
    out.append(f'<line x1="{xs:.1f}" x2="{xs:.1f}" y1="{y0 - 12}" y2="{y0 + bar_h + 4}" stroke="black" '
               f'stroke-dasharray="4,3"/>')
    anchor = "end" if xs > x0 + 0.7 * (x1 - x0) else "start"
    out.append(f'<text x="{xs + (-3 if anchor == "end" else 3):.1f}" y="{y0 - 4}" text-anchor="{anchor}">'
               f'SLO ÷ steps = {_ms_or_s(per_step)}</text>')
    out.append(f'<text x="{left + 4:.1f}" y="{y0 + 17}" font-weight="bold" stroke="white" stroke-width="3" '
               f'paint-order="stroke">{_ms_or_s(total)}</text>')
    ya = y0 + bar_h + 4
    out.append(f'<line x1="{x0}" x2="{x1}" y1="{ya}" y2="{ya}" stroke="#444"/>')
    t = 0.0
    while t <= top + 1e-12:
        xt = x0 + t * sx
        out.append(f'<line x1="{xt:.1f}" x2="{xt:.1f}" y1="{ya}" y2="{ya + 4}" stroke="#444"/>'
                   f'<text x="{xt:.1f}" y="{ya + 15}" text-anchor="middle">{t:g}</text>')
        t += step
    out.append(f'<text x="{(x0 + x1) / 2:.0f}" y="{ya + 29}" text-anchor="middle">seconds (one median step; '
               f'each segment is a component)</text>')
    lx = x0
    for name, _ in parts:
        out.append(f'<rect x="{lx}" y="{ya + 37}" width="10" height="10" fill="{colors.get(name, "#b0b0b0")}"/>'
                   f'<text x="{lx + 14}" y="{ya + 46}">{name}</text>')
        lx += 30 + 7 * len(name)
    out.append("</svg>")
    return "".join(out)


def make_planner_widget():
    """Controls: hardware preset, tokens, speed, TTFT, tool, network, steps, fan-out, SLO, percentile, jitter,
    price → pass/fail, the largest budget and $/task (``planner_text``) and a stacked bar of one median step
    (``planner_bar_svg``). Wired with ``observe``: a move recomputes ``planner`` and rewrites two HTML strings —
    no output area to clear and no figure to render, so it answers in milliseconds.

    The sliders always show what is computed: picking a Fig 11 preset moves the speed and price sliders to that
    column's values, and moving either slider afterwards switches the preset back to "custom"."""
    style = {"description_width": "170px"}
    lay = W.Layout(width="470px")
    controls = dict(
        preset=W.Dropdown(options=list(PLANNER_PRESETS), value="custom", description="hardware (Fig 11)",
                          style=style, layout=lay),
        reasoning_tokens=W.IntSlider(value=2000, min=0, max=20_000, step=100, description="reasoning tokens/step",
                                     style=style, layout=lay),
        # named speeds (not a log slider, whose steps would snap 1,600 to 1,585): Fig 11's 30, 420 and 500 tok/s,
        # chapter 3's ≈ 40 / 210 / 410, the report's 1,600
        decode_tokens_per_s=W.SelectionSlider(options=[10.0, 20.0, 30.0, 40.0, 50.0, 100.0, 200.0, 300.0, 420.0,
                                                       500.0, 800.0, 1000.0, 1600.0, 2000.0, 3000.0, 5000.0,
                                                       10000.0],
                                              value=1600.0, description="decode tok/s per user", style=style,
                                              layout=lay),
        ttft_s=W.FloatSlider(value=0.1, min=0.0, max=2.0, step=0.05, description="time to first token (s)",
                             style=style, layout=lay),
        tool_s=W.FloatSlider(value=0.0, min=0.0, max=5.0, step=0.05, description="tool call (s)", style=style,
                             layout=lay),
        network_s=W.FloatSlider(value=0.05, min=0.0, max=0.5, step=0.01, description="network (s)", style=style,
                                layout=lay),
        steps=W.IntSlider(value=1, min=1, max=50, description="steps (chain)", style=style, layout=lay),
        fan_out=W.IntSlider(value=1, min=1, max=20, description="fan-out per step", style=style, layout=lay),
        slo_s=W.FloatSlider(value=1.5, min=0.1, max=60.0, step=0.1, description="SLO (s)", style=style, layout=lay),
        quantile=W.Dropdown(options=[0.5, 0.9, 0.99, 0.999], value=0.99, description="SLO percentile",
                            style=style, layout=lay),
        jitter_sigma=W.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.05, description="jitter σ (lognormal)",
                                   style=style, layout=lay),
        # step 0.01: Fig 11's printed prices (5.20, 0.57, 1.94, 3.48 USD) are slider positions
        usd_per_mtok=W.FloatSlider(value=2.0, min=0.1, max=20.0, step=0.01, description="USD per M tokens",
                                   style=style, layout=lay),
    )
    text = W.HTML()
    picture = W.HTML()

    def show(**kw):
        r = planner(**kw)
        text.value = pre(planner_text(r))
        picture.value = planner_bar_svg(r)
        return r

    box = wire(controls, show, [text, picture])
    speed, price, preset = controls["decode_tokens_per_s"], controls["usd_per_mtok"], controls["preset"]
    syncing = [False]

    def preset_to_sliders(change):
        tok_s, usd, _ = PLANNER_PRESETS[change["new"]]
        if tok_s is None:
            return
        syncing[0] = True
        try:
            speed.value = min(speed.options, key=lambda o: abs(o - tok_s))
            price.value = round(usd, 2)
        finally:
            syncing[0] = False

    def slider_to_custom(_):
        if not syncing[0] and preset.value != "custom":
            preset.value = "custom"

    preset.observe(preset_to_sliders, names="value")
    speed.observe(slider_to_custom, names="value")
    price.observe(slider_to_custom, names="value")
    return box
