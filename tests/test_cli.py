"""The analyst CLI (labsim/cli.py): every subcommand prints a table, --json parses and agrees with the library,
and bad input gives exit status 2 with ONE line on stderr that names the valid choices."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from labsim import capacity, catalog, latency, tco
from labsim.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        rc = main(list(argv))
    except SystemExit as exc:  # argparse usage errors and --help exit through SystemExit
        rc = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return rc, out, err


def run_json(capsys, *argv: str):
    rc, out, err = run(capsys, *argv, "--json")
    assert rc == 0, err
    return json.loads(out)


# ------------------------------------------------------------------------------------------------ catalog

def test_chips_table_lists_every_chip(capsys):
    rc, out, err = run(capsys, "chips")
    assert rc == 0 and err == ""
    for name in catalog.chips():
        assert name in out
    assert "capacity" in out.splitlines()[0]


def test_chips_json(capsys):
    data = run_json(capsys, "chips")
    assert [c["name"] for c in data] == catalog.chips()
    c = catalog.chip(data[0]["name"])
    assert data[0]["memory_bytes"] == c.memory_bytes


def test_models_table_and_json(capsys):
    rc, out, _ = run(capsys, "models")
    assert rc == 0
    for name in catalog.models():
        assert name in out
    data = run_json(capsys, "models")
    assert [m["name"] for m in data] == catalog.models()
    m = catalog.model(data[0]["name"])
    assert data[0]["params_total"] == m.params_total()


# ------------------------------------------------------------------------------------------------ plan

def test_plan_table(capsys):
    rc, out, err = run(capsys, "plan", "llama-3.3-70b", "groq-lpu-v1", "--precision", "int8", "--context", "4096")
    assert rc == 0, err
    p = capacity.plan("llama-3.3-70b", "groq-lpu-v1", "int8", context_tokens=4096)
    assert f"{p.chips:,}" in out
    for word in ("weights", "KV cache", "chips", "tokens/s per user", "dominant bound"):
        assert word in out


def test_plan_json_matches_library(capsys):
    d = run_json(capsys, "plan", "llama-3.1-8b", "nvidia-h100-sxm", "--precision", "bf16", "--context", "8192",
                 "--batch", "4")
    p = capacity.plan("llama-3.1-8b", "nvidia-h100-sxm", "bf16", context_tokens=8192, batch=4)
    t = capacity.decode_time("llama-3.1-8b", "nvidia-h100-sxm", precision="bf16", context_tokens=8192, batch=4)
    assert d["plan"]["chips"] == p.chips
    assert d["plan"]["weight_bytes"] == pytest.approx(p.weight_bytes)
    assert d["plan"]["context_tokens"] == 8192 and d["plan"]["batch"] == 4
    assert d["decode"]["tokens_per_s"] == pytest.approx(t.tokens_per_s)
    assert d["decode"]["dominant_bound"] == t.dominant_bound
    assert set(d["plan"]["breakdown_bytes"]) >= {"weights", "kv_cache"}


def test_plan_default_context_is_the_models(capsys):
    d = run_json(capsys, "plan", "llama-3.1-8b", "groq-lpu-v1")
    assert d["plan"]["context_tokens"] == capacity.ASSUMPTIONS["context_tokens"].value


def test_plan_with_chips(capsys):
    need = capacity.plan("llama-3.1-8b", "groq-lpu-v1").chips
    d = run_json(capsys, "plan", "llama-3.1-8b", "groq-lpu-v1", "--chips", str(need * 2))
    assert d["decode"]["chips"] == need * 2


def test_plan_still_shown_when_decode_cannot_be_modelled(capsys):
    """A chip without a published peak: the memory plan is printed, the decode time is n/a (exit 0)."""
    from labsim.errors import LabsimError

    for chip in catalog.chips():
        try:
            capacity.decode_time("llama-3.1-8b", chip)
        except LabsimError:
            break
    else:
        pytest.skip("every catalog chip has a decode model")
    d = run_json(capsys, "plan", "llama-3.1-8b", chip)
    assert d["decode"] is None and d["decode_error"]
    assert d["plan"]["chips"] == capacity.plan("llama-3.1-8b", chip).chips
    rc, out, _ = run(capsys, "plan", "llama-3.1-8b", chip)
    assert rc == 0 and "decode time not modelled" in out


# ------------------------------------------------------------------------------------------------ tco

@pytest.mark.parametrize("preset", ["gpu-latency", "gpu-throughput", "groq-cost", "groq-60gpm"])
def test_tco_presets_json_match_evaluate(capsys, preset):
    d = run_json(capsys, "tco", "--preset", preset)
    assert d["preset"] == preset and d["changed"] == []
    assert d["result"]["usd_per_mtok"] == pytest.approx(tco.evaluate(tco.REPORT_FIG11[preset]).usd_per_mtok)


def test_tco_set_changes_inputs(capsys):
    d = run_json(capsys, "tco", "--preset", "groq-cost", "--set", "utilization=0.6", "--set", "batch=4")
    want = tco.evaluate(tco.REPORT_FIG11["groq-cost"].replace(utilization=0.6, batch=4.0))
    assert d["changed"] == ["batch", "utilization"]
    assert d["inputs"]["utilization"] == 0.6
    assert d["result"]["usd_per_mtok"] == pytest.approx(want.usd_per_mtok)
    rc, out, _ = run(capsys, "tco", "--preset", "groq-cost", "--set", "utilization=0.6")
    assert rc == 0 and "* utilization" in out and "cost per million tokens" in out


def test_tco_set_bool_input(capsys):
    d = run_json(capsys, "tco", "--preset", "gpu-latency", "--set", "utilization_derates_tokens=true")
    assert d["inputs"]["utilization_derates_tokens"] is True


# ------------------------------------------------------------------------------------------------ budget

def test_budget_table_and_json(capsys):
    rc, out, err = run(capsys, "budget", "--slo", "2", "--speed", "300", "--steps", "3")
    assert rc == 0, err
    assert "max reasoning tokens per step" in out
    d = run_json(capsys, "budget", "--slo", "2", "--speed", "300", "--steps", "3")
    want = latency.plan_budget(2.0, 300.0, steps=3, ttft_s=0.0)
    assert d["budget"]["max_reasoning_tokens"] == want.max_reasoning_tokens
    assert d["budget"]["meets_slo"] is True


def test_budget_named_threshold_model_chip_and_price(capsys):
    d = run_json(capsys, "budget", "--slo", "voice_turn", "--model", "llama-3.1-8b", "--chip", "groq-lpu-v1",
                 "--platform", "lpu", "--tco-preset", "groq-cost", "--samples", "2000")
    assert d["slo_s"] == latency.threshold_s("voice_turn")
    assert d["decode_tokens_per_s"] == pytest.approx(latency.decode_speed("llama-3.1-8b", "groq-lpu-v1"))
    assert d["budget"]["cost_per_task_usd"] is not None


# ------------------------------------------------------------------------------------------------ bad input

BAD = [
    # (argv, a valid choice the one-line message must name)
    (["plan", "llama-3.3-70x", "groq-lpu-v1"], "llama-3.3-70b"),
    (["plan", "llama-3.3-70b", "groq"], "groq-lpu-v1"),
    (["plan", "llama-3.3-70b", "groq-lpu-v1", "--precision", "int7"], "int8"),
    (["plan", "llama-3.3-70b", "groq-lpu-v1", "--context", "-5"], "allowed"),
    (["plan", "llama-3.3-70b", "groq-lpu-v1", "--batch", "0"], "allowed"),
    (["plan", "llama-3.3-70b", "groq-lpu-v1", "--context", "abc"], "invalid int value"),
    (["plan", "llama-3.3-70b", "groq-lpu-v1", "--chips", "3"], "allowed"),
    (["plan", "llama-3.3-70b"], "required"),
    (["tco", "--preset", "groq"], "groq-cost"),
    (["tco"], "--preset"),
    (["tco", "--preset", "groq-cost", "--set", "utilisation=0.5"], "utilization"),
    (["tco", "--preset", "groq-cost", "--set", "utilization=abc"], "must be a number"),
    (["tco", "--preset", "groq-cost", "--set", "utilization=1.5"], "allowed"),
    (["tco", "--preset", "groq-cost", "--set", "pue"], "name=value"),
    (["budget", "--slo", "fast", "--speed", "100"], "voice_turn"),
    (["budget", "--slo", "1"], "--speed"),
    (["budget", "--slo", "1", "--speed", "-3"], "allowed"),
    (["budget", "--slo", "1", "--speed", "100", "--platform", "gpu"], "hosted_gpu_api"),
    (["frobnicate"], "plan"),
    ([], "COMMAND"),
]


@pytest.mark.parametrize("argv,valid", BAD, ids=[" ".join(a) or "<none>" for a, _ in BAD])
def test_bad_input_exit_2_one_line(capsys, argv, valid):
    rc, out, err = run(capsys, *argv)
    assert rc == 2
    assert out == ""
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1, err
    assert "error" in lines[0] and valid in lines[0]


def test_console_entry_point_exit_code():
    """The real process: ``python -m labsim`` (what the ``labsim`` console script runs)."""
    r = subprocess.run([sys.executable, "-m", "labsim", "tco", "--preset", "nope"], capture_output=True, text=True,
                       timeout=120, check=False)
    assert r.returncode == 2
    assert r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and "groq-cost" in r.stderr
    r = subprocess.run([sys.executable, "-m", "labsim", "tco", "--preset", "groq-cost", "--json"],
                       capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["preset"] == "groq-cost"
