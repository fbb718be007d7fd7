"""labsim.tsp: geometry, each instruction, each fault, determinism, NumPy equivalence, golden trace."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import labsim
from labsim.errors import LabsimError, TimingFault
from labsim.tsp import (
    Geometry,
    Instruction,
    Program,
    Stream,
    demo_program,
    macs_per_cycle,
    peak_fp16_flops_per_s,
    peak_int8_ops_per_s,
    reference_demo,
    simulate,
    sram_bytes_per_cycle,
    sram_sweep_time_s,
    stream_bytes_per_cycle,
    total_sram_bytes,
)

GOLDEN = Path(__file__).parent / "golden" / "tsp_journey_mini.json"
MINI = Geometry.mini()
VL = MINI.vector_len


# --- geometry -------------------------------------------------------------------------------------------
def test_faithful_derived_quantities():
    g = Geometry.faithful()
    assert total_sram_bytes(g) == 220 * 2**20
    assert total_sram_bytes(g) / 88 == 2.5 * 2**20
    assert sram_bytes_per_cycle(g) == 56_320
    assert stream_bytes_per_cycle(g) == 20_480
    assert macs_per_cycle(g) == 409_600
    assert round(peak_int8_ops_per_s(g, 0.9e9) / 1e12) == 737
    assert round(peak_int8_ops_per_s(g, 1.0e9) / 1e12) == 819
    assert round(peak_int8_ops_per_s(g, 1.25e9) / 1e12) == 1024
    assert peak_int8_ops_per_s(g) == peak_int8_ops_per_s(g, 900e6)
    assert round(peak_fp16_flops_per_s(g) / 1e12) == 184
    assert sram_sweep_time_s(g) == pytest.approx(220 * 2**20 / (56_320 * 900e6))
    assert g.vector_len == 320 and g.n_slices == 97


def test_layout_order():
    g = Geometry.faithful()
    names = g.slice_names
    assert names[:4] == ("C2C_W", "MXM_W1", "MXM_W0", "SXM_W")
    assert names[4] == "MEM_W43" and names[47] == "MEM_W0" and names[48] == "VXM" and names[49] == "MEM_E0"
    assert names[-4:] == ("SXM_E", "MXM_E0", "MXM_E1", "C2C_E")
    assert g.slice_types.count("MEM") == 88 and g.slice_types.count("MXM") == 4
    assert MINI.n_slices == 25 and MINI.vector_len == 64
    assert MINI.hop_cycles("MEM_W0", "MEM_E0") == 2
    assert Geometry.mini(stream_hop_cycles=3).hop_cycles("MEM_W0", "MEM_E0") == 6


def test_geometry_overrides_and_validation():
    assert Geometry.faithful(clock_hz=1e9).clock_hz == 1e9
    assert MINI.replace(vxm_cycles=7).delay("VXM_ADD") == 7
    with pytest.raises(LabsimError, match="did you mean"):
        Geometry.mini(stream_hop_cycle=2)
    with pytest.raises(LabsimError, match="stream_hop_cycles"):
        Geometry.mini(stream_hop_cycles=0)
    with pytest.raises(LabsimError):
        MINI.slice_index("MEM_W9")


# --- helpers --------------------------------------------------------------------------------------------
def i8(*v, n=VL, seed=0):
    if v:
        return np.array(v, dtype=np.int8)
    return np.random.default_rng(seed).integers(-100, 100, n).astype(np.int8)


def run_binary(op, a, b, g=MINI):
    """Read a (MEM_W0) and b (MEM_E0) so they meet at the VXM, apply op, write the result to MEM_E1."""
    p = Program(g)
    ra = p.mem_read(0, "MEM_W0", 0, 0, "E0")
    rb = p.mem_read(0, "MEM_E0", 0, 0, "W0")
    t = p.arrival(ra, "VXM")
    assert p.arrival(rb, "VXM") == t
    ins = p.vxm(t, op, "E0", "W0", out="E1")
    p.mem_write(p.arrival(ins, "MEM_E1"), "MEM_E1", 0, 0, "E1")
    r = simulate(p, g, memory={("MEM_W0", 0, 0): a, ("MEM_E0", 0, 0): b})
    return r.read("MEM_E1", 0, 0)


def run_unary(fn, a, g=MINI):
    """Read a at MEM_W0, apply fn(p, cycle, 'E0', out='E1') at the VXM/SXM, write to MEM_E1."""
    p = Program(g)
    ra = p.mem_read(0, "MEM_W0", 0, 0, "E0")
    ins = fn(p, ra)
    p.mem_write(p.arrival(ins, "MEM_E1"), "MEM_E1", 0, 0, "E1")
    return simulate(p, g, memory={("MEM_W0", 0, 0): a}).read("MEM_E1", 0, 0)


# --- each instruction -----------------------------------------------------------------------------------
def test_mem_read_write_roundtrip_and_padding():
    p = Program(MINI)
    r = p.mem_read(0, "MEM_W3", 1, 7, "E2")
    p.mem_write(p.arrival(r, "MEM_E5"), "MEM_E5", 0, 255, "E2")
    res = simulate(p, memory={("MEM_W3", 1, 7): np.array([1, 2, 3], dtype=np.int32)})
    out = res.read("MEM_E5", 0, 255)
    assert out.dtype == np.int32 and list(out[:4]) == [1, 2, 3, 0] and out.size == VL
    assert res.cycles == res.cycles_superlane0 + (MINI.superlanes - 1)


def test_preload_in_program():
    p = Program(MINI)
    p.preload("MEM_W0", 0, 0, i8(seed=3))
    r = p.mem_read(0, "MEM_W0", 0, 0, "E0")
    p.mem_write(p.arrival(r, "MEM_E0"), "MEM_E0", 0, 1, "E0")
    assert np.array_equal(simulate(p).read("MEM_E0", 0, 1), i8(seed=3))


@pytest.mark.parametrize("op,ref", [("add", np.add), ("mul", np.multiply), ("max", np.maximum)])
def test_vxm_binary_int(op, ref):
    a, b = i8(seed=1), i8(seed=2)
    out = run_binary(op, a, b)
    assert out.dtype == np.int32
    assert np.array_equal(out, ref(a.astype(np.int32), b.astype(np.int32)))


def test_vxm_int32_wraps():
    a = np.full(VL, 2**31 - 1, dtype=np.int32)
    b = np.ones(VL, dtype=np.int32)
    assert np.all(run_binary("add", a, b) == np.int32(-2**31))


@pytest.mark.parametrize("op,ref", [("add", np.add), ("mul", np.multiply), ("max", np.maximum)])
def test_vxm_binary_float(op, ref):
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=VL).astype(np.float16), rng.normal(size=VL).astype(np.float32)
    out = run_binary(op, a, b)
    assert out.dtype == np.float32
    assert np.array_equal(out, ref(a.astype(np.float32), b))


def test_vxm_relu():
    a = i8(seed=4)
    out = run_unary(lambda p, r: p.relu(p.arrival(r, "VXM"), "E0", "E1"), a)
    assert np.array_equal(out, np.maximum(a.astype(np.int32), 0)) and out.dtype == np.int32


def test_vxm_requantize():
    a = np.random.default_rng(6).integers(-20000, 20000, VL).astype(np.int32)
    a[:4] = [64, 96, -32, 32]            # exact halves: round half to even
    out = run_unary(lambda p, r: p.requantize(p.arrival(r, "VXM"), "E0", 1 / 64, "E1"), a)
    assert out.dtype == np.int8
    assert np.array_equal(out, np.clip(np.rint(a / 64), -128, 127).astype(np.int8))
    assert list(out[:4]) == [1, 2, 0, 0]


def test_sxm_shift_and_permute():
    a = i8(seed=7)
    # shift at SXM_E, send the result back west to MEM_E1
    p = Program(MINI)
    r = p.mem_read(0, "MEM_W0", 0, 0, "E0")
    s = p.sxm_shift(p.arrival(r, "SXM_E"), "SXM_E", "E0", 3, "W1")
    p.mem_write(p.arrival(s, "MEM_E1"), "MEM_E1", 0, 0, "W1")
    res = simulate(p, memory={("MEM_W0", 0, 0): a})
    exp = np.zeros(VL, dtype=np.int8)
    exp[3:] = a[:-3]
    assert np.array_equal(res.read("MEM_E1", 0, 0), exp)
    # permute on the west SXM
    perm = np.random.default_rng(1).permutation(VL)
    p = Program(MINI)
    r = p.mem_read(0, "MEM_W2", 0, 0, "W0")
    s = p.sxm_permute(p.arrival(r, "SXM_W"), "SXM_W", "W0", perm, "E3")
    p.mem_write(p.arrival(s, "MEM_W0"), "MEM_W0", 1, 0, "E3")
    res = simulate(p, memory={("MEM_W2", 0, 0): a})
    assert np.array_equal(res.read("MEM_W0", 1, 0), a[perm])


@pytest.mark.parametrize("dtype", ["int8", "fp16"])
def test_mxm_matvec(dtype):
    rng = np.random.default_rng(8)
    if dtype == "int8":
        W = rng.integers(-128, 128, (VL, VL)).astype(np.int8)
        x = rng.integers(-128, 128, VL).astype(np.int8)
        ref = W.astype(np.int64) @ x.astype(np.int64)
    else:
        W = rng.normal(size=(VL, VL)).astype(np.float16)
        x = rng.normal(size=VL).astype(np.float16)
        ref = (W.astype(np.float64) @ x.astype(np.float64)).astype(np.float32)
    p = Program(MINI)
    p.mxm_install(0, "MXM_W0", W)
    r = p.mem_read(20, "MEM_W1", 0, 0, "W0")
    m = p.mxm_matvec(p.arrival(r, "MXM_W0"), "MXM_W0", "W0", "E0")
    p.mem_write(p.arrival(m, "MEM_W1"), "MEM_W1", 1, 0, "E0")
    out = simulate(p, memory={("MEM_W1", 0, 0): x}).read("MEM_W1", 1, 0)
    assert out.dtype == (np.int32 if dtype == "int8" else np.float32)
    assert np.array_equal(out, ref)


def test_mxm_small_matrix_padded():
    W = np.arange(6, dtype=np.int8).reshape(2, 3)
    x = np.array([1, 1, 1], dtype=np.int8)
    p = Program(MINI)
    p.mxm_install(0, "MXM_E1", W)
    r = p.mem_read(20, "MEM_E7", 0, 0, "E0")
    m = p.mxm_matvec(p.arrival(r, "MXM_E1"), "MXM_E1", "E0", "W0")
    p.mem_write(p.arrival(m, "MEM_E7"), "MEM_E7", 1, 0, "W0")
    out = simulate(p, memory={("MEM_E7", 0, 0): x}).read("MEM_E7", 1, 0)
    assert list(out[:3]) == [3, 12, 0] and not out[2:].any()


def test_c2c_send_receive_and_nop():
    p = Program(MINI)
    rv = p.c2c_receive(0, "C2C_W", "E0", np.arange(VL, dtype=np.int8), link=2)
    p.nop(1, "C2C_W")
    p.mem_write(p.arrival(rv, "MEM_W7"), "MEM_W7", 0, 0, "E0")
    p.c2c_send(p.arrival(rv, "C2C_E"), "C2C_E", "E0", link=5)
    res = simulate(p)
    assert np.array_equal(res.read("MEM_W7", 0, 0), np.arange(VL))
    (cycle, slc, link, vec), = res.sent
    assert slc == "C2C_E" and link == 5 and np.array_equal(vec, np.arange(VL))
    assert cycle == MINI.c2c_serialize_cycles + MINI.hop_cycles("C2C_W", "C2C_E")


def test_value_visible_at_every_slice_it_passes():
    """Reading does not consume: two MEM slices downstream both capture the same value."""
    p = Program(MINI)
    r = p.mem_read(0, "MEM_W7", 0, 0, "E4")
    for s in ("MEM_W2", "MEM_E6"):
        p.mem_write(p.arrival(r, s), s, 0, 9, "E4")
    res = simulate(p, memory={("MEM_W7", 0, 0): i8(seed=9)})
    assert np.array_equal(res.read("MEM_W2", 0, 9), res.read("MEM_E6", 0, 9))


def test_hop_parameter_changes_arrival():
    g = Geometry.mini(stream_hop_cycles=2)
    p = Program(g)
    r = p.mem_read(0, "MEM_W0", 0, 0, "E0")
    assert p.arrival(r, "MEM_E0") == g.mem_read_cycles + 4
    p.mem_write(p.arrival(r, "MEM_E0"), "MEM_E0", 0, 0, "E0")
    simulate(p, memory={("MEM_W0", 0, 0): i8(seed=1)})
    p2 = Program(g)
    r = p2.mem_read(0, "MEM_W0", 0, 0, "E0")
    p2.mem_write(g.mem_read_cycles + 2, "MEM_E0", 0, 0, "E0")   # mid-hop: nothing there yet
    with pytest.raises(TimingFault, match="2 cycles later"):
        simulate(p2, memory={("MEM_W0", 0, 0): i8(seed=1)})


# --- faults ---------------------------------------------------------------------------------------------
def _journey_minus(delta=-1):
    """Demo program with the VXM add issued `delta` cycles off."""
    p, mem, *_ = demo_program(MINI)
    ins = list(p.instructions)
    k = next(j for j, r in enumerate(ins) if r.op == "VXM_ADD")
    r = ins[k]
    ins[k] = Instruction(cycle=r.cycle + delta, slice=r.slice, op=r.op, srcs=r.srcs, dst=r.dst, label=r.label)
    q = Program(MINI)
    q.extend(ins)
    return q, mem, k


def test_fault_empty_read_names_everything():
    q, mem, k = _journey_minus(-1)
    with pytest.raises(TimingFault) as ei:
        simulate(q, memory=mem)
    e = ei.value
    msg = str(e)
    assert e.kind == "empty_read" and e.slice == "VXM" and e.stream in ("W0", "W1")
    assert f"cycle {q.instructions[k].cycle}" in msg and "1 cycle later" in msg
    assert len(e.instructions) == 2 and k in e.instructions
    assert "VXM_ADD" in msg and ("MXM_MATVEC" in msg or "MEM_READ" in msg)


def test_fault_empty_read_late():
    q, mem, k = _journey_minus(+1)
    with pytest.raises(TimingFault, match="earlier, and it has moved on"):
        simulate(q, memory=mem)


def test_fault_stream_collision():
    p = Program(MINI)
    p.mem_read(0, "MEM_W0", 0, 0, "E0")
    p.mem_read(0, "MEM_W1", 0, 0, "E0")   # passes MEM_W0 on cycle 5 …
    p.mem_read(1, "MEM_W0", 1, 0, "E0")   # … when this one also writes E0 at MEM_W0
    mem = {("MEM_W0", 0, 0): i8(seed=1), ("MEM_W1", 0, 0): i8(seed=2), ("MEM_W0", 1, 0): i8(seed=3)}
    simulate(p, memory=mem)  # overwriting a passing value is allowed (no collision: different cycles)
    q = Program(MINI)
    q.mem_read(0, "MEM_W0", 0, 0, "E0")
    q.mem_read(0, "MEM_W0", 1, 0, "E0")
    with pytest.raises(TimingFault, match="two writes into the same stream slot") as ei:
        simulate(q, memory=mem)
    assert ei.value.kind == "stream_collision" and ei.value.stream == "E0" and ei.value.cycle == 4
    assert sorted(ei.value.instructions) == [0, 1]


def test_fault_bank_conflict():
    p = Program(MINI)
    p.mem_read(3, "MEM_E2", 0, 0, "W0")
    p.mem_read(3, "MEM_E2", 0, 1, "W1")
    with pytest.raises(TimingFault, match="bank conflict on bank 0") as ei:
        simulate(p, memory={("MEM_E2", 0, 0): i8(), ("MEM_E2", 0, 1): i8()})
    assert ei.value.kind == "bank_conflict" and ei.value.cycle == 3 and ei.value.slice == "MEM_E2"
    # read one bank + write the other bank in the same cycle: allowed (pseudo-dual-port)
    p = Program(MINI)
    r = p.mem_read(0, "MEM_W0", 0, 0, "E0")
    t = p.arrival(r, "MEM_E2")
    p.mem_write(t, "MEM_E2", 1, 0, "E0")
    p.mem_read(t, "MEM_E2", 0, 0, "W0")
    simulate(p, memory={("MEM_W0", 0, 0): i8(), ("MEM_E2", 0, 0): i8()})


def test_fault_read_write_same_bank_same_cycle():
    p = Program(MINI)
    r = p.mem_read(0, "MEM_W0", 0, 0, "E0")
    t = p.arrival(r, "MEM_E2")
    p.mem_write(t, "MEM_E2", 0, 5, "E0")
    p.mem_read(t, "MEM_E2", 0, 0, "W0")
    with pytest.raises(TimingFault, match="bank conflict"):
        simulate(p, memory={("MEM_W0", 0, 0): i8(), ("MEM_E2", 0, 0): i8()})


@pytest.mark.parametrize("kw,match", [
    (dict(out="E8"), "stream E8 is out of range"),
    (dict(out="W99"), "out of range"),
    (dict(address=256), "address = 256 is out of range"),
    (dict(bank=2), "bank = 2 is out of range"),
])
def test_fault_out_of_range(kw, match):
    args = dict(cycle=0, slice="MEM_W0", bank=0, address=0, out="E0")
    args.update(kw)
    with pytest.raises(TimingFault, match=match):
        Program(MINI).mem_read(**args)


def test_fault_out_of_range_record_appended_directly():
    p = Program(MINI)
    p.instructions.append(Instruction(cycle=0, slice="MEM_W0", op="MEM_READ", dst=Stream("E", 12), bank=0, address=0))
    with pytest.raises(TimingFault, match="E12 is out of range"):
        simulate(p)
    # a program built for faithful does not fit mini
    g = Geometry.faithful()
    q = Program(g)
    q.mem_read(0, "MEM_W20", 0, 0, "E20")
    with pytest.raises(TimingFault, match="does not fit"):
        simulate(q, MINI)


def test_fault_mxm_before_install():
    p = Program(MINI)
    r = p.mem_read(0, "MEM_W0", 0, 0, "W0")
    p.mxm_matvec(p.arrival(r, "MXM_W0"), "MXM_W0", "W0", "E0")
    with pytest.raises(TimingFault, match="no weights were installed") as ei:
        simulate(p, memory={("MEM_W0", 0, 0): i8()})
    assert ei.value.kind == "mxm_not_ready"
    p.mxm_install(0, "MXM_W0", np.eye(VL, dtype=np.int8))
    with pytest.raises(TimingFault, match=r"usable on cycle 20 \(7 cycles later\)") as ei:
        simulate(p, memory={("MEM_W0", 0, 0): i8()})
    assert len(ei.value.instructions) == 2


def test_fault_issue_slots_and_type_and_uninit():
    p = Program(MINI)
    p.nop(0, "SXM_E")
    p.nop(0, "SXM_E")
    with pytest.raises(TimingFault, match="more than 1 instruction") as ei:
        simulate(p)
    assert ei.value.kind == "issue_slots"
    a = i8()
    with pytest.raises(TimingFault, match="mixes integer and floating-point"):
        run_binary("add", a, a.astype(np.float16))
    with pytest.raises(TimingFault, match="requantizes a value that is not int32"):
        run_unary(lambda p, r: p.requantize(p.arrival(r, "VXM"), "E0", 0.5, "E1"), a)
    p = Program(MINI)
    p.mem_read(0, "MEM_W0", 0, 3, "E0")
    with pytest.raises(TimingFault, match="holds nothing yet") as ei:
        simulate(p)
    assert ei.value.kind == "uninitialised_memory"


def test_build_time_errors_are_labsim_errors():
    p = Program(MINI)
    with pytest.raises(LabsimError, match="runs on a VXM slice"):
        p.add(0, "E0", "E1", "E2", slice="MEM_W0")
    with pytest.raises(LabsimError, match="stream like"):
        p.relu(0, "X1", "E0")
    with pytest.raises(LabsimError, match="int8 or float16"):
        p.mxm_install(0, "MXM_E0", np.eye(4))
    with pytest.raises(LabsimError, match="permutation"):
        p.sxm_permute(0, "SXM_E", "E0", np.zeros(VL, dtype=int), "W0")
    with pytest.raises(LabsimError, match="dtype"):
        simulate(p, memory={("MEM_W0", 0, 0): np.arange(4)})
    with pytest.raises(LabsimError):
        simulate("not a program")


# --- determinism, NumPy equivalence ---------------------------------------------------------------------
def test_determinism():
    p, mem, *_ = demo_program(MINI)
    r1, r2 = simulate(p, memory=mem), simulate(p, memory=mem)
    assert r1.cycles == r2.cycles
    assert r1.trace.to_dict() == r2.trace.to_dict()
    assert all(np.array_equal(r1.memory[k], r2.memory[k]) for k in r1.memory)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_demo_matches_numpy(seed):
    p, mem, W, x, b, scale = demo_program(MINI, seed=seed)
    out = simulate(p, memory=mem).read("MEM_E3", 1, 0)
    assert np.array_equal(out, reference_demo(W, x, b, scale))


def test_demo_on_faithful():
    g = Geometry.faithful()
    p, mem, W, x, b, scale = demo_program(g)
    res = simulate(p, memory=mem)
    assert np.array_equal(res.read("MEM_E3", 1, 0), reference_demo(W, x, b, scale))
    assert res.cycles == res.cycles_superlane0 + 19


@given(st.lists(st.integers(-2**31, 2**31 - 1), min_size=1, max_size=VL),
       st.floats(1e-6, 1.0, allow_nan=False))
def test_property_add_requant(vals, scale):
    a = np.array(vals, dtype=np.int32)
    out = run_binary("add", a, a)
    ref = (a.astype(np.int64) * 2 + 2**31) % 2**32 - 2**31
    exp = np.zeros(VL, dtype=np.int64)
    exp[: a.size] = ref
    assert np.array_equal(out, exp.astype(np.int32))
    q = run_unary(lambda p, r: p.requantize(p.arrival(r, "VXM"), "E0", scale, "E1"), a)
    expq = np.zeros(VL)
    expq[: a.size] = np.clip(np.rint(a.astype(np.float64) * scale), -128, 127)
    assert np.array_equal(q, expq.astype(np.int8))


def build_mlp(g, W1, b1, s1, W2, b2):
    """y = W2·requant(relu(W1·x + b1), s1) + b2 (int32), x at MEM_W1/0/0, b1 at MEM_E2/0/0, b2 at MEM_E4/0/0."""
    p = Program(g, "mlp2")
    i1 = p.mxm_install(0, "MXM_E0", W1)
    p.mxm_install(0, "MXM_E1", W2)
    rx = p.mem_read(max(0, p.ready_cycle(i1) - g.delay("MEM_READ") - g.hop_cycles("MEM_W1", "MXM_E0")),
                    "MEM_W1", 0, 0, "E0")
    m1 = p.mxm_matvec(p.arrival(rx, "MXM_E0"), "MXM_E0", "E0", "W0")
    t = p.arrival(m1, "VXM")
    p.mem_read(t - g.delay("MEM_READ") - g.hop_cycles("MEM_E2", "VXM"), "MEM_E2", 0, 0, "W1")
    a1 = p.add(t, "W0", "W1", "E1")
    r1 = p.relu(p.ready_cycle(a1), "E1", "E2")
    q1 = p.requantize(p.ready_cycle(r1), "E2", s1, "E3")
    m2 = p.mxm_matvec(p.arrival(q1, "MXM_E1"), "MXM_E1", "E3", "W2")
    t2 = p.arrival(m2, "VXM")
    p.mem_read(t2 - g.delay("MEM_READ") - g.hop_cycles("MEM_E4", "VXM"), "MEM_E4", 0, 0, "W3")
    a2 = p.add(t2, "W2", "W3", "W4")
    p.mem_write(p.arrival(a2, "MEM_W5"), "MEM_W5", 1, 0, "W4")
    return p


@pytest.mark.parametrize("gname", ["mini", "faithful"])
def test_two_layer_mlp_matches_numpy(gname):
    g = getattr(Geometry, gname)()
    n = g.vector_len
    rng = np.random.default_rng(11)
    W1 = rng.integers(-10, 10, (n, n)).astype(np.int8)
    W2 = rng.integers(-10, 10, (n // 2, n)).astype(np.int8)
    x = rng.integers(-10, 10, n).astype(np.int8)
    b1 = rng.integers(-500, 500, n).astype(np.int32)
    b2 = rng.integers(-500, 500, n).astype(np.int32)
    s1 = 1 / 32
    p = build_mlp(g, W1, b1, s1, W2, b2)
    res = simulate(p, memory={("MEM_W1", 0, 0): x, ("MEM_E2", 0, 0): b1, ("MEM_E4", 0, 0): b2})
    h = np.clip(np.rint(np.maximum(W1.astype(np.int64) @ x + b1, 0) * s1), -128, 127)
    W2p = np.zeros((n, n), dtype=np.int64)
    W2p[: n // 2] = W2
    y = W2p @ h.astype(np.int64) + b2
    assert np.array_equal(res.read("MEM_W5", 1, 0), y.astype(np.int32))


# --- trace and golden regression ------------------------------------------------------------------------
def test_trace_segments_and_sources():
    p, mem, *_ = demo_program(MINI)
    res = simulate(p, memory=mem)
    tr = res.trace
    names = tr.op_names()
    k_add = names.index("VXM_ADD")
    assert names[tr.src_a[k_add]] == "MXM_MATVEC" and names[tr.src_b[k_add]] == "MEM_READ"
    segs = list(tr.segments())
    assert all(end > start for _, _, _, start, end, _ in segs)
    # east value read at MEM_W1 falls off at the east edge after crossing the chip
    d, s, sl, start, end, r = segs[0]
    assert end - start == (MINI.n_slices - sl) * MINI.stream_hop_cycles


def test_golden_trace():
    p, mem, *_ = demo_program(MINI, seed=0)
    res = simulate(p, memory=mem)
    got = {"cycles": res.cycles, "trace": res.trace.to_dict(),
           "output": res.read("MEM_E3", 1, 0).tolist()}
    if os.environ.get("LABSIM_REGEN_GOLDEN"):  # pragma: no cover - deliberate regeneration only
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(got, indent=1))
    want = json.loads(GOLDEN.read_text())
    assert got == want


def test_warmup_and_kernel_module_listed():
    from labsim import tsp
    assert "labsim.tsp" in labsim.KERNEL_MODULES
    tsp._warmup()


def test_parameter_table_covers_every_timing_field():
    from labsim.tsp import ASSUMED_FIELDS, parameter_table
    rows = parameter_table(MINI)
    fields = {r["field"] for r in rows}
    assert {"stream_hop_cycles", "mem_read_cycles", "vxm_cycles", "mxm_pass_cycles", "sxm_cycles",
            "instr_stagger_cycles_per_superlane", "mxm_install_cycles"} <= fields
    for r in rows:
        assert r["assumption"] == (r["field"] in ASSUMED_FIELDS)
        assert r["source"].startswith("[A]") == r["assumption"]


def test_program_find_replace_and_listing():
    p, mem, *_ = demo_program(MINI)
    k = p.find(op="VXM_ADD")
    q = p.replace(k, cycle=p.instructions[k].cycle + 1)
    assert q.instructions[k].cycle == p.instructions[k].cycle + 1 and p.instructions[k] is not q.instructions[k]
    assert p.find(label="b") == 3
    with pytest.raises(LabsimError):
        p.find(op="SXM_SHIFT")
    with pytest.raises(LabsimError, match="did you mean"):
        p.replace(k, cycles=3)
    with pytest.raises(LabsimError):
        p.replace(k, slice="MEM_W0")
    assert "VXM_ADD @ VXM" in p.listing()
    with pytest.raises(LabsimError, match="never reaches"):
        p.arrival(p.instructions[p.find(label="x")], "MEM_W7")


def test_derived_vs_published_rows():
    from labsim.viz import ch01
    rows = {r["quantity"]: r for r in ch01.derived_vs_published("faithful")}
    assert rows["on-chip SRAM"]["derived"] == 220 * 2**20 and rows["on-chip SRAM"]["published"] == 230e6
    assert rows["SRAM port bandwidth"]["derived"] == pytest.approx(50.688e12)
    assert rows["peak INT8"]["derived"] == pytest.approx(737.28e12)
    assert "220 MiB" in ch01.derived_text(list(rows.values()))


def test_max_cycles_guard_and_shared_weights():
    p = Program(MINI)
    p.nop(10**7, "VXM")
    with pytest.raises(LabsimError, match="max_cycles"):
        simulate(p, max_cycles=1000)
    q = Program(MINI)
    W = np.eye(VL, dtype=np.int8)
    q.mxm_install(0, "MXM_E0", W)
    q.mxm_install(0, "MXM_E1", W.copy())
    from labsim.tsp import _encode
    assert _encode.encode(q)["wts"].shape[0] == 1


# --- audit additions: the full journey, fault attributes, input validation --------------------------------
@pytest.mark.parametrize("gname", ["mini", "faithful"])
@pytest.mark.parametrize("seed", [0, 1])
def test_journey_mem_vxm_mxm_vxm_mem_matches_numpy(gname, seed):
    from labsim.tsp import journey_program, reference_journey
    g = getattr(Geometry, gname)()
    p, mem, W, a, b, s_in, s_out = journey_program(g, seed=seed)
    res = simulate(p, memory=mem)
    assert np.array_equal(res.read("MEM_E3", 1, 0), reference_journey(W, a, b, s_in, s_out))
    # the value visits MEM → VXM → MXM → VXM → MEM, in that order
    names = res.trace.op_names()
    kinds = [n.split("_")[0] for n in names if n != "MXM_INSTALL"]
    assert kinds[:4] == ["MEM", "VXM", "MXM", "MEM"] and kinds[-1] == "MEM" and "VXM_ADD" in names
    assert res.trace.labels[names.index("VXM_REQUANT")] == "a→int8"
    # the requantized activation is what the MXM read
    k_mv = names.index("MXM_MATVEC")
    assert names[res.trace.src_a[k_mv]] == "VXM_REQUANT"


def test_journey_one_cycle_early_matvec_faults():
    from labsim.tsp import journey_program
    p, mem, *_ = journey_program(MINI)
    k = p.find(op="MXM_MATVEC")
    with pytest.raises(TimingFault) as ei:
        simulate(p.replace(k, cycle=p.instructions[k].cycle - 1), memory=mem)
    assert ei.value.kind in ("empty_read", "mxm_not_ready") and ei.value.slice == "MXM_E0"


def test_out_of_range_fault_carries_attributes():
    with pytest.raises(TimingFault) as ei:
        Program(MINI).mem_read(3, "MEM_W0", 0, 0, "E9")
    e = ei.value
    assert (e.kind, e.cycle, e.slice, e.stream, e.instructions) == ("out_of_range", 3, "MEM_W0", "E9", (0,))
    with pytest.raises(TimingFault) as ei:
        Program(MINI).mem_read(2, "MEM_E1", 0, 999, "W1")
    assert ei.value.kind == "out_of_range" and ei.value.stream is None and "address = 999" in str(ei.value)
    # a bad scale or shift is a plain input error, not a timing fault
    with pytest.raises(LabsimError) as ei:
        Program(MINI).requantize(0, "E0", 0, "E1")
    assert not isinstance(ei.value, TimingFault) and "scale" in str(ei.value)


@pytest.mark.parametrize("call", [
    lambda: total_sram_bytes("faithful"), lambda: macs_per_cycle(None), lambda: sram_bytes_per_cycle(3),
    lambda: stream_bytes_per_cycle("mini"), lambda: peak_int8_ops_per_s("faithful"),
    lambda: Geometry.mini(lanes_per_superlane=10**6), lambda: Geometry.mini(name=3),
    lambda: demo_program(MINI, seed=-1), lambda: demo_program(MINI, seed="x"), lambda: demo_program(42),
    lambda: reference_demo(None, None, None, None), lambda: reference_demo(np.eye(4, dtype=np.int8),
                                                                           np.ones(3, dtype=np.int8),
                                                                           np.ones(4, dtype=np.int32), 0.5),
    lambda: labsim.tsp.Trace.from_dict({}), lambda: labsim.tsp.Trace.from_dict([1]),
    lambda: labsim.tsp.parameter_table("mini"),
])
def test_bad_inputs_raise_labsim_error(call):
    with pytest.raises(LabsimError):
        call()


def test_trace_roundtrip_and_labels_not_in_golden_dict():
    p, mem, *_ = demo_program(MINI)
    tr = simulate(p, memory=mem).trace
    d = tr.to_dict()
    assert "labels" not in d
    assert labsim.tsp.Trace.from_dict(d).to_dict() == d
    assert tr.labels[list(tr.op_names()).index("VXM_ADD")] == "+b"
