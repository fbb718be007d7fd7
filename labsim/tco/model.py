"""The cost model: ``evaluate`` turns ``TcoInputs`` into every derived row of Fig 11 (``TcoResult``), plus the
annuity (``annuity_factor``, ``annuity_payment``, ``annuity_schedule``) and the split of USD per million tokens
into its four sources (``cost_breakdown``).

Pure NumPy: every input may be a scalar or an array, arrays broadcast, and one call prices millions of
configurations. Equations: ``docs/design/tco.md``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import LabsimError, check_array, check_int, check_number, ensure_finite
from .inputs import (
    FIELDS,
    MONTHS_PER_YEAR,
    SECONDS_PER_HOUR,
    TOKENS_PER_MTOK,
    TcoInputs,
    _broadcast_shape,
    _rule,
    validate,
)


@dataclass(frozen=True)
class TcoResult:
    """Every derived row of Fig 11, plus energy per token. Floats for scalar inputs, arrays otherwise.

    The split of the annuity into ``monthly_interest_usd`` (C·r) and ``monthly_principal_usd`` (annuity − C·r) is the
    report's: it is exact for month 1 only (later months pay less interest and more principal); the sum
    ``monthly_capital_usd`` is right every month.
    """

    inputs: TcoInputs
    monthly_rate: Any                      # cost_of_capital / 12
    n_months: Any                          # life_years × 12
    monthly_capital_usd: Any               # annuity payment ("Total monthly system capital cost")
    monthly_interest_usd: Any              # month-1 interest C·r ("Monthly cost of capital")
    monthly_principal_usd: Any             # month-1 principal ("Monthly amortized capex")
    straight_line_usd_per_month: Any       # C / n, for comparison (not in the table)
    effective_power_usd_per_kw_month: Any  # electricity × hours × utilization × PUE
    hosting_usd_per_kw_month: Any          # effective power + colocation
    monthly_power_usd: Any                 # kW × effective power
    monthly_colocation_usd: Any            # kW × colocation
    monthly_hosting_usd: Any
    capital_share: Any                     # fraction (the table prints %)
    monthly_total_usd: Any
    usd_per_hour: Any
    units_per_system: Any
    usd_per_hour_per_unit: Any
    concurrent_users_per_unit: Any
    tokens_per_s_per_unit: Any
    tokens_per_hour_per_unit: Any
    usd_per_mtok: Any
    j_per_token: Any                       # nameplate system power ÷ system tokens/s (IT power, no PUE)
    j_per_token_with_pue: Any              # the same × PUE (facility power)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "inputs"}



def annuity_factor(monthly_rate, n_months):
    """Payment per dollar borrowed: r / (1 − (1+r)^−n); 1/n when r = 0. Vectorized.

    ``monthly_rate`` in [0, 10/12] (FIELDS' cost of capital ÷ 12); ``n_months`` in [1, 1200] (1 month to 100 years)."""
    r = check_array("monthly_rate", monthly_rate, lo=0.0, hi=FIELDS["cost_of_capital"]["hi"] / MONTHS_PER_YEAR,
                    unit="per month")
    n = check_array("n_months", n_months, lo=1.0, hi=FIELDS["life_years"]["hi"] * MONTHS_PER_YEAR, unit="months")
    with np.errstate(divide="ignore", invalid="ignore"):
        f = r / -np.expm1(-n * np.log1p(r))
    return np.where(r > 0.0, f, 1.0 / n)


def annuity_payment(capex_usd, cost_of_capital=0.18, life_years=5.0):
    """Level monthly payment that repays ``capex_usd`` over ``life_years`` at an annual ``cost_of_capital``
    compounded monthly (r = cost_of_capital / 12, as in Fig 11: 18 %/year → 1.5 %/month). Vectorized."""
    c = check_array("capex_usd", capex_usd, **_rule("capex_usd"))
    k = check_array("cost_of_capital", cost_of_capital, **_rule("cost_of_capital"))
    life = check_array("life_years", life_years, **_rule("life_years"))
    out = c * annuity_factor(k / MONTHS_PER_YEAR, life * MONTHS_PER_YEAR)
    return float(out) if out.ndim == 0 else out



def evaluate(inputs: TcoInputs) -> TcoResult:
    """Price a system (or an array of systems): every derived row of Fig 11 plus J/token.

    Equations (the ones that reproduce every derived row of [huatai26] Fig 11, docs/design/tco.md):
    r = k/12, n = 12·life, capital = C·r/(1−(1+r)^−n);
    power $/kW/month = price × hours × utilization × PUE; hosting = kW × (power + colocation);
    $/hour = (capital + hosting)/hours; units = ⌊chips_per_system / chips_per_unit⌋;
    tokens/hour/unit = tok/s/user × batch × pipeline_depth × 3600 (× utilization if the switch is on);
    $/M tokens = ($/hour / units) / (tokens/hour/unit / 10⁶).
    """
    v = validate(inputs)
    scalar = all(a.ndim == 0 for a in v.values())
    C = v["capex_usd"]
    r = v["cost_of_capital"] / MONTHS_PER_YEAR
    n = v["life_years"] * MONTHS_PER_YEAR
    capital = C * annuity_factor(r, n)
    interest = C * r
    principal = capital - interest
    straight = C / n
    power_per_kw = v["electricity_usd_per_kwh"] * v["hours_per_month"] * v["utilization"] * v["pue"]
    hosting_per_kw = power_per_kw + v["colocation_usd_per_kw_month"]
    kw = v["system_power_kw"]
    monthly_power = kw * power_per_kw
    monthly_coloc = kw * v["colocation_usd_per_kw_month"]
    hosting = kw * hosting_per_kw
    total = capital + hosting
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total > 0, capital / total, 0.0)
    per_hour = total / v["hours_per_month"]
    units = np.floor(v["chips_per_system"] / v["chips_per_unit"])
    per_hour_unit = per_hour / units
    users = v["batch"] * v["pipeline_depth"]
    tps_unit = v["tokens_per_s_per_user"] * users
    duty = v["utilization"] if inputs.utilization_derates_tokens else 1.0
    tph_unit = tps_unit * SECONDS_PER_HOUR * duty
    usd_per_mtok = per_hour_unit / (tph_unit / TOKENS_PER_MTOK)
    j_tok = kw * 1e3 / (tps_unit * units)
    j_tok_pue = j_tok * v["pue"]
    vals = dict(
        monthly_rate=r, n_months=n, monthly_capital_usd=capital, monthly_interest_usd=interest,
        monthly_principal_usd=principal, straight_line_usd_per_month=straight,
        effective_power_usd_per_kw_month=power_per_kw, hosting_usd_per_kw_month=hosting_per_kw,
        monthly_power_usd=monthly_power, monthly_colocation_usd=monthly_coloc, monthly_hosting_usd=hosting,
        capital_share=share, monthly_total_usd=total, usd_per_hour=per_hour, units_per_system=units,
        usd_per_hour_per_unit=per_hour_unit, concurrent_users_per_unit=users, tokens_per_s_per_unit=tps_unit,
        tokens_per_hour_per_unit=tph_unit, usd_per_mtok=usd_per_mtok, j_per_token=j_tok,
        j_per_token_with_pue=j_tok_pue,
    )
    ensure_finite("tco.evaluate", vals, v)   # a guard: the ranges in FIELDS keep every output finite
    if scalar:
        vals = {k: float(x) for k, x in vals.items()}
    else:
        shape = _broadcast_shape(v)
        vals = {k: np.broadcast_to(np.asarray(x, dtype=np.float64), shape) for k, x in vals.items()}
    return TcoResult(inputs=inputs, **vals)


def cost_breakdown(inputs_or_result) -> dict[str, Any]:
    """$/M tokens split into its four sources (sums to ``usd_per_mtok``): month-1 principal, month-1 interest,
    electricity (with utilization and PUE) and colocation. Used by the waterfall plot."""
    if not isinstance(inputs_or_result, (TcoInputs, TcoResult)):
        raise LabsimError(f"inputs_or_result must be a labsim.tco.TcoInputs or TcoResult, "
                          f"got {type(inputs_or_result).__name__}")
    res = inputs_or_result if isinstance(inputs_or_result, TcoResult) else evaluate(inputs_or_result)
    inp = res.inputs
    hours = np.asarray(inp.hours_per_month, dtype=np.float64)
    to_mtok = 1.0 / (hours * res.units_per_system) / (np.asarray(res.tokens_per_hour_per_unit) / TOKENS_PER_MTOK)
    parts = {
        "capital: principal (month 1)": res.monthly_principal_usd * to_mtok,
        "capital: interest (month 1)": res.monthly_interest_usd * to_mtok,
        "electricity × utilization × PUE": res.monthly_power_usd * to_mtok,
        "colocation": res.monthly_colocation_usd * to_mtok,
    }
    return {k: (float(x) if np.ndim(x) == 0 else x) for k, x in parts.items()}


def annuity_schedule(capex_usd: float, cost_of_capital: float = 0.18, life_years: float = 5.0) -> dict[str, np.ndarray]:
    """Month-by-month split of a level annuity: payment, interest on the remaining balance, principal, balance.

    Month 1's principal is the report's "Monthly amortized capex" row; month 1's interest is its "Monthly cost of
    capital" row. Also returns ``straight_line`` (C/n per month) for comparison. Scalars only.
    """
    C = check_number("capex_usd", capex_usd, **_rule("capex_usd"))
    k = check_number("cost_of_capital", cost_of_capital, **_rule("cost_of_capital"))
    life = check_number("life_years", life_years, **_rule("life_years"))
    n = check_int("life_years × 12", life * MONTHS_PER_YEAR, lo=1)
    r = k / MONTHS_PER_YEAR
    pay = float(C * annuity_factor(r, n))
    month = np.arange(1, n + 1)
    # closed form of the remaining balance after m payments
    growth = (1.0 + r) ** (month - 1)
    balance_before = C * growth - (pay * (growth - 1.0) / r if r > 0 else pay * (month - 1))
    interest = balance_before * r
    principal = pay - interest
    out = {"month": month, "payment_usd": np.full(n, pay), "interest_usd": interest, "principal_usd": principal,
           "balance_usd": balance_before - principal, "straight_line_usd": np.full(n, C / n)}
    ensure_finite("tco.annuity_schedule", out, {"capex_usd": C, "cost_of_capital": k, "life_years": life})
    return out
