"""Chapter 4 plots and widget: what a token costs.

* ``waterfall`` — capex and hosting turned into $/M tokens, one bar per cost source (labsim.tco.cost_breakdown).
* ``breakdown_bars`` — the same split for several systems side by side (the four Fig 11 columns).
* ``annuity_plot`` — interest vs principal month by month, against straight-line C/n.
* ``utilization_plot`` — $/M tokens vs utilization, applied to power only or to power and tokens.
* ``tornado_plot`` / ``mc_histogram`` — sensitivity (labsim.tco.tornado / monte_carlo).
* ``inputs_table`` — one column of Fig 11 as model inputs, each with its readable source.
* ``explore`` — the widget's callback: shared Fig 11 inputs → $/M tokens and J/token for all four columns
  (a plain function returning a dict, < 1 ms); ``ExploreView`` draws its stacked bars (static parts drawn once,
  only the bars, the x axis and the totals redrawn per move); ``make_tco_widget()`` wraps both in ipywidgets.
"""
from __future__ import annotations

import io

import ipywidgets as W
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from PIL import Image

from .. import tco
from ..errors import (
    LabsimError,
    check_bool,
    check_mapping,
    check_number,
    check_text,
)
from ..sources import cite
from ..table import Table
from ._widgets import (
    check_bins,
    check_dpi,
    check_figsize,
    check_names,
    check_result,
    check_title,
    figure_and_ax,
    pre,
    wire,
)

__all__ = ["inputs_table", "waterfall", "breakdown_bars", "annuity_plot", "utilization_plot", "tornado_plot",
           "mc_histogram", "explore", "explore_text", "ExploreView", "make_tco_widget"]

_COLORS = {"capital: principal (month 1)": "#4c72b0", "capital: interest (month 1)": "#8da0cb",
           "electricity × utilization × PUE": "#dd8452", "colocation": "#c9a66b"}


def inputs_table(inputs: tco.TcoInputs) -> Table:
    """Every model input of ``inputs`` (e.g. ``tco.REPORT_FIG11["groq-cost"]``) with its value and readable source
    (the Fig 11 row and column it was copied from): aligned text when printed, an HTML table in a notebook."""
    if not isinstance(inputs, tco.TcoInputs):
        raise LabsimError(f"inputs must be a labsim.tco.TcoInputs, got {type(inputs).__name__}")
    if any(np.ndim(getattr(inputs, f)) for f in tco.FIELDS):
        raise LabsimError("inputs must describe one system (scalar fields), not an array of them")

    def fmt(v) -> str:
        v = float(v)
        return f"{v:,.0f}" if v.is_integer() else f"{v:,.6g}"

    body = [(name, fmt(getattr(inputs, name)), cite(inputs.sources.get(name, "")) or "—") for name in tco.FIELDS]
    return Table(("input", "value", "source"), body, align="lrl", wide=(2,), title=inputs.label or None)


def waterfall(inputs: tco.TcoInputs, ax=None, title: str | None = None):
    """Waterfall from capex to $/M tokens: each cost source adds its $/M, the last bar is the total."""
    check_title(title)
    if not isinstance(inputs, tco.TcoInputs):
        raise LabsimError(f"inputs must be a labsim.tco.TcoInputs, got {type(inputs).__name__}")
    res = tco.evaluate(inputs)
    if np.ndim(res.usd_per_mtok):
        raise LabsimError("inputs must describe one system (scalar fields), not an array of them")
    parts = tco.cost_breakdown(res)
    fig, ax = figure_and_ax(ax, (7, 4))
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


def _systems(systems) -> dict[str, tco.TcoInputs]:
    systems = check_mapping("systems", systems)
    if not systems:
        raise LabsimError("systems must hold at least one label -> TcoInputs")
    for k, v in systems.items():
        if not isinstance(v, tco.TcoInputs) or np.ndim(tco.evaluate(v).usd_per_mtok):
            raise LabsimError(f"systems[{k!r}] must be a TcoInputs of one system (scalar fields), got {v!r}")
    return systems


def breakdown_bars(systems: dict[str, tco.TcoInputs] | None = None, ax=None):
    """Stacked horizontal bars of the $/M tokens split for several systems (default: the four Fig 11 columns)."""
    systems = tco.REPORT_FIG11 if systems is None else _systems(systems)
    fig, ax = figure_and_ax(ax, (7.5, 3.4))
    total_max = 0.0
    for i, inp in enumerate(systems.values()):
        left = 0.0
        for part, val in tco.cost_breakdown(inp).items():
            ax.barh(i, val, left=left, color=_COLORS[part], edgecolor="k", linewidth=0.4,
                    label=part if i == 0 else None)
            left += val
        ax.text(left, i, f" {left:.2f}", va="center", fontsize=8)
        total_max = max(total_max, left)
    ax.set_yticks(range(len(systems)))
    ax.set_yticklabels(list(systems))
    ax.invert_yaxis()
    ax.set_xlim(0, total_max * 1.1)
    ax.set_xlabel("USD per million tokens")
    ax.set_title("Where the cost of a token goes (Fig 11 inputs, labsim.tco)", fontsize=10)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, frameon=False)
    fig.tight_layout()
    return fig


def annuity_plot(capex_usd: float = 350_000, cost_of_capital: float = 0.18, life_years: float = 5.0, ax=None):
    """Monthly interest and principal of the annuity (stacked) vs straight-line capex C/n."""
    s = tco.annuity_schedule(capex_usd, cost_of_capital, life_years)
    fig, ax = figure_and_ax(ax, (7, 4))
    m = s["month"]
    ax.stackplot(m, s["principal_usd"], s["interest_usd"], labels=["principal", "interest"],
                 colors=["#4c72b0", "#8da0cb"])
    ax.plot(m, s["straight_line_usd"], "k--", label="straight-line C/n")
    ax.plot(1, s["principal_usd"][0], "ro", label="month 1 principal = report's 'amortized capex'")
    ax.set_xlabel("month")
    ax.set_ylabel("USD per month")
    ax.set_xlim(0, m[-1] + 1)
    ax.set_title(f"Annuity on {capex_usd:,.0f} USD at {cost_of_capital:.0%}/year over {life_years:g} years: "
                 f"level payment {s['payment_usd'][0]:,.0f} USD/month", fontsize=10)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    fig.tight_layout()
    return fig


def utilization_plot(columns=("gpu-throughput", "groq-cost"), ax=None):
    """$/M tokens vs utilization for Fig 11 columns: utilization on the power bill only (the report's choice,
    solid) or on power and token output (dashed). One vectorized ``tco.evaluate`` per curve."""
    columns = check_names("columns", columns, tco.COLUMNS, "Fig 11 column")
    u = np.linspace(0.1, 1.0, 91)
    fig, ax = figure_and_ax(ax, (7, 3.6))
    for i, col in enumerate(columns):
        inp = tco.REPORT_FIG11[col]
        color = f"C{i}"
        ax.plot(u, tco.evaluate(inp.replace(utilization=u)).usd_per_mtok, color=color,
                label=f"{col}: utilization on power only")
        ax.plot(u, tco.evaluate(inp.replace(utilization=u, utilization_derates_tokens=True)).usd_per_mtok, "--",
                color=color, label=f"{col}: on power and tokens")
    ax.axvline(float(tco.REPORT_FIG11[columns[0]].utilization), color="0.5", lw=0.8, ls=":")
    ax.set_xlabel("utilization (fraction of the month the system is busy)")
    ax.set_ylabel("USD per million tokens (log)")
    ax.set_yscale("log")
    ax.set_title("Where utilization enters: the power bill, or also the token output?", fontsize=10)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return fig


def tornado_plot(bars: list[tco.TornadoBar], ax=None, unit: str = "USD per million tokens"):
    """Horizontal tornado: each input's low/high end moves the output from the base value."""
    if isinstance(bars, (str, bytes)) or not isinstance(bars, (list, tuple)) or not bars \
            or not all(isinstance(b, tco.TornadoBar) for b in bars):
        raise LabsimError(f"bars must be the non-empty list tco.tornado() returns, got {bars!r}")
    check_text("unit", unit, max_chars=100)
    fig, ax = figure_and_ax(ax, (7.5, 0.45 * len(bars) + 1.6))
    base = bars[0].base_output if bars else 0.0
    for i, b in enumerate(bars):
        ax.barh(i, b.output_at_low - base, left=base, color="#4c72b0")
        ax.barh(i, b.output_at_high - base, left=base, color="#dd8452")
    ax.axvline(base, color="k", lw=0.8)
    ax.set_yticks(range(len(bars)))
    ax.set_yticklabels([f"{b.field}  [{b.low_input:.3g} … {b.high_input:.3g}]" for b in bars], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(unit)
    ax.set_title(f"One-at-a-time sensitivity around the base case ({base:.2f})", fontsize=10)
    ax.legend(handles=[Patch(color="#4c72b0", label="input at the low end of its range"),
                       Patch(color="#dd8452", label="input at the high end"),
                       Patch(color="k", label=f"base case: {base:.2f}")], fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def mc_histogram(mc: tco.MonteCarloResult, ax=None, bins: int = 120, unit: str = "USD per million tokens"):
    """Histogram of all Monte Carlo samples with the 5th, 50th and 95th percentiles marked (in the legend)."""
    if not isinstance(mc, tco.MonteCarloResult):
        raise LabsimError(f"mc must be the MonteCarloResult tco.monte_carlo() returns, got {type(mc).__name__}")
    bins = check_bins(bins)
    check_text("unit", unit, max_chars=100)
    fig, ax = figure_and_ax(ax, (7, 4))
    ax.hist(mc.samples, bins=bins, density=True, color="#8da0cb")
    styles = {5: ":", 50: "-", 95: "--"}
    for p, v in mc.percentiles((5, 50, 95)).items():
        ax.axvline(v, color="k", ls=styles.get(p, "-."), lw=1, label=f"P{p:g} = {v:.2f}")
    ax.set_xlabel(unit)
    ax.set_ylabel("probability density")
    ax.set_title(f"Monte Carlo, {mc.samples.size:,} samples, seed {mc.seed}", fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig


def explore(electricity_usd_per_kwh: float = 0.087, utilization: float = 0.80, pue: float = 1.25,
            cost_of_capital: float = 0.18, life_years: float = 5.0, colocation_usd_per_kw_month: float = 190.0,
            groq_batch: float = 3.0, utilization_derates_tokens: bool = False) -> dict[str, dict]:
    """Widget callback: apply the shared inputs to all four Fig 11 columns (and ``groq_batch`` to the two Groq
    columns) and return, per column, $/M tokens, its breakdown, J/token and capital share. One vectorized call."""
    check_number("groq_batch", groq_batch, **{k: v for k, v in tco.FIELDS["batch"].items() if k in ("lo", "hi")})
    check_bool("utilization_derates_tokens", utilization_derates_tokens)
    cols = tco.COLUMNS
    base = {k: np.array([float(getattr(tco.REPORT_FIG11[c], k)) for c in cols]) for k in tco.FIELDS}
    base["batch"] = np.array([groq_batch if c.startswith("groq") else base["batch"][i] for i, c in enumerate(cols)])
    shared = dict(electricity_usd_per_kwh=electricity_usd_per_kwh, utilization=utilization, pue=pue,
                  cost_of_capital=cost_of_capital, life_years=life_years,
                  colocation_usd_per_kw_month=colocation_usd_per_kw_month)
    for k, v in shared.items():
        rule = tco.FIELDS[k]
        check_number(k, v, lo=rule.get("lo"), hi=rule.get("hi"), unit=rule.get("unit", ""))
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
    result = check_mapping("result", result)
    for c, r in result.items():
        check_result(r, ("usd_per_mtok", "capital_share", "j_per_token", "j_per_token_with_pue"), f"result[{c!r}]")
    lines = [f"{'system':<16}{'$/M tokens':>12}{'capital share':>15}{'J/token':>10}{'J/token ×PUE':>14}"]
    for c, r in result.items():
        lines.append(f"{c:<16}{r['usd_per_mtok']:>12.3f}{r['capital_share']:>15.1%}{r['j_per_token']:>10.2f}"
                     f"{r['j_per_token_with_pue']:>14.2f}")
    return "\n".join(lines)


class ExploreView:
    """The widget's picture: stacked $/M-token bars per system, drawn fast enough for a slider.

    The figure is built once (not through pyplot). Everything that does not move — legend, system names, axes
    frame — is rendered once into a cached background; each ``update(result)`` restores it, draws only the bars,
    the x axis (its scale follows the data) and the totals, and encodes a PNG. Same picture, a fraction of a
    full redraw.
    """

    def __init__(self, systems=None, figsize=(7.2, 3.2), dpi: int = 100):
        self.systems = list(tco.COLUMNS if systems is None else check_names("systems", systems, tco.COLUMNS,
                                                                             "Fig 11 column"))
        self.parts = list(_COLORS)
        self.fig = Figure(figsize=check_figsize(figsize), dpi=check_dpi(dpi))
        self.canvas = FigureCanvasAgg(self.fig)
        ax = self.ax = self.fig.add_axes((0.19, 0.17, 0.77, 0.62))
        n = len(self.systems)
        self.rects = [[ax.barh(i, 1.0, left=0.0, color=_COLORS[p], edgecolor="k", linewidth=0.4,
                               animated=True)[0] for p in self.parts] for i in range(n)]
        self.totals = [ax.text(0.0, i, "", va="center", fontsize=8, animated=True) for i in range(n)]
        ax.set_ylim(n - 0.5, -0.5)
        ax.set_yticks(range(n))
        ax.set_yticklabels(self.systems)
        ax.set_xlabel("USD per million tokens")
        ax.xaxis.set_animated(True)
        self.fig.legend(handles=[Patch(facecolor=_COLORS[p], edgecolor="k", linewidth=0.4, label=p)
                                 for p in self.parts], loc="upper center", ncol=2, fontsize=7, frameon=False)
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.fig.bbox)

    def update(self, result: dict[str, dict]) -> bytes:
        """Move the bars to an ``explore`` result; return the picture as PNG bytes."""
        result = check_mapping("result", result)
        for c in self.systems:
            check_result(result.get(c), ("breakdown",), f"result[{c!r}]")
        xmax = 0.0
        for i, c in enumerate(self.systems):
            left = 0.0
            for rect, p in zip(self.rects[i], self.parts, strict=True):
                val = result[c]["breakdown"][p]
                rect.set_x(left)
                rect.set_width(val)
                left += val
            self.totals[i].set_position((left, i))
            self.totals[i].set_text(f" {left:.2f}")
            xmax = max(xmax, left)
        self.ax.set_xlim(0.0, xmax * 1.15 if xmax > 0 else 1.0)
        self.canvas.restore_region(self._background)
        for row in self.rects:
            for rect in row:
                self.ax.draw_artist(rect)
        for t in self.totals:
            self.ax.draw_artist(t)
        self.ax.draw_artist(self.ax.xaxis)
        w, h = self.canvas.get_width_height()
        buf = io.BytesIO()
        Image.frombuffer("RGBA", (w, h), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1).save(
            buf, format="png", compress_level=1)
        return buf.getvalue()


def make_tco_widget():
    """Sliders over the shared Fig 11 inputs; shows the table and stacked $/M bars for the four columns.

    Each move calls ``explore`` (one vectorized ``tco.evaluate``) and ``ExploreView.update`` (bars, x axis and
    totals redrawn on a cached background) — well under 100 ms per move.
    """
    view = ExploreView()
    image = W.Image(format="png", layout=W.Layout(width="720px"))

    text = W.HTML()

    def show(electricity_usd_per_kwh, utilization, pue, cost_of_capital, life_years, colocation_usd_per_kw_month,
             groq_batch, utilization_derates_tokens):
        r = explore(electricity_usd_per_kwh, utilization, pue, cost_of_capital, life_years,
                    colocation_usd_per_kw_month, groq_batch, utilization_derates_tokens)
        text.value = pre(explore_text(r))
        image.value = view.update(r)
        return r

    style = {"description_width": "190px"}
    lay = W.Layout(width="480px")
    controls = {
        # step 0.001, so the report's 0.087 USD/kWh is a slider position and the base case equals the table
        "electricity_usd_per_kwh": W.FloatSlider(value=0.087, min=0.02, max=0.30, step=0.001, readout_format=".3f",
                                                 description="electricity USD/kWh", style=style, layout=lay),
        "utilization": W.FloatSlider(value=0.80, min=0.05, max=1.0, step=0.05, description="utilization",
                                     style=style, layout=lay),
        "pue": W.FloatSlider(value=1.25, min=1.0, max=2.0, step=0.05, description="PUE", style=style, layout=lay),
        "cost_of_capital": W.FloatSlider(value=0.18, min=0.0, max=0.40, step=0.01, description="cost of capital /yr",
                                         style=style, layout=lay),
        "life_years": W.FloatSlider(value=5.0, min=1.0, max=10.0, step=0.5, description="life (years)",
                                    style=style, layout=lay),
        "colocation_usd_per_kw_month": W.FloatSlider(value=190.0, min=0.0, max=400.0, step=10.0,
                                                     description="colocation USD/kW/month", style=style, layout=lay),
        "groq_batch": W.IntSlider(value=3, min=1, max=32, description="Groq batch per stage", style=style,
                                  layout=lay),
        "utilization_derates_tokens": W.Checkbox(value=False, description="utilization also derates tokens",
                                                 indent=False, style={"description_width": "initial"},
                                                 layout=W.Layout(width="480px")),
    }
    w = wire(controls, show, [text, image])
    w.view = view          # for tests and for the curious: the figure behind the picture
    return w
