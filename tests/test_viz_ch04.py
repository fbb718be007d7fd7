"""Chapter 4 plots and the widget callback."""
from __future__ import annotations

import ipywidgets as W
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

from labsim import LabsimError, tco
from labsim.viz import ch04


def test_explore_defaults_reproduce_fig11():
    r = ch04.explore()
    for c in tco.COLUMNS:
        assert r[c]["usd_per_mtok"] == pytest.approx(tco.evaluate(tco.REPORT_FIG11[c]).usd_per_mtok)
        assert sum(r[c]["breakdown"].values()) == pytest.approx(r[c]["usd_per_mtok"])
    assert "groq-60gpm" in ch04.explore_text(r)


def test_explore_moves_the_right_way():
    base = ch04.explore()
    dear = ch04.explore(electricity_usd_per_kwh=0.2)
    big = ch04.explore(groq_batch=12)
    derate = ch04.explore(utilization_derates_tokens=True)
    for c in tco.COLUMNS:
        assert dear[c]["usd_per_mtok"] > base[c]["usd_per_mtok"]
        assert derate[c]["usd_per_mtok"] == pytest.approx(1.25 * base[c]["usd_per_mtok"])
    assert big["groq-cost"]["usd_per_mtok"] == pytest.approx(base["groq-cost"]["usd_per_mtok"] / 4)
    assert big["gpu-latency"] == base["gpu-latency"]


def test_explore_rejects_bad_inputs():
    with pytest.raises(LabsimError):
        ch04.explore(utilization=1.5)
    with pytest.raises(LabsimError):
        ch04.explore(groq_batch=0)


def test_plots_build():
    base = tco.REPORT_FIG11["groq-cost"]
    figs = [ch04.waterfall(base), ch04.breakdown_bars(), ch04.annuity_plot(),
            ch04.tornado_plot(tco.tornado(base)), ch04.utilization_plot(),
            ch04.mc_histogram(tco.monte_carlo(base, {"pue": tco.Uniform(1.1, 1.5)}, n_samples=2000, progress=False))]
    for f in figs:
        assert f.axes
        plt.close(f)


def test_widget_builds():
    w = ch04.make_tco_widget()
    assert len(w.children) >= 8
    plt.close("all")


def test_explore_view_draws_the_result():
    view = ch04.ExploreView()
    r = ch04.explore(electricity_usd_per_kwh=0.2, groq_batch=6)
    png = view.update(r)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    for i, c in enumerate(tco.COLUMNS):
        widths = [rect.get_width() for rect in view.rects[i]]
        assert widths == pytest.approx(list(r[c]["breakdown"].values()))
        right = view.rects[i][-1].get_x() + view.rects[i][-1].get_width()
        assert right == pytest.approx(r[c]["usd_per_mtok"])
        assert view.totals[i].get_text().strip() == f"{r[c]['usd_per_mtok']:.2f}"
    assert view.ax.get_xlim()[1] > max(r[c]["usd_per_mtok"] for c in tco.COLUMNS)   # every bar and total fits
    assert view.update(ch04.explore()) != png                                          # the picture moves


def test_widget_slider_updates_picture_and_table():
    w = ch04.make_tco_widget()
    image = next(c for c in w.children if isinstance(c, W.Image))
    before = image.value
    slider = next(c for c in w.children if getattr(c, "description", "") == "Groq batch per stage")
    slider.value = 12
    assert image.value != before and image.value[:4] == b"\x89PNG"
    groq = w.view.rects[tco.COLUMNS.index("groq-cost")]
    expected = ch04.explore(groq_batch=12)["groq-cost"]["usd_per_mtok"]
    assert groq[-1].get_x() + groq[-1].get_width() == pytest.approx(expected)


def test_widget_base_case_is_the_table():
    # issue 14: the electricity slider snapped 0.087 to 0.085, so the widget's base case differed from Fig 11
    w = ch04.make_tco_widget()
    assert w.controls["electricity_usd_per_kwh"].value == pytest.approx(0.087, abs=1e-12)
    r = w.show(**{k: c.value for k, c in w.controls.items()})
    for col in tco.COLUMNS:
        assert r[col]["usd_per_mtok"] == pytest.approx(tco.evaluate(tco.REPORT_FIG11[col]).usd_per_mtok, rel=1e-12)
    box = w.controls["utilization_derates_tokens"]
    assert box.indent is False and box.style.description_width == "initial"   # the label is not cut off
