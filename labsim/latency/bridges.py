"""Bridges to the chapters below chapter 5: decode speed and prefill time from :mod:`labsim.capacity`
(chapter 3), the price of a token from :mod:`labsim.tco` (chapter 4), and the GPU's run-to-run distribution from
:mod:`labsim.gpu` (chapter 2). The rest of the package takes plain numbers; these functions fetch them."""
from __future__ import annotations

import numpy as np

from .. import capacity, gpu, tco
from ..errors import LabsimError, check_bool, check_name
from ._common import _tokens
from .budget import BudgetPlan, plan_budget
from .dists import Dist, empirical
from .steps import Step, agent_step

__all__ = ["decode_speed", "prefill_seconds", "chip_step", "plan_on_chip", "usd_per_mtok", "report_fig11_points",
           "gpu_step_samples", "gpu_decode_jitter"]


def decode_speed(model: str, chip: str, **kwargs) -> float:
    """Tokens/s per user of ``model`` on ``chip`` from chapter 3 (``capacity.decode_time(...).tokens_per_s``)."""
    return float(capacity.decode_time(model, chip, **kwargs).tokens_per_s)


def prefill_seconds(model: str, chip: str, prompt_tokens, **kwargs) -> float:
    """Prefill time of ``prompt_tokens`` from chapter 3 (``capacity.prefill_time``)."""
    return float(capacity.prefill_time(model, chip, prompt_tokens=prompt_tokens, **kwargs).seconds)


def chip_step(model: str, chip: str, output_tokens, *, prompt_tokens=0, chips=None, queue_s=0.0, tool_s=0.0,
              network_s=0.0, decode_sigma=0.0, name: str | None = None) -> Step:
    """An agent step of ``model`` on ``chip`` at batch 1 with chapter 3's numbers: TTFT = ``capacity.prefill_time``
    of ``prompt_tokens`` (0 prompt tokens → no prefill term) and decode speed = ``capacity.decode_time``."""
    n_in = _tokens("prompt_tokens", prompt_tokens)
    if name is not None:
        check_name("name", name)
    speed = decode_speed(model, chip, chips=chips)
    ttft = prefill_seconds(model, chip, n_in, chips=chips) if n_in > 0 else 0.0
    return agent_step(output_tokens, speed, ttft_s=ttft, queue_s=queue_s, tool_s=tool_s, network_s=network_s,
                      decode_sigma=decode_sigma, name=name or f"{model} on {chip}")


def plan_on_chip(slo_s, model: str, chip: str, *, prompt_tokens=0, chips=None, usd_per_mtok=None,
                 **plan_kwargs) -> BudgetPlan:
    """``plan_budget`` for ``model`` on ``chip`` (batch 1): decode speed and the prefill of ``prompt_tokens`` from
    chapter 3 (``capacity``); ``usd_per_mtok`` e.g. from chapter 4 (``report_fig11_points`` / ``usd_per_mtok``).
    Other keywords (quantile, steps, fan_out, queue_s, tool_s, network_s, decode_sigma, …) go to
    ``plan_budget``."""
    if "ttft_s" in plan_kwargs or "decode_tokens_per_s" in plan_kwargs:
        raise LabsimError("plan_on_chip() takes TTFT and decode speed from the chip; use plan_budget() to set them")
    n_in = _tokens("prompt_tokens", prompt_tokens)
    speed = decode_speed(model, chip, chips=chips)
    ttft = prefill_seconds(model, chip, n_in, chips=chips) if n_in > 0 else 0.0
    return plan_budget(slo_s, speed, ttft_s=ttft, usd_per_mtok=usd_per_mtok, **plan_kwargs)


def usd_per_mtok(inputs) -> float:
    """$ per million tokens of a cost scenario from chapter 4 (``tco.evaluate(inputs).usd_per_mtok``)."""
    return float(np.asarray(tco.evaluate(inputs).usd_per_mtok).ravel()[0])


def report_fig11_points() -> dict[str, dict]:
    """The report's Fig 11 operating points via chapter 4 (``tco.REPORT_FIG11`` + ``tco.evaluate``): per column
    its label, tokens/s per user, batch and computed $/M tokens ([huatai26] Fig 11)."""
    out = {}
    for col, inp in tco.REPORT_FIG11.items():
        out[col] = {"label": inp.label, "tokens_per_s_per_user": float(inp.tokens_per_s_per_user),
                    "batch": float(inp.batch), "usd_per_mtok": float(tco.evaluate(inp).usd_per_mtok)}
    return out


def gpu_step_samples(kernels, **kwargs) -> np.ndarray:
    """Seeded latency samples (s) of one GPU run of ``kernels`` from chapter 2 (``gpu.simulate``)."""
    return np.asarray(gpu.simulate(kernels, **kwargs), dtype=np.float64)


def gpu_decode_jitter(model: str = "llama-3.1-8b", *, n: int = 20_000, seed: int = 0, contention: bool = True,
                      clock_variation: bool = True, cuda_graph: bool = False) -> Dist:
    """Chapter 2's run-to-run GPU distribution (one decoder layer of ``model``) divided by its median: an
    empirical multiplier with median 1 for ``agent_step(decode_jitter=…)``. Assumes a step's decode time
    varies like one layer's run time [A] — an upper bound on spread, since independent layers would average."""
    for nm, flag in (("contention", contention), ("clock_variation", clock_variation), ("cuda_graph", cuda_graph)):
        check_bool(nm, flag)
    x = gpu_step_samples(gpu.model_decoder_layer_kernels(model), n=n, seed=seed, contention=contention,
                         clock_variation=clock_variation, cuda_graph=cuda_graph)
    return empirical(x / np.median(x))
