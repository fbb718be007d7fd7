"""TSP programs: cycle-stamped instruction records and a small builder API.

A program is a list of :class:`Instruction` records — each names its issue cycle, its slice, its opcode,
the stream(s) it reads, the stream it writes — plus initial memory contents. The ISA subset follows
ISCA 2020 (Abts et al.) Table I via facts/tsp.md §4.11, §5; see docs/design/tsp.md for the exact semantics.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ..errors import LabsimError, TimingFault, check_choice, check_int, check_number
from .geometry import Geometry

__all__ = ["Stream", "Instruction", "Program", "OPCODES", "DELAY_FIELD", "OP_SLICE", "DTYPES", "as_stream"]

#: opcode → slice type that executes it
OP_SLICE = {
    "MEM_READ": "MEM", "MEM_WRITE": "MEM",
    "VXM_ADD": "VXM", "VXM_MUL": "VXM", "VXM_MAX": "VXM", "VXM_RELU": "VXM", "VXM_REQUANT": "VXM",
    "MXM_INSTALL": "MXM", "MXM_MATVEC": "MXM",
    "SXM_SHIFT": "SXM", "SXM_PERMUTE": "SXM",
    "C2C_SEND": "C2C", "C2C_RECV": "C2C",
    "NOP": None,
}
#: opcodes, in the order of their integer codes in the kernel
OPCODES = tuple(OP_SLICE)
OPCODE = {op: i for i, op in enumerate(OPCODES)}
#: opcode → Geometry field holding its functional delay (None: 1 cycle)
DELAY_FIELD = {
    "MEM_READ": "mem_read_cycles", "MEM_WRITE": "mem_write_cycles",
    "VXM_ADD": "vxm_cycles", "VXM_MUL": "vxm_cycles", "VXM_MAX": "vxm_cycles", "VXM_RELU": "vxm_cycles",
    "VXM_REQUANT": "vxm_cycles",
    "MXM_INSTALL": "mxm_install_cycles", "MXM_MATVEC": "mxm_pass_cycles",
    "SXM_SHIFT": "sxm_cycles", "SXM_PERMUTE": "sxm_cycles",
    "C2C_SEND": "c2c_serialize_cycles", "C2C_RECV": "c2c_serialize_cycles",
    "NOP": None,
}
#: number of stream operands read / whether a stream result is written
N_SRCS = {op: 0 for op in OPCODES}
N_SRCS.update({"MEM_WRITE": 1, "VXM_ADD": 2, "VXM_MUL": 2, "VXM_MAX": 2, "VXM_RELU": 1, "VXM_REQUANT": 1,
               "MXM_MATVEC": 1, "SXM_SHIFT": 1, "SXM_PERMUTE": 1, "C2C_SEND": 1})
HAS_DST = {op: op in ("MEM_READ", "VXM_ADD", "VXM_MUL", "VXM_MAX", "VXM_RELU", "VXM_REQUANT", "MXM_MATVEC",
                      "SXM_SHIFT", "SXM_PERMUTE", "C2C_RECV") for op in OPCODES}

#: stream/memory element types: name → (code, numpy dtype)
DTYPES = {"int8": (0, np.int8), "int32": (1, np.int32), "fp16": (2, np.float16), "fp32": (3, np.float32)}
DTYPE_NAMES = tuple(DTYPES)
_NP_TO_DTYPE = {np.dtype(v[1]): k for k, v in DTYPES.items()}


class Stream(NamedTuple):
    """A stream register: direction "E" (values move east, towards higher slice index) or "W", and index."""
    direction: str
    index: int

    def __str__(self) -> str:
        return f"{self.direction}{self.index}"


_STREAM_RE = re.compile(r"^\s*([EWew])\s*(\d+)\s*$")


def as_stream(value, name: str = "stream") -> Stream:
    """Accept ``Stream``, ``"E3"``, ``("W", 2)``; direction checked here, index checked against a geometry later."""
    if isinstance(value, Stream):
        d, i = value
    elif isinstance(value, str) and _STREAM_RE.match(value):
        m = _STREAM_RE.match(value)
        d, i = m.group(1).upper(), int(m.group(2))
    elif isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        d, i = value[0].upper(), value[1]
    else:
        raise LabsimError(f"{name} must be a stream like 'E0' or 'W3' (direction E/W + index), got {value!r}")
    if d not in ("E", "W"):
        raise LabsimError(f"{name} direction must be 'E' or 'W', got {d!r}")
    return Stream(d, check_int(f"{name} index", i, lo=0))


def as_vector(values, name: str, vector_len: int, dtype: str | None = None) -> tuple[np.ndarray, str]:
    """Validate a vector for memory/receive: numpy int8/int32/float16/float32 (or ``dtype=`` given),
    length ≤ vector_len (zero-padded). Returns (float64 array of vector_len, dtype name)."""
    arr = np.asarray(values)
    if dtype is None:
        if arr.dtype not in _NP_TO_DTYPE:
            raise LabsimError(f"{name} has numpy dtype {arr.dtype}; use one of int8, int32, float16, float32 "
                              f"(e.g. np.array(..., dtype=np.int8))")
        dtype = _NP_TO_DTYPE[arr.dtype]
    else:
        check_choice("dtype", dtype, DTYPE_NAMES, what="element type")
        arr = _cast_checked(arr, dtype, name)
    if arr.ndim != 1 or not 1 <= arr.size <= vector_len:
        raise LabsimError(f"{name} must be a 1-D vector of 1..{vector_len} elements, got shape {arr.shape}")
    out = np.zeros(vector_len, dtype=np.float64)
    out[: arr.size] = arr.astype(np.float64)
    if not np.all(np.isfinite(out)):
        raise LabsimError(f"{name} must be finite")
    return out, dtype


def _cast_checked(arr: np.ndarray, dtype: str, name: str) -> np.ndarray:
    np_t = DTYPES[dtype][1]
    a = np.asarray(arr, dtype=np.float64)
    if dtype in ("int8", "int32"):
        info = np.iinfo(np_t)
        if np.any(a != np.rint(a)) or np.any(a < info.min) or np.any(a > info.max):
            raise LabsimError(f"{name} must hold integers in [{info.min}, {info.max}] for dtype {dtype}")
    return a.astype(np_t)


@dataclass(frozen=True, eq=False)
class Instruction:
    """One cycle-stamped instruction for one functional slice.

    ``srcs`` are the streams read at ``slice`` on ``cycle``; the result goes onto ``dst`` at ``slice`` on
    ``cycle + delay(op)``. ``imm``: shift amount (SXM_SHIFT), scale (VXM_REQUANT), link (C2C). ``data``: weight
    matrix (MXM_INSTALL), permutation (SXM_PERMUTE), received vector (C2C_RECV).
    """
    cycle: int
    slice: str
    op: str
    srcs: tuple = ()
    dst: Stream | None = None
    bank: int | None = None
    address: int | None = None
    imm: float | int | None = None
    data: np.ndarray | None = field(default=None, repr=False)
    label: str = ""

    def describe(self, index: int | None = None) -> str:
        idx = f"#{index} " if index is not None else ""
        parts = [f"{idx}{self.op} @ {self.slice}, cycle {self.cycle}"]
        if self.srcs:
            parts.append("reads " + ",".join(str(s) for s in self.srcs))
        if self.dst is not None:
            parts.append(f"writes {self.dst}")
        if self.bank is not None:
            parts.append(f"bank {self.bank} addr {self.address}")
        if self.label:
            parts.append(f"'{self.label}'")
        return " ".join(parts[:1]) + (" (" + ", ".join(parts[1:]) + ")" if len(parts) > 1 else "")


class Program:
    """A TSP program for one geometry: instructions (any order) and preloaded memory.

    Builder methods validate their arguments (slice type, stream ids, bank, address, shapes) and return the
    :class:`Instruction` they appended, so notebooks can ask ``p.arrival(instr, "VXM")``.
    """

    def __init__(self, geometry: Geometry, name: str = "program"):
        if not isinstance(geometry, Geometry):
            raise LabsimError(f"geometry must be a labsim.tsp.Geometry, got {type(geometry).__name__}")
        self.geometry = geometry
        self.name = name
        self.instructions: list[Instruction] = []
        self.preloads: dict[tuple[str, int, int], tuple[np.ndarray, str]] = {}
        self._validated: dict[int, Instruction] = {}   # records validated by append (simulate skips them)

    def __len__(self) -> int:
        return len(self.instructions)

    def __repr__(self) -> str:
        return f"Program({self.name!r}, {len(self.instructions)} instructions, geometry={self.geometry.name!r})"

    def copy(self, name: str | None = None) -> "Program":
        p = Program(self.geometry, name or self.name)
        p.instructions = list(self.instructions)
        p.preloads = dict(self.preloads)
        p._validated = dict(self._validated)
        return p

    def find(self, op: str | None = None, label: str | None = None) -> int:
        """Index of the first instruction with this opcode and/or label (LabsimError if none)."""
        for j, ins in enumerate(self.instructions):
            if (op is None or ins.op == op) and (label is None or ins.label == label):
                return j
        raise LabsimError(f"no instruction with op={op!r} label={label!r} in program {self.name!r}")

    def replace(self, index: int, **changes) -> "Program":
        """A copy of the program with instruction ``index`` changed, e.g. ``p.replace(4, cycle=53)``
        or ``p.replace(3, slice="MEM_E4")`` (validated)."""
        index = check_int("index", index, lo=0, hi=len(self.instructions) - 1)
        q = self.copy()
        old = q.instructions[index]
        fields = {f: getattr(old, f) for f in ("cycle", "slice", "op", "srcs", "dst", "bank", "address", "imm",
                                               "data", "label")}
        for k in changes:
            check_choice("field", k, fields, what="instruction field")
        fields.update(changes)
        new = validate_instruction(self.geometry, Instruction(**fields), index)
        q.instructions[index] = new
        q._validated[id(new)] = new
        return q

    def listing(self) -> str:
        """Human-readable listing, sorted by cycle."""
        order = sorted(range(len(self.instructions)), key=lambda i: (self.instructions[i].cycle, i))
        return "\n".join(self.instructions[i].describe(i) for i in order)

    # --- generic ------------------------------------------------------------------------------------------
    def append(self, ins: Instruction) -> Instruction:
        """Validate and append an instruction record (what a scheduler emits)."""
        ins = validate_instruction(self.geometry, ins, len(self.instructions))
        self.instructions.append(ins)
        self._validated[id(ins)] = ins
        return ins

    def extend(self, records) -> None:
        for ins in records:
            self.append(ins)

    def preload(self, slice, bank: int, address: int, values, dtype: str | None = None) -> None:
        """Initial memory contents at (slice, bank, address): a vector (≤ vector_len elements, zero-padded)."""
        key = mem_key(self.geometry, slice, bank, address)
        self.preloads[key] = as_vector(values, f"preload {key}", self.geometry.vector_len, dtype)

    # --- timing helpers -----------------------------------------------------------------------------------
    def ready_cycle(self, ins: Instruction) -> int:
        """Cycle on which ``ins``'s result is on its stream at its own slice (issue + functional delay)."""
        return ins.cycle + self.geometry.delay(ins.op)

    def arrival(self, ins: Instruction, at_slice) -> int:
        """Cycle on which ``ins``'s output value is at slice ``at_slice`` (raises if it flows the other way)."""
        g = self.geometry
        if ins.dst is None:
            raise LabsimError(f"{ins.op} writes no stream; it has no arrival cycle")
        src, dst = g.slice_index(ins.slice), g.slice_index(at_slice)
        if (ins.dst.direction == "E" and dst < src) or (ins.dst.direction == "W" and dst > src):
            raise LabsimError(f"{ins.describe()} writes stream {ins.dst}, which flows "
                              f"{'east' if ins.dst.direction == 'E' else 'west'}; it never reaches {at_slice}")
        return self.ready_cycle(ins) + abs(dst - src) * g.stream_hop_cycles

    # --- builders -----------------------------------------------------------------------------------------
    def _add(self, **kw) -> Instruction:
        return self.append(Instruction(**kw))

    def mem_read(self, cycle, slice, bank, address, out, label="") -> Instruction:
        """MEM ``Read``: vector at (bank, address) onto stream ``out`` after ``mem_read_cycles``."""
        return self._add(cycle=cycle, slice=slice, op="MEM_READ", dst=out, bank=bank, address=address, label=label)

    def mem_write(self, cycle, slice, bank, address, a, label="") -> Instruction:
        """MEM ``Write``: the vector on stream ``a`` at this slice/cycle into (bank, address)."""
        return self._add(cycle=cycle, slice=slice, op="MEM_WRITE", srcs=(a,), bank=bank, address=address,
                         label=label)

    def vxm(self, cycle, op, a, b=None, out=None, scale=None, slice="VXM", label="") -> Instruction:
        """VXM element-wise op: 'add', 'mul', 'max', 'relu', 'requantize'."""
        ops = {"add": "VXM_ADD", "mul": "VXM_MUL", "max": "VXM_MAX", "relu": "VXM_RELU", "requantize": "VXM_REQUANT",
               "requantise": "VXM_REQUANT"}
        key = check_choice("op", op, ops, what="VXM operation")
        srcs = (a,) if key in ("relu", "requantize", "requantise") else (a, b)
        return self._add(cycle=cycle, slice=slice, op=ops[key], srcs=srcs, dst=out, imm=scale, label=label)

    def add(self, cycle, a, b, out, slice="VXM", label="") -> Instruction:
        return self.vxm(cycle, "add", a, b, out, slice=slice, label=label)

    def mul(self, cycle, a, b, out, slice="VXM", label="") -> Instruction:
        return self.vxm(cycle, "mul", a, b, out, slice=slice, label=label)

    def max(self, cycle, a, b, out, slice="VXM", label="") -> Instruction:
        return self.vxm(cycle, "max", a, b, out, slice=slice, label=label)

    def relu(self, cycle, a, out, slice="VXM", label="") -> Instruction:
        return self.vxm(cycle, "relu", a, out=out, slice=slice, label=label)

    def requantize(self, cycle, a, scale, out, slice="VXM", label="") -> Instruction:
        """int32 → int8: clip(rint(x · scale), −128, 127)."""
        return self.vxm(cycle, "requantize", a, out=out, scale=scale, slice=slice, label=label)

    requantise = requantize

    def mxm_install(self, cycle, slice, weights, label="") -> Instruction:
        """Install a weight matrix (m × k, int8 or float16, m, k ≤ vector_len) in one MXM plane."""
        return self._add(cycle=cycle, slice=slice, op="MXM_INSTALL", data=weights, label=label)

    def mxm_matvec(self, cycle, slice, a, out, label="") -> Instruction:
        """``W @ x`` for the vector on stream ``a``: int8 → int32 or fp16 → fp32, after ``mxm_pass_cycles``."""
        return self._add(cycle=cycle, slice=slice, op="MXM_MATVEC", srcs=(a,), dst=out, label=label)

    def sxm_shift(self, cycle, slice, a, shift, out, label="") -> Instruction:
        """Move elements ``shift`` lanes (out[i] = in[i − shift], zero fill)."""
        return self._add(cycle=cycle, slice=slice, op="SXM_SHIFT", srcs=(a,), dst=out, imm=shift, label=label)

    def sxm_permute(self, cycle, slice, a, perm, out, label="") -> Instruction:
        """Bijective lane permutation: out[i] = in[perm[i]]."""
        return self._add(cycle=cycle, slice=slice, op="SXM_PERMUTE", srcs=(a,), dst=out, data=perm, label=label)

    def c2c_send(self, cycle, slice, a, link=0, label="") -> Instruction:
        """Placeholder for chapter 2: the vector on ``a`` leaves on ``link`` (recorded in ``Result.sent``)."""
        return self._add(cycle=cycle, slice=slice, op="C2C_SEND", srcs=(a,), imm=link, label=label)

    def c2c_receive(self, cycle, slice, out, data, link=0, label="") -> Instruction:
        """Placeholder for chapter 2: vector ``data`` (from another chip) onto stream ``out``."""
        return self._add(cycle=cycle, slice=slice, op="C2C_RECV", dst=out, data=data, imm=link, label=label)

    def nop(self, cycle, slice, label="") -> Instruction:
        return self._add(cycle=cycle, slice=slice, op="NOP", label=label)


def mem_key(g: Geometry, slice, bank, address) -> tuple[str, int, int]:
    name = g.slice_names[g.slice_index(slice)]
    if g.slice_type(name) != "MEM":
        raise LabsimError(f"slice {name} is a {g.slice_type(name)} slice; memory lives in MEM slices "
                          f"({g.slices_of_type('MEM')[0]} … {g.slices_of_type('MEM')[-1]})")
    bank = check_int("bank", bank, lo=0, hi=g.mem_banks_per_slice - 1)
    address = check_int("address", address, lo=0, hi=g.mem_words_per_bank - 1)
    return name, bank, address


_ID_WORDS = {"stream", "bank", "address", "cycle", "slice", "link"}


def validate_instruction(g: Geometry, ins: Instruction, index: int) -> Instruction:
    """Check an instruction against a geometry; returns a normalised copy. Raises LabsimError naming it."""
    if not isinstance(ins, Instruction):
        raise LabsimError(f"instruction #{index} must be a labsim.tsp.Instruction, got {type(ins).__name__}")
    where = f"instruction #{index} ({ins.op} @ {ins.slice}, cycle {ins.cycle})"
    try:
        op = check_choice("op", ins.op, OPCODES, what="opcode")
        cycle = check_int("cycle", ins.cycle, lo=0, hi=2**40)
        sidx = g.slice_index(ins.slice)
        sname = g.slice_names[sidx]
        kind = g.slice_types[sidx]
        need = OP_SLICE[op]
        if need is not None and kind != need:
            raise LabsimError(f"{op} runs on a {need} slice, but {sname} is a {kind} slice")
        srcs = tuple(as_stream(s, "source stream") for s in (ins.srcs or ()))
        if len(srcs) != N_SRCS[op] or any(s is None for s in srcs):
            raise LabsimError(f"{op} reads {N_SRCS[op]} stream(s), got {len(srcs)}")
        dst = None
        if HAS_DST[op]:
            if ins.dst is None:
                raise LabsimError(f"{op} needs an output stream (out=…)")
            dst = as_stream(ins.dst, "output stream")
        elif ins.dst is not None:
            raise LabsimError(f"{op} writes no stream; remove out=…")
        for s in srcs + ((dst,) if dst else ()):
            if s.index >= g.streams_per_direction:
                raise LabsimError(f"stream {s} is out of range; {g.name} has streams "
                                  f"{s.direction}0 … {s.direction}{g.streams_per_direction - 1}")
        bank = address = None
        if op in ("MEM_READ", "MEM_WRITE"):
            _, bank, address = mem_key(g, sname, ins.bank, ins.address)
        imm = ins.imm
        data = ins.data
        if op == "VXM_REQUANT":
            imm = check_number("scale", imm, lo=0.0, lo_open=True)
        elif op == "SXM_SHIFT":
            imm = check_int("shift", imm, lo=-(g.vector_len - 1), hi=g.vector_len - 1)
        elif op in ("C2C_SEND", "C2C_RECV"):
            imm = check_int("link", 0 if imm is None else imm, lo=0, hi=g.c2c_links - 1)
        if op == "MXM_INSTALL":
            w = np.asarray(data)
            if w.ndim != 2 or not (1 <= w.shape[0] <= g.vector_len and 1 <= w.shape[1] <= g.vector_len):
                raise LabsimError(f"weights must be a 2-D matrix of at most {g.vector_len} × {g.vector_len}, "
                                  f"got shape {w.shape}")
            if w.dtype not in (np.dtype(np.int8), np.dtype(np.float16)):
                raise LabsimError(f"weights must have dtype int8 or float16, got {w.dtype}")
            if not np.all(np.isfinite(w.astype(np.float64))):
                raise LabsimError("weights must be finite")
            data = w.copy()
        elif op == "SXM_PERMUTE":
            perm = np.asarray(data)
            if perm.shape != (g.vector_len,) or not np.issubdtype(perm.dtype, np.integer) \
                    or not np.array_equal(np.sort(perm), np.arange(g.vector_len)):
                raise LabsimError(f"perm must be a permutation of 0 … {g.vector_len - 1} (integer array of "
                                  f"length {g.vector_len})")
            data = perm.astype(np.int64)
        elif op == "C2C_RECV":
            vals, dt = as_vector(data, "data", g.vector_len)
            data = vals.astype(DTYPES[dt][1])
    except LabsimError as exc:
        # an id out of range (stream, bank, address, cycle, slice, link) is a timing fault (issue 3); other
        # mistakes (wrong type, bad shape, a bad scale or shift) are plain LabsimErrors
        text = str(exc)
        first = text.split(" ", 1)[0]
        if isinstance(exc, TimingFault) or ("out of range" in text and first in _ID_WORDS):
            fault = TimingFault(f"{where}: {text}")
            fault.kind = "out_of_range"
            fault.cycle = ins.cycle if isinstance(ins.cycle, (int, np.integer)) else None
            fault.slice = ins.slice if isinstance(ins.slice, str) else None
            m = re.match(r"^stream ([EW]\d+) is out of range", text)
            fault.stream = m.group(1) if m else None
            fault.instructions = (index,)
            raise fault from None
        raise LabsimError(f"{where}: {text}") from None
    return Instruction(cycle=cycle, slice=sname, op=op, srcs=srcs, dst=dst, bank=bank, address=address,
                       imm=imm, data=data, label=str(ins.label))
