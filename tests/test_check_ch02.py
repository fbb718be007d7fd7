"""Chapter-2 checkers: the solution passes, typical wrong answers fail, `...` is 'not attempted' (no raise)."""
import numpy as np
import pytest

from labsim import multichip as mc
from labsim import schedule as S
from labsim.check import ch02
from labsim.check._core import NOT_ATTEMPTED


@pytest.fixture(scope="module")
def per_stage_s():
    return S.list_schedule(S.decoder_layer_graph()).makespan_s()


def test_critical_path(capsys):
    length, path = S.critical_path(S.example_graph())
    assert ch02.critical_path(length)
    assert not ch02.critical_path(length - 21)          # forgot the weight install
    assert not ch02.critical_path(length - len(path))   # forgot the hops
    assert not ch02.critical_path(2 * length)
    assert not ch02.critical_path(...)
    out = capsys.readouterr().out
    assert NOT_ATTEMPTED in out
    assert f" {length}" not in out


def test_asap_scheduler(capsys):
    assert ch02.asap_scheduler(S.asap_start_cycles)
    assert not ch02.asap_scheduler(lambda g: {n.id: 0 for n in g.nodes})
    # earliest input instead of latest: wrong
    def wrong(g):
        st = {}
        for n in g.nodes:
            st[n.id] = min((st[i] + S.node_latency(g, i) for i in n.inputs), default=0)
        return st
    assert not ch02.asap_scheduler(wrong)
    assert not ch02.asap_scheduler(lambda g: 1 / 0)
    assert not ch02.asap_scheduler(...)
    def stub(g):
        ...
    assert not ch02.asap_scheduler(stub)
    assert NOT_ATTEMPTED in capsys.readouterr().out


def test_p99_from_samples(capsys):
    s = ch02.ex_p99_samples()
    p50, p99 = np.percentile(s, [50, 99])
    assert ch02.p99_from_samples(p99 * 1e6, p99 / p50)
    assert ch02.p99_from_samples(np.percentile(s, 99, method="lower") * 1e6, p99 / p50)
    assert not ch02.p99_from_samples(p99, p99 / p50)                 # seconds, not µs
    assert not ch02.p99_from_samples(p50 * 1e6, p99 / p50)           # the median
    assert not ch02.p99_from_samples(p99 * 1e6, p50 / p99)           # ratio upside down
    assert not ch02.p99_from_samples(..., ...)
    out = capsys.readouterr().out
    assert f"{p99 * 1e6:.1f}" not in out


def test_stream_conflict():
    assert ch02.stream_conflict(4, "E3")
    assert not ch02.stream_conflict(4, "E0")      # unchanged: still collides
    assert not ch02.stream_conflict(4, "W0")      # wrong direction: never reaches the VXM
    assert not ch02.stream_conflict(5, "E3")      # wrong cycle
    assert not ch02.stream_conflict(4, "E99")     # not a stream on mini
    assert not ch02.stream_conflict(..., "E3")


def test_pipeline_16(per_stage_s):
    exp = mc.pipeline_latency_s(16, per_stage_s) * 1e6
    assert ch02.pipeline_16(exp, True, per_stage_s)
    assert not ch02.pipeline_16(exp, False, per_stage_s)
    assert not ch02.pipeline_16((16 * per_stage_s + 15 * 0.6e-6) * 1e6, True, per_stage_s)   # 15 hops
    assert not ch02.pipeline_16(16 * per_stage_s * 1e6, True, per_stage_s)                   # no hops
    assert not ch02.pipeline_16(exp / 1e6, True, per_stage_s)                                # seconds
    assert not ch02.pipeline_16(..., True, per_stage_s)


def test_cliff_claim():
    assert ch02.cliff_claim(False)
    assert not ch02.cliff_claim(True)
    assert not ch02.cliff_claim("no")
    assert not ch02.cliff_claim(...)


def test_more_typical_slips(per_stage_s, capsys):
    # exercise 1: adding every node's latency (not the longest chain) is wrong
    g = S.example_graph()
    assert not ch02.critical_path(sum(S.node_latency(g, n.id) for n in g.nodes))
    # exercise 3: a negative P99 (sign slip) fails
    s = ch02.ex_p99_samples()
    p50, p99 = np.percentile(s, [50, 99])
    assert not ch02.p99_from_samples(-p99 * 1e6, p99 / p50)
    # exercise 5: the ISCA-2022-based hop (≈ 0.29 µs) or 1.2 µs per hop is not the report's Fig 6 rate
    isca = mc.pipeline_latency_s(16, per_stage_s, hop_source="link") * 1e6
    assert not ch02.pipeline_16(isca, True, per_stage_s)
    assert not ch02.pipeline_16((16 * per_stage_s + 16 * 1.2e-6) * 1e6, True, per_stage_s)
    # exercise 2: a function that breaks only on the big graph gives feedback, not a traceback
    def brittle(gr):
        if len(gr.nodes) > 100:
            raise RuntimeError("too big")
        return S.asap_start_cycles(gr)
    assert not ch02.asap_scheduler(brittle)
    out = capsys.readouterr().out
    exp = mc.pipeline_latency_s(16, per_stage_s) * 1e6
    assert f"{exp:.2f}" not in out and f"{p99 * 1e6:.1f}" not in out
