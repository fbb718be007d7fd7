"""Static scheduling for the TSP: a dataflow graph → a cycle-exact program for the chapter-1 simulator.

The compiler, not the hardware, decides *where* (which slice, which MEM bank and address, which stream) and
*when* (which cycle) every vector operation happens — "software-defined hardware" (ISCA 2020 §III, via
facts/tsp.md §8.1). This module is a small, honest version of that idea:

* :class:`Graph` — a dataflow graph whose nodes are vector operations (load an activation vector from MEM,
  install a weight tile into an MXM plane, matvec, element-wise add/mul/max/relu, requantise, store, C2C
  send/receive); every edge carries a tensor with a shape and a dtype. Tensor-level helpers
  (:meth:`Graph.linear`, :meth:`Graph.reduce_sum`) expand matrices into tiles of the chip's vector length.
* :func:`list_schedule` — critical-path list scheduling into a slice × cycle reservation table with stream
  allocation (a stream value occupies a diagonal of the space–time plane) and hop distances; values are
  chained slice-to-slice when the timing allows, otherwise kept in SRAM and re-read.
* :func:`naive_schedule` — the baseline: as soon as possible in graph order, placement-unaware (round-robin
  MEM slices and MXM planes), every intermediate goes to SRAM and back.
* :func:`simulate_schedule` runs the emitted program on :mod:`labsim.tsp`; the tests check that the result
  equals :func:`evaluate` (NumPy) and that the simulated cycle count equals the predicted one exactly.
* :func:`analytic_cycles` — a closed-form estimate for sizes where cycle simulation is slow (``faithful``,
  full-size layers), tied by tests to the list scheduler on sizes where both run.

Simplifications (also in docs/design/schedule.md): int8 activations/weights with int32 accumulation; no exp or
rsqrt on the simulated VXM, so the decoder layer's softmax and RMSNorm are replaced by ReLU/requantisation
with static scales — the graph keeps the real layer's *shape* (which GEMVs, in which order, what depends on
what), which is what scheduling is about.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from .errors import LabsimError, check_choice, check_int, check_number
from .tsp import Geometry, Instruction, Program, Stream
from .tsp import simulate as _tsp_simulate

__all__ = [
    "Tensor", "Node", "Graph", "Schedule", "list_schedule", "naive_schedule", "schedule", "simulate_schedule",
    "evaluate", "critical_path", "analytic_cycles", "mlp_graph", "decoder_layer_graph", "decoder_layer_dims",
    "random_graph", "tile_count", "VECTOR_OPS", "node_latency", "asap_start_cycles", "example_graph",
    "stream_conflict_example", "analytic_decoder_cycles",
]

#: graph node ops → TSP opcode (None: no instruction of its own)
VECTOR_OPS = {
    "load": None, "weights": "MXM_INSTALL", "matvec": "MXM_MATVEC", "add": "VXM_ADD", "mul": "VXM_MUL",
    "max": "VXM_MAX", "relu": "VXM_RELU", "requant": "VXM_REQUANT", "store": "MEM_WRITE", "send": "C2C_SEND",
    "recv": "C2C_RECV",
}
_VXM_OPS = ("add", "mul", "max", "relu", "requant")


@dataclass(frozen=True)
class Tensor:
    """What an edge carries: a shape and a dtype (``int8``, ``int32``)."""
    shape: tuple
    dtype: str


@dataclass
class Node:
    """One vector operation. ``inputs`` are producer node ids; ``out`` the tensor it produces."""
    id: int
    op: str
    inputs: tuple
    out: Tensor | None
    name: str = ""
    value: np.ndarray | None = field(default=None, repr=False)   # load/recv vector, weight tile
    scale: float | None = None                                    # requant scale
    link: int = 0                                                 # C2C link


def _wrap32(x: np.ndarray) -> np.ndarray:
    return ((np.asarray(x, dtype=np.int64) + 2**31) % 2**32 - 2**31).astype(np.int32)


class Graph:
    """A dataflow graph of vector operations for one geometry (vector length ``geometry.vector_len``).

    Build it with the methods below; each returns the new node's id. Values are int8 vectors; matvec and
    element-wise arithmetic produce int32; :meth:`requant` brings int32 back to int8.
    """

    def __init__(self, geometry: Geometry | None = None, name: str = "graph"):
        self.geometry = Geometry.mini() if geometry is None else geometry
        if not isinstance(self.geometry, Geometry):
            raise LabsimError(f"geometry must be a labsim.tsp.Geometry, got {type(geometry).__name__}")
        self.name = name
        self.nodes: list[Node] = []

    # -- plumbing ------------------------------------------------------------------------------------------
    @property
    def vl(self) -> int:
        return self.geometry.vector_len

    def __len__(self) -> int:
        return len(self.nodes)

    def __repr__(self) -> str:
        counts = defaultdict(int)
        for n in self.nodes:
            counts[n.op] += 1
        return f"Graph({self.name!r}, {len(self.nodes)} nodes: " + ", ".join(f"{k} {v}" for k, v in counts.items()) + ")"

    def _node(self, nid) -> Node:
        i = check_int("node", nid, lo=0, hi=len(self.nodes) - 1) if self.nodes else None
        if i is None:
            raise LabsimError("the graph is empty")
        return self.nodes[i]

    def _add_node(self, op, inputs, out, name, **kw) -> int:
        nid = len(self.nodes)
        self.nodes.append(Node(nid, op, tuple(inputs), out, name or f"{op}{nid}", **kw))
        return nid

    def _vec(self, values, what) -> np.ndarray:
        a = np.asarray(values)
        if a.ndim != 1 or a.size == 0 or a.size > self.vl:
            raise LabsimError(f"{what} must be a 1-D vector of 1..{self.vl} elements, got shape {a.shape}")
        if not np.issubdtype(a.dtype, np.integer) or a.min() < -128 or a.max() > 127:
            raise LabsimError(f"{what} must hold int8 values in [-128, 127]")
        out = np.zeros(self.vl, dtype=np.int8)
        out[: a.size] = a
        return out

    def _operand(self, nid, what, dtypes=("int8", "int32")) -> Node:
        n = self._node(nid)
        if n.out is None or n.op == "weights":
            raise LabsimError(f"{what} = node {nid} ({n.op}) does not produce a vector")
        if n.out.dtype not in dtypes:
            raise LabsimError(f"{what} = node {nid} has dtype {n.out.dtype}; allowed: {', '.join(dtypes)}")
        return n

    # -- vector-level nodes --------------------------------------------------------------------------------
    def load(self, values, name: str = "") -> int:
        """An int8 activation vector that sits in MEM when the program starts (the scheduler places it)."""
        return self._add_node("load", (), Tensor((self.vl,), "int8"), name, value=self._vec(values, "values"))

    def weights(self, matrix, name: str = "") -> int:
        """An int8 weight tile (≤ vector_len × vector_len, zero-padded) to be installed into an MXM plane."""
        w = np.asarray(matrix)
        if w.ndim != 2 or w.shape[0] > self.vl or w.shape[1] > self.vl or w.size == 0:
            raise LabsimError(f"matrix must be 2-D with both sides in 1..{self.vl}, got shape {w.shape}")
        if not np.issubdtype(w.dtype, np.integer) or w.min() < -128 or w.max() > 127:
            raise LabsimError("matrix must hold int8 values in [-128, 127]")
        tile = np.zeros((self.vl, self.vl), dtype=np.int8)
        tile[: w.shape[0], : w.shape[1]] = w
        return self._add_node("weights", (), Tensor((self.vl, self.vl), "int8"), name, value=tile)

    def matvec(self, w, x, name: str = "") -> int:
        """int32 = W · x (one MXM pass). ``w`` must be a :meth:`weights` node used by this matvec only."""
        wn = self._node(w)
        if wn.op != "weights":
            raise LabsimError(f"w = node {w} is a {wn.op!r} node; it must be a 'weights' node")
        if any(w in n.inputs for n in self.nodes):
            raise LabsimError(f"weights node {w} already feeds a matvec; create one weights node per matvec")
        self._operand(x, "x", ("int8",))
        return self._add_node("matvec", (w, x), Tensor((self.vl,), "int32"), name)

    def _binary(self, op, a, b, name) -> int:
        self._operand(a, "a")
        self._operand(b, "b")
        return self._add_node(op, (a, b), Tensor((self.vl,), "int32"), name)

    def add(self, a, b, name: str = "") -> int:
        """Element-wise a + b (int32, wrapping)."""
        return self._binary("add", a, b, name)

    def mul(self, a, b, name: str = "") -> int:
        """Element-wise a × b (int32, wrapping)."""
        return self._binary("mul", a, b, name)

    def max(self, a, b, name: str = "") -> int:
        """Element-wise max(a, b) (int32)."""
        return self._binary("max", a, b, name)

    def relu(self, a, name: str = "") -> int:
        """max(a, 0) (int32)."""
        self._operand(a, "a")
        return self._add_node("relu", (a,), Tensor((self.vl,), "int32"), name)

    def requant(self, a, scale: float, name: str = "") -> int:
        """int32 → int8: clip(rint(a · scale), −128, 127) (round half to even)."""
        self._operand(a, "a", ("int32",))
        s = check_number("scale", scale, lo=0.0, lo_open=True)
        return self._add_node("requant", (a,), Tensor((self.vl,), "int8"), name, scale=s)

    def store(self, a, name: str = "") -> int:
        """Write a vector to MEM as a result of the graph."""
        self._operand(a, "a")
        return self._add_node("store", (a,), None, name)

    def send(self, a, link: int = 0, name: str = "") -> int:
        """Send a vector to another chip over a C2C link (RealScale)."""
        self._operand(a, "a")
        return self._add_node("send", (a,), None, name, link=check_int("link", link, lo=0, hi=15))

    def recv(self, values, link: int = 0, name: str = "") -> int:
        """Receive a vector from another chip (the data is part of the program, as in the simulator)."""
        return self._add_node("recv", (), Tensor((self.vl,), "int8"), name, value=self._vec(values, "values"),
                              link=check_int("link", link, lo=0, hi=15))

    # -- tensor-level helpers ------------------------------------------------------------------------------
    def load_tensor(self, x, name: str = "x") -> list[int]:
        """Split an int8 vector of any length into ``vector_len`` chunks; one load node each."""
        x = np.asarray(x)
        if x.ndim != 1:
            raise LabsimError(f"x must be 1-D, got shape {x.shape}")
        return [self.load(x[i: i + self.vl], f"{name}[{i // self.vl}]") for i in range(0, x.size, self.vl)]

    def reduce_sum(self, ids, name: str = "sum") -> int:
        """Sum vectors with a balanced tree of adds (depth ceil(log2 n))."""
        ids = list(ids)
        if not ids:
            raise LabsimError("reduce_sum needs at least one vector")
        level = 0
        while len(ids) > 1:
            nxt = [self.add(ids[i], ids[i + 1], f"{name}.l{level}.{i // 2}") for i in range(0, len(ids) - 1, 2)]
            if len(ids) % 2:
                nxt.append(ids[-1])
            ids, level = nxt, level + 1
        return ids[0]

    def linear(self, x_ids, W, *, scale: float | None = None, relu: bool = False, name: str = "linear") -> list[int]:
        """y = W · x for an int8 matrix ``W`` (out × in), x given as chunks; tiles of vector_len × vector_len.

        Each output chunk = reduce_sum over input chunks of matvec(tile, x_chunk) (int32); then optional ReLU
        and, if ``scale`` is given, requantisation to int8. Returns the output chunk ids.
        """
        W = np.asarray(W)
        x_ids = list(x_ids)
        vl = self.vl
        if W.ndim != 2 or W.shape[1] > len(x_ids) * vl or W.shape[1] <= (len(x_ids) - 1) * vl:
            raise LabsimError(f"W must be 2-D with in-features matching {len(x_ids)} input chunks of {vl}; "
                              f"got shape {W.shape}")
        out = []
        for i in range(0, W.shape[0], vl):
            parts = []
            for j, xj in enumerate(x_ids):
                tile = W[i: i + vl, j * vl: (j + 1) * vl]
                wid = self.weights(tile, f"{name}.W[{i // vl},{j}]")
                parts.append(self.matvec(wid, xj, f"{name}.mv[{i // vl},{j}]"))
            y = self.reduce_sum(parts, f"{name}.acc[{i // vl}]")
            if relu:
                y = self.relu(y, f"{name}.relu[{i // vl}]")
            if scale is not None:
                y = self.requant(y, scale, f"{name}.q[{i // vl}]")
            out.append(y)
        return out

    # -- queries -------------------------------------------------------------------------------------------
    def consumers(self) -> list[list[int]]:
        cons = [[] for _ in self.nodes]
        for n in self.nodes:
            for i in n.inputs:
                cons[i].append(n.id)
        return cons

    def outputs(self) -> list[int]:
        """Ids of store nodes."""
        return [n.id for n in self.nodes if n.op == "store"]


def _check_graph(graph) -> None:
    if not isinstance(graph, Graph):
        raise LabsimError(f"graph must be a labsim.schedule.Graph, got {type(graph).__name__}")


# ------------------------------------------------------------------------------------------- NumPy reference
def evaluate(graph: Graph) -> dict[int, np.ndarray]:
    """Reference values of every vector node in NumPy (same arithmetic as the simulator); stores map to the
    value they store. Returns ``{node id: vector}``."""
    _check_graph(graph)
    val: dict[int, np.ndarray] = {}
    for n in graph.nodes:
        if n.op in ("load", "recv"):
            val[n.id] = n.value.copy()
        elif n.op == "weights":
            continue
        elif n.op == "matvec":
            w, x = graph.nodes[n.inputs[0]].value, val[n.inputs[1]]
            val[n.id] = _wrap32(w.astype(np.int64) @ x.astype(np.int64))
        elif n.op in ("add", "mul", "max"):
            a, b = val[n.inputs[0]].astype(np.int64), val[n.inputs[1]].astype(np.int64)
            r = a + b if n.op == "add" else a * b if n.op == "mul" else np.maximum(a, b)
            val[n.id] = _wrap32(r)
        elif n.op == "relu":
            val[n.id] = np.maximum(val[n.inputs[0]].astype(np.int64), 0).astype(np.int32)
        elif n.op == "requant":
            x = val[n.inputs[0]].astype(np.float64) * n.scale
            val[n.id] = np.clip(np.rint(x), -128, 127).astype(np.int8)
        elif n.op in ("store", "send"):
            val[n.id] = val[n.inputs[0]]
    return val


# ------------------------------------------------------------------------------------------- latencies / CP
def _node_latency(g: Geometry, n: Node) -> int:
    """Cycles a node adds on a path (functional delay + one hop to the next unit), for priorities and CP."""
    d = {"load": g.mem_read_cycles, "weights": g.mxm_install_cycles, "matvec": g.mxm_pass_cycles,
         "store": g.mem_write_cycles, "send": g.c2c_serialize_cycles, "recv": g.c2c_serialize_cycles}
    base = d.get(n.op, g.vxm_cycles)
    return base + g.stream_hop_cycles


def critical_path(graph: Graph) -> tuple[int, list[int]]:
    """Longest path through the graph in cycles (each node: functional delay + one stream hop), and its nodes.

    This is a lower bound on any schedule's length (before the superlane stagger) on an unloaded chip.
    """
    _check_graph(graph)
    g = graph.geometry
    n = len(graph.nodes)
    if n == 0:
        return 0, []
    finish = [0] * n
    pred = [-1] * n
    for node in graph.nodes:                       # nodes are in topological order by construction
        start, best = 0, -1
        for i in node.inputs:
            if finish[i] > start:
                start, best = finish[i], i
        finish[node.id] = start + _node_latency(g, node)
        pred[node.id] = best
    end = int(np.argmax(finish))
    path = [end]
    while pred[path[-1]] >= 0:
        path.append(pred[path[-1]])
    return int(finish[end]), path[::-1]


def node_latency(graph: Graph, nid: int) -> int:
    """Cycles node ``nid`` adds on a path: its functional delay + one stream hop (load: MEM read 4,
    weights: install 20, matvec: pass 24, VXM ops 4, store: write 1, C2C 20 — `mini`/`faithful` defaults)."""
    return _node_latency(graph.geometry, graph._node(nid))


def asap_start_cycles(graph: Graph) -> dict[int, int]:
    """Earliest start of every node with unlimited slices and streams (ASAP): 0 for sources, otherwise the
    latest finish (start + :func:`node_latency`) of its inputs."""
    start: dict[int, int] = {}
    for n in graph.nodes:
        start[n.id] = max((start[i] + node_latency(graph, i) for i in n.inputs), default=0)
    return start


def _priorities(graph: Graph) -> list[int]:
    """Longest latency from each node to any sink (the list scheduler's priority)."""
    g = graph.geometry
    cons = graph.consumers()
    pr = [0] * len(graph.nodes)
    for node in reversed(graph.nodes):
        tail = max((pr[c] for c in cons[node.id]), default=0)
        pr[node.id] = _node_latency(g, node) + tail
    return pr


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
        for i, via in zip([i for i in dict.fromkeys(node.inputs) if self.graph.nodes[i].op != "weights"], self._vias):
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
        last = max(self.issue, key=lambda i: (self.issue[i] + _node_latency(g, graph.nodes[i]), i)) if self.issue else None
        path = []
        while last is not None:
            path.append(last)
            last = self.arrival_from.get(last)
        return Schedule(graph=graph, program=prog, predicted_cycles=int(predicted), policy=self.policy,
                        issue=dict(self.issue), placement=dict(self.place), outputs=outputs, homes=homes,
                        crit_path=path[::-1], direct_edges=self.direct, mem_edges=self.via_mem)


_POLICIES = ("list", "naive")


def schedule(graph: Graph, policy: str = "list", *, priority=None, max_wait: int = 4096) -> Schedule:
    """Schedule ``graph`` with ``policy`` ``"list"`` (critical-path list scheduler) or ``"naive"`` (ASAP,
    placement-unaware, everything through SRAM). ``priority``: optional per-node numbers replacing the
    list scheduler's critical-path priority (higher = scheduled first among ready nodes). ``max_wait``: how
    many cycles past a node's earliest start the scheduler searches for a free slot before giving up."""
    if not isinstance(graph, Graph):
        raise LabsimError(f"graph must be a labsim.schedule.Graph, got {type(graph).__name__}")
    policy = check_choice("policy", policy, _POLICIES, what="scheduling policy")
    max_wait = check_int("max_wait", max_wait, lo=16, hi=1_000_000)
    if priority is not None:
        if isinstance(priority, dict):
            priority = [priority.get(i, 0) for i in range(len(graph.nodes))]
        pr = np.asarray(priority, dtype=float)
        if pr.shape != (len(graph.nodes),) or not np.all(np.isfinite(pr)):
            raise LabsimError(f"priority must hold one finite number per node ({len(graph.nodes)}), got shape {pr.shape}")
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


# ------------------------------------------------------------------------------------------- analytic model
def tile_count(out_features: int, in_features: int, vector_len: int) -> int:
    """Weight tiles of vector_len × vector_len for an (out × in) matrix."""
    return math.ceil(out_features / vector_len) * math.ceil(in_features / vector_len)


def _matvec_phases(graph: Graph) -> list[int]:
    """Tiles per dependency level of matvecs (level = 1 + deepest matvec ancestor)."""
    level = {}
    for n in graph.nodes:
        up = max((level.get(i, 0) for i in n.inputs), default=0)
        level[n.id] = up + (1 if n.op == "matvec" else 0)
    counts = defaultdict(int)
    for n in graph.nodes:
        if n.op == "matvec":
            counts[level[n.id]] += 1
    return [counts[k] for k in sorted(counts)]


def _analytic(g: Geometry, phases: list[int], cp: int) -> dict:
    planes = len(g.slices_of_type("MXM"))
    per_tile = g.mxm_install_cycles + 1
    stagger = (g.superlanes - 1) * g.instr_stagger_cycles_per_superlane
    tiles = sum(phases)
    mxm = math.ceil(tiles / planes) * per_tile
    phased = cp + sum((math.ceil(n / planes) - 1) * per_tile for n in phases)
    body = max(mxm, phased)
    return {"tiles": tiles, "phases": list(phases), "mxm_bound_cycles": mxm, "critical_path_cycles": cp,
            "phased_cycles": phased, "cycles": body + stagger,
            "bound": "MXM weight installs" if mxm >= phased else "critical path + per-phase installs",
            "seconds": (body + stagger) / g.clock_hz}


def analytic_cycles(graph: Graph) -> dict:
    """Closed-form makespan estimate of a graph on one chip (no cycle simulation).

    cycles = max(MXM bound, phased bound) + superlane stagger, where the MXM bound is
    ceil(tiles / planes) × (install + 1) — at batch 1 each weight tile is installed once and used once, so
    weight installation, not arithmetic, limits throughput — and the phased bound is the critical path plus,
    for every dependency level of matvecs, the extra rounds (ceil(tiles_in_level / planes) − 1) × (install + 1)
    that the planes need for that level. Tied to :func:`list_schedule` by tests on `mini` graphs.
    """
    if not isinstance(graph, Graph):
        raise LabsimError(f"graph must be a labsim.schedule.Graph, got {type(graph).__name__}")
    cp, _ = critical_path(graph)
    return _analytic(graph.geometry, _matvec_phases(graph), cp)


def analytic_decoder_cycles(model: str | None = "llama-3.1-8b", geometry: Geometry | None = None, *,
                            full_size: bool = True, context_tokens: int | None = None) -> dict:
    """:func:`analytic_cycles` for one decoder layer without building the graph — usable at full size on the
    `faithful` geometry where cycle simulation would be slow. ``full_size=False`` uses the scaled dimensions of
    :func:`decoder_layer_dims` (the same graph as :func:`decoder_layer_graph`, for the tests that tie the two).
    The layer's weights must still fit the chip's SRAM for this to be a real single-chip time; the result says
    how many bytes of weights the layer has."""
    g = Geometry.mini() if geometry is None else geometry
    d = decoder_layer_dims(model, g)
    vl = g.vector_len
    if full_size:
        H, F, nh, nkv = d["full_hidden"], d["full_intermediate"], d["full_heads"], d["full_kv_heads"]
        hd = H // nh
    else:
        H, F, nh, nkv, hd = d["hidden"], d["intermediate"], d["heads"], d["kv_heads"], d["head_dim"]
    ctx = d["context"] if context_tokens is None else check_int("context_tokens", context_tokens, lo=1)
    c = math.ceil
    phases = [tile_count(nh * hd, H, vl) + 2 * tile_count(nkv * hd, H, vl),
              nh * tile_count(ctx, hd, vl), nh * tile_count(hd, ctx, vl), tile_count(H, nh * hd, vl),
              2 * tile_count(F, H, vl), tile_count(H, F, vl)]
    lat = {k: v + g.stream_hop_cycles for k, v in (("mv", g.mxm_install_cycles + g.mxm_pass_cycles),
                                                   ("vxm", g.vxm_cycles), ("rd", g.mem_read_cycles),
                                                   ("wr", g.mem_write_cycles))}
    lat["pass"] = g.mxm_pass_cycles + g.stream_hop_cycles   # later phases: weights were installed ahead
    lat["mv"] += g.stream_hop_cycles                        # first phase: install and pass both on the path

    def red(k):                         # reduce tree over k input chunks
        return max(0, c(math.log2(max(1, c(k / vl))))) * lat["vxm"]
    cp = lat["rd"]
    cp += lat["mv"] + red(H) + lat["vxm"]                       # q projection + requant
    cp += lat["pass"] + red(hd) + 2 * lat["vxm"]                  # scores + relu + requant
    cp += lat["pass"] + red(ctx) + lat["vxm"]                     # attn·V + requant
    cp += lat["pass"] + red(nh * hd) + 3 * lat["vxm"]             # o_proj + requant + residual + requant
    cp += lat["pass"] + red(H) + 2 * lat["vxm"]                   # gate (relu + requant)
    cp += 2 * lat["vxm"]                                        # gate*up + requant
    cp += lat["pass"] + red(F) + 3 * lat["vxm"] + lat["wr"]       # down + requant + residual + requant + store
    out = _analytic(g, phases, cp)
    out["weight_bytes_int8"] = (H * (nh * hd + 2 * nkv * hd) + nh * hd * H + 3 * H * F)
    out["dims"] = {"hidden": H, "intermediate": F, "heads": nh, "kv_heads": nkv, "head_dim": hd, "context": ctx}
    return out


# ------------------------------------------------------------------------------------------- builders
def _scale_for(k: int) -> float:
    """A power-of-two requantisation scale that keeps int8 × int8 sums over k terms inside int8 [A]."""
    return 2.0 ** -math.ceil(math.log2(math.sqrt(k) * 12.0))


def mlp_graph(geometry: Geometry | None = None, *, d_in: int | None = None, d_hidden: int | None = None,
              d_out: int | None = None, seed: int = 0, name: str = "mlp") -> Graph:
    """A dense two-layer MLP at batch 1: y = requant(W2 · requant(relu(W1 · x))), int8, random seeded weights.

    Defaults on `mini`: 128 → 256 → 128 (2, 4, 2 vectors). Dimensions must be multiples of the vector length.
    """
    g = Graph(geometry, name)
    vl = g.vl
    d_in = 2 * vl if d_in is None else check_int("d_in", d_in, lo=vl)
    d_hidden = 4 * vl if d_hidden is None else check_int("d_hidden", d_hidden, lo=vl)
    d_out = 2 * vl if d_out is None else check_int("d_out", d_out, lo=vl)
    for nm, v in (("d_in", d_in), ("d_hidden", d_hidden), ("d_out", d_out)):
        if v % vl:
            raise LabsimError(f"{nm} = {v} must be a multiple of the vector length {vl}")
    rng = np.random.default_rng(check_int("seed", seed, lo=0))
    x = rng.integers(-32, 32, d_in).astype(np.int8)
    W1 = rng.integers(-16, 16, (d_hidden, d_in)).astype(np.int8)
    W2 = rng.integers(-16, 16, (d_out, d_hidden)).astype(np.int8)
    xs = g.load_tensor(x, "x")
    h = g.linear(xs, W1, scale=_scale_for(d_in), relu=True, name="fc1")
    y = g.linear(h, W2, scale=_scale_for(d_hidden), name="fc2")
    for i, v in enumerate(y):
        g.store(v, f"y[{i}]")
    return g


def decoder_layer_dims(model: str | None = "llama-3.1-8b", geometry: Geometry | None = None) -> dict:
    """A catalog model's decoder-layer shape scaled to ``geometry`` (default `mini`).

    hidden = 2 vectors; head_dim = 1 vector; heads = hidden / head_dim; KV heads keep the model's GQA ratio
    (at least 1); intermediate keeps the model's FFN ratio rounded to whole vectors; context = 1 vector of
    cached tokens. Falls back to Llama 3.1 8B's published ratios (facts/models.md §3) if the catalog is missing.
    """
    g = Geometry.mini() if geometry is None else geometry
    vl = g.vector_len
    src = {"hidden_size": 4096, "intermediate_size": 14336, "num_heads": 32, "num_kv_heads": 8,
           "name": "llama-3.1-8b (built-in fallback, facts/models.md §3)"}
    if model is not None:
        try:
            from . import catalog
            m = catalog.model(model)
            src = {"hidden_size": m.hidden_size, "intermediate_size": m.intermediate_size,
                   "num_heads": m.num_heads, "num_kv_heads": m.num_kv_heads, "name": model}
        except ImportError:
            pass
    hidden = 2 * vl
    heads = hidden // vl
    kv = max(1, round(heads * src["num_kv_heads"] / src["num_heads"]))
    ffn = max(1, round(src["intermediate_size"] / src["hidden_size"] * 2)) * vl
    return {"model": src["name"], "hidden": hidden, "head_dim": vl, "heads": heads, "kv_heads": kv,
            "intermediate": ffn, "context": vl, "full_hidden": src["hidden_size"],
            "full_intermediate": src["intermediate_size"], "full_heads": src["num_heads"],
            "full_kv_heads": src["num_kv_heads"]}


def decoder_layer_graph(model: str | None = "llama-3.1-8b", geometry: Geometry | None = None, *, seed: int = 0,
                        name: str = "decoder") -> Graph:
    """One transformer decoder layer at batch 1 (decode step) with the shape of ``model`` scaled to ``geometry``.

    x → [norm ≈ requant] → Q, K, V projections → per head: scores = K_cache · q (matvec with the cached keys as
    weights), [softmax ≈ ReLU + requant], out = V_cacheᵀ · p → O projection → residual add → [norm ≈ requant] →
    gate and up projections → gate ⊙ up [SiLU ≈ ReLU] → down projection → residual add → store.
    The new token's K and V are computed and stored (appending them to the cache is left out).
    """
    dims = decoder_layer_dims(model, geometry)
    g = Graph(geometry, name)
    rng = np.random.default_rng(check_int("seed", seed, lo=0))
    H, F, hd, nh, nkv, ctx = dims["hidden"], dims["intermediate"], dims["head_dim"], dims["heads"], dims["kv_heads"], dims["context"]

    def w(o, i):
        return rng.integers(-16, 16, (o, i)).astype(np.int8)

    x = g.load_tensor(rng.integers(-32, 32, H).astype(np.int8), "x")
    q = g.linear(x, w(nh * hd, H), scale=_scale_for(H), name="q_proj")
    k = g.linear(x, w(nkv * hd, H), scale=_scale_for(H), name="k_proj")
    v = g.linear(x, w(nkv * hd, H), scale=_scale_for(H), name="v_proj")
    for i, kk in enumerate(k):
        g.store(kk, f"k_new[{i}]")
    for i, vv in enumerate(v):
        g.store(vv, f"v_new[{i}]")
    K_cache = [w(ctx, hd) for _ in range(nkv)]            # cached keys per KV head (ctx × head_dim)
    V_cache = [w(ctx, hd) for _ in range(nkv)]
    heads_out = []
    for h in range(nh):
        kvh = h * nkv // nh                                # grouped-query attention: heads share a KV head
        s = g.linear([q[h]], K_cache[kvh], scale=_scale_for(hd), relu=True, name=f"scores.h{h}")  # softmax ≈ relu
        o = g.linear(s, V_cache[kvh].T.copy(), scale=_scale_for(ctx), name=f"attn_v.h{h}")
        heads_out += o
    a = g.linear(heads_out, w(H, nh * hd), name="o_proj")                 # int32
    h1 = [g.requant(g.add(ai, xi, f"resid1[{i}]"), 0.5, f"resid1.q[{i}]") for i, (ai, xi) in
          enumerate(zip([g.requant(ai, _scale_for(nh * hd), f"o_proj.q[{i}]") for i, ai in enumerate(a)], x))]
    gate = g.linear(h1, w(F, H), scale=_scale_for(H), relu=True, name="gate_proj")     # SiLU ≈ ReLU
    up = g.linear(h1, w(F, H), scale=_scale_for(H), name="up_proj")
    act = [g.requant(g.mul(gi, ui, f"gate*up[{i}]"), 1 / 64, f"act.q[{i}]") for i, (gi, ui) in enumerate(zip(gate, up))]
    down = g.linear(act, w(H, F), scale=_scale_for(F), name="down_proj")
    out = [g.requant(g.add(di, hi, f"resid2[{i}]"), 0.5, f"out.q[{i}]") for i, (di, hi) in enumerate(zip(down, h1))]
    for i, o in enumerate(out):
        g.store(o, f"out[{i}]")
    return g


def example_graph(geometry: Geometry | None = None) -> Graph:
    """The small graph of the chapter-2 exercises: y = requant(relu(W1·a + W2·b)) and z = requant(a ⊙ b)."""
    g = Graph(geometry, "example")
    rng = np.random.default_rng(2)
    vl = g.vl
    a = g.load(rng.integers(-20, 20, vl).astype(np.int8), "a")
    b = g.load(rng.integers(-20, 20, vl).astype(np.int8), "b")
    w1 = g.weights(rng.integers(-8, 8, (vl, vl)).astype(np.int8), "W1")
    w2 = g.weights(rng.integers(-8, 8, (vl, vl)).astype(np.int8), "W2")
    s = g.add(g.matvec(w1, a, "W1·a"), g.matvec(w2, b, "W2·b"), "sum")
    y = g.requant(g.relu(s, "relu"), 1 / 128, "y")
    z = g.requant(g.mul(a, b, "a*b"), 1 / 16, "z")
    g.store(y, "store y")
    g.store(z, "store z")
    return g


def stream_conflict_example(stream_b: str = "E0", geometry: Geometry | None = None):
    """A hand-written program with a stream conflict (for the exercises): two MEM reads in slice MEM_W0 (one
    per bank, same cycle) put vectors a and b on eastward streams towards the VXM, which adds them. With
    ``stream_b="E0"`` both results are written into the same stream slot on the same cycle — the simulator
    raises a stream write collision. Returns ``(program, expected_sum)``."""
    g = Geometry.mini() if geometry is None else geometry
    p = Program(g, name="stream conflict")
    a = (np.arange(g.vector_len) % 50).astype(np.int8)
    b = ((np.arange(g.vector_len) % 7) * 3).astype(np.int8)
    p.preload("MEM_W0", 0, 0, a, dtype="int8")
    p.preload("MEM_W0", 1, 0, b, dtype="int8")
    ra = p.mem_read(cycle=0, slice="MEM_W0", bank=0, address=0, out="E0", label="read a")
    p.mem_read(cycle=0, slice="MEM_W0", bank=1, address=0, out=stream_b, label="read b")
    t_add = p.arrival(ra, "VXM")
    out = "E7" if stream_b != "E7" else "E6"
    p.add(cycle=t_add, a="E0", b=stream_b, out=out, label="a+b")
    p.mem_write(cycle=t_add + g.vxm_cycles + g.stream_hop_cycles, slice="MEM_E0", bank=0, address=0, a=out,
                label="store")
    return p, (a.astype(np.int32) + b.astype(np.int32))


def random_graph(seed: int, geometry: Geometry | None = None, *, n_inputs: int = 3, n_ops: int = 8) -> Graph:
    """A random small graph (loads, matvecs, element-wise ops, requants, stores) for property tests."""
    g = Graph(geometry, f"random{seed}")
    rng = np.random.default_rng(check_int("seed", seed, lo=0))
    vl = g.vl
    int8 = [g.load(rng.integers(-20, 20, vl).astype(np.int8), f"in{i}") for i in range(check_int("n_inputs", n_inputs, lo=1))]
    int32 = []
    for j in range(check_int("n_ops", n_ops, lo=1)):
        kind = rng.choice(["matvec", "add", "mul", "max", "relu", "requant"]) if int32 else rng.choice(["matvec", "add"])
        if kind == "matvec":
            wid = g.weights(rng.integers(-8, 8, (vl, vl)).astype(np.int8), f"W{j}")
            int32.append(g.matvec(wid, int(rng.choice(int8)), f"mv{j}"))
        elif kind in ("add", "mul", "max"):
            pool = int8 + int32
            a, b = int(rng.choice(pool)), int(rng.choice(pool))
            int32.append(getattr(g, kind)(a, b, f"{kind}{j}"))
        elif kind == "relu":
            int32.append(g.relu(int(rng.choice(int32)), f"relu{j}"))
        else:
            int8.append(g.requant(int(rng.choice(int32)), 1 / 256, f"rq{j}"))
    cons = g.consumers()
    for n in list(g.nodes):
        if n.out is not None and n.op not in ("weights", "load") and not cons[n.id]:
            g.store(n.id, f"out.{n.name}")
    return g
