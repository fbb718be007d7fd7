"""labsim.tsp with the weight traffic simulated: repeated MEM reads, streamed MXM_LOAD, MXM_ACC accumulation,
bulk preloads and timing-only runs (values=False) — each checked against NumPy or against the values run."""
from __future__ import annotations

import numpy as np
import pytest

from labsim.errors import LabsimError, TimingFault
from labsim.tsp import Geometry, Program, simulate

MINI = Geometry.mini()
VL = MINI.vector_len


def _layout_weights(p: Program, W: np.ndarray, streams: list[str], banks: list[tuple[str, int]], base: int = 0,
                    values: bool = True):
    """Store W's rows so that stream k's bank holds rows k, k+S, k+2S, … at consecutive addresses."""
    S = len(streams)
    for k, (sl, bank) in enumerate(banks):
        rows = W[k::S]
        if values:
            p.preload_block(sl, bank, base, rows)
        else:
            p.preload_block(sl, bank, base, None, count=rows.shape[0], dtype="int8")


def streamed_matvec(W_tiles, x_chunks, *, S=4, values=True, plane="MXM_E0", accumulate=True, g=MINI):
    """y = Σ_i W_i · x_i on one plane: each W_i is streamed from MEM by repeated reads and loaded over S streams;
    all passes but the last accumulate; the result goes west to MEM_E0 (bank 1, address 5)."""
    p = Program(g, "streamed")
    streams = [f"E{k}" for k in range(S)]
    banks = [(f"MEM_E{4 + k // 2}", k % 2) for k in range(S)]
    t = 0
    last = None
    for i, (W, x) in enumerate(zip(W_tiles, x_chunks, strict=False)):
        rows = W.shape[0]
        base = i * (-(-g.vector_len // S))
        _layout_weights(p, W, streams, banks, base, values)
        c_load = t + g.delay("MEM_READ") + g.hop_cycles(banks[0][0], plane)
        for k, (sl, bank) in enumerate(banks):
            n = len(range(k, rows, S))
            if n:
                lead = g.delay("MEM_READ") + g.hop_cycles(sl, plane)
                p.mem_read(c_load - lead, sl, bank, base, streams[k], repeat=n, label=f"W{i} rows {k}::{S}")
        load = p.mxm_load(c_load, plane, streams, rows, label=f"load W{i}")
        t_pass = p.ready_cycle(load)
        if values:
            p.preload("MEM_W0", 0, i, x)
        else:
            p.preload_block("MEM_W0", 0, i, None, count=1, dtype="int8")
        rx = p.mem_read(t_pass - g.delay("MEM_READ") - g.hop_cycles("MEM_W0", plane), "MEM_W0", 0, i, "E7",
                        label=f"x{i}")
        assert p.arrival(rx, plane) == t_pass
        if accumulate and i < len(W_tiles) - 1:
            p.mxm_acc(t_pass, plane, "E7", label=f"acc {i}")
        else:
            last = p.mxm_matvec(t_pass, plane, "E7", "W3", label="emit")
        t = t_pass + 1 - (g.delay("MEM_READ") + g.hop_cycles(banks[0][0], plane))
    p.mem_write(p.arrival(last, "MEM_E0"), "MEM_E0", 1, 5, "W3", label="y")
    return p


def _tiles(n, rows=VL, seed=0):
    rng = np.random.default_rng(seed)
    Ws = [rng.integers(-20, 20, (rows, VL)).astype(np.int8) for _ in range(n)]
    xs = [rng.integers(-20, 20, VL).astype(np.int8) for _ in range(n)]
    return Ws, xs


@pytest.mark.parametrize("S", [1, 3, 4, 8])
def test_streamed_load_matvec_matches_numpy(S):
    Ws, xs = _tiles(1)
    res = simulate(streamed_matvec(Ws, xs, S=S))
    assert np.array_equal(res.read("MEM_E0", 1, 5), (Ws[0].astype(np.int64) @ xs[0]).astype(np.int32))


def test_partial_tile_rows_are_zero_and_load_takes_ceil_rows_over_streams():
    Ws, xs = _tiles(1, rows=37)
    p = streamed_matvec(Ws, xs, S=4)
    load = p.instructions[p.find(op="MXM_LOAD")]
    assert p.ready_cycle(load) - load.cycle == 10          # ceil(37 / 4)
    y = simulate(p).read("MEM_E0", 1, 5)
    ref = np.zeros(VL, dtype=np.int64)
    ref[:37] = Ws[0].astype(np.int64) @ xs[0]
    assert np.array_equal(y, ref.astype(np.int32))


def test_accumulate_over_tiles_matches_numpy_and_without_acc_only_last():
    Ws, xs = _tiles(3, seed=4)
    y = simulate(streamed_matvec(Ws, xs)).read("MEM_E0", 1, 5)
    ref = sum(W.astype(np.int64) @ x for W, x in zip(Ws, xs, strict=False))
    assert np.array_equal(y, ref.astype(np.int32))
    # MATVEC clears the accumulator: a second group starts from zero
    y2 = simulate(streamed_matvec(Ws, xs, accumulate=False)).read("MEM_E0", 1, 5)
    assert np.array_equal(y2, (Ws[-1].astype(np.int64) @ xs[-1]).astype(np.int32))


def test_timing_only_run_has_the_same_cycles_and_trace():
    Ws, xs = _tiles(3, seed=5)
    rv = simulate(streamed_matvec(Ws, xs, values=True))
    pt = streamed_matvec(Ws, xs, values=False)
    rt = simulate(pt, values=False)
    assert rt.cycles == rv.cycles and not rt.values and rt.memory == {}
    for k in ("cycle", "slice", "op", "done_cycle", "src_a", "src_b", "seg_end", "load_src"):
        assert np.array_equal(getattr(rt.trace, k), getattr(rv.trace, k)), k
    with pytest.raises(LabsimError, match="values=False"):
        simulate(pt)                                    # the program carries no weight values
    with pytest.raises(LabsimError, match="timing only"):
        rt.read("MEM_E0", 1, 5)


def test_repeat_read_expands_into_one_trace_row_per_cycle():
    p = Program(MINI)
    p.preload_block("MEM_W2", 1, 10, np.arange(3 * VL).reshape(3, VL).astype(np.int32) % 100)
    r = p.mem_read(5, "MEM_W2", 1, 10, "E1", repeat=3)
    for j in range(3):
        p.mem_write(p.arrival(r, "MEM_E1") + j, "MEM_E1", 0, 20 + j, "E1")
    res = simulate(p)
    for j in range(3):
        assert np.array_equal(res.read("MEM_E1", 0, 20 + j), (np.arange(VL) + j * VL) % 100)
    rows = np.flatnonzero(res.trace.index == 0)
    assert list(res.trace.cycle[rows]) == [5, 6, 7]
    with pytest.raises(TimingFault, match="repeat = 300 is out of range"):
        p.mem_read(0, "MEM_W2", 0, 0, "E2", repeat=300)
    with pytest.raises(LabsimError, match="only MEM_READ may repeat"):
        p.append(type(r)(cycle=0, slice="VXM", op="NOP", repeat=2))


def test_load_faults_name_the_stream_and_the_cycle():
    Ws, xs = _tiles(1)
    p = streamed_matvec(Ws, xs, S=4)
    k = p.find(op="MXM_LOAD")
    early = p.replace(k, cycle=p.instructions[k].cycle - 1)
    with pytest.raises(TimingFault) as ei:
        simulate(early)
    assert ei.value.kind == "empty_read" and ei.value.slice == "MXM_E0" and "load cycle 0" in str(ei.value)
    # a matvec while the plane is still loading
    j = p.find(op="MXM_MATVEC")
    with pytest.raises(TimingFault) as ei:
        simulate(p.replace(j, cycle=p.instructions[j].cycle - 1))
    assert ei.value.kind == "issue_slots"           # the load occupies the plane every cycle it reads


def test_load_of_int32_rows_is_a_type_fault():
    p = Program(MINI)
    p.preload("MEM_E4", 0, 0, np.ones(VL, dtype=np.int32))
    r = p.mem_read(0, "MEM_E4", 0, 0, "E0")
    p.mxm_load(p.arrival(r, "MXM_E0"), "MXM_E0", ["E0"], 1)
    with pytest.raises(TimingFault) as ei:
        simulate(p)
    assert ei.value.kind == "type_mismatch" and "neither int8 nor fp16" in str(ei.value)


@pytest.mark.parametrize("call,match", [
    (lambda p: p.mxm_load(0, "MXM_E0", [], 4), "reads 1"),
    (lambda p: p.mxm_load(0, "MXM_E0", ["E0", "E0"], 4), "repeat"),
    (lambda p: p.mxm_load(0, "MXM_E0", ["E0"], 0), "rows"),
    (lambda p: p.mxm_load(0, "MXM_E0", ["E0"], VL + 1), "rows"),
    (lambda p: p.mxm_load(0, "VXM", ["E0"], 4), "MXM slice"),
    (lambda p: p.mxm_acc(0, "MXM_E0", "E99"), "out of range"),
    (lambda p: p.preload_block("MEM_W0", 0, 250, None, count=10, dtype="int8"), "count"),
    (lambda p: p.preload_block("MEM_W0", 0, 0, None, count=3), "dtype"),
    (lambda p: p.preload_block("MEM_W0", 0, 0, np.full((2, 3), np.nan, dtype=np.float32)), "finite"),
    (lambda p: p.preload_block("MEM_W0", 0, 0, np.zeros((2, VL + 1), dtype=np.int8)), "shape"),
])
def test_bad_streaming_arguments(call, match):
    with pytest.raises(LabsimError, match=match):
        call(Program(MINI))


def test_streamed_load_on_faithful_with_16_streams_takes_20_cycles():
    g = Geometry.faithful()
    Ws, xs = _tiles(2, rows=g.vector_len, seed=7)
    Ws = [np.resize(W, (g.vector_len, g.vector_len)).astype(np.int8) for W in Ws]
    xs = [np.resize(x, g.vector_len).astype(np.int8) for x in xs]
    p = streamed_matvec(Ws, xs, S=16, g=g)
    load = p.instructions[p.find(op="MXM_LOAD")]
    assert p.ready_cycle(load) - load.cycle == g.mxm_install_cycles == 20
    y = simulate(p).read("MEM_E0", 1, 5)
    assert np.array_equal(y, sum(W.astype(np.int64) @ x for W, x in zip(Ws, xs, strict=False)).astype(np.int32))
