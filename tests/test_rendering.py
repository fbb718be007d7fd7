"""Pages that render (issue 14 §2): no currency turns into TeX maths, tables are HTML tables, widget text lines
up, and the chapter widgets show what they compute.

The currency check runs JupyterLab's own maths detection (``tests/markdown_math.py``, a port of
``@jupyterlab/rendermime``'s ``removeMath``) over every Markdown cell of ``notebooks/``, ``solutions/`` and
``exercises/`` and over every tracked ``.md`` file (GitHub renders ``$…$`` as maths too).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from markdown_math import dollar_problems, math_spans

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------------------------------------------
# the detector itself (so that a passing currency test means something)

@pytest.mark.parametrize("text", [
    "costs US$3 M for 576 chips and US$30 M for 1T",          # the chapter 3 bug: one formula across the line
    "**≈ US$30 M** on Groq at **≈ US$5,000 per chip**",
    "0.087 $/kWh, 730 h/month, PUE 1.25, 190 $/kW/month",
    "lists at 0.79 $/M\nagainst about 2.46 $/M at cost",
    "price $5",                                                 # a lone dollar: fragile, forbidden
    "costs US\\$3 M for 576 chips and US\\$30 M for 1T",      # escaped: MathJax still pairs them in JupyterLab 4
])
def test_detector_flags_currency(text):
    assert dollar_problems(text)


@pytest.mark.parametrize("text", [
    "With capex $C$, rate $k$ and life $L$ years, $r = k/12$ and $n = 12L$.",
    "$$\\frac{\\$}{\\text{M tokens}} = \\frac{\\text{hourly cost}}{\\text{tokens per hour} / 10^6}$$",
    "run `echo $HOME` and `x = $y`",                           # code spans
    "```console\n$ make test\n$ echo $?\n```",                 # fenced code
    "1.94 USD per million tokens",
    "power $= p_{\\text{kWh}} \\times \\text{hours} \\times \\text{PUE}$, plus colocation",
])
def test_detector_accepts_maths_escapes_and_code(text):
    assert dollar_problems(text) == []


def test_blank_line_ends_a_span():
    spans, _ = math_spans("a $x\n\nb$ c")
    assert spans == []          # JupyterLab drops a span at a paragraph break; both dollars stay stray
    assert len(dollar_problems("a $x\n\nb$ c")) == 2


# --------------------------------------------------------------------------------------------------------------
# every page of the course

def _markdown_sources():
    for d in ("notebooks", "solutions", "exercises"):
        for nb in sorted((ROOT / d).glob("*.ipynb")):
            for i, c in enumerate(json.loads(nb.read_text(encoding="utf-8"))["cells"]):
                if c["cell_type"] == "markdown":
                    yield f"{d}/{nb.name} cell {i}", "".join(c["source"])
    for md in sorted(ROOT.glob("*.md")) + sorted((ROOT / "docs").rglob("*.md")):
        yield str(md.relative_to(ROOT)), md.read_text(encoding="utf-8")


def test_no_currency_renders_as_maths():
    problems = [f"{where}: {p}" for where, text in _markdown_sources() for p in dollar_problems(text)]
    assert not problems, ("write currency as USD 3 M — JupyterLab, Voilà and GitHub read $…$ as TeX:\n"
                          + "\n".join(problems))


# --------------------------------------------------------------------------------------------------------------
# tables

def test_table_prints_as_text_and_renders_as_html():
    from labsim.table import Table

    t = Table(("name", "cost"), [("a <b>", "US$3 M"), ("longer name", "US$30 M")], align="lr", wide=(0,))
    assert str(t).splitlines()[1].startswith("a <b>") and str(t).splitlines()[2].endswith("US$30 M")
    assert "cost" in t and isinstance(t, str)
    h = t._repr_html_()
    assert h.startswith("<table") and "tex2jax_ignore" in h          # MathJax must not pair the two US$
    assert "a &lt;b&gt;" in h and "<b>" not in h                     # escaped
    assert h.count("<tr>") == 3 and "white-space:normal" in h and "text-align:right" in h
    with pytest.raises(ValueError, match="row 0 has 1 cells"):
        Table(("a", "b"), [("x",)])


def test_assumption_tables_are_html_with_readable_sources():
    from labsim import fleet

    t = fleet.assumptions_table()
    h = t._repr_html_()
    assert "<table" in h and "Huatai Research 2026, Fig 11" in h
    assert "[huatai26]" not in str(t) and "1.333 × chip W" in str(t) and "1.3333333" not in str(t)


def test_chapter_tables():
    from labsim import fleet, tco
    from labsim.viz import ch03, ch04, ch05, ch06

    assert "report's 576-chip system" in ch03.reconcile_table()
    fig11 = tco.fig11_table()
    assert "✗" in fig11 and "52% | 73.4% ✗" in fig11
    assert fig11._repr_html_().count("<tr>") == 1 + len(tco.fig11_printed())
    inp = ch04.inputs_table(tco.REPORT_FIG11["groq-cost"])
    assert "2,520,000" in inp and "Huatai Research 2026, Fig 11, row 'Upfront system capex'" in inp
    th = ch05.thresholds_table()
    assert "Nielsen 1993" in th and "[A]  [A]" not in th
    plan = fleet.optimize(fleet.load_scenario("batch_summarization"), list(ch06.WIDGET_CHIPS))
    pt = ch06.plan_table(plan)
    assert "batch" in pt and "USD" in pt.title and "$" not in pt._repr_html_()


def test_widget_text_is_fixed_width():
    from labsim.viz._widgets import pre

    out = pre("a  b\n<c>")
    assert "monospace" in out and "&lt;c&gt;" in out
