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
from .errors import LabsimError, check_array, check_bool, check_int, check_number
from .limits import MAX_BATCH, MAX_CLOCK_HZ
from .tsp import Geometry, Program
from .tsp import simulate as tsp_simulate

__all__ = ["SystolicArray", "SystolicRun", "simulate", "tile_schedule", "matmul_cycles", "utilization_vs_batch",
           "tpu_v1_array", "mlp_batch_latency", "tsp_gemv", "TRACE_LIMIT"]

#: largest cycles × rows × cols for which :func:`simulate` keeps the per-PE space-time trace (``record=True``).
TRACE_LIMIT = 4_000_000
#: largest number of weight tiles one schedule walks (a Python recurrence: about a second per million tiles).
MAX_TILES = 1_000_000
#: largest work of one cycle-level run, cycles × rows × (cols + tiles) PE steps (a few seconds compiled; the
#: notebook's largest run, one 256 × 256 tile at batch 200, is ≈ 1.5 × 10⁸).
MAX_SIM_WORK = 500_000_000
#: largest tile arrays one run holds (weights, activations, outputs: tiles × max(R·C, B·R, B·C) int64 values).
MAX_SIM_CELLS = 50_000_000
#: largest weight-memory bandwidth, bytes per cycle (far beyond any memory; ``None`` means weights on chip).
MAX_WEIGHT_BYTES_PER_CYCLE = 1e9
#: smallest weight-memory bandwidth, bytes per cycle (one byte every 1,000 cycles).
MIN_WEIGHT_BYTES_PER_CYCLE = 1e-3
#: most (batch, layer) products one sweep times.
MAX_SWEEP_WORK = 100_000


@dataclass(frozen=True)
class SystolicArray:
    """Geometry and weight feed of one array. Defaults: the TPU v1 (:func:`tpu_v1_array`) but 8 × 8."""
    rows: int = 8
    cols: int = 8
    clock_hz: float = 700e6
    weight_shift_cycles: int | None = None        #: None → rows (one row per cycle from the top)
    weight_bytes_per_cycle: float | None = None   #: weight-memory bandwidth ÷ clock (None = weights already on chip)
    fifo_tiles: int = 4                           #: weight FIFO depth in tiles (TPU v1: four, §2)
    bytes_per_weight: int = 1                     #: int8 weights

    def __post_init__(self):
        # normalized in place (the dataclass is frozen): 8.0 → 8, so that equal arrays compare and hash equal
        set_ = object.__setattr__
        set_(self, "rows", check_int("rows", self.rows, lo=1, hi=4096))
        set_(self, "cols", check_int("cols", self.cols, lo=1, hi=4096))
        set_(self, "clock_hz", check_number("clock_hz", self.clock_hz, lo=1.0, hi=MAX_CLOCK_HZ, unit="Hz"))
        if self.weight_shift_cycles is not None:
            set_(self, "weight_shift_cycles", check_int("weight_shift_cycles", self.weight_shift_cycles, lo=0,
                                                        hi=10**6))
        if self.weight_bytes_per_cycle is not None:
            bpc = self.weight_bytes_per_cycle
            if isinstance(bpc, (float, np.floating)) and math.isinf(bpc):
                raise LabsimError(f"weight_bytes_per_cycle = {float(bpc):g} is not a "
                                  "bandwidth; for weights already on chip pass weight_bytes_per_cycle=None; "
                                  f"allowed: None or [{MIN_WEIGHT_BYTES_PER_CYCLE:g}, "
                                  f"{MAX_WEIGHT_BYTES_PER_CYCLE:g}] B/cycle")
            set_(self, "weight_bytes_per_cycle", check_number(
                "weight_bytes_per_cycle", self.weight_bytes_per_cycle, lo=MIN_WEIGHT_BYTES_PER_CYCLE,
                hi=MAX_WEIGHT_BYTES_PER_CYCLE, unit="B/cycle (or None for weights already on chip)"))
        set_(self, "fifo_tiles", check_int("fifo_tiles", self.fifo_tiles, lo=1, hi=1024))
        set_(self, "bytes_per_weight", check_int("bytes_per_weight", self.bytes_per_weight, lo=1, hi=8))

    @property
    def shift_cycles(self) -> int:
        return self.rows if self.weight_shift_cycles is None else int(self.weight_shift_cycles)

    @property
    def weights_on_chip(self) -> bool:
        """True when no weight memory feeds the array (``weight_bytes_per_cycle=None``)."""
        return self.weight_bytes_per_cycle is None

    @property
    def tile_fetch_cycles(self) -> float:
        """Cycles to bring one R × C weight tile from the weight memory (0 when the weights are on chip)."""
        if self.weight_bytes_per_cycle is None:
            return 0.0
        return self.rows * self.cols * self.bytes_per_weight / self.weight_bytes_per_cycle

    @property
    def peak_macs_per_s(self) -> float:
        return self.rows * self.cols * self.clock_hz


def tpu_v1_array(*, weights_on_chip: bool = False) -> SystolicArray:
    """The TPU v1 matrix unit from the catalog: 256 × 256 at 700 MHz, 256-cycle weight shift, 4-tile FIFO,
    weights streamed from 34 GB/s of DDR3 (``weights_on_chip=True``: as if every weight were already on chip)."""
    weights_on_chip = check_bool("weights_on_chip", weights_on_chip)
    c = catalog.chip("google-tpu-v1")
    bpc = None if weights_on_chip else c.memory_bandwidth_bytes_per_s / c.clock_hz
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
    n = check_int("n_tiles", n_tiles, lo=1, hi=MAX_TILES)
    b = check_int("batch", batch, lo=1, hi=MAX_BATCH)
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
    record = check_bool("record", record)
    W = _int8_matrix("weights", weights, 2)
    X = _int8_matrix("activations", activations, 2)
    K, N = W.shape
    if X.shape[1] != K:
        raise LabsimError(f"activations have {X.shape[1]} columns but weights have {K} rows; shapes must be "
                          f"(batch, K) and (K, N)")
    B = X.shape[0]
    if B > 100_000:
        raise LabsimError(f"activations hold a batch of {B:,} vectors; allowed: at most 100,000")
    R, C = a.rows, a.cols
    kt, nt = -(-K // R), -(-N // C)
    T = kt * nt
    # the run takes at least T·B cycles: refuse a run that is surely too big before walking its schedule
    if T > MAX_TILES or T * B * R * (C + T) > MAX_SIM_WORK:
        raise LabsimError(f"weights {W.shape} make {T:,} tiles of {R} × {C} for a batch of {B}: more than "
                          f"{MAX_SIM_WORK:,} PE steps; use smaller weights or activations, or "
                          "systolic.matmul_cycles, which gives the same cycle count from the schedule")
    sched = tile_schedule(T, B, a)
    horizon = sched["cycles"] + 2           # run past the predicted end: the kernel must have finished by then
    work = horizon * R * (C + T)
    cells = T * max(R * C, B * R, B * C)
    if cells > MAX_SIM_CELLS:
        raise LabsimError(f"this run would hold {cells:,} register values per tile array ({T:,} tiles × batch {B} × "
                          f"{R} × {C}); allowed: at most {MAX_SIM_CELLS:,} — use smaller weights or activations, or "
                          "systolic.matmul_cycles, which gives the same cycle count from the schedule")
    if work > MAX_SIM_WORK:
        raise LabsimError(f"this run needs {horizon:,} cycles × {R} rows × ({C} cols + {T:,} tiles) = {work:,.0f} PE "
                          f"steps; allowed: at most {MAX_SIM_WORK:,} — use smaller weights, a smaller batch (the "
                          "activations) or systolic.matmul_cycles, which gives the same cycle count from the schedule")
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
    _tiles_checked("k, n", tiles, 1)
    s = tile_schedule(tiles, batch, a)
    macs = float(batch) * k * n
    return {"cycles": s["cycles"], "seconds": s["cycles"] / a.clock_hz, "tiles": tiles, "macs": macs,
            "utilization": macs / (a.rows * a.cols * s["cycles"]), "schedule": s}


def _batches(batches) -> np.ndarray:
    """A batch size or a 1-D list of them: whole numbers in [1, MAX_BATCH], at most MAX_SWEEP_WORK of them."""
    b = np.atleast_1d(check_array("batches", batches, lo=1, hi=MAX_BATCH))
    if b.ndim != 1 or b.size == 0:
        raise LabsimError(f"batches must be one batch size or a non-empty 1-D list of them, got shape {b.shape}")
    bad = np.flatnonzero(b != np.floor(b))
    if bad.size:
        raise LabsimError(f"batches[{bad[0]}] = {b[bad[0]]:g} is not a whole number of vectors; allowed: integers "
                          f"in [1, {MAX_BATCH:,}]")
    if b.size > MAX_SWEEP_WORK:
        raise LabsimError(f"batches holds {b.size:,} values; allowed: at most {MAX_SWEEP_WORK:,}")
    return b.astype(np.int64)


def _layer_shapes(layer_shapes) -> list[tuple[int, int]]:
    """[(k, n), …]: a non-empty list of pairs of whole numbers in [1, 10⁸]."""
    if isinstance(layer_shapes, (str, bytes, dict)) or not isinstance(layer_shapes, (list, tuple, np.ndarray)):
        raise LabsimError(f"layer_shapes must be a list of (k, n) pairs, got {type(layer_shapes).__name__}")
    if len(layer_shapes) == 0 or len(layer_shapes) > MAX_SWEEP_WORK:
        raise LabsimError(f"layer_shapes holds {len(layer_shapes):,} layers; allowed: 1 … {MAX_SWEEP_WORK:,}")
    shapes = []
    for i, pair in enumerate(layer_shapes):
        if isinstance(pair, (str, bytes, dict)) or not isinstance(pair, (list, tuple, np.ndarray)) or len(pair) != 2:
            raise LabsimError(f"layer_shapes[{i}] must be a (k, n) pair, got {pair!r:.60}")
        shapes.append((check_int(f"layer_shapes[{i}] k", pair[0], lo=1, hi=10**8),
                       check_int(f"layer_shapes[{i}] n", pair[1], lo=1, hi=10**8)))
    return shapes


def _tiles_checked(what: str, tiles: int, n_batches: int) -> None:
    """A sweep walks the schedule of every tile once per batch size: keep that under a few seconds."""
    if tiles > MAX_TILES or tiles * n_batches > 2 * MAX_TILES:
        raise LabsimError(f"{what}: {tiles:,} weight tiles × {n_batches:,} batch sizes is too much work; allowed: "
                          f"tiles ≤ {MAX_TILES:,} and tiles × batch sizes ≤ {2 * MAX_TILES:,}")


def utilization_vs_batch(k: int, n: int, batches, array: SystolicArray | None = None) -> dict:
    """:func:`matmul_cycles` over an array of batch sizes → arrays ``batch, cycles, seconds, utilization,
    inferences_per_s`` (per layer pass)."""
    a = _array(array)
    k = check_int("k", k, lo=1, hi=10**8)
    n = check_int("n", n, lo=1, hi=10**8)
    b = _batches(batches)
    _tiles_checked("k, n", -(-k // a.rows) * -(-n // a.cols), b.size)
    rows = [matmul_cycles(k, n, int(x), a) for x in b]
    cyc = np.array([r["cycles"] for r in rows], dtype=np.int64)
    sec = np.array([r["seconds"] for r in rows])
    return {"batch": b, "cycles": cyc, "seconds": sec,
            "utilization": np.array([r["utilization"] for r in rows]), "inferences_per_s": b / sec}


def mlp_batch_latency(layer_shapes, batches, array: SystolicArray | None = None) -> dict:
    """Device time of one batch through an MLP (layers run one after another, each its own tile stream).

    ``layer_shapes`` = [(k, n), …]. Returns arrays over ``batches``: ``seconds`` (device time per batch),
    ``inferences_per_s`` (batch ÷ seconds) and ``utilization``. Host time, PCIe and queueing are *not* included
    (the TPU paper's 7 ms includes them, §4).
    """
    shapes = _layer_shapes(layer_shapes)
    a = _array(array)
    b = _batches(batches)
    _tiles_checked("layer_shapes", sum(-(-k // a.rows) * -(-n // a.cols) for k, n in shapes), b.size)
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
    if geometry is not None and not isinstance(geometry, Geometry):
        raise LabsimError(f"geometry must be None or a labsim.tsp.Geometry, got {type(geometry).__name__}")
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
