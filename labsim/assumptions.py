"""Named model assumptions: every default of a labsim model is one row with its value, unit, status and source.

Status tags: [P] primary, [S] secondary, [W] weak, [D] derived, [A] assumption (unpublished, overridable — the
notebooks say so); two tags may be combined as "[A]/[S]".
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from .errors import LabsimError, check_name, check_text

__all__ = ["Assumption", "registry", "table"]


@dataclass(frozen=True)
class Assumption:
    name: str
    value: object
    unit: str
    status: str   #: [P] primary, [S] secondary, [D] derived, [A] assumption
    source: str

    def __post_init__(self):
        check_name("name", self.name)
        _check_value(self.value)
        check_text("unit", self.unit, max_chars=100)
        if not isinstance(self.status, str) or not _STATUS.fullmatch(self.status):
            raise LabsimError(f"status = {self.status!r} is not a status tag; allowed: [P], [S], [W], [D], [A] or "
                              "two joined by '/', e.g. '[A]/[S]'")
        check_text("source", self.source, allow_empty=False)


_STATUS = re.compile(r"\[[PSWDA]\](/\[[PSWDA]\])?")


def _check_value(value, depth: int = 0) -> None:
    """An assumption's value: a finite number, a bool, a string, or a short tuple of those."""
    if isinstance(value, (bool, np.bool_, str)):
        if isinstance(value, str):
            check_text("value", value, max_chars=1000)
        return
    if isinstance(value, (int, float, np.integer, np.floating)):
        try:
            ok = math.isfinite(float(value))
        except OverflowError:
            ok = False
        if not ok:
            raise LabsimError(f"value = {value!r} must be a finite number")
        return
    if isinstance(value, tuple) and depth == 0 and len(value) <= 1000:
        for v in value:
            _check_value(v, 1)
        return
    raise LabsimError(f"value must be a number, a string, True/False or a tuple of them, got {value!r}")


def _rows(rows) -> list[Assumption]:
    if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Iterable):
        raise LabsimError(f"rows must be a list of Assumption, got {rows!r}")
    rows = list(rows)
    for i, a in enumerate(rows):
        if not isinstance(a, Assumption):
            raise LabsimError(f"rows[{i}] must be an Assumption, got {a!r}")
    return rows


def registry(rows: Iterable[Assumption]) -> Mapping[str, Assumption]:
    """A read-only ``name -> Assumption`` mapping (names must be unique)."""
    out = {}
    for a in _rows(rows):
        if a.name in out:
            raise LabsimError(f"rows: assumption {a.name!r} is defined twice")
        out[a.name] = a
    return MappingProxyType(out)


def table(rows: Iterable[Assumption]) -> str:
    """A plain-text table (name, value + unit, status, source), columns sized to their contents."""
    rows = _rows(rows)
    values = [f"{a.value} {a.unit}".strip() for a in rows]
    wn = max([4] + [len(a.name) for a in rows]) + 2
    wv = min(40, max([5] + [len(v) for v in values]) + 2)
    lines = [f"{'name':<{wn}}{'value':<{wv}}{'status':<9}source"]
    for a, v in zip(rows, values):
        lines.append(f"{a.name:<{wn}}{v[:wv - 1]:<{wv}}{a.status:<9}{a.source}")
    return "\n".join(lines)
