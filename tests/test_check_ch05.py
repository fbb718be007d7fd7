"""Chapter 5 checkers: the solution passes, typical wrong answers fail with a hint, ``...`` is 'not attempted'.
No checker prints its expected value."""
from __future__ import annotations

import math

import pytest

from labsim import latency as L
from labsim.check import ch05
from labsim.check._core import NOT_ATTEMPTED


def _run(capsys, fn, *args):
    ok = fn(*args)
    return ok, capsys.readouterr().out


def _no_leak(out: str, *values: float):
    for v in values:
        for fmt in ("{:g}", "{:.2f}", "{:.3f}", "{:.4f}"):
            s = fmt.format(v)
            if len(s.replace("0", "").replace(".", "")) >= 2:  # only meaningful digit strings
                assert s not in out, f"checker printed the expected value {s}"


def test_reasoning_time(capsys):
    exp = L.decode_seconds(2000, 1600)
    assert _run(capsys, ch05.reasoning_time, exp)[0]
    for wrong in (exp * 1e3, exp / 2, 1600 / 2000, -exp, 2000 * 1600):
        ok, out = _run(capsys, ch05.reasoning_time, wrong)
        assert not ok and out.startswith("✗")
    assert _run(capsys, ch05.reasoning_time, ...) == (False, NOT_ATTEMPTED + "\n")


def test_within_flow(capsys):
    assert _run(capsys, ch05.within_flow, False)[0]
    assert not _run(capsys, ch05.within_flow, True)[0]
    assert not _run(capsys, ch05.within_flow, "no")[0]
    assert _run(capsys, ch05.within_flow, None)[1].strip() == NOT_ATTEMPTED


def test_chain_slow_fraction(capsys):
    exp = 1 - 0.95 ** 10
    assert _run(capsys, ch05.chain_slow_fraction, exp)[0]
    for wrong in (0.5, 0.95 ** 10, exp * 100, 0.05 ** 10):
        ok, out = _run(capsys, ch05.chain_slow_fraction, wrong)
        assert not ok
        _no_leak(out, exp)
    assert "p·k" in _run(capsys, ch05.chain_slow_fraction, 0.5)[1]
    assert not _run(capsys, ch05.chain_slow_fraction, ...)[0]


def test_chain_p99(capsys):
    assert _run(capsys, ch05.chain_p99, 16.0)[0]
    for wrong, clue in ((30.0, "worst case"), (10.0, "median"), (11.0, "mean"), (16_000.0, "1000")):
        ok, out = _run(capsys, ch05.chain_p99, wrong)
        assert not ok and clue in out
        _no_leak(out, 16.0)
    assert not _run(capsys, ch05.chain_p99, ...)[0]


def test_queue_waits(capsys):
    md1, mm1 = L.md1_mean_wait_s(0.8, 1.25), L.mm1_mean_wait_s(0.8, 1.25)
    assert (md1, mm1) == pytest.approx((2.5, 5.0))
    assert _run(capsys, ch05.queue_waits, md1, mm1)[0]
    assert "swapped" in _run(capsys, ch05.queue_waits, mm1, md1)[1]
    assert "service time" in _run(capsys, ch05.queue_waits, md1 + 1.25, mm1)[1]
    ok, out = _run(capsys, ch05.queue_waits, md1 * 2, mm1)
    assert not ok and "2×" in out
    assert not _run(capsys, ch05.queue_waits, md1, mm1 * 1e3)[0]
    assert _run(capsys, ch05.queue_waits, ..., mm1)[1].strip() == NOT_ATTEMPTED


def test_voice_budget_tokens(capsys):
    speed = L.decode_speed("llama-3.3-70b", "groq-lpu-v1")
    exp = L.max_reasoning_tokens(0.5, speed, fixed_s=0.3)
    assert exp == math.floor(0.2 * speed) and exp > 0
    assert _run(capsys, ch05.voice_budget_tokens, exp)[0]
    assert "300 ms" in _run(capsys, ch05.voice_budget_tokens, math.floor(0.5 * speed))[1]
    assert "whole" in _run(capsys, ch05.voice_budget_tokens, exp + 0.5)[1]
    for wrong in (exp * 2, exp + 5, exp * 1000):
        assert not _run(capsys, ch05.voice_budget_tokens, wrong)[0]
    # on the GPU the same budget is far smaller
    gpu = L.max_reasoning_tokens(0.5, L.decode_speed("llama-3.3-70b", "nvidia-h100-sxm"), fixed_s=0.3)
    assert gpu < exp / 5
    assert _run(capsys, ch05.voice_budget_tokens, gpu, "nvidia-h100-sxm")[0]
    assert not _run(capsys, ch05.voice_budget_tokens, ...)[0]


def test_slo_cost_per_task(capsys):
    e = ch05.expected_slo_costs()
    assert e["gpu"] == pytest.approx(3000 * 5.197e-6, rel=1e-3)
    assert e["lpu"] == pytest.approx(3000 * 1.9406e-6, rel=1e-3)
    assert _run(capsys, ch05.slo_cost_per_task, e["gpu"], e["lpu"])[0]
    ok, out = _run(capsys, ch05.slo_cost_per_task, e["gpu_ignoring_slo"], e["lpu"])
    assert not ok and "misses the 1 s SLO" in out
    assert not _run(capsys, ch05.slo_cost_per_task, e["gpu"] * 1e6, e["lpu"])[0]
    assert not _run(capsys, ch05.slo_cost_per_task, e["gpu"], e["lpu"] / 1e6)[0]
    assert not _run(capsys, ch05.slo_cost_per_task, e["gpu"], ...)[0]
    ok, out = _run(capsys, ch05.slo_cost_per_task, e["gpu"] * 2, e["lpu"])
    _no_leak(out, e["gpu"], e["lpu"])


def test_fanout_p99_function(capsys):
    d = L.lognormal(0.6, 0.6)
    assert _run(capsys, ch05.fanout_p99_function, lambda n: L.fanout_quantile(d, n, 0.99))[0]
    step = L.Step((L.Component("search", d),))
    assert _run(capsys, ch05.fanout_p99_function, lambda n: L.simulate(step, n=200_000, seed=1, fan_out=n).p99_s)[0]
    assert not _run(capsys, ch05.fanout_p99_function, lambda n: n * d.quantile(0.99))[0]   # sum, not max
    assert not _run(capsys, ch05.fanout_p99_function, lambda n: d.quantile(0.99))[0]       # ignores n
    assert "raised" in _run(capsys, ch05.fanout_p99_function, lambda n: 1 / 0)[1]

    def stub(n):
        ...
    assert _run(capsys, ch05.fanout_p99_function, stub)[1].strip() == NOT_ATTEMPTED
    assert _run(capsys, ch05.fanout_p99_function, ...)[1].strip() == NOT_ATTEMPTED
