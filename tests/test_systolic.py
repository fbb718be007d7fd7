"""labsim.systolic: the weight-stationary array, cycle by cycle, against NumPy and the closed-form schedule."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labsim import catalog
from labsim import systolic as S
from labsim.errors import LabsimError


def _rand(shape, seed):
    return np.random.default_rng(seed).integers(-128, 128, size=shape)


@pytest.mark.parametrize("R,C", [(1, 1), (1, 5), (4, 4), (8, 3), (16, 16)])
def test_fill_latency_is_rows_plus_cols_minus_one(R, C):
    a = S.SystolicArray(rows=R, cols=C, weight_shift_cycles=0)     # weights already in place
    r = S.simulate(_rand((R, C), 0), _rand((1, R), 1), a)
    assert r.cycles == R + C - 1 == r.fill_cycles
    assert r.first_output_cycle == R + C - 2


@pytest.mark.parametrize("B", [1, 2, 7, 30])
def test_batch_adds_one_cycle_per_vector(B):
    a = S.SystolicArray(rows=6, cols=5, weight_shift_cycles=0)
    r = S.simulate(_rand((6, 5), 2), _rand((B, 6), 3), a)
    assert r.cycles == B + 6 + 5 - 2
    # every MAC of the batch happens exactly once
    assert r.busy_per_cycle.sum() == B * 6 * 5 == r.useful_macs
    assert r.utilization == pytest.approx(B / (B + 6 + 5 - 2))


def test_wavefront_is_a_diagonal():
    a = S.SystolicArray(rows=4, cols=4, weight_shift_cycles=0)
    r = S.simulate(_rand((4, 4), 4), _rand((1, 4), 5), a, record=True)
    for t in range(r.cycles):
        active = np.argwhere(r.trace[t] >= 0)
        assert all(i + j == t for i, j in active)      # vector 0 is at PE(i, j) on cycle i + j


@settings(max_examples=25, deadline=None)
@given(R=st.integers(1, 6), C=st.integers(1, 6), K=st.integers(1, 14), N=st.integers(1, 14), B=st.integers(1, 5),
       bpc=st.sampled_from([None, 0.5, 3.0, 40.0]), fifo=st.integers(1, 4), shift=st.integers(0, 7),
       seed=st.integers(0, 2**16))
def test_outputs_equal_numpy_and_cycles_equal_schedule(R, C, K, N, B, bpc, fifo, shift, seed):
    a = S.SystolicArray(rows=R, cols=C, weight_bytes_per_cycle=bpc, fifo_tiles=fifo, weight_shift_cycles=shift)
    W, X = _rand((K, N), seed), _rand((B, K), seed + 1)
    r = S.simulate(W, X, a)
    assert np.array_equal(r.outputs, X @ W)            # exact integer result
    assert r.cycles == S.matmul_cycles(K, N, B, a)["cycles"]
    assert r.useful_macs == B * K * N


def test_weights_from_slow_memory_set_the_pace():
    """With weights streamed from a slow memory, a tile arrives every F cycles: the array waits for the bytes."""
    a = S.SystolicArray(rows=4, cols=4, weight_bytes_per_cycle=1.0, weight_shift_cycles=4)   # F = 16 cycles/tile
    r = S.simulate(_rand((16, 4), 6), _rand((1, 16), 7), a)
    assert np.all(np.diff(r.tile_starts) == 16)
    fast = S.simulate(_rand((16, 4), 6), _rand((1, 16), 7), S.SystolicArray(rows=4, cols=4, weight_shift_cycles=4))
    assert np.all(np.diff(fast.tile_starts) == 4)      # on-chip weights: only the 4-cycle shift separates tiles


def test_tpu_v1_from_the_catalog():
    a = S.tpu_v1_array()
    c = catalog.chip("google-tpu-v1")
    assert (a.rows, a.cols, a.shift_cycles, a.fifo_tiles) == (256, 256, 256, 4)
    assert a.peak_macs_per_s * 2 == pytest.approx(c.peak_ops("int8"), rel=0.01)
    # one 64 KiB tile from 34 GB/s at 700 MHz takes ~1,349 cycles: the paper's ridge of ~1,350 ops/weight byte
    assert a.tile_fetch_cycles == pytest.approx(256 * 256 * 700e6 / 34e9)
    u = S.utilization_vs_batch(2048, 2048, [1, 200, 1349, 4000], a)
    assert u["utilization"][0] < 0.001                 # batch 1 wastes > 99.9 % of the MACs
    assert np.all(np.diff(u["utilization"]) > 0)
    assert u["utilization"][2] > 0.8 and u["utilization"][3] > 0.9


def test_batch_one_on_tpu_vs_tsp():
    W, x = _rand((256, 256), 8), _rand(256, 9)
    tpu = S.simulate(W, x[None, :], S.tpu_v1_array())
    tsp = S.tsp_gemv(W.T, x)                           # the array computes x @ W; the MXM computes W' @ x
    assert tsp["ok"] and np.array_equal(tpu.outputs[0], tsp["output"])
    assert tsp["seconds"] * 10 < tpu.seconds           # weights in on-chip SRAM vs fetched from DDR3


def test_mlp_latency_grows_with_batch_and_ips_saturates():
    r = S.mlp_batch_latency([(2048, 2048)] * 5, [1, 10, 100, 1000, 3000], S.tpu_v1_array())
    assert np.all(np.diff(r["seconds"]) >= 0)
    assert np.all(np.diff(r["inferences_per_s"]) > 0)
    assert r["utilization"][-1] <= 1.0


def test_bad_inputs():
    with pytest.raises(LabsimError, match="rows"):
        S.SystolicArray(rows=0)
    with pytest.raises(LabsimError, match="weight_bytes_per_cycle"):
        S.SystolicArray(weight_bytes_per_cycle=-1)
    with pytest.raises(LabsimError, match="out of range; allowed: int8"):
        S.simulate(np.full((2, 2), 300), np.ones((1, 2), int))
    with pytest.raises(LabsimError, match="columns but weights have"):
        S.simulate(np.ones((3, 2), int), np.ones((1, 2), int))
    with pytest.raises(LabsimError, match="integer array"):
        S.simulate(np.ones((2, 2)), np.ones((1, 2), int))
    with pytest.raises(LabsimError, match="record=True"):
        S.simulate(_rand((256, 256), 1), _rand((4, 256), 2), S.tpu_v1_array(), record=True)
    with pytest.raises(LabsimError, match="batch"):
        S.tile_schedule(2, 0)
    with pytest.raises(LabsimError, match="array must be"):
        S.simulate(np.ones((2, 2), int), np.ones((1, 2), int), array="tpu")
    with pytest.raises(LabsimError, match="one MXM plane"):
        S.tsp_gemv(np.ones((400, 400), int), np.ones(400, int))
