"""Chapter 5's planner widget: presets move the sliders, a slider move returns to "custom", what is shown is what
is computed (issue 14: the groq-60gpm preset computed with 500 tok/s and 3.48 USD while the sliders said 1,600
and 2.00)."""
from __future__ import annotations

import re

import pytest

from labsim.viz import ch05


def _text(w):
    return re.sub(r"<[^>]+>", "", w.children[-2].value)


@pytest.mark.parametrize("preset", [p for p in ch05.PLANNER_PRESETS if p != "custom"])
def test_preset_moves_the_sliders(preset):
    pytest.importorskip("ipywidgets")
    w = ch05.make_planner_widget()
    c = w.controls
    c["preset"].value = preset
    tok_s, usd, label = ch05.PLANNER_PRESETS[preset]
    assert c["decode_tokens_per_s"].value == pytest.approx(tok_s)
    assert c["usd_per_mtok"].value == pytest.approx(round(usd, 2))
    assert c["preset"].value == preset
    assert f"{tok_s:,.0f} tok/s" in _text(w) and f"USD {usd:.2f} per M tokens" in _text(w)


def test_moving_a_slider_returns_to_custom_and_computes_with_it():
    pytest.importorskip("ipywidgets")
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
