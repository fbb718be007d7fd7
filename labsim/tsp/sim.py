"""Cycle-by-cycle TSP engine: ``simulate(program, geometry, memory=…) -> Result``.

Model (docs/design/tsp.md §1): stream registers move one register stage per cycle, ``stream_hop_cycles``
stages per slice boundary; an instruction reads its operands at its slice on its issue cycle and writes its
result at its slice ``delay`` cycles later ([isca20] Eq. 4 timing model). The engine simulates the superlane-0
wavefront; superlane k repeats it k·stagger cycles later ([isca20] §II-C).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import LabsimError, check_int
from . import _kernel
from ._encode import KERNEL_CYCLE_LIMIT, encode, run_arrays
from ._faults import fault_from
from ._kernel import C_AUX, C_CYC, C_DONE, C_LOFF, C_ODIR, C_OP, C_OSTR, C_SL, E_OK
from .geometry import Geometry
from .isa import DTYPE_NAMES, DTYPES, OPCODES
from .program import Program, mem_key

__all__ = ["simulate", "Result", "Trace"]

_DT_NP = [DTYPES[n][1] for n in DTYPE_NAMES]
_TRACE_KEYS = ("index", "cycle", "slice", "op", "done_cycle", "out_dir", "out_stream", "src_a", "src_b", "seg_end")


@dataclass
class Trace:
    """Per-issue record of a run, in issue order, for plots and tests: one row per instruction, except that a
    repeated MEM read and a streamed MXM load have one row per cycle they issue on."""
    index: np.ndarray        # position of the instruction in program.instructions
    cycle: np.ndarray        # issue cycle (superlane 0)
    slice: np.ndarray        # slice index
    op: np.ndarray           # opcode code (labsim.tsp.isa.OPCODES)
    done_cycle: np.ndarray   # issue + functional delay (result on its stream / memory commit)
    out_dir: np.ndarray      # 0 = east, 1 = west, -1 = no stream written
    out_stream: np.ndarray   # stream index or -1
    src_a: np.ndarray        # row (in this trace) of the instruction whose value was read as operand a, or -1
    src_b: np.ndarray
    seg_end: np.ndarray      # cycle on which the written stream value stopped existing (overwritten / off chip)
    n_slices: int
    hop_cycles: int
    superlanes: int
    stagger: int
    slice_names: tuple = ()
    labels: tuple = ()       # each row's instruction label (for plots; not part of to_dict / the golden trace)
    #: for each MXM_LOAD row, the trace rows whose values it read, one per stream (−1: none) — flat, see
    #: :meth:`load_sources`
    load_src: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    load_offset: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def segments(self):
        """Yield (dir, stream, slice_start, cycle_start, cycle_end, row): each stream value's world-line."""
        for r in np.flatnonzero(self.out_dir >= 0):
            yield (int(self.out_dir[r]), int(self.out_stream[r]), int(self.slice[r]),
                   int(self.done_cycle[r]), int(self.seg_end[r]), int(r))

    def op_names(self) -> list[str]:
        return [OPCODES[c] for c in self.op]

    def load_sources(self, row: int) -> np.ndarray:
        """The trace rows an MXM_LOAD row read (one per stream it reads on that cycle)."""
        row = check_int("row", row, lo=0, hi=len(self.cycle) - 1)
        if OPCODES[int(self.op[row])] != "MXM_LOAD":
            raise LabsimError(f"trace row {row} is a {OPCODES[int(self.op[row])]}, not an MXM_LOAD")
        o = int(self.load_offset[row])
        n = int(np.searchsorted(self.load_offset, o, side="right"))
        end = int(self.load_offset[n]) if n < len(self.load_offset) and self.load_offset[n] > o else None
        return self.load_src[o: end]

    def to_dict(self) -> dict:
        d = {k: [int(v) for v in getattr(self, k)] for k in _TRACE_KEYS}
        d["op_names"] = self.op_names()
        d.update(n_slices=self.n_slices, hop_cycles=self.hop_cycles, superlanes=self.superlanes,
                 stagger=self.stagger, slice_names=list(self.slice_names))
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Trace:
        if not isinstance(d, dict):
            raise LabsimError(f"Trace.from_dict needs a dict (from Trace.to_dict), got {type(d).__name__}")
        missing = [k for k in _TRACE_KEYS + ("n_slices", "hop_cycles", "superlanes", "stagger") if k not in d]
        if missing:
            raise LabsimError(f"Trace.from_dict: missing keys {missing}; pass what Trace.to_dict() returned")
        try:
            arrs = {k: np.asarray(d[k], dtype=np.int64) for k in _TRACE_KEYS}
            scal = {k: check_int(k, d[k], lo=0, hi=10**9) for k in ("n_slices", "hop_cycles", "superlanes",
                                                                    "stagger")}
        except (TypeError, ValueError, OverflowError):
            raise LabsimError("Trace.from_dict: every column must be a list of integers") from None
        if len({a.shape for a in arrs.values()}) != 1 or arrs["index"].ndim != 1:
            raise LabsimError("Trace.from_dict: the columns must be 1-D lists of the same length")
        names = d.get("slice_names", ())
        if not isinstance(names, (list, tuple)) or not all(isinstance(x, str) for x in names):
            raise LabsimError("Trace.from_dict: slice_names must be a list of strings")
        return cls(**arrs, **scal, slice_names=tuple(names))


@dataclass
class Result:
    """Outcome of :func:`simulate`."""
    memory: dict                  # (slice, bank, address) -> np.ndarray, every address the program wrote
    cycles: int                   # makespan including the superlane stagger
    cycles_superlane0: int        # makespan of superlane 0 alone
    trace: Trace
    sent: list = field(default_factory=list)   # (cycle, slice, link, vector) for each C2C_SEND
    slice_cycles: int = 0         # n_slices × simulated cycles (the benchmark's unit of work)
    geometry: Geometry | None = None
    values: bool = True           # False: a timing-only run (no vectors computed; memory and sent are empty)

    def read(self, slice, bank, address) -> np.ndarray:
        """Final value the program wrote at (slice, bank, address)."""
        if not self.values:
            raise LabsimError("this run was simulated with values=False (timing only): it carries no vectors")
        if self.geometry is not None:
            key = mem_key(self.geometry, slice, bank, address)
            if key in self.memory:
                return self.memory[key]
        raise LabsimError(f"the program wrote nothing to ({slice!r}, bank {bank}, address {address}); "
                          f"written: {sorted(self.memory)[:8]}{' …' if len(self.memory) > 8 else ''}")


def simulate(program: Program, geometry: Geometry | None = None, memory: dict | None = None, *,
             max_cycles: int = 50_000_000, values: bool = True) -> Result:
    """Run ``program`` cycle by cycle on ``geometry`` (default: the program's) with initial ``memory``
    ({(slice, bank, address): vector}, added to the program's preloads). Raises TimingFault on a conflict.

    ``max_cycles`` guards against a mistyped cycle number (the engine steps through every cycle).
    ``values=False`` simulates timing only: every stream slot, bank, issue slot, plane and element type is checked
    exactly as with values, but no vector is computed (for full-size layers whose weights the program does not
    carry, see ``Program.preload_block``).
    """
    max_cycles = check_int("max_cycles", max_cycles, lo=1, hi=KERNEL_CYCLE_LIMIT)
    if not isinstance(values, (bool, np.bool_)):
        raise LabsimError(f"values must be True or False, got {values!r}")
    values = bool(values)
    if not isinstance(program, Program):
        raise LabsimError(f"program must be a labsim.tsp.Program, got {type(program).__name__}")
    g = program.geometry if geometry is None else geometry
    if not isinstance(g, Geometry):
        raise LabsimError(f"geometry must be a labsim.tsp.Geometry, got {type(g).__name__}")
    if g != program.geometry:
        # a program built for another geometry: a re-validated copy (TimingFault naming both if it does not fit)
        q = Program(g, program.name)
        q.instructions, q.preloads, q.preload_blocks = program.revalidated(g)
        q._validated = {id(i): i for i in q.instructions}
        q._preload_ok = dict(q.preloads)
        q._blocks_alive = list(q.preload_blocks)
        q._block_ok = {id(b) for b in q.preload_blocks}
        program = q
    enc = encode(program)
    if enc["timing_only"] and values:
        raise LabsimError(f"program {program.name!r} preloads memory without values (preload_block(..., values="
                          f"None)); simulate it with values=False (timing only)")
    if enc["t_end"] + 1 > max_cycles:
        raise LabsimError(f"the program runs to cycle {enc['t_end']:,}, beyond max_cycles = {max_cycles:,}; "
                          f"pass simulate(..., max_cycles=…) if that is intended")
    pool, pool_dt, mem_val, vref, src_a, src_b, seg_end, lsrc_w, err = run_arrays(enc, g, memory, values)
    tab = enc["tab"]
    n = tab.shape[0]
    if n:
        _kernel._run(tab, enc["lsrc"], enc["fimm"], enc["ev"], g.n_slices, g.streams_per_direction,
                     g.stream_hop_cycles, enc["t_end"], values, pool, pool_dt, enc["prow"], mem_val, enc["n_banks"],
                     enc["n_planes"], enc["wts"], enc["wdt"], enc["perms"], vref, src_a, src_b, seg_end, lsrc_w, err)
    if err[0] != E_OK:
        raise fault_from(err, enc, g)
    # values still on chip at the end: they leave at the edge
    n_pos = (g.n_slices - 1) * g.stream_hop_cycles + 1
    open_ = (tab[:, C_ODIR] >= 0) & (seg_end < 0)
    if open_.any():
        sl = tab[open_, C_SL].astype(np.int64)
        x = np.where(tab[open_, C_ODIR] == 0, sl, g.n_slices - 1 - sl) * g.stream_hop_cycles
        seg_end[open_] = tab[open_, C_DONE] + (n_pos - x)
    out_mem, sent = {}, []
    if values:
        rows = mem_val[enc["written"]]
        dts = pool_dt[rows]
        for code in np.unique(dts):
            sel = np.flatnonzero(dts == code)
            vecs = pool[rows[sel]].astype(_DT_NP[code])
            keys = enc["written_keys"]
            out_mem.update(zip([keys[i] for i in sel.tolist()], vecs, strict=False))
        if len(out_mem) > 1:
            out_mem = {k: out_mem[k] for k in enc["written_keys"]}
        for k in enc["sends"]:
            w = vref[src_a[k]]
            sent.append((int(tab[k, C_CYC]), g.slice_names[tab[k, C_SL]], int(tab[k, C_AUX]),
                         pool[w].astype(_DT_NP[pool_dt[w]])))
    t0 = enc["t_end"] + 1 if n else 0
    stagger = (g.superlanes - 1) * g.instr_stagger_cycles_per_superlane
    trace = _trace(enc, g, src_a, src_b, seg_end, lsrc_w)
    return Result(memory=out_mem, cycles=t0 + stagger if n else 0, cycles_superlane0=t0, trace=trace, sent=sent,
                  slice_cycles=g.n_slices * t0, geometry=g, values=values)


def _trace(enc, g, src_a, src_b, seg_end, lsrc_w) -> Trace:
    tab = enc["tab"]
    if "labels" not in enc:
        recs = enc["records"]
        labels = [r.label for r in recs]
        enc["labels"] = tuple(labels[i] for i in enc["rec"].tolist())
        cols = {"cycle": C_CYC, "slice": C_SL, "op": C_OP, "done_cycle": C_DONE, "out_dir": C_ODIR,
                "out_stream": C_OSTR}
        enc["cols"] = {k: _ro(tab[:, c].astype(np.int64)) for k, c in cols.items()}
        enc["load_offset"] = _ro(tab[:, C_LOFF].astype(np.int64))
    c = enc["cols"]
    return Trace(index=enc["rec"], **c, src_a=src_a, src_b=src_b, seg_end=seg_end, n_slices=g.n_slices,
                 hop_cycles=g.stream_hop_cycles, superlanes=g.superlanes, stagger=g.instr_stagger_cycles_per_superlane,
                 slice_names=g.slice_names, labels=enc["labels"], load_src=lsrc_w, load_offset=enc["load_offset"])


def _ro(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a

