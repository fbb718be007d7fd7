"""The numba kernel of the cycle simulator (private; called only by :func:`labsim.tsp.simulate`).

Model (docs/design/tsp.md §1, §5): stream registers move one register stage per cycle, ``hop`` stages per slice
boundary; an instruction reads its operands at its slice on its issue cycle and writes its result at its slice
``delay`` cycles later ([isca20] Eq. 4 timing model). Every argument is built and bounds-checked by
``labsim.tsp._encode``: the kernel itself trusts its indices.

``values=False`` runs the same program for timing only: every stream slot, bank, issue slot, MXM plane and
element type is tracked exactly as with values, but no arithmetic is done and no vector is stored.
"""
from __future__ import annotations

import numba
import numpy as np

from .isa import OPCODE

# opcode integer codes (labsim.tsp.isa.OPCODES order)
_MEM_READ, _MEM_WRITE = OPCODE["MEM_READ"], OPCODE["MEM_WRITE"]
_VXM_ADD, _VXM_MUL, _VXM_MAX = OPCODE["VXM_ADD"], OPCODE["VXM_MUL"], OPCODE["VXM_MAX"]
_VXM_RELU, _VXM_REQUANT = OPCODE["VXM_RELU"], OPCODE["VXM_REQUANT"]
_MXM_INSTALL, _MXM_MATVEC = OPCODE["MXM_INSTALL"], OPCODE["MXM_MATVEC"]
_SXM_SHIFT, _SXM_PERMUTE = OPCODE["SXM_SHIFT"], OPCODE["SXM_PERMUTE"]
_C2C_SEND, _C2C_RECV, _NOP = OPCODE["C2C_SEND"], OPCODE["C2C_RECV"], OPCODE["NOP"]
_MXM_LOAD, _MXM_ACC = OPCODE["MXM_LOAD"], OPCODE["MXM_ACC"]

# error codes returned in err[0]
E_OK, E_EMPTY, E_COLLIDE, E_BANK, E_MXM, E_SLOTS, E_UNINIT, E_TYPE = 0, 1, 2, 3, 4, 5, 6, 7

# dtype codes: 0 int8, 1 int32, 2 fp16, 3 fp32
_I8, _I32, _F16, _F32 = 0, 1, 2, 3

# columns of the encoded instruction table (one row per issue: a repeated read or a load has several rows)
(C_CYC, C_SL, C_OP, C_ADIR, C_ASTR, C_BDIR, C_BSTR, C_ODIR, C_OSTR, C_BANKI, C_ADDR, C_AUX, C_DONE, C_SLOTS,
 C_PLANE, C_LOFF, C_LCNT, C_LROW0, C_LREADY) = range(19)
NCOL = 19


@numba.njit(cache=True, inline="always")
def _cell(d, sl, t, n_slices, hop, n_pos):
    x = sl * hop if d == 0 else (n_slices - 1 - sl) * hop
    return (x - t) % n_pos


@numba.njit(cache=True, inline="always")
def _wrap32(v):
    if -2147483648 <= v <= 2147483647:
        return v
    return ((v + 2147483648) % 4294967296) - 2147483648


@numba.njit(cache=True, fastmath=True)
def _matvec_exact(w, x, acc):
    """acc += w @ x for integer-valued data: every product and partial sum is an integer below 2^53, so the sum is
    exact in any order and fastmath's reordering (SIMD) cannot change it."""
    n = w.shape[0]
    m = w.shape[1]
    for r in range(n):
        a = 0.0
        for j in range(m):
            a += w[r, j] * x[j]
        acc[r] += a


@numba.njit(cache=True)
def _matvec_ordered(w, x, acc):
    """acc += w @ x, summed in lane order (the fp16 path: the order fixes the rounding)."""
    n = w.shape[0]
    m = w.shape[1]
    for r in range(n):
        a = 0.0
        for j in range(m):
            a += w[r, j] * x[j]
        acc[r] += a


@numba.njit(cache=True, inline="always")
def _fail(err, code, t, sl, d, s, ka, kb, extra):
    err[0] = code
    err[1] = t
    err[2] = sl
    err[3] = d
    err[4] = s
    err[5] = ka
    err[6] = kb
    err[7] = extra


@numba.njit(cache=True)
def _run(ins, lsrc, fimm, ev, n_slices, n_streams, hop, t_end, values, pool, pool_dt, prow, mem_val, n_banks,
         n_planes, wts, wdt, perms, vref, src_a, src_b, seg_end, lsrc_w, err):
    """Run the encoded program. Mutates pool/mem_val/vref/src_a/src_b/seg_end/lsrc_w; err[0] != 0 on a fault.

    Row k's result lives in pool row vref[k]: its own row prow[k] when it computes one, the memory's row for a
    MEM read and the constant's row for a C2C receive (values are immutable, so rows are shared, not copied)."""
    n = ins.shape[0]
    vl = pool.shape[1]
    n_pos = (n_slices - 1) * hop + 1
    cell_w = np.zeros((2, n_streams, n_pos), dtype=np.int64)      # writer row + 1 (0 = empty)
    cell_t = np.full((2, n_streams, n_pos), -1, dtype=np.int64)   # cycle of the last write
    bank_cyc = np.full(max(n_banks, 1), -1, dtype=np.int64)
    bank_who = np.zeros(max(n_banks, 1), dtype=np.int64)
    slot_cyc = np.full(n_slices, -1, dtype=np.int64)
    slot_cnt = np.zeros(n_slices, dtype=np.int64)
    slot_who = np.zeros(n_slices, dtype=np.int64)
    np_ = max(n_planes, 1)
    pl_ready = np.zeros(np_, dtype=np.int64)
    pl_who = np.full(np_, -1, dtype=np.int64)
    pl_wdt = np.full(np_, -1, dtype=np.int64)
    pl_src = np.full(np_, -1, dtype=np.int64)                     # ≥ 0: weights are wts[pl_src] (installed)
    acc_dt = np.full(np_, -1, dtype=np.int64)
    if values:
        pl_w = np.zeros((np_, vl, vl), dtype=np.float64)
        acc = np.zeros((np_, vl), dtype=np.float64)
    else:
        pl_w = np.zeros((1, 1, 1), dtype=np.float64)
        acc = np.zeros((1, 1), dtype=np.float64)
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
            if ins[k, C_OP] == _MEM_WRITE:
                mem_val[ins[k, C_ADDR]] = vref[src_a[k]]
                continue
            d = ins[k, C_ODIR]
            s = ins[k, C_OSTR]
            sl = ins[k, C_SL]
            c = _cell(d, sl, t, n_slices, hop, n_pos)
            if cell_t[d, s, c] == t:
                _fail(err, E_COLLIDE, t, sl, d, s, k, cell_w[d, s, c] - 1, 0)
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
            if slot_cyc[sl] == t:
                slot_cnt[sl] += 1
                if slot_cnt[sl] > ins[k, C_SLOTS]:
                    _fail(err, E_SLOTS, t, sl, -1, -1, k, slot_who[sl], ins[k, C_SLOTS])
                    return
            else:
                slot_cyc[sl] = t
                slot_cnt[sl] = 1
                slot_who[sl] = k
            # operands
            wa = -1
            wb = -1
            if ins[k, C_ADIR] >= 0:
                d = ins[k, C_ADIR]
                s = ins[k, C_ASTR]
                wa = cell_w[d, s, _cell(d, sl, t, n_slices, hop, n_pos)] - 1
                if wa < 0:
                    _fail(err, E_EMPTY, t, sl, d, s, k, -1, 0)
                    return
                src_a[k] = wa
            if ins[k, C_BDIR] >= 0:
                d = ins[k, C_BDIR]
                s = ins[k, C_BSTR]
                wb = cell_w[d, s, _cell(d, sl, t, n_slices, hop, n_pos)] - 1
                if wb < 0:
                    _fail(err, E_EMPTY, t, sl, d, s, k, -1, 0)
                    return
                src_b[k] = wb
            # banks
            if op == _MEM_READ or op == _MEM_WRITE:
                bi = ins[k, C_BANKI]
                if bank_cyc[bi] == t:
                    _fail(err, E_BANK, t, sl, -1, -1, k, bank_who[bi], 0)
                    return
                bank_cyc[bi] = t
                bank_who[bi] = k
            out = prow[k]
            if op == _MEM_READ:
                v = mem_val[ins[k, C_ADDR]]
                if v == 0:
                    _fail(err, E_UNINIT, t, sl, -1, -1, k, -1, 0)
                    return
                vref[k] = v
            elif op == _VXM_ADD or op == _VXM_MUL or op == _VXM_MAX:
                ra = vref[wa]
                rb = vref[wb]
                da = pool_dt[ra]
                db = pool_dt[rb]
                if (da <= _I32) != (db <= _I32):
                    _fail(err, E_TYPE, t, sl, -1, -1, k, wb, 0)
                    return
                pool_dt[out] = _I32 if da <= _I32 else _F32
                if values:
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
                    else:
                        for j in range(vl):
                            x2 = pool[ra, j]
                            y2 = pool[rb, j]
                            if op == _VXM_ADD:
                                r2 = x2 + y2
                            elif op == _VXM_MUL:
                                r2 = x2 * y2
                            else:
                                r2 = x2 if x2 >= y2 else y2
                            pool[out, j] = np.float64(np.float32(r2))
            elif op == _VXM_RELU:
                ra = vref[wa]
                pool_dt[out] = _I32 if pool_dt[ra] <= _I32 else _F32
                if values:
                    for j in range(vl):
                        x3 = pool[ra, j]
                        pool[out, j] = x3 if x3 > 0.0 else 0.0
            elif op == _VXM_REQUANT:
                ra = vref[wa]
                if pool_dt[ra] != _I32:
                    _fail(err, E_TYPE, t, sl, -1, -1, k, wa, 1)
                    return
                pool_dt[out] = _I8
                if values:
                    sc = fimm[k]
                    for j in range(vl):
                        q = np.rint(pool[ra, j] * sc)
                        if q > 127.0:
                            q = 127.0
                        elif q < -128.0:
                            q = -128.0
                        pool[out, j] = q
            elif op == _MXM_INSTALL:
                p = ins[k, C_PLANE]
                pl_ready[p] = ins[k, C_DONE]
                pl_who[p] = k
                pl_wdt[p] = wdt[ins[k, C_AUX]]
                pl_src[p] = ins[k, C_AUX]
            elif op == _MXM_LOAD:
                p = ins[k, C_PLANE]
                if ins[k, C_LREADY] >= 0:                 # first cycle of the load: the plane is being refilled
                    pl_ready[p] = ins[k, C_LREADY]
                    pl_who[p] = k
                    pl_wdt[p] = -2
                    pl_src[p] = -1
                    if values:
                        pl_w[p, :, :] = 0.0
                r0 = ins[k, C_LROW0]
                for m in range(ins[k, C_LCNT]):
                    code = lsrc[ins[k, C_LOFF] + m]
                    d = code // n_streams
                    s = code % n_streams
                    w = cell_w[d, s, _cell(d, sl, t, n_slices, hop, n_pos)] - 1
                    if w < 0:
                        _fail(err, E_EMPTY, t, sl, d, s, k, -1, 0)
                        return
                    lsrc_w[ins[k, C_LOFF] + m] = w
                    dt = pool_dt[vref[w]]
                    if dt != _I8 and dt != _F16:
                        _fail(err, E_TYPE, t, sl, d, s, k, w, 4)
                        return
                    if pl_wdt[p] == -2:
                        pl_wdt[p] = dt
                    elif pl_wdt[p] != dt:
                        _fail(err, E_TYPE, t, sl, d, s, k, w, 5)
                        return
                    if values:
                        pl_w[p, r0 + m, :] = pool[vref[w], :]
            elif op == _MXM_MATVEC or op == _MXM_ACC:
                p = ins[k, C_PLANE]
                if pl_who[p] < 0 or pl_ready[p] > t:
                    _fail(err, E_MXM, t, sl, -1, -1, k, pl_who[p], 0)
                    return
                ra = vref[wa]
                dx = pool_dt[ra]
                if dx != pl_wdt[p]:
                    _fail(err, E_TYPE, t, sl, -1, -1, k, wa, 2)
                    return
                rdt = _I32 if dx == _I8 else _F32
                if acc_dt[p] >= 0 and acc_dt[p] != rdt:
                    _fail(err, E_TYPE, t, sl, -1, -1, k, wa, 3)
                    return
                if values:
                    if pl_src[p] >= 0:
                        w2 = wts[pl_src[p]]
                    else:
                        w2 = pl_w[p]
                    if dx == _I8:
                        _matvec_exact(w2, pool[ra], acc[p])
                    else:
                        _matvec_ordered(w2, pool[ra], acc[p])
                if op == _MXM_ACC:
                    acc_dt[p] = rdt
                else:
                    pool_dt[out] = rdt
                    acc_dt[p] = -1
                    if values:
                        for r_ in range(vl):
                            if rdt == _I32:
                                pool[out, r_] = np.float64(_wrap32(np.int64(acc[p, r_])))
                            else:
                                pool[out, r_] = np.float64(np.float32(acc[p, r_]))
                            acc[p, r_] = 0.0
            elif op == _SXM_SHIFT:
                ra = vref[wa]
                pool_dt[out] = pool_dt[ra]
                if values:
                    sh = ins[k, C_AUX]
                    for j in range(vl):
                        src = j - sh
                        pool[out, j] = pool[ra, src] if 0 <= src < vl else 0.0
            elif op == _SXM_PERMUTE:
                ra = vref[wa]
                pool_dt[out] = pool_dt[ra]
                if values:
                    pi = ins[k, C_AUX]
                    for j in range(vl):
                        pool[out, j] = pool[ra, perms[pi, j]]
            elif op == _C2C_RECV:
                vref[k] = ins[k, C_AUX]
            # MEM_WRITE commits and C2C_SEND records happen via src_a; NOP does nothing
    err[0] = E_OK
