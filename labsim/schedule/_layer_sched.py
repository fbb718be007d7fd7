"""The machinery of the layer scheduler (private): values with MEM homes, VXM operations, plane jobs whose weight
tiles are streamed from MEM, and the instructions they become. :mod:`labsim.schedule.layer` describes the layer
(which jobs and operations, in which order) and reports; this module places them in space and time.

Rules (docs/design/schedule.md, "A full-size layer, cycle by cycle"):

* Plane j of a hemisphere (0 = next to the SXM, 1 = outer) loads its weights over its own ``S`` streams flowing
  towards it: streams j·S … j·S+S−1. The remaining streams of that direction are reserved for the VXM's outputs
  towards that hemisphere's MEM. A pass's input vector rides the plane's first weight stream on the pass cycle
  (no weight row is on it then).
* Each weight stream reads its rows with one repeated MEM read per tile from a bank it owns (far end of the
  hemisphere first); activations live in the top addresses of every bank (the nearest free one); every access
  is checked against everything else, cycle by cycle.
* A plane holds one tile: load (ceil(rows / S) cycles), then its passes, then the next load. Passes of one
  accumulation group run back to back on one plane (MXM_ACC …, MXM_MATVEC emits the sum).
* Every value a pass or a VXM operation produces is written to a MEM home on its way (both hemispheres when
  planes consume it); VXM operations read their operands from homes, or chained from a VXM result on the cycle it
  appears.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import LabsimError
from ..tsp import Geometry, Instruction, Stream
from ._resources import BankTimeline, MemoryMap, SlotTable, StreamTable

_SEARCH = 20_000        # cycles a placement search may look ahead before giving up (a scheduler bug, not input)
#: a bank streams weights at most _DUTY_MAX of any _DUTY_WINDOW cycles, so that the activations kept in it can
#: always be read and written within a few cycles
_DUTY_WINDOW, _DUTY_MAX = 64, 44


def _wrap32(x):
    return ((np.asarray(x, dtype=np.int64) + 2**31) % 2**32 - 2**31).astype(np.int64)


def _requant(x, scale):
    return np.clip(np.rint(np.asarray(x, dtype=np.float64) * scale), -128, 127).astype(np.int64)


@dataclass
class Value:
    """A vector: where it is kept (MEM homes per hemisphere) and, for VXM results, when it is at the VXM."""
    name: str
    dtype: str
    homes: dict = field(default_factory=dict)     # side -> (slice index, slice name, bank, address, ready, write#)
    at_vxm: int = -1                              # cycle the vector is on a stream at the VXM slice (chaining)
    vxm_stream: tuple | None = None               # (direction, stream) it is on there
    producer: int = -1                            # instruction that put it on that stream
    ref: np.ndarray | None = None                 # NumPy value (values mode)
    known: bool = False                           # placed in time
    uses: int = 0                                 # jobs/operations still to place that read it
    last_read: int = -1                           # latest cycle a placed instruction reads it from MEM
    keep: bool = False                            # a result of the layer: its memory is never reused
    freed: bool = False                           # its memory has been handed back


@dataclass
class Tile:
    """One weight tile on a plane: ``rows`` weight vectors, then one pass per (input value, output) pair."""
    rows: int
    real_bytes: int                               # bytes of real weights/KV in it (the rest is padding)
    kind: str                                     # "weight" or "kv"
    passes: list                                  # [(x Value, out Value or None (accumulate), lane shift)]
    data: np.ndarray | None = None                # rows × vector_len int8 (values mode)


@dataclass
class Job:
    """Tiles that run back to back on one plane (one accumulation group, or one KV tile with its passes)."""
    name: str
    tiles: list
    rank: tuple                                   # priority: smaller first
    phase: str
    inputs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    plane: str | None = None
    start: int = -1
    end: int = -1


class Placer:
    """Places loads, passes, VXM operations and MEM traffic; collects the instructions and what each reads."""

    def __init__(self, g: Geometry, weight_streams_per_plane: int, act_words: int | None = None):
        self.g = g
        self.idx = {n: i for i, n in enumerate(g.slice_names)}
        self.vxm = g.vxm_index
        self.R, self.Wr, self.V = g.mem_read_cycles, g.mem_write_cycles, g.vxm_cycles
        self.P, self.X, self.h = g.mxm_pass_cycles, g.sxm_cycles, g.stream_hop_cycles
        self.N = g.streams_per_direction
        self.S = weight_streams_per_plane
        half = g.mxm_planes // 2
        if half * self.S >= self.N:
            raise LabsimError(f"weight_streams_per_plane = {self.S} leaves no stream of {self.N} per direction for "
                              f"activations ({half} planes per hemisphere); allowed: 1 … {(self.N - 1) // half}")
        self.reserved = list(range(half * self.S, self.N))
        self.mem = MemoryMap(g, max(16, g.mem_words_per_bank // 128) if act_words is None else act_words)
        self.banks = BankTimeline(2 * g.mem_slices_per_hemisphere * g.mem_banks_per_slice)
        self.slots = SlotTable(g)
        self.lines = StreamTable(g)
        # planes: name -> (side, plane index in its hemisphere, weight streams, direction towards the plane)
        self.planes = {}
        for side, to_plane in (("W", "W"), ("E", "E")):
            for j in range(half):
                nm = f"MXM_{side}{j}"
                self.planes[nm] = (side, j, list(range(j * self.S, (j + 1) * self.S)), to_plane)
        self.plane_free = {nm: 0 for nm in self.planes}
        self.stream_bank = {}                       # (plane, k) -> (slice, bank) it currently reads from
        self.sxm = {"W": self.idx["SXM_W"], "E": self.idx["SXM_E"]}
        self.ins: list[Instruction] = []
        self.want: list = []                        # per instruction: intended producer of src a, b (−1 none)
        self.load_want: dict = {}                   # load instruction -> [read instruction per stream]
        self.read_want: dict = {}                   # activation MEM_READ -> the MEM_WRITE it must read
        self.weight_preload: dict = {}              # (slice, bank) -> {address: row data or None}
        self.busy = {nm: 0 for nm in self.planes}   # cycles each plane loads or passes
        self.rows_streamed = 0
        self.real_bytes = {"weight": 0, "kv": 0}
        self.streamed_bytes = {"weight": 0, "kv": 0}
        self.act_accesses = 0
        self._rr = {"W": 0, "E": 0}
        self._alt = 0
        self.homed: list = []                       # values given a home since the last call of take_homed()
        #: copies kept of a vector the planes read (in different banks next to the VXM): a pass reads whichever
        #: copy's bank is free on its cycle
        self.copies = 3

    # ------------------------------------------------------------------ helpers
    def hops(self, a: int, b: int) -> int:
        return abs(a - b) * self.h

    def emit(self, ins: Instruction, a: int = -1, b: int = -1) -> int:
        self.ins.append(ins)
        self.want.append((a, b))
        return len(self.ins) - 1

    def side_dir(self, side: str) -> tuple[str, str]:
        """(direction towards that hemisphere's planes, direction towards the VXM) for hemisphere ``side``."""
        return ("W", "E") if side == "W" else ("E", "W")

    # ------------------------------------------------------------------ homes
    def _home_options(self, side: str, p: int, t_w: int, streams, tx, copies: int = 1):
        """Where a value written at slice p on cycle t_w is kept in hemisphere ``side``: up to ``copies`` banks
        (nearest the VXM first, each free on the cycle the value passes it) and one stream that carries it past all
        of them: (direction, stream, [(slice index, name, bank, write cycle)]), or None."""
        d_in, d_out = self.side_dir(side)
        d = d_out if (p < self.vxm) == (side == "W") and p != self.vxm else d_in
        picks = []
        for nm, bank in self.mem.act_banks(side):             # nearest the VXM first
            m = self.idx[nm]
            if (d == "E" and m < p) or (d == "W" and m > p):
                continue                              # the value never passes this slice
            t_h = t_w + self.hops(p, m)
            bid = self.mem.bank_id(nm, bank)
            if not self.banks.free(bid, t_h) or (bid, t_h) in tx.banks or \
                    not self.mem.act_free((nm, bank), t_h, tx.addrs.get((nm, bank), 0)):
                continue
            picks.append((m, nm, bank, t_h))
            if len(picks) == copies:
                break
        while picks:
            far = max(picks, key=lambda x: abs(x[0] - p))[0]
            s = self._pick_stream(d, streams, p, t_w, far, tx)
            if s is not None:
                return d, s, picks
            picks.pop()                               # fewer copies, a shorter interval
        return None

    def _pick_stream(self, d, streams, p, t, q, tx):
        for s in streams:
            key = (d, s, self.lines.diag(d, p, t))
            if self.lines.free(d, s, p, t, q) and all(hi < min(p, q) or lo > max(p, q)
                                                      for lo, hi in tx.lines.get(key, ())):
                return s
        return None

    def _read_home(self, v: Value, side: str, q: int, t: int, d: str, streams, tx):
        """Plan a MEM read of ``v``'s home on ``side`` so that it is at slice q on cycle t. Returns the plan."""
        home = v.homes.get(side)
        if home is None:
            return None
        m, nm, bank, addr, ready, _w = home
        if (d == "E" and q < m) or (d == "W" and q > m):
            return None
        r = t - self.R - self.hops(m, q)
        bid = self.mem.bank_id(nm, bank)
        if r < ready or not self.banks.free(bid, r) or (bid, r) in tx.banks:
            return None
        s = self._pick_stream(d, streams, m, r + self.R, q, tx)
        if s is None:
            return None
        tx.banks.add((bid, r))
        tx.lines.setdefault((d, s, self.lines.diag(d, m, r + self.R)), []).append((min(m, q), max(m, q)))
        return ("read", v, m, nm, bank, addr, r, d, s, q)

    def free(self, v: Value) -> None:
        """``v`` has no reader left to place: its MEM addresses may hold new values after its last read."""
        if v.keep or v.freed:
            return
        v.freed = True
        for (_m, nm, bank, addr, ready, _w) in v.homes.values():
            self.mem.recycled[(nm, bank)].append((addr, max(ready, v.last_read)))

    def _commit_read(self, plan) -> int:
        _, v, m, nm, bank, addr, r, d, s, q = plan
        v.last_read = max(v.last_read, r)
        w = next((h[5] for h in v.homes.values() if h[1:4] == (nm, bank, addr)), -1)
        self.banks.take(self.mem.bank_id(nm, bank), r)
        self.lines.take(d, s, m, r + self.R, q)
        self.act_accesses += 1
        k = self.emit(Instruction(cycle=r, slice=nm, op="MEM_READ", dst=Stream(d, s), bank=bank, address=addr,
                                  label=f"read {v.name}"))
        self.read_want[k] = w          # the MEM_WRITE that put v there (−1: preloaded)
        return k

    def _plan_home(self, v: Value, side: str, p: int, t_w: int, streams, tx, copies: int = 1):
        opt = self._home_options(side, p, t_w, streams, tx, copies)
        if opt is None:
            return None
        d, s, picks = opt
        far = p
        for m, nm, bank, t_h in picks:
            tx.banks.add((self.mem.bank_id(nm, bank), t_h))
            tx.addrs[(nm, bank)] = tx.addrs.get((nm, bank), 0) + 1
            far = m if abs(m - p) > abs(far - p) else far
        tx.lines.setdefault((d, s, self.lines.diag(d, p, t_w)), []).append((min(p, far), max(p, far)))
        return ("home", v, side, d, s, picks, far, p, t_w)

    def _commit_home(self, plan, producer: int) -> None:
        _, v, side, d, s, picks, far, p, t_w = plan
        self.lines.take(d, s, p, t_w, far)
        for i, (m, nm, bank, t_h) in enumerate(picks):
            addr = self.mem.act_address((nm, bank), t_h)
            if addr is None:   # pragma: no cover - checked when planned
                raise LabsimError(f"activation memory of {nm} bank {bank} is full")
            self.banks.take(self.mem.bank_id(nm, bank), t_h)
            self.act_accesses += 1
            w = self.emit(Instruction(cycle=t_h, slice=nm, op="MEM_WRITE", srcs=(Stream(d, s),), bank=bank,
                                      address=addr, label=f"keep {v.name}"), producer)
            v.homes[side if i == 0 else f"{side}c{i}"] = (m, nm, bank, addr, t_h + self.Wr, w)
        self.homed.append(v)

    # ------------------------------------------------------------------ VXM operations
    def vxm_op(self, op: str, operands: list, out: Value, sides, scale=None, lb: int = 0) -> None:
        """Place one VXM operation (op in add/mul/max/relu/requant) reading ``operands`` and writing ``out``, kept
        in MEM on every side of ``sides`` (one VXM instruction per side; the first is the one others chain to)."""
        opcode = {"add": "VXM_ADD", "mul": "VXM_MUL", "max": "VXM_MAX", "relu": "VXM_RELU",
                  "requant": "VXM_REQUANT"}[op]
        if len(operands) == 2 and operands[0] is not operands[1]:
            a, b = operands
            banks_a = {h[1:3] for h in a.homes.values()}
            banks_b = {h[1:3] for h in b.homes.values()}
            if banks_a and banks_a == banks_b and len(banks_a) == 1:
                self._copy(b)                 # both only in one bank: they could never be read together
        t0 = max([lb] + [self._avail(v) for v in operands])
        uniq = list({id(v): v for v in operands}.values())
        for t in range(t0, t0 + _SEARCH):
            if not self.slots.free(self.vxm, t, len(sides)):
                continue
            got = self._deliver_all(uniq, t)
            if got is None:
                continue
            tx, plans = got
            srcs = [plans[id(v)] for v in operands]
            ok = True
            outs = []
            for side in sides:
                hp = self._plan_home(out, side, self.vxm, t + self.V, self.reserved, tx,
                                     copies=self.copies if len(sides) == 2 else 1)
                if hp is None:
                    ok = False
                    break
                outs.append(hp)
            if not ok:
                continue
            # commit
            src_streams, want = [], []
            done = {}
            for v, (kind, payload) in zip(operands, srcs, strict=False):
                if v.name in done:
                    src_streams.append(done[v.name][0])
                    want.append(done[v.name][1])
                    continue
                if kind == "chain":
                    st, prod = Stream(*v.vxm_stream), v.producer
                else:
                    prod = self._commit_read(payload)
                    st = Stream(payload[7], payload[8])
                done[v.name] = (st, prod)
                src_streams.append(st)
                want.append(prod)
            first = None
            for hp in outs:
                d, s = hp[3], hp[4]
                k = self.emit(Instruction(cycle=t, slice="VXM", op=opcode, srcs=tuple(src_streams), dst=Stream(d, s),
                                          imm=scale, label=out.name), *(want + [-1, -1])[:2])
                self.slots.take(self.vxm, t)
                self._commit_home(hp, k)
                if first is None:
                    first = (k, d, s)
            out.at_vxm = t + self.V
            out.producer, out.vxm_stream = first[0], (first[1], first[2])
            out.known = True
            return
        raise LabsimError(f"could not place {op} {out.name} within {_SEARCH} cycles")  # pragma: no cover

    def _copy(self, v: Value) -> None:
        """Keep a second copy of ``v`` in another activation bank of the same hemisphere (read it, write it back
        one or more slices away from the VXM on a reserved stream)."""
        side = next(iter(v.homes))
        m, nm, bank, addr, ready, _w = v.homes[side]
        d_in, d_out = self.side_dir(side)
        bid = self.mem.bank_id(nm, bank)
        for t in range(ready, ready + _SEARCH):
            if not self.banks.free(bid, t):
                continue
            for nm2, bank2 in self.mem.act_banks(side):
                m2 = self.idx[nm2]
                if (nm2, bank2) == (nm, bank):
                    continue
                d = ("W" if m2 < m else "E") if m2 != m else d_out
                streams = self.reserved if d == d_in else range(self.N)
                t_h = t + self.R + self.hops(m, m2)
                bid2 = self.mem.bank_id(nm2, bank2)
                if not self.banks.free(bid2, t_h):
                    continue
                st = self.lines.pick(d, streams, m, t + self.R, m2)
                if st is None:
                    continue
                addr2 = self.mem.act_address((nm2, bank2), t_h)
                if addr2 is None:
                    continue
                self.banks.take(bid, t)
                self.banks.take(bid2, t_h)
                self.lines.take(d, st, m, t + self.R, m2)
                v.last_read = max(v.last_read, t)
                rd = self.emit(Instruction(cycle=t, slice=nm, op="MEM_READ", dst=Stream(d, st), bank=bank,
                                           address=addr, label=f"copy {v.name}"))
                self.read_want[rd] = v.homes[side][5]
                w = self.emit(Instruction(cycle=t_h, slice=nm2, op="MEM_WRITE", srcs=(Stream(d, st),), bank=bank2,
                                          address=addr2, label=f"keep {v.name} (copy)"), rd)
                self.act_accesses += 2
                v.homes[side + "2"] = (m2, nm2, bank2, addr2, t_h + self.Wr, w)
                return
        raise LabsimError(f"could not copy {v.name}")   # pragma: no cover

    def take_homed(self) -> list:
        out, self.homed = self.homed, []
        return out

    def side(self) -> tuple:
        """A hemisphere for a value only the VXM reads (alternating, to share the activation memory)."""
        self._alt = 1 - self._alt
        return ("W",) if self._alt else ("E",)

    def _avail(self, v: Value) -> int:
        if not v.known:
            raise LabsimError(f"value {v.name} is used before it is produced")   # pragma: no cover
        best = v.at_vxm if v.at_vxm >= 0 else 10**12
        for (m, _nm, _bank, _addr, ready, _w) in v.homes.values():
            best = min(best, ready + self.R + self.hops(m, self.vxm))
        return best

    def _deliver_vxm(self, v: Value, t: int, tx, skip: int = 0):
        """Plan ``v`` at the VXM on cycle t: chained, or read from one of its homes (the ``skip``-th feasible
        option onwards)."""
        if v.at_vxm == t and v.vxm_stream is not None:
            return ("chain", None)
        n = 0
        for key in v.homes:
            _, d_out = self.side_dir(key[0])
            trial = _Tx()
            trial.banks, trial.lines = set(tx.banks), {k: list(x) for k, x in tx.lines.items()}
            plan = self._read_home(v, key, self.vxm, t, d_out, range(self.N), trial)
            if plan is not None:
                if n >= skip:
                    tx.banks, tx.lines = trial.banks, trial.lines
                    return ("plan", plan)
                n += 1
        return None

    def _deliver_all(self, values: list, t: int):
        """Plans for every operand at the VXM on cycle t, trying the homes of the first in turn so that two
        operands never need one bank on one cycle; (tx, {id: plan}) or None."""
        for first in range(4):
            tx = _Tx()
            plans = {}
            for i, v in enumerate(values):
                got = self._deliver_vxm(v, t, tx, first if i == 0 else 0)
                if got is None:
                    break
                plans[id(v)] = got
            else:
                return tx, plans
            if not values or values[0].at_vxm == t or first + 1 >= len(values[0].homes):
                break
        return None

    # ------------------------------------------------------------------ plane jobs
    def job_bound(self, job: Job, plane: str) -> int:
        """Earliest load start from the inputs' readiness (no resource checks)."""
        side = self.planes[plane][0]
        p = self.idx[plane]
        first = job.tiles[0]
        L = -(-first.rows // self.S)
        lb = 0
        for k, (x, _out, _sh) in enumerate(first.passes):
            home = x.homes.get(side)
            if home is None:
                raise LabsimError(f"{x.name} has no home in hemisphere {side}")   # pragma: no cover
            lb = max(lb, home[4] + self.R + self.hops(home[0], p) - L - k)
        return lb

    def place_job(self, job: Job, plane: str) -> None:
        t = max(self.plane_free[plane], self.job_bound(job, plane))
        job.plane = plane
        side = self.planes[plane][0]
        S = len(self.planes[plane][2])
        for ti, tile in enumerate(job.tiles):
            for s in range(t, t + _SEARCH):
                tx = _Tx()
                plan = self._try_tile(tile, plane, s, tx, S)
                if plan is None and self.mem.banks_with_room(side) < 2 * S:
                    # SRAM nearly full: too few banks with room for all streams at once — load over fewer
                    for s_use in range(S - 1, 0, -1):
                        tx = _Tx()
                        plan = self._try_tile(tile, plane, s, tx, s_use)
                        if plan is not None:
                            break
                if plan is not None:
                    t = self._commit_tile(tile, plane, s, plan)
                    if ti == 0:
                        job.start = s
                    break
            else:  # pragma: no cover - a scheduler bug, not an input error
                raise LabsimError(f"could not place {job.name} on {plane} within {_SEARCH} cycles")
        job.end = t
        self.plane_free[plane] = t

    def _weight_parts(self, plane, k, n, side, claimed, s, p, order):
        """Where stream k of ``plane`` reads its next n rows, arriving at the plane from cycle s on:
        [(bank, count, read cycle, rows done before)]. Banks are tried in ``order`` (the emptiest first — a
        balanced fill keeps many banks with room to the end, for the 2 × S streams that read at the same time);
        a read stops at a bank's busy cycle and goes on in the next bank (no address is wasted)."""
        parts, done = [], 0
        room = self.mem.room
        busy = self.banks.busy
        horizon = busy.shape[1]
        i = 0
        while done < n and i < len(order):
            key = order[i]
            i += 1
            got = claimed.get(key)
            left = room(key) - (got[0] if got else 0)
            if left <= 0:
                continue
            r = s + done - self.R - self.hops(self.idx[key[0]], p)
            if r < 0:
                continue
            cnt = min(left, n - done)
            bid = self.mem.bank_id(*key)
            if r < horizon:
                if busy[bid, max(0, r - _DUTY_WINDOW): r].sum() > _DUTY_MAX:
                    continue                    # leave the bank some free cycles for activations
                seg = busy[bid, r: r + cnt]
                if seg.any():
                    cnt = int(seg.argmax())
            if got:
                for b, nb in got[1]:                      # this attempt's other reads of the bank
                    if b < r + cnt and r < b + nb:
                        cnt = max(0, b - r) if b >= r else 0
            if cnt <= 0:
                continue
            if got:
                got[0] += cnt
                got[1].append((r, cnt))
            else:
                claimed[key] = [cnt, [(r, cnt)]]
            parts.append((key, cnt, r, done))
            done += cnt
            if done < n:
                order.append(key)               # the bank may serve again after a busy cycle
        if done < n:
            if sum(room(b) for b in self.mem.banks_of[side]) < n - done:
                raise LabsimError("the layer's weights and KV cache do not fit in one chip's SRAM: use a "
                                  "tensor-parallel share (tp ≥ 2) or a shorter context")
            return None
        return parts

    def _try_tile(self, tile: Tile, plane: str, s: int, tx, S: int):
        side, _j, wstreams, d_in = self.planes[plane]
        wstreams = wstreams[:S]
        p = self.idx[plane]
        L = -(-tile.rows // S)
        reads = []
        claimed = {}                 # bank -> [rows taken, [(read cycle, count)]] in this attempt
        room = self.mem.room
        base_order = sorted((b for b in self.mem.banks_of[side] if room(b) > 0), key=lambda b: -room(b))
        for k in range(min(S, tile.rows)):
            n = len(range(k, tile.rows, S))
            parts = self._weight_parts(plane, k, n, side, claimed, s, p, base_order[k:] + base_order[:k])
            if parts is None:
                return None
            for key, cnt, r, done in parts:
                reads.append((k, key, r, cnt, done))
        passes = []
        _, d_out = self.side_dir(side)
        for i, (x, out, shift) in enumerate(tile.passes):
            c = s + L + i
            rd = None
            for key in x.homes:
                if key[0] == side:
                    rd = self._read_home(x, key, p, c, d_in, wstreams[:1], tx)
                    if rd is not None:
                        break
            if rd is None:
                return None
            em = None
            if out is not None:
                t_res = c + self.P
                if shift:
                    q = self.sxm[side]
                    t_sx = t_res + self.hops(p, q)
                    if not self.slots.free(q, t_sx) or (q, t_sx) in tx.slots:
                        return None
                    s1 = self._pick_stream(d_out, range(self.N), p, t_res, q, tx)
                    if s1 is None:
                        return None
                    tx.lines.setdefault((d_out, s1, self.lines.diag(d_out, p, t_res)), []).append(
                        (min(p, q), max(p, q)))
                    tx.slots.add((q, t_sx))
                    hp = self._plan_home(out, side, q, t_sx + self.X, range(self.N), tx)
                    if hp is None:
                        return None
                    em = ("shift", s1, q, t_sx, hp, shift)
                else:
                    hp = self._plan_home(out, side, p, t_res, range(self.N), tx)
                    if hp is None:
                        return None
                    em = ("direct", hp)
            passes.append((c, rd, em))
        return reads, passes, L, S

    def _commit_tile(self, tile: Tile, plane: str, s: int, plan) -> int:
        reads, passes, L, S = plan
        side, _j, wstreams, d_in = self.planes[plane]
        wstreams = wstreams[:S]
        read_ids = {}
        S_eff = min(len(wstreams), tile.rows)
        for k, key, r, n, done in reads:
            self.stream_bank[(plane, k)] = key
            a0 = self.mem.weight_rows(key, n)
            self.banks.take(self.mem.bank_id(*key), r, n)
            rows = list(range(k, tile.rows, S_eff))[done: done + n]
            store = self.weight_preload.setdefault(key, {})
            for i, row in enumerate(rows):
                store[a0 + i] = None if tile.data is None else tile.data[row]
            rid = self.emit(Instruction(cycle=r, slice=key[0], op="MEM_READ", dst=Stream(d_in, wstreams[k]),
                                        bank=key[1], address=a0, repeat=n, label=f"weights {tile.kind}"))
            read_ids.setdefault(k, []).append((rid, done, n))
        load = self.emit(Instruction(cycle=s, slice=plane, op="MXM_LOAD",
                                     srcs=tuple(Stream(d_in, w) for w in wstreams[:min(len(wstreams), tile.rows)]),
                                     imm=tile.rows, label=f"load {tile.kind}"))
        self.load_want[load] = read_ids
        self.rows_streamed += tile.rows
        self.real_bytes[tile.kind] += tile.real_bytes
        self.streamed_bytes[tile.kind] += tile.rows * self.g.vector_len
        _, d_out = self.side_dir(side)
        for (c, rd, em), (x, out, _shift) in zip(passes, tile.passes, strict=False):
            xr = self._commit_read(rd)
            if out is None:
                self.emit(Instruction(cycle=c, slice=plane, op="MXM_ACC", srcs=(Stream(d_in, wstreams[0]),),
                                      label=f"acc {x.name}"), xr)
                continue
            kind = em[0]
            if kind == "direct":
                hp = em[1]
                mv = self.emit(Instruction(cycle=c, slice=plane, op="MXM_MATVEC", srcs=(Stream(d_in, wstreams[0]),),
                                           dst=Stream(hp[3], hp[4]), label=out.name), xr)
                self._commit_home(hp, mv)
            else:
                _, s1, q, t_sx, hp, sh = em
                mv = self.emit(Instruction(cycle=c, slice=plane, op="MXM_MATVEC", srcs=(Stream(d_in, wstreams[0]),),
                                           dst=Stream(d_out, s1), label=out.name), xr)
                self.lines.take(d_out, s1, self.idx[plane], c + self.P, q)
                self.slots.take(q, t_sx)
                sx = self.emit(Instruction(cycle=t_sx, slice=self.g.slice_names[q], op="SXM_SHIFT",
                                           srcs=(Stream(d_out, s1),), dst=Stream(hp[3], hp[4]), imm=sh,
                                           label=f"shift {out.name}"), mv)
                self._commit_home(hp, sx)
            out.known = True
        self.busy[plane] += L + len(tile.passes)
        return s + L + len(tile.passes)


class _Tx:
    """Tentative reservations of one placement attempt (checked together with the committed ones)."""
    __slots__ = ("banks", "lines", "slots", "addrs")

    def __init__(self):
        self.banks = set()
        self.lines = {}
        self.slots = set()
        self.addrs = {}
