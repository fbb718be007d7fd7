"""Chapter 1 checkers: the solution passes, typical wrong answers fail with a hint, `...` is 'not attempted'."""
from __future__ import annotations

import numpy as np
import pytest

from labsim import catalog
from labsim.check import ch01
from labsim.tsp import Geometry, Program, macs_per_cycle, sram_bytes_per_cycle


def relu_layer_solution(W, x, b):
    g = Geometry.mini()
    p = Program(g, "relu-layer")
    inst = p.mxm_install(0, "MXM_E0", W)
    rx = p.mem_read(max(0, p.ready_cycle(inst) - g.delay("MEM_READ") - g.hop_cycles("MEM_W0", "MXM_E0")),
                    "MEM_W0", 0, 0, "E0")
    mv = p.mxm_matvec(p.arrival(rx, "MXM_E0"), "MXM_E0", "E0", "W0")
    t = p.arrival(mv, "VXM")
    p.mem_read(t - g.delay("MEM_READ") - g.hop_cycles("MEM_E0", "VXM"), "MEM_E0", 0, 0, "W1")
    add = p.add(t, "W0", "W1", "E1")
    relu = p.relu(p.ready_cycle(add), "E1", "E2")
    p.mem_write(p.arrival(relu, "MEM_E1"), "MEM_E1", 1, 0, "E2")
    return p, {("MEM_W0", 0, 0): x, ("MEM_E0", 0, 0): b}, ("MEM_E1", 1, 0)


def no_relu(W, x, b):
    g = Geometry.mini()
    p, mem, key = relu_layer_solution(W, x, b)
    k = p.find(op="VXM_RELU")
    q = Program(g)
    for j, ins in enumerate(p.instructions):
        if j != k:
            q.append(ins)
    # write the add's output (E1) instead of the relu's
    w = q.find(op="MEM_WRITE")
    q = q.replace(w, srcs=("E1",), cycle=q.instructions[w].cycle - g.vxm_cycles)
    return q, mem, key


def fixed():
    p, _ = ch01.broken_program()
    k = p.find(op="VXM_ADD")
    return p.replace(k, cycle=p.instructions[k].cycle + 1)


def _hop():
    g = Geometry.faithful()
    return g.delay("MEM_READ") + g.hop_cycles("MEM_W10", "MXM_E0")


def _ratio():
    g = Geometry.faithful()
    return sram_bytes_per_cycle(g) * 0.9e9 / catalog.chip("nvidia-b300").memory_bandwidth_bytes_per_s


def test_hop_latency(capsys):
    s = _hop()
    assert s == 61
    assert ch01.hop_latency(s)
    for wrong, words in [(s - 4, "functional delay"), (s + 1, "too many"), (s - 1, "too few"), (s + 19, "stagger"),
                         (s * 2, "2×"), (s * 1000, "1000×")]:
        assert not ch01.hop_latency(wrong)
        assert words in capsys.readouterr().out
    assert s not in [int(w) for w in capsys.readouterr().out.split() if w.isdigit()]


def test_peak_tops(capsys):
    s = 2 * macs_per_cycle(Geometry.faithful()) * 1e9 / 1e12
    assert ch01.peak_tops(s) and ch01.peak_tops(819)
    for wrong, words in [(s / 2, "half"), (s / 4, "4×"), (s * 1e12, "10¹²"), (737.28, "900 MHz"),
                         (1024, "1.25 GHz")]:
        assert not ch01.peak_tops(wrong)
        assert words in capsys.readouterr().out


def test_fixed_program(capsys):
    assert ch01.fixed_program(fixed())
    broken, _ = ch01.broken_program()
    assert not ch01.fixed_program(broken)
    assert not ch01.fixed_program(42)
    p = fixed()
    k = p.find(op="MEM_WRITE")
    assert not ch01.fixed_program(p.replace(k, address=3))
    assert "MEM_E3" in capsys.readouterr().out


def test_fixed_program_reports_simulator_message(capsys):
    broken, _ = ch01.broken_program()
    ch01.fixed_program(broken)
    out = capsys.readouterr().out
    assert "1 cycle later" in out and "✗" in out


def test_relu_layer(capsys):
    assert ch01.relu_layer(relu_layer_solution)
    assert not ch01.relu_layer(no_relu)
    assert "ReLU is missing" in capsys.readouterr().out
    assert not ch01.relu_layer(lambda W, x, b: 1 / 0)
    assert "ZeroDivisionError" in capsys.readouterr().out
    assert not ch01.relu_layer(lambda W, x, b: (1, 2))
    assert not ch01.relu_layer(3)

    def late(W, x, b):
        p, mem, key = relu_layer_solution(W, x, b)
        k = p.find(op="VXM_RELU")
        return p.replace(k, cycle=p.instructions[k].cycle + 1), mem, key
    assert not ch01.relu_layer(late)
    assert "slot holds nothing" in capsys.readouterr().out


def test_hbm_ratio_and_claim(capsys):
    s = _ratio()
    assert 6.2 < s < 6.4
    assert ch01.hbm_ratio(s)
    for wrong, words in [(10.0, "headline"), (56_320 * 1e9 / 8e12, "1 GHz"), (20_480 * 0.9e9 / 8e12, "stream"),
                         (s * 2, "2×"), (s * 1e3, "1000×")]:
        assert not ch01.hbm_ratio(wrong)
        assert words in capsys.readouterr().out
    assert ch01.hbm_claim("headline-only")
    assert not ch01.hbm_claim("holds") and not ch01.hbm_claim("false")
    assert not ch01.hbm_claim("maybe")


@pytest.mark.parametrize("checker", [ch01.hop_latency, ch01.peak_tops, ch01.fixed_program, ch01.relu_layer,
                                     ch01.hbm_ratio, ch01.hbm_claim])
def test_not_attempted(checker, capsys):
    assert checker(...) is False
    assert checker(None) is False
    assert "not attempted" in capsys.readouterr().out
    # a stubbed function (returns None) is "not attempted" too
    if checker is ch01.relu_layer:
        def stub(W, x, b):
            ...  # YOUR CODE HERE
        assert checker(stub) is False
        assert "not attempted" in capsys.readouterr().out


def test_audit_traps(capsys):
    g = Geometry.faithful()
    s = _hop()
    assert not ch01.hop_latency(s / g.clock_hz * 1e9)
    assert "nanoseconds" in capsys.readouterr().out
    assert not ch01.peak_tops(2 * macs_per_cycle(g) / 4 * 1e9 / 1e12)
    assert "FP16" in capsys.readouterr().out
    assert not ch01.hbm_ratio(1 / _ratio())
    assert "GPU ÷ TSP" in capsys.readouterr().out
    for ok in (ch01.hop_latency(s), ch01.hbm_ratio(_ratio())):
        assert ok
    out = capsys.readouterr().out
    assert str(s) not in out and f"{_ratio():.2f}" not in out


# --- issue 15: odd answers get one line, never a traceback ----------------------------------------------------
ODD = [10**400, -10**400, np.array(["a"]), np.array([None], dtype=object), float("nan"), float("inf"), "abc", True,
       [1, 2], {}, np.array([1.0, 2.0]), 1e308, object(), complex(1, 2)]


@pytest.mark.parametrize("name", ["hop_latency", "peak_tops", "hbm_ratio", "hbm_claim", "fixed_program",
                                  "relu_layer"])
@pytest.mark.parametrize("answer", ODD, ids=range(len(ODD)))
def test_odd_answers_print_one_line(name, answer, capsys):
    assert getattr(ch01, name)(answer) is False
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "Traceback" not in out


@pytest.mark.parametrize("args", [(1, True, "abc"), (10**400, True, 1e-6), (1, "x", 1e-6), (float("nan"), True, 1e-6)])
def test_pipeline_16_odd_answers_print_one_line(args, capsys):
    from labsim.check import ch02
    assert ch02.pipeline_16(*args) is False
    assert capsys.readouterr().out.count("\n") == 1
