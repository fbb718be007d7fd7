"""Dataflow graphs of vector operations for the TSP scheduler, their NumPy reference and their latencies.

Nodes are vector operations, each one TSP instruction (or none): load an activation vector from MEM, install a
weight tile into an MXM plane, matvec, element-wise add/mul/max/relu, requantize, store, C2C send/receive; every
edge carries a tensor with a shape and a dtype. Tensor-level helpers (:meth:`Graph.linear`,
:meth:`Graph.reduce_sum`) expand matrices into tiles of the chip's vector length. See docs/design/schedule.md.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from ..errors import LabsimError, check_int, check_number
from ..tsp import Geometry

__all__ = ["VECTOR_OPS", "Tensor", "Node", "Graph", "evaluate", "critical_path", "node_latency",
           "asap_start_cycles", "MAX_NODES"]

#: the largest graph a builder makes or the list scheduler takes (it is a teaching tool for small graphs; a
#: full-size layer is scheduled by labsim.schedule.layer)
MAX_NODES = 20_000

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
        self.name = str(name)[:200]
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
        parts = ", ".join(f"{k} {v}" for k, v in counts.items())
        return f"Graph({self.name!r}, {len(self.nodes)} nodes: {parts})"

    def _node(self, nid) -> Node:
        i = check_int("node", nid, lo=0, hi=len(self.nodes) - 1) if self.nodes else None
        if i is None:
            raise LabsimError("the graph is empty")
        return self.nodes[i]

    def _add_node(self, op, inputs, out, name, **kw) -> int:
        nid = len(self.nodes)
        if nid >= MAX_NODES:
            raise LabsimError(f"graph {self.name!r} would have more than MAX_NODES = {MAX_NODES:,} nodes; the list "
                              f"scheduler is for small graphs (full-size layers: labsim.schedule.layer)")
        self.nodes.append(Node(nid, op, tuple(inputs), out, name or f"{op}{nid}", **kw))
        return nid

    def _vec(self, values, what) -> np.ndarray:
        try:
            a = np.asarray(values)
        except (TypeError, ValueError):
            raise LabsimError(f"{what} must be a 1-D int8 vector, got {type(values).__name__}") from None
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
        try:
            w = np.asarray(matrix)
        except (TypeError, ValueError):
            raise LabsimError(f"matrix must be a 2-D int8 array, got {type(matrix).__name__}") from None
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
        and, if ``scale`` is given, requantization to int8. Returns the output chunk ids.
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
    _check_graph(graph)
    if not graph.nodes:
        raise LabsimError("graph is empty: it has no node nid")
    nid = check_int("nid", nid, lo=0, hi=len(graph.nodes) - 1)
    return _node_latency(graph.geometry, graph._node(nid))


def asap_start_cycles(graph: Graph) -> dict[int, int]:
    """Earliest start of every node with unlimited slices and streams (ASAP): 0 for sources, otherwise the
    latest finish (start + :func:`node_latency`) of its inputs."""
    _check_graph(graph)
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
