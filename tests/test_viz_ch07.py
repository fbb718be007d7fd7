"""Chapter 7 plots and the next-LPU widget callback (speed is measured in benches/, not here)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from labsim import mesh, numerics, silicon, systolic
from labsim.errors import LabsimError
from labsim.viz import ch07


def test_machines_table_and_picture():
    rows = ch07.machines_table()
    assert [r["chip"] for r in rows] == list(ch07.MACHINES)
    tpu = next(r for r in rows if r["chip"] == "google-tpu-v1")
    assert tpu["weights_in"] == "off-chip DDR" and tpu["sweep_s"] > 0.2          # 8 GiB / 34 GB/s
    cs3 = next(r for r in rows if r["chip"] == "cerebras-cs3")
    assert cs3["weights_in"] == "on-wafer SRAM" and cs3["sweep_s"] < 3e-6
    fig = ch07.machines()
    assert len(fig.axes) == 4
    plt.close(fig)


def test_systolic_figures():
    a = systolic.SystolicArray(rows=4, cols=4, weight_shift_cycles=4)
    r = systolic.simulate(np.ones((4, 4), int), np.ones((3, 4), int), a, record=True)
    fig = ch07.systolic_frames(r, cycles=[4, 6, 8])
    plt.close(fig)
    fig = ch07.systolic_spacetime(r)
    plt.close(fig)
    with pytest.raises(LabsimError, match="record=True"):
        ch07.systolic_frames(systolic.simulate(np.ones((4, 4), int), np.ones((3, 4), int), a))
    cur = systolic.mlp_batch_latency([(512, 512)], [1, 10, 100], systolic.tpu_v1_array())
    plt.close(ch07.tpu_batch_plot(cur, published={"batch": 200, "label": "x"}))


def test_mesh_and_numerics_and_silicon_figures():
    cfg = mesh.MeshConfig(width=4, height=4)
    runs = {"dyn": mesh.simulate(0.1, cfg, cycles=600, warmup=100),
            "static": mesh.schedule_static(0.1, cfg, cycles=600, warmup=100)}
    plt.close(ch07.mesh_cdf(runs))
    plt.close(ch07.mesh_load_plot(mesh.latency_vs_load([0.05, 0.1], cfg, cycles=600, warmup=100)))
    plt.close(ch07.format_lines())
    plt.close(ch07.accumulator_plot([16, 256]))
    sw = numerics.attention_sweep([64, 128], {"a": dict(kv_format="bf16")}, head_dim=8)
    plt.close(ch07.attention_plot(sw))
    plt.close(ch07.yield_plot(0.001, marks={"LPU": 725}))
    plt.close(ch07.wafer_map(silicon.simulate_wafers(725, 0.001, n_wafers=2)))
    plt.close(ch07.cost_plot([{"label": "5nm", "usd_per_gb": 100.0}], 10.0))
    plt.close(ch07.next_lpu_plot({"x": silicon.next_lpu_whatif([1, 2])}))


def test_fig18_efficiency_is_the_roofline():
    rows = {r["chip"]: r for r in ch07.fig18_efficiency()}
    lpu = rows["groq-lpu-v1"]
    assert lpu["fraction_of_peak"] == pytest.approx(lpu["intensity_ops_per_byte"] * 80e12 / 750e12)
    assert rows["cerebras-cs3"]["fraction_of_peak"] > lpu["fraction_of_peak"] > rows["nvidia-b300"]["fraction_of_peak"]


def test_widget_callback():
    r = ch07.next_lpu_explore("5nm", 0.1, 3.0, True, "llama-3.3-70b")
    assert r["row"]["chips"] < r["base"]["chips"] and r["fits"]
    assert r["die_yield"] == pytest.approx(np.exp(-0.725))
    text = ch07.next_lpu_text(r)
    assert "llama-3.3-70b" in text and "mm²" in text and "$" not in text.replace("US$", "")
    assert ch07.next_lpu_bar_svg(r).startswith("<svg")
    big = ch07.next_lpu_explore("14nm", 0.1, 8.0, False, "llama-3.1-8b")
    assert not big["fits"] and "DOES NOT FIT" in ch07.next_lpu_text(big)
    n3 = ch07.next_lpu_explore("3nm", 0.0, 2.0, True)
    assert n3["good_die_usd"] is None and "n/a" in ch07.next_lpu_text(n3)
    with pytest.raises(LabsimError, match="defect_density_per_cm2"):
        ch07.next_lpu_explore(defect_density_per_cm2=-1)
    with pytest.raises(LabsimError, match="process node"):
        ch07.next_lpu_explore(node="1nm")


def test_widget_moves():
    w = ch07.make_next_lpu_widget()
    before = w.children[-2].value
    w.controls["k"].value = 6.0
    assert w.children[-2].value != before
    w.controls["rates_scale"].value = False
    w.controls["node"].value = "7nm"
    assert "7 nm" in w.children[-2].value
