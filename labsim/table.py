"""One small table type for everything labsim prints as a table: aligned text for ``print``, an HTML table in a
notebook.

A :class:`Table` *is* its text (a ``str`` subclass), so ``print(t)``, ``"x" in t`` and string comparisons keep
working; as the last expression of a notebook cell it renders through ``_repr_html_`` as an HTML table whose long
cells wrap between words — a wide text table in a notebook output wraps mid-word instead. The HTML is marked
``tex2jax_ignore`` so that currency signs in a cell are never typeset as TeX maths.
"""
from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence

import numpy as np

from .errors import LabsimError, check_ints, check_text

__all__ = ["Table"]

_ALIGN = {"l": "left", "r": "right", "c": "center"}


class Table(str):
    """``Table(header, rows, align="lrl…", title=None, wide=(…))``: cells are strings (format numbers first).

    ``align`` gives one letter per column (``l``/``r``/``c``; default: every column left). ``wide`` names the
    columns (by index) allowed to wrap in HTML; all others keep their cell on one line. ``title`` is printed
    above the text and shown as the HTML caption.
    """

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    align: str
    title: str | None
    wide: frozenset[int]

    def __new__(cls, header: Sequence[str], rows: Iterable[Sequence[object]], align: str | None = None,
                title: str | None = None, wide: Iterable[int] = ()):
        header = tuple(_cell(f"header[{j}]", h) for j, h in enumerate(_cells("header", header)))
        if not isinstance(rows, Iterable) or isinstance(rows, (str, bytes)):
            raise LabsimError(f"rows must be a list of rows (each a list of cells), got {rows!r}")
        rows = tuple(tuple(_cell(f"rows[{i}][{j}]", c) for j, c in enumerate(_cells(f"rows[{i}]", r)))
                     for i, r in enumerate(rows))
        n = len(header)
        for i, r in enumerate(rows):
            if len(r) != n:
                raise LabsimError(f"table row {i} has {len(r)} cells; the header has {n}")
        align = "l" * n if align is None else align
        if not isinstance(align, str) or len(align) != n or set(align) - set(_ALIGN):
            raise LabsimError(f"align must give one of l/r/c per column ({n}), got {align!r}")
        if title is not None:
            title = check_text("title", title)
        wide = frozenset(check_ints("wide", wide, lo=0, hi=max(n - 1, 0), min_len=0))
        obj = super().__new__(cls, _text(header, rows, align, title))
        obj.header, obj.rows, obj.align, obj.title, obj.wide = header, rows, align, title, wide
        return obj

    def _repr_html_(self) -> str:
        cell = "padding:2px 10px;vertical-align:top;text-align:{a};{w}"
        nowrap, wrap = "white-space:nowrap", "white-space:normal;min-width:16em"

        def style(i: int) -> str:
            return cell.format(a=_ALIGN[self.align[i]], w=wrap if i in self.wide else nowrap)

        head = "".join(f'<th style="{style(i)}">{html.escape(h)}</th>' for i, h in enumerate(self.header))
        body = "".join("<tr>" + "".join(f'<td style="{style(i)}">{html.escape(c)}</td>' for i, c in enumerate(r))
                       + "</tr>" for r in self.rows)
        cap = (f'<caption style="text-align:left;font-weight:bold;padding:2px 10px">{html.escape(self.title)}'
               "</caption>" if self.title else "")
        return (f'<table class="labsim-table tex2jax_ignore" style="border-collapse:collapse;font-size:12px;'
                f'max-width:100%">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>')

    def _repr_pretty_(self, p, cycle) -> None:  # IPython text/plain: the table, not a quoted string
        p.text(str(self))

    def __repr__(self) -> str:
        return str.__str__(self)

    def __str__(self) -> str:
        return str.__str__(self)

    def __reduce__(self):
        return (Table, (self.header, self.rows, self.align, self.title, tuple(self.wide)))


def _cells(name: str, cells) -> Sequence:
    """A header or a row: a list or tuple of cells (a string is one cell too many ways, so it is refused)."""
    if isinstance(cells, (str, bytes)) or not isinstance(cells, (Sequence, Iterable)):
        raise LabsimError(f"{name} must be a list of cells, got {cells!r}")
    return tuple(cells)


def _cell(name: str, value) -> str:
    """One cell as text: None is empty; a NaN or infinite number is refused (format numbers first)."""
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        raise LabsimError(f"{name} = {value} is not a finite number; format numbers into cell text first")
    return str(value)


def _text(header, rows, align, title) -> str:
    widths = [max([len(header[i])] + [len(r[i]) for r in rows]) for i in range(len(header))]

    def line(cells):
        out = []
        for i, c in enumerate(cells):
            last = i == len(cells) - 1
            if align[i] == "r":
                out.append(c.rjust(widths[i]))
            elif align[i] == "c":
                out.append(c.center(widths[i]))
            else:
                out.append(c if last else c.ljust(widths[i]))
        return "  ".join(out).rstrip()

    lines = ([title] if title else []) + [line(header)] + [line(r) for r in rows]
    return "\n".join(lines)
