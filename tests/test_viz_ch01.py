"""Chapter 1 plots and the timing widget's callback."""
from __future__ import annotations

import time

import matplotlib
import pytest

matplotlib.use("Agg")

from labsim.errors import LabsimError  # noqa: E402
from labsim.tsp import Geometry, demo_program, simulate  # noqa: E402
from labsim.viz import ch01  # noqa: E402


def test_timing_check_ok_and_fast():
    ch01.timing_check()
    t0 = time.perf_counter()
    r = ch01.timing_check(0, 0)
    assert time.perf_counter() - t0 < 0.1
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
