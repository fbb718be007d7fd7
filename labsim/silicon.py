"""Silicon arithmetic: SRAM per mm², defect-limited yield, cost per good megabyte, and the next LPU (ch. 7).

* **Density** — MB per mm² = array efficiency ÷ (8 × bit-cell area); node data in ``labsim/data/silicon/nodes.toml``.
* **Yield** — the classical defect-density models ([cunningham90]): Poisson e^(−AD), Murphy ((1 − e^(−AD))/AD)²
  ([murphy64]), Seeds 1/(1 + AD) and the negative binomial (1 + AD/α)^(−α). A wafer-scale part survives by
  redundancy: it works if the defective cores do not outnumber the spares (binomial tail) and no defect hits the
  non-redundant area. A tile of known-good dies fails only in assembly: y_bond^n. :func:`simulate_wafers` drops
  random defects on a wafer map (numba) and checks the formulas.
* **Cost** — dies per 300 mm wafer ([hennessy19] §1.6), wafer prices ([cset20]) → cost per good die → per good MB
  of SRAM, next to HBM's price per GB ([A]).
* **The next LPU** — :func:`next_lpu_chip` is the catalog's LPU v1 with k × the SRAM (a user chip built with
  ``catalog.load_chip``); :func:`next_lpu_whatif` runs it through chapter 3's ``capacity.plan`` /
  ``capacity.decode_time`` and chapter 4's ``tco`` — no new capacity or cost model.

Design and sources: ``docs/design/silicon.md``.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numba
import numpy as np

from . import capacity, catalog, tco
from .errors import (
    LabsimError,
    check_array,
    check_bool,
    check_choice,
    check_int,
    check_name,
    check_number,
    ensure_finite,
)
from .latency import _gamma_draw
from .limits import MAX_BATCH, MAX_BYTES, MAX_TOKENS, MAX_USD
from .precision import PRECISIONS

__all__ = ["Node", "nodes", "node", "defaults", "sram_mb_per_mm2", "sram_bytes_on_die", "sram_area_mm2",
           "YIELD_MODELS", "die_yield", "dies_per_wafer", "good_die_cost_usd", "wafer_scale_yield",
           "tile_yield", "required_per_die_yield", "sram_usd_per_gb", "simulate_wafers", "WaferMaps",
           "next_lpu_chip", "next_lpu_whatif"]

DATA_FILE = Path(__file__).resolve().parent / "data" / "silicon" / "nodes.toml"
YIELD_MODELS = ("poisson", "murphy", "seeds", "negative_binomial")

#: largest area, mm² (14× a 300 mm wafer's 70,686 mm²)
MAX_AREA_MM2 = 1e6
#: wafer diameters, mm (450 mm is the largest ever proposed)
MIN_WAFER_DIAMETER_MM, MAX_WAFER_DIAMETER_MM = 10.0, 1000.0
#: clustering parameter α of the negative-binomial model (published fits: about 0.3 … 5; α → ∞ is Poisson)
MIN_ALPHA, MAX_ALPHA = 0.01, 1e6
#: physical cores of a redundant wafer (WSE-3: 900,000)
MAX_CORES = 10_000_000
#: expected candidate defects one simulate_wafers call drops (wafers × density × the enclosing square)
MAX_DEFECTS = 100_000_000
#: SRAM multiples one next_lpu_whatif call evaluates
MAX_KS = 100


@dataclass(frozen=True)
class Node:
    """One process node: high-density SRAM bit cell (µm²) and, where a source gives one, the wafer price."""
    name: str
    label: str
    bitcell_um2: float
    wafer_usd: float | None
    sources: dict


@lru_cache(maxsize=1)
def _data() -> dict:
    with DATA_FILE.open("rb") as fh:
        raw = tomllib.load(fh)
    out = {"defaults": {}, "nodes": {}, "sources": {}, "notes": raw["meta"]["notes"]}
    for k, v in raw["defaults"].items():
        if isinstance(v, dict) and "value" in v:
            out["defaults"][k] = float(v["value"])
            out["sources"][k] = v["source"]
    for name, d in raw["nodes"].items():
        srcs = {k: v["source"] for k, v in d.items() if isinstance(v, dict)}
        out["nodes"][name] = Node(name=name, label=d["label"], bitcell_um2=float(d["bitcell_um2"]["value"]),
                                  wafer_usd=float(d["wafer_usd"]["value"]) if "wafer_usd" in d else None,
                                  sources=srcs)
    return out


def nodes() -> list[str]:
    """Node names, largest feature first (``"14nm"``, ``"7nm"``, ``"5nm"``, ``"3nm"``)."""
    return list(_data()["nodes"])


def node(name) -> Node:
    """A process node by name (``nodes()``), or a Node."""
    return _node("name", name)


def _node(param: str, name) -> Node:
    """:func:`node` with the caller's parameter name in the error."""
    if isinstance(name, Node):
        return name
    return _data()["nodes"][check_choice(param, name, _data()["nodes"], what="process node")]


def _alpha(alpha) -> float:
    return check_number("alpha", alpha, lo=MIN_ALPHA, hi=MAX_ALPHA)


def _density(value):
    return check_array("defect_density_per_mm2", _default("defect_density_per_mm2") if value is None else value,
                       lo=0.0, hi=10.0)


def defaults() -> dict:
    """The data file's defaults with their sources: ``{name: (value, source)}`` (array efficiency, reticle, wafer
    diameter, defect density per mm², HBM price per GB)."""
    d = _data()
    return {k: (v, d["sources"][k]) for k, v in d["defaults"].items()}


def _default(name: str) -> float:
    return _data()["defaults"][name]


# ----------------------------------------------------------------------------------------------------------
# density
# ----------------------------------------------------------------------------------------------------------

def sram_mb_per_mm2(node_name="5nm", *, array_efficiency: float | None = None) -> float:
    """Decimal MB of SRAM per mm² of SRAM macro: efficiency × 10⁶ µm²/mm² ÷ bit-cell µm² ÷ 8 bits ÷ 10⁶."""
    n = _node("node_name", node_name)
    eff = _default("array_efficiency") if array_efficiency is None else check_number(
        "array_efficiency", array_efficiency, lo=0.01, hi=1.0)     # below 1 % no SRAM macro is built
    return eff / (8.0 * n.bitcell_um2)


def sram_bytes_on_die(node_name, die_area_mm2, sram_fraction, *, array_efficiency: float | None = None):
    """Bytes of SRAM when ``sram_fraction`` of a ``die_area_mm2`` die is SRAM macros (arrays allowed)."""
    area = check_array("die_area_mm2", die_area_mm2, lo=0.0, lo_open=True, hi=MAX_AREA_MM2)
    frac = check_array("sram_fraction", sram_fraction, lo=0.0, hi=1.0)
    density = sram_mb_per_mm2(node_name, array_efficiency=array_efficiency)
    out = _broadcast("die_area_mm2", area, "sram_fraction", frac)
    out = out[0] * out[1] * density * 1e6
    return float(out) if np.ndim(out) == 0 else out


def _broadcast(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray):
    try:
        return np.broadcast_arrays(a, b)
    except ValueError:
        raise LabsimError(f"{name_a} (shape {a.shape}) and {name_b} (shape {b.shape}) must have the same shape or "
                          "broadcast") from None


def sram_area_mm2(sram_bytes, node_name, *, array_efficiency: float | None = None):
    """mm² of SRAM macro needed for ``sram_bytes`` at ``node_name`` (the inverse of :func:`sram_bytes_on_die`)."""
    b = check_array("sram_bytes", sram_bytes, lo=0.0, hi=MAX_BYTES)
    out = b / 1e6 / sram_mb_per_mm2(node_name, array_efficiency=array_efficiency)
    return float(out) if np.ndim(out) == 0 else out


# ----------------------------------------------------------------------------------------------------------
# yield
# ----------------------------------------------------------------------------------------------------------

def die_yield(area_mm2, defect_density_per_mm2=None, model: str = "poisson", *, alpha: float = 2.0):
    """Fraction of dies with no killer defect, for ``area_mm2`` and defects per mm² (arrays broadcast).

    poisson e^(−AD); murphy ((1 − e^(−AD))/(AD))²; seeds 1/(1 + AD); negative_binomial (1 + AD/α)^(−α) with
    clustering ``alpha`` ([cunningham90]). All equal 1 at D = 0 and fall as A·D grows.
    """
    model = check_choice("model", model, YIELD_MODELS, what="yield model")
    A = check_array("area_mm2", area_mm2, lo=0.0, hi=MAX_AREA_MM2)
    D = _density(defect_density_per_mm2)
    a = _alpha(alpha)
    A, D = _broadcast("area_mm2", A, "defect_density_per_mm2", D)
    x = A * D
    if model == "poisson":
        y = np.exp(-x)
    elif model == "murphy":
        small = x < 1e-8
        safe = np.where(small, 1.0, x)
        y = np.where(small, 1.0 - x, ((1.0 - np.exp(-safe)) / safe) ** 2)
    elif model == "seeds":
        y = 1.0 / (1.0 + x)
    else:
        y = (1.0 + x / a) ** (-a)
    return float(y) if np.ndim(y) == 0 else y


def dies_per_wafer(die_area_mm2, *, wafer_diameter_mm: float | None = None):
    """Gross dies per wafer: π (d/2)² / A − π d / √(2A), floored ([hennessy19] §1.6). Arrays allowed."""
    A = check_array("die_area_mm2", die_area_mm2, lo=1.0, hi=MAX_AREA_MM2)
    d = _default("wafer_diameter_mm") if wafer_diameter_mm is None else check_number(
        "wafer_diameter_mm", wafer_diameter_mm, lo=MIN_WAFER_DIAMETER_MM, hi=MAX_WAFER_DIAMETER_MM)
    n = np.floor(math.pi * (d / 2) ** 2 / A - math.pi * d / np.sqrt(2 * A))
    n = np.maximum(n, 0.0)
    return int(n) if np.ndim(n) == 0 else n.astype(np.int64)


def good_die_cost_usd(node_name, die_area_mm2, defect_density_per_mm2=None, model: str = "poisson", *,
                      wafer_usd: float | None = None, alpha: float = 2.0):
    """Wafer price ÷ (dies per wafer × yield): what one working die costs at the foundry (no test, package)."""
    n = _node("node_name", node_name)
    price = n.wafer_usd if wafer_usd is None else check_number("wafer_usd", wafer_usd, lo=1.0, hi=MAX_USD,
                                                                unit="USD")
    if price is None:
        raise LabsimError(f"node {n.name!r} has no sourced wafer price; pass wafer_usd=…")
    dpw = np.asarray(dies_per_wafer(die_area_mm2), dtype=float)
    if np.any(dpw <= 0):
        raise LabsimError("die_area_mm2 is out of range: no whole die fits on the wafer")
    y = np.asarray(die_yield(die_area_mm2, defect_density_per_mm2, model, alpha=alpha), dtype=float)
    good = dpw * y
    if np.any(good * MAX_USD < price):     # fewer than price / MAX_USD good dies: a die would cost > USD 10¹³
        raise LabsimError(f"die_area_mm2 and defect_density_per_mm2 leave {float(np.min(good)):.3g} good dies per "
                          f"wafer: a good die would cost more than USD {MAX_USD:g} (no die survives); lower the "
                          "area or the defect density")
    out = price / good
    return float(out) if np.ndim(out) == 0 else out


@numba.njit(cache=True)
def _lchoose(n, k_max):  # pragma: no cover - compiled
    """log C(n, k) for k = 0 … k_max."""
    out = np.empty(k_max + 1)
    top = math.lgamma(n + 1.0)
    for k in range(k_max + 1):
        out[k] = top - math.lgamma(k + 1.0) - math.lgamma(n - k + 1.0)
    return out


def _binom_cdf(k_max: int, n: int, p):
    """P(X ≤ k_max) for X ~ Binomial(n, p), summed in log space (exact for the sizes used here)."""
    p = np.atleast_1d(np.asarray(p, dtype=float))
    out = np.empty(p.size)
    k = np.arange(0, k_max + 1, dtype=float)
    lchoose = _lchoose(n, k_max)
    for i, pi in enumerate(p):
        if pi <= 0:
            out[i] = 1.0
            continue
        if pi >= 1:
            out[i] = 1.0 if k_max >= n else 0.0
            continue
        logt = lchoose + k * math.log(pi) + (n - k) * math.log1p(-pi)
        m = logt.max()
        out[i] = min(1.0, math.exp(m) * np.exp(logt - m).sum())
    return out


def wafer_scale_yield(physical_cores: int, needed_cores: int, core_area_mm2: float, defect_density_per_mm2=None, *,
                      fatal_area_mm2: float = 0.0):
    """Probability a redundant wafer works: every defect kills the core it lands in (Poisson per core), the wafer
    works if at most ``physical − needed`` cores die, and no defect lands in ``fatal_area_mm2`` of non-redundant
    silicon [A]. Vectorized over ``defect_density_per_mm2``."""
    n = check_int("physical_cores", physical_cores, lo=1, hi=MAX_CORES)
    k = check_int("needed_cores", needed_cores, lo=1, hi=n)
    a = check_number("core_area_mm2", core_area_mm2, lo=0.0, lo_open=True, hi=MAX_AREA_MM2)
    f = check_number("fatal_area_mm2", fatal_area_mm2, lo=0.0, hi=MAX_AREA_MM2)
    D = _density(defect_density_per_mm2)
    spares = n - k
    if (spares + 1) * max(1, np.size(D)) > MAX_CORES:
        raise LabsimError(f"physical_cores − needed_cores = {spares:,} spares × {np.size(D):,} defect densities is "
                          f"too much work; allowed: (spares + 1) × densities ≤ {MAX_CORES:,}")
    p_core = -np.expm1(-a * np.atleast_1d(D))
    y = _binom_cdf(spares, n, p_core) * np.exp(-f * np.atleast_1d(D))
    return float(y[0]) if np.ndim(D) == 0 else y.reshape(np.shape(D))


def tile_yield(dies: int = 25, per_die_yield=0.99):
    """Yield of a tile of ``dies`` dies that all must work: ``per_die_yield ** dies``. With known-good dies the
    per-die term is the bond/assembly yield; with untested dies it is the die yield itself."""
    n = check_int("dies", dies, lo=1, hi=100_000)
    y = check_array("per_die_yield", per_die_yield, lo=0.0, hi=1.0)
    out = y ** n
    return float(out) if np.ndim(out) == 0 else out


def required_per_die_yield(target_tile_yield, dies: int = 25):
    """Per-die (bond) yield a ``dies``-die tile needs to reach ``target_tile_yield``: target^(1/dies)."""
    n = check_int("dies", dies, lo=1, hi=100_000)
    t = check_array("target_tile_yield", target_tile_yield, lo=0.0, hi=1.0)
    out = t ** (1.0 / n)
    return float(out) if np.ndim(out) == 0 else out


def sram_usd_per_gb(node_name, die_area_mm2, sram_fraction, defect_density_per_mm2=None, model: str = "poisson", *,
                    array_efficiency: float | None = None, wafer_usd: float | None = None):
    """Foundry cost of a good die's SRAM per decimal GB: good-die cost × the SRAM's share of the area ÷ GB on it
    (the logic pays for the rest). Arrays allowed for area and fraction."""
    frac = check_array("sram_fraction", sram_fraction, lo=0.0, hi=1.0, lo_open=True)
    cost = np.asarray(good_die_cost_usd(node_name, die_area_mm2, defect_density_per_mm2, model, wafer_usd=wafer_usd))
    gb = np.asarray(sram_bytes_on_die(node_name, die_area_mm2, frac, array_efficiency=array_efficiency)) / 1e9
    out = cost * frac / gb
    ensure_finite("sram_usd_per_gb", {"usd_per_gb": out}, {"die_area_mm2": die_area_mm2, "sram_fraction": frac})
    return float(out) if np.ndim(out) == 0 else out


# ----------------------------------------------------------------------------------------------------------
# Monte Carlo wafer maps (numba)
# ----------------------------------------------------------------------------------------------------------

@numba.njit(cache=True)
def _splitmix(state):  # pragma: no cover - compiled
    """SplitMix64 (Steele, Lea & Flood 2014): returns (new state, uniform float in [0, 1)). Integer-only, seeded."""
    state = (state + np.uint64(0x9E3779B97F4A7C15)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    z = state
    z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    z = z ^ (z >> np.uint64(31))
    return state, (z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@numba.njit(cache=True)
def _wafers(n_wafers, radius, die_w, die_h, d0, alpha, seed, counts):  # pragma: no cover - compiled
    """Drop defects on each wafer as a Poisson process of density d0 per mm² (with alpha > 0 the wafer's density
    is first drawn Gamma(alpha, d0/alpha)): points arrive along the enclosing square with exponential gaps, and
    those outside the disk are dropped (thinning keeps it Poisson on the disk). counts[w, s] = defects in die site
    s (row-major grid centred on the wafer). Uniforms from a seeded SplitMix64."""
    np.random.seed(seed)                       # only for the per-wafer Gamma draw
    state = np.uint64(seed) * np.uint64(0x2545F4914F6CDD1D) + np.uint64(1)
    nx = counts.shape[1]
    cols = int(math.floor(2 * radius / die_w)) + 2
    rows = int(math.floor(2 * radius / die_h)) + 2
    x0 = -cols * die_w / 2
    y0 = -rows * die_h / 2
    square = 4.0 * radius * radius
    r2 = radius * radius
    for w in range(n_wafers):
        dens = d0
        if alpha > 0:
            dens = _gamma_draw(alpha, d0 / alpha)     # numba's np.random.gamma, also under NUMBA_DISABLE_JIT
        lam = dens * square                    # expected defects on the square
        t = 0.0
        while True:
            state, u = _splitmix(state)
            t -= math.log(1.0 - u)             # unit-rate exponential gap: Poisson(lam) points before t > lam
            if t > lam:
                break
            state, u = _splitmix(state)
            state, v = _splitmix(state)
            x = radius * (2.0 * u - 1.0)
            y = radius * (2.0 * v - 1.0)
            if x * x + y * y > r2:
                continue
            c = int(math.floor((x - x0) / die_w))
            rr = int(math.floor((y - y0) / die_h))
            if 0 <= c < cols and 0 <= rr < rows:
                s = rr * cols + c
                if s < nx:
                    counts[w, s] += 1
    return cols


@dataclass(frozen=True)
class WaferMaps:
    """Defect counts per die site for ``n`` simulated wafers; ``usable`` marks the sites fully on the wafer."""
    counts: np.ndarray        #: (wafers, sites) defects per die site
    usable: np.ndarray        #: (sites,) bool
    cols: int
    rows: int
    die_w_mm: float
    die_h_mm: float
    radius_mm: float

    @property
    def good(self) -> np.ndarray:
        """(wafers, usable sites) True where a usable die has no defect."""
        return self.counts[:, self.usable] == 0

    @property
    def yield_fraction(self) -> float:
        return float(self.good.mean())

    @property
    def dies_per_wafer(self) -> int:
        return int(self.usable.sum())


def simulate_wafers(die_area_mm2: float = 725.0, defect_density_per_mm2=None, *, n_wafers: int = 200,
                    aspect: float = 1.0, alpha: float | None = None, edge_exclusion_mm: float = 3.0,
                    seed: int = 0) -> WaferMaps:
    """Monte Carlo: random defects on ``n_wafers`` 300 mm wafers cut into a grid of dies (``aspect`` = w/h).

    ``alpha=None``: defects uniform and independent (→ Poisson yield); ``alpha`` > 0: each wafer's density is
    Gamma(α, D/α) (clustering → negative-binomial yield). Edge exclusion [A] 3 mm. Seeded."""
    A = check_number("die_area_mm2", die_area_mm2, lo=1.0, hi=20_000.0)
    D = check_number("defect_density_per_mm2",
                     _default("defect_density_per_mm2") if defect_density_per_mm2 is None else defect_density_per_mm2,
                     lo=0.0, hi=1.0)
    n = check_int("n_wafers", n_wafers, lo=1, hi=100_000)
    asp = check_number("aspect", aspect, lo=0.1, hi=10.0)
    a = 0.0 if alpha is None else _alpha(alpha)
    edge = check_number("edge_exclusion_mm", edge_exclusion_mm, lo=0.0, hi=50.0)
    seed = check_int("seed", seed, lo=0, hi=2**31 - 1)
    radius = _default("wafer_diameter_mm") / 2
    w = math.sqrt(A * asp)
    h = A / w
    cols = int(math.floor(2 * radius / w)) + 2
    rows = int(math.floor(2 * radius / h)) + 2
    if n * cols * rows > 20_000_000:
        raise LabsimError(f"n_wafers × die sites = {n * cols * rows:,} is out of range; allowed ≤ 20,000,000")
    defects = n * D * 4.0 * radius * radius
    if defects > MAX_DEFECTS:
        raise LabsimError(f"n_wafers × defect_density_per_mm2 × {4 * radius * radius:,.0f} mm² = {defects:,.0f} "
                          f"expected defects; allowed ≤ {MAX_DEFECTS:,} — fewer wafers or a lower density")
    counts = np.zeros((n, cols * rows), np.int32)
    _wafers(n, radius, w, h, D, a, seed, counts)
    x0, y0 = -cols * w / 2, -rows * h / 2
    r_ok = radius - edge
    cc, rr = np.meshgrid(np.arange(cols), np.arange(rows))           # site s = rr * cols + cc (row-major)
    xs = (x0 + cc * w, x0 + (cc + 1) * w)
    ys = (y0 + rr * h, y0 + (rr + 1) * h)
    usable = np.ones((rows, cols), bool)
    for x in xs:                                                       # all four corners inside the usable disk
        for y in ys:
            usable &= x * x + y * y <= r_ok * r_ok
    usable = usable.ravel()
    if not usable.any():
        raise LabsimError(f"no whole die of die_area_mm2 = {A:g} (aspect {asp:g}) fits inside the usable wafer "
                          f"(radius {radius:g} mm − edge_exclusion_mm = {edge:g}); lower the area or the edge "
                          "exclusion")
    return WaferMaps(counts=counts, usable=usable, cols=cols, rows=rows, die_w_mm=w, die_h_mm=h, radius_mm=radius)


# ----------------------------------------------------------------------------------------------------------
# the next LPU: the catalog LPU with k × the SRAM, through chapters 3 and 4
# ----------------------------------------------------------------------------------------------------------

def _chip_dict(c: catalog.Chip) -> dict:
    d = {"name": c.name, "display_name": c.display_name, "vendor": c.vendor, "memory_kind": c.memory_kind,
         "packaging": c.packaging, "memory_bytes": c.memory_bytes,
         "memory_bandwidth_bytes_per_s": c.memory_bandwidth_bytes_per_s, "peak_ops_per_s": dict(c.peak_ops_per_s),
         "extra": {k: v for k, v in c.extra.items()}}
    for f in ("clock_hz", "power_w", "price_usd", "chips_per_node", "chips_per_rack", "sync_domain_chips",
              "link_bandwidth_bytes_per_s", "link_latency_s", "dies_per_package"):
        v = getattr(c, f)
        if v is not None:
            d[f] = v
    return d


def next_lpu_chip(k: float = 3.0, *, base: str = "groq-lpu-v1", price_usd: float | None = None,
                  bandwidth_scale: float = 1.0, name: str | None = None) -> catalog.Chip:
    """The ``base`` chip with ``k`` × its SRAM (and ``bandwidth_scale`` × its SRAM bandwidth), everything else
    unchanged [A] — a user chip from ``catalog.load_chip``, not registered. ``price_usd`` defaults to the base
    price (pass :func:`next_lpu_whatif`'s silicon-based price to change it)."""
    k = check_number("k", k, lo=0.1, hi=1000.0)
    bs = check_number("bandwidth_scale", bandwidth_scale, lo=0.01, hi=1000.0)
    c = catalog.chip(check_choice("base", base, catalog.chips(), what="chip"))
    if name is not None:
        check_name("name", name)
    d = _chip_dict(c)
    d["name"] = name or f"{base}-sram-x{k:g}"
    d["display_name"] = f"{c.display_name} with {k:g}× SRAM"
    d["memory_bytes"] = c.memory_bytes * k
    d["memory_bandwidth_bytes_per_s"] = c.memory_bandwidth_bytes_per_s * bs
    if price_usd is not None:
        d["price_usd"] = check_number("price_usd", price_usd, lo=0.0, lo_open=True, hi=MAX_USD, unit="USD")
    return catalog.load_chip(d)


def next_lpu_whatif(ks=(1.0, 2.0, 3.0, 4.0, 8.0), *, model: str = "llama-3.3-70b", node_name: str = "5nm",
                    base: str = "groq-lpu-v1", base_node: str = "14nm", die_area_mm2: float = 725.0,
                    precision: str = "int8", context_tokens: int = 4096, batch: int = 3, microbatches: int = 16,
                    defect_density_per_mm2=None, price_mode: str = "die_cost_delta",
                    bandwidth_scales: bool = False) -> list[dict]:
    """For each SRAM multiple k: chips to hold ``model`` (``capacity.plan`` with ``batch × microbatches``
    sequences resident), speed (``capacity.decode_time``) and cost per million tokens (``tco.inputs_from_plan`` →
    ``tco.evaluate``), at Fig 11's serving shape by default (batch 3 × 16 pipeline micro-batches).

    Price per chip [A]: ``"die_cost_delta"`` = the base chip's catalog price + (good-die cost of a ``die_area_mm2``
    die at ``node_name`` − the same at ``base_node``), i.e. everything but the silicon costs what it did;
    ``"same"`` = the base price unchanged. Power per chip: the base chip's (system share if the catalog has one),
    unchanged [A]. ``k_fits`` says whether k × the base SRAM fits the die at the new node
    with the base chip's SRAM area share (:func:`sram_area_mm2`). ``bandwidth_scales=True``: the SRAM
    bandwidth and the MXM weight-feed rate grow with k too (k × the banks and feed streams [A]); False keeps the
    base chip's rates, so each chip holds more weights but reads them no faster."""
    ks = np.atleast_1d(check_array("ks", ks, lo=0.1, hi=1000.0))
    if ks.ndim != 1 or ks.size == 0 or ks.size > MAX_KS:
        raise LabsimError(f"ks must hold 1 … {MAX_KS} SRAM multiples in a 1-D list, got shape {ks.shape}")
    bandwidth_scales = check_bool("bandwidth_scales", bandwidth_scales)
    price_mode = check_choice("price_mode", price_mode, ("die_cost_delta", "same"), what="price mode")
    check_choice("model", model, catalog.models(), what="model")
    _node("node_name", node_name)
    _node("base_node", base_node)
    check_choice("base", base, catalog.chips(), what="chip")
    check_choice("precision", precision, PRECISIONS, what="precision")
    die_area_mm2 = check_number("die_area_mm2", die_area_mm2, lo=1.0, hi=MAX_AREA_MM2)
    context_tokens = check_int("context_tokens", context_tokens, lo=0, hi=MAX_TOKENS)
    batch = check_int("batch", batch, lo=1, hi=MAX_BATCH)
    microbatches = check_int("microbatches", microbatches, lo=1, hi=MAX_BATCH)
    if batch * microbatches > MAX_BATCH:
        raise LabsimError(f"batch × microbatches = {batch * microbatches:,} sequences resident; allowed ≤ "
                          f"{MAX_BATCH:,}")
    if defect_density_per_mm2 is not None:
        check_number("defect_density_per_mm2", defect_density_per_mm2, lo=0.0, hi=10.0)
    bc = catalog.chip(base)
    if bc.price_usd is None:
        raise LabsimError(f"base chip {base!r} has no catalog price; the what-if needs one")
    delta = 0.0
    if price_mode == "die_cost_delta":
        delta = (good_die_cost_usd(node_name, die_area_mm2, defect_density_per_mm2)
                 - good_die_cost_usd(base_node, die_area_mm2, defect_density_per_mm2))
    share = sram_area_mm2(bc.memory_bytes, base_node) / die_area_mm2
    # power per chip: the base chip's system share where the catalog has one (LPU v1: Fig 11's 400 W), else its
    # chip power — the same for every k [A]
    watts = getattr(bc, "system_power_per_chip_w", None) or bc.power_w
    if watts is None:
        raise LabsimError(f"base chip {base!r} has no catalog power; the what-if needs one")
    rows = []
    for k in ks:
        chip = next_lpu_chip(float(k), base=base, price_usd=bc.price_usd + delta,
                             bandwidth_scale=float(k) if bandwidth_scales else 1.0)
        p = capacity.plan(model, chip, precision, context_tokens=context_tokens, batch=batch * microbatches)
        feed = {}
        if bandwidth_scales and "macs_per_cycle_int8" in chip.extra:
            # the LPU's binding on-chip rate is the MXM weight feed (capacity's mxm_feed_bytes_per_cycle); it scales too
            feed = {"mxm_feed_bytes_per_cycle": capacity.ASSUMPTIONS["mxm_feed_bytes_per_cycle"].value * float(k)}
        d = capacity.decode_time(model, chip, chips=p.chips, precision=precision, batch=batch,
                                 context_tokens=context_tokens, microbatches=microbatches, **feed)
        inp = tco.inputs_from_plan(p, tokens_per_s_per_user=d.tokens_per_s, batch=batch,
                                   pipeline_depth=microbatches, system_power_kw=p.chips * watts / 1e3)
        r = tco.evaluate(inp)
        need = sram_area_mm2(chip.memory_bytes, node_name)
        rows.append({"k": float(k), "sram_mb": chip.memory_bytes / 1e6, "chips": p.chips, "racks": p.racks,
                     "domains": p.domains, "crosses_cliff": p.crosses_cliff, "price_usd_per_chip": chip.price_usd,
                     "capex_usd": p.capex_usd, "tokens_per_s_per_user": d.tokens_per_s,
                     "dominant_bound": d.dominant_bound, "usd_per_mtok": float(r.usd_per_mtok),
                     "sram_area_mm2": need, "sram_fraction_of_die": need / die_area_mm2,
                     "k_fits": bool(need <= share * die_area_mm2 * (1 + 1e-9))})
    return rows


def _warmup() -> None:
    """Compile (or load from the cache) the wafer-map and binomial kernels on tiny runs."""
    wafer_scale_yield(10, 8, 1.0, 0.001)
    simulate_wafers(2000.0, 0.001, n_wafers=2, seed=0)
    simulate_wafers(2000.0, 0.001, n_wafers=2, alpha=2.0, seed=0)
