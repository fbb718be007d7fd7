"""The start notebook's tour and warm-up checks (labsim.viz.ch00, labsim.check.ch00)."""
from __future__ import annotations

import math

import pytest

from labsim import catalog
from labsim.check import ch00 as check
from labsim.errors import LabsimError, UnknownNameError
from labsim.viz import ch00


def test_tour_hand_computed():
    lpu, gpu = ch00.tour("llama-3.3-70b", ("groq-lpu-v1", "nvidia-h100-sxm"), ("int8", "fp8"), context_tokens=0)
    m = catalog.model("llama-3.3-70b")
    # ~70.6e9 int8 bytes / 230e6 bytes per chip → 307 chips (the report's "naive ≈300")
    assert lpu.chips_to_hold_weights == math.ceil(m.params_total() / 230e6) == 307
    assert gpu.chips_to_hold_weights == 1
    # batch-1 ceiling with no context: bandwidth / active weight bytes (dense model: all weights)
    assert lpu.ceiling_tokens_per_s == pytest.approx(80e12 / m.params_total())
    assert lpu.ceiling_tokens_per_s / gpu.ceiling_tokens_per_s == pytest.approx(80 / 3.35)


def test_context_lowers_ceiling_and_moe_reads_active_only():
    short, long = (ch00.tour("llama-3.3-70b", ("nvidia-h100-sxm",), ("fp8",), c)[0] for c in (0, 32768))
    assert long.ceiling_tokens_per_s < short.ceiling_tokens_per_s
    moe = ch00.tour("qwen3-235b-a22b", ("nvidia-b300",), ("fp8",), 0)[0]
    m = catalog.model("qwen3-235b-a22b")
    active_bytes = m.weight_bytes("fp8") * m.params_active() / m.params_total()
    assert moe.ceiling_tokens_per_s == pytest.approx(8e12 / active_bytes)


def test_tour_widget_callback_table():
    text = ch00.tour_table(ch00.tour())
    assert "groq-lpu-v1" in text and "tok/s" in text


def test_tour_bad_input():
    with pytest.raises(UnknownNameError, match="did you mean"):
        ch00.tour("llama-3.3-7b")
    with pytest.raises(LabsimError, match="context_tokens"):
        ch00.tour(context_tokens=-1)


def test_warmup_checks(capsys):
    m = catalog.model("llama-3.1-8b")
    assert check.weight_gb(m.params_total() / 1e9) is True
    assert check.weight_gb(m.params_total()) is False            # bytes instead of GB
    assert check.weight_gb(2 * m.params_total() / 1e9) is False  # bf16 instead of int8
    assert check.weight_gb(...) is False
    out = capsys.readouterr().out
    assert "1000" not in out or "10⁹" in out
    assert f"{m.params_total() / 1e9:.2f}" not in out
    big = catalog.model("llama-3.3-70b")
    assert check.chips_to_hold(math.ceil(big.weight_bytes("int8") / 230e6)) is True
    assert check.chips_to_hold(big.weight_bytes("int8") // 230e6) is False  # rounded down


def test_tour_widget_updates_on_slider_move():
    w = ch00.make_tour_widget()
    before = w.table.value
    assert "groq-lpu-v1" in before and "nvidia-h100-sxm" in before
    w.controls["context_tokens"].value = 131072
    assert w.table.value != before
    w.controls["gpu"].value = "nvidia-b300"
    assert "nvidia-b300" in w.table.value


def test_tour_counts_the_kv_cache():
    # issue 14: at 111,616 tokens the weights (71 GB) and the KV cache (37 GB) no longer fit one 80 GB H100
    from labsim import capacity

    lpu, gpu = ch00.tour("llama-3.3-70b", ("groq-lpu-v1", "nvidia-h100-sxm"), ("int8", "fp8"), context_tokens=111_616)
    assert gpu.chips_to_hold_weights == 1 and gpu.kv_gb == pytest.approx(36.6, abs=0.1)
    assert gpu.chips_to_hold == 2
    for row, prec in ((lpu, "int8"), (gpu, "fp8")):
        assert row.chips_to_hold == capacity.plan("llama-3.3-70b", row.chip, prec, context_tokens=111_616,
                                                  kv_precision="bf16").chips
    assert lpu.chips_to_hold > lpu.chips_to_hold_weights
    text = ch00.tour_table([lpu, gpu])
    assert "+ KV" in text and all(len(line) <= 110 for line in text.splitlines())


def test_tour_speed_is_the_one_decode_model():
    # issue 13: chapter 0's number is chapter 3's decode_time at the same inputs; the headline is only a bound
    from labsim import capacity

    for model, ctx in (("llama-3.3-70b", 4096), ("gpt-oss-120b", 1024), ("llama-3.1-8b", 32768)):
        for row in ch00.tour(model, ("groq-lpu-v1", "nvidia-h100-sxm"), ("int8", "fp8"), context_tokens=ctx):
            d = capacity.decode_time(model, row.chip, chips=row.chips_to_hold, precision=row.precision,
                                     context_tokens=ctx, kv_precision="bf16")
            assert row.decode_tokens_per_s == pytest.approx(d.tokens_per_s, rel=1e-12)
            assert row.decode_bound == d.dominant_bound
            if row.chip == "groq-lpu-v1":
                assert row.decode_tokens_per_s < row.ceiling_tokens_per_s      # the SRAM headline is a bound
