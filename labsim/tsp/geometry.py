"""TSP chip geometry and timing parameters, with derived quantities.

Published geometry from [isca20] §II–III and [isca22] (see docs/sources.md). Unpublished timing values are
assumptions, marked **[A]**; every one is a named, overridable field: ``Geometry.faithful(stream_hop_cycles=2)``.
The clock is read from the chip catalog (``catalog.chip("groq-lpu-v1").clock_hz``), one place per fact.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .. import catalog
from ..errors import LabsimError, check_choice, check_int, check_number, check_text
from ..sources import cite
from .isa import DELAY_FIELD, OPCODES

__all__ = [
    "Geometry", "SLICE_TYPES", "total_sram_bytes", "sram_bytes_per_cycle", "stream_bytes_per_cycle",
    "macs_per_cycle", "peak_int8_ops_per_s", "peak_fp16_flops_per_s", "sram_sweep_time_s", "parameter_table",
    "ASSUMED_FIELDS",
]

#: Functional slice types, in a fixed order (used for colors and integer codes).
SLICE_TYPES = ("C2C", "MXM", "SXM", "MEM", "VXM")

#: upper bounds of the integer fields (everything else: 1,000,000); keeps every derived size finite and small
_INT_HI = {"superlanes": 64, "lanes_per_superlane": 64, "streams_per_direction": 256, "mem_slices_per_hemisphere": 512,
           "mem_banks_per_slice": 16, "mem_words_per_bank": 2**20, "mxm_planes": 16, "vxm_alus_per_lane": 256,
           "c2c_links": 256, "stream_hop_cycles": 64, "instr_stagger_cycles_per_superlane": 64}

_INT_FIELDS = (
    "superlanes", "lanes_per_superlane", "streams_per_direction", "mem_slices_per_hemisphere",
    "mem_banks_per_slice", "mem_words_per_bank", "mxm_planes", "vxm_alus_per_lane", "c2c_links",
    "stream_hop_cycles", "instr_stagger_cycles_per_superlane", "mem_read_cycles", "mem_write_cycles",
    "vxm_cycles", "mxm_install_cycles", "mxm_pass_cycles", "sxm_cycles", "c2c_serialize_cycles",
    "c2c_link_latency_cycles", "hac_period_cycles",
)


@dataclass(frozen=True)
class Geometry:
    """Geometry and timing of one TSP. All delays are in cycles of ``clock_hz``.

    Source: [isca20] §II–III; [A] = assumption (see :data:`ASSUMED_FIELDS` and :func:`parameter_table`).
    """

    name: str = "faithful"
    #: Nominal clock; ``None`` reads it from the chip catalog (groq-lpu-v1: 900 MHz, [isca20] abstract).
    #: The paper's arithmetic uses 1 GHz.
    clock_hz: float | None = None
    #: Superlanes (tiles stacked south→north), 20 ([isca20] §II).
    superlanes: int = 20
    #: Lanes per superlane, 16 → 16-byte tile (ISCA 2020 §II).
    lanes_per_superlane: int = 16
    #: Stream registers per direction, 32 east + 32 west ([isca20] §II).
    streams_per_direction: int = 32
    #: MEM slices per hemisphere, 44 ([isca20] §II-B).
    mem_slices_per_hemisphere: int = 44
    #: SRAM banks per MEM slice, 2 (pseudo-dual-port; [isca20] Eq. 2).
    mem_banks_per_slice: int = 2
    #: Addresses per bank; one address = one 16-byte word per tile = one whole vector across the superlanes.
    #: 4,096 from the 13-bit word address split over 2 banks ([isca20] Table I [D]).
    mem_words_per_bank: int = 4096
    #: MXM planes (each MXM slice is one vector_len × vector_len plane), 4 = 2 per hemisphere ([isca20] §III-D).
    mxm_planes: int = 4
    #: VXM ALUs per lane (4×4 mesh), 16 ([isca20] §III-C); also the VXM's issue slots per cycle here.
    vxm_alus_per_lane: int = 16
    #: Chip-to-chip links, 16 ([linley20]).
    c2c_links: int = 16

    # --- timing -------------------------------------------------------------------------------------------
    #: [A] Cycles for a stream value to cross one slice boundary. [isca20] says one stream register per
    #: cycle; the spacing of the 45 stream register files is unpublished.
    stream_hop_cycles: int = 1
    #: Cycles for an instruction to move up one superlane (staggered execution, [isca20] §II-C).
    instr_stagger_cycles_per_superlane: int = 1
    #: [A] MEM read functional delay: SRAM access + ECC check, order of magnitude.
    mem_read_cycles: int = 4
    #: [A] MEM write: cycles until the written word is committed and readable.
    mem_write_cycles: int = 1
    #: [A] VXM ALU functional delay.
    vxm_cycles: int = 4
    #: Cycles to install one plane's weights: 320×320 B / (16 streams × 320 B) = 20 ([isca20] §V [S]/[D]); a
    #: data-carrying MXM_INSTALL.
    #: A streamed MXM_LOAD takes ceil(rows / streams) cycles instead (the weight traffic is simulated).
    mxm_install_cycles: int = 20
    #: [A] MXM pass: 20 supercell columns + 4 accumulate/drain.
    mxm_pass_cycles: int = 24
    #: [A] SXM shift/permute functional delay.
    sxm_cycles: int = 2
    #: Serialize one 320-B vector on a ×4 30 Gb/s link ≈ 20 cycles [D]. C2C send/receive delay.
    c2c_serialize_cycles: int = 20
    #: Measured link latency ≈ 216 cycles ([isca22] HAC data). Used by chapter 2, not by sim.
    c2c_link_latency_cycles: int = 216
    #: Hardware-aligned counter period, 256 cycles ([isca22]). Used by chapter 2.
    hac_period_cycles: int = 256

    notes: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or len(self.name) > 64:
            raise LabsimError(f"name must be a string of at most 64 characters, got {self.name!r}")
        check_text("notes", self.notes, max_chars=10_000)
        if self.clock_hz is None:
            object.__setattr__(self, "clock_hz", _catalog_clock_hz())
        object.__setattr__(self, "clock_hz", check_number("clock_hz", self.clock_hz, lo=1e3, hi=1e12, unit="Hz"))
        for f in _INT_FIELDS:
            object.__setattr__(self, f, check_int(f, getattr(self, f), lo=1, hi=_INT_HI.get(f, 1_000_000)))
        if self.mxm_planes % 2:
            raise LabsimError(f"mxm_planes = {self.mxm_planes} must be even (planes sit in two hemispheres)")
        check_int("mxm_planes", self.mxm_planes, lo=2, hi=16)
        if self.mem_slices_per_hemisphere * self.mem_banks_per_slice * self.mem_words_per_bank > 2**24:
            raise LabsimError(f"mem_slices_per_hemisphere × mem_banks_per_slice × mem_words_per_bank = "
                              f"{self.mem_slices_per_hemisphere * self.mem_banks_per_slice * self.mem_words_per_bank:,}"
                              f" addresses per hemisphere is out of range; allowed: at most {2**24:,}")

    # --- profiles -----------------------------------------------------------------------------------------
    @classmethod
    def faithful(cls, **overrides) -> Geometry:
        """Published geometry ([isca20] §II); override any field by keyword."""
        return cls._make(dict(name="faithful"), overrides)

    @classmethod
    def mini(cls, **overrides) -> Geometry:
        """Same structure, smaller: 4 superlanes, 8 MEM per side, 8 streams, 256 words per bank."""
        base = dict(name="mini", superlanes=4, streams_per_direction=8, mem_slices_per_hemisphere=8,
                    mem_words_per_bank=256)
        return cls._make(base, overrides)

    @classmethod
    def _make(cls, base: dict, overrides: dict) -> Geometry:
        names = {f.name for f in dataclasses.fields(cls)}
        for k in overrides:
            check_choice("field", k, names, what="Geometry field")
        return cls(**{**base, **overrides})

    def replace(self, **overrides) -> Geometry:
        """A copy with some fields changed (validated)."""
        names = {f.name for f in dataclasses.fields(self)}
        for k in overrides:
            check_choice("field", k, names, what="Geometry field")
        return dataclasses.replace(self, **overrides)

    # --- layout -------------------------------------------------------------------------------------------
    @property
    def vector_len(self) -> int:
        """Elements (= bytes for int8) in one vector: superlanes × lanes_per_superlane (320 faithful)."""
        return self.superlanes * self.lanes_per_superlane

    @property
    def mxm_dim(self) -> int:
        """Side of one MXM plane = the vector length (320 faithful)."""
        return self.vector_len

    @property
    def slice_names(self) -> tuple[str, ...]:
        """Slice names, index 0 = west edge ([isca20] floorplan; the C2C end-caps are [A])."""
        return _layout(self)[0]

    @property
    def slice_types(self) -> tuple[str, ...]:
        return _layout(self)[1]

    @property
    def n_slices(self) -> int:
        return len(self.slice_names)

    @property
    def vxm_index(self) -> int:
        return self.slice_types.index("VXM")

    def slice_index(self, name) -> int:
        """Index of a slice given by name ("MEM_W0") or index."""
        lay = _layout(self)
        if isinstance(name, str):
            i = lay[2].get(name)
            if i is not None:
                return i
            check_choice("slice", name, lay[0], what="slice")
        if isinstance(name, (int, np.integer)) and not isinstance(name, bool):
            return check_int("slice", name, lo=0, hi=len(lay[0]) - 1)
        check_choice("slice", name, lay[0], what="slice")
        raise AssertionError  # unreachable: check_choice raised

    def slice_type(self, name) -> str:
        return self.slice_types[self.slice_index(name)]

    def slices_of_type(self, kind: str) -> tuple[str, ...]:
        check_choice("kind", kind, SLICE_TYPES, what="slice type")
        return tuple(n for n, t in zip(self.slice_names, self.slice_types, strict=False) if t == kind)

    def hop_cycles(self, src, dst) -> int:
        """Cycles for a stream value to travel from slice ``src`` to slice ``dst`` (either direction)."""
        return abs(self.slice_index(dst) - self.slice_index(src)) * self.stream_hop_cycles

    def delay(self, op: str) -> int:
        """Functional delay in cycles of opcode ``op`` (see labsim.tsp.isa.OPCODES). An ``MXM_LOAD`` takes
        ceil(rows / streams) cycles, which depends on the instruction: use ``Program.ready_cycle``."""
        check_choice("op", op, OPCODES, what="opcode")
        if op == "MXM_LOAD":
            raise LabsimError("the delay of MXM_LOAD is ceil(rows / streams) cycles of the instruction; "
                              "use Program.ready_cycle(instruction)")
        f = DELAY_FIELD[op]
        return 1 if f is None else int(getattr(self, f))

    def issue_slots(self, kind: str) -> int:
        """Instructions a slice of this type may start per cycle (MEM 2 = one per bank, VXM 16, others 1)."""
        check_choice("kind", kind, SLICE_TYPES, what="slice type")
        return {"MEM": self.mem_banks_per_slice, "VXM": self.vxm_alus_per_lane}.get(kind, 1)

    def load_cycles(self, rows, streams) -> int:
        """Cycles an ``MXM_LOAD`` of ``rows`` weight vectors over ``streams`` streams takes: ceil(rows / streams)."""
        rows = check_int("rows", rows, lo=1, hi=self.vector_len)
        streams = check_int("streams", streams, lo=1, hi=2 * self.streams_per_direction)
        return -(-rows // streams)

    def describe(self) -> str:
        return (f"{self.name}: {self.n_slices} slices, {self.superlanes} superlanes × {self.lanes_per_superlane} "
                f"lanes = {self.vector_len}-element vectors, {self.streams_per_direction} streams each way, "
                f"{self.mem_slices_per_hemisphere} MEM per hemisphere, clock {self.clock_hz / 1e6:g} MHz")


@lru_cache(maxsize=1)
def _catalog_clock_hz() -> float:
    """The LPU's clock from the chip catalog (one place per fact)."""
    hz = catalog.chip("groq-lpu-v1").clock_hz
    if hz is None:  # pragma: no cover - the built-in entry has it
        raise LabsimError("the catalog entry groq-lpu-v1 has no clock_hz; pass Geometry(clock_hz=...)")
    return float(hz)


_LAYOUT_CACHE: dict = {}


def _layout(g: Geometry):
    key = (g.mem_slices_per_hemisphere, g.mxm_planes)
    if key not in _LAYOUT_CACHE:
        half = g.mxm_planes // 2
        names: list[str] = ["C2C_W"]
        names += [f"MXM_W{i}" for i in reversed(range(half))]
        names += ["SXM_W"]
        names += [f"MEM_W{i}" for i in reversed(range(g.mem_slices_per_hemisphere))]
        names += ["VXM"]
        names += [f"MEM_E{i}" for i in range(g.mem_slices_per_hemisphere)]
        names += ["SXM_E"]
        names += [f"MXM_E{i}" for i in range(half)]
        names += ["C2C_E"]
        types = tuple(n.split("_")[0] if "_" in n else n for n in names)
        _LAYOUT_CACHE[key] = (tuple(names), types, {n: i for i, n in enumerate(names)})
    return _LAYOUT_CACHE[key]


# --- derived quantities -----------------------------------------------------------------------------------

def _check_geometry(g) -> Geometry:
    if not isinstance(g, Geometry):
        raise LabsimError(f"g must be a labsim.tsp.Geometry (e.g. Geometry.faithful()), got {g!r} "
                          f"({type(g).__name__})")
    return g


def _clock(g: Geometry, clock_hz) -> float:
    _check_geometry(g)
    return g.clock_hz if clock_hz is None else check_number("clock_hz", clock_hz, lo=1e3, hi=1e12, unit="Hz")


def total_sram_bytes(g: Geometry) -> int:
    """On-chip SRAM: 2 hemispheres × MEM slices × banks × addresses × vector bytes (faithful: 220 MiB)."""
    _check_geometry(g)
    return 2 * g.mem_slices_per_hemisphere * g.mem_banks_per_slice * g.mem_words_per_bank * g.vector_len


def sram_bytes_per_cycle(g: Geometry) -> int:
    """Peak SRAM port bandwidth: every bank of every MEM slice delivers one vector per cycle
    ([isca20] Eq. 2: 2 × 44 × 2 × 320 B = 56,320 B/cycle)."""
    _check_geometry(g)
    return 2 * g.mem_slices_per_hemisphere * g.mem_banks_per_slice * g.vector_len


def stream_bytes_per_cycle(g: Geometry) -> int:
    """Stream-register bandwidth: 2 directions × streams × 1 B × lanes ([isca20] Eq. 1: 20,480 B/cycle)."""
    _check_geometry(g)
    return 2 * g.streams_per_direction * g.vector_len


def macs_per_cycle(g: Geometry) -> int:
    """INT8 multiply-accumulates per cycle: planes × vector_len² (faithful: 4 × 320² = 409,600)."""
    _check_geometry(g)
    return g.mxm_planes * g.vector_len ** 2


def peak_int8_ops_per_s(g: Geometry, clock_hz: float | None = None) -> float:
    """Peak INT8 ops/s = 2 ops per MAC × MACs/cycle × clock (737 / 819 / 1,024 TOPS at 0.9 / 1.0 / 1.25 GHz)."""
    return 2.0 * macs_per_cycle(g) * _clock(g, clock_hz)


def peak_fp16_flops_per_s(g: Geometry, clock_hz: float | None = None) -> float:
    """Peak FP16 FLOP/s: FP16 runs at ¼ of the INT8 MAC rate ([isca22]) → 184 TFLOPS at 0.9 GHz."""
    return 2.0 * macs_per_cycle(g) / 4 * _clock(g, clock_hz)


def sram_sweep_time_s(g: Geometry, clock_hz: float | None = None) -> float:
    """Time to read every SRAM byte once at the peak port bandwidth."""
    return total_sram_bytes(g) / (sram_bytes_per_cycle(g) * _clock(g, clock_hz))


#: Timing fields that are assumptions [A] (not published); the rest are published [P]/[S] or derived [D].
ASSUMED_FIELDS = frozenset({"stream_hop_cycles", "mem_read_cycles", "mem_write_cycles", "vxm_cycles",
                            "mxm_pass_cycles", "sxm_cycles"})

_PARAM_SOURCES = {
    "clock_hz": "[isca20] abstract (900 MHz) [P], read from the chip catalog",
    "superlanes": "[isca20] §II [S]",
    "lanes_per_superlane": "[isca20] §II [S]",
    "streams_per_direction": "[isca20] §II [S]",
    "mem_slices_per_hemisphere": "[isca20] §II-B [S]",
    "mem_banks_per_slice": "[isca20] §II-B Eq. 2 [S]",
    "mem_words_per_bank": "[isca20] Table I: 13-bit word address / 2 banks [D]",
    "mxm_planes": "[isca20] §III-D [S]",
    "vxm_alus_per_lane": "[isca20] §III-C [S]",
    "c2c_links": "[linley20] [P]",
    "stream_hop_cycles": "[A] spacing of the stream register files unpublished",
    "instr_stagger_cycles_per_superlane": "[isca20] §II-C [S]",
    "mem_read_cycles": "[A] SRAM + ECC, order of magnitude",
    "mem_write_cycles": "[A] commit to readable, order of magnitude",
    "vxm_cycles": "[A] ALU pipeline, order of magnitude",
    "mxm_install_cycles": "[isca20] §V: < 40 cycles for 4 planes; 320 × 320 B / (16 streams × 320 B) [S]/[D]",
    "mxm_pass_cycles": "[A] 20 supercell columns + 4 drain",
    "sxm_cycles": "[A] shifter pipeline, order of magnitude",
    "c2c_serialize_cycles": "[linley20] 2,560 b × 1.025 / 120 Gb/s [D]",
    "c2c_link_latency_cycles": "[isca22] HAC link measurement [S]",
    "hac_period_cycles": "[isca22] hardware-aligned counter [S]",
}


def parameter_table(g: Geometry) -> list[dict]:
    """Every geometry/timing field with its value and citation (``source``, readable via labsim.sources.cite)."""
    _check_geometry(g)
    return [{"field": f, "value": getattr(g, f), "source": _PARAM_SOURCES[f], "citation": cite(_PARAM_SOURCES[f]),
             "assumption": f in ASSUMED_FIELDS} for f in _PARAM_SOURCES]
