"""Chapter 3 widget callback and plots: fast, plain, no errors."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from labsim import LabsimError, capacity, catalog
from labsim.viz import ch03


def test_explore_values_match_capacity():
    r = ch03.explore("llama-3.3-70b", "int8", 4096, 1, "groq-lpu-v1")
    p = capacity.plan("llama-3.3-70b", "groq-lpu-v1", "int8", context_tokens=4096, batch=1)
    d = capacity.decode_time("llama-3.3-70b", "groq-lpu-v1", chips=p.chips)
    assert r["chips"] == p.chips and r["domains"] == p.domains and r["error"] is None
    assert r["tokens_per_s"] == pytest.approx(d.tokens_per_s)
    assert r["dominant_bound"] in capacity.BOUNDS
    assert "tok/s" in ch03.explore_text(r)


def test_explore_answers_for_every_chip_and_model():
    # Speed (< 100 ms per move) is measured in benches/ (make bench), not asserted here.
    for chip in catalog.chips():
        for model in ("llama-3.1-8b", "gpt-oss-120b", "kimi-k2"):
            r = ch03.explore(model, "int8", 8192, 4, chip)
            assert r["chips"] >= 1
            assert isinstance(ch03.explore_text(r), str) and ch03.explore_text(r)


def test_explore_reports_uncomputable_decode_as_text():
    catalog.add_chip({"name": "no-peak-wafer", "memory_kind": "sram", "memory_bytes": 44e9,
                      "memory_bandwidth_bytes_per_s": 21e15})            # a user chip with no published peak
    try:
        r = ch03.explore("llama-3.1-8b", "int8", 4096, 1, "no-peak-wafer")
    finally:
        catalog._remove_user_entries()
    assert r["error"] and "peak" in r["error"]
    assert "not computable" in ch03.explore_text(r)


def test_explore_bad_inputs():
    with pytest.raises(LabsimError, match="batch"):
        ch03.explore(batch=0)
    with pytest.raises(LabsimError, match="context_tokens"):
        ch03.explore(context_tokens=-1)
    with pytest.raises(LabsimError, match="precision"):
        ch03.explore(precision="int3")


def test_plots_build():
    figs = [ch03.capacity_picture(), ch03.breakdown_bars({"a": capacity.plan("llama-3.1-8b", "groq-lpu-v1")}),
            ch03.reconcile_waterfall(), ch03.decode_bars(("llama-3.1-8b",)), ch03.roofline_plot()]
    for f in figs:
        assert f.axes
        plt.close(f)


def test_widget_builds():
    w = ch03.make_capacity_widget()
    assert w.children


def test_batch_plot_marks_compute_bound_batch():
    fig = ch03.batch_plot("llama-3.3-70b", "nvidia-b300", contexts=(0, 32768), max_batch=512)
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    kb = capacity.compute_bound_batch("llama-3.3-70b", "nvidia-b300", chips=1, context_tokens=0)
    assert f"compute-bound from batch {kb}" in texts
    assert "still memory-bound" in texts
    # 32k tokens × 327,680 B = 10.7 GB of KV per sequence: one B300 (259 GB usable) fills up at a small batch
    fits = capacity.decode_sweep("llama-3.3-70b", "nvidia-b300", chips=1, batch=np.arange(1, 513),
                                 context_tokens=32768)["fits"]
    assert f"memory full at batch {int(fits.sum())}" in texts and 1 < fits.sum() < 30
    plt.close(fig)
    with pytest.raises(LabsimError, match="max_batch"):
        ch03.batch_plot(max_batch=1)


def test_reconcile_waterfall_marks_unexplained():
    fig = ch03.reconcile_waterfall()
    rows = capacity.reconcile_576()
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert f"{rows[-1]['chips']:.0f} chips\nnot explained" in texts
    plt.close(fig)
