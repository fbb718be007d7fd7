"""labsim.silicon: SRAM density, yield models, wafer Monte Carlo, costs, and the next-LPU what-if."""
from __future__ import annotations

import numpy as np
import pytest

from labsim import catalog
from labsim import silicon as S
from labsim.errors import LabsimError
from labsim.sources import check_citation


def test_node_data_is_sourced():
    for name in S.nodes():
        n = S.node(name)
        for field, text in n.sources.items():
            check_citation(f"{name}.{field}", text)
    for name, (value, text) in S.defaults().items():
        check_citation(name, text)
        assert value > 0


def test_density_by_hand():
    # 5 nm: 0.70 / (8 × 0.021 µm²) = 4.17 MB/mm²
    assert S.sram_mb_per_mm2("5nm") == pytest.approx(0.70 / (8 * 0.021))
    assert S.sram_bytes_on_die("14nm", 100.0, 0.5) == pytest.approx(50 * 0.70 / (8 * 0.064) * 1e6)
    assert S.sram_area_mm2(S.sram_bytes_on_die("7nm", 300.0, 1.0), "7nm") == pytest.approx(300.0)
    assert S.sram_mb_per_mm2("3nm") == S.sram_mb_per_mm2("5nm")        # N3E: SRAM stopped scaling


def test_three_machines_spend_a_similar_share_of_silicon_on_sram():
    """Computed, not tuned: LPU v1, Dojo D1 and WSE-3 all put ~21-23 % of their area into SRAM arrays."""
    for name, area, nd in (("groq-lpu-v1", 725, "14nm"), ("tesla-dojo-d1", 645, "7nm"), ("cerebras-cs3", 46225, "5nm")):
        share = S.sram_area_mm2(catalog.chip(name).memory_bytes, nd) / area
        assert 0.15 < share < 0.30


@pytest.mark.parametrize("model", S.YIELD_MODELS)
def test_yield_tends_to_one_as_defects_vanish(model):
    d = np.array([1e-12, 1e-9, 1e-6, 1e-4, 1e-3, 1e-2])
    y = S.die_yield(725.0, d, model)
    assert y[0] == pytest.approx(1.0, abs=1e-8)
    assert np.all(np.diff(y) <= 0)
    assert S.die_yield(725.0, 0.0, model) == 1.0


def test_yield_models_by_hand():
    x = 725 * 0.001
    assert S.die_yield(725, 0.001, "poisson") == pytest.approx(np.exp(-x))
    assert S.die_yield(725, 0.001, "murphy") == pytest.approx(((1 - np.exp(-x)) / x) ** 2)
    assert S.die_yield(725, 0.001, "seeds") == pytest.approx(1 / (1 + x))
    assert S.die_yield(725, 0.001, "negative_binomial", alpha=3) == pytest.approx((1 + x / 3) ** -3)
    # Murphy lies between Poisson (pessimistic) and Seeds (optimistic)
    assert S.die_yield(725, 0.001, "poisson") < S.die_yield(725, 0.001, "murphy") < S.die_yield(725, 0.001, "seeds")


def test_monte_carlo_wafers_match_the_formulas():
    m = S.simulate_wafers(725.0, 0.001, n_wafers=400, seed=1)
    assert m.yield_fraction == pytest.approx(S.die_yield(725.0, 0.001), abs=0.02)
    c = S.simulate_wafers(725.0, 0.001, n_wafers=1500, alpha=1.0, seed=2)
    assert c.yield_fraction == pytest.approx(S.die_yield(725.0, 0.001, "negative_binomial", alpha=1.0), abs=0.03)
    assert m.dies_per_wafer == pytest.approx(S.dies_per_wafer(725.0), abs=8)
    again = S.simulate_wafers(725.0, 0.001, n_wafers=400, seed=1)
    assert np.array_equal(m.counts, again.counts)                  # seeded


def test_dies_per_wafer_formula():
    # π·150²/725 − π·300/√1450 = 97.5 − 24.8 → 72
    assert S.dies_per_wafer(725) == 72
    assert S.dies_per_wafer(100) > 10 * S.dies_per_wafer(1000) / 2


def test_wafer_scale_redundancy():
    cs3 = catalog.chip("cerebras-cs3")
    y = S.wafer_scale_yield(cs3.physical_cores, cs3.cores, cs3.core_area_mm2, cs3.defect_density_per_mm2)
    assert y == pytest.approx(1.0)                                 # ~2,400 bad cores expected, 70,000 spares
    assert S.die_yield(cs3.wafer_area_mm2, cs3.defect_density_per_mm2) < 1e-15   # without redundancy: none
    sweep = S.wafer_scale_yield(1000, 990, 1.0, [1e-4, 1e-2, 5e-2])
    assert sweep[0] > 0.99 and sweep[2] < 1e-6 and np.all(np.diff(sweep) < 0)
    # a non-redundant area makes the wafer behave like a die of that area
    assert S.wafer_scale_yield(1000, 990, 1.0, 1e-4, fatal_area_mm2=1000) == pytest.approx(
        np.exp(-0.1) * S.wafer_scale_yield(1000, 990, 1.0, 1e-4), rel=1e-9)


def test_tile_of_known_good_dies():
    assert S.tile_yield(25, 0.99) == pytest.approx(0.99 ** 25)
    y = S.required_per_die_yield(0.9, 25)
    assert S.tile_yield(25, y) == pytest.approx(0.9)
    assert y > 0.995


def test_costs():
    c5 = S.good_die_cost_usd("5nm", 725, 0.001)
    assert c5 == pytest.approx(16988 / (S.dies_per_wafer(725) * np.exp(-0.725)))
    per_gb = S.sram_usd_per_gb("5nm", 725, 0.25, 0.001)
    assert per_gb == pytest.approx(c5 * 0.25 / (S.sram_bytes_on_die("5nm", 725, 0.25) / 1e9))
    with pytest.raises(LabsimError, match="no sourced wafer price"):
        S.good_die_cost_usd("3nm", 725)


def test_next_lpu_uses_the_existing_models():
    from labsim import capacity
    chip = S.next_lpu_chip(3.0)
    v1 = catalog.chip("groq-lpu-v1")
    assert chip.memory_bytes == 3 * v1.memory_bytes and chip.peak_ops("int8") == v1.peak_ops("int8")
    assert "groq-lpu-v1-sram-x3" not in catalog.chips()              # not registered
    rows = S.next_lpu_whatif([1, 2, 4])
    assert [r["chips"] for r in rows] == [capacity.plan("llama-3.3-70b", S.next_lpu_chip(k), "int8",
                                                        batch=48).chips for k in (1, 2, 4)]
    assert rows[0]["chips"] > rows[1]["chips"] > rows[2]["chips"]
    fast = S.next_lpu_whatif([1, 4], bandwidth_scales=True)
    assert fast[1]["usd_per_mtok"] < rows[2]["usd_per_mtok"]


def test_bad_inputs():
    with pytest.raises(LabsimError, match="process node"):
        S.node("2nm")
    with pytest.raises(LabsimError, match="yield model"):
        S.die_yield(100, 0.001, "gaussian")
    with pytest.raises(LabsimError, match="defect_density_per_mm2"):
        S.die_yield(100, -1.0)
    with pytest.raises(LabsimError, match="needed_cores"):
        S.wafer_scale_yield(10, 11, 1.0)
    with pytest.raises(LabsimError, match="target_tile_yield"):
        S.required_per_die_yield(1.5)
    with pytest.raises(LabsimError, match="sram_fraction"):
        S.sram_bytes_on_die("5nm", 100, 1.5)
    with pytest.raises(LabsimError, match="k"):
        S.next_lpu_chip(0)
    with pytest.raises(LabsimError, match="bandwidth_scales"):
        S.next_lpu_whatif([1], bandwidth_scales="yes")


def test_wafer_monte_carlo_size_is_capped():
    with pytest.raises(LabsimError, match="n_wafers"):
        S.simulate_wafers(10.0, n_wafers=100_000)
