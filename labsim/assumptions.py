"""Named model assumptions: every default of a labsim model is one row with its value, unit, status and source.

Status tags are the bibliography's (``docs/sources.md``): [P] primary, [S] secondary, [W] weak, [D] derived,
[A] assumption (unpublished, overridable — the notebooks say so). ``source`` is a citation string naming keys of
``labsim/data/sources.toml`` (``"[huatai26] Q3 §4"``) or carrying ``[A]``; :func:`table` prints it readably.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from .sources import cite
from .table import Table

__all__ = ["Assumption", "registry", "table", "format_value"]


@dataclass(frozen=True)
class Assumption:
    name: str
    value: object
    unit: str
    status: str   #: [P] primary, [S] secondary, [W] weak, [D] derived, [A] assumption
    source: str   #: citation string: "[key] locator" and/or "[A] …"


def registry(rows: Iterable[Assumption]) -> Mapping[str, Assumption]:
    """A read-only ``name -> Assumption`` mapping (names must be unique)."""
    out = {}
    for a in rows:
        if a.name in out:
            raise ValueError(f"assumption {a.name!r} is defined twice")
        out[a.name] = a
    return MappingProxyType(out)


def format_value(value: object) -> str:
    """A value as a reader wants it: floats to 4 significant digits (1.333, 5e-06), sequences comma-separated."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int) and abs(value) >= 10_000:
        return f"{value:,}"
    if isinstance(value, (tuple, list)):
        return ", ".join(format_value(v) for v in value)
    return str(value)


def table(rows: Iterable[Assumption], *, title: str | None = None) -> Table:
    """The assumptions as a :class:`~labsim.table.Table` (name, value + unit, status, readable source): aligned
    text when printed, an HTML table when it is the last expression of a notebook cell."""
    body = [(a.name, f"{format_value(a.value)} {a.unit}".strip(), a.status, cite(a.source)) for a in rows]
    return Table(("name", "value", "status", "source"), body, align="llll", title=title, wide=(3,))
