"""Seeded Monte Carlo over the cost model: the input distributions (``Uniform``, ``Triangular``, ``LogNormal``),
the check that a distribution's whole support is a valid input, and ``monte_carlo`` (vectorized, in chunks)."""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from .. import limits as _L
from ..errors import LabsimError, check_array, check_bool, check_choice, check_int, check_mapping, check_number
from .inputs import FIELDS, TcoInputs, validate
from .model import TcoResult, evaluate


def _draws(rng, n) -> int:
    if not isinstance(rng, np.random.Generator):
        raise LabsimError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {rng!r}")
    return check_int("n", n, lo=0, hi=_L.MAX_SAMPLES)


@dataclass(frozen=True)
class Uniform:
    """Uniform on [lo, hi]."""
    lo: float
    hi: float

    def __post_init__(self):
        check_number("Uniform.lo", self.lo)
        check_number("Uniform.hi", self.hi, lo=self.lo, lo_open=True)

    def support(self):
        return self.lo, self.hi

    def draw(self, rng, n):
        return rng.uniform(self.lo, self.hi, _draws(rng, n))


@dataclass(frozen=True)
class Triangular:
    """Triangular on [lo, hi] with peak at ``mode``."""
    lo: float
    mode: float
    hi: float

    def __post_init__(self):
        check_number("Triangular.lo", self.lo)
        check_number("Triangular.hi", self.hi, lo=self.lo, lo_open=True)
        check_number("Triangular.mode", self.mode, lo=self.lo, hi=self.hi)

    def support(self):
        return self.lo, self.hi

    def draw(self, rng, n):
        return rng.triangular(self.lo, self.mode, self.hi, _draws(rng, n))


@dataclass(frozen=True)
class LogNormal:
    """Log-normal with the given median and ``sigma`` (standard deviation of ln x). Its tail is unbounded and never
    clipped, so ``monte_carlo`` accepts it only where the input's allowed range lies beyond median·e^(±9σ)
    (a draw outside is a < 1e-18 event)."""
    median: float
    sigma: float

    def __post_init__(self):
        check_number("LogNormal.median", self.median, lo=0.0, lo_open=True)
        check_number("LogNormal.sigma", self.sigma, lo=0.0, lo_open=True, hi=5.0)

    def support(self):
        return 0.0, math.inf

    def draw(self, rng, n):
        return rng.lognormal(math.log(self.median), self.sigma, _draws(rng, n))


def _check_distribution(name: str, dist) -> None:
    check_choice("distributions key", name, FIELDS, what="input")
    rule = FIELDS[name]
    if isinstance(dist, Uniform):
        check_number(f"{name}: Uniform.lo", dist.lo)
        check_number(f"{name}: Uniform.hi", dist.hi, lo=dist.lo, lo_open=True)
    elif isinstance(dist, Triangular):
        check_number(f"{name}: Triangular.lo", dist.lo)
        check_number(f"{name}: Triangular.hi", dist.hi, lo=dist.lo, lo_open=True)
        check_number(f"{name}: Triangular.mode", dist.mode, lo=dist.lo, hi=dist.hi)
    elif isinstance(dist, LogNormal):
        check_number(f"{name}: LogNormal.median", dist.median, lo=0.0, lo_open=True)
        check_number(f"{name}: LogNormal.sigma", dist.sigma, lo=0.0, lo_open=True)
    else:
        raise LabsimError(f"distribution for {name} must be Uniform, Triangular or LogNormal, got {dist!r}")
    if rule.get("integer"):
        raise LabsimError(f"{name} holds whole numbers; sample it outside monte_carlo or keep it fixed")
    lo, hi = dist.support()
    if isinstance(dist, LogNormal):
        # an unbounded tail: accepted when a draw beyond the range is a 9-sigma event (P < 1e-18 per draw, so
        # none in MAX_SAMPLES draws); the tail is never clipped — a draw outside would raise in evaluate()
        lo, hi = dist.median * math.exp(-9.0 * dist.sigma), dist.median * math.exp(9.0 * dist.sigma)
    a_lo, a_hi = rule.get("lo"), rule.get("hi")
    if (a_lo is not None and (lo < a_lo or (lo == a_lo and rule.get("lo_open")))) \
            or (a_hi is not None and hi > a_hi):
        raise LabsimError(f"{name}: {dist!r} reaches [{lo:g}, {hi:g}], outside the allowed "
                          f"range [{a_lo}, {a_hi}]; pick a distribution whose whole support is valid "
                          "(tails are never clipped)")


@dataclass(frozen=True)
class MonteCarloResult:
    """Samples of one output (default $/M tokens) and of every sampled input, with the seed that made them."""

    output: str
    samples: np.ndarray
    inputs: dict[str, np.ndarray]
    seed: int

    def percentiles(self, q=(5, 50, 95)) -> dict[float, float]:
        qs = check_array("q", q, lo=0.0, hi=100.0).ravel()
        return {float(p): float(v) for p, v in zip(qs, np.percentile(self.samples, qs), strict=True)}

    @property
    def mean(self) -> float:
        return float(self.samples.mean())


def monte_carlo(base: TcoInputs, distributions: Mapping[str, Any], n_samples: int = 1_000_000, seed: int = 0,
                output: str = "usd_per_mtok", progress: bool = True, chunk: int = 1 << 18) -> MonteCarloResult:
    """Seeded Monte Carlo: draw each input in ``distributions`` (Uniform / Triangular / LogNormal) independently,
    keep the others at ``base``, and evaluate ``output`` for every sample (vectorized, in chunks).

    Same ``seed`` (and ``chunk``) → identical samples. A tqdm bar appears if a run takes over a second.
    Independence between inputs is an assumption of this function.
    """
    n = check_int("n_samples", n_samples, lo=1, hi=_L.MAX_SAMPLES)
    seed = check_int("seed", seed, lo=0)
    chunk = check_int("chunk", chunk, lo=1, hi=_L.MAX_SAMPLES)
    progress = check_bool("progress", progress)
    valid_out = [f.name for f in dataclasses.fields(TcoResult) if f.name != "inputs"]
    check_choice("output", output, valid_out, what="TcoResult field")
    if not isinstance(base, TcoInputs):
        raise LabsimError(f"base must be a labsim.tco.TcoInputs, got {type(base).__name__}")
    distributions = check_mapping("distributions", distributions)
    if not distributions:
        raise LabsimError("distributions is empty; give at least one input a distribution")
    for name, dist in distributions.items():
        _check_distribution(name, dist)
    v = validate(base)
    if any(a.ndim for a in v.values()):
        raise LabsimError("monte_carlo needs a scalar base (one system); got array inputs")
    names = sorted(distributions)
    rng = np.random.default_rng(seed)
    samples = np.empty(n)
    drawn = {k: np.empty(n) for k in names}
    with tqdm(total=n, delay=1.0, disable=not progress, unit="sample", desc="Monte Carlo") as bar:
        for start in range(0, n, chunk):
            m = min(chunk, n - start)
            changes = {}
            for k in names:
                x = distributions[k].draw(rng, m)
                drawn[k][start:start + m] = x
                changes[k] = x
            res = evaluate(base.replace(**changes))
            samples[start:start + m] = getattr(res, output)
            bar.update(m)
    return MonteCarloResult(output=output, samples=samples, inputs=drawn, seed=seed)
