"""Turning the kernel's error code into a :class:`~labsim.errors.TimingFault` that names the cycle, the slice, the
stream and the instructions involved, and says how far off the timing is (private)."""
from __future__ import annotations

import numpy as np

from ..errors import TimingFault
from ._kernel import C_CYC, C_DONE, C_ODIR, C_OSTR, C_SL, E_BANK, E_COLLIDE, E_EMPTY, E_MXM, E_SLOTS, E_TYPE, E_UNINIT
from .geometry import Geometry

__all__ = ["fault_from"]

_KINDS = {E_EMPTY: "empty_read", E_COLLIDE: "stream_collision", E_BANK: "bank_conflict", E_MXM: "mxm_not_ready",
          E_SLOTS: "issue_slots", E_UNINIT: "uninitialised_memory", E_TYPE: "type_mismatch"}
_TYPE_WHAT = {0: "mixes integer and floating-point operands",
              1: "requantizes a value that is not int32",
              2: "feeds the MXM a vector whose type differs from the installed weights (int8 with int8, fp16 with "
                 "fp16)",
              3: "accumulates a result whose type differs from the plane's accumulator",
              4: "loads a weight row that is neither int8 nor fp16",
              5: "loads weight rows of different types into one plane"}


def _stream_name(d, s) -> str:
    return f"{'E' if d == 0 else 'W'}{s}"


def fault_from(err, enc: dict, g: Geometry) -> TimingFault:
    code, t, sl, d, s, ka, kb, extra = (int(x) for x in err)
    recs, rec, rep, tab = enc["records"], enc["rec"], enc["rep"], enc["tab"]

    def desc(k):
        j = int(rec[k])
        r = recs[j]
        more = ""
        if r.op == "MEM_READ" and r.repeat > 1:
            more = f" [repetition {int(rep[k])}: address {r.address + int(rep[k])}]"
        elif r.op == "MXM_LOAD":
            more = f" [load cycle {int(rep[k])}]"
        return r.describe(j) + more

    slice_name = g.slice_names[sl] if 0 <= sl < g.n_slices else "?"
    stream = _stream_name(d, s) if d >= 0 else None
    involved = [int(rec[ka])] + ([int(rec[kb])] if kb >= 0 else [])
    head = f"cycle {t}, slice {slice_name}" + (f", stream {stream}" if stream else "") + ": "
    if code == E_EMPTY:
        msg = head + f"{desc(ka)} reads stream {stream}, but that slot holds nothing on cycle {t}."
        # the nearest producer on that stream, upstream of the reader (vectorized: programs can be large)
        cand = np.flatnonzero((tab[:, C_ODIR] == d) & (tab[:, C_OSTR] == s))
        p = tab[cand, C_SL].astype(np.int64)
        up = (p <= sl) if d == 0 else (p >= sl)
        cand, p = cand[up], p[up]
        if cand.size:
            arr = tab[cand, C_DONE].astype(np.int64) + np.abs(sl - p) * g.stream_hop_cycles
            b = int(np.argmin(np.abs(arr - t)))
            k, a = int(cand[b]), int(arr[b])
            involved = [int(rec[ka]), int(rec[k])]
            dt = a - t
            when = (f"{dt} cycle{'s' if abs(dt) != 1 else ''} later" if dt > 0 else
                    f"{-dt} cycle{'s' if abs(dt) != 1 else ''} earlier, and it has moved on")
            msg += (f" The nearest producer on {stream}, {desc(k)}, puts its value at {slice_name} on cycle "
                    f"{a} ({when}): issue the reader on cycle {a}" + (" or move it." if dt < 0 else "."))
        else:
            msg += f" No instruction writes {stream} upstream of {slice_name}."
    elif code == E_COLLIDE:
        msg = head + (f"two writes into the same stream slot in one cycle: {desc(ka)} and {desc(kb)}. "
                      f"Use another stream or another cycle.")
    elif code == E_BANK:
        r = recs[int(rec[ka])]
        msg = head + (f"bank conflict on bank {r.bank}: {desc(ka)} and {desc(kb)} use the same bank in the same "
                      f"cycle (one access per bank per cycle). Use the other bank or another cycle.")
    elif code == E_MXM:
        if kb >= 0:
            r = recs[int(rec[kb])]
            ready = int(tab[kb, C_CYC]) + (int(np.ceil(r.imm / len(r.srcs))) if r.op == "MXM_LOAD"
                                           else g.delay("MXM_INSTALL"))
            msg = head + (f"{desc(ka)} uses the MXM before its weights are installed: {desc(kb)} makes them "
                          f"usable on cycle {ready} ({ready - t} cycles later).")
        else:
            msg = head + f"{desc(ka)} uses the MXM, but no weights were installed in {slice_name}."
    elif code == E_SLOTS:
        msg = head + (f"more than {extra} instruction(s) issued on {slice_name} in one cycle: {desc(ka)} "
                      f"and {desc(kb)}.")
    elif code == E_UNINIT:
        r = recs[int(rec[ka])]
        addr = r.address + int(rep[ka])
        msg = head + (f"{desc(ka)} reads bank {r.bank} address {addr}, which holds nothing yet "
                      f"(no preload, no earlier committed write): preload it, or give its value in "
                      f"simulate(..., memory={{(slice, bank, address): vector}}).")
    elif code == E_TYPE:
        what = _TYPE_WHAT.get(extra, "has operands of the wrong type")
        msg = head + f"type mismatch: {desc(ka)} {what}; operand produced by {desc(kb)}."
    else:  # pragma: no cover - the kernel has no other codes
        msg = head + f"unknown fault code {code}"
    exc = TimingFault(msg)
    exc.cycle, exc.slice, exc.stream, exc.instructions = t, slice_name, stream, tuple(involved)
    exc.kind = _KINDS.get(code, "unknown")
    return exc
