"""Chapter 7 catalog entries (TPU v1, Dojo D1, Cerebras CS-3) and the packaging / memory-kind fields."""
from __future__ import annotations

import math

import pytest

from labsim import catalog
from labsim.errors import LabsimError
from labsim.sources import check_citation

NEW = ("google-tpu-v1", "tesla-dojo-d1", "cerebras-cs3")


@pytest.fixture(autouse=True)
def _clean_registry():
    catalog._remove_user_entries()
    yield
    catalog._remove_user_entries()


@pytest.mark.parametrize("name", NEW)
def test_every_source_names_a_bibliography_key(name):
    c = catalog.chip(name)
    assert c.sources
    for field, text in c.sources.items():
        check_citation(f"{name}.{field}", text)        # raises on an unknown key or a bare string
        assert "facts/" not in text and "/work" not in text


def test_what_each_machine_is():
    tpu, d1, cs3 = (catalog.chip(n) for n in NEW)
    assert (tpu.memory_kind, tpu.packaging, tpu.dies_per_unit) == ("dram", "die", 1)
    assert (d1.memory_kind, d1.packaging, d1.dies_per_unit) == ("sram", "tile", 25)
    assert (cs3.memory_kind, cs3.packaging, cs3.dies_per_unit) == ("sram", "wafer", 1)
    assert catalog.chip("groq-lpu-v1").packaging == "die"


def test_published_numbers_hang_together():
    tpu, d1, cs3 = (catalog.chip(n) for n in NEW)
    # TPU v1: 256 x 256 MACs x 2 ops x 700 MHz = 91.75 TOPS, published as 92 TOPS
    assert tpu.systolic_rows * tpu.systolic_cols * 2 * tpu.clock_hz == pytest.approx(tpu.peak_ops("int8"), rel=0.01)
    # 28 MiB on chip = 24 MiB unified buffer + 4 MiB accumulators; the weights live in the 8 GiB DDR3
    assert tpu.onchip_sram_bytes == tpu.unified_buffer_bytes + tpu.accumulator_bytes == 28 * 2**20
    assert tpu.memory_bytes == 8 * 2**30
    # ridge point: 92 TOPS / 34 GB/s / 2 ops per MAC = 1,353 MACs per weight byte, the paper's "1,350"
    assert tpu.peak_ops("int8") / tpu.memory_bandwidth_bytes_per_s / 2 == pytest.approx(tpu.ridge_ops_per_weight_byte,
                                                                                          rel=0.01)
    # D1: 354 cores x 1.25 MB = 442.5 MB ~ 440 MB; 25 dies x 440 MB ~ 11 GB per tile; 25 x 362 TF ~ 9 PF
    assert d1.cores_per_die * d1.sram_per_core_bytes == pytest.approx(d1.memory_bytes, rel=0.01)
    assert d1.dies_per_package * d1.memory_bytes == pytest.approx(d1.tile_sram_bytes, rel=0.01)
    assert d1.dies_per_package * d1.peak_ops("bf16") == pytest.approx(d1.tile_peak_bf16_ops_per_s, rel=0.01)
    # CS-3: 900,000 cores x 48 KiB = 44.2 GB ~ 44 GB; 970k built, 900k enabled = 93 %
    assert cs3.cores * cs3.sram_per_core_bytes == pytest.approx(cs3.memory_bytes, rel=0.01)
    assert cs3.cores / cs3.physical_cores == pytest.approx(0.928, abs=0.001)
    assert cs3.memory_bytes / cs3.memory_bandwidth_bytes_per_s == pytest.approx(2.1e-6, rel=0.01)


def test_cs3_has_a_sourced_peak_now():
    cs3 = catalog.chip("cerebras-cs3")
    assert cs3.peak_ops("fp16") == 125e15
    assert "cerebras-wse3" in cs3.sources["peak_ops_per_s.fp16"]


def test_packaging_validation():
    base = {"name": "pkg-chip", "memory_kind": "sram", "memory_bytes": 1e9, "memory_bandwidth_bytes_per_s": 1e12}
    assert catalog.load_chip(base).packaging == "die" and catalog.load_chip(base).dies_per_unit == 1
    assert catalog.load_chip({**base, "packaging": "wafer"}).packaging == "wafer"
    assert catalog.load_chip({**base, "packaging": "tile", "dies_per_package": 4}).dies_per_unit == 4
    with pytest.raises(LabsimError, match=r"packaging.*'reticle'"):
        catalog.load_chip({**base, "packaging": "reticle"})
    with pytest.raises(LabsimError, match=r"needs dies_per_package"):
        catalog.load_chip({**base, "packaging": "tile"})
    with pytest.raises(LabsimError, match=r"dies_per_package = 4 is only meaningful"):
        catalog.load_chip({**base, "dies_per_package": 4})
    with pytest.raises(LabsimError, match=r"dies_per_package must be an integer"):
        catalog.load_chip({**base, "packaging": "tile", "dies_per_package": 2.5})
    d = catalog.load_chip({**base, "memory_kind": "dram"})
    assert d.memory_kind == "dram" and math.isfinite(d.memory_bytes)
