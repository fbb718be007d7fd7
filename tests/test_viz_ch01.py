"""Chapter 1 plots and the timing widget's callback."""
from __future__ import annotations

import matplotlib
import pytest

matplotlib.use("Agg")

import labsim.tsp as labsim_tsp
from labsim.errors import LabsimError
from labsim.tsp import Geometry, demo_program, simulate
from labsim.viz import ch01


def test_timing_check_ok():
    # Callback speed (< 100 ms per move) is measured by benches/run_all.py, not asserted here.
    r = ch01.timing_check(0, 0)
    assert r["ok"] and "✓" in r["text"] and "equals NumPy" in r["text"]
    assert r["cycles"] == r["result"].cycles


@pytest.mark.parametrize("shift,words", [(-1, "1 cycle later"), (1, "1 cycle earlier"), (-3, "3 cycles later")])
def test_timing_check_issue_shift_faults(shift, words):
    r = ch01.timing_check(issue_shift=shift)
    assert not r["ok"] and r["result"] is None
    assert "TimingFault" in r["text"] and words in r["text"] and "VXM_ADD" in r["text"]


def test_timing_check_slice_shift_faults():
    r = ch01.timing_check(bias_slice_shift=1)
    assert not r["ok"] and "MEM_E3" in r["text"] and "stream W1" in r["text"]
    # moving the read one slice east AND issuing the add one cycle later: the bias now lines up, W·x does not
    r = ch01.timing_check(issue_shift=1, bias_slice_shift=1)
    assert not r["ok"] and "stream W0" in r["text"]


def test_timing_check_validates():
    with pytest.raises(LabsimError):
        ch01.timing_check(issue_shift=100)
    with pytest.raises(LabsimError):
        ch01.timing_check(geometry="huge")


def test_figures_draw():
    import matplotlib.pyplot as plt
    fig, _ = ch01.floorplan_vs_gpu("mini")
    plt.close(fig)
    fig, _ = ch01.floorplan()
    plt.close(fig)
    p, mem, *_ = demo_program(Geometry.mini())
    res = simulate(p, memory=mem)
    for f in (ch01.spacetime, ch01.stagger):
        fig, ax = f(res)
        assert ax.lines
        plt.close(fig)
    fig, _ = ch01.spacetime(res.trace)
    plt.close(fig)
    with pytest.raises(LabsimError):
        ch01.spacetime(42)


def test_make_widget_builds():
    w = ch01.make_timing_widget()
    assert w is not None


def test_timing_check_reports_fault_location():
    r = ch01.timing_check(issue_shift=-1)
    assert r["fault"] == {"kind": "empty_read", "cycle": r["program"].instructions[4].cycle, "slice": "VXM",
                          "stream": "W0"}
    assert ch01.timing_check()["fault"] is None
    with pytest.raises(LabsimError):
        ch01.timing_check(seed="x")


def test_timing_frame_draws_success_and_failure():
    view = ch01.TimingView("mini")
    ok = ch01.timing_frame(0, 0, view)
    bad = ch01.timing_frame(1, 0, view)
    for r in (ok, bad):
        assert r["png"][:8] == b"\x89PNG\r\n\x1a\n" and len(r["png"]) > 10_000
    assert ok["ok"] and not bad["ok"] and ok["png"] != bad["png"]
    # the same setting redraws the same picture (the blitted background is restored each time)
    assert ch01.timing_frame(0, 0, view)["png"] == ok["png"]
    with pytest.raises(LabsimError):
        view.render(42)
    with pytest.raises(LabsimError):
        ch01.timing_frame(0, 0, view="mini")


def test_widget_updates_image_on_slider_move():
    w = ch01.make_timing_widget()
    s_issue, _, text, image = w.children
    before = image.value
    s_issue.value = -1
    assert "TimingFault" in text.value and image.value != before
    s_issue.value = 0
    assert "✓" in text.value and image.value == before


def test_journey_plots():
    import matplotlib.pyplot as plt

    from labsim.tsp import journey_program
    p, mem, *_ = journey_program(Geometry.mini())
    res = simulate(p, memory=mem)
    fig, ax = ch01.spacetime(res)
    texts = [t.get_text() for t in ax.texts]
    assert any("requant (a→int8) → E1" == t for t in texts) and ax.get_legend() is not None
    plt.close(fig)
    fig, ax = ch01.stagger(res)
    assert len(ax.lines) == len(p.instructions)
    plt.close(fig)


def test_tables_render_as_html_with_readable_sources():
    rows = ch01.derived_vs_published("faithful")
    t = ch01.derived_table(rows)
    html_ = t._repr_html_()
    assert html_.startswith("<table>") and all(r["quantity"] in html_ for r in rows)
    assert "Abts et al., ISCA 2020" in html_                 # [isca20] rendered by labsim.sources.cite
    assert ">source</th>" not in ch01.derived_table(rows, sources=False)._repr_html_()
    assert repr(t).startswith("quantity")
    p = ch01.parameter_view("faithful")._repr_html_()
    assert p.count("ASSUMPTION") == len(labsim_tsp.ASSUMED_FIELDS) and "facts/" not in p
    with pytest.raises(LabsimError):
        ch01.derived_table("rows")


def test_fault_caption_sits_outside_the_axes():
    view = ch01.TimingView()
    r = ch01.timing_check(-1, 0)
    assert r["fault"]["kind"] == "empty_read"
    assert view.render(r)[:8] == b"\x89PNG\r\n\x1a\n"
    # the labels of the instructions at the fault's slice and cycle move to the other side of the ✗
    sch = ch01._schedule(r["program"], view.geometry)
    arts = ch01._draw_schedule(view.ax, sch, avoid=(view.geometry.slice_index("VXM"), r["fault"]["cycle"]))
    moved = [a for a in arts if hasattr(a, "xyann") and a.xyann[1] != 0]
    assert moved and all(abs(a.xyann[0]) >= 16 for a in moved)
    for a in arts:
        a.remove()
