#!/usr/bin/env python3
"""Execute notebooks on a fresh kernel and store outputs only for cells tagged ``NBVAL_CHECK_OUTPUT``.

Those outputs are the regression values nbval compares on every test run; all other outputs are dropped.
Usage: ``python tools/refresh_checked_outputs.py NOTEBOOK.ipynb ...`` (run from the repository root).
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from strip_outputs import dumps, strip


def refresh(path: Path) -> int:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    kept = sum(1 for c in nb.cells if "NBVAL_CHECK_OUTPUT" in c.metadata.get("tags", []))
    path.write_text(dumps(strip(nb)), encoding="utf-8")
    return kept


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(f"{arg}: {refresh(Path(arg))} checked cell(s) refreshed")
