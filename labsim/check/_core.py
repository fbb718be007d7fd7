"""Shared machinery for exercise checkers.

A checker returns ``True``/``False`` and prints exactly one line: ``✓ …`` when right, a hint when wrong,
or ``not attempted yet`` when the learner left the stub (``...`` or ``None``). It never prints the
expected value: hints describe *how* an answer is off (a factor of 2, a unit, the sign), not what it
should be. Expected values are always computed from ``labsim`` and the catalog, never typed in.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

PASS = "✓"
FAIL = "✗"
NOT_ATTEMPTED = "… not attempted yet — replace the `...` and run the cell again."

#: ratio (answer / expected) → hint; checked in order, first match wins.
_RATIO_HINTS: list[tuple[float, str]] = [
    (2.0, "your answer is 2× too large — did you count something twice (both directions, K and V, a factor of 2 FLOPs per MAC)?"),
    (0.5, "your answer is half of what it should be — is a factor of 2 missing (K and V, 2 FLOPs per MAC, both directions)?"),
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


def say(ok: bool, message: str = "") -> bool:
    """Print one feedback line and return ``ok``."""
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


def check_number(answer, expected: float, *, rtol: float = 1e-3, atol: float = 0.0,
                 hint: str = "", praise: str = "", traps=()) -> bool:
    """Compare a numeric answer with ``expected`` (relative tolerance ``rtol``, absolute ``atol``).

    ``traps``: ``(wrong_value, hint)`` pairs for known wrong *methods* (e.g. the aggregate-bandwidth shortcut);
    an answer matching a trap (same tolerances) gets that hint. Then the generic unit/factor/sign diagnosis.
    """
    if unanswered(answer):
        return not_attempted()
    if isinstance(answer, bool) or not isinstance(answer, (int, float, np.integer, np.floating)):
        if isinstance(answer, np.ndarray) and answer.size == 1:
            answer = float(answer.reshape(()))
        else:
            return say(False, f"expected a single number, got {type(answer).__name__}.")
    answer = float(answer)
    if not math.isfinite(answer):
        return say(False, f"your answer is {answer}, not a finite number.")
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
    return say(answer.strip().lower() == expected.lower(), praise if answer.strip().lower() == expected.lower() else hint)


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
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:  # the learner's code raised: show what, not the answer
            return say(False, f"your function raised {type(exc).__name__}: {exc}")
        if result is None or result is Ellipsis:
            return not_attempted()
        if not accept(result):
            return say(False, hint or "your function returns a wrong result on at least one test input.")
    return say(True)
