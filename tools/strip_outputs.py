#!/usr/bin/env python3
"""Strip outputs from notebooks with nbstripout, keeping the cells that hold a checked regression value.

This is the project's one notebook normalizer (the pre-commit hook, ``make strip``, ``make exercises`` and
``tools/refresh_checked_outputs.py`` all call it). It is stock ``nbstripout`` (default options: outputs,
execution counts and volatile metadata removed, cell ids renumbered ``"0", "1", …``) with one exception:
a cell tagged ``NBVAL_CHECK_OUTPUT`` keeps its outputs (it carries ``"keep_output": true``, which nbstripout
honors) *and* an execution count of 1 — nbval refuses a reference cell that has outputs but no count
("Unrun reference cell has outputs"). So ``nbstripout --verify`` is clean on every notebook without such a
cell, and on the others differs only in those counts (tests/test_exercises.py checks both).
Files are written in nbformat's own layout (``nbformat.writes``), the layout JupyterLab saves.
Usage: ``python tools/strip_outputs.py [--check] FILE.ipynb ...``
"""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

import nbformat
from nbstripout import strip_output

KEEP_TAG = "NBVAL_CHECK_OUTPUT"
# nbstripout's default extra keys (nbstripout 0.9.1, _nbstripout.main)
NBSTRIPOUT_KEYS = ["metadata.signature", "metadata.widgets", "cell.metadata.collapsed",
                   "cell.metadata.ExecuteTime", "cell.metadata.execution", "cell.metadata.heading_collapsed",
                   "cell.metadata.hidden", "cell.metadata.scrolled"]


def _copy(nb: dict) -> nbformat.NotebookNode:
    """A normalized deep copy (sources joined into strings, as nbformat.read gives them)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nbformat warns of missing cell ids (test fixtures); strip renumbers them
        return nbformat.reads(nbformat.writes(nbformat.from_dict(nb)), as_version=4)


def nbstripout_default(nb: dict) -> nbformat.NotebookNode:
    """What ``nbstripout`` with its default options makes of ``nb`` (a copy; ``nb`` is not changed)."""
    return strip_output(_copy(nb), keep_output=None, keep_count=False, keep_id=False, extra_keys=NBSTRIPOUT_KEYS)


def strip(nb: dict) -> nbformat.NotebookNode:
    """nbstripout's defaults, except that cells tagged NBVAL_CHECK_OUTPUT keep outputs and count 1."""
    nb = _copy(nb)
    for cell in nb.cells:  # the tag decides; nbstripout reads the keep_output metadata
        cell.metadata.pop("keep_output", None)
        if cell.cell_type == "code" and KEEP_TAG in cell.metadata.get("tags", []):
            cell.metadata["keep_output"] = True
    nb = nbstripout_default(nb)
    for cell in nb.cells:
        if cell.metadata.get("keep_output"):
            cell.execution_count = 1
            for out in cell.outputs:
                if "execution_count" in out:
                    out["execution_count"] = 1
    return nb


def dumps(nb: dict) -> str:
    """The notebook as nbformat (and so JupyterLab) writes it: sorted keys, indent 1, sources as line lists."""
    return nbformat.writes(nbformat.from_dict(nb)) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    files = [Path(a) for a in argv if a != "--check"]
    dirty = []
    for f in files:
        text = f.read_text(encoding="utf-8")
        new = dumps(strip(nbformat.reads(text, as_version=4)))
        if new != text:
            dirty.append(f)
            if not check:
                f.write_text(new, encoding="utf-8")
    if check and dirty:
        print("notebooks to strip (run `make strip`): " + ", ".join(map(str, dirty)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
