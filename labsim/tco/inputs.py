"""The cost model's inputs: ``TcoInputs``, the allowed range of every field (``FIELDS``) and ``validate``.

Every ``TcoInputs`` that exists is valid: it is checked element-wise when it is built or ``replace``d, and a bad
value raises a ``LabsimError`` naming the field, the index and the allowed range. Units and constants shared by
the rest of ``labsim.tco`` live here too.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import limits as _L
from ..errors import LabsimError, check_array, check_choice, check_mapping, check_text

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "tco"
SECONDS_PER_HOUR = 3600.0
MONTHS_PER_YEAR = 12.0
TOKENS_PER_MTOK = 1e6

#: The numeric inputs, in order, with their allowed ranges (used by validation, Monte Carlo and tornado).
#: ``integer`` inputs must hold whole numbers; ``batch`` may be fractional (an average batch in a sweep).
#: Every range is closed and finite (docs/contract.md): the upper ends are far beyond any real system
#: (labsim/limits.py), the lower ends of divisors (life, hours, utilization, speed, batch) keep every output finite.
FIELDS: dict[str, dict[str, Any]] = {
    "capex_usd": dict(lo=0.0, hi=_L.MAX_USD, unit="USD"),
    "life_years": dict(lo=1.0 / 12.0, hi=100.0, unit="years"),
    "cost_of_capital": dict(lo=0.0, hi=10.0, unit="per year"),
    "electricity_usd_per_kwh": dict(lo=0.0, hi=100.0, unit="USD/kWh"),
    "hours_per_month": dict(lo=1.0, hi=744.0, unit="hours"),
    "utilization": dict(lo=1e-6, hi=1.0),
    "pue": dict(lo=1.0, hi=10.0),
    "colocation_usd_per_kw_month": dict(lo=0.0, hi=1e6, unit="USD/kW/month"),
    "system_power_kw": dict(lo=0.0, hi=_L.MAX_POWER_KW, unit="kW"),
    "chips_per_system": dict(lo=1.0, hi=float(_L.MAX_CHIPS), integer=True, unit="chips"),
    "chips_per_unit": dict(lo=1.0, hi=float(_L.MAX_CHIPS), integer=True, unit="chips"),
    "tokens_per_s_per_user": dict(lo=1e-6, hi=_L.MAX_TOKENS_PER_S, unit="tokens/s"),
    "batch": dict(lo=1e-6, hi=float(_L.MAX_BATCH)),
    "pipeline_depth": dict(lo=1.0, hi=1e6, integer=True),
}


@dataclass(frozen=True)
class TcoInputs:
    """Inputs of the cost model. Every numeric field is a scalar or a NumPy array (arrays broadcast).

    Defaults are the shared inputs of Fig 11 ([huatai26] Fig 11): 5-year life, 18 %/year hurdle
    rate, $0.087/kWh, 730 h/month, 80 % utilization, PUE 1.25, $190 per kW per month colocation (printed as
    "USD/mth"; the table's arithmetic makes it per kW). The system fields have no default.
    ``utilization_derates_tokens=False`` is the report's choice: utilization scales the power bill only, tokens
    are produced for all ``hours_per_month``; ``True`` also scales token output by utilization.
    ``sources`` maps a field name to where its value comes from (filled for ``REPORT_FIG11``).
    """

    capex_usd: Any
    system_power_kw: Any
    chips_per_system: Any
    chips_per_unit: Any
    tokens_per_s_per_user: Any
    batch: Any
    pipeline_depth: Any = 1
    life_years: Any = 5.0
    cost_of_capital: Any = 0.18
    electricity_usd_per_kwh: Any = 0.087
    hours_per_month: Any = 730.0
    utilization: Any = 0.80
    pue: Any = 1.25
    colocation_usd_per_kw_month: Any = 190.0
    utilization_derates_tokens: bool = False
    label: str = ""
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        """Every TcoInputs that exists is valid: each field is checked here, element-wise (``validate``)."""
        validate(self)

    def replace(self, **changes) -> TcoInputs:
        """A copy with some fields changed (``dataclasses.replace``); unknown names raise a LabsimError, and so
        does a bad value (the copy is validated)."""
        valid = {f.name for f in dataclasses.fields(self)}
        for name in changes:
            check_choice("field", name, valid, what="TcoInputs field")
        return dataclasses.replace(self, **changes)

    def validate(self) -> dict[str, np.ndarray]:
        return validate(self)


def _broadcast_shape(arrays: dict[str, np.ndarray]) -> tuple[int, ...]:
    try:
        return np.broadcast_shapes(*(a.shape for a in arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{k}{list(a.shape)}" for k, a in arrays.items() if a.ndim)
        raise LabsimError(f"TcoInputs arrays do not broadcast together: {shapes}") from None


def _rule(name: str) -> dict:
    """The keyword arguments of ``check_array``/``check_number`` for the field ``name`` (its range and unit)."""
    r = FIELDS[name]
    return {k: r[k] for k in ("lo", "hi", "lo_open", "hi_open", "unit") if k in r}


def validate(inputs: TcoInputs) -> dict[str, np.ndarray]:
    """Check every input element-wise; return them as float64 arrays. Errors name the field and the index."""
    if not isinstance(inputs, TcoInputs):
        raise LabsimError(f"inputs must be a labsim.tco.TcoInputs, got {type(inputs).__name__}")
    out: dict[str, np.ndarray] = {}
    check_text("label", inputs.label, max_chars=1000)
    srcs = check_mapping("sources", inputs.sources)
    for k, v in srcs.items():
        check_choice("sources key", k, [*FIELDS, "utilization_derates_tokens"], what="input")
        check_text(f"sources[{k!r}]", v)
    for name, rule in FIELDS.items():
        arr = check_array(name, getattr(inputs, name), lo=rule.get("lo"), hi=rule.get("hi"),
                          lo_open=rule.get("lo_open", False), hi_open=rule.get("hi_open", False),
                          unit=rule.get("unit", ""))
        if rule.get("integer"):
            frac = arr != np.floor(arr)
            if frac.any():
                idx = np.unravel_index(int(np.argmax(frac)), arr.shape) if arr.ndim else ()
                where = f"[{', '.join(map(str, idx))}]" if arr.ndim else ""
                raise LabsimError(f"{name}{where} must be a whole number, got {float(arr[idx]):g}")
        out[name] = arr
    if not isinstance(inputs.utilization_derates_tokens, (bool, np.bool_)):
        raise LabsimError("utilization_derates_tokens must be True or False, "
                          f"got {inputs.utilization_derates_tokens!r}")
    shape = _broadcast_shape(out)
    too_big = out["chips_per_unit"] > out["chips_per_system"]
    if too_big.any():
        full = np.broadcast_to(too_big, shape)
        idx = np.unravel_index(int(np.argmax(full)), shape) if full.ndim else ()
        where = f" at index [{', '.join(map(str, idx))}]" if full.ndim else ""
        cu = float(np.broadcast_to(out["chips_per_unit"], shape)[idx])
        cs = float(np.broadcast_to(out["chips_per_system"], shape)[idx])
        raise LabsimError(f"chips_per_unit = {cu:g} exceeds chips_per_system = {cs:g}{where}; "
                          "an inference unit must fit in one system")
    return out
