"""Chapter 5 plots and the planner widget's callback (plain functions; no timing asserts)."""
from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from labsim import LabsimError, tco
from labsim import latency as L
from labsim.viz import ch05


def test_planner_deterministic_matches_closed_form():
    r = ch05.planner(reasoning_tokens=2000, decode_tokens_per_s=1600, tool_s=0.0, steps=1, fan_out=1, slo_s=1.5,
                     ttft_s=0.1, network_s=0.05, jitter_sigma=0.0, usd_per_mtok=2.0)
    assert r["meets_slo"] and r["latency_s"] == pytest.approx(0.1 + 1.25 + 0.05)
    assert r["max_reasoning_tokens"] == L.max_reasoning_tokens(1.5, 1600, fixed_s=0.15)
    assert r["cost_per_task_usd"] == pytest.approx(2000 * 2.0 / 1e6)
    assert "meets" in ch05.planner_text(r)


def test_planner_jitter_steps_fanout_and_presets():
    r = ch05.planner(reasoning_tokens=300, steps=10, fan_out=3, slo_s=10.0, jitter_sigma=0.3, tool_s=0.3)
    assert r["tokens_per_task"] == 9000 and r["samples"] >= 300
    slow = ch05.planner(reasoning_tokens=300, slo_s=1.0, preset="gpu-throughput")
    assert not slow["meets_slo"] and slow["decode_tokens_per_s"] == 30.0
    assert "misses" in ch05.planner_text(slow)
    none = ch05.planner(slo_s=0.1, ttft_s=0.5)
    assert not none["feasible"] and "no budget fits" in ch05.planner_text(none)
    with pytest.raises(LabsimError):
        ch05.planner(preset="h100")
    with pytest.raises(LabsimError):
        ch05.planner(steps=0)


def test_plots_build():
    figs = [
        ch05.gantt({"voice": L.voice_turn("hosted_gpu_api"), "step": L.agent_step(2000, 1600, ttft_s=0.1)}),
        ch05.chain_fanout_plot(n_max=120, mc_n=2000),
        ch05.hardware_tails_plot(ch05.hardware_tails(steps=(1, 3), n=2000)),
        ch05.queue_plot(ch05.queue_curves(loads=(0.5, 0.8), customers=5000)),
        ch05.batching_plot({"lpu": L.batching_curve([0.002], 300, 1, loads=(0.3, 0.6), requests=2000)}, slo_s=1.0),
    ]
    for f in figs:
        assert f.axes
        plt.close(f)


def test_make_planner_widget():
    w = ch05.make_planner_widget()
    assert w.children


def test_planner_bar_svg_draws_components_and_slo_share():
    r = ch05.planner(reasoning_tokens=300, decode_tokens_per_s=420, steps=10, tool_s=0.5, slo_s=10.0)
    svg = ch05.planner_bar_svg(r)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<rect") >= 4 + 4                       # four segments + four legend swatches
    assert "SLO ÷ steps = 1,000 ms" in svg                   # 10 s over 10 steps
    total_ms = (0.1 + 300 / 420 + 0.5 + 0.05) * 1e3
    assert f"{total_ms:,.0f} ms" in svg
    long = ch05.planner(reasoning_tokens=20_000, decode_tokens_per_s=30, slo_s=1.5)
    assert "666.8 s" in ch05.planner_bar_svg(long)          # ≥ 10 s shown in seconds


def test_planner_widget_observes_controls():
    w = ch05.make_planner_widget()
    text = w.children[-2]
    assert "meets" in text.value
    w.controls["decode_tokens_per_s"].value = 30.0          # 2,000 tokens at 30 tok/s: over a minute
    assert "misses" in text.value and "66.8 s" in w.children[-1].value
    r = w.show(**{k: c.value for k, c in w.controls.items()})
    assert not r["meets_slo"] and r["steps"] == 1

# issue 14: presets move the sliders, a slider move returns to "custom", what is shown is what is computed



def _text(w):
    return re.sub(r"<[^>]+>", "", w.children[-2].value)


def test_presets_are_the_fig11_columns_of_chapter_4():
    """Chapter 4 always ships: the presets are every Fig 11 column (no silent fallback to sliders only)."""
    assert list(ch05.PLANNER_PRESETS) == ["custom", *tco.REPORT_FIG11]
    for col, (tok_s, usd, label) in ch05.PLANNER_PRESETS.items():
        if col != "custom":
            assert tok_s == tco.REPORT_FIG11[col].tokens_per_s_per_user and usd > 0 and label


@pytest.mark.parametrize("preset", [p for p in ch05.PLANNER_PRESETS if p != "custom"])
def test_preset_moves_the_sliders(preset):
    w = ch05.make_planner_widget()
    c = w.controls
    c["preset"].value = preset
    tok_s, usd, label = ch05.PLANNER_PRESETS[preset]
    assert c["decode_tokens_per_s"].value == pytest.approx(tok_s)
    assert c["usd_per_mtok"].value == pytest.approx(round(usd, 2))
    assert c["preset"].value == preset
    assert f"{tok_s:,.0f} tok/s" in _text(w) and f"USD {usd:.2f} per M tokens" in _text(w)


def test_moving_a_slider_returns_to_custom_and_computes_with_it():
    w = ch05.make_planner_widget()
    c = w.controls
    c["preset"].value = "groq-60gpm"
    c["usd_per_mtok"].value = 2.5
    assert c["preset"].value == "custom"
    assert "USD 2.50 per M tokens" in _text(w) and "500 tok/s" in _text(w)
    c["preset"].value = "gpu-latency"
    c["decode_tokens_per_s"].value = 1600.0
    assert c["preset"].value == "custom" and "1,600 tok/s" in _text(w)


def test_planner_text_has_no_bare_dollar_pairs():
    r = ch05.planner()
    assert "$" not in ch05.planner_text(r)


def test_batching_and_threshold_tables():
    from labsim import latency

    curves = {"LPU, batch 1": latency.batching_curve([0.0025], 300, 1, (0.1, 0.5), requests=2_000)}
    t = ch05.batching_table(curves, slo_s=1.5)
    assert "LPU, batch 1" in t and "P99 > 1.5 s from load" in t
    assert "<table" in t._repr_html_()
