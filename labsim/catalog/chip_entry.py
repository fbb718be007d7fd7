"""A catalog chip (:class:`Chip`): its fields, their kinds and bounds, and the parser of one entry."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..errors import (
    LabsimError,
    check_choice,
    check_name,
)
from ..precision import PRECISIONS
from .schema import _coerce, _Frozen, _parse_extra, _unknown_key_error, _unwrap

_CHIP_STR = {
    "name": (True, None), "display_name": (False, None), "vendor": (False, ""), "memory_kind": (True, None),
    "notes": (False, ""), "packaging": (False, "die"),
}
_CHIP_NUM: dict[str, tuple[str, bool]] = {  # name -> (kind, required); absent optional numbers are None
    "memory_bytes": ("float", True),
    "memory_bandwidth_bytes_per_s": ("float", True),
    "clock_hz": ("float", False),
    "power_w": ("float", False),
    "price_usd": ("float", False),
    "chips_per_node": ("int", False),
    "chips_per_rack": ("int", False),
    "sync_domain_chips": ("int", False),
    "link_bandwidth_bytes_per_s": ("float", False),
    "link_latency_s": ("float", False),
    "dies_per_package": ("int", False),
}
#: where the weights live: on-die/on-wafer SRAM, stacked HBM next to the die, or ordinary off-chip DRAM (DDR).
_MEMORY_KINDS = ("sram", "hbm", "dram")
#: what one catalog "chip" is: a die in its own package, a die that only ships inside a multi-die tile
#: (``dies_per_package`` dies per tile), or a whole wafer. See docs/design/catalog.md §1.
_PACKAGINGS = ("die", "tile", "wafer")


@dataclass(frozen=True)
class Chip(_Frozen):
    """One accelerator. Bandwidths in bytes/s; ``peak_ops_per_s`` = dense ops/s per precision name.

    ``link_bandwidth_bytes_per_s`` is the chip's total scale-up (chip-to-chip) bandwidth **per direction**;
    ``link_latency_s`` the latency of one hop. Optional numbers are ``None`` where no source publishes them.
    ``memory_kind``: ``"sram"`` (weights on the die or wafer), ``"hbm"`` (stacked DRAM beside the die) or
    ``"dram"`` (ordinary off-chip DDR, e.g. TPU v1's weight memory). ``packaging``: ``"die"`` (default),
    ``"tile"`` (a die sold only inside a tile of ``dies_per_package`` dies, e.g. Dojo D1) or ``"wafer"``
    (one chip = one wafer, e.g. Cerebras WSE-3); every per-chip number then refers to that die or wafer.
    Extra sourced numbers (e.g. ``memory_bytes_geometry``) live in ``extra`` and read as attributes.
    """

    name: str
    display_name: str
    vendor: str
    memory_kind: str
    memory_bytes: float
    memory_bandwidth_bytes_per_s: float
    peak_ops_per_s: Mapping[str, float] = field(hash=False)
    clock_hz: float | None = None
    power_w: float | None = None
    price_usd: float | None = None
    chips_per_node: int | None = None
    chips_per_rack: int | None = None
    sync_domain_chips: int | None = None
    link_bandwidth_bytes_per_s: float | None = None
    link_latency_s: float | None = None
    packaging: str = "die"
    dies_per_package: int | None = None
    # extra numbers and sources take part in ==, so a memo keyed on this entry (labsim._memo, capacity's caches)
    # sees an entry re-registered with other extras as a new key; unhashable mappings stay out of hash()
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False, repr=False)
    sources: Mapping[str, str] = field(default_factory=dict, hash=False, repr=False)
    notes: str = field(default="", compare=False, repr=False)
    origin: str = field(default="", compare=False, repr=False)

    _MAPPINGS = ("peak_ops_per_s", "extra", "sources")

    @property
    def dies_per_unit(self) -> int:
        """Dies in the smallest unit that can be bought or replaced: ``dies_per_package`` for a tile, else 1."""
        return self.dies_per_package if self.packaging == "tile" and self.dies_per_package else 1

    def peak_ops(self, precision: str) -> float:
        """Dense peak ops/s at ``precision``; the error lists the precisions this chip publishes."""
        check_choice("precision", precision, PRECISIONS, what="precision")
        if precision not in self.peak_ops_per_s:
            have = ", ".join(sorted(self.peak_ops_per_s)) or "none"
            raise LabsimError(f"chip {self.name!r} publishes no dense peak for precision={precision!r}; "
                              f"available: {have}")
        return self.peak_ops_per_s[precision]


def parse_chip(raw: Mapping, where: str, *, require_source: bool) -> Chip:
    """Validate one chip entry already read into ``raw`` (``where`` names it in errors). ``require_source``: every
    number must cite the bibliography (shipped files); user entries may give bare numbers."""
    sources: dict[str, str] = {}
    allowed = set(_CHIP_STR) | set(_CHIP_NUM) | {"peak_ops_per_s", "extra"}
    for k in raw:
        if k not in allowed:
            raise _unknown_key_error(where, k, allowed)
    kw: dict[str, Any] = {}
    for k, (req, default) in _CHIP_STR.items():
        if k not in raw:
            if req:
                raise LabsimError(f"{where}: missing field {k!r}")
            kw[k] = default
            continue
        kw[k] = _coerce(where, k, "str", _unwrap(where, k, raw[k], {}, require_source=False), allow_zero=True)
    check_name(f"{where}: name", kw["name"])
    kw["display_name"] = kw["display_name"] or kw["name"]
    kw["memory_kind"] = check_choice(f"{where}: memory_kind", kw["memory_kind"], _MEMORY_KINDS,
                                     what="memory kind")
    kw["packaging"] = check_choice(f"{where}: packaging", kw["packaging"], _PACKAGINGS, what="packaging")
    for k, (kind, req) in _CHIP_NUM.items():
        if k not in raw:
            if req:
                raise LabsimError(f"{where}: missing field {k!r}")
            kw[k] = None
            continue
        v = _unwrap(where, k, raw[k], sources, require_source=require_source)
        kw[k] = _coerce(where, k, kind, v, allow_zero=False)
    if kw["chips_per_node"] and kw["chips_per_rack"] and kw["chips_per_rack"] < kw["chips_per_node"]:
        raise LabsimError(f"{where}: chips_per_rack = {kw['chips_per_rack']} is smaller than chips_per_node = "
                          f"{kw['chips_per_node']}; allowed: chips_per_rack ≥ chips_per_node")
    if kw["packaging"] == "tile" and not kw["dies_per_package"]:
        raise LabsimError(f"{where}: packaging = 'tile' needs dies_per_package (dies per tile, ≥ 1)")
    if kw["packaging"] != "tile" and kw["dies_per_package"] not in (None, 1):
        raise LabsimError(f"{where}: dies_per_package = {kw['dies_per_package']} is only meaningful with "
                          f"packaging = 'tile' (got packaging = {kw['packaging']!r})")
    peaks_raw = raw.get("peak_ops_per_s", {})
    if not isinstance(peaks_raw, Mapping):
        raise LabsimError(f"{where}: peak_ops_per_s must be a table precision -> {{value, source}}")
    peaks: dict[str, float] = {}
    for p, r in peaks_raw.items():
        check_choice(f"{where}: peak_ops_per_s key", p, PRECISIONS, what="precision")
        v = _unwrap(where, f"peak_ops_per_s.{p}", r, sources, require_source=require_source)
        peaks[p] = _coerce(where, f"peak_ops_per_s.{p}", "float", v, allow_zero=False)
    kw["peak_ops_per_s"] = MappingProxyType(peaks)
    kw["extra"] = MappingProxyType(_parse_extra(where, raw.get("extra"), sources, require_source, Chip))
    kw["sources"] = MappingProxyType(sources)
    kw["origin"] = where
    return Chip(**kw)
