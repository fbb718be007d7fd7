#!/usr/bin/env python3
"""Strip outputs and execution counts from notebooks, except cells that keep a checked regression value.

A cell keeps its outputs when it is tagged ``NBVAL_CHECK_OUTPUT`` (nbval then compares them) — such cells
also carry ``"keep_output": true`` so that ``nbstripout`` (pre-commit hook) leaves them alone too.
Usage: ``python tools/strip_outputs.py [--check] FILE.ipynb ...``
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

KEEP_TAG = "NBVAL_CHECK_OUTPUT"


def strip(nb: dict) -> dict:
    for cell in nb["cells"]:
        md = cell.setdefault("metadata", {})
        md.pop("execution", None)
        md.pop("collapsed", None)
        md.pop("scrolled", None)
        if cell["cell_type"] != "code":
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
            continue
        keep = KEEP_TAG in md.get("tags", [])
        if keep:
            # nbval refuses a reference cell with outputs but no execution count ("unrun"), so kept cells
            # carry a count; normalise it to 1 so re-running does not change the file.
            md["keep_output"] = True
            cell["execution_count"] = 1
            for out in cell.get("outputs", []):
                if "execution_count" in out:
                    out["execution_count"] = 1
        else:
            md.pop("keep_output", None)
            cell["outputs"] = []
            cell["execution_count"] = None
    nb.get("metadata", {}).pop("widgets", None)
    return nb


def dumps(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    files = [Path(a) for a in argv if a != "--check"]
    dirty = []
    for f in files:
        text = f.read_text(encoding="utf-8")
        new = dumps(strip(json.loads(text)))
        if new != text:
            dirty.append(f)
            if not check:
                f.write_text(new, encoding="utf-8")
    if check and dirty:
        print("notebooks with outputs to strip: " + ", ".join(map(str, dirty)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
