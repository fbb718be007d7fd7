"""The static list scheduler: a :class:`~labsim.schedule.graph.Graph` → a cycle-exact program for labsim.tsp.

Critical-path list scheduling into a slice × cycle reservation table with stream allocation (a stream value
occupies a diagonal of the space–time plane) and hop distances; values are chained slice-to-slice when the timing
allows, otherwise kept in SRAM and re-read. The naive baseline schedules as soon as possible in graph order,
placement-unaware. See docs/design/schedule.md.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from ..errors import LabsimError, check_choice, check_int
from ..tsp import Geometry, Instruction, Program, Stream
from ..tsp import simulate as _tsp_simulate
from .graph import _VXM_OPS, VECTOR_OPS, Graph, Node, _node_latency, _priorities

__all__ = ["Schedule", "schedule", "list_schedule", "naive_schedule", "simulate_schedule", "MAX_SCHEDULE_NODES"]

# ------------------------------------------------------------------------------------------- reservation table
class _Table:
    """Slice × cycle issue slots, MEM banks, MXM plane state and stream diagonals (with undo)."""

    def __init__(self, g: Geometry):
        self.g = g
        self.h = g.stream_hop_cycles
        self.slots = defaultdict(int)                 # (slice, cycle) -> used
        self.banks = set()                            # (slice, bank, cycle)
        self.lines = defaultdict(list)                # (dir, stream, diag) -> [[lo, hi, owner], ...]
        self.addr = defaultdict(int)                  # (slice, bank) -> next free address
        self.cap = {i: g.issue_slots(t) for i, t in enumerate(g.slice_types)}
        self.log: list = []

    # transactions
    def mark(self) -> int:
        return len(self.log)

    def undo(self, mark: int) -> None:
        while len(self.log) > mark:
            kind, a, b = self.log.pop()
            if kind == "slot":
                self.slots[a] -= 1
            elif kind == "bank":
                self.banks.discard(a)
            elif kind == "line_new":
                self.lines[a].remove(b)
            elif kind == "line_ext":
                entry, old = b
                entry[0], entry[1] = old
            elif kind == "addr":
                self.addr[a] -= 1

    # slots / banks
    def slot_free(self, sl, t) -> bool:
        return t >= 0 and self.slots[(sl, t)] < self.cap[sl]

    def take_slot(self, sl, t) -> None:
        self.slots[(sl, t)] += 1
        self.log.append(("slot", (sl, t), None))

    def bank_free(self, sl, bank, t) -> bool:
        return (sl, bank, t) not in self.banks

    def take_bank(self, sl, bank, t) -> None:
        self.banks.add((sl, bank, t))
        self.log.append(("bank", (sl, bank, t), None))

    def alloc(self, sl, bank):
        a = self.addr[(sl, bank)]
        if a >= self.g.mem_words_per_bank:
            return None
        self.addr[(sl, bank)] += 1
        self.log.append(("addr", (sl, bank), None))
        return a

    # stream diagonals: a value written at slice p on cycle t in direction d sits on diagonal
    # t - p*h (E) or t + p*h (W); it must own the positions from p to its farthest reader.
    def diag(self, d, p, t) -> int:
        return t - p * self.h if d == "E" else t + p * self.h

    def line_free(self, key, lo, hi, owner=None) -> bool:
        for e in self.lines[key]:
            if e is owner:
                continue
            if not (hi < e[0] or lo > e[1]):
                return False
        return True

    def take_line(self, key, lo, hi):
        entry = [lo, hi, None]
        self.lines[key].append(entry)
        self.log.append(("line_new", key, entry))
        return entry

    def extend_line(self, key, entry, q) -> bool:
        lo, hi = min(entry[0], q), max(entry[1], q)
        if (lo, hi) == (entry[0], entry[1]):
            return True
        if not self.line_free(key, lo, hi, owner=entry):
            return False
        self.log.append(("line_ext", key, (entry, (entry[0], entry[1]))))
        entry[0], entry[1] = lo, hi
        return True


@dataclass
class _Val:
    """Where a produced vector is: on a stream (slice, write cycle, stream, owned diagonal) and/or in MEM."""
    slice: int = -1
    t_w: int = -1
    stream: Stream | None = None
    key: tuple | None = None
    entry: list | None = None
    home: tuple | None = None        # (slice, bank, address)
    home_ready: int = 0              # first cycle a MEM_READ may issue
    home_ins: int = -1               # index of the home MEM_WRITE in the instruction list (-1: preload)
    home_reads: int = 0


@dataclass
class Schedule:
    """A scheduled graph: the program, the predicted cycle count and the bookkeeping behind it."""
    graph: Graph
    program: Program
    predicted_cycles: int
    policy: str
    issue: dict                      # node id -> issue cycle
    placement: dict                  # node id -> slice name
    outputs: dict                    # store node id -> (slice, bank, address)
    homes: dict                      # node id -> (slice, bank, address) of every value kept in MEM
    crit_path: list                  # node ids along the schedule's critical path
    direct_edges: int = 0            # operands chained slice-to-slice
    mem_edges: int = 0               # operands re-read from SRAM

    @property
    def makespan_cycles(self) -> int:
        return self.predicted_cycles

    def makespan_s(self) -> float:
        return self.predicted_cycles / self.graph.geometry.clock_hz

    def utilization(self) -> dict[str, float]:
        """Per slice type: fraction of its issue slots used over the makespan (superlane-0 cycles).
        ``MXM_busy`` also counts the cycles a plane spends installing weights."""
        g = self.graph.geometry
        span = max(1, self.predicted_cycles - (g.superlanes - 1) * g.instr_stagger_cycles_per_superlane)
        used = defaultdict(int)
        busy = 0
        for ins in self.program.instructions:
            t = g.slice_type(ins.slice)
            used[t] += 1
            if ins.op == "MXM_INSTALL":
                busy += g.mxm_install_cycles
            elif ins.op == "MXM_MATVEC":
                busy += 1
        out = {}
        for t in ("MEM", "VXM", "MXM", "SXM", "C2C"):
            n = len(g.slices_of_type(t))
            out[t] = used[t] / (n * g.issue_slots(t) * span)
        out["MXM_busy"] = busy / (len(g.slices_of_type("MXM")) * span)
        return out

    def critical_path_names(self) -> list[str]:
        return [self.graph.nodes[i].name for i in self.crit_path]

    def summary(self) -> dict:
        u = self.utilization()
        return {"policy": self.policy, "makespan_cycles": self.predicted_cycles,
                "makespan_us": self.makespan_s() * 1e6, "instructions": len(self.program.instructions),
                "direct_edges": self.direct_edges, "mem_edges": self.mem_edges,
                **{f"util_{k}": v for k, v in u.items()}}


class _Scheduler:
    def __init__(self, graph: Graph, policy: str, max_wait: int, priority=None):
        self.graph, self.policy = graph, policy
        self.priority = priority
        self.g = g = graph.geometry
        self.h = g.stream_hop_cycles
        self.tab = _Table(g)
        self.max_wait = max_wait
        self.names = g.slice_names
        self.idx = {n: i for i, n in enumerate(self.names)}
        self.vxm = g.vxm_index
        self.mem = [self.idx[n] for n in g.slices_of_type("MEM")]
        self.mxm = [self.idx[n] for n in g.slices_of_type("MXM")]
        self.c2c = [self.idx[n] for n in g.slices_of_type("C2C")]
        self.plane_busy = {p: [] for p in self.mxm}   # [install cycle, matvec cycle] per job, disjoint
        self.vals: dict[int, _Val] = {}
        self.ins: list[Instruction | None] = []
        self.ins_node: list[int] = []
        self.issue, self.place, self.outputs = {}, {}, {}
        self.rr_mem = 0
        self.rr_plane = 0
        self.direct = self.via_mem = 0
        self.arrival_from: dict[int, int] = {}   # node -> operand node that constrained it (for the CP)
        self.naive = policy == "naive"
        self._cons = graph.consumers()

    # ---------------------------------------------------------------- helpers
    def _emit(self, ins: Instruction, node: int) -> int:
        self.ins.append(ins)
        self.ins_node.append(node)
        return len(self.ins) - 1

    def _hops(self, a, b) -> int:
        return abs(a - b) * self.h

    def _stream_line(self, d, p, t_w, q):
        """Find a free stream in direction d for a value written at slice p on cycle t_w reaching slice q."""
        key_diag = self.tab.diag(d, p, t_w)
        lo, hi = min(p, q), max(p, q)
        for s in range(self.g.streams_per_direction):
            key = (d, s, key_diag)
            if self.tab.line_free(key, lo, hi):
                return Stream(d, s), key
        return None, None

    def _mem_order(self, q, d_allowed, target):
        """MEM slices reachable from slice q in the allowed directions, best first."""
        cand = []
        for m in self.mem:
            d = "E" if m > q else "W"
            if m != q and d in d_allowed:
                cand.append((m, d))
        if self.naive:
            # placement-unaware: a global round-robin pointer, wherever that slice is
            order = sorted(cand, key=lambda md: (self.mem.index(md[0]) - self.rr_mem) % len(self.mem))
            return order
        return sorted(cand, key=lambda md: (abs(md[0] - target), abs(md[0] - q)))

    def _deliver(self, vid, q, t):
        """Make node ``vid``'s value available on a stream at slice q on cycle t. Returns (stream, via) or None.
        Reserves what it uses (the caller undoes on failure)."""
        v = self.vals[vid]
        if not self.naive and v.stream is not None:
            d = v.stream.direction
            ok_dir = (q == v.slice) or (d == "E" and q > v.slice) or (d == "W" and q < v.slice)
            if ok_dir and t == v.t_w + self._hops(q, v.slice) and self.tab.extend_line(v.key, v.entry, q):
                return v.stream, "direct"
        if v.home is None:
            return None
        m, bank, _ = v.home
        tr = t - self.g.mem_read_cycles - self._hops(q, m)
        if tr < v.home_ready or not self.tab.slot_free(m, tr) or not self.tab.bank_free(m, bank, tr):
            return None
        d = "E" if q > m else "W"
        st, key = self._stream_line(d, m, tr + self.g.mem_read_cycles, q)
        if st is None:
            return None
        self.tab.take_slot(m, tr)
        self.tab.take_bank(m, bank, tr)
        self.tab.take_line(key, min(m, q), max(m, q))
        ins = Instruction(cycle=tr, slice=self.names[m], op="MEM_READ", dst=st, bank=bank, address=v.home[2],
                          label=f"read {self.graph.nodes[vid].name}")
        self._pending.append(ins)
        return st, "mem"

    def _avoid(self, vid) -> set:
        """(slice, bank) pairs holding the other operands of ``vid``'s consumers: two operands of one
        instruction must not sit in the same bank, or they could never be read in the same cycle."""
        out = set()
        for c in self._cons[vid]:
            for j in self.graph.nodes[c].inputs:
                if j != vid and j in self.vals and self.vals[j].home is not None:
                    out.add(self.vals[j].home[:2])
        return out

    def _place_input(self, vid, q):
        """Give a graph input (load node) its MEM home on first use."""
        v = self.vals[vid]
        if v.home is not None:
            return
        avoid = self._avoid(vid)
        if self.naive:
            order = [self.mem[(self.rr_mem + k) % len(self.mem)] for k in range(len(self.mem))]
            self.rr_mem = (self.rr_mem + 1) % len(self.mem)
        else:
            order = sorted(self.mem, key=lambda m: abs(m - q))
        for m in order:
            for bank in range(self.g.mem_banks_per_slice):
                if (m, bank) in avoid:
                    continue
                a = self.tab.alloc(m, bank)
                if a is not None:
                    v.home, v.home_ready = (m, bank, a), 0
                    return
        raise LabsimError("SRAM is full: no free address for a graph input; use a bigger geometry")

    def _output(self, nid, q, t_w, dirs, target, need_home):
        """Choose the output stream (and the MEM home write) for a value written at slice q on cycle t_w."""
        v = _Val(slice=q, t_w=t_w)
        avoid = self._avoid(nid)
        for m, d in self._mem_order(q, dirs, target):
            th = t_w + self._hops(q, m)
            for bank in range(self.g.mem_banks_per_slice):
                if (m, bank) in avoid:
                    continue
                if not (self.tab.slot_free(m, th) and self.tab.bank_free(m, bank, th)):
                    continue
                st, key = self._stream_line(d, q, t_w, m)
                if st is None:
                    break
                a = self.tab.alloc(m, bank)
                if a is None:
                    continue
                self.tab.take_slot(m, th)
                self.tab.take_bank(m, bank, th)
                v.stream, v.key = st, key
                v.entry = self.tab.take_line(key, min(q, m), max(q, m))
                v.home, v.home_ready = (m, bank, a), th + self.g.mem_write_cycles
                ins = Instruction(cycle=th, slice=self.names[m], op="MEM_WRITE", srcs=(st,), bank=bank, address=a,
                                  label=f"keep {self.graph.nodes[nid].name}")
                self._pending.append(("home", ins))
                if self.naive:
                    self.rr_mem = (self.mem.index(m) + 1) % len(self.mem)
                return v
        if not need_home:
            for d in dirs:
                st, key = self._stream_line(d, q, t_w, q)
                if st is not None:
                    v.stream, v.key = st, key
                    v.entry = self.tab.take_line(key, q, q)
                    return v
        return None

    # ---------------------------------------------------------------- one node
    def _try(self, node: Node, q: int, t: int, plane_install: int | None):
        """Try to issue ``node`` at slice q on cycle t. On success returns the list of pending instructions."""
        g = self.g
        self._pending = []
        srcs = []
        used = {}
        for i in node.inputs:
            if self.graph.nodes[i].op == "weights":
                continue
            if i in used:
                srcs.append(used[i])
                continue
            got = self._deliver(i, q, t)
            if got is None:
                return None
            used[i] = got[0]
            srcs.append(got[0])
            self._vias.append(got[1])
        if not self.tab.slot_free(q, t):
            return None
        self.tab.take_slot(q, t)
        op = VECTOR_OPS[node.op]
        out_val = None
        if node.out is not None:
            t_w = t + g.delay(op)
            if node.op == "matvec" or node.op == "recv":
                dirs = ("W",) if q > self.vxm else ("E",)
            else:
                dirs = ("E", "W")
            out_val = self._output(node.id, q, t_w, dirs, self.vxm, need_home=True)
            if out_val is None:
                return None
        if plane_install is not None:
            self.tab.take_slot(q, plane_install)
            w = self.graph.nodes[node.inputs[0]]
            self._pending.append(Instruction(cycle=plane_install, slice=self.names[q], op="MXM_INSTALL",
                                             data=w.value, label=w.name))
        imm = node.scale if node.op == "requant" else (node.link if node.op in ("send", "recv") else None)
        data = node.value if node.op == "recv" else None
        main = Instruction(cycle=t, slice=self.names[q], op=op, srcs=tuple(srcs),
                           dst=out_val.stream if out_val is not None else None, imm=imm, data=data, label=node.name)
        return main, out_val

    def _candidates(self, node: Node):
        """Slices the node may run on (best first)."""
        if node.op in _VXM_OPS:
            return [self.vxm]
        if node.op == "matvec":
            if self.naive:
                k = self.rr_plane
                self.rr_plane = (self.rr_plane + 1) % len(self.mxm)
                return [self.mxm[k]]
            return sorted(self.mxm, key=lambda p: abs(p - self.vxm))
        if node.op in ("send", "recv"):
            return self.c2c if not self.naive else [self.c2c[node.id % len(self.c2c)]]
        raise LabsimError(f"no slice for op {node.op!r}")

    def _lower_bound(self, node: Node, q: int) -> int:
        lb = 0
        for i in node.inputs:
            if self.graph.nodes[i].op == "weights":
                continue
            v = self.vals[i]
            cands = []
            if v.home is not None:
                cands.append(v.home_ready + self.g.mem_read_cycles + self._hops(q, v.home[0]))
            if v.stream is not None and not self.naive:
                cands.append(v.t_w + self._hops(q, v.slice))
            lb = max(lb, min(cands) if cands else 0)
        return lb

    # The plane choice needs a "try every plane, keep the earliest" loop with undo; implemented here.
    def schedule_matvec(self, node: Node) -> None:
        g = self.g
        x = node.inputs[1]
        if self.graph.nodes[x].op == "load":
            self._place_input(x, self.vxm if self.naive else self._nearest_plane_side())
        results = []
        for q in self._candidates(node):
            lb = max(self._lower_bound(node, q), g.mxm_install_cycles)
            for t in range(lb, lb + self.max_wait):
                mark = self.tab.mark()
                self._vias = []
                inst = self._install_cycle(q, t)
                if inst is not None:
                    got = self._try(node, q, t, inst)
                    if got is not None:
                        results.append((t, abs(q - self.vxm), q))
                        self.tab.undo(mark)
                        break
                self.tab.undo(mark)
        if not results:
            raise LabsimError(f"could not schedule node {node.id} ({node.name}) within {self.max_wait} cycles")
        t, _, q = min(results)
        self._schedule_at(node, q, t)

    def _install_cycle(self, q: int, t: int):
        """Latest cycle ≤ t − install at which plane q can start installing weights for a matvec on cycle t:
        its slot is free and no other job (install … matvec) on the plane overlaps [install, t].
        Placement-aware scheduling backfills gaps; the naive one only appends after the plane's last job."""
        busy = self.plane_busy[q]
        ti = t - self.g.mxm_install_cycles
        if self.naive and busy and ti <= max(b for _, b in busy):
            return None
        if any(a <= t and ti <= b for a, b in busy):      # another job's weights would be on the plane
            return None
        if not self.tab.slot_free(q, ti):
            return None
        self._inst = ti
        return ti

    def _nearest_plane_side(self) -> int:
        # place a matvec's input next to the plane that frees up first
        p = min(self.mxm, key=lambda p: (max((b for _, b in self.plane_busy[p]), default=0), abs(p - self.vxm)))
        return p

    def _schedule_at(self, node: Node, q: int, t0: int) -> None:
        for t in range(t0, t0 + self.max_wait):
            mark = self.tab.mark()
            self._vias = []
            inst = None
            if node.op == "matvec":
                inst = self._install_cycle(q, t)
                if inst is None:
                    self.tab.undo(mark)
                    continue
            got = self._try(node, q, t, inst)
            if got is not None:
                self._finish(node, q, t, got)
                return
            self.tab.undo(mark)
        raise LabsimError(f"could not schedule node {node.id} ({node.name}) within {self.max_wait} cycles")

    def _finish(self, node: Node, q: int, t: int, got) -> None:
        main, out_val = got
        for p in self._pending:
            if isinstance(p, tuple):                      # ("home", MEM_WRITE)
                k = self._emit(p[1], node.id)
                out_val.home_ins = k
            else:
                self._emit(p, node.id)
        self._emit(main, node.id)
        fed = [i for i in dict.fromkeys(node.inputs) if self.graph.nodes[i].op != "weights"]
        for i, via in zip(fed, self._vias, strict=False):
            if via == "direct":
                self.direct += 1
            else:
                self.via_mem += 1
                self.vals[i].home_reads += 1
        if out_val is not None:
            self.vals[node.id] = out_val
        if node.op == "matvec":
            self.plane_busy[q].append((self._inst, t))
        self.issue[node.id] = t
        self.place[node.id] = self.names[q]
        # which operand arrived last (for the schedule's critical path)
        ops = [i for i in node.inputs if self.graph.nodes[i].op != "weights" and i in self.issue]
        if ops:
            self.arrival_from[node.id] = max(ops, key=lambda i: self.issue[i])

    def _store(self, node: Node) -> None:
        a = node.inputs[0]
        v = self.vals[a]
        if self.graph.nodes[a].op == "load":
            raise LabsimError(f"store node {node.id} stores graph input {a} unchanged; store a computed value")
        self.outputs[node.id] = v.home
        self.arrival_from[node.id] = a
        self.issue[node.id] = v.home_ready
        self.place[node.id] = self.names[v.home[0]]
        v.home_reads += 1                                # keep the write

    def schedule_generic(self, node: Node) -> None:
        q_list = self._candidates(node)
        for i in node.inputs:
            if self.graph.nodes[i].op == "load":
                self._place_input(i, q_list[0])
        results = []
        for q in q_list:
            lb = self._lower_bound(node, q)
            for t in range(lb, lb + self.max_wait):
                mark = self.tab.mark()
                self._vias = []
                got = self._try(node, q, t, None)
                self.tab.undo(mark)
                if got is not None:
                    results.append((t, q))
                    break
        if not results:
            raise LabsimError(f"could not schedule node {node.id} ({node.name}) within {self.max_wait} cycles")
        t, q = min(results)
        self._schedule_at(node, q, t)

    def run(self) -> Schedule:
        graph = self.graph
        nodes = graph.nodes
        if not nodes:
            raise LabsimError("the graph is empty")
        preds_left = [sum(1 for i in n.inputs if nodes[i].op != "weights") for n in nodes]
        cons = graph.consumers()
        prio = _priorities(graph) if self.priority is None else list(self.priority)
        ready = [n.id for n in nodes if preds_left[n.id] == 0]
        while ready:
            if self.naive:
                nid = min(ready)                          # graph order
            else:
                nid = max(ready, key=lambda i: (prio[i], -i))
            ready.remove(nid)
            node = nodes[nid]
            if node.op == "matvec":
                self.schedule_matvec(node)
            elif node.op in ("load", "weights", "store"):
                self.schedule_node_simple(node)
            else:
                self.schedule_generic(node)
            for c in cons[nid]:
                if nodes[nid].op == "weights":
                    continue
                preds_left[c] -= 1
                if preds_left[c] == 0:
                    ready.append(c)
        return self._build()

    def schedule_node_simple(self, node: Node) -> None:
        if node.op == "load":
            self.vals[node.id] = _Val()
        elif node.op == "store":
            self._store(node)

    def _build(self) -> Schedule:
        g, graph = self.g, self.graph
        # drop home writes nobody reads and nobody stores (their reservations were harmless)
        keep = [True] * len(self.ins)
        homes = {}
        for nid, v in self.vals.items():
            if v.home is None:
                continue
            if v.home_ins >= 0 and v.home_reads == 0:
                keep[v.home_ins] = False
            else:
                homes[nid] = (self.names[v.home[0]], v.home[1], v.home[2])
        prog = Program(g, name=f"{graph.name} ({self.policy})")
        for k, ins in enumerate(self.ins):
            if keep[k]:
                prog.append(ins)
        for nid, v in self.vals.items():
            if graph.nodes[nid].op == "load" and v.home is not None:
                prog.preload(self.names[v.home[0]], v.home[1], v.home[2], graph.nodes[nid].value, dtype="int8")
        done = [ins.cycle + g.delay(ins.op) for ins in prog.instructions]
        t_end = max(max(done), max(ins.cycle for ins in prog.instructions)) if done else 0
        stagger = (g.superlanes - 1) * g.instr_stagger_cycles_per_superlane
        predicted = t_end + 1 + stagger if prog.instructions else 0
        outputs = {nid: (self.names[h[0]], h[1], h[2]) for nid, h in self.outputs.items()}
        # the schedule's critical path: from the last-issued node back through its latest operand
        last = (max(self.issue, key=lambda i: (self.issue[i] + _node_latency(g, graph.nodes[i]), i))
                if self.issue else None)
        path = []
        while last is not None:
            path.append(last)
            last = self.arrival_from.get(last)
        return Schedule(graph=graph, program=prog, predicted_cycles=int(predicted), policy=self.policy,
                        issue=dict(self.issue), placement=dict(self.place), outputs=outputs, homes=homes,
                        crit_path=path[::-1], direct_edges=self.direct, mem_edges=self.via_mem)


_POLICIES = ("list", "naive")
#: the largest graph the list scheduler takes (a teaching tool: a few seconds at most on a laptop)
MAX_SCHEDULE_NODES = 5_000


def schedule(graph: Graph, policy: str = "list", *, priority=None, max_wait: int = 4096) -> Schedule:
    """Schedule ``graph`` with ``policy`` ``"list"`` (critical-path list scheduler) or ``"naive"`` (ASAP,
    placement-unaware, everything through SRAM). ``priority``: optional per-node numbers replacing the
    list scheduler's critical-path priority (higher = scheduled first among ready nodes). ``max_wait``: how
    many cycles past a node's earliest start the scheduler searches for a free slot before giving up."""
    if not isinstance(graph, Graph):
        raise LabsimError(f"graph must be a labsim.schedule.Graph, got {type(graph).__name__}")
    policy = check_choice("policy", policy, _POLICIES, what="scheduling policy")
    max_wait = check_int("max_wait", max_wait, lo=16, hi=100_000)
    if len(graph.nodes) > MAX_SCHEDULE_NODES:
        raise LabsimError(f"graph {graph.name!r} has {len(graph.nodes):,} nodes; the list scheduler takes at most "
                          f"MAX_SCHEDULE_NODES = {MAX_SCHEDULE_NODES:,} (a full-size layer: labsim.schedule.layer)")
    if priority is not None:
        if isinstance(priority, dict):
            priority = [priority.get(i, 0) for i in range(len(graph.nodes))]
        try:
            pr = np.asarray(priority, dtype=float)
        except (TypeError, ValueError, OverflowError):
            raise LabsimError(f"priority must be a sequence or dict of numbers, one per node ({len(graph.nodes)}), "
                              f"got {priority!r:.80}") from None
        if pr.shape != (len(graph.nodes),) or not np.all(np.isfinite(pr)):
            raise LabsimError(f"priority must hold one finite number per node ({len(graph.nodes)}), "
                              f"got shape {pr.shape}")
        priority = pr.tolist()
    return _Scheduler(graph, policy, max_wait, priority).run()


def list_schedule(graph: Graph, **kw) -> Schedule:
    """Critical-path list scheduling (see :func:`schedule`)."""
    return schedule(graph, "list", **kw)


def naive_schedule(graph: Graph, **kw) -> Schedule:
    """The naive baseline (see :func:`schedule`)."""
    return schedule(graph, "naive", **kw)


def simulate_schedule(sched: Schedule):
    """Run the schedule's program on the cycle simulator. Returns ``(result, values)`` where ``values`` maps
    every store node — and every node whose value was kept in MEM — to the simulated vector."""
    if not isinstance(sched, Schedule):
        raise LabsimError(f"sched must be a labsim.schedule.Schedule, got {type(sched).__name__}")
    res = _tsp_simulate(sched.program, sched.graph.geometry)
    vals = {}
    for nid, (sl, bank, addr) in {**sched.homes, **sched.outputs}.items():
        if (sl, bank, addr) in res.memory:
            vals[nid] = res.memory[(sl, bank, addr)]
    return res, vals
