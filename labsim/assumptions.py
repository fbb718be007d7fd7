"""Named model assumptions: every default of a labsim model is one row with its value, unit, status and source.

Status tags are the bibliography's (``docs/sources.md``): [P] primary, [S] secondary, [W] weak, [D] derived,
[A] assumption (unpublished, overridable — the notebooks say so). ``source`` is a citation string naming keys of
``labsim/data/sources.toml`` (``"[huatai26] Q3 §4"``) or carrying ``[A]``; :func:`table` prints it readably.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from .errors import LabsimError, check_name, check_text
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
    if value is None and depth == 0:
        return
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


def format_value(value: object) -> str:
    """A value as a reader wants it: floats to 4 significant digits (1.333, 5e-06), sequences comma-separated."""
    if value is not None:
        _check_value(tuple(value) if isinstance(value, list) else value)
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
    rows = _rows(rows)
    if title is not None:
        check_text("title", title, max_chars=500)
    body = [(a.name, f"{format_value(a.value)} {a.unit}".strip(), a.status, cite(a.source)) for a in rows]
    return Table(("name", "value", "status", "source"), body, align="llll", title=title, wide=(3,))
