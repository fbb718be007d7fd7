"""One exception family for every bad input in labsim.

Every message names the parameter, the value it got and what is allowed, so a learner never sees a
numba traceback, a NaN or a silently wrong number. All validators return the (normalized) value so
they can be used inline: ``batch = check_int("batch", batch, lo=1)``. The contract every public function
keeps with these validators is written down in ``docs/contract.md``.

Validators reject what Python would silently convert: ``True`` for a number, ``"8"`` for a number,
``2.5`` for a whole number, an integer too large for a float (``10**400``), a string or ``None`` inside an
array. ``ensure_finite`` is the last line of defense: a computed result that overflowed raises instead
of leaking ``inf`` or ``nan``.
"""
from __future__ import annotations

import difflib
import math
import sys
from collections.abc import Iterable, Mapping

import numpy as np

__all__ = [
    "LabsimError", "UnknownNameError", "TimingFault",
    "check_number", "check_positive", "check_int", "check_fraction", "check_choice", "check_array",
    "check_bool", "check_name", "check_text", "check_ints", "check_mapping", "ensure_finite", "MAX_INT",
]

#: The largest whole number any count may take: 2**53, the last integer a float64 holds exactly (every count
#: meets float arithmetic somewhere). Validators without their own upper bound stop here.
MAX_INT = 2**53

#: Longest name (chip, model, workload, label) a validator accepts, in characters.
MAX_NAME_CHARS = 200


class LabsimError(ValueError):
    """Base class of every error labsim raises for bad input. Subclass of ``ValueError``."""


class UnknownNameError(LabsimError, KeyError):
    """An unknown catalog/preset/option name; the message lists the valid names and the closest one."""

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return self.args[0] if self.args else ""


class TimingFault(LabsimError):
    """A cycle-level conflict in a TSP program (raised by the simulator; names cycle, slice, stream)."""


def _fmt(value) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):g}"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and abs(int(value)) >= 10**16:
        return f"an integer of {len(str(abs(int(value))))} digits"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _interval(lo, hi, lo_open: bool, hi_open: bool) -> str:
    left = "-inf" if lo is None else f"{lo:g}"
    right = "inf" if hi is None else f"{hi:g}"
    return f"{'(' if lo_open or lo is None else '['}{left}, {right}{')' if hi_open or hi is None else ']'}"


_FLOAT_MAX = sys.float_info.max


def _plain_bound(b, integer: bool) -> bool:
    """A bound that needs no further check: None, or a Python int or (unless ``integer``) float within the finite
    float range (NaN, ±inf and huge integers take the full check)."""
    t = type(b)
    return b is None or ((t is int or (t is float and not integer and b == b)) and -_FLOAT_MAX <= b <= _FLOAT_MAX)


def _bounds(name: str, lo, hi, lo_open=False, hi_open=False, unit="", integer: bool = False):
    """The validators' own arguments (set by labsim's code, not by a learner): bounds None or real numbers
    (whole numbers for ``check_int``) making a non-empty interval, flags True/False, the unit a string."""
    flags_ok = type(lo_open) is bool and type(hi_open) is bool and type(unit) is str
    if flags_ok and _plain_bound(lo, integer) and _plain_bound(hi, integer) \
            and (lo is None or hi is None or lo < hi or (lo == hi and not lo_open and not hi_open)):
        return          # the common case, checked in a few hundred nanoseconds (validators sit on hot paths)
    for arg, b in (("lo", lo), ("hi", hi)):
        if b is None:
            continue
        ok = isinstance(b, (int, np.integer)) if integer else isinstance(b, (int, float, np.integer, np.floating))
        if isinstance(b, (bool, np.bool_)) or not ok:
            raise LabsimError(f"{name}: the bound {arg} = {_fmt(b)} must be None or a "
                              f"{'whole' if integer else 'real'} number")
        try:
            if math.isnan(float(b)):
                raise LabsimError(f"{name}: the bound {arg} must not be NaN")
        except OverflowError:
            raise LabsimError(f"{name}: the bound {arg} = {_fmt(b)} is too large for a float") from None
    for arg, f in (("lo_open", lo_open), ("hi_open", hi_open)):
        if not isinstance(f, (bool, np.bool_)):
            raise LabsimError(f"{name}: {arg} must be True or False, got {_fmt(f)}")
    if not isinstance(unit, str):
        raise LabsimError(f"{name}: unit must be a string, got {_fmt(unit)}")
    if lo is not None and hi is not None and (hi < lo or (hi == lo and (lo_open or hi_open))):
        raise LabsimError(f"{name}: the allowed range {_interval(lo, hi, lo_open, hi_open)} is empty (lo, hi)")


def check_number(name: str, value, *, lo: float | None = None, hi: float | None = None,
                 lo_open: bool = False, hi_open: bool = False, unit: str = "") -> float:
    """Validate a finite real number in [lo, hi] (bounds optionally open). Returns it as float."""
    _bounds(name, lo, hi, lo_open, hi_open, unit)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise LabsimError(f"{name} must be a number, got {_fmt(value)} ({type(value).__name__})")
    u = f" {unit}" if unit else ""
    try:
        v = float(value)
    except OverflowError:   # a Python int beyond float range (10**400)
        raise LabsimError(f"{name} = {_fmt(value)}{u} is too large; allowed: "
                          f"{_interval(lo, hi, lo_open, hi_open)}{u}") from None
    if not math.isfinite(v):
        raise LabsimError(f"{name} must be finite, got {_fmt(value)}")
    lo_bad = lo is not None and (v <= lo if lo_open else v < lo)
    hi_bad = hi is not None and (v >= hi if hi_open else v > hi)
    if lo_bad or hi_bad:
        interval = _interval(lo, hi, lo_open, hi_open)
        raise LabsimError(f"{name} = {_fmt(value)}{u} is out of range; allowed: {interval}{u}")
    return v


def check_positive(name: str, value, *, unit: str = "") -> float:
    """Validate a finite number > 0."""
    return check_number(name, value, lo=0.0, lo_open=True, unit=unit)


def check_fraction(name: str, value, *, allow_zero: bool = True, allow_one: bool = True) -> float:
    """Validate a fraction/probability in [0, 1] (ends optionally excluded)."""
    check_bool("allow_zero", allow_zero)
    check_bool("allow_one", allow_one)
    return check_number(name, value, lo=0.0, hi=1.0, lo_open=not allow_zero, hi_open=not allow_one)


def check_int(name: str, value, *, lo: int | None = None, hi: int | None = None) -> int:
    """Validate an integer (bool rejected; integral floats like 8.0 accepted) in [lo, hi].

    Without ``hi`` the bound is ``MAX_INT`` (2**53): no count in labsim is larger, and beyond it float
    arithmetic is no longer exact."""
    _bounds(name, lo, hi, integer=True)
    if isinstance(value, (bool, np.bool_)):
        raise LabsimError(f"{name} must be an integer, got {value!r}")
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        value = int(value)
    if not isinstance(value, (int, np.integer)):
        raise LabsimError(f"{name} must be an integer, got {_fmt(value)} ({type(value).__name__})")
    v = int(value)
    left = "-inf" if lo is None else str(lo)
    if hi is None and abs(v) > MAX_INT:
        raise LabsimError(f"{name} = {_fmt(v)} is too large; allowed: integers in [{left}, 2**53]")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        right = "inf" if hi is None else str(hi)
        raise LabsimError(f"{name} = {_fmt(v)} is out of range; allowed: integers in [{left}, {right}]")
    return v


def check_choice(name: str, value, choices: Iterable[str], *, what: str = "value") -> str:
    """Validate that ``value`` is one of ``choices``; the error lists them and suggests the closest."""
    if isinstance(choices, (str, bytes)) or not isinstance(choices, Iterable):
        raise LabsimError(f"{name}: choices must be a collection of names, got {_fmt(choices)}")
    options = list(choices)
    if not all(isinstance(o, str) for o in options):
        raise LabsimError(f"{name}: choices must be names (strings), got {_fmt(options)}")
    options = sorted(options)
    if not options:
        raise LabsimError(f"{name}: choices is empty; there is nothing {name} could be")
    if not isinstance(what, str):
        raise LabsimError(f"{name}: what must be a string, got {_fmt(what)}")
    if isinstance(value, str) and value in options:
        return value
    # "unknown precision 'int9'" — not "unknown precision precision='int9'" — when the name says it already
    said = name == what
    msg = f"unknown {what} {_fmt(value) if said else f'{name}={_fmt(value)}'}; valid: {', '.join(options)}"
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

    The message names the first offending element and its index. Strings, booleans, ``None`` and other
    non-numbers are rejected, also inside an array (NumPy would turn ``"8"`` into 8.0).
    """
    _bounds(name, lo, hi, lo_open, hi_open, unit)
    if isinstance(value, (str, bytes, bool, np.bool_)) or value is None or isinstance(value, dict):
        raise LabsimError(f"{name} must be a number or an array of numbers, got {_fmt(value)}")
    try:
        raw = np.asarray(value)
        if raw.dtype.kind == "O":       # mixed or huge Python ints: every element must be a real number
            for x in raw.ravel():
                if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
                    raise TypeError
        elif raw.dtype.kind not in "iuf":
            raise TypeError
        arr = np.asarray(raw, dtype=np.float64)
    except OverflowError:
        raise LabsimError(f"{name} holds an integer too large for a float; allowed: "
                          f"{_interval(lo, hi, lo_open, hi_open)}") from None
    except (TypeError, ValueError):
        raise LabsimError(f"{name} must be a number or an array of numbers, got {_fmt(value)}") from None
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


def check_bool(name: str, value) -> bool:
    """Validate a flag: ``True`` or ``False`` (NumPy bools too); 0, 1, "yes" and arrays are rejected."""
    if not isinstance(value, (bool, np.bool_)):
        raise LabsimError(f"{name} must be True or False, got {_fmt(value)} ({type(value).__name__})")
    return bool(value)


def check_text(name: str, value, *, allow_empty: bool = True, max_chars: int = 10_000) -> str:
    """Validate free text (a label, a description, a source): a string without control characters other than
    newline and tab, at most ``max_chars`` long."""
    check_bool(f"{name}: allow_empty", allow_empty)
    max_chars = check_int(f"{name}: max_chars", max_chars, lo=1)
    if not isinstance(value, str):
        raise LabsimError(f"{name} must be a string, got {_fmt(value)} ({type(value).__name__})")
    if not allow_empty and not value.strip():
        raise LabsimError(f"{name} must be a non-empty string, got {value!r}")
    if len(value) > max_chars:
        raise LabsimError(f"{name} is {len(value):,} characters long; allowed: at most {max_chars:,}")
    bad = next((c for c in value if (ord(c) < 32 and c not in "\n\t") or ord(c) == 127), None)
    if bad is not None:
        raise LabsimError(f"{name} = {_fmt(value)} contains the control character {bad!r}; allowed: printable "
                          "text")
    return value


def check_name(name: str, value) -> str:
    """Validate a name (of a chip, model, workload, …): a non-empty single line of printable text, at most
    ``MAX_NAME_CHARS`` characters, without leading or trailing spaces."""
    check_text(name, value, allow_empty=False, max_chars=MAX_NAME_CHARS)
    if "\n" in value or "\t" in value or value != value.strip():
        raise LabsimError(f"{name} = {value!r} must be one line without leading or trailing spaces")
    return value


def check_ints(name: str, values, *, lo: int | None = None, hi: int | None = None, min_len: int = 1,
               max_len: int = 10_000) -> tuple[int, ...]:
    """Validate a sequence of integers (a list, tuple, range or 1-D array), each in [lo, hi]; returns a tuple."""
    _bounds(name, lo, hi, integer=True)
    min_len = check_int(f"{name}: min_len", min_len, lo=0, hi=MAX_INT)
    max_len = check_int(f"{name}: max_len", max_len, lo=1, hi=MAX_INT)
    if max_len < min_len:
        raise LabsimError(f"{name}: min_len = {min_len} exceeds max_len = {max_len}")
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, (Iterable, np.ndarray)):
        raise LabsimError(f"{name} must be a sequence of integers, got {_fmt(values)} ({type(values).__name__})")
    if isinstance(values, np.ndarray) and values.ndim != 1:
        raise LabsimError(f"{name} must be a 1-D sequence of integers, got an array of shape {values.shape}")
    items = []
    for i, v in enumerate(values):
        if i >= max_len:
            raise LabsimError(f"{name} holds more than {max_len:,} values; allowed: at most {max_len:,}")
        items.append(check_int(f"{name}[{i}]", v, lo=lo, hi=hi))
    if len(items) < min_len:
        raise LabsimError(f"{name} holds {len(items)} values; allowed: at least {min_len}")
    return tuple(items)


def check_mapping(name: str, value, *, allow_none: bool = False) -> dict:
    """Validate a mapping (a dict); returns a plain dict copy (``{}`` for None when ``allow_none``)."""
    if check_bool(f"{name}: allow_none", allow_none) and value is None:
        return {}
    if not isinstance(value, Mapping):
        raise LabsimError(f"{name} must be a dict, got {_fmt(value)} ({type(value).__name__})")
    return dict(value)


def ensure_finite(where: str, results: Mapping[str, object], inputs: Mapping[str, object] | None = None) -> None:
    """Raise if any result (a number or an array) is NaN or infinite: the inputs, each within its own range,
    combined into a number a float cannot hold. The message names the result and the inputs."""
    results = check_mapping(f"{where}: results", results)
    inputs = check_mapping(f"{where}: inputs", inputs, allow_none=True)
    for key, val in results.items():
        if val is None:
            continue
        arr = _as_floats(where, key, val)
        bad = ~np.isfinite(arr)
        if not bad.any():
            continue
        at = ""
        if arr.ndim:
            idx = np.unravel_index(int(np.argmax(bad)), arr.shape)
            at = f" at index [{', '.join(map(str, idx))}]"
        shown = ""
        if inputs:
            parts = []
            for k, v in inputs.items():
                a = np.asarray(v) if not isinstance(v, (str, bytes)) else None
                if a is not None and a.dtype.kind in "iuf" and a.ndim == 0:
                    parts.append(f"{k}={float(a):g}")
                elif a is not None and a.dtype.kind in "iuf":
                    parts.append(f"{k}=array{list(a.shape)}")
            shown = f" from {', '.join(parts)}" if parts else ""
        raise LabsimError(f"{where}: {key} is not a finite number{at}{shown}; these inputs together are outside "
                          "the range the model is meant for — bring the largest and smallest of them closer to "
                          "realistic values")


def _as_floats(where: str, key, val) -> np.ndarray:
    """A result as a float array (NaN/inf kept: ensure_finite reports them); a non-number result is an error."""
    try:
        raw = np.asarray(val)
        if raw.dtype.kind not in "iufb" and not (raw.dtype.kind == "O" and all(
                isinstance(x, (int, float, np.integer, np.floating)) for x in raw.ravel())):
            raise TypeError
        return np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise LabsimError(f"{where}: result {key!r} must be a number or an array of numbers, got {_fmt(val)}") \
            from None
