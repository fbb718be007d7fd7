"""The recorded full-size layer simulations (``labsim/data/tsp/reference_layer.toml``), so that a notebook can
show "simulated: N cycles; analytic: M cycles" without re-running the cycle simulation.

The record is written by ``tools/make_reference_layer.py`` and checked by tests/test_schedule_layer.py, which
re-simulates entries and compares every number (the simulation is deterministic).
"""
from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from ..errors import LabsimError, check_int

__all__ = ["REFERENCE_FILE", "reference_layers", "reference_layer", "REFERENCE_FIELDS", "BRITISH_KEYS"]

REFERENCE_FILE = Path(__file__).resolve().parents[1] / "data" / "tsp" / "reference_layer.toml"

#: Report keys as first spelled (British), kept as aliases of the American ones in every report and record.
BRITISH_KEYS = {"weight_stream_utilisation": "weight_stream_utilization",
                "all_stream_utilisation": "all_stream_utilization"}

#: what each recorded entry holds (besides tp, context, weight_streams_per_plane and fits)
REFERENCE_FIELDS = ("cycles", "us", "analytic_cycles", "analytic_us", "install_bytes_per_cycle",
                    "install_bytes_per_cycle_real", "plane_busy_fraction", "exposed_cycles",
                    "weight_stream_utilization",
                    "all_stream_utilization", "streamed_bytes", "weight_bytes", "kv_bytes", "instructions",
                    "issue_rows", "operands_checked", "chain_cycles_analytic", "install_cycles_analytic")


@lru_cache(maxsize=1)
def _load() -> dict:
    try:
        with open(REFERENCE_FILE, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:  # pragma: no cover - shipped with the package
        raise LabsimError(f"the reference record {REFERENCE_FILE.name} is missing; run tools/make_reference_layer.py"
                          ) from None
    return data


def reference_layers() -> list[dict]:
    """Every recorded entry (a copy): model, geometry, tp, context, weight_streams_per_plane, fits, and the
    simulated and analytic figures."""
    data = _load()
    head = {k: v for k, v in data.items() if k != "entry"}
    rows = [{**head, **e} for e in data.get("entry", [])]
    for r in rows:
        r.update({old: r[new] for old, new in BRITISH_KEYS.items() if new in r})
    return rows


def reference_layer(tp: int = 1, context: int = 1024, weight_streams_per_plane: int | None = None) -> dict:
    """The recorded entry for ``tp`` chips per layer and ``context`` cached tokens (default: the geometry's
    default stream count). Raises LabsimError listing what is recorded when there is no such entry."""
    tp = check_int("tp", tp, lo=1, hi=4096)
    context = check_int("context", context, lo=1, hi=2**24)
    rows = reference_layers()
    if weight_streams_per_plane is None:
        weight_streams_per_plane = _load().get("default_weight_streams_per_plane")
    else:
        weight_streams_per_plane = check_int("weight_streams_per_plane", weight_streams_per_plane, lo=1, hi=4096)
    for r in rows:
        if (r["tp"], r["context"], r["weight_streams_per_plane"]) == (tp, context, weight_streams_per_plane):
            return r
    have = sorted({(r["tp"], r["context"], r["weight_streams_per_plane"]) for r in rows})
    raise LabsimError(f"no recorded layer for tp={tp}, context={context}, weight_streams_per_plane="
                      f"{weight_streams_per_plane}; recorded (tp, context, streams): {have}")
