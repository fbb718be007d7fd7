"""Tables that a notebook shows as HTML (cells wrap, never mid-word across the page) and a console as text.

The one HTML table class of ``labsim.viz`` (chapters 1 and 2, and chapter 3's validation tables)."""
from __future__ import annotations

import html

from ..errors import LabsimError, check_int, check_text

__all__ = ["HtmlTable"]


class HtmlTable:
    """A table that a notebook shows as HTML (wrapping inside cells, never mid-word across the page) and a
    console shows as aligned text."""

    def __init__(self, header: list[str], rows: list[list], text: str = "", caption: str = "", *,
                 max_col_chars: int | None = None):
        """``text``: the console form, if not the aligned columns; ``max_col_chars``: cut each column to that many
        characters in the console form (None: whole cells)."""
        if not isinstance(header, (list, tuple)) or not isinstance(rows, (list, tuple)) or \
                not all(isinstance(r, (list, tuple)) and len(r) == len(header) for r in rows):
            raise LabsimError("HtmlTable needs a header list and rows of the same length as the header")
        check_text("text", text, max_chars=100_000)
        check_text("caption", caption, max_chars=10_000)
        self.max_col_chars = None if max_col_chars is None else check_int("max_col_chars", max_col_chars, lo=1)
        self.header, self.rows, self.text, self.caption = list(header), [list(r) for r in rows], text, caption

    def _repr_html_(self) -> str:
        th = "".join(f"<th style='text-align:left'>{html.escape(str(h))}</th>" for h in self.header)
        body = "".join("<tr>" + "".join(f"<td style='text-align:left'>{html.escape(str(c))}</td>" for c in r)
                       + "</tr>" for r in self.rows)
        cap = f"<caption style='text-align:left'>{html.escape(self.caption)}</caption>" if self.caption else ""
        return f"<table>{cap}<thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"

    def __repr__(self) -> str:
        if self.text:
            return self.text
        cap = self.max_col_chars
        widths = [max(len(str(x)) for x in col) for col in zip(self.header, *self.rows, strict=True)]
        widths = widths if cap is None else [min(cap, w) for w in widths]
        lines = ["  ".join(str(x)[:w].ljust(w) for x, w in zip(r, widths, strict=True))
                 for r in [self.header] + self.rows]
        return "\n".join(([self.caption] if self.caption else []) + lines)
