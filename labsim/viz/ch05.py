"""Chapter 5 plots and widget: the agentic latency budget.

* ``gantt`` — stacked bars (median of each component) of voice turns / agent steps, threshold lines drawn.
* ``chain_fanout_plot`` — 1 − (1 − p)^k for chains and fan-outs, with Monte Carlo dots on top.
* ``hardware_tails`` / ``hardware_tails_plot`` — P50/P99 of a k-step chain on deterministic vs jittery hardware.
* ``queue_curves`` / ``queue_plot`` — mean and P99 queue wait vs load for service CVs 0, 0.5, 1 (simulated vs
  Pollaczek–Khinchine).
* ``batching_plot`` — throughput–latency curves from ``labsim.latency.batching_curve``.
* ``planner`` — the widget's callback (numbers in → dict out: pass/fail, quantile latency, largest budget, $/task);
  ``planner_text`` formats it; ``make_planner_widget()`` wraps it in ipywidgets.
"""
from __future__ import annotations

import numpy as np

from .. import latency as L
from ..errors import check_choice, check_int, check_number, check_positive

__all__ = ["gantt", "chain_fanout_plot", "hardware_tails", "hardware_tails_plot", "queue_curves", "queue_plot",
           "batching_plot", "planner", "planner_text", "PLANNER_PRESETS", "make_planner_widget"]

_CAT_COLORS = {"queue": "#c44e52", "prefill": "#dd8452", "decode": "#4c72b0", "tool": "#8c8c8c",
               "network": "#55a868", "speech": "#8172b3", "other": "#b0b0b0"}
_SHORT = {"instant": "instant", "conversational_gap": "turn gap", "doherty": "Doherty", "voice_turn": "voice turn",
          "flow": "flow", "onscreen_agent_step": "agent step", "attention": "attention"}
_THRESH_STYLE = {"instant": ":", "conversational_gap": "--", "doherty": "-.", "voice_turn": "-",
                 "flow": "--", "onscreen_agent_step": "-.", "attention": ":"}


def _ax(ax, figsize=(8, 3.5)):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    return ax.figure, ax


def gantt(steps, thresholds=("conversational_gap", "voice_turn", "flow", "onscreen_agent_step"), ax=None,
          title: str = "Where the time goes (median of each component)"):
    """One horizontal stacked bar per step (a ``Step`` or a dict label → Step); each segment is a component's
    median, labelled when wide enough; vertical lines at the named thresholds."""
    if isinstance(steps, L.Step):
        steps = {steps.name: steps}
    elif not isinstance(steps, dict):
        steps = {s.name: s for s in steps}
    names = list(thresholds)
    table = L.thresholds()
    for n in names:
        check_choice("threshold", n, table, what="threshold")
    fig, ax = _ax(ax, (9, 1.4 + 0.75 * len(steps)))
    longest = 0.0
    seen = set()
    for i, (label, step) in enumerate(steps.items()):
        left = 0.0
        for name, sec, cat in step.breakdown():
            if sec <= 0:
                continue
            ax.barh(i, sec, left=left, color=_CAT_COLORS.get(cat, "#b0b0b0"), edgecolor="white", linewidth=0.8,
                    label=cat if cat not in seen else None)
            seen.add(cat)
            left += sec
        longest = max(longest, left)
        ax.text(left, i, f"  {left * 1e3:,.0f} ms", va="center", fontsize=8)
    for i, (label, step) in enumerate(steps.items()):
        left = 0.0
        for name, sec, cat in step.breakdown():
            if sec <= 0:
                continue
            if sec > 0.06 * max(longest, 1e-9):
                ax.text(left + sec / 2, i, name.replace(" / ", "/\n", 1) if len(name) > 14 else name,
                        ha="center", va="center", fontsize=6.5, color="white")
            left += sec
    top = max(longest * 1.15, max(table[n].seconds for n in names) * 1.05 if names else 0)
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
    fig, ax = _ax(ax, (8.5, 3.6))
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
    fig, ax = _ax(ax, (6.5, 3.4))
    for name, d in data.items():
        ax.plot(d["steps"], d["p99_s"] / d["p50_s"], "o-", label=d["display_name"])
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("steps in the chain (k)")
    ax.set_ylabel("task P99 / P50")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def queue_curves(loads=(0.3, 0.5, 0.7, 0.8, 0.9), cvs=(0.0, 0.5, 1.0), service_mean_s: float = 1.0,
                 customers: int = 200_000, seed: int = 0) -> dict[float, dict[str, np.ndarray]]:
    """Simulated mean and P99 queue waits vs load for each service CV, with the P–K mean alongside."""
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
    import matplotlib.pyplot as plt

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
    axes[1].set_title("P99 wait (simulated)", fontsize=9)
    for a in axes:
        a.set_xlabel("load ρ = arrival rate × service time")
        a.set_ylabel("wait / mean service time")
        a.set_yscale("log")
        a.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def batching_plot(curves: dict[str, dict], ax=None, slo_s: float | None = None):
    """Throughput (tokens/s per server) vs P99 request latency, one line per configuration
    (``{label: latency.batching_curve(...)}``)."""
    fig, ax = _ax(ax, (6.5, 3.6))
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
#: come from chapter 4 (labsim.tco.REPORT_FIG11, seed 001 Fig 11); "custom" uses the sliders.
def _presets() -> dict[str, tuple[float | None, float | None, str]]:
    out: dict[str, tuple[float | None, float | None, str]] = {"custom": (None, None, "sliders")}
    try:
        for col, p in L.report_fig11_points().items():
            out[col] = (p["tokens_per_s_per_user"], p["usd_per_mtok"], p["label"])
    except Exception:  # chapter 4 not installed: the sliders still work
        pass
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
    speed = check_positive("decode_tokens_per_s", decode_tokens_per_s) if speed is None else speed
    price = check_number("usd_per_mtok", usd_per_mtok, lo=0.0) if price is None else price
    sigma = check_number("jitter_sigma", jitter_sigma, lo=0.0, hi=2.0)
    steps = check_int("steps", steps, lo=1, hi=200)
    fan_out = check_int("fan_out", fan_out, lo=1, hi=100)
    tool = check_number("tool_s", tool_s, lo=0.0)
    ttft = check_number("ttft_s", ttft_s, lo=0.0)

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
            "median_step_s": median_step, "samples": n}


def planner_text(r: dict) -> str:
    q = f"P{r['quantile'] * 100:g}"
    verdict = "✓ meets" if r["meets_slo"] else "✗ misses"
    most = (f"largest budget that fits: {r['max_reasoning_tokens']:,} tokens per step" if r["feasible"]
            else "no budget fits: the fixed costs alone exceed the SLO")
    return (f"{verdict} the SLO — task {q} = {r['latency_s'] * 1e3:,.0f} ms vs {r['slo_s'] * 1e3:,.0f} ms\n"
            f"{most}\n"
            f"hardware: {r['hardware']} — {r['decode_tokens_per_s']:,.0f} tok/s per user, "
            f"${r['usd_per_mtok']:.2f} per M tokens\n"
            f"{r['tokens_per_task']:,} generated tokens per task → ${r['cost_per_task_usd']:.4f} per task "
            f"(${r['cost_per_task_usd'] * 1000:.2f} per 1,000 tasks)")


def make_planner_widget():
    """Sliders: tokens, speed, tool latency, steps, fan-out, SLO, jitter, price, hardware preset →
    pass/fail, the largest budget and $/task, plus a stacked bar of one median step."""
    import ipywidgets as W
    import matplotlib.pyplot as plt

    def show(preset, reasoning_tokens, decode_tokens_per_s, ttft_s, tool_s, network_s, steps, fan_out, slo_s,
             quantile, jitter_sigma, usd_per_mtok):
        r = planner(reasoning_tokens, decode_tokens_per_s, tool_s, steps, fan_out, slo_s, ttft_s, network_s,
                    jitter_sigma, quantile, usd_per_mtok, preset)
        print(planner_text(r))
        fig, ax = plt.subplots(figsize=(8, 1.6))
        left = 0.0
        colors = ["#dd8452", "#4c72b0", "#8c8c8c", "#55a868"]
        for (name, sec), c in zip(r["breakdown_s"].items(), colors):
            ax.barh(0, sec, left=left, color=c, label=name)
            left += sec
        ax.axvline(slo_s / steps, color="k", ls="--", lw=1, label="SLO ÷ steps")
        ax.set_yticks([])
        ax.set_xlabel("seconds (one median step)")
        ax.legend(fontsize=7, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.5))
        fig.tight_layout()
        plt.show()

    style = {"description_width": "170px"}
    lay = W.Layout(width="470px")
    return W.interactive(
        show,
        preset=W.Dropdown(options=list(PLANNER_PRESETS), value="custom", description="hardware (Fig 11)",
                          style=style, layout=lay),
        reasoning_tokens=W.IntSlider(value=2000, min=0, max=20_000, step=100, description="reasoning tokens/step",
                                     style=style, layout=lay),
        decode_tokens_per_s=W.FloatLogSlider(value=1600, base=10, min=1, max=4, step=0.05,
                                             description="decode tok/s per user", style=style, layout=lay),
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
        usd_per_mtok=W.FloatSlider(value=2.0, min=0.1, max=20.0, step=0.1, description="$ per M tokens",
                                   style=style, layout=lay),
    )
