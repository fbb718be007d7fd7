"""A weight-stationary systolic array, cycle by cycle (TPU v1 style; chapter 7).

Processing element PE(i, j) of an R × C array holds one weight W[i, j] of the current tile. Activations enter
row i from the left, skewed by i cycles, and move one PE to the right per cycle; partial sums move one PE down per
cycle and leave the bottom of column j as one output element (Kung 1982; TPU v1, Jouppi et al. 2017 §2 and Fig 4:
"data flows in from the left, and the weights are loaded from the top"). Vector b of a tile reaches PE(i, j) on
cycle ``start + b + i + j``, so a single vector needs ``R + C − 1`` cycles to come out complete (the fill
latency) and B vectors need ``B + R + C − 2``.

A matrix larger than the array is cut into R × C weight tiles. Each tile's bytes come from the weight memory at
``weight_bytes_per_cycle`` (TPU v1: 34 GB/s of DDR3 at 700 MHz ≈ 48.6 B/cycle), wait in a FIFO of
``fifo_tiles`` tiles, and take ``weight_shift_cycles`` to shift into the array's second (shadow) weight buffer;
a tile's wavefront may start once its weights are in place and the previous tile's B vectors have entered
(double buffering, §2). :func:`tile_schedule` is that recurrence; :func:`simulate` runs it cycle by cycle in a
numba kernel (registers of every PE, every cycle) and the tests check both agree exactly.

Public: :func:`simulate` → :class:`SystolicRun`, :func:`tile_schedule`, :func:`matmul_cycles`,
:func:`utilization_vs_batch`, :func:`tpu_v1_array`, :func:`mlp_batch_latency`, :func:`tsp_gemv`. Design:
``docs/design/systolic.md``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numba
import numpy as np

from . import catalog
from .errors import LabsimError, check_array, check_int, check_number, check_positive

__all__ = ["SystolicArray", "SystolicRun", "simulate", "tile_schedule", "matmul_cycles", "utilization_vs_batch",
           "tpu_v1_array", "mlp_batch_latency", "tsp_gemv", "TRACE_LIMIT"]

#: largest cycles × rows × cols for which :func:`simulate` keeps the per-PE space-time trace (``record=True``).
TRACE_LIMIT = 4_000_000


@dataclass(frozen=True)
class SystolicArray:
    """Geometry and weight feed of one array. Defaults: the TPU v1 (:func:`tpu_v1_array`) but 8 × 8."""
    rows: int = 8
    cols: int = 8
    clock_hz: float = 700e6
    weight_shift_cycles: int | None = None        #: None → rows (one row per cycle from the top)
    weight_bytes_per_cycle: float = math.inf      #: weight-memory bandwidth ÷ clock (inf = weights already on chip)
    fifo_tiles: int = 4                           #: weight FIFO depth in tiles (TPU v1: four, §2)
    bytes_per_weight: int = 1                     #: int8 weights

    def __post_init__(self):
        check_int("rows", self.rows, lo=1, hi=4096)
        check_int("cols", self.cols, lo=1, hi=4096)
        check_positive("clock_hz", self.clock_hz, unit="Hz")
        if self.weight_shift_cycles is not None:
            check_int("weight_shift_cycles", self.weight_shift_cycles, lo=0, hi=10**6)
        if not (isinstance(self.weight_bytes_per_cycle, (int, float)) and self.weight_bytes_per_cycle == math.inf):
            check_number("weight_bytes_per_cycle", self.weight_bytes_per_cycle, lo=0.0, lo_open=True,
                          unit="B/cycle (or math.inf for weights already on chip)")
        check_int("fifo_tiles", self.fifo_tiles, lo=1, hi=1024)
        check_int("bytes_per_weight", self.bytes_per_weight, lo=1, hi=8)

    @property
    def shift_cycles(self) -> int:
        return self.rows if self.weight_shift_cycles is None else int(self.weight_shift_cycles)

    @property
    def tile_fetch_cycles(self) -> float:
        """Cycles to bring one R × C weight tile from the weight memory (0 when the weights are on chip)."""
        if math.isinf(self.weight_bytes_per_cycle):
            return 0.0
        return self.rows * self.cols * self.bytes_per_weight / self.weight_bytes_per_cycle

    @property
    def peak_macs_per_s(self) -> float:
        return self.rows * self.cols * self.clock_hz


def tpu_v1_array(*, weights_on_chip: bool = False) -> SystolicArray:
    """The TPU v1 matrix unit from the catalog: 256 × 256 at 700 MHz, 256-cycle weight shift, 4-tile FIFO,
    weights streamed from 34 GB/s of DDR3 (``weights_on_chip=True``: as if every weight were already on chip)."""
    c = catalog.chip("google-tpu-v1")
    bpc = math.inf if weights_on_chip else c.memory_bandwidth_bytes_per_s / c.clock_hz
    return SystolicArray(rows=int(c.systolic_rows), cols=int(c.systolic_cols), clock_hz=c.clock_hz,
                         weight_shift_cycles=int(c.weight_shift_cycles), weight_bytes_per_cycle=bpc,
                         fifo_tiles=int(c.weight_fifo_tiles))


def _array(array) -> SystolicArray:
    if array is None:
        return SystolicArray()
    if not isinstance(array, SystolicArray):
        raise LabsimError(f"array must be a labsim.systolic.SystolicArray, got {type(array).__name__}")
    return array


# ----------------------------------------------------------------------------------------------------------
# the schedule (closed-form recurrence) and the cycle-level kernel
# ----------------------------------------------------------------------------------------------------------

def tile_schedule(n_tiles: int, batch: int, array: SystolicArray | None = None) -> dict:
    """When each weight tile is fetched, shifted in and starts its wavefront, and the total cycle count.

    Recurrence (all in cycles): tile k's bytes finish arriving at ``fetch_end[k] = fetch_start[k] + F`` (F =
    :attr:`SystolicArray.tile_fetch_cycles`), fetching is sequential and may run at most ``fifo_tiles`` tiles
    ahead of the shift-in; the shift into the shadow buffer starts at ``max(fetch_end[k], start[k-1])`` and takes
    ``S`` cycles; the wavefront starts at ``start[k] = max(shift_end[k], start[k-1] + batch)``. The last output
    leaves at ``start[-1] + batch + R + C − 3``; ``cycles`` counts cycles 0 … that one.
    """
    n = check_int("n_tiles", n_tiles, lo=1, hi=10**7)
    b = check_int("batch", batch, lo=1, hi=10**7)
    a = _array(array)
    F, S, depth = a.tile_fetch_cycles, a.shift_cycles, a.fifo_tiles
    fetch_end = np.empty(n)
    shift_start = np.empty(n)
    start = np.empty(n, dtype=np.int64)
    prev_fetch_end = 0.0
    for k in range(n):
        free = shift_start[k - depth] if k >= depth else 0.0          # a FIFO slot frees when its tile shifts in
        fs = max(prev_fetch_end, free)
        fetch_end[k] = fs + F
        prev_fetch_end = fetch_end[k]
        shift_start[k] = max(math.ceil(fetch_end[k] - 1e-9), start[k - 1] if k else 0)
        s = shift_start[k] + S
        if k:
            s = max(s, start[k - 1] + b)
        start[k] = int(s)
    cycles = int(start[-1]) + b + a.rows + a.cols - 2
    return {"start": start, "shift_start": shift_start.astype(np.int64), "fetch_end": fetch_end, "cycles": cycles,
            "batch": b, "n_tiles": n}


@numba.njit(cache=True)
def _run(W, A, start, R, C, out, out_cycle, busy, useful_w, trace, record):  # pragma: no cover - compiled
    """Cycle loop. W: (T, R, C) weights; A: (T, B, R) activations; start[k]: cycle tile k's vector 0 enters PE(0,0).

    Registers per PE: activation value / batch index / tile (−1 = empty) latched from the left neighbour, and a
    partial sum latched from the PE above. out[k, b, j] collects what leaves the bottom of column j, on cycle
    out_cycle[k, b, j]. Runs ``busy.shape[0]`` cycles (the caller gives a margin past the predicted end).
    """
    T, B = A.shape[0], A.shape[1]
    n_cycles = busy.shape[0]
    a_val = np.zeros((R, C), np.int64)
    a_b = np.full((R, C), -1, np.int64)
    a_t = np.full((R, C), -1, np.int64)
    p_val = np.zeros((R, C), np.int64)
    n_a_val = np.zeros((R, C), np.int64)
    n_a_b = np.full((R, C), -1, np.int64)
    n_a_t = np.full((R, C), -1, np.int64)
    n_p_val = np.zeros((R, C), np.int64)
    useful = 0
    for t in range(n_cycles):
        # 1. new activation registers: column 0 from the skewed input, column j from column j-1 of last cycle
        for i in range(R):
            # which (tile, vector) enters row i on cycle t: start[k] + b + i == t
            n_a_b[i, 0] = -1
            n_a_t[i, 0] = -1
            for k in range(T):
                b = t - i - start[k]
                if 0 <= b < B:
                    n_a_val[i, 0] = A[k, b, i]
                    n_a_b[i, 0] = b
                    n_a_t[i, 0] = k
                    break
            for j in range(1, C):
                n_a_val[i, j] = a_val[i, j - 1]
                n_a_b[i, j] = a_b[i, j - 1]
                n_a_t[i, j] = a_t[i, j - 1]
        # 2. every PE with an activation multiplies by its stationary weight and adds the partial sum from above
        count = 0
        for i in range(R):
            for j in range(C):
                k = n_a_t[i, j]
                if k < 0:
                    n_p_val[i, j] = 0
                    if record:
                        trace[t, i, j] = -1
                    continue
                above = p_val[i - 1, j] if i > 0 else 0
                w = W[k, i, j]
                n_p_val[i, j] = above + w * n_a_val[i, j]
                count += 1
                if useful_w[k, i, j]:
                    useful += 1
                if record:
                    trace[t, i, j] = n_a_b[i, j] + B * k
        busy[t] = count
        # 3. the bottom row's partial sums are finished outputs
        for j in range(C):
            k = n_a_t[R - 1, j]
            if k >= 0:
                out[k, n_a_b[R - 1, j], j] = n_p_val[R - 1, j]
                out_cycle[k, n_a_b[R - 1, j], j] = t
        # 4. latch
        for i in range(R):
            for j in range(C):
                a_val[i, j] = n_a_val[i, j]
                a_b[i, j] = n_a_b[i, j]
                a_t[i, j] = n_a_t[i, j]
                p_val[i, j] = n_p_val[i, j]
    return useful


@dataclass(frozen=True)
class SystolicRun:
    """Result of :func:`simulate`. ``outputs`` is exact (int64); cycles count from cycle 0 (first byte fetched)."""
    outputs: np.ndarray            #: (batch, N) = activations @ weights, accumulated over the K tiles
    cycles: int                    #: last output leaves on cycle ``cycles − 1``
    busy_per_cycle: np.ndarray     #: PEs doing a MAC on each cycle
    tile_starts: np.ndarray        #: cycle each tile's vector 0 enters PE(0, 0)
    first_output_cycle: int        #: cycle the first complete output vector (tile 0, vector 0) has left the array
    rows: int
    cols: int
    batch: int
    n_tiles: int
    useful_macs: int               #: MACs with a real (unpadded) weight
    clock_hz: float
    trace: np.ndarray | None = field(default=None, repr=False)   #: (cycles, R, C): vector id at each PE or −1

    @property
    def seconds(self) -> float:
        return self.cycles / self.clock_hz

    @property
    def utilization(self) -> float:
        """Useful MACs ÷ (R · C · cycles): the fraction of the array's peak actually used."""
        return self.useful_macs / (self.rows * self.cols * self.cycles)

    @property
    def fill_cycles(self) -> int:
        """Cycles from the first wavefront start until the first complete output vector has left (R + C − 1)."""
        return self.first_output_cycle - int(self.tile_starts[0]) + 1


def _int8_matrix(name, x, ndim):
    arr = np.asarray(x)
    if arr.ndim != ndim or arr.size == 0 or not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool):
        raise LabsimError(f"{name} must be a non-empty {ndim}-D integer array, got shape {arr.shape} and dtype "
                          f"{arr.dtype}")
    lo, hi = int(arr.min()), int(arr.max())
    if lo < -128 or hi > 127:
        raise LabsimError(f"{name} holds {lo if lo < -128 else hi}, out of range; allowed: int8 values -128 … 127")
    return arr.astype(np.int64)


def simulate(weights, activations, array: SystolicArray | None = None, *, record: bool = False) -> SystolicRun:
    """Multiply ``activations`` (batch × K, int8) by ``weights`` (K × N, int8) on ``array``, cycle by cycle.

    The weights are cut into ⌈K/R⌉ · ⌈N/C⌉ tiles (zero-padded), streamed tile by tile as in
    :func:`tile_schedule`; every tile sees the whole batch. Partial outputs of the K-tiles of one column block
    are summed exactly (the TPU's accumulators). ``record=True`` keeps the per-PE space-time trace (for plots;
    at most :data:`TRACE_LIMIT` cycles × PEs).
    """
    a = _array(array)
    W = _int8_matrix("weights", weights, 2)
    X = _int8_matrix("activations", activations, 2)
    K, N = W.shape
    if X.shape[1] != K:
        raise LabsimError(f"activations have {X.shape[1]} columns but weights have {K} rows; shapes must be "
                          f"(batch, K) and (K, N)")
    B = check_int("batch", X.shape[0], lo=1, hi=100_000)
    R, C = a.rows, a.cols
    kt, nt = -(-K // R), -(-N // C)
    T = kt * nt
    Wt = np.zeros((T, R, C), np.int64)
    useful_w = np.zeros((T, R, C), np.bool_)
    At = np.zeros((T, B, R), np.int64)
    for q in range(kt):                 # tile order: K-block fastest, so one output block finishes at a time
        for p in range(nt):
            k = p * kt + q
            blk = W[q * R:(q + 1) * R, p * C:(p + 1) * C]
            Wt[k, :blk.shape[0], :blk.shape[1]] = blk
            useful_w[k, :blk.shape[0], :blk.shape[1]] = True
            xs = X[:, q * R:(q + 1) * R]
            At[k, :, :xs.shape[1]] = xs
    sched = tile_schedule(T, B, a)
    horizon = sched["cycles"] + 2           # run past the predicted end: the kernel must have finished by then
    if record and horizon * R * C > TRACE_LIMIT:
        raise LabsimError(f"record=True needs cycles × rows × cols ≤ {TRACE_LIMIT:,}; this run has "
                          f"{horizon:,} × {R} × {C}; use a smaller array or batch, or record=False")
    out = np.zeros((T, B, C), np.int64)
    out_cycle = np.full((T, B, C), -1, np.int64)
    busy = np.zeros(horizon, np.int64)
    trace = np.full((horizon, R, C), -1, np.int32) if record else np.zeros((1, 1, 1), np.int32)
    useful = _run(Wt, At, sched["start"], R, C, out, out_cycle, busy, useful_w, trace, record)
    if out_cycle.min() < 0:   # pragma: no cover - would be a kernel bug
        raise LabsimError("internal error: the systolic kernel lost an output")
    cycles = int(out_cycle.max()) + 1       # measured, not predicted
    Y = np.zeros((B, nt * C), np.int64)
    for q in range(kt):
        for p in range(nt):
            Y[:, p * C:(p + 1) * C] += out[p * kt + q]
    first = int(out_cycle[0, 0].max())
    return SystolicRun(outputs=Y[:, :N], cycles=cycles, busy_per_cycle=busy[:cycles], tile_starts=sched["start"],
                       first_output_cycle=first, rows=R, cols=C, batch=B, n_tiles=T, useful_macs=int(useful),
                       clock_hz=a.clock_hz, trace=trace[:cycles] if record else None)


# ----------------------------------------------------------------------------------------------------------
# full-size numbers from the schedule (tests show the schedule = the cycle simulation)
# ----------------------------------------------------------------------------------------------------------

def matmul_cycles(k: int, n: int, batch: int, array: SystolicArray | None = None) -> dict:
    """Cycles, seconds and utilization of a (batch × k) @ (k × n) product on ``array`` — :func:`tile_schedule`
    for the ⌈k/R⌉·⌈n/C⌉ tiles, equal to :func:`simulate` on any size it can run."""
    a = _array(array)
    k = check_int("k", k, lo=1, hi=10**8)
    n = check_int("n", n, lo=1, hi=10**8)
    tiles = -(-k // a.rows) * -(-n // a.cols)
    s = tile_schedule(tiles, batch, a)
    macs = float(batch) * k * n
    return {"cycles": s["cycles"], "seconds": s["cycles"] / a.clock_hz, "tiles": tiles, "macs": macs,
            "utilization": macs / (a.rows * a.cols * s["cycles"]), "schedule": s}


def utilization_vs_batch(k: int, n: int, batches, array: SystolicArray | None = None) -> dict:
    """:func:`matmul_cycles` over an array of batch sizes → arrays ``batch, cycles, seconds, utilization,
    inferences_per_s`` (per layer pass)."""
    b = check_array("batches", batches, lo=1)
    if np.any(b != np.floor(b)):
        raise LabsimError("batches must hold whole numbers of vectors (≥ 1)")
    rows = [matmul_cycles(k, n, int(x), array) for x in np.atleast_1d(b)]
    cyc = np.array([r["cycles"] for r in rows], dtype=np.int64)
    sec = np.array([r["seconds"] for r in rows])
    return {"batch": np.atleast_1d(b).astype(np.int64), "cycles": cyc, "seconds": sec,
            "utilization": np.array([r["utilization"] for r in rows]), "inferences_per_s": np.atleast_1d(b) / sec}


def mlp_batch_latency(layer_shapes, batches, array: SystolicArray | None = None) -> dict:
    """Device time of one batch through an MLP (layers run one after another, each its own tile stream).

    ``layer_shapes`` = [(k, n), …]. Returns arrays over ``batches``: ``seconds`` (device time per batch),
    ``inferences_per_s`` (batch ÷ seconds) and ``utilization``. Host time, PCIe and queueing are *not* included
    (the TPU paper's 7 ms includes them, §4).
    """
    shapes = [(check_int("k", k, lo=1), check_int("n", n, lo=1)) for k, n in layer_shapes]
    if not shapes:
        raise LabsimError("layer_shapes must list at least one (k, n) layer")
    a = _array(array)
    b = np.atleast_1d(check_array("batches", batches, lo=1)).astype(np.int64)
    sec = np.zeros(b.shape)
    macs = np.zeros(b.shape)
    for i, x in enumerate(b):
        for k, n in shapes:
            r = matmul_cycles(k, n, int(x), a)
            sec[i] += r["seconds"]
            macs[i] += r["macs"]
    return {"batch": b, "seconds": sec, "inferences_per_s": b / sec,
            "utilization": macs / (sec * a.peak_macs_per_s)}


# ----------------------------------------------------------------------------------------------------------
# the same matrix-vector work on the chapter-1 TSP simulator
# ----------------------------------------------------------------------------------------------------------

def tsp_gemv(weights, x, geometry=None) -> dict:
    """``weights @ x`` on the chapter-1 TSP (labsim.tsp public API): install W into MXM_E0 while x is read from
    SRAM, one matvec pass, result written back to SRAM. Returns ``cycles`` (incl. the superlane stagger),
    ``seconds``, ``output`` (int64) and ``ok`` (equal to NumPy). W must fit one MXM plane (≤ vector_len²)."""
    from .tsp import Geometry, Program
    from .tsp import simulate as tsp_simulate
    g = Geometry.faithful() if geometry is None else geometry
    W = _int8_matrix("weights", weights, 2)
    v = _int8_matrix("x", np.atleast_1d(x), 1)
    n = g.vector_len
    if W.shape[0] > n or W.shape[1] > n or W.shape[1] != v.size:
        raise LabsimError(f"weights {W.shape} and x {v.shape} must satisfy rows, cols ≤ {n} (one MXM plane of "
                          f"{g.name!r}) and cols = len(x)")
    p = Program(g, "gemv")
    inst = p.mxm_install(0, "MXM_E0", W.astype(np.int8), label="install W")
    t_read = max(0, p.ready_cycle(inst) - g.delay("MEM_READ") - g.hop_cycles("MEM_W1", "MXM_E0"))
    rx = p.mem_read(t_read, "MEM_W1", 0, 0, "E0", label="x")
    mv = p.mxm_matvec(p.arrival(rx, "MXM_E0"), "MXM_E0", "E0", "W0", label="W·x")
    p.mem_write(p.arrival(mv, "MEM_W1"), "MEM_W1", 1, 0, "W0", label="y")
    xv = np.zeros(n, np.int8)
    xv[:v.size] = v
    res = tsp_simulate(p, g, memory={("MEM_W1", 0, 0): xv})
    y = res.read("MEM_W1", 1, 0).astype(np.int64)[:W.shape[0]]
    return {"cycles": res.cycles, "seconds": res.cycles / g.clock_hz, "output": y,
            "ok": bool(np.array_equal(y, W @ v)), "clock_hz": g.clock_hz}


def _warmup() -> None:
    """Compile (or load from the cache) the cycle kernel on a tiny product."""
    simulate(np.ones((3, 2), np.int8), np.ones((2, 3), np.int8), SystolicArray(rows=2, cols=2), record=True)
