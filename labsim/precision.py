"""Number formats and their storage cost.

Bits per element include the shared-exponent (scale) overhead of block formats: an MX block of 32
elements shares one 8-bit scale, so MXFP4 costs 4 + 8/32 = 4.25 bits per element (OCP Microscaling
Formats spec v1.0, 2023). ``bfp16``/``bfp8`` model block floating point with an 8-bit exponent shared
by 16 elements, the shape the report describes for MoE experts [A: block size 16].
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import LabsimError, check_choice, check_int, check_name, check_text

__all__ = ["Precision", "PRECISIONS", "precision", "bytes_per_element"]


@dataclass(frozen=True)
class Precision:
    name: str
    element_bits: int          #: bits of each element's own mantissa/sign/exponent
    block_size: int = 1        #: elements sharing one exponent/scale (1 = none)
    shared_bits: int = 0       #: bits of that shared exponent/scale
    kind: str = "float"        #: "float", "int" or "block"
    source: str = ""

    def __post_init__(self):
        check_name("name", self.name)
        check_int("element_bits", self.element_bits, lo=1, hi=64)
        check_int("block_size", self.block_size, lo=1, hi=1_000_000)
        check_int("shared_bits", self.shared_bits, lo=0, hi=64)
        check_choice("kind", self.kind, ("float", "int", "block"), what="number-format kind")
        check_text("source", self.source)
        if (self.block_size > 1) != (self.shared_bits > 0):
            raise LabsimError(f"block_size = {self.block_size} and shared_bits = {self.shared_bits} disagree: a "
                              "shared exponent needs a block of more than one element, and a block needs one")

    @property
    def bits_per_element(self) -> float:
        return self.element_bits + (self.shared_bits / self.block_size if self.block_size > 1 else 0.0)

    @property
    def bytes_per_element(self) -> float:
        return self.bits_per_element / 8.0


_IEEE = "IEEE 754 / bfloat16 formats (standard widths)"
_OCP = "OCP Microscaling Formats (MX) Specification v1.0, 2023: 32-element blocks, 8-bit E8M0 scale"

PRECISIONS: dict[str, Precision] = {p.name: p for p in [
    Precision("fp32", 32, source=_IEEE),
    Precision("bf16", 16, source=_IEEE),
    Precision("fp16", 16, source=_IEEE),
    Precision("fp8", 8, source="OCP 8-bit floating point (E4M3/E5M2), 2023"),
    Precision("int8", 8, kind="int", source="two's-complement integer"),
    Precision("int4", 4, kind="int", source="two's-complement integer (scales not counted)"),
    Precision("mxfp8", 8, 32, 8, kind="block", source=_OCP),
    Precision("mxfp4", 4, 32, 8, kind="block", source=_OCP),
    Precision("nvfp4", 4, 16, 8, kind="block",
              source="NVIDIA NVFP4 (Blackwell): E2M1 elements, one FP8 (E4M3) scale per 16 elements"),
    Precision("bfp16", 8, 16, 8, kind="block",
              source="block floating point, 8-bit mantissas + 8-bit exponent per 16 [A]"),
    Precision("bfp8", 4, 16, 8, kind="block",
              source="block floating point, 4-bit mantissas + 8-bit exponent per 16 [A]"),
]}


def precision(name: str) -> Precision:
    """Look up a precision by name (error lists the valid ones)."""
    return PRECISIONS[check_choice("precision", name, PRECISIONS, what="precision")]


def bytes_per_element(name: str) -> float:
    """Storage bytes per element for a precision name, shared-exponent overhead included."""
    return PRECISIONS[check_choice("precision", name, PRECISIONS, what="precision")].bytes_per_element
