"""Shared pieces of :mod:`labsim.latency`: the quantiles every summary reports, sample-count and input bounds, and
the validators every module of the package uses (a latency, a speed, a token count, a CV, a seed)."""
from __future__ import annotations

from .. import limits as _L
from ..errors import LabsimError, check_int, check_number

#: The quantiles every latency summary reports (as in Vidur's CDF sketch: one fixed set, always the same).
QUANTILES = (0.5, 0.9, 0.99, 0.999)

_MAX_SAMPLES = _L.MAX_SAMPLES
#: Speeds (tokens/s) live in [1e-6, 1e12]: one token per 11.6 days at the slowest, so seconds per token stay
#: within MAX_LATENCY_S, and a product of bounded inputs cannot overflow.
_MIN_TOKENS_PER_S = 1e-6
#: A coefficient of variation is 0 (fixed) or at least 1e-6: a gamma of shape 1/cv² > 10¹² has no meaning
#: a float can hold (cv = 1e-300 would divide by zero in the sampler).
_MIN_CV = 1e-6


def _seed(seed) -> int:
    return check_int("seed", seed, lo=0, hi=2**32 - 1)


def _n(name: str, n, lo: int = 1, hi: int = _MAX_SAMPLES) -> int:
    return check_int(name, n, lo=lo, hi=hi)


def _latency(name: str, value) -> float:
    """A latency in seconds: finite, >= 0 (a negative latency is always a bug) and at most MAX_LATENCY_S."""
    return check_number(name, value, lo=0.0, hi=_L.MAX_LATENCY_S, unit="s")


def _speed(name: str, value) -> float:
    """A speed in tokens/s within [1e-6, 1e12]."""
    return check_number(name, value, lo=_MIN_TOKENS_PER_S, hi=_L.MAX_TOKENS_PER_S, unit="tok/s")


def _tokens(name: str, value, lo: int = 0) -> int:
    """A whole number of tokens (8.0 is accepted, 2.5 is not) up to MAX_TOKENS."""
    return check_int(name, value, lo=lo, hi=_L.MAX_TOKENS)


def _cv(name: str, value) -> float:
    """A coefficient of variation: 0, or within [1e-6, MAX_CV]."""
    v = check_number(name, value, lo=0.0, hi=_L.MAX_CV)
    if 0.0 < v < _MIN_CV:
        raise LabsimError(f"{name} = {v:g} is out of range; allowed: 0 (fixed) or [{_MIN_CV:g}, {_L.MAX_CV:g}]")
    return v
