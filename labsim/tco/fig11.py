"""The report's table: the four columns of Fig 11 as model inputs (``REPORT_FIG11``, each value cited), its
printed derived rows (``fig11_printed``), and their recomputation side by side (``compare_fig11``,
``fig11_table``, ``print_fig11``), each cell within half a unit of its last printed digit."""
from __future__ import annotations

import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import LabsimError, check_choice
from ..table import Table
from .inputs import DATA_DIR, TcoInputs
from .model import evaluate


def _load_fig11() -> tuple[dict[str, TcoInputs], dict[str, str]]:
    data = tomllib.loads((DATA_DIR / "fig11_inputs.toml").read_text(encoding="utf-8"))
    meta = data["meta"]
    cols: dict[str, TcoInputs] = {}
    labels = {}
    for col, info in data["columns"].items():
        labels[col] = info["label"]
        kwargs: dict[str, Any] = {}
        sources: dict[str, str] = {}
        for name, spec in data["inputs"].items():
            val = spec["values"][col]
            kwargs[name] = val if isinstance(val, bool) else float(val)
            sources[name] = (f"{meta['report']} {meta['figure']}, row '{spec['row']}' ({spec['unit']}), "
                             f"column '{info['label']}'")
        cols[col] = TcoInputs(**kwargs, label=f"{info['label']} ({info['system']})", sources=sources)
    return cols, labels


#: The four columns of Fig 11 ([huatai26]) as model inputs; ``REPORT_FIG11[col].sources[field]`` cites each value.
REPORT_FIG11, COLUMN_LABELS = _load_fig11()
COLUMNS: tuple[str, ...] = tuple(REPORT_FIG11)


def fig11_printed() -> list[dict[str, Any]]:
    """The printed derived rows of Fig 11 (strings as printed), in the report's order."""
    data = tomllib.loads((DATA_DIR / "fig11_printed.toml").read_text(encoding="utf-8"))
    return data["rows"]


def _parse_printed(text: str) -> tuple[float, float]:
    """'5.20' → (5.2, 0.005); '77%' → (0.77, 0.005): value and half a unit of the last printed digit."""
    s = text.strip()
    pct = s.endswith("%")
    s = s.rstrip("%").replace(",", "")
    decimals = len(s.split(".")[1]) if "." in s else 0
    half = 0.5 * 10.0 ** (-decimals)
    if pct:
        return float(s) / 100.0, half / 100.0
    return float(s), half


@dataclass(frozen=True)
class Fig11Check:
    """One cell of Fig 11: printed string, its value, our computation, the rounding tolerance, match or not."""

    field: str
    row: str
    unit: str
    column: str
    printed: str
    printed_value: float
    computed: float
    tolerance: float
    ok: bool


def _columns(columns) -> list[str]:
    """None (all), one column name, or a list of them."""
    if columns is None:
        return list(COLUMNS)
    if isinstance(columns, str):
        columns = [columns]
    if isinstance(columns, (bytes, Mapping)) or not isinstance(columns, (list, tuple)):
        raise LabsimError(f"columns must be None, a Fig 11 column name or a list of them, got {columns!r}")
    for c in columns:
        check_choice("columns", c, COLUMNS, what="Fig 11 column")
    return list(columns)


def compare_fig11(columns=None) -> list[Fig11Check]:
    """Recompute every printed derived cell of Fig 11 and compare it within half a unit of its last printed digit
    (plus 1e-9 relative for floating point). Nothing is tuned: the inputs are the printed input rows."""
    cols = _columns(columns)
    results = {c: evaluate(REPORT_FIG11[c]) for c in cols}
    checks = []
    for row in fig11_printed():
        for c in cols:
            text = row["printed"][c]
            value, tol = _parse_printed(text)
            got = float(getattr(results[c], row["field"]))
            ok = abs(got - value) <= tol + 1e-9 * max(abs(value), 1.0)
            checks.append(Fig11Check(row["field"], row["row"], row["unit"], c, text, value, got, tol, ok))
    return checks


def _fmt_like(printed: str, value: float) -> str:
    s = printed.strip()
    if s.endswith("%"):
        return f"{100 * value:.1f}%"
    decimals = len(s.split(".")[1]) if "." in s else 0
    return f"{value:,.{decimals + 1}f}" if abs(value) < 1e4 else f"{value:,.1f}"


def fig11_table(columns=None):
    """Fig 11 side by side as a :class:`~labsim.table.Table` — each cell "printed | ours ✓" (✗ outside the printed
    rounding): aligned text when printed, an HTML table in a notebook."""
    cols = _columns(columns)
    by = {(ch.field, ch.column): ch for ch in compare_fig11(cols)}
    body = []
    for row in fig11_printed():
        cells = []
        for c in cols:
            ch = by[(row["field"], c)]
            cells.append(f"{ch.printed} | {_fmt_like(ch.printed, ch.computed)} {'✓' if ch.ok else '✗'}")
        body.append((row["row"], *cells))
    return Table(("Fig 11 row (printed | labsim.tco)", *cols), body, align="l" + "r" * len(cols), wide=(0,))


def print_fig11(columns=None, file=None) -> list[Fig11Check]:
    """Print Fig 11 side by side — printed value | our value — and flag every cell that does not match.
    Returns the list of mismatching cells (empty if the whole table reproduces)."""
    if file is not None and not callable(getattr(file, "write", None)):
        raise LabsimError(f"file must be a writable text file (an object with write()), got {file!r}")
    out = file or sys.stdout
    cols = _columns(columns)
    checks = compare_fig11(cols)
    print("Fig 11 of the report ([huatai26]): printed | labsim.tco   (✗ = outside the printed rounding)", file=out)
    print(fig11_table(cols), file=out)
    bad = [ch for ch in checks if not ch.ok]
    if bad:
        print(f"\n{len(bad)} mismatching cell(s):", file=out)
        for ch in bad:
            print(f"  ✗ {ch.row} [{COLUMN_LABELS[ch.column]}]: printed {ch.printed}, "
                  f"computed {_fmt_like(ch.printed, ch.computed)} from the same column's inputs", file=out)
    else:
        print("\nevery printed cell reproduces within its rounding", file=out)
    return bad
