"""The simulated instruction-set subset: opcodes, which slice type executes each, operand counts, delays, types.

Pure tables (no geometry, no simulator): ``geometry`` reads the delay fields from here, ``program`` validates
against them and the kernel uses the integer codes. The subset follows ISCA 2020 (Abts et al.) Table I; see
docs/design/tsp.md §2 for each opcode's semantics.
"""
from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np

from ..errors import LabsimError, check_int

__all__ = ["OP_SLICE", "OPCODES", "OPCODE", "DELAY_FIELD", "N_SRCS", "HAS_DST", "DTYPES", "DTYPE_NAMES",
           "Stream", "as_stream", "MAX_LOAD_STREAMS"]

#: opcode → slice type that executes it (None: any slice). The order fixes the kernel's integer codes;
#: opcodes added later go at the end so that stored traces keep their codes.
OP_SLICE = {
    "MEM_READ": "MEM", "MEM_WRITE": "MEM",
    "VXM_ADD": "VXM", "VXM_MUL": "VXM", "VXM_MAX": "VXM", "VXM_RELU": "VXM", "VXM_REQUANT": "VXM",
    "MXM_INSTALL": "MXM", "MXM_MATVEC": "MXM",
    "SXM_SHIFT": "SXM", "SXM_PERMUTE": "SXM",
    "C2C_SEND": "C2C", "C2C_RECV": "C2C",
    "NOP": None,
    # streamed weight load ("LW", ISCA 2020 Table I) and accumulate-only pass ("ACC")
    "MXM_LOAD": "MXM", "MXM_ACC": "MXM",
}
#: opcodes, in the order of their integer codes in the kernel
OPCODES = tuple(OP_SLICE)
OPCODE = {op: i for i, op in enumerate(OPCODES)}
#: opcode → Geometry field holding its functional delay (None: 1 cycle; MXM_LOAD: ceil(rows / streams))
DELAY_FIELD = {
    "MEM_READ": "mem_read_cycles", "MEM_WRITE": "mem_write_cycles",
    "VXM_ADD": "vxm_cycles", "VXM_MUL": "vxm_cycles", "VXM_MAX": "vxm_cycles", "VXM_RELU": "vxm_cycles",
    "VXM_REQUANT": "vxm_cycles",
    "MXM_INSTALL": "mxm_install_cycles", "MXM_MATVEC": "mxm_pass_cycles",
    "SXM_SHIFT": "sxm_cycles", "SXM_PERMUTE": "sxm_cycles",
    "C2C_SEND": "c2c_serialize_cycles", "C2C_RECV": "c2c_serialize_cycles",
    "NOP": None,
    "MXM_LOAD": None, "MXM_ACC": "mxm_pass_cycles",
}
#: number of stream operands read (MXM_LOAD: 1 … MAX_LOAD_STREAMS, checked separately)
N_SRCS = {op: 0 for op in OPCODES}
N_SRCS.update({"MEM_WRITE": 1, "VXM_ADD": 2, "VXM_MUL": 2, "VXM_MAX": 2, "VXM_RELU": 1, "VXM_REQUANT": 1,
               "MXM_MATVEC": 1, "SXM_SHIFT": 1, "SXM_PERMUTE": 1, "C2C_SEND": 1, "MXM_ACC": 1, "MXM_LOAD": -1})
#: whether the opcode writes a result onto a stream
HAS_DST = {op: op in ("MEM_READ", "VXM_ADD", "VXM_MUL", "VXM_MAX", "VXM_RELU", "VXM_REQUANT", "MXM_MATVEC",
                      "SXM_SHIFT", "SXM_PERMUTE", "C2C_RECV") for op in OPCODES}
#: an MXM_LOAD reads at most this many streams per cycle (every stream of both directions)
MAX_LOAD_STREAMS = 512

#: stream/memory element types: name → (code, numpy dtype)
DTYPES = {"int8": (0, np.int8), "int32": (1, np.int32), "fp16": (2, np.float16), "fp32": (3, np.float32)}
DTYPE_NAMES = tuple(DTYPES)
NP_TO_DTYPE = {np.dtype(v[1]): k for k, v in DTYPES.items()}


class Stream(NamedTuple):
    """A stream register: direction "E" (values move east, towards higher slice index) or "W", and index."""
    direction: str
    index: int

    def __str__(self) -> str:
        return f"{self.direction}{self.index}"


_STREAM_RE = re.compile(r"^\s*([EWew])\s*(\d+)\s*$")


def as_stream(value, name: str = "value") -> Stream:
    """Accept ``Stream``, ``"E3"``, ``("W", 2)``; direction checked here, index checked against a geometry later.
    ``name``: the argument named in the error (the caller's parameter)."""
    if isinstance(value, Stream):
        d, i = value
    elif isinstance(value, str) and _STREAM_RE.match(value):
        m = _STREAM_RE.match(value)
        d, i = m.group(1).upper(), int(m.group(2)[:12])
    elif isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        d, i = value[0].upper(), value[1]
    else:
        raise LabsimError(f"{name} must be a stream like 'E0' or 'W3' (direction E/W + index), got {value!r}")
    if d not in ("E", "W"):
        raise LabsimError(f"{name} direction must be 'E' or 'W', got {d!r}")
    return Stream(d, check_int(f"{name} index", i, lo=0, hi=10**9))
