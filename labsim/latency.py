"""The agentic latency budget (chapter 5): thresholds, steps, chains, fan-out tails, queues, a budget planner.

The core takes plain numbers — tokens/s, seconds, $ per million tokens — so it runs without the other chapters;
thin adapters at the bottom (``decode_speed``, ``prefill_seconds``, ``chip_step``, ``plan_on_chip``,
``usd_per_mtok``, ``report_fig11_points``) fetch those numbers from ``labsim.capacity`` / ``labsim.tco`` /
``labsim.gpu`` when asked.

Model (design and sources: ``docs/design/latency.md``; bibliography: ``docs/sources.md``):

* a **component** is a latency in seconds, fixed or drawn from a named distribution, times a scale
  (e.g. ``tokens × seconds-per-token``);
* an agent **step** = queue wait + time to first token (prefill) + reasoning/output tokens ÷ decode speed + tool
  call + network — the sum of its components (NVIDIA NIM / DistServe definition of end-to-end latency);
* a **task** = a chain of stages; a stage runs ``fan_out`` independent copies of its step and the slowest gates
  the next stage ("wait for all");
* tails by seeded Monte Carlo (numba) and, where one exists, by closed form: ``1 − p^k`` for chains and
  ``1 − F(t)^n`` for fan-out (Dean & Barroso, "The Tail at Scale", CACM 2013);
* a single FIFO server with Poisson (or any-CV gamma) arrivals simulated by the Lindley recursion, against
  Pollaczek–Khinchine and Kingman; a batching server that waits to fill a batch;
* a budget planner: the largest reasoning budget whose task latency quantile meets an SLO, and its $/task.

Every random draw takes ``seed``; no distribution's tail is clipped.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from statistics import NormalDist

import numba
import numpy as np

from . import limits as _L
from .errors import (
    LabsimError,
    check_array,
    check_bool,
    check_choice,
    check_fraction,
    check_int,
    check_name,
    check_number,
)

__all__ = [
    # thresholds and presets
    "Threshold", "thresholds", "threshold_s", "Platform", "platforms", "platform", "voice_stages",
    # distributions
    "Dist", "as_dist", "const", "lognormal", "lognormal_from_quantile", "exponential", "uniform", "gamma",
    "two_point", "stall", "empirical",
    # steps and tasks
    "Component", "Step", "Stage", "Task", "agent_step", "platform_step", "voice_turn", "task", "Tails",
    "tails", "simulate", "session_multiplier", "QUANTILES", "decode_seconds", "tokens_in_seconds",
    # closed forms
    "chain_slow_probability", "fanout_slow_probability", "fanout_quantile", "chain_quantile",
    "binomial_quantile",
    # queueing and batching
    "pk_mean_wait_s", "mm1_mean_wait_s", "md1_mean_wait_s", "kingman_mean_wait_s", "mm1_wait_quantile_s",
    "QueueResult", "simulate_queue", "BatchResult", "simulate_batching", "batching_curve",
    "linear_batch_seconds_per_token",
    # planner
    "BudgetPlan", "plan_budget", "plan_on_chip", "max_reasoning_tokens", "cost_per_task_usd",
    # adapters
    "decode_speed", "prefill_seconds", "chip_step", "usd_per_mtok", "report_fig11_points", "gpu_step_samples",
    "gpu_decode_jitter",
]

_DATA = Path(__file__).resolve().parent / "data" / "latency"

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


# ----------------------------------------------------------------------------------------------------------------
# Thresholds and presets (sourced data)
# ----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Threshold:
    name: str
    seconds: float
    label: str
    source: str
    tag: str


@lru_cache(maxsize=None)
def _load(name: str) -> dict:
    with open(_DATA / name, "rb") as fh:
        return tomllib.load(fh)


def thresholds() -> dict[str, Threshold]:
    """Human response-time thresholds (``data/latency/thresholds.toml``), shortest first, each with its source."""
    rows = [Threshold(k, float(v["seconds"]), v["label"], v["source"], v["tag"])
            for k, v in _load("thresholds.toml").items()]
    return {t.name: t for t in sorted(rows, key=lambda t: t.seconds)}


def threshold_s(name: str) -> float:
    """Seconds of one named threshold, e.g. ``threshold_s("voice_turn") -> 0.5``."""
    table = thresholds()
    return table[check_choice("name", name, table, what="threshold")].seconds


@dataclass(frozen=True)
class Platform:
    """A serving-platform archetype for the LLM part of a step (``data/latency/platforms.toml``; all [A] modelling
    choices)."""
    name: str
    display_name: str
    ttft_p50_s: float
    ttft_sigma: float
    decode_sigma: float
    p_stall: float
    stall_lo_s: float
    stall_hi_s: float
    source: str


def platforms() -> dict[str, Platform]:
    """Platform archetypes from ``data/latency/platforms.toml``."""
    return {k: Platform(name=k, **v) for k, v in _load("platforms.toml").items()}


def platform(name: str) -> Platform:
    """One platform archetype by name."""
    return _platform(name, "name")


def _platform(name, param: str) -> Platform:
    """``platform`` with the caller's parameter name in the error message."""
    table = platforms()
    return table[check_choice(param, name, table, what="platform")]


def voice_stages() -> list[dict]:
    """The stages of one cascaded voice turn (``data/latency/voice_turn.toml``), in order."""
    return [dict(s) for s in _load("voice_turn.toml")["stage"]]


# ----------------------------------------------------------------------------------------------------------------
# Distributions of a latency (seconds). Kind codes are what the numba kernels switch on.
# ----------------------------------------------------------------------------------------------------------------
_KINDS = {"const": 0, "lognormal": 1, "exponential": 2, "uniform": 3, "gamma": 4, "two_point": 5, "stall": 6,
          "empirical": 7}
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
        return Step((Component("x", self),)).sample(n, seed)

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


# ----------------------------------------------------------------------------------------------------------------
# numba kernels (private). Every kernel seeds numba's generator from ``seed`` before its first draw.
# ----------------------------------------------------------------------------------------------------------------
def _ziggurat_tables(layers: int = 256, r: float = 3.6541528853610088, v: float = 0.00492867323399,
                     bits: int = 44):
    """Tables of the ziggurat method for N(0, 1) (Marsaglia & Tsang, J. Stat. Softw. 5(8), 2000), 256 layers of
    equal area ``v``, base strip + exact tail beyond ``r``. ``k[i]``: accept threshold on the ``bits``-bit integer;
    ``w[i]``: integer → x scale; ``f[i]``: density e^{−x²/2} at layer edge i."""
    m = 2.0 ** bits
    dens = lambda x: math.exp(-0.5 * x * x)  # noqa: E731
    k, w, f = np.zeros(layers), np.zeros(layers), np.zeros(layers)
    dn = tn = r
    q = v / dens(r)
    k[0] = math.floor(r / q * m)
    w[0], w[-1] = q / m, r / m
    f[0], f[-1] = 1.0, dens(r)
    for i in range(layers - 2, 0, -1):
        dn = math.sqrt(-2.0 * math.log(v / dn + dens(dn)))
        k[i + 1] = math.floor(dn / tn * m)
        tn = dn
        f[i] = dens(dn)
        w[i] = dn / m
    return k, w, f


_ZIG_K, _ZIG_W, _ZIG_F = _ziggurat_tables()
_ZIG_R = 3.6541528853610088


@numba.njit(cache=True)
def _std_normal():
    """One N(0, 1) draw by the ziggurat method: one 53-bit uniform gives the layer (8 bits), the sign (1 bit) and
    the abscissa (44 bits), independent bits as in Doornik (2005); ≈ 99 % of draws take that one uniform, the rest
    take the exact wedge test or the exact tail (Marsaglia 1964). Exact — no clipping — and ≈ 2× faster than
    numba's polar-method ``np.random.standard_normal`` (one log and one sqrt per pair)."""
    while True:
        j = np.int64(np.random.random() * 9007199254740992.0)   # random() = k / 2^53, so j = k exactly
        i = j & 255
        neg = (j >> 8) & 1
        rabs = j >> 9
        x = rabs * _ZIG_W[i]
        if rabs < _ZIG_K[i]:
            return -x if neg else x
        if i == 0:  # the tail beyond r
            while True:
                xx = -math.log1p(-np.random.random()) / _ZIG_R
                yy = -math.log1p(-np.random.random())
                if yy + yy > xx * xx:
                    return -(_ZIG_R + xx) if neg else _ZIG_R + xx
        if _ZIG_F[i] + np.random.random() * (_ZIG_F[i - 1] - _ZIG_F[i]) < math.exp(-0.5 * x * x):
            return -x if neg else x


@numba.njit(cache=True)
def _normals(n, seed):
    np.random.seed(seed)
    out = np.empty(n)
    for i in range(n):
        out[i] = _std_normal()
    return out


_SG_MAGICCONST = 1.0 + math.log(4.5)


@numba.njit(cache=True)
def _gamma_draw(alpha, beta):
    """One Gamma(shape ``alpha``, scale ``beta``) draw from ``np.random.random()`` only — CPython's
    ``random.gammavariate`` (Cheng 1977 for alpha > 1, the exponential for alpha = 1, Kennedy & Gentle's GS
    algorithm below 1), which is also what numba compiles ``np.random.gamma(shape, scale)`` into. Written out
    here so that NumPy under ``NUMBA_DISABLE_JIT=1`` draws exactly the same numbers as the compiled kernel (NumPy's
    own ``np.random.gamma`` uses another algorithm)."""
    if alpha > 1.0:
        ainv = math.sqrt(2.0 * alpha - 1.0)
        bbb = alpha - math.log(4.0)
        ccc = alpha + ainv
        while True:
            u1 = np.random.random()
            if not 1e-7 < u1 < 0.9999999:
                continue
            u2 = 1.0 - np.random.random()
            v = math.log(u1 / (1.0 - u1)) / ainv
            x = alpha * math.exp(v)
            z = u1 * u1 * u2
            r = bbb + ccc * v - x
            if r + _SG_MAGICCONST - 4.5 * z >= 0.0 or r >= math.log(z):
                return x * beta
    elif alpha == 1.0:
        return -math.log(1.0 - np.random.random()) * beta
    while True:
        u = np.random.random()
        b = (math.e + alpha) / math.e
        p = b * u
        if p <= 1.0:
            x = p ** (1.0 / alpha)
        else:
            x = -math.log((b - p) / alpha)
        u1 = np.random.random()
        if p > 1.0:
            if u1 <= x ** (alpha - 1.0):
                break
        elif u1 <= math.exp(-x):
            break
    return x * beta


@numba.njit(cache=True, inline="always")
def _draw(kind, a, b, c, emp):
    if kind == 0:
        return a
    elif kind == 1:
        if b == 0.0:
            return a
        return a * math.exp(b * _std_normal())
    elif kind == 2:
        if a == 0.0:
            return 0.0
        return np.random.exponential(a)
    elif kind == 3:
        return a + (b - a) * np.random.random()
    elif kind == 4:
        if b == 0.0 or a == 0.0:
            return a
        shape = 1.0 / (b * b)
        return _gamma_draw(shape, a / shape)
    elif kind == 5:
        if np.random.random() < c:
            return b
        return a
    elif kind == 6:
        if np.random.random() < a:
            return b + (c - b) * np.random.random()
        return 0.0
    else:
        return emp[int(a) + np.random.randint(0, int(b))]


@numba.njit(cache=True)
def _sample_tasks(kind, pa, pb, pc, scale, comp_start, fan_out, emp, n_tasks, seed, corr, session, base_plain,
                  base_corr):
    """Task latency = Σ_stages max_{fan_out copies} (base + Σ_components scale·draw); components with ``corr`` set
    are also multiplied by one per-task draw of ``session`` = (kind, a, b, c), kind < 0 meaning none. The fixed
    components of stage s are folded into ``base_plain[s] + m·base_corr[s]`` (they draw nothing)."""
    np.random.seed(seed)
    out = np.empty(n_tasks)
    n_stages = fan_out.shape[0]
    s_kind = int(session[0])
    for i in range(n_tasks):
        m = 1.0
        if s_kind >= 0:
            m = _draw(s_kind, session[1], session[2], session[3], emp)
        total = 0.0
        for s in range(n_stages):
            base = base_plain[s] + m * base_corr[s]
            c0, c1 = comp_start[s], comp_start[s + 1]
            if c0 == c1:            # nothing random in this stage: every copy takes ``base``
                total += base
                continue
            slowest = 0.0
            for _ in range(fan_out[s]):
                t = base
                for c in range(c0, c1):
                    d = scale[c] * _draw(kind[c], pa[c], pb[c], pc[c], emp)
                    if corr[c]:
                        d *= m
                    t += d
                if t > slowest:
                    slowest = t
            total += slowest
        out[i] = total
    return out


@numba.njit(cache=True)
def _sample_ab(kind, pa, pb, pc, scale, reasoning, comp_start, fan_out, emp, n_tasks, seed):
    """Per task and per branch: A = Σ non-reasoning components, B = seconds per reasoning token."""
    np.random.seed(seed)
    n_branches = 0
    for s in range(fan_out.shape[0]):
        n_branches += fan_out[s]
    a_s = np.empty((n_tasks, n_branches))
    b_s = np.empty((n_tasks, n_branches))
    for i in range(n_tasks):
        j = 0
        for s in range(fan_out.shape[0]):
            for _ in range(fan_out[s]):
                a = 0.0
                b = 0.0
                for c in range(comp_start[s], comp_start[s + 1]):
                    d = _draw(kind[c], pa[c], pb[c], pc[c], emp)
                    if reasoning[c]:
                        b += d
                    else:
                        a += scale[c] * d
                a_s[i, j] = a
                b_s[i, j] = b
                j += 1
    return a_s, b_s


@numba.njit(cache=True)
def _totals_at(a_s, b_s, fan_out, tokens):
    n = a_s.shape[0]
    out = np.empty(n)
    for i in range(n):
        total = 0.0
        j = 0
        for s in range(fan_out.shape[0]):
            slowest = 0.0
            for _ in range(fan_out[s]):
                t = a_s[i, j] + tokens * b_s[i, j]
                if t > slowest:
                    slowest = t
                j += 1
            total += slowest
        out[i] = total
    return out


@numba.njit(cache=True)
def _lindley(lam_mean_gap, arrival_cv, s_kind, sa, sb, sc, emp, n, warmup, seed):
    """FIFO single server: W_{n+1} = max(0, W_n + S_n − A_{n+1}); returns waits and service times."""
    np.random.seed(seed)
    waits = np.empty(n)
    services = np.empty(n)
    w = 0.0
    for i in range(warmup + n):
        s = _draw(s_kind, sa, sb, sc, emp)
        if arrival_cv == 1.0:
            gap = np.random.exponential(lam_mean_gap)
        elif arrival_cv == 0.0:
            gap = lam_mean_gap
        else:
            shape = 1.0 / (arrival_cv * arrival_cv)
            gap = _gamma_draw(shape, lam_mean_gap / shape)
        if i >= warmup:
            waits[i - warmup] = w
            services[i - warmup] = s
        w = w + s - gap
        if w < 0.0:
            w = 0.0
    return waits, services


@numba.njit(cache=True)
def _batch_server(mean_gap, batch, service_by_size, max_wait, n, warmup, seed):
    """Poisson arrivals; one server starts a batch when it is free and either ``batch`` requests wait or the
    oldest has waited ``max_wait``; it takes every waiting request up to ``batch``; a batch of m lasts
    service_by_size[m-1]. Returns per-request latency (arrival -> batch done), batch sizes and busy time."""
    np.random.seed(seed)
    total = n + warmup
    arr = np.empty(total)
    t = 0.0
    for i in range(total):
        t += np.random.exponential(mean_gap)
        arr[i] = t
    lat = np.empty(total)
    sizes = np.zeros(batch + 1, dtype=np.int64)
    free = 0.0
    busy = 0.0
    i = 0
    while i < total:
        j_full = i + batch - 1
        t_full = arr[j_full] if j_full < total else arr[total - 1]
        t_ready = min(t_full, arr[i] + max_wait)
        start = max(free, t_ready)
        m = 1
        while m < batch and i + m < total and arr[i + m] <= start:
            m += 1
        done = start + service_by_size[m - 1]
        for r in range(i, i + m):
            lat[r] = done - arr[r]
        if i >= warmup:
            sizes[m] += 1
            busy += service_by_size[m - 1]
        free = done
        i += m
    return lat[warmup:], sizes, busy, arr[total - 1] - arr[warmup] if warmup < total else arr[total - 1]


# ----------------------------------------------------------------------------------------------------------------
# Steps, stages, tasks
# ----------------------------------------------------------------------------------------------------------------
_CATEGORIES = ("queue", "prefill", "decode", "tool", "network", "speech", "other")


@dataclass(frozen=True, eq=False)
class Component:
    """One latency term: ``scale × draw(dist)`` seconds. ``reasoning`` marks the per-token decode term
    (``dist`` is then seconds per token and ``scale`` the token count) so the planner can vary it."""
    name: str
    dist: Dist
    scale: float = 1.0
    category: str = "other"
    reasoning: bool = False

    def __post_init__(self):
        check_name("name", self.name)
        if not isinstance(self.dist, Dist):
            raise LabsimError(f"Component {self.name!r}: dist must be a Dist (use as_dist(seconds)), got {self.dist!r}")
        object.__setattr__(self, "scale", check_number(f"scale of component {self.name!r}", self.scale, lo=0.0,
                                                       hi=_L.MAX_TOKENS))
        check_choice("category", self.category, _CATEGORIES, what="component category")
        check_bool("reasoning", self.reasoning)

    @property
    def median_s(self) -> float:
        return self.scale * self.dist.median_s

    @property
    def mean_s(self) -> float:
        return self.scale * self.dist.mean_s


@dataclass(frozen=True, eq=False)
class Step:
    """A step's latency is the sum of its components (each drawn independently)."""
    components: tuple[Component, ...]
    name: str = "step"

    def __post_init__(self):
        comps = self.components
        if isinstance(comps, (str, bytes, dict)) or not isinstance(comps, (tuple, list)) or not comps:
            raise LabsimError(f"components must be a non-empty tuple of Component, got {comps!r}")
        for i, c in enumerate(comps):
            if not isinstance(c, Component):
                raise LabsimError(f"components[{i}] must be a Component, got {c!r}")
        object.__setattr__(self, "components", tuple(comps))
        check_name("name", self.name)

    def breakdown(self) -> list[tuple[str, float, str]]:
        """(name, median seconds, category) per component — what a Gantt bar draws. The sum of medians is
        not the median of the sum; use ``tails()`` for percentiles."""
        return [(c.name, c.median_s, c.category) for c in self.components]

    @property
    def median_sum_s(self) -> float:
        return float(sum(c.median_s for c in self.components))

    @property
    def mean_s(self) -> float:
        return float(sum(c.mean_s for c in self.components))

    @property
    def is_deterministic(self) -> bool:
        return all(c.dist.var_s2 == 0 for c in self.components)

    def sample(self, n: int = 100_000, seed: int = 0) -> np.ndarray:
        return task(self).sample(n, seed)


@dataclass(frozen=True, eq=False)
class Stage:
    step: Step
    fan_out: int = 1

    def __post_init__(self):
        if not isinstance(self.step, Step):
            raise LabsimError(f"step must be a Step, got {type(self.step).__name__}")
        object.__setattr__(self, "fan_out", check_int("fan_out", self.fan_out, lo=1, hi=_L.MAX_FAN_OUT))


@dataclass(frozen=True, eq=False)
class Task:
    """A chain of stages; each stage runs ``fan_out`` independent copies of its step and waits for the slowest.

    ``session`` (optional): a multiplier (median ≈ 1) drawn once per task and applied to every prefill and decode
    component — a slow or throttled device serves the whole session, so its slowness does not average out along
    the chain (docs/design/latency.md). ``session_multiplier()`` builds the course default.
    """
    stages: tuple[Stage, ...]
    name: str = "task"
    session: Dist | None = None

    def __post_init__(self):
        st = self.stages
        if isinstance(st, (str, bytes, dict)) or not isinstance(st, (tuple, list)) or not st:
            raise LabsimError(f"stages must be a non-empty tuple of Stage, got {st!r}")
        for i, x in enumerate(st):
            if not isinstance(x, Stage):
                raise LabsimError(f"stages[{i}] must be a Stage, got {x!r}")
        if len(st) > _L.MAX_STEPS:
            raise LabsimError(f"stages holds {len(st):,} stages; allowed: at most {_L.MAX_STEPS:,}")
        object.__setattr__(self, "stages", tuple(st))
        check_name("name", self.name)
        if self.session is not None and not isinstance(self.session, Dist):
            raise LabsimError(f"session must be a Dist (a multiplier with median ≈ 1), got {self.session!r}")

    def _arrays(self):
        kinds, pa, pb, pc, scale, reasoning, start, fan, emps = [], [], [], [], [], [], [0], [], []
        emp_len = 0
        offsets: dict[int, int] = {}   # one copy of each empirical sample array, however often it is used
        for st in self.stages:
            for comp in st.step.components:
                if comp.dist.kind == "empirical":
                    if id(comp.dist) not in offsets:
                        offsets[id(comp.dist)] = emp_len
                        emps.append(comp.dist.samples)
                        emp_len += comp.dist.samples.size
                    k, a, b, c = comp.dist._code(offsets[id(comp.dist)])
                else:
                    k, a, b, c = comp.dist._code(0)
                kinds.append(k); pa.append(a); pb.append(b); pc.append(c)
                scale.append(comp.scale); reasoning.append(comp.reasoning)
            start.append(len(kinds))
            fan.append(st.fan_out)
        if self.session is not None and self.session.kind == "empirical":
            if id(self.session) not in offsets:
                offsets[id(self.session)] = emp_len
                emps.append(self.session.samples)
                emp_len += self.session.samples.size
            object.__setattr__(self, "_session_offset", offsets[id(self.session)])
        else:
            object.__setattr__(self, "_session_offset", 0)
        emp = np.concatenate(emps) if emps else np.zeros(1)
        return (np.asarray(kinds, np.int64), np.asarray(pa, float), np.asarray(pb, float), np.asarray(pc, float),
                np.asarray(scale, float), np.asarray(reasoning, np.bool_), np.asarray(start, np.int64),
                np.asarray(fan, np.int64), emp)

    @property
    def steps(self) -> int:
        return len(self.stages)

    @property
    def median_sum_s(self) -> float:
        return float(sum(st.step.median_sum_s for st in self.stages))

    def sample(self, n: int = 100_000, seed: int = 0) -> np.ndarray:
        """``n`` seeded task latencies (seconds)."""
        n, seed = _n("n", n), _seed(seed)
        kinds, pa, pb, pc, scale, _, start, fan, emp = self._arrays()
        corr = np.asarray([c.category in ("prefill", "decode") for st in self.stages for c in st.step.components],
                          dtype=np.bool_)
        sess = np.array([-1.0, 0.0, 0.0, 0.0]) if self.session is None else \
            np.asarray(self.session._code(self._session_offset), dtype=np.float64)
        # Fixed components (const, lognormal with σ = 0) draw no random number: fold them into one constant per
        # stage so the kernel loops only over the random ones. The draws, and so the samples, are unchanged.
        fixed = (kinds == _KINDS["const"]) | ((kinds == _KINDS["lognormal"]) & (pb == 0.0))
        stage_of = np.repeat(np.arange(fan.size), np.diff(start))
        value = scale * pa * fixed
        base_plain = np.bincount(stage_of, weights=value * ~corr, minlength=fan.size)
        base_corr = np.bincount(stage_of, weights=value * corr, minlength=fan.size)
        keep = ~fixed
        kept_per_stage = np.bincount(stage_of[keep], minlength=fan.size)
        start_kept = np.concatenate(([0], np.cumsum(kept_per_stage))).astype(np.int64)
        return _sample_tasks(kinds[keep], pa[keep], pb[keep], pc[keep], scale[keep], start_kept, fan, emp, n, seed,
                             corr[keep], sess, base_plain, base_corr)


def task(step: Step | Task, steps: int = 1, fan_out: int = 1, name: str = "task", session: Dist | None = None) -> Task:
    """A chain of ``steps`` identical stages, each a ``fan_out``-way wait-for-all of ``step``; ``session`` is an
    optional per-task multiplier on prefill and decode (see ``Task``)."""
    return _task(step, steps, fan_out, name, session, "step")


def _task(step, steps, fan_out, name, session, param: str) -> Task:
    if isinstance(step, Task):
        if steps != 1 or fan_out != 1 or session is not None:
            raise LabsimError(f"{param}: steps/fan_out/session apply to a Step, not to a Task")
        return step
    if not isinstance(step, Step):
        raise LabsimError(f"{param} must be a Step or a Task, got {type(step).__name__}")
    steps = check_int("steps", steps, lo=1, hi=_L.MAX_STEPS)
    fan_out = check_int("fan_out", fan_out, lo=1, hi=_L.MAX_FAN_OUT)
    check_name("name", name)
    return Task(tuple(Stage(step, fan_out) for _ in range(steps)), name, session)


def decode_seconds(tokens, tokens_per_s) -> float:
    """Time to generate ``tokens`` at ``tokens_per_s`` per user: tokens / speed (2,000 at 1,600 tok/s = 1.25 s)."""
    return _tokens("tokens", tokens) / _speed("tokens_per_s", tokens_per_s)


def tokens_in_seconds(seconds, tokens_per_s) -> int:
    """Whole tokens that fit in ``seconds`` at ``tokens_per_s``."""
    s = _latency("seconds", seconds)
    return int(math.floor(s * _speed("tokens_per_s", tokens_per_s) + 1e-9))


def agent_step(output_tokens, decode_tokens_per_s, *, prompt_tokens=0, prefill_tokens_per_s=None, ttft_s=None,
               decode_sigma=0.0, decode_jitter: Dist | None = None, queue_s=0.0, tool_s=0.0, network_s=0.0,
               stall_p=0.0, stall_lo_s=0.0, stall_hi_s=0.0, name: str = "agent step") -> Step:
    """One agent step = queue + TTFT + output_tokens ÷ decode speed + tool + network (+ an optional stall).

    TTFT is ``ttft_s`` if given (a number or a Dist), else prompt_tokens ÷ prefill_tokens_per_s.
    ``decode_sigma`` is a lognormal multiplier on the whole decode time, drawn once per step (a slow step stays
    slow for all its tokens; per-token jitter would average out). ``decode_jitter`` instead gives that multiplier
    as any Dist with median ≈ 1 (e.g. ``gpu_decode_jitter()``, chapter 2's run-to-run distribution).
    E2E = TTFT + N·TPOT (NVIDIA NIM / DistServe).
    """
    out = _tokens("output_tokens", output_tokens)
    speed = _speed("decode_tokens_per_s", decode_tokens_per_s)
    sigma = check_number("decode_sigma", decode_sigma, lo=0.0, hi=5.0)
    check_name("name", name)
    comps = [Component("queue", as_dist(queue_s, "queue_s"), category="queue")]
    n_in = _tokens("prompt_tokens", prompt_tokens)
    pf = None if prefill_tokens_per_s is None else _speed("prefill_tokens_per_s", prefill_tokens_per_s)
    if ttft_s is not None:
        comps.append(Component("time to first token", as_dist(ttft_s, "ttft_s"), category="prefill"))
    elif n_in > 0:
        if pf is None:
            raise LabsimError("prompt_tokens > 0 needs prefill_tokens_per_s (or give ttft_s directly)")
        if n_in / pf > _L.MAX_LATENCY_S:
            raise LabsimError(f"prompt_tokens / prefill_tokens_per_s = {n_in / pf:g} s of prefill is out of range; "
                              f"allowed: at most {_L.MAX_LATENCY_S:g} s")
        comps.append(Component("prefill", const(1.0 / pf), scale=n_in, category="prefill"))
    else:
        comps.append(Component("prefill", const(0.0), category="prefill"))
    if decode_jitter is not None:
        if not isinstance(decode_jitter, Dist):
            raise LabsimError(f"decode_jitter must be a Dist (a multiplier with median ≈ 1), got {decode_jitter!r}")
        if sigma > 0:
            raise LabsimError("give decode_sigma or decode_jitter, not both")
        try:
            spt = decode_jitter.scaled(1.0 / speed)
        except LabsimError as exc:
            raise LabsimError(f"decode_jitter ÷ decode_tokens_per_s = {speed:g} tok/s: {exc}") from None
    else:
        spt = lognormal(1.0 / speed, sigma) if sigma > 0 else const(1.0 / speed)
    comps.append(Component("reasoning / output tokens", spt, scale=out, category="decode", reasoning=True))
    p_stall = check_fraction("stall_p", stall_p)
    s_lo, s_hi = _latency("stall_lo_s", stall_lo_s), _latency("stall_hi_s", stall_hi_s)
    if s_hi < s_lo:
        raise LabsimError(f"stall_hi_s = {s_hi:g} s is below stall_lo_s = {s_lo:g} s; allowed: stall_hi_s ≥ stall_lo_s")
    stall_d = stall(p_stall, s_lo, s_hi)
    if p_stall > 0:
        comps.append(Component("stall", stall_d, category="queue"))
    comps.append(Component("tool call", as_dist(tool_s, "tool_s"), category="tool"))
    comps.append(Component("network", as_dist(network_s, "network_s"), category="network"))
    return Step(tuple(comps), name)


def platform_step(platform_name: str, output_tokens, decode_tokens_per_s, *, tool_s=0.0, network_s=0.0,
                  queue_s=0.0, stalls: bool = True, name: str | None = None) -> Step:
    """An agent step whose TTFT, decode jitter and stalls come from a platform archetype (platforms.toml, [A])."""
    p = _platform(platform_name, "platform_name")
    stalls = check_bool("stalls", stalls)
    if name is not None:
        check_name("name", name)
    ttft = lognormal(p.ttft_p50_s, p.ttft_sigma) if p.ttft_sigma > 0 else const(p.ttft_p50_s)
    return agent_step(output_tokens, decode_tokens_per_s, ttft_s=ttft, decode_sigma=p.decode_sigma,
                      queue_s=queue_s, tool_s=tool_s, network_s=network_s,
                      stall_p=p.p_stall if stalls else 0.0, stall_lo_s=p.stall_lo_s, stall_hi_s=p.stall_hi_s,
                      name=name or p.display_name)


def voice_turn(platform_name: str = "hosted_gpu_api", *, ttft_s=None, first_sentence_tokens=0,
               decode_tokens_per_s=None, stalls: bool = True, jitter: bool = True) -> Step:
    """One cascaded voice turn (mic → transport → endpointing → STT → LLM → TTS → transport → speaker).

    Non-LLM stages: data/latency/voice_turn.toml ([A] defaults built on the sources named there). The LLM stage is the
    platform's TTFT (or ``ttft_s``) plus ``first_sentence_tokens`` ÷ ``decode_tokens_per_s``.
    ``jitter=False`` replaces every distribution by its median (the deterministic budget).
    """
    p = _platform(platform_name, "platform_name")
    n_tok = _tokens("first_sentence_tokens", first_sentence_tokens)
    stalls, jitter = check_bool("stalls", stalls), check_bool("jitter", jitter)
    speed = None if decode_tokens_per_s is None else _speed("decode_tokens_per_s", decode_tokens_per_s)
    comps = []
    for st in voice_stages():
        if st.get("llm"):
            if ttft_s is not None:
                ttft = as_dist(ttft_s, "ttft_s")
            else:
                ttft = lognormal(p.ttft_p50_s, p.ttft_sigma) if (jitter and p.ttft_sigma > 0) else const(p.ttft_p50_s)
            if not jitter:
                ttft = const(ttft.median_s)
            comps.append(Component("LLM time to first token", ttft, category="prefill"))
            if stalls and jitter and p.p_stall > 0:
                comps.append(Component("LLM stall", stall(p.p_stall, p.stall_lo_s, p.stall_hi_s), category="queue"))
            if n_tok > 0:
                if decode_tokens_per_s is None:
                    raise LabsimError("first_sentence_tokens > 0 needs decode_tokens_per_s")
                sig = p.decode_sigma if jitter else 0.0
                comps.append(Component("LLM first sentence", lognormal(1 / speed, sig) if sig > 0 else const(1 / speed),
                                       scale=n_tok, category="decode", reasoning=True))
            continue
        sigma = float(st["sigma"]) if jitter else 0.0
        d = lognormal(st["p50_s"], sigma) if sigma > 0 else const(st["p50_s"])
        cat = "network" if ("transport" in st["name"]) else "speech"
        comps.append(Component(st["name"], d, category=cat))
    return Step(tuple(comps), f"voice turn ({p.display_name})")


# ----------------------------------------------------------------------------------------------------------------
# Tails
# ----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tails:
    """P50/P90/P99/P99.9 (inverse-CDF quantiles), mean and max of ``n`` samples, in seconds."""
    p50_s: float
    p90_s: float
    p99_s: float
    p999_s: float
    mean_s: float
    max_s: float
    n: int

    def as_dict(self) -> dict[str, float]:
        return {"P50": self.p50_s, "P90": self.p90_s, "P99": self.p99_s, "P99.9": self.p999_s, "mean": self.mean_s}

    def __str__(self) -> str:
        return (f"P50 {self.p50_s * 1e3:,.1f} ms · P90 {self.p90_s * 1e3:,.1f} ms · P99 {self.p99_s * 1e3:,.1f} ms"
                f" · P99.9 {self.p999_s * 1e3:,.1f} ms  (n = {self.n:,})")


#: |sample| bound of ``tails``: far above any task that bounded inputs can produce (even lognormal tails of
#: MAX_LATENCY_S components over MAX_STEPS stages), and low enough that the mean of MAX_SAMPLES of them is finite.
_SAMPLE_BOUND_S = 1e290


def tails(samples_s) -> Tails:
    """Percentile summary of latency samples (inverse-CDF: the smallest sample with at least q of mass below)."""
    x = check_array("samples_s", samples_s, lo=-_SAMPLE_BOUND_S, hi=_SAMPLE_BOUND_S, unit="s").ravel()
    if x.size == 0:
        raise LabsimError("samples_s must hold at least one sample")
    q = np.quantile(x, QUANTILES, method="inverted_cdf")
    return Tails(float(q[0]), float(q[1]), float(q[2]), float(q[3]), float(x.mean()), float(x.max()), int(x.size))


def simulate(step_or_task: Step | Task, n: int = 200_000, seed: int = 0, *, steps: int = 1,
             fan_out: int = 1, session: Dist | None = None) -> Tails:
    """Monte Carlo tails of a step or task (``steps``/``fan_out``/``session`` wrap a Step into a task)."""
    return tails(_task(step_or_task, steps, fan_out, "task", session, "step_or_task").sample(n, seed))


def session_multiplier(sigma=0.05, p_slow_device=0.01, slow_lo=1.3, slow_hi=1.5, *, n: int = 100_000,
                       seed: int = 0) -> Dist:
    """Per-session device slowdown [A] (after [sinha22]): lognormal(1, σ) identical-SKU variation times,
    with probability ``p_slow_device``, a uniform(slow_lo, slow_hi) slow device (Sinha et al., SC22: 8 % average
    variation, outliers 1.5× the median GPU). Returned as an empirical Dist of ``n`` seeded draws."""
    sig = check_number("sigma", sigma, lo=0.0, hi=2.0)
    p = check_fraction("p_slow_device", p_slow_device)
    lo = check_number("slow_lo", slow_lo, lo=0.0, hi=1e3)
    hi = check_number("slow_hi", slow_hi, lo=0.0, hi=1e3)
    if hi < lo:
        raise LabsimError(f"slow_hi = {hi:g} is below slow_lo = {lo:g}; allowed: slow_hi ≥ slow_lo")
    rng = np.random.default_rng(_seed(seed))
    m = np.exp(sig * rng.standard_normal(_n("n", n)))
    slow = rng.random(m.size) < p
    m[slow] *= rng.uniform(lo, hi, int(slow.sum()))
    return empirical(m)


# ----------------------------------------------------------------------------------------------------------------
# Closed forms
# ----------------------------------------------------------------------------------------------------------------
def chain_slow_probability(p_slow, k) -> float:
    """P(at least one of k independent steps is slow) = 1 − p^k with p = 1 − p_slow the chance a step is on time."""
    p = check_fraction("p_slow", p_slow)
    k = check_int("k", k, lo=0)
    return 1.0 - (1.0 - p) ** k


def fanout_slow_probability(dist_or_cdf, n, t_s=None) -> float:
    """P(the slowest of n independent copies exceeds t) = 1 − F(t)^n ("The Tail at Scale": F = 0.99, n = 100
    → 63 %). Pass F(t) as a number, or a Dist and ``t_s``."""
    n = check_int("n", n, lo=0)
    if isinstance(dist_or_cdf, Dist):
        if t_s is None:
            raise LabsimError("fanout_slow_probability(dist, n, t_s): t_s is required with a distribution")
        f = dist_or_cdf.cdf(t_s)
    else:
        f = check_fraction("dist_or_cdf", dist_or_cdf)
    return 1.0 - f ** n


def fanout_quantile(dist: Dist, n, q) -> float:
    """q-quantile of the slowest of n iid copies: F⁻¹(q^{1/n})."""
    n = check_int("n", n, lo=1, hi=_L.MAX_CHIPS)
    q = check_fraction("q", q)
    d = as_dist(dist, "dist")
    qn = q ** (1.0 / n)
    if qn == 1.0 and q < 1.0:
        raise LabsimError(f"n = {n:,} copies push q^(1/n) to 1 in floating point: the slowest copy's {q:g}-quantile "
                          "is not resolvable; allowed: a smaller n")
    return d.quantile(qn)


def binomial_quantile(k, p, q) -> int:
    """Smallest m with P(Binomial(k, p) <= m) >= q."""
    k = check_int("k", k, lo=0, hi=_L.MAX_STEPS)
    p = check_fraction("p", p)
    q = check_fraction("q", q)
    target = q * (1 - 1e-12)
    if k <= 1000:      # exact terms (math.comb) for the chains a course uses
        cdf = 0.0
        for m in range(k + 1):
            cdf += math.comb(k, m) * p ** m * (1 - p) ** (k - m)
            if cdf >= target:
                return m
        return k
    if p in (0.0, 1.0):
        return 0 if p == 0.0 or q == 0.0 else k
    # long chains: the pmf in log space (no overflow of comb(k, m) or underflow of p^m), one vectorised pass
    m = np.arange(k + 1, dtype=np.float64)
    steps = np.log(k - m[:-1]) - np.log(m[:-1] + 1) + math.log(p) - math.log1p(-p)
    log_pmf = k * math.log1p(-p) + np.concatenate(([0.0], np.cumsum(steps)))
    cdf = np.cumsum(np.exp(log_pmf))
    hit = np.nonzero(cdf >= target)[0]
    return int(hit[0]) if hit.size else k


def _erlang_cdf(t, k, mean):
    x = t / mean
    term, acc = 1.0, 1.0
    for i in range(1, k):
        term *= x / i
        acc += term
    return 1.0 - math.exp(-x) * acc


def chain_quantile(dist: Dist, k, q) -> float:
    """q-quantile of the sum of k iid step latencies, where a closed form exists: fixed (k·t), two-point
    (k·fast + (slow − fast)·Binomial quantile), exponential (Erlang-k, inverted by bisection)."""
    k = check_int("k", k, lo=1, hi=_L.MAX_STEPS)
    q = check_fraction("q", q)
    d = as_dist(dist, "dist")
    if d.kind == "const" or (d.kind in ("lognormal", "gamma") and d.var_s2 == 0):
        return k * d.median_s
    if d.kind == "two_point":
        fast, slow, p = d.params
        return k * fast + (slow - fast) * binomial_quantile(k, p, q)
    if d.kind == "exponential" or (d.kind == "gamma" and d.params[1] == 1.0):
        mean = d.params[0]
        if mean == 0 or q == 0:
            return 0.0
        if q == 1:
            return math.inf
        lo, hi = 0.0, mean * (k + 10 * math.sqrt(k) + 50)
        for _ in range(200):
            mid = (lo + hi) / 2
            if _erlang_cdf(mid, k, mean) < q:
                lo = mid
            else:
                hi = mid
        return hi
    raise LabsimError(f"no closed form for the sum of {d.kind} latencies; use simulate(step, steps=k)")


# ----------------------------------------------------------------------------------------------------------------
# Queueing
# ----------------------------------------------------------------------------------------------------------------
def _load_check(load) -> float:
    return check_number("load", load, lo=0.0, hi=1.0, hi_open=True)


def pk_mean_wait_s(load, service_mean_s, service_cv) -> float:
    """Pollaczek–Khinchine M/G/1 mean queue wait: ρ·τ·(1 + C_s²) / (2(1 − ρ)) ([kleinrock75] ch. 5)."""
    rho = _load_check(load)
    tau = _latency("service_mean_s", service_mean_s)
    cs = check_number("service_cv", service_cv, lo=0.0, hi=_L.MAX_CV)
    return rho * tau * (1 + cs * cs) / (2 * (1 - rho))


def mm1_mean_wait_s(load, service_mean_s) -> float:
    """M/M/1 mean queue wait ρτ/(1 − ρ)."""
    return pk_mean_wait_s(load, service_mean_s, 1.0)


def md1_mean_wait_s(load, service_mean_s) -> float:
    """M/D/1 mean queue wait ρτ/(2(1 − ρ)) — exactly half of M/M/1."""
    return pk_mean_wait_s(load, service_mean_s, 0.0)


def kingman_mean_wait_s(load, service_mean_s, service_cv, arrival_cv=1.0) -> float:
    """Kingman's G/G/1 approximation (ρ/(1 − ρ))·((C_a² + C_s²)/2)·τ; equals P–K when arrivals are Poisson."""
    rho = _load_check(load)
    tau = _latency("service_mean_s", service_mean_s)
    cs = check_number("service_cv", service_cv, lo=0.0, hi=_L.MAX_CV)
    ca = check_number("arrival_cv", arrival_cv, lo=0.0, hi=_L.MAX_CV)
    return rho / (1 - rho) * (ca * ca + cs * cs) / 2 * tau


def mm1_wait_quantile_s(load, service_mean_s, q) -> float:
    """q-quantile of the M/M/1 queue wait: P(W > t) = ρ·e^{−μ(1−ρ)t} ⇒ t_q = ln(ρ/(1−q)) / (μ(1−ρ));
    0 if q ≤ 1 − ρ (that share of customers does not wait at all)."""
    rho = _load_check(load)
    tau = check_number("service_mean_s", service_mean_s, lo=0.0, lo_open=True, hi=_L.MAX_LATENCY_S, unit="s")
    q = check_fraction("q", q, allow_one=False)
    if q <= 1 - rho:
        return 0.0
    return math.log(rho / (1 - q)) / ((1 - rho) / tau)


@dataclass(frozen=True)
class QueueResult:
    load: float
    service_mean_s: float
    service_cv: float
    arrival_cv: float
    mean_wait_s: float
    mean_wait_stderr_s: float        #: batch-means standard error (50 batches) of mean_wait_s
    wait: Tails                      #: queue-wait percentiles
    sojourn: Tails                   #: wait + service percentiles
    pk_mean_wait_s: float            #: Pollaczek–Khinchine (exact for Poisson arrivals)
    kingman_mean_wait_s: float       #: Kingman's approximation
    customers: int


def _service_dist(service_mean_s, service_cv, family) -> Dist:
    family = check_choice("family", family, ("gamma", "lognormal"), what="service family")
    tau = check_number("service_mean_s", service_mean_s, lo=0.0, lo_open=True, hi=_L.MAX_LATENCY_S, unit="s")
    cv = _cv("service_cv", service_cv)
    if family == "gamma" or cv == 0:
        return gamma(tau, cv)
    sigma = math.sqrt(math.log1p(cv * cv))  # lognormal: C_s² = e^{σ²} − 1
    return lognormal(tau / math.exp(sigma * sigma / 2), sigma)


def simulate_queue(load, service_mean_s, service_cv=1.0, *, arrival_cv=1.0, family="gamma",
                   customers: int = 1_000_000, warmup: int | None = None, seed: int = 0) -> QueueResult:
    """Simulate a single-server FIFO queue (Lindley recursion, numba) at utilisation ``load`` = λτ.

    Service: gamma (or lognormal) with mean ``service_mean_s`` and coefficient of variation ``service_cv``
    (0 = deterministic, like a statically scheduled chip; 1 = exponential). Arrivals: Poisson
    (``arrival_cv`` = 1) or gamma gaps of another CV. ``warmup`` customers are simulated and dropped.
    """
    rho = _load_check(load)
    if rho == 0:
        raise LabsimError("load = 0 means no arrivals; use a load in (0, 1)")
    svc = _service_dist(service_mean_s, service_cv, family)
    ca = _cv("arrival_cv", arrival_cv)
    n = _n("customers", customers, lo=1000)
    wu = _n("warmup", n // 10 if warmup is None else warmup, lo=0)
    seed = _seed(seed)
    k, a, b, c = svc._code(0)
    waits, services = _lindley(svc.mean_s / rho, ca, k, a, b, c, np.zeros(1), n, wu, seed)
    batches = waits[: (n // 50) * 50].reshape(50, -1).mean(axis=1)
    stderr = float(batches.std(ddof=1) / math.sqrt(50))
    return QueueResult(rho, svc.mean_s, float(service_cv), ca, float(waits.mean()), stderr, tails(waits),
                       tails(waits + services), pk_mean_wait_s(rho, svc.mean_s, service_cv),
                       kingman_mean_wait_s(rho, svc.mean_s, service_cv, ca), n)


@dataclass(frozen=True)
class BatchResult:
    arrival_rate_per_s: float
    batch: int
    latency: Tails                   #: arrival -> whole batch finished, seconds
    mean_batch: float                #: mean requests per batch served
    utilisation: float               #: fraction of time the server is busy
    throughput_per_s: float          #: requests completed per second
    requests: int


def linear_batch_seconds_per_token(t_fixed_s, t_per_seq_s, batch) -> np.ndarray:
    """[A] A decode step that reads the weights once (``t_fixed_s``) plus per-sequence KV/compute
    (``t_per_seq_s``): seconds per token at batch 1..batch. Prefer ``labsim.capacity.decode_time(batch=…)``."""
    t0 = check_number("t_fixed_s", t_fixed_s, lo=0.0, lo_open=True, hi=_L.MAX_LATENCY_S, unit="s")
    t1 = _latency("t_per_seq_s", t_per_seq_s)
    b = check_int("batch", batch, lo=1, hi=100_000)
    return t0 + t1 * np.arange(1, b + 1, dtype=np.float64)


#: Slowest arrival rate a simulation accepts (one request per ~32 years): mean gaps stay finite.
_MIN_RATE_PER_S = 1e-9


def simulate_batching(arrival_rate_per_s, batch, service_by_size_s, *, max_wait_s=math.inf,
                      requests: int = 200_000, warmup: int | None = None, seed: int = 0) -> BatchResult:
    """Poisson requests served in batches of up to ``batch`` (static batching: a batch runs to completion).

    ``service_by_size_s``: seconds one batch of m requests takes, for m = 1..batch (a scalar means the same
    for every m). The server waits for a full batch unless the oldest request has waited ``max_wait_s``.
    Raises if full batches cannot keep up (load = λ·service(batch)/batch ≥ 1).
    """
    lam = check_number("arrival_rate_per_s", arrival_rate_per_s, lo=_MIN_RATE_PER_S, hi=_L.MAX_RATE_PER_S, unit="1/s")
    b = check_int("batch", batch, lo=1, hi=100_000)
    svc = check_array("service_by_size_s", service_by_size_s, lo=0.0, hi=_L.MAX_LATENCY_S, unit="s")
    svc = np.full(b, float(svc)) if svc.ndim == 0 else svc.ravel()
    if svc.size != b:
        raise LabsimError(f"service_by_size_s needs one entry per batch size 1..{b}, got {svc.size}")
    if isinstance(max_wait_s, (int, float)) and not isinstance(max_wait_s, bool) and max_wait_s == math.inf:
        wait = math.inf
    else:
        wait = _latency("max_wait_s", max_wait_s)
    load = lam * svc[-1] / b
    if load >= 1:
        raise LabsimError(f"load = λ·service(batch)/batch = {load:.3g} >= 1: the server cannot keep up "
                          f"(arrival_rate_per_s = {lam:g}, service_by_size_s[-1] = {svc[-1]:g} s, batch = {b}); "
                          "the queue grows without bound")
    n = _n("requests", requests, lo=100)
    wu = _n("warmup", n // 10 if warmup is None else warmup, lo=0)
    lat, sizes, busy, span = _batch_server(1.0 / lam, b, np.ascontiguousarray(svc), wait, n, wu, _seed(seed))
    n_batches = int(sizes.sum())
    served = int((sizes * np.arange(b + 1)).sum())
    return BatchResult(lam, b, tails(lat), served / max(n_batches, 1), min(busy / span, 1.0) if span > 0 else 0.0,
                       served / span if span > 0 else 0.0, n)


def batching_curve(seconds_per_token_by_batch, output_tokens, batch, loads=(0.1, 0.3, 0.5, 0.7, 0.8, 0.9),
                   *, max_wait_s=math.inf, requests: int = 50_000, seed: int = 0) -> dict[str, np.ndarray]:
    """Throughput–latency curve of a server running ``batch`` requests of ``output_tokens`` together.

    ``seconds_per_token_by_batch[m-1]``: seconds per decode step with m sequences (from capacity, or
    ``linear_batch_seconds_per_token``). For each load (fraction of the full-batch capacity) it simulates
    ``simulate_batching`` and returns arrays: throughput_tok_s, tokens_per_s_per_user, p50_s, p99_s, load.
    A batch-1 LPU is the same call with batch = 1 (then it is an M/D/1 queue).
    """
    b = check_int("batch", batch, lo=1, hi=100_000)
    spt = check_array("seconds_per_token_by_batch", seconds_per_token_by_batch, lo=0.0, lo_open=True,
                      hi=_L.MAX_LATENCY_S, unit="s").ravel()
    if spt.size < b:
        raise LabsimError(f"seconds_per_token_by_batch needs at least {b} entries (batch 1..{b}), got {spt.size}")
    n_out = _tokens("output_tokens", output_tokens, lo=1)
    lds = check_array("loads", loads, lo=0.0, hi=1.0, lo_open=True, hi_open=True).ravel()
    seed = check_int("seed", seed, lo=0, hi=2**32 - 1 - lds.size)
    service = n_out * spt[:b]
    if service[-1] > _L.MAX_LATENCY_S:
        raise LabsimError(f"output_tokens × seconds_per_token_by_batch[{b - 1}] = {service[-1]:g} s per batch is out "
                          f"of range; allowed: at most {_L.MAX_LATENCY_S:g} s")
    cap_per_s = b / service[-1]
    lam = lds * cap_per_s
    if np.any(lam < _MIN_RATE_PER_S) or np.any(lam > _L.MAX_RATE_PER_S):
        raise LabsimError(f"loads × capacity give arrival rates from {lam.min():g} to {lam.max():g} per second; "
                          f"allowed: [{_MIN_RATE_PER_S:g}, {_L.MAX_RATE_PER_S:g}] (raise the smallest loads, or "
                          "check seconds_per_token_by_batch and output_tokens)")
    rows = {k: np.empty(lds.size) for k in ("load", "throughput_tok_s", "tokens_per_s_per_user", "p50_s", "p99_s")}
    for i, ld in enumerate(lds):
        r = simulate_batching(ld * cap_per_s, b, service, max_wait_s=max_wait_s, requests=requests, seed=seed + i)
        rows["load"][i] = ld
        rows["throughput_tok_s"][i] = r.throughput_per_s * n_out
        rows["tokens_per_s_per_user"][i] = 1.0 / spt[min(int(round(r.mean_batch)), b) - 1]
        rows["p50_s"][i] = r.latency.p50_s
        rows["p99_s"][i] = r.latency.p99_s
    return rows


# ----------------------------------------------------------------------------------------------------------------
# Budget planner
# ----------------------------------------------------------------------------------------------------------------
def cost_per_task_usd(tokens_per_task, usd_per_mtok) -> float:
    """$ per task = generated tokens × ($ per million tokens) / 10⁶ (chapter 4's cost per token)."""
    return check_number("tokens_per_task", tokens_per_task, lo=0.0, hi=_L.MAX_TOKENS * _L.MAX_STEPS) * \
        check_number("usd_per_mtok", usd_per_mtok, lo=0.0, hi=_L.MAX_USD, unit="USD/Mtok") / 1e6


def max_reasoning_tokens(slo_s, decode_tokens_per_s, *, fixed_s=0.0, steps=1) -> int:
    """Deterministic budget: the most tokens per step with steps·(fixed_s + tokens/speed) <= slo_s; -1 if even
    zero tokens miss the SLO."""
    slo = check_number("slo_s", slo_s, lo=0.0, lo_open=True, hi=_L.MAX_LATENCY_S, unit="s")
    speed = _speed("decode_tokens_per_s", decode_tokens_per_s)
    fixed = _latency("fixed_s", fixed_s)
    k = check_int("steps", steps, lo=1, hi=_L.MAX_STEPS)
    room = slo / k - fixed
    if room < -1e-12:
        return -1
    return int(math.floor(max(room, 0.0) * speed + 1e-9))


@dataclass(frozen=True)
class BudgetPlan:
    slo_s: float
    quantile: float
    steps: int
    fan_out: int
    max_reasoning_tokens: int        #: per step per branch; -1 when even 0 tokens miss the SLO
    reasoning_tokens: int            #: the budget evaluated below (given, or the max)
    latency_s: float                 #: task latency at ``quantile`` with ``reasoning_tokens``
    meets_slo: bool
    tokens_per_task: int             #: steps × fan_out × reasoning_tokens
    cost_per_task_usd: float | None  #: tokens_per_task × usd_per_mtok / 1e6 (None without a price)
    feasible: bool                   #: some budget >= 0 meets the SLO

    def summary(self) -> str:
        q = f"P{self.quantile * 100:g}"
        verdict = "meets" if self.meets_slo else "misses"
        cost = "" if self.cost_per_task_usd is None else f"; ${self.cost_per_task_usd:.4f} per task"
        most = (f"at most {self.max_reasoning_tokens:,} tokens/step fit" if self.feasible
                else "no reasoning budget fits")
        return (f"{q} task latency {self.latency_s * 1e3:,.0f} ms with {self.reasoning_tokens:,} tokens/step "
                f"{verdict} the {self.slo_s * 1e3:,.0f} ms SLO ({most}){cost}")


def plan_budget(slo_s, decode_tokens_per_s, *, quantile=0.99, steps=1, fan_out=1, reasoning_tokens=None,
                ttft_s=0.0, queue_s=0.0, tool_s=0.0, network_s=0.0, decode_sigma=0.0, decode_jitter=None,
                usd_per_mtok=None,
                n_samples: int = 20_000, seed: int = 0) -> BudgetPlan:
    """Largest reasoning budget per step whose task latency at ``quantile`` meets ``slo_s``, and its $/task.

    The task is ``steps`` stages of a ``fan_out``-way agent step (queue + TTFT + tokens ÷ speed + tool +
    network; any term a number or a Dist). Monte Carlo with common random numbers, so latency is monotone in
    the budget and the search is exact for the sampled tasks; with no randomness it equals the closed form.
    """
    slo = check_number("slo_s", slo_s, lo=0.0, lo_open=True, hi=_L.MAX_LATENCY_S, unit="s")
    q = check_fraction("quantile", quantile)
    k = check_int("steps", steps, lo=1, hi=10_000)
    n_fan = check_int("fan_out", fan_out, lo=1, hi=10_000)
    n = _n("n_samples", n_samples, hi=2_000_000)
    for nm, v in (("ttft_s", ttft_s), ("queue_s", queue_s), ("tool_s", tool_s), ("network_s", network_s)):
        as_dist(v, nm)     # a number or a Dist (None is not "no time": say 0)
    x_given = None if reasoning_tokens is None else _tokens("reasoning_tokens", reasoning_tokens)
    if usd_per_mtok is not None:
        check_number("usd_per_mtok", usd_per_mtok, lo=0.0, hi=_L.MAX_USD, unit="USD/Mtok")
    if k * n_fan * n > 50_000_000:
        raise LabsimError(f"steps·fan_out·n_samples = {k * n_fan * n:,} is too many draws; lower n_samples")
    step = agent_step(1, decode_tokens_per_s, ttft_s=ttft_s, queue_s=queue_s, tool_s=tool_s, network_s=network_s,
                      decode_sigma=decode_sigma, decode_jitter=decode_jitter)
    t = task(step, k, n_fan)
    kinds, pa, pb, pc, scale, reasoning, start, fan, emp = t._arrays()
    if t_det := (step.is_deterministic):
        n = 1
    a_s, b_s = _sample_ab(kinds, pa, pb, pc, scale, reasoning, start, fan, emp, n, _seed(seed))

    def lat(x: float) -> float:
        tot = _totals_at(a_s, b_s, fan, float(x))
        return float(np.quantile(tot, q, method="inverted_cdf")) if not t_det else float(tot[0])

    tol = 1e-12 * max(slo, 1.0)
    feasible = lat(0) <= slo + tol
    if not feasible:
        best = -1
    else:
        lo, hi = 0, 1
        while lat(hi) <= slo + tol:
            lo, hi = hi, hi * 2
            if hi > _L.MAX_TOKENS:
                raise LabsimError(f"slo_s = {slo:g} s at decode_tokens_per_s = {float(decode_tokens_per_s):g} allows "
                                  f"more than {_L.MAX_TOKENS:,} reasoning tokens per step; allowed: a budget up to "
                                  "that bound (lower the SLO or the speed)")
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if lat(mid) <= slo + tol:
                lo = mid
            else:
                hi = mid
        best = lo
    x = best if x_given is None else x_given
    x_eval = max(x, 0)
    latency = lat(x_eval)
    tokens = k * n_fan * x_eval
    cost = None if usd_per_mtok is None else cost_per_task_usd(tokens, usd_per_mtok)
    return BudgetPlan(slo, q, k, n_fan, best, x_eval, latency, bool(latency <= slo + tol), tokens, cost, feasible)


# ----------------------------------------------------------------------------------------------------------------
# Adapters to the other chapters (imported lazily: the core never needs them)
# ----------------------------------------------------------------------------------------------------------------
def _need(module: str):
    import importlib
    try:
        return importlib.import_module(f"labsim.{module}")
    except ModuleNotFoundError as exc:
        if exc.name == f"labsim.{module}":
            raise LabsimError(f"labsim.{module} is not available; pass the number directly") from None
        raise


def decode_speed(model: str, chip: str, **kwargs) -> float:
    """Tokens/s per user of ``model`` on ``chip`` from chapter 3 (``capacity.decode_time(...).tokens_per_s``)."""
    return float(_need("capacity").decode_time(model, chip, **kwargs).tokens_per_s)


def prefill_seconds(model: str, chip: str, prompt_tokens, **kwargs) -> float:
    """Prefill time of ``prompt_tokens`` from chapter 3 (``capacity.prefill_time``)."""
    cap = _need("capacity")
    fn = getattr(cap, "prefill_time", None)
    if fn is None:
        raise LabsimError("labsim.capacity has no prefill_time(); pass ttft_s directly")
    res = fn(model, chip, prompt_tokens=prompt_tokens, **kwargs)
    return float(getattr(res, "seconds", res))


def chip_step(model: str, chip: str, output_tokens, *, prompt_tokens=0, chips=None, queue_s=0.0, tool_s=0.0,
              network_s=0.0, decode_sigma=0.0, name: str | None = None) -> Step:
    """An agent step of ``model`` on ``chip`` at batch 1 with chapter 3's numbers: TTFT = ``capacity.prefill_time``
    of ``prompt_tokens`` (0 prompt tokens → no prefill term) and decode speed = ``capacity.decode_time``."""
    n_in = _tokens("prompt_tokens", prompt_tokens)
    if name is not None:
        check_name("name", name)
    speed = decode_speed(model, chip, chips=chips)
    ttft = prefill_seconds(model, chip, n_in, chips=chips) if n_in > 0 else 0.0
    return agent_step(output_tokens, speed, ttft_s=ttft, queue_s=queue_s, tool_s=tool_s, network_s=network_s,
                      decode_sigma=decode_sigma, name=name or f"{model} on {chip}")


def plan_on_chip(slo_s, model: str, chip: str, *, prompt_tokens=0, chips=None, usd_per_mtok=None,
                 **plan_kwargs) -> BudgetPlan:
    """``plan_budget`` for ``model`` on ``chip`` (batch 1): decode speed and the prefill of ``prompt_tokens`` from
    chapter 3 (``capacity``); ``usd_per_mtok`` e.g. from chapter 4 (``report_fig11_points`` / ``usd_per_mtok``).
    Other keywords (quantile, steps, fan_out, queue_s, tool_s, network_s, decode_sigma, …) go to
    ``plan_budget``."""
    if "ttft_s" in plan_kwargs or "decode_tokens_per_s" in plan_kwargs:
        raise LabsimError("plan_on_chip() takes TTFT and decode speed from the chip; use plan_budget() to set them")
    n_in = _tokens("prompt_tokens", prompt_tokens)
    speed = decode_speed(model, chip, chips=chips)
    ttft = prefill_seconds(model, chip, n_in, chips=chips) if n_in > 0 else 0.0
    return plan_budget(slo_s, speed, ttft_s=ttft, usd_per_mtok=usd_per_mtok, **plan_kwargs)


def usd_per_mtok(inputs) -> float:
    """$ per million tokens of a cost scenario from chapter 4 (``tco.evaluate(inputs).usd_per_mtok``)."""
    return float(np.asarray(_need("tco").evaluate(inputs).usd_per_mtok).ravel()[0])


def report_fig11_points() -> dict[str, dict]:
    """The report's Fig 11 operating points via chapter 4 (``tco.REPORT_FIG11`` + ``tco.evaluate``): per column
    its label, tokens/s per user, batch and computed $/M tokens ([huatai26] Fig 11)."""
    tco = _need("tco")
    out = {}
    for col, inp in tco.REPORT_FIG11.items():
        out[col] = {"label": inp.label, "tokens_per_s_per_user": float(inp.tokens_per_s_per_user),
                    "batch": float(inp.batch), "usd_per_mtok": float(tco.evaluate(inp).usd_per_mtok)}
    return out


def gpu_step_samples(kernels, **kwargs) -> np.ndarray:
    """Seeded latency samples (s) of one GPU run of ``kernels`` from chapter 2 (``gpu.simulate``)."""
    return np.asarray(_need("gpu").simulate(kernels, **kwargs), dtype=np.float64)


def gpu_decode_jitter(model: str = "llama-3.1-8b", *, n: int = 20_000, seed: int = 0, contention: bool = True,
                      clock_variation: bool = True, cuda_graph: bool = False) -> Dist:
    """Chapter 2's run-to-run GPU distribution (one decoder layer of ``model``) divided by its median: an
    empirical multiplier with median 1 for ``agent_step(decode_jitter=…)``. Assumes a step's decode time
    varies like one layer's run time [A] — an upper bound on spread, since independent layers would average."""
    gpu = _need("gpu")
    for nm, flag in (("contention", contention), ("clock_variation", clock_variation), ("cuda_graph", cuda_graph)):
        check_bool(nm, flag)
    x = gpu_step_samples(gpu.model_decoder_layer_kernels(model), n=n, seed=seed, contention=contention,
                         clock_variation=clock_variation, cuda_graph=cuda_graph)
    return empirical(x / np.median(x))


# ----------------------------------------------------------------------------------------------------------------
def _warmup() -> None:
    """Compile (or load from cache) every kernel on tiny inputs."""
    _normals(4, 0)
    s = agent_step(10, 100.0, ttft_s=lognormal(0.1, 0.1), tool_s=two_point(0.1, 0.5, 0.1),
                   network_s=exponential(0.01), queue_s=stall(0.1, 0.1, 0.2))
    task(s, 2, 2).sample(10, 0)
    task(s, 2, 1, session=session_multiplier(n=10)).sample(10, 0)
    empirical([0.1, 0.2]).sample(4, 0)
    uniform(0.0, 1.0).sample(2, 0)
    gamma(1.0, 0.5).sample(2, 0)
    simulate_queue(0.5, 1.0, 1.0, customers=1000, seed=0)
    simulate_queue(0.5, 1.0, 0.5, arrival_cv=0.5, customers=1000, seed=0)
    simulate_batching(1.0, 2, [0.5, 0.6], requests=100, seed=0)
    plan_budget(1.0, 100.0, decode_sigma=0.1, n_samples=10)
