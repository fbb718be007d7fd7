"""A 2-D mesh network-on-chip: run-time routing with credits vs the same traffic scheduled at compile time (ch. 7).

**Dynamic mesh** (Dojo-style: routers, hardware flow control; Huatai Q8, [tesla-aiday21]): every node has a router
with five input buffers (local + four neighbours) of ``buffer_flits`` single-flit packets. A packet follows
dimension-order routing (all X hops, then all Y hops; Dally & Towles 2004 ch. 8). Each cycle every output port
picks one requesting input round-robin, if it holds a **credit** (a free slot in the downstream buffer; credits
return one cycle after the slot frees — credit-based flow control, Dally & Towles ch. 13). A hop takes
``hop_cycles``. With no other traffic a packet over h hops takes exactly ``h × hop_cycles`` (zero-load latency).

**Static schedule** (TSP / RealScale-style: the compiler knows every transfer): the same packets, each given, in
creation order, the earliest departure cycle at which every link on its path and the destination's ejection port
are free at exactly the cycles it will use them (a space-time reservation table). In flight there is no conflict,
so latency in the network is always ``h × hop_cycles``; any wait for a free slot is decided before the run.

Traffic: every node injects a packet with probability ``load`` per cycle to a uniformly random other node (seeded).
Both kernels are numba; :func:`traffic` generates the shared packet list. Design: ``docs/design/mesh.md``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numba
import numpy as np

from .errors import LabsimError, check_array, check_int, check_number
from .limits import MAX_CLOCK_HZ
from .stats import percentiles

__all__ = ["MeshConfig", "Traffic", "MeshRun", "traffic", "hops", "zero_load_latency_cycles", "simulate",
           "schedule_static", "latency_vs_load", "saturation_load_estimate"]

#: most router-cycles (nodes × simulated cycles, drain included) one dynamic run may take (≈ seconds compiled)
MAX_ROUTER_CYCLES = 4_000_000
#: most packets one run carries (the traffic generator's cycles × nodes bound)
MAX_PACKETS = 2_000_000
#: most slot probes the static scheduler makes in one run; past it the remaining packets count as unscheduled
#: (far past saturation, where every packet waits ever longer)
MAX_STATIC_PROBES = 20_000_000
#: most loads one latency_vs_load sweep runs
MAX_LOADS = 100


@dataclass(frozen=True)
class MeshConfig:
    """A width × height mesh. ``hop_cycles`` (router pipeline + link) and ``buffer_flits`` are **[A]**: no source
    we hold publishes them for Dojo's NoC; ``clock_hz`` = Dojo's 2 GHz ([talpes22] via [chipsandcheese22])."""
    width: int = 8
    height: int = 8
    hop_cycles: int = 2
    buffer_flits: int = 4
    clock_hz: float = 2e9

    def __post_init__(self):
        set_ = object.__setattr__          # frozen: store the validated (normalized) values
        set_(self, "width", check_int("width", self.width, lo=2, hi=64))
        set_(self, "height", check_int("height", self.height, lo=1, hi=64))
        set_(self, "hop_cycles", check_int("hop_cycles", self.hop_cycles, lo=1, hi=100))
        set_(self, "buffer_flits", check_int("buffer_flits", self.buffer_flits, lo=1, hi=256))
        set_(self, "clock_hz", check_number("clock_hz", self.clock_hz, lo=1.0, hi=MAX_CLOCK_HZ, unit="Hz"))

    @property
    def nodes(self) -> int:
        return self.width * self.height


def _config(config) -> MeshConfig:
    if config is None:
        return MeshConfig()
    if not isinstance(config, MeshConfig):
        raise LabsimError(f"config must be a labsim.mesh.MeshConfig, got {type(config).__name__}")
    return config


@dataclass(frozen=True)
class Traffic:
    """A packet list, sorted by creation cycle: ``src``, ``dst`` (node = y · width + x) and ``created``."""
    src: np.ndarray
    dst: np.ndarray
    created: np.ndarray
    load: float
    cycles: int
    seed: int

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "load", check_number("load", self.load, lo=0.0, hi=1.0, lo_open=True))
        set_(self, "cycles", check_int("cycles", self.cycles, lo=1, hi=2_000_000))
        set_(self, "seed", check_int("seed", self.seed, lo=0))
        arrays = {}
        for name in ("src", "dst", "created"):
            arrays[name] = _ids(name, getattr(self, name), 0, 64 * 64 - 1 if name != "created" else self.cycles - 1)
            if arrays[name].ndim != 1:
                raise LabsimError(f"{name} must be a 1-D array of packets, got shape {arrays[name].shape}")
        n = arrays["src"].size
        if arrays["dst"].size != n or arrays["created"].size != n:
            raise LabsimError(f"src, dst and created must be equally long, got {n}, {arrays['dst'].size} and "
                              f"{arrays['created'].size}")
        if n > MAX_PACKETS:
            raise LabsimError(f"src holds {n:,} packets; allowed: at most {MAX_PACKETS:,}")
        if np.any(arrays["src"] == arrays["dst"]):
            i = int(np.argmax(arrays["src"] == arrays["dst"]))
            raise LabsimError(f"packet {i} has src = dst = {arrays['src'][i]}; allowed: a packet to another node")
        if np.any(np.diff(arrays["created"]) < 0):
            raise LabsimError("created must be sorted (packets in creation order)")
        for name, arr in arrays.items():
            arr.setflags(write=False)      # the kernels trust these arrays: they cannot change after the check
            set_(self, name, arr)

    def __len__(self) -> int:
        return int(self.src.size)


def traffic(load: float, config: MeshConfig | None = None, *, cycles: int = 4000, seed: int = 0) -> Traffic:
    """Bernoulli injection: each node, each cycle, creates a packet with probability ``load`` (packets/node/cycle)
    for a uniformly chosen other node. Seeded; the same arguments give the same list."""
    cfg = _config(config)
    load = check_number("load", load, lo=0.0, hi=1.0, lo_open=True)
    cycles = check_int("cycles", cycles, lo=1, hi=2_000_000)
    seed = check_int("seed", seed, lo=0)
    n = cfg.nodes
    if cycles * n > MAX_PACKETS:
        raise LabsimError(f"cycles × nodes = {cycles * n:,} is out of range; allowed ≤ {MAX_PACKETS:,}")
    rng = np.random.default_rng(seed)
    fire = rng.random((cycles, n)) < load
    t, src = np.nonzero(fire)                        # row-major: sorted by cycle, then node
    off = rng.integers(1, n, size=src.size)          # uniform over the n − 1 other nodes
    dst = (src + off) % n
    return Traffic(src=src.astype(np.int64), dst=dst.astype(np.int64), created=t.astype(np.int64), load=load,
                   cycles=cycles, seed=seed)


def _ids(name: str, value, lo: int, hi: int) -> np.ndarray:
    """Whole numbers in [lo, hi] (a scalar or an array) as int64."""
    arr = check_array(name, value, lo=lo, hi=hi)
    frac = arr != np.floor(arr)
    if frac.any():
        i = np.unravel_index(int(np.argmax(frac)), arr.shape) if arr.ndim else ()
        raise LabsimError(f"{name} = {float(arr[i]):g} is not a whole number; allowed: integers in [{lo}, {hi}]")
    return arr.astype(np.int64)


def hops(src, dst, config: MeshConfig | None = None):
    """Manhattan distance |dx| + |dy| between node ids (arrays allowed)."""
    cfg = _config(config)
    s, d = _ids("src", src, 0, cfg.nodes - 1), _ids("dst", dst, 0, cfg.nodes - 1)
    try:
        s, d = np.broadcast_arrays(s, d)
    except ValueError:
        raise LabsimError(f"src (shape {np.shape(s)}) and dst (shape {np.shape(d)}) must have the same shape or "
                          "broadcast") from None
    out = np.abs(s % cfg.width - d % cfg.width) + np.abs(s // cfg.width - d // cfg.width)
    return int(out) if out.ndim == 0 else out


def zero_load_latency_cycles(src, dst, config: MeshConfig | None = None):
    """``hops × hop_cycles``: the latency of a packet alone in the network (the textbook zero-load latency)."""
    cfg = _config(config)
    return hops(src, dst, cfg) * cfg.hop_cycles


# ----------------------------------------------------------------------------------------------------------
# kernels
# ----------------------------------------------------------------------------------------------------------
# ports: 0 local/eject, 1 east, 2 west, 3 north (+y), 4 south (−y). A flit sent out of port p arrives at the
# neighbour's input port OPP[p] (what it came *from*): east → arrives on the neighbour's west input (2), etc.

@numba.njit(cache=True)
def _route(node, dst, width):  # pragma: no cover - compiled
    x, y = node % width, node // width
    dx, dy = dst % width, dst // width
    if dx > x:
        return 1
    if dx < x:
        return 2
    if dy > y:
        return 3
    if dy < y:
        return 4
    return 0


@numba.njit(cache=True)
def _neighbour(node, port, width):  # pragma: no cover - compiled
    if port == 1:
        return node + 1
    if port == 2:
        return node - 1
    if port == 3:
        return node + width
    return node - width


@numba.njit(cache=True)
def _dynamic(src, dst, created, width, height, hop, depth, max_cycles, arrived):  # pragma: no cover - compiled
    """Cycle-level credit-flow-controlled mesh. arrived[p] = cycle packet p was ejected (−1 if not by max_cycles).
    Returns the number of cycles simulated."""
    n = width * height
    P = src.size
    opp = np.array([0, 2, 1, 4, 3])
    buf = np.full((n, 5, depth), -1, np.int64)        # packet ids
    ready = np.zeros((n, 5, depth), np.int64)         # cycle the flit is usable at this router
    head = np.zeros((n, 5), np.int64)
    count = np.zeros((n, 5), np.int64)
    credit = np.full((n, 5), depth, np.int64)         # per output port (port 0 = eject, unused)
    credit_back = np.zeros((n, 5), np.int64)          # credits returned at the end of this cycle
    rr = np.zeros((n, 5), np.int64)                   # round-robin pointer per output port
    # per-node source queue as a linked list over packet ids
    q_next = np.full(P, -1, np.int64)
    q_head = np.full(n, -1, np.int64)
    q_tail = np.full(n, -1, np.int64)
    want = np.full(5, -1, np.int64)                   # output port each input's head flit requests
    nxt = 0
    done = 0
    t = 0
    while t < max_cycles and done < P:
        # 1. packets created this cycle join their node's source queue
        while nxt < P and created[nxt] <= t:
            s = src[nxt]
            if q_tail[s] < 0:
                q_head[s] = nxt
            else:
                q_next[q_tail[s]] = nxt
            q_tail[s] = nxt
            nxt += 1
        # 2. each source queue feeds its local input buffer (one packet per cycle, if there is room)
        for v in range(n):
            p = q_head[v]
            if p >= 0 and count[v, 0] < depth:
                slot = (head[v, 0] + count[v, 0]) % depth
                buf[v, 0, slot] = p
                ready[v, 0, slot] = t
                count[v, 0] += 1
                q_head[v] = q_next[p]
                if q_head[v] < 0:
                    q_tail[v] = -1
        # 3. switch allocation: every output port grants one ready head flit, round-robin over inputs
        for v in range(n):
            if count[v, 0] + count[v, 1] + count[v, 2] + count[v, 3] + count[v, 4] == 0:
                continue                               # an empty router has nothing to send
            for ip in range(5):
                want[ip] = -1
                if count[v, ip] > 0:
                    slot = head[v, ip]
                    if ready[v, ip, slot] <= t:
                        want[ip] = _route(v, dst[buf[v, ip, slot]], width)
            for op in range(5):
                if op != 0 and credit[v, op] <= 0:
                    continue
                if want[0] != op and want[1] != op and want[2] != op and want[3] != op and want[4] != op:
                    continue
                for k in range(5):
                    ip = (rr[v, op] + k) % 5
                    if want[ip] != op:
                        continue
                    slot = head[v, ip]
                    p = buf[v, ip, slot]
                    head[v, ip] = (slot + 1) % depth
                    count[v, ip] -= 1
                    if ip != 0:                        # the freed slot's credit goes back upstream
                        credit_back[_neighbour(v, ip, width), opp[ip]] += 1
                    if op == 0:
                        arrived[p] = t
                        done += 1
                    else:
                        w = _neighbour(v, op, width)
                        wp = opp[op]
                        s2 = (head[w, wp] + count[w, wp]) % depth
                        buf[w, wp, s2] = p
                        ready[w, wp, s2] = t + hop
                        count[w, wp] += 1
                        credit[v, op] -= 1
                    rr[v, op] = (ip + 1) % 5
                    break
        # 4. returned credits become usable next cycle
        for v in range(n):
            for op in range(1, 5):
                credit[v, op] += credit_back[v, op]
                credit_back[v, op] = 0
        t += 1
    return t


@numba.njit(cache=True)
def _static(src, dst, created, width, nodes, hop, horizon, depart, max_probes):  # pragma: no cover - compiled
    """Space-time reservation: packet p departs at the earliest d ≥ created[p] with every (link, cycle) on its
    XY path and the destination's eject slot free. depart[p] = d (−1 if no slot before ``horizon``, or once
    ``max_probes`` departure cycles have been tried in all: the packets left count as unscheduled).
    Returns the number of packets scheduled."""
    P = src.size
    scheduled = 0
    probes = 0
    busy = np.zeros((horizon, nodes * 5), np.bool_)    # [cycle, link]: one packet's checks stay in a few KB
    path_node = np.empty(256, np.int64)
    path_port = np.empty(256, np.int64)
    for p in range(P):
        if probes >= max_probes:
            break                                      # the rest stay −1 (unscheduled): the caller's initial value
        # the XY path: (router, output port) for each hop, then (destination, eject)
        v = src[p]
        h = 0
        while True:
            op = _route(v, dst[p], width)
            path_node[h] = v
            path_port[h] = op
            h += 1
            if op == 0:
                break
            v = _neighbour(v, op, width)
        d = created[p]
        found = False
        while d + (h - 1) * hop < horizon and probes < max_probes:
            probes += 1
            ok = True
            for k in range(h):
                if busy[d + k * hop, path_node[k] * 5 + path_port[k]]:
                    ok = False
                    break
            if ok:
                for k in range(h):
                    busy[d + k * hop, path_node[k] * 5 + path_port[k]] = True
                depart[p] = d
                found = True
                scheduled += 1
                break
            d += 1
        if not found:
            depart[p] = -1
    return scheduled


# ----------------------------------------------------------------------------------------------------------
# public runs
# ----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MeshRun:
    """Latencies (cycles, creation → ejection) of the packets created in the measurement window."""
    mode: str                      #: "dynamic" or "static"
    latency_cycles: np.ndarray     #: measured packets that arrived
    hops: np.ndarray               #: their hop counts
    network_cycles: np.ndarray     #: time in the network (dynamic: includes waits at routers; static: h × hop)
    offered_load: float            #: packets per node per cycle
    delivered_fraction: float      #: of the measured packets; < 1 means the run was cut at ``max_cycles``
    accepted_load: float           #: packets ejected per node per cycle during the measurement window
    config: MeshConfig = field(repr=False)

    @property
    def saturated(self) -> bool:
        """The network cannot keep up: packets were lost to the drain limit, or it ejected < 95 % of what was
        offered during the measurement window (source queues grow without bound; Dally & Towles ch. 23)."""
        return self.delivered_fraction < 1.0 or self.accepted_load < 0.95 * self.offered_load

    @property
    def queueing_cycles(self) -> np.ndarray:
        """Latency minus the zero-load latency h × hop: everything the traffic added."""
        return self.latency_cycles - self.hops * self.config.hop_cycles

    def percentiles(self) -> dict[str, float]:
        """P50/P90/P99/P99.9 of the latency in cycles (``labsim.stats.percentiles``); raises if saturated."""
        if self.latency_cycles.size == 0:
            raise LabsimError("no packet was created in the measurement window [warmup, cycles): there is no "
                              "latency to summarize; raise cycles, lower warmup or raise the load")
        if self.saturated:
            raise LabsimError(f"the network is saturated at load {self.offered_load:g}: only "
                              f"{self.delivered_fraction:.1%} of the measured packets arrived, so the tail is "
                              "unbounded; lower the load or raise max_cycles")
        return percentiles(self.latency_cycles)


def _traffic_for(traffic_, cfg: MeshConfig) -> Traffic:
    """A Traffic (validated when built) whose node ids fit this mesh."""
    if not isinstance(traffic_, Traffic):
        raise LabsimError(f"traffic_ must be None or a labsim.mesh.Traffic, got {type(traffic_).__name__}")
    if len(traffic_) and max(int(traffic_.src.max()), int(traffic_.dst.max())) >= cfg.nodes:
        raise LabsimError(f"traffic_ addresses node {max(int(traffic_.src.max()), int(traffic_.dst.max()))}; a "
                          f"{cfg.width} × {cfg.height} mesh has nodes 0 … {cfg.nodes - 1}")
    return traffic_


def _window(tr: Traffic, warmup: int):
    warmup = check_int("warmup", warmup, lo=0, hi=tr.cycles - 1)
    return (tr.created >= warmup)


def _accepted(tr: Traffic, warmup: int, done_at: np.ndarray, nodes: int) -> float:
    """Packets (any) completing inside [warmup, cycles), per node per cycle."""
    n_done = np.count_nonzero((done_at >= warmup) & (done_at < tr.cycles))
    return n_done / (nodes * (tr.cycles - warmup))


def simulate(load: float, config: MeshConfig | None = None, *, cycles: int = 4000, warmup: int = 1000, seed: int = 0,
             drain_cycles: int = 20_000, traffic_: Traffic | None = None) -> MeshRun:
    """The dynamic mesh under Bernoulli ``load``. Packets created in ``[warmup, cycles)`` are measured; the run
    continues up to ``drain_cycles`` more cycles for them to arrive (beyond that the run counts as saturated)."""
    cfg = _config(config)
    tr = traffic(load, cfg, cycles=cycles, seed=seed) if traffic_ is None else _traffic_for(traffic_, cfg)
    drain = check_int("drain_cycles", drain_cycles, lo=0, hi=10_000_000)
    if (tr.cycles + drain) * cfg.nodes > MAX_ROUTER_CYCLES:
        raise LabsimError(f"(cycles + drain_cycles) × nodes = ({tr.cycles:,} + {drain:,}) × {cfg.nodes} is out of "
                          f"range; allowed ≤ {MAX_ROUTER_CYCLES:,} router-cycles — use fewer cycles, a shorter drain "
                          "or a smaller mesh")
    arrived = np.full(len(tr), -1, np.int64)
    if len(tr):
        _dynamic(tr.src, tr.dst, tr.created, cfg.width, cfg.height, cfg.hop_cycles, cfg.buffer_flits,
                 tr.cycles + drain, arrived)
    m = _window(tr, warmup)
    ok = m & (arrived >= 0)
    h = hops(tr.src[ok], tr.dst[ok], cfg) if ok.any() else np.zeros(0, np.int64)
    lat = (arrived[ok] - tr.created[ok]).astype(np.int64)
    frac = float(ok.sum() / m.sum()) if m.any() else 1.0
    return MeshRun(mode="dynamic", latency_cycles=lat, hops=np.asarray(h, np.int64),
                   network_cycles=lat.copy(), offered_load=tr.load, delivered_fraction=frac,
                   accepted_load=_accepted(tr, warmup, arrived, cfg.nodes), config=cfg)


def schedule_static(load: float, config: MeshConfig | None = None, *, cycles: int = 4000, warmup: int = 1000,
                    seed: int = 0, traffic_: Traffic | None = None) -> MeshRun:
    """The same traffic as :func:`simulate` (same arguments → same packets), scheduled at compile time.

    ``latency_cycles`` = (departure − creation) + h × hop: the wait for a conflict-free slot is fixed by the
    compiler before the run; ``network_cycles`` = h × hop exactly, for every packet."""
    cfg = _config(config)
    tr = traffic(load, cfg, cycles=cycles, seed=seed) if traffic_ is None else _traffic_for(traffic_, cfg)
    depart = np.full(len(tr), -1, np.int64)
    max_h = cfg.width + cfg.height
    if max_h + 1 > 256:  # pragma: no cover - MeshConfig caps width/height at 64
        raise LabsimError("mesh too large for the static scheduler's path buffer")
    # room for planned waits: a packet not placed by then counts as undeliverable (the schedule is saturated)
    horizon = tr.cycles + (max_h + 1) * cfg.hop_cycles + max(2_000, tr.cycles)
    if len(tr):
        if horizon * cfg.nodes * 5 > 100_000_000:
            raise LabsimError(f"the static schedule's reservation table would need {horizon * cfg.nodes * 5:,} "
                              "entries; allowed ≤ 100,000,000 — use fewer cycles or a smaller mesh")
        _static(tr.src, tr.dst, tr.created, cfg.width, cfg.nodes, cfg.hop_cycles, horizon, depart,
                MAX_STATIC_PROBES)
    m = _window(tr, warmup)
    ok = m & (depart >= 0)
    h = np.asarray(hops(tr.src[ok], tr.dst[ok], cfg) if ok.any() else np.zeros(0, np.int64), np.int64)
    net = h * cfg.hop_cycles
    lat = (depart[ok] - tr.created[ok]) + net
    frac = float(ok.sum() / m.sum()) if m.any() else 1.0
    h_all = np.asarray(hops(tr.src, tr.dst, cfg), np.int64) if len(tr) else np.zeros(0, np.int64)
    done_at = np.where(depart >= 0, depart + h_all * cfg.hop_cycles, -1)
    return MeshRun(mode="static", latency_cycles=lat.astype(np.int64), hops=h, network_cycles=net.astype(np.int64),
                   offered_load=tr.load, delivered_fraction=frac,
                   accepted_load=_accepted(tr, warmup, done_at, cfg.nodes), config=cfg)


def saturation_load_estimate(config: MeshConfig | None = None) -> float:
    """Bisection bound for uniform random traffic with dimension-order routing: 4 / k packets per node per cycle
    on a k × k mesh (each bisection link carries one flit per cycle each way; Dally & Towles ch. 3)."""
    cfg = _config(config)
    k = max(cfg.width, cfg.height)
    return min(1.0, 4.0 / k)


def latency_vs_load(loads, config: MeshConfig | None = None, *, cycles: int = 4000, warmup: int = 1000,
                    seed: int = 0) -> dict:
    """P50/P99/P99.9 latency (cycles) of the dynamic mesh and of the static schedule at each load, on identical
    traffic. A saturated run has no percentiles (its tail is unbounded): those entries are masked
    (``numpy.ma``; plots leave a gap, printing shows ``--``) and ``saturated`` / ``static_saturated`` is True."""
    cfg = _config(config)
    loads = np.atleast_1d(check_array("loads", loads, lo=0.0, lo_open=True, hi=1.0))
    if loads.ndim != 1 or loads.size == 0 or loads.size > MAX_LOADS:
        raise LabsimError(f"loads must hold 1 … {MAX_LOADS} loads (packets per node per cycle) in a 1-D list, got "
                          f"shape {loads.shape}")
    cycles = check_int("cycles", cycles, lo=1, hi=2_000_000)
    check_int("warmup", warmup, lo=0, hi=cycles - 1)
    seed = check_int("seed", seed, lo=0)
    work = loads.size * (cycles + 20_000) * cfg.nodes       # each load: a dynamic run with the default drain
    if work > 5 * MAX_ROUTER_CYCLES:
        raise LabsimError(f"loads × (cycles + 20,000 drain) × nodes = {work:,} router-cycles; allowed ≤ "
                          f"{5 * MAX_ROUTER_CYCLES:,} — fewer loads, fewer cycles or a smaller mesh")
    out = {k: np.full(loads.size, np.nan) for k in ("dyn_p50", "dyn_p99", "dyn_p999", "dyn_net_p99",
                                                     "static_p50", "static_p99", "static_p999",
                                                     "static_net_p99", "static_net_max_excess")}
    out["load"] = loads
    out["saturated"] = np.zeros(loads.size, bool)
    out["static_saturated"] = np.zeros(loads.size, bool)
    for i, ld in enumerate(loads):
        tr = traffic(float(ld), cfg, cycles=cycles, seed=seed)
        d = simulate(float(ld), cfg, warmup=warmup, traffic_=tr)
        s = schedule_static(float(ld), cfg, warmup=warmup, traffic_=tr)
        if d.saturated or d.latency_cycles.size == 0:
            out["saturated"][i] = True
        else:
            q = d.percentiles()
            out["dyn_p50"][i], out["dyn_p99"][i], out["dyn_p999"][i] = q["p50"], q["p99"], q["p99.9"]
            out["dyn_net_p99"][i] = np.percentile(d.queueing_cycles, 99)
        if s.saturated or s.latency_cycles.size == 0:
            out["static_saturated"][i] = True
        else:
            q = s.percentiles()
            out["static_p50"][i], out["static_p99"][i], out["static_p999"][i] = q["p50"], q["p99"], q["p99.9"]
            out["static_net_p99"][i] = np.percentile(s.network_cycles - s.hops * cfg.hop_cycles, 99)
            out["static_net_max_excess"][i] = float(np.max(s.network_cycles - s.hops * cfg.hop_cycles))
    for k, v in out.items():
        if v.dtype.kind == "f" and k != "load":
            out[k] = np.ma.masked_invalid(v)
    return out


def _warmup() -> None:
    """Compile (or load from the cache) both kernels on a tiny mesh."""
    cfg = MeshConfig(width=3, height=2)
    tr = traffic(0.2, cfg, cycles=30, seed=0)
    simulate(0.2, cfg, warmup=0, traffic_=tr)
    schedule_static(0.2, cfg, warmup=0, traffic_=tr)
