"""Exercise checkers, one module per chapter (``labsim.check.ch01`` …).

Every checker returns ``True``/``False`` and prints ✓, a hint, or "not attempted yet"; it never prints the
expected value. Use them from a notebook as ``from labsim.check import ch03`` then ``ch03.weight_bytes(answer)``.
"""
from ._core import (  # noqa: F401 — re-exported: the helpers every chapter's checkers share
    NOT_ATTEMPTED,
    check_bool,
    check_callable,
    check_choice,
    check_number,
    diagnose_ratio,
    not_attempted,
    say,
    unanswered,
)
