"""Cycle-level Tensor Streaming Processor simulator (chapter 1). See docs/design/tsp.md.

>>> from labsim.tsp import Geometry, Program, simulate
"""
from __future__ import annotations

import numpy as np

from .geometry import (ASSUMED_FIELDS, SLICE_TYPES, Geometry, macs_per_cycle, parameter_table, peak_fp16_flops_per_s,
                       peak_int8_ops_per_s,
                       sram_bytes_per_cycle, sram_sweep_time_s, stream_bytes_per_cycle, total_sram_bytes)
from .program import OPCODES, Instruction, Program, Stream, as_stream
from .sim import Result, Trace, simulate

__all__ = [
    "Geometry", "SLICE_TYPES", "Program", "Instruction", "Stream", "OPCODES", "as_stream", "simulate", "Result",
    "Trace", "total_sram_bytes", "sram_bytes_per_cycle", "stream_bytes_per_cycle", "macs_per_cycle",
    "peak_int8_ops_per_s", "peak_fp16_flops_per_s", "sram_sweep_time_s", "demo_program", "reference_demo",
    "parameter_table", "ASSUMED_FIELDS",
]


def demo_program(g: Geometry | None = None, seed: int = 0):
    """A vector's journey MEM→VXM→MXM→VXM→MEM on ``g`` (default mini): y = requant(relu(W·x + b)).

    Returns (program, memory, weights, x, b, scale) so a notebook or test can check it against NumPy.
    """
    g = Geometry.mini() if g is None else g
    rng = np.random.default_rng(seed)
    n = g.vector_len
    W = rng.integers(-8, 8, size=(n, n)).astype(np.int8)
    x = rng.integers(-8, 8, size=n).astype(np.int8)
    b = rng.integers(-200, 200, size=n).astype(np.int32)
    scale = 1 / 64
    p = Program(g, "journey")
    inst = p.mxm_install(0, "MXM_E0", W, label="install W")
    # read x so that it reaches the MXM exactly when the weights become usable
    t_read = max(0, p.ready_cycle(inst) - g.delay("MEM_READ") - g.hop_cycles("MEM_W1", "MXM_E0"))
    rx = p.mem_read(t_read, "MEM_W1", 0, 0, "E0", label="x")
    t_x = p.arrival(rx, "MXM_E0")
    mv = p.mxm_matvec(t_x, "MXM_E0", "E0", "W0", label="W·x")
    t_vxm = p.arrival(mv, "VXM")
    rb = p.mem_read(t_vxm - g.delay("MEM_READ") - g.hop_cycles("MEM_E2", "VXM"), "MEM_E2", 0, 0, "W1", label="b")
    assert p.arrival(rb, "VXM") == t_vxm
    add = p.add(t_vxm, "W0", "W1", "E1", label="+b")
    rl = p.relu(p.ready_cycle(add), "E1", "E2", label="relu")
    rq = p.requantize(p.ready_cycle(rl), "E2", scale, "E3", label="requant")
    p.mem_write(p.arrival(rq, "MEM_E3"), "MEM_E3", 1, 0, "E3", label="y")
    memory = {("MEM_W1", 0, 0): x, ("MEM_E2", 0, 0): b}
    return p, memory, W, x, b, scale


def reference_demo(W, x, b, scale) -> np.ndarray:
    """NumPy reference of :func:`demo_program`."""
    acc = W.astype(np.int64) @ x.astype(np.int64) + b.astype(np.int64)
    acc = np.maximum(acc, 0)
    return np.clip(np.rint(acc * scale), -128, 127).astype(np.int8)


def _warmup() -> None:
    """Compile (or load from the on-disk cache) the simulator kernel: one tiny run compiles it all."""
    g = Geometry.mini()
    p, mem, *_ = demo_program(g)
    simulate(p, g, memory=mem)
