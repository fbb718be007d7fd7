"""Chapter 6 widget callback and plots."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from labsim import LabsimError, fleet  # noqa: E402
from labsim.viz import ch06  # noqa: E402


def test_explore_returns_the_fleet():
    d = ch06.explore()
    assert {r["workload"] for r in d["rows"]} == {"voice", "coding", "chat", "batch"}
    assert d["monthly_usd"] > 0 and not d["infeasible"]
    assert "fleet:" in ch06.explore_text(d)


def test_explore_tighter_slo_costs_more_and_infeasible_is_shown():
    base = ch06.explore()["monthly_usd"]
    tight = ch06.explore(voice_slo_ms=150)
    assert tight["monthly_usd"] >= base
    imp = ch06.explore(coding_slo_ms=300)
    assert "coding" in imp["infeasible"]
    assert "INFEASIBLE" in ch06.explore_text(imp)


@pytest.mark.parametrize("kw", [dict(rate_scale=0), dict(voice_slo_ms=-1), dict(electricity_usd_per_kwh=-0.1),
                                dict(scenario="nope")])
def test_explore_bad_input(kw):
    with pytest.raises(LabsimError):
        ch06.explore(**kw)


def test_plots_draw():
    d = ch06.explore()
    assert ch06.fleet_chart(d["plan"]) is not None
    assert ch06.sensitivity_plot({"base": d["plan"], "x2": ch06.explore(rate_scale=2)["plan"]}) is not None
    wl = fleet.load_scenario("voice_agent").workloads[0]
    assert ch06.slo_sweep_plot(wl, "first_tokens", [0.5, 0.2, 0.1]) is not None
    plt.close("all")
