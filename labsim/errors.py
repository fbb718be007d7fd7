"""One exception family for every bad input in labsim.

Every message names the parameter, the value it got and what is allowed, so a learner never sees a
numba traceback, a NaN or a silently wrong number. All validators return the (normalised) value so
they can be used inline: ``batch = check_int("batch", batch, lo=1)``.
"""
from __future__ import annotations

import difflib
import math
from collections.abc import Iterable

import numpy as np

__all__ = [
    "LabsimError", "UnknownNameError", "TimingFault",
    "check_number", "check_positive", "check_int", "check_fraction", "check_choice", "check_array",
]


class LabsimError(ValueError):
    """Base class of every error labsim raises for bad input. Subclass of ``ValueError``."""


class UnknownNameError(LabsimError, KeyError):
    """An unknown catalog/preset/option name; the message lists the valid names and the closest one."""

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return self.args[0] if self.args else ""


class TimingFault(LabsimError):
    """A cycle-level conflict in a TSP program (raised by the simulator; names cycle, slice, stream)."""


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value)


def check_number(name: str, value, *, lo: float | None = None, hi: float | None = None,
                 lo_open: bool = False, hi_open: bool = False, unit: str = "") -> float:
    """Validate a finite real number in [lo, hi] (bounds optionally open). Returns it as float."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise LabsimError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    v = float(value)
    if not math.isfinite(v):
        raise LabsimError(f"{name} must be finite, got {_fmt(value)}")
    lo_bad = lo is not None and (v <= lo if lo_open else v < lo)
    hi_bad = hi is not None and (v >= hi if hi_open else v > hi)
    if lo_bad or hi_bad:
        left = "-inf" if lo is None else f"{lo:g}"
        right = "inf" if hi is None else f"{hi:g}"
        interval = f"{'(' if lo_open or lo is None else '['}{left}, {right}{')' if hi_open or hi is None else ']'}"
        u = f" {unit}" if unit else ""
        raise LabsimError(f"{name} = {_fmt(value)}{u} is out of range; allowed: {interval}{u}")
    return v


def check_positive(name: str, value, *, unit: str = "") -> float:
    """Validate a finite number > 0."""
    return check_number(name, value, lo=0.0, lo_open=True, unit=unit)


def check_fraction(name: str, value, *, allow_zero: bool = True, allow_one: bool = True) -> float:
    """Validate a fraction/probability in [0, 1] (ends optionally excluded)."""
    return check_number(name, value, lo=0.0, hi=1.0, lo_open=not allow_zero, hi_open=not allow_one)


def check_int(name: str, value, *, lo: int | None = None, hi: int | None = None) -> int:
    """Validate an integer (bool rejected; integral floats like 8.0 accepted) in [lo, hi]."""
    if isinstance(value, bool):
        raise LabsimError(f"{name} must be an integer, got {value!r}")
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        value = int(value)
    if not isinstance(value, (int, np.integer)):
        raise LabsimError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    v = int(value)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        left = "-inf" if lo is None else str(lo)
        right = "inf" if hi is None else str(hi)
        raise LabsimError(f"{name} = {v} is out of range; allowed: integers in [{left}, {right}]")
    return v


def check_choice(name: str, value, choices: Iterable[str], *, what: str = "value") -> str:
    """Validate that ``value`` is one of ``choices``; the error lists them and suggests the closest."""
    options = sorted(choices)
    if isinstance(value, str) and value in options:
        return value
    msg = f"unknown {what} {name}={value!r}; valid: {', '.join(options)}"
    if isinstance(value, str):
        # a unique option that starts with what was typed beats edit distance ("nvidia-h100" → "-sxm", not "h200")
        prefixed = [o for o in options if o.lower().startswith(value.lower())] if value else []
        close = prefixed if len(prefixed) == 1 else difflib.get_close_matches(value.lower(), options, n=1, cutoff=0.5)
        if close:
            msg += f" (did you mean {close[0]!r}?)"
    raise UnknownNameError(msg)


def check_array(name: str, value, *, lo: float | None = None, hi: float | None = None,
                lo_open: bool = False, hi_open: bool = False, unit: str = "") -> np.ndarray:
    """Validate a scalar or array of finite numbers, element-wise in [lo, hi]; returns a float64 array.

    The message names the first offending element and its index.
    """
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise LabsimError(f"{name} must be a number or an array of numbers, got {value!r}") from None
    bad = ~np.isfinite(arr)
    if lo is not None:
        bad |= (arr <= lo) if lo_open else (arr < lo)
    if hi is not None:
        bad |= (arr >= hi) if hi_open else (arr > hi)
    if bad.any():
        idx = np.unravel_index(int(np.argmax(bad)), arr.shape) if arr.ndim else ()
        v = float(arr[idx]) if arr.ndim else float(arr)
        where = f"[{', '.join(map(str, idx))}]" if arr.ndim else ""
        if not math.isfinite(v):
            raise LabsimError(f"{name}{where} must be finite, got {v:g}")
        check_number(f"{name}{where}", v, lo=lo, hi=hi, lo_open=lo_open, hi_open=hi_open, unit=unit)
    return arr
