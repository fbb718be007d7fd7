"""How good is the decode model? Chapter 3's predicted-vs-published scatter and tables (``labsim.validation``).

* ``validation_scatter`` — log-log predicted vs published tokens/s, the 1:1 line and the ±35 % band; color =
  LPU/GPU × dense/MoE; hollow = speculative decoding; square = calibration point.
* ``validation_table`` — the rows as an HTML table (worst first), with the mechanism that explains each wide band.
* ``moe_schedule_table`` — the published MoE speeds against the three static-schedule strategies.
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from .. import capacity, validation
from ..errors import LabsimError, check_bool, check_int, check_number
from ..sources import cite
from ._tables import HtmlTable

__all__ = ["validation_scatter", "validation_table", "moe_schedule_table", "KIND_COLORS", "HtmlTable"]

KIND_COLORS = {"LPU dense": "#c44e52", "LPU MoE": "#dd8452", "GPU dense": "#4c72b0", "GPU MoE": "#64b5cd",
               "wafer dense": "#55a868", "wafer MoE": "#8fd19e"}


def validation_scatter(rows=None, ax=None, band: float = 0.35, label_outside: bool = True):
    """Log-log scatter of predicted vs published tokens/s with the 1:1 line and a ±``band`` band."""
    rows = validation.compare() if rows is None else validation._rows(rows)
    band = check_number("band", band, lo=0.0, hi=1.0, hi_open=True)
    check_bool("label_outside", label_outside)
    if ax is None:
        _, ax = plt.subplots(figsize=(8.5, 7))
    elif not isinstance(ax, Axes):
        raise LabsimError(f"ax must be a matplotlib Axes (or None for a new figure), got {ax!r}")
    lo = min(min(r["published_tokens_per_s"], r["predicted_tokens_per_s"]) for r in rows) / 1.6
    hi = max(max(r["published_tokens_per_s"], r["predicted_tokens_per_s"]) for r in rows) * 1.6
    xs = [lo, hi]
    ax.plot(xs, xs, color="k", lw=1)
    ax.fill_between(xs, [x * (1 - band) for x in xs], [x * (1 + band) for x in xs], color="#e8e8e8", zorder=0,
                    label=f"±{band:.0%}")
    for r in rows:
        col = KIND_COLORS[r["kind"]]
        marker = "s" if r["role"] == "calibration" else "o"
        face = "none" if r["speculative"] else col
        ax.scatter(r["published_tokens_per_s"], r["predicted_tokens_per_s"], s=60, marker=marker,
                   facecolors=face, edgecolors=col, linewidths=1.6, zorder=3)
    outside = sorted((r for r in rows if not (1 - band <= r["ratio"] <= 1 + band)),
                     key=lambda r: r["published_tokens_per_s"])
    if label_outside:
        for j, r in enumerate(outside):       # number the points outside the band; the legend box names them
            ax.annotate(str(j + 1), (r["published_tokens_per_s"], r["predicted_tokens_per_s"]), fontsize=9,
                        xytext=(6, -4), textcoords="offset points", fontweight="bold")
        if outside:
            ax.text(0.99, 0.01, "outside ±35 %:\n" + "\n".join(f"{j + 1}. {r['id']} ({r['ratio']:.2f}×)"
                                                             for j, r in enumerate(outside)),
                    transform=ax.transAxes, ha="right", va="bottom", fontsize=8, family="monospace",
                    bbox=dict(boxstyle="round", fc="white", ec="#999999"))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("published tokens/s per user")
    ax.set_ylabel("predicted tokens/s per user (labsim.capacity.decode_time)")
    kinds = {r["kind"] for r in rows}
    handles = [Line2D([], [], marker="o", ls="", color=c, label=k) for k, c in KIND_COLORS.items() if k in kinds]
    handles += [Line2D([], [], marker="o", ls="", mfc="none", color="k", label="speculative decoding"),
                Line2D([], [], marker="s", ls="", color="k", label="calibration point"),
                Line2D([], [], color="#e8e8e8", lw=8, label=f"±{band:.0%}")]
    ax.legend(handles=handles, loc="upper left", fontsize=9)
    ax.set_title("One decode model against every published batch-1 speed")
    ax.grid(True, which="both", alpha=0.3)
    return ax.figure


def validation_table(rows=None, worst: int | None = None) -> HtmlTable:
    """Rows sorted by |log ratio| (worst first): id, kind, published, predicted, ratio, band, role, why."""
    rows = validation.compare() if rows is None else validation._rows(rows)
    rows = sorted(rows, key=lambda r: -abs(math.log(r["ratio"])))
    if worst is not None:
        worst = check_int("worst", worst, lo=1, hi=10_000)
        rows = rows[:worst]
    body = [[r["id"], r["kind"] + (" (spec.)" if r["speculative"] else ""), f"{r['published_tokens_per_s']:,.0f}",
             f"{r['predicted_tokens_per_s']:,.0f}", f"{r['ratio']:.2f}",
             f"{r['band'][0]:.2f}–{r['band'][1]:.2f}", r["role"], cite(r["mechanism"]) or "—"] for r in rows]
    return HtmlTable(["point", "kind", "published", "predicted", "ratio", "band", "role", "mechanism (if wider)"],
                     body, caption="predicted / published; bands and mechanisms from "
                                   "labsim/data/validation/published_speeds.toml", max_col_chars=60)


def moe_schedule_table(ids=("groq-gpt-oss-20b-fig10", "groq-gpt-oss-120b-fig10", "groq-llama4-scout-fig10",
                            "groq-llama4-maverick-fig10", "groq-kimi-k2-fig10")) -> HtmlTable:
    """Published Groq MoE speeds against the three ways a static schedule can handle routing."""
    if isinstance(ids, str):
        ids = (ids,)
    if not isinstance(ids, (list, tuple)) or not ids:
        raise LabsimError(f"ids must be a non-empty list of validation point ids, got {ids!r}")
    per = {s: {r["id"]: r for r in validation.compare(list(ids), moe_schedule=s)} for s in capacity.MOE_SCHEDULES}
    body = []
    for i in ids:
        pub = per["all_experts"][i]["published_tokens_per_s"]
        body.append([per["all_experts"][i]["model"], f"{pub:,.0f}"]
                    + [f"{per[s][i]['predicted_tokens_per_s']:,.0f} ({per[s][i]['ratio']:.2f}×)"
                       for s in capacity.MOE_SCHEDULES])
    return HtmlTable(["model", "published"] + list(capacity.MOE_SCHEDULES), body,
                     caption="predicted tokens/s (predicted ÷ published) under each MoE schedule", max_col_chars=60)
