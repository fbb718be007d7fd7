"""One-at-a-time sensitivity: ``tornado`` moves each input to the ends of its range (``default_ranges``: [A]
teaching ranges from ``data/tco/sensitivity.toml``) with all others at the base, in one vectorized call."""
from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import LabsimError, check_choice, check_mapping, check_number
from .inputs import DATA_DIR, FIELDS, TcoInputs, _rule, validate
from .model import TcoResult, evaluate


def default_ranges(base: TcoInputs) -> dict[str, tuple[float, float]]:
    """[A] Teaching ranges from ``data/tco/sensitivity.toml`` (assumptions, not published), made absolute for
    ``base``."""
    if not isinstance(base, TcoInputs):
        raise LabsimError(f"base must be a labsim.tco.TcoInputs, got {type(base).__name__}")
    data = tomllib.loads((DATA_DIR / "sensitivity.toml").read_text(encoding="utf-8"))
    out = {k: (float(lo), float(hi)) for k, (lo, hi) in data["absolute"].items()}
    for k, (lo, hi) in data["relative"].items():
        b = float(getattr(base, k))
        out[k] = (b * lo, b * hi)
    return out


@dataclass(frozen=True)
class TornadoBar:
    field: str
    low_input: float
    high_input: float
    output_at_low: float
    output_at_high: float
    base_output: float

    @property
    def swing(self) -> float:
        return abs(self.output_at_high - self.output_at_low)


def tornado(base: TcoInputs, ranges: Mapping[str, tuple[float, float]] | None = None,
            output: str = "usd_per_mtok") -> list[TornadoBar]:
    """One-at-a-time sensitivity: move each input to the ends of its range with all others at ``base``; bars sorted
    by swing (largest first). ``base`` must be scalar. Default ranges: ``default_ranges(base)`` [A]."""
    valid_out = [f.name for f in dataclasses.fields(TcoResult) if f.name != "inputs"]
    check_choice("output", output, valid_out, what="TcoResult field")
    if not isinstance(base, TcoInputs):
        raise LabsimError(f"base must be a labsim.tco.TcoInputs, got {type(base).__name__}")
    v = validate(base)
    if any(a.ndim for a in v.values()):
        raise LabsimError("tornado needs a scalar base (one system); got array inputs")
    ranges = default_ranges(base) if ranges is None else check_mapping("ranges", ranges)
    for name, rng in list(ranges.items()):
        check_choice("ranges key", name, FIELDS, what="input")
        if isinstance(rng, (str, bytes, Mapping)) or not isinstance(rng, (tuple, list, np.ndarray)) or len(rng) != 2:
            raise LabsimError(f"ranges[{name!r}] must be a pair (low, high), got {rng!r}")
        ranges[name] = tuple(check_number(f"ranges[{name!r}][{i}]", x, **_rule(name)) for i, x in enumerate(rng))
    names = list(ranges)
    m = 2 * len(names)
    arrays = {k: np.full(m, float(v[k])) for k in FIELDS}
    for i, name in enumerate(names):
        arrays[name][2 * i], arrays[name][2 * i + 1] = ranges[name]
    res = evaluate(base.replace(**arrays))
    y = np.asarray(getattr(res, output))
    y0 = float(getattr(evaluate(base), output))
    bars = [TornadoBar(name, float(ranges[name][0]), float(ranges[name][1]), float(y[2 * i]), float(y[2 * i + 1]), y0)
            for i, name in enumerate(names)]
    return sorted(bars, key=lambda b: b.swing, reverse=True)
