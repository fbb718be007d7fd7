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
    r2 = ch02.explore(cotenant_prob=0.5, n_chips=1200, sync_domain_chips=576)        # the report's view
    assert r2["gpu"]["p99_over_p50"] > r["gpu"]["p99_over_p50"] and r2["domains"] == 3
    assert ch02.explore(n_chips=1200)["domains"] == 1                                 # ISCA 2022's network
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
    assert ch02.make_reservation_widget(sched) is not None
    assert ch02.make_ch02_widget() is not None


def test_explore_caches_gpu_runs_and_validates():
    a = ch02.explore(cotenant_prob=0.3, n_chips=64)
    b = ch02.explore(cotenant_prob=0.3, n_chips=1200, ethernet="tcp", sync_domain_chips=576)  # only the pipeline moved
    assert b["gpu_samples"] is a["gpu_samples"]                          # GPU runs not repeated
    assert not b["gpu_samples"].flags.writeable                          # the cache cannot be corrupted
    assert b["domains"] == 3 and b["pipeline"]["p99_over_p50"] > 1.0
    assert np.ptp(a["pipeline_samples"]) == 0.0                          # one domain: every run identical
    # contention off: the co-tenant probability has no effect, so both settings share one run
    c1, c2 = ch02.explore(cotenant_prob=0.1, contention=False), ch02.explore(cotenant_prob=0.9, contention=False)
    assert c1["gpu_samples"] is c2["gpu_samples"]
    # the cached result equals a fresh simulation with the same inputs (seeded)
    from labsim import gpu
    fresh = gpu.simulate(gpu.model_decoder_layer_kernels("llama-3.1-8b"), n=ch02.EXPLORE_RUNS, seed=0,
                         contention=True, cotenant_prob=0.3, launch_overhead_s=5e-6)
    np.testing.assert_allclose(fresh, a["gpu_samples"], rtol=1e-12)
    # more launch overhead moves the whole GPU distribution right
    slow = ch02.explore(launch_overhead_us=40.0, contention=False)
    assert slow["gpu"]["p50"] > c1["gpu"]["p50"]
    for bad in (dict(contention="yes"), dict(n_chips=0), dict(launch_overhead_us=-1.0), dict(ethernet="wifi"),
                dict(n=10)):
        with pytest.raises(LabsimError):
            ch02.explore(**bad)


def test_explore_view_draws_png():
    v = ch02.ExploreView()
    inside = v.update(ch02.explore(n_chips=64))
    beyond = v.update(ch02.explore(n_chips=1200, ethernet="tcp"))
    assert inside[:8] == b"\x89PNG\r\n\x1a\n" and beyond[:8] == b"\x89PNG\r\n\x1a\n"
    assert inside != beyond
    v.update(ch02.explore(n_chips=64))
    lo, hi = v.axes[1].get_xlim()
    p50 = ch02.explore(n_chips=64)["pipeline"]["p50"] * 1e6
    assert lo < p50 < hi and hi >= 1.5 * p50          # the window is relative to the median, not autoscaled


def test_reservation_view_and_widget_move(sched):
    v = ch02.ReservationView(sched)
    assert v.update(10)[:4] == b"\x89PNG" and v.update(10) != v.update(100)
    w = ch02.make_reservation_widget(sched)
    slider, image = w.children
    before = image.value
    slider.value = slider.max
    assert image.value != before


def test_ch02_widget_move_changes_text_and_picture():
    w = ch02.make_ch02_widget(tsp_layer_s=5e-7)
    controls = {c.description: c for c in w.children if getattr(c, "description", "")}
    text, image = w.children[-2], w.children[-1]
    t0, i0 = text.value, image.value
    assert "1 domain(s)" in t0
    controls["chips in pipeline"].value = 1200
    assert "3 domain(s)" in text.value and image.value != i0
    r = w.show(True, 0.5, 10.0, 16, "rdma")
    assert r["hops"]["c2c_hops"] == 16
    with pytest.raises(LabsimError):
        ch02.make_ch02_widget(tsp_layer_s=-1.0)


def test_hist_relative_and_cliff_plot_labels():
    import matplotlib.pyplot as plt
    axes = ch02.latency_hist_cdf({"TSP": np.full(1000, 5e-7), "GPU": np.linspace(1e-4, 3e-4, 1000)}, relative=True)
    assert "(all identical)" in axes[0].get_legend().get_texts()[0].get_text()
    assert axes[0].get_xlabel().startswith("latency / own median")
    with pytest.raises(LabsimError):
        ch02.latency_hist_cdf({})
    ax = ch02.cliff_plot({"rdma": mc.cliff_curve([8, 576, 577, 1200], 1e-6, n_samples=500)}, title="t")
    assert ax.get_title() == "t" and "chips" in ax.get_xlabel()
    ax = ch02.reservation_table(S.list_schedule(S.example_graph()), legend=False)
    assert ax.get_legend() is None
    plt.close("all")


def test_layer_table_lists_every_recorded_split():
    from labsim.viz import ch02 as v
    t = v.layer_table()
    tps = {r[0] for r in t.rows}
    assert tps == {1, 2, 4, 8} and any("does not fit" in str(r[2]) for r in t.rows)
    assert "<table>" in t._repr_html_() and "analytic / simulated" in repr(t)
    assert {r[0] for r in v.layer_table(8).rows} == {1, 2, 4, 8}
