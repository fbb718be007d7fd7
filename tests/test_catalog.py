"""Tests for labsim.catalog: derived parameter counts, KV cache, FLOPs, sources, user entries, errors."""
from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labsim import catalog
from labsim.errors import LabsimError, UnknownNameError
from labsim.precision import PRECISIONS

CHIPS = ["cerebras-cs3", "google-tpu-v1", "google-tpu-v7", "groq-lpu-v1", "nvidia-a100-sxm", "nvidia-b200",
         "nvidia-b300", "nvidia-h100-sxm", "nvidia-h200", "tesla-dojo-d1"]
MODELS = ["deepseek-v3", "gpt-oss-120b", "gpt-oss-20b", "kimi-k2", "llama-2-70b", "llama-2-7b", "llama-3.1-405b",
          "llama-3.1-8b", "llama-3.3-70b", "llama-4-maverick", "llama-4-scout", "mixtral-8x7b", "qwen3-235b-a22b",
          "qwen3-32b"]
MOE = ["deepseek-v3", "gpt-oss-120b", "gpt-oss-20b", "kimi-k2", "llama-4-maverick", "llama-4-scout",
       "mixtral-8x7b", "qwen3-235b-a22b"]


@pytest.fixture(autouse=True)
def _clean_registry():
    catalog._remove_user_entries()
    yield
    catalog._remove_user_entries()


def test_builtin_names():
    assert catalog.chips() == CHIPS
    assert catalog.models() == MODELS


# ---------------------------------------------------------------------------------------------------------
# Hand-computed parameter counts
# ---------------------------------------------------------------------------------------------------------

def test_llama_3_1_8b_params_by_hand():
    # embedding = lm_head = 128,256 x 4,096 = 525,336,576 (untied, so counted twice)
    # per layer: q 4096x4096 = 16,777,216; k, v 4096x(8x128) = 4,194,304 each; o 16,777,216
    #            -> attention 41,943,040
    #            SwiGLU 3 x 4096 x 14336 = 176,160,768; two RMSNorms 2 x 4096 = 8,192
    #            -> layer 218,112,000;  x 32 layers = 6,979,584,000
    # total = 6,979,584,000 + 2 x 525,336,576 + final norm 4,096 = 8,030,261,248
    m = catalog.model("llama-3.1-8b")
    assert m.params_total() == 8_030_261_248
    b = m.param_breakdown()
    assert b["embedding"] == b["lm_head"] == 525_336_576
    assert b["attention"] == 32 * 41_943_040
    assert b["dense_mlp"] == 32 * 176_160_768
    assert b["norms"] == 32 * 8_192 + 4_096
    assert b["routed_experts"] == b["shared_experts"] == b["router"] == 0
    assert m.params_active() == m.params_total()


def test_llama_2_7b_params_by_hand():
    # embedding = lm_head = 32,000 x 4,096 = 131,072,000
    # per layer: MHA 4 x 4096 x 4096 = 67,108,864; SwiGLU 3 x 4096 x 11008 = 135,266,304; norms 8,192
    #            -> 202,383,360;  x 32 = 6,476,267,520
    # total = 6,476,267,520 + 2 x 131,072,000 + 4,096 = 6,738,415,616
    assert catalog.model("llama-2-7b").params_total() == 6_738_415_616


def test_mixtral_params_by_hand():
    # embedding = lm_head = 32,000 x 4,096 = 131,072,000
    # per layer: attention (GQA 32/8, hd 128) 41,943,040; 8 experts x 3 x 4096 x 14336 = 8 x 176,160,768
    #            = 1,409,286,144; router 4096 x 8 = 32,768; norms 8,192 -> 1,451,270,144;  x 32 = 46,440,644,608
    # total = 46,440,644,608 + 262,144,000 + 4,096 = 46,702,792,704  (Mistral: 46.7B)
    # active: drop 6 idle experts x 176,160,768 x 32 layers = 33,822,867,456 -> 12,879,925,248 (Mistral: 12.9B)
    m = catalog.model("mixtral-8x7b")
    assert m.params_total() == 46_702_792_704
    assert m.params_active() == 12_879_925_248


def test_deepseek_v3_breakdown_by_hand():
    # MLA attention per layer (d = 7168, H = 128):
    #   q: 7168 x 1536 + 1536 x 128 x (128 + 64) = 11,010,048 + 37,748,736
    #   kv: 7168 x (512 + 64) + 512 x 128 x (128 + 128) = 4,128,768 + 16,777,216
    #   o: 128 x 128 x 7168 = 117,440,512          -> 187,105,280 per layer, x 61
    # dense FFN (layers 0-2): 3 x 7168 x 18432 = 396,361,728 per layer, x 3
    # MoE (58 layers): 256 routed x 3 x 7168 x 2048 = 256 x 44,040,192; 1 shared expert 44,040,192;
    #   router 7168 x 256 + 256 (score-correction bias) = 1,835,264
    m = catalog.model("deepseek-v3")
    b = m.param_breakdown()
    assert m.num_moe_layers == 58 and m.num_dense_ffn_layers == 3
    assert b["attention"] == 61 * 187_105_280
    assert b["dense_mlp"] == 3 * 396_361_728
    assert b["routed_experts"] == 58 * 256 * 44_040_192
    assert b["shared_experts"] == 58 * 44_040_192
    assert b["router"] == 58 * 1_835_264
    # the MTP layer is recorded but not counted: 671,026,419,200 (DeepSeek: 671B main model)
    assert m.num_mtp_layers == 1
    assert m.params_total() == 671_026_419_200


# Published totals (model cards / announcements) vs our derivation. rtol states how far we accept; reasons:
# Llama 4 totals include the vision encoder we do not count (~0.8-1B); Kimi K2's "1.04T" is the brief's figure
# (the README rounds to "1T"), our architecture count is 1.026T; "active" figures are rounded by their authors.
PUBLISHED = {  # name: (total, rtol_total, active, rtol_active)
    "llama-2-7b": (6.74e9, 0.005, None, None),
    "llama-2-70b": (69.0e9, 0.005, None, None),
    "llama-3.1-8b": (8.03e9, 0.005, None, None),
    "llama-3.3-70b": (70.6e9, 0.005, None, None),
    "llama-3.1-405b": (405e9, 0.005, None, None),
    "qwen3-32b": (32.8e9, 0.005, None, None),
    "qwen3-235b-a22b": (235e9, 0.005, 22e9, 0.03),
    "gpt-oss-20b": (20.9e9, 0.005, None, None),
    "gpt-oss-120b": (116.8e9, 0.005, None, None),
    "mixtral-8x7b": (46.7e9, 0.005, 12.9e9, 0.01),
    "deepseek-v3": (671e9, 0.005, 37e9, 0.03),
    "kimi-k2": (1.04e12, 0.015, 32e9, 0.03),
    "llama-4-scout": (109e9, 0.015, 17e9, 0.02),
    "llama-4-maverick": (400e9, 0.005, 17e9, 0.02),
}


@pytest.mark.parametrize("name", MODELS)
def test_params_vs_published(name):
    total, rt, active, ra = PUBLISHED[name]
    m = catalog.model(name)
    assert m.params_total() == pytest.approx(total, rel=rt)
    if active is not None:
        assert m.params_active() == pytest.approx(active, rel=ra)


def test_gpt_oss_active_without_embedding_matches_openai():
    # OpenAI's model card counts active parameters without the embedding table: 5.13B and 3.61B
    assert catalog.model("gpt-oss-120b").params_active(include_embedding=False) == pytest.approx(5.13e9, rel=0.002)
    assert catalog.model("gpt-oss-20b").params_active(include_embedding=False) == pytest.approx(3.61e9, rel=0.002)


@pytest.mark.parametrize("name", MODELS)
def test_breakdown_sums_and_active(name):
    m = catalog.model(name)
    b = m.param_breakdown()
    assert b["total"] == sum(v for k, v in b.items() if k != "total") == m.params_total()
    if name in MOE:
        assert 0 < m.params_active() < m.params_total()
        assert b["routed_experts"] > 0 and b["router"] > 0
    else:
        assert m.params_active() == m.params_total()


def test_layer_patterns():
    assert catalog.model("llama-4-maverick").num_moe_layers == 24       # odd layers only (step 2)
    assert catalog.model("llama-4-scout").num_moe_layers == 48
    assert catalog.model("kimi-k2").num_moe_layers == 60                # first 1 dense
    assert catalog.model("qwen3-235b-a22b").param_breakdown()["dense_mlp"] == 0  # 12288 FFN unused
    g = catalog.model("gpt-oss-20b")
    assert (g.num_full_attention_layers, g.num_local_attention_layers) == (12, 12)
    s = catalog.model("llama-4-scout")
    assert (s.num_full_attention_layers, s.num_local_attention_layers) == (12, 36)


# ---------------------------------------------------------------------------------------------------------
# KV cache, weight bytes, FLOPs
# ---------------------------------------------------------------------------------------------------------

def test_kv_bytes_per_token_by_hand():
    # GQA: layers x 2 (K and V) x kv_heads x head_dim x 2 bytes (bf16)
    assert catalog.model("llama-3.3-70b").kv_cache_bytes_per_token("bf16") == 80 * 2 * 8 * 128 * 2 == 327_680
    assert catalog.model("llama-2-7b").kv_cache_bytes_per_token() == 32 * 2 * 32 * 128 * 2  # MHA
    assert catalog.model("qwen3-235b-a22b").kv_cache_bytes_per_token() == 94 * 2 * 4 * 128 * 2
    # MLA: layers x (kv_lora_rank + qk_rope_head_dim) x 2 bytes = 61 x 576 x 2
    assert catalog.model("deepseek-v3").kv_cache_bytes_per_token() == 61 * 576 * 2 == 70_272
    assert catalog.model("kimi-k2").kv_cache_bytes_per_token() == 70_272
    assert catalog.model("llama-3.3-70b").kv_cache_bytes_per_token("fp8") == 163_840


def test_kv_cache_sliding_window():
    m = catalog.model("gpt-oss-120b")
    per_layer = 2 * 8 * 64 * 2                                   # 2,048 B per token per layer at bf16
    # 18 full layers keep 10,000 tokens, 18 sliding layers keep 128
    assert m.kv_cache_bytes(10_000) == per_layer * (18 * 10_000 + 18 * 128)
    assert m.kv_cache_bytes(100) == m.kv_cache_bytes_per_token() * 100   # below the window: all layers full
    assert m.kv_cache_bytes(10_000, cap_local=False) == m.kv_cache_bytes_per_token() * 10_000
    assert m.kv_cache_bytes(10_000, batch=4) == 4 * m.kv_cache_bytes(10_000)
    dense = catalog.model("llama-3.1-8b")
    assert dense.kv_cache_bytes(4096, "bf16", batch=2) == 2 * 4096 * dense.kv_cache_bytes_per_token()


def test_kv_cache_array_input():
    m = catalog.model("llama-4-scout")
    ctx = np.array([0, 100, 8192, 100_000])
    out = m.kv_cache_bytes(ctx)
    assert out.shape == (4,)
    assert list(out) == [m.kv_cache_bytes(int(c)) for c in ctx]


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(MODELS), a=st.integers(0, 2_000_000), b=st.integers(0, 2_000_000))
def test_kv_and_flops_monotone_in_context(name, a, b):
    m = catalog.model(name)
    lo, hi = min(a, b), max(a, b)
    assert m.kv_cache_bytes(lo) <= m.kv_cache_bytes(hi)
    assert m.flops_per_token(lo) <= m.flops_per_token(hi)
    assert m.kv_cache_bytes(hi) <= m.kv_cache_bytes_per_token() * hi + 1e-6


@pytest.mark.parametrize("name", MODELS)
def test_weight_bytes_scales_with_precision(name):
    m = catalog.model(name)
    n = m.params_total()
    assert m.weight_bytes("bf16") == 2 * n
    assert m.weight_bytes("fp32") == 2 * m.weight_bytes("bf16") == 4 * m.weight_bytes("fp8")
    assert m.weight_bytes("int4") == n / 2
    assert m.weight_bytes("mxfp4") == pytest.approx(n * 4.25 / 8)
    if name in MOE:
        mixed = m.weight_bytes("bf16", expert_precision="mxfp4")
        assert m.weight_bytes("mxfp4") < mixed < m.weight_bytes("bf16")
    else:
        assert m.weight_bytes("bf16", expert_precision="mxfp4") == m.weight_bytes("bf16")


def test_gpt_oss_120b_released_size():
    # experts: 36 layers x 128 x 3 x 2880 x 2880 = 114,661,785,600 params at MXFP4 (4.25 bits) = 60.9 GB;
    # the other ~2.17B params (attention, router, embeddings, lm_head, biases) at BF16 = 4.3 GB -> ~65 GB,
    # which is why OpenAI says the model fits on one 80 GB GPU.
    m = catalog.model("gpt-oss-120b")
    assert m._expert_matmul_params() == 114_661_785_600
    assert m.weight_bytes("bf16", expert_precision="mxfp4") == pytest.approx(65.2e9, rel=0.01)


def test_flops_per_token_formula():
    m = catalog.model("llama-3.1-8b")
    b = m.param_breakdown()
    # at zero context: 2 x matmul weights (everything except the embedding lookup and the norms)
    assert m.flops_per_token(0) == 2 * (b["total"] - b["embedding"] - b["norms"])
    # each extra context token adds QK^T + AV = 2 x 2 x heads x head_dim per layer = 4 x 32 x 128 x 32
    assert m.flops_per_token(1000) - m.flops_per_token(0) == 1000 * 4 * 32 * 128 * 32
    # MoE: only the routed experts a token uses count
    mx = catalog.model("mixtral-8x7b")
    assert mx.flops_per_token(0) < 2 * mx.params_active()
    # sliding layers stop growing past their window
    g = catalog.model("gpt-oss-20b")
    slope_far = g.flops_per_token(20_000) - g.flops_per_token(10_000)
    assert slope_far == 10_000 * 12 * 2 * 64 * (64 + 64)          # only the 12 full layers
    arr = g.flops_per_token(np.array([0, 10, 10_000]))
    assert arr.shape == (3,) and arr[0] == g.flops_per_token(0)


def test_context_validation():
    m = catalog.model("llama-3.1-8b")
    with pytest.raises(LabsimError, match="context_tokens"):
        m.kv_cache_bytes(-1)
    with pytest.raises(LabsimError, match="context_tokens"):
        m.flops_per_token(float("nan"))
    with pytest.raises(UnknownNameError, match="did you mean 'bf16'"):
        m.weight_bytes("bf17")


# ---------------------------------------------------------------------------------------------------------
# Chips
# ---------------------------------------------------------------------------------------------------------

def test_groq_capacity_both_units():
    g = catalog.chip("groq-lpu-v1")
    assert g.memory_kind == "sram"
    assert g.memory_bytes == 230e6                       # product brief, decimal
    assert g.memory_bytes_geometry == 220 * 2**20        # ISCA geometry, 88 slices x 2.5 MiB
    assert g.memory_bandwidth_paper_bytes_per_s == 56_320 * 900e6
    assert g.peak_ops("int8") == 750e12
    assert "220 MiB" in g.notes and "80 TB/s" in g.notes and "64" in g.notes
    assert g.sources["memory_bytes"].startswith("[groq-brief]")                 # the raw citation string
    assert g.citation("memory_bytes").startswith("Groq, GroqChip product brief")  # and its readable form


def test_chip_fields_and_peak_errors():
    h = catalog.chip("nvidia-h100-sxm")
    assert h.memory_kind == "hbm" and h.memory_bytes == 80e9 and h.power_w == 700
    assert h.peak_ops("fp8") == pytest.approx(2 * h.peak_ops("bf16"), rel=1e-3)  # 1978.9 vs 2 x 989.4
    assert catalog.chip("nvidia-h200").price_usd is None         # unpublished -> None
    with pytest.raises(LabsimError, match="available: fp16, int8"):
        catalog.chip("groq-lpu-v1").peak_ops("fp8")
    with pytest.raises(UnknownNameError):
        h.peak_ops("fp9")
    with pytest.raises(AttributeError):
        h.no_such_field  # noqa: B018
    with pytest.raises(dataclasses.FrozenInstanceError):
        h.memory_bytes = 1


@pytest.mark.parametrize("name", CHIPS)
def test_every_chip_loads(name):
    c = catalog.chip(name)
    assert c.memory_bytes > 0 and c.memory_bandwidth_bytes_per_s > 0 and c.notes.strip()
    for p in c.peak_ops_per_s:
        assert p in PRECISIONS
    hash(c)


# ---------------------------------------------------------------------------------------------------------
# Sources: every numeric leaf in every data file is a {value, source} table with a non-empty source
# ---------------------------------------------------------------------------------------------------------

DATA_FILES = sorted((catalog.DATA_DIR / "chips").glob("*.toml")) + sorted((catalog.DATA_DIR / "models").glob("*.toml"))


def _leaves(node, path=()):
    """Yield (path, value) for every number/bool leaf, and (path, table) for {value, source} tables."""
    if isinstance(node, dict):
        if "value" in node:
            yield path, node
            return
        for k, v in node.items():
            yield from _leaves(v, path + (k,))
    elif isinstance(node, (int, float)):  # bool is an int: also must be sourced
        yield path, node


@pytest.mark.parametrize("path", DATA_FILES, ids=lambda p: p.stem)
def test_every_number_has_a_source(path: Path):
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    assert isinstance(data.get("notes"), str) and data["notes"].strip(), f"{path.name}: notes missing"
    n = 0
    for where, leaf in _leaves(data):
        assert isinstance(leaf, dict), f"{path.name}: {'.'.join(where)} = {leaf!r} is a bare number (no source)"
        assert isinstance(leaf.get("source"), str) and leaf["source"].strip(), f"{path.name}: {'.'.join(where)}"
        if isinstance(leaf["value"], (int, float)):
            n += 1
    assert n >= 3
    assert data["name"] == path.stem


def test_models_carry_no_typed_param_counts():
    for path in DATA_FILES:
        text = path.read_text()
        for banned in ("params_total", "params_active", "num_parameters"):
            assert banned not in text.split('"""')[-1], f"{path.name} types in {banned}"


# ---------------------------------------------------------------------------------------------------------
# Unknown names, user entries, bad entries
# ---------------------------------------------------------------------------------------------------------

def test_unknown_names_suggest():
    with pytest.raises(UnknownNameError) as e:
        catalog.model("llama-3.1-8")
    msg = str(e.value)
    assert "did you mean 'llama-3.1-8b'" in msg and "qwen3-32b" in msg
    assert isinstance(e.value, LabsimError) and isinstance(e.value, KeyError)
    with pytest.raises(UnknownNameError, match="did you mean 'nvidia-h100-sxm'"):
        catalog.chip("nvidia-h100")


TINY = {"name": "tiny-1b", "num_layers": 2, "hidden_size": 64, "num_heads": 4, "num_kv_heads": 2, "head_dim": 16,
        "intermediate_size": 128, "vocab_size": 100, "tie_word_embeddings": True}


def test_add_model_from_dict():
    m = catalog.add_model(TINY)
    assert "tiny-1b" in catalog.models() and catalog.model("tiny-1b") is m
    # tied: embedding 6,400 once; per layer q 64x64 + k,v 64x32 each + o 64x64 = 12,288; FFN 3x64x128 = 24,576;
    # norms 128 -> 36,992 x 2 = 73,984; + 6,400 + final norm 64 = 80,448
    assert m.params_total() == 80_448
    assert m.sources["hidden_size"] == "user entry (no source given)"
    with pytest.raises(LabsimError, match="already exists"):
        catalog.add_model(TINY)
    catalog.add_model({**TINY, "num_layers": 4}, replace=True)
    assert catalog.model("tiny-1b").num_layers == 4


def test_add_chip_from_dict_and_file(tmp_path):
    c = catalog.add_chip({"name": "my-chip", "memory_kind": "hbm", "memory_bytes": 1e9,
                          "memory_bandwidth_bytes_per_s": {"value": 1e12, "source": "my lab notebook"},
                          "peak_ops_per_s": {"bf16": 1e14}})
    assert c.peak_ops("bf16") == 1e14 and c.sources["memory_bandwidth_bytes_per_s"] == "my lab notebook"
    assert c.clock_hz is None and "my-chip" in catalog.chips()
    f = tmp_path / "file-chip.toml"
    f.write_text('name = "file-chip"\nmemory_kind = "sram"\nmemory_bytes = { value = 5e8, source = "x" }\n'
                 'memory_bandwidth_bytes_per_s = 2e13\n[peak_ops_per_s]\nint8 = 1e15\n[extra]\nfoo = 3\n')
    fc = catalog.add_chip(f)
    assert catalog.chip("file-chip").memory_bytes == 5e8 and fc.foo == 3


def test_add_model_from_file(tmp_path):
    f = tmp_path / "m.toml"
    lines = [f'{k} = {str(v).lower() if isinstance(v, bool) else repr(v)}' for k, v in TINY.items()
             if k != "name"]
    f.write_text('name = "file-model"\n' + "\n".join(lines).replace("'", '"') + "\n")
    m = catalog.add_model(str(f))
    assert catalog.model("file-model").params_total() == 80_448 and m.origin == str(f)
    assert catalog.load_model(f).name == "file-model"                 # load without registering


@pytest.mark.parametrize("bad, pattern", [
    ({k: v for k, v in TINY.items() if k != "hidden_size"}, r"missing field 'hidden_size'"),
    ({**TINY, "hidden_size": -64}, r"hidden_size = -64 is out of range"),
    ({**TINY, "num_layers": 2.5}, r"num_layers must be an integer"),
    ({**TINY, "hiden_size": 64}, r"unknown field 'hiden_size' \(did you mean 'hidden_size'\?\)"),
    ({**TINY, "tie_word_embeddings": "yes"}, r"tie_word_embeddings must be true or false"),
    ({**TINY, "num_experts": 8}, r"experts_per_token = 0 must be > 0"),
    ({**TINY, "num_experts": 4, "experts_per_token": 8, "moe_intermediate_size": 32}, r"exceeds num_experts"),
    ({**TINY, "num_kv_heads": 3}, r"not a multiple"),
    ({**TINY, "qk_norm": "layernorm"}, r"qk_norm"),
    ({**TINY, "hidden_size": {"source": "x"}}, r"without 'value'"),
])
def test_bad_model_entries(bad, pattern):
    with pytest.raises(LabsimError, match=pattern) as e:
        catalog.add_model(bad)
    assert "tiny-1b" in str(e.value) or "?" in str(e.value)      # names the entry
    assert "tiny-1b" not in catalog.models()


def test_bad_chip_entries(tmp_path):
    base = {"name": "bad-chip", "memory_kind": "hbm", "memory_bytes": 1e9, "memory_bandwidth_bytes_per_s": 1e12}
    with pytest.raises(UnknownNameError, match=r"int9.*did you mean 'int8'"):
        catalog.add_chip({**base, "peak_ops_per_s": {"int9": 1e15}})
    with pytest.raises(LabsimError, match=r"memory_bytes = -1.0 is out of range"):
        catalog.add_chip({**base, "memory_bytes": -1.0})
    with pytest.raises(LabsimError, match=r"memory kind"):
        catalog.add_chip({**base, "memory_kind": "flash"})
    with pytest.raises(LabsimError, match=r"missing field 'memory_bandwidth_bytes_per_s'"):
        catalog.add_chip({k: v for k, v in base.items() if k != "memory_bandwidth_bytes_per_s"})
    f = tmp_path / "broken.toml"
    f.write_text('name = "broken"\nmemory_kind = "hbm"\nmemory_bytes = { value = 0, source = "s" }\n'
                 'memory_bandwidth_bytes_per_s = 1e12\n')
    with pytest.raises(LabsimError, match=r"broken\.toml: memory_bytes = 0"):
        catalog.add_chip(f)
    f.write_text("name = [\n")
    with pytest.raises(LabsimError, match="not valid TOML"):
        catalog.load_chip(f)
    with pytest.raises(LabsimError, match="not found"):
        catalog.load_chip(tmp_path / "nope.toml")
    with pytest.raises(LabsimError, match="path to a .toml file or a dict"):
        catalog.add_chip(42)
    assert catalog.chips() == CHIPS


def test_builtin_files_require_sources(monkeypatch, tmp_path):
    # a file inside the data folder must give a source for every number
    d = tmp_path / "data" / "chips"
    d.mkdir(parents=True)
    f = d / "x.toml"
    f.write_text('name = "x"\nmemory_kind = "hbm"\nmemory_bytes = 1e9\nmemory_bandwidth_bytes_per_s = 1e12\n')
    monkeypatch.setattr(catalog, "DATA_DIR", tmp_path / "data")
    with pytest.raises(LabsimError, match=r"x\.toml: field 'memory_bytes' = 1000000000.0 has no source"):
        catalog.load_chip(f)


def test_entries_pickle_and_stay_read_only():
    import pickle
    c = pickle.loads(pickle.dumps(catalog.chip("groq-lpu-v1")))
    assert c == catalog.chip("groq-lpu-v1") and c.memory_bytes_geometry == 220 * 2**20
    with pytest.raises(TypeError):
        c.peak_ops_per_s["fp8"] = 1.0
    m = pickle.loads(pickle.dumps(catalog.model("kimi-k2")))
    assert m.params_total() == catalog.model("kimi-k2").params_total()
    with pytest.raises(TypeError):
        m.sources["x"] = "y"


def test_extra_sources_and_clashes():
    g = catalog.chip("groq-lpu-v1")
    assert "[isca20]" in g.sources["memory_bytes_geometry"] and "[alcf-groq]" in g.sources["peak_ops_per_s.int8"]
    assert "ISCA 2020" in g.citation("memory_bytes_geometry") and "ALCF" in g.citation("peak_ops_per_s.int8")
    base = {"name": "c", "memory_kind": "hbm", "memory_bytes": 1e9, "memory_bandwidth_bytes_per_s": 1e12}
    with pytest.raises(LabsimError, match="clashes"):
        catalog.load_chip({**base, "extra": {"notes": 1}})
