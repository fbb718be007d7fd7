"""labsim.tsp never crashes the process and never hands the kernel an id out of range (issue 15): one test per
class of bad input — a program whose geometry is swapped, records or preloads put in by hand, odd arguments."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from labsim import tsp
from labsim.errors import LabsimError, TimingFault
from labsim.tsp import Geometry, Instruction, Program, Stream, demo_program, simulate

MINI = Geometry.mini()

REPRODUCER = """
import sys
from labsim import tsp
from labsim.errors import LabsimError
p, mem, *_ = tsp.demo_program()
try:
    p.geometry = tsp.Geometry.mini(streams_per_direction=1)
    tsp.simulate(p, memory=mem)
except LabsimError as exc:
    print("LabsimError:", type(exc).__name__, exc)
    sys.exit(0)
print("no error")
sys.exit(3)
"""


def test_segfault_reproducer_gives_a_clean_error_in_a_subprocess():
    res = subprocess.run([sys.executable, "-c", REPRODUCER], capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "LabsimError: TimingFault" in res.stdout and "out of range" in res.stdout


@pytest.mark.parametrize("override,match", [
    (dict(streams_per_direction=1), "stream W1 is out of range"),
    (dict(mem_banks_per_slice=1), "bank = 1 is out of range"),
    (dict(mem_words_per_bank=1, mem_slices_per_hemisphere=2), "does not fit.*MEM_E2"),
    (dict(superlanes=1, lanes_per_superlane=8), "does not fit.*at most 8 × 8"),
])
def test_swapping_the_geometry_revalidates_and_leaves_the_program_unchanged(override, match):
    p, mem, *_ = demo_program(MINI)
    before = list(p.instructions)
    with pytest.raises(TimingFault, match=match):
        p.geometry = Geometry.mini(**override)
    assert p.geometry == MINI and p.instructions == before
    assert simulate(p, memory=mem).cycles > 0
    with pytest.raises(LabsimError):
        p.geometry = "faithful"


def test_a_geometry_that_fits_is_accepted_and_used():
    p, mem, *_ = demo_program(MINI)
    p.geometry = Geometry.mini(vxm_cycles=5)
    assert p.geometry.vxm_cycles == 5
    # the add now waits one cycle longer for nothing: the ReLU reads its operand too early
    with pytest.raises(TimingFault):
        simulate(p, memory=mem)


@pytest.mark.parametrize("key,entry,match", [
    (("MEM_W0", 0, 99999), (np.zeros(64), "int8"), "address = 99999"),
    (("MEM_W0", 5, 0), (np.zeros(64), "int8"), "bank = 5"),
    (("VXM", 0, 0), (np.zeros(64), "int8"), "MEM slices"),
    (("MEM_W0", 0, 1), (np.full(64, np.nan), "int8"), "finite"),
    (("MEM_W0", 0, 1), (np.full(64, 300.0), "int8"), r"\[-128, 127\]"),
    (("MEM_W0", 0, 1), (np.ones(65), "int8"), "elements"),
    (("MEM_W0", 0, 1), (np.zeros(4), "int7"), "element type"),
    (("MEM_W0", 0, 1), np.zeros(4), r"\(values, dtype\)"),
    ("MEM_W0", (np.zeros(4), "int8"), "slice, bank, address"),
])
def test_preloads_set_by_hand_are_validated(key, entry, match):
    p, mem, *_ = demo_program(MINI)
    p.preloads[key] = entry
    with pytest.raises(LabsimError, match=match):
        simulate(p, memory=mem)


def test_records_and_blocks_put_in_by_hand_are_validated():
    p, mem, *_ = demo_program(MINI)
    p.instructions.append(Instruction(cycle=0, slice="MEM_W0", op="MEM_READ", dst=Stream("E", 999), bank=0,
                                      address=0))
    with pytest.raises(TimingFault, match="E999 is out of range"):
        simulate(p, memory=mem)
    q, mem, *_ = demo_program(MINI)
    q.instructions.append("MEM_READ")
    with pytest.raises(LabsimError, match="must be a labsim.tsp.Instruction"):
        simulate(q, memory=mem)
    r, mem, *_ = demo_program(MINI)
    r.instructions = tuple(r.instructions)
    with pytest.raises(LabsimError, match="must be a list"):
        simulate(r, memory=mem)
    s, mem, *_ = demo_program(MINI)
    s.preload_blocks.append(("MEM_W0", 0, 250, 50, None, "int8"))
    with pytest.raises(LabsimError, match="count"):
        simulate(s, memory=mem, values=False)
    s.preload_blocks[-1] = "junk"
    with pytest.raises(LabsimError, match="preload block"):
        simulate(s, memory=mem)


def test_an_edited_program_is_re_encoded():
    p, mem, *_ = demo_program(MINI)
    c1 = simulate(p, memory=mem).cycles
    k = p.find(op="MEM_WRITE")
    ins = p.instructions[k]
    p.instructions[k] = Instruction(**{**{f: getattr(ins, f) for f in ("cycle", "slice", "op", "srcs", "bank",
                                                                        "address", "label")}, "cycle": ins.cycle + 40})
    with pytest.raises(TimingFault, match="holds nothing"):
        simulate(p, memory=mem)
    p.instructions[k] = ins
    assert simulate(p, memory=mem).cycles == c1


@pytest.mark.parametrize("kw,match", [
    (dict(values="yes"), "values"), (dict(max_cycles=0), "max_cycles"), (dict(max_cycles=10**30), "max_cycles"),
    (dict(memory=[1, 2]), "dict"), (dict(memory={"MEM_W0": np.zeros(4, dtype=np.int8)}), "slice, bank, address"),
    (dict(memory={("MEM_W0", 0, 0): np.array(["a"])}), "dtype"),
    (dict(memory={("MEM_W0", 0, 0): np.array([None], dtype=object)}), "dtype"),
    (dict(memory={("MEM_W0", 0, 0): np.array([np.inf], dtype=np.float32)}), "finite"),
    (dict(geometry="mini"), "Geometry"),
])
def test_simulate_arguments(kw, match):
    p, mem, *_ = demo_program(MINI)
    kw = {"memory": mem, **kw}
    with pytest.raises(LabsimError, match=match):
        simulate(p, **kw)


@pytest.mark.parametrize("call", [
    lambda: Geometry.mini(clock_hz=1e308), lambda: Geometry.mini(clock_hz=float("nan")),
    lambda: Geometry.mini(mem_words_per_bank=10**7), lambda: Geometry.mini(vxm_cycles=10**9),
    lambda: Geometry.mini(name="x" * 100), lambda: Geometry.mini(streams_per_direction=2.5),
    lambda: tsp.peak_int8_ops_per_s(MINI, clock_hz=1e308), lambda: MINI.delay("MXM_LOAD"),
    lambda: MINI.slice_index(10**30), lambda: MINI.slice_index(None), lambda: MINI.load_cycles(0, 4),
    lambda: Program(MINI).replace(0, cycle=1), lambda: Program(MINI).nop(2**41, "VXM"),
    lambda: Program(MINI).mem_read(0, "MEM_W0", 0, 0, "E" + "9" * 40),
    lambda: Program(MINI).requantize(0, "E0", 1e300, "E1"),
    lambda: Program(MINI).mxm_install(0, "MXM_E0", np.array([["a"]])),
    lambda: Program(MINI).nop(0, "VXM", label=object()) and simulate(Program(MINI), values=1),
])
def test_odd_arguments_raise_labsim_error(call):
    with pytest.raises(LabsimError):
        call()


def test_clock_comes_from_the_catalog():
    from labsim import catalog
    assert Geometry.faithful().clock_hz == catalog.chip("groq-lpu-v1").clock_hz
    assert Geometry.mini().clock_hz == catalog.chip("groq-lpu-v1").clock_hz
