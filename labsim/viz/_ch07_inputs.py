"""Input checks of the chapter-7 plots and widget (``labsim.viz.ch07``): what each figure reads must be what the
simulator that makes it returned — a run, a dict of curves, a list of rows — with every number finite and in range,
or a ``LabsimError`` names the parameter (docs/contract.md)."""
from __future__ import annotations

import numpy as np

from .. import catalog, systolic
from ..errors import LabsimError, check_array, check_bool, check_choice, check_mapping, check_number, check_text
from ..limits import MAX_USD

#: most lines, bars, frames or marks one plot draws
MAX_ITEMS = 60


def _seq(name: str, value, *, max_len: int = MAX_ITEMS) -> list:
    """A non-empty list/tuple/1-D array (not a string or a dict) of at most ``max_len`` items."""
    if isinstance(value, (str, bytes, dict)) or not isinstance(value, (list, tuple, np.ndarray, range)):
        raise LabsimError(f"{name} must be a list, got {type(value).__name__}")
    if isinstance(value, np.ndarray) and value.ndim != 1:
        raise LabsimError(f"{name} must be a 1-D list, got an array of shape {value.shape}")
    if not 1 <= len(value) <= max_len:
        raise LabsimError(f"{name} holds {len(value)} items; allowed: 1 … {max_len}")
    return list(value)


def _chip_names(name: str, value) -> list[str]:
    chips = catalog.chips()
    return [check_choice(f"{name}[{i}]", n, chips, what="chip") for i, n in enumerate(_seq(name, value))]


def _dict(name: str, value, *, max_len: int = MAX_ITEMS) -> dict:
    d = check_mapping(name, value)
    if not 1 <= len(d) <= max_len:
        raise LabsimError(f"{name} holds {len(d)} entries; allowed: 1 … {max_len}")
    for key in d:
        if not isinstance(key, str):
            raise LabsimError(f"{name}: every key must be a label (a string), got {key!r:.40}")
        check_text(f"{name} label", key)
    return d


def _curve(name: str, curves: dict, key: str, n: int | None = None, *, lo=None, hi=None, masked_ok=False):
    """``curves[key]``: a 1-D array of finite numbers in [lo, hi] (masked entries allowed when ``masked_ok``)."""
    if key not in curves:
        raise LabsimError(f"{name} lacks {key!r}; pass what {name}'s maker returned")
    v = curves[key]
    if masked_ok and isinstance(v, np.ma.MaskedArray):
        data = np.ma.getdata(v)
        if data.dtype.kind not in "iuf":
            raise LabsimError(f"{name}[{key!r}] must be an array of numbers, got dtype {data.dtype}")
        fill = lo if lo is not None else hi if hi is not None else 0.0
        check_array(f"{name}[{key!r}]", np.where(np.ma.getmaskarray(v), fill, data), lo=lo, hi=hi)
        arr = np.ma.asarray(v, dtype=float)
    else:
        arr = check_array(f"{name}[{key!r}]", v, lo=lo, hi=hi)
    if arr.ndim != 1 or arr.size == 0 or (n is not None and arr.size != n):
        raise LabsimError(f"{name}[{key!r}] must be a non-empty 1-D array{f' of {n} values' if n else ''}, got shape "
                          f"{arr.shape}")
    return arr


def _run(value) -> systolic.SystolicRun:
    if not isinstance(value, systolic.SystolicRun):
        raise LabsimError(f"run must be a labsim.systolic.SystolicRun (from systolic.simulate), got "
                          f"{type(value).__name__}")
    return value


_ROW_KEYS = {"price_usd_per_chip": MAX_USD, "chips": 1e9, "racks": 1e9, "tokens_per_s_per_user": 1e12,
             "usd_per_mtok": MAX_USD}
_R_KEYS = {"k": 1e3, "sram_mb": 1e12, "mb_per_mm2": 1e6, "sram_area_mm2": 1e12, "sram_share": 1e12, "die_yield": 1.0,
           "hbm_usd_per_gb": MAX_USD}


def _explore_result(r) -> dict:
    """What :func:`next_lpu_explore` returned: the keys the text and the bars read, every number finite."""
    r = check_mapping("r", r)
    for key, hi in _R_KEYS.items():
        if key not in r:
            raise LabsimError(f"r lacks {key!r}; pass what next_lpu_explore returned")
        check_number(f"r[{key!r}]", r[key], lo=0.0, hi=hi)
    for key in ("good_die_usd", "sram_usd_per_gb"):
        if r.get(key) is not None:
            check_number(f"r[{key!r}]", r[key], lo=0.0, hi=MAX_USD)
    for key in ("node_label", "price_note", "model"):
        check_text(f"r[{key!r}]", r.get(key))
    check_bool("r['fits']", r.get("fits"))
    for part in ("row", "base"):
        row = check_mapping(f"r[{part!r}]", r.get(part))
        for key, hi in _ROW_KEYS.items():
            if key not in row:
                raise LabsimError(f"r[{part!r}] lacks {key!r}; pass what next_lpu_explore returned")
            check_number(f"r[{part!r}][{key!r}]", row[key], lo=0.0, hi=hi)
        check_bool(f"r[{part!r}]['crosses_cliff']", row.get("crosses_cliff"))
        check_text(f"r[{part!r}]['dominant_bound']", row.get("dominant_bound"))
    return r


