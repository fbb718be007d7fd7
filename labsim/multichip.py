"""RealScale: compiler-scheduled chip-to-chip hops, pipelines over many chips, and where determinism ends.

Model (one paragraph). Inside one *software-scheduled network* every chip-to-chip transfer is placed in a known
cycle by the compiler ([isca22]: no switches, no back-pressure, plesiochronous links re-aligned by HAC/DESKEW),
so its latency is a constant: ``hops × hop_latency``. The physical link jitter (σ ≈ 2.7 cycles on ~216, [isca22])
is absorbed by a guard band in the schedule and never reaches the program (:func:`determinism_budget` computes
it). ISCA 2022 describes one such network of up to **10,440** TSPs (≤ 5 hops); the source report says determinism
stops at **576** chips — its own view. Past the network, traffic falls back to Ethernet; each crossing then adds
a *random* one-way latency (lognormal body + rare congestion tail, an explicit [A] preset), so the end-to-end
latency of a pipeline spanning k networks becomes a distribution: the **determinism cliff**. Pass
``sync_domain_chips=576`` (``realscale_params``) to see the report's version.

Sources: ``labsim/data/multichip/realscale.toml`` (every number with its citation: [isca22], [hc34], [linley20],
[huatai26] Fig 6, Q2–Q3). Design notes: ``docs/design/multichip.md``.

Public API (chapter 3 depends on these names):
``hop_latency_s``, ``network_diameter_hops``, ``domains_needed``, ``crosses_cliff``, ``pipeline_hops``,
``pipeline_latency_s``, ``pipeline_latency_samples``, ``pipeline_latency_percentiles``, ``cliff_curve``,
``transfer_time_s``, ``allreduce_time_s``, ``tp_allreduce_time_per_layer_s``, ``RealScaleParams``,
``realscale_params``, ``EthernetJitter``, ``ETHERNET_PRESETS``, ``ethernet_preset``.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numba
import numpy as np

from . import limits as _L
from .errors import (
    LabsimError,
    check_array,
    check_choice,
    check_fraction,
    check_int,
    check_number,
    check_text,
)
from .stats import percentiles

__all__ = [
    "RealScaleParams", "realscale_params", "EthernetJitter", "ETHERNET_PRESETS", "ethernet_preset",
    "HOP_SOURCES", "hop_latency_s", "network_diameter_hops", "domains_needed", "crosses_cliff", "pipeline_hops",
    "pipeline_latency_s", "pipeline_latency_samples", "pipeline_latency_percentiles", "cliff_curve",
    "transfer_time_s", "allreduce_time_s", "allreduce_time_vec", "collective_hops", "determinism_budget",
    "tp_allreduce_time_per_layer_s", "percentiles", "ISCA22_MAX_CHIPS",
    "MAX_PIPELINE_CHIPS",
]

_DATA = Path(__file__).resolve().parent / "data" / "multichip" / "realscale.toml"

#: Upper bound on chips in a pipeline for the pipeline functions (about 1,700 domains of 576): far beyond any
#: published system, and small enough that counting boundaries and sampling stay fast (no runaway calls).
MAX_PIPELINE_CHIPS = 1_000_000

#: Where a per-hop latency comes from: ``"fig6"`` = the report's 0.6 µs per hop (Fig 6), consistent with
#: [isca22]'s < 3 µs over ≤ 5 hops (≤ 0.6 µs per hop); ``"link"`` = the course's own lower bound from the
#: ~216-cycle link latency + serialization ≈ 260 cycles ≈ 0.29 µs (no endpoint work) [D]/[A].
HOP_SOURCES = ("fig6", "link")


def _load() -> dict:
    with open(_DATA, "rb") as fh:
        return tomllib.load(fh)


_RAW = _load()

#: Largest published system ([isca22] abstract: up to 10,440 TSPs) — realscale.toml's ``sync_domain_chips``.
ISCA22_MAX_CHIPS = int(_RAW["topology"]["sync_domain_chips"])


@dataclass(frozen=True)
class RealScaleParams:
    """Topology, hop and link parameters (defaults from ``data/multichip/realscale.toml``, all sourced there)."""
    chips_per_node: int = int(_RAW["topology"]["chips_per_node"])
    chips_per_rack: int = int(_RAW["topology"]["chips_per_rack"])
    sync_domain_chips: int = int(_RAW["topology"]["sync_domain_chips"])
    report_sync_domain_chips: int = int(_RAW["topology"]["report_sync_domain_chips"])
    hac_period_cycles: int = int(_RAW["topology"]["hac_period_cycles"])
    max_hops: int = int(_RAW["topology"]["max_hops"])
    hop_latency_fig6_s: float = float(_RAW["hops"]["hop_latency_fig6_s"])
    link_latency_cycles: float = float(_RAW["hops"]["link_latency_cycles"])
    link_latency_sigma_cycles: float = float(_RAW["hops"]["link_latency_sigma_cycles"])
    hop_total_cycles: float = float(_RAW["hops"]["hop_total_cycles"])
    clock_hz: float = float(_RAW["hops"]["clock_hz"])
    inter_node_hops: int = int(_RAW["hops"]["inter_node_hops"])          # [D]/[A]
    inter_rack_hops: int = int(_RAW["hops"]["inter_rack_hops"])          # [A]
    local_link_bandwidth_bytes_per_s: float = float(_RAW["links"]["local_link_bandwidth_bytes_per_s"])
    global_link_bandwidth_bytes_per_s: float = float(_RAW["links"]["global_link_bandwidth_bytes_per_s"])
    local_links_per_chip: int = int(_RAW["links"]["local_links_per_chip"])
    packet_payload_bytes: int = int(_RAW["links"]["packet_payload_bytes"])
    packet_overhead_frac: float = float(_RAW["links"]["packet_overhead_frac"])

    def __post_init__(self):
        # every bound is far beyond a real system (labsim/limits.py), so no derived time can overflow
        node = check_int("chips_per_node", self.chips_per_node, lo=1, hi=_L.MAX_CHIPS)
        rack = check_int("chips_per_rack", self.chips_per_rack, lo=1, hi=_L.MAX_CHIPS)
        if rack < node:
            raise LabsimError(f"chips_per_rack = {rack} is smaller than chips_per_node = {node}; allowed: "
                              "chips_per_rack ≥ chips_per_node")
        check_int("sync_domain_chips", self.sync_domain_chips, lo=1, hi=_L.MAX_CHIPS)
        check_int("report_sync_domain_chips", self.report_sync_domain_chips, lo=1, hi=_L.MAX_CHIPS)
        check_int("hac_period_cycles", self.hac_period_cycles, lo=1, hi=10**9)
        check_int("max_hops", self.max_hops, lo=1, hi=64)
        check_number("hop_latency_fig6_s", self.hop_latency_fig6_s, lo=0.0, lo_open=True, hi=1.0, unit="s")
        check_number("link_latency_cycles", self.link_latency_cycles, lo=0.0, lo_open=True, hi=1e9)
        check_number("link_latency_sigma_cycles", self.link_latency_sigma_cycles, lo=0.0, hi=1e9)
        check_number("hop_total_cycles", self.hop_total_cycles, lo=0.0, lo_open=True, hi=1e9)
        check_number("clock_hz", self.clock_hz, lo=1.0, hi=_L.MAX_CLOCK_HZ, unit="Hz")
        check_int("inter_node_hops", self.inter_node_hops, lo=1, hi=16)
        check_int("inter_rack_hops", self.inter_rack_hops, lo=1, hi=16)
        check_number("local_link_bandwidth_bytes_per_s", self.local_link_bandwidth_bytes_per_s, lo=1.0,
                     hi=_L.MAX_BYTES_PER_S, unit="B/s")
        check_number("global_link_bandwidth_bytes_per_s", self.global_link_bandwidth_bytes_per_s, lo=1.0,
                     hi=_L.MAX_BYTES_PER_S, unit="B/s")
        check_int("local_links_per_chip", self.local_links_per_chip, lo=1, hi=1_000_000)
        check_int("packet_payload_bytes", self.packet_payload_bytes, lo=1, hi=2**40)
        check_number("packet_overhead_frac", self.packet_overhead_frac, lo=0.0, hi=1.0)

    @property
    def sources(self) -> dict[str, str]:
        """field group -> source text, straight from the data file."""
        out = {}
        for section in ("topology", "hops", "links"):
            for k, v in _RAW[section].items():
                if k.endswith("_source"):
                    out[k[: -len("_source")]] = v
        return out


def realscale_params(**overrides) -> RealScaleParams:
    """Default :class:`RealScaleParams` with keyword overrides (e.g. ``sync_domain_chips=1024``)."""
    names = {f.name for f in fields(RealScaleParams)}
    for k in overrides:
        check_choice("parameter", k, names, what="RealScale parameter")
    return replace(RealScaleParams(), **overrides)


_DEFAULT = RealScaleParams()


@dataclass(frozen=True)
class EthernetJitter:
    """One-way latency of one message over the Ethernet fabric between synchronous domains [A].

    latency = ``base_s`` × lognormal(0, ``sigma``) + Bernoulli(``congestion_prob``) × Exp(mean ``congestion_mean_s``).
    The median of the body is ``base_s``. No tail is clipped.
    """
    base_s: float
    sigma: float
    congestion_prob: float
    congestion_mean_s: float
    source: str = "[A]"

    def __post_init__(self):
        check_number("base_s", self.base_s, lo=0.0, lo_open=True, hi=1.0, unit="s")
        check_number("sigma", self.sigma, lo=0.0, hi=3.0)
        check_fraction("congestion_prob", self.congestion_prob)
        check_number("congestion_mean_s", self.congestion_mean_s, lo=0.0, hi=10.0, unit="s")
        check_text("source", self.source)


#: Named Ethernet presets (both are assumptions; see the data file for the reasoning).
ETHERNET_PRESETS: dict[str, EthernetJitter] = {
    name: EthernetJitter(**spec) for name, spec in _RAW["ethernet"].items()
}


def ethernet_preset(ethernet) -> EthernetJitter:
    """Resolve a preset name (``"rdma"``, ``"tcp"``) or pass an :class:`EthernetJitter` through."""
    if isinstance(ethernet, EthernetJitter):
        return ethernet
    return ETHERNET_PRESETS[check_choice("ethernet", ethernet, ETHERNET_PRESETS, what="Ethernet preset")]


def _params(params) -> RealScaleParams:
    if params is None:
        return _DEFAULT
    if not isinstance(params, RealScaleParams):
        raise LabsimError(f"params must be a RealScaleParams (see realscale_params()), got {type(params).__name__}")
    return params


def _one_hop_s(source: str, p: RealScaleParams, param: str = "hop_source") -> float:
    source = check_choice(param, source, HOP_SOURCES, what="hop-latency source")
    if source == "fig6":
        return p.hop_latency_fig6_s
    return p.hop_total_cycles / p.clock_hz


def hop_latency_s(hops, *, source: str = "fig6", params: RealScaleParams | None = None):
    """Latency of a compiler-scheduled transfer over ``hops`` C2C hops inside one synchronous domain.

    ``source="fig6"``: 0.6 µs per hop (report Fig 6, 1–3 hops; ISCA 2022's < 3 µs over ≤ 5 hops allows ≤ 0.6 µs);
    ``source="link"``: 260 cycles per hop at 900 MHz ≈ 0.29 µs, the course's own lower bound from ISCA 2022's
    ~216-cycle link latency plus serialization [D]/[A]. Deterministic (a constant).
    Accepts a number or an array; returns the same shape (float for a scalar).
    """
    p = _params(params)
    h = check_array("hops", hops, lo=0.0, hi=1e6)
    frac = (h != np.floor(h)).ravel()
    if frac.any():
        raise LabsimError(f"hops must hold whole hop counts, got {float(h.ravel()[np.argmax(frac)]):g}")
    out = h * _one_hop_s(source, p, "source")
    return float(out) if out.ndim == 0 else out


def network_diameter_hops(n_chips: int) -> int:
    """Worst-case hops between two chips of an ``n_chips`` RealScale system.

    0 for 1 chip; 1 within a node (≤ 8, full mesh); 2 for ≤ 16; 3 for ≤ 264 (report Fig 6 / ISCA 2022
    Dragonfly local–global–local); 5 up to 10,440 ([isca22] [S]; [huatai26] Fig 6).
    """
    n = check_int("n_chips", n_chips, lo=1, hi=ISCA22_MAX_CHIPS)
    if n == 1:
        return 0
    if n <= 8:
        return 1
    if n <= 16:
        return 2
    if n <= 264:
        return 3
    return 5


def domains_needed(n_chips: int, *, sync_domain_chips: int | None = None) -> int:
    """Scheduled networks needed for ``n_chips`` = ceil(n_chips / sync_domain_chips) (10,440 by default, ISCA
    2022; 576 in the report's view)."""
    n = check_int("n_chips", n_chips, lo=1, hi=_L.MAX_CHIPS)
    d = _DEFAULT.sync_domain_chips if sync_domain_chips is None else check_int("sync_domain_chips", sync_domain_chips,
                                                                                 lo=1, hi=_L.MAX_CHIPS)
    return -(-n // d)


def crosses_cliff(n_chips: int, *, sync_domain_chips: int | None = None) -> bool:
    """True when ``n_chips`` does not fit one synchronous domain, i.e. Ethernet (and its jitter) is involved."""
    return domains_needed(n_chips, sync_domain_chips=sync_domain_chips) > 1


def pipeline_hops(n_chips: int, *, params: RealScaleParams | None = None) -> dict[str, int]:
    """Count the links a token crosses in a pipeline of ``n_chips`` stages placed in order (node-major).

    Stage i runs on chip i. A boundary inside a node costs 1 hop; between nodes ``inter_node_hops`` (2, [D] Fig 6);
    between racks ``inter_rack_hops`` (3, [A]); between synchronous domains one Ethernet crossing.
    Returns ``{"boundaries", "intra_node", "inter_node", "inter_rack", "c2c_hops", "ethernet_crossings", "domains"}``.
    """
    p = _params(params)
    n = check_int("n_chips", n_chips, lo=1, hi=MAX_PIPELINE_CHIPS)
    j = np.arange(1, n, dtype=np.int64)          # boundary j sits between chip j-1 and chip j
    local = j % p.sync_domain_chips
    eth = local == 0
    rack = ~eth & (local % p.chips_per_rack == 0)
    node = ~eth & ~rack & ((local % p.chips_per_rack) % p.chips_per_node == 0)
    intra = ~eth & ~rack & ~node
    c2c = int(intra.sum()) + p.inter_node_hops * int(node.sum()) + p.inter_rack_hops * int(rack.sum())
    return {"boundaries": n - 1, "intra_node": int(intra.sum()), "inter_node": int(node.sum()),
            "inter_rack": int(rack.sum()), "c2c_hops": c2c, "ethernet_crossings": int(eth.sum()),
            "domains": domains_needed(n, sync_domain_chips=p.sync_domain_chips)}


def _fixed_part_s(n_chips, per_stage_s, hop_source, p) -> tuple[float, int]:
    h = pipeline_hops(n_chips, params=p)
    fixed = n_chips * per_stage_s + h["c2c_hops"] * _one_hop_s(hop_source, p)
    return fixed, h["ethernet_crossings"]


def pipeline_latency_s(n_chips: int, per_stage_s: float, *, hop_source: str = "fig6", ethernet="rdma",
                       params: RealScaleParams | None = None) -> float:
    """End-to-end latency of one token through an ``n_chips``-stage pipeline (s).

    = n_chips × per_stage_s + (C2C hops along the pipeline) × hop latency + (Ethernet crossings) × ``base_s``.
    Inside one domain this is exact and deterministic. Across domains the Ethernet part is random; this
    function then adds each crossing at its *median* body (``base_s``); use :func:`pipeline_latency_samples`
    or :func:`pipeline_latency_percentiles` for the distribution.
    """
    p = _params(params)
    check_int("n_chips", n_chips, lo=1, hi=MAX_PIPELINE_CHIPS)
    per = check_number("per_stage_s", per_stage_s, lo=0.0, hi=_L.MAX_LATENCY_S, unit="s")
    eth = ethernet_preset(ethernet)
    fixed, k = _fixed_part_s(n_chips, per, hop_source, p)
    return fixed + k * eth.base_s


@numba.njit(cache=True)
def _pipeline_samples(n, fixed_s, k, base_s, sigma, p_cong, cong_mean_s, seed):
    np.random.seed(seed)
    out = np.empty(n)
    for i in range(n):
        t = fixed_s
        for _ in range(k):
            t += base_s * math.exp(sigma * np.random.standard_normal())
            if p_cong > 0.0 and np.random.random() < p_cong:
                t += np.random.exponential(cong_mean_s)
        out[i] = t
    return out


def pipeline_latency_samples(n_chips: int, per_stage_s: float, *, n: int = 10_000, seed: int = 0,
                             hop_source: str = "fig6", ethernet="rdma",
                             params: RealScaleParams | None = None) -> np.ndarray:
    """``n`` seeded samples (s) of the end-to-end latency of an ``n_chips``-stage pipeline.

    Inside one domain every sample is identical (P99 = P50). Each domain crossing adds an independent
    Ethernet latency drawn from the preset (an [A] distribution). Same seed → same samples.
    """
    p = _params(params)
    check_int("n_chips", n_chips, lo=1, hi=MAX_PIPELINE_CHIPS)
    per = check_number("per_stage_s", per_stage_s, lo=0.0, hi=_L.MAX_LATENCY_S, unit="s")
    n = check_int("n", n, lo=1, hi=50_000_000)
    seed = check_int("seed", seed, lo=0, hi=2**32 - 1)
    eth = ethernet_preset(ethernet)
    fixed, k = _fixed_part_s(n_chips, per, hop_source, p)
    return _pipeline_samples(n, fixed, k, eth.base_s, eth.sigma, eth.congestion_prob, eth.congestion_mean_s, seed)




def pipeline_latency_percentiles(n_chips: int, per_stage_s: float, *, n: int = 10_000, seed: int = 0,
                                 hop_source: str = "fig6", ethernet="rdma",
                                 params: RealScaleParams | None = None) -> dict[str, float]:
    """:func:`percentiles` of :func:`pipeline_latency_samples` (seconds), plus ``domains``."""
    s = pipeline_latency_samples(n_chips, per_stage_s, n=n, seed=seed, hop_source=hop_source,
                                 ethernet=ethernet, params=params)
    out = percentiles(s)
    out["domains"] = domains_needed(n_chips, sync_domain_chips=_params(params).sync_domain_chips)
    return out


def cliff_curve(n_chips, per_stage_s: float, *, n_samples: int = 20_000, seed: int = 0, hop_source: str = "fig6",
                ethernet="rdma", params: RealScaleParams | None = None) -> dict[str, np.ndarray]:
    """P50, P99 and P99/P50 of pipeline latency for each chip count in ``n_chips`` — the determinism cliff.

    Returns arrays ``n_chips, p50_s, p99_s, p99_over_p50, domains``. Below the domain size P99/P50 = 1 exactly
    and latency grows smoothly (one stage + a few hops per chip); above it the Ethernet jitter appears.
    """
    chips = np.atleast_1d(check_array("n_chips", n_chips, lo=1.0, hi=MAX_PIPELINE_CHIPS))
    if chips.size == 0:
        raise LabsimError("n_chips must hold at least one chip count")
    if np.any(chips != np.rint(chips)):
        bad = float(chips[np.argmax(chips != np.rint(chips))])
        raise LabsimError(f"n_chips must hold whole chip counts, got {bad:g}")
    chips = chips.astype(np.int64)
    p = _params(params)
    n_samples = check_int("n_samples", n_samples, lo=100, hi=10_000_000)
    p50 = np.empty(chips.size)
    p99 = np.empty(chips.size)
    dom = np.empty(chips.size, dtype=np.int64)
    for i, c in enumerate(chips):
        s = pipeline_latency_samples(int(c), per_stage_s, n=n_samples, seed=seed, hop_source=hop_source,
                                     ethernet=ethernet, params=p)
        p50[i], p99[i] = np.percentile(s, [50.0, 99.0])
        dom[i] = domains_needed(int(c), sync_domain_chips=p.sync_domain_chips)
    return {"n_chips": chips, "p50_s": p50, "p99_s": p99, "p99_over_p50": p99 / p50, "domains": dom}


_LINKS = ("local", "global")


def _link_bw(link: str, p: RealScaleParams) -> float:
    link = check_choice("link", link, _LINKS, what="link kind")
    return p.local_link_bandwidth_bytes_per_s if link == "local" else p.global_link_bandwidth_bytes_per_s


def transfer_time_s(n_bytes: float, hops: int = 1, *, link: str = "local", links_in_parallel: int = 1,
                    hop_source: str = "fig6", params: RealScaleParams | None = None) -> float:
    """Time to move ``n_bytes`` over ``hops`` scheduled C2C hops: latency + serialization (α–β model).

    = hops × hop latency + n_bytes × (1 + packet overhead) / (links_in_parallel × link bandwidth).
    Cut-through: the message is serialized once (the compiler pipelines vectors hop to hop) [A].
    """
    p = _params(params)
    nb = check_number("n_bytes", n_bytes, lo=0.0, hi=_L.MAX_BYTES, unit="B")
    h = check_int("hops", hops, lo=0, hi=1_000_000)
    k = check_int("links_in_parallel", links_in_parallel, lo=1, hi=64)
    bw = _link_bw(link, p) * k
    return h * _one_hop_s(hop_source, p) + nb * (1.0 + p.packet_overhead_frac) / bw


_ALGOS = ("auto", "direct", "two_phase", "ring")


def _fast_array(name: str, value, lo: float, hi: float) -> np.ndarray:
    """``check_array`` for the decode model's hot path: one vectorized test when the values are fine (a few µs),
    the full check (and its message) only when they are not."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        a = value.astype(np.float64, copy=False)
        if a.size and np.isfinite(a).all() and a.min() >= lo and a.max() <= hi:
            return a
    return check_array(name, value, lo=lo, hi=hi)


#: Largest system a collective crosses in 3 hops (local–global–local) in [isca22]'s network; beyond it, 5.
THREE_HOP_MAX_CHIPS = 264


def _is_scalar(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


def collective_hops(n_chips, chips_per_node: int = 8):
    """Hops one phase of a collective over ``n_chips`` crosses in ISCA 2022's network: 1 inside a fully connected
    node, 3 up to 264 chips (local–global–local), 5 up to 10,440 ([isca22] §4, abstract). Vectorized."""
    n = _fast_array("n_chips", n_chips, 1.0, float(_L.MAX_CHIPS))
    check_int("chips_per_node", chips_per_node, lo=1, hi=_L.MAX_CHIPS)
    out = np.where(n <= 1, 0.0, np.where(n <= chips_per_node, 1.0, np.where(n <= THREE_HOP_MAX_CHIPS, 3.0, 5.0)))
    return float(out) if out.ndim == 0 else out


def allreduce_time_vec(message_bytes, n_chips, hop_s: float, params: RealScaleParams | None = None):
    """Vectorized latency-optimal all-reduce (``algorithm="auto"`` of :func:`allreduce_time_s`) for arrays of
    message sizes and chip counts, at a given hop latency — what the decode model calls once per layer."""
    p = _params(params)
    if _is_scalar(n_chips) and _is_scalar(message_bytes):   # one serving point: plain floats, no 0-d arrays
        n = check_number("n_chips", n_chips, lo=1.0, hi=float(_L.MAX_CHIPS))
        m = check_number("message_bytes", message_bytes, lo=0.0, hi=_L.MAX_BYTES, unit="B")
        hop_s = check_number("hop_s", hop_s, lo=0.0, hi=1.0, unit="s")
        if n <= 1:
            return 0.0
        local = n <= p.chips_per_node
        hops = 1.0 if local else (3.0 if n <= THREE_HOP_MAX_CHIPS else 5.0)   # = collective_hops, unvectorized
        bw = p.local_link_bandwidth_bytes_per_s if local else p.global_link_bandwidth_bytes_per_s
        return 2.0 * (hops * hop_s + m / n * (1.0 + p.packet_overhead_frac) / bw)
    n = _fast_array("n_chips", n_chips, 1.0, float(_L.MAX_CHIPS))
    m = _fast_array("message_bytes", message_bytes, 0.0, _L.MAX_BYTES)
    hop_s = check_number("hop_s", hop_s, lo=0.0, hi=1.0, unit="s")
    try:
        np.broadcast_shapes(n.shape, m.shape)
    except ValueError:
        raise LabsimError(f"message_bytes {list(m.shape)} and n_chips {list(n.shape)} do not broadcast together") \
            from None
    shard = m / np.maximum(n, 1.0) * (1.0 + p.packet_overhead_frac)
    bw = np.where(n <= p.chips_per_node, p.local_link_bandwidth_bytes_per_s, p.global_link_bandwidth_bytes_per_s)
    out = np.where(n <= 1, 0.0, 2.0 * (collective_hops(n, p.chips_per_node) * hop_s + shard / bw))
    return float(out) if out.ndim == 0 else out


def allreduce_time_s(message_bytes: float, n_chips: int, *, algorithm: str = "auto", hop_source: str = "fig6",
                     params: RealScaleParams | None = None) -> float:
    """Time of one all-reduce of ``message_bytes`` (the full vector each chip holds) over ``n_chips`` chips.

    α–β model, compiler-scheduled (no congestion, deterministic):
    - ``"direct"`` (full mesh, n ≤ chips_per_node): reduce-scatter then all-gather, each one step in which every
      chip sends a 1/n shard to each of the n−1 peers over its own link: 2 × (hop + (M/n)(1+ovh)/B_local).
    - ``"two_phase"``: the same two steps across the whole network, each crossing :func:`collective_hops` hops
      (3 up to 264 chips, 5 beyond, [isca22]) at global-link bandwidth — latency-optimal for the small vectors
      of decode.
    - ``"ring"``: 2(n−1) steps of (hop × h + (M/n)(1+ovh)/B), h = hops per ring step (1 in a node, else
      ``inter_node_hops`` with global-link bandwidth) — the textbook ring (Patarasuk & Yuan 2009), bandwidth-
      optimal for large messages.
    - ``"auto"``: direct within one node, two-phase beyond. n = 1 → 0.
    """
    p = _params(params)
    m = check_number("message_bytes", message_bytes, lo=0.0, hi=_L.MAX_BYTES, unit="B")
    n = check_int("n_chips", n_chips, lo=1, hi=p.sync_domain_chips)
    algorithm = check_choice("algorithm", algorithm, _ALGOS, what="all-reduce algorithm")
    if n == 1:
        return 0.0
    hop = _one_hop_s(hop_source, p)
    shard = m / n * (1.0 + p.packet_overhead_frac)
    if algorithm == "auto":
        return allreduce_time_vec(m, n, hop, p)
    if algorithm == "direct":
        if n > p.local_links_per_chip + 1:
            raise LabsimError(f"algorithm='direct' needs a full mesh: n_chips = {n} > local_links_per_chip + 1 = "
                              f"{p.local_links_per_chip + 1}; use algorithm='two_phase', 'ring' or 'auto'")
        return 2.0 * (hop + shard / p.local_link_bandwidth_bytes_per_s)
    if algorithm == "two_phase":
        bw = p.local_link_bandwidth_bytes_per_s if n <= p.chips_per_node else p.global_link_bandwidth_bytes_per_s
        return 2.0 * (collective_hops(n, p.chips_per_node) * hop + shard / bw)
    if n <= p.chips_per_node:
        step = hop + shard / p.local_link_bandwidth_bytes_per_s
    else:
        step = p.inter_node_hops * hop + shard / p.global_link_bandwidth_bytes_per_s
    return 2.0 * (n - 1) * step


def determinism_budget(n_chips: int, *, jitter_sigmas: float = 6.0, params: RealScaleParams | None = None) -> dict:
    """Where does determinism end? The timing and wiring limits of one software-scheduled network.

    Timing: a transfer over h hops arrives within ± h × ``jitter_sigmas`` × σ_link cycles of its nominal cycle
    (σ ≈ 2.75 cycles, [isca22] HAC measurement), so the compiler adds that guard band; it stays deterministic as
    long as the guard fits inside one HAC alignment period (256 cycles — DESKEW re-aligns every period).
    Wiring: ISCA 2022's network reaches at most 10,440 chips with ≤ 5 hops (4 global ports per chip); beyond it,
    there are no more scheduled links and traffic goes over Ethernet.

    Returns ``hops`` (network diameter for n_chips), ``guard_cycles``, ``guard_s``, ``max_hops_timing``
    (hops before the guard exceeds one period), ``timing_ok``, ``wiring_ok``, ``deterministic`` and
    ``limit_chips`` (the largest system both allow) and ``report_claim_chips`` (576, for comparison).
    """
    p = _params(params)
    n = check_int("n_chips", n_chips, lo=1, hi=MAX_PIPELINE_CHIPS)
    z = check_number("jitter_sigmas", jitter_sigmas, lo=0.1, hi=100.0)
    per_hop = z * p.link_latency_sigma_cycles
    hops = 0 if n == 1 else (1 if n <= p.chips_per_node else (3 if n <= 264 else p.max_hops))
    guard = hops * per_hop
    # no link jitter at all: timing never limits (capped at a count no network reaches, so the value stays finite)
    max_hops_timing = 10**9 if per_hop < 1e-9 else min(10**9, math.floor(p.hac_period_cycles / per_hop))
    wiring_ok = n <= ISCA22_MAX_CHIPS
    timing_ok = guard <= p.hac_period_cycles
    return {"n_chips": n, "hops": hops, "guard_cycles": guard, "guard_s": guard / p.clock_hz,
            "max_hops_timing": max_hops_timing, "timing_ok": timing_ok, "wiring_ok": wiring_ok,
            "deterministic": timing_ok and wiring_ok,
            "limit_chips": ISCA22_MAX_CHIPS if max_hops_timing >= p.max_hops else 264,
            "report_claim_chips": p.report_sync_domain_chips}


def tp_allreduce_time_per_layer_s(hidden_size: int, tp_chips: int, *, batch: int = 1,
                                  bytes_per_element: float = 2.0, allreduces_per_layer: int = 2,
                                  algorithm: str = "auto", hop_source: str = "fig6",
                                  params: RealScaleParams | None = None) -> float:
    """All-reduce time per decoder layer for tensor parallelism over C2C (one decode step, ``batch`` tokens).

    Megatron-style TP needs 2 all-reduces per layer (after attention and after the MLP), each of
    batch × hidden_size × bytes_per_element bytes (Shoeybi et al. 2019). bytes_per_element: 2 for bf16/fp16.
    """
    h = check_int("hidden_size", hidden_size, lo=1, hi=_L.MAX_MODEL_DIM)
    b = check_int("batch", batch, lo=1, hi=_L.MAX_BATCH)
    bpe = check_number("bytes_per_element", bytes_per_element, lo=0.0, lo_open=True, hi=64.0, unit="B")
    k = check_int("allreduces_per_layer", allreduces_per_layer, lo=0, hi=1000)
    check_int("tp_chips", tp_chips, lo=1, hi=_params(params).sync_domain_chips)
    if b * h * bpe > _L.MAX_BYTES:
        raise LabsimError(f"batch × hidden_size × bytes_per_element = {b * h * bpe:g} B per all-reduce is out of "
                          f"range; allowed: at most {_L.MAX_BYTES:g} B")
    return k * allreduce_time_s(b * h * bpe, tp_chips, algorithm=algorithm, hop_source=hop_source, params=params)


def _warmup() -> None:
    _pipeline_samples(4, 1e-6, 2, 5e-6, 0.3, 0.5, 1e-5, 0)
