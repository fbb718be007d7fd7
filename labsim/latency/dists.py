"""Distributions of a latency in seconds: :class:`Dist` and its constructors (fixed, lognormal, exponential,
uniform, gamma, two-point, stall, empirical), with exact moments, CDFs and quantiles where they exist."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np

from .. import limits as _L
from ..errors import LabsimError, check_array, check_choice, check_fraction, check_number
from ._common import _MAX_SAMPLES, _cv, _latency, _n, _seed
from ._kernels import _KINDS, _sample_folded

__all__ = ["Dist", "as_dist", "const", "lognormal", "lognormal_from_quantile", "exponential", "uniform", "gamma",
           "two_point", "stall", "empirical"]

#: parameter names per kind (what ``Dist.params`` holds, in order)
_PARAMS = {"const": ("seconds",), "lognormal": ("p50_s", "sigma"), "exponential": ("mean_s",),
           "uniform": ("lo_s", "hi_s"), "gamma": ("mean_s", "cv"), "two_point": ("fast_s", "slow_s", "p_slow"),
           "stall": ("p", "lo_s", "hi_s")}
#: (lower, upper) parameter index pairs that must be ordered
_ORDERED = {"uniform": ((0, 1),), "two_point": ((0, 1),), "stall": ((1, 2),)}
_NORMAL = NormalDist()


@dataclass(frozen=True, eq=False)
class Dist:
    """A non-negative latency distribution in seconds. Build it with the constructors below, not directly.

    ``params`` per kind: const (value), lognormal (p50, sigma), exponential (mean), uniform (lo, hi),
    gamma (mean, cv), two_point (fast, slow, p_slow), stall (p, lo, hi), empirical (samples in ``samples``).
    """
    kind: str
    params: tuple[float, ...]
    samples: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self):
        kind = check_choice("kind", self.kind, _KINDS, what="distribution kind")
        if kind == "empirical":
            arr = check_array("samples", self.samples, lo=0.0, hi=_L.MAX_LATENCY_S, unit="s").ravel()
            if arr.size == 0 or arr.size > _MAX_SAMPLES:
                raise LabsimError(f"samples of an empirical Dist must hold 1 to {_MAX_SAMPLES:,} latencies, "
                                  f"got {arr.size:,}")
            object.__setattr__(self, "samples", np.ascontiguousarray(arr, dtype=np.float64))
            object.__setattr__(self, "params", ())
            return
        if self.samples is not None:
            raise LabsimError(f"samples are for kind='empirical' only, not {kind!r}")
        names = _PARAMS[kind]
        if isinstance(self.params, (str, bytes, dict)) or not isinstance(self.params, (tuple, list)) \
                or len(self.params) != len(names):
            raise LabsimError(f"params of a {kind} Dist must be ({', '.join(names)}), got {self.params!r}")
        vals = []
        for i, (n, v) in enumerate(zip(names, self.params, strict=True)):
            label = f"params[{i}] ({n})"
            if n in ("sigma",):
                vals.append(check_number(label, v, lo=0.0, hi=5.0))
            elif n == "cv":
                vals.append(_cv(label, v))
            elif n in ("p_slow", "p"):
                vals.append(check_fraction(label, v))
            else:
                vals.append(_latency(label, v))
        if kind == "lognormal" and vals[0] <= 0:
            raise LabsimError(f"p50_s = {vals[0]:g} s is out of range; allowed: (0, {_L.MAX_LATENCY_S:g}] s")
        for lo_i, hi_i in _ORDERED.get(kind, ()):
            if vals[hi_i] < vals[lo_i]:
                raise LabsimError(f"{names[hi_i]} = {vals[hi_i]:g} s is below {names[lo_i]} = {vals[lo_i]:g} s; "
                                  f"allowed: {names[hi_i]} ≥ {names[lo_i]}")
        object.__setattr__(self, "params", tuple(vals))

    # --- moments -------------------------------------------------------------------------------------------------
    @property
    def mean_s(self) -> float:
        k, p = self.kind, self.params
        if k == "const":
            return p[0]
        if k == "lognormal":
            return p[0] * math.exp(p[1] ** 2 / 2)
        if k in ("exponential", "gamma"):
            return p[0]
        if k == "uniform":
            return (p[0] + p[1]) / 2
        if k == "two_point":
            return p[0] * (1 - p[2]) + p[1] * p[2]
        if k == "stall":
            return p[0] * (p[1] + p[2]) / 2
        return float(np.mean(self.samples))

    @property
    def var_s2(self) -> float:
        k, p = self.kind, self.params
        if k == "const":
            return 0.0
        if k == "lognormal":
            return (math.exp(p[1] ** 2) - 1) * self.mean_s ** 2
        if k == "exponential":
            return p[0] ** 2
        if k == "gamma":
            return (p[0] * p[1]) ** 2
        if k == "uniform":
            return (p[1] - p[0]) ** 2 / 12
        if k == "two_point":
            return (p[1] - p[0]) ** 2 * p[2] * (1 - p[2])
        if k == "stall":
            m2 = p[0] * (p[1] ** 2 + p[1] * p[2] + p[2] ** 2) / 3
            return m2 - self.mean_s ** 2
        return float(np.var(self.samples))

    @property
    def cv(self) -> float:
        """Coefficient of variation (standard deviation / mean); 0 for a fixed latency."""
        m = self.mean_s
        return math.sqrt(max(self.var_s2, 0.0)) / m if m > 0 else 0.0

    # --- closed forms --------------------------------------------------------------------------------------------
    def cdf(self, t_s: float) -> float:
        """P(latency <= t_s). Exact for every kind (empirical: the sample fraction)."""
        t = check_number("t_s", t_s, lo=-_L.MAX_LATENCY_S * 1e6, hi=_L.MAX_LATENCY_S * 1e6, unit="s")
        k, p = self.kind, self.params
        if t < 0:
            return 0.0
        if k == "const":
            return 1.0 if t >= p[0] else 0.0
        if k == "lognormal":
            if p[1] == 0:
                return 1.0 if t >= p[0] else 0.0
            return 0.0 if t == 0 else _NORMAL.cdf(math.log(t / p[0]) / p[1])
        if k == "exponential":
            return 1.0 if p[0] == 0 else 1 - math.exp(-t / p[0])
        if k == "uniform":
            return 1.0 if t >= p[1] else (0.0 if t < p[0] else (t - p[0]) / (p[1] - p[0]))
        if k == "two_point":
            return (1.0 if t >= p[1] else (1 - p[2])) if t >= p[0] else (1.0 if t >= p[1] else 0.0)
        if k == "stall":
            below = 0.0 if t < p[1] else (1.0 if t >= p[2] or p[2] == p[1] else (t - p[1]) / (p[2] - p[1]))
            return (1 - p[0]) + p[0] * below
        if k == "empirical":
            return float(np.mean(self.samples <= t))
        raise LabsimError(f"no closed-form CDF for a {k} distribution; use simulate()")

    def quantile(self, q: float) -> float:
        """Smallest t with P(latency <= t) >= q (the inverse CDF). Gamma has no closed form here. q = 1 of a
        distribution with an unbounded tail (lognormal, exponential) has no finite answer and raises."""
        q = check_fraction("q", q)
        k, p = self.kind, self.params
        if q == 1 and ((k == "lognormal" and p[1] > 0) or (k == "exponential" and p[0] > 0)):
            raise LabsimError(f"q = 1 has no finite quantile: a {k} latency has an unbounded tail; "
                              "allowed: q in [0, 1)")
        if k == "const":
            return p[0]
        if k == "lognormal":
            if p[1] == 0 or 0 < q < 1:
                return p[0] if p[1] == 0 else p[0] * math.exp(p[1] * _NORMAL.inv_cdf(q))
            return 0.0
        if k == "exponential":
            return -p[0] * math.log1p(-q) if q < 1 else 0.0
        if k == "uniform":
            return p[0] + q * (p[1] - p[0])
        if k == "two_point":
            return p[0] if q <= 1 - p[2] else p[1]
        if k == "stall":
            if q <= 1 - p[0]:
                return 0.0
            return p[1] + (q - (1 - p[0])) / p[0] * (p[2] - p[1])
        if k == "empirical":
            return float(np.quantile(self.samples, q, method="inverted_cdf"))
        raise LabsimError(f"no closed-form quantile for a {k} distribution; use simulate()")

    @property
    def median_s(self) -> float:
        try:
            return self.quantile(0.5)
        except LabsimError:
            return self.mean_s

    def scaled(self, factor) -> Dist:
        """The same shape with every latency multiplied by ``factor`` >= 0 (e.g. a multiplier ÷ decode speed)."""
        f = check_number("factor", factor, lo=0.0, hi=_L.MAX_TOKENS)
        try:
            return self._scaled(f)
        except LabsimError as exc:
            raise LabsimError(f"factor = {f:g} scales this {self.kind} latency out of range: {exc}") from None

    def _scaled(self, f: float) -> Dist:
        k, p = self.kind, self.params
        if k == "empirical":
            return Dist(k, (), self.samples * f)
        if k in ("gamma", "lognormal"):
            return Dist(k, (p[0] * f, p[1])) if p[0] * f > 0 else const(0.0)
        if k == "two_point":
            return Dist(k, (p[0] * f, p[1] * f, p[2]))
        if k == "stall":
            return Dist(k, (p[0], p[1] * f, p[2] * f))
        return Dist(k, tuple(x * f for x in p))

    def sample(self, n: int = 100_000, seed: int = 0) -> np.ndarray:
        """``n`` seeded draws (the same numba sampler the task kernels use)."""
        k, a, b, c = self._code(0)
        emp = self.samples if self.kind == "empirical" else np.zeros(1)
        return _sample_folded(np.array([k], np.int64), np.array([a]), np.array([b]), np.array([c]), np.ones(1),
                              np.array([0, 1], np.int64), np.ones(1, np.int64), emp, _n("n", n), _seed(seed),
                              np.zeros(1, np.bool_), np.array([-1.0, 0.0, 0.0, 0.0]))

    def _code(self, emp_offset: int) -> tuple[int, float, float, float]:
        p = tuple(self.params) + (0.0,) * (3 - len(self.params))
        if self.kind == "empirical":
            return _KINDS["empirical"], float(emp_offset), float(len(self.samples)), 0.0
        return _KINDS[self.kind], float(p[0]), float(p[1]), float(p[2])


def const(seconds) -> Dist:
    """A fixed latency (zero variance)."""
    return Dist("const", (_latency("seconds", seconds),))


def lognormal(p50_s, sigma) -> Dist:
    """Lognormal by its median and log-standard-deviation σ (p99/p50 = e^{2.326σ})."""
    return Dist("lognormal", (check_number("p50_s", p50_s, lo=0.0, lo_open=True, hi=_L.MAX_LATENCY_S, unit="s"),
                              check_number("sigma", sigma, lo=0.0, hi=5.0)))


def lognormal_from_quantile(p50_s, px_s, q) -> Dist:
    """Lognormal through a median and one upper quantile: σ = ln(p_x/p50)/z_q."""
    p50 = check_number("p50_s", p50_s, lo=0.0, lo_open=True, hi=_L.MAX_LATENCY_S, unit="s")
    q = check_number("q", q, lo=0.5, hi=1.0, lo_open=True, hi_open=True)
    px = check_number("px_s", px_s, lo=0.0, hi=_L.MAX_LATENCY_S, unit="s")
    if px < p50:
        raise LabsimError(f"px_s = {px:g} s is below p50_s = {p50:g} s; allowed: px_s ≥ p50_s (an upper quantile)")
    sigma = math.log(px / p50) / _NORMAL.inv_cdf(q)
    if sigma > 5.0:
        raise LabsimError(f"px_s = {px:g} s at q = {q:g} needs sigma = {sigma:.3g} > 5; allowed: px_s/p50_s at most "
                          f"e^(5·z_q) = {math.exp(5 * _NORMAL.inv_cdf(q)):.3g}")
    return lognormal(p50, sigma)


def exponential(mean_s) -> Dist:
    """Exponential with the given mean (coefficient of variation 1)."""
    return Dist("exponential", (_latency("mean_s", mean_s),))


def uniform(lo_s, hi_s) -> Dist:
    lo = _latency("lo_s", lo_s)
    hi = _latency("hi_s", hi_s)
    return Dist("uniform", (lo, hi))


def gamma(mean_s, cv) -> Dist:
    """Gamma by mean and coefficient of variation: cv 0 = fixed, cv 1 = exponential, any cv in between or above."""
    return Dist("gamma", (_latency("mean_s", mean_s), _cv("cv", cv)))


def two_point(fast_s, slow_s, p_slow) -> Dist:
    """``fast_s`` with probability 1 − p_slow, ``slow_s`` otherwise — the 'slow with probability p' step."""
    return Dist("two_point", (_latency("fast_s", fast_s), _latency("slow_s", slow_s), check_fraction("p_slow", p_slow)))


def stall(p, lo_s, hi_s) -> Dist:
    """An additive stall: 0 with probability 1 − p, else uniform(lo_s, hi_s) (e.g. a prefill joining the batch)."""
    return Dist("stall", (check_fraction("p", p), _latency("lo_s", lo_s), _latency("hi_s", hi_s)))


def empirical(samples_s) -> Dist:
    """Resample (with replacement) from measured or simulated latencies, e.g. chapter 2's GPU distribution."""
    arr = check_array("samples_s", samples_s, lo=0.0, hi=_L.MAX_LATENCY_S, unit="s").ravel()
    if arr.size == 0:
        raise LabsimError("samples_s must hold at least one latency")
    return Dist("empirical", (), np.ascontiguousarray(arr, dtype=np.float64))


def as_dist(x, name: str = "x") -> Dist:
    """A number (seconds) becomes a fixed latency; a ``Dist`` passes through."""
    if isinstance(x, Dist):
        return x
    return const(_latency(name, x))

