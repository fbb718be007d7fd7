"""Chapter 4 plots and widget: what a token costs.

* ``waterfall`` — capex and hosting turned into $/M tokens, one bar per cost source (labsim.tco.cost_breakdown).
* ``breakdown_bars`` — the same split for several systems side by side (the four Fig 11 columns).
* ``annuity_plot`` — interest vs principal month by month, against straight-line C/n.
* ``tornado_plot`` / ``mc_histogram`` — sensitivity (labsim.tco.tornado / monte_carlo).
* ``explore`` — the widget's callback: shared Fig 11 inputs → $/M tokens and J/token for all four columns
  (a plain function returning a dict, < 1 ms); ``make_tco_widget()`` wraps it in ipywidgets.
"""
from __future__ import annotations

import numpy as np

from .. import tco
from ..errors import check_array, check_number, check_positive

__all__ = ["waterfall", "breakdown_bars", "annuity_plot", "tornado_plot", "mc_histogram", "explore",
           "explore_text", "make_tco_widget"]

_COLORS = {"capital: principal (month 1)": "#4c72b0", "capital: interest (month 1)": "#8da0cb",
           "electricity × utilization × PUE": "#dd8452", "colocation": "#c9a66b"}


def _ax(ax, figsize=(7, 4)):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    return ax.figure, ax


def waterfall(inputs: tco.TcoInputs, ax=None, title: str | None = None):
    """Waterfall from capex to $/M tokens: each cost source adds its $/M, the last bar is the total."""
    res = tco.evaluate(inputs)
    parts = tco.cost_breakdown(res)
    fig, ax = _ax(ax)
    bottom = 0.0
    names = list(parts)
    for i, (name, val) in enumerate(parts.items()):
        ax.bar(i, val, bottom=bottom, color=_COLORS[name], edgecolor="k", linewidth=0.5)
        ax.text(i, bottom + val / 2, f"{val:.2f}", ha="center", va="center", fontsize=8)
        bottom += val
    ax.bar(len(names), res.usd_per_mtok, color="#55a868", edgecolor="k", linewidth=0.5)
    ax.text(len(names), res.usd_per_mtok, f"{res.usd_per_mtok:.2f}", ha="center", va="bottom", fontsize=9)
    ax.set_xticks(range(len(names) + 1))
    ax.set_xticklabels([n.replace(": ", ":\n").replace(" × ", "\n× ", 1) for n in names] + ["total"], fontsize=8)
    ax.set_ylabel("USD per million tokens")
    ax.set_title(title or f"From capex to $/M tokens — {inputs.label or 'system'}", fontsize=10)
    fig.tight_layout()
    return fig


def breakdown_bars(systems: dict[str, tco.TcoInputs] | None = None, ax=None):
    """Stacked horizontal bars of the $/M tokens split for several systems (default: the four Fig 11 columns)."""
    systems = tco.REPORT_FIG11 if systems is None else systems
    fig, ax = _ax(ax, (7, 3))
    for i, (name, inp) in enumerate(systems.items()):
        left = 0.0
        for part, val in tco.cost_breakdown(inp).items():
            ax.barh(i, val, left=left, color=_COLORS[part], edgecolor="k", linewidth=0.4,
                    label=part if i == 0 else None)
            left += val
        ax.text(left, i, f" {left:.2f}", va="center", fontsize=8)
    ax.set_yticks(range(len(systems)))
    ax.set_yticklabels(list(systems))
    ax.invert_yaxis()
    ax.set_xlabel("USD per million tokens")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def annuity_plot(capex_usd: float = 350_000, cost_of_capital: float = 0.18, life_years: float = 5.0, ax=None):
    """Monthly interest and principal of the annuity (stacked) vs straight-line capex C/n."""
    s = tco.annuity_schedule(capex_usd, cost_of_capital, life_years)
    fig, ax = _ax(ax)
    m = s["month"]
    ax.stackplot(m, s["principal_usd"], s["interest_usd"], labels=["principal", "interest"],
                 colors=["#4c72b0", "#8da0cb"])
    ax.plot(m, s["straight_line_usd"], "k--", label="straight-line C/n")
    ax.plot(1, s["principal_usd"][0], "ro", label="month 1 principal = report's 'amortised capex'")
    ax.set_xlabel("month")
    ax.set_ylabel("USD per month")
    ax.set_title(f"Annuity on ${capex_usd:,.0f} at {cost_of_capital:.0%}/year over {life_years:g} years", fontsize=10)
    ax.legend(fontsize=7, loc="center right")
    fig.tight_layout()
    return fig


def tornado_plot(bars: list[tco.TornadoBar], ax=None, unit: str = "USD per million tokens"):
    """Horizontal tornado: each input's low/high end moves the output from the base value."""
    fig, ax = _ax(ax, (7, 0.45 * len(bars) + 1.2))
    base = bars[0].base_output if bars else 0.0
    for i, b in enumerate(bars):
        ax.barh(i, b.output_at_low - base, left=base, color="#4c72b0")
        ax.barh(i, b.output_at_high - base, left=base, color="#dd8452")
    ax.axvline(base, color="k", lw=0.8)
    ax.set_yticks(range(len(bars)))
    ax.set_yticklabels([f"{b.field}  [{b.low_input:.3g} … {b.high_input:.3g}]" for b in bars], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(unit)
    ax.set_title("one-at-a-time sensitivity (blue: input at low end, orange: at high end)", fontsize=9)
    fig.tight_layout()
    return fig


def mc_histogram(mc: tco.MonteCarloResult, ax=None, bins: int = 120, unit: str = "USD per million tokens"):
    """Histogram of Monte Carlo samples with the 5th, 50th and 95th percentiles marked."""
    fig, ax = _ax(ax)
    ax.hist(mc.samples, bins=bins, density=True, color="#8da0cb")
    for p, v in mc.percentiles((5, 50, 95)).items():
        ax.axvline(v, color="k", ls=":" if p != 50 else "-", lw=1)
        ax.text(v, ax.get_ylim()[1] * 0.95, f"P{p:g}\n{v:.2f}", ha="center", va="top", fontsize=8)
    ax.set_xlabel(unit)
    ax.set_ylabel("density")
    ax.set_title(f"Monte Carlo, {mc.samples.size:,} samples, seed {mc.seed}", fontsize=10)
    fig.tight_layout()
    return fig


def explore(electricity_usd_per_kwh: float = 0.087, utilization: float = 0.80, pue: float = 1.25,
            cost_of_capital: float = 0.18, life_years: float = 5.0, colocation_usd_per_kw_month: float = 190.0,
            groq_batch: float = 3.0, utilization_derates_tokens: bool = False) -> dict[str, dict]:
    """Widget callback: apply the shared inputs to all four Fig 11 columns (and ``groq_batch`` to the two Groq
    columns) and return, per column, $/M tokens, its breakdown, J/token and capital share. One vectorised call."""
    check_positive("groq_batch", groq_batch)
    check_number("utilization", utilization, lo=0.0, hi=1.0, lo_open=True)
    cols = tco.COLUMNS
    base = {k: np.array([float(getattr(tco.REPORT_FIG11[c], k)) for c in cols]) for k in tco.FIELDS}
    base["batch"] = np.array([groq_batch if c.startswith("groq") else base["batch"][i] for i, c in enumerate(cols)])
    shared = dict(electricity_usd_per_kwh=electricity_usd_per_kwh, utilization=utilization, pue=pue,
                  cost_of_capital=cost_of_capital, life_years=life_years,
                  colocation_usd_per_kw_month=colocation_usd_per_kw_month)
    for k, v in shared.items():
        check_array(k, v)
    inputs = tco.TcoInputs(**{**base, **shared}, utilization_derates_tokens=bool(utilization_derates_tokens))
    res = tco.evaluate(inputs)
    parts = tco.cost_breakdown(res)
    out = {}
    for i, c in enumerate(cols):
        out[c] = {"usd_per_mtok": float(res.usd_per_mtok[i]), "j_per_token": float(res.j_per_token[i]),
                  "j_per_token_with_pue": float(res.j_per_token_with_pue[i]),
                  "capital_share": float(res.capital_share[i]),
                  "breakdown": {k: float(v[i]) for k, v in parts.items()}}
    return out


def explore_text(result: dict[str, dict]) -> str:
    """Fixed-width table of an ``explore`` result."""
    lines = [f"{'system':<16}{'$/M tokens':>12}{'capital share':>15}{'J/token':>10}{'J/token ×PUE':>14}"]
    for c, r in result.items():
        lines.append(f"{c:<16}{r['usd_per_mtok']:>12.3f}{r['capital_share']:>15.1%}{r['j_per_token']:>10.2f}"
                     f"{r['j_per_token_with_pue']:>14.2f}")
    return "\n".join(lines)


def make_tco_widget():
    """Sliders over the shared Fig 11 inputs; shows the table and stacked $/M bars for the four columns."""
    import ipywidgets as W
    import matplotlib.pyplot as plt

    def show(electricity_usd_per_kwh, utilization, pue, cost_of_capital, life_years, colocation_usd_per_kw_month,
             groq_batch, utilization_derates_tokens):
        r = explore(electricity_usd_per_kwh, utilization, pue, cost_of_capital, life_years,
                    colocation_usd_per_kw_month, groq_batch, utilization_derates_tokens)
        print(explore_text(r))
        fig, ax = plt.subplots(figsize=(7, 2.8))
        for i, (c, row) in enumerate(r.items()):
            left = 0.0
            for part, val in row["breakdown"].items():
                ax.barh(i, val, left=left, color=_COLORS[part], label=part if i == 0 else None)
                left += val
        ax.set_yticks(range(len(r)))
        ax.set_yticklabels(list(r))
        ax.invert_yaxis()
        ax.set_xlabel("USD per million tokens")
        ax.legend(fontsize=7, loc="lower right")
        fig.tight_layout()
        plt.show()

    style = {"description_width": "190px"}
    lay = W.Layout(width="480px")
    return W.interactive(
        show,
        electricity_usd_per_kwh=W.FloatSlider(value=0.087, min=0.02, max=0.30, step=0.005, readout_format=".3f",
                                              description="electricity $/kWh", style=style, layout=lay),
        utilization=W.FloatSlider(value=0.80, min=0.05, max=1.0, step=0.05, description="utilization",
                                  style=style, layout=lay),
        pue=W.FloatSlider(value=1.25, min=1.0, max=2.0, step=0.05, description="PUE", style=style, layout=lay),
        cost_of_capital=W.FloatSlider(value=0.18, min=0.0, max=0.40, step=0.01, description="cost of capital /yr",
                                      style=style, layout=lay),
        life_years=W.FloatSlider(value=5.0, min=1.0, max=10.0, step=0.5, description="life (years)",
                                 style=style, layout=lay),
        colocation_usd_per_kw_month=W.FloatSlider(value=190.0, min=0.0, max=400.0, step=10.0,
                                                  description="colocation $/kW/month", style=style, layout=lay),
        groq_batch=W.IntSlider(value=3, min=1, max=32, description="Groq batch per stage", style=style, layout=lay),
        utilization_derates_tokens=W.Checkbox(value=False, description="utilization also derates tokens"),
    )
