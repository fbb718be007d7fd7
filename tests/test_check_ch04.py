"""Chapter 4 checkers: the solution passes, typical wrong answers fail with a hint, `...` is 'not attempted'."""
from __future__ import annotations

import pytest

from labsim import tco
from labsim.check import ch04


def _solution_annuity():
    e = ch04.EX_ANNUITY
    r, n = e["cost_of_capital"] / 12, 12 * e["life_years"]
    return e["capex_usd"] * r / (1 - (1 + r) ** -n)


def _solution_system():
    return tco.evaluate(tco.TcoInputs(**ch04.EX_SYSTEM)).usd_per_mtok


def _solution_batch():
    gpu = tco.evaluate(tco.REPORT_FIG11["gpu-latency"]).usd_per_mtok
    groq = tco.evaluate(tco.REPORT_FIG11["groq-cost"]).usd_per_mtok
    return 2 * gpu / groq


def _solution_margin():
    cost = tco.evaluate(tco.REPORT_FIG11["groq-cost"].replace(tokens_per_s_per_user=394.0)).usd_per_mtok
    return 1 - cost / 0.79


CASES = [  # checker, solution, wrong answers (each must fail), words expected in the hint of the first wrong one
    (ch04.annuity_payment, _solution_annuity,
     lambda s: [1_200_000 / 48, 1_200_000 / 48 + 1_200_000 * 0.01, s * 2, s / 1000, -s], "straight-line"),
    (ch04.usd_per_mtok_system, _solution_system, lambda s: [s * 1.25, s * 1e6, s / 2, s * 4], "utilization"),
    (ch04.break_even_batch, _solution_batch, lambda s: [6, 5, s * 2, 2.0], "rounded"),
    (ch04.implied_capex, lambda: 2.52e6 / 0.4, lambda s: [2.52e6 * 1.6, 6.35e6, s * 1000, 2.52e6 * 0.4], "markup"),
    (ch04.energy_per_token, lambda: 230.4e3 / 24_000, lambda s: [s * 1.25, s * 0.8, s / 1000, s * 2], "PUE"),
    (ch04.api_margin, _solution_margin, lambda s: [-s, s * 100, 0.5], "sign"),
]


@pytest.mark.parametrize("checker, solution, wrongs, word", CASES, ids=[c[0].__name__ for c in CASES])
def test_solution_passes_wrong_fail(checker, solution, wrongs, word, capsys):
    s = solution()
    assert checker(s) is True
    assert "✓" in capsys.readouterr().out
    for i, w in enumerate(wrongs(s)):
        assert checker(w) is False, (checker.__name__, w)
        out = capsys.readouterr().out
        assert "✗" in out
        if i == 0:
            assert word in out, out
        assert f"{s:.4g}" not in out  # never prints the expected value


@pytest.mark.parametrize("checker", [ch04.annuity_payment, ch04.usd_per_mtok_system, ch04.break_even_batch,
                                     ch04.implied_capex, ch04.energy_per_token, ch04.api_margin,
                                     ch04.energy_claim, ch04.most_efficient_system])
@pytest.mark.parametrize("stub", [..., None])
def test_not_attempted(checker, stub, capsys):
    assert checker(stub) is False
    assert "not attempted" in capsys.readouterr().out


def test_non_numbers_do_not_raise(capsys):
    assert ch04.annuity_payment("8888") is False
    assert ch04.implied_capex([1, 2]) is False
    assert ch04.annuity_payment(True) is False
    capsys.readouterr()


def test_energy_claim_and_choice(capsys):
    assert ch04.energy_claim(False) is True
    assert ch04.energy_claim(True) is False
    assert ch04.energy_claim("no") is False
    assert ch04.most_efficient_system("gpu-throughput") is True
    assert ch04.most_efficient_system("groq-cost") is False
    assert ch04.most_efficient_system("h100") is False
    capsys.readouterr()


def test_api_margin_traps(capsys):
    s = _solution_margin()
    cost = 0.79 * (1 - s)
    assert ch04.api_margin(1 - 0.79 / cost) is False
    assert "1 − cost/price" in capsys.readouterr().out
