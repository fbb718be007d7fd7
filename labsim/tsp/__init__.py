"""Cycle-level Tensor Streaming Processor simulator (chapter 1). See docs/design/tsp.md.

>>> from labsim.tsp import Geometry, Program, simulate

Modules: ``isa`` (opcode tables), ``geometry`` (the chip and its derived numbers), ``program`` (instruction
records and builders), ``sim`` (``simulate``, ``Result``, ``Trace``; the numba kernel is ``_kernel``, the
cached encoding ``_encode``, the fault messages ``_faults``), ``demos`` (chapter 1's example programs).
"""
from __future__ import annotations

from .demos import demo_program, journey_program, reference_demo, reference_journey
from .geometry import (
    ASSUMED_FIELDS,
    SLICE_TYPES,
    Geometry,
    macs_per_cycle,
    parameter_table,
    peak_fp16_flops_per_s,
    peak_int8_ops_per_s,
    sram_bytes_per_cycle,
    sram_sweep_time_s,
    stream_bytes_per_cycle,
    total_sram_bytes,
)
from .isa import OPCODES, Stream, as_stream
from .program import Instruction, Program
from .sim import Result, Trace, simulate

__all__ = [
    "Geometry", "SLICE_TYPES", "Program", "Instruction", "Stream", "OPCODES", "as_stream", "simulate", "Result",
    "Trace", "total_sram_bytes", "sram_bytes_per_cycle", "stream_bytes_per_cycle", "macs_per_cycle",
    "peak_int8_ops_per_s", "peak_fp16_flops_per_s", "sram_sweep_time_s", "demo_program", "reference_demo",
    "journey_program", "reference_journey", "parameter_table", "ASSUMED_FIELDS",
]


def _warmup() -> None:
    """Compile (or load from the on-disk cache) the simulator kernel: a tiny run with values and one without
    (the two are separate specializations) compiles it all."""
    g = Geometry.mini()
    p, mem, *_ = demo_program(g)
    simulate(p, g, memory=mem)
    simulate(p, g, memory=mem, values=False)
