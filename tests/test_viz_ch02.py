"""Chapter-2 widget callbacks and plots."""
import matplotlib
matplotlib.use("Agg")
import numpy as np
import pytest

from labsim import LabsimError
from labsim import multichip as mc
from labsim import schedule as S
from labsim.viz import ch02


@pytest.fixture(scope="module")
def sched():
    return S.list_schedule(S.mlp_graph())


def test_reservation_matrix_fills_step_by_step(sched):
    full = ch02.reservation_matrix(sched)
    assert full["filled"] == len(sched.program.instructions)
    steps = [ch02.reservation_matrix(sched, c)["filled"] for c in range(0, full["cycles"], 10)]
    assert steps == sorted(steps) and steps[0] < full["filled"]
    assert ch02.reservation_matrix(sched, -1)["matrix"].sum() == 0
    with pytest.raises(LabsimError):
        ch02.reservation_matrix("nope")


def test_explore_fast_and_consistent():
    r = ch02.explore(cotenant_prob=0.0, contention=False, n_chips=16)
    assert r["pipeline"]["p99_over_p50"] == 1.0 and r["domains"] == 1
    r2 = ch02.explore(cotenant_prob=0.5, n_chips=1200)
    assert r2["gpu"]["p99_over_p50"] > r["gpu"]["p99_over_p50"] and r2["domains"] == 3
    assert "P99/P50" in ch02.explore_text(r2)
    with pytest.raises(LabsimError):
        ch02.explore(cotenant_prob=2.0)


def test_plots_draw(sched):
    import matplotlib.pyplot as plt
    ch02.reservation_table(sched, 30)
    ch02.latency_hist_cdf({"TSP": np.full(100, 1e-6), "GPU": np.linspace(1e-6, 2e-6, 100)})
    ch02.cliff_plot({"rdma": mc.cliff_curve([8, 600], 1e-6, n_samples=500)})
    plt.close("all")


def test_widgets_build(sched):
    pytest.importorskip("ipywidgets")
    assert ch02.make_reservation_widget(sched) is not None
    assert ch02.make_ch02_widget() is not None
