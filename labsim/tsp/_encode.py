"""Encoding a validated program into the kernel's flat arrays, once per program (private).

The static part — one table row per issue (a repeated MEM read and a streamed MXM load are expanded into one row
per cycle), the event order, the memory image of the preloads — depends only on the program and is cached on
the :class:`~labsim.tsp.program.Program` (keyed by the identity of its records and preloads, so an edit
invalidates it). Each :func:`~labsim.tsp.simulate` call then only copies the few arrays the kernel mutates and
adds the ``memory=`` argument.
"""
from __future__ import annotations

import numpy as np

from ..errors import LabsimError
from ._kernel import (
    C_ADDR,
    C_ADIR,
    C_ASTR,
    C_AUX,
    C_BANKI,
    C_BDIR,
    C_BSTR,
    C_CYC,
    C_DONE,
    C_LCNT,
    C_LOFF,
    C_LREADY,
    C_LROW0,
    C_ODIR,
    C_OP,
    C_OSTR,
    C_PLANE,
    C_SL,
    C_SLOTS,
    NCOL,
)
from .geometry import Geometry, _layout
from .isa import DELAY_FIELD, DTYPES, HAS_DST, OPCODE, OPCODES
from .program import Program, as_vector, mem_key

__all__ = ["encode", "run_arrays", "KERNEL_CYCLE_LIMIT"]

#: the table is int32; cycles beyond this do not fit (simulate's max_cycles is capped below it)
KERNEL_CYCLE_LIMIT = 2**31 - 2**20

_COMPUTES = np.zeros(len(OPCODES), dtype=bool)      # opcodes that compute a new vector (own pool row)
for _op in ("VXM_ADD", "VXM_MUL", "VXM_MAX", "VXM_RELU", "VXM_REQUANT", "MXM_MATVEC", "SXM_SHIFT", "SXM_PERMUTE"):
    _COMPUTES[OPCODE[_op]] = True
_HAS_EVENT = np.array([HAS_DST[op] or op == "MEM_WRITE" for op in OPCODES], dtype=bool)
_N_DT = len(DTYPES)


def _delays(g: Geometry) -> np.ndarray:
    return np.array([0 if op == "MXM_LOAD" else (1 if DELAY_FIELD[op] is None else int(getattr(g, DELAY_FIELD[op])))
                     for op in OPCODES], dtype=np.int64)


def _fingerprint(program: Program):
    """Identity of everything the encoding depends on. Every object whose id is in the key is kept alive by
    the cached encoding, so a later object cannot reuse one of these ids."""
    return (program.geometry, tuple(map(id, program.instructions)),
            tuple((k, id(v)) for k, v in program.preloads.items()), tuple(map(id, program.preload_blocks)))


def encode(program: Program):
    """The static encoding of ``program`` for its geometry (cached on the program; any change to its records,
    preloads, blocks or geometry makes a new one)."""
    fp = _fingerprint(program)
    cached = program._enc_cache
    if cached is not None and cached[0] == fp:
        return cached[1]
    ins, pre, blocks = program.checked()
    enc = _encode(program.geometry, ins, pre, blocks)
    enc["records"] = ins
    enc["alive"] = (list(program.instructions), dict(program.preloads), list(program.preload_blocks))
    program._enc_cache = (fp, enc)
    return enc


def _encode(g: Geometry, ins: list, pre: dict, blocks: list) -> dict:
    n_ins = len(ins)
    names, types, index = _layout(g)
    ns = g.streams_per_direction
    words, banks = g.mem_words_per_bank, g.mem_banks_per_slice
    mem_ord = {nm: k for k, nm in enumerate(n for n, t in zip(names, types, strict=False) if t == "MEM")}
    plane_of = {nm: k for k, nm in enumerate(n for n, t in zip(names, types, strict=False) if t == "MXM")}
    slots_of_type = {t: g.issue_slots(t) for t in set(types)}
    delays = _delays(g)
    # ---- one pass over the records (the only per-instruction Python loop) --------------------------------
    base = np.full((n_ins, NCOL), -1, dtype=np.int64)
    fimm = np.zeros(n_ins, dtype=np.float64)
    count = np.ones(n_ins, dtype=np.int64)
    lsrc_parts, load_streams = [], np.zeros(n_ins, dtype=np.int64)
    weights, wdts, wseen, perms, consts = [], [], {}, [], []
    for k, r in enumerate(ins):
        row = base[k]
        op = OPCODE[r.op]
        sl = index[r.slice]
        row[C_CYC] = r.cycle
        row[C_SL] = sl
        row[C_OP] = op
        row[C_SLOTS] = slots_of_type[types[sl]]
        srcs = r.srcs
        if op == OPCODE["MXM_LOAD"]:
            codes = [(0 if s.direction == "E" else 1) * ns + s.index for s in srcs]
            lsrc_parts.append(codes)
            load_streams[k] = len(codes)
            count[k] = -(-int(r.imm) // len(codes))
            row[C_PLANE] = plane_of[r.slice]
            row[C_LROW0] = int(r.imm)                 # total rows for now; split per cycle below
            continue
        if srcs:
            row[C_ADIR] = 0 if srcs[0].direction == "E" else 1
            row[C_ASTR] = srcs[0].index
            if len(srcs) > 1:
                row[C_BDIR] = 0 if srcs[1].direction == "E" else 1
                row[C_BSTR] = srcs[1].index
        if r.dst is not None:
            row[C_ODIR] = 0 if r.dst.direction == "E" else 1
            row[C_OSTR] = r.dst.index
        if r.bank is not None:
            mi = mem_ord[r.slice] * banks + r.bank
            row[C_BANKI] = mi
            row[C_ADDR] = mi * words + r.address
            count[k] = r.repeat
        if types[sl] == "MXM":
            row[C_PLANE] = plane_of[r.slice]
        if op == OPCODE["VXM_REQUANT"]:
            fimm[k] = float(r.imm)
        elif op == OPCODE["SXM_SHIFT"] or op == OPCODE["C2C_SEND"]:
            row[C_AUX] = int(r.imm)
        elif op == OPCODE["MXM_INSTALL"]:
            wkey = (r.data.dtype.str, r.data.shape, r.data.tobytes())   # identical matrices share one copy
            if wkey not in wseen:
                wseen[wkey] = len(weights)
                weights.append(r.data)
                wdts.append(0 if r.data.dtype == np.int8 else 2)
            row[C_AUX] = wseen[wkey]
        elif op == OPCODE["SXM_PERMUTE"]:
            row[C_AUX] = len(perms)
            perms.append(r.data)
        elif op == OPCODE["C2C_RECV"]:
            row[C_AUX] = len(consts)
            consts.append(as_vector(r.data, "data", g.vector_len))
    # ---- expand repeats and loads into one row per issue cycle, sorted by (cycle, record, repetition) ---------
    n_rows = int(count.sum())
    rec = np.repeat(np.arange(n_ins, dtype=np.int64), count)
    first = np.zeros(n_ins + 1, dtype=np.int64)
    np.cumsum(count, out=first[1:])
    rep = np.arange(n_rows, dtype=np.int64) - first[rec]
    tab = base[rec]
    tab[:, C_CYC] += rep
    is_mem = tab[:, C_ADDR] >= 0
    tab[is_mem, C_ADDR] += rep[is_mem]
    is_load = tab[:, C_OP] == OPCODE["MXM_LOAD"]
    lsrc = np.zeros(1, dtype=np.int64)
    if is_load.any():
        S = load_streams[rec[is_load]]
        total = tab[is_load, C_LROW0]
        r0 = rep[is_load] * S
        tab[is_load, C_LROW0] = r0
        tab[is_load, C_LCNT] = np.minimum(S, total - r0)
        # each load's stream codes, once per cycle it reads them
        lrec = np.flatnonzero(load_streams)
        loff = np.zeros(n_ins, dtype=np.int64)
        sizes = load_streams[lrec] * count[lrec]
        starts = np.zeros(lrec.size, dtype=np.int64)
        np.cumsum(sizes[:-1], out=starts[1:])
        loff[lrec] = starts
        tab[is_load, C_LOFF] = loff[rec[is_load]] + rep[is_load] * S
        lsrc = np.concatenate([np.tile(np.asarray(c, dtype=np.int64), int(count[j]))
                               for j, c in zip(lrec, lsrc_parts, strict=False)])
        ready = tab[is_load, C_CYC] - rep[is_load] + count[rec[is_load]]
        tab[is_load, C_LREADY] = np.where(rep[is_load] == 0, ready, -1)
    tab[:, C_DONE] = tab[:, C_CYC] + delays[tab[:, C_OP]]
    t_end = int(max(tab[:, C_DONE].max(), tab[:, C_CYC].max(), tab[:, C_LREADY].max())) if n_rows else 0
    if t_end >= KERNEL_CYCLE_LIMIT:
        raise LabsimError(f"the program runs to cycle {t_end:,}; the simulator handles at most "
                          f"{KERNEL_CYCLE_LIMIT:,} cycles")
    order = np.lexsort((rep, rec, tab[:, C_CYC]))
    tab = np.ascontiguousarray(tab[order])
    rec, rep = rec[order], rep[order]
    fimm = fimm[rec]
    ops = tab[:, C_OP]
    ev = np.flatnonzero(_HAS_EVENT[ops])
    ev = ev[np.argsort(tab[ev, C_DONE], kind="stable")].astype(np.int64)
    # ---- pool rows: 0 = nothing; computed rows; constants; preloaded values; typed placeholders -------------
    computes = _COMPUTES[ops]
    prow = np.full(n_rows, -1, dtype=np.int64)
    prow[computes] = 1 + np.arange(int(computes.sum()), dtype=np.int64)
    n_comp = int(computes.sum())
    const_base = 1 + n_comp
    recv = ops == OPCODE["C2C_RECV"]
    tab[recv, C_AUX] += const_base
    pre_base = const_base + len(consts)
    n_pre = len(pre) + sum(b[3] for b in blocks if b[4] is not None)
    ph_base = pre_base + n_pre                     # one "initialized, value not carried" row per dtype
    n_pool = ph_base + _N_DT
    pool_dt = np.zeros(n_pool, dtype=np.int64)
    mem_val = np.zeros(2 * g.mem_slices_per_hemisphere * banks * words, dtype=np.int64)
    pre_vals = np.zeros((n_pre, g.vector_len), dtype=np.float64)
    j = 0
    timing_only = False
    for (slice_, bank, address, cnt, vals, dt) in blocks:
        a0 = (mem_ord[slice_] * banks + bank) * words + address
        if vals is None:
            mem_val[a0: a0 + cnt] = ph_base + DTYPES[dt][0]
            timing_only = True
        else:
            pre_vals[j: j + cnt] = vals
            pool_dt[pre_base + j: pre_base + j + cnt] = DTYPES[dt][0]
            mem_val[a0: a0 + cnt] = pre_base + j + np.arange(cnt)
            j += cnt
    for (slice_, bank, address), (vals, dt) in pre.items():
        a0 = (mem_ord[slice_] * banks + bank) * words + address
        pre_vals[j] = vals
        pool_dt[pre_base + j] = DTYPES[dt][0]
        mem_val[a0] = pre_base + j
        j += 1
    for c, (_vals, dt) in enumerate(consts):
        pool_dt[const_base + c] = DTYPES[dt][0]
    pool_dt[ph_base: ph_base + _N_DT] = np.arange(_N_DT)
    vl = g.vector_len
    wts = np.zeros((max(len(weights), 1), vl, vl), dtype=np.float64)
    for w_i, w in enumerate(weights):
        wts[w_i, : w.shape[0], : w.shape[1]] = w.astype(np.float64)
    # ---- what simulate() reports from -------------------------------------------------------------------
    writes = ops == OPCODE["MEM_WRITE"]
    written = np.unique(tab[writes, C_ADDR])
    mem_names = tuple(mem_ord)
    written_keys = []
    for a in written.tolist():
        mi, addr = divmod(a, words)
        written_keys.append((mem_names[mi // banks], mi % banks, addr))
    sends = np.flatnonzero(ops == OPCODE["C2C_SEND"])
    for a in (tab, rec, rep, ev, prow, fimm, lsrc, pool_dt, mem_val, pre_vals, written, sends):
        a.setflags(write=False)
    return dict(
        tab=tab.astype(np.int32), rec=rec, rep=rep, fimm=fimm, ev=ev, prow=prow, lsrc=lsrc, t_end=t_end,
        n_pool=n_pool, pool_dt=pool_dt, mem_val=mem_val, pre_base=pre_base, pre_vals=pre_vals,
        consts=[c[0] for c in consts], const_base=const_base, wts=wts,
        wdt=np.asarray(wdts if wdts else [0], dtype=np.int64),
        perms=np.stack(perms).astype(np.int64) if perms else np.zeros((1, 1), dtype=np.int64),
        n_banks=len(mem_ord) * banks, n_planes=len(plane_of), timing_only=timing_only, written=written,
        sends=sends, mem_names=mem_names, written_keys=written_keys, n_rows=n_rows, n_ins=n_ins)


def run_arrays(enc: dict, g: Geometry, memory, values: bool):
    """The kernel's mutable arrays for one run: (pool, pool_dt, mem_val, vref, src_a, src_b, seg_end, lsrc_w, err),
    with ``memory`` ({(slice, bank, address): vector}) applied on top of the program's preloads."""
    extra = []
    if memory is not None:
        if not isinstance(memory, dict):
            raise LabsimError("memory must be a dict {(slice, bank, address): vector}")
        if len(memory) > 1_000_000:
            raise LabsimError(f"memory holds {len(memory):,} vectors; at most 1,000,000 (use preload_block)")
        for key, vec in memory.items():
            if not (isinstance(key, tuple) and len(key) == 3):
                raise LabsimError(f"memory key {key!r} must be (slice, bank, address)")
            k2 = mem_key(g, *key)
            extra.append((k2, as_vector(vec, f"memory[{k2}]", g.vector_len)))
    n_pool = enc["n_pool"] + len(extra)
    pool_dt = np.empty(n_pool, dtype=np.int64)
    pool_dt[: enc["n_pool"]] = enc["pool_dt"]
    mem_val = enc["mem_val"].copy()
    if values:
        pool = np.zeros((n_pool, g.vector_len), dtype=np.float64)
        pb = enc["pre_base"]
        pool[pb: pb + enc["pre_vals"].shape[0]] = enc["pre_vals"]
        for c, vals in enumerate(enc["consts"]):
            pool[enc["const_base"] + c] = vals
    else:
        pool = np.zeros((1, g.vector_len), dtype=np.float64)
    mem_ord = {nm: k for k, nm in enumerate(enc["mem_names"])}
    words, banks = g.mem_words_per_bank, g.mem_banks_per_slice
    for j, ((slice_, bank, address), (vals, dt)) in enumerate(extra):
        row = enc["n_pool"] + j
        pool_dt[row] = DTYPES[dt][0]
        if values:
            pool[row] = vals
        mem_val[(mem_ord[slice_] * banks + bank) * words + address] = row
    n = enc["n_rows"]
    vref = enc["prow"].copy()
    return (pool, pool_dt, mem_val, vref, np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64),
            np.full(n, -1, dtype=np.int64), np.full(enc["lsrc"].size, -1, dtype=np.int64),
            np.zeros(8, dtype=np.int64))
