"""Tails of a latency: the P50/P90/P99/P99.9 summary of samples (:func:`tails`) and the Monte Carlo tails of a
step or task (:func:`simulate`)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import LabsimError, check_array
from ._common import QUANTILES
from .dists import Dist
from .steps import Step, Task, _task

__all__ = ["Tails", "tails", "simulate"]


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
