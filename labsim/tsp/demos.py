"""Small demonstration programs of chapter 1 and their NumPy references.

``demo_program`` / ``reference_demo``: MEM→MXM→VXM→MEM, y = requant(relu(W·x + b)) (the widget and exercise 3);
``journey_program`` / ``reference_journey``: the full MEM→VXM→MXM→VXM→MEM journey of an int32 activation.
Every issue cycle is computed from the geometry's delays and hops (``Program.arrival``), none is typed in.
"""
from __future__ import annotations

import numpy as np

from ..errors import LabsimError, check_int, check_positive
from .geometry import Geometry
from .program import Program

__all__ = ["demo_program", "reference_demo", "journey_program", "reference_journey"]


def _geometry_arg(g) -> Geometry:
    if g is None:
        return Geometry.mini()
    if isinstance(g, str):
        if g not in ("faithful", "mini"):
            raise LabsimError(f"geometry = {g!r} is not a profile; allowed: 'faithful', 'mini' or a Geometry")
        return getattr(Geometry, g)()
    if not isinstance(g, Geometry):
        raise LabsimError(f"geometry must be a labsim.tsp.Geometry, 'faithful' or 'mini', got {type(g).__name__}")
    return g


def _int_array(name: str, values, ndim: int) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != ndim or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
        raise LabsimError(f"{name} must be a non-empty {ndim}-D integer array, got "
                          f"{type(values).__name__} with shape {arr.shape} and dtype {arr.dtype}")
    return arr.astype(np.int64)


def demo_program(g: Geometry | None = None, seed: int = 0):
    """A vector's journey MEM→VXM→MXM→VXM→MEM on ``g`` (default mini): y = requant(relu(W·x + b)).

    Returns (program, memory, weights, x, b, scale) so a notebook or test can check it against NumPy.
    """
    g = _geometry_arg(g)
    rng = np.random.default_rng(check_int("seed", seed, lo=0))
    n = g.vector_len
    W = rng.integers(-8, 8, size=(n, n)).astype(np.int8)
    x = rng.integers(-8, 8, size=n).astype(np.int8)
    b = rng.integers(-200, 200, size=n).astype(np.int32)
    scale = 1 / 64
    p = Program(g, "journey")
    inst = p.mxm_install(0, "MXM_E0", W, label="install W")
    # read x so that it reaches the MXM exactly when the weights become usable
    t_read = max(0, p.ready_cycle(inst) - g.delay("MEM_READ") - g.hop_cycles("MEM_W1", "MXM_E0"))
    rx = p.mem_read(t_read, "MEM_W1", 0, 0, "E0", label="x")
    t_x = p.arrival(rx, "MXM_E0")
    mv = p.mxm_matvec(t_x, "MXM_E0", "E0", "W0", label="W·x")
    t_vxm = p.arrival(mv, "VXM")
    rb = p.mem_read(t_vxm - g.delay("MEM_READ") - g.hop_cycles("MEM_E2", "VXM"), "MEM_E2", 0, 0, "W1", label="b")
    assert p.arrival(rb, "VXM") == t_vxm
    add = p.add(t_vxm, "W0", "W1", "E1", label="+b")
    rl = p.relu(p.ready_cycle(add), "E1", "E2", label="relu")
    rq = p.requantize(p.ready_cycle(rl), "E2", scale, "E3", label="requant")
    p.mem_write(p.arrival(rq, "MEM_E3"), "MEM_E3", 1, 0, "E3", label="y")
    memory = {("MEM_W1", 0, 0): x, ("MEM_E2", 0, 0): b}
    return p, memory, W, x, b, scale


def reference_demo(W, x, b, scale) -> np.ndarray:
    """NumPy reference of :func:`demo_program` (W zero-padded to a square of len(x))."""
    W, x, b = _int_array("W", W, 2), _int_array("x", x, 1), _int_array("b", b, 1)
    scale = check_positive("scale", scale)
    if W.shape[1] != x.size or W.shape[0] > b.size:
        raise LabsimError(f"shapes do not fit: W {W.shape}, x {x.shape}, b {b.shape} (need W.shape[1] = len(x), "
                          f"W.shape[0] <= len(b))")
    acc = np.zeros(b.size, dtype=np.int64)
    acc[: W.shape[0]] = W @ x
    acc = np.maximum(acc + b, 0)
    return np.clip(np.rint(acc * scale), -128, 127).astype(np.int8)


def journey_program(g: Geometry | None = None, seed: int = 0):
    """A vector's full journey MEM→VXM→MXM→VXM→MEM on ``g`` (default mini):
    y = requant(relu(W·requant(a, s_in) + b), s_out).

    ``a`` is an int32 activation vector (e.g. the previous layer's accumulators) in MEM_W1; on its way east
    the VXM requantizes it to int8 (MXM input type), the MXM_E0 plane multiplies, the product flows west back to
    the VXM, meets the bias b (read from MEM_E2) there, and the result is written to MEM_E3 (bank 1, address 0).
    Every issue cycle is computed from the geometry's delays and hops (``Program.arrival``), none is typed in.

    Returns (program, memory, W, a, b, s_in, s_out); :func:`reference_journey` is its NumPy reference.
    """
    g = _geometry_arg(g)
    rng = np.random.default_rng(check_int("seed", seed, lo=0))
    n = g.vector_len
    W = rng.integers(-8, 8, size=(n, n)).astype(np.int8)
    a = rng.integers(-2000, 2000, size=n).astype(np.int32)
    b = rng.integers(-200, 200, size=n).astype(np.int32)
    s_in, s_out = 1 / 32, 1 / 64
    p = Program(g, "journey")
    inst = p.mxm_install(0, "MXM_E0", W, label="install W")
    # a must pass the VXM, be requantized there, and reach the MXM when the weights are usable
    to_mxm = g.delay("VXM_REQUANT") + g.hop_cycles("VXM", "MXM_E0")
    t_q = max(g.delay("MEM_READ") + g.hop_cycles("MEM_W1", "VXM"), p.ready_cycle(inst) - to_mxm)
    ra = p.mem_read(t_q - g.delay("MEM_READ") - g.hop_cycles("MEM_W1", "VXM"), "MEM_W1", 0, 0, "E0", label="a")
    q = p.requantize(p.arrival(ra, "VXM"), "E0", s_in, "E1", label="a→int8")
    mv = p.mxm_matvec(p.arrival(q, "MXM_E0"), "MXM_E0", "E1", "W0", label="W·x")
    t_vxm = p.arrival(mv, "VXM")
    rb = p.mem_read(t_vxm - g.delay("MEM_READ") - g.hop_cycles("MEM_E2", "VXM"), "MEM_E2", 0, 0, "W1", label="b")
    assert p.arrival(rb, "VXM") == t_vxm
    add = p.add(t_vxm, "W0", "W1", "E2", label="+b")
    rl = p.relu(p.ready_cycle(add), "E2", "E3", label="relu")
    rq = p.requantize(p.ready_cycle(rl), "E3", s_out, "E4", label="requant")
    p.mem_write(p.arrival(rq, "MEM_E3"), "MEM_E3", 1, 0, "E4", label="y")
    memory = {("MEM_W1", 0, 0): a, ("MEM_E2", 0, 0): b}
    return p, memory, W, a, b, s_in, s_out


def reference_journey(W, a, b, s_in, s_out) -> np.ndarray:
    """NumPy reference of :func:`journey_program`."""
    a = _int_array("a", a, 1)
    s_in = check_positive("s_in", s_in)
    s_out = check_positive("s_out", s_out)
    x = np.clip(np.rint(a * s_in), -128, 127).astype(np.int64)
    return reference_demo(W, x, b, s_out)
