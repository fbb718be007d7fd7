"""Margins and prices: the price that earns a gross margin, the margin a price implies, Groq's API list prices
(Fig 10 of the report, ``api_prices``) against the at-cost USD per million tokens (``api_margin_table``), and
``inputs_from_plan``, which turns a chapter-3 capacity plan into cost-model inputs."""
from __future__ import annotations

import tomllib
from typing import Any

from .. import catalog
from .. import limits as _L
from ..errors import LabsimError, check_array, check_int, check_text
from .fig11 import REPORT_FIG11
from .inputs import DATA_DIR, TcoInputs, validate
from .model import evaluate


def implied_price_for_margin(cost_usd, gross_margin):
    """Price that earns ``gross_margin`` on ``cost_usd``: cost / (1 − margin). E.g. the 60 %-GPM column of Fig 11:
    2.52 M / 0.4 = 6.30 M (the report prints 6.35 M). Vectorized."""
    c = check_array("cost_usd", cost_usd, lo=0.0, hi=_L.MAX_USD, unit="USD")
    m = check_array("gross_margin", gross_margin, lo=0.0, hi=1.0, hi_open=True)
    out = c / (1.0 - m)
    return float(out) if out.ndim == 0 else out


def implied_margin(cost, price):
    """Gross margin 1 − cost/price (negative when the price is below cost). Vectorized."""
    c = check_array("cost", cost, lo=0.0, hi=_L.MAX_USD)
    p = check_array("price", price, lo=1e-9, hi=_L.MAX_USD)
    out = 1.0 - c / p
    return float(out) if out.ndim == 0 else out


def api_prices() -> list[dict[str, Any]]:
    """Groq API LLM list prices, Fig 10 of the report ([huatai26] Fig 10). Each dict carries ``source``."""
    data = tomllib.loads((DATA_DIR / "groq_api_prices.toml").read_text(encoding="utf-8"))
    src = data["meta"]["source"]
    return [dict(m, source=src) for m in data["models"]]


def api_margin_table(system: TcoInputs | None = None) -> list[dict[str, Any]]:
    """Inferred gross margin of each Fig 10 output price over the at-cost $/M tokens of ``system``.

    **[A] model assumption:** every model is served by one copy of ``system`` (default: Fig 11's Groq rack at cost,
    576 chips, 48 concurrent streams) with ``tokens_per_s_per_user`` set to the model's listed speed; the output
    price is compared with that at-cost $/M. Small models need far fewer chips and the 1T model needs more than one
    576-chip domain, so the margins are illustrative, not Groq's.
    """
    base = REPORT_FIG11["groq-cost"] if system is None else system
    if not isinstance(base, TcoInputs):
        raise LabsimError(f"system must be a labsim.tco.TcoInputs (e.g. tco.REPORT_FIG11['groq-cost']), "
                          f"got {type(base).__name__}")
    validate(base)
    rows = []
    for m in api_prices():
        cost = evaluate(base.replace(tokens_per_s_per_user=float(m["speed_tokens_per_s"]))).usd_per_mtok
        rows.append({"model": m["name"], "speed_tokens_per_s": m["speed_tokens_per_s"],
                     "output_usd_per_mtok": m["output_usd_per_mtok"], "at_cost_usd_per_mtok": cost,
                     "gross_margin": implied_margin(cost, m["output_usd_per_mtok"])})
    return rows


def inputs_from_plan(plan, *, tokens_per_s_per_user, batch, pipeline_depth=1, system_power_kw=None,
                     capex_usd=None, label: str | None = None, **shared) -> TcoInputs:
    """Cost-model inputs for a deployment sized by chapter 3's ``labsim.capacity.plan`` — price any model on any chip.

    The system is the plan's ``chips`` chips, run as one inference unit, bought for ``plan.capex_usd`` (chips ×
    catalog price) unless ``capex_usd`` is given. ``system_power_kw`` defaults to chips × the catalog chip power
    (**[A]**: chip power only — hosts, network and cooling fans are not counted; Fig 11's Groq rack works out at
    230.4 kW / 576 = 0.4 kW per chip against the chip's 0.3 kW, so pass the system figure where one is known).
    ``tokens_per_s_per_user``, ``batch`` and ``pipeline_depth`` are the serving point (chapter 3's
    ``capacity.decode_time`` estimates the speed); ``shared`` overrides Fig 11's shared inputs (life, prices, …).
    """
    if label is not None:
        check_text("label", label, max_chars=1000)
    for attr in ("chips", "capex_usd", "chip", "model"):
        if not hasattr(plan, attr):
            raise LabsimError(f"plan must be a labsim.capacity.Plan (from capacity.plan), got {type(plan).__name__}")
    chips = check_int("plan.chips", plan.chips, lo=1)
    if capex_usd is None:
        if plan.capex_usd is None:
            raise LabsimError(f"the plan for {plan.chip} has no capex (the catalog has no published price for "
                              "this chip); pass capex_usd=… here or price_usd_per_chip=… to capacity.plan")
        capex_usd = plan.capex_usd
    if system_power_kw is None:
        power_w = catalog.chip(plan.chip).power_w
        if power_w is None:
            raise LabsimError(f"the catalog has no published power for {plan.chip}; pass system_power_kw=…")
        system_power_kw = chips * power_w / 1e3
    inputs = TcoInputs(capex_usd=capex_usd, system_power_kw=system_power_kw, chips_per_system=chips,
                       chips_per_unit=chips, tokens_per_s_per_user=tokens_per_s_per_user, batch=batch,
                       pipeline_depth=pipeline_depth,
                       label=label or f"{plan.model} on {chips} × {plan.chip} (capacity.plan)")
    try:
        inputs = inputs.replace(**shared)
    except TypeError as exc:            # e.g. a shared value for a field that is not an input
        raise LabsimError(str(exc)) from None
    validate(inputs)
    return inputs
