"""Named model assumptions: every default of a labsim model is one row with its value, unit, status and source.

Status tags follow facts/README.md: [P] primary, [S] secondary, [D] derived, [A] assumption (unpublished,
overridable — the notebooks say so).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["Assumption", "registry", "table"]


@dataclass(frozen=True)
class Assumption:
    name: str
    value: object
    unit: str
    status: str   #: [P] primary, [S] secondary, [D] derived, [A] assumption
    source: str


def registry(rows: Iterable[Assumption]) -> Mapping[str, Assumption]:
    """A read-only ``name -> Assumption`` mapping (names must be unique)."""
    out = {}
    for a in rows:
        if a.name in out:
            raise ValueError(f"assumption {a.name!r} is defined twice")
        out[a.name] = a
    return MappingProxyType(out)


def table(rows: Iterable[Assumption]) -> str:
    """A plain-text table (name, value + unit, status, source), columns sized to their contents."""
    rows = list(rows)
    values = [f"{a.value} {a.unit}".strip() for a in rows]
    wn = max([4] + [len(a.name) for a in rows]) + 2
    wv = min(40, max([5] + [len(v) for v in values]) + 2)
    lines = [f"{'name':<{wn}}{'value':<{wv}}{'status':<9}source"]
    for a, v in zip(rows, values):
        lines.append(f"{a.name:<{wn}}{v[:wv - 1]:<{wv}}{a.status:<9}{a.source}")
    return "\n".join(lines)
