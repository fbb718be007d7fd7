"""How good is the decode model? Predicted vs published tokens/s, point by point, in the open.

The data (``labsim/data/validation/published_speeds.toml``) holds every published batch-1 decode speed the course
could source — Groq's API list in the report (Fig 10), Groq's earlier figures, SemiAnalysis's Fig 11 operating
point, gpt-fast's GPU measurements — with its conditions (chip, model, precisions, context, chips, batch,
speculative decoding yes/no, date) and a citation. :func:`compare` runs :func:`labsim.capacity.decode_time` on
each and returns predicted, published, their ratio and the band the point is held to. One parameter is inferred
from data: the GPU all-reduce latency, from the points marked ``role = "calibration"`` (:func:`infer_gpu_allreduce_
latency`); every other point is validation. Nothing is tuned per model.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import capacity, catalog
from .errors import LabsimError, check_choice, check_number
from .sources import check_citation, check_keys

__all__ = ["Point", "points", "compare", "predict", "infer_gpu_allreduce_latency", "DEFAULT_BAND", "summary",
           "DATA_FILE"]

DATA_FILE = Path(__file__).resolve().parent / "data" / "validation" / "published_speeds.toml"
#: the band a point is held to unless it states a wider one with its mechanism: predicted / published in
#: [1/1.35, 1.35] (±35 %).
DEFAULT_BAND = (0.74, 1.35)
_ROLES = ("validation", "calibration")
_FIELDS = {"id", "chip", "model", "precision", "expert_precision", "kv_precision", "context_tokens", "chips",
           "tensor_parallel", "batch", "microbatches", "speculative", "date", "tokens_per_s", "role", "band",
           "mechanism", "notes"}


@dataclass(frozen=True)
class Point:
    """One published measurement and the conditions it was measured under."""
    id: str
    chip: str
    model: str
    precision: str
    tokens_per_s: float
    source: str
    date: str
    expert_precision: str | None = None
    kv_precision: str = "fp16"
    context_tokens: int = 1024
    chips: int | None = None
    tensor_parallel: int | None = None
    batch: int = 1
    microbatches: int = 1
    speculative: bool = False
    role: str = "validation"
    band: tuple = DEFAULT_BAND
    mechanism: str = ""
    notes: str = field(default="", compare=False)

    @property
    def kind(self) -> str:
        """"LPU", "wafer" or "GPU", and "dense" or "MoE" — the colors of chapter 3's scatter."""
        c, m = catalog.chip(self.chip), catalog.model(self.model)
        machine = "LPU" if capacity.lpu.is_lpu(c) else "wafer" if capacity.mesh.is_mesh_machine(c) else "GPU"
        return f"{machine} {'MoE' if m.is_moe else 'dense'}"

    def decode_kwargs(self) -> dict:
        kw = dict(precision=self.precision, kv_precision=self.kv_precision, context_tokens=self.context_tokens,
                  batch=self.batch, microbatches=self.microbatches)
        if self.expert_precision:
            kw["expert_precision"] = self.expert_precision
        if self.chips:
            kw["chips"] = self.chips
        if self.tensor_parallel:
            kw["tensor_parallel"] = self.tensor_parallel
        return kw


def _point(raw: dict, i: int) -> Point:
    where = f"{DATA_FILE.name} point #{i + 1} ({raw.get('id', '?')})"
    unknown = set(raw) - _FIELDS
    if unknown:
        raise LabsimError(f"{where}: unknown fields {sorted(unknown)}; allowed: {', '.join(sorted(_FIELDS))}")
    for f in ("id", "chip", "model", "precision", "tokens_per_s", "date"):
        if f not in raw:
            raise LabsimError(f"{where}: field {f!r} is required")
    catalog.chip(raw["chip"])
    catalog.model(raw["model"])
    tps = raw["tokens_per_s"]
    if not isinstance(tps, dict) or set(tps) != {"value", "source"}:
        raise LabsimError(f"{where}: tokens_per_s must be {{ value = …, source = \"[key] …\" }}")
    src = check_citation(f"{where} tokens_per_s", tps["source"], allow_assumption=False)
    role = check_choice("role", raw.get("role", "validation"), _ROLES, what="point role")
    band = tuple(float(x) for x in raw.get("band", DEFAULT_BAND))
    if len(band) != 2 or not 0 < band[0] < band[1]:
        raise LabsimError(f"{where}: band must be [lo, hi] with 0 < lo < hi, got {raw.get('band')!r}")
    if band != DEFAULT_BAND and not raw.get("mechanism"):
        raise LabsimError(f"{where}: a band wider than the default needs a 'mechanism' that explains the gap")
    if raw.get("mechanism"):
        check_keys(f"{where} mechanism", raw["mechanism"])
    kw = {k: raw[k] for k in ("expert_precision", "kv_precision", "context_tokens", "chips", "tensor_parallel",
                              "batch", "microbatches", "speculative", "mechanism", "notes") if k in raw}
    return Point(id=raw["id"], chip=raw["chip"], model=raw["model"], precision=raw["precision"],
                 tokens_per_s=float(tps["value"]), source=src, date=str(raw["date"]), role=role, band=band, **kw)


@lru_cache(maxsize=1)
def points() -> tuple[Point, ...]:
    """Every published point, validated (catalog names, citations, bands)."""
    raw = tomllib.loads(DATA_FILE.read_text(encoding="utf-8"))
    pts = tuple(_point(r, i) for i, r in enumerate(raw.get("point", [])))
    ids = [p.id for p in pts]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise LabsimError(f"{DATA_FILE.name}: duplicate point ids {sorted(dup)}")
    return pts


def predict(point: Point, **overrides) -> capacity.DecodeResult:
    """The decode model at the point's conditions (``overrides``: DecodeConfig fields, e.g. a what-if)."""
    if not isinstance(point, Point):
        raise LabsimError(f"point must be one of validation.points() (a validation.Point), got {point!r}")
    kw = point.decode_kwargs()
    kw.update(overrides)
    return capacity.decode_time(point.model, point.chip, **kw)


def compare(selection=None, **overrides) -> list[dict]:
    """Predicted vs published for every point (or the ids in ``selection``).

    Each row: ``id, chip, model, kind, date, speculative, role, published_tokens_per_s, predicted_tokens_per_s,
    ratio`` (predicted / published), ``band`` (lo, hi), ``within`` (bool), ``bound`` (what sets the predicted
    time), ``mechanism`` and ``source``. ``overrides`` apply to every point (e.g. ``moe_schedule=…``).
    """
    pts = points()
    if selection is not None:
        if isinstance(selection, str):
            selection = (selection,)
        if not isinstance(selection, (list, tuple, set, frozenset)):
            raise LabsimError(f"selection must be a point id or a list of them, got {selection!r}")
        want = set(selection)
        known = {p.id for p in pts}
        for w in want:
            check_choice("selection", w, known, what="validation point")
        pts = tuple(p for p in pts if p.id in want)
    rows = []
    for p in pts:
        d = predict(p, **overrides)
        ratio = d.tokens_per_s / p.tokens_per_s
        rows.append({"id": p.id, "chip": p.chip, "model": p.model, "kind": p.kind, "date": p.date,
                     "speculative": p.speculative, "role": p.role, "published_tokens_per_s": p.tokens_per_s,
                     "predicted_tokens_per_s": d.tokens_per_s, "ratio": ratio, "band": p.band,
                     "within": p.band[0] <= ratio <= p.band[1], "bound": d.dominant_bound,
                     "chips": d.chips, "mechanism": p.mechanism, "source": p.source})
    return rows


def infer_gpu_allreduce_latency(lo_s: float = 0.0, hi_s: float = 100e-6) -> float:
    """The GPU all-reduce latency (seconds) that best fits the calibration points, in log space.

    Each calibration point is a GPU measurement at several tensor-parallel widths; every other parameter stays
    at its default. Golden-section search for the latency minimising Σ log²(predicted / published).
    """
    lo_s = check_number("lo_s", lo_s, lo=0.0, hi=1.0, unit="s")
    hi_s = check_number("hi_s", hi_s, lo=0.0, hi=1.0, unit="s")
    if hi_s <= lo_s:
        raise LabsimError(f"hi_s = {hi_s:g} s must exceed lo_s = {lo_s:g} s; allowed: 0 ≤ lo_s < hi_s ≤ 1 s")
    cal = [p for p in points() if p.role == "calibration"]
    if not cal:
        raise LabsimError("no calibration points in the validation data")

    def loss(a):
        return sum(math.log(predict(p, gpu_allreduce_latency_s=a).tokens_per_s / p.tokens_per_s) ** 2 for p in cal)

    g = (math.sqrt(5) - 1) / 2
    a, b = lo_s, hi_s
    c, d = b - g * (b - a), a + g * (b - a)
    for _ in range(60):
        if loss(c) < loss(d):
            b, d = d, c
            c = b - g * (b - a)
        else:
            a, c = c, d
            d = a + g * (b - a)
    return (a + b) / 2


def summary(rows=None) -> dict:
    """Counts and geometric-mean ratios: over all validation points (not calibration, not speculative), and over
    those held to the default ±35 % band (no named mechanism)."""
    rows = compare() if rows is None else _rows(rows)
    val = [r for r in rows if r["role"] == "validation" and not r["speculative"]]
    ratios = np.array([r["ratio"] for r in val])
    plain = np.array([r["ratio"] for r in val if tuple(r["band"]) == DEFAULT_BAND])
    return {"points": len(rows), "validation_points": len(val),
            "within_35_percent": int(np.sum((ratios >= DEFAULT_BAND[0]) & (ratios <= DEFAULT_BAND[1]))),
            "within_band": sum(r["within"] for r in rows),
            "geometric_mean_ratio": float(np.exp(np.mean(np.log(ratios)))) if len(ratios) else None,
            "default_band_points": int(plain.size),
            "default_band_geometric_mean": float(np.exp(np.mean(np.log(plain)))) if plain.size else None}


_ROW_KEYS = ("id", "kind", "role", "speculative", "published_tokens_per_s", "predicted_tokens_per_s", "ratio",
             "band", "within", "mechanism")


def _rows(rows) -> list[dict]:
    """The rows :func:`compare` returns (checked: each a dict with the keys summary and the plots read, speeds
    and ratio finite and > 0)."""
    if isinstance(rows, (str, bytes)) or not isinstance(rows, (list, tuple)):
        raise LabsimError(f"rows must be the list validation.compare() returns, got {rows!r}")
    for i, r in enumerate(rows):
        if not isinstance(r, dict) or any(k not in r for k in _ROW_KEYS):
            raise LabsimError(f"rows[{i}] must be a row of validation.compare() (a dict with "
                              f"{', '.join(_ROW_KEYS)}), got {r!r}")
        for k in ("published_tokens_per_s", "predicted_tokens_per_s", "ratio"):
            check_number(f"rows[{i}][{k!r}]", r[k], lo=0.0, lo_open=True)
    return list(rows)
