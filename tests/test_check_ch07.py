"""Chapter 7 checkers: the solution passes, typical wrong answers fail, stubs say 'not attempted', no leaks."""
from __future__ import annotations

import numpy as np

from labsim import capacity, systolic
from labsim.check import ch07 as C
from labsim.check._core import NOT_ATTEMPTED


def _ok(capsys, fn, *a):
    assert fn(*a) is True
    assert capsys.readouterr().out.startswith("✓")


def _no(capsys, fn, *a):
    assert fn(*a) is False
    out = capsys.readouterr().out
    assert out.count("\n") == 1                       # one line
    return out


def test_stubs_are_not_attempted(capsys):
    for fn in (C.systolic_cycles, C.smallest_batch_function, C.accumulator_bits, C.tile_bond_yield,
               C.untested_tile_yield, C.lpu_tokens_per_s, C.tokens_per_step, C.needs_speculation, C.fig18_ranking,
               C.fig18_ratio, C.fig18_holds):
        assert fn(...) is False and fn(None) is False
        assert NOT_ATTEMPTED in capsys.readouterr().out


def test_ex1_cycles(capsys):
    _ok(capsys, C.systolic_cycles, 8 + 256 + 256 - 2)
    assert "fill latency" in _no(capsys, C.systolic_cycles, 511)
    assert "off by one" in _no(capsys, C.systolic_cycles, 519)
    assert "drain" in _no(capsys, C.systolic_cycles, 8 * 511)
    out = _no(capsys, C.systolic_cycles, 10_000)
    assert "518" not in out


def _solution(target):
    a = systolic.tpu_v1_array()
    lo, hi = 1, 100_000
    while lo < hi:
        mid = (lo + hi) // 2
        if systolic.utilization_vs_batch(2048, 2048, [mid], a)["utilization"][0] >= target:
            hi = mid
        else:
            lo = mid + 1
    return lo


def test_ex2_function(capsys):
    _ok(capsys, C.smallest_batch_function, _solution)
    _no(capsys, C.smallest_batch_function, lambda t: _solution(t) + 1)       # not the smallest
    _no(capsys, C.smallest_batch_function, lambda t: _solution(t) - 1)       # last one below
    out = _no(capsys, C.smallest_batch_function, lambda t: 1 / 0)
    assert "ZeroDivisionError" in out
    _no(capsys, C.smallest_batch_function, 42)


def test_ex3_accumulator(capsys):
    _ok(capsys, C.accumulator_bits, 29)
    assert "one bit short" in _no(capsys, C.accumulator_bits, 28)
    assert "narrowest" in _no(capsys, C.accumulator_bits, 32)
    _no(capsys, C.accumulator_bits, 16)


def test_ex4_tile(capsys):
    _ok(capsys, C.tile_bond_yield, 0.9 ** (1 / 25))
    assert "first-order" in _no(capsys, C.tile_bond_yield, 0.996)
    assert "percentage" in _no(capsys, C.tile_bond_yield, 100 * 0.9 ** (1 / 25))
    _no(capsys, C.tile_bond_yield, 0.9)
    y = np.exp(-0.645)
    _ok(capsys, C.untested_tile_yield, y ** 25)
    assert "one die" in _no(capsys, C.untested_tile_yield, y)
    _no(capsys, C.untested_tile_yield, np.exp(-64.5) ** 25 + 1e-3)


def test_ex5_1600(capsys):
    p = capacity.plan("llama-3.3-70b", "groq-lpu-v1", "int8")
    v = capacity.decode_time("llama-3.3-70b", "groq-lpu-v1", chips=p.chips).tokens_per_s
    _ok(capsys, C.lpu_tokens_per_s, v)
    assert "aggregate" in _no(capsys, C.lpu_tokens_per_s, p.chips * 80e12 / 70.55e9)
    assert "claim" in _no(capsys, C.lpu_tokens_per_s, 1665.0)
    _ok(capsys, C.tokens_per_step, 1665.0 / v)
    assert "inverted" in _no(capsys, C.tokens_per_step, v / 1665.0)
    _ok(capsys, C.needs_speculation, True)
    _no(capsys, C.needs_speculation, False)


def test_ex6_fig18(capsys):
    _ok(capsys, C.fig18_ranking, ["cerebras-cs3", "groq-lpu-v1", "nvidia-b300", "google-tpu-v7"])
    assert "Fig 18's column order" in _no(capsys, C.fig18_ranking,
                                           ["groq-lpu-v1", "nvidia-b300", "google-tpu-v7", "cerebras-cs3"])
    assert "reversed" in _no(capsys, C.fig18_ranking, ["google-tpu-v7", "nvidia-b300", "groq-lpu-v1", "cerebras-cs3"])
    assert "exactly these four" in _no(capsys, C.fig18_ranking, ["groq-lpu-v1"])
    rows = {r["chip"]: r["fraction_of_peak"] for r in C._fig18()}
    ratio = rows["groq-lpu-v1"] / rows["nvidia-b300"]
    _ok(capsys, C.fig18_ratio, ratio)
    assert "inverted" in _no(capsys, C.fig18_ratio, 1 / ratio)
    assert "bandwidth ratio" in _no(capsys, C.fig18_ratio, 10.0)
    _ok(capsys, C.fig18_holds, False)
    _no(capsys, C.fig18_holds, True)


def test_checkers_never_print_the_answer(capsys):
    C.accumulator_bits(30)
    C.tile_bond_yield(0.5)
    C.systolic_cycles(1)
    out = capsys.readouterr().out
    assert "29" not in out and "0.9957" not in out and "518" not in out


def test_ex2_accepts_an_integral_float(capsys):
    _ok(capsys, C.smallest_batch_function, lambda t: float(_solution(t)))
    _no(capsys, C.smallest_batch_function, lambda t: True)
