"""Where a Markdown text would turn into TeX maths in JupyterLab / Voilà — a port of JupyterLab's ``removeMath``
(``@jupyterlab/rendermime``, ``latex.ts``), used by ``tests/test_rendering.py``.

JupyterLab hands Markdown to MathJax after cutting out every span between TeX delimiters: ``$…$``, ``$$…$$``,
``\\(…\\)``, ``\\[…\\]`` and ``\\begin{…}…\\end{…}``. A span ends at its closing delimiter, or is dropped at a blank
line. Dollar signs inside code spans and fenced code blocks, and escaped ``\\$``, are not delimiters. So two
currency amounts in one paragraph ("US$3 M … US$30 M") become one italic formula with the text between them.

:func:`math_spans` returns the spans exactly as JupyterLab would find them; :func:`dollar_problems` lists what the
course forbids: a ``$`` that is not part of a maths span, and a maths span that reads like prose or money (a span
that starts with a digit, or that holds two ordinary words in a row outside ``\\text{…}``).

An escaped ``\\$`` is forbidden too: ``removeMath`` leaves it alone, but the Markdown renderer turns it into a
plain ``$`` and JupyterLab 4 (and Voilà) then hand the whole rendered cell to MathJax, which pairs that dollar with
the next one in the paragraph — measured in the browser test at 1,400 px. Currency is written ``USD 3 M``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MathSpan", "math_spans", "dollar_problems", "strip_code"]

_SPLIT = re.compile(r"(\$\$?|\\(?:begin|end)\{[a-z]*\*?\}|\\[{}$]|[{}]|(?:\n\s*)+|@@\d+@@|\\\\(?:\(|\)|\[|\]))",
                    re.I)
_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})[^`\n]*\n[\s\S]*?^(?P=fence)[`~]*$", re.M)
_CODE_SPAN = re.compile(r"(^|[^\\])(`+)([^\n]*?[^`\n])\2(?!`)", re.M)


@dataclass(frozen=True)
class MathSpan:
    delimiter: str      #: "$", "$$", "\\(", "\\[" or "\\begin{…}"
    body: str           #: the text between the delimiters


def strip_code(text: str) -> str:
    """``text`` with every ``$`` inside fenced code blocks and code spans replaced by a neutral character (what
    JupyterLab's ``removeMath`` does before it looks for delimiters)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _FENCE.sub(lambda m: m.group(0).replace("$", "¤"), text)
    return _CODE_SPAN.sub(lambda m: m.group(0).replace("$", "¤"), text)


def math_spans(text: str) -> tuple[list[MathSpan], list[str]]:
    """(maths spans, the blocks left as text) of a Markdown string, found the way JupyterLab finds them."""
    blocks = _SPLIT.split(strip_code(text))
    spans: list[MathSpan] = []
    used = [False] * len(blocks)
    start = end = last = None
    braces = 0

    def close(i0: int, i1: int) -> None:
        body = "".join(blocks[i0 + 1:i1])
        spans.append(MathSpan(blocks[i0], body))
        for k in range(i0, i1 + 1):
            used[k] = True

    i = 1
    while i < len(blocks):
        block = blocks[i]
        if start is not None:
            if block == end:
                if braces:
                    last = i
                else:
                    close(start, i)
                    start = end = last = None
            elif block == "{":
                braces += 1
            elif block == "}" and braces:
                braces -= 1
            elif re.search(r"\n.*\n", block):
                if last is not None:
                    close(start, last)
                    i = last
                start = end = last = None
                braces = 0
        else:
            if block in ("$", "$$"):
                start, end, braces = i, block, 0
            elif block in ("\\\\(", "\\\\["):
                start, end, braces = i, "\\\\)" if block.endswith("(") else "\\\\]", 0
            elif block[1:6] == "begin":
                start, end, braces = i, "\\end" + block[6:], 0
        i += 2
    if last is not None:
        close(start, last)
    rest = [b for b, u in zip(blocks, used, strict=False) if not u]
    return spans, rest


_TEX_TEXT = re.compile(r"\\(?:text|mathrm|operatorname|textrm|mbox)\{[^{}]*\}")
_TEX_CMD = re.compile(r"\\[A-Za-z]+")
_WORDS = re.compile(r"[A-Za-z]{2,}[,.;:]?\s+[A-Za-z]{2,}")


def _reads_like_prose(body: str) -> bool:
    if re.match(r"\s*[0-9]", body):          # "$3 M for …": money, not maths
        return True
    bare = _TEX_CMD.sub(" ", _TEX_TEXT.sub(" ", body))
    return bool(_WORDS.search(bare))


def dollar_problems(text: str) -> list[str]:
    """Human-readable problems: stray (unescaped, non-maths) ``$`` signs, and maths spans that read as prose."""
    spans, rest = math_spans(text)
    out = []
    for s in spans:
        if s.delimiter in ("$", "$$") and _reads_like_prose(s.body):
            out.append(f"text between {s.delimiter} signs would render as maths: {s.delimiter}{s.body[:70]}…")
    for b in rest:
        if b in ("$", "$$"):
            out.append("a '$' that is not TeX maths (write currency as 'USD 3 M')")
        elif b == "\\$":
            out.append("an escaped '\\$': it renders as '$' and MathJax pairs it with the next dollar "
                       "(write currency as 'USD 3 M')")
    return out
