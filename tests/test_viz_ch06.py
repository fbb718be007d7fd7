"""Chapter 6 widget callback and plots."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import ipywidgets as W
import matplotlib.pyplot as plt
import pytest

from labsim import LabsimError, fleet
from labsim.viz import ch06


def test_explore_returns_the_fleet():
    d = ch06.explore()
    assert {r["workload"] for r in d["rows"]} == {"voice", "coding", "chat", "batch"}
    assert d["monthly_usd"] > 0 and not d["infeasible"]
    assert "fleet:" in ch06.explore_text(d)


def test_explore_tighter_slo_costs_more_and_infeasible_is_shown():
    base = ch06.explore()["monthly_usd"]
    tight = ch06.explore(voice_slo_ms=150)
    assert tight["monthly_usd"] >= base
    imp = ch06.explore(coding_slo_ms=300)
    assert "coding" in imp["infeasible"]
    assert "INFEASIBLE" in ch06.explore_text(imp)


@pytest.mark.parametrize("kw", [dict(rate_scale=0), dict(voice_slo_ms=-1), dict(electricity_usd_per_kwh=-0.1),
                                dict(scenario="nope")])
def test_explore_bad_input(kw):
    with pytest.raises(LabsimError):
        ch06.explore(**kw)


def test_plots_draw():
    d = ch06.explore()
    assert ch06.fleet_chart(d["plan"]) is not None
    assert ch06.sensitivity_plot({"base": d["plan"], "x2": ch06.explore(rate_scale=2)["plan"]}) is not None
    wl = fleet.load_scenario("voice_agent").workloads[0]
    assert ch06.slo_sweep_plot(wl, "first_tokens", [0.5, 0.2, 0.1]) is not None
    plt.close("all")


def test_explore_mix_drops_and_scales_workloads():
    base = ch06.explore()
    no_batch = ch06.explore(mix={"batch": 0})
    assert {r["workload"] for r in no_batch["rows"]} == {"voice", "coding", "chat"}
    assert no_batch["monthly_usd"] < base["monthly_usd"]
    more_chat = ch06.explore(mix={"chat": 5})
    chat = [r for r in more_chat["rows"] if r["workload"] == "chat"][0]
    chat0 = [r for r in base["rows"] if r["workload"] == "chat"][0]
    assert chat["monthly_usd"] >= chat0["monthly_usd"]
    # mix × rate_scale compose: doubling chat via the mix = doubling it via the traffic of a chat-only mix
    a = ch06.explore(mix={"voice": 0, "coding": 0, "batch": 0, "chat": 2})
    b = ch06.explore(rate_scale=2, mix={"voice": 0, "coding": 0, "batch": 0})
    assert a["monthly_usd"] == pytest.approx(b["monthly_usd"])


@pytest.mark.parametrize("mix", [{"video": 1.0}, {"chat": -1.0}, {"voice": 0, "coding": 0, "chat": 0, "batch": 0},
                                 [("chat", 2.0)], {"chat": "x"}])
def test_explore_bad_mix(mix):
    with pytest.raises(LabsimError):
        ch06.explore(mix=mix)


def test_explore_html_shows_every_workload_and_infeasibility():
    d = ch06.explore()
    h = ch06.explore_html(d)
    for name in ("voice", "coding", "chat", "batch"):
        assert f"<b>{name}</b>" in h
    assert ch06.KIND_COLORS["sram"] in h and ch06.KIND_COLORS["hbm"] in h
    assert "fleet:" in h and "INFEASIBLE" not in h
    bad = ch06.explore_html(ch06.explore(coding_slo_ms=300))
    assert "INFEASIBLE" in bad and "infeasible: coding" in bad


def test_widget_builds_and_a_slider_move_updates_the_table():
    box = ch06.make_fleet_widget()

    def walk(w):
        yield w
        for c in getattr(w, "children", ()):
            yield from walk(c)

    widgets = list(walk(box))
    html = [w for w in widgets if isinstance(w, W.HTML) and "<table" in w.value][0]
    before = html.value
    coding = [w for w in widgets if getattr(w, "description", "") == "coding action ms"][0]
    coding.value = 300                      # no chip can meet it: the table must say so
    assert "INFEASIBLE" in html.value and html.value != before
    share = [w for w in widgets if getattr(w, "description", "").startswith("batch traffic")][0]
    share.value = 0.0
    assert "<b>batch</b>" not in html.value
    for w in widgets:                       # every share 0: an explanation, not a traceback
        if getattr(w, "description", "") in {f"{n} traffic ×" for n in ch06.MIX_WORKLOADS}:
            w.value = 0.0
    assert "no workload" in html.value


def test_fleet_chart_with_an_infeasible_workload():
    d = ch06.explore(coding_slo_ms=300)
    fig = ch06.fleet_chart(d["plan"])
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any("infeasible" in t for t in texts)
    plt.close("all")


def test_slo_sweep_leaves_room_above_the_points():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from labsim import fleet

    voice = fleet.load_scenario("voice_agent").workloads[0]
    fig = ch06.slo_sweep_plot(voice, "first_tokens", [0.5, 0.1, 0.05])
    ax = fig.axes[0]
    top = max(float(pc.get_offsets()[:, 1].max()) for pc in ax.collections if len(pc.get_offsets()))
    assert ax.get_ylim()[1] >= 1.5 * top        # issue 14: the LPU points sat on the frame, half cut off
    plt.close(fig)


def test_mix_labels_fit_their_slider():
    box = ch06.make_fleet_widget()

    def walk(w):
        yield w
        for c in getattr(w, "children", ()):
            yield from walk(c)

    labels = [w.description for w in walk(box) if isinstance(w, (W.FloatSlider, W.IntSlider, W.FloatLogSlider))]
    assert labels and all(len(d) <= 24 for d in labels), labels   # 170 px of description ≈ 24 characters
