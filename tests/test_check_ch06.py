"""Chapter 6 checkers: the solution passes, typical wrong answers fail, `...` is 'not attempted' and never raises."""
from __future__ import annotations

import pytest

from labsim import fleet
from labsim.check import ch06
from labsim.check._core import NOT_ATTEMPTED


def _prices():
    wl = [w for w in fleet.load_scenario("mixed_product").workloads if w.name == "chat"][0]
    return [fleet.search(wl, [c]).best.usd_per_mtok for c in ch06.EX_PRICE["chips"]]


def _flip_ms():
    wl = fleet.load_scenario("voice_agent").workloads[0]
    return 1e3 * fleet.flip_slo(wl, "first_tokens", 0.05, 0.5, ch06.EX_CHIPS, tol_s=5e-4)


def _mix_monthly():
    sc = fleet.load_scenario("mixed_product")
    return fleet.optimize(fleet.scale_rates(sc.workloads, 2.0), list(ch06.EX_CHIPS), progress=False).monthly_usd


def _proposal():
    plan = fleet.optimize(ch06.new_mix_workloads(), list(ch06.EX_CHIPS), progress=False)
    return {k: {"chip": c.best.chip, "batch": c.best.batch, "replicas": c.best.replicas,
                "layout_multiplier": c.best.layout_multiplier, "microbatches": c.best.microbatches}
            for k, c in plan.choices.items()}


def test_price_two_chips(capsys):
    lpu, gpu = _prices()
    assert ch06.price_two_chips(lpu, gpu)
    assert "✓" in capsys.readouterr().out
    assert not ch06.price_two_chips(gpu, lpu)
    assert "swapped" in capsys.readouterr().out
    assert not ch06.price_two_chips(lpu * 1e6, gpu)
    assert not ch06.price_two_chips(lpu, gpu * 2)
    assert "factor of 2" in capsys.readouterr().out
    assert not ch06.price_two_chips(lpu / 1e3, gpu)          # per thousand tokens
    out = capsys.readouterr().out
    assert "MILLION" in out and f"{lpu:.2f}" not in out and f"{lpu:.3f}" not in out
    assert not ch06.price_two_chips(-lpu, gpu)
    assert not ch06.price_two_chips(lpu, round(gpu, 0) + 0.5)  # wrong precision / a guess
    assert not ch06.price_two_chips("cheap", gpu)


@pytest.mark.parametrize("factor", [2.0, 0.5, 1e-3, 1.3])
def test_flip_slo_wrong(factor, capsys):
    s = _flip_ms()
    assert ch06.flip_slo_ms(s)
    assert not ch06.flip_slo_ms(s * factor)
    out = capsys.readouterr().out
    assert f"{s:.3f}" not in out


def test_fleet_monthly_cost():
    m = _mix_monthly()
    assert ch06.fleet_monthly_cost(m)
    for wrong in (m / 1e3, m * 2, m * 12, -m):
        assert not ch06.fleet_monthly_cost(wrong)


def test_propose_fleet_open_ended(capsys):
    prop = _proposal()
    assert ch06.propose_fleet(prop)
    out = capsys.readouterr().out
    assert "✓" in out and "total" in out
    too_small = {k: dict(v, replicas=1, batch=128) for k, v in prop.items()}
    too_small["voice"] = {"chip": "nvidia-h100-sxm", "batch": 128, "replicas": 1}
    assert not ch06.propose_fleet(too_small)
    missing = dict(prop)
    missing.pop("batch")
    assert not ch06.propose_fleet(missing)
    assert not ch06.propose_fleet({"voice": {"chip": "no-such-chip", "replicas": 1}})
    assert not ch06.propose_fleet([1, 2])
    bigger = {k: dict(v, replicas=v["replicas"] * 3) for k, v in prop.items()}
    assert ch06.propose_fleet(bigger)
    assert "cheaper" in capsys.readouterr().out


@pytest.mark.parametrize("call", [
    lambda: ch06.price_two_chips(..., ...), lambda: ch06.price_two_chips(1.0, None),
    lambda: ch06.flip_slo_ms(...), lambda: ch06.fleet_monthly_cost(None), lambda: ch06.propose_fleet(...),
])
def test_not_attempted(call, capsys):
    assert call() is False
    assert NOT_ATTEMPTED in capsys.readouterr().out
