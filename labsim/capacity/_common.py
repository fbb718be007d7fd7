"""Input resolution shared by the capacity modules: catalog names → objects, precisions, array checks."""
from __future__ import annotations

import math

import numpy as np

from .. import catalog
from ..errors import LabsimError, check_choice
from ..precision import PRECISIONS, bytes_per_element


def as_model(model) -> catalog.Model:
    """A catalog model name or a :class:`~labsim.catalog.Model` → the Model."""
    if isinstance(model, catalog.Model):
        return model
    if isinstance(model, str):
        return catalog.model(model)
    raise LabsimError(f"model must be a catalog model name or a Model, got {model!r}")


def as_chip(chip) -> catalog.Chip:
    """A catalog chip name or a :class:`~labsim.catalog.Chip` → the Chip."""
    if isinstance(chip, catalog.Chip):
        return chip
    if isinstance(chip, str):
        return catalog.chip(chip)
    raise LabsimError(f"chip must be a catalog chip name or a Chip, got {chip!r}")


def as_precision(name: str, value) -> str:
    """Validate a number-format name (``"int8"``, ``"fp16"``, ``"bfp8"`` …)."""
    return check_choice(name, value, PRECISIONS, what="precision")


def compute_precision(chip: catalog.Chip, precision: str) -> str:
    """The format a chip's matrix units compute ``precision`` data in: the format itself if the chip publishes a
    peak for it, else the narrowest published format at least as wide *of a kind that holds its values exactly*:
    floats go to floats (FP8 on a chip without FP8 runs in FP16), integers to integers, block formats with
    integer-like elements to either (block floating point on the TSP, whose MXM does INT8 and FP16 only
    ([isca20] §III-D), runs as INT8)."""
    peaks = chip.peak_ops_per_s
    if precision in peaks:
        return precision
    kind = PRECISIONS[precision].kind

    def fits(p):
        k = PRECISIONS[p].kind
        return k == kind or kind == "block" or (kind == "int" and k == "block")

    want = bytes_per_element(precision)
    wider = sorted((bytes_per_element(p), p) for p in peaks if bytes_per_element(p) >= want and fits(p))
    if not wider:
        wider = sorted((bytes_per_element(p), p) for p in peaks if bytes_per_element(p) >= want)
    if wider:
        return wider[0][1]
    if peaks:
        return max(peaks, key=lambda p: peaks[p])
    raise LabsimError(f"chip {chip.name!r} publishes no peak ops/s at any precision")


def whole(name: str, arr: np.ndarray, what: str) -> None:
    """Raise if an array of counts holds a fractional value (names the index and the value)."""
    frac = arr != np.floor(arr)
    if np.any(frac):
        idx = np.unravel_index(int(np.argmax(frac)), arr.shape) if arr.ndim else ()
        where = f"[{', '.join(map(str, idx))}]" if arr.ndim else ""
        raise LabsimError(f"{name}{where} = {float(arr[idx] if arr.ndim else arr):g} is out of range; allowed: "
                          f"whole numbers of {what} (≥ 1)")


def nonempty(name: str, arr: np.ndarray) -> np.ndarray:
    """Raise if a swept input holds no value at all (an empty list has no configuration to evaluate)."""
    if np.size(arr) == 0:
        raise LabsimError(f"{name} is empty (shape {np.shape(arr)}); allowed: a number or a non-empty array")
    return arr


def broadcast(**arrays):
    """np.broadcast_arrays with a LabsimError naming the arrays and their shapes when they do not fit."""
    try:
        return np.broadcast_arrays(*arrays.values())
    except ValueError:
        shapes = ", ".join(f"{k} {np.shape(v)}" for k, v in arrays.items())
        raise LabsimError(f"array inputs must broadcast to one shape (equal lengths, or length 1); got {shapes}") \
            from None


def ceil(x):
    """Ceiling that ignores float noise (303.0000000001 → 303); a float for a float, else an array."""
    if isinstance(x, float):
        return float(math.ceil(x * (1 - 1e-12)))
    return np.ceil(np.asarray(x) * (1 - 1e-12))


# Scalar-or-array helpers: the decode equations run on Python floats for one serving point (fast) and on NumPy
# arrays for sweeps — one implementation for both.
def vmax(a, b):
    return max(a, b) if isinstance(a, float) and isinstance(b, float) else np.maximum(a, b)


def vmin(a, b):
    return min(a, b) if isinstance(a, float) and isinstance(b, float) else np.minimum(a, b)


def vwhere(cond, a, b):
    if isinstance(cond, (bool, np.bool_)):
        return a if cond else b
    return np.where(cond, a, b)
