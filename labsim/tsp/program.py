"""TSP programs: cycle-stamped instruction records and a small builder API.

A program is a list of :class:`Instruction` records — each names its issue cycle, its slice, its opcode,
the stream(s) it reads, the stream it writes — plus initial memory contents. The ISA subset follows
[isca20] Table I (tables in :mod:`labsim.tsp.isa`); see docs/design/tsp.md for the exact semantics.

A program is bound to one geometry. Assigning ``program.geometry`` re-validates every record and preload
against the new geometry (or raises, leaving the program unchanged), and :func:`labsim.tsp.simulate`
re-validates anything that was not built through the validating methods, so no record can reach the
kernel with an id out of range.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ..errors import LabsimError, TimingFault, check_choice, check_int, check_number
from .geometry import Geometry
from .isa import (
    DTYPE_NAMES,
    DTYPES,
    HAS_DST,
    MAX_LOAD_STREAMS,
    N_SRCS,
    NP_TO_DTYPE,
    OP_SLICE,
    OPCODES,
    Stream,
    as_stream,
)

__all__ = ["Stream", "Instruction", "Program", "OPCODES", "DELAY_FIELD", "OP_SLICE", "DTYPES", "as_stream",
           "validate_instruction", "instruction_delay"]

from .isa import DELAY_FIELD

#: values wider than this are rejected (int32 range; fp16/fp32 values are finite by construction)
_INT_LIMITS = {"int8": (-128, 127), "int32": (-2**31, 2**31 - 1)}


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def as_vector(values, name: str, vector_len: int, dtype: str | None = None) -> tuple[np.ndarray, str]:
    """Validate a vector for memory/receive: numpy int8/int32/float16/float32 (or ``dtype=`` given),
    length ≤ vector_len (zero-padded). Returns (read-only float64 array of vector_len, dtype name)."""
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError):
        raise LabsimError(f"{name} must be a numeric vector, got {type(values).__name__}") from None
    if dtype is None:
        if arr.dtype not in NP_TO_DTYPE:
            raise LabsimError(f"{name} has numpy dtype {arr.dtype}; use one of int8, int32, float16, float32 "
                              f"(e.g. np.array(..., dtype=np.int8))")
        dtype = NP_TO_DTYPE[arr.dtype]
    else:
        dtype = check_choice("dtype", dtype, DTYPE_NAMES, what="element type")
        arr = _cast_checked(arr, dtype, name)
    if arr.ndim != 1 or not 1 <= arr.size <= vector_len:
        raise LabsimError(f"{name} must be a 1-D vector of 1..{vector_len} elements, got shape {arr.shape}")
    out = np.zeros(vector_len, dtype=np.float64)
    out[: arr.size] = arr.astype(np.float64)
    if not np.all(np.isfinite(out)):
        raise LabsimError(f"{name} must be finite")
    return _readonly(out), dtype


def _cast_checked(arr: np.ndarray, dtype: str, name: str) -> np.ndarray:
    np_t = DTYPES[dtype][1]
    if arr.dtype == np.dtype(np_t):
        return arr
    try:
        a = np.asarray(arr, dtype=np.float64)
    except (TypeError, ValueError):
        raise LabsimError(f"{name} must hold numbers, got dtype {arr.dtype}") from None
    if not np.all(np.isfinite(a)):
        raise LabsimError(f"{name} must be finite")
    if dtype in _INT_LIMITS:
        lo, hi = _INT_LIMITS[dtype]
        if np.any(a != np.rint(a)) or np.any(a < lo) or np.any(a > hi):
            raise LabsimError(f"{name} must hold integers in [{lo}, {hi}] for dtype {dtype}")
    elif np.any(np.abs(a) > np.finfo(np_t).max):
        raise LabsimError(f"{name} has values beyond the {dtype} range (±{float(np.finfo(np_t).max):g})")
    return a.astype(np_t)


@dataclass(frozen=True, eq=False)
class Instruction:
    """One cycle-stamped instruction for one functional slice.

    ``srcs`` are the streams read at ``slice`` on ``cycle``; the result goes onto ``dst`` at ``slice`` on
    ``cycle + delay(op)``. ``imm``: shift amount (SXM_SHIFT), scale (VXM_REQUANT), link (C2C), rows (MXM_LOAD).
    ``data``: weight matrix (MXM_INSTALL), permutation (SXM_PERMUTE), received vector (C2C_RECV).
    ``repeat`` (MEM_READ only): read ``repeat`` consecutive addresses on consecutive cycles onto the same stream
    (the ICU's ``Repeat n, d`` with d = 1, [isca20] Table I).
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
    repeat: int = 1

    def describe(self, index: int | None = None) -> str:
        idx = f"#{index} " if index is not None else ""
        parts = [f"{idx}{self.op} @ {self.slice}, cycle {self.cycle}"]
        if self.srcs:
            shown = ",".join(str(s) for s in self.srcs[:4]) + (f",… ({len(self.srcs)} streams)"
                                                                if len(self.srcs) > 4 else "")
            parts.append("reads " + shown)
        if self.dst is not None:
            parts.append(f"writes {self.dst}")
        if self.bank is not None:
            parts.append(f"bank {self.bank} addr {self.address}" + (f"…{self.address + self.repeat - 1}"
                                                                     if self.repeat > 1 else ""))
        if self.op == "MXM_LOAD":
            parts.append(f"{self.imm} rows")
        if self.label:
            parts.append(f"'{self.label}'")
        return " ".join(parts[:1]) + (" (" + ", ".join(parts[1:]) + ")" if len(parts) > 1 else "")


def instruction_delay(g: Geometry, ins: Instruction) -> int:
    """Cycles from issue until the result is on its stream (or the weights are usable, for loads/installs)."""
    if ins.op == "MXM_LOAD":
        return -(-int(ins.imm) // len(ins.srcs))
    return g.delay(ins.op)


class Program:
    """A TSP program for one geometry: instructions (any order) and preloaded memory.

    Builder methods validate their arguments (slice type, stream ids, bank, address, shapes) and return the
    :class:`Instruction` they appended, so notebooks can ask ``p.arrival(instr, "VXM")``.
    """

    def __init__(self, geometry: Geometry, name: str = "program"):
        if not isinstance(geometry, Geometry):
            raise LabsimError(f"geometry must be a labsim.tsp.Geometry, got {type(geometry).__name__}")
        self._geometry = geometry
        self.name = str(name)
        self.instructions: list[Instruction] = []
        self.preloads: dict[tuple[str, int, int], tuple[np.ndarray, str]] = {}
        #: bulk preloads: (slice, bank, address, count, values (count × vector_len) or None, dtype)
        self.preload_blocks: list[tuple] = []
        self._validated: dict[int, Instruction] = {}   # id → record validated for self._geometry
        self._preload_ok: dict[tuple, tuple] = {}       # key → the (validated) entry preload() stored
        self._block_ok: set[int] = set()                # ids of blocks preload_block() stored
        self._blocks_alive: list = []                   # …kept alive, so their ids stay unique
        self._enc_cache = None                          # (fingerprint, encoding) of the last simulate()

    # --- geometry binding ---------------------------------------------------------------------------------
    @property
    def geometry(self) -> Geometry:
        """The geometry the program was built and validated for. Assigning a new one re-validates every
        instruction and preload (raising ``TimingFault``/``LabsimError`` and leaving the program unchanged
        if one does not fit)."""
        return self._geometry

    @geometry.setter
    def geometry(self, g) -> None:
        if not isinstance(g, Geometry):
            raise LabsimError(f"geometry must be a labsim.tsp.Geometry, got {type(g).__name__}")
        if g == self._geometry:
            return
        instructions, preloads, blocks = self.revalidated(g)
        self._geometry = g
        self.instructions = instructions
        self.preloads = preloads
        self.preload_blocks = blocks
        self._validated = {id(i): i for i in instructions}
        self._preload_ok = dict(preloads)
        self._block_ok = {id(b) for b in blocks}
        self._blocks_alive = list(blocks)
        self._enc_cache = None

    def revalidated(self, g: Geometry):
        """Every record and preload validated against ``g``: (instructions, preloads, blocks). Raises a
        ``TimingFault`` naming the program and the geometry when one does not fit."""
        try:
            ins = [validate_instruction(g, r, j) for j, r in enumerate(self.instructions)]
            pre = {}
            for key, entry in self.preloads.items():
                k2, vals = _check_preload_entry(g, key, entry, self._geometry.vector_len)
                pre[k2] = vals
            blocks = [_check_block(g, b) for b in self.preload_blocks]
        except LabsimError as exc:
            fault = TimingFault(f"program {self.name!r} does not fit geometry {g.name!r}: {exc}")
            fault.kind = getattr(exc, "kind", "out_of_range")
            fault.cycle, fault.slice = getattr(exc, "cycle", None), getattr(exc, "slice", None)
            fault.stream, fault.instructions = getattr(exc, "stream", None), getattr(exc, "instructions", ())
            raise fault from None
        return ins, pre, blocks

    def checked(self):
        """(instructions, preloads, blocks) of this program, every entry validated for ``self.geometry``:
        records appended to ``instructions`` directly, entries put into ``preloads`` by hand and blocks
        appended by hand are validated here (raises ``TimingFault`` for ids out of range, ``LabsimError``
        otherwise)."""
        g = self._geometry
        ok = self._validated
        ins = self.instructions
        if not isinstance(ins, list):
            raise LabsimError(f"program.instructions must be a list of Instruction, got {type(ins).__name__}")
        # ``ok`` holds every validated record alive, so an id found in it is that very record
        if not ok.keys() >= set(map(id, ins)):
            ins = [r if id(r) in ok else validate_instruction(g, r, j) for j, r in enumerate(ins)]
        if not isinstance(self.preloads, dict):
            raise LabsimError(f"program.preloads must be a dict, got {type(self.preloads).__name__}")
        pre = self.preloads
        pok = self._preload_ok
        if any(pok.get(k) is not v for k, v in pre.items()):
            pre = {}
            for key, entry in self.preloads.items():
                if pok.get(key) is entry:
                    pre[key] = entry
                else:
                    k2, vals = _check_preload_entry(g, key, entry, g.vector_len)
                    pre[k2] = vals
        if not isinstance(self.preload_blocks, list):
            raise LabsimError(f"program.preload_blocks must be a list, got {type(self.preload_blocks).__name__}")
        blocks = self.preload_blocks
        if not self._block_ok >= set(map(id, blocks)):
            blocks = [b if id(b) in self._block_ok else _check_block(g, b) for b in blocks]
        return ins, pre, blocks

    def __len__(self) -> int:
        return len(self.instructions)

    def __repr__(self) -> str:
        return f"Program({self.name!r}, {len(self.instructions)} instructions, geometry={self._geometry.name!r})"

    def copy(self, name: str | None = None) -> Program:
        p = Program(self._geometry, name or self.name)
        p.instructions = list(self.instructions)
        p.preloads = dict(self.preloads)
        p.preload_blocks = list(self.preload_blocks)
        p._validated = dict(self._validated)
        p._preload_ok = dict(self._preload_ok)
        p._block_ok = set(self._block_ok)
        p._blocks_alive = list(self._blocks_alive)
        return p

    def find(self, op: str | None = None, label: str | None = None) -> int:
        """Index of the first instruction with this opcode and/or label (LabsimError if none)."""
        for j, ins in enumerate(self.instructions):
            if (op is None or ins.op == op) and (label is None or ins.label == label):
                return j
        raise LabsimError(f"no instruction with op={op!r} label={label!r} in program {self.name!r}")

    def replace(self, index: int, **changes) -> Program:
        """A copy of the program with instruction ``index`` changed, e.g. ``p.replace(4, cycle=53)``
        or ``p.replace(3, slice="MEM_E4")`` (validated)."""
        if not self.instructions:
            raise LabsimError(f"program {self.name!r} has no instructions to replace")
        index = check_int("index", index, lo=0, hi=len(self.instructions) - 1)
        q = self.copy()
        old = q.instructions[index]
        fields = {f: getattr(old, f) for f in ("cycle", "slice", "op", "srcs", "dst", "bank", "address", "imm",
                                               "data", "label", "repeat")}
        for k in changes:
            check_choice("field", k, fields, what="instruction field")
        fields.update(changes)
        new = validate_instruction(self._geometry, Instruction(**fields), index)
        q.instructions[index] = new
        q._validated[id(new)] = new
        return q

    def listing(self, limit: int = 2000) -> str:
        """Human-readable listing, sorted by cycle (the first ``limit`` instructions)."""
        order = sorted(range(len(self.instructions)), key=lambda i: (self.instructions[i].cycle, i))
        lines = [self.instructions[i].describe(i) for i in order[:limit]]
        if len(order) > limit:
            lines.append(f"… {len(order) - limit:,} more")
        return "\n".join(lines)

    # --- generic ------------------------------------------------------------------------------------------
    def append(self, ins: Instruction) -> Instruction:
        """Validate and append an instruction record (what a scheduler emits)."""
        ins = validate_instruction(self._geometry, ins, len(self.instructions))
        self.instructions.append(ins)
        self._validated[id(ins)] = ins
        return ins

    def extend(self, records) -> None:
        for ins in records:
            self.append(ins)

    def preload(self, slice, bank: int, address: int, values, dtype: str | None = None) -> None:
        """Initial memory contents at (slice, bank, address): a vector (≤ vector_len elements, zero-padded)."""
        key = mem_key(self._geometry, slice, bank, address)
        entry = as_vector(values, f"preload {key}", self._geometry.vector_len, dtype)
        self.preloads[key] = entry
        self._preload_ok[key] = entry

    def preload_block(self, slice, bank: int, address: int, values=None, *, count: int | None = None,
                      dtype: str | None = None) -> None:
        """Initial contents of ``count`` consecutive addresses from (slice, bank, address).

        ``values``: a (count × ≤ vector_len) array, one row per address; or ``None`` with ``count`` and
        ``dtype``: the addresses hold data of that type whose values the program does not carry — such a
        program can only be simulated with ``values=False`` (timing only, e.g. 218 MB of layer weights)."""
        block = _check_block(self._geometry, (slice, bank, address, count, values, dtype))
        self.preload_blocks.append(block)
        self._block_ok.add(id(block))
        self._blocks_alive.append(block)

    # --- timing helpers -----------------------------------------------------------------------------------
    def ready_cycle(self, ins: Instruction) -> int:
        """Cycle on which ``ins``'s result is on its stream at its own slice (issue + functional delay); for
        a repeated MEM read, that of its first element; for a load, the cycle its weights become usable."""
        return ins.cycle + instruction_delay(self._geometry, ins)

    def arrival(self, ins: Instruction, at_slice) -> int:
        """Cycle on which ``ins``'s output value is at slice ``at_slice`` (raises if it flows the other way)."""
        g = self._geometry
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

    def mem_read(self, cycle, slice, bank, address, out, label="", repeat: int = 1) -> Instruction:
        """MEM ``Read``: vector at (bank, address) onto stream ``out`` after ``mem_read_cycles``. With
        ``repeat=n`` the addresses address … address+n−1 go onto ``out`` on n consecutive cycles."""
        return self._add(cycle=cycle, slice=slice, op="MEM_READ", dst=out, bank=bank, address=address, label=label,
                         repeat=repeat)

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
        """Install a weight matrix (m × k, int8 or float16, m, k ≤ vector_len) in one MXM plane. The weights
        travel inside the instruction (the weight traffic is not simulated; see :meth:`mxm_load`)."""
        return self._add(cycle=cycle, slice=slice, op="MXM_INSTALL", data=weights, label=label)

    def mxm_load(self, cycle, slice, streams, rows: int, label="") -> Instruction:
        """Load ``rows`` weight rows into an MXM plane from ``streams`` (the weight traffic is simulated):
        row r is the vector on ``streams[r % S]`` at this slice on cycle ``cycle + r // S`` (S = len(streams));
        rows ≥ ``rows`` are zero. The weights are usable ``ceil(rows / S)`` cycles after issue."""
        if isinstance(streams, (str, Stream)):
            streams = (streams,)
        return self._add(cycle=cycle, slice=slice, op="MXM_LOAD", srcs=tuple(streams), imm=rows, label=label)

    def mxm_matvec(self, cycle, slice, a, out, label="") -> Instruction:
        """``acc + W @ x`` for the vector on stream ``a`` (acc: the sum of earlier :meth:`mxm_acc` passes, then
        cleared): int8 → int32 or fp16 → fp32, after ``mxm_pass_cycles``."""
        return self._add(cycle=cycle, slice=slice, op="MXM_MATVEC", srcs=(a,), dst=out, label=label)

    def mxm_acc(self, cycle, slice, a, label="") -> Instruction:
        """Accumulate ``W @ x`` into the plane's accumulator without output ("ACC"); the next
        :meth:`mxm_matvec` on this plane emits the sum."""
        return self._add(cycle=cycle, slice=slice, op="MXM_ACC", srcs=(a,), label=label)

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


def _check_preload_entry(g: Geometry, key, entry, old_vl: int):
    """Validate one ``preloads`` entry ``key -> (values, dtype)`` against ``g``."""
    if not (isinstance(key, tuple) and len(key) == 3):
        raise LabsimError(f"preload key {key!r} must be (slice, bank, address)")
    k2 = mem_key(g, *key)
    if not (isinstance(entry, tuple) and len(entry) == 2):
        raise LabsimError(f"preload {k2} must be (values, dtype), as Program.preload stores it")
    vals, dt = entry
    dt = check_choice("dtype", dt, DTYPE_NAMES, what="element type")
    v = np.asarray(vals)
    if v.ndim == 1 and v.size > g.vector_len:
        if np.any(v[g.vector_len:] != 0):
            raise LabsimError(f"preload {k2} holds {v.size} elements; {g.name!r} vectors have {g.vector_len}")
        v = v[: g.vector_len]
    return k2, as_vector(v, f"preload {k2}", g.vector_len, dt)


def _check_block(g: Geometry, block):
    """Validate a bulk preload (slice, bank, address, count, values or None, dtype) against ``g``."""
    if not (isinstance(block, tuple) and len(block) == 6):
        raise LabsimError("a preload block must be (slice, bank, address, count, values or None, dtype), as "
                          "Program.preload_block stores it")
    slice_, bank, address, count, values, dtype = block
    name, bank, address = mem_key(g, slice_, bank, address)
    if values is None:
        if count is None or dtype is None:
            raise LabsimError("preload_block without values needs count= and dtype=")
        dtype = check_choice("dtype", dtype, DTYPE_NAMES, what="element type")
        count = check_int("count", count, lo=1, hi=g.mem_words_per_bank - address)
        return (name, bank, address, count, None, dtype)
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError):
        raise LabsimError("values must be a 2-D numeric array (one row per address)") from None
    if arr.ndim != 2 or not (1 <= arr.shape[0] <= g.mem_words_per_bank - address) or \
            not (1 <= arr.shape[1] <= g.vector_len):
        raise LabsimError(f"values must be a 2-D array of 1..{g.mem_words_per_bank - address} rows × "
                          f"1..{g.vector_len} elements, got shape {arr.shape}")
    if count is not None and check_int("count", count, lo=1) != arr.shape[0]:
        raise LabsimError(f"count = {count} differs from the {arr.shape[0]} rows of values")
    if dtype is None:
        if arr.dtype not in NP_TO_DTYPE:
            raise LabsimError(f"values has numpy dtype {arr.dtype}; use int8, int32, float16 or float32")
        dtype = NP_TO_DTYPE[arr.dtype]
    else:
        dtype = check_choice("dtype", dtype, DTYPE_NAMES, what="element type")
        arr = _cast_checked(arr, dtype, "values")
    out = np.zeros((arr.shape[0], g.vector_len), dtype=np.float64)
    out[:, : arr.shape[1]] = arr.astype(np.float64)
    if not np.all(np.isfinite(out)):
        raise LabsimError("values must be finite")
    return (name, bank, address, arr.shape[0], _readonly(out), dtype)


_ID_WORDS = {"stream", "bank", "address", "cycle", "slice", "link", "repeat"}


def validate_instruction(g: Geometry, ins: Instruction, index: int) -> Instruction:
    """Check an instruction against a geometry; returns a normalized copy. Raises LabsimError naming it."""
    if not isinstance(ins, Instruction):
        raise LabsimError(f"instruction #{index} must be a labsim.tsp.Instruction, got {type(ins).__name__}")
    where = f"instruction #{index} ({str(ins.op)[:40]} @ {str(ins.slice)[:40]}, cycle {str(ins.cycle)[:40]})"
    try:
        op = check_choice("op", ins.op, OPCODES, what="opcode")
        cycle = check_int("cycle", ins.cycle, lo=0, hi=2**40)
        sidx = g.slice_index(ins.slice)
        sname = g.slice_names[sidx]
        kind = g.slice_types[sidx]
        need = OP_SLICE[op]
        if need is not None and kind != need:
            raise LabsimError(f"{op} runs on a {need} slice, but {sname} is a {kind} slice")
        raw_srcs = ins.srcs or ()
        if not isinstance(raw_srcs, (tuple, list)):
            raise LabsimError(f"srcs must be a tuple of streams, got {type(raw_srcs).__name__}")
        if op == "MXM_LOAD":
            if not 1 <= len(raw_srcs) <= min(MAX_LOAD_STREAMS, 2 * g.streams_per_direction):
                raise LabsimError(f"MXM_LOAD reads 1 … {2 * g.streams_per_direction} streams, got {len(raw_srcs)}")
        elif len(raw_srcs) != N_SRCS[op]:
            raise LabsimError(f"{op} reads {N_SRCS[op]} stream(s), got {len(raw_srcs)}")
        srcs = tuple(as_stream(s, "source stream") for s in raw_srcs)
        if op == "MXM_LOAD" and len(set(srcs)) != len(srcs):
            raise LabsimError("MXM_LOAD reads each stream once; its streams repeat")
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
        repeat = check_int("repeat", ins.repeat, lo=1, hi=g.mem_words_per_bank)
        if repeat != 1 and op != "MEM_READ":
            raise LabsimError(f"repeat = {repeat}: only MEM_READ may repeat (1 for {op})")
        bank = address = None
        if op in ("MEM_READ", "MEM_WRITE"):
            _, bank, address = mem_key(g, sname, ins.bank, ins.address)
            if address + repeat > g.mem_words_per_bank:
                raise LabsimError(f"repeat = {repeat} is out of range for address {address}; allowed: integers "
                                  f"in [1, {g.mem_words_per_bank - address}] (the bank has {g.mem_words_per_bank} "
                                  f"addresses)")
        elif ins.bank is not None or ins.address is not None:
            raise LabsimError(f"{op} takes no bank/address")
        imm = ins.imm
        data = ins.data
        if op == "VXM_REQUANT":
            imm = check_number("scale", imm, lo=1e-30, hi=1e30)
        elif op == "SXM_SHIFT":
            imm = check_int("shift", imm, lo=-(g.vector_len - 1), hi=g.vector_len - 1)
        elif op in ("C2C_SEND", "C2C_RECV"):
            imm = check_int("link", 0 if imm is None else imm, lo=0, hi=g.c2c_links - 1)
        elif op == "MXM_LOAD":
            imm = check_int("rows", imm, lo=1, hi=g.vector_len)
        elif imm is not None:
            raise LabsimError(f"{op} takes no immediate (imm = {imm!r})")
        if op == "MXM_INSTALL":
            try:
                w = np.asarray(data)
            except (TypeError, ValueError):
                raise LabsimError("weights must be a 2-D int8 or float16 matrix") from None
            if w.ndim != 2 or not (1 <= w.shape[0] <= g.vector_len and 1 <= w.shape[1] <= g.vector_len):
                raise LabsimError(f"weights must be a 2-D matrix of at most {g.vector_len} × {g.vector_len}, "
                                  f"got shape {w.shape}")
            if w.dtype not in (np.dtype(np.int8), np.dtype(np.float16)):
                raise LabsimError(f"weights must have dtype int8 or float16, got {w.dtype}")
            if not np.all(np.isfinite(w.astype(np.float64))):
                raise LabsimError("weights must be finite")
            data = _readonly(w.copy())
        elif op == "SXM_PERMUTE":
            perm = np.asarray(data)
            if perm.shape != (g.vector_len,) or not np.issubdtype(perm.dtype, np.integer) \
                    or not np.array_equal(np.sort(perm), np.arange(g.vector_len)):
                raise LabsimError(f"perm must be a permutation of 0 … {g.vector_len - 1} (integer array of "
                                  f"length {g.vector_len})")
            data = _readonly(perm.astype(np.int64))
        elif op == "C2C_RECV":
            vals, dt = as_vector(data, "data", g.vector_len)
            data = _readonly(vals.astype(DTYPES[dt][1]))
        elif data is not None:
            raise LabsimError(f"{op} carries no data")
        label = ins.label if isinstance(ins.label, str) else str(ins.label)
    except LabsimError as exc:
        # an id out of range (stream, bank, address, cycle, slice, link, repeat) is a timing fault; other
        # mistakes (wrong type, bad shape, a bad scale or shift) are plain LabsimErrors
        text = str(exc)
        first = text.split(" ", 1)[0]
        if isinstance(exc, TimingFault) or ("out of range" in text and first in _ID_WORDS):
            fault = TimingFault(f"{where}: {text}")
            fault.kind = "out_of_range"
            fault.cycle = int(ins.cycle) if isinstance(ins.cycle, (int, np.integer)) else None
            fault.slice = ins.slice if isinstance(ins.slice, str) else None
            m = re.match(r"^stream ([EW]\d+) is out of range", text)
            fault.stream = m.group(1) if m else None
            fault.instructions = (index,)
            raise fault from None
        raise LabsimError(f"{where}: {text}") from None
    return Instruction(cycle=cycle, slice=sname, op=op, srcs=srcs, dst=dst, bank=bank, address=address,
                       imm=imm, data=data, label=label[:200], repeat=repeat)
