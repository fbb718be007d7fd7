"""The shared checker machinery: right answers pass, typical slips get a hint, the expected value never leaks."""
from __future__ import annotations

import numpy as np
import pytest

from labsim.check import NOT_ATTEMPTED, check_bool, check_callable, check_choice, check_number

EXPECTED = 327_680.0  # arbitrary value; must never appear in any printed feedback


@pytest.mark.parametrize("answer,fragment", [
    (EXPECTED * 2, "2×"), (EXPECTED / 2, "half"), (EXPECTED * 1e3, "1000×"), (EXPECTED / 1e6, "10⁶×"),
    (-EXPECTED, "sign"), (EXPECTED * 8, "bits"), (EXPECTED * 2**20 / 1e6, "MiB"), (EXPECTED * 1.7, "too large"),
])
def test_wrong_answers_fail_with_hint(capsys, answer, fragment):
    assert check_number(answer, EXPECTED) is False
    out = capsys.readouterr().out
    assert fragment in out
    assert "327680" not in out.replace(",", "") and "327,680" not in out


def test_right_answer_passes(capsys):
    assert check_number(EXPECTED * (1 + 1e-5), EXPECTED) is True
    assert capsys.readouterr().out.startswith("✓")
    assert check_number(np.float32(EXPECTED), EXPECTED) is True


@pytest.mark.parametrize("stub", [..., None])
def test_stub_is_not_attempted(capsys, stub):
    assert check_number(stub, EXPECTED) is False
    assert check_choice(stub, "a", ["a", "b"]) is False
    assert check_bool(stub, True) is False
    assert check_callable(stub, []) is False
    assert capsys.readouterr().out.count(NOT_ATTEMPTED) == 4


def test_non_numbers_are_explained(capsys):
    assert check_number("12", 12) is False
    assert "single number" in capsys.readouterr().out
    assert check_number(float("nan"), 12) is False


def test_choice_and_callable(capsys):
    assert check_choice("Bandwidth", "bandwidth", ["bandwidth", "compute"]) is True
    assert check_choice("latency", "bandwidth", ["bandwidth", "compute"]) is False
    ok = check_callable(lambda x: 2 * x, [((3,), {}, lambda r: r == 6)])
    assert ok is True
    assert check_callable(lambda x: 1 / 0, [((3,), {}, lambda r: True)]) is False
    assert "ZeroDivisionError" in capsys.readouterr().out
    assert check_callable(lambda x: None, [((3,), {}, lambda r: True)]) is False


def test_traps_name_the_wrong_method(capsys):
    traps = [(EXPECTED * 576, "you used the aggregate bandwidth of all chips.")]
    assert check_number(EXPECTED * 576, EXPECTED, traps=traps) is False
    assert "aggregate" in capsys.readouterr().out
    assert check_number(EXPECTED, EXPECTED, traps=traps) is True
