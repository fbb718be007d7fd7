"""Cycle-by-cycle TSP engine: ``simulate(program, geometry, memory=…) -> Result``.

Model (docs/design/tsp.md §1): stream registers move one register stage per cycle, ``stream_hop_cycles``
stages per slice boundary; an instruction reads its operands at its slice on its issue cycle and writes its
result at its slice ``delay`` cycles later (ISCA 2020 Eq. 4 timing model, via facts/tsp.md §2.10). The
engine simulates the superlane-0 wavefront; superlane k repeats it k·stagger cycles later (ISCA 2020 §II-C).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numba
import numpy as np

from ..errors import LabsimError, TimingFault, check_int
from .geometry import Geometry
from .program import (DTYPES, DTYPE_NAMES, HAS_DST, OPCODE, OPCODES, Program, as_vector,
                      mem_key, validate_instruction)

__all__ = ["simulate", "Result", "Trace"]

# opcode integer codes (must match program.OPCODES order)
_MEM_READ, _MEM_WRITE = OPCODE["MEM_READ"], OPCODE["MEM_WRITE"]
_VXM_ADD, _VXM_MUL, _VXM_MAX = OPCODE["VXM_ADD"], OPCODE["VXM_MUL"], OPCODE["VXM_MAX"]
_VXM_RELU, _VXM_REQUANT = OPCODE["VXM_RELU"], OPCODE["VXM_REQUANT"]
_MXM_INSTALL, _MXM_MATVEC = OPCODE["MXM_INSTALL"], OPCODE["MXM_MATVEC"]
_SXM_SHIFT, _SXM_PERMUTE = OPCODE["SXM_SHIFT"], OPCODE["SXM_PERMUTE"]
_C2C_SEND, _C2C_RECV, _NOP = OPCODE["C2C_SEND"], OPCODE["C2C_RECV"], OPCODE["NOP"]
assert (_MEM_READ, _MEM_WRITE, _VXM_ADD, _VXM_MUL, _VXM_MAX, _VXM_RELU, _VXM_REQUANT, _MXM_INSTALL,
        _MXM_MATVEC, _SXM_SHIFT, _SXM_PERMUTE, _C2C_SEND, _C2C_RECV, _NOP) == tuple(range(14))

# error codes returned by the kernel
E_OK, E_EMPTY, E_COLLIDE, E_BANK, E_MXM, E_SLOTS, E_UNINIT, E_TYPE = 0, 1, 2, 3, 4, 5, 6, 7

# dtype codes: 0 int8, 1 int32, 2 fp16, 3 fp32
_I8, _I32, _F16, _F32 = 0, 1, 2, 3

# columns of the encoded instruction table
(C_CYC, C_SL, C_OP, C_ADIR, C_ASTR, C_BDIR, C_BSTR, C_ODIR, C_OSTR, C_BANKI, C_ROW, C_AUX, C_DONE,
 C_SLOTS) = range(14)
_NCOL = 14


# ----------------------------------------------------------------------------------------------------------
# numba kernel (private)
# ----------------------------------------------------------------------------------------------------------

@numba.njit(cache=True, inline="always")
def _cell(d, sl, t, n_slices, hop, n_pos):
    x = sl * hop if d == 0 else (n_slices - 1 - sl) * hop
    return (x - t) % n_pos


@numba.njit(cache=True, inline="always")
def _wrap32(v):
    if -2147483648 <= v <= 2147483647:
        return v
    return ((v + 2147483648) % 4294967296) - 2147483648


@numba.njit(cache=True)
def _run(ins, fimm, ev, n_slices, n_streams, hop, t_end, pool, pool_dt, vref, mem_val, n_banks_total,
         wts, wdt, perms, src_a, src_b, seg_end, err):
    """Run the encoded program. Mutates pool/pool_dt/vref/mem_val/src_a/src_b/seg_end; err[0] != 0 on a fault.

    Instruction k's result lives in pool row vref[k + 1] (= k + 1 when computed, the memory's row for a MEM read:
    values are immutable, so a read shares the row instead of copying it)."""
    n = ins.shape[0]
    vl = pool.shape[1]
    n_pos = (n_slices - 1) * hop + 1
    cell_w = np.zeros((2, n_streams, n_pos), dtype=np.int64)      # writer index + 1 (0 = empty)
    cell_t = np.full((2, n_streams, n_pos), -1, dtype=np.int64)   # cycle of the last write
    bank_cyc = np.full(max(n_banks_total, 1), -1, dtype=np.int64)
    bank_who = np.zeros(max(n_banks_total, 1), dtype=np.int64)
    slot_cyc = np.full(n_slices, -1, dtype=np.int64)
    slot_cnt = np.zeros(n_slices, dtype=np.int64)
    slot_who = np.zeros(n_slices, dtype=np.int64)
    mxm_w = np.full(n_slices, -1, dtype=np.int64)
    mxm_ready = np.zeros(n_slices, dtype=np.int64)
    mxm_who = np.full(n_slices, -1, dtype=np.int64)
    n_ev = ev.shape[0]
    e = 0
    i = 0
    for t in range(t_end + 1):
        # (1) advance every stream register one stage: move the ring origin, clear the stage entering at the edge
        c0 = (n_pos - t % n_pos) % n_pos
        for d in range(2):
            for s in range(n_streams):
                w = cell_w[d, s, c0]
                if w != 0:
                    if seg_end[w - 1] < 0:
                        seg_end[w - 1] = t
                    cell_w[d, s, c0] = 0
                    cell_t[d, s, c0] = -1
        # (2) writes and memory commits due this cycle
        while e < n_ev and ins[ev[e], C_DONE] == t:
            k = ev[e]
            e += 1
            op = ins[k, C_OP]
            if op == _MEM_WRITE:
                mem_val[ins[k, C_ROW]] = vref[src_a[k] + 1]
                continue
            d = ins[k, C_ODIR]
            s = ins[k, C_OSTR]
            sl = ins[k, C_SL]
            c = _cell(d, sl, t, n_slices, hop, n_pos)
            if cell_t[d, s, c] == t:
                err[0] = E_COLLIDE; err[1] = t; err[2] = sl; err[3] = d; err[4] = s
                err[5] = k; err[6] = cell_w[d, s, c] - 1
                return
            old = cell_w[d, s, c]
            if old != 0 and seg_end[old - 1] < 0:
                seg_end[old - 1] = t
            cell_w[d, s, c] = k + 1
            cell_t[d, s, c] = t
        # (3) instructions issued this cycle
        while i < n and ins[i, C_CYC] == t:
            k = i
            i += 1
            sl = ins[k, C_SL]
            op = ins[k, C_OP]
            # issue slots
            if slot_cyc[sl] == t:
                slot_cnt[sl] += 1
                if slot_cnt[sl] > ins[k, C_SLOTS]:
                    err[0] = E_SLOTS; err[1] = t; err[2] = sl; err[3] = -1; err[4] = -1
                    err[5] = k; err[6] = slot_who[sl]; err[7] = ins[k, C_SLOTS]
                    return
            else:
                slot_cyc[sl] = t
                slot_cnt[sl] = 1
                slot_who[sl] = k
            # operands
            wa = -1
            wb = -1
            if op == _MEM_WRITE or op == _VXM_ADD or op == _VXM_MUL or op == _VXM_MAX or op == _VXM_RELU \
                    or op == _VXM_REQUANT or op == _MXM_MATVEC or op == _SXM_SHIFT or op == _SXM_PERMUTE \
                    or op == _C2C_SEND:
                d = ins[k, C_ADIR]
                s = ins[k, C_ASTR]
                wa = cell_w[d, s, _cell(d, sl, t, n_slices, hop, n_pos)] - 1
                if wa < 0:
                    err[0] = E_EMPTY; err[1] = t; err[2] = sl; err[3] = d; err[4] = s; err[5] = k; err[6] = -1
                    return
                src_a[k] = wa
            if op == _VXM_ADD or op == _VXM_MUL or op == _VXM_MAX:
                d = ins[k, C_BDIR]
                s = ins[k, C_BSTR]
                wb = cell_w[d, s, _cell(d, sl, t, n_slices, hop, n_pos)] - 1
                if wb < 0:
                    err[0] = E_EMPTY; err[1] = t; err[2] = sl; err[3] = d; err[4] = s; err[5] = k; err[6] = -1
                    return
                src_b[k] = wb
            # banks
            if op == _MEM_READ or op == _MEM_WRITE:
                bi = ins[k, C_BANKI]
                if bank_cyc[bi] == t:
                    err[0] = E_BANK; err[1] = t; err[2] = sl; err[3] = -1; err[4] = -1
                    err[5] = k; err[6] = bank_who[bi]
                    return
                bank_cyc[bi] = t
                bank_who[bi] = k
            out = k + 1
            if op == _MEM_READ:
                v = mem_val[ins[k, C_ROW]]
                if v == 0:
                    err[0] = E_UNINIT; err[1] = t; err[2] = sl; err[3] = -1; err[4] = -1; err[5] = k; err[6] = -1
                    return
                vref[out] = v
            elif op == _VXM_ADD or op == _VXM_MUL or op == _VXM_MAX:
                ra = vref[wa + 1]
                rb = vref[wb + 1]
                da = pool_dt[ra]
                db = pool_dt[rb]
                if (da <= _I32) != (db <= _I32):
                    err[0] = E_TYPE; err[1] = t; err[2] = sl; err[3] = -1; err[4] = -1
                    err[5] = k; err[6] = wb; err[7] = 0
                    return
                if da <= _I32:
                    for j in range(vl):
                        x = np.int64(pool[ra, j])
                        y = np.int64(pool[rb, j])
                        if op == _VXM_ADD:
                            r = x + y
                        elif op == _VXM_MUL:
                            r = x * y
                        else:
                            r = x if x >= y else y
                        pool[out, j] = np.float64(_wrap32(r))
                    pool_dt[out] = _I32
                else:
                    for j in range(vl):
                        x = pool[ra, j]
                        y = pool[rb, j]
                        if op == _VXM_ADD:
                            r2 = x + y
                        elif op == _VXM_MUL:
                            r2 = x * y
                        else:
                            r2 = x if x >= y else y
                        pool[out, j] = np.float64(np.float32(r2))
                    pool_dt[out] = _F32
            elif op == _VXM_RELU:
                ra = vref[wa + 1]
                da = pool_dt[ra]
                for j in range(vl):
                    x2 = pool[ra, j]
                    pool[out, j] = x2 if x2 > 0.0 else 0.0
                pool_dt[out] = _I32 if da <= _I32 else _F32
            elif op == _VXM_REQUANT:
                ra = vref[wa + 1]
                if pool_dt[ra] != _I32:
                    err[0] = E_TYPE; err[1] = t; err[2] = sl; err[3] = -1; err[4] = -1
                    err[5] = k; err[6] = wa; err[7] = 1
                    return
                sc = fimm[k]
                for j in range(vl):
                    q = np.rint(pool[ra, j] * sc)
                    if q > 127.0:
                        q = 127.0
                    elif q < -128.0:
                        q = -128.0
                    pool[out, j] = q
                pool_dt[out] = _I8
            elif op == _MXM_INSTALL:
                mxm_w[sl] = ins[k, C_AUX]
                mxm_ready[sl] = ins[k, C_DONE]
                mxm_who[sl] = k
            elif op == _MXM_MATVEC:
                if mxm_w[sl] < 0 or mxm_ready[sl] > t:
                    err[0] = E_MXM; err[1] = t; err[2] = sl; err[3] = -1; err[4] = -1
                    err[5] = k; err[6] = mxm_who[sl]
                    return
                wi = mxm_w[sl]
                ra = vref[wa + 1]
                dx = pool_dt[ra]
                if dx != wdt[wi]:
                    err[0] = E_TYPE; err[1] = t; err[2] = sl; err[3] = -1; err[4] = -1
                    err[5] = k; err[6] = wa; err[7] = 2
                    return
                for r_ in range(vl):
                    acc = 0.0
                    for j in range(vl):
                        acc += wts[wi, r_, j] * pool[ra, j]
                    if dx == _I8:
                        pool[out, r_] = np.float64(_wrap32(np.int64(acc)))
                    else:
                        pool[out, r_] = np.float64(np.float32(acc))
                pool_dt[out] = _I32 if dx == _I8 else _F32
            elif op == _SXM_SHIFT:
                sh = ins[k, C_AUX]
                ra = vref[wa + 1]
                for j in range(vl):
                    src = j - sh
                    pool[out, j] = pool[ra, src] if 0 <= src < vl else 0.0
                pool_dt[out] = pool_dt[ra]
            elif op == _SXM_PERMUTE:
                pi = ins[k, C_AUX]
                ra = vref[wa + 1]
                for j in range(vl):
                    pool[out, j] = pool[ra, perms[pi, j]]
                pool_dt[out] = pool_dt[ra]
            elif op == _C2C_RECV:
                vref[out] = ins[k, C_AUX]
            # MEM_WRITE commits and C2C_SEND records happen via src_a; NOP does nothing
    err[0] = E_OK


# ----------------------------------------------------------------------------------------------------------
# Python side: encoding, validation, results
# ----------------------------------------------------------------------------------------------------------

@dataclass
class Trace:
    """Per-instruction record of a run, in issue order (one row per instruction), for plots and tests."""
    index: np.ndarray        # position of the instruction in program.instructions
    cycle: np.ndarray        # issue cycle (superlane 0)
    slice: np.ndarray        # slice index
    op: np.ndarray           # opcode code (labsim.tsp.program.OPCODES)
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
    labels: tuple = ()       # each instruction's label (for plots; not part of to_dict / the golden trace)

    def segments(self):
        """Yield (dir, stream, slice_start, cycle_start, cycle_end, row): each stream value's world-line."""
        for r in range(len(self.cycle)):
            if self.out_dir[r] >= 0:
                yield (int(self.out_dir[r]), int(self.out_stream[r]), int(self.slice[r]),
                       int(self.done_cycle[r]), int(self.seg_end[r]), r)

    def op_names(self) -> list[str]:
        return [OPCODES[c] for c in self.op]

    def to_dict(self) -> dict:
        keys = ("index", "cycle", "slice", "op", "done_cycle", "out_dir", "out_stream", "src_a", "src_b", "seg_end")
        d = {k: [int(v) for v in getattr(self, k)] for k in keys}
        d["op_names"] = self.op_names()
        d.update(n_slices=self.n_slices, hop_cycles=self.hop_cycles, superlanes=self.superlanes,
                 stagger=self.stagger, slice_names=list(self.slice_names))
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Trace":
        keys = ("index", "cycle", "slice", "op", "done_cycle", "out_dir", "out_stream", "src_a", "src_b", "seg_end")
        if not isinstance(d, dict):
            raise LabsimError(f"Trace.from_dict needs a dict (from Trace.to_dict), got {type(d).__name__}")
        missing = [k for k in keys + ("n_slices", "hop_cycles", "superlanes", "stagger") if k not in d]
        if missing:
            raise LabsimError(f"Trace.from_dict: missing keys {missing}; pass what Trace.to_dict() returned")
        try:
            arrs = {k: np.asarray(d[k], dtype=np.int64) for k in keys}
        except (TypeError, ValueError):
            raise LabsimError("Trace.from_dict: every column must be a list of integers") from None
        if len({a.shape for a in arrs.values()}) != 1 or arrs["index"].ndim != 1:
            raise LabsimError("Trace.from_dict: the columns must be 1-D lists of the same length")
        return cls(**arrs, n_slices=d["n_slices"], hop_cycles=d["hop_cycles"], superlanes=d["superlanes"],
                   stagger=d["stagger"], slice_names=tuple(d.get("slice_names", ())))


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

    def read(self, slice, bank, address) -> np.ndarray:
        """Final value the program wrote at (slice, bank, address)."""
        if self.geometry is not None:
            key = mem_key(self.geometry, slice, bank, address)
            if key in self.memory:
                return self.memory[key]
        raise LabsimError(f"the program wrote nothing to ({slice!r}, bank {bank}, address {address}); "
                          f"written: {sorted(self.memory)[:8]}{' …' if len(self.memory) > 8 else ''}")


_DT_NP = [DTYPES[n][1] for n in DTYPE_NAMES]


def _encode(program: Program, g: Geometry, memory):
    ins_list = program.instructions
    n = len(ins_list)
    order = sorted(range(n), key=lambda j: (ins_list[j].cycle, j))
    recs = [ins_list[j] for j in order]
    vl = g.vector_len
    mem_names = g.slices_of_type("MEM")
    mem_ord = {nm: k for k, nm in enumerate(mem_names)}
    # memory rows
    rows: dict = {}
    init = dict(program.preloads)
    if memory is not None:
        if not isinstance(memory, dict):
            raise LabsimError("memory must be a dict {(slice, bank, address): vector}")
        for key, vec in memory.items():
            if not (isinstance(key, tuple) and len(key) == 3):
                raise LabsimError(f"memory key {key!r} must be (slice, bank, address)")
            k2 = mem_key(g, *key)
            init[k2] = as_vector(vec, f"memory[{k2}]", vl)
    for r in recs:
        if r.op in ("MEM_READ", "MEM_WRITE"):
            rows.setdefault((r.slice, r.bank, r.address), len(rows))
    for key in init:
        rows.setdefault(key, len(rows))
    consts = []  # (values, dtype) rows appended to the pool after the instruction rows
    weights, wdts, perms = [], [], []
    wseen: dict = {}
    tab = np.full((n, _NCOL), -1, dtype=np.int64)
    fimm = np.zeros(n, dtype=np.float64)
    for k, r in enumerate(recs):
        tab[k, C_CYC] = r.cycle
        tab[k, C_SL] = g.slice_index(r.slice)
        tab[k, C_OP] = OPCODE[r.op]
        if len(r.srcs) >= 1:
            tab[k, C_ADIR], tab[k, C_ASTR] = (0 if r.srcs[0].direction == "E" else 1), r.srcs[0].index
        if len(r.srcs) >= 2:
            tab[k, C_BDIR], tab[k, C_BSTR] = (0 if r.srcs[1].direction == "E" else 1), r.srcs[1].index
        if r.dst is not None:
            tab[k, C_ODIR], tab[k, C_OSTR] = (0 if r.dst.direction == "E" else 1), r.dst.index
        if r.bank is not None:
            tab[k, C_BANKI] = mem_ord[r.slice] * g.mem_banks_per_slice + r.bank
            tab[k, C_ROW] = rows[(r.slice, r.bank, r.address)]
        tab[k, C_DONE] = r.cycle + g.delay(r.op)
        tab[k, C_SLOTS] = g.issue_slots(g.slice_type(r.slice))
        if r.op == "VXM_REQUANT":
            fimm[k] = float(r.imm)
        elif r.op == "SXM_SHIFT":
            tab[k, C_AUX] = int(r.imm)
        elif r.op in ("C2C_SEND",):
            tab[k, C_AUX] = int(r.imm)
        elif r.op == "MXM_INSTALL":
            wkey = (r.data.dtype.str, r.data.shape, r.data.tobytes())   # identical matrices share one copy
            if wkey not in wseen:
                w = np.zeros((vl, vl), dtype=np.float64)
                w[: r.data.shape[0], : r.data.shape[1]] = r.data.astype(np.float64)
                wseen[wkey] = len(weights)
                weights.append(w)
                wdts.append(0 if r.data.dtype == np.int8 else 2)
            tab[k, C_AUX] = wseen[wkey]
        elif r.op == "SXM_PERMUTE":
            tab[k, C_AUX] = len(perms)
            perms.append(r.data)
        elif r.op == "C2C_RECV":
            tab[k, C_AUX] = n + 1 + len(consts)
            consts.append(as_vector(r.data, "data", vl))
    n_pre = len(init)
    pool = np.empty((n + 1 + len(consts) + n_pre, vl), dtype=np.float64)
    pool.fill(0.0)  # touch the pages here, so the kernel's inner loop does not take page faults
    pool_dt = np.zeros(pool.shape[0], dtype=np.int64)
    vref = np.arange(pool.shape[0], dtype=np.int64)
    for j, (vals, dt) in enumerate(consts):
        pool[n + 1 + j] = vals
        pool_dt[n + 1 + j] = DTYPES[dt][0]
    mem_val = np.zeros(max(len(rows), 1), dtype=np.int64)
    base = n + 1 + len(consts)
    for j, (key, (vals, dt)) in enumerate(init.items()):
        pool[base + j] = vals
        pool_dt[base + j] = DTYPES[dt][0]
        mem_val[rows[key]] = base + j
    wts = np.stack(weights) if weights else np.zeros((1, 1, 1), dtype=np.float64)
    wdt = np.asarray(wdts if wdts else [0], dtype=np.int64)
    prm = np.stack(perms).astype(np.int64) if perms else np.zeros((1, 1), dtype=np.int64)
    has_ev = np.array([HAS_DST[r.op] or r.op == "MEM_WRITE" for r in recs], dtype=bool)
    ev = np.flatnonzero(has_ev)
    ev = ev[np.argsort(tab[ev, C_DONE], kind="stable")].astype(np.int64)
    t_end = int(max(tab[:, C_DONE].max(), tab[:, C_CYC].max())) if n else 0
    return dict(order=order, recs=recs, tab=tab, fimm=fimm, ev=ev, pool=pool, pool_dt=pool_dt, vref=vref,
                mem_val=mem_val,
                rows=rows, wts=wts, wdt=wdt, perms=prm, t_end=t_end,
                n_banks=len(mem_names) * g.mem_banks_per_slice)


def _kernel_args(program: Program, g: Geometry, memory=None):
    """Encoded arguments of ``_run`` for a validated program (benchmarks time the kernel alone with this)."""
    enc = _encode(program, g, memory)
    n = enc["tab"].shape[0]
    return (enc["tab"], enc["fimm"], enc["ev"], g.n_slices, g.streams_per_direction, g.stream_hop_cycles,
            enc["t_end"], enc["pool"], enc["pool_dt"], enc["vref"], enc["mem_val"], enc["n_banks"], enc["wts"],
            enc["wdt"],
            enc["perms"], np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64),
            np.full(n, -1, dtype=np.int64), np.zeros(8, dtype=np.int64))


def simulate(program: Program, geometry: Geometry | None = None, memory: dict | None = None, *,
             max_cycles: int = 50_000_000) -> Result:
    """Run ``program`` cycle by cycle on ``geometry`` (default: the program's) with initial ``memory``
    ({(slice, bank, address): vector}, added to the program's preloads). Raises TimingFault on a conflict.
    ``max_cycles`` guards against a mistyped cycle number (the engine steps through every cycle).
    """
    max_cycles = check_int("max_cycles", max_cycles, lo=1)
    if not isinstance(program, Program):
        raise LabsimError(f"program must be a labsim.tsp.Program, got {type(program).__name__}")
    g = program.geometry if geometry is None else geometry
    if not isinstance(g, Geometry):
        raise LabsimError(f"geometry must be a labsim.tsp.Geometry, got {type(g).__name__}")
    if g != program.geometry:
        # a program built for another geometry: re-validate every record against this one
        p2 = Program(g, program.name)
        try:
            for j, ins in enumerate(program.instructions):
                p2.instructions.append(validate_instruction(g, ins, j))
            for key, (vals, dt) in program.preloads.items():
                p2.preload(key[0], key[1], key[2], vals[: g.vector_len].astype(DTYPES[dt][1]))
        except LabsimError as exc:
            raise TimingFault(f"program {program.name!r} does not fit geometry {g.name!r}: {exc}") from None
        program = p2
    else:
        # records may have been appended to .instructions directly: validate them (cheap)
        ok = program._validated
        for j, ins in enumerate(program.instructions):
            if ok.get(id(ins)) is ins:
                continue
            validate_instruction(g, ins, j)   # TimingFault for ids out of range, LabsimError otherwise
    enc = _encode(program, g, memory)
    if enc["t_end"] + 1 > max_cycles:
        raise LabsimError(f"the program runs to cycle {enc['t_end']}, beyond max_cycles = {max_cycles:,}; "
                          f"pass simulate(..., max_cycles=…) if that is intended")
    tab = enc["tab"]
    n = tab.shape[0]
    src_a = np.full(n, -1, dtype=np.int64)
    src_b = np.full(n, -1, dtype=np.int64)
    seg_end = np.full(n, -1, dtype=np.int64)
    err = np.zeros(8, dtype=np.int64)
    if n:
        _run(tab, enc["fimm"], enc["ev"], g.n_slices, g.streams_per_direction, g.stream_hop_cycles, enc["t_end"],
             enc["pool"], enc["pool_dt"], enc["vref"], enc["mem_val"], enc["n_banks"], enc["wts"], enc["wdt"],
             enc["perms"],
             src_a, src_b, seg_end, err)
    if err[0] != E_OK:
        raise _fault(err, enc, g)
    # values still on chip at the end: they leave at the edge
    n_pos = (g.n_slices - 1) * g.stream_hop_cycles + 1
    for k in range(n):
        if tab[k, C_ODIR] >= 0 and seg_end[k] < 0:
            sl = tab[k, C_SL]
            x = sl * g.stream_hop_cycles if tab[k, C_ODIR] == 0 else (g.n_slices - 1 - sl) * g.stream_hop_cycles
            seg_end[k] = tab[k, C_DONE] + (n_pos - x)
    pool, pool_dt = enc["pool"], enc["pool_dt"]
    written = {(r.slice, r.bank, r.address) for r in enc["recs"] if r.op == "MEM_WRITE"}
    out_mem = {}
    for key in sorted(written):
        v = enc["mem_val"][enc["rows"][key]]
        out_mem[key] = pool[v].astype(_DT_NP[pool_dt[v]])
    sent = []
    for k, r in enumerate(enc["recs"]):
        if r.op == "C2C_SEND":
            w = enc["vref"][src_a[k] + 1]
            sent.append((r.cycle, r.slice, int(r.imm), pool[w].astype(_DT_NP[pool_dt[w]])))
    t0 = enc["t_end"] + 1 if n else 0
    stagger = (g.superlanes - 1) * g.instr_stagger_cycles_per_superlane
    trace = Trace(index=np.asarray(enc["order"], dtype=np.int64), cycle=tab[:, C_CYC].copy(),
                  slice=tab[:, C_SL].copy(), op=tab[:, C_OP].copy(), done_cycle=tab[:, C_DONE].copy(),
                  out_dir=tab[:, C_ODIR].copy(), out_stream=tab[:, C_OSTR].copy(), src_a=src_a, src_b=src_b,
                  seg_end=seg_end, n_slices=g.n_slices, hop_cycles=g.stream_hop_cycles, superlanes=g.superlanes,
                  stagger=g.instr_stagger_cycles_per_superlane, slice_names=g.slice_names,
                  labels=tuple(r.label for r in enc["recs"]))
    return Result(memory=out_mem, cycles=t0 + stagger if n else 0, cycles_superlane0=t0, trace=trace, sent=sent,
                  slice_cycles=g.n_slices * t0, geometry=g)


# ----------------------------------------------------------------------------------------------------------
# fault messages
# ----------------------------------------------------------------------------------------------------------

def _stream_name(d, s) -> str:
    return f"{'E' if d == 0 else 'W'}{s}"


def _fault(err, enc, g: Geometry) -> TimingFault:
    code, t, sl, d, s, ka, kb, extra = (int(x) for x in err)
    recs, order = enc["recs"], enc["order"]

    def desc(k):
        return recs[k].describe(order[k])

    slice_name = g.slice_names[sl] if 0 <= sl < g.n_slices else "?"
    stream = _stream_name(d, s) if d >= 0 else None
    involved = [order[ka]] + ([order[kb]] if kb >= 0 else [])
    head = f"cycle {t}, slice {slice_name}" + (f", stream {stream}" if stream else "") + ": "
    if code == E_EMPTY:
        msg = head + f"{desc(ka)} reads stream {stream}, but that slot holds nothing on cycle {t}."
        best = None
        for k, r in enumerate(recs):
            if r.dst is None or (0 if r.dst.direction == "E" else 1) != d or r.dst.index != s:
                continue
            p = g.slice_index(r.slice)
            if (d == 0 and sl < p) or (d == 1 and sl > p):
                continue
            arr = r.cycle + g.delay(r.op) + abs(sl - p) * g.stream_hop_cycles
            if best is None or abs(arr - t) < abs(best[1] - t):
                best = (k, arr)
        if best is not None:
            k, arr = best
            involved = [order[ka], order[k]]
            dt = arr - t
            when = (f"{dt} cycle{'s' if abs(dt) != 1 else ''} later" if dt > 0 else
                    f"{-dt} cycle{'s' if abs(dt) != 1 else ''} earlier, and it has moved on")
            msg += (f" The nearest producer on {stream}, {desc(k)}, puts its value at {slice_name} on cycle "
                    f"{arr} ({when}): issue the reader on cycle {arr}" + (" or move it." if dt < 0 else "."))
        else:
            msg += f" No instruction writes {stream} upstream of {slice_name}."
    elif code == E_COLLIDE:
        msg = head + (f"two writes into the same stream slot in one cycle: {desc(ka)} and {desc(kb)}. "
                      f"Use another stream or another cycle.")
    elif code == E_BANK:
        r = recs[ka]
        msg = head + (f"bank conflict on bank {r.bank}: {desc(ka)} and {desc(kb)} use the same bank in the same "
                      f"cycle (one access per bank per cycle). Use the other bank or another cycle.")
    elif code == E_MXM:
        if kb >= 0:
            ready = recs[kb].cycle + g.delay("MXM_INSTALL")
            msg = head + (f"{desc(ka)} uses the MXM before its weights are installed: {desc(kb)} makes them "
                          f"usable on cycle {ready} ({ready - t} cycles later).")
        else:
            msg = head + f"{desc(ka)} uses the MXM, but no weights were installed in {slice_name}."
    elif code == E_SLOTS:
        msg = head + (f"more than {extra} instruction(s) issued on {slice_name} in one cycle: {desc(ka)} "
                      f"and {desc(kb)}.")
    elif code == E_UNINIT:
        r = recs[ka]
        msg = head + (f"{desc(ka)} reads bank {r.bank} address {r.address}, which holds nothing yet "
                      f"(no preload, no earlier committed write).")
    elif code == E_TYPE:
        what = {0: "mixes integer and floating-point operands",
                1: "requantizes a value that is not int32",
                2: "feeds the MXM a vector whose type differs from the installed weights (int8 with int8, "
                   "fp16 with fp16)"}[extra]
        msg = head + f"type mismatch: {desc(ka)} {what}; operand produced by {desc(kb)}."
    else:  # pragma: no cover
        msg = head + f"unknown fault code {code}"
    exc = TimingFault(msg)
    exc.cycle, exc.slice, exc.stream, exc.instructions = t, slice_name, stream, tuple(involved)
    exc.kind = {E_EMPTY: "empty_read", E_COLLIDE: "stream_collision", E_BANK: "bank_conflict",
                E_MXM: "mxm_not_ready", E_SLOTS: "issue_slots", E_UNINIT: "uninitialised_memory",
                E_TYPE: "type_mismatch"}.get(code, "unknown")
    return exc
