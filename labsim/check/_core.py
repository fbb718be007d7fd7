"""Shared machinery for exercise checkers.

A checker returns ``True``/``False`` and prints exactly one line: ``✓ …`` when right, a hint when wrong,
or ``not attempted yet`` when the learner left the stub (``...`` or ``None``). It never prints the
expected value: hints describe *how* an answer is off (a factor of 2, a unit, the sign), not what it
should be. Expected values are always computed from ``labsim`` and the catalog, never typed in.

Whatever a learner passes — ``10**400``, ``np.array(['a'])``, a string, a dict, a function that raises — a
checker prints one line and returns False; it never shows a traceback. ``as_number`` turns an answer into a
float or says why it is not one; ``checker`` (a decorator on every public checker) is the last line of defense:
it folds the output into one line and turns an unexpected exception into a ✗ line.
"""
from __future__ import annotations

import contextlib
import functools
import io
import math
from collections.abc import Callable

import numpy as np

__all__ = ["PASS", "FAIL", "NOT_ATTEMPTED", "unanswered", "say", "not_attempted", "diagnose_ratio", "as_number",
           "check_number", "check_choice", "check_bool", "check_callable", "checker", "part", "call_learner"]

#: longest feedback line, in characters
MAX_LINE = 400

PASS = "✓"
FAIL = "✗"
NOT_ATTEMPTED = "… not attempted yet — replace the `...` and run the cell again."

#: ratio (answer / expected) → hint; checked in order, first match wins.
_RATIO_HINTS: list[tuple[float, str]] = [
    (2.0, "your answer is 2× too large — did you count something twice (both directions, K and V, "
          "a factor of 2 FLOPs per MAC)?"),
    (0.5, "your answer is half of what it should be — is a factor of 2 missing (K and V, 2 FLOPs per MAC, "
          "both directions)?"),
    (1e3, "your answer is 1000× too large — check the unit (ms vs s, GB vs MB, kW vs W)."),
    (1e-3, "your answer is 1000× too small — check the unit (s vs ms, MB vs GB, W vs kW)."),
    (1e6, "your answer is 10⁶× too large — check the unit (µs vs s, tokens vs million tokens)."),
    (1e-6, "your answer is 10⁶× too small — check the unit (s vs µs, million tokens vs tokens)."),
    (1e9, "your answer is 10⁹× too large — check the unit (GB vs bytes, ns vs s)."),
    (1e-9, "your answer is 10⁹× too small — check the unit (bytes vs GB, s vs ns)."),
    (1e12, "your answer is 10¹²× too large — check the unit (TB vs bytes, TOPS vs ops)."),
    (1e-12, "your answer is 10¹²× too small — check the unit (ops vs TOPS, bytes vs TB)."),
    (8.0, "your answer is 8× too large — bits vs bytes?"),
    (0.125, "your answer is 8× too small — bytes vs bits?"),
    (4.0, "your answer is 4× too large — check the precision (bytes per element) or a factor of 2 applied twice."),
    (0.25, "your answer is 4× too small — check the precision (bytes per element) or a missing factor of 2²."),
    (2**20 / 1e6, "close, but you mixed MiB (2²⁰ bytes) and MB (10⁶ bytes)."),
    (1e6 / 2**20, "close, but you mixed MB (10⁶ bytes) and MiB (2²⁰ bytes)."),
    (2**30 / 1e9, "close, but you mixed GiB (2³⁰ bytes) and GB (10⁹ bytes)."),
    (1e9 / 2**30, "close, but you mixed GB (10⁹ bytes) and GiB (2³⁰ bytes)."),
    (100.0, "your answer is 100× too large — a percentage where a fraction was asked?"),
    (0.01, "your answer is 100× too small — a fraction where a percentage was asked?"),
]


def unanswered(answer) -> bool:
    """True for the stubs a generated exercise leaves: ``...`` or ``None``."""
    return answer is Ellipsis or answer is None


def _one_line(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 1] + "…"


def say(ok: bool, message: str = "") -> bool:
    """Print one feedback line (newlines in ``message`` are folded, long messages shortened) and return ``ok``."""
    message = _one_line(message) if message else ""
    if ok:
        print(f"{PASS} Correct." + (f" {message}" if message else ""))
    else:
        print(f"{FAIL} Not yet: {message}" if message else f"{FAIL} Not yet.")
    return bool(ok)


def not_attempted() -> bool:
    print(NOT_ATTEMPTED)
    return False


def diagnose_ratio(answer: float, expected: float, rtol: float) -> str | None:
    """Return a hint if answer/expected is a typical slip (unit, factor of 2, sign); None otherwise."""
    if expected == 0 or answer == 0:
        return None
    ratio = answer / expected
    if math.isclose(ratio, -1.0, rel_tol=rtol):
        return "the magnitude is right but the sign is wrong."
    for r, hint in _RATIO_HINTS:
        if math.isclose(ratio, r, rel_tol=max(rtol, 1e-3)):
            return hint
    return None


def as_number(answer) -> tuple[float | None, str]:
    """``(value, "")`` for a finite real number (a Python or NumPy number, or a one-element numeric array), else
    ``(None, why)`` with a one-line reason. Booleans, strings, ``None``, huge integers (``10**400``) and arrays of
    text or objects are not numbers."""
    if isinstance(answer, np.ndarray):
        if answer.size != 1:
            return None, f"expected a single number, got an array of {answer.size} values."
        if answer.dtype.kind not in "iuf":
            return None, f"expected a single number, got an array of {answer.dtype.name}."
        answer = answer.reshape(()).item()
    if isinstance(answer, (bool, np.bool_)) or not isinstance(answer, (int, float, np.integer, np.floating)):
        return None, f"expected a single number, got {type(answer).__name__}."
    try:
        value = float(answer)
    except OverflowError:
        return None, "your answer is too large to be a number (it overflows a float)."
    if not math.isfinite(value):
        return None, f"your answer is {value}, not a finite number."
    return value, ""


def call_learner(fn: Callable, *args, **kwargs):
    """Run a learner's function with its own prints silenced (a checker prints one line): ``(result, None)`` or
    ``(None, the exception it raised)``."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return fn(*args, **kwargs), None
    except Exception as exc:  # noqa: BLE001 — the learner's code: say what it raised, never a traceback
        return None, exc


def part(fn: Callable, *args, **kwargs) -> tuple[bool, str]:
    """Run one check quietly: ``(ok, its feedback line)`` — for checkers that combine several parts in one line."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        ok = fn(*args, **kwargs)
    return bool(ok), _one_line(buf.getvalue())


def checker(fn: Callable) -> Callable:
    """Decorator for a public checker: whatever happens inside, exactly one line is printed and a bool returned.

    Several printed lines are folded into one; an exception (a bug, or an answer no check foresaw) becomes a ✗
    line naming it — never a traceback. A checker's own checks come first; this only catches what they missed."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        buf = io.StringIO()
        try:
            with contextlib.redirect_stdout(buf):
                ok = fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 — the contract: a learner never sees a traceback
            return say(False, f"this answer could not be checked ({type(exc).__name__}: {exc}); answer with the "
                              "kind of value the exercise asks for.")
        lines = [ln.strip() for ln in buf.getvalue().splitlines() if ln.strip()]
        if not lines:
            return say(bool(ok))
        print(_one_line(" ".join(lines)))
        return ok is True or (isinstance(ok, (bool, np.bool_)) and bool(ok))
    return wrapper


def check_number(answer, expected: float, *, rtol: float = 1e-3, atol: float = 0.0,
                 hint: str = "", praise: str = "", traps=()) -> bool:
    """Compare a numeric answer with ``expected`` (relative tolerance ``rtol``, absolute ``atol``).

    ``traps``: ``(wrong_value, hint)`` pairs for known wrong *methods* (e.g. the aggregate-bandwidth shortcut);
    an answer matching a trap (same tolerances) gets that hint. Then the generic unit/factor/sign diagnosis.
    """
    if unanswered(answer):
        return not_attempted()
    answer, why = as_number(answer)
    if answer is None:
        return say(False, why)
    if expected is None or not math.isfinite(float(expected)):
        return say(False, "this exercise has no numeric answer with the current data — check the exercise text.")
    if math.isclose(answer, expected, rel_tol=rtol, abs_tol=atol):
        return say(True, praise)
    for wrong, why in traps:
        if wrong is None:  # a trap that does not apply to this exercise's inputs
            continue
        if math.isclose(answer, float(wrong), rel_tol=rtol, abs_tol=atol):
            return say(False, why)
    specific = diagnose_ratio(answer, expected, rtol)
    if specific:
        return say(False, specific)
    direction = "too large" if answer > expected else "too small"
    return say(False, f"your answer is {direction}. {hint}".strip())


def check_choice(answer, expected: str, choices: list[str], *, hint: str = "", praise: str = "") -> bool:
    """Check a multiple-choice answer given as one of ``choices`` (case-insensitive)."""
    if unanswered(answer):
        return not_attempted()
    if not isinstance(answer, str) or answer.strip().lower() not in [c.lower() for c in choices]:
        return say(False, f"answer with one of: {', '.join(repr(c) for c in choices)}.")
    right = answer.strip().lower() == expected.lower()
    return say(right, praise if right else hint)


def check_bool(answer, expected: bool, *, hint: str = "", praise: str = "") -> bool:
    if unanswered(answer):
        return not_attempted()
    if not isinstance(answer, (bool, np.bool_)):
        return say(False, "answer True or False.")
    return say(bool(answer) == expected, praise if bool(answer) == expected else hint)


def check_callable(fn, trials: list[tuple[tuple, dict, Callable[[object], bool]]], *, hint: str = "") -> bool:
    """Check a learner's function on trial inputs. Each trial: (args, kwargs, accept(result) -> bool)."""
    if unanswered(fn):
        return not_attempted()
    if not callable(fn):
        return say(False, f"expected a function, got {type(fn).__name__}.")
    for args, kwargs, accept in trials:
        result, exc = call_learner(fn, *args, **kwargs)     # the learner's prints would break the one line
        if exc is not None:  # the learner's code raised: show what, not the answer
            return say(False, f"your function raised {type(exc).__name__}: {exc}")
        if result is None or result is Ellipsis:
            return not_attempted()
        try:
            good = bool(accept(result))
        except Exception:  # noqa: BLE001 — a result of a kind the check cannot compare
            good = False
        if not good:
            return say(False, hint or "your function returns a wrong result on at least one test input.")
    return say(True)
